//! The service model: clients, replicas with workers and waiting rooms, calls, replies,
//! timeouts and faults.
//!
//! A request holds one worker of one replica from the start of its service until its answer
//! is sent: first its own service time, then its downstream calls, one after another. When
//! every worker is busy it waits in FIFO order; when the waiting room is full it is refused
//! at once. Each caller's load balancer (`balancer.rs`) chooses the replica. Every message crosses
//! its hop's latency (plus link faults); a hop with zero latency is delivered at once, inside
//! the event that sent it, so zero-latency models cost no extra events.
//!
//! Every call has a timeout. Answers and timeouts name the call they belong to, and records
//! are addressed by generational keys, so whichever of the two comes second, or an answer to
//! a caller that a crash has killed, is recognised as stale and dropped.
//!
//! # Where things are
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | the [`Model`], its records (requests, jobs), clients' sends, the event dispatch |
//! | `build.rs` | building replicas, clients and services from the scenario |
//! | `ids.rs` | typed ids (`ClientId`, `ReplicaId`, `EdgeId`, ...) and `IdVec` |
//! | `names.rs` | entity names and the random stream each is keyed by |
//! | `event.rs` | the closed list of events |
//! | `waiter.rs` | who waits for an answer, its attempt counter, staleness of answers and timers |
//! | `topology.rs`, `network.rs` | hops and their targets; latency, link faults, partitions |
//! | `calls.rs` | sending (target, replica choice), answering, timeouts |
//! | `balancer/` | load balancers (which replica each attempt goes to), outlier detection, consistent hashing |
//! | `health.rs` | active health checks: probe rounds, timeouts, thresholds (the checker's side) |
//! | `probes.rs` | health probes on the probed replica: waiting room, worker, answer |
//! | `timers.rs` | timeout lanes: one queue event per lane front, not per call |
//! | `serve.rs`, `replica.rs`, `service.rs` | arrival, waiting room, workers, completion, crash and hang effects |
//! | `waiting_room.rs` | a replica's waiting room: one queue per priority class, eviction of lower classes |
//! | `concurrency_limits.rs` | replicas' adaptive concurrency limits, their samples and log |
//! | `client.rs` | arrival processes (open loop, phases, closed loop) |
//! | `faults.rs` | fault plans and their effects |
//! | `policies.rs` | the life of a call with policies, and its end (fallback, deadline, crash) |
//! | `call_state.rs` | a call's policy state and its site |
//! | `attempts.rs` | attempts and hedges |
//! | `admission.rs` | admission gates: the breaker, the caller's rate limiter or throttle, the bulkhead |
//! | `gate_waits.rs` | waits at gates: for a bulkhead slot (fair), for a reserved rate-limit permit |
//! | `rate_limits.rs` | services' rate limits, checked when a request reaches its replica |
//! | `retries.rs` | retry decisions, waits, pushback, budgets |
//! | `guards.rs` | per caller-and-target breakers, budgets, hedge delays, their log |
//! | `idempotency.rs` | idempotency keys, duplicates, stored answers |
//! | `slab.rs` | generational slabs for requests, jobs and call states |
//! | `describe.rs` | what the model holds and what an event is about, for limit messages |
//!
//! A new admission policy is a `Gate` variant (`scenario/policy.rs`) and its arm in
//! `admission.rs`; a new kind of target (a queue) is a `Target` variant (`topology.rs`) and
//! its arm in `Model::dispatch_with` (`calls.rs`).
//!
//! # Speed
//!
//! The common path of a request (send, serve, answer, record) is inlined into one function
//! per event kind: the hot methods are `#[inline(always)]`, the loop job -> call -> job is
//! broken at `receive_at_job`, and the rare paths (refusals, hangs, faults, phases) are kept
//! out of line. Two draws are made early without changing any value, so that the processor
//! can compute an event's time while it does the rest of the work: a client's next send is
//! drawn at the start of its send, and a replica draws its next service time as soon as it
//! has used one (see [`replica::Replica::drawn_ahead`]).

mod admission;
mod attempts;
mod balancer;
mod build;
mod call_state;
mod calls;
pub mod client;
mod concurrency_limits;
mod describe;
pub mod event;
mod faults;
mod gate_waits;
mod guards;
mod health;
mod idempotency;
pub mod ids;
pub mod names;
mod network;
mod policies;
mod probes;
mod queues;
mod rate_limits;
pub mod replica;
mod retries;
mod serve;
mod service;
pub mod slab;
mod timers;
pub mod topology;
mod waiter;
pub mod waiting_room;

use crate::engine::{Scheduler, SimDuration, SimRng, SimTime, World};
use crate::metrics::policy_log::PolicyCounts;
use crate::metrics::{BucketId, Recorder, RunMetrics};
use crate::scenario::Priority;
use crate::scenario::{Arrival, Scenario};
pub use event::{Caller, Event};
use faults::FaultState;
pub use faults::fault_unit_names;
use guards::Guards;
use ids::{ClientId, EdgeId, Id, IdVec, LaneId, ReplicaId, ServiceId};
use policies::CallState;
use replica::Replica;
use service::Service;
use slab::{Key, Slab};
use timers::Timers;
use topology::Topology;
use waiter::{TimerTag, Waiting};

/// A client-level request in flight.
#[derive(Clone, Copy)]
struct Request {
    client: ClientId,
    sent_at: SimTime,
    bucket: Option<BucketId>,
    /// The attempt it waits on, and its policies' state.
    waiting: Waiting,
    /// Its key, for consistent hashing (0 unless some balancer hashes).
    key: u64,
    /// Its client's priority.
    priority: Priority,
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

/// Who a job answers: the caller that sent it, or the message it is a delivery of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parent {
    /// A caller waits for the answer.
    Call(Caller),
    /// The job is a delivery of a queue's message (a key in the message slab): its end
    /// acknowledges the message, or not.
    Delivery(Key),
}

/// One execution of a request on one replica.
#[derive(Clone, Copy)]
struct Job {
    /// Who waits for the answer, and which of its attempts (or, for a delivery, which
    /// receipt of the message) this job answers.
    caller: Parent,
    answers: u32,
    /// The hop the request came over; the answer goes back over it (for a delivery, the
    /// hop its message came over, unused: the answer goes to the queue).
    edge: EdgeId,
    replica: ReplicaId,
    state: JobState,
    /// Downstream call entries made so far, the one in progress included.
    entries_made: u32,
    /// The downstream attempt it waits on, and the state of that call's policies.
    waiting: Waiting,
    arrived_at: SimTime,
    /// The replica's `paused_total` when the job's service last (re)started.
    pause_mark: SimDuration,
    /// When its caller gives up on it, if the caller propagates deadlines (else MAX): a
    /// worker drops it instead of serving it after that.
    give_up_at: SimTime,
    /// When it has waited longer than its replica allows (`max_queue_time`, CoDel): a
    /// worker sheds it instead of serving it after that (MAX when nothing sheds).
    shed_at: SimTime,
    /// A call it made was answered by a fallback: its own answer is degraded.
    degraded: bool,
    /// The key of the client request it serves, for consistent hashing.
    key: u64,
    /// The priority of the client request it serves.
    priority: Priority,
    /// The pool of its replica's workers it belongs to (0 without pools).
    pool: u8,
}

/// A client's runtime state.
struct ClientState {
    rng: SimRng,
    /// The edge its requests travel over.
    edge: EdgeId,
    /// The timer lane of its timeout.
    lane: LaneId,
    /// The balancer that chooses its target's replica.
    balancer: ids::BalancerId,
    /// How its request keys are drawn, with their own stream, if it says (boxed: rarely
    /// used, and kept off the cache lines of the hot fields).
    keys: Option<Box<(client::Keys, SimRng)>>,
    /// Its calls have policies (deadline, retries, breaker, budget or fallback).
    has_policy: bool,
    /// Its counted requests and their outcomes.
    counts: crate::metrics::Counts,
}

/// The whole simulated system of one run.
pub struct Model<'s> {
    scenario: &'s Scenario,
    end: SimTime,
    clients: IdVec<ClientId, ClientState>,
    services: IdVec<ServiceId, Service>,
    replicas: IdVec<ReplicaId, Replica>,
    topology: Topology,
    requests: Slab<Request>,
    jobs: Slab<Job>,
    recorder: Recorder,
    faults: FaultState,
    timers: Timers,
    sent: u64,
    /// Policy state of the logical calls in flight that have policies.
    policy_calls: Slab<CallState>,
    /// Breakers and budgets per caller and target.
    guards: Guards,
    /// Load balancers per caller and target (or shared per target).
    balancers: balancer::Balancers,
    /// Where plain calls' attempts went, once a balancer that tracks attempts was used.
    routes: Option<waiter::Routes>,
    /// Active health checking of services' replicas.
    health: health::Health,
    /// Services' rate limiters.
    rate_limits: rate_limits::RateLimits,
    /// Replicas' adaptive concurrency limits.
    concurrency_limits: concurrency_limits::ConcurrencyLimits,
    /// Some balancer hashes request keys: requests draw keys and calls carry them.
    keyed: bool,
    /// Some client's requests have a priority other than the default: calls carry it.
    prioritized: bool,
    /// What the policies did.
    policy_counts: PolicyCounts,
    /// Idempotency keys, when some call site retries (else `None`: nothing to track).
    idem: Option<idempotency::Tracker>,
    /// Some service keeps an idempotency store: arrivals look their key up in it.
    stores: bool,
    /// Message queues and their messages.
    queues: queues::Queues,
    /// Records chosen requests and fault changes, when tracing (`resim trace`, `explain`).
    trace: Option<Box<crate::trace::Tracer>>,
}

impl<'s> Model<'s> {
    /// Builds the model of `scenario` for the run seeded with `seed`, and schedules each
    /// client's first requests and each fault's first transition.
    pub fn new(scenario: &'s Scenario, seed: u64, sched: &mut Scheduler<Event>) -> Self {
        let end = SimTime(scenario.duration.as_nanos());
        let (first_replica, replicas) = build::replicas(scenario, seed);
        let topology = Topology::build(scenario, seed);
        let faults = FaultState::build(scenario, seed, &first_replica, &topology);
        // Timer lanes are made in this order: clients' timeouts, then call entries'.
        let mut timers = Timers::default();
        let balancers = balancer::Balancers::build(scenario, seed);
        let clients = build::clients(scenario, seed, &topology, &balancers, &mut timers);
        let services = build::services(scenario, &topology, &first_replica, &mut timers);
        let mut model = Model {
            scenario,
            end,
            clients,
            services,
            replicas,
            topology,
            requests: Slab::new(),
            jobs: Slab::new(),
            recorder: Recorder::new(scenario.warmup, scenario.duration, scenario.bucket),
            faults,
            timers,
            sent: 0,
            policy_calls: Slab::new(),
            guards: Guards::build(scenario, seed),
            balancers,
            routes: None,
            health: health::Health::build(scenario),
            rate_limits: rate_limits::RateLimits::build(scenario),
            concurrency_limits: concurrency_limits::ConcurrencyLimits::build(scenario),
            prioritized: scenario
                .clients
                .iter()
                .any(|c| c.priority != Priority::Default),
            keyed: scenario
                .clients
                .iter()
                .map(|c| c.balancer.kind)
                .chain(
                    scenario
                        .services
                        .iter()
                        .flat_map(|s| s.calls.iter().map(|c| c.balancer.kind)),
                )
                .any(|k| k.hashes()),
            policy_counts: PolicyCounts::default(),
            idem: scenario.can_repeat().then(idempotency::Tracker::default),
            stores: scenario
                .services
                .iter()
                .any(|s| matches!(s.idempotency, crate::scenario::Idempotency::Store { .. })),
            queues: queues::Queues::build(scenario, seed),
            trace: None,
        };
        model.schedule_first_sends(sched);
        model.schedule_faults(sched);
        model.schedule_health_checks(sched);
        model
    }

    fn schedule_first_sends(&mut self, sched: &mut Scheduler<Event>) {
        for (i, c) in self.scenario.clients.iter().enumerate() {
            let client = ClientId::from_index(i);
            let rng = &mut self.clients[client].rng;
            match &c.arrival {
                Arrival::Closed { users, think_time } => {
                    for _ in 0..*users {
                        let wait = think_time.sample(rng);
                        if SimTime::ZERO + wait < self.end {
                            sched.after(wait, Event::Send { client });
                        }
                    }
                }
                open => {
                    if let Some(t) = client::next_send(open, rng, SimTime::ZERO, self.end) {
                        sched.at(t, Event::Send { client });
                    }
                }
            }
        }
    }

    /// True when something that happens at `now` is counted: inside the measured window
    /// (after the warm-up, before the end).
    #[inline]
    fn counted(&self, now: SimTime) -> bool {
        now >= self.recorder.window_start() && now < self.end
    }

    /// Attaches `tracer`: from now on the model tells it what happens (and nothing else
    /// changes).
    pub fn attach_tracer(&mut self, tracer: Box<crate::trace::Tracer>) {
        self.trace = Some(tracer);
    }

    /// Takes the attached tracer back, if any.
    pub fn take_tracer(&mut self) -> Option<Box<crate::trace::Tracer>> {
        self.trace.take()
    }

    /// Tells the tracer, if any, that `kind` happened at `caller` now (the policy paths call
    /// it: kept out of line, so that their code stays as it was without tracing).
    #[inline(never)]
    fn trace_step(&mut self, now: SimTime, caller: Caller, kind: crate::trace::StepKind) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.step(now, caller, kind);
        }
    }

    /// Requests sent by clients so far, counted or not.
    pub fn requests_sent(&self) -> u64 {
        self.sent
    }

    /// The first queue that needed a row past `max_result_rows`, by name, and when.
    pub fn out_of_rows(&self) -> Option<(&str, SimTime)> {
        let (q, at) = self.queues.out_of_rows()?;
        Some((self.scenario.queues[q.index()].name.as_str(), at))
    }

    /// Freezes the run's metrics; every request must have ended. The time of the last
    /// event, `_end`, is not needed: nothing changes after it, so the time series simply
    /// carry the final state to the end of the measured window.
    pub fn finish(mut self, _end: SimTime) -> RunMetrics {
        assert!(self.requests.is_empty(), "every request ended");
        let (queues, messages) = self.queues.finish(self.scenario, self.end);
        let run = self.recorder.finish_run();
        let clients = self
            .clients
            .iter()
            .zip(&self.scenario.clients)
            .map(|(state, c)| crate::metrics::ClientMetrics {
                name: c.name.clone(),
                counts: state.counts,
                priority: c.priority,
            })
            .collect();
        let services = self
            .services
            .into_iter()
            .zip(&self.scenario.services)
            .map(|(service, s)| service.recorder.finish(&s.name))
            .collect();
        RunMetrics {
            totals: run.totals,
            latency: run.latency,
            latency_bins: run.latency_bins,
            buckets: run.rows,
            services,
            clients,
            policy: self.policy_counts,
            policy_log: {
                let mut log = self.guards.finish();
                self.balancers.log_into(&mut log, self.end);
                self.health.log_into(&mut log, self.scenario);
                self.concurrency_limits.log_into(&mut log, self.scenario);
                log
            },
            queues,
            messages,
        }
    }

    /// A client sends a request now, and schedules its next one (open loop).
    #[inline(always)]
    fn send_from_client(&mut self, client: ClientId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if now >= self.end {
            return;
        }
        // The next send is drawn first and scheduled last. Drawing it first changes no value
        // (nothing below draws from an open-loop client's stream) but lets the processor work
        // out the next send time while it dispatches this request: that time decides where
        // the event lands in the queue, which the next pop waits for. Scheduling it last
        // keeps the order of equal-time events.
        let spec = &self.scenario.clients[client.index()];
        let next = match &spec.arrival {
            arrival @ (Arrival::Poisson(_) | Arrival::Constant(_)) => {
                let rng = &mut self.clients[client].rng;
                client::next_send(arrival, rng, now, self.end)
            }
            Arrival::Closed { .. } => None,
        };
        self.sent += 1;
        let bucket = self.recorder.start(now);
        let state = &mut self.clients[client];
        let has_policy = state.has_policy;
        if let Some(b) = bucket {
            state.counts.requests += 1;
            if !has_policy {
                state.counts.attempts += 1;
                self.recorder.attempt(b);
            }
        }
        let key = if self.keyed { self.draw_key(client) } else { 0 };
        let request = self.requests.insert(Request {
            client,
            sent_at: now,
            bucket,
            waiting: Waiting::default(),
            key,
            priority: spec.priority,
        });
        if let Some(t) = &mut self.idem {
            t.request_sent(request.slot());
        }
        if let Some(t) = self.trace.as_deref_mut() {
            t.request_sent(now, request, self.sent, client.index());
        }
        let ClientState {
            edge,
            lane,
            balancer,
            ..
        } = self.clients[client];
        if has_policy {
            let guard = self.guards.of_client(client);
            self.begin_policy_call(Caller::Request(request), guard, SimTime::MAX, sched);
        } else {
            self.dispatch(Caller::Request(request), 0, edge, lane, balancer, sched);
        }
        if let Some(t) = next {
            sched.at(t, Event::Send { client });
        }
    }

    /// The key of client `client`'s next request: drawn from its `request_keys` (Zipf over
    /// the key space, from the client's own key stream), or the request's own number.
    #[inline(never)]
    fn draw_key(&mut self, client: ClientId) -> u64 {
        match &mut self.clients[client].keys {
            Some(k) => {
                let (keys, rng) = &mut **k;
                keys.draw(rng)
            }
            None => self.sent,
        }
    }

    /// A client's request ends with `outcome`.
    #[inline(always)]
    fn end_request(&mut self, key: Key, outcome: crate::Outcome, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let q = self.requests.remove(key).expect("the request is live");
        if let Some(t) = self.trace.as_deref_mut() {
            t.request_ended(now, key, outcome);
        }
        // A request without policies settles its one attempt with its balancer here (with
        // policies, its call state did).
        self.settle_plain(Caller::Request(key), Some(outcome), now);
        if let Some(t) = &mut self.idem {
            t.request_ended(key.slot());
        }
        if let Some(b) = q.bucket {
            self.clients[q.client].counts.record(outcome);
            self.recorder.finish(b, outcome, now - q.sent_at, now);
        }
        if let Arrival::Closed { think_time, .. } = &self.scenario.clients[q.client.index()].arrival
        {
            let wait = think_time.sample(&mut self.clients[q.client].rng);
            if now + wait < self.end {
                sched.after(wait, Event::Send { client: q.client });
            }
        }
    }
}

impl World for Model<'_> {
    type Event = Event;

    #[inline(always)]
    fn handle(&mut self, event: Event, sched: &mut Scheduler<Event>) {
        match event {
            Event::Send { client } => self.send_from_client(client, sched),
            Event::Deliver { job } => self.deliver(job, sched),
            Event::ServiceDone { job } => self.service_done(job, sched),
            Event::ReplyToRequest {
                request,
                attempt,
                outcome,
            } => self.receive(Caller::Request(request), attempt, outcome, sched),
            Event::ReplyToJob {
                job,
                attempt,
                outcome,
            } => self.receive(Caller::Job(job), attempt, outcome, sched),
            Event::TimersDue { lane } => self.timers_due(lane, sched),
            Event::AttemptTimeout { job, attempt } => {
                self.timeout(Caller::Job(job), TimerTag::Attempt(attempt), sched)
            }
            Event::DeadlineTimeout { job, entry } => {
                self.timeout(Caller::Job(job), TimerTag::Deadline(entry), sched)
            }
            Event::RetryRequest { request, attempt } => {
                self.retry_due(Caller::Request(request), attempt, sched)
            }
            Event::RetryJob { job, attempt } => self.retry_due(Caller::Job(job), attempt, sched),
            Event::HedgeRequest { request, attempt } => {
                self.hedge_due(Caller::Request(request), attempt, sched)
            }
            Event::HedgeJob { job, attempt } => self.hedge_due(Caller::Job(job), attempt, sched),
            Event::BreakerDue { guard, epoch } => self.breaker_due(guard, epoch, sched),
            Event::HealthCheck { service } => self.health_check(service, sched),
            Event::HealthChange { replica, healthy } => {
                self.health_change(replica, healthy, sched.now())
            }
            Event::BulkheadSlotRequest { request } => {
                self.bulkhead_slot(Caller::Request(request), sched)
            }
            Event::BulkheadSlotJob { job } => self.bulkhead_slot(Caller::Job(job), sched),
            Event::BulkheadTimeoutRequest { request, epoch } => {
                self.bulkhead_timeout(Caller::Request(request), epoch, sched)
            }
            Event::BulkheadTimeoutJob { job, epoch } => {
                self.bulkhead_timeout(Caller::Job(job), epoch, sched)
            }
            Event::LimiterWakeRequest { request, epoch } => {
                self.limiter_wake(Caller::Request(request), epoch, sched)
            }
            Event::LimiterWakeJob { job, epoch } => {
                self.limiter_wake(Caller::Job(job), epoch, sched)
            }
            Event::ProbeArrive { replica, round } => self.probe_arrives(replica, round, sched),
            Event::ProbeServed { replica, round } => self.probe_served(replica, round, sched),
            Event::ProbeAnswer {
                replica,
                round,
                passed,
            } => self.probe_answered(replica, round, passed, sched),
            Event::ProbeTimeout { replica, round } => {
                self.probe_answered(replica, round, false, sched)
            }
            Event::FaultOn { fault, unit } => self.fault_on(fault, unit, sched),
            Event::FaultOff { fault, unit } => self.fault_off(fault, unit, sched),
            Event::ChaosTick { fault } => self.chaos_tick(fault, sched),
            Event::MessageArrive { message } => self.message_arrives(message, sched),
            Event::VisibilityDue { queue } => self.visibility_due(queue, sched),
        }
    }

    fn held(&self) -> usize {
        Model::held(self)
    }

    fn outgrown(&self) -> bool {
        self.queues.out_of_rows().is_some()
    }
}
