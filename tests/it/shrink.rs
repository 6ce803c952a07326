//! `resim shrink`: the shrunk scenario still fails on its own, with the seed it names, and
//! is smaller than what it came from.

use crate::common;
use resim::Study;
use resim::hunt::{HuntRequest, hunt};

/// Three replicas crash at random (MTBF 40 s, MTTR 4 s, so several windows in a minute);
/// on some seeds two overlap and more than 1% of requests fail.
const CRASHY: &str = r#"name = "crashy"
duration = "60s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 300 }
timeout = "500ms"

[[service]]
name = "api"
replicas = 3
concurrency = 4
service_time = { kind = "exponential", mean = "5ms" }

[[fault]]
name = "crashes"
kind = "crash"
target = "api"
mtbf = "40s"
mttr = "4s"

[[variant]]
name = "calm"
set = { "client.web.arrival.rate_per_s" = 100 }

[expect]
availability = ">= 97%"
p99 = "<= 1s"
"#;

/// The number of `[[fault]]` tables and the duration of a scenario text.
fn shape(text: &str) -> (usize, String) {
    let doc: toml::Table = text.parse().expect("TOML");
    let faults = doc
        .get("fault")
        .and_then(|f| f.as_array())
        .map_or(0, |f| f.len());
    let duration = doc["duration"].as_str().expect("a duration").to_string();
    (faults, duration)
}

#[test]
fn a_shrunk_scenario_fails_on_its_own_and_is_smaller() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("crashy.toml"), CRASHY).expect("written");
    let study = Study::from_text(CRASHY, "crashy.toml").expect("valid");
    let mut base = study.clone();
    base.select(&["base".to_string()]).expect("a variant");
    let report = hunt(
        &HuntRequest {
            study: &base,
            first: 1,
            count: 60,
            wanted: 1,
            threads: Some(2),
        },
        &|| {},
    );
    let seed = *report.seeds().first().expect("a failing seed among 60");
    // The fault windows the seed gives.
    let traced = resim::run::run_traced(
        &study.base,
        seed,
        resim::trace::TraceOptions {
            from: resim::engine::SimTime::ZERO,
            to: resim::engine::SimTime::ZERO,
            select: resim::trace::Select::All,
            limit: 0,
        },
    )
    .expect("runs");
    let windows = traced.recorded.faults.iter().filter(|c| c.on).count();
    let seed_text = seed.to_string();
    common::resim_ok(
        dir.path(),
        &[
            "shrink",
            "crashy.toml",
            "--seed",
            &seed_text,
            "--out",
            "min/minimal.toml",
            "--quiet",
        ],
    );
    let text = std::fs::read_to_string(dir.path().join("min/minimal.toml")).expect("written");
    assert!(
        text.starts_with("# Shrunk by `resim shrink crashy.toml"),
        "{text}"
    );
    let doc: toml::Table = text.parse().expect("TOML");
    let body = toml::to_string(&doc).expect("TOML");
    assert!(
        doc.get("variant").is_none() && !body.contains("mtbf"),
        "{text}"
    );
    let (faults, duration) = shape(&text);
    assert!(
        faults < windows,
        "{faults} faults left of {windows} windows:\n{text}"
    );
    assert!(
        faults > 0 || text.contains("all 1 fault(s) removed") || text.contains("fault(s) removed"),
        "{text}"
    );
    let cut = resim::scenario::units::parse_duration(&duration).expect("a duration");
    assert!(cut.as_nanos() <= 60_000_000_000, "{duration}");
    assert!(text.contains(&format!("seed = {seed}")), "{text}");
    // On its own, with its own seed, the file fails `resim check` (exit 1).
    let check = common::resim(
        dir.path(),
        &["check", "min/minimal.toml", "--out", "o", "--quiet"],
    );
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}\n{text}",
        String::from_utf8_lossy(&check.stdout)
    );
    // A seed that passes has nothing to shrink.
    let calm = common::resim(
        dir.path(),
        &[
            "shrink",
            "crashy.toml",
            "--seed",
            &seed_text,
            "--variant",
            "calm",
            "--out",
            "c.toml",
        ],
    );
    if calm.status.code() == Some(2) {
        assert!(String::from_utf8_lossy(&calm.stderr).contains("nothing to shrink"));
    } else {
        // The calm variant fails too with this seed: its shrunk file carries its rate.
        let calm_text = std::fs::read_to_string(dir.path().join("c.toml")).expect("written");
        assert!(
            calm_text.contains("variant \"calm\" applied"),
            "{calm_text}"
        );
    }
}

/// One replica of 4 workers at 5 ms: 100/s is easy, 2000/s overloads it at every seed.
const SWEPT: &str = r#"name = "swept"
duration = "20s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 100 }
timeout = "200ms"

[[service]]
name = "api"
concurrency = 4
queue = 16
service_time = { kind = "exponential", mean = "5ms" }

[sweep]
"client.web.arrival.rate_per_s" = [100, 2000]

[expect]
availability = ">= 99%"
"#;

#[test]
fn a_swept_file_shrinks_at_the_failing_point() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("swept.toml"), SWEPT).expect("written");
    let hunt = common::resim(
        dir.path(),
        &["hunt", "swept.toml", "--seeds", "3", "--quiet"],
    );
    assert_eq!(hunt.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&hunt.stdout);
    assert!(
        printed.contains("resim shrink swept.toml --seed 1 --variant base --point 1"),
        "{printed}"
    );
    common::resim_ok(
        dir.path(),
        &[
            "shrink",
            "swept.toml",
            "--seed",
            "1",
            "--point",
            "1",
            "--out",
            "m.toml",
            "--quiet",
        ],
    );
    let text = std::fs::read_to_string(dir.path().join("m.toml")).expect("written");
    assert!(
        text.contains("sweep point 1: `client.web.arrival.rate_per_s` = 2000"),
        "{text}"
    );
    let doc: toml::Table = text.parse().expect("TOML");
    assert!(doc.get("sweep").is_none(), "{text}");
    let check = common::resim(dir.path(), &["check", "m.toml", "--out", "o", "--quiet"]);
    assert_eq!(check.status.code(), Some(1), "{text}");
    // The point that passes has nothing to shrink.
    let out = common::resim(
        dir.path(),
        &["shrink", "swept.toml", "--seed", "1", "--out", "n.toml"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to shrink"));
}

#[test]
fn a_shrunk_scenario_written_over_its_original_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("crashy.toml"), CRASHY).expect("written");
    for out in ["crashy.toml", "./crashy.toml", "sub/../crashy.toml"] {
        let o = common::resim(d, &["shrink", "crashy.toml", "--seed", "1", "--out", out]);
        assert_eq!(o.status.code(), Some(2), "{out}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.contains(
                "resim shrink: --out is one of the inputs: crashy.toml; expected a new path"
            ),
            "{e}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(d.join("crashy.toml")).expect("kept"),
        CRASHY
    );
}

#[test]
fn a_shrink_of_a_variant_point_or_out_that_names_nothing_says_what_is_expected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("crashy.toml"), CRASHY).expect("written");
    std::fs::write(d.join("afile"), "x").expect("written");
    let refused = |args: &[&str]| {
        let mut all = vec!["shrink", "crashy.toml", "--seed", "1"];
        all.extend_from_slice(args);
        common::refused(d, &all).trim_end().to_string()
    };
    assert_eq!(
        refused(&["--variant", "clam", "--out", "m.toml"]),
        "resim shrink: no variant \"clam\" in the scenario; did you mean \"calm\"? expected one of: base, calm"
    );
    assert_eq!(
        refused(&["--point", "3", "--out", "m.toml"]),
        "resim shrink: no sweep point 3: the scenario has no [sweep]; expected no --point, or --point 0"
    );
    // Every seed breaks this one, so the shrink gets as far as writing.
    std::fs::write(
        d.join("tiny.toml"),
        "name = \"tiny\"\nduration = \"2s\"\n\n[[client]]\nname = \"web\"\ntarget = \"api\"\narrival = { kind = \"constant\", rate_per_s = 10 }\n\n[[service]]\nname = \"api\"\nservice_time = { kind = \"constant\", value = \"2ms\" }\n\n[expect]\np50 = \"<= 1ms\"\n",
    )
    .expect("written");
    let e = common::refused(
        d,
        &[
            "shrink",
            "tiny.toml",
            "--seed",
            "1",
            "--out",
            "afile/m.toml",
            "--quiet",
        ],
    );
    assert!(
        e.starts_with("resim shrink: cannot write afile/m.toml: ")
            && e.trim_end().ends_with(
                "; expected --out to name a file that can be written, in a folder that exists or can be made"
            ),
        "{e}"
    );
}
