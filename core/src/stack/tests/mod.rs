//! Whole stacks talking to each other over the fake network.

use alloc::vec;
use alloc::vec::Vec;
use core::num::NonZeroU16;
use core::time::Duration;

use super::ipv4::quoted_udp_datagram;
use super::*;
use crate::addr::MulticastAddr;
use crate::buf::EmptyBody;
use crate::context::InstantContext;
use crate::device::nud::NeighborState;
use crate::testutil::fake::FakeRng;
use crate::testutil::fake_net::{FakeNetwork, Impairments, Node, NodeCtx, NodeIndex, SegmentId};
use crate::testutil::pcap::frames;
use crate::testutil::reserialize::reserialize_frame;
use crate::time::Instant;
use crate::transport::{SocketError, SocketEvent};
use crate::wire::arp::ArpBuilder;
use crate::wire::ethernet::EthernetBuilder;
use crate::wire::udp::UdpBuilder;

mod admin;
mod checksum_offload;
mod device_binding;
mod inspect;
mod ipv6;
mod link_failure;
mod raw;
mod tcp;
mod tcp_abort;
mod tcp_dual_stack;
mod tcp_knobs;
mod tcp_options;

const DEV: DeviceId = DeviceId::new(1);

/// A host on the fake network: a stack and the events it reported.
struct Host {
    stack: Stack<Vec<u8>>,
    events: Vec<(Instant, StackEvent)>,
}

/// The stack's view of the fake host.
struct HostCtx<'a> {
    node: &'a mut NodeCtx<StackTimerId>,
    events: &'a mut Vec<(Instant, StackEvent)>,
}

impl InstantContext for HostCtx<'_> {
    fn now(&self) -> Instant {
        self.node.now()
    }
}

impl TimerContext<StackTimerId> for HostCtx<'_> {
    fn schedule_timer(&mut self, id: StackTimerId, at: Instant) -> Option<Instant> {
        self.node.schedule_timer(id, at)
    }

    fn cancel_timer(&mut self, id: &StackTimerId) -> Option<Instant> {
        self.node.cancel_timer(id)
    }

    fn scheduled_at(&self, id: &StackTimerId) -> Option<Instant> {
        self.node.scheduled_at(id)
    }
}

impl RngContext for HostCtx<'_> {
    fn random_u64(&mut self) -> u64 {
        self.node.random_u64()
    }
}

impl StackContext for HostCtx<'_> {
    type Frame = Vec<u8>;

    fn alloc_frame(&mut self, capacity: usize) -> Option<Vec<u8>> {
        Some(vec![0; capacity])
    }

    fn send_frame(&mut self, device: DeviceId, frame: Buf<Vec<u8>>) {
        self.node.send_frame(device, frame.body());
    }

    fn on_event(&mut self, event: StackEvent) {
        let now = self.node.now();
        self.events.push((now, event));
    }
}

impl Node for Host {
    type TimerId = StackTimerId;

    fn receive_frame(&mut self, ctx: &mut NodeCtx<StackTimerId>, device: DeviceId, frame: &[u8]) {
        let mut ctx = HostCtx { node: ctx, events: &mut self.events };
        self.stack.receive_frame(&mut ctx, device, Buf::from_body(frame.to_vec()));
    }

    fn handle_timer(&mut self, ctx: &mut NodeCtx<StackTimerId>, id: StackTimerId) {
        let mut ctx = HostCtx { node: ctx, events: &mut self.events };
        self.stack.handle_timer(&mut ctx, id);
    }
}

/// Runs `f` on a host's stack with its context, as an application call.
fn call<R>(
    net: &mut FakeNetwork<Host>,
    host: NodeIndex,
    f: impl FnOnce(&mut Stack<Vec<u8>>, &mut HostCtx<'_>) -> R,
) -> R {
    net.with_node(host, |h, node| {
        let mut ctx = HostCtx { node, events: &mut h.events };
        f(&mut h.stack, &mut ctx)
    })
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn mac(n: u8) -> UnicastAddr<Mac> {
    UnicastAddr::new(Mac::new([0x02, 0, 0, 0, 0, n])).unwrap()
}

/// Hosts 192.0.2.1, .2, ... on one segment with `impairments`, each with one Ethernet device.
fn lan(impairments: Impairments, hosts: u8) -> (FakeNetwork<Host>, Vec<NodeIndex>) {
    let (net, nodes, _) = lan_segment(impairments, hosts);
    (net, nodes)
}

/// [`lan`], with the segment to change its impairments later.
fn lan_segment(impairments: Impairments, hosts: u8) -> (FakeNetwork<Host>, Vec<NodeIndex>, SegmentId) {
    let mut net = FakeNetwork::new(42);
    let segment = net.add_segment(impairments);
    let mut nodes = Vec::new();
    for n in 1..=hosts {
        let stack = Stack::new(&mut FakeRng::new(u64::from(n)));
        let node = net.add_node(Host { stack, events: Vec::new() }, u64::from(n));
        call(&mut net, node, |stack, ctx| {
            let dev = stack.add_ethernet_device(ctx, mac(n), EthernetConfig::default());
            assert_eq!(dev, DEV);
            let addr = AddrSubnet::new(v4(&alloc::format!("192.0.2.{n}")), 24).unwrap();
            stack.add_ipv4_address(ctx, DEV, addr).unwrap();
        });
        net.attach(segment, node, DEV);
        nodes.push(node);
    }
    (net, nodes, segment)
}

fn echo_replies(host: &Host) -> Vec<(Ipv4Addr, u16, u16, usize)> {
    host.events
        .iter()
        .filter_map(|(_, e)| match *e {
            StackEvent::EchoReply { src: IpAddr::V4(src), id, seq, len } => Some((src, id, seq, len)),
            _ => None,
        })
        .collect()
}

#[test]
fn rfc826_two_hosts_ping_after_address_resolution() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    net.start_capture();
    for seq in 1..=3 {
        call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 0x77, seq, &[0xab; 56]))
            .unwrap();
        net.run_for(Duration::from_secs(1));
    }
    assert_eq!(
        echo_replies(net.node(a)),
        [(v4("192.0.2.2"), 0x77, 1, 56), (v4("192.0.2.2"), 0x77, 2, 56), (v4("192.0.2.2"), 0x77, 3, 56)]
    );
    assert_eq!(net.node(b).stack.counters().icmp_out_echo_reps, 3);
    // Each side learned the other: A from B's reply, B from A's request (RFC 826's merge).
    let state = |host: NodeIndex, addr: &str| {
        net.node(host).stack.arp(DEV).unwrap().neighbors().get(&v4(addr)).map(|n| n.state)
    };
    assert_eq!(state(a, "192.0.2.2"), Some(NeighborState::Reachable));
    assert!(state(b, "192.0.2.1").is_some());
    // One ARP request resolved everything; every frame on the wire parses and re-serializes.
    let arp = net.node(a).stack.arp(DEV).unwrap().counters();
    assert_eq!(arp.tx_requests, 1);
    let capture = net.capture().unwrap();
    let wire: Vec<&[u8]> = frames(&capture).collect();
    assert!(wire.len() >= 8, "ARP request and reply, 3 echo exchanges, announcements");
    for frame in wire {
        assert_eq!(reserialize_frame(frame).unwrap().bytes, frame);
    }
}

#[test]
fn rfc5227_2_3_addresses_are_announced_when_assigned() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    net.run_for(Duration::from_secs(5));
    // Two announcements from each host, ANNOUNCE_INTERVAL apart; B learned nothing from them
    // (gratuitous ARP creates no entry with Linux's arp_accept=0).
    for &host in &hosts {
        assert_eq!(net.node(host).stack.arp(DEV).unwrap().counters().tx_announcements, 2);
        assert!(net.node(host).stack.arp(DEV).unwrap().neighbors().is_empty());
    }
}

#[test]
fn rfc1122_2_3_2_1_unanswered_resolution_reports_host_unreachable() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.99"), 1, 1, b"x")).unwrap();
    net.run_for(Duration::from_secs(10));
    let unreachable: Vec<_> =
        net.node(a).events.iter().filter(|(_, e)| matches!(e, StackEvent::HostUnreachable { .. })).collect();
    assert_eq!(unreachable.len(), 1);
    assert_eq!(unreachable[0].1, StackEvent::HostUnreachable { dst: IpAddr::V4(v4("192.0.2.99")) });
    // mcast_solicit (3) broadcast requests at retrans_time (1 s) intervals, then failure.
    assert_eq!(net.node(a).stack.arp(DEV).unwrap().counters().tx_requests, 3);
    assert_eq!(unreachable[0].0, Instant::ZERO + Duration::from_secs(3));
}

#[test]
fn rfc1122_4_1_3_1_udp_to_a_closed_port_gets_port_unreachable() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let udp = UdpBuilder::new(v4("192.0.2.1"), v4("192.0.2.2"), 40000, NonZeroU16::new(9).unwrap());
    call(&mut net, a, |stack, ctx| {
        stack.send_ipv4(
            ctx,
            Some(v4("192.0.2.1")),
            v4("192.0.2.2"),
            IpProto::UDP,
            (&b"hello"[..]).encapsulate(udp),
        )
    })
    .unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.node(b).stack.counters().icmp_out_dest_unreachs, 1);
    assert!(net.node(a).events.iter().any(|(_, e)| *e
        == StackEvent::DestinationUnreachable {
            from: v4("192.0.2.2"),
            code: Icmpv4DestUnreachableCode::PortUnreachable
        }));
}

#[test]
fn off_link_destinations_go_to_the_gateway() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    call(&mut net, a, |stack, _| stack.add_ipv4_route(default_route(v4("192.0.2.2"), DEV).unwrap())).unwrap();
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("198.51.100.7"), 1, 1, b"x")).unwrap();
    net.run_for(Duration::from_secs(1));
    // The gateway was resolved and got the packet; not forwarding, it dropped it as not for
    // itself.
    assert!(net.node(a).stack.arp(DEV).unwrap().neighbors().get(&v4("192.0.2.2")).is_some());
    assert_eq!(net.node(b).stack.counters().ipv4.not_for_us, 1);
    let no_route =
        call(&mut net, b, |stack, ctx| stack.send_echo_request(ctx, v4("198.51.100.7"), 1, 1, b"x"));
    assert_eq!(no_route, Err(SendError::NoRoute(IpAddr::V4(v4("198.51.100.7")))));
}

#[test]
fn ping_over_a_lossy_link_is_deterministic_from_the_seed() {
    let lossy = Impairments { loss_ppm: 200_000, jitter: Duration::from_millis(2), ..Impairments::default() };
    let run = || {
        let (mut net, hosts) = lan(lossy, 2);
        for seq in 0..50 {
            // Send errors are not expected: the ARP queue holds packets while resolving.
            call(&mut net, hosts[0], |stack, ctx| {
                stack.send_echo_request(ctx, v4("192.0.2.2"), 9, seq, &[1; 32])
            })
            .unwrap();
            net.run_for(Duration::from_millis(200));
        }
        net.run_for(Duration::from_secs(5));
        echo_replies(net.node(hosts[0])).len()
    };
    let replies = run();
    // 20% loss each way: about 64% of 50 round trips succeed.
    assert!((20..45).contains(&replies), "{replies} replies");
    assert_eq!(run(), replies);
}

#[test]
fn echo_requests_to_broadcast_are_not_answered() {
    let (mut net, hosts) = lan(Impairments::default(), 3);
    call(&mut net, hosts[0], |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.255"), 1, 1, b"x"))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(echo_replies(net.node(hosts[0])).is_empty());
    assert_eq!(net.node(hosts[1]).stack.counters().ipv4.in_bcast_pkts, 1);
    assert_eq!(net.node(hosts[2]).stack.counters().ipv4.in_bcast_pkts, 1);
}

#[test]
fn pinging_ourselves_is_delivered_locally() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    net.start_capture();
    call(&mut net, hosts[0], |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.1"), 5, 1, b"me"))
        .unwrap();
    assert_eq!(echo_replies(net.node(hosts[0])), [(v4("192.0.2.1"), 5, 1, 2)]);
    let on_wire =
        frames(&net.capture().unwrap()).filter(|f| f.get(12..14) == Some(&[0x08, 0x00][..])).count();
    assert_eq!(on_wire, 0, "nothing crossed the wire");
}

#[test]
fn malformed_and_foreign_frames_are_counted_not_fatal() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    call(&mut net, a, |stack, ctx| {
        // A truncated IPv4 header to our MAC, an IPv6 frame to a device without IPv6, and a
        // frame for another device.
        let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 9, 0x08, 0x00];
        frame.extend_from_slice(&[0x45, 0, 0, 40]);
        stack.receive_frame(ctx, DEV, Buf::from_body(frame.clone()));
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        stack.receive_frame(ctx, DEV, Buf::from_body(frame.clone()));
        stack.receive_frame(ctx, DeviceId::new(7), Buf::from_body(frame));
    });
    let c = *net.node(a).stack.counters();
    assert_eq!((c.ipv4_in_hdr_errors, c.ipv6.disabled_drops, c.unknown_device), (1, 1, 1));
}

#[test]
fn rfc768_udp_sockets_exchange_datagrams() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let port = NonZeroU16::new(9000).unwrap();
    let server = call(&mut net, b, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            s
        })
    });
    let client = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            let dst = SpecifiedAddr::new(v4("192.0.2.2")).unwrap();
            udp.send_to(uctx, s, Some((dst, 9000)), &b"ping over udp"[..]).unwrap();
            s
        })
    });
    net.run_for(Duration::from_secs(1));
    let got = call(&mut net, b, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(server).unwrap()));
    assert_eq!(got.payload.body(), b"ping over udp");
    assert_eq!(got.peer_addr, v4("192.0.2.1"));
    assert!(net
        .node(b)
        .events
        .iter()
        .any(|(_, e)| matches!(e, StackEvent::UdpV4 { event: SocketEvent::Readable, .. })));
    // The reply goes back to the client's ephemeral port.
    let peer = SpecifiedAddr::new(got.peer_addr).unwrap();
    call(&mut net, b, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| udp.send_to(uctx, server, Some((peer, got.peer_port)), &b"pong"[..]))
    })
    .unwrap();
    net.run_for(Duration::from_secs(1));
    let reply = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(client).unwrap()));
    assert_eq!((reply.payload.body(), reply.peer_port), (&b"pong"[..], 9000));
    assert_eq!(net.node(b).stack.counters().icmp_out_dest_unreachs, 0);
}

#[test]
fn received_datagrams_keep_their_ttl_and_tos_for_ip_recvttl_and_ip_recvtos() {
    use crate::wire::ipv4::{Dscp, Ecn};
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    let port = NonZeroU16::new(9000).unwrap();
    let server = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            s
        })
    });
    let ip = Ipv4Builder {
        dscp: Dscp::new(46).unwrap(),
        ecn: Ecn::Ect0,
        ..Ipv4Builder::new(v4("192.0.2.9"), v4("192.0.2.1"), 33, IpProto::UDP)
    };
    let frame = (&b"marked"[..])
        .encapsulate(UdpBuilder::new(v4("192.0.2.9"), v4("192.0.2.1"), 5000, port))
        .encapsulate(ip)
        .encapsulate(EthernetBuilder::new(*mac(9), *mac(1), EtherType::IPV4))
        .serialize_vec()
        .unwrap()
        .into_inner();
    call(&mut net, a, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(frame)));
    let got = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(server).unwrap()));
    assert_eq!(got.payload.body(), b"marked");
    assert_eq!((got.hop_limit, got.tos), (33, (46 << 2) | 0b10));
}

#[test]
fn rfc1122_4_1_3_1_connected_socket_learns_port_unreachable() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    let socket = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            let dst = SpecifiedAddr::new(v4("192.0.2.2")).unwrap();
            udp.connect(uctx, s, dst, 7777).unwrap();
            udp.send(uctx, s, &b"anyone?"[..]).unwrap();
            s
        })
    });
    net.run_for(Duration::from_secs(1));
    // The port unreachable becomes the connected socket's pending error, ECONNREFUSED as on
    // Linux, and the next send reports it.
    assert!(net
        .node(a)
        .events
        .iter()
        .any(|(_, e)| matches!(e, StackEvent::UdpV4 { event: SocketEvent::Error, .. })));
    let error = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.take_error(socket)));
    assert_eq!(error, Ok(Some(SocketError::ConnectionRefused)));
}

#[test]
fn udp_to_our_own_address_goes_through_loopback() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    let port = NonZeroU16::new(5353).unwrap();
    let received = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            let me = SpecifiedAddr::new(v4("192.0.2.1")).unwrap();
            udp.send_to(uctx, s, Some((me, 5353)), &b"to myself"[..]).unwrap();
            s
        })
    });
    let got = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(received).unwrap()));
    assert_eq!(got.payload.body(), b"to myself");
}

#[test]
fn rfc792_quoted_datagrams_are_read_defensively() {
    let udp = UdpBuilder::new(v4("192.0.2.1"), v4("192.0.2.2"), 40000, NonZeroU16::new(53).unwrap());
    let packet = (&b"query"[..])
        .encapsulate(udp)
        .encapsulate(Ipv4Builder::new(v4("192.0.2.1"), v4("192.0.2.2"), 64, IpProto::UDP))
        .serialize_vec()
        .unwrap();
    let quoted = quoted_udp_datagram(&packet.body()[..28]).unwrap();
    assert_eq!(
        (quoted.src, quoted.src_port, quoted.dst, quoted.dst_port),
        (v4("192.0.2.1"), 40000, v4("192.0.2.2"), 53)
    );
    // Too short for the ports, not UDP, not IPv4, IHL below 5, empty: nothing.
    assert!(quoted_udp_datagram(&packet.body()[..22]).is_none());
    let mut tcp = packet.body().to_vec();
    tcp[9] = 6;
    assert!(quoted_udp_datagram(&tcp).is_none());
    let mut v6 = packet.body().to_vec();
    v6[0] = 0x65;
    assert!(quoted_udp_datagram(&v6).is_none());
    let mut short_ihl = packet.body().to_vec();
    short_ihl[0] = 0x44;
    assert!(quoted_udp_datagram(&short_ihl).is_none());
    assert!(quoted_udp_datagram(&[]).is_none());
}

#[test]
fn rfc791_3_2_a_60_kb_udp_datagram_is_fragmented_and_reassembled_under_reordering() {
    // Jitter far above the gap between fragments shuffles their order on the wire.
    let reordering = Impairments { jitter: Duration::from_millis(20), ..Impairments::default() };
    let (mut net, hosts) = lan(reordering, 2);
    let (a, b) = (hosts[0], hosts[1]);
    let port = NonZeroU16::new(4000).unwrap();
    let server = call(&mut net, b, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            s
        })
    });
    // Resolve first so the fragments go out back to back.
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 1, 1, b"")).unwrap();
    net.run_for(Duration::from_secs(1));
    let payload: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
    net.start_capture();
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            let dst = SpecifiedAddr::new(v4("192.0.2.2")).unwrap();
            udp.send_to(uctx, s, Some((dst, 4000)), &payload[..]).unwrap();
        })
    });
    net.run_for(Duration::from_secs(1));
    let got = call(&mut net, b, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(server).unwrap()));
    assert_eq!(got.payload.body(), &payload[..]);
    // 60 008 bytes of UDP in 1480-byte pieces: 41 fragments on the wire, none above the MTU
    // (the capture is taken as they are sent; the jitter reorders them after that).
    let capture = net.capture().unwrap();
    let fragments: Vec<&[u8]> =
        frames(&capture).filter(|f| f.get(12..14) == Some(&[0x08, 0x00][..])).collect();
    assert_eq!(fragments.len(), 41);
    assert!(fragments.iter().all(|f| f.len() <= 1514));
    // The receive decision counted each fragment (and the earlier echo request) once; the
    // reassembled datagram was delivered without being counted again.
    assert_eq!(net.node(b).stack.counters().ipv4.to_deliver, 41 + 1);
}

#[test]
fn rfc792_reassembly_timeout_sends_time_exceeded() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    // A first fragment alone, from A to B, handed straight to B.
    let header = Ipv4Builder {
        more_fragments: true,
        id: 77,
        ..Ipv4Builder::new(v4("192.0.2.1"), v4("192.0.2.2"), 64, IpProto::UDP)
    };
    let frame = (&[0x5au8; 64][..])
        .encapsulate(header)
        .encapsulate(EthernetBuilder {
            min_body_len: 0,
            ..EthernetBuilder::new(*mac(1), *mac(2), EtherType::IPV4)
        })
        .serialize_vec()
        .unwrap()
        .into_inner();
    call(&mut net, b, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(frame)));
    net.run_for(Duration::from_secs(29));
    assert_eq!(net.node(b).stack.counters().icmp_out_time_excds, 0);
    net.run_for(Duration::from_secs(2));
    // After the 30 s IPv4 reassembly timeout, B resolved A and told it (RFC 792 code 1).
    assert_eq!(net.node(b).stack.counters().icmp_out_time_excds, 1);
    assert_eq!(net.node(a).stack.counters().icmp_in_msgs, 1);
}

/// A (192.0.2.1) — R (192.0.2.254 | 198.51.100.254) — B (198.51.100.1), each host with a
/// default route via R, R forwarding on both devices; the second segment carries `mtu`.
fn routed(mtu: u32) -> (FakeNetwork<Host>, NodeIndex, NodeIndex, NodeIndex) {
    let mut net = FakeNetwork::new(7);
    let left = net.add_segment(Impairments::default());
    let right = net.add_segment(Impairments { max_frame_len: 14 + mtu as usize, ..Impairments::default() });
    let host = |net: &mut FakeNetwork<Host>, n: u8, addrs: &[(&str, u32)], gateway: Option<&str>| {
        let node = net.add_node(
            Host { stack: Stack::new(&mut FakeRng::new(u64::from(n))), events: Vec::new() },
            u64::from(n),
        );
        call(net, node, |stack, ctx| {
            for (i, (addr, mtu)) in addrs.iter().enumerate() {
                let config = EthernetConfig { mtu: *mtu, ..EthernetConfig::default() };
                let dev = stack.add_ethernet_device(ctx, mac(n * 10 + i as u8), config);
                let (addr, prefix) = addr.split_once('/').unwrap();
                stack
                    .add_ipv4_address(ctx, dev, AddrSubnet::new(v4(addr), prefix.parse().unwrap()).unwrap())
                    .unwrap();
            }
            if let Some(gateway) = gateway {
                stack.add_ipv4_route(default_route(v4(gateway), DEV).unwrap()).unwrap();
            }
        });
        node
    };
    let a = host(&mut net, 1, &[("192.0.2.1/24", 1500)], Some("192.0.2.254"));
    let r = host(&mut net, 2, &[("192.0.2.254/24", 1500), ("198.51.100.254/24", mtu)], None);
    let b = host(&mut net, 3, &[("198.51.100.1/24", mtu)], Some("198.51.100.254"));
    for dev in [DeviceId::new(1), DeviceId::new(2)] {
        call(&mut net, r, |stack, _| stack.set_ipv4_forwarding(dev, true)).unwrap();
    }
    net.attach(left, a, DEV);
    net.attach(left, r, DeviceId::new(1));
    net.attach(right, r, DeviceId::new(2));
    net.attach(right, b, DEV);
    (net, a, r, b)
}

#[test]
fn rfc1812_5_2_hosts_reach_each_other_through_a_router() {
    let (mut net, a, r, b) = routed(1500);
    for seq in 1..=3 {
        call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("198.51.100.1"), 3, seq, &[7; 100]))
            .unwrap();
        net.run_for(Duration::from_secs(1));
    }
    assert_eq!(echo_replies(net.node(a)).len(), 3);
    assert_eq!(net.node(r).stack.counters().ipv4_forw_datagrams, 6, "three requests and three replies");
    assert_eq!(net.node(b).stack.counters().icmp_out_echo_reps, 3);
}

#[test]
fn ping_sockets_see_the_reply_ttl_one_router_hop_down() {
    let (mut net, a, _, _) = routed(1500);
    let mut request = vec![8, 0, 0, 0, 0, 0, 0, 1];
    request.extend_from_slice(b"ttl");
    let socket = call(&mut net, a, |stack, ctx| {
        stack.ping_call(ctx, |pings, pctx| {
            let s = pings.create().unwrap();
            pings.send_to(pctx, s, Some(SpecifiedAddr::new(v4("198.51.100.1")).unwrap()), &request).unwrap();
            s
        })
    });
    net.run_for(Duration::from_secs(1));
    let reply =
        call(&mut net, a, |stack, ctx| stack.ping_call(ctx, |pings, _| pings.recv_from(socket).unwrap()));
    assert_eq!((reply.peer_addr, reply.hop_limit, reply.tos), (v4("198.51.100.1"), 63, 0));
}

#[test]
fn rfc1812_5_3_1_ttl_expiry_at_the_router_sends_time_exceeded() {
    let (mut net, a, r, _) = routed(1500);
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.set_hop_limit(s, Some(1)).unwrap();
            let dst = SpecifiedAddr::new(v4("198.51.100.1")).unwrap();
            udp.send_to(uctx, s, Some((dst, 33434)), &b"traceroute"[..]).unwrap();
        })
    });
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.node(r).stack.counters().icmp_out_time_excds, 1);
    assert_eq!(net.node(r).stack.counters().ipv4_forw_datagrams, 0);
    assert!(net.node(a).events.iter().any(|(_, e)| *e
        == StackEvent::TimeExceeded { from: v4("192.0.2.254"), code: Icmpv4TimeExceededCode::TtlExceeded }));
}

#[test]
fn rfc1191_router_reports_fragmentation_needed_or_fragments() {
    let (mut net, a, r, b) = routed(1280);
    // Echo requests go out with DF: the router reports the smaller next-hop MTU.
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("198.51.100.1"), 1, 1, &[0; 1400]))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.node(r).stack.counters().icmp_out_frag_needed, 1);
    assert!(net.node(a).events.iter().any(|(_, e)| *e
        == StackEvent::DestinationUnreachable {
            from: v4("192.0.2.254"),
            code: Icmpv4DestUnreachableCode::FragmentationNeeded
        }));
    // RFC 1191 §6.1: the host learned the path MTU; the same ping now leaves in fragments
    // that fit it, and is answered.
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("198.51.100.1"), 1, 2, &[0; 1400]))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies(net.node(a)).iter().map(|r| r.2).collect::<Vec<_>>(), [2]);
    assert_eq!(net.node(r).stack.counters().icmp_out_frag_needed, 1);
    // A datagram fragmented by the sender (DF clear) is fragmented again by the router.
    let port = NonZeroU16::new(6000).unwrap();
    let server = call(&mut net, b, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            s
        })
    });
    let payload = vec![0x3c; 4000];
    call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            let dst = SpecifiedAddr::new(v4("198.51.100.1")).unwrap();
            udp.send_to(uctx, s, Some((dst, 6000)), &payload[..]).unwrap();
        })
    });
    net.run_for(Duration::from_secs(1));
    let got = call(&mut net, b, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(server).unwrap()));
    assert_eq!(got.payload.body(), &payload[..]);
}

#[test]
fn a_forwarded_packet_whose_next_hop_is_silent_is_not_reported_as_ours() {
    // The router cannot resolve 198.51.100.99; that packet was A's, so the router raises no
    // HostUnreachable of its own (only packets it originated are reported that way).
    let (mut net, a, r, _) = routed(1500);
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("198.51.100.99"), 1, 1, b"x")).unwrap();
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.node(r).stack.counters().ipv4_forw_datagrams, 1, "forwarded into ARP's queue");
    assert!(!net.node(r).events.iter().any(|(_, e)| matches!(e, StackEvent::HostUnreachable { .. })));
}

#[test]
fn rfc1812_5_2_7_1_no_route_at_the_router_is_net_unreachable() {
    let (mut net, a, r, _) = routed(1500);
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("203.0.113.9"), 1, 1, b"x")).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.node(r).stack.counters().ipv4_in_no_routes, 1);
    assert!(net.node(a).events.iter().any(|(_, e)| *e
        == StackEvent::DestinationUnreachable {
            from: v4("192.0.2.254"),
            code: Icmpv4DestUnreachableCode::NetUnreachable
        }));
}

#[test]
fn rfc1812_4_3_2_8_icmp_errors_are_rate_limited_per_destination() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let udp = UdpBuilder::new(v4("192.0.2.1"), v4("192.0.2.2"), 40000, NonZeroU16::new(9).unwrap());
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 1, 1, b"")).unwrap();
    net.run_for(Duration::from_secs(1));
    for _ in 0..100 {
        call(&mut net, a, |stack, ctx| {
            stack.send_ipv4(ctx, None, v4("192.0.2.2"), IpProto::UDP, (&b"x"[..]).encapsulate(udp))
        })
        .unwrap();
    }
    net.run_for(Duration::from_millis(100));
    // A burst of 6 per destination (Linux's icmp_ratelimit), not one error per datagram.
    let sent = net.node(b).stack.counters().icmp_out_dest_unreachs;
    assert!((1..=6).contains(&sent), "{sent} port unreachables for 100 datagrams");
}

#[test]
fn linux_ping_sockets_send_echo_requests_and_receive_their_replies() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    // The application's own echo request: type 8, code 0; the socket fills in its
    // identifier and the checksum, keeps the sequence number and data (as Linux does).
    let mut message = vec![8, 0, 0, 0, 0xee, 0xee, 0, 5];
    message.extend_from_slice(b"ping socket data");
    let socket = call(&mut net, a, |stack, ctx| {
        stack.ping_call(ctx, |pings, pctx| {
            let s = pings.create().unwrap();
            let dst = SpecifiedAddr::new(v4("192.0.2.2")).unwrap();
            pings.send_to(pctx, s, Some(dst), &message).unwrap();
            s
        })
    });
    net.run_for(Duration::from_secs(1));
    let (reply, id) = call(&mut net, a, |stack, ctx| {
        stack.ping_call(ctx, |pings, _| {
            (pings.recv_from(socket).unwrap(), pings.local_addr(socket).unwrap().1)
        })
    });
    assert_eq!(reply.peer_addr, v4("192.0.2.2"));
    let bytes = reply.message.body();
    assert_eq!(bytes[0], 0, "an echo reply");
    assert_eq!(u16::from_be_bytes([bytes[4], bytes[5]]), id.unwrap().get());
    assert_eq!(u16::from_be_bytes([bytes[6], bytes[7]]), 5);
    assert_eq!(&bytes[8..], b"ping socket data");
    // The socket claimed the reply: no stack-level echo event.
    assert!(echo_replies(net.node(a)).is_empty());
    assert!(net
        .node(a)
        .events
        .iter()
        .any(|(_, e)| matches!(e, StackEvent::PingV4 { event: SocketEvent::Readable, .. })));
}

#[test]
fn rfc3376_a_socket_joining_a_group_reports_it_and_receives_its_traffic() {
    let (mut net, hosts) = lan(Impairments::default(), 3);
    let (a, b, c) = (hosts[0], hosts[1], hosts[2]);
    let group = MulticastAddr::new(v4("239.1.2.3")).unwrap();
    let port = NonZeroU16::new(5000).unwrap();
    net.start_capture();
    let listener = call(&mut net, a, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            udp.join_group(uctx, s, group, Some(DEV)).unwrap();
            s
        })
    });
    // A host that did not join binds the same port but gets nothing.
    let bystander = call(&mut net, c, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, Some(port)).unwrap();
            s
        })
    });
    net.run_for(Duration::from_secs(3));
    // As on Linux, sending to a group needs a route for it (here `ip route add 224.0.0.0/4
    // dev eth0`); without one it fails with ENETUNREACH.
    let multicast_route = Route {
        subnet: "224.0.0.0/4".parse().unwrap(),
        device: DEV,
        gateway: None,
        metric: 0,
        source: RouteSource::Static,
    };
    call(&mut net, b, |stack, _| stack.add_ipv4_route(multicast_route)).unwrap();
    call(&mut net, b, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.send_to(uctx, s, Some((SpecifiedAddr::from(group), 5000)), &b"to the group"[..]).unwrap();
        })
    });
    net.run_for(Duration::from_secs(1));
    let got = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(listener).unwrap()));
    assert_eq!(got.payload.body(), b"to the group");
    let none = call(&mut net, c, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(bystander)));
    assert_eq!(none.err(), Some(SocketError::WouldBlock));
    // The join went out as IGMPv3 state-change reports to 224.0.0.22 (RFC 3376 §5.1: sent
    // robustness times), TTL 1 with Router Alert, and every frame passes the oracle.
    let capture = net.capture().unwrap();
    let reports: Vec<&[u8]> = frames(&capture).filter(|f| f.len() > 34 && f[23] == 2).collect();
    assert_eq!(reports.len(), 2);
    for report in &reports {
        assert_eq!((&report[30..34], report[22]), (&[224, 0, 0, 22][..], 1));
        assert_eq!(reserialize_frame(report).unwrap().bytes, *report);
    }
    assert_eq!(net.node(a).stack.counters().igmp_out_msgs, 2);
}

#[test]
fn rfc5227_2_4_an_address_another_host_keeps_claiming_is_given_up() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    net.run_for(Duration::from_secs(5));
    // The other host (MAC ..:02) announces A's address as its own, twice within
    // DEFEND_INTERVAL.
    let claim = EmptyBody
        .encapsulate(ArpBuilder::announcement(*mac(2), v4("192.0.2.1")))
        .encapsulate(EthernetBuilder {
            min_body_len: 0,
            ..EthernetBuilder::new(*mac(2), Mac::BROADCAST, EtherType::ARP)
        })
        .serialize_vec()
        .unwrap()
        .into_inner();
    for _ in 0..2 {
        call(&mut net, a, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(claim.clone())));
        net.run_for(Duration::from_secs(1));
    }
    // A defended once, then gave the address up: reported, no longer a source, its subnet
    // route gone.
    assert!(net.node(a).events.iter().any(
        |(_, e)| *e == StackEvent::AddressConflict { device: DEV, addr: v4("192.0.2.1"), other: *mac(2) }
    ));
    assert_eq!(net.node(a).stack.arp(DEV).unwrap().counters().defended, 1);
    assert_eq!(net.node(a).stack.routes4().len(), 0);
    let sent = call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 1, 1, b""));
    assert_eq!(sent, Err(SendError::NoRoute(IpAddr::V4(v4("192.0.2.2")))));
}

/// An ICMP Redirect from `from` (host `from_n` of `lan`) to 192.0.2.1: traffic for `dst`
/// should go to `gateway`.
fn redirect_frame(from_n: u8, dst: &str, gateway: &str) -> Vec<u8> {
    use crate::wire::icmp::v4::{Icmpv4Redirect, Icmpv4RedirectCode};
    let from = v4(&alloc::format!("192.0.2.{from_n}"));
    let quoted = (&[0u8; 8][..])
        .encapsulate(Ipv4Builder::new(v4("192.0.2.1"), v4(dst), 63, IpProto::UDP))
        .serialize_vec()
        .unwrap()
        .into_inner();
    let redirect = Icmpv4Redirect { code: Icmpv4RedirectCode::Host, gateway: v4(gateway) };
    (&quoted[..])
        .encapsulate(IcmpBuilder::<Ipv4, _>::new((), redirect))
        .encapsulate(Ipv4Builder::new(from, v4("192.0.2.1"), 64, IpProto::ICMP))
        .encapsulate(EthernetBuilder::new(*mac(from_n), *mac(1), EtherType::IPV4))
        .serialize_vec()
        .unwrap()
        .into_inner()
}

#[test]
fn rfc1122_3_2_2_2_hosts_follow_redirects_from_their_gateway_only() {
    let (mut net, hosts) = lan(Impairments::default(), 3);
    let a = hosts[0];
    call(&mut net, a, |stack, _| stack.add_ipv4_route(default_route(v4("192.0.2.2"), DEV).unwrap())).unwrap();
    // A redirect from a host that is not A's gateway for the destination is ignored...
    let spoofed = redirect_frame(3, "198.51.100.7", "192.0.2.3");
    call(&mut net, a, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(spoofed)));
    assert_eq!(net.node(a).stack.counters().redirects_ignored, 1);
    // ...one from the gateway itself, naming an on-link router, is followed.
    let redirect = redirect_frame(2, "198.51.100.7", "192.0.2.3");
    call(&mut net, a, |stack, ctx| stack.receive_frame(ctx, DEV, Buf::from_body(redirect)));
    assert_eq!(net.node(a).stack.counters().redirects_accepted, 1);
    net.start_capture();
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("198.51.100.7"), 1, 1, b"via .3"))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    // The echo request left for host 3's MAC (resolved by ARP); other destinations still go
    // through the gateway.
    let capture = net.capture().unwrap();
    let to_three = frames(&capture)
        .filter(|f| f.get(12..14) == Some(&[0x08, 0x00][..]) && f[..6] == mac(3).bytes())
        .count();
    assert_eq!(to_three, 1);
    let stack = &net.node(a).stack;
    assert!(stack.arp(DEV).unwrap().neighbors().get(&v4("192.0.2.3")).is_some());
}
