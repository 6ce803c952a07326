//! `load_balancer` on clients and call entries, and `weights` on services.

use super::Checker;
use super::senders::{self, Senders};
use super::topology::Names;
use crate::engine::SimDuration;
use crate::scenario::balancer::{
    BalancerKind, BalancerScope, BalancerSpec, FailurePercentageSpec, HealthCheckSpec, KeySpace,
    OutlierSpec, SuccessRateSpec,
};
use crate::scenario::diagnostic::{did_you_mean, name_list, shorten};
use crate::scenario::file::{
    BalancerFile, BalancerValue, ClientFile, HealthCheckFile, KeysFile, OutlierFile, ServiceFile,
};
use crate::scenario::units::DurationValue;
use crate::scenario::{ClientSpec, Dest, Endpoint, ServiceSpec};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Finagle's `decayTime` for peak EWMA.
const DEFAULT_DECAY: SimDuration = SimDuration::from_secs(10);

impl Checker<'_> {
    /// A caller's `load_balancer` (round robin, caller-scoped, when absent) with its
    /// `outlier_detection`.
    pub(super) fn balancer(
        &mut self,
        value: Option<&Spanned<BalancerValue>>,
        outlier: Option<&Spanned<OutlierFile>>,
    ) -> BalancerSpec {
        let outlier = outlier.and_then(|o| self.outlier(o));
        BalancerSpec {
            outlier,
            ..self.balancer_alone(value)
        }
    }

    /// `outlier_detection`, with Envoy's defaults.
    fn outlier(&mut self, o: &Spanned<OutlierFile>) -> Option<OutlierSpec> {
        let f = o.get_ref();
        let duration =
            |c: &mut Self, v: &Option<Spanned<DurationValue>>, key: &str, default| match v {
                None => Some(default),
                Some(d) => c.positive(d, key),
            };
        let percent = |c: &mut Self, v: &Option<Spanned<f64>>, key: &str, default: f64| {
            let Some(v) = v else { return Some(default) };
            let x = *v.get_ref();
            if !(0.0..=100.0).contains(&x) {
                c.error(
                    v.span(),
                    format!(
                        "`{key}` is {}; expected a percentage from 0 to 100",
                        crate::scenario::diagnostic::number(x)
                    ),
                );
                return None;
            }
            Some(x)
        };
        let base_ejection = duration(
            self,
            &f.base_ejection,
            "base_ejection",
            SimDuration::from_secs(30),
        )?;
        let max_ejection = duration(
            self,
            &f.max_ejection,
            "max_ejection",
            SimDuration::from_secs(300),
        )?;
        Some(OutlierSpec {
            consecutive_errors: f
                .consecutive_errors
                .as_ref()
                .map_or(5, |c| self.count(c, "consecutive_errors", 1, 1_000_000)),
            interval: duration(self, &f.interval, "interval", SimDuration::from_secs(10))?,
            base_ejection,
            // Envoy: the maximum, or the base if that is larger.
            max_ejection: max_ejection.max(base_ejection),
            max_ejection_percent: percent(
                self,
                &f.max_ejection_percent,
                "max_ejection_percent",
                10.0,
            )?,
            panic_threshold: percent(self, &f.panic_threshold, "panic_threshold", 50.0)?,
            failure_percentage: match &f.failure_percentage_threshold {
                None => {
                    for k in [
                        &f.failure_percentage_minimum_hosts,
                        &f.failure_percentage_request_volume,
                    ]
                    .into_iter()
                    .flatten()
                    {
                        self.error(k.span(), "the failure-percentage detector is off without `failure_percentage_threshold`; expected a threshold beside it, such as failure_percentage_threshold = 85");
                    }
                    None
                }
                Some(_) => Some(FailurePercentageSpec {
                    threshold: percent(
                        self,
                        &f.failure_percentage_threshold,
                        "failure_percentage_threshold",
                        85.0,
                    )?,
                    minimum_hosts: f.failure_percentage_minimum_hosts.as_ref().map_or(5, |c| {
                        self.count(c, "failure_percentage_minimum_hosts", 1, 10_000)
                    }),
                    request_volume: f
                        .failure_percentage_request_volume
                        .as_ref()
                        .map_or(50, |c| {
                            self.count(c, "failure_percentage_request_volume", 1, 1_000_000_000)
                        }),
                }),
            },
            success_rate: SuccessRateSpec {
                minimum_hosts: f.success_rate_minimum_hosts.as_ref().map_or(5, |c| {
                    self.count(c, "success_rate_minimum_hosts", 1, 10_000)
                }),
                request_volume: f.success_rate_request_volume.as_ref().map_or(100, |c| {
                    self.count(c, "success_rate_request_volume", 1, 1_000_000_000)
                }),
                stdev_factor: match &f.success_rate_stdev_factor {
                    None => 1.9,
                    Some(x) if x.get_ref().is_finite() && *x.get_ref() >= 0.0 => *x.get_ref(),
                    Some(x) => {
                        self.error(x.span(), format!("`success_rate_stdev_factor` is {}; expected a number of standard deviations of 0 or more, like 1.9", x.get_ref()));
                        return None;
                    }
                },
            },
        })
    }

    /// The `load_balancer` table or name alone.
    fn balancer_alone(&mut self, value: Option<&Spanned<BalancerValue>>) -> BalancerSpec {
        let Some(v) = value else {
            return BalancerSpec::default();
        };
        let span = v.span();
        match v.get_ref() {
            BalancerValue::Name(name) => self
                .balancer_kind(name, span, &BalancerFile::default())
                .map(|kind| BalancerSpec {
                    kind,
                    ..BalancerSpec::default()
                })
                .unwrap_or_default(),
            BalancerValue::Table(t) => {
                let Some(kind) = self.required(
                    &t.kind,
                    &span,
                    "kind",
                    "this load_balancer",
                    &format!(
                        "`kind = \"...\"` with one of: {}",
                        name_list(BalancerKind::NAMES)
                    ),
                ) else {
                    return BalancerSpec::default();
                };
                let scope = match t.scope.as_ref() {
                    None => BalancerScope::Caller,
                    Some(s) => match s.get_ref().as_str() {
                        "caller" => BalancerScope::Caller,
                        "shared" => BalancerScope::Shared,
                        other => {
                            self.error(s.span(), format!("unknown balancer scope \"{}\"; expected \"caller\" (each calling client or replica balances on its own, the default) or \"shared\" (one balancer per callee for every caller that says so, as a proxy)", shorten(other, 40)));
                            BalancerScope::Caller
                        }
                    },
                };
                let kind = self
                    .balancer_kind(kind.get_ref(), kind.span(), t)
                    .unwrap_or(BalancerKind::RoundRobin);
                BalancerSpec {
                    kind,
                    scope,
                    outlier: None,
                }
            }
        }
    }

    /// The kind named `name` at `span`, with its parameters (refused on a kind that does
    /// not take them).
    fn balancer_kind(
        &mut self,
        name: &str,
        span: Range<usize>,
        t: &BalancerFile,
    ) -> Option<BalancerKind> {
        let (choices, decay) = (t.choices.as_ref(), t.decay.as_ref());
        let kind = match name {
            "round_robin" => BalancerKind::RoundRobin,
            "random" => BalancerKind::Random,
            "least_outstanding" => BalancerKind::LeastOutstanding,
            "p2c" => BalancerKind::PowerOfChoices {
                choices: choices.map_or(2, |c| self.count(c, "choices", 2, 16)),
            },
            "peak_ewma" => BalancerKind::PeakEwma {
                decay: match decay {
                    None => DEFAULT_DECAY,
                    Some(d) => self.positive(d, "decay")?,
                },
            },
            "weighted_round_robin" => BalancerKind::WeightedRoundRobin,
            "ring_hash" => BalancerKind::RingHash {
                ring_size: t
                    .ring_size
                    .as_ref()
                    .map_or(1024, |r| self.count(r, "ring_size", 1, 8_388_608)),
            },
            "maglev" => BalancerKind::Maglev {
                table_size: match &t.table_size {
                    None => 65_537,
                    Some(m) => {
                        let size = self.count(m, "table_size", 2, 5_000_011);
                        if !is_prime(size) {
                            self.error(m.span(), format!("`table_size` is {size}, not a prime; expected a prime such as 65537, as Maglev's table needs"));
                            return None;
                        }
                        size
                    }
                },
            },
            other => {
                let hint = did_you_mean(other, BalancerKind::NAMES)
                    .map(|k| format!("did you mean \"{k}\"? "))
                    .unwrap_or_default();
                self.error(
                    span,
                    format!(
                        "unknown load balancer \"{}\"; {hint}expected one of: {}",
                        shorten(other, 40),
                        name_list(BalancerKind::NAMES)
                    ),
                );
                return None;
            }
        };
        if let (Some(c), false) = (choices, matches!(kind, BalancerKind::PowerOfChoices { .. })) {
            self.error(c.span(), format!("`choices` applies to `kind = \"p2c\"`, not \"{name}\"; expected no `choices` here"));
        }
        if let (Some(d), false) = (decay, matches!(kind, BalancerKind::PeakEwma { .. })) {
            self.error(d.span(), format!("`decay` applies to `kind = \"peak_ewma\"`, not \"{name}\"; expected no `decay` here"));
        }
        if let (Some(r), false) = (&t.ring_size, matches!(kind, BalancerKind::RingHash { .. })) {
            self.error(r.span(), format!("`ring_size` applies to `kind = \"ring_hash\"`, not \"{name}\"; expected no `ring_size` here"));
        }
        if let (Some(m), false) = (&t.table_size, matches!(kind, BalancerKind::Maglev { .. })) {
            self.error(m.span(), format!("`table_size` applies to `kind = \"maglev\"`, not \"{name}\"; expected no `table_size` here"));
        }
        Some(kind)
    }

    /// Balancers that share state must agree: a service's call entries to one target use
    /// one balancer per calling replica, and `scope = "shared"` balancers of one callee are
    /// one balancer for every caller.
    pub(super) fn consistent_balancers(
        &mut self,
        client_files: &[Spanned<ClientFile>],
        clients: &[ClientSpec],
        service_files: &[Spanned<ServiceFile>],
        services: &[ServiceSpec],
    ) {
        if clients.len() != client_files.len() || services.len() != service_files.len() {
            return;
        }
        // Every caller's balancer for a target, in file order, with where it is written.
        let mut entries: Vec<Entry> = Vec::new();
        let mut spans: Vec<Range<usize>> = Vec::new();
        for (c, f) in clients.iter().zip(client_files) {
            let span = f
                .get_ref()
                .load_balancer
                .as_ref()
                .map_or(f.span(), |b| b.span());
            entries.push(Entry {
                target: c.target,
                spec: c.balancer,
                whose: None,
            });
            spans.push(span);
        }
        for (si, (s, f)) in services.iter().zip(service_files).enumerate() {
            if s.calls.len() != f.get_ref().calls.len() {
                continue;
            }
            for (c, cf) in s.calls.iter().zip(&f.get_ref().calls) {
                let span = cf
                    .get_ref()
                    .load_balancer
                    .as_ref()
                    .map_or(cf.span(), |b| b.span());
                entries.push(Entry {
                    target: c.to,
                    spec: c.balancer,
                    whose: Some(si),
                });
                spans.push(span);
            }
        }
        for (i, clash) in first_clashes(&entries).into_iter().enumerate() {
            let Some(j) = clash else {
                continue;
            };
            let (line, _) = self.map.position(spans[j].start);
            let why = if entries[j].whose == entries[i].whose {
                "this service's calls to one target share each replica's balancer"
            } else {
                "`scope = \"shared\"` balancers of one callee are one balancer"
            };
            self.error(
                spans[i].clone(),
                format!("this load_balancer differs from the one at line {line}, but {why}; expected the same load_balancer on both"),
            );
        }
    }

    /// A client's `request_keys`.
    pub(super) fn request_keys(&mut self, k: Option<&Spanned<KeysFile>>) -> Option<KeySpace> {
        let k = k?;
        let f = k.get_ref();
        let space = match &f.space {
            Some(s) => u64::from(self.count(s, "space", 1, 1_000_000_000)),
            None => {
                self.error(k.span(), "`request_keys` needs `space`, the number of distinct keys; expected e.g. space = 10000");
                return None;
            }
        };
        let zipf_s = match &f.zipf_s {
            None => 0.0,
            Some(z) => {
                let v = *z.get_ref();
                if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                    self.error(
                        z.span(),
                        format!(
                            "`zipf_s` is {v}; expected an exponent from 0 (uniform) to 10, like 1.1"
                        ),
                    );
                    return None;
                }
                v
            }
        };
        Some(KeySpace { space, zipf_s })
    }

    /// A service's `health_check`, with Kubernetes' readiness probe defaults; `from` is
    /// resolved here, and checked against the hops by [`Checker::health_sources`].
    pub(super) fn health_check(
        &mut self,
        h: Option<&Spanned<HealthCheckFile>>,
        names: &Names,
    ) -> Option<HealthCheckSpec> {
        let f = h?.get_ref();
        let interval = match &f.interval {
            None => SimDuration::from_secs(10),
            Some(d) => self.positive(d, "interval")?,
        };
        let timeout = match &f.timeout {
            None => SimDuration::from_secs(1).min(interval),
            Some(d) => {
                let t = self.positive(d, "timeout")?;
                if t > interval {
                    let secs = |d: SimDuration| d.as_nanos() as f64 / 1e9;
                    self.error(d.span(), format!("`timeout` is {} s, longer than the `interval` of {} s; expected a probe timeout no longer than the time between probes", secs(t), secs(interval)));
                    return None;
                }
                t
            }
        };
        let from = match &f.from {
            None => None,
            Some(n) => Some(self.endpoint(n, names, "a health_check's `from`")?),
        };
        Some(HealthCheckSpec {
            interval,
            unhealthy_threshold: f
                .unhealthy_threshold
                .as_ref()
                .map_or(3, |c| self.count(c, "unhealthy_threshold", 1, 1000)),
            healthy_threshold: f
                .healthy_threshold
                .as_ref()
                .map_or(1, |c| self.count(c, "healthy_threshold", 1, 1000)),
            propagation: f
                .propagation
                .as_ref()
                .map_or(SimDuration::ZERO, |d| d.get_ref().0),
            timeout,
            probe_cost: f
                .probe_cost
                .as_ref()
                .map_or(SimDuration::ZERO, |d| d.get_ref().0),
            from,
        })
    }

    /// Every health check's `from` names a client or service that sends to the checked
    /// service, since probes travel that hop.
    pub(super) fn health_sources(
        &mut self,
        files: &[Spanned<ServiceFile>],
        clients: &[ClientSpec],
        services: &[ServiceSpec],
        senders: &Senders,
    ) {
        for (i, (file, spec)) in files.iter().zip(services).enumerate() {
            let (
                Some(h),
                Some(HealthCheckSpec {
                    from: Some(from), ..
                }),
            ) = (&file.get_ref().health_check, spec.health_check)
            else {
                continue;
            };
            let sends = match from {
                Endpoint::Client(c) => clients[c].target == Dest::Service(i),
                Endpoint::Service(s) => services[s].calls.iter().any(|c| c.to == Dest::Service(i)),
            };
            if !sends {
                let span = h.get_ref().from.as_ref().map_or(h.span(), |f| f.span());
                let callers: Vec<&str> = senders
                    .of(i)
                    .iter()
                    .map(|&e| senders::name(e, clients, services))
                    .collect();
                let expected = if callers.is_empty() {
                    format!(
                        "one of its callers, but no client or service sends to {} (without `from`, probes stay on each replica's node)",
                        spec.name
                    )
                } else {
                    format!("one of its callers: {}", name_list(&callers))
                };
                self.error(span, format!("probes travel the hop from `from` to the checked service, but nothing in {} sends to {}; expected {expected}", senders::name(from, clients, services), spec.name));
            }
        }
    }

    /// A service's `weights`: one positive number per replica (all 1 when absent).
    pub(super) fn weights(
        &mut self,
        weights: Option<&Spanned<Vec<Spanned<f64>>>>,
        replicas: u32,
    ) -> Vec<f64> {
        let Some(w) = weights else {
            return vec![1.0; replicas as usize];
        };
        if w.get_ref().len() != replicas as usize {
            self.error(
                w.span(),
                format!(
                    "`weights` lists {} weight(s) for {replicas} replica(s); expected one weight per replica",
                    w.get_ref().len()
                ),
            );
            return vec![1.0; replicas as usize];
        }
        w.get_ref()
            .iter()
            .map(|x| {
                let v = *x.get_ref();
                if !(v.is_finite() && v > 0.0 && v <= 1e6) {
                    self.error(x.span(), format!("a weight is {}; expected a positive number up to 1000000, like 1 or 2.5", crate::scenario::diagnostic::number(v)));
                    1.0
                } else {
                    v
                }
            })
            .collect()
    }
}

/// True when `n` is prime (trial division; `n` is at most about five million).
fn is_prime(n: u32) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// One caller's balancer for a target: a client's, or a call entry's.
#[derive(Clone, Copy, Debug)]
struct Entry {
    target: Dest,
    spec: BalancerSpec,
    /// The calling service; `None` for a client.
    whose: Option<usize>,
}

/// For each entry, the first earlier one it clashes with: the same target, another spec,
/// and the same calling service, or both `scope = "shared"`. Found per group (a service's
/// entries to one target; the shared entries of one target) in one pass, instead of by
/// scanning every earlier entry, which took seconds with 100,000 call entries.
fn first_clashes(entries: &[Entry]) -> Vec<Option<usize>> {
    let mut by_service: BTreeMap<(Dest, usize), FirstSpecs> = BTreeMap::new();
    let mut shared: BTreeMap<Dest, FirstSpecs> = BTreeMap::new();
    let specs: Vec<&BalancerSpec> = entries.iter().map(|e| &e.spec).collect();
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let same_service = e.whose.and_then(|s| {
                let group = by_service
                    .entry((e.target, s))
                    .or_insert(FirstSpecs::new(i));
                group.differing_before(i, &specs)
            });
            let both_shared = (e.spec.scope == BalancerScope::Shared)
                .then(|| {
                    let group = shared.entry(e.target).or_insert(FirstSpecs::new(i));
                    group.differing_before(i, &specs)
                })
                .flatten();
            match (same_service, both_shared) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        .collect()
}

/// The entries of one group of load balancers that must agree (a service's entries to one
/// target, or the shared entries of one target), for finding the first earlier entry that
/// differs from a new one without looking at every earlier entry.
struct FirstSpecs {
    /// The group's first entry.
    first: usize,
    /// The first entry whose spec differs from the first's, if any yet.
    first_other: Option<usize>,
}

impl FirstSpecs {
    fn new(first: usize) -> Self {
        FirstSpecs {
            first,
            first_other: None,
        }
    }

    /// Adds entry `i` to the group and returns the first earlier entry whose
    /// spec differs from it. The entries equal to the first one are equal to each other, so
    /// one that differs from the first has the first; one equal to it has the first entry
    /// that differs from the first (a spec holding NaN equals nothing, and finds the first).
    fn differing_before(&mut self, i: usize, specs: &[&BalancerSpec]) -> Option<usize> {
        if i == self.first {
            return None;
        }
        if specs[self.first] != specs[i] {
            self.first_other.get_or_insert(i);
            Some(self.first)
        } else {
            self.first_other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    /// The first earlier entry each entry clashes with, found by looking at every earlier
    /// entry (the check as first written).
    fn first_clashes_by_scan(entries: &[Entry]) -> Vec<Option<usize>> {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                entries[..i].iter().position(|o| {
                    o.target == e.target
                        && o.spec != e.spec
                        && ((e.whose.is_some() && o.whose == e.whose)
                            || (e.spec.scope == BalancerScope::Shared
                                && o.spec.scope == BalancerScope::Shared))
                })
            })
            .collect()
    }

    /// Balancers to choose from: both scopes, two kinds, and one whose outlier detection
    /// holds NaN, which equals nothing, itself included.
    fn specs() -> Vec<BalancerSpec> {
        let outlier = |percent: f64| OutlierSpec {
            consecutive_errors: 5,
            interval: SimDuration::from_secs(10),
            base_ejection: SimDuration::from_secs(30),
            max_ejection: SimDuration::from_secs(300),
            max_ejection_percent: percent,
            panic_threshold: 50.0,
            success_rate: SuccessRateSpec {
                minimum_hosts: 5,
                request_volume: 100,
                stdev_factor: 1.9,
            },
            failure_percentage: None,
        };
        let mut all = Vec::new();
        for scope in [BalancerScope::Caller, BalancerScope::Shared] {
            for kind in [BalancerKind::RoundRobin, BalancerKind::Random] {
                all.push(BalancerSpec {
                    kind,
                    scope,
                    outlier: None,
                });
            }
            all.push(BalancerSpec {
                kind: BalancerKind::RoundRobin,
                scope,
                outlier: Some(outlier(10.0)),
            });
            all.push(BalancerSpec {
                kind: BalancerKind::RoundRobin,
                scope,
                outlier: Some(outlier(f64::NAN)),
            });
        }
        all
    }

    proptest! {
        #![proptest_config(Config { cases: 512, rng_seed: RngSeed::Fixed(1), ..Config::default() })]

        /// Grouping finds, for every entry, the clash that comparing it with every earlier
        /// entry finds, so the messages (and the lines they point at) stay the same.
        #[test]
        fn grouping_finds_the_first_clash_a_scan_finds(
            picks in prop::collection::vec((0..3usize, 0..8usize, prop::option::of(0..3usize)), 0..40)
        ) {
            let specs = specs();
            let entries: Vec<Entry> = picks
                .iter()
                .map(|&(target, spec, whose)| Entry {
                    target: if target == 2 { Dest::Queue(0) } else { Dest::Service(target) },
                    spec: specs[spec],
                    whose,
                })
                .collect();
            prop_assert_eq!(first_clashes(&entries), first_clashes_by_scan(&entries));
        }
    }
}
