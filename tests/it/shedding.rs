//! Queue disciplines and load shedding on a service: LIFO and adaptive LIFO, the longest
//! wait allowed (`max_queue_time`), CoDel, and the retry storm they end.

use crate::common;
use resim::run::RunResult;

/// One single-worker replica serving 10 ms requests, sent every 1/`rate` s (constant
/// arrivals) for 3 s with no timeout; `extra` goes in the service table.
fn overloaded(rate: u32, extra: &str) -> String {
    format!(
        r#"name = "overload"
duration = "3s"
warmup = "1s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = {rate} }}
timeout = "1h"
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "10ms" }}
{extra}
"#
    )
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn p50_ms(r: &RunResult) -> f64 {
    ms(r.metrics.latency.as_ref().expect("successes").p50_ns)
}

fn max_ms(r: &RunResult) -> f64 {
    ms(r.metrics.latency.as_ref().expect("successes").max_ns)
}

/// At 150 requests/s for a capacity of 100/s, FIFO makes each request wait for the whole
/// backlog (a third of its arrival time: from 333 ms at 1 s on); LIFO serves the newest,
/// which arrived under 10 ms ago, and lets the oldest starve; adaptive LIFO is LIFO as soon
/// as the queue has stood for 100 ms.
#[test]
fn lifo_serves_the_newest_requests_under_overload() {
    let fifo = common::run(&overloaded(150, ""), 1);
    let lifo = common::run(&overloaded(150, "queue_discipline = \"lifo\""), 1);
    let adaptive = common::run(&overloaded(150, "queue_discipline = \"adaptive_lifo\""), 1);
    assert!(p50_ms(&fifo) > 300.0, "FIFO: {}", p50_ms(&fifo));
    assert!(p50_ms(&lifo) < 20.0, "LIFO: {}", p50_ms(&lifo));
    assert!(
        p50_ms(&adaptive) < 20.0,
        "adaptive LIFO: {}",
        p50_ms(&adaptive)
    );
}

/// With `max_queue_time = "50ms"` no served request waited longer: every success took at
/// most 50 + 10 ms, and the requests that would have waited longer were shed (answered at
/// once with an error, counted in `shed`). Without it the longest wait grows with the run.
#[test]
fn no_served_request_waits_longer_than_max_queue_time() {
    let plain = common::run(&overloaded(120, ""), 1);
    assert!(max_ms(&plain) > 400.0, "{}", max_ms(&plain));
    let shedding = common::run(&overloaded(120, "max_queue_time = \"50ms\""), 1);
    assert!(max_ms(&shedding) <= 60.0, "{}", max_ms(&shedding));
    let t = &shedding.metrics.totals;
    assert!(t.shed > 0);
    assert_eq!(t.shed, t.failed(), "shedding is the only failure");
    // Capacity 100/s of 120/s offered: a sixth of the requests are shed, in the long run.
    let share = t.shed as f64 / t.requests as f64;
    assert!((0.12..0.22).contains(&share), "{share}");
    assert_eq!(shedding.metrics.services[0].shed, t.shed);
}

/// CoDel lets a request wait at most its interval (100 ms), and only its target (5 ms)
/// once the queue has stood for an interval: served requests wait far less than under
/// FIFO, and never more than 100 ms.
#[test]
fn codel_bounds_the_wait_of_served_requests() {
    let codel = common::run(
        &overloaded(120, "codel = { target = \"5ms\", interval = \"100ms\" }"),
        1,
    );
    assert!(max_ms(&codel) <= 110.0, "{}", max_ms(&codel));
    assert!(codel.metrics.totals.shed > 0);
    let fifo = common::run(&overloaded(120, ""), 1);
    assert!(p50_ms(&codel) * 5.0 < p50_ms(&fifo));
}

/// The retry storm at load 0.75 (`scenarios/retry-storm-shedding.toml`): with FIFO queues
/// deadline propagation alone never recovers from a 3 s hang; serving the freshest
/// requests first (LIFO, adaptive LIFO) or shedding stale ones (CoDel, max_queue_time)
/// recovers within seconds, same seed.
#[test]
fn lifo_and_codel_end_the_retry_storm_that_fifo_cannot() {
    let study = resim::Study::load(&common::root().join("scenarios/retry-storm-shedding.toml"))
        .expect("shipped scenario");
    for cell in &study.cells {
        let r = resim::run_one(&cell.scenario, cell.scenario.seed).expect("runs");
        let recovery = match r.recovery {
            resim::metrics::recovery::Recovery::Seconds(s) => s,
            resim::metrics::recovery::Recovery::Never => f64::INFINITY,
            resim::metrics::recovery::Recovery::NotApplicable => panic!("a scheduled fault"),
        };
        if cell.variant == "base" {
            assert!(recovery.is_infinite(), "FIFO recovered in {recovery} s");
        } else {
            assert!(recovery <= 5.0, "{}: {recovery} s", cell.variant);
        }
    }
}

/// Regression: under LIFO a worker that takes the newest probe marker answers the newest
/// probe round, not the oldest: an overloaded replica (Poisson 110/s for 100/s) answers
/// most probes in time (those buried under later requests starve, as LIFO's oldest do),
/// instead of every probe answering a stale round and timing out.
#[test]
fn lifo_answers_the_probe_it_takes() {
    let r = common::run(
        &overloaded(
            110,
            "queue_discipline = \"lifo\"\nhealth_check = { interval = \"1s\", timeout = \"1s\" }",
        )
        .replace("duration = \"3s\"", "duration = \"60s\"")
        .replace("\"constant\", rate_per_s", "\"poisson\", rate_per_s")
        .replace(
            "{ kind = \"constant\", value = \"10ms\" }",
            "{ kind = \"exponential\", mean = \"10ms\" }",
        ),
        1,
    );
    let s = &r.metrics.services[0];
    let probes: u64 = s.rows.iter().map(|row| row.probes).sum();
    let failed: u64 = s.rows.iter().map(|row| row.probes_failed).sum();
    assert!(probes > 50);
    assert!(failed * 4 < probes, "{failed} of {probes} failed");
}
