//! The datagram data plane (UDP, ICMP echo, raw IP): the application's descriptor is the
//! client end of an `AF_UNIX` `SOCK_SEQPACKET` socketpair, and every packet on it carries the
//! 32-byte header of [`netstack_fidl::datagram_header`] in front of the payload (`fidl/README.md`, "The datagram
//! data plane"). Sends put the destination in the header, receives take the source out of
//! it; both use one `sendmsg`/`recvmsg` with the header as the first iovec, so a datagram is
//! never copied.
//!
//! Linux semantics kept here:
//! - `EMSGSIZE` for payloads no IP packet can carry, checked before anything is sent;
//! - `EDESTADDRREQ` for a send without destination on an unconnected socket (the local peer
//!   record is a cache: when it is empty the netstack is asked, as it is the source of truth);
//! - `MSG_TRUNC` (returned in `msg_flags`, and as a flag: the datagram's real length),
//!   `MSG_PEEK`, `MSG_DONTWAIT`; `msg_name` filled with the source;
//! - `msg_control` filled with the `IP_TTL`/`IP_TOS`/`IPV6_HOPLIMIT`/`IPV6_TCLASS` messages
//!   the application asked for, from the header's bytes 28..31 ([`crate::cmsg`]);
//! - an error record from the netstack (an ICMP error on a connected socket) fails the next
//!   receive with its errno, and is consumed even by `MSG_PEEK`;
//! - `FIONREAD` is the size of the next payload.
//!
//! A receive of 0 bytes (every real packet is at least 32) means the netstack closed the
//! data plane: `ECONNRESET`, unless the application shut the socket down for reading.

use std::ffi::c_int;
use std::os::fd::RawFd;

use netstack_fidl::datagram_header::{self, RecvMeta, HEADER_LEN};

use crate::cmsg;
use crate::errno::{check_ssize, Errno};
use crate::framing::{self, RxHeader};
use crate::real;
use crate::registry::{Socket, Transport};
use crate::sockaddr::{self, AppAddr, Domain};
use crate::stream::iov_len;

/// The largest payload a socket can send in one IP packet (65535 bytes minus the IPv4
/// header, minus the UDP header for UDP), as Linux's `EMSGSIZE` limit.
pub fn max_payload(domain: Domain, transport: Transport) -> usize {
    let ip = match domain {
        Domain::V4 => 20,
        // The IPv6 payload length counts everything after the fixed header.
        Domain::V6 => 0,
    };
    let udp = if transport == Transport::Udp { 8 } else { 0 };
    65535 - ip - udp
}

/// Calls `f` with an iovec array of the header followed by the application's iovecs.
fn with_header<R>(
    header: &mut [u8; HEADER_LEN],
    app: &[libc::iovec],
    f: impl FnOnce(&mut [libc::iovec]) -> R,
) -> Result<R, Errno> {
    // The kernel accepts at most UIO_MAXIOV iovecs, and the header takes one.
    if app.len() >= libc::UIO_MAXIOV as usize {
        return Err(Errno::EMSGSIZE);
    }
    let head = libc::iovec { iov_base: header.as_mut_ptr().cast(), iov_len: HEADER_LEN };
    const ON_STACK: usize = 8;
    if app.len() < ON_STACK {
        let mut iov = [head; ON_STACK];
        iov[1..=app.len()].copy_from_slice(app);
        Ok(f(&mut iov[..=app.len()]))
    } else {
        let mut iov = Vec::with_capacity(app.len() + 1);
        iov.push(head);
        iov.extend_from_slice(app);
        Ok(f(&mut iov))
    }
}

/// Where a receive puts the source address: `msg_name` and `msg_namelen`.
#[derive(Clone, Copy, Debug)]
pub struct NameOut {
    pub addr: *mut libc::sockaddr,
    pub len: *mut libc::socklen_t,
}

/// Where a receive puts control messages: `msg_control`, `msg_controllen` bytes long.
#[derive(Debug)]
pub struct ControlOut<'a> {
    pub buf: &'a mut [u8],
    /// Set to the bytes used.
    pub used: usize,
}

/// Receives one datagram into `iov`; returns the payload length (the full length with
/// `MSG_TRUNC`) and the `msg_flags` to report (with `MSG_CTRUNC` if `control` was too
/// small for the control messages).
///
/// # Safety
/// `iov` must describe writable buffers; `name`'s pointers must be valid as for `recvmsg`.
pub unsafe fn recv(
    socket: &Socket,
    fd: RawFd,
    iov: &[libc::iovec],
    flags: c_int,
    name: Option<NameOut>,
    control: Option<&mut ControlOut<'_>>,
) -> Result<(usize, c_int), Errno> {
    if flags & libc::MSG_ERRQUEUE != 0 {
        return Err(Errno::EAGAIN);
    }
    if flags & libc::MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let pass = flags & (libc::MSG_PEEK | libc::MSG_DONTWAIT | libc::MSG_TRUNC);
    let mut header = [0u8; HEADER_LEN];
    let (n, msg_flags) = with_header(&mut header, iov, |iov| {
        // SAFETY: msghdr is plain old data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        // SAFETY: the iovecs point at our header and the caller's buffers.
        let n = unsafe { real::recvmsg(fd, &mut msg, pass) };
        (n, msg.msg_flags)
    })?;
    let n = check_ssize(n)?;
    if n == 0 {
        return if socket.read_shut() { Ok((0, 0)) } else { Err(Errno::ECONNRESET) };
    }
    if n < HEADER_LEN {
        return Err(Errno::EIO);
    }
    let source = match framing::decode(&header)? {
        RxHeader::Error(e) => {
            if flags & libc::MSG_PEEK != 0 {
                // Linux reports a socket error once, even to a peek: take the record out.
                // SAFETY: reading into our own header buffer.
                unsafe { real::recv(fd, header.as_mut_ptr().cast(), HEADER_LEN, libc::MSG_DONTWAIT) };
            }
            return Err(e);
        }
        RxHeader::From(addr) => Some(addr),
        RxHeader::Anonymous => None,
    };
    if let Some(name) = name.filter(|n| !n.len.is_null()) {
        match source {
            // SAFETY: forwarded from the caller.
            Some(addr) => unsafe { sockaddr::write_to_app(&addr, socket.domain, name.addr, name.len) }?,
            // SAFETY: as above; `len` is non-null.
            None => unsafe { *name.len = 0 },
        }
    }
    let mut msg_flags = msg_flags & !libc::MSG_EOR;
    if let Some(control) = control {
        let messages = source
            .filter(|_| socket.recv_flags.any())
            .map(|addr| cmsg::messages(&socket.recv_flags, &addr, RecvMeta::decode(&header)));
        let (used, truncated) = cmsg::write(messages.into_iter().flatten(), control.buf);
        control.used = used;
        if truncated {
            msg_flags |= libc::MSG_CTRUNC;
        }
    }
    Ok((n - HEADER_LEN, msg_flags))
}

/// Sends one datagram of `iov` to `dest` (the application's `msg_name`), or to the
/// connected peer; returns the payload length sent.
///
/// # Safety
/// `iov` must describe readable buffers; `dest` must be null or point to `dest_len` bytes.
pub unsafe fn send(
    socket: &Socket,
    fd: RawFd,
    iov: &[libc::iovec],
    flags: c_int,
    dest: *const libc::sockaddr,
    dest_len: libc::socklen_t,
) -> Result<usize, Errno> {
    if flags & libc::MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let total = iov_len(iov)?;
    if total > max_payload(socket.domain, socket.transport) {
        return Err(Errno::EMSGSIZE);
    }
    let dest = if dest.is_null() {
        None
    } else {
        // SAFETY: forwarded from the caller.
        match unsafe { sockaddr::read_from_app(dest, dest_len, socket.domain) }? {
            AppAddr::Inet(a) => Some(a),
            // udp_sendmsg reads AF_UNSPEC on an IPv4 socket as AF_INET.
            AppAddr::Unspec(Some(a)) if socket.domain == Domain::V4 => Some(std::net::SocketAddr::V4(a)),
            AppAddr::Unspec(_) => None,
        }
    };
    if dest.is_none() && !socket.has_peer() {
        match socket.control()?.peer_name() {
            Ok(_) => socket.set_has_peer(true),
            Err(Errno::ENOTCONN) => return Err(Errno::EDESTADDRREQ),
            Err(e) => return Err(e),
        }
    }
    let mut header = datagram_header::encode(dest.as_ref());
    let pass = (flags & libc::MSG_DONTWAIT) | libc::MSG_NOSIGNAL;
    let n = with_header(&mut header, iov, |iov| {
        // SAFETY: msghdr is plain old data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        // SAFETY: the iovecs point at our header and the caller's buffers.
        unsafe { real::sendmsg(fd, &msg, pass) }
    })?;
    match check_ssize(n) {
        Ok(n) => Ok(n.saturating_sub(HEADER_LEN)),
        // The netstack closed its end: it is gone.
        Err(Errno::EPIPE) => Err(Errno::ECONNRESET),
        Err(e) => Err(e),
    }
}

/// `FIONREAD`: the payload length of the next datagram, 0 when there is none.
pub fn next_payload_len(fd: RawFd) -> Result<c_int, Errno> {
    let mut header = [0u8; HEADER_LEN];
    // SAFETY: peeking into our own header buffer; MSG_TRUNC returns the full length.
    let n = unsafe {
        real::recv(
            fd,
            header.as_mut_ptr().cast(),
            HEADER_LEN,
            libc::MSG_PEEK | libc::MSG_TRUNC | libc::MSG_DONTWAIT,
        )
    };
    let n = match check_ssize(n) {
        Ok(n) => n,
        Err(Errno::EAGAIN) => return Ok(0),
        Err(e) => return Err(e),
    };
    if n < HEADER_LEN || matches!(framing::decode(&header), Ok(RxHeader::Error(_)) | Err(_)) {
        return Ok(0);
    }
    Ok(c_int::try_from(n - HEADER_LEN).unwrap_or(c_int::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Control;
    use crate::registry::Phase;
    use netstack_fidl::channel::Channel;
    use std::net::SocketAddr;
    use std::os::fd::AsRawFd;

    /// A datagram socket whose data plane is one end of a SEQPACKET pair (the other end
    /// plays the netstack) and whose control channel goes nowhere.
    fn datagram_socket() -> (Socket, std::os::fd::OwnedFd, std::os::fd::OwnedFd, Channel) {
        let mut fds = [0; 2];
        // SAFETY: socketpair into a local array.
        let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0, fds.as_mut_ptr()) };
        assert_eq!(r, 0);
        // SAFETY: socketpair returned two descriptors we now own.
        let (app, net) = unsafe {
            use std::os::fd::FromRawFd;
            (std::os::fd::OwnedFd::from_raw_fd(fds[0]), std::os::fd::OwnedFd::from_raw_fd(fds[1]))
        };
        let (a, b) = Channel::pair().unwrap();
        let control = Control::new(a, crate::registry::generation()).unwrap();
        let socket = Socket::new(Domain::V4, Transport::Udp, control, Phase::Idle);
        (socket, app, net, b)
    }

    fn iov(buf: &mut [u8]) -> libc::iovec {
        libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }
    }

    fn net_send(net: &std::os::fd::OwnedFd, bytes: &[u8]) {
        // SAFETY: sending our own buffer.
        let n = unsafe { libc::send(net.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        assert_eq!(n as usize, bytes.len());
    }

    fn net_recv(net: &std::os::fd::OwnedFd) -> Vec<u8> {
        let mut buf = vec![0u8; 70000];
        // SAFETY: receiving into our own buffer.
        let n = unsafe { libc::recv(net.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        buf.truncate(n as usize);
        buf
    }

    #[test]
    fn send_puts_the_destination_header_in_front() {
        let (socket, app, net, _ctl) = datagram_socket();
        let dest: SocketAddr = "192.0.2.1:9".parse().unwrap();
        let (sa, len) = sockaddr::encode(&dest);
        let mut payload = *b"hello";
        // SAFETY: valid iovec and address buffers.
        let n =
            unsafe { send(&socket, app.as_raw_fd(), &[iov(&mut payload)], 0, sa.as_ptr().cast(), len as _) };
        assert_eq!(n, Ok(5));
        let got = net_recv(&net);
        assert_eq!(got.len(), HEADER_LEN + 5);
        let header: [u8; HEADER_LEN] = got[..HEADER_LEN].try_into().unwrap();
        assert_eq!(framing::decode(&header), Ok(RxHeader::From(dest)));
        assert_eq!(&got[HEADER_LEN..], b"hello");
    }

    #[test]
    fn send_without_destination_uses_the_remembered_peer() {
        let (socket, app, net, _ctl) = datagram_socket();
        socket.set_has_peer(true);
        let mut a = *b"ab";
        let mut c = *b"cde";
        // SAFETY: valid iovecs.
        let n =
            unsafe { send(&socket, app.as_raw_fd(), &[iov(&mut a), iov(&mut c)], 0, std::ptr::null(), 0) };
        assert_eq!(n, Ok(5));
        let got = net_recv(&net);
        assert_eq!(&got[..HEADER_LEN], &[0u8; HEADER_LEN]);
        assert_eq!(&got[HEADER_LEN..], b"abcde");
    }

    #[test]
    fn oversized_payloads_are_emsgsize_before_sending() {
        let (socket, app, _net, _ctl) = datagram_socket();
        let mut big = vec![0u8; 65508];
        let dest: SocketAddr = "192.0.2.1:9".parse().unwrap();
        let (sa, len) = sockaddr::encode(&dest);
        // SAFETY: valid iovec and address buffers.
        let n = unsafe { send(&socket, app.as_raw_fd(), &[iov(&mut big)], 0, sa.as_ptr().cast(), len as _) };
        assert_eq!(n, Err(Errno::EMSGSIZE));
        assert_eq!(max_payload(Domain::V4, Transport::Udp), 65507);
        assert_eq!(max_payload(Domain::V6, Transport::Udp), 65527);
        assert_eq!(max_payload(Domain::V4, Transport::IcmpEcho), 65515);
    }

    #[test]
    fn unconnected_send_without_destination_asks_the_netstack() {
        // The control channel's peer is gone, so the question fails: the errno of a
        // vanished netstack, not EDESTADDRREQ.
        let (socket, app, _net, ctl) = datagram_socket();
        drop(ctl);
        let mut p = *b"x";
        // SAFETY: valid iovec.
        let n = unsafe { send(&socket, app.as_raw_fd(), &[iov(&mut p)], 0, std::ptr::null(), 0) };
        assert_eq!(n, Err(Errno::ECONNRESET));
    }

    #[test]
    fn recv_strips_the_header_and_fills_the_name() {
        let (socket, app, net, _ctl) = datagram_socket();
        let src: SocketAddr = "198.51.100.3:4000".parse().unwrap();
        let mut packet = datagram_header::encode(Some(&src)).to_vec();
        packet.extend_from_slice(b"payload");
        net_send(&net, &packet);
        let mut buf = [0u8; 64];
        let mut name = [0u8; 32];
        let mut name_len: libc::socklen_t = 32;
        let out = NameOut { addr: name.as_mut_ptr().cast(), len: &mut name_len };
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, Some(out), None) };
        assert_eq!(r, Ok((7, 0)));
        assert_eq!(&buf[..7], b"payload");
        assert_eq!(name_len, 16);
        assert_eq!(sockaddr::parse(&name[..16], Domain::V4), Ok(AppAddr::Inet(src)));
    }

    #[test]
    fn recv_returns_the_control_messages_the_application_asked_for() {
        let (socket, app, net, _ctl) = datagram_socket();
        let src: SocketAddr = "198.51.100.3:4000".parse().unwrap();
        let mut packet = datagram_header::encode(Some(&src)).to_vec();
        packet[28..31].copy_from_slice(&[0b11, 61, 0x20]);
        packet.extend_from_slice(b"x");
        net_send(&net, &packet);
        net_send(&net, &packet);
        net_send(&net, &packet);
        let mut buf = [0u8; 8];
        let mut room = [0u8; 64];
        // Nothing asked: no messages, msg_controllen 0.
        let mut control = ControlOut { buf: &mut room, used: 99 };
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, Some(&mut control)) };
        assert_eq!((r, control.used), (Ok((1, 0)), 0));
        // IP_RECVTTL: one IP_TTL message holding 61 as an int.
        socket.recv_flags.remember(crate::sockopt::Opt::IpRecvTtl, true);
        let mut control = ControlOut { buf: &mut room, used: 0 };
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, Some(&mut control)) };
        // SAFETY: CMSG_SPACE and CMSG_LEN are arithmetic.
        let (space, len) = unsafe { (libc::CMSG_SPACE(4) as usize, libc::CMSG_LEN(4) as usize) };
        assert_eq!((r, control.used), (Ok((1, 0)), space));
        let level = i32::from_ne_bytes(room[8..12].try_into().unwrap());
        let kind = i32::from_ne_bytes(room[12..16].try_into().unwrap());
        assert_eq!((level, kind), (libc::IPPROTO_IP, libc::IP_TTL));
        assert_eq!(&room[len - 4..len], &61i32.to_ne_bytes());
        // No room: MSG_CTRUNC.
        let mut control = ControlOut { buf: &mut [], used: 0 };
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, Some(&mut control)) };
        assert_eq!((r, control.used), (Ok((1, libc::MSG_CTRUNC)), 0));
    }

    #[test]
    fn short_buffers_truncate_and_msg_trunc_reports_the_full_length() {
        let (socket, app, net, _ctl) = datagram_socket();
        let mut packet = datagram_header::encode(None).to_vec();
        packet.extend_from_slice(b"0123456789");
        net_send(&net, &packet);
        net_send(&net, &packet);
        net_send(&net, &packet);
        let mut buf = [0u8; 4];
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], libc::MSG_PEEK, None, None) };
        assert_eq!(r, Ok((4, libc::MSG_TRUNC)));
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, None) };
        assert_eq!(r, Ok((4, libc::MSG_TRUNC)), "the peek left the datagram queued");
        assert_eq!(&buf, b"0123");
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], libc::MSG_TRUNC, None, None) };
        assert_eq!(r, Ok((10, libc::MSG_TRUNC)));
        assert_eq!(next_payload_len(app.as_raw_fd()), Ok(10));
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, None) };
        assert_eq!(r.map(|r| r.0), Ok(4));
        assert_eq!(next_payload_len(app.as_raw_fd()), Ok(0));
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], libc::MSG_DONTWAIT, None, None) };
        assert_eq!(r, Err(Errno::EAGAIN));
    }

    #[test]
    fn error_records_fail_the_next_receive_once_even_when_peeked() {
        let (socket, app, net, _ctl) = datagram_socket();
        let mut record = [0u8; HEADER_LEN];
        record[0..2].copy_from_slice(&0xffffu16.to_le_bytes());
        record[24..28].copy_from_slice(&(libc::ECONNREFUSED as u32).to_le_bytes());
        net_send(&net, &record);
        let mut packet = datagram_header::encode(None).to_vec();
        packet.extend_from_slice(b"ok");
        net_send(&net, &packet);
        let mut buf = [0u8; 8];
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], libc::MSG_PEEK, None, None) };
        assert_eq!(r, Err(Errno(libc::ECONNREFUSED)));
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, None) };
        assert_eq!(r, Ok((2, 0)));
    }

    #[test]
    fn a_closed_data_plane_is_econnreset_unless_shut_down_for_reading() {
        let (socket, app, net, _ctl) = datagram_socket();
        drop(net);
        let mut buf = [0u8; 8];
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, None) };
        assert_eq!(r, Err(Errno::ECONNRESET));
        socket.set_read_shut();
        // SAFETY: valid buffers.
        let r = unsafe { recv(&socket, app.as_raw_fd(), &[iov(&mut buf)], 0, None, None) };
        assert_eq!(r, Ok((0, 0)));
    }

    #[test]
    fn too_many_iovecs_are_emsgsize() {
        let mut header = [0u8; HEADER_LEN];
        let many =
            vec![libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; libc::UIO_MAXIOV as usize];
        assert_eq!(with_header(&mut header, &many, |_| ()), Err(Errno::EMSGSIZE));
        let some = &many[..20];
        assert_eq!(with_header(&mut header, some, |iov| iov.len()), Ok(21));
    }
}
