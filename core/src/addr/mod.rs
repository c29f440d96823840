//! Address types with witnesses: our equivalent of Fuchsia's `net-types`.
//!
//! * [`Ipv4Addr`], [`Ipv6Addr`], [`Mac`]: plain addresses, convertible to and from `core::net`.
//! * [`Ip`], implemented by the marker types [`Ipv4`] and [`Ipv6`], carries what differs
//!   between the IP versions, so version-generic code is written once.
//! * [`Subnet`] and [`AddrSubnet`]: prefixes, and an address assigned with its prefix.
//! * Witnesses ([`SpecifiedAddr`], [`UnicastAddr`], [`MulticastAddr`], [`LinkLocalAddr`],
//!   [`NonMappedAddr`]): wrappers that can only be built from an address with the
//!   property, so functions taking them never re-check it.

mod ip;
mod mac;
mod subnet;
mod witness;

pub use ip::{Ip, IpAddr, IpAddress, IpVersion, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, Ipv6Scope};
pub use mac::Mac;
pub use subnet::{AddrSubnet, AddrSubnetError, Subnet, SubnetError};
pub use witness::{
    IsLinkLocal, IsLoopback, IsMulticast, IsSpecified, IsUnicast, LinkLocalAddr, MulticastAddr,
    NonMappedAddr, SpecifiedAddr, UnicastAddr, Witness,
};
