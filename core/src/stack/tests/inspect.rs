//! The diagnostics view of a whole stack over the fake network: counters move under their
//! Linux nstat names when traffic flows, and socket enumeration sees every socket with its
//! state, addresses, queues and TCP_INFO.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use super::tcp::{accept4, connect4, listen4, pattern};
use super::*;
use crate::transport::inspect::{AnySocketId, SocketProtocol, SocketSummary};
use crate::transport::tcp::{AnyTcpSocketId, State};

fn mib(stack: &Stack<Vec<u8>>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    stack.visit_mib(&mut |group, name, value| {
        out.insert(format!("{group}{name}"), value);
    });
    out
}

fn sockets(net: &FakeNetwork<Host>, host: NodeIndex) -> Vec<SocketSummary> {
    net.node(host).stack.sockets().collect()
}

#[test]
fn a_tcp_connection_moves_the_nstat_counters_it_should() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let before_a = mib(&net.node(a).stack);
    let listener = listen4(&mut net, b, 80);
    let client = connect4(&mut net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_secs(1));
    let server = accept4(&mut net, b, listener).unwrap();
    let data = pattern(3000);
    call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.send(tctx, client, &data))).unwrap();
    net.run_for(Duration::from_secs(1));

    let after_a = mib(&net.node(a).stack);
    let after_b = mib(&net.node(b).stack);
    let delta = |m: &BTreeMap<String, u64>, name: &str| m[name] - before_a.get(name).copied().unwrap_or(0);
    assert_eq!(delta(&after_a, "TcpActiveOpens"), 1);
    assert_eq!(after_b["TcpPassiveOpens"], 1);
    assert_eq!(after_a["TcpCurrEstab"], 1);
    assert_eq!(after_b["TcpCurrEstab"], 1);
    assert!(after_a["TcpOutSegs"] >= 4, "SYN, ACK and three data segments at least");
    assert!(after_b["TcpInSegs"] >= 4);
    assert_eq!(after_a["TcpRetransSegs"], 0);
    assert!(after_a["IpInReceives"] >= 3 && after_b["IpInReceives"] >= 4);
    assert!(after_a["ArpOutRequests"] >= 1, "a resolved b");
    assert!(after_b["ArpInRequests"] >= 1);
    assert_eq!(after_a["UdpInDatagrams"], 0);

    // Enumeration: b has the listener and the accepted connection, a the connecting one.
    let on_b = sockets(&net, b);
    assert_eq!(on_b.len(), 2);
    let listening = on_b.iter().find(|s| s.state == Some(State::Listen)).unwrap();
    assert_eq!((listening.local_addr, listening.local_port, listening.remote), (None, 80, None));
    assert_eq!((listening.recv_queue, listening.send_queue), (0, 16), "accept queue, backlog");
    assert_eq!(listening.id, AnySocketId::Tcp(AnyTcpSocketId::V4(listener)));
    let accepted = on_b.iter().find(|s| s.id == AnySocketId::Tcp(AnyTcpSocketId::V4(server))).unwrap();
    assert_eq!(accepted.state, Some(State::Established));
    assert_eq!(accepted.local_addr, Some(IpAddr::V4(v4("192.0.2.2"))));
    assert_eq!(accepted.remote.map(|r| r.0), Some(IpAddr::V4(v4("192.0.2.1"))));
    assert_eq!(accepted.recv_queue, 3000, "nothing read yet");
    let info = accepted.tcp_info.unwrap();
    assert_eq!(info, net.node(b).stack.tcp().info(server).unwrap(), "the getsockopt TCP_INFO");
    assert_eq!(info.bytes_received, 3000);

    let on_a = sockets(&net, a);
    assert_eq!(on_a.len(), 1);
    assert_eq!(on_a[0].protocol, SocketProtocol::Tcp);
    assert_eq!(on_a[0].remote, Some((IpAddr::V4(v4("192.0.2.2")), 80)));
    assert_eq!(on_a[0].send_queue, 0, "all acknowledged");
    assert_eq!(format!("{}", on_a[0].key()), "tcp4:0");

    // A closed connection lingers, orphaned, until its FIN handshake and TIME-WAIT end.
    call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, client))).unwrap();
    net.run_for(Duration::from_millis(100));
    let on_a = sockets(&net, a);
    assert!(on_a.len() == 1 && on_a[0].orphaned, "{on_a:?}");
}

#[test]
fn udp_ping_and_raw_sockets_are_enumerated_with_their_counters() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let server = call(&mut net, b, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(NonZeroU16::new(9000).unwrap())).unwrap();
            s
        })
    });
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            let dst = SpecifiedAddr::new(v4("192.0.2.2")).unwrap();
            udp.send_to(uctx, s, Some((dst, 9000)), &b"to be queued"[..]).unwrap();
        })
    });
    call(&mut net, b, |stack, ctx| {
        stack.ping_call(ctx, |ping, _| ping.create().unwrap());
        stack.raw_call(ctx, |raw, _| raw.create(IpProto::ICMP).unwrap());
    });
    net.run_for(Duration::from_secs(1));
    let on_b = sockets(&net, b);
    let protocols: Vec<_> = on_b.iter().map(|s| s.protocol).collect();
    assert_eq!(protocols, [SocketProtocol::Udp, SocketProtocol::Icmp, SocketProtocol::Raw]);
    let udp = &on_b[0];
    assert_eq!(udp.id, AnySocketId::Udp(crate::transport::udp::AnyUdpSocketId::V4(server)));
    assert_eq!(udp.local_port, 9000);
    assert!(udp.recv_queue > 0, "the datagram waits in the queue");
    assert_eq!(on_b[2].local_port, 1, "a raw socket shows its protocol as its port");
    let counters = mib(&net.node(b).stack);
    assert_eq!(counters["UdpInDatagrams"], 0, "counted when read");
    assert_eq!(mib(&net.node(a).stack)["UdpOutDatagrams"], 1);
}
