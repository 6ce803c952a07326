//! Every balancer of a run: which one each client and each call entry of each replica
//! uses, their random streams and names, and their log.

use super::Balancer;
use crate::engine::{SimRng, SimTime};
use crate::metrics::policy_log::PolicyLog;
use crate::model::ids::{BalancerId, ClientId, EntryId, Id, IdVec, ReplicaId, ServiceId};
use crate::model::names;
use crate::scenario::balancer::{BalancerKind, BalancerScope, BalancerSpec};
use crate::scenario::{Dest, Scenario};
use std::collections::BTreeMap;

/// How a service's call entry finds its balancer.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// The calling replica's own balancer for the entry's target: this many after its
    /// first.
    Own(u32),
    /// One balancer for every caller of the target.
    Shared(BalancerId),
}

/// Every balancer of a run.
pub struct Balancers {
    all: IdVec<BalancerId, Balancer>,
    /// Each balancer's name (its random stream's), the site of its outlier events.
    names: IdVec<BalancerId, String>,
    /// Round robin's cursor, for balancers that are round robin (`None` for the others),
    /// kept in a dense vector: the common case reads nothing else.
    round_robin: IdVec<BalancerId, Option<u32>>,
    /// Each balancer's random stream, kept apart from its hot state.
    rngs: IdVec<BalancerId, SimRng>,
    /// Each client's balancer.
    of_client: IdVec<ClientId, BalancerId>,
    /// Each replica's first own balancer.
    replica_base: IdVec<ReplicaId, BalancerId>,
    /// How many balancers of its own each replica of a service has.
    own_per_replica: IdVec<ServiceId, u32>,
    /// Per service, how each call entry finds its balancer.
    entry_slot: IdVec<ServiceId, IdVec<EntryId, Slot>>,
}

impl Balancers {
    /// One balancer per client, one per calling replica and distinct target (entries to
    /// one target share it), and one per callee that some caller shares.
    pub fn build(scenario: &Scenario, seed: u64) -> Self {
        let mut all: IdVec<BalancerId, (Balancer, SimRng, String)> = IdVec::new();
        // The shared balancer of each target that has one.
        let mut shared: BTreeMap<Dest, BalancerId> = BTreeMap::new();
        // A queue's messages go to no replica: its callers' balancers choose among one.
        let one = [1.0];
        let callee = |d: Dest| match d {
            Dest::Service(s) => (
                &scenario.services[s].name,
                &scenario.services[s].weights[..],
            ),
            Dest::Queue(q) => (&scenario.queues[q].name, &one[..]),
        };
        // A caller's own balancer for `target`, named `name`, or the target's shared one.
        let add = |all: &mut IdVec<BalancerId, (Balancer, SimRng, String)>,
                   shared: &mut BTreeMap<Dest, BalancerId>,
                   spec: &BalancerSpec,
                   target: Dest,
                   name: Option<names::Name>| {
            let (callee_name, weights) = callee(target);
            let name = match (spec.scope, name) {
                (BalancerScope::Caller, Some(name)) => name,
                _ => {
                    if let Some(&id) = shared.get(&target) {
                        return id;
                    }
                    names::shared_balancer(callee_name)
                }
            };
            let rng = SimRng::new(seed, name.stream());
            let id = all.push((Balancer::new(spec, weights), rng, name.into_string()));
            if spec.scope == BalancerScope::Shared {
                shared.insert(target, id);
            }
            id
        };
        let of_client = scenario
            .clients
            .iter()
            .map(|c| {
                let name = names::client_balancer(&c.name, callee(c.target).0);
                add(&mut all, &mut shared, &c.balancer, c.target, Some(name))
            })
            .collect();
        let mut replica_base = IdVec::new();
        let mut entry_slot = IdVec::new();
        let mut own_per_replica = IdVec::new();
        for s in &scenario.services {
            // The distinct targets this service balances on its own, in entry order.
            let mut own: Vec<Dest> = Vec::new();
            let slots: IdVec<EntryId, Slot> = s
                .calls
                .iter()
                .map(|c| match c.balancer.scope {
                    BalancerScope::Shared => {
                        Slot::Shared(add(&mut all, &mut shared, &c.balancer, c.to, None))
                    }
                    BalancerScope::Caller => {
                        let k = own.iter().position(|&t| t == c.to).unwrap_or_else(|| {
                            own.push(c.to);
                            own.len() - 1
                        });
                        Slot::Own(k as u32)
                    }
                })
                .collect();
            for r in 0..s.replicas {
                let base = BalancerId::from_index(all.len());
                replica_base.push(base);
                for &target in &own {
                    let spec = s
                        .calls
                        .iter()
                        .find(|c| c.to == target)
                        .map(|c| c.balancer)
                        .expect("an entry to the target");
                    let name = names::call_balancer(&s.name, r, callee(target).0);
                    add(&mut all, &mut shared, &spec, target, Some(name));
                }
            }
            entry_slot.push(slots);
            own_per_replica.push(own.len() as u32);
        }
        let mut rngs = Vec::with_capacity(all.len());
        let mut names = Vec::with_capacity(all.len());
        let all: Vec<Balancer> = all
            .into_iter()
            .map(|(b, rng, name)| {
                rngs.push(rng);
                names.push(name);
                b
            })
            .collect();
        let round_robin = all
            .iter()
            .map(|b| (b.spec.kind == BalancerKind::RoundRobin && b.outlier.is_none()).then_some(0))
            .collect();
        Balancers {
            round_robin,
            names: names.into(),
            all: all.into(),
            rngs: rngs.into(),
            of_client,
            replica_base,
            entry_slot,
            own_per_replica,
        }
    }

    /// Replica `replica` (of `service`) restarted at `now`: its own balancers start afresh
    /// (cursor, latency estimates, ejections: every replica still ejected is logged as
    /// returned), as a restarted process's do; the crash settled every attempt they had in
    /// flight.
    pub fn restart(&mut self, service: ServiceId, replica: ReplicaId, now: SimTime) {
        let first = self.replica_base[replica];
        for k in 0..self.own_per_replica[service] {
            let id = first.plus(k);
            let old = &mut self.all[id];
            let mut fresh = Balancer::new(&old.spec, &old.weights);
            if let (Some(o), Some(f)) = (&mut old.outlier, &mut fresh.outlier) {
                o.refresh(now);
                // The fresh process has ejected nothing: every replica still out returns.
                for (i, until) in o.ejected_until.iter().enumerate() {
                    if until.is_some() {
                        o.events.push((now, i as u32, "returned"));
                    }
                }
                std::mem::swap(&mut o.events, &mut f.events);
            }
            *old = fresh;
            if let Some(cursor) = &mut self.round_robin[id] {
                *cursor = 0;
            }
        }
    }

    /// Client `client`'s balancer.
    #[inline(always)]
    pub fn of_client(&self, client: ClientId) -> BalancerId {
        self.of_client[client]
    }

    /// The balancer replica `replica` (of `service`) uses for its call entry `entry`.
    #[inline(always)]
    pub fn of_call(&self, service: ServiceId, replica: ReplicaId, entry: EntryId) -> BalancerId {
        match self.entry_slot[service][entry] {
            Slot::Own(k) => self.replica_base[replica].plus(k),
            Slot::Shared(id) => id,
        }
    }

    /// Balancer `id`'s choice for an attempt sent `now` (see [`Balancer::pick`]), and
    /// whether it wants to be told when the attempt is settled.
    #[inline(always)]
    pub fn pick(
        &mut self,
        id: BalancerId,
        n: u32,
        avoid: u64,
        now: SimTime,
        unhealthy: &[bool],
        key: impl FnOnce() -> u64,
    ) -> (u32, bool) {
        if let (Some(cursor), 0, true) = (&mut self.round_robin[id], avoid, unhealthy.is_empty()) {
            // The common case, without touching the balancer's other state.
            let offset = *cursor % n;
            *cursor = cursor.wrapping_add(1);
            return (offset, false);
        }
        let b = &mut self.all[id];
        if let Some(cursor) = self.round_robin[id] {
            b.cursor = cursor; // a retry avoiding a host goes on from the dense cursor
        }
        let key = if b.spec.kind.hashes() { key() } else { 0 };
        let offset = b.pick(&mut self.rngs[id], n, avoid, now, unhealthy, key);
        if let Some(cursor) = &mut self.round_robin[id] {
            *cursor = b.cursor;
        }
        (offset, b.tracks())
    }

    /// Adds every ejection and return (those due by `end` included) to `log`, under each
    /// balancer's name as the site.
    pub fn log_into(&mut self, log: &mut PolicyLog, end: SimTime) {
        for (b, name) in self.all.iter_mut().zip(&self.names) {
            let Some(o) = &mut b.outlier else { continue };
            o.refresh(end);
            if !o.events.is_empty() {
                log.add_replica_events(name, "outlier_detection", o.events.drain(..));
            }
        }
    }

    /// Balancer `id`.
    #[inline(always)]
    pub fn get(&mut self, id: BalancerId) -> &mut Balancer {
        &mut self.all[id]
    }
}
