//! Chrome trace event JSON of a traced run, as Perfetto (ui.perfetto.dev) and
//! chrome://tracing open it.
//!
//! - One process per client and per service; each replica's work is laid out on as many
//!   tracks (`api[0] #1`, `api[0] #2`, ...) as it had requests at once, so slices never
//!   overlap on a track. A request on its client's track spans send to end; on a replica,
//!   its wait in the waiting room, then its service, with its own work nested inside.
//! - Calls and retries are flows (arrows) from the caller's slice to the job they caused.
//! - Timeouts, retries, refusals by a gate, fallbacks and hedges are instant events on the
//!   caller's track.
//! - Faults are labelled slices on a `faults` process, one track per fault and unit, cut
//!   to the window shown;
//!   breaker states, budget levels and concurrency limits are counter tracks.

use super::{JobEnd, JobTrace, Recorded, RequestTrace, StepKind};
use crate::engine::SimTime;
use crate::metrics::policy_log::PolicyLog;
use crate::scenario::Scenario;
use serde_json::{Value, json};

/// The process of the faults' tracks.
const FAULTS_PID: u64 = 1;
/// The process of the counters.
const POLICIES_PID: u64 = 2;
/// The first client's process; then the other clients, then the services.
const FIRST_PID: u64 = 10;

/// What the trace shows.
pub struct TraceInput<'a> {
    /// The scenario that ran.
    pub scenario: &'a Scenario,
    /// What the tracer recorded.
    pub recorded: &'a Recorded,
    /// Per fault, the name of each unit.
    pub fault_units: &'a [Vec<String>],
    /// The run's policy log (breakers, budgets, limits).
    pub policy_log: &'a PolicyLog,
    /// The window shown: counters outside it are left out.
    pub from: SimTime,
    /// End of the window.
    pub to: SimTime,
    /// When the run's last event happened: faults still on then end there.
    pub end: SimTime,
    /// A line saying what this is (scenario, seed), shown in the trace's metadata.
    pub title: String,
}

/// The metadata naming (and ordering) a process, or a thread when `tid` is given.
fn meta(events: &mut Vec<Value>, pid: u64, tid: Option<u64>, name: &str, sort: u64) {
    match tid {
        None => {
            events.push(
                json!({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": name}}),
            );
            events.push(json!({"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": sort}}));
        }
        Some(tid) => {
            events.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}}));
            events.push(json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": sort}}));
        }
    }
}

/// Microseconds, the unit of `ts` and `dur`.
fn us(t: SimTime) -> f64 {
    t.as_nanos() as f64 / 1e3
}

/// The global index of each replica's name: `api[0]`, `api[1]`, ..., service by service.
pub fn replica_names(scenario: &Scenario) -> Vec<(usize, String)> {
    scenario
        .services
        .iter()
        .enumerate()
        .flat_map(|(s, spec)| (0..spec.replicas).map(move |r| (s, format!("{}[{r}]", spec.name))))
        .collect()
}

/// Lays intervals out on tracks so that none overlaps another on its track: each takes the
/// lowest track free at its start (intervals in the order given, sorted by start).
fn lanes(intervals: &[(SimTime, SimTime)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by_key(|&i| (intervals[i].0, i));
    let mut ends: Vec<SimTime> = Vec::new();
    let mut out = vec![0; intervals.len()];
    for i in order {
        let (start, end) = intervals[i];
        let lane = match ends.iter().position(|&e| e <= start) {
            Some(l) => l,
            None => {
                ends.push(SimTime::ZERO);
                ends.len() - 1
            }
        };
        ends[lane] = end.max(start);
        out[i] = lane;
    }
    out
}

/// Where a job's slices go: its replica's process and track.
#[derive(Clone, Copy)]
struct Place {
    pid: u64,
    tid: u64,
}

/// The shortest slice drawn: a request turned away on arrival takes no time, but a slice
/// of no length would not hold the arrow that points to it.
const MIN_SLICE_NS: u64 = 1_000;

/// When a job occupies its track: from arrival (or start) to its end, at least
/// [`MIN_SLICE_NS`].
fn occupancy(j: &JobTrace, end: SimTime) -> Option<(SimTime, SimTime)> {
    let start = j.arrived.or(j.started)?;
    let stop = j.ended.map_or(end, |(t, _)| t);
    Some((start, stop.max(SimTime(start.as_nanos() + MIN_SLICE_NS))))
}

/// The trace of `input` as Chrome trace event JSON.
pub fn to_json(input: &TraceInput) -> String {
    let s = input.scenario;
    let requests = &input.recorded.requests;
    let replicas = replica_names(s);
    let service_pid = |service: usize| FIRST_PID + s.clients.len() as u64 + service as u64;
    let mut events: Vec<Value> = Vec::new();
    meta(&mut events, FAULTS_PID, None, "faults", 0);
    meta(&mut events, POLICIES_PID, None, "policies", 1);
    for (c, client) in s.clients.iter().enumerate() {
        meta(
            &mut events,
            FIRST_PID + c as u64,
            None,
            &format!("client {}", client.name),
            2 + c as u64,
        );
    }
    for (i, spec) in s.services.iter().enumerate() {
        meta(
            &mut events,
            service_pid(i),
            None,
            &format!("service {}", spec.name),
            100 + i as u64,
        );
    }

    // Clients' tracks: one request per slice, laid out per client.
    let mut client_tid = vec![0u64; requests.len()];
    for c in 0..s.clients.len() {
        let mine: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].client == c)
            .collect();
        let spans: Vec<(SimTime, SimTime)> = mine
            .iter()
            .map(|&i| {
                (
                    requests[i].sent,
                    requests[i].ended.map_or(input.end, |e| e.0),
                )
            })
            .collect();
        let l = lanes(&spans);
        let tracks = l.iter().copied().max().map_or(0, |m| m + 1);
        for lane in 0..tracks {
            let name = format!("{} #{}", s.clients[c].name, lane + 1);
            meta(
                &mut events,
                FIRST_PID + c as u64,
                Some(lane as u64),
                &name,
                lane as u64,
            );
        }
        for (k, &i) in mine.iter().enumerate() {
            client_tid[i] = l[k] as u64;
        }
    }

    // Replicas' tracks: every kept job on a replica, laid out per replica.
    let mut places: Vec<Vec<Option<Place>>> =
        requests.iter().map(|r| vec![None; r.jobs.len()]).collect();
    // Tracks are numbered in order within each service's process.
    let mut next_tid = vec![0u64; s.services.len()];
    for (g, (service, name)) in replicas.iter().enumerate() {
        let mine: Vec<(usize, usize, (SimTime, SimTime))> = requests
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.jobs
                    .iter()
                    .enumerate()
                    .filter(move |(_, j)| j.replica == g)
                    .filter_map(move |(k, j)| Some((i, k, occupancy(j, input.end)?)))
            })
            .collect();
        let spans: Vec<(SimTime, SimTime)> = mine.iter().map(|m| m.2).collect();
        let l = lanes(&spans);
        let tracks = l.iter().copied().max().map_or(0, |m| m + 1);
        let base = next_tid[*service];
        next_tid[*service] += tracks as u64;
        for lane in 0..tracks {
            let tid = base + lane as u64;
            meta(
                &mut events,
                service_pid(*service),
                Some(tid),
                &format!("{name} #{}", lane + 1),
                tid,
            );
        }
        for (m, &(i, k, _)) in mine.iter().enumerate() {
            places[i][k] = Some(Place {
                pid: service_pid(*service),
                tid: base + l[m] as u64,
            });
        }
    }

    for (i, r) in requests.iter().enumerate() {
        let client = Place {
            pid: FIRST_PID + r.client as u64,
            tid: client_tid[i],
        };
        request_events(&mut events, input, r, client, &places[i], &replicas);
    }
    fault_events(&mut events, input);
    counter_events(&mut events, input);
    let doc = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"title": input.title, "requests": requests.len()},
    });
    let mut out = serde_json::to_string(&doc).expect("JSON of plain values");
    out.push('\n');
    out
}

/// The slices, flows and instants of one request.
fn request_events(
    events: &mut Vec<Value>,
    input: &TraceInput,
    r: &RequestTrace,
    client: Place,
    places: &[Option<Place>],
    replicas: &[(usize, String)],
) {
    let s = input.scenario;
    let c = &s.clients[r.client];
    let end = r.ended.map_or(input.end, |e| e.0);
    let outcome = r.ended.map_or("unfinished", |e| e.1.name());
    events.push(json!({
        "ph": "X", "name": format!("#{} {} -> {}: {outcome}", r.id, c.name, s.dest_name(c.target)),
        "cat": "request", "pid": client.pid, "tid": client.tid,
        "ts": us(r.sent), "dur": us(end) - us(r.sent),
        "args": {"request": r.id, "outcome": outcome,
                 "latency_ms": (end - r.sent).as_nanos() as f64 / 1e6},
    }));
    // The track of the caller of a job: the client, or the calling job's replica track.
    let caller_place = |parent: Option<u32>| match parent {
        None => Some(client),
        Some(p) => places.get(p as usize).copied().flatten(),
    };
    for (k, j) in r.jobs.iter().enumerate() {
        let Some(place) = places[k] else { continue };
        let replica = &replicas[j.replica].1;
        let label = format!("#{} attempt {} on {replica}", r.id, j.attempt);
        let args = json!({"request": r.id, "attempt": j.attempt, "job": j.id});
        let arrived = j.arrived.or(j.started).unwrap_or(j.sent);
        if let Some(started) = j.started {
            if started > arrived {
                events.push(
                    json!({"ph": "X", "name": format!("wait #{}", r.id), "cat": "wait",
                    "pid": place.pid, "tid": place.tid, "ts": us(arrived),
                    "dur": us(started) - us(arrived), "args": args}),
                );
            }
            let (done, how) = j
                .ended
                .map_or((input.end, "unfinished".to_string()), |(t, e)| {
                    (t, end_name(e))
                });
            events.push(
                json!({"ph": "X", "name": format!("{label}: {how}"), "cat": "service",
                "pid": place.pid, "tid": place.tid, "ts": us(started),
                "dur": us(done) - us(started), "args": args}),
            );
            if let Some(worked) = j.worked {
                events.push(json!({"ph": "X", "name": "own work", "cat": "work",
                    "pid": place.pid, "tid": place.tid, "ts": us(started),
                    "dur": us(worked) - us(started), "args": args}));
            }
        } else {
            let (done, how) = j
                .ended
                .map_or((arrived, "unfinished".to_string()), |(t, e)| {
                    (t, end_name(e))
                });
            let done = done.max(SimTime(arrived.as_nanos() + MIN_SLICE_NS));
            events.push(
                json!({"ph": "X", "name": format!("{label}: {how}"), "cat": "refused",
                "pid": place.pid, "tid": place.tid, "ts": us(arrived),
                "dur": us(done) - us(arrived), "args": args}),
            );
        }
        if let Some(from) = caller_place(j.parent) {
            let name = if j.attempt > 1 {
                "retry or hedge"
            } else {
                "call"
            };
            events.push(json!({"ph": "s", "id": j.id, "name": name, "cat": "flow",
                "pid": from.pid, "tid": from.tid, "ts": us(j.sent), "bp": "e"}));
            events.push(json!({"ph": "f", "id": j.id, "name": name, "cat": "flow",
                "pid": place.pid, "tid": place.tid, "ts": us(arrived), "bp": "e"}));
        }
    }
    for step in &r.steps {
        let Some(at) = caller_place(step.at) else {
            continue;
        };
        let name = match step.kind {
            // Successes, and calls that never retry, need no mark on a timeline.
            StepKind::Answer(_, o) if o.is_success() => continue,
            StepKind::GaveUp("no retry policy") => continue,
            k => step_name(k),
        };
        events.push(json!({"ph": "i", "s": "t", "name": name, "cat": "policy",
            "pid": at.pid, "tid": at.tid, "ts": us(step.t), "args": {"request": r.id}}));
    }
}

/// How a job's end reads on its slice.
fn end_name(e: JobEnd) -> String {
    match e {
        JobEnd::Answered(o) => o.name().to_string(),
        JobEnd::TurnedAway(o) => format!("refused ({})", o.name()),
        JobEnd::Dropped => "dropped (its caller gave up)".to_string(),
        JobEnd::Killed => "killed by a crash".to_string(),
    }
}

/// A caller's step as a short label.
pub fn step_name(k: StepKind) -> String {
    let ms = |d: crate::engine::SimDuration| d.as_nanos() as f64 / 1e6;
    match k {
        StepKind::Lost(a) => format!("attempt {a} lost on the way"),
        StepKind::Answer(a, o) => format!("attempt {a} answered: {}", o.name()),
        StepKind::Timeout(a) => format!("attempt {a} timed out"),
        StepKind::Deadline => "deadline passed".to_string(),
        StepKind::Retry(a, wait) => format!("retry (attempt {a}) in {:.3} ms", ms(wait)),
        StepKind::GaveUp(why) => format!("no retry: {why}"),
        StepKind::Refused(o) => format!("refused before sending: {}", o.name()),
        StepKind::Fallback(o) => format!("fallback instead of {}", o.name()),
        StepKind::Hedge => "hedge sent".to_string(),
        StepKind::WaitsForSlot => "waits for a bulkhead slot".to_string(),
        StepKind::WaitsForPermit(wait) => {
            format!("waits {:.3} ms for a rate limiter's permit", ms(wait))
        }
    }
}

/// The faults' slices: one track per fault and unit, a slice per time it was on.
fn fault_events(events: &mut Vec<Value>, input: &TraceInput) {
    let s = input.scenario;
    let mut open: std::collections::BTreeMap<(usize, u32), (SimTime, u32)> = Default::default();
    let mut named: Vec<(usize, u32)> = Vec::new();
    let mut slice =
        |events: &mut Vec<Value>, fault: usize, unit: u32, from: SimTime, to: SimTime| {
            // Only the part inside the window shown.
            let (from, to) = (from.max(input.from), to.min(input.to));
            if to <= from {
                return;
            }
            // Tracks are numbered in the order their faults first end.
            let known = named.iter().position(|&n| n == (fault, unit));
            let tid = known.unwrap_or(named.len()) as u64;
            if known.is_none() {
                named.push((fault, unit));
                let unit_name = input
                    .fault_units
                    .get(fault)
                    .and_then(|u| u.get(unit as usize));
                let name = format!(
                    "{} {}",
                    s.faults[fault].name,
                    unit_name.map_or("", String::as_str)
                );
                meta(events, FAULTS_PID, Some(tid), name.trim_end(), tid);
            }
            let label = format!("{} ({})", s.faults[fault].name, s.faults[fault].kind.name());
            events.push(
                json!({"ph": "X", "name": label, "cat": "fault", "pid": FAULTS_PID,
            "tid": tid, "ts": us(from), "dur": us(to) - us(from)}),
            );
        };
    for ch in &input.recorded.faults {
        let key = (ch.fault, ch.unit);
        if ch.on {
            // Overlapping starts of one unit (a chaos monkey picking it twice) nest: the
            // slice runs from the first start to the last stop.
            open.entry(key).or_insert((ch.t, 0)).1 += 1;
        } else if let Some((from, n)) = open.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                let from = *from;
                open.remove(&key);
                slice(events, ch.fault, ch.unit, from, ch.t);
            }
        }
    }
    for ((fault, unit), (from, _)) in open {
        slice(events, fault, unit, from, input.end);
    }
}

/// Breaker states, budget levels and concurrency limits in the window, as counters.
fn counter_events(events: &mut Vec<Value>, input: &TraceInput) {
    let log = input.policy_log;
    for e in &log.events {
        if e.time < input.from || e.time >= input.to {
            continue;
        }
        let site = &log.sites[e.site as usize];
        let (name, value) = match (e.policy, e.event, e.value) {
            ("circuit_breaker", state, _) => (
                format!("breaker {site} (0 closed, 1 half-open, 2 open)"),
                match state {
                    "open" => 2.0,
                    "half_open" => 1.0,
                    _ => 0.0,
                },
            ),
            ("retry_budget", _, Some(v)) => (format!("retry budget {site}"), v),
            ("concurrency_limit", _, Some(v)) => (format!("concurrency limit {site}"), v),
            _ => continue,
        };
        events.push(
            json!({"ph": "C", "name": name, "pid": POLICIES_PID, "ts": us(e.time),
            "args": {"value": value}}),
        );
    }
}
