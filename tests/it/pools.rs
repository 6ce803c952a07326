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

/// Regression: an adaptive limit that admits a request in a lower-class request's place
/// takes that place in the arriving request's own pool. Web (default) and a batch job in
/// separate pools: whether the batch job is sheddable or default cannot change anything,
/// since web may only ever displace requests of its own pool.
#[test]
fn an_adaptive_limit_evicts_only_within_the_arriving_requests_pool() {
    let scenario = |batch_priority: &str| {
        format!(
            r#"name = "evict"
duration = "20s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 600 }}
[[client]]
name = "batch"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 1000 }}
priority = "{batch_priority}"
[[service]]
name = "api"
concurrency = 12
service_time = {{ kind = "exponential", mean = "10ms" }}
pools = [{{ callers = ["web"], concurrency = 4, queue = 2 }}, {{ concurrency = 8 }}]
concurrency_limit = {{ kind = "aimd", initial = 20, min = 20, max = 20 }}
"#
        )
    };
    let sheddable = common::run(&scenario("sheddable"), 1);
    let default = common::run(&scenario("default"), 1);
    for name in ["web", "batch"] {
        assert_eq!(counts(&sheddable, name), counts(&default, name), "{name}");
    }
    assert!(
        counts(&sheddable, "batch").shed > 0,
        "the limit sheds at arrival"
    );
}
