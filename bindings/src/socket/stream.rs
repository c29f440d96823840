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
//! TCP to the application: bytes are written to our end straight from TCP's receive ring and
//! consumed only as far as the socketpair took them, so an application that does not read
//! leaves them in TCP's receive buffer and the advertised window closes; `EPOLLOUT` on our
//! end resumes it. The end of the stream (the peer's FIN, once the receive buffer is
//! drained) shuts down our end for writing, so the application reads 0 after the last byte.
//!
//! # Zero copy
//!
//! Neither pump has a buffer of its own: the core lends its rings ([`Tcp::send_with`],
//! [`Tcp::recv_with`]) as two slices each (two when the bytes wrap around the ring's end),
//! and one `readv` fills the send ring's free space, one `writev` drains the receive ring.
//! So each byte is copied once per direction, by the kernel, between the socketpair and the
//! ring. Each call moves at most [`PUMP_BUDGET`] bytes per direction so one busy socket
//! cannot hold the loop.

use std::io::{IoSlice, IoSliceMut};

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
    /// `readv` calls that moved application bytes into TCP's send ring.
    pub(crate) reads: u64,
    /// `writev` calls that moved bytes from TCP's receive ring to the application.
    pub(crate) writes: u64,
    /// `readv` calls whose bytes went to both slices of the send ring: the ring's free space
    /// wrapped around its end, and one call filled it in order.
    pub(crate) reads_wrapped: u64,
    /// `writev` calls that took bytes from both slices of the receive ring.
    pub(crate) writes_wrapped: u64,
}

/// A stream socket; see the module documentation.
#[derive(Debug)]
pub(crate) struct StreamSocket {
    pub(crate) tcp: TcpId,
    pub(crate) plane: StreamPlane,
    pub(crate) phase: Phase,
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
        Self { tcp, plane, phase: Phase::Unconnected, eof_sent: false, fin_queued: false, error: None }
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
                    self.fail(error);
                }
                self.pump(stack, ctx, counters)
            }
            (Phase::Connecting, Event::Connected) => {
                self.phase = Phase::Connected;
                if let Err(error) = self.plane.unplug() {
                    tracing::warn!(%error, "cannot pull a stream socket's plug");
                }
                self.pump(stack, ctx, counters)
            }
            (Phase::Closing, Event::Closed) => Progress::Finished,
            _ => self.pump(stack, ctx, counters),
        }
    }

    /// Records `error` and shows the application the socket failed.
    fn fail(&mut self, error: SocketError) {
        self.error = Some(error);
        if self.phase == Phase::Closing {
            return;
        }
        if self.plane.plugged() {
            let _ = self.plane.unplug();
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
        counters: &mut PumpCounters,
    ) -> Progress {
        match self.phase {
            Phase::Connected => {
                let out = self.pump_out(stack, ctx, counters);
                let into = self.pump_in(stack, ctx, counters);
                out.and(into)
            }
            Phase::Closing => self.pump_out(stack, ctx, counters),
            _ => Progress::Idle,
        }
    }

    /// Application to TCP.
    fn pump_out(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        counters: &mut PumpCounters,
    ) -> Progress {
        if self.fin_queued {
            return Progress::Idle;
        }
        let plane = &mut self.plane;
        let outcome =
            with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| pump_out(tcp, tctx, id, plane, counters));
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
                    self.fail(error);
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
        counters: &mut PumpCounters,
    ) -> Progress {
        if self.eof_sent {
            return Progress::Idle;
        }
        let plane = &mut self.plane;
        let outcome =
            with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| pump_in(tcp, tctx, id, plane, counters));
        match outcome {
            In::Budget => Progress::More,
            In::Blocked | In::Drained => Progress::Idle,
            In::Eof => {
                self.plane.shutdown(false);
                self.eof_sent = true;
                Progress::Idle
            }
            In::Failed(error) => {
                self.fail(error);
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
        self.pump(stack, ctx, counters)
    }

    /// Closes the TCP socket; the core finishes the connection (FIN or RST) on its own. A
    /// connection whose application left received bytes unread is reset, as Linux's
    /// `tcp_close` does (RFC 2525 §2.17): the bytes already left TCP for the data plane, so
    /// only the data plane knows.
    fn finish_close(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx) {
        let listening = self.phase == Phase::Listening;
        let unread = !listening && self.plane.unread_by_app() > 0;
        with_tcp!(stack, ctx, self.tcp, |tcp, tctx, id| {
            let _ = if unread { tcp.close_unread(tctx, id) } else { tcp.close(tctx, id) };
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

/// How much of a ring's two slices one call may use: at most `limit` bytes in all, the
/// first slice first.
fn limit_lens(first: usize, second: usize, limit: usize) -> (usize, usize) {
    let first = first.min(limit);
    (first, second.min(limit - first))
}

/// Moves application bytes into TCP: each `readv` on our end fills the free space of TCP's
/// send ring in place (its two slices, when the space wraps around the ring's end), so the
/// bytes are copied once, by the kernel, from the socketpair into the ring.
fn pump_out<I: TcpIpExt>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    id: TcpSocketId<I>,
    plane: &mut StreamPlane,
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
        let budget = PUMP_BUDGET - moved;
        let mut read = Ok(Read::WouldBlock);
        let mut first_len = 0;
        let taken = tcp.send_with(ctx, id, |first, second| {
            let (a, b) = limit_lens(first.len(), second.len(), budget);
            first_len = a;
            read = plane.read(&mut [IoSliceMut::new(&mut first[..a]), IoSliceMut::new(&mut second[..b])]);
            match read {
                Ok(Read::Bytes(n)) => n,
                _ => 0,
            }
        });
        let taken = match taken {
            Ok(taken) => taken,
            // TCP's send buffer is full; `Writable` resumes the pump.
            Err(SocketError::WouldBlock) => return Ok(Out::Blocked),
            Err(error) => return Err(error),
        };
        match read {
            Ok(Read::Bytes(_)) => {
                counters.reads += 1;
                counters.reads_wrapped += u64::from(taken > first_len);
                counters.bytes_out += taken as u64;
                moved += taken;
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
    /// The stream ended (the peer's FIN, after every byte before it).
    Eof,
    /// The connection failed with this error.
    Failed(SocketError),
}

/// Moves received bytes to the application: each `writev` on our end takes them straight
/// from TCP's receive ring (its two slices, when they wrap around the ring's end), and only
/// what the socketpair took is consumed, so the window closes while the application does
/// not read.
fn pump_in<I: TcpIpExt>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    id: TcpSocketId<I>,
    plane: &mut StreamPlane,
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
        let budget = PUMP_BUDGET - moved;
        let mut called = false;
        let mut first_len = 0;
        let taken = tcp.recv_with(ctx, id, |first, second| {
            called = true;
            let (a, b) = limit_lens(first.len(), second.len(), budget);
            first_len = a;
            let bufs = [IoSlice::new(&first[..a]), IoSlice::new(&second[..b])];
            // A failed write (the application's end is gone) takes nothing; the socket's
            // close follows.
            plane.write(&bufs).unwrap_or(0)
        });
        match taken {
            Ok(0) if !called => return In::Eof,
            Ok(0) => return In::Blocked,
            Ok(n) => {
                counters.writes += 1;
                counters.writes_wrapped += u64::from(n > first_len);
                counters.bytes_in += n as u64;
                moved += n;
            }
            Err(SocketError::WouldBlock | SocketError::NotConnected | SocketError::BadSocket) => {
                return In::Drained
            }
            Err(error) => return In::Failed(error),
        }
    }
    In::Blocked
}
