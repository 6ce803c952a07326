//! Many runs in parallel: seeds are a pure function of (base seed, run index), and results
//! are handed over in input order, so output never depends on the thread count.

use crate::run::{RunError, RunResult, run_one};
use crate::scenario::Scenario;
use crate::scenario::study::Study;
use rayon::prelude::*;
use std::ops::Range;

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
    let work = || {
        seeds
            .par_iter()
            .map(|&seed| run_one(scenario, seed))
            .collect::<Vec<_>>()
    };
    in_pool(threads, work).into_iter().collect()
}

/// One run of a study: a cell (variant and sweep point) and a seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunRef {
    /// Index into the study's cells.
    pub cell: usize,
    /// The run's seed.
    pub seed: u64,
}

/// Every run of a study with `cells` cells over `seeds`, in output order: each cell over
/// every seed, cells in order.
pub fn run_list(cells: usize, seeds: &[u64]) -> Vec<RunRef> {
    (0..cells)
        .flat_map(|cell| seeds.iter().map(move |&seed| RunRef { cell, seed }))
        .collect()
}

/// One machine's share of a run list: the `index`-th (from 0) of `count` contiguous slices
/// of nearly equal length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 0.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl Shard {
    /// The positions of this shard's runs in a list of `runs`.
    pub fn range(&self, runs: usize) -> Range<usize> {
        let at = |i: u64| (runs as u128 * u128::from(i) / u128::from(self.count)) as usize;
        at(self.index)..at(self.index + 1)
    }
}

/// Why a streamed study stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// A run could not finish.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Its results could not be written.
    #[error("cannot write results: {0}")]
    Write(#[from] std::io::Error),
}

/// Runs `runs` of `study` on `threads` threads (rayon's default when `None`) and hands each
/// result to `sink` in the order of `runs`. Runs go a chunk at a time, so memory holds a
/// few runs per thread however long the list is. `on_done` is called (from any thread, in
/// any order) as each run finishes, for progress display; it cannot change results.
pub fn run_streaming(
    study: &Study,
    runs: &[RunRef],
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
    mut sink: impl FnMut(&RunRef, RunResult) -> std::io::Result<()> + Send,
) -> Result<(), StreamError> {
    let chunk = threads.unwrap_or_else(rayon::current_num_threads).max(2) * 4;
    in_pool(threads, || {
        for part in runs.chunks(chunk) {
            let results: Vec<Result<RunResult, RunError>> = part
                .par_iter()
                .map(|r| {
                    let cell = &study.cells[r.cell];
                    let result = run_one(&cell.scenario, r.seed).map(|mut run| {
                        run.variant.clone_from(&cell.variant);
                        run
                    });
                    on_done();
                    result
                })
                .collect();
            for (r, result) in part.iter().zip(results) {
                sink(r, result?)?;
            }
        }
        Ok(())
    })
}

/// Runs `work` on a pool of `threads` threads, or on rayon's global pool when `None`.
pub(crate) fn in_pool<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> T {
    match threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("a thread pool of the requested size")
            .install(work),
        None => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_list_once_in_order() {
        for runs in [0usize, 1, 7, 10, 1001] {
            for count in 1..=7u64 {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(runs);
                    assert_eq!(r.start, next, "contiguous");
                    assert!(r.len() <= runs / count as usize + 1, "balanced");
                    next = r.end;
                }
                assert_eq!(next, runs, "complete");
            }
        }
    }

    #[test]
    fn the_run_list_is_cells_then_seeds() {
        let list = run_list(2, &[5, 6, 7]);
        let pairs: Vec<(usize, u64)> = list.iter().map(|r| (r.cell, r.seed)).collect();
        assert_eq!(pairs, [(0, 5), (0, 6), (0, 7), (1, 5), (1, 6), (1, 7)]);
    }
}
