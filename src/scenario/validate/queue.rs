//! `[[queue]]` tables: capacity, consumer, visibility timeout, redrive (`max_receives`,
//! `dead_letter`), poison, and what a consumer service may not have.

use super::Checker;
use super::senders::{self, Senders};
use super::topology::Names;
use crate::engine::SimDuration;
use crate::scenario::file::{QueueFile, ServiceFile};
use crate::scenario::queue::DEFAULT_VISIBILITY_TIMEOUT;
use crate::scenario::units::QueueValue;
use crate::scenario::{ClientSpec, QueueSpec, ServiceSpec};
use std::collections::BTreeMap;
use toml::Spanned;

/// Most receives a message may have before it is dead-lettered.
const MAX_RECEIVES: i64 = 1_000;
/// The longest visibility timeout: Amazon SQS's maximum, 12 hours.
const MAX_VISIBILITY_TIMEOUT: SimDuration = SimDuration::from_secs(12 * 3600);

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
            .and_then(|v| {
                let value = self.positive(v, "visibility_timeout")?;
                if value > MAX_VISIBILITY_TIMEOUT {
                    self.error(
                        v.span(),
                        "`visibility_timeout` is longer than 12h; expected at most \"12h\" (Amazon SQS's maximum)",
                    );
                }
                Some(value.min(MAX_VISIBILITY_TIMEOUT))
            })
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
        senders: &Senders,
    ) {
        // The first queue each service consumes.
        let mut first_consumed: BTreeMap<usize, usize> = BTreeMap::new();
        for (i, q) in queues.iter().enumerate() {
            if let Some(s) = q.consumer {
                first_consumed.entry(s).or_insert(i);
            }
        }
        for (i, (q, file)) in queues.iter().zip(files).enumerate() {
            let (Some(s), Some(key)) = (q.consumer, file.get_ref().consumer.as_ref()) else {
                continue;
            };
            let name = &services[s].name;
            if let Some(&first) = first_consumed.get(&s).filter(|&&first| first < i) {
                self.error(
                    key.span(),
                    format!(
                        "the service \"{name}\" already consumes the queue \"{}\"; expected one queue per consumer service (declare another service for this one)",
                        queues[first].name
                    ),
                );
            }
            let caller = senders
                .of(s)
                .first()
                .map(|&e| senders::name(e, clients, services));
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

    /// Dead-letter queues that lead back to where they started: a message failing for
    /// ever would go round them for ever.
    pub(super) fn dead_letter_cycles(
        &mut self,
        files: &[Spanned<QueueFile>],
        queues: &[QueueSpec],
    ) {
        let on_cycle = on_dead_letter_cycle(queues);
        for (i, (q, file)) in queues.iter().zip(files).enumerate() {
            let Some(span) = file.get_ref().dead_letter.as_ref().map(Spanned::span) else {
                continue;
            };
            if !on_cycle[i] {
                continue; // its chain ends, or runs into a cycle reported at its own queues
            }
            let mut path = vec![q.name.as_str()];
            let mut at = q.dead_letter;
            while let Some(next) = at {
                path.push(&queues[next].name);
                if next == i {
                    self.error(
                        span.clone(),
                        format!(
                            "dead-letter cycle: {}; expected dead-letter queues that end (the last with no `dead_letter`)",
                            path.join(" -> ")
                        ),
                    );
                    break;
                }
                if path.len() > queues.len() {
                    break; // a cycle further on, reported at its own queues
                }
                at = queues[next].dead_letter;
            }
        }
    }

    /// Clients and calls that send to a queue choose no replica: they take no balancer
    /// keys.
    pub(super) fn queue_senders(
        &mut self,
        client_files: &[Spanned<crate::scenario::file::ClientFile>],
        clients: &[ClientSpec],
        service_files: &[Spanned<ServiceFile>],
        services: &[ServiceSpec],
    ) {
        let report = |checker: &mut Self, keys: [(&str, Option<std::ops::Range<usize>>); 3]| {
            for (key, span) in keys {
                if let Some(span) = span {
                    checker.error(
                        span,
                        format!(
                            "`{key}` does not apply to a send to a queue, which goes to no replica; expected no `{key}`"
                        ),
                    );
                }
            }
        };
        for (c, f) in clients.iter().zip(client_files) {
            if c.target.queue().is_some() {
                let f = f.get_ref();
                report(
                    self,
                    [
                        ("load_balancer", f.load_balancer.as_ref().map(Spanned::span)),
                        (
                            "outlier_detection",
                            f.outlier_detection.as_ref().map(Spanned::span),
                        ),
                        ("request_keys", f.request_keys.as_ref().map(Spanned::span)),
                    ],
                );
            }
        }
        for (s, f) in services.iter().zip(service_files) {
            if s.calls.len() != f.get_ref().calls.len() {
                continue;
            }
            for (c, cf) in s.calls.iter().zip(&f.get_ref().calls) {
                if c.to.queue().is_some() {
                    let cf = cf.get_ref();
                    report(
                        self,
                        [
                            (
                                "load_balancer",
                                cf.load_balancer.as_ref().map(Spanned::span),
                            ),
                            (
                                "outlier_detection",
                                cf.outlier_detection.as_ref().map(Spanned::span),
                            ),
                            ("request_keys", None),
                        ],
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

/// Whether each queue's dead-letter chain comes back to it, found in one pass over the
/// queues (following each chain from every queue took seconds with 20,000 queues).
fn on_dead_letter_cycle(queues: &[QueueSpec]) -> Vec<bool> {
    // 0: not seen yet; 1: on the chain being followed; 2: done.
    let mut state = vec![0u8; queues.len()];
    let mut on_cycle = vec![false; queues.len()];
    let mut chain = Vec::new();
    for start in 0..queues.len() {
        let mut at = Some(start);
        while let Some(i) = at.filter(|&i| state[i] == 0) {
            state[i] = 1;
            chain.push(i);
            at = queues[i].dead_letter;
        }
        // The chain came back to a queue of its own: from there on it is a cycle.
        if let Some(i) = at.filter(|&i| state[i] == 1)
            && let Some(from) = chain.iter().position(|&c| c == i)
        {
            chain[from..].iter().for_each(|&c| on_cycle[c] = true);
        }
        chain.drain(..).for_each(|c| state[c] = 2);
    }
    on_cycle
}

/// The names of the queues, sorted.
fn names_of_queues(names: &Names) -> Vec<String> {
    names.queue_names().map(|n| format!("\"{n}\"")).collect()
}
