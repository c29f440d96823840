//! The TAP and TUN backends: a Linux virtual interface made through `/dev/net/tun`
//! (`IFF_TAP` carries Ethernet frames, `IFF_TUN` bare IP packets; both with `IFF_NO_PI`, so a
//! read or write is exactly one frame). The kernel side of the interface is a neighbouring
//! host's NIC; the stack is the machine at the other end of the wire.
//!
//! The fd is non-blocking and registered with the event loop's reactor; each wake-up reads up
//! to a budget of frames (like NAPI's `netdev_budget` of 64) and yields. The interface is not
//! persistent: it disappears when the fd closes, so a stopped or crashed daemon leaves
//! nothing behind.
//!
//! Offloads (`IFF_VNET_HDR` with checksum offload, TSO and GRO) would prepend a 12-byte
//! `virtio_net_hdr` to each frame: read and written in the pool buffer's headroom, it would
//! not move the frame.

use std::io;
use std::os::fd::OwnedFd;
use std::task::{ready, Context, Poll, Waker};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::ioctl::{ioctl, opcode, Opcode, Updater};
use tokio::io::unix::AsyncFd;

use super::pool::HEADROOM;
use super::{Backend, BackendCounters, Fifo, Frame, LinkKind, Pool};

/// Which kind of interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunTapMode {
    /// Ethernet frames.
    Tap,
    /// IPv4 and IPv6 packets.
    Tun,
}

/// Why an interface could not be made; each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum TunTapError {
    /// The device node is missing.
    #[error("/dev/net/tun does not exist: load the tun module (modprobe tun) or run where /dev/net/tun is available")]
    NoTunDevice,
    /// The device node cannot be opened.
    #[error("permission denied opening /dev/net/tun: run as root, or give the user read-write access to it")]
    NoAccess,
    /// Creating interfaces needs CAP_NET_ADMIN.
    #[error("creating interface '{0}' needs CAP_NET_ADMIN: run as root (sudo) or grant it (setcap cap_net_admin+ep)")]
    NoCapability(String),
    /// Another device or process has the name.
    #[error("interface name '{0}' is in use by another device or process: pick another name or remove it")]
    NameInUse(String),
    /// Not a valid Linux interface name.
    #[error("invalid interface name '{0}': use 1 to 15 characters without '/', ':' or whitespace")]
    BadName(String),
    /// Some other system call failed.
    #[error("{op} on interface '{name}' failed: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The interface.
        name: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// `struct ifreq` with the `short ifr_flags` member of its union.
#[repr(C)]
#[derive(Debug)]
struct IfReqFlags {
    name: [u8; 16],
    flags: i16,
    _union_rest: [u8; 22],
}

/// `struct ifreq` with the `int ifr_mtu` member of its union.
#[repr(C)]
#[derive(Debug)]
struct IfReqMtu {
    name: [u8; 16],
    mtu: i32,
    _union_rest: [u8; 20],
}

// linux/if_tun.h, linux/if.h, linux/sockios.h.
const TUNSETIFF: Opcode = opcode::write::<i32>(b'T', 202);
const SIOCGIFFLAGS: Opcode = 0x8913;
const SIOCSIFFLAGS: Opcode = 0x8914;
const SIOCSIFMTU: Opcode = 0x8922;
const IFF_TUN: i16 = 0x0001;
const IFF_TAP: i16 = 0x0002;
const IFF_NO_PI: i16 = 0x1000;
const IFF_UP: i16 = 0x0001;

/// `name` as a NUL-terminated `ifr_name`, if Linux would accept it.
fn ifr_name(name: &str) -> Result<[u8; 16], TunTapError> {
    let bad = name.is_empty()
        || name.len() > 15
        || name == "."
        || name == ".."
        || name.bytes().any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0);
    if bad {
        return Err(TunTapError::BadName(name.to_owned()));
    }
    let mut out = [0u8; 16];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

/// Sets the MTU of interface `ifname` through `control`, any `AF_INET` socket.
fn set_kernel_mtu(control: &OwnedFd, ifname: [u8; 16], mtu: u32) -> Result<(), Errno> {
    let mtu = i32::try_from(mtu).map_err(|_| Errno::INVAL)?;
    let mut req = IfReqMtu { name: ifname, mtu, _union_rest: [0; 20] };
    // SAFETY: SIOCSIFMTU reads a `struct ifreq` with `int ifr_mtu` first in the union.
    unsafe { ioctl(control, Updater::<SIOCSIFMTU, IfReqMtu>::new(&mut req)) }
}

/// Which readiness of the fd.
#[derive(Clone, Copy, Debug)]
enum Direction {
    Receive,
    Transmit,
}

/// A TAP or TUN interface, up, with its fd registered with the reactor.
#[derive(Debug)]
pub struct TunTap {
    fd: AsyncFd<OwnedFd>,
    name: String,
    mode: TunTapMode,
    /// Where frames go that arrive when the pool is empty (counted, then dropped).
    discard: Box<[u8]>,
    counters: BackendCounters,
}

impl TunTap {
    /// Creates interface `name` in the current network namespace, sets its MTU if given,
    /// and brings it up. Must be called inside the event loop's runtime.
    pub fn create(name: &str, mode: TunTapMode, mtu: Option<u32>) -> Result<Self, TunTapError> {
        let ifname = ifr_name(name)?;
        let io_err = |op, e: Errno| TunTapError::Io { op, name: name.to_owned(), source: e.into() };
        let fd = rustix::fs::open(
            "/dev/net/tun",
            OFlags::RDWR | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NOENT | Errno::NODEV | Errno::NXIO => TunTapError::NoTunDevice,
            Errno::ACCESS | Errno::PERM => TunTapError::NoAccess,
            e => io_err("open /dev/net/tun", e),
        })?;
        let kind = match mode {
            TunTapMode::Tap => IFF_TAP,
            TunTapMode::Tun => IFF_TUN,
        };
        let mut req = IfReqFlags { name: ifname, flags: kind | IFF_NO_PI, _union_rest: [0; 22] };
        // SAFETY: TUNSETIFF reads and writes back a `struct ifreq`, which `IfReqFlags` lays out
        // (16-byte name, then the 24-byte union starting with `short ifr_flags`).
        unsafe { ioctl(&fd, Updater::<TUNSETIFF, IfReqFlags>::new(&mut req)) }.map_err(|e| match e {
            Errno::PERM => TunTapError::NoCapability(name.to_owned()),
            Errno::BUSY | Errno::INVAL | Errno::EXIST => TunTapError::NameInUse(name.to_owned()),
            e => io_err("TUNSETIFF", e),
        })?;
        let control =
            rustix::net::socket(rustix::net::AddressFamily::INET, rustix::net::SocketType::DGRAM, None)
                .map_err(|e| io_err("socket", e))?;
        if let Some(mtu) = mtu {
            set_kernel_mtu(&control, ifname, mtu).map_err(|e| io_err("SIOCSIFMTU", e))?;
        }
        let mut req = IfReqFlags { name: ifname, flags: 0, _union_rest: [0; 22] };
        // SAFETY: SIOCGIFFLAGS fills `short ifr_flags` of the `struct ifreq` we lay out.
        unsafe { ioctl(&control, Updater::<SIOCGIFFLAGS, IfReqFlags>::new(&mut req)) }
            .map_err(|e| io_err("SIOCGIFFLAGS", e))?;
        req.flags |= IFF_UP;
        // SAFETY: SIOCSIFFLAGS reads `short ifr_flags` of the `struct ifreq` we lay out.
        unsafe { ioctl(&control, Updater::<SIOCSIFFLAGS, IfReqFlags>::new(&mut req)) }
            .map_err(|e| io_err("SIOCSIFFLAGS", e))?;
        // SAFETY: the `OwnedFd` is open and owned by the `AsyncFd` for its whole life, so its
        // raw fd stays valid and the same until the registration is dropped.
        let fd = unsafe { AsyncFd::register(fd) }.map_err(|e| TunTapError::Io {
            op: "register",
            name: name.to_owned(),
            source: e.into(),
        })?;
        Ok(Self {
            fd,
            name: name.to_owned(),
            mode,
            discard: vec![0; 65_536].into_boxed_slice(),
            counters: BackendCounters::default(),
        })
    }

    /// Forgets the reactor's read or write readiness right after the fd said EAGAIN.
    ///
    /// It has to happen here, with no await between the failed call and the clearing: the
    /// reactor only learns of new edges when the runtime polls epoll (at an await, even a
    /// yield), and readiness it learned after our EAGAIN is real. Clearing it later, in
    /// `poll_*_ready`, would throw such an edge away with the stale readiness and leave a
    /// frame unread until some other event woke the loop.
    fn clear_readiness(&self, direction: Direction) {
        // A waker that does nothing: when the fd is ready the poll returns at once without
        // storing it; when not, it replaces the loop's waker only until the loop next waits,
        // which it does through `poll_*_ready` with its own.
        let mut cx = Context::from_waker(Waker::noop());
        let ready = match direction {
            Direction::Receive => self.fd.poll_read_ready(&mut cx),
            Direction::Transmit => self.fd.poll_write_ready(&mut cx),
        };
        if let Poll::Ready(Ok(mut guard)) = ready {
            guard.clear_ready();
        }
    }
}

impl Backend for TunTap {
    fn name(&self) -> &str {
        &self.name
    }

    fn link(&self) -> LinkKind {
        match self.mode {
            TunTapMode::Tap => LinkKind::Ethernet,
            TunTapMode::Tun => LinkKind::PureIp,
        }
    }

    fn poll_rx_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Readiness is cleared where the EAGAIN is seen (`receive`), so any readiness left
        // here came from an edge after it: a frame is waiting.
        ready!(self.fd.poll_read_ready(cx))?.retain_ready();
        Poll::Ready(Ok(()))
    }

    fn receive(&mut self, pool: &Pool, rx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize> {
        let mut received = 0;
        while received < budget && !rx.is_full() {
            let buffer = pool.alloc(pool.frame_len());
            let (result, mut buffer) = match buffer {
                Some(mut buffer) => {
                    (rustix::io::read(self.fd.get_ref(), &mut buffer.as_mut()[HEADROOM..]), Some(buffer))
                }
                None => (rustix::io::read(self.fd.get_ref(), &mut self.discard[..]), None),
            };
            let len = match result {
                Ok(len) => len,
                Err(Errno::AGAIN) => {
                    self.clear_readiness(Direction::Receive);
                    break;
                }
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            };
            received += 1;
            let Some(buffer) = buffer.take() else {
                self.counters.rx_no_buffer += 1;
                continue;
            };
            // A read that filled the buffer may have been cut short.
            if len == 0 || HEADROOM + len >= buffer.as_ref().len() {
                self.counters.rx_bad_length += 1;
                continue;
            }
            self.counters.rx_frames += 1;
            self.counters.rx_bytes += len as u64;
            // The FIFO had room: checked above.
            let _ = rx.push(Frame::new(buffer, HEADROOM..HEADROOM + len));
        }
        Ok(received)
    }

    fn poll_tx_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // As for receive: `transmit` clears readiness where it sees EAGAIN.
        ready!(self.fd.poll_write_ready(cx))?.retain_ready();
        Poll::Ready(Ok(()))
    }

    fn transmit(&mut self, tx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize> {
        let mut sent = 0;
        while sent < budget {
            let Some(frame) = tx.pop() else { break };
            match rustix::io::write(self.fd.get_ref(), frame.body()) {
                Ok(_) => {
                    self.counters.tx_frames += 1;
                    self.counters.tx_bytes += frame.len() as u64;
                    sent += 1;
                }
                Err(Errno::AGAIN) => {
                    tx.unpop(frame);
                    self.clear_readiness(Direction::Transmit);
                    break;
                }
                Err(Errno::INTR) => tx.unpop(frame),
                // EIO while the interface is down, EINVAL for a frame the kernel rejects: the
                // frame is lost, as on a NIC with its link down.
                Err(_) => self.counters.tx_errors += 1,
            }
        }
        Ok(sent)
    }

    fn counters(&self) -> BackendCounters {
        self.counters
    }

    fn set_mtu(&mut self, mtu: u32) -> io::Result<()> {
        let ifname = ifr_name(&self.name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let control =
            rustix::net::socket(rustix::net::AddressFamily::INET, rustix::net::SocketType::DGRAM, None)?;
        set_kernel_mtu(&control, ifname, mtu)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
