//! OpenBSD `nc`, unmodified, over the shim (`libfdio.so`) against the kernel's `nc` (see
//! `support::apps` for the two namespaces): TCP and UDP, with the shim's side listening and
//! with the kernel's, data flowing from the listener and towards it, over IPv4 and IPv6.
//! Every byte is checked: TCP transfers by SHA-256, UDP datagrams whole.
//!
//! Needs root and netcat-openbsd; skips loudly without them, except under `CI=true`.
//! `FDIO_TESTS_ON_LINUX=1` runs the same programs on Linux alone, to check the tests.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::apps::{can_run, sha256, AppNet, Finished, Proc, OURS_V4, OURS_V6, PEER_V4, PEER_V6};

/// Which side runs a program: the shim in the app namespace or the kernel in the peer one.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Shim,
    Kernel,
}

impl Side {
    fn other(self) -> Self {
        match self {
            Self::Shim => Self::Kernel,
            Self::Kernel => Self::Shim,
        }
    }

    fn nc(self, net: &AppNet, args: &[&str]) -> Command {
        match self {
            Self::Shim => net.app("nc.openbsd", args),
            Self::Kernel => net.peer("nc.openbsd", args),
        }
    }

    /// This side's address, as the other side reaches it.
    fn addr(self, v6: bool) -> &'static str {
        match (self, v6) {
            (Self::Shim, false) => OURS_V4,
            (Self::Shim, true) => OURS_V6,
            (Self::Kernel, false) => PEER_V4,
            (Self::Kernel, true) => PEER_V6,
        }
    }
}

/// Whether the connector's attempt found no listener yet (nc says so only with `-v`).
fn refused(done: &Finished) -> bool {
    !done.status.is_some_and(|s| s.success()) && done.stderr.contains("refused")
}

/// One TCP connection: `nc -l` on `listener`, `nc ADDR PORT` on the other side; 1 MB goes
/// from the listener to the connector when `from_listener`, else the other way. The
/// listener's address family decides the connection's (`-6`: a socket on `::`).
fn tcp_transfer(net: &AppNet, listener: Side, port: u16, v6: bool, from_listener: bool) {
    let what = format!(
        "TCP {} {}listener on port {port}, data {} it",
        if listener == Side::Shim { "shim" } else { "kernel" },
        if v6 { "IPv6 " } else { "" },
        if from_listener { "from" } else { "to" }
    );
    let sent = net.random_file(&format!("tcp-{port}-sent"), 1_000_000);
    let got = net.path(&format!("tcp-{port}-got"));
    let port_arg = port.to_string();
    // The sender shuts its side down at the end of its input (-N), the receiver reads
    // nothing from stdin (-d).
    let (listen_flags, connect_flags) = if from_listener { ("-N", "-d") } else { ("-d", "-N") };
    let mut listen_args = vec!["-l", listen_flags, &port_arg];
    if v6 {
        listen_args.insert(0, "-6");
    }
    let (listen_in, listen_out, connect_in, connect_out) = if from_listener {
        (Some(sent.as_path()), None, None, Some(got.as_path()))
    } else {
        (None, Some(got.as_path()), Some(sent.as_path()), None)
    };
    let server = Proc::start_redirected("nc -l", listener.nc(net, &listen_args), listen_in, listen_out);
    if listener == Side::Kernel {
        net.wait_peer_listening(port, false);
    }
    let addr = listener.addr(v6);
    let connect_args = ["-v", connect_flags, addr, &port_arg];
    // Until the listener listens, a connection is refused and does not use up `nc -l`.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let cmd = listener.other().nc(net, &connect_args);
        let done = Proc::start_redirected("nc", cmd, connect_in, connect_out).finish(Duration::from_secs(60));
        if refused(&done) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        done.assert_success(&format!("{what}: the connector"));
        break;
    }
    server.finish(Duration::from_secs(20)).assert_success(&format!("{what}: the listener"));
    assert_eq!(sha256(&got), sha256(&sent), "{what}: the data arrived changed");
}

/// One UDP exchange with `nc -u -l` on `listener`: the other side sends one datagram to it.
/// When `reply`, the listener then answers with a datagram of its own, which must arrive.
fn udp_exchange(net: &AppNet, listener: Side, port: u16, v6: bool, reply: bool) {
    let what = format!(
        "UDP {} {}listener on port {port}{}",
        if listener == Side::Shim { "shim" } else { "kernel" },
        if v6 { "IPv6 " } else { "" },
        if reply { ", answering" } else { "" }
    );
    // Text, so that a datagram shows readably when it differs; one read of nc's stdin, so
    // one datagram.
    let text = |name: &str, len: usize| {
        let path = net.path(name);
        let line: String =
            (0..len).map(|i| char::from(b'a' + ((i * 7 + usize::from(port)) % 26) as u8)).collect();
        std::fs::write(&path, line).expect("write scratch file");
        path
    };
    let request = text(&format!("udp-{port}-request"), 1200);
    let answer = text(&format!("udp-{port}-answer"), 1000);
    let (got_request, got_answer) =
        (net.path(&format!("udp-{port}-got-request")), net.path(&format!("udp-{port}-got-answer")));
    let port_arg = port.to_string();
    // Without a reply: exit after one datagram (-W 1). With one: answer from stdin once the
    // first datagram names the peer, then quit a second after the end of stdin (-q 1).
    let mut listen_args =
        if reply { vec!["-u", "-l", "-q", "1", &port_arg] } else { vec!["-u", "-l", "-W", "1", &port_arg] };
    if v6 {
        listen_args.insert(0, "-6");
    }
    let server = Proc::start_redirected(
        "nc -u -l",
        listener.nc(net, &listen_args),
        reply.then_some(answer.as_path()),
        Some(&got_request),
    );
    if listener == Side::Kernel {
        net.wait_peer_listening(port, true);
    }
    let addr = listener.addr(v6);
    // The sender quits at the end of its input (-q 0) or after the answer (-W 1).
    let send_args: [&str; 5] =
        if reply { ["-u", "-W", "1", addr, &port_arg] } else { ["-u", "-q", "0", addr, &port_arg] };
    // The kernel's listener is bound already: its one datagram must arrive. A datagram
    // sent before the shim's listener is bound is lost, though: the kernel sends again,
    // from a new nc and port, until the listener has one. Each try waits long enough that a
    // datagram still under way cannot reach the listener after its sender was given up on.
    let deadline = Instant::now() + Duration::from_secs(if listener == Side::Kernel { 0 } else { 20 });
    let sender_done = loop {
        let cmd = listener.other().nc(net, &send_args);
        let sender =
            Proc::start_redirected("nc -u", cmd, Some(&request), reply.then_some(got_answer.as_path()));
        let tried = Instant::now();
        while tried.elapsed() < Duration::from_millis(1500) && !received(&got_request) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if received(&got_request) {
            break sender.finish(Duration::from_secs(10));
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the listener never received the datagram:\n{}",
            sender.output()
        );
    };
    sender_done.assert_success(&format!("{what}: the sender"));
    server.finish(Duration::from_secs(10)).assert_success(&format!("{what}: the listener"));
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert_eq!(read(&got_request), read(&request), "{what}: the datagram to the listener");
    if reply {
        assert_eq!(read(&got_answer), read(&answer), "{what}: the listener's answer");
    }
}

fn received(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

#[test]
fn nc_tcp_listening_on_the_shim() {
    if !can_run("nc_tcp_listening_on_the_shim", &["nc.openbsd"]) {
        return;
    }
    let net = AppNet::new();
    tcp_transfer(&net, Side::Shim, 5000, false, true);
    tcp_transfer(&net, Side::Shim, 5001, true, false);
    net.assert_app_kernel_unused();
}

#[test]
fn nc_tcp_connecting_from_the_shim() {
    if !can_run("nc_tcp_connecting_from_the_shim", &["nc.openbsd"]) {
        return;
    }
    let net = AppNet::new();
    tcp_transfer(&net, Side::Kernel, 5000, false, false);
    tcp_transfer(&net, Side::Kernel, 5001, true, true);
    net.assert_app_kernel_unused();
}

#[test]
fn nc_udp_listening_on_the_shim() {
    if !can_run("nc_udp_listening_on_the_shim", &["nc.openbsd"]) {
        return;
    }
    let net = AppNet::new();
    udp_exchange(&net, Side::Shim, 5002, false, false);
    udp_exchange(&net, Side::Shim, 5003, false, true);
    udp_exchange(&net, Side::Shim, 5004, true, true);
    net.assert_app_kernel_unused();
}

#[test]
fn nc_udp_sending_from_the_shim() {
    if !can_run("nc_udp_sending_from_the_shim", &["nc.openbsd"]) {
        return;
    }
    let net = AppNet::new();
    udp_exchange(&net, Side::Kernel, 5002, false, false);
    udp_exchange(&net, Side::Kernel, 5003, false, true);
    udp_exchange(&net, Side::Kernel, 5004, true, true);
    net.assert_app_kernel_unused();
}
