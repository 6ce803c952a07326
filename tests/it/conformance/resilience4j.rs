//! Resilience4j: the CircuitBreaker state machine (`CircuitBreakerStateMachine.java`, its
//! tests in `CircuitBreakerStateMachineTest`, and the CircuitBreaker documentation page,
//! resilience4j.readme.io/docs/circuitbreaker), checked on `resim::policy` types.

use super::{MS, outcome};
use resim::engine::{SimDuration, SimTime};
use resim::policy::backoff::{Backoff, Jitter, wait};
use resim::policy::breaker::{Breaker, BreakerSpec, State, Window};

/// A count-based breaker: window 5, minimum 5 calls, 50 %, wait 1 s, 3 trial calls.
fn breaker() -> Breaker {
    Breaker::new(BreakerSpec::Rate {
        window: Window::Count(5),
        min_calls: 5,
        failure_rate: 0.5,
        slow_call_duration: SimDuration::from_secs(60),
        slow_call_rate: 1.0,
        open_for: SimDuration::from_secs(1),
        half_open_calls: 3,
    })
}

/// Docs: "the failure rate ... is only calculated if a minimum number of calls were
/// recorded"; four failures of a minimum of five leave it closed, the fifth opens it
/// (`shouldOpenAfterFailureRateThresholdExceeded`).
#[test]
fn the_failure_rate_is_evaluated_only_after_the_minimum_calls() {
    let mut b = breaker();
    for t in 1..=4 {
        outcome(&mut b, t, true);
    }
    assert_eq!(b.state(), State::Closed);
    outcome(&mut b, 5, false);
    assert_eq!(b.state(), State::Open, "4 of 5 failed: 80 % >= 50 %");
}

/// Docs: "the CircuitBreaker rejects calls with a CallNotPermittedException" while open, and
/// (lazily) the first call after `waitDurationInOpenState` moves it to half-open.
#[test]
fn open_rejects_until_the_wait_has_passed() {
    let mut b = breaker();
    for t in 1..=5 {
        outcome(&mut b, t, true);
    }
    assert!(
        !outcome(&mut b, 1_005, false),
        "exactly at the end of the wait"
    );
    assert!(outcome(&mut b, 1_006, false), "strictly after it");
    assert_eq!(b.state(), State::HalfOpen);
}

/// Docs: "permittedNumberOfCallsInHalfOpenState": N trial calls in total, a completed
/// trial does not give its permit back; all successful trials close it
/// (`shouldTransitionToClosedState...`). The first trial completes before the others are
/// permitted, so a breaker that counted permits in flight would let a fourth call through.
#[test]
fn half_open_permits_a_fixed_number_of_trials_then_closes() {
    let mut b = breaker();
    for t in 1..=5 {
        outcome(&mut b, t, true);
    }
    let now = SimTime(2_000 * MS);
    let first = b.try_acquire(now).expect("a first trial");
    b.record(first, now, SimDuration::from_millis(1), false);
    assert_eq!(b.state(), State::HalfOpen, "1 outcome of the 3 needed");
    let permits: Vec<_> = (0..2)
        .map(|_| b.try_acquire(now).expect("a trial"))
        .collect();
    assert!(
        b.try_acquire(now).is_none(),
        "a fourth call is rejected although only two trials are in flight"
    );
    for p in permits {
        b.record(p, now, SimDuration::from_millis(1), false);
    }
    assert_eq!(b.state(), State::Closed);
}

/// `CircuitBreakerStateMachine.HalfOpenState.onError` records an outcome whatever state
/// permitted the call: a failure of a call permitted while closed counts as a trial outcome.
#[test]
fn a_late_failure_counts_in_half_open() {
    let mut b = breaker();
    let early: Vec<_> = (0..2)
        .map(|_| b.try_acquire(SimTime::ZERO).expect("closed"))
        .collect();
    for t in 1..=5 {
        outcome(&mut b, t, true);
    }
    assert!(outcome(&mut b, 2_000, false), "one trial success");
    for p in early {
        b.record(p, SimTime(2_001 * MS), SimDuration::from_millis(1), true);
    }
    assert_eq!(b.state(), State::Open, "2 failures of 3 outcomes");
}

/// `IntervalFunction.ofExponentialRandomBackoff` randomizes, then caps: with a wait beyond
/// the cap, many draws equal the cap exactly, and none exceed it.
#[test]
fn exponential_random_backoff_caps_after_randomizing() {
    let backoff = Backoff::Exponential {
        base: SimDuration::from_millis(500),
        multiplier: 1.5,
        cap: SimDuration::from_secs(1),
    };
    let mut rng = resim::engine::SimRng::new(1, resim::engine::StreamId::from_parts(&[b"r4j"]));
    let waits: Vec<u64> = (0..1000)
        .map(|_| {
            let mut prev = 0.0;
            wait(
                &backoff,
                Jitter::Randomized { factor: 0.5 },
                3,
                &mut prev,
                &mut rng,
            )
            .as_nanos()
        })
        .collect();
    // Uncapped 1125 ms, drawn in U(562.5, 1687.5): (1687.5 - 1000) / 1125 = 61 % at the cap.
    let at_cap = waits.iter().filter(|&&w| w == 1_000 * MS).count();
    assert!((560..=660).contains(&at_cap), "{at_cap}");
    assert!(waits.iter().all(|&w| w <= 1_000 * MS));
}

/// `ignoreExceptions` (resilience4j.readme.io/docs/circuitbreaker: "a list of exceptions
/// that are ignored and neither count as a failure nor success"), as resim's `record_on`.
/// A queue of one in front of one worker refuses about half of the requests: counted,
/// those refusals open the breaker; ignored, it never opens.
#[test]
fn ignored_failure_reasons_neither_open_nor_close_the_breaker() {
    let text = |record_on: &str| {
        format!(
            r#"name = "ignore"
duration = "30s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 400 }}
circuit_breaker = {{ window = {{ kind = "count", size = 20 }}, min_calls = 10, failure_rate = 0.5, open_for = "1s"{record_on} }}
[[service]]
name = "api"
concurrency = 1
queue = 1
service_time = {{ kind = "constant", value = "4ms" }}
"#
        )
    };
    let counted = crate::common::run(&text(""), 1);
    assert!(counted.metrics.totals.rejected > 100);
    assert!(
        counted.metrics.totals.short_circuited > 0,
        "refusals counted: the breaker opens"
    );
    let ignored = crate::common::run(&text(", record_on = [\"error\", \"timeout\"]"), 1);
    assert!(ignored.metrics.totals.rejected > 1000);
    assert_eq!(
        ignored.metrics.totals.short_circuited, 0,
        "refusals ignored: the breaker never opens"
    );
}

/// A reason left out of `record_on` is ignored, not recorded as a success (resim's
/// documented difference from Resilience4j's `recordExceptions`, which counts an exception
/// on neither list as a success). A service refuses about half of the requests (no queue,
/// load 1) and fails 60% of those it serves: with `record_on = ["error"]` the refusals
/// leave the rate, which is then about 60% and opens the breaker; counted as successes they
/// would dilute it to about 30%, and it would never open.
#[test]
fn unlisted_reasons_leave_the_failure_rate_rather_than_count_as_successes() {
    let r = crate::common::run(
        r#"name = "record-on"
duration = "30s"
warmup = "5s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 100 }
circuit_breaker = { window = { kind = "count", size = 100 }, min_calls = 100, failure_rate = 0.5, open_for = "5s", record_on = ["error"] }
[[service]]
name = "api"
concurrency = 1
queue = 0
service_time = { kind = "constant", value = "10ms" }
error_rate = 0.6
"#,
        1,
    );
    let t = &r.metrics.totals;
    assert!(t.short_circuited > 1000, "the breaker opens: {t:?}");
}

/// `waitIntervalFunctionInOpenState` with `IntervalFunction.ofExponentialBackoff(1 s, 2,
/// 5 s)`: the open state's wait is the function of its `attempts`, 1 when opening from
/// closed and one more at each re-opening from half-open (`CircuitBreakerStateMachine`:
/// `new OpenState(currentState.attempts() + 1, ...)`, and `ClosedState.attempts()` is 0).
/// So the waits run 1 s, 2 s, 4 s, 5 s (capped), and back to 1 s after a close; each ends
/// strictly after its time (`now > openedAt + wait`), on Resilience4j's own (rate) breaker.
#[test]
fn a_growing_open_period_doubles_at_each_reopening_and_resets_on_close() {
    use resim::policy::breaker::OpenGrowth;
    let mut b = Breaker::new(BreakerSpec::Rate {
        window: Window::Count(1),
        min_calls: 1,
        failure_rate: 0.5,
        slow_call_duration: SimDuration::from_secs(60),
        slow_call_rate: 1.0,
        open_for: SimDuration::from_secs(1),
        half_open_calls: 1,
    })
    .with_growth(Some(OpenGrowth {
        multiplier: 2.0,
        max: SimDuration::from_secs(5),
    }));
    // Opens at t = 0 (one failure).
    assert!(outcome(&mut b, 0, true));
    assert_eq!(b.state(), State::Open);
    let mut t = 0;
    for wait_s in [1, 2, 4, 5, 5] {
        // Refused exactly when the wait ends, a trial (that fails) 1 ms later.
        assert!(
            !outcome(&mut b, t + wait_s * 1000, true),
            "still open exactly {wait_s} s after opening"
        );
        t += wait_s * 1000 + 1;
        assert!(outcome(&mut b, t, true), "a trial after {wait_s} s");
        assert_eq!(b.state(), State::Open, "the failed trial re-opens it");
    }
    // A successful trial closes it; the next opening waits 1 s again.
    t += 5001;
    assert!(outcome(&mut b, t, false));
    assert_eq!(b.state(), State::Closed);
    t += 10;
    assert!(outcome(&mut b, t, true));
    assert!(!outcome(&mut b, t + 1000, true));
    assert!(outcome(&mut b, t + 1001, false));
    assert_eq!(b.state(), State::Closed);
}

/// The breaker states logged for site `site` of a run: (milliseconds, state).
fn breaker_log(r: &resim::run::RunResult, site: &str) -> Vec<(u64, &'static str)> {
    let log = &r.metrics.policy_log;
    let site = log.sites.iter().position(|s| s == site).expect("the site") as u32;
    log.events
        .iter()
        .filter(|e| e.site == site && e.policy == "circuit_breaker")
        .map(|e| (e.time.as_nanos() / MS, e.event))
        .collect()
}

/// A client sending one request every 3 s to a service that fails from 1 s to 4 s, through
/// a breaker of 1 failure and 1 s open, with `extra` keys.
fn sparse_breaker(extra: &str) -> String {
    format!(
        r#"name = "sparse"
duration = "12s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = 0.3333333333333 }}
circuit_breaker = {{ kind = "consecutive_failures", failures = 1, open_for = "1s"{extra} }}
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
[[fault]]
kind = "errors"
target = "api"
rate = 1.0
at = "1s"
for = "3s"
"#
    )
}

/// `automaticTransitionFromOpenToHalfOpenEnabled` (resilience4j.readme.io/docs/circuitbreaker:
/// "a thread will be created to monitor all the instances of CircuitBreakers to transition
/// them to HALF_OPEN once waitDurationInOpenState passes"): with it, the breaker half-opens
/// at exactly opened_at + open_for with no call arriving; without it (the default), only the
/// next call moves it.
#[test]
fn automatic_transition_half_opens_without_a_call() {
    let lazy = crate::common::run(&sparse_breaker(""), 1);
    let auto = crate::common::run(&sparse_breaker(", automatic_half_open = true"), 1);
    let lazy_log = breaker_log(&lazy, "web->api");
    let auto_log = breaker_log(&auto, "web->api");
    // A request at 3 s fails (1 ms later) and opens it; the next comes at 6 s.
    let opened = 3001;
    assert_eq!(lazy_log[0], (opened, "open"));
    assert_eq!(lazy_log[1], (6000, "half_open"), "lazy: {lazy_log:?}");
    assert_eq!(auto_log[0], lazy_log[0]);
    assert_eq!(
        auto_log[1],
        (opened + 1000, "half_open"),
        "auto: {auto_log:?}"
    );
}

/// `maxWaitDurationInHalfOpenState` (CircuitBreakerConfig: "the maximum time a
/// CircuitBreaker could stay in Half Open state, before it switches to open"): a trial
/// call that hangs longer than the wait re-opens the breaker at the end of the wait.
#[test]
fn half_open_that_waits_too_long_reopens() {
    let text = r#"name = "hang"
duration = "10s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "constant", rate_per_s = 100 }
timeout = "5s"
circuit_breaker = { kind = "consecutive_failures", failures = 1, open_for = "1s", max_wait_in_half_open = "500ms" }
[[service]]
name = "api"
service_time = { kind = "constant", value = "1ms" }
[[fault]]
kind = "errors"
target = "api"
rate = 1.0
at = "1s"
for = "500ms"
[[fault]]
kind = "slow"
target = "api"
factor = 3000
at = "1500ms"
for = "3s"
"#;
    let r = crate::common::run(text, 1);
    let log = breaker_log(&r, "web->api");
    let half = log
        .iter()
        .position(|&(_, s)| s == "half_open")
        .expect("a half-open");
    assert_eq!(log[half + 1], (log[half].0 + 500, "open"), "{log:?}");
}
