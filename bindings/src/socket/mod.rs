//! The socket server: `fuchsia.posix.socket` and `fuchsia.posix.socket.raw` served from the
//! event loop, with the data planes of `fidl/README.md`.
//!
//! # Shape
//!
//! Everything runs on the loop's thread, inside the loop's turn, next to the stack it calls.
//! Three tables hold the server's state, each under generational keys (`slab`):
//!
//! * *endpoints*: every fd the server waits on, its key the reactor token: the listening
//!   sockets of the svc dir, channels (a Provider connection, or one of a socket's
//!   connections), and data planes (the server's end of a socket's socketpair);
//! * *sockets*: a core socket, its data plane and its channels (`Clone2` adds channels; the
//!   socket lives until the last one closes or `Close` is called). A stream socket is TCP
//!   (`stream`); a datagram socket is UDP, ICMP echo or raw IP (`datagram`), the last
//!   speaking `fuchsia.posix.socket.raw/Socket` (`raw_requests`) over the same data plane;
//! * *clients*: one per Provider connection, which the sockets it creates (and the
//!   connections they accept) are charged to, for `--max-sockets-per-client` (`EMFILE`);
//!   `--max-sockets` bounds all of them together (`ENOBUFS`).
//!
//! # A turn
//!
//! The `reactor` reports the fds that changed since the last turn; their endpoints are
//! queued, each at most once, and served: a svc socket accepts clients, a channel reads and
//! answers requests (at most `MESSAGE_BUDGET` per turn; while a reply waits for room, the
//! channel's requests wait too), a data plane runs its socket's pumps. Sockets whose pump ran
//! out of budget are queued to run again next turn. Stack events (`SocketServer::on_tcp_event`
//! and friends) run the pumps of the socket they name. Work per turn is proportional to what
//! changed, never to the number of sockets.
//!
//! # Bad peers
//!
//! A message that does not decode, an unknown ordinal, a handle where none belongs or a
//! message too big closes that one channel with an epitaph (`ZX_ERR_INVALID_ARGS`, or
//! `ZX_ERR_NOT_SUPPORTED` for an unknown ordinal) and nothing else.

mod addr;
mod datagram;
mod datagram_requests;
mod dataplane;
mod errno;
mod header;
mod options;
mod provider;
mod raw_requests;
mod stream;
mod stream_requests;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::task::{Context, Poll};

use netstack_core::transport::inspect::AnySocketId;
use netstack_core::transport::tcp::Event;
use netstack_core::transport::udp::AnyUdpSocketId;
use netstack_core::transport::SocketEvent;
use netstack_fidl::channel::{Channel, ChannelError, MessageBuf};
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::Domain;
use netstack_fidl::message::{decode_header, encode_reply};
use netstack_fidl::wire::DecodeError;
use netstack_fidl::zx;
use netstack_fidl::Method;

use crate::reactor::{Reactor, Readiness};
use crate::served_channel::{Flushed, ServedChannel};
use crate::slab::{Key, Slab};
use crate::svc::Accepted;
pub(crate) use datagram::DatagramId;
use datagram::{DatagramCounters, DatagramSocket};
use options::SocketOptions;
pub(crate) use stream::TcpId;
use stream::{Progress, PumpCounters, StreamSocket};

use crate::eventloop::{BindingsCtx, NetStack};

/// `--max-sockets` unless given.
pub const DEFAULT_MAX_SOCKETS: usize = 16_384;
/// `--max-sockets-per-client` unless given.
pub const DEFAULT_MAX_SOCKETS_PER_CLIENT: usize = 1024;

/// Requests read from one channel per turn.
const MESSAGE_BUDGET: usize = 32;
/// Clients accepted from one svc socket per turn.
const ACCEPT_BUDGET: usize = 64;

/// The server's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Sockets open at once, all clients together (`ENOBUFS` beyond).
    pub max_sockets: usize,
    /// Sockets one Provider connection may hold (`EMFILE` beyond).
    pub max_sockets_per_client: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { max_sockets: DEFAULT_MAX_SOCKETS, max_sockets_per_client: DEFAULT_MAX_SOCKETS_PER_CLIENT }
    }
}

/// What the server counted. Gauges say what is open now; the rest count since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerCounters {
    /// Provider connections accepted (both protocols).
    pub clients_accepted: u64,
    /// Gauge: channels open (Provider connections and socket connections).
    pub channels_open: u64,
    /// Gauge: stream (TCP) sockets open.
    pub stream_sockets: u64,
    /// Gauge: UDP sockets open.
    pub udp_sockets: u64,
    /// Gauge: ICMP echo sockets open.
    pub icmp_sockets: u64,
    /// Gauge: raw IP sockets open.
    pub raw_sockets: u64,
    /// Gauge: stream sockets closed by the application whose written bytes are still being
    /// moved into TCP.
    pub closing_sockets: u64,
    /// Sockets created (accepted connections included).
    pub sockets_created: u64,
    /// Requests answered.
    pub requests: u64,
    /// Messages that did not decode, had an unknown ordinal, or were too big.
    pub malformed_messages: u64,
    /// Epitaphs sent (each closes a channel).
    pub epitaphs: u64,
    /// Sockets refused because the client held `--max-sockets-per-client` (`EMFILE`).
    pub refused_client_limit: u64,
    /// Sockets refused because the server held `--max-sockets` (`ENOBUFS`).
    pub refused_server_limit: u64,
    /// Bytes moved from applications into TCP.
    pub stream_bytes_out: u64,
    /// Bytes moved from TCP to applications.
    pub stream_bytes_in: u64,
    /// `readv` calls that moved application bytes straight into TCP's send rings.
    pub stream_readv_calls: u64,
    /// `writev` calls that moved bytes straight from TCP's receive rings to applications.
    pub stream_writev_calls: u64,
    /// `readv` calls that filled both slices of a send ring (its free space wrapped around
    /// the ring's end): where a linear buffer would have needed a copy.
    pub stream_readv_wrapped: u64,
    /// `writev` calls that took bytes from both slices of a receive ring.
    pub stream_writev_wrapped: u64,
    /// Datagrams sent for applications.
    pub datagrams_sent: u64,
    /// Datagrams delivered to applications.
    pub datagrams_delivered: u64,
    /// Datagrams dropped because the application's socketpair was full.
    pub datagrams_dropped_full: u64,
    /// Datagram sends that failed and were reported as error records.
    pub datagram_send_errors: u64,
    /// Datagram-plane packets from applications without a valid header.
    pub datagram_malformed: u64,
    /// Error records sent to applications.
    pub datagram_error_records: u64,
}

impl ServerCounters {
    /// The gauge that counts sockets like `id`.
    fn datagram_gauge(&mut self, id: DatagramId) -> &mut u64 {
        match id {
            DatagramId::UdpV4(_) | DatagramId::UdpV6(_) => &mut self.udp_sockets,
            DatagramId::PingV4(_) | DatagramId::PingV6(_) => &mut self.icmp_sockets,
            DatagramId::RawV4(_) | DatagramId::RawV6(_) => &mut self.raw_sockets,
        }
    }
}

/// Which protocol a Provider connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `fuchsia.posix.socket.Provider`.
    Socket,
    /// `fuchsia.posix.socket.raw.Provider`.
    Raw,
}

/// What a channel is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A Provider connection of `client`.
    Provider { client: Key, protocol: Protocol },
    /// A connection to `socket`.
    Socket { socket: Key },
}

/// A channel the server answers on.
#[derive(Debug)]
struct ChannelEndpoint {
    io: ServedChannel,
    role: Role,
}

/// An fd the server waits on.
#[derive(Debug)]
enum Endpoint {
    /// A svc-dir socket accepting Provider connections.
    Svc { listener: OwnedFd, protocol: Protocol },
    /// A channel.
    Channel(ChannelEndpoint),
    /// A socket's data plane (the fd lives in the socket).
    Data { socket: Key },
}

#[derive(Debug)]
struct EndpointEntry {
    /// In the ready queue.
    queued: bool,
    endpoint: Endpoint,
}

/// A Provider connection's account.
#[derive(Debug, Default)]
struct Client {
    /// Sockets charged to it.
    sockets: usize,
    /// Its Provider connection is open.
    connected: bool,
    /// The process at the other end of the Provider connection when it was accepted
    /// (SO_PEERCRED), for diagnostics.
    pid: Option<u32>,
}

/// A socket the server holds, as diagnostics see it ([`SocketServer::sockets`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerSocket {
    /// The core socket.
    pub id: AnySocketId,
    /// The process whose Provider connection created the socket (or the listener it was
    /// accepted from), when the kernel told us (SO_PEERCRED).
    pub pid: Option<u32>,
}

/// The core socket and data plane of a socket.
#[derive(Debug)]
enum Kind {
    Stream(StreamSocket),
    Datagram(DatagramSocket),
}

/// One socket of the server.
#[derive(Debug)]
struct Socket {
    client: Key,
    domain: Domain,
    /// Its connections (channel endpoints).
    channels: Vec<Key>,
    /// Its data plane endpoint.
    data: Key,
    kind: Kind,
    /// Options the server keeps itself (see [`options`]).
    options: SocketOptions,
    /// Closed by the application (its charge to the client is gone).
    closed: bool,
    /// In the pending queue.
    pending: bool,
}

/// The socket server; see the module documentation.
#[derive(Debug)]
pub struct SocketServer {
    reactor: Reactor,
    config: ServerConfig,
    counters: ServerCounters,
    pumps: PumpCounters,
    datagrams: DatagramCounters,
    endpoints: Slab<EndpointEntry>,
    sockets: Slab<Socket>,
    clients: Slab<Client>,
    tcp_ids: HashMap<TcpId, Key>,
    datagram_ids: HashMap<DatagramId, Key>,
    /// Endpoints with a readiness edge to serve.
    ready: VecDeque<Key>,
    /// Sockets whose pumps ran out of budget.
    pending: VecDeque<Key>,
    /// Sockets open and not closed by their application (what the limits count).
    open: usize,
    /// Where a datagram from an application is received before the core sends it (the
    /// stream pumps need no buffer: see [`stream`]).
    datagram_buf: Box<[u8]>,
    inbox: MessageBuf,
    outbox: MessageBuf,
}

impl SocketServer {
    /// A server with no protocols published yet. Must be called inside a tokio runtime.
    pub fn new(config: ServerConfig) -> io::Result<Self> {
        Ok(Self {
            reactor: Reactor::new()?,
            config,
            counters: ServerCounters::default(),
            pumps: PumpCounters::default(),
            datagrams: DatagramCounters::default(),
            endpoints: Slab::default(),
            sockets: Slab::default(),
            clients: Slab::default(),
            tcp_ids: HashMap::new(),
            datagram_ids: HashMap::new(),
            ready: VecDeque::new(),
            pending: VecDeque::new(),
            open: 0,
            datagram_buf: vec![0; dataplane::MAX_DATAGRAM].into_boxed_slice(),
            inbox: MessageBuf::new(),
            outbox: MessageBuf::new(),
        })
    }

    /// Serves `protocol` on `listener`, a listening non-blocking `SOCK_SEQPACKET` socket
    /// (from [`SvcDir`](crate::svc::SvcDir)).
    pub fn serve(&mut self, listener: OwnedFd, protocol: Protocol) -> io::Result<()> {
        self.add_endpoint(Endpoint::Svc { listener, protocol }).map(drop).map_err(|(error, _)| error)
    }

    /// Serves `channel` as a connection to `protocol`'s Provider (what an accepted svc
    /// connection becomes; tests hand in one end of a pair).
    pub fn serve_channel(&mut self, channel: Channel, protocol: Protocol) -> io::Result<()> {
        channel.set_nonblocking(true)?;
        let pid = rustix::net::sockopt::socket_peercred(&channel)
            .ok()
            .and_then(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()).ok());
        let client =
            self.clients.insert(Client { sockets: 0, connected: true, pid }).ok_or_else(table_full)?;
        let endpoint = Endpoint::Channel(ChannelEndpoint {
            io: ServedChannel::new(channel),
            role: Role::Provider { client, protocol },
        });
        match self.add_endpoint(endpoint) {
            Ok(_) => {
                self.counters.clients_accepted += 1;
                self.counters.channels_open += 1;
                Ok(())
            }
            Err((error, _)) => {
                self.clients.remove(client);
                Err(error)
            }
        }
    }

    /// What the server counted.
    pub fn counters(&self) -> ServerCounters {
        ServerCounters {
            stream_bytes_out: self.pumps.bytes_out,
            stream_bytes_in: self.pumps.bytes_in,
            stream_readv_calls: self.pumps.reads,
            stream_writev_calls: self.pumps.writes,
            stream_readv_wrapped: self.pumps.reads_wrapped,
            stream_writev_wrapped: self.pumps.writes_wrapped,
            datagrams_sent: self.datagrams.sent,
            datagrams_delivered: self.datagrams.delivered,
            datagrams_dropped_full: self.datagrams.dropped_full,
            datagram_send_errors: self.datagrams.send_errors,
            datagram_malformed: self.datagrams.malformed,
            datagram_error_records: self.datagrams.error_records,
            ..self.counters
        }
    }

    /// Every socket the server holds, in table order, with the process it belongs to; those
    /// closed by their application whose bytes are still moving into TCP included. O(sockets).
    pub fn sockets(&self) -> impl Iterator<Item = ServerSocket> + '_ {
        self.sockets.iter().map(|socket| ServerSocket {
            id: match &socket.kind {
                Kind::Stream(stream) => match stream.tcp {
                    TcpId::V4(id) => AnySocketId::Tcp(id.into()),
                    TcpId::V6(id) => AnySocketId::Tcp(id.into()),
                },
                Kind::Datagram(datagram) => match datagram.id {
                    DatagramId::UdpV4(id) => AnySocketId::Udp(AnyUdpSocketId::V4(id)),
                    DatagramId::UdpV6(id) => AnySocketId::Udp(AnyUdpSocketId::V6(id)),
                    DatagramId::PingV4(id) => id.into(),
                    DatagramId::PingV6(id) => id.into(),
                    DatagramId::RawV4(id) => id.into(),
                    DatagramId::RawV6(id) => id.into(),
                },
            },
            pid: self.clients.get(socket.client).and_then(|client| client.pid),
        })
    }

    /// The limits.
    pub fn config(&self) -> ServerConfig {
        self.config
    }

    /// Whether work is left for the next turn (the loop must not sleep).
    pub fn has_work(&self) -> bool {
        !self.ready.is_empty() || !self.pending.is_empty()
    }

    /// Polls the reactor: `Ready` when fds changed (their endpoints are queued for
    /// [`turn`](Self::turn)).
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Self { reactor, endpoints, sockets, ready, .. } = self;
        reactor.poll_drain(cx, |token, readiness| mark(endpoints, sockets, ready, token, readiness))
    }

    /// One turn: serves the endpoints that changed and the sockets with work left. Returns
    /// the items served.
    pub fn turn(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx) -> usize {
        {
            let Self { reactor, endpoints, sockets, ready, .. } = self;
            reactor.drain(|token, readiness| mark(endpoints, sockets, ready, token, readiness));
        }
        let mut work = 0;
        for _ in 0..self.ready.len() {
            let Some(key) = self.ready.pop_front() else { break };
            let Some(entry) = self.endpoints.get_mut(key) else { continue };
            entry.queued = false;
            self.serve_endpoint(stack, ctx, key);
            work += 1;
        }
        for _ in 0..self.pending.len() {
            let Some(key) = self.pending.pop_front() else { break };
            let Some(socket) = self.sockets.get_mut(key) else { continue };
            socket.pending = false;
            self.resume(stack, ctx, key);
            work += 1;
        }
        work
    }

    /// A TCP socket's event from the stack.
    pub(crate) fn on_tcp_event(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        id: TcpId,
        event: Event,
    ) {
        let Some(&key) = self.tcp_ids.get(&id) else { return };
        let Some(socket) = self.sockets.get_mut(key) else { return };
        let Kind::Stream(stream) = &mut socket.kind else { return };
        let progress = stream.on_event(stack, ctx, event, &mut self.pumps);
        self.after(key, progress);
    }

    /// A datagram socket's event from the stack.
    pub(crate) fn on_datagram_event(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        id: DatagramId,
        _event: SocketEvent,
    ) {
        let Some(&key) = self.datagram_ids.get(&id) else { return };
        let Some(socket) = self.sockets.get_mut(key) else { return };
        let Kind::Datagram(datagram) = &mut socket.kind else { return };
        let progress = datagram.deliver(stack, ctx, &mut self.datagrams);
        self.after(key, progress);
    }

    // ------------------------------------------------------------------ endpoints

    /// Registers `endpoint`'s fd with the reactor. On failure hands the endpoint back.
    fn add_endpoint(&mut self, endpoint: Endpoint) -> Result<Key, (io::Error, Endpoint)> {
        let Some(key) = self.endpoints.insert(EndpointEntry { queued: false, endpoint }) else {
            unreachable!("2^32 endpoints cannot be open: each holds an fd");
        };
        let registered = match self.endpoints.get(key).map(|e| &e.endpoint) {
            Some(Endpoint::Svc { listener, .. }) => self.reactor.register(listener.as_fd(), key.to_u64()),
            Some(Endpoint::Channel(c)) => self.reactor.register(c.io.channel.as_fd(), key.to_u64()),
            Some(Endpoint::Data { socket }) => match self.sockets.get(*socket).map(|s| &s.kind) {
                Some(Kind::Stream(s)) => self.reactor.register(s.plane.ours(), key.to_u64()),
                Some(Kind::Datagram(d)) => self.reactor.register(d.plane.ours(), key.to_u64()),
                None => Err(io::Error::from(io::ErrorKind::NotFound)),
            },
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        };
        match registered {
            Ok(()) => Ok(key),
            Err(error) => match self.endpoints.remove(key) {
                Some(entry) => Err((error, entry.endpoint)),
                None => unreachable!("the endpoint was just inserted"),
            },
        }
    }

    fn serve_endpoint(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key) {
        let kind = match self.endpoints.get(key).map(|e| &e.endpoint) {
            Some(Endpoint::Svc { protocol, .. }) => EndpointKind::Svc(*protocol),
            Some(Endpoint::Channel(_)) => EndpointKind::Channel,
            Some(Endpoint::Data { socket }) => EndpointKind::Data(*socket),
            None => return,
        };
        match kind {
            EndpointKind::Svc(protocol) => self.accept_clients(key, protocol),
            EndpointKind::Channel => self.serve_requests(stack, ctx, key),
            EndpointKind::Data(socket) => self.resume(stack, ctx, socket),
        }
    }

    /// Accepts Provider connections on a svc socket.
    fn accept_clients(&mut self, key: Key, protocol: Protocol) {
        for _ in 0..ACCEPT_BUDGET {
            let Some(Endpoint::Svc { listener, .. }) = self.endpoints.get(key).map(|e| &e.endpoint) else {
                return;
            };
            match crate::svc::accept_client(listener) {
                Accepted::Client(fd) => {
                    if let Err(error) = self.serve_channel(Channel::from_fd(fd), protocol) {
                        tracing::warn!(%error, "cannot serve a new client");
                    }
                }
                Accepted::Drained => return,
                Accepted::Failed(error) => {
                    // Out of fds: the connection waits in the backlog until one is free.
                    tracing::warn!(%error, "cannot accept a client");
                    return;
                }
            }
        }
        self.requeue(key);
    }

    fn requeue(&mut self, key: Key) {
        if let Some(entry) = self.endpoints.get_mut(key) {
            if !entry.queued {
                entry.queued = true;
                self.ready.push_back(key);
            }
        }
    }

    fn channel_mut(&mut self, key: Key) -> Option<&mut ChannelEndpoint> {
        match self.endpoints.get_mut(key).map(|e| &mut e.endpoint) {
            Some(Endpoint::Channel(c)) => Some(c),
            _ => None,
        }
    }

    /// Reads and answers a channel's requests.
    fn serve_requests(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key) {
        if !self.flush_outbox(stack, ctx, key) {
            return;
        }
        // The buffer leaves `self` while a request is served, which needs `&mut self`.
        let mut message = std::mem::take(&mut self.inbox);
        let budget_spent = self.read_requests(stack, ctx, key, &mut message);
        message.clear();
        self.inbox = message;
        if budget_spent {
            self.requeue(key);
        }
    }

    /// Reads and serves up to [`MESSAGE_BUDGET`] requests through `message`; `true` if the
    /// budget ran out with the channel still readable.
    fn read_requests(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        message: &mut MessageBuf,
    ) -> bool {
        for _ in 0..MESSAGE_BUDGET {
            let Some(read) = self.channel_mut(key).and_then(|c| c.io.read_request(message)) else {
                return false;
            };
            match read {
                Ok(()) => {
                    self.on_message(stack, ctx, key, message);
                    message.clear();
                }
                Err(ChannelError::WouldBlock) => return false,
                Err(ChannelError::TooBig) => {
                    self.counters.malformed_messages += 1;
                    self.epitaph(stack, ctx, key, zx::ERR_INVALID_ARGS);
                    return false;
                }
                Err(ChannelError::PeerClosed | ChannelError::Io(_)) => {
                    self.close_channel(stack, ctx, key);
                    return false;
                }
            }
        }
        true
    }

    /// Sends the replies that waited; `true` when none is left.
    fn flush_outbox(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key) -> bool {
        let Some(endpoint) = self.channel_mut(key) else { return false };
        match endpoint.io.flush() {
            Flushed::Empty => true,
            Flushed::Blocked => false,
            Flushed::Broken => {
                self.close_channel(stack, ctx, key);
                false
            }
        }
    }

    /// Decodes and serves one request.
    fn on_message(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        message: &mut MessageBuf,
    ) {
        let Some(role) = self.channel_mut(key).map(|c| c.role) else { return };
        let MessageBuf { bytes, handles } = message;
        let (header, body) = match decode_header(bytes) {
            Ok(parsed) => parsed,
            Err(error) => return self.bad_message(stack, ctx, key, &error),
        };
        let txid = header.txid;
        self.counters.requests += 1;
        match role {
            Role::Provider { client, protocol: Protocol::Socket } => {
                match netstack_fidl::fuchsia_posix_socket::ProviderRequest::decode(&header, body, handles) {
                    Ok(request) => self.provider_request(stack, ctx, key, client, txid, request),
                    Err(error) => self.bad_message(stack, ctx, key, &error),
                }
            }
            Role::Provider { client, protocol: Protocol::Raw } => {
                match netstack_fidl::fuchsia_posix_socket_raw::ProviderRequest::decode(&header, body, handles)
                {
                    Ok(request) => self.raw_provider_request(stack, ctx, key, client, txid, request),
                    Err(error) => self.bad_message(stack, ctx, key, &error),
                }
            }
            Role::Socket { socket } => {
                let kind = match self.sockets.get(socket).map(|s| &s.kind) {
                    Some(Kind::Stream(_)) => SocketKind::Stream,
                    Some(Kind::Datagram(d)) if d.id.is_raw() => SocketKind::Raw,
                    Some(Kind::Datagram(_)) => SocketKind::Datagram,
                    None => return,
                };
                match kind {
                    SocketKind::Stream => {
                        match netstack_fidl::fuchsia_posix_socket::StreamSocketRequest::decode(
                            &header, body, handles,
                        ) {
                            Ok(request) => self.stream_request(stack, ctx, key, socket, txid, request),
                            Err(error) => self.bad_message(stack, ctx, key, &error),
                        }
                    }
                    SocketKind::Datagram => {
                        match netstack_fidl::fuchsia_posix_socket::DatagramSocketRequest::decode(
                            &header, body, handles,
                        ) {
                            Ok(request) => self.datagram_request(stack, ctx, key, socket, txid, request),
                            Err(error) => self.bad_message(stack, ctx, key, &error),
                        }
                    }
                    SocketKind::Raw => {
                        match netstack_fidl::fuchsia_posix_socket_raw::SocketRequest::decode(
                            &header, body, handles,
                        ) {
                            Ok(request) => self.raw_request(stack, ctx, key, socket, txid, request),
                            Err(error) => self.bad_message(stack, ctx, key, &error),
                        }
                    }
                }
            }
        }
    }

    /// A message that did not decode: epitaph and close.
    fn bad_message(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key, error: &DecodeError) {
        self.counters.malformed_messages += 1;
        let status = if matches!(error, DecodeError::UnknownOrdinal(_)) {
            zx::ERR_NOT_SUPPORTED
        } else {
            zx::ERR_INVALID_ARGS
        };
        tracing::debug!(%error, "malformed request: closing the channel");
        self.epitaph(stack, ctx, key, status);
    }

    /// Sends an epitaph on a channel and closes it.
    fn epitaph(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key, status: i32) {
        let mut scratch = std::mem::take(&mut self.outbox);
        if let Some(endpoint) = self.channel_mut(key) {
            endpoint.io.write_epitaph(status, &mut scratch);
            self.counters.epitaphs += 1;
        }
        scratch.clear();
        self.outbox = scratch;
        self.close_channel(stack, ctx, key);
    }

    /// Answers `Describe` (method `M`) with `response` made of `plane`, a new duplicate of
    /// the data plane's application end; if it could not be made, the channel closes with
    /// `ZX_ERR_NO_RESOURCES`.
    fn describe<M: Method>(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        txid: u32,
        plane: io::Result<OwnedFd>,
        response: impl FnOnce(OwnedFd) -> M::Response,
    ) {
        match plane {
            Ok(fd) => self.reply::<M>(key, txid, response(fd)),
            Err(error) => {
                tracing::warn!(%error, method = M::NAME, "cannot duplicate a data plane");
                self.epitaph(stack, ctx, key, zx::ERR_NO_RESOURCES);
            }
        }
    }

    /// Sends the reply of method `M` to request `txid` on channel `key`.
    fn reply<M: Method>(&mut self, key: Key, txid: u32, response: M::Response) {
        let mut message = std::mem::take(&mut self.outbox);
        if let Err(error) = encode_reply::<M>(txid, response, &mut message) {
            tracing::error!(%error, method = M::NAME, "cannot encode a reply");
            self.outbox = message;
            return;
        }
        // A broken channel is closed by the next read, which finds the peer gone.
        if let Some(endpoint) = self.channel_mut(key) {
            endpoint.io.send(&mut message);
        }
        message.clear();
        self.outbox = message;
    }

    /// Closes a channel; a socket whose last channel it was closes too.
    fn close_channel(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key) {
        let Some(entry) = self.endpoints.remove(key) else { return };
        let Endpoint::Channel(endpoint) = entry.endpoint else { return };
        self.reactor.deregister(endpoint.io.channel.as_fd());
        self.counters.channels_open = self.counters.channels_open.saturating_sub(1);
        match endpoint.role {
            Role::Provider { client, .. } => {
                if let Some(account) = self.clients.get_mut(client) {
                    account.connected = false;
                    if account.sockets == 0 {
                        self.clients.remove(client);
                    }
                }
            }
            Role::Socket { socket } => {
                let Some(entry) = self.sockets.get_mut(socket) else { return };
                entry.channels.retain(|&c| c != key);
                if entry.channels.is_empty() {
                    self.close_socket(stack, ctx, socket);
                }
            }
        }
    }

    // ------------------------------------------------------------------ sockets

    /// Whether `client` may open another socket: `EMFILE` past its own limit, `ENOBUFS`
    /// past the server's.
    fn check_limits(&mut self, client: Key) -> Result<(), Errno> {
        let held = self.clients.get(client).map_or(0, |c| c.sockets);
        if held >= self.config.max_sockets_per_client {
            self.counters.refused_client_limit += 1;
            return Err(Errno::EMFILE);
        }
        if self.open >= self.config.max_sockets {
            self.counters.refused_server_limit += 1;
            return Err(Errno::ENOBUFS);
        }
        Ok(())
    }

    /// Adds a socket for `client` with its data plane registered and one channel, whose
    /// other end is returned. On failure nothing is left behind but `kind`'s core socket,
    /// which the caller closes.
    fn add_socket(&mut self, client: Key, domain: Domain, kind: Kind) -> Result<Channel, (Errno, Kind)> {
        let (ours, theirs) = match Channel::pair().and_then(|(a, b)| a.set_nonblocking(true).map(|()| (a, b)))
        {
            Ok(pair) => pair,
            Err(error) => return Err((errno::from_io_error(&error), kind)),
        };
        let socket = Socket {
            client,
            domain,
            channels: Vec::with_capacity(1),
            data: Key::from_u64(u64::MAX),
            kind,
            options: SocketOptions::default(),
            closed: false,
            pending: false,
        };
        let Some(key) = self.sockets.insert(socket) else {
            unreachable!("2^32 sockets cannot be open: each holds an fd");
        };
        let data = match self.add_endpoint(Endpoint::Data { socket: key }) {
            Ok(data) => data,
            Err((error, _)) => {
                let kind = self.sockets.remove(key).map(|s| s.kind);
                return Err((
                    errno::from_io_error(&error),
                    kind.unwrap_or_else(|| unreachable!("just inserted")),
                ));
            }
        };
        let channel = Endpoint::Channel(ChannelEndpoint {
            io: ServedChannel::new(ours),
            role: Role::Socket { socket: key },
        });
        let channel = match self.add_endpoint(channel) {
            Ok(channel) => channel,
            Err((error, _)) => {
                self.endpoints.remove(data);
                let kind = self.sockets.remove(key).map(|s| s.kind);
                return Err((
                    errno::from_io_error(&error),
                    kind.unwrap_or_else(|| unreachable!("just inserted")),
                ));
            }
        };
        let Some(socket) = self.sockets.get_mut(key) else { unreachable!("just inserted") };
        socket.data = data;
        socket.channels.push(channel);
        match &socket.kind {
            Kind::Stream(s) => {
                self.tcp_ids.insert(s.tcp, key);
                self.counters.stream_sockets += 1;
            }
            Kind::Datagram(d) => {
                self.datagram_ids.insert(d.id, key);
                *self.counters.datagram_gauge(d.id) += 1;
            }
        }
        if let Some(account) = self.clients.get_mut(client) {
            account.sockets += 1;
        }
        self.open += 1;
        self.counters.sockets_created += 1;
        self.counters.channels_open += 1;
        Ok(theirs)
    }

    /// Adds another connection to `socket` (`Clone2`).
    fn add_socket_channel(&mut self, socket: Key, channel: Channel) {
        if channel.set_nonblocking(true).is_err() {
            return;
        }
        let endpoint = Endpoint::Channel(ChannelEndpoint {
            io: ServedChannel::new(channel),
            role: Role::Socket { socket },
        });
        if let Ok(key) = self.add_endpoint(endpoint) {
            if let Some(socket) = self.sockets.get_mut(socket) {
                socket.channels.push(key);
                self.counters.channels_open += 1;
            } else {
                self.endpoints.remove(key);
            }
        }
    }

    /// The application closed `key` (its last channel, or `Close`): every channel of it
    /// closes, its charge to the client goes, and the core socket closes (a stream socket
    /// after moving what the application wrote into TCP).
    fn close_socket(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key) {
        let Some(socket) = self.sockets.get_mut(key) else { return };
        if socket.closed {
            return;
        }
        socket.closed = true;
        let (client, channels) = (socket.client, std::mem::take(&mut socket.channels));
        self.open -= 1;
        if let Some(account) = self.clients.get_mut(client) {
            account.sockets -= 1;
            if account.sockets == 0 && !account.connected {
                self.clients.remove(client);
            }
        }
        for channel in channels {
            if let Some(entry) = self.endpoints.remove(channel) {
                if let Endpoint::Channel(endpoint) = entry.endpoint {
                    self.reactor.deregister(endpoint.io.channel.as_fd());
                    self.counters.channels_open = self.counters.channels_open.saturating_sub(1);
                }
            }
        }
        let Some(socket) = self.sockets.get_mut(key) else { return };
        let progress = match &mut socket.kind {
            Kind::Stream(stream) => {
                let progress = stream.close(stack, ctx, &mut self.pumps);
                if stream.phase == stream::Phase::Closing {
                    self.counters.closing_sockets += 1;
                }
                progress
            }
            Kind::Datagram(datagram) => {
                datagram.flush(stack, ctx, &mut self.datagram_buf, &mut self.datagrams);
                datagram.close(stack, ctx);
                Progress::Finished
            }
        };
        self.after(key, progress);
    }

    /// Drops `key` from the tables (its core socket is closed already).
    fn remove_socket(&mut self, key: Key) {
        let Some(socket) = self.sockets.remove(key) else { return };
        if let Some(entry) = self.endpoints.remove(socket.data) {
            debug_assert!(matches!(entry.endpoint, Endpoint::Data { .. }));
        }
        match &socket.kind {
            Kind::Stream(stream) => {
                self.reactor.deregister(stream.plane.ours());
                self.tcp_ids.remove(&stream.tcp);
                self.counters.stream_sockets -= 1;
                if stream.phase == stream::Phase::Closing {
                    self.counters.closing_sockets -= 1;
                }
            }
            Kind::Datagram(datagram) => {
                self.reactor.deregister(datagram.plane.ours());
                self.datagram_ids.remove(&datagram.id);
                *self.counters.datagram_gauge(datagram.id) -= 1;
            }
        }
        if !socket.closed {
            self.open -= 1;
            if let Some(account) = self.clients.get_mut(socket.client) {
                account.sockets -= 1;
            }
        }
    }

    /// Runs a socket's pumps.
    fn resume(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key) {
        let Some(socket) = self.sockets.get_mut(key) else { return };
        let progress = match &mut socket.kind {
            Kind::Stream(stream) => stream.pump(stack, ctx, &mut self.pumps),
            Kind::Datagram(datagram) => {
                let out = datagram.pump_out(stack, ctx, &mut self.datagram_buf, &mut self.datagrams);
                let delivered = datagram.deliver(stack, ctx, &mut self.datagrams);
                out.and(delivered)
            }
        };
        self.after(key, progress);
    }

    /// Acts on what a pump or event left: queue the socket again, or drop it.
    fn after(&mut self, key: Key, progress: Progress) {
        match progress {
            Progress::Idle => {}
            Progress::More => {
                if let Some(socket) = self.sockets.get_mut(key) {
                    if !socket.pending {
                        socket.pending = true;
                        self.pending.push_back(key);
                    }
                }
            }
            Progress::Finished => self.remove_socket(key),
        }
    }
}

/// Which protocol a socket's channels speak.
enum SocketKind {
    /// `fuchsia.posix.socket/StreamSocket`.
    Stream,
    /// `fuchsia.posix.socket/DatagramSocket`.
    Datagram,
    /// `fuchsia.posix.socket.raw/Socket`.
    Raw,
}

/// What an endpoint is, copied out of the table.
enum EndpointKind {
    Svc(Protocol),
    Channel,
    Data(Key),
}

/// Records a readiness edge and queues the endpoint once.
fn mark(
    endpoints: &mut Slab<EndpointEntry>,
    sockets: &mut Slab<Socket>,
    ready: &mut VecDeque<Key>,
    token: u64,
    readiness: Readiness,
) {
    let key = Key::from_u64(token);
    let Some(entry) = endpoints.get_mut(key) else { return };
    let flags = match &mut entry.endpoint {
        Endpoint::Svc { .. } => None,
        Endpoint::Channel(c) => {
            c.io.readable |= readiness.readable;
            None
        }
        Endpoint::Data { socket } => match sockets.get_mut(*socket).map(|s| &mut s.kind) {
            Some(Kind::Stream(s)) => Some(&mut s.plane.flags),
            Some(Kind::Datagram(d)) => Some(&mut d.plane.flags),
            None => None,
        },
    };
    if let Some(flags) = flags {
        flags.readable |= readiness.readable;
        flags.writable |= readiness.writable;
    }
    if !entry.queued {
        entry.queued = true;
        ready.push_back(key);
    }
}

fn table_full() -> io::Error {
    rustix::io::Errno::NFILE.into()
}
