//! The retransmission timeout (RFC 6298): smoothed RTT and variance from samples, the RTO
//! derived from them with a Linux-like floor of 200 ms and a ceiling of 120 s, exponential
//! backoff on expiry (§5.5), and Karn's rule (§3) left to the caller, which only samples
//! segments that were not retransmitted (or uses timestamps, RFC 7323 §4).

use core::time::Duration;

/// Linux's TCP_RTO_MIN.
pub const MIN_RTO: Duration = Duration::from_millis(200);
/// Linux's TCP_RTO_MAX.
pub const MAX_RTO: Duration = Duration::from_secs(120);
/// The RTO before any sample (RFC 6298 §2.1).
pub const INITIAL_RTO: Duration = Duration::from_secs(1);
/// The clock granularity G of RFC 6298 §2 (Linux's jiffy resolution is finer; 1 ms here).
const GRANULARITY: Duration = Duration::from_millis(1);

/// The RFC 6298 estimator.
#[derive(Clone, Copy, Debug)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    min_rtt: Option<Duration>,
    latest: Duration,
    backoff_shift: u32,
    min_rto: Duration,
    max_rto: Duration,
}

impl Default for RttEstimator {
    fn default() -> Self {
        Self::new(MIN_RTO, MAX_RTO)
    }
}

impl RttEstimator {
    /// An estimator without samples, with the given RTO bounds.
    pub fn new(min_rto: Duration, max_rto: Duration) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            min_rtt: None,
            latest: Duration::ZERO,
            backoff_shift: 0,
            min_rto,
            max_rto,
        }
    }

    /// Takes one RTT measurement (RFC 6298 §2.2, §2.3) and ends any backoff (§5.7 lets the
    /// doubled RTO stand until a new sample; a sample resets it).
    pub fn sample(&mut self, rtt: Duration) {
        self.latest = rtt;
        self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        match self.srtt {
            None => {
                // §2.2: the first measurement.
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                // §2.3 with alpha = 1/8 and beta = 1/4.
                let delta = srtt.abs_diff(rtt);
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                self.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
        self.backoff_shift = 0;
    }

    /// The smoothed RTT, if measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The RTT variance.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// The smallest sample seen.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt
    }

    /// The most recent sample.
    pub fn latest(&self) -> Duration {
        self.latest
    }

    /// The RTO without backoff (RFC 6298 §2.1 before samples, §2.2/§2.3 after; §2.4 floor).
    pub fn base_rto(&self) -> Duration {
        let rto = match self.srtt {
            None => INITIAL_RTO,
            Some(srtt) => srtt + (self.rttvar * 4).max(GRANULARITY),
        };
        rto.clamp(self.min_rto, self.max_rto)
    }

    /// The RTO including backoff (§5.5), at most the ceiling (§2.5).
    pub fn rto(&self) -> Duration {
        let base = self.base_rto();
        let factor = 1u32 << self.backoff_shift.min(16);
        base.saturating_mul(factor).min(self.max_rto)
    }

    /// Doubles the RTO after an expiry (RFC 6298 §5.5).
    pub fn back_off(&mut self) {
        self.backoff_shift = (self.backoff_shift + 1).min(16);
    }

    /// How many times the RTO has been doubled since the last sample.
    pub fn backoff(&self) -> u32 {
        self.backoff_shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6298_2_1_initial_rto_is_one_second() {
        assert_eq!(RttEstimator::default().rto(), Duration::from_secs(1));
    }

    #[test]
    fn rfc6298_2_2_first_sample_sets_srtt_and_half_variance() {
        let mut e = RttEstimator::default();
        e.sample(Duration::from_millis(400));
        assert_eq!(e.srtt(), Some(Duration::from_millis(400)));
        assert_eq!(e.rttvar(), Duration::from_millis(200));
        assert_eq!(e.rto(), Duration::from_millis(1200));
    }

    #[test]
    fn rfc6298_2_3_later_samples_are_smoothed() {
        let mut e = RttEstimator::default();
        e.sample(Duration::from_millis(400));
        e.sample(Duration::from_millis(800));
        // rttvar = 3/4 * 200 + 1/4 * 400 = 250; srtt = 7/8 * 400 + 1/8 * 800 = 450.
        assert_eq!(e.rttvar(), Duration::from_millis(250));
        assert_eq!(e.srtt(), Some(Duration::from_millis(450)));
    }

    #[test]
    fn rfc6298_2_4_rto_has_a_linux_like_200ms_floor() {
        let mut e = RttEstimator::default();
        e.sample(Duration::from_millis(1));
        assert_eq!(e.rto(), MIN_RTO);
    }

    #[test]
    fn rfc6298_5_5_backoff_doubles_up_to_the_ceiling() {
        let mut e = RttEstimator::default();
        let mut last = e.rto();
        for _ in 0..6 {
            e.back_off();
            assert_eq!(e.rto(), (last * 2).min(MAX_RTO));
            last = e.rto();
        }
        for _ in 0..20 {
            e.back_off();
        }
        assert_eq!(e.rto(), MAX_RTO);
        e.sample(Duration::from_millis(300));
        assert_eq!(e.backoff(), 0);
    }
}
