//! The hops of the model: one edge per (caller, callee service) pair, with its latency,
//! its random stream and its round-robin cursor.

use super::names;
use crate::distribution::Distribution;
use crate::engine::SimRng;
use crate::scenario::{Endpoint, Scenario};

/// The hop from one caller (client or service) to one service, used both ways.
pub struct Edge {
    /// Index of the called service.
    pub target: u32,
    /// One-way latency of each message on this hop.
    pub latency: Distribution,
    /// Draws latencies; named `caller->callee`, so it never depends on declaration order.
    pub rng: SimRng,
    /// Next replica offset for round-robin balancing.
    pub cursor: u32,
    /// Active link faults (latency, loss) on this hop, by fault index.
    pub faults: Vec<u32>,
}

/// All edges, and which edge each client and each call entry uses.
pub struct Topology {
    /// Every edge.
    pub edges: Vec<Edge>,
    /// Edge used by each client, by client index.
    pub client_edge: Vec<u32>,
    /// Edges used by each service's calls, by service index then call index.
    pub call_edges: Vec<Vec<u32>>,
    /// The (caller, callee) pair of each edge.
    pairs: Vec<(Endpoint, usize)>,
}

impl Topology {
    /// Builds the edges of `scenario` for the run seeded with `seed`.
    pub fn build(scenario: &Scenario, seed: u64) -> Self {
        let mut edges: Vec<Edge> = Vec::new();
        let mut pairs: Vec<(Endpoint, usize)> = Vec::new();
        let mut edge_for = |from: Endpoint, to: usize| -> u32 {
            if let Some(i) = pairs.iter().position(|p| *p == (from, to)) {
                return i as u32;
            }
            let link = scenario.links.iter().find(|l| {
                (l.a == from && l.b == Endpoint::Service(to))
                    || (l.b == from && l.a == Endpoint::Service(to))
            });
            let latency = link
                .and_then(|l| l.latency.clone())
                .unwrap_or_else(|| scenario.network_latency.clone());
            let name = names::link(endpoint_name(scenario, from), &scenario.services[to].name);
            pairs.push((from, to));
            edges.push(Edge {
                target: to as u32,
                latency,
                rng: SimRng::new(seed, name.stream()),
                cursor: 0,
                faults: Vec::new(),
            });
            (edges.len() - 1) as u32
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
        }
    }

    /// The edge from `from` to service `to`, if any call or client uses that hop.
    pub fn find(&self, from: Endpoint, to: usize) -> Option<u32> {
        self.pairs
            .iter()
            .position(|p| *p == (from, to))
            .map(|i| i as u32)
    }
}

/// The name of a client or service.
pub fn endpoint_name(scenario: &Scenario, e: Endpoint) -> &str {
    match e {
        Endpoint::Client(i) => &scenario.clients[i].name,
        Endpoint::Service(i) => &scenario.services[i].name,
    }
}
