//! Two stacks, each with its own event loop, over the memory pair: ARP resolution, the echo
//! service and requests from another task all go through the real loop.

use std::time::Duration;

use futures::future::{join3, FutureExt};
use netstack_core::addr::{AddrSubnet, Ipv4, Mac, SpecifiedAddr, UnicastAddr};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::transport::SocketError;

use super::*;
use crate::device::memory::{memory_pair, Impairments, MemoryConfig};
use crate::device::PoolConfig;

fn host(n: u8, port: crate::device::memory::MemoryPort) -> EventLoop {
    let mut event_loop = EventLoop::new(
        LoopConfig::default(),
        Pool::new(PoolConfig::default()),
        SmallRng::from_seed(n.into()),
    );
    let mac = UnicastAddr::new(Mac::new([2, 0, 0, 0, 0, n])).expect("unicast");
    let id = event_loop.attach(Box::new(port), SessionConfig::default(), |stack, ctx| {
        stack.add_ethernet_device(ctx, mac, EthernetConfig::default())
    });
    let (stack, ctx) = event_loop.parts();
    let addr = AddrSubnet::new(format!("192.0.2.{n}").parse().expect("addr"), 24).expect("subnet");
    stack.add_ipv4_address(ctx, id, addr).expect("address");
    event_loop
}

/// Sends `payload` from a UDP socket on `client` to 192.0.2.1:7 and waits up to `wait` for
/// the echo.
async fn echo_through(client: &LoopHandle, payload: &'static [u8], wait: Duration) -> Option<Vec<u8>> {
    let socket = client
        .call(move |stack, ctx| {
            stack.udp_call(ctx, |udp, uctx| {
                let socket = udp.create::<Ipv4>(0).expect("socket");
                let dst = SpecifiedAddr::new("192.0.2.1".parse().expect("addr")).expect("specified");
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

#[test]
fn two_loops_resolve_each_other_and_echo_udp() {
    runtime().block_on(async {
        let (a_port, b_port) = memory_pair("a", "b", MemoryConfig::default());
        let (mut a, mut b) = (host(1, a_port), host(2, b_port));
        a.start_udp_echo(7).expect("echo");
        let client = b.handle();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = stop_rx.shared();
        let test = async {
            let echoed = echo_through(&client, b"hello over memory", Duration::from_secs(2)).await;
            drop(stop_tx);
            echoed
        };
        let (_, _, echoed) =
            join3(a.run_until(stop.clone().map(drop)), b.run_until(stop.map(drop)), test).await;
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
fn a_lossy_delayed_wire_still_resolves_through_arp_retransmission_timers() {
    runtime().block_on(async {
        let impairments =
            Impairments { loss: 0.3, delay: Duration::from_millis(2), seed: 11, ..Default::default() };
        let (a_port, b_port) = memory_pair("a", "b", MemoryConfig { impairments, ..Default::default() });
        let (mut a, mut b) = (host(1, a_port), host(2, b_port));
        a.start_udp_echo(7).expect("echo");
        let client = b.handle();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = stop_rx.shared();
        let test = async {
            // A lost datagram is not retried: try a few times, as a UDP client would.
            let mut echoed = None;
            for _ in 0..6 {
                echoed = echo_through(&client, b"lossy", Duration::from_millis(1500)).await;
                if echoed.is_some() {
                    break;
                }
            }
            drop(stop_tx);
            echoed
        };
        let (_, _, echoed) =
            join3(a.run_until(stop.clone().map(drop)), b.run_until(stop.map(drop)), test).await;
        assert_eq!(echoed.as_deref(), Some(&b"lossy"[..]));
        assert!(b.parts().1.counters().timers_fired > 0, "ARP's timers ran");
    });
}

#[test]
fn requests_from_another_thread_run_on_the_loop() {
    let (a_port, _b_port) = memory_pair("a", "b", MemoryConfig::default());
    let mut a = host(1, a_port);
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
    let mut a = host(1, a_port);
    assert_eq!(a.start_udp_echo(0), Err(SocketError::InvalidArgument));
    a.start_udp_echo(7).expect("first");
    assert_eq!(a.start_udp_echo(7), Err(SocketError::AddrInUse));
}
