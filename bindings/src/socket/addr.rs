//! Socket addresses between `fuchsia.net.SocketAddress` and the core's address types, with
//! Linux's family rules: an IPv4 socket takes only `AF_INET` addresses and an IPv6 socket
//! only `AF_INET6` ones (`EAFNOSUPPORT` otherwise, as `inet_bind` and `inet6_bind` answer).

use netstack_core::addr::{Ip, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr};
use netstack_fidl::fuchsia_net::{
    Ipv4Address, Ipv4SocketAddress, Ipv6Address, Ipv6SocketAddress, SocketAddress,
};
use netstack_fidl::fuchsia_posix::Errno;

/// An address, port and zone (interface index, 0 for none) of one IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SockAddr<A> {
    /// The address.
    pub(crate) addr: A,
    /// The port (host order).
    pub(crate) port: u16,
    /// The IPv6 zone; always 0 for IPv4.
    pub(crate) zone: u64,
}

/// The conversions of one IP version.
pub(crate) trait FidlIp: Ip {
    /// `addr` if it is of this version.
    fn from_fidl(addr: &SocketAddress) -> Result<SockAddr<Self::Addr>, Errno>;

    /// The FIDL form.
    fn to_fidl(addr: SockAddr<Self::Addr>) -> SocketAddress;
}

impl FidlIp for Ipv4 {
    fn from_fidl(addr: &SocketAddress) -> Result<SockAddr<Ipv4Addr>, Errno> {
        match addr {
            SocketAddress::Ipv4(a) => {
                Ok(SockAddr { addr: Ipv4Addr::new(a.address.addr), port: a.port, zone: 0 })
            }
            SocketAddress::Ipv6(_) => Err(Errno::EAFNOSUPPORT),
        }
    }

    fn to_fidl(addr: SockAddr<Ipv4Addr>) -> SocketAddress {
        SocketAddress::Ipv4(Ipv4SocketAddress {
            address: Ipv4Address { addr: addr.addr.bytes() },
            port: addr.port,
        })
    }
}

impl FidlIp for Ipv6 {
    fn from_fidl(addr: &SocketAddress) -> Result<SockAddr<Ipv6Addr>, Errno> {
        match addr {
            SocketAddress::Ipv6(a) => {
                Ok(SockAddr { addr: Ipv6Addr::new(a.address.addr), port: a.port, zone: a.zone_index })
            }
            SocketAddress::Ipv4(_) => Err(Errno::EAFNOSUPPORT),
        }
    }

    fn to_fidl(addr: SockAddr<Ipv6Addr>) -> SocketAddress {
        SocketAddress::Ipv6(Ipv6SocketAddress {
            address: Ipv6Address { addr: addr.addr.bytes() },
            port: addr.port,
            zone_index: addr.zone,
        })
    }
}

/// The IPv6 form of an IPv4 destination for an IPv6 datagram socket (`AF_INET` on an
/// `AF_INET6` UDP socket connects to the IPv4-mapped address, as Linux's
/// `ip6_datagram_connect` does).
pub(crate) fn mapped_v6(addr: &SocketAddress) -> Result<SockAddr<Ipv6Addr>, Errno> {
    match addr {
        SocketAddress::Ipv4(a) => {
            Ok(SockAddr { addr: Ipv4Addr::new(a.address.addr).to_ipv6_mapped(), port: a.port, zone: 0 })
        }
        SocketAddress::Ipv6(_) => Ipv6::from_fidl(addr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_must_match_the_socket() {
        let v4 = Ipv4::to_fidl(SockAddr { addr: Ipv4Addr::new([192, 0, 2, 1]), port: 80, zone: 0 });
        assert_eq!(Ipv4::from_fidl(&v4).unwrap().port, 80);
        assert_eq!(Ipv6::from_fidl(&v4), Err(Errno::EAFNOSUPPORT));
        let v6 = Ipv6::to_fidl(SockAddr {
            addr: Ipv6Addr::from_segments([0xfe80, 0, 0, 0, 0, 0, 0, 1]),
            port: 1,
            zone: 2,
        });
        assert_eq!(Ipv6::from_fidl(&v6).unwrap().zone, 2);
        assert_eq!(Ipv4::from_fidl(&v6), Err(Errno::EAFNOSUPPORT));
        assert_eq!(mapped_v6(&v4).unwrap().addr.to_ipv4_mapped(), Some(Ipv4Addr::new([192, 0, 2, 1])));
    }
}
