//! Swept values that mean the same: a `[sweep]` list naming one value twice would make two
//! sweep points alike, so each value may appear once per list.

use super::variant::Axis;
use crate::scenario::diagnostic::{Diagnostic, SourceMap, shorten};
use crate::scenario::units::parse_duration;
use toml::Spanned;
use toml::de::DeValue;

/// Reports every swept value equal to an earlier one of its list, at the later value.
pub(super) fn duplicates(axes: &[Axis<'_>], map: &SourceMap, diagnostics: &mut Vec<Diagnostic>) {
    for axis in axes {
        for (i, value) in axis.values.iter().enumerate() {
            let Some(first) = axis.values[..i].iter().find(|v| same(v, value)) else {
                continue;
            };
            let (line, col) = map.position(first.span().start);
            diagnostics.push(map.diagnostic(
                Some(value.span()),
                format!(
                    "the sweep of `{}` lists {} after {} (at {line}:{col}), the same value; expected each value once, since equal values make the same sweep point",
                    shorten(axis.path.get_ref(), 60),
                    shown(value, map),
                    shown(first, map)
                ),
            ));
        }
    }
}

/// A value as written, for messages.
fn shown(value: &Spanned<DeValue<'_>>, map: &SourceMap) -> String {
    shorten(map.source(value.span()).trim(), 40)
}

/// True when `a` and `b` mean the same: equal numbers (`2` and `2.0`), equal strings or
/// durations (`"1s"` and `"1000ms"`), and lists and tables of such values.
fn same(a: &Spanned<DeValue<'_>>, b: &Spanned<DeValue<'_>>) -> bool {
    match (a.get_ref(), b.get_ref()) {
        (DeValue::String(x), DeValue::String(y)) => {
            x == y
                || matches!(
                    (parse_duration(x), parse_duration(y)),
                    (Ok(dx), Ok(dy)) if dx == dy
                )
        }
        (DeValue::Integer(_) | DeValue::Float(_), DeValue::Integer(_) | DeValue::Float(_)) => {
            match (integer(a.get_ref()), integer(b.get_ref())) {
                (Some(x), Some(y)) => x == y,
                _ => {
                    matches!((float(a.get_ref()), float(b.get_ref())), (Some(x), Some(y)) if x == y)
                }
            }
        }
        (DeValue::Boolean(x), DeValue::Boolean(y)) => x == y,
        (DeValue::Datetime(x), DeValue::Datetime(y)) => x == y,
        (DeValue::Array(x), DeValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| same(x, y))
        }
        (DeValue::Table(x), DeValue::Table(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.get(k.get_ref().as_ref())
                        .is_some_and(|other| same(v, other))
                })
        }
        _ => false,
    }
}

/// An integer's value, if it is an integer that fits.
fn integer(v: &DeValue<'_>) -> Option<i128> {
    match v {
        DeValue::Integer(i) => i128::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok(),
        _ => None,
    }
}

/// A number's value as a float.
fn float(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(_) => integer(v).map(|i| i as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the two values of `"p" = [A, B]` are the same.
    fn same_pair(list: &str) -> bool {
        let text = format!("p = {list}");
        let doc = toml::de::DeTable::parse(&text).expect("valid TOML");
        let DeValue::Array(items) = doc.get_ref().get("p").expect("p").get_ref().clone() else {
            panic!("a list");
        };
        same(&items[0], &items[1])
    }

    #[test]
    fn values_are_compared_as_what_they_mean() {
        for equal in [
            r#"["1s", "1s"]"#,
            r#"["1s", "1000ms"]"#,
            "[2, 2]",
            "[2, 2.0]",
            "[0x10, 16]",
            "[1_000, 1000]",
            "[0.5, 5e-1]",
            "[true, true]",
            r#"[{ kind = "constant", value = "1s" }, { value = "1000ms", kind = "constant" }]"#,
            "[[1, 2], [1, 2]]",
        ] {
            assert!(same_pair(equal), "{equal}");
        }
        for different in [
            r#"["1s", "2s"]"#,
            r#"["api", "db"]"#,
            "[2, 3]",
            "[0.5, 0.25]",
            r#"[2, "2"]"#,
            "[true, false]",
            r#"[{ kind = "constant", value = "1s" }, { kind = "constant", value = "2s" }]"#,
            r#"[{ kind = "constant" }, { kind = "constant", value = "2s" }]"#,
            "[[1, 2], [2, 1]]",
        ] {
            assert!(!same_pair(different), "{different}");
        }
    }
}
