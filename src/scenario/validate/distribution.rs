//! Distribution tables (`service_time`, `think_time`, latencies): the keys each kind needs, and their values.

use super::{Checker, article, show};
use crate::distribution::Distribution;
use crate::scenario::file::DistributionFile;
use crate::scenario::units::DurationValue;
use std::ops::Range;
use toml::Spanned;

/// The distribution kinds, the keys each takes (in the order the docs list them), and an
/// example of each.
const DISTRIBUTION_KINDS: [(&str, &[&str], &str); 7] = [
    ("constant", &["value"], "value = \"1ms\""),
    ("exponential", &["mean"], "mean = \"4ms\""),
    ("uniform", &["min", "max"], "min = \"1ms\", max = \"5ms\""),
    (
        "lognormal",
        &["median", "p99"],
        "median = \"2ms\", p99 = \"20ms\"",
    ),
    (
        "normal",
        &["mean", "stddev"],
        "mean = \"10ms\", stddev = \"2ms\"",
    ),
    (
        "pareto",
        &["scale", "shape"],
        "scale = \"1ms\", shape = 1.5",
    ),
    (
        "empirical",
        &["percentiles", "file", "unit"],
        "percentiles = { p50 = \"4ms\", p99 = \"80ms\" }",
    ),
];

impl Checker<'_> {
    /// The distribution table `d`; `what` names it in messages (`service_time`, ...).
    pub(super) fn distribution(
        &mut self,
        d: &Spanned<DistributionFile>,
        what: &str,
    ) -> Option<Distribution> {
        let table = d.span();
        let f = d.get_ref();
        let durations = [
            ("value", &f.value),
            ("mean", &f.mean),
            ("min", &f.min),
            ("max", &f.max),
            ("median", &f.median),
            ("p99", &f.p99),
            ("stddev", &f.stddev),
            ("scale", &f.scale),
        ];
        let mut present: Vec<(&str, Option<Range<usize>>)> = durations
            .iter()
            .map(|(k, v)| (*k, v.as_ref().map(Spanned::span)))
            .collect();
        present.push(("shape", f.shape.as_ref().map(Spanned::span)));
        present.push(("percentiles", f.percentiles.as_ref().map(Spanned::span)));
        present.push(("file", f.file.as_ref().map(Spanned::span)));
        present.push(("unit", f.unit.as_ref().map(Spanned::span)));
        let kinds: Vec<(&str, &[&str])> = DISTRIBUTION_KINDS
            .iter()
            .map(|(k, keys, _)| (*k, *keys))
            .collect();
        let kind = self.kind(&f.kind, &table, &kinds, &present, "distribution")?;
        if kind == "empirical" {
            return self.empirical(f, &table, what);
        }
        let (_, keys, example) = DISTRIBUTION_KINDS.iter().find(|(k, ..)| *k == kind)?;
        let mut complete = true;
        for key in keys.iter() {
            if !present.iter().any(|(k, s)| k == key && s.is_some()) {
                complete = false;
                self.missing(
                    &table,
                    key,
                    format!(
                        "the {kind} distribution of `{what}` has no `{key}`; expected {}, like {{ kind = \"{kind}\", {example} }}",
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                );
            }
        }
        if !complete {
            return None;
        }
        let duration = |v: &Option<Spanned<DurationValue>>| v.as_ref().map(|v| v.get_ref().0);
        let ns =
            |v: &Option<Spanned<DurationValue>>| duration(v).map_or(0.0, |d| d.as_nanos() as f64);
        let span =
            |v: &Option<Spanned<DurationValue>>| v.as_ref().map_or(table.clone(), Spanned::span);
        let positive = |checker: &mut Self, key: &str, v: &Option<Spanned<DurationValue>>| {
            if ns(v) > 0.0 {
                return true;
            }
            checker.error(
                span(v),
                format!(
                    "`{key}` of {} {kind} distribution is zero; expected a duration greater than zero",
                    article(kind)
                ),
            );
            false
        };
        let result = match kind {
            "constant" => Distribution::Constant(duration(&f.value)?),
            "exponential" => {
                if !positive(self, "mean", &f.mean) {
                    return None;
                }
                Distribution::Exponential { mean: ns(&f.mean) }
            }
            "uniform" => {
                if ns(&f.max) < ns(&f.min) {
                    self.error(
                        span(&f.max),
                        format!(
                            "a uniform's `max` ({}) is below its `min` ({}); expected min <= max",
                            show(duration(&f.max)?),
                            show(duration(&f.min)?)
                        ),
                    );
                    return None;
                }
                Distribution::Uniform {
                    min: ns(&f.min),
                    max: ns(&f.max),
                }
            }
            "lognormal" => {
                if !positive(self, "median", &f.median) {
                    return None;
                }
                let (median, p99) = (duration(&f.median)?, duration(&f.p99)?);
                if p99 < median {
                    self.error(
                        span(&f.p99),
                        format!(
                            "a lognormal's `p99` ({}) is below its `median` ({}); expected p99 >= median",
                            show(p99),
                            show(median)
                        ),
                    );
                    return None;
                }
                Distribution::lognormal_from_median_p99(median, p99)
            }
            "normal" => Distribution::Normal {
                mean: ns(&f.mean),
                stddev: ns(&f.stddev),
            },
            "pareto" => {
                let shape = f.shape.as_ref()?;
                let scale_ok = positive(self, "scale", &f.scale);
                let shape_ok = shape.get_ref().is_finite() && *shape.get_ref() > 0.0;
                if !shape_ok {
                    self.error(
                        shape.span(),
                        format!(
                            "a pareto's `shape` is {}; expected a number greater than zero, like 1.5",
                            shape.get_ref()
                        ),
                    );
                }
                if !(scale_ok && shape_ok) {
                    return None;
                }
                Distribution::Pareto {
                    scale: ns(&f.scale),
                    shape: *shape.get_ref(),
                }
            }
            _ => return None,
        };
        Some(result)
    }
}
