//! The symbols `libfdio.so` exports, interposing the C library's.
//!
//! Every function starts with the fast path: one atomic load from the fd table. A descriptor
//! that is not ours (or a family other than `AF_INET`/`AF_INET6` for `socket`) goes straight
//! to the C library's function, with no lock and no allocation. Only the application's own
//! socket descriptors take the paths in `socket.rs`, `stream.rs`, `datagram.rs` and
//! `fdops.rs`.
//!
//! In a child that shares the parent's memory (`vfork`, `posix_spawn`, `clone(CLONE_VM)`:
//! no `fork` handlers run there) the calls that change the descriptor table (`socket`,
//! `accept`, `close`, `dup*`, `fcntl(F_DUPFD*)`, `close_range`, `closefrom`) pass straight
//! to the C library, so that the child's `close`/`dup2` before `exec` cannot change the
//! parent's socket table; the check costs a `getpid`, so the data path does without it.
//!
//! `fcntl` and `ioctl` are variadic in C; they are defined here with one extra machine-word
//! argument, which is where the x86-64 and AArch64 Linux calling conventions put the first
//! variadic argument (integer or pointer), so the C caller and this definition agree.
//! The unit-test build does not export the symbols (the test harness would interpose itself).
//!
//! # Safety
//! Each function's contract is that of the C function it replaces, documented in its man
//! page; the pointers it takes are used exactly as the C library uses them.

#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_int, c_uint, c_ulong, c_void};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use libc::{iovec, mmsghdr, msghdr, size_t, sockaddr, socklen_t, ssize_t, timespec};

use crate::datagram::{self, ControlOut, NameOut};
use crate::errno::{ret_int, ret_ssize, Errno};
use crate::fdtable::{class_of, FdClass};
use crate::registry::{self, Socket};
use crate::sockaddr::Domain;
use crate::{fdops, real, socket, stream};

/// The process the shim's state belongs to (set at load and in the child after `fork`).
static OWNER_PID: AtomicI32 = AtomicI32::new(0);

/// Records the current process as the owner of the shim's state.
pub fn set_owner() {
    // SAFETY: getpid has no preconditions.
    OWNER_PID.store(unsafe { libc::getpid() }, Ordering::Release);
}

/// True in a child that shares the parent's memory without having gone through `fork`.
fn in_shared_child() -> bool {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let owner = OWNER_PID.load(Ordering::Acquire);
    owner != 0 && pid != owner
}

/// The socket behind `fd` if it is one of ours.
fn ours(fd: c_int) -> Option<Arc<Socket>> {
    if !class_of(fd).is_socket() {
        return None;
    }
    registry::lookup(fd)
}

/// [`ours`] for the calls that change which descriptors refer to which socket (`accept`
/// makes one): never in a child sharing the parent's memory, whose descriptor table is its
/// own.
fn ours_to_change(fd: c_int) -> Option<Arc<Socket>> {
    if in_shared_child() {
        return None;
    }
    ours(fd)
}

/// The application's iovec array.
///
/// # Safety
/// `iov` must point to `n` iovecs when `n > 0`.
unsafe fn iov_slice<'a>(iov: *const iovec, n: usize) -> Result<&'a [iovec], Errno> {
    if n == 0 {
        return Ok(&[]);
    }
    if iov.is_null() {
        return Err(Errno::EFAULT);
    }
    if n > libc::UIO_MAXIOV as usize {
        return Err(Errno::EMSGSIZE);
    }
    // SAFETY: the caller guarantees `n` iovecs at `iov`.
    Ok(unsafe { std::slice::from_raw_parts(iov, n) })
}

fn one_iov(buf: *const c_void, len: size_t) -> iovec {
    iovec { iov_base: buf.cast_mut(), iov_len: len }
}

// ---- socket calls --------------------------------------------------------------------

/// `socket(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    match Domain::from_family(domain) {
        Some(d) if !in_shared_child() => ret_int(socket::create(d, ty, protocol)),
        // SAFETY: pass-through with the caller's arguments.
        _ => unsafe { real::socket(domain, ty, protocol) },
    }
}

/// `bind(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    match ours(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::bind(&s, addr, len) }),
        // SAFETY: pass-through.
        None => unsafe { real::bind(fd, addr, len) },
    }
}

/// `connect(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    match ours(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::connect(&s, fd, addr, len) }),
        // SAFETY: pass-through.
        None => unsafe { real::connect(fd, addr, len) },
    }
}

/// `listen(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    match ours(fd) {
        Some(s) => ret_int(socket::listen(&s, backlog)),
        // SAFETY: pass-through.
        None => unsafe { real::listen(fd, backlog) },
    }
}

/// `accept(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    match ours_to_change(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::accept(&s, fd, addr, len, 0) }),
        // SAFETY: pass-through.
        None => unsafe { real::accept(fd, addr, len) },
    }
}

/// `accept4(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int {
    match ours(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::accept(&s, fd, addr, len, flags) }),
        // SAFETY: pass-through.
        None => unsafe { real::accept4(fd, addr, len, flags) },
    }
}

/// `getsockname(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    match ours(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::name(&s, false, addr, len) }),
        // SAFETY: pass-through.
        None => unsafe { real::getsockname(fd, addr, len) },
    }
}

/// `getpeername(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn getpeername(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    match ours(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::name(&s, true, addr, len) }),
        // SAFETY: pass-through.
        None => unsafe { real::getpeername(fd, addr, len) },
    }
}

/// `shutdown(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn shutdown(fd: c_int, how: c_int) -> c_int {
    match ours(fd) {
        Some(s) => ret_int(socket::shutdown(&s, fd, how)),
        // SAFETY: pass-through.
        None => unsafe { real::shutdown(fd, how) },
    }
}

/// `setsockopt(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *const c_void,
    len: socklen_t,
) -> c_int {
    match ours_to_change(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::setsockopt(&s, fd, level, name, val, len) }),
        // SAFETY: pass-through.
        None => unsafe { real::setsockopt(fd, level, name, val, len) },
    }
}

/// `getsockopt(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *mut c_void,
    len: *mut socklen_t,
) -> c_int {
    match ours(fd) {
        // SAFETY: the caller's pointer contract is forwarded.
        Some(s) => ret_int(unsafe { socket::getsockopt(&s, fd, level, name, val, len) }),
        // SAFETY: pass-through.
        None => unsafe { real::getsockopt(fd, level, name, val, len) },
    }
}

// ---- data: receive -------------------------------------------------------------------

/// A datagram receive into `iov` for `recv`-like calls without `msghdr`.
///
/// # Safety
/// As for `recvfrom(2)`.
unsafe fn datagram_recv(
    s: &Socket,
    fd: c_int,
    iov: &[iovec],
    flags: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> ssize_t {
    let name = (!addr.is_null() || !len.is_null()).then_some(NameOut { addr, len });
    // SAFETY: forwarded from the caller.
    ret_ssize(unsafe { datagram::recv(s, fd, iov, flags, name, None) }.map(|(n, _)| n))
}

/// `read(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    match class_of(fd) {
        FdClass::Foreign | FdClass::Hidden => {}
        FdClass::StreamActive | FdClass::StreamIdle => {
            // SAFETY: pass-through of the caller's buffer.
            return ret_ssize(stream::recv(fd, count, 0, || unsafe { real::read(fd, buf, count) }));
        }
        FdClass::Datagram => {
            if let Some(s) = ours(fd) {
                // SAFETY: the caller's buffer contract is forwarded.
                return unsafe {
                    datagram_recv(
                        &s,
                        fd,
                        &[one_iov(buf, count)],
                        0,
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                    )
                };
            }
        }
    }
    // SAFETY: pass-through.
    unsafe { real::read(fd, buf, count) }
}

/// `__read_chk`, what `read` becomes under `_FORTIFY_SOURCE`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn __read_chk(fd: c_int, buf: *mut c_void, count: size_t, buflen: size_t) -> ssize_t {
    if class_of(fd) == FdClass::Foreign || count > buflen {
        // SAFETY: pass-through (the C library reports the overflow).
        return unsafe { real::__read_chk(fd, buf, count, buflen) };
    }
    // SAFETY: the caller's buffer holds `count` bytes.
    unsafe { read(fd, buf, count) }
}

/// `readv(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, n: c_int) -> ssize_t {
    match class_of(fd) {
        FdClass::Foreign | FdClass::Hidden => {}
        FdClass::StreamActive | FdClass::StreamIdle => {
            // SAFETY: the caller's iovecs are valid for `n` entries when n > 0.
            let total = usize::try_from(n)
                .ok()
                .and_then(|n| unsafe { iov_slice(iov, n) }.ok())
                .map_or(1, |v| v.iter().map(|v| v.iov_len).sum());
            // SAFETY: pass-through of the caller's iovecs.
            return ret_ssize(stream::recv(fd, total, 0, || unsafe { real::readv(fd, iov, n) }));
        }
        FdClass::Datagram => {
            if let Some(s) = ours(fd) {
                let Ok(count) = usize::try_from(n) else {
                    return ret_ssize(Err(Errno::EINVAL));
                };
                // SAFETY: the caller's iovecs are valid for `n` entries.
                let iov = match unsafe { iov_slice(iov, count) } {
                    Ok(iov) => iov,
                    Err(_) => return ret_ssize(Err(Errno::EINVAL)),
                };
                // SAFETY: as above.
                return unsafe { datagram_recv(&s, fd, iov, 0, std::ptr::null_mut(), std::ptr::null_mut()) };
            }
        }
    }
    // SAFETY: pass-through.
    unsafe { real::readv(fd, iov, n) }
}

/// `recv(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: recv is recvfrom without an address.
    unsafe { recvfrom(fd, buf, len, flags, std::ptr::null_mut(), std::ptr::null_mut()) }
}

/// `__recv_chk`, what `recv` becomes under `_FORTIFY_SOURCE`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn __recv_chk(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buflen: size_t,
    flags: c_int,
) -> ssize_t {
    if class_of(fd) == FdClass::Foreign || len > buflen {
        // SAFETY: pass-through (the C library reports the overflow).
        return unsafe { real::__recv_chk(fd, buf, len, buflen, flags) };
    }
    // SAFETY: the caller's buffer holds `len` bytes.
    unsafe { recvfrom(fd, buf, len, flags, std::ptr::null_mut(), std::ptr::null_mut()) }
}

/// `recvfrom(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    alen: *mut socklen_t,
) -> ssize_t {
    match class_of(fd) {
        FdClass::Foreign | FdClass::Hidden => {}
        FdClass::StreamActive | FdClass::StreamIdle => {
            // SAFETY: pass-through of the caller's buffer.
            let r = stream::recv(fd, len, flags, || unsafe { real::recv(fd, buf, len, flags) });
            if r.is_ok() && !addr.is_null() && !alen.is_null() {
                // A TCP socket reports no source address.
                // SAFETY: the caller passed a valid length pointer.
                unsafe { *alen = 0 };
            }
            return ret_ssize(r);
        }
        FdClass::Datagram => {
            if let Some(s) = ours(fd) {
                // SAFETY: the caller's buffer and address contracts are forwarded.
                return unsafe { datagram_recv(&s, fd, &[one_iov(buf, len)], flags, addr, alen) };
            }
        }
    }
    // SAFETY: pass-through.
    unsafe { real::recvfrom(fd, buf, len, flags, addr, alen) }
}

/// `__recvfrom_chk`, what `recvfrom` becomes under `_FORTIFY_SOURCE`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn __recvfrom_chk(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buflen: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    alen: *mut socklen_t,
) -> ssize_t {
    if class_of(fd) == FdClass::Foreign || len > buflen {
        // SAFETY: pass-through (the C library reports the overflow).
        return unsafe { real::__recvfrom_chk(fd, buf, len, buflen, flags, addr, alen) };
    }
    // SAFETY: the caller's buffer holds `len` bytes.
    unsafe { recvfrom(fd, buf, len, flags, addr, alen) }
}

/// `recvmsg` on one of our sockets.
///
/// # Safety
/// `msg` must be a valid `msghdr` as for `recvmsg(2)`.
unsafe fn recvmsg_ours(fd: c_int, msg: &mut msghdr, flags: c_int) -> Result<usize, Errno> {
    match class_of(fd) {
        FdClass::StreamActive | FdClass::StreamIdle => {
            let mut copy = stream::data_only(msg);
            // SAFETY: the caller's iovecs are valid.
            let total = unsafe { iov_slice(msg.msg_iov, msg.msg_iovlen) }
                .map_or(1, |v| v.iter().map(|v| v.iov_len).sum());
            // SAFETY: pass-through of the caller's iovecs.
            let n = stream::recv(fd, total, flags, || unsafe { real::recvmsg(fd, &mut copy, flags) })?;
            msg.msg_flags = copy.msg_flags;
            msg.msg_namelen = 0;
            msg.msg_controllen = 0;
            Ok(n)
        }
        _ => {
            let Some(s) = ours(fd) else {
                // SAFETY: pass-through.
                return crate::errno::check_ssize(unsafe { real::recvmsg(fd, msg, flags) });
            };
            // SAFETY: the caller's iovecs are valid.
            let iov = unsafe { iov_slice(msg.msg_iov, msg.msg_iovlen) }?;
            let name = (!msg.msg_name.is_null())
                .then_some(NameOut { addr: msg.msg_name.cast(), len: &mut msg.msg_namelen });
            // Above INT_MAX is EINVAL, as in Linux's `copy_msghdr_from_user`.
            let room: usize = msg.msg_controllen;
            if room > i32::MAX as usize {
                return Err(Errno::EINVAL);
            }
            let buf = if msg.msg_control.is_null() || room == 0 {
                &mut [][..]
            } else {
                // SAFETY: the caller's msghdr gives `msg_controllen` writable bytes at
                // `msg_control`.
                unsafe { std::slice::from_raw_parts_mut(msg.msg_control.cast::<u8>(), room) }
            };
            let mut control = ControlOut { buf, used: 0 };
            // SAFETY: forwarded from the caller.
            let (n, out_flags) = unsafe { datagram::recv(&s, fd, iov, flags, name, Some(&mut control)) }?;
            msg.msg_flags = out_flags;
            msg.msg_controllen = control.used;
            Ok(n)
        }
    }
}

/// `recvmsg(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t {
    if class_of(fd).is_socket() {
        // SAFETY: the caller passes a valid msghdr.
        return match unsafe { msg.as_mut() } {
            // SAFETY: as above.
            Some(msg) => ret_ssize(unsafe { recvmsg_ours(fd, msg, flags) }),
            None => ret_ssize(Err(Errno::EFAULT)),
        };
    }
    // SAFETY: pass-through.
    unsafe { real::recvmsg(fd, msg, flags) }
}

/// `recvmmsg(2)`: `recvmsg` per message; after the first, `MSG_WAITFORONE` stops waiting.
/// The timeout is not implemented (it is only checked between datagrams on Linux too).
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn recvmmsg(
    fd: c_int,
    msgs: *mut mmsghdr,
    n: c_uint,
    flags: c_int,
    timeout: *mut timespec,
) -> c_int {
    if !class_of(fd).is_socket() {
        // SAFETY: pass-through.
        return unsafe { real::recvmmsg(fd, msgs, n, flags, timeout) };
    }
    if msgs.is_null() && n > 0 {
        return ret_int(Err(Errno::EFAULT));
    }
    let mut flags = flags;
    let mut done: c_uint = 0;
    while done < n {
        // SAFETY: the caller passes `n` mmsghdrs.
        let m = unsafe { &mut *msgs.add(done as usize) };
        // SAFETY: as above.
        match unsafe { recvmsg_ours(fd, &mut m.msg_hdr, flags & !libc::MSG_WAITFORONE) } {
            Ok(len) => m.msg_len = c_uint::try_from(len).unwrap_or(c_uint::MAX),
            Err(e) if done == 0 => return ret_int(Err(e)),
            Err(_) => break,
        }
        done += 1;
        if flags & libc::MSG_WAITFORONE != 0 {
            flags |= libc::MSG_DONTWAIT;
        }
    }
    done as c_int
}

// ---- data: send ----------------------------------------------------------------------

/// `write(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    match class_of(fd) {
        FdClass::Foreign | FdClass::Hidden => {}
        FdClass::StreamActive | FdClass::StreamIdle => {
            // SAFETY: pass-through of the caller's buffer, with MSG_NOSIGNAL.
            return ret_ssize(stream::send(fd, 0, || unsafe {
                real::send(fd, buf, count, libc::MSG_NOSIGNAL)
            }));
        }
        FdClass::Datagram => {
            if let Some(s) = ours(fd) {
                let iov = [one_iov(buf, count)];
                // SAFETY: the caller's buffer contract is forwarded.
                return ret_ssize(unsafe { datagram::send(&s, fd, &iov, 0, std::ptr::null(), 0) });
            }
        }
    }
    // SAFETY: pass-through.
    unsafe { real::write(fd, buf, count) }
}

/// `writev(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, n: c_int) -> ssize_t {
    match class_of(fd) {
        FdClass::Foreign | FdClass::Hidden => {}
        FdClass::StreamActive | FdClass::StreamIdle => {
            let Ok(count) = usize::try_from(n) else {
                return ret_ssize(Err(Errno::EINVAL));
            };
            // SAFETY: msghdr is plain old data.
            let mut msg: msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = iov.cast_mut();
            msg.msg_iovlen = count;
            // SAFETY: pass-through of the caller's iovecs, with MSG_NOSIGNAL.
            return ret_ssize(stream::send(fd, 0, || unsafe { real::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) }));
        }
        FdClass::Datagram => {
            if let Some(s) = ours(fd) {
                let Ok(count) = usize::try_from(n) else {
                    return ret_ssize(Err(Errno::EINVAL));
                };
                // SAFETY: the caller's iovecs are valid for `n` entries.
                let iov = match unsafe { iov_slice(iov, count) } {
                    Ok(iov) => iov,
                    Err(_) => return ret_ssize(Err(Errno::EINVAL)),
                };
                // SAFETY: as above.
                return ret_ssize(unsafe { datagram::send(&s, fd, iov, 0, std::ptr::null(), 0) });
            }
        }
    }
    // SAFETY: pass-through.
    unsafe { real::writev(fd, iov, n) }
}

/// `send(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: send is sendto without an address.
    unsafe { sendto(fd, buf, len, flags, std::ptr::null(), 0) }
}

/// `sendto(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
    addr: *const sockaddr,
    alen: socklen_t,
) -> ssize_t {
    match class_of(fd) {
        FdClass::Foreign | FdClass::Hidden => {}
        FdClass::StreamActive | FdClass::StreamIdle => {
            // The address is ignored on a connection, as Linux's TCP does.
            // SAFETY: pass-through of the caller's buffer, with MSG_NOSIGNAL.
            return ret_ssize(stream::send(fd, flags, || unsafe {
                real::send(fd, buf, len, flags | libc::MSG_NOSIGNAL)
            }));
        }
        FdClass::Datagram => {
            if let Some(s) = ours(fd) {
                let iov = [one_iov(buf, len)];
                // SAFETY: the caller's buffer and address contracts are forwarded.
                return ret_ssize(unsafe { datagram::send(&s, fd, &iov, flags, addr, alen) });
            }
        }
    }
    // SAFETY: pass-through.
    unsafe { real::sendto(fd, buf, len, flags, addr, alen) }
}

/// `sendmsg` on one of our sockets.
///
/// # Safety
/// `msg` must be a valid `msghdr` as for `sendmsg(2)`.
unsafe fn sendmsg_ours(fd: c_int, msg: &msghdr, flags: c_int) -> Result<usize, Errno> {
    match class_of(fd) {
        FdClass::StreamActive | FdClass::StreamIdle => {
            let copy = stream::data_only(msg);
            // SAFETY: pass-through of the caller's iovecs, with MSG_NOSIGNAL.
            stream::send(fd, flags, || unsafe { real::sendmsg(fd, &copy, flags | libc::MSG_NOSIGNAL) })
        }
        _ => {
            let Some(s) = ours(fd) else {
                // SAFETY: pass-through.
                return crate::errno::check_ssize(unsafe { real::sendmsg(fd, msg, flags) });
            };
            // SAFETY: the caller's iovecs are valid.
            let iov = unsafe { iov_slice(msg.msg_iov, msg.msg_iovlen) }?;
            // SAFETY: forwarded from the caller.
            unsafe { datagram::send(&s, fd, iov, flags, msg.msg_name.cast(), msg.msg_namelen) }
        }
    }
}

/// `sendmsg(2)`. Ancillary data is not passed on.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
    if class_of(fd).is_socket() {
        // SAFETY: the caller passes a valid msghdr.
        return match unsafe { msg.as_ref() } {
            // SAFETY: as above.
            Some(msg) => ret_ssize(unsafe { sendmsg_ours(fd, msg, flags) }),
            None => ret_ssize(Err(Errno::EFAULT)),
        };
    }
    // SAFETY: pass-through.
    unsafe { real::sendmsg(fd, msg, flags) }
}

/// `sendmmsg(2)`: `sendmsg` per message, stopping at the first failure after the first.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn sendmmsg(fd: c_int, msgs: *mut mmsghdr, n: c_uint, flags: c_int) -> c_int {
    if !class_of(fd).is_socket() {
        // SAFETY: pass-through.
        return unsafe { real::sendmmsg(fd, msgs, n, flags) };
    }
    if msgs.is_null() && n > 0 {
        return ret_int(Err(Errno::EFAULT));
    }
    let mut done: c_uint = 0;
    while done < n.min(libc::UIO_MAXIOV as c_uint) {
        // SAFETY: the caller passes `n` mmsghdrs.
        let m = unsafe { &mut *msgs.add(done as usize) };
        // SAFETY: as above.
        match unsafe { sendmsg_ours(fd, &m.msg_hdr, flags) } {
            Ok(len) => m.msg_len = c_uint::try_from(len).unwrap_or(c_uint::MAX),
            Err(e) if done == 0 => return ret_int(Err(e)),
            Err(_) => break,
        }
        done += 1;
    }
    done as c_int
}

// ---- descriptors ---------------------------------------------------------------------

/// `close(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    if class_of(fd) == FdClass::Foreign || in_shared_child() {
        // SAFETY: pass-through.
        return unsafe { real::close(fd) };
    }
    ret_int(fdops::close(fd))
}

/// `dup(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn dup(fd: c_int) -> c_int {
    if class_of(fd).is_socket() && !in_shared_child() {
        return ret_int(fdops::dup(fd));
    }
    // SAFETY: pass-through.
    unsafe { real::dup(fd) }
}

/// `dup2(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    if (class_of(old) != FdClass::Foreign || class_of(new) != FdClass::Foreign) && !in_shared_child() {
        return ret_int(fdops::dup_onto(old, new, None));
    }
    // SAFETY: pass-through.
    unsafe { real::dup2(old, new) }
}

/// `dup3(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    if old != new
        && (class_of(old) != FdClass::Foreign || class_of(new) != FdClass::Foreign)
        && !in_shared_child()
    {
        return ret_int(fdops::dup_onto(old, new, Some(flags)));
    }
    // SAFETY: pass-through.
    unsafe { real::dup3(old, new, flags) }
}

/// `fcntl(2)`: `F_DUPFD` and `F_DUPFD_CLOEXEC` of a socket make a descriptor for the same
/// socket; everything else (`O_NONBLOCK` included) acts on the data plane natively.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    if matches!(cmd, libc::F_DUPFD | libc::F_DUPFD_CLOEXEC) && class_of(fd).is_socket() && !in_shared_child()
    {
        return ret_int(fdops::dup_fcntl(fd, cmd, arg));
    }
    // SAFETY: pass-through.
    unsafe { real::fcntl(fd, cmd, arg) }
}

/// `fcntl64`, the large-file name of `fcntl` in glibc.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    // SAFETY: same contract as fcntl.
    unsafe { fcntl(fd, cmd, arg) }
}

/// `ioctl(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, arg: c_ulong) -> c_int {
    if class_of(fd) == FdClass::Datagram {
        // SAFETY: the caller's argument contract is forwarded.
        return ret_int(unsafe { fdops::ioctl(fd, request, arg) });
    }
    // SAFETY: pass-through.
    unsafe { real::ioctl(fd, request, arg) }
}

/// `close_range(2)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    if !crate::fdtable::any_ours() || in_shared_child() {
        // SAFETY: pass-through.
        return unsafe { real::close_range(first, last, flags) };
    }
    ret_int(fdops::close_range(first, last, flags))
}

/// `closefrom(3)`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn closefrom(lowfd: c_int) {
    if crate::fdtable::any_ours() && !in_shared_child() {
        if let Ok(first) = c_uint::try_from(lowfd) {
            if fdops::close_range(first, c_uint::MAX, 0).is_ok() {
                return;
            }
        }
    }
    // SAFETY: pass-through.
    if !unsafe { real::closefrom(lowfd) } {
        // A C library without closefrom: close what the kernel's close_range can.
        if let Ok(first) = c_uint::try_from(lowfd) {
            let _ = fdops::close_range(first, c_uint::MAX, 0);
        }
    }
}
