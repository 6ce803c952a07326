//! Load balancers at run time: for each attempt, which replica of the callee it goes to.
//!
//! A balancer sees only what a real caller sees: its own attempts in flight per replica
//! (counted from the send until the caller settles the attempt: its answer, its timeout,
//! or its abandonment) and the latencies it observed. Each draws from its own random
//! stream, named after its caller and callee (`web->api`, `api[0]->db`), or after the
//! callee for a shared balancer (`db`).

mod hashing;
mod outliers;
mod table;
#[cfg(test)]
mod tests;

use super::ids::BalancerId;
use crate::engine::{SimDuration, SimRng, SimTime};
use crate::scenario::balancer::{BalancerKind, BalancerSpec};
use hashing::{maglev, mix, ring};
use outliers::Outliers;
pub use table::Balancers;

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

impl Balancer {
    fn new(spec: &BalancerSpec, weights: &[f64]) -> Self {
        let n = weights.len();
        let tracks = spec.kind.tracks_attempts() || spec.outlier.is_some();
        Balancer {
            spec: *spec,
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
        match self.spec.kind {
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
        if let (BalancerKind::PeakEwma { decay }, Some(took)) = (self.spec.kind, took) {
            self.observe(i, took.as_nanos() as f64, now, decay.as_nanos() as f64);
        }
    }

    /// Attempts in flight to replica `offset`, as this balancer counts them.
    #[cfg(test)]
    fn in_flight(&self, offset: u32) -> u32 {
        self.in_flight.get(offset as usize).copied().unwrap_or(0)
    }
}
