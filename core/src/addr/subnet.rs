//! Subnets (prefixes) and addresses assigned with a prefix length.

use core::fmt;
use core::str::FromStr;

use super::{IpAddress, UnicastAddr};

/// A subnet: a network address and a prefix length, with no host bits set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subnet<A> {
    network: A,
    prefix_len: u8,
}

/// Why a subnet or address/prefix pair is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubnetError {
    /// The prefix length exceeds the address length.
    #[error("prefix length {prefix_len} exceeds {bits} bits")]
    PrefixTooLong {
        /// The prefix length given.
        prefix_len: u8,
        /// The address length.
        bits: u8,
    },
    /// The network address has bits set past the prefix.
    #[error("host bits set past the /{prefix_len} prefix")]
    HostBitsSet {
        /// The prefix length given.
        prefix_len: u8,
    },
    /// The text is not `ADDRESS/PREFIX`.
    #[error("expected ADDRESS/PREFIX, e.g. 192.0.2.0/24 or 2001:db8::/32")]
    Syntax,
}

impl<A> Subnet<A> {
    /// A subnet known to be valid; only for constants.
    pub(crate) const fn new_unchecked(network: A, prefix_len: u8) -> Self {
        Self { network, prefix_len }
    }
}

impl<A: IpAddress> Subnet<A> {
    /// A subnet, if `prefix_len` fits and `network` has no host bits set.
    pub fn new(network: A, prefix_len: u8) -> Result<Self, SubnetError> {
        if prefix_len > A::BITS {
            return Err(SubnetError::PrefixTooLong { prefix_len, bits: A::BITS });
        }
        if network.mask(prefix_len) != network {
            return Err(SubnetError::HostBitsSet { prefix_len });
        }
        Ok(Self { network, prefix_len })
    }

    /// The subnet `addr` lies in with a prefix of `prefix_len` (host bits cleared).
    pub fn from_host(addr: A, prefix_len: u8) -> Result<Self, SubnetError> {
        Self::new(addr.mask(prefix_len.min(A::BITS)), prefix_len)
    }

    /// The network address.
    pub fn network(&self) -> A {
        self.network
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `addr` lies in this subnet.
    pub fn contains(&self, addr: &A) -> bool {
        addr.mask(self.prefix_len) == self.network
    }
}

impl Subnet<super::Ipv4Addr> {
    /// The subnet's directed broadcast address (all host bits set), or `None` for /31 and /32
    /// prefixes, which have none (RFC 3021).
    pub fn broadcast(&self) -> Option<super::Ipv4Addr> {
        (self.prefix_len < 31).then(|| {
            let host_mask = u32::MAX >> self.prefix_len;
            super::Ipv4Addr::from_u32(self.network.to_u32() | host_mask)
        })
    }
}

impl<A: fmt::Display> fmt::Display for Subnet<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

fn split_cidr<A: FromStr>(s: &str) -> Result<(A, u8), SubnetError> {
    let (addr, prefix) = s.split_once('/').ok_or(SubnetError::Syntax)?;
    let addr = addr.parse().map_err(|_| SubnetError::Syntax)?;
    let prefix = prefix.parse().map_err(|_| SubnetError::Syntax)?;
    Ok((addr, prefix))
}

impl<A: IpAddress + FromStr> FromStr for Subnet<A> {
    type Err = SubnetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = split_cidr(s)?;
        Self::new(addr, prefix)
    }
}

/// A unicast address assigned together with the prefix of its subnet (`192.0.2.1/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrSubnet<A> {
    addr: UnicastAddr<A>,
    subnet: Subnet<A>,
}

/// Why an address/prefix pair cannot be assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddrSubnetError {
    /// The prefix is invalid.
    #[error(transparent)]
    Subnet(#[from] SubnetError),
    /// The address is unspecified, multicast or broadcast.
    #[error("not a unicast address")]
    NotUnicast,
}

impl<A: IpAddress + super::IsUnicast> AddrSubnet<A> {
    /// Pairs a unicast `addr` with the subnet of length `prefix_len` it lies in.
    pub fn new(addr: A, prefix_len: u8) -> Result<Self, AddrSubnetError> {
        let subnet = Subnet::from_host(addr, prefix_len)?;
        let addr = UnicastAddr::new(addr).ok_or(AddrSubnetError::NotUnicast)?;
        Ok(Self { addr, subnet })
    }

    /// The address.
    pub fn addr(&self) -> UnicastAddr<A> {
        self.addr
    }

    /// The subnet.
    pub fn subnet(&self) -> Subnet<A> {
        self.subnet
    }
}

impl<A: fmt::Display> fmt::Display for AddrSubnet<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.subnet.prefix_len)
    }
}

impl<A: IpAddress + super::IsUnicast + FromStr> FromStr for AddrSubnet<A> {
    type Err = AddrSubnetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = split_cidr(s)?;
        Self::new(addr, prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Ipv4Addr, Ipv6Addr};
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn subnet_validation() {
        assert_eq!(
            Subnet::new(Ipv4Addr::new([192, 0, 2, 1]), 24),
            Err(SubnetError::HostBitsSet { prefix_len: 24 })
        );
        assert_eq!(
            Subnet::new(Ipv4Addr::new([192, 0, 2, 0]), 33),
            Err(SubnetError::PrefixTooLong { prefix_len: 33, bits: 32 })
        );
        let s: Subnet<Ipv6Addr> = "2001:db8::/32".parse().unwrap();
        assert!(s.contains(&"2001:db8:1::5".parse().unwrap()));
        assert!(!s.contains(&"2001:db9::5".parse().unwrap()));
        assert_eq!(s.to_string(), "2001:db8::/32");
        assert!("2001:db8::".parse::<Subnet<Ipv6Addr>>().is_err());
        let zero: Subnet<Ipv4Addr> = "0.0.0.0/0".parse().unwrap();
        assert!(zero.contains(&Ipv4Addr::new([198, 51, 100, 7])));
    }

    #[test]
    fn rfc3021_no_broadcast_on_31() {
        let s: Subnet<Ipv4Addr> = "192.0.2.0/24".parse().unwrap();
        assert_eq!(s.broadcast(), Some(Ipv4Addr::new([192, 0, 2, 255])));
        let p2p: Subnet<Ipv4Addr> = "192.0.2.0/31".parse().unwrap();
        assert_eq!(p2p.broadcast(), None);
    }

    #[test]
    fn addr_subnet_parses_cidr() {
        let a: AddrSubnet<Ipv4Addr> = "192.0.2.1/24".parse().unwrap();
        assert_eq!(a.subnet().to_string(), "192.0.2.0/24");
        assert_eq!(a.to_string(), "192.0.2.1/24");
        assert_eq!("224.0.0.1/4".parse::<AddrSubnet<Ipv4Addr>>(), Err(AddrSubnetError::NotUnicast));
        assert!("192.0.2.1/40".parse::<AddrSubnet<Ipv4Addr>>().is_err());
        let v6: AddrSubnet<Ipv6Addr> = "2001:db8::1/64".parse().unwrap();
        assert_eq!(v6.subnet().to_string(), "2001:db8::/64");
    }
}
