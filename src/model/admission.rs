//! Admission gates at run time: the policies that decide whether a call (outside the
//! retry) or each attempt (inside it) may be sent, passed outermost first. Today the
//! circuit breaker; a new gate is a [`Gate`] variant plus its arm in [`Model::admit`],
//! [`Model::settle`] and [`Model::give_back`].

use super::Model;
use super::call_state::{Site, reason};
use super::event::Event;
use super::ids::GuardId;
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
}

impl Model<'_> {
    /// Passes the gates of `layer` of `site`, outermost first. A refusal gives back what
    /// the gates before it granted, and says how the refused call or attempt ends.
    pub(super) fn admit(
        &mut self,
        site: Site,
        guard: GuardId,
        layer: Layer,
        sched: &mut Scheduler<Event>,
    ) -> Result<Grant, Outcome> {
        let now = sched.now();
        let mut grant = Grant::default();
        for gate in self.site_policy(site).gates_of(layer) {
            match gate {
                Gate::CircuitBreaker => match self.guards.acquire(guard, now, sched) {
                    Ok(permit) => grant.breaker = permit,
                    Err(()) => {
                        self.give_back(guard, grant);
                        return Err(Outcome::ShortCircuited);
                    }
                },
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
    }

    /// A call or attempt that `grant` admitted ended without an outcome to learn from (a
    /// hedge that lost the race, work killed by a crash): the gates take their grants back.
    pub(super) fn give_back(&mut self, guard: GuardId, grant: Grant) {
        self.guards.release(guard, grant.breaker);
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
