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

/// One fault's run-time data.
pub struct FaultRuntime {
    /// What the fault acts on: replicas, or one edge for a link fault, or the candidate
    /// replicas of a chaos monkey.
    pub units: Vec<Unit>,
    /// The name of each unit: a replica's (`api[1]`), or the fault's target for a link
    /// (`web->api`) or a partition (`partition`).
    pub unit_names: Vec<String>,
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

/// The name of each unit of each fault of `scenario` (see [`FaultRuntime::unit_names`]).
pub fn fault_unit_names(scenario: &Scenario) -> Vec<Vec<String>> {
    let (first_replica, _) = super::build::replicas(scenario, 0);
    let topology = Topology::build(scenario, 0);
    FaultState::build(scenario, 0, &first_replica, &topology)
        .runtime
        .into_iter()
        .map(|r| r.unit_names)
        .collect()
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
        let layout = Layout {
            scenario,
            first_replica,
        };
        let runtime = scenario
            .faults
            .iter()
            .map(|f| {
                let stream =
                    |unit: &str| SimRng::new(seed, names::fault_unit(&f.name, unit).stream());
                let (units, unit_names) = layout.units(&f.target, topology);
                let (client_side, replica_side) = layout.sides(&f.kind);
                FaultRuntime {
                    rngs: unit_names.iter().map(|n| stream(n)).collect(),
                    unit_names: units
                        .iter()
                        .zip(&unit_names)
                        .map(|(u, n)| match (u, &f.target) {
                            (Unit::Edge(_), FaultTarget::Link { from, to }) => {
                                format!(
                                    "{}->{}",
                                    scenario.endpoint_name(*from),
                                    scenario.services[*to].name
                                )
                            }
                            _ => n.clone(),
                        })
                        .collect(),
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
                Node::Queue(_) => 0,
            };
            match (side(from), side(to)) {
                (1, 2) => true,
                (2, 1) => !rt.one_way,
                _ => false,
            }
        })
    }
}

/// Where the scenario's replicas sit, to resolve what faults act on.
struct Layout<'a> {
    scenario: &'a Scenario,
    first_replica: &'a IdVec<ServiceId, ReplicaId>,
}

impl Layout<'_> {
    /// Replica `r` of service `s` (positions in the scenario).
    fn replica(&self, s: usize, r: u32) -> ReplicaId {
        self.first_replica[ServiceId::from_index(s)].plus(r)
    }

    /// The name of replica `global`, such as `api[1]`.
    fn replica_name(&self, global: ReplicaId) -> String {
        let s = (0..self.scenario.services.len())
            .rev()
            .find(|&s| self.replica(s, 0) <= global)
            .expect("a replica belongs to a service");
        let service = &self.scenario.services[s].name;
        names::replica(service, global.offset_from(self.replica(s, 0))).into_string()
    }

    /// The units a fault with `target` acts on, each with the name its stream is keyed by.
    fn units(&self, target: &FaultTarget, topology: &Topology) -> (Vec<Unit>, Vec<String>) {
        let replicas = |all: Vec<ReplicaId>| {
            all.into_iter()
                .map(|g| (Unit::Replica(g), self.replica_name(g)))
                .unzip()
        };
        match target {
            FaultTarget::Replicas {
                service,
                replicas: rs,
            } => replicas(rs.iter().map(|&r| self.replica(*service, r)).collect()),
            FaultTarget::Services(services) => replicas(
                services
                    .iter()
                    .flat_map(|&s| (0..self.scenario.services[s].replicas).map(move |r| (s, r)))
                    .map(|(s, r)| self.replica(s, r))
                    .collect(),
            ),
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
        }
    }

    /// The side (0: none, 1: first group, 2: second) of each client and each replica in
    /// a partition of `kind` (all 0 for other kinds).
    fn sides(&self, kind: &FaultKind) -> (Vec<u8>, IdVec<ReplicaId, u8>) {
        let total: u32 = self.scenario.services.iter().map(|s| s.replicas).sum();
        let mut client_side = vec![0u8; self.scenario.clients.len()];
        let mut replica_side: IdVec<ReplicaId, u8> = vec![0u8; total as usize].into();
        if let FaultKind::Partition { sides, .. } = kind {
            for (side, members) in sides.iter().enumerate() {
                let mark = side as u8 + 1;
                for m in members {
                    match *m {
                        NodeRef::Client(c) => client_side[c] = mark,
                        NodeRef::Service(s) => {
                            for r in 0..self.scenario.services[s].replicas {
                                replica_side[self.replica(s, r)] = mark;
                            }
                        }
                        NodeRef::Replica(s, r) => replica_side[self.replica(s, r)] = mark,
                    }
                }
            }
        }
        (client_side, replica_side)
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
        if let Some(t) = self.trace.as_deref_mut() {
            t.fault(sched.now(), fault.index(), unit, on);
        }
        let target = self.faults.runtime[fault].units[unit as usize];
        match (&self.scenario.faults[fault.index()].kind, target) {
            (FaultKind::Crash | FaultKind::ChaosMonkey { .. }, Unit::Replica(r)) => {
                self.crash(r, on, sched)
            }
            (FaultKind::Hang, Unit::Replica(r)) => self.hang(r, on, sched),
            (FaultKind::Slow { factor }, Unit::Replica(r)) => {
                let slow = &mut self.replicas[r].slow;
                if on {
                    slow.push((fault, *factor));
                } else {
                    slow.retain(|(f, _)| *f != fault);
                }
            }
            (FaultKind::Errors { rate, first_n }, Unit::Replica(r)) => {
                let brownouts = &mut self.replicas[r].brownouts;
                if on {
                    brownouts.push(Brownout {
                        fault,
                        unit,
                        rate: *rate,
                        left: *first_n,
                    });
                } else {
                    brownouts.retain(|b| b.fault != fault);
                }
            }
            (FaultKind::Latency { .. } | FaultKind::Loss { .. }, Unit::Edge(e)) => {
                let faults = &mut self.topology.edges[e].faults;
                if on {
                    faults.push(fault);
                } else {
                    faults.retain(|f| *f != fault);
                }
            }
            (FaultKind::Partition { .. }, Unit::Network) => {
                let active = &mut self.faults.active_partitions;
                if on {
                    active.push(fault);
                } else {
                    active.retain(|f| *f != fault);
                }
            }
            (kind, unit) => unreachable!("fault {kind:?} resolved to unit {unit:?}"),
        }
    }

    /// A crash of `replica` starts (`on`) or ends: the first kills its work and marks it
    /// down; the last brings it back up with fresh policy state (a restarted process).
    fn crash(&mut self, replica: ReplicaId, on: bool, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let r = &mut self.replicas[replica];
        let service = r.service;
        if on {
            r.crashed += 1;
            if r.crashed == 1 {
                self.services[service].recorder.replica_down(now);
                self.kill_jobs(replica, sched);
            }
        } else {
            r.crashed -= 1;
            if r.crashed == 0 {
                self.services[service].recorder.replica_up(now);
                self.guards.restart(replica, now);
                self.balancers.restart(service, replica, now);
                self.concurrency_limits
                    .restart(replica, self.scenario, service.index());
                self.consumer_back(replica, sched);
            }
        }
    }

    /// A hang of `replica` starts (`on`) or ends: the first freezes the process; the last
    /// resumes what it held.
    fn hang(&mut self, replica: ReplicaId, on: bool, sched: &mut Scheduler<Event>) {
        let r = &mut self.replicas[replica];
        if on {
            r.hung += 1;
            if r.hung == 1 {
                r.hang_started = sched.now();
            }
        } else {
            r.hung -= 1;
            if r.hung == 0 {
                self.resume(replica, sched);
                self.consumer_back(replica, sched);
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
