//! `[[fault]]` tables: the kind and its keys, the target (service, replica, fraction, link or
//! groups) and the timing (scheduled or a random failure process).

use super::topology::Names;
use super::{Checker, show};
use crate::distribution::Distribution;
use crate::engine::{SimDuration, SimTime};
use crate::scenario::diagnostic::{name_list, shorten};
use crate::scenario::fault::{
    FaultKind, FaultSpec, FaultTarget, FaultTiming, LossDirection, NodeRef,
};
use crate::scenario::file::FaultFile;
use crate::scenario::{ClientSpec, Dest, Endpoint, ServiceSpec};
use std::ops::Range;
use toml::Spanned;

/// Keys every fault kind takes.
const COMMON: [&str; 7] = ["name", "at", "for", "mtbf", "mttr", "up_time", "down_time"];

/// The fault kinds and the keys each takes besides [`COMMON`].
const FAULT_KINDS: [(&str, &[&str]); 8] = [
    ("crash", &["target", "fraction"]),
    ("hang", &["target", "fraction"]),
    ("slow", &["target", "fraction", "factor"]),
    ("errors", &["target", "fraction", "rate", "first_n"]),
    ("latency", &["target", "delay"]),
    ("loss", &["target", "probability", "direction"]),
    ("partition", &["between", "one_way"]),
    ("chaos_monkey", &["targets", "interval", "downtime"]),
];

/// What the rest of the scenario tells the fault checks.
pub(super) struct Context<'a> {
    pub names: &'a Names,
    pub clients: &'a [ClientSpec],
    pub services: &'a [ServiceSpec],
    pub duration: Option<SimDuration>,
}

impl Checker<'_> {
    /// Every `[[fault]]`, in file order.
    pub(super) fn faults(&mut self, files: &[Spanned<FaultFile>], cx: &Context) -> Vec<FaultSpec> {
        let mut named: Vec<String> = Vec::new();
        let mut faults = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let name = match &file.get_ref().name {
                Some(n) if named.contains(n.get_ref()) => {
                    self.error(
                        n.span(),
                        format!(
                            "the fault name \"{}\" is used twice; expected a name no other fault has",
                            shorten(n.get_ref(), 40)
                        ),
                    );
                    continue;
                }
                Some(n) => n.get_ref().clone(),
                None => format!("fault{}", i + 1),
            };
            named.push(name.clone());
            if let Some(f) = self.fault(file, name, cx) {
                faults.push(f);
            }
        }
        faults
    }

    fn fault(
        &mut self,
        file: &Spanned<FaultFile>,
        name: String,
        cx: &Context,
    ) -> Option<FaultSpec> {
        let table = file.span();
        let f = file.get_ref();
        let span = |v: Option<Range<usize>>| v;
        let present = [
            ("name", span(f.name.as_ref().map(Spanned::span))),
            ("target", f.target.as_ref().map(Spanned::span)),
            ("fraction", f.fraction.as_ref().map(Spanned::span)),
            ("at", f.at.as_ref().map(Spanned::span)),
            ("for", f.for_.as_ref().map(Spanned::span)),
            ("mtbf", f.mtbf.as_ref().map(Spanned::span)),
            ("mttr", f.mttr.as_ref().map(Spanned::span)),
            ("up_time", f.up_time.as_ref().map(Spanned::span)),
            ("down_time", f.down_time.as_ref().map(Spanned::span)),
            ("factor", f.factor.as_ref().map(Spanned::span)),
            ("rate", f.rate.as_ref().map(Spanned::span)),
            ("first_n", f.first_n.as_ref().map(Spanned::span)),
            ("delay", f.delay.as_ref().map(Spanned::span)),
            ("probability", f.probability.as_ref().map(Spanned::span)),
            ("direction", f.direction.as_ref().map(Spanned::span)),
            ("between", f.between.as_ref().map(Spanned::span)),
            ("one_way", f.one_way.as_ref().map(Spanned::span)),
            ("interval", f.interval.as_ref().map(Spanned::span)),
            ("downtime", f.downtime.as_ref().map(Spanned::span)),
            ("targets", f.targets.as_ref().map(Spanned::span)),
        ];
        let kinds: Vec<(&str, Vec<&str>)> = FAULT_KINDS
            .iter()
            .map(|(k, keys)| (*k, keys.iter().chain(COMMON.iter()).copied().collect()))
            .collect();
        let kinds: Vec<(&str, &[&str])> = kinds.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        let kind = self.kind(&f.kind, &table, &kinds, &present, "fault")?;
        let what = format!("this {kind} fault");
        let timing = self.timing(f, &table, kind, cx.duration);
        let (kind, target) = match kind {
            "crash" | "hang" | "slow" | "errors" => {
                let target = self.replica_target(f, &table, &what, cx)?;
                let kind = match kind {
                    "crash" => FaultKind::Crash,
                    "hang" => FaultKind::Hang,
                    "slow" => FaultKind::Slow {
                        factor: self.factor(f, &table, &what)?,
                    },
                    _ => self.errors(f, &table, &what)?,
                };
                (kind, target)
            }
            "latency" | "loss" => {
                let target = self.link_target(f, &table, &what, cx)?;
                let kind = if kind == "latency" {
                    let d = self.required(&f.delay, &table, "delay", &what, "a distribution of the extra one-way delay, like `delay = { kind = \"constant\", value = \"100ms\" }`")?;
                    FaultKind::Latency {
                        delay: self.distribution(d, "delay")?,
                    }
                } else {
                    let p = self.required(
                        &f.probability,
                        &table,
                        "probability",
                        &what,
                        "the chance of dropping each message, like `probability = 0.05`",
                    )?;
                    FaultKind::Loss {
                        probability: self.probability(p, "probability"),
                        direction: self.direction(f)?,
                    }
                };
                (kind, target)
            }
            "partition" => (self.partition(f, &table, &what, cx)?, FaultTarget::Groups),
            _ => self.chaos(f, &table, &what, cx)?,
        };
        Some(FaultSpec {
            name,
            kind,
            target,
            timing: timing?,
        })
    }

    /// `at` and `for`, or a failure process (`mtbf` and `mttr`, or `up_time` and
    /// `down_time`); a chaos monkey takes only `at` and `for`, both optional.
    fn timing(
        &mut self,
        f: &FaultFile,
        table: &Range<usize>,
        kind: &str,
        duration: Option<SimDuration>,
    ) -> Option<FaultTiming> {
        let random = [&f.mtbf, &f.mttr]
            .iter()
            .find_map(|v| v.as_ref().map(Spanned::span))
            .or_else(|| {
                [&f.up_time, &f.down_time]
                    .iter()
                    .find_map(|v| v.as_ref().map(Spanned::span))
            });
        let chaos = kind == "chaos_monkey";
        if let (Some(span), true) = (random.clone(), chaos || f.at.is_some()) {
            let why = if chaos {
                "a chaos monkey has its own timing; expected only `at` and `for`, to limit when it acts"
            } else {
                "a fault is either scheduled (`at`, `for`) or random (`mtbf` and `mttr`); expected one of the two"
            };
            self.error(span, why);
            return None;
        }
        if random.is_some() {
            let up = self.process_side(&f.mtbf, &f.up_time, table, "mtbf", "up_time")?;
            let down = self.process_side(&f.mttr, &f.down_time, table, "mttr", "down_time")?;
            if let Some(e) = &f.for_ {
                self.error(e.span(), "`for` does not apply to a random failure process; expected `mttr` for how long each failure lasts");
                return None;
            }
            return Some(FaultTiming::Random { up, down });
        }
        let start = match &f.at {
            Some(at) => {
                let t = at.get_ref().0;
                if let Some(d) = duration
                    && t >= d
                {
                    self.error(
                        at.span(),
                        format!("`at` ({}) is not before the end of the run ({}); expected a start inside the run", show(t), show(d)),
                    );
                    return None;
                }
                SimTime(t.as_nanos())
            }
            None if chaos => SimTime::ZERO,
            None => {
                self.missing(
                    table,
                    "at",
                    "this fault has no timing; expected `at` (with `for`, or lasting to the end of the run), or `mtbf` and `mttr` for a random failure process",
                );
                return None;
            }
        };
        let end = match &f.for_ {
            Some(length) if length.get_ref().0 == SimDuration::ZERO => {
                self.error(
                    length.span(),
                    "`for` is zero; expected a positive duration such as \"30s\"",
                );
                return None;
            }
            Some(length) => Some(start + length.get_ref().0),
            None => None,
        };
        Some(FaultTiming::Scheduled { start, end })
    }

    /// One side of a failure process: a mean (exponential) or a distribution table.
    fn process_side(
        &mut self,
        mean: &Option<Spanned<crate::scenario::units::DurationValue>>,
        table_value: &Option<Spanned<crate::scenario::file::DistributionFile>>,
        table: &Range<usize>,
        mean_key: &str,
        table_key: &str,
    ) -> Option<Distribution> {
        match (mean, table_value) {
            (Some(m), None) if m.get_ref().0 == SimDuration::ZERO => {
                self.error(
                    m.span(),
                    format!("`{mean_key}` is zero; expected a positive mean time such as \"10m\""),
                );
                None
            }
            (Some(m), None) => Some(Distribution::Exponential {
                mean: m.get_ref().0.as_nanos() as f64,
            }),
            (None, Some(d)) => self.distribution(d, table_key),
            (Some(m), Some(_)) => {
                self.error(
                    m.span(),
                    format!("both `{mean_key}` and `{table_key}` are given; expected one of them"),
                );
                None
            }
            (None, None) => {
                self.missing(table, mean_key, format!("this random failure process has no `{mean_key}`; expected a mean time such as `{mean_key} = \"5m\"` (or a `{table_key}` distribution)"));
                None
            }
        }
    }

    /// `target` (a service or one replica) and `fraction`, for faults that act on replicas.
    fn replica_target(
        &mut self,
        f: &FaultFile,
        table: &Range<usize>,
        what: &str,
        cx: &Context,
    ) -> Option<FaultTarget> {
        let t = self.required(
            &f.target,
            table,
            "target",
            what,
            "a service like `target = \"api\"` or a replica like `target = \"api[1]\"`",
        )?;
        let (service, index) = self.replica_name(t, cx)?;
        let count = cx.services[service].replicas;
        let replicas = match (index, &f.fraction) {
            (Some(_), Some(fr)) => {
                self.error(fr.span(), "`fraction` applies to a whole service; expected a target such as \"api\" with it, not one replica");
                return None;
            }
            (Some(r), None) => vec![r],
            (None, None) => (0..count).collect(),
            (None, Some(fr)) => {
                let x = *fr.get_ref();
                if !(x > 0.0 && x <= 1.0) {
                    self.error(fr.span(), format!("`fraction` is {}; expected a share of the replicas above 0 and at most 1, like 0.3", crate::scenario::diagnostic::number(x)));
                    return None;
                }
                let k = ((x * f64::from(count)).ceil() as u32).clamp(1, count);
                (0..k).collect()
            }
        };
        Some(FaultTarget::Replicas { service, replicas })
    }

    /// Parses "api" or "api[2]" into (service, replica).
    fn replica_name(&mut self, t: &Spanned<String>, cx: &Context) -> Option<(usize, Option<u32>)> {
        let text = t.get_ref().trim();
        let (base, index) = match text.split_once('[') {
            Some((base, rest)) => {
                let Some(inner) = rest.strip_suffix(']') else {
                    self.error(t.span(), format!("\"{}\" is not a replica name; expected a service like \"api\" or a replica like \"api[0]\"", shorten(text, 40)));
                    return None;
                };
                let digits = inner.trim();
                let i = match digits.parse::<u32>() {
                    Ok(i) => i,
                    // Too large for any service: a replica that does not exist (below).
                    Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                        u32::MAX
                    }
                    Err(_) => {
                        self.error(t.span(), format!("\"{}\" has no replica number; expected a number in brackets, like \"api[0]\"", shorten(text, 40)));
                        return None;
                    }
                };
                (base.trim(), Some(i))
            }
            None => (text, None),
        };
        let named = Spanned::new(t.span(), base.to_string());
        let service = self.service_ref(&named, cx.names, "target")?;
        if let Some(i) = index {
            let count = cx.services[service].replicas;
            if i >= count {
                self.error(
                    t.span(),
                    format!(
                        "replica {} of \"{base}\" does not exist: it has {count} replica{}; expected {base}[0] to {base}[{}]",
                        shorten(text.split_once('[').map_or("", |(_, r)| r.trim_end_matches(']').trim()), 24),
                        if count == 1 { "" } else { "s" },
                        count - 1
                    ),
                );
                return None;
            }
        }
        Some((service, index))
    }

    /// `target = "from->to"` for link faults: a hop some client or call uses.
    fn link_target(
        &mut self,
        f: &FaultFile,
        table: &Range<usize>,
        what: &str,
        cx: &Context,
    ) -> Option<FaultTarget> {
        let t = self.required(
            &f.target,
            table,
            "target",
            what,
            "a link like `target = \"api->db\"`",
        )?;
        let Some((from, to)) = t.get_ref().split_once("->") else {
            self.error(t.span(), format!("\"{}\" is not a link; expected a caller and a service joined by \"->\", like \"api->db\"", shorten(t.get_ref(), 40)));
            return None;
        };
        let from_named = Spanned::new(t.span(), from.trim().to_string());
        let to_named = Spanned::new(t.span(), to.trim().to_string());
        let from = self.endpoint(&from_named, cx.names, "a link fault's target")?;
        let to = self.service_ref(&to_named, cx.names, "target")?;
        let used = match from {
            Endpoint::Client(c) => cx
                .clients
                .get(c)
                .is_some_and(|c| c.target == Dest::Service(to)),
            Endpoint::Service(s) => cx
                .services
                .get(s)
                .is_some_and(|s| s.calls.iter().any(|c| c.to == Dest::Service(to))),
        };
        if !used {
            let hops: Vec<String> = cx
                .clients
                .iter()
                .filter_map(|c| {
                    let to = c.target.service()?;
                    Some(format!("{}->{}", c.name, cx.services[to].name))
                })
                .chain(cx.services.iter().flat_map(|s| {
                    s.calls.iter().filter_map(move |c| {
                        let to = c.to.service()?;
                        Some(format!("{}->{}", s.name, cx.services[to].name))
                    })
                }))
                .collect();
            let expected = if hops.is_empty() {
                "a hop that is used, but no client or call sends to a service (a link is the hop from a client or service to a service it sends to)".to_string()
            } else {
                format!("a hop that is used: {}", name_list(&hops))
            };
            self.error(
                t.span(),
                format!(
                    "no client or call sends from {} to {}; expected {expected}",
                    from_named.get_ref(),
                    to_named.get_ref(),
                ),
            );
            return None;
        }
        Some(FaultTarget::Link { from, to })
    }

    fn factor(&mut self, f: &FaultFile, table: &Range<usize>, what: &str) -> Option<f64> {
        let v = self.required(
            &f.factor,
            table,
            "factor",
            what,
            "how much slower requests get, like `factor = 5.0`",
        )?;
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0) {
            self.error(
                v.span(),
                format!(
                    "`factor` is {x}; expected a positive multiplier of the service time, like 5.0"
                ),
            );
            return None;
        }
        Some(x)
    }

    fn errors(&mut self, f: &FaultFile, table: &Range<usize>, what: &str) -> Option<FaultKind> {
        let first_n = match &f.first_n {
            Some(n) if *n.get_ref() < 1 => {
                self.error(
                    n.span(),
                    format!(
                        "`first_n` is {}; expected a number of requests, 1 or more",
                        n.get_ref()
                    ),
                );
                return None;
            }
            Some(n) => Some(*n.get_ref() as u64),
            None => None,
        };
        let rate = match (&f.rate, first_n) {
            (Some(r), _) => self.probability(r, "rate"),
            (None, Some(_)) => 1.0,
            (None, None) => {
                self.required(
                    &f.rate,
                    table,
                    "rate",
                    what,
                    "the share of requests that fail, like `rate = 0.2`, or `first_n`",
                )?;
                return None;
            }
        };
        Some(FaultKind::Errors { rate, first_n })
    }

    fn direction(&mut self, f: &FaultFile) -> Option<LossDirection> {
        match f.direction.as_ref().map(|d| (d, d.get_ref().as_str())) {
            None | Some((_, "both")) => Some(LossDirection::Both),
            Some((_, "request")) => Some(LossDirection::Request),
            Some((_, "response")) => Some(LossDirection::Response),
            Some((d, other)) => {
                self.error(
                    d.span(),
                    format!(
                        "unknown direction \"{}\"; expected one of: both, request, response",
                        shorten(other, 40)
                    ),
                );
                None
            }
        }
    }

    /// `between = [[...], [...]]`: two groups of clients, services or replicas.
    fn partition(
        &mut self,
        f: &FaultFile,
        table: &Range<usize>,
        what: &str,
        cx: &Context,
    ) -> Option<FaultKind> {
        let b = self.required(
            &f.between,
            table,
            "between",
            what,
            "two groups, like `between = [[\"api\"], [\"db\"]]`",
        )?;
        if b.get_ref().len() != 2 {
            self.error(
                b.span(),
                format!(
                    "`between` has {} groups; expected exactly two, like [[\"api\"], [\"db\"]]",
                    b.get_ref().len()
                ),
            );
            return None;
        }
        let mut sides: [Vec<NodeRef>; 2] = [Vec::new(), Vec::new()];
        let mut ok = true;
        for (side, group) in b.get_ref().iter().enumerate() {
            if group.get_ref().is_empty() {
                self.error(
                    group.span(),
                    "an empty group; expected at least one client, service or replica",
                );
                ok = false;
            }
            for member in group.get_ref() {
                match self.node(member, cx) {
                    Some(n) => sides[side].push(n),
                    None => ok = false,
                }
            }
        }
        let expand = |n: &NodeRef| -> Vec<NodeRef> {
            match *n {
                NodeRef::Service(s) => (0..cx.services[s].replicas)
                    .map(|r| NodeRef::Replica(s, r))
                    .collect(),
                other => vec![other],
            }
        };
        let first: Vec<NodeRef> = sides[0].iter().flat_map(expand).collect();
        if ok && sides[1].iter().flat_map(expand).any(|n| first.contains(&n)) {
            self.error(
                b.span(),
                "a member is in both groups; expected two groups with nothing in common",
            );
            ok = false;
        }
        let one_way = f.one_way.as_ref().is_some_and(|o| *o.get_ref());
        ok.then_some(FaultKind::Partition { sides, one_way })
    }

    /// A partition member: a client, a service or a replica.
    fn node(&mut self, member: &Spanned<String>, cx: &Context) -> Option<NodeRef> {
        let text = member.get_ref().trim();
        if !text.contains('[')
            && let Some(Endpoint::Client(c)) = cx.names_get(text)
        {
            return Some(NodeRef::Client(c));
        }
        let (service, index) = self.replica_name(member, cx)?;
        Some(match index {
            Some(r) => NodeRef::Replica(service, r),
            None => NodeRef::Service(service),
        })
    }

    /// A chaos monkey: its candidate services, interval and downtime.
    fn chaos(
        &mut self,
        f: &FaultFile,
        table: &Range<usize>,
        what: &str,
        cx: &Context,
    ) -> Option<(FaultKind, FaultTarget)> {
        let targets = self.required(
            &f.targets,
            table,
            "targets",
            what,
            "the services whose replicas it may kill, like `targets = [\"api\"]`",
        )?;
        if targets.get_ref().is_empty() {
            self.error(
                targets.span(),
                "`targets` is empty; expected at least one service",
            );
            return None;
        }
        let services: Option<Vec<usize>> = targets
            .get_ref()
            .iter()
            .map(|t| self.service_ref(t, cx.names, "targets"))
            .collect();
        let interval = self.required(
            &f.interval,
            table,
            "interval",
            what,
            "the time between two kills, like `interval = \"1m\"`",
        )?;
        let downtime = self.required(
            &f.downtime,
            table,
            "downtime",
            what,
            "how long a killed replica stays down, like `downtime = \"30s\"`",
        )?;
        for (key, v) in [("interval", interval), ("downtime", downtime)] {
            if v.get_ref().0 == SimDuration::ZERO {
                self.error(
                    v.span(),
                    format!("`{key}` is zero; expected a positive duration"),
                );
                return None;
            }
        }
        Some((
            FaultKind::ChaosMonkey {
                interval: interval.get_ref().0,
                downtime: downtime.get_ref().0,
            },
            FaultTarget::Services(services?),
        ))
    }
}

impl Context<'_> {
    fn names_get(&self, name: &str) -> Option<Endpoint> {
        self.names.get(name).copied()
    }
}
