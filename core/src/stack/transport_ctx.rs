//! The context the transport layer (UDP, ping and raw sockets) runs in inside the stack: routes,
//! source addresses, local addresses and sending through the IP layer, multicast filters, and
//! readiness events.

use super::ipv4::Ipv4Queries;
use super::{IpLayer, IpMtu, SendError, StackContext, StackEvent, DEFAULT_TTL};
use crate::addr::{Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, MulticastAddr, SpecifiedAddr};
use crate::buf::Serializer;
use crate::device::DeviceId;
use crate::ip::receive::{AddressMatch, ReceiveQueries};
use crate::ip::source::select_ipv4_source;
use crate::time::Instant;
use crate::transport::ping::{PingContext, PingSocketId};
use crate::transport::raw::{RawContext, RawSocketId};
use crate::transport::udp::{UdpIpContext, UdpSocketId};
use crate::transport::{IpSendMeta, Route, SocketError, SocketEvent};
use crate::wire::ipv4::HEADER_LEN as IPV4_HEADER_LEN;
use crate::wire::ipv6::FIXED_HEADER_LEN as IPV6_HEADER_LEN;
use crate::wire::IpProto;

/// The transport layer's view of the stack for one call.
pub struct TransportCtx<'a, C, F> {
    pub(super) ctx: &'a mut C,
    pub(super) ip: &'a mut IpLayer<F>,
}

impl<C, F> core::fmt::Debug for TransportCtx<'_, C, F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TransportCtx")
    }
}

impl<'a, C, F> TransportCtx<'a, C, F> {
    pub(super) fn new(ctx: &'a mut C, ip: &'a mut IpLayer<F>) -> Self {
        Self { ctx, ip }
    }
}

impl<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> TransportCtx<'_, C, F> {
    /// Whether a `len`-byte transport datagram in an IP packet with a `header_len`-byte
    /// header leaves as `meta` says with its checksum left to the device: only out of an
    /// Ethernet device with TX checksum offload, and only as one unicast packet to another
    /// host, the device seeing the whole datagram and nothing looping it back to this host
    /// (`local`) unchecked. Fragments and copies looped back carry software checksums.
    fn checksum_offloaded<I: IpMtu>(
        &self,
        meta: &IpSendMeta<I>,
        local: bool,
        header_len: usize,
        len: usize,
    ) -> bool {
        let Some(device) = self.ip.device(meta.device) else { return false };
        let offload = device.link.ethernet().is_some_and(|eth| eth.config().tx_checksum_offload);
        offload
            && !local
            && !meta.broadcast
            && !meta.dst.is_multicast()
            // Against any path MTU learned for `dst`, expired or not (at time zero nothing
            // has expired): no clock read on the send path, and a stale smaller MTU only
            // costs a software checksum.
            && header_len + len <= self.ip.path_mtu::<I>(Instant::ZERO, device, *meta.dst) as usize
    }
}

/// What sending for a socket differs in between the IP versions.
trait SocketSend<I: Ip> {
    /// The protocol of ICMP echo messages (ICMP or ICMPv6).
    const ICMP: IpProto;

    /// Sends a socket's `body` as `proto` as `meta` describes, with the socket's hop limit
    /// or the default (the stack's TTL, or the device's CurHopLimit).
    fn send_socket<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<I>,
        proto: IpProto,
        body: S,
    ) -> Result<(), SocketError>;

    /// The event reporting a ping socket's readiness.
    fn ping_event(socket: PingSocketId<I>, event: SocketEvent) -> StackEvent;

    /// The event reporting a raw socket's readiness.
    fn raw_event(socket: RawSocketId<I>, event: SocketEvent) -> StackEvent;
}

impl<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> SocketSend<Ipv4> for TransportCtx<'_, C, F> {
    const ICMP: IpProto = IpProto::ICMP;

    fn send_socket<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<Ipv4>,
        proto: IpProto,
        body: S,
    ) -> Result<(), SocketError> {
        let ttl = meta.hop_limit.unwrap_or(DEFAULT_TTL);
        // Out of the device the route chose, which SO_BINDTODEVICE restricted.
        let (src, dst, device) = (*meta.src, *meta.dst, Some(meta.device));
        self.ip.send_ipv4(self.ctx, Some(src), dst, device, proto, ttl, body)?;
        Ok(())
    }

    fn ping_event(socket: PingSocketId<Ipv4>, event: SocketEvent) -> StackEvent {
        StackEvent::PingV4 { socket, event }
    }

    fn raw_event(socket: RawSocketId<Ipv4>, event: SocketEvent) -> StackEvent {
        StackEvent::RawV4 { socket, event }
    }
}

impl<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> SocketSend<Ipv6> for TransportCtx<'_, C, F> {
    const ICMP: IpProto = IpProto::ICMPV6;

    fn send_socket<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<Ipv6>,
        proto: IpProto,
        body: S,
    ) -> Result<(), SocketError> {
        let (src, dst, device) = (*meta.src, *meta.dst, Some(meta.device));
        self.ip.send_ipv6(self.ctx, Some(src), dst, device, proto, meta.hop_limit, body)?;
        Ok(())
    }

    fn ping_event(socket: PingSocketId<Ipv6>, event: SocketEvent) -> StackEvent {
        StackEvent::PingV6 { socket, event }
    }

    fn raw_event(socket: RawSocketId<Ipv6>, event: SocketEvent) -> StackEvent {
        StackEvent::RawV6 { socket, event }
    }
}

impl From<SendError> for SocketError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::NoRoute(_) => SocketError::NetworkUnreachable,
            SendError::NoSourceAddress(_) => SocketError::AddrNotAvailable,
            SendError::TooBig { .. } => SocketError::MessageTooLong,
            SendError::NoBuffer => SocketError::NoBufferSpace,
        }
    }
}

impl<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> UdpIpContext<Ipv4> for TransportCtx<'_, C, F> {
    fn route(
        &mut self,
        dst: SpecifiedAddr<Ipv4Addr>,
        src: Option<SpecifiedAddr<Ipv4Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<Ipv4>, SocketError> {
        let destination = self.ip.routes4.lookup(dst, device).ok_or(SocketError::NetworkUnreachable)?;
        let queries = Ipv4Queries { devices: &self.ip.devices, igmp: &self.ip.igmp };
        let src = match src {
            Some(src) if queries.address_match(*src) == AddressMatch::Assigned => src,
            Some(_) => return Err(SocketError::AddrNotAvailable),
            None => select_ipv4_source(&self.ip.sources4, destination.device, *destination.next_hop.addr())
                .and_then(|c| SpecifiedAddr::new(c.addr.addr().into_addr()))
                .ok_or(SocketError::AddrNotAvailable)?,
        };
        let broadcast = queries.is_broadcast_on(destination.device, *dst);
        Ok(Route { src, device: destination.device, broadcast })
    }

    fn is_local_addr(&self, addr: SpecifiedAddr<Ipv4Addr>, device: Option<DeviceId>) -> bool {
        let queries = Ipv4Queries { devices: &self.ip.devices, igmp: &self.ip.igmp };
        let broadcast = match device {
            Some(device) => queries.is_broadcast_on(device, *addr),
            None => self.ip.devices.iter().any(|d| queries.is_broadcast_on(d.id, *addr)),
        };
        queries.address_match(*addr) == AddressMatch::Assigned || broadcast
    }

    fn send_datagram<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<Ipv4>,
        datagram: S,
    ) -> Result<(), SocketError> {
        self.send_socket(meta, IpProto::UDP, datagram)
    }

    fn tx_checksum_offload(&self, meta: &IpSendMeta<Ipv4>, len: usize) -> bool {
        let queries = Ipv4Queries { devices: &self.ip.devices, igmp: &self.ip.igmp };
        let local = queries.address_match(*meta.dst) == AddressMatch::Assigned;
        self.checksum_offloaded(meta, local, IPV4_HEADER_LEN, len)
    }

    fn join_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv4Addr>) {
        self.ip.join_group(self.ctx, device, group);
    }

    fn leave_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv4Addr>) {
        self.ip.leave_group(self.ctx, device, group);
    }

    fn socket_event(&mut self, socket: UdpSocketId<Ipv4>, event: SocketEvent) {
        self.ctx.on_event(StackEvent::UdpV4 { socket, event });
    }
}

impl<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> UdpIpContext<Ipv6> for TransportCtx<'_, C, F> {
    fn route(
        &mut self,
        dst: SpecifiedAddr<Ipv6Addr>,
        src: Option<SpecifiedAddr<Ipv6Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<Ipv6>, SocketError> {
        let (out, _) = self.ip.v6.first_hop(*dst, device).ok_or(SocketError::NetworkUnreachable)?;
        let src = match src {
            Some(src) if self.ip.v6.address_match(*src) == AddressMatch::Assigned => src,
            Some(_) => return Err(SocketError::AddrNotAvailable),
            None => self
                .ip
                .v6
                .select_source(*dst, out)
                .and_then(SpecifiedAddr::new)
                .ok_or(SocketError::AddrNotAvailable)?,
        };
        Ok(Route { src, device: out, broadcast: false })
    }

    fn is_local_addr(&self, addr: SpecifiedAddr<Ipv6Addr>, device: Option<DeviceId>) -> bool {
        self.ip.v6.is_assigned(*addr, device)
    }

    fn send_datagram<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<Ipv6>,
        datagram: S,
    ) -> Result<(), SocketError> {
        self.send_socket(meta, IpProto::UDP, datagram)
    }

    fn tx_checksum_offload(&self, meta: &IpSendMeta<Ipv6>, len: usize) -> bool {
        let local = self.ip.v6.address_match(*meta.dst) == AddressMatch::Assigned;
        self.checksum_offloaded(meta, local, IPV6_HEADER_LEN, len)
    }

    fn join_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
        self.ip.with_mld(self.ctx, |mld, gmp_ctx| {
            // A refused join (table full) is counted by the group membership module.
            let _ = mld.join(gmp_ctx, device, group);
        });
    }

    fn leave_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
        self.ip.with_mld(self.ctx, |mld, gmp_ctx| {
            let _ = mld.leave(gmp_ctx, device, group);
        });
    }

    fn socket_event(&mut self, socket: UdpSocketId<Ipv6>, event: SocketEvent) {
        self.ctx.on_event(StackEvent::UdpV6 { socket, event });
    }
}

/// Ping sockets route, check local addresses and send exactly as UDP sockets do.
impl<I: Ip, C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> PingContext<I>
    for TransportCtx<'_, C, F>
where
    Self: UdpIpContext<I> + SocketSend<I>,
{
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<I>, SocketError> {
        UdpIpContext::<I>::route(self, dst, src, device)
    }

    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool {
        UdpIpContext::<I>::is_local_addr(self, addr, device)
    }

    fn send_echo_request<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<I>,
        message: S,
    ) -> Result<(), SocketError> {
        self.send_socket(meta, <Self as SocketSend<I>>::ICMP, message)
    }

    fn socket_event(&mut self, socket: PingSocketId<I>, event: SocketEvent) {
        self.ctx.on_event(<Self as SocketSend<I>>::ping_event(socket, event));
    }
}

/// Raw sockets route, check local addresses and send as UDP sockets do, with their own
/// protocol.
impl<I: Ip, C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> RawContext<I> for TransportCtx<'_, C, F>
where
    Self: UdpIpContext<I> + SocketSend<I>,
{
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<I>, SocketError> {
        UdpIpContext::<I>::route(self, dst, src, device)
    }

    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool {
        UdpIpContext::<I>::is_local_addr(self, addr, device)
    }

    fn send_packet<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<I>,
        proto: IpProto,
        body: S,
    ) -> Result<(), SocketError> {
        self.send_socket(meta, proto, body)
    }

    fn socket_event(&mut self, socket: RawSocketId<I>, event: SocketEvent) {
        self.ctx.on_event(<Self as SocketSend<I>>::raw_event(socket, event));
    }
}
