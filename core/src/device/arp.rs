//! ARP for IPv4 over Ethernet: receive processing (RFC 826), ARP as the resolver of the
//! IPv4 neighbour table ([`nud`](super::nud)), and IPv4 Address Conflict Detection with
//! announcements and defence (RFC 5227 §2.1–§2.4).
//!
//! Behaviour follows Linux with its defaults (`arp_accept=0`, `arp_ignore=0`):
//!
//! * RFC 826 "Packet Reception" merge: a packet updates the entry of a sender we already
//!   have; an entry is created only for the sender of a request for one of our addresses,
//!   which gets a reply. Unsolicited replies and gratuitous ARP create nothing.
//! * Resolution is the shared NUD state machine: requests are broadcast while INCOMPLETE and
//!   unicast to the cached address while PROBE; a unicast reply makes the sender REACHABLE,
//!   anything else STALE.
//! * RFC 5227: an address added with conflict detection is probed (§2.1.1) before use and
//!   announced (§2.3) when claimed; one added without it is announced at once. Once in use,
//!   conflicts are detected and the address defended once per DEFEND_INTERVAL, then given up
//!   (§2.4 (b)).
//!
//! Senders that cannot be neighbours are dropped and counted: broadcast, multicast or zero
//! sender hardware addresses, multicast, broadcast or loopback sender addresses, and our own
//! addresses claimed from another hardware address (which are conflicts).

use alloc::vec::Vec;
use core::time::Duration;

use crate::addr::{AddrSubnet, Ipv4, Ipv4Addr, Mac, UnicastAddr};
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::device::ethernet::FrameDestination;
use crate::device::nud::{
    Advertisement, NeighborEvent, NeighborTable, NudConfig, NudContext, NudError, NudTimerId, PendingPacket,
    SendOutcome, SolicitationDestination,
};
use crate::device::DeviceId;
use crate::time::Instant;
use crate::wire::arp::{ArpBuilder, ArpOp};

/// RFC 5227 §1.1 PROBE_WAIT: the longest random wait before the first probe.
pub const PROBE_WAIT: Duration = Duration::from_secs(1);
/// RFC 5227 §1.1 PROBE_NUM: how many probes are sent.
pub const PROBE_NUM: u8 = 3;
/// RFC 5227 §1.1 PROBE_MIN: the shortest gap between probes.
pub const PROBE_MIN: Duration = Duration::from_secs(1);
/// RFC 5227 §1.1 PROBE_MAX: the longest gap between probes.
pub const PROBE_MAX: Duration = Duration::from_secs(2);
/// RFC 5227 §1.1 ANNOUNCE_WAIT: the wait after the last probe before the address is claimed.
pub const ANNOUNCE_WAIT: Duration = Duration::from_secs(2);
/// RFC 5227 §1.1 ANNOUNCE_NUM: how many announcements are sent.
pub const ANNOUNCE_NUM: u8 = 2;
/// RFC 5227 §1.1 ANNOUNCE_INTERVAL: the gap between announcements.
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(2);
/// RFC 5227 §1.1 DEFEND_INTERVAL: a second conflict within this long of the first makes
/// the host give the address up.
pub const DEFEND_INTERVAL: Duration = Duration::from_secs(10);

/// The tunables of one device's ARP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpConfig {
    /// The neighbour table's tunables (Linux `/proc/sys/net/ipv4/neigh/<dev>/`).
    pub nud: NudConfig,
    /// Most IPv4 addresses the device may hold.
    pub max_addresses: usize,
}

impl Default for ArpConfig {
    fn default() -> Self {
        Self { nud: NudConfig::default(), max_addresses: 64 }
    }
}

/// The timers ARP schedules: the neighbour table's, and one per address for RFC 5227.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArpTimerId {
    /// A neighbour entry's timer.
    Neighbor(NudTimerId<Ipv4>),
    /// The next probe or announcement of one of our addresses.
    Acd {
        /// The device.
        device: DeviceId,
        /// The address.
        addr: Ipv4Addr,
    },
}

/// When a conflict was found (RFC 5227 §2.1.1 or §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConflictPhase {
    /// While probing: the address was never used.
    Probing,
    /// While in use, after defending it once within DEFEND_INTERVAL.
    InUse,
}

/// What RFC 5227 conflict detection tells the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AcdEvent {
    /// Probing found no other user: the address may be used from now on.
    Ready {
        /// The device.
        device: DeviceId,
        /// The address.
        addr: Ipv4Addr,
    },
    /// Another host uses the address; it has been removed from the device and the stack must
    /// stop using it (RFC 5227 §2.1.1, §2.4).
    Conflict {
        /// The device.
        device: DeviceId,
        /// The address.
        addr: Ipv4Addr,
        /// When the conflict was found.
        phase: ConflictPhase,
        /// The other host's hardware address.
        other: Mac,
    },
}

/// What ARP asks of the stack around it.
pub trait ArpContext<B>: TimerContext<ArpTimerId> + RngContext {
    /// Sends an ARP packet in an Ethernet frame to `dst` on `device`.
    fn send_arp(&mut self, device: DeviceId, dst: Mac, packet: ArpBuilder);

    /// Transmits an IPv4 packet to `neighbor` at `link_addr` ([`NudContext::transmit`]).
    fn transmit(&mut self, device: DeviceId, neighbor: Ipv4Addr, link_addr: Mac, packet: B);

    /// Resolving `neighbor` failed; the stack sends ICMP destination unreachable (host
    /// unreachable) for `packet` ([`NudContext::resolution_failed`]).
    fn resolution_failed(&mut self, device: DeviceId, neighbor: Ipv4Addr, packet: B);

    /// The neighbour table changed.
    fn on_neighbor_event(&mut self, event: NeighborEvent<Ipv4>);

    /// Conflict detection has news about one of our addresses.
    fn on_acd_event(&mut self, event: AcdEvent);
}

/// Counters of one device's ARP (Linux has none per reason; names follow `nstat` style).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArpCounters {
    /// Requests received.
    pub rx_requests: u64,
    /// Replies received.
    pub rx_replies: u64,
    /// Requests sent to resolve or probe a neighbour.
    pub tx_requests: u64,
    /// Replies sent.
    pub tx_replies: u64,
    /// RFC 5227 probes sent.
    pub tx_probes: u64,
    /// RFC 5227 announcements sent, defences included.
    pub tx_announcements: u64,
    /// Packets showing another host using one of our addresses.
    pub conflicts: u64,
    /// Conflicts answered by defending the address (RFC 5227 §2.4 (b)).
    pub defended: u64,
    /// Dropped: neither for one of our addresses nor from a neighbour we know.
    pub drop_not_for_us: u64,
    /// Dropped: a reply or gratuitous ARP from a neighbour we have no entry for (Linux
    /// `arp_accept=0`).
    pub drop_unsolicited: u64,
    /// Dropped: the sender hardware address is broadcast, multicast or zero.
    pub drop_bad_sender_mac: u64,
    /// Dropped: the sender address is multicast, broadcast or loopback.
    pub drop_bad_sender_ip: u64,
    /// Dropped: our own packet, looped back.
    pub drop_own_packet: u64,
}

/// An ARP API call that was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArpError {
    /// The address is already on the device.
    #[error("{addr} is already assigned to {device}")]
    AddressExists {
        /// The device.
        device: DeviceId,
        /// The address.
        addr: Ipv4Addr,
    },
    /// The device holds `max_addresses` already.
    #[error("{device} already has {limit} IPv4 addresses; cannot add {addr}")]
    TooManyAddresses {
        /// The device.
        device: DeviceId,
        /// The address.
        addr: Ipv4Addr,
        /// The limit.
        limit: usize,
    },
    /// The address is not on the device.
    #[error("{addr} is not assigned to {device}")]
    AddressNotFound {
        /// The device.
        device: DeviceId,
        /// The address.
        addr: Ipv4Addr,
    },
    /// The neighbour table refused.
    #[error(transparent)]
    Neighbor(#[from] NudError<Ipv4Addr>),
}

/// Where one of our addresses is in RFC 5227's life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddrPhase {
    /// §2.1.1: probing; the address is not ours yet.
    Probing { probes_sent: u8 },
    /// §2.3: claimed and in use; announcing.
    Announcing { sent: u8 },
    /// In use, announcements done.
    Assigned,
}

#[derive(Clone, Copy, Debug)]
struct OwnAddr {
    subnet: AddrSubnet<Ipv4Addr>,
    phase: AddrPhase,
    /// When we last defended the address (RFC 5227 §2.4 (b)).
    last_conflict: Option<Instant>,
}

impl OwnAddr {
    fn addr(&self) -> Ipv4Addr {
        self.subnet.addr().into_addr()
    }

    fn usable(&self) -> bool {
        !matches!(self.phase, AddrPhase::Probing { .. })
    }
}

/// ARP on one Ethernet device: its IPv4 neighbour table and its addresses' conflict state.
#[derive(Debug)]
pub struct ArpState<B> {
    device: DeviceId,
    mac: Mac,
    nud: NeighborTable<Ipv4, B>,
    addrs: Vec<OwnAddr>,
    max_addresses: usize,
    counters: ArpCounters,
}

impl<B: PendingPacket> ArpState<B> {
    /// ARP for `device`, whose hardware address is `mac`.
    pub fn new<C: InstantContext + RngContext>(
        ctx: &mut C,
        device: DeviceId,
        mac: Mac,
        config: ArpConfig,
    ) -> Self {
        Self {
            device,
            mac,
            nud: NeighborTable::new(ctx, device, config.nud),
            addrs: Vec::new(),
            max_addresses: config.max_addresses,
            counters: ArpCounters::default(),
        }
    }

    /// The neighbour table, for lookups and its counters.
    pub fn neighbors(&self) -> &NeighborTable<Ipv4, B> {
        &self.nud
    }

    /// The counters.
    pub fn counters(&self) -> &ArpCounters {
        &self.counters
    }

    /// Whether `addr` is ours and usable: claimed, or added without conflict detection.
    pub fn is_usable(&self, addr: &Ipv4Addr) -> bool {
        self.addrs.iter().any(|a| a.addr() == *addr && a.usable())
    }

    /// Our addresses and whether each is usable yet.
    pub fn addresses(&self) -> impl Iterator<Item = (AddrSubnet<Ipv4Addr>, bool)> + '_ {
        self.addrs.iter().map(|a| (a.subnet, a.usable()))
    }

    /// Splits off the neighbour table and a context for it that speaks ARP.
    fn split<'a, C: ArpContext<B>>(
        &'a mut self,
        ctx: &'a mut C,
    ) -> (&'a mut NeighborTable<Ipv4, B>, NudAdapter<'a, C>) {
        let adapter = NudAdapter { ctx, mac: self.mac, addrs: &self.addrs, counters: &mut self.counters };
        (&mut self.nud, adapter)
    }

    /// Sends an IPv4 packet to the on-link `neighbor`, resolving it first if need be
    /// ([`NeighborTable::send`]). `neighbor` is never one of our own addresses: the stack
    /// delivers those locally.
    pub fn send<C: ArpContext<B>>(
        &mut self,
        ctx: &mut C,
        neighbor: UnicastAddr<Ipv4Addr>,
        packet: B,
    ) -> SendOutcome {
        let (nud, mut ctx) = self.split(ctx);
        nud.send(&mut ctx, neighbor, packet)
    }

    /// Upper-layer reachability confirmation ([`NeighborTable::confirm_reachable`]).
    pub fn confirm_reachable<C: ArpContext<B>>(&mut self, ctx: &mut C, neighbor: &Ipv4Addr) {
        let (nud, mut ctx) = self.split(ctx);
        nud.confirm_reachable(&mut ctx, neighbor);
    }

    /// Adds or replaces a static neighbour ([`NeighborTable::add_static`]).
    pub fn add_static_neighbor<C: ArpContext<B>>(
        &mut self,
        ctx: &mut C,
        neighbor: UnicastAddr<Ipv4Addr>,
        link_addr: Mac,
    ) -> Result<(), ArpError> {
        let (nud, mut ctx) = self.split(ctx);
        Ok(nud.add_static(&mut ctx, neighbor, link_addr)?)
    }

    /// Removes a neighbour entry ([`NeighborTable::remove`]).
    pub fn remove_neighbor<C: ArpContext<B>>(
        &mut self,
        ctx: &mut C,
        neighbor: &Ipv4Addr,
    ) -> Result<(), ArpError> {
        let (nud, mut ctx) = self.split(ctx);
        Ok(nud.remove(&mut ctx, neighbor)?)
    }

    /// Removes every dynamic neighbour entry ([`NeighborTable::flush_dynamic`]).
    pub fn flush_neighbors<C: ArpContext<B>>(&mut self, ctx: &mut C) {
        let (nud, mut ctx) = self.split(ctx);
        nud.flush_dynamic(&mut ctx);
    }

    /// Removes every neighbour entry, static ones too ([`NeighborTable::flush_all`]).
    pub fn flush_all_neighbors<C: ArpContext<B>>(&mut self, ctx: &mut C) {
        let (nud, mut ctx) = self.split(ctx);
        nud.flush_all(&mut ctx);
    }

    /// Adds one of our addresses. With `detect_conflicts`, it is probed first (RFC 5227
    /// §2.1.1) and usable only after [`AcdEvent::Ready`]; without, it is usable at once. Either
    /// way it is announced (§2.3) when it becomes usable and defended from then on (§2.4).
    pub fn add_address<C: ArpContext<B>>(
        &mut self,
        ctx: &mut C,
        subnet: AddrSubnet<Ipv4Addr>,
        detect_conflicts: bool,
    ) -> Result<(), ArpError> {
        let addr = subnet.addr().into_addr();
        if self.addrs.iter().any(|a| a.addr() == addr) {
            return Err(ArpError::AddressExists { device: self.device, addr });
        }
        if self.addrs.len() >= self.max_addresses {
            return Err(ArpError::TooManyAddresses { device: self.device, addr, limit: self.max_addresses });
        }
        // An address of ours is no neighbour (it may have been one before it was ours).
        if self.nud.get(&addr).is_some() {
            self.remove_neighbor(ctx, &addr)?;
        }
        let timer = ArpTimerId::Acd { device: self.device, addr };
        if detect_conflicts {
            self.addrs.push(OwnAddr {
                subnet,
                phase: AddrPhase::Probing { probes_sent: 0 },
                last_conflict: None,
            });
            // §2.1.1: wait a random time in 0..PROBE_WAIT before the first probe.
            let wait = ctx.random_duration(Duration::ZERO..PROBE_WAIT);
            ctx.schedule_timer_after(timer, wait);
        } else {
            self.addrs.push(OwnAddr {
                subnet,
                phase: AddrPhase::Announcing { sent: 0 },
                last_conflict: None,
            });
            self.announce(ctx, addr);
        }
        Ok(())
    }

    /// Removes one of our addresses, stopping its probes and announcements.
    pub fn remove_address<C: ArpContext<B>>(&mut self, ctx: &mut C, addr: &Ipv4Addr) -> Result<(), ArpError> {
        let index = self
            .addrs
            .iter()
            .position(|a| a.addr() == *addr)
            .ok_or(ArpError::AddressNotFound { device: self.device, addr: *addr })?;
        self.addrs.swap_remove(index);
        ctx.cancel_timer(&ArpTimerId::Acd { device: self.device, addr: *addr });
        Ok(())
    }

    /// Sends the next announcement of `addr` (RFC 5227 §2.3), ANNOUNCE_NUM of them
    /// ANNOUNCE_INTERVAL apart.
    fn announce<C: ArpContext<B>>(&mut self, ctx: &mut C, addr: Ipv4Addr) {
        let Some(own) = self.addrs.iter_mut().find(|a| a.addr() == addr) else { return };
        let AddrPhase::Announcing { sent } = &mut own.phase else { return };
        *sent += 1;
        let timer = ArpTimerId::Acd { device: self.device, addr };
        if *sent < ANNOUNCE_NUM {
            ctx.schedule_timer_after(timer, ANNOUNCE_INTERVAL);
        } else {
            own.phase = AddrPhase::Assigned;
        }
        self.counters.tx_announcements += 1;
        ctx.send_arp(self.device, Mac::BROADCAST, ArpBuilder::announcement(self.mac, addr));
    }

    /// Fires an ARP timer: a neighbour entry's, or the next step of conflict detection.
    pub fn handle_timer<C: ArpContext<B>>(&mut self, ctx: &mut C, id: ArpTimerId) {
        match id {
            ArpTimerId::Neighbor(id) => {
                let (nud, mut ctx) = self.split(ctx);
                nud.handle_timer(&mut ctx, id);
            }
            ArpTimerId::Acd { device, addr } if device == self.device => self.acd_timer(ctx, addr),
            ArpTimerId::Acd { .. } => {}
        }
    }

    fn acd_timer<C: ArpContext<B>>(&mut self, ctx: &mut C, addr: Ipv4Addr) {
        let Some(own) = self.addrs.iter_mut().find(|a| a.addr() == addr) else { return };
        let timer = ArpTimerId::Acd { device: self.device, addr };
        match &mut own.phase {
            // §2.1.1: PROBE_NUM probes PROBE_MIN..PROBE_MAX apart, then ANNOUNCE_WAIT.
            AddrPhase::Probing { probes_sent } if *probes_sent < PROBE_NUM => {
                *probes_sent += 1;
                let wait = if *probes_sent < PROBE_NUM {
                    ctx.random_duration(PROBE_MIN..PROBE_MAX)
                } else {
                    ANNOUNCE_WAIT
                };
                ctx.schedule_timer_after(timer, wait);
                self.counters.tx_probes += 1;
                ctx.send_arp(self.device, Mac::BROADCAST, ArpBuilder::probe(self.mac, addr));
            }
            // §2.1.1, §2.3: no conflict by the end of ANNOUNCE_WAIT: the address is ours.
            AddrPhase::Probing { .. } => {
                own.phase = AddrPhase::Announcing { sent: 0 };
                ctx.on_acd_event(AcdEvent::Ready { device: self.device, addr });
                self.announce(ctx, addr);
            }
            AddrPhase::Announcing { .. } => self.announce(ctx, addr),
            AddrPhase::Assigned => {}
        }
    }

    /// Another host (at `other`) uses our address at `index`: while probing, give it up
    /// (§2.1.1); in use, defend it once per DEFEND_INTERVAL and give it up on a second
    /// conflict within the interval (§2.4 (b)).
    fn conflict<C: ArpContext<B>>(&mut self, ctx: &mut C, index: usize, other: Mac) {
        self.counters.conflicts += 1;
        let now = ctx.now();
        let own = &mut self.addrs[index];
        let addr = own.addr();
        let phase = match own.phase {
            AddrPhase::Probing { .. } => ConflictPhase::Probing,
            AddrPhase::Announcing { .. } | AddrPhase::Assigned => {
                let recent = own.last_conflict.is_some_and(|t| now - t < DEFEND_INTERVAL);
                if !recent {
                    own.last_conflict = Some(now);
                    self.counters.defended += 1;
                    self.counters.tx_announcements += 1;
                    ctx.send_arp(self.device, Mac::BROADCAST, ArpBuilder::announcement(self.mac, addr));
                    return;
                }
                ConflictPhase::InUse
            }
        };
        self.addrs.swap_remove(index);
        ctx.cancel_timer(&ArpTimerId::Acd { device: self.device, addr });
        ctx.on_acd_event(AcdEvent::Conflict { device: self.device, addr, phase, other });
    }

    /// Answers `request`, which asks for one of our addresses, straight to its sender.
    fn reply<C: ArpContext<B>>(&mut self, ctx: &mut C, request: &ArpBuilder) {
        let reply = ArpBuilder::reply(self.mac, request.target_ip, request.sender_mac, request.sender_ip);
        self.counters.tx_replies += 1;
        ctx.send_arp(self.device, request.sender_mac, reply);
    }

    /// Processes a received ARP packet (its fields, as [`ArpPacket::builder`] gives them)
    /// per RFC 826's reception algorithm with Linux's semantics, and RFC 5227's conflict
    /// rules.
    ///
    /// [`ArpPacket::builder`]: crate::wire::arp::ArpPacket::builder
    pub fn receive<C: ArpContext<B>>(&mut self, ctx: &mut C, packet: &ArpBuilder, frame: FrameDestination) {
        match packet.op {
            ArpOp::Request => self.counters.rx_requests += 1,
            ArpOp::Reply => self.counters.rx_replies += 1,
        }
        let sender_ip = packet.sender_ip;
        if packet.sender_mac == self.mac {
            self.counters.drop_own_packet += 1;
            return;
        }
        if !packet.sender_mac.is_unicast() || packet.sender_mac == Mac::UNSPECIFIED {
            self.counters.drop_bad_sender_mac += 1;
            return;
        }
        if sender_ip.is_multicast() || sender_ip.is_limited_broadcast() || sender_ip.is_loopback() {
            self.counters.drop_bad_sender_ip += 1;
            return;
        }
        // RFC 5227 §2.1.1 and §2.4: any packet claiming one of our addresses as its sender.
        if let Some(index) = self.addrs.iter().position(|a| a.addr() == sender_ip) {
            self.conflict(ctx, index, packet.sender_mac);
            return;
        }
        let target = self.addrs.iter().position(|a| a.addr() == packet.target_ip);
        let Some(sender) = UnicastAddr::new(sender_ip) else {
            // An RFC 5227 probe (sender 0.0.0.0).
            match target.map(|i| (i, self.addrs[i].phase)) {
                // §2.1.1: another host probing for the address we are probing for.
                Some((index, AddrPhase::Probing { .. })) if packet.op == ArpOp::Request => {
                    self.conflict(ctx, index, packet.sender_mac);
                }
                // A probe for an address in use: answer it, so the prober sees the conflict.
                Some((_, AddrPhase::Announcing { .. } | AddrPhase::Assigned))
                    if packet.op == ArpOp::Request =>
                {
                    self.reply(ctx, packet);
                }
                _ => self.counters.drop_not_for_us += 1,
            }
            return;
        };
        let target_usable = target.is_some_and(|i| self.addrs[i].usable());
        if packet.op == ArpOp::Request && target_usable {
            // RFC 826: a request for our address creates or updates the sender's entry (as
            // STALE, like an NDP solicitation, RFC 4861 §7.2.3) and is answered.
            let (nud, mut nud_ctx) = self.split(ctx);
            nud.handle_solicitation(&mut nud_ctx, sender, packet.sender_mac);
            self.reply(ctx, packet);
            return;
        }
        if self.nud.get(&sender_ip).is_none() {
            // Linux arp_accept=0: replies and gratuitous ARP create no entry.
            if (packet.op == ArpOp::Reply && target_usable) || packet.target_ip == sender_ip {
                self.counters.drop_unsolicited += 1;
            } else {
                self.counters.drop_not_for_us += 1;
            }
            return;
        }
        // RFC 826 merge: update the sender's entry. A reply to our hardware address
        // confirms reachability; anything else leaves the new address STALE (Linux).
        let advert = Advertisement {
            link_addr: Some(packet.sender_mac),
            solicited: packet.op == ArpOp::Reply && frame == FrameDestination::Individual,
            override_flag: true,
            router: None,
        };
        let (nud, mut nud_ctx) = self.split(ctx);
        nud.handle_advertisement(&mut nud_ctx, &sender_ip, advert);
    }
}

/// The neighbour table's context over ARP's: solicitations become ARP requests, timers
/// become [`ArpTimerId::Neighbor`].
struct NudAdapter<'a, C> {
    ctx: &'a mut C,
    mac: Mac,
    addrs: &'a [OwnAddr],
    counters: &'a mut ArpCounters,
}

impl<C: InstantContext> InstantContext for NudAdapter<'_, C> {
    fn now(&self) -> Instant {
        self.ctx.now()
    }
}

impl<C: TimerContext<ArpTimerId>> TimerContext<NudTimerId<Ipv4>> for NudAdapter<'_, C> {
    fn schedule_timer(&mut self, id: NudTimerId<Ipv4>, at: Instant) -> Option<Instant> {
        self.ctx.schedule_timer(ArpTimerId::Neighbor(id), at)
    }

    fn cancel_timer(&mut self, id: &NudTimerId<Ipv4>) -> Option<Instant> {
        self.ctx.cancel_timer(&ArpTimerId::Neighbor(*id))
    }

    fn scheduled_at(&self, id: &NudTimerId<Ipv4>) -> Option<Instant> {
        self.ctx.scheduled_at(&ArpTimerId::Neighbor(*id))
    }
}

impl<C: RngContext> RngContext for NudAdapter<'_, C> {
    fn random_u64(&mut self) -> u64 {
        self.ctx.random_u64()
    }
}

impl<B, C: ArpContext<B>> NudContext<Ipv4, B> for NudAdapter<'_, C> {
    /// An ARP request: broadcast while INCOMPLETE, unicast while PROBE (as Linux). The sender
    /// address is a usable address of ours on the target's subnet, else any usable one
    /// (Linux `inet_select_addr`), else 0.0.0.0.
    fn send_solicitation(
        &mut self,
        device: DeviceId,
        target: Ipv4Addr,
        destination: SolicitationDestination,
        _prompting: Option<&B>,
    ) {
        let usable = || self.addrs.iter().filter(|a| a.usable());
        let sender_ip = usable()
            .find(|a| a.subnet.subnet().contains(&target))
            .or_else(|| usable().next())
            .map_or(Ipv4Addr::UNSPECIFIED, OwnAddr::addr);
        let dst = match destination {
            SolicitationDestination::Multicast => Mac::BROADCAST,
            SolicitationDestination::Unicast(mac) => mac,
        };
        self.counters.tx_requests += 1;
        self.ctx.send_arp(device, dst, ArpBuilder::request(self.mac, sender_ip, target));
    }

    fn transmit(&mut self, device: DeviceId, neighbor: Ipv4Addr, link_addr: Mac, packet: B) {
        self.ctx.transmit(device, neighbor, link_addr, packet);
    }

    fn resolution_failed(&mut self, device: DeviceId, neighbor: Ipv4Addr, packet: B) {
        self.ctx.resolution_failed(device, neighbor, packet);
    }

    fn on_neighbor_event(&mut self, event: NeighborEvent<Ipv4>) {
        self.ctx.on_neighbor_event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::IpAddress;
    use crate::device::nud::{NeighborState, SendDropReason};
    use crate::testutil::fake::FakeCtx;
    use alloc::vec;
    use proptest::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Out {
        Arp(Mac, ArpBuilder),
        Transmit(Ipv4Addr, Mac, Vec<u8>),
        Failed(Ipv4Addr, Vec<u8>),
        Acd(AcdEvent),
    }

    /// What the fake host records besides clock, timers and randomness.
    #[derive(Default)]
    struct Host {
        out: Vec<(Instant, Out)>,
    }

    type Ctx = FakeCtx<ArpTimerId, Host>;

    impl Ctx {
        fn push(&mut self, out: Out) {
            let now = self.now();
            self.state.out.push((now, out));
        }

        /// The output without times, cleared.
        fn take(&mut self) -> Vec<Out> {
            core::mem::take(&mut self.state.out).into_iter().map(|(_, o)| o).collect()
        }
    }

    impl ArpContext<Vec<u8>> for Ctx {
        fn send_arp(&mut self, _device: DeviceId, dst: Mac, packet: ArpBuilder) {
            self.push(Out::Arp(dst, packet));
        }
        fn transmit(&mut self, _device: DeviceId, neighbor: Ipv4Addr, link_addr: Mac, packet: Vec<u8>) {
            self.push(Out::Transmit(neighbor, link_addr, packet));
        }
        fn resolution_failed(&mut self, _device: DeviceId, neighbor: Ipv4Addr, packet: Vec<u8>) {
            self.push(Out::Failed(neighbor, packet));
        }
        fn on_neighbor_event(&mut self, _event: NeighborEvent<Ipv4>) {}
        fn on_acd_event(&mut self, event: AcdEvent) {
            self.push(Out::Acd(event));
        }
    }

    const DEV: DeviceId = DeviceId::new(3);
    const OUR_MAC: Mac = Mac::new([2, 0, 0, 0, 0, 1]);
    const PEER_MAC: Mac = Mac::new([2, 0, 0, 0, 0, 2]);
    const OTHER_MAC: Mac = Mac::new([2, 0, 0, 0, 0, 3]);
    const OUR_IP: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
    const PEER_IP: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 2]);
    const THIRD_IP: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 3]);

    type Arp = ArpState<Vec<u8>>;

    fn subnet(ip: Ipv4Addr) -> AddrSubnet<Ipv4Addr> {
        AddrSubnet::new(ip, 24).unwrap()
    }

    fn setup_with(config: ArpConfig) -> (Ctx, Arp) {
        let mut ctx = FakeCtx::with_state(11, Host::default());
        let arp = ArpState::new(&mut ctx, DEV, OUR_MAC, config);
        (ctx, arp)
    }

    /// ARP with OUR_IP in use (added without detection, announcements done).
    fn setup() -> (Ctx, Arp) {
        let (mut ctx, mut arp) = setup_with(ArpConfig::default());
        arp.add_address(&mut ctx, subnet(OUR_IP), false).unwrap();
        advance(&mut ctx, &mut arp, ANNOUNCE_INTERVAL);
        ctx.state.out.clear();
        (ctx, arp)
    }

    fn advance(ctx: &mut Ctx, arp: &mut Arp, by: Duration) {
        let deadline = ctx.now() + by;
        while let Some(id) = ctx.pop_due(deadline) {
            arp.handle_timer(ctx, id);
        }
        ctx.advance_to(deadline, |_, _| {});
    }

    fn ua(ip: Ipv4Addr) -> UnicastAddr<Ipv4Addr> {
        UnicastAddr::new(ip).unwrap()
    }

    fn state(arp: &Arp, ip: Ipv4Addr) -> Option<(NeighborState, Option<Mac>)> {
        arp.neighbors().get(&ip).map(|i| (i.state, i.link_addr))
    }

    fn request(sender_mac: Mac, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> ArpBuilder {
        ArpBuilder::request(sender_mac, sender_ip, target_ip)
    }

    fn reply_to_us(sender_mac: Mac, sender_ip: Ipv4Addr) -> ArpBuilder {
        ArpBuilder::reply(sender_mac, sender_ip, OUR_MAC, OUR_IP)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn rfc826_request_for_our_address_is_answered_and_creates_stale_entry() {
        let (mut ctx, mut arp) = setup();
        arp.receive(&mut ctx, &request(PEER_MAC, PEER_IP, OUR_IP), FrameDestination::Broadcast);
        assert_eq!(ctx.take(), [Out::Arp(PEER_MAC, ArpBuilder::reply(OUR_MAC, OUR_IP, PEER_MAC, PEER_IP))]);
        assert_eq!(state(&arp, PEER_IP), Some((NeighborState::Stale, Some(PEER_MAC))));
        assert_eq!((arp.counters().rx_requests, arp.counters().tx_replies), (1, 1));
    }

    #[test]
    fn rfc826_merge_updates_known_senders_only() {
        let (mut ctx, mut arp) = setup();
        // A request for someone else from a stranger: nothing learned, nothing sent.
        arp.receive(&mut ctx, &request(PEER_MAC, PEER_IP, THIRD_IP), FrameDestination::Broadcast);
        assert_eq!(state(&arp, PEER_IP), None);
        assert!(ctx.take().is_empty());
        assert_eq!(arp.counters().drop_not_for_us, 1);
        // From a sender we know: its entry is updated (merge), still no reply.
        arp.receive(&mut ctx, &request(PEER_MAC, PEER_IP, OUR_IP), FrameDestination::Broadcast);
        ctx.take();
        arp.receive(&mut ctx, &request(OTHER_MAC, PEER_IP, THIRD_IP), FrameDestination::Broadcast);
        assert_eq!(state(&arp, PEER_IP), Some((NeighborState::Stale, Some(OTHER_MAC))));
        assert!(ctx.take().is_empty());
    }

    #[test]
    fn linux_arp_accept_0_unsolicited_reply_and_gratuitous_arp_create_no_entry() {
        let (mut ctx, mut arp) = setup();
        arp.receive(&mut ctx, &reply_to_us(PEER_MAC, PEER_IP), FrameDestination::Individual);
        arp.receive(&mut ctx, &ArpBuilder::announcement(PEER_MAC, PEER_IP), FrameDestination::Broadcast);
        assert!(arp.neighbors().is_empty());
        assert_eq!(arp.counters().drop_unsolicited, 2);
        assert!(ctx.take().is_empty());
    }

    #[test]
    fn resolution_broadcasts_requests_and_sends_queue_on_reply() {
        let (mut ctx, mut arp) = setup();
        assert_eq!(arp.send(&mut ctx, ua(PEER_IP), vec![1]), SendOutcome::Queued);
        assert_eq!(arp.send(&mut ctx, ua(PEER_IP), vec![2]), SendOutcome::Queued);
        assert_eq!(ctx.take(), [Out::Arp(Mac::BROADCAST, request(OUR_MAC, OUR_IP, PEER_IP))]);
        arp.receive(&mut ctx, &reply_to_us(PEER_MAC, PEER_IP), FrameDestination::Individual);
        assert_eq!(
            ctx.take(),
            [Out::Transmit(PEER_IP, PEER_MAC, vec![1]), Out::Transmit(PEER_IP, PEER_MAC, vec![2])]
        );
        assert_eq!(state(&arp, PEER_IP), Some((NeighborState::Reachable, Some(PEER_MAC))));
        assert_eq!(arp.send(&mut ctx, ua(PEER_IP), vec![3]), SendOutcome::Transmitted);
    }

    #[test]
    fn broadcast_reply_resolves_as_stale() {
        let (mut ctx, mut arp) = setup();
        arp.send(&mut ctx, ua(PEER_IP), vec![1]);
        let reply = ArpBuilder::reply(PEER_MAC, PEER_IP, Mac::BROADCAST, OUR_IP);
        arp.receive(&mut ctx, &reply, FrameDestination::Broadcast);
        // STALE, then DELAY because the queued packet went out (Linux: not PACKET_HOST).
        assert_eq!(state(&arp, PEER_IP), Some((NeighborState::Delay, Some(PEER_MAC))));
    }

    #[test]
    fn rfc4861_7_2_2_requests_retransmit_each_second_then_fail_queued_packets() {
        let (mut ctx, mut arp) = setup();
        arp.send(&mut ctx, ua(PEER_IP), vec![7]);
        advance(&mut ctx, &mut arp, secs(3));
        let request_out = Out::Arp(Mac::BROADCAST, request(OUR_MAC, OUR_IP, PEER_IP));
        let at = |s| Instant::ZERO + ANNOUNCE_INTERVAL + secs(s);
        assert_eq!(
            ctx.state.out,
            [
                (at(0), request_out.clone()),
                (at(1), request_out.clone()),
                (at(2), request_out),
                (at(3), Out::Failed(PEER_IP, vec![7]))
            ]
        );
        assert_eq!(state(&arp, PEER_IP), Some((NeighborState::Failed, None)));
        assert_eq!(arp.counters().tx_requests, 3);
    }

    #[test]
    fn probe_state_sends_unicast_requests_to_the_cached_address() {
        let (mut ctx, mut arp) = setup();
        arp.send(&mut ctx, ua(PEER_IP), vec![1]);
        arp.receive(&mut ctx, &reply_to_us(PEER_MAC, PEER_IP), FrameDestination::Individual);
        advance(&mut ctx, &mut arp, secs(46));
        assert_eq!(state(&arp, PEER_IP).map(|s| s.0), Some(NeighborState::Stale));
        arp.send(&mut ctx, ua(PEER_IP), vec![2]);
        ctx.take();
        advance(&mut ctx, &mut arp, secs(5));
        assert_eq!(ctx.take(), [Out::Arp(PEER_MAC, request(OUR_MAC, OUR_IP, PEER_IP))]);
        arp.receive(&mut ctx, &reply_to_us(PEER_MAC, PEER_IP), FrameDestination::Individual);
        assert_eq!(state(&arp, PEER_IP).map(|s| s.0), Some(NeighborState::Reachable));
    }

    #[test]
    fn request_source_is_our_address_on_the_targets_subnet() {
        let (mut ctx, mut arp) = setup();
        let other_net = Ipv4Addr::new([198, 51, 100, 1]);
        arp.add_address(&mut ctx, AddrSubnet::new(other_net, 24).unwrap(), false).unwrap();
        ctx.take();
        let target = Ipv4Addr::new([198, 51, 100, 9]);
        arp.send(&mut ctx, ua(target), vec![1]);
        assert_eq!(ctx.take(), [Out::Arp(Mac::BROADCAST, request(OUR_MAC, other_net, target))]);
    }

    #[test]
    fn bad_senders_are_dropped_and_counted() {
        let (mut ctx, mut arp) = setup();
        for mac in [Mac::BROADCAST, Mac::new([1, 0, 0x5e, 0, 0, 1]), Mac::UNSPECIFIED] {
            arp.receive(&mut ctx, &request(mac, PEER_IP, OUR_IP), FrameDestination::Broadcast);
        }
        for ip in [Ipv4Addr::new([224, 0, 0, 1]), Ipv4Addr::LIMITED_BROADCAST, Ipv4Addr::LOOPBACK] {
            arp.receive(&mut ctx, &request(PEER_MAC, ip, OUR_IP), FrameDestination::Broadcast);
        }
        arp.receive(&mut ctx, &request(OUR_MAC, OUR_IP, PEER_IP), FrameDestination::Broadcast);
        let c = arp.counters();
        assert_eq!((c.drop_bad_sender_mac, c.drop_bad_sender_ip, c.drop_own_packet), (3, 3, 1));
        assert!(arp.neighbors().is_empty());
        assert!(ctx.take().is_empty());
    }

    #[test]
    fn flood_of_requests_from_random_senders_keeps_the_table_bounded() {
        let config =
            ArpConfig { nud: NudConfig { max_entries: 64, ..NudConfig::default() }, ..ArpConfig::default() };
        let (mut ctx, mut arp) = setup_with(config);
        arp.add_address(&mut ctx, subnet(OUR_IP), false).unwrap();
        arp.add_static_neighbor(&mut ctx, ua(PEER_IP), PEER_MAC).unwrap();
        let mut rng = crate::testutil::fake::FakeRng::new(5);
        for _ in 0..5000 {
            let r = rng.random_u64();
            let sender = Ipv4Addr::from_u32(0x0a00_0000 | (r as u32 & 0x00ff_ffff));
            let mac = Mac::new([2, 0, (r >> 32) as u8, (r >> 40) as u8, (r >> 48) as u8, (r >> 56) as u8]);
            arp.receive(&mut ctx, &request(mac, sender, OUR_IP), FrameDestination::Broadcast);
            // Unsolicited replies and gratuitous ARP never add entries at all.
            arp.receive(
                &mut ctx,
                &ArpBuilder::announcement(mac, sender.mask(16)),
                FrameDestination::Broadcast,
            );
            assert!(arp.neighbors().len() <= 64);
        }
        assert_eq!(state(&arp, PEER_IP), Some((NeighborState::Static, Some(PEER_MAC))));
        assert!(arp.neighbors().counters().forced_evictions >= 4900);
    }

    #[test]
    fn queue_bound_applies_through_arp() {
        let nud = NudConfig { max_pending_packets: 2, ..NudConfig::default() };
        let (mut ctx, mut arp) = setup_with(ArpConfig { nud, ..ArpConfig::default() });
        for n in 0..5 {
            arp.send(&mut ctx, ua(PEER_IP), vec![n]);
        }
        assert_eq!(arp.neighbors().pending_packets(&PEER_IP), 2);
        assert_eq!(arp.neighbors().counters().unresolved_discards, 3);
        let big = vec![0; 70 * 1024];
        assert_eq!(arp.send(&mut ctx, ua(PEER_IP), big), SendOutcome::Dropped(SendDropReason::QueueFull));
    }

    /// Adds OUR_IP with conflict detection and returns when each probe went out.
    fn probe_schedule(ctx: &mut Ctx, arp: &mut Arp) -> Vec<Instant> {
        arp.add_address(ctx, subnet(OUR_IP), true).unwrap();
        assert!(!arp.is_usable(&OUR_IP));
        advance(ctx, arp, secs(7));
        let probe = Out::Arp(Mac::BROADCAST, ArpBuilder::probe(OUR_MAC, OUR_IP));
        ctx.state.out.iter().filter(|(_, o)| *o == probe).map(|(t, _)| *t).collect()
    }

    #[test]
    fn rfc5227_2_1_1_probe_schedule_and_claim() {
        for seed in 0..10 {
            let mut ctx = FakeCtx::with_state(seed, Host::default());
            let mut arp: Arp = ArpState::new(&mut ctx, DEV, OUR_MAC, ArpConfig::default());
            arp.add_address(&mut ctx, subnet(OUR_IP), true).unwrap();
            // Not ours while probing: requests for it get no reply.
            arp.receive(&mut ctx, &request(PEER_MAC, PEER_IP, OUR_IP), FrameDestination::Broadcast);
            advance(&mut ctx, &mut arp, secs(20));
            let probe = Out::Arp(Mac::BROADCAST, ArpBuilder::probe(OUR_MAC, OUR_IP));
            let announce = Out::Arp(Mac::BROADCAST, ArpBuilder::announcement(OUR_MAC, OUR_IP));
            let ready = Out::Acd(AcdEvent::Ready { device: DEV, addr: OUR_IP });
            let kinds: Vec<&Out> = ctx.state.out.iter().map(|(_, o)| o).collect();
            assert_eq!(kinds, [&probe, &probe, &probe, &ready, &announce, &announce], "seed {seed}");
            let t: Vec<Instant> = ctx.state.out.iter().map(|(t, _)| *t).collect();
            assert!(t[0] - Instant::ZERO < PROBE_WAIT, "first probe within PROBE_WAIT");
            for gap in [t[1] - t[0], t[2] - t[1]] {
                assert!((PROBE_MIN..=PROBE_MAX).contains(&gap), "seed {seed}: gap {gap:?}");
            }
            assert_eq!(t[3] - t[2], ANNOUNCE_WAIT);
            assert_eq!(t[4], t[3], "first announcement as soon as the address is claimed");
            assert_eq!(t[5] - t[4], ANNOUNCE_INTERVAL);
            assert!(arp.is_usable(&OUR_IP));
            assert_eq!(arp.counters().tx_probes, 3);
            assert_eq!(arp.counters().tx_announcements, 2);
        }
    }

    #[test]
    fn rfc5227_2_3_address_without_detection_is_announced_twice() {
        let (mut ctx, mut arp) = setup_with(ArpConfig::default());
        arp.add_address(&mut ctx, subnet(OUR_IP), false).unwrap();
        assert!(arp.is_usable(&OUR_IP));
        advance(&mut ctx, &mut arp, secs(10));
        let announce = Out::Arp(Mac::BROADCAST, ArpBuilder::announcement(OUR_MAC, OUR_IP));
        assert_eq!(
            ctx.state.out,
            [(Instant::ZERO, announce.clone()), (Instant::ZERO + ANNOUNCE_INTERVAL, announce)]
        );
        assert!(ctx.timers().is_empty());
    }

    fn expect_probing_conflict(ctx: &mut Ctx, arp: &Arp, other: Mac) {
        assert_eq!(
            ctx.state.out.last().map(|(_, o)| o.clone()),
            Some(Out::Acd(AcdEvent::Conflict {
                device: DEV,
                addr: OUR_IP,
                phase: ConflictPhase::Probing,
                other
            }))
        );
        assert!(arp.addresses().next().is_none(), "the address is not used");
        assert!(ctx.timers().is_empty(), "probing stops");
    }

    #[test]
    fn rfc5227_2_1_1_packet_from_our_candidate_is_a_conflict() {
        // (probes sent before the packet arrives, packet): the last is during ANNOUNCE_WAIT.
        for (probes, packet) in [
            (0, ArpBuilder::reply(PEER_MAC, OUR_IP, OUR_MAC, Ipv4Addr::UNSPECIFIED)),
            (2, request(PEER_MAC, OUR_IP, THIRD_IP)),
            (3, ArpBuilder::announcement(PEER_MAC, OUR_IP)),
        ] {
            let (mut ctx, mut arp) = setup_with(ArpConfig::default());
            arp.add_address(&mut ctx, subnet(OUR_IP), true).unwrap();
            while arp.counters().tx_probes < probes {
                advance(&mut ctx, &mut arp, Duration::from_millis(100));
            }
            advance(&mut ctx, &mut arp, Duration::from_millis(100));
            assert!(!arp.is_usable(&OUR_IP));
            arp.receive(&mut ctx, &packet, FrameDestination::Broadcast);
            expect_probing_conflict(&mut ctx, &arp, PEER_MAC);
            assert_eq!(arp.counters().conflicts, 1);
            assert!(arp.neighbors().is_empty(), "a conflicting sender is not learned");
        }
    }

    #[test]
    fn rfc5227_2_1_1_probe_from_another_host_for_our_candidate_is_a_conflict() {
        let (mut ctx, mut arp) = setup_with(ArpConfig::default());
        let times = probe_schedule(&mut ctx, &mut arp);
        assert_eq!(times.len(), 3);
        let (mut ctx, mut arp) = setup_with(ArpConfig::default());
        arp.add_address(&mut ctx, subnet(OUR_IP), true).unwrap();
        advance(&mut ctx, &mut arp, secs(1));
        // Our own probe looped back is not a conflict.
        arp.receive(&mut ctx, &ArpBuilder::probe(OUR_MAC, OUR_IP), FrameDestination::Broadcast);
        assert_eq!(arp.counters().conflicts, 0);
        arp.receive(&mut ctx, &ArpBuilder::probe(OTHER_MAC, OUR_IP), FrameDestination::Broadcast);
        expect_probing_conflict(&mut ctx, &arp, OTHER_MAC);
    }

    #[test]
    fn probe_for_an_address_in_use_is_answered() {
        let (mut ctx, mut arp) = setup();
        arp.receive(&mut ctx, &ArpBuilder::probe(PEER_MAC, OUR_IP), FrameDestination::Broadcast);
        assert_eq!(
            ctx.take(),
            [Out::Arp(PEER_MAC, ArpBuilder::reply(OUR_MAC, OUR_IP, PEER_MAC, Ipv4Addr::UNSPECIFIED))]
        );
        assert!(arp.neighbors().is_empty(), "a prober has no address to learn");
    }

    #[test]
    fn rfc5227_2_4_defends_once_then_gives_up_within_defend_interval() {
        let (mut ctx, mut arp) = setup();
        let conflicting = ArpBuilder::announcement(PEER_MAC, OUR_IP);
        let announce = Out::Arp(Mac::BROADCAST, ArpBuilder::announcement(OUR_MAC, OUR_IP));
        arp.receive(&mut ctx, &conflicting, FrameDestination::Broadcast);
        assert_eq!(
            ctx.take(),
            core::slice::from_ref(&announce),
            "first conflict: one defending announcement"
        );
        assert!(arp.is_usable(&OUR_IP));
        // After DEFEND_INTERVAL, a new conflict is defended again.
        advance(&mut ctx, &mut arp, DEFEND_INTERVAL);
        arp.receive(&mut ctx, &conflicting, FrameDestination::Broadcast);
        assert_eq!(ctx.take(), [announce]);
        // A second conflict within DEFEND_INTERVAL: give the address up and report it.
        advance(&mut ctx, &mut arp, DEFEND_INTERVAL - Duration::from_millis(1));
        arp.receive(&mut ctx, &conflicting, FrameDestination::Broadcast);
        assert_eq!(
            ctx.take(),
            [Out::Acd(AcdEvent::Conflict {
                device: DEV,
                addr: OUR_IP,
                phase: ConflictPhase::InUse,
                other: PEER_MAC
            })]
        );
        assert!(!arp.is_usable(&OUR_IP));
        assert_eq!((arp.counters().conflicts, arp.counters().defended), (3, 2));
        assert!(arp.neighbors().get(&OUR_IP).is_none(), "our address never becomes a neighbour");
    }

    #[test]
    fn address_api_errors() {
        let (mut ctx, mut arp) = setup_with(ArpConfig { max_addresses: 1, ..ArpConfig::default() });
        arp.add_address(&mut ctx, subnet(OUR_IP), true).unwrap();
        assert_eq!(
            arp.add_address(&mut ctx, subnet(OUR_IP), false),
            Err(ArpError::AddressExists { device: DEV, addr: OUR_IP })
        );
        assert_eq!(
            arp.add_address(&mut ctx, subnet(PEER_IP), false),
            Err(ArpError::TooManyAddresses { device: DEV, addr: PEER_IP, limit: 1 })
        );
        arp.remove_address(&mut ctx, &OUR_IP).unwrap();
        assert!(ctx.timers().is_empty(), "probing stops with the address");
        assert_eq!(
            arp.remove_address(&mut ctx, &OUR_IP),
            Err(ArpError::AddressNotFound { device: DEV, addr: OUR_IP })
        );
        assert!(matches!(
            arp.remove_neighbor(&mut ctx, &PEER_IP),
            Err(ArpError::Neighbor(NudError::NotFound { .. }))
        ));
    }

    fn arb_packet() -> impl Strategy<Value = ArpBuilder> {
        let ip = prop_oneof![
            Just(OUR_IP),
            Just(PEER_IP),
            Just(Ipv4Addr::UNSPECIFIED),
            Just(Ipv4Addr::LIMITED_BROADCAST),
            (0u32..40).prop_map(|n| Ipv4Addr::from_u32(0xc000_0200 + n)),
        ];
        let mac = prop_oneof![
            Just(OUR_MAC),
            Just(PEER_MAC),
            Just(Mac::BROADCAST),
            any::<[u8; 6]>().prop_map(Mac::new)
        ];
        (any::<bool>(), mac.clone(), ip.clone(), mac, ip).prop_map(
            |(reply, sender_mac, sender_ip, target_mac, target_ip)| ArpBuilder {
                op: if reply { ArpOp::Reply } else { ArpOp::Request },
                sender_mac,
                sender_ip,
                target_mac,
                target_ip,
            },
        )
    }

    proptest! {
        #[test]
        fn arbitrary_packets_and_sends_never_panic_and_stay_bounded(
            steps in proptest::collection::vec((arb_packet(), any::<bool>(), 2u8..40, 0u16..3000), 1..150),
            detect in any::<bool>(),
        ) {
            let config = ArpConfig { nud: NudConfig { max_entries: 8, max_pending_packets: 2, ..NudConfig::default() }, max_addresses: 2 };
            let (mut ctx, mut arp) = setup_with(config);
            arp.add_address(&mut ctx, subnet(OUR_IP), detect).unwrap();
            for (packet, unicast, dst, ms) in steps {
                let frame = if unicast { FrameDestination::Individual } else { FrameDestination::Broadcast };
                arp.receive(&mut ctx, &packet, frame);
                if let Some(dst) = UnicastAddr::new(Ipv4Addr::from_u32(0xc000_0200 + u32::from(dst))) {
                    arp.send(&mut ctx, dst, vec![0; 10]);
                }
                advance(&mut ctx, &mut arp, Duration::from_millis(ms.into()));
                prop_assert!(arp.neighbors().len() <= 8);
                prop_assert!(arp.neighbors().pending_bytes() <= 8 * 2 * 10);
                // While the address is ours, it is never a neighbour.
                let ours = arp.addresses().count();
                prop_assert!(ours <= 1);
                prop_assert!(ours == 0 || arp.neighbors().get(&OUR_IP).is_none());
            }
        }
    }
}
