//! A `[[service]]`'s own settings: replicas, concurrency, queue, service time, calls and error rate.

use super::Checker;
use super::topology::Names;
use crate::distribution::Distribution;
use crate::engine::SimDuration;
use crate::scenario::file::ServiceFile;
use crate::scenario::units::QueueValue;
use crate::scenario::{CallSpec, Dest, Idempotency, ServiceSpec};
use std::collections::BTreeMap;
use toml::Spanned;

/// Most replicas a service may have.
const MAX_REPLICAS: i64 = 10_000;
/// Most workers a replica may have.
const MAX_CONCURRENCY: i64 = 1_000_000;

impl Checker<'_> {
    /// A `[[service]]`, with its calls resolved to service indices.
    pub(super) fn service(&mut self, s: &Spanned<ServiceFile>, names: &Names) -> ServiceSpec {
        let span = s.span();
        let f = s.get_ref();
        let name = self.required(
            &f.name,
            &span,
            "name",
            "this [[service]]",
            "a key such as `name = \"api\"`",
        );
        let replicas = f
            .replicas
            .as_ref()
            .map_or(1, |r| self.count(r, "replicas", 1, MAX_REPLICAS));
        let concurrency = f
            .concurrency
            .as_ref()
            .map_or(1, |c| self.count(c, "concurrency", 1, MAX_CONCURRENCY));
        let queue = f.queue.as_ref().and_then(|q| self.queue_size(q));
        let pools = self.pools(f, names, concurrency, queue);
        let concurrency = if pools.is_empty() {
            concurrency
        } else {
            pools.iter().map(|p| p.concurrency).sum()
        };
        let service_time = self
            .required(
                &f.service_time,
                &span,
                "service_time",
                "this [[service]]",
                "a distribution such as `service_time = { kind = \"exponential\", mean = \"4ms\" }`",
            )
            .and_then(|d| self.distribution(d, "service_time"))
            .unwrap_or_else(Distribution::zero);
        let error_rate = f
            .error_rate
            .as_ref()
            .map_or(0.0, |e| self.probability(e, "error_rate"));
        let calls: Vec<CallSpec> = f
            .calls
            .iter()
            .filter_map(|c| {
                let to = self.required(
                    &c.get_ref().to,
                    &c.span(),
                    "to",
                    "this call",
                    "the name of the service called or the queue sent to, like `{ to = \"db\" }`",
                )?;
                let timeout = self.timeout(c.get_ref().timeout.as_ref());
                let policy = self.call_policy(&c.get_ref().policy_keys());
                let entry = c.get_ref();
                let balancer = self.balancer(
                    entry.load_balancer.as_ref(),
                    entry.outlier_detection.as_ref(),
                );
                self.dest_ref(to, names, "calls").map(|to| CallSpec {
                    to,
                    timeout,
                    policy,
                    balancer,
                })
            })
            .collect();
        self.shared_breakers(f, &calls);
        let idempotency = match (&f.idempotent, &f.idempotency) {
            (Some(i), Some(_)) => {
                self.error(i.span(), "both `idempotent` and `idempotency` are given; expected `idempotent = true` (repeats are harmless) or an `idempotency` store, not both");
                Idempotency::None
            }
            (_, Some(store)) => match &store.get_ref().ttl {
                Some(t) if t.get_ref().0 > SimDuration::ZERO => {
                    Idempotency::Store { ttl: t.get_ref().0 }
                }
                Some(t) => {
                    self.error(
                        t.span(),
                        "`ttl` is zero; expected how long answers are kept, like \"24h\"",
                    );
                    Idempotency::None
                }
                None => Idempotency::Store {
                    ttl: SimDuration::from_secs(24 * 3600),
                },
            },
            (Some(i), None) if *i.get_ref() => Idempotency::Idempotent,
            _ => Idempotency::None,
        };
        let retry_after = f.retry_after.as_ref().map(|r| {
            if queue.is_none() && f.rate_limit.is_none() {
                self.error(r.span(), "`retry_after` is the delay this service's refusals ask for, but its queue is unbounded and it has no rate_limit, so it never refuses; expected a bounded `queue` or a `rate_limit` beside it, such as queue = 100");
            }
            r.get_ref().0
        });
        ServiceSpec {
            weights: self.weights(f.weights.as_ref(), replicas),
            health_check: self.health_check(f.health_check.as_ref(), names),
            queueing: self.queueing(f),
            rate_limit: self.service_rate_limit(f.rate_limit.as_ref()),
            pools,
            concurrency_limit: self.concurrency_limit(f.concurrency_limit.as_ref()),
            name: name.map(|n| n.get_ref().clone()).unwrap_or_default(),
            retry_after,
            replicas,
            concurrency,
            queue,
            service_time,
            calls,
            error_rate,
            idempotency,
        }
    }

    /// A waiting room's size (`None`: unbounded).
    pub(super) fn queue_size(&mut self, q: &Spanned<QueueValue>) -> Option<u32> {
        match *q.get_ref() {
            QueueValue::Unbounded => None,
            QueueValue::Bounded(n) if n > u64::from(u32::MAX) => {
                self.error(
                    q.span(),
                    format!(
                        "`queue` is {n}, more than {}; expected a smaller size, or \"unbounded\"",
                        u32::MAX
                    ),
                );
                None
            }
            QueueValue::Bounded(n) => Some(n as u32),
        }
    }

    /// A whole number under `key`, from `min` to `max`; `min` when it is out of range.
    pub(super) fn count(&mut self, v: &Spanned<i64>, key: &str, min: i64, max: i64) -> u32 {
        let n = *v.get_ref();
        if n < min || n > max {
            self.error(
                v.span(),
                format!("`{key}` is {n}; expected a whole number from {min} to {max}"),
            );
            return min as u32;
        }
        n as u32
    }

    /// A probability under `key`, from 0 to 1.
    pub(super) fn probability(&mut self, p: &Spanned<f64>, key: &str) -> f64 {
        let v = *p.get_ref();
        if !(0.0..=1.0).contains(&v) {
            self.error(
                p.span(),
                format!(
                    "`{key}` is {}; expected a probability from 0 to 1, like 0.01",
                    crate::scenario::diagnostic::number(v)
                ),
            );
            return 0.0;
        }
        v
    }
}

impl Checker<'_> {
    /// Call entries that share their breaker (`scope = "target"`) with an earlier entry to
    /// the same target must configure every policy the same way, since one guard serves
    /// them all.
    fn shared_breakers(&mut self, f: &ServiceFile, calls: &[CallSpec]) {
        if calls.len() != f.calls.len() {
            return; // Some entry was already reported; positions would not match.
        }
        // The first entry to each target that shares its breaker.
        let mut first: BTreeMap<Dest, usize> = BTreeMap::new();
        for (i, c) in calls.iter().enumerate() {
            if !c.policy.breaker_per_target {
                continue;
            }
            let j = *first.entry(c.to).or_insert(i);
            if j != i && calls[j].policy != c.policy {
                let entry = f.calls[i].get_ref();
                let span = entry
                    .circuit_breaker
                    .as_ref()
                    .map(|b| b.span())
                    .or_else(|| entry.retry_budget.as_ref().map(|b| b.span()))
                    .unwrap_or_else(|| f.calls[i].span());
                let (line, _) = self.map.position(f.calls[j].span().start);
                self.error(
                    span,
                    format!(
                        "this call entry shares its breaker and budget with the entry at line {line} (`scope = \"target\"`, same target), but configures its policies differently; expected the same breaker, retry, budget, hedge and fallback settings on both"
                    ),
                );
            }
        }
    }
}
