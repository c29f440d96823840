//! The byte buffers of a connection: the send ring the socket writes into and segments are
//! serialized from, and the receive ring with its out-of-order reassembly.
//!
//! Both rings are allocated once, at their configured size (SO_SNDBUF / SO_RCVBUF), on first
//! use; nothing is allocated per segment. Out-of-order data is stored in the receive ring's
//! free space at its final position (RFC 9293 §3.10.7.4 lets a receiver keep segments beyond
//! RCV.NXT that fall in the window), and only the byte ranges held are tracked, in a list
//! bounded by [`Reassembly::MAX_RANGES`]: memory stays bounded by the window however a hostile
//! peer fragments its data.

use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

/// Copies as much of `src` as fits into `first`, then `second`; returns how much.
pub fn copy_to_runs(src: &[u8], first: &mut [u8], second: &mut [u8]) -> usize {
    let a = src.len().min(first.len());
    first[..a].copy_from_slice(&src[..a]);
    let b = (src.len() - a).min(second.len());
    second[..b].copy_from_slice(&src[a..a + b]);
    a + b
}

/// Copies as much of `first` then `second` as fits into `dst`; returns how much.
pub fn copy_from_runs(first: &[u8], second: &[u8], dst: &mut [u8]) -> usize {
    let a = dst.len().min(first.len());
    dst[..a].copy_from_slice(&first[..a]);
    let b = (dst.len() - a).min(second.len());
    dst[a..a + b].copy_from_slice(&second[..b]);
    a + b
}

/// A ring of `capacity` bytes, allocated on first write, holding `len` bytes from `head`:
/// the storage and arithmetic both buffers share.
#[derive(Debug)]
struct Ring {
    bytes: Vec<u8>,
    capacity: usize,
    head: usize,
    len: usize,
}

impl Ring {
    fn new(capacity: usize) -> Self {
        Self { bytes: Vec::new(), capacity, head: 0, len: 0 }
    }

    fn free(&self) -> usize {
        self.capacity - self.len
    }

    /// Allocates the ring at its capacity if it is not yet.
    fn allocate(&mut self) {
        if self.bytes.len() != self.capacity {
            self.bytes = vec![0; self.capacity];
        }
    }

    /// Where the `n` bytes starting `offset` bytes past the head lie: the run up to the
    /// ring's end, then the run wrapped to its start (empty unless they wrap). `offset + n`
    /// must not exceed the capacity.
    fn runs(&self, offset: usize, n: usize) -> (Range<usize>, Range<usize>) {
        let cap = self.bytes.len();
        if cap == 0 || n == 0 {
            return (0..0, 0..0);
        }
        let at = (self.head + offset) % cap;
        let first = n.min(cap - at);
        (at..at + first, 0..n - first)
    }

    /// The `n` bytes starting `offset` bytes past the head, as two mutable runs.
    fn runs_mut(&mut self, offset: usize, n: usize) -> (&mut [u8], &mut [u8]) {
        let (first, second) = self.runs(offset, n);
        let (low, high) = self.bytes.split_at_mut(first.start);
        (&mut high[..first.len()], &mut low[second])
    }

    /// The `n` bytes starting `offset` bytes past the head, as two runs.
    fn runs_ref(&self, offset: usize, n: usize) -> (&[u8], &[u8]) {
        let (first, second) = self.runs(offset, n);
        (&self.bytes[first], &self.bytes[second])
    }

    /// Copies `src` to `offset` bytes past the held data (wrapping), allocating the ring on
    /// first use; `len` is left to the caller. `src` must fit the free space past `offset`.
    fn write_beyond(&mut self, offset: usize, src: &[u8]) {
        self.allocate();
        let (first, second) = self.runs_mut(self.len + offset, src.len());
        copy_to_runs(src, first, second);
    }

    /// Copies the ring's bytes from `offset` past the head (wrapping) into `dst`.
    fn read_at(&self, offset: usize, dst: &mut [u8]) {
        let (first, second) = self.runs_ref(offset, dst.len());
        copy_from_runs(first, second, dst);
    }

    /// Drops the `n` oldest bytes (at most `len`).
    fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.len -= n;
        self.head = if self.capacity == 0 { 0 } else { (self.head + n) % self.capacity };
    }

    /// Frees the memory (allocated again on the next write).
    fn release(&mut self) {
        self.bytes = Vec::new();
        self.head = 0;
    }

    /// Moves to a ring of `capacity` bytes, keeping the first `keep` bytes from the head.
    fn resize(&mut self, capacity: usize, keep: usize) {
        if !self.bytes.is_empty() {
            let mut bytes = vec![0; capacity];
            self.read_at(0, &mut bytes[..keep]);
            self.bytes = bytes;
        }
        self.head = 0;
        self.capacity = capacity;
    }
}

/// The send ring: bytes from SND.UNA on, the unacknowledged ones first, then the unsent ones.
#[derive(Debug)]
pub struct SendBuffer {
    ring: Ring,
}

impl SendBuffer {
    /// An empty ring of `capacity` bytes (allocated on the first write).
    pub fn new(capacity: usize) -> Self {
        Self { ring: Ring::new(capacity) }
    }

    /// Bytes held (unacknowledged plus unsent).
    pub fn len(&self) -> usize {
        self.ring.len
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.ring.len == 0
    }

    /// The configured size.
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// Room for more data.
    pub fn free(&self) -> usize {
        self.ring.free()
    }

    /// Appends as much of `data` as fits; returns how much.
    pub fn write(&mut self, data: &[u8]) -> usize {
        self.write_with(|first, second| copy_to_runs(data, first, second))
    }

    /// Appends what `fill` writes into the free space, lent as two runs (the second empty
    /// unless the space wraps around the ring's end), the first filled before the second;
    /// `fill` returns how many bytes it wrote, at most the two runs' length (more is
    /// clamped). Returns how many were appended.
    pub fn write_with(&mut self, fill: impl FnOnce(&mut [u8], &mut [u8]) -> usize) -> usize {
        self.ring.allocate();
        let free = self.free();
        let (first, second) = self.ring.runs_mut(self.ring.len, free);
        let n = fill(first, second).min(free);
        self.ring.len += n;
        n
    }

    /// Copies the bytes `offset..offset + dst.len()` (counted from the oldest byte) into `dst`,
    /// clipped to what is held; returns how many were copied.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.ring.len.saturating_sub(offset));
        self.ring.read_at(offset, &mut dst[..n]);
        n
    }

    /// Drops the `n` oldest bytes (acknowledged by the peer).
    pub fn consume(&mut self, n: usize) {
        self.ring.consume(n);
    }

    /// Bytes allocated for the ring.
    pub fn allocated(&self) -> usize {
        self.ring.bytes.capacity()
    }

    /// Frees the ring's memory if it holds nothing (it is allocated again on the next write).
    pub fn release_if_empty(&mut self) {
        if self.ring.len == 0 {
            self.ring.release();
        }
    }

    /// Changes the size (SO_SNDBUF); refused (returns false) below the bytes held.
    pub fn set_capacity(&mut self, capacity: usize) -> bool {
        if capacity < self.ring.len {
            return false;
        }
        self.ring.resize(capacity, self.ring.len);
        true
    }
}

/// A byte range of the stream, as stream offsets (bytes since the first data byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamRange {
    /// First offset of the range.
    pub start: u64,
    /// Offset just past the range.
    pub end: u64,
}

/// The out-of-order ranges held beyond the contiguous data, sorted and disjoint.
#[derive(Debug, Default)]
pub struct Reassembly {
    ranges: Vec<StreamRange>,
    /// The range holding the most recently received out-of-order segment, reported first in
    /// SACK blocks (RFC 2018 §4).
    latest: Option<StreamRange>,
}

impl Reassembly {
    /// The most disjoint ranges kept; a segment that would need another is dropped.
    pub const MAX_RANGES: usize = 32;

    /// Records `range`; false if it would need more than [`MAX_RANGES`](Self::MAX_RANGES).
    fn insert(&mut self, range: StreamRange) -> bool {
        let mut merged = range;
        let first = self.ranges.iter().position(|r| r.end >= merged.start).unwrap_or(self.ranges.len());
        let mut last = first;
        while last < self.ranges.len() && self.ranges[last].start <= merged.end {
            merged.start = merged.start.min(self.ranges[last].start);
            merged.end = merged.end.max(self.ranges[last].end);
            last += 1;
        }
        if first == last && self.ranges.len() >= Self::MAX_RANGES {
            return false;
        }
        if self.ranges.capacity() == 0 {
            self.ranges.reserve_exact(Self::MAX_RANGES);
        }
        self.ranges.splice(first..last, core::iter::once(merged));
        self.latest = Some(merged);
        true
    }

    /// Removes what is now contiguous with `contiguous_end`; returns the new contiguous end.
    fn advance(&mut self, contiguous_end: u64) -> u64 {
        let mut end = contiguous_end;
        let mut drop = 0;
        for r in &self.ranges {
            if r.start > end {
                break;
            }
            end = end.max(r.end);
            drop += 1;
        }
        self.ranges.drain(..drop);
        if self.latest.is_some_and(|l| l.end <= end) {
            self.latest = None;
        }
        end
    }

    /// The ranges held, lowest first.
    pub fn ranges(&self) -> &[StreamRange] {
        &self.ranges
    }

    /// Up to `max` ranges for SACK blocks: the one holding the latest segment first, then the
    /// others from the highest down (RFC 2018 §4).
    pub fn sack_ranges(&self, out: &mut [StreamRange]) -> usize {
        let mut n = 0;
        if let Some(latest) = self.latest {
            if let Some(slot) = out.get_mut(0) {
                *slot = latest;
                n = 1;
            }
        }
        for r in self.ranges.iter().rev() {
            if n >= out.len() {
                break;
            }
            if Some(*r) != self.latest {
                out[n] = *r;
                n += 1;
            }
        }
        n
    }
}

/// The receive ring: in-order bytes not yet read by the application, followed in the free
/// space by any out-of-order data held for reassembly.
#[derive(Debug)]
pub struct RecvBuffer {
    /// The in-order data; out-of-order data sits in its free space.
    ring: Ring,
    /// Stream offset of the first byte after the contiguous data (RCV.NXT's offset).
    contiguous_end: u64,
    reassembly: Reassembly,
}

/// What storing a segment's data did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Bytes that became readable in order (RCV.NXT advances by this much).
    pub advanced: usize,
    /// Whether the data was stored out of order.
    pub out_of_order: bool,
    /// Whether the data was dropped: beyond the buffer or needing too many ranges.
    pub dropped: bool,
}

impl RecvBuffer {
    /// An empty ring of `capacity` bytes (allocated on the first write).
    pub fn new(capacity: usize) -> Self {
        Self { ring: Ring::new(capacity), contiguous_end: 0, reassembly: Reassembly::default() }
    }

    /// In-order bytes ready for the application.
    pub fn len(&self) -> usize {
        self.ring.len
    }

    /// Whether no in-order bytes are ready.
    pub fn is_empty(&self) -> bool {
        self.ring.len == 0
    }

    /// The configured size.
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// Room beyond the in-order data: the most the receive window may offer.
    pub fn free(&self) -> usize {
        self.ring.free()
    }

    /// The out-of-order ranges held.
    pub fn reassembly(&self) -> &Reassembly {
        &self.reassembly
    }

    /// Stream offset of RCV.NXT.
    pub fn contiguous_end(&self) -> u64 {
        self.contiguous_end
    }

    /// Bytes held out of order.
    pub fn out_of_order_bytes(&self) -> u64 {
        self.reassembly.ranges.iter().map(|r| r.end - r.start).sum()
    }

    /// Stores `data` found `offset` bytes after RCV.NXT, clipped to the free space.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> WriteOutcome {
        let room = self.free().saturating_sub(offset);
        let n = data.len().min(room);
        if n == 0 {
            return WriteOutcome { advanced: 0, out_of_order: offset > 0, dropped: !data.is_empty() };
        }
        let start = self.contiguous_end + offset as u64;
        if offset > 0 {
            let range = StreamRange { start, end: start + n as u64 };
            if !self.reassembly.insert(range) {
                return WriteOutcome { advanced: 0, out_of_order: true, dropped: true };
            }
            self.ring.write_beyond(offset, &data[..n]);
            return WriteOutcome { advanced: 0, out_of_order: true, dropped: false };
        }
        self.ring.write_beyond(0, &data[..n]);
        let new_end = self.reassembly.advance(self.contiguous_end + n as u64);
        let advanced = (new_end - self.contiguous_end) as usize;
        self.contiguous_end = new_end;
        self.ring.len += advanced;
        WriteOutcome { advanced, out_of_order: false, dropped: false }
    }

    /// Moves in-order bytes into `dst`; returns how many.
    pub fn read(&mut self, dst: &mut [u8]) -> usize {
        self.read_with(|first, second| copy_from_runs(first, second, dst))
    }

    /// Lends the in-order bytes to `drain` as two runs (the second empty unless they wrap
    /// around the ring's end; the first holds the older bytes) and consumes as many as it
    /// says it took (at most their length: more is clamped). Returns how many.
    pub fn read_with(&mut self, drain: impl FnOnce(&[u8], &[u8]) -> usize) -> usize {
        let len = self.ring.len;
        let (first, second) = self.ring.runs_ref(0, len);
        let n = drain(first, second).min(len);
        self.ring.consume(n);
        n
    }

    /// Copies in-order bytes into `dst` without consuming them (MSG_PEEK).
    pub fn peek(&self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.ring.len);
        self.ring.read_at(0, &mut dst[..n]);
        n
    }

    /// Bytes allocated for the ring and the reassembly ranges.
    pub fn allocated(&self) -> usize {
        self.ring.bytes.capacity() + self.reassembly.ranges.capacity() * core::mem::size_of::<StreamRange>()
    }

    /// Frees the ring's memory if it holds nothing, in order or out of order.
    pub fn release_if_empty(&mut self) {
        if self.ring.len == 0 && self.reassembly.ranges.is_empty() {
            self.ring.release();
            self.reassembly.ranges = Vec::new();
        }
    }

    /// Grows the ring to `capacity` bytes keeping everything held, in order and out of
    /// order (receive-buffer auto-tuning); smaller sizes are ignored.
    pub fn grow(&mut self, capacity: usize) {
        if capacity > self.ring.capacity {
            // The whole old ring: out-of-order data lies beyond the in-order bytes.
            self.ring.resize(capacity, self.ring.capacity);
        }
    }

    /// Changes the size (SO_RCVBUF); refused (false) while data is held or below what the
    /// window already offered (`min`).
    pub fn set_capacity(&mut self, capacity: usize, min: usize) -> bool {
        if self.ring.len != 0 || !self.reassembly.ranges.is_empty() || capacity < min {
            return false;
        }
        self.ring.release();
        self.ring.capacity = capacity;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_ring_wraps_and_reads_at_offsets() {
        let mut b = SendBuffer::new(8);
        assert_eq!(b.write(b"abcdef"), 6);
        b.consume(4);
        assert_eq!(b.write(b"ghijklmn"), 6);
        let mut out = [0u8; 8];
        assert_eq!(b.read_at(0, &mut out), 8);
        assert_eq!(&out, b"efghijkl");
        assert_eq!(b.read_at(5, &mut out[..2]), 2);
        assert_eq!(&out[..2], b"jk");
        assert_eq!(b.read_at(9, &mut out), 0);
        assert!(b.set_capacity(16));
        assert_eq!(b.write(b"mn"), 2);
        assert_eq!(b.read_at(6, &mut out[..4]), 4);
        assert_eq!(&out[..4], b"klmn");
    }

    #[test]
    fn rfc9293_3_10_7_4_out_of_order_data_is_reassembled() {
        let mut r = RecvBuffer::new(16);
        let o = r.write_at(4, b"efgh");
        assert!(o.out_of_order && o.advanced == 0);
        assert_eq!(r.write_at(10, b"kl").advanced, 0);
        assert_eq!(r.reassembly().ranges().len(), 2);
        let o = r.write_at(0, b"abcd");
        assert_eq!(o.advanced, 8);
        assert_eq!(r.write_at(0, b"ijk").advanced, 4);
        let mut out = [0u8; 16];
        assert_eq!(r.read(&mut out), 12);
        assert_eq!(&out[..12], b"abcdefghijkl");
        assert!(r.reassembly().ranges().is_empty());
    }

    #[test]
    fn growing_keeps_in_order_and_out_of_order_data() {
        let mut r = RecvBuffer::new(8);
        r.write_at(0, b"abcdef");
        let mut out = [0u8; 8];
        assert_eq!(r.read(&mut out[..4]), 4);
        r.write_at(0, b"gh");
        r.write_at(2, b"kl");
        r.grow(32);
        assert_eq!(r.free(), 28);
        assert_eq!(r.write_at(0, b"ij").advanced, 4);
        assert_eq!(r.read(&mut out), 8);
        assert_eq!(&out, b"efghijkl");
    }

    #[test]
    fn data_beyond_the_buffer_is_clipped() {
        let mut r = RecvBuffer::new(4);
        assert_eq!(r.write_at(0, b"abcdef").advanced, 4);
        let o = r.write_at(0, b"x");
        assert!(o.dropped);
        assert_eq!(r.free(), 0);
    }

    #[test]
    fn reassembly_ranges_are_bounded() {
        let mut r = RecvBuffer::new(1 << 16);
        for i in 0..Reassembly::MAX_RANGES {
            assert!(!r.write_at(2 + i * 4, b"x").dropped);
        }
        assert!(r.write_at(2 + Reassembly::MAX_RANGES * 4, b"x").dropped);
        // Extending an existing range needs no new one.
        assert!(!r.write_at(3, b"y").dropped);
    }

    #[test]
    fn rfc2018_4_first_sack_block_holds_the_latest_segment() {
        let mut r = RecvBuffer::new(100);
        r.write_at(10, b"aa");
        r.write_at(30, b"bb");
        r.write_at(20, b"cc");
        let mut out = [StreamRange { start: 0, end: 0 }; 3];
        assert_eq!(r.reassembly().sack_ranges(&mut out), 3);
        assert_eq!(out[0], StreamRange { start: 20, end: 22 });
        assert_eq!(out[1], StreamRange { start: 30, end: 32 });
        assert_eq!(out[2], StreamRange { start: 10, end: 12 });
    }

    /// A step of the zero-copy property tests.
    #[derive(Clone, Debug)]
    enum Op {
        /// Offer `len` bytes; the zero-copy side takes only `take` of what it is lent.
        Write { len: usize, take: usize },
        /// Read up to `len` bytes.
        Read { len: usize },
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0usize..40, 0usize..40).prop_map(|(len, take)| Op::Write { len, take: take.min(len) }),
            (0usize..40).prop_map(|len| Op::Read { len }),
        ]
    }

    proptest::proptest! {
        /// `write_with` appends exactly what `write` would for the same bytes, however the
        /// free space wraps, and lends exactly the free space.
        #[test]
        fn write_with_matches_write_across_the_wrap(cap in 1usize..48, ops in proptest::collection::vec(op(), 1..80)) {
            let (mut copying, mut lending) = (SendBuffer::new(cap), SendBuffer::new(cap));
            let mut next = 0u8;
            for op in ops {
                match op {
                    Op::Write { len, take } => {
                        let data: Vec<u8> = (0..len).map(|i| next.wrapping_add(i as u8)).collect();
                        let free = lending.free();
                        let mut lent = 0;
                        let n = lending.write_with(|first, second| {
                            lent = first.len() + second.len();
                            copy_to_runs(&data[..take], first, second)
                        });
                        proptest::prop_assert_eq!(lent, free);
                        proptest::prop_assert_eq!(copying.write(&data[..take]), n);
                        next = next.wrapping_add(n as u8);
                    }
                    Op::Read { len } => {
                        let n = len.min(copying.len());
                        copying.consume(n);
                        lending.consume(n);
                    }
                }
                let (mut a, mut b) = (vec![0; cap], vec![0; cap]);
                proptest::prop_assert_eq!(copying.read_at(0, &mut a), lending.read_at(0, &mut b));
                proptest::prop_assert_eq!(a, b);
            }
        }

        /// `read_with` lends the in-order bytes oldest first and consumes what the caller
        /// took, exactly as `read` of that many bytes would.
        #[test]
        fn read_with_matches_read_across_the_wrap(cap in 1usize..48, ops in proptest::collection::vec(op(), 1..80)) {
            let (mut copying, mut lending) = (RecvBuffer::new(cap), RecvBuffer::new(cap));
            let mut next = 0u8;
            for op in ops {
                match op {
                    Op::Write { len, .. } => {
                        let data: Vec<u8> = (0..len).map(|i| next.wrapping_add(i as u8)).collect();
                        let a = copying.write_at(0, &data).advanced;
                        proptest::prop_assert_eq!(lending.write_at(0, &data).advanced, a);
                        next = next.wrapping_add(a as u8);
                    }
                    Op::Read { len } => {
                        let mut seen = Vec::new();
                        let held = lending.len();
                        let n = lending.read_with(|first, second| {
                            seen.extend_from_slice(first);
                            seen.extend_from_slice(second);
                            len
                        });
                        proptest::prop_assert_eq!(seen.len(), held);
                        let mut out = vec![0; len];
                        proptest::prop_assert_eq!(copying.read(&mut out), n);
                        proptest::prop_assert_eq!(&out[..n], &seen[..n]);
                    }
                }
                proptest::prop_assert_eq!(copying.len(), lending.len());
                proptest::prop_assert_eq!(copying.free(), lending.free());
            }
        }
    }

    #[test]
    fn the_lent_runs_wrap_around_the_ring_end() {
        let mut b = SendBuffer::new(8);
        assert_eq!(b.write(b"abcdef"), 6);
        b.consume(4);
        let n = b.write_with(|first, second| {
            assert_eq!((first.len(), second.len()), (2, 4));
            copy_to_runs(b"ghijkl", first, second)
        });
        assert_eq!(n, 6);
        let mut r = RecvBuffer::new(8);
        r.write_at(0, b"abcdef");
        assert_eq!(r.read(&mut [0; 5]), 5);
        r.write_at(0, b"ghijk");
        let took = r.read_with(|first, second| {
            assert_eq!((first, second), (&b"fgh"[..], &b"ijk"[..]));
            99
        });
        assert_eq!(took, 6, "a claim beyond what was lent is clamped");
        assert!(r.is_empty());
    }
}
