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
use crate::metrics::policy_log::{PolicyEvent, PolicyLog};
use crate::scenario::Scenario;
#[cfg(test)]
use crate::scenario::balancer::SuccessRateSpec;
use crate::scenario::balancer::{BalancerKind, BalancerScope, BalancerSpec, OutlierSpec};

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
    /// What it was built from, to build it afresh when its process restarts.
    spec: BalancerSpec,
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
    /// Passive outlier detection, if configured.
    outlier: Option<Outliers>,
    /// Which replicas may be chosen now (reused for every choice that filters).
    available: Vec<bool>,
    /// Consistent hashing: the ring's points (hash, replica) in hash order, or Maglev's
    /// table (its entries' replicas, the hash unused).
    table: Vec<(u64, u32)>,
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A Ketama ring of `size` points over replicas with `weights`: each replica gets points in
/// proportion to its weight (at least one), each point at the hash of (replica, point).
fn ring(weights: &[f64], size: u32) -> Vec<(u64, u32)> {
    let total: f64 = weights.iter().sum();
    let mut points: Vec<(u64, u32)> = Vec::new();
    for (r, w) in weights.iter().enumerate() {
        let count = ((f64::from(size) * w / total).round() as u64).max(1);
        for p in 0..count {
            points.push((mix(mix(r as u64) ^ p), r as u32));
        }
    }
    points.sort_unstable();
    points
}

/// Maglev's lookup table of prime size `m` (Eisenbud et al., NSDI 2016): each replica walks
/// its own permutation of the slots (offset and skip from two hashes of it) and takes the
/// next free one in turn, a replica of higher weight taking proportionally more turns,
/// until the table is full.
fn maglev(weights: &[f64], m: u32) -> Vec<(u64, u32)> {
    let n = weights.len();
    let m64 = u64::from(m);
    let perm = |r: usize, j: u64| {
        let offset = mix(r as u64 ^ 0x6d61_676c) % m64;
        let skip = mix(r as u64 ^ 0x736b_6970) % (m64 - 1) + 1;
        (offset + j * skip) % m64
    };
    let max = weights.iter().cloned().fold(0.0, f64::max);
    let mut next = vec![0u64; n];
    let mut credit = vec![0.0; n];
    let mut table = vec![(0u64, u32::MAX); m as usize];
    let mut filled = 0;
    while filled < m as usize {
        for r in 0..n {
            credit[r] += weights[r] / max;
            if credit[r] < 1.0 {
                continue;
            }
            credit[r] -= 1.0;
            let mut slot = perm(r, next[r]);
            while table[slot as usize].1 != u32::MAX {
                next[r] += 1;
                slot = perm(r, next[r]);
            }
            table[slot as usize] = (0, r as u32);
            next[r] += 1;
            filled += 1;
            if filled == m as usize {
                break;
            }
        }
    }
    table
}

/// Envoy's consecutive-errors outlier detection, as one balancer sees its replicas.
struct Outliers {
    spec: OutlierSpec,
    /// Failures in a row per replica.
    streak: Vec<u32>,
    /// Until when each replica is ejected.
    ejected_until: Vec<Option<SimTime>>,
    /// The ejection multiplier of each replica (Envoy's number of times ejected), and when
    /// it last returned (it drops by one per `interval` spent back in).
    times: Vec<(u32, SimTime)>,
    /// Ejections and returns not yet logged: (time, replica, event).
    events: Vec<(SimTime, u32, &'static str)>,
    /// Attempts and successes per replica in the current interval (success-rate detector).
    counts: Vec<(u32, u32)>,
    /// When the current interval ends.
    interval_end: SimTime,
}

impl Outliers {
    fn new(spec: OutlierSpec, n: usize) -> Self {
        Outliers {
            spec,
            streak: vec![0; n],
            ejected_until: vec![None; n],
            times: vec![(0, SimTime::ZERO); n],
            events: Vec::new(),
            counts: vec![(0, 0); n],
            interval_end: SimTime::ZERO + spec.interval,
        }
    }

    /// Returns the replicas whose ejection has ended by `now`, and runs the success-rate
    /// detector over the interval that ended, if one has (lazily, at the first choice
    /// after it; an interval without attempts runs nothing).
    fn refresh(&mut self, now: SimTime) {
        if now >= self.interval_end {
            let at = self.interval_end;
            self.success_rate_sweep(at);
            let interval = self.spec.interval.as_nanos().max(1);
            let behind = (now.as_nanos() - at.as_nanos()) / interval + 1;
            self.interval_end = SimTime(at.as_nanos() + behind * interval);
        }
        for i in 0..self.ejected_until.len() {
            if let Some(until) = self.ejected_until[i]
                && until <= now
            {
                self.ejected_until[i] = None;
                self.times[i].1 = until;
                self.events.push((until, i as u32, "returned"));
            }
        }
    }

    /// An attempt to replica `i` settled at `now`, failed or not: a failure streak of
    /// `consecutive_errors` ejects it, if the ejected replicas stay within
    /// `max_ejection_percent`, for `base_ejection` x its multiplier, at most
    /// `max_ejection`.
    fn observe(&mut self, i: usize, failed: bool, now: SimTime) {
        let c = &mut self.counts[i];
        c.0 += 1;
        c.1 += u32::from(!failed);
        if !failed {
            self.streak[i] = 0;
            return;
        }
        self.streak[i] += 1;
        if self.streak[i] >= self.spec.consecutive_errors {
            self.eject(i, now);
        }
    }

    /// Envoy's success-rate detector at `now`, over the interval's counts: among replicas
    /// with at least `request_volume` attempts, if at least `minimum_hosts` of them, each
    /// whose success rate is below mean - `stdev_factor` x stdev is ejected.
    fn success_rate_sweep(&mut self, now: SimTime) {
        let sr = self.spec.success_rate;
        let rates: Vec<(usize, f64)> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(i, c)| c.0 >= sr.request_volume && self.ejected_until[*i].is_none())
            .map(|(i, c)| (i, f64::from(c.1) / f64::from(c.0)))
            .collect();
        self.counts.iter_mut().for_each(|c| *c = (0, 0));
        if rates.len() < sr.minimum_hosts as usize {
            return;
        }
        let mean = rates.iter().map(|r| r.1).sum::<f64>() / rates.len() as f64;
        let var = rates.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / rates.len() as f64;
        let threshold = mean - sr.stdev_factor * var.sqrt();
        for (i, rate) in rates {
            if rate < threshold {
                self.eject(i, now);
            }
        }
    }

    /// Ejects replica `i` at `now`, if not ejected already and the ejected replicas stay
    /// within `max_ejection_percent`: for `base_ejection` x its multiplier, at most
    /// `max_ejection`.
    fn eject(&mut self, i: usize, now: SimTime) {
        if self.ejected_until[i].is_some() {
            return;
        }
        let n = self.ejected_until.len();
        let ejected = self.ejected_until.iter().filter(|u| u.is_some()).count();
        if ((ejected + 1) as f64) * 100.0 > self.spec.max_ejection_percent * n as f64 {
            return;
        }
        let (times, returned) = &mut self.times[i];
        let healthy_intervals =
            now.saturating_since(*returned).as_nanos() / self.spec.interval.as_nanos().max(1);
        *times = times.saturating_sub(healthy_intervals.min(u64::from(u32::MAX)) as u32) + 1;
        let length = (self.spec.base_ejection.as_nanos() as f64 * f64::from(*times))
            .min(self.spec.max_ejection.as_nanos() as f64);
        self.ejected_until[i] = Some(now + SimDuration(length as u64));
        self.streak[i] = 0;
        self.events.push((now, i as u32, "ejected"));
    }
}

impl Balancer {
    fn new(spec: &BalancerSpec, weights: &[f64]) -> Self {
        let n = weights.len();
        let tracks = spec.kind.tracks_attempts() || spec.outlier.is_some();
        Balancer {
            spec: *spec,
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
            outlier: spec.outlier.map(|o| Outliers::new(o, n)),
            available: Vec::new(),
            table: match spec.kind {
                BalancerKind::RingHash { ring_size } => ring(weights, ring_size),
                BalancerKind::Maglev { table_size } => maglev(weights, table_size),
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
    #[allow(clippy::too_many_arguments)]
    pub fn pick(
        &mut self,
        rng: &mut SimRng,
        n: u32,
        avoid: u64,
        now: SimTime,
        unhealthy: &[bool],
        key: u64,
    ) -> u32 {
        let available = self.availability(n, now, unhealthy);
        let mut offset = self.choose(rng, n, now, &available, key);
        if avoid & (1 << (offset % 64)) != 0 && n > 1 {
            // A hashing balancer's reselection hashes the key once more.
            offset = self.choose(rng, n, now, &available, mix(key));
        }
        self.available = available;
        if self.tracks() {
            self.in_flight[offset as usize] += 1;
        }
        offset
    }

    /// Which replicas may be chosen at `now` (empty: all): those neither `unhealthy` (the
    /// health checks' view) nor ejected (this balancer's outlier detection), unless fewer
    /// than the panic threshold are (Envoy's `healthy_panic_threshold`; 50% without
    /// outlier detection), when all of them may.
    fn availability(&mut self, n: u32, now: SimTime, unhealthy: &[bool]) -> Vec<bool> {
        let mut available = std::mem::take(&mut self.available);
        available.clear();
        if self.outlier.is_none() && unhealthy.is_empty() {
            return available;
        }
        if let Some(o) = &mut self.outlier {
            o.refresh(now);
        }
        let outlier = self.outlier.as_ref();
        available.extend((0..n as usize).map(|i| {
            !unhealthy.get(i).copied().unwrap_or(false)
                && outlier.is_none_or(|o| o.ejected_until[i].is_none())
        }));
        let count = available.iter().filter(|&&a| a).count();
        let panic = outlier.map_or(50.0, |o| o.spec.panic_threshold);
        if count == 0 || (count as f64) * 100.0 < panic * f64::from(n) {
            available.fill(true);
        }
        available
    }

    /// The kind's choice among the replicas `available` says (all when it is empty).
    #[inline(always)]
    fn choose(
        &mut self,
        rng: &mut SimRng,
        n: u32,
        now: SimTime,
        available: &[bool],
        key: u64,
    ) -> u32 {
        let ok = |i: usize| available.is_empty() || available[i];
        match self.kind {
            // The first point at or after the key's hash (wrapping), walking on past
            // replicas left out, as Envoy's ring hash walks on to the next host.
            BalancerKind::RingHash { .. } => {
                let h = mix(key);
                let start = self.table.partition_point(|&(p, _)| p < h);
                (0..self.table.len())
                    .map(|k| self.table[(start + k) % self.table.len()].1)
                    .find(|&r| ok(r as usize))
                    .expect("an available replica")
            }
            BalancerKind::Maglev { .. } => {
                let start = (mix(key) % self.table.len() as u64) as usize;
                (0..self.table.len())
                    .map(|k| self.table[(start + k) % self.table.len()].1)
                    .find(|&r| ok(r as usize))
                    .expect("an available replica")
            }
            BalancerKind::RoundRobin => loop {
                let offset = self.cursor % n;
                self.cursor = self.cursor.wrapping_add(1);
                if ok(offset as usize) {
                    return offset;
                }
            },
            BalancerKind::Random => loop {
                let offset = rng.index(n as usize) as u32;
                if ok(offset as usize) {
                    return offset;
                }
            },
            BalancerKind::LeastOutstanding => self.least_outstanding(rng, &ok),
            BalancerKind::PowerOfChoices { choices } => {
                let load = |b: &mut Self, i: usize, _| f64::from(b.in_flight[i]);
                self.best_of(rng, choices, n, load, now, &ok)
            }
            BalancerKind::PeakEwma { decay } => {
                let tau = decay.as_nanos() as f64;
                let load = |b: &mut Self, i: usize, now| b.ewma_load(i, now, tau);
                self.best_of(rng, 2, n, load, now, &ok)
            }
            BalancerKind::WeightedRoundRobin => self.smooth_weighted(&ok),
        }
    }

    /// Join the shortest queue as this balancer sees it: the fewest attempts in flight,
    /// ties broken by a uniform draw among the tied.
    fn least_outstanding(&mut self, rng: &mut SimRng, ok: &impl Fn(usize) -> bool) -> u32 {
        let candidates = || self.in_flight.iter().enumerate().filter(|&(i, _)| ok(i));
        let least = candidates().map(|(_, &c)| c).min().expect("a replica");
        let tied = candidates().filter(|&(_, &c)| c == least).count();
        let k = if tied > 1 { rng.index(tied) } else { 0 };
        candidates()
            .filter(|&(_, &c)| c == least)
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
        ok: &impl Fn(usize) -> bool,
    ) -> u32 {
        let available = (0..n as usize).filter(|&i| ok(i)).count();
        let d = (choices as usize).min(available);
        let mut drawn = [0u32; 16];
        let mut count = 0;
        while count < d {
            let c = rng.index(n as usize) as u32;
            if ok(c as usize) && !drawn[..count].contains(&c) {
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
    fn smooth_weighted(&mut self, ok: &impl Fn(usize) -> bool) -> u32 {
        let mut total = 0.0;
        let mut best: Option<usize> = None;
        for i in (0..self.current.len()).filter(|&i| ok(i)) {
            self.current[i] += self.weights[i];
            total += self.weights[i];
            if best.is_none_or(|b| self.current[i] > self.current[b]) {
                best = Some(i);
            }
        }
        let best = best.expect("a replica");
        self.current[best] -= total;
        best as u32
    }

    /// The caller settled an attempt sent to replica `offset`: answered or timed out
    /// after `took` (a latency sample), failed or not (`failed`), or abandoned (both
    /// `None`).
    pub fn settled(
        &mut self,
        offset: u32,
        took: Option<SimDuration>,
        failed: Option<bool>,
        now: SimTime,
    ) {
        let i = offset as usize;
        self.in_flight[i] -= 1;
        if let (Some(o), Some(failed)) = (&mut self.outlier, failed) {
            o.observe(i, failed, now);
        }
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
        let mut shared: Vec<(usize, BalancerId)> = Vec::new();
        // A caller's own balancer for `target`, named `name`, or the target's shared one.
        let add = |all: &mut IdVec<BalancerId, (Balancer, SimRng, String)>,
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
            let id = all.push((
                Balancer::new(spec, &callee.weights),
                rng,
                name.into_string(),
            ));
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
        let mut own_per_replica = IdVec::new();
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
            .map(|b| (b.kind == BalancerKind::RoundRobin && b.outlier.is_none()).then_some(0))
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
        let key = if b.kind.hashes() { key() } else { 0 };
        let offset = b.pick(&mut self.rngs[id], n, avoid, now, unhealthy, key);
        if let Some(cursor) = &mut self.round_robin[id] {
            *cursor = b.cursor;
        }
        (offset, b.tracks())
    }

    /// Adds every ejection and return (those due by `end` included) to `log`, under each
    /// balancer's name as the site, and sorts the log again.
    pub fn log_into(&mut self, log: &mut PolicyLog, end: SimTime) {
        for (b, name) in self.all.iter_mut().zip(&self.names) {
            let Some(o) = &mut b.outlier else { continue };
            o.refresh(end);
            if o.events.is_empty() {
                continue;
            }
            let site = match log.sites.iter().position(|s| s == name) {
                Some(i) => i,
                None => {
                    log.sites.push(name.clone());
                    log.sites.len() - 1
                }
            } as u32;
            for (time, replica, event) in o.events.drain(..) {
                log.events.push(PolicyEvent {
                    time,
                    site,
                    policy: "outlier_detection",
                    event,
                    value: Some(f64::from(replica)),
                });
            }
        }
        log.events.sort_by_key(|e| (e.time, e.site));
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
    use crate::scenario::Scenario;

    fn balancer(kind: BalancerKind, weights: &[f64]) -> Balancer {
        let spec = BalancerSpec {
            kind,
            scope: BalancerScope::Caller,
            outlier: None,
        };
        Balancer::new(&spec, weights)
    }

    fn rng() -> SimRng {
        SimRng::new(1, StreamId::from_parts(&[b"test"]))
    }

    fn picks(b: &mut Balancer, n: u32, count: usize) -> Vec<u32> {
        let mut rng = rng();
        (0..count)
            .map(|_| b.pick(&mut rng, n, 0, SimTime::ZERO, &[], 0))
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
        b.settled(1, None, None, SimTime::ZERO);
        assert_eq!(
            b.pick(&mut rng(), 3, 0, SimTime::ZERO, &[], 0),
            1,
            "the only one with room"
        );
        assert_eq!(b.in_flight(1), 1);
        let mut counts = [0; 3];
        let mut b = balancer(BalancerKind::LeastOutstanding, &[1.0; 3]);
        let mut rng = rng();
        for _ in 0..3000 {
            let r = b.pick(&mut rng, 3, 0, SimTime::ZERO, &[], 0);
            counts[r as usize] += 1;
            b.settled(r, None, None, SimTime::ZERO);
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
            b.pick(&mut rng(), 2, 0, SimTime::ZERO, &[], 0);
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
        b.settled(0, Some(SimDuration::from_millis(1)), Some(false), t1);
        b.settled(1, Some(SimDuration::from_millis(100)), Some(false), t1);
        assert!(picks(&mut b, 2, 20).iter().all(|&r| r == 0));
    }

    /// A replica to avoid (a retry's previous host) is reselected once.
    #[test]
    fn an_avoided_replica_is_reselected_once() {
        let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 3]);
        assert_eq!(
            b.pick(&mut rng(), 3, 0b001, SimTime::ZERO, &[], 0),
            1,
            "0 avoided: the next"
        );
        assert_eq!(
            b.pick(&mut rng(), 3, 0b100, SimTime::ZERO, &[], 0),
            0,
            "2 avoided: the next"
        );
        let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 1]);
        assert_eq!(
            b.pick(&mut rng(), 1, 0b1, SimTime::ZERO, &[], 0),
            0,
            "one replica: no other to take"
        );
    }

    fn outlier_spec(max_percent: f64, panic: f64) -> OutlierSpec {
        OutlierSpec {
            consecutive_errors: 3,
            interval: SimDuration::from_secs(10),
            base_ejection: SimDuration::from_secs(30),
            max_ejection: SimDuration::from_secs(300),
            max_ejection_percent: max_percent,
            panic_threshold: panic,
            success_rate: SuccessRateSpec {
                minimum_hosts: 5,
                request_volume: 100,
                stdev_factor: 1.9,
            },
        }
    }

    fn with_outliers(n: usize, max_percent: f64, panic: f64) -> Balancer {
        let spec = BalancerSpec {
            kind: BalancerKind::RoundRobin,
            scope: BalancerScope::Caller,
            outlier: Some(outlier_spec(max_percent, panic)),
        };
        Balancer::new(&spec, &vec![1.0; n])
    }

    const S: u64 = 1_000_000_000;

    /// Sends one attempt to the next replica at `t` seconds and settles it, failed when
    /// it went to `bad`; returns the replica.
    fn attempt(b: &mut Balancer, n: u32, t: u64, bad: &[u32]) -> u32 {
        let now = SimTime(t * S);
        let r = b.pick(&mut rng(), n, 0, now, &[], 0);
        b.settled(r, Some(SimDuration(1)), Some(bad.contains(&r)), now);
        r
    }

    /// Envoy's consecutive-5xx detector: three failures in a row eject the replica for
    /// base_ejection; a success in between resets the streak; meanwhile round robin skips
    /// it; it returns when its time is up.
    #[test]
    fn consecutive_failures_eject_a_replica_for_its_time() {
        let mut b = with_outliers(4, 100.0, 0.0);
        for t in 0..12 {
            attempt(&mut b, 4, t, &[1]);
        }
        let o = b.outlier.as_ref().expect("outliers");
        assert_eq!(
            o.ejected_until[1],
            Some(SimTime(9 * S + 30 * S)),
            "third failure at 9 s"
        );
        let picks: Vec<u32> = (12..18).map(|t| attempt(&mut b, 4, t, &[])).collect();
        assert!(!picks.contains(&1), "ejected: skipped, {picks:?}");
        let back: Vec<u32> = (39..43).map(|t| attempt(&mut b, 4, t, &[])).collect();
        assert!(back.contains(&1), "returned after 30 s: {back:?}");
        let events: Vec<(u64, u32, &str)> = b
            .outlier
            .as_ref()
            .expect("outliers")
            .events
            .iter()
            .map(|&(t, r, e)| (t.as_nanos() / S, r, e))
            .collect();
        assert_eq!(events, [(9, 1, "ejected"), (39, 1, "returned")]);
    }

    /// A replica ejected again soon after returning stays out twice as long
    /// (base_ejection x number of ejections); each `interval` back in takes one off.
    #[test]
    fn repeated_ejections_grow_and_healthy_intervals_shrink_them() {
        let mut o = Outliers::new(outlier_spec(100.0, 0.0), 2);
        let fail3 = |o: &mut Outliers, t: u64| {
            for k in 0..3 {
                o.observe(0, true, SimTime(t * S + k));
            }
        };
        fail3(&mut o, 0);
        assert_eq!(o.ejected_until[0], Some(SimTime(30 * S + 2)));
        o.refresh(SimTime(31 * S));
        fail3(&mut o, 31);
        assert_eq!(
            o.ejected_until[0],
            Some(SimTime(31 * S + 2 + 60 * S)),
            "second: 60 s"
        );
        o.refresh(SimTime(100 * S));
        // Returned at 91 s; 35 s later three intervals have passed: the multiplier goes
        // from 2 to 0, then 1 for this ejection: 30 s.
        fail3(&mut o, 126);
        assert_eq!(o.ejected_until[0], Some(SimTime(126 * S + 2 + 30 * S)));
    }

    /// Ejections stop at max_ejection_percent of the replicas.
    #[test]
    fn ejections_never_exceed_the_maximum_share() {
        let mut o = Outliers::new(outlier_spec(50.0, 0.0), 4);
        for r in 0..4 {
            for k in 0..3 {
                o.observe(r, true, SimTime(k));
            }
        }
        let ejected = o.ejected_until.iter().filter(|u| u.is_some()).count();
        assert_eq!(ejected, 2, "half of 4");
        let mut none = Outliers::new(outlier_spec(10.0, 0.0), 4);
        for k in 0..3 {
            none.observe(0, true, SimTime(k));
        }
        assert!(
            none.ejected_until[0].is_none(),
            "10% of 4 replicas is less than one"
        );
    }

    /// Below the panic threshold of replicas available, the balancer uses all of them.
    #[test]
    fn below_the_panic_threshold_every_replica_is_used() {
        let mut b = with_outliers(4, 100.0, 80.0);
        for t in 0..12 {
            attempt(&mut b, 4, t, &[2]);
        }
        assert!(b.outlier.as_ref().expect("o").ejected_until[2].is_some());
        // 3 of 4 available = 75% < 80%: panic, replica 2 gets its turn.
        let picks: Vec<u32> = (12..16).map(|t| attempt(&mut b, 4, t, &[])).collect();
        assert!(picks.contains(&2), "{picks:?}");
    }

    fn hashing(kind: BalancerKind, n: usize) -> Balancer {
        let spec = BalancerSpec {
            kind,
            scope: BalancerScope::Caller,
            outlier: None,
        };
        Balancer::new(&spec, &vec![1.0; n])
    }

    /// Where each of `keys` goes, with `unhealthy` replicas left out.
    fn placements(b: &mut Balancer, n: u32, keys: u64, unhealthy: &[bool]) -> Vec<u32> {
        let mut rng = rng();
        (0..keys)
            .map(|k| b.pick(&mut rng, n, 0, SimTime::ZERO, unhealthy, k))
            .collect()
    }

    /// Consistent hashing: a key always goes to the same replica; keys spread evenly
    /// (within 15% of the mean with 1024 ring points or Maglev's 65537 entries over 4);
    /// taking a replica out moves only the keys it had (Envoy's ring hash and Maglev both
    /// remap about 1/n of the keys).
    #[test]
    fn consistent_hashing_is_stable_even_and_moves_only_the_lost_keys() {
        for kind in [
            BalancerKind::RingHash { ring_size: 1024 },
            BalancerKind::Maglev { table_size: 65_537 },
        ] {
            let mut b = hashing(kind, 4);
            let all = placements(&mut b, 4, 20_000, &[]);
            assert_eq!(all, placements(&mut b, 4, 20_000, &[]), "{kind:?}: stable");
            let mut counts = [0u32; 4];
            for &r in &all {
                counts[r as usize] += 1;
            }
            assert!(
                counts.iter().all(|&c| (4250..5750).contains(&c)),
                "{kind:?}: {counts:?}"
            );
            let without_2 = placements(&mut b, 4, 20_000, &[false, false, true, false]);
            for (before, after) in all.iter().zip(&without_2) {
                if *before != 2 {
                    assert_eq!(before, after, "{kind:?}: only replica 2's keys move");
                } else {
                    assert_ne!(*after, 2);
                }
            }
        }
    }

    /// Envoy's success-rate detector: ten replicas with 200 attempts each in an interval,
    /// nine succeeding 99% of the time and one 80%: mean 0.971, standard deviation 0.057,
    /// threshold 0.971 - 1.9 x 0.057 = 0.863: only the 80% replica is ejected, at the sweep
    /// after the interval (10 s). With fewer than `minimum_hosts` replicas of enough
    /// volume, nothing is.
    #[test]
    fn the_success_rate_detector_ejects_the_outlier_among_enough_hosts() {
        let mut o = Outliers::new(outlier_spec(100.0, 0.0), 10);
        for r in 0..10 {
            let failures = if r == 7 { 40 } else { 2 };
            for k in 0..200u64 {
                // Spread failures so no streak of 3 ejects by the other detector.
                let failed = k % (200 / failures) == 0;
                o.observe(r, failed, SimTime(k));
            }
        }
        assert!(
            o.ejected_until.iter().all(Option::is_none),
            "no streak ejected"
        );
        o.refresh(SimTime(10 * S));
        let ejected: Vec<usize> = (0..10).filter(|&i| o.ejected_until[i].is_some()).collect();
        assert_eq!(ejected, [7]);
        assert_eq!(
            o.ejected_until[7],
            Some(SimTime(40 * S)),
            "ejected at 10 s for 30 s"
        );
        // Four replicas: below minimum_hosts, the detector does nothing.
        let mut few = Outliers::new(outlier_spec(100.0, 0.0), 4);
        for r in 0..4 {
            for k in 0..200u64 {
                few.observe(r, r == 0 && k % 5 == 0, SimTime(k));
            }
        }
        few.refresh(SimTime(10 * S));
        assert!(few.ejected_until.iter().all(Option::is_none));
    }

    /// A restarted replica's balancers start afresh: the db replica its outlier detection
    /// ejected is back (and logged as returned), its round robin starts over.
    #[test]
    fn a_restart_gives_a_replica_fresh_balancers() {
        let text = r#"name = "r"
duration = "10s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 1 }
[[service]]
name = "api"
service_time = { kind = "constant", value = "1ms" }
calls = [{ to = "db", outlier_detection = { consecutive_errors = 1, max_ejection_percent = 50 } }]
[[service]]
name = "db"
replicas = 2
service_time = { kind = "constant", value = "1ms" }
"#;
        let scenario = Scenario::from_text(text, "r.toml").expect("valid");
        let mut b = Balancers::build(&scenario, 1);
        let api = ServiceId::from_index(0);
        let replica = ReplicaId::from_index(0);
        let id = b.of_call(api, replica, EntryId::from_index(0));
        let now = SimTime(S);
        let (first, _) = b.pick(id, 2, 0, now, &[], || 0);
        b.get(id)
            .settled(first, Some(SimDuration(1)), Some(true), now);
        let (second, _) = b.pick(id, 2, 0, now, &[], || 0);
        assert_ne!(first, second, "the failed replica is ejected");
        b.get(id)
            .settled(second, Some(SimDuration(1)), Some(false), now);
        b.restart(api, replica, SimTime(2 * S));
        let o = b.get(id).outlier.as_ref().expect("outliers");
        assert!(
            o.ejected_until.iter().all(Option::is_none),
            "fresh: nothing ejected"
        );
        let events: Vec<&str> = o.events.iter().map(|e| e.2).collect();
        assert_eq!(events, ["ejected", "returned"]);
        let (again, _) = b.pick(id, 2, 0, SimTime(2 * S), &[], || 0);
        assert_eq!(again, 0, "round robin starts over");
    }
}
