//! UDP sockets (RFC 768, RFC 1122 §4.1) over IPv4 and IPv6, with Linux's socket semantics.
//!
//! [`Udp`] holds every UDP socket of a stack: the sockets of each IP version
//! ([`UdpSockets`]), their bindings in a [`SocketMap`] per version, and the ephemeral port
//! allocator ([`EphemeralPorts`], RFC 6056 §3.3.4). It is a plain data structure: the socket
//! API calls it (`bind`, `connect`, `send_to`, `recv_from`, option setters, `close`), the IP
//! layer calls [`Udp::deliver`] with each received datagram and [`Udp::deliver_icmp_error`]
//! with each ICMP error quoting one of ours, and everything going out (datagrams, group joins,
//! readiness) leaves through the [`UdpIpContext`] the stack implements.
//!
//! Rules, with their sources:
//!
//! * Binding: conflicts as [`socket_map`](super::socket_map) describes; port 0 takes an
//!   ephemeral port; a specific address must be assigned to the host (EADDRNOTAVAIL, Linux's
//!   `inet_bind` without IP_FREEBIND) or be multicast; binding twice is EINVAL.
//! * Dual stack (RFC 3493 §5.3, RFC 4291 §2.5.5.2): an IPv6 socket on `::` without
//!   IPV6_V6ONLY (off by default, as Linux's `bindv6only` sysctl) also holds the IPv4 wildcard
//!   of its port, receives IPv4 datagrams with IPv4-mapped addresses and sends to IPv4-mapped
//!   destinations over IPv4. One bound to an IPv4-mapped address is an IPv4 socket in disguise.
//!   IPv4-mapped addresses on an IPv6-only socket are refused (EINVAL for bind, ENETUNREACH
//!   for connect and send, as Linux).
//! * Connect (Linux `__ip4_datagram_connect`, `__ip6_datagram_connect`): picks the route and
//!   source address, fixes an unbound local address to that source, binds an ephemeral port if
//!   needed (EAGAIN if none is free, like Linux's autobind), and refuses a broadcast destination
//!   without SO_BROADCAST (EACCES). Disconnect (`AF_UNSPEC`, `__udp_disconnect`) forgets the
//!   remote and releases the address and port unless they were bound explicitly.
//! * Send (`udp_sendmsg`): EDESTADDRREQ when unconnected without a destination; EACCES for a
//!   broadcast destination without SO_BROADCAST; EMSGSIZE above 65,527 bytes (RFC 768's 16-bit
//!   length); the hop limit is IP_MULTICAST_TTL (default 1, RFC 1112 §6.1) for multicast
//!   destinations and IP_TTL otherwise; a pending error is returned first.
//! * Receive: each socket's queue is bounded in bytes by SO_RCVBUF (default 212,992, Linux's
//!   `rmem_default`), each datagram charged the size of the buffer holding it (Linux charges
//!   the skb's truesize); a datagram that does not fit is dropped and counted as RcvbufErrors
//!   and InErrors. Unicast goes to one socket, multicast and broadcast to every matching socket
//!   (each gets a clone of the buffer, as Linux clones the skb; IP_MULTICAST_ALL is on, so
//!   membership is not checked per socket). A unicast datagram for no socket counts NoPorts and
//!   is handed back for ICMP port unreachable (RFC 1122 §4.1.3.1); a multicast or broadcast one
//!   counts IgnoredMulti.
//! * ICMP errors (RFC 1122 §4.1.3.3): a hard error ([`IcmpErrorReport`]) on a connected socket
//!   becomes its pending error (SO_ERROR), returned by the next send or receive; unconnected
//!   sockets ignore errors, since IP_RECVERR and its error queue are not implemented.
//! * Options: SO_RCVBUF/SO_SNDBUF store twice the value asked, capped at `rmem_max`/`wmem_max`
//!   and floored at Linux's minimums (`sock_setsockopt`); IP_TTL takes 1–255, IPV6_UNICAST_HOPS
//!   0–255, `None` meaning the stack's default; group memberships are bounded per socket
//!   (Linux's `igmp_max_memberships`, 20: ENOBUFS beyond), joining twice is EADDRINUSE and
//!   leaving a group not joined EADDRNOTAVAIL. SO_SNDBUF is stored for the bindings: sends are
//!   synchronous here, so nothing is held against it.
//!
//! Counters are Linux's UDP MIB (`/proc/net/snmp`), kept per IP version ([`UdpCounters`]).
//! InDatagrams counts datagrams read by the application, as Linux counts it in `udp_recvmsg`.

use alloc::vec::Vec;
use core::marker::PhantomData;
use core::num::NonZeroU16;

use super::dual_stack::{DualStackIpExt, Placement};
use super::inspect::{AnySocketId, SocketProtocol, SocketSummary};
use super::ports::{random_key, EphemeralPorts, PortRange};
use super::socket_map::{ConflictScope, EntryKind, Flow, MatchCursor, Sharing, SocketMap};
use super::{IcmpErrorReport, IpSendMeta, RecvQueue, Route, Slots, SocketError, SocketEvent};
use crate::addr::{Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, MulticastAddr, SpecifiedAddr};
use crate::buf::{Buf, ParsablePacket, Serializer};
use crate::context::RngContext;
use crate::device::DeviceId;
use crate::hash::SipKey;
use crate::wire::udp::{UdpBuilder, UdpPacket, HEADER_LEN, MAX_BODY_LEN};
use crate::wire::ParseErrorKind;

/// Linux's `SOCK_MIN_RCVBUF` on 64-bit hosts: the floor of SO_RCVBUF.
pub const MIN_RCVBUF: usize = 2304;
/// Linux's `SOCK_MIN_SNDBUF` on 64-bit hosts: the floor of SO_SNDBUF.
pub const MIN_SNDBUF: usize = 4608;
/// The default multicast hop limit (RFC 1112 §6.1, RFC 3493 §5.2).
pub const DEFAULT_MULTICAST_HOPS: u8 = 1;

/// Limits and defaults of the UDP layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpConfig {
    /// Most sockets of both versions together (ENFILE beyond).
    pub max_sockets: usize,
    /// The ephemeral port range.
    pub port_range: PortRange,
    /// Counters in RFC 6056 §3.3.4's table.
    pub port_table_len: usize,
    /// SO_RCVBUF of a new socket (Linux's `net.core.rmem_default`).
    pub rmem_default: usize,
    /// Largest value SO_RCVBUF accepts before doubling (Linux's `net.core.rmem_max`).
    pub rmem_max: usize,
    /// SO_SNDBUF of a new socket (Linux's `net.core.wmem_default`).
    pub wmem_default: usize,
    /// Largest value SO_SNDBUF accepts before doubling (Linux's `net.core.wmem_max`).
    pub wmem_max: usize,
    /// Most multicast groups one socket may join (Linux's `igmp_max_memberships`).
    pub max_memberships: usize,
}

impl Default for UdpConfig {
    fn default() -> Self {
        Self {
            max_sockets: 4096,
            port_range: PortRange::LINUX_DEFAULT,
            port_table_len: super::ports::DEFAULT_TABLE_LEN,
            rmem_default: 212_992,
            rmem_max: 212_992,
            wmem_default: 212_992,
            wmem_max: 212_992,
            max_memberships: 20,
        }
    }
}

/// Linux's UDP MIB, for one IP version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UdpCounters {
    /// Datagrams read by the application.
    pub in_datagrams: u64,
    /// Unicast datagrams for a port no socket holds.
    pub no_ports: u64,
    /// Datagrams dropped on receipt: malformed, bad checksum, or no room in the queue.
    pub in_errors: u64,
    /// Datagrams dropped because the socket's receive queue was full.
    pub rcvbuf_errors: u64,
    /// Datagrams sent.
    pub out_datagrams: u64,
    /// Datagrams not sent for lack of buffer space below.
    pub sndbuf_errors: u64,
    /// Datagrams with a bad checksum (also in `in_errors`).
    pub in_csum_errors: u64,
    /// Multicast and broadcast datagrams no socket wanted.
    pub ignored_multi: u64,
}

/// A UDP socket of IP version `I`. Ids are not reused while a [`Udp`] lives, so a closed
/// socket's id is refused (EBADF) rather than reaching a newer socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UdpSocketId<I: Ip> {
    index: u32,
    generation: u32,
    _ip: PhantomData<I>,
}

/// A UDP socket of either IP version: what the socket maps hold (a dual-stack IPv6 socket also
/// sits in the IPv4 map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyUdpSocketId {
    /// An IPv4 socket.
    V4(UdpSocketId<Ipv4>),
    /// An IPv6 socket.
    V6(UdpSocketId<Ipv6>),
}

/// How a received datagram was addressed, as the IP layer classified its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// One of this host's unicast addresses: one socket receives it.
    Unicast,
    /// A multicast group or a broadcast address: every matching socket receives it.
    MulticastOrBroadcast,
}

/// What became of a datagram handed to [`Udp::deliver`]. Buffers not queued are handed back
/// for the caller to recycle.
#[derive(Debug)]
pub enum DeliverOutcome<B> {
    /// Queued on at least one socket.
    Queued,
    /// No socket holds the port: the buffer's body is the whole UDP datagram again, for the IP
    /// layer to quote in an ICMP port unreachable (RFC 1122 §4.1.3.1).
    PortUnreachable(Buf<B>),
    /// Dropped (malformed, queue full, or multicast nobody wanted); counted.
    Dropped(Buf<B>),
}

/// The addressing of a datagram an ICMP error quotes (its IP header and the first 8 bytes of
/// its payload, RFC 792 p. 4, RFC 4443 §2.4 (c)): what it was sent from and to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedDatagram<I: Ip> {
    /// Source address of the quoted datagram (one of ours).
    pub src: I::Addr,
    /// Its source port.
    pub src_port: u16,
    /// Its destination address.
    pub dst: I::Addr,
    /// Its destination port.
    pub dst_port: u16,
}

/// A datagram taken from a socket's receive queue.
#[derive(Debug)]
pub struct UdpDatagram<I: Ip, B> {
    /// The sender's address (IPv4-mapped for IPv4 datagrams on a dual-stack socket).
    pub peer_addr: I::Addr,
    /// The sender's port (0 if it expects no reply).
    pub peer_port: u16,
    /// The datagram's destination address (IP_PKTINFO, IPV6_PKTINFO).
    pub local_addr: I::Addr,
    /// The device it arrived on.
    pub device: DeviceId,
    /// The TTL or Hop Limit it arrived with (IP_RECVTTL, IPV6_RECVHOPLIMIT).
    pub hop_limit: u8,
    /// The TOS or Traffic Class octet it arrived with (IP_RECVTOS, IPV6_RECVTCLASS).
    pub tos: u8,
    /// The buffer the stack received it in; its body is the payload.
    pub payload: Buf<B>,
}

/// What the IP layer tells [`Udp::deliver`] about a received datagram's IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpArrival<A> {
    /// The device it arrived on.
    pub device: DeviceId,
    /// Its source address.
    pub src: A,
    /// Its destination address.
    pub dst: A,
    /// Its TTL or Hop Limit.
    pub hop_limit: u8,
    /// Its TOS or Traffic Class octet.
    pub tos: u8,
}

/// A socket's local name (getsockname): address (`None` for the wildcard) and port (`None`
/// while unbound).
pub type LocalName<I> = (Option<SpecifiedAddr<<I as Ip>::Addr>>, Option<NonZeroU16>);

/// A multicast group a socket joined, and the device it joined it on.
pub type Membership<I> = (MulticastAddr<<I as Ip>::Addr>, DeviceId);

/// A snapshot of a socket's options (getsockopt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpSocketOptions {
    /// SO_REUSEADDR.
    pub reuse_addr: bool,
    /// SO_REUSEPORT.
    pub reuse_port: bool,
    /// SO_BROADCAST.
    pub broadcast: bool,
    /// SO_BINDTODEVICE.
    pub device: Option<DeviceId>,
    /// IP_TTL / IPV6_UNICAST_HOPS; `None` for the stack's default.
    pub hop_limit: Option<u8>,
    /// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS.
    pub multicast_hop_limit: u8,
    /// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP.
    pub multicast_loop: bool,
    /// IPV6_V6ONLY (always false on IPv4 sockets).
    pub v6only: bool,
    /// SO_RCVBUF as stored (doubled).
    pub rcvbuf: usize,
    /// SO_SNDBUF as stored (doubled).
    pub sndbuf: usize,
    /// The owner SO_REUSEPORT groups are formed within.
    pub owner: u32,
}

/// What the UDP layer needs from the stack for IP version `I`: routes, local addresses,
/// sending, group membership and readiness. The stack implements it for [`Ipv4`] and [`Ipv6`]
/// (see [`UdpContext`]).
pub trait UdpIpContext<I: Ip> {
    /// The route to `dst`, from `src` if given, out of `device` if given: ENETUNREACH or
    /// EHOSTUNREACH if there is none, EADDRNOTAVAIL if `src` cannot be used.
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<I>, SocketError>;

    /// Whether `addr` is assigned to this host (on `device`, if given), or is a broadcast
    /// address of it: what a socket may bind to.
    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool;

    /// Sends `datagram` (a UDP header around its body, serialized into the stack's buffer)
    /// as described by `meta`. ENOBUFS when the TX path is full, EMSGSIZE when it is too long
    /// for the IP layer.
    fn send_datagram<S: Serializer>(&mut self, meta: &IpSendMeta<I>, datagram: S) -> Result<(), SocketError>;

    /// Whether the device finishes the checksum of a `len`-byte datagram (header included)
    /// sent as `meta` describes (TX checksum offload); if not, it is computed in software.
    fn tx_checksum_offload(&self, meta: &IpSendMeta<I>, len: usize) -> bool {
        let _ = (meta, len);
        false
    }

    /// A socket joined `group` on `device` (the stack refcounts and sends reports).
    fn join_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>);

    /// A socket left `group` on `device`.
    fn leave_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>);

    /// Socket `socket`'s readiness changed.
    fn socket_event(&mut self, socket: UdpSocketId<I>, event: SocketEvent);
}

/// The whole context the UDP layer runs in: both IP versions (dual-stack sockets use both).
pub trait UdpContext: UdpIpContext<Ipv4> + UdpIpContext<Ipv6> {}

impl<C: UdpIpContext<Ipv4> + UdpIpContext<Ipv6>> UdpContext for C {}

/// What differs between UDP over IPv4 and over IPv6; implemented by [`Ipv4`] and [`Ipv6`].
pub trait UdpIpExt: DualStackIpExt {
    /// The smallest IP_TTL / IPV6_UNICAST_HOPS accepted (1 and 0, as Linux).
    const MIN_HOP_LIMIT: u8;

    /// This version's sockets, given both.
    fn sockets<'a, B>(v4: &'a UdpSockets<Ipv4, B>, v6: &'a UdpSockets<Ipv6, B>) -> &'a UdpSockets<Self, B>;

    /// This version's sockets, mutably, given both.
    fn sockets_mut<'a, B>(
        v4: &'a mut UdpSockets<Ipv4, B>,
        v6: &'a mut UdpSockets<Ipv6, B>,
    ) -> &'a mut UdpSockets<Self, B>;

    /// The id as one of either version.
    fn any_id(id: UdpSocketId<Self>) -> AnyUdpSocketId;

    /// Whether `addr` is the limited broadcast address (IPv4 only).
    fn is_limited_broadcast(addr: Self::Addr) -> bool;
}

impl UdpIpExt for Ipv4 {
    const MIN_HOP_LIMIT: u8 = 1;

    fn sockets<'a, B>(v4: &'a UdpSockets<Ipv4, B>, _: &'a UdpSockets<Ipv6, B>) -> &'a UdpSockets<Ipv4, B> {
        v4
    }

    fn sockets_mut<'a, B>(
        v4: &'a mut UdpSockets<Ipv4, B>,
        _: &'a mut UdpSockets<Ipv6, B>,
    ) -> &'a mut UdpSockets<Ipv4, B> {
        v4
    }

    fn any_id(id: UdpSocketId<Ipv4>) -> AnyUdpSocketId {
        AnyUdpSocketId::V4(id)
    }

    fn is_limited_broadcast(addr: Ipv4Addr) -> bool {
        addr.is_limited_broadcast()
    }
}

impl UdpIpExt for Ipv6 {
    const MIN_HOP_LIMIT: u8 = 0;

    fn sockets<'a, B>(_: &'a UdpSockets<Ipv4, B>, v6: &'a UdpSockets<Ipv6, B>) -> &'a UdpSockets<Ipv6, B> {
        v6
    }

    fn sockets_mut<'a, B>(
        _: &'a mut UdpSockets<Ipv4, B>,
        v6: &'a mut UdpSockets<Ipv6, B>,
    ) -> &'a mut UdpSockets<Ipv6, B> {
        v6
    }

    fn any_id(id: UdpSocketId<Ipv6>) -> AnyUdpSocketId {
        AnyUdpSocketId::V6(id)
    }

    fn is_limited_broadcast(_: Ipv6Addr) -> bool {
        false
    }
}

type UdpMap<I> = SocketMap<I, NonZeroU16, AnyUdpSocketId>;

#[derive(Clone, Copy, Debug)]
struct Options {
    sharing: Sharing,
    broadcast: bool,
    device: Option<DeviceId>,
    hop_limit: Option<u8>,
    multicast_hop_limit: u8,
    multicast_loop: bool,
    v6only: bool,
    rcvbuf: usize,
    sndbuf: usize,
}

#[derive(Debug)]
struct UdpSocket<I: Ip, B> {
    local_addr: Option<SpecifiedAddr<I::Addr>>,
    port: Option<NonZeroU16>,
    remote: Option<(SpecifiedAddr<I::Addr>, NonZeroU16)>,
    /// Bound explicitly to an address (Linux's `SOCK_BINDADDR_LOCK`): kept on disconnect.
    addr_locked: bool,
    /// Bound explicitly to a port (`SOCK_BINDPORT_LOCK`): kept on disconnect.
    port_locked: bool,
    options: Options,
    memberships: Vec<Membership<I>>,
    queue: RecvQueue<UdpDatagram<I, B>>,
    error: Option<SocketError>,
}

type UdpPlacement<I> = Placement<I, NonZeroU16>;

impl<I: UdpIpExt, B> UdpSocket<I, B> {
    /// The map entries for a binding at `local_addr`:`port` connected to `remote`.
    fn placement(
        &self,
        local_addr: Option<SpecifiedAddr<I::Addr>>,
        port: NonZeroU16,
        remote: Option<(SpecifiedAddr<I::Addr>, NonZeroU16)>,
    ) -> UdpPlacement<I> {
        let remote = remote.map(|(addr, port)| (addr, Some(port)));
        Placement::new(local_addr, port, self.options.device, remote, self.options.v6only)
    }
}

/// The UDP sockets of one IP version and their binding table.
#[derive(Debug)]
pub struct UdpSockets<I: Ip, B> {
    slots: Slots<UdpSocket<I, B>>,
    map: UdpMap<I>,
    counters: UdpCounters,
}

impl<I: UdpIpExt, B> UdpSockets<I, B> {
    fn new(hash_key: SipKey) -> Self {
        Self {
            slots: Slots::new(),
            map: SocketMap::new(ConflictScope::Address, hash_key),
            counters: UdpCounters::default(),
        }
    }

    /// This version's counters.
    pub fn counters(&self) -> &UdpCounters {
        &self.counters
    }

    fn get(&self, id: UdpSocketId<I>) -> Result<&UdpSocket<I, B>, SocketError> {
        self.slots.get(id.index, id.generation).ok_or(SocketError::BadSocket)
    }

    fn get_mut(&mut self, id: UdpSocketId<I>) -> Result<&mut UdpSocket<I, B>, SocketError> {
        self.slots.get_mut(id.index, id.generation).ok_or(SocketError::BadSocket)
    }
}

/// Every UDP socket of a stack; see the [module documentation](self).
#[derive(Debug)]
pub struct Udp<B> {
    config: UdpConfig,
    v4: UdpSockets<Ipv4, B>,
    v6: UdpSockets<Ipv6, B>,
    ports: EphemeralPorts,
    open: usize,
}

impl<B> Udp<B> {
    /// An empty UDP layer; `rng` keys the port allocator and the SO_REUSEPORT flow hash.
    pub fn new(rng: &mut impl RngContext, config: UdpConfig) -> Self {
        let key = random_key(rng);
        Self {
            config,
            v4: UdpSockets::new(key),
            v6: UdpSockets::new(key),
            ports: EphemeralPorts::new(rng, config.port_range, config.port_table_len),
            open: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &UdpConfig {
        &self.config
    }

    /// The UDP MIB of IP version `I`.
    pub fn counters<I: UdpIpExt>(&self) -> &UdpCounters {
        I::sockets(&self.v4, &self.v6).counters()
    }

    /// The ephemeral port allocator (for its exhaustion counter).
    pub fn ports(&self) -> &EphemeralPorts {
        &self.ports
    }

    /// Number of open sockets of both versions.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether no socket is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }

    /// Every socket, IPv4 then IPv6, in slot order: what `ss -ua` lists (see
    /// [`inspect`](super::inspect)). O(sockets).
    pub fn summaries(&self) -> impl Iterator<Item = SocketSummary> + '_ {
        fn of<I: UdpIpExt, B>(sockets: &UdpSockets<I, B>) -> impl Iterator<Item = SocketSummary> + '_ {
            sockets.slots.iter_with_ids().map(|(index, generation, socket)| SocketSummary {
                id: AnySocketId::Udp(I::any_id(UdpSocketId { index, generation, _ip: PhantomData })),
                slot: index,
                protocol: SocketProtocol::Udp,
                version: I::VERSION,
                state: None,
                local_addr: socket.local_addr.map(|a| a.to_ip_addr()),
                local_port: socket.port.map_or(0, NonZeroU16::get),
                remote: socket.remote.map(|(a, p)| (a.to_ip_addr(), p.get())),
                recv_queue: socket.queue.bytes(),
                send_queue: 0,
                tcp_info: None,
                orphaned: false,
            })
        }
        of(&self.v4).chain(of(&self.v6))
    }

    fn socket<I: UdpIpExt>(&self, id: UdpSocketId<I>) -> Result<&UdpSocket<I, B>, SocketError> {
        I::sockets(&self.v4, &self.v6).get(id)
    }

    fn socket_mut<I: UdpIpExt>(&mut self, id: UdpSocketId<I>) -> Result<&mut UdpSocket<I, B>, SocketError> {
        I::sockets_mut(&mut self.v4, &mut self.v6).get_mut(id)
    }

    /// Opens a socket of version `I` owned by `owner` (the user id SO_REUSEPORT groups are
    /// formed within). ENFILE when the table is full.
    pub fn create<I: UdpIpExt>(&mut self, owner: u32) -> Result<UdpSocketId<I>, SocketError> {
        if self.open >= self.config.max_sockets {
            return Err(SocketError::TooManySockets);
        }
        let socket = UdpSocket {
            local_addr: None,
            port: None,
            remote: None,
            addr_locked: false,
            port_locked: false,
            options: Options {
                sharing: Sharing { reuse_addr: false, reuse_port: false, owner },
                broadcast: false,
                device: None,
                hop_limit: None,
                multicast_hop_limit: DEFAULT_MULTICAST_HOPS,
                multicast_loop: true,
                v6only: false,
                rcvbuf: self.config.rmem_default,
                sndbuf: self.config.wmem_default,
            },
            memberships: Vec::new(),
            queue: RecvQueue::new(),
            error: None,
        };
        let sockets = I::sockets_mut(&mut self.v4, &mut self.v6);
        let (index, generation) = sockets.slots.insert(socket).ok_or(SocketError::TooManySockets)?;
        self.open += 1;
        Ok(UdpSocketId { index, generation, _ip: PhantomData })
    }

    /// Whether socket `id` could be placed as `placement` without conflicts.
    fn placement_free<I: UdpIpExt>(
        &self,
        id: UdpSocketId<I>,
        placement: &UdpPlacement<I>,
        sharing: &Sharing,
    ) -> bool {
        Self::placement_free_in(&self.v4, &self.v6, I::any_id(id), placement, sharing)
    }

    fn placement_free_in<I: UdpIpExt>(
        v4: &UdpSockets<Ipv4, B>,
        v6: &UdpSockets<Ipv6, B>,
        any: AnyUdpSocketId,
        placement: &UdpPlacement<I>,
        sharing: &Sharing,
    ) -> bool {
        let native_ok = placement
            .native
            .as_ref()
            .is_none_or(|(local, _)| I::sockets(v4, v6).map.conflict(local, sharing, Some(any)).is_none());
        let v4_ok = placement
            .v4
            .as_ref()
            .is_none_or(|(local, _)| v4.map.conflict(local, sharing, Some(any)).is_none());
        native_ok && v4_ok
    }

    /// Removes socket `id`'s map entries.
    fn unhash<I: UdpIpExt>(&mut self, id: UdpSocketId<I>, port: NonZeroU16) {
        let any = I::any_id(id);
        I::sockets_mut(&mut self.v4, &mut self.v6).map.remove(any, port);
        self.v4.map.remove(any, port);
    }

    /// Adds socket `id`'s map entries for its current state.
    fn hash<I: UdpIpExt>(&mut self, id: UdpSocketId<I>) -> Result<(), SocketError> {
        let socket = self.socket(id)?;
        let Some(port) = socket.port else { return Ok(()) };
        let placement = socket.placement(socket.local_addr, port, socket.remote);
        let sharing = socket.options.sharing;
        let any = I::any_id(id);
        if let Some((local, remote)) = placement.native {
            let map = &mut I::sockets_mut(&mut self.v4, &mut self.v6).map;
            map.insert_unchecked(any, local, remote, sharing, EntryKind::Native);
        }
        if let Some((local, remote)) = placement.v4 {
            self.v4.map.insert_unchecked(any, local, remote, sharing, UdpPlacement::<I>::v4_kind());
        }
        Ok(())
    }

    /// Moves socket `id` to a new state through `update`, rehashing it without a conflict
    /// check (as Linux's `rehash` when connect fixes the local address).
    fn rehash<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
        update: impl FnOnce(&mut UdpSocket<I, B>),
    ) -> Result<(), SocketError> {
        let port = self.socket(id)?.port;
        if let Some(port) = port {
            self.unhash(id, port);
        }
        update(self.socket_mut(id)?);
        self.hash(id)
    }

    /// Picks a free ephemeral port for socket `id` at `local_addr` talking to `remote`.
    fn ephemeral_port<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
        local_addr: Option<SpecifiedAddr<I::Addr>>,
        remote: Option<(SpecifiedAddr<I::Addr>, NonZeroU16)>,
    ) -> Result<NonZeroU16, SocketError> {
        let (v4, v6) = (&self.v4, &self.v6);
        let socket = I::sockets(v4, v6).get(id)?;
        let sharing = socket.options.sharing;
        let any = I::any_id(id);
        let local = local_addr.map_or(I::UNSPECIFIED_ADDRESS, |a| *a);
        let (remote_addr, remote_port) = remote.map_or((I::UNSPECIFIED_ADDRESS, 0), |(a, p)| (*a, p.get()));
        self.ports
            .select(local, remote_addr, remote_port, |port| {
                let placement = socket.placement(local_addr, port, None);
                Self::placement_free_in(v4, v6, any, &placement, &sharing)
            })
            .ok_or(SocketError::AddrInUse)
    }

    /// `bind`: `addr` `None` for the wildcard, `port` `None` for an ephemeral port.
    pub fn bind<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: UdpSocketId<I>,
        addr: Option<SpecifiedAddr<I::Addr>>,
        port: Option<NonZeroU16>,
    ) -> Result<(), SocketError> {
        let socket = self.socket(id)?;
        if socket.port.is_some() {
            return Err(SocketError::InvalidArgument);
        }
        if let Some(addr) = addr {
            let device = socket.options.device;
            let usable = match I::mapped_v4(*addr) {
                Some(_) if socket.options.v6only => return Err(SocketError::InvalidArgument),
                Some(v4) => SpecifiedAddr::new(v4).is_none_or(|v4| {
                    v4.is_multicast() || UdpIpContext::<Ipv4>::is_local_addr(ctx, v4, device)
                }),
                None => addr.is_multicast() || UdpIpContext::<I>::is_local_addr(ctx, addr, device),
            };
            if !usable {
                return Err(SocketError::AddrNotAvailable);
            }
        }
        let explicit_port = port.is_some();
        let port = match port {
            Some(port) => {
                let placement = socket.placement(addr, port, None);
                if !self.placement_free(id, &placement, &socket.options.sharing) {
                    return Err(SocketError::AddrInUse);
                }
                port
            }
            None => self.ephemeral_port(id, addr, None)?,
        };
        self.rehash(id, |s| {
            s.local_addr = addr;
            s.port = Some(port);
            s.addr_locked = addr.is_some();
            s.port_locked = explicit_port;
        })
    }

    /// `connect`: sets the remote, fixes the local address to the route's source if unbound,
    /// and binds an ephemeral port if there is none (EAGAIN if none is free). Port 0 is
    /// refused (EINVAL): no datagram can be sent to it.
    pub fn connect<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: UdpSocketId<I>,
        addr: SpecifiedAddr<I::Addr>,
        port: u16,
    ) -> Result<(), SocketError> {
        let port = NonZeroU16::new(port).ok_or(SocketError::InvalidArgument)?;
        let socket = self.socket(id)?;
        let options = socket.options;
        let src = match (I::mapped_v4(*addr), socket.local_addr.map(|a| (a, I::mapped_v4(*a)))) {
            (Some(_), _) if options.v6only => return Err(SocketError::NetworkUnreachable),
            (Some(dst), None | Some((_, Some(_)))) => {
                let dst = SpecifiedAddr::new(dst).ok_or(SocketError::InvalidArgument)?;
                let hint = socket.local_addr.and_then(|a| I::mapped_v4(*a)).and_then(SpecifiedAddr::new);
                let route = UdpIpContext::<Ipv4>::route(ctx, dst, hint, options.device)?;
                check_broadcast(route.broadcast || dst.is_limited_broadcast(), &options)?;
                SpecifiedAddr::new(I::from_v4(*route.src)).ok_or(SocketError::InvalidArgument)?
            }
            (None, None | Some((_, None))) => {
                let route = UdpIpContext::<I>::route(ctx, addr, socket.local_addr, options.device)?;
                check_broadcast(route.broadcast || I::is_limited_broadcast(*addr), &options)?;
                route.src
            }
            (Some(_), Some((_, None))) | (None, Some((_, Some(_)))) => {
                return Err(SocketError::InvalidArgument)
            }
        };
        let local_addr = socket.local_addr.unwrap_or(src);
        let bound_port = match socket.port {
            Some(p) => p,
            None => self.ephemeral_port(id, None, Some((addr, port))).map_err(|_| SocketError::WouldBlock)?,
        };
        self.rehash(id, |s| {
            s.local_addr = Some(local_addr);
            s.port = Some(bound_port);
            s.remote = Some((addr, port));
        })
    }

    /// `connect` with `AF_UNSPEC`: forgets the remote, and releases the local address and
    /// port unless they were bound explicitly (Linux's `__udp_disconnect`).
    pub fn disconnect<I: UdpIpExt>(&mut self, id: UdpSocketId<I>) -> Result<(), SocketError> {
        self.rehash(id, |s| {
            s.remote = None;
            if !s.addr_locked {
                s.local_addr = None;
            }
            if !s.port_locked {
                s.port = None;
            }
        })
    }

    /// The local address (`None` for the wildcard) and port (`None` if unbound)
    /// (getsockname).
    pub fn local_addr<I: UdpIpExt>(&self, id: UdpSocketId<I>) -> Result<LocalName<I>, SocketError> {
        let socket = self.socket(id)?;
        Ok((socket.local_addr, socket.port))
    }

    /// The remote address and port (getpeername); ENOTCONN if not connected.
    pub fn peer_addr<I: UdpIpExt>(
        &self,
        id: UdpSocketId<I>,
    ) -> Result<(SpecifiedAddr<I::Addr>, NonZeroU16), SocketError> {
        self.socket(id)?.remote.ok_or(SocketError::NotConnected)
    }

    /// Takes the pending error (getsockopt SO_ERROR).
    pub fn take_error<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
    ) -> Result<Option<SocketError>, SocketError> {
        Ok(self.socket_mut(id)?.error.take())
    }

    /// `send` on a connected socket: [`send_to`](Self::send_to) without a destination.
    pub fn send<I: UdpIpExt, C: UdpContext + UdpIpContext<I>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        id: UdpSocketId<I>,
        body: S,
    ) -> Result<(), SocketError> {
        self.send_to(ctx, id, None, body)
    }

    /// `sendto`: sends `body` to `dst`, or to the connected remote if `dst` is `None`.
    pub fn send_to<I: UdpIpExt, C: UdpContext + UdpIpContext<I>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        id: UdpSocketId<I>,
        dst: Option<(SpecifiedAddr<I::Addr>, u16)>,
        body: S,
    ) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        if let Some(error) = socket.error.take() {
            return Err(error);
        }
        let (dst, dst_port) = match dst {
            Some((addr, port)) => (addr, NonZeroU16::new(port).ok_or(SocketError::InvalidArgument)?),
            None => socket.remote.ok_or(SocketError::DestAddrRequired)?,
        };
        if body.len() > MAX_BODY_LEN {
            return Err(SocketError::MessageTooLong);
        }
        let options = socket.options;
        let local_addr = socket.local_addr;
        let port = match socket.port {
            Some(port) => port,
            None => {
                let port = self
                    .ephemeral_port(id, None, Some((dst, dst_port)))
                    .map_err(|_| SocketError::WouldBlock)?;
                self.rehash(id, |s| s.port = Some(port))?;
                port
            }
        };
        match (I::mapped_v4(*dst), local_addr.map(|a| I::mapped_v4(*a))) {
            (Some(_), _) if options.v6only => Err(SocketError::NetworkUnreachable),
            (Some(dst), None | Some(Some(_))) => {
                let dst = SpecifiedAddr::new(dst).ok_or(SocketError::InvalidArgument)?;
                let src = local_addr.and_then(|a| I::mapped_v4(*a)).and_then(SpecifiedAddr::new);
                let addressing = Addressing { src, src_port: port, dst, dst_port };
                send_datagram::<Ipv4, _, _>(ctx, &mut self.v4.counters, addressing, &options, body)
            }
            (None, None | Some(None)) => {
                let counters = &mut I::sockets_mut(&mut self.v4, &mut self.v6).counters;
                let addressing = Addressing { src: local_addr, src_port: port, dst, dst_port };
                send_datagram::<I, _, _>(ctx, counters, addressing, &options, body)
            }
            (None, Some(Some(_))) | (Some(_), Some(None)) => Err(SocketError::InvalidArgument),
        }
    }

    /// `recvfrom`: the oldest queued datagram, after any pending error; EAGAIN if none.
    pub fn recv_from<I: UdpIpExt>(&mut self, id: UdpSocketId<I>) -> Result<UdpDatagram<I, B>, SocketError> {
        let socket = self.socket_mut(id)?;
        if let Some(error) = socket.error.take() {
            return Err(error);
        }
        let datagram = socket.queue.pop().ok_or(SocketError::WouldBlock)?;
        let counters = match I::mapped_v4(datagram.peer_addr) {
            Some(_) => &mut self.v4.counters,
            None => &mut I::sockets_mut(&mut self.v4, &mut self.v6).counters,
        };
        counters.in_datagrams += 1;
        Ok(datagram)
    }

    /// Bytes charged to socket `id`'s receive queue, and the number of datagrams in it.
    pub fn queued<I: UdpIpExt>(&self, id: UdpSocketId<I>) -> Result<(usize, usize), SocketError> {
        let socket = self.socket(id)?;
        Ok((socket.queue.bytes(), socket.queue.len()))
    }

    /// The socket's options (getsockopt).
    pub fn options<I: UdpIpExt>(&self, id: UdpSocketId<I>) -> Result<UdpSocketOptions, SocketError> {
        let o = self.socket(id)?.options;
        Ok(UdpSocketOptions {
            reuse_addr: o.sharing.reuse_addr,
            reuse_port: o.sharing.reuse_port,
            broadcast: o.broadcast,
            device: o.device,
            hop_limit: o.hop_limit,
            multicast_hop_limit: o.multicast_hop_limit,
            multicast_loop: o.multicast_loop,
            v6only: o.v6only,
            rcvbuf: o.rcvbuf,
            sndbuf: o.sndbuf,
            owner: o.sharing.owner,
        })
    }

    fn set_sharing<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
        update: impl FnOnce(&mut Sharing),
    ) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        update(&mut socket.options.sharing);
        let (sharing, port) = (socket.options.sharing, socket.port);
        if let Some(port) = port {
            let any = I::any_id(id);
            I::sockets_mut(&mut self.v4, &mut self.v6).map.set_sharing(any, port, sharing);
            self.v4.map.set_sharing(any, port, sharing);
        }
        Ok(())
    }

    /// SO_REUSEADDR.
    pub fn set_reuse_addr<I: UdpIpExt>(&mut self, id: UdpSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.set_sharing(id, |s| s.reuse_addr = on)
    }

    /// SO_REUSEPORT.
    pub fn set_reuse_port<I: UdpIpExt>(&mut self, id: UdpSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.set_sharing(id, |s| s.reuse_port = on)
    }

    /// SO_BROADCAST.
    pub fn set_broadcast<I: UdpIpExt>(&mut self, id: UdpSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.socket_mut(id)?.options.broadcast = on;
        Ok(())
    }

    /// SO_BINDTODEVICE (`None` to unbind). A bound socket moves without a conflict check,
    /// as Linux rehashes it. Whether the device exists is for the caller to check (ENODEV).
    pub fn set_device<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
        device: Option<DeviceId>,
    ) -> Result<(), SocketError> {
        self.rehash(id, |s| s.options.device = device)
    }

    /// IP_TTL / IPV6_UNICAST_HOPS; `None` restores the stack's default (Linux's -1).
    pub fn set_hop_limit<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
        hops: Option<u8>,
    ) -> Result<(), SocketError> {
        if hops.is_some_and(|h| h < I::MIN_HOP_LIMIT) {
            return Err(SocketError::InvalidArgument);
        }
        self.socket_mut(id)?.options.hop_limit = hops;
        Ok(())
    }

    /// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS; `None` restores the default of 1.
    pub fn set_multicast_hop_limit<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
        hops: Option<u8>,
    ) -> Result<(), SocketError> {
        self.socket_mut(id)?.options.multicast_hop_limit = hops.unwrap_or(DEFAULT_MULTICAST_HOPS);
        Ok(())
    }

    /// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP.
    pub fn set_multicast_loop<I: UdpIpExt>(
        &mut self,
        id: UdpSocketId<I>,
        on: bool,
    ) -> Result<(), SocketError> {
        self.socket_mut(id)?.options.multicast_loop = on;
        Ok(())
    }

    /// IPV6_V6ONLY; EINVAL once bound (Linux).
    pub fn set_v6only(&mut self, id: UdpSocketId<Ipv6>, on: bool) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        if socket.port.is_some() {
            return Err(SocketError::InvalidArgument);
        }
        socket.options.v6only = on;
        Ok(())
    }

    /// SO_RCVBUF: stores twice `bytes`, capped at twice `rmem_max` and at least
    /// [`MIN_RCVBUF`]. Datagrams already queued stay.
    pub fn set_rcvbuf<I: UdpIpExt>(&mut self, id: UdpSocketId<I>, bytes: usize) -> Result<(), SocketError> {
        let max = self.config.rmem_max;
        self.socket_mut(id)?.options.rcvbuf = doubled_buffer_size(bytes, max, MIN_RCVBUF);
        Ok(())
    }

    /// SO_SNDBUF: stores twice `bytes`, capped at twice `wmem_max` and at least
    /// [`MIN_SNDBUF`].
    pub fn set_sndbuf<I: UdpIpExt>(&mut self, id: UdpSocketId<I>, bytes: usize) -> Result<(), SocketError> {
        let max = self.config.wmem_max;
        self.socket_mut(id)?.options.sndbuf = doubled_buffer_size(bytes, max, MIN_SNDBUF);
        Ok(())
    }

    /// IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP: joins `group` on `device`, or on the device the
    /// route to the group uses (ENODEV if none). EADDRINUSE if already joined there, ENOBUFS
    /// beyond `max_memberships`.
    pub fn join_group<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: UdpSocketId<I>,
        group: MulticastAddr<I::Addr>,
        device: Option<DeviceId>,
    ) -> Result<(), SocketError> {
        let max = self.config.max_memberships;
        let socket = self.socket_mut(id)?;
        let device = match device {
            Some(device) => device,
            None => {
                let dst = SpecifiedAddr::new(*group).ok_or(SocketError::InvalidArgument)?;
                UdpIpContext::<I>::route(ctx, dst, None, None).map_err(|_| SocketError::NoDevice)?.device
            }
        };
        if socket.memberships.contains(&(group, device)) {
            return Err(SocketError::AddrInUse);
        }
        if socket.memberships.len() >= max {
            return Err(SocketError::NoBufferSpace);
        }
        socket.memberships.push((group, device));
        UdpIpContext::<I>::join_group(ctx, device, group);
        Ok(())
    }

    /// IP_DROP_MEMBERSHIP / IPV6_LEAVE_GROUP: leaves `group` on `device`, or on the only
    /// device it was joined on; EADDRNOTAVAIL if not joined.
    pub fn leave_group<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: UdpSocketId<I>,
        group: MulticastAddr<I::Addr>,
        device: Option<DeviceId>,
    ) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        let index = socket
            .memberships
            .iter()
            .position(|&(g, d)| g == group && device.is_none_or(|device| device == d))
            .ok_or(SocketError::AddrNotAvailable)?;
        let (group, device) = socket.memberships.swap_remove(index);
        UdpIpContext::<I>::leave_group(ctx, device, group);
        Ok(())
    }

    /// The groups socket `id` joined, with their devices.
    pub fn memberships<I: UdpIpExt>(&self, id: UdpSocketId<I>) -> Result<&[Membership<I>], SocketError> {
        Ok(&self.socket(id)?.memberships)
    }

    /// `close`: releases the binding and the memberships and drops the queue.
    pub fn close<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: UdpSocketId<I>,
    ) -> Result<(), SocketError> {
        let port = self.socket(id)?.port;
        if let Some(port) = port {
            self.unhash(id, port);
        }
        let sockets = I::sockets_mut(&mut self.v4, &mut self.v6);
        let socket = sockets.slots.remove(id.index, id.generation).ok_or(SocketError::BadSocket)?;
        self.open -= 1;
        for (group, device) in socket.memberships {
            UdpIpContext::<I>::leave_group(ctx, device, group);
        }
        Ok(())
    }
}

/// SO_RCVBUF and SO_SNDBUF as Linux's `sock_setsockopt` stores them: twice `bytes`, capped at
/// twice `max` and at least `min`.
pub(super) fn doubled_buffer_size(bytes: usize, max: usize, min: usize) -> usize {
    bytes.min(max).saturating_mul(2).max(min)
}

/// SO_BROADCAST guards broadcast destinations (Linux `udp_sendmsg`, `__ip4_datagram_connect`).
fn check_broadcast(broadcast: bool, options: &Options) -> Result<(), SocketError> {
    if broadcast && !options.broadcast {
        Err(SocketError::PermissionDenied)
    } else {
        Ok(())
    }
}

/// Where an outgoing datagram goes from, if the socket has a local address, and to.
struct Addressing<J: Ip> {
    src: Option<SpecifiedAddr<J::Addr>>,
    src_port: NonZeroU16,
    dst: SpecifiedAddr<J::Addr>,
    dst_port: NonZeroU16,
}

/// Routes and sends one datagram over version `J` (the socket's own, or IPv4 for a
/// dual-stack socket's IPv4-mapped destination).
fn send_datagram<J: UdpIpExt, C: UdpIpContext<J>, S: Serializer>(
    ctx: &mut C,
    counters: &mut UdpCounters,
    Addressing { src, src_port: port, dst, dst_port }: Addressing<J>,
    options: &Options,
    body: S,
) -> Result<(), SocketError> {
    let route = ctx.route(dst, src, options.device)?;
    let broadcast = route.broadcast || J::is_limited_broadcast(*dst);
    check_broadcast(broadcast, options)?;
    let multicast = dst.is_multicast();
    let meta = IpSendMeta {
        src: route.src,
        dst,
        device: route.device,
        hop_limit: if multicast { Some(options.multicast_hop_limit) } else { options.hop_limit },
        multicast_loop: options.multicast_loop,
        broadcast,
    };
    let builder = UdpBuilder::new(*route.src, *dst, port.get(), dst_port);
    let builder = if ctx.tx_checksum_offload(&meta, body.len() + HEADER_LEN) {
        builder.with_checksum_offload()
    } else {
        builder
    };
    let datagram = body.encapsulate(builder);
    let result = ctx.send_datagram(&meta, datagram);
    count_send(result, &mut counters.out_datagrams, &mut counters.sndbuf_errors)
}

/// Counts what became of a send: one more sent, or one more SndbufErrors if the path below
/// had no buffer space.
pub(super) fn count_send(
    result: Result<(), SocketError>,
    sent: &mut u64,
    sndbuf_errors: &mut u64,
) -> Result<(), SocketError> {
    match result {
        Ok(()) => *sent += 1,
        Err(SocketError::NoBufferSpace) => *sndbuf_errors += 1,
        Err(_) => {}
    }
    result
}

impl<B: AsRef<[u8]> + Clone> Udp<B> {
    /// Delivers a received UDP datagram: `buf`'s body is the whole datagram (header
    /// included), which arrived as `arrival` says, classified by the IP layer as
    /// `destination`. Parses and checks it (RFC 768, RFC 1122 §4.1.3.4), then queues it on the
    /// socket or sockets it is for, with the TTL and TOS of its IP header.
    pub fn deliver<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        arrival: UdpArrival<I::Addr>,
        destination: Destination,
        mut buf: Buf<B>,
    ) -> DeliverOutcome<B> {
        let UdpArrival { device, src, dst, .. } = arrival;
        let parsed = buf
            .parse::<UdpPacket<&[u8], I::Addr>>((src, dst))
            .map(|p| (p.src_port(), p.dst_port(), p.parse_metadata()));
        let counters = &mut I::sockets_mut(&mut self.v4, &mut self.v6).counters;
        let (src_port, dst_port, meta) = match parsed {
            Ok(fields) => fields,
            Err(error) => {
                counters.in_errors += 1;
                if error.kind == ParseErrorKind::Checksum {
                    counters.in_csum_errors += 1;
                }
                return DeliverOutcome::Dropped(buf);
            }
        };
        let flow = Flow {
            local_addr: dst,
            local_port: dst_port,
            remote_addr: src,
            remote_port: NonZeroU16::new(src_port),
            device,
        };
        match destination {
            Destination::Unicast => match I::sockets(&self.v4, &self.v6).map.lookup_unicast(&flow) {
                Some(target) => self.enqueue::<I, C>(ctx, target, &flow, &arrival, buf),
                None => {
                    I::sockets_mut(&mut self.v4, &mut self.v6).counters.no_ports += 1;
                    buf.undo_parse(meta);
                    DeliverOutcome::PortUnreachable(buf)
                }
            },
            Destination::MulticastOrBroadcast => {
                let mut cursor = MatchCursor::default();
                let Some(mut target) = I::sockets(&self.v4, &self.v6).map.next_match(&flow, &mut cursor)
                else {
                    I::sockets_mut(&mut self.v4, &mut self.v6).counters.ignored_multi += 1;
                    return DeliverOutcome::Dropped(buf);
                };
                let mut queued = false;
                while let Some(next) = I::sockets(&self.v4, &self.v6).map.next_match(&flow, &mut cursor) {
                    let copy = buf.clone();
                    queued |= matches!(
                        self.enqueue::<I, C>(ctx, target, &flow, &arrival, copy),
                        DeliverOutcome::Queued
                    );
                    target = next;
                }
                match self.enqueue::<I, C>(ctx, target, &flow, &arrival, buf) {
                    DeliverOutcome::Queued => DeliverOutcome::Queued,
                    _ if queued => DeliverOutcome::Queued,
                    other => other,
                }
            }
        }
    }

    /// Queues a datagram of `flow` (over version `I`) on socket `target`.
    fn enqueue<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        target: AnyUdpSocketId,
        flow: &Flow<I, NonZeroU16>,
        arrival: &UdpArrival<I::Addr>,
        payload: Buf<B>,
    ) -> DeliverOutcome<B> {
        let (hop_limit, tos) = (arrival.hop_limit, arrival.tos);
        let peer_port = flow.remote_port.map_or(0, NonZeroU16::get);
        let accepted = match target {
            AnyUdpSocketId::V4(id) => {
                let (Some(peer), Some(local)) = (
                    Ipv4::from_ip(flow.remote_addr.to_ip_addr()),
                    Ipv4::from_ip(flow.local_addr.to_ip_addr()),
                ) else {
                    return DeliverOutcome::Dropped(payload);
                };
                let datagram = UdpDatagram {
                    peer_addr: peer,
                    peer_port,
                    local_addr: local,
                    device: flow.device,
                    hop_limit,
                    tos,
                    payload,
                };
                queue_datagram(&mut self.v4, ctx, id, datagram)
            }
            AnyUdpSocketId::V6(id) => {
                let (Some(peer), Some(local)) = (
                    Ipv6::from_ip(flow.remote_addr.to_ip_addr()),
                    Ipv6::from_ip(flow.local_addr.to_ip_addr()),
                ) else {
                    return DeliverOutcome::Dropped(payload);
                };
                let datagram = UdpDatagram {
                    peer_addr: peer,
                    peer_port,
                    local_addr: local,
                    device: flow.device,
                    hop_limit,
                    tos,
                    payload,
                };
                queue_datagram(&mut self.v6, ctx, id, datagram)
            }
        };
        match accepted {
            Ok(()) => DeliverOutcome::Queued,
            Err(payload) => {
                let counters = &mut I::sockets_mut(&mut self.v4, &mut self.v6).counters;
                counters.rcvbuf_errors += 1;
                counters.in_errors += 1;
                DeliverOutcome::Dropped(payload)
            }
        }
    }
}

impl<B> Udp<B> {
    /// Delivers an ICMP error (`report`) that arrived on `device` quoting `quoted`, a datagram
    /// sent over version `I`. Returns whether a socket took it: a connected socket matching
    /// the quoted datagram, for a hard error.
    pub fn deliver_icmp_error<I: UdpIpExt, C: UdpContext + UdpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        quoted: QuotedDatagram<I>,
        report: IcmpErrorReport,
    ) -> bool {
        let Some(local_port) = NonZeroU16::new(quoted.src_port) else { return false };
        let flow = Flow {
            local_addr: quoted.src,
            local_port,
            remote_addr: quoted.dst,
            remote_port: NonZeroU16::new(quoted.dst_port),
            device,
        };
        let Some(target) = I::sockets(&self.v4, &self.v6).map.lookup_unicast(&flow) else { return false };
        match target {
            AnyUdpSocketId::V4(id) => set_error(&mut self.v4, ctx, id, report),
            AnyUdpSocketId::V6(id) => set_error(&mut self.v6, ctx, id, report),
        }
    }
}

/// Queues `datagram` on socket `id` if it fits its SO_RCVBUF; hands the buffer back if not.
fn queue_datagram<J: UdpIpExt, B: AsRef<[u8]>, C: UdpIpContext<J>>(
    sockets: &mut UdpSockets<J, B>,
    ctx: &mut C,
    id: UdpSocketId<J>,
    datagram: UdpDatagram<J, B>,
) -> Result<(), Buf<B>> {
    let Ok(socket) = sockets.get_mut(id) else { return Err(datagram.payload) };
    // What a datagram costs against SO_RCVBUF: its whole buffer.
    let cost = datagram.payload.capacity();
    if socket.queue.push(datagram, cost, socket.options.rcvbuf).map_err(|d| d.payload)? {
        ctx.socket_event(id, SocketEvent::Readable);
    }
    Ok(())
}

/// Makes `report` socket `id`'s pending error if it is hard and the socket connected.
fn set_error<J: UdpIpExt, B, C: UdpIpContext<J>>(
    sockets: &mut UdpSockets<J, B>,
    ctx: &mut C,
    id: UdpSocketId<J>,
    report: IcmpErrorReport,
) -> bool {
    let Ok(socket) = sockets.get_mut(id) else { return false };
    if !report.hard || socket.remote.is_none() {
        return false;
    }
    socket.error = Some(report.error);
    ctx.socket_event(id, SocketEvent::Error);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::fake::FakeRng;
    use crate::transport::test_addrs::{s, v4, v6, DEV};
    use alloc::vec;
    use proptest::prelude::*;

    fn port(p: u16) -> Option<NonZeroU16> {
        NonZeroU16::new(p)
    }

    /// A stack around the UDP layer: host 192.0.2.1 and 2001:db8::1 on device 1, whose
    /// subnet broadcast is 192.0.2.255 and which has no route to 203.0.113.0/24.
    #[derive(Default)]
    struct Ctx {
        sent4: Vec<(IpSendMeta<Ipv4>, Vec<u8>)>,
        sent6: Vec<(IpSendMeta<Ipv6>, Vec<u8>)>,
        events4: Vec<(UdpSocketId<Ipv4>, SocketEvent)>,
        events6: Vec<(UdpSocketId<Ipv6>, SocketEvent)>,
        groups: Vec<(bool, crate::addr::IpAddr, DeviceId)>,
        send_error: Option<SocketError>,
    }

    fn bytes(datagram: impl Serializer) -> Vec<u8> {
        datagram.serialize_vec().unwrap().body().to_vec()
    }

    impl UdpIpContext<Ipv4> for Ctx {
        fn route(
            &mut self,
            dst: SpecifiedAddr<Ipv4Addr>,
            src: Option<SpecifiedAddr<Ipv4Addr>>,
            _: Option<DeviceId>,
        ) -> Result<Route<Ipv4>, SocketError> {
            if dst.bytes()[..3] == [203, 0, 113] {
                return Err(SocketError::NetworkUnreachable);
            }
            Ok(Route { src: src.unwrap_or(s(v4(1))), device: DEV, broadcast: *dst == v4(255) })
        }

        fn is_local_addr(&self, addr: SpecifiedAddr<Ipv4Addr>, _: Option<DeviceId>) -> bool {
            *addr == v4(1) || *addr == v4(255)
        }

        fn send_datagram<S: Serializer>(&mut self, meta: &IpSendMeta<Ipv4>, d: S) -> Result<(), SocketError> {
            self.send_error.map_or(Ok(()), Err)?;
            self.sent4.push((*meta, bytes(d)));
            Ok(())
        }

        fn join_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv4Addr>) {
            self.groups.push((true, group.get().into(), device));
        }

        fn leave_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv4Addr>) {
            self.groups.push((false, group.get().into(), device));
        }

        fn socket_event(&mut self, socket: UdpSocketId<Ipv4>, event: SocketEvent) {
            self.events4.push((socket, event));
        }
    }

    impl UdpIpContext<Ipv6> for Ctx {
        fn route(
            &mut self,
            _: SpecifiedAddr<Ipv6Addr>,
            src: Option<SpecifiedAddr<Ipv6Addr>>,
            _: Option<DeviceId>,
        ) -> Result<Route<Ipv6>, SocketError> {
            Ok(Route { src: src.unwrap_or(s(v6(1))), device: DEV, broadcast: false })
        }

        fn is_local_addr(&self, addr: SpecifiedAddr<Ipv6Addr>, _: Option<DeviceId>) -> bool {
            *addr == v6(1)
        }

        fn send_datagram<S: Serializer>(&mut self, meta: &IpSendMeta<Ipv6>, d: S) -> Result<(), SocketError> {
            self.send_error.map_or(Ok(()), Err)?;
            self.sent6.push((*meta, bytes(d)));
            Ok(())
        }

        fn join_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
            self.groups.push((true, group.get().into(), device));
        }

        fn leave_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
            self.groups.push((false, group.get().into(), device));
        }

        fn socket_event(&mut self, socket: UdpSocketId<Ipv6>, event: SocketEvent) {
            self.events6.push((socket, event));
        }
    }

    fn udp() -> Udp<Vec<u8>> {
        Udp::new(&mut FakeRng::new(1), UdpConfig::default())
    }

    /// A datagram from `src`:`sport` to `dst`:`dport` as the IP layer hands it in.
    /// A datagram's arrival on `device` from `src` to `dst`, with TTL 64 and TOS 0.
    fn arrive<A>(device: DeviceId, src: A, dst: A) -> UdpArrival<A> {
        UdpArrival { device, src, dst, hop_limit: 64, tos: 0 }
    }

    fn datagram<A: IpAddress>(src: A, sport: u16, dst: A, dport: u16, payload: &[u8]) -> Buf<Vec<u8>> {
        let buf = payload.encapsulate(UdpBuilder::new(src, dst, sport, NonZeroU16::new(dport).unwrap()));
        let buf = buf.serialize_vec().unwrap();
        Buf::from_body(buf.into_inner())
    }

    fn bound<I: UdpIpExt>(
        udp: &mut Udp<Vec<u8>>,
        ctx: &mut Ctx,
        addr: Option<I::Addr>,
        p: u16,
    ) -> Result<UdpSocketId<I>, SocketError>
    where
        Ctx: UdpIpContext<I>,
    {
        let id = udp.create::<I>(0)?;
        udp.bind(ctx, id, addr.and_then(SpecifiedAddr::new), port(p)).map(|()| id)
    }

    #[test]
    fn bind_port_zero_takes_an_ephemeral_port_and_binding_twice_is_einval() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 0).unwrap();
        let (addr, p) = udp.local_addr(id).unwrap();
        assert_eq!(addr, None);
        assert!(PortRange::LINUX_DEFAULT.contains(p.unwrap().get()));
        assert_eq!(udp.bind(&mut ctx, id, None, port(53)), Err(SocketError::InvalidArgument));
    }

    #[test]
    fn bind_requires_a_local_or_multicast_address() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        assert_eq!(
            bound::<Ipv4>(&mut udp, &mut ctx, Some(v4(9)), 53).err(),
            Some(SocketError::AddrNotAvailable)
        );
        assert!(bound::<Ipv4>(&mut udp, &mut ctx, Some(v4(1)), 53).is_ok());
        assert!(bound::<Ipv4>(&mut udp, &mut ctx, Some(Ipv4Addr::new([224, 0, 0, 251])), 5353).is_ok());
        assert_eq!(
            bound::<Ipv6>(&mut udp, &mut ctx, Some(v6(9)), 53).err(),
            Some(SocketError::AddrNotAvailable)
        );
    }

    #[test]
    fn bind_conflicts_specific_wildcard_and_reuseaddr() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        bound::<Ipv4>(&mut udp, &mut ctx, None, 53).unwrap();
        assert_eq!(bound::<Ipv4>(&mut udp, &mut ctx, Some(v4(1)), 53).err(), Some(SocketError::AddrInUse));
        let a = udp.create::<Ipv4>(0).unwrap();
        let b = udp.create::<Ipv4>(0).unwrap();
        for id in [a, b] {
            udp.set_reuse_addr(id, true).unwrap();
            udp.bind(&mut ctx, id, Some(s(v4(1))), port(54)).unwrap();
        }
    }

    /// Linux's `inet_rcv_saddr_equal` / `ipv6_rcv_saddr_equal` for dual-stack sockets.
    #[test]
    fn dual_stack_bind_conflicts_follow_linux() {
        let case = |first: &dyn Fn(&mut Udp<Vec<u8>>, &mut Ctx) -> bool,
                    second: &dyn Fn(&mut Udp<Vec<u8>>, &mut Ctx) -> bool| {
            let (mut udp, mut ctx) = (udp(), Ctx::default());
            assert!(first(&mut udp, &mut ctx));
            second(&mut udp, &mut ctx)
        };
        let v4_any = |u: &mut Udp<Vec<u8>>, c: &mut Ctx| bound::<Ipv4>(u, c, None, 53).is_ok();
        let v4_one = |u: &mut Udp<Vec<u8>>, c: &mut Ctx| bound::<Ipv4>(u, c, Some(v4(1)), 53).is_ok();
        let v6_dual = |u: &mut Udp<Vec<u8>>, c: &mut Ctx| bound::<Ipv6>(u, c, None, 53).is_ok();
        let v6_only = |u: &mut Udp<Vec<u8>>, c: &mut Ctx| {
            let id = u.create::<Ipv6>(0).unwrap();
            u.set_v6only(id, true).unwrap();
            u.bind(c, id, None, port(53)).is_ok()
        };
        let v6_one = |u: &mut Udp<Vec<u8>>, c: &mut Ctx| bound::<Ipv6>(u, c, Some(v6(1)), 53).is_ok();
        let v6_mapped =
            |u: &mut Udp<Vec<u8>>, c: &mut Ctx| bound::<Ipv6>(u, c, Some(v4(1).to_ipv6_mapped()), 53).is_ok();
        assert!(!case(&v4_any, &v6_dual), "0.0.0.0 then [::]");
        assert!(!case(&v6_dual, &v4_one), "[::] then 192.0.2.1");
        assert!(!case(&v6_dual, &v4_any), "[::] then 0.0.0.0");
        assert!(case(&v4_any, &v6_only), "0.0.0.0 then [::] v6only");
        assert!(case(&v6_only, &v4_any), "[::] v6only then 0.0.0.0");
        assert!(!case(&v6_only, &v6_dual), "[::] v6only then [::]");
        assert!(!case(&v6_dual, &v6_one), "[::] then [2001:db8::1]");
        assert!(case(&v6_one, &v4_any), "[2001:db8::1] then 0.0.0.0");
        assert!(!case(&v6_mapped, &v4_any), "[::ffff:192.0.2.1] then 0.0.0.0");
        assert!(!case(&v4_one, &v6_mapped), "192.0.2.1 then [::ffff:192.0.2.1]");
        assert!(case(&v6_mapped, &v6_only), "[::ffff:192.0.2.1] then [::] v6only");
        // An IPv6-only socket cannot take an IPv4-mapped address at all.
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = udp.create::<Ipv6>(0).unwrap();
        udp.set_v6only(id, true).unwrap();
        assert_eq!(
            udp.bind(&mut ctx, id, Some(s(v4(1).to_ipv6_mapped())), port(53)),
            Err(SocketError::InvalidArgument)
        );
        udp.bind(&mut ctx, id, None, port(53)).unwrap();
        assert_eq!(udp.set_v6only(id, false), Err(SocketError::InvalidArgument));
    }

    #[test]
    fn device_bound_sockets_share_a_port_across_devices() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let a = udp.create::<Ipv4>(0).unwrap();
        udp.set_device(a, Some(DeviceId::new(1))).unwrap();
        udp.bind(&mut ctx, a, None, port(67)).unwrap();
        let b = udp.create::<Ipv4>(0).unwrap();
        udp.set_device(b, Some(DeviceId::new(2))).unwrap();
        udp.bind(&mut ctx, b, None, port(67)).unwrap();
        assert_eq!(bound::<Ipv4>(&mut udp, &mut ctx, None, 67).err(), Some(SocketError::AddrInUse));
        let d = datagram(v4(9), 68, v4(1), 67, b"x");
        assert!(matches!(
            udp.deliver::<Ipv4, _>(&mut ctx, arrive(DeviceId::new(2), v4(9), v4(1)), Destination::Unicast, d),
            DeliverOutcome::Queued
        ));
        assert_eq!(udp.queued(b).unwrap().1, 1);
        assert_eq!(udp.queued(a).unwrap().1, 0);
    }

    #[test]
    fn exhausted_ephemeral_ports_are_eaddrinuse_on_bind_and_eagain_on_autobind() {
        let range = PortRange::new(NonZeroU16::new(40000).unwrap(), NonZeroU16::new(40001).unwrap()).unwrap();
        let config = UdpConfig { port_range: range, ..UdpConfig::default() };
        let mut udp: Udp<Vec<u8>> = Udp::new(&mut FakeRng::new(1), config);
        let mut ctx = Ctx::default();
        bound::<Ipv4>(&mut udp, &mut ctx, None, 0).unwrap();
        bound::<Ipv4>(&mut udp, &mut ctx, None, 0).unwrap();
        assert_eq!(bound::<Ipv4>(&mut udp, &mut ctx, None, 0).err(), Some(SocketError::AddrInUse));
        let id = udp.create::<Ipv4>(0).unwrap();
        assert_eq!(udp.connect(&mut ctx, id, s(v4(9)), 53), Err(SocketError::WouldBlock));
        assert_eq!(udp.send_to(&mut ctx, id, Some((s(v4(9)), 53)), &b"x"[..]), Err(SocketError::WouldBlock));
        assert_eq!(udp.ports().exhausted(), 3);
    }

    #[test]
    fn unicast_delivery_queues_the_buffer_with_peer_and_arrival_info() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 53).unwrap();
        let d = datagram(v4(9), 1234, v4(1), 53, b"query");
        let arrival = UdpArrival { hop_limit: 17, tos: 0xb9, ..arrive(DEV, v4(9), v4(1)) };
        assert!(matches!(
            udp.deliver::<Ipv4, _>(&mut ctx, arrival, Destination::Unicast, d),
            DeliverOutcome::Queued
        ));
        assert_eq!(ctx.events4, vec![(id, SocketEvent::Readable)]);
        let got = udp.recv_from(id).unwrap();
        assert_eq!((got.peer_addr, got.peer_port, got.local_addr, got.device), (v4(9), 1234, v4(1), DEV));
        assert_eq!((got.hop_limit, got.tos), (17, 0xb9), "IP_RECVTTL and IP_RECVTOS report the header's");
        assert_eq!(got.payload.body(), b"query");
        assert_eq!(udp.recv_from(id).err(), Some(SocketError::WouldBlock));
        assert_eq!(udp.counters::<Ipv4>().in_datagrams, 1);
    }

    #[test]
    fn rfc1122_4_1_3_1_no_socket_returns_the_datagram_for_port_unreachable() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let d = datagram(v4(9), 1234, v4(1), 53, b"query");
        let whole = d.body().to_vec();
        match udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(9), v4(1)), Destination::Unicast, d) {
            DeliverOutcome::PortUnreachable(buf) => assert_eq!(buf.body(), &whole[..]),
            other => panic!("{other:?}"),
        }
        assert_eq!(udp.counters::<Ipv4>().no_ports, 1);
        let b = datagram(v4(9), 1234, v4(255), 53, b"x");
        assert!(matches!(
            udp.deliver::<Ipv4, _>(
                &mut ctx,
                arrive(DEV, v4(9), v4(255)),
                Destination::MulticastOrBroadcast,
                b
            ),
            DeliverOutcome::Dropped(_)
        ));
        assert_eq!(udp.counters::<Ipv4>().ignored_multi, 1);
    }

    #[test]
    fn rfc1122_4_1_3_4_bad_checksums_are_counted_and_dropped() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        bound::<Ipv4>(&mut udp, &mut ctx, None, 53).unwrap();
        let mut d = datagram(v4(9), 1234, v4(1), 53, b"query");
        d.body_mut()[9] ^= 1;
        assert!(matches!(
            udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(9), v4(1)), Destination::Unicast, d),
            DeliverOutcome::Dropped(_)
        ));
        let c = udp.counters::<Ipv4>();
        assert_eq!((c.in_errors, c.in_csum_errors), (1, 1));
    }

    #[test]
    fn rfc3493_dual_stack_socket_receives_ipv4_as_mapped_but_v6only_does_not() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let dual = bound::<Ipv6>(&mut udp, &mut ctx, None, 53).unwrap();
        let d = datagram(v4(9), 1234, v4(1), 53, b"v4");
        assert!(matches!(
            udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(9), v4(1)), Destination::Unicast, d),
            DeliverOutcome::Queued
        ));
        let got = udp.recv_from(dual).unwrap();
        assert_eq!((got.peer_addr, got.local_addr), (v4(9).to_ipv6_mapped(), v4(1).to_ipv6_mapped()));
        assert_eq!(udp.counters::<Ipv4>().in_datagrams, 1);
        assert_eq!(udp.counters::<Ipv6>().in_datagrams, 0);

        let (mut udp, mut ctx) = (self::udp(), Ctx::default());
        let only = udp.create::<Ipv6>(0).unwrap();
        udp.set_v6only(only, true).unwrap();
        udp.bind(&mut ctx, only, None, port(53)).unwrap();
        let d = datagram(v4(9), 1234, v4(1), 53, b"v4");
        assert!(matches!(
            udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(9), v4(1)), Destination::Unicast, d),
            DeliverOutcome::PortUnreachable(_)
        ));
    }

    #[test]
    fn native_ipv4_socket_beats_dual_stack_socket() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let dual = udp.create::<Ipv6>(0).unwrap();
        udp.set_reuse_addr(dual, true).unwrap();
        udp.bind(&mut ctx, dual, None, port(53)).unwrap();
        let native = udp.create::<Ipv4>(0).unwrap();
        udp.set_reuse_addr(native, true).unwrap();
        udp.bind(&mut ctx, native, None, port(53)).unwrap();
        let d = datagram(v4(9), 1234, v4(1), 53, b"v4");
        udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(9), v4(1)), Destination::Unicast, d);
        assert_eq!(udp.queued(native).unwrap().1, 1);
        assert_eq!(udp.queued(dual).unwrap().1, 0);
    }

    #[test]
    fn dual_stack_socket_sends_to_mapped_destinations_over_ipv4() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let dual = bound::<Ipv6>(&mut udp, &mut ctx, None, 53).unwrap();
        udp.send_to(&mut ctx, dual, Some((s(v4(9).to_ipv6_mapped()), 1234)), &b"reply"[..]).unwrap();
        let (meta, bytes) = &ctx.sent4[0];
        assert_eq!((*meta.src, *meta.dst), (v4(1), v4(9)));
        let packet = UdpPacket::<&[u8], Ipv4Addr>::parse_bytes(bytes, (v4(1), v4(9))).unwrap();
        assert_eq!((packet.src_port(), packet.dst_port().get(), packet.body()), (53, 1234, &b"reply"[..]));
        assert_eq!(udp.counters::<Ipv4>().out_datagrams, 1);

        let only = udp.create::<Ipv6>(0).unwrap();
        udp.set_v6only(only, true).unwrap();
        let mapped = s(v4(9).to_ipv6_mapped());
        assert_eq!(
            udp.send_to(&mut ctx, only, Some((mapped, 1234)), &b"x"[..]),
            Err(SocketError::NetworkUnreachable)
        );
        assert_eq!(udp.connect(&mut ctx, only, mapped, 1234), Err(SocketError::NetworkUnreachable));
    }

    #[test]
    fn send_builds_the_datagram_and_applies_hop_limits() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 5000).unwrap();
        assert_eq!(udp.send(&mut ctx, id, &b"x"[..]), Err(SocketError::DestAddrRequired));
        assert_eq!(udp.set_hop_limit(id, Some(0)), Err(SocketError::InvalidArgument));
        udp.set_hop_limit(id, Some(9)).unwrap();
        udp.send_to(&mut ctx, id, Some((s(v4(9)), 53)), &b"hello"[..]).unwrap();
        udp.send_to(&mut ctx, id, Some((s(Ipv4Addr::new([224, 0, 0, 251])), 5353)), &b"m"[..]).unwrap();
        assert_eq!(ctx.sent4[0].0.hop_limit, Some(9));
        assert_eq!(ctx.sent4[1].0.hop_limit, Some(DEFAULT_MULTICAST_HOPS));
        assert!(ctx.sent4[1].0.multicast_loop);
        let packet = UdpPacket::<&[u8], Ipv4Addr>::parse_bytes(&ctx.sent4[0].1, (v4(1), v4(9))).unwrap();
        assert_eq!((packet.src_port(), packet.dst_port().get(), packet.body()), (5000, 53, &b"hello"[..]));
        let big = vec![0u8; MAX_BODY_LEN + 1];
        assert_eq!(
            udp.send_to(&mut ctx, id, Some((s(v4(9)), 53)), &big[..]),
            Err(SocketError::MessageTooLong)
        );
        assert_eq!(
            udp.send_to(&mut ctx, id, Some((s(v4(9)), 0)), &b"x"[..]),
            Err(SocketError::InvalidArgument)
        );
        let v6id = udp.create::<Ipv6>(0).unwrap();
        udp.set_hop_limit(v6id, Some(0)).unwrap();
    }

    #[test]
    fn send_failures_for_lack_of_buffers_count_sndbuf_errors() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 5000).unwrap();
        ctx.send_error = Some(SocketError::NoBufferSpace);
        assert_eq!(
            udp.send_to(&mut ctx, id, Some((s(v4(9)), 53)), &b"x"[..]),
            Err(SocketError::NoBufferSpace)
        );
        let c = udp.counters::<Ipv4>();
        assert_eq!((c.sndbuf_errors, c.out_datagrams), (1, 0));
        assert_eq!(
            udp.send_to(&mut ctx, id, Some((s(Ipv4Addr::new([203, 0, 113, 1])), 53)), &b"x"[..]),
            Err(SocketError::NetworkUnreachable)
        );
    }

    #[test]
    fn broadcast_needs_so_broadcast_eacces_like_linux() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 68).unwrap();
        for dst in [v4(255), Ipv4Addr::LIMITED_BROADCAST] {
            assert_eq!(
                udp.send_to(&mut ctx, id, Some((s(dst), 67)), &b"x"[..]),
                Err(SocketError::PermissionDenied)
            );
            assert_eq!(udp.connect(&mut ctx, id, s(dst), 67), Err(SocketError::PermissionDenied));
        }
        udp.set_broadcast(id, true).unwrap();
        udp.send_to(&mut ctx, id, Some((s(Ipv4Addr::LIMITED_BROADCAST), 67)), &b"x"[..]).unwrap();
        assert!(ctx.sent4[0].0.broadcast);
    }

    #[test]
    fn connect_fixes_source_and_autobinds_and_disconnect_releases_them() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = udp.create::<Ipv4>(0).unwrap();
        assert_eq!(udp.peer_addr(id), Err(SocketError::NotConnected));
        udp.connect(&mut ctx, id, s(v4(9)), 53).unwrap();
        let (addr, p) = udp.local_addr(id).unwrap();
        assert_eq!(addr, Some(s(v4(1))));
        assert_eq!(udp.peer_addr(id).unwrap(), (s(v4(9)), NonZeroU16::new(53).unwrap()));
        udp.send(&mut ctx, id, &b"x"[..]).unwrap();
        assert_eq!(*ctx.sent4[0].0.dst, v4(9));
        // Only the connected peer reaches it.
        let from_other = datagram(v4(8), 53, v4(1), p.unwrap().get(), b"x");
        assert!(matches!(
            udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(8), v4(1)), Destination::Unicast, from_other),
            DeliverOutcome::PortUnreachable(_)
        ));
        udp.disconnect(id).unwrap();
        assert_eq!(udp.local_addr(id).unwrap(), (None, None));
        assert_eq!(udp.peer_addr(id), Err(SocketError::NotConnected));
        // An explicit binding survives disconnect.
        let kept = bound::<Ipv4>(&mut udp, &mut ctx, Some(v4(1)), 7000).unwrap();
        udp.connect(&mut ctx, kept, s(v4(9)), 53).unwrap();
        udp.disconnect(kept).unwrap();
        assert_eq!(udp.local_addr(kept).unwrap(), (Some(s(v4(1))), port(7000)));
        assert_eq!(udp.connect(&mut ctx, kept, s(v4(9)), 0), Err(SocketError::InvalidArgument));
        assert_eq!(
            udp.connect(&mut ctx, kept, s(Ipv4Addr::new([203, 0, 113, 1])), 53),
            Err(SocketError::NetworkUnreachable)
        );
    }

    fn quoted(src_port: u16) -> QuotedDatagram<Ipv4> {
        QuotedDatagram { src: v4(1), src_port, dst: v4(9), dst_port: 53 }
    }

    #[test]
    fn icmp_port_unreachable_becomes_so_error_on_a_connected_socket() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = udp.create::<Ipv4>(0).unwrap();
        udp.connect(&mut ctx, id, s(v4(9)), 53).unwrap();
        let p = udp.local_addr(id).unwrap().1.unwrap().get();
        let refused = IcmpErrorReport::v4_dest_unreachable(
            crate::wire::icmp::v4::Icmpv4DestUnreachableCode::PortUnreachable,
            None,
        );
        let soft = IcmpErrorReport::v4_time_exceeded();
        assert!(!udp.deliver_icmp_error::<Ipv4, _>(&mut ctx, DEV, quoted(p), soft));
        assert!(udp.deliver_icmp_error::<Ipv4, _>(&mut ctx, DEV, quoted(p), refused));
        assert_eq!(ctx.events4, vec![(id, SocketEvent::Error)]);
        assert_eq!(udp.send(&mut ctx, id, &b"x"[..]), Err(SocketError::ConnectionRefused));
        assert_eq!(udp.take_error(id), Ok(None));
        assert!(udp.deliver_icmp_error::<Ipv4, _>(&mut ctx, DEV, quoted(p), refused));
        assert_eq!(udp.take_error(id), Ok(Some(SocketError::ConnectionRefused)));
        // Unconnected sockets ignore errors (no IP_RECVERR).
        let open = bound::<Ipv4>(&mut udp, &mut ctx, None, 7000).unwrap();
        assert!(!udp.deliver_icmp_error::<Ipv4, _>(&mut ctx, DEV, quoted(7000), refused));
        assert_eq!(udp.take_error(open), Ok(None));
    }

    #[test]
    fn multicast_reaches_every_member_and_memberships_are_bounded() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let group = MulticastAddr::new(Ipv4Addr::new([224, 0, 0, 251])).unwrap();
        let mut ids = vec![];
        for _ in 0..3 {
            let id = udp.create::<Ipv4>(0).unwrap();
            udp.set_reuse_addr(id, true).unwrap();
            udp.bind(&mut ctx, id, None, port(5353)).unwrap();
            udp.join_group(&mut ctx, id, group, None).unwrap();
            ids.push(id);
        }
        assert_eq!(udp.join_group(&mut ctx, ids[0], group, None), Err(SocketError::AddrInUse));
        let d = datagram(v4(9), 5353, *group, 5353, b"mdns");
        assert!(matches!(
            udp.deliver::<Ipv4, _>(
                &mut ctx,
                arrive(DEV, v4(9), *group),
                Destination::MulticastOrBroadcast,
                d
            ),
            DeliverOutcome::Queued
        ));
        for &id in &ids {
            assert_eq!(udp.recv_from(id).unwrap().payload.body(), b"mdns");
        }
        assert_eq!(ctx.groups.iter().filter(|g| g.0).count(), 3);
        udp.leave_group(&mut ctx, ids[0], group, None).unwrap();
        assert_eq!(udp.leave_group(&mut ctx, ids[0], group, None), Err(SocketError::AddrNotAvailable));
        for i in 0..20u8 {
            let g = MulticastAddr::new(Ipv4Addr::new([239, 0, 0, i])).unwrap();
            udp.join_group(&mut ctx, ids[0], g, Some(DEV)).unwrap();
        }
        let one_more = MulticastAddr::new(Ipv4Addr::new([239, 0, 1, 0])).unwrap();
        assert_eq!(udp.join_group(&mut ctx, ids[0], one_more, Some(DEV)), Err(SocketError::NoBufferSpace));
        ctx.groups.clear();
        udp.close(&mut ctx, ids[0]).unwrap();
        assert_eq!(ctx.groups.len(), 20);
        assert!(ctx.groups.iter().all(|g| !g.0));
    }

    #[test]
    fn receive_queue_is_bounded_by_so_rcvbuf_with_rcvbuf_errors() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 53).unwrap();
        udp.set_rcvbuf(id, 1).unwrap();
        assert_eq!(udp.options(id).unwrap().rcvbuf, MIN_RCVBUF);
        let mut queued = 0;
        for _ in 0..10 {
            let d = datagram(v4(9), 1, v4(1), 53, &[0; 492]);
            if matches!(
                udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(9), v4(1)), Destination::Unicast, d),
                DeliverOutcome::Queued
            ) {
                queued += 1;
            }
        }
        // 500-byte buffers: four fit in 2304 bytes.
        assert_eq!(queued, 4);
        assert_eq!(udp.queued(id).unwrap(), (2000, 4));
        let c = udp.counters::<Ipv4>();
        assert_eq!((c.rcvbuf_errors, c.in_errors), (6, 6));
        assert_eq!(ctx.events4.len(), 1, "readable is signalled once, when the queue fills from empty");
    }

    #[test]
    fn so_rcvbuf_and_so_sndbuf_double_like_linux() {
        let (mut udp, _) = (udp(), Ctx::default());
        let id = udp.create::<Ipv4>(0).unwrap();
        assert_eq!(udp.options(id).unwrap().rcvbuf, 212_992);
        udp.set_rcvbuf(id, 100_000).unwrap();
        udp.set_sndbuf(id, 1_000_000).unwrap();
        let o = udp.options(id).unwrap();
        assert_eq!((o.rcvbuf, o.sndbuf), (200_000, 425_984));
        udp.set_sndbuf(id, 0).unwrap();
        assert_eq!(udp.options(id).unwrap().sndbuf, MIN_SNDBUF);
    }

    #[test]
    fn close_releases_the_binding_and_stale_ids_are_ebadf() {
        let (mut udp, mut ctx) = (udp(), Ctx::default());
        let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 53).unwrap();
        udp.close(&mut ctx, id).unwrap();
        assert_eq!(udp.close(&mut ctx, id), Err(SocketError::BadSocket));
        assert_eq!(udp.recv_from(id).err(), Some(SocketError::BadSocket));
        let again = bound::<Ipv4>(&mut udp, &mut ctx, None, 53).unwrap();
        assert_ne!(again, id);
        assert!(!udp.is_empty() && udp.len() == 1);
    }

    #[test]
    fn the_socket_table_is_bounded() {
        let config = UdpConfig { max_sockets: 2, ..UdpConfig::default() };
        let mut udp: Udp<Vec<u8>> = Udp::new(&mut FakeRng::new(1), config);
        udp.create::<Ipv4>(0).unwrap();
        udp.create::<Ipv6>(0).unwrap();
        assert_eq!(udp.create::<Ipv4>(0), Err(SocketError::TooManySockets));
    }

    proptest! {
        #[test]
        fn queued_bytes_never_exceed_so_rcvbuf(
            rcvbuf in 0usize..20_000,
            ops in proptest::collection::vec(proptest::option::of(0usize..3000), 1..60),
        ) {
            let (mut udp, mut ctx) = (udp(), Ctx::default());
            let id = bound::<Ipv4>(&mut udp, &mut ctx, None, 53).unwrap();
            udp.set_rcvbuf(id, rcvbuf).unwrap();
            let limit = udp.options(id).unwrap().rcvbuf;
            let (mut offered, mut accepted) = (0u64, 0u64);
            for op in ops {
                match op {
                    Some(len) => {
                        offered += 1;
                        let d = datagram(v4(9), 1, v4(1), 53, &vec![0; len]);
                        if matches!(udp.deliver::<Ipv4, _>(&mut ctx, arrive(DEV, v4(9), v4(1)), Destination::Unicast, d), DeliverOutcome::Queued) {
                            accepted += 1;
                        }
                    }
                    None => { let _ = udp.recv_from(id); }
                }
                prop_assert!(udp.queued(id).unwrap().0 <= limit);
            }
            prop_assert_eq!(udp.counters::<Ipv4>().rcvbuf_errors, offered - accepted);
        }
    }
}
