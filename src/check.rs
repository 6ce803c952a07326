//! `resim check`: a study's expectations and its baseline gate evaluated against its
//! results, as verdicts a person and a CI system read.

use crate::compare::build::{self, SeriesPoint};
use crate::compare::metric::Better;
use crate::compare::stats::{Estimate, PairedDiff, estimate, paired_diff};
use crate::compare::{Metric, RunRow};
use crate::report::manifest::{Manifest, SCENARIO_FILE};
use crate::scenario::Study;
use crate::scenario::expect::{Allowed, Expectation, On, Op, Tolerance};
use std::collections::BTreeMap;
use std::path::Path;

/// The verdict on one expectation (or one baseline tolerance) for one variant and point.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The scenario's name.
    pub scenario: String,
    /// The variant.
    pub variant: String,
    /// The sweep point, `path=value` joined by commas; empty without a sweep.
    pub point: String,
    /// The metric.
    pub metric: Metric,
    /// What was expected, e.g. `>= 0.999 (mean)` or `baseline -0.001`.
    pub expected: String,
    /// What was observed, e.g. `0.9531 [0.9511, 0.9552]`.
    pub observed: String,
    /// True when it holds.
    pub passed: bool,
    /// For a failure: the seed whose value is worst, to reproduce it.
    pub worst_seed: Option<u64>,
    /// For a failure: where the worst seed's time series shows the breach.
    pub breach: Option<String>,
    /// Line of the scenario file the expectation is written on, when it is one.
    pub line: Option<usize>,
    /// False for a baseline comparison that found no significant change: shown only as a
    /// count, so that the report lists what moved.
    pub notable: bool,
}

impl Verdict {
    /// The command that reproduces this verdict's worst seed.
    pub fn reproduce(&self, file: &str) -> Option<String> {
        let seed = self.worst_seed?;
        let mut cmd = format!("resim run {file} --seed {seed} --variant {}", self.variant);
        if !self.point.is_empty() {
            cmd.push_str(&format!("   # sweep point {}", self.point));
        }
        Some(cmd)
    }
}

/// A study's results as `check` reads them: the output folder and its runs, cell by cell.
pub struct Results<'a> {
    /// The output folder.
    pub dir: &'a Path,
    /// The study that ran.
    pub study: &'a Study,
    /// Its manifest.
    pub manifest: Manifest,
    /// One list of rows per cell, in the manifest's cell order.
    pub runs: Vec<Vec<RunRow>>,
}

impl<'a> Results<'a> {
    /// Reads the runs of `dir`, which `study` was run into.
    pub fn read(dir: &'a Path, study: &'a Study) -> Result<Results<'a>, String> {
        let (manifest, runs) = build::read_runs(dir)?;
        Ok(Results {
            dir,
            study,
            manifest,
            runs,
        })
    }

    fn keys(&self) -> Vec<(String, Vec<String>)> {
        build::cell_keys(&self.manifest)
    }

    fn point_label(&self, point: &[String]) -> String {
        self.manifest
            .sweep
            .paths
            .iter()
            .zip(point)
            .map(|(p, v)| format!("{p}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Evaluates every expectation of the study on every cell of `results`.
pub fn expectations(results: &Results) -> Result<Vec<Verdict>, String> {
    let mut out = Vec::new();
    for (key, runs) in results.keys().iter().zip(&results.runs) {
        for e in results.study.expectations.for_variant(&key.0) {
            let mut v = evaluate(e, runs);
            v.scenario.clone_from(&results.study.base.name);
            v.variant.clone_from(&key.0);
            v.point = results.point_label(&key.1);
            if !v.passed
                && let Some(seed) = v.worst_seed
            {
                let series = build::read_series(results.dir, key, seed)?;
                v.breach = breach(e.metric, &series, results.study);
            }
            out.push(v);
        }
    }
    Ok(out)
}

/// The verdict of `e` on one cell's runs (scenario, variant and point left empty).
fn evaluate(e: &Expectation, runs: &[RunRow]) -> Verdict {
    let values: Vec<(u64, f64)> = runs
        .iter()
        .filter_map(|r| Some((r.seed, r.value(e.metric)?)))
        .collect();
    let plain: Vec<f64> = values.iter().map(|v| v.1).collect();
    let est = estimate(&plain);
    let holds = |v: f64| e.op.holds(v, e.value);
    let passed = match e.on {
        On::Mean => est.mean.is_some_and(holds),
        On::EverySeed => !values.is_empty() && values.iter().all(|v| holds(v.1)),
        On::Ci => est.ci.is_some_and(|(lo, hi)| match e.op {
            Op::Ge | Op::Gt => holds(lo),
            Op::Le | Op::Lt => holds(hi),
            Op::Eq => holds(lo) && holds(hi),
        }),
    };
    let observed = match e.on {
        On::EverySeed if !values.is_empty() => {
            let lo = plain.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = plain.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!(
                "{} to {} over {} seeds",
                show(e.metric, lo),
                show(e.metric, hi),
                values.len()
            )
        }
        On::Ci if est.ci.is_none() && est.mean.is_some() => format!(
            "{} (no interval: {} seed(s); `on = \"ci\"` needs 2 or more)",
            show(e.metric, est.mean.unwrap_or(0.0)),
            est.n
        ),
        _ => show_estimate(e.metric, &est),
    };
    let worst = if passed {
        None
    } else {
        values
            .iter()
            .copied()
            .max_by(|a, b| {
                badness(e, a.1)
                    .total_cmp(&badness(e, b.1))
                    .then(b.0.cmp(&a.0))
            })
            .map(|v| v.0)
    };
    Verdict {
        scenario: String::new(),
        variant: String::new(),
        point: String::new(),
        metric: e.metric,
        expected: format!("{} ({})", e.text, e.on.name()),
        observed,
        passed,
        worst_seed: worst,
        breach: None,
        line: Some(e.line),
        notable: true,
    }
}

/// How far `v` is on the wrong side of `e`: larger is worse.
fn badness(e: &Expectation, v: f64) -> f64 {
    let d = match e.op {
        Op::Ge | Op::Gt => e.value - v,
        Op::Le | Op::Lt => v - e.value,
        Op::Eq => (v - e.value).abs(),
    };
    if d.is_nan() { 0.0 } else { d }
}

/// Where a run's time series shows a breach of `metric`: the bucket with the lowest
/// availability (availability, failures, recovery), the highest latency (latencies), or
/// the most attempts per request (retries); `None` for counters without a time series.
fn breach(metric: Metric, series: &[SeriesPoint], study: &Study) -> Option<String> {
    let bucket = study.base.bucket.as_nanos() as f64 / 1e9;
    let at = |p: &SeriesPoint| format!("{}-{} s", trim(p.t_s), trim(p.t_s + bucket));
    let by = |f: &dyn Fn(&SeriesPoint) -> Option<f64>| {
        series
            .iter()
            .filter_map(|p| Some((p, f(p)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.t_s.total_cmp(&a.0.t_s)))
    };
    match metric {
        Metric::P50Ms | Metric::P90Ms | Metric::MeanMs => by(&|p| p.p50_ms)
            .map(|(p, v)| format!("timeseries.csv: p50 peaks at {v:.3} ms in {}", at(p))),
        Metric::P99Ms | Metric::P999Ms => by(&|p| p.p99_ms)
            .map(|(p, v)| format!("timeseries.csv: p99 peaks at {v:.3} ms in {}", at(p))),
        Metric::AttemptsPerRequest | Metric::Retries => {
            by(&|p| (p.requests > 0).then(|| p.attempts as f64 / p.requests as f64))
                .map(|(p, v)| format!("timeseries.csv: {v:.3} attempts per request in {}", at(p)))
        }
        m if m.is_fraction() || m == Metric::RecoveryS => {
            let worst = by(&|p| p.availability.map(|a| -a))?;
            let low = series
                .iter()
                .filter(|p| p.availability.is_some_and(|a| a < 0.99))
                .collect::<Vec<_>>();
            let span = match (low.first(), low.last()) {
                (Some(a), Some(b)) => format!(
                    "; below 99% from {} s to {} s",
                    trim(a.t_s),
                    trim(b.t_s + bucket)
                ),
                _ => String::new(),
            };
            Some(format!(
                "timeseries.csv: availability falls to {:.4}% in {}{span}",
                -worst.1 * 100.0,
                at(worst.0)
            ))
        }
        // Hedges, budget refusals, duplicates and drops have no time series.
        _ => None,
    }
}

/// Evaluates the baseline gate: for each cell and each tolerance, this run's runs against
/// the baseline's, seed by seed. A metric fails when it got significantly worse (the 95%
/// interval of the paired difference lies on the worse side of zero; with one seed, the
/// difference itself) by more than its tolerance.
pub fn baseline(
    results: &Results,
    base_manifest: &Manifest,
    base_runs: &[Vec<RunRow>],
    tolerances: &[Tolerance],
) -> Result<Vec<Verdict>, String> {
    let (m, b) = (&results.manifest, base_manifest);
    let mismatch = |what: &str, a: String, z: String| {
        Err(format!(
            "the baseline ran other {what} ({z}) than this check ({a}); expected the same seeds, variants and sweep points, so that runs pair seed by seed: run the baseline with the same `--seeds` and `--variant`"
        ))
    };
    if m.seeds != b.seeds {
        return mismatch(
            "seeds",
            format!("{} from {}", m.seeds.count, m.seeds.first),
            format!("{} from {}", b.seeds.count, b.seeds.first),
        );
    }
    if m.variants != b.variants {
        return mismatch("variants", m.variants.join(", "), b.variants.join(", "));
    }
    if m.sweep != b.sweep {
        return mismatch(
            "sweep points",
            format!("{:?}", m.sweep.points),
            format!("{:?}", b.sweep.points),
        );
    }
    let mut out = Vec::new();
    for ((key, runs), base) in results.keys().iter().zip(&results.runs).zip(base_runs) {
        for t in tolerances {
            let mut v = gate(t, runs, base);
            v.scenario.clone_from(&results.study.base.name);
            v.variant.clone_from(&key.0);
            v.point = results.point_label(&key.1);
            if let Some(seed) = v.worst_seed {
                let series = build::read_series(results.dir, key, seed)?;
                v.breach = breach(t.metric, &series, results.study);
            }
            out.push(v);
        }
    }
    Ok(out)
}

/// The verdict of tolerance `t` on one cell: its runs against the baseline's.
fn gate(t: &Tolerance, runs: &[RunRow], base: &[RunRow]) -> Verdict {
    let by_seed: BTreeMap<u64, &RunRow> = base.iter().map(|r| (r.seed, r)).collect();
    let pairs: Vec<(u64, f64, f64)> = runs
        .iter()
        .filter_map(|r| {
            let b = by_seed.get(&r.seed)?;
            Some((r.seed, r.value(t.metric)?, b.value(t.metric)?))
        })
        .collect();
    let d: PairedDiff = paired_diff(&pairs.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>());
    let base_mean = estimate(&pairs.iter().map(|p| p.2).collect::<Vec<_>>()).mean;
    let sign = if t.metric.better() == Better::Higher {
        -1.0
    } else {
        1.0
    };
    // The worsening (positive when worse), its interval, and the allowance.
    let worse = d.mean.map(|m| m * sign);
    let allowed = match t.allowed {
        Allowed::Absolute(a) => a,
        Allowed::Relative(r) => base_mean.map_or(0.0, |b| r * b.abs()),
    };
    let significant = match d.ci {
        Some((lo, hi)) => (lo * sign).min(hi * sign) > 0.0,
        None => worse.is_some_and(|w| w > 0.0),
    };
    let moved = d.significant.unwrap_or(d.mean.is_some_and(|m| m != 0.0));
    let passed = !(significant && worse.is_some_and(|w| w > allowed));
    let observed = match d.mean {
        None => "no value in both runs".to_string(),
        Some(m) => {
            let ci = d
                .ci
                .map(|(lo, hi)| format!(" [{}, {}]", signed(t.metric, lo), signed(t.metric, hi)))
                .unwrap_or_default();
            let base = base_mean
                .map(|b| format!(" from {}", show(t.metric, b)))
                .unwrap_or_default();
            format!("{}{ci}{base}", signed(t.metric, m))
        }
    };
    let worst_seed = (!passed)
        .then(|| {
            pairs
                .iter()
                .max_by(|a, b| ((a.1 - a.2) * sign).total_cmp(&((b.1 - b.2) * sign)))
                .map(|p| p.0)
        })
        .flatten();
    Verdict {
        scenario: String::new(),
        variant: String::new(),
        point: String::new(),
        metric: t.metric,
        expected: format!("baseline {}", t.text),
        observed,
        passed,
        worst_seed,
        breach: None,
        line: None,
        notable: moved || !passed,
    }
}

/// The keys whose values differ between two scenario texts (added, removed or changed),
/// as dotted paths, sorted.
pub fn changed_keys(before: &str, after: &str) -> Vec<String> {
    let flat = |text: &str| -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Ok(v) = text.parse::<toml::Table>() {
            flatten("", &toml::Value::Table(v), &mut out);
        }
        out
    };
    let (a, b) = (flat(before), flat(after));
    let mut keys: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .chain(b.keys().filter(|k| !a.contains_key(*k)).cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Flattens `v` into `out` as path -> value; list entries are named by their `name` (or
/// `to`) when they have one, else by position.
fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&join(k), v, out);
            }
        }
        toml::Value::Array(items) if items.iter().all(|i| i.is_table()) && !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let label = ["name", "to"]
                    .iter()
                    .find_map(|k| item.get(k).and_then(|n| n.as_str()).map(str::to_string))
                    .unwrap_or_else(|| i.to_string());
                flatten(&join(&label), item, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The scenario text a baseline folder ran, if it kept it.
pub fn baseline_text(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(SCENARIO_FILE)).ok()
}

/// A value of `metric` as a person reads it.
pub fn show(metric: Metric, v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    match metric {
        m if m.is_fraction() => format!("{:.4}%", v * 100.0),
        Metric::RecoveryS => format!("{v:.3} s"),
        m if m.name().ends_with("_ms") => format!("{v:.3} ms"),
        _ => format!("{v:.3}"),
    }
}

/// A difference of `metric` with its sign.
fn signed(metric: Metric, v: f64) -> String {
    let s = show(metric, v.abs());
    let s = if metric.is_fraction() {
        s.replace('%', " pp")
    } else {
        s
    };
    if v < 0.0 {
        format!("-{s}")
    } else {
        format!("+{s}")
    }
}

/// A mean and its interval as a person reads them.
fn show_estimate(metric: Metric, e: &Estimate) -> String {
    match (e.mean, e.ci) {
        (None, _) => "no value (no run has one)".to_string(),
        (Some(m), Some((lo, hi))) => format!(
            "{} [{}, {}]",
            show(metric, m),
            show(metric, lo),
            show(metric, hi)
        ),
        (Some(m), None) => show(metric, m),
    }
}

/// Seconds without trailing zeros.
fn trim(s: f64) -> String {
    crate::report::format::seconds((s * 1e9).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seed: u64, ok: u64) -> RunRow {
        RunRow {
            seed,
            counts: crate::metrics::Counts {
                requests: 1000,
                ok,
                errors: 1000 - ok,
                attempts: 1000,
                ..Default::default()
            },
            ..RunRow::default()
        }
    }

    fn expectation(op: Op, value: f64, on: On) -> Expectation {
        Expectation {
            metric: Metric::Availability,
            op,
            value,
            text: format!("{} {value}", op.symbol()),
            on,
            line: 3,
        }
    }

    #[test]
    fn the_three_modes_judge_mean_every_seed_and_interval() {
        let runs = [row(1, 990), row(2, 995), row(3, 1000)];
        // Mean 0.995: holds on the mean; seed 1 (0.990) breaks every_seed; the interval
        // reaches below 0.99.
        let mean = evaluate(&expectation(Op::Ge, 0.994, On::Mean), &runs);
        assert!(mean.passed, "{mean:?}");
        let every = evaluate(&expectation(Op::Ge, 0.994, On::EverySeed), &runs);
        assert!(!every.passed);
        assert_eq!(every.worst_seed, Some(1));
        let ci = evaluate(&expectation(Op::Ge, 0.99, On::Ci), &runs);
        assert!(!ci.passed, "{ci:?}");
        let ci = evaluate(&expectation(Op::Ge, 0.97, On::Ci), &runs);
        assert!(ci.passed, "{ci:?}");
        let one = evaluate(&expectation(Op::Ge, 0.5, On::Ci), &runs[..1]);
        assert!(!one.passed && one.observed.contains("needs 2 or more"));
    }

    #[test]
    fn the_gate_fails_only_significant_worsening_beyond_the_tolerance() {
        let base: Vec<RunRow> = (1..=5).map(|s| row(s, 990 + s)).collect();
        let same = gate(
            &Tolerance {
                metric: Metric::Availability,
                allowed: Allowed::Absolute(0.001),
                text: "-0.001".into(),
            },
            &base,
            &base,
        );
        assert!(same.passed, "{same:?}");
        // Every seed 1 point worse: significant, and beyond 0.1 point.
        let worse: Vec<RunRow> = base.iter().map(|r| row(r.seed, r.counts.ok - 10)).collect();
        let t = Tolerance {
            metric: Metric::Availability,
            allowed: Allowed::Absolute(0.001),
            text: "-0.001".into(),
        };
        let v = gate(&t, &worse, &base);
        assert!(!v.passed, "{v:?}");
        assert!(v.observed.starts_with("-1.0000 pp"), "{}", v.observed);
        // Within a looser tolerance it passes.
        let loose = Tolerance {
            allowed: Allowed::Absolute(0.02),
            ..t.clone()
        };
        assert!(gate(&loose, &worse, &base).passed);
        // Better is never a failure.
        assert!(gate(&t, &base, &worse).passed);
    }

    #[test]
    fn changed_keys_name_entries_by_name() {
        let a =
            "name = \"x\"\n[[service]]\nname = \"db\"\nreplicas = 2\n[[service]]\nname = \"api\"\n";
        let b = "name = \"x\"\n[[service]]\nname = \"db\"\nreplicas = 4\n[[service]]\nname = \"api\"\nqueue = 5\n";
        assert_eq!(
            changed_keys(a, b),
            ["service.api.queue", "service.db.replicas"]
        );
        assert!(changed_keys(a, a).is_empty());
    }
}
