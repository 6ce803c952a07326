//! Request priorities (criticality): the waiting room serves higher classes first and
//! evicts lower ones first, and a request's priority goes down the call tree.

use crate::common;
use resim::metrics::ClientMetrics;
use resim::run::RunResult;

fn client<'a>(r: &'a RunResult, name: &str) -> &'a ClientMetrics {
    r.metrics
        .clients
        .iter()
        .find(|c| c.name == name)
        .expect("client")
}

fn availability(r: &RunResult, name: &str) -> f64 {
    client(r, name).counts.availability().expect("requests")
}

/// `scenarios/priorities.toml`: 1,200 requests/s for 1,000/s. Without priorities every
/// client loses about a sixth (1 - 1,000 / 1,200 = 16.7%); with them checkout (critical)
/// and browsing (default) lose nothing and the crawler (sheddable) gets what is left:
/// 1,000 - 600 = 400 of its 600/s, 66.7%.
#[test]
fn the_sheddable_client_absorbs_the_overload() {
    let study = resim::Study::load(&common::root().join("scenarios/priorities.toml"))
        .expect("shipped scenario");
    for cell in &study.cells {
        let r = resim::run_one(&cell.scenario, cell.scenario.seed).expect("runs");
        let (checkout, browse, crawler) = (
            availability(&r, "checkout"),
            availability(&r, "browse"),
            availability(&r, "crawler"),
        );
        if cell.variant == "base" {
            for a in [checkout, browse, crawler] {
                assert!((0.80..0.87).contains(&a), "{a}");
            }
        } else {
            assert_eq!(checkout, 1.0);
            assert!(browse > 0.999, "{browse}");
            assert!((0.647..0.687).contains(&crawler), "{crawler}");
            let c = &client(&r, "crawler").counts;
            assert!(
                c.shed > 0,
                "evicted from the waiting room for higher classes"
            );
        }
    }
}

/// A request's priority goes down the call tree: the API has room to spare, its database
/// does not, and the database still keeps the critical client's calls and sheds the
/// sheddable one's (without the priority carried down, both would lose the same share).
#[test]
fn priority_is_carried_to_downstream_calls() {
    let r = common::run(
        r#"name = "carried"
duration = "30s"
warmup = "5s"
[[client]]
name = "vip"
target = "api"
arrival = { kind = "poisson", rate_per_s = 300 }
priority = "critical"
[[client]]
name = "bulk"
target = "api"
arrival = { kind = "poisson", rate_per_s = 300 }
priority = "sheddable"
[[service]]
name = "api"
concurrency = 1000
service_time = { kind = "constant", value = "1ms" }
calls = [{ to = "db" }]
[[service]]
name = "db"
concurrency = 4
queue = 20
service_time = { kind = "exponential", mean = "10ms" }
"#,
        1,
    );
    // Alone, vip's calls would be an M/M/4/24 queue at load 0.75, which refuses 0.04% of
    // them; sheddable calls already at a worker are not preempted, so a few more are
    // refused, but the sheddable ones never take a waiting place from them.
    let vip = availability(&r, "vip");
    assert!(vip > 0.997, "{vip}");
    let bulk = availability(&r, "bulk");
    // The database serves 400/s: 300 for vip, the other 100 of bulk's 300.
    assert!((0.28..0.39).contains(&bulk), "{bulk}");
}

/// A rate limit with `reserve` serves higher priorities first, as Stripe's fleet usage
/// load shedder keeps a share of capacity for critical requests: critical requests may
/// take the last token, default ones must leave 20% of the bucket, sheddable ones 40%.
/// With 100 + 100 + 400 requests/s against 300 tokens/s, critical and default get all
/// theirs and the sheddable client the remaining 100/s (25%); without a reserve, every
/// client gets half.
#[test]
fn a_rate_limit_with_a_reserve_refuses_lower_priorities_first() {
    let scenario = |reserve: &str| {
        format!(
            r#"name = "reserve"
duration = "40s"
warmup = "5s"
[[client]]
name = "vip"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 100 }}
priority = "critical"
[[client]]
name = "app"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 100 }}
[[client]]
name = "bulk"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 400 }}
priority = "sheddable"
[[service]]
name = "api"
concurrency = 100
service_time = {{ kind = "constant", value = "1ms" }}
rate_limit = {{ kind = "token_bucket", rate_per_s = 300, burst = 30{reserve} }}
"#
        )
    };
    let r = common::run(&scenario(", reserve = 0.2"), 1);
    assert!(
        availability(&r, "vip") > 0.99,
        "{}",
        availability(&r, "vip")
    );
    assert!(
        availability(&r, "app") > 0.99,
        "{}",
        availability(&r, "app")
    );
    let bulk = availability(&r, "bulk");
    assert!((0.22..0.28).contains(&bulk), "{bulk}");
    let flat = common::run(&scenario(""), 1);
    for name in ["vip", "app", "bulk"] {
        let a = availability(&flat, name);
        assert!((0.45..0.55).contains(&a), "{name}: {a}");
    }
}

/// The report shows who paid: a per-client table with each client's priority and
/// availability, read from clients.csv; an output folder written before clients.csv
/// existed still analyses, without the table.
#[test]
fn the_report_has_a_per_client_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::root().join("scenarios/priorities.toml");
    let out = dir.path().join("out");
    let result = common::resim(
        dir.path(),
        &[
            "run",
            file.to_str().expect("utf-8"),
            "--seeds",
            "2",
            "--out",
            out.to_str().expect("utf-8"),
            "--quiet",
        ],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    // Linked from the contents under its own name (the chart is "clients").
    assert!(html.contains("<a href=\"#clients-table\">per client</a>"));
    assert!(html.contains("<a href=\"#chart-clients\">clients</a>"));
    let table = &html[html
        .find("<table id=\"clients\">")
        .expect("a per-client table")..];
    let table = &table[..table.find("</table>").expect("closed")];
    assert_eq!(table.matches("<tr><td").count(), 6, "3 clients x 2 cells");
    assert!(table.contains("crawler</td><td class=\"left\">sheddable"));
    let a = resim::compare::build::analyze(&out).expect("analysis");
    let crawler = &a.cells[1].clients[2];
    assert_eq!(crawler.name, "crawler");
    let mean = crawler.availability.mean.expect("a mean");
    assert!((0.62..0.72).contains(&mean), "{mean}");
    std::fs::remove_file(out.join("clients.csv")).expect("removed");
    let old = resim::compare::build::analyze(&out).expect("analysis without clients.csv");
    assert!(old.cells.iter().all(|c| c.clients.is_empty()));
}
