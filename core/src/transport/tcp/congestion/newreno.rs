//! NewReno's window rules: slow start and congestion avoidance (RFC 5681 §3.1) with
//! appropriate byte counting (RFC 3465 §2.2, L = 2), ssthresh on loss (RFC 5681 equation 4)
//! and the window at the end of recovery (RFC 6582 §3.2 step 3).

use core::time::Duration;

use super::{initial_window, CongestionControl};
use crate::time::Instant;

/// The NewReno window.
#[derive(Clone, Debug)]
pub struct NewReno {
    mss: u32,
    cwnd: u32,
    ssthresh: u32,
    /// Bytes acknowledged in congestion avoidance not yet turned into window growth.
    bytes_acked: u32,
}

impl NewReno {
    /// Initial window (RFC 6928) and an unbounded ssthresh (RFC 5681 §3.1).
    pub fn new(mss: u32) -> Self {
        Self { mss, cwnd: initial_window(mss), ssthresh: u32::MAX, bytes_acked: 0 }
    }
}

/// RFC 5681 equation 4: half the flight, at least two segments.
pub(super) fn half_flight(flight: u32, mss: u32) -> u32 {
    (flight / 2).max(2 * mss)
}

impl CongestionControl for NewReno {
    fn name(&self) -> &'static str {
        "reno"
    }

    fn window(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    fn on_ack(&mut self, _now: Instant, acked: u32, _flight: u32, _rtt: Duration) {
        if self.cwnd < self.ssthresh {
            self.cwnd = super::slow_start(self.cwnd, acked, self.mss);
        } else {
            // RFC 5681 §3.1 with RFC 3465 §2.1: one segment per window of bytes acknowledged.
            self.bytes_acked = self.bytes_acked.saturating_add(acked);
            if self.bytes_acked >= self.cwnd {
                self.bytes_acked -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(self.mss);
            }
        }
    }

    fn on_congestion_event(&mut self, _now: Instant, flight: u32) {
        self.ssthresh = half_flight(flight, self.mss);
        self.cwnd = self.ssthresh;
        self.bytes_acked = 0;
    }

    fn on_rto(&mut self, _now: Instant, flight: u32, first_expiry: bool) {
        // RFC 5681 §3.1: ssthresh is not lowered again for repeated expiries of the same
        // segment; the loss window is one segment.
        if first_expiry {
            self.ssthresh = half_flight(flight, self.mss);
        }
        self.cwnd = self.mss;
        self.bytes_acked = 0;
    }

    fn on_recovery_end(&mut self, _now: Instant) {
        self.cwnd = self.ssthresh;
    }

    fn set_mss(&mut self, mss: u32) {
        self.mss = mss;
        self.cwnd = self.cwnd.max(mss);
    }

    fn reset(&mut self, mss: u32) {
        *self = Self::new(mss);
    }

    fn on_idle_restart(&mut self) {
        self.cwnd = self.cwnd.min(initial_window(self.mss));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;
    const NOW: Instant = Instant::ZERO;
    const RTT: Duration = Duration::from_millis(10);

    #[test]
    fn rfc3465_2_2_slow_start_counts_at_most_two_segments_per_ack() {
        let mut c = NewReno::new(MSS);
        let start = c.window();
        c.on_ack(NOW, 5 * MSS, 10 * MSS, RTT);
        assert_eq!(c.window(), start + 2 * MSS);
        c.on_ack(NOW, 500, 10 * MSS, RTT);
        assert_eq!(c.window(), start + 2 * MSS + 500);
    }

    #[test]
    fn rfc5681_3_1_congestion_avoidance_adds_one_segment_per_window() {
        let mut c = NewReno::new(MSS);
        c.on_congestion_event(NOW, 20 * MSS);
        assert_eq!((c.window(), c.ssthresh()), (10 * MSS, 10 * MSS));
        for _ in 0..9 {
            c.on_ack(NOW, MSS, 10 * MSS, RTT);
        }
        assert_eq!(c.window(), 10 * MSS);
        c.on_ack(NOW, MSS, 10 * MSS, RTT);
        assert_eq!(c.window(), 11 * MSS);
    }

    #[test]
    fn rfc5681_3_1_rto_sets_loss_window_of_one_segment() {
        let mut c = NewReno::new(MSS);
        c.on_rto(NOW, 8 * MSS, true);
        assert_eq!((c.window(), c.ssthresh()), (MSS, 4 * MSS));
        // A repeated expiry keeps ssthresh.
        c.on_rto(NOW, MSS, false);
        assert_eq!(c.ssthresh(), 4 * MSS);
        // Equation 4's floor: two segments.
        c.on_rto(NOW, MSS, true);
        assert_eq!(c.ssthresh(), 2 * MSS);
    }

    #[test]
    fn rfc6582_3_2_full_ack_deflates_to_ssthresh() {
        let mut c = NewReno::new(MSS);
        c.on_congestion_event(NOW, 30 * MSS);
        c.on_recovery_end(NOW);
        assert_eq!(c.window(), 15 * MSS);
    }
}
