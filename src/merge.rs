//! Merging the output folders of a study's shards into the folder one machine would have
//! written: the shards are checked to be the slices of one study, their CSV rows are
//! concatenated in run order, their histograms added, and the comparison drawn anew.

use crate::compare::Analysis;
use crate::output::{self, OutputError};
use crate::paths;
use crate::report::atomic::{self, AtomicFile};
use crate::report::csv::RUN_FILES;
use crate::report::histogram::{self, Bins};
use crate::report::manifest::{Invocation, MANIFEST_FILE, Manifest, SCENARIO_FILE};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Most missing shards an error lists by number.
const MISSING_SHOWN: usize = 10;

/// Merges the shard folders `dirs` (in any order) into `out`; `command` is recorded as the
/// merged manifest's invocation. Returns the analysis and the files written. `out` may hold
/// the shards (as `output/<name>/` holds `shard-I-of-N/`), but be neither one of them nor
/// inside one.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    command: &str,
) -> Result<(Analysis, Vec<PathBuf>), OutputError> {
    let invalid = OutputError::Invalid;
    paths::refuse_input("--out", out, dirs.iter().map(PathBuf::as_path)).map_err(invalid)?;
    if let Some(dir) = dirs.iter().find(|d| paths::within(out, d)) {
        return Err(invalid(format!(
            "--out {} is inside the shard folder {}; expected a new path outside the shards",
            out.display(),
            dir.display()
        )));
    }
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let m = Manifest::read(dir).map_err(invalid)?;
        shards.push((m, dir.clone()));
    }
    let first = shards.first().map(|(m, _)| m.clone()).ok_or_else(|| {
        invalid("no shard folders given; expected the folders of every shard".into())
    })?;
    let first = &first;
    let count = first.shard.map_or(0, |s| s.count);
    for (m, dir) in &shards {
        let Some(s) = m.shard else {
            return Err(invalid(format!(
                "{}: not a shard (its manifest.json has no `shard`); expected folders written with `resim run --shard I/N`",
                dir.display()
            )));
        };
        let same = |a: &Manifest| Manifest {
            shard: None,
            invocation: first.invocation.clone(),
            ..a.clone()
        };
        if same(m) != same(first) || s.count != count {
            return Err(invalid(format!(
                "{}: its manifest.json differs from {}'s (resim version, scenario, seeds, variants, sweep or shard count); expected shards of one study",
                dir.display(),
                dirs[0].display()
            )));
        }
    }
    shards.sort_by_key(|(m, _)| m.shard.map_or(0, |s| s.index));
    let indexes: Vec<u64> = shards
        .iter()
        .map(|(m, _)| m.shard.map_or(0, |s| s.index))
        .collect();
    // Compared without listing 0..count: the count comes from the manifests.
    if indexes.len() as u64 != count || indexes.iter().zip(0u64..).any(|(i, n)| *i != n) {
        let have: std::collections::BTreeSet<u64> = indexes.iter().copied().collect();
        let absent = count.saturating_sub(have.len() as u64);
        let shown: Vec<String> = (0..count)
            .filter(|i| !have.contains(i))
            .take(MISSING_SHOWN)
            .map(|i| i.to_string())
            .collect();
        let more = absent.saturating_sub(shown.len() as u64);
        return Err(invalid(format!(
            "the shards given are {indexes:?} of {count}; expected each of 0 to {} once{}",
            count.saturating_sub(1),
            match (shown.is_empty(), more) {
                (true, _) => String::new(),
                (false, 0) => format!(" (missing: {})", shown.join(", ")),
                (false, more) => format!(" (missing: {} and {more} more)", shown.join(", ")),
            }
        )));
    }
    let mut next = 0;
    for (m, dir) in &shards {
        let runs = m.shard.map_or([0, 0], |s| s.runs);
        if runs[0] != next {
            return Err(invalid(format!(
                "{}: its runs start at {}; expected {next}",
                dir.display(),
                runs[0]
            )));
        }
        next = runs[1];
    }
    if next != first.runs {
        return Err(invalid(format!(
            "the shards hold runs up to {next}; expected {}",
            first.runs
        )));
    }

    std::fs::create_dir_all(out).map_err(|e| {
        OutputError::Invalid(format!(
            "{}: cannot create the output folder: {e}; expected a folder, or a path where one can be made",
            out.display()
        ))
    })?;
    let dirs: Vec<&Path> = shards.iter().map(|(_, d)| d.as_path()).collect();
    let mut written = Vec::new();
    for name in RUN_FILES {
        written.push(concatenate(&dirs, name, out)?);
    }
    written.push(merge_histograms(&dirs, first, out)?);
    let kept = dirs[0].join(SCENARIO_FILE);
    let text = std::fs::read(&kept).map_err(|e| {
        OutputError::Invalid(format!(
            "{}: cannot read: {e}; expected the {SCENARIO_FILE} that `resim run --shard` keeps in a shard's folder",
            kept.display()
        ))
    })?;
    let dest = out.join(SCENARIO_FILE);
    written.push(atomic::write(&dest, text).map_err(at(&dest, "write"))?);
    for file in &first.data_files {
        let plain = std::path::Path::new(&file.path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(invalid(format!(
                "the manifest names the data file \"{}\"; expected a relative path inside the folder",
                file.path
            )));
        }
        let dest = out.join(&file.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(at(parent, "create a folder"))?;
        }
        let kept = dirs[0].join(&file.path);
        let bytes = std::fs::read(&kept).map_err(at(&kept, "read the data file"))?;
        written.push(atomic::write(&dest, bytes).map_err(at(&dest, "write"))?);
    }
    let merged = Manifest {
        shard: None,
        invocation: Invocation {
            command: command.to_string(),
            threads: None,
        },
        ..first.clone()
    };
    written.push(
        merged
            .write(out)
            .map_err(at(&out.join(MANIFEST_FILE), "write"))?,
    );
    let (analysis, mut drawn) = output::draw(out).map_err(|e| match e {
        OutputError::Io(e) => at(out, "write the comparison")(e),
        other => other,
    })?;
    written.append(&mut drawn);
    Ok((analysis, written))
}

/// The error of an I/O failure on `path`: what could not be done, and why.
fn at(path: &Path, doing: &str) -> impl FnOnce(std::io::Error) -> OutputError {
    let place = format!("{}: cannot {doing}", path.display());
    move |e| OutputError::Invalid(format!("{place}: {e}"))
}

/// Writes `name` into `out`: the header of the first shard's file, then every shard's rows
/// in shard order. Every shard's header must be the same.
fn concatenate(dirs: &[&Path], name: &str, out: &Path) -> Result<PathBuf, OutputError> {
    let path = out.join(name);
    let mut w = AtomicFile::create(&path).map_err(at(&path, "write"))?;
    let mut header: Option<String> = None;
    for dir in dirs {
        let file = dir.join(name);
        let mut r =
            BufReader::new(std::fs::File::open(&file).map_err(|e| {
                OutputError::Invalid(format!(
                    "{}: cannot read: {e}; expected the {name} that `resim run --shard` writes in a shard's folder",
                    file.display()
                ))
            })?);
        let mut first = String::new();
        r.read_line(&mut first).map_err(at(&file, "read"))?;
        match &header {
            None => {
                w.write_all(first.as_bytes()).map_err(at(&path, "write"))?;
                header = Some(first);
            }
            Some(h) if *h != first => {
                return Err(OutputError::Invalid(format!(
                    "{}: its header differs from the first shard's; expected shards of one study",
                    file.display()
                )));
            }
            Some(_) => {}
        }
        std::io::copy(&mut r, &mut w)
            .map_err(at(&file, &format!("copy its rows into {}", path.display())))?;
    }
    w.commit().map_err(at(&path, "write"))
}

/// Adds the shards' `latency_histogram.csv` bins cell by cell and writes the sum into `out`.
fn merge_histograms(dirs: &[&Path], m: &Manifest, out: &Path) -> Result<PathBuf, OutputError> {
    let sweep = m.sweep.paths.len();
    let mut total: std::collections::BTreeMap<(String, Vec<String>), Bins> = Default::default();
    for dir in dirs {
        for (key, bins) in histogram::read(dir, sweep).map_err(OutputError::Invalid)? {
            let into = total.entry(key).or_default();
            for (value, count) in bins {
                *into.entry(value).or_insert(0) += count;
            }
        }
    }
    // In the study's cell order, as one machine writes them.
    let mut cells = Vec::new();
    for v in &m.variants {
        for p in &m.sweep.points {
            if let Some(bins) = total.get(&(v.clone(), p.clone())) {
                cells.push((v.clone(), p.clone(), bins));
            }
        }
    }
    histogram::write(out, &m.sweep.paths, &cells)
        .map_err(at(&out.join(histogram::HISTOGRAM_FILE), "write"))
}
