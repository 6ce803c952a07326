//! The CSV outputs: `summary.csv` (one row per run), `timeseries.csv` (one row per run and
//! bucket), `services.csv` (one row per run, bucket and service), `policies.csv` (one row
//! per policy event), `replicas.csv` (one row per run and replica), `clients.csv` (one
//! row per run and client) and `queues.csv` (one row per run, bucket and queue). Columns only ever get appended, so scripts that read them keep working.

use super::atomic::AtomicFile;
use super::format::{ms, opt_ms, ratio, seconds};
use crate::metrics::recovery::Recovery;
use crate::run::RunResult;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File names of the per-run outputs.
pub const SUMMARY_FILE: &str = "summary.csv";
/// See [`SUMMARY_FILE`].
pub const TIMESERIES_FILE: &str = "timeseries.csv";
/// See [`SUMMARY_FILE`].
pub const SERVICES_FILE: &str = "services.csv";
/// See [`SUMMARY_FILE`].
pub const POLICIES_FILE: &str = "policies.csv";
/// See [`SUMMARY_FILE`].
pub const REPLICAS_FILE: &str = "replicas.csv";
/// See [`SUMMARY_FILE`].
pub const CLIENTS_FILE: &str = "clients.csv";
/// See [`SUMMARY_FILE`].
pub const QUEUES_FILE: &str = "queues.csv";
/// Every file with rows per run, in the order they are written.
pub const RUN_FILES: [&str; 7] = [
    SUMMARY_FILE,
    TIMESERIES_FILE,
    SERVICES_FILE,
    POLICIES_FILE,
    REPLICAS_FILE,
    CLIENTS_FILE,
    QUEUES_FILE,
];

/// The message for an error of the csv reader on `shown`, the file `name` of an output
/// folder: what is wrong, where, and what is expected. Its line is right when the header
/// was read (`headers()`) before the records.
pub fn read_error(shown: &str, name: &str, e: &csv::Error) -> String {
    let line = e.position().map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::Io(io) => format!(
            "{shown}: cannot read: {io}; expected the {name} that `resim run` writes in its output folder"
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "{shown}:{line}: {len} fields; expected {expected_len}, as many as the header has"
        ),
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "{shown}:{line}: field {} is not UTF-8 text; expected the {name} that `resim run` writes",
            err.field() + 1
        ),
        _ => format!("{shown}: {e}; expected the {name} that `resim run` writes"),
    }
}

/// Columns of `queues.csv`, in order.
pub const QUEUES_COLUMNS: [&str; 14] = [
    "variant",
    "seed",
    "t_s",
    "queue",
    "depth_mean",
    "depth_end",
    "in_flight",
    "oldest_age_s",
    "sent",
    "refused",
    "received",
    "acknowledged",
    "redelivered",
    "dead_lettered",
];

/// Columns of `clients.csv`, in order.
pub const CLIENTS_COLUMNS: [&str; 17] = [
    "variant",
    "seed",
    "client",
    "priority",
    "requests",
    "ok",
    "degraded",
    "failed",
    "availability",
    "attempts",
    "errors",
    "timeouts",
    "rejected",
    "short_circuited",
    "rate_limited",
    "bulkhead_full",
    "shed",
];

/// Columns of `summary.csv`, in order; swept paths go after `variant`.
pub const SUMMARY_COLUMNS: [&str; 35] = [
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
    "rate_limited",
    "bulkhead_full",
    "shed",
    "messages",
    "processed",
    "dead_lettered",
    "messages_left",
    "redelivered",
    "message_mean_ms",
    "message_p50_ms",
    "message_p99_ms",
];

/// Columns of `policies.csv`, in order.
pub const POLICIES_COLUMNS: [&str; 7] =
    ["variant", "seed", "t_s", "site", "policy", "event", "value"];

/// Columns of `services.csv`, in order.
pub const SERVICES_COLUMNS: [&str; 16] = [
    "variant",
    "seed",
    "t_s",
    "service",
    "replicas_up",
    "healthy_replicas",
    "busy_workers",
    "queue_len",
    "served",
    "errors",
    "arrivals",
    "rejected",
    "probes",
    "probes_failed",
    "shed",
    "rate_limited",
];

/// Columns of `replicas.csv`, in order.
pub const REPLICAS_COLUMNS: [&str; 12] = [
    "variant",
    "seed",
    "service",
    "replica",
    "arrivals",
    "share",
    "completed",
    "errors",
    "rejected",
    "shed",
    "rate_limited",
    "mean_ms",
];

/// Columns of `timeseries.csv`, in order.
pub const TIMESERIES_COLUMNS: [&str; 18] = [
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
    "rate_limited",
    "bulkhead_full",
    "shed",
];

/// The header of a file whose rows start with `variant`: the swept paths go right after it.
pub fn header(columns: &[&str], sweep_paths: &[String]) -> Vec<String> {
    let mut out = vec![columns[0].to_string()];
    out.extend(sweep_paths.iter().cloned());
    out.extend(columns[1..].iter().map(|c| c.to_string()));
    out
}

/// The leading fields of every row of `run`: its variant, then its sweep point.
fn lead(run: &RunResult, point: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(point.len() + 1);
    out.push(run.variant.clone());
    out.extend(point.iter().cloned());
    out
}

/// The `summary.csv` row of `run` at sweep point `point`.
pub fn summary_row(run: &RunResult, point: &[String]) -> Vec<String> {
    let t = &run.metrics.totals;
    let l = run.metrics.latency.as_ref();
    let lat = |f: fn(&crate::metrics::LatencySummary) -> u64| opt_ms(l.map(f));
    let mut row = lead(run, point);
    row.extend([run.seed.to_string()]);
    row.extend(outcomes(t));
    row.extend([
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
        t.rate_limited.to_string(),
        t.bulkhead_full.to_string(),
        t.shed.to_string(),
    ]);
    let m = &run.metrics.messages;
    let ml = m.latency.as_ref();
    row.extend([
        m.messages.to_string(),
        m.processed.to_string(),
        m.dead_lettered.to_string(),
        m.left().to_string(),
        m.redelivered.to_string(),
        ml.map(|l| ms(l.mean_ns)).unwrap_or_default(),
        opt_ms(ml.map(|l| l.p50_ns)),
        opt_ms(ml.map(|l| l.p99_ns)),
    ]);
    row
}

/// Writes the per-queue rows of `run`: for each bucket, each queue.
fn write_queues<W: Write>(
    w: &mut csv::Writer<W>,
    run: &RunResult,
    point: &[String],
) -> csv::Result<()> {
    let queues = &run.metrics.queues;
    let buckets = queues.iter().map(|q| q.rows.len()).max().unwrap_or(0);
    for b in 0..buckets {
        for q in queues {
            let Some(row) = q.rows.get(b) else {
                continue;
            };
            let mut record = lead(run, point);
            record.extend([
                run.seed.to_string(),
                seconds(row.start.as_nanos()),
                q.name.clone(),
                format!("{:.3}", row.depth_mean),
                row.depth_end.to_string(),
                row.in_flight_end.to_string(),
                row.oldest_age
                    .map(|a| format!("{:.3}", a.as_secs_f64()))
                    .unwrap_or_default(),
                row.sent.to_string(),
                row.refused.to_string(),
                row.received.to_string(),
                row.acknowledged.to_string(),
                row.redelivered.to_string(),
                row.dead_lettered.to_string(),
            ]);
            w.write_record(&record)?;
        }
    }
    Ok(())
}

/// Writes the per-service rows of `run`: for each bucket, each service.
fn write_services<W: Write>(
    w: &mut csv::Writer<W>,
    run: &RunResult,
    point: &[String],
) -> csv::Result<()> {
    let services = &run.metrics.services;
    let buckets = services.first().map_or(0, |s| s.rows.len());
    for b in 0..buckets {
        for s in services {
            let row = &s.rows[b];
            let mut record = lead(run, point);
            record.extend([
                run.seed.to_string(),
                seconds(row.start.as_nanos()),
                s.name.clone(),
                format!("{:.3}", row.replicas_up),
                format!("{:.3}", row.healthy_replicas),
                format!("{:.3}", row.busy_workers),
                format!("{:.3}", row.queue_len),
                row.served.to_string(),
                row.errors.to_string(),
                row.arrivals.to_string(),
                row.rejected.to_string(),
                row.probes.to_string(),
                row.probes_failed.to_string(),
                row.shed.to_string(),
                row.rate_limited.to_string(),
            ]);
            w.write_record(&record)?;
        }
    }
    Ok(())
}

/// The outcome columns of `c` that `summary.csv`, `timeseries.csv` and `clients.csv` share,
/// in order: requests, ok, degraded, failed, availability.
fn outcomes(c: &crate::metrics::Counts) -> [String; 5] {
    [
        c.requests.to_string(),
        c.ok.to_string(),
        c.degraded.to_string(),
        c.failed().to_string(),
        ratio(c.availability()),
    ]
}

/// The failure-reason columns of `c`, in the order `timeseries.csv` and `clients.csv`
/// end with: errors, timeouts, rejected, short_circuited, rate_limited, bulkhead_full,
/// shed.
fn reasons(c: &crate::metrics::Counts) -> [String; 7] {
    [
        c.errors,
        c.timeouts,
        c.rejected,
        c.short_circuited,
        c.rate_limited,
        c.bulkhead_full,
        c.shed,
    ]
    .map(|n| n.to_string())
}

/// Writes the counted requests of every client of `run`.
fn write_clients<W: Write>(
    w: &mut csv::Writer<W>,
    run: &RunResult,
    point: &[String],
) -> csv::Result<()> {
    for client in &run.metrics.clients {
        let c = &client.counts;
        let mut record = lead(run, point);
        record.extend([
            run.seed.to_string(),
            client.name.clone(),
            client.priority.name().to_string(),
        ]);
        record.extend(outcomes(c));
        record.push(c.attempts.to_string());
        record.extend(reasons(c));
        w.write_record(&record)?;
    }
    Ok(())
}

/// Writes the window totals of every replica of `run`, service by service.
fn write_replicas<W: Write>(
    w: &mut csv::Writer<W>,
    run: &RunResult,
    point: &[String],
) -> csv::Result<()> {
    for s in &run.metrics.services {
        for (i, r) in s.replicas.iter().enumerate() {
            let share = (s.arrivals > 0).then(|| r.arrivals as f64 / s.arrivals as f64);
            let mut record = lead(run, point);
            record.extend([
                run.seed.to_string(),
                s.name.clone(),
                i.to_string(),
                r.arrivals.to_string(),
                ratio(share),
                r.completed.to_string(),
                r.errors.to_string(),
                r.rejected.to_string(),
                r.shed.to_string(),
                r.rate_limited.to_string(),
                r.mean_sojourn_ns().map(ms).unwrap_or_default(),
            ]);
            w.write_record(&record)?;
        }
    }
    Ok(())
}

/// Writes the time series of `run`, its buckets in time order.
fn write_timeseries<W: Write>(
    w: &mut csv::Writer<W>,
    run: &RunResult,
    point: &[String],
) -> csv::Result<()> {
    for b in &run.metrics.buckets {
        let c = &b.counts;
        let mut record = lead(run, point);
        record.extend([run.seed.to_string(), seconds(b.start.as_nanos())]);
        record.extend(outcomes(c));
        record.extend([opt_ms(b.p50_ns), opt_ms(b.p99_ns), c.attempts.to_string()]);
        record.extend(reasons(c));
        w.write_record(&record)?;
    }
    Ok(())
}

/// Writes the policy log of `run`: breaker state changes and budget levels, in time order.
fn write_policies<W: Write>(
    w: &mut csv::Writer<W>,
    run: &RunResult,
    point: &[String],
) -> csv::Result<()> {
    let log = &run.metrics.policy_log;
    for e in &log.events {
        let mut record = lead(run, point);
        record.extend([
            run.seed.to_string(),
            format!("{:.6}", e.time.as_nanos() as f64 / 1e9),
            log.sites[e.site as usize].clone(),
            e.policy.to_string(),
            e.event.to_string(),
            e.value.map(|v| format!("{v:.3}")).unwrap_or_default(),
        ]);
        w.write_record(&record)?;
    }
    Ok(())
}

/// The per-run CSV files of a study, written run by run in order, so that nothing but the
/// run at hand is held in memory.
pub struct RunFiles {
    summary: csv::Writer<AtomicFile>,
    timeseries: csv::Writer<AtomicFile>,
    services: csv::Writer<AtomicFile>,
    policies: csv::Writer<AtomicFile>,
    replicas: csv::Writer<AtomicFile>,
    clients: csv::Writer<AtomicFile>,
    queues: csv::Writer<AtomicFile>,
}

impl RunFiles {
    /// Creates `summary.csv`, `timeseries.csv`, `services.csv`, `policies.csv`,
    /// `replicas.csv`, `clients.csv` and `queues.csv` in `dir`
    /// (creating it if needed), with the swept paths as columns after `variant`.
    pub fn create(dir: &Path, sweep_paths: &[String]) -> std::io::Result<RunFiles> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str, columns: &[&str]| -> std::io::Result<csv::Writer<AtomicFile>> {
            let mut w = csv::Writer::from_writer(AtomicFile::create(&dir.join(name))?);
            w.write_record(header(columns, sweep_paths))
                .map_err(std::io::Error::other)?;
            Ok(w)
        };
        Ok(RunFiles {
            summary: open(SUMMARY_FILE, &SUMMARY_COLUMNS)?,
            timeseries: open(TIMESERIES_FILE, &TIMESERIES_COLUMNS)?,
            services: open(SERVICES_FILE, &SERVICES_COLUMNS)?,
            policies: open(POLICIES_FILE, &POLICIES_COLUMNS)?,
            replicas: open(REPLICAS_FILE, &REPLICAS_COLUMNS)?,
            clients: open(CLIENTS_FILE, &CLIENTS_COLUMNS)?,
            queues: open(QUEUES_FILE, &QUEUES_COLUMNS)?,
        })
    }

    /// Appends the rows of `run`, which ran at sweep point `point`.
    pub fn write_run(&mut self, run: &RunResult, point: &[String]) -> std::io::Result<()> {
        (|| -> csv::Result<()> {
            self.summary.write_record(summary_row(run, point))?;
            write_timeseries(&mut self.timeseries, run, point)?;
            write_services(&mut self.services, run, point)?;
            write_policies(&mut self.policies, run, point)?;
            write_replicas(&mut self.replicas, run, point)?;
            write_clients(&mut self.clients, run, point)?;
            write_queues(&mut self.queues, run, point)
        })()
        .map_err(std::io::Error::other)
    }

    /// Completes every file (each appears under its name only now) and returns their paths.
    pub fn finish(self) -> std::io::Result<Vec<PathBuf>> {
        [
            self.summary,
            self.timeseries,
            self.services,
            self.policies,
            self.replicas,
            self.clients,
            self.queues,
        ]
        .into_iter()
        .map(|w| {
            w.into_inner()
                .map_err(|e| std::io::Error::other(e.to_string()))?
                .commit()
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of reading `text` as CSV: its header, then every record.
    fn error_of(text: &[u8]) -> csv::Error {
        let mut r = csv::Reader::from_reader(text);
        if let Err(e) = r.headers() {
            return e;
        }
        let mut record = csv::StringRecord::new();
        loop {
            match r.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => panic!("no error in {text:?}"),
                Err(e) => return e,
            }
        }
    }

    #[test]
    fn read_errors_say_where_and_what_is_expected() {
        let e = error_of(b"variant,seed\nbase,1\nbase,2,3\n");
        assert_eq!(
            read_error("out/summary.csv", SUMMARY_FILE, &e),
            "out/summary.csv:3: 3 fields; expected 2, as many as the header has"
        );
        let e = error_of(b"variant,seed\nbase,\xff\n");
        assert_eq!(
            read_error("out/summary.csv", SUMMARY_FILE, &e),
            "out/summary.csv:2: field 2 is not UTF-8 text; expected the summary.csv that `resim run` writes"
        );
        let e = error_of(b"variant,seed\nbase,1\nbase,2\n\xffbase,3\n");
        assert_eq!(
            read_error("out/summary.csv", SUMMARY_FILE, &e),
            "out/summary.csv:4: field 1 is not UTF-8 text; expected the summary.csv that `resim run` writes"
        );
        let e = error_of(b"variant,s\xffeed\nbase,1\n");
        assert_eq!(
            read_error("out/summary.csv", SUMMARY_FILE, &e),
            "out/summary.csv:1: field 2 is not UTF-8 text; expected the summary.csv that `resim run` writes"
        );
        let e = csv::Reader::from_path("/nonexistent/summary.csv").expect_err("no file");
        let m = read_error("/nonexistent/summary.csv", SUMMARY_FILE, &e);
        assert!(
            m.starts_with("/nonexistent/summary.csv: cannot read: ")
                && m.ends_with(
                    "; expected the summary.csv that `resim run` writes in its output folder"
                ),
            "{m}"
        );
    }
}
