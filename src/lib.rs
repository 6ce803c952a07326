//! resim: a deterministic discrete-event simulator for the resilience engineering of
//! distributed systems.
//!
//! # A tour
//!
//! Data flows one way:
//!
//! ```text
//! scenario.toml -> scenario::Scenario::load (parse, validate; errors name FILE:LINE:COL)
//!   -> Scenario (plain data) -> sweep::run_seeds (rayon; results in input order)
//!   -> run::run_one: model::Model on engine::run -> RunResult (metrics::RunMetrics)
//!   -> report: summary.csv, timeseries.csv, the printed table
//! ```
//!
//! - [`engine`]: integer time, the (time, sequence) event queue, per-entity random streams,
//!   the run loop. It knows nothing about services.
//! - [`scenario`]: the TOML format, its validation and the validated plain data.
//! - [`model`]: clients, replicas, calls and replies as an [`engine::World`].
//! - [`metrics`]: counters, histograms and the time series, streamed while a run goes.
//! - [`report`]: CSV files and tables from frozen results.
//!
//! # Determinism contract
//!
//! The same binary, scenario and seed give byte-identical outputs, whatever the thread
//! count. Time is an integer number of nanoseconds; equal-time events run in scheduling
//! order; each entity draws from its own ChaCha8 stream keyed by the run seed and named
//! after the entity; no hash order reaches behaviour or output; parallel runs are collected
//! in input order; the wall clock only feeds the throughput line the CLI prints.

pub mod cli;
pub mod compare;
pub mod distribution;
pub mod engine;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod outcome;
pub mod output;
pub mod policy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;

pub use outcome::Outcome;
pub use run::{RunError, RunResult, run_one};
pub use scenario::{Scenario, Study};
