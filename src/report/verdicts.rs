//! The report `resim check` prints: one line per verdict, then each failure with its worst
//! seed, where its time series shows the breach, and the command that reproduces it.

use crate::check::Verdict;
use std::fmt::Write;

/// The verdict table of one scenario file, `file` as named on the command line.
pub fn table(file: &str, verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    let label = |v: &Verdict| {
        if v.point.is_empty() {
            v.variant.clone()
        } else {
            format!("{} [{}]", v.variant, v.point)
        }
    };
    let w = |f: &dyn Fn(&Verdict) -> usize, min: usize| {
        verdicts.iter().map(f).max().unwrap_or(0).max(min)
    };
    let (wv, wm, we) = (
        w(&|v| label(v).len(), 7),
        w(&|v| v.metric.name().len(), 6),
        w(&|v| v.expected.len(), 8),
    );
    let _ = writeln!(out, "{file}");
    let _ = writeln!(
        out,
        "  {:<wv$}  {:<wm$}  {:<we$}  {:<7}  observed",
        "variant", "metric", "expected", "verdict"
    );
    for v in verdicts.iter().filter(|v| v.notable) {
        let _ = writeln!(
            out,
            "  {:<wv$}  {:<wm$}  {:<we$}  {:<7}  {}",
            label(v),
            v.metric.name(),
            v.expected,
            if v.passed { "PASS" } else { "FAIL" },
            v.observed
        );
    }
    let quiet = verdicts.iter().filter(|v| !v.notable).count();
    if quiet > 0 {
        let _ = writeln!(
            out,
            "  ({quiet} baseline comparisons not shown: no significant change)"
        );
    }
    for v in verdicts.iter().filter(|v| !v.passed) {
        let _ = writeln!(
            out,
            "\nFAIL {}: variant {}: {} expected {}, observed {}",
            v.scenario,
            label(v),
            v.metric,
            v.expected,
            v.observed
        );
        if let Some(line) = v.line {
            let _ = writeln!(out, "  expectation at {file}:{line}");
        }
        if let (Some(seed), Some(b)) = (v.worst_seed, &v.breach) {
            let _ = writeln!(out, "  worst seed {seed}: {b}");
        }
        if let Some(cmd) = v.reproduce(file) {
            let _ = writeln!(out, "  reproduce: {cmd}");
        }
    }
    out
}
