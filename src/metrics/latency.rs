//! Streaming latency statistics: a log-linear (HDR) histogram plus an exact sum and maximum.

use super::histogram::LogHistogram;

/// Significant figures of the run-wide histogram: values within 0.1%.
const RUN_SIGFIG: u8 = 3;
/// Significant figures of per-bucket histograms: values within 1%, in less memory.
const BUCKET_SIGFIG: u8 = 2;

/// The run-wide histogram.
pub type RunHistogram = LogHistogram<RUN_SIGFIG>;
/// A per-bucket histogram.
pub type BucketHistogram = LogHistogram<BUCKET_SIGFIG>;

/// Percentiles of successful requests' latency, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencySummary {
    /// Number of latencies recorded.
    pub count: u64,
    /// Exact mean.
    pub mean_ns: f64,
    /// Median (within 0.1%).
    pub p50_ns: u64,
    /// 90th percentile (within 0.1%).
    pub p90_ns: u64,
    /// 99th percentile (within 0.1%).
    pub p99_ns: u64,
    /// 99.9th percentile (within 0.1%).
    pub p999_ns: u64,
    /// Exact maximum.
    pub max_ns: u64,
}

/// Run-wide latency: memory bounded by the value range, not by the number of requests.
pub struct LatencyRecorder {
    histogram: RunHistogram,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        LatencyRecorder {
            histogram: RunHistogram::new(),
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Adds one latency.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.histogram.record(ns);
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// The histogram's non-empty bins: (highest value in ns, count), ascending.
    pub fn bins(&self) -> Vec<(u64, u64)> {
        self.histogram.bins()
    }

    /// The summary, or `None` if nothing was recorded.
    pub fn summary(&self) -> Option<LatencySummary> {
        let count = self.histogram.len();
        (count > 0).then(|| LatencySummary {
            count,
            mean_ns: self.sum_ns as f64 / count as f64,
            p50_ns: quantile(&self.histogram, 0.5),
            p90_ns: quantile(&self.histogram, 0.9),
            p99_ns: quantile(&self.histogram, 0.99),
            p999_ns: quantile(&self.histogram, 0.999),
            max_ns: self.max_ns,
        })
    }
}

/// A fresh per-bucket histogram.
pub fn bucket_histogram() -> BucketHistogram {
    BucketHistogram::new()
}

/// The value at quantile `q`, reported as the middle of its histogram bin (halving the
/// worst-case error against the bin's upper edge).
pub fn quantile<const S: u8>(h: &LogHistogram<S>, q: f64) -> u64 {
    h.quantile(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_the_promised_error() {
        let mut r = LatencyRecorder::new();
        for v in 1..=100_000u64 {
            r.record(v * 1000);
        }
        let s = r.summary().expect("recorded");
        let within = |got: u64, want: f64, tol: f64| (got as f64 - want).abs() / want <= tol;
        assert!(within(s.p50_ns, 50_000_000.0, 0.001), "{}", s.p50_ns);
        assert!(within(s.p99_ns, 99_000_000.0, 0.001), "{}", s.p99_ns);
        assert!(within(s.p999_ns, 99_900_000.0, 0.001), "{}", s.p999_ns);
        assert_eq!(s.max_ns, 100_000_000);
        assert!((s.mean_ns - 50_000_500.0).abs() < 1e-3);

        let mut b = bucket_histogram();
        for v in 1..=10_000u64 {
            b.record(v * 1000);
        }
        assert!(within(quantile(&b, 0.99), 9_900_000.0, 0.01));
    }
}
