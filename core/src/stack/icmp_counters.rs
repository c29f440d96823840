//! Received ICMP and ICMPv6 messages counted by their Type field, one table per version,
//! as Linux keeps them for `/proc/net/snmp`'s IcmpMsg line and `/proc/net/snmp6`'s Icmp6
//! lines (RFC 4293's icmpMsgStatsTable, its icmpMsgStatsInPkts column).
//!
//! A message is counted under its type once its checksum is known good and its 8-byte
//! header is there (RFC 792 p. 2, RFC 4443 §2.1), before the type is decoded: unknown types
//! are counted too, and so are messages whose body then fails to parse. Counting costs one
//! array increment; the names are given only when diagnostics read the table
//! ([`super::inspect`]).

use core::fmt;

/// One counter per ICMP Type value (0 to 255).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IcmpTypeCounters {
    by_type: [u64; 256],
}

impl IcmpTypeCounters {
    /// Counts one message of type `msg_type`.
    pub(super) fn count(&mut self, msg_type: u8) {
        self.by_type[usize::from(msg_type)] += 1;
    }

    /// The messages of type `msg_type` counted.
    pub fn get(&self, msg_type: u8) -> u64 {
        self.by_type[usize::from(msg_type)]
    }

    /// Every type with its count, in type order, zero counts included.
    pub fn iter(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        (0..=u8::MAX).zip(self.by_type.iter().copied())
    }
}

impl Default for IcmpTypeCounters {
    fn default() -> Self {
        Self { by_type: [0; 256] }
    }
}

/// Lists the types counted at least once, as `{type: count, ...}`.
impl fmt::Debug for IcmpTypeCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().filter(|&(_, n)| n != 0)).finish()
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use super::*;

    #[test]
    fn each_type_has_its_own_counter() {
        let mut c = IcmpTypeCounters::default();
        c.count(0);
        c.count(255);
        c.count(255);
        assert_eq!((c.get(0), c.get(1), c.get(255)), (1, 0, 2));
        assert_eq!(c.iter().count(), 256);
        assert_eq!(c.iter().filter(|&(_, n)| n != 0).collect::<alloc::vec::Vec<_>>(), [(0, 1), (255, 2)]);
        assert_eq!(format!("{c:?}"), "{0: 1, 255: 2}");
    }
}
