//! Retries of a logical call with policies: after a failed attempt, whether to retry
//! (attempts left, a retryable reason, room before the deadline, the retry budget), how long
//! to wait (backoff with jitter, or the callee's pushback), and the retry when its wait ends.

use super::call_state::{CallState, Site, reason};
use super::event::{Caller, Event};
use super::ids::GuardId;
use super::slab::Key;
use super::{JobState, Model};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::outcome::Outcome;
use crate::policy::backoff;
use crate::scenario::policy::{Pushback, RetryPolicy};
use crate::trace::StepKind;

impl Model<'_> {
    /// The last attempt failed with `outcome`: retry after a wait, or end the call.
    #[inline(never)]
    pub(super) fn attempt_failed(
        &mut self,
        owner: Caller,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        // The retry will use the caller's next attempt number.
        let next_attempt = self.waiting_mut(owner).attempt;
        let key = self.policy_key(owner).expect("a call with policies");
        self.release_retry(key);
        let site = self.site_of(owner);
        let Some(retry) = &self.site_policy(site).retry else {
            self.trace_step(now, owner, StepKind::GaveUp("no retry policy"));
            self.finish_policy_call(owner, outcome, sched);
            return;
        };
        let cs = *self.policy_calls.live(key);
        let tries = cs.attempts - u32::from(cs.hedged);
        if tries >= retry.max_attempts || !retry.retry_on.contains(reason(outcome)) {
            let why = if tries >= retry.max_attempts {
                "max_attempts reached"
            } else {
                "this outcome is not in retry_on"
            };
            self.trace_step(now, owner, StepKind::GaveUp(why));
            self.finish_policy_call(owner, outcome, sched);
            return;
        }
        let (wait, previous, backoff_from) = self.retry_wait(site, retry, &cs, tries, outcome);
        if now + wait >= cs.deadline {
            self.trace_step(
                now,
                owner,
                StepKind::GaveUp("no retry fits before the deadline"),
            );
            self.no_retry_fits(owner, key, site, &cs, outcome, sched);
            return;
        }
        let Some((cost, holds)) = self.pay_for_retry(cs.guard, now, outcome) else {
            self.trace_step(now, owner, StepKind::GaveUp("the retry budget refused"));
            self.finish_policy_call(owner, outcome, sched);
            return;
        };
        self.trace_step(now, owner, StepKind::Retry(next_attempt, wait));
        let cs = self.policy_calls.live_mut(key);
        cs.previous_wait = previous;
        cs.budget_cost = cost;
        cs.waiting_retry = true;
        cs.holds_retry = holds;
        cs.backoff_from = backoff_from;
        let event = match owner {
            Caller::Request(request) => Event::RetryRequest {
                request,
                attempt: next_attempt,
            },
            Caller::Job(job) => Event::RetryJob {
                job,
                attempt: next_attempt,
            },
        };
        sched.after(wait, event);
    }

    /// No retry fits before the deadline. As in gRPC, where the deadline covers the whole
    /// chain of attempts, the call then fails at its deadline, as a timeout (deadline
    /// exceeded): its own deadline timer ends it. A limit inherited by deadline propagation
    /// has no timer here: the call ends at once, with the last attempt's `outcome`.
    fn no_retry_fits(
        &mut self,
        owner: Caller,
        key: Key,
        site: Site,
        cs: &CallState,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let own = self
            .site_policy(site)
            .deadline
            .is_some_and(|d| cs.started + d == cs.deadline);
        if own {
            self.policy_calls.live_mut(key).waiting_retry = true;
        } else {
            self.finish_policy_call(owner, outcome, sched);
        }
    }

    /// Asks `guard`'s retry budget for a retry after `outcome` at `now`, and counts the
    /// answer: `None` when refused, else what the retry withdrew (quota budgets) and
    /// whether it holds a place until its outcome (concurrency budgets).
    fn pay_for_retry(
        &mut self,
        guard: GuardId,
        now: SimTime,
        outcome: Outcome,
    ) -> Option<(f64, bool)> {
        let mut cost = 0.0;
        let (allowed, holds) = match self.guards.budget(guard) {
            Some(b) => (b.try_retry(now, outcome, &mut cost), b.holds_retries()),
            None => (true, false),
        };
        self.guards.note_level(guard, now);
        let counted = self.counted(now);
        if !allowed {
            if counted {
                self.policy_counts.budget_refused += 1;
            }
            return None;
        }
        if counted {
            self.policy_counts.retries += 1;
        }
        Some((cost, holds))
    }

    /// The wait before retry number `tries` of call `cs` after `outcome`, with the new
    /// jitter state and the retry count its backoff counts from: the backoff, or the
    /// callee's pushback on a refusal, as the retry's `pushback` says.
    fn retry_wait(
        &mut self,
        site: Site,
        retry: &RetryPolicy,
        cs: &CallState,
        tries: u32,
        outcome: Outcome,
    ) -> (SimDuration, f64, u32) {
        let (mut previous, mut backoff_from) = (cs.previous_wait, cs.backoff_from);
        let pushback = match (outcome, retry.pushback) {
            (_, Pushback::Ignore) => None,
            // A refusal by the caller's own gates was never sent: no callee asked for a wait.
            _ if cs.refused_locally => None,
            (Outcome::Rejected | Outcome::RateLimited, mode) => {
                self.target_retry_after(site).map(|d| (d, mode))
            }
            _ => None,
        };
        let rng = self.guards.rng(cs.guard);
        let mut computed = |previous: &mut f64, from: u32| {
            backoff::wait(&retry.backoff, retry.jitter, tries - from, previous, rng)
        };
        let wait = match pushback {
            None => computed(&mut previous, backoff_from),
            // gRPC: exactly the pushback; later backoff restarts from its first wait.
            Some((d, Pushback::Exact)) => {
                backoff_from = tries;
                previous = 0.0;
                d
            }
            Some((d, Pushback::AtLeast)) => computed(&mut previous, backoff_from).max(d),
            // Envoy's rate-limited back-off: U(d, 1.5 d).
            Some((d, _)) => {
                let u = self.guards.rng(cs.guard).unit();
                SimDuration(d.as_nanos() + (d.as_nanos() as f64 * 0.5 * u) as u64)
            }
        };
        (wait, previous, backoff_from)
    }

    /// A retry's wait is over: the retry goes out, unless the call moved on meanwhile.
    #[inline(never)]
    pub(super) fn retry_due(&mut self, owner: Caller, attempt: u32, sched: &mut Scheduler<Event>) {
        let calling = match owner {
            Caller::Request(_) => true,
            Caller::Job(k) => self
                .jobs
                .get(k)
                .is_some_and(|j| j.state == JobState::Calling),
        };
        let current = self.waiting(owner).filter(|_| calling).map(|w| w.attempt);
        if current != Some(attempt) {
            return;
        }
        let Some(key) = self.policy_key(owner) else {
            return;
        };
        if !self.policy_calls.live(key).waiting_retry {
            return;
        }
        if let Caller::Job(job) = owner
            && self.park_if_hung(job, Event::RetryJob { job, attempt })
        {
            return;
        }
        self.attempt(owner, false, sched);
    }

    /// Gives back the place call state `key`'s retry holds in a concurrency budget, if any.
    pub(super) fn release_retry(&mut self, key: Key) {
        if let Some(cs) = self.policy_calls.get_mut(key)
            && cs.holds_retry
        {
            cs.holds_retry = false;
            let guard = cs.guard;
            if let Some(b) = self.guards.budget(guard) {
                b.release_retry();
            }
        }
    }
}
