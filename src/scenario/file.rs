//! The serde mirror of a scenario file: the TOML as written, with spans, and no logic.
//!
//! Every key is optional here, even the ones a scenario requires: `validate` reports each
//! missing key itself, so that one file shows all of its missing keys at once instead of
//! serde's first. Tables that choose a variant with `kind` are flat structs with every
//! possible key, because serde's internally tagged enums lose toml's error locations;
//! `validate` checks which keys each kind takes. Whole numbers are read as `i64` (the range
//! of a TOML integer) so that `validate` can name the key and its range when one is negative.

use super::policy_file::{
    BreakerFile, BudgetFile, BulkheadFile, FallbackFile, HedgeFile, IdempotencyFile, Names,
    PolicyKeys, RetryFile,
};
use super::units::{DurationValue, QueueValue};
use serde::Deserialize;
use toml::Spanned;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub seed: Option<Spanned<i64>>,
    pub duration: Option<Spanned<DurationValue>>,
    pub warmup: Option<Spanned<DurationValue>>,
    pub bucket: Option<Spanned<DurationValue>>,
    pub max_events: Option<Spanned<i64>>,
    pub max_pending: Option<Spanned<i64>>,
    pub max_events_at_one_time: Option<Spanned<i64>>,
    pub max_result_rows: Option<Spanned<i64>>,
    pub network: Option<Spanned<NetworkFile>>,
    pub client: Option<Spanned<Vec<Spanned<ClientFile>>>>,
    pub service: Option<Spanned<Vec<Spanned<ServiceFile>>>>,
    #[serde(default)]
    pub link: Vec<Spanned<LinkFile>>,
    #[serde(default)]
    pub fault: Vec<Spanned<FaultFile>>,
    #[serde(default)]
    pub queue: Vec<Spanned<QueueFile>>,
    pub drain: Option<Spanned<DurationValue>>,
}

/// `[[queue]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueFile {
    pub name: Option<Spanned<String>>,
    pub capacity: Option<Spanned<QueueValue>>,
    pub consumer: Option<Spanned<String>>,
    pub visibility_timeout: Option<Spanned<DurationValue>>,
    pub max_receives: Option<Spanned<i64>>,
    pub dead_letter: Option<Spanned<String>>,
    pub poison: Option<Spanned<f64>>,
}

/// `[network]`: defaults for every hop.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub latency: Option<Spanned<DistributionFile>>,
}

/// `[[client]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    pub name: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub arrival: Option<Spanned<ArrivalFile>>,
    pub timeout: Option<Spanned<DurationValue>>,
    pub deadline: Option<Spanned<DurationValue>>,
    pub propagate_deadline: Option<Spanned<bool>>,
    pub retry: Option<Spanned<RetryFile>>,
    pub retry_budget: Option<Spanned<BudgetFile>>,
    pub circuit_breaker: Option<Spanned<BreakerFile>>,
    pub fallback: Option<Spanned<FallbackFile>>,
    pub hedge: Option<Spanned<HedgeFile>>,
    pub order: Option<Spanned<Names>>,
    pub bulkhead: Option<Spanned<BulkheadFile>>,
    pub rate_limit: Option<Spanned<RateLimitFile>>,
    pub load_balancer: Option<Spanned<BalancerValue>>,
    pub outlier_detection: Option<Spanned<OutlierFile>>,
    pub request_keys: Option<Spanned<KeysFile>>,
    pub priority: Option<Spanned<String>>,
}

/// A client's `request_keys = { space = 10000, zipf_s = 1.1 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    pub space: Option<Spanned<i64>>,
    pub zipf_s: Option<Spanned<f64>>,
}

/// `outlier_detection = { consecutive_errors = 5, base_ejection = "30s", ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutlierFile {
    pub consecutive_errors: Option<Spanned<i64>>,
    pub interval: Option<Spanned<DurationValue>>,
    pub base_ejection: Option<Spanned<DurationValue>>,
    pub max_ejection: Option<Spanned<DurationValue>>,
    pub max_ejection_percent: Option<Spanned<f64>>,
    pub panic_threshold: Option<Spanned<f64>>,
    pub success_rate_minimum_hosts: Option<Spanned<i64>>,
    pub success_rate_request_volume: Option<Spanned<i64>>,
    pub success_rate_stdev_factor: Option<Spanned<f64>>,
    pub failure_percentage_threshold: Option<Spanned<f64>>,
    pub failure_percentage_minimum_hosts: Option<Spanned<i64>>,
    pub failure_percentage_request_volume: Option<Spanned<i64>>,
}

/// `load_balancer = "p2c"` or `load_balancer = { kind = "p2c", choices = 3 }`.
#[derive(Debug)]
pub enum BalancerValue {
    /// The kind's name alone, with its defaults.
    Name(String),
    /// A table with `kind` and its parameters.
    Table(BalancerFile),
}

impl<'de> Deserialize<'de> for BalancerValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BalancerValue;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a balancer's name, like \"p2c\", or a table, like { kind = \"p2c\", choices = 3 }")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BalancerValue::Name(v.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                BalancerFile::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(BalancerValue::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// A `load_balancer` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalancerFile {
    pub kind: Option<Spanned<String>>,
    pub choices: Option<Spanned<i64>>,
    pub decay: Option<Spanned<DurationValue>>,
    pub ring_size: Option<Spanned<i64>>,
    pub table_size: Option<Spanned<i64>>,
    pub scope: Option<Spanned<String>>,
}

impl ClientFile {
    /// The policy keys, as the policy checks read them.
    pub fn policy_keys(&self) -> PolicyKeys<'_> {
        PolicyKeys {
            deadline: self.deadline.as_ref(),
            propagate_deadline: self.propagate_deadline.as_ref(),
            retry: self.retry.as_ref(),
            retry_budget: self.retry_budget.as_ref(),
            circuit_breaker: self.circuit_breaker.as_ref(),
            fallback: self.fallback.as_ref(),
            hedge: self.hedge.as_ref(),
            order: self.order.as_ref(),
            bulkhead: self.bulkhead.as_ref(),
            rate_limit: self.rate_limit.as_ref(),
        }
    }
}

/// A client's `arrival` table; `kind` says which keys apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalFile {
    pub kind: Option<Spanned<String>>,
    pub rate_per_s: Option<Spanned<f64>>,
    pub phases: Option<Spanned<Vec<Spanned<PhaseFile>>>>,
    pub users: Option<Spanned<i64>>,
    pub think_time: Option<Spanned<DistributionFile>>,
    pub file: Option<Spanned<String>>,
    pub scale: Option<Spanned<f64>>,
}

/// One entry of `phases`: a different rate, or a linear ramp, over [from, to).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseFile {
    pub from: Option<Spanned<DurationValue>>,
    pub to: Option<Spanned<DurationValue>>,
    pub rate_per_s: Option<Spanned<f64>>,
    pub ramp_to_per_s: Option<Spanned<f64>>,
}

/// `[[service]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub name: Option<Spanned<String>>,
    pub replicas: Option<Spanned<i64>>,
    pub concurrency: Option<Spanned<i64>>,
    pub queue: Option<Spanned<QueueValue>>,
    pub service_time: Option<Spanned<DistributionFile>>,
    #[serde(default)]
    pub calls: Vec<Spanned<CallFile>>,
    pub error_rate: Option<Spanned<f64>>,
    pub idempotent: Option<Spanned<bool>>,
    pub idempotency: Option<Spanned<IdempotencyFile>>,
    pub retry_after: Option<Spanned<DurationValue>>,
    pub weights: Option<Spanned<Vec<Spanned<f64>>>>,
    pub health_check: Option<Spanned<HealthCheckFile>>,
    pub queue_discipline: Option<Spanned<String>>,
    pub max_queue_time: Option<Spanned<DurationValue>>,
    pub codel: Option<Spanned<CodelFile>>,
    pub rate_limit: Option<Spanned<RateLimitFile>>,
    pub concurrency_limit: Option<Spanned<ConcurrencyLimitFile>>,
    pub pools: Option<Spanned<Vec<Spanned<PoolFile>>>>,
}

/// One of a service's `pools = [{ callers = ["web"], concurrency = 8, queue = 16 }]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    pub callers: Option<Spanned<Vec<Spanned<String>>>>,
    pub concurrency: Option<Spanned<i64>>,
    pub queue: Option<Spanned<QueueValue>>,
}

/// A service's `concurrency_limit = { kind = "vegas", initial = 20, max = 1000 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimitFile {
    pub kind: Option<Spanned<String>>,
    pub initial: Option<Spanned<i64>>,
    pub min: Option<Spanned<i64>>,
    pub max: Option<Spanned<i64>>,
    pub backoff_ratio: Option<Spanned<f64>>,
    pub timeout: Option<Spanned<DurationValue>>,
    pub queue_size: Option<Spanned<i64>>,
    pub tolerance: Option<Spanned<f64>>,
}

/// A `rate_limit = { kind = "token_bucket", rate_per_s = 100, burst = 20 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFile {
    pub kind: Option<Spanned<String>>,
    pub rate_per_s: Option<Spanned<f64>>,
    pub burst: Option<Spanned<i64>>,
    pub limit: Option<Spanned<i64>>,
    pub period: Option<Spanned<DurationValue>>,
    pub scope: Option<Spanned<String>>,
    pub per: Option<Spanned<String>>,
    pub max_wait: Option<Spanned<DurationValue>>,
    pub k: Option<Spanned<f64>>,
    pub window: Option<Spanned<DurationValue>>,
    pub reserve: Option<Spanned<f64>>,
}

/// A service's `codel = { target = "5ms", interval = "100ms" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodelFile {
    pub target: Option<Spanned<DurationValue>>,
    pub interval: Option<Spanned<DurationValue>>,
}

/// A service's `health_check = { interval = "5s", unhealthy_threshold = 3, ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckFile {
    pub interval: Option<Spanned<DurationValue>>,
    pub unhealthy_threshold: Option<Spanned<i64>>,
    pub healthy_threshold: Option<Spanned<i64>>,
    pub propagation: Option<Spanned<DurationValue>>,
    pub timeout: Option<Spanned<DurationValue>>,
    pub probe_cost: Option<Spanned<DurationValue>>,
    pub from: Option<Spanned<String>>,
}

/// One entry of a service's `calls`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    pub to: Option<Spanned<String>>,
    pub timeout: Option<Spanned<DurationValue>>,
    pub deadline: Option<Spanned<DurationValue>>,
    pub propagate_deadline: Option<Spanned<bool>>,
    pub retry: Option<Spanned<RetryFile>>,
    pub retry_budget: Option<Spanned<BudgetFile>>,
    pub circuit_breaker: Option<Spanned<BreakerFile>>,
    pub fallback: Option<Spanned<FallbackFile>>,
    pub hedge: Option<Spanned<HedgeFile>>,
    pub order: Option<Spanned<Names>>,
    pub bulkhead: Option<Spanned<BulkheadFile>>,
    pub rate_limit: Option<Spanned<RateLimitFile>>,
    pub load_balancer: Option<Spanned<BalancerValue>>,
    pub outlier_detection: Option<Spanned<OutlierFile>>,
}

impl CallFile {
    /// The policy keys, as the policy checks read them.
    pub fn policy_keys(&self) -> PolicyKeys<'_> {
        PolicyKeys {
            deadline: self.deadline.as_ref(),
            propagate_deadline: self.propagate_deadline.as_ref(),
            retry: self.retry.as_ref(),
            retry_budget: self.retry_budget.as_ref(),
            circuit_breaker: self.circuit_breaker.as_ref(),
            fallback: self.fallback.as_ref(),
            hedge: self.hedge.as_ref(),
            order: self.order.as_ref(),
            bulkhead: self.bulkhead.as_ref(),
            rate_limit: self.rate_limit.as_ref(),
        }
    }
}

/// `[[link]]`: settings for the hops between two nodes, both ways.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkFile {
    pub from: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    pub latency: Option<Spanned<DistributionFile>>,
}

/// A distribution table; `kind` says which keys apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionFile {
    pub kind: Option<Spanned<String>>,
    pub value: Option<Spanned<DurationValue>>,
    pub mean: Option<Spanned<DurationValue>>,
    pub min: Option<Spanned<DurationValue>>,
    pub max: Option<Spanned<DurationValue>>,
    pub median: Option<Spanned<DurationValue>>,
    pub p99: Option<Spanned<DurationValue>>,
    pub stddev: Option<Spanned<DurationValue>>,
    pub scale: Option<Spanned<DurationValue>>,
    pub shape: Option<Spanned<f64>>,
    pub percentiles: Option<Spanned<PercentileTable>>,
    pub file: Option<Spanned<String>>,
    pub unit: Option<Spanned<String>>,
}

/// An empirical distribution's `percentiles`: keys like `p50` or `p999`, durations as values.
pub type PercentileTable = std::collections::BTreeMap<Spanned<String>, Spanned<DurationValue>>;

/// A group of names in a partition's `between`.
pub type Group = Vec<Spanned<String>>;

/// `[[fault]]`; `kind` says which keys apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    pub name: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub fraction: Option<Spanned<f64>>,
    pub at: Option<Spanned<DurationValue>>,
    #[serde(rename = "for")]
    pub for_: Option<Spanned<DurationValue>>,
    pub mtbf: Option<Spanned<DurationValue>>,
    pub mttr: Option<Spanned<DurationValue>>,
    pub up_time: Option<Spanned<DistributionFile>>,
    pub down_time: Option<Spanned<DistributionFile>>,
    pub factor: Option<Spanned<f64>>,
    pub rate: Option<Spanned<f64>>,
    pub first_n: Option<Spanned<i64>>,
    pub delay: Option<Spanned<DistributionFile>>,
    pub probability: Option<Spanned<f64>>,
    pub direction: Option<Spanned<String>>,
    pub between: Option<Spanned<Vec<Spanned<Group>>>>,
    pub one_way: Option<Spanned<bool>>,
    pub interval: Option<Spanned<DurationValue>>,
    pub downtime: Option<Spanned<DurationValue>>,
    pub targets: Option<Spanned<Vec<Spanned<String>>>>,
}
