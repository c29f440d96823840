//! The Inspect tree of a real loop: two hosts over the memory pair with socket servers, a
//! TCP connection and a UDP socket opened through FIDL; the tree is written, parsed back and
//! checked node by node, and held against `INSPECT.md`, which must document exactly the
//! counters the tree carries.

use std::collections::BTreeSet;
use std::os::fd::AsFd;
use std::time::Duration;

use netstack_fidl::fuchsia_posix_socket::{base_network_socket, stream_socket};
use serde_json::Value;

use super::*;
use crate::socket::tests::{accept, any, readable, stream, udp, v4, with_two_hosts, Clients};
use crate::socket::ServerConfig;

/// The tree of host A after B connected to A's listener and A opened a UDP socket; the
/// sockets stay open (held in the result) while the tree is written.
fn tree_of_a_with_open_sockets() -> Value {
    let (held, mut a, _b) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        let (listener, listener_fd) = stream(&a);
        listener.call::<base_network_socket::Bind>(any(8080)).expect("call").expect("bind");
        listener.call::<stream_socket::Listen>(16).expect("call").expect("listen");
        let (conn, conn_fd) = stream(&b);
        let _ = conn.call::<base_network_socket::Connect>(v4(1, 8080)).expect("call");
        assert!(readable(listener_fd.as_fd(), Duration::from_secs(5)), "the connection arrives");
        let (_, accepted) = accept(&listener);
        let (datagram, datagram_fd) = udp(&a);
        datagram.call::<base_network_socket::Bind>(any(5353)).expect("call").expect("bind");
        (listener, listener_fd, conn, conn_fd, accepted, datagram, datagram_fd)
    });
    let server = ServerSnapshot::of(a.socket_server().expect("server"));
    let (stack, ctx) = a.parts();
    let mut out = Vec::new();
    write_snapshot(&mut out, stack, ctx, Some(&server)).expect("write");
    drop(held);
    let mut again = Vec::new();
    write_snapshot(&mut again, stack, ctx, Some(&server)).expect("write");
    assert_eq!(out, again, "the same state gives the same bytes");
    serde_json::from_slice(&out).expect("the tree is JSON")
}

#[test]
fn the_tree_has_every_node_and_the_values_of_a_real_exchange() {
    let tree = tree_of_a_with_open_sockets();
    let stack = &tree["Stack"];
    let keys: Vec<&str> = stack.as_object().expect("Stack").keys().map(String::as_str).collect();
    for node in ["Devices", "Mib", "Neighbors", "Routes", "Sockets", "SocketServer", "Loop"] {
        assert!(keys.contains(&node), "{node} missing from {keys:?}");
    }

    let device = &stack["Devices"]["a"];
    assert_eq!(device["Kind"], "ethernet");
    assert_eq!(device["Mac"], "02:00:00:00:00:01");
    assert_eq!(device["Mtu"], 1500);
    assert!(device["Rx"]["Frames"].as_u64() >= Some(3), "{device}");
    assert!(device["Tx"]["Frames"].as_u64() >= Some(2), "{device}");
    assert_eq!(device["Rx"]["BudgetExhausted"], 0);
    assert_eq!(device["Tx"]["QueueDrops"], 0);

    let mib = &stack["Mib"];
    assert_eq!(mib["Tcp"]["PassiveOpens"], 1);
    assert_eq!(mib["Tcp"]["ActiveOpens"], 0, "A only accepted");
    assert_eq!(mib["Tcp"]["CurrEstab"], 1);
    assert!(mib["Ip"]["InReceives"].as_u64() >= Some(2));
    assert!(mib["Arp"]["InRequests"].as_u64() >= Some(1), "B resolved A");

    assert_eq!(stack["Neighbors"]["a"]["192.0.2.2"]["Mac"], "02:00:00:00:00:02");
    let routes = stack["Routes"].as_object().expect("Routes");
    assert!(routes.values().any(|r| r["Destination"] == "192.0.2.0/24" && r["Interface"] == "a"));

    let sockets = stack["Sockets"].as_object().expect("Sockets");
    let pid = u64::from(std::process::id());
    let listener = sockets.values().find(|s| s["State"] == "LISTEN").expect("listener");
    assert_eq!(listener["LocalAddress"], "0.0.0.0:8080");
    assert_eq!(listener["RemoteAddress"], "*");
    assert_eq!((&listener["RecvQ"], &listener["SendQ"]), (&Value::from(0), &Value::from(16)));
    assert_eq!(listener["Pid"], pid, "SO_PEERCRED of the Provider connection");
    let conn = sockets.values().find(|s| s["State"] == "ESTABLISHED").expect("connection");
    assert_eq!(conn["Protocol"], "tcp");
    assert_eq!(conn["Family"], "ipv4");
    assert_eq!(conn["LocalAddress"], "192.0.2.1:8080");
    assert!(conn["RemoteAddress"].as_str().is_some_and(|r| r.starts_with("192.0.2.2:")));
    assert_eq!(conn["Pid"], pid, "an accepted connection belongs to its listener's client");
    let info = &conn["TcpInfo"];
    assert_eq!(info["state"], 1, "TCP_ESTABLISHED");
    for field in ["rtt", "rttvar", "rto", "snd_mss", "rcv_mss", "snd_cwnd", "snd_ssthresh", "total_retrans"] {
        assert!(info[field].is_u64(), "{field} in {info}");
    }
    assert!(info["snd_mss"].as_u64().is_some_and(|mss| (1400..=1460).contains(&mss)), "{info}");
    let udp = sockets.values().find(|s| s["Protocol"] == "udp").expect("UDP socket");
    assert_eq!(udp["LocalAddress"], "0.0.0.0:5353");
    assert!(udp.get("TcpInfo").is_none() && udp.get("State").is_none());

    assert_eq!(stack["SocketServer"]["StreamSockets"], 2);
    assert_eq!(stack["SocketServer"]["UdpSockets"], 1);
    assert!(stack["Loop"]["Turns"].as_u64() > Some(0));
}

/// The `Mib` counters `INSPECT.md` documents: rows of the tables under `### Mib/<Group>`
/// headings, the name in backticks in the first cell.
fn documented_mib() -> BTreeSet<String> {
    let doc = include_str!("../../../INSPECT.md");
    let mut group = None;
    let mut names = BTreeSet::new();
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            group = heading.strip_prefix("`Mib/").and_then(|g| g.strip_suffix('`')).map(str::to_owned);
        } else if line.starts_with("## ") {
            group = None;
        } else if let (Some(group), Some(row)) = (&group, line.strip_prefix("| `")) {
            if let Some((name, _)) = row.split_once('`') {
                names.insert(format!("{group}/{name}"));
            }
        }
    }
    names
}

#[test]
fn inspect_md_documents_exactly_the_mib_the_tree_carries() {
    let tree = tree_of_a_with_open_sockets();
    let mut in_tree = BTreeSet::new();
    for (group, counters) in tree["Stack"]["Mib"].as_object().expect("Mib") {
        for name in counters.as_object().expect("group").keys() {
            in_tree.insert(format!("{group}/{name}"));
        }
    }
    let documented = documented_mib();
    let undocumented: Vec<_> = in_tree.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&in_tree).collect();
    assert!(undocumented.is_empty(), "in the tree, not in INSPECT.md: {undocumented:?}");
    assert!(stale.is_empty(), "in INSPECT.md, not in the tree: {stale:?}");
}
