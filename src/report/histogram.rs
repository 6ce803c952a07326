//! `latency_histogram.csv`: each cell's latency histogram of successful requests, all its
//! seeds merged. Bins of runs add up exactly, so shards merge without loss and the latency
//! distribution chart is drawn from every request, not a sample.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the merged histograms.
pub const HISTOGRAM_FILE: &str = "latency_histogram.csv";

/// A histogram as (highest latency of the bin in ns) -> count.
pub type Bins = BTreeMap<u64, u64>;

/// Adds a run's bins into `into`.
pub fn add(into: &mut Bins, bins: &[(u64, u64)]) {
    for &(value, count) in bins {
        *into.entry(value).or_insert(0) += count;
    }
}

/// Writes `latency_histogram.csv` into `dir`: for each cell in order (its variant and sweep
/// point as labels), its non-empty bins in ascending order.
pub fn write(
    dir: &Path,
    sweep_paths: &[String],
    cells: &[(String, Vec<String>, &Bins)],
) -> std::io::Result<PathBuf> {
    let path = dir.join(HISTOGRAM_FILE);
    let mut w = csv::Writer::from_writer(super::atomic::AtomicFile::create(&path)?);
    let header = super::csv::header(&["variant", "latency_ns", "count"], sweep_paths);
    w.write_record(&header).map_err(std::io::Error::other)?;
    for (variant, point, bins) in cells {
        for (value, count) in bins.iter() {
            let mut record = vec![variant.clone()];
            record.extend(point.iter().cloned());
            record.push(value.to_string());
            record.push(count.to_string());
            w.write_record(&record).map_err(std::io::Error::other)?;
        }
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .commit()
}

/// Reads `latency_histogram.csv` from `dir`: (variant, sweep point) -> bins.
pub fn read(dir: &Path, sweep: usize) -> Result<BTreeMap<(String, Vec<String>), Bins>, String> {
    let path = dir.join(HISTOGRAM_FILE);
    let shown = path.display().to_string();
    let problem = |e: csv::Error| super::csv::read_error(&shown, HISTOGRAM_FILE, &e);
    let mut r = csv::Reader::from_path(&path).map_err(problem)?;
    // The header first, so that an error in the first row names its line.
    r.headers().map_err(problem)?;
    let mut out: BTreeMap<(String, Vec<String>), Bins> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    while r.read_record(&mut record).map_err(problem)? {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != sweep + 3 {
            return Err(format!(
                "{shown}:{line}: {} fields; expected {}: `variant`, {}`latency_ns` and `count`",
                record.len(),
                sweep + 3,
                if sweep == 0 {
                    String::new()
                } else {
                    format!("the {sweep} swept path(s) that manifest.json lists, ")
                }
            ));
        }
        let number = |i: usize| -> Result<u64, String> {
            let column = if i == sweep + 1 {
                "latency_ns"
            } else {
                "count"
            };
            record[i].parse().map_err(|_| {
                format!(
                    "{shown}:{line}: `{}` in column `{column}` is not a whole number; expected a whole number of 0 or more, like 42",
                    &record[i]
                )
            })
        };
        let key = (
            record[0].to_string(),
            (1..=sweep).map(|i| record[i].to_string()).collect(),
        );
        let (value, count) = (number(sweep + 1)?, number(sweep + 2)?);
        *out.entry(key).or_default().entry(value).or_insert(0) += count;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file with the wrong number of columns for the manifest's sweep (a row as long as its
    /// header) names the columns expected, and mentions swept paths only when there are some.
    #[test]
    fn a_row_of_the_wrong_length_says_which_columns_are_expected() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join(HISTOGRAM_FILE);
        let shown = file.display();
        std::fs::write(&file, "variant,rate,latency_ns,count\nbase,5,1,2\n").expect("written");
        assert_eq!(
            read(dir.path(), 0).expect_err("a swept file, no sweep"),
            format!("{shown}:2: 4 fields; expected 3: `variant`, `latency_ns` and `count`")
        );
        std::fs::write(&file, "variant,latency_ns,count\nbase,1,2\n").expect("written");
        assert_eq!(
            read(dir.path(), 1).expect_err("a sweep, an unswept file"),
            format!(
                "{shown}:2: 3 fields; expected 4: `variant`, the 1 swept path(s) that manifest.json lists, `latency_ns` and `count`"
            )
        );
    }
}
