//! Conformance: each test states one documented behaviour of a library a resim policy is
//! named after, cites where it is documented, and checks resim against it.

mod aws_sdk;
mod envoy;
mod finagle;
mod grpc;
mod hystrix;
mod polly;
mod resilience4j;
mod stripe;

use resim::engine::{SimDuration, SimTime};
use resim::policy::breaker::Breaker;

/// Nanoseconds in a millisecond.
pub const MS: u64 = 1_000_000;

/// One call through breaker `b` at `t_ms` milliseconds, taking 1 ms and `failed` or not:
/// true when the breaker let it through (and recorded its outcome).
pub fn outcome(b: &mut Breaker, t_ms: u64, failed: bool) -> bool {
    let now = SimTime(t_ms * MS);
    b.try_acquire(now)
        .map(|p| b.record(p, now, SimDuration::from_millis(1), failed))
        .is_some()
}
