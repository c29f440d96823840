//! A TCP echo service (RFC 862) inside the daemon, on the core's TCP socket API: what the
//! interop tests talk to until applications can open sockets of their own. Every byte a
//! client sends comes back on the same connection; when the client closes its side, the
//! service finishes echoing and closes its own.
//!
//! Backpressure is the point of the exercise: the service holds at most one read's worth
//! (64 KiB per connection) of bytes that the send buffer did not take, and reads no more
//! until they are sent, so a client that does not read its echo sees the service's receive
//! window close, as it would against a Linux echo server.
//!
//! The service either listens on a port or (`TcpEcho::connect`) opens the connection
//! itself, so that the kernel can be the listening side.
//!
//! One listener per IP version on the port: an IPv4 one and an IPv6 one (TCP sockets here
//! are single-version, so there is no IPv4-mapped traffic to keep apart).

use std::collections::HashMap;
use std::num::NonZeroU16;

use netstack_core::addr::{IpAddr, Ipv4, Ipv6, SpecifiedAddr};
use netstack_core::stack::TransportCtx;
use netstack_core::transport::tcp::{Event, Tcp, TcpIpContext, TcpIpExt, TcpSocketId};
use netstack_core::transport::SocketError;

use crate::device::PoolBuffer;
use crate::eventloop::{BindingsCtx, NetStack};

/// Bytes read from a connection at a time.
const CHUNK: usize = 64 * 1024;

/// Connections accepted per readiness event of a listener, so a flood cannot hold the loop.
const ACCEPT_BATCH: usize = 64;

/// The largest backlog the service's listeners ask for.
const BACKLOG: usize = 128;

type Ctx<'a> = TransportCtx<'a, BindingsCtx, PoolBuffer>;

/// What the service counted, both IP versions together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpEchoCounters {
    /// Connections accepted.
    pub accepted: u64,
    /// Bytes echoed.
    pub echoed: u64,
    /// Connections that ended with an error (reset, timed out).
    pub errors: u64,
}

/// One echoed connection.
#[derive(Debug)]
struct EchoConn {
    /// What was read; `buf[start..end]` is not yet taken by the send buffer. Reads go
    /// straight in here, so each byte is copied out of the receive buffer and into the send
    /// buffer and nowhere else.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// The client closed its side.
    eof: bool,
}

impl EchoConn {
    fn new() -> Self {
        Self { buf: vec![0; CHUNK].into_boxed_slice(), start: 0, end: 0, eof: false }
    }
}

/// The connections of one IP version.
#[derive(Debug)]
struct Side<I: TcpIpExt> {
    /// The listener, for a service that accepts; `None` for one that connects.
    listener: Option<TcpSocketId<I>>,
    conns: HashMap<TcpSocketId<I>, EchoConn>,
}

/// The echo service on one port.
#[derive(Debug)]
pub struct TcpEcho {
    v4: Side<Ipv4>,
    v6: Side<Ipv6>,
    counters: TcpEchoCounters,
}

/// Opens a listener of version `I` on `port`, every address; `prepare` sets options first.
fn listen<I: TcpIpExt>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    port: NonZeroU16,
    prepare: impl FnOnce(&mut Tcp, TcpSocketId<I>) -> Result<(), SocketError>,
) -> Result<TcpSocketId<I>, SocketError>
where
    for<'a> Ctx<'a>: TcpIpContext<I>,
{
    let socket = tcp.create::<I>(0)?;
    let result = prepare(tcp, socket)
        .and_then(|()| tcp.set_reuse_addr(socket, true))
        .and_then(|()| tcp.bind(ctx, socket, None, Some(port)))
        .and_then(|()| tcp.listen(ctx, socket, BACKLOG));
    if let Err(e) = result {
        let _ = tcp.close(ctx, socket);
        return Err(e);
    }
    Ok(socket)
}

impl<I: TcpIpExt> Side<I>
where
    for<'a> Ctx<'a>: TcpIpContext<I>,
{
    fn new(listener: Option<TcpSocketId<I>>) -> Self {
        Self { listener, conns: HashMap::new() }
    }

    /// Connects to `addr`:`port` and echoes on that connection once it is up.
    fn connect(
        &mut self,
        tcp: &mut Tcp,
        ctx: &mut Ctx<'_>,
        addr: I::Addr,
        port: NonZeroU16,
    ) -> Result<(), SocketError> {
        let addr = SpecifiedAddr::new(addr).ok_or(SocketError::InvalidArgument)?;
        let socket = tcp.create::<I>(0)?;
        if let Err(e) = tcp.connect(ctx, socket, addr, port) {
            let _ = tcp.close(ctx, socket);
            return Err(e);
        }
        self.conns.insert(socket, EchoConn::new());
        Ok(())
    }

    /// Reacts to `event` on `socket`, if it is one of this side's.
    fn on_event(
        &mut self,
        tcp: &mut Tcp,
        ctx: &mut Ctx<'_>,
        socket: TcpSocketId<I>,
        event: Event,
        counters: &mut TcpEchoCounters,
    ) {
        if Some(socket) == self.listener {
            for _ in 0..ACCEPT_BATCH {
                let Ok((conn, _peer)) = tcp.accept(ctx, socket) else { break };
                counters.accepted += 1;
                self.conns.insert(conn, EchoConn::new());
                // Bytes may have arrived before the accept.
                self.pump(tcp, ctx, conn, counters);
            }
            return;
        }
        if !self.conns.contains_key(&socket) {
            return;
        }
        match event {
            Event::Error => {
                counters.errors += 1;
                let _ = tcp.take_error(socket);
                self.finish(tcp, ctx, socket);
            }
            Event::Closed => self.finish(tcp, ctx, socket),
            Event::Connected | Event::Readable | Event::Writable | Event::ReadClosed => {
                self.pump(tcp, ctx, socket, counters)
            }
        }
    }

    /// Moves bytes from the connection's receive buffer back to its send buffer until one
    /// of them stops it; closes once the client's side is done and everything went back.
    fn pump(
        &mut self,
        tcp: &mut Tcp,
        ctx: &mut Ctx<'_>,
        socket: TcpSocketId<I>,
        counters: &mut TcpEchoCounters,
    ) {
        let Some(conn) = self.conns.get_mut(&socket) else { return };
        loop {
            if conn.start < conn.end {
                match tcp.send(ctx, socket, &conn.buf[conn.start..conn.end]) {
                    Ok(n) => {
                        counters.echoed += n as u64;
                        conn.start += n;
                    }
                    Err(SocketError::WouldBlock) => return,
                    Err(_) => break,
                }
                if conn.start < conn.end {
                    return;
                }
            }
            if conn.eof {
                break;
            }
            match tcp.recv(ctx, socket, &mut conn.buf) {
                Ok(0) => conn.eof = true,
                Ok(n) => (conn.start, conn.end) = (0, n),
                Err(SocketError::WouldBlock) => return,
                Err(_) => break,
            }
        }
        // End of stream with everything echoed, or an error: close our side.
        self.finish(tcp, ctx, socket);
    }

    fn finish(&mut self, tcp: &mut Tcp, ctx: &mut Ctx<'_>, socket: TcpSocketId<I>) {
        if self.conns.remove(&socket).is_some() {
            let _ = tcp.close(ctx, socket);
        }
    }
}

impl TcpEcho {
    /// Opens the listeners on `port`.
    pub fn start(stack: &mut NetStack, ctx: &mut BindingsCtx, port: u16) -> Result<Self, SocketError> {
        let port = NonZeroU16::new(port).ok_or(SocketError::InvalidArgument)?;
        let (v4, v6) = stack.tcp_call(ctx, |tcp, tctx| {
            let v4 = listen::<Ipv4>(tcp, tctx, port, |_, _| Ok(()))?;
            // IPv4 has a listener of its own, so the IPv6 one is IPv6-only (as if it had set
            // IPV6_V6ONLY; a dual-stack one would conflict with it).
            match listen::<Ipv6>(tcp, tctx, port, |tcp, socket| tcp.set_v6only(socket, true)) {
                Ok(v6) => Ok((v4, v6)),
                Err(e) => {
                    let _ = tcp.close(tctx, v4);
                    Err(e)
                }
            }
        })?;
        Ok(Self { v4: Side::new(Some(v4)), v6: Side::new(Some(v6)), counters: TcpEchoCounters::default() })
    }

    /// Connects to `addr`:`port` (an active open) and echoes what arrives on that
    /// connection.
    pub fn connect(
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        addr: IpAddr,
        port: u16,
    ) -> Result<Self, SocketError> {
        let port = NonZeroU16::new(port).ok_or(SocketError::InvalidArgument)?;
        let mut echo =
            Self { v4: Side::new(None), v6: Side::new(None), counters: TcpEchoCounters::default() };
        stack.tcp_call(ctx, |tcp, tctx| match addr {
            IpAddr::V4(addr) => echo.v4.connect(tcp, tctx, addr, port),
            IpAddr::V6(addr) => echo.v6.connect(tcp, tctx, addr, port),
        })?;
        Ok(echo)
    }

    /// What the service counted.
    pub fn counters(&self) -> TcpEchoCounters {
        self.counters
    }

    /// Something happened on IPv4 `socket`: if it is ours, act on it.
    pub fn on_event_v4(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: TcpSocketId<Ipv4>,
        event: Event,
    ) {
        let Self { v4, counters, .. } = self;
        stack.tcp_call(ctx, |tcp, tctx| v4.on_event(tcp, tctx, socket, event, counters));
    }

    /// Something happened on IPv6 `socket`: if it is ours, act on it.
    pub fn on_event_v6(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: TcpSocketId<Ipv6>,
        event: Event,
    ) {
        let Self { v6, counters, .. } = self;
        stack.tcp_call(ctx, |tcp, tctx| v6.on_event(tcp, tctx, socket, event, counters));
    }
}
