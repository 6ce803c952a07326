//! A study: everything one scenario file asks to run. The scenario as written (`base`), its
//! `[[variant]]`s and its `[sweep]` points, expanded into cells, each a whole validated
//! scenario.

use super::Scenario;
use super::diagnostic::{did_you_mean, name_list};

/// One value of a swept path.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepValue {
    /// As written: a string's text ("8ms"), or a number's or table's source text ("400").
    pub text: String,
    /// As a number when it is one (durations in seconds), for chart axes.
    pub number: Option<f64>,
}

/// One variant at one sweep point.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The variant's name; `base` for the file as written.
    pub variant: String,
    /// Index into [`Study::points`].
    pub point: usize,
    /// The scenario with the variant's overrides and the point's values applied.
    pub scenario: Scenario,
}

/// What one scenario file asks to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Study {
    /// The scenario as written, without variants or sweep values applied.
    pub base: Scenario,
    /// The variants, `base` first, then in file order.
    pub variants: Vec<String>,
    /// The swept paths, in file order (empty without a `[sweep]`).
    pub sweep_paths: Vec<String>,
    /// The sweep points, one value per swept path; a single empty point without a sweep.
    pub points: Vec<Vec<SweepValue>>,
    /// Every (variant, point), variant-major: each point of `base`, then of the next variant.
    pub cells: Vec<Cell>,
    /// What the file promises about the results (`[expect]`).
    pub expectations: super::expect::Expectations,
}

impl Study {
    /// Every data file the study's cells read, once each, sorted by the path as written.
    pub fn data_files(&self) -> Vec<super::DataFile> {
        let mut all: Vec<super::DataFile> = std::iter::once(&self.base)
            .chain(self.cells.iter().map(|c| &c.scenario))
            .flat_map(|s| s.data_files.iter().cloned())
            .collect();
        all.sort();
        all.dedup_by(|a, b| a.written == b.written);
        all
    }

    /// The swept values of `cell` as written, one per swept path.
    pub fn point_text(&self, cell: &Cell) -> Vec<String> {
        self.points[cell.point]
            .iter()
            .map(|v| v.text.clone())
            .collect()
    }

    /// The message for `name`, which is none of the study's variants: the closest one and
    /// the list.
    pub fn no_variant(&self, name: &str) -> String {
        let hint = did_you_mean(name, self.variants.iter().map(String::as_str))
            .map(|m| format!("did you mean \"{m}\"? "))
            .unwrap_or_default();
        format!(
            "no variant \"{name}\" in the scenario; {hint}expected one of: {}",
            name_list(&self.variants)
        )
    }

    /// The message for sweep point `point`, which the study does not have (`--point`
    /// counts from 0).
    pub fn no_point(&self, point: usize) -> String {
        if self.sweep_paths.is_empty() {
            return format!(
                "no sweep point {point}: the scenario has no [sweep]; expected no --point, or --point 0"
            );
        }
        let n = self.points.len();
        format!(
            "no sweep point {point}; expected --point from 0 to {}, one of the scenario's {n} sweep points",
            n - 1
        )
    }

    /// Keeps only the variants named in `names` (in the file's order); the error names an
    /// unknown variant, with the closest known name and the list.
    pub fn select(&mut self, names: &[String]) -> Result<(), String> {
        if names.is_empty() {
            return Ok(());
        }
        if let Some(n) = names.iter().find(|n| !self.variants.contains(n)) {
            return Err(self.no_variant(n));
        }
        self.variants.retain(|v| names.contains(v));
        self.cells.retain(|c| names.contains(&c.variant));
        Ok(())
    }
}
