//! `libfdio.so` end to end: unmodified `python3` programs run with `LD_PRELOAD` of the shim
//! against the `netstack` daemon, with the Linux kernel as the peer across a TAP (see
//! `support/mod.rs`). Each script asserts the behaviour Linux gives (errno values, blocking
//! and non-blocking semantics, addresses) and prints `PASS` at its end.
//!
//! Needs root; skips loudly without it (except under `CI=true`) and while the daemon does
//! not serve the socket API.

mod support;

use support::World;

/// The kernel's services: TCP echo on port 5000 (IPv4 and IPv6), a TCP server on 5001 that
/// resets every connection after 300 ms, UDP echo (upper-casing) on 7001.
const KERNEL_SERVICES: &str = r#"
import socket, threading, time
def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
def tcp_echo():
    l = socket.create_server(("::", 5000), family=socket.AF_INET6, dualstack_ipv6=True)
    while True:
        c, a = l.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()
def resetter():
    l = socket.create_server(("0.0.0.0", 5001))
    while True:
        c, a = l.accept()
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        c.close()
def udp_echo():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 7001))
    while True:
        d, a = u.recvfrom(65536)
        u.sendto(d.upper(), a)
for f in (tcp_echo, resetter, udp_echo):
    threading.Thread(target=f, daemon=True).start()
time.sleep(0.2)
print("READY", flush=True)
time.sleep(3600)
"#;

/// Helpers every script starts with.
const PRELUDE: &str = r#"
import errno, os, select, signal, socket, struct, sys, threading, time
def errname(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
"#;

fn world(test: &str) -> Option<World> {
    let mut w = World::start(test)?;
    w.kernel(KERNEL_SERVICES);
    Some(w)
}

fn run(w: &World, body: &str) -> String {
    let out = w.shim(&format!("{PRELUDE}\n{body}\nprint('PASS')\n"));
    assert!(out.contains("PASS"), "the script did not finish: {out}");
    out
}

#[test]
fn tcp_client_talks_to_the_kernel_over_ipv4_and_ipv6() {
    let Some(w) = world("tcp_client_talks_to_the_kernel_over_ipv4_and_ipv6") else { return };
    w.wait_for_ipv6();
    run(
        &w,
        r#"
for family, host, local in ((socket.AF_INET, "192.0.2.2", "192.0.2.1"),
                            (socket.AF_INET6, "2001:db8::2", "2001:db8::1")):
    s = socket.socket(family, socket.SOCK_STREAM)
    assert s.fileno() == 3, s.fileno()
    s.connect((host, 5000))
    assert s.getsockname()[0] == local, s.getsockname()
    assert s.getpeername()[:2] == (host, 5000), s.getpeername()
    data = os.urandom(1 << 20)
    threading.Thread(target=s.sendall, args=(data,)).start()
    got = bytearray()
    while len(got) < len(data):
        got += s.recv(65536)
    assert bytes(got) == data
    # read/write (not send/recv) work on the same descriptor.
    assert os.write(s.fileno(), b"plain write") == 11
    assert os.read(s.fileno(), 100) == b"plain write"
    s.shutdown(socket.SHUT_WR)
    assert s.recv(10) == b""
    s.close()
"#,
    );
}

#[test]
fn tcp_server_accepts_connections_and_waits_on_the_listener_token() {
    let Some(w) = world("tcp_server_accepts_connections_and_waits_on_the_listener_token") else { return };
    run(
        &w,
        r#"
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("192.0.2.1", 6000))
l.listen(8)
assert l.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
assert errname(lambda: l.recv(1)) == "ENOTCONN"
r, _, _ = select.select([l], [], [], 0.2)
assert not r, "readable with an empty accept queue"

nb = socket.socket(); nb.bind(("192.0.2.1", 6001)); nb.listen(1); nb.setblocking(False)
assert errname(lambda: nb.accept()) == "EAGAIN"
nb.settimeout(0.3)
try:
    nb.accept()
    raise AssertionError("accept on an empty queue returned")
except TimeoutError:
    pass

def connect_later():
    time.sleep(0.5)
    c = socket.create_connection(("192.0.2.1", 6000))
    c.sendall(b"late")
    time.sleep(1)
    c.close()
threading.Thread(target=connect_later).start()
t = time.time()
c, peer = l.accept()
assert time.time() - t >= 0.4, "a blocking accept returned before anyone connected"
assert peer[0] == "192.0.2.1", peer
assert c.recv(10) == b"late"
assert c.getsockname() == ("192.0.2.1", 6000)
c.close()

c2 = socket.create_connection(("192.0.2.1", 6000))
r, _, _ = select.select([l], [], [], 2)
assert r, "the listener is not readable with a connection waiting"
c3, _ = l.accept()
c3.setblocking(False)
assert os.get_blocking(c3.fileno()) is False
assert errname(lambda: c3.recv(1)) == "EAGAIN"
c3.close(); c2.close(); l.close()

# A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6 addresses, as Linux does.
l6 = socket.socket(socket.AF_INET6)
l6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l6.bind(("::", 6002)); l6.listen(4)
c4 = socket.create_connection(("192.0.2.1", 6002))
c5, peer = l6.accept()
assert peer[0] == "::ffff:192.0.2.1", peer
assert c5.getsockname()[:2] == ("::ffff:192.0.2.1", 6002), c5.getsockname()
s6 = socket.socket(socket.AF_INET6)
s6.connect(("::ffff:192.0.2.2", 5000))
assert s6.getpeername()[:2] == ("::ffff:192.0.2.2", 5000), s6.getpeername()
"#,
    );
}

#[test]
fn connect_errors_and_unconnected_sockets_behave_as_linux() {
    let Some(w) = world("connect_errors_and_unconnected_sockets_behave_as_linux") else { return };
    run(
        &w,
        r#"
s = socket.socket()
assert errname(lambda: s.connect(("192.0.2.2", 5999))) == "ECONNREFUSED"
s.close()

s = socket.socket(); s.setblocking(False)
assert errname(lambda: s.connect(("192.0.2.2", 5999))) == "EINPROGRESS"
_, w_, _ = select.select([], [s], [], 5)
assert w_, "a failed non-blocking connect never turned writable"
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "SO_ERROR clears"
s.close()

s = socket.socket(); s.setblocking(False)
assert errname(lambda: s.connect(("192.0.2.2", 5000))) == "EINPROGRESS"
select.select([], [s], [], 5)
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
assert errname(lambda: s.connect(("192.0.2.2", 5000))) == "EISCONN"
s.close()

s = socket.socket()
assert errname(lambda: s.recv(1)) == "ENOTCONN"
assert errname(lambda: s.send(b"x", socket.MSG_NOSIGNAL)) == "EPIPE"
assert errname(lambda: s.getpeername()) == "ENOTCONN"
s.bind(("0.0.0.0", 6100))
t = socket.socket()
assert errname(lambda: t.bind(("0.0.0.0", 6100))) == "EADDRINUSE"
assert errname(lambda: t.bind(("198.51.100.1", 0))) == "EADDRNOTAVAIL"
assert errname(lambda: t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)) == "ENOPROTOOPT"
assert errname(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_UDP)) == "EPROTONOSUPPORT"
assert errname(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM | 0x100000)) == "EINVAL"
assert errname(lambda: socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET)) == "ESOCKTNOSUPPORT"
# Other families never reach the netstack.
a, b = socket.socketpair()
a.send(b"unix"); assert b.recv(4) == b"unix"
"#,
    );
}

#[test]
fn socket_options_reach_the_netstack_and_come_back() {
    let Some(w) = world("socket_options_reach_the_netstack_and_come_back") else { return };
    run(
        &w,
        r#"
s = socket.socket()
assert (s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE), s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN),
        s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL)) == (socket.SOCK_STREAM, socket.AF_INET, socket.IPPROTO_TCP)
for level, name, value in ((socket.SOL_SOCKET, socket.SO_REUSEADDR, 1),
                           (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
                           (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
                           (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 77),
                           (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 11),
                           (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 5),
                           (socket.IPPROTO_IP, socket.IP_TTL, 33)):
    s.setsockopt(level, name, value)
    assert s.getsockopt(level, name) == value, (name, s.getsockopt(level, name))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 9))
assert struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)) == (1, 9)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0") == b"reno"
assert errname(lambda: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"nope")) == "ENOENT"
assert errname(lambda: s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 0)) == "EINVAL"
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 1, 500000))
assert struct.unpack("ll", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)) == (1, 500000)
s.connect(("192.0.2.2", 5000))
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
assert info[0] == 1, "tcpi_state is TCP_ESTABLISHED"
s.close()

u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
assert u.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 9)
assert u.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS) == 9
assert errname(lambda: u.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)) == "ENOPROTOOPT"
assert u.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_DGRAM
# Accepted, as ping needs them (no error queue, no ancillary data behind them yet).
IPV6_RECVERR, IP_RECVERR = 25, 11  # Linux's numbers; Python names neither
u.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
assert u.getsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR) == 1
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
assert u.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT) == 1
u.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
assert errname(lambda: u.recv(1, socket.MSG_ERRQUEUE)) == "EAGAIN"
"#,
    );
}

#[test]
fn udp_and_ping_sockets_frame_datagrams() {
    let Some(w) = world("udp_and_ping_sockets_frame_datagrams") else { return };
    run(
        &w,
        r#"
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 7000))
assert u.getsockname() == ("0.0.0.0", 7000)
assert errname(lambda: u.send(b"x")) == "EDESTADDRREQ"
assert errname(lambda: u.sendto(b"x" * 65508, ("192.0.2.2", 7001))) == "EMSGSIZE"
u.settimeout(5)
u.sendto(b"ping", ("192.0.2.2", 7001))
assert u.recvfrom(100) == (b"PING", ("192.0.2.2", 7001))

u.sendto(b"0123456789", ("192.0.2.2", 7001))
select.select([u], [], [], 5)
n = struct.unpack("i", __import__("fcntl").ioctl(u.fileno(), __import__("termios").FIONREAD, b"\0\0\0\0"))[0]
assert n == 10, n
data, anc, flags, addr = u.recvmsg(4)
assert data == b"0123" and flags & socket.MSG_TRUNC and addr == ("192.0.2.2", 7001), (data, flags, addr)

u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.settimeout(5)
u6.sendto(b"mapped", ("::ffff:192.0.2.2", 7001))
assert u6.recvfrom(100) == (b"MAPPED", ("::ffff:192.0.2.2", 7001, 0, 0))

u.connect(("192.0.2.2", 7001))
assert u.getpeername() == ("192.0.2.2", 7001)
u.send(b"one"); os.write(u.fileno(), b"two")
assert u.recv(100) == b"ONE"
assert u.recv(100, socket.MSG_PEEK) == b"TWO"
assert os.read(u.fileno(), 100) == b"TWO"

u.connect(("192.0.2.2", 7999))
u.send(b"nobody listens")
time.sleep(0.5)
assert errname(lambda: u.recv(100)) == "ECONNREFUSED"
u.close()

p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
assert p.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_ICMP
p.settimeout(5)
p.sendto(struct.pack("!BBHHH", 8, 0, 0, 0, 1) + b"abc", ("192.0.2.2", 0))
reply, src = p.recvfrom(100)
assert reply[0] == 0 and reply[8:] == b"abc" and src[0] == "192.0.2.2", (reply, src)
"#,
    );
}

#[test]
fn fork_dup_and_close_share_one_socket() {
    let Some(w) = world("fork_dup_and_close_share_one_socket") else { return };
    run(
        &w,
        r#"
s = socket.create_connection(("192.0.2.2", 5000))
pid = os.fork()
if pid == 0:
    # The child's first call switches it to a channel of its own (Clone2).
    s.sendall(b"from the child")
    assert s.getpeername() == ("192.0.2.2", 5000)
    c = socket.create_connection(("192.0.2.2", 5000))
    c.sendall(b"x"); assert c.recv(1) == b"x"
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert status == 0, status
got = b""
while len(got) < 14:
    got += s.recv(100)
assert got == b"from the child"
assert s.getsockname()[0] == "192.0.2.1", "the parent's channel still works"

d = os.dup(s.fileno())
os.write(d, b"dup"); assert os.read(d, 10) == b"dup"
os.dup2(s.fileno(), 50)
assert socket.socket(fileno=os.dup(50)).getpeername() == ("192.0.2.2", 5000)
os.close(d); os.close(50)
s.sendall(b"still open"); assert s.recv(100) == b"still open"
s.close()

# Closing every descriptor this process does not know about must spare the shim's own.
t = socket.create_connection(("192.0.2.2", 5000))
os.closerange(t.fileno() + 1, 1 << 16)
t.sendall(b"after closerange"); assert t.recv(100) == b"after closerange"
"#,
    );
}

#[test]
fn a_reset_is_econnreset_once_then_epipe_with_sigpipe() {
    let Some(w) = world("a_reset_is_econnreset_once_then_epipe_with_sigpipe") else { return };
    run(
        &w,
        r#"
pipes = []
signal.signal(signal.SIGPIPE, lambda *a: pipes.append(1))
c = socket.create_connection(("192.0.2.2", 5001), timeout=5)
time.sleep(1)
results = [errname(lambda: c.send(b"x" * 1000)) for _ in range(3)]
assert results == ["ECONNRESET", "EPIPE", "EPIPE"], results
assert len(pipes) == 2, pipes
assert errname(lambda: c.send(b"x", socket.MSG_NOSIGNAL)) == "EPIPE"
assert len(pipes) == 2, "MSG_NOSIGNAL raised SIGPIPE"
c.close()

c = socket.create_connection(("192.0.2.2", 5001))
assert errname(lambda: c.recv(10)) == "ECONNRESET"
assert c.recv(10) == b""
"#,
    );
}

#[test]
fn a_vanished_netstack_fails_calls_instead_of_hanging() {
    let Some(w) = world("a_vanished_netstack_fails_calls_instead_of_hanging") else { return };
    run(
        &w,
        r#"
s = socket.create_connection(("192.0.2.2", 5000))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 0))
results = {}
def blocked(name, f):
    results[name] = errname(f)
threads = [threading.Thread(target=blocked, args=("tcp", lambda: s.recv(10))),
           threading.Thread(target=blocked, args=("udp", lambda: u.recv(10)))]
for t in threads: t.start()
time.sleep(0.3)
os.kill(int(os.environ["DAEMON_PID"]), signal.SIGKILL)
for t in threads: t.join(10)
assert results == {"tcp": "ECONNRESET", "udp": "ECONNRESET"}, results
assert errname(lambda: s.send(b"x")) == "ECONNRESET"
assert errname(lambda: s.getsockname()) == "ECONNRESET"
assert errname(lambda: u.sendto(b"x", ("192.0.2.2", 9))) == "ECONNRESET"
assert errname(lambda: socket.socket()) == "EAFNOSUPPORT"
s.close(); u.close()
"#,
    );
}

#[test]
fn without_a_netstack_inet_sockets_fail_with_eafnosupport() {
    // No namespace and no root needed: the svc dir simply does not exist.
    let script = format!(
        "{PRELUDE}\n{}",
        r#"
assert errname(lambda: socket.socket()) == "EAFNOSUPPORT"
assert errname(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)) == "EAFNOSUPPORT"
a, b = socket.socketpair(); a.send(b"ok"); assert b.recv(2) == b"ok"
print("PASS")
"#
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .env("LD_PRELOAD", support::libfdio())
        .env("NETSTACK_SVC_DIR", "/nonexistent/fdio-test-svc")
        .env("NETSTACK_FDIO_DEBUG", "1")
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains("PASS"), "{stdout}{stderr}");
    assert_eq!(
        stderr.matches("libfdio: cannot reach the netstack").count(),
        1,
        "one diagnostic line, once: {stderr}"
    );
}
