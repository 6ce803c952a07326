//! Comparing runs: the metric catalog, statistics across seeds, and the analysis of a
//! finished study (variants x sweep points x seeds) that `aggregate.csv`, the charts and
//! `report.html` are drawn from.

pub mod analysis;
pub mod build;
pub mod metric;
pub mod stats;

pub use analysis::Analysis;
pub use metric::{Metric, RunRow};
