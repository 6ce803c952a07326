//! The discrete-event engine: time, an ordered event queue, random streams and a run loop.
//!
//! The engine knows nothing about services or networks. A model implements [`World`]; the
//! loop pops the earliest event, advances the clock to it and hands it to the world, which
//! changes its own state and schedules future events through the [`Scheduler`].
//!
//! Ordering contract: events pop by time, and events at the same time pop in the order they
//! were scheduled. Time never goes backwards: scheduling in the past is a bug and panics.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{SimRng, StreamId, StreamKind};
pub use time::{SimDuration, SimTime};

/// The simulated system as the engine sees it.
pub trait World {
    /// The closed set of things that can happen in this world: small plain values.
    type Event: Copy;

    /// Reacts to `event` at the current time `sched.now()`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>);
}

/// The clock and the pending events, handed to the world on every event.
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<E>,
    handled: u64,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    /// A scheduler at time zero with nothing pending.
    pub fn new() -> Self {
        Scheduler {
            now: SimTime::ZERO,
            queue: EventQueue::with_capacity(1024),
            handled: 0,
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` after `delay` from now.
    #[inline]
    pub fn after(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now + delay, event);
    }

    /// Schedules `event` at `time`, which must not be in the past.
    #[inline]
    pub fn at(&mut self, time: SimTime, event: E) {
        assert!(time >= self.now, "event scheduled in the past");
        self.queue.push(time, event);
    }

    /// Events handled so far.
    pub fn events_handled(&self) -> u64 {
        self.handled
    }

    /// Events still pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// Why a run loop returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// No event was left.
    Drained,
    /// The next event lies at or after the requested end time.
    ReachedTime,
    /// The event budget ran out with events still pending.
    BudgetExhausted,
}

/// Runs `world` until no events are left, the next event is at or after `until`, or
/// `budget` events have been handled in total.
pub fn run<W: World>(
    world: &mut W,
    sched: &mut Scheduler<W::Event>,
    until: SimTime,
    budget: u64,
) -> Stop {
    loop {
        if sched.handled >= budget {
            return match sched.queue.peek_time() {
                None => Stop::Drained,
                Some(t) if t >= until => Stop::ReachedTime,
                Some(_) => Stop::BudgetExhausted,
            };
        }
        let Some((time, event)) = sched.queue.pop_before(until) else {
            return if sched.queue.is_empty() {
                Stop::Drained
            } else {
                Stop::ReachedTime
            };
        };
        debug_assert!(time >= sched.now, "time went backwards");
        sched.now = time;
        sched.handled += 1;
        world.handle(event, sched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorder {
        seen: Vec<(u64, u32)>,
    }

    impl World for Recorder {
        type Event = u32;
        fn handle(&mut self, event: u32, sched: &mut Scheduler<u32>) {
            self.seen.push((sched.now().as_nanos(), event));
            if event == 0 {
                sched.after(SimDuration(5), 10);
                sched.after(SimDuration(0), 11);
            }
        }
    }

    #[test]
    fn loop_orders_by_time_then_scheduling_order() {
        let mut w = Recorder { seen: vec![] };
        let mut s = Scheduler::new();
        s.at(SimTime(5), 1);
        s.at(SimTime(0), 0);
        s.at(SimTime(5), 2);
        assert_eq!(run(&mut w, &mut s, SimTime::MAX, u64::MAX), Stop::Drained);
        assert_eq!(w.seen, vec![(0, 0), (0, 11), (5, 1), (5, 2), (5, 10)]);
    }

    #[test]
    fn budget_and_end_time_stop_the_loop() {
        let mut w = Recorder { seen: vec![] };
        let mut s = Scheduler::new();
        for i in 1..=4 {
            s.at(SimTime(i), i as u32);
        }
        assert_eq!(run(&mut w, &mut s, SimTime(3), u64::MAX), Stop::ReachedTime);
        assert_eq!(w.seen.len(), 2);
        assert_eq!(run(&mut w, &mut s, SimTime::MAX, 3), Stop::BudgetExhausted);
        assert_eq!(w.seen.len(), 3);
    }
}
