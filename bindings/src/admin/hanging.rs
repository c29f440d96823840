//! The hanging-get queue behind every watcher the admin server serves
//! (`fuchsia.net.interfaces/Watcher.Watch`, `fuchsia.net.routes/WatcherV4.Watch`,
//! `fuchsia.net.neighbor/EntryIterator.GetNext`).
//!
//! A client asks; if events are queued the reply goes at once, otherwise the request is
//! parked until an event arrives. One request may be parked at a time: a second one while the
//! first waits breaks the protocol, and the server closes the watcher (as the SDK's servers
//! do). The queue is bounded: a client that stops asking cannot make the server hold an
//! unbounded backlog; past the bound the watcher is closed (with an epitaph) and counted.

use std::collections::VecDeque;

/// What went wrong with a watcher; the server closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HangingError {
    /// A second request arrived while one was parked.
    AlreadyWaiting,
    /// More events were queued than the bound allows.
    Overflow,
}

/// Events waiting for a client, and its parked request.
#[derive(Debug)]
pub(crate) struct Hanging<E> {
    queue: VecDeque<E>,
    limit: usize,
    /// The transaction id of the parked request.
    parked: Option<u32>,
}

impl<E> Hanging<E> {
    /// A watcher starting with `initial` (the `existing` events and `idle`, which the core's
    /// own table bounds already) and holding at most `limit` events beyond them.
    pub(crate) fn new(initial: impl IntoIterator<Item = E>, limit: usize) -> Self {
        let queue: VecDeque<E> = initial.into_iter().collect();
        let limit = queue.len().saturating_add(limit);
        Self { queue, limit, parked: None }
    }

    /// Queues an event.
    pub(crate) fn push(&mut self, event: E) -> Result<(), HangingError> {
        if self.queue.len() >= self.limit {
            return Err(HangingError::Overflow);
        }
        self.queue.push_back(event);
        Ok(())
    }

    /// A request `txid` arrived: parks it (the caller then calls [`take`](Self::take)).
    pub(crate) fn park(&mut self, txid: u32) -> Result<(), HangingError> {
        if self.parked.is_some() {
            return Err(HangingError::AlreadyWaiting);
        }
        self.parked = Some(txid);
        Ok(())
    }

    /// If a request is parked and events wait, the request's txid and up to `max` events
    /// to answer it with.
    pub(crate) fn take(&mut self, max: usize) -> Option<(u32, impl Iterator<Item = E> + '_)> {
        if self.queue.is_empty() {
            return None;
        }
        let txid = self.parked.take()?;
        let n = self.queue.len().min(max.max(1));
        Some((txid, self.queue.drain(..n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_waits_for_an_event_and_a_second_one_is_refused() {
        let mut h = Hanging::new([1, 2], 2);
        assert!(h.take(10).is_none(), "nobody asked");
        h.park(7).unwrap();
        let (txid, events) = h.take(1).unwrap();
        assert_eq!((txid, events.collect::<Vec<_>>()), (7, vec![1]));
        h.park(8).unwrap();
        let (txid, events) = h.take(10).unwrap();
        assert_eq!((txid, events.collect::<Vec<_>>()), (8, vec![2]));
        h.park(9).unwrap();
        assert!(h.take(10).is_none(), "parked until an event");
        assert_eq!(h.park(10), Err(HangingError::AlreadyWaiting));
        h.push(3).unwrap();
        let (txid, events) = h.take(10).unwrap();
        assert_eq!((txid, events.collect::<Vec<_>>()), (9, vec![3]));
    }

    #[test]
    fn the_queue_is_bounded_beyond_the_initial_events() {
        let mut h = Hanging::new(0..100, 2);
        h.push(1).unwrap();
        h.push(2).unwrap();
        assert_eq!(h.push(3), Err(HangingError::Overflow));
        assert_eq!(h.queue.len(), 102);
    }
}
