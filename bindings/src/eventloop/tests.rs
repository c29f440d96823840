//! Two stacks, each with its own event loop, over the memory pair: ARP and NDP resolution,
//! DAD, the echo service over both IP versions and requests from another task all go through
//! the real loop.

use std::time::Duration;

use futures::future::{join3, FutureExt};
use netstack_core::addr::{Ip, Ipv4, Ipv6, Ipv6Addr, Mac, SpecifiedAddr};
use netstack_core::ip::source::AddressState as SourceState;
use netstack_core::stack::TransportCtx;
use netstack_core::transport::udp::{UdpIpContext, UdpIpExt};
use netstack_core::transport::SocketError;

use super::*;
use crate::device::memory::{memory_pair, Impairments, MemoryConfig};
use crate::device::PoolConfig;
use crate::socket::tests::host_loop;

/// Waits until `addr` on the stack behind `handle` has passed DAD.
async fn until_preferred(handle: &LoopHandle, addr: Ipv6Addr, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        let state = handle
            .call(move |stack, _| {
                stack.ipv6_addresses().iter().find(|c| *c.addr.addr() == addr).map(|c| c.state)
            })
            .await
            .expect("loop running");
        if state == Some(SourceState::Preferred) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Sends `payload` from a UDP socket on `client` to `server`:7 and waits up to `wait` for
/// the echo.
async fn echo_through<I: UdpIpExt>(
    client: &LoopHandle,
    server: I::Addr,
    payload: &'static [u8],
    wait: Duration,
) -> Option<Vec<u8>>
where
    for<'a> TransportCtx<'a, BindingsCtx, PoolBuffer>: UdpIpContext<I>,
{
    let socket = client
        .call(move |stack, ctx| {
            stack.udp_call(ctx, |udp, uctx| {
                let socket = udp.create::<I>(0).expect("socket");
                let dst = SpecifiedAddr::new(server).expect("specified");
                udp.send_to(uctx, socket, Some((dst, 7)), payload).expect("send");
                socket
            })
        })
        .await
        .expect("loop running");
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        let got = client
            .call(move |stack, ctx| {
                stack.udp_call(ctx, |udp, _| udp.recv_from(socket).map(|d| d.payload.body().to_vec()))
            })
            .await
            .expect("loop running");
        match got {
            Ok(data) => return Some(data),
            Err(SocketError::WouldBlock) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(e) => panic!("recv_from: {e:?}"),
        }
    }
    None
}

/// Runs loops `a` and `b` until `test` finishes; returns what it returned.
async fn run_both<T>(a: &mut EventLoop, b: &mut EventLoop, test: impl Future<Output = T>) -> T {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop = stop_rx.shared();
    let test = async {
        let output = test.await;
        drop(stop_tx);
        output
    };
    let (_, _, output) = join3(a.run_until(stop.clone().map(drop)), b.run_until(stop.map(drop)), test).await;
    output
}

fn v4(s: &str) -> <Ipv4 as Ip>::Addr {
    s.parse().expect("IPv4 address")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

#[test]
fn two_loops_resolve_each_other_and_echo_udp() {
    runtime().block_on(async {
        let (a_port, b_port) = memory_pair("a", "b", MemoryConfig::default());
        let (mut a, mut b) = (host_loop(1, a_port, false), host_loop(2, b_port, false));
        a.start_udp_echo(7).expect("echo");
        let client = b.handle();
        let echoed = run_both(
            &mut a,
            &mut b,
            echo_through::<Ipv4>(&client, v4("192.0.2.1"), b"hello over memory", Duration::from_secs(2)),
        )
        .await;
        assert_eq!(echoed.as_deref(), Some(&b"hello over memory"[..]));
        assert_eq!(a.echo[0].counters().echoed, 1);
        let a_counters = a.backend_counters("a").expect("device a");
        // ARP request in, datagram in; ARP reply out, echo out.
        assert!(a_counters.rx_frames >= 2 && a_counters.tx_frames >= 2, "{a_counters:?}");
        assert_eq!(a.parts().1.counters().tx_unknown_device, 0);
        assert!(b.parts().1.counters().requests >= 2);
        assert_eq!(b.parts().1.pool().free().0, PoolConfig::default().frame_count, "every buffer came back");
    });
}

#[test]
fn dual_stack_loops_pass_dad_resolve_over_ndp_and_echo_udp_over_both_versions() {
    runtime().block_on(async {
        let (a_port, b_port) = memory_pair("a", "b", MemoryConfig::default());
        let (mut a, mut b) = (host_loop(1, a_port, true), host_loop(2, b_port, true));
        a.start_udp_echo(7).expect("echo");
        let (server, client) = (a.handle(), b.handle());
        let (ready, echoed6, echoed4) = run_both(&mut a, &mut b, async {
            // DAD sends its probe after a random delay of up to a second, then waits a second.
            let wait = Duration::from_secs(5);
            let a_ready = until_preferred(&server, "2001:db8::1".parse().expect("addr"), wait).await;
            let b_ready = until_preferred(&client, "2001:db8::2".parse().expect("addr"), wait).await;
            let server6: Ipv6Addr = "2001:db8::1".parse().expect("addr");
            let echoed6 =
                echo_through::<Ipv6>(&client, server6, b"hello over IPv6", Duration::from_secs(2)).await;
            let echoed4 =
                echo_through::<Ipv4>(&client, v4("192.0.2.1"), b"and IPv4", Duration::from_secs(2)).await;
            (a_ready && b_ready, echoed6, echoed4)
        })
        .await;
        assert!(ready, "both addresses passed DAD");
        assert_eq!(echoed6.as_deref(), Some(&b"hello over IPv6"[..]));
        assert_eq!(echoed4.as_deref(), Some(&b"and IPv4"[..]));
        assert_eq!(a.echo[0].counters().echoed, 2);
        let (stack, ctx) = a.parts();
        let id = ctx.sessions()[0].id;
        let ndp = stack.ndp(id).expect("device a");
        let peer: Ipv6Addr = "2001:db8::2".parse().expect("addr");
        let learned = ndp.get(&peer).and_then(|info| info.link_addr);
        assert_eq!(learned, Some(Mac::new([2, 0, 0, 0, 0, 2])), "a learned b's MAC over NDP");
    });
}

#[test]
fn a_lossy_delayed_wire_still_resolves_through_arp_retransmission_timers() {
    runtime().block_on(async {
        let impairments =
            Impairments { loss: 0.3, delay: Duration::from_millis(2), seed: 11, ..Default::default() };
        let (a_port, b_port) = memory_pair("a", "b", MemoryConfig { impairments, ..Default::default() });
        let (mut a, mut b) = (host_loop(1, a_port, false), host_loop(2, b_port, false));
        a.start_udp_echo(7).expect("echo");
        let client = b.handle();
        let echoed = run_both(&mut a, &mut b, async {
            // A lost datagram is not retried: try a few times, as a UDP client would.
            let mut echoed = None;
            for _ in 0..6 {
                echoed =
                    echo_through::<Ipv4>(&client, v4("192.0.2.1"), b"lossy", Duration::from_millis(1500))
                        .await;
                if echoed.is_some() {
                    break;
                }
            }
            echoed
        })
        .await;
        assert_eq!(echoed.as_deref(), Some(&b"lossy"[..]));
        assert!(b.parts().1.counters().timers_fired > 0, "ARP's timers ran");
    });
}

#[test]
fn requests_from_another_thread_run_on_the_loop() {
    let (a_port, _b_port) = memory_pair("a", "b", MemoryConfig::default());
    let mut a = host_loop(1, a_port, false);
    let handle = a.handle();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let other = std::thread::spawn(move || {
        let udp_sockets = handle.call_blocking(|stack, _| stack.udp().len()).expect("running");
        drop(stop_tx);
        udp_sockets
    });
    runtime().block_on(a.run_until(stop_rx.map(drop)));
    assert_eq!(other.join().expect("thread"), 0);
    let stopped = a.handle();
    drop(a);
    assert_eq!(stopped.call_blocking(|_, _| ()), Err(LoopStopped));
}

#[test]
fn echo_refuses_port_zero_and_a_port_in_use() {
    let (a_port, _b_port) = memory_pair("a", "b", MemoryConfig::default());
    let _runtime = runtime();
    let mut a = host_loop(1, a_port, false);
    assert_eq!(a.start_udp_echo(0), Err(SocketError::InvalidArgument));
    a.start_udp_echo(7).expect("first");
    assert_eq!(a.start_udp_echo(7), Err(SocketError::AddrInUse));
}

/// Sends `len` bytes through the TCP echo service at 192.0.2.1:7 from the stack behind
/// `client` and reads the echo back, polling through the loop; returns what came back.
async fn tcp_echo_through(client: &LoopHandle, len: usize, wait: Duration) -> Vec<u8> {
    use netstack_core::transport::tcp::TcpSocketId;
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let socket: TcpSocketId<Ipv4> = client
        .call(|stack, ctx| {
            stack.tcp_call(ctx, |tcp, tctx| {
                let s = tcp.create::<Ipv4>(0)?;
                let dst = SpecifiedAddr::new(v4("192.0.2.1")).expect("specified");
                tcp.connect(tctx, s, dst, std::num::NonZeroU16::new(7).expect("port")).map(|()| s)
            })
        })
        .await
        .expect("loop running")
        .expect("connect");
    let deadline = tokio::time::Instant::now() + wait;
    let (mut sent, mut echoed) = (0, Vec::new());
    while echoed.len() < len && tokio::time::Instant::now() < deadline {
        let chunk = data[sent..].to_vec();
        let (n, got) = client
            .call(move |stack, ctx| {
                stack.tcp_call(ctx, |tcp, tctx| {
                    let n = if chunk.is_empty() { 0 } else { tcp.send(tctx, socket, &chunk).unwrap_or(0) };
                    let mut buf = vec![0; 65536];
                    let got = match tcp.recv(tctx, socket, &mut buf) {
                        Ok(m) => buf[..m].to_vec(),
                        Err(_) => Vec::new(),
                    };
                    (n, got)
                })
            })
            .await
            .expect("loop running");
        sent += n;
        echoed.extend_from_slice(&got);
        if n == 0 && got.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    echoed
}

#[test]
fn tcp_echo_returns_a_megabyte_over_the_memory_pair() {
    runtime().block_on(async {
        let (a_port, b_port) = memory_pair("a", "b", MemoryConfig::default());
        let (mut a, mut b) = (host_loop(1, a_port, false), host_loop(2, b_port, false));
        a.start_tcp_echo(7).expect("echo");
        let client = b.handle();
        let echoed =
            run_both(&mut a, &mut b, tcp_echo_through(&client, 1 << 20, Duration::from_secs(20))).await;
        let expected: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        assert_eq!(echoed.len(), expected.len());
        assert!(echoed == expected, "the echo is byte for byte what was sent");
        let counters = a.tcp_echo[0].counters();
        assert_eq!((counters.accepted, counters.echoed, counters.errors), (1, 1 << 20, 0));
        // A second echo service on the same port is refused.
        assert_eq!(a.start_tcp_echo(7), Err(SocketError::AddrInUse));
    });
}

#[test]
fn a_capture_records_frames_in_both_directions_and_ends_with_its_client() {
    use netstack_core::buf::{EmptyBody, Serializer};
    use netstack_core::wire::arp::ArpBuilder;
    use netstack_core::wire::ethernet::EthernetBuilder;
    use netstack_core::wire::EtherType;

    use crate::device::capture::RECORD_HEADER_LEN;

    let _rt = runtime();
    let _entered = _rt.enter();
    let (ours, peer) = memory_pair("a", "peer", MemoryConfig::default());
    let mut event_loop = host_loop(1, ours, false);
    let device = event_loop.ctx.sessions()[0].id;
    let client = event_loop.ctx.session_mut(device).unwrap().captures.start(0).unwrap();
    // The peer asks who has 192.0.2.1; the stack answers.
    let peer_mac = Mac::new([2, 0, 0, 0, 0, 9]);
    let request = EmptyBody
        .encapsulate(ArpBuilder::request(peer_mac, v4("192.0.2.9"), v4("192.0.2.1")))
        .encapsulate(EthernetBuilder::new(peer_mac, Mac::BROADCAST, EtherType::ARP))
        .serialize_vec()
        .expect("arp request");
    peer.inject(request.body());
    event_loop.turn(true);
    let mut records = Vec::new();
    let mut buf = vec![0u8; 4096];
    while let Ok((n, _)) = rustix::net::recv(&client, &mut buf, rustix::net::RecvFlags::DONTWAIT) {
        records.push(buf[..n].to_vec());
    }
    let received: Vec<_> = records.iter().filter(|r| r[12] == 0).collect();
    let sent: Vec<_> = records.iter().filter(|r| r[12] == 1).collect();
    assert_eq!(received.len(), 1, "the request");
    assert_eq!(&received[0][RECORD_HEADER_LEN..], request.body());
    let mut wire = vec![0u8; 2048];
    let mut on_wire = Vec::new();
    while let Some(n) = peer.take(&mut wire) {
        on_wire.push(wire[..n].to_vec());
    }
    assert!(!sent.is_empty(), "the reply (and the stack's announcements)");
    for record in &sent {
        let len = u32::from_le_bytes(record[8..12].try_into().unwrap()) as usize;
        assert_eq!(len, record.len() - RECORD_HEADER_LEN);
        assert!(on_wire.iter().any(|f| f[..] == record[RECORD_HEADER_LEN..]), "a frame the wire carried");
    }
    drop(client);
    peer.inject(request.body());
    event_loop.turn(true);
    let counters = event_loop.ctx.session(device).unwrap().captures.counters();
    assert_eq!((counters.active, counters.ended), (0, 1), "{counters:?}");
}
