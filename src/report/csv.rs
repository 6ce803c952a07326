//! The CSV outputs: `summary.csv` (one row per run), `timeseries.csv` (one row per run and
//! bucket) and `services.csv` (one row per run, bucket and service). Columns only ever get appended, so scripts that read them keep working.

use super::format::{ms, opt_ms, ratio, seconds};
use crate::metrics::recovery::Recovery;
use crate::run::RunResult;
use std::io::Write;
use std::path::Path;

/// Columns of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: [&str; 24] = [
    "variant",
    "seed",
    "requests",
    "ok",
    "degraded",
    "failed",
    "availability",
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "attempts",
    "errors",
    "timeouts",
    "rejected",
    "recovery_s",
    "short_circuited",
    "retries",
    "hedges",
    "budget_refused",
    "duplicates",
    "dropped",
];

/// Columns of `policies.csv`, in order.
pub const POLICIES_COLUMNS: [&str; 7] =
    ["variant", "seed", "t_s", "site", "policy", "event", "value"];

/// Columns of `services.csv`, in order.
pub const SERVICES_COLUMNS: [&str; 11] = [
    "variant",
    "seed",
    "t_s",
    "service",
    "replicas_up",
    "busy_workers",
    "queue_len",
    "served",
    "errors",
    "arrivals",
    "rejected",
];

/// Columns of `timeseries.csv`, in order.
pub const TIMESERIES_COLUMNS: [&str; 15] = [
    "variant",
    "seed",
    "t_s",
    "requests",
    "ok",
    "degraded",
    "failed",
    "availability",
    "p50_ms",
    "p99_ms",
    "attempts",
    "errors",
    "timeouts",
    "rejected",
    "short_circuited",
];

/// Writes the summary of `runs`, one row each, in the order given.
pub fn write_summary<W: Write>(out: W, runs: &[RunResult]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(SUMMARY_COLUMNS)?;
    for run in runs {
        let t = &run.metrics.totals;
        let l = run.metrics.latency.as_ref();
        let lat = |f: fn(&crate::metrics::LatencySummary) -> u64| opt_ms(l.map(f));
        w.write_record([
            run.variant.clone(),
            run.seed.to_string(),
            t.requests.to_string(),
            t.ok.to_string(),
            t.degraded.to_string(),
            t.failed().to_string(),
            ratio(t.availability()),
            l.map(|l| ms(l.mean_ns)).unwrap_or_default(),
            lat(|l| l.p50_ns),
            lat(|l| l.p90_ns),
            lat(|l| l.p99_ns),
            lat(|l| l.p999_ns),
            lat(|l| l.max_ns),
            t.attempts.to_string(),
            t.errors.to_string(),
            t.timeouts.to_string(),
            t.rejected.to_string(),
            match run.recovery {
                Recovery::NotApplicable => String::new(),
                Recovery::Seconds(s) => format!("{s:.3}"),
                Recovery::Never => "inf".to_string(),
            },
            t.short_circuited.to_string(),
            run.metrics.policy.retries.to_string(),
            run.metrics.policy.hedges.to_string(),
            run.metrics.policy.budget_refused.to_string(),
            run.metrics.policy.duplicates.to_string(),
            run.metrics.policy.dropped.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the per-service time series of `runs`: for each run, each bucket, each service.
pub fn write_services<W: Write>(out: W, runs: &[RunResult]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(SERVICES_COLUMNS)?;
    for run in runs {
        let services = &run.metrics.services;
        let buckets = services.first().map_or(0, |s| s.rows.len());
        for b in 0..buckets {
            for s in services {
                let row = &s.rows[b];
                w.write_record([
                    run.variant.clone(),
                    run.seed.to_string(),
                    seconds(row.start.as_nanos()),
                    s.name.clone(),
                    format!("{:.3}", row.replicas_up),
                    format!("{:.3}", row.busy_workers),
                    format!("{:.3}", row.queue_len),
                    row.served.to_string(),
                    row.errors.to_string(),
                    row.arrivals.to_string(),
                    row.rejected.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes the time series of `runs`: for each run in order, its buckets in time order.
pub fn write_timeseries<W: Write>(out: W, runs: &[RunResult]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(TIMESERIES_COLUMNS)?;
    for run in runs {
        for b in &run.metrics.buckets {
            let c = &b.counts;
            w.write_record([
                run.variant.clone(),
                run.seed.to_string(),
                seconds(b.start.as_nanos()),
                c.requests.to_string(),
                c.ok.to_string(),
                c.degraded.to_string(),
                c.failed().to_string(),
                ratio(c.availability()),
                opt_ms(b.p50_ns),
                opt_ms(b.p99_ns),
                c.attempts.to_string(),
                c.errors.to_string(),
                c.timeouts.to_string(),
                c.rejected.to_string(),
                c.short_circuited.to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes the policy log of `runs`: breaker state changes and budget levels, in time order.
pub fn write_policies<W: Write>(out: W, runs: &[RunResult]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(POLICIES_COLUMNS)?;
    for run in runs {
        let log = &run.metrics.policy_log;
        for e in &log.events {
            w.write_record([
                run.variant.clone(),
                run.seed.to_string(),
                format!("{:.6}", e.time.as_nanos() as f64 / 1e9),
                log.sites[e.site as usize].clone(),
                e.policy.to_string(),
                e.event.to_string(),
                e.value.map(|v| format!("{v:.3}")).unwrap_or_default(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `summary.csv`, `timeseries.csv`, `services.csv` and `policies.csv` into `dir`,
/// creating it if needed, and returns the paths written.
pub fn write_all(dir: &Path, runs: &[RunResult]) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let summary = dir.join("summary.csv");
    let timeseries = dir.join("timeseries.csv");
    let services = dir.join("services.csv");
    let policies = dir.join("policies.csv");
    let file = |p: &Path| std::fs::File::create(p).map(std::io::BufWriter::new);
    write_summary(file(&summary)?, runs).map_err(std::io::Error::other)?;
    write_timeseries(file(&timeseries)?, runs).map_err(std::io::Error::other)?;
    write_services(file(&services)?, runs).map_err(std::io::Error::other)?;
    write_policies(file(&policies)?, runs).map_err(std::io::Error::other)?;
    Ok(vec![summary, timeseries, services, policies])
}
