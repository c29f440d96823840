//! Interop over a TUN: each test makes a network namespace, starts `netstack run --tun tun0
//! --addr 192.0.2.1/24 --addr 2001:db8::1/64 --udp-echo 7` inside it, gives the kernel's end
//! of tun0 192.0.2.2/24 and 2001:db8::2/64, and talks to the netstack with `ping` and
//! `socat` over both IP versions. A TUN carries bare IP packets: there is no ARP or NDP on it
//! and no DAD, so IPv6 answers as soon as the daemon is ready. Everything is removed when the
//! test ends, pass or fail.
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use support::netns::{have_root, Netns};

const DAEMON_ARGS: [&str; 9] =
    ["run", "--tun", "tun0", "--addr", "192.0.2.1/24", "--addr", "2001:db8::1/64", "--udp-echo", "7"];

/// A namespace with the daemon running on tun0 and the kernel's end addressed; returns the
/// namespace and what the daemon printed until it was ready.
fn netstack_on_a_tun(args: &[&str]) -> (Netns, Vec<String>) {
    let mut ns = Netns::new();
    let (printed, _rest) = ns.start_netstack(args);
    // The kernel does no DAD on a NOARP link anyway.
    ns.add_addrs("tun0", "192.0.2.2/24", "2001:db8::2/64");
    (ns, printed)
}

/// One ping of `size` data bytes to `dst`, which must be answered whole and once.
fn ping(ns: &Netns, size: usize, dst: &str) -> String {
    let stdout = ns.ping(size, dst);
    assert!(stdout.contains(&format!("{} bytes from {dst}", size + 8)), "ping -s {size} {dst}: {stdout}");
    stdout
}

/// `payload` to `to` through `socat` and what came back.
fn socat(ns: &Netns, to: &str, payload: &[u8]) -> std::process::Output {
    ns.exec_with_input("socat", &["-T", "3", "-b", "9000", "-", to], payload)
}

#[test]
fn kernel_pings_netstack_over_a_tun_with_both_ip_versions() {
    if !have_root("kernel_pings_netstack_over_a_tun_with_both_ip_versions") {
        return;
    }
    let (ns, printed) = netstack_on_a_tun(&DAEMON_ARGS);
    assert!(printed.iter().any(|l| l.contains("tun0: TUN interface up")), "{printed:?}");
    // Nothing to form a link-local address from, and no DAD to wait for.
    assert!(!printed.iter().any(|l| l.contains("link-local") || l.contains("DAD")), "{printed:?}");
    // The first IPv6 ping is answered: no DAD delay. From 1453 (IPv6) and 1473 (IPv4) bytes
    // the kernel fragments and we reassemble, then fragment the reply.
    for size in [0usize, 56, 1452, 1453, 8952] {
        ping(&ns, size, "2001:db8::1");
    }
    for size in [0usize, 56, 1472, 1473, 8972] {
        ping(&ns, size, "192.0.2.1");
    }
    // The kernel reached us without resolving anything.
    let neighbours = ns.ip(&["neigh", "show", "dev", "tun0"]);
    assert!(neighbours.trim().is_empty(), "neighbour entries on a TUN: {neighbours}");
    let link = ns.ip(&["link", "show", "tun0"]);
    assert!(link.contains("NOARP") && link.contains("link/none"), "{link}");
}

#[test]
fn udp_echo_over_a_tun_and_port_unreachable_for_a_closed_port() {
    if !have_root("udp_echo_over_a_tun_and_port_unreachable_for_a_closed_port") {
        return;
    }
    let (ns, _) = netstack_on_a_tun(&DAEMON_ARGS);
    for (to, greeting) in [("UDP:192.0.2.1:7", "hello over a TUN\n"), ("UDP6:[2001:db8::1]:7", "hello v6\n")]
    {
        let out = socat(&ns, to, greeting.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            greeting,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The largest datagram one 1500-byte packet carries, and one that needs fragments.
    for (to, len) in [("UDP:192.0.2.1:7", 1472), ("UDP6:[2001:db8::1]:7", 1452), ("UDP:192.0.2.1:7", 4000)] {
        let big = vec![b'x'; len];
        let out = socat(&ns, to, &big);
        assert_eq!(out.stdout.len(), len, "{to}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, big, "{to}");
    }
    // Nothing listens on port 9: our ICMP and ICMPv6 port unreachable make the kernel
    // socket's next read fail with ECONNREFUSED.
    for to in ["UDP:192.0.2.1:9", "UDP6:[2001:db8::1]:9"] {
        let out = socat(&ns, to, b"anyone?\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains("Connection refused"), "{to}: {stderr}");
    }
}

/// Removes a file when dropped, also when the test fails.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_tun_line_in_a_config_file_makes_the_same_interface() {
    if !have_root("a_tun_line_in_a_config_file_makes_the_same_interface") {
        return;
    }
    let file = TempFile(std::env::temp_dir().join(format!("netstack-tun-{}.conf", std::process::id())));
    std::fs::write(&file.0, "tun tun0\naddr 192.0.2.1/24\naddr 2001:db8::1/64\nmtu 1400\nudp-echo 7\n")
        .expect("write the config file");
    let path = file.0.to_str().expect("utf-8 path");
    let (ns, printed) = netstack_on_a_tun(&["run", "--config", path]);
    assert!(
        printed.iter().any(|l| l.contains("tun0: TUN interface up") && l.contains("MTU 1400")),
        "{printed:?}"
    );
    assert!(ns.ip(&["link", "show", "tun0"]).contains("mtu 1400"));
    ping(&ns, 56, "192.0.2.1");
    ping(&ns, 56, "2001:db8::1");
    // 1400 bytes of IPv6 packet hold 1352 bytes of UDP payload: 1353 goes in fragments.
    let big = vec![b'z'; 1353];
    let out = socat(&ns, "UDP6:[2001:db8::1]:7", &big);
    assert_eq!(out.stdout, big, "{}", String::from_utf8_lossy(&out.stderr));
}
