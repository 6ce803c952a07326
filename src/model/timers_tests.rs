//! Unit tests of the timer lanes: lanes per timeout length, FIFO expiry, one queue event per
//! open front, answered timers dropped without waking, stale lane events ignored.

use super::*;
use crate::engine::{Limits, Stop, World, run, upcoming};
use crate::model::ids::{ClientId, EntryId, Id};
use crate::model::slab::{Key, Slab};

const MS: u64 = 1_000_000;

/// Bounds that turn a lane looping at one time into a failed run instead of a hung test.
const LIMITS: Limits = Limits {
    max_events: 1_000_000,
    max_pending: 100_000,
    max_events_at_one_time: 10_000,
};

/// `n` distinct slab keys, to stand for callers.
fn keys(n: usize) -> Vec<Key> {
    let mut slab = Slab::new();
    (0..n).map(|i| slab.insert(i as u32)).collect()
}

/// A caller and what its timer stands for.
type Timer = (Caller, TimerTag);

/// What the harness does when its command event (`Send { client: i }`) fires.
#[derive(Clone, Copy)]
enum Action {
    /// Arms a timer on a lane, now.
    Arm(LaneId, Timer),
    /// What the timer stands for is settled (answered) now.
    Answer(Timer),
}

/// Drives timer lanes through the engine the way the model does (`Model::timers_due`):
/// `Send { client: i }` runs `script[i]`, and `TimersDue` runs `begin`, `pop_due`,
/// `drop_answered` and `finish`. After every event it checks the lanes' invariant, and
/// that a lane woken for its front finds it due.
struct Harness {
    timers: Timers,
    script: Vec<Action>,
    answered: Vec<Timer>,
    /// Timers that fired while still open: (time, timer).
    fired: Vec<(SimTime, Timer)>,
    /// Every lane event handled: (time, lane, accepted by `begin`).
    wakeups: Vec<(SimTime, LaneId, bool)>,
    /// Also check that a lane never has more than one event in the queue.
    one_event_per_lane: bool,
}

impl Harness {
    fn new(script: Vec<Action>) -> Self {
        Harness {
            timers: Timers::default(),
            script,
            answered: Vec::new(),
            fired: Vec::new(),
            wakeups: Vec::new(),
            one_event_per_lane: true,
        }
    }

    /// Schedules the script's actions at their times (`times[i]` for `script[i]`).
    fn schedule(&self, times: &[u64], sched: &mut Scheduler<Event>) {
        assert_eq!(times.len(), self.script.len());
        for (i, &t) in times.iter().enumerate() {
            sched.at(
                SimTime(t),
                Event::Send {
                    client: ClientId::from_index(i),
                },
            );
        }
    }

    /// The documented invariant: a non-empty lane has an event armed at or before its
    /// front's deadline, and that event is in the queue.
    fn check(&self, sched: &Scheduler<Event>) {
        let pending = upcoming(sched, sched.pending());
        for (lane, l) in self.timers.lanes.enumerate() {
            let lane_events = pending
                .iter()
                .filter(|(_, e)| *e == Event::TimersDue { lane })
                .count();
            if self.one_event_per_lane {
                assert!(lane_events <= 1, "lane {lane:?} has {lane_events} events");
            }
            let Some(&(front, _, _)) = l.entries.front() else {
                continue;
            };
            let at = l.armed_at.expect("a non-empty lane is armed");
            assert!(at <= front, "armed at {at}, front due at {front}");
            assert!(
                pending.contains(&(at, Event::TimersDue { lane })),
                "the lane's event at {at} is in the queue"
            );
        }
    }
}

impl World for Harness {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        match event {
            Event::Send { client } => match self.script[client.index()] {
                Action::Arm(lane, (caller, tag)) => self.timers.arm(lane, caller, tag, sched),
                Action::Answer(timer) => self.answered.push(timer),
            },
            Event::TimersDue { lane } => {
                let accepted = self.timers.begin(lane, now);
                self.wakeups.push((now, lane, accepted));
                if accepted {
                    let mut popped = 0;
                    while let Some(timer) = self.timers.pop_due(lane, now) {
                        popped += 1;
                        if !self.answered.contains(&timer) {
                            self.fired.push((now, timer));
                        }
                    }
                    assert!(popped > 0, "lane {lane:?} woke at {now} with nothing due");
                    let answered = &self.answered;
                    self.timers
                        .drop_answered(lane, |c, t| answered.contains(&(c, t)));
                    self.timers.finish(lane, sched);
                }
            }
            other => panic!("unexpected event {other:?}"),
        }
        self.check(sched);
    }
}

/// One lane per distinct timeout length, numbered in order of first use; asking again for
/// a length gives its existing lane.
#[test]
fn lane_for_gives_one_lane_per_timeout_length() {
    let mut t = Timers::default();
    let slow = t.lane_for(SimDuration::from_millis(100));
    let fast = t.lane_for(SimDuration::from_millis(30));
    assert_eq!((slow.index(), fast.index()), (0, 1));
    assert_eq!(t.lane_for(SimDuration::from_millis(100)), slow);
    assert_eq!(t.lane_for(SimDuration::from_millis(30)), fast);
    assert_eq!(t.lane_for(SimDuration::from_secs(1)).index(), 2);
    assert_eq!(t.lanes.len(), 3);
    assert_eq!(t.armed(), 0);
}

/// Many calls on one lane cost one queue event (for the front), not one per call; a second
/// lane gets its own; `armed` counts every timer.
#[test]
fn a_lane_has_one_queue_event_however_many_calls_it_holds() {
    let k = keys(4);
    let mut h = Harness::new(Vec::new());
    let slow = h.timers.lane_for(SimDuration::from_millis(100));
    let fast = h.timers.lane_for(SimDuration::from_millis(30));
    h.script = vec![
        Action::Arm(slow, (Caller::Request(k[0]), TimerTag::Attempt(1))),
        Action::Arm(slow, (Caller::Request(k[1]), TimerTag::Attempt(1))),
        Action::Arm(slow, (Caller::Job(k[2]), TimerTag::Attempt(3))),
        Action::Arm(fast, (Caller::Job(k[3]), TimerTag::Attempt(1))),
    ];
    let mut s = Scheduler::new();
    h.schedule(&[0, 10 * MS, 20 * MS, 25 * MS], &mut s);
    assert_eq!(
        run(&mut h, &mut s, SimTime(26 * MS), &LIMITS),
        Stop::ReachedTime
    );
    assert_eq!(h.timers.armed(), 4);
    assert_eq!(
        upcoming(&s, 10),
        vec![
            (SimTime(55 * MS), Event::TimersDue { lane: fast }),
            (SimTime(100 * MS), Event::TimersDue { lane: slow }),
        ]
    );
    assert_eq!(run(&mut h, &mut s, SimTime::MAX, &LIMITS), Stop::Drained);
    // One wake-up per timer that fired, none in between.
    let woke: Vec<(u64, usize)> = h
        .wakeups
        .iter()
        .map(|&(t, lane, ok)| {
            assert!(ok, "no stale events");
            (t.as_nanos() / MS, lane.index())
        })
        .collect();
    assert_eq!(woke, vec![(55, 1), (100, 0), (110, 0), (120, 0)]);
    assert_eq!(h.fired.len(), 4);
    assert_eq!(h.timers.armed(), 0);
}

/// Unanswered timers fire exactly at their deadlines (arm time plus the lane's length), in
/// arming order within a lane, lanes interleaving by time; tags come back as armed.
#[test]
fn unanswered_timers_fire_at_their_deadlines_in_fifo_order() {
    let k = keys(4);
    let mut h = Harness::new(Vec::new());
    let slow = h.timers.lane_for(SimDuration::from_millis(100));
    let fast = h.timers.lane_for(SimDuration::from_millis(30));
    let a = (Caller::Request(k[0]), TimerTag::Attempt(1));
    let b = (
        Caller::Job(k[1]),
        TimerTag::Deadline(EntryId::from_index(2)),
    );
    let c = (Caller::Job(k[2]), TimerTag::Attempt(7));
    let d = (
        Caller::Request(k[3]),
        TimerTag::Deadline(EntryId::from_index(0)),
    );
    h.script = vec![
        Action::Arm(slow, a),
        Action::Arm(fast, b),
        Action::Arm(slow, c),
        Action::Arm(fast, d),
    ];
    let mut s = Scheduler::new();
    h.schedule(&[0, 5 * MS, 10 * MS, 50 * MS], &mut s);
    assert_eq!(run(&mut h, &mut s, SimTime::MAX, &LIMITS), Stop::Drained);
    assert_eq!(
        h.fired,
        vec![
            (SimTime(35 * MS), b),
            (SimTime(80 * MS), d),
            (SimTime(100 * MS), a),
            (SimTime(110 * MS), c),
        ]
    );
}

/// Answered timers never fire: a due one is popped and ignored, answered ones behind the
/// front are dropped without a wake-up of their own, and the lane re-arms for the first
/// timer still waiting; an emptied lane arms nothing.
#[test]
fn answered_timers_are_dropped_and_the_lane_rearms_for_the_first_still_waiting() {
    let k = keys(4);
    let mut h = Harness::new(Vec::new());
    let lane = h.timers.lane_for(SimDuration::from_millis(100));
    let t: Vec<Timer> = k
        .iter()
        .map(|&key| (Caller::Job(key), TimerTag::Attempt(1)))
        .collect();
    h.script = vec![
        Action::Arm(lane, t[0]),
        Action::Arm(lane, t[1]),
        Action::Arm(lane, t[2]),
        Action::Arm(lane, t[3]),
        Action::Answer(t[0]),
        Action::Answer(t[1]),
        Action::Answer(t[3]),
    ];
    let mut s = Scheduler::new();
    h.schedule(
        &[0, 10 * MS, 20 * MS, 30 * MS, 5 * MS, 15 * MS, 40 * MS],
        &mut s,
    );
    assert_eq!(run(&mut h, &mut s, SimTime::MAX, &LIMITS), Stop::Drained);
    assert_eq!(h.fired, vec![(SimTime(120 * MS), t[2])]);
    // Woken at t[0]'s deadline (popped, answered), then straight at t[2]'s: t[1] (due at
    // 110ms) was dropped at 100ms, t[3] at 120ms.
    assert_eq!(
        h.wakeups,
        vec![
            (SimTime(100 * MS), lane, true),
            (SimTime(120 * MS), lane, true)
        ]
    );
    assert_eq!(h.timers.armed(), 0);
    assert_eq!(h.timers.lanes[lane].armed_at, None);
}

/// A lane event at any time other than the one the lane is armed for is stale: `begin`
/// refuses it, so nothing is popped early, and the real event still fires on time.
#[test]
fn stale_lane_events_are_ignored_by_begin() {
    let k = keys(2);
    let mut t = Timers::default();
    let lane = t.lane_for(SimDuration::from_millis(100));
    let other = t.lane_for(SimDuration::from_millis(50));
    assert!(!t.begin(lane, SimTime::ZERO), "a lane never armed");
    let mut s = Scheduler::new();
    t.arm(lane, Caller::Job(k[0]), TimerTag::Attempt(1), &mut s);
    assert!(!t.begin(lane, SimTime(50 * MS)));
    assert!(!t.begin(other, SimTime(100 * MS)), "another lane's time");
    assert!(t.begin(lane, SimTime(100 * MS)));

    // Through the engine: a stray lane event at 50ms is refused and changes nothing.
    let mut h = Harness::new(Vec::new());
    let lane = h.timers.lane_for(SimDuration::from_millis(100));
    let a = (Caller::Request(k[0]), TimerTag::Attempt(1));
    let b = (Caller::Request(k[1]), TimerTag::Attempt(1));
    h.script = vec![Action::Arm(lane, a), Action::Arm(lane, b)];
    h.one_event_per_lane = false;
    let mut s = Scheduler::new();
    h.schedule(&[0, 20 * MS], &mut s);
    s.at(SimTime(50 * MS), Event::TimersDue { lane });
    s.at(SimTime(110 * MS), Event::TimersDue { lane });
    assert_eq!(run(&mut h, &mut s, SimTime::MAX, &LIMITS), Stop::Drained);
    assert_eq!(
        h.wakeups,
        vec![
            (SimTime(50 * MS), lane, false),
            (SimTime(100 * MS), lane, true),
            // Stale: the lane was re-armed for b at 120ms.
            (SimTime(110 * MS), lane, false),
            (SimTime(120 * MS), lane, true),
        ]
    );
    assert_eq!(
        h.fired,
        vec![(SimTime(100 * MS), a), (SimTime(120 * MS), b)]
    );
}

/// `pop_due` hands out only the front, only once due (at or after its deadline), in
/// arming order; `drop_answered` stops at the first unsettled timer without looking past
/// it.
#[test]
fn pop_due_and_drop_answered_work_on_the_front_only() {
    let k = keys(4);
    let mut t = Timers::default();
    let lane = t.lane_for(SimDuration::from_millis(100));
    let mut s = Scheduler::new();
    let timers: Vec<Timer> = vec![
        (Caller::Job(k[0]), TimerTag::Attempt(1)),
        (
            Caller::Job(k[1]),
            TimerTag::Deadline(EntryId::from_index(1)),
        ),
        (Caller::Request(k[2]), TimerTag::Attempt(2)),
        (Caller::Request(k[3]), TimerTag::Attempt(5)),
    ];
    for &(caller, tag) in &timers {
        t.arm(lane, caller, tag, &mut s);
    }
    assert_eq!(s.pending(), 1, "one event for the lane");
    assert_eq!(t.pop_due(lane, SimTime(100 * MS - 1)), None, "not yet due");
    assert_eq!(t.pop_due(lane, SimTime(100 * MS)), Some(timers[0]));
    assert_eq!(t.armed(), 3);

    // Settled: k[1] and k[3]; k[2] is not, so k[3] is never asked about.
    let mut asked = Vec::new();
    t.drop_answered(lane, |caller, tag| {
        asked.push((caller, tag));
        caller != timers[2].0
    });
    assert_eq!(asked, vec![timers[1], timers[2]]);
    assert_eq!(t.armed(), 2);
    assert_eq!(t.pop_due(lane, SimTime(100 * MS)), Some(timers[2]));
    assert_eq!(t.pop_due(lane, SimTime(100 * MS)), Some(timers[3]));
    assert_eq!(t.pop_due(lane, SimTime(100 * MS)), None, "empty");
    assert_eq!(t.armed(), 0);
}

/// A longer mixed run over three lanes: every timer fires exactly at its deadline if and
/// only if it was not answered before then, the lanes' invariant holds after every event,
/// no lane event is stale, and there are fewer wake-ups than timers.
#[test]
fn many_timers_fire_exactly_when_unanswered_by_their_deadline() {
    const N: usize = 300;
    let k = keys(N);
    let mut h = Harness::new(Vec::new());
    let lengths = [7 * MS, 20 * MS, 45 * MS];
    let lanes: Vec<LaneId> = lengths
        .iter()
        .map(|&d| h.timers.lane_for(SimDuration(d)))
        .collect();
    // A fixed xorshift sequence. Arms at odd times and lengths even, so deadlines are odd;
    // answers at even times: no answer ties with a deadline.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let mut times = Vec::new();
    let mut expected = Vec::new();
    for (i, &key) in k.iter().enumerate() {
        let lane = next(3) as usize;
        let timer = (Caller::Job(key), TimerTag::Attempt(i as u32));
        let armed_at = 2 * next(200 * MS) + 1;
        let deadline = armed_at + lengths[lane];
        h.script.push(Action::Arm(lanes[lane], timer));
        times.push(armed_at);
        // Two in three are answered, some before and some after their deadline.
        if next(3) > 0 {
            let answer_at = armed_at + 2 * next(lengths[lane]) + 1;
            h.script.push(Action::Answer(timer));
            times.push(answer_at);
            if answer_at > deadline {
                expected.push((SimTime(deadline), timer));
            }
        } else {
            expected.push((SimTime(deadline), timer));
        }
    }
    let mut s = Scheduler::new();
    h.schedule(&times, &mut s);
    assert_eq!(run(&mut h, &mut s, SimTime::MAX, &LIMITS), Stop::Drained);
    let mut fired = h.fired.clone();
    let order = |a: &(SimTime, Timer), b: &(SimTime, Timer)| {
        let (TimerTag::Attempt(x), TimerTag::Attempt(y)) = (a.1.1, b.1.1) else {
            unreachable!()
        };
        (a.0, x).cmp(&(b.0, y))
    };
    fired.sort_by(order);
    expected.sort_by(order);
    assert!(expected.len() > 100, "{} fired", expected.len());
    assert_eq!(fired, expected);
    assert!(h.wakeups.iter().all(|&(_, _, ok)| ok), "no stale events");
    assert!(h.wakeups.len() < N, "{} wake-ups", h.wakeups.len());
    assert_eq!(h.timers.armed(), 0);
}
