//! SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed pseudorandom function behind
//! ephemeral port selection (RFC 6056 §3.3.3/§3.3.4's F), stable IPv6 interface identifiers
//! (RFC 7217 §5's F) and TCP initial sequence numbers (RFC 6528 §3's F). Keys come from the
//! host's randomness when the stack starts, so outsiders cannot predict the outputs.

/// A SipHash-2-4 key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SipKey(pub [u8; 16]);

impl core::fmt::Debug for SipKey {
    /// Never prints the key itself: it is a secret.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SipKey(..)")
    }
}

/// An incremental SipHash-2-4 computation: feed any number of byte runs, then
/// [`finish`](Self::finish). Runs are concatenated, so `write(a); write(b)` equals
/// `write(a ++ b)`.
#[derive(Clone, Debug)]
pub struct SipHasher {
    v: [u64; 4],
    tail: [u8; 8],
    tail_len: usize,
    total_len: u64,
}

impl SipHasher {
    /// A computation keyed with `key`.
    pub fn new(key: &SipKey) -> Self {
        let k0 = u64::from_le_bytes([
            key.0[0], key.0[1], key.0[2], key.0[3], key.0[4], key.0[5], key.0[6], key.0[7],
        ]);
        let k1 = u64::from_le_bytes([
            key.0[8], key.0[9], key.0[10], key.0[11], key.0[12], key.0[13], key.0[14], key.0[15],
        ]);
        Self {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: [0; 8],
            tail_len: 0,
            total_len: 0,
        }
    }

    fn round(&mut self) {
        let v = &mut self.v;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        self.round();
        self.round();
        self.v[0] ^= m;
    }

    /// Feeds `bytes`.
    pub fn write(&mut self, mut bytes: &[u8]) {
        self.total_len = self.total_len.wrapping_add(bytes.len() as u64);
        if self.tail_len > 0 {
            let take = (8 - self.tail_len).min(bytes.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&bytes[..take]);
            self.tail_len += take;
            bytes = &bytes[take..];
            if self.tail_len < 8 {
                return;
            }
            self.compress(u64::from_le_bytes(self.tail));
            self.tail_len = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.compress(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
        }
        let rest = words.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    /// Feeds a 64-bit value (little-endian, as SipHash reads words).
    pub fn write_u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }

    /// The 64-bit hash of everything fed.
    pub fn finish(mut self) -> u64 {
        let mut last = [0u8; 8];
        last[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        last[7] = self.total_len as u8;
        self.compress(u64::from_le_bytes(last));
        self.v[2] ^= 0xff;
        for _ in 0..4 {
            self.round();
        }
        self.v[0] ^ self.v[1] ^ self.v[2] ^ self.v[3]
    }
}

/// SipHash-2-4 of `bytes` under `key`.
pub fn siphash(key: &SipKey, bytes: &[u8]) -> u64 {
    let mut h = SipHasher::new(key);
    h.write(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn paper_key() -> SipKey {
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8;
        }
        SipKey(k)
    }

    #[test]
    fn siphash_paper_appendix_a_vector() {
        // SipHash paper, Appendix A: key 00..0f, message 00..0e.
        let message: Vec<u8> = (0..15).collect();
        assert_eq!(siphash(&paper_key(), &message), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn reference_implementation_vectors() {
        // The first outputs of the reference implementation's vectors.h (messages 00..(n-1)).
        let expected: [u64; 4] =
            [0x726f_db47_dd0e_0e31, 0x74f8_39c5_93dc_67fd, 0x0d6c_8009_d9a9_4f5a, 0x8567_6696_d7fb_7e2d];
        for (n, want) in expected.iter().enumerate() {
            let message: Vec<u8> = (0..n as u8).collect();
            assert_eq!(siphash(&paper_key(), &message), *want, "length {n}");
        }
    }

    #[test]
    fn key_is_not_printed() {
        assert_eq!(alloc::format!("{:?}", paper_key()), "SipKey(..)");
    }

    proptest! {
        #[test]
        fn incremental_equals_one_shot(data in proptest::collection::vec(any::<u8>(), 0..100), cut in 0usize..100) {
            let cut = cut.min(data.len());
            let mut h = SipHasher::new(&paper_key());
            h.write(&data[..cut]);
            h.write(&data[cut..]);
            prop_assert_eq!(h.finish(), siphash(&paper_key(), &data));
        }
    }
}
