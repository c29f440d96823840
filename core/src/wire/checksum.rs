//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! The sum is accumulated over native-endian 32-bit words in a 64-bit register, eight bytes per
//! step, and folded to 16 bits only at the end. RFC 1071 §2(B) makes the one's-complement sum
//! independent of byte order, so the native-endian result only needs its bytes read back in
//! memory order at the end.

/// A running Internet checksum over any number of byte runs of any length: a run that ends
/// on an odd byte pairs that byte with the first byte of the next run, exactly as if all runs
/// were one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checksum {
    sum: u64,
    trailing: Option<u8>,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Self { sum: 0, trailing: None }
    }

    /// Adds `bytes` to the sum.
    ///
    /// Inlined so the many short, fixed-length runs of a header (addresses, the pseudo-header)
    /// compile to a few additions; long runs take a loop the compiler vectorizes.
    #[inline]
    pub fn add_bytes(&mut self, mut bytes: &[u8]) {
        if let Some(first) = self.trailing.take() {
            match bytes.split_first() {
                Some((&second, rest)) => {
                    self.sum += u64::from(u16::from_ne_bytes([first, second]));
                    bytes = rest;
                }
                None => {
                    self.trailing = Some(first);
                    return;
                }
            }
        }
        if bytes.len() >= 64 {
            self.add_long(bytes);
        } else {
            self.add_short(bytes);
        }
    }

    /// Sums eight bytes per step (as two native-endian 32-bit words), then the tail.
    #[inline]
    fn add_short(&mut self, bytes: &[u8]) {
        let mut acc = self.sum;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let v =
                u64::from_ne_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
            acc += (v & 0xffff_ffff) + (v >> 32);
        }
        let mut rest = words.remainder();
        if let Some((quad, tail)) = rest.split_first_chunk::<4>() {
            acc += u64::from(u32::from_ne_bytes(*quad));
            rest = tail;
        }
        if let Some((pair, tail)) = rest.split_first_chunk::<2>() {
            acc += u64::from(u16::from_ne_bytes(*pair));
            rest = tail;
        }
        if let [last] = rest {
            self.trailing = Some(*last);
        }
        // Keep the accumulator far from overflow across any number of calls.
        self.sum = (acc & 0xffff_ffff) + (acc >> 32);
    }

    /// Sums a long run 32 bytes per step, a shape the compiler vectorizes.
    fn add_long(&mut self, bytes: &[u8]) {
        let mut acc = 0u64;
        let mut wide = bytes.chunks_exact(32);
        for chunk in &mut wide {
            for word in chunk.chunks_exact(8) {
                let v = u64::from_ne_bytes(word.try_into().unwrap_or([0; 8]));
                acc += (v & 0xffff_ffff) + (v >> 32);
            }
        }
        self.sum += (acc & 0xffff_ffff) + (acc >> 32);
        self.add_short(wide.remainder());
    }

    /// Adds a 16-bit field given as a host value (it is summed in network byte order).
    #[inline]
    pub fn add_u16(&mut self, value: u16) {
        self.add_bytes(&value.to_be_bytes());
    }

    /// Adds a 32-bit field given as a host value (it is summed in network byte order).
    #[inline]
    pub fn add_u32(&mut self, value: u32) {
        self.add_bytes(&value.to_be_bytes());
    }

    /// The checksum: the one's complement of the folded sum, as the host value of the 16-bit
    /// field (store it with `to_be_bytes`). Over data that includes a correct checksum field
    /// the result is 0.
    #[inline]
    pub fn checksum(&self) -> u16 {
        let mut sum = self.sum;
        if let Some(last) = self.trailing {
            sum += u64::from(u16::from_ne_bytes([last, 0]));
        }
        !u16::from_be_bytes(fold(sum).to_ne_bytes())
    }
}

/// Folds a 64-bit one's-complement sum of native-endian words down to 16 bits.
fn fold(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The checksum of one byte run.
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut c = Checksum::new();
    c.add_bytes(bytes);
    c.checksum()
}

/// RFC 1624 eqn. 3: the checksum after a 16-bit field of the covered data changed from `old`
/// to `new`, without summing the data again: `HC' = ~(~HC + ~m + m')`. Values are host values
/// of the network-order fields, as [`Checksum::checksum`] returns them.
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    let sum = u64::from(!checksum) + u64::from(!old) + u64::from(new);
    !fold(sum)
}

/// [`update_u16`] for a run of bytes that starts at an even offset of the covered data, such
/// as an address being rewritten. `old` and `new` must have the same, even, length.
pub fn update_bytes(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    debug_assert_eq!(old.len(), new.len());
    debug_assert_eq!(old.len() % 2, 0);
    let mut sum = u64::from(!checksum);
    for (o, n) in old.chunks_exact(2).zip(new.chunks_exact(2)) {
        sum += u64::from(!u16::from_be_bytes([o[0], o[1]])) + u64::from(u16::from_be_bytes([n[0], n[1]]));
    }
    !fold(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// The RFC 1071 definition, one 16-bit big-endian word at a time.
    fn reference(bytes: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in bytes.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn rfc1071_section3_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before the complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn ipv4_header_verifies_to_zero() {
        // A header Linux sent (ping from 192.0.2.1 to 192.0.2.2, tests/vectors/icmpv4_ping.pcap), checksum 0xb80f.
        let hdr = [
            0x45, 0x00, 0x00, 0x54, 0xfe, 0x95, 0x40, 0x00, 0x40, 0x01, 0xb8, 0x0f, 0xc0, 0x00, 0x02, 0x01,
            0xc0, 0x00, 0x02, 0x02,
        ];
        assert_eq!(checksum(&hdr), 0);
        let mut zeroed = hdr;
        zeroed[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(checksum(&zeroed), 0xb80f);
    }

    #[test]
    fn rfc1624_ttl_decrement_matches_recompute() {
        let mut hdr = [
            0x45, 0x00, 0x00, 0x54, 0xfe, 0x95, 0x40, 0x00, 0x40, 0x01, 0xb8, 0x0f, 0xc0, 0x00, 0x02, 0x01,
            0xc0, 0x00, 0x02, 0x02,
        ];
        let old = u16::from_be_bytes([hdr[8], hdr[9]]);
        hdr[8] -= 1;
        let new = u16::from_be_bytes([hdr[8], hdr[9]]);
        let updated = update_u16(0xb80f, old, new);
        hdr[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(updated, checksum(&hdr));
    }

    proptest! {
        #[test]
        fn matches_reference(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            prop_assert_eq!(checksum(&data), reference(&data));
        }

        #[test]
        fn split_runs_equal_one_run(data in proptest::collection::vec(any::<u8>(), 0..300), a in 0usize..300, b in 0usize..300) {
            let (a, b) = (a.min(data.len()), b.min(data.len()));
            let (a, b) = (a.min(b), a.max(b));
            let mut c = Checksum::new();
            c.add_bytes(&data[..a]);
            c.add_bytes(&data[a..b]);
            c.add_bytes(&data[b..]);
            prop_assert_eq!(c.checksum(), reference(&data));
        }

        #[test]
        fn incremental_update_matches_recompute(mut data in proptest::collection::vec(any::<u8>(), 2..200), at in 0usize..100, new in proptest::collection::vec(any::<u8>(), 4)) {
            if data.len() % 2 == 1 { data.push(0); }
            let at = (at * 2) % data.len();
            let n = 4.min(data.len() - at);
            let n = n - n % 2;
            let before = checksum(&data);
            let old: Vec<u8> = data[at..at + n].to_vec();
            data[at..at + n].copy_from_slice(&new[..n]);
            prop_assert_eq!(update_bytes(before, &old, &new[..n]), checksum(&data));
        }
    }
}
