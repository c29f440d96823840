//! Stable, semantically opaque IPv6 interface identifiers (RFC 7217).
//!
//! An address formed this way stays the same while the host stays on the same network, but
//! changes from one network (prefix) to another and reveals nothing of the hardware, unlike a
//! modified EUI-64 identifier. Linux calls this `addr_gen_mode` 2/3 ("stable privacy").
//!
//! * RFC 7217 §5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key), with
//!   SipHash-2-4 ([`crate::hash`]) as F; the interface identifier is the RID's 64 bits.
//! * RFC 7217 §5 (step 4) and RFC 5453 §3: identifiers in the reserved ranges (and the all-zero
//!   one) are rejected and handled like a DAD conflict.
//! * RFC 7217 §6: on a conflict the DAD_Counter goes up by one and the RID is recomputed, at
//!   most [`IDGEN_RETRIES`] times (§7).
//!
//! Also here, because temporary addresses (RFC 8981 §3.3.1) need the same check:
//! [`is_reserved_iid`].

use crate::addr::{Ipv6Addr, Subnet};
use crate::hash::{SipHasher, SipKey};

/// IDGEN_RETRIES (RFC 7217 §7): how many times a conflicting identifier is regenerated with
/// the next DAD_Counter before giving up. Linux's `idgen_retries` has the same default.
pub const IDGEN_RETRIES: u8 = 3;

/// The only prefix length stable identifiers are formed for: interface identifiers are 64 bits
/// long for every link type this stack supports (RFC 4291 §2.5.1).
pub const STABLE_PREFIX_LEN: u8 = 64;

/// Whether `iid` must not be used as an interface identifier (RFC 5453 §3 and the IANA
/// "Reserved IPv6 Interface Identifiers" registry it created):
///
/// * `0000:0000:0000:0000`: the Subnet-Router anycast identifier (RFC 4291 §2.6.1);
/// * `0200:5EFF:FE00:0000`–`0200:5EFF:FEFF:FFFF`: the identifiers matching the IANA Ethernet
///   block, including Proxy Mobile IPv6's `0200:5EFF:FE00:5213` (RFC 6543);
/// * `FDFF:FFFF:FFFF:FF80`–`FDFF:FFFF:FFFF:FFFF`: the reserved subnet anycast identifiers
///   (RFC 2526).
pub fn is_reserved_iid(iid: [u8; 8]) -> bool {
    let value = u64::from_be_bytes(iid);
    value == 0
        || (0x0200_5eff_fe00_0000..=0x0200_5eff_feff_ffff).contains(&value)
        || value >= 0xfdff_ffff_ffff_ff80
}

/// The address made of the first 64 bits of `prefix` and the identifier `iid`.
pub fn address_with_iid(prefix: &Subnet<Ipv6Addr>, iid: [u8; 8]) -> Ipv6Addr {
    let mut bytes = prefix.network().bytes();
    bytes[8..].copy_from_slice(&iid);
    Ipv6Addr::new(bytes)
}

/// A stable identifier and the DAD_Counter it was computed with (RFC 7217 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StableIid {
    /// The interface identifier.
    pub iid: [u8; 8],
    /// The DAD_Counter value that produced it; the next attempt after a conflict starts at
    /// this plus one (RFC 7217 §6).
    pub dad_counter: u8,
}

/// Why no stable identifier could be produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StableIidError {
    /// Stable identifiers are 64 bits, so the prefix must be a /64.
    #[error("prefix {prefix} is not a /64: stable interface ids are 64 bits (RFC 4291 §2.5.1)")]
    PrefixLength {
        /// The prefix given.
        prefix: Subnet<Ipv6Addr>,
    },
    /// Every DAD_Counter up to [`IDGEN_RETRIES`] gave a reserved or used identifier, or the
    /// caller already used them all on conflicts (RFC 7217 §6).
    #[error("no usable interface id for {prefix} with DAD_Counter up to {IDGEN_RETRIES} (RFC 7217 §6)")]
    RetriesExhausted {
        /// The prefix.
        prefix: Subnet<Ipv6Addr>,
    },
}

/// The RFC 7217 generator: the secret key F is keyed with. The key comes from the host's
/// randomness when the stack is first set up and must stay the same across restarts for the
/// addresses to be stable (RFC 7217 §5, "secret_key").
#[derive(Clone, Debug)]
pub struct StableIidGenerator {
    secret: SipKey,
}

impl StableIidGenerator {
    /// A generator keyed with `secret`.
    pub fn new(secret: SipKey) -> Self {
        Self { secret }
    }

    /// The raw RID (RFC 7217 §5): F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key),
    /// as the 64-bit identifier it becomes. Variable-length inputs are fed with their length
    /// first, so that different inputs can never run into the same byte string.
    ///
    /// `net_iface` identifies the interface (its MAC address, or its index when it has none);
    /// `network_id` identifies the network (e.g. a Wi-Fi SSID) and may be empty (it is
    /// optional in §5).
    pub fn rid(
        &self,
        prefix: &Subnet<Ipv6Addr>,
        net_iface: &[u8],
        network_id: &[u8],
        dad_counter: u8,
    ) -> [u8; 8] {
        let mut hasher = SipHasher::new(&self.secret);
        hasher.write(&prefix.network().bytes());
        hasher.write(&[prefix.prefix_len()]);
        hasher.write_u64(net_iface.len() as u64);
        hasher.write(net_iface);
        hasher.write_u64(network_id.len() as u64);
        hasher.write(network_id);
        hasher.write(&[dad_counter]);
        hasher.finish().to_be_bytes()
    }

    /// The stable identifier for `prefix` starting from `dad_counter` (0 for a new address,
    /// the last counter plus one after a DAD conflict, RFC 7217 §6). A reserved identifier
    /// (RFC 5453), or one `in_use` says is already on the interface with the same prefix, is
    /// treated as a conflict and the next counter tried (RFC 7217 §5 step 4), up to
    /// [`IDGEN_RETRIES`].
    pub fn generate(
        &self,
        prefix: &Subnet<Ipv6Addr>,
        net_iface: &[u8],
        network_id: &[u8],
        dad_counter: u8,
        in_use: impl Fn(Ipv6Addr) -> bool,
    ) -> Result<StableIid, StableIidError> {
        if prefix.prefix_len() != STABLE_PREFIX_LEN {
            return Err(StableIidError::PrefixLength { prefix: *prefix });
        }
        for counter in dad_counter..=IDGEN_RETRIES {
            let iid = self.rid(prefix, net_iface, network_id, counter);
            if !is_reserved_iid(iid) && !in_use(address_with_iid(prefix, iid)) {
                return Ok(StableIid { iid, dad_counter: counter });
            }
        }
        Err(StableIidError::RetriesExhausted { prefix: *prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];

    fn generator() -> StableIidGenerator {
        StableIidGenerator::new(SipKey([7; 16]))
    }

    fn prefix(s: &str) -> Subnet<Ipv6Addr> {
        s.parse().unwrap()
    }

    #[test]
    fn rfc7217_s5_same_inputs_same_iid() {
        let g = generator();
        let p = prefix("2001:db8:1::/64");
        let a = g.generate(&p, &MAC, b"", 0, |_| false).unwrap();
        let b = g.generate(&p, &MAC, b"", 0, |_| false).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.dad_counter, 0);
        // A second generator with the same secret (e.g. after a restart) agrees.
        let again = StableIidGenerator::new(SipKey([7; 16]));
        assert_eq!(again.generate(&p, &MAC, b"", 0, |_| false).unwrap(), a);
    }

    #[test]
    fn rfc7217_s5_iid_differs_per_prefix_interface_network_and_secret() {
        let g = generator();
        let p1 = prefix("2001:db8:1::/64");
        let p2 = prefix("2001:db8:2::/64");
        let base = g.rid(&p1, &MAC, b"", 0);
        assert_ne!(base, g.rid(&p2, &MAC, b"", 0));
        assert_ne!(base, g.rid(&p1, &[0x02, 0, 0, 0, 0, 1], b"", 0));
        assert_ne!(base, g.rid(&p1, &MAC, b"ssid", 0));
        assert_ne!(base, StableIidGenerator::new(SipKey([8; 16])).rid(&p1, &MAC, b"", 0));
        // Length prefixes keep the boundary between Net_Iface and Network_ID.
        assert_ne!(g.rid(&p1, b"ab", b"c", 0), g.rid(&p1, b"a", b"bc", 0));
    }

    #[test]
    fn rfc7217_s6_dad_counter_changes_the_iid() {
        let g = generator();
        let p = prefix("2001:db8:1::/64");
        let first = g.generate(&p, &MAC, b"", 0, |_| false).unwrap();
        let second = g.generate(&p, &MAC, b"", first.dad_counter + 1, |_| false).unwrap();
        assert_eq!(second.dad_counter, 1);
        assert_ne!(first.iid, second.iid);
        assert_eq!(second.iid, g.rid(&p, &MAC, b"", 1));
    }

    #[test]
    fn rfc7217_s6_gives_up_after_idgen_retries() {
        let g = generator();
        let p = prefix("2001:db8:1::/64");
        assert_eq!(
            g.generate(&p, &MAC, b"", IDGEN_RETRIES + 1, |_| false),
            Err(StableIidError::RetriesExhausted { prefix: p })
        );
        // Every candidate taken: counters 0..=IDGEN_RETRIES are all tried, then it gives up.
        assert_eq!(
            g.generate(&p, &MAC, b"", 0, |_| true),
            Err(StableIidError::RetriesExhausted { prefix: p })
        );
    }

    #[test]
    fn rfc7217_s5_iid_in_use_on_the_interface_takes_the_next_counter() {
        let g = generator();
        let p = prefix("2001:db8:1::/64");
        let taken = address_with_iid(&p, g.rid(&p, &MAC, b"", 0));
        let got = g.generate(&p, &MAC, b"", 0, |a| a == taken).unwrap();
        assert_eq!(got.dad_counter, 1);
        assert_eq!(got.iid, g.rid(&p, &MAC, b"", 1));
    }

    #[test]
    fn only_64_bit_prefixes() {
        let p = prefix("2001:db8::/48");
        assert_eq!(
            generator().generate(&p, &MAC, b"", 0, |_| false),
            Err(StableIidError::PrefixLength { prefix: p })
        );
    }

    #[test]
    fn rfc5453_reserved_iids() {
        assert!(is_reserved_iid([0; 8]));
        assert!(is_reserved_iid([0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x00, 0x00]));
        assert!(is_reserved_iid([0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13]));
        assert!(is_reserved_iid([0x02, 0x00, 0x5e, 0xff, 0xfe, 0xff, 0xff, 0xff]));
        assert!(is_reserved_iid([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80]));
        assert!(is_reserved_iid([0xff; 8]));
        assert!(!is_reserved_iid([0, 0, 0, 0, 0, 0, 0, 1]));
        assert!(!is_reserved_iid([0x02, 0x00, 0x5e, 0xff, 0xfd, 0xff, 0xff, 0xff]));
        assert!(!is_reserved_iid([0x02, 0x00, 0x5e, 0xff, 0xff, 0x00, 0x00, 0x00]));
        assert!(!is_reserved_iid([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    }

    #[test]
    fn address_keeps_prefix_and_takes_iid() {
        let p = prefix("2001:db8:1:2::/64");
        let a = address_with_iid(&p, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(a, "2001:db8:1:2:102:304:506:708".parse().unwrap());
    }

    proptest! {
        #[test]
        fn generated_iids_are_never_reserved_and_counter_never_exceeds_retries(
            key in any::<[u8; 16]>(), net in any::<[u8; 8]>(), start in 0u8..=IDGEN_RETRIES,
        ) {
            let p = Subnet::new(Ipv6Addr::new([net[0], net[1], net[2], net[3], net[4], net[5], net[6], net[7], 0, 0, 0, 0, 0, 0, 0, 0]), 64).unwrap();
            let g = StableIidGenerator::new(SipKey(key));
            if let Ok(got) = g.generate(&p, &MAC, b"", start, |_| false) {
                prop_assert!(!is_reserved_iid(got.iid));
                prop_assert!(got.dad_counter >= start && got.dad_counter <= IDGEN_RETRIES);
            }
        }
    }
}
