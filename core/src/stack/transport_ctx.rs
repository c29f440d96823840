//! The context the transport layer (UDP and ping sockets) runs in inside the stack: routes,
//! source addresses, local addresses and sending through the IP layer, multicast filters, and
//! readiness events.
//!
//! IPv6 is not wired into the stack yet, so for IPv6 there is no route: sending fails with
//! ENETUNREACH and no IPv6 address is local, as on a Linux host without IPv6 connectivity.

use super::ipv4::Ipv4Queries;
use super::{IpLayer, SendError, StackContext, StackEvent, DEFAULT_TTL};
use crate::addr::{Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, Mac, MulticastAddr, SpecifiedAddr};
use crate::buf::Serializer;
use crate::device::DeviceId;
use crate::ip::receive::{AddressMatch, ReceiveQueries};
use crate::ip::source::select_ipv4_source;
use crate::transport::ping::{PingContext, PingSocketId};
use crate::transport::udp::{UdpIpContext, UdpSocketId};
use crate::transport::{IpSendMeta, Route, SocketError, SocketEvent};
use crate::wire::IpProto;

/// The transport layer's view of the stack for one call.
pub struct TransportCtx<'a, C, F> {
    ctx: &'a mut C,
    ip: &'a mut IpLayer<F>,
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
    /// Sends a socket's `body` as `proto` over IPv4 as `meta` describes, with the socket's
    /// TTL or the default.
    fn send<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<Ipv4>,
        proto: IpProto,
        body: S,
    ) -> Result<(), SocketError> {
        let ttl = meta.hop_limit.unwrap_or(DEFAULT_TTL);
        self.ip.send_ipv4(self.ctx, Some(*meta.src), *meta.dst, proto, ttl, body)?;
        Ok(())
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
        self.send(meta, IpProto::UDP, datagram)
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
        _dst: SpecifiedAddr<Ipv6Addr>,
        _src: Option<SpecifiedAddr<Ipv6Addr>>,
        _device: Option<DeviceId>,
    ) -> Result<Route<Ipv6>, SocketError> {
        Err(SocketError::NetworkUnreachable)
    }

    fn is_local_addr(&self, _addr: SpecifiedAddr<Ipv6Addr>, _device: Option<DeviceId>) -> bool {
        false
    }

    fn send_datagram<S: Serializer>(
        &mut self,
        _meta: &IpSendMeta<Ipv6>,
        _datagram: S,
    ) -> Result<(), SocketError> {
        Err(SocketError::NetworkUnreachable)
    }

    fn join_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
        if let Some(index) = self.ip.device_index(device) {
            self.ip.devices[index].eth.multicast_filter().join(Mac::from_ipv6_multicast(*group));
        }
    }

    fn leave_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
        if let Some(index) = self.ip.device_index(device) {
            self.ip.devices[index].eth.multicast_filter().leave(Mac::from_ipv6_multicast(*group));
        }
    }

    fn socket_event(&mut self, socket: UdpSocketId<Ipv6>, event: SocketEvent) {
        self.ctx.on_event(StackEvent::UdpV6 { socket, event });
    }
}

/// Ping sockets route, check local addresses and send exactly as UDP sockets do.
impl<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> PingContext<Ipv4> for TransportCtx<'_, C, F> {
    fn route(
        &mut self,
        dst: SpecifiedAddr<Ipv4Addr>,
        src: Option<SpecifiedAddr<Ipv4Addr>>,
        device: Option<DeviceId>,
    ) -> Result<Route<Ipv4>, SocketError> {
        UdpIpContext::<Ipv4>::route(self, dst, src, device)
    }

    fn is_local_addr(&self, addr: SpecifiedAddr<Ipv4Addr>, device: Option<DeviceId>) -> bool {
        UdpIpContext::<Ipv4>::is_local_addr(self, addr, device)
    }

    fn send_echo_request<S: Serializer>(
        &mut self,
        meta: &IpSendMeta<Ipv4>,
        message: S,
    ) -> Result<(), SocketError> {
        self.send(meta, IpProto::ICMP, message)
    }

    fn socket_event(&mut self, socket: PingSocketId<Ipv4>, event: SocketEvent) {
        self.ctx.on_event(StackEvent::PingV4 { socket, event });
    }
}
