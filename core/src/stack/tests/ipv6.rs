//! Whole-stack IPv6 scenarios over the fake network: NDP, DAD, SLAAC from a router's
//! advertisement, forwarding, fragmentation, path MTU and ICMPv6 errors.

use super::*;
use crate::device::nud::NeighborState;
use crate::ip::slaac::{AddressKind, RemovalReason};
use crate::wire::icmp::ndp::{
    LinkLayerAddress, NdpOption, NdpOptions, PrefixInformation, RouterAdvertisement,
};
use crate::wire::icmp::Icmpv6PseudoHeader;
use crate::wire::ipv6::Ipv6Builder;

pub(super) fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Enables IPv6 on every host's device and lets DAD finish on the link-local addresses.
fn enable_ipv6(net: &mut FakeNetwork<Host>, hosts: &[NodeIndex]) {
    for &host in hosts {
        call(net, host, |stack, ctx| stack.enable_ipv6(ctx, DEV)).unwrap();
    }
    net.run_for(Duration::from_secs(3));
}

/// Assigns `addr` (with its prefix length) on `host`'s first device and lets DAD pass.
fn assign(net: &mut FakeNetwork<Host>, host: NodeIndex, dev: DeviceId, addr: &str) {
    let (addr, prefix) = addr.split_once('/').unwrap();
    let addr = AddrSubnet::new(v6(addr), prefix.parse().unwrap()).unwrap();
    call(net, host, |stack, ctx| stack.add_ipv6_address(ctx, dev, addr)).unwrap();
}

fn state_of(host: &Host, addr: Ipv6Addr) -> Option<AddressState> {
    host.stack.ipv6_addresses().iter().find(|c| c.address() == addr).map(|c| c.state)
}

fn link_local(host: &Host, dev: DeviceId) -> Ipv6Addr {
    host.stack
        .ipv6_addresses()
        .iter()
        .find(|c| c.device == dev && c.address().is_unicast_link_local())
        .map(|c| c.address())
        .unwrap()
}

fn echo_replies6(host: &Host) -> Vec<(Ipv6Addr, u16, u16, usize)> {
    host.events
        .iter()
        .filter_map(|(_, e)| match *e {
            StackEvent::EchoReply { src: IpAddr::V6(src), id, seq, len } => Some((src, id, seq, len)),
            _ => None,
        })
        .collect()
}

fn ping6(net: &mut FakeNetwork<Host>, from: NodeIndex, dst: Ipv6Addr, seq: u16, len: usize) {
    let request = EchoRequest { id: 0x66, seq };
    call(net, from, |stack, ctx| stack.send_echo_request6(ctx, dst, Some(DEV), request, &vec![0xcd; len]))
        .unwrap();
}

/// Two hosts with IPv6 on, 2001:db8::1/64 and 2001:db8::2/64.
pub(super) fn lan6() -> (FakeNetwork<Host>, NodeIndex, NodeIndex) {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    enable_ipv6(&mut net, &hosts);
    assign(&mut net, hosts[0], DEV, "2001:db8::1/64");
    assign(&mut net, hosts[1], DEV, "2001:db8::2/64");
    net.run_for(Duration::from_secs(2));
    (net, hosts[0], hosts[1])
}

#[test]
fn rfc4861_7_2_two_hosts_ping_over_ipv6_after_neighbor_discovery() {
    let (mut net, a, b) = lan6();
    // RFC 4862 §5.3, §5.4: link-local addresses formed from the MAC passed DAD, as did the
    // manual ones.
    let ll_b = link_local(net.node(b), DEV);
    assert_eq!(ll_b, v6("fe80::ff:fe00:2"));
    assert_eq!(state_of(net.node(b), ll_b), Some(AddressState::Preferred));
    assert_eq!(state_of(net.node(b), v6("2001:db8::2")), Some(AddressState::Preferred));
    net.start_capture();
    for (seq, dst) in [(1, v6("2001:db8::2")), (2, ll_b), (3, v6("2001:db8::2"))] {
        ping6(&mut net, a, dst, seq, 56);
        net.run_for(Duration::from_secs(1));
    }
    let replies = echo_replies6(net.node(a));
    assert_eq!(
        replies,
        [(v6("2001:db8::2"), 0x66, 1, 56), (ll_b, 0x66, 2, 56), (v6("2001:db8::2"), 0x66, 3, 56)]
    );
    assert_eq!(net.node(b).stack.counters().ipv6.icmp_out_echo_replies, 3);
    // A resolved B with a multicast solicitation answered by a solicited advertisement
    // (RFC 4861 §7.2.2, §7.2.4): B's entry is REACHABLE; B learned A from the solicitation.
    let nd_a = net.node(a).stack.ndp(DEV).unwrap();
    assert_eq!(nd_a.get(&v6("2001:db8::2")).map(|n| n.state), Some(NeighborState::Reachable));
    assert!(net.node(b).stack.ndp(DEV).unwrap().get(&v6("2001:db8::1")).is_some());
    // Every frame on the wire parses and re-serializes byte for byte.
    let capture = net.capture().unwrap();
    let wire: Vec<&[u8]> = frames(&capture).collect();
    assert!(wire.len() >= 8);
    for frame in wire {
        assert_eq!(reserialize_frame(frame).unwrap().bytes, frame);
    }
}

#[test]
fn rfc4862_5_4_duplicate_address_is_detected_and_removed() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    enable_ipv6(&mut net, &hosts);
    assign(&mut net, a, DEV, "2001:db8::5/64");
    net.run_for(Duration::from_secs(2));
    assert_eq!(state_of(net.node(a), v6("2001:db8::5")), Some(AddressState::Preferred));
    // B tries the same address: A answers B's probe from `::` with an advertisement to
    // all-nodes (RFC 4861 §7.2.4), which makes it a duplicate for B (RFC 4862 §5.4.4).
    assign(&mut net, b, DEV, "2001:db8::5/64");
    assert_eq!(state_of(net.node(b), v6("2001:db8::5")), Some(AddressState::Tentative));
    net.run_for(Duration::from_secs(2));
    assert_eq!(state_of(net.node(b), v6("2001:db8::5")), None);
    assert!(net.node(b).events.iter().any(|(_, e)| matches!(
        e,
        StackEvent::Ipv6Address(AddressEvent::Removed { reason: RemovalReason::Duplicate, .. })
    )));
    assert_eq!(state_of(net.node(a), v6("2001:db8::5")), Some(AddressState::Preferred));
    // A tentative address received nothing meanwhile, and B sends nothing from it.
    assert!(net.node(b).stack.ipv6_addresses().iter().all(|c| c.address() != v6("2001:db8::5")));
}

/// Sends, from `router`'s stack and link-local address, a Router Advertisement for prefix
/// 2001:db8:1::/64 (on-link, autonomous) with a 1800 s router lifetime, to all-nodes.
fn advertise(net: &mut FakeNetwork<Host>, router: NodeIndex, router_mac: Mac) {
    let src = link_local(net.node(router), DEV);
    let pio = PrefixInformation {
        prefix_length: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: 86_400,
        preferred_lifetime: 14_400,
        prefix: v6("2001:db8:1::"),
    };
    let options = [
        NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(router_mac)),
        NdpOption::Mtu(1400),
        NdpOption::PrefixInformation(pio),
    ];
    let ra = RouterAdvertisement {
        current_hop_limit: 63,
        managed: false,
        other_config: false,
        router_lifetime: 1800,
        reachable_time: 0,
        retransmit_timer: 0,
        options: NdpOptions::new(&options),
    };
    let dst = Ipv6Addr::ALL_NODES;
    let frame = EmptyBody
        .encapsulate(IcmpBuilder::<Ipv6, _>::new(Icmpv6PseudoHeader { src, dst }, ra))
        .encapsulate(Ipv6Builder::new(src, dst, 255, IpProto::ICMPV6))
        .encapsulate(EthernetBuilder::new(router_mac, Mac::from_ipv6_multicast(dst), EtherType::IPV6))
        .serialize_vec()
        .unwrap();
    net.with_node(router, |_, node| node.send_frame(DEV, frame.body()));
}

#[test]
fn rfc4862_5_5_3_slaac_address_from_a_third_stacks_router_advertisement() {
    let (mut net, hosts) = lan(Impairments::default(), 3);
    let (a, b, router) = (hosts[0], hosts[1], hosts[2]);
    enable_ipv6(&mut net, &hosts);
    assign(&mut net, router, DEV, "2001:db8:1::1/64");
    assign(&mut net, router, DEV, "2001:db8:2::1/64");
    net.run_for(Duration::from_secs(2));
    // The router stack plays radvd: it advertises the prefix, itself as default router, an
    // MTU and a hop limit.
    advertise(&mut net, router, *mac(3));
    net.run_for(Duration::from_secs(3));
    for (n, host) in [(1, a), (2, b)] {
        let node = net.node(host);
        let slaac: Vec<_> =
            node.stack.slaac().addresses(DEV).filter(|i| i.kind == AddressKind::Autoconfigured).collect();
        assert_eq!(slaac.len(), 1, "one address from the prefix");
        let addr = slaac[0].addr.addr().into_addr();
        assert!(Subnet::new(v6("2001:db8:1::"), 64).unwrap().contains(&addr));
        // Modified EUI-64 from the MAC (RFC 4291 Appendix A).
        assert_eq!(addr, v6(&alloc::format!("2001:db8:1::ff:fe00:{n}")));
        assert_eq!(state_of(node, addr), Some(AddressState::Preferred));
        // RFC 4861 §6.3.4: a default route via the router, the on-link prefix, the MTU and
        // the hop limit were applied.
        let routes = node.stack.routes6();
        assert!(routes.iter().any(|r| r.subnet.prefix_len() == 0
            && r.gateway.map(|g| *g) == Some(link_local(net.node(router), DEV))));
        assert!(routes
            .iter()
            .any(|r| r.subnet == Subnet::new(v6("2001:db8:1::"), 64).unwrap() && r.gateway.is_none()));
        assert_eq!(node.stack.ipv6_link(DEV), Some((1400, 63)));
    }
    // A reaches an off-link address of the router through the default route, from its
    // SLAAC address.
    ping6(&mut net, a, v6("2001:db8:2::1"), 1, 32);
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies6(net.node(a)), [(v6("2001:db8:2::1"), 0x66, 1, 32)]);
}

/// A (2001:db8:1::2) — R (2001:db8:1::1 | 2001:db8:2::1) — B (2001:db8:2::2), each host with
/// a default route via R, R forwarding IPv6 on both devices; the second segment carries `mtu`.
fn routed6(mtu: u32) -> (FakeNetwork<Host>, NodeIndex, NodeIndex, NodeIndex) {
    let mut net = FakeNetwork::new(9);
    let left = net.add_segment(Impairments::default());
    let right = net.add_segment(Impairments { max_frame_len: 14 + mtu as usize, ..Impairments::default() });
    let host = |net: &mut FakeNetwork<Host>, n: u8, mtus: &[u32]| {
        let stack = Stack::new(&mut FakeRng::new(u64::from(n)));
        let node = net.add_node(Host { stack, events: Vec::new() }, u64::from(n));
        call(net, node, |stack, ctx| {
            for (i, mtu) in mtus.iter().enumerate() {
                let config = EthernetConfig { mtu: *mtu, ..EthernetConfig::default() };
                let dev = stack.add_ethernet_device(ctx, mac(n * 10 + i as u8), config);
                stack.enable_ipv6(ctx, dev).unwrap();
            }
        });
        node
    };
    let a = host(&mut net, 1, &[1500]);
    let r = host(&mut net, 2, &[1500, mtu]);
    let b = host(&mut net, 3, &[mtu]);
    let (r1, r2) = (DeviceId::new(1), DeviceId::new(2));
    assign(&mut net, a, DEV, "2001:db8:1::2/64");
    assign(&mut net, r, r1, "2001:db8:1::1/64");
    assign(&mut net, r, r2, "2001:db8:2::1/64");
    assign(&mut net, b, DEV, "2001:db8:2::2/64");
    for (host, gateway) in [(a, "2001:db8:1::1"), (b, "2001:db8:2::1")] {
        let route = Route {
            subnet: Subnet::new(Ipv6Addr::UNSPECIFIED, 0).unwrap(),
            device: DEV,
            gateway: SpecifiedAddr::new(v6(gateway)),
            metric: 1024,
            source: RouteSource::Static,
        };
        call(&mut net, host, |stack, _| stack.add_ipv6_route(route)).unwrap();
    }
    for dev in [r1, r2] {
        call(&mut net, r, |stack, _| stack.set_ipv6_forwarding(dev, true)).unwrap();
    }
    net.attach(left, a, DEV);
    net.attach(left, r, r1);
    net.attach(right, r, r2);
    net.attach(right, b, DEV);
    net.run_for(Duration::from_secs(3));
    (net, a, r, b)
}

#[test]
fn rfc8200_3_hosts_reach_each_other_through_an_ipv6_router() {
    let (mut net, a, r, b) = routed6(1500);
    for seq in 1..=3 {
        ping6(&mut net, a, v6("2001:db8:2::2"), seq, 100);
        net.run_for(Duration::from_secs(1));
    }
    assert_eq!(echo_replies6(net.node(a)).len(), 3);
    assert_eq!(net.node(r).stack.counters().ipv6.forw_datagrams, 6, "three requests and three replies");
    assert_eq!(net.node(b).stack.counters().ipv6.icmp_out_echo_replies, 3);
}

#[test]
fn rfc4443_3_3_hop_limit_expiry_at_the_router_sends_time_exceeded() {
    let (mut net, a, r, _) = routed6(1500);
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv6>(0).unwrap();
            udp.set_hop_limit(s, Some(1)).unwrap();
            let dst = SpecifiedAddr::new(v6("2001:db8:2::2")).unwrap();
            udp.send_to(uctx, s, Some((dst, 33434)), &b"traceroute6"[..]).unwrap();
        })
    });
    net.run_for(Duration::from_secs(1));
    let counters = net.node(r).stack.counters().ipv6;
    assert_eq!((counters.icmp_out_time_excds, counters.forw_datagrams), (1, 0));
    assert!(net.node(a).events.iter().any(|(_, e)| *e
        == StackEvent::TimeExceeded6 {
            from: v6("2001:db8:1::1"),
            code: Icmpv6TimeExceededCode::HopLimitExceeded
        }));
}

#[test]
fn rfc8201_4_packet_too_big_lowers_the_path_mtu() {
    let (mut net, a, r, b) = routed6(1280);
    // Routers never fragment IPv6: the 1400-byte request is answered with Packet Too Big.
    ping6(&mut net, a, v6("2001:db8:2::2"), 1, 1400);
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.node(r).stack.counters().ipv6.icmp_out_pkt_too_bigs, 1);
    let path = net.node(a).stack.pmtu6().lookup(&v6("2001:db8:2::2"), net.now());
    assert_eq!(path.map(|p| p.mtu), Some(1280));
    // The same ping now leaves in fragments that fit the path, and is answered (B
    // fragments its reply for its own 1280-byte link).
    ping6(&mut net, a, v6("2001:db8:2::2"), 2, 1400);
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies6(net.node(a)).iter().map(|r| r.2).collect::<Vec<_>>(), [2]);
    assert_eq!(net.node(r).stack.counters().ipv6.icmp_out_pkt_too_bigs, 1);
    assert_eq!(net.node(b).stack.reassembly6().counters().reasm_oks, 1);
}

#[test]
fn rfc8200_4_5_a_60_kb_udp_datagram_is_fragmented_and_reassembled_under_reordering() {
    let reordering = Impairments { jitter: Duration::from_millis(20), ..Impairments::default() };
    let (mut net, hosts) = lan(reordering, 2);
    let (a, b) = (hosts[0], hosts[1]);
    enable_ipv6(&mut net, &hosts);
    assign(&mut net, a, DEV, "2001:db8::1/64");
    assign(&mut net, b, DEV, "2001:db8::2/64");
    net.run_for(Duration::from_secs(2));
    let port = NonZeroU16::new(4000).unwrap();
    let server = call(&mut net, b, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv6>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            s
        })
    });
    // Resolve first so the fragments go out back to back.
    ping6(&mut net, a, v6("2001:db8::2"), 1, 0);
    net.run_for(Duration::from_secs(1));
    let payload: Vec<u8> = (0..60_000u32).map(|i| (i * 13 % 251) as u8).collect();
    net.start_capture();
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv6>(0).unwrap();
            let dst = SpecifiedAddr::new(v6("2001:db8::2")).unwrap();
            udp.send_to(uctx, s, Some((dst, 4000)), &payload[..]).unwrap();
        })
    });
    net.run_for(Duration::from_secs(1));
    let got = call(&mut net, b, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(server).unwrap()));
    assert_eq!(got.payload.body(), &payload[..]);
    // 60 008 bytes of UDP in 1448-byte pieces (1500 - 40 - 8, a multiple of 8): 42 fragments.
    let capture = net.capture().unwrap();
    let fragments: Vec<&[u8]> = frames(&capture)
        .filter(|f| f.get(12..14) == Some(&[0x86, 0xdd][..]) && f.get(20) == Some(&44))
        .collect();
    assert_eq!(fragments.len(), 42);
    assert!(fragments.iter().all(|f| f.len() <= 1514));
}

#[test]
fn rfc8200_4_5_reassembly_memory_stays_bounded_under_a_fragment_flood() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    enable_ipv6(&mut net, &hosts);
    assign(&mut net, b, DEV, "2001:db8::2/64");
    net.run_for(Duration::from_secs(2));
    // 5000 first fragments of different datagrams, never completed: 6 MB of fragments.
    let limit = net.node(b).stack.reassembly6().config().high_thresh;
    for id in 0..5000u32 {
        let header = Ipv6Builder {
            fragment: Some(crate::wire::ipv6::FragmentHeader {
                offset: crate::wire::ipv4::FragmentOffset::from_bytes(0).unwrap(),
                more_fragments: true,
                id,
            }),
            ..Ipv6Builder::new(v6("2001:db8::66"), v6("2001:db8::2"), 64, IpProto::UDP)
        };
        let frame = (&[0x5au8; 1200][..])
            .encapsulate(header)
            .encapsulate(EthernetBuilder::new(*mac(1), *mac(2), EtherType::IPV6))
            .serialize_vec()
            .unwrap()
            .into_inner();
        call(&mut net, b, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(frame)));
        assert!(net.node(b).stack.reassembly6().memory_used() <= limit);
    }
    let _ = a;
    assert!(net.node(b).stack.reassembly6().counters().reasm_mem_evictions > 0);
}

#[test]
fn rfc4443_3_1_connected_socket_learns_port_unreachable() {
    let (mut net, a, _) = lan6();
    let socket = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv6>(0).unwrap();
            let dst = SpecifiedAddr::new(v6("2001:db8::2")).unwrap();
            udp.connect(uctx, s, dst, 9999).unwrap();
            udp.send(uctx, s, &b"anyone?"[..]).unwrap();
            s
        })
    });
    net.run_for(Duration::from_secs(1));
    let error = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.take_error(socket)));
    assert_eq!(error, Ok(Some(SocketError::ConnectionRefused)));
}

#[test]
fn rfc4861_7_3_nud_moves_through_its_states_and_fails_pending_sends() {
    let (mut net, hosts, segment) = lan_segment(Impairments::default(), 2);
    let a = hosts[0];
    enable_ipv6(&mut net, &hosts);
    assign(&mut net, a, DEV, "2001:db8::1/64");
    assign(&mut net, hosts[1], DEV, "2001:db8::2/64");
    net.run_for(Duration::from_secs(2));
    let b_addr = v6("2001:db8::2");
    let state = |net: &FakeNetwork<Host>| net.node(a).stack.ndp(DEV).unwrap().get(&b_addr).map(|n| n.state);
    ping6(&mut net, a, b_addr, 1, 8);
    net.run_for(Duration::from_millis(100));
    assert_eq!(state(&net), Some(NeighborState::Reachable));
    // §7.3.3: REACHABLE turns STALE after ReachableTime (at most 1.5 × 30 s) without
    // confirmation.
    net.run_for(Duration::from_secs(46));
    assert_eq!(state(&net), Some(NeighborState::Stale));
    // Sending to a STALE entry uses it and starts DELAY...
    ping6(&mut net, a, b_addr, 2, 8);
    assert_eq!(state(&net), Some(NeighborState::Delay));
    // ...whose reply is no confirmation (echo replies are not upper-layer progress), so
    // after DELAY_FIRST_PROBE_TIME (5 s) it probes by unicast and B's answer makes it
    // REACHABLE again.
    net.run_for(Duration::from_millis(5_100));
    assert!(matches!(state(&net), Some(NeighborState::Probe | NeighborState::Reachable)));
    net.run_for(Duration::from_secs(2));
    assert_eq!(state(&net), Some(NeighborState::Reachable));
    // Now B goes silent: the entry ages to STALE, a send starts DELAY, then PROBE, and with
    // no answer to MAX_UNICAST_SOLICIT probes the entry fails.
    let segment_loss = Impairments { loss_ppm: 1_000_000, ..Impairments::default() };
    net.set_impairments(segment, segment_loss);
    net.run_for(Duration::from_secs(46));
    ping6(&mut net, a, b_addr, 3, 8);
    net.run_for(Duration::from_secs(5) + Duration::from_millis(100));
    assert_eq!(state(&net), Some(NeighborState::Probe));
    net.run_for(Duration::from_secs(4));
    assert_eq!(state(&net), Some(NeighborState::Failed));
    // §7.2.2: a packet sent to the failed neighbour starts resolution over; when that fails
    // too, the packet is reported unreachable.
    ping6(&mut net, a, b_addr, 4, 8);
    assert_eq!(state(&net), Some(NeighborState::Incomplete));
    net.run_for(Duration::from_secs(4));
    assert!(net
        .node(a)
        .events
        .iter()
        .any(|(_, e)| *e == StackEvent::HostUnreachable { dst: IpAddr::V6(b_addr) }));
}

#[test]
fn rfc1122_3_2_1_3_loopback_device_delivers_to_127_0_0_1_and_ipv6_1() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    let lo = call(&mut net, a, |stack, ctx| stack.add_loopback_device(ctx)).unwrap();
    // RFC 4291 §2.5.3: ::1 is assigned at once (no DAD on loopback, as on Linux).
    assert_eq!(state_of(net.node(a), Ipv6Addr::LOOPBACK), Some(AddressState::Preferred));
    net.start_capture();
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, Ipv4Addr::LOOPBACK, 9, 1, b"lo4")).unwrap();
    let request = EchoRequest { id: 9, seq: 2 };
    call(&mut net, a, |stack, ctx| {
        stack.send_echo_request6(ctx, Ipv6Addr::LOOPBACK, Some(lo), request, b"lo6")
    })
    .unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(net.node(a)), [(Ipv4Addr::LOOPBACK, 9, 1, 3)]);
    assert_eq!(echo_replies6(net.node(a)), [(Ipv6Addr::LOOPBACK, 9, 2, 3)]);
    // Nothing left the host.
    assert_eq!(frames(&net.capture().unwrap()).count(), 0);
    // A UDP datagram over ::1 reaches a socket bound to it.
    let port = NonZeroU16::new(5353).unwrap();
    let got = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let server = udp.create::<Ipv6>(0).unwrap();
            let lo6 = SpecifiedAddr::new(Ipv6Addr::LOOPBACK).unwrap();
            udp.bind(uctx, server, Some(lo6), Some(port)).unwrap();
            let client = udp.create::<Ipv6>(0).unwrap();
            udp.send_to(uctx, client, Some((lo6, 5353)), &b"over lo"[..]).unwrap();
            server
        })
    });
    let datagram = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(got).unwrap()));
    assert_eq!(datagram.payload.body(), b"over lo");
}

#[test]
fn pure_ip_devices_carry_bare_ip_packets_without_neighbor_discovery() {
    let mut net = FakeNetwork::new(5);
    let link = net.add_segment(Impairments::default());
    let mut nodes = Vec::new();
    for n in 1..=2u8 {
        let stack = Stack::new(&mut FakeRng::new(u64::from(n)));
        let node = net.add_node(Host { stack, events: Vec::new() }, u64::from(n));
        call(&mut net, node, |stack, ctx| {
            let dev = stack.add_pure_ip_device(ctx, 1400);
            assert!(stack.ethernet(dev).is_none());
            let v4 = AddrSubnet::new(v4(&alloc::format!("192.0.2.{n}")), 24).unwrap();
            stack.add_ipv4_address(ctx, dev, v4).unwrap();
            stack.enable_ipv6(ctx, dev).unwrap();
            let v6 = AddrSubnet::new(v6(&alloc::format!("2001:db8::{n}")), 64).unwrap();
            stack.add_ipv6_address(ctx, dev, v6).unwrap();
        });
        net.attach(link, node, DEV);
        nodes.push(node);
    }
    let (a, b) = (nodes[0], nodes[1]);
    // No DAD on a point-to-point link without link-layer addresses (Linux: IFF_NOARP).
    assert_eq!(state_of(net.node(b), v6("2001:db8::2")), Some(AddressState::Preferred));
    net.start_capture();
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 4, 1, &[1; 32])).unwrap();
    ping6(&mut net, a, v6("2001:db8::2"), 2, 32);
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(net.node(a)), [(v4("192.0.2.2"), 4, 1, 32)]);
    assert_eq!(echo_replies6(net.node(a)), [(v6("2001:db8::2"), 0x66, 2, 32)]);
    // Four IP packets, no ARP, no NDP, no link-layer header.
    let capture = net.capture().unwrap();
    let versions: Vec<u8> = frames(&capture).map(|f| f[0] >> 4).collect();
    assert_eq!(versions, [4, 6, 4, 6]);
    // What is too big for the device's MTU is fragmented to fit it.
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 4, 3, &[2; 2000])).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(echo_replies(net.node(a)).len(), 2);
}

#[test]
fn linux_icmpv6_ping_sockets_send_echo_requests_and_receive_their_replies() {
    let (mut net, a, _) = lan6();
    // Type 128 (echo request), code 0; the socket fills in its identifier and the checksum.
    let mut message = vec![128, 0, 0, 0, 0xee, 0xee, 0, 9];
    message.extend_from_slice(b"ping6 socket");
    let socket = call(&mut net, a, |stack, ctx| {
        stack.ping6_call(ctx, |pings, pctx| {
            let s = pings.create().unwrap();
            let dst = SpecifiedAddr::new(v6("2001:db8::2")).unwrap();
            pings.send_to(pctx, s, Some(dst), &message).unwrap();
            s
        })
    });
    net.run_for(Duration::from_secs(1));
    let (reply, id) = call(&mut net, a, |stack, ctx| {
        stack.ping6_call(ctx, |pings, _| {
            (pings.recv_from(socket).unwrap(), pings.local_addr(socket).unwrap().1)
        })
    });
    assert_eq!(reply.peer_addr, v6("2001:db8::2"));
    let bytes = reply.message.body();
    assert_eq!(bytes[0], 129, "an echo reply");
    assert_eq!(u16::from_be_bytes([bytes[4], bytes[5]]), id.unwrap().get());
    assert_eq!(u16::from_be_bytes([bytes[6], bytes[7]]), 9);
    assert_eq!(&bytes[8..], b"ping6 socket");
    // The socket claimed the reply: no stack-level echo event.
    assert!(echo_replies6(net.node(a)).is_empty());
    assert!(net
        .node(a)
        .events
        .iter()
        .any(|(_, e)| matches!(e, StackEvent::PingV6 { event: SocketEvent::Readable, .. })));
}

#[test]
fn default_config_is_valid() {
    assert!(Stack::<Vec<u8>>::with_config(&mut FakeRng::new(1), StackConfig::default()).is_ok());
    let mut bad = StackConfig::default();
    bad.slaac.temporary.preferred_lifetime = bad.slaac.temporary.valid_lifetime + Duration::from_secs(1);
    assert!(Stack::<Vec<u8>>::with_config(&mut FakeRng::new(1), bad).is_err());
}

/// One host on a segment with the router of `advertise`, its stack built from `config`.
fn configured_host(config: StackConfig) -> (FakeNetwork<Host>, NodeIndex) {
    let (mut net, hosts, segment) = lan_segment(Impairments::default(), 2);
    let router = hosts[1];
    let stack = Stack::with_config(&mut FakeRng::new(9), config).unwrap();
    let host = net.add_node(Host { stack, events: Vec::new() }, 9);
    call(&mut net, host, |stack, ctx| {
        let dev = stack.add_ethernet_device(ctx, mac(9), EthernetConfig::default());
        stack.enable_ipv6(ctx, dev).unwrap();
    });
    net.attach(segment, host, DEV);
    enable_ipv6(&mut net, &[router]);
    advertise(&mut net, router, *mac(2));
    net.run_for(Duration::from_secs(5));
    (net, host)
}

#[test]
fn rfc7217_and_rfc8981_are_options_of_the_stack() {
    use crate::ip::slaac::AddrGenMode;
    let mut config = StackConfig::default();
    config.slaac.addr_gen_mode = AddrGenMode::StablePrivacy;
    config.slaac.temporary.enabled = true;
    let (net, host) = configured_host(config);
    let slaac = net.node(host).stack.slaac();
    let kinds: Vec<AddressKind> = slaac.addresses(DEV).map(|i| i.kind).collect();
    assert!(kinds.contains(&AddressKind::Temporary), "{kinds:?}");
    // RFC 7217: no identifier derived from the MAC (02:00:00:00:00:09 → ::ff:fe00:9).
    for info in slaac.addresses(DEV) {
        assert!(info.addr.addr().into_addr().bytes()[11..13] != [0xff, 0xfe], "{:?}", info.addr);
    }
}

#[test]
fn rfc4862_5_1_dup_addr_detect_transmits_is_configurable() {
    let mut config = StackConfig::default();
    config.slaac.dad.transmits = 3;
    let (net, host) = configured_host(config);
    // The link-local and the autoconfigured address were each probed three times.
    assert_eq!(net.node(host).stack.slaac().dad().counters().probes_sent, 6);
}

#[test]
fn rfc9293_tcp_over_ipv6_moves_data_both_ways_and_closes() {
    use crate::transport::tcp::{Event, State};
    let (mut net, a, b) = lan6();
    let (server_addr, p) = (SpecifiedAddr::new(v6("2001:db8::2")).unwrap(), NonZeroU16::new(8080).unwrap());
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.listen(tctx, s, 8).map(|()| s)
        })
    })
    .unwrap();
    // listen without bind took an ephemeral port on the wildcard, as Linux does; use a
    // second listener on a known port for the connection.
    assert_ne!(net.node(b).stack.tcp().local_addr(listener).unwrap().port, 0);
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.bind(tctx, s, Some(server_addr), Some(p)).unwrap();
            tcp.listen(tctx, s, 8).map(|()| s)
        })
    })
    .unwrap();
    let client = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.connect(tctx, s, server_addr, p).map(|()| s)
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    let (server, peer) =
        call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.accept(tctx, listener))).unwrap();
    assert_eq!(peer.addr, v6("2001:db8::1"));
    assert_eq!(net.node(a).stack.tcp().info(client).unwrap().snd_mss, 1500 - 40 - 20 - 12);
    let data: Vec<u8> = (0..64_000u32).map(|i| (i % 253) as u8).collect();
    let sent = call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.send(tctx, client, &data)))
        .unwrap();
    assert_eq!(sent, data.len());
    net.run_for(Duration::from_millis(100));
    let mut buf = vec![0; 100_000];
    let n = call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.recv(tctx, server, &mut buf)))
        .unwrap();
    assert_eq!(&buf[..n], &data[..]);
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.send(tctx, server, b"bye"))).unwrap();
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, server))).unwrap();
    net.run_for(Duration::from_millis(100));
    let n = call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.recv(tctx, client, &mut buf)))
        .unwrap();
    assert_eq!(&buf[..n], b"bye");
    let eof =
        call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.recv(tctx, client, &mut buf)));
    assert_eq!(eof, Ok(0));
    assert_eq!(net.node(a).stack.tcp().state(client), Ok(State::CloseWait));
    let woke = |e: &StackEvent| matches!(e, StackEvent::TcpV6 { socket, event: Event::ReadClosed } if *socket == client);
    assert!(net.node(a).events.iter().any(|(_, e)| woke(e)));
}

/// The IPv6 sources of the Neighbor Solicitations in `capture`, with the sender's MAC.
fn solicitation_sources(capture: &[u8]) -> Vec<(Mac, Ipv6Addr)> {
    frames(capture)
        .filter(|f| f.len() > 54 && f[12..14] == [0x86, 0xdd] && f[20] == 58 && f[54] == 135)
        .map(|f| {
            let mac = Mac::new(f[6..12].try_into().unwrap());
            (mac, Ipv6Addr::new(f[22..38].try_into().unwrap()))
        })
        .collect()
}

#[test]
fn rfc4861_7_2_2_a_solicitation_comes_from_the_prompting_packets_source() {
    let (mut net, a, b) = lan6();
    net.start_capture();
    ping6(&mut net, a, v6("2001:db8::2"), 1, 56);
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies6(net.node(a)), [(v6("2001:db8::2"), 0x66, 1, 56)]);
    // A's solicitation carries the echo request's source, 2001:db8::1, not its link-local
    // address (the SHOULD of RFC 4861 §7.2.2), so B learns the address it answers from the
    // solicitation itself (§7.2.3) and has no need to solicit A in turn.
    let sources = solicitation_sources(&net.capture().unwrap());
    assert_eq!(sources, [(Mac::new([0x02, 0, 0, 0, 0, 1]), v6("2001:db8::1"))]);
    assert!(net.node(b).stack.ndp(DEV).unwrap().get(&v6("2001:db8::1")).is_some());
}
