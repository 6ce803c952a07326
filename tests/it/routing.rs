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
