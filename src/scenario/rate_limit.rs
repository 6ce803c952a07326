//! Rate limits as validated plain data: on a service, the limiter its replicas apply to
//! arriving requests, and whose requests each limiter counts.

use crate::policy::rate_limit::LimiterKind;

/// Which requests one limiter counts, across the service's replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitScope {
    /// Each replica has its own limiter (Envoy's local rate limit).
    Replica,
    /// One limiter for the whole service (a global rate limit service).
    Service,
}

/// A service's `rate_limit`: requests beyond it are refused at once as `rate_limited`
/// (HTTP 429), before they wait for a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitSpec {
    /// The limiter.
    pub kind: LimiterKind,
    /// One limiter per replica, or one for the service.
    pub scope: LimitScope,
    /// One limiter per caller (each client and each calling service) within the scope.
    pub per_caller: bool,
    /// Thousandths of the limiter's capacity that default requests must leave (critical
    /// ones may take all of it; sheddable ones must leave twice this).
    pub reserve: u32,
}

impl RateLimitSpec {
    /// Thousandths of the capacity a request of `priority` must leave for higher classes.
    pub fn keep(&self, priority: crate::scenario::Priority) -> u32 {
        self.reserve * priority.index() as u32
    }
}
