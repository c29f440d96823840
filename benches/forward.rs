//! Whole-stack benchmarks, per packet, with allocations counted:
//!
//! * `receive_udp_v4`: an Ethernet/IPv4/UDP frame from the device to a socket's receive queue
//!   and out through `recv_from`;
//! * `forward_v4`: an IPv4 packet in on one device and out the other of a router, its TTL
//!   decremented in place;
//! * `receive_udp_v6`, `forward_v6`: the same over IPv6 (NDP resolution, Hop Limit).
//!
//! Frame buffers are recycled as the bindings' pool recycles them, so the counts are the
//! stack's own; both paths must allocate nothing once warm.

mod support;

use std::hint::black_box;
use std::num::NonZeroU16;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use netstack_core::addr::{AddrSubnet, Ipv4, Ipv6, Ipv6Addr};
use netstack_core::buf::{Buf, EmptyBody, Serializer};
use netstack_core::context::{InstantContext, RngContext, TimerContext};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::device::DeviceId;
use netstack_core::stack::{Stack, StackContext, StackEvent, StackTimerId};
use netstack_core::testutil::fake::FakeCtx;
use netstack_core::time::Instant;
use netstack_core::transport::udp::{UdpIpExt, UdpSocketId};
use netstack_core::wire::arp::ArpBuilder;
use netstack_core::wire::ethernet::EthernetBuilder;
use netstack_core::wire::icmp::ndp::{LinkLayerAddress, NdpOption, NdpOptions, NeighborAdvertisement};
use netstack_core::wire::icmp::{IcmpBuilder, Icmpv6PseudoHeader};
use netstack_core::wire::ipv4::Ipv4Builder;
use netstack_core::wire::ipv6::Ipv6Builder;
use netstack_core::wire::udp::UdpBuilder;
use netstack_core::wire::{EtherType, IpProto};

use support::addr::{mac, v4};

#[global_allocator]
static ALLOC: support::CountingAlloc = support::CountingAlloc;

/// The bindings as the benchmarks see them: fake timers, and transmitted frames kept so
/// their buffers can be reused.
struct BenchCtx {
    host: FakeCtx<StackTimerId>,
    sent: Option<Buf<Vec<u8>>>,
}

impl InstantContext for BenchCtx {
    fn now(&self) -> Instant {
        self.host.now()
    }
}

impl TimerContext<StackTimerId> for BenchCtx {
    fn schedule_timer(&mut self, id: StackTimerId, at: Instant) -> Option<Instant> {
        self.host.schedule_timer(id, at)
    }

    fn cancel_timer(&mut self, id: &StackTimerId) -> Option<Instant> {
        self.host.cancel_timer(id)
    }

    fn scheduled_at(&self, id: &StackTimerId) -> Option<Instant> {
        self.host.scheduled_at(id)
    }
}

impl RngContext for BenchCtx {
    fn random_u64(&mut self) -> u64 {
        self.host.random_u64()
    }
}

impl StackContext for BenchCtx {
    type Frame = Vec<u8>;

    fn alloc_frame(&mut self, capacity: usize) -> Option<Vec<u8>> {
        Some(vec![0; capacity])
    }

    fn send_frame(&mut self, _device: DeviceId, frame: Buf<Vec<u8>>) {
        self.sent = Some(frame);
    }

    fn on_event(&mut self, _event: StackEvent) {}
}

/// A stack with one device per `(mac, address)`.
fn stack(ctx: &mut BenchCtx, devices: &[(u8, &str)]) -> Stack<Vec<u8>> {
    let mut stack = Stack::new(&mut ctx.host);
    for &(n, addr) in devices {
        let dev = stack.add_ethernet_device(ctx, mac(n), EthernetConfig::default());
        stack.add_ipv4_address(ctx, dev, AddrSubnet::new(v4(addr), 24).expect("subnet")).expect("address");
    }
    stack
}

/// An Ethernet/IPv4/UDP frame with a `len`-byte payload.
fn udp_frame(src_mac: u8, dst_mac: u8, src: &str, dst: &str, ttl: u8, len: usize) -> Vec<u8> {
    let payload = vec![0x42; len];
    (&payload[..])
        .encapsulate(UdpBuilder::new(v4(src), v4(dst), 40000, NonZeroU16::new(9000).expect("port")))
        .encapsulate(Ipv4Builder::new(v4(src), v4(dst), ttl, IpProto::UDP))
        .encapsulate(EthernetBuilder {
            min_body_len: 0,
            ..EthernetBuilder::new(*mac(src_mac), *mac(dst_mac), EtherType::IPV4)
        })
        .serialize_vec()
        .expect("frame")
        .into_inner()
}

/// Warms a per-packet path up, checks it allocates nothing, then benchmarks it as
/// `<group>/<len>`.
fn measure(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, len: usize, mut one: impl FnMut()) {
    for _ in 0..10 {
        one();
    }
    support::report_zero_allocs(&format!("{name}/{len}"), &mut one);
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("{len}"), |b| b.iter(&mut one));
}

/// Benchmarks `frame(len)` from device 1 into `socket`'s queue and out through
/// `recv_from`, its buffer going back to be reused as a pool would.
fn receive_group<I: UdpIpExt>(
    c: &mut Criterion,
    name: &str,
    stack: &mut Stack<Vec<u8>>,
    ctx: &mut BenchCtx,
    socket: UdpSocketId<I>,
    lens: [usize; 2],
    frame: impl Fn(usize) -> Vec<u8>,
) {
    let mut group = c.benchmark_group(name);
    for len in lens {
        let frame = frame(len);
        let mut storage = frame.clone();
        let mut one = |stack: &mut Stack<Vec<u8>>, ctx: &mut BenchCtx| {
            storage.resize(frame.len(), 0);
            storage.copy_from_slice(&frame);
            stack.receive_frame(ctx, DeviceId::new(1), Buf::from_body(std::mem::take(&mut storage)));
            let datagram = stack.udp_call(ctx, |udp, _| udp.recv_from(socket)).expect("datagram");
            assert_eq!(datagram.payload.len(), len);
            storage = datagram.payload.into_inner();
        };
        measure(&mut group, name, len, || one(black_box(&mut *stack), &mut *ctx));
    }
    group.finish();
}

/// Benchmarks forwarding `frame(len)`, in on `left`, through `router` whose next hop is
/// already resolved; the transmitted buffer is reused.
fn forward_group(
    c: &mut Criterion,
    name: &str,
    router: &mut Stack<Vec<u8>>,
    ctx: &mut BenchCtx,
    left: DeviceId,
    lens: [usize; 2],
    frame: impl Fn(usize) -> Vec<u8>,
) {
    let mut group = c.benchmark_group(name);
    for len in lens {
        let frame = frame(len);
        let mut storage = frame.clone();
        let mut one = |router: &mut Stack<Vec<u8>>, ctx: &mut BenchCtx| {
            storage.resize(frame.len(), 0);
            storage.copy_from_slice(&frame);
            router.receive_frame(ctx, left, Buf::from_body(std::mem::take(&mut storage)));
            storage = ctx.sent.take().expect("forwarded").into_inner();
        };
        measure(&mut group, name, len, || one(black_box(&mut *router), &mut *ctx));
    }
    group.finish();
}

fn bench_receive_udp(c: &mut Criterion) {
    let mut ctx = BenchCtx { host: FakeCtx::new(1), sent: None };
    let mut stack = stack(&mut ctx, &[(1, "192.0.2.1")]);
    let port = NonZeroU16::new(9000);
    let socket: UdpSocketId<Ipv4> = stack.udp_call(&mut ctx, |udp, uctx| {
        let s = udp.create::<Ipv4>(0).expect("socket");
        udp.bind(uctx, s, None, port).expect("bind");
        s
    });
    let frame = |len| udp_frame(2, 1, "192.0.2.2", "192.0.2.1", 64, len);
    receive_group(c, "receive_udp_v4", &mut stack, &mut ctx, socket, [64, 1472], frame);
}

fn bench_forward(c: &mut Criterion) {
    let mut ctx = BenchCtx { host: FakeCtx::new(1), sent: None };
    let mut router = stack(&mut ctx, &[(1, "192.0.2.254"), (2, "198.51.100.254")]);
    let (left, right) = (DeviceId::new(1), DeviceId::new(2));
    router.set_ipv4_forwarding(left, true).expect("device");
    // Resolve the far host: the first packet queues behind an ARP request, the reply
    // resolves it and releases the packet.
    let frame = udp_frame(9, 1, "192.0.2.7", "198.51.100.1", 64, 64);
    router.receive_frame(&mut ctx, left, Buf::from_body(frame.clone()));
    let reply = EmptyBody
        .encapsulate(ArpBuilder::reply(*mac(3), v4("198.51.100.1"), *mac(2), v4("198.51.100.254")))
        .encapsulate(EthernetBuilder {
            min_body_len: 0,
            ..EthernetBuilder::new(*mac(3), *mac(2), EtherType::ARP)
        })
        .serialize_vec()
        .expect("arp")
        .into_inner();
    router.receive_frame(&mut ctx, right, Buf::from_body(reply));
    assert!(ctx.sent.take().is_some(), "the queued packet went out once resolved");
    let frame = |len| udp_frame(9, 1, "192.0.2.7", "198.51.100.1", 64, len);
    forward_group(c, "forward_v4", &mut router, &mut ctx, left, [64, 1472], frame);
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("address")
}

/// Runs the stack's timers for `secs` seconds of fake time (DAD, router solicitations).
fn settle(stack: &mut Stack<Vec<u8>>, ctx: &mut BenchCtx, secs: u64) {
    let end = ctx.host.now() + std::time::Duration::from_secs(secs);
    while let Some(at) = ctx.host.next_deadline().filter(|&at| at <= end) {
        ctx.host.set_now(at);
        while let Some(id) = ctx.host.pop_due(at) {
            stack.handle_timer(ctx, id);
        }
    }
    ctx.host.set_now(end);
}

/// A stack with IPv6 on one device per `(mac, address/64)`, its addresses past DAD.
fn stack6(ctx: &mut BenchCtx, devices: &[(u8, &str)]) -> Stack<Vec<u8>> {
    let mut stack = Stack::new(&mut ctx.host);
    for &(n, addr) in devices {
        let dev = stack.add_ethernet_device(ctx, mac(n), EthernetConfig::default());
        stack.enable_ipv6(ctx, dev).expect("device");
        stack.add_ipv6_address(ctx, dev, AddrSubnet::new(v6(addr), 64).expect("subnet")).expect("address");
    }
    settle(&mut stack, ctx, 5);
    stack
}

/// An Ethernet/IPv6/UDP frame with a `len`-byte payload.
fn udp_frame6(src_mac: u8, dst_mac: u8, src: &str, dst: &str, hops: u8, len: usize) -> Vec<u8> {
    let payload = vec![0x42; len];
    (&payload[..])
        .encapsulate(UdpBuilder::new(v6(src), v6(dst), 40000, NonZeroU16::new(9000).expect("port")))
        .encapsulate(Ipv6Builder::new(v6(src), v6(dst), hops, IpProto::UDP))
        .encapsulate(EthernetBuilder::new(*mac(src_mac), *mac(dst_mac), EtherType::IPV6))
        .serialize_vec()
        .expect("frame")
        .into_inner()
}

fn bench_receive_udp6(c: &mut Criterion) {
    let mut ctx = BenchCtx { host: FakeCtx::new(1), sent: None };
    let mut stack = stack6(&mut ctx, &[(1, "2001:db8::1")]);
    let socket: UdpSocketId<Ipv6> = stack.udp_call(&mut ctx, |udp, uctx| {
        let s = udp.create::<Ipv6>(0).expect("socket");
        udp.bind(uctx, s, None, NonZeroU16::new(9000)).expect("bind");
        s
    });
    let frame = |len| udp_frame6(2, 1, "2001:db8::2", "2001:db8::1", 64, len);
    receive_group(c, "receive_udp_v6", &mut stack, &mut ctx, socket, [64, 1452], frame);
}

fn bench_forward6(c: &mut Criterion) {
    let mut ctx = BenchCtx { host: FakeCtx::new(1), sent: None };
    let mut router = stack6(&mut ctx, &[(1, "2001:db8:1::1"), (2, "2001:db8:2::1")]);
    let (left, right) = (DeviceId::new(1), DeviceId::new(2));
    router.set_ipv6_forwarding(left, true).expect("device");
    // The first packet queues behind a Neighbor Solicitation; the far host's advertisement
    // resolves it and releases the packet (RFC 4861 §7.2.2, §7.2.5).
    let frame = udp_frame6(9, 1, "2001:db8:1::7", "2001:db8:2::2", 64, 64);
    router.receive_frame(&mut ctx, left, Buf::from_body(frame));
    let solicitation = ctx.sent.take().expect("neighbor solicitation");
    let solicitor = Ipv6Addr::new(solicitation.body()[22..38].try_into().expect("source"));
    let target = v6("2001:db8:2::2");
    let options = [NdpOption::TargetLinkLayerAddress(LinkLayerAddress::Ethernet(*mac(3)))];
    let na = NeighborAdvertisement {
        router: false,
        solicited: true,
        override_flag: true,
        target,
        options: NdpOptions::new(&options),
    };
    let advert = EmptyBody
        .encapsulate(IcmpBuilder::<Ipv6, _>::new(Icmpv6PseudoHeader { src: target, dst: solicitor }, na))
        .encapsulate(Ipv6Builder::new(target, solicitor, 255, IpProto::ICMPV6))
        .encapsulate(EthernetBuilder::new(*mac(3), *mac(2), EtherType::IPV6))
        .serialize_vec()
        .expect("advertisement")
        .into_inner();
    router.receive_frame(&mut ctx, right, Buf::from_body(advert));
    assert!(ctx.sent.take().is_some(), "the queued packet went out once resolved");
    let frame = |len| udp_frame6(9, 1, "2001:db8:1::7", "2001:db8:2::2", 64, len);
    forward_group(c, "forward_v6", &mut router, &mut ctx, left, [64, 1452], frame);
}

criterion_group!(benches, bench_receive_udp, bench_forward, bench_receive_udp6, bench_forward6);
criterion_main!(benches);
