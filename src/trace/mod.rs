//! Tracing one run: what happened to chosen requests, hop by hop, and when faults came and
//! went, recorded through hooks the model calls only when a [`Tracer`] is attached.
//!
//! The hooks only read what the model hands them: they draw nothing and change nothing, so
//! a traced run gives the same numbers as an untraced one (a test holds this). Memory stays
//! bounded: a request's record is kept while it (or work it caused) is in flight, then
//! either selected (at most `limit`) or dropped.
//!
//! [`chrome`] turns the records into Chrome trace event JSON (Perfetto, chrome://tracing);
//! [`explain`] tells one request's life in words.

pub mod chrome;
pub mod explain;

use crate::engine::{SimDuration, SimTime};
use crate::model::Caller;
use crate::model::slab::Key;
use crate::outcome::Outcome;
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Which requests a trace keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// Those that failed, the first `limit` by request number.
    Failed,
    /// The `limit` slowest (ties: the earlier request).
    Slowest,
    /// The first `limit` by request number.
    All,
    /// Only the request with this number.
    Request(u64),
}

/// What to trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceOptions {
    /// Requests sent at or after this time...
    pub from: SimTime,
    /// ...and before this one.
    pub to: SimTime,
    /// Which of them to keep.
    pub select: Select,
    /// Most requests kept.
    pub limit: usize,
}

/// How a job left its replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobEnd {
    /// Served (or failed while serving) and answered.
    Answered(Outcome),
    /// Refused on arrival, or shed from the waiting room, with this answer.
    TurnedAway(Outcome),
    /// Dropped unserved: its caller had given up (deadline propagation).
    Dropped,
    /// Killed by a crash of its replica.
    Killed,
}

/// One execution of a request (or of a call it caused) on one replica.
#[derive(Clone, Debug, PartialEq)]
pub struct JobTrace {
    /// Unique in the run, in the order jobs were sent.
    pub id: u64,
    /// The job that called it (an index into the request's jobs); `None`: the client.
    pub parent: Option<u32>,
    /// Its try of the call: 1 for the call's first attempt, then retries and hedges.
    pub attempt: u32,
    /// The replica it went to (global index).
    pub replica: usize,
    /// When it was sent.
    pub sent: SimTime,
    /// When it reached its replica.
    pub arrived: Option<SimTime>,
    /// When a worker took it up.
    pub started: Option<SimTime>,
    /// When its own service time ended.
    pub worked: Option<SimTime>,
    /// When and how it left.
    pub ended: Option<(SimTime, JobEnd)>,
    /// The order in which its send, arrival, start, end of work and end were recorded,
    /// among everything the tracer recorded (to order what happened at one instant).
    pub order: [u64; 5],
}

/// Something that happened to a caller (the client, or a job calling downstream).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepKind {
    /// Try `n` of the call was lost on the way (a link fault or a partition).
    Lost(u32),
    /// The answer to try `n` arrived.
    Answer(u32, Outcome),
    /// Try `n` timed out.
    Timeout(u32),
    /// The logical call's deadline passed.
    Deadline,
    /// Try `n` will go out after `wait`.
    Retry(u32, SimDuration),
    /// No retry: why.
    GaveUp(&'static str),
    /// A gate refused the call (breaker open, rate limit, bulkhead full).
    Refused(Outcome),
    /// A fallback answered instead of the failure.
    Fallback(Outcome),
    /// A hedge went out.
    Hedge,
    /// The call waits for a bulkhead slot.
    WaitsForSlot,
    /// The call waits this long for a rate limiter's permit.
    WaitsForPermit(SimDuration),
}

/// A step, when, and at which caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// When.
    pub t: SimTime,
    /// The calling job (an index into the request's jobs); `None`: the client.
    pub at: Option<u32>,
    /// What.
    pub kind: StepKind,
    /// The order it was recorded in, among everything the tracer recorded.
    pub order: u64,
}

/// Everything recorded about one client request.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestTrace {
    /// Its number: the n-th request the clients sent, from 1.
    pub id: u64,
    /// Its client (index in the scenario).
    pub client: usize,
    /// When it was sent.
    pub sent: SimTime,
    /// When and how it ended.
    pub ended: Option<(SimTime, Outcome)>,
    /// The jobs it caused, in the order they were sent.
    pub jobs: Vec<JobTrace>,
    /// What happened at its callers, in time order.
    pub steps: Vec<Step>,
    /// Every attempt sent, lost ones included, to number tries.
    sends: Vec<Send>,
    open_jobs: u32,
}

/// An attempt sent for a traced request.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Send {
    parent: Option<u32>,
    /// The model's attempt number.
    raw: u32,
    /// The caller's call entry (0 for a client).
    entry: u32,
    /// Its try of the call: 1, 2, ...
    try_no: u32,
}

impl RequestTrace {
    /// From send to end.
    pub fn latency(&self) -> Option<SimDuration> {
        self.ended.map(|(t, _)| t - self.sent)
    }
}

/// A fault starting or stopping on one of its units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultChange {
    /// When.
    pub t: SimTime,
    /// The fault (index in the scenario).
    pub fault: usize,
    /// Its unit (index among the fault's units).
    pub unit: u32,
    /// Started (true) or stopped.
    pub on: bool,
}

/// Records chosen requests and every fault change while a run goes.
pub struct Tracer {
    options: TraceOptions,
    /// Request slot: (key, request number) of the traced request in it.
    requests: Vec<Option<(Key, u64)>>,
    /// Job slot: (key, request number, index among its jobs) of the traced job in it.
    jobs: Vec<Option<(Key, u64, u32)>>,
    /// Traced requests not yet finished (they, or work they caused, still in flight).
    live: BTreeMap<u64, RequestTrace>,
    /// Finished requests kept, by the selection's order.
    kept: BTreeMap<(u64, Reverse<u64>), RequestTrace>,
    next_job: u64,
    /// Hooks called so far: the order of what happens at one instant.
    seq: u64,
    /// Every fault change, in time order.
    pub faults: Vec<FaultChange>,
}

/// What a traced run recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// The requests kept, by request number.
    pub requests: Vec<RequestTrace>,
    /// Every fault change, in time order.
    pub faults: Vec<FaultChange>,
}

impl Tracer {
    /// A tracer keeping what `options` asks for.
    pub fn new(options: TraceOptions) -> Self {
        Tracer {
            options,
            requests: Vec::new(),
            jobs: Vec::new(),
            live: BTreeMap::new(),
            kept: BTreeMap::new(),
            next_job: 0,
            seq: 0,
            faults: Vec::new(),
        }
    }

    /// What was kept, once the run is over (anything still open is kept unfinished).
    pub fn finish(mut self) -> Recorded {
        let open: Vec<u64> = self.live.keys().copied().collect();
        for id in open {
            if let Some(r) = self.live.remove(&id) {
                self.select(r);
            }
        }
        let mut requests: Vec<RequestTrace> = self.kept.into_values().collect();
        requests.sort_by_key(|r| r.id);
        Recorded {
            requests,
            faults: self.faults,
        }
    }

    /// Client request `key`, number `id`, of client `client`, is sent now.
    #[cold]
    #[inline(never)]
    pub fn request_sent(&mut self, now: SimTime, key: Key, id: u64, client: usize) {
        let o = &self.options;
        let wanted = now >= o.from
            && now < o.to
            && match o.select {
                Select::Request(n) => n == id,
                _ => true,
            };
        put(&mut self.requests, key, wanted.then_some((key, id)));
        if wanted {
            self.live.insert(
                id,
                RequestTrace {
                    id,
                    client,
                    sent: now,
                    ended: None,
                    jobs: Vec::new(),
                    steps: Vec::new(),
                    sends: Vec::new(),
                    open_jobs: 0,
                },
            );
        }
    }

    /// The traced request and calling job (if any) behind `caller`.
    fn caller(&self, caller: Caller) -> Option<(u64, Option<u32>)> {
        match caller {
            Caller::Request(k) => get(&self.requests, k).map(|&(_, id)| (id, None)),
            Caller::Job(k) => get(&self.jobs, k).map(|&(_, id, j)| (id, Some(j))),
        }
    }

    /// Attempt `attempt` (the model's number) of `caller`'s call entry `entry` goes to
    /// `replica`, as job `job`, or is lost on the way (`None`).
    #[cold]
    #[inline(never)]
    pub fn attempt_sent(
        &mut self,
        now: SimTime,
        caller: Caller,
        attempt: u32,
        replica: usize,
        entry: u32,
        job: Option<Key>,
    ) {
        let next_job = self.next_job;
        self.seq += 1;
        let seq = self.seq;
        let entry = self.caller(caller).and_then(|(id, parent)| {
            let r = self.live.get_mut(&id)?;
            // Tries count per caller and call entry: 1 for the first attempt of a call.
            let try_no = 1 + r
                .sends
                .iter()
                .filter(|s| s.parent == parent && s.entry == entry)
                .count() as u32;
            r.sends.push(Send {
                parent,
                raw: attempt,
                entry,
                try_no,
            });
            let Some(job) = job else {
                r.steps.push(Step {
                    t: now,
                    at: parent,
                    kind: StepKind::Lost(try_no),
                    order: seq,
                });
                return None;
            };
            let index = r.jobs.len() as u32;
            r.jobs.push(JobTrace {
                id: next_job,
                parent,
                attempt: try_no,
                replica,
                sent: now,
                arrived: None,
                started: None,
                worked: None,
                ended: None,
                order: [seq, 0, 0, 0, 0],
            });
            r.open_jobs += 1;
            Some((job, id, index))
        });
        if let Some(job) = job {
            self.next_job += 1;
            put(&mut self.jobs, job, entry);
        }
    }

    /// The traced job `job`, with the next recording order.
    fn job_mut(&mut self, job: Key) -> Option<(&mut JobTrace, u64)> {
        self.seq += 1;
        let &(_, id, j) = get(&self.jobs, job)?;
        let trace = self.live.get_mut(&id)?.jobs.get_mut(j as usize)?;
        Some((trace, self.seq))
    }

    /// Job `job` reaches its replica.
    #[cold]
    #[inline(never)]
    pub fn job_arrived(&mut self, now: SimTime, job: Key) {
        if let Some((j, order)) = self.job_mut(job) {
            j.arrived = Some(now);
            j.order[1] = order;
        }
    }

    /// A worker takes job `job` up.
    #[cold]
    #[inline(never)]
    pub fn job_started(&mut self, now: SimTime, job: Key) {
        if let Some((j, order)) = self.job_mut(job) {
            j.started = Some(now);
            j.order[2] = order;
        }
    }

    /// Job `job`'s own service time is over.
    #[cold]
    #[inline(never)]
    pub fn job_worked(&mut self, now: SimTime, job: Key) {
        if let Some((j, order)) = self.job_mut(job) {
            j.worked = Some(now);
            j.order[3] = order;
        }
    }

    /// Job `job` leaves its replica.
    #[cold]
    #[inline(never)]
    pub fn job_ended(&mut self, now: SimTime, job: Key, end: JobEnd) {
        self.seq += 1;
        let order = self.seq;
        let Some(&(_, id, index)) = get(&self.jobs, job) else {
            return;
        };
        put(&mut self.jobs, job, None);
        let Some(r) = self.live.get_mut(&id) else {
            return;
        };
        if let Some(j) = r.jobs.get_mut(index as usize) {
            j.ended = Some((now, end));
            j.order[4] = order;
        }
        r.open_jobs = r.open_jobs.saturating_sub(1);
        self.close_if_done(id);
    }

    /// Something happened at `caller`; attempts are given by the model's numbers and kept
    /// as tries of the call (1 for its first attempt).
    #[cold]
    #[inline(never)]
    pub fn step(&mut self, now: SimTime, caller: Caller, kind: StepKind) {
        self.seq += 1;
        let order = self.seq;
        let Some((id, at)) = self.caller(caller) else {
            return;
        };
        let Some(r) = self.live.get_mut(&id) else {
            return;
        };
        let try_of = |raw: u32| {
            r.sends
                .iter()
                .rev()
                .find(|s| s.parent == at && s.raw == raw)
                .map_or(raw, |s| s.try_no)
        };
        // The latest send from this caller is the call a retry repeats.
        let last_try = r
            .sends
            .iter()
            .rev()
            .find(|s| s.parent == at)
            .map_or(0, |s| s.try_no);
        let kind = match kind {
            StepKind::Answer(a, o) => StepKind::Answer(try_of(a), o),
            StepKind::Timeout(a) => StepKind::Timeout(try_of(a)),
            StepKind::Lost(a) => StepKind::Lost(try_of(a)),
            StepKind::Retry(_, wait) => StepKind::Retry(last_try + 1, wait),
            k => k,
        };
        r.steps.push(Step {
            t: now,
            at,
            kind,
            order,
        });
    }

    /// Client request `key` ends with `outcome`.
    #[cold]
    #[inline(never)]
    pub fn request_ended(&mut self, now: SimTime, key: Key, outcome: Outcome) {
        let Some(&(_, id)) = get(&self.requests, key) else {
            return;
        };
        put(&mut self.requests, key, None);
        if let Some(r) = self.live.get_mut(&id) {
            r.ended = Some((now, outcome));
        }
        self.close_if_done(id);
    }

    /// Fault `fault` starts (`on`) or stops on its unit `unit`.
    #[cold]
    #[inline(never)]
    pub fn fault(&mut self, now: SimTime, fault: usize, unit: u32, on: bool) {
        self.faults.push(FaultChange {
            t: now,
            fault,
            unit,
            on,
        });
    }

    /// Moves request `id` out of the live set once it has ended and its work is over.
    fn close_if_done(&mut self, id: u64) {
        let done = self
            .live
            .get(&id)
            .is_some_and(|r| r.ended.is_some() && r.open_jobs == 0);
        if done && let Some(r) = self.live.remove(&id) {
            self.select(r);
        }
    }

    /// Keeps `r` if the selection wants it, within the limit.
    fn select(&mut self, r: RequestTrace) {
        let failed = r.ended.is_none_or(|(_, o)| !o.is_success());
        let key = match self.options.select {
            Select::Failed if !failed => return,
            Select::Slowest => (
                r.latency().map_or(u64::MAX, |d| d.as_nanos()),
                Reverse(r.id),
            ),
            // The earliest requests: the largest number sorts first, so it goes first.
            _ => (u64::MAX - r.id, Reverse(0)),
        };
        self.kept.insert(key, r);
        if self.kept.len() > self.options.limit {
            self.kept.pop_first();
        }
    }
}

/// The entry of `key`'s slot in `table`, if it holds `key` (not an older or newer record).
fn get<T>(table: &[Option<T>], key: Key) -> Option<&T>
where
    T: SlotEntry,
{
    table
        .get(key.slot())
        .and_then(Option::as_ref)
        .filter(|e| e.key() == key)
}

/// Sets `key`'s slot of `table` to `entry`.
fn put<T>(table: &mut Vec<Option<T>>, key: Key, entry: Option<T>) {
    let slot = key.slot();
    if slot >= table.len() {
        if entry.is_none() {
            return;
        }
        table.resize_with(slot + 1, || None);
    }
    table[slot] = entry;
}

/// A table entry that remembers the key it was made for.
trait SlotEntry {
    fn key(&self) -> Key;
}

impl SlotEntry for (Key, u64) {
    fn key(&self) -> Key {
        self.0
    }
}

impl SlotEntry for (Key, u64, u32) {
    fn key(&self) -> Key {
        self.0
    }
}
