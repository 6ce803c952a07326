//! Data files a scenario names with `file = "..."`: read relative to the scenario file, and
//! their problems reported under the `file` key with the data file's own line and column.

use super::Checker;
use crate::scenario::DataFile;
use crate::telemetry::{DataError, read_data_file};
use std::ops::Range;
use std::path::{Component, Path};
use toml::Spanned;

impl Checker<'_> {
    /// The text of the data file `name` names, with the path shown in messages; `None`
    /// (with the problem recorded) when it cannot be read.
    pub(super) fn data_file(&mut self, name: &Spanned<String>) -> Option<(String, String)> {
        if name.get_ref().trim().is_empty() {
            self.error(
                name.span(),
                "`file` is empty; expected the path of a CSV file, relative to the scenario file",
            );
            return None;
        }
        let written = Path::new(name.get_ref());
        let inside = written
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside {
            self.error(
                name.span(),
                format!(
                    "`file` is \"{}\", outside the scenario's folder; expected a relative path without `..` (an output folder keeps a copy of each data file beside its scenario.toml, at the same path)",
                    crate::scenario::diagnostic::shorten(name.get_ref(), 60)
                ),
            );
            return None;
        }
        // As kept in an output folder: without `.` parts, `/` between the others.
        let kept: Vec<String> = written
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_string_lossy().to_string()),
                _ => None,
            })
            .collect();
        if kept.len() == 1 && is_output_name(&kept[0]) {
            self.error(
                name.span(),
                format!(
                    "`file` is \"{}\", a name resim gives its own outputs; expected another name, or the file in a subfolder such as \"data/{}\" (an output folder keeps a copy of each data file beside its results)",
                    kept[0], kept[0]
                ),
            );
            return None;
        }
        let path = self.base.join(written);
        let shown = path.display().to_string();
        match read_data_file(&path) {
            Ok(text) => {
                self.data_files.push(DataFile {
                    written: kept.join("/"),
                    path,
                });
                Some((shown, text))
            }
            Err(e) => {
                self.data_error(name.span(), &shown, &e);
                None
            }
        }
    }

    /// Records a problem of the data file shown as `shown`, under the `file` key at `span`.
    pub(super) fn data_error(&mut self, span: Range<usize>, shown: &str, e: &DataError) {
        self.error(span, format!("in the data file {}", e.located(shown)));
    }
}

/// True for the names of the files `resim run` writes at the top of an output folder.
fn is_output_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    crate::report::csv::RUN_FILES.contains(&lower.as_str())
        || [
            "latency_histogram.csv",
            "aggregate.csv",
            "manifest.json",
            "scenario.toml",
            "report.html",
        ]
        .contains(&lower.as_str())
        || [".png", ".svg"].iter().any(|x| lower.ends_with(x))
}
