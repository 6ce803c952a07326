//! Latency histograms: the `hdrhistogram` crate, behind the few operations resim needs.
//!
//! `SIGFIG` significant figures: values are told apart to within 10^-SIGFIG of their size.
//! The histogram grows with the largest value recorded (auto-resize), not with the count.

use hdrhistogram::Histogram;

/// An HDR histogram of nanosecond values with `SIGFIG` significant figures.
#[derive(Clone, Debug)]
pub struct LogHistogram<const SIGFIG: u8> {
    inner: Histogram<u64>,
}

impl<const SIGFIG: u8> Default for LogHistogram<SIGFIG> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIGFIG: u8> LogHistogram<SIGFIG> {
    /// An empty histogram.
    pub fn new() -> Self {
        LogHistogram {
            inner: Histogram::new(SIGFIG).expect("1 to 5 significant figures"),
        }
    }

    /// Values recorded.
    #[inline]
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Records `value`, growing the range as needed; a value past any representable range
    /// is clamped to the highest one.
    #[inline]
    pub fn record(&mut self, value: u64) {
        if self.inner.record(value).is_err() {
            self.inner.saturating_record(value);
        }
    }

    /// Forgets every value, keeping the memory.
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// The value at quantile `q` (0 to 1), reported as the middle of its bin (halving the
    /// worst-case error against the bin's upper edge); 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.inner.is_empty() {
            return 0;
        }
        self.inner
            .median_equivalent(self.inner.value_at_quantile(q))
    }

    /// The non-empty bins, ascending: (highest value of the bin, count). Histograms with the
    /// same significant figures share bin edges, so bins of several runs add up exactly.
    pub fn bins(&self) -> Vec<(u64, u64)> {
        self.inner
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }

    /// Several quantiles at once.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        qs.map(|q| self.quantile(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_the_significant_figures_and_reset_forgets() {
        let mut h = LogHistogram::<3>::new();
        assert_eq!(h.quantile(0.5), 0);
        for v in 1..=1_000_000u64 {
            h.record(v * 7);
        }
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 6_930_000.0).abs() / 6_930_000.0 < 0.001, "{p99}");
        assert_eq!(h.len(), 1_000_000);
        h.reset();
        assert!(h.is_empty());
        h.record(u64::MAX);
        assert_eq!(h.len(), 1, "a huge value is clamped, not lost");
    }
}
