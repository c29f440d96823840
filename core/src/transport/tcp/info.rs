//! A TCP_INFO-like snapshot of one connection (Linux's `struct tcp_info`, the fields that
//! mean something here).

use core::time::Duration;

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
}
