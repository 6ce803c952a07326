//! `manifest.json`: what produced an output folder (resim version, the scenario's hash,
//! seeds, variants, sweep points, shard, command), so any result can be reproduced and
//! shards can be checked before they are merged.

use crate::output::MAX_RUNS;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// File name of the manifest.
pub const MANIFEST_FILE: &str = "manifest.json";
/// File name of the copy of the scenario text kept beside the outputs.
pub const SCENARIO_FILE: &str = "scenario.toml";

/// The record of one output folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The resim version that wrote the folder.
    pub resim_version: String,
    /// The scenario that ran.
    pub scenario: ScenarioRecord,
    /// The seeds every cell ran: `first`, `first + 1`, ... (`count` of them).
    pub seeds: SeedRange,
    /// The variants that ran, in order.
    pub variants: Vec<String>,
    /// The swept paths and their points.
    pub sweep: SweepRecord,
    /// Runs in the whole study: variants x points x seeds.
    pub runs: u64,
    /// This folder's slice of the runs, for a shard; absent for a whole study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// The data files the scenario read (load curves, latency shapes), each copied beside
    /// `scenario.toml` at the path the scenario writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_files: Vec<DataFileRecord>,
    /// How the folder was made. The only part that may differ between a one-machine run
    /// and merged shards.
    pub invocation: Invocation,
}

/// A data file kept in the output folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFileRecord {
    /// The path as the scenario writes it, relative to the folder.
    pub path: String,
    /// SHA-256 of its bytes, in hex.
    pub sha256: String,
}

/// Which scenario ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRecord {
    /// Its `name`.
    pub name: String,
    /// SHA-256 of the file's bytes, in hex, as `sha256sum` prints it; the text itself is
    /// kept beside the manifest as `scenario.toml`.
    pub sha256: String,
}

/// Consecutive seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRange {
    /// The first seed.
    pub first: u64,
    /// How many.
    pub count: u64,
}

/// The sweep.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRecord {
    /// Swept paths, in file order.
    pub paths: Vec<String>,
    /// Each point's values as written, one per path.
    pub points: Vec<Vec<String>>,
}

/// A shard's place in the whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRecord {
    /// Which shard, from 0.
    pub index: u64,
    /// How many shards.
    pub count: u64,
    /// The positions of its runs in the whole run list: [start, end).
    pub runs: [u64; 2],
}

/// The command that made a folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    /// The command line, as typed.
    pub command: String,
    /// `--threads`, when given (results do not depend on it).
    pub threads: Option<u64>,
}

/// The SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    /// The manifest as written: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        text.push('\n');
        text
    }

    /// Writes `manifest.json` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<std::path::PathBuf> {
        super::atomic::write(&dir.join(MANIFEST_FILE), self.to_json())
    }

    /// Reads `manifest.json` from `dir`; the error says what is wrong with it.
    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: cannot read: {e}; expected the manifest.json of a `resim run` output folder",
                path.display()
            )
        })?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}:{}:{}: {e}; expected the manifest.json of a `resim run` output folder",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        m.consistent()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(m)
    }

    /// Checks that the parts agree as `resim run` writes them: one value per swept path at
    /// each point, `runs` = variants x points x seeds (at most [`MAX_RUNS`]), and a shard
    /// inside the study. Readers size their tables by these numbers, so they are checked
    /// before anything is allocated.
    fn consistent(&self) -> Result<(), String> {
        let paths = self.sweep.paths.len();
        if let Some((i, p)) = self
            .sweep
            .points
            .iter()
            .enumerate()
            .find(|(_, p)| p.len() != paths)
        {
            return Err(format!(
                "`sweep.points[{i}]` has {} value(s); expected one per path of `sweep.paths` ({paths})",
                p.len()
            ));
        }
        let (v, p, s) = (
            self.variants.len() as u128,
            self.sweep.points.len() as u128,
            u128::from(self.seeds.count),
        );
        if u128::from(self.runs) != v * p * s || self.runs > MAX_RUNS {
            return Err(format!(
                "`runs` is {}; expected variants x sweep points x seeds = {v} x {p} x {s} = {}, at most {MAX_RUNS}",
                self.runs,
                v * p * s
            ));
        }
        if let Some(shard) = &self.shard {
            let [start, end] = shard.runs;
            if shard.count == 0 || shard.count > self.runs || shard.index >= shard.count {
                return Err(format!(
                    "`shard` is {} of {}; expected a count from 1 to the study's {} runs, and an index below it",
                    shard.index, shard.count, self.runs
                ));
            }
            if start > end || end > self.runs {
                return Err(format!(
                    "`shard.runs` is [{start}, {end}]; expected a range within the study's {} runs",
                    self.runs
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_test_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_manifest_round_trips() {
        let m = Manifest {
            resim_version: "0.1.0".into(),
            scenario: ScenarioRecord {
                name: "t".into(),
                sha256: sha256_hex(b"x"),
            },
            seeds: SeedRange { first: 1, count: 3 },
            variants: vec!["base".into(), "b".into()],
            sweep: SweepRecord {
                paths: vec!["client.web.arrival.rate_per_s".into()],
                points: vec![vec!["100".into()], vec!["200".into()]],
            },
            runs: 12,
            shard: Some(ShardRecord {
                index: 1,
                count: 2,
                runs: [6, 12],
            }),
            data_files: vec![DataFileRecord {
                path: "data/rps.csv".into(),
                sha256: sha256_hex(b"0s,1\n"),
            }],
            invocation: Invocation {
                command: "resim run t.toml".into(),
                threads: None,
            },
        };
        let back: Manifest = serde_json::from_str(&m.to_json()).expect("parses");
        assert_eq!(back, m);
        let whole = Manifest { shard: None, ..m };
        assert!(!whole.to_json().contains("shard"));
    }
}
