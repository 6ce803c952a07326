//! Health probes on the probed replica: a probe waits in the replica's waiting room like a
//! request, takes a worker for the check's `probe_cost`, and is answered "ready"; a
//! crashed replica refuses it, a full waiting room turns it away, a crash fails the probes
//! it holds, and a hung replica answers only when the hang ends (the checker has timed out
//! by then). Probes are not requests: no service counter sees them.

use super::Model;
use super::event::Event;
use super::ids::ReplicaId;
use super::slab::Key;
use crate::engine::{Scheduler, SimDuration};

impl Model<'_> {
    /// The probe of round `round` reaches `replica`.
    pub(super) fn probe_arrives(
        &mut self,
        replica: ReplicaId,
        round: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let r = &mut self.replicas[replica];
        let s = &self.services[r.service];
        if r.is_down() {
            self.answer_probe(replica, round, false, sched);
        } else if !r.is_hung() && r.busy < s.concurrency {
            self.serve_probe(replica, round, sched);
        } else if s.has_room(r.waiting.len()) {
            r.enqueue(
                Key::MARKER,
                0,
                crate::scenario::Priority::Default,
                sched.now(),
            );
            r.probes.push_back(round);
        } else {
            self.answer_probe(replica, round, false, sched);
        }
    }

    /// A worker of `replica` takes up the oldest waiting probe, or the newest when the
    /// queue discipline took the newest marker (the markers and `probes` keep one order).
    pub(super) fn start_probe(
        &mut self,
        replica: ReplicaId,
        newest: bool,
        sched: &mut Scheduler<Event>,
    ) {
        let probes = &mut self.replicas[replica].probes;
        let round = if newest {
            probes.pop_back()
        } else {
            probes.pop_front()
        }
        .expect("a waiting probe for each marker");
        self.serve_probe(replica, round, sched);
    }

    /// A worker of `replica` answers the probe of `round`, for the check's probe cost.
    fn serve_probe(&mut self, replica: ReplicaId, round: u32, sched: &mut Scheduler<Event>) {
        let r = &mut self.replicas[replica];
        let cost = self.scenario.services[r.service.index()]
            .health_check
            .map_or(SimDuration::ZERO, |h| h.probe_cost);
        let cost = if r.slow.is_empty() {
            cost
        } else {
            SimDuration::from_nanos_f64(cost.as_nanos() as f64 * r.slowdown())
        };
        r.busy += 1;
        r.probes_served.push(round);
        sched.after(cost, Event::ProbeServed { replica, round });
    }

    /// The worker answering the probe of `round` on `replica` is done (unless a crash
    /// killed the probe meanwhile, or a hang holds it).
    pub(super) fn probe_served(
        &mut self,
        replica: ReplicaId,
        round: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let r = &mut self.replicas[replica];
        let Some(i) = r.probes_served.iter().position(|&p| p == round) else {
            return;
        };
        if r.is_hung() {
            r.parked
                .push((SimDuration::ZERO, Event::ProbeServed { replica, round }));
            return;
        }
        r.probes_served.swap_remove(i);
        r.busy -= 1;
        self.start_next(replica, 0, sched);
        self.answer_probe(replica, round, true, sched);
    }

    /// The process of `replica` dies: the probes it holds, waiting or being answered, fail
    /// at once (connection reset). Its waiting room is already cleared.
    pub(super) fn fail_probes(&mut self, replica: ReplicaId, sched: &mut Scheduler<Event>) {
        let r = &mut self.replicas[replica];
        if r.probes.is_empty() && r.probes_served.is_empty() {
            return;
        }
        r.busy -= r.probes_served.len() as u32;
        let rounds: Vec<u32> = r
            .probes
            .drain(..)
            .chain(r.probes_served.drain(..))
            .collect();
        for round in rounds {
            self.answer_probe(replica, round, false, sched);
        }
    }
}
