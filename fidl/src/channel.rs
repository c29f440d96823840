//! FIDL channels over `AF_UNIX` `SOCK_SEQPACKET` sockets.
//!
//! A Zircon channel carries datagrams of bytes plus handles, preserving message boundaries. A
//! connected `SOCK_SEQPACKET` socket does the same on Linux: one `sendmsg` is one message, and
//! file descriptors travel beside the bytes as `SCM_RIGHTS` ancillary data (see
//! `fidl/README.md`, "Transport"). Limits follow Zircon: 65536 bytes and 64 handles per message.

use std::ffi::c_int;
use std::io::{self, IoSlice};
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use rustix::io::Errno;
use rustix::net::{
    AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix, SocketFlags,
    SocketType,
};

/// The largest message a channel carries, in bytes (`ZX_CHANNEL_MAX_MSG_BYTES`).
pub const MAX_MESSAGE_BYTES: usize = 65536;
/// The most handles a message carries (`ZX_CHANNEL_MAX_MSG_HANDLES`).
pub const MAX_MESSAGE_HANDLES: usize = 64;

/// Room for the `SCM_RIGHTS` control message of a full message's handles.
const CONTROL_SPACE: usize = rustix::cmsg_space!(ScmRights(MAX_MESSAGE_HANDLES));

/// One FIDL message: its bytes and the handles (file descriptors) that travel with it.
#[derive(Debug, Default)]
pub struct MessageBuf {
    /// The encoded message, transactional header first.
    pub bytes: Vec<u8>,
    /// The handles, in the order the encoding refers to them.
    pub handles: Vec<OwnedFd>,
}

impl MessageBuf {
    /// An empty message buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the buffer, closing any handles it still holds.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.handles.clear();
    }
}

/// Why a channel operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The channel is non-blocking and the operation would block.
    #[error("the channel operation would block")]
    WouldBlock,
    /// The peer closed its end.
    #[error("the channel's peer is closed")]
    PeerClosed,
    /// The message exceeds [`MAX_MESSAGE_BYTES`] or [`MAX_MESSAGE_HANDLES`].
    #[error("the message exceeds the channel limits of {MAX_MESSAGE_BYTES} bytes and {MAX_MESSAGE_HANDLES} handles")]
    TooBig,
    /// Any other error of the underlying socket.
    #[error("channel I/O failed: {0}")]
    Io(#[from] io::Error),
}

impl From<Errno> for ChannelError {
    fn from(errno: Errno) -> Self {
        match errno {
            Errno::AGAIN => ChannelError::WouldBlock,
            Errno::PIPE | Errno::CONNRESET | Errno::NOTCONN => ChannelError::PeerClosed,
            Errno::MSGSIZE | Errno::TOOMANYREFS => ChannelError::TooBig,
            other => ChannelError::Io(other.into()),
        }
    }
}

/// A FIDL channel: one end of a connected `AF_UNIX` `SOCK_SEQPACKET` socket, close-on-exec.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    /// Creates a connected pair of channels.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let (a, b) =
            rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)?;
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    /// Connects to the listening `SOCK_SEQPACKET` socket at `path` (a protocol in a svc dir).
    /// Blocks until the listener accepts or its backlog takes the connection.
    pub fn connect(path: &Path) -> io::Result<Channel> {
        let fd =
            rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)?;
        let addr = SocketAddrUnix::new(path)?;
        rustix::net::connect(&fd, &addr)?;
        Ok(Channel { fd })
    }

    /// Wraps a file descriptor that is already a connected `SOCK_SEQPACKET` socket.
    pub fn from_fd(fd: OwnedFd) -> Channel {
        Channel { fd }
    }

    /// Unwraps the socket.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Switches `O_NONBLOCK` on or off.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        rustix::io::ioctl_fionbio(&self.fd, on)?;
        Ok(())
    }

    /// Sends `msg` as one message, with `MSG_NOSIGNAL` (a closed peer is
    /// [`ChannelError::PeerClosed`], not `SIGPIPE`).
    ///
    /// The peer receives duplicates of `msg.handles`: this end keeps its descriptors open until
    /// `msg` is cleared or dropped, so clear it right after sending when the peer must become
    /// the only holder (for example a data-plane socket whose end of file matters).
    pub fn write(&self, msg: &MessageBuf) -> Result<(), ChannelError> {
        self.write_parts(&msg.bytes, &msg.handles)
    }

    /// Sends `bytes` and `handles` as one message; see [`Channel::write`].
    pub fn write_parts(&self, bytes: &[u8], handles: &[OwnedFd]) -> Result<(), ChannelError> {
        if bytes.len() > MAX_MESSAGE_BYTES || handles.len() > MAX_MESSAGE_HANDLES {
            return Err(ChannelError::TooBig);
        }
        let fds: Vec<BorrowedFd<'_>> = handles.iter().map(AsFd::as_fd).collect();
        let mut space = [MaybeUninit::uninit(); CONTROL_SPACE];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(ChannelError::TooBig);
        }
        loop {
            match rustix::net::sendmsg(&self.fd, &[IoSlice::new(bytes)], &mut control, SendFlags::NOSIGNAL) {
                Ok(_) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// Receives one message into `buf`, replacing its bytes and handles. Received descriptors
    /// are close-on-exec.
    ///
    /// Errors: [`ChannelError::WouldBlock`] when non-blocking and nothing is queued,
    /// [`ChannelError::PeerClosed`] at end of file, [`ChannelError::TooBig`] when the message
    /// or its handles did not fit (the message is discarded, as the kernel truncated it).
    pub fn read(&self, buf: &mut MessageBuf) -> Result<(), ChannelError> {
        self.read_with(buf, 0)
    }

    /// Like [`Channel::read`], but never blocks, whatever the channel's `O_NONBLOCK` mode.
    pub fn try_read(&self, buf: &mut MessageBuf) -> Result<(), ChannelError> {
        self.read_with(buf, libc::MSG_DONTWAIT)
    }

    /// `recvmsg` straight into the spare capacity of `buf.bytes`: the kernel initializes what
    /// it writes, so the 64 KiB a message may take are reserved once and never zero-filled.
    fn read_with(&self, buf: &mut MessageBuf, flags: c_int) -> Result<(), ChannelError> {
        buf.clear();
        buf.bytes.reserve(MAX_MESSAGE_BYTES);
        let mut iov = libc::iovec {
            iov_base: buf.bytes.spare_capacity_mut().as_mut_ptr().cast(),
            iov_len: MAX_MESSAGE_BYTES,
        };
        let mut control = ControlSpace([MaybeUninit::uninit(); CONTROL_SPACE]);
        // SAFETY: msghdr is plain old data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = CONTROL_SPACE;
        let received = loop {
            // SAFETY: the iovec covers the MAX_MESSAGE_BYTES of spare capacity reserved above
            // and the control buffer its CONTROL_SPACE bytes; the kernel writes within them.
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, flags | libc::MSG_CMSG_CLOEXEC) };
            if let Ok(n) = usize::try_from(n) {
                break n.min(MAX_MESSAGE_BYTES);
            }
            match Errno::from_raw_os_error(io::Error::last_os_error().raw_os_error().unwrap_or_default()) {
                Errno::INTR => continue,
                errno => return Err(errno.into()),
            }
        };
        // SAFETY: the kernel wrote the first `received` bytes of the spare capacity.
        unsafe { buf.bytes.set_len(received) };
        // SAFETY: `msg` is the header recvmsg filled in: its control messages lie within the
        // `msg_controllen` bytes of `control`, which is aligned for `cmsghdr`.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        while !cmsg.is_null() {
            // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR return only whole headers inside the buffer.
            let header = unsafe { &*cmsg };
            if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_RIGHTS {
                // SAFETY: as above; the data of SCM_RIGHTS is an array of descriptors.
                let data = unsafe { libc::CMSG_DATA(cmsg) };
                let count =
                    header.cmsg_len.saturating_sub(data as usize - cmsg as usize) / size_of::<c_int>();
                for i in 0..count {
                    // SAFETY: `i` is within the message's descriptors, which the kernel just
                    // installed in this process for us to own.
                    buf.handles
                        .push(unsafe { OwnedFd::from_raw_fd(data.cast::<c_int>().add(i).read_unaligned()) });
                }
            }
            // SAFETY: as above.
            cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
        }
        if msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0 {
            buf.clear();
            return Err(ChannelError::TooBig);
        }
        if received == 0 && buf.handles.is_empty() {
            return Err(ChannelError::PeerClosed);
        }
        Ok(())
    }
}

/// Room for the control messages of [`Channel::read`], aligned for `cmsghdr`.
#[repr(C, align(8))]
struct ControlSpace([MaybeUninit<u8>; CONTROL_SPACE]);

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Channel {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<OwnedFd> for Channel {
    fn from(fd: OwnedFd) -> Self {
        Channel::from_fd(fd)
    }
}

impl From<Channel> for OwnedFd {
    fn from(channel: Channel) -> Self {
        channel.into_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn message(bytes: &[u8], handles: Vec<OwnedFd>) -> MessageBuf {
        MessageBuf { bytes: bytes.to_vec(), handles }
    }

    fn is_cloexec(fd: &OwnedFd) -> bool {
        rustix::io::fcntl_getfd(fd).expect("F_GETFD").contains(rustix::io::FdFlags::CLOEXEC)
    }

    #[test]
    fn messages_keep_their_boundaries_and_handles() {
        let (a, b) = Channel::pair().expect("pair");
        let (x, _y) = Channel::pair().expect("pair");
        a.write(&message(b"first", vec![x.into_fd()])).expect("write");
        a.write(&message(b"second", Vec::new())).expect("write");
        let mut buf = MessageBuf::new();
        b.read(&mut buf).expect("read");
        assert_eq!(buf.bytes, b"first");
        assert_eq!(buf.handles.len(), 1);
        assert!(is_cloexec(&buf.handles[0]), "received descriptors are close-on-exec");
        b.read(&mut buf).expect("read");
        assert_eq!(buf.bytes, b"second");
        assert!(buf.handles.is_empty());
    }

    #[test]
    fn handles_are_usable_after_the_transfer() {
        let (a, b) = Channel::pair().expect("pair");
        let (near, far) = Channel::pair().expect("pair");
        a.write(&message(b"h", vec![far.into_fd()])).expect("write");
        let mut buf = MessageBuf::new();
        b.read(&mut buf).expect("read");
        let far = Channel::from_fd(buf.handles.pop().expect("one handle"));
        far.write(&message(b"through", Vec::new())).expect("write");
        near.read(&mut buf).expect("read");
        assert_eq!(buf.bytes, b"through");
    }

    #[test]
    fn empty_non_blocking_channel_would_block() {
        let (a, _b) = Channel::pair().expect("pair");
        a.set_nonblocking(true).expect("O_NONBLOCK");
        assert!(matches!(a.read(&mut MessageBuf::new()), Err(ChannelError::WouldBlock)));
        let (c, _d) = Channel::pair().expect("pair");
        assert!(matches!(c.try_read(&mut MessageBuf::new()), Err(ChannelError::WouldBlock)));
    }

    #[test]
    fn closed_peer_is_reported_on_read_and_write() {
        let (a, b) = Channel::pair().expect("pair");
        a.write(&message(b"last words", Vec::new())).expect("write");
        drop(a);
        let mut buf = MessageBuf::new();
        b.read(&mut buf).expect("queued messages are still readable");
        assert!(matches!(b.read(&mut buf), Err(ChannelError::PeerClosed)));
        assert!(matches!(b.write(&message(b"x", Vec::new())), Err(ChannelError::PeerClosed)));
    }

    #[test]
    fn oversized_messages_are_refused() {
        let (a, b) = Channel::pair().expect("pair");
        let big = vec![0u8; MAX_MESSAGE_BYTES + 1];
        assert!(matches!(a.write(&message(&big, Vec::new())), Err(ChannelError::TooBig)));
        let handles = (0..=MAX_MESSAGE_HANDLES).map(|_| Channel::pair().expect("pair").0.into_fd()).collect();
        assert!(matches!(a.write(&message(b"x", handles)), Err(ChannelError::TooBig)));
        let full = vec![7u8; MAX_MESSAGE_BYTES];
        a.write(&message(&full, Vec::new())).expect("the limit itself fits");
        let mut buf = MessageBuf::new();
        b.read(&mut buf).expect("read");
        assert_eq!(buf.bytes.len(), MAX_MESSAGE_BYTES);
    }

    #[test]
    fn truncated_messages_are_too_big() {
        // A peer that ignores the limit: a raw SEQPACKET write larger than a channel reads.
        let (a, b) = Channel::pair().expect("pair");
        let big = vec![1u8; MAX_MESSAGE_BYTES + 8];
        rustix::net::send(&a, &big, SendFlags::empty()).expect("raw send");
        assert!(matches!(b.read(&mut MessageBuf::new()), Err(ChannelError::TooBig)));
    }

    #[test]
    fn connect_reaches_a_listening_socket() {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "netstack-fidl-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let listener =
            rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
                .expect("socket");
        rustix::net::bind(&listener, &SocketAddrUnix::new(&path).expect("path")).expect("bind");
        rustix::net::listen(&listener, 1).expect("listen");
        let client = Channel::connect(&path);
        let _ = std::fs::remove_file(&path);
        let client = client.expect("connect");
        let server = Channel::from_fd(rustix::net::accept(&listener).expect("accept"));
        client.write(&message(b"hello", Vec::new())).expect("write");
        let mut buf = MessageBuf::new();
        server.read(&mut buf).expect("read");
        assert_eq!(buf.bytes, b"hello");
        assert!(Channel::connect(&path).is_err(), "nothing listens there any more");
    }
}
