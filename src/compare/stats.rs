//! Statistics across seeds: means with 95% Student t intervals, and paired differences.
//!
//! Every variant and sweep point runs the same seeds (common random numbers), so a
//! variant's difference from `base` is taken seed by seed and its interval comes from the
//! spread of those differences, which is far narrower than the two intervals side by side.

/// Two-sided 95% quantiles of Student's t distribution, `T_975[df - 1]` for df 1 to 30.
const T_975: [f64; 30] = [
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
    2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
    2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
    2.048407, 2.045230, 2.042272,
];

/// The 97.5% quantile of the standard normal distribution.
const Z_975: f64 = 1.959_963_984_540_054;

/// The 97.5% quantile of Student's t distribution with `df` degrees of freedom (the
/// multiplier of a two-sided 95% interval): a table up to 30, then the Cornish-Fisher
/// expansion in 1/df (Abramowitz and Stegun 26.7.5), within 1e-6 there.
pub fn t_975(df: usize) -> f64 {
    assert!(df > 0, "a t quantile needs at least one degree of freedom");
    if df <= T_975.len() {
        return T_975[df - 1];
    }
    let z = Z_975;
    let n = df as f64;
    let g1 = (z.powi(3) + z) / 4.0;
    let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
    let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
    let g4 = (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5)
        - 1920.0 * z.powi(3)
        - 945.0 * z)
        / 92160.0;
    z + g1 / n + g2 / n.powi(2) + g3 / n.powi(3) + g4 / n.powi(4)
}

/// A mean across seeds with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Seeds with a value for the metric.
    pub n: usize,
    /// Their mean; `None` when no seed has a value. Infinite when any value is.
    pub mean: Option<f64>,
    /// The 95% Student t interval of the mean; `None` with fewer than two values or when
    /// the mean is infinite.
    pub ci: Option<(f64, f64)>,
}

/// The mean of `values` (the seeds that have one) with its 95% Student t interval.
pub fn estimate(values: &[f64]) -> Estimate {
    let n = values.len();
    if n == 0 {
        return Estimate {
            n,
            mean: None,
            ci: None,
        };
    }
    if values.iter().any(|v| v.is_infinite()) {
        let mean = values.iter().sum::<f64>();
        return Estimate {
            n,
            mean: (!mean.is_nan()).then_some(mean),
            ci: None,
        };
    }
    let (mean, half) = mean_and_half_width(values);
    Estimate {
        n,
        mean: Some(mean),
        ci: half.map(|h| (mean - h, mean + h)),
    }
}

/// A variant's difference from `base`, seed by seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedDiff {
    /// Seeds where both sides have a value.
    pub n: usize,
    /// The mean difference (variant minus base); infinite when one side never recovered.
    pub mean: Option<f64>,
    /// Its 95% Student t interval; `None` with fewer than two pairs or an infinite mean.
    pub ci: Option<(f64, f64)>,
    /// True when the interval excludes zero; `None` when there is no interval.
    pub significant: Option<bool>,
}

/// The paired difference of `(variant, base)` values, one pair per seed. A pair where both
/// sides are infinite differs by zero; where one side is, by that infinity.
pub fn paired_diff(pairs: &[(f64, f64)]) -> PairedDiff {
    let diffs: Vec<f64> = pairs
        .iter()
        .map(|&(v, b)| {
            if v.is_infinite() && b.is_infinite() && v.signum() == b.signum() {
                0.0
            } else {
                v - b
            }
        })
        .collect();
    let e = estimate(&diffs);
    PairedDiff {
        n: e.n,
        mean: e.mean,
        ci: e.ci,
        significant: e.ci.map(|(lo, hi)| lo > 0.0 || hi < 0.0),
    }
}

/// The mean of finite `values` and the half-width of its 95% interval (`None` for one value).
fn mean_and_half_width(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len();
    // Summed in input order, sequentially: the same bytes whatever the thread count.
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, None);
    }
    let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    (mean, Some(t_975(n - 1) * sd / (n as f64).sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Textbook values (e.g. NIST/SEMATECH e-Handbook, table 1.4.2.7.3).
        assert!((t_975(1) - 12.706).abs() < 1e-3);
        assert!((t_975(9) - 2.262).abs() < 1e-3);
        assert!((t_975(30) - 2.042).abs() < 1e-3);
        assert!((t_975(40) - 2.021).abs() < 1e-3);
        assert!((t_975(60) - 2.000).abs() < 1e-3);
        assert!((t_975(100) - 1.984).abs() < 1e-3);
        assert!((t_975(1_000_000) - Z_975).abs() < 1e-5);
        // The expansion joins the table smoothly.
        assert!((t_975(31) - 2.039513).abs() < 1e-5, "{}", t_975(31));
    }

    #[test]
    fn interval_of_a_textbook_sample() {
        // Ten measurements with mean 10 and sample standard deviation 1: the interval is
        // 10 +- 2.262 / sqrt(10) = 10 +- 0.7153.
        let values = [8.5, 9.0, 9.5, 9.5, 10.0, 10.0, 10.5, 10.5, 11.0, 11.5];
        let sd = {
            let ss: f64 = values.iter().map(|v: &f64| (v - 10.0).powi(2)).sum();
            (ss / 9.0).sqrt()
        };
        let e = estimate(&values);
        assert_eq!(e.n, 10);
        assert!((e.mean.expect("a mean") - 10.0).abs() < 1e-12);
        let (lo, hi) = e.ci.expect("an interval");
        let half = 2.262157 * sd / 10f64.sqrt();
        assert!((lo - (10.0 - half)).abs() < 1e-9 && (hi - (10.0 + half)).abs() < 1e-9);
        assert!((half - 0.7153 * sd).abs() < 1e-3, "{half} {sd}");
    }

    #[test]
    fn one_value_has_no_interval_and_none_has_no_mean() {
        assert_eq!(estimate(&[]).mean, None);
        let e = estimate(&[3.0]);
        assert_eq!((e.mean, e.ci), (Some(3.0), None));
    }

    #[test]
    fn paired_differences_cancel_what_the_pairs_share() {
        // Seed effects of +-5 dwarf the variant's effect of +1, which the pairing recovers
        // exactly: every difference is 1, so the interval is [1, 1] and significant.
        let pairs: Vec<(f64, f64)> = [0.0, 5.0, -5.0, 3.0, -3.0]
            .iter()
            .map(|s| (100.0 + s + 1.0, 100.0 + s))
            .collect();
        let d = paired_diff(&pairs);
        assert_eq!(d.n, 5);
        assert!((d.mean.expect("a mean") - 1.0).abs() < 1e-12);
        assert_eq!(d.significant, Some(true));
        // The unpaired intervals overlap widely: the same data compared side by side says
        // nothing.
        let variant = estimate(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
        let base = estimate(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
        assert!(variant.ci.expect("ci").0 < base.ci.expect("ci").1);

        // Differences of +1 and -1 alternately: mean 0, not significant.
        let d = paired_diff(&[(1.0, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, 1.0)]);
        assert_eq!(d.mean, Some(0.0));
        assert_eq!(d.significant, Some(false));
    }

    #[test]
    fn infinite_recovery_is_carried_not_averaged_away() {
        let e = estimate(&[1.0, f64::INFINITY]);
        assert_eq!((e.mean, e.ci), (Some(f64::INFINITY), None));
        // Base never recovers, the variant does: the difference is minus infinity.
        let d = paired_diff(&[(2.0, f64::INFINITY), (3.0, f64::INFINITY)]);
        assert_eq!(d.mean, Some(f64::NEG_INFINITY));
        assert_eq!(d.significant, None);
        // Both never recover: no difference.
        let d = paired_diff(&[
            (f64::INFINITY, f64::INFINITY),
            (f64::INFINITY, f64::INFINITY),
        ]);
        assert_eq!(d.mean, Some(0.0));
        assert_eq!(d.significant, Some(false));
    }
}
