//! Ephemeral port selection: RFC 6056 §3.3.4, Algorithm 4 ("Double-Hash Port Selection"),
//! the algorithm Linux uses for `connect` (`__inet_hash_connect` and its perturbation table).
//!
//! For a connection (local address, remote address, remote port), F (keyed SipHash-2-4,
//! RFC 6056 §3.3.3's recommendation of a keyed hash) gives an offset into the range, and G (a
//! second, independently keyed hash) picks a slot of a small table of counters. Candidates are
//! `min + (offset + table[slot]) % range_len`, the slot's counter advancing with every
//! candidate tried, until one is free:
//!
//! * different destinations get unrelated, unpredictable sequences (§3.3.4's goal: an
//!   off-path attacker cannot guess the port used towards a peer it did not observe);
//! * successive connections to the same destination advance through the range, so ports are
//!   not reused soon after release (which §3.3.4 notes reduces TIME-WAIT collisions);
//! * every port of the range is tried before giving up, so a free port is always found.
//!
//! Keys and the table's initial values come from the host's randomness when the allocator is
//! created (RFC 6056 §3.3.4: "initialized at system boot time").

use alloc::vec::Vec;
use core::num::NonZeroU16;

use crate::addr::IpAddress;
use crate::context::RngContext;
use crate::hash::{SipHasher, SipKey};

/// The range ephemeral ports are taken from (Linux's `net.ipv4.ip_local_port_range`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    first: NonZeroU16,
    last: NonZeroU16,
}

impl PortRange {
    /// Linux's default, 32768–60999.
    pub const LINUX_DEFAULT: PortRange =
        PortRange { first: NonZeroU16::new(32768).unwrap(), last: NonZeroU16::new(60999).unwrap() };

    /// The ports `first..=last`, or `None` if the range is empty.
    pub const fn new(first: NonZeroU16, last: NonZeroU16) -> Option<Self> {
        if first.get() <= last.get() {
            Some(Self { first, last })
        } else {
            None
        }
    }

    /// The first port.
    pub const fn first(&self) -> NonZeroU16 {
        self.first
    }

    /// The last port.
    pub const fn last(&self) -> NonZeroU16 {
        self.last
    }

    /// How many ports the range holds.
    pub const fn len(&self) -> u32 {
        self.last.get() as u32 - self.first.get() as u32 + 1
    }

    /// Always false: a range holds at least one port.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Whether `port` lies in the range.
    pub const fn contains(&self, port: u16) -> bool {
        self.first.get() <= port && port <= self.last.get()
    }
}

impl Default for PortRange {
    fn default() -> Self {
        Self::LINUX_DEFAULT
    }
}

/// The default number of counters in the table G indexes (RFC 6056 §3.3.4 leaves the size to
/// the implementation; more slots make sequences of unrelated destinations more independent).
pub const DEFAULT_TABLE_LEN: usize = 1024;

/// The ephemeral port allocator; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct EphemeralPorts {
    range: PortRange,
    offset_key: SipKey,
    slot_key: SipKey,
    table: Vec<u16>,
    exhausted: u64,
}

/// A secret hash key drawn from the host's randomness (port choices, SO_REUSEPORT flow
/// hashes, ISNs and SYN cookies each get their own).
pub(crate) fn random_key(rng: &mut impl RngContext) -> SipKey {
    let [a, b] = [rng.random_u64(), rng.random_u64()];
    let mut key = [0; 16];
    key[..8].copy_from_slice(&a.to_le_bytes());
    key[8..].copy_from_slice(&b.to_le_bytes());
    SipKey(key)
}

impl EphemeralPorts {
    /// An allocator over `range` with a table of `table_len` counters (at least one), keyed
    /// from `rng`.
    pub fn new(rng: &mut impl RngContext, range: PortRange, table_len: usize) -> Self {
        let offset_key = random_key(rng);
        let slot_key = random_key(rng);
        let table = (0..table_len.max(1)).map(|_| rng.random_u64() as u16).collect();
        Self { range, offset_key, slot_key, table, exhausted: 0 }
    }

    /// The range ports are taken from.
    pub fn range(&self) -> PortRange {
        self.range
    }

    /// How many selections found no free port.
    pub fn exhausted(&self) -> u64 {
        self.exhausted
    }

    fn keyed_hash<A: IpAddress>(key: &SipKey, local: &A, remote: &A, remote_port: u16) -> u64 {
        let mut h = SipHasher::new(key);
        h.write(local.as_bytes());
        h.write(remote.as_bytes());
        h.write(&remote_port.to_be_bytes());
        h.finish()
    }

    /// A port for a socket at `local` talking to `remote`:`remote_port` (the unspecified
    /// address and 0 when not known yet, as for `bind` to port 0) that `is_free` accepts, or
    /// `None` (counted) once every port of the range was tried.
    pub fn select<A: IpAddress>(
        &mut self,
        local: A,
        remote: A,
        remote_port: u16,
        mut is_free: impl FnMut(NonZeroU16) -> bool,
    ) -> Option<NonZeroU16> {
        let len = self.range.len();
        let offset = Self::keyed_hash(&self.offset_key, &local, &remote, remote_port);
        let slot_hash = Self::keyed_hash(&self.slot_key, &local, &remote, remote_port);
        let slot = (slot_hash % self.table.len() as u64) as usize;
        for _ in 0..len {
            let counter = u64::from(self.table[slot]);
            self.table[slot] = self.table[slot].wrapping_add(1);
            let step = (offset.wrapping_add(counter) % u64::from(len)) as u16;
            let candidate = self.range.first.saturating_add(step);
            if is_free(candidate) {
                return Some(candidate);
            }
        }
        self.exhausted += 1;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Ipv4Addr;
    use crate::testutil::fake::FakeRng;
    use alloc::collections::BTreeSet;

    fn allocator(seed: u64, range: PortRange) -> EphemeralPorts {
        EphemeralPorts::new(&mut FakeRng::new(seed), range, DEFAULT_TABLE_LEN)
    }

    fn range(first: u16, last: u16) -> PortRange {
        PortRange::new(NonZeroU16::new(first).unwrap(), NonZeroU16::new(last).unwrap()).unwrap()
    }

    const LOCAL: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);

    #[test]
    fn range_validation_and_linux_default() {
        assert_eq!(PortRange::default().len(), 60999 - 32768 + 1);
        assert!(PortRange::new(NonZeroU16::new(10).unwrap(), NonZeroU16::new(9).unwrap()).is_none());
        assert_eq!(range(5, 5).len(), 1);
        assert!(range(5, 6).contains(6) && !range(5, 6).contains(7));
    }

    #[test]
    fn rfc6056_3_3_4_ports_spread_over_the_range() {
        let r = PortRange::default();
        let mut ports = allocator(1, r);
        let mut buckets = [0u32; 8];
        for i in 0..4000u32 {
            let remote = Ipv4Addr::from_u32(0xc633_6400 + i);
            let p = ports.select(LOCAL, remote, 443, |_| true).unwrap();
            assert!(r.contains(p.get()));
            buckets[((u32::from(p.get()) - 32768) * 8 / r.len()) as usize] += 1;
        }
        for count in buckets {
            assert!(count.abs_diff(500) < 100, "{buckets:?} is not even");
        }
    }

    #[test]
    fn rfc6056_3_3_4_sequences_differ_per_destination_and_advance_per_destination() {
        let mut ports = allocator(2, PortRange::default());
        let a = Ipv4Addr::new([198, 51, 100, 1]);
        let b = Ipv4Addr::new([198, 51, 100, 2]);
        let first_a = ports.select(LOCAL, a, 53, |_| true).unwrap();
        let first_b = ports.select(LOCAL, b, 53, |_| true).unwrap();
        let second_a = ports.select(LOCAL, a, 53, |_| true).unwrap();
        assert_ne!(first_a, first_b);
        // The destination's table slot advanced by one: its next port follows the last.
        assert_eq!(second_a.get(), first_a.get() + 1);
        // Another key gives another sequence.
        let mut other = allocator(3, PortRange::default());
        assert_ne!(other.select(LOCAL, a, 53, |_| true), Some(first_a));
    }

    #[test]
    fn busy_ports_are_skipped_and_every_port_is_tried() {
        let mut ports = allocator(4, range(40000, 40009));
        let mut seen = BTreeSet::new();
        let last_free = NonZeroU16::new(40007).unwrap();
        let got = ports.select(LOCAL, LOCAL, 0, |p| {
            seen.insert(p.get());
            p == last_free
        });
        assert_eq!(got, Some(last_free));
        assert!(seen.len() <= 10);
        let mut tried = BTreeSet::new();
        assert_eq!(ports.select(LOCAL, LOCAL, 0, |p| !tried.insert(p.get())), None);
        assert_eq!(tried, (40000..=40009).collect());
    }

    #[test]
    fn exhaustion_is_reported_and_counted() {
        let mut ports = allocator(5, range(50000, 50003));
        assert_eq!(ports.select(LOCAL, LOCAL, 0, |_| false), None);
        assert_eq!(ports.select(LOCAL, LOCAL, 0, |_| false), None);
        assert_eq!(ports.exhausted(), 2);
    }
}
