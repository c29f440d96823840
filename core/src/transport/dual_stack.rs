//! Dual-stack sockets: what UDP and TCP share about IPv6 sockets that also carry IPv4.
//!
//! An IPv6 socket without IPV6_V6ONLY (off by default, as Linux's `bindv6only` sysctl) is a
//! dual-stack socket (RFC 3493 §3.7, §5.3): IPv4 peers appear to it as IPv4-mapped IPv6
//! addresses, `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2), and whatever it exchanges with them travels
//! over IPv4. In the binding tables such a socket is represented by its owner (see
//! [`socket_map`](super::socket_map)):
//!
//! * bound to `::`, it holds the IPv6 wildcard and, unless IPV6_V6ONLY, the IPv4 wildcard of
//!   its port too;
//! * bound to an IPv4-mapped address, it is an IPv4 socket in disguise: it holds that IPv4
//!   address in the IPv4 table only;
//! * bound to any other IPv6 address, it holds that address in the IPv6 table only.
//!
//! Its entries in the IPv4 table score below native IPv4 sockets' (Linux's `compute_score`
//! adds one for `sk_family == AF_INET`), and bind conflicts follow from the entries: two
//! sockets conflict when they hold overlapping entries of one table, which is Linux's
//! `ipv6_rcv_saddr_equal` (a dual-stack `::` conflicts with `0.0.0.0` and with every IPv4
//! address of its port; an IPV6_V6ONLY `::` with neither).

use crate::addr::{Ip, IpAddr, IpAddress, IpVersion, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, SpecifiedAddr};
use crate::device::DeviceId;

use super::socket_map::{EntryKind, LocalEndpoint, RemoteEndpoint};

/// How the sockets of an IP version see the other version's addresses; implemented by
/// [`Ipv4`] and [`Ipv6`].
pub trait DualStackIpExt: Ip {
    /// The IPv4 address `addr` stands for if it is IPv4-mapped (never for IPv4 itself).
    fn mapped_v4(addr: Self::Addr) -> Option<Ipv4Addr>;

    /// An IPv4 address as this version's sockets see it (IPv4-mapped for IPv6).
    fn from_v4(addr: Ipv4Addr) -> Self::Addr;

    /// An address of either version as this version's sockets see it: IPv4 addresses are
    /// IPv4-mapped for IPv6 sockets; an IPv4 socket sees only IPv4 addresses (and the IPv4
    /// address an IPv4-mapped one stands for).
    fn from_ip(addr: IpAddr) -> Option<Self::Addr>;

    /// The address a packet carries for `addr`: the IPv4 address an IPv4-mapped one stands
    /// for, else `addr` itself.
    fn wire(addr: Self::Addr) -> IpAddr {
        Self::mapped_v4(addr).map_or_else(|| addr.to_ip_addr(), IpAddr::V4)
    }
}

impl DualStackIpExt for Ipv4 {
    fn mapped_v4(_: Ipv4Addr) -> Option<Ipv4Addr> {
        None
    }

    fn from_v4(addr: Ipv4Addr) -> Ipv4Addr {
        addr
    }

    fn from_ip(addr: IpAddr) -> Option<Ipv4Addr> {
        match addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(a) => a.to_ipv4_mapped(),
        }
    }
}

impl DualStackIpExt for Ipv6 {
    fn mapped_v4(addr: Ipv6Addr) -> Option<Ipv4Addr> {
        addr.to_ipv4_mapped()
    }

    fn from_v4(addr: Ipv4Addr) -> Ipv6Addr {
        addr.to_ipv6_mapped()
    }

    fn from_ip(addr: IpAddr) -> Option<Ipv6Addr> {
        Some(match addr {
            IpAddr::V4(a) => a.to_ipv6_mapped(),
            IpAddr::V6(a) => a,
        })
    }
}

/// One table entry's binding: the local side and, for a connected socket, the remote.
pub(crate) type MapBinding<I, P> = (LocalEndpoint<I, P>, Option<RemoteEndpoint<I, P>>);

/// Where a socket of version `I` sits in the binding tables: its entry in its own version's
/// table, and its entry in the IPv4 table if it is an IPv6 socket reaching IPv4 (never for
/// an IPv4 socket, whose own entry is the IPv4 one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placement<I: Ip, P> {
    /// The entry in the socket's own version's table.
    pub(crate) native: Option<MapBinding<I, P>>,
    /// The entry in the IPv4 table of an IPv6 socket.
    pub(crate) v4: Option<MapBinding<Ipv4, P>>,
}

impl<I: DualStackIpExt, P: Copy> Placement<I, P> {
    /// The entries of a socket bound to `local_addr` (`None`: the wildcard), `port` and
    /// `device`, connected to `remote` if given, with IPV6_V6ONLY `v6only`; see the [module
    /// documentation](self).
    pub(crate) fn new(
        local_addr: Option<SpecifiedAddr<I::Addr>>,
        port: P,
        device: Option<DeviceId>,
        remote: Option<(SpecifiedAddr<I::Addr>, Option<P>)>,
        v6only: bool,
    ) -> Self {
        let remote_v4 = remote.and_then(|(a, p)| I::mapped_v4(*a).map(|v4| (v4, p)));
        let v4_remote =
            remote_v4.and_then(|(a, port)| SpecifiedAddr::new(a).map(|addr| RemoteEndpoint { addr, port }));
        let native_remote =
            remote.filter(|_| remote_v4.is_none()).map(|(addr, port)| RemoteEndpoint { addr, port });
        match local_addr.map(|a| (a, I::mapped_v4(*a))) {
            Some((_, Some(v4))) => Self {
                native: None,
                v4: Some((LocalEndpoint { addr: SpecifiedAddr::new(v4), port, device }, v4_remote)),
            },
            Some((addr, None)) => Self {
                native: Some((LocalEndpoint { addr: Some(addr), port, device }, native_remote)),
                v4: None,
            },
            None => {
                let dual = I::VERSION == IpVersion::V6 && !v6only;
                Self {
                    native: remote_v4
                        .is_none()
                        .then_some((LocalEndpoint { addr: None, port, device }, native_remote)),
                    v4: (dual && (remote.is_none() || remote_v4.is_some()))
                        .then_some((LocalEndpoint { addr: None, port, device }, v4_remote)),
                }
            }
        }
    }

    /// How the IPv4 entry stands for its socket: it scores below native IPv4 sockets.
    pub(crate) const fn v4_kind() -> EntryKind {
        match I::VERSION {
            IpVersion::V4 => EntryKind::Native,
            IpVersion::V6 => EntryKind::DualStack,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::test_addrs::{s, v4, v6};

    type P6 = Placement<Ipv6, u16>;

    #[test]
    fn rfc3493_3_7_wildcard_ipv6_socket_also_holds_the_ipv4_wildcard_unless_v6only() {
        let dual = P6::new(None, 80, None, None, false);
        assert_eq!(dual.native.map(|(l, _)| l.addr), Some(None));
        assert_eq!(dual.v4.map(|(l, _)| l.addr), Some(None));
        let only = P6::new(None, 80, None, None, true);
        assert!(only.native.is_some() && only.v4.is_none());
        let v4_socket = Placement::<Ipv4, u16>::new(None, 80, None, None, false);
        assert!(v4_socket.native.is_some() && v4_socket.v4.is_none());
    }

    #[test]
    fn rfc4291_2_5_5_2_a_mapped_binding_is_an_ipv4_binding() {
        let mapped = P6::new(Some(s(v4(1).to_ipv6_mapped())), 80, None, None, false);
        assert!(mapped.native.is_none());
        assert_eq!(mapped.v4.and_then(|(l, _)| l.addr), Some(s(v4(1))));
        let native = P6::new(Some(s(v6(1))), 80, None, None, false);
        assert!(native.native.is_some() && native.v4.is_none());
    }

    #[test]
    fn a_wildcard_socket_connected_to_a_mapped_peer_is_only_in_the_ipv4_table() {
        let remote = Some((s(v4(9).to_ipv6_mapped()), Some(53)));
        let p = P6::new(None, 80, None, remote, false);
        assert!(p.native.is_none());
        assert_eq!(p.v4.and_then(|(_, r)| r).map(|r| *r.addr), Some(v4(9)));
        let p = P6::new(None, 80, None, Some((s(v6(9)), Some(53))), false);
        assert!(p.v4.is_none() && p.native.is_some());
    }

    #[test]
    fn addresses_convert_between_versions_as_sockets_see_them() {
        assert_eq!(Ipv6::from_ip(IpAddr::V4(v4(1))), Some(v4(1).to_ipv6_mapped()));
        assert_eq!(Ipv4::from_ip(IpAddr::V6(v4(1).to_ipv6_mapped())), Some(v4(1)));
        assert_eq!(Ipv4::from_ip(IpAddr::V6(v6(1))), None);
        assert_eq!(Ipv6::wire(v4(1).to_ipv6_mapped()), IpAddr::V4(v4(1)));
        assert_eq!(Ipv6::wire(v6(1)), IpAddr::V6(v6(1)));
        assert_eq!(Ipv4::wire(v4(1)), IpAddr::V4(v4(1)));
    }
}
