//! Validating and building a large call graph: services `s0` to `s{n-1}`, each calling 39
//! later services spread over the rest of the graph (fewer near the end), so the graph has
//! no cycles; one client targets `s0`.
//!
//! - `validate`: [`resim::Study::from_text`] on the scenario's text, what `resim validate`
//!   does (and `resim run` before anything runs): parsing, every check, the base variant.
//! - `build_model`: [`resim::run_one`] on the validated scenario, whose client sends
//!   nothing in its 10 ms: building the model (replicas, edges, balancers, timers) and
//!   freezing its empty metrics.
//!
//! Each at 500, 1,000 and 3,000 services (about 19,000, 38,000 and 116,000 calls); the
//! item count is the number of calls, so `item/s` stays level when the cost grows in
//! proportion to the calls. Generating the text is not timed. Run with
//! `cargo bench --bench validate`.

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};

/// Calls per service (fewer for the last 39 services).
const CALLS: usize = 39;
/// Samples per benchmark.
const SAMPLES: u32 = 10;

fn main() {
    divan::main();
}

/// The scenario text with `n` services, and its number of calls.
fn large_call_graph(n: usize) -> (String, u64) {
    let mut text = String::from(
        "name = \"large\"\nduration = \"10ms\"\nbucket = \"10ms\"\n\n[[client]]\nname = \"web\"\ntarget = \"s0\"\narrival = { kind = \"constant\", rate_per_s = 1 }\n",
    );
    let mut calls = 0;
    for i in 0..n {
        text += &format!(
            "\n[[service]]\nname = \"s{i}\"\nservice_time = {{ kind = \"constant\", value = \"1ms\" }}\n"
        );
        let later = n - i - 1;
        // `CALLS` distinct later services, evenly spread: i + 1 + floor(j x later / CALLS).
        let to: Vec<String> = (0..CALLS.min(later))
            .map(|j| format!("{{ to = \"s{}\" }}", i + 1 + j * later / CALLS.min(later)))
            .collect();
        calls += to.len() as u64;
        if !to.is_empty() {
            text += &format!("calls = [{}]\n", to.join(", "));
        }
    }
    (text, calls)
}

#[divan::bench(args = [500, 1_000, 3_000], sample_count = SAMPLES, sample_size = 1)]
fn validate(bencher: Bencher, services: usize) {
    let (text, calls) = large_call_graph(services);
    bencher.counter(ItemsCount::new(calls)).bench(|| {
        resim::Study::from_text(black_box(&text), "large.toml").unwrap_or_else(|e| panic!("{e}"))
    });
}

#[divan::bench(args = [500, 1_000, 3_000], sample_count = SAMPLES, sample_size = 1)]
fn build_model(bencher: Bencher, services: usize) {
    let (text, calls) = large_call_graph(services);
    let scenario =
        resim::Scenario::from_text(&text, "large.toml").unwrap_or_else(|e| panic!("{e}"));
    bencher.counter(ItemsCount::new(calls)).bench(|| {
        let r = resim::run_one(black_box(&scenario), 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.requests_sent, 0, "the client sends nothing in 10 ms");
        r
    });
}
