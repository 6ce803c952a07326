//! A service's `concurrency_limit` (Netflix concurrency-limits' AIMD, Vegas, Gradient2).

use super::Checker;
use crate::engine::SimDuration;
use crate::policy::concurrency_limit::LimitKind;
use crate::scenario::file::ConcurrencyLimitFile;
use toml::Spanned;

/// The kinds and the keys each takes.
const KINDS: [(&str, &[&str]); 3] = [
    (
        "aimd",
        &["initial", "min", "max", "backoff_ratio", "timeout"],
    ),
    ("vegas", &["initial", "max"]),
    (
        "gradient2",
        &["initial", "min", "max", "queue_size", "tolerance"],
    ),
];

/// The highest limit accepted.
const MAX_LIMIT: i64 = 100_000;

impl Checker<'_> {
    /// A service's `concurrency_limit`, with the library's defaults.
    pub(super) fn concurrency_limit(
        &mut self,
        c: Option<&Spanned<ConcurrencyLimitFile>>,
    ) -> Option<LimitKind> {
        let c = c?;
        let f = c.get_ref();
        let present = [
            ("initial", f.initial.as_ref().map(|v| v.span())),
            ("min", f.min.as_ref().map(|v| v.span())),
            ("max", f.max.as_ref().map(|v| v.span())),
            ("backoff_ratio", f.backoff_ratio.as_ref().map(|v| v.span())),
            ("timeout", f.timeout.as_ref().map(|v| v.span())),
            ("queue_size", f.queue_size.as_ref().map(|v| v.span())),
            ("tolerance", f.tolerance.as_ref().map(|v| v.span())),
        ];
        let kind = self.kind(&f.kind, &c.span(), &KINDS, &present, "concurrency_limit")?;
        let count = |s: &mut Self, v: &Option<Spanned<i64>>, key: &str, default: u32| {
            v.as_ref()
                .map_or(default, |v| s.count(v, key, 1, MAX_LIMIT))
        };
        let min = count(self, &f.min, "min", 20);
        let max_default = if kind == "vegas" { 1000 } else { 200 };
        let max = count(self, &f.max, "max", max_default);
        // Vegas has no `min`, so a `max` under 20 is a choice of its own: the default start
        // then comes down to it.
        let initial_default = if kind == "vegas" { max.min(20) } else { 20 };
        let initial = count(self, &f.initial, "initial", initial_default);
        if kind == "vegas" {
            // Vegas has no `min`: it keeps its limit in [1, max].
            if initial > max {
                self.error(
                    c.span(),
                    format!("this concurrency_limit has initial {initial} and max {max}; expected initial <= max"),
                );
                return None;
            }
        } else if min > max || initial > max || initial < min {
            self.error(
                c.span(),
                format!("this concurrency_limit has min {min}, initial {initial} and max {max}; expected min <= initial <= max"),
            );
            return None;
        }
        Some(match kind {
            "aimd" => {
                let backoff_ratio = match &f.backoff_ratio {
                    None => 0.9,
                    Some(b) => {
                        let v = *b.get_ref();
                        if !(0.5..1.0).contains(&v) {
                            self.error(b.span(), format!("`backoff_ratio` is {}; expected a factor from 0.5 up to (not including) 1, like 0.9", crate::scenario::diagnostic::number(v)));
                            return None;
                        }
                        v
                    }
                };
                let timeout = match &f.timeout {
                    None => SimDuration::from_secs(5),
                    Some(t) => self.positive(t, "timeout")?,
                };
                LimitKind::Aimd {
                    initial,
                    min,
                    max,
                    backoff_ratio,
                    timeout,
                }
            }
            "vegas" => LimitKind::Vegas { initial, max },
            _ => {
                let queue_size = f
                    .queue_size
                    .as_ref()
                    .map_or(4, |q| self.count(q, "queue_size", 0, MAX_LIMIT));
                let tolerance = match &f.tolerance {
                    None => 1.5,
                    Some(t) => {
                        let v = *t.get_ref();
                        if !(v.is_finite() && (1.0..=10.0).contains(&v)) {
                            self.error(
                                t.span(),
                                format!(
                                    "`tolerance` is {v}; expected a ratio from 1 to 10, like 1.5"
                                ),
                            );
                            return None;
                        }
                        v
                    }
                };
                LimitKind::Gradient2 {
                    initial,
                    min,
                    max,
                    queue_size,
                    tolerance,
                }
            }
        })
    }
}
