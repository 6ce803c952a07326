//! The tables `resim run` prints: one line per run (a long list shows its first and last
//! runs), and one line per (variant, sweep point) with intervals and differences from base.

use super::format::human_count;
use crate::compare::{Analysis, Metric};
use crate::run::RunResult;
use std::collections::VecDeque;
use std::fmt::Write;

/// Runs shown at each end of a long list.
const SHOWN_AT_EACH_END: usize = 10;

/// One run as the table shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunLine {
    variant: String,
    point: String,
    seed: u64,
    requests: u64,
    availability: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
}

/// The lines of the runs table, kept for the first and last runs only, so a sweep of a
/// million runs holds twenty lines.
#[derive(Debug, Default)]
pub struct RunLines {
    first: Vec<RunLine>,
    last: VecDeque<RunLine>,
    total: usize,
    sums: (f64, f64, u64, f64, u64, f64, u64),
}

impl RunLines {
    /// Adds `run`, which ran at sweep point `point`.
    pub fn push(&mut self, run: &RunResult, point: &[String]) {
        let t = &run.metrics.totals;
        let l = run.metrics.latency.as_ref();
        let line = RunLine {
            variant: run.variant.clone(),
            point: point.join(","),
            seed: run.seed,
            requests: t.requests,
            availability: t.availability(),
            p50_ms: l.map(|l| l.p50_ns as f64 / 1e6),
            p99_ms: l.map(|l| l.p99_ns as f64 / 1e6),
        };
        let s = &mut self.sums;
        s.0 += line.requests as f64;
        if let Some(a) = line.availability {
            (s.1, s.2) = (s.1 + a, s.2 + 1);
        }
        if let (Some(p50), Some(p99)) = (line.p50_ms, line.p99_ms) {
            (s.3, s.4, s.5, s.6) = (s.3 + p50, s.4 + 1, s.5 + p99, s.6 + 1);
        }
        self.total += 1;
        if self.first.len() < SHOWN_AT_EACH_END {
            self.first.push(line);
        } else {
            if self.last.len() == SHOWN_AT_EACH_END {
                self.last.pop_front();
            }
            self.last.push_back(line);
        }
    }

    /// The table as text, with a mean line when there are several runs.
    pub fn table(&self) -> String {
        let with_point = self.first.iter().any(|l| !l.point.is_empty());
        let mut out = String::new();
        let point_header = if with_point { "point" } else { "" };
        let width = if with_point { 12 } else { 0 };
        let _ = writeln!(
            out,
            "{:<16} {:>width$} {:>12} {:>10} {:>13} {:>10} {:>10}",
            "variant", point_header, "seed", "requests", "availability", "p50_ms", "p99_ms"
        );
        let row = |out: &mut String, l: &RunLine| {
            let _ = writeln!(
                out,
                "{:<16} {:>width$} {:>12} {:>10} {:>13} {:>10} {:>10}",
                l.variant,
                l.point,
                l.seed,
                l.requests,
                l.availability
                    .map_or("-".into(), |a| format!("{:.4}%", a * 100.0)),
                l.p50_ms.map_or("-".into(), |v| format!("{v:.3}")),
                l.p99_ms.map_or("-".into(), |v| format!("{v:.3}")),
            );
        };
        for l in &self.first {
            row(&mut out, l);
        }
        let hidden = self.total - self.first.len() - self.last.len();
        if hidden > 0 {
            let _ = writeln!(out, "{:>16} ({hidden} runs not shown)", "...");
        }
        for l in &self.last {
            row(&mut out, l);
        }
        if self.total > 1 {
            let s = &self.sums;
            let mean = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
            let _ = writeln!(
                out,
                "{:<16} {:>width$} {:>12} {:>10} {:>13} {:>10} {:>10}",
                "mean",
                "",
                format!("{} runs", self.total),
                human_count(s.0 / self.total as f64),
                mean(s.1, s.2).map_or("-".into(), |a| format!("{:.4}%", a * 100.0)),
                mean(s.3, s.4).map_or("-".into(), |v| format!("{v:.3}")),
                mean(s.5, s.6).map_or("-".into(), |v| format!("{v:.3}")),
            );
        }
        out
    }
}

/// One line per (variant, sweep point): availability and p99 with their 95% intervals, and
/// each variant's paired difference from base (`*` marks a significant one).
pub fn cells_table(a: &Analysis) -> String {
    let mut out = String::new();
    let point = |c: &crate::compare::analysis::Cell| c.point.join(",");
    let pw = a
        .cells
        .iter()
        .map(|c| point(c).len())
        .max()
        .unwrap_or(0)
        .max(5);
    let vw = a
        .cells
        .iter()
        .map(|c| c.variant.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let pw = if a.sweep_paths.is_empty() { 0 } else { pw };
    let _ = writeln!(
        out,
        "{:<vw$} {:>pw$} {:>5}  {:>22}  {:>24}  vs base (* significant)",
        "variant",
        if pw > 0 { "point" } else { "" },
        "seeds",
        "availability (95% CI)",
        "p99_ms (95% CI)",
    );
    for c in &a.cells {
        let avail = c.metric(Metric::Availability);
        let p99 = c.metric(Metric::P99Ms);
        let with_ci = |e: &crate::compare::stats::Estimate,
                       scale: f64,
                       unit: &str,
                       digits: usize| match (e.mean, e.ci) {
            (None, _) => "-".to_string(),
            (Some(m), Some((lo, hi))) => {
                format!(
                    "{:.digits$}{unit} ± {:.digits$}{unit}",
                    m * scale,
                    (hi - lo) / 2.0 * scale
                )
            }
            (Some(m), None) => format!("{:.digits$}{unit}", m * scale),
        };
        let diff =
            |s: &crate::compare::analysis::MetricSummary, scale: f64, unit: &str, name: &str| {
                s.diff.as_ref().and_then(|d| d.mean).map(|m| {
                    let mark = if s.diff.as_ref().and_then(|d| d.significant) == Some(true) {
                        "*"
                    } else {
                        ""
                    };
                    format!("{name} {:+.3}{unit}{mark}", m * scale)
                })
            };
        let diffs: Vec<String> = [
            diff(avail, 100.0, " pp", "availability"),
            diff(p99, 1.0, " ms", "p99"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = writeln!(
            out,
            "{:<vw$} {:>pw$} {:>5}  {:>22}  {:>24}  {}",
            c.variant,
            if pw > 0 { point(c) } else { String::new() },
            a.seeds,
            with_ci(&avail.estimate, 100.0, "%", 4),
            with_ci(&p99.estimate, 1.0, "", 3),
            diffs.join(", ")
        );
    }
    out
}
