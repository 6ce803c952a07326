//! `rate_limit` on a service (its replicas' limiters) and on a client or call entry (a
//! limiter the caller may wait for, or Google SRE's adaptive throttle).

use super::Checker;
use crate::engine::SimDuration;
use crate::policy::rate_limit::LimiterKind;
use crate::scenario::file::RateLimitFile;
use crate::scenario::policy::ClientLimit;
use crate::scenario::rate_limit::{LimitScope, RateLimitSpec};
use std::ops::Range;
use toml::Spanned;

/// The limiter kinds and the keys each takes on a service.
const SERVICE_KINDS: [(&str, &[&str]); 3] = [
    (
        "token_bucket",
        &["rate_per_s", "burst", "scope", "per", "reserve"],
    ),
    (
        "fixed_window",
        &["limit", "period", "scope", "per", "reserve"],
    ),
    (
        "sliding_window",
        &["limit", "period", "scope", "per", "reserve"],
    ),
];

/// The limiter kinds and the keys each takes on a client or call entry.
const CLIENT_KINDS: [(&str, &[&str]); 4] = [
    ("token_bucket", &["rate_per_s", "burst", "max_wait"]),
    ("fixed_window", &["limit", "period", "max_wait"]),
    ("sliding_window", &["limit", "period", "max_wait"]),
    ("adaptive_throttle", &["k", "window"]),
];

/// The most requests a window may allow (a sliding window keeps one time per request).
const MAX_LIMIT: i64 = 1_000_000;

impl Checker<'_> {
    /// A service's `rate_limit`.
    pub(super) fn service_rate_limit(
        &mut self,
        r: Option<&Spanned<RateLimitFile>>,
    ) -> Option<RateLimitSpec> {
        let r = r?;
        let f = r.get_ref();
        let kind = self.kind(
            &f.kind,
            &r.span(),
            &SERVICE_KINDS,
            &present(f),
            "rate_limit",
        )?;
        let kind = self.limiter(r, kind)?;
        let scope = f
            .scope
            .as_ref()
            .and_then(|s| {
                self.choice(s, "scope", &["replica", "service"], |n| match n {
                    "replica" => Some(LimitScope::Replica),
                    "service" => Some(LimitScope::Service),
                    _ => None,
                })
            })
            .unwrap_or(LimitScope::Replica);
        let per_caller = f
            .per
            .as_ref()
            .and_then(|p| {
                self.choice(p, "per", &["all", "caller"], |n| match n {
                    "all" => Some(false),
                    "caller" => Some(true),
                    _ => None,
                })
            })
            .unwrap_or(false);
        let reserve = match &f.reserve {
            None => 0,
            Some(r) => {
                let v = *r.get_ref();
                if !(0.0..0.5).contains(&v) {
                    self.error(r.span(), format!("`reserve` is {}; expected the share of the limit kept for higher priorities, from 0 up to (not including) 0.5, like 0.2", crate::scenario::diagnostic::number(v)));
                    return None;
                }
                // A sheddable request must leave twice the reserve: a full limiter must
                // still have a permit for it.
                let capacity = match kind {
                    LimiterKind::TokenBucket { burst, .. } => burst,
                    LimiterKind::FixedWindow { limit, .. }
                    | LimiterKind::SlidingWindow { limit, .. } => limit,
                };
                if f64::from(capacity) * (1.0 - 2.0 * v) < 1.0 {
                    self.error(r.span(), format!("with `reserve` {v}, a sheddable request must leave {}% of this limiter's {capacity} permits, so it could never pass; expected a larger `burst` or `limit`, or a smaller reserve", (200.0 * v).round()));
                    return None;
                }
                (v * 1000.0).round() as u32
            }
        };
        Some(RateLimitSpec {
            kind,
            scope,
            per_caller,
            reserve,
        })
    }

    /// A client's or call entry's `rate_limit`.
    pub(super) fn client_rate_limit(&mut self, r: &Spanned<RateLimitFile>) -> Option<ClientLimit> {
        let f = r.get_ref();
        let kind = self.kind(&f.kind, &r.span(), &CLIENT_KINDS, &present(f), "rate_limit")?;
        if kind == "adaptive_throttle" {
            let k = match &f.k {
                None => 2.0,
                Some(k) => {
                    let v = *k.get_ref();
                    if !(v.is_finite() && (1.0..=100.0).contains(&v)) {
                        self.error(
                            k.span(),
                            format!(
                                "`k` is {}; expected a multiplier from 1 to 100, like 2.0",
                                crate::scenario::diagnostic::number(v)
                            ),
                        );
                        return None;
                    }
                    v
                }
            };
            let window = match &f.window {
                None => SimDuration::from_secs(120),
                Some(w) => self.positive(w, "window")?,
            };
            return Some(ClientLimit::Throttle { k, window });
        }
        let max_wait = f
            .max_wait
            .as_ref()
            .map_or(SimDuration::ZERO, |w| w.get_ref().0);
        Some(ClientLimit::Limiter {
            kind: self.limiter(r, kind)?,
            max_wait,
        })
    }

    /// The limiter of `kind` (a token bucket or a window) that `r` describes.
    fn limiter(&mut self, r: &Spanned<RateLimitFile>, kind: &str) -> Option<LimiterKind> {
        let f = r.get_ref();
        let what = "this rate_limit";
        if kind == "token_bucket" {
            let rate = self.required(
                &f.rate_per_s,
                &r.span(),
                "rate_per_s",
                what,
                "the tokens added per second, like `rate_per_s = 100`",
            )?;
            let v = *rate.get_ref();
            if !(v.is_finite() && (0.001..=1e9).contains(&v)) {
                self.error(
                    rate.span(),
                    format!(
                        "`rate_per_s` is {}; expected a rate from 0.001 to 1e9 per second",
                        crate::scenario::diagnostic::number(v)
                    ),
                );
                return None;
            }
            let burst = match &f.burst {
                None => (v.ceil() as u32).max(1),
                Some(b) => self.count(b, "burst", 1, MAX_LIMIT),
            };
            return Some(LimiterKind::TokenBucket {
                rate_milli: (v * 1000.0).round() as u64,
                burst,
            });
        }
        let limit = self.required(
            &f.limit,
            &r.span(),
            "limit",
            what,
            "the requests allowed per period, like `limit = 100`",
        )?;
        let limit = self.count(limit, "limit", 1, MAX_LIMIT);
        let period = match &f.period {
            None => SimDuration::from_secs(1),
            Some(p) => self.positive(p, "period")?,
        };
        Some(if kind == "fixed_window" {
            LimiterKind::FixedWindow { limit, period }
        } else {
            LimiterKind::SlidingWindow { limit, period }
        })
    }
}

/// Every key of `f` that is written, with its span, for checking against a kind's keys.
fn present(f: &RateLimitFile) -> [(&'static str, Option<Range<usize>>); 10] {
    [
        ("rate_per_s", f.rate_per_s.as_ref().map(|v| v.span())),
        ("burst", f.burst.as_ref().map(|v| v.span())),
        ("limit", f.limit.as_ref().map(|v| v.span())),
        ("period", f.period.as_ref().map(|v| v.span())),
        ("scope", f.scope.as_ref().map(|v| v.span())),
        ("per", f.per.as_ref().map(|v| v.span())),
        ("max_wait", f.max_wait.as_ref().map(|v| v.span())),
        ("k", f.k.as_ref().map(|v| v.span())),
        ("window", f.window.as_ref().map(|v| v.span())),
        ("reserve", f.reserve.as_ref().map(|v| v.span())),
    ]
}
