//! The discrete-event engine: time, an ordered event queue, random streams and a run loop.
//!
//! The engine knows nothing about services or networks. A model implements [`World`]; the
//! loop pops the earliest event, advances the clock to it and hands it to the world, which
//! changes its own state and schedules future events through the [`Scheduler`].
//!
//! Ordering contract: events pop by time, and events at the same time pop in the order they
//! were scheduled. Time never goes backwards: scheduling in the past is a bug and panics.

pub mod queue;
mod radix;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{SimRng, StreamId};
pub use time::{SimDuration, SimTime};

/// The simulated system as the engine sees it.
pub trait World {
    /// The closed set of things that can happen in this world: small plain values.
    type Event: Copy;

    /// Reacts to `event` at the current time `sched.now()`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>);

    /// How many things the world holds that grow with the work in flight (requests,
    /// timers), beside the pending events: checked against [`Limits::max_pending`].
    fn held(&self) -> usize {
        0
    }

    /// True when what the world records outgrew its bound (result rows): checked with
    /// [`Limits::max_pending`], it stops the run with [`Stop::Outgrown`].
    fn outgrown(&self) -> bool {
        false
    }
}

/// Bounds of one run, in simulated quantities only (never the wall clock), so that a run
/// stops at the same event on every machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most events handled in all.
    pub max_events: u64,
    /// Most pending events plus the world's [`World::held`] things at once: a bound on
    /// memory.
    pub max_pending: u64,
    /// Most events handled with the clock standing still (a zero-time loop).
    pub max_events_at_one_time: u64,
}

impl Limits {
    /// No bound at all.
    pub const NONE: Limits = Limits {
        max_events: u64::MAX,
        max_pending: u64::MAX,
        max_events_at_one_time: u64::MAX,
    };
}

/// How many events pass between two checks of [`Limits::max_pending`], of the clock
/// standing still and of [`World::outgrown`]: checks cost nothing per event, and a limit is noticed within this many
/// events of being passed (at the same event on every machine).
pub const CHECK_EVERY: u64 = 4096;

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
    /// More than [`Limits::max_pending`] events and held things at once.
    TooManyPending {
        /// How many there were.
        pending: u64,
        /// Events handled since the clock last moved (as of the last check).
        events_at_this_time: u64,
    },
    /// [`Limits::max_events_at_one_time`] events in a row without the clock moving.
    TimeStandsStill,
    /// The world's records outgrew their bound ([`World::outgrown`]).
    Outgrown,
}

/// Runs `world` until no events are left, the next event is at or after `until`, or a
/// limit is passed.
pub fn run<W: World>(
    world: &mut W,
    sched: &mut Scheduler<W::Event>,
    until: SimTime,
    limits: &Limits,
) -> Stop {
    // The clock's value at the last check, and the event count when it took that value.
    let mut still = (sched.now, sched.handled);
    let mut next_check = sched.handled.saturating_add(CHECK_EVERY);
    let mut stop_at = next_check.min(limits.max_events);
    loop {
        if sched.handled >= stop_at {
            if sched.handled >= limits.max_events {
                return match sched.queue.peek_time() {
                    None => Stop::Drained,
                    Some(t) if t >= until => Stop::ReachedTime,
                    Some(_) => Stop::BudgetExhausted,
                };
            }
            let pending = (sched.queue.len() + world.held()) as u64;
            if pending > limits.max_pending {
                let events_at_this_time = if sched.now == still.0 {
                    sched.handled - still.1
                } else {
                    0
                };
                return Stop::TooManyPending {
                    pending,
                    events_at_this_time,
                };
            }
            if world.outgrown() {
                return Stop::Outgrown;
            }
            if sched.now != still.0 {
                still = (sched.now, sched.handled);
            } else if sched.handled - still.1 >= limits.max_events_at_one_time {
                return Stop::TimeStandsStill;
            }
            next_check = sched.handled.saturating_add(CHECK_EVERY);
            stop_at = next_check.min(limits.max_events);
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

/// The next pending events, up to `n`, in the order they will be handled: for messages
/// about what a run was doing when it stopped.
pub fn upcoming<E: Copy>(sched: &Scheduler<E>, n: usize) -> Vec<(SimTime, E)> {
    sched.queue.earliest(n)
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
        assert_eq!(
            run(&mut w, &mut s, SimTime::MAX, &Limits::NONE),
            Stop::Drained
        );
        assert_eq!(w.seen, vec![(0, 0), (0, 11), (5, 1), (5, 2), (5, 10)]);
    }

    #[test]
    fn budget_and_end_time_stop_the_loop() {
        let mut w = Recorder { seen: vec![] };
        let mut s = Scheduler::new();
        for i in 1..=4 {
            s.at(SimTime(i), i as u32);
        }
        assert_eq!(
            run(&mut w, &mut s, SimTime(3), &Limits::NONE),
            Stop::ReachedTime
        );
        assert_eq!(w.seen.len(), 2);
        let three = Limits {
            max_events: 3,
            ..Limits::NONE
        };
        assert_eq!(
            run(&mut w, &mut s, SimTime::MAX, &three),
            Stop::BudgetExhausted
        );
        assert_eq!(w.seen.len(), 3);
    }

    /// Every event schedules two more at the same time: the clock never moves and the
    /// queue doubles.
    struct Zeno;

    impl World for Zeno {
        type Event = u32;
        fn handle(&mut self, event: u32, sched: &mut Scheduler<u32>) {
            sched.after(SimDuration::ZERO, event);
            if event == 1 {
                sched.after(SimDuration::ZERO, event);
            }
        }
    }

    #[test]
    fn a_clock_standing_still_and_a_growing_queue_stop_at_the_same_event_every_time() {
        let limits = Limits {
            max_events_at_one_time: 100_000,
            ..Limits::NONE
        };
        let stop = |event: u32, limits: &Limits| {
            let mut s = Scheduler::new();
            s.at(SimTime(7), event);
            let r = run(&mut Zeno, &mut s, SimTime::MAX, limits);
            (r, s.events_handled(), s.now())
        };
        let (r, handled, now) = stop(0, &limits);
        assert_eq!(r, Stop::TimeStandsStill);
        assert_eq!(now, SimTime(7));
        // Noticed at the first check past the limit.
        assert!(
            (100_000..100_000 + 2 * CHECK_EVERY).contains(&handled),
            "{handled}"
        );
        assert_eq!(stop(0, &limits), (r, handled, now), "deterministic");
        let growing = Limits {
            max_pending: 50_000,
            ..Limits::NONE
        };
        let (r, handled, _) = stop(1, &growing);
        assert!(
            matches!(r, Stop::TooManyPending { pending, events_at_this_time } if pending > 50_000 && events_at_this_time > 40_000),
            "{r:?}"
        );
        assert!(handled < 50_000 + 2 * CHECK_EVERY, "{handled}");
    }
}
