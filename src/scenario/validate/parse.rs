//! TOML text to the serde mirror: the syntax error, or every unknown key and wrongly typed value, each explained with what is expected.
//!
//! serde stops at its first error. After each one, the entry it is about is removed from the
//! parsed document and the document is read again, until it reads cleanly; keys removed for
//! their values are remembered, so that the checks do not report them again as missing.

use crate::scenario::diagnostic::{Diagnostic, SourceMap, did_you_mean, name_list, shorten};
use crate::scenario::file::ScenarioFile;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Most key and type errors read from one file; the rest are left for the next attempt.
const MAX_ERRORS: usize = 100;
/// Each error costs a re-read of the whole document: at most this many bytes are read in
/// all, so that a huge file with many errors is still answered quickly.
const READ_BUDGET: usize = 32 * 1024 * 1024;
/// Re-reads allowed whatever the file's size.
const MIN_ERRORS: usize = 10;

/// Keys removed after their values were reported: (start of their table's span, key).
pub(super) type Removed = BTreeSet<(usize, String)>;

/// What [`parse`] makes of a file.
pub(super) struct Parsed {
    /// The mirror, without the entries reported in `diagnostics`; `None` when the text is
    /// not TOML or has no keys.
    pub file: Option<ScenarioFile>,
    /// The span of the whole document.
    pub root: Range<usize>,
    /// The syntax error, or the key and type errors.
    pub diagnostics: Vec<Diagnostic>,
    /// Known keys removed because their values were wrong.
    pub removed: Removed,
}

/// Parses `text` as a TOML document: its span and its tables, or the syntax error (or the
/// error of a file without keys).
pub(super) fn document<'i>(
    text: &'i str,
    map: &SourceMap,
) -> Result<(Range<usize>, DeTable<'i>), Diagnostic> {
    let root = DeTable::parse(text)
        .map_err(|e| map.diagnostic(e.span(), explain_syntax(e.message(), text, e.span())))?;
    let span = root.span();
    let doc = root.into_inner();
    if doc.is_empty() {
        return Err(map.diagnostic(
            None,
            "the file has no keys, only comments or blank lines; expected a scenario with at least `name`, `duration`, a [[client]] and a [[service]]",
        ));
    }
    Ok((span, doc))
}

/// Reads the document `doc` (of `text_len` bytes, spanning `root`) into the mirror,
/// reporting as many key and type errors as it can.
pub(super) fn read(
    mut doc: DeTable<'_>,
    root: Range<usize>,
    text_len: usize,
    map: &SourceMap,
) -> Parsed {
    let mut parsed = Parsed {
        file: None,
        root,
        diagnostics: Vec::new(),
        removed: Removed::new(),
    };
    let max_errors = (READ_BUDGET / text_len.max(1)).clamp(MIN_ERRORS, MAX_ERRORS);
    while parsed.diagnostics.len() < max_errors {
        let de = toml::de::Deserializer::from(Spanned::new(parsed.root.clone(), doc.clone()));
        let e = match ScenarioFile::deserialize(de) {
            Ok(f) => {
                parsed.file = Some(f);
                return parsed;
            }
            Err(e) => e,
        };
        let found = e
            .span()
            .and_then(|span| locate(&doc, parsed.root.start, span.start));
        parsed.diagnostics.push(map.diagnostic(
            e.span().or_else(|| found.as_ref().map(|f| f.span.clone())),
            explain_toml_error(e.message(), found.as_ref()),
        ));
        let Some(found) = found else {
            return parsed;
        };
        match unknown_field(e.message()) {
            // A misspelt key: the key meant is not reported again as missing.
            Some((key, known)) => {
                if let Some(meant) = did_you_mean(key, known) {
                    parsed
                        .removed
                        .insert((found.table_start, meant.to_string()));
                }
            }
            None => {
                parsed.removed.insert((found.table_start, found.key));
            }
        }
        if !remove(&mut doc, &found.path) {
            return parsed;
        }
    }
    parsed.diagnostics.push(Diagnostic {
        line: 0,
        col: 0,
        message: format!(
            "stopped reading after {max_errors} errors; expected them fixed before the rest of the file is checked"
        ),
        source_line: None,
        caret: 0,
    });
    parsed
}

/// One step of the way from the root to an entry.
enum Step {
    Key(String),
    Index(usize),
}

/// The entry of the document an error is about.
struct Found {
    /// The way from the root to the entry.
    path: Vec<Step>,
    /// The entry's key.
    key: String,
    /// Where the table that holds the entry starts.
    table_start: usize,
    /// The entry's value.
    span: Range<usize>,
    /// What the value is, as a person says it: "the string \"x\"".
    found: String,
    /// True when the error is about one element of an array value.
    in_element: bool,
}

/// The innermost entry of `table` (which starts at `table_start`) whose key or value holds
/// byte `at`.
fn locate(table: &DeTable, table_start: usize, at: usize) -> Option<Found> {
    for (k, v) in table.iter() {
        let inner =
            match v.get_ref() {
                DeValue::Table(t) => locate(t, v.span().start, at),
                DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| match item
                    .get_ref()
                {
                    DeValue::Table(t) => locate(t, item.span().start, at).map(|mut f| {
                        f.path.insert(0, Step::Index(i));
                        f
                    }),
                    _ => None,
                }),
                _ => None,
            };
        if let Some(mut f) = inner {
            f.path.insert(0, Step::Key(k.get_ref().to_string()));
            return Some(f);
        }
    }
    let (k, v) = table
        .iter()
        .find(|(k, v)| holds(&k.span(), at) || holds(&v.span(), at))?;
    let element = match v.get_ref() {
        DeValue::Array(items) => items.iter().find(|item| holds(&item.span(), at)),
        _ => None,
    };
    Some(Found {
        path: vec![Step::Key(k.get_ref().to_string())],
        key: k.get_ref().to_string(),
        table_start,
        span: v.span(),
        found: describe(element.unwrap_or(v).get_ref()),
        in_element: element.is_some(),
    })
}

/// True when `span` holds byte `at`.
fn holds(span: &Range<usize>, at: usize) -> bool {
    span.contains(&at) || span.start == at
}

/// Removes the entry at `path` from `table`; false when there is none.
fn remove(table: &mut DeTable, path: &[Step]) -> bool {
    match path {
        [Step::Key(k)] => table.remove(k.as_str()).is_some(),
        [Step::Key(k), rest @ ..] => table
            .get_mut(k.as_str())
            .is_some_and(|v| remove_in(v.get_mut(), rest)),
        _ => false,
    }
}

fn remove_in(value: &mut DeValue, path: &[Step]) -> bool {
    match (value, path) {
        (DeValue::Table(t), _) => remove(t, path),
        (DeValue::Array(items), [Step::Index(i), rest @ ..]) => items
            .get_mut(*i)
            .is_some_and(|v| remove_in(v.get_mut(), rest)),
        _ => false,
    }
}

/// A TOML value as a person names it in a message.
fn describe(value: &DeValue) -> String {
    match value {
        DeValue::String(s) => format!("the string \"{}\"", shorten(s, 40)),
        DeValue::Integer(i) => format!("the whole number {}", i.as_str()),
        DeValue::Float(f) => format!("the number {}", f.as_str()),
        DeValue::Boolean(b) => format!("the boolean {b}"),
        DeValue::Datetime(d) => format!("the date-time {d}"),
        DeValue::Array(_) => "an array".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

/// Rewrites serde's and toml's wording into what a scenario author needs to read;
/// `found` is the entry the error is about, when known.
fn explain_toml_error(message: &str, found: Option<&Found>) -> String {
    let message = message.trim();
    if let Some((key, known)) = unknown_field(message) {
        if known.is_empty() {
            return format!(
                "unknown key `{}`; expected no keys in this table",
                shorten(key, 40)
            );
        }
        let hint = did_you_mean(key, known.iter().copied())
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        return format!(
            "unknown key `{}`; {hint}expected one of: {}",
            shorten(key, 40),
            name_list(&known)
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.trim_end_matches('`');
        return format!("missing key `{key}`; expected `{key} = ...` in this table");
    }
    for (prefix, wrong) in [
        ("invalid type: ", "has the wrong type"),
        ("invalid value: ", "is out of range"),
    ] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let (unexpected, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let key = found.map(|f| f.key.as_str());
        let expected = expected_value(expected, key);
        let what = found.map_or_else(|| describe_unexpected(unexpected), |f| f.found.clone());
        let too_large = if unexpected.contains(" as i128") {
            ", which is too large"
        } else {
            ""
        };
        return match found {
            Some(f) if f.in_element => format!(
                "`{}` has an entry of the wrong type: found {what}{too_large}; expected {expected}",
                f.key
            ),
            Some(f) => format!(
                "`{}` {wrong}: found {what}{too_large}; expected {expected}",
                f.key
            ),
            None => format!("found {what}{too_large}; expected {expected}"),
        };
    }
    // The TOML reader's own words for numbers it cannot hold, with what is expected.
    let message = match message {
        "floating-point number overflowed" => {
            "a number too large for a 64-bit float; expected a number below about 1.8e308"
                .to_string()
        }
        "integer number overflowed" => {
            "not a whole number a 64-bit integer can hold (too large, or no digits after 0x, 0o or 0b); expected a whole number like 42 or 0x2a"
                .to_string()
        }
        // A message of our own, from `units`.
        other => other.replace(", expected ", "; expected "),
    };
    match found {
        Some(f) => format!("`{}`: {message}", f.key),
        None => message,
    }
}

/// The key of serde's "unknown field" message, and the keys the table takes.
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.trim().strip_prefix("unknown field `")?;
    let Some((key, expected)) = rest.split_once("`, expected ") else {
        return Some((rest.split('`').next().unwrap_or(rest), Vec::new()));
    };
    let known = expected
        .trim_start_matches("one of ")
        .split(", ")
        .flat_map(|k| k.split(" or "))
        .map(|k| k.trim_matches('`'))
        .collect();
    Some((key, known))
}

/// serde's name for an expected value, as a scenario author reads it; `key` is the key
/// whose value it is.
fn expected_value(expected: &str, key: Option<&str>) -> String {
    let text = match expected {
        "" => "a value of another type",
        "u64" | "u32" => "a whole number (0 or more)",
        "i64" => "a whole number",
        "f64" => "a number",
        "a string" => "a quoted string",
        "a sequence" => match key {
            Some("client") => "a list of [[client]] tables (note the double brackets)",
            Some("service") => "a list of [[service]] tables (note the double brackets)",
            Some("link") => "a list of [[link]] tables (note the double brackets)",
            Some("calls") => "an array of calls, like [{ to = \"db\" }]",
            Some("phases") => {
                "an array of phases, like [{ from = \"1m\", to = \"2m\", rate_per_s = 50 }]"
            }
            _ => "an array, like [1, 2]",
        },
        "struct DistributionFile" => {
            "a distribution table, like { kind = \"exponential\", mean = \"4ms\" }"
        }
        "struct ArrivalFile" => "an arrival table, like { kind = \"poisson\", rate_per_s = 100 }",
        "struct PhaseFile" => "a phase table, like { from = \"1m\", to = \"2m\", rate_per_s = 50 }",
        "struct CallFile" => "a call table, like { to = \"db\" }",
        "struct NetworkFile" => "a [network] table",
        "struct ClientFile" => "a [[client]] table",
        "struct ServiceFile" => "a [[service]] table",
        "struct LinkFile" => "a [[link]] table",
        other => other,
    };
    text.to_string()
}

/// serde's name for a value it did not expect (`string "x"`), as a person says it.
fn describe_unexpected(unexpected: &str) -> String {
    let text = unexpected
        .replace("floating point", "the number")
        .replace("integer", "the whole number")
        .replace("string", "the string")
        .replace("boolean", "the boolean")
        .replace('`', "");
    match text.as_str() {
        "map" => "a table".to_string(),
        "sequence" => "an array".to_string(),
        _ => text,
    }
}

/// Rewrites toml's syntax errors: `message` is toml's, `span` where it points in `text`.
fn explain_syntax(message: &str, text: &str, span: Option<Range<usize>>) -> String {
    let message = message.trim();
    let at = span.map_or(0, |s| s.start).min(text.len());
    let token = token_at(text, at);
    let (what, expected) = message.split_once(", expected ").unwrap_or((message, ""));
    let rewritten = match what {
        "recursion limit" | "cannot recurse further; max recursion depth met" => Some(
            "tables, arrays or dotted keys are nested too deeply; expected a scenario nested a few levels at most"
                .to_string(),
        ),
        "duplicate key" if text.get(..at).is_some_and(|t| t.ends_with('[')) => Some(format!(
            "the table `{token}` is defined twice; expected each table once (a list of tables is written with a [[{token}]] header for each entry)"
        )),
        "duplicate key" => Some(format!(
            "`{token}` is defined twice in the same table; expected each key once"
        )),
        "string values must be quoted" | "invalid boolean" | "invalid string" if token.is_empty() => {
            Some("a key has no value after `=`; expected a value, such as \"text\", 42, 1.5, true or { kind = ... }".to_string())
        }
        "string values must be quoted" | "invalid boolean" | "invalid string" => Some(format!(
            "`{token}` is not a valid value; expected a quoted string like \"{token}\", a number, or true or false"
        )),
        "invalid basic string" | "invalid literal string" => Some(
            "a string is not closed; expected a closing quote on the same line".to_string(),
        ),
        "invalid multi-line basic string" | "invalid multi-line literal string" => Some(
            "a multi-line string is not closed; expected a closing \"\"\" or '''".to_string(),
        ),
        "key with no value" => Some(
            "a key has no value; expected `key = value`".to_string(),
        ),
        "unexpected key or value" | "unexpected content" => Some(format!(
            "unexpected `{token}` after the end of a key = value or a [table] header; expected the end of the line or a # comment"
        )),
        "unexpected leading zero" => Some(
            "a number starts with a zero; expected a number without leading zeros, like 7".to_string(),
        ),
        "`_` may only go between digits" => Some(
            "a `_` in a number is not between two digits; expected digits on both sides, like 1_000".to_string(),
        ),
        "extra `=`" => Some(
            "an extra `=`; expected a single `=` between a key and its value".to_string(),
        ),
        "redundant numeric sign" => Some(
            "a number has two signs; expected at most one + or - before a number".to_string(),
        ),
        "invalid float" | "invalid integer" | "invalid number" => Some(format!(
            "`{token}` is not a valid number; expected a number such as 42, 1.5 or 2e3 (strings need quotes)"
        )),
        _ => None,
    };
    if let Some(text) = rewritten {
        return text;
    }
    match expected {
        "" | "nothing" => format!("{what}; expected valid TOML here"),
        expected => format!("{what}; expected {expected}"),
    }
}

/// The word that starts at byte `at` of `text`: up to the next space, quote, bracket, `=`,
/// `,` or `#`.
fn token_at(text: &str, at: usize) -> String {
    let Some(rest) = text.get(at..) else {
        return String::new();
    };
    let token: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !"=,[]{}#\"'".contains(*c))
        .take(40)
        .collect();
    if token.is_empty() {
        rest.chars()
            .next()
            .filter(|c| !c.is_whitespace())
            .map(String::from)
            .unwrap_or_default()
    } else {
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_serde_types_in_plain_words() {
        assert_eq!(
            explain_toml_error("invalid type: string \"x\", expected f64", None),
            "found the string \"x\"; expected a number"
        );
        assert_eq!(
            explain_toml_error("unknown field `meen`, expected `kind` or `mean`", None),
            "unknown key `meen`; did you mean `mean`? expected one of: kind, mean"
        );
        assert_eq!(
            explain_toml_error("unknown field `too`, expected `to`", None),
            "unknown key `too`; did you mean `to`? expected one of: to"
        );
    }

    #[test]
    fn syntax_errors_say_what_is_expected() {
        let text = "name = abc";
        let m = explain_syntax(
            "string values must be quoted, expected literal string",
            text,
            Some(7..8),
        );
        assert!(
            m.contains("`abc`") && m.contains("expected a quoted string"),
            "{m}"
        );
        let m = explain_syntax(
            "unexpected leading zero, expected nothing",
            "seed = 01",
            Some(7..8),
        );
        assert!(!m.contains("nothing") && m.contains("expected"), "{m}");
    }
}
