//! Request counters by outcome, shared by the run totals and every time-series bucket.

use crate::outcome::Outcome;

/// Counts of requests and their outcomes. `requests = ok + degraded + failed()` holds once
/// every counted request has ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests counted (sent by a client inside the measured window).
    pub requests: u64,
    /// Answered successfully.
    pub ok: u64,
    /// Answered by a fallback.
    pub degraded: u64,
    /// Failed with an error.
    pub errors: u64,
    /// Failed by timing out.
    pub timeouts: u64,
    /// Refused by a full queue.
    pub rejected: u64,
    /// Refused by an open circuit breaker, never sent.
    pub short_circuited: u64,
    /// Refused by a rate limiter (the callee's, or the client's own).
    pub rate_limited: u64,
    /// Refused by the client's full bulkhead, never sent.
    pub bulkhead_full: u64,
    /// Shed by the callee (queue time, CoDel, adaptive concurrency limit).
    pub shed: u64,
    /// Every attempt sent by a client for these requests, retries included.
    pub attempts: u64,
}

impl std::ops::AddAssign for Counts {
    /// Adds every counter of `other` (destructured, so a new counter cannot be forgotten).
    fn add_assign(&mut self, other: Counts) {
        let Counts {
            requests,
            ok,
            degraded,
            errors,
            timeouts,
            rejected,
            short_circuited,
            rate_limited,
            bulkhead_full,
            shed,
            attempts,
        } = other;
        self.requests += requests;
        self.ok += ok;
        self.degraded += degraded;
        self.errors += errors;
        self.timeouts += timeouts;
        self.rejected += rejected;
        self.short_circuited += short_circuited;
        self.rate_limited += rate_limited;
        self.bulkhead_full += bulkhead_full;
        self.shed += shed;
        self.attempts += attempts;
    }
}

impl Counts {
    /// Adds one ended request.
    #[inline]
    pub fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Degraded => self.degraded += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Timeout => self.timeouts += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::ShortCircuited => self.short_circuited += 1,
            Outcome::RateLimited => self.rate_limited += 1,
            Outcome::BulkheadFull => self.bulkhead_full += 1,
            Outcome::Shed => self.shed += 1,
        }
    }

    /// Requests that failed, whatever the reason: the sum of the reason columns.
    pub fn failed(&self) -> u64 {
        self.errors
            + self.timeouts
            + self.rejected
            + self.short_circuited
            + self.rate_limited
            + self.bulkhead_full
            + self.shed
    }

    /// Requests that ended, successfully or not.
    pub fn ended(&self) -> u64 {
        self.ok + self.degraded + self.failed()
    }

    /// (ok + degraded) / requests; `None` when no request was counted.
    pub fn availability(&self) -> Option<f64> {
        (self.requests > 0).then(|| (self.ok + self.degraded) as f64 / self.requests as f64)
    }
}
