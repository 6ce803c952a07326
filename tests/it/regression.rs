//! One test per fixed bug, named after it.

use crate::common;

/// Half-open trial permits held by hedges that lost the race (or by attempts cut off by a
/// deadline, or killed by a crash) were never given back, so the breaker stayed half-open,
/// refusing every call, long after the target recovered. Found in review.
#[test]
fn breaker_permits_of_abandoned_attempts_are_given_back() {
    let text = r#"
name = "hedge-half-open"
duration = "60s"
bucket = "5s"
[network]
latency = { kind = "constant", value = "500us" }
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 100 }
timeout = "1s"
hedge = { after = "1ms", max_extra = 1 }
circuit_breaker = { window = { kind = "count", size = 10 }, min_calls = 5, failure_rate = 0.5, open_for = "1s", half_open_calls = 2 }
[[service]]
name = "api"
replicas = 2
concurrency = 16
service_time = { kind = "lognormal", median = "2ms", p99 = "30ms" }
[[fault]]
kind = "crash"
target = "api[0]"
at = "10s"
for = "5s"
"#;
    for seed in 1..=4 {
        let run = common::run(text, seed);
        let last = run
            .metrics
            .policy_log
            .events
            .last()
            .expect("the breaker opened");
        assert_eq!(
            last.event, "closed",
            "seed {seed}: the breaker ends {}",
            last.event
        );
        // After the crash (and a little for the breaker to close) every request succeeds.
        let late_failures: u64 = run
            .metrics
            .buckets
            .iter()
            .filter(|b| b.start.as_nanos() >= 25_000_000_000)
            .map(|b| b.counts.failed())
            .sum();
        assert_eq!(late_failures, 0, "seed {seed}");
    }
}

/// A `duration` past 1,000,000 s without a `bucket` passed validation (only an explicit
/// bucket was checked against the row limit), and the run then tried to allocate one
/// time-series row per second: "memory allocation of 1439999997600 bytes failed" (an
/// abort) for `duration = "5000000h"`. Found by the fuzzer (`tests/fuzz.rs`).
#[test]
fn default_bucket_rows_are_capped_like_an_explicit_bucket() {
    let text = r#"name = "long"
duration = "5000000h"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 1 }
[[service]]
name = "api"
service_time = { kind = "constant", value = "1ms" }
"#;
    let err = resim::Scenario::from_text(text, "long.toml").expect_err("too many rows");
    let shown = err.to_string();
    assert!(
        shown.starts_with("long.toml:2:12: `duration` (18000000000s) would give the time series more than 1000000 rows of the default `bucket` (1s); expected a duration of at most 1000000s, or a `bucket` of at least 18000s"),
        "{shown}"
    );
    // At the limit, and with a bucket wide enough, the same duration is fine.
    common::scenario(&text.replace("5000000h", "1000000s"));
    // (At a rate low enough that its requests fit in `max_events`.)
    common::scenario(
        &text
            .replace(
                "duration = \"5000000h\"",
                "duration = \"5000000h\"\nbucket = \"5h\"",
            )
            .replace("rate_per_s = 1 }", "rate_per_s = 0.01 }"),
    );
}

/// Issue 8, item 3: with the breaker outside the retry, a caller that crashed during the
/// retry wait lost the call's permit, and the half-open breaker waited for it forever:
/// availability stayed 0 after the database recovered at 30 s. The crash now gives the
/// permit back, and a restarted replica starts with fresh breakers and budgets.
#[test]
fn a_callers_crash_does_not_leave_its_breaker_half_open_for_good() {
    let text = r#"name = "stuck"
duration = "60s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 50 }
timeout = "10s"
[[service]]
name = "api"
concurrency = 64
queue = "unbounded"
service_time = { kind = "constant", value = "1ms" }
calls = [{ to = "db", timeout = "1s", retry = { max_attempts = 2, backoff = { kind = "constant", delay = "3s" } }, circuit_breaker = { kind = "consecutive_failures", failures = 5, open_for = "1s" }, order = ["circuit_breaker", "retry"] }]
[[service]]
name = "db"
service_time = { kind = "constant", value = "1ms" }
[[fault]]
kind = "errors"
target = "db"
rate = 1.0
at = "10s"
for = "20s"
[[fault]]
kind = "crash"
target = "api[0]"
at = "15s"
for = "500ms"
"#;
    let run = common::run(text, 1);
    let after: Vec<f64> = run
        .metrics
        .buckets
        .iter()
        .filter(|b| b.start.as_nanos() >= 32_000_000_000 && b.start.as_nanos() < 50_000_000_000)
        .filter_map(|b| b.counts.availability())
        .collect();
    assert!(!after.is_empty());
    assert!(after.iter().all(|&a| a == 1.0), "{after:?}");
    let log = &run.metrics.policy_log;
    let last = log
        .events
        .iter()
        .rfind(|e| e.policy == "circuit_breaker")
        .expect("breaker events");
    assert_eq!(last.event, "closed");
}
