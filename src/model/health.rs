//! Active health checks at run time, on the checker's side: every interval the platform
//! sends a probe to each replica of a health-checked service, counts the answers and the
//! probes that time out, and publishes which replicas are healthy to every caller's
//! balancer, after the propagation delay. Probes travel the hop from the check's `from`
//! (its latency, link faults and partitions), or stay on the replica's node without it;
//! the replica's side is in `probes.rs`.

use super::Model;
use super::event::Event;
use super::ids::{ClientId, EdgeId, Id, IdVec, ReplicaId, ServiceId};
use super::network::{Leg, Node};
use crate::engine::{Scheduler, SimTime};
use crate::metrics::policy_log::PolicyLog;
use crate::scenario::balancer::HealthCheckSpec;
use crate::scenario::{Endpoint, Scenario};

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
    /// The current probe round (the first is 1).
    round: u32,
    /// The round whose answer is awaited, per replica.
    awaited: Vec<Option<u32>>,
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
                        round: 0,
                        awaited: vec![None; n],
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

    /// A probe round of `service`: a probe is sent to every replica, each timing out after
    /// the check's timeout; the next round follows.
    pub(super) fn health_check(&mut self, service: ServiceId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let spec = self.scenario.services[service.index()]
            .health_check
            .expect("a checked service");
        let first = self.services[service].first_replica;
        let n = self.services[service].replicas;
        let source = self.probe_source(service);
        let h = self.health.services[service]
            .as_mut()
            .expect("a checked service");
        h.round += 1;
        let round = h.round;
        for offset in 0..n {
            let replica = first.plus(offset);
            let h = self.health.services[service].as_mut().expect("checked");
            h.awaited[offset as usize] = Some(round);
            sched.after(spec.timeout, Event::ProbeTimeout { replica, round });
            match source {
                None => self.probe_arrives(replica, round, sched),
                Some((edge, node)) => {
                    let to = Node::Replica(replica);
                    if let Some(d) = self.transit(edge, |_| (node, to), Leg::Request) {
                        sched.after(d, Event::ProbeArrive { replica, round });
                    }
                }
            }
        }
        if now + spec.interval < self.end {
            sched.after(spec.interval, Event::HealthCheck { service });
        }
    }

    /// The hop `service`'s probes travel and the node they start from, or `None` when
    /// they stay on each replica's node.
    fn probe_source(&self, service: ServiceId) -> Option<(EdgeId, Node)> {
        let from = self.scenario.services[service.index()].health_check?.from?;
        let edge = self
            .topology
            .find(from, service.index())
            .expect("validation checks that `from` sends to the checked service");
        let node = match from {
            Endpoint::Client(c) => Node::Client(ClientId::from_index(c)),
            Endpoint::Service(s) => {
                Node::Replica(self.services[ServiceId::from_index(s)].first_replica)
            }
        };
        Some((edge, node))
    }

    /// `replica` answers the probe of `round` (`passed`: ready); the answer travels back to
    /// the checker, on the hop the probe came by.
    pub(super) fn answer_probe(
        &mut self,
        replica: ReplicaId,
        round: u32,
        passed: bool,
        sched: &mut Scheduler<Event>,
    ) {
        let service = self.replicas[replica].service;
        let Some((edge, node)) = self.probe_source(service) else {
            self.probe_answered(replica, round, passed, sched);
            return;
        };
        let at = Node::Replica(replica);
        if let Some(d) = self.transit(edge, |_| (at, node), Leg::Response) {
            sched.after(
                d,
                Event::ProbeAnswer {
                    replica,
                    round,
                    passed,
                },
            );
        }
    }

    /// The checker learns the result of the probe of `round` on `replica` (an answer, or
    /// `passed = false` when it timed out); results of earlier rounds are stale. Thresholds
    /// reached schedule the change for the balancers after the propagation delay.
    pub(super) fn probe_answered(
        &mut self,
        replica: ReplicaId,
        round: u32,
        passed: bool,
        sched: &mut Scheduler<Event>,
    ) {
        let service = self.replicas[replica].service;
        let i = replica.offset_from(self.services[service].first_replica) as usize;
        let h = self.health.services[service]
            .as_mut()
            .expect("a checked service");
        if h.awaited[i] != Some(round) {
            return;
        }
        h.awaited[i] = None;
        self.services[service].recorder.probe(sched.now(), passed);
        let change = if passed {
            h.failures[i] = 0;
            h.passes[i] += 1;
            (!h.checked_healthy[i] && h.passes[i] >= h.spec.healthy_threshold).then_some(true)
        } else {
            h.passes[i] = 0;
            h.failures[i] += 1;
            (h.checked_healthy[i] && h.failures[i] >= h.spec.unhealthy_threshold).then_some(false)
        };
        if let Some(healthy) = change {
            h.checked_healthy[i] = healthy;
            sched.after(h.spec.propagation, Event::HealthChange { replica, healthy });
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
