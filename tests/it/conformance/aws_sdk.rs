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
