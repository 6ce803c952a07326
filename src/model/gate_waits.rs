//! Waits at admission gates. A call (or attempt) that finds its bulkhead full waits, in
//! arrival order, until a holder hands it a slot or its `max_wait` passes (then it fails
//! as `bulkhead_full`, as Resilience4j's `BulkheadFullException`). A handed slot is
//! reserved for the waiter, which runs its gates again and takes it; if it can no longer
//! use it (its call ended, or an earlier gate refused), the slot passes to the next waiter.
//!
//! A call whose rate limiter reserved it a later permit waits until then, and runs its
//! gates again, passing the limiter with its reserved permit (Resilience4j's rate limiter
//! sleeps until the cycle of its permit).

use super::Model;
use super::call_state::Site;
use super::event::{Caller, Event};
use super::ids::GuardId;
use super::slab::Key;
use crate::engine::{Scheduler, SimDuration};
use crate::outcome::Outcome;
use crate::scenario::policy::{Gate, Layer};

impl Model<'_> {
    /// `owner`'s call `key` waits for a slot of its site's bulkhead, at most `max_wait`.
    pub(super) fn wait_for_slot(
        &mut self,
        owner: Caller,
        key: Key,
        site: Site,
        sched: &mut Scheduler<Event>,
    ) {
        let max_wait = self
            .site_policy(site)
            .bulkhead
            .expect("a bulkhead")
            .max_wait;
        let cs = self.policy_calls.live_mut(key);
        cs.gate_wait = true;
        cs.gate_epoch = cs.gate_epoch.wrapping_add(1);
        let (guard, epoch) = (cs.guard, cs.gate_epoch);
        self.guards
            .bulkhead(guard)
            .expect("a bulkhead")
            .enqueue((owner, key));
        let event = match owner {
            Caller::Request(request) => Event::BulkheadTimeoutRequest { request, epoch },
            Caller::Job(job) => Event::BulkheadTimeoutJob { job, epoch },
        };
        sched.after(max_wait, event);
    }

    /// A holder gives a slot of `guard`'s bulkhead back: it goes to the oldest call still
    /// waiting, which gets it at once (in an event of its own), or becomes free.
    pub(super) fn release_bulkhead(&mut self, guard: GuardId, sched: &mut Scheduler<Event>) {
        let calls = &self.policy_calls;
        let bulkhead = self.guards.bulkhead(guard).expect("a bulkhead");
        let handed = bulkhead.release(|&(_, call)| {
            calls
                .get(call)
                .is_some_and(|cs| cs.gate_wait && !cs.gate_handed)
        });
        if let Some((owner, call)) = handed {
            self.policy_calls.live_mut(call).gate_handed = true;
            let event = match owner {
                Caller::Request(request) => Event::BulkheadSlotRequest { request },
                Caller::Job(job) => Event::BulkheadSlotJob { job },
            };
            sched.after(SimDuration::ZERO, event);
        }
    }

    /// A slot was handed to `owner`'s waiting call: its attempt goes again through the
    /// gates, and takes the slot at the bulkhead.
    pub(super) fn bulkhead_slot(&mut self, owner: Caller, sched: &mut Scheduler<Event>) {
        let Some(key) = self.policy_key(owner) else {
            return; // its call ended, and gave the slot on
        };
        let cs = self.policy_calls.live(key);
        if !cs.gate_handed {
            return;
        }
        let epoch = cs.gate_epoch;
        if let Caller::Job(job) = owner
            && self.park_if_hung(job, Event::BulkheadSlotJob { job })
        {
            return;
        }
        self.policy_calls.live_mut(key).gate_wait = false;
        self.attempt(owner, false, sched);
        // A gate before the bulkhead refused the attempt, which may wait for its retry:
        // the slot passes on.
        if let Some(cs) = self.policy_calls.get_mut(key)
            && cs.gate_handed
            && cs.gate_epoch == epoch
        {
            cs.gate_handed = false;
            let guard = cs.guard;
            self.release_bulkhead(guard, sched);
        }
    }

    /// `owner`'s call has waited for a slot as long as it may (wait `epoch`): it stops
    /// waiting and is refused as `bulkhead_full`, which ends the call when the bulkhead
    /// is outside the retry, or fails the attempt (which may be retried) inside it.
    pub(super) fn bulkhead_timeout(
        &mut self,
        owner: Caller,
        epoch: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let Some(key) = self.policy_key(owner) else {
            return;
        };
        let cs = *self.policy_calls.live(key);
        if !cs.gate_wait || cs.gate_handed || cs.gate_epoch != epoch {
            return;
        }
        if let Caller::Job(job) = owner
            && self.park_if_hung(job, Event::BulkheadTimeoutJob { job, epoch })
        {
            return;
        }
        let guard = cs.guard;
        self.policy_calls.live_mut(key).gate_wait = false;
        self.guards
            .bulkhead(guard)
            .expect("a bulkhead")
            .remove(|&(_, call)| call == key);
        let site = self.site_of(owner);
        let outside = self
            .site_policy(site)
            .gates
            .contains(&(Gate::Bulkhead, Layer::Call));
        self.refused(key);
        if outside {
            self.finish_policy_call(owner, Outcome::BulkheadFull, sched);
        } else {
            self.attempt_failed(owner, Outcome::BulkheadFull, sched);
        }
    }

    /// `owner`'s call `key` waits `wait` for the rate limiter's permit reserved for it.
    pub(super) fn wait_for_permit(
        &mut self,
        owner: Caller,
        key: Key,
        wait: SimDuration,
        sched: &mut Scheduler<Event>,
    ) {
        let cs = self.policy_calls.live_mut(key);
        cs.limit_reserved = true;
        cs.gate_epoch = cs.gate_epoch.wrapping_add(1);
        let epoch = cs.gate_epoch;
        let event = match owner {
            Caller::Request(request) => Event::LimiterWakeRequest { request, epoch },
            Caller::Job(job) => Event::LimiterWakeJob { job, epoch },
        };
        sched.after(wait, event);
    }

    /// `owner`'s call has waited for its permit (wait `epoch`): its attempt goes through
    /// the gates again, and passes the limiter with the permit.
    pub(super) fn limiter_wake(&mut self, owner: Caller, epoch: u32, sched: &mut Scheduler<Event>) {
        let Some(key) = self.policy_key(owner) else {
            return;
        };
        let cs = self.policy_calls.live(key);
        if !cs.limit_reserved || cs.gate_epoch != epoch {
            return;
        }
        if let Caller::Job(job) = owner
            && self.park_if_hung(job, Event::LimiterWakeJob { job, epoch })
        {
            return;
        }
        self.attempt(owner, false, sched);
        // A gate before the limiter refused: the permit is spent unused (unless the call
        // has waited again since, for a new permit).
        if let Some(cs) = self.policy_calls.get_mut(key)
            && cs.gate_epoch == epoch
        {
            cs.limit_reserved = false;
        }
    }

    /// A call state at `guard` ends: a bulkhead slot handed to it and not yet taken
    /// (`gate_handed`) passes on.
    pub(super) fn pass_on_handed_slot(
        &mut self,
        gate_handed: bool,
        guard: GuardId,
        sched: &mut Scheduler<Event>,
    ) {
        if gate_handed {
            self.release_bulkhead(guard, sched);
        }
    }
}
