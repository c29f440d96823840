//! The stream (TCP) data plane: the application's descriptor is the client end of an
//! `AF_UNIX` `SOCK_STREAM` socketpair, so reads and writes go to it natively. The shim steps
//! in only where a socketpair and a TCP socket differ (`fidl/README.md`, "The stream data
//! plane"):
//!
//! - end of file may be a reset, a timeout or a refused connection: a read returning 0
//!   asks `GetError` and reports the pending error instead;
//! - writes always use `MSG_NOSIGNAL`; on `EPIPE` the shim asks `GetError` (a reset is
//!   `ECONNRESET`), and otherwise raises `SIGPIPE` itself unless the application passed
//!   `MSG_NOSIGNAL`, as Linux does;
//! - before `connect` (and while listening) the data plane is plugged: reads fail with
//!   `ENOTCONN` and writes with `EPIPE`, as on Linux, rather than blocking forever;
//! - addresses and ancillary data never reach the socketpair (`sendto` on a connected TCP
//!   socket ignores the address, as Linux does); `MSG_OOB` is refused (`EOPNOTSUPP`).

use std::ffi::c_int;
use std::os::fd::RawFd;

use crate::errno::Errno;
use crate::fdtable::{class_of, FdClass};
use crate::registry::{self, Phase};

/// Whether the socket behind an idle-class descriptor has become active since the caller
/// looked at the fast path (another thread connected it); `Err` with the errno Linux gives
/// for a socket that is neither connecting nor connected.
fn check_active(fd: RawFd, idle_errno: Errno) -> Result<(), Errno> {
    if class_of(fd) == FdClass::StreamActive {
        return Ok(());
    }
    match registry::lookup(fd) {
        Some(socket) if socket.phase() == Phase::Active => Ok(()),
        Some(_) => Err(idle_errno),
        None => Err(Errno::EBADF),
    }
}

/// After a read returned 0 bytes for a non-empty request: the pending error, if any.
fn end_of_file(fd: RawFd) -> Result<usize, Errno> {
    let Some(socket) = registry::lookup(fd) else {
        return Ok(0);
    };
    socket.control()?.take_error()?;
    Ok(0)
}

/// A read-like call (`read`, `recv`, `recvfrom`, `recvmsg`, `readv`) of `requested` bytes,
/// made natively by `op`.
pub fn recv(fd: RawFd, requested: usize, flags: c_int, op: impl FnOnce() -> isize) -> Result<usize, Errno> {
    if flags & libc::MSG_ERRQUEUE != 0 {
        // No error queue: Linux says EAGAIN when it is empty.
        return Err(Errno::EAGAIN);
    }
    check_active(fd, Errno::ENOTCONN)?;
    let n = op();
    match usize::try_from(n) {
        Ok(0) if requested > 0 => end_of_file(fd),
        Ok(n) => Ok(n),
        Err(_) => Err(Errno::last()),
    }
}

/// A write-like call (`write`, `send`, `sendto`, `sendmsg`, `writev`) with the application's
/// `flags`, made natively by `op`, which must add `MSG_NOSIGNAL`.
pub fn send(fd: RawFd, flags: c_int, op: impl FnOnce() -> isize) -> Result<usize, Errno> {
    if flags & libc::MSG_OOB != 0 {
        // Urgent data would travel as a socketpair's out-of-band byte, which the netstack
        // does not read.
        return Err(Errno::EOPNOTSUPP);
    }
    let app_nosignal = flags & libc::MSG_NOSIGNAL != 0;
    if let Err(e) = check_active(fd, Errno::EPIPE) {
        return broken_pipe(app_nosignal, e);
    }
    let n = op();
    match usize::try_from(n) {
        Ok(n) => Ok(n),
        Err(_) => match Errno::last() {
            Errno::EPIPE => {
                let pending =
                    registry::lookup(fd).map(|s| s.control().and_then(|c| c.take_error())).unwrap_or(Ok(()));
                match pending {
                    Err(e) => Err(e),
                    Ok(()) => broken_pipe(app_nosignal, Errno::EPIPE),
                }
            }
            e => Err(e),
        },
    }
}

/// Fails a write with `errno`, raising `SIGPIPE` first for `EPIPE` unless the application
/// passed `MSG_NOSIGNAL`.
fn broken_pipe(app_nosignal: bool, errno: Errno) -> Result<usize, Errno> {
    if errno == Errno::EPIPE && !app_nosignal {
        // SAFETY: raise sends a signal to the calling thread, as the kernel's EPIPE does.
        unsafe { libc::raise(libc::SIGPIPE) };
    }
    Err(errno)
}

/// The `msghdr` a stream `sendmsg`/`recvmsg` passes to the socketpair: the application's
/// data, no address, no ancillary data.
pub fn data_only(msg: &libc::msghdr) -> libc::msghdr {
    // SAFETY: msghdr is plain old data; all-zero is a valid value.
    let mut copy: libc::msghdr = unsafe { std::mem::zeroed() };
    copy.msg_iov = msg.msg_iov;
    copy.msg_iovlen = msg.msg_iovlen;
    copy
}

/// The total length of an iovec array, or `EINVAL` when it overflows `ssize_t`.
pub fn iov_len(iov: &[libc::iovec]) -> Result<usize, Errno> {
    iov.iter()
        .try_fold(0usize, |acc, v| acc.checked_add(v.iov_len))
        .filter(|&n| isize::try_from(n).is_ok())
        .ok_or(Errno::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iov_lengths_add_up_and_overflow_is_einval() {
        let a = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 10 };
        let b = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 5 };
        assert_eq!(iov_len(&[a, b]), Ok(15));
        assert_eq!(iov_len(&[]), Ok(0));
        let huge = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: usize::MAX / 2 + 1 };
        assert_eq!(iov_len(&[huge]), Err(Errno::EINVAL));
    }

    #[test]
    fn data_only_drops_name_and_control() {
        let mut buf = [0u8; 4];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: 4 };
        let mut name = [0u8; 16];
        let mut control = [0u8; 64];
        // SAFETY: msghdr is plain old data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_name = name.as_mut_ptr().cast();
        msg.msg_namelen = 16;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = 64;
        let copy = data_only(&msg);
        assert_eq!(copy.msg_iov, msg.msg_iov);
        assert_eq!(copy.msg_iovlen, 1);
        assert!(copy.msg_name.is_null());
        assert!(copy.msg_control.is_null());
        assert_eq!(copy.msg_controllen, 0);
    }

    #[test]
    fn errqueue_reads_are_eagain_without_touching_the_descriptor() {
        let r = recv(-1, 10, libc::MSG_ERRQUEUE, || panic!("must not read"));
        assert_eq!(r, Err(Errno::EAGAIN));
    }
}
