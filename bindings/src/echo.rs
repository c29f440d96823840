//! A UDP echo service (RFC 862) inside the daemon, on the core's UDP socket API: what the
//! interop tests talk to until applications can open sockets of their own. Each datagram is
//! sent back to where it came from, from the address it was sent to.

use std::num::NonZeroU16;

use netstack_core::addr::{Ipv4, SpecifiedAddr};
use netstack_core::transport::udp::UdpSocketId;
use netstack_core::transport::SocketError;

use crate::eventloop::{BindingsCtx, NetStack};

/// Datagrams handled per readiness event, so a flood cannot hold the loop.
const BATCH: usize = 64;

/// What the echo service counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EchoCounters {
    /// Datagrams echoed.
    pub echoed: u64,
    /// Echoes the stack refused to send (no route, no buffer, ...).
    pub send_errors: u64,
}

/// One echo socket.
#[derive(Debug)]
pub struct UdpEcho {
    socket: UdpSocketId<Ipv4>,
    counters: EchoCounters,
}

impl UdpEcho {
    /// Opens the socket and binds it to `port` on every address.
    pub fn start(stack: &mut NetStack, ctx: &mut BindingsCtx, port: u16) -> Result<Self, SocketError> {
        let port = NonZeroU16::new(port).ok_or(SocketError::InvalidArgument)?;
        let socket = stack.udp_call(ctx, |udp, uctx| {
            let socket = udp.create::<Ipv4>(0)?;
            match udp.bind(uctx, socket, None, Some(port)) {
                Ok(()) => Ok(socket),
                Err(e) => {
                    let _ = udp.close(uctx, socket);
                    Err(e)
                }
            }
        })?;
        Ok(Self { socket, counters: EchoCounters::default() })
    }

    /// What the service counted.
    pub fn counters(&self) -> EchoCounters {
        self.counters
    }

    /// `socket` became readable: if it is ours, echo what it holds.
    pub fn on_readable(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, socket: UdpSocketId<Ipv4>) {
        if socket != self.socket {
            return;
        }
        let counters = &mut self.counters;
        stack.udp_call(ctx, |udp, uctx| {
            for _ in 0..BATCH {
                let Ok(datagram) = udp.recv_from(socket) else { return };
                let Some(peer) = SpecifiedAddr::new(datagram.peer_addr) else { continue };
                match udp.send_to(uctx, socket, Some((peer, datagram.peer_port)), datagram.payload.body()) {
                    Ok(()) => counters.echoed += 1,
                    Err(_) => counters.send_errors += 1,
                }
            }
        });
    }
}
