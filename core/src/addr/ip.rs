//! IPv4 and IPv6 addresses and the [`Ip`] trait that makes code IP-version generic.

use core::fmt::{self, Debug, Display};
use core::hash::Hash;
use core::str::FromStr;

use super::{MulticastAddr, SpecifiedAddr, Subnet};

/// An IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl IpVersion {
    /// The version number in the IP header (4 or 6).
    pub const fn number(self) -> u8 {
        match self {
            IpVersion::V4 => 4,
            IpVersion::V6 => 6,
        }
    }
}

/// An IPv4 address.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Addr([u8; 4]);

impl Ipv4Addr {
    /// 0.0.0.0.
    pub const UNSPECIFIED: Self = Self([0; 4]);
    /// 255.255.255.255, the limited broadcast address (RFC 919).
    pub const LIMITED_BROADCAST: Self = Self([255; 4]);
    /// 127.0.0.1.
    pub const LOOPBACK: Self = Self([127, 0, 0, 1]);
    /// 224.0.0.1, all systems on this subnet (RFC 1112).
    pub const ALL_SYSTEMS: Self = Self([224, 0, 0, 1]);
    /// 224.0.0.2, all routers on this subnet.
    pub const ALL_ROUTERS: Self = Self([224, 0, 0, 2]);
    /// 224.0.0.22, where IGMPv3 reports go (RFC 3376 §4.2.14).
    pub const IGMPV3_ROUTERS: Self = Self([224, 0, 0, 22]);

    /// An address from its bytes in network order.
    pub const fn new(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }

    /// The bytes in network order.
    pub const fn bytes(&self) -> [u8; 4] {
        self.0
    }

    /// The address as a host-order integer.
    pub const fn to_u32(&self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// An address from a host-order integer.
    pub const fn from_u32(v: u32) -> Self {
        Self(v.to_be_bytes())
    }

    /// 0.0.0.0.
    pub const fn is_unspecified(&self) -> bool {
        self.to_u32() == 0
    }

    /// 127.0.0.0/8 (RFC 1122 §3.2.1.3).
    pub const fn is_loopback(&self) -> bool {
        self.0[0] == 127
    }

    /// 224.0.0.0/4 (RFC 5771).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0xf0 == 0xe0
    }

    /// 255.255.255.255.
    pub const fn is_limited_broadcast(&self) -> bool {
        self.to_u32() == u32::MAX
    }

    /// 169.254.0.0/16 (RFC 3927).
    pub const fn is_link_local(&self) -> bool {
        self.0[0] == 169 && self.0[1] == 254
    }

    /// 240.0.0.0/4 other than the limited broadcast address (reserved, RFC 1112 §4).
    pub const fn is_class_e(&self) -> bool {
        self.0[0] & 0xf0 == 0xf0 && !self.is_limited_broadcast()
    }

    /// The IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
    pub const fn to_ipv6_mapped(&self) -> Ipv6Addr {
        let b = self.0;
        Ipv6Addr([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, b[0], b[1], b[2], b[3]])
    }
}

/// An IPv6 address.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6Addr([u8; 16]);

/// The scope of an IPv6 multicast address (RFC 4291 §2.7, RFC 7346).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ipv6Scope {
    /// 1: interface-local.
    InterfaceLocal,
    /// 2: link-local.
    LinkLocal,
    /// 3: realm-local.
    RealmLocal,
    /// 4: admin-local.
    AdminLocal,
    /// 5: site-local.
    SiteLocal,
    /// 8: organization-local.
    OrganizationLocal,
    /// 14 (0xe): global.
    Global,
    /// Any other scope value (reserved or unassigned).
    Other(u8),
}

impl Ipv6Addr {
    /// ::.
    pub const UNSPECIFIED: Self = Self([0; 16]);
    /// ::1.
    pub const LOOPBACK: Self = Self([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    /// ff02::1, all nodes on the link.
    pub const ALL_NODES: Self = Self([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    /// ff02::2, all routers on the link.
    pub const ALL_ROUTERS: Self = Self([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    /// ff02::16, where MLDv2 reports go (RFC 3810 §5.2.14).
    pub const ALL_MLDV2_ROUTERS: Self = Self([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16]);

    /// An address from its bytes in network order.
    pub const fn new(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// An address from eight host-order 16-bit segments.
    pub const fn from_segments(s: [u16; 8]) -> Self {
        let mut b = [0u8; 16];
        let mut i = 0;
        while i < 8 {
            let [hi, lo] = s[i].to_be_bytes();
            b[2 * i] = hi;
            b[2 * i + 1] = lo;
            i += 1;
        }
        Self(b)
    }

    /// The bytes in network order.
    pub const fn bytes(&self) -> [u8; 16] {
        self.0
    }

    /// The eight 16-bit segments, host order.
    pub const fn segments(&self) -> [u16; 8] {
        let b = self.0;
        let mut s = [0u16; 8];
        let mut i = 0;
        while i < 8 {
            s[i] = u16::from_be_bytes([b[2 * i], b[2 * i + 1]]);
            i += 1;
        }
        s
    }

    /// ::.
    pub const fn is_unspecified(&self) -> bool {
        u128::from_be_bytes(self.0) == 0
    }

    /// ::1.
    pub const fn is_loopback(&self) -> bool {
        u128::from_be_bytes(self.0) == 1
    }

    /// ff00::/8.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] == 0xff
    }

    /// fe80::/10, link-local unicast (RFC 4291 §2.5.6).
    pub const fn is_unicast_link_local(&self) -> bool {
        self.0[0] == 0xfe && self.0[1] & 0xc0 == 0x80
    }

    /// The scope of a multicast address, or `None` for a unicast one.
    pub const fn multicast_scope(&self) -> Option<Ipv6Scope> {
        if !self.is_multicast() {
            return None;
        }
        Some(match self.0[1] & 0x0f {
            1 => Ipv6Scope::InterfaceLocal,
            2 => Ipv6Scope::LinkLocal,
            3 => Ipv6Scope::RealmLocal,
            4 => Ipv6Scope::AdminLocal,
            5 => Ipv6Scope::SiteLocal,
            8 => Ipv6Scope::OrganizationLocal,
            14 => Ipv6Scope::Global,
            other => Ipv6Scope::Other(other),
        })
    }

    /// The solicited-node multicast address ff02::1:ffXX:XXXX for this address (RFC 4291
    /// §2.7.1).
    pub const fn to_solicited_node(&self) -> Ipv6Addr {
        let b = self.0;
        Self([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13], b[14], b[15]])
    }

    /// Whether this is a solicited-node multicast address, ff02::1:ffXX:XXXX (RFC 4291
    /// §2.7.1).
    pub const fn is_solicited_node(&self) -> bool {
        let b = self.0;
        u128::from_be_bytes(b) >> 24 == 0x00ff_0200_0000_0000_0000_0000_01ff
    }

    /// The IPv4 address inside an IPv4-mapped address ::ffff:a.b.c.d, if this is one.
    pub const fn to_ipv4_mapped(&self) -> Option<Ipv4Addr> {
        let b = self.0;
        if u128::from_be_bytes(b) >> 32 == 0xffff {
            Some(Ipv4Addr([b[12], b[13], b[14], b[15]]))
        } else {
            None
        }
    }

    /// The 64-bit interface identifier (the low half).
    pub const fn interface_id(&self) -> [u8; 8] {
        let b = self.0;
        [b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]
    }
}

macro_rules! core_net_conversions {
    ($ours:ident, $theirs:ty, $bytes:literal) => {
        impl From<$theirs> for $ours {
            fn from(a: $theirs) -> Self {
                Self(a.octets())
            }
        }

        impl From<$ours> for $theirs {
            fn from(a: $ours) -> Self {
                <$theirs>::from(a.0)
            }
        }

        impl From<[u8; $bytes]> for $ours {
            fn from(bytes: [u8; $bytes]) -> Self {
                Self(bytes)
            }
        }

        impl Display for $ours {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                Display::fmt(&<$theirs>::from(*self), f)
            }
        }

        impl Debug for $ours {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                Display::fmt(self, f)
            }
        }

        impl FromStr for $ours {
            type Err = core::net::AddrParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<$theirs>().map(Self::from)
            }
        }
    };
}

core_net_conversions!(Ipv4Addr, core::net::Ipv4Addr, 4);
core_net_conversions!(Ipv6Addr, core::net::Ipv6Addr, 16);

/// An address of either IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpAddr {
    /// IPv4.
    V4(Ipv4Addr),
    /// IPv6.
    V6(Ipv6Addr),
}

impl From<core::net::IpAddr> for IpAddr {
    fn from(a: core::net::IpAddr) -> Self {
        match a {
            core::net::IpAddr::V4(a) => IpAddr::V4(a.into()),
            core::net::IpAddr::V6(a) => IpAddr::V6(a.into()),
        }
    }
}

impl From<IpAddr> for core::net::IpAddr {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => core::net::IpAddr::V4(a.into()),
            IpAddr::V6(a) => core::net::IpAddr::V6(a.into()),
        }
    }
}

impl Display for IpAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpAddr::V4(a) => Display::fmt(a, f),
            IpAddr::V6(a) => Display::fmt(a, f),
        }
    }
}

impl FromStr for IpAddr {
    type Err = core::net::AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<core::net::IpAddr>().map(Self::from)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Ipv4 {}
    impl Sealed for super::Ipv6 {}
    impl Sealed for super::Ipv4Addr {}
    impl Sealed for super::Ipv6Addr {}
}

/// An IPv4 or IPv6 address, for code written once for both versions.
pub trait IpAddress:
    sealed::Sealed
    + Copy
    + Eq
    + Hash
    + Ord
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
    + super::IsSpecified
    + super::IsUnicast
    + super::IsMulticast
    + super::IsLinkLocal
    + super::IsLoopback
{
    /// The IP version this address belongs to.
    type Version: Ip<Addr = Self>;
    /// Length in bits (32 or 128).
    const BITS: u8;

    /// The bytes in network order.
    fn as_bytes(&self) -> &[u8];
    /// The address with all but the first `prefix_len` bits cleared (`prefix_len` is clamped
    /// to [`BITS`](Self::BITS)).
    fn mask(&self, prefix_len: u8) -> Self;
    /// How many leading bits this address shares with `other`.
    fn common_prefix_len(&self, other: &Self) -> u8;
    /// The unspecified address.
    fn is_unspecified(&self) -> bool;
    /// A loopback address.
    fn is_loopback(&self) -> bool;
    /// A multicast address.
    fn is_multicast(&self) -> bool;
    /// A link-local unicast address (169.254/16, fe80::/10).
    fn is_link_local_unicast(&self) -> bool;
    /// As an [`IpAddr`].
    fn to_ip_addr(&self) -> IpAddr;
}

macro_rules! impl_ip_address {
    ($addr:ident, $version:ident, $variant:ident, $int:ty, $bits:literal, $link_local:ident) => {
        impl IpAddress for $addr {
            type Version = $version;
            const BITS: u8 = $bits;

            fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            fn mask(&self, prefix_len: u8) -> Self {
                let prefix_len = u32::from(prefix_len.min($bits));
                let mask = <$int>::MAX.checked_shl($bits - prefix_len).unwrap_or(0);
                Self((<$int>::from_be_bytes(self.0) & mask).to_be_bytes())
            }

            fn common_prefix_len(&self, other: &Self) -> u8 {
                let diff = <$int>::from_be_bytes(self.0) ^ <$int>::from_be_bytes(other.0);
                diff.leading_zeros() as u8
            }

            fn is_unspecified(&self) -> bool {
                $addr::is_unspecified(self)
            }

            fn is_loopback(&self) -> bool {
                $addr::is_loopback(self)
            }

            fn is_multicast(&self) -> bool {
                $addr::is_multicast(self)
            }

            fn is_link_local_unicast(&self) -> bool {
                $addr::$link_local(self)
            }

            fn to_ip_addr(&self) -> IpAddr {
                IpAddr::from(*self)
            }
        }

        impl From<$addr> for IpAddr {
            fn from(a: $addr) -> Self {
                IpAddr::$variant(a)
            }
        }
    };
}

impl_ip_address!(Ipv4Addr, Ipv4, V4, u32, 32, is_link_local);
impl_ip_address!(Ipv6Addr, Ipv6, V6, u128, 128, is_unicast_link_local);

/// What differs between IPv4 and IPv6; implemented by the marker types [`Ipv4`] and [`Ipv6`].
pub trait Ip: sealed::Sealed + Copy + Eq + Hash + Ord + Debug + Default + Send + Sync + 'static {
    /// The version.
    const VERSION: IpVersion;
    /// The address type.
    type Addr: IpAddress<Version = Self>;
    /// The unspecified address.
    const UNSPECIFIED_ADDRESS: Self::Addr;
    /// The loopback address (127.0.0.1, ::1).
    const LOOPBACK_ADDRESS: SpecifiedAddr<Self::Addr>;
    /// The loopback subnet (127.0.0.0/8, ::1/128).
    const LOOPBACK_SUBNET: Subnet<Self::Addr>;
    /// The multicast subnet (224.0.0.0/4, ff00::/8).
    const MULTICAST_SUBNET: Subnet<Self::Addr>;
    /// The link-local unicast subnet (169.254.0.0/16, fe80::/10).
    const LINK_LOCAL_UNICAST_SUBNET: Subnet<Self::Addr>;
    /// The all-nodes multicast group (224.0.0.1, ff02::1).
    const ALL_NODES: MulticastAddr<Self::Addr>;
    /// The smallest MTU every link must carry (RFC 791: 68, RFC 8200 §5: 1280).
    const MINIMUM_LINK_MTU: u16;
}

/// IPv4, as a type parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ipv4 {
    /// The only value; the type is used as a parameter, not as data.
    #[default]
    V4,
}

/// IPv6, as a type parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ipv6 {
    /// The only value; the type is used as a parameter, not as data.
    #[default]
    V6,
}

impl Ip for Ipv4 {
    const VERSION: IpVersion = IpVersion::V4;
    type Addr = Ipv4Addr;
    const UNSPECIFIED_ADDRESS: Ipv4Addr = Ipv4Addr::UNSPECIFIED;
    const LOOPBACK_ADDRESS: SpecifiedAddr<Ipv4Addr> = SpecifiedAddr::new_unchecked(Ipv4Addr::LOOPBACK);
    const LOOPBACK_SUBNET: Subnet<Ipv4Addr> = Subnet::new_unchecked(Ipv4Addr([127, 0, 0, 0]), 8);
    const MULTICAST_SUBNET: Subnet<Ipv4Addr> = Subnet::new_unchecked(Ipv4Addr([224, 0, 0, 0]), 4);
    const LINK_LOCAL_UNICAST_SUBNET: Subnet<Ipv4Addr> = Subnet::new_unchecked(Ipv4Addr([169, 254, 0, 0]), 16);
    const ALL_NODES: MulticastAddr<Ipv4Addr> = MulticastAddr::new_unchecked(Ipv4Addr::ALL_SYSTEMS);
    const MINIMUM_LINK_MTU: u16 = 68;
}

impl Ip for Ipv6 {
    const VERSION: IpVersion = IpVersion::V6;
    type Addr = Ipv6Addr;
    const UNSPECIFIED_ADDRESS: Ipv6Addr = Ipv6Addr::UNSPECIFIED;
    const LOOPBACK_ADDRESS: SpecifiedAddr<Ipv6Addr> = SpecifiedAddr::new_unchecked(Ipv6Addr::LOOPBACK);
    const LOOPBACK_SUBNET: Subnet<Ipv6Addr> = Subnet::new_unchecked(Ipv6Addr::LOOPBACK, 128);
    const MULTICAST_SUBNET: Subnet<Ipv6Addr> =
        Subnet::new_unchecked(Ipv6Addr([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 8);
    const LINK_LOCAL_UNICAST_SUBNET: Subnet<Ipv6Addr> =
        Subnet::new_unchecked(Ipv6Addr([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 10);
    const ALL_NODES: MulticastAddr<Ipv6Addr> = MulticastAddr::new_unchecked(Ipv6Addr::ALL_NODES);
    const MINIMUM_LINK_MTU: u16 = 1280;
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn mask_and_common_prefix() {
        let a: Ipv4Addr = "192.0.2.77".parse().unwrap();
        assert_eq!(a.mask(24).to_string(), "192.0.2.0");
        assert_eq!(a.mask(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(a.mask(32), a);
        assert_eq!(a.mask(200), a);
        let b: Ipv4Addr = "192.0.2.200".parse().unwrap();
        assert_eq!(a.common_prefix_len(&b), 24);
        assert_eq!(a.common_prefix_len(&a), 32);
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(v6.mask(32).to_string(), "2001:db8::");
        assert_eq!(v6.common_prefix_len(&"2001:db8::2".parse().unwrap()), 126);
    }

    #[test]
    fn rfc4291_2_7_1_solicited_node() {
        let a: Ipv6Addr = "2001:db8::abcd:1234:5678".parse().unwrap();
        assert_eq!(a.to_solicited_node().to_string(), "ff02::1:ff34:5678");
        assert!(a.to_solicited_node().is_solicited_node());
        assert!(!Ipv6Addr::ALL_NODES.is_solicited_node());
        assert!(!"ff02::2:ff34:5678".parse::<Ipv6Addr>().unwrap().is_solicited_node());
    }

    #[test]
    fn classification() {
        assert!(Ipv4Addr::new([169, 254, 1, 1]).is_link_local());
        assert!(Ipv4Addr::new([239, 1, 1, 1]).is_multicast());
        assert!(Ipv4Addr::new([240, 0, 0, 1]).is_class_e());
        assert!(!Ipv4Addr::LIMITED_BROADCAST.is_class_e());
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        assert!(ll.is_unicast_link_local());
        assert_eq!(Ipv6Addr::ALL_NODES.multicast_scope(), Some(Ipv6Scope::LinkLocal));
        let g: Ipv6Addr = "ff0e::1".parse().unwrap();
        assert_eq!(g.multicast_scope(), Some(Ipv6Scope::Global));
        assert_eq!(ll.multicast_scope(), None);
    }

    #[test]
    fn v4_mapped_round_trip_rfc4291_2_5_5_2() {
        let a = Ipv4Addr::new([192, 0, 2, 1]);
        let m = a.to_ipv6_mapped();
        assert_eq!(m.to_string(), "::ffff:192.0.2.1");
        assert_eq!(m.to_ipv4_mapped(), Some(a));
        assert_eq!(Ipv6Addr::LOOPBACK.to_ipv4_mapped(), None);
    }

    #[test]
    fn core_net_interop() {
        let std_addr = core::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
        let ours = Ipv6Addr::from(std_addr);
        assert_eq!(ours.segments(), std_addr.segments());
        assert_eq!(Ipv6Addr::from_segments(std_addr.segments()), ours);
        assert_eq!(core::net::Ipv6Addr::from(ours), std_addr);
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!(core::net::IpAddr::from(ip).to_string(), "192.0.2.9");
    }
}
