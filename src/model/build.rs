//! Building a run's model from its scenario: replicas, clients and services in their
//! run-time form, each with its random stream named after it.

use super::balancer::Balancers;
use super::ids::{ClientId, Id, IdVec, ReplicaId, ServiceId};
use super::replica::Replica;
use super::service::{Call, Service};
use super::timers::Timers;
use super::topology::Topology;
use super::{ClientState, names};
use crate::engine::SimRng;
use crate::metrics::ServiceRecorder;
use crate::scenario::Scenario;

/// Every replica of every service, services in order (a service's replicas are
/// contiguous), with the first replica of each service.
pub(super) fn replicas(
    scenario: &Scenario,
    seed: u64,
) -> (IdVec<ServiceId, ReplicaId>, IdVec<ReplicaId, Replica>) {
    let mut first_replica: IdVec<ServiceId, ReplicaId> = IdVec::new();
    let mut replicas: IdVec<ReplicaId, Replica> = IdVec::new();
    for (s, spec) in scenario.services.iter().enumerate() {
        first_replica.push(ReplicaId::from_index(replicas.len()));
        for r in 0..spec.replicas {
            let rng = SimRng::new(seed, names::replica(&spec.name, r).stream());
            let hint = spec.queue.map_or(64, |q| q.min(1024)) as usize;
            replicas.push(Replica::new(ServiceId::from_index(s), rng, hint));
        }
    }
    (first_replica, replicas)
}

/// Every client's run-time state: its stream, its edge, its timeout's timer lane, its
/// balancer.
pub(super) fn clients(
    scenario: &Scenario,
    seed: u64,
    topology: &Topology,
    balancers: &Balancers,
    timers: &mut Timers,
) -> IdVec<ClientId, ClientState> {
    scenario
        .clients
        .iter()
        .zip(&topology.client_edge)
        .enumerate()
        .map(|(i, (c, &edge))| ClientState {
            rng: SimRng::new(seed, names::client(&c.name).stream()),
            edge,
            lane: timers.lane_for(c.timeout),
            balancer: balancers.of_client(ClientId::from_index(i)),
            keys: c.keys.map(|k| {
                let rng = SimRng::new(seed, names::client_keys(&c.name).stream());
                Box::new((super::client::Keys::new(k), rng))
            }),
            has_policy: !c.policy.is_plain(),
            counts: crate::metrics::Counts::default(),
        })
        .collect()
}

/// Every service's run-time form: its call entries resolved to edges and timer lanes, and
/// its recorder.
pub(super) fn services(
    scenario: &Scenario,
    topology: &Topology,
    first_replica: &IdVec<ServiceId, ReplicaId>,
    timers: &mut Timers,
) -> IdVec<ServiceId, Service> {
    scenario
        .services
        .iter()
        .zip(&topology.call_edges)
        .zip(first_replica)
        .map(|((spec, edges), &first)| {
            let calls = spec
                .calls
                .iter()
                .zip(edges)
                .map(|(c, &edge)| Call {
                    edge,
                    lane: timers.lane_for(c.timeout),
                    has_policy: !c.policy.is_plain(),
                    propagate: c.policy.propagate_deadline,
                })
                .collect();
            let recorder = ServiceRecorder::new(
                scenario.warmup,
                scenario.duration,
                scenario.bucket,
                spec.replicas,
            );
            Service::new(spec, first, calls, recorder)
        })
        .collect()
}
