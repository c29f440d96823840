//! A fake host for tests: a clock that moves only when told, a timer table, and a seeded
//! random generator, implementing the [`context`](crate::context) traits. Tests drive a state
//! machine, then [`FakeCtx::advance_to`] or [`FakeCtx::advance_by`] to fire its timers in
//! deadline order, exactly as the bindings would, and reproducibly.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::time::Duration;

use crate::context::{InstantContext, RngContext, TimerContext};
use crate::time::Instant;

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and good enough to make jitter and
/// choices look random while staying reproducible from a seed.
#[derive(Clone, Debug)]
pub struct FakeRng {
    state: u64,
}

impl FakeRng {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl RngContext for FakeRng {
    fn random_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A fake host: clock, timers of id type `Id`, randomness, and `state`, whatever a module's
/// tests record through its own context trait (implemented for `FakeCtx<TheirId, TheirState>`),
/// so a test context is an alias rather than a wrapper that repeats the delegation.
#[derive(Clone, Debug)]
pub struct FakeCtx<Id, S = ()> {
    now: Instant,
    /// Each scheduled timer's deadline and the order it was scheduled in, which breaks ties
    /// between equal deadlines so firing order is deterministic.
    by_id: BTreeMap<Id, (Instant, u64)>,
    /// The same timers ordered by firing time, so a flood of timers stays cheap.
    by_deadline: BTreeSet<(Instant, u64, Id)>,
    next_seq: u64,
    /// The random generator.
    pub rng: FakeRng,
    /// What the module under test recorded.
    pub state: S,
}

impl<Id: Clone + Ord> FakeCtx<Id> {
    /// A host at time zero with no timers and randomness seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self::with_state(seed, ())
    }
}

impl<Id: Clone + Ord, S> FakeCtx<Id, S> {
    /// A host at time zero with no timers, randomness seeded with `seed`, and `state`.
    pub fn with_state(seed: u64, state: S) -> Self {
        Self {
            now: Instant::ZERO,
            by_id: BTreeMap::new(),
            by_deadline: BTreeSet::new(),
            next_seq: 0,
            rng: FakeRng::new(seed),
            state,
        }
    }

    /// The timers scheduled, earliest first.
    pub fn timers(&self) -> Vec<(Id, Instant)> {
        self.by_deadline.iter().map(|(at, _, id)| (id.clone(), *at)).collect()
    }

    /// The earliest deadline among the scheduled timers.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.first().map(|(at, _, _)| *at)
    }

    /// Moves the clock forward to `now` (never backwards) without firing anything: for a
    /// harness that keeps several hosts on one clock.
    pub fn set_now(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// Removes and returns the earliest timer due at or before `deadline`, moving the clock
    /// to its deadline (never backwards).
    pub fn pop_due(&mut self, deadline: Instant) -> Option<Id> {
        let (at, _, _) = self.by_deadline.first()?;
        if *at > deadline {
            return None;
        }
        let (at, _, id) = self.by_deadline.pop_first()?;
        self.by_id.remove(&id);
        self.now = self.now.max(at);
        Some(id)
    }

    /// Fires every timer due up to `deadline` in deadline order, calling `fire` with the
    /// context (so it can reschedule) and the id, then leaves the clock at `deadline`.
    /// Returns how many fired.
    pub fn advance_to(&mut self, deadline: Instant, mut fire: impl FnMut(&mut Self, Id)) -> usize {
        let mut fired = 0;
        while let Some(id) = self.pop_due(deadline) {
            fire(self, id);
            fired += 1;
        }
        self.now = self.now.max(deadline);
        fired
    }

    /// [`advance_to`](Self::advance_to) `by` from now.
    pub fn advance_by(&mut self, by: Duration, fire: impl FnMut(&mut Self, Id)) -> usize {
        let deadline = self.now + by;
        self.advance_to(deadline, fire)
    }
}

impl<Id, S> InstantContext for FakeCtx<Id, S> {
    fn now(&self) -> Instant {
        self.now
    }
}

impl<Id: Clone + Ord, S> TimerContext<Id> for FakeCtx<Id, S> {
    fn schedule_timer(&mut self, id: Id, at: Instant) -> Option<Instant> {
        let previous = self.cancel_timer(&id);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_deadline.insert((at, seq, id.clone()));
        self.by_id.insert(id, (at, seq));
        previous
    }

    fn cancel_timer(&mut self, id: &Id) -> Option<Instant> {
        let (at, seq) = self.by_id.remove(id)?;
        self.by_deadline.remove(&(at, seq, id.clone()));
        Some(at)
    }

    fn scheduled_at(&self, id: &Id) -> Option<Instant> {
        self.by_id.get(id).map(|&(at, _)| at)
    }
}

impl<Id, S> RngContext for FakeCtx<Id, S> {
    fn random_u64(&mut self) -> u64 {
        self.rng.random_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn timers_fire_in_deadline_order_and_can_reschedule() {
        let mut ctx = FakeCtx::<&str>::new(1);
        ctx.schedule_timer_after("b", Duration::from_secs(2));
        ctx.schedule_timer_after("a", Duration::from_secs(1));
        ctx.schedule_timer_after("c", Duration::from_secs(5));
        assert_eq!(
            ctx.schedule_timer_after("c", Duration::from_secs(3)),
            Some(Instant::from_nanos(5_000_000_000))
        );
        let mut fired = vec![];
        ctx.advance_by(Duration::from_secs(4), |ctx, id| {
            fired.push((id, ctx.now()));
            if id == "a" {
                ctx.schedule_timer_after("a2", Duration::from_millis(1500));
            }
        });
        let secs = |s: u64| Instant::from_nanos(s * 1_000_000_000);
        assert_eq!(
            fired,
            [("a", secs(1)), ("b", secs(2)), ("a2", Instant::from_nanos(2_500_000_000)), ("c", secs(3))]
        );
        assert_eq!(ctx.now(), secs(4));
        assert!(ctx.timers().is_empty());
    }

    #[test]
    fn cancel_and_query() {
        let mut ctx = FakeCtx::<u8>::new(1);
        ctx.schedule_timer(7, Instant::from_nanos(10));
        assert_eq!(ctx.scheduled_at(&7), Some(Instant::from_nanos(10)));
        assert_eq!(ctx.cancel_timer(&7), Some(Instant::from_nanos(10)));
        assert_eq!(ctx.cancel_timer(&7), None);
        assert_eq!(ctx.advance_by(Duration::from_secs(1), |_, _| {}), 0);
    }

    #[test]
    fn rng_is_reproducible_and_bounded() {
        let mut a = FakeRng::new(42);
        let mut b = FakeRng::new(42);
        for _ in 0..100 {
            assert_eq!(a.random_u64(), b.random_u64());
            let d = a.random_duration(Duration::from_secs(1)..Duration::from_secs(3));
            assert!((Duration::from_secs(1)..Duration::from_secs(3)).contains(&d));
            assert!(a.random_below(10) < 10);
            b.random_duration(Duration::ZERO..Duration::ZERO);
            b.random_below(10);
        }
        assert_eq!(a.random_below(0), 0);
    }
}
