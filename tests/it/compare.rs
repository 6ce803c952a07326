//! Comparisons: variants and sweeps in the scenario file, their expansion into runs, the
//! statistics of aggregate.csv, and byte-identical outputs across threads and shards.

use crate::common;
use resim::Study;
use resim::engine::SimDuration;
use std::collections::BTreeMap;
use std::path::Path;

/// A small API in front of a database, with retries and a budget, that runs in a blink.
const BASE: &str = r#"name = "cmp"
description = "compare test"
duration = "20s"
warmup = "2s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 200 }
timeout = "1s"
retry = { max_attempts = 2 }
retry_budget = { kind = "ratio", percent = 10 }

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
"#;

fn study(extra: &str) -> Study {
    let text = format!("{BASE}{extra}");
    Study::from_text(&text, "cmp.toml").unwrap_or_else(|e| panic!("invalid study:\n{e}"))
}

fn study_error(extra: &str) -> String {
    let text = format!("{BASE}{extra}");
    match Study::from_text(&text, "cmp.toml") {
        Ok(_) => panic!("expected an error for:\n{extra}"),
        Err(e) => e.to_string(),
    }
}

/// The line of `needle` in BASE + `extra`, from 1.
fn line_of(extra: &str, needle: &str) -> usize {
    let text = format!("{BASE}{extra}");
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in the text"))
}

#[test]
fn variants_override_scalars_tables_call_entries_and_unset_keys() {
    let s = study(
        r#"
[[variant]]
name = "bigger-db"
set = { "service.db.replicas" = 4, "service.db.concurrency" = 16 }

[[variant]]
name = "slow-api"
set = { "service.api.service_time" = { kind = "constant", value = "8ms" } }
unset = ["client.web.retry_budget"]

[[variant]]
name = "patient-calls"
set = { "service.api.calls.db.timeout" = "2s", "client.web.retry.max_attempts" = 3 }
"#,
    );
    assert_eq!(
        s.variants,
        ["base", "bigger-db", "slow-api", "patient-calls"]
    );
    assert_eq!(s.cells.len(), 4, "one cell per variant without a sweep");
    let base = &s.cells[0].scenario;
    assert_eq!(base, &s.base, "the base cell is the file as written");
    let db = |c: usize| &s.cells[c].scenario.services[1];
    assert_eq!((db(0).replicas, db(0).concurrency), (2, 4));
    assert_eq!((db(1).replicas, db(1).concurrency), (4, 16));
    let api = |c: usize| &s.cells[c].scenario.services[0];
    assert_ne!(api(2).service_time, api(0).service_time);
    assert_eq!(
        api(2).service_time.mean_nanos(),
        8_000_000.0,
        "the whole table replaced"
    );
    assert!(base.clients[0].policy.budget.is_some());
    assert!(
        s.cells[2].scenario.clients[0].policy.budget.is_none(),
        "unset"
    );
    assert_eq!(api(0).calls[0].timeout, SimDuration::from_millis(500));
    assert_eq!(api(3).calls[0].timeout, SimDuration::from_secs(2));
    let attempts = |c: usize| {
        s.cells[c].scenario.clients[0]
            .policy
            .retry
            .as_ref()
            .map(|r| r.max_attempts)
    };
    assert_eq!((attempts(0), attempts(3)), (Some(2), Some(3)));
    // Everything not overridden stays as written.
    assert_eq!(s.cells[3].scenario.services[1], s.base.services[1]);
}

#[test]
fn bad_paths_point_at_the_variant_with_a_did_you_mean() {
    let extra = r#"
[[variant]]
name = "typo"
set = { "client.webb.timeout" = "2s" }
unset = ["client.web.retry_budgte"]
"#;
    let e = study_error(extra);
    let set_line = line_of(extra, "client.webb");
    assert!(
        e.contains(&format!("cmp.toml:{set_line}:9: in variant \"typo\", `set`: `client` has no entry \"webb\"; did you mean \"web\"?")),
        "{e}"
    );
    let unset_line = line_of(extra, "retry_budgte");
    assert!(
        e.contains(&format!("cmp.toml:{unset_line}:10: in variant \"typo\", `unset`: `client.web` has no key `retry_budgte`; did you mean `retry_budget`?")),
        "{e}"
    );
}

#[test]
fn an_invalid_value_inside_a_variant_names_the_variant_line_and_the_key() {
    let extra = r#"
[[variant]]
name = "zero"
set = { "service.db.replicas" = 0 }

[[variant]]
name = "wrong-type"
set = { "service.api.concurrency" = "eight" }

[[variant]]
name = "misspelt-key"
set = { "client.web.retyr" = { max_attempts = 3 } }
"#;
    let e = study_error(extra);
    let zero = line_of(extra, "\"service.db.replicas\" = 0");
    assert!(
        e.contains(&format!(
            "cmp.toml:{zero}:33: in variant \"zero\", `service.db.replicas`: `replicas` is 0"
        )),
        "{e}"
    );
    let typed = line_of(extra, "\"eight\"");
    assert!(
        e.contains(&format!("cmp.toml:{typed}:")) && e.contains("in variant \"wrong-type\", `service.api.concurrency`: `concurrency` has the wrong type"),
        "{e}"
    );
    assert!(
        e.contains("in variant \"misspelt-key\", `client.web.retyr`: unknown key `retyr`; did you mean `retry`?"),
        "{e}"
    );
    // The file as written is fine, so nothing is reported outside the variants.
    assert_eq!(
        e.lines().filter(|l| l.starts_with("cmp.toml:")).count(),
        3,
        "{e}"
    );
}

#[test]
fn variant_tables_are_checked_too() {
    let e = study_error(
        r#"
[[variant]]
name = "base"
set = { client.web.timeout = "2s" }

[[variant]]
nmae = "x"
"#,
    );
    assert!(
        e.contains("the variant name \"base\" cannot be used"),
        "{e}"
    );
    assert!(
        e.contains("unknown key `nmae` in a variant; did you mean `name`?"),
        "{e}"
    );
    assert!(e.contains("a variant has no `name`"), "{e}");
    let e = study_error(
        r#"
[[variant]]
name = "dotted"
set = { client.web.timeout = "2s" }
"#,
    );
    assert!(
        e.contains("expected the whole path as one quoted key"),
        "{e}"
    );
}

#[test]
fn sweeps_expand_in_file_order_first_path_outermost_for_every_variant() {
    let s = study(
        r#"
[[variant]]
name = "big"
set = { "service.api.concurrency" = 8 }

[sweep]
"service.api.queue" = [10, 20]
"client.web.arrival.rate_per_s" = [100, 300, 500]
"#,
    );
    assert_eq!(
        s.sweep_paths,
        ["service.api.queue", "client.web.arrival.rate_per_s"],
        "file order, not alphabetical"
    );
    let points: Vec<Vec<String>> = s
        .points
        .iter()
        .map(|p| p.iter().map(|v| v.text.clone()).collect())
        .collect();
    assert_eq!(
        points,
        [
            ["10", "100"],
            ["10", "300"],
            ["10", "500"],
            ["20", "100"],
            ["20", "300"],
            ["20", "500"]
        ]
    );
    assert_eq!(s.cells.len(), 12);
    let order: Vec<(String, usize)> = s
        .cells
        .iter()
        .map(|c| (c.variant.clone(), c.point))
        .collect();
    assert_eq!(order[0], ("base".to_string(), 0));
    assert_eq!(order[5], ("base".to_string(), 5));
    assert_eq!(order[6], ("big".to_string(), 0));
    for c in &s.cells {
        let sc = &c.scenario;
        let want_queue: u32 = s.points[c.point][0].text.parse().expect("a number");
        assert_eq!(sc.services[0].queue, Some(want_queue));
        let rate = match &sc.clients[0].arrival {
            resim::scenario::Arrival::Poisson(p) => p.base_per_s,
            other => panic!("{other:?}"),
        };
        assert_eq!(Some(rate), s.points[c.point][1].number);
        let workers = if c.variant == "big" { 8 } else { 4 };
        assert_eq!(
            sc.services[0].concurrency, workers,
            "the variant and the point both apply"
        );
    }
}

#[test]
fn selecting_variants_keeps_the_file_order_and_names_unknown_ones() {
    let mut s = study(
        r#"
[[variant]]
name = "a"
set = { "service.api.concurrency" = 8 }

[[variant]]
name = "b"
set = { "service.api.concurrency" = 2 }
"#,
    );
    let e = s.select(&["bb".to_string()]).expect_err("unknown");
    assert!(e.contains("did you mean \"b\"?"), "{e}");
    s.select(&["b".to_string(), "base".to_string()])
        .expect("known");
    assert_eq!(s.variants, ["base", "b"]);
    assert_eq!(s.cells.len(), 2);
}

/// Runs `resim` in `dir` with `args`, asserting success.
fn resim_ok(dir: &Path, args: &[&str]) -> String {
    let out = common::resim(dir, args);
    assert!(
        out.status.success(),
        "resim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const SWEEP: &str = r#"
[[variant]]
name = "no-budget"
unset = ["client.web.retry_budget"]

[[variant]]
name = "flaky-db"
set = { "service.db.error_rate" = 0.1 }

[sweep]
"client.web.arrival.rate_per_s" = [100, 400]
"#;

#[test]
fn outputs_are_byte_identical_across_threads_and_across_shards_merged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("s.toml"), format!("{BASE}{SWEEP}")).expect("written");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "s.toml", "--seeds", "3", "--quiet"];
        args.extend_from_slice(extra);
        resim_ok(d, &args)
    };
    run(&["--threads", "1", "--out", "one"]);
    run(&["--threads", "2", "--out", "two"]);
    for i in 0..3 {
        run(&["--shard", &format!("{i}/3"), "--out", &format!("shard{i}")]);
    }
    // The shards in any order.
    resim_ok(
        d,
        &[
            "merge", "shard2", "shard0", "shard1", "--out", "merged", "--quiet",
        ],
    );
    for name in [
        "summary.csv",
        "timeseries.csv",
        "services.csv",
        "policies.csv",
        "latency_histogram.csv",
        "aggregate.csv",
        "scenario.toml",
    ] {
        let one = read(&d.join("one").join(name));
        assert!(one.len() > 10, "{name} is empty");
        assert!(
            one == read(&d.join("two").join(name)),
            "{name}: 1 vs 2 threads"
        );
        assert!(
            one == read(&d.join("merged").join(name)),
            "{name}: one machine vs merged shards"
        );
    }
    for svg in ["availability.svg", "latency.svg", "summary.svg"] {
        assert!(
            read(&d.join("one").join(svg)) == read(&d.join("merged").join(svg)),
            "{svg}"
        );
    }
    // The manifests differ only in how they were made.
    let manifest = |dir: &str| -> serde_json::Value {
        let mut m: serde_json::Value =
            serde_json::from_slice(&read(&d.join(dir).join("manifest.json"))).expect("json");
        m.as_object_mut().expect("an object").remove("invocation");
        m
    };
    assert_eq!(manifest("one"), manifest("merged"));
    assert_eq!(manifest("one"), manifest("two"));
    // 3 variants x 2 points x 3 seeds, in that order.
    let summary = common::csv_rows(&d.join("one/summary.csv"));
    assert_eq!(summary.len(), 18);
    let order: Vec<(String, String, String)> = summary
        .iter()
        .map(|r| {
            (
                r["variant"].clone(),
                r["client.web.arrival.rate_per_s"].clone(),
                r["seed"].clone(),
            )
        })
        .collect();
    assert_eq!(order[0], ("base".into(), "100".into(), "1".into()));
    assert_eq!(order[2], ("base".into(), "100".into(), "3".into()));
    assert_eq!(order[3], ("base".into(), "400".into(), "1".into()));
    assert_eq!(order[6], ("no-budget".into(), "100".into(), "1".into()));
    assert_eq!(order[17], ("flaky-db".into(), "400".into(), "3".into()));
}

#[test]
fn aggregate_means_and_paired_differences_follow_from_the_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("s.toml"), format!("{BASE}{SWEEP}")).expect("written");
    resim_ok(
        d,
        &["run", "s.toml", "--seeds", "5", "--quiet", "--out", "o"],
    );
    let summary = common::csv_rows(&d.join("o/summary.csv"));
    let aggregate = common::csv_rows(&d.join("o/aggregate.csv"));
    assert_eq!(aggregate.len(), 6, "3 variants x 2 points");
    let num = |r: &BTreeMap<String, String>, c: &str| -> f64 {
        r[c].parse().unwrap_or_else(|_| panic!("{c} = {:?}", r[c]))
    };
    let availability = |variant: &str, rate: &str| -> Vec<f64> {
        summary
            .iter()
            .filter(|r| r["variant"] == variant && r["client.web.arrival.rate_per_s"] == rate)
            .map(|r| (num(r, "ok") + num(r, "degraded")) / num(r, "requests"))
            .collect()
    };
    for a in &aggregate {
        let (variant, rate) = (&a["variant"], &a["client.web.arrival.rate_per_s"]);
        assert_eq!(a["seeds"], "5");
        let v = availability(variant, rate);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            (num(a, "availability_mean") - mean).abs() < 1e-6,
            "{variant} {rate}"
        );
        let (lo, hi) = (num(a, "availability_ci_lo"), num(a, "availability_ci_hi"));
        assert!(lo <= mean && mean <= hi, "{lo} {mean} {hi}");
        // The interval is the Student t one: t(0.975, 4) = 2.776 standard errors.
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        assert!(((hi - lo) / 2.0 - 2.776445 * sd / 5f64.sqrt()).abs() < 2e-6);
        if variant == "base" {
            assert_eq!(
                a["availability_diff"], "",
                "base has no difference from itself"
            );
            continue;
        }
        let b = availability("base", rate);
        let diff: f64 = v.iter().zip(&b).map(|(x, y)| x - y).sum::<f64>() / 5.0;
        assert!(
            (num(a, "availability_diff") - diff).abs() < 1e-6,
            "{variant} {rate}"
        );
    }
    let find = |variant: &str, rate: &str| {
        aggregate
            .iter()
            .find(|a| a["variant"] == variant && a["client.web.arrival.rate_per_s"] == rate)
            .expect("a row")
    };
    // A database failing 10% of calls, each failure retried once (the 10% budget allows
    // nearly all of them): about 1 - 0.1^2 = 99% availability, with the same arrivals in
    // both, so the difference is clearly significant.
    let flaky = find("flaky-db", "100");
    let d = num(flaky, "availability_diff");
    assert!((-0.015..-0.007).contains(&d), "{d}");
    assert_eq!(flaky["availability_significant"], "true");
    // Retries are sent only on failures; without failures, removing the budget changes no
    // run at all: every paired difference is exactly zero, and not significant.
    let no_budget = find("no-budget", "100");
    assert_eq!(num(no_budget, "availability_diff"), 0.0);
    assert_eq!(no_budget["availability_significant"], "false");
    assert_eq!(no_budget["p99_ms_diff"], "0.000000");
}

#[test]
fn variant_selection_runs_only_the_named_variants_and_rejects_unknown_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("s.toml"), format!("{BASE}{SWEEP}")).expect("written");
    resim_ok(
        d,
        &[
            "run",
            "s.toml",
            "--variant",
            "flaky-db",
            "--quiet",
            "--out",
            "o",
        ],
    );
    let summary = common::csv_rows(&d.join("o/summary.csv"));
    assert_eq!(summary.len(), 2, "one variant at two points");
    assert!(summary.iter().all(|r| r["variant"] == "flaky-db"));
    let aggregate = common::csv_rows(&d.join("o/aggregate.csv"));
    assert!(
        aggregate.iter().all(|r| r["availability_diff"].is_empty()),
        "no base to differ from"
    );
    let e = common::refused(d, &["run", "s.toml", "--variant", "flaky_db"]);
    assert!(
        e.contains("no variant \"flaky_db\" in the scenario; did you mean \"flaky-db\"?"),
        "{e}"
    );
}

#[test]
fn merge_refuses_incomplete_or_mismatched_shards() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("s.toml"), format!("{BASE}{SWEEP}")).expect("written");
    std::fs::write(
        d.join("t.toml"),
        format!("{BASE}{SWEEP}").replace("rate_per_s = 200", "rate_per_s = 210"),
    )
    .expect("written");
    resim_ok(
        d,
        &["run", "s.toml", "--shard", "0/2", "--out", "a0", "--quiet"],
    );
    resim_ok(
        d,
        &["run", "s.toml", "--shard", "1/2", "--out", "a1", "--quiet"],
    );
    resim_ok(
        d,
        &["run", "t.toml", "--shard", "1/2", "--out", "b1", "--quiet"],
    );
    resim_ok(d, &["run", "s.toml", "--out", "whole", "--quiet"]);
    let merge = |dirs: &[&str]| {
        let mut args = vec!["merge"];
        args.extend_from_slice(dirs);
        args.extend_from_slice(&["--out", "m", "--quiet"]);
        common::resim(d, &args)
    };
    let cases: [(&[&str], &str); 4] = [
        (&["a0"], "missing: 1"),
        (&["a0", "b1"], "differs from"),
        (&["a0", "a1", "a1"], "expected each of 0 to 1 once"),
        (&["a0", "whole"], "not a shard"),
    ];
    for (dirs, message) in cases {
        let out = merge(dirs);
        assert_eq!(out.status.code(), Some(2), "{dirs:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(message), "{dirs:?}: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    assert!(merge(&["a1", "a0"]).status.success());
    // A shard alone writes no comparison: that is the merge's job.
    assert!(!d.join("a0/aggregate.csv").exists());
    // The output may be neither a shard nor inside one: the merge would write over it.
    let a0 = read(&d.join("a0/manifest.json"));
    for (out, says) in [
        ("a0", "--out is one of the inputs: a0; expected a new path"),
        (
            "./a1/",
            "--out is one of the inputs: a1; expected a new path",
        ),
        (
            "a0/merged",
            "--out a0/merged is inside the shard folder a0; expected a new path outside the shards",
        ),
    ] {
        let o = common::resim(d, &["merge", "a0", "a1", "--out", out]);
        assert_eq!(o.status.code(), Some(2), "{out}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(says), "{out}: {e}");
    }
    assert!(read(&d.join("a0/manifest.json")) == a0, "the shard is kept");
    assert!(!d.join("a0/merged").exists());
    // Shards inside the output, as `run --shard` places them by default
    // (output/<name>/shard-I-of-N), merge into their parent.
    std::fs::create_dir(d.join("whole/parts")).expect("dir");
    for s in ["a0", "a1"] {
        std::fs::rename(d.join(s), d.join("whole/parts").join(s)).expect("moved");
    }
    let o = common::resim(
        d,
        &[
            "merge",
            "whole/parts/a0",
            "whole/parts/a1",
            "--out",
            "whole",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn more_shards_than_runs_are_refused_by_run_and_by_merge() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // 3 variants x 2 points x 1 seed = 6 runs.
    std::fs::write(d.join("s.toml"), format!("{BASE}{SWEEP}")).expect("written");
    for shard in ["0/7", "0/18446744073709551615"] {
        let out = common::resim(d, &["run", "s.toml", "--shard", shard, "--out", "x"]);
        assert_eq!(out.status.code(), Some(2), "{shard}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains(&format!("s.toml: `--shard {shard}` makes "))
                && e.contains("but the study has 6 run(s); expected at most one shard per run: I/N with N from 1 to 6"),
            "{e}"
        );
    }
    // A Slurm array larger than the study.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_resim"))
        .args(["run", "s.toml", "--shard", "auto", "--out", "x"])
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_COUNT", "16")
        .current_dir(d)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("(shard 3 of 16 from Slurm's SLURM_ARRAY_TASK_COUNT) makes 16 shards")
            && e.contains("an array or Job of at most 6 tasks"),
        "{e}"
    );
    assert!(!d.join("x").exists(), "nothing written");
    // Shards whose manifest claims more shards than runs (as one written before `run`
    // refused them would): refused before anything is sized by the count.
    resim_ok(
        d,
        &["run", "s.toml", "--shard", "0/6", "--out", "a", "--quiet"],
    );
    for count in ["18446744073709551615", "100000000"] {
        let path = d.join("a/manifest.json");
        let mut m: serde_json::Value = serde_json::from_slice(&read(&path)).expect("json");
        m["shard"]["count"] = serde_json::Value::from(count.parse::<u64>().expect("u64"));
        std::fs::write(&path, m.to_string()).expect("written");
        let out = common::resim(d, &["merge", "a", "--out", "m"]);
        assert_eq!(out.status.code(), Some(2), "{count}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains(&format!("a/manifest.json: `shard` is 0 of {count}; expected a count from 1 to the study's 6 runs")),
            "{e}"
        );
    }
    // A lone shard of many lists the first few missing ones, not all.
    resim_ok(
        d,
        &[
            "run", "s.toml", "--seeds", "3", "--shard", "0/18", "--out", "a", "--quiet",
        ],
    );
    let e = common::refused(d, &["merge", "a", "--out", "m"]);
    assert!(
        e.contains("the shards given are [0] of 18; expected each of 0 to 17 once (missing: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 7 more)"),
        "{e}"
    );
}

/// A folder holding `s.toml` (the swept base scenario) and its two shards `s0` and `s1`.
fn two_shards() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("s.toml"), format!("{BASE}{SWEEP}")).expect("written");
    for i in 0..2 {
        let shard = format!("{i}/2");
        let out = format!("s{i}");
        resim_ok(
            d,
            &["run", "s.toml", "--shard", &shard, "--out", &out, "--quiet"],
        );
    }
    dir
}

#[test]
fn merge_errors_name_the_path_concerned() {
    let dir = two_shards();
    let d = dir.path();
    std::fs::write(d.join("afile"), "x").expect("written");
    // A shard folder without its copy of the scenario.
    std::fs::create_dir(d.join("bare")).expect("dir");
    for entry in std::fs::read_dir(d.join("s0")).expect("s0") {
        let name = entry.expect("entry").file_name();
        if name != "scenario.toml" {
            std::fs::copy(d.join("s0").join(&name), d.join("bare").join(&name)).expect("copied");
        }
    }
    let merge = |first: &str, out: &str| {
        let o = common::resim(d, &["merge", first, "s1", "--out", out, "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "{first} {out}");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let e = merge("s0", "afile");
    assert!(
        e.contains("resim merge: afile: cannot create the output folder: ")
            && e.contains("; expected a folder, or a path where one can be made"),
        "{e}"
    );
    let e = merge("s0", "afile/m");
    assert!(
        e.contains("resim merge: afile/m: cannot create the output folder: "),
        "{e}"
    );
    let e = merge("bare", "m");
    assert!(
        e.contains("resim merge: bare/scenario.toml: cannot read: ")
            && e.contains(
                "expected the scenario.toml that `resim run --shard` keeps in a shard's folder"
            ),
        "{e}"
    );
}

#[test]
fn merge_says_where_a_row_or_a_file_is_wrong_and_what_is_expected() {
    let dir = two_shards();
    let d = dir.path();
    // A copy of shard 1 without `skip`, and with the first fields of line 2 of `file` set
    // to those of `first`.
    let copy = |to: &str, skip: &str, edit: Option<(&str, &str)>| {
        std::fs::create_dir(d.join(to)).expect("dir");
        for entry in std::fs::read_dir(d.join("s1")).expect("s1") {
            let name = entry.expect("entry").file_name();
            if name != skip {
                std::fs::copy(d.join("s1").join(&name), d.join(to).join(&name)).expect("copied");
            }
        }
        if let Some((file, first)) = edit {
            let path = d.join(to).join(file);
            let text = String::from_utf8(read(&path)).expect("text");
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let mut fields: Vec<&str> = lines[1].split(',').collect();
            for (i, f) in first.split(',').enumerate() {
                fields[i] = f;
            }
            lines[1] = fields.join(",");
            std::fs::write(&path, lines.join("\n") + "\n").expect("written");
        }
    };
    let merge = |second: &str, out: &str| {
        let o = common::resim(d, &["merge", "s0", second, "--out", out, "--quiet"]);
        assert_eq!(o.status.code(), Some(2), "{second}");
        String::from_utf8_lossy(&o.stderr).trim_end().to_string()
    };
    copy("no-services", "services.csv", None);
    let e = merge("no-services", "m1");
    assert!(
        e.starts_with("resim merge: no-services/services.csv: cannot read: ")
            && e.ends_with(
                "; expected the services.csv that `resim run --shard` writes in a shard's folder"
            ),
        "{e}"
    );
    // latency_histogram.csv: variant, the swept rate, latency_ns, count.
    copy(
        "bad-bins",
        "",
        Some(("latency_histogram.csv", "base,100,12x,1")),
    );
    assert_eq!(
        merge("bad-bins", "m2"),
        "resim merge: bad-bins/latency_histogram.csv:2: `12x` in column `latency_ns` is not a whole number; expected a whole number of 0 or more, like 42"
    );
    // Rows of a cell the manifests do not list: named in the merged file they land in,
    // after the header and shard 0's rows.
    let line = String::from_utf8(read(&d.join("s0/summary.csv")))
        .expect("text")
        .lines()
        .count()
        + 1;
    copy("odd-point", "", Some(("summary.csv", "base,999")));
    assert_eq!(
        merge("odd-point", "m3"),
        format!(
            "resim merge: m3/summary.csv:{line}: sweep point (999) of variant \"base\" is not in manifest.json; expected one of its points, a value per swept path: (100), (400)"
        )
    );
    copy("odd-variant", "", Some(("summary.csv", "basis,100")));
    assert_eq!(
        merge("odd-variant", "m4"),
        format!(
            "resim merge: m4/summary.csv:{line}: variant \"basis\" at sweep point (100) is not in manifest.json; expected one of its variants: base, flaky-db, no-budget"
        )
    );
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_variables() {
    use resim::cli::shard_from_env;
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let s = shard_from_env(&env(&[
        ("SLURM_ARRAY_TASK_ID", "5"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "8"),
    ]))
    .expect("slurm");
    assert_eq!((s.index, s.count), (4, 8));
    let s = shard_from_env(&env(&[
        ("JOB_COMPLETION_INDEX", "2"),
        ("RESIM_SHARD_COUNT", "3"),
    ]))
    .expect("kubernetes");
    assert_eq!((s.index, s.count), (2, 3));
    let e = shard_from_env(&env(&[("JOB_COMPLETION_INDEX", "2")])).expect_err("no count");
    assert!(e.contains("RESIM_SHARD_COUNT"), "{e}");
    let e = shard_from_env(&env(&[
        ("JOB_COMPLETION_INDEX", "3"),
        ("RESIM_SHARD_COUNT", "3"),
    ]))
    .expect_err("out of range");
    assert!(e.contains("below the count"), "{e}");
    assert!(shard_from_env(&env(&[])).is_err());
    assert_eq!(
        shard_from_env(&env(&[("SLURM_ARRAY_TASK_ID", "2")])).expect_err("no count"),
        "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; expected both, as Slurm sets them for each task of a job array (sbatch --array)"
    );
    assert_eq!(
        shard_from_env(&env(&[("SLURM_ARRAY_TASK_ID", "two")])).expect_err("not a number"),
        "SLURM_ARRAY_TASK_ID=two is not a whole number; expected a whole number such as 3"
    );
    // A task id below the array's minimum is no task of it (it became shard 0).
    let e = shard_from_env(&env(&[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "5"),
        ("SLURM_ARRAY_TASK_COUNT", "8"),
    ]))
    .expect_err("below the minimum");
    assert!(
        e.contains("SLURM_ARRAY_TASK_ID=3 is below SLURM_ARRAY_TASK_MIN=5"),
        "{e}"
    );
}

/// Two variants that behave alike draw the same lines, and the one drawn later would hide
/// the first completely: on every time chart and the latency distribution the first one's
/// legend entry says where it is, and it is drawn wider, as a rim around the other.
#[test]
fn a_variant_identical_to_a_later_one_is_named_in_the_chart_legends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // `same` sets the timeout to the value it has: the runs are identical.
    let text = format!(
        "{BASE}\n[[variant]]\nname = \"same\"\nset = {{ \"client.web.timeout\" = \"1s\" }}\n"
    );
    std::fs::write(d.join("same.toml"), text).expect("write");
    resim_ok(d, &["run", "same.toml", "--out", "out", "--quiet"]);
    let svg = |name: &str| String::from_utf8(read(&d.join("out").join(name))).expect("utf-8");
    for name in ["availability.svg", "latency.svg", "latency-cdf.svg"] {
        let svg = svg(name);
        assert!(
            svg.contains("\nbase (hidden under same)\n"),
            "{name}: no note on base"
        );
        assert!(svg.contains("\nsame\n"), "{name}");
        assert!(svg.contains("\ncoinciding lines\n"), "{name}");
        // base in the palette's first colour, one step (2 px) wider than `same` on top.
        assert!(
            svg.contains("stroke=\"#1F77B4\" stroke-width=\"4\""),
            "{name}: base is not drawn as a rim"
        );
    }
}

/// compare-retries: before the hang all five variants see the same latencies, and `base`
/// has no successful request after it, so its latency line lies entirely under the others;
/// its legend entry says so. On the availability chart the five lines at 100% before the
/// hang nest five deep, `base` outermost (10 px).
#[test]
fn compare_retries_names_the_hidden_base_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let file = common::root().join("scenarios/compare-retries.toml");
    let file = file.to_str().expect("utf-8");
    resim_ok(d, &["run", file, "--out", "out", "--quiet"]);
    let svg = |name: &str| String::from_utf8(read(&d.join("out").join(name))).expect("utf-8");
    let latency = svg("latency.svg");
    assert!(latency.contains("\nbase (hidden under "), "no note on base");
    for variant in ["budget", "breaker", "envoy-budget", "no-retries"] {
        assert!(latency.contains(&format!("\n{variant}\n")), "{variant}");
    }
    let availability = svg("availability.svg");
    assert!(
        !availability.contains("hidden"),
        "base shows at 0% after the hang"
    );
    assert!(availability.contains("stroke=\"#1F77B4\" stroke-width=\"10\""));
}
