//! The transport layer: datagram sockets and what they share.
//!
//! * [`socket_map`]: the binding table shared by UDP and ping sockets (and later TCP): bind
//!   conflicts with Linux's SO_REUSEADDR / SO_REUSEPORT / SO_BINDTODEVICE semantics, and
//!   demultiplexing of incoming packets to sockets, allocation-free.
//! * [`dual_stack`]: IPv6 sockets that also carry IPv4 (RFC 3493 §3.7), shared by UDP and
//!   TCP: IPv4-mapped addresses and the binding-table entries of dual-stack sockets.
//! * [`ports`]: ephemeral port selection by RFC 6056 §3.3.4's double-hash algorithm.
//! * [`udp`]: UDP sockets (RFC 768, RFC 1122 §4.1) over IPv4 and IPv6, dual-stack (RFC 4291
//!   §2.5.5.2, RFC 3493 §5.3), with bounded receive queues and ICMP error reporting
//!   (RFC 1122 §4.1.3.3).
//! * [`ping`]: Linux's ICMP echo sockets (`SOCK_DGRAM`, `IPPROTO_ICMP` / `IPPROTO_ICMPV6`).
//! * [`raw`]: raw IP sockets (Linux raw(7), RFC 3542 §3), ICMP and ICMPv6 foremost.
//! * [`tcp`]: TCP connections and listeners as sans-I/O state machines (RFC 9293 and the
//!   extensions production stacks ship).
//! * [`inspect`]: every socket of every protocol, summarised for diagnostics (`ss`).
//!
//! Every socket call returns a [`SocketError`] that maps 1:1 onto the Linux errno the socket
//! API reports.

use crate::wire::icmp::v4::Icmpv4DestUnreachableCode;
use crate::wire::icmp::v6::Icmpv6DestUnreachableCode;

pub mod dual_stack;
pub mod inspect;
pub mod ping;
pub mod ports;
pub mod raw;
pub mod socket_map;
pub mod tcp;
pub mod udp;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::addr::{Ip, SpecifiedAddr};
use crate::device::DeviceId;

/// The route a datagram takes, as the IP layer picked it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route<I: Ip> {
    /// The source address to use (the hint if one was given and is valid).
    pub src: SpecifiedAddr<I::Addr>,
    /// The outgoing device.
    pub device: DeviceId,
    /// Whether the destination is a broadcast address on that route (IPv4 only).
    pub broadcast: bool,
}

/// What the IP layer needs to send one datagram of a socket besides the datagram itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpSendMeta<I: Ip> {
    /// Source address.
    pub src: SpecifiedAddr<I::Addr>,
    /// Destination address.
    pub dst: SpecifiedAddr<I::Addr>,
    /// Outgoing device.
    pub device: DeviceId,
    /// The TTL or hop limit; `None` for the stack's default.
    pub hop_limit: Option<u8>,
    /// For a multicast destination: whether to loop a copy back to this host
    /// (IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP).
    pub multicast_loop: bool,
    /// Whether the destination is a broadcast address (SO_BROADCAST was checked).
    pub broadcast: bool,
}

/// A readiness change the context is told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketEvent {
    /// The receive queue went from empty to non-empty.
    Readable,
    /// An error became pending (SO_ERROR).
    Error,
}

/// Sockets indexed by (slot, generation): a closed socket's id is refused rather than
/// reaching a newer socket, because a slot's generation changes when it is freed and a slot
/// whose generation wrapped around is retired.
#[derive(Debug)]
pub(crate) struct Slots<T> {
    entries: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
}

impl<T> Slots<T> {
    pub(crate) const fn new() -> Self {
        Self { entries: Vec::new(), free: Vec::new() }
    }

    /// Stores `value`; returns its slot and generation.
    pub(crate) fn insert(&mut self, value: T) -> Option<(u32, u32)> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.entries.len()).ok()?;
                self.entries.push((0, None));
                index
            }
        };
        let entry = self.entries.get_mut(index as usize)?;
        entry.1 = Some(value);
        Some((index, entry.0))
    }

    pub(crate) fn get(&self, index: u32, generation: u32) -> Option<&T> {
        self.entries.get(index as usize).filter(|e| e.0 == generation).and_then(|e| e.1.as_ref())
    }

    pub(crate) fn get_mut(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        self.entries.get_mut(index as usize).filter(|e| e.0 == generation).and_then(|e| e.1.as_mut())
    }

    /// Every value held.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|e| e.1.as_ref())
    }

    /// Every value held, with its slot and generation, in slot order.
    pub(crate) fn iter_with_ids(&self) -> impl Iterator<Item = (u32, u32, &T)> {
        self.entries.iter().zip(0u32..).filter_map(|((generation, value), index)| {
            value.as_ref().map(|value| (index, *generation, value))
        })
    }

    /// Every value held, mutably, with its slot and generation.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (u32, u32, &mut T)> {
        self.entries.iter_mut().zip(0u32..).filter_map(|((generation, value), index)| {
            value.as_mut().map(|value| (index, *generation, value))
        })
    }

    pub(crate) fn remove(&mut self, index: u32, generation: u32) -> Option<T> {
        let entry = self.entries.get_mut(index as usize).filter(|e| e.0 == generation)?;
        let value = entry.1.take()?;
        entry.0 = entry.0.wrapping_add(1);
        if entry.0 != 0 {
            self.free.push(index);
        }
        Some(value)
    }
}

/// A datagram socket's receive queue, bounded in bytes by SO_RCVBUF: each entry is charged
/// the size of the buffer holding it, as Linux charges an skb's truesize.
#[derive(Debug)]
pub(crate) struct RecvQueue<T> {
    entries: VecDeque<(usize, T)>,
    bytes: usize,
}

impl<T> RecvQueue<T> {
    pub(crate) const fn new() -> Self {
        Self { entries: VecDeque::new(), bytes: 0 }
    }

    /// Appends `entry`, charged `cost` bytes, if the queue then stays within `limit` bytes;
    /// hands it back if not. `Ok(true)` when the queue was empty (it just became readable).
    pub(crate) fn push(&mut self, entry: T, cost: usize, limit: usize) -> Result<bool, T> {
        if self.bytes + cost > limit {
            return Err(entry);
        }
        self.bytes += cost;
        self.entries.push_back((cost, entry));
        Ok(self.entries.len() == 1)
    }

    /// Takes the oldest entry.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let (cost, entry) = self.entries.pop_front()?;
        self.bytes -= cost;
        Some(entry)
    }

    /// The bytes charged.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The entries held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Why a socket call failed; each variant is one Linux errno ([`errno`](Self::errno)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SocketError {
    /// `EADDRINUSE`: the local address and port are taken, or no ephemeral port is free.
    #[error("address already in use")]
    AddrInUse,
    /// `EADDRNOTAVAIL`: the address is not assigned to this host, or a group being left was
    /// never joined.
    #[error("cannot assign requested address")]
    AddrNotAvailable,
    /// `EINVAL`: an argument is invalid in this state (binding twice, a bad option value).
    #[error("invalid argument")]
    InvalidArgument,
    /// `ENOTCONN`: the socket has no remote address.
    #[error("transport endpoint is not connected")]
    NotConnected,
    /// `EDESTADDRREQ`: an unconnected socket sent without a destination.
    #[error("destination address required")]
    DestAddrRequired,
    /// `EACCES`: sending to a broadcast address without SO_BROADCAST, or an ICMP error
    /// reported the destination as administratively prohibited.
    #[error("permission denied")]
    PermissionDenied,
    /// `EAGAIN`: nothing to receive (the stack never blocks).
    #[error("resource temporarily unavailable")]
    WouldBlock,
    /// `ECONNREFUSED`: the peer answered with ICMP port unreachable.
    #[error("connection refused")]
    ConnectionRefused,
    /// `EHOSTUNREACH`: no way to the host.
    #[error("no route to host")]
    HostUnreachable,
    /// `ENETUNREACH`: no route to the network (also an IPv6-only socket given an IPv4
    /// destination, as Linux).
    #[error("network is unreachable")]
    NetworkUnreachable,
    /// `EHOSTDOWN`: an ICMP error reported the destination host unknown.
    #[error("host is down")]
    HostDown,
    /// `ENONET`: an ICMP error reported the source host isolated.
    #[error("machine is not on the network")]
    NotOnNetwork,
    /// `ENOPROTOOPT`: an ICMP error reported the protocol unreachable.
    #[error("protocol not available")]
    ProtocolNotAvailable,
    /// `EOPNOTSUPP`: an ICMP error reported a failed source route.
    #[error("operation not supported")]
    NotSupported,
    /// `EPROTO`: an ICMP parameter problem was reported.
    #[error("protocol error")]
    ProtocolError,
    /// `EMSGSIZE`: the datagram is too long for the protocol or the path.
    #[error("message too long")]
    MessageTooLong,
    /// `ENOBUFS`: no buffer space (a full TX queue, too many group memberships).
    #[error("no buffer space available")]
    NoBufferSpace,
    /// `ENODEV`: the device does not exist, or no device reaches a multicast group.
    #[error("no such device")]
    NoDevice,
    /// `EBADF`: the socket id is not (or no longer) a socket of this stack.
    #[error("bad socket")]
    BadSocket,
    /// `ENFILE`: the stack's socket table is full.
    #[error("too many sockets")]
    TooManySockets,
    /// `ETIMEDOUT`: a TCP connection gave up retransmitting (or its keepalives or
    /// TCP_USER_TIMEOUT expired).
    #[error("connection timed out")]
    TimedOut,
    /// `ECONNRESET`: the peer reset the connection.
    #[error("connection reset by peer")]
    ConnectionReset,
    /// `EPIPE`: sending after the write side was shut down.
    #[error("broken pipe")]
    BrokenPipe,
    /// `EISCONN`: connecting a socket that is already connected.
    #[error("transport endpoint is already connected")]
    IsConnected,
    /// `EALREADY`: connecting a socket whose connection attempt is still in progress.
    #[error("operation already in progress")]
    AlreadyInProgress,
    /// `EPROTONOSUPPORT`: a socket of that protocol cannot be made.
    #[error("protocol not supported")]
    ProtocolNotSupported,
}

impl SocketError {
    /// The Linux errno number of this error.
    pub const fn errno(self) -> i32 {
        match self {
            SocketError::AddrInUse => 98,
            SocketError::AddrNotAvailable => 99,
            SocketError::InvalidArgument => 22,
            SocketError::NotConnected => 107,
            SocketError::DestAddrRequired => 89,
            SocketError::PermissionDenied => 13,
            SocketError::WouldBlock => 11,
            SocketError::ConnectionRefused => 111,
            SocketError::HostUnreachable => 113,
            SocketError::NetworkUnreachable => 101,
            SocketError::HostDown => 112,
            SocketError::NotOnNetwork => 64,
            SocketError::ProtocolNotAvailable => 92,
            SocketError::NotSupported => 95,
            SocketError::ProtocolError => 71,
            SocketError::MessageTooLong => 90,
            SocketError::NoBufferSpace => 105,
            SocketError::NoDevice => 19,
            SocketError::BadSocket => 9,
            SocketError::TooManySockets => 23,
            SocketError::TimedOut => 110,
            SocketError::ConnectionReset => 104,
            SocketError::BrokenPipe => 32,
            SocketError::IsConnected => 106,
            SocketError::AlreadyInProgress => 114,
            SocketError::ProtocolNotSupported => 93,
        }
    }
}

/// An ICMP error about a datagram a socket sent, as the IP layer hands it to the transport
/// layer with the quoted datagram's addresses: the errno it becomes and whether it is *hard*.
///
/// RFC 1122 §4.1.3.3 leaves it to the application layer to act on these. Linux reports a
/// hard error on a connected socket as SO_ERROR and drops soft ones (net unreachable, time
/// exceeded...) unless IP_RECVERR is set; the constructors follow its tables
/// (`icmp_err_convert` in net/ipv4/icmp.c, `icmpv6_err_convert` in net/ipv6/icmp.c and
/// `__udp4_lib_err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpErrorReport {
    /// The errno the error becomes.
    pub error: SocketError,
    /// Whether a connected socket without IP_RECVERR reports it.
    pub hard: bool,
    /// The next-hop MTU of a "fragmentation needed" or "packet too big" error.
    pub mtu: Option<u32>,
}

impl IcmpErrorReport {
    const fn new(error: SocketError, hard: bool) -> Self {
        Self { error, hard, mtu: None }
    }

    /// ICMPv4 Destination Unreachable (RFC 792 p. 4, RFC 1812 §5.2.7.1) with `code`, and for
    /// "fragmentation needed" the next-hop MTU (RFC 1191 §4), which Linux reports as a hard
    /// EMSGSIZE (path MTU discovery is on by default).
    pub fn v4_dest_unreachable(code: Icmpv4DestUnreachableCode, next_hop_mtu: Option<u16>) -> Self {
        use Icmpv4DestUnreachableCode as C;
        use SocketError as E;
        match code {
            C::NetUnreachable | C::NetworkUnreachableForTos => Self::new(E::NetworkUnreachable, false),
            C::HostUnreachable | C::HostUnreachableForTos => Self::new(E::HostUnreachable, false),
            C::ProtocolUnreachable => Self::new(E::ProtocolNotAvailable, true),
            C::PortUnreachable => Self::new(E::ConnectionRefused, true),
            C::FragmentationNeeded => {
                Self { error: E::MessageTooLong, hard: true, mtu: next_hop_mtu.map(u32::from) }
            }
            C::SourceRouteFailed => Self::new(E::NotSupported, false),
            C::DestNetworkUnknown | C::NetworkProhibited => Self::new(E::NetworkUnreachable, true),
            C::DestHostUnknown => Self::new(E::HostDown, true),
            C::SourceHostIsolated => Self::new(E::NotOnNetwork, true),
            C::HostProhibited
            | C::CommunicationProhibited
            | C::HostPrecedenceViolation
            | C::PrecedenceCutoff => Self::new(E::HostUnreachable, true),
            C::Other(_) => Self::new(E::HostUnreachable, false),
        }
    }

    /// ICMPv4 Time Exceeded (RFC 792 p. 6): a soft EHOSTUNREACH.
    pub const fn v4_time_exceeded() -> Self {
        Self::new(SocketError::HostUnreachable, false)
    }

    /// ICMPv4 Parameter Problem (RFC 792 p. 8): a hard EPROTO.
    pub const fn v4_parameter_problem() -> Self {
        Self::new(SocketError::ProtocolError, true)
    }

    /// ICMPv6 Destination Unreachable (RFC 4443 §3.1) with `code`.
    pub fn v6_dest_unreachable(code: Icmpv6DestUnreachableCode) -> Self {
        use Icmpv6DestUnreachableCode as C;
        use SocketError as E;
        match code {
            C::NoRoute => Self::new(E::NetworkUnreachable, false),
            C::AdminProhibited | C::SourceAddressFailedPolicy | C::RejectRoute => {
                Self::new(E::PermissionDenied, true)
            }
            C::BeyondScope | C::AddressUnreachable => Self::new(E::HostUnreachable, false),
            C::PortUnreachable => Self::new(E::ConnectionRefused, true),
            C::Other(_) => Self::new(E::ProtocolError, false),
        }
    }

    /// ICMPv6 Packet Too Big (RFC 4443 §3.2) with the next-hop MTU: a hard EMSGSIZE.
    pub const fn v6_packet_too_big(mtu: u32) -> Self {
        Self { error: SocketError::MessageTooLong, hard: true, mtu: Some(mtu) }
    }

    /// ICMPv6 Time Exceeded (RFC 4443 §3.3): a soft EHOSTUNREACH.
    pub const fn v6_time_exceeded() -> Self {
        Self::new(SocketError::HostUnreachable, false)
    }

    /// ICMPv6 Parameter Problem (RFC 4443 §3.4): a hard EPROTO.
    pub const fn v6_parameter_problem() -> Self {
        Self::new(SocketError::ProtocolError, true)
    }
}

/// Addresses the transport tests share: host 192.0.2.x / 2001:db8::x on device 1.
#[cfg(test)]
pub(crate) mod test_addrs {
    use crate::addr::{IpAddress, Ipv4Addr, Ipv6Addr, SpecifiedAddr};
    use crate::device::DeviceId;

    pub(crate) const DEV: DeviceId = DeviceId::new(1);

    pub(crate) fn v4(last: u8) -> Ipv4Addr {
        Ipv4Addr::new([192, 0, 2, last])
    }

    pub(crate) fn v6(last: u8) -> Ipv6Addr {
        Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(last)])
    }

    pub(crate) fn s<A: IpAddress>(a: A) -> SpecifiedAddr<A> {
        SpecifiedAddr::new(a).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_errors_follow_linux_err_convert_tables() {
        let port = IcmpErrorReport::v4_dest_unreachable(Icmpv4DestUnreachableCode::PortUnreachable, None);
        assert_eq!((port.error, port.hard), (SocketError::ConnectionRefused, true));
        let host = IcmpErrorReport::v4_dest_unreachable(Icmpv4DestUnreachableCode::HostUnreachable, None);
        assert_eq!((host.error, host.hard), (SocketError::HostUnreachable, false));
        let frag =
            IcmpErrorReport::v4_dest_unreachable(Icmpv4DestUnreachableCode::FragmentationNeeded, Some(1400));
        assert_eq!((frag.error, frag.hard, frag.mtu), (SocketError::MessageTooLong, true, Some(1400)));
        let v6 = IcmpErrorReport::v6_dest_unreachable(Icmpv6DestUnreachableCode::PortUnreachable);
        assert_eq!((v6.error, v6.hard), (SocketError::ConnectionRefused, true));
        let admin = IcmpErrorReport::v6_dest_unreachable(Icmpv6DestUnreachableCode::AdminProhibited);
        assert_eq!((admin.error, admin.hard), (SocketError::PermissionDenied, true));
        assert_eq!(IcmpErrorReport::v6_packet_too_big(1280).mtu, Some(1280));
        assert!(!IcmpErrorReport::v6_time_exceeded().hard);
    }

    #[test]
    fn stale_slot_ids_are_refused() {
        let mut slots = Slots::new();
        let (index, generation) = slots.insert("a").unwrap();
        assert_eq!(slots.get(index, generation), Some(&"a"));
        assert_eq!(slots.remove(index, generation), Some("a"));
        assert_eq!(slots.remove(index, generation), None);
        let (again, newer) = slots.insert("b").unwrap();
        assert_eq!((again, newer), (index, generation + 1));
        assert_eq!(slots.get(index, generation), None);
        *slots.get_mut(again, newer).unwrap() = "c";
        assert_eq!(slots.get(again, newer), Some(&"c"));
    }

    #[test]
    fn errno_numbers_are_linux_x86_64_and_generic() {
        // include/uapi/asm-generic/errno-base.h and errno.h.
        assert_eq!(SocketError::AddrInUse.errno(), 98);
        assert_eq!(SocketError::AddrNotAvailable.errno(), 99);
        assert_eq!(SocketError::InvalidArgument.errno(), 22);
        assert_eq!(SocketError::DestAddrRequired.errno(), 89);
        assert_eq!(SocketError::WouldBlock.errno(), 11);
        assert_eq!(SocketError::ConnectionRefused.errno(), 111);
        assert_eq!(SocketError::MessageTooLong.errno(), 90);
        assert_eq!(SocketError::ProtocolNotSupported.errno(), 93);
    }
}
