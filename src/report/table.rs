//! The short table `resim run` prints: one line per run, and the mean over runs.

use super::format::human_count;
use crate::run::RunResult;
use std::fmt::Write;

/// Rows printed before the table elides the middle of a long sweep.
const MAX_ROWS: usize = 20;

/// The table of `runs` as text, one line per run (a long sweep shows its first and last
/// rows), with a mean line when there are several runs.
pub fn runs_table(runs: &[RunResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:>12} {:>10} {:>13} {:>10} {:>10}",
        "variant", "seed", "requests", "availability", "p50_ms", "p99_ms"
    );
    let shown: Vec<(usize, &RunResult)> = if runs.len() <= MAX_ROWS {
        runs.iter().enumerate().collect()
    } else {
        let half = MAX_ROWS / 2;
        runs.iter()
            .enumerate()
            .filter(|(i, _)| *i < half || *i >= runs.len() - half)
            .collect()
    };
    for (i, run) in shown {
        if runs.len() > MAX_ROWS && i == runs.len() - MAX_ROWS / 2 {
            let _ = writeln!(
                out,
                "{:>8} ({} runs not shown)",
                "...",
                runs.len() - MAX_ROWS
            );
        }
        let t = &run.metrics.totals;
        let l = run.metrics.latency.as_ref();
        let _ = writeln!(
            out,
            "{:<8} {:>12} {:>10} {:>13} {:>10} {:>10}",
            run.variant,
            run.seed,
            t.requests,
            t.availability()
                .map_or("-".into(), |a| format!("{:.4}%", a * 100.0)),
            l.map_or("-".into(), |l| format!("{:.3}", l.p50_ns as f64 / 1e6)),
            l.map_or("-".into(), |l| format!("{:.3}", l.p99_ns as f64 / 1e6)),
        );
    }
    if runs.len() > 1 {
        let n = runs.len() as f64;
        let mean = |f: &dyn Fn(&RunResult) -> Option<f64>| {
            let v: Vec<f64> = runs.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let requests = runs
            .iter()
            .map(|r| r.metrics.totals.requests as f64)
            .sum::<f64>()
            / n;
        let avail = mean(&|r| r.metrics.totals.availability());
        let p50 = mean(&|r| r.metrics.latency.map(|l| l.p50_ns as f64));
        let p99 = mean(&|r| r.metrics.latency.map(|l| l.p99_ns as f64));
        let _ = writeln!(
            out,
            "{:<8} {:>12} {:>10} {:>13} {:>10} {:>10}",
            "mean",
            format!("{} runs", runs.len()),
            human_count(requests),
            avail.map_or("-".into(), |a| format!("{:.4}%", a * 100.0)),
            p50.map_or("-".into(), |v| format!("{:.3}", v / 1e6)),
            p99.map_or("-".into(), |v| format!("{:.3}", v / 1e6)),
        );
    }
    out
}
