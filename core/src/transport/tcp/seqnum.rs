//! TCP sequence numbers: 32-bit values compared and subtracted modulo 2^32
//! (RFC 9293 §3.4; the comparison is serial-number arithmetic as in RFC 1982 §3.2).
//!
//! Two numbers compare by the sign of their wrapping difference, which is meaningful as long
//! as they are within 2^31 of each other; windows are far smaller than that.

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A sequence number.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// The raw value.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Wrapping difference `self - other` as a signed distance (RFC 9293 §3.4).
    pub const fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self < other` modulo 2^32.
    pub const fn lt(self, other: SeqNum) -> bool {
        self.diff(other) < 0
    }

    /// `self <= other` modulo 2^32.
    pub const fn le(self, other: SeqNum) -> bool {
        self.diff(other) <= 0
    }

    /// `self > other` modulo 2^32.
    pub const fn gt(self, other: SeqNum) -> bool {
        self.diff(other) > 0
    }

    /// `self >= other` modulo 2^32.
    pub const fn ge(self, other: SeqNum) -> bool {
        self.diff(other) >= 0
    }

    /// Whether `start <= self < end` modulo 2^32 (an empty range holds nothing).
    pub const fn in_range(self, start: SeqNum, end: SeqNum) -> bool {
        self.ge(start) && self.lt(end)
    }

    /// The later of two numbers.
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.ge(other) {
            self
        } else {
            other
        }
    }

    /// The earlier of two numbers.
    pub fn min(self, other: SeqNum) -> SeqNum {
        if self.le(other) {
            self
        } else {
            other
        }
    }

    /// The wrapping order of the two numbers.
    pub fn cmp_wrapping(self, other: SeqNum) -> Ordering {
        self.diff(other).cmp(&0)
    }

    /// Non-negative distance from `earlier` to `self`, zero if `self` is not later.
    pub fn since(self, earlier: SeqNum) -> u32 {
        u32::try_from(self.diff(earlier)).unwrap_or(0)
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;

    fn add(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(rhs))
    }
}

impl AddAssign<u32> for SeqNum {
    fn add_assign(&mut self, rhs: u32) {
        self.0 = self.0.wrapping_add(rhs);
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;

    fn sub(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(rhs))
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc9293_3_4_comparisons_wrap_around_zero() {
        let before = SeqNum(u32::MAX - 10);
        let after = before + 20;
        assert_eq!(after.get(), 9);
        assert!(before.lt(after) && after.gt(before));
        assert_eq!(after.diff(before), 20);
        assert_eq!(after.since(before), 20);
        assert_eq!(before.since(after), 0);
        assert!(SeqNum(5).in_range(before, after));
        assert!(!after.in_range(before, after));
        assert_eq!(before.max(after), after);
        assert_eq!(before.min(after), before);
    }

    proptest! {
        /// RFC 9293 §3.4: adding n < 2^31 always yields a later number, and the distance back
        /// is exactly n, wherever the base sits on the circle.
        #[test]
        fn rfc9293_3_4_add_then_diff_round_trips(base in any::<u32>(), n in 1u32..(1 << 31)) {
            let a = SeqNum(base);
            let b = a + n;
            prop_assert!(a.lt(b));
            prop_assert!(b.gt(a));
            prop_assert_eq!(b.diff(a), n as i32);
            prop_assert_eq!(b.since(a), n);
            prop_assert_eq!(b - n, a);
            prop_assert_eq!(a.cmp_wrapping(b), Ordering::Less);
        }

        /// Exactly one of <, ==, > holds, and the order is antisymmetric.
        #[test]
        fn rfc1982_3_2_order_is_antisymmetric(x in any::<u32>(), y in any::<u32>()) {
            let (a, b) = (SeqNum(x), SeqNum(y));
            let count = [a.lt(b), a == b, a.gt(b)].iter().filter(|v| **v).count();
            // The antipode (distance exactly 2^31) is "less" from both sides by i32 sign.
            if x.wrapping_sub(y) != 1 << 31 {
                prop_assert_eq!(count, 1);
                prop_assert_eq!(a.lt(b), b.gt(a));
            }
            prop_assert_eq!(a.le(b), a.lt(b) || a == b);
        }

        /// Range membership agrees with the distance from the start.
        #[test]
        fn in_range_matches_offsets(start in any::<u32>(), len in 0u32..1_000_000, off in 0u32..2_000_000) {
            let s = SeqNum(start);
            prop_assert_eq!((s + off).in_range(s, s + len), off < len);
        }
    }
}
