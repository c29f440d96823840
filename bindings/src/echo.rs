//! A UDP echo service (RFC 862) inside the daemon, on the core's UDP socket API: what the
//! interop tests talk to until applications can open sockets of their own. Each datagram is
//! sent back to where it came from, from the address it was sent to.
//!
//! The service holds one socket per IP version on its port: an IPv4 one, and an IPv6 one
//! with IPV6_V6ONLY set so that the two do not contend for the IPv4 wildcard (RFC 3493 §5.3).
//! Two sockets keep the IPv4 path exactly what it was, with no IPv4-mapped addresses in it.

use std::num::NonZeroU16;

use netstack_core::addr::{Ipv4, Ipv6, SpecifiedAddr};
use netstack_core::stack::TransportCtx;
use netstack_core::transport::udp::{Udp, UdpIpContext, UdpIpExt, UdpSocketId};
use netstack_core::transport::SocketError;

use crate::device::PoolBuffer;
use crate::eventloop::{BindingsCtx, NetStack};

/// Datagrams handled per readiness event, so a flood cannot hold the loop.
const BATCH: usize = 64;

/// What the echo service counted, both IP versions together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EchoCounters {
    /// Datagrams echoed.
    pub echoed: u64,
    /// Echoes the stack refused to send (no route, no buffer, ...).
    pub send_errors: u64,
}

/// The echo service on one port: an IPv4 socket and an IPv6-only one.
#[derive(Debug)]
pub struct UdpEcho {
    v4: UdpSocketId<Ipv4>,
    v6: UdpSocketId<Ipv6>,
    counters: EchoCounters,
}

type Ctx<'a> = TransportCtx<'a, BindingsCtx, PoolBuffer>;

/// Opens an `I` socket, lets `configure` set its options, and binds it to `port` on every
/// address; closes it again if anything fails.
fn open<I: UdpIpExt>(
    udp: &mut Udp<PoolBuffer>,
    ctx: &mut Ctx<'_>,
    port: NonZeroU16,
    configure: impl FnOnce(&mut Udp<PoolBuffer>, UdpSocketId<I>) -> Result<(), SocketError>,
) -> Result<UdpSocketId<I>, SocketError>
where
    for<'a> Ctx<'a>: UdpIpContext<I>,
{
    let socket = udp.create::<I>(0)?;
    match configure(udp, socket).and_then(|()| udp.bind(ctx, socket, None, Some(port))) {
        Ok(()) => Ok(socket),
        Err(e) => {
            let _ = udp.close(ctx, socket);
            Err(e)
        }
    }
}

/// Echoes up to [`BATCH`] datagrams waiting on `socket`.
fn echo_waiting<I: UdpIpExt>(
    udp: &mut Udp<PoolBuffer>,
    ctx: &mut Ctx<'_>,
    socket: UdpSocketId<I>,
    counters: &mut EchoCounters,
) where
    for<'a> Ctx<'a>: UdpIpContext<I>,
{
    for _ in 0..BATCH {
        let Ok(datagram) = udp.recv_from(socket) else { return };
        let Some(peer) = SpecifiedAddr::new(datagram.peer_addr) else { continue };
        match udp.send_to(ctx, socket, Some((peer, datagram.peer_port)), datagram.payload.body()) {
            Ok(()) => counters.echoed += 1,
            Err(_) => counters.send_errors += 1,
        }
    }
}

impl UdpEcho {
    /// Opens both sockets and binds them to `port` on every address.
    pub fn start(stack: &mut NetStack, ctx: &mut BindingsCtx, port: u16) -> Result<Self, SocketError> {
        let port = NonZeroU16::new(port).ok_or(SocketError::InvalidArgument)?;
        let (v4, v6) = stack.udp_call(ctx, |udp, uctx| {
            let v4 = open::<Ipv4>(udp, uctx, port, |_, _| Ok(()))?;
            match open::<Ipv6>(udp, uctx, port, |udp, socket| udp.set_v6only(socket, true)) {
                Ok(v6) => Ok((v4, v6)),
                Err(e) => {
                    let _ = udp.close(uctx, v4);
                    Err(e)
                }
            }
        })?;
        Ok(Self { v4, v6, counters: EchoCounters::default() })
    }

    /// What the service counted.
    pub fn counters(&self) -> EchoCounters {
        self.counters
    }

    /// IPv4 `socket` became readable: if it is ours, echo what it holds.
    pub fn on_readable_v4(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, socket: UdpSocketId<Ipv4>) {
        if socket == self.v4 {
            let counters = &mut self.counters;
            stack.udp_call(ctx, |udp, uctx| echo_waiting(udp, uctx, socket, counters));
        }
    }

    /// IPv6 `socket` became readable: if it is ours, echo what it holds.
    pub fn on_readable_v6(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, socket: UdpSocketId<Ipv6>) {
        if socket == self.v6 {
            let counters = &mut self.counters;
            stack.udp_call(ctx, |udp, uctx| echo_waiting(udp, uctx, socket, counters));
        }
    }
}
