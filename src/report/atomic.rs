//! Output files written whole or not at all: each is written to a temporary file beside
//! its destination and renamed into place when complete, so an interrupted run never
//! leaves a truncated file that looks finished.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary path that `dest` is written under until it is complete: a hidden name in
/// the same folder (so the rename stays within one file system) that keeps the extension
/// (image encoders choose the format by it): `summary.csv` -> `.summary.partial.csv`.
pub fn temporary(dest: &Path) -> PathBuf {
    let stem = dest
        .file_stem()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().to_string());
    let name = match dest.extension() {
        Some(ext) => format!(".{stem}.partial.{}", ext.to_string_lossy()),
        None => format!(".{stem}.partial"),
    };
    dest.with_file_name(name)
}

/// A file being written; it appears under its name only when [`AtomicFile::commit`]ted.
/// Dropped without a commit, it leaves only its temporary file behind.
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    out: BufWriter<File>,
}

impl AtomicFile {
    /// Starts writing `dest`.
    pub fn create(dest: &Path) -> std::io::Result<AtomicFile> {
        let tmp = temporary(dest);
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            out: BufWriter::new(File::create(&tmp)?),
            tmp,
        })
    }

    /// Flushes the file and renames it into place; returns its path. (No fsync: this
    /// guards against an interrupted run, not against a power cut.)
    pub fn commit(mut self) -> std::io::Result<PathBuf> {
        self.out.flush()?;
        std::fs::rename(&self.tmp, &self.dest)?;
        Ok(self.dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes `bytes` to `dest` whole or not at all.
pub fn write(dest: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<PathBuf> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(bytes.as_ref())?;
    f.commit()
}

/// Moves a finished temporary file `tmp` into place at `dest`.
pub fn commit_path(tmp: &Path, dest: &Path) -> std::io::Result<PathBuf> {
    std::fs::rename(tmp, dest)?;
    Ok(dest.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dest = dir.path().join("summary.csv");
        let mut f = AtomicFile::create(&dest).expect("created");
        f.write_all(b"variant,seed\n").expect("written");
        assert!(!dest.exists(), "not before the commit");
        f.commit().expect("committed");
        assert_eq!(std::fs::read(&dest).expect("read"), b"variant,seed\n");
        assert!(!temporary(&dest).exists());
        // An abandoned file leaves the old one in place.
        let mut g = AtomicFile::create(&dest).expect("created");
        g.write_all(b"half").expect("written");
        drop(g);
        assert_eq!(std::fs::read(&dest).expect("read"), b"variant,seed\n");
    }
}
