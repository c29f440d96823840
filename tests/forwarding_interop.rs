//! The netstack as a router between two Linux hosts. Three network namespaces: the daemon
//! runs in one with two TAPs, `a0` (192.0.2.1/24, 2001:db8:1::1/64) and `b0`
//! (198.51.100.1/24, 2001:db8:2::1/64); once it has opened them, `a0` moves into host A's
//! namespace and `b0` into host B's (a TAP's fd keeps working when its interface changes
//! namespace). Host A is 192.0.2.2 and 2001:db8:1::2, host B 198.51.100.2 and 2001:db8:2::2,
//! each with its default routes via the netstack, so every packet between them crosses it.
//! All three namespaces go when the test ends, pass or fail: the daemon's first, which takes
//! the TAPs with it.
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use support::netns::{have_root, Netns};

/// The daemon's namespace and the two hosts. Fields drop in order: the router (and with it
/// the daemon and its TAPs) goes first; it is held only for that.
struct Network {
    _router: Netns,
    host_a: Netns,
    host_b: Netns,
}

/// A host's end of a TAP: the interface, its addresses, and the netstack's addresses on it
/// (its default gateways).
struct HostSide<'a> {
    link: &'a str,
    addr4: &'a str,
    addr6: &'a str,
    gateway4: &'a str,
    gateway6: &'a str,
}

impl HostSide<'_> {
    fn configure(&self, host: &Netns) {
        host.ip(&["link", "set", self.link, "up"]);
        host.add_addrs(self.link, self.addr4, self.addr6);
        host.ip(&["route", "add", "default", "via", self.gateway4]);
        host.ip(&["-6", "route", "add", "default", "via", self.gateway6]);
    }
}

/// The three namespaces with the daemon running, forwarding or not.
fn network(forwarding: bool) -> Network {
    let host_a = Netns::new();
    let host_b = Netns::new();
    let mut router = Netns::new();
    let mut args = vec![
        "run",
        "--tap",
        "a0",
        "--addr",
        "192.0.2.1/24",
        "--addr",
        "2001:db8:1::1/64",
        "--tap",
        "b0",
        "--addr",
        "198.51.100.1/24",
        "--addr",
        "2001:db8:2::1/64",
    ];
    if forwarding {
        args.push("--forwarding");
    }
    router.start_netstack(&args);
    router.move_link("a0", &host_a);
    router.move_link("b0", &host_b);
    let a = HostSide {
        link: "a0",
        addr4: "192.0.2.2/24",
        addr6: "2001:db8:1::2/64",
        gateway4: "192.0.2.1",
        gateway6: "2001:db8:1::1",
    };
    a.configure(&host_a);
    let b = HostSide {
        link: "b0",
        addr4: "198.51.100.2/24",
        addr6: "2001:db8:2::2/64",
        gateway4: "198.51.100.1",
        gateway6: "2001:db8:2::1",
    };
    b.configure(&host_b);
    Network { _router: router, host_a, host_b }
}

/// The TTL (IPv4) or Hop Limit (IPv6) of the reply `ping` printed.
fn reply_ttl(ping_output: &str) -> u8 {
    let ttl = ping_output.split("ttl=").nth(1).and_then(|rest| rest.split_whitespace().next());
    ttl.and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("no ttl= in {ping_output}"))
}

#[test]
fn netstack_routes_ipv4_and_ipv6_between_two_hosts_one_hop_each() {
    if !have_root("netstack_routes_ipv4_and_ipv6_between_two_hosts_one_hop_each") {
        return;
    }
    let net = network(true);
    // Linux starts its replies at 64; one router on the way takes one off.
    for (from, to) in [
        (&net.host_a, "198.51.100.2"),
        (&net.host_b, "192.0.2.2"),
        (&net.host_a, "2001:db8:2::2"),
        (&net.host_b, "2001:db8:1::2"),
    ] {
        let out = from.ping_until_answered(to);
        assert_eq!(reply_ttl(&out), 63, "{to} from {}: {out}", from.name);
    }
    // The netstack's own addresses answer directly: no hop taken off.
    assert_eq!(reply_ttl(&net.host_a.ping(56, "192.0.2.1")), 64);
    assert_eq!(reply_ttl(&net.host_a.ping(56, "2001:db8:1::1")), 64);
    // Full-sized packets, and fragments (the sending host splits them, the netstack forwards
    // each and host B reassembles).
    for size in [1472usize, 4000] {
        let out = net.host_a.ping(size, "198.51.100.2");
        assert!(out.contains(&format!("{} bytes from 198.51.100.2", size + 8)), "{out}");
        assert_eq!(reply_ttl(&out), 63, "{out}");
    }
    for size in [1452usize, 4000] {
        let out = net.host_a.ping(size, "2001:db8:2::2");
        assert!(out.contains(&format!("{} bytes from 2001:db8:2::2", size + 8)), "{out}");
        assert_eq!(reply_ttl(&out), 63, "{out}");
    }
}

#[test]
fn a_packet_with_one_hop_left_gets_time_exceeded_from_the_netstack() {
    if !have_root("a_packet_with_one_hop_left_gets_time_exceeded_from_the_netstack") {
        return;
    }
    let net = network(true);
    net.host_a.ping_until_answered("198.51.100.2");
    net.host_a.ping_until_answered("2001:db8:2::2");
    // A router must not forward a packet whose TTL or Hop Limit runs out on it, and tells the
    // sender so (RFC 1812 §5.3.1, RFC 4443 §3.3).
    for (dst, from) in [("198.51.100.2", "192.0.2.1"), ("2001:db8:2::2", "2001:db8:1::1")] {
        let out = net.host_a.exec("ping", &["-c", "1", "-W", "2", "-t", "1", dst]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{dst} answered a packet that had one hop: {stdout}");
        assert!(stdout.contains(&format!("From {from}")) && stdout.contains("exceeded"), "{dst}: {stdout}");
    }
}

#[test]
fn without_forwarding_the_netstack_answers_but_does_not_route() {
    if !have_root("without_forwarding_the_netstack_answers_but_does_not_route") {
        return;
    }
    let net = network(false);
    // Each host reaches the netstack itself, so the links and addresses work...
    net.host_a.ping_until_answered("192.0.2.1");
    net.host_a.ping_until_answered("2001:db8:1::1");
    net.host_b.ping_until_answered("198.51.100.1");
    net.host_b.ping_until_answered("2001:db8:2::1");
    // ...but nothing crosses from one to the other.
    for (from, to) in [
        (&net.host_a, "198.51.100.2"),
        (&net.host_a, "2001:db8:2::2"),
        (&net.host_b, "192.0.2.2"),
        (&net.host_b, "2001:db8:1::2"),
    ] {
        let out = from.exec("ping", &["-c", "2", "-W", "1", to]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success(),
            "{to} answered {} through a netstack that does not forward: {stdout}",
            from.name
        );
        assert!(!stdout.contains("bytes from"), "{stdout}");
    }
}
