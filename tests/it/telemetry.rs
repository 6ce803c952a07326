//! Telemetry in: a load curve from a CSV drives the arrivals, and latency tables and
//! histogram exports become service times, each reproduced within sampling error.

use crate::common;
use resim::Scenario;
use resim::distribution::Distribution;
use resim::engine::{SimRng, StreamId};
use std::path::Path;

/// A scenario in `dir` whose client follows `arrival` and whose one service takes
/// `service_time`, written to `dir/s.toml` and loaded from there.
fn load(dir: &Path, arrival: &str, service_time: &str) -> Scenario {
    let text = format!(
        r#"name = "t"
duration = "60s"
bucket = "10s"

[[client]]
name = "web"
target = "api"
arrival = {arrival}

[[service]]
name = "api"
concurrency = 100000
service_time = {service_time}
"#
    );
    let path = dir.join("s.toml");
    std::fs::write(&path, text).expect("written");
    Scenario::load(&path).unwrap_or_else(|e| panic!("invalid test scenario:\n{e}"))
}

#[test]
fn a_traced_load_sends_what_its_curve_integrates_to_in_every_interval() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // Linear between rows, the last rate after the last row; `scale` doubles it all.
    std::fs::write(
        dir.path().join("rps.csv"),
        "time,rps\n0s,100\n20s,300\n40s,300\n50s,50\n",
    )
    .expect("written");
    let s = load(
        dir.path(),
        r#"{ kind = "trace", file = "rps.csv", scale = 2 }"#,
        r#"{ kind = "constant", value = "1ms" }"#,
    );
    let r = resim::run_one(&s, 3).expect("runs");
    // Per 10 s: ramps 100->200 and 200->300, flat 300 twice, 300->175, then 50 held;
    // times 10 s and the scale of 2.
    let expected = [3_000.0, 5_000.0, 6_000.0, 6_000.0, 3_500.0, 1_000.0];
    let got: Vec<u64> = r
        .metrics
        .buckets
        .iter()
        .map(|b| b.counts.requests)
        .collect();
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for (g, e) in got.iter().zip(expected) {
        // Poisson counts: within 4 standard deviations.
        assert!(
            (*g as f64 - e).abs() < 4.0 * e.sqrt(),
            "{got:?} against {expected:?}"
        );
    }
    let total: u64 = got.iter().sum();
    assert!(
        (total as f64 - 24_500.0).abs() < 4.0 * 24_500f64.sqrt(),
        "{total}"
    );
}

/// The fraction of `n` draws of `d` at or below each of `points` (ns).
fn fractions_below(d: &Distribution, points: &[f64], n: usize) -> Vec<f64> {
    let mut rng = SimRng::new(17, StreamId::from_parts(&[b"empirical"]));
    let mut below = vec![0usize; points.len()];
    for _ in 0..n {
        let x = d.sample(&mut rng).as_nanos() as f64;
        for (b, p) in below.iter_mut().zip(points) {
            if x <= *p {
                *b += 1;
            }
        }
    }
    below.iter().map(|&b| b as f64 / n as f64).collect()
}

/// |observed - p| within 4 standard deviations of a binomial proportion over `n`.
fn assert_within_sampling_error(observed: &[f64], expected: &[f64], n: usize) {
    for (o, p) in observed.iter().zip(expected) {
        let sigma = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (o - p).abs() <= 4.0 * sigma + 1e-12,
            "observed {observed:?} against {expected:?}"
        );
    }
}

#[test]
fn a_latency_table_is_reproduced_at_every_percentile_within_sampling_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let s = load(
        dir.path(),
        r#"{ kind = "poisson", rate_per_s = 1 }"#,
        r#"{ kind = "empirical", percentiles = { p50 = "4ms", p90 = "12ms", p99 = "80ms", p999 = "400ms" } }"#,
    );
    let n = 400_000;
    let points = [4e6, 12e6, 80e6, 400e6];
    let observed = fractions_below(&s.services[0].service_time, &points, n);
    assert_within_sampling_error(&observed, &[0.5, 0.9, 0.99, 0.999], n);
}

#[test]
fn a_prometheus_bucket_export_is_reproduced_at_every_bound_within_sampling_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("lat.csv"),
        "le,count\n0.001,100\n0.005,700\n0.02,950\n0.1,995\n+Inf,1000\n",
    )
    .expect("written");
    let s = load(
        dir.path(),
        r#"{ kind = "poisson", rate_per_s = 1 }"#,
        r#"{ kind = "empirical", file = "lat.csv" }"#,
    );
    let n = 400_000;
    // Halfway through the second bucket, linear interpolation puts (0.1 + 0.7) / 2.
    let points = [1e6, 3e6, 5e6, 20e6, 100e6];
    let observed = fractions_below(&s.services[0].service_time, &points, n);
    assert_within_sampling_error(&observed, &[0.1, 0.4, 0.7, 0.95, 1.0], n);
}

#[test]
fn latency_samples_give_their_own_mean_and_median() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // 1..=1000 ms, in milliseconds as the file's unit says.
    let samples: String = (1..=1000).rev().map(|i| format!("{i}\n")).collect();
    std::fs::write(
        dir.path().join("samples.csv"),
        format!("latency_ms\n{samples}"),
    )
    .expect("written");
    let s = load(
        dir.path(),
        r#"{ kind = "poisson", rate_per_s = 1 }"#,
        r#"{ kind = "empirical", file = "samples.csv", unit = "ms" }"#,
    );
    let d = &s.services[0].service_time;
    assert!((d.mean_nanos() - 500.5e6).abs() < 1.0, "{}", d.mean_nanos());
    let n = 200_000;
    let observed = fractions_below(d, &[500.5e6, 100e6], n);
    assert_within_sampling_error(&observed, &[0.5, 99.0 / 999.0], n);
}

#[test]
fn a_run_copies_its_data_files_into_the_output_folder_and_hashes_them() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("data")).expect("created");
    std::fs::write(dir.path().join("data/rps.csv"), "0s,50\n10s,80\n").expect("written");
    // `./` is dropped from the path the output folder keeps.
    let text = r#"name = "t"
duration = "20s"

[[client]]
name = "web"
target = "api"
arrival = { kind = "trace", file = "./data/rps.csv" }

[[service]]
name = "api"
service_time = { kind = "constant", value = "1ms" }
"#;
    std::fs::write(dir.path().join("s.toml"), text).expect("written");
    let out = dir.path().join("out");
    common::resim_ok(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--out",
            out.to_str().expect("utf-8"),
            "--quiet",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(out.join("data/rps.csv")).expect("copied"),
        "0s,50\n10s,80\n"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.json")).expect("written");
    assert!(
        manifest.contains("\"path\": \"data/rps.csv\""),
        "{manifest}"
    );
    // The copy beside scenario.toml makes the folder valid on its own.
    common::resim_ok(out.as_path(), &["validate", "scenario.toml"]);
}

#[test]
fn bad_telemetry_is_located_in_both_files_and_exits_2() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("rps.csv"), "time,rps\n0s,10\n10s,ten\n").expect("written");
    std::fs::write(dir.path().join("lat.csv"), "le,count\n0.01,5\n0.02,3\n").expect("written");
    let base = |arrival: &str, service_time: &str| {
        format!(
            "name = \"t\"\nduration = \"20s\"\n\n[[client]]\nname = \"web\"\ntarget = \"api\"\narrival = {arrival}\n\n[[service]]\nname = \"api\"\nservice_time = {service_time}\n"
        )
    };
    let constant = r#"{ kind = "constant", value = "1ms" }"#;
    let poisson = r#"{ kind = "poisson", rate_per_s = 1 }"#;
    std::fs::write(dir.path().join("summary.csv"), "0s,1\n").expect("written");
    let cases = [
        (
            base(r#"{ kind = "trace", file = "summary.csv" }"#, constant),
            "file.toml:7:36: `file` is \"summary.csv\", a name resim gives its own outputs",
        ),
        (
            base(r#"{ kind = "trace", file = "rps.csv" }"#, constant),
            "file.toml:7:36: in the data file rps.csv:3:5: \"ten\" is not a number; expected requests per second",
        ),
        (
            base(r#"{ kind = "trace", file = "none.csv" }"#, constant),
            "file.toml:7:36: in the data file none.csv: cannot read the data file",
        ),
        (
            base(r#"{ kind = "trace", file = "../rps.csv" }"#, constant),
            "file.toml:7:36: `file` is \"../rps.csv\", outside the scenario's folder",
        ),
        (
            base(r#"{ kind = "trace" }"#, constant),
            "file.toml:7:11: this trace arrival has no `file`",
        ),
        (
            base(poisson, r#"{ kind = "empirical", file = "lat.csv" }"#),
            "file.toml:11:45: in the data file lat.csv:3:6: the count 3 is below the previous bucket's 5; expected cumulative counts",
        ),
        (
            base(
                poisson,
                r#"{ kind = "empirical", percentiles = { p50 = "4ms", p99 = "2ms" } }"#,
            ),
            "file.toml:11:73: `p99` (2ms) is below `p50` (4ms); expected latencies that grow with the percentile",
        ),
        (
            base(
                poisson,
                r#"{ kind = "empirical", percentiles = { p50 = "4ms", median = "2ms" } }"#,
            ),
            "file.toml:11:67: `median` is not a percentile; expected keys like p50",
        ),
        (
            base(
                poisson,
                r#"{ kind = "empirical", percentiles = { p50 = "4ms" }, unit = "ms" }"#,
            ),
            "file.toml:11:76: `unit` applies to the plain numbers of a latency `file`",
        ),
        (
            base(poisson, r#"{ kind = "empirical" }"#),
            "file.toml:11:16: the empirical distribution of `service_time` has neither `percentiles` nor `file`",
        ),
    ];
    let mut wrong = Vec::new();
    for (text, says) in cases {
        std::fs::write(dir.path().join("file.toml"), &text).expect("written");
        let out = common::resim(dir.path(), &["validate", "file.toml"]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if out.status.code() != Some(2) || !stderr.contains(says) || stderr.contains("panicked") {
            wrong.push(format!("expected `{says}` in:\n{stderr}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
