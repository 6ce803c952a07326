//! Scenarios that describe unbounded work stop quickly with exit code 2 and a message that
//! says what ran away and what to change: caught at validation when an estimate shows it,
//! at run time (deterministically, by simulated counts) when it cannot be known before.
//! Each runs under a memory cap, so a limit that failed to hold would kill the process
//! instead of passing.

use crate::common;
use std::path::Path;
use std::process::Command;

/// Runs `resim ARGS` in `dir` under a 2 GiB cap on virtual memory (the project's promise);
/// returns the exit code and stderr.
fn capped(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = format!("ulimit -v {}; exec \"$0\"", 2 * 1024 * 1024);
    for (i, _) in args.iter().enumerate() {
        cmd.push_str(&format!(" \"${}\"", i + 1));
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .arg(env!("CARGO_BIN_EXE_resim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("sh starts");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A client against one service, with the given arrival and service time.
fn system(top: &str, arrival: &str, service_time: &str, extra: &str) -> String {
    format!(
        "name = \"limits\"\n{top}\n[[client]]\nname = \"u\"\ntarget = \"api\"\narrival = {arrival}\n\n[[service]]\nname = \"api\"\nservice_time = {service_time}\n{extra}"
    )
}

fn run_file(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.toml"), text).expect("written");
    capped(dir.path(), &["run", "s.toml", "--quiet", "--out", "o"])
}

#[test]
fn a_zero_time_loop_stops_naming_who_loops() {
    let text = system(
        "duration = \"10s\"",
        "{ kind = \"closed\", users = 3, think_time = { kind = \"constant\", value = \"0s\" } }",
        "{ kind = \"constant\", value = \"0s\" }",
        "",
    );
    let (code, err) = run_file(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("simulated time stood still at 0.000000 s"),
        "{err}"
    );
    assert!(err.contains("client `u` sends a request"), "{err}");
    assert!(err.contains("give one of them a duration"), "{err}");
}

#[test]
fn work_that_outgrows_max_pending_stops_as_an_overload() {
    // Ten times the capacity, an unbounded queue and a timeout longer than the run.
    let text = system(
        "duration = \"1h\"\nmax_pending = 200000",
        "{ kind = \"poisson\", rate_per_s = 10000 }\ntimeout = \"10h\"",
        "{ kind = \"constant\", value = \"1ms\" }\nqueue = \"unbounded\"",
        "",
    );
    let (code, err) = run_file(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("more than `max_pending` = 200000"), "{err}");
    assert!(err.contains("work arrives faster than it ends"), "{err}");
}

#[test]
fn a_draw_past_the_end_of_time_is_named_not_blamed_on_the_budget() {
    let text = system(
        "duration = \"10s\"",
        "{ kind = \"poisson\", rate_per_s = 100 }",
        "{ kind = \"pareto\", scale = \"1ms\", shape = 0.01 }",
        "",
    );
    let (code, err) = run_file(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("after the end of representable simulated time"),
        "{err}"
    );
    assert!(err.contains("`api[0]` finishes its own work"), "{err}");
    assert!(!err.contains("budget"), "{err}");
}

#[test]
fn estimates_refuse_floods_at_the_value_responsible() {
    let cases = [
        (
            system(
                "duration = \"5m\"",
                "{ kind = \"poisson\", rate_per_s = 1e12 }",
                "{ kind = \"constant\", value = \"1ms\" }",
                "",
            ),
            "arrival = {",
            "client `u` would send about 3.0e14 requests",
        ),
        (
            system(
                "duration = \"5m\"",
                "{ kind = \"poisson\", rate_per_s = 10, phases = [{ from = \"1m\", to = \"2m\", rate_per_s = 1e300 }] }",
                "{ kind = \"constant\", value = \"1ms\" }",
                "",
            ),
            "arrival = {",
            "would send about 6.0e301 requests",
        ),
        (
            system(
                "duration = \"5m\"",
                "{ kind = \"closed\", users = 4294967295, think_time = { kind = \"constant\", value = \"1s\" } }",
                "{ kind = \"constant\", value = \"1ms\" }",
                "",
            ),
            "arrival = {",
            "has 4294967295 users",
        ),
        (
            system(
                "duration = \"5m\"",
                "{ kind = \"poisson\", rate_per_s = 10 }",
                "{ kind = \"constant\", value = \"1ms\" }\nreplicas = 100",
                "\n[[fault]]\nname = \"flap\"\nkind = \"crash\"\ntarget = \"api\"\nmtbf = \"1ns\"\nmttr = \"1ns\"\n",
            ),
            "[[fault]]",
            "fault `flap` would turn on and off about",
        ),
        (
            system(
                "duration = \"5m\"",
                "{ kind = \"poisson\", rate_per_s = 10 }",
                "{ kind = \"constant\", value = \"1ms\" }",
                "\n[[fault]]\nname = \"monkey\"\nkind = \"chaos_monkey\"\ntargets = [\"api\"]\ninterval = \"1ns\"\ndowntime = \"1ns\"\n",
            ),
            "[[fault]]",
            "fault `monkey` would turn on and off",
        ),
        (
            system(
                "duration = \"1ms\"\nbucket = \"1ns\"",
                "{ kind = \"poisson\", rate_per_s = 10 }",
                "{ kind = \"constant\", value = \"1ms\" }",
                "\n[[service]]\nname = \"db\"\nservice_time = { kind = \"constant\", value = \"1ms\" }\n",
            ),
            "bucket = ",
            "about 3000000 rows (1000000 buckets x (1 + 2 services)), more than `max_result_rows` = 2000000",
        ),
        (
            system(
                "duration = \"30s\"\nmax_result_rows = 100",
                "{ kind = \"poisson\", rate_per_s = 10 }",
                "{ kind = \"constant\", value = \"1ms\" }",
                "\n[[queue]]\nname = \"a\"\n\n[[queue]]\nname = \"b\"\n",
            ),
            "duration = ",
            "about 120 rows (30 buckets x (1 + 1 services) + 2 queues x 30 buckets from time zero), more than `max_result_rows` = 100",
        ),
    ];
    for (text, needle, says) in cases {
        let line = 1 + text
            .lines()
            .position(|l| l.contains(needle))
            .expect("needle");
        let (code, err) = run_file(&text);
        assert_eq!(code, Some(2), "{says}: {err}");
        let place = format!("s.toml:{line}:");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&place) && l.contains(says)),
            "{place} {says}\n{err}"
        );
        // `validate` says the same without running.
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("s.toml"), &text).expect("written");
        let out = common::resim(dir.path(), &["validate", "s.toml"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(says));
    }
}

/// A client sending 10 messages a second for `duration` to a queue `jobs`, consumed by
/// `worker`; `top` is added to the top-level keys, `queue` to the queue's.
fn queued(top: &str, queue: &str) -> String {
    format!(
        "name = \"q\"\n{top}\n[[client]]\nname = \"web\"\ntarget = \"jobs\"\narrival = {{ kind = \"constant\", rate_per_s = 10 }}\n\n[[queue]]\nname = \"jobs\"\nconsumer = \"worker\"\n{queue}\n[[service]]\nname = \"worker\"\nservice_time = {{ kind = \"constant\", value = \"1ms\" }}\n"
    )
}

#[test]
fn queues_that_change_long_after_the_end_stop_at_the_row_limit() {
    // queues.csv has a row per bucket up to a queue's last change: messages arriving
    // 100000h later asked for 360 million rows (an out-of-memory abort), 2000h later for
    // 7.2 million (a 308 MB file), and poison messages redelivered every 30s until a drain
    // of 4000000h for 14 billion.
    for (top, queue, at) in [
        (
            "duration = \"1s\"\n[network]\nlatency = { kind = \"constant\", value = \"100000h\" }",
            "",
            "360000000.",
        ),
        (
            "duration = \"1s\"\n[network]\nlatency = { kind = \"constant\", value = \"2000h\" }",
            "",
            "7200000.",
        ),
        (
            "duration = \"1s\"\ndrain = \"4000000h\"",
            "poison = 1.0",
            "20000",
        ),
    ] {
        let (code, err) = run_file(&queued(top, queue));
        assert_eq!(code, Some(2), "{top}: {err}");
        assert!(
            err.contains(
                "would write more than `max_result_rows` = 2000000 result rows: queue `jobs` still changed at "
            ) && err.contains(at),
            "{top}: {err}"
        );
        assert!(err.contains("or raise `max_result_rows`"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn queue_rows_after_the_end_count_to_the_exact_limit() {
    // 10 buckets x (1 + 1 service) + 30 queue rows: messages sent in the first 10 s
    // arrive, and are acknowledged, 20 s later.
    let text = |limit: u64| {
        queued(
            &format!(
                "duration = \"10s\"\nmax_result_rows = {limit}\n[network]\nlatency = {{ kind = \"constant\", value = \"20s\" }}"
            ),
            "",
        )
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.toml"), text(50)).expect("written");
    let (code, err) = capped(dir.path(), &["run", "s.toml", "--quiet", "--out", "o"]);
    assert_eq!(code, Some(0), "{err}");
    let rows = common::csv_rows(&dir.path().join("o/queues.csv"));
    assert_eq!(rows.len(), 30);
    assert_eq!(rows[29]["t_s"], "29");
    let (code, err) = run_file(&text(49));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "more than `max_result_rows` = 49 result rows: queue `jobs` still changed at 29."
        ),
        "{err}"
    );
}

#[test]
fn limits_are_keys_of_the_scenario_and_must_be_positive() {
    let text = system(
        "duration = \"10s\"\nmax_pending = 0\nmax_events_at_one_time = -3\nmax_result_rows = 0",
        "{ kind = \"poisson\", rate_per_s = 10 }",
        "{ kind = \"constant\", value = \"1ms\" }",
        "",
    );
    let (code, err) = run_file(&text);
    assert_eq!(code, Some(2), "{err}");
    for key in ["max_pending", "max_events_at_one_time", "max_result_rows"] {
        assert!(err.contains(&format!("`{key}` is ")), "{key}: {err}");
    }
}

#[test]
fn a_study_with_too_many_runs_is_refused_before_it_starts() {
    let values: Vec<String> = (1..=150).map(|v| v.to_string()).collect();
    let text = system(
        "duration = \"1s\"",
        "{ kind = \"poisson\", rate_per_s = 1 }",
        "{ kind = \"constant\", value = \"1ms\" }",
        &format!(
            "\n[sweep]\n\"client.u.arrival.rate_per_s\" = [{}]\n",
            values.join(", ")
        ),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.toml"), text).expect("written");
    let (code, err) = capped(
        dir.path(),
        &[
            "run", "s.toml", "--seeds", "1000000", "--quiet", "--out", "o",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("the study has 150000000 runs (1 variant(s) x 150 point(s) x 1000000 seed(s)); expected at most 100000000"),
        "{err}"
    );
}

/// A client whose every call times out behind a breaker that moves between open and
/// half-open on its own timers (Resilience4j's `automaticTransitionFromOpenToHalfOpenEnabled`
/// with `maxWaitDurationInHalfOpenState`).
const CYCLING_BREAKER: &str = r#"circuit_breaker = { min_calls = 1, open_for = "10ms", automatic_half_open = true, max_wait_in_half_open = "5ms" }"#;

/// Runs `text` (a 1 s scenario with a [`CYCLING_BREAKER`]) and checks that the run ends and
/// that the breaker cycled while requests were sent, its log ending soon after 1 s. The
/// scenarios give their clients short timeouts, so that soon after 1 s nothing but the
/// breaker's own timers is pending: a client's timeout lane would otherwise keep the breaker
/// cycling, rightly, until its last entry (30 s by default).
fn breaker_log_ends_with_the_run(text: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("b.toml"), text).expect("written");
    let (code, stderr) = capped(dir.path(), &["run", "b.toml", "--out", "o"]);
    assert_eq!(code, Some(0), "{stderr}");
    let rows = common::csv_rows(&dir.path().join("o/policies.csv"));
    let breaker: Vec<_> = rows
        .iter()
        .filter(|r| r["policy"] == "circuit_breaker")
        .collect();
    // It opened (every call times out) and kept cycling while requests were sent.
    assert!(breaker.len() > 20, "{} breaker rows", breaker.len());
    let last: f64 = breaker.last().expect("rows")["t_s"]
        .parse()
        .expect("a time");
    assert!(
        last < 1.1,
        "the breaker's log ends soon after the run's 1 s: {last} s"
    );
}

/// A 1 s scenario named `name`: a client whose every call to `api` times out behind a
/// [`CYCLING_BREAKER`], followed by `extra` (more clients, queues and services).
fn cycling_breaker_scenario(name: &str, extra: &str) -> String {
    format!(
        r#"
name = "{name}"
duration = "1s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 100 }}
timeout = "1us"
{CYCLING_BREAKER}
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
{extra}"#
    )
}

/// A breaker cycling on its own timers kept the run going forever once the traffic had
/// stopped, its log growing until memory ran out. The run now ends once only such timers are
/// left after the run's time, and the breaker's log ends there too.
#[test]
fn a_breaker_cycling_on_its_own_timers_lets_the_run_end() {
    breaker_log_ends_with_the_run(&cycling_breaker_scenario("breaker-timers", ""));
}

/// Messages that stay stored for good (here in a dead-letter queue without a consumer) are
/// not live work: they cannot consult a breaker, so they do not keep a cycling breaker's
/// run going.
#[test]
fn messages_left_in_a_dead_letter_queue_do_not_keep_a_cycling_breaker_going() {
    let poison = r#"
[[client]]
name = "producer"
target = "jobs"
arrival = { kind = "poisson", rate_per_s = 50 }
timeout = "10ms"
[[queue]]
name = "jobs"
consumer = "worker"
visibility_timeout = "10ms"
max_receives = 1
dead_letter = "dlq"
poison = 1.0
[[queue]]
name = "dlq"
[[service]]
name = "worker"
service_time = { kind = "constant", value = "1ms" }
"#;
    breaker_log_ends_with_the_run(&cycling_breaker_scenario("breaker-timers-dlq", poison));
}

/// A breaker timer held back by a hang dies with the process when it crashes during the
/// hang; it used to stay counted as armed, so after the restart the breaker's own timers
/// kept the run going forever.
#[test]
fn a_breaker_timer_lost_in_a_crash_during_a_hang_does_not_keep_the_run_going() {
    breaker_log_ends_with_the_run(&format!(
        r#"
name = "breaker-crash-in-hang"
duration = "1s"
[[client]]
name = "web"
target = "front"
arrival = {{ kind = "poisson", rate_per_s = 200 }}
timeout = "5ms"
[[service]]
name = "front"
service_time = {{ kind = "constant", value = "1ms" }}
calls = [{{ to = "api", timeout = "1us", {CYCLING_BREAKER} }}]
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
[[fault]]
name = "freeze"
kind = "hang"
target = "front"
at = "300ms"
for = "200ms"
[[fault]]
name = "kill"
kind = "crash"
target = "front"
at = "400ms"
for = "100ms"
"#
    ));
}
