//! CUBIC (RFC 9438): the window follows a cubic function of the time since the last
//! congestion event, centred on the window at that event (§4.2), never growing slower than
//! the Reno-friendly estimate (§4.3), with multiplicative decrease by beta = 0.7 (§4.6) and
//! fast convergence (§4.7). Slow start is RFC 5681's with byte counting (§4.10).
//!
//! `core` has no libm, so the cube root is computed by Newton's method.

use core::time::Duration;

use super::{initial_window, CongestionControl};
use crate::time::Instant;

/// RFC 9438 §5's C, in segments per second cubed.
const C: f64 = 0.4;
/// RFC 9438 §4.6's multiplicative decrease factor.
const BETA: f64 = 0.7;
/// RFC 9438 §4.3's additive factor for the Reno-friendly estimate: 3(1-β)/(1+β).
const ALPHA: f64 = 3.0 * (1.0 - BETA) / (1.0 + BETA);

/// The cube root of a non-negative number (Newton's method, to double precision).
fn cbrt(a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    let mut x = if a > 1.0 { a / 3.0 } else { 1.0 };
    for _ in 0..100 {
        let next = (2.0 * x + a / (x * x)) / 3.0;
        if (next - x).abs() <= 1e-9 * next {
            return next;
        }
        x = next;
    }
    x
}

/// The CUBIC window.
#[derive(Clone, Debug)]
pub struct Cubic {
    mss: u32,
    cwnd: u32,
    ssthresh: u32,
    /// W_max in segments: the window before the last reduction.
    w_max: f64,
    /// The window right after the last reduction, in segments (cwnd_epoch).
    w_epoch: f64,
    /// The Reno-friendly estimate W_est in segments.
    w_est: f64,
    /// K in seconds.
    k: f64,
    /// When the current congestion-avoidance epoch began.
    epoch_start: Option<Instant>,
    /// Bytes acknowledged in slow start or CA below one segment of growth.
    bytes_acked: u32,
}

impl Cubic {
    /// Initial window (RFC 6928) and an unbounded ssthresh.
    pub fn new(mss: u32) -> Self {
        Self {
            mss,
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            w_max: 0.0,
            w_epoch: 0.0,
            w_est: 0.0,
            k: 0.0,
            epoch_start: None,
            bytes_acked: 0,
        }
    }

    fn segments(&self) -> f64 {
        f64::from(self.cwnd) / f64::from(self.mss)
    }

    /// §4.6 and §4.7: remember W_max (reduced further when the window keeps shrinking) and
    /// cut the window by beta.
    fn reduce(&mut self) {
        let cwnd = self.segments();
        self.w_max = if cwnd < self.w_max { cwnd * (1.0 + BETA) / 2.0 } else { cwnd };
        let reduced = (f64::from(self.cwnd) * BETA) as u32;
        self.ssthresh = reduced.max(2 * self.mss);
        self.epoch_start = None;
        self.bytes_acked = 0;
    }

    /// W_cubic(t) of §4.2, in segments.
    fn w_cubic(&self, t: f64) -> f64 {
        let d = t - self.k;
        C * d * d * d + self.w_max
    }
}

impl CongestionControl for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }

    fn window(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    fn on_ack(&mut self, now: Instant, acked: u32, _flight: u32, rtt: Duration) {
        if self.cwnd < self.ssthresh {
            // §4.10: slow start as RFC 5681's.
            self.cwnd = super::slow_start(self.cwnd, acked, self.mss);
            return;
        }
        let mss = f64::from(self.mss);
        let start = match self.epoch_start {
            Some(start) => start,
            None => {
                // §4.2: a new epoch; K is the time to climb back to W_max.
                self.epoch_start = Some(now);
                self.w_epoch = self.segments();
                self.w_est = self.w_epoch;
                self.k = if self.w_max > self.w_epoch { cbrt((self.w_max - self.w_epoch) / C) } else { 0.0 };
                now
            }
        };
        let t = (now - start).as_secs_f64();
        // §4.3: the Reno-friendly window grows by ALPHA segments per window of ACKed bytes.
        self.w_est += ALPHA * f64::from(acked) / f64::from(self.cwnd);
        // §4.4/§4.5: aim at W_cubic one RTT ahead, growing at most by half the window per RTT.
        let cwnd = self.segments();
        let target = self.w_cubic(t + rtt.as_secs_f64()).clamp(cwnd, 1.5 * cwnd);
        let next = if self.w_cubic(t) < self.w_est {
            // §4.3: the Reno-friendly region.
            self.w_est
        } else {
            cwnd + (target - cwnd) * f64::from(acked) / f64::from(self.cwnd)
        };
        let next_bytes = (next * mss) as u32;
        if next_bytes > self.cwnd {
            self.cwnd = next_bytes;
        }
    }

    fn on_congestion_event(&mut self, _now: Instant, _flight: u32) {
        self.reduce();
        self.cwnd = self.ssthresh;
    }

    fn on_rto(&mut self, _now: Instant, _flight: u32, first_expiry: bool) {
        // §4.8: as for a congestion event, then RFC 5681's loss window of one segment.
        if first_expiry {
            self.reduce();
        }
        self.cwnd = self.mss;
        self.epoch_start = None;
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
        self.epoch_start = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn cube_root_is_accurate() {
        for x in [0.001, 1.0, 8.0, 27.0, 1000.0, 12345.678] {
            let r = cbrt(x);
            assert!((r * r * r - x).abs() < 1e-6 * x.max(1.0), "{x}");
        }
        assert_eq!(cbrt(0.0), 0.0);
    }

    #[test]
    fn rfc9438_4_6_decrease_is_by_beta() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_congestion_event(Instant::ZERO, 100 * MSS);
        assert_eq!(c.window(), 70 * MSS);
        assert_eq!(c.ssthresh(), 70 * MSS);
        assert_eq!(c.w_max, 100.0);
    }

    #[test]
    fn rfc9438_4_7_fast_convergence_lowers_w_max() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_congestion_event(Instant::ZERO, 100 * MSS);
        c.on_congestion_event(Instant::ZERO, 70 * MSS);
        // 70 < 100, so W_max = 70 * (1 + 0.7) / 2 = 59.5.
        assert!((c.w_max - 59.5).abs() < 1e-9);
    }

    #[test]
    fn rfc9438_4_2_window_regrows_to_w_max_after_k_seconds() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 100 * MSS;
        c.on_congestion_event(Instant::ZERO, 100 * MSS);
        // K = cbrt((100 - 70) / 0.4) = cbrt(75) ~ 4.217 s.
        let rtt = Duration::from_millis(100);
        let mut now = Instant::ZERO;
        for _ in 0..60 {
            // One window of ACKs per RTT.
            let segments = c.window() / MSS;
            for _ in 0..segments {
                c.on_ack(now, MSS, c.window(), rtt);
            }
            now += rtt;
        }
        assert!((cbrt(75.0) - c.k).abs() < 1e-6);
        // After 6 s the window is past W_max (convex region) but well below 1.5 * W_max.
        let w = c.window() / MSS;
        assert!((100..150).contains(&w), "window {w}");
    }

    #[test]
    fn rfc9438_4_8_rto_restarts_from_one_segment() {
        let mut c = Cubic::new(MSS);
        c.cwnd = 40 * MSS;
        c.on_rto(Instant::ZERO, 40 * MSS, true);
        assert_eq!(c.window(), MSS);
        assert_eq!(c.ssthresh(), 28 * MSS);
    }
}
