//! The frame buffer pool every device session shares: buffers are allocated once, when the
//! pool is made, and handed out as [`PoolBuffer`] handles that go back to the pool when
//! dropped. Received frames, frames the stack builds and datagrams queued on sockets all live
//! in these buffers, so the data path allocates nothing per frame.
//!
//! Fuchsia's network-device sessions have one buffer size; the core also needs a few large
//! buffers to hold reassembled datagrams (up to 64 KiB), so the pool has two classes: `frame`
//! buffers (one frame at the device MTU plus headroom) and `large` ones. A request takes the
//! smallest class that fits. The pool is owned by the event-loop thread (`Rc`, not `Arc`):
//! its buffers never cross threads.

use std::cell::RefCell;
use std::rc::Rc;

/// Bytes in front of every frame, for headers a backend may need to prepend or read
/// (IFF_VNET_HDR's `virtio_net_hdr` is 12 bytes) without moving the frame.
pub const HEADROOM: usize = 64;

/// The largest IPv4 or IPv6 datagram (without jumbograms) and its link header.
pub const LARGE_BUFFER_LEN: usize = 65_535 + 64;

/// How many buffers of each class, and how big a frame buffer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Frame buffers.
    pub frame_count: usize,
    /// Bytes in each frame buffer, headroom included.
    pub frame_len: usize,
    /// Large buffers, for reassembled datagrams.
    pub large_count: usize,
}

impl PoolConfig {
    /// A pool whose frame buffers hold a frame of an `mtu`-byte IP packet (with an 802.1Q
    /// Ethernet header) behind the headroom, and at least 2048 bytes.
    pub fn for_mtu(mtu: u32) -> Self {
        let frame = usize::try_from(mtu).unwrap_or(usize::MAX).saturating_add(18);
        Self { frame_len: HEADROOM + frame.max(2048), ..Self::default() }
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self { frame_count: 2048, frame_len: HEADROOM + 2048, large_count: 16 }
    }
}

/// What the pool counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolCounters {
    /// Requests refused: no buffer of a class big enough was free.
    pub exhausted: u64,
    /// Requests larger than the largest class.
    pub too_large: u64,
    /// Copies made by cloning a buffer while its class was empty: allocated outside the pool
    /// and freed, not pooled, when dropped.
    pub clone_overflow: u64,
}

/// One size class: its free buffers, and how many it owns.
#[derive(Debug)]
struct Class {
    len: usize,
    count: usize,
    free: Vec<Box<[u8]>>,
}

impl Class {
    fn new(len: usize, count: usize) -> Self {
        let free = (0..count).map(|_| vec![0u8; len].into_boxed_slice()).collect();
        Self { len, count, free }
    }
}

#[derive(Debug)]
struct Shared {
    classes: [Class; 2],
    counters: PoolCounters,
}

/// The pool; cheap to clone (a shared handle).
#[derive(Clone, Debug)]
pub struct Pool {
    shared: Rc<RefCell<Shared>>,
}

impl Pool {
    /// Allocates every buffer now.
    pub fn new(config: PoolConfig) -> Self {
        let classes = [
            Class::new(config.frame_len, config.frame_count),
            Class::new(LARGE_BUFFER_LEN.max(config.frame_len), config.large_count),
        ];
        Self { shared: Rc::new(RefCell::new(Shared { classes, counters: PoolCounters::default() })) }
    }

    /// A buffer of at least `len` bytes, or `None` (counted) when none is free.
    pub fn alloc(&self, len: usize) -> Option<PoolBuffer> {
        let mut shared = self.shared.borrow_mut();
        let Some(class) = shared.classes.iter().position(|c| c.len >= len) else {
            shared.counters.too_large += 1;
            return None;
        };
        let taken = shared.classes[class..].iter_mut().filter(|c| c.len >= len).find_map(|c| c.free.pop());
        match taken {
            Some(data) => Some(PoolBuffer { data, pool: Some(self.clone()) }),
            None => {
                shared.counters.exhausted += 1;
                None
            }
        }
    }

    /// Bytes in a frame buffer.
    pub fn frame_len(&self) -> usize {
        self.shared.borrow().classes[0].len
    }

    /// Free buffers in each class: (frame, large).
    pub fn free(&self) -> (usize, usize) {
        let shared = self.shared.borrow();
        (shared.classes[0].free.len(), shared.classes[1].free.len())
    }

    /// What the pool counted.
    pub fn counters(&self) -> PoolCounters {
        self.shared.borrow().counters
    }

    fn give_back(&self, data: Box<[u8]>) {
        let mut shared = self.shared.borrow_mut();
        if let Some(class) = shared.classes.iter_mut().find(|c| c.len == data.len()) {
            if class.free.len() < class.count {
                class.free.push(data);
            }
        }
    }
}

/// A buffer from the pool: the stack's frame type. Dropping it returns it to the pool.
#[derive(Debug)]
pub struct PoolBuffer {
    data: Box<[u8]>,
    /// `None` for the rare copy made outside the pool.
    pool: Option<Pool>,
}

impl AsRef<[u8]> for PoolBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl AsMut<[u8]> for PoolBuffer {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }
}

impl Clone for PoolBuffer {
    /// Another buffer holding the same bytes (the stack clones only to hand one multicast
    /// datagram to several sockets). When the pool is empty the copy is allocated outside it
    /// and counted, because `Clone` cannot fail.
    fn clone(&self) -> Self {
        if let Some(pool) = &self.pool {
            if let Some(mut copy) = pool.alloc(self.data.len()) {
                copy.data[..self.data.len()].copy_from_slice(&self.data);
                return copy;
            }
            pool.shared.borrow_mut().counters.clone_overflow += 1;
        }
        Self { data: self.data.clone(), pool: None }
    }
}

impl Drop for PoolBuffer {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.give_back(std::mem::take(&mut self.data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Pool {
        Pool::new(PoolConfig { frame_count: 2, frame_len: 100, large_count: 1 })
    }

    #[test]
    fn buffers_return_to_the_pool_when_dropped() {
        let pool = small();
        let a = pool.alloc(50).unwrap();
        let b = pool.alloc(100).unwrap();
        assert_eq!(pool.free(), (0, 1));
        drop(a);
        assert_eq!(pool.free(), (1, 1));
        drop(b);
        assert_eq!(pool.free(), (2, 1));
    }

    #[test]
    fn requests_take_the_smallest_class_that_fits_and_fall_back_to_larger() {
        let pool = small();
        let large = pool.alloc(101).unwrap();
        assert_eq!(large.as_ref().len(), LARGE_BUFFER_LEN);
        drop(large);
        let (_a, _b) = (pool.alloc(10).unwrap(), pool.alloc(10).unwrap());
        let c = pool.alloc(10).expect("the large class serves a small request when frames run out");
        assert_eq!(c.as_ref().len(), LARGE_BUFFER_LEN);
        assert!(pool.alloc(10).is_none());
        assert_eq!(pool.counters().exhausted, 1);
        assert!(pool.alloc(LARGE_BUFFER_LEN + 1).is_none());
        assert_eq!(pool.counters().too_large, 1);
    }

    #[test]
    fn clone_copies_into_another_pool_buffer_or_outside_when_empty() {
        let pool = small();
        let mut a = pool.alloc(10).unwrap();
        a.as_mut()[..3].copy_from_slice(b"abc");
        let b = a.clone();
        assert_eq!(&b.as_ref()[..3], b"abc");
        let _large = pool.alloc(LARGE_BUFFER_LEN).unwrap();
        let c = a.clone();
        assert_eq!(&c.as_ref()[..3], b"abc");
        assert_eq!(pool.counters().clone_overflow, 1);
        drop((a, b, c));
        assert_eq!(pool.free(), (2, 0), "the overflow copy is not pooled");
    }

    #[test]
    fn frame_buffers_fit_the_mtu() {
        assert_eq!(PoolConfig::for_mtu(1500).frame_len, HEADROOM + 2048);
        assert_eq!(PoolConfig::for_mtu(9000).frame_len, HEADROOM + 9018);
    }
}
