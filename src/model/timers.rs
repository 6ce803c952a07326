//! Timeouts without a heap event per call: one FIFO lane per distinct timeout length.
//!
//! Every call arms a timer, and almost every timer is cancelled by its answer long before it
//! would fire. Calls with the same timeout length expire in the order they were made, so each
//! lane is a FIFO of (deadline, caller, tag) and only its front needs an event in the queue.
//! When that event fires, due entries time out (if their call is still open), answered ones
//! are dropped, and the lane re-arms for its first entry still waiting. A lane costs one
//! queue event per open front, not one per call, and never allocates once it has grown to
//! the number of calls in flight.

use super::event::{Caller, Event};
use super::ids::{IdVec, LaneId};
use super::waiter::TimerTag;
use crate::engine::{Scheduler, SimDuration, SimTime};
use std::collections::VecDeque;

/// The timers of one timeout length.
pub struct TimerLane {
    duration: SimDuration,
    entries: VecDeque<(SimTime, Caller, TimerTag)>,
    /// The time of this lane's event in the queue, if one is there. Invariant: when the lane
    /// is not empty, an event is armed at or before the front's deadline.
    armed_at: Option<SimTime>,
}

/// All timer lanes of a run.
#[derive(Default)]
pub struct Timers {
    lanes: IdVec<LaneId, TimerLane>,
}

impl Timers {
    /// The lane for timeouts of length `duration`, created on first use.
    pub fn lane_for(&mut self, duration: SimDuration) -> LaneId {
        if let Some((lane, _)) = self.lanes.enumerate().find(|(_, l)| l.duration == duration) {
            return lane;
        }
        self.lanes.push(TimerLane {
            duration,
            entries: VecDeque::with_capacity(256),
            armed_at: None,
        })
    }

    /// Timers armed on every lane, answered or not (answered ones leave when they reach the
    /// front of their lane).
    pub fn armed(&self) -> usize {
        self.lanes.iter().map(|l| l.entries.len()).sum()
    }

    /// Arms a timer on `lane` for what `tag` stands for on `caller`, from now.
    #[inline]
    pub fn arm(
        &mut self,
        lane: LaneId,
        caller: Caller,
        tag: TimerTag,
        sched: &mut Scheduler<Event>,
    ) {
        let l = &mut self.lanes[lane];
        let deadline = sched.now() + l.duration;
        l.entries.push_back((deadline, caller, tag));
        if l.armed_at.is_none() {
            l.armed_at = Some(deadline);
            sched.at(deadline, Event::TimersDue { lane });
        }
    }

    /// Starts handling the lane's event fired now; false if the event is stale.
    pub fn begin(&mut self, lane: LaneId, now: SimTime) -> bool {
        self.lanes[lane].armed_at == Some(now)
    }

    /// The lane's front entry, removed if it is due by `now`.
    #[inline]
    pub fn pop_due(&mut self, lane: LaneId, now: SimTime) -> Option<(Caller, TimerTag)> {
        let l = &mut self.lanes[lane];
        match l.entries.front() {
            Some(&(deadline, caller, tag)) if deadline <= now => {
                l.entries.pop_front();
                Some((caller, tag))
            }
            _ => None,
        }
    }

    /// Drops the lane's front entries as long as `settled` says what they stand for is
    /// settled.
    #[inline]
    pub fn drop_answered(
        &mut self,
        lane: LaneId,
        mut settled: impl FnMut(Caller, TimerTag) -> bool,
    ) {
        let entries = &mut self.lanes[lane].entries;
        while let Some(&(_, caller, tag)) = entries.front() {
            if !settled(caller, tag) {
                break;
            }
            entries.pop_front();
        }
    }

    /// Ends handling: arms the lane for its front entry, if any.
    pub fn finish(&mut self, lane: LaneId, sched: &mut Scheduler<Event>) {
        let l = &mut self.lanes[lane];
        l.armed_at = l.entries.front().map(|&(deadline, _, _)| deadline);
        if let Some(deadline) = l.armed_at {
            sched.at(deadline, Event::TimersDue { lane });
        }
    }
}

#[cfg(test)]
#[path = "timers_tests.rs"]
mod tests;
