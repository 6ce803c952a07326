//! The analysis of a finished study: per (variant, sweep point) statistics, time lines,
//! latency distributions and policy tracks, built from the output files. Plain data that
//! `aggregate.csv`, the charts and `report.html` are drawn from.

use super::metric::Metric;
use super::stats::{Estimate, PairedDiff};

/// Everything the charts and the report show about one study.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// The scenario's `name`.
    pub scenario: String,
    /// The scenario's `description` (may be empty).
    pub description: String,
    /// The scenario file's text, as run.
    pub scenario_text: String,
    /// The command that produced the results, as typed.
    pub command: String,
    /// The resim version that produced the results.
    pub version: String,
    /// Seeds per cell (every cell runs the same seeds).
    pub seeds: usize,
    /// The swept paths, in file order; empty without a `[sweep]`.
    pub sweep_paths: Vec<String>,
    /// The cells, variant-major: every sweep point of the first variant, then of the next.
    /// Without variants and sweeps there is one cell, `base`.
    pub cells: Vec<Cell>,
    /// Faults scheduled with both `at` and `for`, to shade on time charts.
    pub fault_windows: Vec<FaultWindow>,
    /// Width of a time-series bucket, in seconds.
    pub bucket_s: f64,
}

/// One variant at one sweep point, over every seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The variant's name (`base` for the file as written).
    pub variant: String,
    /// The value of each swept path at this point, as written in the file (e.g. "400",
    /// "8ms"); empty without a sweep.
    pub point: Vec<String>,
    /// The numeric value of each swept path, when it is a number or a duration (seconds);
    /// `None` for other values. Sweep charts use it as the x axis.
    pub point_numbers: Vec<Option<f64>>,
    /// One entry per metric of [`Metric::ALL`], in that order.
    pub metrics: Vec<MetricSummary>,
    /// The time series, one row per bucket, across seeds.
    pub timeline: Vec<TimelineRow>,
    /// The latency distribution of successful requests, all seeds merged: points
    /// (latency in ms, fraction of successful requests at or below it), increasing.
    pub latency_cdf: Vec<(f64, f64)>,
    /// Breaker states and budget levels over time, of the cell's first seed.
    pub policy_tracks: Vec<PolicyTrack>,
    /// Each client's availability across seeds, in scenario order (from `clients.csv`;
    /// empty for output folders written before it existed).
    pub clients: Vec<ClientSummary>,
}

/// One client's results in one cell, across seeds: who paid.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSummary {
    /// The client's name.
    pub name: String,
    /// Its requests' priority.
    pub priority: String,
    /// Its availability: mean across seeds with its 95% interval.
    pub availability: Estimate,
}

impl Cell {
    /// A label for legends: the variant, then each swept path's value ("base, rate_per_s=400").
    pub fn label(&self, sweep_paths: &[String]) -> String {
        let mut label = self.variant.clone();
        for (path, value) in sweep_paths.iter().zip(&self.point) {
            let short = path.rsplit('.').next().unwrap_or(path);
            label.push_str(&format!(", {short}={value}"));
        }
        label
    }

    /// The summary of metric `m`.
    pub fn metric(&self, m: Metric) -> &MetricSummary {
        &self.metrics[m.index()]
    }
}

/// One metric of one cell: its estimate across seeds, and its paired difference from `base`
/// at the same sweep point (`None` for `base` itself).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSummary {
    /// Which metric.
    pub metric: Metric,
    /// Mean across seeds with its 95% Student t interval.
    pub estimate: Estimate,
    /// This cell minus `base`, seed by seed.
    pub diff: Option<PairedDiff>,
}

/// One bucket of a cell's time series, across seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    /// Start of the bucket, in seconds.
    pub t_s: f64,
    /// Mean availability across the seeds that counted requests in the bucket.
    pub availability_mean: Option<f64>,
    /// Lowest availability of any seed in the bucket.
    pub availability_min: Option<f64>,
    /// Highest availability of any seed in the bucket.
    pub availability_max: Option<f64>,
    /// Mean across seeds of the bucket's median latency, in ms.
    pub p50_ms: Option<f64>,
    /// Mean across seeds of the bucket's 99th percentile latency, in ms.
    pub p99_ms: Option<f64>,
}

/// A fault window to shade on time charts.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    /// What to write on the shading: the fault's name and kind, e.g. "gc-pause: hang".
    pub label: String,
    /// Start, in seconds.
    pub start_s: f64,
    /// End, in seconds.
    pub end_s: f64,
}

/// One policy site's record over time in one run.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyTrack {
    /// The site, like `web->api` or `api[0]->db`.
    pub site: String,
    /// `circuit_breaker` or `retry_budget`.
    pub policy: String,
    /// (time in seconds, value): for breakers the state entered (0 closed, 0.5 half-open,
    /// 1 open), for budgets the level.
    pub points: Vec<(f64, f64)>,
}
