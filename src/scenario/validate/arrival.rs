//! Clients: their `arrival` tables (open-loop rates with phases, or closed-loop users) and their phases.

use super::topology::Names;
use super::{Checker, show};
use crate::distribution::Distribution;
use crate::engine::{SimDuration, SimTime};
use crate::scenario::file::{ArrivalFile, ClientFile, PhaseFile};
use crate::scenario::{Arrival, ClientSpec, Phase, Priority, RateProfile};
use crate::telemetry::rate_trace;
use std::ops::Range;
use toml::Spanned;

/// The arrival kinds and the keys each takes.
pub(super) const ARRIVAL_KINDS: [(&str, &[&str]); 4] = [
    ("poisson", &["rate_per_s", "phases"]),
    ("constant", &["rate_per_s", "phases"]),
    ("closed", &["users", "think_time"]),
    ("trace", &["file", "scale"]),
];

/// Most users a closed-loop client may have.
const MAX_USERS: i64 = u32::MAX as i64;

impl Checker<'_> {
    /// A `[[client]]`: its name, the service it sends to, and when it sends.
    pub(super) fn client(
        &mut self,
        c: &Spanned<ClientFile>,
        names: &Names,
        duration: Option<SimDuration>,
    ) -> ClientSpec {
        let span = c.span();
        let f = c.get_ref();
        let name = self.required(
            &f.name,
            &span,
            "name",
            "this [[client]]",
            "a key such as `name = \"web\"`",
        );
        let target = self
            .required(
                &f.target,
                &span,
                "target",
                "this [[client]]",
                "the name of the service or queue it sends to, like `target = \"api\"`",
            )
            .and_then(|t| self.dest_ref(t, names, "target"));
        let arrival = self
            .required(
                &f.arrival,
                &span,
                "arrival",
                "this [[client]]",
                "a table such as `arrival = { kind = \"poisson\", rate_per_s = 100 }`",
            )
            .map_or_else(placeholder, |a| self.arrival(a, duration));
        ClientSpec {
            balancer: self.balancer(f.load_balancer.as_ref(), f.outlier_detection.as_ref()),
            keys: self.request_keys(f.request_keys.as_ref()),
            priority: f
                .priority
                .as_ref()
                .and_then(|p| self.choice(p, "priority", &Priority::NAMES, Priority::parse))
                .unwrap_or_default(),
            name: name.map(|n| n.get_ref().clone()).unwrap_or_default(),
            target: target.unwrap_or(crate::scenario::Dest::Service(0)),
            arrival,
            timeout: self.timeout(f.timeout.as_ref()),
            policy: {
                let policy = self.call_policy(&f.policy_keys());
                let scopes = [
                    f.circuit_breaker
                        .as_ref()
                        .and_then(|b| b.get_ref().scope.as_ref()),
                    f.retry_budget
                        .as_ref()
                        .and_then(|b| b.get_ref().scope.as_ref()),
                ];
                if policy.breaker_per_target {
                    for s in scopes
                        .into_iter()
                        .flatten()
                        .filter(|s| s.get_ref() == "target")
                    {
                        self.error(s.span(), "`scope = \"target\"` shares a breaker and budget among a service's call entries to one target; a client has one call site already: expected it on a service's `calls` entry, or no `scope`");
                    }
                }
                policy
            },
        }
    }

    fn arrival(&mut self, a: &Spanned<ArrivalFile>, duration: Option<SimDuration>) -> Arrival {
        let span = a.span();
        let f = a.get_ref();
        let present = [
            ("rate_per_s", f.rate_per_s.as_ref().map(Spanned::span)),
            ("phases", f.phases.as_ref().map(Spanned::span)),
            ("users", f.users.as_ref().map(Spanned::span)),
            ("think_time", f.think_time.as_ref().map(Spanned::span)),
            ("file", f.file.as_ref().map(Spanned::span)),
            ("scale", f.scale.as_ref().map(Spanned::span)),
        ];
        let Some(kind) = self.kind(&f.kind, &span, &ARRIVAL_KINDS, &present, "arrival") else {
            return placeholder();
        };
        if kind == "closed" {
            let users = self
                .required(
                    &f.users,
                    &span,
                    "users",
                    "this closed-loop arrival",
                    "the number of users, like `users = 50`",
                )
                .map_or(1, |u| self.count(u, "users", 1, MAX_USERS));
            let think_time = f
                .think_time
                .as_ref()
                .and_then(|d| self.distribution(d, "think_time"))
                .unwrap_or_else(Distribution::zero);
            return Arrival::Closed { users, think_time };
        }
        if kind == "trace" {
            return self.trace(f, &span, duration).unwrap_or_else(placeholder);
        }
        let base_per_s = self
            .required(
                &f.rate_per_s,
                &span,
                "rate_per_s",
                &format!("this {kind} arrival"),
                "requests per second, like `rate_per_s = 100`",
            )
            .map_or(0.0, |r| self.rate(r, "rate_per_s", false));
        let phases = f
            .phases
            .as_ref()
            .map_or_else(Vec::new, |p| self.phases(p.get_ref(), duration));
        let profile = RateProfile { base_per_s, phases };
        if kind == "poisson" {
            Arrival::Poisson(profile)
        } else {
            Arrival::Constant(profile)
        }
    }

    /// A `trace` arrival: a Poisson process whose rate follows the load curve in `file`,
    /// linear between its rows and at its last row's rate after them, times `scale`.
    fn trace(
        &mut self,
        f: &ArrivalFile,
        table: &Range<usize>,
        duration: Option<SimDuration>,
    ) -> Option<Arrival> {
        let scale = f.scale.as_ref().map_or(1.0, |s| {
            let v = *s.get_ref();
            if !v.is_finite() || v < 0.0 {
                self.error(
                    s.span(),
                    format!("`scale` is {}; expected a factor on the trace's rates, zero or more, like 1.5", crate::scenario::diagnostic::number(v)),
                );
            }
            v
        });
        let name = self.required(
            &f.file,
            table,
            "file",
            "this trace arrival",
            "the CSV file of (time, requests per second) rows, like `file = \"traffic.csv\"`",
        )?;
        let (shown, text) = self.data_file(name)?;
        let points = match rate_trace::read(&text) {
            Ok(p) => p,
            Err(e) => {
                self.data_error(name.span(), &shown, &e);
                return None;
            }
        };
        let end = duration.map_or(u64::MAX, SimDuration::as_nanos);
        // A leading gap: flat at the first rate until the first point.
        let lead = points.first().filter(|p| p.at > 0).map(|p| Phase {
            from: SimTime::ZERO,
            to: SimTime(p.at),
            rate_per_s: p.rate_per_s * scale,
            ramp_to_per_s: p.rate_per_s * scale,
        });
        let phases = lead
            .into_iter()
            .chain(
                points
                    .windows(2)
                    .take_while(|w| w[0].at < end)
                    .map(|w| Phase {
                        from: SimTime(w[0].at),
                        to: SimTime(w[1].at),
                        rate_per_s: w[0].rate_per_s * scale,
                        ramp_to_per_s: w[1].rate_per_s * scale,
                    }),
            )
            .collect();
        let last = points.last().map_or(0.0, |p| p.rate_per_s);
        Some(Arrival::Poisson(RateProfile {
            base_per_s: last * scale,
            phases,
        }))
    }

    /// A rate per second under `key`: finite and positive (or zero when `zero_ok`).
    fn rate(&mut self, r: &Spanned<f64>, key: &str, zero_ok: bool) -> f64 {
        let v = *r.get_ref();
        let bad = !v.is_finite() || v < 0.0 || (v == 0.0 && !zero_ok);
        if bad {
            let expected = if zero_ok {
                "zero or more"
            } else {
                "greater than zero"
            };
            self.error(
                r.span(),
                format!(
                    "`{key}` is {}; expected a number of requests per second {expected}",
                    crate::scenario::diagnostic::number(v)
                ),
            );
        }
        v
    }

    /// The phases of an open-loop arrival: each inside the run, none overlapping.
    fn phases(
        &mut self,
        phases: &[Spanned<PhaseFile>],
        duration: Option<SimDuration>,
    ) -> Vec<Phase> {
        let mut out: Vec<(Range<usize>, Phase)> = Vec::new();
        for p in phases {
            let span = p.span();
            let f = p.get_ref();
            let from = self.required(
                &f.from,
                &span,
                "from",
                "this phase",
                "its start, like `from = \"1m\"`",
            );
            let to = self.required(
                &f.to,
                &span,
                "to",
                "this phase",
                "its end, like `to = \"2m\"`",
            );
            let rate_per_s = self
                .required(
                    &f.rate_per_s,
                    &span,
                    "rate_per_s",
                    "this phase",
                    "its rate in requests per second, like `rate_per_s = 50`",
                )
                .map(|r| self.rate(r, "rate_per_s", true));
            let ramp_to_per_s = f
                .ramp_to_per_s
                .as_ref()
                .map(|r| self.rate(r, "ramp_to_per_s", true));
            let (Some(from), Some(to), Some(rate_per_s)) = (from, to, rate_per_s) else {
                continue;
            };
            let (start, end) = (from.get_ref().0, to.get_ref().0);
            if end <= start {
                self.error(
                    to.span(),
                    format!(
                        "this phase ends at {}, which is not after its start at {}; expected `to` later than `from`",
                        show(end),
                        show(start)
                    ),
                );
                continue;
            }
            if let Some(duration) = duration
                && end > duration
            {
                self.error(
                    to.span(),
                    format!(
                        "this phase ends at {}, after the run's duration of {}; expected `to` at most `duration`",
                        show(end),
                        show(duration)
                    ),
                );
            }
            out.push((
                span,
                Phase {
                    from: SimTime(start.as_nanos()),
                    to: SimTime(end.as_nanos()),
                    rate_per_s,
                    ramp_to_per_s: ramp_to_per_s.unwrap_or(rate_per_s),
                },
            ));
        }
        out.sort_by_key(|(_, p)| p.from);
        // The phase that ends last among those seen so far.
        let mut latest: Option<&Phase> = None;
        let mut overlaps = Vec::new();
        for (span, phase) in &out {
            if let Some(earlier) = latest
                && phase.from < earlier.to
            {
                overlaps.push((
                    span.clone(),
                    format!(
                        "this phase ({} to {}) overlaps the phase from {} to {}; expected phases that do not overlap",
                        show_time(phase.from),
                        show_time(phase.to),
                        show_time(earlier.from),
                        show_time(earlier.to),
                    ),
                ));
            }
            if latest.is_none_or(|l| phase.to > l.to) {
                latest = Some(phase);
            }
        }
        for (span, message) in overlaps {
            self.error(span, message);
        }
        out.into_iter().map(|(_, p)| p).collect()
    }
}

/// A point in time as a person reads it, for messages.
fn show_time(t: SimTime) -> String {
    show(SimDuration::from_nanos(t.as_nanos()))
}

/// Stands in for an arrival that could not be read; never reaches a run.
fn placeholder() -> Arrival {
    Arrival::Closed {
        users: 0,
        think_time: Distribution::zero(),
    }
}
