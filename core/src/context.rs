//! What the core asks of its host: the contract with the bindings.
//!
//! The core owns no clock, timer, thread or randomness source. Every state machine receives
//! what it needs through these traits, which the bindings implement over the real clock, a
//! timer heap and the OS's randomness, and the test harness over a fake clock and a seeded
//! generator (`testutil::fake`), so the same code runs in both and a whole scenario is
//! reproducible from a seed.
//!
//! Modules add traits of their own for the rest of what they need from the stack around
//! them (sending a frame, delivering a datagram); these are the ones every module shares.

use core::ops::Range;
use core::time::Duration;

use crate::time::Instant;

/// The current time.
pub trait InstantContext {
    /// Now, on the stack's monotonic clock.
    fn now(&self) -> Instant;
}

/// Timers keyed by ids the core chooses: the host fires each scheduled id once, at or after
/// its deadline, by calling back into the core (`handle_timer`). A module's timer ids are a
/// type of its own (e.g. one per neighbour entry), so scheduling an id that is already
/// scheduled moves it instead of adding a second timer.
pub trait TimerContext<Id>: InstantContext {
    /// Schedules `id` to fire at `at`, replacing any earlier schedule of the same id; returns
    /// the deadline it replaced.
    fn schedule_timer(&mut self, id: Id, at: Instant) -> Option<Instant>;

    /// Cancels `id`; returns the deadline it had, if it was scheduled.
    fn cancel_timer(&mut self, id: &Id) -> Option<Instant>;

    /// When `id` is scheduled to fire, if it is.
    fn scheduled_at(&self, id: &Id) -> Option<Instant>;

    /// Schedules `id` to fire `after` from now; returns the deadline it replaced.
    fn schedule_timer_after(&mut self, id: Id, after: Duration) -> Option<Instant> {
        let at = self.now() + after;
        self.schedule_timer(id, at)
    }
}

/// Randomness: uniformly distributed 64-bit values from a generator the host seeds (the OS
/// in production, a fixed seed in tests). Protocols use it for jitter (RFC 4861 §6.3.2's
/// random reachable time, RFC 3376 report delays), identifiers and port selection.
pub trait RngContext {
    /// The next random value.
    fn random_u64(&mut self) -> u64;

    /// A random value in `0..bound`, or 0 if `bound` is 0 (Lemire's multiply-shift; its bias
    /// below 2^-32 for the bounds protocols use does not matter here).
    fn random_below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.random_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A random duration in `range` (the start if the range is empty), at nanosecond
    /// resolution.
    fn random_duration(&mut self, range: Range<Duration>) -> Duration {
        let span = range.end.saturating_sub(range.start);
        let span_nanos = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
        range.start + Duration::from_nanos(self.random_below(span_nanos))
    }
}
