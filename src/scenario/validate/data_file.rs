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
        let path = self.base.join(written);
        let shown = path.display().to_string();
        match read_data_file(&path) {
            Ok(text) => {
                self.data_files.push(DataFile {
                    written: name.get_ref().clone(),
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
