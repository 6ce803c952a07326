//! Services' rate limits at run time: each limited service's limiters (per replica or one
//! for the service, per caller or for all), and the check a request passes when it reaches
//! its replica, before it waits for a worker.

use super::Model;
use super::event::Event;
use super::ids::{IdVec, ServiceId};
use super::slab::Key;
use crate::engine::Scheduler;
use crate::outcome::Outcome;
use crate::policy::rate_limit::Limiter;
use crate::scenario::Scenario;
use crate::scenario::rate_limit::{LimitScope, RateLimitSpec};

/// One limited service's limiters.
struct ServiceLimits {
    spec: RateLimitSpec,
    /// By scope unit (replica position, or 0 for the service), then caller when
    /// `per_caller`.
    limiters: Vec<Limiter>,
}

/// Every service's rate limiting (`None` for services without).
pub struct RateLimits {
    services: IdVec<ServiceId, Option<ServiceLimits>>,
    /// Callers a per-caller limit tells apart: the clients, then the services.
    callers: usize,
}

impl RateLimits {
    /// Fresh limiters (full buckets, empty windows) for `scenario`'s limited services.
    pub fn build(scenario: &Scenario) -> Self {
        let callers = scenario.clients.len() + scenario.services.len();
        RateLimits {
            services: scenario
                .services
                .iter()
                .map(|s| {
                    s.rate_limit.map(|spec| {
                        let units = match spec.scope {
                            LimitScope::Replica => s.replicas as usize,
                            LimitScope::Service => 1,
                        };
                        let per = if spec.per_caller { callers } else { 1 };
                        ServiceLimits {
                            spec,
                            limiters: vec![Limiter::new(spec.kind); units * per],
                        }
                    })
                })
                .collect(),
            callers,
        }
    }
}

impl Model<'_> {
    /// The job `key` reaches its replica of a rate-limited service: true when the limit
    /// lets it in, leaving the capacity its priority must leave for higher classes;
    /// otherwise it is refused at once as `rate_limited` (HTTP 429).
    #[cold]
    pub(super) fn rate_limit_admits(&mut self, key: Key, sched: &mut Scheduler<Event>) -> bool {
        let now = sched.now();
        let j = self.jobs.live(key);
        let service = self.replicas[j.replica].service;
        let offset = j.replica.offset_from(self.services[service].first_replica);
        // Read from the hop, not the caller's record: the caller may have given up already.
        let caller = self
            .topology
            .caller_index(j.edge, self.scenario.clients.len());
        let limits = &mut self.rate_limits;
        let callers = limits.callers;
        let l = limits.services[service]
            .as_mut()
            .expect("a limited service");
        let unit = match l.spec.scope {
            LimitScope::Replica => offset as usize,
            LimitScope::Service => 0,
        };
        let index = if l.spec.per_caller {
            unit * callers + caller
        } else {
            unit
        };
        let keep = l.spec.keep(j.priority);
        if l.limiters[index].try_acquire_keeping(now, keep) {
            return true;
        }
        self.services[service].recorder.rate_limited(now, offset);
        self.turn_away(key, Outcome::RateLimited, sched);
        false
    }
}
