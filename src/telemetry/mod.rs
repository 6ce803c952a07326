//! Telemetry in: load curves and latency shapes read from the CSV files dashboards export
//! (Prometheus, Grafana), turned into plain data the scenario validation builds arrivals and
//! distributions from.
//!
//! Every problem names the line and column in the data file; the scenario validation puts
//! it under the position of the `file` key that named the file, so a message points into
//! both files.

mod table;
mod timestamp;

pub mod latency;
pub mod rate_trace;

use std::fmt;
use std::path::Path;

/// Largest data file read, in bytes (a day of one-second rows is about 2 MB).
pub const MAX_DATA_BYTES: u64 = 64 * 1024 * 1024;

/// A problem at a line and column of a data file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    /// 1-based line; 0 when the problem concerns the file as a whole.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong and what is expected.
    pub message: String,
}

impl DataError {
    fn at(line: usize, col: usize, message: impl Into<String>) -> Self {
        DataError {
            line,
            col,
            message: message.into(),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        DataError::at(0, 0, message)
    }

    /// The error as `FILE:LINE:COL: message`, naming the data file as `shown`.
    pub fn located(&self, shown: &str) -> String {
        if self.line == 0 {
            format!("{shown}: {}", self.message)
        } else {
            format!("{shown}:{}:{}: {}", self.line, self.col, self.message)
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.located("data file"))
    }
}

/// Reads the text of a data file, refusing what is not a readable UTF-8 file of at most
/// [`MAX_DATA_BYTES`].
pub fn read_data_file(path: &Path) -> Result<String, DataError> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| {
        DataError::whole(format!(
            "cannot read the data file: {e}; expected a CSV file, with a path relative to the scenario file"
        ))
    })?;
    if meta.is_dir() {
        return Err(DataError::whole(
            "is a directory; expected a CSV file, with a path relative to the scenario file",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_DATA_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| DataError::whole(format!("cannot read the data file: {e}")))?;
    if bytes.len() as u64 > MAX_DATA_BYTES {
        return Err(DataError::whole(format!(
            "the data file has more than {MAX_DATA_BYTES} bytes; expected at most 64 MiB (aggregate it to coarser rows)"
        )));
    }
    // Grafana's CSV downloads may start with a byte-order mark.
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let prefix = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + prefix.iter().filter(|&&b| b == b'\n').count();
        DataError::at(
            line,
            1,
            "the data file is not UTF-8 text; expected a CSV file as a dashboard exports it",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_dropped_and_bad_bytes_are_located() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let bom = dir.path().join("bom.csv");
        std::fs::write(&bom, b"\xEF\xBB\xBFle,count\n0.1,3\n").expect("written");
        assert!(read_data_file(&bom).expect("read").starts_with("le,"));
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, b"0,1\n1,\xFF\n").expect("written");
        let e = read_data_file(&bad).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            read_data_file(dir.path())
                .unwrap_err()
                .message
                .contains("directory")
        );
    }
}
