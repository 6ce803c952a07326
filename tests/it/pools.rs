//! Worker pools per caller on a service (`scenarios/pools.toml`): a batch job floods the
//! API at 10x for 30 s.

use crate::common;
use resim::run::RunResult;

fn counts(r: &RunResult, name: &str) -> resim::metrics::Counts {
    r.metrics
        .clients
        .iter()
        .find(|c| c.name == name)
        .expect("client")
        .counts
}

/// With one shared pool the flood fills the workers and the waiting rooms, and web's
/// requests are refused too; with 4 of each replica's 12 workers reserved for web (300/s
/// per replica for 400/s of capacity), web loses nothing, and the batch job is served by
/// its other 8 workers per replica: 300/s outside the flood (80 counted seconds) plus
/// 2 x 8 / 10 ms = 1,600/s during it (30 s), 72,000.
#[test]
fn a_pool_per_caller_keeps_the_interactive_client_whole() {
    let study =
        resim::Study::load(&common::root().join("scenarios/pools.toml")).expect("shipped scenario");
    for cell in &study.cells {
        let r = resim::run_one(&cell.scenario, cell.scenario.seed).expect("runs");
        let web = counts(&r, "web").availability().expect("requests");
        if cell.variant == "base" {
            assert!(web < 0.95, "{web}");
        } else {
            assert_eq!(web, 1.0);
            let batch_ok = counts(&r, "batch").ok as f64;
            assert!((batch_ok / 72_000.0 - 1.0).abs() < 0.03, "{batch_ok}");
        }
    }
}
