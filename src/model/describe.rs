//! The model as a run's limits see it: how much it holds in flight, and what a pending
//! event is about, in the scenario's names, for messages when a run stops.

use super::ids::{ClientId, ReplicaId};
use super::{Caller, Event, Model, names};

impl Model<'_> {
    /// Requests, jobs, policy states and armed timers in flight: what grows with the work
    /// a run has started and not finished.
    pub fn held(&self) -> usize {
        self.requests.len()
            + self.jobs.len()
            + self.policy_calls.len()
            + self.timers.armed()
            + self.queues.held()
    }

    /// What `event` is about, in the scenario's names: "client `web` sends a request".
    pub fn describe(&self, event: Event) -> String {
        let s = self.scenario;
        let client = |c: ClientId| format!("client `{}`", s.clients[c.index()].name);
        let job = |key| {
            self.jobs
                .get(key)
                .map_or_else(|| "a replica".to_string(), |j| self.replica_name(j.replica))
        };
        let caller = |c: Caller| match c {
            Caller::Request(r) => self
                .requests
                .get(r)
                .map_or_else(|| "a client".to_string(), |q| client(q.client)),
            Caller::Job(j) => job(j),
        };
        match event {
            Event::Send { client: c } => format!("{} sends a request", client(c)),
            Event::Deliver { job: j } => format!("a request reaches {}", job(j)),
            Event::ServiceDone { job: j } => format!("{} finishes its own work", job(j)),
            Event::ReplyToRequest { request, .. } => {
                format!("an answer reaches {}", caller(Caller::Request(request)))
            }
            Event::ReplyToJob { job: j, .. } => format!("an answer reaches {}", job(j)),
            Event::TimersDue { .. } | Event::AttemptTimeout { .. } => "a timeout fires".to_string(),
            Event::DeadlineTimeout { job: j, .. } => format!("a deadline of {} passes", job(j)),
            Event::RetryRequest { request, .. } => {
                format!("{} retries", caller(Caller::Request(request)))
            }
            Event::RetryJob { job: j, .. } => format!("{} retries a call", job(j)),
            Event::HedgeRequest { request, .. } => {
                format!("{} hedges", caller(Caller::Request(request)))
            }
            Event::HedgeJob { job: j, .. } => format!("{} hedges a call", job(j)),
            Event::FaultOn { fault, .. } | Event::FaultOff { fault, .. } => {
                format!("fault `{}` turns", s.faults[fault.index()].name)
            }
            Event::BreakerDue { guard, .. } => {
                format!("the breaker of `{}` times out", self.guards.site(guard))
            }
            Event::HealthCheck { service } => format!(
                "`{}`'s replicas are health-checked",
                s.services[service.index()].name
            ),
            Event::HealthChange { replica, .. } => {
                format!(
                    "a health change of {} reaches its callers",
                    self.replica_name(replica)
                )
            }
            Event::BulkheadSlotRequest { request } => {
                format!("{} gets a bulkhead slot", caller(Caller::Request(request)))
            }
            Event::BulkheadSlotJob { job: j } => format!("{} gets a bulkhead slot", job(j)),
            Event::BulkheadTimeoutRequest { request, .. } => format!(
                "{} stops waiting for a bulkhead slot",
                caller(Caller::Request(request))
            ),
            Event::BulkheadTimeoutJob { job: j, .. } => {
                format!("{} stops waiting for a bulkhead slot", job(j))
            }
            Event::LimiterWakeRequest { request, .. } => format!(
                "{} gets its rate limiter's permit",
                caller(Caller::Request(request))
            ),
            Event::LimiterWakeJob { job: j, .. } => {
                format!("{} gets its rate limiter's permit", job(j))
            }
            Event::ProbeArrive { replica, .. } => {
                format!("a health probe reaches {}", self.replica_name(replica))
            }
            Event::ProbeServed { replica, .. } => {
                format!("{} answers a health probe", self.replica_name(replica))
            }
            Event::ProbeAnswer { replica, .. } => {
                format!(
                    "the answer of {} to a probe arrives",
                    self.replica_name(replica)
                )
            }
            Event::ProbeTimeout { replica, .. } => {
                format!("a health probe of {} times out", self.replica_name(replica))
            }
            Event::ChaosTick { fault } => {
                format!("chaos monkey `{}` strikes", s.faults[fault.index()].name)
            }
            Event::MessageArrive { message } => format!(
                "a message reaches queue `{}`",
                self.message_queue_name(message).unwrap_or("?")
            ),
            Event::VisibilityDue { queue } => format!(
                "a visibility timeout of queue `{}` expires",
                s.queues[queue.index()].name
            ),
        }
    }

    /// The name of replica `r` (a global index): `api[1]`.
    fn replica_name(&self, r: ReplicaId) -> String {
        let service = self.replicas[r].service;
        let first = self.services[service].first_replica;
        format!(
            "`{}`",
            names::replica(
                &self.scenario.services[service.index()].name,
                r.offset_from(first)
            )
        )
    }
}
