//! Network-device sessions, modelled on Fuchsia's network-device: the frames of a device move
//! between its backend and the stack through two bounded descriptor FIFOs (RX and TX) of
//! buffers from the shared [`Pool`]. Nothing is allocated per frame: a received frame is read
//! into a pool buffer behind [`pool::HEADROOM`] bytes of headroom and handed to the stack in
//! place; the stack serializes outgoing frames straight into pool buffers, which wait in the
//! TX FIFO until the event loop flushes them to the backend.
//!
//! A [`Backend`] moves frames in batches between its FIFOs and the outside world:
//! [`tuntap`] (a Linux TAP or TUN device) and [`memory`] (two devices back to back in one
//! process, with impairments). The trait works on FIFOs and pool buffers rather than one
//! frame at a time so that shared-memory ring backends (AF_XDP, AF_PACKET TPACKET_V3) can fill
//! and drain a whole batch per call, and receive/transmit metadata (IFF_VNET_HDR checksum and
//! segmentation offloads) can ride in the headroom without changing the stack.

pub mod capture;
pub mod memory;
pub mod pool;
pub mod tuntap;

use std::collections::VecDeque;
use std::io;
use std::task::{Context, Poll};

use netstack_core::buf::Buf;
use netstack_core::device::DeviceId;

pub use capture::{CaptureCounters, CaptureError, Captures};
pub use pool::{Pool, PoolBuffer, PoolConfig};

/// A frame in a FIFO: a pool buffer whose body is the frame.
pub type Frame = Buf<PoolBuffer>;

/// What a device's frames carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// Ethernet II frames (TAP, the memory pair).
    Ethernet,
    /// Bare IPv4 or IPv6 packets (TUN).
    PureIp,
}

/// A bounded FIFO of descriptors that counts what it had to drop.
#[derive(Debug)]
pub struct Fifo<T> {
    items: VecDeque<T>,
    capacity: usize,
    dropped_full: u64,
}

impl<T> Fifo<T> {
    /// An empty FIFO holding at most `capacity` items, its storage allocated now.
    pub fn new(capacity: usize) -> Self {
        Self { items: VecDeque::with_capacity(capacity), capacity, dropped_full: 0 }
    }

    /// Appends `item`, or hands it back (counted) when full.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.items.len() >= self.capacity {
            self.dropped_full += 1;
            return Err(item);
        }
        self.items.push_back(item);
        Ok(())
    }

    /// The oldest item.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// Puts back an item taken with [`pop`](Self::pop) that could not be used yet.
    pub fn unpop(&mut self, item: T) {
        self.items.push_front(item);
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether another item would be dropped.
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    /// Items dropped because the FIFO was full.
    pub fn dropped_full(&self) -> u64 {
        self.dropped_full
    }
}

/// What a backend counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackendCounters {
    /// Frames received.
    pub rx_frames: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames dropped on receive: no pool buffer (the device's rx_missed).
    pub rx_no_buffer: u64,
    /// Frames dropped on receive: larger than a pool buffer, or empty.
    pub rx_bad_length: u64,
    /// Frames transmitted.
    pub tx_frames: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Frames the device refused on transmit (an error other than "try again").
    pub tx_errors: u64,
}

/// A device backend: moves frames between the outside and a session's FIFOs.
///
/// The event loop waits with [`poll_rx_ready`](Self::poll_rx_ready) and
/// [`poll_tx_ready`](Self::poll_tx_ready), then calls [`receive`](Self::receive) and
/// [`transmit`](Self::transmit), each with a budget, so one busy device cannot starve the
/// others or the timers.
pub trait Backend: std::fmt::Debug {
    /// The device's name (the kernel interface name for TAP and TUN).
    fn name(&self) -> &str;

    /// What its frames carry.
    fn link(&self) -> LinkKind;

    /// Ready when [`receive`](Self::receive) may find frames; registers `cx`'s waker otherwise.
    fn poll_rx_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Moves up to `budget` received frames into `rx`, reading each into a buffer from
    /// `pool` behind [`pool::HEADROOM`]. Returns how many arrived; fewer than `budget` means
    /// the device had no more for now.
    fn receive(&mut self, pool: &Pool, rx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize>;

    /// Ready when [`transmit`](Self::transmit) may make progress.
    fn poll_tx_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Sends up to `budget` frames from the front of `tx`; frames the device cannot take
    /// yet stay in `tx`. Returns how many left.
    fn transmit(&mut self, tx: &mut Fifo<Frame>, budget: usize) -> io::Result<usize>;

    /// What the backend counted.
    fn counters(&self) -> BackendCounters;

    /// Sets the MTU of the device outside the stack (a TAP or TUN interface's kernel side),
    /// when it has one; backends without one accept any value.
    fn set_mtu(&mut self, _mtu: u32) -> io::Result<()> {
        Ok(())
    }
}

/// Sizes of a session's FIFOs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// RX descriptors.
    pub rx_depth: usize,
    /// TX descriptors (Linux's default txqueuelen is 1000).
    pub tx_depth: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { rx_depth: 256, tx_depth: 1000 }
    }
}

/// A device attached to the stack: its backend and its two FIFOs.
#[derive(Debug)]
pub struct Session {
    /// The stack's id for the device.
    pub id: DeviceId,
    /// The backend.
    pub backend: Box<dyn Backend>,
    /// Frames received, waiting for the stack.
    pub rx: Fifo<Frame>,
    /// Frames from the stack, waiting for the backend.
    pub tx: Fifo<Frame>,
    /// The backend said frames may be waiting: the next turn of the loop receives.
    pub(crate) rx_ready: bool,
    /// Turns that took a full RX budget from this device and left frames behind (Linux's
    /// `time_squeeze` column of `/proc/net/softnet_stat`).
    pub(crate) rx_budget_exhausted: u64,
    /// Packet captures running on the device ([`capture`]).
    pub captures: Captures,
}

impl Session {
    /// A session for `backend`, known to the stack as `id`.
    pub fn new(id: DeviceId, backend: Box<dyn Backend>, config: SessionConfig) -> Self {
        Self {
            id,
            backend,
            rx: Fifo::new(config.rx_depth),
            tx: Fifo::new(config.tx_depth),
            rx_ready: false,
            rx_budget_exhausted: 0,
            captures: Captures::default(),
        }
    }

    /// What the session counted around its backend.
    pub fn counters(&self) -> SessionCounters {
        SessionCounters {
            rx_budget_exhausted: self.rx_budget_exhausted,
            rx_fifo_full: self.rx.dropped_full(),
            tx_fifo_full: self.tx.dropped_full(),
        }
    }
}

/// What a session counted, beside its backend's [`BackendCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounters {
    /// Turns that took a full RX budget and left frames behind (`softnet_stat`'s
    /// `time_squeeze`).
    pub rx_budget_exhausted: u64,
    /// Received frames dropped because the RX FIFO was full.
    pub rx_fifo_full: u64,
    /// Frames from the stack dropped because the TX FIFO was full (a qdisc drop).
    pub tx_fifo_full: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_is_bounded_and_counts_drops() {
        let mut fifo = Fifo::new(2);
        assert_eq!(fifo.push(1), Ok(()));
        assert_eq!(fifo.push(2), Ok(()));
        assert!(fifo.is_full());
        assert_eq!(fifo.push(3), Err(3));
        assert_eq!(fifo.dropped_full(), 1);
        assert_eq!(fifo.pop(), Some(1));
        fifo.unpop(1);
        assert_eq!((fifo.pop(), fifo.pop(), fifo.pop()), (Some(1), Some(2), None));
        assert!(fifo.is_empty());
    }
}
