//! Errno values: how every failure inside the shim reaches the application.
//!
//! Every internal operation returns `Result<T, Errno>`; the exported functions turn an `Err`
//! into `-1` plus `errno`, as the C library does. The mapping from FIDL client failures to
//! errno lives here so that every call site agrees on it:
//!
//! - the netstack answered with an `Errno` result: that value, unchanged (the FIDL `Errno`
//!   enum uses Linux's numbers);
//! - the channel to the netstack is gone (peer closed without an epitaph, or a transport
//!   error such as `EPIPE`/`ECONNRESET` on the channel): `ECONNRESET`, read as "the
//!   connection to the netstack was reset";
//! - the channel was closed with an epitaph: the epitaph's `zx_status_t` mapped as fdio does
//!   (`ZX_ERR_INVALID_ARGS` -> `EINVAL`, `ZX_ERR_NOT_SUPPORTED` -> `EOPNOTSUPP`, ...);
//! - a reply we cannot decode, or a reply to a different method: `EIO`.

use std::fmt;

/// A Linux errno value (always positive).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(libc::EPERM);
    pub const EBADF: Errno = Errno(libc::EBADF);
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    pub const EACCES: Errno = Errno(libc::EACCES);
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    pub const EMFILE: Errno = Errno(libc::EMFILE);
    pub const EPIPE: Errno = Errno(libc::EPIPE);
    pub const EIO: Errno = Errno(libc::EIO);
    pub const EINTR: Errno = Errno(libc::EINTR);
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    pub const ENOTSOCK: Errno = Errno(libc::ENOTSOCK);
    pub const EDESTADDRREQ: Errno = Errno(libc::EDESTADDRREQ);
    pub const EMSGSIZE: Errno = Errno(libc::EMSGSIZE);
    pub const ENOPROTOOPT: Errno = Errno(libc::ENOPROTOOPT);
    pub const EPROTONOSUPPORT: Errno = Errno(libc::EPROTONOSUPPORT);
    pub const ESOCKTNOSUPPORT: Errno = Errno(libc::ESOCKTNOSUPPORT);
    pub const EOPNOTSUPP: Errno = Errno(libc::EOPNOTSUPP);
    pub const EAFNOSUPPORT: Errno = Errno(libc::EAFNOSUPPORT);
    pub const ENOTCONN: Errno = Errno(libc::ENOTCONN);
    pub const ECONNRESET: Errno = Errno(libc::ECONNRESET);
    pub const EINPROGRESS: Errno = Errno(libc::EINPROGRESS);
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    pub const ENOBUFS: Errno = Errno(libc::ENOBUFS);
    pub const ENFILE: Errno = Errno(libc::ENFILE);
    pub const ETIMEDOUT: Errno = Errno(libc::ETIMEDOUT);
    pub const ENODEV: Errno = Errno(libc::ENODEV);
    pub const EALREADY: Errno = Errno(libc::EALREADY);
    pub const ENAMETOOLONG: Errno = Errno(libc::ENAMETOOLONG);

    /// The errno of an `io::Error` from the operating system; `EIO` for errors that carry
    /// none (std's own errors, which the shim never expects from a system call).
    pub fn from_io(err: &std::io::Error) -> Errno {
        match err.raw_os_error() {
            Some(code) if code > 0 => Errno(code),
            _ => Errno::EIO,
        }
    }

    /// The errno the C library left behind after a failed call.
    pub fn last() -> Errno {
        Errno::from_io(&std::io::Error::last_os_error())
    }

    /// Stores this value in the calling thread's `errno`.
    pub fn set(self) {
        // SAFETY: __errno_location returns a valid pointer to the calling thread's errno.
        unsafe { *libc::__errno_location() = self.0 };
    }

    /// The errno for a channel closed by the netstack with an epitaph `status`
    /// (a `zx_status_t`), as fdio maps statuses to errno.
    pub fn from_epitaph(status: i32) -> Errno {
        match status {
            ZX_ERR_INVALID_ARGS => Errno::EINVAL,
            ZX_ERR_NOT_SUPPORTED => Errno::EOPNOTSUPP,
            ZX_ERR_NO_MEMORY | ZX_ERR_NO_RESOURCES => Errno::ENOMEM,
            ZX_ERR_ACCESS_DENIED => Errno::EACCES,
            ZX_ERR_PEER_CLOSED => Errno::ECONNRESET,
            _ => Errno::EIO,
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({})", self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", std::io::Error::from_raw_os_error(self.0))
    }
}

const ZX_ERR_NO_MEMORY: i32 = -4;
const ZX_ERR_NOT_SUPPORTED: i32 = -2;
const ZX_ERR_NO_RESOURCES: i32 = -3;
const ZX_ERR_INVALID_ARGS: i32 = -10;
const ZX_ERR_ACCESS_DENIED: i32 = -30;
const ZX_ERR_PEER_CLOSED: i32 = -24;

/// Finishes an exported function returning `c_int`: the value, or `-1` with `errno` set.
pub fn ret_int(result: Result<libc::c_int, Errno>) -> libc::c_int {
    match result {
        Ok(v) => v,
        Err(e) => {
            e.set();
            -1
        }
    }
}

/// Finishes an exported function returning `ssize_t`: the count, or `-1` with `errno` set.
pub fn ret_ssize(result: Result<usize, Errno>) -> libc::ssize_t {
    match result {
        // A count never exceeds the buffer the application passed, itself at most
        // isize::MAX bytes, so the conversion only saturates on impossible values.
        Ok(n) => libc::ssize_t::try_from(n).unwrap_or(libc::ssize_t::MAX),
        Err(e) => {
            e.set();
            -1
        }
    }
}

/// Turns the raw return value of a libc call into a `Result`, reading `errno` on `-1`.
pub fn check_int(ret: libc::c_int) -> Result<libc::c_int, Errno> {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// Turns the raw return value of a libc byte-count call into a `Result`.
pub fn check_ssize(ret: libc::ssize_t) -> Result<usize, Errno> {
    usize::try_from(ret).map_err(|_| Errno::last())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_keep_their_os_code() {
        let err = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(Errno::from_io(&err), Errno(libc::ECONNREFUSED));
        let err = std::io::Error::other("no os code");
        assert_eq!(Errno::from_io(&err), Errno::EIO);
    }

    #[test]
    fn epitaphs_map_like_fdio() {
        assert_eq!(Errno::from_epitaph(ZX_ERR_INVALID_ARGS), Errno::EINVAL);
        assert_eq!(Errno::from_epitaph(ZX_ERR_NOT_SUPPORTED), Errno::EOPNOTSUPP);
        assert_eq!(Errno::from_epitaph(ZX_ERR_PEER_CLOSED), Errno::ECONNRESET);
        assert_eq!(Errno::from_epitaph(-999), Errno::EIO);
    }

    #[test]
    fn results_become_minus_one_and_errno() {
        assert_eq!(ret_int(Ok(7)), 7);
        assert_eq!(ret_int(Err(Errno(libc::EALREADY))), -1);
        assert_eq!(Errno::last(), Errno(libc::EALREADY));
        assert_eq!(ret_ssize(Ok(12)), 12);
        assert_eq!(ret_ssize(Err(Errno::EPIPE)), -1);
        assert_eq!(Errno::last(), Errno::EPIPE);
    }
}
