//! Polly: the basic (consecutive-count) circuit breaker (`ConsecutiveCountCircuitController`
//! in Polly v7; `CircuitStateController` in Polly v8, `src/Polly.Core/CircuitBreaker/`),
//! checked on `resim::policy` types.

use super::{MS, outcome};
use resim::engine::{SimDuration, SimTime};
use resim::policy::breaker::{Breaker, BreakerSpec, State};

fn breaker() -> Breaker {
    Breaker::new(BreakerSpec::ConsecutiveFailures {
        failures: 2,
        open_for: SimDuration::from_secs(1),
    })
}

/// v7 `OnActionSuccess` in Closed resets the consecutive count; the breaker breaks when
/// the count reaches `handledEventsAllowedBeforeBreaking`.
#[test]
fn a_success_resets_the_count() {
    let mut b = breaker();
    outcome(&mut b, 1, true);
    outcome(&mut b, 2, false);
    outcome(&mut b, 3, true);
    assert_eq!(b.state(), State::Closed);
    outcome(&mut b, 4, true);
    assert_eq!(b.state(), State::Open);
}

/// v8 `CircuitStateController`: half-open once now >= `blockedUntil` (inclusive), and the
/// first call is the single probe; the others are rejected.
#[test]
fn half_open_starts_at_the_break_end_with_one_probe() {
    let mut b = breaker();
    outcome(&mut b, 1, true);
    outcome(&mut b, 2, true);
    let now = SimTime(1_002 * MS);
    let probe = b.try_acquire(now).expect("the probe, at blockedUntil");
    assert!(b.try_acquire(now).is_none(), "one probe");
    b.record(probe, now, SimDuration::from_millis(1), true);
    assert_eq!(b.state(), State::Open, "a failed probe breaks again");
}

/// v7 `OnActionFailure` while Open: "A failure call result may arrive when the circuit is
/// open, if it was placed before the circuit broke. We take no action."
#[test]
fn a_late_failure_while_open_changes_nothing() {
    let mut b = breaker();
    let early = b.try_acquire(SimTime::ZERO).expect("closed");
    outcome(&mut b, 1, true);
    outcome(&mut b, 2, true);
    b.record(early, SimTime(3 * MS), SimDuration::from_millis(3), true);
    assert!(
        !outcome(&mut b, 1_001, false),
        "still open until the break ends"
    );
    assert!(outcome(&mut b, 1_002, false), "the break was not extended");
    assert_eq!(b.state(), State::Closed);
}

/// v7 `OnActionSuccess` in HalfOpen resets the circuit, whichever call succeeded: a late
/// success of a call placed before the break closes it.
#[test]
fn a_late_success_closes_half_open() {
    let mut b = breaker();
    let early = b.try_acquire(SimTime::ZERO).expect("closed");
    outcome(&mut b, 1, true);
    outcome(&mut b, 2, true);
    let _probe = b.try_acquire(SimTime(1_002 * MS)).expect("the probe");
    b.record(
        early,
        SimTime(1_003 * MS),
        SimDuration::from_millis(1_003),
        false,
    );
    assert_eq!(b.state(), State::Closed);
}
