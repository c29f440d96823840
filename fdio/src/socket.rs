//! The control plane of the socket calls: `socket`, `bind`, `connect`, `listen`, `accept`,
//! `getsockname`, `getpeername`, `shutdown`, `setsockopt` and `getsockopt` on the sockets the
//! shim owns, in terms of `fidl/README.md`:
//!
//! - `socket` asks the provider for a socket, `Describe`s it, hides the control channel and
//!   hands the data-plane descriptor itself to the application, at the lowest free number,
//!   with the application's `SOCK_CLOEXEC`/`SOCK_NONBLOCK`.
//! - A blocking TCP `connect` gets `EINPROGRESS` from the netstack, waits for the data plane
//!   to turn writable (honouring `SO_SNDTIMEO`) and asks `GetError`.
//! - A blocking `accept` on an empty queue waits for the listener token to make the data plane
//!   readable (honouring `SO_RCVTIMEO`) and asks again.

use std::ffi::c_int;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::control::Control;
use crate::errno::{check_int, Errno};
use crate::real;
use crate::registry::{self, Phase, ProviderKind, Socket, Transport};
use crate::sockaddr::{self, AppAddr, Domain};
use crate::sockopt::{self, Opt};

/// The transport for `socket(domain, type, protocol)`, or Linux's errno for the combination.
pub fn transport_for(domain: Domain, base_type: c_int, protocol: c_int) -> Result<Transport, Errno> {
    match base_type {
        libc::SOCK_STREAM => match protocol {
            0 | libc::IPPROTO_TCP => Ok(Transport::Tcp),
            _ => Err(Errno::EPROTONOSUPPORT),
        },
        libc::SOCK_DGRAM => match (protocol, domain) {
            (0 | libc::IPPROTO_UDP, _) => Ok(Transport::Udp),
            (libc::IPPROTO_ICMP, Domain::V4) | (libc::IPPROTO_ICMPV6, Domain::V6) => Ok(Transport::IcmpEcho),
            _ => Err(Errno::EPROTONOSUPPORT),
        },
        libc::SOCK_RAW => match u8::try_from(protocol) {
            Ok(p) => Ok(Transport::Raw(p)),
            Err(_) => Err(Errno::EINVAL),
        },
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

/// Which flags of a `socket`/`accept4` type argument the shim honours.
const TYPE_FLAGS: c_int = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

/// `socket(2)` for `AF_INET`/`AF_INET6`. A netstack that cannot be reached, or goes away
/// while the socket is being made, is `EAFNOSUPPORT`.
pub fn create(domain: Domain, ty: c_int, protocol: c_int) -> Result<c_int, Errno> {
    create_socket(domain, ty, protocol).map_err(|e| match e {
        Errno::ECONNRESET => Errno::EAFNOSUPPORT,
        e => e,
    })
}

fn create_socket(domain: Domain, ty: c_int, protocol: c_int) -> Result<c_int, Errno> {
    // __sys_socket: flags beyond SOCK_NONBLOCK/SOCK_CLOEXEC, and inet_create: a negative
    // protocol, are EINVAL.
    const SOCK_TYPE_MASK: c_int = 0xf;
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !TYPE_FLAGS != 0 || protocol < 0 {
        return Err(Errno::EINVAL);
    }
    let transport = transport_for(domain, ty & SOCK_TYPE_MASK, protocol)?;
    let kind = match transport {
        Transport::Raw(_) => ProviderKind::Raw,
        _ => ProviderKind::Socket,
    };
    let channel = {
        let mut tries = 0;
        loop {
            let provider = registry::provider(kind)?;
            let created = match transport {
                Transport::Tcp => provider.stream_socket(domain),
                Transport::Udp => provider.datagram_socket(domain, false),
                Transport::IcmpEcho => provider.datagram_socket(domain, true),
                Transport::Raw(p) => provider.raw_socket(domain, p),
            };
            match created {
                // The daemon went away since we connected: perhaps it restarted.
                Err(Errno::ECONNRESET) if tries == 0 => {
                    registry::forget_provider(kind, &provider);
                    tries += 1;
                }
                other => break other?,
            }
        }
    };
    let control = Control::new(channel, registry::generation())?;
    let data = match transport {
        Transport::Tcp => control.describe_stream()?,
        Transport::Udp | Transport::IcmpEcho => control.describe_datagram()?,
        Transport::Raw(_) => control.describe_raw()?,
    };
    let socket = Arc::new(Socket::new(domain, transport, control, Phase::Idle));
    hand_out(data, flags, socket)
}

/// Gives the data-plane descriptor to the application with `flags`, recording its socket.
///
/// The descriptor arrived by `SCM_RIGHTS` after the control channel was hidden, so it
/// already has the lowest free number; only its flags change.
fn hand_out(data: OwnedFd, flags: c_int, socket: Arc<Socket>) -> Result<c_int, Errno> {
    let fd = data.as_raw_fd();
    let fd_flags = if flags & libc::SOCK_CLOEXEC != 0 { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: F_SETFD/F_GETFL/F_SETFL on a descriptor we own, with int arguments.
    unsafe {
        check_int(real::fcntl(fd, libc::F_SETFD, fd_flags as _))?;
        let fl = check_int(real::fcntl(fd, libc::F_GETFL, 0))?;
        let fl =
            if flags & libc::SOCK_NONBLOCK != 0 { fl | libc::O_NONBLOCK } else { fl & !libc::O_NONBLOCK };
        check_int(real::fcntl(fd, libc::F_SETFL, fl as _))?;
    }
    registry::install(fd, socket)?;
    Ok(data.into_raw_fd())
}

/// The address to hand the netstack for `bind` or `connect`.
fn inet_addr(addr: AppAddr, domain: Domain) -> Result<SocketAddr, Errno> {
    match addr {
        AppAddr::Inet(a) => Ok(a),
        // inet_bind: AF_UNSPEC is accepted for INADDR_ANY on IPv4 sockets.
        AppAddr::Unspec(Some(a)) if domain == Domain::V4 && a.ip().is_unspecified() => Ok(SocketAddr::V4(a)),
        AppAddr::Unspec(_) => Err(Errno::EAFNOSUPPORT),
    }
}

/// `bind(2)`.
///
/// # Safety
/// `addr` must be null or point to `len` readable bytes.
pub unsafe fn bind(
    socket: &Socket,
    addr: *const libc::sockaddr,
    len: libc::socklen_t,
) -> Result<c_int, Errno> {
    // SAFETY: forwarded from the caller.
    let addr = unsafe { sockaddr::read_from_app(addr, len, socket.domain) }?;
    let addr = inet_addr(addr, socket.domain)?;
    socket.control()?.bind(addr)?;
    Ok(0)
}

/// Whether `fd` is in non-blocking mode.
pub fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL takes no argument.
    let fl = unsafe { real::fcntl(fd, libc::F_GETFL, 0) };
    fl >= 0 && fl & libc::O_NONBLOCK != 0
}

/// The application's `SO_RCVTIMEO` or `SO_SNDTIMEO` of `fd` (set natively on the data
/// plane), as a `poll` timeout: -1 for none.
pub fn timeout_ms(fd: RawFd, name: c_int) -> c_int {
    // SAFETY: timeval is plain old data.
    let mut tv: libc::timeval = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into the local timeval.
    let r = unsafe { real::getsockopt(fd, libc::SOL_SOCKET, name, (&raw mut tv).cast(), &mut len) };
    if r < 0 || (tv.tv_sec == 0 && tv.tv_usec == 0) {
        return -1;
    }
    let ms = tv.tv_sec.saturating_mul(1000).saturating_add((tv.tv_usec + 999) / 1000);
    c_int::try_from(ms).unwrap_or(c_int::MAX)
}

/// How a wait for the data plane ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Wait {
    Ready,
    TimedOut,
}

/// Waits until `fd` reports `events` (or an error or hang-up), at most `timeout` ms.
pub fn wait_for(fd: RawFd, events: i16, timeout: c_int) -> Result<Wait, Errno> {
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd.
    match unsafe { libc::poll(&mut pfd, 1, timeout) } {
        0 => Ok(Wait::TimedOut),
        n if n > 0 => Ok(Wait::Ready),
        _ => Err(Errno::last()),
    }
}

/// `connect(2)`.
///
/// # Safety
/// `addr` must be null or point to `len` readable bytes.
pub unsafe fn connect(
    socket: &Socket,
    fd: RawFd,
    addr: *const libc::sockaddr,
    len: libc::socklen_t,
) -> Result<c_int, Errno> {
    // SAFETY: forwarded from the caller.
    let addr = unsafe { sockaddr::read_from_app(addr, len, socket.domain) }?;
    let control = socket.control()?;
    let addr = match addr {
        AppAddr::Unspec(_) => {
            control.disconnect()?;
            if socket.transport.is_stream() {
                socket.set_phase(Phase::Idle);
            } else {
                socket.set_has_peer(false);
            }
            return Ok(0);
        }
        AppAddr::Inet(a) => a,
    };
    if !socket.transport.is_stream() {
        control.connect_to(addr)?;
        socket.set_has_peer(true);
        return Ok(0);
    }
    match control.connect_to(addr) {
        Ok(()) => {
            socket.set_phase(Phase::Active);
            Ok(0)
        }
        Err(Errno::EINPROGRESS) => {
            socket.set_phase(Phase::Active);
            if is_nonblocking(fd) {
                return Err(Errno::EINPROGRESS);
            }
            // The plug comes out of the data plane when the attempt ends either way.
            match wait_for(fd, libc::POLLOUT, timeout_ms(fd, libc::SO_SNDTIMEO))? {
                Wait::TimedOut => Err(Errno::EINPROGRESS),
                Wait::Ready => match control.take_error() {
                    Ok(()) => Ok(0),
                    Err(e) => {
                        // Back to a socket that never connected: reads say ENOTCONN.
                        socket.set_phase(Phase::Idle);
                        Err(e)
                    }
                },
            }
        }
        Err(e) => Err(e),
    }
}

/// `listen(2)`.
pub fn listen(socket: &Socket, backlog: c_int) -> Result<c_int, Errno> {
    if !socket.transport.is_stream() {
        return Err(Errno::EOPNOTSUPP);
    }
    // Linux reads the backlog as unsigned and caps it at net.core.somaxconn (4096).
    const SOMAXCONN: c_int = 4096;
    let backlog = if (0..=SOMAXCONN).contains(&backlog) { backlog } else { SOMAXCONN };
    socket.control()?.listen(i16::try_from(backlog).unwrap_or(i16::MAX))?;
    socket.set_phase(Phase::Listening);
    Ok(0)
}

/// `accept4(2)` (and `accept`, with no flags).
///
/// # Safety
/// `addr`/`len` must be null or valid for writing as `accept(2)` requires.
pub unsafe fn accept(
    socket: &Socket,
    fd: RawFd,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
    flags: c_int,
) -> Result<c_int, Errno> {
    if flags & !TYPE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if !socket.transport.is_stream() {
        return Err(Errno::EOPNOTSUPP);
    }
    let want_addr = !addr.is_null();
    let control = socket.control()?;
    let (peer, channel) = loop {
        match control.accept(want_addr) {
            Err(Errno::EAGAIN) if !is_nonblocking(fd) => {
                // The listener token makes the data plane readable while connections wait.
                let timeout = timeout_ms(fd, libc::SO_RCVTIMEO);
                if wait_for(fd, libc::POLLIN, timeout)? == Wait::TimedOut {
                    return Err(Errno::EAGAIN);
                }
            }
            other => break other?,
        }
    };
    let control = Control::new(channel, registry::generation())?;
    let data = control.describe_stream()?;
    let accepted = Arc::new(Socket::new(socket.domain, Transport::Tcp, control, Phase::Active));
    let new_fd = hand_out(data, flags, accepted)?;
    if let Some(peer) = peer.filter(|_| want_addr) {
        // SAFETY: forwarded from the caller.
        if let Err(e) = unsafe { sockaddr::write_to_app(&peer, socket.domain, addr, len) } {
            crate::fdops::close_socket(new_fd);
            return Err(e);
        }
    } else if want_addr && !len.is_null() {
        // SAFETY: forwarded from the caller.
        unsafe { *len = 0 };
    }
    Ok(new_fd)
}

/// `getsockname(2)` or, with `peer`, `getpeername(2)`.
///
/// # Safety
/// `addr`/`len` must be valid for writing as `getsockname(2)` requires.
pub unsafe fn name(
    socket: &Socket,
    peer: bool,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
) -> Result<c_int, Errno> {
    let control = socket.control()?;
    let name = if peer { control.peer_name()? } else { control.sock_name()? };
    // SAFETY: forwarded from the caller.
    unsafe { sockaddr::write_to_app(&name, socket.domain, addr, len) }?;
    Ok(0)
}

/// `shutdown(2)`: the netstack first, then the data plane itself (stream sockets both ways,
/// datagram sockets for reading only: Linux keeps sending UDP after `SHUT_WR`).
pub fn shutdown(socket: &Socket, fd: RawFd, how: c_int) -> Result<c_int, Errno> {
    let (read, write) = match how {
        libc::SHUT_RD => (true, false),
        libc::SHUT_WR => (false, true),
        libc::SHUT_RDWR => (true, true),
        _ => return Err(Errno::EINVAL),
    };
    socket.control()?.shutdown(read, write)?;
    let native = if socket.transport.is_stream() {
        Some(how)
    } else if read {
        Some(libc::SHUT_RD)
    } else {
        None
    };
    if let Some(native) = native {
        // SAFETY: shutdown on our data-plane descriptor.
        check_int(unsafe { real::shutdown(fd, native) })?;
    }
    if read && !socket.transport.is_stream() {
        socket.set_read_shut();
    }
    Ok(0)
}

/// Options the data plane implements natively: receive and send timeouts and low-water
/// marks apply to the application's blocking calls on the data-plane descriptor.
fn is_native(level: c_int, name: c_int) -> bool {
    level == libc::SOL_SOCKET
        && matches!(
            name,
            libc::SO_RCVTIMEO | libc::SO_SNDTIMEO | SO_RCVTIMEO_NEW | SO_SNDTIMEO_NEW | libc::SO_RCVLOWAT
        )
}

/// `IP_RECVERR` (any IP socket) or `IPV6_RECVERR` (IPv6 sockets): accepted and remembered,
/// with no error queue behind them. Programs such as ping insist on setting them; the errors
/// they would queue reach the program through `SO_ERROR` and its next call instead, and
/// `MSG_ERRQUEUE` finds the queue empty (`EAGAIN`).
fn is_recv_err(socket: &Socket, level: c_int, name: c_int) -> bool {
    match (level, name) {
        (libc::IPPROTO_IP, libc::IP_RECVERR) => true,
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR) => socket.domain == Domain::V6,
        _ => false,
    }
}

const SO_RCVTIMEO_NEW: c_int = 66;
const SO_SNDTIMEO_NEW: c_int = 67;

/// `setsockopt(2)`.
///
/// # Safety
/// `val` must be null or point to `len` readable bytes.
pub unsafe fn setsockopt(
    socket: &Socket,
    fd: RawFd,
    level: c_int,
    name: c_int,
    val: *const libc::c_void,
    len: libc::socklen_t,
) -> Result<c_int, Errno> {
    if is_native(level, name) {
        // SAFETY: forwarded from the caller.
        return check_int(unsafe { real::setsockopt(fd, level, name, val, len) });
    }
    let len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    if val.is_null() && len > 0 {
        return Err(Errno::EFAULT);
    }
    let bytes = if len == 0 {
        &[][..]
    } else {
        // SAFETY: the caller guarantees `len` readable bytes at `val`.
        unsafe { std::slice::from_raw_parts(val.cast::<u8>(), len) }
    };
    if is_recv_err(socket, level, name) {
        let on = sockopt::parse_recv_err(level, bytes)?;
        socket.recv_err.store(on, Ordering::Relaxed);
        return Ok(0);
    }
    let opt = Opt::from_c(level, name).ok_or(Errno::ENOPROTOOPT)?;
    if !opt.applies_to(socket.transport.is_stream(), socket.domain == Domain::V6) {
        return Err(Errno::ENOPROTOOPT);
    }
    let value = sockopt::parse_set(opt, bytes)?;
    let on = matches!(value, sockopt::SetValue::Bool(true));
    socket.control()?.set_option(opt, value)?;
    socket.recv_flags.remember(opt, on);
    Ok(0)
}

/// `getsockopt(2)`.
///
/// # Safety
/// `val`/`len` must be valid for writing as `getsockopt(2)` requires.
pub unsafe fn getsockopt(
    socket: &Socket,
    fd: RawFd,
    level: c_int,
    name: c_int,
    val: *mut libc::c_void,
    len: *mut libc::socklen_t,
) -> Result<c_int, Errno> {
    if is_native(level, name) {
        // SAFETY: forwarded from the caller.
        return check_int(unsafe { real::getsockopt(fd, level, name, val, len) });
    }
    if len.is_null() {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `len` is non-null and the caller guarantees it is valid.
    let room = unsafe { *len };
    let room = usize::try_from(i32::try_from(room).map_err(|_| Errno::EINVAL)?).map_err(|_| Errno::EINVAL)?;
    let local = match (level, name) {
        (libc::SOL_SOCKET, libc::SO_TYPE) => Some(socket.transport.so_type()),
        (libc::SOL_SOCKET, libc::SO_DOMAIN) => Some(socket.domain.family()),
        (libc::SOL_SOCKET, libc::SO_PROTOCOL) => Some(socket.transport.so_protocol(socket.domain)),
        _ if is_recv_err(socket, level, name) => Some(c_int::from(socket.recv_err.load(Ordering::Relaxed))),
        _ => None,
    };
    let bytes = match local {
        Some(v) => {
            let mut b = v.to_ne_bytes().to_vec();
            b.truncate(room);
            b
        }
        None => {
            let opt = Opt::from_c(level, name).ok_or(Errno::ENOPROTOOPT)?;
            if !opt.applies_to(socket.transport.is_stream(), socket.domain == Domain::V6) {
                return Err(Errno::ENOPROTOOPT);
            }
            let value = socket.control()?.get_option(opt)?;
            sockopt::render_get(opt, &value, room)?
        }
    };
    if !bytes.is_empty() {
        if val.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: the caller guarantees `*len` writable bytes; bytes.len() <= *len.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), val.cast::<u8>(), bytes.len()) };
    }
    // SAFETY: as above.
    unsafe { *len = bytes.len() as libc::socklen_t };
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_types_and_protocols_as_linux() {
        use Domain::*;
        assert_eq!(transport_for(V4, libc::SOCK_STREAM, 0), Ok(Transport::Tcp));
        assert_eq!(transport_for(V6, libc::SOCK_STREAM, libc::IPPROTO_TCP), Ok(Transport::Tcp));
        assert_eq!(transport_for(V4, libc::SOCK_STREAM, libc::IPPROTO_UDP), Err(Errno::EPROTONOSUPPORT));
        assert_eq!(transport_for(V4, libc::SOCK_DGRAM, 0), Ok(Transport::Udp));
        assert_eq!(transport_for(V4, libc::SOCK_DGRAM, libc::IPPROTO_ICMP), Ok(Transport::IcmpEcho));
        assert_eq!(transport_for(V6, libc::SOCK_DGRAM, libc::IPPROTO_ICMPV6), Ok(Transport::IcmpEcho));
        assert_eq!(transport_for(V4, libc::SOCK_DGRAM, libc::IPPROTO_ICMPV6), Err(Errno::EPROTONOSUPPORT));
        assert_eq!(transport_for(V6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6), Ok(Transport::Raw(58)));
        assert_eq!(transport_for(V4, libc::SOCK_SEQPACKET, 0), Err(Errno::ESOCKTNOSUPPORT));
    }

    #[test]
    fn af_unspec_binds_only_inaddr_any_on_ipv4() {
        let any = std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 80);
        assert_eq!(inet_addr(AppAddr::Unspec(Some(any)), Domain::V4), Ok(SocketAddr::V4(any)));
        let some = std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(192, 0, 2, 1), 80);
        assert_eq!(inet_addr(AppAddr::Unspec(Some(some)), Domain::V4), Err(Errno::EAFNOSUPPORT));
        assert_eq!(inet_addr(AppAddr::Unspec(Some(any)), Domain::V6), Err(Errno::EAFNOSUPPORT));
    }

    #[test]
    fn timeouts_come_from_the_data_plane_descriptor() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(timeout_ms(a.as_raw_fd(), libc::SO_SNDTIMEO), -1);
        a.set_write_timeout(Some(std::time::Duration::from_millis(1500))).unwrap();
        assert_eq!(timeout_ms(a.as_raw_fd(), libc::SO_SNDTIMEO), 1500);
        assert!(!is_nonblocking(a.as_raw_fd()));
        a.set_nonblocking(true).unwrap();
        assert!(is_nonblocking(a.as_raw_fd()));
    }

    #[test]
    fn waits_time_out_and_see_readiness() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(wait_for(a.as_raw_fd(), libc::POLLIN, 10), Ok(Wait::TimedOut));
        drop(b);
        assert_eq!(wait_for(a.as_raw_fd(), libc::POLLIN, 1000), Ok(Wait::Ready));
    }
}
