//! Random durations: the distributions a scenario can name, and how each is sampled.
//!
//! Every sample is drawn in float nanoseconds from the caller's own stream and turned into
//! a [`SimDuration`] by the engine's single rounding rule (nearest nanosecond, negatives to 0).

pub mod empirical;

use crate::engine::{SimDuration, SimRng};
use empirical::{Percentiles, QuantileCurve};
use rand::distr::Distribution as _;
use rand_distr::{Exp1, StandardNormal};
use std::sync::Arc;

/// The 99th percentile of the standard normal distribution, used to turn a lognormal's
/// (median, p99) into its (mu, sigma).
pub const Z_99: f64 = 2.326_347_874_040_841;

/// A distribution of durations, with its parameters in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// Always `value`.
    Constant(SimDuration),
    /// Exponential with the given mean.
    Exponential {
        /// Mean, ns.
        mean: f64,
    },
    /// Uniform on [min, max).
    Uniform {
        /// Lower bound, ns.
        min: f64,
        /// Upper bound, ns.
        max: f64,
    },
    /// Lognormal: ln(X) is normal with mean `mu` and deviation `sigma` (X in ns).
    LogNormal {
        /// Mean of ln(X); the median is exp(mu).
        mu: f64,
        /// Standard deviation of ln(X).
        sigma: f64,
    },
    /// Normal with the given mean and deviation, truncated at zero: negative draws are
    /// drawn again (up to 64 times, then zero), so no probability piles up at zero.
    Normal {
        /// Mean before truncation, ns.
        mean: f64,
        /// Standard deviation before truncation, ns.
        stddev: f64,
    },
    /// Pareto (type I): X = scale * U^(-1/shape), so X >= scale.
    Pareto {
        /// Minimum value, ns.
        scale: f64,
        /// Tail index; the mean is finite only when shape > 1.
        shape: f64,
    },
    /// Through given percentiles (a dashboard's latency table), lognormal between and
    /// beyond them: see [`Percentiles`].
    Percentiles(Arc<Percentiles>),
    /// A quantile curve from latency samples or histogram buckets: see [`QuantileCurve`].
    Empirical(Arc<QuantileCurve>),
}

impl Distribution {
    /// A lognormal with the given median and 99th percentile (p99 >= median > 0).
    pub fn lognormal_from_median_p99(median: SimDuration, p99: SimDuration) -> Self {
        let mu = (median.as_nanos() as f64).ln();
        let sigma = ((p99.as_nanos() as f64).ln() - mu) / Z_99;
        Distribution::LogNormal { mu, sigma }
    }

    /// Zero every time.
    pub fn zero() -> Self {
        Distribution::Constant(SimDuration::ZERO)
    }

    /// True when every sample is zero (no draw is needed).
    #[inline]
    pub fn is_zero(&self) -> bool {
        matches!(self, Distribution::Constant(d) if d.as_nanos() == 0)
    }

    /// Draws one duration from `rng`.
    ///
    /// Constant and exponential durations (the common ones, and the cheapest) are drawn
    /// inline at the call site; the other kinds go through a function kept out of line.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match *self {
            Distribution::Constant(d) => d,
            Distribution::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng.generator());
                SimDuration::from_nanos_f64(e * mean)
            }
            _ => self.sample_other(rng),
        }
    }

    /// [`Distribution::sample`] for the kinds other than constant and exponential.
    #[inline(never)]
    fn sample_other(&self, rng: &mut SimRng) -> SimDuration {
        let ns = match *self {
            Distribution::Constant(d) => return d,
            Distribution::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng.generator());
                e * mean
            }
            Distribution::Uniform { min, max } => min + (max - min) * rng.unit(),
            Distribution::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng.generator());
                (mu + sigma * z).exp()
            }
            Distribution::Normal { mean, stddev } => {
                let mut x = -1.0;
                for _ in 0..64 {
                    let z: f64 = StandardNormal.sample(rng.generator());
                    x = mean + stddev * z;
                    if x >= 0.0 {
                        break;
                    }
                }
                x
            }
            Distribution::Pareto { scale, shape } => {
                // 1 - U lies in (0, 1], so the power is finite.
                scale * (1.0 - rng.unit()).powf(-1.0 / shape)
            }
            Distribution::Percentiles(ref table) => {
                let z: f64 = StandardNormal.sample(rng.generator());
                table.at_score(z)
            }
            Distribution::Empirical(ref curve) => curve.at(rng.unit()),
        };
        SimDuration::from_nanos_f64(ns)
    }

    /// The mean in nanoseconds (before rounding; the normal's is before truncation);
    /// infinite for a Pareto with shape <= 1.
    pub fn mean_nanos(&self) -> f64 {
        match *self {
            Distribution::Constant(d) => d.as_nanos() as f64,
            Distribution::Exponential { mean } => mean,
            Distribution::Uniform { min, max } => (min + max) / 2.0,
            Distribution::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Distribution::Normal { mean, .. } => mean,
            Distribution::Pareto { scale, shape } => {
                if shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale / (shape - 1.0)
                }
            }
            Distribution::Percentiles(ref table) => table.mean(),
            Distribution::Empirical(ref curve) => curve.mean(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StreamId;

    fn sample_mean(d: &Distribution, n: usize) -> f64 {
        let mut rng = SimRng::new(3, StreamId::from_parts(&[b"t"]));
        (0..n)
            .map(|_| d.sample(&mut rng).as_nanos() as f64)
            .sum::<f64>()
            / n as f64
    }

    #[test]
    fn sample_means_match_the_closed_forms() {
        let cases = [
            Distribution::Exponential { mean: 4e6 },
            Distribution::Uniform { min: 1e6, max: 3e6 },
            Distribution::lognormal_from_median_p99(
                SimDuration::from_millis(2),
                SimDuration::from_millis(20),
            ),
            Distribution::Pareto {
                scale: 1e6,
                shape: 3.0,
            },
            Distribution::Normal {
                mean: 5e6,
                stddev: 1e6,
            },
        ];
        for d in &cases {
            let m = sample_mean(d, 200_000);
            let rel = (m - d.mean_nanos()).abs() / d.mean_nanos();
            assert!(
                rel < 0.02,
                "{d:?}: sample mean {m}, expected {}",
                d.mean_nanos()
            );
        }
    }

    #[test]
    fn lognormal_median_and_p99_are_where_asked() {
        let d = Distribution::lognormal_from_median_p99(
            SimDuration::from_millis(2),
            SimDuration::from_millis(20),
        );
        let mut rng = SimRng::new(9, StreamId::from_parts(&[b"db[0]"]));
        let mut v: Vec<u64> = (0..100_000)
            .map(|_| d.sample(&mut rng).as_nanos())
            .collect();
        v.sort_unstable();
        let median = v[50_000] as f64 / 1e6;
        let p99 = v[99_000] as f64 / 1e6;
        assert!((median - 2.0).abs() < 0.05, "median {median} ms");
        assert!((p99 - 20.0).abs() < 1.0, "p99 {p99} ms");
    }

    #[test]
    fn truncated_normal_has_the_truncated_mean_and_no_mass_at_zero() {
        // N(1 ms, 2 ms) truncated at 0: mean = mu + sigma * phi(a) / (1 - Phi(a)), a = -0.5,
        // = 1 + 2 * 0.352065 / 0.691462 = 2.01832 ms.
        let mut rng = SimRng::new(5, StreamId::from_parts(&[b"x"]));
        let n = Distribution::Normal {
            mean: 1e6,
            stddev: 2e6,
        };
        let draws: Vec<u64> = (0..200_000)
            .map(|_| n.sample(&mut rng).as_nanos())
            .collect();
        let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64 / 1e6;
        assert!((mean - 2.01832).abs() < 0.02, "mean {mean} ms");
        let zeros = draws.iter().filter(|&&d| d == 0).count();
        assert!(zeros < 10, "{zeros} draws piled up at zero");
    }

    #[test]
    fn pareto_never_goes_below_its_scale() {
        let mut rng = SimRng::new(5, StreamId::from_parts(&[b"x"]));
        let p = Distribution::Pareto {
            scale: 1e6,
            shape: 1.5,
        };
        let min = (0..10_000).map(|_| p.sample(&mut rng).as_nanos()).min();
        assert_eq!(min.map(|m| m >= 1_000_000), Some(true));
    }
}
