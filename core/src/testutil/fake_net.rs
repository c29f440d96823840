//! A deterministic fake network: nodes (stacks under test, each with its own fake host
//! context) attached to segments (broadcast domains, like a switch or a cable), with
//! per-segment impairments — loss, duplication, delay with jitter (which reorders) and a
//! largest frame — all on one clock and all randomness drawn from one seed, so a whole
//! scenario replays exactly. Every frame put on a wire can be captured to a pcap.

use alloc::vec::Vec;
use core::time::Duration;

use super::fake::FakeCtx;
use super::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::device::DeviceId;
use crate::time::Instant;

/// A participant of the fake network: receives frames on its devices and fires its timers.
pub trait Node {
    /// The node's timer ids.
    type TimerId: Clone + Ord;

    /// `frame` arrived on `device`.
    fn receive_frame(&mut self, ctx: &mut NodeCtx<Self::TimerId>, device: DeviceId, frame: &[u8]);

    /// Timer `id` fired.
    fn handle_timer(&mut self, ctx: &mut NodeCtx<Self::TimerId>, id: Self::TimerId);
}

/// A node's host: a fake clock, timers and randomness, plus the frames it sent, which the
/// network puts on the wire when the node's callback returns.
#[derive(Debug)]
pub struct NodeCtx<Id> {
    host: FakeCtx<Id>,
    outbox: Vec<(DeviceId, Vec<u8>)>,
}

impl<Id: Clone + Ord> NodeCtx<Id> {
    /// Transmits `frame` on `device`.
    pub fn send_frame(&mut self, device: DeviceId, frame: &[u8]) {
        self.outbox.push((device, frame.to_vec()));
    }

    /// The timers scheduled, in deadline order.
    pub fn timers(&self) -> Vec<(Id, Instant)> {
        self.host.timers()
    }
}

impl<Id> InstantContext for NodeCtx<Id> {
    fn now(&self) -> Instant {
        self.host.now()
    }
}

impl<Id: Clone + Ord> TimerContext<Id> for NodeCtx<Id> {
    fn schedule_timer(&mut self, id: Id, at: Instant) -> Option<Instant> {
        self.host.schedule_timer(id, at)
    }

    fn cancel_timer(&mut self, id: &Id) -> Option<Instant> {
        self.host.cancel_timer(id)
    }

    fn scheduled_at(&self, id: &Id) -> Option<Instant> {
        self.host.scheduled_at(id)
    }
}

impl<Id> RngContext for NodeCtx<Id> {
    fn random_u64(&mut self) -> u64 {
        self.host.random_u64()
    }
}

/// What a segment does to the frames crossing it. Probabilities are in parts per million
/// so that runs stay integer-exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Impairments {
    /// Chance that a copy of a frame is lost on its way to one receiver.
    pub loss_ppm: u32,
    /// Chance that a receiver gets a frame twice.
    pub duplicate_ppm: u32,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..jitter` per copy; larger than the gap between
    /// frames, it reorders them.
    pub jitter: Duration,
    /// The largest frame the segment carries; longer ones are dropped (like an Ethernet
    /// switch's maximum frame size, the MTU plus the link header).
    pub max_frame_len: usize,
}

impl Default for Impairments {
    /// A clean Ethernet segment: 100 µs delay, no loss, 1514-byte frames (MTU 1500).
    fn default() -> Self {
        Self {
            loss_ppm: 0,
            duplicate_ppm: 0,
            delay: Duration::from_micros(100),
            jitter: Duration::ZERO,
            max_frame_len: 1514,
        }
    }
}

/// What happened to frames on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Frames nodes transmitted.
    pub sent: u64,
    /// Copies delivered to receivers (duplicates included).
    pub delivered: u64,
    /// Copies lost to `loss_ppm`.
    pub lost: u64,
    /// Extra copies made by `duplicate_ppm`.
    pub duplicated: u64,
    /// Frames dropped for exceeding `max_frame_len`.
    pub too_big: u64,
}

/// A node's index in the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIndex(usize);

/// A segment's index in the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentId(usize);

#[derive(Debug)]
struct Segment {
    ports: Vec<(NodeIndex, DeviceId)>,
    impairments: Impairments,
}

#[derive(Debug)]
struct InFlight {
    at: Instant,
    seq: u64,
    to: NodeIndex,
    device: DeviceId,
    frame: Vec<u8>,
}

/// The network: nodes, segments, frames in flight and the shared clock.
#[derive(Debug)]
pub struct FakeNetwork<N: Node> {
    now: Instant,
    nodes: Vec<(N, NodeCtx<N::TimerId>)>,
    segments: Vec<Segment>,
    in_flight: Vec<InFlight>,
    next_seq: u64,
    rng: super::fake::FakeRng,
    capture: Option<PcapWriter>,
    stats: WireStats,
}

impl<N: Node> FakeNetwork<N> {
    /// An empty network whose impairments draw from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            now: Instant::ZERO,
            nodes: Vec::new(),
            segments: Vec::new(),
            in_flight: Vec::new(),
            next_seq: 0,
            rng: super::fake::FakeRng::new(seed),
            capture: None,
            stats: WireStats::default(),
        }
    }

    /// Adds a node whose own randomness is seeded with `seed`.
    pub fn add_node(&mut self, node: N, seed: u64) -> NodeIndex {
        let mut host = FakeCtx::new(seed);
        host.set_now(self.now);
        self.nodes.push((node, NodeCtx { host, outbox: Vec::new() }));
        NodeIndex(self.nodes.len() - 1)
    }

    /// Adds a segment with `impairments`.
    pub fn add_segment(&mut self, impairments: Impairments) -> SegmentId {
        self.segments.push(Segment { ports: Vec::new(), impairments });
        SegmentId(self.segments.len() - 1)
    }

    /// Plugs `node`'s `device` into `segment`.
    pub fn attach(&mut self, segment: SegmentId, node: NodeIndex, device: DeviceId) {
        self.segments[segment.0].ports.push((node, device));
    }

    /// Changes a segment's impairments (e.g. to cut a link mid-test).
    pub fn set_impairments(&mut self, segment: SegmentId, impairments: Impairments) {
        self.segments[segment.0].impairments = impairments;
    }

    /// Starts recording every frame put on a wire (before impairments act on it).
    pub fn start_capture(&mut self) {
        self.capture = Some(PcapWriter::new(LINKTYPE_ETHERNET));
    }

    /// The capture so far as a pcap file, if capturing.
    pub fn capture(&self) -> Option<Vec<u8>> {
        self.capture.clone().map(PcapWriter::into_bytes)
    }

    /// The shared clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// What happened on the wires.
    pub fn stats(&self) -> WireStats {
        self.stats
    }

    /// A node.
    pub fn node(&self, index: NodeIndex) -> &N {
        &self.nodes[index.0].0
    }

    /// Calls `f` with a node and its context at the current time (an application using the
    /// node's API), then puts what it sent on the wire.
    pub fn with_node<R>(
        &mut self,
        index: NodeIndex,
        f: impl FnOnce(&mut N, &mut NodeCtx<N::TimerId>) -> R,
    ) -> R {
        let now = self.now;
        let (node, ctx) = &mut self.nodes[index.0];
        ctx.host.set_now(now);
        let result = f(node, ctx);
        self.flush(index);
        result
    }

    /// The time of the next frame delivery or timer, if any.
    pub fn next_event(&self) -> Option<Instant> {
        let frame = self.in_flight.iter().map(|f| f.at).min();
        let timer = self.nodes.iter().filter_map(|(_, ctx)| ctx.host.next_deadline()).min();
        frame.into_iter().chain(timer).min()
    }

    /// Processes the next event if it is due at or before `deadline`; returns whether one was.
    /// Frames due at the same time as a timer are delivered first.
    pub fn step(&mut self, deadline: Instant) -> bool {
        let Some(at) = self.next_event().filter(|&at| at <= deadline) else {
            return false;
        };
        self.now = self.now.max(at);
        if let Some(i) = self
            .in_flight
            .iter()
            .enumerate()
            .filter(|(_, f)| f.at == at)
            .min_by_key(|(_, f)| f.seq)
            .map(|(i, _)| i)
        {
            let InFlight { to, device, frame, .. } = self.in_flight.swap_remove(i);
            let now = self.now;
            let (node, ctx) = &mut self.nodes[to.0];
            ctx.host.set_now(now);
            node.receive_frame(ctx, device, &frame);
            self.flush(to);
            return true;
        }
        let Some(index) = self.nodes.iter().position(|(_, ctx)| ctx.host.next_deadline() == Some(at)) else {
            return false;
        };
        let now = self.now;
        let (node, ctx) = &mut self.nodes[index];
        ctx.host.set_now(now);
        if let Some(id) = ctx.host.pop_due(now) {
            node.handle_timer(ctx, id);
        }
        self.flush(NodeIndex(index));
        true
    }

    /// Runs every event up to `deadline`, then leaves the clock there. Returns how many
    /// events ran.
    pub fn run_until(&mut self, deadline: Instant) -> usize {
        let mut events = 0;
        while self.step(deadline) {
            events += 1;
        }
        self.now = self.now.max(deadline);
        events
    }

    /// [`run_until`](Self::run_until) `duration` from now.
    pub fn run_for(&mut self, duration: Duration) -> usize {
        self.run_until(self.now + duration)
    }

    /// Puts the frames `index` sent on the wires of the segments its devices are plugged into.
    fn flush(&mut self, index: NodeIndex) {
        let outbox = core::mem::take(&mut self.nodes[index.0].1.outbox);
        for (device, frame) in outbox {
            self.stats.sent += 1;
            if let Some(capture) = &mut self.capture {
                capture.push(self.now, &frame);
            }
            for segment in &self.segments {
                if !segment.ports.contains(&(index, device)) {
                    continue;
                }
                let imp = segment.impairments;
                if frame.len() > imp.max_frame_len {
                    self.stats.too_big += 1;
                    continue;
                }
                for &(to, to_device) in segment.ports.iter().filter(|&&port| port != (index, device)) {
                    if chance(&mut self.rng, imp.loss_ppm) {
                        self.stats.lost += 1;
                        continue;
                    }
                    let copies = if chance(&mut self.rng, imp.duplicate_ppm) {
                        self.stats.duplicated += 1;
                        2
                    } else {
                        1
                    };
                    for _ in 0..copies {
                        let at = self.now + imp.delay + self.rng.random_duration(Duration::ZERO..imp.jitter);
                        self.stats.delivered += 1;
                        self.in_flight.push(InFlight {
                            at,
                            seq: self.next_seq,
                            to,
                            device: to_device,
                            frame: frame.clone(),
                        });
                        self.next_seq += 1;
                    }
                }
            }
        }
    }
}

/// True with probability `ppm` parts per million.
fn chance(rng: &mut super::fake::FakeRng, ppm: u32) -> bool {
    ppm > 0 && rng.random_below(1_000_000) < u64::from(ppm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Sends `count` numbered frames from device 1 at 1 ms intervals and records what arrives.
    #[derive(Debug, Default)]
    struct Counter {
        to_send: u32,
        received: Vec<(Instant, u32)>,
    }

    const DEV: DeviceId = DeviceId::new(1);

    impl Node for Counter {
        type TimerId = ();

        fn receive_frame(&mut self, ctx: &mut NodeCtx<()>, _device: DeviceId, frame: &[u8]) {
            let n = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            self.received.push((ctx.now(), n));
        }

        fn handle_timer(&mut self, ctx: &mut NodeCtx<()>, (): ()) {
            if self.to_send > 0 {
                self.to_send -= 1;
                let mut frame = vec![0u8; 64];
                frame[..4].copy_from_slice(&self.to_send.to_be_bytes());
                ctx.send_frame(DEV, &frame);
                ctx.schedule_timer_after((), Duration::from_millis(1));
            }
        }
    }

    fn pair(imp: Impairments, seed: u64, count: u32) -> (FakeNetwork<Counter>, NodeIndex, NodeIndex) {
        let mut net = FakeNetwork::new(seed);
        let a = net.add_node(Counter { to_send: count, received: vec![] }, 1);
        let b = net.add_node(Counter::default(), 2);
        let seg = net.add_segment(imp);
        net.attach(seg, a, DEV);
        net.attach(seg, b, DEV);
        net.with_node(a, |_, ctx| ctx.schedule_timer((), Instant::ZERO));
        (net, a, b)
    }

    #[test]
    fn clean_link_delivers_everything_in_order_after_the_delay() {
        let (mut net, _, b) = pair(Impairments::default(), 7, 100);
        net.run_for(Duration::from_secs(1));
        let got = &net.node(b).received;
        assert_eq!(got.len(), 100);
        assert!(got.windows(2).all(|w| w[0].1 > w[1].1), "in order");
        assert_eq!(got[0].0, Instant::ZERO + Duration::from_micros(100));
        assert_eq!(net.stats(), WireStats { sent: 100, delivered: 100, ..WireStats::default() });
    }

    #[test]
    fn loss_duplication_and_reordering_follow_the_configuration() {
        let imp = Impairments {
            loss_ppm: 100_000,
            duplicate_ppm: 50_000,
            jitter: Duration::from_millis(5),
            ..Impairments::default()
        };
        let (mut net, _, b) = pair(imp, 7, 10_000);
        net.run_for(Duration::from_secs(20));
        let stats = net.stats();
        // 10% loss and 5% duplication of 10 000 frames, within a generous tolerance.
        assert!((800..1200).contains(&stats.lost), "{stats:?}");
        assert!((300..700).contains(&stats.duplicated), "{stats:?}");
        let got = &net.node(b).received;
        assert_eq!(got.len() as u64, stats.delivered);
        assert!(got.windows(2).any(|w| w[0].1 < w[1].1), "jitter above the frame gap reorders");
    }

    #[test]
    fn frames_above_the_segment_limit_are_dropped() {
        let (mut net, _, b) = pair(Impairments { max_frame_len: 60, ..Impairments::default() }, 7, 5);
        net.run_for(Duration::from_secs(1));
        assert!(net.node(b).received.is_empty());
        assert_eq!(net.stats().too_big, 5);
    }

    #[test]
    fn a_seed_replays_exactly_and_the_capture_holds_every_frame() {
        let imp =
            Impairments { loss_ppm: 200_000, jitter: Duration::from_millis(3), ..Impairments::default() };
        let run = |seed| {
            let (mut net, _, b) = pair(imp, seed, 200);
            net.start_capture();
            net.run_for(Duration::from_secs(1));
            (net.node(b).received.clone(), net.capture().unwrap())
        };
        let (first, capture) = run(11);
        assert_eq!(run(11).0, first);
        assert_ne!(run(12).0, first);
        assert_eq!(super::super::pcap::frames(&capture).count(), 200);
    }
}
