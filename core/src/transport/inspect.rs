//! Socket enumeration for diagnostics: one [`SocketSummary`] per socket of every transport
//! protocol, what `ss -tuwanpi` shows on Linux (protocol, state, addresses, queues and, for
//! TCP, TCP_INFO).
//!
//! Enumeration walks the socket tables on demand and touches nothing on the data path: the
//! cost is O(sockets) per call, paid only by whoever asks (the Inspect tree).

use core::fmt;

use crate::addr::{IpAddr, IpVersion, Ipv4, Ipv6};

use super::ping::PingSocketId;
use super::raw::RawSocketId;
use super::tcp::info::TcpInfo;
use super::tcp::{AnyTcpSocketId, State};
use super::udp::AnyUdpSocketId;

/// Which transport protocol a socket speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SocketProtocol {
    /// TCP (stream sockets).
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6 echo (Linux's ping sockets).
    Icmp,
    /// Raw IP.
    Raw,
}

impl SocketProtocol {
    /// The name `ss` and the Inspect tree use: `tcp`, `udp`, `icmp`, `raw`.
    pub fn name(self) -> &'static str {
        match self {
            SocketProtocol::Tcp => "tcp",
            SocketProtocol::Udp => "udp",
            SocketProtocol::Icmp => "icmp",
            SocketProtocol::Raw => "raw",
        }
    }
}

/// A socket of any transport protocol and IP version: the core's own id, which the bindings
/// keep beside their per-socket state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnySocketId {
    /// A TCP socket.
    Tcp(AnyTcpSocketId),
    /// A UDP socket.
    Udp(AnyUdpSocketId),
    /// An ICMP echo socket.
    Ping4(PingSocketId<Ipv4>),
    /// An ICMPv6 echo socket.
    Ping6(PingSocketId<Ipv6>),
    /// A raw IPv4 socket.
    Raw4(RawSocketId<Ipv4>),
    /// A raw IPv6 socket.
    Raw6(RawSocketId<Ipv6>),
}

impl From<PingSocketId<Ipv4>> for AnySocketId {
    fn from(id: PingSocketId<Ipv4>) -> Self {
        AnySocketId::Ping4(id)
    }
}

impl From<PingSocketId<Ipv6>> for AnySocketId {
    fn from(id: PingSocketId<Ipv6>) -> Self {
        AnySocketId::Ping6(id)
    }
}

impl From<RawSocketId<Ipv4>> for AnySocketId {
    fn from(id: RawSocketId<Ipv4>) -> Self {
        AnySocketId::Raw4(id)
    }
}

impl From<RawSocketId<Ipv6>> for AnySocketId {
    fn from(id: RawSocketId<Ipv6>) -> Self {
        AnySocketId::Raw6(id)
    }
}

impl From<AnyTcpSocketId> for AnySocketId {
    fn from(id: AnyTcpSocketId) -> Self {
        AnySocketId::Tcp(id)
    }
}

impl From<AnyUdpSocketId> for AnySocketId {
    fn from(id: AnyUdpSocketId) -> Self {
        AnySocketId::Udp(id)
    }
}

/// One socket as diagnostics see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketSummary {
    /// The socket.
    pub id: AnySocketId,
    /// Its slot in its protocol's table: unique among the open sockets of one protocol and
    /// IP version (see [`key`](Self::key)).
    pub slot: u32,
    /// The protocol.
    pub protocol: SocketProtocol,
    /// The IP version of the socket (a dual-stack IPv6 socket is IPv6, whatever it carries).
    pub version: IpVersion,
    /// The TCP state (`None` for the other protocols).
    pub state: Option<State>,
    /// The local address; `None` for the wildcard.
    pub local_addr: Option<IpAddr>,
    /// The local port (0 while unbound); an ICMP echo socket's identifier; a raw socket's
    /// IP protocol (as `ss` shows it).
    pub local_port: u16,
    /// The peer, when connected (port 0 for ICMP echo and raw sockets).
    pub remote: Option<(IpAddr, u16)>,
    /// `ss`'s Recv-Q: bytes received and not yet read (for a datagram socket, the bytes
    /// charged to its receive queue); for a TCP listener, connections waiting for accept.
    pub recv_queue: usize,
    /// `ss`'s Send-Q: bytes sent and not yet acknowledged (TCP only); for a TCP listener,
    /// the backlog.
    pub send_queue: usize,
    /// TCP_INFO, as `getsockopt` reports it (TCP only).
    pub tcp_info: Option<TcpInfo>,
    /// A TCP connection the application closed, finishing its FIN handshake or waiting in
    /// TIME-WAIT: no application holds it any more.
    pub orphaned: bool,
}

impl SocketSummary {
    /// A name unique among the open sockets: protocol, IP version and slot, e.g. `tcp4:3`.
    pub fn key(&self) -> SocketKey {
        SocketKey { protocol: self.protocol, version: self.version, slot: self.slot }
    }
}

/// The printable name of a socket ([`SocketSummary::key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketKey {
    /// The protocol.
    pub protocol: SocketProtocol,
    /// The IP version.
    pub version: IpVersion,
    /// The slot.
    pub slot: u32,
}

impl fmt::Display for SocketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = match self.version {
            IpVersion::V4 => 4,
            IpVersion::V6 => 6,
        };
        write!(f, "{}{}:{}", self.protocol.name(), version, self.slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_protocol_version_and_slot() {
        let key = SocketKey { protocol: SocketProtocol::Tcp, version: IpVersion::V6, slot: 3 };
        assert_eq!(alloc::format!("{key}"), "tcp6:3");
        let key = SocketKey { protocol: SocketProtocol::Icmp, version: IpVersion::V4, slot: 0 };
        assert_eq!(alloc::format!("{key}"), "icmp4:0");
    }
}
