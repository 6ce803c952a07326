//! CSV rows with the line and column of every cell, for data files.

use super::DataError;

/// One cell: its text (surrounding spaces removed) and its 1-based column.
#[derive(Clone, Debug)]
pub(super) struct Cell {
    pub text: String,
    pub col: usize,
}

/// One non-blank, non-comment row.
#[derive(Clone, Debug)]
pub(super) struct Row {
    /// 1-based line.
    pub line: usize,
    pub cells: Vec<Cell>,
}

/// The rows of CSV `text` (comma-separated, fields optionally in double quotes), skipping
/// blank lines and lines starting with `#`.
pub(super) fn rows(text: &str) -> Result<Vec<Row>, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    // The byte where the line numbered `line` starts, walked forward record by record.
    let (mut cursor, mut line) = (0usize, 1usize);
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            DataError::at(line, 1, format!("this is not a CSV row: {e}"))
        })?;
        if !more {
            break;
        }
        let Some(pos) = record.position() else {
            continue;
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // The csv crate's position is where the previous record ended: skip the blank and
        // comment lines after it to reach this record's own line.
        let mut start = pos.byte() as usize;
        line += text.as_bytes()[cursor..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        while let Some(raw) = text[start..].split_inclusive('\n').next()
            && (raw.trim().is_empty() || raw.starts_with('#'))
            && start + raw.len() < text.len()
        {
            start += raw.len();
            line += 1;
        }
        cursor = start;
        let raw = text[start..].lines().next().unwrap_or("");
        let starts = field_columns(raw);
        let cells = record
            .iter()
            .enumerate()
            .map(|(i, c)| Cell {
                text: c.trim().to_string(),
                col: starts.get(i).copied().unwrap_or(1),
            })
            .collect();
        out.push(Row { line, cells });
    }
    Ok(out)
}

/// The 1-based character column where each field of a raw CSV line starts (after any
/// spaces and opening quote).
fn field_columns(raw: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut in_quotes = false;
    let mut at_field_start = true;
    for (col, c) in raw.chars().enumerate() {
        let col = col + 1;
        if at_field_start && (c == ' ' || c == '\t' || (c == '"' && !in_quotes)) {
            if c == '"' {
                in_quotes = true;
            }
            continue;
        }
        if at_field_start {
            starts.push(col);
            at_field_start = false;
        }
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                at_field_start = true;
            }
            _ => {}
        }
    }
    if at_field_start {
        starts.push(raw.chars().count() + 1);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_lines_and_columns_and_skip_blanks_and_comments() {
        let rows = rows("# exported\ntime,rps\n\n\"0\", 12.5\n60,\"1,000\"\n").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].cells[0].text, "0");
        assert_eq!(rows[1].cells[1].col, 6);
        assert_eq!(rows[2].cells[1].text, "1,000");
        assert_eq!(rows[2].cells[1].col, 5);
    }
}
