//! Attempts of a logical call with policies: the first one, hedges ("The Tail at Scale";
//! gRPC's `hedgingPolicy`), and what each attempt's end means for the call.
//!
//! An attempt passes the call's admission gates, takes a slot (the call's outstanding
//! attempts), may arm a hedge timer, and is sent. Hedging follows gRPC: an extra attempt
//! after a delay if the previous one has not answered, the first success wins, a failure
//! shortcuts the delay, and the call fails only once every attempt has failed.

use super::Model;
use super::admission::{Grant, Refusal};
use super::call_state::{CallState, MAX_OUTSTANDING, Site, Slot, reason};
use super::event::{Caller, Event};
use super::ids::{EntryId, GuardId};
use super::slab::Key;
use super::waiter::TimerTag;
use crate::engine::{Scheduler, SimTime};
use crate::outcome::Outcome;
use crate::scenario::policy::Layer;
use crate::trace::StepKind;

impl Model<'_> {
    /// Begins a logical call with policies for `owner` (whose attempt counter is set for
    /// the first attempt), limited by `inherited` (a propagated deadline), and makes its
    /// first attempt.
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
        let state = self.policy_calls.insert_with(
            || CallState::new(guard, now, deadline),
            |cs| cs.restart(guard, now, deadline),
        );
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

    /// Makes the next attempt of `owner`'s logical call, unless a gate refuses it; a hedge
    /// (`as_hedge`, or any attempt while another is out) that a gate or the retry tokens
    /// refuse is simply not sent. Returns false when nothing was sent for that reason.
    #[inline(never)]
    pub(super) fn attempt(
        &mut self,
        owner: Caller,
        as_hedge: bool,
        sched: &mut Scheduler<Event>,
    ) -> bool {
        let key = self.policy_key(owner).expect("a call with policies");
        let site = self.site_of(owner);
        let cs = self.policy_calls.live(key);
        let (outstanding, guard) = (cs.outstanding, cs.guard);
        let hedge = outstanding > 0 || as_hedge;
        if hedge && self.hedges_throttled(guard) {
            return false;
        }
        let Some(grant) = self.admit_attempt(owner, key, site, hedge, sched) else {
            // Refused: a hedge is simply not sent; anything else has already ended or
            // failed its attempt.
            return !hedge;
        };
        let attempt = self.open_slot(owner, key, hedge, grant, sched.now());
        self.arm_hedge(owner, key, site, attempt, sched);
        self.send_attempt(owner, key, site, attempt, sched);
        true
    }

    /// True when gRPC's retry-throttling tokens forbid hedges now: none goes out at or
    /// below half the tokens (A6).
    fn hedges_throttled(&mut self, guard: GuardId) -> bool {
        self.guards.budget(guard).is_some_and(|b| !b.allows_hedge())
    }

    /// Passes the gates for the next attempt: those outside the retry until the call has
    /// passed them once (their grant is kept in the call state), those inside it at every
    /// attempt. Returns the attempt's grant, or `None` when a gate refused or the call
    /// waits: a refused hedge changes nothing; a refusal outside the retry ends the call,
    /// one inside it fails the attempt (which may be retried); a call that waits (for a
    /// bulkhead slot or a reserved permit) passes the gates again afterwards.
    fn admit_attempt(
        &mut self,
        owner: Caller,
        key: Key,
        site: Site,
        hedge: bool,
        sched: &mut Scheduler<Event>,
    ) -> Option<Grant> {
        let cs = self.policy_calls.live(key);
        let guard = cs.guard;
        if !cs.call_admitted {
            match self.admit(site, guard, Layer::Call, key, hedge, sched) {
                Ok(g) => {
                    let cs = self.policy_calls.live_mut(key);
                    cs.call_grant = g;
                    cs.call_admitted = true;
                }
                Err(Refusal::Wait) => {
                    self.trace_step(sched.now(), owner, StepKind::WaitsForSlot);
                    self.wait_for_slot(owner, key, site, sched);
                    return None;
                }
                Err(Refusal::Delay(wait)) => {
                    self.trace_step(sched.now(), owner, StepKind::WaitsForPermit(wait));
                    self.wait_for_permit(owner, key, wait, sched);
                    return None;
                }
                Err(Refusal::Fail(outcome)) => {
                    self.trace_step(sched.now(), owner, StepKind::Refused(outcome));
                    self.refused(key);
                    self.finish_policy_call(owner, outcome, sched);
                    return None;
                }
            }
        }
        match self.admit(site, guard, Layer::Attempt, key, hedge, sched) {
            Ok(grant) => Some(grant),
            Err(_) if hedge => None,
            Err(Refusal::Wait) => {
                self.trace_step(sched.now(), owner, StepKind::WaitsForSlot);
                self.wait_for_slot(owner, key, site, sched);
                None
            }
            Err(Refusal::Delay(wait)) => {
                self.trace_step(sched.now(), owner, StepKind::WaitsForPermit(wait));
                self.wait_for_permit(owner, key, wait, sched);
                None
            }
            Err(Refusal::Fail(outcome)) => {
                self.trace_step(sched.now(), owner, StepKind::Refused(outcome));
                self.refused(key);
                self.attempt_failed(owner, outcome, sched);
                None
            }
        }
    }

    /// Counts a refused attempt of call state `key`.
    pub(super) fn refused(&mut self, key: Key) {
        let cs = self.policy_calls.live_mut(key);
        cs.attempts += 1;
        cs.waiting_retry = false;
        cs.refused_locally = true;
    }

    /// Takes a slot for the attempt going out now with `grant`, numbered by the caller's attempt counter; returns its number.
    fn open_slot(
        &mut self,
        owner: Caller,
        key: Key,
        hedge: bool,
        grant: Grant,
        now: SimTime,
    ) -> u32 {
        if hedge {
            // Another attempt is out, or one just failed fast: this one is a hedge.
            self.policy_calls.live_mut(key).hedged += 1;
            if self.counted(now) {
                self.policy_counts.hedges += 1;
            }
        }
        if let Caller::Request(k) = owner
            && let Some(b) = self.requests.live(k).bucket
        {
            let client = self.requests.live(k).client;
            self.clients[client].counts.attempts += 1;
            self.recorder.attempt(b);
        }
        let waiting = self.waiting_mut(owner);
        let attempt = waiting.attempt;
        waiting.attempt += 1;
        let cs = self.policy_calls.live_mut(key);
        cs.attempts += 1;
        cs.waiting_retry = false;
        cs.refused_locally = false;
        if cs.attempts == 1 {
            cs.first_attempt = attempt;
        }
        let slot = cs
            .slots
            .iter_mut()
            .find(|s| !s.live)
            .expect("a free attempt slot");
        *slot = Slot {
            live: true,
            attempt,
            sent: now,
            grant,
            sent_to: None,
        };
        cs.outstanding += 1;
        let guard = cs.guard;
        if let Some(b) = self.guards.budget(guard) {
            b.on_sent();
        }
        attempt
    }

    /// Arms the hedge timer of attempt `attempt`, while hedges remain and the site knows
    /// its hedge delay.
    fn arm_hedge(
        &mut self,
        owner: Caller,
        key: Key,
        site: Site,
        attempt: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let cs = self.policy_calls.live(key);
        if let Some(h) = self.site_policy(site).hedge
            && u32::from(cs.hedged) < h.max_extra
            && let Some(delay) = self.guards.hedge_delay(cs.guard)
        {
            let event = match owner {
                Caller::Request(request) => Event::HedgeRequest { request, attempt },
                Caller::Job(job) => Event::HedgeJob { job, attempt },
            };
            sched.after(delay, event);
        }
    }

    /// Sends attempt `attempt` over the site's edge, with its timeout, the time its
    /// caller gives up on it when deadlines propagate, and the replicas to avoid when
    /// retries go to other hosts.
    fn send_attempt(
        &mut self,
        owner: Caller,
        key: Key,
        site: Site,
        attempt: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let policy = self.site_policy(site);
        let (edge, lane, timeout, balancer) = match (site, owner) {
            (Site::Client(c), _) => {
                let cl = &self.clients[c];
                let balancer = self.balancers.of_client(c);
                (
                    cl.edge,
                    cl.lane,
                    self.scenario.clients[c.index()].timeout,
                    balancer,
                )
            }
            (Site::Call(s, k), Caller::Job(job)) => {
                let call = self.services[s].calls[k];
                let timeout = self.scenario.services[s.index()].calls[k.index()].timeout;
                let balancer = self.balancers.of_call(s, self.jobs.live(job).replica, k);
                (call.edge, call.lane, timeout, balancer)
            }
            (Site::Call(..), Caller::Request(_)) => unreachable!("a call entry's caller is a job"),
        };
        let cs = self.policy_calls.live(key);
        let give_up = if policy.propagate_deadline {
            (now + timeout).min(cs.deadline)
        } else {
            SimTime::MAX
        };
        let other_host = policy.retry.as_ref().is_some_and(|r| r.other_host);
        let avoid = if other_host { cs.tried } else { 0 };
        let offset =
            self.dispatch_with(owner, attempt, edge, lane, balancer, give_up, avoid, sched);
        if other_host && let Some(cs) = self.policy_calls.get_mut(key) {
            cs.tried |= 1 << (offset % 64);
        }
    }

    /// A hedge timer armed by attempt `attempt` fires: if that attempt is still
    /// unanswered, another attempt goes out.
    #[inline(never)]
    pub(super) fn hedge_due(&mut self, owner: Caller, attempt: u32, sched: &mut Scheduler<Event>) {
        let Some(key) = self.policy_key(owner) else {
            return;
        };
        let Some(cs) = self.policy_calls.get(key) else {
            return;
        };
        if !cs.is_outstanding(attempt)
            || cs.waiting_retry
            || usize::from(cs.outstanding) >= MAX_OUTSTANDING
        {
            return;
        }
        if let Caller::Job(job) = owner
            && self.park_if_hung(job, Event::HedgeJob { job, attempt })
        {
            return;
        }
        if self.attempt(owner, true, sched) {
            self.trace_step(sched.now(), owner, StepKind::Hedge);
        }
    }

    /// Attempt `attempt` of `owner`'s logical call ended with `outcome`.
    #[inline(never)]
    pub(super) fn attempt_done(
        &mut self,
        owner: Caller,
        attempt: u32,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let key = self.policy_key(owner).expect("a call with policies");
        let cs = self.policy_calls.live_mut(key);
        let slot = cs
            .slots
            .iter_mut()
            .find(|s| s.live && s.attempt == attempt)
            .expect("an outstanding attempt");
        slot.live = false;
        let Slot {
            sent,
            grant,
            sent_to,
            ..
        } = *slot;
        cs.outstanding -= 1;
        // What the rest needs of the call state, as it is now (not a copy of all of it).
        let (guard, first_attempt, budget_cost, hedged, outstanding) = (
            cs.guard,
            cs.first_attempt,
            cs.budget_cost,
            cs.hedged,
            cs.outstanding,
        );
        self.settle_route(sent_to, Some(outcome), now);
        let site = self.site_of(owner);
        let success = outcome.is_success();
        self.settle(site, guard, grant, now - sent, outcome, sched);
        if success {
            self.guards.note_latency(guard, now - sent);
        }
        // A failure counts against a gRPC token bucket only if the site would retry it.
        let policy = self.site_policy(site);
        let retryable = match &policy.retry {
            Some(r) => r.retry_on.contains(reason(outcome)),
            None => policy.hedge.is_some(),
        };
        if let Some(b) = self.guards.budget(guard) {
            // A success of the first attempt, even once hedges went out, earns the AWS
            // quota's `no_retry_increment` (botocore); a retry's success refunds its cost.
            b.on_attempt(success, retryable, attempt == first_attempt, budget_cost);
            self.guards.note_level(guard, now);
        }
        if success {
            self.finish_policy_call(owner, outcome, sched);
            return;
        }
        // A failure shortcuts the hedging delay: the next hedge goes out at once while
        // hedges remain (gRPC, proposal A6: non-fatal codes; Polly). Every reason counts as
        // non-fatal; gRPC's fatal codes, which cancel the other attempts, are not modelled.
        if let Some(h) = policy.hedge
            && u32::from(hedged) < h.max_extra
            && usize::from(outstanding) < MAX_OUTSTANDING
            && !self.hedge_blocked(owner)
            && self.attempt(owner, true, sched)
        {
            return;
        }
        if outstanding == 0 {
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

    /// An attempt at `guard` ended without its outcome reaching the budget.
    pub(super) fn cut_attempt(&mut self, guard: GuardId) {
        if let Some(b) = self.guards.budget(guard) {
            b.on_cut();
        }
    }
}
