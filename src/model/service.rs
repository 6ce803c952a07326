//! A service at run time: what serving a request reads about the service, gathered in one
//! place (rather than spread over the scenario, the topology and the timers), and its
//! recorder.

use super::ids::{EdgeId, EntryId, IdVec, LaneId, ReplicaId};
#[cfg(test)]
use super::ids::{Id, ServiceId};
use super::replica::Replica;
use crate::distribution::Distribution;
use crate::engine::SimTime;
use crate::metrics::ServiceRecorder;
use crate::scenario::ServiceSpec;
use crate::scenario::queueing::{Discipline, QueuePolicy};

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
    /// Queue discipline and shedding.
    pub queueing: QueuePolicy,
    /// Workers and waiting room per replica of each pool after the first (empty without
    /// pools).
    pub pool_caps: Vec<(u32, u64)>,
    /// The pool of each caller (clients, then services), when there are pools.
    pub pool_of: Vec<u8>,
    /// Plain FIFO: a free worker takes the front of the waiting room.
    pub fifo: bool,
    /// Waiting requests may be shed (`max_queue_time` or CoDel).
    pub sheds: bool,
    /// Arriving requests pass a rate limit.
    pub rate_limited: bool,
    /// Replicas have adaptive concurrency limits.
    pub adaptive: bool,
    /// The queue whose messages its workers take, if it is a consumer.
    pub consumes: Option<super::ids::QueueId>,
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
            concurrency: spec
                .pools
                .first()
                .map_or(spec.concurrency, |p| p.concurrency),
            queue_cap: spec
                .pools
                .first()
                .map_or(spec.queue, |p| p.queue)
                .map_or(u64::MAX, u64::from),
            pool_caps: spec
                .pools
                .iter()
                .skip(1)
                .map(|p| (p.concurrency, p.queue.map_or(u64::MAX, u64::from)))
                .collect(),
            pool_of: Vec::new(),
            error_rate: spec.error_rate,
            service_time: spec.service_time.clone(),
            calls,
            queueing: spec.queueing,
            fifo: spec.queueing.discipline == Discipline::Fifo,
            sheds: spec.queueing.max_queue_time.is_some() || spec.queueing.codel.is_some(),
            rate_limited: spec.rate_limit.is_some(),
            adaptive: spec.concurrency_limit.is_some(),
            consumes: None,
            recorder,
        }
    }

    /// When a request joining `replica`'s waiting room at `now` will have waited too long
    /// (`SimTime::MAX` when nothing sheds): after `max_queue_time`, or CoDel's allowed
    /// wait (its target under a standing queue, its interval otherwise), whichever is
    /// shorter.
    #[inline]
    pub fn shed_at(&self, replica: &Replica, pool: u8, now: SimTime) -> SimTime {
        let q = &self.queueing;
        let codel = q.codel.map(|c| {
            if replica.has_standing_queue(pool, now, c.interval) {
                c.target
            } else {
                c.interval
            }
        });
        match (q.max_queue_time, codel) {
            (None, None) => SimTime::MAX,
            (Some(a), Some(b)) => now + a.min(b),
            (Some(a), None) | (None, Some(a)) => now + a,
        }
    }

    /// True when a waiting room holding `waiting` requests has room for one more.
    #[inline]
    pub fn has_room(&self, waiting: usize) -> bool {
        (waiting as u64) < self.queue_cap
    }

    /// Workers per replica of pool `pool`.
    #[inline(always)]
    pub fn concurrency_in(&self, pool: u8) -> u32 {
        if pool == 0 {
            self.concurrency
        } else {
            self.pool_caps[usize::from(pool) - 1].0
        }
    }

    /// True when pool `pool`'s waiting room, holding `waiting`, has room for one more.
    #[inline(always)]
    pub fn has_room_in(&self, pool: u8, waiting: usize) -> bool {
        let cap = if pool == 0 {
            self.queue_cap
        } else {
            self.pool_caps[usize::from(pool) - 1].1
        };
        (waiting as u64) < cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{SimDuration, SimRng};
    use crate::model::slab::Key;
    use crate::scenario::Scenario;

    /// The service `api` of a one-service scenario whose service table ends with `extra`.
    fn service(extra: &str) -> Service {
        let text = format!(
            "name = \"q\"\nduration = \"10s\"\n[[client]]\nname = \"web\"\ntarget = \"api\"\narrival = {{ kind = \"poisson\", rate_per_s = 10 }}\n[[service]]\nname = \"api\"\nservice_time = {{ kind = \"constant\", value = \"1ms\" }}\n{extra}\n"
        );
        let scenario = Scenario::from_text(&text, "q.toml").expect("valid");
        let spec = &scenario.services[0];
        let recorder = ServiceRecorder::new(
            SimDuration::ZERO,
            SimDuration::from_secs(10),
            SimDuration::from_secs(1),
            1,
        );
        Service::new(spec, ReplicaId::from_index(0), IdVec::new(), recorder)
    }

    fn ms(n: u64) -> SimTime {
        SimTime(n * 1_000_000)
    }

    /// CoDel as "Fail at Scale" sets it: a request joining a queue that has not been empty
    /// for the interval may wait the target, any other the interval; `max_queue_time`
    /// caps both.
    #[test]
    fn codel_allows_the_target_only_under_a_standing_queue() {
        let s = service("codel = { target = \"5ms\", interval = \"100ms\" }");
        let mut r = Replica::new(
            ServiceId::from_index(0),
            SimRng::new(1, crate::engine::StreamId::from_parts(&[b"q"])),
            4,
        );
        assert_eq!(
            s.shed_at(&r, 0, ms(10)),
            ms(110),
            "empty queue: the interval"
        );
        r.enqueue(Key::MARKER, 0, crate::scenario::Priority::Default, ms(10));
        assert_eq!(
            s.shed_at(&r, 0, ms(60)),
            ms(160),
            "queue 50 ms old: not standing"
        );
        assert_eq!(
            s.shed_at(&r, 0, ms(110)),
            ms(115),
            "queue 100 ms old: standing"
        );
        r.waiting.clear();
        assert_eq!(
            s.shed_at(&r, 0, ms(200)),
            ms(300),
            "emptied: the interval again"
        );

        let capped = service(
            "codel = { target = \"5ms\", interval = \"100ms\" }\nmax_queue_time = \"30ms\"",
        );
        assert_eq!(capped.shed_at(&r, 0, ms(200)), ms(230));
        let plain = service("");
        assert_eq!(plain.shed_at(&r, 0, ms(200)), SimTime::MAX);
    }
}
