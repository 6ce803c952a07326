//! Google SRE's adaptive client-side throttling ("Handling Overload", Site Reliability
//! Engineering, chapter 21): a client counts, over a sliding window, the requests it
//! attempted and those the backend accepted, and rejects a new request locally with
//! probability max(0, (requests - k x accepts) / (requests + 1)).
//!
//! The window slides in twentieths (counts older than the window fall out a twentieth at a
//! time). Rejected requests count as requests, as the book says, so the rejection rate
//! settles where the backend's acceptances keep up.

use crate::engine::{SimDuration, SimTime};

/// Sub-windows of one window.
const SLICES: u64 = 20;

/// One client's throttle.
#[derive(Clone, Debug)]
pub struct Throttle {
    /// The multiplier `k` (2.0 in the book).
    k: f64,
    /// Length of a sub-window, ns.
    slice: u64,
    /// Per sub-window: (its number, requests, accepts).
    ring: [(u64, u64, u64); SLICES as usize],
}

impl Throttle {
    /// A throttle with multiplier `k` over `window` (the book uses k = 2 and 2 minutes).
    pub fn new(k: f64, window: SimDuration) -> Self {
        Throttle {
            k,
            slice: (window.as_nanos() / SLICES).max(1),
            ring: [(u64::MAX, 0, 0); SLICES as usize],
        }
    }

    /// The sub-window of `now`, emptied if it held an older one.
    fn slot(&mut self, now: SimTime) -> &mut (u64, u64, u64) {
        let n = now.as_nanos() / self.slice;
        let s = &mut self.ring[(n % SLICES) as usize];
        if s.0 != n {
            *s = (n, 0, 0);
        }
        s
    }

    /// The requests and accepts of the window ending now.
    fn totals(&self, now: SimTime) -> (u64, u64) {
        let n = now.as_nanos() / self.slice;
        self.ring
            .iter()
            .filter(|s| s.0 != u64::MAX && s.0 + SLICES > n && s.0 <= n)
            .fold((0, 0), |(r, a), s| (r + s.1, a + s.2))
    }

    /// The probability that a request at `now` is rejected locally.
    pub fn reject_probability(&self, now: SimTime) -> f64 {
        let (requests, accepts) = self.totals(now);
        let r = requests as f64;
        ((r - self.k * accepts as f64) / (r + 1.0)).max(0.0)
    }

    /// A request was attempted at `now` (rejected locally or not).
    pub fn on_request(&mut self, now: SimTime) {
        self.slot(now).1 += 1;
    }

    /// The backend accepted a request, answered at `now`.
    pub fn on_accept(&mut self, now: SimTime) {
        self.slot(now).2 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> SimTime {
        SimTime(n * 1_000_000_000)
    }

    #[test]
    fn it_rejects_as_the_formula_says_and_forgets_after_the_window() {
        let mut t = Throttle::new(2.0, SimDuration::from_secs(20));
        assert_eq!(t.reject_probability(s(0)), 0.0, "no history");
        // 100 requests, 20 accepted: (100 - 2 x 20) / 101.
        for _ in 0..100 {
            t.on_request(s(1));
        }
        for _ in 0..20 {
            t.on_accept(s(1));
        }
        assert_eq!(t.reject_probability(s(5)), 60.0 / 101.0);
        // 30 accepted: 100 - 60 = 40.
        for _ in 0..10 {
            t.on_accept(s(2));
        }
        assert_eq!(t.reject_probability(s(5)), 40.0 / 101.0);
        // Half accepted or more: never rejects.
        for _ in 0..20 {
            t.on_accept(s(3));
        }
        assert_eq!(t.reject_probability(s(5)), 0.0);
        // The second-1 slice leaves the 20 s window at 21 s; the others follow.
        assert_eq!(t.reject_probability(s(21)), 0.0);
        assert_eq!(t.totals(s(21)), (0, 30));
        assert_eq!(t.totals(s(24)), (0, 0));
    }
}
