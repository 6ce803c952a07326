//! Netflix Hystrix 1.5.x: the circuit breaker (`hystrix-core/.../HystrixCircuitBreaker.java`,
//! `HystrixCommandMetrics.HealthCounts`, `HystrixCommandProperties` defaults, and the tests
//! in `hystrix-core/src/test/.../HystrixCircuitBreakerTest.java`), checked on
//! `resim::policy::breaker`. resim writes Hystrix's tripping rule as `kind = "rate"` with a
//! 10 s time window, `min_calls` = `requestVolumeThreshold`, `failure_rate` =
//! `errorThresholdPercentage` / 100, `open_for` = `sleepWindowInMilliseconds` and one
//! trial call; `consecutive_failures` borrows only Hystrix's single trial. Hystrix's health
//! snapshots (a trip up to 500 ms late) and its integer percentage are documented
//! differences (docs/scenarios.md), so no test here depends on them.

use super::{MS, outcome};
use crate::common;
use resim::engine::{SimDuration, SimTime};
use resim::policy::breaker::{Breaker, BreakerSpec, State, Window};

/// Hystrix's breaker as resim writes it: a 10 s window (`metrics.rollingStats.
/// timeInMilliseconds` 10000), 50 % (`errorThresholdPercentage`), a 5 s sleep window
/// (`sleepWindowInMilliseconds` 5000), one trial, and `volume` as
/// `requestVolumeThreshold` (20 by default; `HystrixCircuitBreakerTest`'s commands use 1).
/// No call here is slow: Hystrix has no slow-call rule.
fn hystrix(volume: u32) -> Breaker {
    Breaker::new(BreakerSpec::Rate {
        window: Window::Time(10),
        min_calls: volume,
        failure_rate: 0.5,
        slow_call_duration: SimDuration::from_secs(60),
        slow_call_rate: 1.0,
        open_for: SimDuration::from_secs(5),
        half_open_calls: 1,
    })
}

/// Makes the calls of `pattern` (true = failed) at 1, 2, ... ms; true if each was let through.
fn calls(b: &mut Breaker, pattern: &[bool]) -> bool {
    (1..).zip(pattern).all(|(t, &failed)| outcome(b, t, failed))
}

/// `testTripCircuitOnFailuresAboveThreshold` (volume 1): success, success, failure, success,
/// failure, success, failure, failure. The error percentage never reaches 50 before the
/// last call (at most 3 of 7); the last makes 4 of 8 = 50 %, and `onNext(HealthCounts)`
/// trips at `errorPercentage >= errorThresholdPercentage`: open, and calls are refused.
#[test]
fn trips_when_the_error_percentage_reaches_the_threshold() {
    let mut b = hystrix(1);
    let pattern = [false, false, true, false, true, false, true];
    assert!(calls(&mut b, &pattern));
    assert_eq!(b.state(), State::Closed, "3 of 7 = 43 %");
    assert!(outcome(&mut b, 8, true));
    assert_eq!(b.state(), State::Open, "4 of 8 = 50 %");
    assert!(!outcome(&mut b, 9, false), "allowRequest() is false");
}

/// `testCircuitDoesNotTripOnFailuresBelowThreshold` (volume 1): success, success, failure,
/// success, success, failure, success, failure: 3 of 8 = 37.5 %, below 50 % throughout,
/// so the breaker stays closed and still allows requests.
#[test]
fn stays_closed_below_the_error_threshold() {
    let mut b = hystrix(1);
    let pattern = [false, false, true, false, false, true, false, true];
    assert!(calls(&mut b, &pattern));
    assert_eq!(b.state(), State::Closed);
    assert!(outcome(&mut b, 9, false), "allowRequest() is true");
}

/// `testLowVolumeDoesNotTripCircuit`: with `requestVolumeThreshold` 5, four failures (100 %)
/// leave it closed ("we are not past the minimum volume threshold ... so no change to
/// circuit status"); a fifth reaches the volume and trips it.
#[test]
fn low_volume_does_not_trip() {
    let mut b = hystrix(5);
    assert!(calls(&mut b, &[true; 4]));
    assert_eq!(b.state(), State::Closed, "4 calls < volume 5");
    assert!(outcome(&mut b, 5, true));
    assert_eq!(b.state(), State::Open, "5 calls, 100 %");
}

/// `metrics.rollingStats.timeInMilliseconds` 10000: the health counts cover the last 10 s,
/// so with the default volume of 20, ten failures 11 s old no longer count towards it,
/// while ten failures 9 s old still do. (Hystrix slides its health window in 500 ms
/// buckets, resim in whole seconds; these times are far from either edge.)
#[test]
fn the_health_window_covers_the_last_ten_seconds() {
    let run = |second_batch_ms: u64| {
        let mut b = hystrix(20);
        for t in (100..110).chain(second_batch_ms..second_batch_ms + 10) {
            assert!(outcome(&mut b, t, true));
        }
        b.state()
    };
    assert_eq!(run(9_100), State::Open, "20 failures within 10 s");
    assert_eq!(
        run(11_100),
        State::Closed,
        "the first 10 have left the window"
    );
}

/// `testSingleTestOnOpenCircuitAfterTimeWindow` and `isAfterSleepWindow()`
/// (`currentTime > circuitOpenTime + sleepWindowTime`, strict): refused up to and at the
/// end of the sleep window; the first call after it is the single test (`attemptExecution`
/// wins `compareAndSet(OPEN, HALF_OPEN)`), and further calls are still refused.
#[test]
fn a_single_trial_strictly_after_the_sleep_window() {
    let mut b = hystrix(1);
    assert!(outcome(&mut b, 0, true));
    assert_eq!(b.state(), State::Open);
    assert!(b.try_acquire(SimTime(4_999 * MS)).is_none());
    assert!(
        b.try_acquire(SimTime(5_000 * MS)).is_none(),
        "at openedAt + sleepWindow"
    );
    let now = SimTime(5_001 * MS);
    assert!(b.try_acquire(now).is_some(), "the single test");
    assert_eq!(b.state(), State::HalfOpen);
    assert!(b.try_acquire(now).is_none(), "further requests are blocked");
    assert!(
        b.try_acquire(SimTime(9_000 * MS)).is_none(),
        "while it runs"
    );
}

/// `testCircuitClosedAfterSuccess` and `markSuccess()`: a successful trial closes the
/// breaker and calls `metrics.resetStream()`, so that the failures that opened it (still
/// inside the 10 s window) cannot trip it again. Volume 4: four failures open it; after the
/// close, three successes and a failure are 25 % (with the old failures kept it would be
/// 5 of 8 = 62.5 %, and open).
#[test]
fn a_successful_trial_closes_and_clears_the_metrics() {
    let mut b = hystrix(4);
    assert!(calls(&mut b, &[true; 4]));
    assert_eq!(b.state(), State::Open);
    assert!(outcome(&mut b, 5_100, false), "the trial succeeds");
    assert_eq!(b.state(), State::Closed);
    for t in 5_101..5_104 {
        assert!(outcome(&mut b, t, false), "all requests allowed again");
    }
    assert!(outcome(&mut b, 5_104, true));
    assert_eq!(b.state(), State::Closed, "1 of 4 since the close");
}

/// `testMultipleTimeWindowRetriesBeforeClosingCircuit` and `markNonSuccess()`
/// (`compareAndSet(HALF_OPEN, OPEN)`, then `circuitOpened.set(currentTimeMillis())`): a
/// failed trial re-opens the breaker for a whole sleep window counted from the failure
/// (not from the trial's start); only one trial runs in each window, every other call is
/// refused while it runs; two failed trials, then a successful one closes the breaker.
#[test]
fn a_failed_trial_reopens_for_a_full_sleep_window_from_the_failure() {
    let mut b = hystrix(1);
    assert!(outcome(&mut b, 0, true));
    let mut opened_ms = 0;
    for (i, trial_fails) in [true, true, false].into_iter().enumerate() {
        let start = opened_ms + 5_001;
        let trial = b.try_acquire(SimTime(start * MS)).expect("the trial");
        assert!(
            b.try_acquire(SimTime((start + 30) * MS)).is_none(),
            "trial {i} in flight"
        );
        // The trial takes 60 ms, like the tests' `FailureCommand(key, 60)`.
        let end = start + 60;
        b.record(
            trial,
            SimTime(end * MS),
            SimDuration::from_millis(60),
            trial_fails,
        );
        if trial_fails {
            assert_eq!(b.state(), State::Open, "trial {i} failed");
            assert!(
                !outcome(&mut b, end + 5_000, false),
                "openedAt is the failure"
            );
            opened_ms = end;
        }
    }
    assert_eq!(b.state(), State::Closed);
    for t in 15_200..15_203 {
        assert!(outcome(&mut b, t, false), "all requests allowed again");
    }
}

/// `markSuccess()` / `markNonSuccess()` act on whatever command completes while the
/// breaker is half-open (`compareAndSet(HALF_OPEN, ...)`), not only on the trial: the
/// success of a call permitted before the breaker opened closes it, and its failure
/// re-opens it with openedAt = that failure.
#[test]
fn any_completion_while_half_open_decides() {
    for late_failed in [false, true] {
        let mut b = hystrix(1);
        let early = b.try_acquire(SimTime::ZERO).expect("closed");
        assert!(outcome(&mut b, 1, true));
        let _trial = b.try_acquire(SimTime(5_002 * MS)).expect("the trial");
        b.record(
            early,
            SimTime(5_010 * MS),
            SimDuration::from_millis(5_010),
            late_failed,
        );
        if late_failed {
            assert_eq!(b.state(), State::Open);
            assert!(!outcome(&mut b, 10_010, false), "a full sleep window");
            assert!(outcome(&mut b, 10_011, false), "then the next trial");
        } else {
            assert_eq!(b.state(), State::Closed);
        }
    }
}

/// `kind = "consecutive_failures"` borrows Hystrix's single trial: one trial call, every
/// other call refused while it runs; a failed trial re-opens with openedAt = the failure,
/// a successful one closes. Deliberate, documented difference (docs/scenarios.md): this
/// kind moves to half-open at openedAt + open_for inclusive (Polly's `now >=
/// blockedUntil`), where Hystrix's `isAfterSleepWindow()` waits for a later time.
#[test]
fn consecutive_failures_has_the_single_trial_at_or_after_the_open_period() {
    let mut b = Breaker::new(BreakerSpec::ConsecutiveFailures {
        failures: 2,
        open_for: SimDuration::from_secs(5),
    });
    assert!(calls(&mut b, &[true, true]));
    assert_eq!(b.state(), State::Open);
    assert!(!outcome(&mut b, 5_001, false));
    let trial = b
        .try_acquire(SimTime(5_002 * MS))
        .expect("at openedAt + open_for: the trial (Hystrix: refused)");
    assert!(b.try_acquire(SimTime(5_002 * MS)).is_none(), "one trial");
    b.record(
        trial,
        SimTime(5_050 * MS),
        SimDuration::from_millis(48),
        true,
    );
    assert_eq!(b.state(), State::Open, "the failed trial re-opens it");
    assert!(!outcome(&mut b, 10_049, false), "5 s from the failure");
    assert!(outcome(&mut b, 10_050, false), "a successful trial");
    assert_eq!(b.state(), State::Closed);
}

/// `testUnsubscriptionDoesNotLeaveCircuitStuckHalfOpen`: a trial that ends without an
/// outcome must not leave the breaker half-open for ever. Deliberate, documented difference
/// (docs/scenarios.md): Hystrix's `unsubscribeCommandCleanup` calls `markNonSuccess()`
/// (re-open for another sleep window); resim gives the trial permit back, so the next call
/// is the trial at once.
#[test]
fn a_trial_without_an_outcome_does_not_leave_it_stuck_half_open() {
    let mut b = hystrix(1);
    assert!(outcome(&mut b, 0, true));
    let trial = b.try_acquire(SimTime(5_001 * MS)).expect("the trial");
    b.release(trial);
    assert_eq!(b.state(), State::HalfOpen);
    assert!(outcome(&mut b, 5_002, false), "the next call is the trial");
    assert_eq!(b.state(), State::Closed);
}

/// `testTripCircuitOnTimeouts` and `HealthCounts.plus`: timeouts are errors (TIMEOUT is in
/// both the total and the error count). Every attempt times out (10 ms against 50 ms of
/// service time) behind Hystrix's defaults as resim writes them in a scenario: the 20th
/// timeout opens the breaker, and afterwards only one trial per 5 s sleep window is sent
/// (and times out), so about 20 + 5 requests time out and the rest are short-circuited.
#[test]
fn timeouts_trip_the_breaker_as_errors() {
    let run = common::run(
        r#"name = "hystrix-timeouts"
duration = "30s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 100 }
timeout = "10ms"
circuit_breaker = { window = { kind = "time", size = 10 }, min_calls = 20, failure_rate = 0.5, open_for = "5s", half_open_calls = 1 }
[[service]]
name = "api"
concurrency = 64
service_time = { kind = "constant", value = "50ms" }
"#,
        1,
    );
    let t = &run.metrics.totals;
    assert_eq!(t.ok, 0);
    assert!((20..=30).contains(&t.timeouts), "{} timeouts", t.timeouts);
    assert_eq!(t.timeouts + t.short_circuited, t.requests);
}
