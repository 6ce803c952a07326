//! A service at run time: what serving a request reads about the service, gathered in one
//! place (rather than spread over the scenario, the topology and the timers), and its
//! recorder.

use super::ids::{EdgeId, EntryId, IdVec, LaneId, ReplicaId};
use crate::distribution::Distribution;
use crate::metrics::ServiceRecorder;
use crate::scenario::ServiceSpec;

/// One downstream call of a service, resolved to its hop and its timer lane.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// The edge the call travels over.
    pub edge: EdgeId,
    /// The timer lane of the call's timeout.
    pub lane: LaneId,
    /// The call has policies (deadline, retries, breaker, budget or fallback).
    pub has_policy: bool,
    /// The call propagates its caller's deadline.
    pub propagate: bool,
}

/// A service's parameters, in the form the hot path uses them, and its metrics.
pub struct Service {
    /// The first replica; the replicas of a service are contiguous.
    pub first_replica: ReplicaId,
    /// Number of replicas.
    pub replicas: u32,
    /// Workers per replica.
    pub concurrency: u32,
    /// Waiting room per replica; `u64::MAX` when unbounded.
    pub queue_cap: u64,
    /// Fraction of requests that fail after their own work.
    pub error_rate: f64,
    /// The service's own work per request.
    pub service_time: Distribution,
    /// Downstream calls, in the order they are made.
    pub calls: IdVec<EntryId, Call>,
    /// Arrivals, completions and time averages.
    pub recorder: ServiceRecorder,
}

impl Service {
    /// The run-time form of `spec`, whose replicas start at `first_replica` and whose calls
    /// are `calls`.
    pub fn new(
        spec: &ServiceSpec,
        first_replica: ReplicaId,
        calls: IdVec<EntryId, Call>,
        recorder: ServiceRecorder,
    ) -> Self {
        Service {
            first_replica,
            replicas: spec.replicas,
            concurrency: spec.concurrency,
            queue_cap: spec.queue.map_or(u64::MAX, u64::from),
            error_rate: spec.error_rate,
            service_time: spec.service_time.clone(),
            calls,
            recorder,
        }
    }

    /// True when a waiting room holding `waiting` requests has room for one more.
    #[inline]
    pub fn has_room(&self, waiting: usize) -> bool {
        (waiting as u64) < self.queue_cap
    }
}
