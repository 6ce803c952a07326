//! Routing around failures: passive outlier detection (Envoy's consecutive-errors
//! detector) on a crashed replica.

use crate::common;

/// Three API replicas call two db replicas; db[0] crashes from 10 s to 40 s. Without
/// detection, round robin keeps sending it half of the calls, and they fail; with outlier
/// detection each API replica ejects it after 5 errors in a row, for 10 s, then 20 s: the
/// errors stop after the first few per caller and ejection (3 callers x 5 errors x 2
/// ejections = 30, plus the calls already in flight).
#[test]
fn outlier_detection_ejects_a_crashed_replica_after_a_few_errors() {
    let text = |detection: &str| {
        format!(
            r#"name = "crash"
duration = "60s"
warmup = "0s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 400 }}
[[service]]
name = "api"
replicas = 3
concurrency = 16
service_time = {{ kind = "exponential", mean = "2ms" }}
calls = [{{ to = "db"{detection} }}]
[[service]]
name = "db"
replicas = 2
concurrency = 8
service_time = {{ kind = "exponential", mean = "2ms" }}
[[fault]]
kind = "crash"
target = "db[0]"
at = "10s"
for = "30s"
"#
        )
    };
    let plain = common::run(&text(""), 1);
    let detected = common::run(
        &text(
            r#", outlier_detection = { consecutive_errors = 5, base_ejection = "10s", max_ejection_percent = 50 }"#,
        ),
        1,
    );
    let failed = |r: &resim::run::RunResult| r.metrics.totals.failed();
    assert!(
        failed(&plain) > 4000,
        "half of 30 s x 400/s: {}",
        failed(&plain)
    );
    assert!(
        (30..=60).contains(&failed(&detected)),
        "about 3 callers x 5 errors x 2 ejections: {}",
        failed(&detected)
    );
    let log = &detected.metrics.policy_log;
    let ejections = log
        .events
        .iter()
        .filter(|e| e.policy == "outlier_detection" && e.event == "ejected")
        .count();
    assert_eq!(ejections, 6, "each of 3 callers ejects db[0] twice");
    assert!(
        log.events
            .iter()
            .filter(|e| e.policy == "outlier_detection")
            .all(|e| e.value == Some(0.0))
    );
}

/// Active health checks: with probes every 2 s, 3 failures to mark a replica unhealthy and
/// a 1 s propagation, db[0] crashing at 10 s fails its probes at 10, 12 and 14 s and leaves
/// the balancers at 15 s (interval x (threshold - 1) + propagation after the first failed
/// probe); it is back at 41 s (its first probe after the restart at 40 s, plus the
/// propagation). Meanwhile half of the calls fail for those 5 s (about 1,000), then none.
#[test]
fn health_checks_take_a_crashed_replica_out_within_their_detection_time() {
    let r = common::run(&health_checked("crash"), 1);
    assert_eq!(
        health_changes(&r),
        [(15.0, "unhealthy", Some(0.0)), (41.0, "healthy", Some(0.0))]
    );
    let failed = r.metrics.totals.failed();
    assert!(
        (800..=1200).contains(&failed),
        "about 5 s x 200/s: {failed}"
    );
    // services.csv's healthy_replicas: 2 until 15 s, 1 until 41 s, 2 again (1 s buckets).
    let db = r
        .metrics
        .services
        .iter()
        .find(|s| s.name == "db")
        .expect("db");
    let healthy: Vec<f64> = db.rows.iter().map(|row| row.healthy_replicas).collect();
    assert_eq!(healthy[14], 2.0);
    assert!(healthy[15..41].iter().all(|&h| h == 1.0), "{healthy:?}");
    assert_eq!(healthy[41], 2.0);
    // Probes every 2 s for both replicas: 2 per even second, db[0]'s failing from 10 s to 38 s.
    let probes: u64 = db.rows.iter().map(|row| row.probes).sum();
    let failed: u64 = db.rows.iter().map(|row| row.probes_failed).sum();
    assert_eq!(
        (probes, failed),
        (58, 15),
        "29 rounds of 2 probes; 15 failed rounds (10..=38 s)"
    );
}

/// A hung replica lets its probes time out (1 s, the default): those sent at 10, 12 and 14 s
/// fail at 11, 13 and 15 s, so it leaves the balancers at 16 s, one timeout later than a
/// crashed one. When the hang ends at 40 s, the probe sent then waits behind the calls that
/// queued during the hang (at most the 48 API workers, blocked on calls without timeouts),
/// which 8 workers of 2 ms drain in about 12 ms: it returns a few ms after 41 s.
#[test]
fn health_checks_take_a_hung_replica_out_too() {
    let r = common::run(&health_checked("hang"), 1);
    let changes = health_changes(&r);
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0], (16.0, "unhealthy", Some(0.0)));
    let (back, event, replica) = changes[1];
    assert_eq!((event, replica), ("healthy", Some(0.0)));
    assert!(
        back > 41.0 && back < 41.05,
        "41 s plus the drain of the queue: {back}"
    );
}

/// The health changes logged in `r`: (seconds, event, replica).
fn health_changes(r: &resim::run::RunResult) -> Vec<(f64, &'static str, Option<f64>)> {
    r.metrics
        .policy_log
        .events
        .iter()
        .filter(|e| e.policy == "health_check")
        .map(|e| (e.time.as_nanos() as f64 / 1e9, e.event, e.value))
        .collect()
}

/// Three API replicas calling two health-checked db replicas; a fault of `kind` on db[0]
/// from 10 s to 40 s.
fn health_checked(kind: &str) -> String {
    r#"name = "crash"
duration = "60s"
warmup = "0s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 400 }
[[service]]
name = "api"
replicas = 3
concurrency = 16
service_time = { kind = "exponential", mean = "2ms" }
calls = [{ to = "db" }]
[[service]]
name = "db"
replicas = 2
concurrency = 8
service_time = { kind = "exponential", mean = "2ms" }
health_check = { interval = "2s", unhealthy_threshold = 3, healthy_threshold = 1, propagation = "1s" }
[[fault]]
kind = "KIND"
target = "db[0]"
at = "10s"
for = "30s"
"#
    .replace("KIND", kind)
}

/// Probes wait in the waiting room like requests. db[0] made 50x slower from 10 s serves
/// 8 / 100 ms = 80 calls/s of the 200/s sent to it, so the calls queue there, up to the
/// API workers blocked on them (48): a probe waits about 48 x 100 ms / 8 = 0.6 s. With a
/// 1 s timeout it passes and nothing changes; with 200 ms it times out and db[0] leaves
/// the balancers (and returns once its queue has drained: it flaps).
#[test]
fn probes_queue_behind_requests_and_time_out_on_an_overloaded_replica() {
    let scenario = |timeout: &str| {
        health_checked("slow")
            .replace(
                "propagation = \"1s\" }",
                &format!("propagation = \"1s\", timeout = \"{timeout}\" }}"),
            )
            .replace("for = \"30s\"", "for = \"30s\"\nfactor = 50.0")
    };
    let patient = common::run(&scenario("1s"), 1);
    assert_eq!(health_changes(&patient), []);
    let hasty = common::run(&scenario("200ms"), 1);
    let changes = health_changes(&hasty);
    assert!(!changes.is_empty());
    assert_eq!(changes[0].1, "unhealthy");
    assert!(
        changes
            .iter()
            .all(|&(t, _, replica)| t > 10.0 && replica == Some(0.0)),
        "{changes:?}"
    );
}

/// A probe takes a worker for its cost. One single-worker replica serving 10 ms requests
/// at 1/s is probed every second for 500 ms: a request finds the worker on a probe half of
/// the time and then waits the rest of it, 250 ms on average, so the mean response time is
/// 10 + 0.5 x 250 = 135 ms (the requests' own queueing adds under 1 ms at load 0.01).
#[test]
fn a_probe_costs_its_replica_a_worker_for_its_probe_cost() {
    let text = r#"name = "probe-cost"
duration = "2000s"
warmup = "10s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 1 }
[[service]]
name = "api"
concurrency = 1
service_time = { kind = "constant", value = "10ms" }
health_check = { interval = "1s", probe_cost = "500ms" }
"#;
    let r = common::run(text, 1);
    let mean_ms = r.metrics.latency.expect("successes").mean_ns / 1e6;
    assert!(
        (125.0..145.0).contains(&mean_ms),
        "10 + 0.5 x 250 = 135 ms: {mean_ms}"
    );
    let free = common::run(&text.replace("500ms", "0s"), 1);
    let free_ms = free.metrics.latency.expect("successes").mean_ns / 1e6;
    assert!((10.0..10.5).contains(&free_ms), "{free_ms}");
}

/// Where probes come from decides whether a partition shows: a kubelet probes on the
/// replica's own node, so db[0] cut off from the API by a partition stays "healthy" while
/// every call to it is lost; probes sent from the API (`from = "api"`) are lost too, time
/// out at 11, 13 and 15 s, and db[0] leaves the balancers at 16 s.
#[test]
fn probes_from_a_caller_see_a_partition_that_local_probes_miss() {
    let partitioned = |from: &str| {
        health_checked("partition")
            .replace(
                "propagation = \"1s\" }",
                &format!("propagation = \"1s\"{from} }}"),
            )
            .replace(
                "target = \"db[0]\"\n",
                "between = [[\"api\"], [\"db[0]\"]]\n",
            )
    };
    let local = common::run(&partitioned(""), 1);
    assert_eq!(health_changes(&local), []);
    let remote = common::run(&partitioned(", from = \"api\""), 1);
    assert_eq!(
        health_changes(&remote),
        [(16.0, "unhealthy", Some(0.0)), (41.0, "healthy", Some(0.0))]
    );
}

/// `replicas.csv`'s figures add up to the service's, and show what consistent hashing on a
/// skewed key space does: round robin gives each of 4 cache replicas a quarter of the
/// load, ring hash and maglev under Zipf-distributed keys give one replica far more.
#[test]
fn per_replica_totals_add_up_and_show_the_hot_replica_of_a_skewed_key_space() {
    let study = resim::Study::load(&common::root().join("scenarios/consistent-hashing.toml"))
        .expect("shipped scenario");
    for cell in &study.cells {
        let r = resim::run_one(&cell.scenario, cell.scenario.seed).expect("runs");
        for s in &r.metrics.services {
            let sum = |f: fn(&resim::metrics::service_stats::ReplicaTotals) -> u64| -> u64 {
                s.replicas.iter().map(f).sum()
            };
            assert_eq!(sum(|r| r.arrivals), s.arrivals, "{}", s.name);
            assert_eq!(sum(|r| r.completed), s.completed, "{}", s.name);
            assert_eq!(sum(|r| r.errors), s.errors, "{}", s.name);
            assert_eq!(sum(|r| r.rejected), s.rejected, "{}", s.name);
            assert_eq!(sum(|r| r.shed), s.shed, "{}", s.name);
        }
        let cache = r
            .metrics
            .services
            .iter()
            .find(|s| s.name == "cache")
            .expect("cache");
        let max_share = cache
            .replicas
            .iter()
            .map(|x| x.arrivals as f64 / cache.arrivals as f64)
            .fold(0.0, f64::max);
        if cell.variant == "base" {
            assert!(max_share < 0.26, "round robin: {max_share}");
        } else {
            assert!(max_share > 0.35, "{}: {max_share}", cell.variant);
        }
    }
}
