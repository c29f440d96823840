//! `fuchsia.posix.socket/StreamSocket` requests: the data plane (`Describe`), `bind`,
//! `connect` (which answers `EINPROGRESS`, as on Fuchsia; the plug tells the application
//! when it finished), `listen`, `accept`, names, `shutdown`, and the `SOL_TCP` options
//! mapped onto the core's TCP settings with Linux's ranges and errnos.
//!
//! An `AF_INET6` socket is dual-stack unless `IPV6_V6ONLY` is set before it is bound (RFC
//! 3493 §3.7; the core's rules): bound to `::` it also listens on IPv4, and the IPv4
//! connections it accepts are `AF_INET6` sockets whose addresses (`Accept`, `GetSockName`,
//! `GetPeerName`) are IPv4-mapped, `::ffff:a.b.c.d`; it connects to an IPv4 peer through the
//! peer's mapped address. `IPV6_V6ONLY` refuses mapped addresses as Linux does: `EINVAL` to
//! bind one, `ENETUNREACH` to connect to one. An `AF_INET` address on an `AF_INET6` stream
//! socket is `EAFNOSUPPORT` (Linux's `inet6_bind` and `tcp_v6_connect`).
//!
//! Link-local IPv6 addresses have zones (RFC 4007 §6): binding or connecting to one ties the
//! socket to the interface its `zone_index` names (`EINVAL` without one on a socket bound to
//! no interface, `ENODEV` for an interface that does not exist), and the names reported for
//! link-local addresses carry the interface the socket is tied to; a connection accepted
//! from a link-local peer is tied to the interface its SYN came in on.

use std::num::NonZeroU16;
use std::time::Duration;

use netstack_core::addr::{Ip, IpAddress, Ipv4, Ipv6, SpecifiedAddr};
use netstack_core::device::DeviceId;
use netstack_core::transport::tcp::congestion::CongestionAlgorithm;
use netstack_core::transport::tcp::{Endpoint, Shutdown, Tcp, TcpIpContext, TcpIpExt, TcpSocketId};
use netstack_core::transport::SocketError;
use netstack_fidl::channel::Channel;
use netstack_fidl::fuchsia_net::SocketAddress;
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    stream_socket as m, Empty, OptionalUint32, ShutdownMode, StreamSocketDescribeResponse,
    StreamSocketProtocol, StreamSocketRequest, TcpCongestionControl, TcpCongestionControlState, TcpInfo,
    TcpState,
};

use super::addr::{FidlIp, SockAddr};
use super::dataplane::StreamPlane;
use super::errno::{from_io_error, from_socket_error};
use super::stream::{with_tcp, Ctx, Phase, StreamSocket, TcpId};
use super::{Kind, SocketServer};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::slab::Key;

/// The backlog of `listen` with a negative one (Linux's `somaxconn`).
const SOMAXCONN: usize = 4096;

/// Linux's bounds of TCP_KEEPIDLE and TCP_KEEPINTVL, in seconds (`MAX_TCP_KEEPIDLE`).
const MAX_KEEP_SECS: u32 = 32_767;
/// Linux's bound of TCP_KEEPCNT (`MAX_TCP_KEEPCNT`).
const MAX_KEEPCNT: u32 = 127;

impl SocketServer {
    pub(super) fn stream_request(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        socket: Key,
        txid: u32,
        request: StreamSocketRequest,
    ) {
        let Some(entry) = self.sockets.get_mut(socket) else { return };
        let domain = entry.domain;
        let Kind::Stream(stream) = &mut entry.kind else { return };
        let tcp = stream.tcp;
        // Options the server keeps, one line each.
        macro_rules! set {
            ($m:ty, $($f:tt)+) => { self.set_kept::<$m>(key, txid, socket, Ok(()), |o| o.$($f)+) };
        }
        macro_rules! get {
            ($m:ty, $($f:tt)+) => { self.get_kept::<_, $m>(key, txid, socket, Ok(()), |o| o.$($f)+) };
        }
        match request {
            StreamSocketRequest::Network(request) => {
                self.network_request(stack, ctx, key, socket, txid, request)
            }
            StreamSocketRequest::Describe {} => {
                let plane = stream.plane.client_end();
                self.describe::<m::Describe>(stack, ctx, key, txid, plane, |fd| {
                    StreamSocketDescribeResponse { socket: Some(fd) }
                });
            }
            StreamSocketRequest::Listen { backlog } => {
                let backlog = usize::try_from(backlog).unwrap_or(SOMAXCONN);
                let result = match stream.phase {
                    Phase::Unconnected | Phase::Listening => with_tcp!(stack, ctx, tcp, |t, tctx, id| t
                        .listen(tctx, id, backlog))
                    .map_err(from_socket_error),
                    _ => Err(Errno::EINVAL),
                };
                if result.is_ok() {
                    stream.phase = Phase::Listening;
                    stream.update_token(stack, ctx);
                }
                self.reply::<m::Listen>(key, txid, result);
            }
            StreamSocketRequest::Accept { want_addr } => {
                let result = self.accept(stack, ctx, socket, want_addr);
                self.reply::<m::Accept>(key, txid, result);
            }
            StreamSocketRequest::GetInfo {} => {
                self.reply::<m::GetInfo>(key, txid, Ok((domain, StreamSocketProtocol::Tcp)));
            }
            StreamSocketRequest::SetTcpNoDelay { value } => {
                let r = with_tcp!(stack, ctx, tcp, |t, tctx, id| t.set_nodelay(tctx, id, value));
                self.reply::<m::SetTcpNoDelay>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpNoDelay {} => {
                let r = tcp_config(stack, ctx, tcp, |c| c.nodelay);
                self.reply::<m::GetTcpNoDelay>(key, txid, r);
            }
            StreamSocketRequest::SetTcpMaxSegment { value_bytes } => {
                let r = u16::try_from(value_bytes).map_err(|_| Errno::EINVAL).and_then(|mss| {
                    with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.set_max_segment(id, Some(mss)))
                        .map_err(from_socket_error)
                });
                self.reply::<m::SetTcpMaxSegment>(key, txid, r);
            }
            StreamSocketRequest::GetTcpMaxSegment {} => {
                // Linux: the current MSS when connected, else the clamp, else 536.
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| match t.info(id) {
                    Ok(info) => Ok(info.snd_mss),
                    Err(_) => t
                        .options(id)
                        .map(|(c, _, _)| c.mss_clamp.map_or(536, u32::from))
                        .map_err(from_socket_error),
                });
                self.reply::<m::GetTcpMaxSegment>(key, txid, r);
            }
            StreamSocketRequest::SetTcpCork { value } => {
                let r = with_tcp!(stack, ctx, tcp, |t, tctx, id| t.set_cork(tctx, id, value));
                self.reply::<m::SetTcpCork>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpCork {} => {
                let r = tcp_config(stack, ctx, tcp, |c| c.cork);
                self.reply::<m::GetTcpCork>(key, txid, r);
            }
            StreamSocketRequest::SetTcpKeepAliveIdle { value_secs } => {
                let r = keepalive(stack, ctx, tcp, |k| {
                    check_range(value_secs, 1, MAX_KEEP_SECS)?;
                    k.idle = Duration::from_secs(value_secs.into());
                    Ok(())
                });
                self.reply::<m::SetTcpKeepAliveIdle>(key, txid, r);
            }
            StreamSocketRequest::GetTcpKeepAliveIdle {} => {
                let r = tcp_config(stack, ctx, tcp, |c| secs(c.keep_idle));
                self.reply::<m::GetTcpKeepAliveIdle>(key, txid, r);
            }
            StreamSocketRequest::SetTcpKeepAliveInterval { value_secs } => {
                let r = keepalive(stack, ctx, tcp, |k| {
                    check_range(value_secs, 1, MAX_KEEP_SECS)?;
                    k.interval = Duration::from_secs(value_secs.into());
                    Ok(())
                });
                self.reply::<m::SetTcpKeepAliveInterval>(key, txid, r);
            }
            StreamSocketRequest::GetTcpKeepAliveInterval {} => {
                let r = tcp_config(stack, ctx, tcp, |c| secs(c.keep_interval));
                self.reply::<m::GetTcpKeepAliveInterval>(key, txid, r);
            }
            StreamSocketRequest::SetTcpKeepAliveCount { value } => {
                let r = keepalive(stack, ctx, tcp, |k| {
                    check_range(value, 1, MAX_KEEPCNT)?;
                    k.count = value;
                    Ok(())
                });
                self.reply::<m::SetTcpKeepAliveCount>(key, txid, r);
            }
            StreamSocketRequest::GetTcpKeepAliveCount {} => {
                let r = tcp_config(stack, ctx, tcp, |c| c.keep_count);
                self.reply::<m::GetTcpKeepAliveCount>(key, txid, r);
            }
            StreamSocketRequest::SetTcpSynCount { value } => {
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.set_syn_retries(id, value));
                self.reply::<m::SetTcpSynCount>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpSynCount {} => {
                let r = tcp_config(stack, ctx, tcp, |c| c.syn_retries);
                self.reply::<m::GetTcpSynCount>(key, txid, r);
            }
            StreamSocketRequest::SetTcpLinger { value_secs } => {
                // fdio carries Linux's negative TCP_LINGER2, no FIN-WAIT-2 wait, as Unset.
                let timeout = match value_secs {
                    OptionalUint32::Value(secs) => Some(Duration::from_secs(secs.into())),
                    OptionalUint32::Unset(_) => None,
                };
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.set_fin_timeout(id, timeout));
                self.reply::<m::SetTcpLinger>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpLinger {} => {
                let r = tcp_config(stack, ctx, tcp, |c| match c.fin_timeout {
                    Some(t) => OptionalUint32::Value(secs(t)),
                    None => OptionalUint32::Unset(Empty {}),
                });
                self.reply::<m::GetTcpLinger>(key, txid, r);
            }
            StreamSocketRequest::SetTcpDeferAccept { value_secs } => {
                set!(m::SetTcpDeferAccept, tcp_defer_accept = value_secs)
            }
            StreamSocketRequest::GetTcpDeferAccept {} => get!(m::GetTcpDeferAccept, tcp_defer_accept),
            StreamSocketRequest::SetTcpWindowClamp { value } => {
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.set_window_clamp(id, value));
                self.reply::<m::SetTcpWindowClamp>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpWindowClamp {} => {
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.window_clamp(id));
                self.reply::<m::GetTcpWindowClamp>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpInfo {} => {
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.info(id))
                    .map(tcp_info)
                    .map_err(from_socket_error);
                self.reply::<m::GetTcpInfo>(key, txid, r);
            }
            StreamSocketRequest::SetTcpQuickAck { value } => {
                let r = with_tcp!(stack, ctx, tcp, |t, tctx, id| t.set_quickack(tctx, id, value));
                self.reply::<m::SetTcpQuickAck>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpQuickAck {} => {
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.quickack(id));
                self.reply::<m::GetTcpQuickAck>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::SetTcpCongestion { value } => {
                let algorithm = match value {
                    TcpCongestionControl::Reno => CongestionAlgorithm::NewReno,
                    TcpCongestionControl::Cubic => CongestionAlgorithm::Cubic,
                };
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.set_congestion(id, algorithm));
                self.reply::<m::SetTcpCongestion>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpCongestion {} => {
                let r = tcp_config(stack, ctx, tcp, |c| match c.congestion {
                    CongestionAlgorithm::NewReno => TcpCongestionControl::Reno,
                    CongestionAlgorithm::Cubic => TcpCongestionControl::Cubic,
                });
                self.reply::<m::GetTcpCongestion>(key, txid, r);
            }
            StreamSocketRequest::SetTcpUserTimeout { value_millis } => {
                let timeout = (value_millis > 0).then(|| Duration::from_millis(value_millis.into()));
                let r = with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.set_user_timeout(id, timeout));
                self.reply::<m::SetTcpUserTimeout>(key, txid, r.map_err(from_socket_error));
            }
            StreamSocketRequest::GetTcpUserTimeout {} => {
                let r = tcp_config(stack, ctx, tcp, |c| {
                    c.user_timeout.map_or(0, |t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX))
                });
                self.reply::<m::GetTcpUserTimeout>(key, txid, r);
            }
        }
    }

    /// `accept`: the next connection as a new socket charged to the listener's client.
    fn accept(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        listener: Key,
        want_addr: bool,
    ) -> Result<(Option<SocketAddress>, Channel), Errno> {
        let (client, domain, tcp) = match self.sockets.get(listener) {
            Some(s) => match &s.kind {
                Kind::Stream(stream) if stream.phase == Phase::Listening => (s.client, s.domain, stream.tcp),
                _ => return Err(Errno::EINVAL),
            },
            None => return Err(Errno::EBADF),
        };
        self.check_limits(client)?;
        let plane = StreamPlane::new().map_err(|e| from_io_error(&e))?;
        let (accepted, peer) =
            with_tcp!(stack, ctx, tcp, |t, tctx, id| accept_one(t, tctx, id)).map_err(from_socket_error)?;
        let result = self.add_socket(client, domain, Kind::Stream(StreamSocket::accepted(accepted, plane)));
        if let Some(Kind::Stream(stream)) = self.sockets.get_mut(listener).map(|s| &mut s.kind) {
            stream.update_token(stack, ctx);
        }
        match result {
            Ok(channel) => Ok((want_addr.then_some(peer), channel)),
            Err((errno, _)) => {
                with_tcp!(stack, ctx, accepted, |t, tctx, id| {
                    let _ = t.close(tctx, id);
                });
                Err(errno)
            }
        }
    }

    /// `bind` on a stream socket.
    pub(super) fn stream_bind(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        tcp: TcpId,
        addr: &SocketAddress,
    ) -> Result<(), Errno> {
        // A zone must name an interface (ENODEV, as `__inet6_bind`).
        if let Some(device) = Ipv6::from_fidl(addr).ok().as_ref().and_then(zone_device) {
            if !ctx.sessions().iter().any(|s| s.id == device) {
                return Err(Errno::ENODEV);
            }
        }
        with_tcp!(stack, ctx, tcp, |t, tctx, id| bind(t, tctx, id, addr))
    }

    /// `connect` on a stream socket: `EINPROGRESS` once the handshake started.
    pub(super) fn stream_connect(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: Key,
        addr: &SocketAddress,
    ) -> Result<(), Errno> {
        let Some(Kind::Stream(stream)) = self.sockets.get_mut(socket).map(|s| &mut s.kind) else {
            return Err(Errno::EBADF);
        };
        match stream.phase {
            Phase::Unconnected => {}
            Phase::Connecting => return Err(Errno::EALREADY),
            Phase::Connected | Phase::Closing => return Err(Errno::EISCONN),
            // The data plane of a failed connection is shut down for good.
            Phase::Failed => return Err(stream.error.take().map_or(Errno::ECONNABORTED, from_socket_error)),
            Phase::Listening => return Err(Errno::EINVAL),
        }
        let tcp = stream.tcp;
        // The handshake may finish inside the call (over loopback); its events come after.
        stream.phase = Phase::Connecting;
        let result = with_tcp!(stack, ctx, tcp, |t, tctx, id| connect(t, tctx, id, addr));
        let Some(Kind::Stream(stream)) = self.sockets.get_mut(socket).map(|s| &mut s.kind) else {
            return Err(Errno::EBADF);
        };
        match result {
            Ok(()) => Err(Errno::EINPROGRESS),
            Err(errno) => {
                stream.phase = Phase::Unconnected;
                Err(errno)
            }
        }
    }

    /// `getsockname` / `getpeername` on a stream socket.
    pub(super) fn stream_name(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        tcp: TcpId,
        peer: bool,
    ) -> Result<SocketAddress, Errno> {
        with_tcp!(stack, ctx, tcp, |t, _tctx, id| name(t, id, peer)).map_err(from_socket_error)
    }

    /// `shutdown` on a stream socket.
    pub(super) fn stream_shutdown(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: Key,
        mode: ShutdownMode,
    ) -> Result<(), Errno> {
        if mode.is_empty() {
            return Err(Errno::EINVAL);
        }
        let Some(Kind::Stream(stream)) = self.sockets.get_mut(socket).map(|s| &mut s.kind) else {
            return Err(Errno::EBADF);
        };
        match stream.phase {
            Phase::Connected => {
                if mode.contains(ShutdownMode::WRITE) {
                    // What the application wrote before still goes, then the FIN.
                    stream.plane.stop_input();
                    stream.plane.flags.readable = true;
                }
                if mode.contains(ShutdownMode::READ) {
                    stream.shutdown_read(stack, ctx);
                }
                let progress = stream.pump(stack, ctx, &mut self.pumps);
                self.after(socket, progress);
                Ok(())
            }
            Phase::Listening if mode.contains(ShutdownMode::READ) => {
                let tcp = stream.tcp;
                with_tcp!(stack, ctx, tcp, |t, tctx, id| t.shutdown(tctx, id, Shutdown::Read))
                    .map_err(from_socket_error)?;
                stream.phase = Phase::Unconnected;
                let _ = stream.plane.set_token(false);
                Ok(())
            }
            _ => Err(Errno::ENOTCONN),
        }
    }
}

/// What differs between the IP versions here: wrapping a core id, and addresses.
trait StreamIp: TcpIpExt + FidlIp {
    fn wrap(id: TcpSocketId<Self>) -> TcpId;
}

impl StreamIp for Ipv4 {
    fn wrap(id: TcpSocketId<Ipv4>) -> TcpId {
        TcpId::V4(id)
    }
}

impl StreamIp for Ipv6 {
    fn wrap(id: TcpSocketId<Ipv6>) -> TcpId {
        TcpId::V6(id)
    }
}

/// `endpoint` as a socket address; a link-local one carries the zone (`sin6_scope_id`) of
/// the device the socket is tied to (`scope`, from [`Tcp::scope`]), as Linux's
/// `inet6_getname` reports `sk_bound_dev_if`.
fn to_fidl<I: StreamIp>(endpoint: Endpoint<I::Addr>, scope: Option<DeviceId>) -> SocketAddress {
    let zone = scope.filter(|_| endpoint.addr.is_link_local_unicast()).map_or(0, |d| u64::from(d.get()));
    I::to_fidl(SockAddr { addr: endpoint.addr, port: endpoint.port, zone })
}

fn accept_one<I: StreamIp>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    id: TcpSocketId<I>,
) -> Result<(TcpId, SocketAddress), SocketError>
where
    for<'a> Ctx<'a>: TcpIpContext<I>,
{
    let (new, peer) = tcp.accept(ctx, id)?;
    let scope = tcp.scope(new)?;
    Ok((I::wrap(new), to_fidl::<I>(peer, scope)))
}

fn name<I: StreamIp>(tcp: &Tcp, id: TcpSocketId<I>, peer: bool) -> Result<SocketAddress, SocketError> {
    let endpoint = if peer { tcp.peer_addr(id) } else { tcp.local_addr(id) }?;
    Ok(to_fidl::<I>(endpoint, tcp.scope(id)?))
}

/// The device a socket address's zone names (RFC 4007 §6), for a link-local address; `None`
/// for zone 0 and for other addresses, whose zone Linux ignores.
fn zone_device<A: IpAddress>(addr: &SockAddr<A>) -> Option<DeviceId> {
    let zone = u32::try_from(addr.zone).unwrap_or(u32::MAX);
    (zone != 0 && addr.addr.is_link_local_unicast()).then(|| DeviceId::new(zone))
}

/// `bind`: a link-local address ties the socket to the device its zone names, and needs one
/// (EINVAL without a zone on a socket bound to no device), as Linux's `__inet6_bind`.
fn bind<I: TcpIpExt + FidlIp>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    id: TcpSocketId<I>,
    addr: &SocketAddress,
) -> Result<(), Errno>
where
    for<'a> Ctx<'a>: TcpIpContext<I>,
{
    let addr = I::from_fidl(addr)?;
    if I::VERSION == Ipv6::VERSION && addr.addr.is_link_local_unicast() {
        match zone_device(&addr) {
            Some(device) => tcp.set_device(id, Some(device)).map_err(from_socket_error)?,
            None if tcp.options(id).map_err(from_socket_error)?.2.is_none() => return Err(Errno::EINVAL),
            None => {}
        }
    }
    tcp.bind(ctx, id, SpecifiedAddr::new(addr.addr), NonZeroU16::new(addr.port)).map_err(from_socket_error)
}

/// `connect`: to a link-local address through the device its zone names (the core answers
/// EINVAL as Linux's `tcp_v6_connect` does without one on a socket bound to no device).
fn connect<I: TcpIpExt + FidlIp>(
    tcp: &mut Tcp,
    ctx: &mut Ctx<'_>,
    id: TcpSocketId<I>,
    addr: &SocketAddress,
) -> Result<(), Errno>
where
    for<'a> Ctx<'a>: TcpIpContext<I>,
{
    let addr = I::from_fidl(addr)?;
    // Linux connects to the unspecified address as to loopback.
    let remote = SpecifiedAddr::new(addr.addr).unwrap_or(I::LOOPBACK_ADDRESS);
    let port = NonZeroU16::new(addr.port).ok_or(Errno::ECONNREFUSED)?;
    tcp.connect_scoped(ctx, id, remote, port, zone_device(&addr)).map_err(from_socket_error)
}

/// One of the socket's TCP settings.
fn tcp_config<R>(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    tcp: TcpId,
    get: impl FnOnce(&netstack_core::transport::tcp::TcpConfig) -> R,
) -> Result<R, Errno> {
    with_tcp!(stack, ctx, tcp, |t, _tctx, id| t.options(id).map(|(c, _, _)| get(c)))
        .map_err(from_socket_error)
}

/// The keepalive settings, as one `set_keepalive` call changes them.
struct Keepalive {
    on: bool,
    idle: Duration,
    interval: Duration,
    count: u32,
}

/// Turns SO_KEEPALIVE on or off, keeping the other keepalive settings.
pub(super) fn keepalive_on(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    tcp: TcpId,
    on: bool,
) -> Result<(), Errno> {
    keepalive(stack, ctx, tcp, |k| {
        k.on = on;
        Ok(())
    })
}

/// Changes the keepalive settings with `change` and applies them.
fn keepalive(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    tcp: TcpId,
    change: impl FnOnce(&mut Keepalive) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let mut k = tcp_config(stack, ctx, tcp, |c| Keepalive {
        on: c.keepalive,
        idle: c.keep_idle,
        interval: c.keep_interval,
        count: c.keep_count,
    })?;
    change(&mut k)?;
    with_tcp!(stack, ctx, tcp, |t, tctx, id| t.set_keepalive(tctx, id, k.on, k.idle, k.interval, k.count))
        .map_err(from_socket_error)
}

fn check_range(value: u32, min: u32, max: u32) -> Result<(), Errno> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// TCP_INFO from the core's.
fn tcp_info(info: netstack_core::transport::tcp::info::TcpInfo) -> TcpInfo {
    let state = TcpState::from_primitive(u32::from(info.state.linux_number())).unwrap_or(TcpState::Close);
    TcpInfo {
        state: Some(state),
        ca_state: Some(if info.recoveries > 0 && info.lost > 0 {
            TcpCongestionControlState::Recovery
        } else {
            TcpCongestionControlState::Open
        }),
        rto_usec: Some(micros(info.rto)),
        rtt_usec: Some(micros(info.rtt)),
        rtt_var_usec: Some(micros(info.rttvar)),
        snd_ssthresh: Some(info.ssthresh),
        snd_cwnd: Some(info.cwnd),
        reorder_seen: Some(false),
    }
}
