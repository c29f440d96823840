//! ICMP echo ("ping") sockets: Linux's `SOCK_DGRAM` sockets of protocol `IPPROTO_ICMP` and
//! `IPPROTO_ICMPV6` (net/ipv4/ping.c), which let unprivileged programs send Echo Requests
//! (RFC 792 p. 14, RFC 4443 §4.1) and receive the matching Echo Replies (RFC 792 p. 14,
//! RFC 4443 §4.2).
//!
//! [`PingSockets`] holds the echo sockets of one IP version (Linux has no dual-stack echo
//! sockets). The echo identifier plays the port:
//!
//! * `bind` takes an identifier, or allocates one like an ephemeral port (RFC 6056 §3.3.4
//!   over 1–65535) when given none; sending or connecting unbound allocates one too. As in
//!   Linux's `ping_get_port`, two sockets conflict on an identifier whatever their addresses,
//!   unless both set SO_REUSEADDR.
//! * `send_to` takes the user's ICMP message, header included, as Linux does: it must be an
//!   Echo Request with code 0 (EINVAL otherwise); the identifier is overwritten with the
//!   socket's, the sequence number and data are kept, and the checksum is computed anew.
//!   Broadcast destinations need SO_BROADCAST (EACCES), as for UDP.
//! * Echo Replies the ICMP layer hands to [`PingSockets::deliver_echo_reply`] go to the socket
//!   holding their identifier (bound address and device must match, and the remote if the
//!   socket is connected), and are queued whole, ICMP header included (what `recvmsg` returns
//!   on Linux), bounded by SO_RCVBUF.
//! * ICMP errors quoting one of our Echo Requests ([`PingSockets::deliver_icmp_error`]) become
//!   the pending error of a connected socket when hard (IP_RECVERR is not implemented), with
//!   one difference from UDP that Linux's `ping_err` makes: "fragmentation needed" is soft
//!   over IPv4 (IP_PMTUDISC_DO is not offered here).

use core::marker::PhantomData;
use core::num::NonZeroU16;

use super::inspect::{AnySocketId, SocketProtocol, SocketSummary};
use super::ports::{random_key, EphemeralPorts, PortRange};
use super::socket_map::{ConflictScope, EntryKind, Flow, LocalEndpoint, RemoteEndpoint, Sharing, SocketMap};
use super::udp::{count_send, doubled_buffer_size, LocalName, UdpIpExt, MIN_RCVBUF};
use super::{IcmpErrorReport, IpSendMeta, RecvQueue, Route, Slots, SocketError, SocketEvent};
use crate::addr::{Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, SpecifiedAddr};
use crate::buf::{Buf, Serializer};
use crate::context::RngContext;
use crate::device::DeviceId;
use crate::wire::icmp::{EchoRequest, IcmpBuilder, IcmpIpExt, Icmpv6PseudoHeader, HEADER_LEN};

/// What differs between ICMPv4 and ICMPv6 echo sockets; implemented by [`Ipv4`] and
/// [`Ipv6`].
pub trait PingIpExt: IcmpIpExt + UdpIpExt {
    /// Whether an ICMP "fragmentation needed" / "packet too big" error is hard (Linux's
    /// `ping_err`: not over IPv4 without IP_PMTUDISC_DO; `icmpv6_err_convert`: yes).
    const TOO_BIG_IS_HARD: bool;

    /// The pseudo-header an Echo Request from `src` to `dst` is checksummed with.
    fn pseudo_header(src: Self::Addr, dst: Self::Addr) -> Self::PseudoHeader;
}

impl PingIpExt for Ipv4 {
    const TOO_BIG_IS_HARD: bool = false;

    fn pseudo_header(_: Ipv4Addr, _: Ipv4Addr) {}
}

impl PingIpExt for Ipv6 {
    const TOO_BIG_IS_HARD: bool = true;

    fn pseudo_header(src: Ipv6Addr, dst: Ipv6Addr) -> Icmpv6PseudoHeader {
        Icmpv6PseudoHeader { src, dst }
    }
}

/// Every non-zero identifier: Linux's `ping_get_port` skips 0.
const ALL_IDS: PortRange = PortRange::new(NonZeroU16::MIN, NonZeroU16::MAX).unwrap();

/// Limits and defaults of the echo sockets of one IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PingConfig {
    /// Most sockets (ENFILE beyond).
    pub max_sockets: usize,
    /// The identifiers allocated to sockets bound without one.
    pub id_range: PortRange,
    /// SO_RCVBUF of a new socket (Linux's `net.core.rmem_default`).
    pub rmem_default: usize,
    /// Largest value SO_RCVBUF accepts before doubling (Linux's `net.core.rmem_max`).
    pub rmem_max: usize,
}

impl Default for PingConfig {
    fn default() -> Self {
        Self { max_sockets: 1024, id_range: ALL_IDS, rmem_default: 212_992, rmem_max: 212_992 }
    }
}

/// Counters of the echo sockets of one IP version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PingCounters {
    /// Echo Requests sent.
    pub out_echo_requests: u64,
    /// Echo Replies queued on a socket.
    pub in_echo_replies: u64,
    /// Echo Replies no socket wanted.
    pub no_socket: u64,
    /// Echo Replies dropped because the socket's receive queue was full.
    pub rcvbuf_errors: u64,
    /// Echo Requests not sent for lack of buffer space below.
    pub sndbuf_errors: u64,
}

/// An echo socket of IP version `I`; ids of closed sockets are refused (EBADF).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PingSocketId<I: Ip> {
    index: u32,
    generation: u32,
    _ip: PhantomData<I>,
}

/// What echo sockets need from the stack for IP version `I`.
pub trait PingContext<I: Ip> {
    /// The route to `dst`, from `src` if given, out of `device` if given.
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<I>, SocketError>;

    /// Whether `addr` is assigned to this host (on `device`, if given).
    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool;

    /// Sends `message` (an ICMP Echo Request, header and checksum written around its data)
    /// as described by `meta`.
    fn send_echo_request<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<I>,
        message: S,
    ) -> Result<(), SocketError>;

    /// Socket `socket`'s readiness changed.
    fn socket_event(&mut self, socket: PingSocketId<I>, event: SocketEvent);
}

/// An Echo Reply taken from a socket's receive queue.
#[derive(Debug)]
pub struct PingDatagram<I: Ip, B> {
    /// Who replied.
    pub peer_addr: I::Addr,
    /// The reply's destination address.
    pub local_addr: I::Addr,
    /// The device it arrived on.
    pub device: DeviceId,
    /// The TTL or Hop Limit of the reply's IP header (IP_RECVTTL, IPV6_RECVHOPLIMIT).
    pub hop_limit: u8,
    /// The TOS or Traffic Class octet of the reply's IP header (IP_RECVTOS, IPV6_RECVTCLASS).
    pub tos: u8,
    /// The buffer it arrived in; its body is the whole ICMP message, header included.
    pub message: Buf<B>,
}

/// An Echo Reply the ICMP layer parsed and checked, for [`PingSockets::deliver_echo_reply`].
#[derive(Debug)]
pub struct ReceivedEchoReply<I: Ip, B> {
    /// The device it arrived on.
    pub device: DeviceId,
    /// Its source address.
    pub src: I::Addr,
    /// Its destination address.
    pub dst: I::Addr,
    /// Its identifier.
    pub id: u16,
    /// The TTL or Hop Limit of its IP header.
    pub hop_limit: u8,
    /// The TOS or Traffic Class octet of its IP header.
    pub tos: u8,
    /// The buffer whose body is the whole ICMP message.
    pub message: Buf<B>,
}

/// The Echo Request an ICMP error quotes: its addresses and identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedEchoRequest<I: Ip> {
    /// Its source address (one of ours).
    pub src: I::Addr,
    /// Its destination address.
    pub dst: I::Addr,
    /// Its identifier.
    pub id: u16,
}

#[derive(Debug)]
struct PingSocket<I: Ip, B> {
    local_addr: Option<SpecifiedAddr<I::Addr>>,
    id: Option<NonZeroU16>,
    remote: Option<SpecifiedAddr<I::Addr>>,
    sharing: Sharing,
    broadcast: bool,
    device: Option<DeviceId>,
    hop_limit: Option<u8>,
    rcvbuf: usize,
    queue: RecvQueue<PingDatagram<I, B>>,
    error: Option<SocketError>,
}

/// The echo sockets of one IP version; see the [module documentation](self).
#[derive(Debug)]
pub struct PingSockets<I: Ip, B> {
    config: PingConfig,
    slots: Slots<PingSocket<I, B>>,
    open: usize,
    map: SocketMap<I, NonZeroU16, PingSocketId<I>>,
    ids: EphemeralPorts,
    counters: PingCounters,
}

impl<I: PingIpExt, B> PingSockets<I, B> {
    /// No sockets; `rng` keys the identifier allocator.
    pub fn new(rng: &mut impl RngContext, config: PingConfig) -> Self {
        Self {
            config,
            slots: Slots::new(),
            open: 0,
            map: SocketMap::new(ConflictScope::Port, random_key(rng)),
            ids: EphemeralPorts::new(rng, config.id_range, super::ports::DEFAULT_TABLE_LEN),
            counters: PingCounters::default(),
        }
    }

    /// The counters.
    pub fn counters(&self) -> &PingCounters {
        &self.counters
    }

    /// The identifier allocator (for its exhaustion counter).
    pub fn ids(&self) -> &EphemeralPorts {
        &self.ids
    }

    fn socket(&self, id: PingSocketId<I>) -> Result<&PingSocket<I, B>, SocketError> {
        self.slots.get(id.index, id.generation).ok_or(SocketError::BadSocket)
    }

    fn socket_mut(&mut self, id: PingSocketId<I>) -> Result<&mut PingSocket<I, B>, SocketError> {
        self.slots.get_mut(id.index, id.generation).ok_or(SocketError::BadSocket)
    }

    /// Every socket, in slot order: what `ss -wa` lists for ping sockets (see
    /// [`inspect`](super::inspect)); the local port is the echo identifier. O(sockets).
    pub fn summaries(&self) -> impl Iterator<Item = SocketSummary> + '_
    where
        AnySocketId: From<PingSocketId<I>>,
    {
        self.slots.iter_with_ids().map(|(index, generation, socket)| SocketSummary {
            id: PingSocketId::<I> { index, generation, _ip: PhantomData }.into(),
            slot: index,
            protocol: SocketProtocol::Icmp,
            version: I::VERSION,
            state: None,
            local_addr: socket.local_addr.map(|a| a.to_ip_addr()),
            local_port: socket.id.map_or(0, NonZeroU16::get),
            remote: socket.remote.map(|a| (a.to_ip_addr(), 0)),
            recv_queue: socket.queue.bytes(),
            send_queue: 0,
            tcp_info: None,
            orphaned: false,
        })
    }

    /// Opens a socket. ENFILE when the table is full.
    pub fn create(&mut self) -> Result<PingSocketId<I>, SocketError> {
        if self.open >= self.config.max_sockets {
            return Err(SocketError::TooManySockets);
        }
        let socket = PingSocket {
            local_addr: None,
            id: None,
            remote: None,
            sharing: Sharing::default(),
            broadcast: false,
            device: None,
            hop_limit: None,
            rcvbuf: self.config.rmem_default,
            queue: RecvQueue::new(),
            error: None,
        };
        let (index, generation) = self.slots.insert(socket).ok_or(SocketError::TooManySockets)?;
        self.open += 1;
        Ok(PingSocketId { index, generation, _ip: PhantomData })
    }

    fn local(socket: &PingSocket<I, B>, id: NonZeroU16) -> LocalEndpoint<I, NonZeroU16> {
        LocalEndpoint { addr: socket.local_addr, port: id, device: socket.device }
    }

    fn rehash(
        &mut self,
        id: PingSocketId<I>,
        update: impl FnOnce(&mut PingSocket<I, B>),
    ) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        let old = socket.id;
        update(socket);
        let socket = self.socket(id)?;
        let (local, remote, sharing) = (
            socket.id.map(|echo_id| Self::local(socket, echo_id)),
            socket.remote.map(|addr| RemoteEndpoint { addr, port: None }),
            socket.sharing,
        );
        if let Some(old) = old {
            self.map.remove(id, old);
        }
        if let Some(local) = local {
            self.map.insert_unchecked(id, local, remote, sharing, EntryKind::Native);
        }
        Ok(())
    }

    /// Allocates a free identifier for socket `id` at `local_addr` talking to `remote`.
    fn allocate_id(
        &mut self,
        id: PingSocketId<I>,
        local_addr: Option<SpecifiedAddr<I::Addr>>,
        remote: Option<SpecifiedAddr<I::Addr>>,
    ) -> Result<NonZeroU16, SocketError> {
        let socket = self.slots.get(id.index, id.generation).ok_or(SocketError::BadSocket)?;
        let local = local_addr.map_or(I::UNSPECIFIED_ADDRESS, |a| *a);
        let remote = remote.map_or(I::UNSPECIFIED_ADDRESS, |a| *a);
        let map = &self.map;
        self.ids
            .select(local, remote, 0, |port| {
                let endpoint = LocalEndpoint { addr: local_addr, port, device: socket.device };
                map.conflict(&endpoint, &socket.sharing, Some(id)).is_none()
            })
            .ok_or(SocketError::AddrInUse)
    }

    /// `bind`: `addr` `None` for the wildcard, `echo_id` `None` to allocate one. EINVAL if
    /// already bound or for an IPv4-mapped address.
    pub fn bind<C: PingContext<I>>(
        &mut self,
        ctx: &mut C,
        id: PingSocketId<I>,
        addr: Option<SpecifiedAddr<I::Addr>>,
        echo_id: Option<NonZeroU16>,
    ) -> Result<(), SocketError> {
        let socket = self.socket(id)?;
        if socket.id.is_some() || addr.is_some_and(|a| I::mapped_v4(*a).is_some()) {
            return Err(SocketError::InvalidArgument);
        }
        if addr.is_some_and(|a| !a.is_multicast() && !ctx.is_local_addr(a, socket.device)) {
            return Err(SocketError::AddrNotAvailable);
        }
        let echo_id = match echo_id {
            Some(echo_id) => {
                let local = LocalEndpoint { addr, port: echo_id, device: socket.device };
                if self.map.conflict(&local, &socket.sharing, Some(id)).is_some() {
                    return Err(SocketError::AddrInUse);
                }
                echo_id
            }
            None => self.allocate_id(id, addr, None)?,
        };
        self.rehash(id, |s| {
            s.local_addr = addr;
            s.id = Some(echo_id);
        })
    }

    /// `connect`: replies from other hosts are no longer received; fixes the local address
    /// to the route's source and allocates an identifier if unbound (EAGAIN if none is free).
    pub fn connect<C: PingContext<I>>(
        &mut self,
        ctx: &mut C,
        id: PingSocketId<I>,
        addr: SpecifiedAddr<I::Addr>,
    ) -> Result<(), SocketError> {
        let socket = self.socket(id)?;
        if I::mapped_v4(*addr).is_some() {
            return Err(SocketError::InvalidArgument);
        }
        let route = ctx.route(addr, socket.local_addr, socket.device)?;
        if (route.broadcast || I::is_limited_broadcast(*addr)) && !socket.broadcast {
            return Err(SocketError::PermissionDenied);
        }
        let local_addr = socket.local_addr.unwrap_or(route.src);
        let echo_id = match socket.id {
            Some(echo_id) => echo_id,
            None => {
                self.allocate_id(id, socket.local_addr, Some(addr)).map_err(|_| SocketError::WouldBlock)?
            }
        };
        self.rehash(id, |s| {
            s.local_addr = Some(local_addr);
            s.id = Some(echo_id);
            s.remote = Some(addr);
        })
    }

    /// `connect` with `AF_UNSPEC`: forgets the remote.
    pub fn disconnect(&mut self, id: PingSocketId<I>) -> Result<(), SocketError> {
        self.rehash(id, |s| s.remote = None)
    }

    /// The local address and identifier (getsockname).
    pub fn local_addr(&self, id: PingSocketId<I>) -> Result<LocalName<I>, SocketError> {
        let socket = self.socket(id)?;
        Ok((socket.local_addr, socket.id))
    }

    /// SO_REUSEADDR.
    pub fn set_reuse_addr(&mut self, id: PingSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.rehash(id, |s| s.sharing.reuse_addr = on)
    }

    /// SO_BROADCAST.
    pub fn set_broadcast(&mut self, id: PingSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.socket_mut(id)?.broadcast = on;
        Ok(())
    }

    /// SO_BINDTODEVICE (`None` to unbind).
    pub fn set_device(&mut self, id: PingSocketId<I>, device: Option<DeviceId>) -> Result<(), SocketError> {
        self.rehash(id, |s| s.device = device)
    }

    /// IP_TTL / IPV6_UNICAST_HOPS; `None` for the stack's default.
    pub fn set_hop_limit(&mut self, id: PingSocketId<I>, hops: Option<u8>) -> Result<(), SocketError> {
        if hops.is_some_and(|h| h < I::MIN_HOP_LIMIT) {
            return Err(SocketError::InvalidArgument);
        }
        self.socket_mut(id)?.hop_limit = hops;
        Ok(())
    }

    /// SO_RCVBUF, with Linux's doubling (see [`udp`](super::udp)).
    pub fn set_rcvbuf(&mut self, id: PingSocketId<I>, bytes: usize) -> Result<(), SocketError> {
        let max = self.config.rmem_max;
        self.socket_mut(id)?.rcvbuf = doubled_buffer_size(bytes, max, MIN_RCVBUF);
        Ok(())
    }

    /// Takes the pending error (SO_ERROR).
    pub fn take_error(&mut self, id: PingSocketId<I>) -> Result<Option<SocketError>, SocketError> {
        Ok(self.socket_mut(id)?.error.take())
    }

    /// `sendto`: sends the user's ICMP `message` (an Echo Request, header included) to
    /// `dst`, or to the connected remote if `dst` is `None`, with the socket's identifier.
    pub fn send_to<C: PingContext<I>>(
        &mut self,
        ctx: &mut C,
        id: PingSocketId<I>,
        dst: Option<SpecifiedAddr<I::Addr>>,
        message: &[u8],
    ) -> Result<(), SocketError> {
        let socket = self.socket_mut(id)?;
        if let Some(error) = socket.error.take() {
            return Err(error);
        }
        let dst = dst.or(socket.remote).ok_or(SocketError::DestAddrRequired)?;
        if message.len() < HEADER_LEN || message[0] != I::ECHO_REQUEST || message[1] != 0 {
            return Err(SocketError::InvalidArgument);
        }
        if message.len() > usize::from(u16::MAX) {
            return Err(SocketError::MessageTooLong);
        }
        if I::mapped_v4(*dst).is_some() {
            return Err(SocketError::InvalidArgument);
        }
        let echo_id = match socket.id {
            Some(echo_id) => echo_id,
            None => {
                let local_addr = socket.local_addr;
                let echo_id =
                    self.allocate_id(id, local_addr, Some(dst)).map_err(|_| SocketError::WouldBlock)?;
                self.rehash(id, |s| s.id = Some(echo_id))?;
                echo_id
            }
        };
        let socket = self.socket(id)?;
        let route = ctx.route(dst, socket.local_addr, socket.device)?;
        let broadcast = route.broadcast || I::is_limited_broadcast(*dst);
        if broadcast && !socket.broadcast {
            return Err(SocketError::PermissionDenied);
        }
        let meta = IpSendMeta {
            src: route.src,
            dst,
            device: route.device,
            hop_limit: socket.hop_limit,
            multicast_loop: true,
            broadcast,
        };
        let request = EchoRequest { id: echo_id.get(), seq: u16::from_be_bytes([message[6], message[7]]) };
        let builder = IcmpBuilder::<I, _>::new(I::pseudo_header(*route.src, *dst), request);
        let result = ctx.send_echo_request(&meta, (&message[HEADER_LEN..]).encapsulate(builder));
        count_send(result, &mut self.counters.out_echo_requests, &mut self.counters.sndbuf_errors)
    }

    /// `recvfrom`: the oldest queued Echo Reply, after any pending error; EAGAIN if none.
    pub fn recv_from(&mut self, id: PingSocketId<I>) -> Result<PingDatagram<I, B>, SocketError> {
        let socket = self.socket_mut(id)?;
        if let Some(error) = socket.error.take() {
            return Err(error);
        }
        let datagram = socket.queue.pop().ok_or(SocketError::WouldBlock)?;
        Ok(datagram)
    }

    /// Delivers an Echo Reply to the socket holding its identifier; hands the buffer back if
    /// no socket wants it or its queue is full (both counted).
    pub fn deliver_echo_reply<C: PingContext<I>>(
        &mut self,
        ctx: &mut C,
        reply: ReceivedEchoReply<I, B>,
    ) -> Result<(), Buf<B>>
    where
        B: AsRef<[u8]>,
    {
        let ReceivedEchoReply { device, src, dst, id: echo_id, hop_limit, tos, message } = reply;
        let target = NonZeroU16::new(echo_id).and_then(|local_port| {
            let flow = Flow { local_addr: dst, local_port, remote_addr: src, remote_port: None, device };
            self.map.lookup_unicast(&flow)
        });
        let Some((id, socket)) =
            target.and_then(|id| Some((id, self.slots.get_mut(id.index, id.generation)?)))
        else {
            self.counters.no_socket += 1;
            return Err(message);
        };
        let cost = message.capacity();
        let datagram = PingDatagram { peer_addr: src, local_addr: dst, device, hop_limit, tos, message };
        match socket.queue.push(datagram, cost, socket.rcvbuf) {
            Ok(first) => {
                self.counters.in_echo_replies += 1;
                if first {
                    ctx.socket_event(id, SocketEvent::Readable);
                }
                Ok(())
            }
            Err(datagram) => {
                self.counters.rcvbuf_errors += 1;
                Err(datagram.message)
            }
        }
    }

    /// Delivers an ICMP error (`report`) that arrived on `device` quoting one of our Echo
    /// Requests; returns whether a socket took it (a connected one, for a hard error).
    pub fn deliver_icmp_error<C: PingContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        quoted: QuotedEchoRequest<I>,
        report: IcmpErrorReport,
    ) -> bool {
        let hard = report.hard && (I::TOO_BIG_IS_HARD || report.error != SocketError::MessageTooLong);
        let Some(local_port) = NonZeroU16::new(quoted.id) else { return false };
        let flow =
            Flow { local_addr: quoted.src, local_port, remote_addr: quoted.dst, remote_port: None, device };
        let Some(id) = self.map.lookup_unicast(&flow) else { return false };
        let Some(socket) = self.slots.get_mut(id.index, id.generation) else { return false };
        if !hard || socket.remote.is_none() {
            return false;
        }
        socket.error = Some(report.error);
        ctx.socket_event(id, SocketEvent::Error);
        true
    }

    /// `close`: releases the identifier and drops the queue.
    pub fn close(&mut self, id: PingSocketId<I>) -> Result<(), SocketError> {
        let socket = self.slots.remove(id.index, id.generation).ok_or(SocketError::BadSocket)?;
        if let Some(echo_id) = socket.id {
            self.map.remove(id, echo_id);
        }
        self.open -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::ParsablePacket;
    use crate::testutil::fake::FakeRng;
    use crate::transport::test_addrs::{s, v4, v6, DEV};
    use crate::wire::icmp::v4::{Icmpv4DestUnreachableCode, Icmpv4Message};
    use crate::wire::icmp::v6::Icmpv6Message;
    use crate::wire::icmp::{Icmpv4Packet, Icmpv6Packet};
    use alloc::vec;
    use alloc::vec::Vec;

    /// Host 192.0.2.1 / 2001:db8::1 on device 1; 192.0.2.255 is the subnet broadcast.
    #[derive(Default)]
    struct Ctx {
        sent4: Vec<(IpSendMeta<Ipv4>, Vec<u8>)>,
        sent6: Vec<(IpSendMeta<Ipv6>, Vec<u8>)>,
        events: Vec<SocketEvent>,
    }

    impl PingContext<Ipv4> for Ctx {
        fn route(
            &mut self,
            dst: SpecifiedAddr<Ipv4Addr>,
            src: Option<SpecifiedAddr<Ipv4Addr>>,
            _: Option<DeviceId>,
        ) -> Result<Route<Ipv4>, SocketError> {
            Ok(Route { src: src.unwrap_or(s(v4(1))), device: DEV, broadcast: *dst == v4(255) })
        }

        fn is_local_addr(&self, addr: SpecifiedAddr<Ipv4Addr>, _: Option<DeviceId>) -> bool {
            *addr == v4(1)
        }

        fn send_echo_request<S: Serializer>(
            &mut self,
            meta: &IpSendMeta<Ipv4>,
            m: S,
        ) -> Result<(), SocketError> {
            self.sent4.push((*meta, m.serialize_vec().unwrap().body().to_vec()));
            Ok(())
        }

        fn socket_event(&mut self, _: PingSocketId<Ipv4>, event: SocketEvent) {
            self.events.push(event);
        }
    }

    impl PingContext<Ipv6> for Ctx {
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

        fn send_echo_request<S: Serializer>(
            &mut self,
            meta: &IpSendMeta<Ipv6>,
            m: S,
        ) -> Result<(), SocketError> {
            self.sent6.push((*meta, m.serialize_vec().unwrap().body().to_vec()));
            Ok(())
        }

        fn socket_event(&mut self, _: PingSocketId<Ipv6>, event: SocketEvent) {
            self.events.push(event);
        }
    }

    fn sockets<I: PingIpExt>() -> PingSockets<I, Vec<u8>> {
        PingSockets::new(&mut FakeRng::new(3), PingConfig::default())
    }

    /// What `ping` writes: type, code, checksum (left to the kernel), id, sequence, data.
    fn user_request(echo_type: u8, id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
        let mut m = vec![echo_type, 0, 0, 0];
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(data);
        m
    }

    fn reply<I: Ip>(src: I::Addr, dst: I::Addr, id: u16, len: usize) -> ReceivedEchoReply<I, Vec<u8>> {
        let mut message = vec![0u8; len];
        message[4..6].copy_from_slice(&id.to_be_bytes());
        ReceivedEchoReply {
            device: DEV,
            src,
            dst,
            id,
            hop_limit: 57,
            tos: 0x10,
            message: Buf::from_body(message),
        }
    }

    #[test]
    fn unbound_sockets_get_distinct_nonzero_identifiers() {
        let (mut pings, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let mut ids = vec![];
        for _ in 0..50 {
            let id = pings.create().unwrap();
            pings.bind(&mut ctx, id, None, None).unwrap();
            ids.push(pings.local_addr(id).unwrap().1.unwrap());
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 50);
    }

    #[test]
    fn identifiers_conflict_whatever_the_address_like_ping_get_port() {
        let (mut pings, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let echo_id = NonZeroU16::new(7);
        let a = pings.create().unwrap();
        pings.bind(&mut ctx, a, Some(s(v4(1))), echo_id).unwrap();
        let b = pings.create().unwrap();
        assert_eq!(pings.bind(&mut ctx, b, None, echo_id), Err(SocketError::AddrInUse));
        assert_eq!(pings.bind(&mut ctx, b, Some(s(v4(9))), None), Err(SocketError::AddrNotAvailable));
        pings.set_reuse_addr(a, true).unwrap();
        pings.set_reuse_addr(b, true).unwrap();
        pings.bind(&mut ctx, b, None, echo_id).unwrap();
        assert_eq!(pings.bind(&mut ctx, b, None, echo_id), Err(SocketError::InvalidArgument));
        pings.close(a).unwrap();
        pings.close(b).unwrap();
        let c = pings.create().unwrap();
        pings.bind(&mut ctx, c, None, echo_id).unwrap();
        assert_eq!(pings.close(a), Err(SocketError::BadSocket));
    }

    #[test]
    fn send_overwrites_the_identifier_and_keeps_sequence_and_data() {
        let (mut pings, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = pings.create().unwrap();
        pings.send_to(&mut ctx, id, Some(s(v4(9))), &user_request(8, 0xdead, 3, b"abc")).unwrap();
        let echo_id = pings.local_addr(id).unwrap().1.unwrap().get();
        let (meta, bytes) = &ctx.sent4[0];
        assert_eq!((*meta.src, *meta.dst), (v4(1), v4(9)));
        let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        match packet.message().unwrap() {
            Icmpv4Message::EchoRequest { message: request, data } => {
                assert_eq!((request.id, request.seq, data), (echo_id, 3, &b"abc"[..]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pings.counters().out_echo_requests, 1);
    }

    #[test]
    fn icmpv6_requests_carry_a_checksum_over_the_pseudo_header() {
        let (mut pings, mut ctx) = (sockets::<Ipv6>(), Ctx::default());
        let id = pings.create().unwrap();
        pings.connect(&mut ctx, id, s(v6(9))).unwrap();
        pings.send_to(&mut ctx, id, None, &user_request(128, 1, 9, b"xy")).unwrap();
        let ph = Icmpv6PseudoHeader { src: v6(1), dst: v6(9) };
        let packet = Icmpv6Packet::parse_bytes(&ctx.sent6[0].1[..], ph).unwrap();
        assert!(
            matches!(packet.message().unwrap(), Icmpv6Message::EchoRequest { message: r, data: b"xy" } if r.seq == 9)
        );
    }

    #[test]
    fn only_echo_requests_are_sent() {
        let (mut pings, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = pings.create().unwrap();
        let to = Some(s(v4(9)));
        assert_eq!(
            pings.send_to(&mut ctx, id, to, &user_request(0, 1, 1, b"")),
            Err(SocketError::InvalidArgument)
        );
        assert_eq!(pings.send_to(&mut ctx, id, to, &[8, 0, 0]), Err(SocketError::InvalidArgument));
        let request = user_request(8, 1, 1, b"");
        assert_eq!(pings.send_to(&mut ctx, id, None, &request), Err(SocketError::DestAddrRequired));
        assert_eq!(
            pings.send_to(&mut ctx, id, Some(s(v4(255))), &request),
            Err(SocketError::PermissionDenied)
        );
        pings.set_broadcast(id, true).unwrap();
        pings.send_to(&mut ctx, id, Some(s(v4(255))), &request).unwrap();
        assert!(ctx.sent4[0].0.broadcast);
    }

    #[test]
    fn replies_are_matched_by_identifier_and_connected_remote() {
        let (mut pings, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = pings.create().unwrap();
        pings.bind(&mut ctx, id, None, NonZeroU16::new(77)).unwrap();
        assert!(pings.deliver_echo_reply(&mut ctx, reply(v4(9), v4(1), 78, 16)).is_err());
        pings.deliver_echo_reply(&mut ctx, reply(v4(9), v4(1), 77, 16)).unwrap();
        let got = pings.recv_from(id).unwrap();
        assert_eq!((got.peer_addr, got.local_addr, got.message.len()), (v4(9), v4(1), 16));
        assert_eq!((got.hop_limit, got.tos), (57, 0x10), "the reply's own IP header, for IP_RECVTTL");
        assert_eq!(ctx.events, vec![SocketEvent::Readable]);
        pings.connect(&mut ctx, id, s(v4(9))).unwrap();
        assert!(pings.deliver_echo_reply(&mut ctx, reply(v4(8), v4(1), 77, 16)).is_err());
        pings.deliver_echo_reply(&mut ctx, reply(v4(9), v4(1), 77, 16)).unwrap();
        let c = pings.counters();
        assert_eq!((c.in_echo_replies, c.no_socket), (2, 2));
        pings.disconnect(id).unwrap();
        pings.deliver_echo_reply(&mut ctx, reply(v4(8), v4(1), 77, 16)).unwrap();
    }

    #[test]
    fn the_reply_queue_is_bounded_by_so_rcvbuf() {
        let (mut pings, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = pings.create().unwrap();
        pings.bind(&mut ctx, id, None, NonZeroU16::new(5)).unwrap();
        pings.set_rcvbuf(id, 0).unwrap();
        let accepted =
            (0..10).filter(|_| pings.deliver_echo_reply(&mut ctx, reply(v4(9), v4(1), 5, 1000)).is_ok());
        assert_eq!(accepted.count(), 2);
        assert_eq!(pings.counters().rcvbuf_errors, 8);
        assert!(pings.recv_from(id).is_ok());
        assert!(pings.deliver_echo_reply(&mut ctx, reply(v4(9), v4(1), 5, 1000)).is_ok());
    }

    #[test]
    fn icmp_errors_about_our_requests_reach_connected_sockets() {
        let (mut pings, mut ctx) = (sockets::<Ipv4>(), Ctx::default());
        let id = pings.create().unwrap();
        pings.connect(&mut ctx, id, s(v4(9))).unwrap();
        let echo_id = pings.local_addr(id).unwrap().1.unwrap().get();
        let quoted = QuotedEchoRequest { src: v4(1), dst: v4(9), id: echo_id };
        let too_big =
            IcmpErrorReport::v4_dest_unreachable(Icmpv4DestUnreachableCode::FragmentationNeeded, Some(1400));
        assert!(!pings.deliver_icmp_error(&mut ctx, DEV, quoted, too_big));
        let prohibited =
            IcmpErrorReport::v4_dest_unreachable(Icmpv4DestUnreachableCode::HostProhibited, None);
        assert!(pings.deliver_icmp_error(&mut ctx, DEV, quoted, prohibited));
        assert_eq!(pings.recv_from(id).err(), Some(SocketError::HostUnreachable));
        assert_eq!(pings.take_error(id), Ok(None));
        assert!(pings.deliver_icmp_error(&mut ctx, DEV, quoted, prohibited));
        assert_eq!(pings.take_error(id), Ok(Some(SocketError::HostUnreachable)));
    }
}
