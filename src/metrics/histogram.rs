//! A log-linear histogram of nanosecond values, bin for bin an HDR histogram.
//!
//! The bins, and the quantiles read from them, are exactly those of an `hdrhistogram`
//! histogram with a lowest discernible value of 1 and the same significant figures (the
//! tests below check this against the `hdrhistogram` crate). It exists because recording is
//! on the hot path, twice per request: here a record is an index computation and one
//! increment, without the crate's range checks, auto-resizing and min/max tracking, which
//! resim does not need. Memory grows with the largest value recorded, not with the count.
//!
//! Layout: values below `2 * half` (where `half` is a power of two) each have their own bin;
//! above, each doubling of the value range ("bucket" k, values in [half << k, half << (k+1)))
//! is split into `half` bins of width 2^k.

/// Counts of values in log-linear bins, telling values apart to `SIGFIG` significant
/// decimal figures (1 to 5), as an HDR histogram would. The figures are a type parameter so
/// that the bin arithmetic compiles to constant shifts and masks.
#[derive(Clone, Debug)]
pub struct LogHistogram<const SIGFIG: u8> {
    /// Count per bin, grown (by whole doublings) to the highest bin recorded so far.
    counts: Vec<u64>,
    /// Number of values recorded.
    total: u64,
}

impl<const SIGFIG: u8> Default for LogHistogram<SIGFIG> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIGFIG: u8> LogHistogram<SIGFIG> {
    /// log2 of `half`, the number of bins per doubling: `2 * half` is the smallest power of
    /// two at or above 2 * 10^SIGFIG, so values up to there have single-unit bins.
    const HALF_MAGNITUDE: u32 = {
        assert!(SIGFIG >= 1 && SIGFIG <= 5, "1 to 5 significant figures");
        let largest = 2 * 10u32.pow(SIGFIG as u32);
        u32::BITS - (largest - 1).leading_zeros() - 1
    };

    /// An empty histogram.
    pub fn new() -> Self {
        LogHistogram {
            counts: Vec::new(),
            total: 0,
        }
    }

    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Adds one value.
    #[inline]
    pub fn record(&mut self, value: u64) {
        let index = Self::index_of(value);
        match self.counts.get_mut(index) {
            Some(count) => *count += 1,
            None => self.grow_and_record(index),
        }
        self.total += 1;
    }

    /// Forgets every value, keeping the memory.
    pub fn reset(&mut self) {
        self.counts.fill(0);
        self.total = 0;
    }

    /// The value at quantile `q` (in [0, 1]), given as the middle of its bin (rounded down),
    /// which halves the worst-case error against the bin's edges; 0 when empty. This is
    /// `median_equivalent(value_at_quantile(q))` of an HDR histogram.
    pub fn quantile(&self, q: f64) -> u64 {
        self.quantiles([q])[0]
    }

    /// [`LogHistogram::quantile`] of each of `qs`, which must be in increasing order, in one
    /// pass over the bins.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        /// Bins summed at once while no quantile falls inside them (the sum vectorizes).
        const CHUNK: usize = 16;
        let ranks = qs.map(|q| self.rank(q));
        let mut out = [0; N];
        let mut next = 0;
        let mut seen = 0u64;
        for (c, chunk) in self.counts.chunks(CHUNK).enumerate() {
            if next == N {
                break;
            }
            let sum: u64 = chunk.iter().sum();
            if seen + sum < ranks[next] {
                seen += sum;
                continue;
            }
            for (i, &count) in chunk.iter().enumerate() {
                seen += count;
                while next < N && seen >= ranks[next] {
                    let (low, width) = Self::bin(c * CHUNK + i);
                    out[next] = low + width / 2;
                    next += 1;
                }
            }
        }
        out
    }

    /// The number of values at or below quantile `q`, rounded up, and at least 1.
    fn rank(&self, q: f64) -> u64 {
        ((q.min(1.0) * self.total as f64).ceil() as u64).max(1)
    }

    /// The doubling `value` falls in: 0 for values with bins of width 1.
    #[inline]
    fn bucket_of(value: u64) -> u32 {
        let mask = (2u64 << Self::HALF_MAGNITUDE) - 1;
        (63 - Self::HALF_MAGNITUDE) - (value | mask).leading_zeros()
    }

    /// The bin of `value`.
    #[inline]
    fn index_of(value: u64) -> usize {
        let bucket = Self::bucket_of(value);
        let sub = (value >> bucket) as usize;
        ((bucket as usize) << Self::HALF_MAGNITUDE) + sub
    }

    /// The lowest value of bin `index` and the bin's width.
    fn bin(index: usize) -> (u64, u64) {
        let half = 1usize << Self::HALF_MAGNITUDE;
        let bucket = (index >> Self::HALF_MAGNITUDE).saturating_sub(1) as u32;
        let sub = if index < half {
            index
        } else {
            (index & (half - 1)) + half
        };
        ((sub as u64) << bucket, 1u64 << bucket)
    }

    #[cold]
    fn grow_and_record(&mut self, index: usize) {
        // Whole doublings at a time, so growing happens a few times per run at most.
        let half = 1usize << Self::HALF_MAGNITUDE;
        let len = (index / half + 1) * half;
        self.counts.resize(len, 0);
        self.counts[index] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;

    /// A deterministic xorshift stream, spread over many orders of magnitude.
    fn values(seed: u64, n: usize, max_bits: u32) -> Vec<u64> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let bits = (x % u64::from(max_bits + 1)) as u32;
                if bits == 0 { 0 } else { x >> (64 - bits) }
            })
            .collect()
    }

    fn hdr_quantile(h: &Histogram<u64>, q: f64) -> u64 {
        h.median_equivalent(h.value_at_quantile(q))
    }

    /// Our histogram and hdrhistogram's, fed the same values, agree on every quantile.
    fn check_against_hdr<const S: u8>() {
        let qs = [0.0, 1e-9, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0];
        for (seed, n, max_bits) in [(1, 1, 10), (2, 7, 20), (3, 1000, 40), (4, 20_000, 62)] {
            let mut ours = LogHistogram::<S>::new();
            let mut hdr = Histogram::<u64>::new(S).expect("valid");
            for v in values(seed, n, max_bits) {
                ours.record(v);
                hdr.record(v).expect("auto-resize covers it");
            }
            assert_eq!(ours.len(), hdr.len());
            let both = ours.quantiles([0.5, 0.99]);
            assert_eq!(both, [ours.quantile(0.5), ours.quantile(0.99)]);
            for q in qs {
                assert_eq!(
                    ours.quantile(q),
                    hdr_quantile(&hdr, q),
                    "sigfig {S}, seed {seed}, q {q}"
                );
            }
        }
    }

    #[test]
    fn quantiles_match_an_hdr_histogram() {
        check_against_hdr::<2>();
        check_against_hdr::<3>();
    }

    #[test]
    fn every_bin_edge_lands_where_hdr_puts_it() {
        let mut hdr = Histogram::<u64>::new(3).expect("valid");
        hdr.record(1 << 50).expect("auto-resize covers it");
        type H = LogHistogram<3>;
        for shift in 0..50 {
            for v in [
                (1u64 << shift) - 1,
                1 << shift,
                (1 << shift) + 1,
                3 << shift,
            ] {
                let (low, width) = H::bin(H::index_of(v));
                assert_eq!(low, hdr.lowest_equivalent(v), "{v}");
                assert_eq!(width, hdr.equivalent_range(v), "{v}");
            }
        }
    }

    #[test]
    fn reset_forgets_and_empty_reads_zero() {
        let mut h = LogHistogram::<2>::new();
        assert_eq!(h.quantile(0.5), 0);
        h.record(12_345);
        assert!(!h.is_empty());
        h.reset();
        assert_eq!((h.len(), h.quantile(0.99)), (0, 0));
    }
}
