//! Scenarios: the TOML file format, its validation, and the plain data a run is built from.
//!
//! Loading goes file text -> [`file::ScenarioFile`] (serde mirror, spans kept) ->
//! [`validate`] (every problem collected, each with `FILE:LINE:COL`) -> [`Scenario`].

pub mod balancer;
pub mod diagnostic;
pub mod expect;
pub mod fault;
pub mod file;
pub mod policy;
pub mod policy_file;
pub mod queue;
pub mod queueing;
pub mod rate_limit;
mod rows;
pub mod study;
pub mod units;
pub mod validate;

pub use diagnostic::{Diagnostic, ScenarioError};
pub use queue::{Dest, QueueSpec};
pub use study::Study;

use crate::distribution::Distribution;
use crate::engine::{SimDuration, SimTime};
use std::io::Read;
use std::path::Path;

/// Files larger than this are refused before they are read whole.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A validated scenario: plain data, shared read-only by every run.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Short name; outputs go to `output/<name>/` by default.
    pub name: String,
    /// One line saying what the scenario shows.
    pub description: String,
    /// The seed of the first run.
    pub seed: u64,
    /// Clients send until this time; requests in flight then drain.
    pub duration: SimDuration,
    /// Requests sent before this time are simulated but not counted.
    pub warmup: SimDuration,
    /// Width of a `timeseries.csv` row.
    pub bucket: SimDuration,
    /// A run stops with an error after handling this many events.
    pub max_events: u64,
    /// A run stops with an error when more events, requests and timers than this are
    /// pending at once (a bound on memory).
    pub max_pending: u64,
    /// A run stops with an error after this many events without simulated time passing.
    pub max_events_at_one_time: u64,
    /// Most result rows of one run: the time series', the services' and the queues' (see
    /// [`Scenario::fixed_result_rows`]); a run whose queues would pass it stops with an error.
    pub max_result_rows: u64,
    /// One-way latency of every hop without a `[[link]]` entry.
    pub network_latency: Distribution,
    /// Sources of requests, in file order.
    pub clients: Vec<ClientSpec>,
    /// Services, in file order.
    pub services: Vec<ServiceSpec>,
    /// Per-link overrides, in file order.
    pub links: Vec<LinkSpec>,
    /// Faults, in file order.
    pub faults: Vec<fault::FaultSpec>,
    /// Message queues, in file order.
    pub queues: Vec<QueueSpec>,
    /// How long consumers keep taking messages after `duration`: what is still queued then
    /// stays queued, and is counted so.
    pub drain: SimDuration,
    /// The data files (`file = "..."`) the scenario read, sorted by the path as written.
    pub data_files: Vec<DataFile>,
}

/// A data file a scenario names: a load curve or a latency shape.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DataFile {
    /// The path as the scenario writes it: relative, inside the scenario's folder.
    pub written: String,
    /// Where it was read from.
    pub path: std::path::PathBuf,
}

/// A source of requests.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSpec {
    /// Unique among clients and services.
    pub name: String,
    /// The service it calls, or the queue it sends messages to.
    pub target: Dest,
    /// When requests are sent.
    pub arrival: Arrival,
    /// How long the client waits for each answer before giving up (outcome `timeout`).
    pub timeout: SimDuration,
    /// Deadline, retries, breaker, fallback and hedging of the client's calls.
    pub policy: policy::CallPolicy,
    /// How it chooses its target's replica.
    pub balancer: balancer::BalancerSpec,
    /// How its requests' keys are drawn (for consistent hashing); without, each request
    /// has a key of its own.
    pub keys: Option<balancer::KeySpace>,
    /// Its requests' priority, carried down the call tree.
    pub priority: Priority,
}

/// A request's priority (criticality, as Google's RPC stack names it): when something must
/// be dropped, sheddable requests go before default ones, and default before critical.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Kept the longest (a checkout, a login).
    Critical,
    /// The default.
    #[default]
    Default,
    /// Dropped first (a crawler, a prefetch, a batch job).
    Sheddable,
}

impl Priority {
    /// Number of classes.
    pub const COUNT: usize = 3;

    /// The names scenario files use, highest first.
    pub const NAMES: [&'static str; 3] = ["critical", "default", "sheddable"];

    /// Its position, highest first.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// The class named `name`.
    pub fn parse(name: &str) -> Option<Priority> {
        match name {
            "critical" => Some(Priority::Critical),
            "default" => Some(Priority::Default),
            "sheddable" => Some(Priority::Sheddable),
            _ => None,
        }
    }
}

/// How a client's requests arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrival {
    /// Open loop: a Poisson process whose rate may change by phase.
    Poisson(RateProfile),
    /// Open loop: evenly spaced requests at the current rate.
    Constant(RateProfile),
    /// Closed loop: `users` each send one request, wait for its outcome, think, repeat.
    Closed {
        /// Number of users.
        users: u32,
        /// Pause between an outcome and the user's next request.
        think_time: Distribution,
    },
}

/// A request rate over time: a base rate, changed inside phases.
#[derive(Clone, Debug, PartialEq)]
pub struct RateProfile {
    /// Requests per second outside every phase.
    pub base_per_s: f64,
    /// Non-overlapping phases, sorted by start.
    pub phases: Vec<Phase>,
}

/// A period with its own rate: constant, or a linear ramp from `rate_per_s` at `from` to
/// `ramp_to_per_s` at `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// Start, inclusive.
    pub from: SimTime,
    /// End, exclusive.
    pub to: SimTime,
    /// Rate at `from`, per second.
    pub rate_per_s: f64,
    /// Rate at `to`, per second (equal to `rate_per_s` for a flat phase).
    pub ramp_to_per_s: f64,
}

impl RateProfile {
    /// The rate at time `t`, per second.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        // Phases are sorted and disjoint: the first that ends after t is the only candidate.
        match self.phases.get(self.phases.partition_point(|p| p.to <= t)) {
            Some(p) if t >= p.from => {
                let span = (p.to - p.from).as_nanos() as f64;
                let x = (t - p.from).as_nanos() as f64 / span;
                p.rate_per_s + (p.ramp_to_per_s - p.rate_per_s) * x
            }
            _ => self.base_per_s,
        }
    }

    /// The highest rate at any time, per second.
    pub fn max_rate(&self) -> f64 {
        self.phases
            .iter()
            .flat_map(|p| [p.rate_per_s, p.ramp_to_per_s])
            .fold(self.base_per_s, f64::max)
    }
}

/// A service: identical replicas with workers, a waiting room and downstream calls.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSpec {
    /// Unique among clients and services.
    pub name: String,
    /// Number of replicas (at least 1).
    pub replicas: u32,
    /// Workers per replica (at least 1).
    pub concurrency: u32,
    /// Waiting room per replica; `None` is unbounded.
    pub queue: Option<u32>,
    /// The service's own work per request.
    pub service_time: Distribution,
    /// Calls made in order after the own work, while holding the worker.
    pub calls: Vec<CallSpec>,
    /// Fraction of requests that fail after their own work.
    pub error_rate: f64,
    /// How the service treats a request it has already executed (a retry).
    pub idempotency: Idempotency,
    /// The delay its refusals (a full queue) ask callers to wait before retrying, as an
    /// HTTP `Retry-After` header or gRPC's `grpc-retry-pushback-ms` does.
    pub retry_after: Option<SimDuration>,
    /// Each replica's weight for weighted balancers (all 1 unless `weights` is given).
    pub weights: Vec<f64>,
    /// Active health checking of its replicas, if any.
    pub health_check: Option<balancer::HealthCheckSpec>,
    /// Which waiting request a free worker takes, and which it sheds.
    pub queueing: queueing::QueuePolicy,
    /// The rate limit its replicas apply to arriving requests, if any.
    pub rate_limit: Option<rate_limit::RateLimitSpec>,
    /// Each replica's adaptive concurrency limit, if any.
    pub concurrency_limit: Option<crate::policy::concurrency_limit::LimitKind>,
    /// Each replica's workers partitioned by caller (empty: one pool of `concurrency`
    /// workers and `queue` for every caller). The pool for callers no other pool names
    /// comes first.
    pub pools: Vec<PoolSpec>,
}

/// One pool of a service's workers, with its own waiting room, for some callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSpec {
    /// The clients and services whose requests it serves (empty: every other caller).
    pub callers: Vec<Endpoint>,
    /// Its workers per replica.
    pub concurrency: u32,
    /// Its waiting room per replica; `None` is unbounded.
    pub queue: Option<u32>,
}

/// What a service does with a request whose idempotency key it has seen before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// It executes it again, and counts a duplicate (`idempotent = false`, the default).
    None,
    /// Executing twice is harmless: nothing is counted (`idempotent = true`).
    Idempotent,
    /// It keeps the first answer for `ttl` and replays it without executing again
    /// (`idempotency = { ttl = "24h" }`, Stripe's idempotency keys).
    Store {
        /// How long an answer is kept.
        ttl: SimDuration,
    },
}

/// One downstream call of a service.
#[derive(Clone, Debug, PartialEq)]
pub struct CallSpec {
    /// The service it calls, or the queue it sends messages to.
    pub to: Dest,
    /// How long the caller waits for each attempt's answer before it fails.
    pub timeout: SimDuration,
    /// Deadline, retries, breaker, fallback and hedging of the call.
    pub policy: policy::CallPolicy,
    /// How the caller chooses the callee's replica.
    pub balancer: balancer::BalancerSpec,
}

/// An endpoint of a link: a client or a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    /// Index into `clients`.
    Client(usize),
    /// Index into `services`.
    Service(usize),
}

/// Settings for the hops between two endpoints, in both directions.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpec {
    /// One end.
    pub a: Endpoint,
    /// The other end.
    pub b: Endpoint,
    /// One-way latency; the network default when `None`.
    pub latency: Option<Distribution>,
}

impl Scenario {
    /// True when some call site can send one request more than once (it retries or
    /// hedges), or a queue can deliver a message more than once, so idempotency keys must
    /// be tracked.
    pub fn can_repeat(&self) -> bool {
        let repeats = |p: &policy::CallPolicy| p.retry.is_some() || p.hedge.is_some();
        !self.queues.is_empty()
            || self.clients.iter().any(|c| repeats(&c.policy))
            || self
                .services
                .iter()
                .any(|s| s.calls.iter().any(|c| repeats(&c.policy)))
    }

    /// The name of endpoint `e`: a client's or a service's.
    pub fn endpoint_name(&self, e: Endpoint) -> &str {
        match e {
            Endpoint::Client(c) => &self.clients[c].name,
            Endpoint::Service(s) => &self.services[s].name,
        }
    }

    /// The name of destination `d`: a service's or a queue's.
    pub fn dest_name(&self, d: Dest) -> &str {
        match d {
            Dest::Service(s) => &self.services[s].name,
            Dest::Queue(q) => &self.queues[q].name,
        }
    }

    /// The [start, end) windows of the faults scheduled with both `at` and `for` (chaos
    /// monkeys excepted): the outages `recovery_s` measures recovery from.
    pub fn scheduled_outages(&self) -> Vec<(SimTime, SimTime)> {
        self.faults
            .iter()
            .filter(|f| !matches!(f.kind, fault::FaultKind::ChaosMonkey { .. }))
            .filter_map(|f| match f.timing {
                fault::FaultTiming::Scheduled {
                    start,
                    end: Some(end),
                } => Some((start, end)),
                _ => None,
            })
            .collect()
    }

    /// Reads, parses and validates the scenario file at `path`.
    ///
    /// Reads at most [`MAX_FILE_BYTES`] (plus one, to notice a larger file), so a device or
    /// a pipe that never ends is refused like a huge file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_text(path)?;
        Self::from_text(&text, &path.display().to_string())
    }

    /// Parses and validates scenario bytes; `file` names them in messages.
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<Scenario, ScenarioError> {
        Self::from_text(text_of(bytes, file)?, file)
    }

    /// Parses and validates scenario text; `file` names it in messages.
    pub fn from_text(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        Study::from_text(text, file).map(|s| s.base)
    }
}

impl Study {
    /// Reads, parses and validates the scenario file at `path` with its variants and sweep.
    pub fn load(path: &Path) -> Result<Study, ScenarioError> {
        let text = read_text(path)?;
        Self::from_text(&text, &path.display().to_string())
    }

    /// Parses and validates scenario text with its variants and sweep; `file` names it in
    /// messages.
    pub fn from_text(text: &str, file: &str) -> Result<Study, ScenarioError> {
        if text.trim().is_empty() {
            return Err(ScenarioError::whole_file(
                file,
                1,
                "the file is empty; expected a scenario with at least `name`, `duration`, a [[client]] and a [[service]]",
            ));
        }
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large(file, text.len() as u64));
        }
        validate::parse_study(text, file)
    }
}

/// Reads the text of the scenario file at `path`.
///
/// Reads at most [`MAX_FILE_BYTES`] (plus one, to notice a larger file), so a device or
/// a pipe that never ends is refused like a huge file.
pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let shown = path.display().to_string();
    let unreadable = |e: std::io::Error| {
        ScenarioError::whole_file(
            &shown,
            0,
            format!(
                "cannot read the scenario file: {e}; expected the path of a readable .toml scenario file"
            ),
        )
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(ScenarioError::whole_file(
            &shown,
            0,
            "is a directory; expected the path of a .toml scenario file",
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(&shown, meta.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        // A file that grew, or a device or pipe: its length is unknown.
        return Err(ScenarioError::whole_file(
            &shown,
            0,
            format!(
                "the file has more than {MAX_FILE_BYTES} bytes, too large for a scenario; expected at most {MAX_FILE_BYTES} bytes (4 MiB)"
            ),
        ));
    }
    text_of(&bytes, &shown).map(str::to_string)
}

/// The bytes of a scenario file as text; `file` names them in messages.
fn text_of<'b>(bytes: &'b [u8], file: &str) -> Result<&'b str, ScenarioError> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(not_text(
            bytes,
            at,
            file,
            "the file contains a NUL byte, so it looks binary; expected a TOML scenario file (UTF-8 text)",
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        not_text(
            bytes,
            e.valid_up_to(),
            file,
            &format!(
                "the file is not valid UTF-8 text (invalid byte 0x{:02x}); expected a TOML scenario file saved as UTF-8",
                bytes[e.valid_up_to()]
            ),
        )
    })
}

/// The error for a file over [`MAX_FILE_BYTES`].
fn too_large(file: &str, len: u64) -> ScenarioError {
    ScenarioError::whole_file(
        file,
        0,
        format!(
            "the file is {len} bytes, too large for a scenario; expected at most {MAX_FILE_BYTES} bytes (4 MiB)"
        ),
    )
}

/// The error for bytes that are not text, pointing at byte `at`.
fn not_text(bytes: &[u8], at: usize, file: &str, message: &str) -> ScenarioError {
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + bytes[..line_start].iter().filter(|&&b| b == b'\n').count();
    let col = 1 + String::from_utf8_lossy(&bytes[line_start..at])
        .chars()
        .count();
    ScenarioError {
        file: file.to_string(),
        diagnostics: vec![Diagnostic {
            line,
            col,
            message: message.to_string(),
            source_line: None,
            caret: 0,
        }],
    }
}
