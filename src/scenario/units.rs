//! Values with units in scenario files: durations such as `"250ms"` and queue capacities.

use super::diagnostic::shorten;
use crate::engine::SimDuration;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// A duration written as a string with a unit: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationValue(pub SimDuration);

/// A duration written so that [`parse_duration`] reads it back exactly, in the largest
/// unit that divides it: `"2s"`, `"250ms"`, `"15us"` or `"1500001ns"` (`"0s"` for zero).
pub fn exact_duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        "0s".to_string()
    } else if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

/// Parses `"1.5s"`, `"250us"` and the like; the message says what is wrong otherwise.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let t = text.trim();
    let text = &shorten(text, 40);
    if t.is_empty() {
        return Err(
            "the duration is empty; expected a number followed by a unit, like \"250ms\" or \"1.5s\""
                .to_string(),
        );
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim();
    let scale = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        "" => {
            return Err(format!(
                "the duration \"{text}\" has no unit; expected a number followed by ns, us, ms, s, m or h, like \"{number}ms\""
            ));
        }
        other => {
            let other = shorten(other, 20);
            return Err(format!(
                "unknown time unit \"{other}\" in \"{text}\"; expected one of ns, us, ms, s, m, h"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("\"{text}\" is not a duration; expected a number followed by a unit, like \"250ms\" or \"1.5s\"")
    })?;
    if value < 0.0 {
        return Err(format!(
            "the duration \"{text}\" is negative; expected a duration of zero or more"
        ));
    }
    let ns = value * scale;
    if !ns.is_finite() || ns >= u64::MAX as f64 {
        return Err(format!(
            "the duration \"{text}\" is too large; expected less than 5000000h (about 570 years)"
        ));
    }
    Ok(SimDuration::from_nanos_f64(ns))
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, like \"250ms\" or \"1.5s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_duration(v).map(DurationValue).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "a duration needs a unit, but this is the bare number {v}; expected a string such as \"{v}s\" or \"{v}ms\""
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_i64(v as i64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let shown = crate::scenario::diagnostic::number(v);
                // A duration string takes no exponent: suggest the number itself only when
                // it is written without one.
                let example = if shown.contains('e') {
                    "\"250ms\" or \"1.5s\"".to_string()
                } else {
                    format!("\"{shown}s\" or \"{shown}ms\"")
                };
                Err(E::custom(format!(
                    "a duration needs a unit, but this is the bare number {shown}; expected a string such as {example}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A waiting-room size: a number of requests, or `"unbounded"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueValue {
    /// At most this many requests wait.
    Bounded(u64),
    /// No limit.
    Unbounded,
}

impl<'de> Deserialize<'de> for QueueValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = QueueValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of requests (0 or more) or \"unbounded\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v == "unbounded" {
                    Ok(QueueValue::Unbounded)
                } else {
                    Err(E::custom(format!(
                        "invalid queue size \"{}\"; expected a number of requests (0 or more) or \"unbounded\"",
                        shorten(v, 40)
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                if v < 0 {
                    Err(E::custom(format!(
                        "the queue size {v} is negative; expected a number of requests (0 or more) or \"unbounded\""
                    )))
                } else {
                    Ok(QueueValue::Bounded(v as u64))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(QueueValue::Bounded(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        let cases = [
            ("250us", 250_000),
            ("250µs", 250_000),
            ("4ms", 4_000_000),
            ("1.5s", 1_500_000_000),
            ("5m", 300_000_000_000),
            ("2h", 7_200_000_000_000),
            ("7ns", 7),
            ("0s", 0),
        ];
        for (text, ns) in cases {
            assert_eq!(parse_duration(text), Ok(SimDuration(ns)), "{text}");
        }
    }

    #[test]
    fn rejects_missing_units_bad_units_and_negatives() {
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("5 parsecs")
                .unwrap_err()
                .contains("unknown time unit")
        );
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(
            parse_duration("1.2.3s")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse_duration("abc")
                .unwrap_err()
                .contains("unknown time unit")
        );
    }
}
