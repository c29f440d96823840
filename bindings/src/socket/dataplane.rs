//! The data planes' file descriptors: the `AF_UNIX` socketpairs whose client end the
//! application holds as its socket (`fidl/README.md`, "The stream data plane" and "The
//! datagram data plane"), and the fd-level mechanisms the contract defines on them.
//!
//! * Stream ([`StreamPlane`]): a `SOCK_STREAM` pair. The server keeps its own end and a
//!   duplicate of the client end, which `Describe` hands out again and which is the only way
//!   to act on the client's side: the *plug* (bytes written from the client end into ours
//!   until the client end's send buffer is full, so the application sees it not writable
//!   until a connection exists) and the listener's *token* (one byte towards the client end
//!   while connections wait to be accepted, taken back through the duplicate).
//! * Datagram ([`DatagramPlane`]): a `SOCK_SEQPACKET` pair, one datagram per packet behind
//!   the 32-byte header of [`header`](super::header).
//!
//! # Buffer sizes
//!
//! Each direction of a pair is bounded by its sender's `SO_SNDBUF` (an `AF_UNIX` socket
//! charges what it queued at the peer to itself). The server's pumps move bytes as soon as
//! either side has room, so a pair only needs to cover one turn of the loop at line rate; more
//! would hide a slow reader from TCP's window for longer. Stream pairs get
//! [`STREAM_SNDBUF`] each way (Linux doubles it). A plugged client end gets the smallest send
//! buffer Linux allows, so the plug costs a few kilobytes per unconnected socket, and grows to
//! [`STREAM_SNDBUF`] when the plug is pulled. Datagram pairs get [`DATAGRAM_SNDBUF`] each way,
//! Linux's default `SO_RCVBUF` for UDP, so about as many datagrams wait for the application as
//! would on Linux before the next one is dropped.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, Shutdown, SocketFlags, SocketType};

use super::header::{DatagramHeader, HEADER_LEN};

/// `SO_SNDBUF` of each end of a connected stream pair (the kernel stores twice this).
pub(crate) const STREAM_SNDBUF: usize = 128 * 1024;

/// `SO_SNDBUF` of a plugged client end: Linux raises anything smaller to its minimum.
const PLUG_SNDBUF: usize = 1;

/// `SO_SNDBUF` of each end of a datagram pair (the kernel stores twice this).
pub(crate) const DATAGRAM_SNDBUF: usize = 106_496;

/// Plug bytes written per call.
const PLUG_CHUNK: [u8; 4096] = [0; 4096];

/// The largest datagram the application may send: a header and the largest IP payload.
pub(crate) const MAX_DATAGRAM: usize = HEADER_LEN + 65_535;

fn pair(kind: SocketType) -> io::Result<(OwnedFd, OwnedFd)> {
    let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
    Ok(rustix::net::socketpair(AddressFamily::UNIX, kind, flags, None)?)
}

/// Whether a syscall's result says "try again later".
fn would_block(e: Errno) -> bool {
    e == Errno::AGAIN || e == Errno::WOULDBLOCK
}

/// Edge flags of the server's end, kept by the server: set by the reactor, cleared by an
/// operation that returned `EAGAIN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// A read will not block.
    pub(crate) readable: bool,
    /// A write will not block.
    pub(crate) writable: bool,
}

/// What one read from the data plane gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// This many bytes (never 0).
    Bytes(usize),
    /// End of file: the application shut down writing or closed.
    Eof,
    /// Nothing now.
    WouldBlock,
}

/// A stream socket's socketpair; see the module documentation.
#[derive(Debug)]
pub(crate) struct StreamPlane {
    ours: OwnedFd,
    client: OwnedFd,
    /// Plug bytes queued from the client end to ours.
    plug: usize,
    /// Whether the listener's token byte is queued towards the client end.
    token: bool,
    /// Edge flags of `ours`.
    pub(crate) flags: Flags,
}

impl StreamPlane {
    /// A new pair, plugged.
    pub(crate) fn new_plugged() -> io::Result<Self> {
        let mut plane = Self::new()?;
        rustix::net::sockopt::set_socket_send_buffer_size(&plane.client, PLUG_SNDBUF)?;
        loop {
            match rustix::io::write(&plane.client, &PLUG_CHUNK) {
                Ok(n) => plane.plug += n,
                Err(e) if would_block(e) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(plane)
    }

    /// A new pair, unplugged (an accepted connection's).
    pub(crate) fn new() -> io::Result<Self> {
        let (ours, client) = pair(SocketType::STREAM)?;
        rustix::net::sockopt::set_socket_send_buffer_size(&ours, STREAM_SNDBUF)?;
        rustix::net::sockopt::set_socket_send_buffer_size(&client, STREAM_SNDBUF)?;
        Ok(Self { ours, client, plug: 0, token: false, flags: Flags::default() })
    }

    /// The server's end, for the reactor.
    pub(crate) fn ours(&self) -> BorrowedFd<'_> {
        self.ours.as_fd()
    }

    /// A new duplicate of the client end, for `Describe`.
    pub(crate) fn client_end(&self) -> io::Result<OwnedFd> {
        self.client.try_clone()
    }

    /// Whether the plug is in.
    pub(crate) fn plugged(&self) -> bool {
        self.plug > 0
    }

    /// Pulls the plug: reads and discards the plug bytes, so the client end turns writable,
    /// and gives the client end its connected send buffer.
    pub(crate) fn unplug(&mut self) -> io::Result<()> {
        let mut discard = [0; PLUG_CHUNK.len()];
        while self.plug > 0 {
            let want = self.plug.min(discard.len());
            match rustix::io::read(&self.ours, &mut discard[..want]) {
                Ok(0) => break,
                Ok(n) => self.plug -= n,
                Err(e) if would_block(e) => break,
                Err(e) => return Err(e.into()),
            }
        }
        rustix::net::sockopt::set_socket_send_buffer_size(&self.client, STREAM_SNDBUF)?;
        Ok(())
    }

    /// Makes the client end readable (a connection waits to be accepted) or not, with the
    /// token byte.
    pub(crate) fn set_token(&mut self, on: bool) -> io::Result<()> {
        if on == self.token {
            return Ok(());
        }
        if on {
            rustix::io::write(&self.ours, &[0])?;
        } else {
            // The client end's file status flags are the application's (O_NONBLOCK may be
            // off), so only a per-call flag keeps this read from ever blocking the loop.
            let mut byte = [0];
            rustix::net::recv(&self.client, &mut byte, rustix::net::RecvFlags::DONTWAIT)?;
        }
        self.token = on;
        Ok(())
    }

    /// Reads application bytes into `bufs`, in order, with one `readv`.
    pub(crate) fn read(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<Read> {
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        match rustix::io::readv(&self.ours, bufs) {
            Ok(0) if want > 0 => Ok(Read::Eof),
            Ok(n) => Ok(Read::Bytes(n)),
            Err(e) if would_block(e) => {
                self.flags.readable = false;
                Ok(Read::WouldBlock)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes bytes towards the application with one `writev`; `Ok(0)` when the pair is
    /// full.
    pub(crate) fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match rustix::io::writev(&self.ours, bufs) {
            Ok(n) => Ok(n),
            Err(e) if would_block(e) => {
                self.flags.writable = false;
                Ok(0)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Shuts down writing towards the application (it reads 0 after the last byte), or both
    /// directions (its writes fail with `EPIPE` too).
    pub(crate) fn shutdown(&self, both: bool) {
        let how = if both { Shutdown::Both } else { Shutdown::Write };
        let _ = rustix::net::shutdown(&self.ours, how);
    }

    /// Bytes moved towards the application that it never read: the client end's receive
    /// queue, seen through the duplicate the server keeps (a listener's token counts too).
    pub(crate) fn unread_by_app(&self) -> u64 {
        rustix::io::ioctl_fionread(&self.client).unwrap_or(0)
    }

    /// Refuses further application writes but keeps what it wrote readable: the next reads
    /// return what is queued, then end of file (close(2)'s drain).
    pub(crate) fn stop_input(&self) {
        let _ = rustix::net::shutdown(&self.ours, Shutdown::Read);
    }
}

/// A datagram socket's socketpair; see the module documentation.
#[derive(Debug)]
pub(crate) struct DatagramPlane {
    ours: OwnedFd,
    client: OwnedFd,
    /// Edge flags of `ours`.
    pub(crate) flags: Flags,
}

/// What one receive from the datagram plane gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Packet {
    /// A packet of this many bytes (header included); `truncated` if it did not fit.
    Bytes {
        /// Bytes in the buffer.
        len: usize,
        /// The packet was longer than the buffer.
        truncated: bool,
    },
    /// The application closed its end.
    Closed,
    /// Nothing now.
    WouldBlock,
}

impl DatagramPlane {
    /// A new pair.
    pub(crate) fn new() -> io::Result<Self> {
        let (ours, client) = pair(SocketType::SEQPACKET)?;
        rustix::net::sockopt::set_socket_send_buffer_size(&ours, DATAGRAM_SNDBUF)?;
        rustix::net::sockopt::set_socket_send_buffer_size(&client, DATAGRAM_SNDBUF)?;
        Ok(Self { ours, client, flags: Flags::default() })
    }

    /// The server's end, for the reactor.
    pub(crate) fn ours(&self) -> BorrowedFd<'_> {
        self.ours.as_fd()
    }

    /// A new duplicate of the client end, for `Describe`.
    pub(crate) fn client_end(&self) -> io::Result<OwnedFd> {
        self.client.try_clone()
    }

    /// Sets how much may wait for the application (`SO_RCVBUF` as the application sees it).
    pub(crate) fn set_receive_buffer(&self, bytes: usize) -> io::Result<()> {
        Ok(rustix::net::sockopt::set_socket_send_buffer_size(&self.ours, bytes)?)
    }

    /// `shutdown` as the application asked: `read` makes it read end of file, `write` makes
    /// its sends fail with `EPIPE`.
    pub(crate) fn shutdown(&self, read: bool, write: bool) {
        let how = match (read, write) {
            (true, true) => Shutdown::Both,
            (true, false) => Shutdown::Write,
            (false, true) => Shutdown::Read,
            (false, false) => return,
        };
        let _ = rustix::net::shutdown(&self.ours, how);
    }

    /// Receives one packet from the application into `buf`.
    pub(crate) fn recv(&mut self, buf: &mut [u8]) -> io::Result<Packet> {
        let room = buf.len();
        match rustix::net::recv(&self.ours, buf, RecvFlags::TRUNC) {
            Ok((_, 0)) => Ok(Packet::Closed),
            Ok((_, len)) => Ok(Packet::Bytes { len: len.min(room), truncated: len > room }),
            Err(e) if would_block(e) => {
                self.flags.readable = false;
                Ok(Packet::WouldBlock)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sends one packet (`header` then `payload`) to the application; `false` if the pair
    /// is full (the caller drops and counts it).
    pub(crate) fn send(&mut self, header: DatagramHeader, payload: &[u8]) -> io::Result<bool> {
        let header = header.to_bytes();
        let bufs = [IoSlice::new(&header), IoSlice::new(payload)];
        let mut control = rustix::net::SendAncillaryBuffer::default();
        match rustix::net::sendmsg(&self.ours, &bufs, &mut control, SendFlags::DONTWAIT | SendFlags::NOSIGNAL)
        {
            Ok(_) => Ok(true),
            Err(e) if would_block(e) => Ok(false),
            // Larger than the pair can ever hold (a tiny SO_RCVBUF): dropped like a full one.
            Err(Errno::MSGSIZE) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writable(fd: BorrowedFd<'_>) -> bool {
        let mut fds = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::OUT)];
        rustix::event::poll(&mut fds, Some(&rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 })).unwrap();
        fds[0].revents().contains(rustix::event::PollFlags::OUT)
    }

    fn readable(fd: BorrowedFd<'_>) -> bool {
        let mut fds = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
        rustix::event::poll(&mut fds, Some(&rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 })).unwrap();
        fds[0].revents().contains(rustix::event::PollFlags::IN)
    }

    #[test]
    fn the_plug_keeps_the_client_end_unwritable_until_pulled() {
        let mut plane = StreamPlane::new_plugged().unwrap();
        let app = plane.client_end().unwrap();
        assert!(plane.plugged());
        assert!(!writable(app.as_fd()), "plugged: not writable");
        assert_eq!(rustix::io::write(&app, b"x"), Err(Errno::AGAIN));
        plane.unplug().unwrap();
        assert!(!plane.plugged());
        assert!(writable(app.as_fd()), "unplugged: writable");
        // What the application writes now is all that arrives: no plug byte is left.
        rustix::io::write(&app, b"hello").unwrap();
        let mut buf = [0; 64];
        assert_eq!(plane.read(&mut [IoSliceMut::new(&mut buf)]).unwrap(), Read::Bytes(5));
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(plane.read(&mut [IoSliceMut::new(&mut buf)]).unwrap(), Read::WouldBlock);
    }

    #[test]
    fn one_readv_fills_two_slices_in_order_and_one_writev_drains_two() {
        let mut plane = StreamPlane::new().unwrap();
        let app = plane.client_end().unwrap();
        rustix::io::write(&app, b"wrapped around").unwrap();
        let (mut tail, mut head) = ([0; 4], [0; 32]);
        let read = plane.read(&mut [IoSliceMut::new(&mut tail), IoSliceMut::new(&mut head)]).unwrap();
        assert_eq!(read, Read::Bytes(14));
        assert_eq!((&tail, &head[..10]), (b"wrap", &b"ped around"[..]));
        assert_eq!(plane.write(&[IoSlice::new(b"older "), IoSlice::new(b"newer")]).unwrap(), 11);
        let mut buf = [0; 32];
        assert_eq!(rustix::io::read(&app, &mut buf), Ok(11));
        assert_eq!(&buf[..11], b"older newer");
    }

    #[test]
    fn the_token_makes_the_client_end_readable_and_is_taken_back() {
        let mut plane = StreamPlane::new_plugged().unwrap();
        let app = plane.client_end().unwrap();
        assert!(!readable(app.as_fd()));
        plane.set_token(true).unwrap();
        plane.set_token(true).unwrap();
        assert!(readable(app.as_fd()));
        plane.set_token(false).unwrap();
        assert!(!readable(app.as_fd()));
    }

    #[test]
    fn shutdowns_show_as_eof_and_epipe_to_the_application() {
        let mut plane = StreamPlane::new().unwrap();
        let app = plane.client_end().unwrap();
        assert_eq!(plane.write(&[IoSlice::new(b"last")]).unwrap(), 4);
        plane.shutdown(false);
        let mut buf = [0; 8];
        assert_eq!(rustix::io::read(&app, &mut buf), Ok(4));
        assert_eq!(rustix::io::read(&app, &mut buf), Ok(0));
        plane.shutdown(true);
        assert_eq!(rustix::net::send(&app, b"x", SendFlags::NOSIGNAL), Err(Errno::PIPE));
    }

    #[test]
    fn stop_input_drains_what_was_written_then_reads_eof() {
        let mut plane = StreamPlane::new().unwrap();
        let app = plane.client_end().unwrap();
        rustix::io::write(&app, b"queued").unwrap();
        plane.stop_input();
        let mut buf = [0; 16];
        assert_eq!(plane.read(&mut [IoSliceMut::new(&mut buf)]).unwrap(), Read::Bytes(6));
        assert_eq!(plane.read(&mut [IoSliceMut::new(&mut buf)]).unwrap(), Read::Eof);
    }

    #[test]
    fn datagrams_keep_their_boundaries_and_a_full_pair_refuses() {
        let mut plane = DatagramPlane::new().unwrap();
        let app = plane.client_end().unwrap();
        let header = DatagramHeader::V4 { addr: [192, 0, 2, 1], port: 7 };
        assert!(plane.send(header, b"one").unwrap());
        let mut buf = [0; 64];
        let n = rustix::io::read(&app, &mut buf).unwrap();
        assert_eq!(n, HEADER_LEN + 3);
        assert_eq!(DatagramHeader::parse(&buf[..n]).unwrap(), (header, &b"one"[..]));
        let mut sent = 0;
        while plane.send(header, &[0; 1000]).unwrap() {
            sent += 1;
            assert!(sent < 10_000, "the pair never fills");
        }
        assert!(sent > 10, "{sent}");
        // From the application: one packet per send, truncation reported.
        let mut packet = DatagramHeader::Unspecified.to_bytes().to_vec();
        packet.extend_from_slice(&[1; 100]);
        rustix::io::write(&app, &packet).unwrap();
        let mut small = [0; 40];
        assert_eq!(plane.recv(&mut small).unwrap(), Packet::Bytes { len: 40, truncated: true });
        assert_eq!(plane.recv(&mut small).unwrap(), Packet::WouldBlock);
    }
}
