//! Retry budgets: a ratio of retries to requests over a sliding window (Finagle's
//! `RetryBudget`), gRPC's retry throttling token bucket, the AWS SDK retry quota, and
//! Envoy's concurrency-based retry budget.
//!
//! A retry the budget refuses is not sent; the failure that wanted it stands.

use crate::engine::{SimDuration, SimTime};
use crate::outcome::Outcome;

/// A retry budget as configured.
#[derive(Clone, Debug, PartialEq)]
pub enum BudgetSpec {
    /// Finagle `RetryBudget` semantics: over the last `ttl`, retries may be at most
    /// `percent`% of the requests plus `min_per_s * ttl`. The window is Finagle's
    /// `WindowedAdder` with 10 slices: the current slice and the 9 before it, a slice
    /// starting with the first event at least `ttl / 10` after the current one started.
    Ratio {
        /// Retries allowed per 100 requests.
        percent: f64,
        /// Retries per second allowed whatever the traffic.
        min_per_s: f64,
        /// Window length.
        ttl: SimDuration,
    },
    /// gRPC `retryThrottling`: tokens start at `max_tokens`; a failed attempt with a
    /// retryable reason takes 1, a success gives back `token_ratio`; retries only while
    /// tokens > `max_tokens` / 2.
    TokenBucket {
        /// Capacity and starting level (0 < max <= 1000).
        max_tokens: f64,
        /// Tokens a success returns.
        token_ratio: f64,
    },
    /// AWS SDK standard-mode retry quota: a bucket of `capacity` tokens; a retry withdraws
    /// `retry_cost` (`timeout_cost` after a timeout) or is refused when the bucket cannot
    /// cover it; a successful retry refunds what it withdrew; a success at the first
    /// attempt adds `no_retry_increment`.
    Quota {
        /// Capacity and starting level (500 in the SDKs).
        capacity: f64,
        /// Cost of a retry after an error (5).
        retry_cost: f64,
        /// Cost of a retry after a timeout (10 in JS v3, 5 in Java v2).
        timeout_cost: f64,
        /// Deposit of a first-attempt success (1).
        no_retry_increment: f64,
    },
    /// Envoy's cluster `retry_budget`: retries outstanding at once at most
    /// max(`min_concurrent`, `percent`% of the attempts in flight, rounded down as Envoy
    /// rounds it). A retry holds its place
    /// from the decision to retry (its backoff included) until its outcome is known, as
    /// Envoy's `RetryStateImpl` holds the retries resource until the next retry decision or
    /// the end of the request.
    Concurrency {
        /// `budget_percent` (20 in Envoy).
        percent: f64,
        /// `min_retry_concurrency` (3 in Envoy).
        min_concurrent: u32,
    },
}

/// A budget's state, one per caller and target.
#[derive(Clone, Debug)]
pub struct Budget {
    spec: BudgetSpec,
    tokens: f64,
    /// Ratio budgets: (requests, retries) per slice, oldest first; the last is current.
    slots: std::collections::VecDeque<(u64, u64)>,
    /// Ratio budgets: when the current slice started.
    slice_start: SimTime,
    /// Concurrency budgets: attempts in flight.
    active: u32,
    /// Concurrency budgets: retries holding their place.
    retries: u32,
}

/// Finagle's `LeakyBucket` keeps a `WindowedAdder` of this many slices.
const SLICES: u64 = 10;

impl Budget {
    /// A fresh budget.
    pub fn new(spec: BudgetSpec) -> Self {
        let tokens = match &spec {
            BudgetSpec::Ratio { .. } => 0.0,
            BudgetSpec::TokenBucket { max_tokens, .. } => *max_tokens,
            BudgetSpec::Quota { capacity, .. } => *capacity,
            BudgetSpec::Concurrency { .. } => 0.0,
        };
        let mut slots = std::collections::VecDeque::with_capacity(SLICES as usize + 1);
        slots.push_back((0, 0));
        Budget {
            spec,
            tokens,
            slots,
            slice_start: SimTime::ZERO,
            active: 0,
            retries: 0,
        }
    }

    /// Slides the ratio window to `now` and returns the current slice, as Finagle's
    /// `WindowedAdder.expired`: once `ttl / 10` has passed since the current slice started,
    /// a new one starts now, after as many empty slices as whole slice lengths were skipped
    /// beyond the first; only the newest 10 are kept.
    fn slot(&mut self, now: SimTime) -> &mut (u64, u64) {
        let slice = match &self.spec {
            BudgetSpec::Ratio { ttl, .. } => (ttl.as_nanos() / SLICES).max(1),
            _ => u64::MAX,
        };
        let elapsed = now.as_nanos().saturating_sub(self.slice_start.as_nanos());
        if elapsed >= slice {
            let skipped = (elapsed / slice - 1).min(SLICES - 1);
            for _ in 0..=skipped {
                self.slots.push_back((0, 0));
            }
            while self.slots.len() as u64 > SLICES {
                self.slots.pop_front();
            }
            self.slice_start = now;
        }
        self.slots.back_mut().expect("a current slot")
    }

    /// A new request (its first attempt) goes out.
    pub fn on_request(&mut self, now: SimTime) {
        if let BudgetSpec::Ratio { .. } = self.spec {
            self.slot(now).0 += 1;
        }
    }

    /// True when a hedge may go out: gRPC throttles hedges with the retry-throttling tokens
    /// (A6: "hedged requests ... are throttled" while tokens are at or below half); the
    /// other budgets limit retries only.
    pub fn allows_hedge(&self) -> bool {
        match self.spec {
            BudgetSpec::TokenBucket { max_tokens, .. } => self.tokens > max_tokens / 2.0,
            BudgetSpec::Ratio { .. }
            | BudgetSpec::Quota { .. }
            | BudgetSpec::Concurrency { .. } => true,
        }
    }

    /// An attempt (first, retry or hedge) goes out.
    pub fn on_sent(&mut self) {
        if self.holds_retries() {
            self.active += 1;
        }
    }

    /// An attempt ended without its outcome reaching the budget (a hedge that lost the
    /// race, an attempt cut off by the deadline or killed by a crash).
    pub fn on_cut(&mut self) {
        if self.holds_retries() {
            self.active -= 1;
        }
    }

    /// A retry that held its place (a concurrency budget's) has its outcome, or its call
    /// ended.
    pub fn release_retry(&mut self) {
        self.retries -= 1;
    }

    /// Concurrency budgets: retries allowed outstanding at once now, a whole number: Envoy's
    /// `RetryBudgetImpl::max` converts `budget_percent / 100 x active` to an unsigned
    /// integer (truncating) before taking the larger of it and `min_retry_concurrency`.
    fn concurrency_cap(&self) -> f64 {
        match self.spec {
            BudgetSpec::Concurrency {
                percent,
                min_concurrent,
            } => (percent / 100.0 * f64::from(self.active))
                .trunc()
                .max(f64::from(min_concurrent)),
            _ => f64::INFINITY,
        }
    }

    /// Asks to send a retry after `failure`; true (and the retry is paid for) if allowed.
    /// `cost` receives what was withdrawn, to refund on success (quota budgets). An allowed
    /// retry of a concurrency budget holds its place until [`Budget::release_retry`].
    pub fn try_retry(&mut self, now: SimTime, failure: Outcome, cost: &mut f64) -> bool {
        *cost = 0.0;
        match self.spec {
            BudgetSpec::Ratio { .. } => {
                let allowance = self.allowance(now);
                let used = self.retries_in_window();
                if (used as f64) + 1.0 <= allowance {
                    self.slot(now).1 += 1;
                    true
                } else {
                    false
                }
            }
            BudgetSpec::TokenBucket { max_tokens, .. } => self.tokens > max_tokens / 2.0,
            BudgetSpec::Quota {
                retry_cost,
                timeout_cost,
                ..
            } => {
                let c = if failure == Outcome::Timeout {
                    timeout_cost
                } else {
                    retry_cost
                };
                if self.tokens >= c {
                    self.tokens -= c;
                    *cost = c;
                    true
                } else {
                    false
                }
            }
            BudgetSpec::Concurrency { .. } => {
                if f64::from(self.retries) < self.concurrency_cap() {
                    self.retries += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// True when an allowed retry holds a place until [`Budget::release_retry`].
    pub fn holds_retries(&self) -> bool {
        matches!(self.spec, BudgetSpec::Concurrency { .. })
    }

    /// An attempt ended; `retryable` tells a failure the call site would retry (its reason
    /// is in `retry_on`) from one it would not, `first_attempt` a request's first try from a
    /// retry, and `cost` is what its retry withdrew.
    pub fn on_attempt(&mut self, success: bool, retryable: bool, first_attempt: bool, cost: f64) {
        match self.spec {
            BudgetSpec::Ratio { .. } => {}
            BudgetSpec::Concurrency { .. } => self.active -= 1,
            BudgetSpec::TokenBucket {
                max_tokens,
                token_ratio,
            } => {
                // gRPC (proposal A6) counts only failures with a retryable status against
                // the tokens; the others neither take nor give.
                if success {
                    self.tokens = (self.tokens + token_ratio).min(max_tokens);
                } else if retryable {
                    self.tokens = (self.tokens - 1.0).max(0.0);
                }
            }
            BudgetSpec::Quota {
                capacity,
                no_retry_increment,
                ..
            } => {
                if success {
                    let refund = if first_attempt {
                        no_retry_increment
                    } else {
                        cost
                    };
                    self.tokens = (self.tokens + refund).min(capacity);
                }
            }
        }
    }

    /// Ratio budgets: retries allowed over the current window.
    fn allowance(&mut self, now: SimTime) -> f64 {
        let BudgetSpec::Ratio {
            percent,
            min_per_s,
            ttl,
        } = self.spec
        else {
            return 0.0;
        };
        self.slot(now);
        let requests: u64 = self.slots.iter().map(|s| s.0).sum();
        percent / 100.0 * requests as f64 + min_per_s * ttl.as_secs_f64()
    }

    fn retries_in_window(&self) -> u64 {
        self.slots.iter().map(|s| s.1).sum()
    }

    /// The budget's level now, for the policy log: retries still allowed in the window
    /// (ratio) or at once (concurrency), or tokens (token bucket, quota).
    pub fn level(&mut self, now: SimTime) -> f64 {
        match self.spec {
            BudgetSpec::Ratio { .. } => self.allowance(now) - self.retries_in_window() as f64,
            BudgetSpec::Concurrency { .. } => self.concurrency_cap() - f64::from(self.retries),
            _ => self.tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    const S: u64 = 1_000_000_000;

    proptest! {
        #![proptest_config(Config { cases: 128, rng_seed: RngSeed::Fixed(3), ..Config::default() })]

        /// Whatever the traffic, at every retry allowed at t the retries since t - 0.9 ttl
        /// (always inside the window: a slice holds events less than ttl/10 apart) never
        /// exceed percent% of the requests since t - 2 ttl (the window never reaches further
        /// back: a slice and the empty ones after it span less than two slice lengths each)
        /// plus min_per_s * ttl.
        #[test]
        fn ratio_budget_never_exceeds_its_allowance(
            events in prop::collection::vec((0u64..2_000_000_000, any::<bool>()), 1..600),
            percent in 1.0f64..50.0,
            min_per_s in 0.0f64..3.0,
        ) {
            let ttl = 3 * S;
            let mut b = Budget::new(BudgetSpec::Ratio { percent, min_per_s, ttl: SimDuration(ttl) });
            let mut now = 0u64;
            let mut log: Vec<(u64, bool)> = Vec::new(); // (time, is_retry)
            let mut cost = 0.0;
            for (gap, is_request) in events {
                now += gap / 20;
                let t = SimTime(now);
                if is_request {
                    b.on_request(t);
                    log.push((now, false));
                } else if b.try_retry(t, Outcome::Error, &mut cost) {
                    log.push((now, true));
                }
            }
            for &(end, _) in log.iter().filter(|e| e.1) {
                let since = |from: u64| log.iter().filter(move |e| e.0 >= from && e.0 <= end);
                let requests = since(end.saturating_sub(2 * ttl)).filter(|e| !e.1).count() as f64;
                let retries = since(end.saturating_sub(ttl / 10 * 9)).filter(|e| e.1).count() as f64;
                prop_assert!(retries <= percent / 100.0 * requests + min_per_s * 3.0 + 1e-9,
                    "window ending {end}: {retries} retries for {requests} requests");
            }
        }

        /// gRPC throttling: a retry is allowed only while tokens exceed half the maximum.
        #[test]
        fn token_bucket_allows_retries_only_above_half(outcomes in prop::collection::vec(any::<bool>(), 1..300)) {
            let mut b = Budget::new(BudgetSpec::TokenBucket { max_tokens: 10.0, token_ratio: 0.1 });
            let mut cost = 0.0;
            for success in outcomes {
                let before = b.level(SimTime::ZERO);
                let allowed = b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost);
                prop_assert_eq!(allowed, before > 5.0);
                b.on_attempt(success, true, true, 0.0);
                let after = b.level(SimTime::ZERO);
                prop_assert!((0.0..=10.0).contains(&after));
            }
        }
    }

    /// Finagle's `WindowedAdder` with a 1 s ttl slides in 100 ms slices: a request 100 ms
    /// before a retry funds it even across a whole second (a window sliding by whole
    /// seconds dropped it), and one ten slices back no longer does.
    #[test]
    fn ratio_window_slides_in_tenths_of_the_ttl() {
        let ms = |t: u64| SimTime(t * 1_000_000);
        let budget = || {
            Budget::new(BudgetSpec::Ratio {
                percent: 100.0,
                min_per_s: 0.0,
                ttl: SimDuration::from_secs(1),
            })
        };
        let mut cost = 0.0;
        let mut b = budget();
        b.on_request(ms(950));
        assert!(
            b.try_retry(ms(1_050), Outcome::Error, &mut cost),
            "100 ms ago"
        );
        let mut b = budget();
        b.on_request(ms(10));
        for t in (110..=1_010).step_by(100) {
            b.level(ms(t)); // traffic that starts a slice every 100 ms
        }
        assert!(
            !b.try_retry(ms(1_060), Outcome::Error, &mut cost),
            "ten slices back"
        );
    }

    /// Finagle starts a slice lazily, with the first event at least ttl/10 after the
    /// current one started, so with sparse traffic the window reaches further back than
    /// `ttl`: deposits 190 ms apart, each starting one slice, stay for ten of them (1.8 s).
    #[test]
    fn ratio_slices_start_with_traffic_not_with_the_clock() {
        let mut b = Budget::new(BudgetSpec::Ratio {
            percent: 100.0,
            min_per_s: 0.0,
            ttl: SimDuration::from_secs(1),
        });
        let mut cost = 0.0;
        for k in 0..10 {
            b.on_request(SimTime(k * 190_000_000));
        }
        // At 1.8 s the deposit of time 0 is in the oldest of the ten slices kept.
        assert!((b.level(SimTime(1_809_000_000)) - 10.0).abs() < 1e-9);
        assert!(b.try_retry(SimTime(1_809_000_000), Outcome::Error, &mut cost));
        // The next slice pushes it out: 9 deposits less the retry.
        assert!((b.level(SimTime(1_900_000_000)) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn token_bucket_follows_the_grpc_example() {
        // maxTokens 10, tokenRatio 0.1: five failures take it to 5, where retries stop;
        // then ten successes bring it to 6, above the threshold again.
        let mut b = Budget::new(BudgetSpec::TokenBucket {
            max_tokens: 10.0,
            token_ratio: 0.1,
        });
        let mut cost = 0.0;
        for _ in 0..5 {
            b.on_attempt(false, true, true, 0.0);
        }
        assert!(
            !b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost),
            "5 is not above 5"
        );
        for _ in 0..10 {
            b.on_attempt(true, true, true, 0.0);
        }
        assert!((b.level(SimTime::ZERO) - 6.0).abs() < 1e-9);
        assert!(b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost));
    }

    #[test]
    fn quota_charges_retries_and_refunds_successful_ones() {
        let mut b = Budget::new(BudgetSpec::Quota {
            capacity: 12.0,
            retry_cost: 5.0,
            timeout_cost: 10.0,
            no_retry_increment: 1.0,
        });
        let mut cost = 0.0;
        assert!(b.try_retry(SimTime::ZERO, Outcome::Timeout, &mut cost));
        assert_eq!((cost, b.level(SimTime::ZERO)), (10.0, 2.0));
        assert!(
            !b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost),
            "2 tokens cannot pay 5"
        );
        b.on_attempt(true, true, false, 10.0);
        assert_eq!(
            b.level(SimTime::ZERO),
            12.0,
            "the successful retry is refunded, capped"
        );
    }

    /// Envoy's retry budget: max(`min_retry_concurrency`, `budget_percent` x active)
    /// retries outstanding at once; a retry holds its place until released.
    #[test]
    fn a_concurrency_budget_caps_retries_outstanding_at_once() {
        let mut b = Budget::new(BudgetSpec::Concurrency {
            percent: 20.0,
            min_concurrent: 3,
        });
        let mut cost = 0.0;
        let mut retry = |b: &mut Budget| b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost);
        // 10 attempts in flight: 20% is 2, the floor of 3 rules.
        for _ in 0..10 {
            b.on_sent();
        }
        assert!((0..3).all(|_| retry(&mut b)));
        assert!(!retry(&mut b), "a fourth retry overflows");
        assert_eq!(b.level(SimTime::ZERO), 0.0);
        b.release_retry();
        assert!(retry(&mut b), "a released place is free again");
        // 25 in flight: 20% is 5.
        for _ in 0..15 {
            b.on_sent();
        }
        assert!(retry(&mut b) && retry(&mut b));
        assert!(!retry(&mut b));
        // Attempts ending lower the cap again: 10 in flight, 5 held, none allowed.
        for _ in 0..10 {
            b.on_attempt(false, true, true, 0.0);
        }
        for _ in 0..5 {
            b.on_cut();
        }
        assert!(!retry(&mut b));
        assert_eq!(b.level(SimTime::ZERO), -2.0, "cap 3, 5 held");
    }

    /// Envoy converts 20% of the attempts in flight to a whole number, rounding down, before
    /// comparing: with 22 in flight (4.4) a fifth retry at once overflows.
    #[test]
    fn a_concurrency_budget_rounds_its_cap_down_as_envoy_does() {
        let mut b = Budget::new(BudgetSpec::Concurrency {
            percent: 20.0,
            min_concurrent: 3,
        });
        let mut cost = 0.0;
        let mut retry = |b: &mut Budget| b.try_retry(SimTime::ZERO, Outcome::Error, &mut cost);
        for _ in 0..22 {
            b.on_sent();
        }
        assert!((0..4).all(|_| retry(&mut b)));
        assert_eq!(b.level(SimTime::ZERO), 0.0, "cap 4, 4 held");
        assert!(!retry(&mut b), "a fifth retry overflows");
    }
}
