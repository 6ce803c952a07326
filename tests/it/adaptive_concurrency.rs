//! Adaptive concurrency limits (Netflix concurrency-limits) against queueing theory, on
//! `scenarios/adaptive-concurrency.toml`: 1,500 requests/s offered to 10 workers of 10 ms
//! (1,000/s), twice as slow from 60 s.

use crate::common;
use resim::run::RunResult;

/// Each variant's run, by name.
fn runs() -> Vec<(String, RunResult)> {
    let study = resim::Study::load(&common::root().join("scenarios/adaptive-concurrency.toml"))
        .expect("shipped scenario");
    study
        .cells
        .iter()
        .map(|c| {
            let r = resim::run_one(&c.scenario, c.scenario.seed).expect("runs");
            (c.variant.clone(), r)
        })
        .collect()
}

/// The limit's logged levels (one per second) from `from` to `to` seconds.
fn levels(r: &RunResult, from: f64, to: f64) -> Vec<f64> {
    r.metrics
        .policy_log
        .events
        .iter()
        .filter(|e| e.policy == "concurrency_limit")
        .filter(|e| {
            let t = e.time.as_nanos() as f64 / 1e9;
            t >= from && t < to
        })
        .map(|e| e.value.expect("a level"))
        .collect()
}

/// The mean of the limit's logged levels from `from` to `to` seconds.
fn mean_level(r: &RunResult, from: f64, to: f64) -> f64 {
    let levels = levels(r, from, to);
    assert!(levels.len() > 10, "levels logged per bucket: {levels:?}");
    levels.iter().sum::<f64>() / levels.len() as f64
}

#[test]
fn limits_settle_where_theory_says_and_back_off_when_the_service_slows() {
    for (variant, r) in runs() {
        let before = || mean_level(&r, 30.0, 60.0);
        let after = || mean_level(&r, 80.0, 120.0);
        match variant.as_str() {
            "base" => {
                let a = r.metrics.totals.availability().expect("requests");
                assert!(a < 0.05, "no limit: the queue grows without end: {a}");
            }
            // AIMD cuts its limit when a window's mean latency passes 50 ms: by Little's
            // law, 1,000/s x 50 ms = 50 in flight, then 500/s x 50 ms = 25; the sawtooth
            // (+1 per window, x 0.9 over) sits just under.
            "aimd" => {
                assert!((45.0..=52.0).contains(&before()), "{}", before());
                assert!((22.0..=27.0).contains(&after()), "{}", after());
            }
            // Vegas holds its estimated queue, limit x (1 - 10 ms / latency), at 6 (beta):
            // with 10 workers the latency is limit x 1 ms, so limit - 10 = 6: 16; at 2 ms
            // per request (the no-load latency it remembers is still 10 ms),
            // limit x (1 - 10 / (2 x limit)) = 6: 11.
            "vegas" => {
                assert!((15.0..=16.5).contains(&before()), "{}", before());
                assert!((10.0..=11.5).contains(&after()), "{}", after());
            }
            // Gradient2 has no no-load reference: it shrinks when latency outgrows its
            // long-term average, here by about a third.
            "gradient2" => {
                assert!(after() < 0.8 * before(), "{} -> {}", before(), after());
            }
            other => panic!("unexpected variant {other}"),
        }
        if variant != "base" {
            let t = &r.metrics.totals;
            assert_eq!(
                t.failed(),
                t.shed,
                "{variant}: only shedding fails requests"
            );
            // Served: 1,000/s for 50 s then 500/s for 60 s, of 1,500/s for 110 s.
            let a = t.availability().expect("requests");
            assert!((0.46..0.50).contains(&a), "{variant}: {a}");
        }
    }
}

/// An error is not a drop (the library's gRPC server interceptor reports only CANCELLED and
/// DEADLINE_EXCEEDED as drops): a healthy service, 2,000 requests/s on 200 workers of 20 ms
/// (40 in flight), keeps AIMD's and Vegas' limits above what it needs with 1% of its
/// answers errors, and sheds next to nothing once the limit has grown (AIMD adds one a
/// second from 20). Counting errors as drops cut
/// AIMD to its minimum of 20 (availability 0.47) and Vegas to 5 (0.16).
#[test]
fn errors_are_not_drops() {
    for limit in ["aimd", "vegas"] {
        let text = format!(
            r#"
name = "errors-are-not-drops"
duration = "90s"
warmup = "60s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 2000 }}
[[service]]
name = "api"
concurrency = 200
service_time = {{ kind = "constant", value = "20ms" }}
error_rate = 0.01
concurrency_limit = {{ kind = "{limit}" }}
"#
        );
        let scenario = resim::Scenario::from_text(&text, "s.toml").expect("valid");
        let r = resim::run_one(&scenario, 1).expect("runs");
        let t = &r.metrics.totals;
        let shed = t.shed as f64 / t.requests as f64;
        assert!(shed < 0.001, "{limit}: {shed} of the requests shed");
        let errors = t.errors as f64 / t.requests as f64;
        assert!((0.008..0.012).contains(&errors), "{limit}: errors {errors}");
        assert!(
            mean_level(&r, 60.0, 90.0) > 60.0,
            "{limit}: limit {}",
            mean_level(&r, 60.0, 90.0)
        );
    }
}

/// Vegas has no minimum (the library keeps its limit in [1, max]): a `max` below the other
/// kinds' default minimum of 20 is accepted, the default start of 20 comes down to it, and
/// the level never passes it.
#[test]
fn a_small_vegas_limit_is_accepted_and_kept() {
    let text = r#"
name = "small-vegas"
duration = "30s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 500 }
[[service]]
name = "api"
concurrency = 2
service_time = { kind = "exponential", mean = "5ms" }
concurrency_limit = { kind = "vegas", max = 10 }
"#;
    let scenario =
        resim::Scenario::from_text(text, "s.toml").expect("a Vegas limit of 10 is valid");
    let r = resim::run_one(&scenario, 1).expect("runs");
    let levels = levels(&r, 0.0, f64::INFINITY);
    assert!(levels.len() > 10, "{levels:?}");
    assert!(
        levels.iter().all(|l| (1.0..=10.0).contains(l)),
        "{levels:?}"
    );
}
