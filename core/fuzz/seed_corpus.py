"""Seeds each fuzz target's corpus with real frames from the pcap test vectors.

Whole frames seed the `frame` and `ethernet` targets; the bytes after the Ethernet header
seed the IP-level targets, and those after a plain IPv4/IPv6 header the transport targets
(prefixed, where the target takes them, with a control byte and the pseudo-header addresses).
Existing corpus files are kept; seeds are named by content hash so reruns add nothing twice.
"""

import hashlib
import pathlib
import struct
import sys


def frames(pcap: pathlib.Path):
    data = pcap.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offset = 24
    while offset + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[offset + 8 : offset + 12])[0]
        yield data[offset + 16 : offset + 16 + incl]
        offset += 16 + incl


def layers(frame: bytes):
    yield "frame", frame
    yield "ethernet", frame
    ethertype = frame[12:14]
    payload = frame[14:]
    if ethertype == b"\x08\x06":
        yield "arp", payload
    elif ethertype == b"\x08\x00" and len(payload) >= 20:
        yield "ipv4", payload
        ihl = (payload[0] & 0x0F) * 4
        proto, upper = payload[9], payload[ihl:]
        # Transport targets take a control byte (bit 0: IPv6) and the pseudo-header addresses.
        with_addresses = b"\x00" + payload[12:20] + upper
        target = {1: "icmpv4", 2: "igmp", 6: "tcp", 17: "udp"}.get(proto)
        if target in ("tcp", "udp"):
            yield target, with_addresses
        elif target:
            yield target, b"\x00" + upper
    elif ethertype == b"\x86\xdd" and len(payload) >= 40:
        yield "ipv6", payload
        next_header, upper = payload[6], payload[40:]
        if next_header == 0 and len(upper) >= 8:
            # Skip a Hop-by-Hop header (MLD reports carry one).
            next_header, upper = upper[0], upper[(upper[1] + 1) * 8 :]
        target = {6: "tcp", 17: "udp", 58: "icmpv6"}.get(next_header)
        if target:
            yield target, b"\x01" + payload[8:40] + upper


def stack_inputs(frames_list):
    """Frames addressed to the fuzzed stack's MAC, each with a length byte, in twelves."""
    for frame in frames_list:
        body = bytes([0x02, 0, 0, 0, 0, 1]) + frame[6:]
        body += bytes(-len(body) % 12)
        if len(body) // 12 < 0x80:
            yield bytes([len(body) // 12]) + body


def main(vectors: str, corpus: str):
    root = pathlib.Path(corpus)
    targets = {p.stem for p in pathlib.Path("fuzz_targets").glob("*.rs")}
    for pcap in sorted(pathlib.Path(vectors).glob("*.pcap")):
        if "stack" in targets:
            directory = root / "stack"
            directory.mkdir(parents=True, exist_ok=True)
            for data in stack_inputs(list(frames(pcap))[:64]):
                (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
        for frame in frames(pcap):
            for target, data in layers(frame):
                if target not in targets:
                    continue
                directory = root / target
                directory.mkdir(parents=True, exist_ok=True)
                (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
