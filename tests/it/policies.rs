//! Call-path policies end to end: retries, budgets, deadlines and their propagation,
//! circuit breakers and fallbacks, with numbers.

use crate::common;
use resim::metrics::recovery::Recovery;

/// A shipped scenario's system without its variants and expectations, which these tests
/// replace by editing the text.
fn shipped(name: &str) -> String {
    let text = std::fs::read_to_string(common::root().join("scenarios").join(name))
        .expect("shipped scenario");
    let end = ["\n[[variant]]", "\n[expect"]
        .iter()
        .filter_map(|h| text.find(h))
        .min()
        .unwrap_or(text.len());
    text[..end].to_string()
}

/// The retry storm: a 3 s hang at load 0.625 tips the API into an overload that outlasts the
/// hang by the rest of the run (every timeout brings a retry, abandoned work is still
/// served); a 10% retry budget, or deadline propagation, lets it recover within seconds.
#[test]
fn retry_storm_collapses_without_a_budget_and_recovers_with_one_or_with_deadlines() {
    let storm = common::run(&shipped("retry-storm.toml"), 1);
    assert_eq!(
        storm.recovery,
        Recovery::Never,
        "the storm should outlast the 3 s hang"
    );
    assert!(storm.metrics.totals.availability().expect("requests") < 0.5);
    assert!(storm.metrics.policy.retries > storm.metrics.totals.requests / 2);

    let budget = common::run(&shipped("retry-storm-budget.toml"), 1);
    match budget.recovery {
        Recovery::Seconds(s) => assert!(s < 30.0, "recovered after {s} s"),
        other => panic!("expected recovery with a budget, got {other:?}"),
    }
    assert!(budget.metrics.policy.budget_refused > 0);
    // The budget's allowance: 10% of requests plus 5/s over 10 s windows.
    let allowance = budget.metrics.totals.requests as f64 * 0.10 + 5.0 * 240.0;
    assert!(
        (budget.metrics.policy.retries as f64) <= allowance,
        "{} retries",
        budget.metrics.policy.retries
    );

    let deadline = common::run(&shipped("retry-storm-deadline.toml"), 1);
    match deadline.recovery {
        Recovery::Seconds(s) => assert!(s < 30.0, "recovered after {s} s"),
        other => panic!("expected recovery with deadline propagation, got {other:?}"),
    }
    assert!(
        deadline.metrics.policy.dropped > 0,
        "abandoned attempts are dropped at dequeue"
    );
}

fn flaky(extra: &str) -> String {
    format!(
        r#"
name = "flaky"
duration = "60s"
warmup = "5s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 500 }}
timeout = "1s"
{extra}
[[service]]
name = "api"
concurrency = 64
service_time = {{ kind = "exponential", mean = "2ms" }}
error_rate = 0.2
"#
    )
}

/// Independent failures with probability p: with 3 attempts a request fails with p^3
/// (0.008 for p = 0.2) and makes 1 + p + p^2 = 1.24 attempts on average.
#[test]
fn retries_turn_p_into_p_cubed() {
    let run = common::run(
        &flaky(
            "retry = { max_attempts = 3, backoff = { kind = \"constant\", delay = \"1ms\" }, retry_on = [\"error\"] }",
        ),
        2,
    );
    let t = &run.metrics.totals;
    let failure = t.failed() as f64 / t.requests as f64;
    assert!((failure - 0.008).abs() < 0.0015, "failure rate {failure}");
    let attempts = t.attempts as f64 / t.requests as f64;
    assert!(
        (attempts - 1.24).abs() < 0.01,
        "{attempts} attempts per request"
    );
    assert_eq!(
        run.metrics.policy.retries,
        t.attempts - t.requests,
        "every attempt after the first is a retry"
    );
    // Without retries the failure rate is p.
    let plain = common::run(&flaky(""), 2);
    let p = plain.metrics.totals.errors as f64 / plain.metrics.totals.requests as f64;
    assert!((p - 0.2).abs() < 0.01, "{p}");
}

/// A deadline bounds the whole request: retries that would start after it are not made
/// (the call then fails at its deadline, as a timeout, as in gRPC), and no success takes
/// longer than it.
#[test]
fn a_deadline_bounds_every_request() {
    let text = flaky("deadline = \"25ms\"\nretry = { max_attempts = 10, backoff = { kind = \"constant\", delay = \"10ms\" } }")
        .replace("mean = \"2ms\"", "mean = \"5ms\"");
    let run = common::run(&text, 3);
    let l = run.metrics.latency.expect("successes");
    assert!(
        l.max_ns <= 25_000_000,
        "a success after the deadline: {} ns",
        l.max_ns
    );
    // Waits of 10 ms after each failure: at most 3 attempts fit in 25 ms.
    let attempts = run.metrics.totals.attempts as f64 / run.metrics.totals.requests as f64;
    assert!(attempts < 1.3, "{attempts}");
    assert!(run.metrics.totals.timeouts > 0);
}

/// A client's circuit breaker in front of a dead service: it opens, refuses calls at once
/// (short_circuited), probes in half-open, and closes once the service is back. With a
/// fallback, the refused calls are answered degraded instead.
#[test]
fn a_breaker_short_circuits_a_dead_dependency_and_closes_after_it_returns() {
    let text = r#"
name = "breaker"
duration = "60s"
warmup = "5s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 200 }
timeout = "100ms"
circuit_breaker = { window = { kind = "count", size = 20 }, min_calls = 10, failure_rate = 0.5, open_for = "2s", half_open_calls = 3 }
[[service]]
name = "api"
concurrency = 16
service_time = { kind = "exponential", mean = "2ms" }
[[fault]]
kind = "crash"
target = "api"
at = "20s"
for = "10s"
"#;
    let run = common::run(text, 4);
    let t = &run.metrics.totals;
    assert!(t.short_circuited > 1500, "{t:?}");
    assert!(
        t.errors < 200,
        "the breaker opens after a few failures: {t:?}"
    );
    let states: Vec<&str> = run
        .metrics
        .policy_log
        .events
        .iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(states.first(), Some(&"open"));
    assert_eq!(states.last(), Some(&"closed"), "{states:?}");
    assert!(states.contains(&"half_open"));
    let opened = run.metrics.policy_log.events[0].time.as_nanos();
    assert!(
        (20_000_000_000..20_200_000_000).contains(&opened),
        "opened at {opened}"
    );
    let closed = run
        .metrics
        .policy_log
        .events
        .last()
        .expect("events")
        .time
        .as_nanos();
    assert!(
        (30_000_000_000..32_100_000_000).contains(&closed),
        "closed at {closed}"
    );
    // Outside the crash (and the requests in flight when it began), every request succeeds.
    let outside: u64 = run
        .metrics
        .buckets
        .iter()
        .filter(|b| !(19..32).contains(&(b.start.as_nanos() / 1_000_000_000)))
        .map(|b| b.counts.failed())
        .sum();
    assert_eq!(outside, 0);

    let fallback = common::run(
        &text.replace(
            "[[service]]",
            "fallback = { on = [\"error\", \"short_circuited\"] }\n[[service]]",
        ),
        4,
    );
    let f = &fallback.metrics.totals;
    assert_eq!(f.short_circuited + f.errors, 0, "{f:?}");
    assert_eq!(f.degraded, t.short_circuited + t.errors);
    assert_eq!(f.availability(), Some(1.0));
}

/// The shipped breaker scenario: the API's breaker on its call to a hung service opens, and
/// its fallback keeps users served (degraded) while the dependency is down.
#[test]
fn the_breaker_scenario_keeps_users_served() {
    let run = common::run(&shipped("breaker.toml"), 1);
    let t = &run.metrics.totals;
    assert!(t.degraded > 10_000, "{t:?}");
    assert!(t.availability().expect("requests") > 0.99);
    assert!(
        run.metrics
            .policy_log
            .events
            .iter()
            .any(|e| e.event == "open")
    );
    assert!(
        run.metrics
            .policy_log
            .sites
            .iter()
            .any(|s| s == "api[0]->recommendations")
    );
}

/// Retries over a link that loses 2% of responses: the payment service executes those
/// requests twice (duplicates, one per retry of a lost response); with an idempotency store
/// it replays its first answer instead, and with `idempotent = true` nothing is counted.
/// Same seed, same traffic, same losses.
#[test]
fn retries_duplicate_work_unless_the_service_is_idempotent() {
    let text = shipped("idempotency.toml");
    let plain = common::run(&text, 1);
    let dup = plain.metrics.policy.duplicates;
    assert!(dup > 300, "{dup} duplicates");
    // Lost responses are 2% of executions, and each brings a retry that executes again.
    let expected = plain.metrics.totals.requests as f64 * 0.02;
    assert!(
        (dup as f64 - expected).abs() < expected * 0.2,
        "{dup} duplicates, about {expected} expected"
    );
    let store = common::run(
        &text.replace("idempotent = false", "idempotency = { ttl = \"24h\" }"),
        1,
    );
    assert_eq!(store.metrics.policy.duplicates, 0);
    assert_eq!(
        store.metrics.policy.retries, plain.metrics.policy.retries,
        "the same retries, replayed"
    );
    assert_eq!(store.metrics.totals.availability(), Some(1.0));
    let harmless = common::run(&text.replace("idempotent = false", "idempotent = true"), 1);
    assert_eq!(harmless.metrics.policy.duplicates, 0);
}

/// Hedging after a fixed 40 ms: about as many extra attempts as first attempts slower than
/// that, P(X > 39.5 ms) = 1 - Phi(ln(39.5 / 10) / 1.288) = 0.143 for the lognormal with
/// median 10 ms and p99 200 ms (0.5 ms of the 40 go to the network), and a far lower p99.
#[test]
fn hedging_cuts_the_tail_for_the_extra_attempts_its_delay_implies() {
    let text = shipped("hedging.toml");
    let fixed = common::run(&text.replace("after = \"p95\"", "after = \"40ms\""), 1);
    let t = &fixed.metrics.totals;
    let extra = fixed.metrics.policy.hedges as f64 / t.requests as f64;
    assert!((extra - 0.143).abs() < 0.01, "{extra} hedges per request");
    // Attempts of counted requests against hedges sent inside the window: equal but for the
    // requests at the window's edges.
    let sent = (t.requests + fixed.metrics.policy.hedges) as f64;
    assert!(
        (t.attempts as f64 - sent).abs() < sent * 0.002,
        "{} attempts, {sent}",
        t.attempts
    );
    let plain = common::run(
        &text.replace("hedge = { after = \"p95\", max_extra = 1 }", ""),
        1,
    );
    let p99 = |r: &resim::RunResult| r.metrics.latency.expect("latency").p99_ns as f64 / 1e6;
    assert!(
        p99(&fixed) < p99(&plain) / 2.0,
        "p99 {} ms hedged, {} ms plain",
        p99(&fixed),
        p99(&plain)
    );
    // The shipped scenario hedges after the running p95 of the attempts that answered first.
    let p95 = common::run(&text, 1);
    assert!(p99(&p95) < p99(&plain) / 2.0);
    assert_eq!(p95.metrics.totals.availability(), Some(1.0));
}

/// `scope = "target"`: a replica's call entries to one target share one breaker (gRPC and
/// Envoy keep breaker state per upstream). Two calls to a failing database per request,
/// the first answered by a fallback so that the second is made too: shared, both calls'
/// failures count together and the breaker opens after three requests; per entry, each
/// breaker needs five failures of its own.
#[test]
fn call_entries_to_one_target_can_share_a_breaker() {
    let text = |scope: &str| {
        format!(
            r#"name = "shared"
duration = "10s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = 10 }}
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
calls = [
  {{ to = "db", circuit_breaker = {{ kind = "consecutive_failures", failures = 5, open_for = "1m"{scope} }}, fallback = {{}} }},
  {{ to = "db", circuit_breaker = {{ kind = "consecutive_failures", failures = 5, open_for = "1m"{scope} }}, fallback = {{}} }},
]
[[service]]
name = "db"
service_time = {{ kind = "constant", value = "1ms" }}
error_rate = 1.0
"#
        )
    };
    let opened = |run: &resim::RunResult| -> Vec<(String, f64)> {
        let log = &run.metrics.policy_log;
        log.events
            .iter()
            .filter(|e| e.event == "open")
            .map(|e| {
                (
                    log.sites[e.site as usize].clone(),
                    e.time.as_nanos() as f64 / 1e9,
                )
            })
            .collect()
    };
    let own = common::run(&text(""), 1);
    let shared = common::run(&text(", scope = \"target\""), 1);
    let own = opened(&own);
    let shared = opened(&shared);
    let sites: Vec<&str> = own.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sites, ["api[0]->db#0", "api[0]->db#1"], "{own:?}");
    assert_eq!(shared.len(), 1, "one shared breaker: {shared:?}");
    assert_eq!(shared[0].0, "api[0]->db");
    // Requests every 100 ms from 0.1 s: per entry, the fifth request (0.5 s) opens both;
    // shared, the third (0.3 s) does.
    assert!(
        (own[0].1 - 0.5).abs() < 0.01 && (own[1].1 - 0.5).abs() < 0.01,
        "{own:?}"
    );
    assert!((shared[0].1 - 0.3).abs() < 0.01, "{shared:?}");
}

/// A retry budget with `scope = "target"` is one per replica and target, as gRPC keeps its
/// retry throttling per server name and an AWS SDK client its quota: two call entries to a
/// failing database draw on one AWS quota of 20 (4 retries at cost 5), not on two.
#[test]
fn call_entries_to_one_target_can_share_a_retry_budget() {
    let text = |scope: &str| {
        format!(
            r#"name = "shared-budget"
duration = "10s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = 10 }}
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
calls = [
  {{ to = "db", retry = {{ max_attempts = 2, backoff = {{ kind = "constant", delay = "1ms" }} }}, retry_budget = {{ kind = "quota", capacity = 20{scope} }}, fallback = {{}} }},
  {{ to = "db", retry = {{ max_attempts = 2, backoff = {{ kind = "constant", delay = "1ms" }} }}, retry_budget = {{ kind = "quota", capacity = 20{scope} }}, fallback = {{}} }},
]
[[service]]
name = "db"
service_time = {{ kind = "constant", value = "1ms" }}
error_rate = 1.0
"#
        )
    };
    let own = common::run(&text(""), 1);
    let shared = common::run(&text(", scope = \"target\""), 1);
    assert_eq!(own.metrics.policy.retries, 8, "two quotas of four retries");
    assert_eq!(
        shared.metrics.policy.retries, 4,
        "one quota of four retries"
    );
    assert_eq!(shared.metrics.policy_log.sites[1], "api[0]->db");
}

/// `order` places each admission gate inside or outside the retry: a breaker listed before
/// the retry wraps the whole call; listed after it, or not listed, it guards each attempt.
#[test]
fn order_places_the_breaker_inside_or_outside_the_retry() {
    use resim::scenario::policy::{Gate, Layer};
    let gates = |order: &str| {
        let text = format!(
            r#"name = "order"
duration = "1s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 10 }}
retry = {{}}
circuit_breaker = {{}}
{order}
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
"#
        );
        common::scenario(&text).clients[0].policy.gates.clone()
    };
    assert_eq!(
        gates(r#"order = ["circuit_breaker", "retry"]"#),
        [(Gate::CircuitBreaker, Layer::Call)]
    );
    assert_eq!(
        gates(r#"order = ["retry", "circuit_breaker"]"#),
        [(Gate::CircuitBreaker, Layer::Attempt)]
    );
    assert_eq!(gates(""), [(Gate::CircuitBreaker, Layer::Attempt)]);
    assert_eq!(
        gates(r#"order = ["retry"]"#),
        [(Gate::CircuitBreaker, Layer::Attempt)],
        "an unlisted gate takes its canonical place"
    );
}
