"""One ICMP and one ICMPv6 echo through SOCK_RAW sockets (what `ping` opens as root when it
cannot have an ICMP datagram socket): argv[1] is the IPv4 peer, argv[2] the IPv6 one.

Checks Linux's raw-socket semantics: an IPv4 raw socket reads the reply with its IPv4 header
(the application wrote only the ICMP message and its checksum); an IPv6 one reads the ICMPv6
message alone, and the stack computes the ICMPv6 checksum (RFC 3542 §3.1). Prints one line per
reply and exits 0, or exits 1 with the reason."""
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def fail(why):
    print("FAIL", why)
    sys.exit(1)


peer4, peer6 = sys.argv[1], sys.argv[2]

raw4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
raw4.settimeout(5)
request = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"raw-v4"
request = request[:2] + struct.pack("!H", checksum(request)) + request[4:]
raw4.sendto(request, (peer4, 0))
while True:
    data, (src, _) = raw4.recvfrom(2048)
    if data[0] >> 4 != 4:
        fail("IPv4 raw read without its IPv4 header")
    icmp = data[(data[0] & 0x0F) * 4:]
    if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == 0x1234:
        if src != peer4 or icmp[8:] != b"raw-v4":
            fail("IPv4 reply from %s with %r" % (src, icmp[8:]))
        print("v4 reply from", src, "ttl", data[8])
        break

raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
raw6.settimeout(5)
raw6.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x4321, 1) + b"raw-v6", (peer6, 0))
while True:
    data, addr = raw6.recvfrom(2048)
    if data[0] == 129 and struct.unpack("!H", data[4:6])[0] == 0x4321:
        if addr[0] != peer6 or data[8:] != b"raw-v6":
            fail("IPv6 reply from %s with %r" % (addr[0], data[8:]))
        print("v6 reply from", addr[0])
        break
