//! Building a run's model from its scenario: replicas, clients and services in their
//! run-time form, each with its random stream named after it.

use super::balancer::Balancers;
use super::ids::{ClientId, Id, IdVec, ReplicaId, ServiceId};
use super::replica::{Pool, Replica};
use super::service::{Call, Service};
use super::timers::Timers;
use super::topology::Topology;
use super::waiting_room::WaitingRoom;
use super::{ClientState, names};
use crate::engine::SimRng;
use crate::metrics::ServiceRecorder;
use crate::scenario::{Endpoint, Scenario};
use std::collections::BTreeMap;

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
            let mut replica = Replica::new(ServiceId::from_index(s), rng, hint);
            replica.pools = spec
                .pools
                .iter()
                .skip(1)
                .map(|p| Pool {
                    busy: 0,
                    waiting: WaitingRoom::new(p.queue.map_or(64, |q| q.min(1024)) as usize),
                })
                .collect();
            replicas.push(replica);
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
    // The first queue each service consumes.
    let mut consumes: BTreeMap<usize, usize> = BTreeMap::new();
    for (q, spec) in scenario.queues.iter().enumerate() {
        if let Some(s) = spec.consumer {
            consumes.entry(s).or_insert(q);
        }
    }
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
            let mut service = Service::new(spec, first, calls, recorder);
            if !spec.pools.is_empty() {
                let pool_of = |e: Endpoint| {
                    spec.pools
                        .iter()
                        .position(|p| p.callers.contains(&e))
                        .unwrap_or(0) as u8
                };
                service.pool_of = (0..scenario.clients.len())
                    .map(|c| pool_of(Endpoint::Client(c)))
                    .chain((0..scenario.services.len()).map(|k| pool_of(Endpoint::Service(k))))
                    .collect();
            }
            service
        })
        .enumerate()
        .map(|(i, mut service)| {
            service.consumes = consumes
                .get(&i)
                .map(|&q| super::ids::QueueId::from_index(q));
            service
        })
        .collect()
}
