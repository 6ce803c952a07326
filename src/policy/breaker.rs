//! Circuit breakers: Resilience4j's CircuitBreaker (count- or time-based sliding window,
//! failure-rate and slow-call-rate thresholds, minimum calls, lazy open -> half-open, a
//! fixed number of trial calls in total), and a consecutive-failures breaker in the style
//! of Polly's basic breaker and Hystrix's single trial.
//!
//! Late outcomes (of calls permitted before the breaker last changed state) are handled as
//! all three libraries handle them: recorded into the state the breaker is in when they
//! arrive. While open they change nothing (Resilience4j's `OpenState.onError` only updates
//! metrics; Polly and Hystrix ignore them); in half-open a late outcome counts like a
//! trial's (Resilience4j records it into the trial window; Polly's and Hystrix's half-open
//! closes on any success and re-opens on any failure); when closed it enters the window.
//!
//! An open period may grow each time a failed trial re-opens the breaker
//! ([`OpenGrowth`]: Resilience4j's `waitIntervalFunctionInOpenState` with an exponential
//! interval function, counted as its `attempts`: 1 when opening from closed, one more for
//! each re-opening from half-open, back to 0 on closing).
//!
//! Two optional timers ([`Timers`]) follow Resilience4j: `automaticTransitionFromOpenToHalfOpenEnabled`
//! (open moves to half-open at `opened_at + open_for` without waiting for a call) and
//! `maxWaitDurationInHalfOpenState` (a half-open period that has not decided by then
//! re-opens). The breaker says when its next timer is due ([`Breaker::due`]); the model
//! schedules it and calls [`Breaker::fire`].
//!
//! Difference from Resilience4j, deliberate: exception lists are the call site's
//! `record_on` (the model gives the permits of ignored outcomes back).

use crate::engine::{SimDuration, SimTime};

/// The sliding window of a rate-based breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last `n` calls.
    Count(u32),
    /// The calls of the last `n` whole epoch seconds (seconds since the run started).
    Time(u32),
}

/// A circuit breaker as configured.
#[derive(Clone, Debug, PartialEq)]
pub enum BreakerSpec {
    /// Resilience4j CircuitBreaker.
    Rate {
        /// `slidingWindowType` and `slidingWindowSize`.
        window: Window,
        /// `minimumNumberOfCalls` (clamped to the window size for count windows).
        min_calls: u32,
        /// `failureRateThreshold`, as a fraction in (0, 1].
        failure_rate: f64,
        /// `slowCallDurationThreshold`: a call is slow if it took strictly longer.
        slow_call_duration: SimDuration,
        /// `slowCallRateThreshold`, as a fraction in (0, 1].
        slow_call_rate: f64,
        /// `waitDurationInOpenState`.
        open_for: SimDuration,
        /// `permittedNumberOfCallsInHalfOpenState`, in total.
        half_open_calls: u32,
    },
    /// Opens after `failures` failures in a row; after `open_for`, one trial call decides.
    ConsecutiveFailures {
        /// Failures in a row that open it.
        failures: u32,
        /// Time open before the trial.
        open_for: SimDuration,
    },
}

/// How the open period grows on repeated openings: the n-th opening in a row (without a
/// close between) lasts min(`max`, `open_for` x `multiplier`^(n-1)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpenGrowth {
    /// Factor per re-opening (at least 1).
    pub multiplier: f64,
    /// Longest open period.
    pub max: SimDuration,
}

/// The optional timed transitions of a breaker (Resilience4j's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timers {
    /// `automaticTransitionFromOpenToHalfOpenEnabled`: open moves to half-open when the open
    /// period ends, on a timer, instead of with the next call.
    pub automatic_half_open: bool,
    /// `maxWaitDurationInHalfOpenState` (with `transitionToStateAfterWaitDuration = OPEN`):
    /// a half-open period still undecided after this long re-opens the breaker.
    pub max_wait_in_half_open: Option<SimDuration>,
}

/// A breaker's state, as logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Calls pass and are measured.
    Closed,
    /// Calls are refused (short-circuited).
    Open,
    /// A limited number of trial calls pass.
    HalfOpen,
}

impl State {
    /// The state's name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
        }
    }
}

/// A permit to call, tied to the breaker state it was issued in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permit(u32);

/// The running sums of a window of outcomes.
#[derive(Clone, Debug, Default)]
struct Metrics {
    /// Count windows: the ring of (failed, slow) outcomes. Time windows: per-second
    /// buckets of (second, calls, failures, slow).
    ring: std::collections::VecDeque<(u64, u32, u32, u32)>,
    calls: u32,
    failures: u32,
    slow: u32,
}

impl Metrics {
    fn clear(&mut self) {
        self.ring.clear();
        self.calls = 0;
        self.failures = 0;
        self.slow = 0;
    }

    fn record(&mut self, window: Window, now: SimTime, failed: bool, slow: bool) {
        let (f, s) = (u32::from(failed), u32::from(slow));
        match window {
            Window::Count(n) => {
                if self.ring.len() as u32 == n {
                    let (_, _, of, os) = self.ring.pop_front().expect("a full ring");
                    self.calls -= 1;
                    self.failures -= of;
                    self.slow -= os;
                }
                self.ring.push_back((0, 1, f, s));
            }
            Window::Time(n) => {
                self.expire(n, now);
                let second = now.as_nanos() / 1_000_000_000;
                match self.ring.back_mut() {
                    Some(b) if b.0 == second => {
                        b.1 += 1;
                        b.2 += f;
                        b.3 += s;
                    }
                    _ => self.ring.push_back((second, 1, f, s)),
                }
            }
        }
        self.calls += 1;
        self.failures += f;
        self.slow += s;
    }

    /// Drops the buckets older than `n` seconds.
    fn expire(&mut self, n: u32, now: SimTime) {
        let second = now.as_nanos() / 1_000_000_000;
        while let Some(&(b, c, f, s)) = self.ring.front() {
            if b + u64::from(n) > second {
                break;
            }
            self.ring.pop_front();
            self.calls -= c;
            self.failures -= f;
            self.slow -= s;
        }
    }
}

/// One breaker, per caller and target.
#[derive(Clone, Debug)]
pub struct Breaker {
    spec: BreakerSpec,
    state: State,
    /// Bumped at every transition; a permit of an older epoch is not given back.
    epoch: u32,
    opened_at: SimTime,
    /// When the breaker last moved to half-open.
    half_opened_at: SimTime,
    /// Timed transitions, if any.
    timers: Timers,
    /// Closed-state window, or the half-open trial window.
    metrics: Metrics,
    /// Trial permits left in half-open.
    permits_left: u32,
    /// Consecutive failures (consecutive kind).
    streak: u32,
    /// How the open period grows, if it does.
    growth: Option<OpenGrowth>,
    /// Openings since the breaker last closed (Resilience4j's `attempts`).
    openings: u32,
    /// The length of the current (or last) open period.
    open_period: SimDuration,
    /// Transitions not yet taken by [`Breaker::take_transitions`]: (time, from, to).
    transitions: Vec<(SimTime, State, State)>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(spec: BreakerSpec) -> Self {
        Breaker {
            spec,
            state: State::Closed,
            epoch: 0,
            opened_at: SimTime::ZERO,
            half_opened_at: SimTime::ZERO,
            timers: Timers::default(),
            metrics: Metrics::default(),
            permits_left: 0,
            streak: 0,
            growth: None,
            openings: 0,
            open_period: SimDuration::ZERO,
            transitions: Vec::new(),
        }
    }

    /// The same breaker, its open period growing as `growth` says (unchanged for `None`).
    pub fn with_growth(mut self, growth: Option<OpenGrowth>) -> Self {
        self.growth = growth;
        self
    }

    /// The same breaker, with timed transitions as `timers` says.
    pub fn with_timers(mut self, timers: Timers) -> Self {
        self.timers = timers;
        self
    }

    /// Starts afresh, closed with an empty window, as a restarted process's breaker does;
    /// the transition is not logged, and timers due for the old state no longer fire.
    pub fn reset(&mut self) {
        let epoch = self.epoch.wrapping_add(1);
        *self = Breaker::new(self.spec.clone())
            .with_growth(self.growth)
            .with_timers(self.timers);
        self.epoch = epoch;
    }

    /// The next timed transition, if one is armed: its time, and the tag to give
    /// [`Breaker::fire`] then. Ask after every change of state.
    pub fn due(&self) -> Option<(SimTime, u32)> {
        match self.state {
            State::Open if self.timers.automatic_half_open => {
                Some((self.opened_at + self.open_for(), self.epoch))
            }
            State::HalfOpen => self
                .timers
                .max_wait_in_half_open
                .map(|w| (self.half_opened_at + w, self.epoch)),
            _ => None,
        }
    }

    /// True when its timers alone move it between open and half-open forever (both
    /// `automatic_half_open` and `max_wait_in_half_open`), with no call to decide anything.
    pub fn cycles_on_its_own(&self) -> bool {
        self.timers.automatic_half_open && self.timers.max_wait_in_half_open.is_some()
    }

    /// A timer returned by [`Breaker::due`] with tag `epoch` fires at `now`: an open
    /// breaker half-opens, an undecided half-open one re-opens; a timer of an earlier state
    /// does nothing.
    pub fn fire(&mut self, epoch: u32, now: SimTime) {
        if epoch != self.epoch {
            return;
        }
        match self.state {
            State::Open => self.go(now, State::HalfOpen),
            State::HalfOpen => self.go(now, State::Open),
            State::Closed => {}
        }
    }

    /// The current state (without the lazy open -> half-open move).
    pub fn state(&self) -> State {
        self.state
    }

    /// The configured (first) open period.
    fn base_open_for(&self) -> SimDuration {
        match self.spec {
            BreakerSpec::Rate { open_for, .. }
            | BreakerSpec::ConsecutiveFailures { open_for, .. } => open_for,
        }
    }

    /// The open period of the `openings`-th opening in a row.
    fn open_period_of(&self, openings: u32) -> SimDuration {
        let base = self.base_open_for();
        let Some(g) = self.growth else {
            return base;
        };
        let grown = base.as_nanos() as f64 * g.multiplier.powi(openings.saturating_sub(1) as i32);
        if grown >= g.max.as_nanos() as f64 {
            g.max
        } else {
            SimDuration(grown.round() as u64)
        }
    }

    fn open_for(&self) -> SimDuration {
        self.open_period
    }

    fn half_open_permits(&self) -> u32 {
        match self.spec {
            BreakerSpec::Rate {
                half_open_calls, ..
            } => half_open_calls,
            BreakerSpec::ConsecutiveFailures { .. } => 1,
        }
    }

    fn go(&mut self, now: SimTime, to: State) {
        self.transitions.push((now, self.state, to));
        self.state = to;
        self.epoch = self.epoch.wrapping_add(1);
        self.metrics.clear();
        self.streak = 0;
        match to {
            State::Open => {
                self.opened_at = now;
                self.openings = self.openings.saturating_add(1);
                self.open_period = self.open_period_of(self.openings);
            }
            State::HalfOpen => {
                self.permits_left = self.half_open_permits();
                self.half_opened_at = now;
            }
            State::Closed => self.openings = 0,
        }
    }

    /// Asks to make a call now. `None` means refused (short-circuited). An open breaker
    /// moves to half-open lazily, with the first call that comes once `open_for` has passed,
    /// which takes the first trial permit: strictly after `opened_at + open_for` for a rate
    /// breaker (Resilience4j), at or after it for a consecutive-failures one (Polly's
    /// `now >= blockedUntil`).
    pub fn try_acquire(&mut self, now: SimTime) -> Option<Permit> {
        let reopens_at = self.opened_at + self.open_for();
        let due = match self.spec {
            BreakerSpec::Rate { .. } => now > reopens_at,
            BreakerSpec::ConsecutiveFailures { .. } => now >= reopens_at,
        };
        if self.state == State::Open && due {
            self.go(now, State::HalfOpen);
        }
        match self.state {
            State::Closed => Some(Permit(self.epoch)),
            State::Open => None,
            State::HalfOpen if self.permits_left > 0 => {
                self.permits_left -= 1;
                Some(Permit(self.epoch))
            }
            State::HalfOpen => None,
        }
    }

    /// Gives back the trial permit of a call that ended without an outcome to record (a
    /// hedge that lost the race, work killed by a crash), so that half-open can still
    /// decide; Resilience4j's `releasePermission`. A permit of an earlier state is ignored.
    pub fn release(&mut self, permit: Permit) {
        if permit.0 == self.epoch && self.state == State::HalfOpen {
            self.permits_left += 1;
        }
    }

    /// Records the outcome of a permitted call that took `duration`, into the state the
    /// breaker is in now, whatever state issued `permit` (as Resilience4j, Polly and Hystrix
    /// do): ignored while open, a trial outcome in half-open, part of the window when closed.
    pub fn record(&mut self, _permit: Permit, now: SimTime, duration: SimDuration, failed: bool) {
        match self.spec.clone() {
            BreakerSpec::Rate {
                window,
                min_calls,
                failure_rate,
                slow_call_duration,
                slow_call_rate,
                half_open_calls,
                ..
            } => {
                let slow = duration > slow_call_duration;
                let (window, needed) = match self.state {
                    State::Closed => {
                        let needed = match window {
                            Window::Count(n) => min_calls.min(n),
                            Window::Time(_) => min_calls,
                        };
                        (window, needed.max(1))
                    }
                    State::HalfOpen => (
                        Window::Count(half_open_calls),
                        min_calls.min(half_open_calls).max(1),
                    ),
                    State::Open => return,
                };
                self.metrics.record(window, now, failed, slow);
                let m = &self.metrics;
                if m.calls < needed {
                    return;
                }
                let calls = f64::from(m.calls);
                let tripped = f64::from(m.failures) / calls >= failure_rate
                    || f64::from(m.slow) / calls >= slow_call_rate;
                match (self.state, tripped) {
                    (_, true) => self.go(now, State::Open),
                    (State::HalfOpen, false) => self.go(now, State::Closed),
                    _ => {}
                }
            }
            BreakerSpec::ConsecutiveFailures { failures, .. } => match (self.state, failed) {
                (State::HalfOpen, true) => self.go(now, State::Open),
                (State::HalfOpen, false) => self.go(now, State::Closed),
                (State::Closed, true) => {
                    self.streak += 1;
                    if self.streak >= failures {
                        self.go(now, State::Open);
                    }
                }
                (State::Closed, false) => self.streak = 0,
                (State::Open, _) => {}
            },
        }
    }

    /// The state changes since the last call, oldest first.
    pub fn take_transitions(&mut self) -> std::vec::Drain<'_, (SimTime, State, State)> {
        self.transitions.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn r4j(window: Window) -> Breaker {
        Breaker::new(BreakerSpec::Rate {
            window,
            min_calls: 4,
            failure_rate: 0.5,
            slow_call_duration: SimDuration::from_millis(500),
            slow_call_rate: 1.0,
            open_for: SimDuration::from_secs(10),
            half_open_calls: 2,
        })
    }

    /// Makes a call at `t_ms` that fails or not and takes `took_ms`; returns whether it
    /// was permitted.
    fn call(b: &mut Breaker, t_ms: u64, failed: bool, took_ms: u64) -> bool {
        let now = SimTime(t_ms * MS);
        match b.try_acquire(now) {
            Some(p) => {
                b.record(p, now, SimDuration::from_millis(took_ms), failed);
                true
            }
            None => false,
        }
    }

    fn states(b: &mut Breaker) -> Vec<(u64, &'static str)> {
        b.take_transitions()
            .map(|(t, _, to)| (t.as_nanos() / MS, to.name()))
            .collect()
    }

    #[test]
    fn count_window_opens_at_exactly_the_threshold_after_minimum_calls() {
        let mut b = r4j(Window::Count(10));
        // Three calls, two failed: 67% but below the minimum of 4 calls.
        for (t, failed) in [(1, true), (2, false), (3, true)] {
            call(&mut b, t, failed, 1);
        }
        assert_eq!(b.state(), State::Closed);
        // Fourth call succeeds: 2 of 4 = 50%, at the threshold: opens.
        call(&mut b, 4, false, 1);
        assert_eq!(states(&mut b), [(4, "open")]);
        // Refused while open, including exactly at opened_at + wait (the move is strict).
        assert!(!call(&mut b, 5_000, false, 1));
        assert!(!call(&mut b, 10_004, false, 1));
        // The first call after the wait moves it to half-open and takes a trial permit.
        assert!(call(&mut b, 10_005, false, 1));
        assert!(call(&mut b, 10_006, false, 1));
        // Two trials, both successes: closes.
        assert_eq!(states(&mut b), [(10_005, "half_open"), (10_006, "closed")]);
    }

    #[test]
    fn half_open_reopens_on_failed_trials_and_permits_are_total_not_concurrent() {
        let mut b = r4j(Window::Count(4));
        for t in 1..=4 {
            call(&mut b, t, true, 1);
        }
        assert_eq!(b.state(), State::Open);
        // Two permits in total: acquire both, third is refused even before outcomes arrive.
        let now = SimTime(20_000 * MS);
        let p1 = b.try_acquire(now).expect("first trial");
        let p2 = b.try_acquire(now).expect("second trial");
        assert!(
            b.try_acquire(now).is_none(),
            "only two trial calls in total"
        );
        b.record(p1, now, SimDuration::from_millis(1), true);
        assert_eq!(
            b.state(),
            State::HalfOpen,
            "one of two trials recorded: not yet decided"
        );
        b.record(p2, now, SimDuration::from_millis(1), false);
        // 1 failure of 2 = 50% >= 50%: back to open.
        assert_eq!(
            states(&mut b),
            [(4, "open"), (20_000, "half_open"), (20_000, "open")]
        );
    }

    #[test]
    fn slow_calls_count_only_when_strictly_slower_than_the_threshold() {
        let mut b = Breaker::new(BreakerSpec::Rate {
            window: Window::Count(4),
            min_calls: 4,
            failure_rate: 1.0,
            slow_call_duration: SimDuration::from_millis(500),
            slow_call_rate: 0.5,
            open_for: SimDuration::from_secs(1),
            half_open_calls: 1,
        });
        for t in 1..=4 {
            call(&mut b, t, false, 500); // exactly at the threshold: not slow
        }
        assert_eq!(b.state(), State::Closed);
        call(&mut b, 5, false, 501);
        call(&mut b, 6, false, 501);
        // Window of the last 4: two slow of four = 50%: opens.
        assert_eq!(b.state(), State::Open);
    }

    #[test]
    fn time_window_forgets_calls_older_than_its_seconds() {
        let mut b = r4j(Window::Time(2));
        // Two failures in second 0, two successes in second 3: the failures have left the
        // 2-second window, so 0 of 2 calls failed and the minimum of 4 is not reached.
        call(&mut b, 100, true, 1);
        call(&mut b, 200, true, 1);
        call(&mut b, 3_100, false, 1);
        call(&mut b, 3_200, false, 1);
        assert_eq!(b.state(), State::Closed);
        // Two failures in second 4: window holds seconds 3 and 4: 2 of 4 failed: opens.
        call(&mut b, 4_000, true, 1);
        call(&mut b, 4_100, true, 1);
        assert_eq!(states(&mut b), [(4_100, "open")]);
    }

    /// Opens `b` (count window of 4, min 4 calls) with four failures at 1..=4 ms.
    fn trip(b: &mut Breaker) {
        for t in 1..=4 {
            call(b, t, true, 1);
        }
        assert_eq!(b.state(), State::Open);
    }

    #[test]
    fn a_late_outcome_changes_nothing_while_open() {
        let mut b = r4j(Window::Count(4));
        let early = b.try_acquire(SimTime(0)).expect("closed");
        trip(&mut b);
        b.record(early, SimTime(5 * MS), SimDuration::from_millis(1), false);
        assert_eq!(b.state(), State::Open);
        // Nor does it linger: half-open starts from an empty trial window.
        assert!(call(&mut b, 10_005, false, 1));
        assert!(call(&mut b, 10_006, false, 1));
        assert_eq!(b.state(), State::Closed);
    }

    /// Resilience4j's `HalfOpenState.onError` records into the trial window whatever state
    /// permitted the call: a late failure and one trial success make 1 of 2 = 50%: re-open.
    #[test]
    fn a_late_outcome_counts_as_a_trial_outcome_in_a_rate_breaker() {
        let mut b = r4j(Window::Count(4));
        let early = b.try_acquire(SimTime(0)).expect("closed");
        trip(&mut b);
        assert!(call(&mut b, 10_005, false, 1), "the first trial");
        assert_eq!(b.state(), State::HalfOpen);
        b.record(
            early,
            SimTime(10_006 * MS),
            SimDuration::from_millis(1),
            true,
        );
        assert_eq!(
            b.state(),
            State::Open,
            "decided with one trial and one late outcome"
        );
    }

    /// Resilience4j's `ClosedState.onError` records a late failure into the fresh window.
    #[test]
    fn a_late_outcome_enters_the_closed_window_of_a_rate_breaker() {
        let mut b = r4j(Window::Count(4));
        let early: Vec<Permit> = (0..2)
            .map(|_| b.try_acquire(SimTime(0)).expect("closed"))
            .collect();
        trip(&mut b);
        assert!(call(&mut b, 10_005, false, 1));
        assert!(call(&mut b, 10_006, false, 1));
        assert_eq!(b.state(), State::Closed);
        call(&mut b, 10_007, false, 1);
        call(&mut b, 10_008, false, 1);
        for p in early {
            b.record(p, SimTime(10_009 * MS), SimDuration::from_millis(1), true);
        }
        // 2 late failures of 4 calls = 50%: opens.
        assert_eq!(b.state(), State::Open);
    }

    fn consecutive(failures: u32) -> Breaker {
        Breaker::new(BreakerSpec::ConsecutiveFailures {
            failures,
            open_for: SimDuration::from_secs(5),
        })
    }

    /// Polly's half-open closes on any success and breaks again on any handled failure, the
    /// probe's or not (`CircuitStateController`), as Hystrix's `markSuccess`/`markNonSuccess`.
    #[test]
    fn a_late_outcome_decides_a_consecutive_breaker_in_half_open() {
        for late_failed in [false, true] {
            let mut b = consecutive(2);
            let early = b.try_acquire(SimTime(0)).expect("closed");
            call(&mut b, 1, true, 1);
            call(&mut b, 2, true, 1);
            let probe = b.try_acquire(SimTime(5_002 * MS)).expect("the probe");
            assert_eq!(b.state(), State::HalfOpen);
            b.record(
                early,
                SimTime(5_003 * MS),
                SimDuration::from_millis(1),
                late_failed,
            );
            let expected = if late_failed {
                State::Open
            } else {
                State::Closed
            };
            assert_eq!(b.state(), expected, "late outcome failed: {late_failed}");
            // The probe's own outcome then lands in the new state.
            b.record(
                probe,
                SimTime(5_004 * MS),
                SimDuration::from_millis(1),
                false,
            );
        }
    }

    /// Polly moves to half-open with the first call at or after `blockedUntil`.
    #[test]
    fn a_consecutive_breaker_half_opens_exactly_at_the_end_of_open_for() {
        let mut b = consecutive(1);
        call(&mut b, 1, true, 1);
        assert!(!call(&mut b, 5_000, false, 1));
        assert!(call(&mut b, 5_001, false, 1), "at opened_at + open_for");
        assert_eq!(
            states(&mut b),
            [(1, "open"), (5_001, "half_open"), (5_001, "closed")]
        );
    }

    #[test]
    fn consecutive_failures_breaker_uses_one_trial() {
        let mut b = Breaker::new(BreakerSpec::ConsecutiveFailures {
            failures: 3,
            open_for: SimDuration::from_secs(5),
        });
        call(&mut b, 1, true, 1);
        call(&mut b, 2, true, 1);
        call(&mut b, 3, false, 1); // the streak breaks
        call(&mut b, 4, true, 1);
        call(&mut b, 5, true, 1);
        assert_eq!(b.state(), State::Closed);
        call(&mut b, 6, true, 1);
        assert_eq!(b.state(), State::Open);
        let now = SimTime(6_000 * MS);
        let trial = b.try_acquire(now).expect("the single trial");
        assert!(b.try_acquire(now).is_none(), "one trial only");
        b.record(trial, now, SimDuration::from_millis(1), false);
        assert_eq!(
            states(&mut b),
            [(6, "open"), (6_000, "half_open"), (6_000, "closed")]
        );
    }

    /// Resilience4j's `automaticTransitionFromOpenToHalfOpenEnabled`: the timer fires at
    /// opened_at + open_for and half-opens without a call; a timer of an older state is
    /// ignored.
    #[test]
    fn an_automatic_breaker_half_opens_on_its_timer() {
        let mut b = r4j(Window::Count(4)).with_timers(Timers {
            automatic_half_open: true,
            max_wait_in_half_open: None,
        });
        assert_eq!(b.due(), None, "closed: no timer");
        trip(&mut b);
        let (at, epoch) = b.due().expect("open: a timer");
        assert_eq!(at, SimTime(10_004 * MS));
        b.fire(epoch.wrapping_sub(1), at);
        assert_eq!(b.state(), State::Open, "a stale timer does nothing");
        b.fire(epoch, at);
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(b.due(), None, "no limit on half-open");
        // Both trial permits are still there: the timer took none.
        assert!(call(&mut b, 10_005, false, 1));
        assert!(call(&mut b, 10_006, false, 1));
        assert_eq!(
            states(&mut b),
            [(4, "open"), (10_004, "half_open"), (10_006, "closed")]
        );
    }

    /// Resilience4j's `maxWaitDurationInHalfOpenState`: half-open still undecided after the
    /// wait re-opens (its open period then counts as a re-opening).
    #[test]
    fn an_undecided_half_open_reopens_after_its_longest_wait() {
        let mut b = r4j(Window::Count(4)).with_timers(Timers {
            automatic_half_open: false,
            max_wait_in_half_open: Some(SimDuration::from_secs(2)),
        });
        trip(&mut b);
        assert_eq!(b.due(), None, "lazy half-open: no timer while open");
        let trial = b.try_acquire(SimTime(10_005 * MS)).expect("a trial");
        let (at, epoch) = b.due().expect("half-open: a timer");
        assert_eq!(at, SimTime(12_005 * MS));
        b.fire(epoch, at);
        assert_eq!(b.state(), State::Open);
        // The trial that outlived half-open changes nothing now.
        b.record(
            trial,
            SimTime(12_006 * MS),
            SimDuration::from_millis(1),
            false,
        );
        assert_eq!(b.state(), State::Open);
        // Decided in time, the timer is stale.
        let mut d = r4j(Window::Count(4)).with_timers(b.timers);
        trip(&mut d);
        assert!(call(&mut d, 10_005, false, 1));
        let (at, epoch) = d.due().expect("half-open: a timer");
        assert!(call(&mut d, 10_006, false, 1));
        d.fire(epoch, at);
        assert_eq!(d.state(), State::Closed);
    }

    /// A reset breaker is closed and ignores the timers of its past.
    #[test]
    fn a_reset_breaker_is_closed_and_forgets_its_timers() {
        let mut b = r4j(Window::Count(4)).with_timers(Timers {
            automatic_half_open: true,
            max_wait_in_half_open: None,
        });
        trip(&mut b);
        let (at, epoch) = b.due().expect("a timer");
        b.reset();
        assert_eq!(b.state(), State::Closed);
        b.fire(epoch, at);
        assert_eq!(b.state(), State::Closed);
        assert!(call(&mut b, 10_010, true, 1), "closed: calls pass");
    }
}
