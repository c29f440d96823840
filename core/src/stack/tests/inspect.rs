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
use crate::wire::icmp::Icmpv6PseudoHeader;
use crate::wire::ipv6::Ipv6Builder;

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

/// The received-ICMP counters (`In*` of Icmp, IcmpMsg and Icmp6) under their nstat names.
fn icmp_in(stack: &Stack<Vec<u8>>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    stack.visit_mib(&mut |group, name, value| {
        if matches!(group, "Icmp" | "IcmpMsg" | "Icmp6") && name.starts_with("In") {
            out.insert(format!("{group}{name}"), value);
        }
    });
    out
}

/// The received-ICMP counters that moved since `before`, by how much.
fn moved(before: &BTreeMap<String, u64>, stack: &Stack<Vec<u8>>) -> BTreeMap<String, u64> {
    icmp_in(stack)
        .into_iter()
        .map(|(name, value)| {
            let delta = value - before.get(&name).copied().unwrap_or(0);
            (name, delta)
        })
        .filter(|&(_, delta)| delta != 0)
        .collect()
}

fn counts(expected: &[(&str, u64)]) -> BTreeMap<String, u64> {
    expected.iter().map(|&(name, n)| (String::from(name), n)).collect()
}

#[test]
fn received_icmp_is_counted_by_type_under_linux_names() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    net.run_for(Duration::from_secs(5));
    let (before_a, before_b) = (icmp_in(&net.node(a).stack), icmp_in(&net.node(b).stack));
    for seq in 1..=3 {
        call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 7, seq, b"ping"))
            .unwrap();
        net.run_for(Duration::from_secs(1));
    }
    // A UDP datagram to a closed port of B comes back as a Port Unreachable.
    let udp = UdpBuilder::new(v4("192.0.2.1"), v4("192.0.2.2"), 40000, NonZeroU16::new(9).unwrap());
    call(&mut net, a, |stack, ctx| {
        let datagram = (&b"closed"[..]).encapsulate(udp);
        stack.send_ipv4(ctx, Some(v4("192.0.2.1")), v4("192.0.2.2"), IpProto::UDP, datagram)
    })
    .unwrap();
    net.run_for(Duration::from_secs(1));

    assert_eq!(
        moved(&before_b, &net.node(b).stack),
        counts(&[("IcmpInMsgs", 3), ("IcmpInEchos", 3), ("IcmpMsgInType8", 3)])
    );
    assert_eq!(
        moved(&before_a, &net.node(a).stack),
        counts(&[
            ("IcmpInMsgs", 4),
            ("IcmpInEchoReps", 3),
            ("IcmpMsgInType0", 3),
            ("IcmpInDestUnreachs", 1),
            ("IcmpMsgInType3", 1),
        ])
    );
}

#[test]
fn received_icmpv6_is_counted_by_type_ndp_included() {
    let (mut net, a, b) = super::ipv6::lan6();
    let (before_a, before_b) = (icmp_in(&net.node(a).stack), icmp_in(&net.node(b).stack));
    let request = EchoRequest { id: 9, seq: 1 };
    // To B's link-local address: A solicits from its own, so B answers from the entry
    // the solicitation left (RFC 4861 §7.2.3) without resolving A in turn.
    let dst = super::ipv6::v6("fe80::ff:fe00:2");
    call(&mut net, a, |stack, ctx| stack.send_echo_request6(ctx, dst, Some(DEV), request, b"ping")).unwrap();
    net.run_for(Duration::from_secs(1));

    // A solicited B (RFC 4861 §7.2.2) and B advertised itself; then the echo exchange.
    assert_eq!(
        moved(&before_b, &net.node(b).stack),
        counts(&[
            ("Icmp6InMsgs", 2),
            ("Icmp6InNeighborSolicits", 1),
            ("Icmp6InType135", 1),
            ("Icmp6InEchos", 1),
            ("Icmp6InType128", 1),
        ])
    );
    assert_eq!(
        moved(&before_a, &net.node(a).stack),
        counts(&[
            ("Icmp6InMsgs", 2),
            ("Icmp6InNeighborAdvertisements", 1),
            ("Icmp6InType136", 1),
            ("Icmp6InEchoReplies", 1),
            ("Icmp6InType129", 1),
        ])
    );
}

/// An Ethernet frame from host 2 of `lan` to host 1 carrying `icmp`, an ICMP message as is.
fn icmp_frame_to_a(icmp: &[u8]) -> Vec<u8> {
    icmp.encapsulate(Ipv4Builder::new(v4("192.0.2.2"), v4("192.0.2.1"), 64, IpProto::ICMP))
        .encapsulate(EthernetBuilder::new(*mac(2), *mac(1), EtherType::IPV4))
        .serialize_vec()
        .unwrap()
        .into_inner()
}

#[test]
fn a_bad_checksum_counts_csum_errors_and_errors_not_the_type() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    let before = icmp_in(&net.node(a).stack);
    let mut echo = (&b"ping"[..])
        .encapsulate(IcmpBuilder::<Ipv4, _>::new((), EchoRequest { id: 1, seq: 1 }))
        .serialize_vec()
        .unwrap()
        .into_inner();
    *echo.last_mut().unwrap() ^= 0xff;
    let frame = icmp_frame_to_a(&echo);
    call(&mut net, a, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(frame)));
    net.run_for(Duration::from_secs(1));
    assert_eq!(
        moved(&before, &net.node(a).stack),
        counts(&[("IcmpInMsgs", 1), ("IcmpInErrors", 1), ("IcmpInCsumErrors", 1)])
    );
    assert_eq!(net.node(a).stack.counters().icmp_out_echo_reps, 0, "not answered");

    // The same over IPv6, to B's address from A's.
    let (mut net, a, b) = super::ipv6::lan6();
    let (src, dst) = (super::ipv6::v6("2001:db8::1"), super::ipv6::v6("2001:db8::2"));
    let before = icmp_in(&net.node(b).stack);
    let pseudo = Icmpv6PseudoHeader { src, dst };
    let mut frame = (&b"ping"[..])
        .encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, EchoRequest { id: 1, seq: 1 }))
        .encapsulate(Ipv6Builder::new(src, dst, 64, IpProto::ICMPV6))
        .encapsulate(EthernetBuilder::new(*mac(1), *mac(2), EtherType::IPV6))
        .serialize_vec()
        .unwrap()
        .into_inner();
    *frame.last_mut().unwrap() ^= 0xff;
    call(&mut net, b, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(frame)));
    net.run_for(Duration::from_secs(1));
    assert_eq!(
        moved(&before, &net.node(b).stack),
        counts(&[("Icmp6InMsgs", 1), ("Icmp6InErrors", 1), ("Icmp6InCsumErrors", 1)])
    );
    assert_eq!(net.node(a).stack.counters().ipv6.icmp_out_echo_replies, 0);
}

#[test]
fn a_type_linux_has_no_name_for_is_reported_once_seen() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    assert!(!icmp_in(&net.node(a).stack).contains_key("IcmpMsgInType42"));
    assert_eq!(icmp_in(&net.node(a).stack)["IcmpMsgInType13"], 0, "named types are always there");
    // RFC 8335's Extended Echo Request (type 42), which this stack does not answer.
    let mut message = [42, 0, 0, 0, 0, 1, 0, 0];
    let sum = crate::wire::checksum::checksum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    let frame = icmp_frame_to_a(&message);
    call(&mut net, a, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(frame)));
    let after = icmp_in(&net.node(a).stack);
    assert_eq!((after["IcmpInMsgs"], after["IcmpInErrors"], after["IcmpMsgInType42"]), (1, 0, 1));
    assert_eq!(net.node(a).stack.counters().icmp_in_types.get(42), 1);
}
