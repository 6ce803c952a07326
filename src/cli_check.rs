//! `resim check`: runs the scenarios that state expectations, prints their verdicts, writes
//! JUnit XML, and maps the outcome to an exit code (0 all pass, 1 a failure, 2 bad input).

use crate::check::{self, Results, Verdict};
use crate::cli::{
    EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, EXIT_OK, command_line, load, seed_range,
};
use crate::compare::{RunRow, build};
use crate::output::{self, OutputError, RunRequest};
use crate::paths;
use crate::report::junit::{self, Suite};
use crate::report::manifest::{MANIFEST_FILE, Manifest};
use crate::report::verdicts;
use crate::scenario::Study;
use crate::scenario::expect::DEFAULT_CHECK_SEEDS;
use crate::sweep::StreamError;
use std::path::{Path, PathBuf};

/// What `resim check` was asked.
pub struct CheckOptions {
    /// Scenario files and folders.
    pub paths: Vec<PathBuf>,
    /// Seeds per cell, overriding the files'.
    pub seeds: Option<u64>,
    /// Where to write JUnit XML.
    pub junit: Option<PathBuf>,
    /// Worker threads.
    pub threads: Option<usize>,
    /// A baseline folder, or a folder of them by scenario name.
    pub baseline: Option<PathBuf>,
    /// Parent of the output folders.
    pub out: Option<PathBuf>,
    /// Print only failures.
    pub quiet: bool,
}

/// One scenario to check.
struct Target {
    file: PathBuf,
    study: Study,
    text: String,
}

/// Runs the check; returns the exit code.
pub fn check(o: &CheckOptions) -> u8 {
    let targets = match targets(o) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if targets.is_empty() {
        say_err!(
            "resim check: no scenario with an [expect] table in {}; expected scenario files that state expectations, or --baseline",
            o.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return EXIT_BAD_INPUT;
    }
    if let Some(seeds) = o.seeds {
        for t in &targets {
            if let Some(e) = t.study.expectations.needing_more_seeds(seeds) {
                say_err!(
                    "resim check: {}: --seeds {seeds} leaves the expectation on `{}` at line {} without an interval: `on = \"ci\"` needs 2 or more seeds; expected --seeds 2 or more",
                    t.file.display(),
                    e.metric,
                    e.line
                );
                return EXIT_BAD_INPUT;
            }
        }
    }
    if let Err(message) = keeps_inputs(&targets, o) {
        say_err!("resim check: {message}");
        return EXIT_BAD_INPUT;
    }
    let mut all: Vec<(String, String, Vec<Verdict>)> = Vec::new();
    for t in &targets {
        match check_one(t, o, targets.len()) {
            Ok(v) => all.push((t.file.display().to_string(), t.study.base.name.clone(), v)),
            Err(message) => {
                say_err!("resim check: {message}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    for (file, _, v) in &all {
        if !o.quiet || v.iter().any(|v| !v.passed) {
            say!("{}", verdicts::table(file, v));
        }
    }
    if let Some(path) = &o.junit {
        let suites: Vec<Suite> = all
            .iter()
            .map(|(file, name, v)| Suite {
                file,
                name,
                verdicts: v,
            })
            .collect();
        // The wall clock, for the report's timestamp only; it never reaches a result.
        #[allow(clippy::disallowed_methods)]
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        let xml = junit::render(&suites, &junit::iso8601(now), &host);
        if let Err(e) = crate::report::atomic::write(path, xml) {
            say_err!(
                "resim check: cannot write {}: {e}; expected --junit to name a file in a folder that exists and can be written",
                path.display()
            );
            return EXIT_BAD_INPUT;
        }
    }
    let total: usize = all.iter().map(|a| a.2.len()).sum();
    let failed: usize = all
        .iter()
        .map(|a| a.2.iter().filter(|v| !v.passed).count())
        .sum();
    say!(
        "resim check: {} scenario(s), {total} check(s): {} passed, {failed} failed",
        all.len(),
        total - failed
    );
    if failed > 0 {
        EXIT_EXPECTATION_FAILED
    } else {
        EXIT_OK
    }
}

/// The scenarios to check: every named file, and every scenario with expectations (or a
/// baseline) in each named folder. Any invalid file stops everything with exit code 2.
fn targets(o: &CheckOptions) -> Result<Vec<Target>, u8> {
    let mut out = Vec::new();
    let mut bad = false;
    for path in &o.paths {
        let (files, explicit) = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| {
                    say_err!("resim check: {}: {e}", path.display());
                    EXIT_BAD_INPUT
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            (files, false)
        } else {
            (vec![path.clone()], true)
        };
        for file in files {
            match load(&file) {
                Ok((study, text)) => {
                    let has_baseline = o
                        .baseline
                        .as_ref()
                        .is_some_and(|b| baseline_dir(b, &study.base.name).is_some());
                    if !study.expectations.is_empty() || has_baseline {
                        out.push(Target { file, study, text });
                    } else if explicit {
                        say_err!(
                            "resim check: {}: no [expect] table and no baseline; expected expectations such as [expect] availability = \">= 0.999\", or --baseline DIR",
                            file.display()
                        );
                        bad = true;
                    }
                }
                Err(_) => bad = true,
            }
        }
    }
    if bad { Err(EXIT_BAD_INPUT) } else { Ok(out) }
}

/// The baseline folder of scenario `name`: `dir` itself when it holds a manifest, else
/// `dir/<name>/` when that does.
fn baseline_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.to_path_buf(), dir.join(name)]
        .into_iter()
        .find(|d| d.join(MANIFEST_FILE).is_file())
}

/// The parent of the output folders: `--out`, or `output`.
fn out_parent(o: &CheckOptions) -> PathBuf {
    o.out.clone().unwrap_or_else(|| PathBuf::from("output"))
}

/// Refuses, before anything runs, a check that would write over what it reads: a JUnit
/// file that is a scenario or one of its data files, or a baseline folder that is the
/// folder a scenario's runs are written to (the check would compare them with themselves).
fn keeps_inputs(targets: &[Target], o: &CheckOptions) -> Result<(), String> {
    let parent = out_parent(o);
    for t in targets {
        if let Some(junit) = &o.junit {
            let inputs = paths::scenario_inputs(&t.file, &t.study);
            paths::refuse_input("--junit", junit, inputs.iter().map(PathBuf::as_path))?;
        }
        let dir = parent.join(&t.study.base.name);
        // Both places a baseline may be (the folder, or its <name>/), whether they exist
        // yet or not: on a first check the folder appears only once this check writes it.
        if let Some(b) = &o.baseline
            && [b.to_path_buf(), b.join(&t.study.base.name)]
                .iter()
                .any(|c| paths::same(c, &dir))
        {
            return Err(format!(
                "{}: --baseline {} is where this check writes its runs ({}, under --out {}), so they would be compared with themselves; expected a copy saved before the change, e.g. `cp -r {} baseline` then --baseline baseline/, or another --out",
                t.file.display(),
                b.display(),
                dir.display(),
                parent.display(),
                b.display()
            ));
        }
    }
    Ok(())
}

/// Runs one scenario and returns its verdicts; the error is bad input, with its place.
fn check_one(t: &Target, o: &CheckOptions, targets: usize) -> Result<Vec<Verdict>, String> {
    let file = t.file.display();
    let study = &t.study;
    let seeds = seed_range(
        study.base.seed,
        o.seeds
            .or(study.expectations.seeds)
            .unwrap_or(DEFAULT_CHECK_SEEDS),
        &format!("the scenario's `seed` ({})", study.base.seed),
    )
    .map_err(|e| format!("{file}: {e}"))?;
    let dir = out_parent(o).join(&study.base.name);
    let placed = |e: String| format!("{file}: {e}");
    // The baseline is read before anything runs, so that a wrong or broken one is said at
    // once rather than after the runs.
    let baseline = match &o.baseline {
        Some(b) => Some(read_baseline(b, study, targets).map_err(placed)?),
        None => None,
    };
    let request = RunRequest {
        study,
        text: &t.text,
        seeds,
        shard: None,
        threads: o.threads,
        command: command_line(),
    };
    if !o.quiet {
        say!(
            "checking {} ({} variant(s) x {} point(s) x {} seed(s)) into {}",
            t.file.display(),
            study.variants.len(),
            study.points.len(),
            seeds.count,
            dir.display()
        );
    }
    let failed = |e: OutputError| match e {
        OutputError::Io(e) | OutputError::Stream(StreamError::Write(e)) => format!(
            "cannot write {}: {e}; expected --out {} to be a folder, or a path where one can be made",
            dir.display(),
            out_parent(o).display()
        ),
        other => format!("{file}: {other}"),
    };
    output::run_into(&dir, &request, &|| {}, |_| {}).map_err(failed)?;
    output::draw(&dir).map_err(failed)?;
    let results = Results::read(&dir, study).map_err(placed)?;
    let mut verdicts = check::expectations(&results).map_err(placed)?;
    if let Some(baseline) = &baseline {
        compare_with(baseline, &results, t, &mut verdicts, o.quiet).map_err(placed)?;
    }
    Ok(verdicts)
}

/// A baseline read back: its folder, its manifest and its runs.
struct Baseline {
    dir: PathBuf,
    manifest: Manifest,
    runs: Vec<Vec<RunRow>>,
}

/// Reads the baseline of `study` from `b` (the folder, or its `<name>/`), checking that it
/// is of this scenario; `targets` is how many scenarios are checked.
fn read_baseline(b: &Path, study: &Study, targets: usize) -> Result<Baseline, String> {
    let Some(base) = baseline_dir(b, &study.base.name) else {
        return Err(format!(
            "no baseline for \"{}\" in {}; expected {}/{MANIFEST_FILE} or {}/{}/{MANIFEST_FILE}",
            study.base.name,
            b.display(),
            b.display(),
            b.display(),
            study.base.name
        ));
    };
    if targets > 1 && base == *b {
        return Err(format!(
            "--baseline {} is one scenario's folder, but {targets} scenarios are checked; expected a folder holding one baseline folder per scenario name",
            b.display()
        ));
    }
    let (manifest, runs) = build::read_runs(&base)?;
    if manifest.scenario.name != study.base.name {
        return Err(format!(
            "the baseline in {} is of scenario \"{}\"; expected \"{}\"",
            base.display(),
            manifest.scenario.name,
            study.base.name
        ));
    }
    Ok(Baseline {
        dir: base,
        manifest,
        runs,
    })
}

/// Adds the baseline gate's verdicts on `results` to `verdicts`, and says what changed
/// since `baseline`.
fn compare_with(
    baseline: &Baseline,
    results: &Results,
    t: &Target,
    verdicts: &mut Vec<Verdict>,
    quiet: bool,
) -> Result<(), String> {
    let base = &baseline.dir;
    let tolerances = t.study.expectations.tolerances();
    verdicts.extend(check::baseline(
        results,
        &baseline.manifest,
        &baseline.runs,
        &tolerances,
    )?);
    if !quiet {
        match check::baseline_text(base) {
            Some(before) => {
                let changed = check::changed_keys(&before, &t.text);
                if changed.is_empty() {
                    say!(
                        "  scenario unchanged since the baseline in {}",
                        base.display()
                    );
                } else {
                    say!(
                        "  keys changed since the baseline in {}: {}",
                        base.display(),
                        changed.join(", ")
                    );
                }
            }
            None => say!(
                "  the baseline in {} kept no scenario.toml: changed keys unknown",
                base.display()
            ),
        }
    }
    Ok(())
}
