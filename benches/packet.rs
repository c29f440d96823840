//! One packet through the whole stack and the bindings' device session, beside smoltcp doing
//! the same work in the same run:
//!
//! * `write_packet`: the Go netstack's `BenchmarkWritePacket`. A connected UDP socket sends
//!   one datagram: the payload is written through UDP, IPv4 and Ethernet into a pool buffer
//!   that goes into the device's TX FIFO, and the device takes it (the FIFO is drained per
//!   iteration, the buffer going back to the pool). Payloads of 1, 2, 4, ..., 2048 bytes
//!   (the device's MTU is 9000 so none is fragmented), with TX checksum offload on (the UDP
//!   checksum left to the device) and off. smoltcp: `send_slice` on a UDP socket, then the
//!   interface's egress into a `phy::Device` TX token, its checksum capabilities set alike.
//! * `receive_packet`: an Ethernet/IPv4/UDP (and IPv6) frame read by the device into a pool
//!   buffer, through the RX FIFO and the stack into a bound socket's queue, and out through
//!   `recv_from` into the application's buffer. smoltcp: the frame through an RX token,
//!   `poll`, and `recv_slice`.
//!
//! Every result is printed as `go test -bench . -benchmem` prints it (name, iterations,
//! ns/op, B/op, allocs/op) for both stacks, with the ratio; criterion measures the same
//! closures. Our paths must not allocate: the benchmark fails if they do.

mod support;

use std::hint::black_box;
use std::num::NonZeroU16;
use std::rc::Rc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netstack_bindings::device::{Pool, PoolBuffer, PoolConfig, SessionConfig};
use netstack_bindings::eventloop::{BindingsCtx, EventLoop, LoopConfig};
use netstack_bindings::rng::SmallRng;
use netstack_core::addr::{AddrSubnet, IpVersion, Ipv4, Ipv6, SpecifiedAddr};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::device::DeviceId;
use netstack_core::ip::source::AddressState;
use netstack_core::stack::TransportCtx;
use netstack_core::transport::udp::{UdpIpContext, UdpIpExt, UdpSocketId};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::{IpAddress, IpCidr, IpEndpoint, Ipv4Address, Ipv6Address};

use support::addr::{mac, v4};
use support::bench_device::{BenchDevice, BenchWire};
use support::frames;
use support::gobench::{self, GoResult};
use support::smol::{SmolHost, Spare};

#[global_allocator]
static ALLOC: support::CountingAlloc = support::CountingAlloc;

/// The devices' IP MTU: large enough that no payload size here is fragmented.
const MTU: u32 = 9000;

/// Ethernet, IPv4 and UDP headers.
const HEADERS: usize = 14 + 20 + 8;

/// The sender's port.
const SRC_PORT: u16 = 4000;

/// The receiver's port.
const DST_PORT: u16 = 9000;

/// Payload sizes of `write_packet`: 1, 2, 4, ..., 2048, as the Go benchmark's.
fn write_sizes() -> Vec<usize> {
    (0..=11).map(|shift| 1 << shift).collect()
}

/// Our stack behind the bindings' event loop, on a [`BenchDevice`] (MAC 1, 192.0.2.1/24
/// and 2001:db8::1/64).
struct Ours {
    event_loop: EventLoop,
    wire: BenchWire,
    dev: DeviceId,
}

impl Ours {
    fn new(offload: bool) -> Self {
        let (device, wire) = BenchDevice::new();
        let pool = Pool::new(PoolConfig { frame_count: 512, ..PoolConfig::for_mtu(MTU) });
        let mut event_loop = EventLoop::new(LoopConfig::default(), pool, SmallRng::from_seed(1));
        let config = EthernetConfig { mtu: MTU, tx_checksum_offload: offload, ..EthernetConfig::default() };
        let dev = event_loop.attach(Box::new(device), SessionConfig::default(), |stack, ctx| {
            stack.add_ethernet_device(ctx, mac(1), config)
        });
        let (stack, ctx) = event_loop.parts();
        stack
            .add_ipv4_address(ctx, dev, AddrSubnet::new(v4("192.0.2.1"), 24).expect("subnet"))
            .expect("address");
        Self { event_loop, wire, dev }
    }

    /// A UDP socket bound to `port`, connected to `to` if given.
    fn socket<I: UdpIpExt>(&mut self, port: u16, to: Option<(I::Addr, u16)>) -> UdpSocketId<I>
    where
        for<'a> TransportCtx<'a, BindingsCtx, PoolBuffer>: UdpIpContext<I>,
    {
        let (stack, ctx) = self.event_loop.parts();
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<I>(0).expect("socket");
            udp.bind(uctx, s, None, NonZeroU16::new(port)).expect("bind");
            if let Some((addr, port)) = to {
                udp.connect(uctx, s, SpecifiedAddr::new(addr).expect("specified"), port).expect("connect");
            }
            s
        })
    }

    /// Whether 2001:db8::1 passed duplicate address detection.
    fn accepts_v6(&mut self) -> bool {
        let (stack, _) = self.event_loop.parts();
        let me = frames::v6("2001:db8::1");
        stack.ipv6_addresses().iter().any(|c| *c.addr.addr() == me && c.state == AddressState::Preferred)
    }

    /// `send` on a connected socket, then the device takes the frame from the TX FIFO.
    fn write(&mut self, socket: UdpSocketId<Ipv4>, payload: &[u8]) {
        let (stack, ctx) = self.event_loop.parts();
        stack.udp_call(ctx, |udp, uctx| udp.send(uctx, socket, payload)).expect("send");
        self.event_loop.flush();
    }

    /// The device receives `frame` and the loop turns once; `recv_from` copies the datagram
    /// into `buf`.
    fn receive<I: UdpIpExt>(&mut self, socket: UdpSocketId<I>, frame: &Rc<[u8]>, buf: &mut [u8]) -> usize {
        self.wire.inject(frame);
        self.event_loop.turn(true);
        let (stack, ctx) = self.event_loop.parts();
        let datagram = stack.udp_call(ctx, |udp, _| udp.recv_from(socket)).expect("a datagram");
        let payload = datagram.payload.body();
        buf[..payload.len()].copy_from_slice(payload);
        payload.len()
    }
}

/// smoltcp on a [`support::smol::SmolDevice`] (MAC 1, 192.0.2.1/24, 2001:db8::1/64).
struct Smol {
    host: SmolHost,
}

impl Smol {
    fn new(offload: bool) -> Self {
        let addr = IpCidr::new(IpAddress::v4(192, 0, 2, 1), 24);
        let mut host = SmolHost::new(1, addr, MTU as usize, offload, Spare::default());
        host.iface.update_ip_addrs(|addrs| {
            let v6 = IpCidr::new(IpAddress::Ipv6(Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), 64);
            addrs.push(v6).expect("room for an address")
        });
        Self { host }
    }

    /// A UDP socket bound to `port`, with room for 16 datagrams each way.
    fn socket(&mut self, port: u16) -> SocketHandle {
        let buffer = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 64 * 1024]);
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket.bind(port).expect("bind");
        self.host.sockets.add(socket)
    }

    /// `send_slice`, then the interface's egress into a TX token.
    fn write(&mut self, socket: SocketHandle, to: IpEndpoint, payload: &[u8]) {
        self.host.sockets.get_mut::<udp::Socket>(socket).send_slice(payload, to).expect("send_slice");
        self.host.poll_egress();
    }

    /// The device receives `frame`, the interface polls, `recv_slice` copies the datagram.
    fn receive(&mut self, socket: SocketHandle, frame: &[u8], buf: &mut [u8]) -> usize {
        self.host.device.inject(frame);
        self.host.poll();
        let (len, _) = self.host.sockets.get_mut::<udp::Socket>(socket).recv_slice(buf).expect("a datagram");
        len
    }
}

/// Both stacks ready to write from 192.0.2.1:4000 to 192.0.2.2:9000, the peer's MAC resolved.
fn writers(offload: bool) -> (Ours, UdpSocketId<Ipv4>, Smol, SocketHandle) {
    let arp = frames::arp_reply(2, "192.0.2.2", 1, "192.0.2.1");
    let mut ours = Ours::new(offload);
    let socket = ours.socket::<Ipv4>(SRC_PORT, Some((v4("192.0.2.2"), DST_PORT)));
    // The first datagram waits behind an ARP request; the reply releases it.
    let (stack, ctx) = ours.event_loop.parts();
    stack.udp_call(ctx, |udp, uctx| udp.send(uctx, socket, &[1u8][..])).expect("send");
    ours.wire.inject(&Rc::from(arp.as_slice()));
    ours.event_loop.turn(true);
    ours.wire.keep_last(true);
    ours.write(socket, b"x");
    assert_eq!(ours.wire.last().len(), HEADERS + 1, "the datagram goes out once resolved");
    ours.wire.keep_last(false);

    let mut smol = Smol::new(offload);
    let handle = smol.socket(SRC_PORT);
    let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::new(192, 0, 2, 2)), DST_PORT);
    smol.write(handle, to, b"x");
    smol.host.device.inject(&arp);
    smol.host.poll();
    let sent = smol.host.device.tx_frames;
    smol.write(handle, to, b"x");
    assert_eq!(smol.host.device.tx_frames, sent + 1, "smoltcp sends once resolved");
    (ours, socket, smol, handle)
}

fn bench_write_packet(c: &mut Criterion) {
    let mut results = Vec::new();
    let mut group = c.benchmark_group("write_packet");
    group
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .sample_size(10);
    println!();
    for offload in [true, false] {
        let label = if offload { "on" } else { "off" };
        let (mut ours, socket, mut smol, handle) = writers(offload);
        let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::new(192, 0, 2, 2)), DST_PORT);
        for size in write_sizes() {
            let payload = vec![0x5a; size];
            // What goes on the wire: the right length, and the checksum computed or left to
            // the device as configured.
            ours.wire.keep_last(true);
            ours.write(socket, &payload);
            let frame = ours.wire.last();
            ours.wire.keep_last(false);
            assert_eq!(frame.len(), HEADERS + size);
            let checksum =
                frames::udp4_checksum("192.0.2.1", SRC_PORT, "192.0.2.2", DST_PORT, &payload, offload);
            assert_eq!(frame[40..42], checksum, "the UDP checksum field, offload {label}");

            ours.wire.expect_len(HEADERS + size);
            smol.host.device.expect_len = Some(HEADERS + size);
            let name = format!("BenchmarkWritePacket/offload={label}/size={size}");
            let mine = gobench::run(&name, || ours.write(socket, black_box(&payload)));
            let theirs =
                gobench::run(&format!("{name}/smoltcp"), || smol.write(handle, to, black_box(&payload)));
            assert_eq!(ours.wire.unexpected(), 0, "every frame ours sent was the datagram");
            assert_eq!(smol.host.device.unexpected, 0, "every frame smoltcp sent was the datagram");
            assert!(
                mine.allocs_exact < 1e-3,
                "{name} allocates {} times per op; its target is 0",
                mine.allocs_exact
            );

            group.throughput(Throughput::Elements(1));
            group.bench_function(format!("ours/offload={label}/{size}"), |b| {
                b.iter(|| ours.write(socket, black_box(&payload)))
            });
            group.bench_function(format!("smoltcp/offload={label}/{size}"), |b| {
                b.iter(|| smol.write(handle, to, black_box(&payload)))
            });
            results.push((mine, theirs));
        }
    }
    group.finish();
    gobench::print_ratios("write_packet", &results);
    let worst = results.iter().map(|(o, t)| t.ns_per_op / o.ns_per_op).fold(f64::INFINITY, f64::min);
    println!("write_packet: smallest ratio {worst:.2}x (target 3x)");
}

/// One version's receive benchmarks: `frame(len)` to our socket and smoltcp's.
fn receive_version<I: UdpIpExt>(
    c: &mut Criterion,
    results: &mut Vec<(GoResult, GoResult)>,
    ours: &mut Ours,
    smol: &mut Smol,
    port: u16,
    lens: [usize; 2],
    frame: impl Fn(usize) -> Vec<u8>,
) where
    for<'a> TransportCtx<'a, BindingsCtx, PoolBuffer>: UdpIpContext<I>,
{
    let version = if I::VERSION == IpVersion::V4 { "v4" } else { "v6" };
    let socket = ours.socket::<I>(port, None);
    let handle = smol.socket(port);
    let mut buf = vec![0u8; 65536];
    let mut group = c.benchmark_group(format!("receive_packet_{version}"));
    group.warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(1));
    for len in lens {
        let bytes = frame(len);
        let shared: Rc<[u8]> = Rc::from(bytes.as_slice());
        assert_eq!(ours.receive(socket, &shared, &mut buf), len, "ours takes the frame");
        assert_eq!(smol.receive(handle, &bytes, &mut buf), len, "smoltcp takes the frame");
        let name = format!("BenchmarkReceivePacket/{version}/size={len}");
        let mine = gobench::run(&name, || {
            black_box(ours.receive(socket, &shared, &mut buf));
        });
        let theirs = gobench::run(&format!("{name}/smoltcp"), || {
            black_box(smol.receive(handle, &bytes, &mut buf));
        });
        assert!(
            mine.allocs_exact < 1e-3,
            "{name} allocates {} times per op; its target is 0",
            mine.allocs_exact
        );
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("ours/{len}"), |b| b.iter(|| ours.receive(socket, &shared, &mut buf)));
        group.bench_function(format!("smoltcp/{len}"), |b| b.iter(|| smol.receive(handle, &bytes, &mut buf)));
        results.push((mine, theirs));
    }
    group.finish();
}

fn bench_receive_packet(c: &mut Criterion) {
    let mut ours = Ours::new(false);
    let (stack, ctx) = ours.event_loop.parts();
    stack.enable_ipv6(ctx, ours.dev).expect("device");
    let v6 = AddrSubnet::new(frames::v6("2001:db8::1"), 64).expect("subnet");
    stack.add_ipv6_address(ctx, ours.dev, v6).expect("address");
    let mut smol = Smol::new(false);
    let mut results = Vec::new();
    println!();
    receive_version::<Ipv4>(c, &mut results, &mut ours, &mut smol, DST_PORT, [64, 1472], |len| {
        frames::udp4(2, 1, "192.0.2.2", "192.0.2.1", 64, DST_PORT, len)
    });
    // A tentative address takes no datagrams: let duplicate address detection finish (a
    // random delay of up to 1 s, then 1 s for an answer; RFC 4862 §5.4).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !ours.accepts_v6() {
        assert!(std::time::Instant::now() < deadline, "2001:db8::1 never passed DAD");
        std::thread::sleep(Duration::from_millis(50));
        ours.event_loop.turn(true);
    }
    receive_version::<Ipv6>(c, &mut results, &mut ours, &mut smol, DST_PORT + 1, [64, 1452], |len| {
        frames::udp6(2, 1, "2001:db8::2", "2001:db8::1", 64, DST_PORT + 1, len)
    });
    gobench::print_ratios("receive_packet", &results);
}

criterion_group!(benches, bench_write_packet, bench_receive_packet);
criterion_main!(benches);
