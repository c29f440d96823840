//! Errors as the socket API reports them: the core's [`SocketError`] and the server's own
//! failures (an fd it could not make) as `fuchsia.posix.Errno`, with the numbers Linux uses.

use netstack_core::transport::SocketError;
use netstack_fidl::fuchsia_posix::Errno;

/// The errno Linux reports for `error`: the core's errors are already Linux's.
pub(crate) fn from_socket_error(error: SocketError) -> Errno {
    Errno::from_primitive(error.errno()).unwrap_or(Errno::EINVAL)
}

/// The errno for a failure of the server's own system calls (a socketpair, a channel).
/// Running out of descriptors is the netstack's table filling up, which an application sees
/// as `ENFILE` (the system's limit), not as its own `EMFILE`.
pub(crate) fn from_io_error(error: &std::io::Error) -> Errno {
    use rustix::io::Errno as Os;
    match Os::from_io_error(error) {
        Some(Os::MFILE | Os::NFILE) => Errno::ENFILE,
        Some(Os::NOMEM) => Errno::ENOBUFS,
        _ => Errno::EIO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_linux_numbers() {
        for (error, errno) in [
            (SocketError::ConnectionRefused, Errno::ECONNREFUSED),
            (SocketError::AddrInUse, Errno::EADDRINUSE),
            (SocketError::WouldBlock, Errno::EAGAIN),
            (SocketError::TooManySockets, Errno::ENFILE),
            (SocketError::AlreadyInProgress, Errno::EALREADY),
            (SocketError::TimedOut, Errno::ETIMEDOUT),
            (SocketError::NotConnected, Errno::ENOTCONN),
        ] {
            assert_eq!(from_socket_error(error), errno, "{error:?}");
        }
    }

    #[test]
    fn descriptor_exhaustion_is_the_tables_limit() {
        assert_eq!(from_io_error(&std::io::Error::from_raw_os_error(24)), Errno::ENFILE);
        assert_eq!(from_io_error(&std::io::Error::from_raw_os_error(12)), Errno::ENOBUFS);
    }
}
