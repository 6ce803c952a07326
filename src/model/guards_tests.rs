//! Unit tests of the guards: site names and guard ids, shared guards for `scope = "target"`,
//! breaker transitions and budget levels in the policy log, restarts.

use super::*;
use crate::engine::{Limits, Stop, World, run, upcoming};

const MS: u64 = 1_000_000;

/// Two clients; `api` (two replicas) calls `db` twice with a shared (`scope = "target"`)
/// breaker and budget, and `cache` twice with no policy on the first call and a breaker on
/// the second; `db` and `cache` call nothing; `worker`, declared after them, calls `db`
/// with a percentile hedge.
const SCENARIO: &str = r#"
name = "guards"
duration = "10s"
bucket = "1s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 10 }
circuit_breaker = { kind = "consecutive_failures", failures = 2, open_for = "1s" }

[[client]]
name = "batch"
target = "db"
arrival = { kind = "poisson", rate_per_s = 10 }
retry = { max_attempts = 3 }
retry_budget = { kind = "token_bucket", max_tokens = 10, token_ratio = 0.5 }

[[service]]
name = "api"
replicas = 2
concurrency = 4
service_time = { kind = "constant", value = "1ms" }
calls = [
  { to = "db", retry = { max_attempts = 2 }, retry_budget = { kind = "token_bucket", max_tokens = 4, token_ratio = 0.5 }, circuit_breaker = { kind = "consecutive_failures", failures = 2, open_for = "10s", automatic_half_open = true, scope = "target" } },
  { to = "cache" },
  { to = "db", retry = { max_attempts = 2 }, retry_budget = { kind = "token_bucket", max_tokens = 4, token_ratio = 0.5 }, circuit_breaker = { kind = "consecutive_failures", failures = 2, open_for = "10s", automatic_half_open = true, scope = "target" } },
  { to = "cache", circuit_breaker = { kind = "consecutive_failures", failures = 1, open_for = "10s" } },
]

[[service]]
name = "db"
replicas = 2
concurrency = 4
service_time = { kind = "constant", value = "1ms" }

[[service]]
name = "cache"
replicas = 1
concurrency = 4
service_time = { kind = "constant", value = "1ms" }

[[service]]
name = "worker"
replicas = 1
concurrency = 4
service_time = { kind = "constant", value = "1ms" }
calls = [{ to = "db", hedge = { after = "p50" } }]
"#;

/// The guards of [`SCENARIO`].
fn guards() -> Guards {
    let scenario = Scenario::from_text(SCENARIO, "guards.toml")
        .unwrap_or_else(|e| panic!("invalid test scenario:\n{e}"));
    Guards::build(&scenario, 1)
}

fn g(i: usize) -> GuardId {
    GuardId::from_index(i)
}

fn r(i: usize) -> ReplicaId {
    ReplicaId::from_index(i)
}

fn e(i: usize) -> EntryId {
    EntryId::from_index(i)
}

fn ms(n: u64) -> SimTime {
    SimTime(n * MS)
}

/// A log line, as (time in ms, site, policy, event, value).
type Line = (u64, u32, &'static str, &'static str, Option<f64>);

fn lines(log: &PolicyLog) -> Vec<Line> {
    log.events
        .iter()
        .map(|e| (e.time.as_nanos() / MS, e.site, e.policy, e.event, e.value))
        .collect()
}

fn breaker(t: u64, site: u32, event: &'static str) -> Line {
    (t, site, "circuit_breaker", event, None)
}

fn level(t: u64, site: u32, value: f64) -> Line {
    (t, site, "retry_budget", "level", Some(value))
}

/// The guards' sites, in guard order: one per client, then per replica one per call entry
/// with a guard of its own; a repeated target is told apart by `#entry`, except for the
/// entries sharing one guard with `scope = "target"`.
const SITES: [&str; 9] = [
    "web->api",
    "batch->db",
    "api[0]->db",
    "api[0]->cache#1",
    "api[0]->cache#3",
    "api[1]->db",
    "api[1]->cache#1",
    "api[1]->cache#3",
    "worker[0]->db",
];

/// `build` makes one guard per client, then one per replica and call entry (entries with
/// `scope = "target"` sharing one), named as in [`SITES`]; `finish` hands the same names
/// to the log.
#[test]
fn build_names_a_guard_per_client_then_per_replica_and_entry() {
    let guards = guards();
    let sites: Vec<&str> = (0..SITES.len()).map(|i| guards.site(g(i))).collect();
    assert_eq!(sites, SITES);
    assert_eq!(guards.guards.len(), SITES.len());
    let log = guards.finish();
    assert_eq!(log.sites, SITES);
    assert!(log.events.is_empty());
}

/// `of_client` is the client's position; `of_call` maps a replica's entry to its guard,
/// the two `scope = "target"` entries to `db` landing on one guard per replica.
#[test]
fn of_client_and_of_call_find_the_guards_of_each_site() {
    let guards = guards();
    assert_eq!(guards.of_client(ClientId::from_index(0)), g(0));
    assert_eq!(guards.of_client(ClientId::from_index(1)), g(1));
    // Replicas: api[0], api[1], db[0], db[1], cache[0], worker[0].
    let api0: Vec<GuardId> = (0..4).map(|k| guards.of_call(r(0), e(k))).collect();
    let api1: Vec<GuardId> = (0..4).map(|k| guards.of_call(r(1), e(k))).collect();
    assert_eq!(api0, [g(2), g(3), g(2), g(4)]);
    assert_eq!(api1, [g(5), g(6), g(5), g(7)]);
    assert_eq!(guards.of_call(r(5), e(0)), g(8));
    assert_eq!(guards.site(guards.of_call(r(1), e(2))), "api[1]->db");
}

/// `replica_of` maps a guard back to the replica whose entry it serves, across services
/// with no calls (whose replicas have no guards), and gives `None` for clients' guards.
#[test]
fn replica_of_finds_the_replica_of_each_guard() {
    let guards = guards();
    let owners: Vec<Option<usize>> = (0..SITES.len())
        .map(|i| guards.replica_of(g(i)).map(|r| r.index()))
        .collect();
    assert_eq!(
        owners,
        [
            None,
            None,
            Some(0),
            Some(0),
            Some(0),
            Some(1),
            Some(1),
            Some(1),
            Some(5)
        ]
    );
}

/// `acquire` and `record` drive the breaker and log each state it enters, at the time it
/// entered it: open after two failures in a row, short-circuits while open, half-open
/// (lazily) with the first call once `open_for` has passed, closed on the trial's success.
/// A guard without a breaker permits everything and logs nothing.
#[test]
fn acquire_and_record_log_breaker_transitions() {
    let mut guards = guards();
    let mut s = Scheduler::new();
    let web = g(0);
    let took = SimDuration::from_millis(5);
    let p = guards
        .acquire(web, ms(0), &mut s)
        .expect("closed")
        .expect("a breaker");
    guards.record(web, Some(p), ms(10), took, true, &mut s);
    let p = guards.acquire(web, ms(15), &mut s).unwrap();
    guards.record(web, p, ms(20), took, true, &mut s);
    assert_eq!(guards.acquire(web, ms(500), &mut s), Err(()), "open");
    assert_eq!(guards.acquire(web, ms(1019), &mut s), Err(()), "still open");
    let trial = guards.acquire(web, ms(1020), &mut s).unwrap();
    assert!(trial.is_some(), "half-open at opened + open_for");
    assert_eq!(guards.acquire(web, ms(1021), &mut s), Err(()), "one trial");
    guards.record(web, trial, ms(1030), took, false, &mut s);
    assert!(guards.acquire(web, ms(1040), &mut s).unwrap().is_some());

    let plain = g(3);
    assert_eq!(guards.acquire(plain, ms(0), &mut s), Ok(None));
    guards.record(plain, None, ms(1), took, true, &mut s);
    assert_eq!(s.pending(), 0, "no timed transition configured");
    assert_eq!(
        lines(&guards.finish()),
        [
            breaker(20, 0, "open"),
            breaker(1020, 0, "half_open"),
            breaker(1030, 0, "closed")
        ]
    );
}

/// Drives breaker timers through the engine: `BreakerDue` goes to `Guards::breaker_due`.
struct BreakerTimers(Guards);

impl World for BreakerTimers {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Scheduler<Event>) {
        let Event::BreakerDue { guard, epoch } = event else {
            panic!("unexpected event {event:?}");
        };
        self.0.breaker_due(guard, epoch, false, sched);
    }
}

/// With `automatic_half_open`, opening arms a `BreakerDue` at the end of `open_for`, which
/// logs half-open at exactly that time; a restart before then closes the breaker (logged)
/// and makes the timer stale.
#[test]
fn automatic_half_open_fires_on_time_and_a_restart_makes_it_stale() {
    let mut guards = guards();
    let mut s = Scheduler::new();
    let took = SimDuration::from_millis(1);
    for (guard, t) in [(g(2), 100), (g(5), 200)] {
        for _ in 0..2 {
            let p = guards.acquire(guard, ms(t), &mut s).unwrap();
            guards.record(guard, p, ms(t), took, true, &mut s);
        }
    }
    let due = upcoming(&s, 10);
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].0, ms(10_100));
    assert!(matches!(due[0].1, Event::BreakerDue { guard, .. } if guard == g(2)));
    assert_eq!(due[1].0, ms(10_200));
    assert!(matches!(due[1].1, Event::BreakerDue { guard, .. } if guard == g(5)));

    guards.restart(r(0), ms(3000));
    let mut w = BreakerTimers(guards);
    let bounded = Limits {
        max_events: 100,
        ..Limits::NONE
    };
    assert_eq!(run(&mut w, &mut s, SimTime::MAX, &bounded), Stop::Drained);
    assert_eq!(s.now(), ms(10_200));
    assert_eq!(
        lines(&w.0.finish()),
        [
            breaker(100, 2, "open"),
            breaker(200, 5, "open"),
            breaker(3000, 2, "closed"),
            breaker(10_200, 5, "half_open"),
        ]
    );
}

/// `restart` gives a replica's guards fresh breakers and budgets: an open breaker permits
/// again at once (logged `closed`), a breaker already closed logs nothing, the budget is
/// full again (its pending level written out first, so the bucket of a restart can log a
/// level from before it and one from after), and other replicas' guards are untouched.
#[test]
fn restart_gives_fresh_breakers_and_budgets_to_one_replica() {
    let mut guards = guards();
    let mut s = Scheduler::new();
    let took = SimDuration::from_millis(1);
    // api[0]'s cache#3 breaker opens at the first failure; its db budget loses two tokens.
    let cache = g(4);
    let p = guards.acquire(cache, ms(100), &mut s).unwrap();
    guards.record(cache, p, ms(100), took, true, &mut s);
    assert_eq!(guards.acquire(cache, ms(200), &mut s), Err(()));
    for (guard, t) in [(g(2), 2300), (g(5), 400)] {
        let b = guards.budget(guard).expect("a budget");
        b.on_attempt(false, true, true, 0.0);
        b.on_attempt(false, true, true, 0.0);
        guards.note_level(guard, ms(t));
    }
    guards.restart(r(0), ms(2500));
    assert!(guards.acquire(cache, ms(2500), &mut s).unwrap().is_some());
    assert_eq!(guards.budget(g(2)).unwrap().level(ms(2500)), 4.0, "full");
    assert_eq!(guards.budget(g(5)).unwrap().level(ms(2500)), 2.0, "api[1]");
    assert_eq!(guards.acquire(g(6), ms(2500), &mut s), Ok(None));
    guards.restart(r(0), ms(2600));
    // In the restart's bucket: the level before it was written out, the one after is kept.
    guards.note_level(g(2), ms(2700));
    assert_eq!(
        lines(&guards.finish()),
        [
            breaker(100, 4, "open"),
            level(400, 5, 2.0),
            level(2300, 2, 2.0),
            breaker(2500, 4, "closed"),
            level(2700, 2, 4.0),
        ]
    );
}

/// `note_level` logs at most one level per bucket (the bucket's last, at its time),
/// written when a later bucket's level is noted or at `finish`; a guard without a budget
/// logs none.
#[test]
fn note_level_logs_the_last_level_of_each_bucket() {
    let mut guards = guards();
    let batch = g(1);
    guards.note_level(batch, ms(100));
    guards.note_level(batch, ms(200));
    guards
        .budget(batch)
        .unwrap()
        .on_attempt(false, true, true, 0.0);
    guards.note_level(batch, ms(900));
    assert!(guards.log.events.is_empty(), "bucket 0 is still open");
    guards.note_level(batch, ms(1500));
    guards
        .budget(batch)
        .unwrap()
        .on_attempt(false, true, true, 0.0);
    guards.note_level(batch, ms(1999));
    // Bucket 2 is skipped; bucket 3 has one decision.
    guards
        .budget(batch)
        .unwrap()
        .on_attempt(true, false, false, 0.0);
    guards.note_level(batch, ms(3000));
    guards.note_level(g(0), ms(100));
    assert!(guards.budget(g(0)).is_none());
    assert_eq!(
        lines(&guards.finish()),
        [level(900, 1, 9.0), level(1999, 1, 8.0), level(3000, 1, 8.5)]
    );
}

/// `finish` writes out the pending levels and sorts the log by time, then site,
/// whatever order the lines were made in.
#[test]
fn finish_sorts_the_log_by_time_then_site() {
    let mut guards = guards();
    let mut s = Scheduler::new();
    let took = SimDuration::from_millis(1);
    let open = |guards: &mut Guards, s: &mut Scheduler<Event>, guard: GuardId, t: u64| {
        for _ in 0..2 {
            let p = guards.acquire(guard, ms(t), s).unwrap();
            guards.record(guard, p, ms(t), took, true, s);
        }
    };
    guards.note_level(g(1), ms(500));
    open(&mut guards, &mut s, g(5), 700);
    open(&mut guards, &mut s, g(0), 700);
    open(&mut guards, &mut s, g(2), 300);
    guards.note_level(g(2), ms(700));
    assert_eq!(
        lines(&guards.finish()),
        [
            breaker(300, 2, "open"),
            level(500, 1, 10.0),
            breaker(700, 0, "open"),
            level(700, 2, 4.0),
            breaker(700, 5, "open"),
        ]
    );
}

/// A percentile hedge delay is unknown until 20 latencies are in, then the running
/// percentile; a restart forgets it.
#[test]
fn hedge_delay_is_learnt_after_twenty_latencies_and_forgotten_on_restart() {
    let mut guards = guards();
    let worker = g(8);
    assert_eq!(guards.hedge_delay(g(0)), None, "no hedge");
    for _ in 0..19 {
        guards.note_latency(worker, SimDuration::from_millis(10));
    }
    assert_eq!(guards.hedge_delay(worker), None);
    guards.note_latency(worker, SimDuration::from_millis(10));
    let d = guards
        .hedge_delay(worker)
        .expect("known after 20")
        .as_nanos();
    assert!(d.abs_diff(10 * MS) <= MS / 10, "{d}");
    guards.restart(r(5), ms(1000));
    assert_eq!(guards.hedge_delay(worker), None);
}
