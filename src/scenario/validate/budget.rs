//! What a valid scenario would cost, estimated before it runs: the requests its clients
//! send, the events its faults make, the rows of its results. A scenario far past its
//! limits is refused at the value responsible, instead of running for minutes first.

use super::Checker;
use crate::scenario::fault::{FaultKind, FaultTarget, FaultTiming};
use crate::scenario::file::ScenarioFile;
use crate::scenario::{Arrival, RateProfile, Scenario};
use std::ops::Range;

impl Checker<'_> {
    /// Reports every part of `s` whose estimated cost passes a limit: requests or events
    /// past `max_events`, closed-loop users past `max_pending`, result rows past
    /// `max_result_rows` (the queues' rows up to the end of `duration`; those after it are
    /// counted while the run goes).
    pub(super) fn estimate(&mut self, s: &Scenario, f: &ScenarioFile, root: &Range<usize>) {
        let seconds = s.duration.as_nanos() as f64 / 1e9;
        let max_events = s.max_events as f64;
        let clients = f.client.as_ref().map_or(&[][..], |c| c.get_ref());
        for (c, file) in s.clients.iter().zip(clients) {
            let span = file
                .get_ref()
                .arrival
                .as_ref()
                .map_or_else(|| file.span(), |a| a.span());
            let requests = match &c.arrival {
                Arrival::Poisson(p) | Arrival::Constant(p) => requests(p, seconds),
                Arrival::Closed { users, think_time } => {
                    if u64::from(*users) > s.max_pending {
                        self.error(
                            span.clone(),
                            format!(
                                "client `{}` has {users} users, each with a request in flight, more than `max_pending` = {}; expected fewer users, or a higher `max_pending`",
                                c.name, s.max_pending
                            ),
                        );
                        continue;
                    }
                    // Each user sends at most one request per think time.
                    let think = think_time.mean_nanos() / 1e9;
                    if think > 0.0 {
                        f64::from(*users) * seconds / think
                    } else {
                        0.0
                    }
                }
            };
            if requests > max_events {
                self.error(
                    span,
                    format!(
                        "client `{}` would send about {} requests in `duration` ({}), each costing at least one event, but `max_events` = {} fit in a run; expected a lower rate, a shorter `duration`, or a higher `max_events`",
                        c.name,
                        sci(requests),
                        super::show(s.duration),
                        s.max_events
                    ),
                );
            }
        }
        for (fault, file) in s.faults.iter().zip(&f.fault) {
            let units = match &fault.target {
                FaultTarget::Replicas { replicas, .. } => replicas.len() as f64,
                FaultTarget::Services(list) => list
                    .iter()
                    .map(|&i| f64::from(s.services[i].replicas))
                    .sum(),
                FaultTarget::Link { .. } | FaultTarget::Groups => 1.0,
            };
            let cycle = match (&fault.kind, &fault.timing) {
                (FaultKind::ChaosMonkey { interval, .. }, _) => {
                    Some((interval.as_nanos() as f64 / 1e9, 1.0))
                }
                (_, FaultTiming::Random { up, down }) => {
                    Some(((up.mean_nanos() + down.mean_nanos()) / 1e9, units))
                }
                _ => None,
            };
            let Some((period, units)) = cycle else {
                continue;
            };
            let events = 2.0 * units * seconds / period.max(1e-9);
            if events > max_events {
                self.error(
                    file.span(),
                    format!(
                        "fault `{}` would turn on and off about {} times in `duration` ({}), more than `max_events` = {} allows; expected a longer interval, MTBF or MTTR, or a higher `max_events`",
                        fault.name,
                        sci(events / 2.0),
                        super::show(s.duration),
                        s.max_events
                    ),
                );
            }
        }
        // As the recorders lay them out: the time series and the services from the bucket
        // holding `warmup` to the one holding the end of `duration`, the queues from zero.
        let buckets = s.series_buckets();
        let rows = s.fixed_result_rows();
        if rows > s.max_result_rows {
            let span = f
                .bucket
                .as_ref()
                .map(|b| b.span())
                .or_else(|| f.duration.as_ref().map(|d| d.span()))
                .unwrap_or_else(|| root.clone());
            let queues = if s.queues.is_empty() {
                String::new()
            } else {
                format!(
                    " + {} queues x {} buckets from time zero",
                    s.queues.len(),
                    s.queue_buckets()
                )
            };
            self.error(
                span,
                format!(
                    "the results of one run would have about {rows} rows ({buckets} buckets x (1 + {} services){queues}), more than `max_result_rows` = {}; expected a wider `bucket`, a shorter `duration`, or a higher `max_result_rows`",
                    s.services.len(),
                    s.max_result_rows
                ),
            );
        }
    }
}

/// The requests a rate profile sends over `[0, seconds)`.
fn requests(p: &RateProfile, seconds: f64) -> f64 {
    let mut total = p.base_per_s * seconds;
    for phase in &p.phases {
        let from = phase.from.as_nanos() as f64 / 1e9;
        let to = (phase.to.as_nanos() as f64 / 1e9).min(seconds);
        if to <= from {
            continue;
        }
        // The phase replaces the base rate; a ramp is linear, so its mean is the average of
        // its ends (cut at `seconds` where it runs past the end).
        let span = phase.to.as_nanos() as f64 / 1e9 - from;
        let end_rate =
            phase.rate_per_s + (phase.ramp_to_per_s - phase.rate_per_s) * (to - from) / span;
        total += ((phase.rate_per_s + end_rate) / 2.0 - p.base_per_s) * (to - from);
    }
    total.max(0.0)
}

/// A large number in scientific notation: `3.0e14`.
fn sci(x: f64) -> String {
    if x < 1e6 {
        format!("{x:.0}")
    } else {
        format!("{x:.1e}")
    }
}
