//! From the serde mirror to a [`Scenario`]: every value checked, every problem collected.

use super::diagnostic::{Diagnostic, ScenarioError, SourceMap, did_you_mean};
use super::file::{ArrivalFile, DistributionFile, PhaseFile, ScenarioFile, ServiceFile};
use super::units::{DurationValue, QueueValue};
use super::{
    Arrival, CallSpec, ClientSpec, Endpoint, LinkSpec, Phase, RateProfile, Scenario, ServiceSpec,
};
use crate::distribution::Distribution;
use crate::engine::{SimDuration, SimTime};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Default seed when the file names none.
pub const DEFAULT_SEED: u64 = 1;
/// Default width of a time-series row.
pub const DEFAULT_BUCKET: SimDuration = SimDuration::from_secs(1);
/// Default event budget per run.
pub const DEFAULT_MAX_EVENTS: u64 = 2_000_000_000;
/// Most rows a run's time series may have.
pub const MAX_BUCKETS: u64 = 1_000_000;

/// The distribution kinds and the keys each takes, in the order the docs list them.
const DISTRIBUTION_KINDS: [(&str, &[&str]); 6] = [
    ("constant", &["value"]),
    ("exponential", &["mean"]),
    ("uniform", &["min", "max"]),
    ("lognormal", &["median", "p99"]),
    ("normal", &["mean", "stddev"]),
    ("pareto", &["scale", "shape"]),
];

/// The arrival kinds and the keys each takes.
const ARRIVAL_KINDS: [(&str, &[&str]); 3] = [
    ("poisson", &["rate_per_s", "phases"]),
    ("constant", &["rate_per_s", "phases"]),
    ("closed", &["users", "think_time"]),
];

/// Parses `text` and validates it into a scenario, naming `file` in every message.
pub fn parse_and_validate(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let map = SourceMap::new(text);
    let parsed: ScenarioFile = toml::from_str(text).map_err(|e| ScenarioError {
        file: file.to_string(),
        diagnostics: vec![map.diagnostic(e.span(), explain_toml_error(e.message()))],
    })?;
    let mut checker = Checker {
        map: &map,
        diagnostics: Vec::new(),
    };
    let scenario = checker.scenario(parsed);
    if checker.diagnostics.is_empty() {
        Ok(scenario)
    } else {
        let mut diagnostics = checker.diagnostics;
        diagnostics.sort_by_key(|d| (d.line, d.col));
        Err(ScenarioError {
            file: file.to_string(),
            diagnostics,
        })
    }
}

/// Rewrites serde's and toml's wording into what a scenario author needs to read.
fn explain_toml_error(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, expected)) = rest.split_once("`, expected ") {
            let known: Vec<&str> = expected
                .trim_start_matches("one of ")
                .split(", ")
                .map(|k| k.trim_matches('`'))
                .collect();
            let hint = did_you_mean(key, known.iter().copied())
                .map(|k| format!("did you mean `{k}`? "))
                .unwrap_or_default();
            return format!(
                "unknown key `{key}`; {hint}expected one of: {}",
                known.join(", ")
            );
        }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.trim_end_matches('`');
        return format!("missing key `{key}`, which this table requires");
    }
    message
        .replace("expected u64", "expected a whole number (0 or more)")
        .replace("expected f64", "expected a number")
        .replace("expected a string", "expected a quoted string")
}

struct Checker<'a> {
    map: &'a SourceMap<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.diagnostics
            .push(self.map.diagnostic(Some(span), message));
    }

    fn scenario(&mut self, f: ScenarioFile) -> Scenario {
        let duration = f.duration.get_ref().0;
        if duration == SimDuration::ZERO {
            self.error(
                f.duration.span(),
                "`duration` is zero; expected a positive duration such as \"5m\"",
            );
        }
        let warmup = f
            .warmup
            .as_ref()
            .map_or(SimDuration::ZERO, |w| w.get_ref().0);
        if let Some(w) = &f.warmup
            && warmup >= duration {
                self.error(
                    w.span(),
                    format!(
                        "`warmup` ({}) is not shorter than `duration` ({}); expected a warmup less than the duration",
                        show(warmup),
                        show(duration)
                    ),
                );
            }
        let bucket = f.bucket.as_ref().map_or(DEFAULT_BUCKET, |b| b.get_ref().0);
        if let Some(b) = &f.bucket {
            if bucket == SimDuration::ZERO {
                self.error(
                    b.span(),
                    "`bucket` is zero; expected a positive duration such as \"1s\"",
                );
            } else if duration.as_nanos() / bucket.as_nanos() > MAX_BUCKETS {
                self.error(
                    b.span(),
                    format!("`bucket` is so small that the time series would have more than {MAX_BUCKETS} rows; expected a larger bucket"),
                );
            }
        }
        let max_events = f
            .max_events
            .as_ref()
            .map_or(DEFAULT_MAX_EVENTS, |m| *m.get_ref());
        if let Some(m) = &f.max_events
            && max_events == 0 {
                self.error(
                    m.span(),
                    "`max_events` is zero; expected a positive event budget",
                );
            }
        let name = f.name.get_ref().trim().to_string();
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            self.error(
                f.name.span(),
                "`name` must be a non-empty name without slashes; it names the output folder",
            );
        }

        let names = self.names(&f);
        let network_latency = f
            .network
            .as_ref()
            .and_then(|n| n.latency.as_ref())
            .map_or_else(Distribution::zero, |d| {
                self.distribution(d, "network latency")
                    .unwrap_or_else(Distribution::zero)
            });

        let clients = f
            .client
            .iter()
            .map(|c| {
                let c = c.get_ref();
                ClientSpec {
                    name: c.name.get_ref().clone(),
                    target: self.service_ref(&c.target, &names, "target").unwrap_or(0),
                    arrival: self.arrival(&c.arrival, duration),
                }
            })
            .collect();
        let services: Vec<ServiceSpec> = f
            .service
            .iter()
            .map(|s| self.service(s.get_ref(), &names))
            .collect();
        let links = self.links(&f, &names);
        if f.client.is_empty() {
            self.error(
                0..0,
                "the scenario has no [[client]]; expected at least one source of requests",
            );
        }
        if f.service.is_empty() {
            self.error(
                0..0,
                "the scenario has no [[service]]; expected at least one service",
            );
        }
        if self.diagnostics.is_empty() {
            self.check_cycles(&f, &services);
        }

        Scenario {
            name,
            description: f.description.unwrap_or_default(),
            seed: f.seed.map_or(DEFAULT_SEED, Spanned::into_inner),
            duration,
            warmup,
            bucket,
            max_events,
            network_latency,
            clients,
            services,
            links,
        }
    }

    /// Every client and service name, checked for duplicates.
    fn names(&mut self, f: &ScenarioFile) -> BTreeMap<String, Endpoint> {
        let mut names = BTreeMap::new();
        let clients = f
            .client
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.get_ref().name, Endpoint::Client(i)));
        let services = f
            .service
            .iter()
            .enumerate()
            .map(|(i, s)| (&s.get_ref().name, Endpoint::Service(i)));
        for (name, endpoint) in clients.chain(services) {
            let n = name.get_ref();
            if n.is_empty() || n.contains(['[', ']', ',', '"']) || n.contains("->") {
                self.error(
                    name.span(),
                    format!("the name \"{n}\" is not usable; expected letters, digits, '-', '_' or '.' (no brackets, commas or arrows)"),
                );
            }
            if names.insert(n.clone(), endpoint).is_some() {
                self.error(
                    name.span(),
                    format!(
                        "the name \"{n}\" is used twice; clients and services need distinct names"
                    ),
                );
            }
        }
        names
    }

    /// The index of the service named by `name`, or an error naming the known services.
    fn service_ref(
        &mut self,
        name: &Spanned<String>,
        names: &BTreeMap<String, Endpoint>,
        key: &str,
    ) -> Option<usize> {
        match names.get(name.get_ref()) {
            Some(Endpoint::Service(i)) => Some(*i),
            Some(Endpoint::Client(_)) => {
                self.error(
                    name.span(),
                    format!(
                        "`{key}` names the client \"{}\"; expected a service",
                        name.get_ref()
                    ),
                );
                None
            }
            None => {
                let services = names
                    .iter()
                    .filter(|(_, e)| matches!(e, Endpoint::Service(_)))
                    .map(|(n, _)| n.as_str());
                let hint = did_you_mean(name.get_ref(), services.clone())
                    .map(|n| format!("did you mean \"{n}\"? "))
                    .unwrap_or_default();
                let known: Vec<&str> = services.collect();
                self.error(
                    name.span(),
                    format!(
                        "unknown service \"{}\" in `{key}`; {hint}expected one of: {}",
                        name.get_ref(),
                        known.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn arrival(&mut self, a: &Spanned<ArrivalFile>, duration: SimDuration) -> Arrival {
        let f = a.get_ref();
        let present = [
            ("rate_per_s", f.rate_per_s.as_ref().map(Spanned::span)),
            ("phases", f.phases.as_ref().map(|_| a.span())),
            ("users", f.users.as_ref().map(Spanned::span)),
            ("think_time", f.think_time.as_ref().map(Spanned::span)),
        ];
        let Some(kind) = self.kind(&f.kind, &ARRIVAL_KINDS, &present, "arrival") else {
            return Arrival::Closed {
                users: 0,
                think_time: Distribution::zero(),
            };
        };
        match kind {
            "closed" => {
                let users = match &f.users {
                    Some(u) if *u.get_ref() == 0 || *u.get_ref() > u64::from(u32::MAX) => {
                        self.error(u.span(), "`users` must be at least 1 (and fit in 32 bits)");
                        0
                    }
                    Some(u) => *u.get_ref() as u32,
                    None => {
                        self.error(
                            a.span(),
                            "a closed-loop arrival needs `users`, the number of users",
                        );
                        0
                    }
                };
                let think_time = f
                    .think_time
                    .as_ref()
                    .and_then(|d| self.distribution(d, "think_time"))
                    .unwrap_or_else(Distribution::zero);
                Arrival::Closed { users, think_time }
            }
            _ => {
                let base_per_s = match &f.rate_per_s {
                    Some(r) => self.rate(r, false),
                    None => {
                        self.error(
                            a.span(),
                            format!("a {kind} arrival needs `rate_per_s`, requests per second"),
                        );
                        0.0
                    }
                };
                let phases = self.phases(f.phases.as_deref().unwrap_or(&[]), duration);
                let profile = RateProfile { base_per_s, phases };
                if kind == "poisson" {
                    Arrival::Poisson(profile)
                } else {
                    Arrival::Constant(profile)
                }
            }
        }
    }

    /// A rate per second: finite and positive (or zero when `zero_ok`).
    fn rate(&mut self, r: &Spanned<f64>, zero_ok: bool) -> f64 {
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
                format!("the rate {v} per second is out of range; expected a number {expected}"),
            );
        }
        v
    }

    fn phases(&mut self, phases: &[Spanned<PhaseFile>], duration: SimDuration) -> Vec<Phase> {
        let mut out: Vec<(Range<usize>, Phase)> = Vec::new();
        for p in phases {
            let f = p.get_ref();
            let from = f.from.get_ref().0;
            let to = f.to.get_ref().0;
            if to <= from {
                self.error(f.to.span(), "a phase's `to` must be after its `from`");
            } else if to > duration {
                self.error(
                    f.to.span(),
                    format!("the phase ends at {} after the run's duration {}; expected `to` <= `duration`", show(to), show(duration)),
                );
            }
            let rate_per_s = self.rate(&f.rate_per_s, true);
            let ramp_to_per_s = f
                .ramp_to_per_s
                .as_ref()
                .map_or(rate_per_s, |r| self.rate(r, true));
            out.push((
                p.span(),
                Phase {
                    from: SimTime(from.as_nanos()),
                    to: SimTime(to.as_nanos()),
                    rate_per_s,
                    ramp_to_per_s,
                },
            ));
        }
        out.sort_by_key(|(_, p)| p.from);
        for w in 1..out.len() {
            if out[w].1.from < out[w - 1].1.to {
                let span = out[w].0.clone();
                self.error(
                    span,
                    "this phase overlaps another; expected phases that do not overlap",
                );
            }
        }
        out.into_iter().map(|(_, p)| p).collect()
    }

    fn service(&mut self, s: &ServiceFile, names: &BTreeMap<String, Endpoint>) -> ServiceSpec {
        let replicas = self.count(s.replicas.as_ref(), "replicas", 1, 10_000);
        let concurrency = self.count(s.concurrency.as_ref(), "concurrency", 1, 1_000_000);
        let queue = match s.queue.as_ref() {
            None => None,
            Some(q) => match *q.get_ref() {
                QueueValue::Unbounded => None,
                QueueValue::Bounded(n) if n > u64::from(u32::MAX) => {
                    self.error(
                        q.span(),
                        "the queue size is too large; use \"unbounded\" instead",
                    );
                    None
                }
                QueueValue::Bounded(n) => Some(n as u32),
            },
        };
        let service_time = self
            .distribution(&s.service_time, "service_time")
            .unwrap_or_else(Distribution::zero);
        let error_rate = s
            .error_rate
            .as_ref()
            .map_or(0.0, |e| self.probability(e, "error_rate"));
        let calls = s
            .calls
            .iter()
            .filter_map(|c| {
                self.service_ref(&c.get_ref().to, names, "to")
                    .map(|to| CallSpec { to })
            })
            .collect();
        ServiceSpec {
            name: s.name.get_ref().clone(),
            replicas,
            concurrency,
            queue,
            service_time,
            calls,
            error_rate,
        }
    }

    fn count(&mut self, v: Option<&Spanned<u64>>, key: &str, min: u64, max: u64) -> u32 {
        let Some(v) = v else { return min as u32 };
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

    fn probability(&mut self, p: &Spanned<f64>, key: &str) -> f64 {
        let v = *p.get_ref();
        if !(0.0..=1.0).contains(&v) {
            self.error(
                p.span(),
                format!("`{key}` is {v}; expected a probability from 0 to 1"),
            );
            return 0.0;
        }
        v
    }

    fn links(&mut self, f: &ScenarioFile, names: &BTreeMap<String, Endpoint>) -> Vec<LinkSpec> {
        let mut seen = BTreeMap::new();
        let mut links = Vec::new();
        for l in &f.link {
            let l = l.get_ref();
            let endpoint = |checker: &mut Self, name: &Spanned<String>| match names
                .get(name.get_ref())
            {
                Some(e) => Some(*e),
                None => {
                    let hint = did_you_mean(name.get_ref(), names.keys().map(String::as_str))
                        .map(|n| format!("did you mean \"{n}\"? "))
                        .unwrap_or_default();
                    checker.error(
                        name.span(),
                        format!("unknown client or service \"{}\" in a [[link]]; {hint}expected a name declared in this file", name.get_ref()),
                    );
                    None
                }
            };
            let a = endpoint(self, &l.from);
            let b = endpoint(self, &l.to);
            let latency = l
                .latency
                .as_ref()
                .and_then(|d| self.distribution(d, "link latency"));
            if let (Some(a), Some(b)) = (a, b) {
                let key = (a.min(b), a.max(b));
                if a == b {
                    self.error(
                        l.to.span(),
                        "a link joins two different endpoints; `from` and `to` are the same",
                    );
                } else if seen.insert(key, ()).is_some() {
                    self.error(l.from.span(), "a second [[link]] between the same two endpoints; expected one entry per pair");
                } else {
                    links.push(LinkSpec { a, b, latency });
                }
            }
        }
        links
    }

    /// Reports the first call cycle of each strongly connected group of services.
    fn check_cycles(&mut self, f: &ScenarioFile, services: &[ServiceSpec]) {
        let mut graph = DiGraph::<usize, usize>::new();
        let nodes: Vec<NodeIndex> = (0..services.len()).map(|i| graph.add_node(i)).collect();
        for (i, s) in services.iter().enumerate() {
            for (k, c) in s.calls.iter().enumerate() {
                graph.add_edge(nodes[i], nodes[c.to], k);
            }
        }
        let mut groups = petgraph::algo::tarjan_scc(&graph);
        groups.sort_by_key(|g| g.iter().map(|n| graph[*n]).min());
        for group in groups {
            let start = group
                .iter()
                .map(|n| graph[*n])
                .min()
                .expect("non-empty group");
            let in_group = |i: usize| group.iter().any(|n| graph[*n] == i);
            let self_loop = services[start].calls.iter().any(|c| c.to == start);
            if group.len() < 2 && !self_loop {
                continue;
            }
            // Walk from `start` along calls inside the group until it returns to `start`.
            let mut path = vec![start];
            let mut first_call = None;
            let mut visited = vec![false; services.len()];
            let mut at = start;
            loop {
                visited[at] = true;
                let next = services[at]
                    .calls
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.to == start || (in_group(c.to) && !visited[c.to]));
                let Some((k, c)) = next else { break };
                if first_call.is_none() {
                    first_call = Some(k);
                }
                path.push(c.to);
                if c.to == start {
                    break;
                }
                at = c.to;
            }
            let names: Vec<&str> = path.iter().map(|&i| services[i].name.as_str()).collect();
            let span = f.service[start].get_ref().calls[first_call.unwrap_or(0)]
                .get_ref()
                .to
                .span();
            self.error(
                span,
                format!(
                    "call cycle: {}; expected calls without cycles, since a request holds its worker while its calls run",
                    names.join(" -> ")
                ),
            );
        }
    }

    /// Checks `f.kind` against `kinds` and the keys present against the kind's keys.
    fn kind<'k>(
        &mut self,
        kind: &Spanned<String>,
        kinds: &[(&'k str, &[&str])],
        present: &[(&str, Option<Range<usize>>)],
        what: &str,
    ) -> Option<&'k str> {
        let Some((name, keys)) = kinds.iter().find(|(k, _)| k == kind.get_ref()) else {
            let names = kinds.iter().map(|(k, _)| *k);
            let hint = did_you_mean(kind.get_ref(), names.clone())
                .map(|k| format!("did you mean \"{k}\"? "))
                .unwrap_or_default();
            let known: Vec<&str> = names.collect();
            self.error(
                kind.span(),
                format!(
                    "unknown {what} kind \"{}\"; {hint}expected one of: {}",
                    kind.get_ref(),
                    known.join(", ")
                ),
            );
            return None;
        };
        let mut ok = true;
        for (key, span) in present {
            if let Some(span) = span
                && !keys.contains(key) {
                    ok = false;
                    self.error(
                        span.clone(),
                        format!(
                            "`{key}` does not apply to a {name} {what}; it takes: {}",
                            keys.join(", ")
                        ),
                    );
                }
        }
        ok.then_some(*name)
    }

    fn distribution(&mut self, d: &Spanned<DistributionFile>, what: &str) -> Option<Distribution> {
        let f = d.get_ref();
        let durations = [
            ("value", &f.value),
            ("mean", &f.mean),
            ("min", &f.min),
            ("max", &f.max),
            ("median", &f.median),
            ("p99", &f.p99),
            ("stddev", &f.stddev),
            ("scale", &f.scale),
        ];
        let mut present: Vec<(&str, Option<Range<usize>>)> = durations
            .iter()
            .map(|(k, v)| (*k, v.as_ref().map(Spanned::span)))
            .collect();
        present.push(("shape", f.shape.as_ref().map(Spanned::span)));
        let kind = self.kind(&f.kind, &DISTRIBUTION_KINDS, &present, "distribution")?;
        let (_, keys) = DISTRIBUTION_KINDS.iter().find(|(k, _)| *k == kind)?;
        let mut missing = false;
        for key in keys.iter() {
            let has = present.iter().any(|(k, s)| k == key && s.is_some());
            if !has {
                missing = true;
                self.error(
                    d.span(),
                    format!(
                        "the {kind} distribution of {what} needs `{key}`; it takes: {}",
                        keys.join(", ")
                    ),
                );
            }
        }
        if missing {
            return None;
        }
        let ns = |v: &Option<Spanned<DurationValue>>| {
            v.as_ref().map_or(0.0, |v| v.get_ref().0.as_nanos() as f64)
        };
        let span = |v: &Option<Spanned<DurationValue>>| v.as_ref().map_or(d.span(), Spanned::span);
        let result = match kind {
            "constant" => Distribution::Constant(f.value.as_ref()?.get_ref().0),
            "exponential" => {
                if ns(&f.mean) <= 0.0 {
                    self.error(
                        span(&f.mean),
                        "an exponential's `mean` must be greater than zero",
                    );
                    return None;
                }
                Distribution::Exponential { mean: ns(&f.mean) }
            }
            "uniform" => {
                if ns(&f.max) < ns(&f.min) {
                    self.error(
                        span(&f.max),
                        "a uniform's `max` is below its `min`; expected min <= max",
                    );
                    return None;
                }
                Distribution::Uniform {
                    min: ns(&f.min),
                    max: ns(&f.max),
                }
            }
            "lognormal" => {
                if ns(&f.median) <= 0.0 {
                    self.error(
                        span(&f.median),
                        "a lognormal's `median` must be greater than zero",
                    );
                    return None;
                }
                if ns(&f.p99) < ns(&f.median) {
                    self.error(
                        span(&f.p99),
                        "a lognormal's `p99` is below its `median`; expected p99 >= median",
                    );
                    return None;
                }
                Distribution::lognormal_from_median_p99(
                    f.median.as_ref()?.get_ref().0,
                    f.p99.as_ref()?.get_ref().0,
                )
            }
            "normal" => Distribution::Normal {
                mean: ns(&f.mean),
                stddev: ns(&f.stddev),
            },
            "pareto" => {
                let shape = *f.shape.as_ref()?.get_ref();
                if ns(&f.scale) <= 0.0 {
                    self.error(
                        span(&f.scale),
                        "a pareto's `scale` (its minimum) must be greater than zero",
                    );
                    return None;
                }
                if !(shape.is_finite() && shape > 0.0) {
                    self.error(
                        f.shape.as_ref()?.span(),
                        format!(
                            "a pareto's `shape` is {shape}; expected a number greater than zero"
                        ),
                    );
                    return None;
                }
                Distribution::Pareto {
                    scale: ns(&f.scale),
                    shape,
                }
            }
            _ => unreachable!("kind() returns only listed kinds"),
        };
        Some(result)
    }
}

/// A duration as a person reads it, for messages.
fn show(d: SimDuration) -> String {
    let ns = d.as_nanos();
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}
