//! Load balancers as validated plain data: how a caller chooses the replica of its callee
//! for each attempt, and whose state the choice uses.

use crate::engine::SimDuration;

/// The balancing algorithm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BalancerKind {
    /// Each replica in turn (the default).
    RoundRobin,
    /// A replica drawn uniformly at random.
    Random,
    /// The replica with the fewest of this balancer's attempts in flight; ties broken by
    /// a random draw (join the shortest queue, as this caller sees it).
    LeastOutstanding,
    /// `choices` replicas drawn at random (without repeats), the one with the fewest
    /// attempts in flight taken (power of d choices; Envoy's `LEAST_REQUEST`).
    PowerOfChoices {
        /// Replicas compared (at least 2).
        choices: u32,
    },
    /// Finagle's and Linkerd's peak-EWMA with power of two choices: two replicas drawn at
    /// random, the one with the lower cost x (in flight + 1) taken, cost being a
    /// peak-sensitive moving average of observed latency decaying over `decay`.
    PeakEwma {
        /// Finagle's `decayTime` (10 s).
        decay: SimDuration,
    },
    /// Smooth weighted round robin (nginx, Envoy) over the callee's `weights`.
    WeightedRoundRobin,
    /// Consistent hashing of the request key on a Ketama ring (Envoy's `RING_HASH`):
    /// `ring_size` points shared among the replicas, in proportion to their weights; a key
    /// goes to the first point at or after its hash.
    RingHash {
        /// Points on the ring (Envoy's `minimum_ring_size`, 1024).
        ring_size: u32,
    },
    /// Consistent hashing of the request key with Maglev's lookup table (Envoy's `MAGLEV`).
    Maglev {
        /// Entries in the table, a prime (65537).
        table_size: u32,
    },
}

impl BalancerKind {
    /// The kinds' names, as scenario files write them.
    pub const NAMES: [&'static str; 8] = [
        "round_robin",
        "random",
        "least_outstanding",
        "p2c",
        "peak_ewma",
        "weighted_round_robin",
        "ring_hash",
        "maglev",
    ];

    /// True when the choice depends on the request's key.
    pub fn hashes(self) -> bool {
        matches!(
            self,
            BalancerKind::RingHash { .. } | BalancerKind::Maglev { .. }
        )
    }

    /// True when the balancer counts its attempts in flight per replica (and learns
    /// latencies): the model then tracks each attempt until its caller settles it.
    pub fn tracks_attempts(self) -> bool {
        matches!(
            self,
            BalancerKind::LeastOutstanding
                | BalancerKind::PowerOfChoices { .. }
                | BalancerKind::PeakEwma { .. }
        )
    }
}

/// Whose balancer state a caller uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalancerScope {
    /// Each calling client, and each calling replica, keeps its own (client-side
    /// balancing, as gRPC and Finagle clients do).
    Caller,
    /// One balancer per callee, shared by every caller that says so (a front proxy or a
    /// cloud load balancer).
    Shared,
}

/// Passive outlier detection (Envoy's consecutive-errors detector): a replica whose
/// attempts fail `consecutive_errors` times in a row leaves the balancer for a while.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutlierSpec {
    /// Failures in a row that eject a replica (Envoy's `consecutive_5xx`, 5).
    pub consecutive_errors: u32,
    /// The period after which a returned replica's ejection multiplier drops by one
    /// (Envoy's `interval`, 10 s).
    pub interval: SimDuration,
    /// Ejection length per ejection of the replica (`base_ejection_time`, 30 s).
    pub base_ejection: SimDuration,
    /// The longest ejection (`max_ejection_time`, 300 s).
    pub max_ejection: SimDuration,
    /// Ejected replicas at most, in percent of all (`max_ejection_percent`, 10).
    pub max_ejection_percent: f64,
    /// Below this percentage of replicas available, the balancer uses all of them
    /// (`healthy_panic_threshold`, 50).
    pub panic_threshold: f64,
    /// Envoy's success-rate detector, run at each `interval`.
    pub success_rate: SuccessRateSpec,
    /// Envoy's failure-percentage detector, if enabled (Envoy enforces it 0% by default).
    pub failure_percentage: Option<FailurePercentageSpec>,
}

/// Envoy's failure-percentage outlier detector: at each interval, among the replicas with
/// at least `request_volume` attempts in it, if there are at least `minimum_hosts`, those
/// whose failure percentage is at least `threshold` are ejected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FailurePercentageSpec {
    /// `failure_percentage_threshold` (85).
    pub threshold: f64,
    /// `failure_percentage_minimum_hosts` (5).
    pub minimum_hosts: u32,
    /// `failure_percentage_request_volume` (50).
    pub request_volume: u32,
}

/// Envoy's success-rate outlier detector: at each interval, among the replicas with at
/// least `request_volume` attempts in it, if there are at least `minimum_hosts`, those whose
/// success rate is below mean - `stdev_factor` x standard deviation are ejected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SuccessRateSpec {
    /// `success_rate_minimum_hosts` (5).
    pub minimum_hosts: u32,
    /// `success_rate_request_volume` (100).
    pub request_volume: u32,
    /// `success_rate_stdev_factor` / 1000 (1.9).
    pub stdev_factor: f64,
}

/// Active health checking of a service's replicas by the platform (a Kubernetes readiness
/// probe updating the endpoints, a cloud load balancer's target health check): every
/// `interval` each replica is probed; after `unhealthy_threshold` failures in a row it
/// leaves every caller's balancer, after `healthy_threshold` successes it returns, each
/// change reaching the balancers `propagation` later.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HealthCheckSpec {
    /// Time between probes (Kubernetes' `periodSeconds`, 10 s).
    pub interval: SimDuration,
    /// Failed probes in a row that mark a replica unhealthy (`failureThreshold`, 3).
    pub unhealthy_threshold: u32,
    /// Passed probes in a row that mark it healthy again (`successThreshold`, 1).
    pub healthy_threshold: u32,
    /// Delay before callers see a change (endpoint propagation; 0).
    pub propagation: SimDuration,
    /// A probe not answered within this fails (`timeoutSeconds`, 1 s); at most `interval`.
    pub timeout: SimDuration,
    /// The worker time a probe takes on its replica (0: it only needs a free worker).
    pub probe_cost: SimDuration,
    /// Where probes are sent from: a client or a service calling the checked service,
    /// whose hop (latency, link faults, partitions) they travel; `None`: from the
    /// replica's own node (a kubelet), off the network.
    pub from: Option<crate::scenario::Endpoint>,
}

/// The keys of a client's requests, for consistent hashing: `space` distinct keys, drawn
/// with a Zipf skew (key k with probability proportional to 1 / k^`zipf_s`; 0 is uniform).
/// Every call a request causes carries its key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeySpace {
    /// Distinct keys.
    pub space: u64,
    /// Zipf exponent (0: uniform).
    pub zipf_s: f64,
}

/// A caller's load balancer for one callee.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BalancerSpec {
    /// The algorithm.
    pub kind: BalancerKind,
    /// Whose state it uses.
    pub scope: BalancerScope,
    /// Passive outlier detection, if any.
    pub outlier: Option<OutlierSpec>,
}

impl Default for BalancerSpec {
    fn default() -> Self {
        BalancerSpec {
            kind: BalancerKind::RoundRobin,
            scope: BalancerScope::Caller,
            outlier: None,
        }
    }
}
