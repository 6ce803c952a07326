//! The serde mirror of call-path policy tables (`retry`, `retry_budget`,
//! `circuit_breaker`, `fallback`), as written, with spans.

use super::units::DurationValue;
use serde::Deserialize;
use toml::Spanned;

/// A list of names with their spans, such as `retry_on = ["error", "timeout"]`.
pub type Names = Vec<Spanned<String>>;

/// `retry = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryFile {
    pub max_attempts: Option<Spanned<i64>>,
    pub backoff: Option<Spanned<BackoffFile>>,
    pub jitter: Option<Spanned<String>>,
    pub jitter_factor: Option<Spanned<f64>>,
    pub retry_on: Option<Spanned<Names>>,
    pub pushback: Option<Spanned<String>>,
    pub retry_host: Option<Spanned<String>>,
}

/// `backoff = { kind = "constant" | "exponential", ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffFile {
    pub kind: Option<Spanned<String>>,
    pub delay: Option<Spanned<DurationValue>>,
    pub base: Option<Spanned<DurationValue>>,
    pub multiplier: Option<Spanned<f64>>,
    pub cap: Option<Spanned<DurationValue>>,
}

/// `retry_budget = { kind = "ratio" | "token_bucket" | "quota" | "concurrency", ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    pub kind: Option<Spanned<String>>,
    pub percent: Option<Spanned<f64>>,
    pub min_per_s: Option<Spanned<f64>>,
    pub ttl: Option<Spanned<DurationValue>>,
    pub max_tokens: Option<Spanned<f64>>,
    pub token_ratio: Option<Spanned<f64>>,
    pub capacity: Option<Spanned<f64>>,
    pub retry_cost: Option<Spanned<f64>>,
    pub timeout_cost: Option<Spanned<f64>>,
    pub no_retry_increment: Option<Spanned<f64>>,
    pub min_concurrent: Option<Spanned<i64>>,
    pub scope: Option<Spanned<String>>,
}

/// `bulkhead = { max_concurrent = 10, max_wait = "0s" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkheadFile {
    pub max_concurrent: Option<Spanned<i64>>,
    pub max_wait: Option<Spanned<DurationValue>>,
}

/// `circuit_breaker = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerFile {
    pub kind: Option<Spanned<String>>,
    pub window: Option<Spanned<WindowFile>>,
    pub min_calls: Option<Spanned<i64>>,
    pub failure_rate: Option<Spanned<f64>>,
    pub slow_call_duration: Option<Spanned<DurationValue>>,
    pub slow_call_rate: Option<Spanned<f64>>,
    pub open_for: Option<Spanned<DurationValue>>,
    pub half_open_calls: Option<Spanned<i64>>,
    pub failures: Option<Spanned<i64>>,
    pub record_on: Option<Spanned<Names>>,
    pub open_for_multiplier: Option<Spanned<f64>>,
    pub scope: Option<Spanned<String>>,
    pub open_for_max: Option<Spanned<DurationValue>>,
    pub automatic_half_open: Option<Spanned<bool>>,
    pub max_wait_in_half_open: Option<Spanned<DurationValue>>,
}

/// A breaker's `window = { kind = "count" | "time", size = N }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowFile {
    pub kind: Option<Spanned<String>>,
    pub size: Option<Spanned<i64>>,
}

/// `fallback = { on = [...] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackFile {
    pub on: Option<Spanned<Names>>,
}

/// `hedge = { after = "p95" | "50ms", max_extra = 1 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HedgeFile {
    pub after: Option<Spanned<String>>,
    pub max_extra: Option<Spanned<i64>>,
}

/// `idempotency = { ttl = "24h" }` on a service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyFile {
    pub ttl: Option<Spanned<DurationValue>>,
}

/// The policy keys a client and a call entry share.
#[derive(Debug, Default)]
pub struct PolicyKeys<'a> {
    pub deadline: Option<&'a Spanned<DurationValue>>,
    pub propagate_deadline: Option<&'a Spanned<bool>>,
    pub retry: Option<&'a Spanned<RetryFile>>,
    pub retry_budget: Option<&'a Spanned<BudgetFile>>,
    pub circuit_breaker: Option<&'a Spanned<BreakerFile>>,
    pub fallback: Option<&'a Spanned<FallbackFile>>,
    pub hedge: Option<&'a Spanned<HedgeFile>>,
    pub order: Option<&'a Spanned<Names>>,
    pub bulkhead: Option<&'a Spanned<BulkheadFile>>,
    pub rate_limit: Option<&'a Spanned<crate::scenario::file::RateLimitFile>>,
}
