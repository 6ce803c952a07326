//! Distributions from telemetry: a latency table of percentiles, and a quantile curve from
//! samples or histogram buckets.

use crate::telemetry::latency::LatencyData;

/// A distribution through given percentiles, as a dashboard's latency table shows them.
///
/// ln(X) is piecewise linear in the normal score z = Φ⁻¹(p) between the given points, so
/// every given percentile is reproduced exactly, and two percentiles of a lognormal give
/// that lognormal. Below the lowest and above the highest given percentile the outermost
/// segments continue: the tails are lognormal, with the spread of the nearest pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Percentiles {
    /// Normal scores of the given percentiles, increasing.
    z: Vec<f64>,
    /// ln of the values (ns) at those scores, non-decreasing.
    ln_x: Vec<f64>,
    /// Slope of ln(X) in z on each segment (one fewer than the points).
    slope: Vec<f64>,
    /// The mean, ns (computed once: E[X] over the standard normal).
    mean: f64,
}

impl Percentiles {
    /// Through `points` of (probability, value in ns): at least two, probabilities in (0, 1)
    /// and increasing, values positive and non-decreasing (the validation checks these).
    pub fn new(points: &[(f64, f64)]) -> Self {
        let z: Vec<f64> = points.iter().map(|&(p, _)| normal_quantile(p)).collect();
        let ln_x: Vec<f64> = points.iter().map(|&(_, x)| x.ln()).collect();
        let slope = (1..z.len())
            .map(|i| (ln_x[i] - ln_x[i - 1]) / (z[i] - z[i - 1]))
            .collect();
        let mut d = Percentiles {
            z,
            ln_x,
            slope,
            mean: 0.0,
        };
        d.mean = d.integrate_mean();
        d
    }

    /// The value (ns) at normal score `z`.
    #[inline]
    pub fn at_score(&self, z: f64) -> f64 {
        // The segment whose left end is the last point at or below z (the first segment
        // below the lowest point, the last above the highest).
        let i = self
            .z
            .partition_point(|&zi| zi <= z)
            .clamp(1, self.slope.len())
            - 1;
        (self.ln_x[i] + self.slope[i] * (z - self.z[i])).exp()
    }

    /// The mean, ns.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// E[X] = ∫ x(z) φ(z) dz by Simpson's rule over z in [-10, 10] (the rest weighs less
    /// than 1e-22 unless the tail is absurdly steep).
    fn integrate_mean(&self) -> f64 {
        const STEPS: usize = 8_000;
        let (a, b) = (-10.0, 10.0);
        let h = (b - a) / STEPS as f64;
        let f =
            |z: f64| self.at_score(z) * (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let mut sum = f(a) + f(b);
        for k in 1..STEPS {
            let w = if k % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * f(a + k as f64 * h);
        }
        sum * h / 3.0
    }
}

/// A distribution given by its quantile function, linear between points (p, x): from
/// samples (the order statistics at p = i/(n-1), as numpy's default percentile) or from
/// cumulative histogram buckets (linear within a bucket from the previous bound, from 0 for
/// the first, as Prometheus' `histogram_quantile`; observations in `+Inf` sit at the highest
/// finite bound, where `histogram_quantile` puts them too).
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileCurve {
    /// Probabilities from 0 to 1, non-decreasing.
    p: Vec<f64>,
    /// Values (ns) at those probabilities, non-decreasing.
    x: Vec<f64>,
}

impl QuantileCurve {
    /// The curve of latency data: samples or buckets.
    pub fn from_data(data: &LatencyData) -> Self {
        match data {
            LatencyData::Samples(s) => Self::from_samples(s),
            LatencyData::Buckets(b) => Self::from_buckets(b),
        }
    }

    /// Through the order statistics of `samples` (at least one).
    pub fn from_samples(samples: &[f64]) -> Self {
        let mut x = samples.to_vec();
        x.sort_by(f64::total_cmp);
        let n = x.len();
        let p = if n == 1 {
            x.push(x[0]);
            vec![0.0, 1.0]
        } else {
            (0..n).map(|i| i as f64 / (n - 1) as f64).collect()
        };
        QuantileCurve { p, x }
    }

    /// From cumulative buckets (increasing bounds, the last possibly infinite, a positive
    /// total).
    pub fn from_buckets(buckets: &[(f64, f64)]) -> Self {
        let total = buckets.last().map_or(1.0, |b| b.1);
        let highest = buckets
            .iter()
            .rev()
            .find(|b| b.0.is_finite())
            .map_or(0.0, |b| b.0);
        let mut p = vec![0.0];
        let mut x = vec![0.0];
        for &(le, count) in buckets {
            p.push(count / total);
            x.push(if le.is_finite() { le } else { highest });
        }
        QuantileCurve { p, x }
    }

    /// The value (ns) at probability `u` in [0, 1).
    #[inline]
    pub fn at(&self, u: f64) -> f64 {
        // The first point with p > u; u lies on the segment that ends there.
        let j = self
            .p
            .partition_point(|&p| p <= u)
            .clamp(1, self.p.len() - 1);
        let (p0, p1, x0, x1) = (self.p[j - 1], self.p[j], self.x[j - 1], self.x[j]);
        if p1 <= p0 {
            return x1;
        }
        x0 + (x1 - x0) * (u - p0) / (p1 - p0)
    }

    /// The mean, ns: the integral of the piecewise linear quantile function.
    pub fn mean(&self) -> f64 {
        (1..self.p.len())
            .map(|i| (self.p[i] - self.p[i - 1]) * (self.x[i] + self.x[i - 1]) / 2.0)
            .sum()
    }
}

/// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_the_tables() {
        for (p, z) in [
            (0.5, 0.0),
            (0.9, 1.281_551_565_545),
            (0.99, 2.326_347_874_041),
            (0.999, 3.090_232_306_168),
            (0.01, -2.326_347_874_041),
        ] {
            assert!((normal_quantile(p) - z).abs() < 1e-8, "Φ⁻¹({p})");
        }
    }

    #[test]
    fn two_percentiles_of_a_lognormal_give_that_lognormal() {
        let lognormal = crate::distribution::Distribution::lognormal_from_median_p99(
            crate::engine::SimDuration::from_millis(2),
            crate::engine::SimDuration::from_millis(20),
        );
        let table = Percentiles::new(&[(0.5, 2e6), (0.99, 20e6)]);
        let rel = (table.mean() - lognormal.mean_nanos()).abs() / lognormal.mean_nanos();
        assert!(
            rel < 1e-6,
            "mean {} against {}",
            table.mean(),
            lognormal.mean_nanos()
        );
        assert!(
            (table.at_score(3.0) - (2e6f64.ln() + 3.0 * (10f64.ln() / 2.326_347_874)).exp()).abs()
                < 1e3
        );
    }

    #[test]
    fn a_quantile_curve_interpolates_and_integrates() {
        let c = QuantileCurve::from_samples(&[3.0, 1.0, 2.0]);
        assert_eq!((c.at(0.0), c.at(0.25), c.at(0.75)), (1.0, 1.5, 2.5));
        assert!((c.mean() - 2.0).abs() < 1e-12);
        let b = QuantileCurve::from_buckets(&[(10.0, 50.0), (20.0, 100.0), (f64::INFINITY, 100.0)]);
        assert_eq!((b.at(0.25), b.at(0.5), b.at(0.75)), (5.0, 10.0, 15.0));
        assert!((b.mean() - 10.0).abs() < 1e-12);
    }
}
