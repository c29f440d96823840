//! Pluggable congestion control: the [`CongestionControl`] trait the connection drives, and
//! its two implementations, [`NewReno`] (RFC 5681 with RFC 3465 byte counting; the recovery
//! part of RFC 6582 lives in the connection) and [`Cubic`] (RFC 9438, the default, as in
//! Linux).
//!
//! The connection owns loss detection and recovery; an algorithm only decides the window:
//! how it grows on new acknowledgments and how it shrinks on a congestion event or an RTO.

mod cubic;
mod newreno;

use alloc::boxed::Box;
use core::fmt::Debug;
use core::time::Duration;

pub use cubic::Cubic;
pub use newreno::NewReno;

use crate::time::Instant;

/// The initial window: 10 segments (RFC 6928 §2, Linux's TCP_INIT_CWND), capped by bytes.
pub fn initial_window(mss: u32) -> u32 {
    (10 * mss).min(14_600.max(2 * mss))
}

/// Slow start with appropriate byte counting (RFC 5681 §3.1, RFC 3465 §2.2): the window
/// grows by the bytes acknowledged, at most L = 2 segments per ACK.
fn slow_start(cwnd: u32, acked: u32, mss: u32) -> u32 {
    /// RFC 3465 §2.2's limit L, in segments.
    const ABC_LIMIT: u32 = 2;
    cwnd.saturating_add(acked.min(ABC_LIMIT * mss))
}

/// Which algorithm a connection uses (Linux's TCP_CONGESTION).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CongestionAlgorithm {
    /// RFC 5681 / RFC 6582.
    NewReno,
    /// RFC 9438, the default.
    #[default]
    Cubic,
}

impl CongestionAlgorithm {
    /// The algorithm's name as Linux spells it (TCP_CONGESTION), as its instances report it.
    pub const fn name(self) -> &'static str {
        match self {
            CongestionAlgorithm::NewReno => "reno",
            CongestionAlgorithm::Cubic => "cubic",
        }
    }

    /// A fresh instance for a connection whose sender MSS is `mss`.
    pub fn build(self, mss: u32) -> Box<dyn CongestionControl> {
        match self {
            CongestionAlgorithm::NewReno => Box::new(NewReno::new(mss)),
            CongestionAlgorithm::Cubic => Box::new(Cubic::new(mss)),
        }
    }
}

/// A congestion window policy.
pub trait CongestionControl: Debug + Send {
    /// The algorithm's name as Linux spells it ("reno", "cubic").
    fn name(&self) -> &'static str;

    /// The congestion window, in bytes.
    fn window(&self) -> u32;

    /// The slow-start threshold, in bytes.
    fn ssthresh(&self) -> u32;

    /// `acked` new bytes were acknowledged outside loss recovery; `flight` bytes were
    /// outstanding before the ACK and `rtt` is the current smoothed RTT.
    fn on_ack(&mut self, now: Instant, acked: u32, flight: u32, rtt: Duration);

    /// Loss was detected by duplicate ACKs or SACK (RFC 5681 §3.2 step 2): set ssthresh and
    /// bring the window down to it for the recovery.
    fn on_congestion_event(&mut self, now: Instant, flight: u32);

    /// The retransmission timer expired (RFC 5681 §3.1, equation 4): set ssthresh unless the
    /// loss is a repeat of one already reacted to, and restart from one segment.
    fn on_rto(&mut self, now: Instant, flight: u32, first_expiry: bool);

    /// Loss recovery ended with a full acknowledgment (RFC 6582 §3.2 step 3).
    fn on_recovery_end(&mut self, now: Instant);

    /// The sender MSS changed (path MTU).
    fn set_mss(&mut self, mss: u32);

    /// Starts over as a fresh instance for a sender MSS of `mss` (the handshake settled the
    /// MSS), without allocating a new one.
    fn reset(&mut self, mss: u32);

    /// Restarts from the initial window after an idle period longer than an RTO
    /// (RFC 5681 §4.1).
    fn on_idle_restart(&mut self);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6928_2_initial_window_is_ten_segments_or_14600_bytes() {
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(1000), 10_000);
        assert_eq!(initial_window(9000), 18_000);
        assert_eq!(CongestionAlgorithm::default().build(1460).name(), "cubic");
    }

    #[test]
    fn an_algorithm_is_named_as_its_instances() {
        for algorithm in [CongestionAlgorithm::NewReno, CongestionAlgorithm::Cubic] {
            assert_eq!(algorithm.name(), algorithm.build(1460).name());
        }
    }
}
