#!/usr/bin/python3
"""What the socket calls return, errno by errno, as Linux returns it.

tests/fdio_errno.rs runs this script twice over the same two namespaces: once on the Linux
kernel alone (through a veth pair), which keeps every expectation here honest, and once on
the netstack through the shim (LD_PRELOAD=libfdio.so), which must behave the same.

Usage:
  errno_check.py serve                                  the peer's helper (kernel side)
  errno_check.py check OURS4 OURS6 PEER4 PEER6 SILENT4  the checks (the side under test)

The helper listens on TCP port 7000 of the peer (dual-stack) and serves one request line per
connection:
  RESET            close this connection with a RST (SO_LINGER 0)
  HOLD             send nothing, close once the other side closes
  CONNECT ADDR P   connect to ADDR port P, send "hello\\n" there, answer "OK\\n" here (or
                   "ERR errno\\n"), and keep both open until this one closes
Nothing listens on TCP or UDP port 7001 of the peer. SILENT4 is an address on the link
that nothing answers. OURS4 and OURS6 are the addresses of the side under test; its own
listeners use ports 7100 and up, one set per check.

`check` prints "ok NAME" or "FAIL NAME: what differs" per check, then a summary line, and
exits 1 when any check failed. Each check has 20 seconds (SIGALRM).
"""

import errno
import select
import signal
import socket
import struct
import sys
import threading
import time

HELPER = 7000
CLOSED = 7001
CHECK_SECONDS = 20


# ---- the peer's helper -----------------------------------------------------------------


def serve():
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", HELPER))
    listener.listen(64)
    print("serving", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


def read_line(conn):
    line = b""
    while not line.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            return None
        line += chunk
    return line.decode().split()


def wait_for_close(conn):
    while conn.recv(4096):
        pass


def serve_one(conn):
    try:
        conn.settimeout(60)
        words = read_line(conn)
        if words == ["RESET"]:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif words == ["HOLD"]:
            wait_for_close(conn)
        elif words and words[0] == "CONNECT" and len(words) == 3:
            try:
                out = socket.create_connection((words[1], int(words[2])), timeout=10)
            except OSError as e:
                conn.sendall(f"ERR {e.errno}\n".encode())
                return
            with out:
                out.sendall(b"hello\n")
                conn.sendall(b"OK\n")
                wait_for_close(conn)
    except OSError:
        pass
    finally:
        conn.close()


# ---- the checks ------------------------------------------------------------------------


class Mismatch(Exception):
    """A call behaved otherwise than Linux does."""


def expect(cond, what):
    if not cond:
        raise Mismatch(what)


def expect_errno(expected, call, what):
    """`call()` must fail with `expected` (one errno or a tuple of them)."""
    allowed = expected if isinstance(expected, tuple) else (expected,)
    names = "/".join(errno.errorcode[e] for e in allowed)
    try:
        result = call()
    except OSError as e:
        if e.errno in allowed:
            return
        raise Mismatch(f"{what}: expected {names}, got {errno.errorcode.get(e.errno, e.errno)} ({e})")
    raise Mismatch(f"{what}: expected {names}, got success ({result!r})")


def expect_connect_ex(expected, sock, addr, what):
    got = sock.connect_ex(addr)
    expect(got == expected, f"{what}: connect to {addr} returned {errno.errorcode.get(got, got)}, "
                            f"expected {errno.errorcode.get(expected, expected)}")


def wait_for(sock, events, seconds, what):
    poller = select.poll()
    poller.register(sock, events)
    got = poller.poll(seconds * 1000)
    expect(got, f"{what}: no poll event {events:#x} within {seconds} s")
    return got[0][1]


class Net:
    def __init__(self, ours4, ours6, peer4, peer6, silent4):
        self.ours4, self.ours6, self.peer4, self.peer6, self.silent4 = ours4, ours6, peer4, peer6, silent4

    def helper(self, request=None, family=socket.AF_INET):
        """A blocking connection to the helper, `request` sent."""
        addr = (self.peer4, HELPER) if family == socket.AF_INET else (self.peer6, HELPER)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.connect(addr)
        if request:
            sock.sendall(request.encode() + b"\n")
        return sock

    def connect_back(self, addr, port):
        """Asks the helper to connect to `addr` port `port`; returns the control connection."""
        control = self.helper(f"CONNECT {addr} {port}")
        control.settimeout(10)
        answer = read_line(control)
        expect(answer == ["OK"], f"the helper's connection to {addr} port {port}: {answer}")
        return control


def check_connect_to_a_closed_port_is_refused(net):
    for family, peer in ((socket.AF_INET, net.peer4), (socket.AF_INET6, net.peer6)):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            expect_errno(errno.ECONNREFUSED, lambda: s.connect((peer, CLOSED)), f"connect {peer} port {CLOSED}")


def check_connect_to_a_silent_neighbour_is_unreachable(net):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        started = time.monotonic()
        expect_errno(errno.EHOSTUNREACH, lambda: s.connect((net.silent4, 80)), f"connect {net.silent4}")
        expect(time.monotonic() - started < 15, "EHOSTUNREACH came, but after 15 s")


def check_bind_to_a_port_in_use(net):
    with socket.socket() as first, socket.socket() as second, socket.socket() as third:
        first.bind(("0.0.0.0", 7100))
        first.listen()
        expect_errno(errno.EADDRINUSE, lambda: second.bind(("0.0.0.0", 7100)), "a second bind to 0.0.0.0:7100")
        expect_errno(errno.EADDRINUSE, lambda: second.bind((net.ours4, 7100)),
                     f"bind to {net.ours4}:7100 under a listener on 0.0.0.0:7100")
        # SO_REUSEADDR on both does not let two sockets listen on one port.
        third.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        expect_errno(errno.EADDRINUSE, lambda: third.bind(("0.0.0.0", 7100)), "SO_REUSEADDR bind under a listener")
    with socket.socket(type=socket.SOCK_DGRAM) as first, socket.socket(type=socket.SOCK_DGRAM) as second:
        first.bind(("0.0.0.0", 7101))
        expect_errno(errno.EADDRINUSE, lambda: second.bind(("0.0.0.0", 7101)), "a second UDP bind to port 7101")


def check_bind_to_a_foreign_address(net):
    for family, kind, addr in (
        (socket.AF_INET, socket.SOCK_STREAM, net.peer4),
        (socket.AF_INET, socket.SOCK_STREAM, "198.51.100.7"),
        (socket.AF_INET, socket.SOCK_DGRAM, net.peer4),
        (socket.AF_INET6, socket.SOCK_STREAM, net.peer6),
        (socket.AF_INET6, socket.SOCK_DGRAM, net.peer6),
    ):
        with socket.socket(family, kind) as s:
            expect_errno(errno.EADDRNOTAVAIL, lambda: s.bind((addr, 0)), f"bind {kind.name} to {addr}")


def check_bind_twice_and_bind_our_own_address(net):
    with socket.socket() as s:
        s.bind((net.ours4, 0))
        name = s.getsockname()
        expect(name[0] == net.ours4 and name[1] != 0, f"getsockname after bind: {name}")
        expect_errno(errno.EINVAL, lambda: s.bind((net.ours4, 0)), "a second bind of one socket")


def wait_for_reset(net):
    """A connection the helper has reset, once the RST is in (the socket is readable)."""
    s = net.helper("RESET")
    wait_for(s, select.POLLIN, 5, "the RST")
    time.sleep(0.1)
    return s


def check_send_after_a_reset(net):
    with wait_for_reset(net) as s:
        expect_errno(errno.ECONNRESET, lambda: s.send(b"x"), "the first send after a RST")
        expect_errno(errno.EPIPE, lambda: s.send(b"x"), "the second send after a RST")
        expect_errno(errno.EPIPE, lambda: s.send(b"x"), "the third send after a RST")


def check_recv_after_a_reset(net):
    with wait_for_reset(net) as s:
        expect_errno(errno.ECONNRESET, lambda: s.recv(10), "the first recv after a RST")
        got = s.recv(10)
        expect(got == b"", f"the second recv after a RST returned {got!r}, not end of file")
        expect(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "SO_ERROR once ECONNRESET was reported")


def check_nonblocking_connect(net):
    with socket.socket() as s:
        s.setblocking(False)
        expect_connect_ex(errno.EINPROGRESS, s, (net.peer4, HELPER), "non-blocking")
        events = wait_for(s, select.POLLOUT, 5, "the non-blocking connect")
        expect(events & select.POLLOUT, f"poll after the connect: {events:#x}")
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        expect(err == 0, f"SO_ERROR after a non-blocking connect that worked: {errno.errorcode.get(err, err)}")
        expect(s.getpeername() == (net.peer4, HELPER), f"getpeername: {s.getpeername()}")
    with socket.socket() as s:
        s.setblocking(False)
        expect_connect_ex(errno.EINPROGRESS, s, (net.peer4, CLOSED), "non-blocking, to a closed port,")
        wait_for(s, select.POLLOUT, 5, "the refused non-blocking connect")
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        expect(err == errno.ECONNREFUSED, f"SO_ERROR after a refused connect: {errno.errorcode.get(err, err)}")
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        expect(err == 0, f"SO_ERROR read a second time: {errno.errorcode.get(err, err)}")


def check_connect_again(net):
    with socket.socket() as s:
        s.setblocking(False)
        expect_connect_ex(errno.EINPROGRESS, s, (net.silent4, 80), "non-blocking, to a silent neighbour,")
        expect_connect_ex(errno.EALREADY, s, (net.silent4, 80), "again while the first is in progress:")
    with net.helper() as s:
        expect_errno(errno.EISCONN, lambda: s.connect((net.peer4, HELPER)), "connect on a connected socket")


def check_calls_on_an_unconnected_socket(net):
    with socket.socket() as s:
        expect_errno(errno.ENOTCONN, lambda: s.recv(1), "recv on an unconnected TCP socket")
        expect_errno(errno.EPIPE, lambda: s.send(b"x"), "send on an unconnected TCP socket")
        expect_errno(errno.ENOTCONN, s.getpeername, "getpeername on an unconnected socket")
        expect_errno(errno.ENOTCONN, lambda: s.shutdown(socket.SHUT_RDWR), "shutdown on an unconnected socket")
    with socket.socket() as s:
        s.bind(("0.0.0.0", 7102))
        s.listen()
        expect_errno(errno.ENOTCONN, lambda: s.recv(1), "recv on a listening socket")
        s.setblocking(False)
        expect_errno((errno.EAGAIN, errno.EWOULDBLOCK), s.accept, "a non-blocking accept with nothing queued")
    with socket.socket(type=socket.SOCK_DGRAM) as s:
        expect_errno(errno.EDESTADDRREQ, lambda: s.send(b"x"), "send on an unconnected UDP socket")
        expect_errno(errno.EOPNOTSUPP, s.listen, "listen on a UDP socket")


def check_udp_port_unreachable_is_reported(net):
    for family, peer in ((socket.AF_INET, net.peer4), (socket.AF_INET6, net.peer6)):
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect((peer, CLOSED))
            s.send(b"anyone?")
            wait_for(s, select.POLLIN | select.POLLERR, 5, f"the port unreachable from {peer}")
            expect_errno(errno.ECONNREFUSED, lambda: s.recv(10), f"recv after sending to {peer}:{CLOSED}")


def check_dual_stack_sockets(net):
    # IPV6_V6ONLY off (Linux's default): IPv4 arrives as IPv4-mapped addresses, and the port
    # is taken for IPv4 too.
    with socket.socket(socket.AF_INET6) as s6:
        only = s6.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        expect(only == 0, f"IPV6_V6ONLY by default: {only}")
        s6.bind(("::", 7110))
        s6.listen()
        with socket.socket() as s4:
            expect_errno(errno.EADDRINUSE, lambda: s4.bind(("0.0.0.0", 7110)),
                         "IPv4 bind to the port of a dual-stack listener")
        with net.connect_back(net.ours4, 7110):
            conn, peer = s6.accept()
            with conn:
                expect(peer[0] == f"::ffff:{net.peer4}", f"the IPv4 peer as a dual-stack socket sees it: {peer}")
                name = conn.getsockname()
                expect(name[:2] == (f"::ffff:{net.ours4}", 7110), f"getsockname of the accepted socket: {name}")
                conn.settimeout(10)
                expect(conn.recv(6) == b"hello\n", "the IPv4 peer's bytes")
    # An AF_INET6 socket connects to an IPv4-mapped address over IPv4, unless IPV6_V6ONLY.
    with socket.socket(socket.AF_INET6) as s:
        s.connect((f"::ffff:{net.peer4}", HELPER))
        expect(s.getpeername()[:2] == (f"::ffff:{net.peer4}", HELPER), f"getpeername: {s.getpeername()}")
        expect(s.getsockname()[0] == f"::ffff:{net.ours4}", f"getsockname: {s.getsockname()}")
    with socket.socket(socket.AF_INET6) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        expect_errno(errno.ENETUNREACH, lambda: s.connect((f"::ffff:{net.peer4}", HELPER)),
                     "an IPV6_V6ONLY socket's connect to an IPv4-mapped address")
    # IPV6_V6ONLY on: an IPv4 socket binds the same port beside it, and each gets its own.
    with socket.socket(socket.AF_INET6) as s6, socket.socket() as s4:
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s6.bind(("::", 7111))
        s4.bind(("0.0.0.0", 7111))
        s6.listen()
        s4.listen()
        with net.connect_back(net.ours4, 7111):
            s4.settimeout(10)
            conn, peer = s4.accept()
            conn.close()
            expect(peer[0] == net.peer4, f"the IPv4 listener's peer: {peer}")
        with net.connect_back(net.ours6, 7111):
            s6.settimeout(10)
            conn, peer = s6.accept()
            conn.close()
            expect(peer[0] == net.peer6, f"the IPv6-only listener's peer: {peer}")


def check_socket_identity_options(net):
    for family in (socket.AF_INET, socket.AF_INET6):
        for kind, proto in ((socket.SOCK_STREAM, socket.IPPROTO_TCP), (socket.SOCK_DGRAM, socket.IPPROTO_UDP)):
            with socket.socket(family, kind) as s:
                what = f"{family.name} {kind.name}"
                got = s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
                expect(got == kind, f"{what}: SO_TYPE {got}")
                got = s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN)
                expect(got == family, f"{what}: SO_DOMAIN {got}")
                got = s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL)
                expect(got == proto, f"{what}: SO_PROTOCOL {got}")
                got = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                expect(got == 0, f"{what}: SO_ACCEPTCONN before listen: {got}")
    with socket.socket() as s:
        s.bind(("0.0.0.0", 7120))
        s.listen()
        got = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        expect(got == 1, f"SO_ACCEPTCONN of a listener: {got}")


def check_receive_timeout(net):
    timeval = struct.pack("ll", 0, 300_000)
    with net.helper("HOLD") as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        got = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, len(timeval))
        expect(got == timeval, f"SO_RCVTIMEO reads back as {struct.unpack('ll', got)}")
        started = time.monotonic()
        expect_errno((errno.EAGAIN, errno.EWOULDBLOCK), lambda: s.recv(10), "recv with SO_RCVTIMEO and no data")
        waited = time.monotonic() - started
        expect(0.25 <= waited < 2.0, f"recv with a 0.3 s SO_RCVTIMEO gave up after {waited:.2f} s")
    with socket.socket(type=socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        started = time.monotonic()
        expect_errno((errno.EAGAIN, errno.EWOULDBLOCK), lambda: s.recv(10), "UDP recv with SO_RCVTIMEO")
        waited = time.monotonic() - started
        expect(0.25 <= waited < 2.0, f"UDP recv with a 0.3 s SO_RCVTIMEO gave up after {waited:.2f} s")


TCP_ESTABLISHED, TCP_LISTEN = 1, 10
# struct tcp_info up to tcpi_total_retrans: the part every Linux since 2.6 fills in.
TCP_INFO_MIN = 104


def check_tcp_info(net):
    with net.helper("HOLD") as s:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 512)
        expect(TCP_INFO_MIN <= len(info) <= 512, f"TCP_INFO is {len(info)} bytes")
        expect(info[0] == TCP_ESTABLISHED, f"tcpi_state of a connected socket: {info[0]}")
        short = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        expect(len(short) == 8, f"TCP_INFO into 8 bytes: {len(short)} bytes")
    with socket.socket() as s:
        s.bind(("0.0.0.0", 7121))
        s.listen()
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 512)
        expect(len(info) >= TCP_INFO_MIN and info[0] == TCP_LISTEN, f"tcpi_state of a listener: {info[:1]!r}")


def check_socket_names(net):
    with socket.socket() as s:
        expect(s.getsockname() == ("0.0.0.0", 0), f"getsockname before bind: {s.getsockname()}")
        s.connect((net.peer4, HELPER))
        name = s.getsockname()
        expect(name[0] == net.ours4 and name[1] != 0, f"getsockname once connected: {name}")
        expect(s.getpeername() == (net.peer4, HELPER), f"getpeername: {s.getpeername()}")
    with socket.socket(socket.AF_INET6) as s:
        expect(s.getsockname()[:2] == ("::", 0), f"IPv6 getsockname before bind: {s.getsockname()}")
        s.connect((net.peer6, HELPER))
        name = s.getsockname()
        expect(name[0] == net.ours6 and name[1] != 0, f"IPv6 getsockname once connected: {name}")
        expect(s.getpeername()[:2] == (net.peer6, HELPER), f"IPv6 getpeername: {s.getpeername()}")
    with socket.socket(type=socket.SOCK_DGRAM) as s:
        s.connect((net.peer4, CLOSED))
        name = s.getsockname()
        expect(name[0] == net.ours4 and name[1] != 0, f"getsockname of a connected UDP socket: {name}")
        expect(s.getpeername() == (net.peer4, CLOSED), f"UDP getpeername: {s.getpeername()}")


CHECKS = [v for k, v in list(globals().items()) if k.startswith("check_")]


def on_alarm(_signum, _frame):
    raise Mismatch(f"still running after {CHECK_SECONDS} s")


def check(args):
    if len(args) != 5:
        sys.exit(__doc__)
    net = Net(*args)
    signal.signal(signal.SIGALRM, on_alarm)
    failed = 0
    for run in CHECKS:
        name = run.__name__.removeprefix("check_")
        signal.alarm(CHECK_SECONDS)
        try:
            run(net)
            print(f"ok {name}", flush=True)
        except (Mismatch, OSError) as e:
            failed += 1
            kind = "" if isinstance(e, Mismatch) else f"unexpected {type(e).__name__}: "
            print(f"FAIL {name}: {kind}{e}", flush=True)
        finally:
            signal.alarm(0)
    print(f"{len(CHECKS) - failed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve()
    elif len(sys.argv) >= 2 and sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
