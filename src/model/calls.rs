//! Calls between callers and services: sending with a timeout, answering, and deciding
//! which of an answer and a timeout came first.

use super::balancer::SentTo;
use super::event::{Caller, Event};
use super::ids::{BalancerId, EdgeId, LaneId, ReplicaId, ServiceId};
use super::network::{Leg, Node};
use super::slab::Key;
use super::topology::Target;
use super::waiter::{TimerTag, Waiting, is_open};
use super::{Job, JobState, Model, Parent};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::outcome::Outcome;
use crate::trace::StepKind;

impl Model<'_> {
    /// Sends attempt number `attempt` of `caller` over `edge` to the callee's next replica in
    /// round-robin order; the caller gives up when its timer on `lane` expires.
    #[inline(always)]
    pub(super) fn dispatch(
        &mut self,
        caller: Caller,
        attempt: u32,
        edge: EdgeId,
        lane: LaneId,
        balancer: BalancerId,
        sched: &mut Scheduler<Event>,
    ) {
        self.dispatch_with(
            caller,
            attempt,
            edge,
            lane,
            balancer,
            SimTime::MAX,
            0,
            sched,
        );
    }

    /// [`Model::dispatch`] for an attempt whose callee must drop it, unserved, when a worker
    /// would take it up at or after `give_up_at` (deadline propagation; `SimTime::MAX` for
    /// none), and that should avoid the replicas in `avoid` (see [`Model::pick_replica`]).
    /// Returns the callee's replica chosen (its position among the service's replicas).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dispatch_with(
        &mut self,
        caller: Caller,
        attempt: u32,
        edge: EdgeId,
        lane: LaneId,
        balancer: BalancerId,
        give_up_at: SimTime,
        avoid: u64,
        sched: &mut Scheduler<Event>,
    ) -> u32 {
        self.timers
            .arm(lane, caller, TimerTag::Attempt(attempt), sched);
        match self.topology.edges[edge].target {
            Target::Service(service) => {
                let now = sched.now();
                let (replica, offset, tracks) =
                    self.pick_replica(caller, balancer, service, avoid, now);
                if tracks {
                    let to = SentTo::new(balancer, offset, now);
                    self.note_sent(caller, attempt, to);
                }
                self.send_to_replica(caller, attempt, edge, replica, give_up_at, sched);
                offset
            }
            Target::Queue(queue) => {
                self.send_to_queue(caller, attempt, edge, queue, sched);
                0
            }
        }
    }

    /// The replica of `service` that `balancer` chooses for an attempt sent `now`, with
    /// its position among the service's replicas and whether the balancer tracks attempts,
    /// avoiding the replicas in `avoid` if it can.
    #[inline(always)]
    fn pick_replica(
        &mut self,
        caller: Caller,
        balancer: BalancerId,
        service: ServiceId,
        avoid: u64,
        now: SimTime,
    ) -> (ReplicaId, u32, bool) {
        let s = &self.services[service];
        let unhealthy = self.health.unhealthy(service);
        let (requests, jobs) = (&self.requests, &self.jobs);
        let key = || match caller {
            Caller::Request(k) => requests.live(k).key,
            Caller::Job(k) => jobs.live(k).key,
        };
        let (offset, tracks) = self
            .balancers
            .pick(balancer, s.replicas, avoid, now, unhealthy, key);
        (s.first_replica.plus(offset), offset, tracks)
    }

    /// Sends attempt `attempt` of `caller` over `edge` to `replica`, as a new job: it
    /// arrives after the hop's latency, or is lost on the way.
    #[inline(always)]
    fn send_to_replica(
        &mut self,
        caller: Caller,
        attempt: u32,
        edge: EdgeId,
        replica: ReplicaId,
        give_up_at: SimTime,
        sched: &mut Scheduler<Event>,
    ) {
        let ends = |m: &Self| {
            let from = m.caller_node(caller).expect("a live caller sends");
            (from, Node::Replica(replica))
        };
        let Some(delay) = self.transit(edge, ends, Leg::Request) else {
            if self.trace.is_some() {
                let entry = self.call_entry(caller);
                if let Some(t) = self.trace.as_deref_mut() {
                    t.attempt_sent(sched.now(), caller, attempt, replica.index(), entry, None);
                }
            }
            return; // lost on the way: only the timeout will tell
        };
        let idem_key = self.idem.as_ref().and_then(|t| match caller {
            Caller::Request(k) => t.request_key(k.slot()),
            Caller::Job(k) => t.call_key(k.slot(), self.jobs.live(k).entries_made - 1),
        });
        // The request's key goes down the call tree (only kept when some balancer hashes).
        let key = match caller {
            _ if !self.keyed => 0,
            Caller::Request(k) => self.requests.live(k).key,
            Caller::Job(k) => self.jobs.live(k).key,
        };
        // So does its priority (looked up only when some client has one).
        let priority = match caller {
            _ if !self.prioritized => crate::scenario::Priority::Default,
            Caller::Request(k) => self.requests.live(k).priority,
            Caller::Job(k) => self.jobs.live(k).priority,
        };
        let job = self.jobs.insert(Job {
            key,
            priority,
            pool: 0,
            caller: Parent::Call(caller),
            answers: attempt,
            edge,
            replica,
            state: JobState::InTransit,
            entries_made: 0,
            waiting: Waiting::default(),
            arrived_at: SimTime::ZERO,
            pause_mark: SimDuration::ZERO,
            give_up_at,
            shed_at: SimTime::MAX,
            degraded: false,
        });
        if let (Some(t), Some(key)) = (&mut self.idem, idem_key) {
            t.job_created(job.slot(), key);
        }
        if self.trace.is_some() {
            let entry = self.call_entry(caller);
            if let Some(t) = self.trace.as_deref_mut() {
                t.attempt_sent(
                    sched.now(),
                    caller,
                    attempt,
                    replica.index(),
                    entry,
                    Some(job),
                );
            }
        }
        if delay == SimDuration::ZERO {
            self.deliver(job, sched);
        } else {
            sched.after(delay, Event::Deliver { job });
        }
    }

    /// The call entry a caller's attempt belongs to: 0 for a client's request, the number
    /// of call entries made so far for a job (its current one), for tracing.
    #[cold]
    fn call_entry(&self, caller: Caller) -> u32 {
        match caller {
            Caller::Request(_) => 0,
            Caller::Job(k) => self.jobs.get(k).map_or(0, |j| j.entries_made),
        }
    }

    /// Where a caller sits on the network, if it is still live.
    #[inline]
    pub(super) fn caller_node(&self, caller: Caller) -> Option<Node> {
        match caller {
            Caller::Request(k) => self.requests.get(k).map(|q| Node::Client(q.client)),
            Caller::Job(k) => self.jobs.get(k).map(|j| Node::Replica(j.replica)),
        }
    }

    /// Sends the answer of finished job `job` back to its caller.
    #[inline(always)]
    pub(super) fn reply(&mut self, job: &Job, outcome: Outcome, sched: &mut Scheduler<Event>) {
        let caller = match job.caller {
            Parent::Call(caller) => caller,
            Parent::Delivery(m) => {
                self.delivery_done(m, job.answers, outcome, sched.now());
                return;
            }
        };
        // A caller that is gone (timed out and ended, or killed) listens to nothing.
        let Some(to) = self.caller_node(caller) else {
            return;
        };
        let ends = |_: &Self| (Node::Replica(job.replica), to);
        let Some(delay) = self.transit(job.edge, ends, Leg::Response) else {
            return; // lost on the way back: the work is done, the caller never hears of it
        };
        let (to, attempt) = (caller, job.answers);
        if delay == SimDuration::ZERO {
            self.receive(to, attempt, outcome, sched);
        } else {
            sched.after(delay, Event::reply(to, attempt, outcome));
        }
    }

    /// An answer reaches its caller, unless it is stale.
    #[inline(always)]
    pub(super) fn receive(
        &mut self,
        to: Caller,
        attempt: u32,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        match to {
            Caller::Request(k) => {
                if self.is_open(to, TimerTag::Attempt(attempt)) {
                    if let Some(t) = self.trace.as_deref_mut() {
                        t.step(sched.now(), to, StepKind::Answer(attempt, outcome));
                    }
                    if self.requests.live(k).waiting.policy.is_some() {
                        self.attempt_done(to, attempt, outcome, sched);
                    } else {
                        self.end_request(k, outcome, sched);
                    }
                }
            }
            Caller::Job(k) => self.receive_at_job(k, attempt, outcome, sched),
        }
    }

    /// [`Model::receive`] for a job that called downstream: it goes on with its next call,
    /// or fails. (Kept out of line: it closes the loop job -> call -> job, so inlining stops
    /// here.)
    #[inline(never)]
    fn receive_at_job(
        &mut self,
        k: Key,
        attempt: u32,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        if !self.is_waiting(k, attempt) {
            return;
        }
        if self.park_if_hung(k, Event::reply(Caller::Job(k), attempt, outcome)) {
            return;
        }
        if let Some(t) = self.trace.as_deref_mut() {
            t.step(
                sched.now(),
                Caller::Job(k),
                StepKind::Answer(attempt, outcome),
            );
        }
        if self.jobs.live(k).waiting.policy.is_some() {
            self.attempt_done(Caller::Job(k), attempt, outcome, sched);
            return;
        }
        self.settle_plain(Caller::Job(k), Some(outcome), sched.now());
        if outcome.is_success() {
            self.next_call(k, sched);
        } else {
            // A failed call fails the caller's request with an error.
            self.complete(k, Outcome::Error, sched);
        }
    }

    /// A timer fires: an attempt's timeout or a logical call's deadline; it matters only if
    /// what it stands for is still unsettled.
    pub(super) fn timeout(&mut self, to: Caller, tag: TimerTag, sched: &mut Scheduler<Event>) {
        if !self.is_open(to, tag) {
            return;
        }
        if let Caller::Job(k) = to
            && self.park_if_hung(k, Event::timeout(k, tag))
        {
            return;
        }
        if let Some(t) = self.trace.as_deref_mut() {
            let kind = match tag {
                TimerTag::Attempt(a) => StepKind::Timeout(a),
                TimerTag::Deadline(_) => StepKind::Deadline,
            };
            t.step(sched.now(), to, kind);
        }
        let has_policy = self.policy_key(to).is_some();
        match (tag, to) {
            (TimerTag::Deadline(_), _) => self.deadline_passed(to, sched),
            (TimerTag::Attempt(attempt), _) if has_policy => {
                self.attempt_done(to, attempt, Outcome::Timeout, sched)
            }
            (_, Caller::Request(k)) => self.end_request(k, Outcome::Timeout, sched),
            // The service gives up on its dependency and answers its own caller with an error.
            (_, Caller::Job(k)) => {
                self.settle_plain(to, Some(Outcome::Timeout), sched.now());
                self.complete(k, Outcome::Error, sched)
            }
        }
    }

    /// The timers of `lane` may be due: time out the due calls still open, drop the
    /// answered ones from the front, and re-arm for the first one still waiting.
    pub(super) fn timers_due(&mut self, lane: LaneId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if !self.timers.begin(lane, now) {
            return;
        }
        while let Some((caller, tag)) = self.timers.pop_due(lane, now) {
            self.timeout(caller, tag, sched);
        }
        let (requests, jobs, calls) = (&self.requests, &self.jobs, &self.policy_calls);
        self.timers.drop_answered(lane, |caller, tag| {
            !is_open(requests, jobs, calls, caller, tag)
        });
        self.timers.finish(lane, sched);
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
