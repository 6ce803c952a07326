//! Retry budgets: a ratio of retries to requests over a sliding window (Finagle's
//! `RetryBudget`), gRPC's retry throttling token bucket, and the AWS SDK retry quota.
//!
//! A retry the budget refuses is not sent; the failure that wanted it stands.

use crate::engine::{SimDuration, SimTime};
use crate::outcome::Outcome;

/// A retry budget as configured.
#[derive(Clone, Debug, PartialEq)]
pub enum BudgetSpec {
    /// Finagle `RetryBudget` semantics: over the last `ttl`, retries may be at most
    /// `percent`% of the requests plus `min_per_s * ttl`. Differs from Finagle in that the
    /// window slides in whole seconds (Finagle expires each deposit individually).
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
}

/// A budget's state, one per caller and target.
#[derive(Clone, Debug)]
pub struct Budget {
    spec: BudgetSpec,
    tokens: f64,
    /// Ratio budgets: per-second slots (second index, requests, retries), oldest first.
    slots: std::collections::VecDeque<(u64, u64, u64)>,
}

impl Budget {
    /// A fresh budget.
    pub fn new(spec: BudgetSpec) -> Self {
        let tokens = match &spec {
            BudgetSpec::Ratio { .. } => 0.0,
            BudgetSpec::TokenBucket { max_tokens, .. } => *max_tokens,
            BudgetSpec::Quota { capacity, .. } => *capacity,
        };
        Budget {
            spec,
            tokens,
            slots: std::collections::VecDeque::with_capacity(64),
        }
    }

    /// Drops ratio slots that have left the window, and returns the current one.
    fn slot(&mut self, now: SimTime) -> &mut (u64, u64, u64) {
        let ttl_s = match &self.spec {
            BudgetSpec::Ratio { ttl, .. } => ttl.as_nanos().div_ceil(1_000_000_000).max(1),
            _ => 1,
        };
        let second = now.as_nanos() / 1_000_000_000;
        while self.slots.front().is_some_and(|s| s.0 + ttl_s <= second) {
            self.slots.pop_front();
        }
        if self.slots.back().is_none_or(|s| s.0 != second) {
            self.slots.push_back((second, 0, 0));
        }
        self.slots.back_mut().expect("a current slot")
    }

    /// A new request (its first attempt) goes out.
    pub fn on_request(&mut self, now: SimTime) {
        if let BudgetSpec::Ratio { .. } = self.spec {
            self.slot(now).1 += 1;
        }
    }

    /// Asks to send a retry after `failure`; true (and the retry is paid for) if allowed.
    /// `cost` receives what was withdrawn, to refund on success (quota budgets).
    pub fn try_retry(&mut self, now: SimTime, failure: Outcome, cost: &mut f64) -> bool {
        *cost = 0.0;
        match self.spec {
            BudgetSpec::Ratio { .. } => {
                let allowance = self.allowance(now);
                let used = self.retries_in_window();
                if (used as f64) + 1.0 <= allowance {
                    self.slot(now).2 += 1;
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
        }
    }

    /// An attempt ended; `retryable` tells a failure the call site would retry (its reason
    /// is in `retry_on`) from one it would not, `first_attempt` a request's first try from a
    /// retry, and `cost` is what its retry withdrew.
    pub fn on_attempt(&mut self, success: bool, retryable: bool, first_attempt: bool, cost: f64) {
        match self.spec {
            BudgetSpec::Ratio { .. } => {}
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
        let requests: u64 = self.slots.iter().map(|s| s.1).sum();
        percent / 100.0 * requests as f64 + min_per_s * ttl.as_secs_f64()
    }

    fn retries_in_window(&self) -> u64 {
        self.slots.iter().map(|s| s.2).sum()
    }

    /// The budget's level now, for the policy log: retries still allowed in the window
    /// (ratio) or tokens (token bucket, quota).
    pub fn level(&mut self, now: SimTime) -> f64 {
        match self.spec {
            BudgetSpec::Ratio { .. } => self.allowance(now) - self.retries_in_window() as f64,
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

        /// Whatever the traffic, at every retry the retries inside the window of `ttl` whole
        /// seconds ending then never exceed percent% of the requests in it plus
        /// min_per_s * ttl. (Once requests leave the window, older retries may exceed what
        /// the newer window would allow: the budget limits decisions, not history.)
        #[test]
        fn ratio_budget_never_exceeds_its_allowance(
            events in prop::collection::vec((0u64..2_000_000_000, any::<bool>()), 1..600),
            percent in 1.0f64..50.0,
            min_per_s in 0.0f64..3.0,
        ) {
            let ttl_s = 3u64;
            let mut b = Budget::new(BudgetSpec::Ratio { percent, min_per_s, ttl: SimDuration::from_secs(ttl_s) });
            let mut now = 0u64;
            let mut log: Vec<(u64, bool)> = Vec::new(); // (second, is_retry)
            let mut cost = 0.0;
            for (gap, is_request) in events {
                now += gap / 20;
                let t = SimTime(now);
                if is_request {
                    b.on_request(t);
                    log.push((now / S, false));
                } else if b.try_retry(t, Outcome::Error, &mut cost) {
                    log.push((now / S, true));
                }
            }
            let retry_seconds: Vec<u64> = log.iter().filter(|e| e.1).map(|e| e.0).collect();
            for end in retry_seconds {
                let start = end.saturating_sub(ttl_s - 1);
                let in_window = |&&(s, _): &&(u64, bool)| s >= start && s <= end;
                let requests = log.iter().filter(in_window).filter(|e| !e.1).count() as f64;
                let retries = log.iter().filter(in_window).filter(|e| e.1).count() as f64;
                prop_assert!(retries <= percent / 100.0 * requests + min_per_s * ttl_s as f64 + 1e-9,
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
}
