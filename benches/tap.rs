//! UDP echo through a real TAP interface with the Linux kernel as the peer, in frames per
//! second, with allocations counted per operation (the target, checked, is zero):
//!
//! * `tap_udp_echo`: a kernel UDP socket sends one datagram to the stack's echo service and
//!   waits for the echo (kernel → TAP → event loop → stack → TAP → kernel), in lock step:
//!   two frames per operation, the round trip's latency bounding the rate;
//! * `tap_udp_echo_batch`: the socket sends 32 datagrams, then the loop runs until all 32
//!   echoes are back: 64 frames per operation, read and written in batches as under load.
//!
//! Everything runs on this thread: it moves into a network namespace of its own (anonymous,
//! gone when the benchmark ends, however it ends), creates the TAP there, runs the event loop
//! with `turn`, and opens the kernel-side socket there too. The allocation count is therefore
//! the whole userspace path's, bindings and stack together.
//!
//! Needs root (a namespace and a TAP); without it the benchmark says so loudly and does
//! nothing. Run it with `sudo cargo bench --bench tap` (about 20 s).

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netstack_bindings::device::tuntap::{TunTap, TunTapMode};
use netstack_bindings::device::{Pool, PoolConfig, SessionConfig};
use netstack_bindings::eventloop::{EventLoop, LoopConfig};
use netstack_bindings::rng::SmallRng;
use netstack_core::addr::{AddrSubnet, Mac, UnicastAddr};
use netstack_core::device::ethernet::EthernetConfig;

use support::addr::v4;

#[global_allocator]
static ALLOC: support::CountingAlloc = support::CountingAlloc;

/// Datagrams in flight at once in the batch benchmark.
const BATCH: usize = 32;

/// How long an echo may take before the benchmark gives up on it.
const ECHO_TIMEOUT: Duration = Duration::from_secs(2);

/// This thread, moved into a new network namespace until dropped; the namespace goes away
/// once nothing (the TAP's fd, the socket, this thread) refers to it.
struct OwnNetns {
    original: OwnedFd,
}

impl OwnNetns {
    fn enter() -> std::io::Result<Self> {
        let original = rustix::fs::open(
            "/proc/thread-self/ns/net",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        // SAFETY: only the network namespace is unshared, not the fd table (`FILES`), the one
        // flag whose misuse could let threads see each other's fds wrongly.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }?;
        Ok(Self { original })
    }
}

impl Drop for OwnNetns {
    fn drop(&mut self) {
        let back = rustix::thread::move_into_link_name_space(
            self.original.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        );
        if let Err(error) = back {
            eprintln!("benches/tap.rs: could not return to the original network namespace: {error}");
        }
    }
}

/// Runs `ip ARGS` in this thread's namespace; panics with its stderr on failure.
fn ip(args: &[&str]) {
    let out = std::process::Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The stack on tap0 (192.0.2.1/24, echo on port 7) and the kernel's socket on 192.0.2.2.
struct Bench {
    event_loop: EventLoop,
    socket: UdpSocket,
    buf: Vec<u8>,
}

impl Bench {
    fn new() -> Self {
        // Keep the kernel's side quiet: no IPv6 on interfaces made from here on (no router
        // solicitations or MLD reports on the TAP). Where IPv6 is compiled out there is
        // nothing to turn off.
        let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
        ip(&["link", "set", "lo", "up"]);
        let tap = TunTap::create("tap0", TunTapMode::Tap, Some(1500)).expect("create tap0");
        let mut event_loop =
            EventLoop::new(LoopConfig::default(), Pool::new(PoolConfig::default()), SmallRng::from_seed(1));
        let mac = UnicastAddr::new(Mac::new([0x02, 0, 0, 0, 0, 1])).expect("unicast");
        let dev = event_loop.attach(Box::new(tap), SessionConfig::default(), |stack, ctx| {
            stack.add_ethernet_device(ctx, mac, EthernetConfig::default())
        });
        let (stack, ctx) = event_loop.parts();
        let addr = AddrSubnet::new(v4("192.0.2.1"), 24).expect("subnet");
        stack.add_ipv4_address(ctx, dev, addr).expect("address");
        event_loop.start_udp_echo(7).expect("echo service");
        ip(&["addr", "add", "192.0.2.2/24", "dev", "tap0"]);
        let socket = UdpSocket::bind("192.0.2.2:0").expect("bind the kernel's socket");
        socket.connect(SocketAddr::from(([192, 0, 2, 1], 7))).expect("connect");
        socket.set_nonblocking(true).expect("non-blocking");
        let mut bench = Self { event_loop, socket, buf: vec![0; 2048] };
        // The first echo waits for ARP both ways; after it the path is warm.
        bench.echo(&[0x42; 64], 1);
        bench
    }

    /// Sends `count` copies of `payload` and runs the loop until as many echoes are back.
    fn echo(&mut self, payload: &[u8], count: usize) {
        for _ in 0..count {
            self.socket.send(payload).expect("send");
        }
        let mut left = count;
        let mut spins = 0u32;
        let mut deadline: Option<Instant> = None;
        while left > 0 {
            self.event_loop.turn(true);
            loop {
                match self.socket.recv(&mut self.buf) {
                    Ok(len) => {
                        assert_eq!(len, payload.len(), "an echo of another length");
                        left -= 1;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("receive the echo: {e}"),
                }
            }
            // Look at the clock only now and then: the loop spins fast.
            spins += 1;
            if left > 0 && spins % 1024 == 0 {
                let now = Instant::now();
                let deadline = *deadline.get_or_insert(now + ECHO_TIMEOUT);
                assert!(now < deadline, "{left} of {count} echoes never came back");
            }
        }
    }
}

fn bench_tap_echo(c: &mut Criterion) {
    if !rustix::process::geteuid().is_root() {
        eprintln!(
            "\n*** SKIPPED benches/tap.rs: needs root to create a network namespace and a TAP; \
             run `sudo cargo bench --bench tap` ***\n"
        );
        return;
    }
    let netns = OwnNetns::enter().expect("unshare(CLONE_NEWNET)");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let entered = runtime.enter();
    let mut bench = Bench::new();

    let mut group = c.benchmark_group("tap_udp_echo");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for len in [64usize, 1472] {
        let payload = vec![0x42; len];
        support::report_zero_allocs(&format!("tap_udp_echo/{len} (2 frames per op)"), || {
            bench.echo(&payload, 1)
        });
        group.throughput(Throughput::Elements(2));
        group.bench_function(format!("{len}"), |b| b.iter(|| bench.echo(&payload, 1)));
    }
    group.finish();

    let mut group = c.benchmark_group("tap_udp_echo_batch");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for len in [64usize, 1472] {
        let payload = vec![0x42; len];
        support::report_zero_allocs(
            &format!("tap_udp_echo_batch/{len} ({} frames per op)", 2 * BATCH),
            || bench.echo(&payload, BATCH),
        );
        group.throughput(Throughput::Elements(2 * BATCH as u64));
        group.bench_function(format!("{len}"), |b| b.iter(|| bench.echo(&payload, BATCH)));
    }
    group.finish();

    // The TAP and socket go first, then the runtime, then this thread leaves the namespace,
    // which then has nothing left in it.
    drop(bench);
    drop(entered);
    drop(runtime);
    drop(netns);
}

criterion_group!(benches, bench_tap_echo);
criterion_main!(benches);
