//! Adaptive concurrency limits, as Netflix's concurrency-limits library computes them
//! (`AIMDLimit`, `VegasLimit`, `Gradient2Limit`): a server admits a request only while
//! fewer than the limit are in flight, and moves the limit after each request with its
//! round-trip time (arrival to answer at the server), the requests in flight, and whether
//! it was dropped. A drop is what the library's gRPC server interceptor reports as one
//! (CANCELLED or DEADLINE_EXCEEDED): here a request shed by its replica or dropped at dequeue
//! because its caller gave up. An answer, an error included, is an ordinary sample.
//!
//! Samples are aggregated as the library's `WindowedLimit` does with its defaults: a
//! window lasts 1 s (RTTs under 100 us are ignored); when it is over, it updates the limit
//! once with its average RTT, its largest number in flight, and whether any request was
//! dropped, if it holds at least 10 samples, and is discarded otherwise. Difference from the library: Vegas re-probes its
//! no-load RTT after 0.75 x 30 x limit updates (the library draws the 0.75 from [0.5, 1)
//! at random).

use crate::engine::{SimDuration, SimTime};

/// Which limit, with its parameters (the library's defaults in brackets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LimitKind {
    /// Additive increase, multiplicative decrease.
    Aimd {
        /// Starting limit (20).
        initial: u32,
        /// Lowest limit (20).
        min: u32,
        /// Highest limit (200).
        max: u32,
        /// Factor on a drop (0.9).
        backoff_ratio: f64,
        /// An RTT above this counts as a drop (5 s).
        timeout: SimDuration,
    },
    /// TCP Vegas: grow while the estimated queue is short, shrink when it is long.
    Vegas {
        /// Starting limit (20).
        initial: u32,
        /// Highest limit (1000).
        max: u32,
    },
    /// Gradient of a long-term RTT average over the current RTT.
    Gradient2 {
        /// Starting limit (20).
        initial: u32,
        /// Lowest limit (20).
        min: u32,
        /// Highest limit (200).
        max: u32,
        /// Headroom added at each update (4).
        queue_size: u32,
        /// RTT growth tolerated before the limit shrinks (1.5).
        tolerance: f64,
    },
}

/// Vegas re-probes its no-load RTT every this many x limit samples.
const VEGAS_PROBE_MULTIPLIER: f64 = 30.0;
/// The fixed stand-in for Vegas's random probe jitter in [0.5, 1).
const VEGAS_PROBE_JITTER: f64 = 0.75;
/// Gradient2's long RTT window (samples) and warm-up.
const GRADIENT_LONG_WINDOW: f64 = 600.0;
const GRADIENT_WARMUP: u32 = 10;
/// Gradient2's smoothing of each new limit.
const GRADIENT_SMOOTHING: f64 = 0.2;

/// `WindowedLimit`'s window: its shortest length and fewest samples, and the RTTs it
/// ignores.
const WINDOW: SimDuration = SimDuration::from_secs(1);
const WINDOW_SAMPLES: u32 = 10;
const MIN_RTT: SimDuration = SimDuration(100_000);

/// One server's adaptive limit.
#[derive(Clone, Debug)]
pub struct ConcurrencyLimit {
    kind: LimitKind,
    /// The current window: when it may end, its samples, their RTT sum (ns), the most in
    /// flight, and whether one was dropped.
    window_end: SimTime,
    window_samples: u32,
    window_rtt_sum: u128,
    window_inflight: u32,
    window_dropped: bool,
    /// The current limit (fractional for Vegas and Gradient2).
    limit: f64,
    /// Vegas: the lowest RTT seen since the last probe, ns (0: none yet).
    rtt_noload: f64,
    /// Vegas: samples since the last probe.
    probe_count: u64,
    /// Gradient2: the long-term RTT average, ns, and the samples it has seen.
    long_rtt: f64,
    long_samples: u32,
}

impl ConcurrencyLimit {
    /// A limit of `kind` at its initial value.
    pub fn new(kind: LimitKind) -> Self {
        let initial = match kind {
            LimitKind::Aimd { initial, .. }
            | LimitKind::Vegas { initial, .. }
            | LimitKind::Gradient2 { initial, .. } => initial,
        };
        ConcurrencyLimit {
            kind,
            window_end: SimTime::ZERO + WINDOW,
            window_samples: 0,
            window_rtt_sum: 0,
            window_inflight: 0,
            window_dropped: false,
            limit: f64::from(initial),
            rtt_noload: 0.0,
            probe_count: 0,
            long_rtt: 0.0,
            long_samples: 0,
        }
    }

    /// Requests that may be in flight at once now.
    pub fn limit(&self) -> u32 {
        self.limit as u32
    }

    /// The limit, unrounded (for the log).
    pub fn level(&self) -> f64 {
        self.limit
    }

    /// A request ended at `now`: it took `rtt`, `inflight` requests were in flight
    /// (itself included), and it was `dropped` (shed, or dropped at dequeue) or not. The window takes it; a
    /// window at least 1 s long with 10 samples then updates the limit.
    pub fn sample(&mut self, now: SimTime, rtt: SimDuration, inflight: u32, dropped: bool) {
        if rtt < MIN_RTT {
            return;
        }
        self.window_samples += 1;
        self.window_rtt_sum += u128::from(rtt.as_nanos());
        self.window_inflight = self.window_inflight.max(inflight);
        self.window_dropped |= dropped;
        if now <= self.window_end {
            return;
        }
        // The window is over: it updates the limit if it holds enough samples, and is
        // discarded otherwise (the library's `isWindowReady`).
        let (samples, sum) = (self.window_samples, self.window_rtt_sum);
        let (inflight, dropped) = (self.window_inflight, self.window_dropped);
        self.window_samples = 0;
        self.window_rtt_sum = 0;
        self.window_inflight = 0;
        self.window_dropped = false;
        self.window_end = now + WINDOW;
        if samples >= WINDOW_SAMPLES {
            let average = SimDuration((sum / u128::from(samples)) as u64);
            self.update(average, inflight, dropped);
        }
    }

    /// The limit's own update, with one window's figures.
    pub fn update(&mut self, rtt: SimDuration, inflight: u32, dropped: bool) {
        let rtt = rtt.as_nanos().max(1) as f64;
        let inflight = f64::from(inflight);
        match self.kind {
            LimitKind::Aimd {
                min,
                max,
                backoff_ratio,
                timeout,
                ..
            } => {
                let limit = if dropped || rtt > timeout.as_nanos() as f64 {
                    (self.limit * backoff_ratio).trunc()
                } else if inflight * 2.0 >= self.limit {
                    self.limit + 1.0
                } else {
                    self.limit
                };
                self.limit = limit.clamp(f64::from(min), f64::from(max));
            }
            LimitKind::Vegas { max, .. } => {
                self.probe_count += 1;
                let probe = VEGAS_PROBE_JITTER * VEGAS_PROBE_MULTIPLIER * self.limit;
                if self.rtt_noload == 0.0 || self.probe_count as f64 >= probe {
                    self.rtt_noload = rtt;
                    self.probe_count = 0;
                    return;
                }
                if rtt < self.rtt_noload {
                    // A new lowest latency is only recorded (the library returns here).
                    self.rtt_noload = rtt;
                    return;
                }
                let l = self.limit.log10().floor().max(1.0);
                let (alpha, beta, threshold) = (3.0 * l, 6.0 * l, l);
                let queue = (self.limit * (1.0 - self.rtt_noload / rtt)).ceil();
                let limit = if dropped {
                    self.limit - l
                } else if inflight * 2.0 < self.limit {
                    self.limit
                } else if queue <= threshold {
                    self.limit + beta
                } else if queue < alpha {
                    self.limit + l
                } else if queue > beta {
                    self.limit - l
                } else {
                    self.limit
                };
                self.limit = limit.clamp(1.0, f64::from(max));
            }
            LimitKind::Gradient2 {
                min,
                max,
                queue_size,
                tolerance,
                ..
            } => {
                if self.long_samples < GRADIENT_WARMUP {
                    self.long_samples += 1;
                    let n = f64::from(self.long_samples);
                    self.long_rtt += (rtt - self.long_rtt) / n;
                } else {
                    let factor = 2.0 / (GRADIENT_LONG_WINDOW + 1.0);
                    self.long_rtt = self.long_rtt * (1.0 - factor) + rtt * factor;
                }
                // After a long slow period, let the long average catch down quickly.
                if self.long_rtt / rtt > 2.0 {
                    self.long_rtt *= 0.95;
                }
                if inflight < self.limit / 2.0 {
                    return;
                }
                let gradient = (tolerance * self.long_rtt / rtt).clamp(0.5, 1.0);
                let new = self.limit * gradient + f64::from(queue_size);
                let limit = self.limit * (1.0 - GRADIENT_SMOOTHING) + new * GRADIENT_SMOOTHING;
                self.limit = limit.clamp(f64::from(min), f64::from(max));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    #[test]
    fn aimd_adds_one_when_used_and_cuts_by_the_ratio_on_a_drop() {
        let mut l = ConcurrencyLimit::new(LimitKind::Aimd {
            initial: 20,
            min: 5,
            max: 200,
            backoff_ratio: 0.9,
            timeout: ms(100),
        });
        l.update(ms(10), 10, false);
        assert_eq!(l.limit(), 21, "inflight x 2 >= limit: + 1");
        l.update(ms(10), 5, false);
        assert_eq!(l.limit(), 21, "half idle: unchanged");
        l.update(ms(10), 15, true);
        assert_eq!(l.limit(), 18, "trunc(21 x 0.9)");
        l.update(ms(150), 15, false);
        assert_eq!(
            l.limit(),
            16,
            "an RTT over the timeout is a drop: trunc(18 x 0.9)"
        );
    }

    #[test]
    fn vegas_grows_on_a_short_queue_and_shrinks_on_a_long_one() {
        let mut l = ConcurrencyLimit::new(LimitKind::Vegas {
            initial: 20,
            max: 1000,
        });
        l.update(ms(10), 20, false);
        assert_eq!(
            l.level(),
            20.0,
            "the first sample only sets the no-load RTT"
        );
        l.update(ms(10), 20, false);
        assert_eq!(l.level(), 26.0, "queue 0 <= threshold 1: + beta (6)");
        // queue = ceil(26 x (1 - 10/12)) = 5: not under alpha (3), not over beta (6).
        l.update(ms(12), 26, false);
        assert_eq!(l.level(), 26.0);
        // queue = ceil(26 x (1 - 10/20)) = 13 > 6: - 1.
        l.update(ms(20), 26, false);
        assert_eq!(l.level(), 25.0);
        l.update(ms(10), 25, true);
        assert_eq!(l.level(), 24.0, "a drop: - 1");
    }

    /// A window of 1 s updates the limit once it is over, with its samples' average RTT
    /// and largest number in flight, if it holds at least 10 samples; a thinner window is
    /// discarded.
    #[test]
    fn samples_update_the_limit_once_per_window() {
        let mut l = ConcurrencyLimit::new(LimitKind::Aimd {
            initial: 20,
            min: 5,
            max: 200,
            backoff_ratio: 0.9,
            timeout: ms(100),
        });
        let at = |n: u64| SimTime(n * 1_000_000);
        for i in 0..20 {
            l.sample(at(100 + i), ms(10), 12, false);
        }
        assert_eq!(l.limit(), 20, "the window is not over");
        // At 1,001 ms the first window (to 1 s) is over, with 21 samples: average RTT
        // (20 x 10 + 150) / 21 = 16.7 ms, the most in flight 12: + 1, once.
        l.sample(at(1001), ms(150), 3, false);
        assert_eq!(l.limit(), 21);
        for i in 0..9 {
            l.sample(at(1100 + i), ms(150), 3, false);
        }
        assert_eq!(l.limit(), 21, "the next window ends at 2,001 ms");
        l.sample(at(2002), ms(150), 3, false);
        assert_eq!(
            l.limit(),
            18,
            "average 150 ms > 100 ms: a drop, trunc(21 x 0.9)"
        );
        // A window of 4 samples is discarded; RTTs under 100 us are ignored.
        for i in 0..3 {
            l.sample(at(2100 + i), ms(150), 3, true);
        }
        l.sample(at(2200), SimDuration(50_000), 3, true);
        l.sample(at(3003), ms(150), 3, true);
        assert_eq!(l.limit(), 18);
    }

    #[test]
    fn gradient2_shrinks_when_the_rtt_outgrows_its_long_average() {
        let mut l = ConcurrencyLimit::new(LimitKind::Gradient2 {
            initial: 50,
            min: 5,
            max: 200,
            queue_size: 4,
            tolerance: 1.5,
        });
        for _ in 0..10 {
            l.update(ms(10), 50, false);
        }
        // Steady RTT: gradient 1, the limit creeps up by 0.2 x 4 per sample.
        let before = l.level();
        l.update(ms(10), 50, false);
        assert!((l.level() - before - 0.8).abs() < 1e-9);
        // An RTT three times the long average: gradient 0.5, the limit falls.
        let before = l.level();
        l.update(ms(30), 50, false);
        assert!(l.level() < before);
        // Half idle: unchanged.
        let before = l.level();
        l.update(ms(30), 10, false);
        assert_eq!(l.level(), before);
    }
}
