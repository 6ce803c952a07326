//! `[expect]`, `[expect.variant.NAME]` and `[expect.baseline]`: read from the document
//! before it becomes a scenario, every problem reported at its place.

use crate::compare::Metric;
use crate::compare::metric::Better;
use crate::scenario::diagnostic::{Diagnostic, SourceMap, did_you_mean, name_list, shorten};
use crate::scenario::expect::{
    Allowed, Expectation, Expectations, On, Op, Tolerance, metric_keys, metric_of_key,
};
use crate::scenario::units::parse_duration;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Keys of `[expect]` that are not metrics.
const SETTINGS: [&str; 4] = ["seeds", "on", "variant", "baseline"];
/// Most seeds `[expect] seeds` may ask for.
const MAX_SEEDS: i64 = 1_000_000;

/// Reads the expectations of `value` (the `expect` table); `variants` are the names a
/// `[expect.variant.NAME]` may use.
pub(super) fn read(
    value: Spanned<DeValue<'_>>,
    variants: &[String],
    map: &SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Expectations {
    let mut r = Reader { map, diagnostics };
    let mut out = Expectations::default();
    let DeValue::Table(table) = value.get_ref() else {
        r.error(value.span(), "`expect` is not a table; expected [expect] with metrics and conditions, like availability = \">= 0.999\"".to_string());
        return out;
    };
    let on = table.get("on").and_then(|v| r.on(v)).unwrap_or(On::Mean);
    if let Some(s) = table.get("seeds") {
        match s.get_ref() {
            DeValue::Integer(i) => match i.as_str().replace('_', "").parse::<i64>() {
                Ok(n) if (1..=MAX_SEEDS).contains(&n) => out.seeds = Some(n as u64),
                _ => r.error(s.span(), format!("`seeds` is {}; expected a whole number from 1 to {MAX_SEEDS}", i.as_str())),
            },
            _ => r.error(s.span(), "`seeds` is not a whole number; expected how many seeds `resim check` runs, like seeds = 10".to_string()),
        }
    }
    out.all = r.metrics(table, on, &SETTINGS);
    if let Some(v) = table.get("variant") {
        match v.get_ref() {
            DeValue::Table(t) => {
                let mut entries: Vec<_> = t.iter().collect();
                entries.sort_by_key(|(k, _)| k.span().start);
                for (name, body) in entries {
                    let name_text = name.get_ref().to_string();
                    if !variants.contains(&name_text) {
                        let hint = did_you_mean(&name_text, variants.iter().map(String::as_str))
                            .map(|m| format!("did you mean \"{m}\"? "))
                            .unwrap_or_default();
                        r.error(name.span(), format!("[expect.variant.{}] names no variant of the scenario; {hint}expected one of: {}", shorten(&name_text, 40), name_list(variants)));
                        continue;
                    }
                    match body.get_ref() {
                        DeValue::Table(bt) => {
                            let on = bt.get("on").and_then(|v| r.on(v)).unwrap_or(on);
                            let list = r.metrics(bt, on, &["on"]);
                            out.variants.push((name_text, list));
                        }
                        _ => r.error(body.span(), format!("`expect.variant.{name_text}` is not a table; expected [expect.variant.{name_text}] with metrics and conditions")),
                    }
                }
            }
            _ => r.error(
                v.span(),
                "`expect.variant` is not a table; expected [expect.variant.NAME] tables"
                    .to_string(),
            ),
        }
    }
    if let Some(b) = table.get("baseline") {
        match b.get_ref() {
            DeValue::Table(t) => out.baseline = r.tolerances(t),
            _ => r.error(b.span(), "`expect.baseline` is not a table; expected [expect.baseline] with tolerances, like p99 = \"+5%\"".to_string()),
        }
    }
    if let (Some(s), Some(n)) = (table.get("seeds"), out.seeds)
        && let Some(e) = out.needing_more_seeds(n)
    {
        r.error(s.span(), format!("`seeds` is {n}, but the expectation on `{}` at line {} is evaluated `on = \"ci\"`, a 95% interval, which needs 2 or more seeds; expected seeds = 2 or more, or another `on`", e.metric, e.line));
    }
    out
}

struct Reader<'a, 'm> {
    map: &'a SourceMap<'m>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Reader<'_, '_> {
    fn error(&mut self, span: Range<usize>, message: String) {
        self.diagnostics
            .push(self.map.diagnostic(Some(span), message));
    }

    /// An `on` value.
    fn on(&mut self, v: &Spanned<DeValue<'_>>) -> Option<On> {
        let modes = [On::Mean, On::EverySeed, On::Ci];
        if let DeValue::String(s) = v.get_ref()
            && let Some(m) = modes.iter().find(|m| m.name() == s.as_ref())
        {
            return Some(*m);
        }
        self.error(v.span(), "`on` is not one of the modes; expected \"mean\" (the mean across seeds, the default), \"every_seed\" or \"ci\" (the whole 95% interval)".to_string());
        None
    }

    /// The metric named by key `k`, or a reported error.
    fn metric(&mut self, k: &Spanned<std::borrow::Cow<'_, str>>, skip: &[&str]) -> Option<Metric> {
        let key = k.get_ref().as_ref();
        if let Some(m) = metric_of_key(key) {
            return Some(m);
        }
        let mut known = metric_keys();
        known.extend(skip.iter().copied());
        let hint = did_you_mean(key, known.iter().copied())
            .map(|m| format!("did you mean `{m}`? "))
            .unwrap_or_default();
        self.error(
            k.span(),
            format!(
                "unknown metric `{}`; {hint}expected one of: {}",
                shorten(key, 40),
                name_list(&known)
            ),
        );
        None
    }

    /// The metrics of one expectation table, every key but `skip`.
    fn metrics(&mut self, table: &DeTable<'_>, on: On, skip: &[&str]) -> Vec<Expectation> {
        let mut entries: Vec<_> = table
            .iter()
            .filter(|(k, _)| !skip.contains(&k.get_ref().as_ref()))
            .collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(metric) = self.metric(k, skip) else {
                continue;
            };
            let (text, span, on) = match v.get_ref() {
                DeValue::String(s) => (s.to_string(), v.span(), on),
                DeValue::Table(t) => {
                    let on = t.get("on").and_then(|o| self.on(o)).unwrap_or(on);
                    for (tk, _) in t.iter() {
                        if !["check", "on"].contains(&tk.get_ref().as_ref()) {
                            self.error(tk.span(), format!("unknown key `{}` in an expectation; expected `check` and optionally `on`", shorten(tk.get_ref(), 40)));
                        }
                    }
                    match t.get("check").map(|c| (c.span(), c.get_ref())) {
                        Some((s, DeValue::String(c))) => (c.to_string(), s, on),
                        _ => {
                            self.error(v.span(), format!("the expectation on `{}` has no `check` string; expected {{ check = \"{}\", on = \"ci\" }}", k.get_ref(), example(metric)));
                            continue;
                        }
                    }
                }
                _ => {
                    self.error(v.span(), format!("the expectation on `{}` is not a string; expected a condition such as \"{}\"", k.get_ref(), example(metric)));
                    continue;
                }
            };
            match condition(metric, &text) {
                Ok((op, value)) => out.push(Expectation {
                    metric,
                    op,
                    value,
                    text: text.trim().to_string(),
                    on,
                    line: self.map.position(span.start).0,
                }),
                Err(m) => self.error(span, format!("`{}`: {m}", k.get_ref())),
            }
        }
        out
    }

    /// The tolerances of `[expect.baseline]`.
    fn tolerances(&mut self, table: &DeTable<'_>) -> Vec<Tolerance> {
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(metric) = self.metric(k, &[]) else {
                continue;
            };
            let DeValue::String(s) = v.get_ref() else {
                self.error(v.span(), format!("the tolerance of `{}` is not a string; expected how much worse it may get, like \"{}\"", k.get_ref(), tolerance_example(metric)));
                continue;
            };
            match tolerance(metric, s) {
                Ok(allowed) => out.push(Tolerance {
                    metric,
                    allowed,
                    text: s.trim().to_string(),
                }),
                Err(m) => self.error(v.span(), format!("`{}`: {m}", k.get_ref())),
            }
        }
        out
    }
}

/// An example condition for `metric`, for messages.
fn example(metric: Metric) -> &'static str {
    match kind(metric) {
        Kind::Fraction if metric.better() == Better::Higher => ">= 0.999",
        Kind::Fraction => "<= 0.001",
        Kind::Latency => "<= 250ms",
        Kind::Recovery => "<= 30s",
        Kind::Number => "== 0",
    }
}

fn tolerance_example(metric: Metric) -> &'static str {
    match kind(metric) {
        Kind::Fraction if metric.better() == Better::Higher => "-0.001",
        Kind::Fraction => "+0.001",
        Kind::Latency => "+5%",
        Kind::Recovery => "+1s",
        Kind::Number => "+0",
    }
}

/// How a metric's values are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A fraction of requests: 0.999 or 99.9%.
    Fraction,
    /// A latency in ms, written as a duration.
    Latency,
    /// Seconds, written as a duration or `inf`.
    Recovery,
    /// A plain number.
    Number,
}

fn kind(metric: Metric) -> Kind {
    match metric {
        Metric::RecoveryS => Kind::Recovery,
        m if m.is_fraction() => Kind::Fraction,
        m if m.name().ends_with("_ms") => Kind::Latency,
        _ => Kind::Number,
    }
}

/// Parses a condition such as `>= 99.9%` for `metric`: the operator and the threshold in
/// the metric's unit.
pub(super) fn condition(metric: Metric, text: &str) -> Result<(Op, f64), String> {
    let t = text.trim();
    let ops = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];
    let Some((op, rest)) = ops
        .iter()
        .find_map(|(s, op)| t.strip_prefix(s).map(|r| (*op, r.trim())))
    else {
        return Err(format!(
            "\"{}\" has no operator; expected one of >=, <=, >, <, == and a value, such as \"{}\"",
            shorten(t, 40),
            example(metric)
        ));
    };
    value(metric, rest).map(|v| (op, v))
}

/// A threshold for `metric`, in its unit.
fn value(metric: Metric, text: &str) -> Result<f64, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    match kind(metric) {
        Kind::Fraction => {
            let v = match text.strip_suffix('%') {
                Some(p) => number(p).map(|v| v / 100.0),
                None => number(text),
            };
            v.filter(|v| *v <= 1.0).ok_or_else(|| format!("\"{}\" is not a fraction; expected a number from 0 to 1 or a percentage, such as 0.999 or 99.9%", shorten(text, 40)))
        }
        Kind::Latency => parse_duration(text)
            .map(|d| d.as_nanos() as f64 / 1e6)
            .map_err(|_| format!("\"{}\" is not a latency; expected a duration with a unit, such as 250ms", shorten(text, 40))),
        Kind::Recovery if text == "inf" => Ok(f64::INFINITY),
        Kind::Recovery => parse_duration(text)
            .map(|d| d.as_nanos() as f64 / 1e9)
            .map_err(|_| format!("\"{}\" is not a recovery time; expected a duration with a unit, such as 30s, or inf (never recovers)", shorten(text, 40))),
        Kind::Number => number(text).ok_or_else(|| format!("\"{}\" is not a number; expected a number 0 or more, such as 0 or 1.2", shorten(text, 40))),
    }
}

/// Parses a baseline tolerance such as `+5%` or `-0.001` for `metric`.
pub(super) fn tolerance(metric: Metric, text: &str) -> Result<Allowed, String> {
    let t = text.trim();
    let worse = if metric.better() == Better::Higher {
        '-'
    } else {
        '+'
    };
    let body = match t.chars().next() {
        Some(c) if c == worse => &t[1..],
        Some(c @ ('+' | '-')) => {
            return Err(format!(
                "\"{}\" allows a change for the better; {metric} gets worse going {}, so expected a tolerance such as \"{}\"",
                shorten(t, 40),
                if c == '+' { "down" } else { "up" },
                tolerance_example(metric)
            ));
        }
        _ => t,
    };
    if let Some(p) = body.strip_suffix('%') {
        return p
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| Allowed::Relative(v / 100.0))
            .ok_or_else(|| {
                format!(
                    "\"{}\" is not a percentage; expected something like \"{}\"",
                    shorten(t, 40),
                    tolerance_example(metric)
                )
            });
    }
    match kind(metric) {
        Kind::Recovery if body == "inf" => Ok(Allowed::Absolute(f64::INFINITY)),
        _ => value(metric, body).map(Allowed::Absolute),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_operators_units_and_percentages() {
        assert_eq!(
            condition(Metric::Availability, ">= 0.999"),
            Ok((Op::Ge, 0.999))
        );
        let (op, v) = condition(Metric::Availability, ">=99.9%").expect("a percentage");
        assert!(op == Op::Ge && (v - 0.999).abs() < 1e-12);
        assert_eq!(condition(Metric::P99Ms, "<= 250ms"), Ok((Op::Le, 250.0)));
        assert_eq!(condition(Metric::P99Ms, "< 1.5s"), Ok((Op::Lt, 1500.0)));
        assert_eq!(condition(Metric::RecoveryS, "<= 30s"), Ok((Op::Le, 30.0)));
        assert_eq!(
            condition(Metric::RecoveryS, "== inf"),
            Ok((Op::Eq, f64::INFINITY))
        );
        assert_eq!(condition(Metric::Duplicates, "== 0"), Ok((Op::Eq, 0.0)));
        assert_eq!(
            condition(Metric::AttemptsPerRequest, "> 1.05"),
            Ok((Op::Gt, 1.05))
        );
        for (m, bad, says) in [
            (Metric::Availability, "0.999", "no operator"),
            (Metric::Availability, ">= 1.5", "not a fraction"),
            (Metric::P99Ms, "<= 250", "duration with a unit"),
            (Metric::Duplicates, "== few", "not a number"),
            (Metric::RecoveryS, "<= soon", "or inf"),
        ] {
            let e = condition(m, bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn tolerances_know_which_way_is_worse() {
        assert_eq!(tolerance(Metric::P99Ms, "+5%"), Ok(Allowed::Relative(0.05)));
        assert_eq!(
            tolerance(Metric::Availability, "-0.001"),
            Ok(Allowed::Absolute(0.001))
        );
        assert_eq!(tolerance(Metric::P99Ms, "+2ms"), Ok(Allowed::Absolute(2.0)));
        assert_eq!(
            tolerance(Metric::RecoveryS, "+1s"),
            Ok(Allowed::Absolute(1.0))
        );
        let e = tolerance(Metric::Availability, "+0.001").expect_err("wrong way");
        assert!(e.contains("gets worse going down"), "{e}");
        let e = tolerance(Metric::P99Ms, "-5%").expect_err("wrong way");
        assert!(e.contains("gets worse going up"), "{e}");
    }
}
