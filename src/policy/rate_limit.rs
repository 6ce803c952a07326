//! Rate limiters, each deciding at once whether a request may pass now: a token bucket
//! (Envoy's local rate limit, with a continuous refill), a fixed window (Resilience4j's
//! `AtomicRateLimiter`: `limitForPeriod` permits per `limitRefreshPeriod`, cycles aligned
//! to time zero) and a sliding window (an exact log of the last `period`'s admissions).
//!
//! Arithmetic is in integers, so a limiter's decisions are exact and the same everywhere:
//! a token bucket counts in 1e-12 tokens and refills at a rate given in thousandths of a
//! token per second. A caller that may wait (a client-side limiter's `max_wait`) reserves
//! a later permit and is told how long to wait for it.

use crate::engine::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Units of a token in the bucket's arithmetic.
const UNITS_PER_TOKEN: i128 = 1_000_000_000_000;

/// What a limiter allows, as validated from a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimiterKind {
    /// `rate_milli / 1000` tokens per second, at most `burst` kept; each request takes one.
    TokenBucket {
        /// Refill rate, in thousandths of a token per second.
        rate_milli: u64,
        /// Bucket size, and its content at the start.
        burst: u32,
    },
    /// At most `limit` requests in each window `[k x period, (k + 1) x period)`.
    FixedWindow {
        /// Requests per window.
        limit: u32,
        /// Window length.
        period: SimDuration,
    },
    /// At most `limit` requests in any `period` ending now.
    SlidingWindow {
        /// Requests per period.
        limit: u32,
        /// Period length.
        period: SimDuration,
    },
}

/// One limiter's state.
#[derive(Clone, Debug)]
pub enum Limiter {
    /// See [`LimiterKind::TokenBucket`].
    TokenBucket {
        /// Content, in 1e-12 tokens; negative while permits are reserved ahead of the
        /// refill.
        level: i128,
        /// When it was last refilled.
        last: SimTime,
        /// Capacity, in 1e-12 tokens.
        cap: i128,
        /// Refill rate in 1e-12 tokens per ns (= thousandths of a token per second).
        rate: i128,
    },
    /// See [`LimiterKind::FixedWindow`].
    FixedWindow {
        /// The current window's number.
        window: u64,
        /// Permits taken in it, plus those reserved in later windows.
        used: u64,
        /// Requests per window.
        limit: u64,
        /// Window length, ns.
        period: u64,
    },
    /// See [`LimiterKind::SlidingWindow`].
    SlidingWindow {
        /// The times of the permits within the last period, and of those reserved ahead,
        /// in order.
        admitted: VecDeque<SimTime>,
        /// Requests per period.
        limit: u32,
        /// Period length.
        period: SimDuration,
    },
}

impl Limiter {
    /// A fresh limiter of `kind`: a full bucket, an empty window.
    pub fn new(kind: LimiterKind) -> Self {
        match kind {
            LimiterKind::TokenBucket { rate_milli, burst } => {
                let cap = i128::from(burst) * UNITS_PER_TOKEN;
                Limiter::TokenBucket {
                    level: cap,
                    last: SimTime::ZERO,
                    cap,
                    rate: i128::from(rate_milli),
                }
            }
            LimiterKind::FixedWindow { limit, period } => Limiter::FixedWindow {
                window: 0,
                used: 0,
                limit: u64::from(limit),
                period: period.as_nanos(),
            },
            LimiterKind::SlidingWindow { limit, period } => Limiter::SlidingWindow {
                admitted: VecDeque::with_capacity(limit.min(4096) as usize),
                limit,
                period,
            },
        }
    }

    /// Brings the limiter to `now`: the bucket refilled, the window moved on (reserved
    /// permits of the windows passed repaid), the permits older than the period forgotten.
    fn catch_up(&mut self, now: SimTime) {
        match self {
            Limiter::TokenBucket {
                level,
                last,
                cap,
                rate,
            } => {
                let elapsed = i128::from(now.saturating_since(*last).as_nanos());
                *level = (*level + elapsed * *rate).min(*cap);
                *last = now;
            }
            Limiter::FixedWindow {
                window,
                used,
                limit,
                period,
            } => {
                let current = now.as_nanos() / *period;
                if current != *window {
                    let passed = current - *window;
                    *used = used.saturating_sub(passed.saturating_mul(*limit));
                    *window = current;
                }
            }
            Limiter::SlidingWindow {
                admitted, period, ..
            } => {
                while admitted
                    .front()
                    .is_some_and(|&t| t <= now && now.saturating_since(t) >= *period)
                {
                    admitted.pop_front();
                }
            }
        }
    }

    /// True when a request at `now` may pass now (it then uses its permit).
    pub fn try_acquire(&mut self, now: SimTime) -> bool {
        self.try_acquire_keeping(now, 0)
    }

    /// True when a request at `now` may pass now and still leave at least `keep`
    /// thousandths of the limiter's capacity (the bucket's size, the window's limit) for
    /// others; it then uses its permit. With `keep = 0` this is [`Limiter::try_acquire`].
    /// Kept capacity is how a limiter serves higher priorities first: a lower class may
    /// not take the last of it (Stripe's fleet usage load shedder reserves a share of
    /// capacity for critical requests).
    pub fn try_acquire_keeping(&mut self, now: SimTime, keep: u32) -> bool {
        self.catch_up(now);
        let keep = i128::from(keep);
        match self {
            Limiter::TokenBucket { level, cap, .. } => {
                let after = *level - UNITS_PER_TOKEN;
                if after < 0 || after * 1000 < *cap * keep {
                    return false;
                }
                *level = after;
            }
            Limiter::FixedWindow { used, limit, .. } => {
                if *used >= *limit
                    || i128::from(*limit - *used - 1) * 1000 < i128::from(*limit) * keep
                {
                    return false;
                }
                *used += 1;
            }
            Limiter::SlidingWindow {
                admitted, limit, ..
            } => {
                let limit = *limit as usize;
                if admitted.len() >= limit
                    || (limit - admitted.len() - 1) as i128 * 1000 < limit as i128 * keep
                {
                    return false;
                }
                admitted.push_back(now);
            }
        }
        true
    }

    /// Reserves a permit for a request at `now` that may wait up to `max_wait` for it:
    /// `Some(wait)` (zero when a permit is free now), the permit taken for `now + wait`;
    /// or `None`, taking nothing, when none comes in time. Later requests queue behind
    /// the reserved ones, as Resilience4j's `AtomicRateLimiter` lets a caller reserve a
    /// later cycle's permit and sleep until it starts.
    pub fn reserve(&mut self, now: SimTime, max_wait: SimDuration) -> Option<SimDuration> {
        self.catch_up(now);
        let wait = match self {
            Limiter::TokenBucket { level, rate, .. } => {
                let after = *level - UNITS_PER_TOKEN;
                let wait = if after >= 0 {
                    SimDuration::ZERO
                } else {
                    SimDuration(((-after) as u128).div_ceil(*rate as u128) as u64)
                };
                if wait > max_wait {
                    return None;
                }
                *level = after;
                wait
            }
            Limiter::FixedWindow {
                window,
                used,
                limit,
                period,
            } => {
                let ahead = *used / *limit;
                let wait = if ahead == 0 {
                    SimDuration::ZERO
                } else {
                    SimDuration((*window + ahead) * *period - now.as_nanos())
                };
                if wait > max_wait {
                    return None;
                }
                *used += 1;
                wait
            }
            Limiter::SlidingWindow {
                admitted,
                limit,
                period,
            } => {
                let limit = *limit as usize;
                let at = if admitted.len() < limit {
                    now
                } else {
                    (admitted[admitted.len() - limit] + *period).max(now)
                };
                let wait = at.saturating_since(now);
                if wait > max_wait {
                    return None;
                }
                admitted.push_back(at);
                wait
            }
        };
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> SimTime {
        SimTime(n * 1_000_000)
    }

    fn admitted(l: &mut Limiter, times_ms: &[u64]) -> Vec<bool> {
        times_ms.iter().map(|&t| l.try_acquire(ms(t))).collect()
    }

    #[test]
    fn a_token_bucket_spends_its_burst_then_refills_at_its_rate() {
        // 10 tokens per second, 3 at most: a token every 100 ms.
        let mut l = Limiter::new(LimiterKind::TokenBucket {
            rate_milli: 10_000,
            burst: 3,
        });
        assert_eq!(
            admitted(
                &mut l,
                &[
                    0, 0, 0, 0, 50, 99, 100, 150, 199, 200, 1000, 1000, 1000, 1000
                ]
            ),
            [
                true, true, true, false, // the burst
                false, false, true, // one token at 100 ms
                false, false, true, // the next at 200 ms
                true, true, true, false, // full again (3) by 1000 ms
            ]
        );
    }

    #[test]
    fn a_fixed_window_resets_at_each_period_boundary() {
        // Resilience4j: limitForPeriod = 2, limitRefreshPeriod = 100 ms.
        let mut l = Limiter::new(LimiterKind::FixedWindow {
            limit: 2,
            period: SimDuration::from_millis(100),
        });
        assert_eq!(
            admitted(&mut l, &[0, 10, 20, 99, 100, 100, 100, 250, 299, 299]),
            [
                true, true, false, false, true, true, false, true, true, false
            ]
        );
        // So a fixed window lets 2 x limit through around a boundary: 98, 99 | 100, 101.
        let mut l = Limiter::new(LimiterKind::FixedWindow {
            limit: 2,
            period: SimDuration::from_millis(100),
        });
        assert_eq!(admitted(&mut l, &[98, 99, 100, 101]), [true; 4]);
    }

    #[test]
    fn a_sliding_window_counts_the_last_period_exactly() {
        let mut l = Limiter::new(LimiterKind::SlidingWindow {
            limit: 2,
            period: SimDuration::from_millis(100),
        });
        // Around a boundary it does not double: 98, 99 pass; 100, 101 wait until 198.
        assert_eq!(
            admitted(&mut l, &[98, 99, 100, 101, 197, 198, 198, 199, 199]),
            [true, true, false, false, false, true, false, true, false]
        );
    }

    proptest! {
        /// A token bucket never admits more than burst + rate x t in any window of length
        /// t, whatever the arrival times.
        #[test]
        fn a_token_bucket_never_exceeds_burst_plus_rate_times_t(
            rate_milli in 1u64..100_000,
            burst in 1u32..20,
            gaps in proptest::collection::vec(0u64..50_000_000, 1..300),
        ) {
            let mut l = Limiter::new(LimiterKind::TokenBucket { rate_milli, burst });
            let mut t = 0u64;
            let mut passed = Vec::new();
            for g in gaps {
                t += g;
                if l.try_acquire(SimTime(t)) {
                    passed.push(t);
                }
            }
            for (i, &start) in passed.iter().enumerate() {
                for (j, &end) in passed.iter().enumerate().skip(i) {
                    let n = (j - i + 1) as i128;
                    let window_ns = i128::from(end - start);
                    // rate x t, in tokens: rate_milli / 1000 per s x window_ns / 1e9 s.
                    let allowed_units = i128::from(burst) * UNITS_PER_TOKEN
                        + i128::from(rate_milli) * window_ns;
                    prop_assert!(n * UNITS_PER_TOKEN <= allowed_units,
                        "{n} admitted in {window_ns} ns");
                }
            }
        }
    }

    fn reserved(l: &mut Limiter, times_ms: &[u64], max_wait_ms: u64) -> Vec<Option<u64>> {
        times_ms
            .iter()
            .map(|&t| {
                l.reserve(ms(t), SimDuration::from_millis(max_wait_ms))
                    .map(|w| w.as_nanos() / 1_000_000)
            })
            .collect()
    }

    /// Callers that may wait reserve the next permits in turn: each is told when its
    /// permit comes, and one whose permit would come too late takes nothing.
    #[test]
    fn waiting_callers_reserve_later_permits_in_order() {
        // Resilience4j: 2 permits per 100 ms cycle, a caller waits up to 250 ms.
        let mut l = Limiter::new(LimiterKind::FixedWindow {
            limit: 2,
            period: SimDuration::from_millis(100),
        });
        assert_eq!(
            reserved(&mut l, &[10, 10, 10, 10, 10, 10, 10], 250),
            [
                Some(0),
                Some(0),
                Some(90), // the next cycle, at 100 ms
                Some(90),
                Some(190), // the one after, at 200 ms
                Some(190),
                None, // at 300 ms: too late, and nothing is taken
            ]
        );
        // At 100 ms the reserved permits of that cycle are spent: the next is at 300 ms.
        assert_eq!(reserved(&mut l, &[100], 250), [Some(200)]);

        // A token bucket of 10/s, 1 token: the next tokens at 100 ms intervals.
        let mut l = Limiter::new(LimiterKind::TokenBucket {
            rate_milli: 10_000,
            burst: 1,
        });
        assert_eq!(
            reserved(&mut l, &[0, 0, 0, 0], 250),
            [Some(0), Some(100), Some(200), None]
        );
        assert!(!l.try_acquire(ms(150)), "the debt is repaid at 200 ms");
        assert!(l.try_acquire(ms(300)));

        // A sliding window of 2 per 100 ms.
        let mut l = Limiter::new(LimiterKind::SlidingWindow {
            limit: 2,
            period: SimDuration::from_millis(100),
        });
        assert_eq!(
            reserved(&mut l, &[0, 30, 40, 50, 60], 100),
            [Some(0), Some(0), Some(60), Some(80), None]
        );
    }

    /// A request that must leave a share of the capacity passes only while that much
    /// would be left after it.
    #[test]
    fn kept_capacity_is_left_for_others() {
        // A bucket of 10 tokens: keeping 200/1000 (2 tokens) lets 8 through, keeping
        // nothing lets the last 2 through too.
        let mut l = Limiter::new(LimiterKind::TokenBucket {
            rate_milli: 1,
            burst: 10,
        });
        let kept = (0..10)
            .filter(|_| l.try_acquire_keeping(ms(0), 200))
            .count();
        assert_eq!(kept, 8);
        assert!(l.try_acquire(ms(0)) && l.try_acquire(ms(0)) && !l.try_acquire(ms(0)));
        // A window of 10: keeping 500/1000 lets 5 through in a window.
        let mut l = Limiter::new(LimiterKind::FixedWindow {
            limit: 10,
            period: SimDuration::from_millis(100),
        });
        assert_eq!(
            (0..10)
                .filter(|_| l.try_acquire_keeping(ms(0), 500))
                .count(),
            5
        );
        let mut l = Limiter::new(LimiterKind::SlidingWindow {
            limit: 10,
            period: SimDuration::from_millis(100),
        });
        assert_eq!(
            (0..10)
                .filter(|_| l.try_acquire_keeping(ms(0), 500))
                .count(),
            5
        );
    }

    /// Over a long run with arrivals faster than the rate, the bucket admits at its rate.
    #[test]
    fn a_token_bucket_admits_at_its_rate_in_the_long_run() {
        let mut l = Limiter::new(LimiterKind::TokenBucket {
            rate_milli: 250_000,
            burst: 10,
        });
        // 1,000 requests per second for 100 s, against 250 per second.
        let passed = (0..100_000u64)
            .filter(|i| l.try_acquire(SimTime(i * 1_000_000)))
            .count();
        assert_eq!(
            passed,
            10 + 250 * 100 - 1,
            "the burst, then 250/s (the last ms not yet refilled)"
        );
    }
}
