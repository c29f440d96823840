//! Whole-stack dual-stack TCP (RFC 3493 §3.7, §5.3; RFC 4291 §2.5.5.2): IPv6 sockets that
//! accept and open IPv4 connections, IPV6_V6ONLY, and the bind rules between the versions.

use super::ipv6::{lan6, v6};
use super::tcp::{accept4, addr, connect4, listen4, pattern, port, transfer};
use super::*;
use crate::transport::tcp::segment::write_segment;
use crate::transport::tcp::{Endpoint, Event, SeqNum, Shutdown, State, TcpSocketId};
use crate::wire::tcp::{TcpFlags, TcpOptions};

type Id6 = TcpSocketId<Ipv6>;

fn s6(s: &str) -> SpecifiedAddr<Ipv6Addr> {
    SpecifiedAddr::new(v6(s)).unwrap()
}

/// `a.b.c.d` as an IPv6 socket names it: `::ffff:a.b.c.d`.
fn mapped(s: &str) -> Ipv6Addr {
    v4(s).to_ipv6_mapped()
}

/// An IPv6 listener on `host` at `addr` (`None`: `::`) port `p`, IPV6_V6ONLY `v6only`.
fn listen6(
    net: &mut FakeNetwork<Host>,
    host: NodeIndex,
    addr: Option<Ipv6Addr>,
    p: u16,
    v6only: bool,
) -> Result<Id6, SocketError> {
    call(net, host, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0)?;
            tcp.set_v6only(s, v6only)?;
            let bound = tcp.bind(tctx, s, addr.and_then(SpecifiedAddr::new), Some(port(p)));
            match bound.and_then(|()| tcp.listen(tctx, s, 16)) {
                Ok(()) => Ok(s),
                Err(e) => {
                    tcp.close(tctx, s)?;
                    Err(e)
                }
            }
        })
    })
}

fn accept6(net: &mut FakeNetwork<Host>, host: NodeIndex, listener: Id6) -> Result<Id6, SocketError> {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.accept(tctx, listener).map(|(s, _)| s)))
}

fn tcp6_events(host: &Host, socket: Id6) -> Vec<Event> {
    host.events
        .iter()
        .filter_map(|(_, e)| match *e {
            StackEvent::TcpV6 { socket: s, event } if s == socket => Some(event),
            _ => None,
        })
        .collect()
}

/// Runs `setup`, which binds a fresh socket of `host`, and returns what it returned.
fn try_bind(
    net: &mut FakeNetwork<Host>,
    host: NodeIndex,
    setup: impl FnOnce(&mut Tcp, &mut TransportCtx<'_, HostCtx<'_>, Vec<u8>>) -> Result<(), SocketError>,
) -> Result<(), SocketError> {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| setup(tcp, tctx)))
}

#[test]
fn rfc3493_3_7_a_dual_stack_listener_accepts_ipv4_as_mapped_ipv6_sockets() {
    let (mut net, a, b) = lan6();
    net.start_capture();
    let listener = listen6(&mut net, b, None, 80, false).unwrap();
    let client = connect4(&mut net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_millis(50));
    assert!(tcp6_events(net.node(b), listener).contains(&Event::Readable));
    let (server, peer) =
        call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.accept(tctx, listener))).unwrap();
    // The accepted socket is an IPv6 socket whose addresses are IPv4-mapped.
    assert_eq!(peer.addr, mapped("192.0.2.1"));
    let tcp = net.node(b).stack.tcp();
    assert_eq!(tcp.peer_addr(server).unwrap(), peer);
    assert_eq!(tcp.local_addr(server).unwrap().addr, mapped("192.0.2.2"));
    assert_eq!(tcp.state(server), Ok(State::Established));
    assert!(tcp.v6only(server) == Ok(false));
    // Its segments carry IPv4 headers: 20 bytes, not 40, come off the MSS.
    assert_eq!(tcp.info(server).unwrap().snd_mss, 1500 - 20 - 20 - 12);

    let request = pattern(200_000);
    assert_eq!(transfer(&mut net, (a, client), (b, server), &request, Duration::from_secs(5)), request);
    let response = pattern(100_000);
    assert_eq!(transfer(&mut net, (b, server), (a, client), &response, Duration::from_secs(5)), response);
    assert!(tcp6_events(net.node(b), server).contains(&Event::Readable));

    call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| tcp.shutdown(tctx, server, Shutdown::Write))
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    assert_eq!(
        call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.recv(tctx, client, &mut [0; 4]))),
        Ok(0)
    );
    call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, client))).unwrap();
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, server))).unwrap();
    net.run_for(Duration::from_millis(100));
    assert_eq!(net.node(b).stack.tcp().len(), 2, "the listener and the TIME-WAIT connection");
    assert_eq!(net.node(a).stack.tcp().counters().out_rsts, 0);
    assert_eq!(net.node(b).stack.tcp().counters().out_rsts, 0);
    // Every frame on the wire was IPv4 or NDP, parses and re-serializes byte for byte.
    let capture = net.capture().unwrap();
    for frame in frames(&capture) {
        assert_eq!(reserialize_frame(frame).unwrap().bytes, frame);
    }
}

#[test]
fn rfc3493_5_3_an_ipv6_only_listener_refuses_ipv4_and_v6only_is_set_before_bind() {
    let (mut net, a, b) = lan6();
    let listener = listen6(&mut net, b, None, 80, true).unwrap();
    let client = connect4(&mut net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_millis(50));
    let error = call(&mut net, a, |stack, _| stack.tcp.take_error(client));
    assert_eq!(error, Ok(Some(SocketError::ConnectionRefused)));
    assert_eq!(net.node(b).stack.tcp().v6only(listener), Ok(true));
    // Linux: IPV6_V6ONLY cannot change once the socket has a port.
    let after_bind = call(&mut net, b, |stack, _| stack.tcp.set_v6only(listener, false));
    assert_eq!(after_bind, Err(SocketError::InvalidArgument));
    // It still takes IPv6.
    let client6 = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.connect(tctx, s, s6("2001:db8::2"), port(80)).map(|()| s)
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    assert_eq!(net.node(a).stack.tcp().state(client6), Ok(State::Established));
    assert!(accept6(&mut net, b, listener).is_ok());
}

#[test]
fn rfc4291_2_5_5_2_a_dual_stack_socket_connects_to_a_mapped_address_over_ipv4() {
    let (mut net, a, b) = lan6();
    let listener = listen4(&mut net, b, 80);
    let client = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.connect(tctx, s, SpecifiedAddr::new(mapped("192.0.2.2")).unwrap(), port(80)).map(|()| s)
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    assert!(tcp6_events(net.node(a), client).contains(&Event::Connected));
    let server = accept4(&mut net, b, listener).unwrap();
    let tcp = net.node(a).stack.tcp();
    let local = tcp.local_addr(client).unwrap();
    assert_eq!(local.addr, mapped("192.0.2.1"));
    assert_eq!(tcp.peer_addr(client).unwrap().addr, mapped("192.0.2.2"));
    assert_eq!(net.node(b).stack.tcp().peer_addr(server).unwrap().addr, v4("192.0.2.1"));
    assert_eq!(net.node(b).stack.tcp().peer_addr(server).unwrap().port, local.port);
    let data = pattern(100_000);
    assert_eq!(transfer(&mut net, (a, client), (b, server), &data, Duration::from_secs(5)), data);
    assert_eq!(transfer(&mut net, (b, server), (a, client), &data, Duration::from_secs(5)), data);

    // IPV6_V6ONLY sockets cannot (ENETUNREACH, as Linux's tcp_v6_connect).
    let refused = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.set_v6only(s, true).unwrap();
            tcp.connect(tctx, s, SpecifiedAddr::new(mapped("192.0.2.2")).unwrap(), port(80))
        })
    });
    assert_eq!(refused, Err(SocketError::NetworkUnreachable));
    // Nor may a socket bound to an IPv6 address reach an IPv4 one.
    let mixed = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.bind(tctx, s, Some(s6("2001:db8::1")), None).unwrap();
            tcp.connect(tctx, s, SpecifiedAddr::new(mapped("192.0.2.2")).unwrap(), port(80))
        })
    });
    assert_eq!(mixed, Err(SocketError::InvalidArgument));
}

#[test]
fn a_listener_bound_to_a_mapped_address_takes_ipv4_to_that_address_only() {
    let (mut net, a, b) = lan6();
    let listener = listen6(&mut net, b, Some(mapped("192.0.2.2")), 80, false).unwrap();
    // IPv6 to the port finds no listener.
    let client6 = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0).unwrap();
            tcp.connect(tctx, s, s6("2001:db8::2"), port(80)).map(|()| s)
        })
    })
    .unwrap();
    let client4 = connect4(&mut net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_millis(50));
    assert_eq!(net.node(a).stack.tcp().state(client6), Ok(State::Closed));
    assert_eq!(net.node(a).stack.tcp().state(client4), Ok(State::Established));
    let server = accept6(&mut net, b, listener).unwrap();
    assert_eq!(net.node(b).stack.tcp().local_addr(server).unwrap().addr, mapped("192.0.2.2"));
    // An IPV6_V6ONLY socket cannot bind one (EINVAL, Linux's inet6_bind).
    let only = try_bind(&mut net, b, |tcp, tctx| {
        let s = tcp.create::<Ipv6>(0)?;
        tcp.set_v6only(s, true)?;
        tcp.bind(tctx, s, SpecifiedAddr::new(mapped("192.0.2.2")), Some(port(81)))
    });
    assert_eq!(only, Err(SocketError::InvalidArgument));
}

#[test]
fn bind_conflicts_between_versions_follow_linux_ipv6_rcv_saddr_equal() {
    let (mut net, _, b) = lan6();
    let bind4 = |net: &mut FakeNetwork<Host>, a: Option<&str>, p: u16, reuse: bool| {
        try_bind(net, b, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0)?;
            tcp.set_reuse_addr(s, reuse)?;
            tcp.bind(tctx, s, a.map(addr), Some(port(p)))
        })
    };
    let bind6 = |net: &mut FakeNetwork<Host>, a: Option<Ipv6Addr>, p: u16, v6only: bool, reuse: bool| {
        try_bind(net, b, |tcp, tctx| {
            let s = tcp.create::<Ipv6>(0)?;
            tcp.set_v6only(s, v6only)?;
            tcp.set_reuse_addr(s, reuse)?;
            tcp.bind(tctx, s, a.and_then(SpecifiedAddr::new), Some(port(p)))
        })
    };
    // A dual-stack `::` holds the IPv4 wildcard and every IPv4 address of its port.
    bind6(&mut net, None, 80, false, false).unwrap();
    assert_eq!(bind4(&mut net, None, 80, false), Err(SocketError::AddrInUse));
    assert_eq!(bind4(&mut net, Some("192.0.2.2"), 80, false), Err(SocketError::AddrInUse));
    assert_eq!(bind6(&mut net, Some(mapped("192.0.2.2")), 80, false, false), Err(SocketError::AddrInUse));
    assert_eq!(bind6(&mut net, None, 80, true, false), Err(SocketError::AddrInUse), "`::` twice");
    // An IPv6-only `::` leaves IPv4 alone; an IPv4 wildcard leaves IPv6-only sockets alone.
    bind6(&mut net, None, 81, true, false).unwrap();
    bind4(&mut net, None, 81, false).unwrap();
    bind6(&mut net, Some(mapped("192.0.2.2")), 82, false, false).unwrap();
    assert_eq!(bind4(&mut net, Some("192.0.2.2"), 82, false), Err(SocketError::AddrInUse));
    bind6(&mut net, None, 82, true, false).unwrap();
    // An IPv4 wildcard holds the port against dual-stack `::`, and a specific IPv6 address
    // does not touch IPv4 at all.
    bind4(&mut net, None, 83, false).unwrap();
    assert_eq!(bind6(&mut net, None, 83, false, false), Err(SocketError::AddrInUse));
    bind6(&mut net, Some(v6("2001:db8::2")), 83, false, false).unwrap();
    // SO_REUSEADDR on both sides lets bound (not listening) sockets share, across versions.
    bind4(&mut net, None, 84, true).unwrap();
    bind6(&mut net, None, 84, false, true).unwrap();
    // Listeners never share without SO_REUSEPORT: a dual-stack listener next to an IPv4 one
    // needs IPV6_V6ONLY, as on Linux.
    let _v4 = listen4(&mut net, b, 85);
    assert_eq!(listen6(&mut net, b, None, 85, false), Err(SocketError::AddrInUse));
    assert!(listen6(&mut net, b, None, 85, true).is_ok());
}

#[test]
fn a_native_ipv4_listener_beats_a_dual_stack_one_in_a_reuseport_pair() {
    let (mut net, a, b) = lan6();
    let (l4, l6) = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let l4 = tcp.create::<Ipv4>(7).unwrap();
            tcp.set_reuse_port(l4, true).unwrap();
            tcp.bind(tctx, l4, None, Some(port(80))).unwrap();
            tcp.listen(tctx, l4, 8).unwrap();
            let l6 = tcp.create::<Ipv6>(7).unwrap();
            tcp.set_reuse_port(l6, true).unwrap();
            tcp.bind(tctx, l6, None, Some(port(80))).unwrap();
            tcp.listen(tctx, l6, 8).unwrap();
            (l4, l6)
        })
    });
    for _ in 0..4 {
        connect4(&mut net, a, "192.0.2.2", 80);
    }
    net.run_for(Duration::from_millis(1500));
    assert_eq!(net.node(b).stack.tcp().queues(l4).unwrap().0, 4);
    assert_eq!(net.node(b).stack.tcp().queues(l6).unwrap().0, 0);
}

#[test]
fn rfc4291_2_5_5_2_ipv6_segments_from_mapped_addresses_are_dropped() {
    let (mut net, _, b) = lan6();
    let _listener = listen6(&mut net, b, None, 80, false).unwrap();
    let (src, dst) = (mapped("192.0.2.1"), v6("2001:db8::2"));
    let mut syn = [0u8; 20];
    let (from, to) = (Endpoint { addr: src, port: 4000 }, Endpoint { addr: dst, port: 80 });
    let (seq, ack) = (SeqNum(1), SeqNum(0));
    let n = write_segment(&mut syn, from, to, seq, ack, TcpFlags::SYN, 1000, &TcpOptions::NONE, 0).unwrap();
    call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| tcp.deliver::<Ipv6, _>(tctx, DEV, src, dst, true, &syn[..n]))
    });
    let counters = net.node(b).stack.tcp().counters();
    assert_eq!((counters.drop_not_unicast, counters.out_rsts), (1, 0));
}
