//! Calls between callers and services: sending with a timeout, answering, and deciding
//! which of an answer and a timeout came first.

use super::event::{Caller, Event};
use super::network::{Leg, Node};
use super::{Job, JobState, Model};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::outcome::Outcome;

impl Model<'_> {
    /// Sends call number `call` of `caller` over `edge` to the callee's next replica in
    /// round-robin order; the caller gives up when its timer on `lane` expires.
    pub(super) fn dispatch(
        &mut self,
        caller: Caller,
        call: u32,
        edge: u32,
        lane: u32,
        sched: &mut Scheduler<Event>,
    ) {
        self.timers.arm(lane, caller, call, sched);
        let e = &mut self.topology.edges[edge as usize];
        let service = e.target as usize;
        let count = self.scenario.services[service].replicas;
        let replica = self.first_replica[service] + e.cursor % count;
        e.cursor = e.cursor.wrapping_add(1);
        let from = self.caller_node(caller).expect("a live caller sends");
        let Some(delay) = self.transit(edge, from, Node::Replica(replica), Leg::Request) else {
            return; // lost on the way: only the timeout will tell
        };
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
        });
        if delay == SimDuration::ZERO {
            self.deliver(job, sched);
        } else {
            sched.after(delay, Event::Deliver { job });
        }
    }

    /// Where a caller sits on the network, if it is still live.
    fn caller_node(&self, caller: Caller) -> Option<Node> {
        match caller {
            Caller::Request(k) => self.requests.get(k).map(|q| Node::Client(q.client)),
            Caller::Job(k) => self.jobs.get(k).map(|j| Node::Replica(j.replica)),
        }
    }

    /// Sends the answer of finished job `job` back to its caller.
    pub(super) fn reply(&mut self, job: &Job, outcome: Outcome, sched: &mut Scheduler<Event>) {
        // A caller that is gone (timed out and ended, or killed) listens to nothing.
        let Some(to) = self.caller_node(job.caller) else {
            return;
        };
        let Some(delay) = self.transit(job.edge, Node::Replica(job.replica), to, Leg::Response)
        else {
            return; // lost on the way back: the work is done, the caller never hears of it
        };
        let (to, call) = (job.caller, job.caller_call);
        if delay == SimDuration::ZERO {
            self.receive(to, call, outcome, sched);
        } else {
            sched.after(delay, Event::Reply { to, call, outcome });
        }
    }

    /// An answer reaches its caller, unless it is stale.
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
                    self.end_request(k, outcome, sched);
                }
            }
            Caller::Job(k) => {
                if !self.is_waiting(k, call) {
                    return;
                }
                if self.park_if_hung(k, Event::Reply { to, call, outcome }) {
                    return;
                }
                if outcome.is_success() {
                    self.next_call(k, sched);
                } else {
                    // A failed call fails the caller's request with an error.
                    self.complete(k, Outcome::Error, sched);
                }
            }
        }
    }

    /// A call's timeout fires; it matters only if the call is still unanswered.
    pub(super) fn timeout(&mut self, to: Caller, call: u32, sched: &mut Scheduler<Event>) {
        match to {
            Caller::Request(k) => {
                if self.is_open(to, call) {
                    self.end_request(k, Outcome::Timeout, sched);
                }
            }
            Caller::Job(k) => {
                if !self.is_waiting(k, call) || self.park_if_hung(k, Event::Timeout { to, call }) {
                    return;
                }
                // The service gives up on its dependency and answers its own caller with an error.
                self.complete(k, Outcome::Error, sched);
            }
        }
    }

    /// The timers of `lane` may be due: time out the due calls still open, drop the
    /// answered ones from the front, and re-arm for the first one still waiting.
    pub(super) fn timers_due(&mut self, lane: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if !self.timers.begin(lane, now) {
            return;
        }
        while let Some((caller, call)) = self.timers.pop_due(lane, now) {
            self.timeout(caller, call, sched);
        }
        while let Some((caller, call)) = self.timers.front(lane) {
            if self.is_open(caller, call) {
                break;
            }
            self.timers.drop_front(lane);
        }
        self.timers.finish(lane, sched);
    }

    /// True when `caller` still waits on its call number `call`.
    fn is_open(&self, caller: Caller, call: u32) -> bool {
        match caller {
            Caller::Request(k) => self.requests.get(k).is_some_and(|q| q.call == call),
            Caller::Job(k) => self.is_waiting(k, call),
        }
    }

    /// True when job `k` is live and waiting on its call number `call`.
    fn is_waiting(&self, k: super::slab::Key, call: u32) -> bool {
        self.jobs
            .get(k)
            .is_some_and(|j| j.state == JobState::Calling && j.call_seq == call)
    }

    /// A frozen process handles nothing: the event waits for the hang to end.
    fn park_if_hung(&mut self, k: super::slab::Key, event: Event) -> bool {
        let replica = self.jobs.live(k).replica as usize;
        let r = &mut self.replicas[replica];
        if r.is_hung() {
            r.parked.push((SimDuration::ZERO, event));
            true
        } else {
            false
        }
    }
}
