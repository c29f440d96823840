//! Neighbour Unreachability Detection: the neighbour table of one device and the per-entry
//! state machine that both ARP (IPv4) and NDP (IPv6) drive, as Linux's neighbour subsystem
//! serves both protocols.
//!
//! What the table implements:
//!
//! * RFC 4861 §7.2.2: sending to an unresolved neighbour creates an INCOMPLETE entry, queues
//!   the packet (bounded), and solicits by multicast every `RetransTimer` up to
//!   `MAX_MULTICAST_SOLICIT` times; failure reports every queued packet to the caller so it
//!   can send ICMP destination unreachable (address unreachable).
//! * RFC 4861 §7.2.3: a solicitation carrying the sender's link-layer address creates or
//!   updates the sender's entry as STALE.
//! * RFC 4861 §7.2.5: advertisements update entries by the Solicited and Override flags;
//!   unsolicited advertisements never create entries; IsRouter turning false is reported.
//! * RFC 4861 §7.3 and Appendix C: REACHABLE, STALE, DELAY and PROBE with upper-layer
//!   confirmation (§7.3.1), STALE → DELAY on first use and DELAY → PROBE with unicast probes
//!   (§7.3.3), and `ReachableTime` drawn from 0.5..1.5 × `BaseReachableTime` (§6.3.2).
//!
//! When probing fails, the entry becomes FAILED, as in Linux, rather than RFC 7048's
//! UNREACHABLE with backed-off probes: the link-layer address is forgotten, the entry lingers
//! for Linux's garbage-collection period so the failure is visible (`ip neigh` shows FAILED),
//! and the next packet sent to the neighbour starts a fresh resolution with multicast
//! solicitations, which is what RFC 7048 §3 asks for on renewed traffic. What users see
//! (connect failing with EHOSTUNREACH after `mcast_solicit` × `retrans_time`) matches Linux.
//!
//! Everything is bounded: entries by `max_entries` (Linux `gc_thresh3`), evicting FAILED then
//! least recently used STALE entries and never static ones; the queue of each unresolved
//! entry by packets and bytes (Linux `unres_qlen`/`unres_qlen_bytes`, dropping the oldest
//! packet as Linux does), and all queues of the table together by bytes. Every drop counts.
//!
//! The link-layer address is an Ethernet [`Mac`]; the protocol glue (ARP for IPv4, NDP for
//! IPv6) parses and formats the messages and calls in here.

use alloc::collections::{BTreeMap, VecDeque};
use core::fmt::Debug;
use core::time::Duration;

use crate::addr::{Ip, Mac, UnicastAddr};
use crate::buf::Buf;
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::device::DeviceId;
use crate::time::Instant;

/// How often `ReachableTime` is drawn again from `BaseReachableTime` (RFC 4861 §6.3.2: "at
/// least every few hours"; Linux redraws every 300 s in its periodic work).
const REACHABLE_TIME_REDRAW_INTERVAL: Duration = Duration::from_secs(300);

/// The tunables of a neighbour table. [`Default`] gives Linux's defaults
/// (`/proc/sys/net/ipv{4,6}/neigh/default/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NudConfig {
    /// `BaseReachableTime` (RFC 4861 §6.3.2, §10: 30 s; Linux `base_reachable_time_ms`).
    pub base_reachable_time: Duration,
    /// `RetransTimer`, between solicitations (RFC 4861 §10: 1 s; Linux `retrans_time_ms`).
    pub retrans_time: Duration,
    /// `DELAY_FIRST_PROBE_TIME` (RFC 4861 §10: 5 s; Linux `delay_first_probe_time`).
    pub delay_first_probe_time: Duration,
    /// `MAX_MULTICAST_SOLICIT`, solicitations in INCOMPLETE (RFC 4861 §10: 3; Linux
    /// `mcast_solicit`). At least one is always sent.
    pub mcast_solicit: u8,
    /// `MAX_UNICAST_SOLICIT`, probes in PROBE (RFC 4861 §10: 3; Linux `ucast_solicit`). At
    /// least one is always sent.
    pub ucast_solicit: u8,
    /// How long a STALE entry may go unused before it is removed (Linux `gc_stale_time`, 60 s).
    pub gc_stale_time: Duration,
    /// Most entries, static ones included (Linux `gc_thresh3`, 1024).
    pub max_entries: usize,
    /// Most packets queued on one unresolved entry.
    pub max_pending_packets: usize,
    /// Most bytes queued on one unresolved entry (Linux `unres_qlen_bytes`, scaled down: this
    /// bound times `max_entries` must be affordable).
    pub max_pending_bytes: usize,
    /// Most bytes queued on all unresolved entries of the table together.
    pub max_total_pending_bytes: usize,
}

impl Default for NudConfig {
    fn default() -> Self {
        Self {
            base_reachable_time: Duration::from_secs(30),
            retrans_time: Duration::from_secs(1),
            delay_first_probe_time: Duration::from_secs(5),
            mcast_solicit: 3,
            ucast_solicit: 3,
            gc_stale_time: Duration::from_secs(60),
            max_entries: 1024,
            max_pending_packets: 32,
            max_pending_bytes: 64 * 1024,
            max_total_pending_bytes: 1024 * 1024,
        }
    }
}

/// A packet the table can hold while its neighbour is being resolved; its length counts
/// against the queue's byte bounds.
pub trait PendingPacket {
    /// The bytes this packet holds.
    fn pending_len(&self) -> usize;
}

impl PendingPacket for alloc::vec::Vec<u8> {
    fn pending_len(&self) -> usize {
        self.len()
    }
}

impl<S: AsRef<[u8]>> PendingPacket for Buf<S> {
    fn pending_len(&self) -> usize {
        self.len()
    }
}

/// The timer of one neighbour entry: each state has at most one pending timeout, so one id
/// per (device, neighbour) serves them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NudTimerId<I: Ip> {
    /// The device whose table holds the entry.
    pub device: DeviceId,
    /// The neighbour's address.
    pub neighbor: I::Addr,
}

/// Where a solicitation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SolicitationDestination {
    /// To every node that might own the address (INCOMPLETE, RFC 4861 §7.2.2): NDP sends to
    /// the target's solicited-node multicast group, ARP broadcasts.
    Multicast,
    /// To the cached link-layer address only (PROBE, RFC 4861 §7.3.3).
    Unicast(Mac),
}

/// A neighbour entry's state (RFC 4861 §7.3.2, plus Linux's FAILED and PERMANENT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NeighborState {
    /// Resolution in progress; packets wait in the entry's queue.
    Incomplete,
    /// Recently confirmed reachable.
    Reachable,
    /// Link-layer address known but unconfirmed; nothing happens until a packet is sent.
    Stale,
    /// Used while STALE; waiting for upper layers to confirm before probing.
    Delay,
    /// Probing the cached link-layer address by unicast.
    Probe,
    /// Resolution or probing failed (Linux FAILED; see the module documentation).
    Failed,
    /// Configured by the administrator: never expires, never overridden (Linux PERMANENT).
    Static,
}

/// What the table knows about one neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NeighborInfo {
    /// The state.
    pub state: NeighborState,
    /// The link-layer address, when the state has one.
    pub link_addr: Option<Mac>,
    /// The IsRouter flag (RFC 4861 §6.2.6, §7.2.5); always false for ARP.
    pub is_router: bool,
}

/// A change in a neighbour table, for the admin API and Inspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NeighborEventKind {
    /// An entry was created.
    Added(NeighborInfo),
    /// An entry's state, link-layer address or IsRouter flag changed.
    Changed(NeighborInfo),
    /// An entry was removed.
    Removed,
}

/// A change to one entry of one device's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NeighborEvent<I: Ip> {
    /// The device.
    pub device: DeviceId,
    /// The neighbour.
    pub neighbor: I::Addr,
    /// What happened.
    pub kind: NeighborEventKind,
}

/// What a neighbour table asks of the stack around it. For IPv4 the ARP module implements
/// it over its own context; for IPv6 the NDP glue does.
pub trait NudContext<I: Ip, B>: TimerContext<NudTimerId<I>> + RngContext {
    /// Sends a solicitation for `target` on `device` (NDP: a Neighbor Solicitation; ARP: a
    /// request). The glue chooses the source address; `prompting` is the oldest packet
    /// waiting for the resolution, whose source RFC 4861 §7.2.2 prefers for the solicitation
    /// (`None` for a probe of a known neighbour).
    fn send_solicitation(
        &mut self,
        device: DeviceId,
        target: I::Addr,
        destination: SolicitationDestination,
        prompting: Option<&B>,
    );

    /// Transmits `packet` to `neighbor`, now known to be at `link_addr`.
    fn transmit(&mut self, device: DeviceId, neighbor: I::Addr, link_addr: Mac, packet: B);

    /// `packet` could not be delivered because resolving `neighbor` failed (RFC 4861 §7.2.2:
    /// the caller sends ICMP destination unreachable, address unreachable, for it).
    fn resolution_failed(&mut self, device: DeviceId, neighbor: I::Addr, packet: B);

    /// The table changed.
    fn on_neighbor_event(&mut self, event: NeighborEvent<I>);
}

/// What became of a packet handed to [`NeighborTable::send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendOutcome {
    /// Given to [`NudContext::transmit`].
    Transmitted,
    /// Queued until resolution completes or fails.
    Queued,
    /// Dropped (and counted): no entry could be made, or the queue cannot take it.
    Dropped(SendDropReason),
}

/// Why a packet was dropped before resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendDropReason {
    /// The table is full of entries that may not be evicted (counted in `table_fulls`).
    TableFull,
    /// The packet does not fit the pending queues' bounds (counted in `unresolved_discards`).
    QueueFull,
}

/// The fields of a received advertisement that the table acts on (RFC 4861 §4.4, §7.2.5).
/// ARP replies map onto it with `router: None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Advertisement {
    /// The Target Link-Layer Address option, if present.
    pub link_addr: Option<Mac>,
    /// The S flag: sent in response to our solicitation.
    pub solicited: bool,
    /// The O flag: the advertised address should replace a cached one.
    pub override_flag: bool,
    /// The R flag, or `None` where the protocol has none (ARP).
    pub router: Option<bool>,
}

/// What an advertisement did (RFC 4861 §7.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdvertisementOutcome {
    /// Silently discarded: no entry (unsolicited advertisements create none), a static
    /// entry, or the rules say to ignore it.
    Ignored,
    /// The entry was updated.
    Updated,
    /// The entry was updated and its IsRouter flag went from true to false: the caller MUST
    /// remove the neighbour from the Default Router List and update the destination cache.
    RouterFlagCleared,
}

/// Counters of one table; names follow Linux's `/proc/net/stat/{arp,ndisc}_cache`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NudCounters {
    /// Entries created (`allocs`).
    pub allocs: u64,
    /// Entries removed for any reason (`destroys`).
    pub destroys: u64,
    /// Packets handed to [`NeighborTable::send`] (`lookups`).
    pub lookups: u64,
    /// Of those, packets sent at once to a known link-layer address (`hits`).
    pub hits: u64,
    /// Resolutions or probes that ran out of solicitations (`res_failed`).
    pub res_failed: u64,
    /// Queued packets reported failed because resolution failed or the entry was removed.
    pub queued_failed: u64,
    /// Packets dropped because an unresolved entry's queue, or the table's, was full
    /// (`unresolved_discards`).
    pub unresolved_discards: u64,
    /// Entries that could not be created because nothing could be evicted (`table_fulls`).
    pub table_fulls: u64,
    /// Entries evicted to make room for a new one (`forced_gc_runs`).
    pub forced_evictions: u64,
    /// STALE entries removed after `gc_stale_time` unused, and FAILED entries expired.
    pub gc_removals: u64,
}

/// An API call the table refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NudError<A: Debug> {
    /// Every slot holds an entry that may not be evicted.
    #[error("neighbor table of {device} is full ({limit} entries, none evictable); cannot add {neighbor:?}")]
    TableFull {
        /// The device.
        device: DeviceId,
        /// The neighbour that was being added.
        neighbor: A,
        /// The table's `max_entries`.
        limit: usize,
    },
    /// There is no entry for the neighbour.
    #[error("no neighbor entry for {neighbor:?} on {device}")]
    NotFound {
        /// The device.
        device: DeviceId,
        /// The neighbour asked for.
        neighbor: A,
    },
}

/// Packets waiting for an INCOMPLETE entry to resolve.
#[derive(Debug)]
struct PendingQueue<B> {
    packets: VecDeque<B>,
    bytes: usize,
}

/// An entry's state with the data each state has; only INCOMPLETE and FAILED lack a
/// link-layer address, and only INCOMPLETE holds packets.
#[derive(Debug)]
enum EntryState<B> {
    Incomplete { probes_sent: u8, queue: PendingQueue<B> },
    Reachable { mac: Mac },
    Stale { mac: Mac },
    Delay { mac: Mac },
    Probe { mac: Mac, probes_sent: u8 },
    Failed,
    Static { mac: Mac },
}

impl<B> EntryState<B> {
    fn public(&self) -> NeighborState {
        match self {
            EntryState::Incomplete { .. } => NeighborState::Incomplete,
            EntryState::Reachable { .. } => NeighborState::Reachable,
            EntryState::Stale { .. } => NeighborState::Stale,
            EntryState::Delay { .. } => NeighborState::Delay,
            EntryState::Probe { .. } => NeighborState::Probe,
            EntryState::Failed => NeighborState::Failed,
            EntryState::Static { .. } => NeighborState::Static,
        }
    }

    fn mac(&self) -> Option<Mac> {
        match *self {
            EntryState::Reachable { mac }
            | EntryState::Stale { mac }
            | EntryState::Delay { mac }
            | EntryState::Probe { mac, .. }
            | EntryState::Static { mac } => Some(mac),
            EntryState::Incomplete { .. } | EntryState::Failed => None,
        }
    }
}

#[derive(Debug)]
struct Entry<B> {
    state: EntryState<B>,
    is_router: bool,
    /// When a packet was last sent to the neighbour (Linux `used`).
    last_used: Instant,
    /// When reachability was last confirmed (Linux `confirmed`).
    confirmed: Instant,
    /// When the entry was created or last changed state, link-layer address or IsRouter
    /// flag (Linux `updated`).
    updated: Instant,
}

impl<B> Entry<B> {
    fn info(&self) -> NeighborInfo {
        NeighborInfo { state: self.state.public(), link_addr: self.state.mac(), is_router: self.is_router }
    }
}

/// The neighbour table of one device for one IP version, holding packets of type `B` while
/// their neighbours resolve.
#[derive(Debug)]
pub struct NeighborTable<I: Ip, B> {
    device: DeviceId,
    config: NudConfig,
    entries: BTreeMap<I::Addr, Entry<B>>,
    /// `ReachableTime` (RFC 4861 §6.3.2) and when it was drawn.
    reachable_time: Duration,
    reachable_time_drawn: Instant,
    /// Bytes queued on all INCOMPLETE entries.
    pending_bytes: usize,
    counters: NudCounters,
}

impl<I: Ip, B: PendingPacket> NeighborTable<I, B> {
    /// An empty table for `device`.
    pub fn new<C: InstantContext + RngContext>(ctx: &mut C, device: DeviceId, config: NudConfig) -> Self {
        let mut table = Self {
            device,
            config,
            entries: BTreeMap::new(),
            reachable_time: config.base_reachable_time,
            reachable_time_drawn: ctx.now(),
            pending_bytes: 0,
            counters: NudCounters::default(),
        };
        table.draw_reachable_time(ctx);
        table
    }

    /// The device this table belongs to.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// The tunables.
    pub fn config(&self) -> &NudConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &NudCounters {
        &self.counters
    }

    /// The current `ReachableTime` (RFC 4861 §6.3.2).
    pub fn reachable_time(&self) -> Duration {
        self.reachable_time
    }

    /// Sets `BaseReachableTime` and draws a new `ReachableTime` at once (RFC 4861 §6.3.4:
    /// a Router Advertisement's Reachable Time that differs from the current base).
    pub fn set_base_reachable_time<C: InstantContext + RngContext>(&mut self, ctx: &mut C, base: Duration) {
        self.config.base_reachable_time = base;
        self.draw_reachable_time(ctx);
    }

    /// Sets `RetransTimer` (RFC 4861 §6.3.4: a Router Advertisement's Retrans Timer).
    pub fn set_retrans_time(&mut self, retrans_time: Duration) {
        self.config.retrans_time = retrans_time;
    }

    /// How many entries the table holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the table knows about `neighbor`.
    pub fn get(&self, neighbor: &I::Addr) -> Option<NeighborInfo> {
        self.entries.get(neighbor).map(Entry::info)
    }

    /// Every entry, in address order.
    pub fn iter(&self) -> impl Iterator<Item = (I::Addr, NeighborInfo)> + '_ {
        self.entries.iter().map(|(addr, entry)| (*addr, entry.info()))
    }

    /// Every entry with when it was created or last changed, in address order.
    pub fn iter_with_updated(&self) -> impl Iterator<Item = (I::Addr, NeighborInfo, Instant)> + '_ {
        self.entries.iter().map(|(addr, entry)| (*addr, entry.info(), entry.updated))
    }

    /// Bytes queued on all unresolved entries.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Packets queued on `neighbor`'s entry.
    pub fn pending_packets(&self, neighbor: &I::Addr) -> usize {
        match self.entries.get(neighbor).map(|e| &e.state) {
            Some(EntryState::Incomplete { queue, .. }) => queue.packets.len(),
            _ => 0,
        }
    }

    /// Sends `packet` to `neighbor`: at once if its link-layer address is known, otherwise
    /// after resolution (RFC 4861 §7.2.2). This is the per-packet path: for a known neighbour
    /// it neither allocates nor touches a timer, except that the first use of a STALE entry
    /// moves it to DELAY (RFC 4861 §7.3.3).
    pub fn send<C: NudContext<I, B>>(
        &mut self,
        ctx: &mut C,
        neighbor: UnicastAddr<I::Addr>,
        packet: B,
    ) -> SendOutcome {
        let addr = neighbor.into_addr();
        let now = ctx.now();
        self.counters.lookups += 1;
        let Some(entry) = self.entries.get_mut(&addr) else {
            let entry = Entry {
                state: EntryState::Incomplete { probes_sent: 0, queue: PendingQueue::new() },
                is_router: false,
                last_used: now,
                confirmed: Instant::ZERO,
                updated: now,
            };
            if !self.insert_new(ctx, addr, entry) {
                return SendOutcome::Dropped(SendDropReason::TableFull);
            }
            return self.start_resolution(ctx, addr, packet);
        };
        entry.last_used = now;
        match entry.state {
            EntryState::Reachable { mac }
            | EntryState::Delay { mac }
            | EntryState::Probe { mac, .. }
            | EntryState::Static { mac } => {
                self.counters.hits += 1;
                ctx.transmit(self.device, addr, mac, packet);
                SendOutcome::Transmitted
            }
            // RFC 4861 §7.3.3: the first packet to a STALE neighbour moves it to DELAY.
            EntryState::Stale { mac } => {
                entry.state = EntryState::Delay { mac };
                ctx.schedule_timer_after(
                    NudTimerId { device: self.device, neighbor: addr },
                    self.config.delay_first_probe_time,
                );
                entry.updated = now;
                emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Changed(entry.info()));
                self.counters.hits += 1;
                ctx.transmit(self.device, addr, mac, packet);
                SendOutcome::Transmitted
            }
            EntryState::Incomplete { ref mut queue, .. } => {
                enqueue(queue, packet, &self.config, &mut self.pending_bytes, &mut self.counters)
            }
            // A failed neighbour is tried afresh, with multicast (RFC 7048 §3; Linux).
            EntryState::Failed => {
                entry.state = EntryState::Incomplete { probes_sent: 0, queue: PendingQueue::new() };
                entry.updated = now;
                emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Changed(entry.info()));
                self.start_resolution(ctx, addr, packet)
            }
        }
    }

    /// Queues `packet` on the fresh INCOMPLETE entry of `addr` and sends the first
    /// solicitation (RFC 4861 §7.2.2).
    fn start_resolution<C: NudContext<I, B>>(
        &mut self,
        ctx: &mut C,
        addr: I::Addr,
        packet: B,
    ) -> SendOutcome {
        let outcome = match self.entries.get_mut(&addr).map(|e| &mut e.state) {
            Some(EntryState::Incomplete { queue, .. }) => {
                enqueue(queue, packet, &self.config, &mut self.pending_bytes, &mut self.counters)
            }
            _ => return SendOutcome::Dropped(SendDropReason::TableFull),
        };
        self.solicit_multicast(ctx, addr);
        outcome
    }

    /// Sends the next multicast solicitation of an INCOMPLETE entry, or fails it when
    /// `mcast_solicit` have gone unanswered (RFC 4861 §7.2.2).
    fn solicit_multicast<C: NudContext<I, B>>(&mut self, ctx: &mut C, addr: I::Addr) {
        let Some(entry) = self.entries.get_mut(&addr) else { return };
        let EntryState::Incomplete { probes_sent, queue } = &mut entry.state else { return };
        if *probes_sent >= self.config.mcast_solicit.max(1) {
            self.fail(ctx, addr);
            return;
        }
        *probes_sent += 1;
        ctx.send_solicitation(self.device, addr, SolicitationDestination::Multicast, queue.packets.front());
        ctx.schedule_timer_after(
            NudTimerId { device: self.device, neighbor: addr },
            self.config.retrans_time,
        );
    }

    /// Resolution or probing ran out: the entry becomes FAILED and every queued packet is
    /// reported to the caller (RFC 4861 §7.2.2, §7.3.3).
    fn fail<C: NudContext<I, B>>(&mut self, ctx: &mut C, addr: I::Addr) {
        let Some(entry) = self.entries.get_mut(&addr) else { return };
        let previous = core::mem::replace(&mut entry.state, EntryState::Failed);
        self.counters.res_failed += 1;
        // Linux's periodic garbage collection, which removes FAILED entries, runs every
        // BASE_REACHABLE_TIME / 2.
        ctx.schedule_timer_after(
            NudTimerId { device: self.device, neighbor: addr },
            self.config.base_reachable_time / 2,
        );
        entry.updated = ctx.now();
        emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Changed(entry.info()));
        if let EntryState::Incomplete { queue, .. } = previous {
            self.fail_queue(ctx, addr, queue);
        }
    }

    fn fail_queue<C: NudContext<I, B>>(&mut self, ctx: &mut C, addr: I::Addr, queue: PendingQueue<B>) {
        self.pending_bytes -= queue.bytes;
        for packet in queue.packets {
            self.counters.queued_failed += 1;
            ctx.resolution_failed(self.device, addr, packet);
        }
    }

    /// Hands the packets queued while `addr` resolved to the context, now that it is at `mac`.
    fn flush_queue<C: NudContext<I, B>>(
        &mut self,
        ctx: &mut C,
        addr: I::Addr,
        mac: Mac,
        queue: PendingQueue<B>,
    ) {
        self.pending_bytes -= queue.bytes;
        for packet in queue.packets {
            ctx.transmit(self.device, addr, mac, packet);
        }
    }

    /// Moves `addr` to `state` (which has a link-layer address), scheduling the state's
    /// timer, sending what an INCOMPLETE entry had queued, and reporting the change.
    fn enter<C: NudContext<I, B>>(&mut self, ctx: &mut C, addr: I::Addr, state: EntryState<B>) {
        let now = ctx.now();
        if matches!(state, EntryState::Reachable { .. })
            && now - self.reachable_time_drawn >= REACHABLE_TIME_REDRAW_INTERVAL
        {
            self.draw_reachable_time(ctx);
        }
        let Some(entry) = self.entries.get_mut(&addr) else { return };
        let timer = NudTimerId { device: self.device, neighbor: addr };
        match state {
            EntryState::Reachable { .. } => {
                entry.confirmed = now;
                ctx.schedule_timer(timer, now + self.reachable_time);
            }
            EntryState::Stale { .. } => {
                let gc_at = entry.last_used + self.config.gc_stale_time;
                ctx.schedule_timer(timer, gc_at.max(now));
            }
            EntryState::Delay { .. } => {
                ctx.schedule_timer(timer, now + self.config.delay_first_probe_time);
            }
            EntryState::Static { .. } => {
                ctx.cancel_timer(&timer);
            }
            EntryState::Incomplete { .. } | EntryState::Probe { .. } | EntryState::Failed => {}
        }
        let previous = core::mem::replace(&mut entry.state, state);
        entry.updated = ctx.now();
        emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Changed(entry.info()));
        let (EntryState::Incomplete { queue, .. }, Some(mac)) = (previous, entry.state.mac()) else { return };
        if queue.packets.is_empty() {
            return;
        }
        self.flush_queue(ctx, addr, mac, queue);
        // Sending the queued packets is a use: a STALE entry moves on to DELAY (RFC 4861
        // §7.3.3), as it does in Linux when its queue drains through the STALE entry.
        if let Some(EntryState::Stale { mac }) = self.entries.get(&addr).map(|e| &e.state) {
            let mac = *mac;
            if let Some(entry) = self.entries.get_mut(&addr) {
                entry.last_used = now;
            }
            self.enter(ctx, addr, EntryState::Delay { mac });
        }
    }

    /// Upper-layer reachability confirmation (RFC 4861 §7.3.1), such as TCP forward progress:
    /// a neighbour with a link-layer address becomes REACHABLE. For a neighbour already
    /// REACHABLE this only notes the time (no timer is touched, as this is per packet).
    pub fn confirm_reachable<C: NudContext<I, B>>(&mut self, ctx: &mut C, neighbor: &I::Addr) {
        let now = ctx.now();
        let Some(entry) = self.entries.get_mut(neighbor) else { return };
        match entry.state {
            EntryState::Reachable { .. } => entry.confirmed = now,
            EntryState::Stale { mac } | EntryState::Delay { mac } | EntryState::Probe { mac, .. } => {
                self.enter(ctx, *neighbor, EntryState::Reachable { mac });
            }
            EntryState::Incomplete { .. } | EntryState::Failed | EntryState::Static { .. } => {}
        }
    }

    /// A solicitation from `source` carrying its link-layer address (RFC 4861 §7.2.3; for
    /// ARP, a request for one of our addresses): creates the entry as STALE or, if the
    /// address differs from the cached one, updates it and makes it STALE. An INCOMPLETE
    /// entry sends its queue. Static entries are left alone.
    pub fn handle_solicitation<C: NudContext<I, B>>(
        &mut self,
        ctx: &mut C,
        source: UnicastAddr<I::Addr>,
        link_addr: Mac,
    ) {
        let addr = source.into_addr();
        let Some(entry) = self.entries.get(&addr) else {
            let now = ctx.now();
            // RFC 4861 §7.2.3: a new entry is STALE, with IsRouter false.
            let entry = Entry {
                state: EntryState::Stale { mac: link_addr },
                is_router: false,
                last_used: now,
                confirmed: Instant::ZERO,
                updated: now,
            };
            if self.insert_new(ctx, addr, entry) {
                ctx.schedule_timer(
                    NudTimerId { device: self.device, neighbor: addr },
                    now + self.config.gc_stale_time,
                );
            }
            return;
        };
        match entry.state {
            EntryState::Static { .. } => {}
            EntryState::Incomplete { .. } | EntryState::Failed => {
                self.enter(ctx, addr, EntryState::Stale { mac: link_addr });
            }
            EntryState::Reachable { mac }
            | EntryState::Stale { mac }
            | EntryState::Delay { mac }
            | EntryState::Probe { mac, .. } => {
                if mac != link_addr {
                    self.enter(ctx, addr, EntryState::Stale { mac: link_addr });
                }
            }
        }
    }

    /// A received advertisement for `target` (RFC 4861 §7.2.5; for ARP, a reply or a request
    /// from a neighbour we already have an entry for).
    pub fn handle_advertisement<C: NudContext<I, B>>(
        &mut self,
        ctx: &mut C,
        target: &I::Addr,
        advert: Advertisement,
    ) -> AdvertisementOutcome {
        let addr = *target;
        // §7.2.5: with no entry, an advertisement is silently discarded (it creates none).
        let Some(entry) = self.entries.get_mut(&addr) else { return AdvertisementOutcome::Ignored };
        let was_router = entry.is_router;
        let cached = match entry.state {
            EntryState::Static { .. } => return AdvertisementOutcome::Ignored,
            EntryState::Incomplete { .. } | EntryState::Failed => None,
            EntryState::Reachable { mac }
            | EntryState::Stale { mac }
            | EntryState::Delay { mac }
            | EntryState::Probe { mac, .. } => Some(mac),
        };
        let Some(cached) = cached else {
            // §7.2.5: INCOMPLETE. Without a Target Link-Layer Address option, discard;
            // otherwise record it, REACHABLE if solicited else STALE, and send the queue.
            // A FAILED entry (which has no address either) is treated the same way.
            let Some(mac) = advert.link_addr else { return AdvertisementOutcome::Ignored };
            if let Some(router) = advert.router {
                entry.is_router = router;
            }
            let state =
                if advert.solicited { EntryState::Reachable { mac } } else { EntryState::Stale { mac } };
            self.enter(ctx, addr, state);
            return router_outcome(was_router, advert.router);
        };
        let differs = advert.link_addr.is_some_and(|mac| mac != cached);
        if !advert.override_flag && differs {
            // §7.2.5 I: a different address without Override: REACHABLE becomes STALE and
            // nothing else changes; otherwise the advertisement is ignored.
            if matches!(entry.state, EntryState::Reachable { .. }) {
                self.enter(ctx, addr, EntryState::Stale { mac: cached });
                return AdvertisementOutcome::Updated;
            }
            return AdvertisementOutcome::Ignored;
        }
        // §7.2.5 II: Override set, the same address, or none supplied.
        let mac = advert.link_addr.unwrap_or(cached);
        let router_changed = advert.router.is_some_and(|r| r != was_router);
        if let Some(router) = advert.router {
            entry.is_router = router;
        }
        if advert.solicited {
            self.enter(ctx, addr, EntryState::Reachable { mac });
        } else if differs {
            self.enter(ctx, addr, EntryState::Stale { mac });
        } else if router_changed {
            entry.updated = ctx.now();
            emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Changed(entry.info()));
        }
        router_outcome(was_router, advert.router)
    }

    /// Adds or replaces a static entry (Linux `ip neigh replace ... nud permanent`): it never
    /// expires and no message changes it. Packets queued on an INCOMPLETE entry it replaces
    /// are sent to `link_addr`.
    pub fn add_static<C: NudContext<I, B>>(
        &mut self,
        ctx: &mut C,
        neighbor: UnicastAddr<I::Addr>,
        link_addr: Mac,
    ) -> Result<(), NudError<I::Addr>> {
        let addr = neighbor.into_addr();
        if self.entries.contains_key(&addr) {
            self.enter(ctx, addr, EntryState::Static { mac: link_addr });
            return Ok(());
        }
        let now = ctx.now();
        let entry = Entry {
            state: EntryState::Static { mac: link_addr },
            is_router: false,
            last_used: now,
            confirmed: now,
            updated: now,
        };
        if !self.insert_new(ctx, addr, entry) {
            return Err(NudError::TableFull {
                device: self.device,
                neighbor: addr,
                limit: self.config.max_entries,
            });
        }
        Ok(())
    }

    /// Removes `neighbor`'s entry, static or not (Linux `ip neigh del`); packets it had
    /// queued are reported failed.
    pub fn remove<C: NudContext<I, B>>(
        &mut self,
        ctx: &mut C,
        neighbor: &I::Addr,
    ) -> Result<(), NudError<I::Addr>> {
        if self.remove_entry(ctx, *neighbor) {
            Ok(())
        } else {
            Err(NudError::NotFound { device: self.device, neighbor: *neighbor })
        }
    }

    /// Removes every dynamic entry, keeping static ones (Linux on link down or a change of
    /// the device's link-layer address); queued packets are reported failed.
    pub fn flush_dynamic<C: NudContext<I, B>>(&mut self, ctx: &mut C) {
        let dynamic: alloc::vec::Vec<I::Addr> = self
            .entries
            .iter()
            .filter(|(_, e)| !matches!(e.state, EntryState::Static { .. }))
            .map(|(addr, _)| *addr)
            .collect();
        for addr in dynamic {
            self.remove_entry(ctx, addr);
        }
    }

    /// Removes every entry, static ones too (an administrator's flush, or the device going
    /// away); queued packets are reported failed.
    pub fn flush_all<C: NudContext<I, B>>(&mut self, ctx: &mut C) {
        let all: alloc::vec::Vec<I::Addr> = self.entries.keys().copied().collect();
        for addr in all {
            self.remove_entry(ctx, addr);
        }
    }

    fn remove_entry<C: NudContext<I, B>>(&mut self, ctx: &mut C, addr: I::Addr) -> bool {
        let Some(entry) = self.entries.remove(&addr) else { return false };
        ctx.cancel_timer(&NudTimerId { device: self.device, neighbor: addr });
        self.counters.destroys += 1;
        emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Removed);
        if let EntryState::Incomplete { queue, .. } = entry.state {
            self.fail_queue(ctx, addr, queue);
        }
        true
    }

    /// Inserts `entry` as `addr`'s new entry and reports it, after making room for it; when
    /// nothing could be evicted, counts a table full and returns `false`.
    fn insert_new<C: NudContext<I, B>>(&mut self, ctx: &mut C, addr: I::Addr, entry: Entry<B>) -> bool {
        if !self.make_room(ctx) {
            self.counters.table_fulls += 1;
            return false;
        }
        self.counters.allocs += 1;
        let info = entry.info();
        self.entries.insert(addr, entry);
        emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Added(info));
        true
    }

    /// Makes room for one more entry if the table is full, evicting a FAILED entry or else
    /// the least recently used STALE one (Linux's forced garbage collection; static and
    /// in-use entries are never evicted). Returns whether there is room.
    fn make_room<C: NudContext<I, B>>(&mut self, ctx: &mut C) -> bool {
        if self.entries.len() < self.config.max_entries {
            return true;
        }
        let failed =
            self.entries.iter().find(|(_, e)| matches!(e.state, EntryState::Failed)).map(|(a, _)| *a);
        let victim = failed.or_else(|| {
            self.entries
                .iter()
                .filter(|(_, e)| matches!(e.state, EntryState::Stale { .. }))
                .min_by_key(|(_, e)| e.last_used)
                .map(|(a, _)| *a)
        });
        match victim {
            Some(addr) => {
                self.remove_entry(ctx, addr);
                self.counters.forced_evictions += 1;
                self.entries.len() < self.config.max_entries
            }
            None => false,
        }
    }

    /// Fires the entry timer `id` (RFC 4861 §7.3.3 and Appendix C).
    pub fn handle_timer<C: NudContext<I, B>>(&mut self, ctx: &mut C, id: NudTimerId<I>) {
        if id.device != self.device {
            return;
        }
        let addr = id.neighbor;
        let now = ctx.now();
        let Some(entry) = self.entries.get_mut(&addr) else { return };
        match entry.state {
            // §7.2.2: retransmit, or give up after MAX_MULTICAST_SOLICIT.
            EntryState::Incomplete { .. } => self.solicit_multicast(ctx, addr),
            // §7.3.3: REACHABLE lasts ReachableTime from the last confirmation.
            EntryState::Reachable { mac } => {
                let expiry = entry.confirmed + self.reachable_time;
                if now < expiry {
                    ctx.schedule_timer(id, expiry);
                } else {
                    self.enter(ctx, addr, EntryState::Stale { mac });
                }
            }
            EntryState::Stale { .. } => {
                let gc_at = entry.last_used + self.config.gc_stale_time;
                if now < gc_at {
                    ctx.schedule_timer(id, gc_at);
                } else {
                    self.remove_entry(ctx, addr);
                    self.counters.gc_removals += 1;
                }
            }
            // §7.3.3: no confirmation within DELAY_FIRST_PROBE_TIME: probe by unicast.
            EntryState::Delay { mac } => {
                entry.state = EntryState::Probe { mac, probes_sent: 0 };
                entry.updated = now;
                emit::<I, B, _>(ctx, self.device, addr, NeighborEventKind::Changed(entry.info()));
                self.probe_unicast(ctx, addr);
            }
            EntryState::Probe { .. } => self.probe_unicast(ctx, addr),
            EntryState::Failed => {
                self.remove_entry(ctx, addr);
                self.counters.gc_removals += 1;
            }
            EntryState::Static { .. } => {}
        }
    }

    /// Sends the next unicast probe of a PROBE entry, or fails it when `ucast_solicit` have
    /// gone unanswered (RFC 4861 §7.3.3).
    fn probe_unicast<C: NudContext<I, B>>(&mut self, ctx: &mut C, addr: I::Addr) {
        let Some(entry) = self.entries.get_mut(&addr) else { return };
        let EntryState::Probe { mac, probes_sent } = &mut entry.state else { return };
        if *probes_sent >= self.config.ucast_solicit.max(1) {
            self.fail(ctx, addr);
            return;
        }
        *probes_sent += 1;
        let mac = *mac;
        ctx.send_solicitation(self.device, addr, SolicitationDestination::Unicast(mac), None);
        ctx.schedule_timer_after(
            NudTimerId { device: self.device, neighbor: addr },
            self.config.retrans_time,
        );
    }

    /// Draws `ReachableTime` uniformly from 0.5..1.5 × `BaseReachableTime` (RFC 4861 §6.3.2
    /// MIN_RANDOM_FACTOR and MAX_RANDOM_FACTOR).
    fn draw_reachable_time<C: InstantContext + RngContext>(&mut self, ctx: &mut C) {
        let base = self.config.base_reachable_time;
        self.reachable_time = ctx.random_duration(base / 2..base + base / 2);
        self.reachable_time_drawn = ctx.now();
    }
}

impl<B: PendingPacket> PendingQueue<B> {
    fn new() -> Self {
        Self { packets: VecDeque::new(), bytes: 0 }
    }
}

/// Queues `packet` on an unresolved entry within the bounds: the oldest packets make way
/// for it, as Linux does, and a packet that cannot fit at all is dropped.
fn enqueue<B: PendingPacket>(
    queue: &mut PendingQueue<B>,
    packet: B,
    config: &NudConfig,
    total_bytes: &mut usize,
    counters: &mut NudCounters,
) -> SendOutcome {
    let len = packet.pending_len();
    if len > config.max_pending_bytes || config.max_pending_packets == 0 {
        counters.unresolved_discards += 1;
        return SendOutcome::Dropped(SendDropReason::QueueFull);
    }
    while queue.packets.len() >= config.max_pending_packets || queue.bytes + len > config.max_pending_bytes {
        let Some(oldest) = queue.packets.pop_front() else { break };
        let oldest_len = oldest.pending_len();
        queue.bytes -= oldest_len;
        *total_bytes -= oldest_len;
        counters.unresolved_discards += 1;
    }
    if *total_bytes + len > config.max_total_pending_bytes {
        counters.unresolved_discards += 1;
        return SendOutcome::Dropped(SendDropReason::QueueFull);
    }
    queue.bytes += len;
    *total_bytes += len;
    queue.packets.push_back(packet);
    SendOutcome::Queued
}

fn emit<I: Ip, B, C: NudContext<I, B>>(
    ctx: &mut C,
    device: DeviceId,
    neighbor: I::Addr,
    kind: NeighborEventKind,
) {
    ctx.on_neighbor_event(NeighborEvent { device, neighbor, kind });
}

fn router_outcome(was_router: bool, now_router: Option<bool>) -> AdvertisementOutcome {
    if was_router && now_router == Some(false) {
        AdvertisementOutcome::RouterFlagCleared
    } else {
        AdvertisementOutcome::Updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, Witness};
    use crate::testutil::fake::FakeCtx;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// What the table asked of its context, in order.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Out<A> {
        Solicit(A, SolicitationDestination),
        Transmit(A, Mac, Vec<u8>),
        Failed(A, Vec<u8>),
    }

    /// What the fake host records besides clock, timers and randomness.
    #[derive(Default)]
    struct Host<I: Ip> {
        out: Vec<Out<I::Addr>>,
        events: Vec<NeighborEvent<I>>,
    }

    type Ctx<I> = FakeCtx<NudTimerId<I>, Host<I>>;

    impl<I: Ip> NudContext<I, Vec<u8>> for Ctx<I> {
        fn send_solicitation(
            &mut self,
            _device: DeviceId,
            target: I::Addr,
            destination: SolicitationDestination,
            _prompting: Option<&Vec<u8>>,
        ) {
            self.state.out.push(Out::Solicit(target, destination));
        }
        fn transmit(&mut self, _device: DeviceId, neighbor: I::Addr, link_addr: Mac, packet: Vec<u8>) {
            self.state.out.push(Out::Transmit(neighbor, link_addr, packet));
        }
        fn resolution_failed(&mut self, _device: DeviceId, neighbor: I::Addr, packet: Vec<u8>) {
            self.state.out.push(Out::Failed(neighbor, packet));
        }
        fn on_neighbor_event(&mut self, event: NeighborEvent<I>) {
            self.state.events.push(event);
        }
    }

    const DEV: DeviceId = DeviceId::new(1);
    const MAC_A: Mac = Mac::new([2, 0, 0, 0, 0, 0xa]);
    const MAC_B: Mac = Mac::new([2, 0, 0, 0, 0, 0xb]);
    const IP_A: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 10]);

    type Table<I> = NeighborTable<I, Vec<u8>>;

    fn setup_with<I: Ip>(config: NudConfig) -> (Ctx<I>, Table<I>) {
        let mut ctx = FakeCtx::with_state(7, Host::default());
        let table = NeighborTable::new(&mut ctx, DEV, config);
        (ctx, table)
    }

    fn setup() -> (Ctx<Ipv4>, Table<Ipv4>) {
        setup_with(NudConfig::default())
    }

    fn ua<A: Copy + crate::addr::IsUnicast>(a: A) -> UnicastAddr<A> {
        UnicastAddr::new(a).unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Fires every timer due within `by`, then leaves the clock `by` later.
    fn advance<I: Ip>(ctx: &mut Ctx<I>, table: &mut Table<I>, by: Duration) {
        let deadline = ctx.now() + by;
        while let Some(id) = ctx.pop_due(deadline) {
            table.handle_timer(ctx, id);
        }
        ctx.advance_to(deadline, |_, _| {});
    }

    fn state<I: Ip>(table: &Table<I>, addr: I::Addr) -> Option<NeighborState> {
        table.get(&addr).map(|i| i.state)
    }

    fn solicited(mac: Mac) -> Advertisement {
        Advertisement { link_addr: Some(mac), solicited: true, override_flag: true, router: Some(false) }
    }

    /// A REACHABLE entry for IP_A at MAC_A, with the context's output cleared.
    fn reachable() -> (Ctx<Ipv4>, Table<Ipv4>) {
        let (mut ctx, mut table) = setup();
        table.send(&mut ctx, ua(IP_A), vec![1]);
        table.handle_advertisement(&mut ctx, &IP_A, solicited(MAC_A));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Reachable));
        ctx.state.out.clear();
        ctx.state.events.clear();
        (ctx, table)
    }

    fn multicast(a: Ipv4Addr) -> Out<Ipv4Addr> {
        Out::Solicit(a, SolicitationDestination::Multicast)
    }

    fn unicast(a: Ipv4Addr, mac: Mac) -> Out<Ipv4Addr> {
        Out::Solicit(a, SolicitationDestination::Unicast(mac))
    }

    #[test]
    fn rfc4861_7_2_2_queued_packets_are_sent_when_resolution_completes() {
        let (mut ctx, mut table) = setup();
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![1]), SendOutcome::Queued);
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![2, 2]), SendOutcome::Queued);
        assert_eq!(ctx.state.out, [multicast(IP_A)], "one solicitation, not one per packet");
        assert_eq!(state(&table, IP_A), Some(NeighborState::Incomplete));
        assert_eq!((table.pending_packets(&IP_A), table.pending_bytes()), (2, 3));
        ctx.state.out.clear();
        assert_eq!(
            table.handle_advertisement(&mut ctx, &IP_A, solicited(MAC_A)),
            AdvertisementOutcome::Updated
        );
        assert_eq!(
            ctx.state.out,
            [Out::Transmit(IP_A, MAC_A, vec![1]), Out::Transmit(IP_A, MAC_A, vec![2, 2])]
        );
        assert_eq!(state(&table, IP_A), Some(NeighborState::Reachable));
        assert_eq!(table.pending_bytes(), 0);
        ctx.state.out.clear();
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![3]), SendOutcome::Transmitted);
        assert_eq!(ctx.state.out, [Out::Transmit(IP_A, MAC_A, vec![3])]);
        assert_eq!((table.counters().lookups, table.counters().hits, table.counters().allocs), (3, 1, 1));
    }

    #[test]
    fn rfc4861_7_2_2_retransmits_every_retrans_timer_then_fails_queued_packets() {
        let (mut ctx, mut table) = setup();
        table.send(&mut ctx, ua(IP_A), vec![1]);
        table.send(&mut ctx, ua(IP_A), vec![2]);
        let mut times = vec![ctx.now()];
        ctx.state.out.clear();
        for _ in 0..2 {
            advance(&mut ctx, &mut table, Duration::from_millis(999));
            assert!(ctx.state.out.is_empty(), "no retransmission before RetransTimer");
            advance(&mut ctx, &mut table, Duration::from_millis(1));
            assert_eq!(ctx.state.out, [multicast(IP_A)]);
            times.push(ctx.now());
            ctx.state.out.clear();
        }
        assert_eq!(times, [Instant::ZERO, Instant::ZERO + secs(1), Instant::ZERO + secs(2)]);
        advance(&mut ctx, &mut table, secs(1));
        // MAX_MULTICAST_SOLICIT (3) unanswered: each queued packet is reported for ICMP.
        assert_eq!(ctx.state.out, [Out::Failed(IP_A, vec![1]), Out::Failed(IP_A, vec![2])]);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Failed));
        assert_eq!(table.counters().res_failed, 1);
        assert_eq!(table.counters().queued_failed, 2);
        assert_eq!(table.pending_bytes(), 0);
    }

    #[test]
    fn failed_entry_restarts_resolution_on_send_and_is_collected() {
        let (mut ctx, mut table) = setup();
        table.send(&mut ctx, ua(IP_A), vec![1]);
        advance(&mut ctx, &mut table, secs(3));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Failed));
        ctx.state.out.clear();
        // RFC 7048 §3 / Linux: new traffic to a failed neighbour solicits by multicast again.
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![2]), SendOutcome::Queued);
        assert_eq!(ctx.state.out, [multicast(IP_A)]);
        advance(&mut ctx, &mut table, secs(3));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Failed));
        // Linux's periodic collection removes FAILED entries within BASE_REACHABLE_TIME / 2.
        advance(&mut ctx, &mut table, secs(15));
        assert_eq!(state(&table, IP_A), None);
        assert_eq!(table.counters().gc_removals, 1);
        assert!(ctx.timers().is_empty());
        assert_eq!(ctx.state.events.last().map(|e| e.kind), Some(NeighborEventKind::Removed));
    }

    #[test]
    fn rfc4861_6_3_2_reachable_time_is_randomized_between_half_and_one_and_a_half_base() {
        let mut seen = Vec::new();
        for seed in 0..20 {
            let mut ctx = Ctx::<Ipv4>::with_state(seed, Host::default());
            let table: Table<Ipv4> = NeighborTable::new(&mut ctx, DEV, NudConfig::default());
            assert!((secs(15)..secs(45)).contains(&table.reachable_time()));
            seen.push(table.reachable_time());
        }
        seen.dedup();
        assert!(seen.len() > 1, "ReachableTime must vary");
        let (mut ctx, mut table) = setup();
        table.set_base_reachable_time(&mut ctx, secs(10));
        assert!((secs(5)..secs(15)).contains(&table.reachable_time()));
    }

    #[test]
    fn rfc4861_7_3_3_reachable_stale_delay_probe_and_back_to_reachable_on_confirmation() {
        let (mut ctx, mut table) = reachable();
        let rt = table.reachable_time();
        advance(&mut ctx, &mut table, rt - Duration::from_millis(1));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Reachable));
        advance(&mut ctx, &mut table, Duration::from_millis(1));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Stale));
        assert!(ctx.state.out.is_empty(), "STALE sends nothing by itself");
        // The first packet to a STALE neighbour goes out at once and starts DELAY.
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![9]), SendOutcome::Transmitted);
        assert_eq!(ctx.state.out, [Out::Transmit(IP_A, MAC_A, vec![9])]);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Delay));
        ctx.state.out.clear();
        advance(&mut ctx, &mut table, secs(5));
        // DELAY_FIRST_PROBE_TIME without confirmation: unicast probe to the cached address.
        assert_eq!(state(&table, IP_A), Some(NeighborState::Probe));
        assert_eq!(ctx.state.out, [unicast(IP_A, MAC_A)]);
        // Packets still go to the cached address while probing.
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![8]), SendOutcome::Transmitted);
        table.confirm_reachable(&mut ctx, &IP_A);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Reachable));
        ctx.state.out.clear();
        advance(&mut ctx, &mut table, secs(2));
        assert!(ctx.state.out.is_empty(), "no more probes once REACHABLE");
    }

    #[test]
    fn rfc4861_7_3_3_probe_without_answer_fails_after_ucast_solicit() {
        let (mut ctx, mut table) = reachable();
        advance(&mut ctx, &mut table, secs(45));
        table.send(&mut ctx, ua(IP_A), vec![1]);
        ctx.state.out.clear();
        advance(&mut ctx, &mut table, secs(5));
        advance(&mut ctx, &mut table, secs(2));
        assert_eq!(ctx.state.out, vec![unicast(IP_A, MAC_A); 3], "probes at 5, 6 and 7 s");
        assert_eq!(state(&table, IP_A), Some(NeighborState::Probe));
        advance(&mut ctx, &mut table, secs(1));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Failed));
        assert_eq!(table.get(&IP_A).and_then(|i| i.link_addr), None);
        assert_eq!(table.counters().res_failed, 1);
    }

    #[test]
    fn rfc4861_7_3_3_solicited_advertisement_in_delay_confirms() {
        let (mut ctx, mut table) = reachable();
        advance(&mut ctx, &mut table, secs(45));
        table.send(&mut ctx, ua(IP_A), vec![1]);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Delay));
        table.handle_advertisement(&mut ctx, &IP_A, solicited(MAC_A));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Reachable));
    }

    #[test]
    fn rfc4861_7_3_1_confirmation_extends_reachable_without_touching_the_timer() {
        let (mut ctx, mut table) = reachable();
        let rt = table.reachable_time();
        let timer = NudTimerId { device: DEV, neighbor: IP_A };
        let deadline = ctx.scheduled_at(&timer);
        advance(&mut ctx, &mut table, rt / 2);
        table.confirm_reachable(&mut ctx, &IP_A);
        assert_eq!(ctx.scheduled_at(&timer), deadline, "per-packet confirmation must not reschedule");
        let confirmed_at = ctx.now();
        advance(&mut ctx, &mut table, rt / 2 + Duration::from_millis(1));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Reachable));
        assert_eq!(ctx.scheduled_at(&timer), Some(confirmed_at + rt));
        advance(&mut ctx, &mut table, rt);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Stale));
    }

    #[test]
    fn rfc4861_7_2_3_solicitation_creates_stale_entry_with_router_flag_false() {
        let (mut ctx, mut table) = setup();
        table.handle_solicitation(&mut ctx, ua(IP_A), MAC_A);
        assert_eq!(
            table.get(&IP_A),
            Some(NeighborInfo { state: NeighborState::Stale, link_addr: Some(MAC_A), is_router: false })
        );
        assert!(ctx.state.out.is_empty(), "creating an entry from a solicitation sends nothing");
        assert_eq!(ctx.state.events.len(), 1);
        assert!(matches!(
            ctx.state.events[0].kind,
            NeighborEventKind::Added(NeighborInfo { state: NeighborState::Stale, .. })
        ));
    }

    #[test]
    fn rfc4861_7_2_3_solicitation_updates_changed_address_only() {
        let (mut ctx, mut table) = reachable();
        table.handle_solicitation(&mut ctx, ua(IP_A), MAC_A);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Reachable), "same address: unchanged");
        assert!(ctx.state.events.is_empty());
        table.handle_solicitation(&mut ctx, ua(IP_A), MAC_B);
        assert_eq!(
            table.get(&IP_A).map(|i| (i.state, i.link_addr)),
            Some((NeighborState::Stale, Some(MAC_B)))
        );
    }

    #[test]
    fn rfc4861_7_2_3_solicitation_completes_incomplete_entry_and_sends_queue() {
        let (mut ctx, mut table) = setup();
        table.send(&mut ctx, ua(IP_A), vec![1]);
        ctx.state.out.clear();
        table.handle_solicitation(&mut ctx, ua(IP_A), MAC_A);
        assert_eq!(ctx.state.out, [Out::Transmit(IP_A, MAC_A, vec![1])]);
        // STALE, then used by the queued packet: DELAY (RFC 4861 §7.3.3, as Linux).
        assert_eq!(state(&table, IP_A), Some(NeighborState::Delay));
    }

    #[test]
    fn rfc4861_7_2_5_unsolicited_advertisement_creates_no_entry() {
        let (mut ctx, mut table) = setup();
        let advert =
            Advertisement { link_addr: Some(MAC_A), solicited: false, override_flag: true, router: None };
        assert_eq!(table.handle_advertisement(&mut ctx, &IP_A, advert), AdvertisementOutcome::Ignored);
        assert!(table.is_empty());
        assert!(ctx.state.events.is_empty());
    }

    #[test]
    fn rfc4861_7_2_5_incomplete_needs_target_link_address_and_s_flag_picks_state() {
        let (mut ctx, mut table) = setup();
        table.send(&mut ctx, ua(IP_A), vec![1]);
        let no_tlla = Advertisement { link_addr: None, solicited: true, override_flag: true, router: None };
        assert_eq!(table.handle_advertisement(&mut ctx, &IP_A, no_tlla), AdvertisementOutcome::Ignored);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Incomplete));
        let unsolicited =
            Advertisement { link_addr: Some(MAC_A), solicited: false, override_flag: false, router: None };
        table.handle_advertisement(&mut ctx, &IP_A, unsolicited);
        // STALE, then DELAY because the queued packet was sent.
        assert_eq!(state(&table, IP_A), Some(NeighborState::Delay));
        assert_eq!(table.get(&IP_A).and_then(|i| i.link_addr), Some(MAC_A));
    }

    #[test]
    fn rfc4861_7_2_5_without_override_a_different_address_only_makes_reachable_stale() {
        let (mut ctx, mut table) = reachable();
        let advert =
            Advertisement { link_addr: Some(MAC_B), solicited: true, override_flag: false, router: None };
        assert_eq!(table.handle_advertisement(&mut ctx, &IP_A, advert), AdvertisementOutcome::Updated);
        assert_eq!(
            table.get(&IP_A).map(|i| (i.state, i.link_addr)),
            Some((NeighborState::Stale, Some(MAC_A))),
            "REACHABLE → STALE, address kept"
        );
        ctx.state.events.clear();
        assert_eq!(table.handle_advertisement(&mut ctx, &IP_A, advert), AdvertisementOutcome::Ignored);
        assert_eq!(
            table.get(&IP_A).map(|i| (i.state, i.link_addr)),
            Some((NeighborState::Stale, Some(MAC_A)))
        );
        assert!(ctx.state.events.is_empty());
    }

    #[test]
    fn rfc4861_7_2_5_override_and_solicited_flags_update_address_and_state() {
        let (mut ctx, mut table) = reachable();
        let info = |t: &Table<Ipv4>| t.get(&IP_A).map(|i| (i.state, i.link_addr));
        // O=1, S=0, same address: state unchanged.
        let same =
            Advertisement { link_addr: Some(MAC_A), solicited: false, override_flag: true, router: None };
        table.handle_advertisement(&mut ctx, &IP_A, same);
        assert_eq!(info(&table), Some((NeighborState::Reachable, Some(MAC_A))));
        // O=1, S=0, new address: recorded, STALE.
        let moved = Advertisement { link_addr: Some(MAC_B), ..same };
        table.handle_advertisement(&mut ctx, &IP_A, moved);
        assert_eq!(info(&table), Some((NeighborState::Stale, Some(MAC_B))));
        // O=1, S=1, new address: recorded, REACHABLE.
        let back = Advertisement { link_addr: Some(MAC_A), solicited: true, ..same };
        table.handle_advertisement(&mut ctx, &IP_A, back);
        assert_eq!(info(&table), Some((NeighborState::Reachable, Some(MAC_A))));
        // O=0, S=1, no option: the cached address is confirmed.
        advance(&mut ctx, &mut table, secs(50));
        assert_eq!(info(&table), Some((NeighborState::Stale, Some(MAC_A))));
        let bare = Advertisement { link_addr: None, solicited: true, override_flag: false, router: None };
        table.handle_advertisement(&mut ctx, &IP_A, bare);
        assert_eq!(info(&table), Some((NeighborState::Reachable, Some(MAC_A))));
    }

    #[test]
    fn rfc4861_7_2_5_is_router_turning_false_is_reported() {
        let (mut ctx, mut table) = reachable();
        let router = Advertisement {
            link_addr: Some(MAC_A),
            solicited: false,
            override_flag: true,
            router: Some(true),
        };
        assert_eq!(table.handle_advertisement(&mut ctx, &IP_A, router), AdvertisementOutcome::Updated);
        assert_eq!(table.get(&IP_A).map(|i| i.is_router), Some(true));
        assert!(matches!(
            ctx.state.events.last().map(|e| e.kind),
            Some(NeighborEventKind::Changed(NeighborInfo { is_router: true, .. }))
        ));
        let host = Advertisement { router: Some(false), ..router };
        assert_eq!(
            table.handle_advertisement(&mut ctx, &IP_A, host),
            AdvertisementOutcome::RouterFlagCleared
        );
        assert_eq!(table.get(&IP_A).map(|i| i.is_router), Some(false));
        let arp = Advertisement { router: None, ..router };
        assert_eq!(table.handle_advertisement(&mut ctx, &IP_A, arp), AdvertisementOutcome::Updated);
    }

    #[test]
    fn static_entries_never_expire_and_are_never_overridden() {
        let (mut ctx, mut table) = setup();
        table.add_static(&mut ctx, ua(IP_A), MAC_A).unwrap();
        assert!(ctx.timers().is_empty(), "a static entry has no timer");
        table.handle_advertisement(&mut ctx, &IP_A, solicited(MAC_B));
        table.handle_solicitation(&mut ctx, ua(IP_A), MAC_B);
        table.confirm_reachable(&mut ctx, &IP_A);
        advance(&mut ctx, &mut table, secs(24 * 3600));
        assert_eq!(
            table.get(&IP_A),
            Some(NeighborInfo { state: NeighborState::Static, link_addr: Some(MAC_A), is_router: false })
        );
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![1]), SendOutcome::Transmitted);
        assert_eq!(ctx.state.out, [Out::Transmit(IP_A, MAC_A, vec![1])]);
        table.remove(&mut ctx, &IP_A).unwrap();
        assert!(table.is_empty());
        assert_eq!(table.remove(&mut ctx, &IP_A), Err(NudError::NotFound { device: DEV, neighbor: IP_A }));
    }

    #[test]
    fn static_entry_replacing_incomplete_sends_its_queue() {
        let (mut ctx, mut table) = setup();
        table.send(&mut ctx, ua(IP_A), vec![1]);
        ctx.state.out.clear();
        table.add_static(&mut ctx, ua(IP_A), MAC_B).unwrap();
        assert_eq!(ctx.state.out, [Out::Transmit(IP_A, MAC_B, vec![1])]);
        assert_eq!(state(&table, IP_A), Some(NeighborState::Static));
        assert!(ctx.timers().is_empty());
        assert_eq!(table.pending_bytes(), 0);
    }

    #[test]
    fn gc_removes_stale_entries_unused_for_gc_stale_time() {
        let (mut ctx, mut table) = setup();
        table.handle_solicitation(&mut ctx, ua(IP_A), MAC_A);
        advance(&mut ctx, &mut table, secs(59));
        assert_eq!(state(&table, IP_A), Some(NeighborState::Stale));
        advance(&mut ctx, &mut table, secs(1));
        assert_eq!(state(&table, IP_A), None);
        assert_eq!((table.counters().gc_removals, table.counters().destroys), (1, 1));
    }

    fn addr(n: u32) -> Ipv4Addr {
        Ipv4Addr::from_u32(0xc000_0200 + n)
    }

    #[test]
    fn table_bound_evicts_stale_before_anything_else_and_never_static() {
        let config = NudConfig { max_entries: 4, ..NudConfig::default() };
        let (mut ctx, mut table) = setup_with::<Ipv4>(config);
        table.add_static(&mut ctx, ua(addr(1)), MAC_A).unwrap();
        table.send(&mut ctx, ua(addr(2)), vec![1]);
        // A flood of solicitations from random senders: each new one evicts the least
        // recently used STALE entry, the static and the INCOMPLETE entries stay.
        for n in 100..1100 {
            table.handle_solicitation(&mut ctx, ua(addr(n)), MAC_B);
            assert!(table.len() <= 4);
        }
        assert_eq!(state(&table, addr(1)), Some(NeighborState::Static));
        assert_eq!(state(&table, addr(2)), Some(NeighborState::Incomplete));
        assert_eq!(state(&table, addr(1099)), Some(NeighborState::Stale));
        assert_eq!(state(&table, addr(1098)), Some(NeighborState::Stale));
        assert_eq!(table.counters().forced_evictions, 998);
        // Full of entries that may not go: new neighbours are refused and counted.
        table.send(&mut ctx, ua(addr(3)), vec![1]);
        table.send(&mut ctx, ua(addr(4)), vec![1]);
        assert_eq!(
            table.send(&mut ctx, ua(addr(5)), vec![1]),
            SendOutcome::Dropped(SendDropReason::TableFull)
        );
        assert_eq!(
            table.add_static(&mut ctx, ua(addr(6)), MAC_A),
            Err(NudError::TableFull { device: DEV, neighbor: addr(6), limit: 4 })
        );
        table.handle_solicitation(&mut ctx, ua(addr(7)), MAC_A);
        assert_eq!(state(&table, addr(7)), None);
        assert_eq!(table.counters().table_fulls, 3);
        // Once resolution fails, FAILED entries are evicted first.
        advance(&mut ctx, &mut table, secs(3));
        table.handle_solicitation(&mut ctx, ua(addr(7)), MAC_A);
        assert_eq!(state(&table, addr(7)), Some(NeighborState::Stale));
        assert_eq!(table.len(), 4);
    }

    #[test]
    fn pending_queue_drops_oldest_beyond_packet_and_byte_bounds() {
        let config = NudConfig {
            max_pending_packets: 3,
            max_pending_bytes: 10,
            max_total_pending_bytes: 15,
            ..NudConfig::default()
        };
        let (mut ctx, mut table) = setup_with::<Ipv4>(config);
        for n in 1..=5u8 {
            assert_eq!(table.send(&mut ctx, ua(IP_A), vec![n]), SendOutcome::Queued);
        }
        assert_eq!(table.pending_packets(&IP_A), 3);
        assert_eq!(table.counters().unresolved_discards, 2);
        // Bytes: a 9-byte packet pushes out the oldest until it fits in 10.
        assert_eq!(table.send(&mut ctx, ua(IP_A), vec![6; 9]), SendOutcome::Queued);
        assert_eq!((table.pending_packets(&IP_A), table.pending_bytes()), (2, 10));
        assert_eq!(table.counters().unresolved_discards, 4);
        assert_eq!(
            table.send(&mut ctx, ua(IP_A), vec![7; 11]),
            SendOutcome::Dropped(SendDropReason::QueueFull),
            "larger than a queue may hold"
        );
        // The table-wide bound: another entry may take only what is left of 15 bytes.
        let other = addr(50);
        assert_eq!(
            table.send(&mut ctx, ua(other), vec![8; 6]),
            SendOutcome::Dropped(SendDropReason::QueueFull)
        );
        assert_eq!(table.send(&mut ctx, ua(other), vec![8; 5]), SendOutcome::Queued);
        assert_eq!(table.pending_bytes(), 15);
        assert_eq!(table.counters().unresolved_discards, 6);
        ctx.state.out.clear();
        table.handle_advertisement(&mut ctx, &IP_A, solicited(MAC_A));
        assert_eq!(
            ctx.state.out,
            [Out::Transmit(IP_A, MAC_A, vec![5]), Out::Transmit(IP_A, MAC_A, vec![6; 9])]
        );
        assert_eq!(table.pending_bytes(), 5);
    }

    #[test]
    fn flush_dynamic_keeps_static_entries_and_fails_queues() {
        let (mut ctx, mut table) = setup();
        table.add_static(&mut ctx, ua(addr(1)), MAC_A).unwrap();
        table.handle_solicitation(&mut ctx, ua(addr(2)), MAC_B);
        table.send(&mut ctx, ua(addr(3)), vec![3]);
        ctx.state.out.clear();
        table.flush_dynamic(&mut ctx);
        assert_eq!(table.iter().map(|(a, _)| a).collect::<Vec<_>>(), [addr(1)]);
        assert_eq!(ctx.state.out, [Out::Failed(addr(3), vec![3])]);
        assert!(ctx.timers().is_empty());
        assert_eq!(table.pending_bytes(), 0);
    }

    #[test]
    fn flush_all_removes_static_entries_too() {
        let (mut ctx, mut table) = setup();
        table.add_static(&mut ctx, ua(addr(1)), MAC_A).unwrap();
        table.send(&mut ctx, ua(addr(3)), vec![3]);
        ctx.state.out.clear();
        table.flush_all(&mut ctx);
        assert!(table.is_empty());
        assert_eq!(ctx.state.out, [Out::Failed(addr(3), vec![3])]);
        assert!(ctx.timers().is_empty());
    }

    #[test]
    fn entries_record_when_they_last_changed() {
        let (mut ctx, mut table) = setup();
        table.handle_solicitation(&mut ctx, ua(addr(2)), MAC_B);
        let created = ctx.now();
        assert_eq!(table.iter_with_updated().map(|(_, _, t)| t).collect::<Vec<_>>(), [created]);
        advance(&mut ctx, &mut table, Duration::from_secs(1));
        // A use moves STALE to DELAY (RFC 4861 §7.3.3): a change.
        table.send(&mut ctx, ua(addr(2)), vec![1]);
        let (_, info, updated) = table.iter_with_updated().next().unwrap();
        assert_eq!((info.state, updated), (NeighborState::Delay, created + Duration::from_secs(1)));
        // A second use changes nothing.
        advance(&mut ctx, &mut table, Duration::from_secs(1));
        table.send(&mut ctx, ua(addr(2)), vec![1]);
        assert_eq!(table.iter_with_updated().next().unwrap().2, created + Duration::from_secs(1));
    }

    #[test]
    fn one_state_machine_serves_ipv6() {
        let (mut ctx, mut table) = setup_with::<Ipv6>(NudConfig::default());
        let target: Ipv6Addr = "2001:db8::2".parse().unwrap();
        table.send(&mut ctx, ua(target), vec![1]);
        assert_eq!(ctx.state.out, [Out::Solicit(target, SolicitationDestination::Multicast)]);
        let advert = Advertisement {
            link_addr: Some(MAC_B),
            solicited: true,
            override_flag: false,
            router: Some(true),
        };
        table.handle_advertisement(&mut ctx, &target, advert);
        assert_eq!(ctx.state.out[1], Out::Transmit(target, MAC_B, vec![1]));
        assert_eq!(
            table.get(&target).map(|i| (i.state, i.is_router)),
            Some((NeighborState::Reachable, true))
        );
    }

    /// One input to the table, for the property tests.
    #[derive(Clone, Debug)]
    enum Op {
        Send(u8, usize),
        Solicit(u8, bool),
        Advert(u8, Option<bool>, bool, bool, Option<bool>),
        Confirm(u8),
        AddStatic(u8),
        Remove(u8),
        Flush,
        Advance(u16),
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        let a = 0u8..12;
        prop_oneof![
            4 => (a.clone(), 0usize..40).prop_map(|(a, l)| Op::Send(a, l)),
            2 => (a.clone(), any::<bool>()).prop_map(|(a, m)| Op::Solicit(a, m)),
            2 => (a.clone(), any::<Option<bool>>(), any::<bool>(), any::<bool>(), any::<Option<bool>>())
                .prop_map(|(a, m, s, o, r)| Op::Advert(a, m, s, o, r)),
            1 => a.clone().prop_map(Op::Confirm),
            1 => a.clone().prop_map(Op::AddStatic),
            1 => a.prop_map(Op::Remove),
            1 => Just(Op::Flush),
            3 => (0u16..20_000).prop_map(Op::Advance),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_event_sequences_keep_every_bound(ops in proptest::collection::vec(arb_op(), 1..120)) {
            let config = NudConfig {
                max_entries: 6,
                max_pending_packets: 3,
                max_pending_bytes: 50,
                max_total_pending_bytes: 80,
                ..NudConfig::default()
            };
            let (mut ctx, mut table) = setup_with::<Ipv4>(config);
            let mac = |b: bool| if b { MAC_A } else { MAC_B };
            let mut statics = alloc::collections::BTreeSet::new();
            for op in ops {
                match op {
                    Op::Send(a, len) => { table.send(&mut ctx, ua(addr(a.into())), vec![a; len]); }
                    Op::Solicit(a, m) => table.handle_solicitation(&mut ctx, ua(addr(a.into())), mac(m)),
                    Op::Advert(a, m, solicited, override_flag, router) => {
                        let advert = Advertisement { link_addr: m.map(mac), solicited, override_flag, router };
                        table.handle_advertisement(&mut ctx, &addr(a.into()), advert);
                    }
                    Op::Confirm(a) => table.confirm_reachable(&mut ctx, &addr(a.into())),
                    Op::AddStatic(a) => {
                        if table.add_static(&mut ctx, ua(addr(a.into())), MAC_A).is_ok() {
                            statics.insert(addr(a.into()));
                        }
                    }
                    Op::Remove(a) => {
                        let _ = table.remove(&mut ctx, &addr(a.into()));
                        statics.remove(&addr(a.into()));
                    }
                    Op::Flush => table.flush_dynamic(&mut ctx),
                    Op::Advance(ms) => advance(&mut ctx, &mut table, Duration::from_millis(ms.into())),
                }
                prop_assert!(table.len() <= 6);
                let queued: usize = table.entries.values().map(|e| match &e.state {
                    EntryState::Incomplete { queue, .. } => {
                        assert!(queue.packets.len() <= 3 && queue.bytes <= 50);
                        assert_eq!(queue.bytes, queue.packets.iter().map(Vec::len).sum::<usize>());
                        queue.bytes
                    }
                    _ => 0,
                }).sum();
                prop_assert_eq!(queued, table.pending_bytes());
                prop_assert!(queued <= 80);
                // Static entries stay until removed; every other entry has exactly its timer.
                for s in &statics {
                    prop_assert_eq!(state(&table, *s), Some(NeighborState::Static));
                }
                let timers = ctx.timers();
                for (a, e) in &table.entries {
                    let has_timer = timers.iter().any(|(id, _)| id.neighbor == *a);
                    prop_assert_eq!(has_timer, !matches!(e.state, EntryState::Static { .. }), "timer of {}", a);
                }
                prop_assert!(timers.iter().all(|(id, _)| table.entries.contains_key(&id.neighbor)));
            }
        }
    }

    #[test]
    fn witness_rejects_non_unicast_neighbours() {
        assert!(UnicastAddr::new(Ipv4Addr::LIMITED_BROADCAST).is_none());
        assert!(<UnicastAddr<Ipv6Addr> as Witness<_>>::new(Ipv6Addr::ALL_NODES).is_none());
    }
}
