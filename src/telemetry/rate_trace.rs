//! A load curve: rows of (time, requests per second), as a dashboard exports a rate query.

use super::DataError;
use super::table::{Row, rows};
use super::timestamp::parse_time;

/// One point of a load curve: nanoseconds since the first row, and requests per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RatePoint {
    /// Time since the first row, ns.
    pub at: u64,
    /// Requests per second at that time.
    pub rate_per_s: f64,
}

/// Reads a load curve from CSV `text`: the first column is the time, the second the rate.
///
/// - An optional header row (a first row whose time is not a time) is skipped, and so are
///   blank lines and lines starting with `#`.
/// - Times are seconds (Unix timestamps, or milliseconds above 1e11), durations like
///   `"90s"`, or dates and times like `2026-11-30T14:05:00Z`; the first row is time 0 of
///   the run, and times must increase.
/// - An empty rate, `NaN` or `null` (a gap in the series) skips the row: the curve is then
///   linear across the gap (and flat at the first rate before it, for a leading gap).
pub fn read(text: &str) -> Result<Vec<RatePoint>, DataError> {
    let rows = rows(text)?;
    let mut points = Vec::new();
    let mut origin: Option<i128> = None;
    let mut last: Option<(i128, &Row)> = None;
    for (i, row) in rows.iter().enumerate() {
        let time_cell = &row.cells[0];
        let time = match parse_time(&time_cell.text) {
            Ok(t) => t,
            Err(_) if i == 0 => continue, // a header
            Err(e) => return Err(DataError::at(row.line, time_cell.col, e)),
        };
        if row.cells.len() != 2 {
            return Err(DataError::at(
                row.line,
                row.cells.get(2).map_or(time_cell.col, |c| c.col),
                format!(
                    "this row has {} columns; expected two: the time, then requests per second (export one series)",
                    row.cells.len()
                ),
            ));
        }
        // The first row with a time is time 0, even when its rate is a gap.
        origin.get_or_insert(time);
        let rate_cell = &row.cells[1];
        let rate = match rate_cell.text.to_ascii_lowercase().as_str() {
            "" | "nan" | "null" | "none" => continue,
            t => t.parse::<f64>().map_err(|_| {
                DataError::at(
                    row.line,
                    rate_cell.col,
                    format!(
                        "\"{}\" is not a number; expected requests per second, like 120.5",
                        crate::scenario::diagnostic::shorten(&rate_cell.text, 40)
                    ),
                )
            })?,
        };
        if !rate.is_finite() || rate < 0.0 {
            return Err(DataError::at(
                row.line,
                rate_cell.col,
                format!("the rate is {rate}; expected requests per second, zero or more"),
            ));
        }
        if let Some((previous, previous_row)) = last
            && time <= previous
        {
            return Err(DataError::at(
                row.line,
                time_cell.col,
                format!(
                    "this time is not after the time on line {}; expected rows in increasing time",
                    previous_row.line
                ),
            ));
        }
        let origin = *origin.get_or_insert(time);
        let at = time
            .checked_sub(origin)
            .and_then(|d| u64::try_from(d).ok())
            .ok_or_else(|| {
            DataError::at(
                row.line,
                time_cell.col,
                    "this time is more than 500 years after the first row; expected a shorter trace",
                )
            })?;
        last = Some((time, row));
        points.push(RatePoint {
            at,
            rate_per_s: rate,
        });
    }
    if points.is_empty() {
        return Err(DataError::whole(
            "the file has no rows of (time, requests per second); expected lines like `2026-11-30T14:05:00Z,120.5` or `90s,120.5`",
        ));
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grafana_export_reads_relative_to_its_first_row() {
        let text = "\"Time\",\"rps\"\n\"2026-11-30 14:05:00\",100\n\"2026-11-30 14:05:15\",\n\"2026-11-30 14:05:30\",130.5\n";
        let p = read(text).unwrap();
        assert_eq!(
            p,
            vec![
                RatePoint {
                    at: 0,
                    rate_per_s: 100.0
                },
                RatePoint {
                    at: 30_000_000_000,
                    rate_per_s: 130.5
                },
            ]
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let e = read("time,rps\n0,10\n15,ten\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 4));
        assert!(e.message.contains("not a number"), "{e}");
        let e = read("0s,1\n30s,2\n20s,3\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 1));
        assert!(e.message.contains("not after the time on line 2"), "{e}");
        let e = read("0,1,2\n").unwrap_err();
        assert_eq!((e.line, e.col), (1, 5));
        // A leading gap keeps the first row as time 0.
        let p = read("0s,\n60s,100\n").unwrap();
        assert_eq!(
            p,
            vec![RatePoint {
                at: 60_000_000_000,
                rate_per_s: 100.0
            }]
        );
        assert!(
            read("2026-01-0\u{e9},5\n1,2\n").is_ok(),
            "a non-ASCII header is a header"
        );
        let e = read("0,1\n2026-01-0\u{e9},5\n").unwrap_err();
        assert!(e.message.contains("not a"), "{e}");
        let e = read("0,-1\n").unwrap_err();
        assert!(e.message.contains("zero or more"), "{e}");
        assert_eq!(read("time,rps\n").unwrap_err().line, 0);
    }
}
