//! The metrics compared across variants and checked by expectations, and how each is read
//! from one run's row of `summary.csv`.

use crate::metrics::Counts;
use std::fmt;

/// A per-run figure that comparisons average across seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// (ok + degraded) / requests.
    Availability,
    /// Mean latency of successful requests, ms.
    MeanMs,
    /// Median latency of successful requests, ms.
    P50Ms,
    /// 90th percentile latency, ms.
    P90Ms,
    /// 99th percentile latency, ms.
    P99Ms,
    /// 99.9th percentile latency, ms.
    P999Ms,
    /// failed / requests.
    Failed,
    /// errors / requests.
    Errors,
    /// timeouts / requests.
    Timeouts,
    /// rejected / requests.
    Rejected,
    /// short_circuited / requests.
    ShortCircuited,
    /// attempts / requests: 1 without retries or hedges.
    AttemptsPerRequest,
    /// Retries sent, per run.
    Retries,
    /// Hedged attempts sent, per run.
    Hedges,
    /// Retries refused by a budget, per run.
    BudgetRefused,
    /// Requests executed twice by non-idempotent services, per run.
    Duplicates,
    /// Requests dropped at dequeue by deadline propagation, per run.
    Dropped,
    /// Seconds until availability came back after the scheduled faults; infinite when it
    /// never did.
    RecoveryS,
    /// rate_limited / requests.
    RateLimited,
    /// bulkhead_full / requests.
    BulkheadFull,
    /// shed / requests.
    Shed,
    /// processed / messages: messages acknowledged by a consumer.
    Processed,
    /// dead_lettered / messages.
    DeadLettered,
    /// Redeliveries per message.
    RedeliveriesPerMessage,
    /// Mean time from a message's send to its acknowledgement, ms.
    MessageMeanMs,
    /// 99th percentile of the time from a message's send to its acknowledgement, ms.
    MessageP99Ms,
}

/// Whether a larger value of a metric is better or worse, for charts and regressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// More is better (availability).
    Higher,
    /// Less is better (latency, failures, retries, recovery time).
    Lower,
}

impl Metric {
    /// Every metric, in the order of the columns of `aggregate.csv`.
    pub const ALL: [Metric; 26] = [
        Metric::Availability,
        Metric::MeanMs,
        Metric::P50Ms,
        Metric::P90Ms,
        Metric::P99Ms,
        Metric::P999Ms,
        Metric::Failed,
        Metric::Errors,
        Metric::Timeouts,
        Metric::Rejected,
        Metric::ShortCircuited,
        Metric::AttemptsPerRequest,
        Metric::Retries,
        Metric::Hedges,
        Metric::BudgetRefused,
        Metric::Duplicates,
        Metric::Dropped,
        Metric::RecoveryS,
        Metric::RateLimited,
        Metric::BulkheadFull,
        Metric::Shed,
        Metric::Processed,
        Metric::DeadLettered,
        Metric::RedeliveriesPerMessage,
        Metric::MessageMeanMs,
        Metric::MessageP99Ms,
    ];

    /// Its position in [`Metric::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name: the prefix of its `aggregate.csv` columns.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Availability => "availability",
            Metric::MeanMs => "mean_ms",
            Metric::P50Ms => "p50_ms",
            Metric::P90Ms => "p90_ms",
            Metric::P99Ms => "p99_ms",
            Metric::P999Ms => "p999_ms",
            Metric::Failed => "failed",
            Metric::Errors => "errors",
            Metric::Timeouts => "timeouts",
            Metric::Rejected => "rejected",
            Metric::ShortCircuited => "short_circuited",
            Metric::AttemptsPerRequest => "attempts_per_request",
            Metric::Retries => "retries",
            Metric::Hedges => "hedges",
            Metric::BudgetRefused => "budget_refused",
            Metric::Duplicates => "duplicates",
            Metric::Dropped => "dropped",
            Metric::RecoveryS => "recovery_s",
            Metric::RateLimited => "rate_limited",
            Metric::BulkheadFull => "bulkhead_full",
            Metric::Shed => "shed",
            Metric::Processed => "processed",
            Metric::DeadLettered => "dead_lettered",
            Metric::RedeliveriesPerMessage => "redeliveries_per_message",
            Metric::MessageMeanMs => "message_mean_ms",
            Metric::MessageP99Ms => "message_p99_ms",
        }
    }

    /// The metric named `name`, if any.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Which direction is better.
    pub fn better(self) -> Better {
        match self {
            Metric::Availability | Metric::Processed => Better::Higher,
            _ => Better::Lower,
        }
    }

    /// True for fractions of requests or messages (shown as percentages to people).
    pub fn is_fraction(self) -> bool {
        matches!(
            self,
            Metric::Availability
                | Metric::Failed
                | Metric::Errors
                | Metric::Timeouts
                | Metric::Rejected
                | Metric::ShortCircuited
                | Metric::RateLimited
                | Metric::BulkheadFull
                | Metric::Shed
                | Metric::Processed
                | Metric::DeadLettered
        )
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One run's row of `summary.csv`, as the comparisons read it: plain numbers, about 150
/// bytes, so that a study of a million runs keeps its rows in memory comfortably. Its
/// variant and sweep point are where it is kept (one list per cell).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRow {
    /// The run's seed.
    pub seed: u64,
    /// Counted requests and their outcomes.
    pub counts: Counts,
    /// Latency figures in ms, `None` when no request succeeded: mean, p50, p90, p99, p999.
    pub latency_ms: Option<[f64; 5]>,
    /// Recovery time in seconds (infinite: never); `None` when not applicable.
    pub recovery_s: Option<f64>,
    /// Policy counters: retries, hedges, budget_refused, duplicates, dropped.
    pub policy: [u64; 5],
    /// Messages sent in the window: stored, processed, dead-lettered, redeliveries.
    pub messages: [u64; 4],
    /// Messages' time from send to acknowledgement in ms, mean and p99 (`None` when none
    /// was processed).
    pub message_ms: Option<[f64; 2]>,
}

impl RunRow {
    /// The row `summary.csv` holds for `run`, read back as [`crate::compare::build`] reads
    /// it (latencies rounded to the file's microseconds), so a verdict on a run in memory is
    /// the verdict `resim check` reaches from the files.
    pub fn of(run: &crate::run::RunResult) -> RunRow {
        use crate::metrics::recovery::Recovery;
        use crate::report::format::ms;
        let as_file = |ns: f64| ms(ns).parse::<f64>().unwrap_or(f64::NAN);
        let m = &run.metrics;
        let p = &m.policy;
        RunRow {
            seed: run.seed,
            counts: m.totals,
            latency_ms: m.latency.as_ref().map(|l| {
                [
                    l.mean_ns,
                    l.p50_ns as f64,
                    l.p90_ns as f64,
                    l.p99_ns as f64,
                    l.p999_ns as f64,
                ]
                .map(as_file)
            }),
            recovery_s: match run.recovery {
                Recovery::NotApplicable => None,
                Recovery::Seconds(s) => format!("{s:.3}").parse().ok(),
                Recovery::Never => Some(f64::INFINITY),
            },
            policy: [
                p.retries,
                p.hedges,
                p.budget_refused,
                p.duplicates,
                p.dropped,
            ],
            messages: [
                m.messages.messages,
                m.messages.processed,
                m.messages.dead_lettered,
                m.messages.redelivered,
            ],
            message_ms: m
                .messages
                .latency
                .as_ref()
                .map(|l| [as_file(l.mean_ns), as_file(l.p99_ns as f64)]),
        }
    }

    /// The value of `metric` in this run; `None` when undefined (no request counted, no
    /// success for latencies, no scheduled fault for recovery).
    pub fn value(&self, metric: Metric) -> Option<f64> {
        let c = &self.counts;
        let per_request = |n: u64| (c.requests > 0).then(|| n as f64 / c.requests as f64);
        let latency = |i: usize| self.latency_ms.map(|l| l[i]);
        let messages = self.messages[0];
        let per_message = |n: u64| (messages > 0).then(|| n as f64 / messages as f64);
        match metric {
            Metric::Availability => c.availability(),
            Metric::MeanMs => latency(0),
            Metric::P50Ms => latency(1),
            Metric::P90Ms => latency(2),
            Metric::P99Ms => latency(3),
            Metric::P999Ms => latency(4),
            Metric::Failed => per_request(c.failed()),
            Metric::Errors => per_request(c.errors),
            Metric::Timeouts => per_request(c.timeouts),
            Metric::Rejected => per_request(c.rejected),
            Metric::ShortCircuited => per_request(c.short_circuited),
            Metric::AttemptsPerRequest => per_request(c.attempts),
            Metric::Retries => Some(self.policy[0] as f64),
            Metric::Hedges => Some(self.policy[1] as f64),
            Metric::BudgetRefused => Some(self.policy[2] as f64),
            Metric::Duplicates => Some(self.policy[3] as f64),
            Metric::Dropped => Some(self.policy[4] as f64),
            Metric::RecoveryS => self.recovery_s,
            Metric::RateLimited => per_request(c.rate_limited),
            Metric::BulkheadFull => per_request(c.bulkhead_full),
            Metric::Shed => per_request(c.shed),
            Metric::Processed => per_message(self.messages[1]),
            Metric::DeadLettered => per_message(self.messages[2]),
            Metric::RedeliveriesPerMessage => per_message(self.messages[3]),
            Metric::MessageMeanMs => self.message_ms.map(|m| m[0]),
            Metric::MessageP99Ms => self.message_ms.map(|m| m[1]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_the_order() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(m.index(), i);
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        assert_eq!(Metric::from_name("p99"), None);
    }

    #[test]
    fn fractions_are_of_counted_requests() {
        let row = RunRow {
            counts: Counts {
                requests: 200,
                ok: 150,
                degraded: 10,
                errors: 20,
                timeouts: 15,
                rejected: 5,
                short_circuited: 0,
                attempts: 260,
                ..Counts::default()
            },
            ..RunRow::default()
        };
        assert_eq!(row.value(Metric::Availability), Some(0.8));
        assert_eq!(row.value(Metric::Failed), Some(0.2));
        assert_eq!(row.value(Metric::AttemptsPerRequest), Some(1.3));
        assert_eq!(row.value(Metric::P99Ms), None);
        assert_eq!(RunRow::default().value(Metric::Availability), None);
    }
}
