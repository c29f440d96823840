//! Descriptor calls on the shim's sockets: `close`, `dup`, `dup2`, `dup3`,
//! `fcntl(F_DUPFD*)`, `ioctl(FIONREAD)`, `close_range` and `closefrom`.
//!
//! A duplicate refers to the same socket (the same control channel, the same data plane), as
//! on Linux; the socket's control channel closes when the last descriptor of the socket in
//! this process closes, which ends the socket in the netstack unless another process holds a
//! channel to it (after `fork`). The hidden control descriptors are invisible: closing one
//! is `EBADF`, and `dup2` onto one first moves ours out of the way.

use std::ffi::{c_int, c_uint, c_ulong};
use std::os::fd::RawFd;

use crate::errno::{check_int, Errno};
use crate::fdtable::{class_of, FdClass};
use crate::real;
use crate::registry;

/// `close` of an application socket descriptor.
pub fn close_socket(fd: RawFd) -> c_int {
    let socket = registry::remove(fd);
    // SAFETY: closing the application's descriptor, as it asked.
    let r = unsafe { real::close(fd) };
    drop(socket);
    r
}

/// `close(2)` on a descriptor of any class but foreign.
pub fn close(fd: RawFd) -> Result<c_int, Errno> {
    match class_of(fd) {
        FdClass::Hidden => Err(Errno::EBADF),
        _ => check_int(close_socket(fd)),
    }
}

/// `dup(2)` of a socket descriptor.
pub fn dup(fd: RawFd) -> Result<c_int, Errno> {
    // SAFETY: dup of a descriptor the application owns.
    registry::duplicate(fd, || unsafe { real::dup(fd) })
}

/// `fcntl(fd, F_DUPFD or F_DUPFD_CLOEXEC, min)` of a socket descriptor.
pub fn dup_fcntl(fd: RawFd, cmd: c_int, min: c_ulong) -> Result<c_int, Errno> {
    // SAFETY: F_DUPFD* take an int, passed through from the application.
    registry::duplicate(fd, || unsafe { real::fcntl(fd, cmd, min) })
}

/// `dup2(2)`, or `dup3(2)` with `flags`, where `old` or `new` is one of ours.
pub fn dup_onto(old: RawFd, new: RawFd, flags: Option<c_int>) -> Result<c_int, Errno> {
    if class_of(old) == FdClass::Hidden {
        return Err(Errno::EBADF);
    }
    registry::duplicate_onto(old, new, || match flags {
        // SAFETY: dup3 between descriptors the application names.
        Some(flags) => unsafe { real::dup3(old, new, flags) },
        // SAFETY: as above.
        None => unsafe { real::dup2(old, new) },
    })
}

/// `close_range(2)` without the hidden descriptors.
pub fn close_range(first: c_uint, last: c_uint, flags: c_int) -> Result<c_int, Errno> {
    if first > last {
        return Err(Errno::EINVAL);
    }
    let cloexec_only = flags as c_uint & libc::CLOSE_RANGE_CLOEXEC != 0;
    if cloexec_only {
        // Marking close-on-exec closes nothing; the hidden descriptors already are.
        return check_int(raw_close_range(first, last, flags));
    }
    check_int(registry::close_range(first, last, |a, b| raw_close_range(a, b, flags)))
}

/// The C library's `close_range`, or the system call where the C library predates it.
fn raw_close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    // SAFETY: close_range takes plain integers.
    let r = unsafe { real::close_range(first, last, flags) };
    if r < 0 && Errno::last() == Errno::ENOSYS {
        // SAFETY: the close_range system call takes plain integers.
        let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) };
        return if r < 0 { -1 } else { 0 };
    }
    r
}

/// `ioctl(2)` on a socket descriptor: `FIONREAD` on datagram sockets counts the payload of
/// the next datagram; everything else (`FIONBIO`, `FIONREAD` on stream sockets) is native.
///
/// # Safety
/// `arg` must be what `request` expects.
pub unsafe fn ioctl(fd: RawFd, request: c_ulong, arg: c_ulong) -> Result<c_int, Errno> {
    if request == libc::FIONREAD && class_of(fd) == FdClass::Datagram {
        let out = arg as *mut c_int;
        if out.is_null() {
            return Err(Errno::EFAULT);
        }
        let n = crate::datagram::next_payload_len(fd)?;
        // SAFETY: FIONREAD's argument is a pointer to an int.
        unsafe { *out = n };
        return Ok(0);
    }
    // SAFETY: forwarded from the caller.
    check_int(unsafe { real::ioctl(fd, request, arg) })
}
