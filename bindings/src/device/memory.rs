//! The memory backend: two Ethernet devices connected back to back in one process, for tests
//! and benchmarks, with the impairments `tc netem` would add on a real link: loss,
//! duplication, reordering, delay and a rate limit, all drawn from a seeded generator so a run
//! is reproducible.
//!
//! Each direction is a bounded wire of preallocated slots shared by the two ends (which may
//! run on different threads, each with its own event loop and pool): transmit copies a frame
//! into a free slot, receive copies it out into the receiver's pool buffer and frees the slot.
//! A full wire drops the frame and counts it, as a NIC with a full ring does.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;

use super::pool::HEADROOM;
use super::{Backend, BackendCounters, Fifo, Frame, LinkKind, Pool};
use crate::rng::SmallRng;

/// What the wire does to frames, in each direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Impairments {
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame is delivered twice.
    pub duplicate: f64,
    /// Probability that a frame overtakes the one sent before it.
    pub reorder: f64,
    /// Time every frame spends on the wire.
    pub delay: Duration,
    /// The wire's rate in bits per second (`None`: as fast as the receiver takes frames).
    pub rate_bps: Option<u64>,
    /// Seeds the draws (each direction derives its own stream from it).
    pub seed: u64,
}

impl Default for Impairments {
    fn default() -> Self {
        Self { loss: 0.0, duplicate: 0.0, reorder: 0.0, delay: Duration::ZERO, rate_bps: None, seed: 0 }
    }
}

impl Impairments {
    fn timed(&self) -> bool {
        !self.delay.is_zero() || self.rate_bps.is_some()
    }
}

/// The shape of the pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryConfig {
    /// Frames each direction holds in flight.
    pub slots: usize,
    /// The largest frame, in bytes.
    pub max_frame: usize,
    /// What the wire does to frames.
    pub impairments: Impairments,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self { slots: 256, max_frame: 1514, impairments: Impairments::default() }
    }
}

/// What one direction of the wire counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireCounters {
    /// Frames lost on purpose.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Frames that overtook their predecessor.
    pub reordered: u64,
    /// Frames dropped: every slot was in flight.
    pub dropped_full: u64,
    /// Frames dropped: larger than a slot.
    pub dropped_too_big: u64,
}

#[derive(Debug)]
struct InFlight {
    deliver_at: Option<Instant>,
    len: usize,
    data: Box<[u8]>,
}

#[derive(Debug)]
struct WireState {
    queue: VecDeque<InFlight>,
    spare: Vec<Box<[u8]>>,
    rng: SmallRng,
    /// When the wire finishes serializing what it has accepted (rate limiting).
    busy_until: Option<Instant>,
    counters: WireCounters,
}

/// One direction.
#[derive(Debug)]
struct Wire {
    state: Mutex<WireState>,
    impairments: Impairments,
    /// The receiving end's waker.
    waker: AtomicWaker,
}

impl Wire {
    fn new(config: &MemoryConfig, stream: u64) -> Self {
        let spare = (0..config.slots).map(|_| vec![0u8; config.max_frame].into_boxed_slice()).collect();
        let state = WireState {
            queue: VecDeque::with_capacity(config.slots),
            spare,
            rng: SmallRng::from_seed(config.impairments.seed ^ stream),
            busy_until: None,
            counters: WireCounters::default(),
        };
        Self { state: Mutex::new(state), impairments: config.impairments, waker: AtomicWaker::new() }
    }

    fn lock(&self) -> MutexGuard<'_, WireState> {
        // A panic on the other end's thread poisons the lock; the queue is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts one frame (or none, or two) on the wire.
    fn send(&self, frame: &[u8]) {
        let imp = &self.impairments;
        let mut state = self.lock();
        if imp.loss > 0.0 && state.rng.chance(imp.loss) {
            state.counters.lost += 1;
            return;
        }
        let copies = if imp.duplicate > 0.0 && state.rng.chance(imp.duplicate) { 2 } else { 1 };
        for copy in 0..copies {
            let deliver_at = imp.timed().then(|| {
                let now = Instant::now();
                let start = state.busy_until.map_or(now, |b| b.max(now));
                let serialization = imp.rate_bps.map_or(Duration::ZERO, |bps| {
                    Duration::from_nanos((frame.len() as u64 * 8).saturating_mul(1_000_000_000) / bps.max(1))
                });
                state.busy_until = Some(start + serialization);
                start + serialization + imp.delay
            });
            if state.spare.last().is_some_and(|slot| slot.len() < frame.len()) {
                state.counters.dropped_too_big += 1;
                return;
            }
            let Some(mut data) = state.spare.pop() else {
                state.counters.dropped_full += 1;
                return;
            };
            data[..frame.len()].copy_from_slice(frame);
            let item = InFlight { deliver_at, len: frame.len(), data };
            let overtake = imp.reorder > 0.0 && !state.queue.is_empty() && state.rng.chance(imp.reorder);
            if overtake {
                state.counters.reordered += 1;
                let at = state.queue.len() - 1;
                state.queue.insert(at, item);
            } else {
                state.queue.push_back(item);
            }
            if copy == 1 {
                state.counters.duplicated += 1;
            }
        }
        drop(state);
        self.waker.wake();
    }
}

/// One end of a memory pair.
#[derive(Debug)]
pub struct MemoryPort {
    name: String,
    tx: Arc<Wire>,
    rx: Arc<Wire>,
    /// Wakes the receiver when the frame at the head of a delayed wire is due; made the first
    /// time it is needed.
    due: Option<Pin<Box<tokio::time::Sleep>>>,
    counters: BackendCounters,
}

/// Two connected devices named `a` and `b`.
pub fn memory_pair(a: &str, b: &str, config: MemoryConfig) -> (MemoryPort, MemoryPort) {
    let ab = Arc::new(Wire::new(&config, 0x0a0b));
    let ba = Arc::new(Wire::new(&config, 0x0b0a));
    let port = |name: &str, tx: &Arc<Wire>, rx: &Arc<Wire>| MemoryPort {
        name: name.to_owned(),
        tx: Arc::clone(tx),
        rx: Arc::clone(rx),
        due: None,
        counters: BackendCounters::default(),
    };
    (port(a, &ab, &ba), port(b, &ba, &ab))
}

impl MemoryPort {
    /// What the wire this end transmits on counted.
    pub fn tx_wire_counters(&self) -> WireCounters {
        self.tx.lock().counters
    }

    /// Puts `frame` on the wire as if the stack had sent it (for tests and benchmarks that
    /// drive one end by hand).
    pub fn inject(&self, frame: &[u8]) {
        self.tx.send(frame);
    }

    /// Takes the next due frame off the wire towards this end into `out`; returns its length
    /// (for tests and benchmarks that drive one end by hand).
    pub fn take(&self, out: &mut [u8]) -> Option<usize> {
        let mut state = self.rx.lock();
        let head = state.queue.front()?;
        if head.deliver_at.is_some_and(|at| at > Instant::now()) {
            return None;
        }
        let item = state.queue.pop_front()?;
        let len = item.len.min(out.len());
        out[..len].copy_from_slice(&item.data[..len]);
        state.spare.push(item.data);
        Some(len)
    }
}

impl Backend for MemoryPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn link(&self) -> LinkKind {
        LinkKind::Ethernet
    }

    fn poll_rx_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.rx.waker.register(cx.waker());
        let head_due = self.rx.lock().queue.front().map(|f| f.deliver_at);
        match head_due {
            None => Poll::Pending,
            Some(None) => Poll::Ready(Ok(())),
            Some(Some(at)) if at <= Instant::now() => Poll::Ready(Ok(())),
            Some(Some(at)) => {
                let deadline = tokio::time::Instant::from_std(at);
                let due = self.due.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                due.as_mut().reset(deadline);
                match due.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Ok(())),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn receive(&mut self, pool: &Pool, rx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize> {
        let mut state = self.rx.lock();
        let now = self.rx.impairments.timed().then(Instant::now);
        let mut received = 0;
        while received < budget && !rx.is_full() {
            let Some(head) = state.queue.front() else { break };
            if head.deliver_at.is_some_and(|at| now.is_some_and(|now| at > now)) {
                break;
            }
            let Some(item) = state.queue.pop_front() else { break };
            received += 1;
            match pool.alloc(HEADROOM + item.len) {
                Some(mut buffer) => {
                    buffer.as_mut()[HEADROOM..HEADROOM + item.len].copy_from_slice(&item.data[..item.len]);
                    self.counters.rx_frames += 1;
                    self.counters.rx_bytes += item.len as u64;
                    // The FIFO had room: checked above.
                    let _ = rx.push(Frame::new(buffer, HEADROOM..HEADROOM + item.len));
                }
                None => self.counters.rx_no_buffer += 1,
            }
            state.spare.push(item.data);
        }
        Ok(received)
    }

    fn poll_tx_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The wire never pushes back: it drops what it cannot hold.
        Poll::Ready(Ok(()))
    }

    fn transmit(&mut self, tx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize> {
        let mut sent = 0;
        while sent < budget {
            let Some(frame) = tx.pop() else { break };
            self.tx.send(frame.body());
            self.counters.tx_frames += 1;
            self.counters.tx_bytes += frame.len() as u64;
            sent += 1;
        }
        Ok(sent)
    }

    fn counters(&self) -> BackendCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    use crate::device::PoolConfig;

    fn frame(n: u8) -> Vec<u8> {
        vec![n; 60]
    }

    /// Sends frames 0..n from `a` and returns the first byte of each that `b` receives.
    fn through(config: MemoryConfig, n: u8) -> (Vec<u8>, WireCounters) {
        let (mut a, mut b) = memory_pair("a", "b", config);
        let pool = Pool::new(PoolConfig::default());
        let mut tx = Fifo::new(256);
        for i in 0..n {
            let mut buffer = pool.alloc(HEADROOM + 60).unwrap();
            buffer.as_mut()[HEADROOM..HEADROOM + 60].copy_from_slice(&frame(i));
            tx.push(Frame::new(buffer, HEADROOM..HEADROOM + 60)).unwrap();
        }
        assert_eq!(a.transmit(&mut tx, 256).unwrap(), usize::from(n));
        let mut rx = Fifo::new(512);
        b.receive(&pool, &mut rx, 512).unwrap();
        let got = std::iter::from_fn(|| rx.pop()).map(|f| f.body()[0]).collect();
        (got, a.tx_wire_counters())
    }

    #[test]
    fn a_clean_wire_delivers_everything_in_order() {
        let (got, counters) = through(MemoryConfig::default(), 100);
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert_eq!(counters, WireCounters::default());
    }

    #[test]
    fn impairments_follow_their_probabilities_and_the_seed() {
        let imp = Impairments { loss: 0.2, duplicate: 0.1, reorder: 0.1, seed: 7, ..Default::default() };
        let config = MemoryConfig { impairments: imp, ..Default::default() };
        let (got, counters) = through(config, 200);
        assert!((20..=60).contains(&counters.lost), "{counters:?}");
        assert!((5..=40).contains(&counters.duplicated), "{counters:?}");
        assert!(counters.reordered > 0, "{counters:?}");
        assert_eq!(got.len() as u64, 200 - counters.lost + counters.duplicated);
        assert!(got.windows(2).any(|w| w[0] > w[1]), "some frame overtook another");
        assert_eq!(through(config, 200), (got, counters), "the same seed gives the same run");
    }

    #[test]
    fn a_full_wire_drops_and_counts() {
        let config = MemoryConfig { slots: 10, ..Default::default() };
        let (got, counters) = through(config, 15);
        assert_eq!(got.len(), 10);
        assert_eq!(counters.dropped_full, 5);
    }

    #[test]
    fn delay_and_rate_hold_frames_until_due() {
        let imp =
            Impairments { delay: Duration::from_millis(30), rate_bps: Some(480_000), ..Default::default() };
        let (a, mut b) = memory_pair("a", "b", MemoryConfig { impairments: imp, ..Default::default() });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async {
            let pool = Pool::new(PoolConfig::default());
            let start = Instant::now();
            // 60 bytes at 480 kbit/s take 1 ms each on the wire.
            for i in 0..5 {
                a.inject(&frame(i));
            }
            let mut rx = Fifo::new(16);
            assert_eq!(b.receive(&pool, &mut rx, 16).unwrap(), 0, "nothing is due yet");
            while rx.len() < 5 {
                poll_fn(|cx| b.poll_rx_ready(cx)).await.unwrap();
                b.receive(&pool, &mut rx, 16).unwrap();
            }
            assert!(start.elapsed() >= Duration::from_millis(35), "{:?}", start.elapsed());
        });
    }

    #[test]
    fn the_receiver_is_woken_when_a_frame_arrives() {
        let (a, mut b) = memory_pair("a", "b", MemoryConfig::default());
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(b.poll_rx_ready(&mut cx).is_pending());
        a.inject(&frame(1));
        assert!(b.poll_rx_ready(&mut cx).is_ready());
        let mut out = [0u8; 64];
        assert_eq!(b.take(&mut out), Some(60));
        assert_eq!(out[0], 1);
    }
}
