//! Caller-side bulkheads (Resilience4j's semaphore bulkhead): the concurrency bound, the
//! wait for a slot, and the scenario of a hanging dependency.

use crate::common;
use resim::run::RunResult;

/// A client sending every 20 ms (50/s, constant) to a service whose requests take 110 ms;
/// `bulkhead` is the client's bulkhead table, if any.
fn client_with(bulkhead: &str) -> String {
    format!(
        r#"name = "bulkhead"
duration = "12s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = 50 }}
{bulkhead}
[[service]]
name = "api"
concurrency = 100
service_time = {{ kind = "constant", value = "110ms" }}
"#
    )
}

fn busy(r: &RunResult) -> f64 {
    r.metrics.services[0].mean_busy
}

/// Without a bulkhead 50/s x 110 ms = 5.5 requests are in service on average; with two
/// slots never more than 2: two calls get in, the next four find it full and fail as
/// `bulkhead_full` unsent, and the pair after them gets in once the first two answer
/// (every 120 ms): a third of the requests.
#[test]
fn a_bulkhead_bounds_the_calls_in_flight_and_refuses_the_rest() {
    let free = common::run(&client_with(""), 1);
    assert!((busy(&free) - 5.5).abs() < 0.05, "{}", busy(&free));
    let r = common::run(&client_with("bulkhead = { max_concurrent = 2 }"), 1);
    assert!(busy(&r) <= 2.0 && busy(&r) > 1.7, "{}", busy(&r));
    let t = &r.metrics.totals;
    assert_eq!(t.failed(), t.bulkhead_full);
    let admitted = t.ok as f64 / t.requests as f64;
    assert!((admitted - 1.0 / 3.0).abs() < 0.02, "{admitted}");
    assert_eq!(t.attempts, t.ok, "a refused call is never sent");
}

/// With `max_wait`, a call that finds the bulkhead full waits for a slot, in arrival
/// order, up to that long: more calls get in, and none waited longer (every success took
/// at most 110 ms + 25 ms).
#[test]
fn a_call_waits_for_a_slot_up_to_max_wait() {
    let refuse = common::run(&client_with("bulkhead = { max_concurrent = 2 }"), 1);
    let wait = common::run(
        &client_with(r#"bulkhead = { max_concurrent = 2, max_wait = "25ms" }"#),
        1,
    );
    assert!(wait.metrics.totals.ok > refuse.metrics.totals.ok);
    let max_ms = wait.metrics.latency.as_ref().expect("successes").max_ns as f64 / 1e6;
    assert!(max_ms <= 135.0, "{max_ms}");
    assert!(max_ms > 110.0, "some call waited: {max_ms}");
    assert!(busy(&wait) <= 2.0);
    let t = &wait.metrics.totals;
    assert_eq!(t.failed(), t.bulkhead_full);
}

/// `scenarios/bulkhead.toml`: recommendations hang for a minute. Without a bulkhead the
/// gateway's workers all wait on them and it refuses most requests; with 4 slots for
/// those calls, the other 12 workers per replica keep serving, and the fallback answers
/// without recommendations.
#[test]
fn a_bulkhead_keeps_the_caller_alive_while_a_dependency_hangs() {
    let study = resim::Study::load(&common::root().join("scenarios/bulkhead.toml"))
        .expect("shipped scenario");
    for cell in &study.cells {
        let r = resim::run_one(&cell.scenario, cell.scenario.seed).expect("runs");
        let availability = r.metrics.totals.availability().expect("requests");
        if cell.variant == "base" {
            assert!(availability < 0.7, "{availability}");
        } else {
            assert!(availability > 0.99, "{}: {availability}", cell.variant);
        }
    }
}

/// A client sending Poisson 8/s to a 100 ms service through `policies` (its policy keys).
fn guarded(policies: &str) -> String {
    format!(
        r#"name = "guarded"
duration = "120s"
warmup = "5s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 8 }}
{policies}
[[service]]
name = "api"
concurrency = 100
service_time = {{ kind = "constant", value = "100ms" }}
"#
    )
}

/// Regression: a call that passed its rate limiter and then waited for a bulkhead slot
/// keeps its permit: it is not charged a second one when the slot comes (Resilience4j's
/// RateLimiter(Bulkhead(f)) takes one permit per call). A binding one-slot bulkhead then
/// refuses no more calls at the limiter than a bulkhead that never binds.
#[test]
fn a_call_waiting_for_a_slot_keeps_its_rate_limit_permit() {
    let limited = |slots: u32| {
        let r = common::run(
            &guarded(&format!(
                "rate_limit = {{ kind = \"fixed_window\", limit = 8, period = \"1s\" }}\nbulkhead = {{ max_concurrent = {slots}, max_wait = \"10s\" }}"
            )),
            1,
        );
        r.metrics.totals.rate_limited
    };
    let (binding, free) = (limited(1), limited(100));
    assert!(free > 0);
    assert!(
        binding as f64 <= free as f64 * 1.1,
        "binding {binding}, free {free}"
    );
}

/// Regression: a breaker outside the retry keeps its permit while the attempt waits for a
/// bulkhead slot, and sees the call's outcome when the wait times out: it opens on
/// `bulkhead_full` whether the bulkhead refuses at once or after 1 ms. And in the default
/// order (breaker around bulkhead, inside the retry) the breaker sees the refusals too.
#[test]
fn the_breaker_sees_bulkhead_refusals_in_either_order() {
    let breaker =
        r#"circuit_breaker = { kind = "consecutive_failures", failures = 5, open_for = "1s" }"#;
    for (order, wait) in [
        ("order = [\"circuit_breaker\", \"retry\"]", "0s"),
        ("order = [\"circuit_breaker\", \"retry\"]", "1ms"),
        ("", "0s"),
    ] {
        let r = common::run(
            &guarded(&format!(
                "{breaker}\nretry = {{ max_attempts = 2 }}\nbulkhead = {{ max_concurrent = 1, max_wait = \"{wait}\" }}\n{order}"
            )),
            1,
        );
        let t = &r.metrics.totals;
        assert!(t.bulkhead_full > 0, "{order} {wait}");
        assert!(t.short_circuited > 0, "{order} {wait}: the breaker opened");
    }
}
