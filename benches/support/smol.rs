//! smoltcp, the peer the benchmarks compare against, set up to do the same work as our stack:
//! a `phy::Device` over in-memory frame queues ([`SmolDevice`]), one interface with its
//! sockets ([`SmolHost`]), and two interfaces joined back to back ([`SmolLink`]).
//!
//! Frame buffers are recycled through a free list shared by the devices, as the bindings'
//! pool recycles ours: a frame received is copied once into a buffer (the DMA a NIC does),
//! a frame transmitted is written straight into one, and frames crossing a link move without
//! a copy. Time is fake and moves as the benchmark says.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{self, Checksum, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr};

/// Frame buffers not in use, shared by every device of a link.
#[derive(Clone, Debug, Default)]
pub(crate) struct Spare(Rc<RefCell<Vec<Vec<u8>>>>);

impl Spare {
    /// A buffer of exactly `len` bytes; its contents are whatever it held last.
    fn take(&self, len: usize) -> Vec<u8> {
        let mut buf = self.0.borrow_mut().pop().unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, 0);
        } else {
            buf.truncate(len);
        }
        buf
    }

    fn give_back(&self, buf: Vec<u8>) {
        self.0.borrow_mut().push(buf);
    }
}

/// An Ethernet device whose wire is two frame queues.
#[derive(Debug)]
pub(crate) struct SmolDevice {
    /// Frames waiting to be received.
    pub(crate) rx: VecDeque<Vec<u8>>,
    /// Frames transmitted, when [`keep_tx`](Self::keep_tx) is on (a link carries them).
    pub(crate) tx: VecDeque<Vec<u8>>,
    /// Whether transmitted frames are kept in `tx`; off, their buffers are recycled at once,
    /// as a NIC completing its descriptors.
    pub(crate) keep_tx: bool,
    /// Frames transmitted.
    pub(crate) tx_frames: u64,
    /// Transmitted frames whose length was not `expect_len`.
    pub(crate) unexpected: u64,
    /// The length every transmitted frame should have, if checked.
    pub(crate) expect_len: Option<usize>,
    spare: Spare,
    caps: DeviceCapabilities,
}

impl SmolDevice {
    /// A device of IP MTU `mtu`, computing transport checksums in software or leaving them to
    /// the hardware (`offload`: smoltcp's `Checksum::Rx`, verified on receipt only).
    pub(crate) fn new(mtu: usize, offload: bool, spare: Spare) -> Self {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // smoltcp's Ethernet MTU counts the Ethernet header.
        caps.max_transmission_unit = mtu + 14;
        let transport = if offload { Checksum::Rx } else { Checksum::Both };
        let mut checksum = ChecksumCapabilities::default();
        checksum.udp = transport;
        checksum.tcp = transport;
        caps.checksum = checksum;
        Self {
            rx: VecDeque::with_capacity(4096),
            tx: VecDeque::with_capacity(4096),
            keep_tx: false,
            tx_frames: 0,
            unexpected: 0,
            expect_len: None,
            spare,
            caps,
        }
    }

    /// Queues a copy of `frame` for the device to receive.
    pub(crate) fn inject(&mut self, frame: &[u8]) {
        let mut buf = self.spare.take(frame.len());
        buf.copy_from_slice(frame);
        self.rx.push_back(buf);
    }

    /// Recycles every transmitted frame kept.
    pub(crate) fn drain_tx(&mut self) {
        while let Some(buf) = self.tx.pop_front() {
            self.spare.give_back(buf);
        }
    }
}

/// A received frame.
#[derive(Debug)]
pub(crate) struct SmolRxToken {
    buf: Vec<u8>,
    spare: Spare,
}

impl phy::RxToken for SmolRxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let result = f(&self.buf);
        self.spare.give_back(self.buf);
        result
    }
}

/// Room for a frame to transmit.
#[derive(Debug)]
pub(crate) struct SmolTxToken<'a> {
    device: &'a mut SmolDevice,
}

impl phy::TxToken for SmolTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let device = self.device;
        let mut buf = device.spare.take(len);
        let result = f(&mut buf);
        device.tx_frames += 1;
        if device.expect_len.is_some_and(|expected| expected != len) {
            device.unexpected += 1;
        }
        if device.keep_tx {
            device.tx.push_back(buf);
        } else {
            device.spare.give_back(buf);
        }
        result
    }
}

impl phy::Device for SmolDevice {
    type RxToken<'a> = SmolRxToken;
    type TxToken<'a> = SmolTxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(SmolRxToken, SmolTxToken<'_>)> {
        let buf = self.rx.pop_front()?;
        let spare = self.spare.clone();
        Some((SmolRxToken { buf, spare }, SmolTxToken { device: self }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<SmolTxToken<'_>> {
        Some(SmolTxToken { device: self })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps.clone()
    }
}

/// One smoltcp interface, its device and its sockets, on fake time.
pub(crate) struct SmolHost {
    pub(crate) iface: Interface,
    pub(crate) device: SmolDevice,
    pub(crate) sockets: SocketSet<'static>,
    /// The fake clock.
    pub(crate) now: Instant,
}

impl SmolHost {
    /// An interface with MAC `02:00:00:00:00:{mac}` and address `addr` (CIDR).
    pub(crate) fn new(mac: u8, addr: IpCidr, mtu: usize, offload: bool, spare: Spare) -> Self {
        let mut device = SmolDevice::new(mtu, offload, spare);
        let hw = HardwareAddress::Ethernet(EthernetAddress([0x02, 0, 0, 0, 0, mac]));
        let mut config = Config::new(hw);
        config.random_seed = u64::from(mac);
        let now = Instant::from_secs(1);
        let mut iface = Interface::new(config, &mut device, now);
        iface.update_ip_addrs(|addrs| addrs.push(addr).expect("room for an address"));
        Self { iface, device, sockets: SocketSet::new(Vec::with_capacity(4)), now }
    }

    /// Processes every frame received, then sends whatever the sockets have.
    pub(crate) fn poll(&mut self) {
        self.iface.poll(self.now, &mut self.device, &mut self.sockets);
    }

    /// Sends whatever the sockets have (the egress half of [`poll`](Self::poll)).
    pub(crate) fn poll_egress(&mut self) {
        self.iface.poll_egress(self.now, &mut self.device, &mut self.sockets);
    }
}

impl std::fmt::Debug for SmolHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmolHost")
    }
}

/// Two smoltcp interfaces joined back to back: what one transmits the other receives, in
/// order and without loss.
#[derive(Debug)]
pub(crate) struct SmolLink {
    pub(crate) a: SmolHost,
    pub(crate) b: SmolHost,
}

impl SmolLink {
    /// A (`02::01`, 192.0.2.1/24) and B (`02::02`, 192.0.2.2/24) with IP MTU `mtu`, software
    /// checksums.
    pub(crate) fn new(mtu: usize) -> Self {
        let spare = Spare::default();
        let addr = |last| IpCidr::new(smoltcp::wire::Ipv4Address::new(192, 0, 2, last).into(), 24);
        let mut a = SmolHost::new(1, addr(1), mtu, false, spare.clone());
        let mut b = SmolHost::new(2, addr(2), mtu, false, spare);
        a.device.keep_tx = true;
        b.device.keep_tx = true;
        Self { a, b }
    }

    /// Polls both sides and carries frames both ways until neither sends anything more;
    /// returns how many crossed.
    pub(crate) fn pump(&mut self) -> usize {
        let mut moved = 0;
        loop {
            self.a.poll();
            let before = moved;
            while let Some(frame) = self.a.device.tx.pop_front() {
                self.b.device.rx.push_back(frame);
                moved += 1;
            }
            self.b.poll();
            while let Some(frame) = self.b.device.tx.pop_front() {
                self.a.device.rx.push_back(frame);
                moved += 1;
            }
            if moved == before {
                return moved;
            }
        }
    }

    /// Moves both clocks on by `by`.
    pub(crate) fn advance(&mut self, by: smoltcp::time::Duration) {
        self.a.now += by;
        self.b.now += by;
    }

    /// The earliest time either interface wants to be polled at, if any.
    pub(crate) fn poll_at(&mut self) -> Option<Instant> {
        let a = self.a.iface.poll_at(self.a.now, &self.a.sockets);
        let b = self.b.iface.poll_at(self.b.now, &self.b.sockets);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
