//! The command line: `resim run`, `resim validate`, `resim merge`, and the dispatch to the
//! other commands (`check` in `cli_check`, `hunt` in `cli_hunt`, `trace` and `explain` in
//! `cli_trace`, `shrink` in `cli_shrink`). These `cli*` modules are the only ones that
//! print, through the macros of `console`, which never panic on a closed pipe.

use crate::output::{self, OutputError, RunRequest};
use crate::report;
use crate::report::manifest::SeedRange;
use crate::report::table::RunLines;
use crate::scenario::Study;
use crate::sweep::{Shard, StreamError};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Exit code of a successful command.
pub const EXIT_OK: u8 = 0;
/// Exit code of `resim check` when an expectation or a baseline comparison fails, and of
/// `resim hunt` when a seed fails.
pub const EXIT_EXPECTATION_FAILED: u8 = 1;
/// Exit code for bad input or usage: an invalid scenario, a bad flag, an unwritable folder.
pub const EXIT_BAD_INPUT: u8 = 2;

/// resim: a deterministic simulator for the resilience engineering of distributed systems.
#[derive(Debug, Parser)]
#[command(name = "resim", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario (every variant and sweep point) over one or more seeds; write
    /// summary.csv, timeseries.csv, services.csv, policies.csv, replicas.csv, clients.csv,
    /// queues.csv, latency_histogram.csv, scenario.toml, manifest.json, aggregate.csv,
    /// charts (PNG and SVG) and report.html (a shard stops before aggregate.csv: `merge`
    /// writes the rest).
    Run(RunArgs),
    /// Check a scenario file, its variants, its sweep and its expectations, without running
    /// it.
    Validate {
        /// The scenario file (TOML).
        file: PathBuf,
    },
    /// Merge the output folders of the shards of one study into one, as one machine would
    /// have written it.
    Merge(MergeArgs),
    /// Run scenarios and check their expectations (`[expect]`) and, with `--baseline`, that
    /// nothing got significantly worse than a saved run. Exit 1 when anything fails.
    Check(CheckArgs),
    /// Run seeds in order until the scenario's expectations fail, each seed held to each
    /// expectation on its own; print the failing seeds and the commands that reproduce
    /// them. Exit 1 when a seed fails, 0 when none does.
    Hunt(crate::cli_hunt::HuntArgs),
    /// Run a scenario once with a seed and write a timeline of chosen requests, faults and
    /// policy states as Chrome trace JSON, for Perfetto or chrome://tracing. The run is the
    /// one `resim run` makes with that seed.
    Trace(crate::cli_trace::TraceArgs),
    /// Run a scenario once with a seed and tell one request's life in words: each hop,
    /// wait, attempt, timeout, retry, gate decision and fallback, with times.
    Explain(crate::cli_trace::ExplainArgs),
    /// Turn a failing seed's run into the smallest scenario that still fails with it: random
    /// faults become the scheduled ones the seed gave, then faults are removed and
    /// shortened, the load lowered and the run shortened while it still fails. The file
    /// fails `resim check` on its own.
    Shrink(crate::cli_shrink::ShrinkArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Scenario files, or folders: every scenario in a folder that has an `[expect]`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Seeds per variant and sweep point [default: the scenario's `[expect] seeds`, or 5].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    seeds: Option<u64>,
    /// Write the verdicts as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// A saved output folder to compare with (its manifest.json and summary.csv), or a
    /// folder of them named after the scenarios.
    #[arg(long, value_name = "DIR")]
    baseline: Option<PathBuf>,
    /// Where the runs' outputs go: OUT/<scenario name>/ [default: output].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print only failures and the final line.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    /// Seed of the first run [default: the scenario's `seed`].
    #[arg(long)]
    seed: Option<u64>,
    /// Number of seeds each variant and sweep point runs: SEED, SEED+1, ..., up to
    /// 18446744073709551615 at most.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    seeds: u64,
    /// Run only this variant (repeatable); `base` is the file as written.
    #[arg(long = "variant", value_name = "NAME")]
    variants: Vec<String>,
    /// Output folder [default: output/<scenario name>/, or .../shard-I-of-N for a shard].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Run only the I-th (from 0) of N slices of the runs, for one machine of several:
    /// `I/N` (N at most the number of runs), or `auto` to read Slurm's or a Kubernetes
    /// Indexed Job's variables.
    #[arg(long, value_name = "I/N|auto")]
    shard: Option<String>,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// The shards' output folders, in any order.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The merged output folder.
    #[arg(long)]
    out: PathBuf,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
}

/// Parses the arguments, runs the command, and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            });
        }
    };
    let code = match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate { file } => validate(&file),
        Command::Merge(args) => merge(&args),
        Command::Check(args) => crate::cli_check::check(&args.into()),
        Command::Hunt(args) => crate::cli_hunt::run(&args),
        Command::Trace(args) => crate::cli_trace::trace(&args),
        Command::Explain(args) => crate::cli_trace::explain_request(&args),
        Command::Shrink(args) => crate::cli_shrink::run(&args),
    };
    ExitCode::from(code)
}

/// Loads a scenario file with its variants, printing its errors (exit code 2 on failure).
pub(crate) fn load(file: &Path) -> Result<(Study, String), u8> {
    let report = |e: crate::scenario::ScenarioError| {
        say_err!("{e}");
        let n = e.diagnostics.len();
        if n > 1 {
            say_err!("{n} errors in {}", file.display());
        }
        EXIT_BAD_INPUT
    };
    let text = crate::scenario::read_text(file).map_err(report)?;
    let study = Study::from_text(&text, &file.display().to_string()).map_err(report)?;
    Ok((study, text))
}

fn validate(file: &Path) -> u8 {
    match load(file) {
        Ok((study, _)) => {
            let s = &study.base;
            let replicas: u32 = s.services.iter().map(|s| s.replicas).sum();
            say!(
                "{}: ok: scenario \"{}\" with {} client(s), {} service(s), {} replica(s); {} variant(s) x {} sweep point(s)",
                file.display(),
                s.name,
                s.clients.len(),
                s.services.len(),
                replicas,
                study.variants.len(),
                study.points.len(),
            );
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// A bar over runs on stderr, for sweeps; hidden for a single run, with `--quiet`, and
/// whenever stderr is not a terminal (indicatif checks), so CI logs stay clean.
fn progress_bar(runs: usize, quiet: bool) -> ProgressBar {
    if quiet || runs < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(runs as u64);
    let style =
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, ETA {eta}")
            .expect("a valid progress template");
    bar.set_style(style);
    bar
}

/// The shard `--shard` names: `I/N`, or `auto` (Slurm array or Kubernetes Indexed Job).
fn parse_shard(text: &str) -> Result<Shard, String> {
    if text == "auto" {
        return shard_from_env(&|k| std::env::var(k).ok());
    }
    let parse = |t: &str| t.trim().parse::<u64>().ok();
    match text.split_once('/').map(|(i, n)| (parse(i), parse(n))) {
        Some((Some(index), Some(count))) if count > 0 && index < count => {
            Ok(Shard { index, count })
        }
        _ => Err(format!(
            "`--shard {text}` is not a shard; expected I/N with 0 <= I < N, such as 0/4, or `auto`"
        )),
    }
}

/// The shard from the environment: Slurm's `SLURM_ARRAY_TASK_ID` (less
/// `SLURM_ARRAY_TASK_MIN`) of `SLURM_ARRAY_TASK_COUNT`, or a Kubernetes Indexed Job's
/// `JOB_COMPLETION_INDEX` of `RESIM_SHARD_COUNT` (set it to the Job's `completions`).
pub fn shard_from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
    let number = |k: &str| -> Result<Option<u64>, String> {
        var(k)
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    format!("{k}={v} is not a whole number; expected a whole number such as 3")
                })
            })
            .transpose()
    };
    let (index, count, from) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let count = number("SLURM_ARRAY_TASK_COUNT")?
            .ok_or("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; expected both, as Slurm sets them for each task of a job array (sbatch --array)")?;
        let index = id.checked_sub(min).ok_or_else(|| {
            format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}; expected a task of the array, from its minimum up")
        })?;
        (index, count, "Slurm")
    } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = number("RESIM_SHARD_COUNT")?.ok_or(
            "JOB_COMPLETION_INDEX is set but RESIM_SHARD_COUNT is not; expected it set to the Job's `completions`",
        )?;
        (index, count, "Kubernetes")
    } else {
        return Err("`--shard auto` found neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX; expected to run in a Slurm array or a Kubernetes Indexed Job, or `--shard I/N`".to_string());
    };
    if count == 0 || index >= count {
        return Err(format!(
            "{from} gives shard {index} of {count}; expected an index below the count"
        ));
    }
    Ok(Shard { index, count })
}

/// Where shard `s` came from, as a person reads it: `--shard I/N`, or the variables that
/// `--shard auto` read.
fn shard_origin(text: &str, s: Shard) -> String {
    if text != "auto" {
        return format!("`--shard {text}`");
    }
    let vars = if std::env::var_os("SLURM_ARRAY_TASK_ID").is_some() {
        "Slurm's SLURM_ARRAY_TASK_COUNT"
    } else {
        "the Kubernetes Job's RESIM_SHARD_COUNT"
    };
    format!(
        "`--shard auto` (shard {} of {} from {vars})",
        s.index, s.count
    )
}

/// The seeds `first`, `first + 1`, ... (`count` of them), or why they do not all fit in 64
/// bits; `what` says where `first` comes from.
pub(crate) fn seed_range(first: u64, count: u64, what: &str) -> Result<SeedRange, String> {
    match first.checked_add(count.saturating_sub(1)) {
        Some(_) => Ok(SeedRange { first, count }),
        None => Err(format!(
            "{what} and {count} seeds would go past the largest seed, {}; expected a first seed of at most {} for {count} seeds",
            u64::MAX,
            u64::MAX - count.saturating_sub(1)
        )),
    }
}

/// The command line as typed, quoted for a shell where needed.
pub(crate) fn command_line() -> String {
    let mut args = std::env::args();
    let mut out = vec!["resim".to_string()];
    args.next();
    out.extend(args.map(|a| {
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
            format!("'{}'", a.replace('\'', "'\\''"))
        } else {
            a
        }
    }));
    out.join(" ")
}

fn run(args: &RunArgs) -> u8 {
    let (mut study, text) = match load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(e) = study.select(&args.variants) {
        say_err!("{}: `--variant`: {e}", args.file.display());
        return EXIT_BAD_INPUT;
    }
    let shard = match args.shard.as_deref().map(parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => {
            say_err!("resim: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let scenario = &study.base;
    let first = match args.seed {
        Some(seed) => (seed, format!("`--seed {seed}`")),
        None => (
            scenario.seed,
            format!("the scenario's `seed` ({})", scenario.seed),
        ),
    };
    let seeds = match seed_range(first.0, args.seeds, &first.1) {
        Ok(s) => s,
        Err(e) => {
            say_err!("resim: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let out = args.out.clone().unwrap_or_else(|| {
        let dir = Path::new("output").join(&scenario.name);
        match shard {
            Some(s) => dir.join(format!("shard-{}-of-{}", s.index, s.count)),
            None => dir,
        }
    });
    let total = study.cells.len() * seeds.count as usize;
    if let Some(s) = shard
        && s.count > total as u64
    {
        say_err!(
            "{}: {} makes {} shards, but the study has {total} run(s); expected at most one shard per run: {}",
            args.file.display(),
            shard_origin(args.shard.as_deref().unwrap_or_default(), s),
            s.count,
            if args.shard.as_deref() == Some("auto") {
                format!("an array or Job of at most {total} tasks")
            } else {
                format!("I/N with N from 1 to {total}")
            }
        );
        return EXIT_BAD_INPUT;
    }
    let mine = shard.map_or(total, |s| s.range(total).len());
    if !args.quiet {
        let runs = if total == 1 { "run" } else { "runs" };
        let shape = if study.cells.len() > 1 {
            format!(
                "{} variant(s) x {} point(s) x {} seed(s) = {total} {runs}",
                study.variants.len(),
                study.points.len(),
                seeds.count
            )
        } else {
            format!("{total} {runs}")
        };
        let part = shard.map_or(String::new(), |s| {
            format!("; shard {} of {}: {mine} runs", s.index, s.count)
        });
        say!(
            "resim: {} ({shape}{part}){}",
            scenario.name,
            if scenario.description.is_empty() {
                String::new()
            } else {
                format!(": {}", scenario.description)
            }
        );
    }
    // Wall-clock time, for the throughput line only; it never reaches a result.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let bar = progress_bar(mine, args.quiet);
    let done = || bar.inc(1);
    let request = RunRequest {
        study: &study,
        text: &text,
        seeds,
        shard,
        threads: args.threads.map(|t| t as usize),
        command: command_line(),
    };
    let mut lines = RunLines::default();
    let points: Vec<Vec<String>> = study.cells.iter().map(|c| study.point_text(c)).collect();
    let mut position = shard.map_or(0, |s| s.range(total).start);
    let per_cell = seeds.count as usize;
    let outcome = output::run_into(&out, &request, &done, |run| {
        lines.push(run, &points[position / per_cell]);
        position += 1;
    });
    bar.finish_and_clear();
    let outcome = match outcome {
        Ok(o) => o,
        Err(OutputError::Stream(StreamError::Run(e))) => {
            say_err!("{}: {e}", args.file.display());
            return EXIT_BAD_INPUT;
        }
        Err(OutputError::Invalid(e)) => {
            say_err!("{}: {e}", args.file.display());
            return EXIT_BAD_INPUT;
        }
        Err(e) => {
            say_err!(
                "{}: cannot write results: {e}; expected --out to be a folder, or a path where one can be made",
                out.display()
            );
            return EXIT_BAD_INPUT;
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let mut files = outcome.files;
    let analysis = match shard {
        Some(_) => None,
        None => match output::draw(&out) {
            Ok((analysis, mut drawn)) => {
                files.append(&mut drawn);
                Some(analysis)
            }
            Err(e) => {
                say_err!("{}: cannot write results: {e}", out.display());
                return EXIT_BAD_INPUT;
            }
        },
    };
    if !args.quiet {
        // One line per run for a single cell; one line per cell, with intervals and
        // differences from base, when there are several.
        match &analysis {
            Some(a) if a.cells.len() > 1 => say_raw!("{}", report::table::cells_table(a)),
            Some(a) if a.seeds > 1 => {
                say_raw!("{}", lines.table());
                say!();
                say_raw!("{}", report::table::cells_table(a));
            }
            _ => say_raw!("{}", lines.table()),
        }
        say!(
            "simulated {} requests, {} events in {:.2} s ({} events/s)",
            report::format::human_count(outcome.requests as f64),
            report::format::human_count(outcome.events as f64),
            elapsed,
            report::format::human_count(outcome.events as f64 / elapsed.max(1e-9)),
        );
        print_written(&out, &files);
    }
    EXIT_OK
}

/// Prints the files written into `dir`, by name.
fn print_written(dir: &Path, files: &[PathBuf]) {
    let names: Vec<String> = files
        .iter()
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().to_string(),
            )
        })
        .collect();
    say!("wrote {}/: {}", dir.display(), names.join(", "));
}

fn merge(args: &MergeArgs) -> u8 {
    match crate::merge::merge(&args.dirs, &args.out, &command_line()) {
        Ok((analysis, files)) => {
            if !args.quiet {
                say!(
                    "resim: merged {} shards of {} ({} cells x {} seeds)",
                    args.dirs.len(),
                    analysis.scenario,
                    analysis.cells.len(),
                    analysis.seeds
                );
                if analysis.cells.len() > 1 || analysis.seeds > 1 {
                    say_raw!("{}", report::table::cells_table(&analysis));
                }
                print_written(&args.out, &files);
            }
            EXIT_OK
        }
        Err(e) => {
            say_err!("resim merge: {e}");
            EXIT_BAD_INPUT
        }
    }
}

impl From<CheckArgs> for crate::cli_check::CheckOptions {
    fn from(a: CheckArgs) -> Self {
        crate::cli_check::CheckOptions {
            paths: a.paths,
            seeds: a.seeds,
            junit: a.junit,
            threads: a.threads.map(|t| t as usize),
            baseline: a.baseline,
            out: a.out,
            quiet: a.quiet,
        }
    }
}
