//! Finagle: `RetryBudget` (`finagle-core/.../service/RetryBudget.scala`, tests in
//! `RetryBudgetTest.scala`) over a `WindowedAdder` of 10 slices (`TokenBucket.newLeakyBucket`),
//! checked on `resim::policy::budget`.

use resim::Outcome;
use resim::engine::{SimDuration, SimTime};
use resim::policy::budget::{Budget, BudgetSpec};

const S: u64 = 1_000_000_000;

fn budget(percent: f64, min_per_s: f64) -> Budget {
    Budget::new(BudgetSpec::Ratio {
        percent,
        min_per_s,
        ttl: SimDuration::from_secs(10),
    })
}

/// `RetryBudget(ttl, minRetriesPerSec = 0, percentCanRetry = 0.1)`: ten deposits fund one
/// retry, and no more.
#[test]
fn percent_can_retry_bounds_retries_per_request() {
    let mut b = budget(10.0, 0.0);
    let mut cost = 0.0;
    assert!(
        !b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost),
        "nothing deposited"
    );
    for _ in 0..10 {
        b.on_request(SimTime::ZERO);
    }
    assert!(b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost));
    assert!(!b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost));
}

/// `minRetriesPerSec` is a reserve of minRetriesPerSec x ttl retries with no traffic at all.
#[test]
fn min_retries_per_sec_is_a_reserve_over_the_ttl() {
    let mut b = budget(0.0, 1.0);
    let mut cost = 0.0;
    let allowed = (0..20)
        .filter(|_| b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost))
        .count();
    assert_eq!(allowed, 10, "1/s over 10 s");
}

/// Deposits and withdrawals expire after the ttl: retries spent 10 s ago are forgotten, so
/// the reserve is available again.
#[test]
fn deposits_and_withdrawals_expire_after_the_ttl() {
    let mut b = budget(0.0, 1.0);
    let mut cost = 0.0;
    while b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost) {}
    assert!(
        !b.try_retry(SimTime(5 * S), Outcome::Error, &mut cost),
        "within the ttl"
    );
    assert!(
        b.try_retry(SimTime(11 * S), Outcome::Error, &mut cost),
        "after it"
    );
}
