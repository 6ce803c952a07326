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
