//! Call-path policies at run time: the life of one logical call with a deadline, retries,
//! a retry budget, admission gates (a circuit breaker), hedges or a fallback, in the order
//! the call site gives (canonically fallback, retry, circuit breaker, timeout per attempt;
//! deadline over everything), and its end.
//!
//! A call site without any of these keeps the plain path of `calls.rs`: one attempt, its
//! timeout, its answer. A site with policies gives its caller (a client's request, or a job
//! making a call) a [`CallState`] (`call_state.rs`) for the call's duration. The call's
//! attempts and hedges are in `attempts.rs`, its gates in `admission.rs`, its retries in
//! `retries.rs`; this file ends calls: with an outcome (through the fallback), at the
//! deadline, or abandoned by a crash. Attempts are numbered by the caller's attempt
//! counter; an answer or timeout counts only while its attempt is outstanding, and the
//! deadline's timer entry names the logical call instead.

use super::Model;
use super::call_state::reason;
use super::event::{Caller, Event};
use super::slab::Key;
use crate::engine::Scheduler;
use crate::outcome::Outcome;

pub use super::call_state::CallState;

impl Model<'_> {
    /// A crash killed the job that owned call state `key`: the call ends without outcomes,
    /// and its attempts give back what the gates granted them, as does the call itself for
    /// gates outside the retry (during a retry wait no attempt holds anything).
    pub(super) fn abandon_policy_call(&mut self, key: Key, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        self.release_retry(key);
        if let Some(cs) = self.policy_calls.remove(key) {
            for slot in cs.live_slots() {
                self.give_back(cs.guard, slot.grant, sched);
                self.cut_attempt(cs.guard);
                self.settle_route(slot.sent_to, None, now);
            }
            self.give_back(cs.guard, cs.call_grant, sched);
            self.pass_on_handed_slot(cs.gate_handed, cs.guard, sched);
        }
    }

    /// The logical call's deadline passed: it ends as a timeout, whatever is outstanding.
    #[inline(never)]
    pub(super) fn deadline_passed(&mut self, owner: Caller, sched: &mut Scheduler<Event>) {
        self.finish_policy_call(owner, Outcome::Timeout, sched);
    }

    /// Ends `owner`'s logical call with `outcome`, through the fallback if it applies.
    #[inline(never)]
    pub(super) fn finish_policy_call(
        &mut self,
        owner: Caller,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let site = self.site_of(owner);
        let fallback = self.site_policy(site).fallback;
        let key = self
            .waiting_mut(owner)
            .policy
            .take()
            .expect("a call with policies");
        self.release_retry(key);
        // What the rest needs of the call state, which goes now: its attempt slots only
        // when some are still out (a copy of the whole record costs more than the rest).
        let cs = self.policy_calls.live(key);
        let (guard, call_grant, started, gate_handed) =
            (cs.guard, cs.call_grant, cs.started, cs.gate_handed);
        let slots = (cs.outstanding > 0).then_some(cs.slots);
        self.policy_calls.remove(key);
        // Attempts still out: losers of a won race give their grants back; attempts cut
        // off by the deadline count as failures, so the gates see them.
        for slot in slots.iter().flatten().filter(|s| s.live) {
            self.cut_attempt(guard);
            self.settle_route(slot.sent_to, None, now);
            if outcome.is_success() {
                self.give_back(guard, slot.grant, sched);
            } else {
                self.settle(site, guard, slot.grant, now - slot.sent, outcome, sched);
            }
        }
        // The gates outside the retry see the call's outcome, unless one of them refused it.
        if outcome == Outcome::ShortCircuited {
            self.give_back(guard, call_grant, sched);
        } else {
            self.settle(site, guard, call_grant, now - started, outcome, sched);
        }
        self.pass_on_handed_slot(gate_handed, guard, sched);
        let outcome = match fallback {
            Some(on) if !outcome.is_success() && on.contains(reason(outcome)) => {
                self.trace_step(now, owner, crate::trace::StepKind::Fallback(outcome));
                Outcome::Degraded
            }
            _ => outcome,
        };
        match owner {
            Caller::Request(k) => self.end_request(k, outcome, sched),
            Caller::Job(k) => {
                if outcome.is_success() {
                    if outcome == Outcome::Degraded {
                        self.jobs.live_mut(k).degraded = true;
                    }
                    self.next_call(k, sched);
                } else {
                    self.complete(k, Outcome::Error, sched);
                }
            }
        }
    }
}
