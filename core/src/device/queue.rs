//! The bounded transmit queue every device has: the core enqueues finished frames, the
//! bindings dequeue them in batches into the device's TX FIFO. A full queue drops the frame
//! and counts it, as a full Linux qdisc does, so a slow device costs frames, never memory.

use alloc::collections::VecDeque;

/// Limits of a transmit queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransmitQueueConfig {
    /// Frames the queue holds at most (Linux's default txqueuelen is 1000).
    pub max_frames: usize,
    /// Bytes the queued frames may add up to.
    pub max_bytes: usize,
}

impl Default for TransmitQueueConfig {
    fn default() -> Self {
        Self { max_frames: 1000, max_bytes: 4 * 1024 * 1024 }
    }
}

/// What happened to frames offered to a transmit queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransmitQueueCounters {
    /// Frames accepted into the queue.
    pub queued: u64,
    /// Frames handed to the device.
    pub dequeued: u64,
    /// Frames dropped because the queue was full (Linux's qdisc "dropped").
    pub dropped_full: u64,
}

/// The frame was dropped: the queue is full. It carries the frame back so its buffer can
/// return to its pool.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("transmit queue full")]
pub struct QueueFull<B>(pub B);

/// A bounded FIFO of frames waiting for the device, generic over the frame buffer type (a
/// pool buffer in the bindings: queuing moves it, never copies it).
#[derive(Debug)]
pub struct TransmitQueue<B> {
    frames: VecDeque<B>,
    bytes: usize,
    config: TransmitQueueConfig,
    counters: TransmitQueueCounters,
}

impl<B: AsRef<[u8]>> TransmitQueue<B> {
    /// An empty queue with `config`'s limits. Its storage grows to `max_frames` entries at
    /// most and is then reused.
    pub fn new(config: TransmitQueueConfig) -> Self {
        Self { frames: VecDeque::new(), bytes: 0, config, counters: TransmitQueueCounters::default() }
    }

    /// Queues `frame`; if that would exceed either limit, drops it and gives it back.
    pub fn enqueue(&mut self, frame: B) -> Result<(), QueueFull<B>> {
        let len = frame.as_ref().len();
        if self.frames.len() >= self.config.max_frames || self.bytes + len > self.config.max_bytes {
            self.counters.dropped_full += 1;
            return Err(QueueFull(frame));
        }
        self.bytes += len;
        self.frames.push_back(frame);
        self.counters.queued += 1;
        Ok(())
    }

    /// Takes the oldest frame.
    pub fn dequeue(&mut self) -> Option<B> {
        let frame = self.frames.pop_front()?;
        self.bytes -= frame.as_ref().len();
        self.counters.dequeued += 1;
        Some(frame)
    }

    /// Moves up to `budget` frames, oldest first, into `out`; returns how many.
    pub fn dequeue_batch(&mut self, budget: usize, out: &mut impl Extend<B>) -> usize {
        let n = budget.min(self.frames.len());
        out.extend((0..n).filter_map(|_| self.dequeue()));
        n
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The queue's counters.
    pub fn counters(&self) -> TransmitQueueCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn full_queue_drops_and_counts() {
        let mut q = TransmitQueue::new(TransmitQueueConfig { max_frames: 2, max_bytes: 1000 });
        assert!(q.enqueue(vec![0u8; 10]).is_ok());
        assert!(q.enqueue(vec![1u8; 10]).is_ok());
        assert_eq!(q.enqueue(vec![2u8; 10]), Err(QueueFull(vec![2u8; 10])));
        assert_eq!(q.dequeue(), Some(vec![0u8; 10]));
        assert!(q.enqueue(vec![3u8; 10]).is_ok());
        assert_eq!(q.counters(), TransmitQueueCounters { queued: 3, dequeued: 1, dropped_full: 1 });
    }

    #[test]
    fn byte_limit_applies_too() {
        let mut q = TransmitQueue::new(TransmitQueueConfig { max_frames: 100, max_bytes: 3000 });
        assert!(q.enqueue(vec![0u8; 1500]).is_ok());
        assert!(q.enqueue(vec![0u8; 1500]).is_ok());
        assert!(q.enqueue(vec![0u8; 1]).is_err());
        assert_eq!(q.bytes(), 3000);
    }

    #[test]
    fn batches_respect_the_budget_and_order() {
        let mut q = TransmitQueue::new(TransmitQueueConfig::default());
        for i in 0..10u8 {
            q.enqueue(vec![i]).unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(q.dequeue_batch(4, &mut out), 4);
        assert_eq!(out, [vec![0], vec![1], vec![2], vec![3]]);
        assert_eq!(q.len(), 6);
    }

    proptest! {
        #[test]
        fn limits_hold_under_any_sequence(ops in proptest::collection::vec((any::<bool>(), 0usize..2000), 0..300)) {
            let config = TransmitQueueConfig { max_frames: 16, max_bytes: 8000 };
            let mut q = TransmitQueue::new(config);
            for (push, len) in ops {
                if push { let _ = q.enqueue(vec![0u8; len]); } else { q.dequeue(); }
                prop_assert!(q.len() <= config.max_frames && q.bytes() <= config.max_bytes);
            }
            let c = q.counters();
            prop_assert_eq!(c.queued, c.dequeued + q.len() as u64);
        }
    }
}
