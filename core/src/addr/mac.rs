//! IEEE 802 MAC addresses.

use core::fmt;

use super::Ipv6Addr;

/// A 48-bit IEEE 802 MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac([u8; 6]);

impl Mac {
    /// The broadcast address ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    /// The all-zero address, used as "unknown" (e.g. the target of an ARP request).
    pub const UNSPECIFIED: Mac = Mac([0; 6]);

    /// A MAC address from its bytes.
    pub const fn new(bytes: [u8; 6]) -> Self {
        Self(bytes)
    }

    /// The address's bytes.
    pub const fn bytes(&self) -> [u8; 6] {
        self.0
    }

    /// Whether the I/G bit is set (multicast or broadcast).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Whether this is the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether this is an individual (unicast) address.
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the U/L bit says the address is locally administered.
    pub const fn is_locally_administered(&self) -> bool {
        self.0[0] & 2 == 2
    }

    /// The modified EUI-64 interface identifier (RFC 4291 appendix A): ff:fe inserted in the
    /// middle and the U/L bit inverted.
    pub const fn to_eui64(&self) -> [u8; 8] {
        let m = self.0;
        [m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
    }

    /// The IPv6 link-local address fe80::/64 with this MAC's modified EUI-64 identifier.
    pub const fn to_ipv6_link_local(&self) -> Ipv6Addr {
        let id = self.to_eui64();
        Ipv6Addr::new([0xfe, 0x80, 0, 0, 0, 0, 0, 0, id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7]])
    }

    /// The Ethernet multicast address an IPv4 multicast group maps to (RFC 1112 §6.4).
    pub const fn from_ipv4_multicast(group: super::Ipv4Addr) -> Self {
        let g = group.bytes();
        Mac([0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]])
    }

    /// The Ethernet multicast address an IPv6 multicast group maps to (RFC 2464 §7).
    pub const fn from_ipv6_multicast(group: Ipv6Addr) -> Self {
        let g = group.bytes();
        Mac([0x33, 0x33, g[12], g[13], g[14], g[15]])
    }
}

impl From<[u8; 6]> for Mac {
    fn from(bytes: [u8; 6]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

impl core::str::FromStr for Mac {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 6];
        let mut parts = s.split(':');
        for b in &mut bytes {
            let part = parts.next().ok_or(MacParseError)?;
            if part.is_empty() || part.len() > 2 {
                return Err(MacParseError);
            }
            *b = u8::from_str_radix(part, 16).map_err(|_| MacParseError)?;
        }
        if parts.next().is_some() {
            return Err(MacParseError);
        }
        Ok(Self(bytes))
    }
}

/// A string that is not six colon-separated hex bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address (expected six colon-separated hex bytes, e.g. 02:00:00:00:00:01)")]
pub struct MacParseError;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn eui64_link_local_rfc4291_appendix_a() {
        let mac = Mac::new([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        assert_eq!(mac.to_ipv6_link_local().to_string(), "fe80::5054:ff:fe12:3456");
    }

    #[test]
    fn multicast_mappings() {
        assert_eq!(
            Mac::from_ipv4_multicast(super::super::Ipv4Addr::new([224, 129, 2, 3])).to_string(),
            "01:00:5e:01:02:03"
        );
        let g: Ipv6Addr = "ff02::1:ff12:3456".parse().unwrap();
        assert_eq!(Mac::from_ipv6_multicast(g).to_string(), "33:33:ff:12:34:56");
    }

    #[test]
    fn parse_and_display() {
        let m: Mac = "02:00:5e:10:00:01".parse().unwrap();
        assert_eq!(m.to_string(), "02:00:5e:10:00:01");
        assert!(m.is_locally_administered() && m.is_unicast());
        assert!("02:00:5e:10:00".parse::<Mac>().is_err());
        assert!("02:00:5e:10:00:01:02".parse::<Mac>().is_err());
        assert!("02:00:5e:10:00:zz".parse::<Mac>().is_err());
        assert!(Mac::BROADCAST.is_broadcast() && Mac::BROADCAST.is_multicast());
    }
}
