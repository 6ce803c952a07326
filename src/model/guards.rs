//! Policy state per caller and target ("guards"): each client's, and each calling replica's
//! per call entry, circuit breaker and retry budget, and the log of what they did.

use super::event::Caller;
use super::event::Event;
use super::ids::{ClientId, EntryId, GuardId, Id, IdVec, ReplicaId, ServiceId};
use super::names::{self, Name};
use super::slab::Key;
use crate::engine::{Scheduler, SimDuration, SimRng, SimTime};
use crate::metrics::policy_log::{PolicyEvent, PolicyLog};
use crate::policy::breaker::{Breaker, Permit};
use crate::policy::budget::Budget;
use crate::policy::bulkhead::Bulkhead;
use crate::policy::hedge::HedgeDelay;
use crate::policy::rate_limit::Limiter;
use crate::policy::throttle::Throttle;
use crate::scenario::Scenario;
use crate::scenario::policy::CallPolicy;
use crate::scenario::policy::ClientLimit;

/// A caller's rate limit at run time.
pub enum ClientLimiter {
    /// A limiter, and how long a call may wait for its permit.
    Limiter(Limiter, SimDuration),
    /// Google SRE's adaptive throttle.
    Throttle(Box<Throttle>),
}

/// One caller-and-target's breaker and budget.
struct Guard {
    /// Jitter draws, named after the site (`web->api`, see [`names::client_site`]).
    rng: SimRng,
    breaker: Option<Breaker>,
    budget: Option<Budget>,
    /// The bucket of the budget's last decision, its time and the level after it, not yet
    /// logged.
    pending_level: Option<(u64, SimTime, f64)>,
    /// When to hedge, if the site hedges.
    hedge: Option<HedgeDelay>,
    /// The bulkhead, if the site has one; its waiters are (caller, call state).
    bulkhead: Option<Bulkhead<(Caller, Key)>>,
    /// The site's rate limiter or adaptive throttle, if any.
    limit: Option<ClientLimiter>,
    /// The policies it was built from, to build it afresh when its process restarts.
    policy: CallPolicy,
}

impl Guard {
    /// A fresh guard for `policy` at `site`, drawing from the site's stream of the run
    /// seeded with `seed`.
    fn new(policy: &CallPolicy, site: &Name, seed: u64) -> Self {
        Guard {
            rng: SimRng::new(seed, site.stream()),
            breaker: policy.breaker.clone().map(|b| {
                Breaker::new(b)
                    .with_growth(policy.breaker_growth)
                    .with_timers(policy.breaker_timers)
            }),
            budget: policy.budget.clone().map(Budget::new),
            pending_level: None,
            hedge: policy.hedge.map(|h| HedgeDelay::new(h.after)),
            bulkhead: policy.bulkhead.map(Bulkhead::new),
            limit: new_limit(policy),
            policy: policy.clone(),
        }
    }
}

/// A fresh rate limiter or throttle for `policy`'s `rate_limit`, if any.
fn new_limit(policy: &CallPolicy) -> Option<ClientLimiter> {
    policy.rate_limit.map(|l| match l {
        ClientLimit::Limiter { kind, max_wait } => {
            ClientLimiter::Limiter(Limiter::new(kind), max_wait)
        }
        ClientLimit::Throttle { k, window } => {
            ClientLimiter::Throttle(Box::new(Throttle::new(k, window)))
        }
    })
}

/// For each call entry of a service, its guard's position among one replica's guards, and
/// the entries that have a guard of their own: an entry with `scope = "target"` uses the
/// guard of the first such entry to the same target; every other entry has its own.
fn shared_offsets(calls: &[crate::scenario::CallSpec]) -> (Vec<u32>, Vec<usize>) {
    let mut offsets: Vec<u32> = Vec::with_capacity(calls.len());
    let mut own = Vec::new();
    for (k, call) in calls.iter().enumerate() {
        let shared_with = call.policy.breaker_per_target.then(|| {
            calls[..k]
                .iter()
                .position(|e| e.to == call.to && e.policy.breaker_per_target)
        });
        match shared_with.flatten() {
            Some(j) => offsets.push(offsets[j]),
            None => {
                offsets.push(own.len() as u32);
                own.push(k);
            }
        }
    }
    (offsets, own)
}

/// Every guard of a run.
pub struct Guards {
    guards: IdVec<GuardId, Guard>,
    /// First guard of each replica's call entries; clients' guards come first.
    replica_base: IdVec<ReplicaId, GuardId>,
    /// The service of each replica.
    replica_service: IdVec<ReplicaId, ServiceId>,
    /// Per service, the guard of each call entry, counted from its replica's first guard
    /// (entries sharing a breaker with `scope = "target"` share one).
    call_offset: IdVec<ServiceId, IdVec<EntryId, u32>>,
    /// Per service, the guards of each replica.
    guards_per_replica: IdVec<ServiceId, u32>,
    bucket_ns: u64,
    log: PolicyLog,
    /// Breaker timers scheduled and not yet fired (stale ones included).
    timers_armed: usize,
}

impl Guards {
    /// One guard per client, then one per replica and call entry, named `web->api`,
    /// `api[0]->db` (with `#k` when a service calls the same target more than once).
    pub fn build(scenario: &Scenario, seed: u64) -> Self {
        let mut guards: IdVec<GuardId, Guard> = IdVec::new();
        let mut sites: Vec<String> = Vec::new();
        let mut add = |policy: &CallPolicy, site: Name| {
            guards.push(Guard::new(policy, &site, seed));
            sites.push(site.into_string());
        };
        for c in &scenario.clients {
            add(
                &c.policy,
                names::client_site(&c.name, scenario.dest_name(c.target)),
            );
        }
        let mut replica_base = IdVec::new();
        let mut replica_service = IdVec::new();
        let mut call_offset = IdVec::new();
        let mut guards_per_replica = IdVec::new();
        let mut next = GuardId::from_index(scenario.clients.len());
        for (si, s) in scenario.services.iter().enumerate() {
            let (offsets, own) = shared_offsets(&s.calls);
            for r in 0..s.replicas {
                replica_base.push(next);
                replica_service.push(ServiceId::from_index(si));
                for &k in &own {
                    let call = &s.calls[k];
                    let target = scenario.dest_name(call.to);
                    let repeated = !call.policy.breaker_per_target
                        && s.calls.iter().filter(|c| c.to == call.to).count() > 1;
                    add(
                        &call.policy,
                        names::call_site(&s.name, r, target, repeated.then_some(k)),
                    );
                }
                next = next.plus(own.len() as u32);
            }
            call_offset.push(IdVec::from(offsets));
            guards_per_replica.push(own.len() as u32);
        }
        Guards {
            guards,
            replica_base,
            replica_service,
            call_offset,
            guards_per_replica,
            bucket_ns: scenario.bucket.as_nanos(),
            log: PolicyLog {
                sites,
                events: Vec::new(),
            },
            timers_armed: 0,
        }
    }

    /// The name of guard `guard`'s call site, such as `api[0]->db`.
    pub fn site(&self, guard: GuardId) -> &str {
        &self.log.sites[guard.index()]
    }

    /// The replica whose call entry guard `guard` serves (`None` for a client's guard).
    pub fn replica_of(&self, guard: GuardId) -> Option<ReplicaId> {
        // `replica_base` is sorted; the last replica whose first guard is at or below.
        let after = self
            .replica_base
            .iter()
            .take_while(|&&b| b <= guard)
            .count();
        (after > 0).then(|| ReplicaId::from_index(after - 1))
    }

    /// The guard of client `client`.
    pub fn of_client(&self, client: ClientId) -> GuardId {
        GuardId::from_index(client.index())
    }

    /// The guard of replica `replica`'s call entry `call`.
    pub fn of_call(&self, replica: ReplicaId, call: EntryId) -> GuardId {
        let service = self.replica_service[replica];
        self.replica_base[replica].plus(self.call_offset[service][call])
    }

    /// Replica `replica`'s process restarted: the guards of its call entries start afresh,
    /// as a restarted process's breakers, budgets, hedge estimates, bulkheads and rate
    /// limiters do (a breaker that
    /// was not closed is logged as closed at `now`). Their random streams go on.
    pub fn restart(&mut self, replica: ReplicaId, now: SimTime) {
        let first = self.replica_base[replica];
        let count = self.guards_per_replica[self.replica_service[replica]];
        for guard in (0..count).map(|k| first.plus(k)) {
            let g = &mut self.guards[guard];
            if let Some((_, t, v)) = g.pending_level.take() {
                self.log.events.push(level_event(guard, t, v));
            }
            let was_closed = g
                .breaker
                .as_ref()
                .is_none_or(|b| b.state() == crate::policy::breaker::State::Closed);
            if let Some(b) = &mut g.breaker {
                b.reset();
            }
            g.budget = g.policy.budget.clone().map(Budget::new);
            g.hedge = g.policy.hedge.map(|h| HedgeDelay::new(h.after));
            g.bulkhead = g.policy.bulkhead.map(Bulkhead::new);
            g.limit = new_limit(&g.policy);
            if !was_closed {
                self.log.events.push(PolicyEvent {
                    time: now,
                    site: guard.number(),
                    policy: "circuit_breaker",
                    event: crate::policy::breaker::State::Closed.name(),
                    value: None,
                });
            }
        }
    }

    /// Asks the guard's breaker for a permit: `Err(())` when refused, `Ok(None)` when the
    /// guard has no breaker.
    pub fn acquire(
        &mut self,
        guard: GuardId,
        now: SimTime,
        sched: &mut Scheduler<Event>,
    ) -> Result<Option<Permit>, ()> {
        let Some(b) = &mut self.guards[guard].breaker else {
            return Ok(None);
        };
        let permit = b.try_acquire(now);
        self.drain_transitions(guard, sched);
        permit.map(Some).ok_or(())
    }

    /// A breaker timer of `guard`, armed for the state tagged `epoch`, fires now. `over`:
    /// the run's time is up and no request, job or call is live, so only what is pending
    /// can still happen. A breaker whose timers would move it between open and half-open forever
    /// then arms no further timer once only breaker timers are pending: with no call left
    /// to decide anything, it would keep the run from ever ending (and its log growing).
    pub fn breaker_due(
        &mut self,
        guard: GuardId,
        epoch: u32,
        over: bool,
        sched: &mut Scheduler<Event>,
    ) {
        self.timers_armed -= 1;
        if let Some(b) = &mut self.guards[guard].breaker {
            b.fire(epoch, sched.now());
            let idle = over && b.cycles_on_its_own() && sched.pending() == self.timers_armed;
            if idle {
                self.log_transitions(guard);
            } else {
                self.drain_transitions(guard, sched);
            }
        }
    }

    /// Records an outcome with the guard's breaker.
    pub fn record(
        &mut self,
        guard: GuardId,
        permit: Option<Permit>,
        now: SimTime,
        took: SimDuration,
        failed: bool,
        sched: &mut Scheduler<Event>,
    ) {
        if let (Some(b), Some(p)) = (&mut self.guards[guard].breaker, permit) {
            b.record(p, now, took, failed);
            self.drain_transitions(guard, sched);
        }
    }

    /// Gives a permit back to the guard's breaker without an outcome.
    pub fn release(&mut self, guard: GuardId, permit: Option<Permit>) {
        if let (Some(b), Some(p)) = (&mut self.guards[guard].breaker, permit) {
            b.release(p);
        }
    }

    /// `n` armed breaker timers were dropped unfired (held back by a hang when the process
    /// crashed).
    pub fn forget_timers(&mut self, n: usize) {
        self.timers_armed -= n;
    }

    /// Logs the breaker's state changes, and after any arms its next timed transition.
    fn drain_transitions(&mut self, guard: GuardId, sched: &mut Scheduler<Event>) {
        if self.log_transitions(guard)
            && let Some(b) = &self.guards[guard].breaker
            && let Some((at, epoch)) = b.due()
        {
            self.timers_armed += 1;
            sched.at(at.max(sched.now()), Event::BreakerDue { guard, epoch });
        }
    }

    /// Logs the breaker's state changes; true if there were any.
    fn log_transitions(&mut self, guard: GuardId) -> bool {
        let Some(b) = &mut self.guards[guard].breaker else {
            return false;
        };
        let before = self.log.events.len();
        for (time, _, to) in b.take_transitions() {
            self.log.events.push(PolicyEvent {
                time,
                site: guard.number(),
                policy: "circuit_breaker",
                event: to.name(),
                value: None,
            });
        }
        self.log.events.len() > before
    }

    /// The guard's own random stream (retry jitter).
    pub fn rng(&mut self, guard: GuardId) -> &mut SimRng {
        &mut self.guards[guard].rng
    }

    /// The guard's current hedge delay, if it hedges and the delay is known.
    pub fn hedge_delay(&self, guard: GuardId) -> Option<SimDuration> {
        self.guards[guard]
            .hedge
            .as_ref()
            .and_then(HedgeDelay::delay)
    }

    /// Notes a successful attempt's latency, for percentile-based hedging.
    pub fn note_latency(&mut self, guard: GuardId, took: SimDuration) {
        if let Some(h) = &mut self.guards[guard].hedge {
            h.note(took);
        }
    }

    /// The guard's budget, if it has one.
    pub fn budget(&mut self, guard: GuardId) -> Option<&mut Budget> {
        self.guards[guard].budget.as_mut()
    }

    /// The guard's rate limiter or throttle, if any, with the guard's random stream.
    pub fn limit(&mut self, guard: GuardId) -> (Option<&mut ClientLimiter>, &mut SimRng) {
        let g = &mut self.guards[guard];
        (g.limit.as_mut(), &mut g.rng)
    }

    /// The guard's bulkhead, if any.
    pub fn bulkhead(&mut self, guard: GuardId) -> Option<&mut Bulkhead<(Caller, Key)>> {
        self.guards[guard].bulkhead.as_mut()
    }

    /// Notes the budget's level after a decision at `now`; one level per bucket is logged.
    pub fn note_level(&mut self, guard: GuardId, now: SimTime) {
        let bucket_ns = self.bucket_ns;
        let g = &mut self.guards[guard];
        let Some(budget) = &mut g.budget else { return };
        let level = budget.level(now);
        let bucket = now.as_nanos() / bucket_ns;
        if let Some((b, t, v)) = g.pending_level
            && b != bucket
        {
            self.log.events.push(level_event(guard, t, v));
        }
        g.pending_level = Some((bucket, now, level));
    }

    /// The log, with every pending budget level written out, in time order.
    pub fn finish(mut self) -> PolicyLog {
        for (i, g) in self.guards.iter_mut().enumerate() {
            if let Some((_, t, v)) = g.pending_level.take() {
                self.log
                    .events
                    .push(level_event(GuardId::from_index(i), t, v));
            }
        }
        self.log.events.sort_by_key(|e| (e.time, e.site));
        self.log
    }
}

/// The log line of a budget's level `value` at `time`, for guard `site`.
fn level_event(site: GuardId, time: SimTime, value: f64) -> PolicyEvent {
    PolicyEvent {
        time,
        site: site.number(),
        policy: "retry_budget",
        event: "level",
        value: Some(value),
    }
}

#[cfg(test)]
#[path = "guards_tests.rs"]
mod tests;
