//! TCP end to end between two stacks joined back to back in the same process, with
//! allocations counted, beside two smoltcp interfaces joined the same way (same fake clock,
//! same stream of checked bytes, same buffers; the ratio is printed):
//!
//! * `tcp_bulk`: one connection moving a byte stream as fast as the sockets take it, at MTU
//!   1500 and at MTU 65535, with 64 KiB socket buffers on both sides; Gbit/s and allocations
//!   per segment (target 0 once the connection is warm);
//! * `tcp_rr`: one-byte request and response over a connection with TCP_NODELAY on both
//!   ends; time per round trip;
//! * `tcp_connect` (ours only: a smoltcp listening socket becomes the connection, with no
//!   accept queue, so the same loop cannot run there): a connection set up and torn down
//!   per iteration; the server closes first, so TIME-WAIT falls on its side, and fake time
//!   moves 60 ms per connection, which keeps about 1000 of them in TIME-WAIT at any moment.
//!
//! The link is a queue per direction: every frame one stack transmits is handed, in order and
//! without loss, to the other stack's `receive_frame`. Frame buffers come from a free list
//! they return to when dropped (by the receiving stack, once it has taken what it needs), as
//! the bindings' pool works, so the allocations counted are the stacks' own (those the fake
//! timers' B-trees make are counted apart).
//!
//! Time is fake: it moves a little each turn of the driving loop so RTT samples and timers
//! stay sensible, and jumps to the next timer when nothing else can happen. Such a jump costs
//! no wall time here but would on a real link, so the bulk summary counts the waits and gives
//! the transfer's duration on the fake clock beside the Gbit/s.
//!
//! `NETSTACK_BENCH_BYTES` sets how many bytes the bulk summary moves (1 GiB by default,
//! 16 MiB with `--test`); `NETSTACK_BENCH_ALLOC_TRACE=N` prints where the first `N`
//! allocations of a measured region come from.

mod support;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hint::black_box;
use std::num::NonZeroU16;
use std::rc::Rc;
use std::time::{Duration, Instant as WallInstant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netstack_core::addr::{AddrSubnet, Ipv4, SpecifiedAddr};
use netstack_core::buf::Buf;
use netstack_core::context::{InstantContext, RngContext, TimerContext};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::device::DeviceId;
use netstack_core::stack::{Stack, StackContext, StackEvent, StackTimerId};
use netstack_core::testutil::fake::FakeCtx;
use netstack_core::time::Instant;
use netstack_core::transport::tcp::{State, Tcp, TcpSocketId};
use netstack_core::transport::SocketError;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp as smol_tcp;
use smoltcp::time::Duration as SmolDuration;
use support::addr::{mac, v4};
use support::smoke_run;
use support::smol::SmolLink;

#[global_allocator]
static ALLOC: support::CountingAlloc = support::CountingAlloc;

type Socket = TcpSocketId<Ipv4>;

/// The socket buffers of the bulk transfer (SO_SNDBUF and SO_RCVBUF).
const BULK_BUFFER: usize = 64 * 1024;

/// How far fake time moves per turn of a driving loop.
const TICK: Duration = Duration::from_micros(20);

/// The server's port.
const PORT: u16 = 5001;

/// Frame buffers not in use, shared by both stacks since frames cross the link.
#[derive(Clone, Default)]
struct FramePool(Rc<RefCell<Vec<Vec<u8>>>>);

impl FramePool {
    fn with_capacity(n: usize) -> Self {
        Self(Rc::new(RefCell::new(Vec::with_capacity(n))))
    }

    /// A buffer of at least `len` bytes. Buffers keep their length between uses, so once
    /// each has grown to the largest frame nothing is allocated or cleared here.
    fn take(&self, len: usize) -> PoolFrame {
        let mut bytes = self.0.borrow_mut().pop().unwrap_or_default();
        if bytes.len() < len {
            bytes.resize(len, 0);
        }
        PoolFrame { bytes, pool: self.clone() }
    }
}

/// A frame buffer that goes back to its pool when dropped.
struct PoolFrame {
    bytes: Vec<u8>,
    pool: FramePool,
}

impl AsRef<[u8]> for PoolFrame {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsMut<[u8]> for PoolFrame {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
}

/// A copy is a fresh buffer (and an allocation the counts show): the stack should not need
/// one on any path measured here.
impl Clone for PoolFrame {
    fn clone(&self) -> Self {
        Self { bytes: self.bytes.clone(), pool: self.pool.clone() }
    }
}

impl Drop for PoolFrame {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        if bytes.capacity() > 0 {
            self.pool.0.borrow_mut().push(bytes);
        }
    }
}

/// One host's bindings: fake timers, the pool, and the frames it transmitted, waiting for
/// the link to carry them.
struct Host {
    timers: FakeCtx<StackTimerId>,
    /// Allocations the fake timers made (their B-trees grow with the number of timers
    /// armed), kept apart from the stack's own.
    timer_allocations: u64,
    pool: FramePool,
    outbox: VecDeque<Buf<PoolFrame>>,
}

impl Host {
    fn timers_do<R>(&mut self, f: impl FnOnce(&mut FakeCtx<StackTimerId>) -> R) -> R {
        let before = support::allocations();
        let result = f(&mut self.timers);
        self.timer_allocations += support::allocations() - before;
        result
    }
}

impl InstantContext for Host {
    fn now(&self) -> Instant {
        self.timers.now()
    }
}

impl TimerContext<StackTimerId> for Host {
    fn schedule_timer(&mut self, id: StackTimerId, at: Instant) -> Option<Instant> {
        self.timers_do(|t| t.schedule_timer(id, at))
    }

    fn cancel_timer(&mut self, id: &StackTimerId) -> Option<Instant> {
        self.timers_do(|t| t.cancel_timer(id))
    }

    fn scheduled_at(&self, id: &StackTimerId) -> Option<Instant> {
        self.timers.scheduled_at(id)
    }
}

impl RngContext for Host {
    fn random_u64(&mut self) -> u64 {
        self.timers.random_u64()
    }
}

impl StackContext for Host {
    type Frame = PoolFrame;

    fn alloc_frame(&mut self, capacity: usize) -> Option<PoolFrame> {
        Some(self.pool.take(capacity))
    }

    fn send_frame(&mut self, _device: DeviceId, frame: Buf<PoolFrame>) {
        self.outbox.push_back(frame);
    }

    fn on_event(&mut self, _event: StackEvent) {}
}

/// Which end of the link.
#[derive(Clone, Copy)]
enum Side {
    /// 192.0.2.1, the client.
    A,
    /// 192.0.2.2, the server.
    B,
}

/// Two stacks, A (192.0.2.1) and B (192.0.2.2), each with one Ethernet device of the same
/// MTU, wired to each other.
struct Link {
    a: Stack<PoolFrame>,
    b: Stack<PoolFrame>,
    host_a: Host,
    host_b: Host,
    dev_a: DeviceId,
    dev_b: DeviceId,
    /// Times the clock jumped to a timer because nothing else could happen.
    stalls: u64,
}

impl Link {
    fn new(mtu: u32) -> Self {
        let pool = FramePool::with_capacity(4096);
        let host = |seed| Host {
            timers: FakeCtx::new(seed),
            timer_allocations: 0,
            pool: pool.clone(),
            outbox: VecDeque::with_capacity(4096),
        };
        let (mut host_a, mut host_b) = (host(1), host(2));
        let config = EthernetConfig { mtu, ..EthernetConfig::default() };
        let mut a = Stack::new(&mut host_a.timers);
        let mut b = Stack::new(&mut host_b.timers);
        let dev_a = a.add_ethernet_device(&mut host_a, mac(1), config);
        let dev_b = b.add_ethernet_device(&mut host_b, mac(2), config);
        a.add_ipv4_address(&mut host_a, dev_a, AddrSubnet::new(v4("192.0.2.1"), 24).expect("subnet"))
            .expect("address");
        b.add_ipv4_address(&mut host_b, dev_b, AddrSubnet::new(v4("192.0.2.2"), 24).expect("subnet"))
            .expect("address");
        let mut link = Self { a, b, host_a, host_b, dev_a, dev_b, stalls: 0 };
        // Let the address announcements and their timers run their course.
        let settled = link.now() + Duration::from_secs(10);
        link.advance_to(settled);
        link
    }

    fn now(&self) -> Instant {
        self.host_a.timers.now()
    }

    /// Calls into one side's TCP layer.
    fn tcp<R>(&mut self, side: Side, f: impl FnOnce(&mut Tcp, &mut dyn TcpCall) -> R) -> R {
        match side {
            Side::A => self.a.tcp_call(&mut self.host_a, |tcp, tctx| f(tcp, tctx)),
            Side::B => self.b.tcp_call(&mut self.host_b, |tcp, tctx| f(tcp, tctx)),
        }
    }

    fn stack(&self, side: Side) -> &Stack<PoolFrame> {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// Carries frames both ways until neither side has anything more to send; returns how
    /// many crossed.
    fn pump(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let before = moved;
            while let Some(frame) = self.host_a.outbox.pop_front() {
                self.b.receive_frame(&mut self.host_b, self.dev_b, frame);
                moved += 1;
            }
            while let Some(frame) = self.host_b.outbox.pop_front() {
                self.a.receive_frame(&mut self.host_a, self.dev_a, frame);
                moved += 1;
            }
            if moved == before {
                return moved;
            }
        }
    }

    /// The earliest timer of either side.
    fn next_deadline(&self) -> Option<Instant> {
        match (self.host_a.timers.next_deadline(), self.host_b.timers.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Moves both clocks to `to`, firing every timer due on the way in deadline order and
    /// carrying what they send.
    fn advance_to(&mut self, to: Instant) {
        while let Some(at) = self.next_deadline().filter(|&at| at <= to) {
            self.host_a.timers.set_now(at);
            self.host_b.timers.set_now(at);
            while let Some(id) = self.host_a.timers.pop_due(at) {
                self.a.handle_timer(&mut self.host_a, id);
            }
            while let Some(id) = self.host_b.timers.pop_due(at) {
                self.b.handle_timer(&mut self.host_b, id);
            }
            self.pump();
        }
        self.host_a.timers.set_now(to);
        self.host_b.timers.set_now(to);
    }

    /// One turn of fake time.
    fn tick(&mut self) {
        let to = self.now() + TICK;
        self.advance_to(to);
    }

    /// Nothing can happen until a timer fires: jump to it.
    fn stall(&mut self) {
        let at = self.next_deadline().expect("a stalled connection has a timer armed");
        self.stalls += 1;
        self.advance_to(at);
    }

    /// Segments sent by both sides so far.
    fn segments_sent(&self) -> u64 {
        self.a.tcp().counters().out_segs + self.b.tcp().counters().out_segs
    }

    /// Allocations made by the fake timers rather than the stacks.
    fn timer_allocations(&self) -> u64 {
        self.host_a.timer_allocations + self.host_b.timer_allocations
    }

    fn retransmissions(&self) -> u64 {
        self.a.tcp().counters().retrans_segs + self.b.tcp().counters().retrans_segs
    }
}

/// The socket calls the benchmarks make, over either side's stack context.
trait TcpCall {
    fn create(&mut self, tcp: &mut Tcp) -> Socket;
    fn listen(&mut self, tcp: &mut Tcp, socket: Socket, port: u16);
    fn connect(&mut self, tcp: &mut Tcp, socket: Socket, to: &str, port: u16);
    fn accept(&mut self, tcp: &mut Tcp, listener: Socket) -> Result<Socket, SocketError>;
    fn send(&mut self, tcp: &mut Tcp, socket: Socket, data: &[u8]) -> Result<usize, SocketError>;
    fn recv(&mut self, tcp: &mut Tcp, socket: Socket, buf: &mut [u8]) -> Result<usize, SocketError>;
    fn nodelay(&mut self, tcp: &mut Tcp, socket: Socket);
    fn close(&mut self, tcp: &mut Tcp, socket: Socket);
}

impl<C: netstack_core::transport::tcp::TcpContext> TcpCall for C {
    fn create(&mut self, tcp: &mut Tcp) -> Socket {
        tcp.create::<Ipv4>(0).expect("socket")
    }

    fn listen(&mut self, tcp: &mut Tcp, socket: Socket, port: u16) {
        tcp.bind(self, socket, None, NonZeroU16::new(port)).expect("bind");
        tcp.listen(self, socket, 128).expect("listen");
    }

    fn connect(&mut self, tcp: &mut Tcp, socket: Socket, to: &str, port: u16) {
        let to = SpecifiedAddr::new(v4(to)).expect("specified");
        tcp.connect(self, socket, to, NonZeroU16::new(port).expect("port")).expect("connect");
    }

    fn accept(&mut self, tcp: &mut Tcp, listener: Socket) -> Result<Socket, SocketError> {
        tcp.accept(self, listener).map(|(socket, _)| socket)
    }

    fn send(&mut self, tcp: &mut Tcp, socket: Socket, data: &[u8]) -> Result<usize, SocketError> {
        tcp.send(self, socket, data)
    }

    fn recv(&mut self, tcp: &mut Tcp, socket: Socket, buf: &mut [u8]) -> Result<usize, SocketError> {
        tcp.recv(self, socket, buf)
    }

    fn nodelay(&mut self, tcp: &mut Tcp, socket: Socket) {
        tcp.set_nodelay(self, socket, true).expect("TCP_NODELAY");
    }

    fn close(&mut self, tcp: &mut Tcp, socket: Socket) {
        tcp.close(self, socket).expect("close");
    }
}

/// An established connection from A to B.
struct Connection {
    link: Link,
    client: Socket,
    server: Socket,
    listener: Socket,
}

impl Connection {
    /// Connects A to B; `setup` configures both sockets first (the server's through its
    /// listener, whose settings accepted connections inherit).
    fn new(mtu: u32, setup: impl Fn(&mut Tcp, Socket)) -> Self {
        let mut link = Link::new(mtu);
        let listener = link.tcp(Side::B, |tcp, call| {
            let s = call.create(tcp);
            setup(tcp, s);
            call.listen(tcp, s, PORT);
            s
        });
        let client = link.tcp(Side::A, |tcp, call| {
            let s = call.create(tcp);
            setup(tcp, s);
            call.connect(tcp, s, "192.0.2.2", PORT);
            s
        });
        // ARP, then the handshake: all of it crosses without any time passing.
        link.pump();
        let server = link.tcp(Side::B, |tcp, call| call.accept(tcp, listener)).expect("handshake done");
        Self { link, client, server, listener }
    }
}

/// `len` pseudo-random bytes: data landing at a wrong offset does not match by accident.
fn pattern(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A byte stream from A's socket to B's: the pattern repeated, checked as it is read.
struct Stream {
    pattern: Vec<u8>,
    sent: u64,
    received: u64,
    buf: Vec<u8>,
}

impl Stream {
    fn new() -> Self {
        // A period that is no multiple of the buffer sizes, so each pass of the pattern
        // falls differently on the rings.
        Self { pattern: pattern(BULK_BUFFER + 4093), sent: 0, received: 0, buf: vec![0; BULK_BUFFER] }
    }

    /// Compares `data`, read at stream offset `self.received`, with what was sent there.
    fn check(&self, mut data: &[u8]) {
        let period = self.pattern.len();
        let mut at = (self.received % period as u64) as usize;
        while !data.is_empty() {
            let n = data.len().min(period - at);
            assert!(
                data[..n] == self.pattern[at..at + n],
                "corrupt data near stream offset {}",
                self.received
            );
            data = &data[n..];
            at = 0;
        }
    }

    /// Moves `bytes` more: the sender writes whatever the send buffer takes, the receiver
    /// reads everything there is, frames cross, time moves one tick; when a turn moves
    /// nothing, time jumps to the next timer.
    fn transfer(&mut self, conn: &mut impl BulkConn, bytes: u64) {
        let target = self.received + bytes;
        while self.received < target {
            let mut progress = false;
            loop {
                let period = self.pattern.len();
                let at = (self.sent % period as u64) as usize;
                let want = (period - at).min((target - self.sent) as usize);
                if want == 0 {
                    break;
                }
                let n = conn.send(&self.pattern[at..at + want]);
                if n == 0 {
                    break;
                }
                self.sent += n as u64;
                progress = true;
            }
            progress |= conn.pump();
            loop {
                let mut buf = std::mem::take(&mut self.buf);
                let n = conn.recv(&mut buf);
                if n > 0 {
                    self.check(&buf[..n]);
                    self.received += n as u64;
                    progress = true;
                }
                self.buf = buf;
                if n == 0 {
                    break;
                }
            }
            progress |= conn.pump();
            if progress {
                conn.tick();
            } else {
                conn.stall();
            }
        }
    }
}

/// A connection a [`Stream`] moves bytes over, from its client's socket to its server's:
/// ours or smoltcp's.
trait BulkConn {
    /// Writes what the client's send buffer takes of `data`; 0 when it is full.
    fn send(&mut self, data: &[u8]) -> usize;
    /// Reads what the server's socket holds into `buf`; 0 when it holds nothing.
    fn recv(&mut self, buf: &mut [u8]) -> usize;
    /// Carries frames both ways until neither side sends more; whether any crossed.
    fn pump(&mut self) -> bool;
    /// Moves fake time one [`TICK`].
    fn tick(&mut self);
    /// Nothing can happen until a timer fires: jumps to it.
    fn stall(&mut self);
}

impl BulkConn for Connection {
    fn send(&mut self, data: &[u8]) -> usize {
        let client = self.client;
        match self.link.tcp(Side::A, |tcp, call| call.send(tcp, client, data)) {
            Ok(n) => n,
            Err(SocketError::WouldBlock) => 0,
            Err(e) => panic!("send failed: {e:?}"),
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        let server = self.server;
        match self.link.tcp(Side::B, |tcp, call| call.recv(tcp, server, buf)) {
            Ok(0) => panic!("end of stream before the transfer finished"),
            Ok(n) => n,
            Err(SocketError::WouldBlock) => 0,
            Err(e) => panic!("recv failed: {e:?}"),
        }
    }

    fn pump(&mut self) -> bool {
        self.link.pump() > 0
    }

    fn tick(&mut self) {
        self.link.tick();
    }

    fn stall(&mut self) {
        self.link.stall();
    }
}

/// smoltcp's side: a connection from A's socket to B's over a [`SmolLink`], on the same fake
/// time as ours.
struct SmolConn {
    link: SmolLink,
    client: SocketHandle,
    server: SocketHandle,
    /// Frames carried across the link.
    frames: u64,
    /// Times the clock jumped to a timer because nothing else could happen.
    stalls: u64,
}

impl SmolConn {
    /// Connects A to B with `buffer`-byte socket buffers and Nagle's algorithm as `nagle`.
    fn new(mtu: usize, buffer: usize, nagle: bool) -> Self {
        let mut link = SmolLink::new(mtu);
        let socket = || {
            let mut s = smol_tcp::Socket::new(
                smol_tcp::SocketBuffer::new(vec![0; buffer]),
                smol_tcp::SocketBuffer::new(vec![0; buffer]),
            );
            s.set_nagle_enabled(nagle);
            s
        };
        let mut server = socket();
        server.listen(PORT).expect("listen");
        let server = link.b.sockets.add(server);
        let mut client = socket();
        let to = (smoltcp::wire::IpAddress::v4(192, 0, 2, 2), PORT);
        client.connect(link.a.iface.context(), to, 49152).expect("connect");
        let client = link.a.sockets.add(client);
        let mut conn = Self { link, client, server, frames: 0, stalls: 0 };
        for _ in 0..100 {
            conn.pump();
            conn.tick();
        }
        let state = conn.link.b.sockets.get::<smol_tcp::Socket>(server).state();
        assert_eq!(state, smol_tcp::State::Established, "smoltcp's handshake");
        conn
    }
}

impl BulkConn for SmolConn {
    fn send(&mut self, data: &[u8]) -> usize {
        let socket = self.link.a.sockets.get_mut::<smol_tcp::Socket>(self.client);
        socket.send_slice(data).expect("smoltcp send_slice")
    }

    fn recv(&mut self, buf: &mut [u8]) -> usize {
        let socket = self.link.b.sockets.get_mut::<smol_tcp::Socket>(self.server);
        socket.recv_slice(buf).expect("smoltcp recv_slice")
    }

    fn pump(&mut self) -> bool {
        let moved = self.link.pump();
        self.frames += moved as u64;
        moved > 0
    }

    fn tick(&mut self) {
        self.link.advance(SmolDuration::from_micros(TICK.as_micros() as u64));
    }

    fn stall(&mut self) {
        let now = self.link.a.now;
        let at = self.link.poll_at().expect("a stalled connection has a timer armed");
        self.stalls += 1;
        if at > now {
            self.link.advance(at - now);
        } else {
            self.tick();
        }
    }
}

/// Bytes the bulk summary moves.
fn bulk_bytes() -> u64 {
    match std::env::var("NETSTACK_BENCH_BYTES") {
        Ok(v) => v.parse().expect("NETSTACK_BENCH_BYTES is a byte count"),
        Err(_) if smoke_run() => 16 << 20,
        Err(_) => 1 << 30,
    }
}

fn bulk_socket(tcp: &mut Tcp, s: Socket) {
    tcp.set_send_buffer(s, BULK_BUFFER).expect("SO_SNDBUF");
    tcp.set_recv_buffer(s, BULK_BUFFER).expect("SO_RCVBUF");
}

fn bench_bulk(c: &mut Criterion) {
    let total = bulk_bytes();
    // Criterion's iterations move this much each over the same connection.
    let per_iteration = total.min(64 << 20);
    let mut group = c.benchmark_group("tcp_bulk");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    for mtu in [1500, 65535] {
        let mut conn = Connection::new(mtu, bulk_socket);
        for (side, socket) in [(Side::A, conn.client), (Side::B, conn.server)] {
            let tcp = conn.link.stack(side).tcp();
            let info = tcp.info(socket).expect("info");
            let (cfg, _, _) = tcp.options(socket).expect("options");
            assert_eq!(
                (cfg.send_buffer, cfg.recv_buffer, info.rcv_space as usize),
                (BULK_BUFFER, BULK_BUFFER, BULK_BUFFER),
                "the 64 KiB socket buffers are in force"
            );
        }
        let mut stream = Stream::new();
        // Warm up: slow start, the frame pool filling, the socket rings allocated.
        stream.transfer(&mut conn, (total / 8).min(8 << 20));
        let (segments, timer_allocations, stalls, retrans, stack_start) = (
            conn.link.segments_sent(),
            conn.link.timer_allocations(),
            conn.link.stalls,
            conn.link.retransmissions(),
            conn.link.now(),
        );
        let start = WallInstant::now();
        let ((), allocations) = support::count_allocations(|| stream.transfer(&mut conn, total));
        let elapsed = start.elapsed();
        let segments = conn.link.segments_sent() - segments;
        let allocations = allocations - (conn.link.timer_allocations() - timer_allocations);
        let stack_time = conn.link.now().saturating_duration_since(stack_start);
        let gbps = |time: Duration| total as f64 * 8.0 / time.as_secs_f64() / 1e9;
        let mss = conn.link.a.tcp().info(conn.client).expect("info").snd_mss;
        println!(
            "tcp_bulk/mtu{mtu}: {:.2} Gbit/s, {:.4} allocs/segment",
            gbps(elapsed),
            allocations as f64 / segments as f64
        );
        println!(
            "  {} MiB in {:.3} s, {segments} segments both ways, MSS {mss}, {} retransmissions; \
             {} waits on a timer, {:.3} s of stack time ({:.2} Gbit/s at {} µs per turn)",
            total >> 20,
            elapsed.as_secs_f64(),
            conn.link.retransmissions() - retrans,
            conn.link.stalls - stalls,
            stack_time.as_secs_f64(),
            gbps(stack_time),
            TICK.as_micros(),
        );
        group.throughput(Throughput::Bytes(per_iteration));
        group.bench_function(format!("mtu{mtu}"), |b| {
            b.iter_custom(|iters| {
                let start = WallInstant::now();
                for _ in 0..iters {
                    stream.transfer(black_box(&mut conn), per_iteration);
                }
                start.elapsed()
            })
        });

        // smoltcp moving the same bytes the same way.
        let mut smol = SmolConn::new(mtu as usize, BULK_BUFFER, true);
        let mut smol_stream = Stream::new();
        smol_stream.transfer(&mut smol, (total / 8).min(8 << 20));
        let (frames, stalls) = (smol.frames, smol.stalls);
        let start = WallInstant::now();
        let ((), smol_allocations) = support::count_allocations(|| smol_stream.transfer(&mut smol, total));
        let smol_elapsed = start.elapsed();
        let frames = smol.frames - frames;
        println!(
            "tcp_bulk/mtu{mtu}/smoltcp: {:.2} Gbit/s, {:.4} allocs/frame ({frames} frames both ways, {} waits on a \
             timer)",
            gbps(smol_elapsed),
            smol_allocations as f64 / frames as f64,
            smol.stalls - stalls,
        );
        println!(
            "tcp_bulk/mtu{mtu}: ours {:.2} Gbit/s, smoltcp {:.2} Gbit/s: {:.2}x (target 2x)",
            gbps(elapsed),
            gbps(smol_elapsed),
            smol_elapsed.as_secs_f64() / elapsed.as_secs_f64()
        );
        group.bench_function(format!("smoltcp_mtu{mtu}"), |b| {
            b.iter_custom(|iters| {
                let start = WallInstant::now();
                for _ in 0..iters {
                    smol_stream.transfer(black_box(&mut smol), per_iteration);
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

/// One request byte from A, answered with one byte from B.
fn round_trip(conn: &mut Connection) {
    let (client, server) = (conn.client, conn.server);
    let link = &mut conn.link;
    let mut byte = [0x5a];
    assert_eq!(link.tcp(Side::A, |tcp, call| call.send(tcp, client, &byte)), Ok(1));
    link.pump();
    assert_eq!(link.tcp(Side::B, |tcp, call| call.recv(tcp, server, &mut byte)), Ok(1));
    assert_eq!(link.tcp(Side::B, |tcp, call| call.send(tcp, server, &byte)), Ok(1));
    link.pump();
    assert_eq!(link.tcp(Side::A, |tcp, call| call.recv(tcp, client, &mut byte)), Ok(1));
    link.tick();
}

fn bench_rr(c: &mut Criterion) {
    let mut conn = Connection::new(1500, |_, _| {});
    let (client, server) = (conn.client, conn.server);
    conn.link.tcp(Side::A, |tcp, call| call.nodelay(tcp, client));
    conn.link.tcp(Side::B, |tcp, call| call.nodelay(tcp, server));
    // The request-response path is warm after a few round trips and must not allocate.
    support::report_zero_allocs("tcp_rr (allocations per round trip)", || round_trip(&mut conn));
    let rounds = if smoke_run() { 10_000 } else { 200_000 };
    let segments = conn.link.segments_sent();
    let start = WallInstant::now();
    let allocations = support::allocs_per_op(rounds, || round_trip(&mut conn));
    let elapsed = start.elapsed();
    println!(
        "tcp_rr: {:.2} µs/round trip, {allocations} allocs/round trip ({:.2} segments/round trip)",
        elapsed.as_secs_f64() * 1e6 / rounds as f64,
        (conn.link.segments_sent() - segments) as f64 / rounds as f64,
    );
    let ours_per_trip = elapsed.as_secs_f64() / rounds as f64;

    // smoltcp, Nagle's algorithm off on both ends.
    let mut smol = SmolConn::new(1500, BULK_BUFFER, false);
    for _ in 0..100 {
        smol_round_trip(&mut smol);
    }
    let frames = smol.frames;
    let start = WallInstant::now();
    let smol_allocations = support::allocs_per_op(rounds, || smol_round_trip(&mut smol));
    let smol_elapsed = start.elapsed();
    let smol_per_trip = smol_elapsed.as_secs_f64() / rounds as f64;
    println!(
        "tcp_rr/smoltcp: {:.2} µs/round trip, {smol_allocations} allocs/round trip ({:.2} frames/round trip)",
        smol_per_trip * 1e6,
        (smol.frames - frames) as f64 / rounds as f64,
    );
    println!(
        "tcp_rr: ours {:.2} µs, smoltcp {:.2} µs per round trip: {:.2}x",
        ours_per_trip * 1e6,
        smol_per_trip * 1e6,
        smol_per_trip / ours_per_trip
    );
    let mut group = c.benchmark_group("tcp_rr");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    group.bench_function("1byte", |b| b.iter(|| round_trip(black_box(&mut conn))));
    group.bench_function("smoltcp_1byte", |b| b.iter(|| smol_round_trip(black_box(&mut smol))));
    group.finish();
}

/// One request byte from smoltcp's A, answered with one byte from its B.
fn smol_round_trip(conn: &mut SmolConn) {
    let mut byte = [0x5a];
    assert_eq!(conn.send(&byte), 1);
    conn.pump();
    assert_eq!(conn.recv(&mut byte), 1);
    let server = conn.link.b.sockets.get_mut::<smol_tcp::Socket>(conn.server);
    assert_eq!(server.send_slice(&byte), Ok(1));
    conn.pump();
    let client = conn.link.a.sockets.get_mut::<smol_tcp::Socket>(conn.client);
    assert_eq!(client.recv_slice(&mut byte), Ok(1));
    conn.tick();
}

/// How far fake time moves per connection: 2*MSL (60 s) over 1000 connections, so no more
/// than about 1000 of the server's connections wait in TIME-WAIT at once.
const CONNECT_STEP: Duration = Duration::from_millis(60);

/// A connection set up and torn down. The server closes first, so TIME-WAIT falls on the
/// server (bounded by `CONNECT_STEP`) and the client's ephemeral port is free as soon as
/// its LAST-ACK is answered; RFC 6056's double-hash selection then moves the client on to
/// the next port, so each connection uses a fresh 4-tuple.
fn connect_once(link: &mut Link, listener: Socket) {
    let client = link.tcp(Side::A, |tcp, call| {
        let s = call.create(tcp);
        call.connect(tcp, s, "192.0.2.2", PORT);
        s
    });
    link.pump();
    let server = link.tcp(Side::B, |tcp, call| call.accept(tcp, listener)).expect("handshake done");
    link.tcp(Side::B, |tcp, call| call.close(tcp, server));
    link.pump();
    assert_eq!(link.a.tcp().state(client), Ok(State::CloseWait));
    link.tcp(Side::A, |tcp, call| call.close(tcp, client));
    link.pump();
    assert!(link.a.tcp().is_empty(), "the client's socket is gone once its FIN is acknowledged");
    let to = link.now() + CONNECT_STEP;
    link.advance_to(to);
}

fn bench_connect(c: &mut Criterion) {
    let Connection { mut link, client, server, listener } = Connection::new(1500, |_, _| {});
    // The first connection only resolved ARP; it goes the way the others will.
    link.tcp(Side::B, |tcp, call| call.close(tcp, server));
    link.pump();
    link.tcp(Side::A, |tcp, call| call.close(tcp, client));
    link.pump();
    // Warm up to the steady state: about 1000 connections in TIME-WAIT on the server, one
    // expiring per new connection.
    let warm = if smoke_run() { 200 } else { 1100 };
    for _ in 0..warm {
        connect_once(&mut link, listener);
    }
    let rounds = if smoke_run() { 1000 } else { 20_000 };
    let timer_allocations = link.timer_allocations();
    let start = WallInstant::now();
    let allocations = support::allocs_per_op(rounds, || connect_once(&mut link, listener));
    let elapsed = start.elapsed();
    // allocs_per_op makes one unmeasured call first; its timer allocations are not in
    // `allocations`, which is near enough over this many rounds.
    let by_timers = (link.timer_allocations() - timer_allocations) as f64 / rounds as f64;
    println!(
        "tcp_connect: {:.0} connections/s ({:.2} µs each), {:.2} allocs/connection",
        rounds as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / rounds as f64,
        allocations - by_timers,
    );
    println!(
        "  plus {by_timers:.2} by the fake timers; {} server sockets (TIME-WAIT included), {} TIME-WAIT \
         connections recycled",
        link.b.tcp().len(),
        link.b.tcp().counters().time_wait_recycled,
    );
    let mut group = c.benchmark_group("tcp_connect");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    group.bench_function("setup_teardown", |b| b.iter(|| connect_once(black_box(&mut link), listener)));
    group.finish();
}

criterion_group!(benches, bench_bulk, bench_rr, bench_connect);
criterion_main!(benches);
