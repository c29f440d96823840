//! iputils `ping`, unmodified, over the shim (`libfdio.so`) to the kernel (see
//! `support::apps` for the two namespaces): three echo requests over IPv4 and three over
//! IPv6, each answered once and intact, and ping exits 0; and each reply shows the TTL (hop
//! limit) the kernel sent it with, 64, as ping on Linux shows it. Through the shim, ping gets an
//! ICMP datagram socket, so `tests/apps/raw_ping.py` covers the SOCK_RAW path ping takes where
//! it cannot (`fuchsia.posix.socket.raw`).
//!
//! Needs root and iputils-ping; skips loudly without them, except under `CI=true`.
//! `FDIO_TESTS_ON_LINUX=1` runs the same programs on Linux alone, to check the tests.

mod support;

use std::time::Duration;

use support::apps::{can_run, AppNet, Proc, APPS_DIR, PEER_V4, PEER_V6, PYTHON};

/// `ping [-6] -c 3 DST` on the shim; panics unless all three are answered, once and intact.
/// Returns ping's output.
fn ping_three(net: &AppNet, v6: bool, dst: &str) -> String {
    let mut args = vec!["-c", "3", "-i", "0.2", "-W", "2", dst];
    if v6 {
        args.insert(0, "-6");
    }
    let done = Proc::run("ping", net.app("ping", &args), Duration::from_secs(20));
    done.assert_success(&format!("ping {args:?}"));
    let out = &done.stdout;
    assert!(out.contains("3 packets transmitted, 3 received"), "ping {dst}: not all answered:\n{out}");
    assert!(!out.contains("DUP!") && !out.contains("wrong data"), "ping {dst}:\n{out}");
    format!("{}{}", done.stdout, done.stderr)
}

#[test]
fn ping_on_the_shim_reaches_the_kernel_over_ipv4() {
    if !can_run("ping_on_the_shim_reaches_the_kernel_over_ipv4", &["ping"]) {
        return;
    }
    let net = AppNet::new();
    ping_three(&net, false, PEER_V4);
    net.assert_app_kernel_unused();
}

#[test]
fn ping_on_the_shim_reaches_the_kernel_over_ipv6() {
    if !can_run("ping_on_the_shim_reaches_the_kernel_over_ipv6", &["ping"]) {
        return;
    }
    let net = AppNet::new();
    ping_three(&net, true, PEER_V6);
    net.assert_app_kernel_unused();
}

#[test]
fn ping_on_the_shim_shows_each_replys_ttl() {
    if !can_run("ping_on_the_shim_shows_each_replys_ttl", &["ping"]) {
        return;
    }
    let net = AppNet::new();
    for (v6, dst) in [(false, PEER_V4), (true, PEER_V6)] {
        let out = ping_three(&net, v6, dst);
        let replies: Vec<&str> = out.lines().filter(|l| l.contains("bytes from")).collect();
        assert!(
            replies.len() == 3 && replies.iter().all(|l| l.contains(" ttl=64 ")),
            "ping {dst}: the kernel's replies left it with TTL 64, ping shows otherwise:\n{out}"
        );
    }
}

#[test]
fn raw_icmp_sockets_on_the_shim_reach_the_kernel() {
    if !can_run("raw_icmp_sockets_on_the_shim_reach_the_kernel", &[PYTHON]) {
        return;
    }
    let net = AppNet::new();
    let script = format!("{APPS_DIR}/raw_ping.py");
    let done = Proc::run(
        "raw_ping.py",
        net.app(PYTHON, &[script.as_str(), PEER_V4, PEER_V6]),
        Duration::from_secs(30),
    );
    done.assert_success("raw_ping.py");
    assert!(
        done.stdout.contains("v4 reply from") && done.stdout.contains("v6 reply from"),
        "{}",
        done.stdout
    );
    net.assert_app_kernel_unused();
}
