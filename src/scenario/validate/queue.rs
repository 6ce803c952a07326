//! `[[queue]]` tables: capacity, consumer, visibility timeout, redrive (`max_receives`,
//! `dead_letter`), poison, and what a consumer service may not have.

use super::Checker;
use super::topology::Names;
use crate::engine::SimDuration;
use crate::scenario::file::{QueueFile, ServiceFile};
use crate::scenario::queue::DEFAULT_VISIBILITY_TIMEOUT;
use crate::scenario::units::QueueValue;
use crate::scenario::{ClientSpec, Dest, QueueSpec, ServiceSpec};
use toml::Spanned;

/// Most receives a message may have before it is dead-lettered.
const MAX_RECEIVES: i64 = 1_000;

impl Checker<'_> {
    /// The `[[queue]]` tables, in file order.
    pub(super) fn queues(&mut self, files: &[Spanned<QueueFile>], names: &Names) -> Vec<QueueSpec> {
        files.iter().map(|q| self.queue(q, names)).collect()
    }

    fn queue(&mut self, q: &Spanned<QueueFile>, names: &Names) -> QueueSpec {
        let span = q.span();
        let f = q.get_ref();
        let name = self.required(
            &f.name,
            &span,
            "name",
            "this [[queue]]",
            "a key such as `name = \"jobs\"`",
        );
        let capacity = f.capacity.as_ref().and_then(|c| match *c.get_ref() {
            QueueValue::Unbounded => None,
            QueueValue::Bounded(0) => {
                self.error(
                    c.span(),
                    "`capacity` is 0: the queue would refuse every message; expected 1 or more, or \"unbounded\"",
                );
                None
            }
            QueueValue::Bounded(n) => Some(n),
        });
        let consumer = f
            .consumer
            .as_ref()
            .and_then(|c| self.service_ref(c, names, "consumer"));
        let visibility_timeout = f
            .visibility_timeout
            .as_ref()
            .and_then(|v| self.positive(v, "visibility_timeout"))
            .unwrap_or(DEFAULT_VISIBILITY_TIMEOUT);
        let max_receives = f
            .max_receives
            .as_ref()
            .map(|m| self.count(m, "max_receives", 1, MAX_RECEIVES));
        let dead_letter = f.dead_letter.as_ref().and_then(|d| {
            let found = names.queue(d.get_ref());
            if found.is_none() {
                let known: Vec<String> = names_of_queues(names);
                self.error(
                    d.span(),
                    format!(
                        "unknown queue \"{}\" in `dead_letter`; expected the name of another [[queue]]{}",
                        d.get_ref(),
                        if known.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", known.join(", "))
                        }
                    ),
                );
            } else if Some(d.get_ref()) == name.map(|n| n.get_ref()) {
                self.error(
                    d.span(),
                    "`dead_letter` names the queue itself; expected another [[queue]], where messages that keep failing are set aside",
                );
                return None;
            }
            if f.max_receives.is_none() {
                self.error(
                    d.span(),
                    "`dead_letter` is never used without `max_receives`; expected `max_receives = 5` (say) beside it",
                );
            }
            found
        });
        QueueSpec {
            name: name.map(|n| n.get_ref().clone()).unwrap_or_default(),
            capacity,
            consumer,
            visibility_timeout,
            max_receives,
            dead_letter,
            poison: f
                .poison
                .as_ref()
                .map_or(0.0, |p| self.probability(p, "poison")),
        }
    }

    /// A service that consumes a queue takes its work only from it: nothing calls it, it
    /// consumes one queue, and it has none of the keys of a waiting room or an admission
    /// policy, which messages never pass.
    pub(super) fn consumers(
        &mut self,
        files: &[Spanned<QueueFile>],
        queues: &[QueueSpec],
        service_files: &[Spanned<ServiceFile>],
        clients: &[ClientSpec],
        services: &[ServiceSpec],
    ) {
        for (i, (q, file)) in queues.iter().zip(files).enumerate() {
            let (Some(s), Some(key)) = (q.consumer, file.get_ref().consumer.as_ref()) else {
                continue;
            };
            let name = &services[s].name;
            if let Some(first) = queues[..i].iter().position(|o| o.consumer == Some(s)) {
                self.error(
                    key.span(),
                    format!(
                        "the service \"{name}\" already consumes the queue \"{}\"; expected one queue per consumer service (declare another service for this one)",
                        queues[first].name
                    ),
                );
            }
            let caller = clients
                .iter()
                .find(|c| c.target == Dest::Service(s))
                .map(|c| c.name.clone())
                .or_else(|| {
                    services
                        .iter()
                        .find(|o| o.calls.iter().any(|c| c.to == Dest::Service(s)))
                        .map(|o| o.name.clone())
                });
            if let Some(caller) = caller {
                self.error(
                    key.span(),
                    format!(
                        "the service \"{name}\" is called by \"{caller}\", so it cannot consume a queue: a consumer's workers take messages only; expected a service nothing calls"
                    ),
                );
            }
            let f = service_files[s].get_ref();
            let present = [
                ("queue", f.queue.as_ref().map(Spanned::span)),
                (
                    "queue_discipline",
                    f.queue_discipline.as_ref().map(Spanned::span),
                ),
                (
                    "max_queue_time",
                    f.max_queue_time.as_ref().map(Spanned::span),
                ),
                ("codel", f.codel.as_ref().map(Spanned::span)),
                ("rate_limit", f.rate_limit.as_ref().map(Spanned::span)),
                (
                    "concurrency_limit",
                    f.concurrency_limit.as_ref().map(Spanned::span),
                ),
                ("pools", f.pools.as_ref().map(Spanned::span)),
                ("health_check", f.health_check.as_ref().map(Spanned::span)),
                ("retry_after", f.retry_after.as_ref().map(Spanned::span)),
                ("weights", f.weights.as_ref().map(Spanned::span)),
            ];
            for (k, span) in present {
                if let Some(span) = span {
                    self.error(
                        span,
                        format!(
                            "`{k}` does not apply to \"{name}\", which consumes the queue \"{}\": its workers take a message only when they are free, so nothing waits at its replicas or passes an admission policy; expected no `{k}` (set `capacity` on the queue instead)",
                            q.name
                        ),
                    );
                }
            }
        }
    }

    /// `drain`: how long consumers keep working after `duration`.
    pub(super) fn drain(
        &mut self,
        d: Option<&Spanned<crate::scenario::units::DurationValue>>,
    ) -> SimDuration {
        d.map_or(crate::scenario::queue::DEFAULT_DRAIN, |d| d.get_ref().0)
    }
}

/// The names of the queues, sorted.
fn names_of_queues(names: &Names) -> Vec<String> {
    names.queue_names().map(|n| format!("\"{n}\"")).collect()
}
