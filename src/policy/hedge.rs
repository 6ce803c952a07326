//! When a hedged attempt goes out: after a fixed delay, or after a running percentile of
//! the call site's successful attempt latencies ("The Tail at Scale": hedge after the
//! 95th percentile), estimated from a log-bucketed histogram and refreshed every
//! [`SAMPLES`] latencies.

use crate::engine::SimDuration;
use crate::metrics::histogram::LogHistogram;
use crate::scenario::policy::HedgeAfter;

/// Latencies needed before a percentile-based hedge delay is known, and between refreshes.
pub const SAMPLES: u64 = 20;

/// The hedge delay of one call site.
#[derive(Clone, Debug)]
pub struct HedgeDelay {
    after: HedgeAfter,
    latencies: LogHistogram<2>,
    delay: Option<SimDuration>,
}

impl HedgeDelay {
    /// The delay `after` describes: known at once when fixed, after [`SAMPLES`] latencies
    /// when a percentile.
    pub fn new(after: HedgeAfter) -> Self {
        HedgeDelay {
            after,
            latencies: LogHistogram::new(),
            delay: match after {
                HedgeAfter::Fixed(d) => Some(d),
                HedgeAfter::Percentile(_) => None,
            },
        }
    }

    /// Notes the latency of a successful attempt (a percentile delay learns from it).
    pub fn note(&mut self, took: SimDuration) {
        if let HedgeAfter::Percentile(p) = self.after {
            self.latencies.record(took.as_nanos());
            if self.latencies.len().is_multiple_of(SAMPLES) {
                self.delay = Some(SimDuration(self.latencies.quantile(p)));
            }
        }
    }

    /// The delay now, if known.
    pub fn delay(&self) -> Option<SimDuration> {
        self.delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_delay_is_known_at_once_and_never_moves() {
        let mut h = HedgeDelay::new(HedgeAfter::Fixed(SimDuration::from_millis(40)));
        assert_eq!(h.delay(), Some(SimDuration::from_millis(40)));
        for _ in 0..100 {
            h.note(SimDuration::from_millis(1));
        }
        assert_eq!(h.delay(), Some(SimDuration::from_millis(40)));
    }

    /// A p90 delay is unknown before 20 latencies, then the 90th percentile of those seen
    /// (within the histogram's 1% buckets), refreshed every 20.
    #[test]
    fn a_percentile_delay_is_learned_every_twenty_latencies() {
        let mut h = HedgeDelay::new(HedgeAfter::Percentile(0.9));
        for ms in 1..=19 {
            h.note(SimDuration::from_millis(ms));
        }
        assert_eq!(h.delay(), None, "19 latencies: not yet");
        h.note(SimDuration::from_millis(20));
        let d = h.delay().expect("20 latencies").as_nanos() as f64 / 1e6;
        assert!((d - 18.0).abs() <= 0.2, "p90 of 1..=20 ms is 18 ms: {d}");
        for _ in 0..19 {
            h.note(SimDuration::from_millis(100));
        }
        let same = h.delay().expect("kept").as_nanos() as f64 / 1e6;
        assert_eq!(same, d, "not refreshed before the next 20");
        h.note(SimDuration::from_millis(100));
        let d = h.delay().expect("refreshed").as_nanos() as f64 / 1e6;
        assert!(
            (d - 100.0).abs() <= 1.0,
            "half of 40 at 100 ms: p90 is 100 ms: {d}"
        );
    }
}
