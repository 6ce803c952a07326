//! `resim trace` and `resim explain`: one run of a scenario with a tracer attached, written
//! as a Chrome trace (Perfetto) or told as one request's life in words.

use crate::cli::{EXIT_BAD_INPUT, EXIT_OK, load};
use crate::engine::SimTime;
use crate::paths;
use crate::run::{TracedRun, run_traced};
use crate::scenario::Study;
use crate::scenario::units::parse_duration;
use crate::trace::{Select, TraceOptions, chrome, explain};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Which requests `resim trace` keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Requests {
    /// Those that failed.
    Failed,
    /// The slowest.
    Slowest,
    /// Every one, in order.
    All,
}

/// The run both commands trace.
#[derive(Debug, Args)]
pub struct RunChoice {
    /// The scenario file (TOML).
    pub file: PathBuf,
    /// The run's seed [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// The variant [default: base, the file as written].
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// With a sweep, the point (its position, from 0, as `resim hunt` prints it).
    #[arg(long, default_value_t = 0)]
    pub point: usize,
}

/// `resim trace`'s arguments.
#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub run: RunChoice,
    /// Requests sent from this time on, like "5m" [default: 0].
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Requests sent before this time, like "6m" [default: the end].
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Which requests to keep.
    #[arg(long, value_enum, default_value_t = Requests::Failed)]
    pub requests: Requests,
    /// Most requests kept.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub limit: u64,
    /// The trace file to write.
    #[arg(long, default_value = "trace.json")]
    pub out: PathBuf,
}

/// `resim explain`'s arguments.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub run: RunChoice,
    /// The request's number, as the trace shows it (`#1234`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub request: u64,
}

/// Loads the study and picks the cell `choice` names; the error is printed.
fn cell(choice: &RunChoice, what: &str) -> Result<(Study, usize, u64), u8> {
    let (study, _) = load(&choice.file)?;
    let variant = choice
        .variant
        .as_deref()
        .unwrap_or(crate::run::BASE_VARIANT);
    if choice.point >= study.points.len() {
        say_err!("resim {what}: {}", study.no_point(choice.point));
        return Err(EXIT_BAD_INPUT);
    }
    let Some(c) = study
        .cells
        .iter()
        .position(|c| c.variant == variant && c.point == choice.point)
    else {
        say_err!("resim {what}: {}", study.no_variant(variant));
        return Err(EXIT_BAD_INPUT);
    };
    let seed = choice.seed.unwrap_or(study.base.seed);
    Ok((study, c, seed))
}

/// A `--from`/`--to` time; the error is printed.
fn time(text: &Option<String>, flag: &str, default: SimTime) -> Result<SimTime, u8> {
    match text {
        None => Ok(default),
        Some(t) => parse_duration(t)
            .map(|d| SimTime(d.as_nanos()))
            .map_err(|e| {
                say_err!("resim trace: {flag}: {e}");
                EXIT_BAD_INPUT
            }),
    }
}

/// Runs the traced run; a run that cannot finish is reported.
fn traced(
    study: &Study,
    c: usize,
    seed: u64,
    options: TraceOptions,
    what: &str,
) -> Result<TracedRun, u8> {
    run_traced(&study.cells[c].scenario, seed, options).map_err(|e| {
        say_err!("resim {what}: {e}");
        EXIT_BAD_INPUT
    })
}

/// `resim trace`: writes the Chrome trace; returns the exit code.
pub fn trace(args: &TraceArgs) -> u8 {
    let (study, c, seed) = match cell(&args.run, "trace") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (from, to) = match (
        time(&args.from, "--from", SimTime::ZERO),
        time(&args.to, "--to", SimTime::MAX),
    ) {
        (Ok(f), Ok(t)) => (f, t),
        _ => return EXIT_BAD_INPUT,
    };
    let inputs = paths::scenario_inputs(&args.run.file, &study);
    if let Err(e) = paths::refuse_input("--out", &args.out, inputs.iter().map(PathBuf::as_path)) {
        say_err!("resim trace: {e}");
        return EXIT_BAD_INPUT;
    }
    if to <= from {
        say_err!("resim trace: --to is not after --from; expected a window like --from 5m --to 6m");
        return EXIT_BAD_INPUT;
    }
    let options = TraceOptions {
        from,
        to,
        select: match args.requests {
            Requests::Failed => Select::Failed,
            Requests::Slowest => Select::Slowest,
            Requests::All => Select::All,
        },
        limit: args.limit as usize,
    };
    let run = match traced(&study, c, seed, options, "trace") {
        Ok(r) => r,
        Err(code) => return code,
    };
    let scenario = &study.cells[c].scenario;
    let file = args.run.file.display().to_string();
    let input = chrome::TraceInput {
        scenario,
        recorded: &run.recorded,
        fault_units: &run.fault_units,
        policy_log: &run.result.metrics.policy_log,
        from,
        to,
        end: run.result.end_time,
        title: format!("{file}, variant {}, seed {seed}", study.cells[c].variant),
    };
    let json = chrome::to_json(&input);
    if let Err(e) = crate::report::atomic::write(&args.out, json.as_bytes()) {
        say_err!(
            "resim trace: cannot write {}: {e}; expected --out to name a file in a folder that exists and can be written",
            args.out.display()
        );
        return EXIT_BAD_INPUT;
    }
    let t = &run.result.metrics.totals;
    // The traced requests are those sent in [from, to), warmup included; the run's counts
    // (and its summary.csv) start after the warmup.
    let warmup = scenario.warmup;
    let with_warmup = if from.as_nanos() < warmup.as_nanos() && warmup.as_nanos() > 0 {
        " (warmup included)"
    } else {
        ""
    };
    say!(
        "wrote {}: {} {} request(s) sent in the trace window{with_warmup}; the run counted {} after its warmup (availability {}), {} fault window(s) in the trace window; open it at https://ui.perfetto.dev or chrome://tracing",
        args.out.display(),
        run.recorded.requests.len(),
        format!("{:?}", args.requests).to_lowercase(),
        t.requests,
        t.availability()
            .map_or("-".to_string(), |a| format!("{:.4}%", a * 100.0)),
        faults_in_window(&run.recorded.faults, from, to, run.result.end_time),
    );
    if let Some(r) = run.recorded.requests.first() {
        say!(
            "explain one: resim explain {file} --seed {seed} --variant {} --request {}",
            study.cells[c].variant,
            r.id
        );
    }
    EXIT_OK
}

/// `resim explain`: prints one request's life; returns the exit code.
pub fn explain_request(args: &ExplainArgs) -> u8 {
    let (study, c, seed) = match cell(&args.run, "explain") {
        Ok(x) => x,
        Err(code) => return code,
    };
    let options = TraceOptions {
        from: SimTime::ZERO,
        to: SimTime::MAX,
        select: Select::Request(args.request),
        limit: 1,
    };
    let run = match traced(&study, c, seed, options, "explain") {
        Ok(r) => r,
        Err(code) => return code,
    };
    match run.recorded.requests.first() {
        Some(r) => {
            say_raw!("{}", explain::explain(&study.cells[c].scenario, r));
            EXIT_OK
        }
        None => {
            let sent = run.result.requests_sent;
            let expected = if sent == 0 {
                "expected a seed, variant or point whose run sends requests".to_string()
            } else {
                format!("expected --request from 1 to {sent}")
            };
            say_err!(
                "resim explain: the run with seed {seed} has no request #{}; its clients sent {sent} request(s), numbered from 1; {expected}",
                args.request,
            );
            EXIT_BAD_INPUT
        }
    }
}

/// How many times a fault was on (per unit) during part of [`from`, `to`).
fn faults_in_window(
    changes: &[crate::trace::FaultChange],
    from: SimTime,
    to: SimTime,
    end: SimTime,
) -> usize {
    let mut open: std::collections::BTreeMap<(usize, u32), (SimTime, u32)> = Default::default();
    let mut n = 0;
    for c in changes {
        let key = (c.fault, c.unit);
        if c.on {
            open.entry(key).or_insert((c.t, 0)).1 += 1;
        } else if let Some((start, k)) = open.get_mut(&key) {
            *k -= 1;
            if *k == 0 {
                n += usize::from(*start < to && c.t > from);
                open.remove(&key);
            }
        }
    }
    n + open
        .values()
        .filter(|(start, _)| *start < to && end > from)
        .count()
}
