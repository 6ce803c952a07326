//! The command line: `resim run` and `resim validate`. The only module that prints.

use crate::report;
use crate::scenario::Scenario;
use crate::sweep;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Exit code of a successful command.
pub const EXIT_OK: u8 = 0;
/// Exit code reserved for failed expectations (`resim check`, in a later release).
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
    /// Run a scenario for one or more seeds and write summary.csv and timeseries.csv.
    Run(RunArgs),
    /// Check a scenario file without running it.
    Validate {
        /// The scenario file (TOML).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    /// Seed of the first run [default: the scenario's `seed`].
    #[arg(long)]
    seed: Option<u64>,
    /// Number of runs, with seeds SEED, SEED+1, ...
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    seeds: u64,
    /// Output folder [default: output/<scenario name>/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
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
    };
    ExitCode::from(code)
}

fn load(file: &Path) -> Result<Scenario, u8> {
    Scenario::load(file).map_err(|e| {
        eprintln!("{e}");
        let n = e.diagnostics.len();
        if n > 1 {
            eprintln!("{n} errors in {}", file.display());
        }
        EXIT_BAD_INPUT
    })
}

fn validate(file: &Path) -> u8 {
    match load(file) {
        Ok(s) => {
            let replicas: u32 = s.services.iter().map(|s| s.replicas).sum();
            println!(
                "{}: ok: scenario \"{}\" with {} client(s), {} service(s), {} replica(s)",
                file.display(),
                s.name,
                s.clients.len(),
                s.services.len(),
                replicas
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

fn run(args: &RunArgs) -> u8 {
    let scenario = match load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let first = args.seed.unwrap_or(scenario.seed);
    let seeds = sweep::seeds(first, args.seeds);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scenario.name));
    if !args.quiet {
        let runs = if seeds.len() == 1 { "run" } else { "runs" };
        println!(
            "resim: {} ({} {runs}){}",
            scenario.name,
            seeds.len(),
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
    let bar = progress_bar(seeds.len(), args.quiet);
    let threads = args.threads.map(|t| t as usize);
    let done = || bar.inc(1);
    let outcome = sweep::run_seeds_with_progress(&scenario, &seeds, threads, &done);
    bar.finish_and_clear();
    let results = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", args.file.display());
            return EXIT_BAD_INPUT;
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let written = match report::csv::write_all(&out, &results) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{}: cannot write results: {e}", out.display());
            return EXIT_BAD_INPUT;
        }
    };
    if !args.quiet {
        print!("{}", report::table::runs_table(&results));
        let requests: u64 = results.iter().map(|r| r.requests_sent).sum();
        let events: u64 = results.iter().map(|r| r.events).sum();
        println!(
            "simulated {} requests, {} events in {:.2} s ({} events/s)",
            report::format::human_count(requests as f64),
            report::format::human_count(events as f64),
            elapsed,
            report::format::human_count(events as f64 / elapsed.max(1e-9)),
        );
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        println!("wrote {}", names.join(", "));
    }
    EXIT_OK
}
