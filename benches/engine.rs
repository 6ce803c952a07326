//! Engine throughput: resim against a plain Rust loop on the reference workloads of
//! `/work/shared/perf/README.md` (mirrored in `benches/README.md`).
//!
//! Every benchmark reports events per second (divan's `item/s` column), so the rows can be
//! compared with one another. Compare rows of one run only: the machines are noisy.
//!
//! - `w1::reference_loop`: M/M/1 written out by hand, with no framework: a `BinaryHeap` of
//!   events keyed by (time, sequence), ChaCha8 streams, `rand_distr::Exp1` samples and
//!   integer nanosecond time. Poisson arrivals at rate 0.9 per time unit, one FIFO server
//!   with exponential service at rate 1, [`CUSTOMERS`] customers. It pops two events per
//!   customer (arrival, departure) and computes the mean response time.
//! - `w1::engine_parts`: the plain loop written on resim's own event queue, random streams,
//!   exponential draws and request recorder (counts and both latency histograms), with no
//!   model: the part of W1's cost that is the engine and the metrics, not the model's steps.
//! - `w1::resim`: the same system as a resim scenario ([`w1_scenario`]), run by
//!   [`resim::run_one`]. One time unit is 1 ms: the client sends 900 requests per second
//!   and the service time has a mean of 1 ms. `duration` is [`CUSTOMERS`] / 0.9 time
//!   units, so the client sends [`CUSTOMERS`] requests on average (the count is Poisson,
//!   not exact). Hops have no latency, so resim delivers requests and replies inside the
//!   event that sends them: two events per customer (client send, service done), as in the
//!   reference loop.
//! - `w2_no_retries::resim`: W2 without its policies: 100 Poisson clients at 0.09 per time
//!   unit each, one service with 10 replicas, concurrency 1, an unbounded queue and
//!   exponential service at rate 1, for [`W2_REQUESTS`] requests on average. Nothing times
//!   out, nothing is retried and nothing is dropped at dequeue. Two events per request. Each
//!   client balances round robin on its own (resim's default, per caller and callee), so the
//!   simulated latencies are not W2's (mean 5.66 and p99 26.1 with one shared balancer).
//! - `w2::resim`: the full W2 policy (timeouts, full-jitter retries, drop at dequeue) with
//!   resim's default balancer, one per client; see `w2_full_scenario`.
//! - `w2_shared::reference_loop` and `w2_shared::resim`: W2 proper, with one round-robin
//!   balancer over every attempt (`scope = "shared"` in resim), timeouts, full-jitter
//!   retries and drop at dequeue; both count two items per attempt, as the perf notes do.
//! - `w2_no_retries::reference_loop`: a plain loop doing exactly the work of
//!   `w2_no_retries::resim` (per-client round robin, no retries), so the two can be compared
//!   like for like. It is not the W2 plain loop of the perf README, which has retries.
//!
//! Each iteration runs the whole workload with the fixed seed [`SEED`], so the number of
//! events is the same in every iteration; it is measured once before sampling and given to
//! divan as the item count. Building the resim scenario from its TOML text is not timed.
//!
//! Run with `cargo bench --bench engine`. With `RESIM_BENCH_CHECK=1` in the environment
//! the bench instead runs every variant once per seed 1 to 5 and prints the customer
//! counts, event counts and mean response times (M/M/1 theory: 10 time units), to show
//! that the variants simulate the same system.

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use rand::SeedableRng;
use rand::distr::Distribution;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Customers of W1 (the reference loop serves exactly this many; resim this many on average).
const CUSTOMERS: u64 = 1_000_000;
/// Requests of W2 without retries, on average, over all clients.
const W2_REQUESTS: u64 = 1_000_000;
/// The seed of every timed iteration.
const SEED: u64 = 1;
/// Samples per benchmark: one iteration each, tens to hundreds of milliseconds.
const SAMPLES: u32 = 20;

/// One time unit in nanoseconds: 1 ms.
const UNIT_NS: f64 = 1e6;
/// W1 arrival rate per time unit.
const W1_ARRIVAL_RATE: f64 = 0.9;
/// W2: number of clients and each one's arrival rate per time unit.
const W2_CLIENTS: u32 = 100;
const W2_CLIENT_RATE: f64 = 0.09;
/// W2: number of servers.
const W2_SERVERS: u32 = 10;
/// Service rate per time unit, both workloads.
const SERVICE_RATE: f64 = 1.0;

fn main() {
    if std::env::var_os("RESIM_BENCH_CHECK").is_some() {
        check();
    } else {
        divan::main();
    }
}

// ---------------------------------------------------------------------------------------
// The plain loops.

/// What a plain loop computed.
#[derive(Clone, Copy, Debug)]
struct LoopResult {
    /// Events popped from the heap.
    events: u64,
    /// Customers served.
    customers: u64,
    /// Mean response time, in time units.
    mean_response: f64,
}

/// A min-heap of events keyed by (time in ns, sequence number); `u32` says what happens.
struct Heap {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    seq: u64,
}

impl Heap {
    fn new() -> Self {
        Heap {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
        }
    }

    #[inline]
    fn push(&mut self, time: u64, what: u32) {
        self.heap.push(Reverse((time, self.seq, what)));
        self.seq += 1;
    }

    #[inline]
    fn pop(&mut self) -> Option<(u64, u32)> {
        self.heap.pop().map(|Reverse((t, _, what))| (t, what))
    }
}

/// One ChaCha8 stream of the run seeded with `seed`.
fn stream(seed: u64, number: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(number);
    rng
}

/// An exponential duration with mean `mean_ns`, rounded to the nearest nanosecond.
#[inline]
fn exp_ns(rng: &mut ChaCha8Rng, mean_ns: f64) -> u64 {
    let e: f64 = Exp1.sample(rng);
    (e * mean_ns).round() as u64
}

/// W1 as a plain loop: M/M/1 with `customers` customers.
fn reference_w1(customers: u64, seed: u64) -> LoopResult {
    const ARRIVAL: u32 = 0;
    const DEPARTURE: u32 = 1;
    let arrival_mean = UNIT_NS / W1_ARRIVAL_RATE;
    let service_mean = UNIT_NS / SERVICE_RATE;
    let mut arrivals = stream(seed, 1);
    let mut services = stream(seed, 2);
    let mut heap = Heap::new();
    // Arrival times of the customer in service (front) and of those waiting behind it.
    let mut queue: VecDeque<u64> = VecDeque::with_capacity(1024);
    let (mut sent, mut served, mut events, mut sum_ns) = (0u64, 0u64, 0u64, 0u128);
    if customers > 0 {
        sent = 1;
        heap.push(exp_ns(&mut arrivals, arrival_mean), ARRIVAL);
    }
    while let Some((now, what)) = heap.pop() {
        events += 1;
        if what == ARRIVAL {
            queue.push_back(now);
            if queue.len() == 1 {
                heap.push(now + exp_ns(&mut services, service_mean), DEPARTURE);
            }
            if sent < customers {
                sent += 1;
                heap.push(now + exp_ns(&mut arrivals, arrival_mean), ARRIVAL);
            }
        } else {
            let arrived = queue.pop_front().expect("a customer is in service");
            sum_ns += u128::from(now - arrived);
            served += 1;
            if !queue.is_empty() {
                heap.push(now + exp_ns(&mut services, service_mean), DEPARTURE);
            }
        }
    }
    LoopResult {
        events,
        customers: served,
        mean_response: sum_ns as f64 / served.max(1) as f64 / UNIT_NS,
    }
}

/// W1 written by hand on resim's own parts, with no model: its event queue
/// ([`resim::engine::EventQueue`]), its random streams and exponential draws
/// ([`resim::engine::SimRng`], [`resim::distribution::Distribution`]), and its request
/// recorder ([`resim::metrics::recorder::Recorder`]: counts per one-second bucket, the
/// run-wide and per-bucket latency histograms). It serves exactly `customers` customers,
/// like [`reference_w1`]; what it lacks beside the resim scenario is the model's own steps
/// (request and job records, balancer, waiting room, replies, service statistics).
fn engine_parts_w1(customers: u64, seed: u64) -> LoopResult {
    use resim::distribution::Distribution as Duration;
    use resim::engine::{EventQueue, SimDuration, SimRng, SimTime, StreamId};
    use resim::metrics::recorder::Recorder;
    #[derive(Clone, Copy)]
    enum Event {
        Arrival,
        Departure,
    }
    let arrival = Duration::Exponential {
        mean: UNIT_NS / W1_ARRIVAL_RATE,
    };
    let service = Duration::Exponential {
        mean: UNIT_NS / SERVICE_RATE,
    };
    let mut arrivals = SimRng::new(seed, StreamId::from_parts(&[b"arrivals"]));
    let mut services = SimRng::new(seed, StreamId::from_parts(&[b"server"]));
    let mut queue = EventQueue::new();
    // Every customer is counted: the window is far longer than the run.
    let window = SimDuration(duration_ns(customers, W1_ARRIVAL_RATE).saturating_mul(4));
    let mut recorder = Recorder::new(SimDuration::ZERO, window, SimDuration::from_secs(1));
    // Send time and bucket of the customer in service (front) and of those waiting.
    let mut waiting = VecDeque::with_capacity(1024);
    let (mut sent, mut served, mut events) = (0u64, 0u64, 0u64);
    if customers > 0 {
        sent = 1;
        queue.push(
            SimTime::ZERO + arrival.sample(&mut arrivals),
            Event::Arrival,
        );
    }
    while let Some((now, event)) = queue.pop() {
        events += 1;
        match event {
            Event::Arrival => {
                waiting.push_back((now, recorder.start(now)));
                if waiting.len() == 1 {
                    queue.push(now + service.sample(&mut services), Event::Departure);
                }
                if sent < customers {
                    sent += 1;
                    queue.push(now + arrival.sample(&mut arrivals), Event::Arrival);
                }
            }
            Event::Departure => {
                let (arrived, bucket) = waiting.pop_front().expect("a customer is in service");
                let bucket = bucket.expect("the window holds every customer");
                recorder.finish(bucket, resim::Outcome::Ok, now - arrived, now);
                served += 1;
                if !waiting.is_empty() {
                    queue.push(now + service.sample(&mut services), Event::Departure);
                }
            }
        }
    }
    let run = recorder.finish_run();
    LoopResult {
        events,
        customers: served,
        mean_response: run.latency.map_or(f64::NAN, |l| l.mean_ns) / UNIT_NS,
    }
}

/// W2 without retries as a plain loop: Poisson clients send until `duration_ns`, each one
/// cycling over the servers on its own; every server is a FIFO queue with one worker.
fn reference_w2(duration_ns: u64, seed: u64) -> LoopResult {
    const SERVER: u32 = 1 << 31;
    let client_mean = UNIT_NS / W2_CLIENT_RATE;
    let service_mean = UNIT_NS / SERVICE_RATE;
    let mut clients: Vec<(ChaCha8Rng, u32)> = (0..W2_CLIENTS)
        .map(|c| (stream(seed, u64::from(c)), 0))
        .collect();
    let mut servers: Vec<(ChaCha8Rng, VecDeque<u64>)> = (0..W2_SERVERS)
        .map(|s| {
            (
                stream(seed, 1_000 + u64::from(s)),
                VecDeque::with_capacity(1024),
            )
        })
        .collect();
    let mut heap = Heap::new();
    let (mut served, mut events, mut sum_ns) = (0u64, 0u64, 0u128);
    for (c, (rng, _)) in clients.iter_mut().enumerate() {
        let t = exp_ns(rng, client_mean);
        if t < duration_ns {
            heap.push(t, c as u32);
        }
    }
    while let Some((now, what)) = heap.pop() {
        events += 1;
        if what & SERVER == 0 {
            let (rng, cursor) = &mut clients[what as usize];
            let s = *cursor % W2_SERVERS;
            *cursor = cursor.wrapping_add(1);
            let next = now + exp_ns(rng, client_mean);
            let (srng, queue) = &mut servers[s as usize];
            queue.push_back(now);
            if queue.len() == 1 {
                heap.push(now + exp_ns(srng, service_mean), SERVER | s);
            }
            if next < duration_ns {
                heap.push(next, what);
            }
        } else {
            let (srng, queue) = &mut servers[(what & !SERVER) as usize];
            let arrived = queue.pop_front().expect("a request is in service");
            sum_ns += u128::from(now - arrived);
            served += 1;
            if !queue.is_empty() {
                heap.push(now + exp_ns(srng, service_mean), what);
            }
        }
    }
    LoopResult {
        events,
        customers: served,
        mean_response: sum_ns as f64 / served.max(1) as f64 / UNIT_NS,
    }
}

/// A server of the W2 loop: its service stream, its queue of (request, attempt) with the
/// one in service first, and whether it is busy.
type Server = (ChaCha8Rng, VecDeque<(u32, u32)>, bool);

/// W2 proper as a plain loop: 100 Poisson clients, one round-robin cursor over every
/// attempt, 10 FIFO servers, a per-attempt timeout of 50 units, up to 3 retries after
/// full-jitter waits U(0, 2^k), and servers dropping at dequeue the attempts whose client
/// gave up. `events` counts two per attempt (sent, served or dropped), as the perf notes
/// do, so that it compares with resim's rate whatever each side schedules internally.
fn reference_w2_shared(duration_ns: u64, seed: u64) -> LoopResult {
    const ARRIVE: u32 = 0;
    const DONE: u32 = 1 << 30;
    const TIMEOUT: u32 = 2 << 30;
    const RETRY: u32 = 3 << 30;
    const PAYLOAD: u32 = (1 << 30) - 1;
    let client_mean = UNIT_NS / W2_CLIENT_RATE;
    let service_mean = UNIT_NS / SERVICE_RATE;
    let timeout = (50.0 * UNIT_NS) as u64;
    /// A request: its client, when it was first sent, its attempt in flight, the attempts
    /// its client gave up on (bits), and whether it succeeded.
    struct Request {
        client: u32,
        sent: u64,
        attempt: u32,
        gave_up: u8,
        done: bool,
    }
    let mut arrivals: Vec<ChaCha8Rng> = (0..W2_CLIENTS)
        .map(|c| stream(seed, u64::from(c)))
        .collect();
    let mut jitter: Vec<ChaCha8Rng> = (0..W2_CLIENTS)
        .map(|c| stream(seed, 2_000 + u64::from(c)))
        .collect();
    let mut servers: Vec<Server> = (0..W2_SERVERS)
        .map(|s| {
            (
                stream(seed, 1_000 + u64::from(s)),
                VecDeque::with_capacity(1024),
                false,
            )
        })
        .collect();
    let mut requests: Vec<Request> = Vec::with_capacity(1 << 20);
    let mut heap = Heap::new();
    let mut cursor = 0u32;
    let (mut attempts, mut served, mut sum_ns) = (0u64, 0u64, 0u128);
    for (c, rng) in arrivals.iter_mut().enumerate() {
        let t = exp_ns(rng, client_mean);
        if t < duration_ns {
            heap.push(t, ARRIVE | c as u32);
        }
    }
    // Sends attempt `a` of request `r` now: to the next server, with its timeout.
    let mut send = |heap: &mut Heap, servers: &mut [Server], now: u64, r: u32, a: u32| {
        attempts += 1;
        let s = (cursor % W2_SERVERS) as usize;
        cursor = cursor.wrapping_add(1);
        let (rng, queue, busy) = &mut servers[s];
        if *busy {
            queue.push_back((r, a));
        } else {
            *busy = true;
            queue.push_back((r, a));
            heap.push(now + exp_ns(rng, service_mean), DONE | s as u32);
        }
        heap.push(now + timeout, TIMEOUT | (r * 4 + a));
    };
    while let Some((now, what)) = heap.pop() {
        let payload = what & PAYLOAD;
        match what & !PAYLOAD {
            ARRIVE => {
                let c = payload;
                let r = requests.len() as u32;
                requests.push(Request {
                    client: c,
                    sent: now,
                    attempt: 0,
                    gave_up: 0,
                    done: false,
                });
                send(&mut heap, &mut servers, now, r, 0);
                let next = now + exp_ns(&mut arrivals[c as usize], client_mean);
                if next < duration_ns {
                    heap.push(next, what);
                }
            }
            DONE => {
                let s = payload as usize;
                let (r, a) = servers[s].1.pop_front().expect("an attempt in service");
                let q = &mut requests[r as usize];
                if !q.done && q.attempt == a && q.gave_up & (1 << a) == 0 {
                    q.done = true;
                    served += 1;
                    sum_ns += u128::from(now - q.sent);
                }
                // The next attempt its client still waits for; the others are dropped.
                let (rng, queue, busy) = &mut servers[s];
                while let Some(&(r, a)) = queue.front() {
                    if requests[r as usize].gave_up & (1 << a) == 0 {
                        break;
                    }
                    queue.pop_front();
                }
                if queue.is_empty() {
                    *busy = false;
                } else {
                    heap.push(now + exp_ns(rng, service_mean), what);
                }
            }
            TIMEOUT => {
                let (r, a) = (payload / 4, payload % 4);
                let q = &mut requests[r as usize];
                if q.done || q.attempt != a {
                    continue;
                }
                q.gave_up |= 1 << a;
                if a < 3 {
                    let bound = UNIT_NS * f64::from(1u32 << a);
                    let u: f64 = rand::RngExt::random(&mut jitter[q.client as usize]);
                    heap.push(now + (u * bound) as u64, RETRY | (r * 4 + a + 1));
                }
            }
            _ => {
                let (r, a) = (payload / 4, payload % 4);
                requests[r as usize].attempt = a;
                send(&mut heap, &mut servers, now, r, a);
            }
        }
    }
    LoopResult {
        events: 2 * attempts,
        customers: served,
        mean_response: sum_ns as f64 / served.max(1) as f64 / UNIT_NS,
    }
}

// ---------------------------------------------------------------------------------------
// The resim scenarios.

/// A run length, in nanoseconds, in which `count` requests arrive on average at `rate`
/// per time unit.
fn duration_ns(count: u64, rate: f64) -> u64 {
    (count as f64 / rate * UNIT_NS).round() as u64
}

/// A per-second rate written for TOML, from a rate per time unit.
fn per_second(rate: f64) -> f64 {
    rate * 1e9 / UNIT_NS
}

/// W1 as a resim scenario: one Poisson client, one single-worker FIFO server.
fn w1_scenario(customers: u64) -> resim::Scenario {
    let text = format!(
        r#"
name = "w1"
description = "M/M/1 at load 0.9; one time unit is 1 ms"
duration = "{duration}ns"

[[client]]
name = "arrivals"
target = "server"
arrival = {{ kind = "poisson", rate_per_s = {rate} }}

[[service]]
name = "server"
replicas = 1
concurrency = 1
queue = "unbounded"
service_time = {{ kind = "exponential", mean = "{mean}ns" }}
"#,
        duration = duration_ns(customers, W1_ARRIVAL_RATE),
        rate = per_second(W1_ARRIVAL_RATE),
        mean = UNIT_NS / SERVICE_RATE,
    );
    resim::Scenario::from_text(&text, "w1.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// W2 without retries as a resim scenario: 100 Poisson clients, 10 single-worker replicas.
fn w2_scenario(requests: u64) -> resim::Scenario {
    let text = w2_scenario_text(requests);
    resim::Scenario::from_text(&text, "w2.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The text of [`w2_scenario`].
fn w2_scenario_text(requests: u64) -> String {
    let rate = W2_CLIENT_RATE * f64::from(W2_CLIENTS);
    let mut text = format!(
        r#"
name = "w2-no-retries"
description = "100 clients, 10 servers at load 0.9, no retries; one time unit is 1 ms"
duration = "{duration}ns"

[[service]]
name = "server"
replicas = {servers}
concurrency = 1
queue = "unbounded"
service_time = {{ kind = "exponential", mean = "{mean}ns" }}
"#,
        duration = duration_ns(requests, rate),
        servers = W2_SERVERS,
        mean = UNIT_NS / SERVICE_RATE,
    );
    for c in 0..W2_CLIENTS {
        text.push_str(&format!(
            "\n[[client]]\nname = \"c{c}\"\ntarget = \"server\"\n\
             arrival = {{ kind = \"poisson\", rate_per_s = {} }}\n",
            per_second(W2_CLIENT_RATE)
        ));
    }
    text
}

/// W2 proper: the full policy with one shared round-robin balancer over every attempt, the
/// same system as [`reference_w2_shared`]. Theory: mean 5.66 units, success 100%.
fn w2_shared_scenario(requests: u64) -> resim::Scenario {
    let text = w2_full_text(requests).replace(
        "target = \"server\"\n",
        "target = \"server\"\nload_balancer = { kind = \"round_robin\", scope = \"shared\" }\n",
    );
    resim::Scenario::from_text(&text, "w2-shared.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The full W2 policy with resim's default balancer (one per client): W2 without retries
/// plus, per client, a per-attempt timeout of 50 units, up to 3 retries after full-jitter
/// waits U(0, 2^k) units for k = 0, 1, 2, and servers that drop an attempt at dequeue once
/// its client has given up on it (deadline propagation). Its mean is about 7.5 units: the
/// servers see a less even split than through one shared balancer.
fn w2_full_scenario(requests: u64) -> resim::Scenario {
    let text = w2_full_text(requests);
    resim::Scenario::from_text(&text, "w2-full.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The text of W2 with its full policy (timeouts, retries, drop at dequeue).
fn w2_full_text(requests: u64) -> String {
    let plain = w2_scenario_text(requests);
    let policies = format!(
        "timeout = \"{timeout}ns\"\npropagate_deadline = true\n\
         retry = {{ max_attempts = 4, backoff = {{ kind = \"exponential\", base = \"{base}ns\", multiplier = 2.0, cap = \"1h\" }}, jitter = \"full\" }}\n",
        timeout = 50.0 * UNIT_NS,
        base = UNIT_NS,
    );
    plain
        .replace("name = \"w2-no-retries\"", "name = \"w2\"")
        .replace(
            "target = \"server\"\n",
            &format!("target = \"server\"\n{policies}"),
        )
}

/// Runs `scenario` once; panics if the run fails.
fn run(scenario: &resim::Scenario, seed: u64) -> resim::RunResult {
    resim::run_one(scenario, seed).unwrap_or_else(|e| panic!("{e}"))
}

/// Mean response time of a resim run, in time units.
fn resim_mean(r: &resim::RunResult) -> f64 {
    r.metrics.latency.map_or(f64::NAN, |l| l.mean_ns / UNIT_NS)
}

// ---------------------------------------------------------------------------------------
// The benchmarks.

mod w1 {
    use super::*;

    /// The plain loop: `BinaryHeap` + ChaCha8, no framework.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn reference_loop(bencher: Bencher) {
        let events = reference_w1(CUSTOMERS, SEED).events;
        bencher
            .counter(ItemsCount::new(events))
            .bench(|| reference_w1(black_box(CUSTOMERS), black_box(SEED)));
    }

    /// The plain loop on resim's event queue, random streams and request recorder.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn engine_parts(bencher: Bencher) {
        let events = engine_parts_w1(CUSTOMERS, SEED).events;
        bencher
            .counter(ItemsCount::new(events))
            .bench(|| engine_parts_w1(black_box(CUSTOMERS), black_box(SEED)));
    }

    /// resim running the W1 scenario.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn resim(bencher: Bencher) {
        let scenario = w1_scenario(CUSTOMERS);
        let events = run(&scenario, SEED).events;
        bencher
            .counter(ItemsCount::new(events))
            .bench(|| resim::run_one(black_box(&scenario), black_box(SEED)));
    }
}

mod w2_no_retries {
    use super::*;

    /// The plain loop doing the work of the resim scenario below.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn reference_loop(bencher: Bencher) {
        let end = duration_ns(W2_REQUESTS, W2_CLIENT_RATE * f64::from(W2_CLIENTS));
        let events = reference_w2(end, SEED).events;
        bencher
            .counter(ItemsCount::new(events))
            .bench(|| reference_w2(black_box(end), black_box(SEED)));
    }

    /// resim running W2 without timeouts or retries.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn resim(bencher: Bencher) {
        let scenario = w2_scenario(W2_REQUESTS);
        let events = run(&scenario, SEED).events;
        bencher
            .counter(ItemsCount::new(events))
            .bench(|| resim::run_one(black_box(&scenario), black_box(SEED)));
    }
}

mod w2 {
    use super::*;

    /// resim running the full W2: timeouts, retries with full jitter, drop at dequeue.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn resim(bencher: Bencher) {
        let scenario = w2_full_scenario(W2_REQUESTS);
        let events = run(&scenario, SEED).events;
        bencher
            .counter(ItemsCount::new(events))
            .bench(|| resim::run_one(black_box(&scenario), black_box(SEED)));
    }
}

mod w2_shared {
    use super::*;

    /// The plain loop of W2 proper; items are two per attempt.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn reference_loop(bencher: Bencher) {
        let end = duration_ns(W2_REQUESTS, W2_CLIENT_RATE * f64::from(W2_CLIENTS));
        let items = reference_w2_shared(end, SEED).events;
        bencher
            .counter(ItemsCount::new(items))
            .bench(|| reference_w2_shared(black_box(end), black_box(SEED)));
    }

    /// resim running W2 proper with a shared balancer; items are two per attempt.
    #[divan::bench(sample_count = SAMPLES, sample_size = 1)]
    fn resim(bencher: Bencher) {
        let scenario = w2_shared_scenario(W2_REQUESTS);
        let items = 2 * run(&scenario, SEED).metrics.totals.attempts;
        bencher
            .counter(ItemsCount::new(items))
            .bench(|| resim::run_one(black_box(&scenario), black_box(SEED)));
    }
}

// ---------------------------------------------------------------------------------------
// The one-off check (RESIM_BENCH_CHECK=1).

/// Prints what each variant simulated for seeds 1 to 5: counts and mean response times.
fn check() {
    let seeds = 1..=5u64;
    let w1 = w1_scenario(CUSTOMERS);
    let w2 = w2_scenario(W2_REQUESTS);
    let w2_full = w2_full_scenario(W2_REQUESTS);
    let w2_shared = w2_shared_scenario(W2_REQUESTS);
    let w2_end = duration_ns(W2_REQUESTS, W2_CLIENT_RATE * f64::from(W2_CLIENTS));
    println!("mean response time in time units (1 unit = 1 ms); M/M/1 theory for W1: 10.0");
    println!(
        "{:<28} {:>4} {:>10} {:>10} {:>8}",
        "variant", "seed", "customers", "events", "mean"
    );
    let mut pooled = [(0.0f64, 0u64); 8];
    for seed in seeds {
        let rows = [
            ("w1 reference_loop", {
                let r = reference_w1(CUSTOMERS, seed);
                (r.customers, r.events, r.mean_response)
            }),
            ("w1 engine_parts", {
                let r = engine_parts_w1(CUSTOMERS, seed);
                (r.customers, r.events, r.mean_response)
            }),
            ("w1 resim", {
                let r = run(&w1, seed);
                (r.requests_sent, r.events, resim_mean(&r))
            }),
            ("w2_no_retries reference_loop", {
                let r = reference_w2(w2_end, seed);
                (r.customers, r.events, r.mean_response)
            }),
            ("w2_no_retries resim", {
                let r = run(&w2, seed);
                (r.requests_sent, r.events, resim_mean(&r))
            }),
            ("w2 resim (own balancers)", {
                let r = run(&w2_full, seed);
                (r.requests_sent, r.events, resim_mean(&r))
            }),
            ("w2_shared reference_loop", {
                let r = reference_w2_shared(w2_end, seed);
                (r.customers, r.events, r.mean_response)
            }),
            ("w2_shared resim", {
                let r = run(&w2_shared, seed);
                (
                    r.requests_sent,
                    2 * r.metrics.totals.attempts,
                    resim_mean(&r),
                )
            }),
        ];
        for (i, (name, (customers, events, mean))) in rows.into_iter().enumerate() {
            println!("{name:<28} {seed:>4} {customers:>10} {events:>10} {mean:>8.3}");
            pooled[i].0 += mean * customers as f64;
            pooled[i].1 += customers;
        }
    }
    let names = [
        "w1 reference_loop",
        "w1 engine_parts",
        "w1 resim",
        "w2_no_retries reference_loop",
        "w2_no_retries resim",
        "w2 resim (own balancers)",
        "w2_shared reference_loop",
        "w2_shared resim",
    ];
    for (name, (sum, n)) in names.iter().zip(pooled) {
        println!(
            "{name:<28} pooled mean {:.3} over {n} customers",
            sum / n as f64
        );
    }
}
