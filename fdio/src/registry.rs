//! The shim's sockets: which application descriptors refer to which socket, each socket's
//! control channel and local state, the providers, and what `fork` does to them.
//!
//! Locking: one process-wide mutex, the registry lock, guards the map and every socket's
//! mutable `state` (its independent flags are atomics, read on the data path without the
//! lock). A socket's own `state` mutex is only ever taken while the registry lock is
//! held, so whoever holds the registry lock knows no state lock is held; FIDL calls and
//! blocking waits happen outside both, on an `Arc<Control>` cloned out under the lock.
//!
//! Fork: `pthread_atfork` handlers take the registry lock before `fork` and release it after,
//! in parent and child, so the child never inherits it locked. The child then bumps the fork
//! generation; every control channel of an older generation is shared with the parent, so
//! before its first call the child sends `Clone2` over it (one-way) and switches to the new
//! channel (`Control::clone_for_child`); provider channels are simply reconnected. The parent
//! is unaffected.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::c_int;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::cmsg::RecvFlags;
use crate::control::Control;
use crate::errno::Errno;
use crate::fdtable::{FdClass, FdTable, FDS};
use crate::sockaddr::Domain;

/// The transport protocol behind a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
    /// ICMP echo ("ping sockets": `SOCK_DGRAM` with `IPPROTO_ICMP`/`IPPROTO_ICMPV6`).
    IcmpEcho,
    /// A raw IP socket of this protocol number.
    Raw(u8),
}

impl Transport {
    pub fn is_stream(self) -> bool {
        self == Transport::Tcp
    }

    /// `SO_TYPE`.
    pub fn so_type(self) -> c_int {
        match self {
            Transport::Tcp => libc::SOCK_STREAM,
            Transport::Udp | Transport::IcmpEcho => libc::SOCK_DGRAM,
            Transport::Raw(_) => libc::SOCK_RAW,
        }
    }

    /// `SO_PROTOCOL`.
    pub fn so_protocol(self, domain: Domain) -> c_int {
        match (self, domain) {
            (Transport::Tcp, _) => libc::IPPROTO_TCP,
            (Transport::Udp, _) => libc::IPPROTO_UDP,
            (Transport::IcmpEcho, Domain::V4) => libc::IPPROTO_ICMP,
            (Transport::IcmpEcho, Domain::V6) => libc::IPPROTO_ICMPV6,
            (Transport::Raw(p), _) => c_int::from(p),
        }
    }
}

/// Where a stream socket stands, as far as its data plane is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Fresh or bound: the data plane is plugged.
    Idle,
    /// `connect` was called, or the socket was accepted: the data plane is live (or turns
    /// live when the connection is established).
    Active,
    /// Listening: the data plane carries only the listener token.
    Listening,
}

#[derive(Debug)]
struct State {
    control: Arc<Control>,
    phase: Phase,
    /// The application descriptors that refer to this socket.
    fds: Vec<RawFd>,
}

/// One socket of the application.
#[derive(Debug)]
pub struct Socket {
    pub domain: Domain,
    pub transport: Transport,
    /// `IP_RECVERR` / `IPV6_RECVERR` as the application set them: accepted, with no error
    /// queue behind them (errors arrive through `SO_ERROR` and the next call instead).
    pub recv_err: AtomicBool,
    /// `IP_RECVTTL`, `IP_RECVTOS`, `IPV6_RECVHOPLIMIT` and `IPV6_RECVTCLASS` as the
    /// application set them, for the control messages of `recvmsg`.
    pub recv_flags: RecvFlags,
    /// A datagram socket was connected to a peer through this process (and not disconnected
    /// since): a send without destination needs no question to the netstack.
    has_peer: AtomicBool,
    /// `shutdown(SHUT_RD)` was called: a datagram receive of 0 bytes is end of data, not a
    /// vanished netstack.
    read_shut: AtomicBool,
    /// Locked only under the registry lock (see the module documentation).
    state: Mutex<State>,
}

#[derive(Debug)]
struct Registry {
    sockets: BTreeMap<RawFd, Arc<Socket>>,
    providers: [Option<Arc<Control>>; 2],
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { sockets: BTreeMap::new(), providers: [None, None] });

/// Bumped in the child after every `fork`.
static GENERATION: AtomicU32 = AtomicU32::new(0);

fn lock() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

fn lock_state(socket: &Socket) -> MutexGuard<'_, State> {
    socket.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// The current fork generation.
pub fn generation() -> u32 {
    GENERATION.load(Ordering::Acquire)
}

/// The protocols a process connects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// `fuchsia.posix.socket.Provider`.
    Socket = 0,
    /// `fuchsia.posix.socket.raw.Provider`.
    Raw = 1,
}

impl ProviderKind {
    fn protocol(self) -> &'static str {
        match self {
            ProviderKind::Socket => netstack_fidl::fuchsia_posix_socket::PROVIDER_PROTOCOL_NAME,
            ProviderKind::Raw => netstack_fidl::fuchsia_posix_socket_raw::PROVIDER_PROTOCOL_NAME,
        }
    }
}

/// The provider channel of `kind`, connecting it on first use (and again in a forked child).
pub fn provider(kind: ProviderKind) -> Result<Arc<Control>, Errno> {
    let gen = generation();
    {
        let mut reg = lock();
        if let Some(p) = &reg.providers[kind as usize] {
            if p.generation() == gen {
                return Ok(p.clone());
            }
            let fresh = Arc::new(p.reconnect_for_child(kind.protocol(), gen)?);
            reg.providers[kind as usize] = Some(fresh.clone());
            return Ok(fresh);
        }
    }
    // Connect without the lock: the daemon may be slow to accept.
    let fresh = Arc::new(Control::connect(kind.protocol(), gen)?);
    let mut reg = lock();
    match &reg.providers[kind as usize] {
        Some(p) if p.generation() == gen => Ok(p.clone()),
        _ => {
            reg.providers[kind as usize] = Some(fresh.clone());
            Ok(fresh)
        }
    }
}

/// Forgets provider channel `stale` after it failed (the daemon restarted), so the next
/// [`provider`] call connects again.
pub fn forget_provider(kind: ProviderKind, stale: &Arc<Control>) {
    let mut reg = lock();
    if reg.providers[kind as usize].as_ref().is_some_and(|p| Arc::ptr_eq(p, stale)) {
        reg.providers[kind as usize] = None;
    }
}

impl Socket {
    /// A new socket speaking over `control`.
    pub fn new(domain: Domain, transport: Transport, control: Control, phase: Phase) -> Socket {
        Socket {
            domain,
            transport,
            recv_err: AtomicBool::new(false),
            recv_flags: RecvFlags::default(),
            has_peer: AtomicBool::new(false),
            read_shut: AtomicBool::new(false),
            state: Mutex::new(State { control: Arc::new(control), phase, fds: Vec::new() }),
        }
    }

    fn class(&self, phase: Phase) -> FdClass {
        match (self.transport.is_stream(), phase) {
            (true, Phase::Active) => FdClass::StreamActive,
            (true, _) => FdClass::StreamIdle,
            (false, _) => FdClass::Datagram,
        }
    }

    /// The control channel, switched to one of this process's own first if the socket was
    /// inherited across `fork`.
    pub fn control(&self) -> Result<Arc<Control>, Errno> {
        let gen = generation();
        let _reg = lock();
        let mut st = lock_state(self);
        if st.control.generation() != gen {
            let own = st.control.clone_for_child(gen)?;
            st.control = Arc::new(own);
        }
        Ok(st.control.clone())
    }

    pub fn phase(&self) -> Phase {
        let _reg = lock();
        let phase = lock_state(self).phase;
        phase
    }

    /// Moves a stream socket to `phase`, updating the fast-path class of its descriptors.
    pub fn set_phase(&self, phase: Phase) {
        let _reg = lock();
        let mut st = lock_state(self);
        st.phase = phase;
        let class = self.class(phase);
        for &fd in &st.fds {
            FDS.set(fd, class);
        }
    }

    pub fn has_peer(&self) -> bool {
        self.has_peer.load(Ordering::Relaxed)
    }

    pub fn set_has_peer(&self, connected: bool) {
        self.has_peer.store(connected, Ordering::Relaxed);
    }

    pub fn read_shut(&self) -> bool {
        self.read_shut.load(Ordering::Relaxed)
    }

    pub fn set_read_shut(&self) {
        self.read_shut.store(true, Ordering::Relaxed);
    }
}

impl Registry {
    fn install(&mut self, fd: RawFd, socket: Arc<Socket>) -> Result<(), Errno> {
        if !FdTable::fits(fd) {
            return Err(Errno::EMFILE);
        }
        let class = {
            let mut st = lock_state(&socket);
            st.fds.push(fd);
            socket.class(st.phase)
        };
        self.sockets.insert(fd, socket);
        FDS.set(fd, class);
        Ok(())
    }

    fn remove(&mut self, fd: RawFd) -> Option<Arc<Socket>> {
        let socket = self.sockets.remove(&fd)?;
        FDS.clear(fd);
        lock_state(&socket).fds.retain(|&f| f != fd);
        Some(socket)
    }

    /// Every control channel, with a way to replace it.
    fn replace_control(&mut self, fd: RawFd) -> Result<(), Errno> {
        for p in self.providers.iter_mut().flatten() {
            if p.fd() == fd {
                *p = Arc::new(p.relocate()?);
                return Ok(());
            }
        }
        for socket in self.sockets.values() {
            let mut st = lock_state(socket);
            if st.control.fd() == fd {
                st.control = Arc::new(st.control.relocate()?);
                return Ok(());
            }
        }
        Ok(())
    }
}

/// The socket `fd` refers to.
pub fn lookup(fd: RawFd) -> Option<Arc<Socket>> {
    lock().sockets.get(&fd).cloned()
}

/// Records that application descriptor `fd` refers to `socket`.
pub fn install(fd: RawFd, socket: Arc<Socket>) -> Result<(), Errno> {
    lock().install(fd, socket)
}

/// Forgets `fd` (about to be closed); returns its socket, to drop outside the lock.
pub fn remove(fd: RawFd) -> Option<Arc<Socket>> {
    lock().remove(fd)
}

/// Duplicates socket descriptor `fd` with `dup` (a `dup` or `fcntl(F_DUPFD*)` call) and
/// records the new descriptor for the same socket.
pub fn duplicate(fd: RawFd, dup: impl FnOnce() -> c_int) -> Result<c_int, Errno> {
    let mut reg = lock();
    let new = crate::errno::check_int(dup())?;
    // Without a socket (closed meanwhile by another thread) the duplicate is of whatever
    // the number held.
    if let Some(socket) = reg.sockets.get(&fd).cloned() {
        if let Err(e) = reg.install(new, socket) {
            // SAFETY: closing the duplicate we just made and cannot track.
            unsafe { crate::real::close(new) };
            return Err(e);
        }
    }
    Ok(new)
}

/// `dup2`/`dup3` onto `new` with `dup` (which closes whatever `new` held): moves a hidden
/// descriptor of ours out of the way first, and keeps the socket map right on both sides.
pub fn duplicate_onto(old: RawFd, new: RawFd, dup: impl FnOnce() -> c_int) -> Result<c_int, Errno> {
    let displaced;
    let result = {
        let mut reg = lock();
        if FDS.get(new) == FdClass::Hidden {
            reg.replace_control(new)?;
            FDS.clear(new);
        }
        let source = reg.sockets.get(&old).cloned();
        displaced = if old != new { reg.remove(new) } else { None };
        match crate::errno::check_int(dup()) {
            Ok(r) => {
                if let Some(socket) = source {
                    if old != new {
                        // dup2 succeeded, so `new` is within the descriptor limit; beyond
                        // the table it cannot be tracked and stays a plain socketpair end.
                        let _ = reg.install(new, socket);
                    }
                }
                Ok(r)
            }
            Err(e) => {
                if let Some(socket) = displaced.clone() {
                    let _ = reg.install(new, socket);
                }
                Err(e)
            }
        }
    };
    drop(displaced);
    result
}

/// `close_range(first, last, CLOSE_RANGE_*)` without our hidden descriptors: forgets the
/// sockets in the range and calls `close` on each stretch between hidden descriptors.
pub fn close_range(first: u32, last: u32, close: impl Fn(u32, u32) -> c_int) -> c_int {
    let mut removed = Vec::new();
    let result = {
        let mut reg = lock();
        let lo = RawFd::try_from(first).unwrap_or(RawFd::MAX);
        let hi = RawFd::try_from(last).unwrap_or(RawFd::MAX);
        let in_range: Vec<RawFd> = reg.sockets.range(lo..=hi).map(|(&fd, _)| fd).collect();
        for fd in in_range {
            removed.extend(reg.remove(fd));
        }
        let mut start = first;
        let mut result = 0;
        let table_end = u32::try_from(crate::fdtable::MAX_FDS).unwrap_or(u32::MAX);
        let scan_end = last.min(table_end.saturating_sub(1));
        let mut fd = first;
        while fd <= scan_end {
            if FDS.get(fd as RawFd) == FdClass::Hidden {
                if fd > start && close(start, fd - 1) < 0 {
                    result = -1;
                }
                start = fd + 1;
            }
            fd += 1;
        }
        if start <= last && start >= first && close(start, last) < 0 {
            result = -1;
        }
        result
    };
    drop(removed);
    result
}

thread_local! {
    /// The registry lock, held by the forking thread from `prepare` to `parent`/`child`.
    static FORK_GUARD: RefCell<Option<MutexGuard<'static, Registry>>> = const { RefCell::new(None) };
}

extern "C" fn fork_prepare() {
    let guard = lock();
    FORK_GUARD.with(|g| *g.borrow_mut() = Some(guard));
}

extern "C" fn fork_parent() {
    FORK_GUARD.with(|g| g.borrow_mut().take());
}

extern "C" fn fork_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
    crate::exports::set_owner();
    FORK_GUARD.with(|g| g.borrow_mut().take());
}

/// Installs the `fork` handlers (once, from the library constructor).
pub fn register_fork_handlers() {
    // SAFETY: the handlers are plain extern "C" functions valid for the life of the process.
    unsafe {
        libc::pthread_atfork(Some(fork_prepare), Some(fork_parent), Some(fork_child));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netstack_fidl::channel::Channel;

    fn test_socket(transport: Transport) -> (Arc<Socket>, Channel) {
        let (a, b) = Channel::pair().unwrap();
        let control = Control::new(a, generation()).unwrap();
        (Arc::new(Socket::new(Domain::V4, transport, control, Phase::Idle)), b)
    }

    /// A real descriptor to register (the registry only tracks numbers).
    fn some_fd() -> RawFd {
        let mut fds = [0; 2];
        // SAFETY: plain pipe creation into a local array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: closing the write end we do not need.
        unsafe { libc::close(fds[1]) };
        fds[0]
    }

    #[test]
    fn install_lookup_remove_track_the_fast_path_class() {
        let (socket, _peer) = test_socket(Transport::Tcp);
        let fd = some_fd();
        install(fd, socket.clone()).unwrap();
        assert_eq!(FDS.get(fd), FdClass::StreamIdle);
        assert!(Arc::ptr_eq(&lookup(fd).unwrap(), &socket));
        socket.set_phase(Phase::Active);
        assert_eq!(FDS.get(fd), FdClass::StreamActive);
        assert!(remove(fd).is_some());
        assert_eq!(FDS.get(fd), FdClass::Foreign);
        assert!(lookup(fd).is_none());
        // SAFETY: closing our pipe end.
        unsafe { libc::close(fd) };
    }

    #[test]
    fn duplicates_share_the_socket_and_its_phase() {
        let (socket, _peer) = test_socket(Transport::Udp);
        let fd = some_fd();
        install(fd, socket.clone()).unwrap();
        // SAFETY: dup of our own pipe end.
        let dup = duplicate(fd, || unsafe { libc::dup(fd) }).unwrap();
        assert_ne!(dup, fd);
        assert_eq!(FDS.get(dup), FdClass::Datagram);
        assert!(Arc::ptr_eq(&lookup(dup).unwrap(), &socket));
        remove(fd);
        assert!(lookup(dup).is_some(), "the duplicate survives the original");
        remove(dup);
        // SAFETY: closing our descriptors.
        unsafe {
            libc::close(fd);
            libc::close(dup);
        }
    }

    #[test]
    fn dup2_onto_a_hidden_descriptor_moves_ours_away() {
        let (socket, _peer) = test_socket(Transport::Tcp);
        let fd = some_fd();
        install(fd, socket.clone()).unwrap();
        let hidden = socket.control().unwrap().fd();
        assert_eq!(FDS.get(hidden), FdClass::Hidden);
        let other = some_fd();
        // SAFETY: dup2 between our own descriptors.
        let r = duplicate_onto(other, hidden, || unsafe { libc::dup2(other, hidden) }).unwrap();
        assert_eq!(r, hidden);
        let moved = socket.control().unwrap().fd();
        assert_ne!(moved, hidden);
        assert_eq!(FDS.get(moved), FdClass::Hidden);
        assert_eq!(FDS.get(hidden), FdClass::Foreign);
        remove(fd);
        // SAFETY: closing our descriptors.
        unsafe {
            libc::close(fd);
            libc::close(other);
            libc::close(hidden);
        }
    }

    #[test]
    fn dup2_over_a_socket_descriptor_forgets_it() {
        let (socket, _peer) = test_socket(Transport::Udp);
        let fd = some_fd();
        install(fd, socket).unwrap();
        let plain = some_fd();
        // SAFETY: dup2 between our own descriptors.
        duplicate_onto(plain, fd, || unsafe { libc::dup2(plain, fd) }).unwrap();
        assert!(lookup(fd).is_none());
        assert_eq!(FDS.get(fd), FdClass::Foreign);
        // SAFETY: closing our descriptors.
        unsafe {
            libc::close(fd);
            libc::close(plain);
        }
    }

    #[test]
    fn close_range_skips_hidden_descriptors() {
        // Numbers of our own, far from any descriptor the test process opens.
        FDS.set(800_005, FdClass::Hidden);
        FDS.set(800_007, FdClass::Hidden);
        let calls = RefCell::new(Vec::new());
        let r = close_range(800_000, 800_010, |a, b| {
            calls.borrow_mut().push((a, b));
            0
        });
        assert_eq!(r, 0);
        assert_eq!(calls.into_inner(), vec![(800_000, 800_004), (800_006, 800_006), (800_008, 800_010)]);
        let calls = RefCell::new(Vec::new());
        close_range(800_005, 800_007, |a, b| {
            calls.borrow_mut().push((a, b));
            0
        });
        assert_eq!(calls.into_inner(), vec![(800_006, 800_006)]);
        FDS.clear(800_005);
        FDS.clear(800_007);
    }

    #[test]
    fn transports_report_linux_type_and_protocol() {
        assert_eq!(Transport::Tcp.so_type(), libc::SOCK_STREAM);
        assert_eq!(Transport::IcmpEcho.so_type(), libc::SOCK_DGRAM);
        assert_eq!(Transport::Raw(58).so_type(), libc::SOCK_RAW);
        assert_eq!(Transport::IcmpEcho.so_protocol(Domain::V6), libc::IPPROTO_ICMPV6);
        assert_eq!(Transport::Udp.so_protocol(Domain::V4), libc::IPPROTO_UDP);
        assert_eq!(Transport::Raw(255).so_protocol(Domain::V4), 255);
    }
}
