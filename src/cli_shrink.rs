//! `resim shrink`: the command line over [`crate::shrink`]: it writes the smallest failing
//! scenario with a header saying what was removed, copies its data files beside it, and
//! checks that the file fails on its own.

use crate::check::show;
use crate::cli::{EXIT_BAD_INPUT, EXIT_OK, load};
use crate::paths;
use crate::shrink::{ShrinkRequest, shrink};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

/// `resim shrink`'s arguments.
#[derive(Debug, Args)]
pub struct ShrinkArgs {
    /// The scenario file (TOML), with an `[expect]` table.
    pub file: PathBuf,
    /// The failing seed (from `resim hunt`).
    #[arg(long)]
    pub seed: u64,
    /// The failing variant [default: base, the file as written].
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// With a sweep, the failing point (its position, from 0, as `resim hunt` prints it).
    #[arg(long, default_value_t = 0)]
    pub point: usize,
    /// The shrunk scenario to write.
    #[arg(long, default_value = "minimal.toml")]
    pub out: PathBuf,
    /// Print only errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the shrink; returns the exit code.
pub fn run(args: &ShrinkArgs) -> u8 {
    let (study, text) = match load(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if study.expectations.is_empty() {
        say_err!(
            "resim shrink: {} has no [expect] table; expected the expectations the failing run breaks",
            args.file.display()
        );
        return EXIT_BAD_INPUT;
    }
    let inputs = paths::scenario_inputs(&args.file, &study);
    if let Err(e) = paths::refuse_input("--out", &args.out, inputs.iter().map(PathBuf::as_path)) {
        say_err!("resim shrink: {e}");
        return EXIT_BAD_INPUT;
    }
    let file = args.file.display().to_string();
    let variant = args.variant.as_deref().unwrap_or(crate::run::BASE_VARIANT);
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} shrinking: {pos} runs tried, {elapsed}")
                .expect("a valid progress template"),
        );
        bar
    };
    let req = ShrinkRequest {
        text: &text,
        file: &file,
        seed: args.seed,
        variant,
        point: args.point,
    };
    let shrunk = match shrink(&req, &|n| bar.set_position(n as u64)) {
        Ok(s) => s,
        Err(e) => {
            bar.finish_and_clear();
            say_err!("resim shrink: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    bar.finish_and_clear();
    let broken: Vec<String> = shrunk
        .misses
        .iter()
        .map(|m| {
            format!(
                "{} {} (observed {})",
                m.metric.name(),
                m.expected,
                m.observed.map_or("no value".into(), |v| show(m.metric, v))
            )
        })
        .collect();
    let mut header = format!(
        "# Shrunk by `resim shrink {file} --seed {} --variant {variant}` (resim {}).\n",
        args.seed,
        env!("CARGO_PKG_VERSION")
    );
    header.push_str(&format!(
        "# With seed {} this scenario still breaks: {}.\n",
        args.seed,
        if broken.is_empty() {
            "a run limit".to_string()
        } else {
            broken.join("; ")
        }
    ));
    header.push_str("# Removed or changed from the original:\n");
    for c in &shrunk.changes {
        header.push_str(&format!("#   - {c}\n"));
    }
    header.push_str(&format!(
        "# `resim check {}` fails (exit 1) until what it shows is fixed.\n\n",
        args.out.display()
    ));
    let out_text = format!("{header}{}", shrunk.toml);
    if let Err(e) = write_with_data(&args.out, &out_text, &study, &args.file) {
        say_err!(
            "resim shrink: cannot write {}: {e}; expected --out to name a file that can be written, in a folder that exists or can be made",
            args.out.display()
        );
        return EXIT_BAD_INPUT;
    }
    if !args.quiet {
        say!(
            "wrote {} after {} runs: {}",
            args.out.display(),
            shrunk.tries,
            if shrunk.changes.is_empty() {
                "nothing could be removed".to_string()
            } else {
                shrunk.changes.join("; ")
            }
        );
        say!("it breaks: {}", broken.join("; "));
        say!("check it: resim check {}", args.out.display());
    }
    EXIT_OK
}

/// Writes `text` to `out`, and copies the scenario's data files beside it (at the paths the
/// scenario names) when `out` is in another folder than `scenario`.
fn write_with_data(
    out: &Path,
    text: &str,
    study: &crate::scenario::Study,
    scenario: &Path,
) -> std::io::Result<()> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    crate::report::atomic::write(out, text.as_bytes())?;
    let dir = |p: &Path| {
        p.parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
            .canonicalize()
            .ok()
    };
    if dir(out) == dir(scenario) {
        return Ok(());
    }
    let base = out.parent().unwrap_or(Path::new(""));
    for f in study.data_files() {
        let dest = base.join(&f.written);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::report::atomic::write(&dest, std::fs::read(&f.path)?)?;
    }
    Ok(())
}
