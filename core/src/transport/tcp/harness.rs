//! A deterministic two-endpoint test network: a client [`Connection`] and a server
//! [`Listener`] (and the connection it accepts) joined by a link with seeded loss,
//! duplication, reordering and delay, on a fake clock. Every segment crosses the link as
//! bytes and is parsed again (checksum included) on the other side.

use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use crate::addr::Ipv4Addr;
use crate::buf::ParsablePacket;
use crate::hash::SipKey;
use crate::time::Instant;
use crate::wire::tcp::{TcpFlags, TcpSegment};

use super::{
    Connection, Endpoint, IsnGenerator, Listener, ListenerConfig, SegmentInfo, SeqNum, SynCookies, TcpConfig,
};

pub(super) const CLIENT: Endpoint<Ipv4Addr> = Endpoint { addr: Ipv4Addr::new([192, 0, 2, 1]), port: 40000 };
pub(super) const SERVER: Endpoint<Ipv4Addr> = Endpoint { addr: Ipv4Addr::new([192, 0, 2, 2]), port: 80 };

/// The link's behaviour, per direction.
#[derive(Clone, Copy, Debug)]
pub(super) struct LinkParams {
    /// One-way delay.
    pub delay: Duration,
    /// Loss probability, parts per million.
    pub loss_ppm: u32,
    /// Duplication probability, parts per million.
    pub dup_ppm: u32,
    /// Probability that a packet is held back by up to `reorder_delay`, parts per million.
    pub reorder_ppm: u32,
    /// The extra delay of a reordered packet.
    pub reorder_delay: Duration,
    /// Serialization rate in bytes per millisecond (0: unlimited).
    pub bytes_per_ms: u64,
    /// The MTU: segments are written into buffers of `mtu - 20` bytes.
    pub mtu: usize,
}

impl Default for LinkParams {
    fn default() -> Self {
        Self {
            delay: Duration::from_millis(10),
            loss_ppm: 0,
            dup_ppm: 0,
            reorder_ppm: 0,
            reorder_delay: Duration::from_millis(5),
            bytes_per_ms: 12_500,
            mtu: 1500,
        }
    }
}

/// A segment as it left an endpoint.
#[derive(Clone, Copy, Debug)]
pub(super) struct Traced {
    pub at: Instant,
    pub to_server: bool,
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub flags: TcpFlags,
    pub payload_len: usize,
    pub retransmission: bool,
}

struct InFlight {
    at: Instant,
    order: u64,
    to_server: bool,
    bytes: Vec<u8>,
}

/// The simulated network.
pub(super) struct Sim {
    pub now: Instant,
    pub client: Connection<Ipv4Addr>,
    pub server: Option<Connection<Ipv4Addr>>,
    pub listener: Listener<Ipv4Addr>,
    pub link: LinkParams,
    pub trace: Vec<Traced>,
    /// Drop everything towards the server / the client.
    pub cut_to_server: bool,
    pub cut_to_client: bool,
    /// Drop the first transmission of segments toward the server with these sequence
    /// numbers.
    pub drop_data_seqs: Vec<SeqNum>,
    /// Segments toward the client addressed to other ports (SYN-ACKs to spoofed SYNs).
    pub stray_to_client: usize,
    rng: u64,
    queue: Vec<InFlight>,
    order: u64,
    link_free_at: [Instant; 2],
    buf: Vec<u8>,
}

pub(super) fn server_listener(cfg: ListenerConfig, mtu: u32) -> Listener<Ipv4Addr> {
    Listener::new(cfg, IsnGenerator::new(SipKey([2; 16])), SynCookies::new(SipKey([3; 16])), mtu)
}

impl Sim {
    /// A client (in SYN-SENT, SYN due) and a listening server; the clock starts at 1000 s.
    pub(super) fn new(
        client_cfg: TcpConfig,
        server_cfg: ListenerConfig,
        link: LinkParams,
        seed: u64,
    ) -> Self {
        let now = Instant::from_nanos(1_000_000_000_000);
        let gen = IsnGenerator::new(SipKey([1; 16]));
        let isn = gen.isn(now, CLIENT, SERVER);
        let client = Connection::connect(
            now,
            client_cfg,
            CLIENT,
            SERVER,
            isn,
            gen.timestamp_offset(CLIENT, SERVER),
            link.mtu as u32,
        );
        Self {
            now,
            client,
            server: None,
            listener: server_listener(server_cfg, link.mtu as u32),
            link,
            trace: Vec::new(),
            cut_to_server: false,
            cut_to_client: false,
            drop_data_seqs: Vec::new(),
            stray_to_client: 0,
            rng: seed | 1,
            queue: Vec::new(),
            order: 0,
            link_free_at: [now; 2],
            buf: vec![0; 65_536],
        }
    }

    /// Default configurations on a clean link.
    pub(super) fn default_pair() -> Self {
        Self::new(TcpConfig::default(), ListenerConfig::default(), LinkParams::default(), 1)
    }

    fn random_ppm(&mut self) -> u32 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        ((self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % 1_000_000) as u32
    }

    pub(super) fn server(&mut self) -> &mut Connection<Ipv4Addr> {
        self.server.as_mut().expect("no accepted connection")
    }

    /// Sends one packet into the link.
    pub(super) fn inject(&mut self, to_server: bool, bytes: Vec<u8>) {
        let addrs = if to_server { (CLIENT.addr, SERVER.addr) } else { (SERVER.addr, CLIENT.addr) };
        let seg = TcpSegment::parse_bytes(&bytes[..], addrs).expect("endpoints write valid segments");
        let info = SegmentInfo::from_segment(&seg);
        let payload_len = seg.body().len();
        let mut lost = if to_server { self.cut_to_server } else { self.cut_to_client };
        if to_server && payload_len > 0 {
            if let Some(i) = self.drop_data_seqs.iter().position(|s| *s == info.seq) {
                self.drop_data_seqs.remove(i);
                lost = true;
            }
        }
        if !lost && self.link.loss_ppm > 0 && self.random_ppm() < self.link.loss_ppm {
            lost = true;
        }
        self.trace.push(Traced {
            at: self.now,
            to_server,
            seq: info.seq,
            ack: info.ack,
            flags: info.flags,
            payload_len,
            retransmission: false,
        });
        if lost {
            return;
        }
        // Serialization on the link, then propagation.
        let dir = usize::from(to_server);
        let start = self.link_free_at[dir].max(self.now);
        let tx_time = (bytes.len() as u64 * 1_000_000)
            .checked_div(self.link.bytes_per_ms)
            .map_or(Duration::ZERO, Duration::from_nanos);
        self.link_free_at[dir] = start + tx_time;
        let mut at = start + tx_time + self.link.delay;
        if self.link.reorder_ppm > 0 && self.random_ppm() < self.link.reorder_ppm {
            at += self.link.reorder_delay;
        }
        let dup = self.link.dup_ppm > 0 && self.random_ppm() < self.link.dup_ppm;
        if dup {
            self.order += 1;
            self.queue.push(InFlight {
                at: at + Duration::from_micros(100),
                order: self.order,
                to_server,
                bytes: bytes.clone(),
            });
        }
        self.order += 1;
        self.queue.push(InFlight { at, order: self.order, to_server, bytes });
    }

    /// Drains every endpoint's output into the link.
    pub(super) fn flush(&mut self) {
        let room = self.link.mtu - 20;
        loop {
            let mut sent = false;
            let mut buf = core::mem::take(&mut self.buf);
            if let Some(t) = self.client.poll_transmit(self.now, &mut buf[..room]) {
                let bytes = buf[..t.len].to_vec();
                self.inject(true, bytes);
                self.mark_retransmission(t.retransmission);
                sent = true;
            }
            if let Some(server) = self.server.as_mut() {
                if let Some(t) = server.poll_transmit(self.now, &mut buf[..room]) {
                    let bytes = buf[..t.len].to_vec();
                    self.inject(false, bytes);
                    self.mark_retransmission(t.retransmission);
                    sent = true;
                }
            }
            if let Some(super::listener::ListenerTransmit { remote, transmit: t, .. }) =
                self.listener.poll_transmit(self.now, &mut buf[..room])
            {
                let bytes = buf[..t.len].to_vec();
                if remote == CLIENT {
                    self.inject(false, bytes);
                    self.mark_retransmission(t.retransmission);
                } else {
                    self.stray_to_client += 1;
                }
                sent = true;
            }
            self.buf = buf;
            if !sent {
                break;
            }
        }
    }

    fn mark_retransmission(&mut self, retransmission: bool) {
        if let Some(last) = self.trace.last_mut() {
            last.retransmission = retransmission;
        }
    }

    /// Delivers one packet.
    fn deliver(&mut self, to_server: bool, bytes: &[u8]) {
        let addrs = if to_server { (CLIENT.addr, SERVER.addr) } else { (SERVER.addr, CLIENT.addr) };
        let seg = TcpSegment::parse_bytes(bytes, addrs).expect("the link corrupts nothing");
        let info = SegmentInfo::from_segment(&seg);
        let payload = seg.body();
        if !to_server {
            self.client.handle_segment(self.now, &info, payload);
            return;
        }
        match self.server.as_mut() {
            Some(server) if !server.is_closed() => server.handle_segment(self.now, &info, payload),
            _ => {
                self.listener.handle_segment(self.now, SERVER, CLIENT, &info, payload);
                if let Some(conn) = self.listener.accept() {
                    self.server = Some(conn);
                }
            }
        }
    }

    /// The next instant something happens.
    fn next_event(&self) -> Option<Instant> {
        let link = self.queue.iter().map(|p| p.at).min();
        let server = self.server.as_ref().and_then(Connection::poll_timeout);
        [link, self.client.poll_timeout(), server, self.listener.poll_timeout()].into_iter().flatten().min()
    }

    /// Advances to the next event and processes everything due then; false if nothing is
    /// left to happen before `limit`.
    pub(super) fn step(&mut self, limit: Instant) -> bool {
        self.flush();
        let Some(next) = self.next_event() else { return false };
        if next > limit {
            self.now = limit;
            return false;
        }
        self.now = self.now.max(next);
        // Deliver due packets in arrival order.
        loop {
            let due = self
                .queue
                .iter()
                .enumerate()
                .filter(|(_, p)| p.at <= self.now)
                .min_by_key(|(_, p)| (p.at, p.order))
                .map(|(i, _)| i);
            let Some(i) = due else { break };
            let p = self.queue.swap_remove(i);
            self.deliver(p.to_server, &p.bytes);
        }
        let now = self.now;
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        if let Some(server) = self.server.as_mut() {
            if server.poll_timeout().is_some_and(|t| t <= now) {
                server.handle_timeout(now);
            }
        }
        if self.listener.poll_timeout().is_some_and(|t| t <= now) {
            self.listener.handle_timeout(now);
            if self.server.is_none() {
                self.server = self.listener.accept();
            }
        }
        self.flush();
        true
    }

    /// Runs for `d` of simulated time (or until nothing is left to happen).
    pub(super) fn run_for(&mut self, d: Duration) {
        let limit = self.now + d;
        while self.step(limit) {}
        self.now = self.now.max(limit).min(limit);
    }

    /// Runs until `done` holds, at most `max` of simulated time; returns whether it held.
    pub(super) fn run_until(&mut self, max: Duration, mut done: impl FnMut(&mut Sim) -> bool) -> bool {
        let limit = self.now + max;
        loop {
            if done(self) {
                return true;
            }
            if !self.step(limit) {
                return done(self);
            }
        }
    }

    /// Runs until the client is established (the server may still wait for data to
    /// complete its side, as when the last handshake ACK is lost).
    pub(super) fn establish_client(&mut self) {
        let ok = self.run_until(Duration::from_secs(300), |s| s.client.state() == super::State::Established);
        assert!(ok, "handshake did not complete: client {:?}", self.client.state());
    }

    /// Completes the handshake.
    pub(super) fn establish(&mut self) {
        let ok = self.run_until(Duration::from_secs(120), |s| {
            s.client.state() == super::State::Established
                && s.server.as_ref().is_some_and(|c| c.state() == super::State::Established)
        });
        assert!(ok, "handshake did not complete: client {:?}", self.client.state());
    }

    /// Segments sent toward the server carrying data.
    pub(super) fn data_to_server(&self) -> impl Iterator<Item = &Traced> {
        self.trace.iter().filter(|t| t.to_server && t.payload_len > 0)
    }
}

/// The byte at stream offset `i` of the test pattern.
pub(super) fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 11)) as u8
}

/// Moves `total` pattern bytes from `from_client ? client : server` to the other side,
/// checking every byte; returns the simulated time it took.
pub(super) fn transfer(sim: &mut Sim, total: u64, from_client: bool, max: Duration) -> Duration {
    let start = sim.now;
    let mut written = 0u64;
    let mut read = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut rbuf = vec![0u8; 64 * 1024];
    let limit = sim.now + max;
    while read < total {
        // The application writes as much as fits.
        loop {
            if written >= total {
                break;
            }
            let n = ((total - written) as usize).min(chunk.len());
            for (k, b) in chunk[..n].iter_mut().enumerate() {
                *b = pattern(written + k as u64);
            }
            let sender = if from_client { &mut sim.client } else { sim.server.as_mut().expect("no server") };
            match sender.send(&chunk[..n]) {
                Ok(m) => written += m as u64,
                Err(_) => break,
            }
        }
        // The other side reads everything available (the server may not be accepted yet if
        // the handshake's last ACK was lost and data has to complete it).
        loop {
            let receiver = if from_client {
                match sim.server.as_mut() {
                    Some(server) => server,
                    None => break,
                }
            } else {
                &mut sim.client
            };
            match receiver.recv(&mut rbuf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    for (k, b) in rbuf[..n].iter().enumerate() {
                        assert_eq!(*b, pattern(read + k as u64), "byte {} differs", read + k as u64);
                    }
                    read += n as u64;
                }
            }
        }
        if read >= total {
            break;
        }
        if !sim.step(limit) {
            // The last segments make a stall diagnosable from the test output.
            extern crate std;
            for t in &sim.trace[sim.trace.len().saturating_sub(40)..] {
                std::eprintln!("{t:?}");
            }
            panic!("transfer stalled at {read}/{total} bytes, client {:?}", sim.client.info());
        }
    }
    sim.now - start
}
