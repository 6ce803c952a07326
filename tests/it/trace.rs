//! `resim trace` and `resim explain`: tracing changes no number, the Chrome trace is
//! well formed (slices nest per track, flows connect slices, counters and faults are
//! there), it stays within its limit and window, and a request's life reads as it happened.

use crate::common;
use resim::Study;
use resim::engine::SimTime;
use resim::trace::{Select, TraceOptions};
use serde_json::Value;
use std::collections::BTreeMap;

fn options(select: Select, limit: usize) -> TraceOptions {
    TraceOptions {
        from: SimTime::ZERO,
        to: SimTime::MAX,
        select,
        limit,
    }
}

#[test]
fn tracing_changes_no_number_of_any_run() {
    for name in [
        "incident",
        "dependency-crash",
        "retry-storm-budget",
        "hedging",
        "chaos-monkey",
        "queue-crash-duplicates",
        "partition",
    ] {
        let study =
            Study::load(&common::root().join(format!("scenarios/{name}.toml"))).expect("valid");
        for cell in &study.cells {
            let seed = study.base.seed;
            let plain = resim::run_one(&cell.scenario, seed).expect("runs");
            for select in [Select::All, Select::Failed, Select::Slowest] {
                let traced = resim::run::run_traced(&cell.scenario, seed, options(select, 50))
                    .expect("runs");
                assert_eq!(traced.result, plain, "{name} {} {select:?}", cell.variant);
                assert!(traced.recorded.requests.len() <= 50);
            }
        }
    }
}

/// The X slices, flows and instants of a trace, checked for shape; returns the number of
/// request slices.
fn check_shape(doc: &Value) -> usize {
    let events = doc["traceEvents"].as_array().expect("traceEvents");
    let mut tracks: BTreeMap<(u64, u64), Vec<(f64, f64)>> = BTreeMap::new();
    let mut named: Vec<(u64, u64)> = Vec::new();
    let mut flows: BTreeMap<u64, Vec<(&str, u64, u64, f64)>> = BTreeMap::new();
    let mut requests = 0;
    for e in events {
        let ph = e["ph"].as_str().expect("ph");
        let pid = e["pid"].as_u64().expect("pid");
        let tid = e["tid"].as_u64().unwrap_or(0);
        match ph {
            "M" if e["name"] == "thread_name" => named.push((pid, tid)),
            "X" => {
                let ts = e["ts"].as_f64().expect("ts");
                let dur = e["dur"].as_f64().expect("dur");
                assert!(dur >= 0.0 && ts >= 0.0, "{e}");
                tracks.entry((pid, tid)).or_default().push((ts, ts + dur));
                if e["cat"] == "request" {
                    requests += 1;
                }
            }
            "s" | "f" => flows
                .entry(e["id"].as_u64().expect("flow id"))
                .or_default()
                .push((ph, pid, tid, e["ts"].as_f64().expect("ts"))),
            "B" | "E" => panic!("only complete slices are written: {e}"),
            _ => {}
        }
    }
    // Slices on one track nest or follow each other: never a partial overlap. (Ends are
    // compared with a nanosecond of slack: microseconds are written as floats.)
    let eps = 1e-3;
    for (track, slices) in &mut tracks {
        assert!(named.contains(track), "track {track:?} has a name");
        slices.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<f64> = Vec::new();
        for &(start, end) in slices.iter() {
            while open.last().is_some_and(|&e| e <= start + eps) {
                open.pop();
            }
            if let Some(&outer) = open.last() {
                assert!(
                    end <= outer + eps,
                    "{track:?}: [{start}, {end}] overlaps a slice ending at {outer}"
                );
            }
            open.push(end);
        }
    }
    // Every flow goes from one slice to another, forward in time.
    let inside = |pid: u64, tid: u64, ts: f64| {
        tracks
            .get(&(pid, tid))
            .is_some_and(|s| s.iter().any(|&(a, b)| a - eps <= ts && ts <= b + eps))
    };
    for (id, ends) in &flows {
        assert_eq!(ends.len(), 2, "flow {id}: {ends:?}");
        let (s, f) = (ends[0], ends[1]);
        assert_eq!((s.0, f.0), ("s", "f"), "flow {id}");
        assert!(s.3 <= f.3, "flow {id} goes back in time");
        assert!(inside(s.1, s.2, s.3), "flow {id} starts inside a slice");
        assert!(inside(f.1, f.2, f.3), "flow {id} ends inside a slice");
    }
    requests
}

/// Runs `resim trace` with `args` in `dir`, writing `t.json` there, and reads the trace.
fn trace_doc(dir: &std::path::Path, args: &[&str]) -> Value {
    let out = dir.join("t.json");
    let mut all = vec!["trace"];
    all.extend_from_slice(args);
    all.extend(["--out", out.to_str().expect("utf-8")]);
    common::resim_ok(dir, &all);
    serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("valid JSON")
}

/// The request number and latency of every request slice of a trace.
fn request_latencies(doc: &Value) -> Vec<(u64, f64)> {
    doc["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["cat"] == "request")
        .map(|e| {
            let args = &e["args"];
            (
                args["request"].as_u64().expect("a number"),
                args["latency_ms"].as_f64().expect("a latency"),
            )
        })
        .collect()
}

#[test]
fn the_trace_of_a_failing_seed_is_well_formed_bounded_and_shows_faults_and_policies() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = common::root().join("scenarios/incident.toml");
    let file = file.to_str().expect("utf-8");
    let doc = trace_doc(dir.path(), &[file, "--seed", "14", "--limit", "40"]);
    assert_eq!(check_shape(&doc), 40, "the limit holds");
    let events = doc["traceEvents"].as_array().expect("events");
    let names = |cat: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["cat"] == cat)
            .map(|e| e["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert!(
        names("request").iter().all(|n| !n.ends_with(": ok")),
        "only failures"
    );
    assert!(names("fault").iter().any(|n| n == "api-crashes (crash)"));
    assert!(
        names("flow").len() >= 2 * 40,
        "each request's calls are linked"
    );
    assert!(
        names("policy")
            .iter()
            .any(|n| n.starts_with("retry (attempt 2)"))
    );
    // A window keeps only requests sent inside it; slowest keeps the slowest of them.
    let window = [file, "--seed", "14", "--from", "6m", "--to", "7m"];
    let doc = trace_doc(
        dir.path(),
        &[&window[..], &["--requests", "slowest", "--limit", "5"]].concat(),
    );
    assert_eq!(check_shape(&doc), 5);
    for e in doc["traceEvents"].as_array().expect("events") {
        if e["cat"] == "request" {
            let ts = e["ts"].as_f64().expect("ts");
            assert!((360e6..420e6).contains(&ts), "{e}");
        }
    }
    let mut slowest = request_latencies(&doc);
    // Every request of the window, to know which are the slowest.
    let every = trace_doc(
        dir.path(),
        &[&window[..], &["--requests", "all", "--limit", "100000"]].concat(),
    );
    let mut all = request_latencies(&every);
    assert!(all.len() > 1_000, "{} requests in a minute", all.len());
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    assert_eq!(slowest, all[..5], "the five slowest of the window");
}

/// Requests at 1 s, 2 s and 3 s; the db fails every request between 1.5 s and 2.5 s, and the
/// api retries its call once after 10 ms. Every time is a constant.
const STEADY: &str = r#"name = "steady"
duration = "4s"

[network]
latency = { kind = "constant", value = "500us" }

[[client]]
name = "web"
target = "api"
arrival = { kind = "constant", rate_per_s = 1 }

[[service]]
name = "api"
service_time = { kind = "constant", value = "2ms" }
calls = [{ to = "db", retry = { max_attempts = 2, backoff = { kind = "constant", delay = "10ms" }, jitter = "none" } }]

[[service]]
name = "db"
service_time = { kind = "constant", value = "1ms" }

[[fault]]
name = "db-errors"
kind = "errors"
target = "db"
rate = 1.0
at = "1.5s"
for = "1s"
"#;

#[test]
fn explain_tells_a_request_s_life_in_order_with_its_times() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("steady.toml"), STEADY).expect("written");
    let out = common::resim_ok(dir.path(), &["explain", "steady.toml", "--request", "2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let want = "request #2 from client web to api, sent at 2.000000 s
      2.000000 s  client web sends attempt 1 to api (replica api[0])
      2.000500 s  api[0] receives attempt 1 after 0.500 ms on the network
      2.000500 s  api[0] starts serving attempt 1 after waiting 0.000 ms for a worker, own work 2.000 ms
      2.002500 s  api[0] sends attempt 1 to db (replica db[0])
      2.003000 s  db[0] receives attempt 1 after 0.500 ms on the network
      2.003000 s  db[0] starts serving attempt 1 after waiting 0.000 ms for a worker, own work 1.000 ms
      2.004000 s  db[0] answers attempt 1: error
      2.004500 s  api[0] gets the answer to attempt 1: error
      2.004500 s  api[0]: retry (attempt 2) in 10.000 ms
      2.014500 s  api[0] sends attempt 2 to db (replica db[0])
      2.015000 s  db[0] receives attempt 2 after 0.500 ms on the network
      2.015000 s  db[0] starts serving attempt 2 after waiting 0.000 ms for a worker, own work 1.000 ms
      2.016000 s  db[0] answers attempt 2: error
      2.016500 s  api[0] gets the answer to attempt 2: error
      2.016500 s  api[0]: no retry: max_attempts reached
      2.016500 s  api[0] answers attempt 1: error
      2.017000 s  client web gets the answer to attempt 1: error
ended at 2.017000 s: error after 17.000 ms (3 attempt(s) and call(s) on replicas)
";
    assert_eq!(text, want);
    // A request that does not exist is a clear error.
    let e = common::refused(dir.path(), &["explain", "steady.toml", "--request", "9"]);
    assert_eq!(
        e.trim_end(),
        "resim explain: the run with seed 1 has no request #9; its clients sent 3 request(s), numbered from 1; expected --request from 1 to 3"
    );
}

#[test]
fn a_point_variant_or_out_that_names_nothing_says_what_is_expected() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    std::fs::write(d.join("steady.toml"), STEADY).expect("written");
    std::fs::write(
        d.join("swept.toml"),
        format!("{STEADY}\n[sweep]\n\"client.web.arrival.rate_per_s\" = [1, 2]\n"),
    )
    .expect("written");
    std::fs::write(d.join("afile"), "x").expect("written");
    let refused = |args: &[&str]| common::refused(d, args).trim_end().to_string();
    assert_eq!(
        refused(&["trace", "steady.toml", "--point", "2", "--out", "t.json"]),
        "resim trace: no sweep point 2: the scenario has no [sweep]; expected no --point, or --point 0"
    );
    assert_eq!(
        refused(&["explain", "swept.toml", "--point", "5", "--request", "1"]),
        "resim explain: no sweep point 5; expected --point from 0 to 1, one of the scenario's 2 sweep points"
    );
    assert_eq!(
        refused(&[
            "trace",
            "steady.toml",
            "--variant",
            "bse",
            "--out",
            "t.json"
        ]),
        "resim trace: no variant \"bse\" in the scenario; did you mean \"base\"? expected one of: base"
    );
    let e = refused(&["trace", "steady.toml", "--out", "afile/t.json"]);
    assert!(
        e.starts_with("resim trace: cannot write afile/t.json: ")
            && e.ends_with(
                "; expected --out to name a file in a folder that exists and can be written"
            ),
        "{e}"
    );
}

#[test]
fn waits_at_a_bulkhead_and_fallbacks_are_marked_on_the_trace() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = common::root().join("scenarios/bulkhead.toml");
    let doc = trace_doc(
        dir.path(),
        &[
            file.to_str().expect("utf-8"),
            "--variant",
            "bulkhead-wait",
            "--requests",
            "all",
            "--limit",
            "500",
            "--from",
            "60s",
            "--to",
            "61s",
        ],
    );
    check_shape(&doc);
    let marks: Vec<&str> = doc["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["cat"] == "policy")
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(marks.contains(&"waits for a bulkhead slot"), "{marks:?}");
    assert!(
        marks.contains(&"fallback instead of bulkhead_full"),
        "{marks:?}"
    );
    assert!(
        !marks.iter().any(|m| m.contains("no retry policy")),
        "{marks:?}"
    );
}

/// The line `resim trace` prints says which requests it traced (those sent in its window,
/// the warmup's too) apart from those the run counted (after the warmup), as summary.csv
/// does: the quickstart's 30 s warmup has failures of its own.
#[test]
fn the_trace_line_tells_traced_requests_from_counted_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/quickstart.toml");
    let file = file.to_str().expect("utf-8");
    let line = |extra: &[&str]| {
        let mut args = vec!["trace", file, "--seed", "1", "--limit", "100000"];
        args.extend_from_slice(extra);
        let out = common::resim_ok(dir.path(), &args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        stdout.lines().next().expect("a line").to_string()
    };
    let failed_in = |line: &str| -> u64 {
        let (_, rest) = line.split_once(": ").expect("wrote FILE: ...");
        rest.split(' ')
            .next()
            .expect("a count")
            .parse()
            .expect("a number")
    };
    let summary = common::resim_ok(dir.path(), &["run", file, "--out", "o"]);
    assert!(summary.status.success());
    let row = &common::csv_rows(&dir.path().join("o/summary.csv"))[0];
    let counted: u64 = row["requests"].parse().expect("a number");
    let failed: u64 = row["failed"].parse().expect("a number");

    let whole = line(&[]);
    assert!(whole.contains("(warmup included)"), "{whole}");
    assert!(whole.contains(&format!("the run counted {counted} after its warmup")));
    assert!(
        failed_in(&whole) > failed,
        "the warmup's failures are traced too: {whole}"
    );

    let measured = line(&["--from", "30s"]);
    assert!(!measured.contains("warmup included"), "{measured}");
    assert_eq!(failed_in(&measured), failed, "{measured}");
}

/// Work a replica still does after the request ended (a timed-out attempt served late)
/// says which attempt it was and that it came too late.
#[test]
fn explain_marks_work_done_after_the_request_ended() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("late.toml"),
        r#"
name = "late"
duration = "1s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "constant", rate_per_s = 10 }
timeout = "10ms"
retry = { max_attempts = 2, backoff = { kind = "constant", delay = "1ms" } }
[[service]]
name = "api"
service_time = { kind = "constant", value = "50ms" }
"#,
    )
    .expect("written");
    let out = common::resim_ok(dir.path(), &["explain", "late.toml", "--request", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for attempt in [1, 2] {
        assert!(
            text.contains(&format!(
                "api[0] answers attempt {attempt}: ok (too late: the request ended at"
            )),
            "{text}"
        );
    }
}

#[test]
fn a_trace_written_over_its_scenario_or_a_data_file_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let text = STEADY.replace(
        "arrival = { kind = \"constant\", rate_per_s = 1 }",
        "arrival = { kind = \"trace\", file = \"data/rps.csv\" }",
    );
    std::fs::create_dir(d.join("data")).expect("dir");
    std::fs::write(d.join("data/rps.csv"), "t,rps\n0s,2\n2s,3\n").expect("written");
    std::fs::write(d.join("f.toml"), &text).expect("written");
    common::resim_ok(d, &["trace", "f.toml", "--out", "t.json"]);
    for (out, input) in [
        ("f.toml", "f.toml"),
        ("./f.toml", "f.toml"),
        ("data/../data/rps.csv", "data/rps.csv"),
    ] {
        let o = common::resim(d, &["trace", "f.toml", "--out", out]);
        assert_eq!(o.status.code(), Some(2), "{out}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.contains(&format!(
                "resim trace: --out is one of the inputs: {input}; expected a new path"
            )),
            "{e}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(d.join("f.toml")).expect("kept"),
        text
    );
    assert_eq!(
        std::fs::read_to_string(d.join("data/rps.csv")).expect("kept"),
        "t,rps\n0s,2\n2s,3\n"
    );
}
