//! TCP sockets: every TCP socket of a stack, the socket API over them, and the glue between
//! the state machines ([`Connection`], [`Listener`]) and the IP layer.
//!
//! [`Tcp`] is a plain data structure like [`Udp`](crate::transport::udp::Udp): the socket
//! API calls it, the IP layer hands it each received segment ([`Tcp::deliver`]) and each ICMP
//! error quoting one of ours ([`Tcp::deliver_icmp_error`]), the stack's timer fires
//! [`Tcp::handle_timer`], and everything going out leaves through the [`TcpIpContext`] the
//! stack implements. After every input a socket is *flushed*: its segments are written
//! straight into transmit buffers, its readiness changes reported, its one timer moved.
//!
//! Tables, per IP version:
//!
//! * `bound`: sockets that called `bind` or `listen`, for bind conflicts;
//! * `listening`: listeners only, for demultiplexing SYNs (a socket that is bound but not
//!   listening must not take them), with SO_REUSEPORT balancing by a keyed hash of the
//!   4-tuple, as [`socket_map`](crate::transport::socket_map) describes;
//! * `conns`: connections by 4-tuple, ordered by local port so bind conflicts can scan a
//!   port's connections in place.
//!
//! Rules, with their sources:
//!
//! * Demultiplexing (RFC 9293 §3.10.7): a segment goes to its connection, else to the
//!   listener of its local address and port, else it is answered with a RST. A SYN that
//!   finds a TIME-WAIT connection willing to be recycled (RFC 6191, Linux's
//!   `tcp_timewait_state_process`) goes on to the listener. Segments to broadcast or
//!   multicast addresses are dropped (RFC 1122 §4.2.3.10).
//! * Bind (Linux `inet_csk_get_port`): two sockets may share an address and port when both
//!   set SO_REUSEADDR and neither listens, or both set SO_REUSEPORT with the same owner;
//!   connections (TIME-WAIT ones included) hold their port against sockets without
//!   SO_REUSEADDR, which is what makes SO_REUSEADDR necessary to restart a server. A second
//!   listener needs SO_REUSEPORT.
//! * Connect: the route gives the source address; an unbound socket gets an ephemeral port
//!   by RFC 6056 §3.3.4, shared between connections to different peers as long as the
//!   4-tuple is unique (Linux's `__inet_hash_connect`).
//! * Accept: connections complete in the listener, which keeps them until `accept`; closing
//!   a listener resets the connections nobody accepted (Linux's `inet_csk_listen_stop`).
//! * Close: the connection lives on, orphaned, until it is done (FIN handshake, TIME-WAIT);
//!   then its slot is freed.
//! * A segment the IP layer cannot route is treated as lost on the way: the connection's
//!   retransmission timer then takes its course, as in Linux, rather than stalling. A segment
//!   that finds the transmit pool empty is not written at all and is retried shortly.
//!
//! Counters are the stack totals of the Tcp/TcpExt MIB: each connection and listener counts
//! its own, and [`Tcp::counters`] adds the live ones to those of the sockets already gone.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::num::NonZeroU16;
use core::time::Duration;

use crate::addr::{Ip, IpAddress, Ipv4, Ipv6, SpecifiedAddr};
use crate::buf::ParsablePacket;
use crate::context::{InstantContext, RngContext};
use crate::device::DeviceId;
use crate::hash::SipKey;
use crate::time::Instant;
use crate::transport::ports::{random_key, EphemeralPorts, PortRange, DEFAULT_TABLE_LEN};
use crate::transport::socket_map::{ConflictScope, EntryKind, Flow, LocalEndpoint, Sharing, SocketMap};
use crate::transport::{IcmpErrorReport, Slots, SocketError};
use crate::wire::tcp::{TcpFlags, TcpSegment};

use super::congestion::CongestionAlgorithm;
use super::counters::TcpCounters;
use super::info::TcpInfo;
use super::{
    write_reset_for, Connection, Endpoint, Event, IsnGenerator, Listener, ListenerConfig, SegmentInfo,
    Shutdown, State, SynCookieMode, SynCookies, TcpConfig,
};

/// How long a socket waits before trying again to send when the transmit pool was empty.
const NO_BUFFER_RETRY: Duration = Duration::from_millis(1);

/// The size of the buffer segments that cannot be routed are written into and dropped.
const LOST_SEGMENT_SCRATCH: usize = 2048;

/// A TCP socket of IP version `I`. A closed socket's id is refused (EBADF) rather than
/// reaching a newer socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpSocketId<I: Ip> {
    index: u32,
    generation: u32,
    _ip: PhantomData<I>,
}

/// The stack timer of one TCP socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcpTimerId {
    /// An IPv4 socket's timer.
    V4(TcpSocketId<Ipv4>),
    /// An IPv6 socket's timer.
    V6(TcpSocketId<Ipv6>),
}

/// The route a connection's segments take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRoute<I: Ip> {
    /// The source address.
    pub src: SpecifiedAddr<I::Addr>,
    /// The outgoing device.
    pub device: DeviceId,
    /// The path MTU: the device's, or less if path MTU discovery learned so.
    pub mtu: u32,
}

/// Why sending a segment failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentSendError {
    /// The transmit pool is empty: the segment was not written.
    NoBuffer,
    /// The destination cannot be reached (no route, no source address).
    Unroutable,
}

/// What the TCP layer needs from the stack around it.
pub trait TcpIpContext<I: Ip>: InstantContext {
    /// The route to `dst`: the source (`src` if it is assigned to this host), the device
    /// (`device` if the socket is bound to one) and the path MTU.
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<TcpRoute<I>, SocketError>;

    /// Whether `addr` is a unicast address of this host (on `device` if given).
    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool;

    /// The MTU of `device`, for segments that arrived on it.
    fn device_mtu(&self, device: DeviceId) -> u32;

    /// Sends one segment from `src` to `dst`: `write` is given the buffer the segment goes
    /// into (at most the path MTU less the IP header) and returns the length it wrote, or
    /// `None` when it has nothing to send. Returns whether a segment went out.
    fn send_segment(
        &mut self,
        src: I::Addr,
        dst: I::Addr,
        device: Option<DeviceId>,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SegmentSendError>;

    /// Arms the socket's timer for `at`, replacing any earlier setting.
    fn schedule_timer(&mut self, timer: TcpTimerId, at: Instant);

    /// Reports a readiness change of a socket the application holds.
    fn socket_event(&mut self, socket: TcpSocketId<I>, event: Event);
}

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

/// A socket's place in its lifecycle.
#[derive(Debug)]
enum SocketState<I: Ip> {
    /// Created, not bound.
    Unbound,
    /// Bound by `bind`, neither listening nor connected.
    Bound(LocalEndpoint<I, NonZeroU16>),
    /// Listening.
    Listening { local: LocalEndpoint<I, NonZeroU16>, listener: Box<Listener<I::Addr>> },
    /// Connecting, connected or done; `hashed` while the connection is in `conns`.
    Connected { conn: Box<Connection<I::Addr>>, hashed: bool, explicit_bind: bool },
}

#[derive(Debug)]
struct Socket<I: Ip> {
    state: SocketState<I>,
    sharing: Sharing,
    device: Option<DeviceId>,
    cfg: TcpConfig,
    /// When the stack timer is armed for, if it is.
    timer_at: Option<Instant>,
    /// The application closed the socket: the slot goes once the connection is done.
    orphaned: bool,
}

/// A connection's key: local port first, so a port's connections are one range.
type ConnKey<A> = (u16, A, A, u16);

fn conn_key<A: IpAddress>(local: Endpoint<A>, remote: Endpoint<A>) -> ConnKey<A> {
    (local.port, local.addr, remote.addr, remote.port)
}

/// The TCP sockets of one IP version.
#[derive(Debug)]
pub struct TcpSockets<I: Ip> {
    slots: Slots<Socket<I>>,
    bound: SocketMap<I, NonZeroU16, TcpSocketId<I>>,
    listening: SocketMap<I, NonZeroU16, TcpSocketId<I>>,
    conns: BTreeMap<ConnKey<I::Addr>, TcpSocketId<I>>,
}

impl<I: Ip> TcpSockets<I> {
    fn new(key: SipKey) -> Self {
        Self {
            slots: Slots::new(),
            bound: SocketMap::new(ConflictScope::Address, key),
            listening: SocketMap::new(ConflictScope::Address, key),
            conns: BTreeMap::new(),
        }
    }

    fn get(&self, id: TcpSocketId<I>) -> Result<&Socket<I>, SocketError> {
        self.slots.get(id.index, id.generation).filter(|s| !s.orphaned).ok_or(SocketError::BadSocket)
    }

    fn get_mut(&mut self, id: TcpSocketId<I>) -> Result<&mut Socket<I>, SocketError> {
        self.slots.get_mut(id.index, id.generation).filter(|s| !s.orphaned).ok_or(SocketError::BadSocket)
    }

    fn conn_mut(&mut self, id: TcpSocketId<I>) -> Result<&mut Connection<I::Addr>, SocketError> {
        match &mut self.get_mut(id)?.state {
            SocketState::Connected { conn, .. } => Ok(conn),
            _ => Err(SocketError::NotConnected),
        }
    }

    /// Whether a connection on `local`'s port whose address overlaps holds the port against
    /// a socket with `sharing`.
    fn conn_conflict(&self, local: &LocalEndpoint<I, NonZeroU16>, sharing: &Sharing) -> bool {
        let port = local.port.get();
        let min = (port, I::Addr::default(), I::Addr::default(), 0);
        self.conns.range(min..).take_while(|(k, _)| k.0 == port).any(|(k, id)| {
            let overlaps = local.addr.is_none_or(|a| *a == k.1);
            let shared = sharing.reuse_addr
                && self.slots.get(id.index, id.generation).is_some_and(|s| s.sharing.reuse_addr);
            overlaps && !shared
        })
    }

    /// The socket a bind of `local` with `sharing` conflicts with (Linux's
    /// `inet_csk_bind_conflict`): see the module documentation.
    fn bind_conflict(
        &self,
        local: &LocalEndpoint<I, NonZeroU16>,
        sharing: &Sharing,
        except: Option<TcpSocketId<I>>,
    ) -> bool {
        let without_reuse_addr = Sharing { reuse_addr: false, ..*sharing };
        self.bound.conflict(local, sharing, except).is_some()
            || self.listening.conflict(local, &without_reuse_addr, except).is_some()
            || self.conn_conflict(local, sharing)
    }
}

/// What one IP version's sockets differ in.
pub trait TcpIpExt: Ip {
    /// This version's sockets and what both versions share.
    fn split(tcp: &mut Tcp) -> (&mut TcpSockets<Self>, &mut Shared);

    /// This version's sockets.
    fn sockets(tcp: &Tcp) -> &TcpSockets<Self>;

    /// The stack timer of `socket`.
    fn timer_id(socket: TcpSocketId<Self>) -> TcpTimerId;
}

impl TcpIpExt for Ipv4 {
    fn split(tcp: &mut Tcp) -> (&mut TcpSockets<Self>, &mut Shared) {
        (&mut tcp.v4, &mut tcp.shared)
    }

    fn sockets(tcp: &Tcp) -> &TcpSockets<Self> {
        &tcp.v4
    }

    fn timer_id(socket: TcpSocketId<Self>) -> TcpTimerId {
        TcpTimerId::V4(socket)
    }
}

impl TcpIpExt for Ipv6 {
    fn split(tcp: &mut Tcp) -> (&mut TcpSockets<Self>, &mut Shared) {
        (&mut tcp.v6, &mut tcp.shared)
    }

    fn sockets(tcp: &Tcp) -> &TcpSockets<Self> {
        &tcp.v6
    }

    fn timer_id(socket: TcpSocketId<Self>) -> TcpTimerId {
        TcpTimerId::V6(socket)
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

/// The address a socket bound to the wildcard is reported with.
fn local_endpoint<I: Ip>(local: &LocalEndpoint<I, NonZeroU16>) -> Endpoint<I::Addr> {
    Endpoint { addr: local.addr.map_or(I::Addr::default(), |a| *a), port: local.port.get() }
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
    /// Linux).
    pub fn create<I: TcpIpExt>(&mut self, owner: u32) -> Result<TcpSocketId<I>, SocketError> {
        let (sockets, shared) = I::split(self);
        if shared.open >= shared.config.max_sockets {
            return Err(SocketError::TooManySockets);
        }
        let socket = Socket {
            state: SocketState::Unbound,
            sharing: Sharing { owner, ..Sharing::default() },
            device: None,
            cfg: shared.config.tcp.clone(),
            timer_at: None,
            orphaned: false,
        };
        let (index, generation) = sockets.slots.insert(socket).ok_or(SocketError::TooManySockets)?;
        shared.open += 1;
        Ok(TcpSocketId { index, generation, _ip: PhantomData })
    }

    /// bind(2): `addr` `None` is the wildcard, `port` `None` an ephemeral port.
    pub fn bind<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        addr: Option<SpecifiedAddr<I::Addr>>,
        port: Option<NonZeroU16>,
    ) -> Result<(), SocketError> {
        let (sockets, shared) = I::split(self);
        let socket = sockets.get(id)?;
        if !matches!(socket.state, SocketState::Unbound) {
            return Err(SocketError::InvalidArgument);
        }
        let (sharing, device) = (socket.sharing, socket.device);
        if let Some(addr) = addr {
            if !ctx.is_local_addr(addr, device) {
                return Err(SocketError::AddrNotAvailable);
            }
        }
        let port = match port {
            Some(port) => {
                let local = LocalEndpoint { addr, port, device };
                if sockets.bind_conflict(&local, &sharing, Some(id)) {
                    return Err(SocketError::AddrInUse);
                }
                port
            }
            None => {
                let wildcard = I::Addr::default();
                let local = |port| LocalEndpoint { addr, port, device };
                shared
                    .ports
                    .select(addr.map_or(wildcard, |a| *a), wildcard, 0, |port| {
                        !sockets.bind_conflict(&local(port), &sharing, Some(id))
                    })
                    .ok_or(SocketError::AddrInUse)?
            }
        };
        let local = LocalEndpoint { addr, port, device };
        sockets.bound.insert_unchecked(id, local, None, sharing, EntryKind::Native);
        sockets.get_mut(id)?.state = SocketState::Bound(local);
        Ok(())
    }

    /// listen(2): an unbound socket gets an ephemeral port on the wildcard first, as on
    /// Linux; listening again changes the backlog.
    pub fn listen<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        backlog: usize,
    ) -> Result<(), SocketError> {
        if matches!(I::sockets(self).get(id)?.state, SocketState::Unbound) {
            self.bind(ctx, id, None, None)?;
        }
        let (sockets, shared) = I::split(self);
        let backlog = backlog.clamp(1, shared.config.max_backlog);
        let socket = sockets.get_mut(id)?;
        let local = match &mut socket.state {
            SocketState::Bound(local) => *local,
            SocketState::Listening { listener, .. } => {
                listener.set_backlog(backlog);
                return Ok(());
            }
            _ => return Err(SocketError::InvalidArgument),
        };
        let (sharing, tcp) = (socket.sharing, socket.cfg.clone());
        let without_reuse_addr = Sharing { reuse_addr: false, ..sharing };
        if sockets.listening.conflict(&local, &without_reuse_addr, Some(id)).is_some() {
            return Err(SocketError::AddrInUse);
        }
        let cfg = ListenerConfig {
            backlog,
            syn_queue: shared.config.syn_queue,
            syncookies: shared.config.syncookies,
            tcp,
            ..ListenerConfig::default()
        };
        let mtu = local.device.map_or(1500, |d| ctx.device_mtu(d));
        let listener = Listener::new(cfg, shared.isn.clone(), shared.cookies.clone(), mtu);
        sockets.listening.insert_unchecked(id, local, None, sharing, EntryKind::Native);
        sockets.get_mut(id)?.state = SocketState::Listening { local, listener: Box::new(listener) };
        Ok(())
    }

    /// connect(2): starts the handshake; [`Event::Connected`] or [`Event::Error`] follows.
    pub fn connect<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        remote: SpecifiedAddr<I::Addr>,
        remote_port: NonZeroU16,
    ) -> Result<(), SocketError> {
        let (sockets, shared) = I::split(self);
        let socket = sockets.get(id)?;
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
        let device = bound.and_then(|b| b.device).or(socket.device);
        let route = ctx.route(remote, bound.and_then(|b| b.addr), device)?;
        let src = route.src;
        let remote_end = Endpoint { addr: *remote, port: remote_port.get() };
        let port = match bound {
            Some(local) => {
                let key = conn_key(Endpoint { addr: *src, port: local.port.get() }, remote_end);
                if sockets.conns.contains_key(&key) {
                    return Err(SocketError::AddrInUse);
                }
                local.port
            }
            None => {
                let sharing = Sharing::default();
                let free = |port: NonZeroU16| {
                    let local = LocalEndpoint { addr: Some(src), port, device };
                    let key = conn_key(Endpoint { addr: *src, port: port.get() }, remote_end);
                    !sockets.conns.contains_key(&key)
                        && sockets.bound.conflict(&local, &sharing, None).is_none()
                };
                shared.ports.select(*src, *remote, remote_port.get(), free).ok_or(SocketError::WouldBlock)?
            }
        };
        let local_end = Endpoint { addr: *src, port: port.get() };
        let now = ctx.now();
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
            sockets.bound.remove(id, local.port);
        }
        sockets.conns.insert(conn_key(local_end, remote_end), id);
        self.flush(ctx, id);
        Ok(())
    }

    /// accept(2): the next established connection, as a new socket with the listener's
    /// options, and its peer; EAGAIN when none waits.
    pub fn accept<I: TcpIpExt, C: TcpIpContext<I>>(
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
        let (sharing, device, cfg) = (socket.sharing, socket.device, socket.cfg.clone());
        let (local, remote) = (conn.local(), conn.remote());
        if let (Some(l), Some(r)) = (SpecifiedAddr::new(local.addr), SpecifiedAddr::new(remote.addr)) {
            if let Ok(route) = ctx.route(r, Some(l), device) {
                conn.set_path_mtu(ctx.now(), route.mtu);
            }
        }
        let accepted = Socket {
            state: SocketState::Connected { conn: Box::new(conn), hashed: true, explicit_bind: false },
            sharing,
            device,
            cfg,
            timer_at: None,
            orphaned: false,
        };
        let (index, generation) = sockets.slots.insert(accepted).ok_or(SocketError::TooManySockets)?;
        shared.open += 1;
        let new_id = TcpSocketId { index, generation, _ip: PhantomData };
        sockets.conns.insert(conn_key(local, remote), new_id);
        // What happened before accept (data arriving, the peer's FIN) is still pending on
        // the connection: the flush reports it to the new socket.
        self.flush(ctx, new_id);
        self.flush(ctx, id);
        Ok((new_id, remote))
    }

    /// send(2): queues what fits in the send buffer; EAGAIN when none does.
    pub fn send<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        data: &[u8],
    ) -> Result<usize, SocketError> {
        let n = I::split(self).0.conn_mut(id)?.send(data)?;
        if n == 0 && !data.is_empty() {
            return Err(SocketError::WouldBlock);
        }
        self.flush(ctx, id);
        Ok(n)
    }

    /// recv(2): 0 at end of stream, EAGAIN when nothing is there yet.
    pub fn recv<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        buf: &mut [u8],
    ) -> Result<usize, SocketError> {
        let result = I::split(self).0.conn_mut(id)?.recv(buf);
        // Reading may open the window: a window update may be due.
        self.flush(ctx, id);
        result
    }

    /// recv(2) with MSG_PEEK.
    pub fn peek<I: TcpIpExt>(&mut self, id: TcpSocketId<I>, buf: &mut [u8]) -> Result<usize, SocketError> {
        Ok(I::split(self).0.conn_mut(id)?.peek(buf))
    }

    /// shutdown(2).
    pub fn shutdown<I: TcpIpExt, C: TcpIpContext<I>>(
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
    pub fn close<I: TcpIpExt, C: TcpIpContext<I>>(
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
                I::split(self).0.bound.remove(id, port);
                self.remove(id);
            }
            SocketState::Bound(local) => {
                let port = local.port;
                sockets.bound.remove(id, port);
                self.remove(id);
            }
            SocketState::Unbound => self.remove(id),
        }
        Ok(())
    }

    /// Stops a listener: the connections it holds are reset, its port released; the socket
    /// goes back to bound.
    fn stop_listening<I: TcpIpExt, C: TcpIpContext<I>>(&mut self, ctx: &mut C, id: TcpSocketId<I>) {
        let (sockets, shared) = I::split(self);
        let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return };
        let SocketState::Listening { local, listener } = &mut socket.state else { return };
        let local = *local;
        let now = ctx.now();
        while let Some(mut conn) = listener.accept() {
            conn.abort();
            drain_transmit(ctx, &mut conn, now, None, &mut shared.scratch);
            shared.totals.add(&conn.take_counters());
        }
        shared.totals.add(&listener.take_counters());
        socket.state = SocketState::Bound(local);
        sockets.listening.remove(id, local.port);
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

    /// TCP_INFO.
    pub fn info<I: TcpIpExt>(&self, id: TcpSocketId<I>) -> Result<TcpInfo, SocketError> {
        match &I::sockets(self).get(id)?.state {
            SocketState::Connected { conn, .. } => Ok(conn.info()),
            _ => Err(SocketError::NotConnected),
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
        let (sockets, _) = I::split(self);
        let socket = sockets.get_mut(id)?;
        f(&mut socket.sharing);
        let sharing = socket.sharing;
        match &socket.state {
            SocketState::Bound(local) => {
                let port = local.port;
                sockets.bound.set_sharing(id, port, sharing);
            }
            SocketState::Listening { local, .. } => {
                let port = local.port;
                sockets.bound.set_sharing(id, port, sharing);
                sockets.listening.set_sharing(id, port, sharing);
            }
            _ => {}
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

    /// TCP_NODELAY.
    pub fn set_nodelay<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        id: TcpSocketId<I>,
        on: bool,
    ) -> Result<(), SocketError> {
        self.set_option(
            id,
            |c| c.nodelay = on,
            |conn| {
                conn.set_nodelay(on);
                true
            },
        )?;
        // Turning Nagle off sends what it held back.
        self.flush(ctx, id);
        Ok(())
    }

    /// SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT.
    pub fn set_keepalive<I: TcpIpExt, C: TcpIpContext<I>>(
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
            |conn| {
                conn.set_keepalive(now, on, idle, interval, count);
                true
            },
        )?;
        self.flush(ctx, id);
        Ok(())
    }

    /// TCP_USER_TIMEOUT (`None` for the retry count alone).
    pub fn set_user_timeout<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        timeout: Option<Duration>,
    ) -> Result<(), SocketError> {
        self.set_option(
            id,
            |c| c.user_timeout = timeout,
            |conn| {
                conn.set_user_timeout(timeout);
                true
            },
        )
    }

    /// SO_LINGER.
    pub fn set_linger<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        linger: Option<Duration>,
    ) -> Result<(), SocketError> {
        self.set_option(
            id,
            |c| c.linger = linger,
            |conn| {
                conn.set_linger(linger);
                true
            },
        )
    }

    /// SO_SNDBUF, in bytes of buffer (the bindings double what the application asks, as
    /// Linux does).
    pub fn set_send_buffer<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        bytes: usize,
    ) -> Result<(), SocketError> {
        self.set_option(id, |c| c.send_buffer = bytes, |conn| conn.set_send_buffer(bytes))
    }

    /// SO_RCVBUF; turns receive-buffer auto-tuning off.
    pub fn set_recv_buffer<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        bytes: usize,
    ) -> Result<(), SocketError> {
        self.set_option(
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
        self.set_option(id, |c| c.mss_clamp = mss, |_| false)
    }

    /// TCP_CONGESTION, before connect or listen.
    pub fn set_congestion<I: TcpIpExt>(
        &mut self,
        id: TcpSocketId<I>,
        algorithm: CongestionAlgorithm,
    ) -> Result<(), SocketError> {
        self.set_option(id, |c| c.congestion = algorithm, |_| false)
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

    /// A TCP segment arrived for this host from `src` to `dst` on `device`; `unicast` says
    /// whether `dst` is one of our unicast addresses.
    pub fn deliver<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        src: I::Addr,
        dst: I::Addr,
        unicast: bool,
        bytes: &[u8],
    ) {
        let (sockets, shared) = I::split(self);
        let segment = match TcpSegment::<&[u8], I::Addr>::parse_bytes(bytes, (src, dst)) {
            Ok(segment) => segment,
            Err(error) => {
                shared.totals.in_segs += 1;
                shared.totals.count_parse_error(&error);
                return;
            }
        };
        let info = SegmentInfo::from_segment(&segment);
        let payload = segment.body();
        let local = Endpoint { addr: dst, port: segment.dst_port() };
        let remote = Endpoint { addr: src, port: segment.src_port() };
        if !unicast || local.port == 0 || remote.port == 0 {
            shared.totals.in_segs += 1;
            shared.totals.in_errs += 1;
            shared.totals.drop_not_unicast += 1;
            return;
        }
        let now = ctx.now();
        if let Some(&id) = sockets.conns.get(&conn_key(local, remote)) {
            let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return };
            let SocketState::Connected { conn, .. } = &mut socket.state else { return };
            let recycle = info.flags.contains(TcpFlags::SYN)
                && conn.state() == State::TimeWait
                && conn.time_wait_accepts_syn(&info);
            if !recycle {
                conn.handle_segment(now, &info, payload);
                self.flush(ctx, id);
                return;
            }
            shared.totals.time_wait_recycled += 1;
            self.unhash(id);
            if I::sockets(self).slots.get(id.index, id.generation).is_some_and(|s| s.orphaned) {
                self.remove(id);
            }
        }
        let (sockets, shared) = I::split(self);
        let flow = Flow {
            local_addr: dst,
            local_port: NonZeroU16::new(local.port).expect("checked above"),
            remote_addr: src,
            remote_port: NonZeroU16::new(remote.port),
            device,
        };
        if let Some(id) = sockets.listening.lookup_unicast(&flow) {
            let mtu = ctx.device_mtu(device);
            if let Some(Socket { state: SocketState::Listening { listener, .. }, .. }) =
                sockets.slots.get_mut(id.index, id.generation)
            {
                drive_listener(ctx, id, listener, |l| {
                    l.set_mtu(mtu);
                    l.handle_segment(now, local, remote, &info, payload);
                });
                self.flush(ctx, id);
                return;
            }
        }
        // RFC 9293 §3.10.7.1: no connection and no listener, a RST answers (never a RST).
        shared.totals.in_segs += 1;
        shared.totals.drop_no_socket += 1;
        let sent = ctx.send_segment(dst, src, Some(device), |out| {
            write_reset_for(out, local, remote, &info, payload.len())
        });
        if sent == Ok(true) {
            shared.totals.out_rsts += 1;
            shared.totals.out_segs += 1;
        }
    }

    /// An ICMP error quoting a segment from `local` to `remote` whose sequence number was
    /// `seq`.
    pub fn deliver_icmp_error<I: TcpIpExt, C: TcpIpContext<I>>(
        &mut self,
        ctx: &mut C,
        local: Endpoint<I::Addr>,
        remote: Endpoint<I::Addr>,
        seq: u32,
        report: &IcmpErrorReport,
    ) {
        let (sockets, _) = I::split(self);
        let Some(&id) = sockets.conns.get(&conn_key(local, remote)) else { return };
        // Connections the application closed still take them.
        if let Some(Socket { state: SocketState::Connected { conn, .. }, .. }) =
            sockets.slots.get_mut(id.index, id.generation)
        {
            conn.handle_icmp_error(ctx.now(), report, seq);
        }
        self.flush(ctx, id);
    }

    /// A socket's timer fired.
    pub fn handle_timer<I: TcpIpExt, C: TcpIpContext<I>>(&mut self, ctx: &mut C, id: TcpSocketId<I>) {
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
                drive_listener(ctx, id, listener, |l| l.handle_timeout(now));
            }
            _ => return,
        }
        self.flush(ctx, id);
    }

    // ------------------------------------------------------------------ flushing

    /// Sends what the socket has due, reports its events, re-arms its timer and retires it
    /// once the connection is done.
    fn flush<I: TcpIpExt, C: TcpIpContext<I>>(&mut self, ctx: &mut C, id: TcpSocketId<I>) {
        let (sockets, shared) = I::split(self);
        let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return };
        let now = ctx.now();
        let device = socket.device;
        let (next, done) = match &mut socket.state {
            SocketState::Connected { conn, hashed, .. } => {
                let retry = drain_transmit(ctx, conn, now, device, &mut shared.scratch);
                while let Some(event) = conn.poll_event() {
                    if !socket.orphaned {
                        ctx.socket_event(id, event);
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
                while let Some((local, remote, t)) = listener.poll_transmit(now, &mut shared.scratch) {
                    let segment = &shared.scratch[..t.len];
                    let _ = ctx.send_segment(local.addr, remote.addr, device, |out| {
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
                ctx.schedule_timer(I::timer_id(id), at);
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
        let (sockets, _) = I::split(self);
        let Some(socket) = sockets.slots.get_mut(id.index, id.generation) else { return };
        if let SocketState::Connected { conn, hashed, .. } = &mut socket.state {
            if *hashed {
                *hashed = false;
                sockets.conns.remove(&conn_key(conn.local(), conn.remote()));
            }
        }
    }
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

/// Writes every segment `conn` has due straight into transmit buffers; returns whether the
/// transmit pool ran dry (the rest is retried shortly).
fn drain_transmit<I: Ip, C: TcpIpContext<I>>(
    ctx: &mut C,
    conn: &mut Connection<I::Addr>,
    now: Instant,
    device: Option<DeviceId>,
    scratch: &mut [u8],
) -> bool {
    let (src, dst) = (conn.local().addr, conn.remote().addr);
    loop {
        match ctx.send_segment(src, dst, device, |out| conn.poll_transmit(now, out).map(|t| t.len)) {
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
