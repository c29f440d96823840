//! Method ordinals, derived from selectors the way `fidlc` derives them.
//!
//! RFC-0020 (interface ordinal hashing) and RFC-0029 (increasing method ordinals): a method's
//! ordinal is the first 8 bytes of the SHA-256 digest of its selector
//! (`library/Protocol.Method`, or the `@selector` attribute's value), read as a little-endian
//! `u64`, with the most significant bit cleared (ordinals with that bit set are reserved).
//!
//! The digest is a small `const fn` SHA-256 (FIPS 180-4) so that every binding's ordinal is a
//! compile-time constant.

/// The method ordinal `fidlc` derives from `selector` (`"library/Protocol.Method"`).
pub const fn ordinal(selector: &str) -> u64 {
    let digest = sha256(selector.as_bytes());
    let mut ordinal = 0u64;
    let mut i = 0;
    while i < 8 {
        ordinal |= (digest[i] as u64) << (8 * i);
        i += 1;
    }
    ordinal & 0x7fff_ffff_ffff_ffff
}

/// The SHA-256 round constants (FIPS 180-4 section 4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The initial hash value (FIPS 180-4 section 5.3.3).
const H0: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// SHA-256 of `message` (FIPS 180-4 section 6.2).
const fn sha256(message: &[u8]) -> [u8; 32] {
    let mut state = H0;
    // Padding (section 5.1.1): a 1 bit, zeros, then the bit length as a big-endian u64, to a
    // multiple of 64 bytes.
    let padded_len = (message.len() + 9).div_ceil(64) * 64;
    let bit_len = (message.len() as u64).wrapping_mul(8);
    let mut block_start = 0;
    while block_start < padded_len {
        let mut block = [0u8; 64];
        let mut i = 0;
        while i < 64 {
            let pos = block_start + i;
            block[i] = if pos < message.len() {
                message[pos]
            } else if pos == message.len() {
                0x80
            } else if pos >= padded_len - 8 {
                (bit_len >> (8 * (padded_len - 1 - pos))) as u8
            } else {
                0
            };
            i += 1;
        }
        state = compress(state, &block);
        block_start += 64;
    }
    let mut digest = [0u8; 32];
    let mut i = 0;
    while i < 8 {
        let word = state[i].to_be_bytes();
        digest[4 * i] = word[0];
        digest[4 * i + 1] = word[1];
        digest[4 * i + 2] = word[2];
        digest[4 * i + 3] = word[3];
        i += 1;
    }
    digest
}

/// One application of the compression function to a 64-byte block.
const fn compress(state: [u32; 8], block: &[u8; 64]) -> [u32; 8] {
    let mut w = [0u32; 64];
    let mut t = 0;
    while t < 16 {
        w[t] = u32::from_be_bytes([block[4 * t], block[4 * t + 1], block[4 * t + 2], block[4 * t + 3]]);
        t += 1;
    }
    while t < 64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
        t += 1;
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
    t = 0;
    while t < 64 {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[t]).wrapping_add(w[t]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
        t += 1;
    }
    [
        state[0].wrapping_add(a),
        state[1].wrapping_add(b),
        state[2].wrapping_add(c),
        state[3].wrapping_add(d),
        state[4].wrapping_add(e),
        state[5].wrapping_add(f),
        state[6].wrapping_add(g),
        state[7].wrapping_add(h),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(digest: [u8; 32]) -> String {
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_matches_fips_180_examples() {
        // FIPS 180-4 example vectors (one block, two blocks) and the empty message.
        assert_eq!(hex(sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex(sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(hex(sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn sha256_handles_every_padding_boundary() {
        // 55 bytes fit the length in one block, 56 need a second block, 64 fill one exactly.
        assert_eq!(
            hex(sha256(&[b'a'; 55])),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"
        );
        assert_eq!(
            hex(sha256(&[b'a'; 56])),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"
        );
        assert_eq!(
            hex(sha256(&[b'a'; 64])),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
    }

    #[test]
    fn ordinals_match_fidlc() {
        // fidlc's own expectations (tools/fidl/fidlc/tests/ordinals_tests.cc in the Fuchsia
        // tree: `GoodOrdinalValueIsFirst64BitsOfSha256`).
        assert_eq!(ordinal("a.b.c/protocol.s0"), 0x3b1625372e15f1ae);
        assert_eq!(ordinal("a.b.c/protocol.s1"), 0x4199e504fa71b5a4);
        assert_eq!(ordinal("a.b.c/protocol.s6"), 0x09e1d4b200770def);
        assert_eq!(ordinal("a.b.c/protocol.s31"), 0x54fd307bb5bfab2d);
        // Ordinals of generated bindings, as the FIDL client compatibility suite pins them
        // (src/tests/fidl/client_suite/harness/ordinals.h).
        assert_eq!(ordinal("fidl.clientsuite/ClosedTarget.TwoWayNoPayload"), 8823160117673072416);
        assert_eq!(ordinal("fidl.clientsuite/ClosedTarget.TwoWayStructPayload"), 4197391242806919613);
        assert_eq!(ordinal("fidl.clientsuite/OpenTarget.StrictOneWay"), 7904024199254697828);
        assert_eq!(ordinal("fidl.clientsuite/OpenTarget.FlexibleTwoWayFieldsErr"), 1029425766479692362);
    }

    #[test]
    fn ordinals_of_the_connection_methods() {
        // The values in the SDK's generated fuchsia.unknown / fuchsia.io bindings.
        assert_eq!(ordinal("fuchsia.unknown/Cloneable.Clone"), 0x20d8a7aba2168a79);
        assert_eq!(ordinal("fuchsia.io/Node.Close"), 0x5ac5d459ad7f657e);
        assert_eq!(ordinal("fuchsia.unknown/Queryable.Query"), 0x2658edee9decfc06);
    }

    #[test]
    fn ordinal_is_a_compile_time_constant() {
        const BIND: u64 = ordinal("fuchsia.posix.socket/BaseNetworkSocket.Bind");
        assert_eq!(BIND, ordinal(&String::from("fuchsia.posix.socket/BaseNetworkSocket.Bind")));
    }

    #[test]
    fn ordinal_clears_the_top_bit() {
        for selector in ["a/B.C", "fuchsia.posix.socket/BaseNetworkSocket.Bind", ""] {
            assert_eq!(ordinal(selector) >> 63, 0);
        }
    }
}
