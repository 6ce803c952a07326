//! Polly: the basic (consecutive-count) circuit breaker (`ConsecutiveCountCircuitController`
//! in Polly v7; `CircuitStateController` in Polly v8, `src/Polly.Core/CircuitBreaker/`),
//! and retry delays (`src/Polly.Core/Retry/RetryHelper.cs`, tests in
//! `test/Polly.Core.Tests/Retry/RetryHelperTests.cs`), checked on `resim::policy` types.

use super::{MS, outcome};
use resim::engine::{SimDuration, SimRng, SimTime, StreamId};
use resim::policy::backoff::{Backoff, Jitter, wait};
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

/// `count` waits before retry `n` (Polly's attempt n - 1), each from a fresh request.
fn polly_waits(backoff: &Backoff, jitter: Jitter, n: u32, count: usize) -> Vec<f64> {
    let mut rng = SimRng::new(3, StreamId::from_parts(&[b"polly"]));
    (0..count)
        .map(|_| {
            let mut state = 0.0;
            wait(backoff, jitter, n, &mut state, &mut rng).as_nanos() as f64 / 1e9
        })
        .collect()
}

/// `Linear_Ok`: a linear backoff of 1 s waits 1, 2, 3 s before attempts 0, 1, 2.
#[test]
fn linear_backoff_waits_attempt_plus_one_delays() {
    let b = Backoff::Linear {
        delay: SimDuration::from_secs(1),
        cap: SimDuration::from_secs(3600),
    };
    for (n, secs) in [(1, 1.0), (2, 2.0), (3, 3.0)] {
        assert_eq!(polly_waits(&b, Jitter::None, n, 1), [secs]);
    }
}

/// `Linear_Jitter_Ok` and `ApplyJitter`: the jittered wait of attempt 2 (3 s) is
/// 3 s x (1 + 0.5 (U - 0.5)): 2.25 s at U = 0, 3.75 s at U = 1, resim's `randomized`
/// jitter with `jitter_factor = 0.25`. `MaxDelay_Ok`: `MaxDelay` caps the jittered value.
#[test]
fn jitter_spreads_a_quarter_either_way_then_max_delay_caps() {
    let b = Backoff::Linear {
        delay: SimDuration::from_secs(1),
        cap: SimDuration::from_secs(3600),
    };
    let w = polly_waits(&b, Jitter::Randomized { factor: 0.25 }, 3, 4000);
    assert!(w.iter().all(|&x| (2.25..=3.75).contains(&x)));
    assert!(w.iter().any(|&x| x < 2.3) && w.iter().any(|&x| x > 3.7));
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    assert!((mean - 3.0).abs() < 0.02, "{mean}");
    // MaxDelay_Ok: base 10 s, attempt 2, MaxDelay 1 s: exactly 1 s, jitter or not.
    let capped = Backoff::Linear {
        delay: SimDuration::from_secs(10),
        cap: SimDuration::from_secs(1),
    };
    for jitter in [Jitter::None, Jitter::Randomized { factor: 0.25 }] {
        assert!(
            polly_waits(&capped, jitter, 3, 100)
                .iter()
                .all(|&x| x == 1.0)
        );
    }
}

/// `GetRetryDelay_Exponential_Does_Not_Exceed_MaxDelay` and the V2 formula: with jitter,
/// an exponential backoff uses "decorrelated jitter backoff V2"; every wait is positive
/// and within `MaxDelay`; the first wait is at most phi(1) x base / 1.4 (t = 0 + U < 1).
#[test]
fn exponential_jitter_is_decorrelated_v2_within_max_delay() {
    let b = Backoff::Exponential {
        base: SimDuration::from_secs(1),
        multiplier: 2.0,
        cap: SimDuration::from_secs(3),
    };
    let phi1 = 2.0 * 2f64.tanh();
    let first = polly_waits(&b, Jitter::DecorrelatedV2, 1, 2000);
    assert!(first.iter().all(|&x| x > 0.0 && x <= phi1 / 1.4 + 1e-9));
    let mut rng = SimRng::new(4, StreamId::from_parts(&[b"polly-seq"]));
    for _ in 0..500 {
        let mut state = 0.0;
        for n in 1..=8 {
            let w = wait(&b, Jitter::DecorrelatedV2, n, &mut state, &mut rng);
            assert!(
                w > SimDuration::ZERO && w <= SimDuration::from_secs(3),
                "{w:?}"
            );
        }
    }
}
