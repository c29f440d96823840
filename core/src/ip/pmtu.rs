//! The path MTU cache: the largest datagram each destination's path carries, as learned from
//! ICMPv4 "fragmentation needed" (RFC 1191) and ICMPv6 Packet Too Big (RFC 8201) messages.
//!
//! Rules implemented:
//!
//! * A report only ever lowers the estimate, never raises it (RFC 1191 §3, RFC 8201 §4); the
//!   estimate starts at the first-hop link MTU the caller passes in.
//! * An ICMPv4 report from a router older than RFC 1191 carries a next-hop MTU of 0; the
//!   estimate is then the largest plateau of RFC 1191 §7's table below the Total Length of
//!   the datagram that was too big (RFC 1191 §5).
//! * IPv4 estimates are clamped to [`Config::min_mtu`] (Linux's `min_pmtu`, 552). As Linux
//!   does, a report below it also marks the path as needing fragmentation: the IPv4 layer
//!   then sends with DF clear so routers may fragment rather than drop.
//! * A Packet Too Big reporting less than the IPv6 minimum link MTU (1280) is discarded
//!   (RFC 8201 §4, as Linux does); the atomic fragments RFC 2460 §5 asked for in that case
//!   are gone since RFC 8021 and RFC 8200 §5.
//! * Entries age out [`Config::expires`] after their last decrease (RFC 1191 §6.3 suggests
//!   10 minutes; Linux's `mtu_expires` is 600 s), so a larger MTU is tried again. A report
//!   equal to the estimate refreshes the age only once half of it has passed (Linux's
//!   `__ip_rt_update_pmtu`): a path that still reports the MTU keeps its entry, without
//!   every report rewriting it.
//!
//! Entries are keyed by destination address alone, as Linux's IPv4 next-hop exceptions and
//! its IPv6 route exceptions are unless IPv6 source routing (subtrees) is built in: the path
//! depends on the route, and routes here depend on the destination only.
//!
//! The cache holds at most [`Config::max_entries`]; a new destination in a full cache evicts
//! the entry that was updated longest ago. Lookups are O(log n) in a `BTreeMap` and allocate
//! nothing; aging is one timer, at the earliest expiry, through [`TimerContext`].

use alloc::collections::{BTreeMap, BTreeSet};
use core::marker::PhantomData;
use core::time::Duration;

use crate::addr::{Ip, Ipv4, Ipv6};
use crate::context::TimerContext;
use crate::time::Instant;

/// What a version does with a report below its minimum path MTU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BelowMinimum {
    /// Use the minimum and let routers fragment (IPv4, Linux).
    ClampAndFragment,
    /// Discard the report (IPv6, RFC 8201 §4).
    Discard,
}

/// What differs between IPv4 and IPv6 path MTU discovery; implemented by [`Ipv4`] and
/// [`Ipv6`].
pub trait PmtuIp: Ip {
    /// The default [`Config::min_mtu`].
    const DEFAULT_MIN_MTU: u32;
    /// What a report below [`Config::min_mtu`] does.
    const BELOW_MINIMUM: BelowMinimum;

    /// The MTU a report's MTU field of `reported` stands for; `None` if the report carries
    /// no MTU and one must be estimated from the datagram's length.
    fn reported_mtu(reported: u32) -> Option<u32>;
}

impl PmtuIp for Ipv4 {
    /// Linux's `net.ipv4.route.min_pmtu`: 512 bytes of data plus 40 of headers.
    const DEFAULT_MIN_MTU: u32 = 552;
    const BELOW_MINIMUM: BelowMinimum = BelowMinimum::ClampAndFragment;

    /// 0 is what a router older than RFC 1191 leaves in the unused field (RFC 1191 §5).
    fn reported_mtu(reported: u32) -> Option<u32> {
        (reported != 0).then_some(reported)
    }
}

impl PmtuIp for Ipv6 {
    /// The IPv6 minimum link MTU (RFC 8200 §5).
    const DEFAULT_MIN_MTU: u32 = 1280;
    const BELOW_MINIMUM: BelowMinimum = BelowMinimum::Discard;

    /// Packet Too Big always carries an MTU (RFC 4443 §3.2).
    fn reported_mtu(reported: u32) -> Option<u32> {
        Some(reported)
    }
}

/// RFC 1191 §7's plateaus, largest first.
const PLATEAUS: [u32; 11] = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/// The largest plateau below a datagram of `original_len` bytes (RFC 1191 §5), or the
/// smallest plateau, 68, the minimum IPv4 MTU (RFC 791).
fn plateau_below(original_len: u32) -> u32 {
    PLATEAUS.iter().copied().find(|&p| p < original_len).unwrap_or(68)
}

/// Limits and timing of the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The smallest estimate kept. IPv4: Linux's `min_pmtu`, 552; IPv6: 1280, and never
    /// lower (RFC 8201 §4).
    pub min_mtu: u32,
    /// How long an entry lives after its last decrease (Linux `mtu_expires`, 600 s;
    /// RFC 1191 §6.3 suggests 10 minutes).
    pub expires: Duration,
    /// The most destinations cached (at least 1). Default 4096: Linux bounds its exception
    /// tables per route (2048 IPv4 buckets of depth 5; 1024 IPv6 buckets of depth 5).
    pub max_entries: usize,
}

impl Config {
    /// Linux's defaults for IP version `I`.
    pub fn linux_default<I: PmtuIp>() -> Self {
        Self { min_mtu: I::DEFAULT_MIN_MTU, expires: Duration::from_secs(600), max_entries: 4096 }
    }
}

/// What the cache did with reports and entries, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Reports that lowered an estimate (or marked an IPv4 path for fragmentation).
    pub lowered: u64,
    /// ICMPv4 reports without a next-hop MTU, estimated from RFC 1191 §7's plateaus.
    pub plateau_estimates: u64,
    /// IPv4 reports below [`Config::min_mtu`], clamped to it.
    pub clamped_to_minimum: u64,
    /// IPv6 reports below the minimum link MTU, discarded (RFC 8201 §4).
    pub ignored_below_minimum: u64,
    /// Reports not below the current estimate, ignored (RFC 8201 §4).
    pub ignored_not_smaller: u64,
    /// Entries evicted to make room for a new destination.
    pub evicted: u64,
    /// Entries that aged out.
    pub expired: u64,
}

/// The path MTU to use towards a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathMtu {
    /// The largest datagram to send, in bytes.
    pub mtu: u32,
    /// IPv4 only: the path reported an MTU below [`Config::min_mtu`], so datagrams go with DF
    /// clear and routers fragment them (Linux "locks" the MTU). Always false for IPv6.
    pub allow_fragmentation: bool,
}

/// The cache's one timer: the earliest entry's expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PmtuTimerId<I: Ip>(PhantomData<I>);

impl<I: Ip> PmtuTimerId<I> {
    /// The timer id.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    path: PathMtu,
    updated: Instant,
}

/// The path MTU cache of one IP version.
#[derive(Clone, Debug)]
pub struct PmtuCache<I: PmtuIp> {
    entries: BTreeMap<I::Addr, Entry>,
    /// Every entry as (last update, destination): oldest first, for eviction and aging.
    by_age: BTreeSet<(Instant, I::Addr)>,
    config: Config,
    counters: Counters,
}

impl<I: PmtuIp> Default for PmtuCache<I> {
    fn default() -> Self {
        Self::new(Config::linux_default::<I>())
    }
}

impl<I: PmtuIp> PmtuCache<I> {
    /// An empty cache. IPv6's minimum is raised to 1280 and the size limit to 1 if `config`
    /// asks for less.
    pub fn new(mut config: Config) -> Self {
        if I::BELOW_MINIMUM == BelowMinimum::Discard {
            config.min_mtu = config.min_mtu.max(I::DEFAULT_MIN_MTU);
        }
        config.max_entries = config.max_entries.max(1);
        Self { entries: BTreeMap::new(), by_age: BTreeSet::new(), config, counters: Counters::default() }
    }

    /// The cache's limits.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// How many destinations are cached (expired entries not yet collected included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The path MTU towards `dst` if one was learned and has not expired at `now`; the
    /// caller uses the smaller of it and the outgoing link's MTU.
    pub fn lookup(&self, dst: &I::Addr, now: Instant) -> Option<PathMtu> {
        self.entries.get(dst).filter(|e| !self.is_expired(e, now)).map(|e| e.path)
    }

    /// The live entries, by destination.
    pub fn iter(&self, now: Instant) -> impl Iterator<Item = (I::Addr, PathMtu)> + '_ {
        self.entries.iter().filter(move |(_, e)| !self.is_expired(e, now)).map(|(a, e)| (*a, e.path))
    }

    /// Takes in a "fragmentation needed" (ICMPv4) or Packet Too Big (ICMPv6) report for
    /// `dst`: `reported` is the message's MTU field, `original_len` the length of the
    /// datagram it quotes (its IPv4 Total Length; only read when `reported` is 0) and
    /// `link_mtu` the MTU of the link the route to `dst` leaves through.
    ///
    /// Returns the new path MTU if it went down, for the transport to resize its segments.
    pub fn handle_too_big<C: TimerContext<PmtuTimerId<I>>>(
        &mut self,
        ctx: &mut C,
        dst: I::Addr,
        reported: u32,
        original_len: u32,
        link_mtu: u32,
    ) -> Option<PathMtu> {
        let now = ctx.now();
        let existing = self.entries.get(&dst).copied().filter(|e| !self.is_expired(e, now));
        let current = existing.map_or(link_mtu, |e| e.path.mtu.min(link_mtu));
        let was_fragmenting = existing.is_some_and(|e| e.path.allow_fragmentation);

        let mut estimate = I::reported_mtu(reported).unwrap_or_else(|| {
            self.counters.plateau_estimates += 1;
            plateau_below(original_len)
        });
        let mut fragment = false;
        if estimate < self.config.min_mtu {
            match I::BELOW_MINIMUM {
                BelowMinimum::Discard => {
                    self.counters.ignored_below_minimum += 1;
                    return None;
                }
                BelowMinimum::ClampAndFragment => {
                    self.counters.clamped_to_minimum += 1;
                    estimate = self.config.min_mtu.min(current);
                    fragment = true;
                }
            }
        }
        let path = PathMtu { mtu: estimate, allow_fragmentation: fragment || was_fragmenting };

        if estimate > current || (estimate == current && path.allow_fragmentation == was_fragmenting) {
            self.counters.ignored_not_smaller += 1;
            if let Some(e) =
                existing.filter(|e| estimate == current && now - e.updated >= self.config.expires / 2)
            {
                self.store(ctx, dst, Entry { path: e.path, updated: now });
            }
            return None;
        }
        self.counters.lowered += 1;
        self.store(ctx, dst, Entry { path, updated: now });
        Some(path)
    }

    /// Forgets `dst`'s entry (say, when the route towards it changed); returns it.
    pub fn remove<C: TimerContext<PmtuTimerId<I>>>(&mut self, ctx: &mut C, dst: &I::Addr) -> Option<PathMtu> {
        let entry = self.entries.remove(dst)?;
        self.by_age.remove(&(entry.updated, *dst));
        self.reschedule(ctx);
        Some(entry.path)
    }

    /// Forgets every entry (Linux flushes its exceptions when routes change).
    pub fn clear<C: TimerContext<PmtuTimerId<I>>>(&mut self, ctx: &mut C) {
        self.entries.clear();
        self.by_age.clear();
        self.reschedule(ctx);
    }

    /// The aging timer fired: drops the expired entries and schedules the next expiry.
    pub fn handle_timer<C: TimerContext<PmtuTimerId<I>>>(&mut self, ctx: &mut C, _id: PmtuTimerId<I>) {
        let now = ctx.now();
        while let Some(&(updated, dst)) = self.by_age.first() {
            if updated + self.config.expires > now {
                break;
            }
            self.by_age.remove(&(updated, dst));
            self.entries.remove(&dst);
            self.counters.expired += 1;
        }
        self.reschedule(ctx);
    }

    fn is_expired(&self, entry: &Entry, now: Instant) -> bool {
        entry.updated + self.config.expires <= now
    }

    /// Inserts or replaces `dst`'s entry, evicting the oldest one if a new destination
    /// does not fit.
    fn store<C: TimerContext<PmtuTimerId<I>>>(&mut self, ctx: &mut C, dst: I::Addr, entry: Entry) {
        match self.entries.insert(dst, entry) {
            Some(old) => {
                self.by_age.remove(&(old.updated, dst));
            }
            None => {
                if self.entries.len() > self.config.max_entries {
                    if let Some((_, oldest)) = self.by_age.pop_first() {
                        self.entries.remove(&oldest);
                        self.counters.evicted += 1;
                    }
                }
            }
        }
        self.by_age.insert((entry.updated, dst));
        self.reschedule(ctx);
    }

    /// Points the timer at the earliest expiry, or cancels it if the cache is empty.
    fn reschedule<C: TimerContext<PmtuTimerId<I>>>(&self, ctx: &mut C) {
        match self.by_age.first() {
            Some(&(updated, _)) => {
                ctx.schedule_timer(PmtuTimerId::new(), updated + self.config.expires);
            }
            None => {
                ctx.cancel_timer(&PmtuTimerId::new());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4Addr, Ipv6Addr};
    use crate::context::InstantContext;
    use crate::testutil::fake::FakeCtx;
    use proptest::prelude::*;

    type Ctx4 = FakeCtx<PmtuTimerId<Ipv4>>;
    type Ctx6 = FakeCtx<PmtuTimerId<Ipv6>>;

    fn a4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn a6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn path(mtu: u32) -> Option<PathMtu> {
        Some(PathMtu { mtu, allow_fragmentation: false })
    }

    fn fire<I: PmtuIp>(cache: &mut PmtuCache<I>, ctx: &mut FakeCtx<PmtuTimerId<I>>, by: Duration) {
        ctx.advance_by(by, |ctx, id| cache.handle_timer(ctx, id));
    }

    #[test]
    fn rfc1191_4_fragmentation_needed_lowers_the_estimate() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::default();
        let dst = a4("198.51.100.7");
        assert_eq!(cache.lookup(&dst, ctx.now()), None);
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1400, 1500, 1500), path(1400));
        assert_eq!(cache.lookup(&dst, ctx.now()), path(1400));
        assert_eq!(cache.lookup(&a4("198.51.100.8"), ctx.now()), None);
        assert_eq!(cache.counters().lowered, 1);
    }

    #[test]
    fn rfc8201_4_reports_never_raise_the_estimate() {
        let mut ctx = Ctx6::new(1);
        let mut cache = PmtuCache::<Ipv6>::default();
        let dst = a6("2001:db8::7");
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1400, 1500, 1500), path(1400));
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1450, 1500, 1500), None);
        // Not above the link MTU either, with no entry.
        assert_eq!(cache.handle_too_big(&mut ctx, a6("2001:db8::8"), 9000, 1500, 1500), None);
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1300, 1400, 1500), path(1300));
        assert_eq!(cache.lookup(&dst, ctx.now()), path(1300));
        assert_eq!(cache.counters().ignored_not_smaller, 2);
        // A smaller link MTU caps what a report can claim, too.
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1290, 1300, 1280), None);
    }

    #[test]
    fn rfc1191_5_zero_mtu_is_estimated_from_the_plateaus() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::default();
        // A 1500-byte datagram: the largest plateau below it is 1492.
        assert_eq!(cache.handle_too_big(&mut ctx, a4("192.0.2.1"), 0, 1500, 1500), path(1492));
        // 1492 bytes: the next plateau, 1006.
        assert_eq!(cache.handle_too_big(&mut ctx, a4("192.0.2.1"), 0, 1492, 1500), path(1006));
        assert_eq!(cache.counters().plateau_estimates, 2);
        assert_eq!(plateau_below(65535), 32000);
        assert_eq!(plateau_below(100_000), 65535);
        assert_eq!(plateau_below(68), 68);
        assert_eq!(plateau_below(0), 68);
    }

    #[test]
    fn linux_min_pmtu_clamps_ipv4_and_lets_routers_fragment() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::default();
        let dst = a4("192.0.2.1");
        let clamped = Some(PathMtu { mtu: 552, allow_fragmentation: true });
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 296, 1500, 1500), clamped);
        // A plateau estimate below the minimum is clamped the same way (RFC 1191 §7's 508).
        assert_eq!(cache.handle_too_big(&mut ctx, a4("192.0.2.2"), 0, 1006, 1500), clamped);
        assert_eq!(cache.counters().clamped_to_minimum, 2);
        // Repeats change nothing.
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 300, 1500, 1500), None);
        // A link smaller than the minimum stays as it is, but fragmentation is allowed.
        let small = a4("192.0.2.3");
        assert_eq!(
            cache.handle_too_big(&mut ctx, small, 100, 296, 296),
            Some(PathMtu { mtu: 296, allow_fragmentation: true })
        );
    }

    #[test]
    fn rfc8201_4_ipv6_reports_below_1280_are_discarded() {
        let mut ctx = Ctx6::new(1);
        let mut cache = PmtuCache::<Ipv6>::new(Config { min_mtu: 600, ..Config::linux_default::<Ipv6>() });
        assert_eq!(cache.config().min_mtu, 1280);
        let dst = a6("2001:db8::1");
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1279, 1500, 1500), None);
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 0, 1500, 1500), None);
        assert_eq!(cache.counters().ignored_below_minimum, 2);
        assert!(cache.is_empty());
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1280, 1500, 1500), path(1280));
    }

    #[test]
    fn rfc1191_6_3_entries_age_out_so_larger_mtus_are_rediscovered() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::default();
        let dst = a4("192.0.2.1");
        cache.handle_too_big(&mut ctx, dst, 1400, 1500, 1500);
        assert_eq!(ctx.timers(), [(PmtuTimerId::new(), Instant::ZERO + Duration::from_secs(600))]);
        fire(&mut cache, &mut ctx, Duration::from_secs(599));
        assert_eq!(cache.lookup(&dst, ctx.now()), path(1400));
        fire(&mut cache, &mut ctx, Duration::from_secs(1));
        assert_eq!(cache.lookup(&dst, ctx.now()), None);
        assert!(cache.is_empty());
        assert_eq!(cache.counters().expired, 1);
        assert!(ctx.timers().is_empty());
        // The path is probed anew: a larger report is accepted again.
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1450, 1500, 1500), path(1450));
    }

    #[test]
    fn aging_timer_follows_the_oldest_entry() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::default();
        cache.handle_too_big(&mut ctx, a4("192.0.2.1"), 1400, 1500, 1500);
        fire(&mut cache, &mut ctx, Duration::from_secs(100));
        cache.handle_too_big(&mut ctx, a4("192.0.2.2"), 1400, 1500, 1500);
        fire(&mut cache, &mut ctx, Duration::from_secs(500));
        assert_eq!(cache.len(), 1);
        assert_eq!(ctx.timers(), [(PmtuTimerId::new(), Instant::ZERO + Duration::from_secs(700))]);
        cache.remove(&mut ctx, &a4("192.0.2.2"));
        assert!(ctx.timers().is_empty());
    }

    #[test]
    fn linux_equal_report_refreshes_only_after_half_the_expiry() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::default();
        let dst = a4("192.0.2.1");
        cache.handle_too_big(&mut ctx, dst, 1400, 1500, 1500);
        fire(&mut cache, &mut ctx, Duration::from_secs(200));
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1400, 1500, 1500), None);
        assert_eq!(ctx.timers()[0].1, Instant::ZERO + Duration::from_secs(600));
        fire(&mut cache, &mut ctx, Duration::from_secs(200));
        assert_eq!(cache.handle_too_big(&mut ctx, dst, 1400, 1500, 1500), None);
        assert_eq!(ctx.timers()[0].1, Instant::ZERO + Duration::from_secs(1000));
        fire(&mut cache, &mut ctx, Duration::from_secs(599));
        assert_eq!(cache.lookup(&dst, ctx.now()), path(1400));
    }

    #[test]
    fn expired_entries_are_ignored_before_the_timer_runs() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::default();
        let dst = a4("192.0.2.1");
        cache.handle_too_big(&mut ctx, dst, 1400, 1500, 1500);
        let later = ctx.now() + Duration::from_secs(600);
        assert_eq!(cache.lookup(&dst, later), None);
        assert_eq!(cache.iter(later).count(), 0);
        assert_eq!(cache.iter(ctx.now()).collect::<alloc::vec::Vec<_>>(), [(dst, path(1400).unwrap())]);
    }

    #[test]
    fn full_cache_evicts_the_oldest_entry() {
        let mut ctx = Ctx4::new(1);
        let mut cache = PmtuCache::<Ipv4>::new(Config { max_entries: 2, ..Config::linux_default::<Ipv4>() });
        for (i, dst) in ["192.0.2.1", "192.0.2.2", "192.0.2.3"].into_iter().enumerate() {
            cache.handle_too_big(&mut ctx, a4(dst), 1400 - i as u32, 1500, 1500);
            fire(&mut cache, &mut ctx, Duration::from_secs(1));
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.lookup(&a4("192.0.2.1"), ctx.now()), None);
        assert_eq!(cache.lookup(&a4("192.0.2.3"), ctx.now()), path(1398));
        assert_eq!(cache.counters().evicted, 1);
        // Updating a cached destination evicts nothing.
        cache.handle_too_big(&mut ctx, a4("192.0.2.2"), 1300, 1500, 1500);
        assert_eq!(cache.counters().evicted, 1);
        cache.clear(&mut ctx);
        assert!(cache.is_empty() && ctx.timers().is_empty());
    }

    proptest! {
        #[test]
        fn cache_stays_bounded_and_estimates_only_fall_between_expiries(
            reports in proptest::collection::vec((0u32..12, 0u32..2000, 0u64..30), 1..100),
        ) {
            let mut ctx = Ctx4::new(1);
            let mut cache = PmtuCache::<Ipv4>::new(Config { max_entries: 5, ..Config::linux_default::<Ipv4>() });
            for (host, reported, wait) in reports {
                let dst = Ipv4Addr::from_u32(0xc000_0200 + host);
                let before = cache.lookup(&dst, ctx.now());
                cache.handle_too_big(&mut ctx, dst, reported, 1500, 1500);
                let after = cache.lookup(&dst, ctx.now());
                prop_assert!(cache.len() <= 5);
                if let (Some(b), Some(a)) = (before, after) {
                    prop_assert!(a.mtu <= b.mtu);
                }
                if let Some(a) = after {
                    prop_assert!(a.mtu >= 552 && a.mtu < 1500);
                }
                fire(&mut cache, &mut ctx, Duration::from_secs(wait));
            }
        }
    }
}
