//! Stream sockets: a core TCP socket and its data plane (`fidl/README.md`, "The stream data
//! plane").
//!
//! # Phases
//!
//! * *Unconnected* (created, maybe bound) and *Connecting*: the client end is plugged.
//! * *Listening*: still plugged; the token byte makes the client end readable while the
//!   accept queue is not empty.
//! * *Connected*: the plug is pulled (the client end turns writable, which is how a
//!   non-blocking `connect` is seen to finish) and the pumps run.
//! * *Failed*: a reset, a timeout or a refused connect. The plug is pulled and both
//!   directions of our end are shut down; `GetError` reports the errno once.
//! * *Closing*: the application closed; the bytes it wrote before are still moved into TCP,
//!   then TCP is closed (FIN after the data) and the socket leaves the server's table, while
//!   the core finishes the connection on its own.
//!
//! # Pumps
//!
//! Application to TCP: bytes are read from our end only up to the free space of TCP's send
//! buffer, so a full send buffer leaves them in the socketpair, whose own limit then blocks
//! the writer; the core's `Writable` event resumes it. End of file on our end becomes TCP's
//! FIN (after every byte before it).
//!
//! TCP to the application: bytes are peeked from the receive buffer, written to our end, and
//! consumed only as far as the socketpair took them, so an application that does not read
//! leaves them in TCP's receive buffer and the advertised window closes; `EPOLLOUT` on our
//! end resumes it. The peer's FIN, once the receive buffer is drained, shuts down our end for
//! writing, so the application reads 0 after the last byte.
//!
//! Both pumps copy through the server's one scratch buffer; each call moves at most
//! [`PUMP_BUDGET`] bytes per direction so one busy socket cannot hold the loop.

use std::io::IoSlice;

use netstack_core::addr::{Ipv4, Ipv6};
use netstack_core::stack::TransportCtx;
use netstack_core::transport::tcp::{Event, Shutdown, Tcp, TcpIpContext, TcpIpExt, TcpSocketId};
use netstack_core::transport::SocketError;

use super::dataplane::{Read, StreamPlane};
use crate::device::PoolBuffer;
use crate::eventloop::{BindingsCtx, NetStack};

/// Bytes one pump call moves per direction at most.
pub(crate) const PUMP_BUDGET: usize = 256 * 1024;

pub(crate) type Ctx<'a> = TransportCtx<'a, BindingsCtx, PoolBuffer>;

/// A core TCP socket of either IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TcpId {
    /// IPv4.
    V4(TcpSocketId<Ipv4>),
    /// IPv6.
    V6(TcpSocketId<Ipv6>),
}

/// Runs `$body` with `$tcp`, `$tctx` and `$id` bound for whichever IP version `$socket` is.
macro_rules! with_tcp {
    ($stack:expr, $ctx:expr, $socket:expr, |$tcp:ident, $tctx:ident, $id:ident| $body:expr) => {
        match $socket {
            $crate::socket::stream::TcpId::V4($id) => $stack.tcp_call($ctx, |$tcp, $tctx| $body),
            $crate::socket::stream::TcpId::V6($id) => $stack.tcp_call($ctx, |$tcp, $tctx| $body),
        }
    };
}
pub(crate) use with_tcp;

/// Where a stream socket is in its life; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Created or bound; plugged.
    Unconnected,
    /// `Connect` started the handshake; plugged.
    Connecting,
    /// Listening; plugged, with the token while connections wait.
    Listening,
    /// Connected: the pumps run.
    Connected,
    /// The connection failed or was reset; our end is shut down.
    Failed,
    /// Closed by the application; draining what it wrote into TCP.
    Closing,
}

/// What a pump or an event left to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Nothing until the next readiness edge or stack event.
    Idle,
    /// The budget ran out with work left: run again next turn.
    More,
    /// The socket is done (closed and drained): remove it from the server.
    Finished,
}

impl Progress {
    pub(crate) fn and(self, other: Progress) -> Progress {
        match (self, other) {
            (Progress::Finished, _) | (_, Progress::Finished) => Progress::Finished,
            (Progress::More, _) | (_, Progress::More) => Progress::More,
            _ => Progress::Idle,
        }
    }
}

/// What the stream pumps counted, for the server's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PumpCounters {
    /// Bytes moved from applications into TCP.
    pub(crate) bytes_out: u64,
    /// Bytes moved from TCP to applications.
    pub(crate) bytes_in: u64,
    /// Bytes TCP refused after reporting the space for them (a core defect; they are lost).
    pub(crate) short_sends: u64,
}

/// A stream socket; see the module documentation.
#[derive(Debug)]
pub(crate) struct StreamSocket {
    pub(crate) tcp: TcpId,
    pub(crate) plane: StreamPlane,
    pub(crate) phase: Phase,
    /// The peer's FIN arrived.
    peer_fin: bool,
    /// Our end is shut down for writing (the application reads end of file).
    eof_sent: bool,
    /// The application's end of file became TCP's FIN.
    fin_queued: bool,
    /// The pending error (SO_ERROR), taken by `GetError`.
    pub(crate) error: Option<SocketError>,
}

impl StreamSocket {
    /// A new, unconnected socket (plugged).
    pub(crate) fn new(tcp: TcpId, plane: StreamPlane) -> Self {
        Self {
            tcp,
            plane,
            phase: Phase::Unconnected,
            peer_fin: false,
            eof_sent: false,
            fin_queued: false,
            error: None,
        }
    }

    /// An accepted connection (unplugged).
    pub(crate) fn accepted(tcp: TcpId, plane: StreamPlane) -> Self {
        Self { phase: Phase::Connected, ..Self::new(tcp, plane) }
    }

    /// Reacts to a core event on this socket.
    pub(crate) fn on_event(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        event: Event,
        scratch: &mut [u8],
        counters: &mut PumpCounters,
    ) -> Progress {
        match (self.phase, event) {
            (Phase::Listening, _) => {
                self.update_token(stack, ctx);
                Progress::Idle
            }
            (_, Event::Error) => {
                let error = with_tcp!(stack, ctx, self.tcp, |tcp, _tctx, id| tcp.take_error(id));
                if let Ok(Some(error)) = error {
                    self.fail(error, scratch);
                }
                self.pump(stack, ctx, scratch, counters)
            }
            (Phase::Connecting, Event::Connected) => {
                self.phase = Phase::Connected;
                if let Err(error) = self.plane.unplug(scratch) {
                    tracing::warn!(%error, "cannot pull a stream socket's plug");
                }
                self.pump(stack, ctx, scratch, counters)
            }
            (_, Event::ReadClosed) => {
                self.peer_fin = true;
                self.pump(stack, ctx, scratch, counters)
            }
            (Phase::Closing, Event::Closed) => Progress::Finished,
            _ => self.pump(stack, ctx, scratch, counters),
        }
    }

    /// Records `error` and shows the application the socket failed.
    fn fail(&mut self, error: SocketError, scratch: &mut [u8]) {
        self.error = Some(error);
        if self.phase == Phase::Closing {
            return;
        }
        if self.plane.plugged() {
            let _ = self.plane.unplug(scratch);
        }
        let _ = self.plane.set_token(false);
        self.plane.shutdown(true);
        self.phase = Phase::Failed;
    }

    /// Makes the client end readable exactly while connections wait to be accepted.
    pub(crate) fn update_token(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx) {
        let waiting = with_tcp!(stack, ctx, self.tcp, |tcp, _tctx, id| tcp.queues(id)).map_or(0, |(n, _)| n);
        if let Err(error) = self.plane.set_token(waiting > 0) {
            tracing::warn!(%error, "cannot set a listener's token");
        }
    }

    /// Runs both pumps as far as the budget, the socketpair and TCP allow.
    pub(crate) fn pump(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        scratch: &mut [u8],
        counters: &mut PumpCounters,
    ) -> Progress {
        match self.phase {
            Phase::Connected => {
                let out = self.pump_out(stack, ctx, scratch, counters);
                let into = self.pump_in(stack, ctx, scratch, counters);
                out.and(into)
            }
            Phase::Closing => self.pump_out(stack, ctx, scratch, counters),
            _ => Progress::Idle,
        }
    }

    /// Application to TCP.
    fn pump_out(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        scratch: &mut [u8],
        counters: &mut PumpCounters,
    ) -> Progress {
        if self.fin_queued {
            return Progress::Idle;
        }
        let plane = &mut self.plane;
        let outcome = with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| pump_out(
            tcp, tctx, id, plane, scratch, counters
        ));
        match outcome {
            Ok(Out::Blocked) => Progress::Idle,
            Ok(Out::Budget) => Progress::More,
            Ok(Out::Eof) => {
                self.fin_queued = true;
                if self.phase == Phase::Closing {
                    self.finish_close(stack, ctx);
                    return Progress::Finished;
                }
                with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| {
                    let _ = tcp.shutdown(tctx, id, Shutdown::Write);
                });
                Progress::Idle
            }
            Err(error) => {
                if self.phase == Phase::Closing {
                    self.finish_close(stack, ctx);
                    return Progress::Finished;
                }
                // The connection cannot take data any more (shut down, reset): what the
                // application writes can go nowhere.
                if error != SocketError::BrokenPipe {
                    self.fail(error, scratch);
                }
                Progress::Idle
            }
        }
    }

    /// TCP to the application.
    fn pump_in(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        scratch: &mut [u8],
        counters: &mut PumpCounters,
    ) -> Progress {
        if self.eof_sent {
            return Progress::Idle;
        }
        let plane = &mut self.plane;
        let outcome =
            with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| pump_in(tcp, tctx, id, plane, scratch, counters));
        match outcome {
            In::Budget => Progress::More,
            In::Blocked => Progress::Idle,
            In::Drained => {
                if self.peer_fin {
                    self.plane.shutdown(false);
                    self.eof_sent = true;
                }
                Progress::Idle
            }
        }
    }

    /// The application closed the socket (its last channel went away, or `Close`). Returns
    /// `Finished` when the socket can go at once; otherwise it drains first.
    pub(crate) fn close(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        scratch: &mut [u8],
        counters: &mut PumpCounters,
    ) -> Progress {
        if self.phase != Phase::Connected || self.fin_queued {
            self.finish_close(stack, ctx);
            return Progress::Finished;
        }
        self.phase = Phase::Closing;
        // What the application wrote stays readable; nothing more can be written.
        self.plane.stop_input();
        self.plane.flags.readable = true;
        self.pump(stack, ctx, scratch, counters)
    }

    /// Closes the TCP socket; the core finishes the connection (FIN or RST) on its own.
    fn finish_close(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx) {
        with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| {
            let _ = tcp.close(tctx, id);
        });
    }

    /// `shutdown(SHUT_RD)`: the application reads end of file after what it has; what
    /// arrives later stays in TCP.
    pub(crate) fn shutdown_read(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx) {
        if !self.eof_sent {
            self.plane.shutdown(false);
            self.eof_sent = true;
        }
        with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| {
            let _ = tcp.shutdown(tctx, id, Shutdown::Read);
        });
    }
}

/// How the application-to-TCP pump stopped.
enum Out {
    /// The socketpair is empty or TCP's send buffer is full.
    Blocked,
    /// The budget ran out.
    Budget,
    /// The application shut down writing (or closed); everything before it is in TCP.
    Eof,
}

fn pump_out<I: TcpIpExt>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    id: TcpSocketId<I>,
    plane: &mut StreamPlane,
    scratch: &mut [u8],
    counters: &mut PumpCounters,
) -> Result<Out, SocketError>
where
    for<'a> Ctx<'a>: TcpIpContext<I>,
{
    let mut moved = 0;
    while plane.flags.readable {
        if moved >= PUMP_BUDGET {
            return Ok(Out::Budget);
        }
        let space = tcp.send_space(id)?;
        if space == 0 {
            return Ok(Out::Blocked);
        }
        let want = space.min(scratch.len()).min(PUMP_BUDGET - moved);
        match plane.read(&mut scratch[..want]) {
            Ok(Read::Bytes(n)) => {
                let sent = tcp.send(ctx, id, &scratch[..n])?;
                if sent < n {
                    counters.short_sends += (n - sent) as u64;
                    tracing::error!(lost = n - sent, "TCP took less than the space it reported");
                }
                counters.bytes_out += sent as u64;
                moved += n;
            }
            Ok(Read::Eof) => return Ok(Out::Eof),
            Ok(Read::WouldBlock) => break,
            Err(error) => {
                tracing::warn!(%error, "reading a stream data plane failed");
                return Ok(Out::Eof);
            }
        }
    }
    Ok(Out::Blocked)
}

/// How the TCP-to-application pump stopped.
enum In {
    /// The socketpair is full.
    Blocked,
    /// The budget ran out.
    Budget,
    /// TCP's receive buffer is empty.
    Drained,
}

fn pump_in<I: TcpIpExt>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    id: TcpSocketId<I>,
    plane: &mut StreamPlane,
    scratch: &mut [u8],
    counters: &mut PumpCounters,
) -> In
where
    for<'a> Ctx<'a>: TcpIpContext<I>,
{
    let mut moved = 0;
    while plane.flags.writable {
        if moved >= PUMP_BUDGET {
            return In::Budget;
        }
        let want = scratch.len().min(PUMP_BUDGET - moved);
        let n = match tcp.peek(id, &mut scratch[..want]) {
            Ok(0) | Err(_) => return In::Drained,
            Ok(n) => n,
        };
        let written = match plane.write(&[IoSlice::new(&scratch[..n])]) {
            Ok(0) => return In::Blocked,
            Ok(written) => written,
            // The application's end is gone; the socket's close will follow.
            Err(_) => return In::Blocked,
        };
        // Consume exactly what the socketpair took (the same bytes, copied again).
        let _ = tcp.recv(ctx, id, &mut scratch[..written]);
        counters.bytes_in += written as u64;
        moved += written;
    }
    In::Blocked
}
