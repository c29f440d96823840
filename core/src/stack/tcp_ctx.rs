//! The context TCP runs in inside the stack: routes with their path MTU, segments written
//! straight into transmit buffers and sent over IPv4 or IPv6 with the socket's TTL / Hop
//! Limit and TOS / Traffic Class, the sockets' timers and events.

use super::transport_ctx::TransportCtx;
use super::{IpLayer, IpMtu, SendError, StackContext, StackEvent, StackTimerId, DEFAULT_TTL};
use crate::addr::{Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, SpecifiedAddr};
use crate::context::InstantContext;
use crate::device::DeviceId;
use crate::time::Instant;
use crate::transport::tcp::sockets::SegmentSendError;
use crate::transport::tcp::{Event, IpHeaderFields, TcpIpContext, TcpRoute, TcpSocketId, TcpTimerId};
use crate::transport::udp::UdpIpContext;
use crate::transport::SocketError;
use crate::wire::IpProto;

impl<C: StackContext<Frame = F>, F> InstantContext for TransportCtx<'_, C, F> {
    fn now(&self) -> Instant {
        self.ctx.now()
    }
}

impl From<SendError> for SegmentSendError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::NoBuffer => SegmentSendError::NoBuffer,
            SendError::NoRoute(_) | SendError::NoSourceAddress(_) | SendError::TooBig { .. } => {
                SegmentSendError::Unroutable
            }
        }
    }
}

/// Sends one TCP segment over the IP version of `A`, with the socket's hop limit (else the
/// version's default) and TOS / Traffic Class.
trait SendSegment<A> {
    #[allow(clippy::too_many_arguments)]
    fn send_written<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>>(
        ip: &mut IpLayer<F>,
        ctx: &mut C,
        src: A,
        dst: A,
        device: Option<DeviceId>,
        header: IpHeaderFields,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SendError>;
}

impl SendSegment<Ipv4Addr> for Ipv4 {
    fn send_written<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>>(
        ip: &mut IpLayer<F>,
        ctx: &mut C,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        device: Option<DeviceId>,
        header: IpHeaderFields,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SendError> {
        let ttl = header.hop_limit.unwrap_or(DEFAULT_TTL);
        ip.send_ipv4_written(ctx, src, dst, device, IpProto::TCP, (ttl, header.tos), write)
    }
}

impl SendSegment<Ipv6Addr> for Ipv6 {
    fn send_written<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>>(
        ip: &mut IpLayer<F>,
        ctx: &mut C,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        device: Option<DeviceId>,
        header: IpHeaderFields,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SendError> {
        ip.send_ipv6_written(ctx, src, dst, device, IpProto::TCP, (header.hop_limit, header.tos), write)
    }
}

/// The IP versions TCP runs over, with what the stack needs of each.
trait TcpStackIp: IpMtu + SendSegment<<Self as Ip>::Addr> {
    /// Whether `addr` is one of our unicast addresses (on `device`, if given).
    fn is_assigned<F>(ip: &IpLayer<F>, addr: Self::Addr, device: Option<DeviceId>) -> bool;

    /// The event reporting something about a socket.
    fn event(socket: TcpSocketId<Self>, event: Event) -> StackEvent;
}

impl TcpStackIp for Ipv4 {
    fn is_assigned<F>(ip: &IpLayer<F>, addr: Ipv4Addr, device: Option<DeviceId>) -> bool {
        ip.is_assigned_v4(addr, device)
    }

    fn event(socket: TcpSocketId<Ipv4>, event: Event) -> StackEvent {
        StackEvent::TcpV4 { socket, event }
    }
}

impl TcpStackIp for Ipv6 {
    fn is_assigned<F>(ip: &IpLayer<F>, addr: Ipv6Addr, device: Option<DeviceId>) -> bool {
        ip.v6.is_assigned(addr, device)
    }

    fn event(socket: TcpSocketId<Ipv6>, event: Event) -> StackEvent {
        StackEvent::TcpV6 { socket, event }
    }
}

impl<I, C, F> TcpIpContext<I> for TransportCtx<'_, C, F>
where
    I: TcpStackIp,
    C: StackContext<Frame = F>,
    F: AsRef<[u8]> + AsMut<[u8]>,
    Self: UdpIpContext<I>,
{
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<TcpRoute<I>, SocketError> {
        // Linux's tcp_v4_connect: no connections to broadcast or multicast destinations.
        if dst.is_multicast() {
            return Err(SocketError::NetworkUnreachable);
        }
        let route = UdpIpContext::<I>::route(self, dst, src, device)?;
        if route.broadcast {
            return Err(SocketError::NetworkUnreachable);
        }
        let now = self.ctx.now();
        let mtu = self.ip.device(route.device).map_or(0, |d| self.ip.path_mtu::<I>(now, d, *dst));
        Ok(TcpRoute { src: route.src, device: route.device, mtu })
    }

    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool {
        I::is_assigned(self.ip, *addr, device)
    }

    fn device_mtu(&self, device: DeviceId) -> u32 {
        self.ip.device(device).map_or(0, I::device_mtu)
    }

    fn send_segment(
        &mut self,
        src: I::Addr,
        dst: I::Addr,
        device: Option<DeviceId>,
        header: IpHeaderFields,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SegmentSendError> {
        Ok(I::send_written(self.ip, self.ctx, src, dst, device, header, write)?)
    }

    fn schedule_timer(&mut self, timer: TcpTimerId, at: Instant) {
        self.ctx.schedule_timer(StackTimerId::Tcp(timer), at);
    }

    fn socket_event(&mut self, socket: TcpSocketId<I>, event: Event) {
        self.ctx.on_event(I::event(socket, event));
    }
}
