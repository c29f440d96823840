//! A TCP_INFO-like snapshot of one socket (Linux's `struct tcp_info`, the fields that mean
//! something here). Linux answers TCP_INFO in every state: a socket without a connection
//! reports its state (CLOSED, or LISTEN with the listener's queues) and the values a new
//! connection would start from.

use core::time::Duration;

use super::connection::TcpConfig;
use super::rtt::INITIAL_RTO;
use super::state::State;

/// What `getsockopt(TCP_INFO)` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    /// The state.
    pub state: State,
    /// Smoothed RTT (zero before the first sample).
    pub rtt: Duration,
    /// RTT variance.
    pub rttvar: Duration,
    /// Minimum RTT seen.
    pub min_rtt: Duration,
    /// Current retransmission timeout.
    pub rto: Duration,
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow-start threshold, bytes (`u32::MAX` while unset).
    pub ssthresh: u32,
    /// Sender MSS, bytes of payload per segment.
    pub snd_mss: u32,
    /// MSS we advertised.
    pub rcv_mss: u32,
    /// The path MTU in use.
    pub pmtu: u32,
    /// The peer's window, bytes (scaled).
    pub snd_wnd: u32,
    /// The window we advertise, bytes.
    pub rcv_wnd: u32,
    /// The receive buffer's current size (grows with auto-tuning).
    pub rcv_space: u32,
    /// Our window shift and the peer's (RFC 7323), if negotiated.
    pub wscale: Option<(u8, u8)>,
    /// Whether timestamps are in use.
    pub timestamps: bool,
    /// Whether SACK is in use.
    pub sack: bool,
    /// Consecutive retransmission timeouts of the current segment.
    pub backoff: u32,
    /// Retransmitted segments, in total.
    pub total_retrans: u64,
    /// Bytes sent, retransmissions included.
    pub bytes_sent: u64,
    /// Bytes retransmitted.
    pub bytes_retrans: u64,
    /// Bytes acknowledged by the peer.
    pub bytes_acked: u64,
    /// Bytes received in order.
    pub bytes_received: u64,
    /// Segments sent.
    pub segs_out: u64,
    /// Segments received.
    pub segs_in: u64,
    /// Segments currently believed lost (RFC 6675 IsLost).
    pub lost: u32,
    /// Bytes currently SACKed by the peer.
    pub sacked: u32,
    /// Loss recoveries entered by fast retransmit (SACK or NewReno).
    pub recoveries: u32,
    /// The congestion control algorithm.
    pub congestion: &'static str,
    /// Connections waiting for accept, for a listener (0 otherwise): what Linux reports in
    /// a listener's `tcpi_unacked`.
    pub accept_queue: u32,
    /// The listen backlog, for a listener (0 otherwise): what Linux reports in a listener's
    /// `tcpi_sacked`.
    pub backlog: u32,
}

/// The MSS a socket reports before it has a connection (Linux's `TCP_MSS_DEFAULT`, RFC 9293
/// §3.7.1's IPv4 default).
const DEFAULT_MSS: u32 = 536;

/// Linux's `TCP_INFINITE_SSTHRESH`: what `tcpi_snd_ssthresh` says before a loss set one.
pub const LINUX_INFINITE_SSTHRESH: u32 = 0x7fff_ffff;

impl TcpInfo {
    /// `tcpi_snd_cwnd`: the congestion window in segments of `snd_mss`, Linux's unit.
    pub fn cwnd_segments(&self) -> u32 {
        self.cwnd / self.snd_mss.max(1)
    }

    /// `tcpi_snd_ssthresh`: the slow-start threshold in segments, or
    /// [`LINUX_INFINITE_SSTHRESH`] before anything set it.
    pub fn ssthresh_segments(&self) -> u32 {
        if self.ssthresh == u32::MAX {
            LINUX_INFINITE_SSTHRESH
        } else {
            self.ssthresh / self.snd_mss.max(1)
        }
    }

    /// What a socket without a connection reports: `state` (CLOSED or LISTEN), the initial
    /// RTO (RFC 6298 §2.1), the default MSS, no slow-start threshold yet, `cfg`'s receive
    /// buffer and congestion control, and nothing counted.
    pub fn without_connection(state: State, cfg: &TcpConfig) -> Self {
        TcpInfo {
            state,
            rtt: Duration::ZERO,
            rttvar: Duration::ZERO,
            min_rtt: Duration::ZERO,
            rto: INITIAL_RTO,
            cwnd: 0,
            ssthresh: u32::MAX,
            snd_mss: DEFAULT_MSS,
            rcv_mss: DEFAULT_MSS,
            pmtu: 0,
            snd_wnd: 0,
            rcv_wnd: 0,
            rcv_space: u32::try_from(cfg.recv_buffer).unwrap_or(u32::MAX),
            wscale: None,
            timestamps: false,
            sack: false,
            backoff: 0,
            total_retrans: 0,
            bytes_sent: 0,
            bytes_retrans: 0,
            bytes_acked: 0,
            bytes_received: 0,
            segs_out: 0,
            segs_in: 0,
            lost: 0,
            sacked: 0,
            recoveries: 0,
            congestion: cfg.congestion.name(),
            accept_queue: 0,
            backlog: 0,
        }
    }
}
