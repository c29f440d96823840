//! `libfdio.so`: BSD sockets for unmodified programs, served by the netstack over FIDL.
//!
//! Loaded with `LD_PRELOAD`, the library interposes the C library's socket calls. `AF_INET`
//! and `AF_INET6` sockets become `fuchsia.posix.socket` (and `fuchsia.posix.socket.raw`)
//! sockets of the netstack daemon found in `$NETSTACK_SVC_DIR` (default
//! `/run/netstack/svc`); every other family, and every call on a descriptor that is not one
//! of these sockets, goes straight to the C library. The contract with the daemon is
//! `fidl/README.md`; how the shim maps each call is in `fdio/README.md`.
//!
//! Layout: [`exports`] holds the interposed symbols and their fast path; [`socket`] the
//! control-plane calls; [`stream`] and [`datagram`] the two data planes; [`fdops`] the
//! descriptor calls; [`registry`] the socket table, its locking and `fork`; [`control`] every
//! FIDL call; [`sockaddr`], [`framing`], [`cmsg`], [`sockopt`] and [`tcp_info`] the byte
//! layouts;
//! [`fdtable`] the lock-free per-descriptor class table; [`real`] the C library's functions.

pub mod cmsg;
pub mod control;
pub mod datagram;
pub mod debug;
pub mod errno;
pub mod exports;
pub mod fdops;
pub mod fdtable;
pub mod framing;
pub mod real;
pub mod registry;
pub mod sockaddr;
pub mod socket;
pub mod sockopt;
pub mod stream;
pub mod tcp_info;

/// The library constructor: resolves the C library's functions, so the pass-through path
/// never calls `dlsym`, records the owning process and installs the `fork` handlers. Nothing
/// connects to the netstack until the first `AF_INET`/`AF_INET6` socket.
extern "C" fn init() {
    real::resolve_all();
    exports::set_owner();
    registry::register_fork_handlers();
}

#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = init;
