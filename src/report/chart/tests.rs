//! Tests of the charts on synthetic analyses; `dump_for_review` (ignored) writes them all to
//! /tmp/charts/ for people to look at.

use super::fixtures;
use super::*;

/// Every fixture, by name.
fn all_fixtures() -> Vec<(&'static str, Analysis)> {
    vec![
        ("study", fixtures::study()),
        ("single", fixtures::single()),
        ("sweep", fixtures::sweep()),
        ("many", fixtures::many()),
        ("odd", fixtures::odd()),
        ("many-bins", fixtures::many_bins()),
        ("clients", fixtures::clients()),
    ]
}

#[test]
#[ignore = "writes PNGs to /tmp/charts for review"]
fn dump_for_review() {
    for (name, a) in all_fixtures() {
        let dir = Path::new("/tmp/charts").join(name);
        let written = write_charts(&dir, &a).expect("charts");
        assert!(!written.is_empty());
        let svgs = render_svgs(&a).expect("svgs");
        crate::report::html::write_report(&dir, &a, &svgs).expect("report");
    }
}

/// The chart names rendered for `a`.
fn names(a: &Analysis) -> Vec<String> {
    render_svgs(a)
        .expect("charts")
        .into_iter()
        .map(|c| c.name)
        .collect()
}

#[test]
fn pngs_are_valid_and_svgs_follow_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = fixtures::study();
    let written = write_charts(dir.path(), &a).expect("charts");
    assert_eq!(written.len(), 2 * names(&a).len());
    for pair in written.chunks(2) {
        assert_eq!(pair[0].extension().and_then(|e| e.to_str()), Some("png"));
        assert_eq!(pair[1].extension().and_then(|e| e.to_str()), Some("svg"));
        assert_eq!(pair[0].file_stem(), pair[1].file_stem());
        let png = std::fs::read(&pair[0]).expect("png");
        assert_eq!(&png[..4], b"\x89PNG", "{}", pair[0].display());
        assert!(
            png.len() > 10_000,
            "{} is {} bytes",
            pair[0].display(),
            png.len()
        );
        let svg = std::fs::read_to_string(&pair[1]).expect("svg");
        assert!(svg.contains("<svg"), "{}", pair[1].display());
    }
}

#[test]
fn svgs_carry_their_titles_and_legend_labels() {
    let a = fixtures::study();
    for chart in render_svgs(&a).expect("charts") {
        assert!(chart.title.starts_with("retry-storm: "), "{}", chart.title);
        assert!(
            chart.svg.contains(&chart.title),
            "{} lacks its title",
            chart.name
        );
        if chart.name != "policies" {
            assert!(chart.title.contains("(20 seeds)"), "{}", chart.title);
            for cell in &a.cells {
                let label = cell.label(&a.sweep_paths);
                assert!(chart.svg.contains(&label), "{} lacks {label}", chart.name);
            }
        }
    }
    let sweep = fixtures::sweep();
    let charts = render_svgs(&sweep).expect("charts");
    let availability = charts
        .iter()
        .find(|c| c.name == "availability")
        .expect("availability");
    assert!(availability.svg.contains("base, rate_per_s=400"));
}

#[test]
fn the_same_analysis_renders_the_same_bytes() {
    for (name, a) in all_fixtures() {
        assert_eq!(
            render_svgs(&a).expect("first"),
            render_svgs(&a).expect("second"),
            "{name}"
        );
    }
}

#[test]
fn odd_data_renders_without_error() {
    for (name, a) in all_fixtures() {
        let charts = render_svgs(&a).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(charts.iter().any(|c| c.name == "summary"), "{name}");
    }
    let mut empty = fixtures::single();
    empty.cells[0].timeline.clear();
    empty.cells[0].latency_cdf.clear();
    assert_eq!(names(&empty), ["summary"]);
    empty.cells.clear();
    assert!(names(&empty).is_empty());
}

#[test]
fn sweep_and_policy_charts_only_with_their_data() {
    let study = names(&fixtures::study());
    assert_eq!(
        study,
        [
            "availability",
            "latency",
            "latency-cdf",
            "summary",
            "policies"
        ]
    );
    let sweep = names(&fixtures::sweep());
    assert_eq!(
        sweep,
        [
            "availability",
            "latency",
            "latency-cdf",
            "summary",
            "sweep-availability",
            "sweep-p99"
        ]
    );
    assert!(!names(&fixtures::single()).contains(&"policies".to_string()));
    // The per-client chart only with several clients, after the summary.
    assert!(!study.contains(&"clients".to_string()));
    let clients = names(&fixtures::clients());
    assert_eq!(clients[3..5], ["summary", "clients"]);
    let svg = render_svgs(&fixtures::clients())
        .expect("charts")
        .into_iter()
        .find(|c| c.name == "clients")
        .expect("a clients chart")
        .svg;
    for name in ["checkout", "browse", "crawler", "retry-budget"] {
        assert!(svg.contains(name), "{name} in the chart");
    }
}

#[test]
fn errors_read_well() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("file");
    std::fs::write(&file, "x").expect("write");
    let e = write_charts(&file.join("sub"), &fixtures::single()).expect_err("a file in the way");
    assert!(e.to_string().starts_with("writing "), "{e}");
}

#[test]
fn the_latency_distribution_stays_small_and_skips_stray_fast_requests() {
    let a = fixtures::many_bins();
    let charts = render_svgs(&a).expect("charts");
    let cdf = charts
        .iter()
        .find(|c| c.name == "latency-cdf")
        .expect("latency-cdf");
    assert!(
        cdf.svg.len() < 40_000,
        "latency-cdf.svg is {} bytes",
        cdf.svg.len()
    );
    // The axis starts a decade below the lowest p1 (about 0.9 ms), not at the 1e-5 ms bin.
    assert!(
        !cdf.svg.contains("\n0.00001\n"),
        "the axis starts at the stray bin"
    );
}

#[test]
fn policy_legends_name_the_variant_when_several_have_tracks() {
    let mut a = fixtures::study();
    let tracks = a.cells[2].policy_tracks.clone();
    a.cells[1].policy_tracks = tracks;
    let charts = render_svgs(&a).expect("charts");
    let policies = charts
        .iter()
        .find(|c| c.name == "policies")
        .expect("policies");
    for want in [
        "breaker (api-&gt;db), variant retry-budget",
        "breaker (api-&gt;db), variant breaker",
        "budget (web-&gt;api), variant breaker",
    ] {
        assert!(policies.svg.contains(want), "no legend entry {want}");
    }
}

/// The latency chart's SVG for the single-cell fixture with every p50 and p99 set to `v`.
fn latency_svg_with(v: Option<f64>) -> String {
    let mut a = fixtures::single();
    for row in a.cells.iter_mut().flat_map(|c| c.timeline.iter_mut()) {
        (row.p50_ms, row.p99_ms) = (v, v);
    }
    let svgs = render_svgs(&a).expect("charts");
    let latency = svgs.into_iter().find(|c| c.name == "latency");
    latency.expect("a latency chart").svg
}

/// Clients that only send to queues get every answer in 0 ms: the latency chart draws its
/// lines at 0 (above the x axis, not filtered out as on a log scale) and says why.
#[test]
fn a_latency_of_zero_is_drawn_and_explained() {
    let zero = latency_svg_with(Some(0.0));
    assert!(zero.contains("every latency is 0 ms"), "no note");
    let empty = latency_svg_with(None);
    assert!(
        zero.matches("<polyline").count() > empty.matches("<polyline").count(),
        "the lines at 0 ms are drawn"
    );
}
