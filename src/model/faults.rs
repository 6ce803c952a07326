//! Faults at run time: when each starts and stops, and what it does to replicas, links and
//! the network while active. Every fault draws from its own streams, named after the fault
//! and its unit, so adding or changing a fault never changes any client's arrivals or any
//! replica's service times.

use super::Model;
use super::event::Event;
use super::ids::{EdgeId, FaultId, Id, IdVec, ReplicaId, ServiceId};
use super::names;
use super::network::Node;
use super::replica::Brownout;
use super::topology::Topology;
use crate::engine::{Scheduler, SimRng, SimTime};
use crate::scenario::Scenario;
use crate::scenario::fault::{FaultKind, FaultTarget, FaultTiming, NodeRef};

/// One thing a fault acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A replica (crash, hang, slow, errors, and a chaos monkey's candidates).
    Replica(ReplicaId),
    /// A hop (latency, loss).
    Edge(EdgeId),
    /// The network as a whole (a partition).
    Network,
}

impl Unit {
    /// The replica of a fault that acts on replicas.
    fn replica(self) -> ReplicaId {
        match self {
            Unit::Replica(r) => r,
            other => unreachable!("a replica fault acts on a replica, not {other:?}"),
        }
    }
}

/// One fault's run-time data.
pub struct FaultRuntime {
    /// What the fault acts on: replicas, or one edge for a link fault, or the candidate
    /// replicas of a chaos monkey.
    pub units: Vec<Unit>,
    /// One stream per unit (a link fault's draws use stream 0).
    pub rngs: Vec<SimRng>,
    /// A chaos monkey's choices.
    picker: SimRng,
    /// Side of each client (0: none, 1: first group, 2: second group), for partitions.
    client_side: Vec<u8>,
    /// Side of each replica, for partitions.
    replica_side: IdVec<ReplicaId, u8>,
    /// A partition that drops only messages from the first group to the second.
    one_way: bool,
}

/// All faults of a run.
pub struct FaultState {
    /// Per fault, in scenario order.
    pub runtime: IdVec<FaultId, FaultRuntime>,
    /// Partitions in force now.
    pub active_partitions: Vec<FaultId>,
}

impl FaultState {
    /// Resolves every fault's units and creates its streams.
    pub fn build(
        scenario: &Scenario,
        seed: u64,
        first_replica: &IdVec<ServiceId, ReplicaId>,
        topology: &Topology,
    ) -> Self {
        let first_replica = |s: usize| first_replica[ServiceId::from_index(s)];
        let replica_name = |global: ReplicaId| {
            let s = (0..scenario.services.len())
                .rev()
                .find(|&s| first_replica(s) <= global)
                .expect("a replica belongs to a service");
            names::replica(
                &scenario.services[s].name,
                global.offset_from(first_replica(s)),
            )
            .into_string()
        };
        let total_replicas: u32 = scenario.services.iter().map(|s| s.replicas).sum();
        let runtime = scenario
            .faults
            .iter()
            .map(|f| {
                let stream =
                    |unit: &str| SimRng::new(seed, names::fault_unit(&f.name, unit).stream());
                let (units, unit_names): (Vec<Unit>, Vec<String>) = match &f.target {
                    FaultTarget::Replicas { service, replicas } => replicas
                        .iter()
                        .map(|&r| first_replica(*service).plus(r))
                        .map(|g| (Unit::Replica(g), replica_name(g)))
                        .unzip(),
                    FaultTarget::Services(services) => services
                        .iter()
                        .flat_map(|&s| {
                            (0..scenario.services[s].replicas)
                                .map(move |r| first_replica(s).plus(r))
                        })
                        .map(|g| (Unit::Replica(g), replica_name(g)))
                        .unzip(),
                    FaultTarget::Link { from, to } => topology
                        .find(*from, *to)
                        .map(|e| {
                            (
                                vec![Unit::Edge(e)],
                                vec![String::from(names::FAULT_LINK_UNIT)],
                            )
                        })
                        .unwrap_or_default(),
                    FaultTarget::Groups => (
                        vec![Unit::Network],
                        vec![String::from(names::FAULT_PARTITION_UNIT)],
                    ),
                };
                let mut client_side = vec![0u8; scenario.clients.len()];
                let mut replica_side: IdVec<ReplicaId, u8> =
                    vec![0u8; total_replicas as usize].into();
                if let FaultKind::Partition { sides, .. } = &f.kind {
                    for (side, members) in sides.iter().enumerate() {
                        for m in members {
                            let mark = side as u8 + 1;
                            match *m {
                                NodeRef::Client(c) => client_side[c] = mark,
                                NodeRef::Service(s) => {
                                    for r in 0..scenario.services[s].replicas {
                                        replica_side[first_replica(s).plus(r)] = mark;
                                    }
                                }
                                NodeRef::Replica(s, r) => {
                                    replica_side[first_replica(s).plus(r)] = mark
                                }
                            }
                        }
                    }
                }
                FaultRuntime {
                    rngs: unit_names.iter().map(|n| stream(n)).collect(),
                    units,
                    picker: stream(names::FAULT_PICKER_UNIT),
                    client_side,
                    replica_side,
                    one_way: matches!(f.kind, FaultKind::Partition { one_way: true, .. }),
                }
            })
            .collect();
        FaultState {
            runtime,
            active_partitions: Vec::new(),
        }
    }

    /// True when an active partition drops messages from `from` to `to`.
    pub fn partitioned(&self, from: Node, to: Node) -> bool {
        self.active_partitions.iter().any(|&f| {
            let rt = &self.runtime[f];
            let side = |n: Node| match n {
                Node::Client(c) => rt.client_side[c.index()],
                Node::Replica(r) => rt.replica_side[r],
            };
            match (side(from), side(to)) {
                (1, 2) => true,
                (2, 1) => !rt.one_way,
                _ => false,
            }
        })
    }
}

impl Model<'_> {
    /// Schedules every fault's first transition.
    pub(super) fn schedule_faults(&mut self, sched: &mut Scheduler<Event>) {
        for (f, spec) in self.scenario.faults.iter().enumerate() {
            let fault = FaultId::from_index(f);
            let units = self.faults.runtime[fault].units.len() as u32;
            match (&spec.kind, &spec.timing) {
                (FaultKind::ChaosMonkey { interval, .. }, FaultTiming::Scheduled { start, .. }) => {
                    if units > 0 {
                        sched.at(*start + *interval, Event::ChaosTick { fault });
                    }
                }
                (_, FaultTiming::Scheduled { start, end }) => {
                    for unit in 0..units {
                        sched.at(*start, Event::FaultOn { fault, unit });
                        if let Some(end) = end {
                            sched.at(*end, Event::FaultOff { fault, unit });
                        }
                    }
                }
                (_, FaultTiming::Random { up, .. }) => {
                    for unit in 0..units {
                        let t = SimTime::ZERO
                            + up.sample(&mut self.faults.runtime[fault].rngs[unit as usize]);
                        if t < self.end {
                            sched.at(t, Event::FaultOn { fault, unit });
                        }
                    }
                }
            }
        }
    }

    /// Fault `fault` starts on its unit `unit`.
    pub(super) fn fault_on(&mut self, fault: FaultId, unit: u32, sched: &mut Scheduler<Event>) {
        self.apply(fault, unit, true, sched);
        if let FaultTiming::Random { down, .. } = &self.scenario.faults[fault.index()].timing {
            let d = down.sample(&mut self.faults.runtime[fault].rngs[unit as usize]);
            sched.after(d, Event::FaultOff { fault, unit });
        }
    }

    /// Fault `fault` stops on its unit `unit`.
    pub(super) fn fault_off(&mut self, fault: FaultId, unit: u32, sched: &mut Scheduler<Event>) {
        self.apply(fault, unit, false, sched);
        if let FaultTiming::Random { up, .. } = &self.scenario.faults[fault.index()].timing {
            let t = sched.now() + up.sample(&mut self.faults.runtime[fault].rngs[unit as usize]);
            if t < self.end {
                sched.at(t, Event::FaultOn { fault, unit });
            }
        }
    }

    /// A chaos monkey crashes one of its candidates, chosen at random, for its downtime.
    pub(super) fn chaos_tick(&mut self, fault: FaultId, sched: &mut Scheduler<Event>) {
        let spec = &self.scenario.faults[fault.index()];
        let (FaultKind::ChaosMonkey { interval, downtime }, FaultTiming::Scheduled { end, .. }) =
            (&spec.kind, &spec.timing)
        else {
            return;
        };
        let stop = end.map_or(self.end, |e| e.min(self.end));
        let now = sched.now();
        if now >= stop {
            return;
        }
        let rt = &mut self.faults.runtime[fault];
        let unit = rt.picker.index(rt.units.len()) as u32;
        self.apply(fault, unit, true, sched);
        sched.after(*downtime, Event::FaultOff { fault, unit });
        if now + *interval < stop {
            sched.after(*interval, Event::ChaosTick { fault });
        }
    }

    /// Turns fault `fault` on or off on its unit `unit`.
    fn apply(&mut self, fault: FaultId, unit: u32, on: bool, sched: &mut Scheduler<Event>) {
        let target = self.faults.runtime[fault].units[unit as usize];
        let now = sched.now();
        match &self.scenario.faults[fault.index()].kind {
            FaultKind::Crash | FaultKind::ChaosMonkey { .. } => {
                let target = target.replica();
                let r = &mut self.replicas[target];
                let service = r.service;
                if on {
                    r.crashed += 1;
                    if r.crashed == 1 {
                        self.services[service].recorder.replica_down(now);
                        self.kill_jobs(target, sched);
                    }
                } else {
                    r.crashed -= 1;
                    if r.crashed == 0 {
                        self.services[service].recorder.replica_up(now);
                        self.guards.restart(target, now);
                    }
                }
            }
            FaultKind::Hang => {
                let target = target.replica();
                let r = &mut self.replicas[target];
                if on {
                    r.hung += 1;
                    if r.hung == 1 {
                        r.hang_started = now;
                    }
                } else {
                    r.hung -= 1;
                    if r.hung == 0 {
                        self.resume(target, sched);
                    }
                }
            }
            FaultKind::Slow { factor } => {
                let r = &mut self.replicas[target.replica()];
                if on {
                    r.slow.push((fault, *factor));
                } else {
                    r.slow.retain(|(f, _)| *f != fault);
                }
            }
            FaultKind::Errors { rate, first_n } => {
                let r = &mut self.replicas[target.replica()];
                if on {
                    r.brownouts.push(Brownout {
                        fault,
                        unit,
                        rate: *rate,
                        left: *first_n,
                    });
                } else {
                    r.brownouts.retain(|b| b.fault != fault);
                }
            }
            FaultKind::Latency { .. } | FaultKind::Loss { .. } => {
                let Unit::Edge(edge) = target else {
                    unreachable!("a link fault acts on an edge")
                };
                let e = &mut self.topology.edges[edge];
                if on {
                    e.faults.push(fault);
                } else {
                    e.faults.retain(|f| *f != fault);
                }
            }
            FaultKind::Partition { .. } => {
                if on {
                    self.faults.active_partitions.push(fault);
                } else {
                    self.faults.active_partitions.retain(|f| *f != fault);
                }
            }
        }
    }

    /// True when one of the replica's brownouts fails the request now. A brownout with
    /// `first_n` applies only to the first N requests that finish service while it is
    /// active; each of those fails with its `rate`.
    pub(super) fn brownout_fails(&mut self, replica: ReplicaId) -> bool {
        let r = &mut self.replicas[replica];
        let mut fails = false;
        for b in &mut r.brownouts {
            match &mut b.left {
                Some(0) => continue,
                Some(left) => *left -= 1,
                None => {}
            }
            let rng = &mut self.faults.runtime[b.fault].rngs[b.unit as usize];
            fails |= rng.chance(b.rate);
        }
        fails
    }
}
