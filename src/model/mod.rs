//! The service model: clients, replicas with workers and waiting rooms, calls, replies,
//! timeouts and faults.
//!
//! A request holds one worker of one replica from the start of its service until its answer
//! is sent: first its own service time, then its downstream calls, one after another. When
//! every worker is busy it waits in FIFO order; when the waiting room is full it is refused
//! at once. Replicas are chosen round robin per (caller, callee) pair. Every message crosses
//! its hop's latency (plus link faults); a hop with zero latency is delivered at once, inside
//! the event that sent it, so zero-latency models cost no extra events.
//!
//! Every call has a timeout. Answers and timeouts name the call they belong to, and records
//! are addressed by generational keys, so whichever of the two comes second, or an answer to
//! a caller that a crash has killed, is recognised as stale and dropped.

mod calls;
pub mod client;
pub mod event;
mod faults;
mod network;
pub mod replica;
mod serve;
pub mod slab;
mod timers;
pub mod topology;

use crate::engine::{Scheduler, SimDuration, SimRng, SimTime, StreamId, StreamKind, World};
use crate::metrics::{BucketId, Recorder, RunMetrics, ServiceRecorder};
use crate::scenario::{Arrival, Scenario};
pub use event::{Caller, Event};
use faults::FaultState;
use replica::Replica;
use slab::{Key, Slab};
use timers::Timers;
use topology::Topology;

/// A client-level request in flight.
#[derive(Clone, Copy)]
struct Request {
    client: u32,
    sent_at: SimTime,
    bucket: Option<BucketId>,
    /// Number of the call (attempt) the request waits on.
    call: u32,
}

/// Where a job is in its life on a replica.
#[derive(Clone, Copy, PartialEq, Eq)]
enum JobState {
    /// Sent, not yet arrived.
    InTransit,
    /// Waiting for a worker.
    Queued,
    /// Holding a worker through its own service time.
    Serving,
    /// Holding a worker while waiting on a downstream call.
    Calling,
}

/// One execution of a request on one replica.
#[derive(Clone, Copy)]
struct Job {
    /// Who waits for the answer, and which of its calls this job answers.
    caller: Caller,
    caller_call: u32,
    /// The hop the request came over; the answer goes back over it.
    edge: u32,
    replica: u32,
    state: JobState,
    /// Index of the next downstream call to make.
    next_call: u32,
    /// Number of the downstream call the job waits on.
    call_seq: u32,
    arrived_at: SimTime,
    /// The replica's `paused_total` when the job's service last (re)started.
    pause_mark: SimDuration,
}

/// A client's runtime state.
struct ClientState {
    rng: SimRng,
}

/// The whole simulated system of one run.
pub struct Model<'s> {
    scenario: &'s Scenario,
    end: SimTime,
    clients: Vec<ClientState>,
    /// Index of each service's first replica; replicas of a service are contiguous.
    first_replica: Vec<u32>,
    replicas: Vec<Replica>,
    topology: Topology,
    requests: Slab<Request>,
    jobs: Slab<Job>,
    recorder: Recorder,
    services: Vec<ServiceRecorder>,
    faults: FaultState,
    timers: Timers,
    /// Timer lane of each client, and of each service's calls.
    client_lanes: Vec<u32>,
    call_lanes: Vec<Vec<u32>>,
    sent: u64,
}

impl<'s> Model<'s> {
    /// Builds the model of `scenario` for the run seeded with `seed`, and schedules each
    /// client's first requests and each fault's first transition.
    pub fn new(scenario: &'s Scenario, seed: u64, sched: &mut Scheduler<Event>) -> Self {
        let end = SimTime(scenario.duration.as_nanos());
        let mut first_replica = Vec::new();
        let mut replicas = Vec::new();
        for (s, spec) in scenario.services.iter().enumerate() {
            first_replica.push(replicas.len() as u32);
            for r in 0..spec.replicas {
                let name = format!("{}[{r}]", spec.name);
                let rng = SimRng::new(seed, StreamId::named(StreamKind::Replica, &name));
                let hint = spec.queue.map_or(64, |q| q.min(1024)) as usize;
                replicas.push(Replica::new(s as u32, rng, hint));
            }
        }
        let topology = Topology::build(scenario, seed);
        let faults = FaultState::build(scenario, seed, &first_replica, &topology);
        let mut timers = Timers::default();
        let client_lanes = scenario
            .clients
            .iter()
            .map(|c| timers.lane_for(c.timeout))
            .collect();
        let call_lanes = scenario
            .services
            .iter()
            .map(|s| s.calls.iter().map(|c| timers.lane_for(c.timeout)).collect())
            .collect();
        let mut model = Model {
            scenario,
            end,
            clients: scenario
                .clients
                .iter()
                .map(|c| ClientState {
                    rng: SimRng::new(seed, StreamId::named(StreamKind::Client, &c.name)),
                })
                .collect(),
            first_replica,
            replicas,
            topology,
            requests: Slab::new(),
            jobs: Slab::new(),
            recorder: Recorder::new(scenario.warmup, scenario.duration, scenario.bucket),
            services: scenario
                .services
                .iter()
                .map(|s| {
                    ServiceRecorder::new(
                        scenario.warmup,
                        scenario.duration,
                        scenario.bucket,
                        s.replicas,
                    )
                })
                .collect(),
            faults,
            timers,
            client_lanes,
            call_lanes,
            sent: 0,
        };
        model.schedule_first_sends(sched);
        model.schedule_faults(sched);
        model
    }

    fn schedule_first_sends(&mut self, sched: &mut Scheduler<Event>) {
        for (i, c) in self.scenario.clients.iter().enumerate() {
            let rng = &mut self.clients[i].rng;
            match &c.arrival {
                Arrival::Closed { users, think_time } => {
                    for _ in 0..*users {
                        let wait = think_time.sample(rng);
                        if SimTime::ZERO + wait < self.end {
                            sched.after(wait, Event::Send { client: i as u32 });
                        }
                    }
                }
                open => {
                    if let Some(t) = client::next_send(open, rng, SimTime::ZERO, self.end) {
                        sched.at(t, Event::Send { client: i as u32 });
                    }
                }
            }
        }
    }

    /// Requests sent by clients so far, counted or not.
    pub fn requests_sent(&self) -> u64 {
        self.sent
    }

    /// Freezes the run's metrics; every request must have ended.
    pub fn finish(self, now: SimTime) -> RunMetrics {
        assert!(self.requests.is_empty(), "every request ended");
        let (totals, latency, buckets) = self.recorder.finish_run();
        let services = self
            .services
            .into_iter()
            .zip(&self.scenario.services)
            .map(|(r, s)| r.finish(&s.name, now))
            .collect();
        RunMetrics {
            totals,
            latency,
            buckets,
            services,
        }
    }

    /// A client sends a request now, and schedules its next one (open loop).
    fn send_from_client(&mut self, client: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if now >= self.end {
            return;
        }
        self.sent += 1;
        let bucket = self.recorder.start(now);
        if let Some(b) = bucket {
            self.recorder.attempt(b);
        }
        let request = self.requests.insert(Request {
            client,
            sent_at: now,
            bucket,
            call: 0,
        });
        let spec = &self.scenario.clients[client as usize];
        let edge = self.topology.client_edge[client as usize];
        let lane = self.client_lanes[client as usize];
        self.dispatch(Caller::Request(request), 0, edge, lane, sched);
        if let arrival @ (Arrival::Poisson(_) | Arrival::Constant(_)) = &spec.arrival {
            let rng = &mut self.clients[client as usize].rng;
            if let Some(t) = client::next_send(arrival, rng, now, self.end) {
                sched.at(t, Event::Send { client });
            }
        }
    }

    /// A client's request ends with `outcome`.
    fn end_request(&mut self, key: Key, outcome: crate::Outcome, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let q = self.requests.remove(key).expect("the request is live");
        if let Some(b) = q.bucket {
            self.recorder.finish(b, outcome, now - q.sent_at, now);
        }
        let client = q.client as usize;
        if let Arrival::Closed { think_time, .. } = &self.scenario.clients[client].arrival {
            let wait = think_time.sample(&mut self.clients[client].rng);
            if now + wait < self.end {
                sched.after(wait, Event::Send { client: q.client });
            }
        }
    }
}

impl World for Model<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, event: Event, sched: &mut Scheduler<Event>) {
        match event {
            Event::Send { client } => self.send_from_client(client, sched),
            Event::Deliver { job } => self.deliver(job, sched),
            Event::ServiceDone { job } => self.service_done(job, sched),
            Event::Reply { to, call, outcome } => self.receive(to, call, outcome, sched),
            Event::TimersDue { lane } => self.timers_due(lane, sched),
            Event::Timeout { to, call } => self.timeout(to, call, sched),
            Event::FaultOn { fault, unit } => self.fault_on(fault, unit, sched),
            Event::FaultOff { fault, unit } => self.fault_off(fault, unit, sched),
            Event::ChaosTick { fault } => self.chaos_tick(fault, sched),
        }
    }
}
