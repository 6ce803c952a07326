//! AWS SDKs, standard retry mode: the retry quota (botocore `retryhandler`/`retries/standard.py`
//! `RetryQuotaChecker`; aws-sdk-java-v2 `RateLimiterTokenBucket`; the SDKs and Tools
//! Reference Guide, "Retry behavior"), checked on `resim::policy::budget`.

use resim::Outcome;
use resim::engine::SimTime;
use resim::policy::budget::{Budget, BudgetSpec};

fn quota() -> Budget {
    Budget::new(BudgetSpec::Quota {
        capacity: 500.0,
        retry_cost: 5.0,
        timeout_cost: 10.0,
        no_retry_increment: 1.0,
    })
}

/// `INITIAL_RETRY_TOKENS` 500, `RETRY_COST` 5: 100 retries after errors empty the bucket,
/// and the 101st is refused ("the error is returned without retrying").
#[test]
fn the_bucket_pays_for_one_hundred_retries() {
    let mut b = quota();
    let mut cost = 0.0;
    let allowed = (0..101)
        .filter(|_| b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost))
        .count();
    assert_eq!(allowed, 100);
}

/// `TIMEOUT_RETRY_COST` 10 (JS v3): a retry after a timeout withdraws 10.
#[test]
fn a_timeout_retry_costs_ten() {
    let mut b = quota();
    let mut cost = 0.0;
    assert!(b.try_retry(SimTime::ZERO, Outcome::Timeout, &mut cost));
    assert_eq!((cost, b.level(SimTime::ZERO)), (10.0, 490.0));
}

/// A successful retry refunds what it withdrew; a first-attempt success adds
/// `NO_RETRY_INCREMENT` 1; the bucket never exceeds its capacity.
#[test]
fn successes_refund_and_increment_up_to_the_capacity() {
    let mut b = quota();
    let mut cost = 0.0;
    assert!(b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost));
    assert!(b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost));
    assert_eq!(b.level(SimTime::ZERO), 490.0);
    b.on_attempt(true, true, false, 5.0);
    assert_eq!(b.level(SimTime::ZERO), 495.0, "the retry's 5 refunded");
    b.on_attempt(true, true, true, 0.0);
    assert_eq!(
        b.level(SimTime::ZERO),
        496.0,
        "a first-attempt success adds 1"
    );
    for _ in 0..10 {
        b.on_attempt(true, true, true, 0.0);
    }
    assert_eq!(b.level(SimTime::ZERO), 500.0, "capped at 500");
}

/// botocore `StandardRetryConditions` / `RetryQuotaChecker.release_retry_quota`: a request
/// that succeeds on its first attempt adds `NO_RETRY_INCREMENT`, whether or not hedged
/// copies went out meanwhile. Errors for 2 s drain the quota with retries; afterwards every
/// request is hedged (after 1 ms, against a 5 ms service) and its first attempt answers
/// first: each success must add 1, so the quota climbs back to its capacity.
#[test]
fn a_first_attempt_success_after_a_hedge_still_adds_the_increment() {
    let text = r#"name = "quota"
duration = "20s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "constant", rate_per_s = 100 }
retry = { max_attempts = 2, backoff = { kind = "constant", delay = "1ms" } }
retry_budget = { kind = "quota" }
hedge = { after = "1ms", max_extra = 1 }
[[service]]
name = "api"
concurrency = 16
service_time = { kind = "constant", value = "5ms" }
[[fault]]
kind = "errors"
target = "api"
rate = 1.0
at = "0s"
for = "2s"
"#;
    let run = crate::common::run(text, 1);
    let levels: Vec<f64> = run
        .metrics
        .policy_log
        .events
        .iter()
        .filter(|e| e.event == "level")
        .filter_map(|e| e.value)
        .collect();
    let lowest = levels.iter().copied().fold(f64::INFINITY, f64::min);
    let last = *levels.last().expect("budget levels");
    assert!(lowest < 100.0, "the errors drained the quota: {lowest}");
    assert_eq!(last, 500.0, "first-attempt successes refilled it");
}
