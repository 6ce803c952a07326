//! Every shipped scenario validates, runs, and conserves requests in every output row.

use crate::common;
use std::collections::BTreeMap;

type Row = BTreeMap<String, String>;

fn num(row: &Row, column: &str) -> u64 {
    row.get(column)
        .unwrap_or_else(|| panic!("column {column} missing"))
        .parse()
        .unwrap_or_else(|_| panic!("column {column} is not a count: {row:?}"))
}

/// `requests = ok + degraded + failed`, `failed` = the sum of the reason columns, and the
/// availability column agrees with the counts.
fn assert_conserved(file: &str, row: &Row) {
    let requests = num(row, "requests");
    let ok = num(row, "ok");
    let degraded = num(row, "degraded");
    let failed = num(row, "failed");
    assert_eq!(
        requests,
        ok + degraded + failed,
        "{file}: requests != ok + degraded + failed in {row:?}"
    );
    let reasons = num(row, "errors")
        + num(row, "timeouts")
        + num(row, "rejected")
        + num(row, "short_circuited")
        + num(row, "rate_limited")
        + num(row, "bulkhead_full")
        + num(row, "shed");
    assert_eq!(
        failed, reasons,
        "{file}: failed != sum of reasons in {row:?}"
    );
    assert!(
        num(row, "attempts") + num(row, "short_circuited") >= requests,
        "{file}: fewer attempts than requests in {row:?}"
    );
    let availability = &row["availability"];
    if requests == 0 {
        assert_eq!(availability, "", "{file}: availability of an empty row");
    } else {
        let expected = format!("{:.6}", (ok + degraded) as f64 / requests as f64);
        assert_eq!(availability, &expected, "{file}: availability in {row:?}");
    }
}

#[test]
fn every_shipped_scenario_runs_and_conserves_requests_in_every_row() {
    let scenarios = common::shipped_scenarios();
    assert!(
        scenarios.len() >= 3,
        "expected the shipped scenarios, found {scenarios:?}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    for file in &scenarios {
        let name = file
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        let out = dir.path().join(&name);
        let out_s = out.to_str().expect("utf-8 path");
        let result = common::resim(
            dir.path(),
            &[
                "run",
                file.to_str().expect("utf-8"),
                "--seeds",
                "2",
                "--out",
                out_s,
                "--quiet",
            ],
        );
        assert!(
            result.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let summary = common::csv_rows(&out.join("summary.csv"));
        let study = resim::Study::load(file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary.len(),
            2 * study.cells.len(),
            "{name}: one summary row per variant, sweep point and seed"
        );
        // A run is named by every column before `seed`: the variant and the swept values.
        let header = std::fs::read_to_string(out.join("summary.csv")).expect("summary");
        let lead: Vec<String> = header
            .lines()
            .next()
            .expect("a header")
            .split(',')
            .take_while(|c| *c != "seed")
            .map(str::to_string)
            .collect();
        let run_of = |r: &Row| -> Vec<String> {
            lead.iter()
                .chain(std::iter::once(&"seed".to_string()))
                .map(|c| r[c].clone())
                .collect()
        };
        let series = common::csv_rows(&out.join("timeseries.csv"));
        assert!(!series.is_empty(), "{name}: empty time series");
        for row in summary.iter().chain(&series) {
            assert_conserved(&name, row);
        }
        // The time series adds up to the summary, per seed.
        for s in &summary {
            let run = run_of(s);
            for column in [
                "requests",
                "ok",
                "degraded",
                "failed",
                "attempts",
                "errors",
                "timeouts",
                "rejected",
                "short_circuited",
            ] {
                let total: u64 = series
                    .iter()
                    .filter(|r| run_of(r) == run)
                    .map(|r| num(r, column))
                    .sum();
                assert_eq!(
                    total,
                    num(s, column),
                    "{name}: run {run:?}: {column} of the series"
                );
            }
        }
        assert!(
            num(&summary[0], "requests") > 0,
            "{name}: counted no request"
        );
        // clients.csv: each client's row adds up, and the clients add up to the summary.
        let clients = common::csv_rows(&out.join("clients.csv"));
        for row in &clients {
            assert_conserved(&name, row);
        }
        for s in &summary {
            let run = run_of(s);
            for column in ["requests", "ok", "degraded", "failed", "attempts", "shed"] {
                let total: u64 = clients
                    .iter()
                    .filter(|r| run_of(r) == run)
                    .map(|r| num(r, column))
                    .sum();
                assert_eq!(
                    total,
                    num(s, column),
                    "{name}: run {run:?}: {column} of the clients"
                );
            }
        }
        // replicas.csv: each replica's arrivals end at most once, and the shares of a
        // service's replicas add up to 1.
        let replicas = common::csv_rows(&out.join("replicas.csv"));
        let mut shares: BTreeMap<(Vec<String>, String), f64> = BTreeMap::new();
        for r in &replicas {
            assert!(
                num(r, "completed") + num(r, "rejected") + num(r, "shed") <= num(r, "arrivals"),
                "{name}: a replica ended more requests than reached it: {r:?}"
            );
            assert!(num(r, "errors") <= num(r, "completed"), "{name}: {r:?}");
            if let Ok(share) = r["share"].parse::<f64>() {
                *shares.entry((run_of(r), r["service"].clone())).or_default() += share;
            }
        }
        assert!(!replicas.is_empty(), "{name}: no replicas.csv rows");
        // Messages: each counted message ended once (or was still stored), and every
        // row of queues.csv conserves its queue's messages so far.
        for s in &summary {
            assert_eq!(
                num(s, "messages"),
                num(s, "processed") + num(s, "dead_lettered") + num(s, "messages_left"),
                "{name}: messages in {s:?}"
            );
        }
        let mut so_far: BTreeMap<(Vec<String>, String), (u64, u64)> = BTreeMap::new();
        for r in &common::csv_rows(&out.join("queues.csv")) {
            let (stored, ended) = so_far.entry((run_of(r), r["queue"].clone())).or_default();
            *stored += num(r, "sent") - num(r, "refused");
            *ended += num(r, "acknowledged") + num(r, "dead_lettered");
            assert_eq!(
                *stored,
                *ended + num(r, "depth_end"),
                "{name}: a message was lost by {r:?}"
            );
            assert!(num(r, "in_flight") <= num(r, "depth_end"), "{name}: {r:?}");
        }
        for (key, total) in shares {
            assert!(
                (total - 1.0).abs() < 1e-4,
                "{name}: shares of {key:?}: {total}"
            );
        }
    }
}

#[test]
fn every_shipped_scenario_validates_and_describes_itself() {
    for file in common::shipped_scenarios() {
        let s = resim::Scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !s.description.is_empty(),
            "{}: no description",
            file.display()
        );
        let text = std::fs::read_to_string(&file).expect("readable");
        assert!(
            text.starts_with("# "),
            "{}: first line should be a one-line comment",
            file.display()
        );
    }
}
