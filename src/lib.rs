//! resim: a deterministic discrete-event simulator for the resilience engineering of
//! distributed systems.
//!
//! # A tour
//!
//! Data flows one way:
//!
//! ```text
//! scenario.toml -> scenario::Study::load (parse; variants and sweep points applied to the
//!   parsed document; each cell validated; errors name FILE:LINE:COL)
//!   -> Study (cells: variant x sweep point, each a plain-data Scenario)
//!   -> output::run_into: sweep::run_streaming (rayon; results handed over in input order)
//!   -> run::run_one: model::Model on engine::run -> RunResult (metrics::RunMetrics)
//!   -> report: summary.csv, timeseries.csv, ..., latency_histogram.csv, manifest.json
//!   -> compare::build::analyze (from the files) -> aggregate.csv, charts, report.html
//! ```
//!
//! - [`engine`]: integer time, the (time, sequence) event queue, per-entity random streams,
//!   the run loop. It knows nothing about services.
//! - [`scenario`]: the TOML format, variants and sweeps, validation, the plain data.
//! - [`model`]: clients, replicas, calls and replies as an [`engine::World`].
//! - [`metrics`]: counters, histograms and the time series, streamed while a run goes.
//! - [`report`]: CSV files, the manifest, charts, the HTML report and tables.
//! - [`compare`]: metrics across seeds, intervals, paired differences; the analysis of an
//!   output folder.
//! - [`output`] and [`merge`]: output folders, whole or in shards, and merging them.
//! - [`paths`]: paths compared as the file system sees them, so no command writes over
//!   its inputs.
//! - [`check`]: expectations and the baseline gate, evaluated into verdicts.
//!
//! # Determinism contract
//!
//! The same binary, scenario and seed give byte-identical outputs, whatever the thread
//! count. Time is an integer number of nanoseconds; equal-time events run in scheduling
//! order; each entity draws from its own ChaCha8 stream keyed by the run seed and named
//! after the entity; no hash order reaches behaviour or output; parallel runs are collected
//! in input order; the wall clock only feeds the throughput line the CLI prints.

#[macro_use]
mod console;

pub mod check;
pub mod cli;
pub mod cli_check;
pub mod cli_hunt;
pub mod cli_shrink;
pub mod cli_trace;
pub mod compare;
pub mod distribution;
pub mod engine;
pub mod hunt;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod outcome;
pub mod output;
pub mod paths;
pub mod policy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod sweep;
pub mod telemetry;
pub mod trace;

pub use outcome::Outcome;
pub use run::{RunError, RunResult, run_one};
pub use scenario::{Scenario, Study};
