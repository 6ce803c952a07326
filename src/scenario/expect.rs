//! Expectations: what a scenario promises about its results (`[expect]`), per variant
//! (`[expect.variant.NAME]`), and against a saved baseline (`[expect.baseline]`), as
//! validated plain data that `resim check` evaluates.

use crate::compare::Metric;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `==`
    Eq,
}

impl Op {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Eq => "==",
        }
    }

    /// True when `observed op threshold` holds. Equality allows a relative error of 1e-9
    /// (values come back from six-decimal files); infinities compare as themselves.
    pub fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Op::Ge => observed >= threshold,
            Op::Le => observed <= threshold,
            Op::Gt => observed > threshold,
            Op::Lt => observed < threshold,
            Op::Eq => {
                observed == threshold
                    || (observed - threshold).abs() <= 1e-9 * threshold.abs().max(1e-9)
            }
        }
    }
}

/// What an expectation is evaluated on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    /// The mean across seeds (the default).
    Mean,
    /// Every seed's value.
    EverySeed,
    /// The whole 95% interval of the mean.
    Ci,
}

impl On {
    /// The mode as written.
    pub fn name(self) -> &'static str {
        match self {
            On::Mean => "mean",
            On::EverySeed => "every_seed",
            On::Ci => "ci",
        }
    }
}

/// One promise: `metric op value`, evaluated on `on`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The metric.
    pub metric: Metric,
    /// The operator.
    pub op: Op,
    /// The threshold, in the metric's unit (fractions, ms, s or counts).
    pub value: f64,
    /// The expectation as written, e.g. `>= 99.9%`.
    pub text: String,
    /// What it is evaluated on.
    pub on: On,
    /// Line of the file where it is written.
    pub line: usize,
}

/// How much worse than the baseline a metric may get before `resim check --baseline` fails.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerance {
    /// The metric.
    pub metric: Metric,
    /// The allowed change in the worse direction: an amount in the metric's unit, or a
    /// fraction of the baseline's value.
    pub allowed: Allowed,
    /// As written, e.g. `+5%`.
    pub text: String,
}

/// An allowed worsening.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Allowed {
    /// By at most this much, in the metric's unit.
    Absolute(f64),
    /// By at most this fraction of the baseline's mean.
    Relative(f64),
}

/// Every expectation of a scenario file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expectations {
    /// `[expect]`: for every variant, unless the variant's own table names the same metric.
    pub all: Vec<Expectation>,
    /// `[expect.variant.NAME]`, in file order.
    pub variants: Vec<(String, Vec<Expectation>)>,
    /// `[expect.baseline]`: tolerances replacing the defaults, metric by metric.
    pub baseline: Vec<Tolerance>,
    /// `[expect] seeds`: how many seeds `resim check` runs unless `--seeds` says otherwise.
    pub seeds: Option<u64>,
}

/// Seeds `resim check` runs when neither `--seeds` nor `[expect] seeds` says.
pub const DEFAULT_CHECK_SEEDS: u64 = 5;

impl Expectations {
    /// True when the file states any expectation.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.variants.iter().all(|(_, e)| e.is_empty())
    }

    /// The expectations of `variant`: its own, then those of `[expect]` for metrics it does
    /// not name.
    pub fn for_variant(&self, variant: &str) -> Vec<&Expectation> {
        let own: Vec<&Expectation> = self
            .variants
            .iter()
            .filter(|(v, _)| v == variant)
            .flat_map(|(_, e)| e)
            .collect();
        let mut out: Vec<&Expectation> = self
            .all
            .iter()
            .filter(|e| !own.iter().any(|o| o.metric == e.metric))
            .collect();
        out.extend(own);
        out
    }

    /// The first expectation that `seeds` seeds cannot evaluate: one `on = "ci"` when there
    /// are fewer than 2, since an interval needs two seeds.
    pub fn needing_more_seeds(&self, seeds: u64) -> Option<&Expectation> {
        if seeds >= 2 {
            return None;
        }
        self.all
            .iter()
            .chain(self.variants.iter().flat_map(|(_, e)| e))
            .filter(|e| e.on == On::Ci)
            .min_by_key(|e| e.line)
    }

    /// The baseline tolerances: the file's, and the defaults for the metrics it does not name.
    pub fn tolerances(&self) -> Vec<Tolerance> {
        let mut out = default_tolerances();
        for t in &self.baseline {
            match out.iter_mut().find(|d| d.metric == t.metric) {
                Some(d) => *d = t.clone(),
                None => out.push(t.clone()),
            }
        }
        out
    }
}

/// The tolerances `--baseline` applies when `[expect.baseline]` does not say: availability
/// may drop by 0.1 percentage point, latencies grow by 5%, the failed fraction grow by 0.1
/// point, attempts per request grow by 5%, recovery grow by 1 s, duplicates not grow at all.
pub fn default_tolerances() -> Vec<Tolerance> {
    let t = |metric, allowed, text: &str| Tolerance {
        metric,
        allowed,
        text: text.to_string(),
    };
    vec![
        t(Metric::Availability, Allowed::Absolute(0.001), "-0.001"),
        t(Metric::MeanMs, Allowed::Relative(0.05), "+5%"),
        t(Metric::P50Ms, Allowed::Relative(0.05), "+5%"),
        t(Metric::P99Ms, Allowed::Relative(0.05), "+5%"),
        t(Metric::P999Ms, Allowed::Relative(0.05), "+5%"),
        t(Metric::Failed, Allowed::Absolute(0.001), "+0.001"),
        t(Metric::AttemptsPerRequest, Allowed::Relative(0.05), "+5%"),
        t(Metric::RecoveryS, Allowed::Absolute(1.0), "+1s"),
        t(Metric::Duplicates, Allowed::Absolute(0.0), "+0"),
    ]
}

/// The metric an expectation key names: the short names (`p99`, `mean`, `recovery`) or
/// the `aggregate.csv` ones (`p99_ms`, `recovery_s`).
pub fn metric_of_key(key: &str) -> Option<Metric> {
    let m = match key {
        "mean" | "latency_mean" => Metric::MeanMs,
        "p50" => Metric::P50Ms,
        "p90" => Metric::P90Ms,
        "p99" => Metric::P99Ms,
        "p999" => Metric::P999Ms,
        "recovery" => Metric::RecoveryS,
        "message_mean" => Metric::MessageMeanMs,
        "message_p99" => Metric::MessageP99Ms,
        other => return Metric::from_name(other),
    };
    Some(m)
}

/// The keys an expectation table takes, for messages.
pub fn metric_keys() -> Vec<&'static str> {
    let mut keys = vec!["availability", "p50", "p90", "p99", "p999", "mean"];
    keys.extend(
        Metric::ALL
            .iter()
            .map(|m| m.name())
            .filter(|n| !n.ends_with("_ms") && *n != "availability" && *n != "recovery_s"),
    );
    keys.extend(["message_mean", "message_p99"]);
    keys.push("recovery");
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_hold_as_written() {
        assert!(Op::Ge.holds(0.999, 0.999) && !Op::Gt.holds(0.999, 0.999));
        assert!(Op::Le.holds(250.0, 250.0) && !Op::Lt.holds(250.0, 250.0));
        assert!(Op::Lt.holds(1.0, 2.0) && Op::Gt.holds(2.0, 1.0));
        assert!(Op::Eq.holds(0.0, 0.0) && !Op::Eq.holds(1.0, 0.0));
        assert!(Op::Eq.holds(f64::INFINITY, f64::INFINITY));
        assert!(Op::Le.holds(30.0, f64::INFINITY) && !Op::Le.holds(f64::INFINITY, 30.0));
    }

    #[test]
    fn a_variant_table_overrides_the_metrics_it_names() {
        let e = |metric, value| Expectation {
            metric,
            op: Op::Ge,
            value,
            text: String::new(),
            on: On::Mean,
            line: 1,
        };
        let x = Expectations {
            all: vec![e(Metric::Availability, 0.999), e(Metric::P99Ms, 250.0)],
            variants: vec![("v".into(), vec![e(Metric::Availability, 0.95)])],
            ..Expectations::default()
        };
        let v: Vec<(Metric, f64)> = x
            .for_variant("v")
            .iter()
            .map(|e| (e.metric, e.value))
            .collect();
        assert_eq!(v, [(Metric::P99Ms, 250.0), (Metric::Availability, 0.95)]);
        assert_eq!(x.for_variant("base").len(), 2);
    }

    #[test]
    fn every_metric_has_a_key() {
        for m in Metric::ALL {
            assert!(
                metric_keys().iter().any(|k| metric_of_key(k) == Some(m)),
                "{m}"
            );
        }
    }
}
