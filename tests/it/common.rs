//! Helpers shared by the integration tests.

use resim::{RunResult, Scenario};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Parses scenario text, panicking with the validation message if it is invalid.
pub fn scenario(text: &str) -> Scenario {
    Scenario::from_text(text, "test.toml").unwrap_or_else(|e| panic!("invalid test scenario:\n{e}"))
}

/// Runs `text` once with `seed`.
pub fn run(text: &str, seed: u64) -> RunResult {
    resim::run_one(&scenario(text), seed).expect("the run finishes")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every shipped scenario file, sorted by name.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Runs the `resim` binary with `args` in `dir`, which must succeed (its stderr is shown if
/// it does not).
pub fn resim_ok(dir: &Path, args: &[&str]) -> Output {
    let out = resim(dir, args);
    assert!(
        out.status.success(),
        "resim {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the `resim` binary with `args` in `dir`, which must refuse them as bad input (exit
/// code 2); returns its standard error.
pub fn refused(dir: &Path, args: &[&str]) -> String {
    let out = resim(dir, args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "resim {} should exit 2:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Runs the `resim` binary with `args` in `dir`.
pub fn resim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_resim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the resim binary starts")
}

/// The rows of a CSV file as maps from column name to value.
pub fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).expect("csv readable");
    let headers = reader.headers().expect("header row").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("well-formed row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}
