//! Empirical distributions: a latency table of `percentiles`, or a `file` of samples or
//! histogram buckets.

use super::{Checker, show};
use crate::distribution::Distribution;
use crate::distribution::empirical::{Percentiles, QuantileCurve};
use crate::scenario::file::{DistributionFile, PercentileTable};
use crate::telemetry::latency;
use std::ops::Range;
use std::sync::Arc;
use toml::Spanned;

/// The units a latency file's plain numbers may be in, with their length in ns.
const UNITS: [(&str, f64); 4] = [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)];

impl Checker<'_> {
    /// An `empirical` distribution of `what`: exactly one of `percentiles` and `file`.
    pub(super) fn empirical(
        &mut self,
        f: &DistributionFile,
        table: &Range<usize>,
        what: &str,
    ) -> Option<Distribution> {
        match (&f.percentiles, &f.file) {
            (None, None) => {
                self.missing(
                    table,
                    "percentiles",
                    format!(
                        "the empirical distribution of `{what}` has neither `percentiles` nor `file`; expected one, like {{ kind = \"empirical\", percentiles = {{ p50 = \"4ms\", p99 = \"80ms\" }} }} or {{ kind = \"empirical\", file = \"latency.csv\" }}"
                    ),
                );
                None
            }
            (Some(_), Some(file)) => {
                self.error(
                    file.span(),
                    "an empirical distribution has both `percentiles` and `file`; expected one of them",
                );
                None
            }
            (Some(p), None) => {
                if let Some(unit) = &f.unit {
                    self.error(
                        unit.span(),
                        "`unit` applies to the plain numbers of a latency `file`; expected no `unit` with `percentiles`, whose values carry their units",
                    );
                    return None;
                }
                self.percentiles(p)
            }
            (None, Some(file)) => {
                let unit_ns = match &f.unit {
                    None => 1e9,
                    Some(u) => match UNITS.iter().find(|(name, _)| name == u.get_ref()) {
                        Some(&(_, ns)) => ns,
                        None => {
                            self.error(
                                u.span(),
                                format!(
                                    "unknown unit \"{}\"; expected one of ns, us, ms, s (the unit of the file's plain numbers; seconds by default)",
                                    crate::scenario::diagnostic::shorten(u.get_ref(), 20)
                                ),
                            );
                            return None;
                        }
                    },
                };
                let (shown, text) = self.data_file(file)?;
                match latency::read(&text, unit_ns) {
                    Ok(data) => Some(Distribution::Empirical(Arc::new(QuantileCurve::from_data(
                        &data,
                    )))),
                    Err(e) => {
                        self.data_error(file.span(), &shown, &e);
                        None
                    }
                }
            }
        }
    }

    /// A latency table: at least two percentiles, values positive and not decreasing as the
    /// percentile grows.
    fn percentiles(&mut self, t: &Spanned<PercentileTable>) -> Option<Distribution> {
        let mut points: Vec<(f64, &Spanned<String>, &Spanned<_>)> = Vec::new();
        let mut ok = true;
        for (key, value) in t.get_ref() {
            match percentile_of(key.get_ref()) {
                Some(p) => points.push((p, key, value)),
                None => {
                    ok = false;
                    self.error(
                        key.span(),
                        format!(
                            "`{}` is not a percentile; expected keys like p50, p90, p99, p999 (99.9%) or \"p99.99\", below 100",
                            crate::scenario::diagnostic::shorten(key.get_ref(), 20)
                        ),
                    );
                }
            }
        }
        if !ok {
            return None;
        }
        if points.len() < 2 {
            self.error(
                t.span(),
                "`percentiles` has fewer than two entries; expected at least two, like { p50 = \"4ms\", p99 = \"80ms\" }",
            );
            return None;
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in points.windows(2) {
            let ((p0, k0, v0), (p1, k1, v1)) = (&pair[0], &pair[1]);
            if p0 == p1 {
                self.error(
                    k1.span(),
                    format!(
                        "`{}` is the same percentile as `{}`; expected each once",
                        k1.get_ref(),
                        k0.get_ref()
                    ),
                );
                return None;
            }
            if v1.get_ref().0 < v0.get_ref().0 {
                self.error(
                    v1.span(),
                    format!(
                        "`{}` ({}) is below `{}` ({}); expected latencies that grow with the percentile",
                        k1.get_ref(),
                        show(v1.get_ref().0),
                        k0.get_ref(),
                        show(v0.get_ref().0)
                    ),
                );
                return None;
            }
        }
        if let Some((_, k, v)) = points
            .iter()
            .find(|(_, _, v)| v.get_ref().0.as_nanos() == 0)
        {
            self.error(
                v.span(),
                format!(
                    "`{}` is zero; expected a latency greater than zero",
                    k.get_ref()
                ),
            );
            return None;
        }
        let table: Vec<(f64, f64)> = points
            .iter()
            .map(|(p, _, v)| (*p, v.get_ref().0.as_nanos() as f64))
            .collect();
        Some(Distribution::Percentiles(Arc::new(Percentiles::new(
            &table,
        ))))
    }
}

/// The probability a percentile key names: `p50` is 0.5, `p999` 0.999, `p9999` 0.9999,
/// `p5` 0.05, `p99.9` 0.999 (the first two digits are the whole percent, the rest its
/// decimals); `None` unless strictly between 0 and 100.
pub(super) fn percentile_of(key: &str) -> Option<f64> {
    let digits = key.strip_prefix(['p', 'P'])?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    // The percent as whole and decimal digits, then one division (so p999 is exactly the
    // f64 nearest 0.999).
    if digits.starts_with("100") {
        return None; // p100 and above: not below 100%
    }
    let (whole, decimals) = match digits.split_once('.') {
        Some((w, d)) => (w, d),
        None if digits.len() <= 2 => (digits, ""),
        None => digits.split_at(2),
    };
    if whole.is_empty() || whole.len() > 2 || decimals.contains('.') || decimals.len() > 12 {
        return None;
    }
    let n: u64 = format!("{whole}{decimals}").parse().ok()?;
    let denominator = 100.0 * 10f64.powi(decimals.len() as i32);
    let p = n as f64 / denominator;
    (p > 0.0 && p < 1.0).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::percentile_of;

    #[test]
    fn percentile_keys_read_as_dashboards_write_them() {
        assert_eq!(percentile_of("p50"), Some(0.5));
        assert_eq!(percentile_of("p999"), Some(0.999));
        assert_eq!(percentile_of("p9999"), Some(0.9999));
        assert_eq!(percentile_of("p5"), Some(0.05));
        assert_eq!(percentile_of("p99.9"), Some(0.999));
        for bad in ["p100", "p0", "median", "p", "p1000", "px"] {
            assert_eq!(percentile_of(bad), None, "{bad}");
        }
    }
}
