//! Resilience policies on the path of a call: retry waits (backoff and jitter), retry
//! budgets, circuit breakers and hedge delays, each a small state machine named after the library whose
//! documented behaviour it follows (see each module's docs for where it differs).

pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod bulkhead;
pub mod concurrency_limit;
pub mod hedge;
pub mod rate_limit;
pub mod throttle;
