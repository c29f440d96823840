//! The C library's own socket and file-descriptor functions, the ones this shim interposes.
//!
//! Each is looked up with `dlsym(RTLD_NEXT, name)`, i.e. in the objects loaded after the shim,
//! which is where the C library is. The library constructor resolves them all before `main`
//! (see `lib.rs`), so the pass-through path of an intercepted call is one atomic load and an
//! indirect call: no lock and no allocation, which keeps `close`, `read` and `write`
//! async-signal-safe for descriptors that are not ours. A call that arrives before the
//! constructor ran (another library's constructor) resolves the symbol on the spot.
//!
//! A symbol the C library lacks (`close_range` before glibc 2.34) makes its wrapper fail
//! with `ENOSYS`.

use std::ffi::{c_int, c_uint, c_ulong, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};

use libc::{iovec, mmsghdr, msghdr, size_t, sockaddr, socklen_t, ssize_t, timespec};

use crate::errno::Errno;

/// Looks `name` up once and caches it in `slot`; `None` if the C library lacks it.
fn resolved(slot: &AtomicUsize, name: &CStr) -> Option<usize> {
    let cached = slot.load(Ordering::Acquire);
    if cached != 0 {
        return Some(cached);
    }
    // SAFETY: `name` is a NUL-terminated string; RTLD_NEXT is a valid pseudo-handle.
    let sym = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) } as usize;
    if sym == 0 {
        return None;
    }
    slot.store(sym, Ordering::Release);
    Some(sym)
}

macro_rules! real_functions {
    ($( $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty ; )*) => {
        #[allow(non_upper_case_globals)]
        mod slot {
            use std::sync::atomic::AtomicUsize;
            $( pub(super) static $name: AtomicUsize = AtomicUsize::new(0); )*
        }

        /// The symbol names, checked at compile time rather than on every call.
        #[allow(non_upper_case_globals)]
        mod name {
            use std::ffi::CStr;
            $(
                pub(super) const $name: &CStr =
                    match CStr::from_bytes_with_nul(concat!(stringify!($name), "\0").as_bytes()) {
                        Ok(name) => name,
                        Err(_) => panic!("a symbol name without interior NUL"),
                    };
            )*
        }

        $(
            #[doc = concat!("The C library's `", stringify!($name), "`.")]
            ///
            /// # Safety
            /// As for the C function.
            pub unsafe fn $name($($arg: $ty),*) -> $ret {
                match resolved(&slot::$name, name::$name) {
                    Some(sym) => {
                        type Signature = unsafe extern "C" fn($($ty),*) -> $ret;
                        // SAFETY: `sym` is the C library's function of this name, whose C
                        // prototype is the signature declared here.
                        let f = unsafe { std::mem::transmute::<usize, Signature>(sym) };
                        // SAFETY: the caller upholds the C function's contract.
                        unsafe { f($($arg),*) }
                    }
                    None => {
                        Errno::ENOSYS.set();
                        -1
                    }
                }
            }
        )*

        /// Resolves every function ahead of use.
        fn resolve_table() {
            $(
                let _ = resolved(&slot::$name, name::$name);
            )*
        }
    };
}

real_functions! {
    socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
    connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
    listen(fd: c_int, backlog: c_int) -> c_int;
    accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
    accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int;
    getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
    getpeername(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
    shutdown(fd: c_int, how: c_int) -> c_int;
    setsockopt(fd: c_int, level: c_int, name: c_int, val: *const c_void, len: socklen_t) -> c_int;
    getsockopt(fd: c_int, level: c_int, name: c_int, val: *mut c_void, len: *mut socklen_t) -> c_int;
    send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
    recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
    sendto(fd: c_int, buf: *const c_void, len: size_t, flags: c_int, addr: *const sockaddr, alen: socklen_t) -> ssize_t;
    recvfrom(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int, addr: *mut sockaddr, alen: *mut socklen_t) -> ssize_t;
    sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t;
    recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t;
    sendmmsg(fd: c_int, msgs: *mut mmsghdr, n: c_uint, flags: c_int) -> c_int;
    recvmmsg(fd: c_int, msgs: *mut mmsghdr, n: c_uint, flags: c_int, timeout: *mut timespec) -> c_int;
    read(fd: c_int, buf: *mut c_void, len: size_t) -> ssize_t;
    write(fd: c_int, buf: *const c_void, len: size_t) -> ssize_t;
    readv(fd: c_int, iov: *const iovec, n: c_int) -> ssize_t;
    writev(fd: c_int, iov: *const iovec, n: c_int) -> ssize_t;
    __read_chk(fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t) -> ssize_t;
    __recv_chk(fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int) -> ssize_t;
    __recvfrom_chk(fd: c_int, buf: *mut c_void, len: size_t, buflen: size_t, flags: c_int, addr: *mut sockaddr, alen: *mut socklen_t) -> ssize_t;
    close(fd: c_int) -> c_int;
    dup(fd: c_int) -> c_int;
    dup2(old: c_int, new: c_int) -> c_int;
    dup3(old: c_int, new: c_int, flags: c_int) -> c_int;
    close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int;
}

type VariadicFn = unsafe extern "C" fn(c_int, c_ulong, ...) -> c_int;

static FCNTL: AtomicUsize = AtomicUsize::new(0);
static IOCTL: AtomicUsize = AtomicUsize::new(0);

/// Calls a variadic `int f(int, <integer>, ...)` with one more machine-word argument.
///
/// # Safety
/// `sym` must be such a function and the arguments must meet its contract.
unsafe fn call_variadic(sym: usize, fd: c_int, cmd: c_ulong, arg: c_ulong) -> c_int {
    // SAFETY: `sym` is fcntl or ioctl: variadic C functions taking (int, integer, ...).
    // The command argument is passed as `unsigned long`, which `int` commands read from the
    // low half of the same register, and the optional argument is an int or a pointer,
    // both carried in one machine word.
    let f: VariadicFn = unsafe { std::mem::transmute::<usize, VariadicFn>(sym) };
    // SAFETY: the caller upholds the function's contract.
    unsafe { f(fd, cmd, arg) }
}

/// The C library's `fcntl` (`fcntl64`, its large-file name, where it exists).
///
/// # Safety
/// As for `fcntl(2)`: `arg` must be what `cmd` expects.
pub unsafe fn fcntl(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    let sym = resolved(&FCNTL, c"fcntl64").or_else(|| resolved(&FCNTL, c"fcntl"));
    match sym {
        // SAFETY: sym is fcntl; the caller upholds its contract. The command is an int.
        Some(sym) => unsafe { call_variadic(sym, fd, cmd as c_uint as c_ulong, arg) },
        None => {
            Errno::ENOSYS.set();
            -1
        }
    }
}

/// The C library's `ioctl`.
///
/// # Safety
/// As for `ioctl(2)`: `arg` must be what `request` expects.
pub unsafe fn ioctl(fd: c_int, request: c_ulong, arg: c_ulong) -> c_int {
    match resolved(&IOCTL, c"ioctl") {
        // SAFETY: sym is ioctl; the caller upholds its contract.
        Some(sym) => unsafe { call_variadic(sym, fd, request, arg) },
        None => {
            Errno::ENOSYS.set();
            -1
        }
    }
}

static CLOSEFROM: AtomicUsize = AtomicUsize::new(0);

/// The C library's `closefrom` (glibc 2.34), `false` if it has none.
///
/// # Safety
/// As for `closefrom(3)`.
pub unsafe fn closefrom(lowfd: c_int) -> bool {
    match resolved(&CLOSEFROM, c"closefrom") {
        Some(sym) => {
            // SAFETY: sym is `void closefrom(int)`.
            let f: unsafe extern "C" fn(c_int) = unsafe { std::mem::transmute::<usize, _>(sym) };
            // SAFETY: the caller upholds its contract.
            unsafe { f(lowfd) };
            true
        }
        None => false,
    }
}

/// Resolves every function now (from the library constructor).
pub fn resolve_all() {
    resolve_table();
    let _ = resolved(&FCNTL, c"fcntl64").or_else(|| resolved(&FCNTL, c"fcntl"));
    let _ = resolved(&IOCTL, c"ioctl");
    let _ = resolved(&CLOSEFROM, c"closefrom");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_through_reaches_the_c_library() {
        resolve_all();
        let mut fds = [0; 2];
        // SAFETY: fds has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: writing 3 bytes from a static buffer to our own pipe.
        assert_eq!(unsafe { write(fds[1], b"abc".as_ptr().cast(), 3) }, 3);
        let mut buf = [0u8; 8];
        // SAFETY: reading into a local buffer of 8 bytes.
        assert_eq!(unsafe { read(fds[0], buf.as_mut_ptr().cast(), 8) }, 3);
        assert_eq!(&buf[..3], b"abc");
        // SAFETY: F_GETFD takes no argument.
        assert_eq!(unsafe { fcntl(fds[0], libc::F_GETFD, 0) }, 0);
        let mut n: c_int = -1;
        // SAFETY: FIONREAD writes one int.
        let r = unsafe { ioctl(fds[0], libc::FIONREAD, (&raw mut n) as c_ulong) };
        assert_eq!((r, n), (0, 0));
        // SAFETY: closing our own descriptors.
        unsafe {
            assert_eq!(close(fds[0]), 0);
            assert_eq!(close(fds[1]), 0);
            assert_eq!(close(fds[1]), -1);
        }
        assert_eq!(Errno::last(), Errno::EBADF);
    }
}
