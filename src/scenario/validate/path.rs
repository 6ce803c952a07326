//! Paths into a scenario document, such as `service.api.calls.db.timeout`: how variants and
//! sweeps find the value they override.
//!
//! A path is keys separated by dots. Where a key holds a list of tables (`client`,
//! `service`, `fault`, a service's `calls`, an arrival's `phases`), the next part picks one
//! entry: by its `name`, by its `to` (calls), or by its position from 0.

use crate::scenario::diagnostic::{did_you_mean, name_list, shorten};
use std::borrow::Cow;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Sets the value at `path` in `doc` to `value`. Missing tables on the way are created
/// (named by `key_span`, where the path is written), so a variant can add a policy key by
/// key; a missing list entry is an error.
pub(super) fn set<'i>(
    doc: &mut DeTable<'i>,
    path: &str,
    value: Spanned<DeValue<'i>>,
    key_span: Range<usize>,
) -> Result<(), String> {
    let parts = split(path)?;
    with_root(doc, |root| {
        let (last, walk) = parts.split_last().expect("split gives one part at least");
        let parent = descend(root, walk, Some(&key_span), path)?;
        match parent {
            DeValue::Table(t) => {
                match t.get_mut(*last) {
                    Some(slot) => *slot = value,
                    None => {
                        t.insert(
                            Spanned::new(key_span.clone(), Cow::Owned(last.to_string())),
                            value,
                        );
                    }
                }
                Ok(())
            }
            DeValue::Array(items) => {
                let i = pick(items, last, &walk.join("."))?;
                items.as_mut()[i] = value;
                Ok(())
            }
            other => Err(not_a_table(walk, other, path)),
        }
    })
}

/// Removes the key at `path` from `doc`; the path must exist.
pub(super) fn unset(doc: &mut DeTable<'_>, path: &str) -> Result<(), String> {
    let parts = split(path)?;
    with_root(doc, |root| {
        let (last, walk) = parts.split_last().expect("split gives one part at least");
        match descend(root, walk, None, path)? {
            DeValue::Table(t) => {
                if t.remove(*last).is_some() {
                    return Ok(());
                }
                Err(no_key(t, last, walk))
            }
            DeValue::Array(_) => Err(format!(
                "`{}` is a list; expected a path that ends at a key, not at one of its entries",
                walk.join(".")
            )),
            other => Err(not_a_table(walk, other, path)),
        }
    })
}

/// The parts of `path`, which must not be empty.
fn split(path: &str) -> Result<Vec<&str>, String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(format!(
            "the path \"{}\" has an empty part; expected keys separated by single dots, like \"service.db.replicas\"",
            shorten(path, 60)
        ));
    }
    Ok(parts)
}

/// Runs `f` on the document seen as a table value.
fn with_root<'i, T>(
    doc: &mut DeTable<'i>,
    f: impl FnOnce(&mut DeValue<'i>) -> Result<T, String>,
) -> Result<T, String> {
    let mut root = DeValue::Table(std::mem::take(doc));
    let result = f(&mut root);
    if let DeValue::Table(t) = root {
        *doc = t;
    }
    result
}

/// Follows `parts` from `value`; creates missing tables when `create` names the span to
/// give them.
fn descend<'v, 'i>(
    value: &'v mut DeValue<'i>,
    parts: &[&str],
    create: Option<&Range<usize>>,
    path: &str,
) -> Result<&'v mut DeValue<'i>, String> {
    let mut here = value;
    for (depth, part) in parts.iter().enumerate() {
        let walked = &parts[..depth];
        here = match here {
            DeValue::Table(t) => {
                if t.get(*part).is_none() {
                    let Some(span) = create else {
                        return Err(no_key(t, part, walked));
                    };
                    t.insert(
                        Spanned::new(span.clone(), Cow::Owned(part.to_string())),
                        Spanned::new(span.clone(), DeValue::Table(DeTable::default())),
                    );
                }
                t.get_mut(*part)
                    .expect("present or just inserted")
                    .get_mut()
            }
            DeValue::Array(items) => {
                let i = pick(items, part, &walked.join("."))?;
                items.as_mut()[i].get_mut()
            }
            other => return Err(not_a_table(walked, other, path)),
        };
    }
    Ok(here)
}

/// The index of the entry of `items` that `part` names: by `name`, by `to`, or by position.
fn pick(items: &[Spanned<DeValue<'_>>], part: &str, list: &str) -> Result<usize, String> {
    let label = |item: &Spanned<DeValue<'_>>| -> Option<String> {
        let DeValue::Table(t) = item.get_ref() else {
            return None;
        };
        ["name", "to"]
            .iter()
            .find_map(|k| match t.get(*k)?.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                _ => None,
            })
    };
    if let Some(i) = items
        .iter()
        .position(|it| label(it).as_deref() == Some(part))
    {
        return Ok(i);
    }
    if let Ok(i) = part.parse::<usize>()
        && i < items.len()
    {
        return Ok(i);
    }
    if items.is_empty() {
        return Err(format!(
            "`{list}` is an empty list, so it has no entry \"{}\"; expected a path that ends at `{list}`, the whole list",
            shorten(part, 40)
        ));
    }
    let names: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, it)| label(it).unwrap_or_else(|| i.to_string()))
        .collect();
    let hint = did_you_mean(part, names.iter().map(String::as_str))
        .map(|n| format!("did you mean \"{n}\"? "))
        .unwrap_or_default();
    Err(format!(
        "`{list}` has no entry \"{}\"; {hint}expected one of: {} (an entry's `name`, a call's `to`, or a position from 0)",
        shorten(part, 40),
        name_list(&names)
    ))
}

/// The message for a key that `t` (reached by `walked`) does not have.
fn no_key(t: &DeTable<'_>, key: &str, walked: &[&str]) -> String {
    let keys: Vec<&str> = t.iter().map(|(k, _)| k.get_ref().as_ref()).collect();
    if keys.is_empty() {
        let key = shorten(key, 40);
        if walked.is_empty() {
            return format!(
                "the scenario has no keys, so it has no key `{key}`; expected a path to a key the scenario sets"
            );
        }
        let table = walked.join(".");
        return format!(
            "`{table}` is an empty table, so it has no key `{key}`; expected a path that ends at `{table}`, the whole table"
        );
    }
    let hint = did_you_mean(key, keys.iter().copied())
        .map(|k| format!("did you mean `{k}`? "))
        .unwrap_or_default();
    let place = if walked.is_empty() {
        "the scenario".to_string()
    } else {
        format!("`{}`", walked.join("."))
    };
    format!(
        "{place} has no key `{}`; {hint}expected one of: {}",
        shorten(key, 40),
        name_list(&keys)
    )
}

/// The message for `path`, which goes on past the value at `walked`, not a table or a list.
fn not_a_table(walked: &[&str], value: &DeValue<'_>, path: &str) -> String {
    let what = match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a whole number",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    };
    format!(
        "`{}` is {what}, not a table; expected a path that ends there, not \"{}\"",
        walked.join("."),
        shorten(path, 60)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
name = "t"
[[client]]
name = "web"
target = "api"
retry = { max_attempts = 3 }
[[service]]
name = "api"
calls = [{ to = "db", timeout = "1s" }]
[[service]]
name = "db"
"#;

    fn doc() -> DeTable<'static> {
        DeTable::parse(DOC).expect("valid TOML").into_inner()
    }

    fn value(text: &'static str) -> Spanned<DeValue<'static>> {
        DeValue::parse(text).expect("a TOML value")
    }

    fn at<'a>(doc: &'a DeTable<'static>, path: &str) -> Option<&'a DeValue<'static>> {
        let mut here = doc.get(path.split('.').next()?)?.get_ref();
        for part in path.split('.').skip(1) {
            here = match here {
                DeValue::Table(t) => t.get(part)?.get_ref(),
                DeValue::Array(items) => items[pick(items, part, "").ok()?].get_ref(),
                _ => return None,
            };
        }
        Some(here)
    }

    fn integer(v: Option<&DeValue<'_>>) -> Option<String> {
        match v? {
            DeValue::Integer(i) => Some(i.as_str().to_string()),
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        }
    }

    #[test]
    fn sets_scalars_by_entry_name_and_call_target() {
        let mut d = doc();
        set(&mut d, "client.web.retry.max_attempts", value("1"), 0..1).expect("set");
        assert_eq!(
            integer(at(&d, "client.web.retry.max_attempts")).as_deref(),
            Some("1")
        );
        set(
            &mut d,
            "service.api.calls.db.timeout",
            value("\"2s\""),
            0..1,
        )
        .expect("set");
        assert_eq!(
            integer(at(&d, "service.api.calls.db.timeout")).as_deref(),
            Some("2s")
        );
        set(&mut d, "service.1.replicas", value("4"), 0..1).expect("by position");
        assert_eq!(integer(at(&d, "service.db.replicas")).as_deref(), Some("4"));
    }

    #[test]
    fn sets_whole_tables_and_creates_missing_ones() {
        let mut d = doc();
        set(
            &mut d,
            "client.web.retry_budget",
            value("{ kind = \"ratio\", percent = 10 }"),
            0..1,
        )
        .expect("set a table");
        assert!(
            matches!(at(&d, "client.web.retry_budget"), Some(DeValue::Table(t)) if t.len() == 2)
        );
        set(
            &mut d,
            "client.web.circuit_breaker.min_calls",
            value("5"),
            0..1,
        )
        .expect("created");
        assert_eq!(
            integer(at(&d, "client.web.circuit_breaker.min_calls")).as_deref(),
            Some("5")
        );
    }

    #[test]
    fn unsets_existing_keys_only() {
        let mut d = doc();
        unset(&mut d, "client.web.retry").expect("unset");
        assert!(at(&d, "client.web.retry").is_none());
        let e = unset(&mut d, "client.web.retyr").expect_err("absent");
        assert!(e.contains("`client.web` has no key `retyr`"), "{e}");
    }

    #[test]
    fn bad_paths_say_what_exists() {
        let mut d = doc();
        let e = set(&mut d, "client.webb.timeout", value("\"1s\""), 0..1).expect_err("no webb");
        assert!(
            e.contains("did you mean \"web\"?") && e.contains("expected one of: web"),
            "{e}"
        );
        let e = set(&mut d, "service.api.calls.dv.timeout", value("1"), 0..1).expect_err("no dv");
        assert!(e.contains("`service.api.calls` has no entry \"dv\""), "{e}");
        let e = set(&mut d, "client..timeout", value("1"), 0..1).expect_err("empty part");
        assert!(e.contains("empty part"), "{e}");
    }

    #[test]
    fn a_path_past_a_value_says_where_it_should_end() {
        let mut d = doc();
        // One part past the string (the last hop) and several parts past it (on the way).
        let e = set(&mut d, "name.x", value("1"), 0..1).expect_err("into a string");
        assert_eq!(
            e,
            "`name` is a string, not a table; expected a path that ends there, not \"name.x\""
        );
        let e = set(&mut d, "service.api.calls.db.timeout.x.y", value("1"), 0..1)
            .expect_err("through a string");
        assert_eq!(
            e,
            "`service.api.calls.db.timeout` is a string, not a table; expected a path that ends there, not \"service.api.calls.db.timeout.x.y\""
        );
        let e = unset(&mut d, "client.web.retry.max_attempts.x").expect_err("into a number");
        assert_eq!(
            e,
            "`client.web.retry.max_attempts` is a whole number, not a table; expected a path that ends there, not \"client.web.retry.max_attempts.x\""
        );
    }

    #[test]
    fn empty_lists_and_tables_say_what_is_valid_instead_of_an_empty_list() {
        const EMPTY: &str = "name = \"t\"\n[network]\n[[service]]\nname = \"db\"\ncalls = []\n";
        let mut d = DeTable::parse(EMPTY).expect("valid TOML").into_inner();
        let e =
            set(&mut d, "service.db.calls.api.timeout", value("1"), 0..1).expect_err("no entries");
        assert_eq!(
            e,
            "`service.db.calls` is an empty list, so it has no entry \"api\"; expected a path that ends at `service.db.calls`, the whole list"
        );
        let e = unset(&mut d, "service.db.calls.0.timeout").expect_err("no entries");
        assert!(e.starts_with("`service.db.calls` is an empty list"), "{e}");
        let e = unset(&mut d, "network.latency").expect_err("no keys");
        assert_eq!(
            e,
            "`network` is an empty table, so it has no key `latency`; expected a path that ends at `network`, the whole table"
        );
        // Setting the whole list, or a key of the empty table, is fine.
        set(&mut d, "service.db.calls", value("[{ to = \"x\" }]"), 0..1).expect("whole list");
        set(&mut d, "network.latency", value("1"), 0..1).expect("a new key");
    }
}
