//! The capture tap of a device session: what `netstack capture` (through
//! `netstack.admin/Interfaces.StartCapture`) sees, as `tcpdump` sees a Linux interface
//! through `AF_PACKET`.
//!
//! Each capture is the server's end of an `AF_UNIX` `SOCK_SEQPACKET` socketpair; the client
//! holds the other. Every frame the session receives (before the stack parses it) and every
//! frame the stack hands to the session for transmission (as it enters the TX FIFO, which is
//! where Linux's `dev_queue_xmit_nit` shows a frame to packet sockets: a frame the device then
//! fails to send was still captured) is written to each capture as one record, little-endian:
//!
//! ```text
//! u64 timestamp_ns (CLOCK_REALTIME) | u32 original_len | u8 direction (0 rx, 1 tx) | [u8; 3] 0
//! | min(original_len, snaplen) frame bytes
//! ```
//!
//! The write is one non-blocking `sendmsg` of two slices (the header on the stack, the frame
//! in its pool buffer): nothing is allocated per frame. A full socket drops the record and
//! counts it; a peer that closed its end removes the capture. With no capture active, a frame
//! costs one branch ([`Captures::is_active`]).

use std::io::IoSlice;
use std::os::fd::OwnedFd;

use netstack_fidl::netstack_admin::CaptureRecordHeader;
use rustix::io::Errno;
use rustix::net::{AddressFamily, SendAncillaryBuffer, SendFlags, SocketFlags, SocketType};

/// Captures one session may have at once.
pub const MAX_CAPTURES: usize = 4;
/// Frame bytes a record holds unless the client asks for fewer.
pub const DEFAULT_SNAPLEN: u32 = 262_144;
/// Which way a captured frame went.
pub use netstack_fidl::netstack_admin::CaptureDirection as Direction;
/// The bytes before the frame in each record.
pub use netstack_fidl::netstack_admin::CAPTURE_RECORD_HEADER_LEN as RECORD_HEADER_LEN;

/// Why a capture could not start.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The session has [`MAX_CAPTURES`] already.
    #[error("the interface has {MAX_CAPTURES} captures running already: stop one first")]
    TooMany,
    /// The socketpair could not be made.
    #[error("cannot create the capture socket: {0}")]
    Socket(#[source] std::io::Error),
}

/// What the taps of one session counted (since the session started).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureCounters {
    /// Gauge: captures running.
    pub active: u64,
    /// Captures started.
    pub started: u64,
    /// Captures ended because the client closed its socket.
    pub ended: u64,
    /// Records written.
    pub records: u64,
    /// Records dropped because the client's socket was full.
    pub dropped_full: u64,
}

/// One running capture.
#[derive(Debug)]
struct Capture {
    socket: OwnedFd,
    snaplen: u32,
}

/// The captures running on one session; see the module documentation.
#[derive(Debug, Default)]
pub struct Captures {
    taps: Vec<Capture>,
    counters: CaptureCounters,
}

impl Captures {
    /// Whether any capture runs: the one branch a frame pays when none does.
    #[inline]
    pub fn is_active(&self) -> bool {
        !self.taps.is_empty()
    }

    /// Starts a capture of at most `snaplen` bytes per frame (0: [`DEFAULT_SNAPLEN`]).
    /// Returns the client's end: a blocking `SOCK_SEQPACKET` socket carrying one record per
    /// packet.
    pub fn start(&mut self, snaplen: u32) -> Result<OwnedFd, CaptureError> {
        if self.taps.len() >= MAX_CAPTURES {
            return Err(CaptureError::TooMany);
        }
        let (ours, theirs) =
            rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
                .map_err(|e| CaptureError::Socket(e.into()))?;
        // Only our end must never block: the client reads its end as it likes.
        rustix::io::ioctl_fionbio(&ours, true).map_err(|e| CaptureError::Socket(e.into()))?;
        let _ = rustix::net::shutdown(&ours, rustix::net::Shutdown::Read);
        let snaplen = if snaplen == 0 { DEFAULT_SNAPLEN } else { snaplen };
        self.taps.push(Capture { socket: ours, snaplen });
        self.counters.started += 1;
        Ok(theirs)
    }

    /// Writes `frame` to every capture as one record; see the module documentation.
    pub fn record(&mut self, direction: Direction, frame: &[u8]) {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let original_len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let header = CaptureRecordHeader { timestamp_ns: timestamp, original_len, direction }.to_bytes();
        let counters = &mut self.counters;
        self.taps.retain(|tap| {
            let len = frame.len().min(tap.snaplen as usize);
            let iov = [IoSlice::new(&header), IoSlice::new(&frame[..len])];
            let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
            loop {
                match rustix::net::sendmsg(&tap.socket, &iov, &mut SendAncillaryBuffer::default(), flags) {
                    Ok(_) => {
                        counters.records += 1;
                        return true;
                    }
                    Err(Errno::INTR) => continue,
                    // ENOBUFS: the record does not fit the socket's buffer even when empty.
                    Err(Errno::AGAIN | Errno::NOBUFS | Errno::MSGSIZE) => {
                        counters.dropped_full += 1;
                        return true;
                    }
                    // EPIPE, ECONNRESET: the client is gone.
                    Err(_) => {
                        counters.ended += 1;
                        return false;
                    }
                }
            }
        });
    }

    /// What the taps counted.
    pub fn counters(&self) -> CaptureCounters {
        CaptureCounters { active: self.taps.len() as u64, ..self.counters }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_record(fd: &OwnedFd) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 4096];
        match rustix::net::recv(fd, &mut buf, rustix::net::RecvFlags::DONTWAIT) {
            Ok((n, _)) => {
                buf.truncate(n);
                Some(buf)
            }
            Err(_) => None,
        }
    }

    #[test]
    fn records_carry_the_header_and_at_most_snaplen_bytes() {
        let mut captures = Captures::default();
        assert!(!captures.is_active());
        let full = captures.start(0).unwrap();
        let short = captures.start(4).unwrap();
        assert!(captures.is_active());
        captures.record(Direction::Sent, b"0123456789");
        let record = read_record(&full).unwrap();
        assert_eq!(record.len(), RECORD_HEADER_LEN + 10);
        let ts = u64::from_le_bytes(record[..8].try_into().unwrap());
        assert!(ts > 1_600_000_000_000_000_000, "CLOCK_REALTIME in nanoseconds: {ts}");
        assert_eq!(u32::from_le_bytes(record[8..12].try_into().unwrap()), 10);
        assert_eq!(&record[12..16], &[1, 0, 0, 0]);
        assert_eq!(&record[16..], b"0123456789");
        let record = read_record(&short).unwrap();
        assert_eq!(u32::from_le_bytes(record[8..12].try_into().unwrap()), 10, "original length");
        assert_eq!(&record[16..], b"0123");
        assert_eq!(captures.counters().records, 2);
    }

    #[test]
    fn at_most_four_and_a_closed_client_ends_its_capture() {
        let mut captures = Captures::default();
        let clients: Vec<_> = (0..MAX_CAPTURES).map(|_| captures.start(0).unwrap()).collect();
        assert!(matches!(captures.start(0), Err(CaptureError::TooMany)));
        drop(clients);
        captures.record(Direction::Received, b"x");
        assert!(!captures.is_active());
        let counters = captures.counters();
        assert_eq!((counters.active, counters.started, counters.ended, counters.records), (0, 4, 4, 0));
    }

    #[test]
    fn a_full_socket_drops_and_counts_without_blocking() {
        let mut captures = Captures::default();
        let client = captures.start(0).unwrap();
        let frame = [0u8; 1500];
        for _ in 0..10_000 {
            captures.record(Direction::Received, &frame);
        }
        let counters = captures.counters();
        assert!(counters.dropped_full > 0, "{counters:?}");
        assert_eq!(counters.records + counters.dropped_full, 10_000);
        assert!(captures.is_active(), "a slow client keeps its capture");
        assert!(read_record(&client).is_some());
    }
}
