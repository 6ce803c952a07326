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
    // The two budget tracks are the same: the first lies under the second, and says so
    // (the breaker tracks are nudged apart and both show).
    assert!(
        policies
            .svg
            .contains("\nbudget (web-&gt;api), variant retry-budget (hidden)\n")
    );
    assert_eq!(policies.svg.matches("(hidden)").count(), 1);
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

/// The charts of `a` by name.
fn svg_of(a: &Analysis, name: &str) -> String {
    let charts = render_svgs(a).expect("charts");
    let chart = charts.into_iter().find(|c| c.name == name);
    chart.unwrap_or_else(|| panic!("a {name} chart")).svg
}

/// How many lines in `svg` are drawn in `color` (as "#1F77B4"), `width` pixels wide.
fn lines_of(svg: &str, color: &str, width: u32) -> usize {
    svg.matches(&format!("stroke=\"{color}\" stroke-width=\"{width}\""))
        .count()
}

/// A variant that behaves exactly like a later one: its lines lie under that one's on
/// every time chart and the distribution. Its legend entry says so, and it is drawn wider,
/// so it shows as a rim around the later line.
#[test]
fn a_line_hidden_under_a_later_one_is_named_and_shows_as_a_rim() {
    let mut a = fixtures::study();
    a.cells[0].timeline = a.cells[1].timeline.clone();
    a.cells[0].latency_cdf = a.cells[1].latency_cdf.clone();
    let blue = "#1F77B4";
    for (name, note) in [
        // Outside the dip every fixture cell has the same availability, so the breaker's
        // line lies on base's there too.
        (
            "availability",
            "base (hidden under retry-budget and breaker)",
        ),
        ("latency", "base (hidden under retry-budget)"),
        ("latency-cdf", "base (hidden under retry-budget)"),
    ] {
        let svg = svg_of(&a, name);
        assert!(svg.contains(note), "{name}: no note {note}");
        assert!(
            svg.contains("\ncoinciding lines\n"),
            "{name}: nested lines unexplained"
        );
        assert!(
            lines_of(&svg, blue, 4) > 0,
            "{name}: base is not drawn as a rim"
        );
        // The one plain blue line is the legend's sample.
        assert_eq!(
            lines_of(&svg, blue, 2),
            1,
            "{name}: base drawn plain somewhere"
        );
        assert!(!svg.contains("retry-budget (hidden"), "{name}");
    }
    // The p50 lines nest too, one step wider than their own width of 1.
    assert!(lines_of(&svg_of(&a, "latency"), blue, 3) > 0);
    // Without the copy, latencies differ everywhere: nothing is hidden or nested.
    let plain = fixtures::study();
    for name in ["latency", "latency-cdf"] {
        let svg = svg_of(&plain, name);
        assert!(!svg.contains("hidden"), "{name}");
        assert!(!svg.contains("coinciding lines"), "{name}");
        assert_eq!(lines_of(&svg, blue, 4), 0, "{name}");
    }
    assert!(!svg_of(&plain, "availability").contains("hidden"));
}

/// A line that coincides with a later one for a while only nests there and keeps its plain
/// legend entry: it shows elsewhere.
#[test]
fn a_line_that_coincides_for_a_while_nests_there_only() {
    let mut a = fixtures::study();
    for row in &mut a.cells[0].timeline[..30] {
        row.p99_ms = Some(250.0);
    }
    for row in &mut a.cells[2].timeline[..30] {
        row.p99_ms = Some(250.0);
    }
    let svg = svg_of(&a, "latency");
    assert!(!svg.contains("hidden"));
    assert!(svg.contains("\ncoinciding lines\n"));
    let blue = "#1F77B4";
    assert!(lines_of(&svg, blue, 4) > 0 && lines_of(&svg, blue, 2) > 1);
}

/// Five identical variants nest five deep; the legend names the last for each of the others.
#[test]
fn five_identical_variants_all_show() {
    let mut a = fixtures::study();
    let template = a.cells[0].clone();
    a.cells = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|name| {
            let mut c = template.clone();
            c.variant = name.to_string();
            c
        })
        .collect();
    let svg = svg_of(&a, "latency");
    for name in ["a", "b", "c", "d"] {
        assert!(
            svg.contains(&format!("\n{name} (hidden under e)\n")),
            "{name}"
        );
    }
    assert!(svg.contains("\ne\n"));
    for (i, width) in [10, 8, 6, 4, 2].into_iter().enumerate() {
        let color = style::PALETTE[i];
        let hex = format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2);
        assert!(lines_of(&svg, &hex, width) > 0, "{hex} at {width} px");
    }
}

/// Long labels of a sweep keep the legend narrow: when a named note would not fit, every
/// hidden line's note is only "hidden".
#[test]
fn sweep_legends_stay_narrow() {
    let mut a = fixtures::sweep();
    let last = a.cells.last().expect("cells").timeline.clone();
    for cell in &mut a.cells {
        cell.timeline = last.clone();
    }
    let svg = svg_of(&a, "availability");
    assert!(svg.contains("base, rate_per_s=100 (hidden)"), "{svg}");
    assert!(svg.contains("retry-budget, rate_per_s=400 (hidden)"));
    assert!(svg.contains("\nretry-budget, rate_per_s=800\n"));
    // A note that fits names the line on top, by what differs in a sweep's labels.
    let mut a = fixtures::sweep();
    a.cells[0].timeline = a.cells[4].timeline.clone();
    let svg = svg_of(&a, "latency");
    assert!(
        svg.contains("base, rate_per_s=100 (hidden under retry-budget)"),
        "{svg}"
    );
}

/// A cell with nothing to draw says so instead of showing a sample of a line that is not
/// there.
#[test]
fn a_cell_without_data_says_so() {
    let svg = svg_of(&fixtures::odd(), "availability");
    assert!(svg.contains("empty (no data)"), "{svg}");
}
