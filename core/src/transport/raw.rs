//! Raw IP sockets (Linux raw(7), `SOCK_RAW`; RFC 3542 §3 for ICMPv6): what
//! `fuchsia.posix.socket.raw` serves, chiefly to `ping` run as root.
//!
//! [`RawSockets`] holds the raw sockets of one IP version, each associated with one IP
//! protocol (ICMP and ICMPv6 foremost, any protocol number but 0 and 255):
//!
//! * Receive: every packet of its protocol that this host accepts is delivered to each
//!   matching raw socket *in addition* to the stack's own processing (Linux's
//!   `raw_local_deliver`). A socket matches when its bound address (if any) is the packet's
//!   destination, its connected address (if any) the packet's source, and its
//!   SO_BINDTODEVICE device (if any) the arrival device. An IPv4 socket receives the whole
//!   datagram, IPv4 header included; an IPv6 socket receives the payload after every
//!   extension header (RFC 3542 §3: the IPv6 header is never delivered). Each socket's queue
//!   is bounded by SO_RCVBUF, every packet charged the size of its buffer; a packet that does
//!   not fit is dropped and counted.
//! * ICMP filters: an ICMP socket drops the types its ICMP_FILTER blocks (Linux, types below
//!   32), an ICMPv6 socket those its ICMP6_FILTER blocks (RFC 3542 §3.2: by default every
//!   type passes). ICMPv6 sockets receive only messages whose checksum verifies, as Linux
//!   does for the checksum it computes (RFC 3542 §3.1).
//! * Send: the application writes the payload and the stack builds the IP header
//!   (IP_HDRINCL is not offered). An ICMPv6 socket's checksum is computed by the stack over
//!   the pseudo-header (RFC 3542 §3.1: "the kernel will calculate and insert the ICMPv6
//!   checksum"); an ICMPv4 message is sent exactly as written, its checksum the
//!   application's, as on Linux. Other protocols' checksums are the application's
//!   (IPV6_CHECKSUM is not offered). The TTL / Hop Limit is IP_TTL / IPV6_UNICAST_HOPS, or for
//!   multicast destinations IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (default 1, RFC 3542
//!   §6.5 defers to RFC 3493 §5.2). A broadcast destination needs SO_BROADCAST (EACCES).
//! * Bind and connect (Linux `raw_bind`, `ip4_datagram_connect`): the address must be one of
//!   this host's, or multicast or broadcast (EADDRNOTAVAIL); binding again rebinds. Connect
//!   fixes the remote (what `send` sends to and the only source received from) and an
//!   unbound socket's address to the route's source; disconnect forgets the remote and that
//!   address. No IPv4-mapped addresses: raw sockets are single-version (EINVAL).
//!
//! Errors that ICMP reports about what a raw socket sent are not turned into SO_ERROR
//! (IP_RECVERR is not offered): an ICMP raw socket sees those messages themselves.
//!
//! Counters ([`RawCounters`]) are per IP version.

use core::marker::PhantomData;

use super::dual_stack::DualStackIpExt;
use super::inspect::{AnySocketId, SocketProtocol, SocketSummary};
use super::udp::{count_send, doubled_buffer_size, DEFAULT_MULTICAST_HOPS, MIN_RCVBUF};
use super::{IpSendMeta, RecvQueue, Route, Slots, SocketError, SocketEvent};
use crate::addr::{Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, SpecifiedAddr};
use crate::buf::{Buf, PacketBuilder, PacketConstraints, ParsablePacket, SerializeTarget, Serializer};
use crate::device::DeviceId;
use crate::wire::icmp::{IcmpIpExt, Icmpv6Packet, Icmpv6PseudoHeader};
use crate::wire::IpProto;

/// Limits and defaults of the raw sockets of one IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawConfig {
    /// Most sockets (ENFILE beyond).
    pub max_sockets: usize,
    /// SO_RCVBUF of a new socket (Linux's `net.core.rmem_default`).
    pub rmem_default: usize,
    /// Largest value SO_RCVBUF accepts before doubling (Linux's `net.core.rmem_max`).
    pub rmem_max: usize,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self { max_sockets: 256, rmem_default: 212_992, rmem_max: 212_992 }
    }
}

/// Counters of the raw sockets of one IP version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawCounters {
    /// Packets queued on a socket (one per socket a packet reached).
    pub in_delivered: u64,
    /// Packets dropped because a socket's receive queue was full.
    pub rcvbuf_errors: u64,
    /// ICMPv6 packets not delivered to raw sockets: their checksum did not verify.
    pub in_csum_errors: u64,
    /// Packets sent.
    pub out_packets: u64,
    /// Packets not sent for lack of buffer space below.
    pub sndbuf_errors: u64,
}

/// A raw socket of IP version `I`; ids of closed sockets are refused (EBADF).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawSocketId<I: Ip> {
    index: u32,
    generation: u32,
    _ip: PhantomData<I>,
}

/// A set of ICMP or ICMPv6 message types a socket blocks: Linux's `struct icmp6_filter`
/// (ICMP6_FILTER, RFC 3542 §3.2), whose bit `t` set blocks type `t`, and for ICMPv4 its
/// `struct icmp_filter` (ICMP_FILTER), the first 32 bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IcmpFilter {
    /// Bit `t % 32` of word `t / 32` set: type `t` is blocked.
    pub blocked: [u32; 8],
}

impl IcmpFilter {
    /// Every type passes (ICMP6_FILTER_SETPASSALL; a new socket's filter).
    pub const PASS_ALL: Self = Self { blocked: [0; 8] };
    /// Every type is blocked (ICMP6_FILTER_SETBLOCKALL).
    pub const BLOCK_ALL: Self = Self { blocked: [u32::MAX; 8] };

    /// ICMP_FILTER's 32-bit mask: types 32 and above always pass, as on Linux.
    pub const fn from_v4_mask(mask: u32) -> Self {
        Self { blocked: [mask, 0, 0, 0, 0, 0, 0, 0] }
    }

    /// Whether `msg_type` passes (ICMP6_FILTER_WILLPASS).
    pub const fn will_pass(&self, msg_type: u8) -> bool {
        self.blocked[(msg_type >> 5) as usize] & (1 << (msg_type & 31)) == 0
    }

    /// Lets `msg_type` pass (ICMP6_FILTER_SETPASS).
    pub fn set_pass(&mut self, msg_type: u8) {
        self.blocked[usize::from(msg_type >> 5)] &= !(1 << (msg_type & 31));
    }

    /// Blocks `msg_type` (ICMP6_FILTER_SETBLOCK).
    pub fn set_block(&mut self, msg_type: u8) {
        self.blocked[usize::from(msg_type >> 5)] |= 1 << (msg_type & 31);
    }
}

/// What raw sockets need from the stack for IP version `I`.
pub trait RawContext<I: Ip> {
    /// The route to `dst`, from `src` if given, out of `device` if given.
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<I>, SocketError>;

    /// Whether `addr` is assigned to this host, or a broadcast address of it (on `device`,
    /// if given).
    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool;

    /// Sends `body` as the payload of an IP packet of protocol `proto`, as `meta` describes.
    fn send_packet<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<I>,
        proto: IpProto,
        body: S,
    ) -> Result<(), SocketError>;

    /// Socket `socket`'s readiness changed.
    fn socket_event(&mut self, socket: RawSocketId<I>, event: SocketEvent);
}

/// What differs between raw sockets over IPv4 and over IPv6; implemented by [`Ipv4`] and
/// [`Ipv6`].
pub trait RawIpExt: DualStackIpExt + IcmpIpExt {
    /// The version's ICMP: ICMP or ICMPv6.
    const ICMP: IpProto;
    /// The longest payload a socket may send: the IPv4 datagram's 16-bit total length less
    /// the header, the IPv6 Payload Length (RFC 8200 §3; no jumbograms).
    const MAX_PAYLOAD: usize;

    /// The ICMP type of `packet`, as a socket of this version receives it (the IPv4 header
    /// first for IPv4).
    fn icmp_type(packet: &[u8]) -> Option<u8>;

    /// Whether `packet`, an ICMP message from `src` to `dst` as a socket receives it, may be
    /// delivered: ICMPv6's checksum must verify (RFC 3542 §3.1); ICMPv4 is delivered as it
    /// came (Linux does not check it for raw sockets).
    fn icmp_checksum_ok(src: Self::Addr, dst: Self::Addr, packet: &[u8]) -> bool;

    /// Sends the application's `message` of protocol `proto` as `meta` says.
    fn send<C: RawContext<Self>>(
        ctx: &mut C,
        meta: &IpSendMeta<Self>,
        proto: IpProto,
        message: &[u8],
    ) -> Result<(), SocketError>;
}

impl RawIpExt for Ipv4 {
    const ICMP: IpProto = IpProto::ICMP;
    const MAX_PAYLOAD: usize = u16::MAX as usize - 20;

    fn icmp_type(packet: &[u8]) -> Option<u8> {
        let header_len = usize::from(packet.first()? & 0x0f) * 4;
        packet.get(header_len).copied()
    }

    fn icmp_checksum_ok(_: Ipv4Addr, _: Ipv4Addr, _: &[u8]) -> bool {
        true
    }

    fn send<C: RawContext<Self>>(
        ctx: &mut C,
        meta: &IpSendMeta<Self>,
        proto: IpProto,
        message: &[u8],
    ) -> Result<(), SocketError> {
        ctx.send_packet(meta, proto, message)
    }
}

impl RawIpExt for Ipv6 {
    const ICMP: IpProto = IpProto::ICMPV6;
    const MAX_PAYLOAD: usize = u16::MAX as usize;

    fn icmp_type(packet: &[u8]) -> Option<u8> {
        packet.first().copied()
    }

    fn icmp_checksum_ok(src: Ipv6Addr, dst: Ipv6Addr, packet: &[u8]) -> bool {
        Icmpv6Packet::parse_bytes(packet, Icmpv6PseudoHeader { src, dst }).is_ok()
    }

    fn send<C: RawContext<Self>>(
        ctx: &mut C,
        meta: &IpSendMeta<Self>,
        proto: IpProto,
        message: &[u8],
    ) -> Result<(), SocketError> {
        if proto != IpProto::ICMPV6 {
            return ctx.send_packet(meta, proto, message);
        }
        // RFC 3542 §3.1: the checksum at offset 2 is the stack's to fill in.
        let (head, rest) =
            message.split_at_checked(ICMPV6_CHECKSUMMED_LEN).ok_or(SocketError::InvalidArgument)?;
        let pseudo = Icmpv6PseudoHeader { src: *meta.src, dst: *meta.dst };
        let builder = Icmpv6Checksummer { pseudo, msg_type: head[0], code: head[1] };
        ctx.send_packet(meta, proto, rest.encapsulate(builder))
    }
}

/// The bytes of an ICMPv6 message up to and including its checksum: the shortest a raw
/// ICMPv6 socket sends (Linux refuses shorter ones with EINVAL).
const ICMPV6_CHECKSUMMED_LEN: usize = 4;

/// Writes an application's ICMPv6 message's type and code in front of the rest of it, and
/// the checksum over the pseudo-header and the whole message (RFC 4443 §2.3).
#[derive(Clone, Copy, Debug)]
struct Icmpv6Checksummer {
    pseudo: Icmpv6PseudoHeader,
    msg_type: u8,
    code: u8,
}

impl PacketBuilder for Icmpv6Checksummer {
    fn constraints(&self) -> PacketConstraints {
        PacketConstraints::header(ICMPV6_CHECKSUMMED_LEN)
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        let Some(header) = target.header.get_mut(..ICMPV6_CHECKSUMMED_LEN) else { return };
        header.copy_from_slice(&[self.msg_type, self.code, 0, 0]);
        let mut sum = Ipv6::checksum_seed(&self.pseudo, ICMPV6_CHECKSUMMED_LEN + body.len());
        sum.add_bytes(header);
        sum.add_bytes(body);
        header[2..].copy_from_slice(&sum.checksum().to_be_bytes());
    }
}

/// A packet the IP layer accepted for this host, offered to the raw sockets of its protocol.
#[derive(Debug)]
pub struct RawPacket<I: Ip, B> {
    /// The device it arrived on.
    pub device: DeviceId,
    /// Its source address.
    pub src: I::Addr,
    /// Its destination address.
    pub dst: I::Addr,
    /// Its protocol (the IPv6 header chain's upper layer).
    pub proto: IpProto,
    /// The TTL or Hop Limit it arrived with.
    pub hop_limit: u8,
    /// The TOS or Traffic Class octet it arrived with.
    pub tos: u8,
    /// What sockets receive: for IPv4 the datagram from its header on, for IPv6 the payload
    /// after the extension headers.
    pub packet: Buf<B>,
}

/// A packet taken from a raw socket's receive queue.
#[derive(Debug)]
pub struct RawDatagram<I: Ip, B> {
    /// The sender (the packet's source address).
    pub peer_addr: I::Addr,
    /// The packet's destination address (IP_PKTINFO, IPV6_PKTINFO).
    pub local_addr: I::Addr,
    /// The device it arrived on.
    pub device: DeviceId,
    /// The TTL or Hop Limit it arrived with (IP_RECVTTL, IPV6_RECVHOPLIMIT; for IPv4 also in
    /// the header).
    pub hop_limit: u8,
    /// The TOS or Traffic Class octet it arrived with (IP_RECVTOS, IPV6_RECVTCLASS).
    pub tos: u8,
    /// The buffer whose body is what the socket receives (see [`RawPacket::packet`]).
    pub packet: Buf<B>,
}

/// A snapshot of a raw socket's options (getsockopt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawSocketOptions {
    /// The protocol the socket was created for.
    pub protocol: IpProto,
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
    /// ICMP_FILTER / ICMP6_FILTER (meaningful on ICMP and ICMPv6 sockets only).
    pub icmp_filter: IcmpFilter,
    /// SO_RCVBUF as stored (doubled).
    pub rcvbuf: usize,
}

#[derive(Debug)]
struct RawSocket<I: Ip, B> {
    local_addr: Option<SpecifiedAddr<I::Addr>>,
    /// Bound explicitly (Linux's `SOCK_BINDADDR_LOCK`): kept on disconnect.
    addr_locked: bool,
    remote: Option<SpecifiedAddr<I::Addr>>,
    options: RawSocketOptions,
    queue: RecvQueue<RawDatagram<I, B>>,
}

impl<I: RawIpExt, B> RawSocket<I, B> {
    /// Whether a packet of `proto` from `src` to `dst` on `device` reaches this socket
    /// (Linux's `raw_v4_match`, `raw_v6_match`), its ICMP filter aside.
    fn matches(&self, proto: IpProto, src: I::Addr, dst: I::Addr, device: DeviceId) -> bool {
        self.options.protocol == proto
            && self.local_addr.is_none_or(|a| *a == dst)
            && self.remote.is_none_or(|a| *a == src)
            && self.options.device.is_none_or(|d| d == device)
    }
}

/// The raw sockets of one IP version; see the [module documentation](self).
#[derive(Debug)]
pub struct RawSockets<I: Ip, B> {
    config: RawConfig,
    slots: Slots<RawSocket<I, B>>,
    open: usize,
    /// Open sockets per protocol, for [`RawSockets::wants`].
    per_protocol: [u16; 256],
    counters: RawCounters,
}

impl<I: RawIpExt, B> RawSockets<I, B> {
    /// No sockets.
    pub fn new(config: RawConfig) -> Self {
        Self {
            config,
            slots: Slots::new(),
            open: 0,
            per_protocol: [0; 256],
            counters: RawCounters::default(),
        }
    }

    /// The counters.
    pub fn counters(&self) -> &RawCounters {
        &self.counters
    }

    /// Number of open sockets.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether no socket is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }

    /// Whether some socket was created for `proto` (the IP layer only copies packets of such
    /// protocols).
    pub fn wants(&self, proto: IpProto) -> bool {
        self.per_protocol[usize::from(proto.0)] > 0
    }

    fn socket(&self, id: RawSocketId<I>) -> Result<&RawSocket<I, B>, SocketError> {
        self.slots.get(id.index, id.generation).ok_or(SocketError::BadSocket)
    }

    fn socket_mut(&mut self, id: RawSocketId<I>) -> Result<&mut RawSocket<I, B>, SocketError> {
        self.slots.get_mut(id.index, id.generation).ok_or(SocketError::BadSocket)
    }

    /// Every socket, in slot order: what `ss -wa` lists for raw sockets (see
    /// [`inspect`](super::inspect)); the local port is the IP protocol, as `ss` shows it.
    /// O(sockets).
    pub fn summaries(&self) -> impl Iterator<Item = SocketSummary> + '_
    where
        AnySocketId: From<RawSocketId<I>>,
    {
        self.slots.iter_with_ids().map(|(index, generation, socket)| SocketSummary {
            id: RawSocketId::<I> { index, generation, _ip: PhantomData }.into(),
            slot: index,
            protocol: SocketProtocol::Raw,
            version: I::VERSION,
            state: None,
            local_addr: socket.local_addr.map(|a| a.to_ip_addr()),
            local_port: u16::from(socket.options.protocol.0),
            remote: socket.remote.map(|a| (a.to_ip_addr(), 0)),
            recv_queue: socket.queue.bytes(),
            send_queue: 0,
            tcp_info: None,
            orphaned: false,
        })
    }

    /// socket(2) with `SOCK_RAW` and `protocol`: EPROTONOSUPPORT for 0 (no protocol to
    /// receive) and 255 (IPPROTO_RAW, which needs IP_HDRINCL); ENFILE when the table is
    /// full. Whether the caller may open raw sockets (CAP_NET_RAW) is the bindings' call.
    pub fn create(&mut self, protocol: IpProto) -> Result<RawSocketId<I>, SocketError> {
        if protocol.0 == 0 || protocol.0 == u8::MAX {
            return Err(SocketError::ProtocolNotSupported);
        }
        if self.open >= self.config.max_sockets {
            return Err(SocketError::TooManySockets);
        }
        let socket = RawSocket {
            local_addr: None,
            addr_locked: false,
            remote: None,
            options: RawSocketOptions {
                protocol,
                broadcast: false,
                device: None,
                hop_limit: None,
                multicast_hop_limit: DEFAULT_MULTICAST_HOPS,
                multicast_loop: true,
                icmp_filter: IcmpFilter::PASS_ALL,
                rcvbuf: self.config.rmem_default,
            },
            queue: RecvQueue::new(),
        };
        let (index, generation) = self.slots.insert(socket).ok_or(SocketError::TooManySockets)?;
        self.open += 1;
        self.per_protocol[usize::from(protocol.0)] += 1;
        Ok(RawSocketId { index, generation, _ip: PhantomData })
    }

    /// Checks that `addr` may name this host for a socket on `device`.
    fn check_local<C: RawContext<I>>(
        ctx: &C,
        addr: SpecifiedAddr<I::Addr>,
        device: Option<DeviceId>,
    ) -> Result<(), SocketError> {
        if I::mapped_v4(*addr).is_some() {
            return Err(SocketError::InvalidArgument);
        }
        if !addr.is_multicast() && !ctx.is_local_addr(addr, device) {
            return Err(SocketError::AddrNotAvailable);
        }
        Ok(())
    }

    /// bind(2): packets are then received only when sent to `addr`, and sent from it;
    /// `None` (the wildcard) undoes that. EADDRNOTAVAIL for an address not this host's
    /// (multicast and broadcast ones are this host's).
    pub fn bind<C: RawContext<I>>(
        &mut self,
        ctx: &mut C,
        id: RawSocketId<I>,
        addr: Option<SpecifiedAddr<I::Addr>>,
    ) -> Result<(), SocketError> {
        let device = self.socket(id)?.options.device;
        if let Some(addr) = addr {
            Self::check_local(ctx, addr, device)?;
        }
        let socket = self.socket_mut(id)?;
        socket.local_addr = addr;
        socket.addr_locked = addr.is_some();
        Ok(())
    }

    /// connect(2): `send` then goes to `addr` and only packets from it are received; an
    /// unbound socket takes the route's source as its address. ENETUNREACH without a
    /// route, EACCES for a broadcast address without SO_BROADCAST.
    pub fn connect<C: RawContext<I>>(
        &mut self,
        ctx: &mut C,
        id: RawSocketId<I>,
        addr: SpecifiedAddr<I::Addr>,
    ) -> Result<(), SocketError> {
        if I::mapped_v4(*addr).is_some() {
            return Err(SocketError::InvalidArgument);
        }
        let socket = self.socket(id)?;
        let route = ctx.route(addr, socket.local_addr, socket.options.device)?;
        if route.broadcast && !socket.options.broadcast {
            return Err(SocketError::PermissionDenied);
        }
        let socket = self.socket_mut(id)?;
        socket.local_addr = Some(socket.local_addr.unwrap_or(route.src));
        socket.remote = Some(addr);
        Ok(())
    }

    /// connect(2) with `AF_UNSPEC`: forgets the remote, and the address connect chose.
    pub fn disconnect(&mut self, id: RawSocketId<I>) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        socket.remote = None;
        if !socket.addr_locked {
            socket.local_addr = None;
        }
        Ok(())
    }

    /// The bound address (getsockname); `None` for the wildcard.
    pub fn local_addr(&self, id: RawSocketId<I>) -> Result<Option<SpecifiedAddr<I::Addr>>, SocketError> {
        Ok(self.socket(id)?.local_addr)
    }

    /// The connected address (getpeername); ENOTCONN if not connected.
    pub fn peer_addr(&self, id: RawSocketId<I>) -> Result<SpecifiedAddr<I::Addr>, SocketError> {
        self.socket(id)?.remote.ok_or(SocketError::NotConnected)
    }

    /// The socket's options (getsockopt).
    pub fn options(&self, id: RawSocketId<I>) -> Result<RawSocketOptions, SocketError> {
        Ok(self.socket(id)?.options)
    }

    /// SO_BROADCAST.
    pub fn set_broadcast(&mut self, id: RawSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.socket_mut(id)?.options.broadcast = on;
        Ok(())
    }

    /// SO_BINDTODEVICE (`None` to unbind): packets are received from `device` only and sent
    /// out of it. Whether the device exists is for the caller to check (ENODEV).
    pub fn set_device(&mut self, id: RawSocketId<I>, device: Option<DeviceId>) -> Result<(), SocketError> {
        self.socket_mut(id)?.options.device = device;
        Ok(())
    }

    /// IP_TTL / IPV6_UNICAST_HOPS; `None` restores the stack's default. EINVAL for an IPv4
    /// TTL of 0, as Linux.
    pub fn set_hop_limit(&mut self, id: RawSocketId<I>, hops: Option<u8>) -> Result<(), SocketError> {
        if I::VERSION == Ipv4::VERSION && hops == Some(0) {
            return Err(SocketError::InvalidArgument);
        }
        self.socket_mut(id)?.options.hop_limit = hops;
        Ok(())
    }

    /// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS; `None` restores the default of 1.
    pub fn set_multicast_hop_limit(
        &mut self,
        id: RawSocketId<I>,
        hops: Option<u8>,
    ) -> Result<(), SocketError> {
        self.socket_mut(id)?.options.multicast_hop_limit = hops.unwrap_or(DEFAULT_MULTICAST_HOPS);
        Ok(())
    }

    /// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP.
    pub fn set_multicast_loop(&mut self, id: RawSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.socket_mut(id)?.options.multicast_loop = on;
        Ok(())
    }

    /// ICMP6_FILTER on an ICMPv6 socket (RFC 3542 §3.2), ICMP_FILTER on an ICMP one
    /// ([`IcmpFilter::from_v4_mask`]); EOPNOTSUPP on sockets of other protocols, as Linux.
    pub fn set_icmp_filter(&mut self, id: RawSocketId<I>, filter: IcmpFilter) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        if socket.options.protocol != I::ICMP {
            return Err(SocketError::NotSupported);
        }
        socket.options.icmp_filter = filter;
        Ok(())
    }

    /// SO_RCVBUF, with Linux's doubling (see [`udp`](super::udp)). Packets already queued
    /// stay.
    pub fn set_rcvbuf(&mut self, id: RawSocketId<I>, bytes: usize) -> Result<(), SocketError> {
        let max = self.config.rmem_max;
        self.socket_mut(id)?.options.rcvbuf = doubled_buffer_size(bytes, max, MIN_RCVBUF);
        Ok(())
    }

    /// `sendto`: sends `message`, the payload, to `dst` or the connected address, with an
    /// IP header the stack builds (see the [module documentation](self)). EDESTADDRREQ
    /// without a destination; EMSGSIZE beyond the IP length field; EINVAL for an
    /// IPv4-mapped destination or an ICMPv6 message shorter than its checksum.
    pub fn send_to<C: RawContext<I>>(
        &mut self,
        ctx: &mut C,
        id: RawSocketId<I>,
        dst: Option<SpecifiedAddr<I::Addr>>,
        message: &[u8],
    ) -> Result<(), SocketError> {
        let socket = self.socket(id)?;
        let dst = dst.or(socket.remote).ok_or(SocketError::DestAddrRequired)?;
        if I::mapped_v4(*dst).is_some() {
            return Err(SocketError::InvalidArgument);
        }
        if message.len() > I::MAX_PAYLOAD {
            return Err(SocketError::MessageTooLong);
        }
        let options = socket.options;
        let route = ctx.route(dst, socket.local_addr, options.device)?;
        if route.broadcast && !options.broadcast {
            return Err(SocketError::PermissionDenied);
        }
        let multicast = dst.is_multicast();
        let meta = IpSendMeta {
            src: route.src,
            dst,
            device: route.device,
            hop_limit: if multicast { Some(options.multicast_hop_limit) } else { options.hop_limit },
            multicast_loop: options.multicast_loop,
            broadcast: route.broadcast,
        };
        let result = I::send(ctx, &meta, options.protocol, message);
        count_send(result, &mut self.counters.out_packets, &mut self.counters.sndbuf_errors)
    }

    /// `recvfrom`: the oldest queued packet; EAGAIN if none.
    pub fn recv_from(&mut self, id: RawSocketId<I>) -> Result<RawDatagram<I, B>, SocketError> {
        self.socket_mut(id)?.queue.pop().ok_or(SocketError::WouldBlock)
    }

    /// Bytes charged to socket `id`'s receive queue, and the number of packets in it.
    pub fn queued(&self, id: RawSocketId<I>) -> Result<(usize, usize), SocketError> {
        let socket = self.socket(id)?;
        Ok((socket.queue.bytes(), socket.queue.len()))
    }

    /// `close`: drops the socket and its queue.
    pub fn close(&mut self, id: RawSocketId<I>) -> Result<(), SocketError> {
        let socket = self.slots.remove(id.index, id.generation).ok_or(SocketError::BadSocket)?;
        self.open -= 1;
        let count = &mut self.per_protocol[usize::from(socket.options.protocol.0)];
        *count = count.saturating_sub(1);
        Ok(())
    }
}

impl<I: RawIpExt, B: AsRef<[u8]> + Clone> RawSockets<I, B> {
    /// Offers `packet` to every matching socket (see the [module documentation](self)):
    /// the last one takes the buffer, each other a clone of it. Returns how many queued it.
    pub fn deliver<C: RawContext<I>>(&mut self, ctx: &mut C, packet: RawPacket<I, B>) -> usize {
        let RawPacket { device, src, dst, proto, hop_limit, tos, packet } = packet;
        if !self.wants(proto) {
            return 0;
        }
        let icmp = proto == I::ICMP;
        if icmp && !I::icmp_checksum_ok(src, dst, packet.body()) {
            self.counters.in_csum_errors += 1;
            return 0;
        }
        let icmp_type = if icmp { I::icmp_type(packet.body()) } else { None };
        let mut queued = 0;
        let Self { slots, counters, .. } = self;
        let mut offer = |index, generation, socket: &mut RawSocket<I, B>, packet: Buf<B>| {
            let cost = packet.capacity();
            let datagram = RawDatagram { peer_addr: src, local_addr: dst, device, hop_limit, tos, packet };
            match socket.queue.push(datagram, cost, socket.options.rcvbuf) {
                Ok(first) => {
                    queued += 1;
                    counters.in_delivered += 1;
                    if first {
                        let id = RawSocketId { index, generation, _ip: PhantomData };
                        ctx.socket_event(id, SocketEvent::Readable);
                    }
                }
                Err(_) => counters.rcvbuf_errors += 1,
            }
        };
        // Each match is offered once the next is found, so the last needs no clone.
        let mut matched = None;
        for (index, generation, socket) in slots.iter_mut() {
            if !socket.matches(proto, src, dst, device)
                || icmp_type.is_some_and(|t| !socket.options.icmp_filter.will_pass(t))
            {
                continue;
            }
            if let Some((index, generation, socket)) = matched.replace((index, generation, socket)) {
                offer(index, generation, socket, packet.clone());
            }
        }
        if let Some((index, generation, socket)) = matched {
            offer(index, generation, socket, packet);
        }
        queued
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::transport::test_addrs::{s, v4, v6, DEV};
    use crate::wire::icmp::{EchoRequest, IcmpBuilder, Icmpv4Packet};

    /// Host 192.0.2.1 / 2001:db8::1 on device 1; 192.0.2.255 is the subnet broadcast.
    #[derive(Default)]
    struct Ctx {
        sent4: Vec<(IpSendMeta<Ipv4>, IpProto, Vec<u8>)>,
        sent6: Vec<(IpSendMeta<Ipv6>, IpProto, Vec<u8>)>,
        events: Vec<SocketEvent>,
    }

    impl RawContext<Ipv4> for Ctx {
        fn route(
            &mut self,
            dst: SpecifiedAddr<Ipv4Addr>,
            src: Option<SpecifiedAddr<Ipv4Addr>>,
            _: Option<DeviceId>,
        ) -> Result<Route<Ipv4>, SocketError> {
            Ok(Route { src: src.unwrap_or(s(v4(1))), device: DEV, broadcast: *dst == v4(255) })
        }

        fn is_local_addr(&self, addr: SpecifiedAddr<Ipv4Addr>, _: Option<DeviceId>) -> bool {
            *addr == v4(1) || *addr == v4(255)
        }

        fn send_packet<S: Serializer>(
            &mut self,
            meta: &IpSendMeta<Ipv4>,
            proto: IpProto,
            body: S,
        ) -> Result<(), SocketError> {
            self.sent4.push((*meta, proto, body.serialize_vec().unwrap().body().to_vec()));
            Ok(())
        }

        fn socket_event(&mut self, _: RawSocketId<Ipv4>, event: SocketEvent) {
            self.events.push(event);
        }
    }

    impl RawContext<Ipv6> for Ctx {
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

        fn send_packet<S: Serializer>(
            &mut self,
            meta: &IpSendMeta<Ipv6>,
            proto: IpProto,
            body: S,
        ) -> Result<(), SocketError> {
            self.sent6.push((*meta, proto, body.serialize_vec().unwrap().body().to_vec()));
            Ok(())
        }

        fn socket_event(&mut self, _: RawSocketId<Ipv6>, event: SocketEvent) {
            self.events.push(event);
        }
    }

    fn sockets<I: RawIpExt>() -> RawSockets<I, Vec<u8>> {
        RawSockets::new(RawConfig::default())
    }

    /// An ICMPv6 echo request from `src` to `dst` with a valid checksum.
    fn echo6(src: Ipv6Addr, dst: Ipv6Addr, seq: u16) -> Vec<u8> {
        let pseudo = Icmpv6PseudoHeader { src, dst };
        (&[1u8, 2, 3][..])
            .encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, EchoRequest { id: 7, seq }))
            .serialize_vec()
            .unwrap()
            .body()
            .to_vec()
    }

    /// An IPv4 datagram as raw sockets receive it: a 20-byte header, then `payload`.
    fn datagram4(proto: IpProto, payload: &[u8]) -> Vec<u8> {
        let mut d = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto.0, 0, 0, 192, 0, 2, 9, 192, 0, 2, 1];
        d.extend_from_slice(payload);
        d
    }

    fn packet<I: Ip>(src: I::Addr, dst: I::Addr, proto: IpProto, bytes: Vec<u8>) -> RawPacket<I, Vec<u8>> {
        RawPacket { device: DEV, src, dst, proto, hop_limit: 64, tos: 0x2e, packet: Buf::from_body(bytes) }
    }

    #[test]
    fn raw7_every_matching_socket_gets_a_copy_with_the_ipv4_header() {
        let (mut raw, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let all = raw.create(IpProto::ICMP).unwrap();
        let bound = raw.create(IpProto::ICMP).unwrap();
        raw.bind(&mut ctx, bound, Some(s(v4(1)))).unwrap();
        let connected = raw.create(IpProto::ICMP).unwrap();
        raw.connect(&mut ctx, connected, s(v4(8))).unwrap();
        let other_device = raw.create(IpProto::ICMP).unwrap();
        raw.set_device(other_device, Some(DeviceId::new(2))).unwrap();
        let udp = raw.create(IpProto::UDP).unwrap();
        assert!(raw.wants(IpProto::ICMP) && raw.wants(IpProto::UDP) && !raw.wants(IpProto::TCP));

        let bytes = datagram4(IpProto::ICMP, &[0, 0, 0xff, 0xff, 0, 7, 0, 1]);
        assert_eq!(raw.deliver(&mut ctx, packet::<Ipv4>(v4(9), v4(1), IpProto::ICMP, bytes.clone())), 2);
        let got = raw.recv_from(all).unwrap();
        assert_eq!((got.peer_addr, got.local_addr, got.hop_limit, got.tos), (v4(9), v4(1), 64, 0x2e));
        assert_eq!(got.packet.body(), &bytes[..], "the IPv4 header comes first, as on Linux");
        assert_eq!(raw.recv_from(bound).unwrap().packet.body(), &bytes[..]);
        for id in [connected, other_device, udp] {
            assert_eq!(raw.recv_from(id).err(), Some(SocketError::WouldBlock));
        }
        assert_eq!(ctx.events, vec![SocketEvent::Readable; 2]);
        assert_eq!(raw.counters().in_delivered, 2);
    }

    #[test]
    fn icmp_filter_blocks_ipv4_types_below_32() {
        let (mut raw, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = raw.create(IpProto::ICMP).unwrap();
        // What ping sets: everything but echo reply (0) and the errors is blocked.
        let mask = !((1 << 0) | (1 << 3) | (1 << 11));
        raw.set_icmp_filter(id, IcmpFilter::from_v4_mask(mask)).unwrap();
        for (msg_type, wanted) in [(0u8, true), (8, false), (3, true), (13, false), (40, true)] {
            let bytes = datagram4(IpProto::ICMP, &[msg_type, 0, 0, 0, 0, 0, 0, 0]);
            let n = raw.deliver(&mut ctx, packet::<Ipv4>(v4(9), v4(1), IpProto::ICMP, bytes));
            assert_eq!(n == 1, wanted, "type {msg_type}");
        }
        let udp = raw.create(IpProto::UDP).unwrap();
        assert_eq!(raw.set_icmp_filter(udp, IcmpFilter::BLOCK_ALL), Err(SocketError::NotSupported));
    }

    #[test]
    fn rfc3542_3_2_icmp6_filter_passes_all_by_default_and_blocks_per_type() {
        let (mut raw, mut ctx) = (sockets::<Ipv6>(), Ctx::default());
        let id = raw.create(IpProto::ICMPV6).unwrap();
        let deliver = |raw: &mut RawSockets<Ipv6, Vec<u8>>, ctx: &mut Ctx| {
            let bytes = echo6(v6(9), v6(1), 1);
            raw.deliver(ctx, packet::<Ipv6>(v6(9), v6(1), IpProto::ICMPV6, bytes))
        };
        assert_eq!(deliver(&mut raw, &mut ctx), 1);
        let mut filter = IcmpFilter::BLOCK_ALL;
        assert!(!filter.will_pass(128));
        filter.set_pass(129);
        raw.set_icmp_filter(id, filter).unwrap();
        assert_eq!(deliver(&mut raw, &mut ctx), 0, "echo requests (128) are blocked");
        filter.set_pass(128);
        filter.set_block(129);
        raw.set_icmp_filter(id, filter).unwrap();
        assert_eq!(deliver(&mut raw, &mut ctx), 1);
        assert_eq!(raw.options(id).unwrap().icmp_filter, filter);
    }

    #[test]
    fn rfc3542_3_1_icmpv6_raw_sockets_drop_bad_checksums_and_get_no_ipv6_header() {
        let (mut raw, mut ctx) = (sockets::<Ipv6>(), Ctx::default());
        let id = raw.create(IpProto::ICMPV6).unwrap();
        let mut bytes = echo6(v6(9), v6(1), 1);
        bytes[2] ^= 0x55;
        assert_eq!(raw.deliver(&mut ctx, packet::<Ipv6>(v6(9), v6(1), IpProto::ICMPV6, bytes)), 0);
        assert_eq!(raw.counters().in_csum_errors, 1);
        let good = echo6(v6(9), v6(1), 2);
        raw.deliver(&mut ctx, packet::<Ipv6>(v6(9), v6(1), IpProto::ICMPV6, good.clone()));
        assert_eq!(raw.recv_from(id).unwrap().packet.body(), &good[..]);
    }

    #[test]
    fn rfc3542_3_1_the_stack_computes_the_icmpv6_checksum_and_sends_icmpv4_as_written() {
        let (mut raw6, mut ctx) = (sockets::<Ipv6>(), Ctx::default());
        let id = raw6.create(IpProto::ICMPV6).unwrap();
        let mut message = echo6(v6(1), v6(9), 3);
        let expected = message.clone();
        message[2..4].copy_from_slice(&[0xde, 0xad]);
        raw6.send_to(&mut ctx, id, Some(s(v6(9))), &message).unwrap();
        let (meta, proto, sent) = &ctx.sent6[0];
        assert_eq!((*meta.src, *meta.dst, *proto), (v6(1), v6(9), IpProto::ICMPV6));
        assert_eq!(sent, &expected);
        assert_eq!(
            raw6.send_to(&mut ctx, id, Some(s(v6(9))), &[128, 0, 0]),
            Err(SocketError::InvalidArgument)
        );
        raw6.send_to(&mut ctx, id, Some(s(v6(9))), &[1, 4, 0, 0]).unwrap();
        let short = &ctx.sent6[1].2;
        let pseudo = Icmpv6PseudoHeader { src: v6(1), dst: v6(9) };
        let mut sum = Ipv6::checksum_seed(&pseudo, 4);
        sum.add_bytes(short);
        assert_eq!(sum.checksum(), 0, "a 4-byte message checks too");

        let mut raw4 = sockets::<Ipv4>();
        let id4 = raw4.create(IpProto::ICMP).unwrap();
        let bogus = [8u8, 0, 0x12, 0x34, 0, 1, 0, 1];
        raw4.send_to(&mut ctx, id4, Some(s(v4(9))), &bogus).unwrap();
        assert_eq!(ctx.sent4[0].2, bogus, "the application's checksum goes out as written");
        assert!(Icmpv4Packet::parse_bytes(&ctx.sent4[0].2[..], ()).is_err());
        assert_eq!(raw4.counters().out_packets, 1);
    }

    #[test]
    fn sending_needs_a_destination_so_broadcast_and_honours_hop_limits() {
        let (mut raw, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = raw.create(IpProto::ICMP).unwrap();
        let m = [8u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(raw.send_to(&mut ctx, id, None, &m), Err(SocketError::DestAddrRequired));
        assert_eq!(raw.send_to(&mut ctx, id, Some(s(v4(255))), &m), Err(SocketError::PermissionDenied));
        assert_eq!(raw.connect(&mut ctx, id, s(v4(255))), Err(SocketError::PermissionDenied));
        raw.set_broadcast(id, true).unwrap();
        raw.send_to(&mut ctx, id, Some(s(v4(255))), &m).unwrap();
        assert!(ctx.sent4[0].0.broadcast);
        assert_eq!(raw.set_hop_limit(id, Some(0)), Err(SocketError::InvalidArgument));
        raw.set_hop_limit(id, Some(3)).unwrap();
        raw.set_multicast_hop_limit(id, Some(5)).unwrap();
        raw.send_to(&mut ctx, id, Some(s(v4(9))), &m).unwrap();
        raw.send_to(&mut ctx, id, Some(s(Ipv4Addr::new([224, 0, 0, 1]))), &m).unwrap();
        assert_eq!((ctx.sent4[1].0.hop_limit, ctx.sent4[2].0.hop_limit), (Some(3), Some(5)));
        let big = vec![0u8; Ipv4::MAX_PAYLOAD + 1];
        assert_eq!(raw.send_to(&mut ctx, id, Some(s(v4(9))), &big), Err(SocketError::MessageTooLong));
        // Connected: sends there by default, and the bound address follows the route.
        raw.connect(&mut ctx, id, s(v4(9))).unwrap();
        assert_eq!((raw.local_addr(id), raw.peer_addr(id)), (Ok(Some(s(v4(1)))), Ok(s(v4(9)))));
        raw.send_to(&mut ctx, id, None, &m).unwrap();
        raw.disconnect(id).unwrap();
        assert_eq!((raw.local_addr(id), raw.peer_addr(id)), (Ok(None), Err(SocketError::NotConnected)));
    }

    #[test]
    fn bind_checks_the_address_and_create_the_protocol() {
        let (mut raw, mut ctx) = (sockets::<Ipv6>(), Ctx::default());
        assert_eq!(raw.create(IpProto(0)).err(), Some(SocketError::ProtocolNotSupported));
        assert_eq!(raw.create(IpProto(255)).err(), Some(SocketError::ProtocolNotSupported));
        let id = raw.create(IpProto::ICMPV6).unwrap();
        assert_eq!(raw.bind(&mut ctx, id, Some(s(v6(7)))), Err(SocketError::AddrNotAvailable));
        let mapped = s(v4(1).to_ipv6_mapped());
        assert_eq!(raw.bind(&mut ctx, id, Some(mapped)), Err(SocketError::InvalidArgument));
        raw.bind(&mut ctx, id, Some(s(v6(1)))).unwrap();
        raw.bind(&mut ctx, id, Some(s(Ipv6Addr::ALL_NODES))).unwrap();
        raw.close(id).unwrap();
        assert_eq!(raw.close(id), Err(SocketError::BadSocket));
        assert!(!raw.wants(IpProto::ICMPV6) && raw.is_empty());
    }

    #[test]
    fn the_receive_queue_is_bounded_by_so_rcvbuf() {
        let (mut raw, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = raw.create(IpProto::ICMP).unwrap();
        raw.set_rcvbuf(id, 1).unwrap();
        let bytes = datagram4(IpProto::ICMP, &[0; 480]);
        let queued: usize = (0..10)
            .map(|_| raw.deliver(&mut ctx, packet::<Ipv4>(v4(9), v4(1), IpProto::ICMP, bytes.clone())))
            .sum();
        // 500-byte buffers: four fit in 2304 bytes.
        assert_eq!(queued, 4);
        assert_eq!(raw.counters().rcvbuf_errors, 6);
        assert_eq!(raw.queued(id).unwrap(), (2000, 4));
    }
}
