//! `resim hunt`: the command line over [`crate::hunt`]: which seeds, what it prints, and the
//! exit code (0 no failing seed, 1 found, 2 bad input).

use crate::check::show;
use crate::cli::{EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, EXIT_OK, load, seed_range};
use crate::hunt::{HuntReport, HuntRequest, hunt};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// `resim hunt`'s arguments.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// The scenario file (TOML), with an `[expect]` table.
    pub file: PathBuf,
    /// Most seeds tried.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub seeds: u64,
    /// The first seed tried [default: the scenario's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Hunt only this variant (repeatable); `base` is the file as written.
    #[arg(long = "variant", value_name = "NAME")]
    pub variants: Vec<String>,
    /// Stop once this many seeds have failed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub failures: u64,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Print only the failing seeds and the commands.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the hunt; returns the exit code.
pub fn run(args: &HuntArgs) -> u8 {
    let (mut study, _) = match load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let file = args.file.display().to_string();
    if let Err(e) = study.select(&args.variants) {
        say_err!("resim hunt: {e}");
        return EXIT_BAD_INPUT;
    }
    if study.expectations.is_empty() {
        say_err!(
            "resim hunt: {file} has no [expect] table; expected expectations to hold each seed to, like `[expect]` then `availability = \">= 99.9%\"`"
        );
        return EXIT_BAD_INPUT;
    }
    let first = args.seed.unwrap_or(study.base.seed);
    if let Err(e) = seed_range(first, args.seeds, "--seed") {
        say_err!("resim hunt: {e}");
        return EXIT_BAD_INPUT;
    }
    let expectations: usize = study
        .variants
        .iter()
        .map(|v| study.expectations.for_variant(v).len())
        .sum();
    if expectations == 0 {
        say_err!(
            "resim hunt: no expectation applies to the variants hunted ({}); expected an [expect] table, or [expect.variant.NAME] for them",
            study.variants.join(", ")
        );
        return EXIT_BAD_INPUT;
    }
    if !args.quiet {
        say_err!(
            "hunting {file}: seeds {first} to {}, {} variant(s) x {} point(s), {expectations} expectation(s); each seed is held to each expectation on its own",
            first.wrapping_add(args.seeds - 1),
            study.variants.len(),
            study.points.len(),
        );
    }
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(args.seeds.saturating_mul(study.cells.len() as u64));
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos} runs, {elapsed} elapsed")
                .expect("a valid progress template"),
        );
        bar
    };
    let req = HuntRequest {
        study: &study,
        first,
        count: args.seeds,
        wanted: args.failures as usize,
        threads: args.threads.map(|t| t as usize),
    };
    let report = hunt(&req, &|| bar.inc(1));
    bar.finish_and_clear();
    print_report(&report, &file, first);
    if report.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

/// The failing seeds as a table, then the commands that reproduce them.
fn print_report(report: &HuntReport, file: &str, first: u64) {
    let last = first.wrapping_add(report.seeds_run.saturating_sub(1));
    let seeds = report.seeds();
    if seeds.is_empty() {
        say!("resim hunt: no seed from {first} to {last} breaks an expectation");
        return;
    }
    let list = seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (what, verb) = if seeds.len() == 1 {
        ("seed", "breaks")
    } else {
        ("seeds", "break")
    };
    say!("resim hunt: {what} {list} {verb} the expectations (seeds {first} to {last} run)");
    let mut rows = vec![[
        "seed".to_string(),
        "variant".to_string(),
        "metric".to_string(),
        "expected".to_string(),
        "observed".to_string(),
    ]];
    for f in &report.failures {
        let variant = if f.point.is_empty() {
            f.variant.clone()
        } else {
            format!("{} ({})", f.variant, f.point)
        };
        if let Some(e) = &f.error {
            rows.push([
                f.seed.to_string(),
                variant.clone(),
                "run".to_string(),
                "to finish".to_string(),
                e.clone(),
            ]);
        }
        for m in &f.misses {
            rows.push([
                f.seed.to_string(),
                variant.clone(),
                m.metric.name().to_string(),
                format!("{} (line {})", m.expected, m.line),
                m.observed
                    .map_or("no value".to_string(), |v| show(m.metric, v)),
            ]);
        }
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        say!("  {}", line.join("  ").trim_end());
    }
    say!("reproduce:");
    let mut shown = Vec::new();
    for f in &report.failures {
        let key = (f.seed, f.variant.clone(), f.point_index);
        if shown.contains(&key) {
            continue;
        }
        shown.push(key);
        let mut cmd = format!(
            "  resim run {file} --seed {} --variant {}",
            f.seed, f.variant
        );
        if !f.point.is_empty() {
            cmd.push_str(&format!("   # sweep point {}: {}", f.point_index, f.point));
        }
        say!("{cmd}");
    }
    if let Some(f) = report.failures.first() {
        let point = if f.point.is_empty() {
            String::new()
        } else {
            format!(" --point {}", f.point_index)
        };
        say!("then look at it and keep it:");
        say!(
            "  resim trace {file} --seed {} --variant {}{point} --out trace.json",
            f.seed,
            f.variant
        );
        say!(
            "  resim shrink {file} --seed {} --variant {}{point} --out minimal.toml",
            f.seed,
            f.variant
        );
    }
}
