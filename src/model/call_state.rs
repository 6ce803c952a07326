//! The state of one logical call with policies (its attempts outstanding, what its gates
//! granted, its retry bookkeeping), and where a call's policies come from (its site).

use super::Model;
use super::admission::Grant;
use super::balancer::SentTo;
use super::event::Caller;
use super::ids::{ClientId, EntryId, GuardId, ServiceId};
use crate::engine::{SimDuration, SimTime};
use crate::outcome::Outcome;
use crate::scenario::policy::{CallPolicy, Reason};

/// The policy state of one logical call.
#[derive(Clone, Copy)]
pub struct CallState {
    /// The guard (breaker and budget) of this caller and target.
    pub(super) guard: GuardId,
    /// When the logical call began.
    pub(super) started: SimTime,
    /// When it gives up, all attempts included (`SimTime::MAX` without a deadline).
    pub(super) deadline: SimTime,
    /// Attempts made so far (sent or refused by a gate).
    pub(super) attempts: u32,
    /// The attempts outstanding (one, or more when hedging).
    pub(super) slots: [Slot; MAX_OUTSTANDING],
    /// Number of live slots.
    pub(super) outstanding: u8,
    /// Hedged attempts sent so far.
    pub(super) hedged: u8,
    /// What the gates outside the retry granted the whole call.
    pub(super) call_grant: Grant,
    /// The previous retry wait, for decorrelated jitter.
    pub(super) previous_wait: f64,
    /// What the last retry withdrew from a quota budget.
    pub(super) budget_cost: f64,
    /// A retry is scheduled and no attempt is outstanding.
    pub(super) waiting_retry: bool,
    /// The caller's number of the call's first attempt.
    pub(super) first_attempt: u32,
    /// The call's retry holds a place in a concurrency budget.
    pub(super) holds_retry: bool,
    /// The callee's replicas its attempts went to (bit `i % 64` for replica `i`), when
    /// retries avoid them.
    pub(super) tried: u64,
    /// The retry count the backoff counts from: after a pushback (gRPC), backoff restarts.
    pub(super) backoff_from: u32,
    /// Its next attempt waits for a bulkhead slot.
    pub(super) gate_wait: bool,
    /// A bulkhead slot has been handed to its waiting attempt, which has yet to take it.
    pub(super) gate_handed: bool,
    /// Counts its waits (for a bulkhead slot or a rate limiter's permit), so that a wait's
    /// timer does not act on a later one.
    pub(super) gate_epoch: u32,
    /// Its next attempt holds a rate limiter's permit, reserved before it waited.
    pub(super) limit_reserved: bool,
    /// The gates outside the retry have admitted it (their grant is `call_grant`).
    pub(super) call_admitted: bool,
    /// Its last attempt was refused by one of its own gates, unsent: a callee's
    /// retry-after does not apply to it.
    pub(super) refused_locally: bool,
}

/// Most attempts outstanding at once: the first and up to four hedges.
pub(super) const MAX_OUTSTANDING: usize = 5;

/// One outstanding attempt.
#[derive(Clone, Copy, Default)]
pub(super) struct Slot {
    pub(super) live: bool,
    /// The caller's number of this attempt.
    pub(super) attempt: u32,
    pub(super) sent: SimTime,
    /// What the gates inside the retry granted this attempt.
    pub(super) grant: Grant,
    /// Where it went, when its balancer tracks attempts.
    pub(super) sent_to: Option<SentTo>,
}

impl CallState {
    /// A call with policies beginning at `started` through `guard`, giving up at
    /// `deadline`, before its first attempt.
    pub(super) fn new(guard: GuardId, started: SimTime, deadline: SimTime) -> Self {
        CallState {
            guard,
            started,
            deadline,
            attempts: 0,
            slots: [Slot::default(); MAX_OUTSTANDING],
            outstanding: 0,
            hedged: 0,
            call_grant: Grant::default(),
            previous_wait: 0.0,
            budget_cost: 0.0,
            waiting_retry: false,
            first_attempt: 0,
            holds_retry: false,
            tried: 0,
            backoff_from: 0,
            gate_wait: false,
            gate_handed: false,
            gate_epoch: 0,
            limit_reserved: false,
            call_admitted: false,
            refused_locally: false,
        }
    }

    /// Makes this record, left in a free slot by an earlier call, the state of a new call:
    /// the same as [`CallState::new`], except that the attempt slots are only marked free
    /// (a slot's other fields are written when it is taken, and read only while it is
    /// live). Built in place, so the compiler writes the fields rather than copying a whole
    /// record in (measured: 8.8% on W2 with the other changes of that commit).
    #[inline(always)]
    pub(super) fn restart(&mut self, guard: GuardId, started: SimTime, deadline: SimTime) {
        let slots = self.slots;
        *self = CallState {
            slots,
            ..CallState::new(guard, started, deadline)
        };
        for s in &mut self.slots {
            s.live = false;
        }
    }

    /// True when attempt number `attempt` is outstanding.
    pub fn is_outstanding(&self, attempt: u32) -> bool {
        self.slots.iter().any(|s| s.live && s.attempt == attempt)
    }

    /// The attempts still outstanding.
    pub(super) fn live_slots(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.live)
    }
}

/// Whose policies: a client's, or a service's call entry.
#[derive(Clone, Copy)]
pub enum Site {
    /// A client.
    Client(ClientId),
    /// A service's call entry.
    Call(ServiceId, EntryId),
}

/// The failure reason of `o`, as policies name it.
pub(super) fn reason(o: Outcome) -> Reason {
    match o {
        Outcome::Timeout => Reason::Timeout,
        Outcome::Rejected => Reason::Rejected,
        Outcome::ShortCircuited => Reason::ShortCircuited,
        Outcome::RateLimited => Reason::RateLimited,
        Outcome::BulkheadFull => Reason::BulkheadFull,
        Outcome::Shed => Reason::Shed,
        _ => Reason::Error,
    }
}

impl<'s> Model<'s> {
    /// The policies of `site`.
    pub(super) fn site_policy(&self, site: Site) -> &'s CallPolicy {
        let scenario: &'s crate::scenario::Scenario = self.scenario;
        match site {
            Site::Client(c) => &scenario.clients[c.index()].policy,
            Site::Call(s, k) => &scenario.services[s.index()].calls[k.index()].policy,
        }
    }

    /// The site of the call live `owner` is making.
    pub(super) fn site_of(&self, owner: Caller) -> Site {
        match owner {
            Caller::Request(k) => Site::Client(self.requests.live(k).client),
            Caller::Job(k) => {
                let j = self.jobs.live(k);
                Site::Call(self.replicas[j.replica].service, j.entry())
            }
        }
    }

    /// The retry-after delay the callee of `site` puts on its refusals, if any.
    pub(super) fn target_retry_after(&self, site: Site) -> Option<SimDuration> {
        let s = self.scenario;
        let target = match site {
            Site::Client(c) => s.clients[c.index()].target,
            Site::Call(svc, k) => s.services[svc.index()].calls[k.index()].to,
        };
        s.services[target.service()?].retry_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::Id;

    /// A restarted record is a new call's state: every field as `new` makes it, and no
    /// attempt slot live (a slot's other fields are stale until it is taken).
    #[test]
    fn a_restarted_call_state_is_a_new_one() {
        let guard = GuardId::from_index(3);
        let mut cs = CallState::new(GuardId::from_index(1), SimTime(5), SimTime(9));
        cs.attempts = 4;
        cs.outstanding = 2;
        cs.tried = 7;
        cs.gate_handed = true;
        cs.previous_wait = 1.5;
        cs.slots[1].live = true;
        cs.slots[1].attempt = 8;
        cs.slots[4].live = true;
        cs.restart(guard, SimTime(20), SimTime(30));
        let fresh = CallState::new(guard, SimTime(20), SimTime(30));
        assert!(cs.live_slots().next().is_none());
        assert!(!cs.is_outstanding(8));
        let scalars = |c: &CallState| {
            (
                (
                    c.guard,
                    c.started,
                    c.deadline,
                    c.attempts,
                    c.outstanding,
                    c.hedged,
                ),
                (
                    c.previous_wait,
                    c.budget_cost,
                    c.waiting_retry,
                    c.first_attempt,
                ),
                (
                    c.holds_retry,
                    c.tried,
                    c.backoff_from,
                    c.gate_wait,
                    c.gate_handed,
                ),
                (
                    c.gate_epoch,
                    c.limit_reserved,
                    c.call_admitted,
                    c.refused_locally,
                ),
            )
        };
        assert_eq!(
            format!("{:?}", scalars(&cs)),
            format!("{:?}", scalars(&fresh))
        );
        assert_eq!(
            format!("{:?}", cs.call_grant),
            format!("{:?}", fresh.call_grant)
        );
    }
}
