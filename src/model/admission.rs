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
        sched: &mut Scheduler<Event>,
    ) -> Result<Grant, Refusal> {
        let now = sched.now();
        let mut grant = Grant::default();
        let policy = self.site_policy(site);
        for gate in policy.gates_of(layer) {
            match gate {
                Gate::CircuitBreaker => match self.guards.acquire(guard, now, sched) {
                    Ok(permit) => grant.breaker = permit,
                    Err(()) => {
                        self.give_back(guard, grant, sched);
                        return Err(Refusal::Fail(Outcome::ShortCircuited));
                    }
                },
                Gate::RateLimit => {
                    let cs = self.policy_calls.live_mut(call);
                    if cs.limit_reserved {
                        // The permit reserved before the call waited for it.
                        cs.limit_reserved = false;
                        continue;
                    }
                    let refused = match self.guards.limit(guard) {
                        (Some(ClientLimiter::Limiter(l, max_wait)), _) => {
                            match l.reserve(now, *max_wait) {
                                None => Some(Refusal::Fail(Outcome::RateLimited)),
                                Some(SimDuration::ZERO) => None,
                                Some(wait) => Some(Refusal::Delay(wait)),
                            }
                        }
                        (Some(ClientLimiter::Throttle(t)), rng) => {
                            let p = t.reject_probability(now);
                            t.on_request(now);
                            if p > 0.0 && rng.chance(p) {
                                Some(Refusal::Fail(Outcome::RateLimited))
                            } else {
                                grant.throttled = true;
                                None
                            }
                        }
                        (None, _) => unreachable!("a rate limit gate has a limiter"),
                    };
                    if let Some(refusal) = refused {
                        self.give_back(guard, grant, sched);
                        return Err(refusal);
                    }
                }
                Gate::Bulkhead => {
                    let cs = self.policy_calls.live_mut(call);
                    if cs.gate_handed {
                        // The slot a holder handed over while this call waited.
                        cs.gate_handed = false;
                        grant.bulkhead = true;
                    } else if self
                        .guards
                        .bulkhead(guard)
                        .expect("a bulkhead")
                        .try_acquire()
                    {
                        grant.bulkhead = true;
                    } else {
                        self.give_back(guard, grant, sched);
                        let spec = policy.bulkhead.expect("a bulkhead");
                        return Err(if spec.max_wait == SimDuration::ZERO {
                            Refusal::Fail(Outcome::BulkheadFull)
                        } else {
                            Refusal::Wait
                        });
                    }
                }
            }
        }
        Ok(grant)
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
        self.guards.breaker_due(guard, epoch, sched);
    }
}
