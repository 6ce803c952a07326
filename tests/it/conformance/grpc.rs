//! gRPC: retries, hedging and retry throttling as gRFC A6 ("gRPC Retry Design",
//! github.com/grpc/proposal/blob/master/A6-client-retries.md) describes them.

use crate::common;

/// A service failing 30% of requests with a constant 2 ms service time, behind a client
/// with `policy`.
fn flaky(policy: &str) -> String {
    format!(
        r#"name = "grpc"
duration = "60s"
warmup = "5s"

[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 200 }}
{policy}

[[service]]
name = "api"
replicas = 2
concurrency = 8
service_time = {{ kind = "constant", value = "2ms" }}

[[fault]]
kind = "errors"
target = "api"
rate = 0.3
at = "0s"
"#
    )
}

/// A6, hedging: "If a non-fatal status code is received from a hedged request, ... the
/// next hedged request ... is sent immediately" (the failure shortcuts the hedging delay).
/// With one extra attempt and independent 30% failures, a call fails only when both
/// attempts fail: availability 1 - 0.3^2 = 0.91, and a hedge goes out for each failed first
/// attempt (about 0.3 per request), long before the 50 ms delay.
#[test]
fn a_failed_attempt_sends_the_next_hedge_at_once() {
    let run = common::run(&flaky("hedge = { after = \"50ms\", max_extra = 1 }"), 1);
    let t = &run.metrics.totals;
    let availability = t.availability().expect("requests");
    assert!((availability - 0.91).abs() < 0.01, "{availability}");
    let hedges = run.metrics.policy.hedges as f64 / t.requests as f64;
    assert!((hedges - 0.3).abs() < 0.02, "{hedges} hedges per request");
    // No request waited for the hedging delay: the slowest success is two service times.
    let max_ms = run.metrics.latency.expect("latency").max_ns as f64 / 1e6;
    assert!(max_ms < 10.0, "{max_ms} ms");
}

/// A6, throttling: "each failed RPC [with a status in retryableStatusCodes] decrements the
/// token count by 1"; failures the policy would not retry leave the tokens alone. Errors
/// are not in `retry_on = ["timeout"]` here, so 30% errors must not drain the bucket:
/// timeouts keep being retried.
#[test]
fn only_retryable_failures_take_tokens() {
    let text = flaky(
        "timeout = \"20ms\"\nretry = { max_attempts = 2, retry_on = [\"timeout\"], backoff = { kind = \"constant\", delay = \"1ms\" } }\nretry_budget = { kind = \"token_bucket\", max_tokens = 10, token_ratio = 0.1 }",
    )
    // A lossy link makes some attempts time out: those are retryable.
    .replace(
        "[[fault]]",
        "[[fault]]\nkind = \"loss\"\ntarget = \"web->api\"\nprobability = 0.02\nat = \"0s\"\n\n[[fault]]",
    );
    let run = common::run(&text, 1);
    let p = &run.metrics.policy;
    // About 4 timeouts a second take a token each while 140 successes give 0.1 each: the
    // bucket stays above half but for short bursts of losses. Were the 60 errors a second
    // counted too, it would sit near empty and refuse nearly every retry.
    assert!(p.retries > 300, "timeouts are retried: {p:?}");
    assert!(
        p.budget_refused * 20 < p.retries,
        "errors did not drain the bucket: {p:?}"
    );
}

/// A6: "the deadline applies to the overall call, including all retry attempts": a retry
/// that cannot be made before the deadline is not made, and the call fails when its
/// deadline expires, with DEADLINE_EXCEEDED (resim: `timeout`), not at once with the last
/// attempt's status. Attempts fail within 2 ms; the second retry would start at about
/// 164 ms, past the 100 ms deadline: every request ends as a timeout.
#[test]
fn a_call_without_time_for_another_retry_fails_at_its_deadline() {
    let text = flaky(
        "deadline = \"100ms\"\nretry = { max_attempts = 3, backoff = { kind = \"constant\", delay = \"80ms\" } }",
    )
    .replace("rate = 0.3", "rate = 1.0");
    let run = common::run(&text, 1);
    let t = &run.metrics.totals;
    assert_eq!(t.timeouts, t.requests, "{t:?}");
    assert_eq!(t.errors, 0, "{t:?}");
    // One retry each (counted by when it is sent, so the window's edges differ by a few).
    let retries = run.metrics.policy.retries;
    assert!(
        retries.abs_diff(t.requests) <= 3,
        "{retries} retries for {} requests",
        t.requests
    );
}

/// A6, hedging: copy k goes out at (k-1) x `hedgingDelay`, so a delay of 0 sends all the
/// copies at once (A6's `hedgingPolicy` field comment). With `after = "0s"` and one extra
/// attempt, every request goes out twice at once.
#[test]
fn a_zero_hedging_delay_sends_every_copy_at_once() {
    let text =
        flaky("hedge = { after = \"0s\", max_extra = 1 }").replace("rate = 0.3", "rate = 0.0");
    let run = common::run(&text, 1);
    let t = &run.metrics.totals;
    assert_eq!(
        run.metrics.policy.hedges, t.requests,
        "one hedge per request"
    );
    assert_eq!(t.availability(), Some(1.0));
}

/// A6, throttling: "hedged RPCs ... are throttled" by the same tokens as retries: while the
/// token count is at or below half of `maxTokens`, no hedge goes out. With 30% errors the
/// bucket soon sits near half (each failure takes 1, each success gives back 0.1), so the
/// hedges sent on fast failures mostly stop; without the bucket they all go out.
#[test]
fn the_retry_tokens_throttle_hedges_too() {
    let policy = "hedge = { after = \"50ms\", max_extra = 1 }\nretry = { max_attempts = 2, backoff = { kind = \"constant\", delay = \"1ms\" } }";
    let free = common::run(&flaky(policy), 1);
    let throttled = common::run(
        &flaky(&format!(
            "{policy}\nretry_budget = {{ kind = \"token_bucket\", max_tokens = 10, token_ratio = 0.1 }}"
        )),
        1,
    );
    let (h_free, h_throttled) = (free.metrics.policy.hedges, throttled.metrics.policy.hedges);
    assert!(h_free > 2000, "{h_free} hedges without a bucket");
    assert!(
        h_throttled * 10 < h_free,
        "{h_throttled} hedges with the bucket, {h_free} without"
    );
}

/// A6, pushback: "If the server sends a pushback ... the client will retry after exactly
/// that delay", and "subsequent retries ... [use] initialBackoff" again. Refusals ask for
/// 200 ms: a request refused once and then served succeeds after 200 ms and a little
/// (never after the 10 ms backoff). With three attempts, an exponential backoff of 50 ms x
/// 10, and 30% errors, a request refused, then failed, then served waits 200 ms + 50 ms
/// (the backoff restarted), never 200 ms + 500 ms.
#[test]
fn pushback_waits_exactly_its_delay_and_restarts_the_backoff() {
    use super::envoy::{refusing, successes_between};
    let r = common::run(&refusing("exact", "", 0.0), 1);
    assert_eq!(successes_between(&r, 5, 199), 0);
    assert!(successes_between(&r, 200, 206) > 1000);
    assert_eq!(successes_between(&r, 207, 100_000), 0);
    let backoff = r#", max_attempts = 3, backoff = { kind = "exponential", base = "50ms", multiplier = 10, cap = "10s" }"#;
    let text = refusing("exact", "", 0.3).replace(
        r#"max_attempts = 2, backoff = { kind = "constant", delay = "10ms" }, pushback = "exact""#,
        &format!(r#"pushback = "exact"{backoff}"#),
    );
    let r = common::run(&text, 1);
    assert!(
        successes_between(&r, 245, 260) > 100,
        "refused, failed, served"
    );
    assert_eq!(
        successes_between(&r, 640, 760),
        0,
        "no backoff of 500 ms after a pushback"
    );
    assert!(
        successes_between(&r, 545, 560) > 10,
        "failed twice: 50 + 500 ms"
    );
}
