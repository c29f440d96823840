//! IPv6 Duplicate Address Detection (RFC 4862 §5.4) with Enhanced DAD's loopback detection
//! (RFC 7527), as a sans-I/O state machine.
//!
//! An address handed to [`Dad::start`] is tentative: its solicited-node group is joined and
//! DupAddrDetectTransmits Neighbor Solicitations from `::` probe for it, RetransTimer apart
//! (§5.4.2). If nobody objects within RetransTimer of the last probe, the address is assigned
//! (reported by [`Dad::handle_timer`]). A Neighbor Solicitation from `::` for it from another
//! node (§5.4.3) or any Neighbor Advertisement for it (§5.4.4) makes it a duplicate instead,
//! reported by the `handle_neighbor_*` calls. Each probe carries a Nonce option (RFC 7527
//! §4.1) so that a probe of ours looped back by the link is recognised and ignored (§4.2).
//!
//! The state machine keeps one entry per address from [`Dad::start`] until [`Dad::remove`] (or
//! a duplicate), so it owns the solicited-node group membership: it joins when it starts and
//! leaves when the entry goes. Joins and leaves come in pairs per address; two addresses with
//! the same low 24 bits share a group, so the context must count references.
//!
//! Linux differences: Linux delays every first probe by a random 0..rtr_solicit_delay; here
//! only addresses started with [`DadStart::delay_first`] are, as RFC 4862 §5.4.2 asks for
//! the first message after an interface (re)initialises. Like Linux (and unlike §5.4.2's
//! SHOULD), the group is joined at once and only the probe is delayed. Like Linux, one nonce
//! serves every probe of a run.

use alloc::collections::BTreeMap;
use core::time::Duration;

use crate::addr::{Ipv6Addr, MulticastAddr, UnicastAddr};
use crate::context::{RngContext, TimerContext};
use crate::device::DeviceId;

/// MAX_RTR_SOLICITATION_DELAY (RFC 4861 §10): the bound of the random delay before the first
/// probe after an interface comes up (RFC 4862 §5.4.2).
pub const MAX_RTR_SOLICITATION_DELAY: Duration = Duration::from_secs(1);

/// RetransTimer's default (RFC 4861 §10, RETRANS_TIMER; Linux `retrans_time_ms` 1000).
pub const RETRANS_TIMER_DEFAULT: Duration = Duration::from_secs(1);

/// Length of the nonce each probe carries: a Nonce option of Length 1 (RFC 7527 §4.1, RFC 3971
/// §5.3.2).
pub const NONCE_LEN: usize = 6;

/// DAD settings for an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DadConfig {
    /// DupAddrDetectTransmits (RFC 4862 §5.1): probes sent per address; 0 turns DAD off and
    /// addresses are assigned at once. Linux `dad_transmits`, default 1.
    pub transmits: u8,
    /// RetransTimer (RFC 4861 §6.3.2): time between probes and after the last one. Linux
    /// `retrans_time_ms`, default 1 s.
    pub retrans_timer: Duration,
    /// The bound of the random delay before the first probe of an address started with
    /// [`DadStart::delay_first`] (RFC 4862 §5.4.2). Linux `rtr_solicit_delay`, default 1 s.
    pub max_first_delay: Duration,
    /// Enhanced DAD (RFC 7527): probes carry a nonce and looped-back probes are ignored.
    /// Linux `enhanced_dad`, default on.
    pub enhanced: bool,
    /// Whether a duplicate of a link-local address formed from the hardware address asks for
    /// IPv6 to be disabled on the interface (RFC 4862 §5.4.5 SHOULD; default on). Linux does
    /// so only with `accept_dad` 2; its default, 1, just removes the address.
    pub disable_ipv6_on_hardware_duplicate: bool,
}

impl Default for DadConfig {
    fn default() -> Self {
        Self {
            transmits: 1,
            retrans_timer: RETRANS_TIMER_DEFAULT,
            max_first_delay: MAX_RTR_SOLICITATION_DELAY,
            enhanced: true,
            disable_ipv6_on_hardware_duplicate: true,
        }
    }
}

/// The timer of one address's DAD: the next probe, or the end of the wait after the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DadTimerId {
    /// The interface.
    pub device: DeviceId,
    /// The tentative address.
    pub addr: Ipv6Addr,
}

/// The random bytes of a probe's Nonce option (RFC 7527 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DadNonce(pub [u8; NONCE_LEN]);

/// What DAD needs from the stack around it.
pub trait DadContext {
    /// Sends a DAD probe (RFC 4862 §5.4.2): a Neighbor Solicitation from `::` to the
    /// solicited-node group of `target`, with no Source Link-Layer Address option and, when
    /// `nonce` is given, a Nonce option carrying it.
    fn send_dad_solicitation(
        &mut self,
        device: DeviceId,
        target: UnicastAddr<Ipv6Addr>,
        nonce: Option<DadNonce>,
    );

    /// Joins `group`, the solicited-node group of an address being started (RFC 4862
    /// §5.4.2). Reference-counted by the implementation.
    fn join_solicited_node_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>);

    /// Leaves `group` for an address being removed; pairs with one earlier join.
    fn leave_solicited_node_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>);
}

/// How to start DAD on an address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DadStart {
    /// The interface has just come up and this may be its first message: delay the first
    /// probe by a random 0..[`DadConfig::max_first_delay`] (RFC 4862 §5.4.2).
    pub delay_first: bool,
    /// The address is a link-local address whose identifier comes from the hardware address
    /// (modified EUI-64): a duplicate means the hardware address is too (RFC 4862 §5.4.5).
    pub hardware_link_local: bool,
    /// The interface does no DAD: like Linux on loopback and `IFF_NOARP` (TUN) devices, the
    /// address is assigned at once.
    pub skip: bool,
}

/// Where an address tracked by DAD stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DadState {
    /// Still being probed for; not to be used as a source nor answered for (RFC 4862 §5.4).
    Tentative,
    /// Passed (or DAD is off): the address may be used.
    Assigned,
}

/// A duplicate was found; DAD on the address has stopped, its entry is gone and its
/// solicited-node group was left. The caller removes the address (RFC 4862 §5.4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateAddress {
    /// The interface.
    pub device: DeviceId,
    /// The address.
    pub addr: Ipv6Addr,
    /// The address was a hardware-derived link-local one, and the configuration asks for IPv6
    /// to be disabled on the interface (RFC 4862 §5.4.5).
    pub disable_ipv6: bool,
}

/// What the caller should do with a received Neighbor Solicitation, as far as DAD is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NsDisposition {
    /// The target is not tentative here: process the solicitation as usual (RFC 4861 §7.2.3).
    NotTentative,
    /// The target is tentative and the source is unicast: another node resolving it. Drop it
    /// silently; a node MUST NOT answer for a tentative address (RFC 4862 §5.4.3).
    IgnoredTentative,
    /// One of our own probes came back (its nonce is ours): dropped (RFC 7527 §4.2).
    LoopedBack,
    /// Another node is probing for the same address: it is a duplicate (RFC 4862 §5.4.3).
    Duplicate(DuplicateAddress),
}

/// Why DAD could not start on an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DadError {
    /// DAD already tracks the address on the interface.
    #[error("DAD already tracks {addr} on {device}")]
    AlreadyTracked {
        /// The interface.
        device: DeviceId,
        /// The address.
        addr: Ipv6Addr,
    },
    /// The interface already has as many addresses as allowed.
    #[error("{device} already has {limit} addresses under DAD")]
    TooManyAddresses {
        /// The interface.
        device: DeviceId,
        /// The limit.
        limit: usize,
    },
}

/// Events and drops, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DadCounters {
    /// Addresses DAD started on.
    pub started: u64,
    /// Probes sent.
    pub probes_sent: u64,
    /// Addresses assigned (DAD passed or off).
    pub assigned: u64,
    /// Duplicates found by a solicitation from `::` (RFC 4862 §5.4.3).
    pub duplicates_from_solicitation: u64,
    /// Duplicates found by an advertisement (RFC 4862 §5.4.4).
    pub duplicates_from_advertisement: u64,
    /// Looped-back probes of ours ignored (RFC 7527 §4.2).
    pub looped_back: u64,
    /// Solicitations for a tentative address from a unicast source, ignored (RFC 4862 §5.4.3).
    pub unicast_solicitations_ignored: u64,
    /// Starts refused: the interface's limit was reached.
    pub refused_too_many: u64,
    /// Starts refused: the address was already tracked.
    pub refused_already_tracked: u64,
}

#[derive(Clone, Debug)]
struct DadEntry {
    /// Probes still to send while tentative; `None` once assigned.
    remaining: Option<u8>,
    /// The nonce this run's probes carry (RFC 7527 §4.1); `None` without enhanced DAD.
    nonce: Option<DadNonce>,
    hardware_link_local: bool,
}

/// Duplicate Address Detection for every address of every interface.
#[derive(Clone, Debug)]
pub struct Dad {
    config: DadConfig,
    max_per_device: usize,
    entries: BTreeMap<(DeviceId, Ipv6Addr), DadEntry>,
    counters: DadCounters,
}

impl Dad {
    /// DAD with `config`, tracking at most `max_per_device` addresses per interface.
    pub fn new(config: DadConfig, max_per_device: usize) -> Self {
        Self { config, max_per_device, entries: BTreeMap::new(), counters: DadCounters::default() }
    }

    /// The configuration.
    pub fn config(&self) -> &DadConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &DadCounters {
        &self.counters
    }

    /// Where `addr` on `device` stands, if DAD tracks it.
    pub fn state(&self, device: DeviceId, addr: Ipv6Addr) -> Option<DadState> {
        self.entries.get(&(device, addr)).map(|e| match e.remaining {
            Some(_) => DadState::Tentative,
            None => DadState::Assigned,
        })
    }

    /// How many addresses DAD tracks on `device`.
    pub fn tracked(&self, device: DeviceId) -> usize {
        self.entries.range((device, Ipv6Addr::UNSPECIFIED)..=(device, Ipv6Addr::new([0xff; 16]))).count()
    }

    /// Starts DAD on `addr`: joins its solicited-node group and probes for it (RFC 4862
    /// §5.4.2), at once or after a random delay (`start.delay_first`). Returns
    /// [`DadState::Assigned`] when DAD is off (DupAddrDetectTransmits 0, §5.4) and the address
    /// may be used at once, [`DadState::Tentative`] otherwise.
    pub fn start<I, C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: UnicastAddr<Ipv6Addr>,
        start: DadStart,
    ) -> Result<DadState, DadError>
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + RngContext + DadContext,
    {
        let key = (device, addr.get());
        if self.entries.contains_key(&key) {
            self.counters.refused_already_tracked += 1;
            return Err(DadError::AlreadyTracked { device, addr: addr.get() });
        }
        if self.tracked(device) >= self.max_per_device {
            self.counters.refused_too_many += 1;
            return Err(DadError::TooManyAddresses { device, limit: self.max_per_device });
        }
        self.counters.started += 1;
        ctx.join_solicited_node_group(device, solicited_node(addr));
        if self.config.transmits == 0 || start.skip {
            // RFC 4862 §5.4: DupAddrDetectTransmits 0 means no DAD.
            self.entries.insert(
                key,
                DadEntry { remaining: None, nonce: None, hardware_link_local: start.hardware_link_local },
            );
            self.counters.assigned += 1;
            return Ok(DadState::Assigned);
        }
        let nonce = self.config.enhanced.then(|| {
            let random = ctx.random_u64().to_be_bytes();
            let mut nonce = [0; NONCE_LEN];
            nonce.copy_from_slice(&random[..NONCE_LEN]);
            DadNonce(nonce)
        });
        self.entries.insert(
            key,
            DadEntry {
                remaining: Some(self.config.transmits),
                nonce,
                hardware_link_local: start.hardware_link_local,
            },
        );
        if start.delay_first {
            // RFC 4862 §5.4.2: the first message after (re)initialisation waits a random
            // 0..MAX_RTR_SOLICITATION_DELAY.
            let delay = ctx.random_duration(Duration::ZERO..self.config.max_first_delay);
            ctx.schedule_timer_after(I::from(DadTimerId { device, addr: addr.get() }), delay);
        } else {
            self.probe(ctx, device, addr);
        }
        Ok(DadState::Tentative)
    }

    /// Sends the next probe for a tentative `addr` and schedules what follows it, RetransTimer
    /// later (RFC 4862 §5.4.2): the next probe, or the end of DAD.
    fn probe<I, C>(&mut self, ctx: &mut C, device: DeviceId, addr: UnicastAddr<Ipv6Addr>)
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + DadContext,
    {
        let Some(entry) = self.entries.get_mut(&(device, addr.get())) else { return };
        let Some(remaining) = entry.remaining.as_mut() else { return };
        *remaining = remaining.saturating_sub(1);
        self.counters.probes_sent += 1;
        ctx.send_dad_solicitation(device, addr, entry.nonce);
        ctx.schedule_timer_after(I::from(DadTimerId { device, addr: addr.get() }), self.config.retrans_timer);
    }

    /// Handles the DAD timer `id`: sends the next probe, or, RetransTimer after the last probe
    /// with no duplicate seen, assigns the address (RFC 4862 §5.4) and returns
    /// [`DadState::Assigned`]. Returns `None` when nothing was decided (or the timer was stale).
    pub fn handle_timer<I, C>(&mut self, ctx: &mut C, id: DadTimerId) -> Option<DadState>
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + DadContext,
    {
        let entry = self.entries.get_mut(&(id.device, id.addr))?;
        match entry.remaining? {
            0 => {
                entry.remaining = None;
                entry.nonce = None;
                self.counters.assigned += 1;
                Some(DadState::Assigned)
            }
            _ => {
                let addr = UnicastAddr::new(id.addr)?;
                self.probe(ctx, id.device, addr);
                None
            }
        }
    }

    /// Handles a Neighbor Solicitation for `target` from `source` received on `device`, with
    /// the bytes of its first Nonce option if it has one. The message must have passed RFC
    /// 4861 §7.1.1 validation (so a solicitation from `::` was sent to a solicited-node group).
    pub fn handle_neighbor_solicitation<I, C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        source: Ipv6Addr,
        target: Ipv6Addr,
        nonce: Option<&[u8]>,
    ) -> NsDisposition
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + DadContext,
    {
        let Some(entry) = self.entries.get(&(device, target)) else { return NsDisposition::NotTentative };
        if entry.remaining.is_none() {
            return NsDisposition::NotTentative;
        }
        if !source.is_unspecified() {
            // RFC 4862 §5.4.3: a unicast source is resolving the address; ignore, never answer.
            self.counters.unicast_solicitations_ignored += 1;
            return NsDisposition::IgnoredTentative;
        }
        if let (Some(ours), Some(theirs)) = (entry.nonce, nonce) {
            if ours.0[..] == *theirs {
                // RFC 7527 §4.2: our own probe, looped back by the link.
                self.counters.looped_back += 1;
                return NsDisposition::LoopedBack;
            }
        }
        // RFC 4862 §5.4.3: another node is probing for our tentative address.
        self.counters.duplicates_from_solicitation += 1;
        NsDisposition::Duplicate(self.duplicate(ctx, device, target))
    }

    /// Handles a Neighbor Advertisement for `target` received on `device`: if the target is
    /// tentative, it is a duplicate (RFC 4862 §5.4.4) and that is returned. `None` means DAD
    /// has no interest in it and it is processed as usual (RFC 4861 §7.2.5).
    pub fn handle_neighbor_advertisement<I, C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        target: Ipv6Addr,
    ) -> Option<DuplicateAddress>
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + DadContext,
    {
        self.entries.get(&(device, target))?.remaining?;
        self.counters.duplicates_from_advertisement += 1;
        Some(self.duplicate(ctx, device, target))
    }

    /// Stops tracking `addr` (the address is being removed): cancels its timer and leaves its
    /// solicited-node group. Returns whether it was tracked.
    pub fn remove<I, C>(&mut self, ctx: &mut C, device: DeviceId, addr: Ipv6Addr) -> bool
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + DadContext,
    {
        self.remove_entry(ctx, device, addr).is_some()
    }

    fn duplicate<I, C>(&mut self, ctx: &mut C, device: DeviceId, addr: Ipv6Addr) -> DuplicateAddress
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + DadContext,
    {
        let hardware_link_local = self.remove_entry(ctx, device, addr).is_some_and(|e| e.hardware_link_local);
        // RFC 4862 §5.4.5: a duplicate hardware-derived link-local address means a duplicate
        // hardware address; IP operation on the interface SHOULD be disabled.
        let disable_ipv6 = hardware_link_local && self.config.disable_ipv6_on_hardware_duplicate;
        DuplicateAddress { device, addr, disable_ipv6 }
    }

    fn remove_entry<I, C>(&mut self, ctx: &mut C, device: DeviceId, addr: Ipv6Addr) -> Option<DadEntry>
    where
        I: From<DadTimerId>,
        C: TimerContext<I> + DadContext,
    {
        let entry = self.entries.remove(&(device, addr))?;
        ctx.cancel_timer(&I::from(DadTimerId { device, addr }));
        if let Some(unicast) = UnicastAddr::new(addr) {
            ctx.leave_solicited_node_group(device, solicited_node(unicast));
        }
        Some(entry)
    }
}

/// The solicited-node group of `addr` (RFC 4291 §2.7.1).
fn solicited_node(addr: UnicastAddr<Ipv6Addr>) -> MulticastAddr<Ipv6Addr> {
    // ff02::1:ffXX:XXXX is multicast by construction.
    MulticastAddr::new_unchecked(addr.get().to_solicited_node())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::InstantContext;
    use crate::testutil::fake::FakeCtx;
    use crate::time::Instant;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// What the fake stack saw DAD do.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Action {
        Probe { at: Instant, target: Ipv6Addr, nonce: Option<DadNonce> },
        Join(Ipv6Addr),
        Leave(Ipv6Addr),
    }

    /// The fake host, recording what DAD did.
    type Ctx = FakeCtx<DadTimerId, Vec<Action>>;

    fn new_ctx(seed: u64) -> Ctx {
        FakeCtx::with_state(seed, Vec::new())
    }

    fn probes(ctx: &Ctx) -> Vec<(Instant, Option<DadNonce>)> {
        ctx.state
            .iter()
            .filter_map(|a| match a {
                Action::Probe { at, nonce, .. } => Some((*at, *nonce)),
                _ => None,
            })
            .collect()
    }

    impl DadContext for Ctx {
        fn send_dad_solicitation(
            &mut self,
            _: DeviceId,
            target: UnicastAddr<Ipv6Addr>,
            nonce: Option<DadNonce>,
        ) {
            let at = self.now();
            self.state.push(Action::Probe { at, target: target.get(), nonce });
        }

        fn join_solicited_node_group(&mut self, _: DeviceId, group: MulticastAddr<Ipv6Addr>) {
            self.state.push(Action::Join(group.get()));
        }

        fn leave_solicited_node_group(&mut self, _: DeviceId, group: MulticastAddr<Ipv6Addr>) {
            self.state.push(Action::Leave(group.get()));
        }
    }

    const DEV: DeviceId = DeviceId::new(1);

    fn addr() -> UnicastAddr<Ipv6Addr> {
        UnicastAddr::new("2001:db8::1:2:3".parse().unwrap()).unwrap()
    }

    fn secs(s: u64) -> Instant {
        Instant::from_nanos(s * 1_000_000_000)
    }

    /// Fires DAD timers up to `deadline`, collecting the assignments.
    fn run_until(dad: &mut Dad, ctx: &mut Ctx, deadline: Instant) -> Vec<(Instant, Ipv6Addr)> {
        let mut assigned = vec![];
        while let Some(id) = ctx.pop_due(deadline) {
            if dad.handle_timer(ctx, id) == Some(DadState::Assigned) {
                assigned.push((ctx.now(), id.addr));
            }
        }
        ctx.advance_to(deadline, |_, _| {});
        assigned
    }

    fn dad_with(transmits: u8) -> Dad {
        Dad::new(DadConfig { transmits, ..DadConfig::default() }, 4)
    }

    #[test]
    fn rfc4862_s5_4_2_one_probe_then_assigned_after_retrans_timer() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(1);
        assert_eq!(dad.start(&mut ctx, DEV, addr(), DadStart::default()), Ok(DadState::Tentative));
        assert_eq!(dad.state(DEV, addr().get()), Some(DadState::Tentative));
        // Joined the solicited-node group before probing, probe sent at once.
        assert_eq!(ctx.state[0], Action::Join(addr().get().to_solicited_node()));
        assert_eq!(probes(&ctx).len(), 1);
        assert_eq!(probes(&ctx)[0].0, secs(0));
        assert_eq!(run_until(&mut dad, &mut ctx, Instant::from_nanos(999_999_999)), vec![]);
        assert_eq!(run_until(&mut dad, &mut ctx, secs(1)), vec![(secs(1), addr().get())]);
        assert_eq!(dad.state(DEV, addr().get()), Some(DadState::Assigned));
        assert_eq!(dad.counters().probes_sent, 1);
        assert_eq!(dad.counters().assigned, 1);
        assert!(ctx.timers().is_empty());
    }

    #[test]
    fn rfc4862_s5_4_2_transmits_probes_retrans_timer_apart() {
        let mut dad = Dad::new(
            DadConfig { transmits: 3, retrans_timer: Duration::from_millis(500), ..DadConfig::default() },
            4,
        );
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        let assigned = run_until(&mut dad, &mut ctx, secs(10));
        let times: Vec<Instant> = probes(&ctx).iter().map(|p| p.0).collect();
        assert_eq!(times, [secs(0), Instant::from_nanos(500_000_000), secs(1)]);
        assert_eq!(assigned, [(Instant::from_nanos(1_500_000_000), addr().get())]);
        // RFC 7527 §4.1: every probe carries a nonce (one per run, as Linux does).
        let nonces: Vec<_> = probes(&ctx).iter().map(|p| p.1).collect();
        assert!(nonces[0].is_some());
        assert!(nonces.iter().all(|n| *n == nonces[0]));
    }

    #[test]
    fn rfc4862_s5_4_2_first_probe_delayed_when_interface_just_came_up() {
        for seed in 0..20 {
            let mut dad = dad_with(1);
            let mut ctx = new_ctx(seed);
            dad.start(&mut ctx, DEV, addr(), DadStart { delay_first: true, ..DadStart::default() }).unwrap();
            // Group joined at once; the probe waits.
            assert_eq!(ctx.state, [Action::Join(addr().get().to_solicited_node())]);
            let assigned = run_until(&mut dad, &mut ctx, secs(3));
            let probes = probes(&ctx);
            assert_eq!(probes.len(), 1);
            assert!(probes[0].0 < secs(1), "delay {:?} not below MAX_RTR_SOLICITATION_DELAY", probes[0].0);
            assert_eq!(assigned, [(probes[0].0 + Duration::from_secs(1), addr().get())]);
        }
    }

    #[test]
    fn rfc4862_s5_4_zero_transmits_disables_dad() {
        let mut dad = dad_with(0);
        let mut ctx = new_ctx(1);
        assert_eq!(dad.start(&mut ctx, DEV, addr(), DadStart::default()), Ok(DadState::Assigned));
        assert_eq!(dad.state(DEV, addr().get()), Some(DadState::Assigned));
        assert!(probes(&ctx).is_empty());
        assert!(ctx.timers().is_empty());
        // The group is still joined: neighbour discovery needs it (RFC 4861 §7.2.1).
        assert_eq!(ctx.state, [Action::Join(addr().get().to_solicited_node())]);
        // An advertisement for an assigned address is not DAD's business.
        assert_eq!(dad.handle_neighbor_advertisement(&mut ctx, DEV, addr().get()), None);
    }

    #[test]
    fn rfc4862_s5_4_4_advertisement_for_tentative_address_is_duplicate() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        let dup = dad.handle_neighbor_advertisement(&mut ctx, DEV, addr().get());
        assert_eq!(dup, Some(DuplicateAddress { device: DEV, addr: addr().get(), disable_ipv6: false }));
        assert_eq!(dad.state(DEV, addr().get()), None);
        assert_eq!(ctx.state.last(), Some(&Action::Leave(addr().get().to_solicited_node())));
        assert!(ctx.timers().is_empty(), "no assignment may follow");
        assert_eq!(dad.counters().duplicates_from_advertisement, 1);
    }

    #[test]
    fn rfc4862_s5_4_3_solicitation_from_unspecified_with_foreign_nonce_is_duplicate() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        let ours = probes(&ctx)[0].1.unwrap();
        let mut foreign = ours.0;
        foreign[0] ^= 1;
        let got = dad.handle_neighbor_solicitation(
            &mut ctx,
            DEV,
            Ipv6Addr::UNSPECIFIED,
            addr().get(),
            Some(&foreign),
        );
        assert_eq!(
            got,
            NsDisposition::Duplicate(DuplicateAddress {
                device: DEV,
                addr: addr().get(),
                disable_ipv6: false
            })
        );
        assert_eq!(dad.counters().duplicates_from_solicitation, 1);
        assert_eq!(run_until(&mut dad, &mut ctx, secs(5)), vec![]);
    }

    #[test]
    fn rfc4862_s5_4_3_solicitation_from_unspecified_without_nonce_is_duplicate() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        let got = dad.handle_neighbor_solicitation(&mut ctx, DEV, Ipv6Addr::UNSPECIFIED, addr().get(), None);
        assert!(matches!(got, NsDisposition::Duplicate(_)));
    }

    #[test]
    fn rfc7527_s4_2_looped_back_probe_is_ignored() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        let ours = probes(&ctx)[0].1.unwrap();
        let got = dad.handle_neighbor_solicitation(
            &mut ctx,
            DEV,
            Ipv6Addr::UNSPECIFIED,
            addr().get(),
            Some(&ours.0),
        );
        assert_eq!(got, NsDisposition::LoopedBack);
        assert_eq!(dad.counters().looped_back, 1);
        // DAD carries on and succeeds.
        assert_eq!(run_until(&mut dad, &mut ctx, secs(1)), vec![(secs(1), addr().get())]);
    }

    #[test]
    fn rfc7527_without_enhanced_dad_probes_carry_no_nonce_and_loops_are_duplicates() {
        let mut dad = Dad::new(DadConfig { enhanced: false, ..DadConfig::default() }, 4);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        assert_eq!(probes(&ctx)[0].1, None);
        let got = dad.handle_neighbor_solicitation(
            &mut ctx,
            DEV,
            Ipv6Addr::UNSPECIFIED,
            addr().get(),
            Some(&[0; 6]),
        );
        assert!(matches!(got, NsDisposition::Duplicate(_)));
    }

    #[test]
    fn rfc4862_s5_4_3_solicitation_from_unicast_source_is_ignored_while_tentative() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        let source = "2001:db8::99".parse().unwrap();
        assert_eq!(
            dad.handle_neighbor_solicitation(&mut ctx, DEV, source, addr().get(), None),
            NsDisposition::IgnoredTentative
        );
        assert_eq!(dad.counters().unicast_solicitations_ignored, 1);
        assert_eq!(run_until(&mut dad, &mut ctx, secs(1)), vec![(secs(1), addr().get())]);
        // Once assigned, solicitations are processed as usual (and answered).
        assert_eq!(
            dad.handle_neighbor_solicitation(&mut ctx, DEV, Ipv6Addr::UNSPECIFIED, addr().get(), None),
            NsDisposition::NotTentative
        );
    }

    #[test]
    fn rfc4862_s5_4_3_duplicate_during_the_initial_delay() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(3);
        dad.start(&mut ctx, DEV, addr(), DadStart { delay_first: true, ..DadStart::default() }).unwrap();
        let got = dad.handle_neighbor_solicitation(
            &mut ctx,
            DEV,
            Ipv6Addr::UNSPECIFIED,
            addr().get(),
            Some(&[1; 6]),
        );
        assert!(matches!(got, NsDisposition::Duplicate(_)));
        assert!(ctx.timers().is_empty());
    }

    #[test]
    fn rfc4862_s5_4_5_hardware_link_local_duplicate_asks_to_disable_ipv6() {
        let ll = UnicastAddr::new(crate::addr::Mac::new([2, 0, 0, 0, 0, 1]).to_ipv6_link_local()).unwrap();
        for (disable, expected) in [(true, true), (false, false)] {
            let mut dad = Dad::new(
                DadConfig { disable_ipv6_on_hardware_duplicate: disable, ..DadConfig::default() },
                4,
            );
            let mut ctx = new_ctx(1);
            dad.start(
                &mut ctx,
                DEV,
                ll,
                DadStart { delay_first: true, hardware_link_local: true, skip: false },
            )
            .unwrap();
            let dup = dad.handle_neighbor_advertisement(&mut ctx, DEV, ll.get()).unwrap();
            assert_eq!(dup.disable_ipv6, expected);
        }
    }

    #[test]
    fn other_devices_and_addresses_are_not_affected() {
        let mut dad = dad_with(1);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        let other = DeviceId::new(2);
        assert_eq!(dad.handle_neighbor_advertisement(&mut ctx, other, addr().get()), None);
        assert_eq!(
            dad.handle_neighbor_solicitation(
                &mut ctx,
                DEV,
                Ipv6Addr::UNSPECIFIED,
                "2001:db8::7".parse().unwrap(),
                None
            ),
            NsDisposition::NotTentative
        );
        assert_eq!(dad.state(DEV, addr().get()), Some(DadState::Tentative));
    }

    #[test]
    fn remove_cancels_and_leaves_the_group() {
        let mut dad = dad_with(2);
        let mut ctx = new_ctx(1);
        dad.start(&mut ctx, DEV, addr(), DadStart::default()).unwrap();
        assert!(dad.remove(&mut ctx, DEV, addr().get()));
        assert!(!dad.remove(&mut ctx, DEV, addr().get()));
        assert!(ctx.timers().is_empty());
        let joins = ctx.state.iter().filter(|a| matches!(a, Action::Join(_))).count();
        let leaves = ctx.state.iter().filter(|a| matches!(a, Action::Leave(_))).count();
        assert_eq!((joins, leaves), (1, 1));
    }

    #[test]
    fn limits_and_duplicates_are_refused_and_counted() {
        let mut dad = Dad::new(DadConfig::default(), 2);
        let mut ctx = new_ctx(1);
        let a =
            |n: u16| UnicastAddr::new(Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, n])).unwrap();
        dad.start(&mut ctx, DEV, a(1), DadStart::default()).unwrap();
        assert_eq!(
            dad.start(&mut ctx, DEV, a(1), DadStart::default()),
            Err(DadError::AlreadyTracked { device: DEV, addr: a(1).get() })
        );
        dad.start(&mut ctx, DEV, a(2), DadStart::default()).unwrap();
        assert_eq!(
            dad.start(&mut ctx, DEV, a(3), DadStart::default()),
            Err(DadError::TooManyAddresses { device: DEV, limit: 2 })
        );
        // The limit is per interface.
        dad.start(&mut ctx, DeviceId::new(2), a(3), DadStart::default()).unwrap();
        assert_eq!(dad.counters().refused_already_tracked, 1);
        assert_eq!(dad.counters().refused_too_many, 1);
        assert_eq!(dad.tracked(DEV), 2);
    }

    #[derive(Clone, Debug)]
    enum Input {
        Start(u8, bool),
        Remove(u8),
        Ns(u8, bool, Option<[u8; 6]>),
        Na(u8),
        Advance(u16),
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            (0u8..6, any::<bool>()).prop_map(|(a, d)| Input::Start(a, d)),
            (0u8..6).prop_map(Input::Remove),
            (0u8..6, any::<bool>(), proptest::option::of(any::<[u8; 6]>()))
                .prop_map(|(a, s, n)| Input::Ns(a, s, n)),
            (0u8..6).prop_map(Input::Na),
            (0u16..3000).prop_map(Input::Advance),
        ]
    }

    proptest! {
        /// Any sequence of inputs: no panic, never more than the limit, group joins and leaves
        /// balance with the entries, and every assignment comes no sooner than
        /// transmits × RetransTimer after the start.
        #[test]
        fn arbitrary_inputs_keep_invariants(transmits in 0u8..4, inputs in proptest::collection::vec(input(), 0..60)) {
            let mut dad = Dad::new(DadConfig { transmits, ..DadConfig::default() }, 3);
            let mut ctx = new_ctx(9);
            let a = |n: u8| UnicastAddr::new(Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(n) + 1])).unwrap();
            let mut started_at = BTreeMap::new();
            for input in inputs {
                match input {
                    Input::Start(n, delay) => {
                        if dad.start(&mut ctx, DEV, a(n), DadStart { delay_first: delay, ..DadStart::default() }).is_ok() {
                            started_at.insert(a(n).get(), ctx.now());
                        }
                    }
                    Input::Remove(n) => { dad.remove(&mut ctx, DEV, a(n).get()); }
                    Input::Ns(n, unspecified, nonce) => {
                        let source = if unspecified { Ipv6Addr::UNSPECIFIED } else { Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99]) };
                        dad.handle_neighbor_solicitation(&mut ctx, DEV, source, a(n).get(), nonce.as_ref().map(|n| &n[..]));
                    }
                    Input::Na(n) => { dad.handle_neighbor_advertisement(&mut ctx, DEV, a(n).get()); }
                    Input::Advance(ms) => {
                        let deadline = ctx.now() + Duration::from_millis(u64::from(ms));
                        for (at, addr) in run_until(&mut dad, &mut ctx, deadline) {
                            let start = started_at[&addr];
                            prop_assert!(at - start >= dad.config().retrans_timer * u32::from(transmits));
                        }
                    }
                }
                prop_assert!(dad.tracked(DEV) <= 3);
                let joins = ctx.state.iter().filter(|x| matches!(x, Action::Join(_))).count();
                let leaves = ctx.state.iter().filter(|x| matches!(x, Action::Leave(_))).count();
                prop_assert_eq!(joins - leaves, dad.tracked(DEV));
                prop_assert!(ctx.timers().len() <= dad.tracked(DEV));
            }
        }
    }
}
