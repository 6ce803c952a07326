//! Active health checks at run time: the platform probes each replica of a health-checked
//! service every interval and publishes which replicas are healthy to every caller's
//! balancer, after the propagation delay.
//!
//! A probe passes when its replica is up, not frozen, and would accept a request (its
//! waiting room has room): a crashed replica refuses it, a hung one lets it time out, a
//! replica whose queue is full turns it away. Probes cost the replica nothing and are not
//! on the network (a kubelet's local probe).

use super::Model;
use super::event::Event;
use super::ids::{Id, IdVec, ReplicaId, ServiceId};
use crate::engine::{Scheduler, SimTime};
use crate::metrics::policy_log::PolicyLog;
use crate::scenario::Scenario;
use crate::scenario::balancer::HealthCheckSpec;

/// One service's health checking.
pub struct ServiceHealth {
    spec: HealthCheckSpec,
    /// Failed probes in a row, per replica.
    failures: Vec<u32>,
    /// Passed probes in a row, per replica.
    passes: Vec<u32>,
    /// Healthy in the checker's own view (changes are published `propagation` later).
    checked_healthy: Vec<bool>,
    /// Unhealthy as the balancers see it, per replica.
    pub unhealthy: Vec<bool>,
    /// How many are.
    unhealthy_count: u32,
    /// Changes published, not yet logged: (time, replica, event).
    events: Vec<(SimTime, u32, &'static str)>,
}

/// Every service's health checking (`None` for services without).
pub struct Health {
    services: IdVec<ServiceId, Option<ServiceHealth>>,
}

impl Health {
    /// The health checking of `scenario`'s services, every replica healthy at the start.
    pub fn build(scenario: &Scenario) -> Self {
        Health {
            services: scenario
                .services
                .iter()
                .map(|s| {
                    let n = s.replicas as usize;
                    s.health_check.map(|spec| ServiceHealth {
                        spec,
                        failures: vec![0; n],
                        passes: vec![0; n],
                        checked_healthy: vec![true; n],
                        unhealthy: vec![false; n],
                        unhealthy_count: 0,
                        events: Vec::new(),
                    })
                })
                .collect(),
        }
    }

    /// The replicas of `service` its callers must leave out (empty when all are healthy
    /// or the service is not checked).
    #[inline(always)]
    pub fn unhealthy(&self, service: ServiceId) -> &[bool] {
        match &self.services[service] {
            Some(h) if h.unhealthy_count > 0 => &h.unhealthy,
            _ => &[],
        }
    }

    /// Adds every published change to `log`, under the service's name as the site.
    pub fn log_into(&mut self, log: &mut PolicyLog, scenario: &Scenario) {
        for (s, h) in scenario.services.iter().zip(self.services.iter_mut()) {
            if let Some(h) = h
                && !h.events.is_empty()
            {
                log.add_replica_events(&s.name, "health_check", h.events.drain(..));
            }
        }
    }
}

impl Model<'_> {
    /// Schedules every checked service's first probe round, one interval in.
    pub(super) fn schedule_health_checks(&mut self, sched: &mut Scheduler<Event>) {
        for (i, s) in self.scenario.services.iter().enumerate() {
            if let Some(h) = s.health_check
                && SimTime::ZERO + h.interval < self.end
            {
                let service = ServiceId::from_index(i);
                sched.at(SimTime::ZERO + h.interval, Event::HealthCheck { service });
            }
        }
    }

    /// A probe round of `service`: every replica is probed; thresholds reached schedule
    /// the change for the balancers after the propagation delay; the next round follows.
    pub(super) fn health_check(&mut self, service: ServiceId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let first = self.services[service].first_replica;
        let n = self.services[service].replicas;
        for offset in 0..n {
            let replica = first.plus(offset);
            let r = &self.replicas[replica];
            let s = &self.services[service];
            let full = r.busy >= s.concurrency && !s.has_room(r.waiting.len());
            let passed = !r.is_down() && !r.is_hung() && !full;
            self.services[service].recorder.probe(now, passed);
            let h = self.health.services[service]
                .as_mut()
                .expect("a checked service");
            let i = offset as usize;
            let change = if passed {
                h.failures[i] = 0;
                h.passes[i] += 1;
                (!h.checked_healthy[i] && h.passes[i] >= h.spec.healthy_threshold).then_some(true)
            } else {
                h.passes[i] = 0;
                h.failures[i] += 1;
                (h.checked_healthy[i] && h.failures[i] >= h.spec.unhealthy_threshold)
                    .then_some(false)
            };
            if let Some(healthy) = change {
                h.checked_healthy[i] = healthy;
                sched.after(h.spec.propagation, Event::HealthChange { replica, healthy });
            }
        }
        let interval = self.scenario.services[service.index()]
            .health_check
            .expect("a checked service")
            .interval;
        if now + interval < self.end {
            sched.after(interval, Event::HealthCheck { service });
        }
    }

    /// A change of `replica`'s health reaches the balancers.
    pub(super) fn health_change(&mut self, replica: ReplicaId, healthy: bool, now: SimTime) {
        let service = self.replicas[replica].service;
        let offset = replica.offset_from(self.services[service].first_replica);
        let h = self.health.services[service]
            .as_mut()
            .expect("a checked service");
        if h.unhealthy[offset as usize] == healthy {
            h.unhealthy[offset as usize] = !healthy;
            if healthy {
                h.unhealthy_count -= 1;
            } else {
                h.unhealthy_count += 1;
            }
            self.services[service].recorder.replica_health(now, healthy);
        }
        let event = if healthy { "healthy" } else { "unhealthy" };
        h.events.push((now, offset, event));
    }
}
