//! Call-path policies at run time: the life of one logical call with a deadline, retries,
//! a retry budget, a circuit breaker or a fallback, in the canonical order (fallback, retry,
//! circuit breaker, timeout per attempt; deadline over everything).
//!
//! A call site without any of these keeps the plain path of `calls.rs`: one attempt, its
//! timeout, its answer. A site with policies gives its caller (a client's request, or a job
//! making a call) a [`CallState`] for the call's duration. Attempts are numbered by the
//! caller's call counter; an answer or timeout counts only while its attempt is outstanding,
//! and the deadline's timer entry names the logical call instead.
//!
//! Hedging follows gRPC's `hedgingPolicy` and "The Tail at Scale": an extra attempt after a
//! delay if the previous one has not answered, first success wins, failures wait for the
//! others (gRPC's non-fatal codes). It differs from gRPC in that hedges are not throttled by
//! retry budgets, and a percentile delay is estimated from the attempts that answered first.

use super::event::{Caller, Event};
use super::ids::{ClientId, EntryId, GuardId, Id, ServiceId};
use super::slab::Key;
use super::waiter::TimerTag;
use super::{JobState, Model};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::outcome::Outcome;
use crate::policy::backoff;
use crate::policy::breaker::Permit;
use crate::scenario::policy::{CallPolicy, Pushback, Reason};

/// The policy state of one logical call.
#[derive(Clone, Copy)]
pub struct CallState {
    /// The guard (breaker and budget) of this caller and target.
    guard: GuardId,
    /// When the logical call began.
    started: SimTime,
    /// When it gives up, all attempts included (`SimTime::MAX` without a deadline).
    deadline: SimTime,
    /// Attempts made so far (sent or short-circuited).
    attempts: u32,
    /// The attempts outstanding (one, or more when hedging).
    slots: [Slot; MAX_OUTSTANDING],
    /// Number of live slots.
    outstanding: u8,
    /// Hedged attempts sent so far.
    hedged: u8,
    /// The breaker permit of the whole call, when the breaker is outside the retry.
    call_permit: Option<Permit>,
    /// The previous retry wait, for decorrelated jitter.
    previous_wait: f64,
    /// What the last retry withdrew from a quota budget.
    budget_cost: f64,
    /// A retry is scheduled and no attempt is outstanding.
    waiting_retry: bool,
    /// The caller's number of the call's first attempt.
    first_call: u32,
    /// The call's retry holds a place in a concurrency budget.
    holds_retry: bool,
    /// The callee's replicas its attempts went to (bit `i % 64` for replica `i`), when
    /// retries avoid them.
    tried: u64,
    /// The retry count the backoff counts from: after a pushback (gRPC), backoff restarts.
    backoff_from: u32,
}

/// Most attempts outstanding at once: the first and up to four hedges.
const MAX_OUTSTANDING: usize = 5;

/// One outstanding attempt.
#[derive(Clone, Copy, Default)]
struct Slot {
    live: bool,
    call: u32,
    sent: SimTime,
    permit: Option<Permit>,
}

impl CallState {
    /// True when attempt number `call` is outstanding.
    pub fn is_outstanding(&self, call: u32) -> bool {
        self.slots.iter().any(|s| s.live && s.call == call)
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

fn reason(o: Outcome) -> Reason {
    match o {
        Outcome::Timeout => Reason::Timeout,
        Outcome::Rejected => Reason::Rejected,
        Outcome::ShortCircuited => Reason::ShortCircuited,
        _ => Reason::Error,
    }
}

impl<'s> Model<'s> {
    fn site_policy(&self, site: Site) -> &'s CallPolicy {
        let scenario: &'s crate::scenario::Scenario = self.scenario;
        match site {
            Site::Client(c) => &scenario.clients[c.index()].policy,
            Site::Call(s, k) => &scenario.services[s.index()].calls[k.index()].policy,
        }
    }

    fn site_of(&self, owner: Caller) -> Site {
        match owner {
            Caller::Request(k) => Site::Client(self.requests.live(k).client),
            Caller::Job(k) => {
                let j = self.jobs.live(k);
                Site::Call(self.replicas[j.replica].service, j.entry())
            }
        }
    }

    /// Begins a logical call with policies for `owner` (whose call counter is set for the
    /// first attempt), limited by `inherited` (a propagated deadline), and makes its first
    /// attempt.
    #[inline(never)]
    pub(super) fn begin_policy_call(
        &mut self,
        owner: Caller,
        guard: GuardId,
        inherited: SimTime,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let site = self.site_of(owner);
        let policy = self.site_policy(site);
        let deadline = policy
            .deadline
            .map_or(SimTime::MAX, |d| now + d)
            .min(inherited);
        let state = self.policy_calls.insert(CallState {
            guard,
            started: now,
            deadline,
            attempts: 0,
            slots: [Slot::default(); MAX_OUTSTANDING],
            outstanding: 0,
            hedged: 0,
            call_permit: None,
            previous_wait: 0.0,
            budget_cost: 0.0,
            waiting_retry: false,
            first_call: 0,
            holds_retry: false,
            tried: 0,
            backoff_from: 0,
        });
        self.waiting_mut(owner).policy = Some(state);
        if let Some(d) = policy.deadline {
            let entry = match site {
                Site::Client(_) => EntryId::default(),
                Site::Call(_, entry) => entry,
            };
            let lane = self.timers.lane_for(d);
            self.timers
                .arm(lane, owner, TimerTag::Deadline(entry), sched);
        }
        if let Some(b) = self.guards.budget(guard) {
            b.on_request(now);
        }
        self.attempt(owner, false, sched);
    }

    /// Makes the next attempt of `owner`'s logical call, unless the breaker refuses it; a
    /// hedge (`as_hedge`, or any attempt while another is out) that the breaker refuses is
    /// simply not sent. Returns false when nothing was sent for that reason.
    #[inline(never)]
    pub(super) fn attempt(
        &mut self,
        owner: Caller,
        as_hedge: bool,
        sched: &mut Scheduler<Event>,
    ) -> bool {
        let now = sched.now();
        let key = self.policy_key(owner).expect("a call with policies");
        let site = self.site_of(owner);
        let outside = self.site_policy(site).breaker_outside_retry;
        let cs = *self.policy_calls.live(key);
        let hedge = cs.outstanding > 0 || as_hedge;
        // gRPC throttles hedges with its retry-throttling tokens: none goes out at or below
        // half (A6); a throttled hedge is simply not sent.
        if hedge
            && self
                .guards
                .budget(cs.guard)
                .is_some_and(|b| !b.allows_hedge())
        {
            return false;
        }
        let permit = if !outside || cs.attempts == 0 {
            match self.guards.acquire(cs.guard, now, sched) {
                Ok(p) => p,
                // A hedge the breaker refuses is not sent.
                Err(()) if hedge => return false,
                Err(()) => {
                    let cs = self.policy_calls.live_mut(key);
                    cs.attempts += 1;
                    cs.waiting_retry = false;
                    if outside {
                        // A breaker around the whole call refuses it once and for all.
                        self.finish_policy_call(owner, Outcome::ShortCircuited, sched);
                    } else {
                        self.attempt_failed(owner, Outcome::ShortCircuited, sched);
                    }
                    return true;
                }
            }
        } else {
            None
        };
        let cs = self.policy_calls.live_mut(key);
        if hedge {
            // Another attempt is out, or one just failed fast: this one is a hedge.
            cs.hedged += 1;
            if self.counted(now) {
                self.policy_counts.hedges += 1;
            }
        }
        let cs = self.policy_calls.live_mut(key);
        cs.attempts += 1;
        if outside && cs.attempts == 1 {
            cs.call_permit = permit;
        }
        cs.waiting_retry = false;
        let deadline = cs.deadline;
        let policy = self.site_policy(site);
        let propagate = policy.propagate_deadline;
        let (edge, lane, timeout) = match site {
            Site::Client(c) => {
                let cl = &self.clients[c];
                (cl.edge, cl.lane, self.scenario.clients[c.index()].timeout)
            }
            Site::Call(s, k) => {
                let call = self.services[s].calls[k];
                (
                    call.edge,
                    call.lane,
                    self.scenario.services[s.index()].calls[k.index()].timeout,
                )
            }
        };
        let give_up = if propagate {
            (now + timeout).min(deadline)
        } else {
            SimTime::MAX
        };
        if let Caller::Request(k) = owner
            && let Some(b) = self.requests.live(k).bucket
        {
            self.recorder.attempt(b);
        }
        let waiting = self.waiting_mut(owner);
        let call = waiting.attempt;
        waiting.attempt += 1;
        let cs = self.policy_calls.live_mut(key);
        let slot = cs
            .slots
            .iter_mut()
            .find(|s| !s.live)
            .expect("a free attempt slot");
        *slot = Slot {
            live: true,
            call,
            sent: now,
            // With the breaker outside the retry, the call holds the one permit
            // (`call_permit`); its attempts hold none, so it is given back or recorded once.
            permit: if outside { None } else { permit },
        };
        cs.outstanding += 1;
        if cs.attempts == 1 {
            cs.first_call = call;
        }
        let (hedged, guard, tried) = (cs.hedged, cs.guard, cs.tried);
        if let Some(b) = self.guards.budget(guard) {
            b.on_sent();
        }
        let other_host = policy.retry.as_ref().is_some_and(|r| r.other_host);
        if let Some(h) = policy.hedge
            && u32::from(hedged) < h.max_extra
            && let Some(delay) = self.guards.hedge_delay(guard)
        {
            let event = match owner {
                Caller::Request(request) => Event::HedgeRequest {
                    request,
                    attempt: call,
                },
                Caller::Job(job) => Event::HedgeJob { job, attempt: call },
            };
            sched.after(delay, event);
        }
        let avoid = if other_host { tried } else { 0 };
        let offset = self.dispatch_with(owner, call, edge, lane, give_up, avoid, sched);
        if other_host && let Some(cs) = self.policy_calls.get_mut(key) {
            cs.tried |= 1 << (offset % 64);
        }
        true
    }

    /// A hedge timer armed by attempt `call` fires: if that attempt is still unanswered,
    /// another attempt goes out.
    #[inline(never)]
    pub(super) fn hedge_due(&mut self, owner: Caller, call: u32, sched: &mut Scheduler<Event>) {
        let Some(key) = self.policy_key(owner) else {
            return;
        };
        let Some(cs) = self.policy_calls.get(key) else {
            return;
        };
        if !cs.is_outstanding(call)
            || cs.waiting_retry
            || usize::from(cs.outstanding) >= MAX_OUTSTANDING
        {
            return;
        }
        if let Caller::Job(k) = owner
            && self.park_if_hung(
                k,
                Event::HedgeJob {
                    job: k,
                    attempt: call,
                },
            )
        {
            return;
        }
        self.attempt(owner, true, sched);
    }

    /// An attempt of `owner`'s logical call ended with `outcome`.
    #[inline(never)]
    pub(super) fn attempt_done(
        &mut self,
        owner: Caller,
        call: u32,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let key = self.policy_key(owner).expect("a call with policies");
        let cs = self.policy_calls.live_mut(key);
        let slot = cs
            .slots
            .iter_mut()
            .find(|s| s.live && s.call == call)
            .expect("an outstanding attempt");
        slot.live = false;
        let Slot { sent, permit, .. } = *slot;
        cs.outstanding -= 1;
        let cs = *cs;
        let site = self.site_of(owner);
        let outside = self.site_policy(site).breaker_outside_retry;
        let success = outcome.is_success();
        if !outside {
            self.breaker_outcome(cs.guard, site, permit, now - sent, outcome, sched);
        }
        if success {
            self.guards.note_latency(cs.guard, now - sent);
        }
        // A failure counts against a gRPC token bucket only if the site would retry it.
        let policy = self.site_policy(site);
        let retryable = match &policy.retry {
            Some(r) => r.retry_on.contains(reason(outcome)),
            None => policy.hedge.is_some(),
        };
        if let Some(b) = self.guards.budget(cs.guard) {
            // A success of the first attempt, even once hedges went out, earns the AWS
            // quota's `no_retry_increment` (botocore); a retry's success refunds its cost.
            b.on_attempt(success, retryable, call == cs.first_call, cs.budget_cost);
            self.guards.note_level(cs.guard, now);
        }
        if success {
            self.finish_policy_call(owner, outcome, sched);
            return;
        }
        // A failure shortcuts the hedging delay: the next hedge goes out at once while
        // hedges remain (gRPC, proposal A6: non-fatal codes; Polly). Every reason counts as
        // non-fatal; gRPC's fatal codes, which cancel the other attempts, are not modelled.
        if let Some(h) = policy.hedge
            && u32::from(cs.hedged) < h.max_extra
            && usize::from(cs.outstanding) < MAX_OUTSTANDING
            && !self.hedge_blocked(owner)
            && self.attempt(owner, true, sched)
        {
            return;
        }
        if cs.outstanding == 0 {
            self.attempt_failed(owner, outcome, sched);
        }
        // Else other attempts (hedges) are still out: the call fails only if they all do.
    }

    /// True when a hedge cannot go out now because `owner` is a job on a hung replica.
    fn hedge_blocked(&self, owner: Caller) -> bool {
        match owner {
            Caller::Request(_) => false,
            Caller::Job(k) => self.replicas[self.jobs.live(k).replica].is_hung(),
        }
    }

    /// Tells the breaker of `guard` how a permitted call or attempt ended: a success, a
    /// failure whose reason the site's `record_on` lists, or (any other failure) nothing:
    /// the permit is given back, as Resilience4j does for an ignored exception.
    fn breaker_outcome(
        &mut self,
        guard: GuardId,
        site: Site,
        permit: Option<Permit>,
        took: SimDuration,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let success = outcome.is_success();
        if success
            || self
                .site_policy(site)
                .breaker_record_on
                .contains(reason(outcome))
        {
            self.guards
                .record(guard, permit, now, took, !success, sched);
        } else {
            self.guards.release(guard, permit);
        }
    }

    /// The last attempt failed with `outcome`: retry after a wait, or end the call.
    #[inline(never)]
    fn attempt_failed(&mut self, owner: Caller, outcome: Outcome, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        // The retry will use the caller's next call number.
        let next_call = self.waiting_mut(owner).attempt;
        let key = self.policy_key(owner).expect("a call with policies");
        self.release_retry(key);
        let site = self.site_of(owner);
        let Some(retry) = self.site_policy(site).retry.clone() else {
            self.finish_policy_call(owner, outcome, sched);
            return;
        };
        let cs = *self.policy_calls.live(key);
        let tries = cs.attempts - u32::from(cs.hedged);
        if tries >= retry.max_attempts || !retry.retry_on.contains(reason(outcome)) {
            self.finish_policy_call(owner, outcome, sched);
            return;
        }
        let mut previous = cs.previous_wait;
        let mut backoff_from = cs.backoff_from;
        let pushback = match (outcome, retry.pushback) {
            (_, Pushback::Ignore) => None,
            (Outcome::Rejected, mode) => self.target_retry_after(site).map(|d| (d, mode)),
            _ => None,
        };
        let computed = |m: &mut Self, previous: &mut f64, from: u32| {
            backoff::wait(
                &retry.backoff,
                retry.jitter,
                tries - from,
                previous,
                m.guards.rng(cs.guard),
            )
        };
        let wait = match pushback {
            None => computed(self, &mut previous, backoff_from),
            // gRPC: exactly the pushback; later backoff restarts from its first wait.
            Some((d, Pushback::Exact)) => {
                backoff_from = tries;
                previous = 0.0;
                d
            }
            Some((d, Pushback::AtLeast)) => computed(self, &mut previous, backoff_from).max(d),
            Some((d, _)) => {
                let u = self.guards.rng(cs.guard).unit();
                SimDuration(d.as_nanos() + (d.as_nanos() as f64 * 0.5 * u) as u64)
            }
        };
        if now + wait >= cs.deadline {
            // No retry fits before the deadline. As in gRPC, where the deadline covers the
            // whole chain of attempts, the call then fails at its deadline, as a timeout
            // (deadline exceeded): its own deadline timer ends it. A limit inherited by
            // deadline propagation has no timer here: the call ends at once.
            let own = self
                .site_policy(site)
                .deadline
                .is_some_and(|d| cs.started + d == cs.deadline);
            if own {
                self.policy_calls.live_mut(key).waiting_retry = true;
            } else {
                self.finish_policy_call(owner, outcome, sched);
            }
            return;
        }
        let mut cost = 0.0;
        let (allowed, holds) = match self.guards.budget(cs.guard) {
            Some(b) => (b.try_retry(now, outcome, &mut cost), b.holds_retries()),
            None => (true, false),
        };
        self.guards.note_level(cs.guard, now);
        let counted = self.counted(now);
        if !allowed {
            if counted {
                self.policy_counts.budget_refused += 1;
            }
            self.finish_policy_call(owner, outcome, sched);
            return;
        }
        if counted {
            self.policy_counts.retries += 1;
        }
        let cs = self.policy_calls.live_mut(key);
        cs.previous_wait = previous;
        cs.budget_cost = cost;
        cs.waiting_retry = true;
        cs.holds_retry = holds;
        cs.backoff_from = backoff_from;
        let event = match owner {
            Caller::Request(request) => Event::RetryRequest {
                request,
                attempt: next_call,
            },
            Caller::Job(job) => Event::RetryJob {
                job,
                attempt: next_call,
            },
        };
        sched.after(wait, event);
    }

    /// A retry's wait is over.
    #[inline(never)]
    pub(super) fn retry_due(&mut self, owner: Caller, call: u32, sched: &mut Scheduler<Event>) {
        let calling = match owner {
            Caller::Request(_) => true,
            Caller::Job(k) => self
                .jobs
                .get(k)
                .is_some_and(|j| j.state == JobState::Calling),
        };
        let current = self.waiting(owner).filter(|_| calling).map(|w| w.attempt);
        if current != Some(call) {
            return;
        }
        let Some(key) = self.policy_key(owner) else {
            return;
        };
        if !self.policy_calls.live(key).waiting_retry {
            return;
        }
        if let Caller::Job(k) = owner
            && self.park_if_hung(
                k,
                Event::RetryJob {
                    job: k,
                    attempt: call,
                },
            )
        {
            return;
        }
        self.attempt(owner, false, sched);
    }

    /// The retry-after delay the callee of `site` puts on its refusals, if any.
    fn target_retry_after(&self, site: Site) -> Option<SimDuration> {
        let s = self.scenario;
        let target = match site {
            Site::Client(c) => s.clients[c.index()].target,
            Site::Call(svc, k) => s.services[svc.index()].calls[k.index()].to,
        };
        s.services[target].retry_after
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

    /// A crash killed the job that owned call state `key`: the call ends without outcomes,
    /// and its attempts give their breaker permits back, as does the call itself when its
    /// breaker is outside the retry (during a retry wait no attempt holds it).
    pub(super) fn abandon_policy_call(&mut self, key: Key) {
        self.release_retry(key);
        if let Some(cs) = self.policy_calls.remove(key) {
            for slot in cs.slots.iter().filter(|s| s.live) {
                self.guards.release(cs.guard, slot.permit);
                self.cut_attempt(cs.guard);
            }
            self.guards.release(cs.guard, cs.call_permit);
        }
    }

    /// Gives back the place call state `key`'s retry holds in a concurrency budget, if any.
    fn release_retry(&mut self, key: Key) {
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

    /// An attempt at `guard` ended without its outcome reaching the budget.
    fn cut_attempt(&mut self, guard: GuardId) {
        if let Some(b) = self.guards.budget(guard) {
            b.on_cut();
        }
    }

    /// The logical call's deadline passed: it ends as a timeout, whatever is outstanding.
    #[inline(never)]
    pub(super) fn deadline_passed(&mut self, owner: Caller, sched: &mut Scheduler<Event>) {
        self.finish_policy_call(owner, Outcome::Timeout, sched);
    }

    /// Ends `owner`'s logical call with `outcome`, through the fallback if it applies.
    #[inline(never)]
    fn finish_policy_call(
        &mut self,
        owner: Caller,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let site = self.site_of(owner);
        let policy = self.site_policy(site);
        let (outside, fallback) = (policy.breaker_outside_retry, policy.fallback);
        let key = self
            .waiting_mut(owner)
            .policy
            .take()
            .expect("a call with policies");
        self.release_retry(key);
        let cs = self.policy_calls.remove(key).expect("live call state");
        // Attempts still out: losers of a won race give their permits back; attempts cut
        // off by the deadline count as failures, so the breaker sees them.
        for slot in cs.slots.iter().filter(|s| s.live) {
            self.cut_attempt(cs.guard);
            if outcome.is_success() {
                self.guards.release(cs.guard, slot.permit);
            } else if !outside {
                self.breaker_outcome(cs.guard, site, slot.permit, now - slot.sent, outcome, sched);
            }
        }
        if outside && outcome != Outcome::ShortCircuited {
            self.breaker_outcome(
                cs.guard,
                site,
                cs.call_permit,
                now - cs.started,
                outcome,
                sched,
            );
        }
        let outcome = match fallback {
            Some(on) if !outcome.is_success() && on.contains(reason(outcome)) => Outcome::Degraded,
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
