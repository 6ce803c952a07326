//! Many runs in parallel: seeds are a pure function of (base seed, run index), and results
//! are collected in input order, so output never depends on the thread count.

use crate::run::{RunError, RunResult, run_one};
use crate::scenario::Scenario;
use rayon::prelude::*;

/// The seeds of `count` runs starting at `first`: first, first + 1, ...
pub fn seeds(first: u64, count: u64) -> Vec<u64> {
    (0..count).map(|i| first.wrapping_add(i)).collect()
}

/// Runs `scenario` once per seed, on `threads` threads (rayon's default when `None`).
/// Results come back in the order of `seeds`; the first failing seed's error is returned.
pub fn run_seeds(
    scenario: &Scenario,
    seeds: &[u64],
    threads: Option<usize>,
) -> Result<Vec<RunResult>, RunError> {
    run_seeds_with_progress(scenario, seeds, threads, &|| {})
}

/// [`run_seeds`], calling `on_done` (from any thread, in any order) as each run finishes,
/// for progress display. It cannot influence the results.
pub fn run_seeds_with_progress(
    scenario: &Scenario,
    seeds: &[u64],
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<RunResult>, RunError> {
    let work = || {
        seeds
            .par_iter()
            .map(|&seed| {
                let result = run_one(scenario, seed);
                on_done();
                result
            })
            .collect::<Vec<_>>()
    };
    let results = match threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("a thread pool of the requested size")
            .install(work),
        None => work(),
    };
    results.into_iter().collect()
}
