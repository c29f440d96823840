//! The event loop's timers: a binary heap of deadlines plus a map from each timer id to its
//! current deadline and generation. Rescheduling or cancelling a timer only updates the map;
//! the stale heap entry is recognised (its generation no longer matches) and skipped when it
//! reaches the top. The heap is rebuilt from the map when stale entries outnumber live ones,
//! so its size stays bounded by twice the number of live timers.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use netstack_core::time::Instant;

/// Timers keyed by `Id`.
#[derive(Debug)]
pub struct TimerHeap<Id> {
    heap: BinaryHeap<Reverse<(Instant, u64, Id)>>,
    live: HashMap<Id, (Instant, u64)>,
    next_generation: u64,
}

impl<Id> Default for TimerHeap<Id> {
    fn default() -> Self {
        Self { heap: BinaryHeap::new(), live: HashMap::new(), next_generation: 0 }
    }
}

impl<Id: Copy + Eq + Hash + Ord> TimerHeap<Id> {
    /// Schedules `id` at `at`, replacing its previous deadline, which is returned.
    pub fn schedule(&mut self, id: Id, at: Instant) -> Option<Instant> {
        self.next_generation += 1;
        let previous = self.live.insert(id, (at, self.next_generation)).map(|(at, _)| at);
        self.heap.push(Reverse((at, self.next_generation, id)));
        if self.heap.len() > 2 * self.live.len() + 64 {
            self.compact();
        }
        previous
    }

    /// Cancels `id`; returns the deadline it had.
    pub fn cancel(&mut self, id: &Id) -> Option<Instant> {
        self.live.remove(id).map(|(at, _)| at)
    }

    /// `id`'s deadline, if scheduled.
    pub fn scheduled_at(&self, id: &Id) -> Option<Instant> {
        self.live.get(id).map(|&(at, _)| at)
    }

    /// The earliest live deadline.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        self.drop_stale_top();
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes and returns a timer due at or before `now`, earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Option<Id> {
        self.drop_stale_top();
        let Reverse((at, _, id)) = *self.heap.peek()?;
        if at > now {
            return None;
        }
        self.heap.pop();
        self.live.remove(&id);
        Some(id)
    }

    /// Live timers.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether no timer is scheduled.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    fn drop_stale_top(&mut self) {
        while let Some(Reverse((at, generation, id))) = self.heap.peek() {
            if self.live.get(id) == Some(&(*at, *generation)) {
                return;
            }
            self.heap.pop();
        }
    }

    fn compact(&mut self) {
        self.heap.clear();
        self.heap.extend(self.live.iter().map(|(&id, &(at, generation))| Reverse((at, generation, id))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn timers_fire_in_deadline_order_once_due() {
        let mut timers = TimerHeap::default();
        timers.schedule('b', t(20));
        timers.schedule('a', t(10));
        timers.schedule('c', t(30));
        assert_eq!(timers.next_deadline(), Some(t(10)));
        assert_eq!(timers.pop_due(t(5)), None);
        assert_eq!(timers.pop_due(t(25)), Some('a'));
        assert_eq!(timers.pop_due(t(25)), Some('b'));
        assert_eq!(timers.pop_due(t(25)), None);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn rescheduling_and_cancelling_leave_no_ghost_firings() {
        let mut timers = TimerHeap::default();
        assert_eq!(timers.schedule('a', t(10)), None);
        assert_eq!(timers.schedule('a', t(50)), Some(t(10)));
        assert_eq!(timers.scheduled_at(&'a'), Some(t(50)));
        timers.schedule('b', t(20));
        assert_eq!(timers.cancel(&'b'), Some(t(20)));
        assert_eq!(timers.cancel(&'b'), None);
        assert_eq!(timers.next_deadline(), Some(t(50)));
        assert_eq!(timers.pop_due(t(40)), None);
        assert_eq!(timers.pop_due(t(50)), Some('a'));
        assert!(timers.is_empty());
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn stale_entries_stay_bounded() {
        let mut timers = TimerHeap::default();
        for i in 0..10_000u64 {
            timers.schedule(i % 4, t(i));
        }
        assert!(timers.heap.len() <= 2 * 4 + 65, "{}", timers.heap.len());
        let fired: Vec<_> = std::iter::from_fn(|| timers.pop_due(t(u64::MAX / 2_000_000))).collect();
        assert_eq!(fired, [0, 1, 2, 3]);
    }
}
