//! Retry waits: constant, linear or exponential backoff, and the jitter formulas of the AWS
//! Architecture Blog ("Exponential Backoff And Jitter", 2015), Polly's "decorrelated jitter
//! backoff V2", and two proportional ones:
//! gRPC's (cap, then randomize: `min(cap, w) * U(0.8, 1.2)` in gRFC A6 since 2024) and
//! Resilience4j's `ofExponentialRandomBackoff` (randomize, then cap:
//! `min(cap, w * U(1 - f, 1 + f))`, so the spread vanishes at the cap).
//!
//! Convention: the wait before retry `n` (n = 1 for the first retry, that is after the first
//! failed attempt) is computed from `expo(n) = min(cap, base * multiplier^(n-1))`, as in
//! Resilience4j and gRPC, where the first retry waits `base`. The AWS blog's simulator
//! counts from `base * 2` instead; set `base` to twice the blog's value to match it.

use crate::engine::{SimDuration, SimRng};

/// How the wait grows with the number of failed attempts.
#[derive(Clone, Debug, PartialEq)]
pub enum Backoff {
    /// The same wait every time.
    Constant {
        /// The wait.
        delay: SimDuration,
    },
    /// `min(cap, n * delay)` before retry n (Polly's `DelayBackoffType.Linear`).
    Linear {
        /// The first wait, and the growth per retry.
        delay: SimDuration,
        /// The largest wait.
        cap: SimDuration,
    },
    /// `min(cap, base * multiplier^(n-1))` before retry n.
    Exponential {
        /// The first wait.
        base: SimDuration,
        /// Growth per retry (>= 1).
        multiplier: f64,
        /// The largest wait.
        cap: SimDuration,
    },
}

/// How the wait is randomised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// The backoff as computed.
    None,
    /// `U(0, expo(n))`.
    Full,
    /// `expo(n)/2 + U(0, expo(n)/2)`.
    Equal,
    /// `min(cap, U(base, 3 * previous wait))`, the previous wait starting at `base`; the
    /// state is kept per request (across its retries).
    Decorrelated,
    /// `expo(n) * U(1 - factor, 1 + factor)`: capped, then randomized (gRPC).
    Proportional {
        /// Relative spread, in [0, 1].
        factor: f64,
    },
    /// `min(cap, base * multiplier^(n-1) * U(1 - factor, 1 + factor))`: randomized, then
    /// capped (Resilience4j's `ofExponentialRandomBackoff`; a constant backoff has no cap,
    /// as `ofRandomized`). With `factor = 0.25` on a constant or linear backoff it is
    /// Polly's jitter (`ApplyJitter`, then `MaxDelay`).
    Randomized {
        /// Relative spread, in [0, 1] (Resilience4j's `randomizationFactor`, default 0.5).
        factor: f64,
    },
    /// Polly's "decorrelated jitter backoff V2" (`RetryHelper.DecorrelatedJitterBackoffV2`,
    /// its jitter on an exponential backoff): with t = n - 1 + U(0, 1) and
    /// phi(t) = 2^t * tanh(sqrt(4 t)), the wait is (phi(t) - phi_prev) * base / 1.4, where
    /// phi_prev (0 before the first retry) is carried across a request's retries; then
    /// capped. The median waits run near base, 2 base, 4 base, ...
    DecorrelatedV2,
}

impl Backoff {
    /// The un-jittered wait before retry `n` (n >= 1).
    pub fn expo(&self, n: u32) -> f64 {
        match *self {
            Backoff::Constant { delay } => delay.as_nanos() as f64,
            Backoff::Exponential {
                base,
                multiplier,
                cap,
            } => {
                let grown =
                    base.as_nanos() as f64 * multiplier.powi(n.saturating_sub(1).min(1_000) as i32);
                grown.min(cap.as_nanos() as f64)
            }
            Backoff::Linear { delay, cap } => {
                (delay.as_nanos() as f64 * f64::from(n)).min(cap.as_nanos() as f64)
            }
        }
    }

    /// The wait before retry `n` (n >= 1) before any cap.
    pub fn uncapped(&self, n: u32) -> f64 {
        match *self {
            Backoff::Constant { delay } => delay.as_nanos() as f64,
            Backoff::Exponential {
                base, multiplier, ..
            } => base.as_nanos() as f64 * multiplier.powi(n.saturating_sub(1).min(1_000) as i32),
            Backoff::Linear { delay, .. } => delay.as_nanos() as f64 * f64::from(n),
        }
    }

    /// The smallest wait (`base`, or the constant delay), for decorrelated jitter.
    pub fn base(&self) -> f64 {
        match *self {
            Backoff::Constant { delay } => delay.as_nanos() as f64,
            Backoff::Exponential { base, .. } => base.as_nanos() as f64,
            Backoff::Linear { delay, .. } => delay.as_nanos() as f64,
        }
    }

    /// The largest wait (`cap`, or the constant delay).
    pub fn cap(&self) -> f64 {
        match *self {
            Backoff::Constant { delay } => delay.as_nanos() as f64,
            Backoff::Exponential { cap, .. } | Backoff::Linear { cap, .. } => cap.as_nanos() as f64,
        }
    }
}

/// The wait before retry `n` (n >= 1); `previous` is the request's state for decorrelated
/// jitters (its previous wait, or phi for V2; 0 before its first retry) and is updated.
pub fn wait(
    backoff: &Backoff,
    jitter: Jitter,
    n: u32,
    previous: &mut f64,
    rng: &mut SimRng,
) -> SimDuration {
    let expo = backoff.expo(n);
    let ns = match jitter {
        Jitter::None => expo,
        Jitter::Full => expo * rng.unit(),
        Jitter::Equal => expo / 2.0 + expo / 2.0 * rng.unit(),
        Jitter::Decorrelated => {
            let base = backoff.base();
            let prev = if *previous > 0.0 { *previous } else { base };
            let upper = (3.0 * prev).max(base);
            (base + (upper - base) * rng.unit()).min(backoff.cap())
        }
        Jitter::Proportional { factor } => expo * (1.0 - factor + 2.0 * factor * rng.unit()),
        Jitter::Randomized { factor } => {
            let drawn = backoff.uncapped(n) * (1.0 - factor + 2.0 * factor * rng.unit());
            match backoff {
                Backoff::Constant { .. } => drawn,
                Backoff::Exponential { .. } | Backoff::Linear { .. } => drawn.min(backoff.cap()),
            }
        }
        Jitter::DecorrelatedV2 => {
            // `previous` holds phi of the previous retry here, not its wait.
            let t = f64::from(n.saturating_sub(1)) + rng.unit();
            let phi = 2f64.powf(t) * (4.0 * t).sqrt().tanh();
            let ns = ((phi - *previous) / 1.4 * backoff.base()).min(backoff.cap());
            *previous = phi;
            return SimDuration::from_nanos_f64(ns.max(0.0));
        }
    };
    *previous = ns;
    SimDuration::from_nanos_f64(ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StreamId;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    const MS: u64 = 1_000_000;

    fn exponential() -> Backoff {
        Backoff::Exponential {
            base: SimDuration::from_millis(10),
            multiplier: 2.0,
            cap: SimDuration::from_millis(1000),
        }
    }

    #[test]
    fn exponential_backoff_starts_at_base_and_stops_at_cap() {
        let b = exponential();
        let waits: Vec<f64> = (1..=9).map(|n| b.expo(n) / MS as f64).collect();
        assert_eq!(
            waits,
            [10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 1000.0, 1000.0]
        );
    }

    fn draws(jitter: Jitter, n: u32, count: usize) -> Vec<f64> {
        let mut rng = SimRng::new(4, StreamId::from_parts(&[b"jitter"]));
        let b = exponential();
        (0..count)
            .map(|_| {
                let mut prev = 0.0;
                wait(&b, jitter, n, &mut prev, &mut rng).as_nanos() as f64 / MS as f64
            })
            .collect()
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    proptest! {
        #![proptest_config(Config { cases: 64, rng_seed: RngSeed::Fixed(2), ..Config::default() })]

        /// Every formula stays within its bounds, and its mean is the formula's mean.
        #[test]
        fn jitter_bounds_and_means(n in 1u32..10) {
            let expo = exponential().expo(n) / MS as f64;
            let full = draws(Jitter::Full, n, 4000);
            prop_assert!(full.iter().all(|&w| (0.0..=expo).contains(&w)));
            prop_assert!((mean(&full) - expo / 2.0).abs() < expo * 0.03);
            let equal = draws(Jitter::Equal, n, 4000);
            prop_assert!(equal.iter().all(|&w| w >= expo / 2.0 - 1e-6 && w <= expo + 1e-6));
            prop_assert!((mean(&equal) - expo * 0.75).abs() < expo * 0.02);
            let prop = draws(Jitter::Proportional { factor: 0.2 }, n, 4000);
            prop_assert!(prop.iter().all(|&w| w >= expo * 0.8 - 1e-6 && w <= expo * 1.2 + 1e-6));
            prop_assert!((mean(&prop) - expo).abs() < expo * 0.01);
            let none = draws(Jitter::None, n, 10);
            prop_assert!(none.iter().all(|&w| (w - expo).abs() < 1e-6));
        }

        /// Decorrelated jitter: each wait lies in [base, min(cap, 3 * previous)].
        #[test]
        fn decorrelated_jitter_stays_between_base_and_three_times_the_previous(seed in 0u64..1000) {
            let b = exponential();
            let mut rng = SimRng::new(seed, StreamId::from_parts(&[b"decorrelated"]));
            let mut prev = 0.0;
            let mut last = b.base();
            for n in 1..20 {
                let w = wait(&b, Jitter::Decorrelated, n, &mut prev, &mut rng).as_nanos() as f64;
                prop_assert!(w >= b.base() - 1.0 && w <= (3.0 * last).min(b.cap()) + 1.0);
                last = prev;
            }
        }
    }

    /// Resilience4j randomizes, then caps: at n = 7 (uncapped 640 ms, cap 1000 ms) the
    /// spread of 0.5 reaches 960 ms and stays below the cap; at n = 8 (uncapped 1280 ms) the
    /// draws U(640, 1920) are capped, so about 7 in 10 equal the cap exactly. gRPC's order
    /// (`Proportional`) spreads the capped 1000 ms to U(500, 1500) instead.
    #[test]
    fn randomized_jitter_randomizes_then_caps() {
        let below = draws(Jitter::Randomized { factor: 0.5 }, 7, 4000);
        assert!(below.iter().all(|&w| (320.0..=960.0).contains(&w)));
        assert!((mean(&below) - 640.0).abs() < 640.0 * 0.02);
        let capped = draws(Jitter::Randomized { factor: 0.5 }, 8, 4000);
        assert!(capped.iter().all(|&w| (640.0..=1000.0).contains(&w)));
        let at_cap = capped.iter().filter(|&&w| w == 1000.0).count() as f64 / 4000.0;
        assert!((at_cap - 0.7).abs() < 0.03, "{at_cap}");
        let grpc = draws(Jitter::Proportional { factor: 0.5 }, 8, 4000);
        assert!(
            grpc.iter().any(|&w| w > 1000.0),
            "gRPC's order can exceed the cap"
        );
    }

    /// Resilience4j's `ofRandomized` (a constant wait) has no cap: the spread is symmetric.
    #[test]
    fn randomized_jitter_on_a_constant_wait_is_symmetric() {
        let b = Backoff::Constant {
            delay: SimDuration::from_millis(100),
        };
        let mut rng = SimRng::new(5, StreamId::from_parts(&[b"r4j"]));
        let w: Vec<f64> = (0..4000)
            .map(|_| {
                let mut prev = 0.0;
                wait(
                    &b,
                    Jitter::Randomized { factor: 0.5 },
                    3,
                    &mut prev,
                    &mut rng,
                )
                .as_nanos() as f64
                    / MS as f64
            })
            .collect();
        assert!(w.iter().all(|&x| (50.0..=150.0).contains(&x)));
        assert!(w.iter().any(|&x| x > 140.0));
        assert!((mean(&w) - 100.0).abs() < 2.0);
    }

    /// The decorrelated mean of the first retry: U(base, 3 base) has mean 2 base.
    #[test]
    fn decorrelated_first_wait_has_mean_twice_base() {
        let m = mean(&draws(Jitter::Decorrelated, 1, 20_000));
        assert!((m - 20.0).abs() < 0.3, "{m}");
    }

    /// Polly's linear backoff: (a + 1) x delay for retry index a = n - 1, capped.
    #[test]
    fn linear_backoff_grows_by_its_delay_and_stops_at_cap() {
        let b = Backoff::Linear {
            delay: SimDuration::from_millis(100),
            cap: SimDuration::from_millis(350),
        };
        let waits: Vec<f64> = (1..=5).map(|n| b.expo(n) / MS as f64).collect();
        assert_eq!(waits, [100.0, 200.0, 300.0, 350.0, 350.0]);
    }

    /// Polly's decorrelated jitter V2 (`RetryHelper.DecorrelatedJitterBackoffV2`): the sum
    /// of the first k waits is phi(k - 1 + U) x base / 1.4, so its median sits near
    /// 2^(k-1) base x tanh(sqrt(4(k - 1/2))) / 1.4 x 2^(1/2): Polly documents medians
    /// "near 1, 2, 4 ... times" base. Checked: every wait is non-negative, the first lies
    /// in [0, phi(1) base / 1.4], and the median of the k-th cumulative wait matches the
    /// formula at the median draw U = 0.5.
    #[test]
    fn decorrelated_v2_follows_pollys_formula() {
        let b = exponential(); // base 10 ms, cap 1 s
        let phi = |t: f64| 2f64.powf(t) * (4.0 * t).sqrt().tanh();
        let mut rng = SimRng::new(6, StreamId::from_parts(&[b"v2"]));
        let runs = 4001;
        let mut totals: Vec<Vec<f64>> = vec![Vec::new(); 4];
        for _ in 0..runs {
            let mut prev = 0.0;
            let mut total = 0.0;
            for (k, slot) in totals.iter_mut().enumerate() {
                let w = wait(
                    &b,
                    Jitter::DecorrelatedV2,
                    k as u32 + 1,
                    &mut prev,
                    &mut rng,
                );
                let w = w.as_nanos() as f64 / MS as f64;
                assert!(w >= 0.0);
                if k == 0 {
                    assert!(w <= phi(1.0) * 10.0 / 1.4 + 1e-6);
                }
                total += w;
                slot.push(total);
            }
        }
        for (k, mut v) in totals.into_iter().enumerate() {
            v.sort_by(f64::total_cmp);
            let median = v[runs / 2];
            let expected = phi(k as f64 + 0.5) * 10.0 / 1.4;
            assert!(
                (median - expected).abs() < expected * 0.03,
                "retry {}: median cumulative wait {median} ms, formula {expected} ms",
                k + 1
            );
        }
    }
}
