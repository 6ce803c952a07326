//! Who waits for an answer (a client's request, or a job calling downstream), what it waits
//! on (its latest attempt number and the state of its call-path policies), and whether an
//! answer or a timer still concerns it.
//!
//! Every attempt of a caller gets the next number of the caller's attempt counter; an
//! answer or a timeout names the attempt it belongs to, so one that arrives after its
//! attempt was settled (answered, timed out, abandoned) is recognised as stale. A logical
//! call with policies may have several attempts outstanding (hedges): its [`CallState`]
//! says which.

use super::balancer::SentTo;
use super::event::Caller;
use super::ids::{EntryId, Id};
use super::policies::CallState;
use super::slab::{Key, Slab};
use super::{Job, JobState, Model, Request};
use crate::engine::SimTime;
use crate::outcome::Outcome;

/// What a caller keeps about the call it waits on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Waiting {
    /// The number of its latest attempt (the next attempt takes the next number).
    pub attempt: u32,
    /// The state of the call's policies, when its call site has any.
    pub policy: Option<Key>,
}

/// Where the attempts of callers without policies went, when the balancer that chose the
/// replica tracks attempts (with policies, each attempt's slot says): beside the request
/// and job slabs, indexed by slot, so that runs whose balancers track nothing pay nothing.
#[derive(Default)]
pub struct Routes {
    requests: Vec<Option<SentTo>>,
    jobs: Vec<Option<SentTo>>,
}

impl Routes {
    fn table(&mut self, caller: Caller) -> (&mut Vec<Option<SentTo>>, usize) {
        match caller {
            Caller::Request(k) => (&mut self.requests, k.slot()),
            Caller::Job(k) => (&mut self.jobs, k.slot()),
        }
    }

    /// `caller`'s attempt went `to`.
    fn put(&mut self, caller: Caller, to: SentTo) {
        let (v, slot) = self.table(caller);
        if v.len() <= slot {
            v.resize(slot + 1, None);
        }
        v[slot] = Some(to);
    }

    /// Where `caller`'s attempt went, forgotten.
    pub fn take(&mut self, caller: Caller) -> Option<SentTo> {
        let (v, slot) = self.table(caller);
        v.get_mut(slot).and_then(Option::take)
    }
}

/// What a timer entry stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerTag {
    /// The timeout of one attempt, by its number.
    Attempt(u32),
    /// The deadline of a logical call, by the call entry it is made from (a client's
    /// request has one logical call: entry 0).
    Deadline(EntryId),
}

impl Model<'_> {
    /// What `caller` waits on, if it is still live.
    #[inline(always)]
    pub(super) fn waiting(&self, caller: Caller) -> Option<&Waiting> {
        match caller {
            Caller::Request(k) => self.requests.get(k).map(|q| &q.waiting),
            Caller::Job(k) => self.jobs.get(k).map(|j| &j.waiting),
        }
    }

    /// What live `caller` waits on, to change it.
    #[inline(always)]
    pub(super) fn waiting_mut(&mut self, caller: Caller) -> &mut Waiting {
        match caller {
            Caller::Request(k) => &mut self.requests.live_mut(k).waiting,
            Caller::Job(k) => &mut self.jobs.live_mut(k).waiting,
        }
    }

    /// The call-path state of live `caller`'s call, if its call site has policies.
    #[inline(always)]
    pub(super) fn policy_key(&self, caller: Caller) -> Option<Key> {
        self.waiting(caller).and_then(|w| w.policy)
    }

    /// Notes where attempt `attempt` of `caller` went, for the balancer that chose it.
    pub(super) fn note_sent(&mut self, caller: Caller, attempt: u32, to: SentTo) {
        match self.waiting_mut(caller).policy {
            None => self.routes.get_or_insert_default().put(caller, to),
            Some(p) => {
                if let Some(slot) = self
                    .policy_calls
                    .live_mut(p)
                    .slots
                    .iter_mut()
                    .find(|s| s.live && s.attempt == attempt)
                {
                    slot.sent_to = Some(to);
                }
            }
        }
    }

    /// The caller settled the attempt that went `to` with `outcome` at `now` (answered or
    /// timed out: a latency sample and a success or failure), or abandoned it (`None`): its
    /// balancer learns it.
    #[inline(always)]
    pub(super) fn settle_route(
        &mut self,
        to: Option<SentTo>,
        outcome: Option<Outcome>,
        now: SimTime,
    ) {
        if let Some(to) = to {
            let took = outcome.map(|_| now - to.at);
            // A 429 is no 5xx: Envoy's outlier detection does not count it as a failure.
            let failed = outcome.map(|o| !o.is_success() && o != Outcome::RateLimited);
            self.balancers
                .get(to.balancer)
                .settled(to.offset(), took, failed, now);
        }
    }

    /// [`Model::settle_route`] for the attempt `caller` waits on without policies.
    #[inline(always)]
    pub(super) fn settle_plain(&mut self, caller: Caller, outcome: Option<Outcome>, now: SimTime) {
        if let Some(routes) = &mut self.routes
            && let Some(to) = routes.take(caller)
        {
            self.settle_route(Some(to), outcome, now);
        }
    }

    /// True when `caller` still waits on what `tag` stands for.
    #[inline]
    pub(super) fn is_open(&self, caller: Caller, tag: TimerTag) -> bool {
        is_open(&self.requests, &self.jobs, &self.policy_calls, caller, tag)
    }

    /// True when job `k` is live and waiting on its attempt number `attempt`.
    #[inline]
    pub(super) fn is_waiting(&self, k: Key, attempt: u32) -> bool {
        is_waiting(&self.jobs, &self.policy_calls, k, attempt)
    }
}

impl Job {
    /// The call entry the job is making (or made last).
    #[inline(always)]
    pub(super) fn entry(&self) -> EntryId {
        EntryId::from_index(self.entries_made as usize - 1)
    }
}

/// True when `caller` (a record of `requests` or `jobs`) still waits on what `tag` stands
/// for.
#[inline(always)]
pub(super) fn is_open(
    requests: &Slab<Request>,
    jobs: &Slab<Job>,
    calls: &Slab<CallState>,
    caller: Caller,
    tag: TimerTag,
) -> bool {
    match (tag, caller) {
        // A logical call's deadline: open while that call (by entry) still runs.
        (TimerTag::Deadline(_), Caller::Request(k)) => {
            requests.get(k).is_some_and(|q| q.waiting.policy.is_some())
        }
        (TimerTag::Deadline(entry), Caller::Job(k)) => jobs.get(k).is_some_and(|j| {
            j.state == JobState::Calling && j.waiting.policy.is_some() && j.entry() == entry
        }),
        (TimerTag::Attempt(attempt), Caller::Request(k)) => {
            requests.get(k).is_some_and(|q| match q.waiting.policy {
                None => q.waiting.attempt == attempt,
                Some(p) => calls.get(p).is_some_and(|cs| cs.is_outstanding(attempt)),
            })
        }
        (TimerTag::Attempt(attempt), Caller::Job(k)) => is_waiting(jobs, calls, k, attempt),
    }
}

/// True when job `k` is live and waiting on its attempt number `attempt`.
#[inline]
fn is_waiting(jobs: &Slab<Job>, calls: &Slab<CallState>, k: Key, attempt: u32) -> bool {
    jobs.get(k).is_some_and(|j| {
        j.state == JobState::Calling
            && match j.waiting.policy {
                None => j.waiting.attempt == attempt,
                Some(p) => calls.get(p).is_some_and(|cs| cs.is_outstanding(attempt)),
            }
    })
}
