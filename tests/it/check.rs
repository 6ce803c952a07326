//! `resim check`: expectations in the scenario, verdicts and exit codes, JUnit XML, the
//! reproduce command, and the baseline gate.

use crate::common;
use std::path::Path;
use std::process::Output;

/// A small API in front of a flaky database, with retries: quick to run.
const SCENARIO: &str = r#"name = "chk"
description = "check test"
duration = "20s"
warmup = "2s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 200 }
timeout = "1s"
retry = { max_attempts = 2 }

[[service]]
name = "api"
concurrency = 4
queue = 50
service_time = { kind = "exponential", mean = "5ms" }
calls = [{ to = "db", timeout = "500ms" }]

[[service]]
name = "db"
replicas = 2
concurrency = 4
service_time = { kind = "exponential", mean = "2ms" }
error_rate = 0.05

[[variant]]
name = "no-retries"
unset = ["client.web.retry"]
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("written");
}

fn check(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let Output {
        status,
        stdout,
        stderr,
    } = common::resim(dir, &all);
    (
        status.code(),
        String::from_utf8_lossy(&stdout).to_string(),
        String::from_utf8_lossy(&stderr).to_string(),
    )
}

/// Runs `resim check ARGS` in `dir`, which must refuse them (exit 2) with every one of
/// `says` in its error, before checking anything; returns the error.
fn refused_before_running(dir: &Path, args: &[&str], says: &[&str]) -> String {
    let (code, out, err) = check(dir, args);
    assert_eq!(code, Some(2), "{args:?}: {out}{err}");
    for s in says {
        assert!(err.contains(s), "{args:?}: no `{s}` in {err}");
    }
    assert!(!out.contains("checking"), "nothing ran: {out}");
    err
}

#[test]
fn expectations_that_hold_pass_and_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "ok.toml",
        &format!(
            "{SCENARIO}\n[expect]\nseeds = 3\navailability = \">= 99%\"\np99 = \"<= 1s\"\nattempts_per_request = \"<= 1.1\"\n\n[expect.variant.no-retries]\navailability = \">= 0.9\"\nretries = \"== 0\"\n"
        ),
    );
    let (code, out, err) = check(dir.path(), &["ok.toml", "--junit", "j.xml"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // base: 3 expectations; no-retries: its own two, plus p99 and attempts from [expect].
    assert!(
        out.contains("1 scenario(s), 7 check(s): 7 passed, 0 failed"),
        "{out}"
    );
    assert!(out.contains("no-retries  retries"), "{out}");
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).expect("junit");
    assert!(junit.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    // The Ant JUnit schema's required parts: package, id, timestamp, hostname, properties,
    // system-out and system-err on each suite; name, classname and time on each case.
    assert!(
        junit.contains("<testsuite name=\"chk\" package=\"resim\" id=\"0\" timestamp=\"20"),
        "{junit}"
    );
    assert!(
        junit.contains("tests=\"7\" failures=\"0\" errors=\"0\""),
        "{junit}"
    );
    assert!(junit.contains("<properties>") && junit.contains("<system-out/>\n    <system-err/>"));
    assert_eq!(junit.matches(" classname=\"chk.").count(), 7);
    assert_eq!(
        junit.matches(" time=\"0\"").count(),
        8,
        "seven cases and the suite"
    );
    assert_eq!(junit.matches("<testcase ").count(), 7);
    assert!(!junit.contains("<failure"));
    assert!(
        junit.contains("name=\"availability &gt;= 99% (mean)\""),
        "{junit}"
    );
    assert!(junit.contains("name=\"p99_ms &lt;= 1s (mean)\""), "{junit}");
}

#[test]
fn a_failure_names_the_metric_variant_worst_seed_and_a_command_that_reproduces_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Without retries, 5% of database calls fail: availability about 95%, below 99%.
    write(
        d,
        "bad.toml",
        &format!("{SCENARIO}\n[expect]\nseeds = 4\navailability = \">= 0.99\"\n"),
    );
    let (code, out, err) = check(d, &["bad.toml", "--junit", "j.xml"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("1 passed, 1 failed"), "{out}");
    let fail = out
        .lines()
        .find(|l| l.starts_with("FAIL chk: variant no-retries: availability"))
        .unwrap_or_else(|| panic!("no failure line:\n{out}"));
    assert!(fail.contains("expected >= 0.99 (mean)"), "{fail}");
    assert!(out.contains("expectation at bad.toml:"), "{out}");
    assert!(
        out.contains("timeseries.csv: availability falls to"),
        "{out}"
    );
    let cmd = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: "))
        .unwrap_or_else(|| panic!("no reproduce line:\n{out}"));
    let args: Vec<&str> = cmd.split_whitespace().collect();
    assert_eq!(&args[..2], ["resim", "run"], "{cmd}");
    let seed = args[args.iter().position(|a| *a == "--seed").expect("--seed") + 1];
    // The command, run as printed, gives that seed's failing run.
    let mut run: Vec<&str> = args[1..].to_vec();
    run.extend_from_slice(&["--out", "repro", "--quiet"]);
    let out_run = common::resim(d, &run);
    assert!(
        out_run.status.success(),
        "{}",
        String::from_utf8_lossy(&out_run.stderr)
    );
    let summary = std::fs::read_to_string(d.join("repro/summary.csv")).expect("summary");
    let row: Vec<&str> = summary.lines().nth(1).expect("a row").split(',').collect();
    assert_eq!((row[0], row[1]), ("no-retries", seed));
    let availability: f64 = row[6].parse().expect("availability");
    assert!(availability < 0.99, "{availability}");
    // The same run inside the check's own outputs has the same bytes.
    let checked = std::fs::read_to_string(d.join("output/chk/summary.csv")).expect("summary");
    let line = summary.lines().nth(1).expect("a row");
    assert!(checked.lines().any(|l| l == line), "{line}");
    let junit = std::fs::read_to_string(d.join("j.xml")).expect("junit");
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(
        junit.contains("<failure message=\"availability: observed "),
        "{junit}"
    );
    assert!(
        junit.contains("reproduce: resim run bad.toml --seed "),
        "{junit}"
    );
}

#[test]
fn on_every_seed_and_on_ci_are_stricter_than_the_mean() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // The mean of no-retries is about 0.95; individual seeds and the interval straddle it.
    // Read the observed mean and seed values from a plain run.
    write(d, "plain.toml", SCENARIO);
    let out = common::resim(
        d,
        &[
            "run",
            "plain.toml",
            "--seeds",
            "5",
            "--variant",
            "no-retries",
            "--out",
            "p",
            "--quiet",
        ],
    );
    assert!(out.status.success());
    let summary = std::fs::read_to_string(d.join("p/summary.csv")).expect("summary");
    let values: Vec<f64> = summary
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .nth(6)
                .expect("availability")
                .parse()
                .expect("number")
        })
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let min = values.iter().copied().fold(1.0, f64::min);
    assert!(min < mean, "the seeds differ");
    // A threshold between the lowest seed and the mean: the mean passes, every seed does
    // not, and the interval (which reaches below the mean) does not.
    let threshold = (min + mean) / 2.0;
    for (on, code) in [("mean", 0), ("every_seed", 1), ("ci", 1)] {
        write(
            d,
            "m.toml",
            &format!(
                "{SCENARIO}\n[expect]\nseeds = 5\non = \"{on}\"\n\n[expect.variant.no-retries]\navailability = \">= {threshold:.6}\"\n"
            ),
        );
        let (got, out, err) = check(d, &["m.toml", "--quiet"]);
        assert_eq!(got, Some(code), "on = {on}: {out}{err}");
    }
}

#[test]
fn bad_expectations_and_bad_input_exit_2_with_places() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let extra = "\n[expect]\navailabilty = \">= 0.99\"\np99 = \"<= 250\"\nduplicates = \"0\"\non = \"always\"\n\n[expect.variant.no-retry]\navailability = \">= 0.9\"\n";
    write(d, "e.toml", &format!("{SCENARIO}{extra}"));
    let (code, _, err) = check(d, &["e.toml"]);
    assert_eq!(code, Some(2), "{err}");
    let line = |needle: &str| {
        1 + format!("{SCENARIO}{extra}")
            .lines()
            .position(|l| l.contains(needle))
            .expect("present")
    };
    for (needle, col, says) in [
        (
            "availabilty",
            1,
            "unknown metric `availabilty`; did you mean `availability`?",
        ),
        (
            "p99 =",
            7,
            "`p99`: \"250\" is not a latency; expected a duration with a unit",
        ),
        ("duplicates =", 14, "`duplicates`: \"0\" has no operator"),
        ("on = \"always\"", 6, "`on` is not one of the modes"),
        (
            "[expect.variant.no-retry]",
            17,
            "names no variant of the scenario; did you mean \"no-retries\"?",
        ),
    ] {
        let place = format!("e.toml:{}:{col}: ", line(needle));
        assert!(
            err.lines()
                .any(|l| l.starts_with(&place) && l.contains(says)),
            "{place}{says}\n{err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    // A named file without expectations, a missing file, an unwritable JUnit path.
    write(d, "plain.toml", SCENARIO);
    let (code, _, err) = check(d, &["plain.toml"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no [expect] table"), "{err}");
    assert_eq!(check(d, &["missing.toml"]).0, Some(2));
    // A folder checks only the scenarios that state expectations.
    std::fs::create_dir(d.join("dir")).expect("dir");
    write(&d.join("dir"), "plain.toml", SCENARIO);
    write(
        &d.join("dir"),
        "ok.toml",
        &format!("{SCENARIO}\n[expect]\nseeds = 2\np99 = \"<= 1s\"\n"),
    );
    let (code, out, err) = check(d, &["dir", "--quiet"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("1 scenario(s), 2 check(s)"), "{out}");
}

#[test]
fn an_interval_with_one_seed_is_bad_input_not_a_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // `seeds = 1` in the file: refused by validation, at `seeds`.
    let extra = "\n[expect]\non = \"ci\"\nseeds = 1\navailability = \">= 0.5\"\n";
    let text = format!("{SCENARIO}{extra}");
    write(d, "one.toml", &text);
    let seeds_line = 1 + text
        .lines()
        .position(|l| l == "seeds = 1")
        .expect("present");
    let place = format!(
        "one.toml:{seeds_line}:9: `seeds` is 1, but the expectation on `availability` at line {} is evaluated `on = \"ci\"`",
        seeds_line + 1
    );
    let out = common::resim(d, &["validate", "one.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&place), "{place}\n{err}");
    assert!(err.contains("expected seeds = 2 or more"), "{err}");
    let (code, _, err) = check(d, &["one.toml", "--out", "o"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&place), "{place}\n{err}");
    // `--seeds 1` against an interval in a variant's table: refused before anything runs.
    let extra = "\n[expect]\np99 = \"<= 1s\"\n\n[expect.variant.no-retries]\navailability = { check = \">= 0.5\", on = \"ci\" }\n";
    let text = format!("{SCENARIO}{extra}");
    write(d, "flag.toml", &text);
    let ci_line = 1 + text
        .lines()
        .position(|l| l.starts_with("availability ="))
        .expect("present");
    let (code, out, err) = check(d, &["flag.toml", "--seeds", "1", "--out", "o"]);
    assert_eq!(code, Some(2), "{out}{err}");
    let says = format!(
        "resim check: flag.toml: --seeds 1 leaves the expectation on `availability` at line {ci_line} without an interval: `on = \"ci\"` needs 2 or more seeds; expected --seeds 2 or more"
    );
    assert!(err.contains(&says), "{says}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!d.join("o").exists(), "nothing ran");
}

#[test]
fn the_baseline_gate_catches_a_regression_no_threshold_mentions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Without retries, a flakier database lowers availability and nothing else.
    let plain = SCENARIO
        .replace("retry = { max_attempts = 2 }\n", "")
        .replace(
            "\n[[variant]]\nname = \"no-retries\"\nunset = [\"client.web.retry\"]\n",
            "",
        );
    assert!(!plain.contains("retry"), "{plain}");
    write(d, "s.toml", &plain);
    // The baseline: a plain run, as main's CI would save it.
    let out = common::resim(
        d,
        &["run", "s.toml", "--seeds", "4", "--out", "base", "--quiet"],
    );
    assert!(out.status.success());
    // The same scenario: nothing moves, and the report says the text is unchanged.
    let (code, out, err) = check(d, &["s.toml", "--seeds", "4", "--baseline", "base"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("scenario unchanged since the baseline"),
        "{out}"
    );
    assert!(
        out.contains("baseline comparisons not shown: no significant change"),
        "{out}"
    );
    // A pull request makes the database flakier: no expectation mentions it, the gate fails.
    write(
        d,
        "s.toml",
        &plain.replace("error_rate = 0.05", "error_rate = 0.08"),
    );
    let (code, out, err) = check(d, &["s.toml", "--seeds", "4", "--baseline", "base"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("keys changed since the baseline in base: service.db.error_rate"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with(
            "FAIL chk: variant base: availability expected baseline -0.001, observed -"
        )),
        "{out}"
    );
    // A tolerance in the file can allow it.
    write(
        d,
        "s.toml",
        &format!(
            "{}\n[expect.baseline]\navailability = \"-0.05\"\nfailed = \"+0.05\"\n",
            plain.replace("error_rate = 0.05", "error_rate = 0.08")
        ),
    );
    let (code, out, err) = check(d, &["s.toml", "--seeds", "4", "--baseline", "base"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // A baseline of other seeds cannot pair: refused.
    let (code, _, err) = check(d, &["s.toml", "--seeds", "3", "--baseline", "base"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("the baseline ran other seeds (4 from 1) than this check (3 from 1)"),
        "{err}"
    );
}

/// What the refusal of a baseline that is the check's own output says.
const WRITES_ITS_RUNS: &str = "is where this check writes its runs";
const COMPARED_WITH_THEMSELVES: &str =
    "so they would be compared with themselves; expected a copy saved before the change";

#[test]
fn a_baseline_that_is_the_checks_own_output_folder_is_refused_before_it_is_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(d, "s.toml", SCENARIO);
    // main's outputs, where `resim run` and `resim check` put them by default...
    for out in ["output/chk", "saved/chk"] {
        let ran = common::resim(d, &["run", "s.toml", "--seeds", "2", "--out", out]);
        assert!(ran.status.success());
    }
    let before = std::fs::read(d.join("output/chk/summary.csv")).expect("summary");
    // ...then a change that costs availability, checked against that very folder: the
    // check would overwrite it first and compare the new runs with themselves.
    write(
        d,
        "s.toml",
        &SCENARIO.replace("error_rate = 0.05", "error_rate = 0.3"),
    );
    for args in [
        &["--baseline", "output"][..],
        &["--baseline", "output/", "--out", "./output"],
        &["--baseline", "output/chk"],
        &["--baseline", "saved", "--out", "saved/"],
    ] {
        let mut all = vec!["s.toml", "--seeds", "2"];
        all.extend_from_slice(args);
        refused_before_running(d, &all, &[WRITES_ITS_RUNS, COMPARED_WITH_THEMSELVES]);
    }
    assert_eq!(
        std::fs::read(d.join("output/chk/summary.csv")).expect("summary"),
        before,
        "the baseline is kept"
    );
    // A first check, of a scenario with expectations: the baseline folder does not exist
    // yet, and the check would write it, then read it back.
    let with_expect = SCENARIO.replace("error_rate = 0.05", "error_rate = 0.3")
        + "\n[expect]\nseeds = 2\np99 = \"<= 10s\"\n";
    write(d, "e.toml", &with_expect);
    for baseline in ["fresh", "fresh/chk"] {
        let args = [
            "e.toml",
            "--seeds",
            "2",
            "--baseline",
            baseline,
            "--out",
            "fresh",
        ];
        refused_before_running(d, &args, &[WRITES_ITS_RUNS, COMPARED_WITH_THEMSELVES]);
    }
    assert!(!d.join("fresh").exists(), "nothing written");
    // A saved copy catches the regression.
    let (code, out, err) = check(d, &["s.toml", "--seeds", "2", "--baseline", "saved"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("availability expected baseline"), "{out}");
}

#[test]
fn a_baseline_whose_manifest_lists_more_swept_paths_than_its_files_have_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(d, "s.toml", SCENARIO);
    let ran = common::resim(d, &["run", "s.toml", "--seeds", "2", "--out", "b2"]);
    assert!(ran.status.success());
    let path = d.join("b2/manifest.json");
    let original = std::fs::read_to_string(&path).expect("manifest");
    let paths: Vec<String> = (0..40).map(|i| format!("client.web.p{i}")).collect();
    // 40 swept paths in the manifest, none in summary.csv; then points that do not agree
    // with the paths.
    for (values, says) in [
        (
            40,
            &[
                "b2/summary.csv:1: ",
                " fields; expected at least 41: `variant` and the 40 swept path(s) that manifest.json lists",
            ][..],
        ),
        (
            1,
            &[
                "b2/manifest.json: `sweep.points[0]` has 1 value(s); expected one per path of `sweep.paths` (40)",
            ],
        ),
    ] {
        let mut m: serde_json::Value = serde_json::from_str(&original).expect("json");
        m["sweep"]["paths"] = serde_json::json!(paths);
        m["sweep"]["points"] = serde_json::json!([vec!["x"; values]]);
        std::fs::write(&path, m.to_string()).expect("written");
        let err = refused_before_running(d, &["s.toml", "--seeds", "2", "--baseline", "b2"], says);
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_baseline_with_nan_for_a_number_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(d, "s.toml", SCENARIO);
    let ran = common::resim(d, &["run", "s.toml", "--seeds", "2", "--out", "b"]);
    assert!(ran.status.success());
    let path = d.join("b/summary.csv");
    let text = std::fs::read_to_string(&path).expect("summary");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let column = header
        .iter()
        .position(|c| *c == "mean_ms")
        .expect("mean_ms");
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    fields[column] = "NaN".to_string();
    lines[1] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").expect("written");
    let (code, out, err) = check(d, &["s.toml", "--seeds", "2", "--baseline", "b"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains("b/summary.csv:2: `NaN` in column `mean_ms` is not a number; expected a number, `inf` or nothing"),
        "{err}"
    );
}

#[test]
fn a_junit_file_that_is_a_checked_scenario_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let text = format!("{SCENARIO}\n[expect]\nseeds = 2\np99 = \"<= 1s\"\n");
    std::fs::create_dir(d.join("dir")).expect("dir");
    write(d, "ex.toml", &text);
    write(
        &d.join("dir"),
        "ex2.toml",
        &text.replace("\"chk\"", "\"chk2\""),
    );
    for args in [
        &["ex.toml", "--junit", "ex.toml"][..],
        &["ex.toml", "dir", "--junit", "dir/./ex2.toml"],
    ] {
        refused_before_running(
            d,
            args,
            &[
                "resim check: --junit is one of the inputs: ",
                "; expected a new path",
            ],
        );
    }
    assert_eq!(
        std::fs::read_to_string(d.join("ex.toml")).expect("kept"),
        text
    );
    assert!(
        std::fs::read_to_string(d.join("dir/ex2.toml"))
            .expect("kept")
            .starts_with("name = \"chk2\"")
    );
}

#[test]
fn an_out_that_is_a_file_is_named_with_what_is_expected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(
        d,
        "ex.toml",
        &format!("{SCENARIO}\n[expect]\nseeds = 1\np99 = \"<= 1s\"\n"),
    );
    write(d, "afile", "x");
    let (code, out, err) = check(d, &["ex.toml", "--out", "afile", "--quiet"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains("resim check: cannot write afile/chk: ")
            && err
                .contains("; expected --out afile to be a folder, or a path where one can be made"),
        "{err}"
    );
    assert!(
        !err.contains("ex.toml"),
        "the scenario is not the problem: {err}"
    );
    // A JUnit file in a folder that cannot be: said once the verdicts are in.
    let (code, out, err) = check(d, &["ex.toml", "--junit", "afile/j.xml", "--quiet"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.starts_with("resim check: cannot write afile/j.xml: ")
            && err.trim_end().ends_with(
                "; expected --junit to name a file in a folder that exists and can be written"
            ),
        "{err}"
    );
}

/// The columns `resim check` reads from a baseline's summary.csv, as its message lists them.
const SUMMARY_READ: &str = "seed, requests, ok, degraded, errors, timeouts, rejected, short_circuited, attempts, rate_limited, bulkhead_full, shed, mean_ms, p50_ms, p90_ms, p99_ms, p999_ms, retries, hedges, budget_refused, duplicates, dropped, recovery_s, messages, processed, dead_lettered, redelivered, message_mean_ms, message_p99_ms";

#[test]
fn a_broken_baseline_csv_names_the_file_the_problem_and_what_is_expected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(d, "s.toml", SCENARIO);
    let ran = common::resim(d, &["run", "s.toml", "--seeds", "2", "--out", "b"]);
    assert!(ran.status.success());
    let path = d.join("b/summary.csv");
    let original = std::fs::read_to_string(&path).expect("summary");
    let lines: Vec<Vec<String>> = original
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let at = |name: &str| {
        lines[0]
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let without = |names: &[&str]| {
        let drop: Vec<usize> = names.iter().map(|n| at(n)).collect();
        lines
            .iter()
            .map(|l| {
                l.iter()
                    .enumerate()
                    .filter(|(i, _)| !drop.contains(i))
                    .map(|(_, f)| f.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    let with_field = |line: usize, name: &str, value: &str| {
        let mut l = lines.clone();
        l[line][at(name)] = value.to_string();
        l.iter().map(|f| f.join(",")).collect::<Vec<_>>().join("\n") + "\n"
    };
    let short_row = {
        let mut l: Vec<String> = lines.iter().map(|f| f.join(",")).collect();
        l[2] = lines[2][..5].join(",");
        l.join("\n") + "\n"
    };
    let cases: Vec<(String, String)> = vec![
        (
            without(&["p99_ms"]),
            format!("b/summary.csv:1: no column `p99_ms`; expected a header with `variant` and these columns, as `resim run` writes summary.csv: {SUMMARY_READ}"),
        ),
        (
            without(&["shed", "recovery_s"]),
            format!("b/summary.csv:1: no columns `shed`, `recovery_s`; expected a header with `variant` and these columns, as `resim run` writes summary.csv: {SUMMARY_READ}"),
        ),
        (
            with_field(1, "requests", "12x"),
            "b/summary.csv:2: `12x` in column `requests` is not a whole number; expected a whole number of 0 or more, like 42".to_string(),
        ),
        (
            with_field(2, "ok", ""),
            "b/summary.csv:3: column `ok` is empty; expected a whole number of 0 or more, like 42".to_string(),
        ),
        (
            short_row,
            format!(
                "b/summary.csv:3: 5 fields; expected {}, as many as the header has",
                lines[0].len()
            ),
        ),
        (
            with_field(1, "variant", "other"),
            "b/summary.csv:2: variant \"other\" is not in manifest.json; expected one of its variants: base, no-retries".to_string(),
        ),
    ];
    for (text, says) in cases {
        std::fs::write(&path, &text).expect("written");
        let (code, out, err) = check(d, &["s.toml", "--seeds", "2", "--baseline", "b"]);
        assert_eq!(code, Some(2), "{out}{err}");
        assert_eq!(err.trim_end(), format!("resim check: s.toml: {says}"));
    }
    std::fs::remove_file(&path).expect("removed");
    let (code, out, err) = check(d, &["s.toml", "--seeds", "2", "--baseline", "b"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.starts_with("resim check: s.toml: b/summary.csv: cannot read: ")
            && err.trim_end().ends_with(
                "; expected the summary.csv that `resim run` writes in its output folder"
            ),
        "{err}"
    );
}

/// The baseline is read before anything runs: a missing or broken one is said at once, not
/// after the check's runs.
#[test]
fn a_missing_or_broken_baseline_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write(
        d,
        "s.toml",
        &format!("{SCENARIO}\n[expect]\navailability = \">= 0.5\"\n"),
    );
    refused_before_running(
        d,
        &["s.toml", "--baseline", "nowhere"],
        &[
            "no baseline for \"",
            " in nowhere; expected nowhere/manifest.json",
        ],
    );
    let ran = common::resim(d, &["run", "s.toml", "--seeds", "2", "--out", "b"]);
    assert!(ran.status.success());
    let summary = d.join("b/summary.csv");
    let text = std::fs::read_to_string(&summary).expect("summary");
    std::fs::write(&summary, text.replacen("p99_ms", "p99", 1)).expect("written");
    refused_before_running(
        d,
        &["s.toml", "--baseline", "b"],
        &["summary.csv:1: no column `p99_ms`; expected a header with `variant`"],
    );
}
