//! Frames per second through a device session, with allocations counted per frame:
//!
//! * `memory_udp_echo`: a UDP datagram enters the stack through the memory backend (wire slot
//!   → pool buffer → RX FIFO → stack → echo socket) and its echo leaves the same way (stack →
//!   pool buffer → TX FIFO → wire slot). Each iteration is one frame in and one frame out.
//!
//! Through a real TAP, with the Linux kernel as the peer, see `benches/tap.rs`: it needs
//! root and a network namespace, which this benchmark does without so that it runs anywhere.

mod support;

use std::hint::black_box;
use std::num::NonZeroU16;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netstack_bindings::device::memory::{memory_pair, MemoryConfig};
use netstack_bindings::device::{Pool, PoolConfig, SessionConfig};
use netstack_bindings::eventloop::{EventLoop, LoopConfig};
use netstack_bindings::rng::SmallRng;
use netstack_core::addr::AddrSubnet;
use netstack_core::buf::{EmptyBody, Serializer};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::wire::arp::ArpBuilder;
use netstack_core::wire::ethernet::EthernetBuilder;
use netstack_core::wire::ipv4::Ipv4Builder;
use netstack_core::wire::udp::UdpBuilder;
use netstack_core::wire::{EtherType, IpProto};

use support::addr::{mac, v4};

#[global_allocator]
static ALLOC: support::CountingAlloc = support::CountingAlloc;

/// An Ethernet/IPv4/UDP frame from the peer to the echo port with a `len`-byte payload.
fn udp_frame(len: usize) -> netstack_core::buf::Buf<Vec<u8>> {
    let payload = vec![0x42; len];
    (&payload[..])
        .encapsulate(UdpBuilder::new(
            v4("192.0.2.2"),
            v4("192.0.2.1"),
            40000,
            NonZeroU16::new(7).expect("port"),
        ))
        .encapsulate(Ipv4Builder::new(v4("192.0.2.2"), v4("192.0.2.1"), 64, IpProto::UDP))
        .encapsulate(EthernetBuilder::new(*mac(2), *mac(1), EtherType::IPV4))
        .serialize_vec()
        .expect("frame")
}

fn bench_memory_echo(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _entered = runtime.enter();
    let (ours, peer) = memory_pair("mem0", "peer", MemoryConfig::default());
    let mut event_loop =
        EventLoop::new(LoopConfig::default(), Pool::new(PoolConfig::default()), SmallRng::from_seed(1));
    let dev = event_loop.attach(Box::new(ours), SessionConfig::default(), |stack, ctx| {
        stack.add_ethernet_device(ctx, mac(1), EthernetConfig::default())
    });
    let (stack, ctx) = event_loop.parts();
    stack.add_ipv4_address(ctx, dev, AddrSubnet::new(v4("192.0.2.1"), 24).expect("subnet")).expect("address");
    event_loop.start_udp_echo(7).expect("echo");
    // The first echo waits for ARP: answer the stack's request so later echoes go straight out.
    let arp = EmptyBody
        .encapsulate(ArpBuilder::reply(*mac(2), v4("192.0.2.2"), *mac(1), v4("192.0.2.1")))
        .encapsulate(EthernetBuilder::new(*mac(2), *mac(1), EtherType::ARP))
        .serialize_vec()
        .expect("arp");
    let mut out = vec![0u8; 2048];
    let warm_up = udp_frame(64);
    peer.inject(warm_up.body());
    event_loop.turn(true);
    peer.inject(arp.body());
    event_loop.turn(true);
    // Besides the echo the wire holds the stack's ARP request and its address announcements.
    let mut echoed = false;
    while let Some(len) = peer.take(&mut out) {
        echoed |= len == warm_up.len();
    }
    assert!(echoed, "the first echo, released by the ARP reply");

    let mut group = c.benchmark_group("memory_udp_echo");
    for len in [64usize, 1472] {
        let frame = udp_frame(len);
        let expected = frame.len();
        let mut one = || {
            peer.inject(frame.body());
            event_loop.turn(true);
            // An address announcement timer may put an ARP frame on the wire too.
            let echoed = std::iter::from_fn(|| peer.take(&mut out)).take(4).any(|len| len == expected);
            assert!(echoed, "the echo came back");
        };
        for _ in 0..10 {
            one();
        }
        support::report_zero_allocs(&format!("memory_udp_echo/{len} (2 frames per op)"), &mut one);
        group.throughput(Throughput::Elements(2));
        group.bench_function(format!("{len}"), |b| b.iter(&mut one));
    }
    group.finish();
    black_box(&event_loop);
}

criterion_group!(benches, bench_memory_echo);
criterion_main!(benches);
