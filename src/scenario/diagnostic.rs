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
    /// The offending source line (or, for a long line, the part around `col`), shown under
    /// the message.
    pub source_line: Option<String>,
    /// 1-based column of the caret under `source_line`.
    pub caret: usize,
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
                caret: 0,
            }],
        }
    }
}

/// Most problems of one file shown; the rest are counted in one line.
pub const MAX_SHOWN: usize = 100;

impl fmt::Display for ScenarioError {
    /// The first [`MAX_SHOWN`] problems, then a line with the number of the others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().take(MAX_SHOWN).enumerate() {
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
                write!(f, "\n {:gutter$} | {:>col$}", "", "^", col = d.caret.max(1))?;
            }
        }
        let rest = self.diagnostics.len().saturating_sub(MAX_SHOWN);
        if rest > 0 {
            let errors = if rest == 1 { "error" } else { "errors" };
            write!(
                f,
                "\n... and {} more {errors} in {}; fix these first",
                thousands(rest as u64),
                self.file
            )?;
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
        let col = without_bom(&self.text[start..offset]).chars().count() + 1;
        (line, col)
    }

    /// The text of `span` (empty when it lies outside the text).
    pub fn source(&self, span: Range<usize>) -> &'a str {
        self.text.get(span).unwrap_or_default()
    }

    /// A diagnostic pointing at the start of `span`.
    pub fn diagnostic(&self, span: Option<Range<usize>>, message: impl Into<String>) -> Diagnostic {
        let (line, col) = span.map_or((1, 1), |s| self.position(s.start));
        let start = self.line_starts[line - 1];
        let end = self.line_starts.get(line).map_or(self.text.len(), |&e| e);
        let full = without_bom(self.text[start..end].trim_end_matches(['\n', '\r']));
        let (source_line, caret) = window(full, col);
        Diagnostic {
            line,
            col,
            message: message.into(),
            source_line: Some(source_line),
            caret,
        }
    }
}

/// Characters of a long source line shown before the caret, and in all.
const WINDOW_BEFORE: usize = 80;
const WINDOW: usize = 160;

/// The part of `line` shown under a message pointing at column `col`, and the caret's
/// column in it: the whole line when it is short, else about 160 characters around `col`.
fn window(line: &str, col: usize) -> (String, usize) {
    let len = line.chars().count();
    if len <= WINDOW {
        return (line.to_string(), col);
    }
    let first = col.saturating_sub(1).saturating_sub(WINDOW_BEFORE);
    let shown: String = line.chars().skip(first).take(WINDOW).collect();
    let (prefix, caret) = if first > 0 {
        ("...", col - first + 3)
    } else {
        ("", col)
    };
    let suffix = if first + WINDOW < len { "..." } else { "" };
    (format!("{prefix}{shown}{suffix}"), caret)
}

/// `text` without a leading byte-order mark: an editor's invisible mark at the start of
/// the file takes no column.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A number for a message: as Rust writes it for everyday sizes, in scientific notation
/// when huge or tiny (`1e308` rather than 309 digits).
pub fn number(v: f64) -> String {
    let size = v.abs();
    if v.is_finite() && size != 0.0 && !(1e-4..1e15).contains(&size) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `text` cut to `max` characters (with "..." when cut), for quoting user input in messages.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(max).collect::<String>())
    }
}

/// Names a list in a message shows before it says how many more there are.
const LIST_SHOWN: usize = 8;
/// Characters of one name shown in a list.
const LIST_NAME_CHARS: usize = 64;

/// `names` joined with ", " for a message ("expected one of: ..."), each cut to 64
/// characters; a list longer than 10 shows its first 8 names, then "... and N more".
pub fn name_list<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    let mut shown = Vec::new();
    let mut more = 0usize;
    for (i, n) in names.into_iter().enumerate() {
        if i < LIST_SHOWN + 2 {
            shown.push(shorten(n.as_ref(), LIST_NAME_CHARS));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        more += shown.len() - LIST_SHOWN;
        shown.truncate(LIST_SHOWN);
        shown.push(format!("... and {} more", thousands(more as u64)));
    }
    shown.join(", ")
}

/// `n` with a comma between each group of three digits: 7997 as "7,997".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The known name closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // A long word is no typo, and comparing it would take long.
    if word.len() > 64 {
        return None;
    }
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
    fn a_byte_order_mark_takes_no_column() {
        let map = SourceMap::new("\u{feff}name = 5\nx = 1\n");
        // "name = " starts after the mark's 3 bytes; `5` is the 8th column a user sees.
        assert_eq!(map.position(10), (1, 8));
        let d = map.diagnostic(Some(10..11), "here");
        assert_eq!(d.source_line.as_deref(), Some("name = 5"));
        assert_eq!(map.position(12), (2, 1));
    }

    #[test]
    fn long_lines_are_shown_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let map = SourceMap::new(&line);
        let d = map.diagnostic(Some(500..501), "here");
        assert_eq!(d.col, 501);
        let shown = d.source_line.expect("a source line");
        assert!(
            shown.starts_with("...") && shown.ends_with("..."),
            "{shown}"
        );
        assert_eq!(shown.chars().nth(d.caret - 1), Some('X'));
        let d = map.diagnostic(Some(2..3), "near the start");
        assert_eq!(d.caret, 3);
    }

    #[test]
    fn short_lists_are_shown_whole_and_long_ones_cut() {
        assert_eq!(name_list(["a", "b", "c"]), "a, b, c");
        let ten: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        assert_eq!(name_list(&ten), ten.join(", "));
        let many: Vec<String> = (0..8000).map(|i| format!("s{i}")).collect();
        assert_eq!(
            name_list(&many),
            "s0, s1, s2, s3, s4, s5, s6, s7, ... and 7,992 more"
        );
        let long = "x".repeat(100);
        assert_eq!(name_list([long.as_str()]), format!("{}...", "x".repeat(64)));
        assert_eq!(name_list(Vec::<&str>::new()), "");
    }

    #[test]
    fn at_most_a_hundred_problems_are_shown() {
        let d = Diagnostic {
            line: 3,
            col: 1,
            message: "bad; expected good".to_string(),
            source_line: None,
            caret: 0,
        };
        let e = ScenarioError {
            file: "f.toml".to_string(),
            diagnostics: vec![d; 3050],
        };
        let text = e.to_string();
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("f.toml:3:1:"))
                .count(),
            100
        );
        assert!(
            text.ends_with("\n... and 2,950 more errors in f.toml; fix these first"),
            "{text}"
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2950), "2,950");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["service_time", "replicas", "concurrency"];
        assert_eq!(did_you_mean("servce_time", known), Some("service_time"));
        assert_eq!(did_you_mean("zzz", known), None);
    }
}
