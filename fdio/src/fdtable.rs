//! The fast path: one byte per file descriptor saying whether it is ours and how to treat it.
//!
//! Every intercepted call starts with one atomic load from this table. For descriptors that
//! are not ours (the byte is 0) the call goes straight to the C library: no lock, no
//! allocation, so the interposed `close`, `read` and `write` stay async-signal-safe for them.
//! The table is written only while the registry lock is held (see `registry.rs`); readers
//! never lock.
//!
//! The table covers descriptors below [`MAX_FDS`]; the shim refuses to create sockets above
//! it (`EMFILE`). Its 1 MiB lives in `.bss`, so only the pages of descriptors in use are ever
//! touched.

use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Descriptors at or above this number are never ours.
pub const MAX_FDS: usize = 1 << 20;

/// How the shim treats a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FdClass {
    /// Not ours: every call passes straight to the C library.
    Foreign = 0,
    /// A stream socket that is connecting or connected: reads and writes use the data plane
    /// natively; only end-of-file and `EPIPE` take the slow path (to ask for a pending error).
    StreamActive = 1,
    /// A stream socket that is neither (fresh, bound or listening): its data plane is plugged,
    /// so reads and writes answer locally (`ENOTCONN`, `EPIPE`) instead of blocking forever.
    StreamIdle = 2,
    /// A datagram socket (UDP, ICMP echo, raw IP): every send and receive adds or strips the
    /// 32-byte header.
    Datagram = 3,
    /// One of the shim's own descriptors (a control channel), hidden from the application:
    /// `close` says `EBADF`, `dup2` onto it moves ours away first.
    Hidden = 4,
}

impl FdClass {
    fn from_u8(v: u8) -> FdClass {
        match v {
            1 => FdClass::StreamActive,
            2 => FdClass::StreamIdle,
            3 => FdClass::Datagram,
            4 => FdClass::Hidden,
            _ => FdClass::Foreign,
        }
    }

    /// True for the classes of the application's own socket descriptors.
    pub fn is_socket(self) -> bool {
        matches!(self, FdClass::StreamActive | FdClass::StreamIdle | FdClass::Datagram)
    }
}

/// One byte per descriptor.
pub struct FdTable {
    classes: [AtomicU8; MAX_FDS],
    /// Set once any descriptor has been recorded: until then every call passes through.
    used: AtomicBool,
}

impl FdTable {
    const fn new() -> FdTable {
        FdTable { classes: [const { AtomicU8::new(0) }; MAX_FDS], used: AtomicBool::new(false) }
    }

    fn slot(&self, fd: c_int) -> Option<&AtomicU8> {
        usize::try_from(fd).ok().and_then(|i| self.classes.get(i))
    }

    /// The class of `fd`: one atomic load.
    #[inline]
    pub fn get(&self, fd: c_int) -> FdClass {
        match self.slot(fd) {
            Some(slot) => FdClass::from_u8(slot.load(Ordering::Acquire)),
            None => FdClass::Foreign,
        }
    }

    /// Records the class of `fd`; false when `fd` is beyond the table.
    pub fn set(&self, fd: c_int, class: FdClass) -> bool {
        match self.slot(fd) {
            Some(slot) => {
                if class != FdClass::Foreign {
                    self.used.store(true, Ordering::Release);
                }
                slot.store(class as u8, Ordering::Release);
                true
            }
            None => false,
        }
    }

    /// Forgets `fd`.
    pub fn clear(&self, fd: c_int) {
        self.set(fd, FdClass::Foreign);
    }

    /// True if `fd` can be recorded.
    pub fn fits(fd: c_int) -> bool {
        usize::try_from(fd).is_ok_and(|i| i < MAX_FDS)
    }
}

impl std::fmt::Debug for FdTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdTable").finish_non_exhaustive()
    }
}

/// The process's table.
pub static FDS: FdTable = FdTable::new();

/// True once the process has had a descriptor of ours.
pub fn any_ours() -> bool {
    FDS.used.load(Ordering::Acquire)
}

/// The class of `fd` in the process's table.
#[inline]
pub fn class_of(fd: c_int) -> FdClass {
    FDS.get(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The table is process-wide; each test uses descriptor numbers of its own, far above any
    // the test process opens.

    #[test]
    fn unknown_and_out_of_range_descriptors_are_foreign() {
        assert_eq!(FDS.get(900_001), FdClass::Foreign);
        assert_eq!(FDS.get(-1), FdClass::Foreign);
        assert_eq!(FDS.get(c_int::MAX), FdClass::Foreign);
        assert!(!FDS.set(MAX_FDS as c_int, FdClass::Datagram));
        assert!(!FDS.set(-5, FdClass::Datagram));
        assert!(!FdTable::fits(MAX_FDS as c_int));
        assert!(FdTable::fits(0));
    }

    #[test]
    fn classes_round_trip_and_clear() {
        for class in [FdClass::StreamActive, FdClass::StreamIdle, FdClass::Datagram, FdClass::Hidden] {
            assert!(FDS.set(900_010, class));
            assert_eq!(class_of(900_010), class);
        }
        FDS.clear(900_010);
        assert_eq!(class_of(900_010), FdClass::Foreign);
    }

    #[test]
    fn only_application_sockets_count_as_sockets() {
        assert!(FdClass::StreamActive.is_socket());
        assert!(FdClass::StreamIdle.is_socket());
        assert!(FdClass::Datagram.is_socket());
        assert!(!FdClass::Hidden.is_socket());
        assert!(!FdClass::Foreign.is_socket());
    }

    #[test]
    fn readers_on_other_threads_see_updates() {
        FDS.set(900_020, FdClass::Datagram);
        let seen = std::thread::spawn(|| class_of(900_020)).join().unwrap();
        assert_eq!(seen, FdClass::Datagram);
        FDS.clear(900_020);
    }
}
