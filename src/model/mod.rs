//! The service model: clients, replicas with workers and waiting rooms, calls and replies.
//!
//! A request holds one worker of one replica from the start of its service until its answer
//! is sent: first its own service time, then its downstream calls, one after another. When
//! every worker is busy it waits in FIFO order; when the waiting room is full it is refused
//! at once. Replicas are chosen round robin per (caller, callee) pair. Every message crosses
//! its hop's latency; a hop with zero latency is delivered at once, inside the event that
//! sent it, so zero-latency models cost no extra events.

pub mod client;
pub mod event;
pub mod slab;
pub mod topology;

use crate::engine::{Scheduler, SimRng, SimTime, StreamId, StreamKind, World};
use crate::metrics::{BucketId, Recorder, RunMetrics, ServiceRecorder};
use crate::outcome::Outcome;
use crate::scenario::{Arrival, Scenario};
pub use event::{Event, Parent};
use slab::Slab;
use std::collections::VecDeque;
use topology::Topology;

/// A client-level request in flight.
#[derive(Clone, Copy)]
struct Request {
    client: u32,
    sent_at: SimTime,
    bucket: Option<BucketId>,
}

/// One execution of a request on one replica.
#[derive(Clone, Copy)]
struct Job {
    parent: Parent,
    edge: u32,
    replica: u32,
    next_call: u32,
    arrived_at: SimTime,
}

struct Replica {
    service: u32,
    busy: u32,
    waiting: VecDeque<u32>,
    rng: SimRng,
}

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
    sent: u64,
}

impl<'s> Model<'s> {
    /// Builds the model of `scenario` for the run seeded with `seed`, and schedules each
    /// client's first requests.
    pub fn new(scenario: &'s Scenario, seed: u64, sched: &mut Scheduler<Event>) -> Self {
        let end = SimTime(scenario.duration.as_nanos());
        let window_start = SimTime(scenario.warmup.as_nanos());
        let mut first_replica = Vec::new();
        let mut replicas = Vec::new();
        for (s, spec) in scenario.services.iter().enumerate() {
            first_replica.push(replicas.len() as u32);
            for r in 0..spec.replicas {
                let name = format!("{}[{r}]", spec.name);
                replicas.push(Replica {
                    service: s as u32,
                    busy: 0,
                    waiting: VecDeque::with_capacity(
                        spec.queue.map_or(64, |q| q.min(1024)) as usize
                    ),
                    rng: SimRng::new(seed, StreamId::named(StreamKind::Replica, &name)),
                });
            }
        }
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
            topology: Topology::build(scenario, seed),
            requests: Slab::new(),
            jobs: Slab::new(),
            recorder: Recorder::new(scenario.warmup, scenario.duration, scenario.bucket),
            services: scenario
                .services
                .iter()
                .map(|_| ServiceRecorder::new(window_start, end))
                .collect(),
            sent: 0,
        };
        for (i, c) in scenario.clients.iter().enumerate() {
            match &c.arrival {
                Arrival::Closed { users, think_time } => {
                    for _ in 0..*users {
                        let wait = think_time.sample(&mut model.clients[i].rng);
                        if SimTime::ZERO + wait < end {
                            sched.after(wait, Event::Send { client: i as u32 });
                        }
                    }
                }
                open => {
                    let rng = &mut model.clients[i].rng;
                    if let Some(t) = client::next_send(open, rng, SimTime::ZERO, end) {
                        sched.at(t, Event::Send { client: i as u32 });
                    }
                }
            }
        }
        model
    }

    /// Requests sent by clients so far, counted or not.
    pub fn requests_sent(&self) -> u64 {
        self.sent
    }

    /// Freezes the run's metrics; every request must have ended.
    pub fn finish(self, now: SimTime) -> RunMetrics {
        assert_eq!(self.requests.live(), 0, "every request ended");
        assert_eq!(self.jobs.live(), 0, "every job ended");
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
        });
        let edge = self.topology.client_edge[client as usize];
        self.dispatch(Parent::Request(request), edge, sched);
        if let arrival @ (Arrival::Poisson(_) | Arrival::Constant(_)) =
            &self.scenario.clients[client as usize].arrival
        {
            let rng = &mut self.clients[client as usize].rng;
            if let Some(t) = client::next_send(arrival, rng, now, self.end) {
                sched.at(t, Event::Send { client });
            }
        }
    }

    /// Sends a request for `parent` over `edge` to the next replica in round-robin order.
    fn dispatch(&mut self, parent: Parent, edge: u32, sched: &mut Scheduler<Event>) {
        let e = &mut self.topology.edges[edge as usize];
        let service = e.target as usize;
        let count = self.scenario.services[service].replicas;
        let replica = self.first_replica[service] + e.cursor % count;
        e.cursor = e.cursor.wrapping_add(1);
        let delay = e.latency.sample(&mut e.rng);
        let job = self.jobs.insert(Job {
            parent,
            edge,
            replica,
            next_call: 0,
            arrived_at: SimTime::ZERO,
        });
        if delay.as_nanos() == 0 {
            self.deliver(job, sched);
        } else {
            sched.after(delay, Event::Deliver { job });
        }
    }

    /// The request of `job` reaches its replica: serve, wait or refuse.
    fn deliver(&mut self, job: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let j = self.jobs.get_mut(job);
        j.arrived_at = now;
        let replica = j.replica as usize;
        let service = self.replicas[replica].service as usize;
        let spec = &self.scenario.services[service];
        self.services[service].arrived(now);
        let r = &mut self.replicas[replica];
        if r.busy < spec.concurrency {
            self.start(job, sched);
        } else if spec
            .queue
            .is_none_or(|cap| (r.waiting.len() as u64) < u64::from(cap))
        {
            r.waiting.push_back(job);
        } else {
            self.services[service].rejected(now, now);
            let j = self.jobs.remove(job);
            self.reply(j.parent, j.edge, Outcome::Rejected, sched);
        }
    }

    /// A worker of the job's replica takes the job up.
    fn start(&mut self, job: u32, sched: &mut Scheduler<Event>) {
        let replica = self.jobs.get(job).replica as usize;
        let r = &mut self.replicas[replica];
        let service = r.service as usize;
        r.busy += 1;
        self.services[service].started(sched.now());
        let d = self.scenario.services[service]
            .service_time
            .sample(&mut r.rng);
        sched.after(d, Event::ServiceDone { job });
    }

    fn service_done(&mut self, job: u32, sched: &mut Scheduler<Event>) {
        let replica = self.jobs.get(job).replica as usize;
        let r = &mut self.replicas[replica];
        let error_rate = self.scenario.services[r.service as usize].error_rate;
        if error_rate > 0.0 && r.rng.chance(error_rate) {
            self.complete(job, Outcome::Error, sched);
        } else {
            self.next_call(job, sched);
        }
    }

    /// Makes the job's next downstream call, or answers ok when no call is left.
    fn next_call(&mut self, job: u32, sched: &mut Scheduler<Event>) {
        let j = self.jobs.get_mut(job);
        let service = self.replicas[j.replica as usize].service as usize;
        let calls = &self.topology.call_edges[service];
        if let Some(&edge) = calls.get(j.next_call as usize) {
            j.next_call += 1;
            self.dispatch(Parent::Job(job), edge, sched);
        } else {
            self.complete(job, Outcome::Ok, sched);
        }
    }

    /// The job leaves its worker with `outcome`; the next waiting job starts.
    fn complete(&mut self, job: u32, outcome: Outcome, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let j = self.jobs.remove(job);
        let r = &mut self.replicas[j.replica as usize];
        let service = r.service as usize;
        r.busy -= 1;
        let next = r.waiting.pop_front();
        self.services[service].completed(now, j.arrived_at, outcome != Outcome::Ok);
        if let Some(next) = next {
            self.start(next, sched);
        }
        self.reply(j.parent, j.edge, outcome, sched);
    }

    /// Sends `outcome` back over `edge` to `to`.
    fn reply(&mut self, to: Parent, edge: u32, outcome: Outcome, sched: &mut Scheduler<Event>) {
        let e = &mut self.topology.edges[edge as usize];
        let delay = e.latency.sample(&mut e.rng);
        if delay.as_nanos() == 0 {
            self.receive(to, outcome, sched);
        } else {
            sched.after(delay, Event::Reply { to, outcome });
        }
    }

    /// An answer reaches a client's request or a job waiting on a call.
    fn receive(&mut self, to: Parent, outcome: Outcome, sched: &mut Scheduler<Event>) {
        match to {
            Parent::Job(job) => match outcome {
                Outcome::Ok | Outcome::Degraded => self.next_call(job, sched),
                // A failed call fails the caller's request with an error.
                _ => self.complete(job, Outcome::Error, sched),
            },
            Parent::Request(request) => {
                let now = sched.now();
                let q = self.requests.remove(request);
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
            Event::Reply { to, outcome } => self.receive(to, outcome, sched),
        }
    }
}
