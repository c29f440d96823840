//! Bindings for `fidl/sdk/fuchsia.net/`: addresses, socket addresses, subnets and the small
//! types the interface, route and neighbor libraries share.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// An interface identifier; 0 means none.
pub type InterfaceId = u64;

crate::fidl_struct! {
    /// An IPv4 address, network byte order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Ipv4Address { pub addr: [u8; 4] }
}

crate::fidl_struct! {
    /// An IPv6 address, network byte order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Ipv6Address { pub addr: [u8; 16] }
}

crate::fidl_union! {
    /// An IPv4 or IPv6 address.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum IpAddress { 1 => Ipv4(Ipv4Address), 2 => Ipv6(Ipv6Address) }
}

crate::fidl_struct! {
    /// An IPv4 address and port.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Ipv4SocketAddress { pub address: Ipv4Address, pub port: u16 }
}

crate::fidl_struct! {
    /// An IPv6 address, port and zone (the interface of a link-local address; 0 for none).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Ipv6SocketAddress { pub address: Ipv6Address, pub port: u16, pub zone_index: InterfaceId }
}

crate::fidl_union! {
    /// An IPv4 or IPv6 socket address.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SocketAddress { 1 => Ipv4(Ipv4SocketAddress), 2 => Ipv6(Ipv6SocketAddress) }
}

crate::fidl_struct! {
    /// An address with the prefix length of its subnet.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Subnet { pub addr: IpAddress, pub prefix_len: u8 }
}

crate::fidl_struct! {
    /// A MAC address.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MacAddress { pub octets: [u8; 6] }
}

crate::fidl_struct! {
    /// An IPv4 address with a prefix length (a route's destination).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Ipv4AddressWithPrefix { pub addr: Ipv4Address, pub prefix_len: u8 }
}

crate::fidl_struct! {
    /// An IPv6 address with a prefix length.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Ipv6AddressWithPrefix { pub addr: Ipv6Address, pub prefix_len: u8 }
}

crate::fidl_enum! {
    /// IPv4 or IPv6.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum IpVersion: u32 { V4 = 1, V6 = 2 }
}

/// A route's metric; lower is preferred.
pub type RouteMetric = u32;

crate::fidl_enum! {
    /// The domains of socket marks.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MarkDomain: u8 { Mark1 = 1, Mark2 = 2 }
}

impl From<Ipv4Addr> for Ipv4Address {
    fn from(addr: Ipv4Addr) -> Self {
        Ipv4Address { addr: addr.octets() }
    }
}

impl From<Ipv4Address> for Ipv4Addr {
    fn from(addr: Ipv4Address) -> Self {
        Ipv4Addr::from(addr.addr)
    }
}

impl From<Ipv6Addr> for Ipv6Address {
    fn from(addr: Ipv6Addr) -> Self {
        Ipv6Address { addr: addr.octets() }
    }
}

impl From<Ipv6Address> for Ipv6Addr {
    fn from(addr: Ipv6Address) -> Self {
        Ipv6Addr::from(addr.addr)
    }
}

impl From<std::net::IpAddr> for IpAddress {
    fn from(addr: std::net::IpAddr) -> Self {
        match addr {
            std::net::IpAddr::V4(v4) => IpAddress::Ipv4(v4.into()),
            std::net::IpAddr::V6(v6) => IpAddress::Ipv6(v6.into()),
        }
    }
}

impl From<IpAddress> for std::net::IpAddr {
    fn from(addr: IpAddress) -> Self {
        match addr {
            IpAddress::Ipv4(v4) => std::net::IpAddr::V4(v4.into()),
            IpAddress::Ipv6(v6) => std::net::IpAddr::V6(v6.into()),
        }
    }
}

impl From<SocketAddr> for SocketAddress {
    /// The IPv6 flow information of `addr` is dropped: the FIDL type has none.
    fn from(addr: SocketAddr) -> Self {
        match addr {
            SocketAddr::V4(v4) => {
                SocketAddress::Ipv4(Ipv4SocketAddress { address: (*v4.ip()).into(), port: v4.port() })
            }
            SocketAddr::V6(v6) => SocketAddress::Ipv6(Ipv6SocketAddress {
                address: (*v6.ip()).into(),
                port: v6.port(),
                zone_index: v6.scope_id().into(),
            }),
        }
    }
}

impl From<SocketAddress> for SocketAddr {
    /// A zone index above `u32::MAX` (which no Linux interface has) becomes 0.
    fn from(addr: SocketAddress) -> Self {
        match addr {
            SocketAddress::Ipv4(v4) => SocketAddr::V4(SocketAddrV4::new(v4.address.into(), v4.port)),
            SocketAddress::Ipv6(v6) => SocketAddr::V6(SocketAddrV6::new(
                v6.address.into(),
                v6.port,
                0,
                u32::try_from(v6.zone_index).unwrap_or(0),
            )),
        }
    }
}
