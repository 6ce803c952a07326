//! Errors in scenario files: each names `FILE:LINE:COL`, what is wrong and what is expected.

use std::fmt;
use std::ops::Range;

/// One problem found in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line; 0 when the problem concerns the file as a whole.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong and what is expected.
    pub message: String,
    /// The offending source line, shown under the message.
    pub source_line: Option<String>,
}

/// Everything wrong with one scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    /// The problems, in the order they appear in the file.
    pub diagnostics: Vec<Diagnostic>,
}

impl ScenarioError {
    /// An error about the file as a whole (unreadable, empty, binary, too large).
    pub fn whole_file(file: &str, line: usize, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_string(),
            diagnostics: vec![Diagnostic {
                line,
                col: usize::from(line > 0),
                message: message.into(),
                source_line: None,
            }],
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if d.line == 0 {
                write!(f, "{}: {}", self.file, d.message)?;
            } else {
                write!(f, "{}:{}:{}: {}", self.file, d.line, d.col, d.message)?;
            }
            if let Some(src) = &d.source_line {
                let gutter = d.line.to_string().len();
                write!(f, "\n {:gutter$} |\n {} | {}", "", d.line, src)?;
                write!(f, "\n {:gutter$} | {:>col$}", "", "^", col = d.col)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Turns byte offsets of a source text into lines and columns.
pub struct SourceMap<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    /// Indexes the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceMap { text, line_starts }
    }

    /// The 1-based (line, column) of byte `offset`; columns count characters.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let col = self.text[start..offset].chars().count() + 1;
        (line, col)
    }

    /// A diagnostic pointing at the start of `span`.
    pub fn diagnostic(&self, span: Option<Range<usize>>, message: impl Into<String>) -> Diagnostic {
        let (line, col) = span.map_or((1, 1), |s| self.position(s.start));
        let source_line = self
            .text
            .lines()
            .nth(line - 1)
            .map(|l| l.trim_end_matches('\r').to_string());
        Diagnostic {
            line,
            col,
            message: message.into(),
            source_line,
        }
    }
}

/// The known name closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let map = SourceMap::new("a = 1\nbé = \"x\"\n");
        assert_eq!(map.position(0), (1, 1));
        assert_eq!(map.position(6), (2, 1));
        // "bé = " is 6 bytes but 5 characters.
        assert_eq!(map.position(12), (2, 6));
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["service_time", "replicas", "concurrency"];
        assert_eq!(did_you_mean("servce_time", known), Some("service_time"));
        assert_eq!(did_you_mean("zzz", known), None);
    }
}
