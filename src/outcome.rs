//! How a request ends: exactly one outcome per request, success or one failure reason.

/// The one outcome of a request, as its caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Answered successfully.
    Ok,
    /// Answered by a fallback after a failure.
    Degraded,
    /// The callee answered with an error (its own, a brownout, a failed or timed-out
    /// downstream call), or its replica was crashed.
    Error,
    /// No answer arrived before the caller's timeout.
    Timeout,
    /// The callee's waiting room was full and it refused the request at once.
    Rejected,
    /// An open circuit breaker refused the call without sending it.
    ShortCircuited,
    /// A rate limiter refused the call: the callee's (HTTP 429), or the caller's own
    /// limiter or adaptive throttle, which never sent it.
    RateLimited,
    /// The caller's bulkhead was full: the call was never sent.
    BulkheadFull,
    /// The callee dropped the request as no longer worth serving (load shedding: too long
    /// in the queue, CoDel, an adaptive concurrency limit) and answered with an error.
    Shed,
}

impl Outcome {
    /// The outcome as the CSV columns name it: `ok`, `degraded`, `error`, `timeout`,
    /// `rejected`, `short_circuited`, `rate_limited`, `bulkhead_full` or `shed`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Degraded => "degraded",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Rejected => "rejected",
            Outcome::ShortCircuited => "short_circuited",
            Outcome::RateLimited => "rate_limited",
            Outcome::BulkheadFull => "bulkhead_full",
            Outcome::Shed => "shed",
        }
    }

    /// True for outcomes that count toward availability.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Degraded)
    }
}
