//! ICMP error rate limiting: how many error messages the stack may send, overall and to each
//! destination, so a flood of bad datagrams cannot make it flood errors back (RFC 4443
//! §2.4(f) for ICMPv6, which suggests a token bucket; RFC 1812 §4.3.2.8 for ICMPv4).
//!
//! The two limits and their defaults are Linux's:
//!
//! * A global token bucket, [`IcmpGlobalBucket`], of [`GlobalConfig::msgs_burst`]
//!   (`icmp_msgs_burst`, 50) tokens refilled at [`GlobalConfig::msgs_per_sec`]
//!   (`icmp_msgs_per_sec`, 1000). Linux shares it between ICMPv4 and ICMPv6, so the stack
//!   should hold one and pass it to both versions' limiters. Like Linux since 5.10, each
//!   message takes a random 0, 1 or 2 tokens (1 on average), so an off-path attacker cannot
//!   count the errors others trigger by probing the limit (the SAD DNS side channel,
//!   CVE-2020-25705).
//! * A per-destination bucket in each version's [`IcmpRateLimiter`] (Linux's
//!   `inet_peer_xrlim_allow`): one message per [`Config::host_interval`] (`icmp_ratelimit`,
//!   1 s) with a burst of [`Config::host_burst`] (Linux's `XRLIM_BURST_FACTOR`, 6).
//!   Destinations reached through a loopback device are exempt from it.
//!
//! They are checked in the order of Linux 6.12: the global bucket must hold a token, then
//! the destination's bucket must allow the message, and only then is the global token
//! taken, so a destination's limit does not drain the global one (and the other way round).
//!
//! Only the error types of Linux's rate masks are limited ([`IcmpRateIp::is_rate_limited`]):
//! ICMPv4 destination unreachable (but not "fragmentation needed", which path MTU discovery
//! depends on), source quench, time exceeded and parameter problem (`icmp_ratemask`
//! 0x1818); ICMPv6 errors other than Packet Too Big (`icmpv6_ratemask` 0-1,3-127).
//! Informational messages such as echo replies pass unlimited. Linux additionally widens the
//! ICMPv6 per-destination rate for destinations behind short-prefix routes; that scaling is
//! left out, every destination gets the same interval.
//!
//! Refills are computed from the time of each check, so no timer is needed. The destination
//! table is a fixed array of [`Config::max_hosts`] slots allocated once, in sets of 8 chosen
//! by a keyed hash (SipHash, keyed from the host's randomness so attackers cannot aim many
//! destinations at one set); a new destination takes a free slot of its set or evicts the
//! set's least recently used entry. A check costs one hash and at most 8 comparisons and
//! allocates nothing.

use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use crate::addr::{IpAddress, Ipv4, Ipv6};
use crate::context::{InstantContext, RngContext};
use crate::hash::{siphash, SipKey};
use crate::time::Instant;
use crate::wire::icmp::v4::{Icmpv4DestUnreachableCode, Icmpv4Type};
use crate::wire::icmp::v6::Icmpv6Type;
use crate::wire::icmp::IcmpIpExt;

/// Which outgoing ICMP messages are rate limited; implemented by [`Ipv4`] and [`Ipv6`].
pub trait IcmpRateIp: IcmpIpExt {
    /// Whether a message of `msg_type` and `code` counts against the limits.
    fn is_rate_limited(msg_type: Self::MessageType, code: u8) -> bool;
}

impl IcmpRateIp for Ipv4 {
    /// Linux's `icmp_ratemask` default 0x1818 (types 3, 4, 11 and 12), minus "fragmentation
    /// needed", which `icmpv4_mask_allow` never limits.
    fn is_rate_limited(msg_type: Icmpv4Type, code: u8) -> bool {
        match msg_type {
            Icmpv4Type::DestUnreachable => code != u8::from(Icmpv4DestUnreachableCode::FragmentationNeeded),
            Icmpv4Type::SourceQuench | Icmpv4Type::TimeExceeded | Icmpv4Type::ParameterProblem => true,
            _ => false,
        }
    }
}

impl IcmpRateIp for Ipv6 {
    /// Linux's `icmpv6_ratemask` default 0-1,3-127: every error (types below 128, RFC 4443
    /// §2.1) except Packet Too Big.
    fn is_rate_limited(msg_type: Icmpv6Type, _code: u8) -> bool {
        let t = u8::from(msg_type);
        t < 128 && msg_type != Icmpv6Type::PacketTooBig
    }
}

/// Sets of destination slots the hash chooses among.
const WAYS: usize = 8;

/// The global limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalConfig {
    /// Tokens added per second (Linux `icmp_msgs_per_sec`, 1000).
    pub msgs_per_sec: u32,
    /// Most tokens held (Linux `icmp_msgs_burst`, 50).
    pub msgs_burst: u32,
    /// Take a random 0–2 tokens per message instead of exactly 1 (Linux since 5.10, against
    /// CVE-2020-25705). Default on.
    pub randomize_cost: bool,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        Self { msgs_per_sec: 1000, msgs_burst: 50, randomize_cost: true }
    }
}

/// The global token bucket every limited ICMP message of either version draws from.
#[derive(Clone, Debug)]
pub struct IcmpGlobalBucket {
    config: GlobalConfig,
    credit: u32,
    /// When `credit` was last brought up to date.
    stamp: Instant,
}

impl IcmpGlobalBucket {
    /// A full bucket.
    pub fn new(config: GlobalConfig) -> Self {
        Self { config, credit: config.msgs_burst, stamp: Instant::ZERO }
    }

    /// The limit.
    pub fn config(&self) -> &GlobalConfig {
        &self.config
    }

    /// Whether a token is left at `now`, after adding those earned since the last check.
    fn has_credit(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.credit > 0
    }

    /// Takes one message's tokens.
    fn consume<R: RngContext>(&mut self, rng: &mut R) {
        let cost = if self.config.randomize_cost { rng.random_below(3) as u32 } else { 1 };
        self.credit = self.credit.saturating_sub(cost);
    }

    /// Adds the tokens earned since `stamp`, keeping the fraction of a token not yet earned
    /// for the next refill.
    fn refill(&mut self, now: Instant) {
        const NANOS_PER_SEC: u128 = 1_000_000_000;
        let rate = u128::from(self.config.msgs_per_sec);
        let elapsed = (now - self.stamp).as_nanos();
        let earned = rate * elapsed / NANOS_PER_SEC;
        if earned == 0 {
            return;
        }
        let burst = self.config.msgs_burst;
        let room = u128::from(burst - self.credit.min(burst));
        if earned >= room {
            self.credit = burst;
            self.stamp = now;
        } else {
            // `earned < room <= u32::MAX`, and `rate > 0` since something was earned.
            self.credit += earned as u32;
            let spent = earned * NANOS_PER_SEC / rate;
            self.stamp += Duration::from_nanos(u64::try_from(spent).unwrap_or(u64::MAX));
        }
    }
}

/// The per-destination limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The average spacing of messages to one destination (Linux `icmp_ratelimit` and
    /// `net.ipv6.icmp.ratelimit`, 1000 ms); zero turns the per-destination limit off.
    pub host_interval: Duration,
    /// How many messages one destination may get back to back (Linux's
    /// `XRLIM_BURST_FACTOR`, 6).
    pub host_burst: u32,
    /// Most destinations tracked (default 4096; Linux tracks them in its inet_peer pool,
    /// whose `inet_peer_threshold` is 65664 across all uses).
    pub max_hosts: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { host_interval: Duration::from_secs(1), host_burst: 6, max_hosts: 4096 }
    }
}

/// Messages suppressed, by limit, and destination entries evicted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages suppressed by the global bucket (Linux `IcmpOutRateLimitGlobal`).
    pub out_rate_limit_global: u64,
    /// Messages suppressed by their destination's bucket (Linux `IcmpOutRateLimitHost`,
    /// `Icmp6OutRateLimitHost`).
    pub out_rate_limit_host: u64,
    /// Destination entries evicted from a full set to track a new destination; that
    /// destination's limit starts afresh.
    pub host_evicted: u64,
}

/// One destination's bucket, in time units like Linux's `rate_tokens` (jiffies).
#[derive(Clone, Copy, Debug)]
struct HostEntry<A> {
    addr: A,
    tokens: Duration,
    last: Instant,
}

/// The ICMP error rate limiter of one IP version: its per-destination buckets and counters.
#[derive(Clone, Debug)]
pub struct IcmpRateLimiter<I: IcmpRateIp> {
    config: Config,
    counters: Counters,
    hosts: Vec<Option<HostEntry<I::Addr>>>,
    key: SipKey,
}

impl<I: IcmpRateIp> IcmpRateLimiter<I> {
    /// A limiter tracking no destination yet, its hash keyed from `rng`.
    pub fn new<R: RngContext>(config: Config, rng: &mut R) -> Self {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&rng.random_u64().to_le_bytes());
        key[8..].copy_from_slice(&rng.random_u64().to_le_bytes());
        Self { config, counters: Counters::default(), hosts: vec![None; config.max_hosts], key: SipKey(key) }
    }

    /// The limits.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// How many destinations are tracked (a walk over every slot: for diagnostics).
    pub fn tracked_hosts(&self) -> usize {
        self.hosts.iter().filter(|h| h.is_some()).count()
    }

    /// Whether the stack may send an ICMP message of `msg_type` and `code` to `dst` now;
    /// takes the tokens if so, from `global` and `dst`'s bucket. `via_loopback` exempts it
    /// from the per-destination limit (the route to `dst` leaves through a loopback device).
    pub fn allow<C: InstantContext + RngContext>(
        &mut self,
        global: &mut IcmpGlobalBucket,
        ctx: &mut C,
        dst: I::Addr,
        msg_type: I::MessageType,
        code: u8,
        via_loopback: bool,
    ) -> bool {
        if !I::is_rate_limited(msg_type, code) {
            return true;
        }
        let now = ctx.now();
        if !global.has_credit(now) {
            self.counters.out_rate_limit_global += 1;
            return false;
        }
        if !via_loopback && !self.host_allows(dst, now) {
            self.counters.out_rate_limit_host += 1;
            return false;
        }
        global.consume(ctx);
        true
    }

    /// `inet_peer_xrlim_allow`: the destination's bucket gains the time elapsed, up to
    /// `host_burst` intervals, and a message costs one interval.
    fn host_allows(&mut self, dst: I::Addr, now: Instant) -> bool {
        let interval = self.config.host_interval;
        if interval.is_zero() || self.hosts.is_empty() {
            return true;
        }
        let cap = interval.saturating_mul(self.config.host_burst);
        let set = self.set_of(&dst);
        let slots = &mut self.hosts[set];
        let index = slots.iter().position(|h| h.is_some_and(|h| h.addr == dst)).unwrap_or_else(|| {
            // A free slot (`None` sorts first), else the least recently used.
            slots.iter().enumerate().min_by_key(|(_, h)| h.map(|h| h.last)).map_or(0, |(i, _)| i)
        });
        let slot = &mut slots[index];
        if slot.is_some_and(|h| h.addr != dst) {
            self.counters.host_evicted += 1;
            *slot = None;
        }
        // A new destination starts with a full bucket (Linux backdates its `rate_last`).
        let entry = slot.get_or_insert(HostEntry { addr: dst, tokens: cap, last: now });
        entry.tokens = (entry.tokens + (now - entry.last)).min(cap);
        entry.last = now;
        if entry.tokens >= interval {
            entry.tokens -= interval;
            true
        } else {
            false
        }
    }

    /// The slots of the set `dst` hashes to.
    fn set_of(&self, dst: &I::Addr) -> core::ops::Range<usize> {
        let sets = self.hosts.len().div_ceil(WAYS);
        let set = (siphash(&self.key, dst.as_bytes()) % sets as u64) as usize;
        let start = set * WAYS;
        start..(start + WAYS).min(self.hosts.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4Addr, Ipv6Addr};
    use crate::testutil::fake::FakeCtx;
    use proptest::prelude::*;

    type Ctx = FakeCtx<()>;

    const UNREACH: Icmpv4Type = Icmpv4Type::DestUnreachable;
    const PORT_UNREACHABLE: u8 = 3;

    fn host(n: u32) -> Ipv4Addr {
        Ipv4Addr::from_u32(0xc633_6400 + n)
    }

    /// An IPv4 limiter, the global bucket and a fake host.
    struct Fixture {
        limiter: IcmpRateLimiter<Ipv4>,
        global: IcmpGlobalBucket,
        ctx: Ctx,
    }

    impl Fixture {
        fn new(global: GlobalConfig, config: Config) -> Self {
            let mut ctx = Ctx::new(7);
            let limiter = IcmpRateLimiter::new(config, &mut ctx);
            Self { limiter, global: IcmpGlobalBucket::new(global), ctx }
        }

        /// Exactly one token per message, Linux's other defaults.
        fn exact() -> Self {
            Self::new(GlobalConfig { randomize_cost: false, ..GlobalConfig::default() }, Config::default())
        }

        fn send(&mut self, dst: Ipv4Addr) -> bool {
            self.send_typed(dst, UNREACH, PORT_UNREACHABLE)
        }

        fn send_typed(&mut self, dst: Ipv4Addr, msg_type: Icmpv4Type, code: u8) -> bool {
            self.limiter.allow(&mut self.global, &mut self.ctx, dst, msg_type, code, false)
        }

        /// Sends `n` times to `dst`; how many passed.
        fn repeat(&mut self, dst: Ipv4Addr, n: u32) -> u32 {
            (0..n).filter(|_| self.send(dst)).count() as u32
        }

        /// Sends to `n` distinct destinations from `first` on (so the per-destination limit
        /// never bites); how many passed.
        fn burst(&mut self, n: u32, first: u32) -> u32 {
            (0..n).filter(|i| self.send(host(first + i))).count() as u32
        }

        fn wait(&mut self, d: Duration) {
            self.ctx.advance_by(d, |_, _| {});
        }

        fn counters(&self) -> Counters {
            *self.limiter.counters()
        }
    }

    #[test]
    fn rfc4443_2_4_f_global_token_bucket_allows_a_burst_then_the_rate() {
        let mut f = Fixture::exact();
        assert_eq!(f.burst(100, 0), 50);
        assert_eq!(f.counters().out_rate_limit_global, 50);
        // 1000 per second: 10 ms earns 10 tokens.
        f.wait(Duration::from_millis(10));
        assert_eq!(f.burst(100, 100), 10);
        // Fractions of a token are kept: 4 × 0.5 ms earns 2 tokens.
        let mut passed = 0;
        for i in 0..4 {
            f.wait(Duration::from_micros(500));
            passed += f.burst(1, 200 + i);
        }
        assert_eq!(passed, 2);
    }

    #[test]
    fn rfc1812_4_3_2_8_global_bucket_never_holds_more_than_the_burst() {
        let mut f = Fixture::exact();
        f.wait(Duration::from_secs(3600));
        assert_eq!(f.burst(100, 0), 50);
    }

    #[test]
    fn linux_one_global_bucket_serves_both_versions() {
        let mut f = Fixture::exact();
        let mut limiter6 = IcmpRateLimiter::<Ipv6>::new(Config::default(), &mut f.ctx);
        for n in 0..30u16 {
            let dst = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, n]);
            assert!(limiter6.allow(&mut f.global, &mut f.ctx, dst, Icmpv6Type::DestUnreachable, 4, false));
        }
        assert_eq!(f.burst(100, 0), 20);
    }

    #[test]
    fn linux_randomized_cost_averages_one_token() {
        let mut f = Fixture::new(GlobalConfig::default(), Config::default());
        let passed = f.burst(1000, 0);
        // Each message costs 0..=2 tokens: at least 25 pass, and on average about 50.
        assert!((25..=120).contains(&passed), "{passed}");
        // Over many refills the rate averages msgs_per_sec: 100 × 20 ms earns 2000 tokens.
        let mut total = 0;
        for round in 0..100 {
            f.wait(Duration::from_millis(20));
            total += f.burst(100, 1000 + round * 100);
        }
        assert!((1600..=2400).contains(&total), "{total}");
    }

    #[test]
    fn linux_icmp_ratelimit_one_message_per_second_per_destination_after_a_burst_of_six() {
        let mut f = Fixture::exact();
        assert_eq!(f.repeat(host(1), 10), 6);
        assert_eq!(f.counters().out_rate_limit_host, 4);
        // Another destination is not affected.
        assert!(f.send(host(2)));
        f.wait(Duration::from_millis(999));
        assert!(!f.send(host(1)));
        f.wait(Duration::from_millis(1));
        assert!(f.send(host(1)));
        assert!(!f.send(host(1)));
    }

    #[test]
    fn linux_6_12_order_limits_do_not_drain_each_other() {
        let mut f = Fixture::exact();
        // A destination over its limit costs no global tokens.
        assert_eq!(f.repeat(host(1), 40), 6);
        assert_eq!(f.burst(100, 10), 44);
        // With the global bucket empty, a destination's tokens are not touched.
        assert_eq!(f.repeat(host(2), 10), 0);
        assert_eq!(f.counters().out_rate_limit_global, 56 + 10);
        f.wait(Duration::from_millis(20));
        assert_eq!(f.repeat(host(2), 10), 6);
    }

    #[test]
    fn linux_loopback_destinations_skip_the_per_destination_limit() {
        let mut f = Fixture::exact();
        let passed = (0..60)
            .filter(|_| {
                f.limiter.allow(
                    &mut f.global,
                    &mut f.ctx,
                    Ipv4Addr::LOOPBACK,
                    UNREACH,
                    PORT_UNREACHABLE,
                    true,
                )
            })
            .count();
        assert_eq!(passed, 50);
        assert_eq!(f.counters().out_rate_limit_host, 0);
        assert_eq!(f.limiter.tracked_hosts(), 0);
    }

    #[test]
    fn linux_icmp_ratemask_exempts_pmtu_and_informational_messages() {
        let mut f = Fixture::exact();
        let frag_needed = u8::from(Icmpv4DestUnreachableCode::FragmentationNeeded);
        for _ in 0..200 {
            assert!(f.send_typed(host(1), UNREACH, frag_needed));
            assert!(f.send_typed(host(1), Icmpv4Type::EchoReply, 0));
        }
        assert_eq!(f.burst(100, 0), 50);
        for t in [Icmpv4Type::SourceQuench, Icmpv4Type::TimeExceeded, Icmpv4Type::ParameterProblem] {
            assert!(Ipv4::is_rate_limited(t, 0));
        }
        assert!(!Ipv4::is_rate_limited(Icmpv4Type::Redirect, 0));
    }

    #[test]
    fn linux_icmpv6_ratemask_exempts_packet_too_big_and_informational_messages() {
        let mut ctx = Ctx::new(1);
        let mut global =
            IcmpGlobalBucket::new(GlobalConfig { randomize_cost: false, ..GlobalConfig::default() });
        let mut l = IcmpRateLimiter::<Ipv6>::new(Config::default(), &mut ctx);
        let dst: Ipv6Addr = "2001:db8::1".parse().unwrap();
        for _ in 0..200 {
            assert!(l.allow(&mut global, &mut ctx, dst, Icmpv6Type::PacketTooBig, 0, false));
            assert!(l.allow(&mut global, &mut ctx, dst, Icmpv6Type::EchoReply, 0, false));
        }
        let passed = (0..10)
            .filter(|_| l.allow(&mut global, &mut ctx, dst, Icmpv6Type::TimeExceeded, 0, false))
            .count();
        assert_eq!(passed, 6);
        for t in [Icmpv6Type::DestUnreachable, Icmpv6Type::ParameterProblem, Icmpv6Type::Other(100)] {
            assert!(Ipv6::is_rate_limited(t, 0));
        }
        assert!(!Ipv6::is_rate_limited(Icmpv6Type::Other(200), 0));
    }

    #[test]
    fn destination_table_is_bounded_and_evicts_the_least_recently_used() {
        let global = GlobalConfig { msgs_burst: 1000, randomize_cost: false, ..GlobalConfig::default() };
        let mut f = Fixture::new(global, Config { max_hosts: 8, ..Config::default() });
        // One set of 8: a ninth destination evicts the least recently used.
        for n in 0..8 {
            assert_eq!(f.repeat(host(n), 6), 6);
            f.wait(Duration::from_millis(1));
        }
        assert!(!f.send(host(0)));
        assert!(f.send(host(100)));
        assert_eq!(f.counters().host_evicted, 1);
        assert_eq!(f.limiter.tracked_hosts(), 8);
        // host(0) was just used; host(1) was the oldest and starts afresh.
        assert!(f.send(host(1)));
        assert!(!f.send(host(0)));
    }

    #[test]
    fn zero_interval_or_table_turns_the_per_destination_limit_off() {
        let global = GlobalConfig { randomize_cost: false, ..GlobalConfig::default() };
        for config in [
            Config { host_interval: Duration::ZERO, ..Config::default() },
            Config { max_hosts: 0, ..Config::default() },
        ] {
            let mut f = Fixture::new(global, config);
            assert_eq!(f.repeat(host(1), 60), 50);
        }
    }

    proptest! {
        #[test]
        fn limits_hold_over_any_sequence(
            events in proptest::collection::vec((0u32..40, 0u64..300), 1..300),
            max_hosts in 1usize..40,
        ) {
            let global = GlobalConfig { randomize_cost: false, ..GlobalConfig::default() };
            let mut f = Fixture::new(global, Config { max_hosts, ..Config::default() });
            let mut passed = 0u64;
            for (n, wait_ms) in events {
                f.wait(Duration::from_millis(wait_ms));
                if f.send(host(n)) {
                    passed += 1;
                }
                prop_assert!(f.limiter.tracked_hosts() <= max_hosts);
                // Never more than the burst plus what the rate earned.
                let earned = f.ctx.now().as_nanos() / 1_000_000;
                prop_assert!(passed <= 50 + earned);
            }
        }
    }
}
