//! A device backend for the bindings' session FIFOs that stands for a NIC in the benchmarks:
//! frames queued on its wire are read into pool buffers by `receive` (one copy, the DMA a
//! real device does), and `transmit` takes frames from the TX FIFO and lets their buffers go
//! back to the pool, counting them, as a NIC completing its descriptors does.
//!
//! Queued frames are shared (`Rc<[u8]>`), so queuing the same frame again per iteration
//! allocates nothing.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use netstack_bindings::device::pool::HEADROOM;
use netstack_bindings::device::{Backend, BackendCounters, Fifo, Frame, LinkKind, Pool};

/// What the device and the benchmark share.
#[derive(Debug, Default)]
struct Wire {
    /// Frames waiting to be received.
    inbox: VecDeque<Rc<[u8]>>,
    /// Transmitted frames not of the length expected (see [`BenchWire::expect_len`]).
    unexpected: u64,
    expect_len: Option<usize>,
    /// The last transmitted frame, kept when asked for (outside the timed loops).
    keep_last: bool,
    last: Vec<u8>,
    counters: BackendCounters,
}

/// The benchmark's end of a [`BenchDevice`].
#[derive(Clone, Debug, Default)]
pub(crate) struct BenchWire(Rc<RefCell<Wire>>);

impl BenchWire {
    /// Queues `frame` for the device to receive.
    pub(crate) fn inject(&self, frame: &Rc<[u8]>) {
        self.0.borrow_mut().inbox.push_back(frame.clone());
    }

    /// From now on, counts transmitted frames whose length is not `len`.
    pub(crate) fn expect_len(&self, len: usize) {
        let mut wire = self.0.borrow_mut();
        wire.expect_len = Some(len);
        wire.unexpected = 0;
    }

    /// Transmitted frames of another length than expected, since [`expect_len`](Self::expect_len).
    pub(crate) fn unexpected(&self) -> u64 {
        self.0.borrow().unexpected
    }

    /// Keeps a copy of each transmitted frame, the last one readable with [`last`](Self::last).
    pub(crate) fn keep_last(&self, on: bool) {
        self.0.borrow_mut().keep_last = on;
    }

    /// The last frame transmitted while [`keep_last`](Self::keep_last) was on.
    pub(crate) fn last(&self) -> Vec<u8> {
        self.0.borrow().last.clone()
    }

    /// What the device counted.
    pub(crate) fn counters(&self) -> BackendCounters {
        self.0.borrow().counters
    }
}

/// The device half, attached to an event loop.
#[derive(Debug)]
pub(crate) struct BenchDevice {
    wire: BenchWire,
}

impl BenchDevice {
    /// A device and the benchmark's handle on its wire.
    pub(crate) fn new() -> (Self, BenchWire) {
        let wire = BenchWire::default();
        wire.0.borrow_mut().inbox.reserve(1024);
        (Self { wire: wire.clone() }, wire)
    }
}

impl Backend for BenchDevice {
    fn name(&self) -> &str {
        "bench0"
    }

    fn link(&self) -> LinkKind {
        LinkKind::Ethernet
    }

    fn poll_rx_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The benchmarks turn the loop by hand (`turn(true)` polls every device).
        Poll::Pending
    }

    fn receive(&mut self, pool: &Pool, rx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize> {
        let mut wire = self.wire.0.borrow_mut();
        let mut received = 0;
        while received < budget && !rx.is_full() {
            let Some(frame) = wire.inbox.pop_front() else { break };
            received += 1;
            match pool.alloc(HEADROOM + frame.len()) {
                Some(mut buffer) => {
                    buffer.as_mut()[HEADROOM..HEADROOM + frame.len()].copy_from_slice(&frame);
                    wire.counters.rx_frames += 1;
                    wire.counters.rx_bytes += frame.len() as u64;
                    // The FIFO had room: checked above.
                    let _ = rx.push(Frame::new(buffer, HEADROOM..HEADROOM + frame.len()));
                }
                None => wire.counters.rx_no_buffer += 1,
            }
        }
        Ok(received)
    }

    fn poll_tx_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn transmit(&mut self, tx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize> {
        let mut wire = self.wire.0.borrow_mut();
        let mut sent = 0;
        while sent < budget {
            let Some(frame) = tx.pop() else { break };
            let len = frame.len();
            wire.counters.tx_frames += 1;
            wire.counters.tx_bytes += len as u64;
            if wire.expect_len.is_some_and(|expected| expected != len) {
                wire.unexpected += 1;
            }
            if wire.keep_last {
                wire.last.clear();
                wire.last.extend_from_slice(frame.body());
            }
            sent += 1;
        }
        Ok(sent)
    }

    fn counters(&self) -> BackendCounters {
        self.wire.0.borrow().counters
    }
}
