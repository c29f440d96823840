//! Sockets tied to a device: SO_BINDTODEVICE restricting IPv4 routes (Linux's `flowi4_oif`)
//! for UDP, TCP, ping and raw sockets alike, and TCP connections with link-local peers tied
//! to the device that reaches them (RFC 4007 §6).

use super::tcp::port;
use super::*;
use crate::transport::tcp::TcpSocketId;

/// Host A with two devices, dev 1 on a segment with B (192.0.2.0/24) and dev 2 on a segment
/// with C (198.51.100.0/24), and a default route through each of B and C, B's preferred.
/// Neither B nor C forwards: what reaches them for 203.0.113.5 counts as not for them.
fn two_way_host() -> (FakeNetwork<Host>, [NodeIndex; 3]) {
    let mut net = FakeNetwork::new(17);
    let left = net.add_segment(Impairments::default());
    let right = net.add_segment(Impairments::default());
    let host = |net: &mut FakeNetwork<Host>, n: u8, addrs: &[&str]| {
        let stack = Stack::new(&mut FakeRng::new(u64::from(n)));
        let node = net.add_node(Host { stack, events: Vec::new() }, u64::from(n));
        call(net, node, |stack, ctx| {
            for (i, a) in addrs.iter().enumerate() {
                let dev = stack.add_ethernet_device(ctx, mac(n * 10 + i as u8), EthernetConfig::default());
                stack.add_ipv4_address(ctx, dev, AddrSubnet::new(v4(a), 24).unwrap()).unwrap();
            }
        });
        node
    };
    let a = host(&mut net, 1, &["192.0.2.1", "198.51.100.1"]);
    let b = host(&mut net, 2, &["192.0.2.2"]);
    let c = host(&mut net, 3, &["198.51.100.2"]);
    let (dev1, dev2) = (DeviceId::new(1), DeviceId::new(2));
    call(&mut net, a, |stack, _| {
        stack.add_ipv4_route(default_route(v4("192.0.2.2"), dev1).unwrap()).unwrap();
        let via_c = Route { metric: 10, ..default_route(v4("198.51.100.2"), dev2).unwrap() };
        stack.add_ipv4_route(via_c).unwrap();
    });
    net.attach(left, a, dev1);
    net.attach(left, b, DEV);
    net.attach(right, a, dev2);
    net.attach(right, c, DEV);
    (net, [a, b, c])
}

/// Packets `host` received for someone else.
fn strays(net: &FakeNetwork<Host>, host: NodeIndex) -> u64 {
    net.node(host).stack.counters().ipv4.not_for_us
}

fn far() -> SpecifiedAddr<Ipv4Addr> {
    SpecifiedAddr::new(v4("203.0.113.5")).unwrap()
}

#[test]
fn so_bindtodevice_sends_udp_ping_and_raw_over_ipv4_out_of_the_bound_device() {
    let (mut net, [a, b, c]) = two_way_host();
    let dev2 = Some(DeviceId::new(2));
    // Unbound, the preferred default route through B.
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0)?;
            udp.send_to(uctx, s, Some((far(), 9)), &b"x"[..])
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!((strays(&net, b), strays(&net, c)), (1, 0));
    // Bound to device 2: through C, whose route only that device has.
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0)?;
            udp.set_device(s, dev2)?;
            udp.send_to(uctx, s, Some((far(), 9)), &b"x"[..])
        })
    })
    .unwrap();
    call(&mut net, a, |stack, ctx| {
        stack.ping_call(ctx, |ping, pctx| {
            let s = ping.create()?;
            ping.set_device(s, dev2)?;
            ping.send_to(pctx, s, Some(far()), &[8, 0, 0, 0, 0, 0, 0, 1])
        })
    })
    .unwrap();
    call(&mut net, a, |stack, ctx| {
        stack.raw_call(ctx, |raw, rctx| {
            let s = raw.create(IpProto::ICMP)?;
            raw.set_device(s, dev2)?;
            raw.send_to(rctx, s, Some(far()), &[8, 0, 0xf7, 0xfe, 0, 0, 0, 1])
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!((strays(&net, b), strays(&net, c)), (1, 3));
    // A device with no route to the destination: ENETUNREACH, as Linux.
    let unreachable = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0)?;
            udp.set_device(s, Some(DeviceId::new(9)))?;
            udp.send_to(uctx, s, Some((far(), 9)), &b"x"[..])
        })
    });
    assert_eq!(unreachable, Err(SocketError::NetworkUnreachable));
}

#[test]
fn so_bindtodevice_sends_tcp_over_ipv4_out_of_the_bound_device() {
    let (mut net, [a, b, c]) = two_way_host();
    let connect = |net: &mut FakeNetwork<Host>, device: Option<DeviceId>| -> TcpSocketId<Ipv4> {
        call(net, a, |stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| {
                let s = tcp.create::<Ipv4>(0).unwrap();
                tcp.set_device(s, device).unwrap();
                tcp.connect(tctx, s, far(), port(80)).map(|()| s)
            })
        })
        .unwrap()
    };
    let bound = connect(&mut net, Some(DeviceId::new(2)));
    net.run_for(Duration::from_millis(100));
    assert_eq!((strays(&net, b), strays(&net, c)), (0, 1), "the SYN left through device 2");
    assert_eq!(net.node(a).stack.tcp().local_addr(bound).unwrap().addr, v4("198.51.100.1"));
    connect(&mut net, None);
    net.run_for(Duration::from_millis(100));
    assert_eq!((strays(&net, b), strays(&net, c)), (1, 1));
    // Retransmissions keep to the device too.
    net.run_for(Duration::from_millis(1500));
    assert_eq!((strays(&net, b), strays(&net, c)), (2, 2));
}

#[test]
fn rfc4007_6_a_link_local_peer_ties_the_accepted_connection_to_its_device() {
    use super::ipv6::{lan6, v6};
    use super::tcp::{pattern, transfer};
    let (mut net, a, b) = lan6();
    let ll_b = SpecifiedAddr::new(v6("fe80::ff:fe00:2")).unwrap();
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.bind(tctx, s, None, Some(port(80))).unwrap();
            tcp.listen(tctx, s, 4).map(|()| s)
        })
    })
    .unwrap();
    // A link-local destination names no device by itself: EINVAL without a scope, as Linux.
    let unscoped = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.connect(tctx, s, ll_b, port(80))
        })
    });
    assert_eq!(unscoped, Err(SocketError::InvalidArgument));
    let client = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.connect_scoped(tctx, s, ll_b, port(80), Some(DEV)).map(|()| s)
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    // B's SYN-ACK found its way back only through the device A's SYN came in by.
    let (server, peer) =
        call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.accept(tctx, listener))).unwrap();
    assert_eq!(peer.addr, v6("fe80::ff:fe00:1"));
    let tcp = net.node(b).stack.tcp();
    assert_eq!((tcp.scope(server), tcp.scope(listener)), (Ok(Some(DEV)), Ok(None)));
    assert_eq!(tcp.options(server).unwrap().2, Some(DEV));
    assert_eq!(net.node(a).stack.tcp().scope(client), Ok(Some(DEV)));
    let data = pattern(50_000);
    assert_eq!(transfer(&mut net, (b, server), (a, client), &data, Duration::from_secs(5)), data);
    assert_eq!(transfer(&mut net, (a, client), (b, server), &data, Duration::from_secs(5)), data);
    // A socket bound to another device cannot be scoped elsewhere.
    let clash = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.set_device(s, Some(DeviceId::new(5))).unwrap();
            tcp.connect_scoped(tctx, s, ll_b, port(80), Some(DEV))
        })
    });
    assert_eq!(clash, Err(SocketError::InvalidArgument));
}
