//! Building the [`Analysis`] of an output folder from its files: `manifest.json`,
//! `scenario.toml`, `summary.csv`, `timeseries.csv`, `latency_histogram.csv` and
//! `policies.csv`. A one-machine run and merged shards hold the same files, so they give the
//! same analysis, byte for byte. Files are read a row at a time; what is kept is one compact
//! row per run and one accumulator per cell and bucket.

use super::analysis::{
    Analysis, Cell, ClientSummary, FaultWindow, MetricSummary, PolicyTrack, TimelineRow,
};
use super::metric::{Metric, RunRow};
use super::stats::{estimate, paired_diff};
use crate::metrics::Counts;
use crate::report::csv::{CLIENTS_FILE, POLICIES_FILE, SUMMARY_FILE, TIMESERIES_FILE, read_error};
use crate::report::histogram;
use crate::report::manifest::{Manifest, SCENARIO_FILE};
use crate::scenario::Study;
use crate::scenario::diagnostic::{name_list, shorten};
use crate::scenario::fault::{FaultKind, FaultTiming};
use std::collections::BTreeMap;
use std::path::Path;

/// A cell's key in the files: its variant and sweep point as written.
type Key = (String, Vec<String>);

/// The cells of the study a manifest describes, in order: (variant, sweep point).
pub fn cell_keys(manifest: &Manifest) -> Vec<Key> {
    manifest
        .variants
        .iter()
        .flat_map(|v| {
            manifest
                .sweep
                .points
                .iter()
                .map(move |p| (v.clone(), p.clone()))
        })
        .collect()
}

/// The runs of the output folder `dir`, read from `manifest.json` and `summary.csv` only
/// (what a saved baseline keeps): its manifest, and one list of rows per cell in the
/// order of [`cell_keys`].
pub fn read_runs(dir: &Path) -> Result<(Manifest, Vec<Vec<RunRow>>), String> {
    let manifest = Manifest::read(dir)?;
    let index: BTreeMap<Key, usize> = cell_keys(&manifest).into_iter().zip(0..).collect();
    let rows = read_summary(dir, manifest.sweep.paths.len(), &index)?;
    Ok((manifest, rows))
}

/// One bucket of one run's time series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesPoint {
    /// Start of the bucket, in seconds.
    pub t_s: f64,
    /// Counted requests sent in the bucket.
    pub requests: u64,
    /// Their availability; `None` without requests.
    pub availability: Option<f64>,
    /// Median latency, ms.
    pub p50_ms: Option<f64>,
    /// 99th percentile latency, ms.
    pub p99_ms: Option<f64>,
    /// Attempts sent for them.
    pub attempts: u64,
}

/// The time series of one run of the folder `dir`: the run of cell `key` with `seed`.
pub fn read_series(dir: &Path, key: &Key, seed: u64) -> Result<Vec<SeriesPoint>, String> {
    let sweep = key.1.len();
    let mut t = Table::open(dir, TIMESERIES_FILE, sweep)?;
    let [seed_c, t_s, requests, ok, degraded, p50, p99, attempts] = t.columns([
        "seed", "t_s", "requests", "ok", "degraded", "p50_ms", "p99_ms", "attempts",
    ])?;
    let index: BTreeMap<Key, usize> = [(key.clone(), 0)].into_iter().collect();
    let mut out = Vec::new();
    while t.next()? {
        if t.count(seed_c)? != seed || t.cell(&index).is_err() {
            continue;
        }
        let n = t.count(requests)?;
        out.push(SeriesPoint {
            t_s: t.number(t_s)?.unwrap_or(0.0),
            requests: n,
            availability: (n > 0)
                .then(|| t.count(ok).and_then(|o| Ok(o + t.count(degraded)?)))
                .transpose()?
                .map(|good| good as f64 / n as f64),
            p50_ms: t.number(p50)?,
            p99_ms: t.number(p99)?,
            attempts: t.count(attempts)?,
        });
    }
    Ok(out)
}

/// Reads the output folder `dir` into its analysis; the error names the file and line.
pub fn analyze(dir: &Path) -> Result<Analysis, String> {
    let manifest = Manifest::read(dir)?;
    let scenario_path = dir.join(SCENARIO_FILE);
    let text = std::fs::read_to_string(&scenario_path)
        .map_err(|e| {
            format!(
                "{}: cannot read: {e}; expected the {SCENARIO_FILE} that `resim run` keeps in its output folder",
                scenario_path.display()
            )
        })?;
    let study =
        Study::from_text(&text, &scenario_path.display().to_string()).map_err(|e| e.to_string())?;
    let keys = cell_keys(&manifest);
    let index: BTreeMap<Key, usize> = keys.iter().cloned().zip(0..).collect();
    let sweep = manifest.sweep.paths.len();
    let rows = read_summary(dir, sweep, &index)?;
    let timelines = read_timeseries(dir, sweep, &index)?;
    let mut bins = histogram::read(dir, sweep)?;
    let tracks = read_policies(dir, sweep, &index, manifest.seeds.first)?;
    let clients = read_clients(dir, sweep, &index)?;

    let base_of =
        |point: &Vec<String>| index.get(&(crate::run::BASE_VARIANT.to_string(), point.clone()));
    let mut cells = Vec::with_capacity(keys.len());
    for (c, key) in keys.iter().enumerate() {
        let base = base_of(&key.1).filter(|&&b| b != c).map(|&b| &rows[b]);
        let metrics = Metric::ALL
            .iter()
            .map(|&m| summarize(m, &rows[c], base))
            .collect();
        let point_numbers = key
            .1
            .iter()
            .map(|text| {
                study
                    .points
                    .iter()
                    .flatten()
                    .find(|v| &v.text == text)
                    .and_then(|v| v.number)
            })
            .collect();
        cells.push(Cell {
            variant: key.0.clone(),
            point: key.1.clone(),
            point_numbers,
            metrics,
            timeline: timelines[c].rows(),
            latency_cdf: cdf(&bins.remove(key).unwrap_or_default()),
            policy_tracks: tracks[c].clone(),
            clients: clients[c].clone(),
        });
    }
    Ok(Analysis {
        scenario: study.base.name.clone(),
        description: study.base.description.clone(),
        scenario_text: text,
        command: manifest.invocation.command.clone(),
        version: manifest.resim_version.clone(),
        seeds: manifest.seeds.count as usize,
        sweep_paths: manifest.sweep.paths.clone(),
        cells,
        fault_windows: fault_windows(&study),
        bucket_s: study.base.bucket.as_nanos() as f64 / 1e9,
    })
}

/// The estimate of `m` over a cell's runs, and its paired difference from `base`'s runs.
fn summarize(m: Metric, runs: &[RunRow], base: Option<&Vec<RunRow>>) -> MetricSummary {
    let values: Vec<f64> = runs.iter().filter_map(|r| r.value(m)).collect();
    let diff = base.map(|base| {
        let by_seed: BTreeMap<u64, &RunRow> = base.iter().map(|r| (r.seed, r)).collect();
        let pairs: Vec<(f64, f64)> = runs
            .iter()
            .filter_map(|r| Some((r.value(m)?, by_seed.get(&r.seed)?.value(m)?)))
            .collect();
        paired_diff(&pairs)
    });
    MetricSummary {
        metric: m,
        estimate: estimate(&values),
        diff,
    }
}

/// The faults scheduled with `at` and `for` (chaos monkeys aside), as chart shading.
fn fault_windows(study: &Study) -> Vec<FaultWindow> {
    study
        .base
        .faults
        .iter()
        .filter(|f| !matches!(f.kind, FaultKind::ChaosMonkey { .. }))
        .filter_map(|f| match f.timing {
            FaultTiming::Scheduled {
                start,
                end: Some(end),
            } => Some(FaultWindow {
                label: format!("{}: {}", f.name, f.kind.name()),
                start_s: start.as_nanos() as f64 / 1e9,
                end_s: end.as_nanos() as f64 / 1e9,
            }),
            _ => None,
        })
        .collect()
}

/// The cumulative distribution of `bins`: (latency in ms, fraction at or below it).
fn cdf(bins: &histogram::Bins) -> Vec<(f64, f64)> {
    let total: u64 = bins.values().sum();
    let mut seen = 0u64;
    bins.iter()
        .map(|(&value, &count)| {
            seen += count;
            (value as f64 / 1e6, seen as f64 / total as f64)
        })
        .collect()
}

/// The problem of a row without its time.
const T_S_EMPTY: &str = "`t_s` is empty; expected the start of the row's bucket in seconds";

/// The problem of a row whose variant and sweep point `key` is none of the cells in `index`.
fn not_a_cell(key: &Key, index: &BTreeMap<Key, usize>) -> String {
    let variant = shorten(&key.0, 40);
    let point = |p: &[String]| format!("({})", p.join(", "));
    let mut variants: Vec<&str> = index.keys().map(|k| k.0.as_str()).collect();
    variants.dedup();
    if variants.is_empty() {
        return format!(
            "variant \"{variant}\" is not in manifest.json, which lists no variants; expected no rows, or the manifest.json `resim run` wrote beside them"
        );
    }
    if !variants.contains(&key.0.as_str()) {
        let at = if key.1.is_empty() {
            String::new()
        } else {
            format!(" at sweep point {}", shorten(&point(&key.1), 60))
        };
        return format!(
            "variant \"{variant}\"{at} is not in manifest.json; expected one of its variants: {}",
            name_list(&variants)
        );
    }
    let points: Vec<String> = index
        .keys()
        .filter(|k| k.0 == key.0)
        .map(|k| point(&k.1))
        .collect();
    format!(
        "sweep point {} of variant \"{variant}\" is not in manifest.json; expected one of its points, a value per swept path: {}",
        shorten(&point(&key.1), 60),
        name_list(&points)
    )
}

/// A CSV file read a record at a time, with its columns found by name.
struct Table {
    shown: String,
    /// The file's name, as `resim run` writes it.
    name: &'static str,
    reader: csv::Reader<std::fs::File>,
    header: csv::StringRecord,
    record: csv::StringRecord,
    sweep: usize,
}

impl Table {
    fn open(dir: &Path, name: &'static str, sweep: usize) -> Result<Table, String> {
        let path = dir.join(name);
        let shown = path.display().to_string();
        let mut reader = csv::Reader::from_path(&path).map_err(|e| read_error(&shown, name, &e))?;
        let header = reader
            .headers()
            .map_err(|e| read_error(&shown, name, &e))?
            .clone();
        // Every record has the header's length (the reader refuses others), so this keeps
        // `cell` from reading past the end of a record.
        if header.len() <= sweep {
            return Err(format!(
                "{shown}:1: {} fields; expected at least {}: `variant` and the {sweep} swept path(s) that manifest.json lists, then the file's columns",
                header.len(),
                sweep + 1
            ));
        }
        Ok(Table {
            shown,
            name,
            reader,
            header,
            record: csv::StringRecord::new(),
            sweep,
        })
    }

    /// The position of column `name`, if the header has it.
    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The positions of the columns `names`; the error names every one the header lacks,
    /// and all of `names`.
    fn columns<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], String> {
        let found = names.map(|n| self.column(n));
        if found.iter().all(Option::is_some) {
            return Ok(found.map(|i| i.unwrap_or_default()));
        }
        let missing: Vec<String> = names
            .iter()
            .zip(&found)
            .filter(|(_, i)| i.is_none())
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        let no = if missing.len() == 1 {
            "no column"
        } else {
            "no columns"
        };
        let swept = match self.sweep {
            0 => String::new(),
            n => format!(", the {n} swept path(s) that manifest.json lists,"),
        };
        Err(format!(
            "{}:1: {no} {}; expected a header with `variant`{swept} and these columns, as `resim run` writes {}: {}",
            self.shown,
            missing.join(", "),
            self.name,
            names.join(", ")
        ))
    }

    /// Reads the next record; false at the end.
    fn next(&mut self) -> Result<bool, String> {
        self.reader
            .read_record(&mut self.record)
            .map_err(|e| read_error(&self.shown, self.name, &e))
    }

    /// The cell of the current record.
    fn cell(&self, index: &BTreeMap<Key, usize>) -> Result<usize, String> {
        let key = (
            self.record[0].to_string(),
            (1..=self.sweep)
                .map(|i| self.record[i].to_string())
                .collect(),
        );
        index
            .get(&key)
            .copied()
            .ok_or_else(|| self.problem(&not_a_cell(&key, index)))
    }

    fn problem(&self, what: &str) -> String {
        let line = self.record.position().map_or(0, |p| p.line());
        format!("{}:{line}: {what}", self.shown)
    }

    /// Field `i` as a number; `None` when empty.
    fn number(&self, i: usize) -> Result<Option<f64>, String> {
        let text = &self.record[i];
        if text.is_empty() {
            return Ok(None);
        }
        // resim writes `inf` (a recovery that never came) but never NaN.
        match text.parse::<f64>() {
            Ok(v) if !v.is_nan() => Ok(Some(v)),
            _ => Err(self.problem(&format!(
                "`{text}` in column `{}` is not a number; expected a number, `inf` or nothing",
                &self.header[i]
            ))),
        }
    }

    /// Field `i` as a whole number.
    fn count(&self, i: usize) -> Result<u64, String> {
        let text = &self.record[i];
        text.parse().map_err(|_| {
            let what = if text.is_empty() {
                format!("column `{}` is empty", &self.header[i])
            } else {
                format!(
                    "`{text}` in column `{}` is not a whole number",
                    &self.header[i]
                )
            };
            self.problem(&format!(
                "{what}; expected a whole number of 0 or more, like 42"
            ))
        })
    }
}

/// Each cell's clients from `clients.csv`, in the order they first appear: their
/// priority and their availability across seeds. Empty cells when the file is absent (an
/// output folder from before it existed).
fn read_clients(
    dir: &Path,
    sweep: usize,
    index: &BTreeMap<Key, usize>,
) -> Result<Vec<Vec<ClientSummary>>, String> {
    if !dir.join(CLIENTS_FILE).exists() {
        return Ok(vec![Vec::new(); index.len()]);
    }
    let mut t = Table::open(dir, CLIENTS_FILE, sweep)?;
    let [client, requests, ok, degraded] = t.columns(["client", "requests", "ok", "degraded"])?;
    // Early clients.csv files had no priority column: their clients were all default.
    let priority = t.column("priority");
    // Per cell: (name, priority, availability of each seed).
    let mut seen: Vec<Vec<(String, String, Vec<f64>)>> = vec![Vec::new(); index.len()];
    while t.next()? {
        let c = t.cell(index)?;
        let n = t.count(requests)?;
        let name = t.record[client].to_string();
        let entry = match seen[c].iter().position(|(n, _, _)| *n == name) {
            Some(i) => &mut seen[c][i],
            None => {
                let p = priority.map_or("default", |i| &t.record[i]).to_string();
                seen[c].push((name, p, Vec::new()));
                seen[c].last_mut().expect("just pushed")
            }
        };
        if n > 0 {
            let good = t.count(ok)? + t.count(degraded)?;
            entry.2.push(good as f64 / n as f64);
        }
    }
    Ok(seen
        .into_iter()
        .map(|cell| {
            cell.into_iter()
                .map(|(name, priority, values)| ClientSummary {
                    name,
                    priority,
                    availability: estimate(&values),
                })
                .collect()
        })
        .collect())
}

/// Every run's row of `summary.csv`, grouped by cell.
fn read_summary(
    dir: &Path,
    sweep: usize,
    index: &BTreeMap<Key, usize>,
) -> Result<Vec<Vec<RunRow>>, String> {
    let mut t = Table::open(dir, SUMMARY_FILE, sweep)?;
    let columns = t.columns([
        // Counts: 12.
        "seed",
        "requests",
        "ok",
        "degraded",
        "errors",
        "timeouts",
        "rejected",
        "short_circuited",
        "attempts",
        "rate_limited",
        "bulkhead_full",
        "shed",
        // Latencies: 5.
        "mean_ms",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "p999_ms",
        // Policies: 5, then the recovery time.
        "retries",
        "hedges",
        "budget_refused",
        "duplicates",
        "dropped",
        "recovery_s",
        // Messages: 4, then their latencies: 2.
        "messages",
        "processed",
        "dead_lettered",
        "redelivered",
        "message_mean_ms",
        "message_p99_ms",
    ])?;
    let (counts, rest) = columns.split_at(12);
    let (latency, rest) = rest.split_at(5);
    let (policy, rest) = rest.split_at(5);
    let (recovery, messages, message_ms) = (rest[0], &rest[1..5], &rest[5..7]);
    let mut rows = vec![Vec::new(); index.len()];
    while t.next()? {
        let c = t.cell(index)?;
        let n = |i: usize| t.count(counts[i]);
        let mut l = [0.0; 5];
        let mut has_latency = true;
        for (slot, &i) in l.iter_mut().zip(latency) {
            match t.number(i)? {
                Some(v) => *slot = v,
                None => has_latency = false,
            }
        }
        let mut p = [0u64; 5];
        for (slot, &i) in p.iter_mut().zip(policy) {
            *slot = t.count(i)?;
        }
        let mut m = [0u64; 4];
        for (slot, &i) in m.iter_mut().zip(messages) {
            *slot = t.count(i)?;
        }
        let message_ms = match (t.number(message_ms[0])?, t.number(message_ms[1])?) {
            (Some(mean), Some(p99)) => Some([mean, p99]),
            _ => None,
        };
        rows[c].push(RunRow {
            messages: m,
            message_ms,
            seed: n(0)?,
            counts: Counts {
                requests: n(1)?,
                ok: n(2)?,
                degraded: n(3)?,
                errors: n(4)?,
                timeouts: n(5)?,
                rejected: n(6)?,
                short_circuited: n(7)?,
                attempts: n(8)?,
                rate_limited: n(9)?,
                bulkhead_full: n(10)?,
                shed: n(11)?,
            },
            latency_ms: has_latency.then_some(l),
            recovery_s: match &t.record[recovery] {
                "inf" => Some(f64::INFINITY),
                _ => t.number(recovery)?,
            },
            policy: p,
        });
    }
    Ok(rows)
}

/// Sums over seeds of one bucket of one cell: a few numbers, however many seeds there are.
#[derive(Clone)]
struct BucketSums {
    t_s: f64,
    /// Sum, count, minimum and maximum of the seeds' availabilities.
    availability: (f64, u32, f64, f64),
    p50: (f64, u32),
    p99: (f64, u32),
}

impl Default for BucketSums {
    fn default() -> Self {
        BucketSums {
            t_s: 0.0,
            availability: (0.0, 0, f64::INFINITY, f64::NEG_INFINITY),
            p50: (0.0, 0),
            p99: (0.0, 0),
        }
    }
}

/// A cell's time series across seeds, keyed by the bucket's start in ms.
#[derive(Clone, Default)]
struct Timeline(BTreeMap<i64, BucketSums>);

impl Timeline {
    fn rows(&self) -> Vec<TimelineRow> {
        self.0
            .values()
            .map(|b| {
                let (sum, n, min, max) = b.availability;
                let mean = |(sum, n): (f64, u32)| (n > 0).then(|| sum / f64::from(n));
                TimelineRow {
                    t_s: b.t_s,
                    availability_mean: mean((sum, n)),
                    availability_min: (n > 0).then_some(min),
                    availability_max: (n > 0).then_some(max),
                    p50_ms: mean(b.p50),
                    p99_ms: mean(b.p99),
                }
            })
            .collect()
    }
}

/// Every cell's time series across seeds, from `timeseries.csv`.
fn read_timeseries(
    dir: &Path,
    sweep: usize,
    index: &BTreeMap<Key, usize>,
) -> Result<Vec<Timeline>, String> {
    let mut t = Table::open(dir, TIMESERIES_FILE, sweep)?;
    let [t_s, requests, ok, degraded, p50, p99] =
        t.columns(["t_s", "requests", "ok", "degraded", "p50_ms", "p99_ms"])?;
    let mut timelines = vec![Timeline::default(); index.len()];
    while t.next()? {
        let c = t.cell(index)?;
        let start = t.number(t_s)?.ok_or_else(|| t.problem(T_S_EMPTY))?;
        let b = timelines[c]
            .0
            .entry((start * 1000.0).round() as i64)
            .or_default();
        b.t_s = start;
        let n = t.count(requests)?;
        if n > 0 {
            // From the counts, not the rounded column: the mean is exact.
            let a = (t.count(ok)? + t.count(degraded)?) as f64 / n as f64;
            let s = &mut b.availability;
            *s = (s.0 + a, s.1 + 1, s.2.min(a), s.3.max(a));
        }
        for (col, acc) in [(p50, &mut b.p50), (p99, &mut b.p99)] {
            if let Some(v) = t.number(col)? {
                acc.0 += v;
                acc.1 += 1;
            }
        }
    }
    Ok(timelines)
}

/// Every cell's policy tracks for the seed `seed`, from `policies.csv`.
fn read_policies(
    dir: &Path,
    sweep: usize,
    index: &BTreeMap<Key, usize>,
    seed: u64,
) -> Result<Vec<Vec<PolicyTrack>>, String> {
    let mut t = Table::open(dir, POLICIES_FILE, sweep)?;
    let [seed_col, t_s, site, policy, event, value] =
        t.columns(["seed", "t_s", "site", "policy", "event", "value"])?;
    let mut tracks: Vec<Vec<PolicyTrack>> = vec![Vec::new(); index.len()];
    while t.next()? {
        if t.count(seed_col)? != seed {
            continue;
        }
        // Breakers and budgets are tracks; other policies' events (outlier ejections) are not.
        if !matches!(&t.record[policy], "circuit_breaker" | "retry_budget") {
            continue;
        }
        let c = t.cell(index)?;
        let time = t.number(t_s)?.ok_or_else(|| t.problem(T_S_EMPTY))?;
        let level = match &t.record[event] {
            "open" => 1.0,
            "half_open" => 0.5,
            "closed" => 0.0,
            _ => t.number(value)?.unwrap_or(0.0),
        };
        let (s, p) = (&t.record[site], &t.record[policy]);
        let list = &mut tracks[c];
        match list.iter_mut().find(|k| k.site == s && k.policy == p) {
            Some(track) => track.points.push((time, level)),
            None => list.push(PolicyTrack {
                site: s.to_string(),
                policy: p.to_string(),
                points: vec![(time, level)],
            }),
        }
    }
    Ok(tracks)
}
