//! `resim hunt`: the first failing seeds in seed order, whatever the thread count, each
//! judged as `resim check` judges it from the files.

use crate::common;
use resim::Study;
use resim::compare::{Metric, RunRow};
use resim::hunt::{HuntRequest, hunt};

/// Two replicas that crash at random: on some seeds a crash costs more than 1% of requests.
const FLAKY: &str = r#"name = "flaky"
duration = "20s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 200 }

[[service]]
name = "api"
replicas = 2
service_time = { kind = "exponential", mean = "2ms" }

[[fault]]
kind = "crash"
target = "api"
mtbf = "2m"
mttr = "3s"

[expect]
availability = ">= 99%"
"#;

#[test]
fn hunt_finds_the_first_seeds_that_break_an_expectation_whatever_the_threads() {
    let study = Study::from_text(FLAKY, "flaky.toml").expect("valid");
    // The planted answer, seed by seed.
    let failing: Vec<u64> = (1..=40)
        .filter(|&seed| {
            let run = resim::run_one(&study.base, seed).expect("runs");
            RunRow::of(&run)
                .value(Metric::Availability)
                .expect("requests")
                < 0.99
        })
        .collect();
    assert!(
        failing.len() >= 2,
        "the scenario should fail on some seeds: {failing:?}"
    );
    assert!(failing.len() < 30, "and pass on most: {failing:?}");
    for threads in [1, 2, 3] {
        let report = hunt(
            &HuntRequest {
                study: &study,
                first: 1,
                count: 40,
                wanted: 2,
                threads: Some(threads),
            },
            &|| {},
        );
        assert_eq!(report.seeds(), failing[..2], "{threads} thread(s)");
        assert_eq!(report.seeds_run, failing[1], "{threads} thread(s)");
        assert!(
            report
                .failures
                .iter()
                .all(|f| f.misses[0].observed.is_some_and(|a| a < 0.99))
        );
    }
    let none = hunt(
        &HuntRequest {
            study: &study,
            first: 1,
            count: failing[0] - 1,
            wanted: 1,
            threads: Some(2),
        },
        &|| {},
    );
    assert!(none.failures.is_empty());
    assert_eq!(none.seeds_run, failing[0] - 1);
}

#[test]
fn the_hunt_command_prints_a_reproduce_command_that_fails_the_same_way() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("flaky.toml"), FLAKY).expect("written");
    let out = common::resim(
        dir.path(),
        &["hunt", "flaky.toml", "--seeds", "40", "--quiet"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let command = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("resim run flaky.toml --seed"))
        .unwrap_or_else(|| panic!("no reproduce command in:\n{stdout}"));
    let seed = command.split_whitespace().nth(4).expect("a seed");
    let observed = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{seed} ")))
        .and_then(|l| l.split_whitespace().last())
        .expect("an observed value")
        .trim_end_matches('%')
        .to_string();
    // `resim run` with that seed writes the same availability into summary.csv.
    let run = common::resim(
        dir.path(),
        &["run", "flaky.toml", "--seed", seed, "--out", "o", "--quiet"],
    );
    assert!(run.status.success());
    let rows = common::csv_rows(&dir.path().join("o/summary.csv"));
    let availability: f64 = rows[0]["availability"].parse().expect("a number");
    assert_eq!(format!("{:.4}", availability * 100.0), observed, "{stdout}");
    // Without expectations there is nothing to hunt.
    let plain = FLAKY.split("[expect]").next().expect("text");
    std::fs::write(dir.path().join("plain.toml"), plain).expect("written");
    let out = common::resim(dir.path(), &["hunt", "plain.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no [expect] table"));
}

#[test]
fn a_run_in_memory_gives_the_row_check_reads_from_summary_csv() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for name in ["quickstart", "dependency-crash", "queue-spike", "incident"] {
        let file = common::root().join(format!("scenarios/{name}.toml"));
        let out = dir.path().join(name);
        common::resim_ok(
            dir.path(),
            &[
                "run",
                file.to_str().expect("utf-8"),
                "--out",
                out.to_str().expect("utf-8"),
                "--quiet",
            ],
        );
        let (_, rows) = resim::compare::build::read_runs(&out).expect("readable");
        let study = Study::load(&file).expect("valid");
        let result = resim::run_one(&study.base, study.base.seed).expect("runs");
        assert_eq!(RunRow::of(&result), rows[0][0], "{name}");
    }
}
