//! Simulated time: integer nanoseconds, with one documented rounding rule from floats.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A point in simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time: later than any event a run can schedule.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start of the run, as a float (for reports only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The time elapsed since `earlier`; zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `n` nanoseconds.
    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }

    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }

    /// Converts a float number of nanoseconds to a duration.
    ///
    /// The rounding rule, used everywhere a float becomes time: round to the nearest
    /// nanosecond, halves away from zero; negative values and NaN become zero; values past
    /// `u64::MAX` saturate.
    #[inline]
    pub fn from_nanos_f64(ns: f64) -> Self {
        /// From 2^52 on, every f64 is a whole number.
        const WHOLE_FROM: f64 = 4_503_599_627_370_496.0;
        if ns.is_nan() || ns <= 0.0 {
            SimDuration(0)
        } else if ns >= WHOLE_FROM {
            // Already whole; `as` saturates at u64::MAX for values that are too large.
            SimDuration(ns as u64)
        } else {
            // The same value as `ns.round() as u64`, without the libm call `round` becomes
            // on baseline x86-64: truncate, then round up when the fraction is at least a
            // half. `ns - whole` is exact (Sterbenz), so the comparison is too. Below 2^52
            // the signed conversions are exact, and each is one instruction (the unsigned
            // ones are sequences).
            let whole = ns as i64;
            let fraction = ns - whole as f64;
            SimDuration((whole + i64::from(fraction >= 0.5)) as u64)
        }
    }

    /// Converts float seconds with the rule of [`SimDuration::from_nanos_f64`].
    #[inline]
    pub fn from_secs_f64(s: f64) -> Self {
        Self::from_nanos_f64(s * NANOS_PER_SEC as f64)
    }

    /// Nanoseconds in this duration.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds in this duration, as a float (for reports and rates).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Milliseconds in this duration, as a float (for reports).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        debug_assert!(earlier <= self, "time went backwards");
        SimDuration(self.0 - earlier.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.9}s", self.as_secs_f64())
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ns", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_conversion_rounds_half_away_and_clamps() {
        assert_eq!(SimDuration::from_nanos_f64(1.5), SimDuration(2));
        assert_eq!(SimDuration::from_nanos_f64(1.49), SimDuration(1));
        assert_eq!(SimDuration::from_nanos_f64(-3.0), SimDuration(0));
        assert_eq!(SimDuration::from_nanos_f64(f64::NAN), SimDuration(0));
        assert_eq!(SimDuration::from_nanos_f64(1e30), SimDuration(u64::MAX));
        assert_eq!(SimDuration::from_secs_f64(0.25), SimDuration(250_000_000));
    }

    #[test]
    fn float_conversion_equals_round_half_away() {
        let reference = |ns: f64| {
            if ns.is_nan() || ns <= 0.0 {
                0
            } else {
                ns.round() as u64
            }
        };
        let mut edges = vec![
            0.5,
            0.49999999999999994,
            1.5,
            2.5,
            1e15 + 0.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1.8446744073709552e19,
            f64::INFINITY,
            f64::MIN_POSITIVE,
        ];
        // A deterministic spread over many magnitudes, with and without halves.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64;
            let v = mantissa * 10f64.powi((x % 20) as i32);
            edges.push(v);
            edges.push(v.floor() + 0.5);
        }
        for ns in edges {
            assert_eq!(SimDuration::from_nanos_f64(ns).0, reference(ns), "{ns:e}");
        }
    }

    #[test]
    fn adding_saturates_instead_of_wrapping() {
        assert_eq!(SimTime(u64::MAX - 1) + SimDuration(5), SimTime::MAX);
    }
}
