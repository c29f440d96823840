//! The sender's SACK scoreboard (RFC 2018 §3 blocks as received, RFC 6675 §4's loss
//! recovery rules over them): which sequence ranges the peer holds, which holes count as lost
//! (IsLost), how much is in the network (SetPipe) and what to retransmit next (NextSeg).
//!
//! The scoreboard keeps disjoint ranges, bounded by [`Scoreboard::MAX_RANGES`]; blocks that
//! are malformed, below SND.UNA or beyond SND.MAX are ignored (RFC 2018 §3 gives them no
//! meaning; RFC 5961 §5 treats unsent data the same way for ACKs).

use alloc::vec::Vec;

use super::seqnum::SeqNum;
use crate::wire::tcp::SackBlock;

/// RFC 6675 §2's DupThresh.
pub const DUP_THRESH: u32 = 3;

/// A range `[start, end)` of sequence numbers the peer has SACKed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqRange {
    /// First sequence number.
    pub start: SeqNum,
    /// Sequence number after the last.
    pub end: SeqNum,
}

impl SeqRange {
    fn len(&self) -> u32 {
        self.end.since(self.start)
    }
}

/// What one ACK's SACK blocks did to the scoreboard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackUpdate {
    /// Bytes newly marked SACKed.
    pub newly_sacked: u32,
    /// Blocks ignored as invalid.
    pub invalid_blocks: u32,
}

/// The RFC 6675 scoreboard.
#[derive(Debug, Default)]
pub struct Scoreboard {
    ranges: Vec<SeqRange>,
}

impl Scoreboard {
    /// The most disjoint ranges remembered; further blocks are ignored until ACKs clear some.
    pub const MAX_RANGES: usize = 64;

    /// Forgets everything (a reneging peer, RFC 2018 §8, or a reset) and frees the list.
    pub fn clear(&mut self) {
        self.ranges = Vec::new();
    }

    /// Bytes allocated for the range list.
    pub fn allocated(&self) -> usize {
        self.ranges.capacity() * core::mem::size_of::<SeqRange>()
    }

    /// Whether nothing is SACKed.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The SACKed ranges, lowest first.
    pub fn ranges(&self) -> &[SeqRange] {
        &self.ranges
    }

    /// Records the blocks of an ACK for data `[snd_una, snd_max)`.
    pub fn update(&mut self, snd_una: SeqNum, snd_max: SeqNum, blocks: &[SackBlock]) -> SackUpdate {
        let mut update = SackUpdate::default();
        for block in blocks {
            let (start, end) = (SeqNum(block.left), SeqNum(block.right));
            // RFC 2018 §3: a block is a non-empty range of data we sent; D-SACKs and stale
            // blocks below SND.UNA carry nothing for recovery (RFC 2883 §4 is not implemented).
            if !start.lt(end) || end.gt(snd_max) || end.le(snd_una) {
                update.invalid_blocks += 1;
                continue;
            }
            let start = start.max(snd_una);
            update.newly_sacked += self.insert(SeqRange { start, end });
        }
        update
    }

    /// Inserts one range; returns the bytes it added.
    fn insert(&mut self, range: SeqRange) -> u32 {
        let before = self.sacked_bytes();
        let first = self.ranges.iter().position(|r| r.end.ge(range.start)).unwrap_or(self.ranges.len());
        let mut last = first;
        let mut merged = range;
        while last < self.ranges.len() && self.ranges[last].start.le(merged.end) {
            merged.start = merged.start.min(self.ranges[last].start);
            merged.end = merged.end.max(self.ranges[last].end);
            last += 1;
        }
        if first == last && self.ranges.len() >= Self::MAX_RANGES {
            return 0;
        }
        if self.ranges.capacity() == 0 {
            self.ranges.reserve_exact(Self::MAX_RANGES);
        }
        self.ranges.splice(first..last, core::iter::once(merged));
        self.sacked_bytes() - before
    }

    /// Drops what a cumulative ACK up to `snd_una` covers.
    pub fn ack(&mut self, snd_una: SeqNum) {
        self.ranges.retain_mut(|r| {
            if r.end.le(snd_una) {
                return false;
            }
            r.start = r.start.max(snd_una);
            true
        });
    }

    /// Total bytes SACKed.
    pub fn sacked_bytes(&self) -> u32 {
        self.ranges.iter().map(SeqRange::len).sum()
    }

    /// SACKed bytes within `[from, to)`.
    fn sacked_in(&self, from: SeqNum, to: SeqNum) -> u32 {
        self.ranges
            .iter()
            .map(|r| {
                let s = r.start.max(from);
                let e = r.end.min(to);
                e.since(s)
            })
            .sum()
    }

    /// Bytes in `[from, to)` not SACKed.
    fn unsacked_in(&self, from: SeqNum, to: SeqNum) -> u32 {
        to.since(from) - self.sacked_in(from, to)
    }

    /// The highest SACKed sequence number plus one.
    pub fn highest_sacked(&self) -> Option<SeqNum> {
        self.ranges.last().map(|r| r.end)
    }

    /// Whether `seq` is SACKed.
    pub fn is_sacked(&self, seq: SeqNum) -> bool {
        self.ranges.iter().any(|r| seq.in_range(r.start, r.end))
    }

    /// The end of the SACKed range holding `seq`, if one does.
    pub fn sacked_end(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges.iter().find(|r| seq.in_range(r.start, r.end)).map(|r| r.end)
    }

    /// The first SACKed sequence number above `seq`, if any: where the hole at `seq` ends.
    pub fn next_sacked_after(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges.iter().find(|r| r.start.gt(seq)).map(|r| r.start)
    }

    /// RFC 6675 §4 IsLost, for all sequence numbers at once: every un-SACKed byte below the
    /// returned boundary is lost, because DupThresh discontiguous SACKed ranges or more than
    /// (DupThresh - 1) * SMSS SACKed bytes lie above it.
    pub fn lost_boundary(&self, smss: u32) -> Option<SeqNum> {
        let mut bytes = 0u32;
        for (count, r) in self.ranges.iter().rev().enumerate() {
            bytes = bytes.saturating_add(r.len());
            if count as u32 + 1 >= DUP_THRESH || bytes > (DUP_THRESH - 1) * smss {
                return Some(r.start);
            }
        }
        None
    }

    /// RFC 6675 §4 IsLost for one sequence number.
    pub fn is_lost(&self, seq: SeqNum, smss: u32) -> bool {
        !self.is_sacked(seq) && self.lost_boundary(smss).is_some_and(|b| seq.lt(b))
    }

    /// RFC 6675 §4 SetPipe: bytes believed in the network. An un-SACKed byte counts once if
    /// not lost and once if retransmitted (below `high_rxt`).
    pub fn pipe(&self, snd_una: SeqNum, snd_max: SeqNum, high_rxt: SeqNum, smss: u32) -> u32 {
        let boundary = self.lost_boundary(smss).unwrap_or(snd_una).max(snd_una).min(snd_max);
        let high_rxt = high_rxt.max(snd_una).min(snd_max);
        let not_lost = self.unsacked_in(boundary, snd_max);
        let retransmitted = self.unsacked_in(snd_una, high_rxt);
        not_lost + retransmitted
    }

    /// RFC 6675 §4 NextSeg rule 1: the first lost, un-SACKed range at or above `high_rxt`,
    /// at most `smss` long and never past the lost boundary.
    pub fn next_lost(&self, snd_una: SeqNum, high_rxt: SeqNum, smss: u32) -> Option<SeqRange> {
        let boundary = self.lost_boundary(smss)?;
        let mut seq = high_rxt.max(snd_una);
        while seq.lt(boundary) {
            if let Some(end) = self.sacked_end(seq) {
                seq = end;
                continue;
            }
            let hole_end = self.next_sacked_after(seq).unwrap_or(boundary).min(boundary);
            let end = hole_end.min(seq + smss);
            return Some(SeqRange { start: seq, end });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 100;

    fn block(l: u32, r: u32) -> SackBlock {
        SackBlock { left: l, right: r }
    }

    #[test]
    fn rfc2018_3_blocks_merge_and_invalid_ones_are_ignored() {
        let mut s = Scoreboard::default();
        let u =
            s.update(SeqNum(1000), SeqNum(2000), &[block(1200, 1300), block(1300, 1400), block(1900, 2100)]);
        assert_eq!(u, SackUpdate { newly_sacked: 200, invalid_blocks: 1 });
        assert_eq!(s.ranges(), &[SeqRange { start: SeqNum(1200), end: SeqNum(1400) }]);
        let u = s.update(SeqNum(1000), SeqNum(2000), &[block(900, 1000), block(1500, 1500)]);
        assert_eq!(u.invalid_blocks, 2);
        s.ack(SeqNum(1300));
        assert_eq!(s.sacked_bytes(), 100);
        s.ack(SeqNum(1400));
        assert!(s.is_empty());
    }

    #[test]
    fn rfc6675_4_is_lost_needs_dupthresh_ranges_or_bytes_above() {
        let mut s = Scoreboard::default();
        s.update(SeqNum(0), SeqNum(1000), &[block(100, 200)]);
        assert!(!s.is_lost(SeqNum(0), MSS));
        s.update(SeqNum(0), SeqNum(1000), &[block(300, 400)]);
        assert!(!s.is_lost(SeqNum(0), MSS));
        // A third discontiguous range makes everything below the lowest of the three lost.
        s.update(SeqNum(0), SeqNum(1000), &[block(500, 600)]);
        assert!(s.is_lost(SeqNum(0), MSS));
        // Above 250 only two ranges and 2 * SMSS bytes: not yet lost.
        assert!(!s.is_lost(SeqNum(250), MSS) && !s.is_lost(SeqNum(150), MSS));
        // Or more than 2 * SMSS bytes above, in one range.
        let mut one = Scoreboard::default();
        one.update(SeqNum(0), SeqNum(1000), &[block(100, 301)]);
        assert!(one.is_lost(SeqNum(0), MSS));
    }

    #[test]
    fn rfc6675_4_pipe_counts_unsacked_not_lost_and_retransmitted() {
        let mut s = Scoreboard::default();
        s.update(SeqNum(0), SeqNum(1000), &[block(100, 200), block(300, 400), block(500, 600)]);
        // Lost: [0,100). Not lost: [200,300), [400,500) and [600,1000).
        assert_eq!(s.pipe(SeqNum(0), SeqNum(1000), SeqNum(0), MSS), 600);
        // After retransmitting the lost hole it counts again.
        assert_eq!(s.pipe(SeqNum(0), SeqNum(1000), SeqNum(100), MSS), 700);
    }

    #[test]
    fn rfc6675_4_next_seg_rule_1_walks_holes_only() {
        let mut s = Scoreboard::default();
        s.update(SeqNum(0), SeqNum(1000), &[block(100, 200), block(250, 400), block(500, 600)]);
        assert_eq!(
            s.next_lost(SeqNum(0), SeqNum(0), MSS),
            Some(SeqRange { start: SeqNum(0), end: SeqNum(100) })
        );
        assert_eq!(
            s.next_lost(SeqNum(0), SeqNum(100), MSS),
            Some(SeqRange { start: SeqNum(200), end: SeqNum(250) })
        );
        assert_eq!(s.next_lost(SeqNum(0), SeqNum(250), MSS), None);
    }

    #[test]
    fn scoreboard_is_bounded() {
        let mut s = Scoreboard::default();
        for i in 0..(Scoreboard::MAX_RANGES as u32 + 10) {
            s.update(SeqNum(0), SeqNum(1_000_000), &[block(10 + i * 10, 15 + i * 10)]);
        }
        assert_eq!(s.ranges().len(), Scoreboard::MAX_RANGES);
    }
}
