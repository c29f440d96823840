//! Readiness for many file descriptors: one epoll instance of a server's own (the socket
//! server and the admin server each have one), registered with tokio as a single fd, so that
//! the event loop waits on every channel and data-plane socket at once and learns which ones
//! changed in time proportional to the number that did.
//!
//! Every fd is registered edge-triggered (`EPOLLET`) for input, output and peer hang-up with
//! a 64-bit token the server chooses. An edge means "something changed": the server keeps a
//! readable and a writable flag per fd, sets them from the edges, and clears one only when an
//! operation on the fd returns `EAGAIN`. Nothing is ever polled that did not report an edge.
//!
//! tokio watches the epoll fd itself (readable while events are queued in it). Draining uses
//! `epoll_wait` with a zero timeout until it returns less than a full batch; the tokio
//! readiness is cleared only through the guard taken before the drain, so an event that
//! arrives during the drain wakes the loop again rather than being lost.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::task::{Context, Poll};

use rustix::event::epoll;
use tokio::io::unix::AsyncFd;

/// Events taken from the kernel per `epoll_wait`.
const BATCH: usize = 256;

/// What an edge reported about one fd.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Readiness {
    /// Input, end of file, or an error: a read will not block.
    pub(crate) readable: bool,
    /// Output space, or an error: a write will not block.
    pub(crate) writable: bool,
}

impl Readiness {
    fn from_flags(flags: epoll::EventFlags) -> Self {
        use epoll::EventFlags as F;
        Self {
            readable: flags.intersects(F::IN | F::RDHUP | F::HUP | F::ERR),
            writable: flags.intersects(F::OUT | F::HUP | F::ERR),
        }
    }
}

/// The server's epoll instance; see the module documentation.
pub(crate) struct Reactor {
    epoll: AsyncFd<OwnedFd>,
    events: Vec<epoll::Event>,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor").field("epoll", &self.epoll).finish_non_exhaustive()
    }
}

impl Reactor {
    /// A new epoll instance, registered with the current tokio runtime (call it inside one).
    pub(crate) fn new() -> io::Result<Self> {
        let fd = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        // SAFETY: the `OwnedFd` is open and owned by the `AsyncFd` for its whole life, so its
        // raw fd stays valid and the same until the registration is dropped.
        let epoll = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Self { epoll, events: Vec::with_capacity(BATCH) })
    }

    /// Watches `fd` under `token`, edge-triggered.
    pub(crate) fn register(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        use epoll::EventFlags as F;
        let flags = F::IN | F::OUT | F::RDHUP | F::ET;
        epoll::add(self.epoll.get_ref().as_fd(), fd, epoll::EventData::new_u64(token), flags)?;
        Ok(())
    }

    /// Stops watching `fd` (closing it does that too, when it is the last reference).
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) {
        let _ = epoll::delete(self.epoll.get_ref().as_fd(), fd);
    }

    /// If tokio reports the epoll fd readable, drains it into `on_event` and returns
    /// `Ready`; otherwise registers `cx` to be woken and returns `Pending`.
    pub(crate) fn poll_drain(
        &mut self,
        cx: &mut Context<'_>,
        on_event: impl FnMut(u64, Readiness),
    ) -> Poll<()> {
        let Self { epoll, events } = self;
        match epoll.poll_read_ready(cx) {
            Poll::Ready(Ok(mut guard)) => {
                drain(guard.get_inner().as_fd(), events, on_event);
                guard.clear_ready();
                Poll::Ready(())
            }
            // The epoll fd itself failed: nothing to wait for; report progress so the loop
            // does not sleep on it.
            Poll::Ready(Err(error)) => {
                tracing::warn!(%error, "socket reactor failed");
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Drains whatever is queued now without waiting; returns the events taken.
    pub(crate) fn drain(&mut self, on_event: impl FnMut(u64, Readiness)) -> usize {
        let Self { epoll, events } = self;
        drain(epoll.get_ref().as_fd(), events, on_event)
    }
}

fn drain(
    epoll: BorrowedFd<'_>,
    events: &mut Vec<epoll::Event>,
    mut on_event: impl FnMut(u64, Readiness),
) -> usize {
    let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    let mut total = 0;
    loop {
        events.clear();
        match epoll::wait(epoll, rustix::buffer::spare_capacity(&mut *events), Some(&zero)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return total,
        }
        total += events.len();
        for event in events.iter() {
            on_event(event.data.u64(), Readiness::from_flags(event.flags));
        }
        if events.len() < BATCH {
            return total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::net::{AddressFamily, SocketFlags, SocketType};

    fn pair() -> (OwnedFd, OwnedFd) {
        let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
        rustix::net::socketpair(AddressFamily::UNIX, SocketType::STREAM, flags, None).unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn reports_only_the_fds_that_changed_once_per_edge() {
        runtime().block_on(async {
            let mut reactor = Reactor::new().unwrap();
            let pairs: Vec<_> = (0..100).map(|_| pair()).collect();
            for (i, (ours, _)) in pairs.iter().enumerate() {
                reactor.register(ours.as_fd(), i as u64).unwrap();
            }
            // Registration reports each as writable once.
            let mut seen = Vec::new();
            reactor.drain(|token, r| seen.push((token, r)));
            assert_eq!(seen.len(), 100);
            assert!(seen.iter().all(|(_, r)| r.writable && !r.readable));
            // Nothing changed: nothing is reported.
            assert_eq!(reactor.drain(|_, _| panic!("no edge")), 0);
            // Two peers write: exactly those two are reported readable.
            rustix::io::write(&pairs[7].1, b"x").unwrap();
            rustix::io::write(&pairs[42].1, b"y").unwrap();
            let mut seen = Vec::new();
            reactor.drain(|token, r| seen.push((token, r.readable)));
            seen.sort();
            assert_eq!(seen, [(7, true), (42, true)]);
            // Unread data does not report again without a new edge.
            assert_eq!(reactor.drain(|_, _| panic!("no new edge")), 0);
        });
    }

    #[test]
    fn wakes_the_task_when_a_registered_fd_becomes_ready() {
        runtime().block_on(async {
            let mut reactor = Reactor::new().unwrap();
            let (ours, theirs) = pair();
            reactor.register(ours.as_fd(), 1).unwrap();
            reactor.drain(|_, _| {});
            let writer = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                rustix::io::write(&theirs, b"wake").unwrap();
                theirs
            });
            let mut got = None;
            std::future::poll_fn(|cx| reactor.poll_drain(cx, |token, r| got = Some((token, r.readable))))
                .await;
            assert_eq!(got, Some((1, true)));
            let _theirs = writer.join().unwrap();
            // Peer hang-up reads as readable (end of file).
            drop(_theirs);
            let mut hup = None;
            std::future::poll_fn(|cx| reactor.poll_drain(cx, |token, r| hup = Some((token, r.readable))))
                .await;
            assert_eq!(hup, Some((1, true)));
        });
    }
}
