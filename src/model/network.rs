//! Messages on the network: each hop's latency, plus the link faults and partitions active
//! when the message is sent.

use super::Model;
use super::ids::{ClientId, EdgeId, QueueId, ReplicaId};
use crate::engine::SimDuration;
use crate::scenario::fault::{FaultKind, LossDirection};

/// Where a message starts or ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// A client.
    Client(ClientId),
    /// A replica.
    Replica(ReplicaId),
    /// A queue (no partition group holds one).
    Queue(QueueId),
}

/// Which way a message travels on its hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// Caller to callee.
    Request,
    /// Callee back to caller.
    Response,
}

impl Model<'_> {
    /// The delay of a message sent now on `edge` between the nodes `ends` names (from, to),
    /// or `None` if it is lost. The hop's latency is always drawn first, so faults never
    /// shift the hop's own latency stream; faults draw from their own streams. `ends` is
    /// only asked when a fault or a partition is active, which keeps the common path short.
    #[inline(always)]
    pub(super) fn transit(
        &mut self,
        edge: EdgeId,
        ends: impl FnOnce(&Self) -> (Node, Node),
        leg: Leg,
    ) -> Option<SimDuration> {
        let e = &mut self.topology.edges[edge];
        let delay = if e.latency.is_zero() {
            SimDuration::ZERO
        } else {
            e.latency.sample(&mut e.rng)
        };
        if e.faults.is_empty() && self.faults.active_partitions.is_empty() {
            return Some(delay);
        }
        let (from, to) = ends(self);
        self.faulty_transit(edge, from, to, leg, delay)
    }

    /// [`Model::transit`] while a link fault or a partition is active: partitions drop the
    /// message, then each of the edge's faults adds delay or may lose it.
    #[cold]
    fn faulty_transit(
        &mut self,
        edge: EdgeId,
        from: Node,
        to: Node,
        leg: Leg,
        mut delay: SimDuration,
    ) -> Option<SimDuration> {
        if self.faults.partitioned(from, to) {
            return None;
        }
        let mut lost = false;
        for &f in &self.topology.edges[edge].faults {
            let rng = &mut self.faults.runtime[f].rngs[0];
            match &self.scenario.faults[f.index()].kind {
                FaultKind::Latency { delay: extra } => delay = delay + extra.sample(rng),
                FaultKind::Loss {
                    probability,
                    direction,
                } => {
                    let applies = match direction {
                        LossDirection::Both => true,
                        LossDirection::Request => leg == Leg::Request,
                        LossDirection::Response => leg == Leg::Response,
                    };
                    if applies && rng.chance(*probability) {
                        lost = true;
                    }
                }
                _ => {}
            }
        }
        (!lost).then_some(delay)
    }
}
