//! An output folder: a study's runs streamed into it (or one shard's share of them), the
//! merged latency histograms, the manifest and the scenario's text; then the comparison
//! drawn from those files: `aggregate.csv`, the charts and `report.html`.

use crate::compare::{Analysis, build};
use crate::report::csv::RunFiles;
use crate::report::histogram::{self, Bins};
use crate::report::manifest::{
    DataFileRecord, Invocation, Manifest, SCENARIO_FILE, ScenarioRecord, SeedRange, ShardRecord,
    SweepRecord, sha256_hex,
};
use crate::report::{aggregate, chart, html};
use crate::run::RunResult;
use crate::scenario::Study;
use crate::sweep::{self, Shard, StreamError};
use std::path::{Path, PathBuf};

/// Most runs one study may have (the run list holds 16 bytes a run).
pub const MAX_RUNS: u64 = 100_000_000;

/// What to run and how.
pub struct RunRequest<'a> {
    /// The study, with variants already selected.
    pub study: &'a Study,
    /// The scenario file's text, kept beside the outputs.
    pub text: &'a str,
    /// The seeds every cell runs.
    pub seeds: SeedRange,
    /// Only this slice of the runs, for one machine of several.
    pub shard: Option<Shard>,
    /// Worker threads; rayon's default when `None`.
    pub threads: Option<usize>,
    /// The command line, for the manifest.
    pub command: String,
}

/// What a run into a folder produced.
pub struct RunOutcome {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Events handled over every run.
    pub events: u64,
    /// Requests sent over every run.
    pub requests: u64,
}

/// Why an output folder could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A run failed, or its rows could not be written.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The folder's files are inconsistent or unreadable.
    #[error("{0}")]
    Invalid(String),
}

/// The manifest of a study run with `req`.
pub fn manifest(req: &RunRequest, runs: usize) -> Manifest {
    let study = req.study;
    Manifest {
        resim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: ScenarioRecord {
            name: study.base.name.clone(),
            sha256: sha256_hex(req.text.as_bytes()),
        },
        seeds: req.seeds,
        variants: study.variants.clone(),
        sweep: SweepRecord {
            paths: study.sweep_paths.clone(),
            points: study
                .points
                .iter()
                .map(|p| p.iter().map(|v| v.text.clone()).collect())
                .collect(),
        },
        runs: runs as u64,
        shard: req.shard.map(|s| {
            let r = s.range(runs);
            ShardRecord {
                index: s.index,
                count: s.count,
                runs: [r.start as u64, r.end as u64],
            }
        }),
        data_files: Vec::new(),
        invocation: Invocation {
            command: req.command.clone(),
            threads: req.threads.map(|t| t as u64),
        },
    }
}

/// Runs `req` into `dir`, calling `on_done` as each run ends (any thread, any order) and
/// `on_result` with each result in order. The comparison is [`draw`]n separately (for a
/// whole study; a shard's comparison is the merge's), so simulation speed can be measured
/// without it.
pub fn run_into(
    dir: &Path,
    req: &RunRequest,
    on_done: &(dyn Fn() + Sync),
    mut on_result: impl FnMut(&RunResult) + Send,
) -> Result<RunOutcome, OutputError> {
    let study = req.study;
    let total = (study.cells.len() as u128) * u128::from(req.seeds.count);
    if total > MAX_RUNS as u128 {
        return Err(OutputError::Invalid(format!(
            "the study has {total} runs ({} variant(s) x {} point(s) x {} seed(s)); expected at most {MAX_RUNS}: fewer seeds, variants or sweep points",
            study.variants.len(),
            study.points.len(),
            req.seeds.count
        )));
    }
    let seeds = sweep::seeds(req.seeds.first, req.seeds.count);
    let all = sweep::run_list(study.cells.len(), &seeds);
    let range = req.shard.map_or(0..all.len(), |s| s.range(all.len()));
    let runs = &all[range];
    let mut files = RunFiles::create(dir, &study.sweep_paths)?;
    let points: Vec<Vec<String>> = study.cells.iter().map(|c| study.point_text(c)).collect();
    let mut bins: Vec<Bins> = vec![Bins::new(); study.cells.len()];
    let (mut events, mut requests) = (0u64, 0u64);
    sweep::run_streaming(study, runs, req.threads, on_done, |r, result| {
        files.write_run(&result, &points[r.cell])?;
        histogram::add(&mut bins[r.cell], &result.metrics.latency_bins);
        events += result.events;
        requests += result.requests_sent;
        on_result(&result);
        Ok(())
    })?;
    let mut written = files.finish()?;
    let labelled: Vec<(String, Vec<String>, &Bins)> = study
        .cells
        .iter()
        .zip(&points)
        .zip(&bins)
        .filter(|(_, b)| !b.is_empty())
        .map(|((c, p), b)| (c.variant.clone(), p.clone(), b))
        .collect();
    written.push(histogram::write(dir, &study.sweep_paths, &labelled)?);
    written.push(crate::report::atomic::write(
        &dir.join(SCENARIO_FILE),
        req.text,
    )?);
    let mut m = manifest(req, all.len());
    for file in study.data_files() {
        let bytes = std::fs::read(&file.path).map_err(|e| {
            OutputError::Invalid(format!("{}: cannot read: {e}", file.path.display()))
        })?;
        let dest = dir.join(&file.written);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        m.data_files.push(DataFileRecord {
            path: file.written.clone(),
            sha256: sha256_hex(&bytes),
        });
        written.push(crate::report::atomic::write(&dest, bytes)?);
    }
    written.push(m.write(dir)?);
    Ok(RunOutcome {
        files: written,
        events,
        requests,
    })
}

/// Draws the comparison of the whole study in `dir` from its files: `aggregate.csv`, the
/// charts (PNG and SVG) and `report.html`.
pub fn draw(dir: &Path) -> Result<(Analysis, Vec<PathBuf>), OutputError> {
    let analysis = build::analyze(dir).map_err(OutputError::Invalid)?;
    let mut written = vec![aggregate::write(dir, &analysis)?];
    written.extend(
        chart::write_charts(dir, &analysis).map_err(|e| OutputError::Invalid(e.to_string()))?,
    );
    let svgs = chart::render_svgs(&analysis).map_err(|e| OutputError::Invalid(e.to_string()))?;
    written.push(html::write_report(dir, &analysis, &svgs)?);
    Ok((analysis, written))
}
