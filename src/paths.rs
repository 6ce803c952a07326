//! Paths compared as the file system sees them, so that no command writes over its own
//! input: relative paths, `.` and `..`, trailing slashes and symbolic links all resolve to
//! the same place.

use std::path::{Component, Path, PathBuf};

/// `path` made absolute, with `.`, `..` and symbolic links resolved as far as it exists; the
/// part that does not exist yet is appended as written (`..` there removes a component).
pub fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    let mut exists = true;
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
        if exists {
            match out.canonicalize() {
                Ok(real) => out = real,
                Err(_) => exists = out.symlink_metadata().is_ok(),
            }
        }
    }
    out
}

/// True when `a` and `b` name the same file or folder (or will, once it is created),
/// hard links included.
pub fn same(a: &Path, b: &Path) -> bool {
    resolved(a) == resolved(b) || same_inode(a, b)
}

/// True when `inner` is `outer` or lies somewhere inside it.
pub fn within(inner: &Path, outer: &Path) -> bool {
    same(inner, outer) || resolved(inner).starts_with(resolved(outer))
}

#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &Path, _: &Path) -> bool {
    false
}

/// Refuses an output path (given with `flag`, such as `--out`) that is one of `inputs`:
/// writing it would destroy what the command reads. The error says which.
pub fn refuse_input<'a>(
    flag: &str,
    out: &Path,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<(), String> {
    match inputs.into_iter().find(|i| same(out, i)) {
        Some(input) => Err(format!(
            "{flag} is one of the inputs: {}; expected a new path, so that the input is kept",
            input.display()
        )),
        None => Ok(()),
    }
}

/// What a command reads of a scenario: its file and the data files it names.
pub fn scenario_inputs(file: &Path, study: &crate::scenario::Study) -> Vec<PathBuf> {
    std::iter::once(file.to_path_buf())
        .chain(study.data_files().into_iter().map(|f| f.path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_place_are_the_same() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        std::fs::create_dir(d.join("out")).expect("dir");
        std::fs::write(d.join("f.toml"), "x").expect("file");
        assert!(same(&d.join("out"), &d.join("out/")));
        assert!(same(&d.join("out"), &d.join("out/../out/.")));
        assert!(same(&d.join("f.toml"), &d.join("out/../f.toml")));
        assert!(
            same(&d.join("new/x"), &d.join("new/y/../x/")),
            "not yet there"
        );
        assert!(!same(&d.join("out"), &d.join("f.toml")));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("out"), d.join("link")).expect("link");
            assert!(same(&d.join("link/a"), &d.join("out/a")));
            std::fs::hard_link(d.join("f.toml"), d.join("g.toml")).expect("hard link");
            assert!(same(&d.join("g.toml"), &d.join("f.toml")));
        }
        assert!(within(&d.join("out/a/b"), &d.join("out/")));
        assert!(!within(&d.join("outer"), &d.join("out")));
    }

    #[test]
    fn an_input_given_as_the_output_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let f = dir.path().join("f.toml");
        std::fs::write(&f, "x").expect("file");
        let other = dir.path().join("g.toml");
        assert!(refuse_input("--out", &other, [f.as_path()]).is_ok());
        let e = refuse_input("--out", &dir.path().join("./f.toml"), [f.as_path()])
            .expect_err("the input");
        assert!(e.starts_with("--out is one of the inputs: "), "{e}");
    }
}
