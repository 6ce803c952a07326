//! Admission gates at run time: the policies that decide whether a call (outside the
//! retry) or each attempt (inside it) may be sent, passed outermost first: the circuit
//! breaker and the bulkhead (whose waits are in `bulkheads.rs`). A new gate is a [`Gate`]
//! variant plus its arm in [`Model::admit`], [`Model::settle`] and [`Model::give_back`].

use super::Model;
use super::call_state::{Site, reason};
use super::event::Event;
use super::guards::ClientLimiter;
use super::ids::GuardId;
use super::slab::Key;
use crate::engine::{Scheduler, SimDuration};
use crate::outcome::Outcome;
use crate::policy::breaker::Permit;
use crate::scenario::policy::{Gate, Layer};

/// What the gates of one layer granted a call or an attempt: settled with its outcome, or
/// given back, when it ends.
#[derive(Clone, Copy, Debug, Default)]
pub struct Grant {
    /// The breaker's permit.
    breaker: Option<Permit>,
    /// A bulkhead slot.
    bulkhead: bool,
    /// Counted as a request by the adaptive throttle, which learns whether it is accepted.
    throttled: bool,
    /// The rate limit gate let it pass (a permit, or the throttle's draw).
    limited: bool,
}

/// Why the gates did not admit a call or an attempt now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Refused: the call or attempt ends with this outcome.
    Fail(Outcome),
    /// The bulkhead is full and the caller may wait for a slot.
    Wait,
    /// A rate limiter's permit is reserved for the caller, this much later.
    Delay(SimDuration),
}

impl Model<'_> {
    /// Passes the gates of `layer` of `site`, outermost first. A refusal gives back what
    /// the gates before it granted, and says how the refused call or attempt ends.
    pub(super) fn admit(
        &mut self,
        site: Site,
        guard: GuardId,
        layer: Layer,
        call: Key,
        hedge: bool,
        sched: &mut Scheduler<Event>,
    ) -> Result<Grant, Refusal> {
        let now = sched.now();
        let mut grant = Grant::default();
        let policy = self.site_policy(site);
        for gate in policy.gates_of(layer) {
            let refusal = match gate {
                Gate::CircuitBreaker => match self.guards.acquire(guard, now, sched) {
                    Ok(permit) => {
                        grant.breaker = permit;
                        None
                    }
                    Err(()) => Some(Refusal::Fail(Outcome::ShortCircuited)),
                },
                Gate::RateLimit => self.pass_rate_limit(guard, call, hedge, &mut grant, now),
                Gate::Bulkhead => {
                    let cs = self.policy_calls.live_mut(call);
                    if cs.gate_handed {
                        // The slot a holder handed over while this call waited.
                        cs.gate_handed = false;
                        grant.bulkhead = true;
                        None
                    } else if self
                        .guards
                        .bulkhead(guard)
                        .expect("a bulkhead")
                        .try_acquire()
                    {
                        grant.bulkhead = true;
                        None
                    } else {
                        let spec = policy.bulkhead.expect("a bulkhead");
                        Some(if spec.max_wait == SimDuration::ZERO || hedge {
                            Refusal::Fail(Outcome::BulkheadFull)
                        } else {
                            Refusal::Wait
                        })
                    }
                }
            };
            let Some(refusal) = refusal else {
                continue;
            };
            match refusal {
                // The gates already passed see the refusal as the outcome, as a breaker
                // around a bulkhead records its BulkheadFullException (Resilience4j); a
                // refused hedge is simply not sent.
                Refusal::Fail(outcome) if !hedge => {
                    self.settle(site, guard, grant, SimDuration::ZERO, outcome, sched);
                }
                Refusal::Fail(_) => self.give_back(guard, grant, sched),
                // The call waits and passes the gates again: a permit the limiter already
                // gave is kept for then.
                Refusal::Wait | Refusal::Delay(_) => {
                    if grant.limited {
                        self.policy_calls.live_mut(call).limit_reserved = true;
                        grant.limited = false;
                        grant.throttled = false;
                    }
                    self.give_back(guard, grant, sched);
                }
            }
            return Err(refusal);
        }
        Ok(grant)
    }

    /// The rate limit gate of `guard` for call `call`: a permit reserved before a wait, a
    /// limiter's permit now (a later one means waiting for it; a hedge never waits), or the
    /// adaptive throttle's draw. `None` when it passes.
    fn pass_rate_limit(
        &mut self,
        guard: GuardId,
        call: Key,
        hedge: bool,
        grant: &mut Grant,
        now: crate::engine::SimTime,
    ) -> Option<Refusal> {
        let cs = self.policy_calls.live_mut(call);
        let reserved = std::mem::take(&mut cs.limit_reserved);
        let (limit, rng) = self.guards.limit(guard);
        let limit = limit.expect("a rate limit gate has a limiter");
        if reserved {
            grant.limited = true;
            grant.throttled = matches!(limit, ClientLimiter::Throttle(_));
            return None;
        }
        match limit {
            ClientLimiter::Limiter(l, max_wait) => {
                let max_wait = if hedge { SimDuration::ZERO } else { *max_wait };
                match l.reserve(now, max_wait) {
                    None => Some(Refusal::Fail(Outcome::RateLimited)),
                    Some(SimDuration::ZERO) => {
                        grant.limited = true;
                        None
                    }
                    Some(wait) => Some(Refusal::Delay(wait)),
                }
            }
            ClientLimiter::Throttle(t) => {
                let p = t.reject_probability(now);
                t.on_request(now);
                if p > 0.0 && rng.chance(p) {
                    Some(Refusal::Fail(Outcome::RateLimited))
                } else {
                    grant.limited = true;
                    grant.throttled = true;
                    None
                }
            }
        }
    }

    /// A call or attempt that `grant` admitted ended with `outcome` after `took`: each
    /// gate learns it. The breaker records a success, or a failure whose reason the site's
    /// `record_on` lists; any other failure it ignores and takes its permit back, as
    /// Resilience4j does for an ignored exception.
    pub(super) fn settle(
        &mut self,
        site: Site,
        guard: GuardId,
        grant: Grant,
        took: SimDuration,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let success = outcome.is_success();
        let recorded = success
            || self
                .site_policy(site)
                .breaker_record_on
                .contains(reason(outcome));
        if recorded {
            let now = sched.now();
            self.guards
                .record(guard, grant.breaker, now, took, !success, sched);
        } else {
            self.guards.release(guard, grant.breaker);
        }
        if grant.bulkhead {
            self.release_bulkhead(guard, sched);
        }
        // The backend accepted it if it answered, even with an error; a refusal (a full
        // queue, a 429, shedding) or no answer in time is no acceptance.
        if grant.throttled
            && matches!(outcome, Outcome::Ok | Outcome::Degraded | Outcome::Error)
            && let (Some(ClientLimiter::Throttle(t)), _) = self.guards.limit(guard)
        {
            t.on_accept(sched.now());
        }
    }

    /// A call or attempt that `grant` admitted ended without an outcome to learn from (a
    /// hedge that lost the race, work killed by a crash): the gates take their grants back.
    pub(super) fn give_back(&mut self, guard: GuardId, grant: Grant, sched: &mut Scheduler<Event>) {
        self.guards.release(guard, grant.breaker);
        if grant.bulkhead {
            self.release_bulkhead(guard, sched);
        }
    }

    /// A breaker timer of `guard` fires; a frozen (hung) process's breaker waits for the
    /// hang to end, as its scheduler thread would.
    pub(super) fn breaker_due(&mut self, guard: GuardId, epoch: u32, sched: &mut Scheduler<Event>) {
        if let Some(r) = self.guards.replica_of(guard) {
            let replica = &mut self.replicas[r];
            if replica.is_hung() {
                replica
                    .parked
                    .push((SimDuration::ZERO, Event::BreakerDue { guard, epoch }));
                return;
            }
        }
        // Stored messages may stay for good (a dead-letter queue without a consumer): only
        // live work can still consult a breaker.
        let over = sched.now() >= self.end
            && self.requests.is_empty()
            && self.jobs.is_empty()
            && self.policy_calls.is_empty();
        self.guards.breaker_due(guard, epoch, over, sched);
    }
}
