//! A latency shape: one column of samples, or cumulative histogram buckets (`le`, count)
//! as Prometheus exports a `_bucket` series.

use super::DataError;
use super::table::{Cell, rows};
use crate::scenario::units::parse_duration;

/// What a latency file holds, in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum LatencyData {
    /// Observed latencies, in file order.
    Samples(Vec<f64>),
    /// Cumulative buckets: (upper bound, observations at or below it), increasing bounds;
    /// the last bound may be infinite (`+Inf`).
    Buckets(Vec<(f64, f64)>),
}

/// Reads latencies from CSV `text`. Plain numbers are in `unit_ns` nanoseconds (seconds,
/// 1e9, as Prometheus writes them, unless the scenario says `unit`); values may also carry
/// their own unit, like `"4.2ms"`.
///
/// A header whose first column is `le` makes the file histogram buckets: each row an upper
/// bound (`+Inf` for the last) and the cumulative count at or below it. Otherwise the file
/// is samples, one per row in the first column, after an optional header.
pub fn read(text: &str, unit_ns: f64) -> Result<LatencyData, DataError> {
    let rows = rows(text)?;
    let Some(first) = rows.first() else {
        return Err(DataError::whole(
            "the file has no latencies; expected one sample per line (like 0.0042 or \"4.2ms\"), or a header `le,count` and cumulative buckets",
        ));
    };
    let header = value(&first.cells[0], unit_ns).is_err();
    let buckets = header && first.cells[0].text.eq_ignore_ascii_case("le");
    let data = rows.iter().skip(usize::from(header));
    if !buckets {
        let mut samples = Vec::new();
        for row in data {
            if let Some(extra) = row.cells.get(1) {
                return Err(DataError::at(
                    row.line,
                    extra.col,
                    "this row has more than one column; expected one latency per line, or a header `le,count` for histogram buckets",
                ));
            }
            let v = value(&row.cells[0], unit_ns)
                .map_err(|m| DataError::at(row.line, row.cells[0].col, m))?;
            samples.push(v);
        }
        if samples.is_empty() {
            return Err(DataError::whole(
                "the file has a header but no latencies; expected one sample per line",
            ));
        }
        return Ok(LatencyData::Samples(samples));
    }
    let mut out: Vec<(f64, f64)> = Vec::new();
    for row in data {
        if row.cells.len() != 2 {
            return Err(DataError::at(
                row.line,
                row.cells[0].col,
                format!(
                    "this row has {} columns; expected two: the bucket's upper bound `le`, then its cumulative count",
                    row.cells.len()
                ),
            ));
        }
        let (le_cell, count_cell) = (&row.cells[0], &row.cells[1]);
        let le = match le_cell
            .text
            .trim_start_matches('+')
            .to_ascii_lowercase()
            .as_str()
        {
            "inf" => f64::INFINITY,
            _ => value(le_cell, unit_ns).map_err(|m| DataError::at(row.line, le_cell.col, m))?,
        };
        let count: f64 = count_cell
            .text
            .parse()
            .ok()
            .filter(|c: &f64| c.is_finite() && *c >= 0.0)
            .ok_or_else(|| {
                DataError::at(
                    row.line,
                    count_cell.col,
                    format!(
                        "\"{}\" is not a count; expected the number of observations at or below `le`, zero or more",
                        crate::scenario::diagnostic::shorten(&count_cell.text, 40)
                    ),
                )
            })?;
        if let Some(&(prev_le, prev_count)) = out.last() {
            if le <= prev_le {
                return Err(DataError::at(
                    row.line,
                    le_cell.col,
                    "this bound is not above the previous row's; expected buckets in increasing `le`",
                ));
            }
            if count < prev_count {
                return Err(DataError::at(
                    row.line,
                    count_cell.col,
                    format!(
                        "the count {count} is below the previous bucket's {prev_count}; expected cumulative counts, as Prometheus `le` buckets are"
                    ),
                ));
            }
        }
        out.push((le, count));
    }
    match out.last() {
        None => Err(DataError::whole(
            "the file has a header `le` but no buckets; expected rows like `0.005,120`",
        )),
        Some(&(_, total)) if total <= 0.0 => Err(DataError::whole(
            "every bucket is empty; expected a histogram with observations",
        )),
        _ if out.iter().all(|(le, _)| le.is_infinite()) => Err(DataError::whole(
            "the only bucket is `+Inf`; expected buckets with finite upper bounds",
        )),
        _ => Ok(LatencyData::Buckets(out)),
    }
}

/// A latency cell in nanoseconds: a number in `unit_ns`, or a duration with its unit.
fn value(cell: &Cell, unit_ns: f64) -> Result<f64, String> {
    let ns = match cell.text.parse::<f64>() {
        Ok(x) => x * unit_ns,
        Err(_) => parse_duration(&cell.text)
            .map(|d| d.as_nanos() as f64)
            .map_err(|_| {
                format!(
                    "\"{}\" is not a latency; expected a number (in the scenario's `unit`, seconds by default) or a duration like \"4.2ms\"",
                    crate::scenario::diagnostic::shorten(&cell.text, 40)
                )
            })?,
    };
    if !ns.is_finite() || ns < 0.0 {
        return Err(format!(
            "the latency {} is negative or not finite; expected zero or more",
            cell.text
        ));
    }
    Ok(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_read_in_seconds_or_with_units() {
        let d = read("latency\n0.004\n\"12ms\"\n", 1e9).unwrap();
        assert_eq!(d, LatencyData::Samples(vec![4e6, 12e6]));
        assert_eq!(read("4\n", 1e6).unwrap(), LatencyData::Samples(vec![4e6]));
    }

    #[test]
    fn prometheus_buckets_read_cumulatively() {
        let d = read("le,count\n0.005,10\n0.01,30\n+Inf,31\n", 1e9).unwrap();
        assert_eq!(
            d,
            LatencyData::Buckets(vec![(5e6, 10.0), (1e7, 30.0), (f64::INFINITY, 31.0)])
        );
        let e = read("le,count\n0.005,10\n0.01,3\n", 1e9).unwrap_err();
        assert_eq!((e.line, e.col), (3, 6));
        assert!(e.message.contains("cumulative"), "{e}");
    }

    #[test]
    fn bad_cells_are_located() {
        let e = read("0.1\nslow\n", 1e9).unwrap_err();
        assert_eq!((e.line, e.col), (2, 1));
        let e = read("0.1,2\n", 1e9).unwrap_err();
        assert_eq!((e.line, e.col), (1, 5));
    }
}
