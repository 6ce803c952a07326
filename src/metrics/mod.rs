//! Metrics: written by the model while a run goes (recorders), frozen into plain data
//! afterwards ([`RunMetrics`]) for reports. Nothing is kept per finished request.

pub mod bucket;
pub mod counts;
pub mod histogram;
pub mod latency;
pub mod policy_log;
pub mod queue_stats;
pub mod recorder;
pub mod recovery;
pub mod service_stats;

pub use counts::Counts;
pub use latency::LatencySummary;
pub use recorder::{BucketId, BucketRow, Recorder};
pub use service_stats::{ServiceMetrics, ServiceRecorder, ServiceRow};

/// Everything measured in one run, as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMetrics {
    /// Totals over the measured window.
    pub totals: Counts,
    /// Latency of successful requests; `None` if none succeeded.
    pub latency: Option<LatencySummary>,
    /// The latency histogram of successful requests: its non-empty bins as (highest value
    /// in ns, count), ascending; bins of runs add up exactly.
    pub latency_bins: Vec<(u64, u64)>,
    /// The time series, one row per bucket of the measured window.
    pub buckets: Vec<BucketRow>,
    /// Per-service figures, in scenario order.
    pub services: Vec<ServiceMetrics>,
    /// Per-client counts, in scenario order: who paid for a failure.
    pub clients: Vec<ClientMetrics>,
    /// What the call-path policies did.
    pub policy: policy_log::PolicyCounts,
    /// When breakers changed state, and budget levels.
    pub policy_log: policy_log::PolicyLog,
    /// Per-queue time series, in scenario order (empty without queues).
    pub queues: Vec<queue_stats::QueueMetrics>,
    /// What became of the messages sent in the window.
    pub messages: queue_stats::MessageMetrics,
}

/// One client's counted requests and their outcomes (`clients.csv`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientMetrics {
    /// The client's name.
    pub name: String,
    /// Its requests sent in the measured window, their attempts and outcomes.
    pub counts: Counts,
    /// Its requests' priority.
    pub priority: crate::scenario::Priority,
}
