//! The serde mirror of a scenario file: the TOML as written, with spans, and no logic.
//!
//! Tables that choose a variant with `kind` are flat structs with every possible key
//! optional, because serde's internally tagged enums lose toml's error locations;
//! `validate` checks which keys each kind takes.

use super::units::{DurationValue, QueueValue};
use serde::Deserialize;
use toml::Spanned;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub seed: Option<Spanned<u64>>,
    pub duration: Spanned<DurationValue>,
    pub warmup: Option<Spanned<DurationValue>>,
    pub bucket: Option<Spanned<DurationValue>>,
    pub max_events: Option<Spanned<u64>>,
    pub network: Option<NetworkFile>,
    #[serde(default)]
    pub client: Vec<Spanned<ClientFile>>,
    #[serde(default)]
    pub service: Vec<Spanned<ServiceFile>>,
    #[serde(default)]
    pub link: Vec<Spanned<LinkFile>>,
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
    pub name: Spanned<String>,
    pub target: Spanned<String>,
    pub arrival: Spanned<ArrivalFile>,
}

/// A client's `arrival` table; `kind` says which keys apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalFile {
    pub kind: Spanned<String>,
    pub rate_per_s: Option<Spanned<f64>>,
    pub phases: Option<Vec<Spanned<PhaseFile>>>,
    pub users: Option<Spanned<u64>>,
    pub think_time: Option<Spanned<DistributionFile>>,
}

/// One entry of `phases`: a different rate, or a linear ramp, over [from, to).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseFile {
    pub from: Spanned<DurationValue>,
    pub to: Spanned<DurationValue>,
    pub rate_per_s: Spanned<f64>,
    pub ramp_to_per_s: Option<Spanned<f64>>,
}

/// `[[service]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub name: Spanned<String>,
    pub replicas: Option<Spanned<u64>>,
    pub concurrency: Option<Spanned<u64>>,
    pub queue: Option<Spanned<QueueValue>>,
    pub service_time: Spanned<DistributionFile>,
    #[serde(default)]
    pub calls: Vec<Spanned<CallFile>>,
    pub error_rate: Option<Spanned<f64>>,
}

/// One entry of a service's `calls`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    pub to: Spanned<String>,
}

/// `[[link]]`: settings for the hops between two nodes, both ways.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkFile {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    pub latency: Option<Spanned<DistributionFile>>,
}

/// A distribution table; `kind` says which keys apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionFile {
    pub kind: Spanned<String>,
    pub value: Option<Spanned<DurationValue>>,
    pub mean: Option<Spanned<DurationValue>>,
    pub min: Option<Spanned<DurationValue>>,
    pub max: Option<Spanned<DurationValue>>,
    pub median: Option<Spanned<DurationValue>>,
    pub p99: Option<Spanned<DurationValue>>,
    pub stddev: Option<Spanned<DurationValue>>,
    pub scale: Option<Spanned<DurationValue>>,
    pub shape: Option<Spanned<f64>>,
}
