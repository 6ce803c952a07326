//! `resim hunt`: seeds run in order until the scenario's expectations fail, each seed held
//! to every expectation on its own, so that a failing seed can be reproduced, traced and
//! shrunk alone.
//!
//! Seeds go a chunk at a time in parallel; the failures reported are the first in seed
//! order whatever the chunking, so the report never depends on the thread count.

use crate::compare::{Metric, RunRow};
use crate::run::run_one;
use crate::scenario::Study;
use crate::scenario::expect::Expectation;
use rayon::prelude::*;

/// What to hunt.
pub struct HuntRequest<'a> {
    /// The study, with variants already selected.
    pub study: &'a Study,
    /// The first seed tried.
    pub first: u64,
    /// How many seeds at most.
    pub count: u64,
    /// Stop once this many seeds have failed.
    pub wanted: usize,
    /// Worker threads; rayon's default when `None`.
    pub threads: Option<usize>,
}

/// One expectation a run broke.
#[derive(Clone, Debug, PartialEq)]
pub struct Miss {
    /// The metric.
    pub metric: Metric,
    /// The expectation as written, e.g. `>= 99.5%`.
    pub expected: String,
    /// The run's value, in the metric's unit; `None` when the run has none (no success
    /// for a latency, no scheduled fault for recovery), which fails as in `resim check`.
    pub observed: Option<f64>,
    /// Line of the scenario file it is written on.
    pub line: usize,
}

/// A run that broke expectations, or could not finish.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The variant.
    pub variant: String,
    /// The sweep point, `path=value` joined by commas; empty without a sweep.
    pub point: String,
    /// The sweep point's position, from 0.
    pub point_index: usize,
    /// The expectations it broke, in file order.
    pub misses: Vec<Miss>,
    /// Why the run stopped early (a limit), when it did.
    pub error: Option<String>,
}

/// What a hunt found.
#[derive(Clone, Debug, PartialEq)]
pub struct HuntReport {
    /// The failures of the first failing seeds (at most `wanted` seeds), in seed order,
    /// then cell order.
    pub failures: Vec<Failure>,
    /// Seeds examined: up to the last failing seed reported, or all of them.
    pub seeds_run: u64,
}

impl HuntReport {
    /// The failing seeds, in order, each once.
    pub fn seeds(&self) -> Vec<u64> {
        let mut seeds: Vec<u64> = self.failures.iter().map(|f| f.seed).collect();
        seeds.dedup();
        seeds
    }
}

/// Runs `req`'s seeds in order, every cell of the study for each, until `wanted` seeds have
/// failed or the seeds run out. `on_done` is called (any thread, any order) as each run ends.
pub fn hunt(req: &HuntRequest, on_done: &(dyn Fn() + Sync)) -> HuntReport {
    let study = req.study;
    let cells = study.cells.len().max(1);
    let threads = req
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    // Enough runs per chunk to keep every thread busy, few enough to stop soon after a find.
    let chunk_seeds = ((threads * 4).div_ceil(cells)).max(1) as u64;
    let work = || {
        let mut failures: Vec<Failure> = Vec::new();
        let mut failing_seeds = 0usize;
        let mut offset = 0u64;
        while offset < req.count && failing_seeds < req.wanted {
            let n = chunk_seeds.min(req.count - offset);
            let runs: Vec<(u64, usize)> = (offset..offset + n)
                .flat_map(|i| {
                    let seed = req.first.wrapping_add(i);
                    (0..study.cells.len()).map(move |c| (seed, c))
                })
                .collect();
            let found: Vec<Option<Failure>> = runs
                .par_iter()
                .map(|&(seed, c)| {
                    let f = judge(study, c, seed);
                    on_done();
                    f
                })
                .collect();
            let mut last_seed = None;
            for f in found.into_iter().flatten() {
                if last_seed != Some(f.seed) {
                    if failing_seeds == req.wanted {
                        break;
                    }
                    failing_seeds += 1;
                    last_seed = Some(f.seed);
                }
                failures.push(f);
            }
            offset += n;
        }
        let seeds_run = if failing_seeds == req.wanted {
            failures
                .last()
                .map_or(req.count, |f| f.seed.wrapping_sub(req.first) + 1)
        } else {
            req.count
        };
        HuntReport {
            failures,
            seeds_run,
        }
    };
    crate::sweep::in_pool(req.threads, work)
}

/// Runs cell `c` of `study` with `seed` and holds it to its variant's expectations.
fn judge(study: &Study, c: usize, seed: u64) -> Option<Failure> {
    let cell = &study.cells[c];
    let point = study
        .sweep_paths
        .iter()
        .zip(study.point_text(cell))
        .map(|(p, v)| format!("{p}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let failure = |misses, error| Failure {
        seed,
        variant: cell.variant.clone(),
        point: point.clone(),
        point_index: cell.point,
        misses,
        error,
    };
    match run_one(&cell.scenario, seed) {
        Err(e) => Some(failure(Vec::new(), Some(e.to_string()))),
        Ok(run) => {
            let row = RunRow::of(&run);
            let expectations = study.expectations.for_variant(&cell.variant);
            let misses = misses(&expectations, &row);
            (!misses.is_empty()).then(|| failure(misses, None))
        }
    }
}

/// The expectations `row` breaks on its own; a metric the run leaves undefined (no success
/// for a latency, no scheduled fault for recovery) breaks its expectation, as in
/// `resim check`.
pub fn misses(expectations: &[&Expectation], row: &RunRow) -> Vec<Miss> {
    expectations
        .iter()
        .filter_map(|e| {
            let v = row.value(e.metric);
            (!v.is_some_and(|v| e.op.holds(v, e.value))).then(|| Miss {
                metric: e.metric,
                expected: e.text.clone(),
                observed: v,
                line: e.line,
            })
        })
        .collect()
}
