//! One TCP connection as a sans-I/O state machine (RFC 9293 §3.10), in the style of
//! quinn-proto: inputs arrive through [`Connection::handle_segment`],
//! [`Connection::handle_timeout`], [`Connection::handle_icmp_error`] and the socket calls;
//! outputs leave through [`Connection::poll_transmit`] (one segment serialized straight from
//! the send ring into the caller's buffer), [`Connection::poll_timeout`] and
//! [`Connection::poll_event`].
//!
//! Besides RFC 9293 it implements: window scaling, timestamps, RTTM and PAWS (RFC 7323);
//! the retransmission timer (RFC 6298) with Karn's rule and backoff; slow start, congestion
//! avoidance, fast retransmit and recovery (RFC 5681, RFC 6582) through a pluggable
//! [`CongestionControl`] trait; SACK (RFC 2018) and
//! SACK-based recovery (RFC 6675); delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2); Nagle
//! (RFC 1122 §4.2.3.4); silly window avoidance on both sides (RFC 9293 §3.8.6.2);
//! zero-window probes (RFC 9293 §3.8.6.1); keepalives (RFC 1122 §4.2.3.6); RFC 5961's
//! challenge ACKs and ACK range check; TIME-WAIT with RFC 1337's protection; path MTU
//! reaction (RFC 1191, RFC 8201) and ICMP soft and hard errors (RFC 5927, RFC 1122
//! §4.2.3.9).

use alloc::boxed::Box;
use core::time::Duration;

use crate::addr::{IpAddr, IpAddress, IpVersion};
use crate::device::DeviceId;
use crate::time::Instant;
use crate::transport::{IcmpErrorReport, SocketError};
use crate::wire::tcp::{SackBlock, SackBlocks, TcpFlags, TcpOptions, TcpTimestamp, HEADER_LEN};

use super::buffer::{copy_from_runs, copy_to_runs, RecvBuffer, SendBuffer, StreamRange};
use super::congestion::{CongestionAlgorithm, CongestionControl};
use super::counters::TcpCounters;
use super::info::TcpInfo;
use super::isn::{CookieOptions, Endpoint};
use super::rtt::{RttEstimator, MAX_RTO, MIN_RTO};
use super::sack::Scoreboard;
use super::segment::{write_segment, SegmentInfo, Transmit};
use super::seqnum::SeqNum;
use super::state::State;

/// The IP version a connection's segments travel over: its addresses', except that a
/// dual-stack IPv6 socket's IPv4-mapped addresses (RFC 4291 §2.5.5.2) travel over IPv4.
fn wire_version<A: IpAddress>(addr: A) -> IpVersion {
    match addr.to_ip_addr() {
        IpAddr::V6(a) if a.to_ipv4_mapped().is_none() => IpVersion::V6,
        _ => IpVersion::V4,
    }
}

/// The MSS assumed when the peer sends none: RFC 9293 §3.7.1 (IPv4) and RFC 8200 §5's
/// minimum MTU less headers (IPv6).
fn default_mss(version: IpVersion) -> u32 {
    match version {
        IpVersion::V4 => 536,
        IpVersion::V6 => 1220,
    }
}

/// The IP header length without options or extension headers.
fn ip_header_len(version: IpVersion) -> u32 {
    match version {
        IpVersion::V4 => 20,
        IpVersion::V6 => 40,
    }
}

/// The smallest path MTU accepted from ICMP (Linux's `min_pmtu` for IPv4; IPv6's minimum
/// link MTU, RFC 8201 §4).
fn min_pmtu(version: IpVersion) -> u32 {
    match version {
        IpVersion::V4 => 552,
        IpVersion::V6 => 1280,
    }
}

/// Timestamps expire after 24 days of idleness (RFC 7323 §5.5).
const PAWS_IDLE: Duration = Duration::from_secs(24 * 24 * 3600);
/// Option bytes Timestamps take in Linux's layout.
const TIMESTAMP_OPTION_LEN: u32 = 12;

/// The longest TCP_CORK holds a partial segment back (tcp(7)).
pub const CORK_CEILING: Duration = Duration::from_millis(200);

/// How many data segments TCP_QUICKACK acknowledges at once (Linux's `TCP_MAX_QUICKACKS`).
pub const MAX_QUICK_ACKS: u32 = 16;

/// Per-connection settings (the socket options that shape TCP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// SO_SNDBUF: the send ring's size.
    pub send_buffer: usize,
    /// SO_RCVBUF: the receive ring's initial size, and so the largest window offered
    /// until auto-tuning grows it.
    pub recv_buffer: usize,
    /// Receive-buffer auto-tuning (Linux's tcp_moderate_rcvbuf): grow the ring so the window
    /// covers twice what arrives per RTT. Setting SO_RCVBUF turns it off, as in Linux.
    pub recv_autotune: bool,
    /// The most auto-tuning may grow the receive ring to (Linux's `tcp_rmem[2]`).
    pub recv_buffer_max: usize,
    /// TCP_MAXSEG: an upper bound on the MSS advertised and used.
    pub mss_clamp: Option<u16>,
    /// TCP_NODELAY: disables Nagle's algorithm.
    pub nodelay: bool,
    /// TCP_WINDOW_CLAMP: the largest receive window offered, whatever the buffer holds.
    pub window_clamp: Option<u32>,
    /// TCP_CORK: hold partial segments until there is a full one, the cork comes out, or
    /// [`CORK_CEILING`] passes.
    pub cork: bool,
    /// Offer window scaling (RFC 7323 §2).
    pub window_scaling: bool,
    /// Offer timestamps (RFC 7323 §3).
    pub timestamps: bool,
    /// Offer SACK (RFC 2018).
    pub sack: bool,
    /// TCP_CONGESTION.
    pub congestion: CongestionAlgorithm,
    /// The RTO floor (Linux: 200 ms).
    pub min_rto: Duration,
    /// The RTO ceiling (Linux: 120 s).
    pub max_rto: Duration,
    /// SYN (and SYN-ACK) retransmissions before giving up (Linux's tcp_syn_retries: 6).
    pub syn_retries: u32,
    /// Data retransmissions before giving up (Linux's tcp_retries2: 15).
    pub retries: u32,
    /// TCP_USER_TIMEOUT: give up when data stays unacknowledged this long.
    pub user_timeout: Option<Duration>,
    /// The longest an ACK is delayed (Linux: 40 ms minimum delayed-ACK timeout).
    pub delayed_ack: Duration,
    /// SO_KEEPALIVE.
    pub keepalive: bool,
    /// TCP_KEEPIDLE.
    pub keep_idle: Duration,
    /// TCP_KEEPINTVL.
    pub keep_interval: Duration,
    /// TCP_KEEPCNT.
    pub keep_count: u32,
    /// The maximum segment lifetime; TIME-WAIT lasts twice this (Linux: 60 s in all).
    pub msl: Duration,
    /// How long an orphaned connection waits in FIN-WAIT-2 (Linux's tcp_fin_timeout, and
    /// TCP_LINGER2 per socket). `None`, a negative TCP_LINGER2: it does not wait at all; it
    /// is gone once its FIN is acknowledged, and closing it in FIN-WAIT-2 sends a RST (Linux's
    /// `tcp_close` and `tcp_rcv_state_process` with `linger2 < 0`).
    pub fin_timeout: Option<Duration>,
    /// SO_LINGER: `Some(ZERO)` makes close an abort.
    pub linger: Option<Duration>,
    /// Challenge ACKs allowed per second (RFC 5961 §7; Linux's tcp_challenge_ack_limit).
    pub challenge_ack_limit: u32,
}

impl TcpConfig {
    /// The most window a receive ring of `capacity` bytes offers, after TCP_WINDOW_CLAMP.
    pub fn window_room(&self, capacity: usize) -> usize {
        self.window_clamp.map_or(capacity, |clamp| capacity.min(clamp as usize))
    }

    /// The buffer size the window shift must cover: the auto-tuning ceiling when it is on.
    pub fn window_basis(&self) -> usize {
        if self.recv_autotune {
            self.recv_buffer.max(self.recv_buffer_max)
        } else {
            self.recv_buffer
        }
    }
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            recv_autotune: true,
            recv_buffer_max: 4 * 1024 * 1024,
            mss_clamp: None,
            nodelay: false,
            window_clamp: None,
            cork: false,
            window_scaling: true,
            timestamps: true,
            sack: true,
            congestion: CongestionAlgorithm::Cubic,
            min_rto: MIN_RTO,
            max_rto: MAX_RTO,
            syn_retries: 6,
            retries: 15,
            user_timeout: None,
            delayed_ack: Duration::from_millis(40),
            keepalive: false,
            keep_idle: Duration::from_secs(7200),
            keep_interval: Duration::from_secs(75),
            keep_count: 9,
            msl: Duration::from_secs(30),
            fin_timeout: Some(Duration::from_secs(60)),
            linger: None,
            challenge_ack_limit: 1000,
        }
    }
}

/// What a connection tells its socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed.
    Connected,
    /// In-order data arrived.
    Readable,
    /// Send-buffer space was freed.
    Writable,
    /// The peer's FIN arrived: reads return end of stream once the data is drained.
    ReadClosed,
    /// An error is pending ([`Connection::take_error`]).
    Error,
    /// The connection reached CLOSED and can be dropped.
    Closed,
}

impl Event {
    const ALL: [Event; 6] =
        [Event::Connected, Event::Readable, Event::Writable, Event::ReadClosed, Event::Error, Event::Closed];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Which directions `shutdown` closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// SHUT_RD.
    Read,
    /// SHUT_WR: send a FIN after the queued data.
    Write,
    /// SHUT_RDWR.
    Both,
}

/// Loss recovery in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recovery {
    None,
    /// Fast recovery until SND.UNA reaches `recover` (RFC 6582 §3.2, RFC 6675 §5).
    Fast {
        recover: SeqNum,
    },
    /// After an RTO, resending from SND.UNA until `recover` is acknowledged.
    Rto {
        recover: SeqNum,
    },
}

/// The timestamp state of RFC 7323 §4.3 and §5.
#[derive(Clone, Copy, Debug)]
struct Timestamps {
    /// TS.Recent.
    recent: u32,
    /// When TS.Recent was last set.
    recent_at: Instant,
}

/// A reset to send from outside the connection's own sequence space.
#[derive(Clone, Copy, Debug)]
struct PendingReset {
    seq: SeqNum,
    ack: Option<SeqNum>,
}

/// A TCP connection.
#[derive(Debug)]
pub struct Connection<A: IpAddress> {
    local: Endpoint<A>,
    remote: Endpoint<A>,
    /// The zone of a link-local peer (RFC 4007 §6): the device its SYN arrived on.
    scope: Option<DeviceId>,
    cfg: TcpConfig,
    state: State,
    passive: bool,
    /// The application closed the socket: it no longer reads.
    orphaned: bool,

    // Send sequence space (RFC 9293 §3.3.1).
    iss: SeqNum,
    snd_una: SeqNum,
    snd_nxt: SeqNum,
    /// The highest sequence number sent plus one.
    snd_max: SeqNum,
    snd_wnd: u32,
    max_snd_wnd: u32,
    snd_wl1: SeqNum,
    snd_wl2: SeqNum,
    snd_wscale: u8,
    send_buf: SendBuffer,
    /// Sequence number of the send ring's first byte.
    send_buf_seq: SeqNum,
    /// A FIN follows the queued data.
    fin_queued: bool,
    /// A SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) is due.
    syn_due: bool,
    syn_sent_at: Option<Instant>,
    syn_retransmitted: bool,

    // Receive sequence space.
    irs: SeqNum,
    rcv_nxt: SeqNum,
    /// The right edge of the window last advertised.
    rcv_adv: SeqNum,
    rcv_wscale: u8,
    recv_buf: RecvBuffer,
    /// A FIN seen beyond RCV.NXT, applied when the data before it arrives.
    pending_fin: Option<SeqNum>,
    fin_received: bool,
    read_shutdown: bool,
    last_ack_sent: SeqNum,

    // Options.
    timestamps: Option<Timestamps>,
    ts_offset: u32,
    sack_ok: bool,
    window_scaling_ok: bool,
    peer_mss: u32,
    pmtu: u32,
    /// The most payload a segment without options carries.
    mss_base: u32,

    // Timers.
    rtt: RttEstimator,
    rto_at: Option<Instant>,
    retries: u32,
    /// When the oldest outstanding data began waiting (TCP_USER_TIMEOUT).
    stalled_since: Option<Instant>,
    /// The segment being timed for an RTT sample: its sequence range and send time.
    rtt_probe: Option<(SeqNum, SeqNum, Instant)>,
    /// Our timestamp clock at the last retransmission: echoes older than this are not used
    /// for RTT samples.
    ts_floor: u32,
    delack_at: Option<Instant>,
    ack_now: bool,
    segs_unacked: u32,
    /// A segment shorter than a full one arrived since our last ACK (Linux's
    /// ICSK_ACK_PUSHED): the application draining the queue acknowledges it at once.
    ack_pushed: bool,
    /// Request/response traffic (Linux's pingpong mode): we send data soon after receiving
    /// some, so ACKs wait to ride on it.
    interactive: bool,
    /// Data segments still acknowledged at once, however the delayed-ACK rules would wait
    /// (Linux's quickack mode, `icsk_ack.quick`), after TCP_QUICKACK was set.
    quick_acks: u32,
    /// When TCP_CORK's ceiling sends the partial segment it holds.
    cork_at: Option<Instant>,
    /// The partial segment goes out whatever TCP_CORK or Nagle say: the ceiling passed or
    /// the cork came out (Linux's `TCP_NAGLE_PUSH`).
    push_partial: bool,
    /// When data last arrived.
    last_data_at: Option<Instant>,
    keepalive_at: Option<Instant>,
    keepalive_probes: u32,
    /// When an acceptable segment last arrived.
    last_recv_at: Instant,
    /// Auto-tuning: when the current measurement began, and bytes the application read
    /// since.
    rcv_space_mark: Instant,
    rcv_space_bytes: u64,
    persist_at: Option<Instant>,
    persist_backoff: u32,
    probe_due: bool,
    /// Tail loss probe (RFC 8985 §7): when the probe timeout expires, whether a probe is
    /// due, and whether one is out and unanswered.
    tlp_at: Option<Instant>,
    tlp_due: bool,
    tlp_outstanding: bool,
    /// The persist timer fired with a usable but small window: send a partial segment.
    sws_override: bool,
    time_wait_at: Option<Instant>,
    fin_wait2_at: Option<Instant>,
    last_send_at: Instant,
    challenge_tokens: u32,
    challenge_window_start: Instant,

    // Congestion and recovery.
    cc: Box<dyn CongestionControl>,
    recovery: Recovery,
    /// The highest SND.MAX at the start of a recovery (RFC 6582's `recover`).
    recover: Option<SeqNum>,
    dupacks: u32,
    scoreboard: Scoreboard,
    high_rxt: SeqNum,
    retransmit_head: bool,

    // Outputs.
    pending_reset: Option<PendingReset>,
    events: u8,
    error: Option<SocketError>,
    soft_error: Option<SocketError>,
    counters: TcpCounters,

    // TCP_INFO.
    bytes_sent: u64,
    bytes_retrans: u64,
    bytes_acked: u64,
    bytes_received: u64,
    segs_out: u64,
    segs_in: u64,
    total_retrans: u64,
    recoveries: u32,
}

/// The smallest window shift that lets a buffer of `capacity` bytes be advertised
/// (RFC 7323 §2.3).
pub(crate) fn window_shift_for_buffer(capacity: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (capacity >> shift) > usize::from(u16::MAX) {
        shift += 1;
    }
    shift
}

impl<A: IpAddress> Connection<A> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        now: Instant,
        cfg: TcpConfig,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        state: State,
        iss: SeqNum,
        ts_offset: u32,
        mtu: u32,
    ) -> Self {
        let rcv_wscale = if cfg.window_scaling { window_shift_for_buffer(cfg.window_basis()) } else { 0 };
        let mut conn = Self {
            local,
            remote,
            scope: None,
            state,
            passive: false,
            orphaned: false,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: iss,
            snd_wscale: 0,
            send_buf: SendBuffer::new(cfg.send_buffer),
            send_buf_seq: iss + 1,
            fin_queued: false,
            syn_due: false,
            syn_sent_at: None,
            syn_retransmitted: false,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_adv: SeqNum(0),
            rcv_wscale,
            recv_buf: RecvBuffer::new(cfg.recv_buffer),
            pending_fin: None,
            fin_received: false,
            read_shutdown: false,
            last_ack_sent: SeqNum(0),
            timestamps: None,
            ts_offset,
            sack_ok: false,
            window_scaling_ok: false,
            peer_mss: default_mss(wire_version(local.addr)),
            pmtu: mtu,
            mss_base: default_mss(wire_version(local.addr)),
            rtt: RttEstimator::new(cfg.min_rto, cfg.max_rto),
            rto_at: None,
            retries: 0,
            stalled_since: None,
            rtt_probe: None,
            ts_floor: 0,
            delack_at: None,
            ack_now: false,
            segs_unacked: 0,
            ack_pushed: false,
            interactive: false,
            quick_acks: 0,
            cork_at: None,
            push_partial: false,
            last_data_at: None,
            keepalive_at: None,
            keepalive_probes: 0,
            last_recv_at: now,
            rcv_space_mark: now,
            rcv_space_bytes: 0,
            persist_at: None,
            persist_backoff: 0,
            probe_due: false,
            tlp_at: None,
            tlp_due: false,
            tlp_outstanding: false,
            sws_override: false,
            time_wait_at: None,
            fin_wait2_at: None,
            last_send_at: now,
            challenge_tokens: cfg.challenge_ack_limit,
            challenge_window_start: now,
            cc: cfg.congestion.build(default_mss(wire_version(local.addr))),
            recovery: Recovery::None,
            recover: None,
            dupacks: 0,
            scoreboard: Scoreboard::default(),
            high_rxt: iss,
            retransmit_head: false,
            pending_reset: None,
            events: 0,
            error: None,
            soft_error: None,
            counters: TcpCounters::default(),
            bytes_sent: 0,
            bytes_retrans: 0,
            bytes_acked: 0,
            bytes_received: 0,
            segs_out: 0,
            segs_in: 0,
            total_retrans: 0,
            recoveries: 0,
            cfg,
        };
        conn.update_mss();
        conn
    }

    /// An active open (RFC 9293 §3.10.1): the connection starts in SYN-SENT with its SYN
    /// due. `isn` comes from [`IsnGenerator`](super::isn::IsnGenerator), `ts_offset` from
    /// its `timestamp_offset`, `mtu` is the route's MTU.
    pub fn connect(
        now: Instant,
        cfg: TcpConfig,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        isn: SeqNum,
        ts_offset: u32,
        mtu: u32,
    ) -> Self {
        let mut conn = Self::new(now, cfg, local, remote, State::SynSent, isn, ts_offset, mtu);
        conn.syn_due = true;
        conn.counters.active_opens += 1;
        conn
    }

    /// A passive open: a listener got the SYN `syn` and this connection answers it from
    /// SYN-RECEIVED (RFC 9293 §3.10.7.2).
    #[allow(clippy::too_many_arguments)]
    pub fn accept_syn(
        now: Instant,
        cfg: TcpConfig,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        syn: &SegmentInfo,
        isn: SeqNum,
        ts_offset: u32,
        mtu: u32,
    ) -> Self {
        let mut conn = Self::new(now, cfg, local, remote, State::SynReceived, isn, ts_offset, mtu);
        conn.passive = true;
        conn.irs = syn.seq;
        conn.rcv_nxt = syn.seq + 1;
        conn.rcv_adv = conn.rcv_nxt;
        conn.negotiate(now, &syn.options);
        conn.snd_wnd = u32::from(syn.window);
        conn.max_snd_wnd = conn.snd_wnd;
        conn.snd_wl1 = syn.seq;
        conn.syn_due = true;
        conn.counters.passive_opens += 1;
        conn
    }

    /// A connection completed by a valid SYN cookie (RFC 4987 §3.6): `ack` is the ACK that
    /// carried it, `iss` the cookie, `options` what it encoded.
    #[allow(clippy::too_many_arguments)]
    pub fn from_syn_cookie(
        now: Instant,
        cfg: TcpConfig,
        local: Endpoint<A>,
        remote: Endpoint<A>,
        ack: &SegmentInfo,
        iss: SeqNum,
        options: CookieOptions,
        ts_offset: u32,
        mtu: u32,
    ) -> Self {
        let mut conn = Self::new(now, cfg, local, remote, State::Established, iss, ts_offset, mtu);
        conn.passive = true;
        conn.irs = ack.seq - 1;
        conn.rcv_nxt = ack.seq;
        conn.rcv_adv = conn.rcv_nxt;
        let offered = TcpOptions {
            mss: Some(options.mss),
            window_scale: options.window_scale,
            sack_permitted: options.sack_permitted,
            timestamp: if options.timestamps { ack.options.timestamp } else { None },
            sack_blocks: SackBlocks::EMPTY,
        };
        conn.negotiate(now, &offered);
        conn.snd_una = iss + 1;
        conn.snd_nxt = conn.snd_una;
        conn.snd_max = conn.snd_una;
        conn.snd_wl1 = ack.seq;
        conn.snd_wl2 = ack.ack;
        conn.snd_wnd = u32::from(ack.window) << conn.snd_wscale;
        conn.max_snd_wnd = conn.snd_wnd;
        conn.counters.passive_opens += 1;
        conn.arm_keepalive(now);
        conn.push_event(Event::Connected);
        conn
    }

    // ---------------------------------------------------------------- accessors

    /// The local end.
    pub fn local(&self) -> Endpoint<A> {
        self.local
    }

    /// The remote end.
    pub fn remote(&self) -> Endpoint<A> {
        self.remote
    }

    /// The zone of a link-local peer (RFC 4007 §6): the device a listener saw its SYN
    /// arrive on, which the connection's segments must leave by. `None` for other peers.
    pub fn scope(&self) -> Option<DeviceId> {
        self.scope
    }

    /// Ties the connection to the zone of its link-local peer (see [`scope`](Self::scope)).
    pub fn set_scope(&mut self, scope: Option<DeviceId>) {
        self.scope = scope;
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the connection is finished and can be dropped.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed && self.pending_reset.is_none()
    }

    /// The settings in force.
    pub fn config(&self) -> &TcpConfig {
        &self.cfg
    }

    /// The counters accumulated since the last [`take_counters`](Self::take_counters).
    pub fn counters(&self) -> &TcpCounters {
        &self.counters
    }

    /// Hands over the counters accumulated so far (for the stack's totals) and resets them.
    pub fn take_counters(&mut self) -> TcpCounters {
        core::mem::take(&mut self.counters)
    }

    /// SO_ERROR: the pending error, cleared by reading it.
    pub fn take_error(&mut self) -> Option<SocketError> {
        self.error.take()
    }

    /// Bytes readable now.
    pub fn recv_queue_len(&self) -> usize {
        self.recv_buf.len()
    }

    /// Bytes queued to send (unsent and unacknowledged).
    pub fn send_queue_len(&self) -> usize {
        self.send_buf.len()
    }

    /// Room in the send ring.
    pub fn send_space(&self) -> usize {
        self.send_buf.free()
    }

    /// The sender MSS in use (payload per segment, options such as timestamps deducted).
    pub fn mss(&self) -> u32 {
        self.smss()
    }

    /// RCV.NXT: the next sequence number expected from the peer.
    pub fn rcv_nxt(&self) -> SeqNum {
        self.rcv_nxt
    }

    /// SND.NXT: the next sequence number to send.
    pub fn snd_nxt(&self) -> SeqNum {
        self.snd_nxt
    }

    /// SND.UNA: the oldest unacknowledged sequence number.
    pub fn snd_una(&self) -> SeqNum {
        self.snd_una
    }

    /// TS.Recent (RFC 7323 §4.3), when timestamps are in use.
    pub fn ts_recent(&self) -> Option<u32> {
        self.timestamps.map(|t| t.recent)
    }

    /// Heap bytes this connection holds (its rings, reassembly and SACK ranges), for the
    /// stack's memory accounting.
    pub fn memory_footprint(&self) -> usize {
        self.send_buf.allocated() + self.recv_buf.allocated() + self.scoreboard.allocated()
    }

    /// The peer's receive window (scaled), as last advertised.
    pub fn peer_window(&self) -> u32 {
        self.snd_wnd
    }

    /// TIME-WAIT reuse (RFC 9293 §3.6.1 and RFC 6191 §2): whether a new SYN from the same
    /// peer may replace this TIME-WAIT connection. With timestamps on both incarnations the
    /// SYN's TSval must be newer than TS.Recent; otherwise its ISN must lie beyond the old
    /// incarnation's final sequence number. The stack then drops this connection and hands
    /// the SYN to the listener.
    pub fn time_wait_accepts_syn(&self, syn: &SegmentInfo) -> bool {
        if self.state != State::TimeWait
            || !syn.flags.contains(TcpFlags::SYN)
            || syn.flags.intersects(TcpFlags::ACK | TcpFlags::RST)
        {
            return false;
        }
        match (self.timestamps, syn.options.timestamp) {
            (Some(ts), Some(theirs)) => (theirs.value.wrapping_sub(ts.recent) as i32) > 0,
            _ => syn.seq.gt(self.rcv_nxt),
        }
    }

    /// A TCP_INFO snapshot.
    pub fn info(&self) -> TcpInfo {
        TcpInfo {
            state: self.state,
            rtt: self.rtt.srtt().unwrap_or(Duration::ZERO),
            rttvar: self.rtt.rttvar(),
            min_rtt: self.rtt.min_rtt().unwrap_or(Duration::ZERO),
            rto: self.rtt.rto(),
            cwnd: self.cc.window(),
            ssthresh: self.cc.ssthresh(),
            snd_mss: self.smss(),
            rcv_mss: self.advertised_mss(),
            pmtu: self.pmtu,
            snd_wnd: self.snd_wnd,
            rcv_wnd: self.rcv_adv.since(self.rcv_nxt),
            rcv_space: self.recv_buf.capacity() as u32,
            wscale: self.window_scaling_ok.then_some((self.rcv_wscale, self.snd_wscale)),
            timestamps: self.timestamps.is_some(),
            sack: self.sack_ok,
            backoff: self.rtt.backoff(),
            total_retrans: self.total_retrans,
            bytes_sent: self.bytes_sent,
            bytes_retrans: self.bytes_retrans,
            bytes_acked: self.bytes_acked,
            bytes_received: self.bytes_received,
            segs_out: self.segs_out,
            segs_in: self.segs_in,
            lost: self.lost_bytes(),
            sacked: self.scoreboard.sacked_bytes(),
            recoveries: self.recoveries,
            congestion: self.cc.name(),
            accept_queue: 0,
            backlog: 0,
        }
    }

    // ---------------------------------------------------------------- socket options

    /// TCP_NODELAY.
    pub fn set_nodelay(&mut self, nodelay: bool) {
        self.cfg.nodelay = nodelay;
    }

    /// SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT.
    pub fn set_keepalive(
        &mut self,
        now: Instant,
        enabled: bool,
        idle: Duration,
        interval: Duration,
        count: u32,
    ) {
        self.cfg.keepalive = enabled;
        self.cfg.keep_idle = idle;
        self.cfg.keep_interval = interval;
        self.cfg.keep_count = count.max(1);
        self.arm_keepalive(now);
    }

    /// TCP_SYNCNT: SYN retransmissions before the handshake gives up.
    pub fn set_syn_retries(&mut self, count: u32) {
        self.cfg.syn_retries = count;
    }

    /// TCP_LINGER2: the FIN-WAIT-2 wait of an orphan (`None` for none), for a close that
    /// comes later.
    pub fn set_fin_timeout(&mut self, timeout: Option<Duration>) {
        self.cfg.fin_timeout = timeout;
    }

    /// TCP_WINDOW_CLAMP (`None` to offer what the buffer holds); an edge already offered
    /// stays where it is.
    pub fn set_window_clamp(&mut self, clamp: Option<u32>) {
        self.cfg.window_clamp = clamp;
    }

    /// TCP_CORK; taking the cork out sends the partial segment it held at once.
    pub fn set_cork(&mut self, on: bool) {
        if self.cfg.cork && !on {
            self.cork_at = None;
            self.push_partial = self.send_end().gt(self.snd_nxt);
        }
        self.cfg.cork = on;
    }

    /// TCP_QUICKACK (Linux's `__tcp_sock_set_quickack`): on, the connection leaves
    /// request/response (pingpong) mode, sends an ACK it was delaying now, and acknowledges
    /// the next [`MAX_QUICK_ACKS`] data segments at once; off, it enters pingpong mode, so
    /// ACKs wait to ride on data.
    pub fn set_quickack(&mut self, on: bool) {
        if on {
            self.interactive = false;
            self.quick_acks = MAX_QUICK_ACKS;
            if self.delack_at.is_some() && matches!(self.state, State::Established | State::CloseWait) {
                self.ack_now = true;
            }
        } else {
            self.interactive = true;
            self.quick_acks = 0;
        }
    }

    /// TCP_QUICKACK as Linux reads it back: not in pingpong mode.
    pub fn quickack(&self) -> bool {
        !self.interactive
    }

    /// TCP_USER_TIMEOUT (`None` for the retry count alone).
    pub fn set_user_timeout(&mut self, timeout: Option<Duration>) {
        self.cfg.user_timeout = timeout;
    }

    /// SO_LINGER.
    pub fn set_linger(&mut self, linger: Option<Duration>) {
        self.cfg.linger = linger;
    }

    /// SO_SNDBUF; false if the data queued does not fit the new size.
    pub fn set_send_buffer(&mut self, size: usize) -> bool {
        let ok = self.send_buf.set_capacity(size);
        if ok {
            self.cfg.send_buffer = size;
        }
        ok
    }

    /// SO_RCVBUF, honoured before data arrives (the window shift is fixed at the handshake);
    /// turns auto-tuning off.
    pub fn set_recv_buffer(&mut self, size: usize) -> bool {
        let offered = self.rcv_adv.since(self.rcv_nxt) as usize;
        let fits_shift = size >> self.rcv_wscale <= usize::from(u16::MAX) || self.state == State::SynSent;
        let ok = fits_shift && self.recv_buf.set_capacity(size, offered);
        if ok {
            self.cfg.recv_buffer = size;
            self.cfg.recv_autotune = false;
            if self.state == State::SynSent && self.cfg.window_scaling {
                self.rcv_wscale = window_shift_for_buffer(size);
            }
        }
        ok
    }

    // ---------------------------------------------------------------- socket calls

    /// Queues data for sending; returns how much was taken (RFC 9293 §3.10.2): EAGAIN when
    /// none fits, 0 for no data.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, SocketError> {
        match self.send_with(|first, second| copy_to_runs(data, first, second)) {
            Err(SocketError::WouldBlock) if data.is_empty() => Ok(0),
            result => result,
        }
    }

    /// Queues what `fill` writes straight into the send ring's free space, lent as two runs
    /// ([`SendBuffer::write_with`]); returns how much it wrote. EAGAIN, without calling
    /// `fill`, when the ring is full; the errors of [`send`](Self::send) otherwise.
    pub fn send_with(
        &mut self,
        fill: impl FnOnce(&mut [u8], &mut [u8]) -> usize,
    ) -> Result<usize, SocketError> {
        if let Some(err) = self.error.take() {
            return Err(err);
        }
        if !self.state.can_send() || self.fin_queued {
            return Err(match self.state {
                State::Closed if !self.passive && self.snd_max == self.iss => SocketError::NotConnected,
                _ => SocketError::BrokenPipe,
            });
        }
        if self.send_buf.free() == 0 {
            return Err(SocketError::WouldBlock);
        }
        Ok(self.send_buf.write_with(fill))
    }

    /// Reads in-order data (RFC 9293 §3.10.3); `Ok(0)` is the end of the stream (or a
    /// zero-length read).
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, SocketError> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.recv_with(|first, second| copy_from_runs(first, second, buf))
    }

    /// Lends the in-order data to `drain` as two runs ([`RecvBuffer::read_with`]) and
    /// consumes what it took, opening the window as [`recv`](Self::recv) does. `drain` is
    /// called only when data is waiting: `Ok(0)` without a call is the end of the stream;
    /// with nothing waiting the errors are [`recv`](Self::recv)'s.
    pub fn recv_with(&mut self, drain: impl FnOnce(&[u8], &[u8]) -> usize) -> Result<usize, SocketError> {
        if !self.recv_buf.is_empty() {
            let n = self.recv_buf.read_with(drain);
            self.rcv_space_bytes += n as u64;
            if matches!(self.state, State::TimeWait | State::Closed) {
                self.recv_buf.release_if_empty();
            }
            if n > 0 {
                self.maybe_window_update();
                self.ack_on_drain();
            }
            return Ok(n);
        }
        if matches!(self.state, State::TimeWait | State::Closed) {
            self.recv_buf.release_if_empty();
        }
        // Linux's tcp_recvmsg order: end of stream after the peer's FIN, then a pending
        // error, then a read side shut down.
        if self.fin_received {
            return Ok(0);
        }
        if let Some(err) = self.error.take() {
            return Err(err);
        }
        if self.read_shutdown {
            return Ok(0);
        }
        match self.state {
            State::Closed => Err(SocketError::NotConnected),
            _ => Err(SocketError::WouldBlock),
        }
    }

    /// Copies in-order data without consuming it (MSG_PEEK).
    pub fn peek(&self, buf: &mut [u8]) -> usize {
        self.recv_buf.peek(buf)
    }

    /// shutdown(2). Closing the write side queues a FIN after the data (RFC 9293 §3.10.4);
    /// the read side stops delivering data.
    pub fn shutdown(&mut self, how: Shutdown) -> Result<(), SocketError> {
        if matches!(self.state, State::Closed | State::SynSent) && !matches!(how, Shutdown::Read) {
            if self.state == State::SynSent {
                self.enter_closed();
                return Ok(());
            }
            return Err(SocketError::NotConnected);
        }
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.read_shutdown = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.queue_fin();
        }
        Ok(())
    }

    /// close(2): an orderly close, except that unread data or SO_LINGER 0 turn it into an
    /// abort with RST (RFC 9293 §3.10.4 and RFC 2525 §2.17).
    pub fn close(&mut self) {
        self.orphaned = true;
        if self.cfg.linger == Some(Duration::ZERO) {
            self.counters.abort_on_linger += 1;
            self.abort();
            return;
        }
        if !self.recv_buf.is_empty() {
            self.close_unread();
            return;
        }
        match self.state {
            State::SynSent | State::Closed => self.enter_closed(),
            _ => self.queue_fin(),
        }
        if self.state == State::FinWait2 {
            match self.cfg.fin_timeout {
                Some(timeout) => self.fin_wait2_at = Some(self.last_send_at + timeout),
                None => {
                    self.counters.abort_on_linger += 1;
                    self.abort();
                }
            }
        }
    }

    /// close(2) with received data the application never read, wherever it waits (here, or
    /// in a buffer of the bindings past this connection): an abort with RST, counted as
    /// TCPAbortOnClose (RFC 2525 §2.17, RFC 1122 §4.2.2.13, Linux's `tcp_close`).
    pub fn close_unread(&mut self) {
        self.orphaned = true;
        self.counters.abort_on_close += 1;
        self.abort();
    }

    /// ABORT (RFC 9293 §3.10.5): a RST in a synchronized state, then CLOSED.
    pub fn abort(&mut self) {
        if matches!(
            self.state,
            State::SynReceived | State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait
        ) {
            self.pending_reset = Some(PendingReset { seq: self.snd_max, ack: Some(self.rcv_nxt) });
        }
        self.enter_closed();
    }

    fn queue_fin(&mut self) {
        if self.fin_queued {
            return;
        }
        match self.state {
            // RFC 9293 §3.10.4: in SYN-RECEIVED the FIN waits for the handshake to finish;
            // the transition to FIN-WAIT-1 happens when the ACK of our SYN arrives.
            State::SynReceived => {}
            State::Established => self.state = State::FinWait1,
            State::CloseWait => self.state = State::LastAck,
            _ => return,
        }
        self.fin_queued = true;
    }

    // ---------------------------------------------------------------- outputs

    /// The next event for the socket.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = Event::ALL.into_iter().find(|e| self.events & e.bit() != 0)?;
        self.events &= !event.bit();
        Some(event)
    }

    fn push_event(&mut self, event: Event) {
        self.events |= event.bit();
    }

    /// The earliest instant [`handle_timeout`](Self::handle_timeout) has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.rto_at,
            self.tlp_at,
            self.delack_at,
            self.cork_at,
            self.keepalive_at,
            self.persist_at,
            self.time_wait_at,
            self.fin_wait2_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Writes the next segment due into `out` (TCP header, options, payload, checksum);
    /// `None` when nothing is due. Call until `None` after every input. `out` should hold
    /// the path MTU less the IP header; a smaller buffer makes smaller segments.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<Transmit> {
        if let Some(reset) = self.pending_reset.take() {
            let (ack, flags) = match reset.ack {
                Some(ack) => (ack, TcpFlags::RST | TcpFlags::ACK),
                None => (SeqNum(0), TcpFlags::RST),
            };
            let len =
                write_segment(out, self.local, self.remote, reset.seq, ack, flags, 0, &TcpOptions::NONE, 0)?;
            self.counters.out_rsts += 1;
            return Some(self.sent(now, reset.seq, flags, len, 0, false));
        }
        match self.state {
            State::Closed => return None,
            State::SynSent | State::SynReceived => {
                if self.syn_due {
                    return self.transmit_syn(now, out);
                }
                if self.state == State::SynSent {
                    return None;
                }
            }
            _ => {}
        }
        if matches!(
            self.state,
            State::Established | State::FinWait1 | State::CloseWait | State::Closing | State::LastAck
        ) {
            if let Some(t) = self.transmit_data(now, out) {
                return Some(t);
            }
        }
        if self.probe_due {
            self.probe_due = false;
            // A segment one below SND.UNA: unacceptable to the peer, so it answers with an
            // ACK that shows its window and that it is alive (Linux's probe form).
            return self.transmit_control(now, out, self.snd_una - 1, TcpFlags::ACK);
        }
        if self.ack_now {
            // SND.MAX, not SND.NXT: after an RTO rewinds SND.NXT, the peer's RCV.NXT may lie
            // beyond it, and an ACK below RCV.NXT is unacceptable to the peer, which would
            // then ignore its acknowledgment (both ends retransmitting could deadlock).
            return self.transmit_control(now, out, self.snd_max, TcpFlags::ACK);
        }
        None
    }

    fn smss(&self) -> u32 {
        let ts = if self.timestamps.is_some() { TIMESTAMP_OPTION_LEN } else { 0 };
        self.mss_base.saturating_sub(ts).max(1)
    }

    fn advertised_mss(&self) -> u32 {
        let mss = self.cfg_mtu_mss(self.pmtu);
        self.cfg.mss_clamp.map_or(mss, |c| mss.min(u32::from(c)))
    }

    fn cfg_mtu_mss(&self, mtu: u32) -> u32 {
        mtu.saturating_sub(ip_header_len(wire_version(self.local.addr)) + HEADER_LEN as u32).clamp(64, 65_495)
    }

    fn update_mss(&mut self) {
        let mut mss = self.peer_mss.min(self.cfg_mtu_mss(self.pmtu));
        if let Some(clamp) = self.cfg.mss_clamp {
            mss = mss.min(u32::from(clamp));
        }
        self.mss_base = mss.max(64);
    }

    fn ts_now(&self, now: Instant) -> u32 {
        ((now.as_nanos() / 1_000_000) as u32).wrapping_add(self.ts_offset)
    }

    /// The window to advertise, applying receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2)
    /// and never moving the right edge back (RFC 9293 §3.8.6, RFC 7323 §2.4).
    fn window_to_advertise(&mut self) -> u16 {
        let free = self.cfg.window_room(self.recv_buf.free()) as u32;
        let capacity = self.cfg.window_room(self.recv_buf.capacity()) as u32;
        let current = self.rcv_adv.since(self.rcv_nxt);
        let threshold = (capacity / 2).min(self.advertised_mss());
        let wnd = if free >= current.saturating_add(threshold) || free == capacity {
            free.max(current)
        } else {
            current
        };
        let shift = if self.state == State::SynSent || self.state == State::SynReceived && self.syn_due {
            0
        } else {
            self.rcv_wscale
        };
        // Rounded down: the peer may then see the edge move back by less than one unit of
        // scale, which RFC 7323 §2.4 accepts; we still take data up to the old edge.
        // Rounding up would offer room that is not there.
        let scaled = (wnd >> shift).min(u32::from(u16::MAX));
        let edge = self.rcv_nxt + (scaled << shift);
        if edge.gt(self.rcv_adv) {
            self.rcv_adv = edge;
        }
        scaled as u16
    }

    fn segment_options(&self, now: Instant) -> TcpOptions {
        let timestamp =
            self.timestamps.map(|ts| TcpTimestamp { value: self.ts_now(now), echo_reply: ts.recent });
        let mut options = TcpOptions { timestamp, ..TcpOptions::NONE };
        if self.sack_ok {
            let max = if timestamp.is_some() { 3 } else { 4 };
            let mut ranges = [StreamRange { start: 0, end: 0 }; 4];
            let n = self.recv_buf.reassembly().sack_ranges(&mut ranges[..max]);
            let base = self.recv_buf.contiguous_end();
            let mut blocks = [SackBlock::default(); 4];
            for (block, range) in blocks.iter_mut().zip(&ranges[..n]) {
                let left = self.rcv_nxt + (range.start - base) as u32;
                let right = self.rcv_nxt + (range.end - base) as u32;
                *block = SackBlock { left: left.0, right: right.0 };
            }
            options.sack_blocks = SackBlocks::new(&blocks[..n]).unwrap_or(SackBlocks::EMPTY);
        }
        options
    }

    fn transmit_syn(&mut self, now: Instant, out: &mut [u8]) -> Option<Transmit> {
        let syn_ack = self.state == State::SynReceived;
        let offer_ws = if syn_ack { self.window_scaling_ok } else { self.cfg.window_scaling };
        let offer_ts = if syn_ack { self.timestamps.is_some() } else { self.cfg.timestamps };
        let offer_sack = if syn_ack { self.sack_ok } else { self.cfg.sack };
        let options = TcpOptions {
            mss: Some(self.advertised_mss().min(u32::from(u16::MAX)) as u16),
            window_scale: offer_ws.then_some(self.rcv_wscale),
            sack_permitted: offer_sack,
            timestamp: offer_ts.then(|| TcpTimestamp {
                value: self.ts_now(now),
                echo_reply: self.timestamps.map_or(0, |t| t.recent),
            }),
            sack_blocks: SackBlocks::EMPTY,
        };
        let flags = if syn_ack { TcpFlags::SYN | TcpFlags::ACK } else { TcpFlags::SYN };
        let window = self.window_to_advertise();
        let len =
            write_segment(out, self.local, self.remote, self.iss, self.rcv_nxt, flags, window, &options, 0)?;
        self.syn_due = false;
        let retransmission = self.syn_sent_at.is_some();
        self.syn_retransmitted |= retransmission;
        if retransmission {
            self.ts_floor = self.ts_now(now);
        }
        if !retransmission {
            self.syn_sent_at = Some(now);
        }
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.snd_max.max(self.snd_nxt);
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        Some(self.sent(now, self.iss, flags, len, 0, retransmission))
    }

    fn transmit_control(
        &mut self,
        now: Instant,
        out: &mut [u8],
        seq: SeqNum,
        flags: TcpFlags,
    ) -> Option<Transmit> {
        let options = self.segment_options(now);
        let window = self.window_to_advertise();
        let len = write_segment(out, self.local, self.remote, seq, self.rcv_nxt, flags, window, &options, 0)?;
        Some(self.sent(now, seq, flags, len, 0, false))
    }

    /// Book-keeping common to every segment sent.
    fn sent(
        &mut self,
        now: Instant,
        seq: SeqNum,
        flags: TcpFlags,
        len: usize,
        payload_len: usize,
        retransmission: bool,
    ) -> Transmit {
        if flags.contains(TcpFlags::ACK) {
            self.ack_now = false;
            self.delack_at = None;
            self.segs_unacked = 0;
            self.ack_pushed = false;
            self.last_ack_sent = self.rcv_nxt;
        }
        // Data sent within the delayed-ACK time of data received: request/response
        // (Linux's `tcp_event_data_sent` entering pingpong mode).
        if payload_len > 0
            && self.last_data_at.is_some_and(|t| now.saturating_duration_since(t) < self.cfg.delayed_ack)
        {
            self.interactive = true;
        }
        if retransmission {
            self.counters.retrans_segs += 1;
            self.total_retrans += 1;
            self.bytes_retrans += payload_len as u64;
        } else {
            self.counters.out_segs += 1;
        }
        self.segs_out += 1;
        self.bytes_sent += payload_len as u64;
        if payload_len > 0 || flags.intersects(TcpFlags::SYN | TcpFlags::FIN) {
            self.last_send_at = now;
        }
        Transmit { len, seq, flags, payload_len, retransmission }
    }

    /// Bytes in flight for the window check.
    fn in_flight(&self) -> u32 {
        let outstanding = self.snd_max.since(self.snd_una);
        match self.recovery {
            Recovery::Fast { .. } if self.sack_ok => {
                self.scoreboard.pipe(self.snd_una, self.snd_max, self.high_rxt, self.smss())
            }
            // RFC 5681 §3.2 step 4's window inflation, expressed as segments that left.
            Recovery::Fast { .. } => outstanding.saturating_sub(self.dupacks * self.smss()),
            Recovery::Rto { .. } => {
                self.snd_nxt.since(self.snd_una).saturating_sub(self.scoreboard.sacked_bytes())
            }
            Recovery::None => outstanding.saturating_sub(self.scoreboard.sacked_bytes()),
        }
    }

    fn lost_bytes(&self) -> u32 {
        let Some(boundary) = self.scoreboard.lost_boundary(self.smss()) else { return 0 };
        let end = boundary.max(self.snd_una).min(self.snd_max);
        let sacked_below: u32 =
            self.scoreboard.ranges().iter().map(|r| r.end.min(end).since(r.start.max(self.snd_una))).sum();
        end.since(self.snd_una).saturating_sub(sacked_below)
    }

    /// The sequence number after the last byte queued.
    fn send_end(&self) -> SeqNum {
        self.send_buf_seq + self.send_buf.len() as u32
    }

    fn transmit_data(&mut self, now: Instant, out: &mut [u8]) -> Option<Transmit> {
        let options = self.segment_options(now);
        let header_len = HEADER_LEN + options.wire_len();
        let max_payload = (self.mss_base.saturating_sub(options.wire_len() as u32) as usize)
            .min(out.len().saturating_sub(header_len));
        if max_payload == 0 {
            return None;
        }
        // RFC 5681 §4.1: after an idle period longer than the RTO the ACK clock is gone, so
        // the window restarts from the initial window.
        if self.snd_una == self.snd_max
            && self.send_end().gt(self.snd_nxt)
            && now - self.last_send_at > self.rtt.rto()
            && self.recovery == Recovery::None
        {
            self.cc.on_idle_restart();
        }
        let cwnd = self.cc.window();
        let send_end = self.send_end();

        if self.tlp_due {
            self.tlp_due = false;
            if let Some(t) = self.transmit_loss_probe(now, out, &options, max_payload) {
                return Some(t);
            }
        }

        // RFC 6675 §5 step (4.3) and RFC 6582 §3.2 step 2/5: resend the first unacknowledged
        // segment when recovery starts or on a partial ACK.
        if self.retransmit_head && self.snd_una.lt(self.snd_max) {
            self.retransmit_head = false;
            let limit = self.scoreboard.next_sacked_after(self.snd_una).unwrap_or(self.snd_max).min(send_end);
            let len = (limit.since(self.snd_una) as usize).min(max_payload);
            let fin_only = self.fin_queued && self.snd_una == send_end;
            if len > 0 || fin_only {
                self.high_rxt = self.high_rxt.max(self.snd_una + len as u32);
                return self.transmit_range(now, out, &options, self.snd_una, len, true);
            }
        }

        if let Recovery::Fast { .. } = self.recovery {
            if self.sack_ok {
                let pipe = self.in_flight();
                if pipe.saturating_add(self.smss()) > cwnd {
                    return None;
                }
                // RFC 6675 §4 NextSeg rule 1: the first lost hole not yet resent.
                if let Some(hole) = self.scoreboard.next_lost(self.snd_una, self.high_rxt, self.smss()) {
                    let len = (hole.end.min(send_end).since(hole.start) as usize).min(max_payload);
                    self.high_rxt = hole.start + len as u32;
                    return self.transmit_range(now, out, &options, hole.start, len, true);
                }
                // Rule 2: new data, below.
            }
        }

        // After an RTO (or a path MTU drop), resend from SND.NXT, skipping what was SACKed.
        while self.snd_nxt.lt(self.snd_max) {
            if let Some(end) = self.scoreboard.sacked_end(self.snd_nxt) {
                self.snd_nxt = end.min(self.snd_max);
                continue;
            }
            let flight = self.in_flight();
            if flight > 0 && flight.saturating_add(self.smss()) > cwnd {
                return None;
            }
            let hole_end =
                self.scoreboard.next_sacked_after(self.snd_nxt).unwrap_or(self.snd_max).min(self.snd_max);
            let data_end = hole_end.min(send_end);
            let len = (data_end.since(self.snd_nxt) as usize).min(max_payload);
            let seq = self.snd_nxt;
            return self.transmit_range(now, out, &options, seq, len, true);
        }

        // New data (RFC 9293 §3.8.6.2.1 and RFC 1122 §4.2.3.4 decide when).
        let avail = send_end.since(self.snd_nxt) as usize;
        let fin_unsent = self.fin_queued && self.snd_max.le(send_end);
        if avail == 0 && !fin_unsent {
            return None;
        }
        let cwnd_room = cwnd.saturating_sub(self.in_flight()) as usize;
        let window_edge = self.snd_una + self.snd_wnd;
        let wnd_room = window_edge.since(self.snd_nxt) as usize;
        let len = avail.min(max_payload).min(cwnd_room).min(wnd_room);
        if len == 0 && avail > 0 {
            if wnd_room == 0 && self.snd_una == self.snd_max && self.persist_at.is_none() {
                // RFC 9293 §3.8.6.1: probe a zero window.
                self.persist_at = Some(now + self.rtt.rto());
            }
            return None;
        }
        if len < max_payload && len < avail && !self.sws_override {
            // Sender SWS avoidance: a partial segment only if it is at least half the largest
            // window the peer offered, or when the override timeout (the persist timer)
            // fires with nothing in flight.
            if (len as u32) < self.max_snd_wnd / 2 {
                if self.snd_una == self.snd_max && self.persist_at.is_none() {
                    self.persist_at = Some(now + self.rtt.rto());
                }
                return None;
            }
        }
        self.sws_override = false;
        let all_queued = len == avail;
        if len > 0 && len < max_payload && all_queued && !self.fin_queued && !self.push_partial {
            if self.cfg.cork {
                // TCP_CORK: no partial segment until the ceiling.
                if self.cork_at.is_none() {
                    self.cork_at = Some(now + CORK_CEILING);
                }
                return None;
            }
            if !self.cfg.nodelay && self.snd_max.gt(self.snd_una) {
                // Nagle: one small segment outstanding at a time.
                return None;
            }
        }
        let seq = self.snd_nxt;
        let sent = self.transmit_range(now, out, &options, seq, len, false);
        if sent.is_some() && all_queued {
            self.cork_at = None;
            self.push_partial = false;
        }
        sent
    }

    /// RFC 8985 §7.3: the probe is a new segment if the peer's window takes one, otherwise
    /// the last segment sent again; either way it draws an ACK whose SACK information lets
    /// recovery repair a tail loss without waiting for the RTO.
    fn transmit_loss_probe(
        &mut self,
        now: Instant,
        out: &mut [u8],
        options: &TcpOptions,
        max_payload: usize,
    ) -> Option<Transmit> {
        if self.snd_una == self.snd_max || self.recovery != Recovery::None {
            return None;
        }
        self.counters.loss_probes += 1;
        let send_end = self.send_end();
        let avail = send_end.since(self.snd_max) as usize;
        let wnd_room = (self.snd_una + self.snd_wnd).since(self.snd_max) as usize;
        if self.snd_nxt == self.snd_max && avail > 0 && wnd_room > 0 {
            let len = avail.min(max_payload).min(wnd_room);
            return self.transmit_range(now, out, options, self.snd_max, len, false);
        }
        let data_end = self.snd_max.min(send_end);
        let len = (data_end.since(self.snd_una) as usize).min(max_payload);
        self.transmit_range(now, out, options, data_end - len as u32, len, true)
    }

    /// Arms the probe timeout (RFC 8985 §7.2): two smoothed RTTs, plus a worst-case
    /// delayed-ACK allowance when a single segment is out, and only if it comes before the
    /// RTO. Needs SACK to be of use, and one probe per tail.
    fn arm_loss_probe(&mut self, now: Instant) {
        self.tlp_at = None;
        let Some(srtt) = self.rtt.srtt() else { return };
        if !self.sack_ok
            || self.recovery != Recovery::None
            || self.tlp_outstanding
            || self.snd_una == self.snd_max
        {
            return;
        }
        let mut pto = (srtt * 2).max(Duration::from_millis(10));
        if self.snd_max.since(self.snd_una) <= self.smss() {
            pto += Duration::from_millis(200);
        }
        let at = now + pto;
        if self.rto_at.is_none_or(|rto| at < rto) {
            self.tlp_at = Some(at);
        }
    }

    /// Writes data `[seq, seq + len)` from the send ring, with FIN if it reaches a queued FIN.
    fn transmit_range(
        &mut self,
        now: Instant,
        out: &mut [u8],
        options: &TcpOptions,
        seq: SeqNum,
        len: usize,
        retransmission: bool,
    ) -> Option<Transmit> {
        let send_end = self.send_end();
        let mut flags = TcpFlags::ACK;
        let end = seq + len as u32;
        if self.fin_queued && end == send_end {
            flags |= TcpFlags::FIN;
        }
        if len > 0 && end == send_end {
            flags |= TcpFlags::PSH;
        }
        let header_len = HEADER_LEN + options.wire_len();
        let offset = seq.since(self.send_buf_seq) as usize;
        let body = out.get_mut(header_len..header_len + len)?;
        if self.send_buf.read_at(offset, body) != len {
            return None;
        }
        let window = self.window_to_advertise();
        let written =
            write_segment(out, self.local, self.remote, seq, self.rcv_nxt, flags, window, options, len)?;
        let seq_len = len as u32 + u32::from(flags.contains(TcpFlags::FIN));
        let next = seq + seq_len;
        let is_new = next.gt(self.snd_max);
        let retransmission = retransmission || !is_new;
        if seq == self.snd_nxt || next.gt(self.snd_nxt) && seq.le(self.snd_nxt) {
            self.snd_nxt = next;
        }
        if is_new {
            self.snd_max = next;
            if self.rtt_probe.is_none() {
                self.rtt_probe = Some((seq, next, now));
            }
        }
        if retransmission {
            // Karn's rule (RFC 6298 §3): no sample from a retransmitted segment, and no
            // timestamp sample echoing anything sent before it. Resending an older hole
            // leaves the timing of newer data alone.
            if self.rtt_probe.is_some_and(|(start, end, _)| seq.lt(end) && next.gt(start)) {
                self.rtt_probe = None;
            }
            self.ts_floor = self.ts_now(now);
        }
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        if is_new && !retransmission {
            self.arm_loss_probe(now);
        }
        if self.stalled_since.is_none() {
            self.stalled_since = Some(now);
        }
        self.persist_at = None;
        Some(self.sent(now, seq, flags, written, len, retransmission))
    }

    // ---------------------------------------------------------------- inputs

    /// Processes one received segment for this connection (RFC 9293 §3.10.7). `payload` is
    /// the segment's data. Invalid segments are dropped and counted, never a panic.
    pub fn handle_segment(&mut self, now: Instant, seg: &SegmentInfo, payload: &[u8]) {
        self.counters.in_segs += 1;
        self.segs_in += 1;
        if seg.has_impossible_flags() {
            self.counters.drop_bad_flags += 1;
            return;
        }
        match self.state {
            State::Closed => {
                self.counters.drop_closed += 1;
            }
            State::SynSent => self.handle_syn_sent(now, seg),
            State::TimeWait => self.handle_time_wait(now, seg, payload),
            _ => self.handle_synchronized(now, seg, payload),
        }
    }

    /// RFC 9293 §3.10.7.3.
    fn handle_syn_sent(&mut self, now: Instant, seg: &SegmentInfo) {
        let has_ack = seg.flags.contains(TcpFlags::ACK);
        if has_ack && (seg.ack.le(self.iss) || seg.ack.gt(self.snd_max)) {
            self.counters.drop_bad_ack += 1;
            if !seg.flags.contains(TcpFlags::RST) {
                self.pending_reset = Some(PendingReset { seq: seg.ack, ack: None });
            }
            return;
        }
        if seg.flags.contains(TcpFlags::RST) {
            if has_ack {
                self.counters.attempt_fails += 1;
                self.fail(SocketError::ConnectionRefused);
            } else {
                self.counters.drop_no_ack += 1;
            }
            return;
        }
        if !seg.flags.contains(TcpFlags::SYN) {
            self.counters.drop_no_ack += 1;
            return;
        }
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq + 1;
        self.rcv_adv = self.rcv_nxt;
        self.negotiate(now, &seg.options);
        if has_ack {
            self.snd_una = seg.ack;
            // RFC 7323 §2.2: the window of a SYN segment is never scaled.
            self.snd_wnd = u32::from(seg.window);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            self.establish(now);
            self.ack_now = true;
        } else {
            // Simultaneous open (RFC 9293 §3.5, figure 8).
            self.state = State::SynReceived;
            self.snd_wnd = u32::from(seg.window);
            self.snd_wl1 = seg.seq;
            self.syn_due = true;
        }
    }

    /// Takes the peer's SYN options (RFC 7323 §2.2 and §3.2, RFC 2018 §2, RFC 9293 §3.7.1).
    fn negotiate(&mut self, now: Instant, options: &TcpOptions) {
        if let (true, Some(shift)) = (self.cfg.window_scaling, options.window_scale_shift()) {
            self.snd_wscale = shift;
            self.window_scaling_ok = true;
        } else {
            self.snd_wscale = 0;
            self.rcv_wscale = 0;
            self.window_scaling_ok = false;
        }
        self.sack_ok = self.cfg.sack && options.sack_permitted;
        self.timestamps = match (self.cfg.timestamps, options.timestamp) {
            (true, Some(ts)) => Some(Timestamps { recent: ts.value, recent_at: now }),
            _ => None,
        };
        self.peer_mss =
            options.mss.map_or(default_mss(wire_version(self.local.addr)), |m| u32::from(m).max(64));
        self.update_mss();
        self.cc.reset(self.smss());
    }

    fn establish(&mut self, now: Instant) {
        self.state = State::Established;
        self.rto_at = None;
        self.retries = 0;
        self.stalled_since = None;
        if let (Some(sent), false) = (self.syn_sent_at, self.syn_retransmitted) {
            self.rtt.sample(now - sent);
        }
        self.arm_keepalive(now);
        self.push_event(Event::Connected);
        self.push_event(Event::Writable);
    }

    /// RFC 1337 and RFC 9293 §3.10.7.4 for TIME-WAIT.
    fn handle_time_wait(&mut self, now: Instant, seg: &SegmentInfo, payload: &[u8]) {
        if seg.flags.contains(TcpFlags::RST) {
            // RFC 1337 §3 (TW-hazard fix): a RST must not cut TIME-WAIT short.
            self.counters.time_wait_rst_ignored += 1;
            return;
        }
        if seg.flags.contains(TcpFlags::SYN) {
            // The stack decides on reuse with `time_wait_accepts_syn`; one arriving here is
            // answered with an ACK (RFC 5961 §4.2).
            self.challenge_ack(now);
            return;
        }
        if seg.flags.contains(TcpFlags::FIN) && (seg.seq + seg.seg_len(payload.len())) == self.rcv_nxt {
            // A retransmitted FIN: our ACK was lost. Acknowledge and restart 2*MSL.
            self.ack_now = true;
            self.time_wait_at = Some(now + self.cfg.msl * 2);
            return;
        }
        self.counters.drop_out_of_window += 1;
    }

    /// RFC 9293 §3.10.7.4 "Otherwise" for SYN-RECEIVED and the synchronized states.
    fn handle_synchronized(&mut self, now: Instant, seg: &SegmentInfo, payload: &[u8]) {
        let rst = seg.flags.contains(TcpFlags::RST);
        let seg_len = seg.seg_len(payload.len());

        // RFC 7323 §5.3 R1: PAWS.
        if let (Some(ts), Some(theirs)) = (self.timestamps, seg.options.timestamp) {
            if !rst && (theirs.value.wrapping_sub(ts.recent) as i32) < 0 {
                if now - ts.recent_at > PAWS_IDLE {
                    // §5.5: TS.Recent is too old to compare with.
                    self.timestamps = Some(Timestamps { recent: theirs.value, recent_at: now });
                } else {
                    self.counters.paws_estab_rejected += 1;
                    self.ack_now = true;
                    return;
                }
            }
        }

        // The peer retransmitted its SYN: our SYN-ACK was lost, send it again. (The SYN lies
        // below RCV.NXT, so the acceptability test would only draw an ACK.)
        if self.state == State::SynReceived
            && seg.flags.contains(TcpFlags::SYN)
            && !seg.flags.contains(TcpFlags::ACK)
            && seg.seq == self.irs
        {
            self.syn_due = true;
            return;
        }

        // Step 1: sequence number acceptability.
        if !self.acceptable(seg.seq, seg_len) {
            self.counters.drop_out_of_window += 1;
            if !rst {
                self.ack_now = true;
            }
            return;
        }
        self.note_peer_alive(now);

        // RFC 7323 §4.3 R3: remember the newest timestamp of in-sequence segments.
        if let (Some(ts), Some(theirs)) = (self.timestamps.as_mut(), seg.options.timestamp) {
            if (theirs.value.wrapping_sub(ts.recent) as i32) >= 0 && seg.seq.le(self.last_ack_sent) {
                ts.recent = theirs.value;
                ts.recent_at = now;
            }
        }

        // Step 2: RST (RFC 5961 §3.2).
        if rst {
            if seg.seq == self.rcv_nxt {
                self.handle_reset();
            } else {
                self.challenge_ack(now);
            }
            return;
        }

        // Step 4: SYN (RFC 5961 §4.2).
        if seg.flags.contains(TcpFlags::SYN) {
            self.challenge_ack(now);
            return;
        }

        // Step 5: ACK.
        if !seg.flags.contains(TcpFlags::ACK) {
            self.counters.drop_no_ack += 1;
            return;
        }
        if self.state == State::SynReceived {
            if seg.ack.gt(self.snd_una) && seg.ack.le(self.snd_max) {
                self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
                self.max_snd_wnd = self.snd_wnd;
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = seg.ack;
                self.establish(now);
                if self.fin_queued {
                    self.state = State::FinWait1;
                }
            } else {
                self.counters.drop_bad_ack += 1;
                self.pending_reset = Some(PendingReset { seq: seg.ack, ack: None });
                return;
            }
        }
        if !self.handle_ack(now, seg, payload.len()) {
            return;
        }
        if self.state == State::Closed {
            return;
        }

        // Steps 7 and 8: data and FIN.
        self.handle_data(now, seg, payload);
    }

    fn note_peer_alive(&mut self, now: Instant) {
        self.last_recv_at = now;
        self.keepalive_probes = 0;
        self.arm_keepalive(now);
    }

    /// RFC 9293 §3.10.7.4's acceptability table.
    fn acceptable(&self, seq: SeqNum, seg_len: u32) -> bool {
        let wnd = self.rcv_adv.since(self.rcv_nxt);
        let end = self.rcv_nxt + wnd;
        match (seg_len, wnd) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => seq.in_range(self.rcv_nxt, end),
            // A zero window still takes the ACK and RST of a segment at RCV.NXT; its data is
            // dropped for lack of room.
            (_, 0) => seq == self.rcv_nxt,
            (len, _) => seq.in_range(self.rcv_nxt, end) || (seq + len - 1).in_range(self.rcv_nxt, end),
        }
    }

    fn handle_reset(&mut self) {
        match self.state {
            State::SynReceived => {
                self.counters.attempt_fails += 1;
                if self.passive {
                    self.enter_closed();
                } else {
                    self.fail(SocketError::ConnectionRefused);
                }
            }
            State::Established | State::CloseWait => {
                self.counters.estab_resets += 1;
                self.fail(SocketError::ConnectionReset);
            }
            State::FinWait1 | State::FinWait2 => self.fail(SocketError::ConnectionReset),
            _ => self.enter_closed(),
        }
    }

    /// A challenge ACK (RFC 5961 §3.2, §4.2, §5.2), at most `challenge_ack_limit` a second.
    fn challenge_ack(&mut self, now: Instant) {
        if now - self.challenge_window_start >= Duration::from_secs(1) {
            self.challenge_window_start = now;
            self.challenge_tokens = self.cfg.challenge_ack_limit;
        }
        if self.challenge_tokens == 0 {
            self.counters.challenge_acks_skipped += 1;
            return;
        }
        self.challenge_tokens -= 1;
        self.counters.challenge_acks += 1;
        self.ack_now = true;
    }

    /// Step 5 of RFC 9293 §3.10.7.4 with RFC 5961 §5, RFC 6298, RFC 5681, RFC 6582 and
    /// RFC 6675. Returns false if the segment is to be dropped.
    fn handle_ack(&mut self, now: Instant, seg: &SegmentInfo, payload_len: usize) -> bool {
        let ack = seg.ack;
        // RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.MAX].
        if ack.gt(self.snd_max) {
            self.counters.drop_bad_ack += 1;
            self.ack_now = true;
            return false;
        }
        if ack.lt(self.snd_una - self.max_snd_wnd.max(1)) {
            self.counters.drop_bad_ack += 1;
            self.challenge_ack(now);
            return false;
        }
        let prior_flight = self.snd_max.since(self.snd_una);
        // RFC 7323 §2.2: the window of a SYN segment is never scaled.
        let shift = if seg.flags.contains(TcpFlags::SYN) { 0 } else { self.snd_wscale };
        let window = u32::from(seg.window) << shift;
        let window_changed = window != self.snd_wnd;
        let mut newly_sacked = 0;
        if self.sack_ok && !seg.options.sack_blocks.is_empty() {
            newly_sacked = self
                .scoreboard
                .update(self.snd_una, self.snd_max, seg.options.sack_blocks.as_slice())
                .newly_sacked;
            // The timed segment SACKed: a valid sample even while a hole below it waits for
            // its retransmission (Linux's SACK RTT); without it, a connection losing
            // retransmissions would never end its RTO backoff (RFC 6298 §5.7).
            if let Some((start, end, at)) = self.rtt_probe {
                if newly_sacked > 0 && self.scoreboard.sacked_end(start).is_some_and(|e| e.ge(end)) {
                    self.rtt.sample(now - at);
                    self.rtt_probe = None;
                }
            }
        }

        if ack.gt(self.snd_una) {
            self.on_new_ack(now, seg, prior_flight);
        } else if ack == self.snd_una && self.snd_max.gt(self.snd_una) {
            // RFC 5681 §2's duplicate ACK (or, with SACK, one bringing new SACK information,
            // RFC 6675 §5).
            let pure = payload_len == 0 && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN);
            if pure && (!window_changed || newly_sacked > 0) {
                self.dupacks += 1;
                self.on_duplicate_ack(now, prior_flight);
            }
        }

        // RFC 9293 §3.10.7.4: update the send window from newer segments only.
        if self.snd_wl1.lt(seg.seq) || (self.snd_wl1 == seg.seq && self.snd_wl2.le(ack)) {
            self.snd_wnd = window;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = ack;
            if window > 0 {
                self.persist_at = None;
                self.persist_backoff = 0;
            }
        }
        true
    }

    fn on_new_ack(&mut self, now: Instant, seg: &SegmentInfo, prior_flight: u32) {
        let ack = seg.ack;
        let send_end = self.send_end();
        // Data bytes acknowledged: the part of [SND.UNA, ack) inside the send ring.
        let data_acked =
            if ack.gt(self.send_buf_seq) { ack.min(send_end).since(self.send_buf_seq) as usize } else { 0 };
        self.send_buf.consume(data_acked);
        self.send_buf_seq += data_acked as u32;
        let acked = ack.since(self.snd_una);
        self.bytes_acked += data_acked as u64;
        self.snd_una = ack;
        if self.snd_nxt.lt(ack) {
            self.snd_nxt = ack;
        }
        if self.high_rxt.lt(ack) {
            self.high_rxt = ack;
        }
        self.scoreboard.ack(ack);
        self.retries = 0;
        self.stalled_since = (self.snd_una != self.snd_max).then_some(now);
        self.dupacks = 0;
        if data_acked > 0 {
            self.push_event(Event::Writable);
        }

        // RTT sample: the timed segment (RFC 6298 §3, Karn's rule) when it is acknowledged,
        // otherwise the echoed timestamp (RFC 7323 §4). An echo older than the last
        // retransmission is refused: after lost ACKs, the peer answers retransmitted data
        // it already had with the TS.Recent of long ago (RFC 7323 §4.3 keeps it), and such
        // an ACK can still advance SND.UNA, which would make a sample of seconds.
        if let Some((_, _, at)) = self.rtt_probe.filter(|(_, end, _)| ack.ge(*end)) {
            self.rtt.sample(now - at);
            self.rtt_probe = None;
        } else if let (Some(_), Some(theirs)) = (self.timestamps, seg.options.timestamp) {
            let fresh = (theirs.echo_reply.wrapping_sub(self.ts_floor) as i32) >= 0;
            if theirs.echo_reply != 0 && fresh {
                let ms = self.ts_now(now).wrapping_sub(theirs.echo_reply);
                if ms < 60_000 {
                    self.rtt.sample(Duration::from_millis(u64::from(ms)));
                }
            }
        }

        let srtt = self.rtt.srtt().unwrap_or(Duration::from_millis(100));
        match self.recovery {
            Recovery::Fast { recover } => {
                if ack.ge(recover) {
                    // RFC 6582 §3.2 step 3 / RFC 6675 §5: full ACK, recovery ends.
                    self.recovery = Recovery::None;
                    self.cc.on_recovery_end(now);
                } else if !self.sack_ok {
                    // RFC 6582 §3.2 step 5: a partial ACK resends the next hole at once.
                    self.retransmit_head = true;
                }
            }
            Recovery::Rto { recover } => {
                self.cc.on_ack(now, acked, prior_flight, srtt);
                if ack.ge(recover) {
                    self.recovery = Recovery::None;
                }
            }
            Recovery::None => self.cc.on_ack(now, acked, prior_flight, srtt),
        }

        // RFC 6298 §5.2 and §5.3.
        self.rto_at = (self.snd_una != self.snd_max).then(|| now + self.rtt.rto());
        self.tlp_outstanding = false;
        self.arm_loss_probe(now);

        // Our FIN acknowledged?
        if self.fin_queued && self.snd_una == send_end + 1 {
            match self.state {
                State::FinWait1 => {
                    self.state = State::FinWait2;
                    if self.orphaned {
                        match self.cfg.fin_timeout {
                            Some(timeout) => self.fin_wait2_at = Some(now + timeout),
                            None => self.enter_closed(),
                        }
                    }
                }
                State::Closing => self.enter_time_wait(now),
                State::LastAck => self.enter_closed(),
                _ => {}
            }
        }
    }

    fn on_duplicate_ack(&mut self, now: Instant, prior_flight: u32) {
        if self.recovery != Recovery::None {
            return;
        }
        let lost = self.sack_ok && self.scoreboard.is_lost(self.snd_una, self.smss());
        if self.dupacks < super::sack::DUP_THRESH && !lost {
            return;
        }
        // RFC 6582 §3.2 step 1: one reduction per window of data.
        if self.recover.is_some_and(|r| self.snd_una.lt(r)) {
            return;
        }
        let recover = self.snd_max;
        self.recover = Some(recover);
        self.recovery = Recovery::Fast { recover };
        self.tlp_at = None;
        self.cc.on_congestion_event(now, prior_flight);
        self.high_rxt = self.snd_una;
        self.retransmit_head = true;
        self.recoveries += 1;
        self.counters.fast_retrans += 1;
        if self.sack_ok {
            self.counters.sack_recovery += 1;
        } else {
            self.counters.reno_recovery += 1;
        }
    }

    /// Steps 7 and 8 of RFC 9293 §3.10.7.4: queue the data, then the FIN.
    fn handle_data(&mut self, now: Instant, seg: &SegmentInfo, payload: &[u8]) {
        let mut fin_seq = None;
        if seg.flags.contains(TcpFlags::FIN) {
            fin_seq = Some(seg.seq + payload.len() as u32);
        }
        if !payload.is_empty() {
            if !self.state.can_receive() {
                // Data after the peer's FIN is a protocol error the RFC says to ignore.
                self.counters.drop_out_of_window += 1;
                return;
            }
            let new_data = (seg.seq + payload.len() as u32).gt(self.rcv_nxt);
            // Nobody will read it: the socket was closed, or shut down in both directions
            // (Linux's tcp_rcv_state_process checks RCV_SHUTDOWN in FIN-WAIT-1/2).
            let unreadable = self.orphaned
                || (self.read_shutdown && matches!(self.state, State::FinWait1 | State::FinWait2));
            if unreadable && new_data {
                // New data nobody will read: reset, as Linux does (TCPAbortOnData). A
                // retransmission of data already received is only acknowledged. A socket
                // still open learns ECONNRESET, as Linux's tcp_reset reports it.
                self.counters.abort_on_data += 1;
                self.abort();
                if !self.orphaned {
                    self.error = Some(SocketError::ConnectionReset);
                    self.push_event(Event::Error);
                }
                return;
            }
            let skip = self.rcv_nxt.since(seg.seq) as usize;
            if skip >= payload.len() {
                // Entirely old data: the peer missed our ACK (RFC 5681 §4.2 acks at once).
                self.ack_now = true;
            } else {
                let data = &payload[skip..];
                let offset = seg.seq.max(self.rcv_nxt).since(self.rcv_nxt) as usize;
                let had_holes = !self.recv_buf.reassembly().ranges().is_empty();
                let outcome = self.recv_buf.write_at(offset, data);
                if outcome.dropped {
                    if outcome.out_of_order {
                        self.counters.ofo_drop += 1;
                    } else {
                        self.counters.drop_no_buffer += 1;
                    }
                    self.ack_now = true;
                }
                if outcome.out_of_order && !outcome.dropped {
                    self.counters.ofo_queue += 1;
                    // RFC 5681 §4.2: an out-of-order segment is acknowledged at once.
                    self.ack_now = true;
                }
                if outcome.advanced > 0 {
                    self.last_data_at = Some(now);
                    if (data.len() as u32) < self.rcv_mss() {
                        self.ack_pushed = true;
                    }
                    self.rcv_nxt += outcome.advanced as u32;
                    self.bytes_received += outcome.advanced as u64;
                    self.autotune_recv_buffer(now);
                    if !self.read_shutdown {
                        self.push_event(Event::Readable);
                    } else {
                        let mut sink = [0u8; 256];
                        while self.recv_buf.read(&mut sink) > 0 {}
                    }
                    if had_holes {
                        // RFC 5681 §4.2: filling a hole is acknowledged at once.
                        self.ack_now = true;
                    } else {
                        // RFC 1122 §4.2.3.2 / RFC 5681 §4.2: at least every second full
                        // segment, otherwise within the delayed-ACK timeout.
                        self.segs_unacked += 1;
                        let quick = self.quick_acks > 0 && !self.interactive;
                        if quick {
                            self.quick_acks -= 1;
                        }
                        if self.segs_unacked >= 2 || quick {
                            self.ack_now = true;
                        } else if self.delack_at.is_none() {
                            self.delack_at = Some(now + self.cfg.delayed_ack);
                        }
                    }
                }
            }
        }
        if let Some(fin) = fin_seq {
            if fin.gt(self.rcv_nxt) {
                self.pending_fin = Some(fin);
                self.ack_now = true;
            } else if fin == self.rcv_nxt {
                self.pending_fin = Some(fin);
            }
        }
        if let Some(fin) = self.pending_fin {
            if fin == self.rcv_nxt && !self.fin_received {
                self.pending_fin = None;
                self.receive_fin(now);
            }
        }
    }

    /// Receive-buffer auto-tuning, after Linux's dynamic right-sizing: once per RTT, if the
    /// application read more than half the buffer during the last RTT, the window may be
    /// what limits the sender, so the ring doubles (up to `recv_buffer_max`). An
    /// application that does not read never grows its buffer.
    fn autotune_recv_buffer(&mut self, now: Instant) {
        if !self.cfg.recv_autotune {
            return;
        }
        let rtt = self.rtt.srtt().unwrap_or(Duration::from_millis(100));
        if now - self.rcv_space_mark < rtt {
            return;
        }
        let capacity = self.recv_buf.capacity();
        let wanted = usize::try_from(self.rcv_space_bytes * 2).unwrap_or(usize::MAX);
        if wanted > capacity && capacity < self.cfg.recv_buffer_max {
            let grown = (capacity * 2).min(self.cfg.recv_buffer_max);
            self.recv_buf.grow(grown);
            self.cfg.recv_buffer = grown;
        }
        self.rcv_space_mark = now;
        self.rcv_space_bytes = 0;
    }

    fn receive_fin(&mut self, now: Instant) {
        self.rcv_nxt += 1;
        self.fin_received = true;
        self.ack_now = true;
        self.push_event(Event::ReadClosed);
        self.push_event(Event::Readable);
        match self.state {
            State::SynReceived | State::Established => self.state = State::CloseWait,
            State::FinWait1 => {
                if self.fin_queued && self.snd_una == self.send_end() + 1 {
                    self.enter_time_wait(now);
                } else {
                    // Simultaneous close (RFC 9293 §3.6, figure 13).
                    self.state = State::Closing;
                }
            }
            State::FinWait2 => self.enter_time_wait(now),
            _ => {}
        }
    }

    fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.counters.time_wait += 1;
        // Everything sent is acknowledged: a TIME-WAIT connection keeps no send ring (and
        // no receive ring once read), so lingering connections cost little memory.
        self.send_buf.release_if_empty();
        self.recv_buf.release_if_empty();
        self.scoreboard.clear();
        self.tlp_at = None;
        self.time_wait_at = Some(now + self.cfg.msl * 2);
        self.rto_at = None;
        self.persist_at = None;
        self.keepalive_at = None;
        self.fin_wait2_at = None;
        self.delack_at = None;
    }

    fn enter_closed(&mut self) {
        self.send_buf.release_if_empty();
        self.recv_buf.release_if_empty();
        self.tlp_at = None;
        if self.state != State::Closed {
            self.state = State::Closed;
            self.push_event(Event::Closed);
        }
        self.rto_at = None;
        self.delack_at = None;
        self.keepalive_at = None;
        self.persist_at = None;
        self.time_wait_at = None;
        self.fin_wait2_at = None;
        self.ack_now = false;
        self.probe_due = false;
        self.syn_due = false;
    }

    fn fail(&mut self, error: SocketError) {
        self.error = Some(error);
        self.push_event(Event::Error);
        self.enter_closed();
    }

    /// After the application read: a delayed ACK goes out now if more than a full segment
    /// waits for it, or if the read emptied the queue of bulk data that ended in a short
    /// segment. Without this, a window of about one segment stalls: the sender's Nagle test
    /// holds its next short segment for this ACK, which would wait for the delayed-ACK
    /// timer (Linux's `tcp_cleanup_rbuf` does the same; request/response traffic keeps
    /// its ACKs delayed so that they ride on the response).
    fn ack_on_drain(&mut self) {
        if self.delack_at.is_none() {
            return;
        }
        let full = self.rcv_nxt.since(self.last_ack_sent) > self.rcv_mss();
        let drained = self.recv_buf.is_empty() && self.ack_pushed && !self.interactive;
        if full || drained {
            self.ack_now = true;
        }
    }

    /// The payload of a full-sized segment from the peer: our advertised MSS less the
    /// timestamp option when it is in use.
    fn rcv_mss(&self) -> u32 {
        let ts = if self.timestamps.is_some() { TIMESTAMP_OPTION_LEN } else { 0 };
        self.advertised_mss().saturating_sub(ts).max(1)
    }

    /// After the application read: send a window update if the window grew enough
    /// (RFC 9293 §3.8.6.2.2; RFC 1122 §4.2.3.3).
    fn maybe_window_update(&mut self) {
        if !self.state.can_receive() {
            return;
        }
        let free = self.recv_buf.free() as u32;
        let current = self.rcv_adv.since(self.rcv_nxt);
        let threshold = (self.recv_buf.capacity() as u32 / 2).min(self.advertised_mss());
        if free >= current.saturating_add(threshold) && (current < threshold || free >= 2 * current) {
            self.ack_now = true;
        }
    }

    fn arm_keepalive(&mut self, now: Instant) {
        self.keepalive_at = (self.cfg.keepalive
            && matches!(self.state, State::Established | State::CloseWait))
        .then(|| now + self.cfg.keep_idle);
    }

    /// Fires the timers that are due (RFC 6298 §5.4-5.6, RFC 1122 §4.2.3.6, RFC 9293
    /// §3.8.6.1 and §3.6.1).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.time_wait_at.is_some_and(|t| t <= now) || self.fin_wait2_at.is_some_and(|t| t <= now) {
            self.enter_closed();
            return;
        }
        if self.tlp_at.is_some_and(|t| t <= now) {
            self.tlp_at = None;
            self.tlp_due = true;
            self.tlp_outstanding = true;
        }
        if self.cork_at.is_some_and(|t| t <= now) {
            self.cork_at = None;
            self.push_partial = true;
        }
        if self.delack_at.is_some_and(|t| t <= now) {
            self.delack_at = None;
            self.ack_now = true;
            self.counters.delayed_acks += 1;
            // No data came to carry the ACK in time: not request/response after all.
            self.interactive = false;
        }
        if self.rto_at.is_some_and(|t| t <= now) {
            self.on_rto(now);
            if self.state == State::Closed {
                return;
            }
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            if self.snd_una + self.snd_wnd != self.snd_nxt && self.snd_wnd > 0 {
                // A small window is open: the override timeout of RFC 9293 §3.8.6.2.1.
                self.persist_at = None;
                self.sws_override = true;
                return;
            }
            self.persist_backoff += 1;
            if self.persist_backoff > self.cfg.retries {
                self.counters.abort_on_timeout += 1;
                self.fail(self.soft_error.unwrap_or(SocketError::TimedOut));
                return;
            }
            self.probe_due = true;
            self.counters.win_probe += 1;
            let interval =
                self.rtt.rto().saturating_mul(1 << self.persist_backoff.min(10)).min(self.cfg.max_rto);
            self.persist_at = Some(now + interval);
        }
        if self.keepalive_at.is_some_and(|t| t <= now) {
            if self.snd_una != self.snd_max {
                // Data outstanding: the retransmission timer watches the peer.
                self.keepalive_at = Some(now + self.cfg.keep_interval);
            } else if self.keepalive_probes >= self.cfg.keep_count {
                self.counters.abort_on_timeout += 1;
                self.fail(self.soft_error.unwrap_or(SocketError::TimedOut));
            } else {
                self.keepalive_probes += 1;
                self.probe_due = true;
                self.counters.keepalive_probes += 1;
                self.keepalive_at = Some(now + self.cfg.keep_interval);
            }
        }
    }

    fn on_rto(&mut self, now: Instant) {
        self.rto_at = None;
        self.tlp_at = None;
        self.tlp_due = false;
        let gave_up_by_time = match (self.cfg.user_timeout, self.stalled_since) {
            (Some(limit), Some(since)) => now - since >= limit,
            _ => false,
        };
        match self.state {
            State::SynSent | State::SynReceived => {
                self.retries += 1;
                if self.retries > self.cfg.syn_retries || gave_up_by_time {
                    self.counters.attempt_fails += 1;
                    if self.passive {
                        self.enter_closed();
                    } else {
                        self.fail(self.soft_error.unwrap_or(SocketError::TimedOut));
                    }
                    return;
                }
                self.rtt.back_off();
                self.syn_due = true;
                self.rto_at = Some(now + self.rtt.rto());
            }
            _ => {
                if self.snd_una == self.snd_max {
                    return;
                }
                // A peer that closed its window but keeps answering is alive: like a persist
                // probe, this expiry does not count toward giving up.
                let window_closed_but_alive =
                    self.snd_wnd == 0 && now - self.last_recv_at < self.rtt.rto().saturating_mul(2);
                if !window_closed_but_alive {
                    self.retries += 1;
                }
                if self.retries > self.cfg.retries || gave_up_by_time {
                    self.counters.abort_on_timeout += 1;
                    self.fail(self.soft_error.unwrap_or(SocketError::TimedOut));
                    return;
                }
                self.counters.timeouts += 1;
                self.counters.slow_start_retrans += 1;
                // RFC 5681 §3.1, RFC 6298 §5.5-5.6, RFC 6582 §4 (recover = highest sent).
                self.cc.on_rto(now, self.snd_max.since(self.snd_una), self.retries <= 1);
                self.rtt.back_off();
                self.recovery = Recovery::Rto { recover: self.snd_max };
                self.recover = Some(self.snd_max);
                self.snd_nxt = self.snd_una;
                self.high_rxt = self.snd_una;
                self.dupacks = 0;
                self.retransmit_head = false;
                self.rtt_probe = None;
                self.rto_at = Some(now + self.rtt.rto());
            }
        }
    }

    /// Applies an ICMP error about a segment this connection sent whose sequence number was
    /// `quoted_seq` (RFC 5927): ignored unless that number is outstanding (RFC 5927 §4.1);
    /// a smaller path MTU shrinks the MSS and resends at once (RFC 1191 §6, RFC 8201 §4);
    /// any other error aborts a connection still opening, soft ones too, as Linux's
    /// `tcp_v4_err`/`tcp_v6_err` do (so a connect to an unreachable host fails at once with
    /// EHOSTUNREACH); on a synchronized connection errors are soft, reported if the
    /// connection later times out (RFC 1122 §4.2.3.9).
    pub fn handle_icmp_error(&mut self, now: Instant, report: &IcmpErrorReport, quoted_seq: u32) {
        let seq = SeqNum(quoted_seq);
        let outstanding =
            seq.in_range(self.snd_una, self.snd_max) || (self.snd_una == self.snd_max && seq == self.snd_una);
        if !outstanding {
            self.counters.icmp_out_of_window += 1;
            return;
        }
        if let Some(mtu) = report.mtu {
            self.set_path_mtu(now, mtu);
            return;
        }
        match self.state {
            State::SynSent | State::SynReceived => {
                self.counters.attempt_fails += 1;
                self.fail(report.error);
            }
            _ => self.soft_error = Some(report.error),
        }
    }

    /// A new path MTU for this connection's route (RFC 1191 §6, RFC 8201 §4): the MSS
    /// follows, and a drop resends the outstanding data in smaller segments without
    /// counting it as congestion.
    pub fn set_path_mtu(&mut self, _now: Instant, mtu: u32) {
        let mtu = mtu.max(min_pmtu(wire_version(self.local.addr)));
        if mtu == self.pmtu {
            return;
        }
        let old = self.mss_base;
        self.pmtu = mtu;
        self.update_mss();
        self.cc.set_mss(self.smss());
        if self.mss_base < old {
            self.counters.pmtu_changes += 1;
            if self.snd_una != self.snd_max && self.state.is_synchronized() {
                self.snd_nxt = self.snd_una;
                self.rtt_probe = None;
                if self.recovery == Recovery::None {
                    self.recovery = Recovery::Rto { recover: self.snd_max };
                }
            }
        }
    }
}
