//! TCP sockets: every TCP socket of a stack, the socket API over them, and the glue between
//! the state machines ([`Connection`], [`Listener`]) and the IP layer.
//!
//! [`Tcp`] is a plain data structure like [`Udp`](crate::transport::udp::Udp): the socket
//! API calls it, the IP layer hands it each received segment ([`Tcp::deliver`]) and each ICMP
//! error quoting one of ours ([`Tcp::deliver_icmp_error`]), the stack's timer fires
//! [`Tcp::handle_timer`], and everything going out leaves through the [`TcpContext`] the
//! stack implements. After every input a socket is *flushed*: its segments are written
//! straight into transmit buffers, its readiness changes reported, its one timer moved. The
//! tables it keeps per IP version, and the bind rules, are [`tables`](super::tables)'.
//!
//! Rules, with their sources:
//!
//! * Demultiplexing (RFC 9293 §3.10.7): a segment goes to its connection, else to the
//!   listener of its local address and port, else it is answered with a RST. A SYN that
//!   finds a TIME-WAIT connection willing to be recycled (RFC 6191, Linux's
//!   `tcp_timewait_state_process`) goes on to the listener. Segments to broadcast or
//!   multicast addresses are dropped (RFC 1122 §4.2.3.10), and so are segments carrying an
//!   IPv4-mapped address over IPv6 (RFC 4291 §2.5.5.2: those addresses stand for IPv4 nodes,
//!   which IPv6 packets do not come from; Linux's `tcp_v6_conn_request`).
//! * Bind: conflicts as [`tables`](super::tables) describes; port 0 takes an ephemeral
//!   port; a specific address must be one of this host's (EADDRNOTAVAIL).
//! * Dual stack (RFC 3493 §3.7, §5.3): an IPv6 socket without IPV6_V6ONLY (the default,
//!   settable only before bind: EINVAL after, as Linux) bound to `::` also listens on IPv4;
//!   one bound to an IPv4-mapped address listens on IPv4 only. The IPv4 connections it
//!   accepts, and those it opens by connecting to an IPv4-mapped address (ENETUNREACH with
//!   IPV6_V6ONLY), are IPv6 sockets like any other: same [`TcpSocketId<Ipv6>`], same events
//!   (`StackEvent::TcpV6`), addresses reported IPv4-mapped (`::ffff:a.b.c.d`); only their
//!   packets travel over IPv4 (see [`super::context`]). So the socket API never
//!   sees a socket change version.
//! * Connect: the route gives the source address; an unbound socket gets an ephemeral port
//!   by RFC 6056 §3.3.4, shared between connections to different peers as long as the
//!   4-tuple is unique (Linux's `__inet_hash_connect`).
//! * Accept: connections complete in the listener, which keeps them until `accept`; closing
//!   a listener resets the connections nobody accepted (Linux's `inet_csk_listen_stop`).
//! * Close: the connection lives on, orphaned, until it is done (FIN handshake, TIME-WAIT);
//!   then its slot is freed.
//! * IP header (Linux's `uc_ttl`, `tos`, `hop_limit`, `tclass`): each socket chooses the
//!   TTL / Hop Limit and TOS / Traffic Class of everything it sends, handshake and RSTs
//!   included, per IP version (a dual-stack socket's IPv4 traffic takes the IPv4 ones);
//!   accepted connections inherit their listener's; RSTs for segments no socket takes carry
//!   the defaults. The ECN bits stay the stack's (RFC 3168 §6.1).
//! * A segment the IP layer cannot route is treated as lost on the way: the connection's
//!   retransmission timer then takes its course, as in Linux, rather than stalling. A segment
//!   that finds the transmit pool empty is not written at all and is retried shortly.
//!
//! Counters are the stack totals of the Tcp/TcpExt MIB: each connection and listener counts
//! its own, and [`Tcp::counters`] adds the live ones to those of the sockets already gone.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::num::NonZeroU16;
use core::time::Duration;

use crate::addr::{Ip, IpAddress, IpVersion, Ipv4, Ipv6, SpecifiedAddr};
use crate::buf::ParsablePacket;
use crate::context::RngContext;
use crate::device::DeviceId;
use crate::time::Instant;
use crate::transport::dual_stack::{DualStackIpExt, Placement};
use crate::transport::inspect::{SocketProtocol, SocketSummary};
use crate::transport::ports::{random_key, EphemeralPorts, PortRange, DEFAULT_TABLE_LEN};
use crate::transport::socket_map::{EntryKind, Flow, LocalEndpoint, Sharing};
use crate::transport::{IcmpErrorReport, SocketError};
use crate::wire::tcp::{TcpFlags, TcpSegment};

use super::buffer::{copy_from_runs, copy_to_runs};
use super::congestion::CongestionAlgorithm;
use super::context::{self, IpHeaderOptions, TcpContext};
use super::counters::TcpCounters;
use super::info::TcpInfo;
use super::tables::{conn_key, MapKind, Socket, SocketState, Tables, TcpPlacement, TcpSockets, WireKey};
use super::{
    write_reset_for, Connection, Endpoint, Event, IsnGenerator, Listener, ListenerConfig, SegmentInfo,
    Shutdown, State, SynCookieMode, SynCookies, TcpConfig,
};

pub use super::context::{IpHeaderFields, SegmentSendError, TcpIpContext, TcpRoute};

/// How long a socket waits before trying again to send when the transmit pool was empty.
const NO_BUFFER_RETRY: Duration = Duration::from_millis(1);

/// The ECN field of the TOS / Traffic Class byte (RFC 3168 §5).
const ECN_MASK: u8 = 0b11;

/// The most SYN retransmissions TCP_SYNCNT allows (Linux's `MAX_TCP_SYNCNT`).
pub const MAX_SYN_RETRIES: u32 = 127;

/// The smallest TCP_WINDOW_CLAMP (Linux's `SOCK_MIN_RCVBUF / 2` on 64-bit builds); smaller
/// values are raised to it.
pub const MIN_WINDOW_CLAMP: u32 = 2176;

/// The longest FIN-WAIT-2 wait TCP_LINGER2 sets (Linux's `TCP_FIN_TIMEOUT_MAX`).
pub const MAX_FIN_TIMEOUT: Duration = Duration::from_secs(120);

/// The size of the buffer segments that cannot be routed are written into and dropped.
const LOST_SEGMENT_SCRATCH: usize = 2048;

/// A TCP socket of IP version `I`. A closed socket's id is refused (EBADF) rather than
/// reaching a newer socket. An IPv6 socket may carry IPv4 underneath (see the [module
/// documentation](self)): it keeps its IPv6 id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpSocketId<I: Ip> {
    pub(super) index: u32,
    pub(super) generation: u32,
    _ip: PhantomData<I>,
}

/// A TCP socket of either IP version: what the tables hold, the key of the socket's stack
/// timer, and a key the bindings can keep sockets of both versions under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnyTcpSocketId {
    /// An IPv4 socket.
    V4(TcpSocketId<Ipv4>),
    /// An IPv6 socket (dual-stack ones included).
    V6(TcpSocketId<Ipv6>),
}

impl From<TcpSocketId<Ipv4>> for AnyTcpSocketId {
    fn from(id: TcpSocketId<Ipv4>) -> Self {
        AnyTcpSocketId::V4(id)
    }
}

impl From<TcpSocketId<Ipv6>> for AnyTcpSocketId {
    fn from(id: TcpSocketId<Ipv6>) -> Self {
        AnyTcpSocketId::V6(id)
    }
}

/// A listener's queues ([`Tcp::listener_queues`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenerQueues {
    /// Established connections waiting for accept (Linux's `sk_ack_backlog`).
    pub accept_queue: usize,
    /// Half-open connections (SYN received, SYN-ACK sent).
    pub syn_queue: usize,
    /// The most connections the accept queue holds: the `listen` backlog, capped at
    /// [`TcpStackConfig::max_backlog`] (Linux's `sk_max_ack_backlog`).
    pub backlog: usize,
}

impl ListenerQueues {
    fn of<A: IpAddress>(listener: &Listener<A>) -> Self {
        Self {
            accept_queue: listener.accept_queue_len(),
            syn_queue: listener.syn_queue_len(),
            backlog: listener.config().backlog,
        }
    }
}

/// The stack timer of one TCP socket: the socket's id.
pub type TcpTimerId = AnyTcpSocketId;

/// A stack's TCP settings: Linux's sysctls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpStackConfig {
    /// The settings of a new socket.
    pub tcp: TcpConfig,
    /// Most half-open connections per listener (`tcp_max_syn_backlog`).
    pub syn_queue: usize,
    /// SYN cookies (`tcp_syncookies`).
    pub syncookies: SynCookieMode,
    /// The largest `listen` backlog (`net.core.somaxconn`).
    pub max_backlog: usize,
    /// Most sockets of both versions together, orphans included (ENFILE beyond).
    pub max_sockets: usize,
    /// The ephemeral port range (`ip_local_port_range`).
    pub port_range: PortRange,
}

impl Default for TcpStackConfig {
    fn default() -> Self {
        let listener = ListenerConfig::default();
        Self {
            tcp: TcpConfig::default(),
            syn_queue: listener.syn_queue,
            syncookies: listener.syncookies,
            max_backlog: 4096,
            max_sockets: 65536,
            port_range: PortRange::LINUX_DEFAULT,
        }
    }
}

/// What one IP version's sockets differ in; implemented by [`Ipv4`] and [`Ipv6`].
pub trait TcpIpExt: DualStackIpExt {
    /// This version's sockets, given both.
    fn own<'a>(v4: &'a TcpSockets<Ipv4>, v6: &'a TcpSockets<Ipv6>) -> &'a TcpSockets<Self>;

    /// This version's sockets, mutably, given both.
    fn own_mut<'a>(v4: &'a mut TcpSockets<Ipv4>, v6: &'a mut TcpSockets<Ipv6>) -> &'a mut TcpSockets<Self>;

    /// The id as one of either version.
    fn any_id(socket: TcpSocketId<Self>) -> AnyTcpSocketId;

    /// This version's sockets and what both versions share.
    fn split(tcp: &mut Tcp) -> (&mut TcpSockets<Self>, &mut Shared) {
        let Tcp { v4, v6, shared } = tcp;
        (Self::own_mut(v4, v6), shared)
    }

    /// This version's sockets.
    fn sockets(tcp: &Tcp) -> &TcpSockets<Self> {
        Self::own(&tcp.v4, &tcp.v6)
    }

    /// The stack timer of `socket`.
    fn timer_id(socket: TcpSocketId<Self>) -> TcpTimerId {
        Self::any_id(socket)
    }
}

impl TcpIpExt for Ipv4 {
    fn own<'a>(v4: &'a TcpSockets<Ipv4>, _: &'a TcpSockets<Ipv6>) -> &'a TcpSockets<Self> {
        v4
    }

    fn own_mut<'a>(v4: &'a mut TcpSockets<Ipv4>, _: &'a mut TcpSockets<Ipv6>) -> &'a mut TcpSockets<Self> {
        v4
    }

    fn any_id(socket: TcpSocketId<Self>) -> AnyTcpSocketId {
        AnyTcpSocketId::V4(socket)
    }
}

impl TcpIpExt for Ipv6 {
    fn own<'a>(_: &'a TcpSockets<Ipv4>, v6: &'a TcpSockets<Ipv6>) -> &'a TcpSockets<Self> {
        v6
    }

    fn own_mut<'a>(_: &'a mut TcpSockets<Ipv4>, v6: &'a mut TcpSockets<Ipv6>) -> &'a mut TcpSockets<Self> {
        v6
    }

    fn any_id(socket: TcpSocketId<Self>) -> AnyTcpSocketId {
        AnyTcpSocketId::V6(socket)
    }
}

/// What the sockets of both IP versions share.
#[derive(Debug)]
pub struct Shared {
    config: TcpStackConfig,
    ports: EphemeralPorts,
    isn: IsnGenerator,
    cookies: SynCookies,
    /// The counters of sockets gone, and of segments no socket took.
    totals: TcpCounters,
    /// Where segments that cannot be routed are written and dropped.
    scratch: Vec<u8>,
    open: usize,
}

/// Every TCP socket of a stack; see the [module documentation](self).
#[derive(Debug)]
pub struct Tcp {
    v4: TcpSockets<Ipv4>,
    v6: TcpSockets<Ipv6>,
    shared: Shared,
}

/// A listener's TCP_INFO: LISTEN, with its accept queue and backlog.
fn listener_info<A: IpAddress>(listener: &Listener<A>, cfg: &TcpConfig) -> TcpInfo {
    let queues = ListenerQueues::of(listener);
    TcpInfo {
        accept_queue: u32::try_from(queues.accept_queue).unwrap_or(u32::MAX),
        backlog: u32::try_from(queues.backlog).unwrap_or(u32::MAX),
        ..TcpInfo::without_connection(State::Listen, cfg)
    }
}

/// The address a socket bound to the wildcard is reported with.
fn local_endpoint<I: Ip>(local: &LocalEndpoint<I, NonZeroU16>) -> Endpoint<I::Addr> {
    Endpoint { addr: local.addr.map_or(I::Addr::default(), |a| *a), port: local.port.get() }
}

/// `endpoint`, an endpoint of a packet, as a socket of version `J` names it.
fn endpoint_as<J: DualStackIpExt, A: IpAddress>(endpoint: Endpoint<A>) -> Option<Endpoint<J::Addr>> {
    J::from_ip(endpoint.addr.to_ip_addr()).map(|addr| Endpoint { addr, port: endpoint.port })
}

impl Tcp {
    /// An empty TCP layer; `rng` keys ISNs, SYN cookies, ports and the SO_REUSEPORT hash.
    pub fn new(rng: &mut impl RngContext, config: TcpStackConfig) -> Self {
        let map_key = random_key(rng);
        let isn = IsnGenerator::new(random_key(rng));
        let cookies = SynCookies::new(random_key(rng));
        let ports = EphemeralPorts::new(rng, config.port_range, DEFAULT_TABLE_LEN);
        Self {
            v4: TcpSockets::new(map_key),
            v6: TcpSockets::new(map_key),
            shared: Shared {
                config,
                ports,
                isn,
                cookies,
                totals: TcpCounters::default(),
                scratch: vec![0; LOST_SEGMENT_SCRATCH],
                open: 0,
            },
        }
    }

    /// The settings.
    pub fn config(&self) -> &TcpStackConfig {
        &self.shared.config
    }

    /// Sockets open, orphaned connections included.
    pub fn len(&self) -> usize {
        self.shared.open
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.shared.open == 0
    }

    /// The stack's Tcp/TcpExt counters: those of the sockets gone plus the live ones'.
    pub fn counters(&self) -> TcpCounters {
        let mut total = self.shared.totals.clone();
        fn add_live<I: Ip>(total: &mut TcpCounters, sockets: &TcpSockets<I>) {
            for socket in sockets.slots.iter() {
                match &socket.state {
                    SocketState::Connected { conn, .. } => total.add(conn.counters()),
                    SocketState::Listening { listener, .. } => total.add(listener.counters()),
                    _ => {}
                }
            }
        }
        add_live(&mut total, &self.v4);
        add_live(&mut total, &self.v6);
        total
    }

    /// Every socket, IPv4 then IPv6, in slot order, listeners and connections, orphaned
    /// ones still finishing included: what `ss -tai` lists (see
    /// [`inspect`](crate::transport::inspect)). Queues and TCP_INFO are what
    /// [`queues`](Self::queues) and [`info`](Self::info) report. O(sockets).
    pub fn summaries(&self) -> impl Iterator<Item = SocketSummary> + '_ {
        fn of<I: TcpIpExt>(sockets: &TcpSockets<I>) -> impl Iterator<Item = SocketSummary> + '_ {
            sockets.slots.iter_with_ids().map(|(index, generation, socket)| {
                let id = TcpSocketId::<I> { index, generation, _ip: PhantomData };
                summary(I::any_id(id), index, I::VERSION, socket)
            })
        }
        fn summary<I: Ip>(
            id: AnyTcpSocketId,
            slot: u32,
            version: IpVersion,
            socket: &Socket<I>,
        ) -> SocketSummary {
            let (state, local, remote, queues, info) = match &socket.state {
                SocketState::Unbound => {
                    let info = TcpInfo::without_connection(State::Closed, &socket.cfg);
                    (State::Closed, Endpoint { addr: I::Addr::default(), port: 0 }, None, (0, 0), info)
                }
                SocketState::Bound(local) => {
                    let info = TcpInfo::without_connection(State::Closed, &socket.cfg);
                    (State::Closed, local_endpoint(local), None, (0, 0), info)
                }
                SocketState::Listening { local, listener } => {
                    let info = listener_info(listener, &socket.cfg);
                    let queues = (listener.accept_queue_len(), listener.config().backlog);
                    (State::Listen, local_endpoint(local), None, queues, info)
                }
                SocketState::Connected { conn, .. } => {
                    let queues = (conn.recv_queue_len(), conn.send_queue_len());
                    let remote = conn.remote();
                    (
                        conn.state(),
                        conn.local(),
                        Some((remote.addr.to_ip_addr(), remote.port)),
                        queues,
                        conn.info(),
                    )
                }
            };
            SocketSummary {
                id: id.into(),
                slot,
                protocol: SocketProtocol::Tcp,
                version,
                state: Some(state),
                local_addr: SpecifiedAddr::new(local.addr).map(|a| a.to_ip_addr()),
                local_port: local.port,
                remote,
                recv_queue: queues.0,
                send_queue: queues.1,
                tcp_info: Some(info),
                orphaned: socket.orphaned,
            }
        }
        of(&self.v4).chain(of(&self.v6))
    }

    /// Connections in ESTABLISHED or CLOSE-WAIT (Linux's CurrEstab).
    pub fn current_established(&self) -> u64 {
        fn count<I: Ip>(sockets: &TcpSockets<I>) -> u64 {
            let established = |s: &&Socket<I>| {
                matches!(&s.state, SocketState::Connected { conn, .. }
                    if matches!(conn.state(), State::Established | State::CloseWait))
            };
            sockets.slots.iter().filter(established).count() as u64
        }
        count(&self.v4) + count(&self.v6)
    }

    /// Opens a socket (socket(2)); `owner` scopes SO_REUSEPORT groups (the user id on
    /// Linux). An IPv6 socket starts dual-stack (IPV6_V6ONLY off, Linux's `bindv6only` 0).
    pub fn create<I: TcpIpExt>(&mut self, owner: u32) -> Result<TcpSocketId<I>, SocketError> {
        let (sockets, shared) = I::split(self);
        if shared.open >= shared.config.max_sockets {
            return Err(SocketError::TooManySockets);
        }
        let socket = Socket {
            state: SocketState::Unbound,
            sharing: Sharing { owner, ..Sharing::default() },
            device: None,
            v6only: false,
            cfg: shared.config.tcp.clone(),
            ip_header: IpHeaderOptions::default(),
            timer_at: None,
            orphaned: false,
        };
        let (index, generation) = sockets.slots.insert(socket).ok_or(SocketError::TooManySockets)?;
        shared.open += 1;
        Ok(TcpSocketId { index, generation, _ip: PhantomData })
    }

    /// Both versions' tables, for checks that cross versions.
    fn tables(&self) -> Tables<'_> {
        Tables { v4: &self.v4, v6: &self.v6 }
    }

    /// Adds the entries of socket `id` at `placement` to the `kind` tables.
    fn hash_local<I: TcpIpExt>(
        &mut self,
        kind: MapKind,
        id: TcpSocketId<I>,
        placement: &TcpPlacement<I>,
        sharing: Sharing,
    ) {
        let any = I::any_id(id);
        if let Some((local, _)) = placement.native {
            let own = I::own_mut(&mut self.v4, &mut self.v6);
            own.map_mut(kind).insert_unchecked(any, local, None, sharing, EntryKind::Native);
        }
        if let Some((local, _)) = placement.v4 {
            let kind_v4 = TcpPlacement::<I>::v4_kind();
            self.v4.map_mut(kind).insert_unchecked(any, local, None, sharing, kind_v4);
        }
    }

    /// Removes the entries of socket `id` on `port` from the `kind` tables of both versions.
    fn unhash_local<I: TcpIpExt>(&mut self, kind: MapKind, id: TcpSocketId<I>, port: NonZeroU16) {
        let any = I::any_id(id);
        self.v4.map_mut(kind).remove(any, port);
        self.v6.map_mut(kind).remove(any, port);
    }

    /// Adds a connection to the `conns` table of the version its packets travel over.
    fn hash_conn(&mut self, key: WireKey, id: AnyTcpSocketId) {
        match key {
            WireKey::V4(k) => self.v4.conns.insert(k, id),
            WireKey::V6(k) => self.v6.conns.insert(k, id),
        };
    }

    /// bind(2): `addr` `None` is the wildcard, `port` `None` an ephemeral port. On an IPv6
    /// socket an IPv4-mapped address binds the IPv4 address (EINVAL with IPV6_V6ONLY), and
    /// `::` without IPV6_V6ONLY the IPv4 wildcard too.
    pub fn bind<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        addr: Option<SpecifiedAddr<I::Addr>>,
        port: Option<NonZeroU16>,
    ) -> Result<(), SocketError> {
        let socket = I::sockets(self).get(id)?;
        if !matches!(socket.state, SocketState::Unbound) {
            return Err(SocketError::InvalidArgument);
        }
        let (sharing, device, v6only) = (socket.sharing, socket.device, socket.v6only);
        if let Some(addr) = addr {
            if v6only && I::mapped_v4(*addr).is_some() {
                return Err(SocketError::InvalidArgument);
            }
            // `::ffff:0.0.0.0` is the IPv4 wildcard (Linux's `inet6_bind`).
            let v4_wildcard = I::mapped_v4(*addr).is_some_and(|a| a.is_unspecified());
            if !v4_wildcard && !context::is_local_addr::<I, C>(ctx, addr, device) {
                return Err(SocketError::AddrNotAvailable);
            }
        }
        let any = I::any_id(id);
        let at = |port| Placement::new(addr, port, device, None, v6only);
        let port = match port {
            Some(port) => {
                if self.tables().bind_conflict::<I>(&at(port), &sharing, any) {
                    return Err(SocketError::AddrInUse);
                }
                port
            }
            None => {
                let Tcp { v4, v6, shared } = self;
                let tables = Tables { v4, v6 };
                let wildcard = I::Addr::default();
                shared
                    .ports
                    .select(addr.map_or(wildcard, |a| *a), wildcard, 0, |port| {
                        !tables.bind_conflict::<I>(&at(port), &sharing, any)
                    })
                    .ok_or(SocketError::AddrInUse)?
            }
        };
        self.hash_local(MapKind::Bound, id, &at(port), sharing);
        I::split(self).0.get_mut(id)?.state = SocketState::Bound(LocalEndpoint { addr, port, device });
        Ok(())
    }

    /// listen(2): an unbound socket gets an ephemeral port on the wildcard first, as on
    /// Linux; listening again changes the backlog. A dual-stack IPv6 listener takes IPv4
    /// connections too (see the [module documentation](self)).
    pub fn listen<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        backlog: usize,
    ) -> Result<(), SocketError> {
        if matches!(I::sockets(self).get(id)?.state, SocketState::Unbound) {
            self.bind(ctx, id, None, None)?;
        }
        let max_backlog = self.shared.config.max_backlog;
        let backlog = backlog.clamp(1, max_backlog);
        let socket = I::split(self).0.get_mut(id)?;
        let local = match &mut socket.state {
            SocketState::Bound(local) => *local,
            SocketState::Listening { listener, .. } => {
                listener.set_backlog(backlog);
                return Ok(());
            }
            _ => return Err(SocketError::InvalidArgument),
        };
        let (sharing, tcp, placement) = (socket.sharing, socket.cfg.clone(), socket.placement(&local));
        if self.tables().listen_conflict::<I>(&placement, &sharing, I::any_id(id)) {
            return Err(SocketError::AddrInUse);
        }
        let shared = &self.shared;
        let cfg = ListenerConfig {
            backlog,
            syn_queue: shared.config.syn_queue,
            syncookies: shared.config.syncookies,
            tcp,
            ..ListenerConfig::default()
        };
        let mtu = local.device.map_or(1500, |d| TcpIpContext::<I>::device_mtu(ctx, d));
        let listener = Listener::new(cfg, shared.isn.clone(), shared.cookies.clone(), mtu);
        self.hash_local(MapKind::Listening, id, &placement, sharing);
        I::split(self).0.get_mut(id)?.state = SocketState::Listening { local, listener: Box::new(listener) };
        Ok(())
    }

    /// connect(2): starts the handshake; [`Event::Connected`] or [`Event::Error`] follows.
    /// A dual-stack IPv6 socket connects to an IPv4-mapped address over IPv4 (ENETUNREACH
    /// with IPV6_V6ONLY, as Linux's `tcp_v6_connect`); a source and destination of
    /// different versions (a socket bound to an IPv4-mapped address connecting to an IPv6
    /// one, or the reverse) are EINVAL.
    pub fn connect<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        remote: SpecifiedAddr<I::Addr>,
        remote_port: NonZeroU16,
    ) -> Result<(), SocketError> {
        self.connect_scoped(ctx, id, remote, remote_port, None)
    }

    /// connect(2) with a `sin6_scope_id`: to a link-local `remote` (RFC 4007 §6), `scope`
    /// names the device it is reached through, and the socket is bound to that device (EINVAL
    /// if it is bound to another: Linux's `tcp_v6_connect`). A link-local `remote` without a
    /// scope needs a socket bound to a device (EINVAL otherwise). For other destinations
    /// `scope` is ignored; otherwise as [`connect`](Self::connect).
    pub fn connect_scoped<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        remote: SpecifiedAddr<I::Addr>,
        remote_port: NonZeroU16,
        scope: Option<DeviceId>,
    ) -> Result<(), SocketError> {
        if remote.is_link_local_unicast() {
            let socket = I::split(self).0.get_mut(id)?;
            match (socket.device, scope) {
                (Some(bound), Some(scope)) if bound != scope => return Err(SocketError::InvalidArgument),
                (None, None) => return Err(SocketError::InvalidArgument),
                (_, Some(scope)) => socket.device = Some(scope),
                (Some(_), None) => {}
            }
        }
        let socket = I::sockets(self).get(id)?;
        let (bound, explicit_bind) = match &socket.state {
            SocketState::Unbound => (None, false),
            SocketState::Bound(local) => (Some(*local), true),
            SocketState::Listening { .. } => return Err(SocketError::InvalidArgument),
            SocketState::Connected { conn, explicit_bind, .. } => match conn.state() {
                State::SynSent | State::SynReceived => return Err(SocketError::AlreadyInProgress),
                State::Closed => (None, *explicit_bind),
                _ => return Err(SocketError::IsConnected),
            },
        };
        if socket.v6only && I::mapped_v4(*remote).is_some() {
            return Err(SocketError::NetworkUnreachable);
        }
        let device = bound.and_then(|b| b.device).or(socket.device);
        let route = context::route::<I, C>(ctx, remote, bound.and_then(|b| b.addr), device)?;
        let src = route.src;
        let remote_end = Endpoint { addr: *remote, port: remote_port.get() };
        let key_at =
            |port: NonZeroU16| WireKey::new::<I>(Endpoint { addr: *src, port: port.get() }, remote_end);
        let port = match bound {
            Some(local) => {
                let key = key_at(local.port).ok_or(SocketError::InvalidArgument)?;
                if self.tables().conn(&key).is_some() {
                    return Err(SocketError::AddrInUse);
                }
                local.port
            }
            None => {
                let Tcp { v4, v6, shared } = self;
                let tables = Tables { v4, v6 };
                let free = |port: NonZeroU16| {
                    let placement = Placement::new(Some(src), port, device, None, false);
                    key_at(port).is_some_and(|key| tables.conn(&key).is_none())
                        && !tables.port_bound::<I>(&placement)
                };
                shared.ports.select(*src, *remote, remote_port.get(), free).ok_or(SocketError::WouldBlock)?
            }
        };
        let key = key_at(port).ok_or(SocketError::InvalidArgument)?;
        let local_end = Endpoint { addr: *src, port: port.get() };
        let now = ctx.now();
        let (sockets, shared) = I::split(self);
        let isn = shared.isn.isn(now, local_end, remote_end);
        let ts_offset = shared.isn.timestamp_offset(local_end, remote_end);
        let socket = sockets.get_mut(id)?;
        let conn =
            Connection::connect(now, socket.cfg.clone(), local_end, remote_end, isn, ts_offset, route.mtu);
        if let SocketState::Connected { conn: old, .. } = &mut socket.state {
            shared.totals.add(&old.take_counters());
        }
        socket.state = SocketState::Connected { conn: Box::new(conn), hashed: true, explicit_bind };
        if let Some(local) = bound {
            self.unhash_local(MapKind::Bound, id, local.port);
        }
        self.hash_conn(key, I::any_id(id));
        self.flush(ctx, id);
        Ok(())
    }

    /// accept(2): the next established connection, as a new socket with the listener's
    /// options, and its peer; EAGAIN when none waits. A dual-stack IPv6 listener's IPv4
    /// connections come out as IPv6 sockets with IPv4-mapped addresses.
    pub fn accept<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
    ) -> Result<(TcpSocketId<I>, Endpoint<I::Addr>), SocketError> {
        let (sockets, shared) = I::split(self);
        if shared.open >= shared.config.max_sockets {
            return Err(SocketError::TooManySockets);
        }
        let socket = sockets.get_mut(id)?;
        let SocketState::Listening { listener, .. } = &mut socket.state else {
            return Err(SocketError::InvalidArgument);
        };
        let mut conn = listener.accept().ok_or(SocketError::WouldBlock)?;
        // A link-local peer ties the connection to the device its SYN came by (Linux's
        // `ir_iif` becoming the child's `sk_bound_dev_if`).
        let device = socket.device.or(conn.scope());
        // The IP header choices are inherited too, as Linux's child sockets copy the
        // listener's `inet_sock` and `ipv6_pinfo`.
        let (sharing, v6only, cfg, ip_header) =
            (socket.sharing, socket.v6only, socket.cfg.clone(), socket.ip_header);
        let (local, remote) = (conn.local(), conn.remote());
        if let (Some(l), Some(r)) = (SpecifiedAddr::new(local.addr), SpecifiedAddr::new(remote.addr)) {
            if let Ok(route) = context::route::<I, C>(ctx, r, Some(l), device) {
                conn.set_path_mtu(ctx.now(), route.mtu);
            }
        }
        // The listener only makes connections from packets, whose addresses agree.
        let key = WireKey::new::<I>(local, remote);
        let accepted = Socket {
            state: SocketState::Connected {
                conn: Box::new(conn),
                hashed: key.is_some(),
                explicit_bind: false,
            },
            sharing,
            device,
            v6only,
            cfg,
            ip_header,
            timer_at: None,
            orphaned: false,
        };
        let (sockets, shared) = I::split(self);
        let (index, generation) = sockets.slots.insert(accepted).ok_or(SocketError::TooManySockets)?;
        shared.open += 1;
        let new_id = TcpSocketId { index, generation, _ip: PhantomData };
        if let Some(key) = key {
            self.hash_conn(key, I::any_id(new_id));
        }
        // What happened before accept (data arriving, the peer's FIN) is still pending on
        // the connection: the flush reports it to the new socket.
        self.flush(ctx, new_id);
        self.flush(ctx, id);
        Ok((new_id, remote))
    }

    /// send(2): queues what fits in the send buffer; EAGAIN when none does. The copying
    /// form of [`send_with`](Self::send_with).
    pub fn send<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        data: &[u8],
    ) -> Result<usize, SocketError> {
        match self.send_with(ctx, id, |first, second| copy_to_runs(data, first, second)) {
            Err(SocketError::WouldBlock) if data.is_empty() => Ok(0),
            result => result,
        }
    }

    /// send(2) without a copy through the caller's buffer, for the bindings' data plane:
    /// `fill` gets the send ring's free space as two slices (the second empty unless the
    /// space wraps around the ring's end; one `readv` into both fills it in order) and
    /// returns how many bytes it wrote at their start, the first slice before the second
    /// (more than it was given is clamped). The connection then sends as after
    /// [`send`](Self::send). Returns the bytes taken; EAGAIN, without calling `fill`, when
    /// the send buffer is full; the pending error, EPIPE after shutdown(SHUT_WR), ENOTCONN
    /// before connect, as `send`.
    pub fn send_with<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        fill: impl FnOnce(&mut [u8], &mut [u8]) -> usize,
    ) -> Result<usize, SocketError> {
        let n = I::split(self).0.conn_mut(id)?.send_with(fill)?;
        self.flush(ctx, id);
        Ok(n)
    }

    /// recv(2): 0 at end of stream, EAGAIN when nothing is there yet. The copying form of
    /// [`recv_with`](Self::recv_with).
    pub fn recv<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        buf: &mut [u8],
    ) -> Result<usize, SocketError> {
        if buf.is_empty() {
            // A zero-length read returns 0 whatever the state, as on Linux.
            I::split(self).0.conn_mut(id)?;
            return Ok(0);
        }
        self.recv_with(ctx, id, |first, second| copy_from_runs(first, second, buf))
    }

    /// recv(2) without a copy through the caller's buffer, for the bindings' data plane:
    /// `drain` gets the in-order received bytes as two slices (the older first; the second
    /// empty unless they wrap around the ring's end; one `writev` of both takes them in
    /// order) and returns how many it took from their start (more than it was given is
    /// clamped); only those are consumed, and the window opens as after
    /// [`recv`](Self::recv). `drain` is called only when data is waiting: `Ok(0)` without a
    /// call is the end of the stream (the peer's FIN, or shutdown(SHUT_RD)); with nothing
    /// waiting it is EAGAIN, or the pending error, as `recv`.
    pub fn recv_with<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        drain: impl FnOnce(&[u8], &[u8]) -> usize,
    ) -> Result<usize, SocketError> {
        let result = I::split(self).0.conn_mut(id)?.recv_with(drain);
        // Reading may open the window: a window update may be due.
        self.flush(ctx, id);
        result
    }

    /// recv(2) with MSG_PEEK.
    pub fn peek<I: TcpIpExt>(&mut self, id: TcpSocketId<I>, buf: &mut [u8]) -> Result<usize, SocketError> {
        Ok(I::split(self).0.conn_mut(id)?.peek(buf))
    }

    /// shutdown(2).
    pub fn shutdown<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        how: Shutdown,
    ) -> Result<(), SocketError> {
        let (sockets, _) = I::split(self);
        match &mut sockets.get_mut(id)?.state {
            SocketState::Connected { conn, .. } => conn.shutdown(how)?,
            SocketState::Listening { .. } if how != Shutdown::Write => {
                // Linux: shutdown(SHUT_RD) on a listener stops it, like close but keeping
                // the socket.
                self.stop_listening(ctx, id);
                return Ok(());
            }
            _ => return Err(SocketError::NotConnected),
        }
        self.flush(ctx, id);
        Ok(())
    }

    /// close(2): a listener resets the connections it holds; a connection closes in the
    /// background (orderly, or with RST as [`Connection::close`] decides).
    pub fn close<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
    ) -> Result<(), SocketError> {
        let (sockets, _) = I::split(self);
        let socket = sockets.get_mut(id)?;
        match &mut socket.state {
            SocketState::Connected { conn, .. } => {
                conn.close();
                socket.orphaned = true;
                self.flush(ctx, id);
            }
            SocketState::Listening { local, .. } => {
                let port = local.port;
                self.stop_listening(ctx, id);
                self.unhash_local(MapKind::Bound, id, port);
                self.remove(id);
            }
            SocketState::Bound(local) => {
                let port = local.port;
                self.unhash_local(MapKind::Bound, id, port);
                self.remove(id);
            }
            SocketState::Unbound => self.remove(id),
        }
        Ok(())
    }

    /// close(2) of a connected socket whose application left received bytes unread in a
    /// buffer past the core (the bindings' data plane): the connection is reset instead of
    /// closed in order, as [`close`](Self::close) does for bytes still in the core's receive
    /// buffer (RFC 2525 §2.17; Linux's TCPAbortOnClose). Other sockets close as with `close`.
    pub fn close_unread<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
    ) -> Result<(), SocketError> {
        let (sockets, _) = I::split(self);
        let socket = sockets.get_mut(id)?;
        let SocketState::Connected { conn, .. } = &mut socket.state else { return self.close(ctx, id) };
        conn.close_unread();
        socket.orphaned = true;
        self.flush(ctx, id);
        Ok(())
    }

    /// Stops a listener: the connections it holds are reset, its port released; the socket
    /// goes back to bound.
    fn stop_listening<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
    ) {
        let (sockets, shared) = I::split(self);
        let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return };
        let SocketState::Listening { local, listener } = &mut socket.state else { return };
        let (local, header) = (*local, socket.ip_header);
        let now = ctx.now();
        while let Some(mut conn) = listener.accept() {
            conn.abort();
            let scope = conn.scope();
            drain_transmit::<I, C>(ctx, &mut conn, now, scope, &header, &mut shared.scratch);
            shared.totals.add(&conn.take_counters());
        }
        shared.totals.add(&listener.take_counters());
        socket.state = SocketState::Bound(local);
        self.unhash_local(MapKind::Listening, id, local.port);
    }

    /// Frees a socket's slot; its table entries must be gone.
    fn remove<I: TcpIpExt>(&mut self, id: TcpSocketId<I>) {
        let (sockets, shared) = I::split(self);
        if let Some(mut socket) = sockets.slots.remove(id.index, id.generation) {
            match &mut socket.state {
                SocketState::Connected { conn, .. } => shared.totals.add(&conn.take_counters()),
                SocketState::Listening { listener, .. } => shared.totals.add(&listener.take_counters()),
                _ => {}
            }
            shared.open -= 1;
        }
    }

    /// The bound address (getsockname); the wildcard and port 0 before bind.
    pub fn local_addr<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<Endpoint<I::Addr>, SocketError> {
        Ok(match &I::sockets(self).get(id)?.state {
            SocketState::Unbound => Endpoint { addr: I::Addr::default(), port: 0 },
            SocketState::Bound(local) | SocketState::Listening { local, .. } => local_endpoint(local),
            SocketState::Connected { conn, .. } => conn.local(),
        })
    }

    /// The peer (getpeername); ENOTCONN unless connected.
    pub fn peer_addr<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<Endpoint<I::Addr>, SocketError> {
        match &I::sockets(self).get(id)?.state {
            SocketState::Connected { conn, .. } if conn.state().is_synchronized() => Ok(conn.remote()),
            _ => Err(SocketError::NotConnected),
        }
    }

    /// The zone (`sin6_scope_id`) of the socket's link-local addresses (RFC 4007 §6): the
    /// device it is tied to when the address [`local_addr`](Self::local_addr) or
    /// [`peer_addr`](Self::peer_addr) reports is link-local, as Linux reports
    /// `sk_bound_dev_if`; `None` otherwise. An accepted connection from a link-local peer is
    /// tied to the device its SYN arrived on.
    pub fn scope<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<Option<DeviceId>, SocketError> {
        let socket = I::sockets(self).get(id)?;
        let link_local = match &socket.state {
            SocketState::Unbound => false,
            SocketState::Bound(local) | SocketState::Listening { local, .. } => {
                local.addr.is_some_and(|a| a.is_link_local_unicast())
            }
            SocketState::Connected { conn, .. } => {
                conn.local().addr.is_link_local_unicast() || conn.remote().addr.is_link_local_unicast()
            }
        };
        Ok(socket.device.filter(|_| link_local))
    }

    /// The connection's state; LISTEN for a listener, CLOSED before connect.
    pub fn state<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<State, SocketError> {
        Ok(match &I::sockets(self).get(id)?.state {
            SocketState::Unbound | SocketState::Bound(_) => State::Closed,
            SocketState::Listening { .. } => State::Listen,
            SocketState::Connected { conn, .. } => conn.state(),
        })
    }

    /// SO_ERROR: takes the pending error.
    pub fn take_error<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
    ) -> Result<Option<SocketError>, SocketError> {
        match &mut I::split(self).0.get_mut(id)?.state {
            SocketState::Connected { conn, .. } => Ok(conn.take_error()),
            _ => Ok(None),
        }
    }

    /// TCP_INFO, in every state as on Linux: a connection's snapshot; for a listener its
    /// state (LISTEN, [`State::linux_number`] 10) with its accept queue and backlog in
    /// [`TcpInfo::accept_queue`] and [`TcpInfo::backlog`]; for a socket without a
    /// connection CLOSED (7) and starting values ([`TcpInfo::without_connection`]).
    pub fn info<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<TcpInfo, SocketError> {
        let socket = I::sockets(self).get(id)?;
        Ok(match &socket.state {
            SocketState::Connected { conn, .. } => conn.info(),
            SocketState::Listening { listener, .. } => listener_info(listener, &socket.cfg),
            SocketState::Unbound | SocketState::Bound(_) => {
                TcpInfo::without_connection(State::Closed, &socket.cfg)
            }
        })
    }

    /// SO_ACCEPTCONN: whether the socket listens.
    pub fn accept_conn<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<bool, SocketError> {
        Ok(matches!(I::sockets(self).get(id)?.state, SocketState::Listening { .. }))
    }

    /// A listener's queues (`ss -l`'s Recv-Q and Send-Q, and the half-open connections);
    /// EINVAL for a socket that does not listen.
    pub fn listener_queues<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<ListenerQueues, SocketError> {
        match &I::sockets(self).get(id)?.state {
            SocketState::Listening { listener, .. } => Ok(ListenerQueues::of(listener)),
            _ => Err(SocketError::InvalidArgument),
        }
    }

    /// Bytes waiting to be read (FIONREAD) and bytes not yet acknowledged (TIOCOUTQ); for a
    /// listener, connections waiting for accept and the backlog.
    pub fn queues<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<(usize, usize), SocketError> {
        Ok(match &I::sockets(self).get(id)?.state {
            SocketState::Connected { conn, .. } => (conn.recv_queue_len(), conn.send_queue_len()),
            SocketState::Listening { listener, .. } => {
                (listener.accept_queue_len(), listener.config().backlog)
            }
            _ => (0, 0),
        })
    }

    /// Free space in the send buffer (what `send` would take now).
    pub fn send_space<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<usize, SocketError> {
        match &I::sockets(self).get(id)?.state {
            SocketState::Connected { conn, .. } => Ok(conn.send_space()),
            _ => Err(SocketError::NotConnected),
        }
    }

    /// Applies `set` to the socket's settings and, when connected, `apply` to the connection.
    fn set_option<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        set: impl FnOnce(&mut TcpConfig),
        apply: impl FnOnce(&mut Connection<I::Addr>),
    ) -> Result<(), SocketError> {
        self.try_set_option(id, set, |conn| {
            apply(conn);
            true
        })
    }

    /// [`set_option`](Self::set_option) for a setting a connection may refuse (`apply`
    /// returns false): EINVAL then, and the socket's settings stay as they were.
    fn try_set_option<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        set: impl FnOnce(&mut TcpConfig),
        apply: impl FnOnce(&mut Connection<I::Addr>) -> bool,
    ) -> Result<(), SocketError> {
        let socket = I::split(self).0.get_mut(id)?;
        if let SocketState::Connected { conn, .. } = &mut socket.state {
            if !apply(conn) {
                return Err(SocketError::InvalidArgument);
            }
        }
        set(&mut socket.cfg);
        Ok(())
    }

    /// SO_REUSEADDR; affects later binds.
    pub fn set_reuse_addr<I: TcpIpExt>(&mut self, id: TcpSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.set_sharing(id, |s| s.reuse_addr = on)
    }

    /// SO_REUSEPORT; affects later binds.
    pub fn set_reuse_port<I: TcpIpExt>(&mut self, id: TcpSocketId<I>, on: bool) -> Result<(), SocketError> {
        self.set_sharing(id, |s| s.reuse_port = on)
    }

    fn set_sharing<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        f: impl FnOnce(&mut Sharing),
    ) -> Result<(), SocketError> {
        let socket = I::split(self).0.get_mut(id)?;
        f(&mut socket.sharing);
        let sharing = socket.sharing;
        let port = match &socket.state {
            SocketState::Bound(local) | SocketState::Listening { local, .. } => local.port,
            _ => return Ok(()),
        };
        let any = I::any_id(id);
        for kind in [MapKind::Bound, MapKind::Listening] {
            self.v4.map_mut(kind).set_sharing(any, port, sharing);
            self.v6.map_mut(kind).set_sharing(any, port, sharing);
        }
        Ok(())
    }

    /// SO_BINDTODEVICE, before bind or connect (EINVAL after).
    pub fn set_device<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        device: Option<DeviceId>,
    ) -> Result<(), SocketError> {
        let socket = I::split(self).0.get_mut(id)?;
        if !matches!(socket.state, SocketState::Unbound) {
            return Err(SocketError::InvalidArgument);
        }
        socket.device = device;
        Ok(())
    }

    /// IPV6_V6ONLY: whether an IPv6 socket keeps to IPv6 (off by default). Only before bind,
    /// listen or connect: EINVAL after, as Linux (`do_ipv6_setsockopt` refuses once the
    /// socket has a port).
    pub fn set_v6only(&mut self, id: TcpSocketId<Ipv6>, on: bool) -> Result<(), SocketError> {
        let socket = self.v6.get_mut(id)?;
        if !matches!(socket.state, SocketState::Unbound) {
            return Err(SocketError::InvalidArgument);
        }
        socket.v6only = on;
        Ok(())
    }

    /// IPV6_V6ONLY as set (getsockopt); accepted sockets inherit their listener's.
    pub fn v6only(&self, id: TcpSocketId<Ipv6>) -> Result<bool, SocketError> {
        Ok(self.v6.get(id)?.v6only)
    }

    /// IP_TTL (`version` V4) or IPV6_UNICAST_HOPS (V6): the hop limit of the socket's
    /// segments over that version from now on (SYN, SYN-ACK and RST included; connections a
    /// listener accepts inherit it), `None` for the default, as Linux's -1. A dual-stack
    /// IPv6 socket keeps both: IP_TTL applies to its IPv4 traffic. EINVAL for a TTL of 0
    /// (Linux's `do_ip_setsockopt`; a Hop Limit of 0 is allowed, as `do_ipv6_setsockopt`
    /// allows it) and for V6 on an IPv4 socket.
    pub fn set_hop_limit<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        version: IpVersion,
        hops: Option<u8>,
    ) -> Result<(), SocketError> {
        if version == IpVersion::V4 && hops == Some(0) {
            return Err(SocketError::InvalidArgument);
        }
        self.ip_header_mut(id, version)?.hop_limit = hops;
        Ok(())
    }

    /// IP_TOS (`version` V4) or IPV6_TCLASS (V6): the DSCP of the socket's segments over
    /// that version from now on, inherited like [`set_hop_limit`](Self::set_hop_limit)'s
    /// setting. The ECN bits of `tos` are ignored: the stack owns ECN on TCP (RFC 3168 §6.1),
    /// as Linux's `__ip_sock_set_tos` and `do_ipv6_setsockopt` keep them for stream
    /// sockets. EINVAL for V6 on an IPv4 socket.
    pub fn set_tos<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        version: IpVersion,
        tos: u8,
    ) -> Result<(), SocketError> {
        let fields = self.ip_header_mut(id, version)?;
        fields.tos = (tos & !ECN_MASK) | (fields.tos & ECN_MASK);
        Ok(())
    }

    /// The socket's IP header choices (getsockopt of IP_TTL, IP_TOS, IPV6_UNICAST_HOPS,
    /// IPV6_TCLASS); the TOS bytes as stored, ECN bits cleared.
    pub fn ip_header<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<IpHeaderOptions, SocketError> {
        Ok(I::sockets(self).get(id)?.ip_header)
    }

    fn ip_header_mut<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        version: IpVersion,
    ) -> Result<&mut IpHeaderFields, SocketError> {
        let socket = I::split(self).0.get_mut(id)?;
        if I::VERSION == IpVersion::V4 && version == IpVersion::V6 {
            return Err(SocketError::InvalidArgument);
        }
        Ok(socket.ip_header.get_mut(version))
    }

    /// TCP_NODELAY.
    pub fn set_nodelay<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        on: bool,
    ) -> Result<(), SocketError> {
        self.set_option(id, |c| c.nodelay = on, |conn| conn.set_nodelay(on))?;
        // Turning Nagle off sends what it held back.
        self.flush(ctx, id);
        Ok(())
    }

    /// SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT.
    pub fn set_keepalive<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        on: bool,
        idle: Duration,
        interval: Duration,
        count: u32,
    ) -> Result<(), SocketError> {
        if idle.is_zero() || interval.is_zero() || count == 0 {
            return Err(SocketError::InvalidArgument);
        }
        let now = ctx.now();
        self.set_option(
            id,
            |c| (c.keepalive, c.keep_idle, c.keep_interval, c.keep_count) = (on, idle, interval, count),
            |conn| conn.set_keepalive(now, on, idle, interval, count),
        )?;
        self.flush(ctx, id);
        Ok(())
    }

    /// TCP_SYNCNT: how many times connect retransmits its SYN before it fails with
    /// ETIMEDOUT; Linux takes 1 to 127 (`MAX_TCP_SYNCNT`) and refuses others with EINVAL.
    pub fn set_syn_retries<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        count: u32,
    ) -> Result<(), SocketError> {
        if !(1..=MAX_SYN_RETRIES).contains(&count) {
            return Err(SocketError::InvalidArgument);
        }
        self.set_option(id, |c| c.syn_retries = count, |conn| conn.set_syn_retries(count))
    }

    /// TCP_LINGER2: how long this socket, once closed, waits in FIN-WAIT-2 for the peer's
    /// FIN. As Linux's `tcp_sock_set_linger2`: zero restores the stack's default
    /// (`tcp_fin_timeout`), more than [`MAX_FIN_TIMEOUT`] is cut to it, and `None` (a
    /// negative value) means no wait: the connection is gone once its FIN is acknowledged,
    /// or is reset if it is already in FIN-WAIT-2 when closed.
    pub fn set_fin_timeout<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        timeout: Option<Duration>,
    ) -> Result<(), SocketError> {
        let timeout = match timeout {
            Some(t) if t.is_zero() => self.config().tcp.fin_timeout,
            Some(t) => Some(t.min(MAX_FIN_TIMEOUT)),
            None => None,
        };
        self.set_option(id, |c| c.fin_timeout = timeout, |conn| conn.set_fin_timeout(timeout))
    }

    /// TCP_WINDOW_CLAMP, in bytes: the receive window offered is at most this. As Linux's
    /// `tcp_set_window_clamp`: values below [`MIN_WINDOW_CLAMP`] are raised to it, and 0,
    /// no clamp, only on a closed socket (EINVAL otherwise).
    pub fn set_window_clamp<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        bytes: u32,
    ) -> Result<(), SocketError> {
        let closed = match &I::sockets(self).get(id)?.state {
            SocketState::Unbound | SocketState::Bound(_) => true,
            SocketState::Listening { .. } => false,
            SocketState::Connected { conn, .. } => conn.state() == State::Closed,
        };
        if bytes == 0 && !closed {
            return Err(SocketError::InvalidArgument);
        }
        let clamp = (bytes != 0).then(|| bytes.max(MIN_WINDOW_CLAMP));
        self.set_option(id, |c| c.window_clamp = clamp, |conn| conn.set_window_clamp(clamp))
    }

    /// TCP_WINDOW_CLAMP read back as Linux does: the clamp set, else for a connection the
    /// largest window its buffer may offer, else 0.
    pub fn window_clamp<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<u32, SocketError> {
        let (cfg, _, _) = self.options(id)?;
        let connected = matches!(I::sockets(self).get(id)?.state, SocketState::Connected { .. });
        Ok(match cfg.window_clamp {
            Some(clamp) => clamp,
            None if connected => u32::try_from(cfg.window_basis()).unwrap_or(u32::MAX),
            None => 0,
        })
    }

    /// TCP_CORK: while set, data goes out in full segments only, a partial one at most
    /// [`CORK_CEILING`](super::connection::CORK_CEILING) after it was held; clearing it sends
    /// what it held.
    pub fn set_cork<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        on: bool,
    ) -> Result<(), SocketError> {
        self.set_option(id, |c| c.cork = on, |conn| conn.set_cork(on))?;
        self.flush(ctx, id);
        Ok(())
    }

    /// TCP_QUICKACK (see [`Connection::set_quickack`]); an ACK it releases goes out now.
    /// A socket without a connection has no ACKs to hurry or delay, and takes it as a no-op.
    pub fn set_quickack<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        on: bool,
    ) -> Result<(), SocketError> {
        self.set_option(id, |_| {}, |conn| conn.set_quickack(on))?;
        self.flush(ctx, id);
        Ok(())
    }

    /// TCP_QUICKACK read back: whether the connection is out of pingpong mode (always for
    /// a socket without a connection).
    pub fn quickack<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<bool, SocketError> {
        Ok(match &I::sockets(self).get(id)?.state {
            SocketState::Connected { conn, .. } => conn.quickack(),
            _ => true,
        })
    }

    /// TCP_USER_TIMEOUT (`None` for the retry count alone).
    pub fn set_user_timeout<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        timeout: Option<Duration>,
    ) -> Result<(), SocketError> {
        self.set_option(id, |c| c.user_timeout = timeout, |conn| conn.set_user_timeout(timeout))
    }

    /// SO_LINGER.
    pub fn set_linger<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        linger: Option<Duration>,
    ) -> Result<(), SocketError> {
        self.set_option(id, |c| c.linger = linger, |conn| conn.set_linger(linger))
    }

    /// SO_SNDBUF, in bytes of buffer (the bindings double what the application asks, as
    /// Linux does).
    pub fn set_send_buffer<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        bytes: usize,
    ) -> Result<(), SocketError> {
        self.try_set_option(id, |c| c.send_buffer = bytes, |conn| conn.set_send_buffer(bytes))
    }

    /// SO_RCVBUF; turns receive-buffer auto-tuning off.
    pub fn set_recv_buffer<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        bytes: usize,
    ) -> Result<(), SocketError> {
        self.try_set_option(
            id,
            |c| {
                c.recv_buffer = bytes;
                c.recv_autotune = false;
            },
            |conn| conn.set_recv_buffer(bytes),
        )
    }

    /// TCP_MAXSEG, before connect or listen (EINVAL for values Linux refuses).
    pub fn set_max_segment<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        mss: Option<u16>,
    ) -> Result<(), SocketError> {
        if mss.is_some_and(|m| !(88..=32767).contains(&m)) {
            return Err(SocketError::InvalidArgument);
        }
        self.try_set_option(id, |c| c.mss_clamp = mss, |_| false)
    }

    /// TCP_CONGESTION, before connect or listen.
    pub fn set_congestion<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        algorithm: CongestionAlgorithm,
    ) -> Result<(), SocketError> {
        self.try_set_option(id, |c| c.congestion = algorithm, |_| false)
    }

    /// The socket's settings (getsockopt).
    pub fn options<I: TcpIpExt>(
        &self,
        id: TcpSocketId<I>,
    ) -> Result<(&TcpConfig, Sharing, Option<DeviceId>), SocketError> {
        let socket = I::sockets(self).get(id)?;
        let cfg = match &socket.state {
            SocketState::Connected { conn, .. } => conn.config(),
            _ => &socket.cfg,
        };
        Ok((cfg, socket.sharing, socket.device))
    }

    // ------------------------------------------------------------------ from the IP layer

    /// A TCP segment arrived for this host from `src` to `dst` on `device`, over IP version
    /// `I`; `unicast` says whether `dst` is one of our unicast addresses. An IPv4 segment
    /// may be for an IPv6 socket: a dual-stack listener, or a connection with IPv4-mapped
    /// addresses.
    #[allow(clippy::too_many_arguments)]
    pub fn deliver<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        src: I::Addr,
        dst: I::Addr,
        unicast: bool,
        bytes: &[u8],
    ) {
        let totals = &mut self.shared.totals;
        let segment = match TcpSegment::<&[u8], I::Addr>::parse_bytes(bytes, (src, dst)) {
            Ok(segment) => segment,
            Err(error) => {
                totals.in_segs += 1;
                totals.count_parse_error(&error);
                return;
            }
        };
        let info = SegmentInfo::from_segment(&segment);
        let payload = segment.body();
        let local = Endpoint { addr: dst, port: segment.dst_port() };
        let remote = Endpoint { addr: src, port: segment.src_port() };
        let mapped = I::mapped_v4(src).is_some() || I::mapped_v4(dst).is_some();
        if !unicast || local.port == 0 || remote.port == 0 || mapped {
            totals.in_segs += 1;
            totals.in_errs += 1;
            totals.drop_not_unicast += 1;
            return;
        }
        if let Some(&id) = I::sockets(self).conns.get(&conn_key(local, remote)) {
            let taken = match id {
                AnyTcpSocketId::V4(id) => self.segment_to_conn::<Ipv4, C>(ctx, id, &info, payload),
                AnyTcpSocketId::V6(id) => self.segment_to_conn::<Ipv6, C>(ctx, id, &info, payload),
            };
            if taken {
                return;
            }
        }
        let flow = Flow {
            local_addr: dst,
            local_port: NonZeroU16::new(local.port).expect("checked above"),
            remote_addr: src,
            remote_port: NonZeroU16::new(remote.port),
            device,
        };
        if let Some(id) = I::sockets(self).listening.lookup_unicast(&flow) {
            let mtu = TcpIpContext::<I>::device_mtu(ctx, device);
            let arrival = Arrival { device, mtu, info: &info, payload };
            let taken = match id {
                AnyTcpSocketId::V4(id) => {
                    self.segment_to_listener::<Ipv4, C, _>(ctx, id, local, remote, arrival)
                }
                AnyTcpSocketId::V6(id) => {
                    self.segment_to_listener::<Ipv6, C, _>(ctx, id, local, remote, arrival)
                }
            };
            if taken {
                return;
            }
        }
        // RFC 9293 §3.10.7.1: no connection and no listener, a RST answers (never a RST).
        let totals = &mut self.shared.totals;
        totals.in_segs += 1;
        totals.drop_no_socket += 1;
        // Back out of the arrival device only when the peer's address is link-scoped: it
        // names no other way back (RFC 4007 §6); otherwise the routes decide.
        let scope = src.is_link_local_unicast().then_some(device);
        let sent = TcpIpContext::<I>::send_segment(ctx, dst, src, scope, IpHeaderFields::default(), |out| {
            write_reset_for(out, local, remote, &info, payload.len())
        });
        if sent == Ok(true) {
            totals.out_rsts += 1;
            totals.out_segs += 1;
        }
    }

    /// Hands a segment to socket `id`'s connection; `false` when it is a SYN recycling the
    /// connection's TIME-WAIT (RFC 6191, RFC 9293 §3.6.1), which goes on to the listener.
    fn segment_to_conn<J: TcpIpExt, C: TcpContext + TcpIpContext<J>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<J>,
        info: &SegmentInfo,
        payload: &[u8],
    ) -> bool {
        let now = ctx.now();
        let (sockets, shared) = J::split(self);
        let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return true };
        let SocketState::Connected { conn, .. } = &mut socket.state else { return true };
        let recycle = info.flags.contains(TcpFlags::SYN)
            && conn.state() == State::TimeWait
            && conn.time_wait_accepts_syn(info);
        if !recycle {
            conn.handle_segment(now, info, payload);
            self.flush(ctx, id);
            return true;
        }
        shared.totals.time_wait_recycled += 1;
        let orphaned = socket.orphaned;
        self.unhash(id);
        if orphaned {
            self.remove(id);
        }
        false
    }

    /// Hands a segment from `remote` to `local` (as it arrived, over IP version `I`) to
    /// listener `id`; `false` if `id` is not a listener.
    fn segment_to_listener<J: TcpIpExt, C: TcpContext + TcpIpContext<J>, A: IpAddress>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<J>,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        arrival: Arrival<'_>,
    ) -> bool {
        let (Some(local), Some(remote)) = (endpoint_as::<J, A>(local), endpoint_as::<J, A>(remote)) else {
            return false;
        };
        let now = ctx.now();
        let Some(Socket { state: SocketState::Listening { listener, .. }, .. }) =
            J::split(self).0.slots.get_mut(id.index, id.generation)
        else {
            return false;
        };
        // RFC 4007 §6: a link-local peer is reached through the device it came from.
        let scope = remote.addr.is_link_local_unicast().then_some(arrival.device);
        drive_listener::<J, C>(ctx, id, listener, |l| {
            l.set_mtu(arrival.mtu);
            l.set_scope(scope);
            l.handle_segment(now, local, remote, arrival.info, arrival.payload);
        });
        self.flush(ctx, id);
        true
    }

    /// An ICMP error quoting a segment from `local` to `remote` (over IP version `I`) whose
    /// sequence number was `seq`.
    pub fn deliver_icmp_error<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        local: Endpoint<I::Addr>,
        remote: Endpoint<I::Addr>,
        seq: u32,
        report: &IcmpErrorReport,
    ) {
        match I::sockets(self).conns.get(&conn_key(local, remote)) {
            Some(&AnyTcpSocketId::V4(id)) => self.icmp_error_to_conn::<Ipv4, C>(ctx, id, seq, report),
            Some(&AnyTcpSocketId::V6(id)) => self.icmp_error_to_conn::<Ipv6, C>(ctx, id, seq, report),
            None => {}
        }
    }

    fn icmp_error_to_conn<J: TcpIpExt, C: TcpContext + TcpIpContext<J>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<J>,
        seq: u32,
        report: &IcmpErrorReport,
    ) {
        // Connections the application closed still take them.
        if let Some(Socket { state: SocketState::Connected { conn, .. }, .. }) =
            J::split(self).0.slots.get_mut(id.index, id.generation)
        {
            conn.handle_icmp_error(ctx.now(), report, seq);
        }
        self.flush(ctx, id);
    }

    /// A socket's timer fired.
    pub fn handle_timer<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
    ) {
        let (sockets, _) = I::split(self);
        let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return };
        socket.timer_at = None;
        let now = ctx.now();
        match &mut socket.state {
            SocketState::Connected { conn, .. } => {
                if conn.poll_timeout().is_some_and(|t| t <= now) {
                    conn.handle_timeout(now);
                }
            }
            SocketState::Listening { listener, .. } => {
                drive_listener::<I, C>(ctx, id, listener, |l| l.handle_timeout(now));
            }
            _ => return,
        }
        self.flush(ctx, id);
    }

    // ------------------------------------------------------------------ flushing

    /// Sends what the socket has due, reports its events, re-arms its timer and retires it
    /// once the connection is done.
    fn flush<I: TcpIpExt, C: TcpContext + TcpIpContext<I>>(&mut self, ctx: &mut C, id: TcpSocketId<I>) {
        let (sockets, shared) = I::split(self);
        let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return };
        let now = ctx.now();
        let (device, header) = (socket.device, socket.ip_header);
        let (next, done) = match &mut socket.state {
            SocketState::Connected { conn, hashed, .. } => {
                let retry = drain_transmit::<I, C>(ctx, conn, now, device, &header, &mut shared.scratch);
                while let Some(event) = conn.poll_event() {
                    if !socket.orphaned {
                        TcpIpContext::<I>::socket_event(ctx, id, event);
                    }
                }
                let next = match (conn.poll_timeout(), retry) {
                    (Some(t), true) => Some(t.min(now + NO_BUFFER_RETRY)),
                    (t, retry) => t.or(retry.then(|| now + NO_BUFFER_RETRY)),
                };
                (next, conn.is_closed() && *hashed)
            }
            SocketState::Listening { listener, .. } => {
                // Handshake replies are small and not on the data path: each is written to
                // the scratch buffer, which names its endpoints, then copied out. One lost
                // for want of a buffer is resent by the handshake's own timer.
                while let Some(t) = listener.poll_transmit(now, &mut shared.scratch) {
                    let segment = &shared.scratch[..t.transmit.len];
                    let out_of = t.scope.or(device);
                    let (local, remote) = (t.local.addr, t.remote.addr);
                    let _ = context::send_segment::<I, C>(ctx, local, remote, out_of, &header, |out| {
                        out.get_mut(..segment.len())?.copy_from_slice(segment);
                        Some(segment.len())
                    });
                }
                shared.totals.add(&listener.take_counters());
                (listener.poll_timeout(), false)
            }
            _ => return,
        };
        if let Some(at) = next {
            if socket.timer_at.is_none_or(|t| at < t) {
                socket.timer_at = Some(at);
                TcpIpContext::<I>::schedule_timer(ctx, I::timer_id(id), at);
            }
        }
        if done {
            let orphaned = socket.orphaned;
            self.unhash(id);
            if orphaned {
                self.remove(id);
            }
        }
    }

    /// Takes a finished connection out of `conns` and releases its port.
    fn unhash<I: TcpIpExt>(&mut self, id: TcpSocketId<I>) {
        let Some(socket) = I::split(self).0.slots.get_mut(id.index, id.generation) else { return };
        let SocketState::Connected { conn, hashed, .. } = &mut socket.state else { return };
        if !core::mem::take(hashed) {
            return;
        }
        match WireKey::new::<I>(conn.local(), conn.remote()) {
            Some(WireKey::V4(k)) => {
                self.v4.conns.remove(&k);
            }
            Some(WireKey::V6(k)) => {
                self.v6.conns.remove(&k);
            }
            None => {}
        }
    }
}

/// What a listener needs of a segment besides its endpoints.
#[derive(Clone, Copy)]
struct Arrival<'a> {
    /// The device it arrived on.
    device: DeviceId,
    /// That device's MTU.
    mtu: u32,
    info: &'a SegmentInfo,
    payload: &'a [u8],
}

/// Runs `f`, an input to a listener, and tells the application when a connection starts
/// waiting for accept (the listener becomes readable).
fn drive_listener<I: Ip, C: TcpIpContext<I>>(
    ctx: &mut C,
    id: TcpSocketId<I>,
    listener: &mut Listener<I::Addr>,
    f: impl FnOnce(&mut Listener<I::Addr>),
) {
    let waiting = listener.accept_queue_len();
    f(listener);
    if waiting == 0 && listener.accept_queue_len() > 0 {
        ctx.socket_event(id, Event::Readable);
    }
}

/// Writes every segment `conn` has due straight into transmit buffers, with the socket's
/// `header` choices; returns whether the transmit pool ran dry (the rest is retried shortly).
fn drain_transmit<I: DualStackIpExt, C: TcpContext>(
    ctx: &mut C,
    conn: &mut Connection<I::Addr>,
    now: Instant,
    device: Option<DeviceId>,
    header: &IpHeaderOptions,
    scratch: &mut [u8],
) -> bool {
    let (src, dst) = (conn.local().addr, conn.remote().addr);
    loop {
        let sent = context::send_segment::<I, C>(ctx, src, dst, device, header, |out| {
            conn.poll_transmit(now, out).map(|t| t.len)
        });
        match sent {
            Ok(true) => {}
            Ok(false) => return false,
            Err(SegmentSendError::NoBuffer) => return true,
            // Lost on the way: the retransmission timer takes its course.
            Err(SegmentSendError::Unroutable) => {
                if conn.poll_transmit(now, scratch).is_none() {
                    return false;
                }
            }
        }
    }
}
