//! Adaptive concurrency limits at run time: each replica of a limited service admits a
//! request only while fewer than its limit are in flight (waiting or holding a worker),
//! sheds the others at once, and moves its limit with each request that ends. The limit's
//! level, as it stood at the end of each time bucket, goes to the policy log.

use super::Model;
use super::event::Event;
use super::ids::{IdVec, ReplicaId};
use super::names;
use super::slab::Key;
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::metrics::policy_log::PolicyLog;
use crate::outcome::Outcome;
use crate::policy::concurrency_limit::ConcurrencyLimit;
use crate::scenario::Scenario;

/// One replica's limit and its log.
struct ReplicaLimit {
    limit: ConcurrencyLimit,
    /// The bucket of the last sample, its time and the level after it, not yet logged.
    pending: Option<(u64, SimTime, f64)>,
    /// Logged levels: (time, level).
    levels: Vec<(SimTime, f64)>,
}

/// Every replica's adaptive limit (`None` for replicas of services without).
pub struct ConcurrencyLimits {
    replicas: IdVec<ReplicaId, Option<ReplicaLimit>>,
    bucket_ns: u64,
}

impl ConcurrencyLimits {
    /// The limits of `scenario`'s limited services' replicas, at their initial values.
    pub fn build(scenario: &Scenario) -> Self {
        ConcurrencyLimits {
            replicas: scenario
                .services
                .iter()
                .flat_map(|s| (0..s.replicas).map(move |_| s.concurrency_limit))
                .map(|kind| {
                    kind.map(|k| ReplicaLimit {
                        limit: ConcurrencyLimit::new(k),
                        pending: None,
                        levels: Vec::new(),
                    })
                })
                .collect(),
            bucket_ns: scenario.bucket.as_nanos(),
        }
    }

    /// A restarted replica starts again from the initial limit.
    pub fn restart(&mut self, replica: ReplicaId, scenario: &Scenario, service: usize) {
        if let (Some(r), Some(kind)) = (
            &mut self.replicas[replica],
            scenario.services[service].concurrency_limit,
        ) {
            r.limit = ConcurrencyLimit::new(kind);
        }
    }

    /// Adds every replica's levels to `log`, under the replica's name as the site.
    pub fn log_into(&mut self, log: &mut PolicyLog, scenario: &Scenario) {
        let mut limits = self.replicas.iter_mut();
        for s in &scenario.services {
            for offset in 0..s.replicas {
                if let Some(Some(r)) = limits.next() {
                    if let Some((_, t, v)) = r.pending.take() {
                        r.levels.push((t, v));
                    }
                    let site = names::replica(&s.name, offset);
                    log.add_levels(site.as_str(), "concurrency_limit", r.levels.drain(..));
                }
            }
        }
    }
}

impl Model<'_> {
    /// Requests in flight on `replica`: waiting or holding a worker (health probes aside).
    fn in_flight(&self, replica: ReplicaId) -> u32 {
        let r = &self.replicas[replica];
        // Probes hold workers (`probes_served`) and waiting places (`probes`) too.
        let (busy, waiting) = r.load();
        busy - r.probes_served.len() as u32 + (waiting - r.probes.len()) as u32
    }

    /// The job `key` reaches its replica of a service with an adaptive limit: admitted
    /// (`Some`) when fewer than the limit are in flight, or in the place of a waiting
    /// request of a lower class (returned, for the caller to shed); otherwise (`None`) it
    /// is shed at once (HTTP 503).
    #[cold]
    pub(super) fn concurrency_admits(
        &mut self,
        key: Key,
        sched: &mut Scheduler<Event>,
    ) -> Option<Option<Key>> {
        let replica = self.jobs.live(key).replica;
        let limit = self.concurrency_limits.replicas[replica]
            .as_ref()
            .expect("a limited replica")
            .limit
            .limit();
        if self.in_flight(replica) < limit {
            return Some(None);
        }
        if let Some(victim) = self.make_room_for(key) {
            return Some(Some(victim));
        }
        let now = sched.now();
        let s = &mut self.services[self.replicas[replica].service];
        let offset = replica.offset_from(s.first_replica);
        s.recorder.shed_on_arrival(now, offset);
        self.turn_away(key, Outcome::Shed, sched);
        None
    }

    /// A request that arrived at `replica` `rtt` ago has ended there, `dropped` (shed from
    /// the waiting room or dropped at dequeue; an answer, an error included, is not) or not, with `inflight` requests in flight, itself
    /// included: the limit learns from it.
    #[cold]
    pub(super) fn limit_sample(
        &mut self,
        replica: ReplicaId,
        rtt: SimDuration,
        inflight: u32,
        dropped: bool,
        now: SimTime,
    ) {
        let bucket_ns = self.concurrency_limits.bucket_ns;
        let Some(r) = self.concurrency_limits.replicas[replica].as_mut() else {
            return;
        };
        r.limit.sample(now, rtt, inflight, dropped);
        let bucket = now.as_nanos() / bucket_ns;
        if let Some((b, t, v)) = r.pending
            && b != bucket
        {
            r.levels.push((t, v));
        }
        r.pending = Some((bucket, now, r.limit.level()));
    }

    /// [`Model::limit_sample`] for a request that just left `replica`, which counts it
    /// among those in flight.
    pub(super) fn limit_sample_leaving(
        &mut self,
        replica: ReplicaId,
        arrived_at: SimTime,
        dropped: bool,
        now: SimTime,
    ) {
        let inflight = self.in_flight(replica) + 1;
        self.limit_sample(replica, now - arrived_at, inflight, dropped, now);
    }
}
