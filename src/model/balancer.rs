//! Load balancers at run time: for each attempt, which replica of the callee it goes to.
//!
//! A balancer sees only what a real caller sees: its own attempts in flight per replica
//! (counted from the send until the caller settles the attempt: its answer, its timeout,
//! or its abandonment) and the latencies it observed. Each draws from its own random
//! stream, named after its caller and callee (`web->api`, `api[0]->db`), or after the
//! callee for a shared balancer (`db`).

use super::ids::{BalancerId, ClientId, EntryId, Id, IdVec, ReplicaId, ServiceId};
use super::names;
use crate::engine::{SimDuration, SimRng, SimTime};
use crate::scenario::Scenario;
use crate::scenario::balancer::{BalancerKind, BalancerScope, BalancerSpec};

/// Finagle's load of a replica whose cost is still 0 while attempts are in flight.
const PENALTY: f64 = 1e18;

/// Where an attempt went, for the balancer that chose it, while its caller waits on it.
/// (16 bytes, and as many in an `Option`: the replica is kept as its position plus one.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentTo {
    /// The balancer.
    pub balancer: BalancerId,
    /// The replica's position among its service's replicas, plus one.
    position: std::num::NonZeroU32,
    /// When it was sent.
    pub at: SimTime,
}

impl SentTo {
    /// Attempt sent at `at` by `balancer` to the replica at `offset`.
    pub fn new(balancer: BalancerId, offset: u32, at: SimTime) -> Self {
        SentTo {
            balancer,
            position: std::num::NonZeroU32::new(offset + 1).expect("offset + 1 > 0"),
            at,
        }
    }

    /// The replica's position among its service's replicas.
    pub fn offset(self) -> u32 {
        self.position.get() - 1
    }
}

/// One balancer: a caller's (or a shared) view of one callee's replicas.
pub struct Balancer {
    kind: BalancerKind,
    /// Round robin's next position.
    cursor: u32,
    /// The callee's replica weights (weighted round robin).
    weights: Vec<f64>,
    /// Attempts in flight per replica (balancers that track attempts).
    in_flight: Vec<u32>,
    /// Peak EWMA: per replica, the cost (ns) and when it was last updated.
    cost: Vec<(f64, SimTime)>,
    /// Smooth weighted round robin: per replica, its current weight.
    current: Vec<f64>,
}

impl Balancer {
    fn new(spec: &BalancerSpec, weights: &[f64]) -> Self {
        let n = weights.len();
        let tracks = spec.kind.tracks_attempts();
        Balancer {
            kind: spec.kind,
            weights: weights.to_vec(),
            cursor: 0,
            in_flight: if tracks { vec![0; n] } else { Vec::new() },
            cost: match spec.kind {
                BalancerKind::PeakEwma { .. } => vec![(0.0, SimTime::ZERO); n],
                _ => Vec::new(),
            },
            current: match spec.kind {
                BalancerKind::WeightedRoundRobin => vec![0.0; n],
                _ => Vec::new(),
            },
        }
    }

    /// True when the model must tell it when each of its attempts is settled.
    #[inline(always)]
    pub fn tracks(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// The replica (a position among `n`) for the next attempt sent at `now`. When it is
    /// one of `avoid` (bit `i % 64` for position `i`), the balancer selects once more
    /// (Envoy's `previous_hosts` retry predicate with its default of one reselection).
    #[inline(always)]
    pub fn pick(&mut self, rng: &mut SimRng, n: u32, avoid: u64, now: SimTime) -> u32 {
        let mut offset = self.choose(rng, n, now);
        if avoid & (1 << (offset % 64)) != 0 && n > 1 {
            offset = self.choose(rng, n, now);
        }
        if self.tracks() {
            self.in_flight[offset as usize] += 1;
        }
        offset
    }

    #[inline(always)]
    fn choose(&mut self, rng: &mut SimRng, n: u32, now: SimTime) -> u32 {
        match self.kind {
            BalancerKind::RoundRobin => {
                let offset = self.cursor % n;
                self.cursor = self.cursor.wrapping_add(1);
                offset
            }
            BalancerKind::Random => rng.index(n as usize) as u32,
            BalancerKind::LeastOutstanding => self.least_outstanding(rng),
            BalancerKind::PowerOfChoices { choices } => {
                self.best_of(rng, choices, n, |b, i, _| f64::from(b.in_flight[i]), now)
            }
            BalancerKind::PeakEwma { decay } => {
                let tau = decay.as_nanos() as f64;
                self.best_of(rng, 2, n, |b, i, now| b.ewma_load(i, now, tau), now)
            }
            BalancerKind::WeightedRoundRobin => self.smooth_weighted(),
        }
    }

    /// Join the shortest queue as this balancer sees it: the fewest attempts in flight,
    /// ties broken by a uniform draw among the tied.
    fn least_outstanding(&mut self, rng: &mut SimRng) -> u32 {
        let least = *self.in_flight.iter().min().expect("a replica");
        let tied = self.in_flight.iter().filter(|&&c| c == least).count();
        let k = if tied > 1 { rng.index(tied) } else { 0 };
        self.in_flight
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == least)
            .nth(k)
            .map(|(i, _)| i as u32)
            .expect("a tied replica")
    }

    /// Draws `choices` distinct replicas (all of them when there are no more) and takes
    /// the one whose `load` is lowest, the first drawn on a tie (Envoy's P2C).
    fn best_of(
        &mut self,
        rng: &mut SimRng,
        choices: u32,
        n: u32,
        load: impl Fn(&mut Self, usize, SimTime) -> f64,
        now: SimTime,
    ) -> u32 {
        let d = choices.min(n) as usize;
        let mut drawn = [0u32; 16];
        let mut count = 0;
        while count < d {
            let c = rng.index(n as usize) as u32;
            if !drawn[..count].contains(&c) {
                drawn[count] = c;
                count += 1;
            }
        }
        let mut best = drawn[0];
        let mut best_load = load(self, best as usize, now);
        for &c in &drawn[1..d] {
            let l = load(self, c as usize, now);
            if l < best_load {
                best = c;
                best_load = l;
            }
        }
        best
    }

    /// Finagle's peak-EWMA load of replica `i`: its cost, decayed to `now`, times
    /// (attempts in flight + 1); a huge penalty plus the attempts in flight while the cost
    /// is still 0.
    fn ewma_load(&mut self, i: usize, now: SimTime, tau: f64) -> f64 {
        let cost = self.observe(i, 0.0, now, tau);
        let pending = f64::from(self.in_flight[i]);
        if cost == 0.0 && pending > 0.0 {
            PENALTY + pending
        } else {
            cost * (pending + 1.0)
        }
    }

    /// Finagle's `PeakEwma.observe`: the cost jumps to an RTT above it, else decays toward
    /// it with weight exp(-elapsed / tau). Reading the cost observes 0.
    fn observe(&mut self, i: usize, rtt: f64, now: SimTime, tau: f64) -> f64 {
        let (cost, stamp) = &mut self.cost[i];
        let elapsed = now.as_nanos().saturating_sub(stamp.as_nanos()) as f64;
        let w = (-elapsed / tau).exp();
        *cost = if rtt > *cost {
            rtt
        } else {
            *cost * w + rtt * (1.0 - w)
        };
        *stamp = now;
        *cost
    }

    /// nginx's smooth weighted round robin: every replica's current weight grows by its
    /// weight, the largest (the first on a tie) is taken and loses the total.
    fn smooth_weighted(&mut self) -> u32 {
        let total: f64 = self.weights.iter().sum();
        let mut best = 0;
        for i in 0..self.current.len() {
            self.current[i] += self.weights[i];
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= total;
        best as u32
    }

    /// The caller settled an attempt sent to replica `offset`: answered or timed out
    /// after `took` (a latency sample), or abandoned (`None`).
    pub fn settled(&mut self, offset: u32, took: Option<SimDuration>, now: SimTime) {
        let i = offset as usize;
        self.in_flight[i] -= 1;
        if let (BalancerKind::PeakEwma { decay }, Some(took)) = (self.kind, took) {
            self.observe(i, took.as_nanos() as f64, now, decay.as_nanos() as f64);
        }
    }

    /// Attempts in flight to replica `offset`, as this balancer counts them.
    #[cfg(test)]
    fn in_flight(&self, offset: u32) -> u32 {
        self.in_flight.get(offset as usize).copied().unwrap_or(0)
    }
}

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
    /// Round robin's cursor, for balancers that are round robin (`None` for the others),
    /// kept in a dense vector: the common case reads nothing else.
    round_robin: IdVec<BalancerId, Option<u32>>,
    /// Each balancer's random stream, kept apart from its hot state.
    rngs: IdVec<BalancerId, SimRng>,
    /// Each client's balancer.
    of_client: IdVec<ClientId, BalancerId>,
    /// Each replica's first own balancer.
    replica_base: IdVec<ReplicaId, BalancerId>,
    /// Per service, how each call entry finds its balancer.
    entry_slot: IdVec<ServiceId, IdVec<EntryId, Slot>>,
}

impl Balancers {
    /// One balancer per client, one per calling replica and distinct target (entries to
    /// one target share it), and one per callee that some caller shares.
    pub fn build(scenario: &Scenario, seed: u64) -> Self {
        let mut all: IdVec<BalancerId, (Balancer, SimRng)> = IdVec::new();
        let mut shared: Vec<(usize, BalancerId)> = Vec::new();
        // A caller's own balancer for `target`, named `name`, or the target's shared one.
        let add = |all: &mut IdVec<BalancerId, (Balancer, SimRng)>,
                   shared: &mut Vec<(usize, BalancerId)>,
                   spec: &BalancerSpec,
                   target: usize,
                   name: Option<names::Name>| {
            let callee = &scenario.services[target];
            let name = match (spec.scope, name) {
                (BalancerScope::Caller, Some(name)) => name,
                _ => {
                    if let Some(&(_, id)) = shared.iter().find(|(t, _)| *t == target) {
                        return id;
                    }
                    names::shared_balancer(&callee.name)
                }
            };
            let rng = SimRng::new(seed, name.stream());
            let id = all.push((Balancer::new(spec, &callee.weights), rng));
            if spec.scope == BalancerScope::Shared {
                shared.push((target, id));
            }
            id
        };
        let of_client = scenario
            .clients
            .iter()
            .map(|c| {
                let name = names::client_balancer(&c.name, &scenario.services[c.target].name);
                add(&mut all, &mut shared, &c.balancer, c.target, Some(name))
            })
            .collect();
        let mut replica_base = IdVec::new();
        let mut entry_slot = IdVec::new();
        for s in &scenario.services {
            // The distinct targets this service balances on its own, in entry order.
            let mut own: Vec<usize> = Vec::new();
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
                    let name = names::call_balancer(&s.name, r, &scenario.services[target].name);
                    add(&mut all, &mut shared, &spec, target, Some(name));
                }
            }
            entry_slot.push(slots);
        }
        let (all, rngs): (Vec<Balancer>, Vec<SimRng>) = all.into_iter().unzip();
        let round_robin = all
            .iter()
            .map(|b| (b.kind == BalancerKind::RoundRobin).then_some(0))
            .collect();
        Balancers {
            round_robin,
            all: all.into(),
            rngs: rngs.into(),
            of_client,
            replica_base,
            entry_slot,
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
    pub fn pick(&mut self, id: BalancerId, n: u32, avoid: u64, now: SimTime) -> (u32, bool) {
        if let (Some(cursor), 0) = (&mut self.round_robin[id], avoid) {
            // The common case, without touching the balancer's other state.
            let offset = *cursor % n;
            *cursor = cursor.wrapping_add(1);
            return (offset, false);
        }
        let b = &mut self.all[id];
        if let Some(cursor) = self.round_robin[id] {
            b.cursor = cursor; // a retry avoiding a host goes on from the dense cursor
        }
        let offset = b.pick(&mut self.rngs[id], n, avoid, now);
        if let Some(cursor) = &mut self.round_robin[id] {
            *cursor = b.cursor;
        }
        (offset, b.tracks())
    }

    /// Balancer `id`.
    #[inline(always)]
    pub fn get(&mut self, id: BalancerId) -> &mut Balancer {
        &mut self.all[id]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StreamId;

    fn balancer(kind: BalancerKind, weights: &[f64]) -> Balancer {
        let spec = BalancerSpec {
            kind,
            scope: BalancerScope::Caller,
        };
        Balancer::new(&spec, weights)
    }

    fn rng() -> SimRng {
        SimRng::new(1, StreamId::from_parts(&[b"test"]))
    }

    fn picks(b: &mut Balancer, n: u32, count: usize) -> Vec<u32> {
        let mut rng = rng();
        (0..count)
            .map(|_| b.pick(&mut rng, n, 0, SimTime::ZERO))
            .collect()
    }

    #[test]
    fn round_robin_walks_the_replicas_in_turn() {
        let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 3]);
        assert_eq!(picks(&mut b, 3, 7), [0, 1, 2, 0, 1, 2, 0]);
    }

    /// nginx's smooth weighted round robin: weights 5, 1, 1 give a a b a c a a.
    #[test]
    fn smooth_weighted_round_robin_spreads_the_heavy_replica() {
        let mut b = balancer(BalancerKind::WeightedRoundRobin, &[5.0, 1.0, 1.0]);
        assert_eq!(picks(&mut b, 3, 7), [0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(
            picks(&mut b, 3, 7),
            [0, 0, 1, 0, 2, 0, 0],
            "the cycle repeats"
        );
    }

    /// Join the shortest queue: the replica with the fewest attempts in flight; among
    /// tied replicas a uniform draw.
    #[test]
    fn least_outstanding_takes_the_emptiest_and_spreads_ties() {
        let mut b = balancer(BalancerKind::LeastOutstanding, &[1.0; 3]);
        let first = picks(&mut b, 3, 3);
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [0, 1, 2],
            "each replica once before any twice: {first:?}"
        );
        b.settled(1, None, SimTime::ZERO);
        assert_eq!(
            b.pick(&mut rng(), 3, 0, SimTime::ZERO),
            1,
            "the only one with room"
        );
        assert_eq!(b.in_flight(1), 1);
        let mut counts = [0; 3];
        let mut b = balancer(BalancerKind::LeastOutstanding, &[1.0; 3]);
        let mut rng = rng();
        for _ in 0..3000 {
            let r = b.pick(&mut rng, 3, 0, SimTime::ZERO);
            counts[r as usize] += 1;
            b.settled(r, None, SimTime::ZERO);
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
    }

    /// With as many choices as replicas, power of d choices is least outstanding.
    #[test]
    fn p2c_never_takes_the_busier_of_two() {
        let mut b = balancer(BalancerKind::PowerOfChoices { choices: 2 }, &[1.0; 2]);
        for _ in 0..5 {
            b.pick(&mut rng(), 2, 0, SimTime::ZERO);
        }
        assert_eq!(b.in_flight(0) + b.in_flight(1), 5);
        assert!(b.in_flight(0).abs_diff(b.in_flight(1)) <= 1);
    }

    /// Finagle's peak EWMA: a latency above the cost sets it at once; below it, the cost
    /// decays toward it with weight exp(-elapsed / decay); so the slow replica is avoided.
    #[test]
    fn peak_ewma_jumps_to_peaks_and_decays() {
        let decay = SimDuration::from_secs(10);
        let mut b = balancer(BalancerKind::PeakEwma { decay }, &[1.0; 2]);
        let tau = decay.as_nanos() as f64;
        let t0 = SimTime(1_000_000_000);
        assert_eq!(b.observe(0, 5e6, t0, tau), 5e6, "a peak sets the cost");
        let t1 = SimTime(t0.as_nanos() + 10_000_000_000);
        let decayed = b.observe(0, 1e6, t1, tau);
        let w = (-1.0f64).exp();
        assert!(
            (decayed - (5e6 * w + 1e6 * (1.0 - w))).abs() < 1.0,
            "{decayed}"
        );
        // Replica 1 learns a 100 ms latency, replica 0 1 ms: picks go to replica 0.
        b.in_flight = vec![1, 1];
        b.settled(0, Some(SimDuration::from_millis(1)), t1);
        b.settled(1, Some(SimDuration::from_millis(100)), t1);
        assert!(picks(&mut b, 2, 20).iter().all(|&r| r == 0));
    }

    /// A replica to avoid (a retry's previous host) is reselected once.
    #[test]
    fn an_avoided_replica_is_reselected_once() {
        let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 3]);
        assert_eq!(
            b.pick(&mut rng(), 3, 0b001, SimTime::ZERO),
            1,
            "0 avoided: the next"
        );
        assert_eq!(
            b.pick(&mut rng(), 3, 0b100, SimTime::ZERO),
            0,
            "2 avoided: the next"
        );
        let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 1]);
        assert_eq!(
            b.pick(&mut rng(), 1, 0b1, SimTime::ZERO),
            0,
            "one replica: no other to take"
        );
    }
}
