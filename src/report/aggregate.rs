//! `aggregate.csv`: one row per (variant, sweep point), each metric's mean across seeds
//! with its 95% interval, and its paired difference from `base` at the same point.

use crate::compare::{Analysis, Metric};
use std::path::{Path, PathBuf};

/// File name of the aggregate.
pub const AGGREGATE_FILE: &str = "aggregate.csv";

/// The suffixes of each metric's columns, in order.
pub const METRIC_SUFFIXES: [&str; 7] = [
    "mean",
    "ci_lo",
    "ci_hi",
    "diff",
    "diff_ci_lo",
    "diff_ci_hi",
    "significant",
];

/// The header of `aggregate.csv`.
pub fn columns(sweep_paths: &[String]) -> Vec<String> {
    let mut out = vec!["variant".to_string()];
    out.extend(sweep_paths.iter().cloned());
    out.push("seeds".to_string());
    for m in Metric::ALL {
        out.extend(METRIC_SUFFIXES.iter().map(|s| format!("{}_{s}", m.name())));
    }
    out
}

/// A number as `aggregate.csv` writes it: six decimals, `inf`/`-inf`, empty when undefined.
pub fn number(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(v) if v == f64::INFINITY => "inf".to_string(),
        Some(v) if v == f64::NEG_INFINITY => "-inf".to_string(),
        Some(v) => format!("{v:.6}"),
    }
}

/// Writes `aggregate.csv` for `a` into `dir`.
pub fn write(dir: &Path, a: &Analysis) -> std::io::Result<PathBuf> {
    let path = dir.join(AGGREGATE_FILE);
    let mut w = csv::Writer::from_writer(super::atomic::AtomicFile::create(&path)?);
    w.write_record(columns(&a.sweep_paths))
        .map_err(std::io::Error::other)?;
    for cell in &a.cells {
        let mut record = vec![cell.variant.clone()];
        record.extend(cell.point.iter().cloned());
        record.push(a.seeds.to_string());
        for s in &cell.metrics {
            let e = &s.estimate;
            record.push(number(e.mean));
            record.push(number(e.ci.map(|c| c.0)));
            record.push(number(e.ci.map(|c| c.1)));
            let d = s.diff.as_ref();
            record.push(number(d.and_then(|d| d.mean)));
            record.push(number(d.and_then(|d| d.ci.map(|c| c.0))));
            record.push(number(d.and_then(|d| d.ci.map(|c| c.1))));
            record.push(
                d.and_then(|d| d.significant)
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
            );
        }
        w.write_record(&record).map_err(std::io::Error::other)?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .commit()
}
