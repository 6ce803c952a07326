//! Golden results: every shipped scenario's `summary.csv`, `timeseries.csv` and
//! `queues.csv` for its own seed, compared byte for byte with the files under `tests/golden/`, so that any change of
//! a number is a visible diff in a commit. `RESIM_BLESS=1 cargo test --release golden`
//! rewrites them; each re-bless belongs in a commit that says which numbers moved and why.

use crate::common;
use std::path::Path;

/// The files compared, per scenario.
const FILES: [&str; 3] = ["summary.csv", "timeseries.csv", "queues.csv"];

#[test]
fn every_shipped_scenario_gives_its_golden_results() {
    let bless = std::env::var("RESIM_BLESS").is_ok_and(|v| v == "1");
    let golden = common::root().join("tests/golden");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut differ = Vec::new();
    for file in common::shipped_scenarios() {
        let name = file
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let out = dir.path().join(&name);
        let run = common::resim(
            dir.path(),
            &[
                "run",
                file.to_str().expect("utf-8"),
                "--out",
                out.to_str().expect("utf-8"),
                "--quiet",
            ],
        );
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        for csv in FILES {
            let got = std::fs::read(out.join(csv)).expect("written");
            let path = golden.join(&name).join(csv);
            if bless {
                std::fs::create_dir_all(path.parent().expect("a folder")).expect("created");
                std::fs::write(&path, &got).expect("blessed");
                continue;
            }
            match std::fs::read(&path) {
                Ok(want) if want == got => {}
                Ok(want) => differ.push(format!("{name}/{csv}: {}", first_difference(&want, &got))),
                Err(_) => differ.push(format!("{name}/{csv}: no golden file {}", path.display())),
            }
        }
    }
    assert!(
        differ.is_empty(),
        "results differ from tests/golden (if the change is intended, rerun with RESIM_BLESS=1 and say why in the commit):\n{}",
        differ.join("\n")
    );
    // Every golden folder belongs to a shipped scenario.
    if !bless {
        for entry in std::fs::read_dir(&golden).expect("tests/golden exists") {
            let name = entry.expect("an entry").file_name();
            let scenario = common::root()
                .join("scenarios")
                .join(Path::new(&name).with_extension("toml"));
            assert!(scenario.exists(), "tests/golden/{name:?} has no scenario");
        }
    }
}

/// The first line where two files differ, both versions.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let (want, got) = (String::from_utf8_lossy(want), String::from_utf8_lossy(got));
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}: golden `{w}`, now `{g}`", i + 1);
        }
    }
    format!(
        "{} lines golden, {} now",
        want.lines().count(),
        got.lines().count()
    )
}
