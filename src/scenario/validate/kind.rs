//! Tables that choose a variant with `kind`: the kind checked against the known kinds, and every key present against the keys that kind takes.

use super::{Checker, article};
use crate::scenario::diagnostic::{did_you_mean, name_list, shorten};
use std::ops::Range;
use toml::Spanned;

impl Checker<'_> {
    /// Checks `kind`, required in the `what` table at `table`, against `kinds` (each with the
    /// keys it takes) and every key in `present` (with its span when written) against the
    /// kind's keys. Returns the kind when all of it is right.
    pub(super) fn kind<'k>(
        &mut self,
        kind: &Option<Spanned<String>>,
        table: &Range<usize>,
        kinds: &[(&'k str, &[&str])],
        present: &[(&str, Option<Range<usize>>)],
        what: &str,
    ) -> Option<&'k str> {
        let names: Vec<&str> = kinds.iter().map(|(k, _)| *k).collect();
        let kind = self.required(
            kind,
            table,
            "kind",
            &format!("this {what}"),
            &format!("`kind = \"...\"` with one of: {}", name_list(&names)),
        )?;
        let Some((name, keys)) = kinds.iter().find(|(k, _)| k == kind.get_ref()) else {
            let hint = did_you_mean(kind.get_ref(), names.iter().copied())
                .map(|k| format!("did you mean \"{k}\"? "))
                .unwrap_or_default();
            self.error(
                kind.span(),
                format!(
                    "unknown {what} kind \"{}\"; {hint}expected one of: {}",
                    shorten(kind.get_ref(), 40),
                    name_list(&names)
                ),
            );
            return None;
        };
        let mut ok = true;
        for (key, span) in present {
            if let Some(span) = span
                && !keys.contains(key)
            {
                ok = false;
                self.error(
                    span.clone(),
                    format!(
                        "`{key}` does not apply to {} {name} {what}; expected only the keys it takes: {}",
                        article(name),
                        name_list(keys.iter())
                    ),
                );
            }
        }
        ok.then_some(*name)
    }
}
