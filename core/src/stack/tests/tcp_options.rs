//! Whole-stack checks of the IP header fields a TCP socket chooses, seen on the wire:
//! IP_TTL and IPV6_UNICAST_HOPS (Linux's `uc_ttl` and `hop_limit`), IP_TOS and IPV6_TCLASS
//! with the ECN bits left to the stack (RFC 3168 §6.1; Linux's `__ip_sock_set_tos`),
//! inherited by accepted connections, kept apart per IP version on dual-stack sockets.

use super::ipv6::{lan6, v6};
use super::tcp::{accept4, addr, connect4, pattern, port, transfer};
use super::*;
use crate::addr::IpVersion;
use crate::transport::tcp::{IpHeaderFields, IpHeaderOptions, TcpSocketId};
use crate::wire::ethernet::EthernetFrame;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;

const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// The IP header of one captured TCP segment, with its TCP source port and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    v6: bool,
    src_port: u16,
    flags: u8,
    hop_limit: u8,
    tos: u8,
}

/// Every TCP segment on the wire since the capture started.
fn segments(net: &FakeNetwork<Host>) -> Vec<Seen> {
    let capture = net.capture().unwrap();
    frames(&capture)
        .filter_map(|frame| {
            let frame = EthernetFrame::<&[u8]>::parse_bytes(frame, ()).ok()?;
            let (v6, proto, hop_limit, tos, body) = if frame.ethertype() == EtherType::IPV4 {
                let ip = Ipv4Packet::<&[u8]>::parse_bytes(frame.body(), ()).ok()?;
                let tos = ip.dscp().value() << 2 | ip.ecn().bits();
                (false, ip.proto(), ip.ttl(), tos, ip.body().to_vec())
            } else if frame.ethertype() == EtherType::IPV6 {
                let ip = Ipv6Packet::<&[u8]>::parse_bytes(frame.body(), ()).ok()?;
                let tos = ip.dscp().value() << 2 | ip.ecn().bits();
                (true, ip.proto(), ip.hop_limit(), tos, ip.body().to_vec())
            } else {
                return None;
            };
            if proto != IpProto::TCP || body.len() < 20 {
                return None;
            }
            let src_port = u16::from_be_bytes([body[0], body[1]]);
            Some(Seen { v6, src_port, flags: body[13], hop_limit, tos })
        })
        .collect()
}

/// The segments from port 80 (`server`) or to it, over IPv6 (`v6`) or IPv4.
fn side(seen: &[Seen], server: bool, v6: bool) -> Vec<Seen> {
    seen.iter().copied().filter(|s| (s.src_port == 80) == server && s.v6 == v6).collect()
}

fn set<I: crate::transport::tcp::TcpIpExt>(
    tcp: &mut Tcp,
    s: TcpSocketId<I>,
    version: IpVersion,
    hops: Option<u8>,
    tos: u8,
) {
    tcp.set_hop_limit(s, version, hops).unwrap();
    tcp.set_tos(s, version, tos).unwrap();
}

#[test]
fn ip_ttl_and_ip_tos_mark_every_segment_and_accepted_connections_inherit_them() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    net.start_capture();
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            // DSCP EF (46) with ECT(1), which TCP leaves to the stack.
            set(tcp, s, IpVersion::V4, Some(9), 0xb9);
            tcp.bind(tctx, s, None, Some(port(80))).unwrap();
            tcp.listen(tctx, s, 16).unwrap();
            s
        })
    });
    let client = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            set(tcp, s, IpVersion::V4, Some(7), 0x2b);
            tcp.connect(tctx, s, addr("192.0.2.2"), port(80)).unwrap();
            s
        })
    });
    net.run_for(Duration::from_millis(50));
    let server = accept4(&mut net, b, listener).unwrap();
    let expected = |hops, tos| IpHeaderOptions {
        v4: IpHeaderFields { hop_limit: Some(hops), tos },
        v6: IpHeaderFields::default(),
    };
    assert_eq!(net.node(a).stack.tcp().ip_header(client), Ok(expected(7, 0x28)), "ECN bits masked");
    assert_eq!(net.node(b).stack.tcp().ip_header(listener), Ok(expected(9, 0xb8)));
    assert_eq!(net.node(b).stack.tcp().ip_header(server), Ok(expected(9, 0xb8)), "inherited");
    let data = pattern(20_000);
    assert_eq!(transfer(&mut net, (a, client), (b, server), &data, Duration::from_secs(2)), data);
    assert_eq!(transfer(&mut net, (b, server), (a, client), &data, Duration::from_secs(2)), data);

    let seen = segments(&net);
    let (from_client, from_server) = (side(&seen, false, false), side(&seen, true, false));
    assert!(from_client.iter().any(|s| s.flags == SYN), "the SYN was captured");
    assert!(from_server.iter().any(|s| s.flags == SYN | ACK), "the SYN-ACK was captured");
    assert!(from_client.len() > 10 && from_server.len() > 10);
    assert!(from_client.iter().all(|s| (s.hop_limit, s.tos) == (7, 0x28)), "{from_client:?}");
    assert!(from_server.iter().all(|s| (s.hop_limit, s.tos) == (9, 0xb8)), "{from_server:?}");

    // Unset (Linux's -1) restores the default, from the next segment on.
    call(&mut net, a, |stack, _| set(&mut stack.tcp, client, IpVersion::V4, None, 0));
    net.start_capture();
    assert_eq!(transfer(&mut net, (a, client), (b, server), &data, Duration::from_secs(2)), data);
    let from_client = side(&segments(&net), false, false);
    assert!(!from_client.is_empty());
    assert!(from_client.iter().all(|s| (s.hop_limit, s.tos) == (DEFAULT_TTL, 0)), "{from_client:?}");

    // The RST a connection sends carries its TTL too; the one answering a segment no socket
    // takes carries the default, whatever the listener on another port set.
    call(&mut net, a, |stack, _| stack.tcp.set_hop_limit(client, IpVersion::V4, Some(3))).unwrap();
    net.start_capture();
    call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close_unread(tctx, client))).unwrap();
    connect4(&mut net, a, "192.0.2.2", 81);
    net.run_for(Duration::from_millis(50));
    let seen = segments(&net);
    let reset = seen.iter().find(|s| s.flags & RST != 0 && s.src_port != 80 && s.src_port != 81);
    assert_eq!(reset.map(|s| s.hop_limit), Some(3), "{seen:?}");
    let refused = seen.iter().find(|s| s.src_port == 81).expect("port 81 answered");
    assert_eq!((refused.flags & RST, refused.hop_limit, refused.tos), (RST, DEFAULT_TTL, 0));
}

#[test]
fn ip_ttl_of_zero_and_ipv6_options_on_ipv4_sockets_are_einval() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    call(&mut net, hosts[0], |stack, _| {
        let tcp = &mut stack.tcp;
        let s4 = tcp.create::<Ipv4>(0).unwrap();
        assert_eq!(tcp.set_hop_limit(s4, IpVersion::V4, Some(0)), Err(SocketError::InvalidArgument));
        assert_eq!(tcp.set_hop_limit(s4, IpVersion::V6, Some(5)), Err(SocketError::InvalidArgument));
        assert_eq!(tcp.set_tos(s4, IpVersion::V6, 0x20), Err(SocketError::InvalidArgument));
        assert_eq!(tcp.set_hop_limit(s4, IpVersion::V4, Some(255)), Ok(()));
        // IPV6_UNICAST_HOPS 0 is allowed, as on Linux; IP_TTL 0 is not, on IPv6 sockets too.
        let s6 = tcp.create::<Ipv6>(0).unwrap();
        assert_eq!(tcp.set_hop_limit(s6, IpVersion::V6, Some(0)), Ok(()));
        assert_eq!(tcp.set_hop_limit(s6, IpVersion::V4, Some(0)), Err(SocketError::InvalidArgument));
        assert_eq!(tcp.ip_header(s6).unwrap().v6.hop_limit, Some(0));
    });
}

#[test]
fn a_dual_stack_listener_uses_ipv6_hops_and_tclass_over_ipv6_and_ttl_and_tos_over_ipv4() {
    let (mut net, a, b) = lan6();
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            set(tcp, s, IpVersion::V6, Some(5), 0x50);
            set(tcp, s, IpVersion::V4, Some(11), 0x62);
            tcp.bind(tctx, s, None, Some(port(80))).unwrap();
            tcp.listen(tctx, s, 16).unwrap();
            s
        })
    });
    net.start_capture();
    let client6 = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.connect(tctx, s, SpecifiedAddr::new(v6("2001:db8::2")).unwrap(), port(80)).unwrap();
            s
        })
    });
    let client4 = connect4(&mut net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_millis(50));
    let accept = |net: &mut FakeNetwork<Host>| {
        call(net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.accept(tctx, listener).map(|(s, _)| s)))
            .unwrap()
    };
    let (server1, server2) = (accept(&mut net), accept(&mut net));
    let data = pattern(5_000);
    for server in [server1, server2] {
        let peer = net.node(b).stack.tcp().peer_addr(server).unwrap();
        let received = if peer.addr.to_ipv4_mapped().is_some() {
            transfer(&mut net, (b, server), (a, client4), &data, Duration::from_secs(2))
        } else {
            transfer(&mut net, (b, server), (a, client6), &data, Duration::from_secs(2))
        };
        assert_eq!(received, data);
    }

    let seen = segments(&net);
    let (over6, over4) = (side(&seen, true, true), side(&seen, true, false));
    assert!(over6.iter().any(|s| s.flags == SYN | ACK) && over4.iter().any(|s| s.flags == SYN | ACK));
    assert!(over6.iter().all(|s| (s.hop_limit, s.tos) == (5, 0x50)), "{over6:?}");
    assert!(over4.iter().all(|s| (s.hop_limit, s.tos) == (11, 0x60)), "{over4:?}");
    // The clients chose nothing: the defaults (CurHopLimit 64 without a router's say).
    let clients: Vec<Seen> = [side(&seen, false, true), side(&seen, false, false)].concat();
    assert!(clients.iter().all(|s| (s.hop_limit, s.tos) == (64, 0)), "{clients:?}");
}
