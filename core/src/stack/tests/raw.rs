//! Whole-stack raw sockets (Linux raw(7), RFC 3542 §3): ping over IPv4 and IPv6 as root
//! does it, ICMP filters, and protocols the stack does not run.

use super::ipv6::{lan6, v6};
use super::*;
use crate::transport::raw::{IcmpFilter, RawSocketId};
use crate::wire::icmp::{IcmpBuilder, Icmpv6Packet, Icmpv6PseudoHeader};

fn s4(s: &str) -> SpecifiedAddr<Ipv4Addr> {
    SpecifiedAddr::new(v4(s)).unwrap()
}

/// An echo request as `ping` writes it on a raw ICMP socket: its own checksum included.
fn ping_request(id: u16, seq: u16) -> Vec<u8> {
    (&[0xa5u8; 24][..])
        .encapsulate(IcmpBuilder::<Ipv4, _>::new((), EchoRequest { id, seq }))
        .serialize_vec()
        .unwrap()
        .body()
        .to_vec()
}

fn raw_events4(host: &Host, socket: RawSocketId<Ipv4>) -> usize {
    host.events
        .iter()
        .filter(|(_, e)| matches!(e, StackEvent::RawV4 { socket: s, .. } if *s == socket))
        .count()
}

/// Everything queued on an IPv4 raw socket: (source, the bytes from the IPv4 header on).
fn drain4(net: &mut FakeNetwork<Host>, host: NodeIndex, id: RawSocketId<Ipv4>) -> Vec<(Ipv4Addr, Vec<u8>)> {
    call(net, host, |stack, ctx| {
        stack.raw_call(ctx, |raw, _| {
            core::iter::from_fn(|| raw.recv_from(id).ok())
                .map(|d| (d.peer_addr, d.packet.body().to_vec()))
                .collect()
        })
    })
}

#[test]
fn raw7_ping_over_an_ipv4_raw_socket_sees_the_reply_with_its_header() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (pinger, watcher) = (
        call(&mut net, a, |stack, ctx| stack.raw_call(ctx, |raw, _| raw.create(IpProto::ICMP))).unwrap(),
        call(&mut net, b, |stack, ctx| stack.raw_call(ctx, |raw, _| raw.create(IpProto::ICMP))).unwrap(),
    );
    let request = ping_request(0x1234, 1);
    call(&mut net, a, |stack, ctx| {
        stack.raw_call(ctx, |raw, rctx| {
            raw.set_hop_limit(pinger, Some(7))?;
            raw.send_to(rctx, pinger, Some(s4("192.0.2.2")), &request)
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(100));
    // B's own ICMP answered, and B's raw socket saw the request too, with A's TTL.
    assert_eq!(net.node(b).stack.counters().icmp_out_echo_reps, 1);
    let seen = drain4(&mut net, b, watcher);
    assert_eq!(seen.len(), 1);
    let (from, bytes) = &seen[0];
    assert_eq!((*from, bytes[8], bytes[9]), (v4("192.0.2.1"), 7, 1), "source, TTL, protocol");
    assert_eq!(&bytes[20..], &request[..]);
    // A's raw socket got the reply, IPv4 header first.
    let got = drain4(&mut net, a, pinger);
    assert_eq!(got.len(), 1);
    let (from, bytes) = &got[0];
    assert_eq!(*from, v4("192.0.2.2"));
    assert_eq!((bytes[0] >> 4, bytes[20], &bytes[24..28]), (4, 0, &[0x12, 0x34, 0, 1][..]));
    assert_eq!(raw_events4(net.node(a), pinger), 1);
    assert_eq!(net.node(a).stack.raw4().counters().out_packets, 1);
    assert_eq!(net.node(a).stack.raw4().counters().in_delivered, 1);
}

#[test]
fn rfc3542_ping6_over_a_raw_socket_the_stack_checksums_and_filters() {
    let (mut net, a, b) = lan6();
    let (all, echo_only) = call(&mut net, a, |stack, ctx| {
        stack.raw6_call(ctx, |raw, _| {
            let all = raw.create(IpProto::ICMPV6)?;
            let echo_only = raw.create(IpProto::ICMPV6)?;
            let mut filter = IcmpFilter::BLOCK_ALL;
            filter.set_pass(129);
            raw.set_icmp_filter(echo_only, filter)?;
            Ok::<_, SocketError>((all, echo_only))
        })
    })
    .unwrap();
    // ping6 leaves the checksum to the stack (RFC 3542 §3.1).
    let request = [128u8, 0, 0, 0, 0x43, 0x21, 0, 9, 1, 2, 3, 4];
    let dst = SpecifiedAddr::new(v6("2001:db8::2")).unwrap();
    call(&mut net, a, |stack, ctx| {
        stack.raw6_call(ctx, |raw, rctx| raw.send_to(rctx, all, Some(dst), &request))
    })
    .unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(net.node(b).stack.counters().ipv6.icmp_out_echo_replies, 1, "B found the checksum good");
    let drain = |net: &mut FakeNetwork<Host>, id| {
        call(net, a, |stack, ctx| {
            stack.raw6_call(ctx, |raw, _| core::iter::from_fn(|| raw.recv_from(id).ok()).collect::<Vec<_>>())
        })
    };
    let replies = drain(&mut net, echo_only);
    assert_eq!(replies.len(), 1);
    let reply = &replies[0];
    assert_eq!(
        (reply.peer_addr, reply.local_addr, reply.hop_limit),
        (v6("2001:db8::2"), v6("2001:db8::1"), 64)
    );
    // No IPv6 header: the ICMPv6 message itself, checksum verified.
    let pseudo = Icmpv6PseudoHeader { src: reply.peer_addr, dst: reply.local_addr };
    let message = Icmpv6Packet::parse_bytes(reply.packet.body(), pseudo).unwrap();
    assert_eq!((u8::from(message.msg_type()), message.body()), (129, &[1u8, 2, 3, 4][..]));
    // The unfiltered socket saw neighbour discovery as well.
    let types: Vec<u8> = drain(&mut net, all).iter().map(|d| d.packet.body()[0]).collect();
    assert!(types.contains(&129) && types.iter().any(|t| (133..=137).contains(t)), "{types:?}");
}

#[test]
fn raw7_a_raw_socket_takes_a_protocol_the_stack_does_not_run() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    const EXPERIMENT: IpProto = IpProto(253);
    let errors =
        call(&mut net, a, |stack, ctx| stack.raw_call(ctx, |raw, _| raw.create(IpProto::ICMP))).unwrap();
    let sender =
        call(&mut net, a, |stack, ctx| stack.raw_call(ctx, |raw, _| raw.create(EXPERIMENT))).unwrap();
    let send = |net: &mut FakeNetwork<Host>| {
        call(net, a, |stack, ctx| {
            stack.raw_call(ctx, |raw, rctx| raw.send_to(rctx, sender, Some(s4("192.0.2.2")), b"hello"))
        })
        .unwrap();
        net.run_for(Duration::from_millis(100));
    };
    // Nobody on B runs protocol 253: ICMP protocol unreachable comes back (RFC 1122 §3.2.2.1).
    send(&mut net);
    let unreachable = drain4(&mut net, a, errors);
    assert_eq!(unreachable.len(), 1);
    assert_eq!((unreachable[0].1[20], unreachable[0].1[21]), (3, 2));
    // Once a raw socket holds it, B delivers and stays silent.
    let receiver =
        call(&mut net, b, |stack, ctx| stack.raw_call(ctx, |raw, _| raw.create(EXPERIMENT))).unwrap();
    send(&mut net);
    assert!(drain4(&mut net, a, errors).is_empty());
    let got = drain4(&mut net, b, receiver);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].1[9], &got[0].1[20..]), (253, &b"hello"[..]));
    // Closing it brings the unreachables back.
    call(&mut net, b, |stack, ctx| stack.raw_call(ctx, |raw, _| raw.close(receiver))).unwrap();
    send(&mut net);
    assert_eq!(drain4(&mut net, a, errors).len(), 1);
}
