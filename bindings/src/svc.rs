//! The services directory: where the daemon publishes the protocols it serves, one listening
//! `AF_UNIX` `SOCK_SEQPACKET` socket per protocol, named after the protocol (the contract is
//! in `fidl/README.md`, "The svc dir"). Each connection accepted on one is a channel speaking
//! that protocol.
//!
//! Access is by file permissions: the directory is `0700` and each socket `0600`, owned by
//! the daemon's user; with a group they are `0750` and `0660`, group-owned by it. The
//! directory stays `0700` until the sockets in it have their final modes, so nobody can
//! connect through a socket whose mode the umask chose.
//!
//! A socket file left behind by a daemon that died is replaced; one that a live daemon still
//! answers on is not ([`SvcError::InUse`]). Dropping the [`SvcDir`] removes the socket files
//! it made, and the directory too if it made it and nothing else is left in it.

use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

/// What a non-blocking `accept` on a svc socket gave.
#[derive(Debug)]
pub(crate) enum Accepted {
    /// A client's channel (non-blocking, close-on-exec).
    Client(OwnedFd),
    /// No connection is waiting.
    Drained,
    /// `accept` failed (out of fds, typically: the connection waits in the backlog).
    Failed(rustix::io::Errno),
}

/// Accepts the next client waiting on a svc socket; an interrupted call, or a connection
/// its client abandoned before it was taken, is retried.
pub(crate) fn accept_client(listener: impl AsFd) -> Accepted {
    loop {
        match rustix::net::accept_with(&listener, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK) {
            Ok(fd) => return Accepted::Client(fd),
            Err(rustix::io::Errno::AGAIN) => return Accepted::Drained,
            Err(rustix::io::Errno::INTR | rustix::io::Errno::CONNABORTED) => continue,
            Err(error) => return Accepted::Failed(error),
        }
    }
}

/// Where the daemon publishes its protocols unless told otherwise: the directory clients
/// look in when `NETSTACK_SVC_DIR` is not set.
pub use netstack_fidl::client::DEFAULT_SVC_DIR;
/// The protocol name of the socket provider.
pub use netstack_fidl::fuchsia_posix_socket::PROVIDER_PROTOCOL_NAME as SOCKET_PROVIDER;
/// The protocol name of the raw socket provider.
pub use netstack_fidl::fuchsia_posix_socket_raw::PROVIDER_PROTOCOL_NAME as RAW_SOCKET_PROVIDER;

/// Connections waiting to be accepted on one protocol's socket (the listen(2) backlog).
const BACKLOG: i32 = 128;

/// Why the services directory could not be set up; each message names the path and the fix.
#[derive(Debug, thiserror::Error)]
pub enum SvcError {
    /// The directory could not be made or given its mode.
    #[error("cannot create the services directory '{}': {source}; pick a writable --svc-dir", .path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A protocol's socket could not be made, bound or given its mode.
    #[error("cannot publish '{}': {source}", .path.display())]
    Socket {
        /// The socket's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Something other than a socket has the protocol's name.
    #[error("'{}' exists and is not a socket: remove it or pick another --svc-dir", .0.display())]
    NotASocket(PathBuf),
    /// Another process answers on the protocol's socket.
    #[error("'{}' is served by another running netstack: stop it or pick another --svc-dir", .0.display())]
    InUse(PathBuf),
    /// The path is too long for a socket address (108 bytes on Linux).
    #[error("'{}' is too long for a socket path: pick a shorter --svc-dir", .0.display())]
    PathTooLong(PathBuf),
}

/// Who may connect: the daemon's user only, or also the members of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SvcAccess {
    /// The group whose members may connect too (`--svc-group`).
    pub group: Option<u32>,
}

impl SvcAccess {
    fn dir_mode(self) -> u32 {
        if self.group.is_some() {
            0o750
        } else {
            0o700
        }
    }

    fn socket_mode(self) -> u32 {
        if self.group.is_some() {
            0o660
        } else {
            0o600
        }
    }
}

/// One published protocol: its listening socket and its path.
#[derive(Debug)]
struct Published {
    protocol: &'static str,
    path: PathBuf,
    listener: Option<OwnedFd>,
}

/// The services directory with the protocols published in it; see the module documentation.
#[derive(Debug)]
pub struct SvcDir {
    path: PathBuf,
    created: bool,
    published: Vec<Published>,
}

impl SvcDir {
    /// Creates `path` (and its parents) and publishes each of `protocols` in it, listening
    /// and non-blocking, readable by whom `access` says.
    pub fn publish(path: &Path, access: SvcAccess, protocols: &[&'static str]) -> Result<Self, SvcError> {
        let dir_error = |source| SvcError::Dir { path: path.to_owned(), source };
        let created = !path.exists();
        fs::create_dir_all(path).map_err(dir_error)?;
        // Closed until the sockets have their modes.
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(dir_error)?;
        let mut dir =
            SvcDir { path: path.to_owned(), created, published: Vec::with_capacity(protocols.len()) };
        for &protocol in protocols {
            let socket_path = path.join(protocol);
            let listener = listen(&socket_path, access)?;
            dir.published.push(Published { protocol, path: socket_path, listener: Some(listener) });
        }
        if let Some(gid) = access.group {
            std::os::unix::fs::chown(path, None, Some(gid)).map_err(dir_error)?;
        }
        fs::set_permissions(path, fs::Permissions::from_mode(access.dir_mode())).map_err(dir_error)?;
        Ok(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes `protocol`'s listening socket, for the server that accepts on it.
    pub fn take_listener(&mut self, protocol: &str) -> Option<OwnedFd> {
        self.published.iter_mut().find(|p| p.protocol == protocol).and_then(|p| p.listener.take())
    }

    /// The path of `protocol`'s socket.
    pub fn socket_path(&self, protocol: &str) -> Option<&Path> {
        self.published.iter().find(|p| p.protocol == protocol).map(|p| p.path.as_path())
    }
}

impl Drop for SvcDir {
    fn drop(&mut self) {
        for published in &self.published {
            let _ = fs::remove_file(&published.path);
        }
        if self.created {
            // Fails, as it should, when something else was put there.
            let _ = fs::remove_dir(&self.path);
        }
    }
}

/// Makes the listening socket at `path`, replacing a stale one.
fn listen(path: &Path, access: SvcAccess) -> Result<OwnedFd, SvcError> {
    let socket_error = |source: io::Error| SvcError::Socket { path: path.to_owned(), source };
    let addr = SocketAddrUnix::new(path).map_err(|_| SvcError::PathTooLong(path.to_owned()))?;
    remove_stale(path, &addr)?;
    let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
    let fd = rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, flags, None)
        .map_err(|e| socket_error(e.into()))?;
    rustix::net::bind(&fd, &addr).map_err(|e| socket_error(e.into()))?;
    if let Some(gid) = access.group {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(socket_error)?;
    }
    fs::set_permissions(path, fs::Permissions::from_mode(access.socket_mode())).map_err(socket_error)?;
    rustix::net::listen(&fd, BACKLOG).map_err(|e| socket_error(e.into()))?;
    Ok(fd)
}

/// Removes a socket file nobody answers on; refuses one somebody does, and anything that is
/// not a socket.
fn remove_stale(path: &Path, addr: &SocketAddrUnix) -> Result<(), SvcError> {
    let Ok(meta) = fs::symlink_metadata(path) else { return Ok(()) };
    if !meta.file_type().is_socket() {
        return Err(SvcError::NotASocket(path.to_owned()));
    }
    let probe =
        rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
            .map_err(|e| SvcError::Socket { path: path.to_owned(), source: e.into() })?;
    if rustix::net::connect(probe.as_fd(), addr).is_ok() {
        return Err(SvcError::InUse(path.to_owned()));
    }
    fs::remove_file(path).map_err(|source| SvcError::Socket { path: path.to_owned(), source })
}

/// The id of group `name` (from `/etc/group`), or `name` itself if it is a number.
pub fn group_id(name: &str) -> Option<u32> {
    if let Ok(gid) = name.parse() {
        return Some(gid);
    }
    let groups = fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        let (group, _password, gid) = (fields.next()?, fields.next()?, fields.next()?);
        if group == name {
            gid.parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("netstack-svc-{name}-{}", std::process::id()))
    }

    #[test]
    fn publishes_private_sockets_and_removes_them() {
        let base = scratch("private");
        let dir_path = base.join("a/svc");
        let dir = SvcDir::publish(&dir_path, SvcAccess::default(), &[SOCKET_PROVIDER, RAW_SOCKET_PROVIDER])
            .expect("publish");
        let meta = fs::metadata(&dir_path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        let socket = dir.socket_path(SOCKET_PROVIDER).unwrap().to_owned();
        let meta = fs::symlink_metadata(&socket).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o777, 0o600);
        // Something can connect.
        let client =
            rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
                .unwrap();
        rustix::net::connect(&client, &SocketAddrUnix::new(&socket).unwrap()).expect("connect");
        drop(dir);
        assert!(!socket.exists());
        assert!(!dir_path.exists(), "the directory it made is gone");
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_group_gets_group_modes() {
        let base = scratch("group");
        let gid = rustix::process::getgid().as_raw();
        let dir =
            SvcDir::publish(&base, SvcAccess { group: Some(gid) }, &[SOCKET_PROVIDER]).expect("publish");
        let meta = fs::metadata(&base).unwrap();
        assert_eq!((meta.mode() & 0o777, meta.gid()), (0o750, gid));
        let meta = fs::symlink_metadata(dir.socket_path(SOCKET_PROVIDER).unwrap()).unwrap();
        assert_eq!((meta.mode() & 0o777, meta.gid()), (0o660, gid));
        drop(dir);
        assert!(!base.exists());
    }

    #[test]
    fn a_stale_socket_is_replaced_a_live_one_is_not() {
        let base = scratch("stale");
        let mut first = SvcDir::publish(&base, SvcAccess::default(), &[SOCKET_PROVIDER]).expect("publish");
        // While the first one listens, a second daemon is refused.
        let err = SvcDir::publish(&base, SvcAccess::default(), &[SOCKET_PROVIDER]).unwrap_err();
        assert!(matches!(err, SvcError::InUse(_)), "{err}");
        // The first one dies without cleaning up: its socket file stays, nobody listens.
        drop(first.take_listener(SOCKET_PROVIDER));
        std::mem::forget(first);
        let second = SvcDir::publish(&base, SvcAccess::default(), &[SOCKET_PROVIDER]).expect("replaces");
        drop(second);
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn a_file_in_the_way_is_an_error() {
        let base = scratch("file");
        fs::create_dir_all(&base).unwrap();
        fs::write(base.join(SOCKET_PROVIDER), b"not a socket").unwrap();
        let err = SvcDir::publish(&base, SvcAccess::default(), &[SOCKET_PROVIDER]).unwrap_err();
        assert!(matches!(err, SvcError::NotASocket(_)), "{err}");
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn groups_resolve_by_name_or_number() {
        assert_eq!(group_id("0"), Some(0));
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(group_id("no-such-group-here"), None);
    }
}
