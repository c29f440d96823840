//! A listening socket (RFC 9293 §3.10.7.2): a bounded SYN queue of half-open connections, a
//! bounded accept queue (the `listen` backlog), overflow counted as Linux's ListenOverflows
//! and ListenDrops, and SYN cookies (RFC 4987 §3.6) once the SYN queue is full.
//!
//! The stack hands every segment addressed to the listener's port that matches no
//! connection in its own table to [`Listener::handle_segment`], with both endpoints; the
//! listener demultiplexes among the connections it holds itself: half-open ones and
//! established ones waiting for [`Listener::accept`]. The stack moves a connection into its
//! table when the application accepts it.

use alloc::collections::{BTreeMap, VecDeque};

use crate::addr::IpAddress;
use crate::device::DeviceId;
use crate::time::Instant;
use crate::wire::tcp::{SackBlocks, TcpFlags, TcpOptions, TcpTimestamp};

use super::connection::{Connection, TcpConfig};
use super::counters::TcpCounters;
use super::isn::{CookieOptions, Endpoint, IsnGenerator, SynCookies};
use super::segment::{write_reset_for, write_segment, SegmentInfo, Transmit};
use super::seqnum::SeqNum;

/// When SYN cookies are used (Linux's net.ipv4.tcp_syncookies).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SynCookieMode {
    /// Never: SYNs beyond the SYN queue are dropped.
    Off,
    /// When the SYN queue is full (Linux's default, 1).
    #[default]
    WhenFull,
    /// For every SYN (Linux's 2).
    Always,
}

/// A listener's limits.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    /// The accept queue's size: the `listen(2)` backlog.
    pub backlog: usize,
    /// The most half-open connections (Linux: tcp_max_syn_backlog).
    pub syn_queue: usize,
    /// SYN cookies.
    pub syncookies: SynCookieMode,
    /// Stateless replies (cookie SYN-ACKs and RSTs) waiting for `poll_transmit`; more are
    /// dropped.
    pub max_pending_replies: usize,
    /// Settings for accepted connections.
    pub tcp: TcpConfig,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            backlog: 128,
            syn_queue: 256,
            syncookies: SynCookieMode::WhenFull,
            max_pending_replies: 64,
            tcp: TcpConfig::default(),
        }
    }
}

/// A reply the listener sends without keeping state.
#[derive(Clone, Copy, Debug)]
enum Reply {
    /// A SYN-ACK whose ISN is a cookie.
    CookieSynAck { seq: SeqNum, ack: SeqNum, options: TcpOptions, window: u16 },
    /// A RST for the segment described.
    Reset { segment: SegmentInfo, payload_len: usize },
}

/// A stateless reply waiting to be written, with where it goes.
#[derive(Clone, Copy, Debug)]
struct PendingReply<A> {
    local: Endpoint<A>,
    remote: Endpoint<A>,
    scope: Option<DeviceId>,
    reply: Reply,
}

/// Half-open connections, keyed by (remote, local).
type SynQueue<A> = BTreeMap<(Endpoint<A>, Endpoint<A>), Connection<A>>;

/// A listening socket.
#[derive(Debug)]
pub struct Listener<A: IpAddress> {
    cfg: ListenerConfig,
    isn: IsnGenerator,
    cookies: SynCookies,
    mtu: u32,
    syn_queue: SynQueue<A>,
    accept_queue: VecDeque<Connection<A>>,
    replies: VecDeque<PendingReply<A>>,
    /// The zone of the peer of the segments being handled (see [`Listener::set_scope`]).
    scope: Option<DeviceId>,
    counters: TcpCounters,
}

impl<A: IpAddress> Listener<A> {
    /// A listener; `isn` and `cookies` carry the stack's secret keys, `mtu` is the MTU
    /// assumed for accepted connections until the stack sets a route's.
    pub fn new(cfg: ListenerConfig, isn: IsnGenerator, cookies: SynCookies, mtu: u32) -> Self {
        Self {
            cfg,
            isn,
            cookies,
            mtu,
            syn_queue: BTreeMap::new(),
            accept_queue: VecDeque::new(),
            replies: VecDeque::new(),
            scope: None,
            counters: TcpCounters::default(),
        }
    }

    /// The limits.
    pub fn config(&self) -> &ListenerConfig {
        &self.cfg
    }

    /// Changes the backlog (a second `listen(2)` call).
    pub fn set_backlog(&mut self, backlog: usize) {
        self.cfg.backlog = backlog;
    }

    /// The MTU assumed for the connections the next segments start (the MTU of the device
    /// they arrive on).
    pub fn set_mtu(&mut self, mtu: u32) {
        self.mtu = mtu;
    }

    /// The zone of the peer of the segments that follow (RFC 4007 §6): for a link-local
    /// peer, the device its segments arrive on. The connections they start and the replies
    /// to them are tied to it ([`Connection::scope`], [`ListenerTransmit::scope`]).
    pub fn set_scope(&mut self, scope: Option<DeviceId>) {
        self.scope = scope;
    }

    /// Half-open connections held.
    pub fn syn_queue_len(&self) -> usize {
        self.syn_queue.len()
    }

    /// Established connections waiting for `accept`.
    pub fn accept_queue_len(&self) -> usize {
        self.accept_queue.len()
    }

    /// The listener's counters (its half-open connections' included), since the last
    /// [`take_counters`](Self::take_counters).
    pub fn counters(&self) -> &TcpCounters {
        &self.counters
    }

    /// Hands over and resets the counters.
    pub fn take_counters(&mut self) -> TcpCounters {
        for conn in self.syn_queue.values_mut() {
            self.counters.add(&conn.take_counters());
        }
        core::mem::take(&mut self.counters)
    }

    /// The next established connection (accept(2)).
    pub fn accept(&mut self) -> Option<Connection<A>> {
        self.accept_queue.pop_front()
    }

    fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() >= self.cfg.backlog
    }

    fn queue_reply(&mut self, local: Endpoint<A>, remote: Endpoint<A>, reply: Reply) -> bool {
        if self.replies.len() >= self.cfg.max_pending_replies {
            return false;
        }
        self.replies.push_back(PendingReply { local, remote, scope: self.scope, reply });
        true
    }

    /// A segment from `remote` to `local` (the listener's port) that matched no connection.
    pub fn handle_segment(
        &mut self,
        now: Instant,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        seg: &SegmentInfo,
        payload: &[u8],
    ) {
        let key = (remote, local);
        if let Some(conn) = self.syn_queue.get_mut(&key) {
            let completes =
                seg.flags.contains(TcpFlags::ACK) && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::RST);
            if completes && self.accept_queue.len() >= self.cfg.backlog {
                // Like Linux: the final ACK is dropped and the SYN-ACK will be resent, in the
                // hope that accept() makes room.
                self.counters.listen_overflows += 1;
                self.counters.listen_drops += 1;
                return;
            }
            conn.handle_segment(now, seg, payload);
            self.promote(&key);
            return;
        }
        // Established connections waiting for accept() still receive (and acknowledge)
        // their segments.
        if let Some(conn) = self.accept_queue.iter_mut().find(|c| c.local() == local && c.remote() == remote)
        {
            conn.handle_segment(now, seg, payload);
            return;
        }
        self.counters.in_segs += 1;
        if seg.has_impossible_flags() {
            self.counters.drop_bad_flags += 1;
            return;
        }
        let flags = seg.flags;
        // RFC 9293 §3.10.7.2: in LISTEN a RST is ignored, an ACK is answered with a RST,
        // and a SYN starts a connection.
        if flags.contains(TcpFlags::RST) {
            return;
        }
        if flags.contains(TcpFlags::ACK) {
            if !flags.contains(TcpFlags::SYN)
                && self.cfg.syncookies != SynCookieMode::Off
                && self.try_cookie(now, local, remote, seg)
            {
                return;
            }
            self.queue_reply(local, remote, Reply::Reset { segment: *seg, payload_len: payload.len() });
            return;
        }
        if !flags.contains(TcpFlags::SYN) {
            return;
        }
        if self.accept_queue_full() {
            self.counters.listen_overflows += 1;
            self.counters.listen_drops += 1;
            return;
        }
        let syn_queue_full = self.syn_queue.len() >= self.cfg.syn_queue;
        if self.cfg.syncookies == SynCookieMode::Always || syn_queue_full {
            if self.cfg.syncookies == SynCookieMode::Off {
                self.counters.listen_drops += 1;
                return;
            }
            self.send_cookie(now, local, remote, seg);
            return;
        }
        let isn = self.isn.isn(now, local, remote);
        let ts_offset = self.isn.timestamp_offset(local, remote);
        let mut conn =
            Connection::accept_syn(now, self.cfg.tcp.clone(), local, remote, seg, isn, ts_offset, self.mtu);
        conn.set_scope(self.scope);
        self.syn_queue.insert(key, conn);
    }

    fn send_cookie(&mut self, now: Instant, local: Endpoint<A>, remote: Endpoint<A>, syn: &SegmentInfo) {
        let peer_mss = syn.options.mss.unwrap_or(536);
        let (cookie, mss) = self.cookies.encode(now, local, remote, syn.seq, peer_mss);
        let ts_offset = self.isn.timestamp_offset(local, remote);
        let ts_now = ((now.as_nanos() / 1_000_000) as u32).wrapping_add(ts_offset);
        let tcp = &self.cfg.tcp;
        let timestamps = tcp.timestamps && syn.options.timestamp.is_some();
        let window_scale = (tcp.window_scaling && syn.options.window_scale.is_some())
            .then(|| super::connection::window_shift_for_buffer(tcp.window_basis()));
        let sack = tcp.sack && syn.options.sack_permitted;
        // Without timestamps there is nowhere to keep window scaling and SACK: they are
        // not offered (as Linux does).
        let options = TcpOptions {
            mss: Some(mss),
            window_scale: if timestamps { window_scale } else { None },
            sack_permitted: timestamps && sack,
            timestamp: timestamps.then(|| TcpTimestamp {
                value: SynCookies::encode_timestamp(ts_now, syn.options.window_scale_shift(), sack),
                echo_reply: syn.options.timestamp.map_or(0, |t| t.value),
            }),
            sack_blocks: SackBlocks::EMPTY,
        };
        let window = tcp.window_room(tcp.recv_buffer).min(usize::from(u16::MAX)) as u16;
        let reply = Reply::CookieSynAck { seq: cookie, ack: syn.seq + 1, options, window };
        if self.queue_reply(local, remote, reply) {
            self.counters.syncookies_sent += 1;
        } else {
            self.counters.listen_drops += 1;
        }
    }

    /// An ACK that may complete a cookie handshake; true if it did.
    fn try_cookie(
        &mut self,
        now: Instant,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        ack: &SegmentInfo,
    ) -> bool {
        let peer_isn = ack.seq - 1;
        let cookie = ack.ack - 1;
        let Some(mss) = self.cookies.decode(now, local, remote, peer_isn, cookie) else {
            self.counters.syncookies_failed += 1;
            return false;
        };
        if self.accept_queue_full() {
            self.counters.listen_overflows += 1;
            self.counters.listen_drops += 1;
            return true;
        }
        let ts_offset = self.isn.timestamp_offset(local, remote);
        let ts_now = ((now.as_nanos() / 1_000_000) as u32).wrapping_add(ts_offset);
        let (window_scale, sack_permitted, timestamps) =
            match ack.options.timestamp.and_then(|ts| SynCookies::decode_timestamp(ts_now, ts.echo_reply)) {
                Some((ws, sack)) => (ws, sack, true),
                None => (None, false, false),
            };
        let options = CookieOptions { mss, window_scale, sack_permitted, timestamps };
        let mut conn = Connection::from_syn_cookie(
            now,
            self.cfg.tcp.clone(),
            local,
            remote,
            ack,
            cookie,
            options,
            ts_offset,
            self.mtu,
        );
        conn.set_scope(self.scope);
        self.counters.syncookies_recv += 1;
        self.accept_queue.push_back(conn);
        true
    }

    /// Moves a half-open connection that completed to the accept queue, or drops it if it
    /// closed.
    fn promote(&mut self, key: &(Endpoint<A>, Endpoint<A>)) {
        let Some(conn) = self.syn_queue.get(key) else { return };
        if conn.state() == super::state::State::SynReceived {
            return;
        }
        if conn.is_closed() || self.accept_queue_full() {
            if let Some(mut conn) = self.syn_queue.remove(key) {
                self.counters.add(&conn.take_counters());
            }
            return;
        }
        if let Some(conn) = self.syn_queue.remove(key) {
            self.accept_queue.push_back(conn);
        }
    }

    /// Fires the timers of the half-open connections (SYN-ACK retransmission, giving up)
    /// and of those waiting for accept().
    pub fn handle_timeout(&mut self, now: Instant) {
        for conn in self.accept_queue.iter_mut() {
            if conn.poll_timeout().is_some_and(|t| t <= now) {
                conn.handle_timeout(now);
            }
        }
        let due: alloc::vec::Vec<_> = self
            .syn_queue
            .iter()
            .filter(|(_, c)| c.poll_timeout().is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            if let Some(conn) = self.syn_queue.get_mut(&key) {
                conn.handle_timeout(now);
            }
            self.promote(&key);
        }
    }

    /// The earliest timer of the connections the listener holds.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.syn_queue.values().chain(self.accept_queue.iter()).filter_map(Connection::poll_timeout).min()
    }

    /// The next segment to send, with where it goes.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<ListenerTransmit<A>> {
        while let Some(PendingReply { local, remote, scope, reply }) = self.replies.pop_front() {
            let t = match reply {
                Reply::CookieSynAck { seq, ack, options, window } => {
                    let flags = TcpFlags::SYN | TcpFlags::ACK;
                    write_segment(out, local, remote, seq, ack, flags, window, &options, 0)
                        .map(|len| Transmit { len, seq, flags, payload_len: 0, retransmission: false })
                }
                Reply::Reset { segment, payload_len } => {
                    write_reset_for(out, local, remote, &segment, payload_len).map(|len| {
                        self.counters.out_rsts += 1;
                        Transmit {
                            len,
                            seq: segment.ack,
                            flags: TcpFlags::RST,
                            payload_len: 0,
                            retransmission: false,
                        }
                    })
                }
            };
            if let Some(transmit) = t {
                self.counters.out_segs += 1;
                return Some(ListenerTransmit { local, remote, scope, transmit });
            }
        }
        let written = |conn: &mut Connection<A>, out: &mut [u8]| {
            let transmit = conn.poll_transmit(now, out)?;
            Some(ListenerTransmit {
                local: conn.local(),
                remote: conn.remote(),
                scope: conn.scope(),
                transmit,
            })
        };
        let mut closed = None;
        let mut result = None;
        for (key, conn) in self.syn_queue.iter_mut() {
            if let Some(t) = written(conn, out) {
                result = Some(t);
                break;
            }
            if conn.is_closed() {
                closed = Some(*key);
            }
        }
        if let Some(key) = closed {
            self.promote(&key);
        }
        if result.is_none() {
            for conn in self.accept_queue.iter_mut() {
                if let Some(t) = written(conn, out) {
                    return Some(t);
                }
            }
        }
        result
    }
}

/// A segment a listener wrote ([`Listener::poll_transmit`]), and where it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenerTransmit<A> {
    /// The listener's end.
    pub local: Endpoint<A>,
    /// The peer.
    pub remote: Endpoint<A>,
    /// The device it must leave by, for a link-local peer (see [`Listener::set_scope`]).
    pub scope: Option<DeviceId>,
    /// What was written.
    pub transmit: Transmit,
}
