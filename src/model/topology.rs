//! The hops of the model: one edge per (caller, callee service) pair, with its latency,
//! its random stream and its link faults.

use super::ids::{ClientId, EdgeId, FaultId, Id, IdVec, QueueId, ServiceId};
use super::names;
use crate::distribution::Distribution;
use crate::engine::SimRng;
use crate::scenario::{Dest, Endpoint, LinkSpec, Scenario};
use std::collections::BTreeMap;

/// What a hop leads to; [`Model::dispatch_with`](super::Model) sends by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A service: the message goes to one of its replicas.
    Service(ServiceId),
    /// A queue: the message is stored, and the caller hears that it was.
    Queue(QueueId),
}

/// The hop from one caller (client or service) to one target, used both ways.
pub struct Edge {
    /// What it leads to.
    pub target: Target,
    /// One-way latency of each message on this hop.
    pub latency: Distribution,
    /// Draws latencies; named `caller->callee`, so it never depends on declaration order.
    pub rng: SimRng,
    /// Active link faults (latency, loss) on this hop, by fault index.
    pub faults: Vec<FaultId>,
}

/// All edges, and which edge each client and each call entry uses.
pub struct Topology {
    /// Every edge.
    pub edges: IdVec<EdgeId, Edge>,
    /// Edge used by each client.
    pub client_edge: IdVec<ClientId, EdgeId>,
    /// Edges used by each service's calls, by service then call entry.
    pub call_edges: IdVec<ServiceId, Vec<EdgeId>>,
    /// The (caller, callee) pair of each edge.
    pairs: Vec<(Endpoint, Dest)>,
    /// The edge of each (caller, callee) pair.
    by_pair: BTreeMap<(Endpoint, Dest), EdgeId>,
}

impl Topology {
    /// Builds the edges of `scenario` for the run seeded with `seed`.
    pub fn build(scenario: &Scenario, seed: u64) -> Self {
        let mut edges: IdVec<EdgeId, Edge> = IdVec::new();
        let mut pairs: Vec<(Endpoint, Dest)> = Vec::new();
        let mut by_pair: BTreeMap<(Endpoint, Dest), EdgeId> = BTreeMap::new();
        // The first link between each two endpoints, either way round.
        let mut links: BTreeMap<(Endpoint, Endpoint), &LinkSpec> = BTreeMap::new();
        for l in &scenario.links {
            links.entry((l.a.min(l.b), l.a.max(l.b))).or_insert(l);
        }
        let mut edge_for = |from: Endpoint, to: Dest| -> EdgeId {
            if let Some(&edge) = by_pair.get(&(from, to)) {
                return edge;
            }
            // Links join clients and services; a hop to a queue has the network's latency.
            let link = to.service().and_then(|to| {
                let to = Endpoint::Service(to);
                links.get(&(from.min(to), from.max(to)))
            });
            let latency = link
                .and_then(|l| l.latency.clone())
                .unwrap_or_else(|| scenario.network_latency.clone());
            let name = names::link(endpoint_name(scenario, from), scenario.dest_name(to));
            pairs.push((from, to));
            by_pair.insert((from, to), EdgeId::from_index(edges.len()));
            edges.push(Edge {
                target: match to {
                    Dest::Service(s) => Target::Service(ServiceId::from_index(s)),
                    Dest::Queue(q) => Target::Queue(QueueId::from_index(q)),
                },
                latency,
                rng: SimRng::new(seed, name.stream()),
                faults: Vec::new(),
            })
        };
        let client_edge = scenario
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| edge_for(Endpoint::Client(i), c.target))
            .collect();
        let call_edges = scenario
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.calls
                    .iter()
                    .map(|c| edge_for(Endpoint::Service(i), c.to))
                    .collect()
            })
            .collect();
        Topology {
            edges,
            client_edge,
            call_edges,
            pairs,
            by_pair,
        }
    }

    /// The caller (client or service) at the sending end of `edge`.
    pub fn caller(&self, edge: EdgeId) -> Endpoint {
        self.pairs[edge.index()].0
    }

    /// The caller at the sending end of `edge`, numbered clients first (`clients` of
    /// them), then services, as per-caller limiters and pools count callers.
    pub fn caller_index(&self, edge: EdgeId, clients: usize) -> usize {
        match self.caller(edge) {
            Endpoint::Client(c) => c,
            Endpoint::Service(s) => clients + s,
        }
    }

    /// The edge from `from` to service `to`, if any call or client uses that hop.
    pub fn find(&self, from: Endpoint, to: usize) -> Option<EdgeId> {
        self.by_pair.get(&(from, Dest::Service(to))).copied()
    }
}

/// The name of a client or service.
pub fn endpoint_name(scenario: &Scenario, e: Endpoint) -> &str {
    match e {
        Endpoint::Client(i) => &scenario.clients[i].name,
        Endpoint::Service(i) => &scenario.services[i].name,
    }
}
