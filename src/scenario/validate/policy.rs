//! Call-path policies of a client or a call entry: `deadline`, `propagate_deadline`,
//! `retry`, `retry_budget`, `circuit_breaker`, `bulkhead`, `fallback` and `order`.

use super::Checker;
use crate::engine::SimDuration;
use crate::policy::backoff::{Backoff, Jitter};
use crate::policy::breaker::{BreakerSpec, OpenGrowth, Timers, Window};
use crate::policy::budget::BudgetSpec;
use crate::scenario::diagnostic::{did_you_mean, name_list, shorten};
use crate::scenario::policy::{
    BulkheadSpec, CallPolicy, Gate, HedgeAfter, HedgePolicy, Layer, Pushback, Reason, Reasons,
    RetryPolicy,
};
use crate::scenario::policy_file::{
    BackoffFile, BreakerFile, BudgetFile, BulkheadFile, HedgeFile, Names, PolicyKeys, RetryFile,
};
use crate::scenario::units::DurationValue;
use toml::Spanned;

/// The longest open period of a growing breaker when `open_for_max` is not given.
const DEFAULT_OPEN_FOR_MAX: SimDuration = SimDuration::from_secs(600);

/// The policies `order` may list, in their canonical order (outermost first).
const ORDERABLE: [&str; 6] = [
    "fallback",
    "retry",
    "circuit_breaker",
    "rate_limit",
    "bulkhead",
    "timeout",
];

impl Checker<'_> {
    /// The policies of one call site.
    pub(super) fn call_policy(&mut self, keys: &PolicyKeys) -> CallPolicy {
        let deadline = keys.deadline.and_then(|d| self.positive(d, "deadline"));
        let retry = keys.retry.and_then(|r| self.retry(r));
        let budget = keys.retry_budget.and_then(|b| self.budget(b));
        if let (Some(b), None) = (keys.retry_budget, keys.retry) {
            self.error(b.span(), "a `retry_budget` limits retries, but this call has no `retry`; expected a `retry` table beside it");
        }
        let breaker = keys.circuit_breaker.and_then(|b| self.breaker(b));
        let breaker_growth = keys.circuit_breaker.and_then(|b| self.open_growth(b));
        let breaker_timers = keys
            .circuit_breaker
            .map(|b| self.breaker_timers(b))
            .unwrap_or_default();
        let breaker_scope = keys
            .circuit_breaker
            .and_then(|b| b.get_ref().scope.as_ref())
            .and_then(|s| self.scope(s, "breaker"));
        let budget_scope = keys
            .retry_budget
            .and_then(|b| b.get_ref().scope.as_ref())
            .and_then(|s| self.scope(s, "budget").map(|v| (v, s)));
        if let (Some(b), Some((r, span))) = (breaker_scope, budget_scope)
            && b != r
        {
            self.error(
                span.span(),
                "the breaker and the retry budget of one call entry live together, so their `scope`s must agree; expected the same `scope` on both, or on one of them only",
            );
        }
        let breaker_per_target =
            breaker_scope == Some(true) || budget_scope.is_some_and(|(v, _)| v);
        let breaker_record_on = match keys
            .circuit_breaker
            .and_then(|b| b.get_ref().record_on.as_ref())
        {
            Some(on) => self.reasons(on, "record_on", "the breaker would count no failure"),
            None => Reasons::ALL,
        };
        let fallback = keys.fallback.map(|f| match &f.get_ref().on {
            Some(on) => self.reasons(on, "on", "no failure would fall back"),
            None => Reasons::ALL,
        });
        let hedge = keys.hedge.and_then(|h| self.hedge(h));
        let bulkhead = keys.bulkhead.and_then(|b| self.bulkhead(b));
        let rate_limit = keys.rate_limit.and_then(|r| self.client_rate_limit(r));
        let gates = self.gates(
            keys,
            breaker.is_some(),
            bulkhead.is_some(),
            rate_limit.is_some(),
        );
        CallPolicy {
            deadline,
            propagate_deadline: keys.propagate_deadline.is_some_and(|p| *p.get_ref()),
            retry,
            budget,
            breaker,
            gates,
            breaker_record_on,
            breaker_growth,
            breaker_timers,
            breaker_per_target,
            fallback,
            hedge,
            bulkhead,
            rate_limit,
        }
    }

    /// A caller's `bulkhead`, with Resilience4j's defaults.
    fn bulkhead(&mut self, b: &Spanned<BulkheadFile>) -> Option<BulkheadSpec> {
        let f = b.get_ref();
        let max_concurrent = f
            .max_concurrent
            .as_ref()
            .map_or(25, |m| self.count(m, "max_concurrent", 1, 1_000_000));
        let max_wait = f
            .max_wait
            .as_ref()
            .map_or(SimDuration::ZERO, |w| w.get_ref().0);
        Some(BulkheadSpec {
            max_concurrent,
            max_wait,
        })
    }

    /// `open_for_multiplier` and `open_for_max`: how the open period grows, if it does.
    fn open_growth(&mut self, b: &Spanned<BreakerFile>) -> Option<OpenGrowth> {
        let f = b.get_ref();
        let open_for = f
            .open_for
            .as_ref()
            .map_or(SimDuration::from_secs(60), |o| o.get_ref().0);
        let Some(m) = &f.open_for_multiplier else {
            if let Some(max) = &f.open_for_max {
                self.error(max.span(), "`open_for_max` caps a growing open period, but there is no `open_for_multiplier`; expected a multiplier beside it, such as open_for_multiplier = 2.0");
            }
            return None;
        };
        let multiplier = *m.get_ref();
        if !(multiplier.is_finite() && (1.0..=100.0).contains(&multiplier)) {
            self.error(
                m.span(),
                format!("`open_for_multiplier` is {multiplier}; expected a factor from 1 to 100, such as 2.0"),
            );
            return None;
        }
        let max = match &f.open_for_max {
            None => DEFAULT_OPEN_FOR_MAX.max(open_for),
            Some(x) if x.get_ref().0 < open_for => {
                self.error(
                    x.span(),
                    format!(
                        "`open_for_max` ({}) is shorter than `open_for` ({}); expected at least the first open period",
                        super::show(x.get_ref().0),
                        super::show(open_for)
                    ),
                );
                return None;
            }
            Some(x) => x.get_ref().0,
        };
        Some(OpenGrowth { multiplier, max })
    }

    /// A breaker's or budget's `scope`: true for `"target"` (shared by a replica's call
    /// entries to one target), false for `"call"`.
    fn scope(&mut self, s: &Spanned<String>, what: &str) -> Option<bool> {
        match s.get_ref().as_str() {
            "target" => Some(true),
            "call" => Some(false),
            other => {
                self.error(
                    s.span(),
                    format!(
                        "unknown {what} scope \"{}\"; expected \"call\" (one per call entry, the default) or \"target\" (one per replica and target, shared by its call entries to it)",
                        shorten(other, 40)
                    ),
                );
                None
            }
        }
    }

    /// `automatic_half_open` and `max_wait_in_half_open`: the breaker's timed transitions.
    fn breaker_timers(&mut self, b: &Spanned<BreakerFile>) -> Timers {
        let f = b.get_ref();
        Timers {
            automatic_half_open: f.automatic_half_open.as_ref().is_some_and(|a| *a.get_ref()),
            max_wait_in_half_open: f
                .max_wait_in_half_open
                .as_ref()
                .and_then(|w| self.positive(w, "max_wait_in_half_open")),
        }
    }

    /// A positive duration under `key`.
    pub(super) fn positive(
        &mut self,
        d: &Spanned<DurationValue>,
        key: &str,
    ) -> Option<SimDuration> {
        if d.get_ref().0 == SimDuration::ZERO {
            self.error(
                d.span(),
                format!("`{key}` is zero; expected a positive duration"),
            );
            return None;
        }
        Some(d.get_ref().0)
    }

    /// A list of failure reasons under `key`; an empty list is an error, since then
    /// `useless` (the policy would do nothing).
    fn reasons(&mut self, names: &Spanned<Names>, key: &str, useless: &str) -> Reasons {
        if names.get_ref().is_empty() {
            self.error(
                names.span(),
                format!(
                    "`{key}` is empty, so {useless}; expected at least one of: {} (or leave `{key}` out for the default)",
                    name_list(Reasons::NAMES)
                ),
            );
        }
        let mut set = Reasons::NONE;
        for n in names.get_ref() {
            match Reasons::parse(n.get_ref()) {
                Some(o) => set = set.with(o),
                None => {
                    let hint = did_you_mean(n.get_ref(), Reasons::NAMES)
                        .map(|k| format!("did you mean \"{k}\"? "))
                        .unwrap_or_default();
                    self.error(
                        n.span(),
                        format!(
                            "unknown failure reason \"{}\" in `{key}`; {hint}expected some of: {}",
                            shorten(n.get_ref(), 40),
                            name_list(Reasons::NAMES)
                        ),
                    );
                }
            }
        }
        set
    }

    fn retry(&mut self, r: &Spanned<RetryFile>) -> Option<RetryPolicy> {
        let f = r.get_ref();
        let max_attempts = match &f.max_attempts {
            None => 3,
            Some(m) => self.count(m, "max_attempts", 1, 64),
        };
        let backoff = match &f.backoff {
            None => Backoff::Constant {
                delay: SimDuration::from_millis(500),
            },
            Some(b) => self.backoff(b)?,
        };
        let jitter = match f.jitter.as_ref().map(|j| (j, j.get_ref().as_str())) {
            None | Some((_, "none")) => Jitter::None,
            Some((_, "full")) => Jitter::Full,
            Some((_, "equal")) => Jitter::Equal,
            Some((_, "decorrelated")) => Jitter::Decorrelated,
            Some((j, "decorrelated_v2")) => {
                if !matches!(backoff, Backoff::Exponential { multiplier, .. } if multiplier == 2.0)
                {
                    self.error(j.span(), "`jitter = \"decorrelated_v2\"` is Polly's jitter of an exponential backoff doubling at each retry; expected `backoff = { kind = \"exponential\", base = ..., multiplier = 2.0 }` beside it");
                    return None;
                }
                Jitter::DecorrelatedV2
            }
            Some((_, kind @ ("proportional" | "randomized"))) => {
                // gRPC's U(0.8, 1.2); Resilience4j's default randomizationFactor.
                let default = if kind == "proportional" { 0.2 } else { 0.5 };
                let factor = f.jitter_factor.as_ref().map_or(default, |x| *x.get_ref());
                if !(0.0..=1.0).contains(&factor) {
                    let span = f.jitter_factor.as_ref().map_or(r.span(), Spanned::span);
                    self.error(span, format!("`jitter_factor` is {factor}; expected a spread from 0 to 1, like 0.2 for U(0.8, 1.2)"));
                    return None;
                }
                if kind == "proportional" {
                    Jitter::Proportional { factor }
                } else {
                    Jitter::Randomized { factor }
                }
            }
            Some((j, other)) => {
                let kinds = [
                    "none",
                    "full",
                    "equal",
                    "decorrelated",
                    "decorrelated_v2",
                    "proportional",
                    "randomized",
                ];
                let hint = did_you_mean(other, kinds)
                    .map(|k| format!("did you mean \"{k}\"? "))
                    .unwrap_or_default();
                self.error(
                    j.span(),
                    format!(
                        "unknown jitter \"{}\"; {hint}expected one of: {}",
                        shorten(other, 40),
                        name_list(kinds)
                    ),
                );
                return None;
            }
        };
        if let (Some(x), false) = (
            &f.jitter_factor,
            matches!(
                jitter,
                Jitter::Proportional { .. } | Jitter::Randomized { .. }
            ),
        ) {
            self.error(x.span(), "`jitter_factor` applies only to `jitter = \"proportional\"` or `\"randomized\"`; expected no factor here");
        }
        let retry_on = match &f.retry_on {
            Some(on) => self.reasons(on, "retry_on", "no failure would be retried"),
            None => Reasons::NONE
                .with(Reason::Error)
                .with(Reason::Timeout)
                .with(Reason::Rejected)
                .with(Reason::RateLimited)
                .with(Reason::Shed),
        };
        let pushback = match &f.pushback {
            None => Pushback::Exact,
            Some(p) => self
                .choice(p, "pushback", &Pushback::NAMES, Pushback::parse)
                .unwrap_or(Pushback::Exact),
        };
        let other_host = match &f.retry_host {
            None => false,
            Some(h) => self
                .choice(h, "retry_host", &["any", "other"], |n| match n {
                    "any" => Some(false),
                    "other" => Some(true),
                    _ => None,
                })
                .unwrap_or(false),
        };
        Some(RetryPolicy {
            max_attempts,
            backoff,
            jitter,
            retry_on,
            pushback,
            other_host,
        })
    }

    /// The value of `key`, one of `names`, as `parse` reads it; an error otherwise.
    pub(super) fn choice<T>(
        &mut self,
        v: &Spanned<String>,
        key: &str,
        names: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = parse(v.get_ref());
        if value.is_none() {
            let hint = did_you_mean(v.get_ref(), names.iter().copied())
                .map(|k| format!("did you mean \"{k}\"? "))
                .unwrap_or_default();
            self.error(
                v.span(),
                format!(
                    "unknown `{key}` \"{}\"; {hint}expected one of: {}",
                    shorten(v.get_ref(), 40),
                    name_list(names.iter())
                ),
            );
        }
        value
    }

    fn backoff(&mut self, b: &Spanned<BackoffFile>) -> Option<Backoff> {
        let f = b.get_ref();
        let present = [
            ("delay", f.delay.as_ref().map(Spanned::span)),
            ("base", f.base.as_ref().map(Spanned::span)),
            ("multiplier", f.multiplier.as_ref().map(Spanned::span)),
            ("cap", f.cap.as_ref().map(Spanned::span)),
        ];
        let kinds: [(&str, &[&str]); 3] = [
            ("constant", &["delay"]),
            ("linear", &["delay", "cap"]),
            ("exponential", &["base", "multiplier", "cap"]),
        ];
        match self.kind(&f.kind, &b.span(), &kinds, &present, "backoff")? {
            "constant" => {
                let d = self.required(
                    &f.delay,
                    &b.span(),
                    "delay",
                    "this constant backoff",
                    "the wait, like `delay = \"100ms\"`",
                )?;
                Some(Backoff::Constant {
                    delay: d.get_ref().0,
                })
            }
            "linear" => {
                let d = self.required(
                    &f.delay,
                    &b.span(),
                    "delay",
                    "this linear backoff",
                    "the first wait and the growth per retry, like `delay = \"100ms\"`",
                )?;
                let delay = self.positive(d, "delay")?;
                let cap = f
                    .cap
                    .as_ref()
                    .map_or(SimDuration::from_secs(30), |c| c.get_ref().0);
                if cap < delay {
                    let span = f.cap.as_ref().map_or(b.span(), Spanned::span);
                    self.error(
                        span,
                        "`cap` is below `delay`; expected a cap at least as large as the first wait",
                    );
                    return None;
                }
                Some(Backoff::Linear { delay, cap })
            }
            _ => {
                let base = self.required(
                    &f.base,
                    &b.span(),
                    "base",
                    "this exponential backoff",
                    "the first wait, like `base = \"10ms\"`",
                )?;
                let multiplier = f.multiplier.as_ref().map_or(2.0, |m| *m.get_ref());
                if !(multiplier.is_finite() && multiplier >= 1.0) {
                    let span = f.multiplier.as_ref().map_or(b.span(), Spanned::span);
                    self.error(span, format!("`multiplier` is {multiplier}; expected a growth factor of 1 or more, like 2.0"));
                    return None;
                }
                let cap = f
                    .cap
                    .as_ref()
                    .map_or(SimDuration::from_secs(30), |c| c.get_ref().0);
                if cap < base.get_ref().0 {
                    let span = f.cap.as_ref().map_or(b.span(), Spanned::span);
                    self.error(
                        span,
                        "`cap` is below `base`; expected a cap at least as large as the first wait",
                    );
                    return None;
                }
                Some(Backoff::Exponential {
                    base: base.get_ref().0,
                    multiplier,
                    cap,
                })
            }
        }
    }

    fn budget(&mut self, b: &Spanned<BudgetFile>) -> Option<BudgetSpec> {
        let f = b.get_ref();
        let present = [
            ("percent", f.percent.as_ref().map(Spanned::span)),
            ("min_per_s", f.min_per_s.as_ref().map(Spanned::span)),
            ("ttl", f.ttl.as_ref().map(Spanned::span)),
            ("max_tokens", f.max_tokens.as_ref().map(Spanned::span)),
            ("token_ratio", f.token_ratio.as_ref().map(Spanned::span)),
            ("capacity", f.capacity.as_ref().map(Spanned::span)),
            ("retry_cost", f.retry_cost.as_ref().map(Spanned::span)),
            ("timeout_cost", f.timeout_cost.as_ref().map(Spanned::span)),
            (
                "no_retry_increment",
                f.no_retry_increment.as_ref().map(Spanned::span),
            ),
            (
                "min_concurrent",
                f.min_concurrent.as_ref().map(Spanned::span),
            ),
        ];
        let kinds: [(&str, &[&str]); 4] = [
            ("ratio", &["percent", "min_per_s", "ttl"]),
            ("token_bucket", &["max_tokens", "token_ratio"]),
            (
                "quota",
                &[
                    "capacity",
                    "retry_cost",
                    "timeout_cost",
                    "no_retry_increment",
                ],
            ),
            ("concurrency", &["percent", "min_concurrent"]),
        ];
        let kind = self.kind(&f.kind, &b.span(), &kinds, &present, "retry budget")?;
        let num = |checker: &mut Self,
                   v: &Option<Spanned<f64>>,
                   key: &str,
                   default: f64,
                   min: f64,
                   max: f64|
         -> Option<f64> {
            let Some(v) = v else { return Some(default) };
            let x = *v.get_ref();
            if !(x.is_finite() && x >= min && x <= max) {
                checker.error(
                    v.span(),
                    format!(
                        "`{key}` is {}; expected a number from {min} to {max}",
                        crate::scenario::diagnostic::number(x)
                    ),
                );
                return None;
            }
            Some(x)
        };
        match kind {
            "ratio" => {
                let percent = num(self, &f.percent, "percent", 20.0, 0.0, 100.0)?;
                let min_per_s = num(self, &f.min_per_s, "min_per_s", 10.0, 0.0, 1e9)?;
                let ttl = match &f.ttl {
                    None => SimDuration::from_secs(10),
                    Some(t) => self.positive(t, "ttl")?,
                };
                Some(BudgetSpec::Ratio {
                    percent,
                    min_per_s,
                    ttl,
                })
            }
            "token_bucket" => {
                let max_tokens = num(self, &f.max_tokens, "max_tokens", 10.0, 0.001, 1000.0)?;
                let token_ratio = num(self, &f.token_ratio, "token_ratio", 0.1, 0.0, 1000.0)?;
                if token_ratio == 0.0 {
                    let span = f.token_ratio.as_ref().map_or(b.span(), Spanned::span);
                    self.error(span, "`token_ratio` is 0, which gRPC rejects (successes would never refill the tokens); expected a positive number, like 0.1");
                    return None;
                }
                Some(BudgetSpec::TokenBucket {
                    max_tokens,
                    token_ratio,
                })
            }
            "concurrency" => Some(BudgetSpec::Concurrency {
                percent: num(self, &f.percent, "percent", 20.0, 0.0, 100.0)?,
                min_concurrent: f
                    .min_concurrent
                    .as_ref()
                    .map_or(3, |m| self.count(m, "min_concurrent", 0, 1_000_000)),
            }),
            _ => Some(BudgetSpec::Quota {
                capacity: num(self, &f.capacity, "capacity", 500.0, 0.0, 1e9)?,
                retry_cost: num(self, &f.retry_cost, "retry_cost", 5.0, 0.0, 1e9)?,
                timeout_cost: num(self, &f.timeout_cost, "timeout_cost", 10.0, 0.0, 1e9)?,
                no_retry_increment: num(
                    self,
                    &f.no_retry_increment,
                    "no_retry_increment",
                    1.0,
                    0.0,
                    1e9,
                )?,
            }),
        }
    }

    fn breaker(&mut self, b: &Spanned<BreakerFile>) -> Option<BreakerSpec> {
        let f = b.get_ref();
        let kind = f.kind.as_ref().map_or("rate", |k| k.get_ref().as_str());
        let open_for = match &f.open_for {
            None => SimDuration::from_secs(60),
            Some(o) => self.positive(o, "open_for")?,
        };
        let rate_only = [
            ("window", f.window.as_ref().map(Spanned::span)),
            ("min_calls", f.min_calls.as_ref().map(Spanned::span)),
            ("failure_rate", f.failure_rate.as_ref().map(Spanned::span)),
            (
                "slow_call_duration",
                f.slow_call_duration.as_ref().map(Spanned::span),
            ),
            (
                "slow_call_rate",
                f.slow_call_rate.as_ref().map(Spanned::span),
            ),
            (
                "half_open_calls",
                f.half_open_calls.as_ref().map(Spanned::span),
            ),
        ];
        match kind {
            "rate" => {
                if let Some(x) = &f.failures {
                    self.error(x.span(), "`failures` applies to `kind = \"consecutive_failures\"`; expected `failure_rate` for a rate breaker");
                    return None;
                }
                let window = match &f.window {
                    None => Window::Count(100),
                    Some(w) => {
                        let wf = w.get_ref();
                        let size = match &wf.size {
                            Some(s) => self.count(s, "size", 1, 1_000_000),
                            None => 100,
                        };
                        match wf.kind.as_ref().map(|k| k.get_ref().as_str()) {
                            None | Some("count") => Window::Count(size),
                            Some("time") => Window::Time(size),
                            Some(other) => {
                                let span = wf.kind.as_ref().map_or(w.span(), Spanned::span);
                                self.error(span, format!("unknown window kind \"{}\"; expected \"count\" (the last N calls) or \"time\" (the last N seconds)", shorten(other, 40)));
                                return None;
                            }
                        }
                    }
                };
                let rate = |checker: &mut Self,
                            v: &Option<Spanned<f64>>,
                            key: &str,
                            default: f64|
                 -> Option<f64> {
                    let Some(v) = v else { return Some(default) };
                    let x = *v.get_ref();
                    if !(x > 0.0 && x <= 1.0) {
                        checker.error(
                            v.span(),
                            format!(
                                "`{key}` is {x}; expected a rate above 0 and at most 1, like 0.5"
                            ),
                        );
                        return None;
                    }
                    Some(x)
                };
                let failure_rate = rate(self, &f.failure_rate, "failure_rate", 0.5)?;
                let slow_call_rate = rate(self, &f.slow_call_rate, "slow_call_rate", 1.0)?;
                Some(BreakerSpec::Rate {
                    window,
                    min_calls: f
                        .min_calls
                        .as_ref()
                        .map_or(100, |m| self.count(m, "min_calls", 1, 1_000_000)),
                    failure_rate,
                    slow_call_duration: match &f.slow_call_duration {
                        None => SimDuration::from_secs(60),
                        // Zero would make every call slow; Resilience4j rejects it too.
                        Some(d) => self.positive(d, "slow_call_duration")?,
                    },
                    slow_call_rate,
                    open_for,
                    half_open_calls: f
                        .half_open_calls
                        .as_ref()
                        .map_or(10, |h| self.count(h, "half_open_calls", 1, 1_000_000)),
                })
            }
            "consecutive_failures" => {
                for (key, span) in rate_only {
                    if let Some(span) = span {
                        self.error(span, format!("`{key}` does not apply to a consecutive_failures breaker; expected only: failures, open_for"));
                        return None;
                    }
                }
                let failures = f
                    .failures
                    .as_ref()
                    .map_or(5, |x| self.count(x, "failures", 1, 1_000_000));
                Some(BreakerSpec::ConsecutiveFailures { failures, open_for })
            }
            other => {
                let span = f.kind.as_ref().map_or(b.span(), Spanned::span);
                self.error(span, format!("unknown circuit breaker kind \"{}\"; expected \"rate\" (Resilience4j) or \"consecutive_failures\"", shorten(other, 40)));
                None
            }
        }
    }

    fn hedge(&mut self, h: &Spanned<HedgeFile>) -> Option<HedgePolicy> {
        let f = h.get_ref();
        let after = self.required(
            &f.after,
            &h.span(),
            "after",
            "this hedge",
            "a delay like `after = \"50ms\"` or a percentile like `after = \"p95\"`",
        )?;
        let text = after.get_ref().trim();
        let parsed = match text.strip_prefix('p') {
            Some(p) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '.') => {
                let v: f64 = p.parse().unwrap_or(0.0);
                (v > 0.0 && v < 100.0).then_some(HedgeAfter::Percentile(v / 100.0))
            }
            // Zero sends every copy at once, as gRPC's `hedgingDelay` of 0 does.
            _ => crate::scenario::units::parse_duration(text)
                .ok()
                .map(HedgeAfter::Fixed),
        };
        let Some(after_value) = parsed else {
            self.error(
                after.span(),
                format!(
                    "`after` is \"{}\"; expected a delay like \"50ms\" (\"0s\" sends every copy at once) or a percentile like \"p95\" (above p0, below p100)",
                    shorten(text, 40)
                ),
            );
            return None;
        };
        let max_extra = f
            .max_extra
            .as_ref()
            .map_or(1, |m| self.count(m, "max_extra", 1, 4));
        Some(HedgePolicy {
            after: after_value,
            max_extra,
        })
    }

    /// `order`: returns true when the breaker wraps the retry instead of each attempt.
    /// The admission gates of a call site, outermost first, each inside or outside the
    /// retry as `order` places it (inside by default); an invalid `order` leaves them inside.
    fn gates(
        &mut self,
        keys: &PolicyKeys,
        has_breaker: bool,
        has_bulkhead: bool,
        has_rate_limit: bool,
    ) -> Vec<(Gate, Layer)> {
        let configured: Vec<(Gate, &str)> = [
            (Gate::CircuitBreaker, "circuit_breaker"),
            (Gate::RateLimit, "rate_limit"),
            (Gate::Bulkhead, "bulkhead"),
        ]
        .into_iter()
        .filter(|(g, _)| match g {
            Gate::CircuitBreaker => has_breaker,
            Gate::Bulkhead => has_bulkhead,
            Gate::RateLimit => has_rate_limit,
        })
        .collect();
        let listed = match keys.order {
            Some(o) if self.order(o, keys) => o
                .get_ref()
                .iter()
                .map(|n| n.get_ref().as_str())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let retry_at = listed.iter().position(|n| *n == "retry");
        let mut gates: Vec<(Gate, Layer, usize)> = configured
            .into_iter()
            .map(|(gate, name)| {
                // An unlisted gate takes its canonical place: inside the retry.
                let at = listed.iter().position(|n| *n == name);
                let layer = match (at, retry_at) {
                    (Some(g), Some(r)) if g < r => Layer::Call,
                    _ => Layer::Attempt,
                };
                (gate, layer, at.unwrap_or(usize::MAX))
            })
            .collect();
        gates.sort_by_key(|&(_, layer, at)| (layer == Layer::Attempt, at));
        gates.into_iter().map(|(g, l, _)| (g, l)).collect()
    }

    /// Checks `order`: known, configured policies, each once, `fallback` first and
    /// `timeout` last; true when it is valid.
    fn order(&mut self, order: &Spanned<Names>, keys: &PolicyKeys) -> bool {
        let names: Vec<&str> = order
            .get_ref()
            .iter()
            .map(|n| n.get_ref().as_str())
            .collect();
        for n in order.get_ref() {
            if !ORDERABLE.contains(&n.get_ref().as_str()) {
                self.error(
                    n.span(),
                    format!(
                        "`order` names \"{}\"; expected some of: {}",
                        shorten(n.get_ref(), 40),
                        name_list(ORDERABLE)
                    ),
                );
                return false;
            }
            if names.iter().filter(|m| **m == n.get_ref()).count() > 1 {
                self.error(
                    n.span(),
                    format!(
                        "`order` names \"{}\" twice; expected each policy once",
                        n.get_ref()
                    ),
                );
                return false;
            }
            let configured = match n.get_ref().as_str() {
                "fallback" => keys.fallback.is_some(),
                "retry" => keys.retry.is_some(),
                "circuit_breaker" => keys.circuit_breaker.is_some(),
                "bulkhead" => keys.bulkhead.is_some(),
                "rate_limit" => keys.rate_limit.is_some(),
                _ => true,
            };
            if !configured {
                self.error(n.span(), format!("`order` names `{}`, which this call does not configure; expected only configured policies", n.get_ref()));
                return false;
            }
        }
        let position = |p: &str| names.iter().position(|n| *n == p);
        if position("fallback").is_some_and(|i| i != 0) {
            self.error(order.span(), "`fallback` must come first in `order`; expected it before the other policies, since resim answers with a fallback only once the whole call has failed");
            return false;
        }
        if position("timeout").is_some_and(|i| i != names.len() - 1) {
            self.error(order.span(), "`timeout` must come last in `order`; expected it after the other policies, since it is the per-attempt timeout (`deadline` covers the whole call)");
            return false;
        }
        true
    }
}
