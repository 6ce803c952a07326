//! `[[variant]]` and `[sweep]`: read from the document before it becomes a scenario, then
//! applied to copies of it, one per variant and sweep point.

use super::path;
use crate::scenario::diagnostic::{Diagnostic, SourceMap, did_you_mean, name_list, shorten};
use crate::scenario::units::parse_duration;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Most sweep points a file may ask for.
pub const MAX_SWEEP_POINTS: usize = 10_000;
/// Most variants a file may declare.
pub const MAX_VARIANTS: usize = 1_000;

/// Keys a `[[variant]]` table takes.
const VARIANT_KEYS: [&str; 4] = ["name", "description", "set", "unset"];
/// Lists of tables: a `set` key naming one of these alone would replace the whole list.
const LISTS: [&str; 4] = ["client", "service", "link", "fault"];

/// One `[[variant]]`: overrides of the scenario as written.
pub(super) struct VariantDef<'i> {
    /// Its name, unique, not `base`.
    pub name: String,
    /// The variant's table.
    pub span: Range<usize>,
    /// `set`: (path, where the path is written) and the new value.
    pub sets: Vec<(Spanned<String>, Spanned<DeValue<'i>>)>,
    /// `unset`: paths to remove, with where each is written.
    pub unsets: Vec<Spanned<String>>,
}

/// One swept path and its values, in file order.
pub(super) struct Axis<'i> {
    /// The path, with where it is written.
    pub path: Spanned<String>,
    /// The values, at least one.
    pub values: Vec<Spanned<DeValue<'i>>>,
}

/// What a file asks to run besides the scenario as written.
#[derive(Default)]
pub(super) struct Plan<'i> {
    /// The variants, in file order.
    pub variants: Vec<VariantDef<'i>>,
    /// The swept paths, in file order; the grid is their product, the first path outermost.
    pub axes: Vec<Axis<'i>>,
}

impl Plan<'_> {
    /// Every sweep point as one value index per axis, the last axis varying fastest; one
    /// empty point without a sweep.
    pub fn points(&self) -> Vec<Vec<usize>> {
        let mut points = vec![Vec::new()];
        for axis in &self.axes {
            points = points
                .into_iter()
                .flat_map(|p| {
                    (0..axis.values.len()).map(move |i| {
                        let mut q = p.clone();
                        q.push(i);
                        q
                    })
                })
                .collect();
        }
        points
    }
}

/// Removes `variant` and `sweep` from `doc` and reads them, adding their problems to
/// `diagnostics`.
pub(super) fn extract<'i>(
    doc: &mut DeTable<'i>,
    map: &SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Plan<'i> {
    let mut plan = Plan::default();
    let mut error = |span: Range<usize>, message: String| {
        diagnostics.push(map.diagnostic(Some(span), message));
    };
    if let Some(v) = doc.remove("variant") {
        plan.variants = variants(v, &mut error);
    }
    if let Some(s) = doc.remove("sweep") {
        plan.axes = axes(s, &mut error);
    }
    super::sweep_values::duplicates(&plan.axes, map, diagnostics);
    plan
}

/// Reads the `[[variant]]` list.
fn variants<'i>(
    value: Spanned<DeValue<'i>>,
    error: &mut impl FnMut(Range<usize>, String),
) -> Vec<VariantDef<'i>> {
    let span = value.span();
    let DeValue::Array(items) = value.into_inner() else {
        error(
            span,
            "`variant` is not a list of tables; expected [[variant]] tables (note the double brackets), each with a `name` and a `set`".to_string(),
        );
        return Vec::new();
    };
    if items.len() > MAX_VARIANTS {
        error(
            span,
            format!(
                "the file declares {} variants; expected at most {MAX_VARIANTS}",
                items.len()
            ),
        );
        return Vec::new();
    }
    let mut out: Vec<VariantDef<'i>> = Vec::new();
    for item in items {
        let span = item.span();
        let DeValue::Table(table) = item.into_inner() else {
            error(
                span,
                "a `variant` entry is not a table; expected [[variant]] tables with a `name` and a `set`".to_string(),
            );
            continue;
        };
        if let Some(v) = variant(table, span, error) {
            if out.iter().any(|o| o.name == v.name) {
                error(
                    v.span.clone(),
                    format!(
                        "the variant name \"{}\" is used twice; expected each variant to have its own name",
                        v.name
                    ),
                );
                continue;
            }
            out.push(v);
        }
    }
    out
}

/// Reads one `[[variant]]` table.
fn variant<'i>(
    table: DeTable<'i>,
    span: Range<usize>,
    error: &mut impl FnMut(Range<usize>, String),
) -> Option<VariantDef<'i>> {
    let mut sets_ok = true;
    for (k, _) in table.iter() {
        let key = k.get_ref().as_ref();
        if !VARIANT_KEYS.contains(&key) {
            let hint = did_you_mean(key, VARIANT_KEYS)
                .map(|m| format!("did you mean `{m}`? "))
                .unwrap_or_default();
            error(
                k.span(),
                format!(
                    "unknown key `{}` in a variant; {hint}expected one of: {}",
                    shorten(key, 40),
                    name_list(VARIANT_KEYS)
                ),
            );
        }
    }
    let name = match table.get("name").map(|n| (n.span(), n.get_ref())) {
        None => {
            error(
                span.clone(),
                "a variant has no `name`; expected `name = \"...\"`, which labels its rows in every output".to_string(),
            );
            None
        }
        Some((s, DeValue::String(n))) => {
            let problem = super::name::printable_problem(n).or_else(|| {
                (n.as_ref() == crate::run::BASE_VARIANT)
                    .then(|| "\"base\" is the file as written".to_string())
            });
            if let Some(problem) = problem {
                error(
                    s,
                    format!(
                        "the variant name {} cannot be used: {problem}; expected 1 to {} bytes of printable text other than \"base\"",
                        super::name::quoted(n),
                        super::name::MAX_NAME_BYTES
                    ),
                );
                None
            } else {
                Some(n.to_string())
            }
        }
        Some((s, _)) => {
            error(s, "`name` of a variant is not a string; expected a quoted name such as \"with-budget\"".to_string());
            None
        }
    };
    let mut sets = Vec::new();
    if let Some(set) = table.get("set") {
        match set.get_ref() {
            DeValue::Table(entries) => {
                for (k, v) in entries.iter() {
                    let key = k.get_ref().to_string();
                    if LISTS.contains(&key.as_str()) && matches!(v.get_ref(), DeValue::Table(_)) {
                        error(
                            k.span(),
                            format!(
                                "`set` key `{key}` holds a table: TOML reads unquoted dotted keys as nested tables; expected the whole path as one quoted key, like \"{key}.NAME.KEY\" = value"
                            ),
                        );
                        sets_ok = false;
                        continue;
                    }
                    sets.push((Spanned::new(k.span(), key), v.clone()));
                }
            }
            _ => {
                error(
                    set.span(),
                    "`set` is not a table; expected paths and values, like set = { \"service.db.replicas\" = 4 }".to_string(),
                );
                sets_ok = false;
            }
        }
    }
    let mut unsets = Vec::new();
    if let Some(unset) = table.get("unset") {
        match unset.get_ref() {
            DeValue::Array(items) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => unsets.push(Spanned::new(item.span(), s.to_string())),
                        _ => {
                            error(
                                item.span(),
                                "an `unset` entry is not a string; expected quoted paths, like unset = [\"client.web.retry_budget\"]".to_string(),
                            );
                            sets_ok = false;
                        }
                    }
                }
            }
            _ => {
                error(
                    unset.span(),
                    "`unset` is not a list; expected quoted paths, like unset = [\"client.web.retry_budget\"]".to_string(),
                );
                sets_ok = false;
            }
        }
    }
    Some(VariantDef {
        name: name.filter(|_| sets_ok)?,
        span,
        sets,
        unsets,
    })
}

/// Reads the `[sweep]` table: paths and their lists of values, in file order.
fn axes<'i>(
    value: Spanned<DeValue<'i>>,
    error: &mut impl FnMut(Range<usize>, String),
) -> Vec<Axis<'i>> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        error(
            span,
            "`sweep` is not a table; expected [sweep] with paths and lists of values, like \"client.web.arrival.rate_per_s\" = [200, 400]".to_string(),
        );
        return Vec::new();
    };
    let mut entries: Vec<_> = table.into_iter().collect();
    // Keys come back sorted by name; the file's order is the order of their positions.
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut axes = Vec::new();
    let mut points = 1usize;
    for (k, v) in entries {
        let path = Spanned::new(k.span(), k.get_ref().to_string());
        let vspan = v.span();
        match v.into_inner() {
            DeValue::Array(items) if !items.is_empty() => {
                points = points.saturating_mul(items.len());
                axes.push(Axis {
                    path,
                    values: items.into_iter().collect(),
                });
            }
            _ => error(
                vspan,
                format!(
                    "the sweep of `{}` is not a list of values; expected a non-empty list, like [200, 400, 800]",
                    shorten(path.get_ref(), 60)
                ),
            ),
        }
    }
    if points > MAX_SWEEP_POINTS {
        error(
            span,
            format!(
                "the sweep has {points} points (the product of its lists' lengths); expected at most {MAX_SWEEP_POINTS}"
            ),
        );
        return Vec::new();
    }
    axes
}

/// Applies `v`'s overrides to `doc`; each bad path is reported at the path.
pub(super) fn apply_variant<'i>(
    doc: &mut DeTable<'i>,
    v: &VariantDef<'i>,
    map: &SourceMap,
) -> Result<(), Vec<Diagnostic>> {
    let mut problems = Vec::new();
    for (p, value) in &v.sets {
        if let Err(m) = path::set(doc, p.get_ref(), value.clone(), p.span()) {
            problems.push(map.diagnostic(
                Some(p.span()),
                format!("in variant \"{}\", `set`: {m}", v.name),
            ));
        }
    }
    for p in &v.unsets {
        if let Err(m) = path::unset(doc, p.get_ref()) {
            problems.push(map.diagnostic(
                Some(p.span()),
                format!("in variant \"{}\", `unset`: {m}", v.name),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Sets each axis to its value at `point`; each bad path is reported at the path.
pub(super) fn apply_point<'i>(
    doc: &mut DeTable<'i>,
    axes: &[Axis<'i>],
    point: &[usize],
    map: &SourceMap,
) -> Result<(), Vec<Diagnostic>> {
    let mut problems = Vec::new();
    for (axis, &i) in axes.iter().zip(point) {
        let p = &axis.path;
        if let Err(m) = path::set(doc, p.get_ref(), axis.values[i].clone(), p.span()) {
            problems.push(map.diagnostic(Some(p.span()), format!("in `sweep`: {m}")));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A swept value as written, for output columns: a string's text, or the value's source
/// text (a number, a table).
pub(super) fn value_text(value: &Spanned<DeValue<'_>>, source: &str) -> String {
    match value.get_ref() {
        DeValue::String(s) => s.to_string(),
        _ => source
            .get(value.span())
            .map(str::trim)
            .unwrap_or_default()
            .to_string(),
    }
}

/// A swept value as a number, for chart axes: numbers as they are, durations in seconds.
pub(super) fn value_number(value: &Spanned<DeValue<'_>>) -> Option<f64> {
    match value.get_ref() {
        DeValue::Integer(i) => i.as_str().replace('_', "").parse().ok(),
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        DeValue::String(s) => parse_duration(s).ok().map(|d| d.as_nanos() as f64 / 1e9),
        _ => None,
    }
}

/// Rewrites a problem found in a variant (or at a sweep point) so that it names the
/// variant, and the overridden key when the problem lies in one of its values. A problem in
/// a swept value names the sweep only, so that it reads the same for every variant.
pub(super) fn annotate(
    d: Diagnostic,
    variant: Option<&VariantDef<'_>>,
    axes: &[Axis<'_>],
    point: &str,
    map: &SourceMap,
) -> Diagnostic {
    if d.message.starts_with("in variant") || d.message.starts_with("in `sweep`") {
        return d;
    }
    let inside = |span: Range<usize>| {
        let (start, end) = (map.position(span.start), map.position(span.end));
        (d.line, d.col) >= start && (d.line, d.col) <= end
    };
    let swept = axes.iter().find(|a| {
        let end = a.values.last().map_or(a.path.span().end, |v| v.span().end);
        inside(a.path.span().start..end)
    });
    let in_set = variant.and_then(|v| {
        v.sets
            .iter()
            .find(|(p, value)| inside(p.span().start..value.span().end))
    });
    let context = match (swept, variant, in_set) {
        (Some(_), _, _) => format!("in `sweep`, at {point}"),
        (None, Some(v), Some((p, _))) => format!("in variant \"{}\", `{}`", v.name, p.get_ref()),
        (None, Some(v), None) => format!(
            "in variant \"{}\" (declared at line {})",
            v.name,
            map.position(v.span.start).0
        ),
        (None, None, _) if !point.is_empty() => format!("at sweep point {point}"),
        (None, None, _) => return d,
    };
    let context = match (swept, variant, point.is_empty()) {
        (None, Some(_), false) => format!("{context}, at sweep point {point}"),
        _ => context,
    };
    Diagnostic {
        message: format!("{context}: {}", d.message),
        ..d
    }
}
