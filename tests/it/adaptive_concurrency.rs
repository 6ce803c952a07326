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

/// The mean of the limit's logged levels (one per second) from `from` to `to` seconds.
fn mean_level(r: &RunResult, from: f64, to: f64) -> f64 {
    let levels: Vec<f64> = r
        .metrics
        .policy_log
        .events
        .iter()
        .filter(|e| e.policy == "concurrency_limit")
        .filter(|e| {
            let t = e.time.as_nanos() as f64 / 1e9;
            t >= from && t < to
        })
        .map(|e| e.value.expect("a level"))
        .collect();
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
