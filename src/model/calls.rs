//! Calls between callers and services: sending with a timeout, answering, and deciding
//! which of an answer and a timeout came first.

use super::event::{Caller, Event};
use super::ids::{EdgeId, LaneId};
use super::network::{Leg, Node};
use super::policies::{CallState, DEADLINE};
use super::slab::{Key, Slab};
use super::{Job, JobState, Model, Request};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::outcome::Outcome;

impl Model<'_> {
    /// Sends call number `call` of `caller` over `edge` to the callee's next replica in
    /// round-robin order; the caller gives up when its timer on `lane` expires.
    #[inline(always)]
    pub(super) fn dispatch(
        &mut self,
        caller: Caller,
        call: u32,
        edge: EdgeId,
        lane: LaneId,
        sched: &mut Scheduler<Event>,
    ) {
        self.dispatch_with(caller, call, edge, lane, SimTime::MAX, 0, sched);
    }

    /// [`Model::dispatch`] for an attempt whose callee must drop it, unserved, when a worker
    /// would take it up at or after `give_up_at` (deadline propagation; `SimTime::MAX` for
    /// none), and that should avoid the replicas in `avoid` (bit `i % 64` for the callee's
    /// replica `i`): when round robin lands on one, it selects once more (Envoy's
    /// `previous_hosts` predicate with its default of one reselection). Returns the
    /// callee's replica chosen (its position among the service's replicas).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dispatch_with(
        &mut self,
        caller: Caller,
        call: u32,
        edge: EdgeId,
        lane: LaneId,
        give_up_at: SimTime,
        avoid: u64,
        sched: &mut Scheduler<Event>,
    ) -> u32 {
        self.timers.arm(lane, caller, call, sched);
        let e = &mut self.topology.edges[edge];
        let s = &self.services[e.target];
        let mut offset = e.cursor % s.replicas;
        e.cursor = e.cursor.wrapping_add(1);
        if avoid & (1 << (offset % 64)) != 0 && s.replicas > 1 {
            offset = e.cursor % s.replicas;
            e.cursor = e.cursor.wrapping_add(1);
        }
        let replica = s.first_replica.plus(offset);
        let ends = |m: &Self| {
            let from = m.caller_node(caller).expect("a live caller sends");
            (from, Node::Replica(replica))
        };
        let Some(delay) = self.transit(edge, ends, Leg::Request) else {
            return offset; // lost on the way: only the timeout will tell
        };
        let idem_key = self.idem.as_ref().and_then(|t| match caller {
            Caller::Request(k) => t.request_key(k.slot()),
            Caller::Job(k) => t.call_key(k.slot(), self.jobs.live(k).next_call - 1),
        });
        let job = self.jobs.insert(Job {
            caller,
            caller_call: call,
            edge,
            replica,
            state: JobState::InTransit,
            next_call: 0,
            call_seq: 0,
            arrived_at: SimTime::ZERO,
            pause_mark: SimDuration::ZERO,
            policy: None,
            give_up_at,
            degraded: false,
        });
        if let (Some(t), Some(key)) = (&mut self.idem, idem_key) {
            t.job_created(job.slot(), key);
        }
        if delay == SimDuration::ZERO {
            self.deliver(job, sched);
        } else {
            sched.after(delay, Event::Deliver { job });
        }
        offset
    }

    /// Where a caller sits on the network, if it is still live.
    #[inline]
    fn caller_node(&self, caller: Caller) -> Option<Node> {
        match caller {
            Caller::Request(k) => self.requests.get(k).map(|q| Node::Client(q.client)),
            Caller::Job(k) => self.jobs.get(k).map(|j| Node::Replica(j.replica)),
        }
    }

    /// Sends the answer of finished job `job` back to its caller.
    #[inline(always)]
    pub(super) fn reply(&mut self, job: &Job, outcome: Outcome, sched: &mut Scheduler<Event>) {
        // A caller that is gone (timed out and ended, or killed) listens to nothing.
        let Some(to) = self.caller_node(job.caller) else {
            return;
        };
        let ends = |_: &Self| (Node::Replica(job.replica), to);
        let Some(delay) = self.transit(job.edge, ends, Leg::Response) else {
            return; // lost on the way back: the work is done, the caller never hears of it
        };
        let (to, call) = (job.caller, job.caller_call);
        if delay == SimDuration::ZERO {
            self.receive(to, call, outcome, sched);
        } else {
            sched.after(delay, Event::reply(to, call, outcome));
        }
    }

    /// An answer reaches its caller, unless it is stale.
    #[inline(always)]
    pub(super) fn receive(
        &mut self,
        to: Caller,
        call: u32,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        match to {
            Caller::Request(k) => {
                if self.is_open(to, call) {
                    if self.requests.live(k).policy.is_some() {
                        self.attempt_done(to, call, outcome, sched);
                    } else {
                        self.end_request(k, outcome, sched);
                    }
                }
            }
            Caller::Job(k) => self.receive_at_job(k, call, outcome, sched),
        }
    }

    /// [`Model::receive`] for a job that called downstream: it goes on with its next call,
    /// or fails. (Kept out of line: it closes the loop job -> call -> job, so inlining stops
    /// here.)
    #[inline(never)]
    fn receive_at_job(
        &mut self,
        k: Key,
        call: u32,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        if !self.is_waiting(k, call) {
            return;
        }
        if self.park_if_hung(k, Event::reply(Caller::Job(k), call, outcome)) {
            return;
        }
        if self.jobs.live(k).policy.is_some() {
            self.attempt_done(Caller::Job(k), call, outcome, sched);
        } else if outcome.is_success() {
            self.next_call(k, sched);
        } else {
            // A failed call fails the caller's request with an error.
            self.complete(k, Outcome::Error, sched);
        }
    }

    /// A call's timeout fires; it matters only if the call is still unanswered.
    pub(super) fn timeout(&mut self, to: Caller, call: u32, sched: &mut Scheduler<Event>) {
        if !self.is_open(to, call) {
            return;
        }
        if let Caller::Job(k) = to
            && self.park_if_hung(k, Event::Timeout { job: k, call })
        {
            return;
        }
        let has_policy = match to {
            Caller::Request(k) => self.requests.live(k).policy.is_some(),
            Caller::Job(k) => self.jobs.live(k).policy.is_some(),
        };
        match to {
            _ if call & DEADLINE != 0 => self.deadline_passed(to, sched),
            _ if has_policy => self.attempt_done(to, call, Outcome::Timeout, sched),
            Caller::Request(k) => self.end_request(k, Outcome::Timeout, sched),
            // The service gives up on its dependency and answers its own caller with an error.
            Caller::Job(k) => self.complete(k, Outcome::Error, sched),
        }
    }

    /// The timers of `lane` may be due: time out the due calls still open, drop the
    /// answered ones from the front, and re-arm for the first one still waiting.
    pub(super) fn timers_due(&mut self, lane: LaneId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if !self.timers.begin(lane, now) {
            return;
        }
        while let Some((caller, call)) = self.timers.pop_due(lane, now) {
            self.timeout(caller, call, sched);
        }
        let (requests, jobs, calls) = (&self.requests, &self.jobs, &self.policy_calls);
        self.timers.drop_answered(lane, |caller, call| {
            !is_open(requests, jobs, calls, caller, call)
        });
        self.timers.finish(lane, sched);
    }

    /// True when `caller` still waits on its call number `call`.
    #[inline]
    fn is_open(&self, caller: Caller, call: u32) -> bool {
        is_open(&self.requests, &self.jobs, &self.policy_calls, caller, call)
    }

    /// True when job `k` is live and waiting on its call number `call`.
    #[inline]
    fn is_waiting(&self, k: Key, call: u32) -> bool {
        is_waiting(&self.jobs, &self.policy_calls, k, call)
    }

    /// A frozen process handles nothing: the event waits for the hang to end.
    pub(super) fn park_if_hung(&mut self, k: Key, event: Event) -> bool {
        let replica = self.jobs.live(k).replica;
        let r = &mut self.replicas[replica];
        if r.is_hung() {
            r.parked.push((SimDuration::ZERO, event));
            true
        } else {
            false
        }
    }
}

/// True when `caller` (a record of `requests` or `jobs`) still waits on its call number
/// `call`.
#[inline(always)]
fn is_open(
    requests: &Slab<Request>,
    jobs: &Slab<Job>,
    calls: &Slab<CallState>,
    caller: Caller,
    call: u32,
) -> bool {
    if call & DEADLINE != 0 {
        // A logical call's deadline: open while that call (by position) still runs.
        let position = call & !DEADLINE;
        return match caller {
            Caller::Request(k) => requests.get(k).is_some_and(|q| q.policy.is_some()),
            Caller::Job(k) => jobs.get(k).is_some_and(|j| {
                j.state == JobState::Calling && j.policy.is_some() && j.next_call - 1 == position
            }),
        };
    }
    match caller {
        Caller::Request(k) => requests.get(k).is_some_and(|q| match q.policy {
            None => q.call == call,
            Some(p) => calls.get(p).is_some_and(|cs| cs.is_outstanding(call)),
        }),
        Caller::Job(k) => is_waiting(jobs, calls, k, call),
    }
}

/// True when job `k` is live and waiting on its call number `call`.
#[inline]
fn is_waiting(jobs: &Slab<Job>, calls: &Slab<CallState>, k: Key, call: u32) -> bool {
    jobs.get(k).is_some_and(|j| {
        j.state == JobState::Calling
            && match j.policy {
                None => j.call_seq == call,
                Some(p) => calls.get(p).is_some_and(|cs| cs.is_outstanding(call)),
            }
    })
}
