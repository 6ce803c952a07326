//! The command line as a user types it: outputs, printed lines and exit codes.

use crate::common;

#[test]
fn run_writes_the_csv_files_with_the_documented_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/quickstart.toml");
    let out = common::resim(dir.path(), &["run", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("availability"),
        "table header missing:\n{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("simulated ") && l.ends_with(" events/s)")),
        "throughput line missing:\n{stdout}"
    );
    // The default output folder is output/<scenario name>/ under the working directory.
    let folder = dir.path().join("output/quickstart");
    let summary = std::fs::read_to_string(folder.join("summary.csv")).expect("summary.csv");
    let series = std::fs::read_to_string(folder.join("timeseries.csv")).expect("timeseries.csv");
    assert!(summary.starts_with(
        "variant,seed,requests,ok,degraded,failed,availability,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,attempts,errors,timeouts,rejected"
    ));
    assert!(
        series
            .starts_with("variant,seed,t_s,requests,ok,degraded,failed,availability,p50_ms,p99_ms")
    );
    // 5 minutes minus 30 s of warmup in 1 s buckets, starting at 30 s.
    assert_eq!(series.lines().count(), 1 + 270);
    assert!(
        series
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("base,1,30,"))
    );
    assert!(
        summary
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("base,1,"))
    );
}

#[test]
fn quiet_prints_nothing_and_seed_flags_choose_the_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/quickstart.toml");
    let out = common::resim(
        dir.path(),
        &[
            "run",
            file.to_str().expect("utf-8"),
            "--seed",
            "40",
            "--seeds",
            "3",
            "--out",
            "o",
            "--quiet",
        ],
    );
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let summary = std::fs::read_to_string(dir.path().join("o/summary.csv")).expect("summary");
    let seeds: Vec<&str> = summary
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    assert_eq!(seeds, ["40", "41", "42"]);
}

#[test]
fn validate_accepts_a_good_file_and_exit_codes_follow_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/quickstart.toml");
    let ok = common::resim(dir.path(), &["validate", file.to_str().expect("utf-8")]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok"));
    assert!(
        !dir.path().join("output").exists(),
        "validate must not run or write anything"
    );
    let help = common::resim(dir.path(), &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let usage = common::resim(dir.path(), &["run"]);
    assert_eq!(
        usage.status.code(),
        Some(2),
        "a missing argument is a usage error"
    );
    let zero = common::resim(
        dir.path(),
        &["run", file.to_str().expect("utf-8"), "--seeds", "0"],
    );
    assert_eq!(zero.status.code(), Some(2), "--seeds 0 is a usage error");
}

#[test]
fn a_run_over_its_event_budget_stops_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 120k requests fit in the budget as an estimate (one event each), but they need about
    // seven events each: the run itself stops.
    let text = std::fs::read_to_string(common::root().join("scenarios/quickstart.toml"))
        .expect("readable")
        .replace("seed = 1\n", "seed = 1\nmax_events = 200000\n");
    std::fs::write(dir.path().join("tight.toml"), text).expect("written");
    let stderr = common::refused(dir.path(), &["run", "tight.toml", "--quiet"]);
    assert!(
        stderr.contains("budget of 200000 events") && stderr.contains("raise `max_events`"),
        "{stderr}"
    );
    let going_on = stderr
        .split("the work still going on: ")
        .nth(1)
        .expect("what is going on");
    assert!(
        going_on.contains("client `web` sends a request"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn seeds_past_the_largest_seed_are_refused_not_wrapped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/quickstart.toml");
    let file = file.to_str().expect("utf-8");
    let max = u64::MAX.to_string();
    let stderr = common::refused(
        dir.path(),
        &["run", file, "--seed", &max, "--seeds", "2", "--out", "o"],
    );
    assert!(
        stderr.contains(
            "`--seed 18446744073709551615` and 2 seeds would go past the largest seed, 18446744073709551615; expected a first seed of at most 18446744073709551614 for 2 seeds"
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("o").exists(), "nothing is written");
    // The largest seed itself is a seed.
    let last = common::resim(
        dir.path(),
        &[
            "run", file, "--seed", &max, "--seeds", "1", "--out", "o", "--quiet",
        ],
    );
    assert_eq!(
        last.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    let summary = std::fs::read_to_string(dir.path().join("o/summary.csv")).expect("summary");
    assert!(
        summary
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with(&format!("base,{max},")))
    );
}

#[test]
fn run_help_names_every_file_a_run_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/quickstart.toml");
    let out = common::resim(dir.path(), &["run", file.to_str().expect("utf-8")]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let wrote = stdout
        .lines()
        .find_map(|l| l.strip_prefix("wrote output/quickstart/: "))
        .expect("a `wrote` line");
    let help = common::resim(dir.path(), &["run", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout).replace('\n', " ");
    for name in wrote.split(", ") {
        let named = match name.rsplit_once('.') {
            Some((_, "png")) => "PNG".to_string(),
            Some((_, "svg")) => "SVG".to_string(),
            _ => name.to_string(),
        };
        assert!(
            help.contains(&named),
            "`run --help` does not name {name}: {help}"
        );
    }
}

/// Runs `resim args` in `dir` with standard output and standard error going into a pipe
/// that nobody reads any more, as in `resim run s.toml 2>&1 | head -0`.
fn resim_into_a_closed_pipe(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let stderr = writer.try_clone().expect("a second end");
    std::process::Command::new(env!("CARGO_BIN_EXE_resim"))
        .args(args)
        .current_dir(dir)
        .stdout(writer)
        .stderr(stderr)
        .output()
        .expect("the resim binary starts")
}

#[test]
fn a_closed_pipe_stops_neither_the_run_nor_its_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/quickstart.toml");
    let file = file.to_str().expect("utf-8");
    let out = resim_into_a_closed_pipe(dir.path(), &["run", file, "--out", "o"]);
    // A panic would exit with 101 (and say so on the closed standard error).
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(dir.path().join("o/summary.csv").is_file());
    assert!(dir.path().join("o/report.html").is_file());

    // Errors too keep their exit code when nobody reads them.
    std::fs::write(dir.path().join("bad.toml"), "name = 3\n").expect("written");
    let out = resim_into_a_closed_pipe(dir.path(), &["validate", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
