//! Whole-stack TCP scenarios over the fake network: the socket layer, demultiplexing, RSTs
//! for closed ports, loss, path MTU, loopback and the bind rules.

use super::*;
use crate::transport::tcp::buffer::copy_to_runs;
use crate::transport::tcp::{AnyTcpSocketId, Event, Shutdown, State, Tcp, TcpSocketId};

type Id4 = TcpSocketId<Ipv4>;

pub(super) fn addr(s: &str) -> SpecifiedAddr<Ipv4Addr> {
    SpecifiedAddr::new(v4(s)).unwrap()
}

pub(super) fn port(p: u16) -> NonZeroU16 {
    NonZeroU16::new(p).unwrap()
}

/// A listener on `host`'s wildcard address at `p`.
pub(super) fn listen4(net: &mut FakeNetwork<Host>, host: NodeIndex, p: u16) -> Id4 {
    call(net, host, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            tcp.bind(tctx, s, None, Some(port(p))).unwrap();
            tcp.listen(tctx, s, 16).unwrap();
            s
        })
    })
}

pub(super) fn connect4(net: &mut FakeNetwork<Host>, host: NodeIndex, dst: &str, p: u16) -> Id4 {
    call(net, host, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            tcp.connect(tctx, s, addr(dst), port(p)).unwrap();
            s
        })
    })
}

pub(super) fn accept4(
    net: &mut FakeNetwork<Host>,
    host: NodeIndex,
    listener: Id4,
) -> Result<Id4, SocketError> {
    call(net, host, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.accept(tctx, listener).map(|(s, _)| s)))
}

fn state(net: &FakeNetwork<Host>, host: NodeIndex, s: Id4) -> State {
    net.node(host).stack.tcp().state(s).unwrap()
}

fn tcp_events(host: &Host, socket: Id4) -> Vec<Event> {
    host.events
        .iter()
        .filter_map(|(_, e)| match *e {
            StackEvent::TcpV4 { socket: s, event } if s == socket => Some(event),
            _ => None,
        })
        .collect()
}

/// A byte pattern that catches misordered or misplaced data.
pub(super) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// send(2) on a socket of either version; 0 when nothing fits.
fn send_any(net: &mut FakeNetwork<Host>, host: NodeIndex, socket: AnyTcpSocketId, data: &[u8]) -> usize {
    call(net, host, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| match socket {
            AnyTcpSocketId::V4(s) => tcp.send(tctx, s, data),
            AnyTcpSocketId::V6(s) => tcp.send(tctx, s, data),
        })
    })
    .unwrap_or(0)
}

/// recv(2) on a socket of either version.
fn recv_any(
    net: &mut FakeNetwork<Host>,
    host: NodeIndex,
    socket: AnyTcpSocketId,
    buf: &mut [u8],
) -> Result<usize, SocketError> {
    call(net, host, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| match socket {
            AnyTcpSocketId::V4(s) => tcp.recv(tctx, s, buf),
            AnyTcpSocketId::V6(s) => tcp.recv(tctx, s, buf),
        })
    })
}

/// Moves `data` from `from`'s socket to `to`'s, the applications writing and reading as
/// fast as the connection takes it, in 1 ms steps of network time; returns what arrived.
pub(super) fn transfer(
    net: &mut FakeNetwork<Host>,
    (from, tx): (NodeIndex, impl Into<AnyTcpSocketId>),
    (to, rx): (NodeIndex, impl Into<AnyTcpSocketId>),
    data: &[u8],
    limit: Duration,
) -> Vec<u8> {
    let (tx, rx) = (tx.into(), rx.into());
    let deadline = net.now() + limit;
    let (mut sent, mut received) = (0, Vec::with_capacity(data.len()));
    let mut buf = vec![0; 65536];
    while received.len() < data.len() && net.now() < deadline {
        if sent < data.len() {
            sent += send_any(net, from, tx, &data[sent..]);
        }
        loop {
            match recv_any(net, to, rx, &mut buf) {
                Ok(0) | Err(SocketError::WouldBlock) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) => panic!("recv failed: {e:?}"),
            }
        }
        net.run_for(Duration::from_millis(1));
    }
    received
}

/// A connection from A (192.0.2.1) to B (192.0.2.2) port 80, accepted.
fn connected(net: &mut FakeNetwork<Host>, a: NodeIndex, b: NodeIndex) -> (Id4, Id4, Id4) {
    let listener = listen4(net, b, 80);
    let client = connect4(net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_millis(50));
    let server = accept4(net, b, listener).expect("the handshake completed");
    (listener, client, server)
}

#[test]
fn rfc9293_3_5_handshake_data_both_ways_and_orderly_close() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    net.start_capture();
    let (listener, client, server) = connected(&mut net, a, b);
    assert!(tcp_events(net.node(b), listener).contains(&Event::Readable), "the listener woke for accept");
    assert!(tcp_events(net.node(a), client).contains(&Event::Connected));
    assert_eq!((state(&net, a, client), state(&net, b, server)), (State::Established, State::Established));
    let peer = net.node(b).stack.tcp().peer_addr(server).unwrap();
    assert_eq!(peer.addr, v4("192.0.2.1"));
    assert_eq!(net.node(a).stack.tcp().local_addr(client).unwrap().port, peer.port);

    let request = pattern(100_000);
    assert_eq!(transfer(&mut net, (a, client), (b, server), &request, Duration::from_secs(5)), request);
    let response = pattern(300_000);
    assert_eq!(transfer(&mut net, (b, server), (a, client), &response, Duration::from_secs(5)), response);

    // The client closes first and ends in TIME-WAIT; the server reads end of stream, closes,
    // and its socket is gone once its FIN is acknowledged.
    call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| tcp.shutdown(tctx, client, Shutdown::Write))
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    let eof =
        call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.recv(tctx, server, &mut [0; 8])));
    assert_eq!(eof, Ok(0));
    assert!(tcp_events(net.node(b), server).contains(&Event::ReadClosed));
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, server))).unwrap();
    net.run_for(Duration::from_millis(50));
    assert_eq!(state(&net, a, client), State::TimeWait);
    assert_eq!(net.node(b).stack.tcp().state(server), Err(SocketError::BadSocket));
    assert_eq!(net.node(b).stack.tcp().len(), 1, "only the listener is left");

    let counters = net.node(a).stack.tcp().counters();
    assert_eq!((counters.active_opens, counters.out_rsts, counters.retrans_segs), (1, 0, 0));
    assert_eq!(net.node(b).stack.tcp().counters().passive_opens, 1);
    // Every frame on the wire parses and re-serializes byte for byte.
    let capture = net.capture().unwrap();
    let wire: Vec<&[u8]> = frames(&capture).collect();
    assert!(wire.len() > 300 / 2);
    for frame in wire {
        assert_eq!(reserialize_frame(frame).unwrap().bytes, frame);
    }
}

#[test]
fn rfc9293_3_10_7_1_a_closed_port_answers_with_rst_and_connect_is_refused() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let client = connect4(&mut net, a, "192.0.2.2", 81);
    net.run_for(Duration::from_millis(50));
    assert!(tcp_events(net.node(a), client).contains(&Event::Error));
    let error = call(&mut net, a, |stack, _| stack.tcp.take_error(client));
    assert_eq!(error, Ok(Some(SocketError::ConnectionRefused)));
    assert_eq!(state(&net, a, client), State::Closed);
    let counters = net.node(b).stack.tcp().counters();
    assert_eq!((counters.out_rsts, counters.drop_no_socket), (1, 1));
    assert_eq!(net.node(a).stack.tcp().counters().attempt_fails, 1);
}

#[test]
fn rfc5681_a_transfer_survives_loss_reordering_and_duplication() {
    let impairments = Impairments {
        loss_ppm: 50_000,
        duplicate_ppm: 10_000,
        jitter: Duration::from_micros(300),
        ..Impairments::default()
    };
    let (mut net, hosts, segment) = lan_segment(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (_, client, server) = connected(&mut net, a, b);
    net.set_impairments(segment, impairments);
    let data = pattern(2_000_000);
    let received = transfer(&mut net, (a, client), (b, server), &data, Duration::from_secs(120));
    assert_eq!(received.len(), data.len());
    assert!(received == data, "every byte in order");
    let counters = net.node(a).stack.tcp().counters();
    assert!(counters.retrans_segs > 0 && counters.fast_retrans > 0, "{counters:?}");
}

#[test]
fn a_connection_to_our_own_address_runs_over_loopback() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    net.run_for(Duration::from_secs(5));
    let sent_before = net.stats().sent;
    let (listener, client, server) = {
        let listener = listen4(&mut net, a, 7);
        let client = connect4(&mut net, a, "192.0.2.1", 7);
        // No network time passes: the handshake completes through the loopback backlog.
        let server = accept4(&mut net, a, listener).expect("accepted at once");
        (listener, client, server)
    };
    assert_eq!(net.stats().sent, sent_before, "nothing went on the wire");
    let data = pattern(50_000);
    assert_eq!(transfer(&mut net, (a, client), (a, server), &data, Duration::from_secs(1)), data);
    let _ = listener;
}

#[test]
fn so_reuseport_spreads_connections_over_the_listeners_of_one_owner() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let listeners: Vec<Id4> = (0..2)
        .map(|_| {
            call(&mut net, b, |stack, ctx| {
                stack.tcp_call(ctx, |tcp, tctx| {
                    let s = tcp.create::<Ipv4>(1000).unwrap();
                    tcp.set_reuse_port(s, true).unwrap();
                    tcp.bind(tctx, s, None, Some(port(443))).unwrap();
                    tcp.listen(tctx, s, 64).unwrap();
                    s
                })
            })
        })
        .collect();
    // A third socket without SO_REUSEPORT cannot join them.
    let refused = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(1000).unwrap();
            tcp.bind(tctx, s, None, Some(port(443)))
        })
    });
    assert_eq!(refused, Err(SocketError::AddrInUse));
    // SYNs beyond ARP's queue for an unresolved neighbour are dropped and sent again after
    // the initial RTO (1 s).
    for _ in 0..40 {
        connect4(&mut net, a, "192.0.2.2", 443);
    }
    net.run_for(Duration::from_millis(1500));
    let accepted: Vec<usize> =
        listeners.iter().map(|&l| core::iter::from_fn(|| accept4(&mut net, b, l).ok()).count()).collect();
    assert_eq!(accepted.iter().sum::<usize>(), 40);
    assert!(accepted.iter().all(|&n| n >= 10), "both listeners took a share: {accepted:?}");
}

#[test]
fn so_reuseaddr_is_needed_to_bind_a_port_held_by_a_time_wait_connection() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (listener, client, server) = connected(&mut net, a, b);
    // The server closes first, so its side ends in TIME-WAIT; then the listener goes.
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, server))).unwrap();
    net.run_for(Duration::from_millis(50));
    call(&mut net, a, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, client))).unwrap();
    net.run_for(Duration::from_millis(50));
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, listener))).unwrap();
    let bind = |net: &mut FakeNetwork<Host>, reuse: bool| {
        call(net, b, |stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| {
                let s = tcp.create::<Ipv4>(0).unwrap();
                tcp.set_reuse_addr(s, reuse).unwrap();
                let result = tcp.bind(tctx, s, None, Some(port(80)));
                tcp.close(tctx, s).unwrap();
                result
            })
        })
    };
    assert_eq!(bind(&mut net, false), Err(SocketError::AddrInUse), "TIME-WAIT holds port 80");
    // The old listener did not set SO_REUSEADDR: the restarted server cannot either.
    assert_eq!(bind(&mut net, true), Err(SocketError::AddrInUse));
    // TIME-WAIT lasts 2*MSL (60 s); then the port is free.
    net.run_for(Duration::from_secs(61));
    assert_eq!(bind(&mut net, false), Ok(()));
    assert_eq!(net.node(b).stack.tcp().len(), 0);
}

#[test]
fn rfc1191_a_connection_learns_the_path_mtu_from_fragmentation_needed() {
    // A and B on 1500-byte links; the router's link towards B carries 1000 bytes only, so
    // A's full-sized segments (B advertised MSS 1460) meet it with Don't Fragment set.
    let mut net = FakeNetwork::new(5);
    let left = net.add_segment(Impairments::default());
    let right = net.add_segment(Impairments::default());
    let host = |net: &mut FakeNetwork<Host>, n: u8, links: &[(u32, &str)]| {
        let stack = Stack::new(&mut FakeRng::new(u64::from(n)));
        let node = net.add_node(Host { stack, events: Vec::new() }, u64::from(n));
        call(net, node, |stack, ctx| {
            for (i, (mtu, a)) in links.iter().enumerate() {
                let config = EthernetConfig { mtu: *mtu, ..EthernetConfig::default() };
                let dev = stack.add_ethernet_device(ctx, mac(n * 10 + i as u8), config);
                stack.add_ipv4_address(ctx, dev, AddrSubnet::new(v4(a), 24).unwrap()).unwrap();
            }
        });
        node
    };
    let a = host(&mut net, 1, &[(1500, "192.0.2.1")]);
    let r = host(&mut net, 2, &[(1500, "192.0.2.254"), (1000, "198.51.100.254")]);
    let b = host(&mut net, 3, &[(1500, "198.51.100.2")]);
    let (r1, r2) = (DeviceId::new(1), DeviceId::new(2));
    let via = |gateway: &str| default_route(v4(gateway), DEV).unwrap();
    call(&mut net, a, |stack, _| stack.add_ipv4_route(via("192.0.2.254"))).unwrap();
    call(&mut net, b, |stack, _| stack.add_ipv4_route(via("198.51.100.254"))).unwrap();
    for dev in [r1, r2] {
        call(&mut net, r, |stack, _| stack.set_ipv4_forwarding(dev, true)).unwrap();
    }
    net.attach(left, a, DEV);
    net.attach(left, r, r1);
    net.attach(right, r, r2);
    net.attach(right, b, DEV);
    let listener = listen4(&mut net, b, 80);
    let client = connect4(&mut net, a, "198.51.100.2", 80);
    net.run_for(Duration::from_millis(100));
    let server = accept4(&mut net, b, listener).unwrap();
    assert_eq!(net.node(a).stack.tcp().info(client).unwrap().pmtu, 1500);
    let data = pattern(200_000);
    assert_eq!(transfer(&mut net, (a, client), (b, server), &data, Duration::from_secs(10)), data);
    let info = net.node(a).stack.tcp().info(client).unwrap();
    // 1000 less the IPv4 and TCP headers and the timestamp option.
    assert_eq!((info.pmtu, info.snd_mss), (1000, 948));
    assert_eq!(net.node(a).stack.tcp().counters().pmtu_changes, 1);
    assert!(net.node(r).stack.counters().icmp_out_frag_needed >= 1);
}

#[test]
fn closing_a_listener_resets_the_connections_nobody_accepted() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let listener = listen4(&mut net, b, 80);
    let client = connect4(&mut net, a, "192.0.2.2", 80);
    net.run_for(Duration::from_millis(50));
    assert_eq!(state(&net, a, client), State::Established);
    call(&mut net, b, |stack, ctx| stack.tcp_call(ctx, |tcp, tctx| tcp.close(tctx, listener))).unwrap();
    net.run_for(Duration::from_millis(50));
    assert_eq!(state(&net, a, client), State::Closed);
    let error = call(&mut net, a, |stack, _| stack.tcp.take_error(client));
    assert_eq!(error, Ok(Some(SocketError::ConnectionReset)));
    assert_eq!(net.node(b).stack.tcp().len(), 0);
}

/// Two hosts on a segment carrying 64 KiB frames, both devices at MTU 65535, with 64 KiB
/// socket buffers: a window of about one segment.
fn jumbo_pair() -> (FakeNetwork<Host>, NodeIndex, NodeIndex) {
    let mut net = FakeNetwork::new(11);
    let segment = net.add_segment(Impairments { max_frame_len: 14 + 65535, ..Impairments::default() });
    let mut nodes = Vec::new();
    for n in 1..=2u8 {
        let stack = Stack::new(&mut FakeRng::new(u64::from(n)));
        let node = net.add_node(Host { stack, events: Vec::new() }, u64::from(n));
        call(&mut net, node, |stack, ctx| {
            let config = EthernetConfig { mtu: 65535, ..EthernetConfig::default() };
            let dev = stack.add_ethernet_device(ctx, mac(n), config);
            stack
                .add_ipv4_address(ctx, dev, AddrSubnet::new(v4(&alloc::format!("192.0.2.{n}")), 24).unwrap())
                .unwrap();
        });
        net.attach(segment, node, DEV);
        nodes.push(node);
    }
    (net, nodes[0], nodes[1])
}

#[test]
fn rfc1122_4_2_3_2_a_one_segment_window_keeps_data_flowing_without_delayed_ack_waits() {
    let (mut net, a, b) = jumbo_pair();
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            tcp.set_send_buffer(s, 65536).unwrap();
            tcp.set_recv_buffer(s, 65536).unwrap();
            tcp.bind(tctx, s, None, Some(port(80))).unwrap();
            tcp.listen(tctx, s, 4).map(|()| s)
        })
    })
    .unwrap();
    let client = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = tcp.create::<Ipv4>(0).unwrap();
            tcp.set_send_buffer(s, 65536).unwrap();
            tcp.set_recv_buffer(s, 65536).unwrap();
            tcp.connect(tctx, s, addr("192.0.2.2"), port(80)).map(|()| s)
        })
    })
    .unwrap();
    net.run_for(Duration::from_millis(50));
    let server = accept4(&mut net, b, listener).unwrap();
    // 4 MiB is 64 windows: had each waited for B's 40 ms delayed ACK, it would take 2.5 s.
    let data = pattern(4 << 20);
    let start = net.now();
    assert_eq!(transfer(&mut net, (a, client), (b, server), &data, Duration::from_secs(10)), data);
    let took = net.now().saturating_duration_since(start);
    assert!(took < Duration::from_millis(500), "the transfer took {took:?}");
    assert_eq!(net.node(b).stack.tcp().counters().delayed_acks, 0);
}

#[test]
fn request_response_traffic_keeps_its_acks_on_the_responses() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let (_, client, server) = connected(&mut net, a, b);
    let segments = |net: &FakeNetwork<Host>| {
        net.node(a).stack.tcp().counters().out_segs + net.node(b).stack.tcp().counters().out_segs
    };
    let exchange = |net: &mut FakeNetwork<Host>| {
        assert_eq!(transfer(net, (a, client), (b, server), b"?", Duration::from_secs(1)), b"?");
        assert_eq!(transfer(net, (b, server), (a, client), b"!", Duration::from_secs(1)), b"!");
    };
    // The first exchange teaches the server that this is request/response.
    exchange(&mut net);
    let before = segments(&net);
    for _ in 0..10 {
        exchange(&mut net);
    }
    // A request and a response per round trip, each acknowledging the other; the client's
    // last ACK may still be delayed.
    let used = segments(&net) - before;
    assert!((20..=21).contains(&used), "{used} segments for 10 round trips");
}

/// A socket with 4 KiB send and receive rings, so that a transfer wraps them often.
fn small_ring_socket(tcp: &mut Tcp) -> Id4 {
    let s = tcp.create::<Ipv4>(0).unwrap();
    tcp.set_send_buffer(s, 4096).unwrap();
    tcp.set_recv_buffer(s, 4096).unwrap();
    s
}

#[test]
fn send_with_and_recv_with_move_the_same_bytes_as_send_and_recv_across_the_ring_wrap() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let listener = call(&mut net, b, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            let s = small_ring_socket(tcp);
            tcp.bind(tctx, s, None, Some(port(80))).unwrap();
            tcp.listen(tctx, s, 4).map(|()| s)
        })
    })
    .unwrap();
    let connect = |net: &mut FakeNetwork<Host>| {
        call(net, a, |stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| {
                let s = small_ring_socket(tcp);
                tcp.connect(tctx, s, addr("192.0.2.2"), port(80)).map(|()| s)
            })
        })
        .unwrap()
    };
    let (copying_tx, lending_tx) = (connect(&mut net), connect(&mut net));
    net.run_for(Duration::from_millis(50));
    let copying_rx = accept4(&mut net, b, listener).unwrap();
    let lending_rx = accept4(&mut net, b, listener).unwrap();

    let data = pattern(200_000);
    let chunks = [1usize, 1000, 4096, 333, 7777, 2048];
    let (mut sent, mut got) = ([0usize; 2], [Vec::new(), Vec::new()]);
    let (mut send_wrapped, mut recv_wrapped) = (false, false);
    let deadline = net.now() + Duration::from_secs(20);
    let mut step = 0;
    while got.iter().any(|g| g.len() < data.len()) && net.now() < deadline {
        let chunk = chunks[step % chunks.len()];
        step += 1;
        let end = |sent: usize| (sent + chunk).min(data.len());
        let copied = call(&mut net, a, |stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| tcp.send(tctx, copying_tx, &data[sent[0]..end(sent[0])]))
        });
        sent[0] += copied.unwrap_or(0);
        let from = sent[1];
        let lent = call(&mut net, a, |stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| {
                let space = tcp.send_space(lending_tx).unwrap();
                tcp.send_with(tctx, lending_tx, |first, second| {
                    assert_eq!(first.len() + second.len(), space, "the whole free space is lent");
                    send_wrapped |= !second.is_empty();
                    copy_to_runs(&data[from..(from + chunk).min(data.len())], first, second)
                })
            })
        });
        sent[1] += lent.unwrap_or(0);
        let mut buf = vec![0; chunk];
        if let Ok(n) = call(&mut net, b, |stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| tcp.recv(tctx, copying_rx, &mut buf))
        }) {
            got[0].extend_from_slice(&buf[..n]);
        }
        let taken = call(&mut net, b, |stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| {
                tcp.recv_with(tctx, lending_rx, |first, second| {
                    recv_wrapped |= !second.is_empty();
                    let before = got[1].len();
                    got[1].extend(first.iter().chain(second).take(chunk));
                    got[1].len() - before
                })
            })
        });
        assert!(matches!(taken, Ok(_) | Err(SocketError::WouldBlock)), "{taken:?}");
        net.run_for(Duration::from_millis(1));
    }
    assert!(got[0] == data && got[1] == data, "both streams arrive whole and in order");
    assert!(send_wrapped && recv_wrapped, "the rings wrapped ({send_wrapped}, {recv_wrapped})");
    assert_eq!(net.node(a).stack.tcp().counters().retrans_segs, 0);
    // A full send ring is EAGAIN, as for send, and lends nothing.
    let full = call(&mut net, a, |stack, ctx| {
        stack.tcp_call(ctx, |tcp, tctx| {
            while tcp.send_space(lending_tx).unwrap() > 0 {
                tcp.send_with(tctx, lending_tx, |first, second| first.len() + second.len()).unwrap();
            }
            tcp.send_with(tctx, lending_tx, |_, _| unreachable!("nothing to lend"))
        })
    });
    assert_eq!(full, Err(SocketError::WouldBlock));
}

#[test]
fn tcp_info_and_so_acceptconn_answer_for_listeners_and_unconnected_sockets_as_linux() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let listener = listen4(&mut net, b, 80);
    let idle = call(&mut net, b, |stack, _| stack.tcp.create::<Ipv4>(0)).unwrap();
    let tcp = net.node(b).stack.tcp();
    let info = tcp.info(idle).unwrap();
    assert_eq!((info.state.linux_number(), info.rto, info.congestion), (7, Duration::from_secs(1), "cubic"));
    assert_eq!((tcp.accept_conn(idle), tcp.accept_conn(listener)), (Ok(false), Ok(true)));
    assert_eq!(tcp.listener_queues(idle), Err(SocketError::InvalidArgument));
    for _ in 0..3 {
        connect4(&mut net, a, "192.0.2.2", 80);
    }
    net.run_for(Duration::from_millis(1500));
    let tcp = net.node(b).stack.tcp();
    let info = tcp.info(listener).unwrap();
    assert_eq!((info.state, info.state.linux_number()), (State::Listen, 10));
    assert_eq!((info.accept_queue, info.backlog), (3, 16));
    let queues = tcp.listener_queues(listener).unwrap();
    assert_eq!((queues.accept_queue, queues.syn_queue, queues.backlog), (3, 0, 16));
    let server = accept4(&mut net, b, listener).unwrap();
    let tcp = net.node(b).stack.tcp();
    assert_eq!(tcp.listener_queues(listener).unwrap().accept_queue, 2);
    assert_eq!(tcp.accept_conn(server), Ok(false));
    let info = tcp.info(server).unwrap();
    assert_eq!((info.state.linux_number(), info.accept_queue, info.backlog), (1, 0, 0));
}
