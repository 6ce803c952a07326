//! Envoy: the router's retry policy and the cluster's retry budget, as Envoy's
//! `route_components.proto` (`RetryPolicy`), `circuit_breaker.proto` (`RetryBudget`) and the
//! router filter docs (`router_filter.rst`) describe them.

use crate::common;

/// Successful requests whose latency falls in [lo_ms, hi_ms] (by histogram bin).
pub fn successes_between(r: &resim::run::RunResult, lo_ms: u64, hi_ms: u64) -> u64 {
    let (lo, hi) = (lo_ms * 1_000_000, hi_ms * 1_000_000);
    r.metrics
        .latency_bins
        .iter()
        .filter(|&&(top, _)| top >= lo && top <= hi)
        .map(|&(_, n)| n)
        .sum()
}

/// `circuit_breaker.proto`, `RetryBudget`: "budget_percent ... the limit on concurrent
/// retries as a percentage of the sum of active requests and active pending requests"
/// with `min_retry_concurrency` 3 as its floor; a retry over it is not sent
/// (`upstream_rq_retry_overflow`). A retry holds its place from the decision through its
/// backoff until its outcome (`RetryStateImpl`). Every call fails here, with 10 attempts in
/// flight (1,000/s x 10 ms): 20% of them is 2, so the floor of 3 rules, and each retry holds
/// its place 100 ms of backoff + 10 ms of service. By Little's law the retries are then
/// 3 / 0.11 s = 27.3 per second, whatever the demand (1,000 failures per second).
#[test]
fn the_retry_budget_caps_retries_in_flight() {
    let text = r#"name = "envoy-budget"
duration = "20s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "constant", rate_per_s = 1000 }
retry = { max_attempts = 2, backoff = { kind = "constant", delay = "100ms" } }
retry_budget = { kind = "concurrency", percent = 20, min_concurrent = 3 }
[[service]]
name = "api"
concurrency = 100
service_time = { kind = "constant", value = "10ms" }
[[fault]]
kind = "errors"
target = "api"
rate = 1.0
at = "0s"
"#;
    let r = common::run(text, 1);
    let per_s = r.metrics.policy.retries as f64 / 18.0;
    assert!(
        (per_s - 3.0 / 0.11).abs() < 0.5,
        "retries per second {per_s}, Little's law 27.3"
    );
    assert!(r.metrics.policy.budget_refused > 15_000);
}

/// Two replicas, one failing every request, behind a client that retries once at once.
fn one_bad_replica(retry_host: &str) -> String {
    format!(
        r#"name = "envoy-hosts"
duration = "20s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 500 }}
retry = {{ max_attempts = 2, backoff = {{ kind = "constant", delay = "1ms" }}{retry_host} }}
[[service]]
name = "api"
replicas = 2
concurrency = 20
service_time = {{ kind = "constant", value = "5ms" }}
[[fault]]
kind = "errors"
target = "api"
fraction = 0.5
rate = 1.0
at = "0s"
"#
    )
}

/// `envoy.retry_host_predicates.previous_hosts` (router_filter.rst, "Retry plugin
/// configuration"): "skip hosts that have already been attempted", reselecting up to
/// `host_selection_retry_max_attempts` (1) times. With two replicas, one failing, every
/// retry of a request that failed reaches the healthy one: all requests succeed. Plain
/// round robin, interleaved with other requests, sends about half of the retries back to
/// the failing replica.
#[test]
fn previous_hosts_sends_the_retry_to_another_replica() {
    let any = common::run(&one_bad_replica(""), 1);
    let other = common::run(&one_bad_replica(", retry_host = \"other\""), 1);
    let availability = |r: &resim::run::RunResult| r.metrics.totals.availability().unwrap();
    assert!(availability(&any) < 0.9, "any: {}", availability(&any));
    assert_eq!(availability(&other), 1.0);
    assert!(other.metrics.policy.retries > 3000);
}

/// A service that refuses work when its one worker and one queue place are taken, asking
/// for a 200 ms retry-after, called by a client retrying once with a 10 ms backoff and
/// `pushback`.
pub fn refusing(pushback: &str, retry_extra: &str, error_rate: f64) -> String {
    format!(
        r#"name = "pushback"
duration = "30s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 700 }}
retry = {{ max_attempts = 2, backoff = {{ kind = "constant", delay = "10ms" }}, pushback = "{pushback}"{retry_extra} }}
[[service]]
name = "api"
concurrency = 1
queue = 1
retry_after = "200ms"
error_rate = {error_rate}
service_time = {{ kind = "constant", value = "1ms" }}
"#
    )
}

/// `rate_limited_retry_back_off` (route_components.proto: the reset interval from a
/// `Retry-After` header, "jittered ... between the reset interval and 1.5 times the reset
/// interval"): a refused request retries after U(200 ms, 300 ms); ignoring the header, after
/// the 10 ms backoff.
#[test]
fn rate_limited_back_off_waits_one_to_one_and_a_half_retry_afters() {
    let jittered = common::run(&refusing("jittered", "", 0.0), 1);
    let early = successes_between(&jittered, 5, 199);
    let first_half = successes_between(&jittered, 200, 250);
    let second_half = successes_between(&jittered, 251, 304);
    let later = successes_between(&jittered, 305, 100_000);
    assert_eq!(
        (early, later),
        (0, 0),
        "no success between 5 and 199 ms nor after 305 ms"
    );
    assert!(
        first_half > 500 && second_half > 500,
        "{first_half} {second_half}"
    );
    let ratio = first_half as f64 / second_half as f64;
    assert!(
        (0.8..1.25).contains(&ratio),
        "uniform over the range: {ratio}"
    );
    let ignored = common::run(&refusing("ignore", "", 0.0), 1);
    assert_eq!(successes_between(&ignored, 30, 100_000), 0);
}
