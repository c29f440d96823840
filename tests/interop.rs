//! Interop with the Linux kernel as the neighbouring host: each test makes a network
//! namespace, starts `netstack run --tap tap0 --addr 192.0.2.1/24 --addr 2001:db8::1/64
//! --udp-echo 7` inside it, gives the kernel side of the TAP 192.0.2.2/24 and 2001:db8::2/64,
//! and talks to the netstack with the kernel's own tools (`ping`, `socat`, `ip neigh`,
//! `tcpdump`, `tshark`). Everything is removed when the test ends, pass or fail.
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use support::apps::can_run;
use support::netns::{have_root, tshark_count, Netns};

/// The daemon running in a namespace of its own, with the kernel side configured.
struct Daemon {
    ns: Netns,
    /// The MAC of the stack's end of tap0, as the daemon printed it.
    mac: String,
    /// The stack's link-local address on tap0, as the daemon printed it (without the prefix).
    link_local: String,
}

/// A namespace with the daemon running and the kernel side configured.
fn netstack_in_namespace() -> Daemon {
    let mut ns = Netns::new();
    let args =
        ["run", "--tap", "tap0", "--addr", "192.0.2.1/24", "--addr", "2001:db8::1/64", "--udp-echo", "7"];
    let (printed, _rest) = ns.start_netstack(&args);
    let line = |needle: &str| printed.iter().find(|l| l.contains(needle)).cloned();
    let up = line("tap0: TAP interface up").expect("the daemon made tap0");
    let mac = up.split("MAC ").nth(1).and_then(|s| s.split(',').next()).expect("MAC in the line").to_owned();
    let ll = line("tap0: link-local address").expect("IPv6 runs on tap0");
    let link_local =
        ll.rsplit(' ').next().and_then(|a| a.split('/').next()).expect("address in the line").to_owned();
    ns.add_addrs("tap0", "192.0.2.2/24", "2001:db8::2/64");
    Daemon { ns, mac, link_local }
}

/// The modified EUI-64 link-local address of `mac` (RFC 4291 §2.5.1, appendix A).
fn eui64_link_local(mac: &str) -> String {
    let b: Vec<u8> = mac.split(':').map(|x| u8::from_str_radix(x, 16).expect("hex MAC")).collect();
    assert_eq!(b.len(), 6, "MAC {mac}");
    let iid = [b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
    let groups: Vec<String> =
        iid.chunks(2).map(|p| format!("{:x}", u16::from_be_bytes([p[0], p[1]]))).collect();
    format!("fe80::{}", groups.join(":"))
}

#[test]
fn kernel_pings_netstack_at_every_size_and_learns_its_mac() {
    if !have_root("kernel_pings_netstack_at_every_size_and_learns_its_mac") {
        return;
    }
    let Daemon { ns, mac, .. } = netstack_in_namespace();
    for size in [0usize, 56, 1472, 1473, 8972] {
        let out = ns.ping(size, "192.0.2.1");
        // ping checks the echoed payload itself and reports any byte that differs.
        assert!(out.contains(&format!("{} bytes from 192.0.2.1", size + 8)), "ping -s {size}: {out}");
        assert!(!out.contains("wrong data") && !out.contains("DUP!"), "ping -s {size}: {out}");
    }
    let neigh = ns.ip(&["neigh", "show", "192.0.2.1", "dev", "tap0"]);
    assert!(neigh.contains(&format!("lladdr {mac}")), "kernel neighbour table: {neigh}");
    assert!(["REACHABLE", "STALE", "DELAY", "PROBE"].iter().any(|s| neigh.contains(s)), "{neigh}");
}

#[test]
fn udp_echo_both_directions_and_port_unreachable_for_a_closed_port() {
    if !have_root("udp_echo_both_directions_and_port_unreachable_for_a_closed_port") {
        return;
    }
    let Daemon { ns, .. } = netstack_in_namespace();
    let out = ns.exec_with_input("socat", &["-T", "3", "-", "UDP:192.0.2.1:7"], b"hello netstack\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello netstack\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A datagram as large as one frame carries, echoed whole.
    let big = vec![b'x'; 1400];
    let out = ns.exec_with_input("socat", &["-T", "3", "-b", "2000", "-", "UDP:192.0.2.1:7"], &big);
    assert_eq!(out.stdout, big);
    // Nothing listens on port 9: the ICMP port unreachable makes the kernel socket's next
    // read fail with ECONNREFUSED.
    let out = ns.exec_with_input("socat", &["-T", "3", "-", "UDP:192.0.2.1:9"], b"anyone?\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("Connection refused"), "socat: {stderr}");
}

#[test]
fn kernel_pings_netstack_over_ipv6_at_every_size_and_learns_its_mac_over_ndp() {
    if !have_root("kernel_pings_netstack_over_ipv6_at_every_size_and_learns_its_mac_over_ndp") {
        return;
    }
    let Daemon { ns, mac, link_local } = netstack_in_namespace();
    ns.ping_until_answered("2001:db8::1");
    // 1452 fills a 1500-byte frame; from 1453 the kernel fragments and we reassemble, then
    // fragment the reply.
    for size in [0usize, 56, 1452, 1453, 8952] {
        let out = ns.ping(size, "2001:db8::1");
        assert!(out.contains(&format!("{} bytes from 2001:db8::1", size + 8)), "ping -6 -s {size}: {out}");
        assert!(!out.contains("wrong data") && !out.contains("DUP!"), "ping -6 -s {size}: {out}");
    }
    let neigh = ns.ip(&["-6", "neigh", "show", "2001:db8::1", "dev", "tap0"]);
    assert!(neigh.contains(&format!("lladdr {mac}")), "kernel neighbour table: {neigh}");
    assert!(["REACHABLE", "STALE", "DELAY", "PROBE"].iter().any(|s| neigh.contains(s)), "{neigh}");
    // Our link-local address is the modified EUI-64 one of our MAC, and it answers.
    assert_eq!(link_local, eui64_link_local(&mac), "link-local address of MAC {mac}");
    let scoped = format!("{link_local}%tap0");
    ns.ping_until_answered(&scoped);
    let out = ns.ping(56, &scoped);
    assert!(out.contains(&format!("64 bytes from {link_local}")), "ping -6 {scoped}: {out}");
}

#[test]
fn udp_echo_and_port_unreachable_over_ipv6() {
    if !have_root("udp_echo_and_port_unreachable_over_ipv6") {
        return;
    }
    let Daemon { ns, .. } = netstack_in_namespace();
    ns.ping_until_answered("2001:db8::1");
    let out = ns.exec_with_input("socat", &["-T", "3", "-", "UDP6:[2001:db8::1]:7"], b"hello over IPv6\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello over IPv6\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The largest datagram one 1500-byte frame carries over IPv6, echoed whole.
    let big = vec![b'y'; 1452];
    let out = ns.exec_with_input("socat", &["-T", "3", "-b", "2000", "-", "UDP6:[2001:db8::1]:7"], &big);
    assert_eq!(out.stdout, big, "{}", String::from_utf8_lossy(&out.stderr));
    // Nothing listens on port 9: our ICMPv6 port unreachable (RFC 4443 §3.1) makes the
    // kernel socket's next read fail with ECONNREFUSED.
    let out = ns.exec_with_input("socat", &["-T", "3", "-", "UDP6:[2001:db8::1]:9"], b"anyone?\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("Connection refused"), "socat: {stderr}");
}

#[test]
fn capture_of_the_session_has_no_malformed_packets() {
    if !can_run("capture_of_the_session_has_no_malformed_packets", &["tshark"]) {
        return;
    }
    let Daemon { mut ns, mac, .. } = netstack_in_namespace();
    let pcap = std::env::temp_dir().join(format!("{}.pcap", ns.name));
    let pcap_path = pcap.to_str().expect("utf-8 path").to_owned();
    ns.start_capture("tap0", &pcap_path, &[]);
    for size in [56, 1473, 8972] {
        ns.ping(size, "192.0.2.1");
    }
    let _ = ns.exec_with_input("socat", &["-T", "2", "-", "UDP:192.0.2.1:7"], b"captured\n");
    let _ = ns.exec_with_input("socat", &["-T", "2", "-", "UDP:192.0.2.1:9"], b"closed\n");
    // IPv6, from before the kernel has resolved us: our neighbour advertisements are in it.
    ns.ping_until_answered("2001:db8::1");
    for size in [56, 1453, 8952] {
        ns.ping(size, "2001:db8::1");
    }
    let _ = ns.exec_with_input("socat", &["-T", "2", "-", "UDP6:[2001:db8::1]:7"], b"captured\n");
    let _ = ns.exec_with_input("socat", &["-T", "2", "-", "UDP6:[2001:db8::1]:9"], b"closed\n");
    ns.stop_capture();
    let tshark = |filter: &str| {
        tshark_count(&pcap_path, &["ip.check_checksum:TRUE", "udp.check_checksum:TRUE"], filter)
    };
    let ours = format!("eth.src == {mac}");
    let sent = tshark(&ours);
    assert!(sent >= 20, "the capture holds our replies ({sent} frames)");
    assert_eq!(tshark(&format!("({ours}) && (_ws.malformed || _ws.expert.severity == error)")), 0);
    assert!(tshark("icmp.type == 0 && ip.src == 192.0.2.1") >= 3, "echo replies captured");
    assert!(
        tshark("icmp.type == 3 && icmp.code == 3 && ip.src == 192.0.2.1") >= 1,
        "port unreachable captured"
    );
    assert!(tshark("icmpv6.type == 129 && ipv6.src == 2001:db8::1") >= 3, "ICMPv6 echo replies captured");
    assert!(
        tshark(&format!("icmpv6.type == 136 && icmpv6.nd.na.target_address == 2001:db8::1 && {ours}")) >= 1,
        "our neighbour advertisements captured"
    );
    assert!(
        tshark("icmpv6.type == 1 && icmpv6.code == 4 && ipv6.src == 2001:db8::1") >= 1,
        "ICMPv6 port unreachable captured"
    );
    assert!(tshark("ipv6.src == 2001:db8::1 && ipv6.nxt == 44") >= 2, "our fragmented replies captured");
    let _ = std::fs::remove_file(&pcap);
}
