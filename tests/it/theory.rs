//! Queueing theory: the model's numbers against closed forms.
//!
//! Each test simulates a textbook queue (zero network latency, so the client-observed
//! latency is the service's response time), averages over several independent seeds run in
//! parallel, and compares with the exact steady-state value. The per-seed spread gives a
//! standard error, printed with every comparison, so a failure can be told apart from noise:
//! the tolerances are several standard errors wide, and a 10% model error fails every test.
//!
//! Time unit: the mean service time is 1 ms, so mu = 1000/s throughout.

use crate::common;
use resim::RunResult;
use resim::sweep::{run_seeds, seeds};

/// Runs `text` once per seed in `first..first + count`, in parallel, in seed order.
fn runs(text: &str, first: u64, count: u64) -> Vec<RunResult> {
    run_seeds(&common::scenario(text), &seeds(first, count), None).expect("every run finishes")
}

/// The mean of independent per-seed values and its standard error.
fn mean_and_stderr(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Asserts that the mean of `values` is within `rel_tol` (relative) of `expected`, and prints
/// the comparison either way.
fn assert_rel(what: &str, values: &[f64], expected: f64, rel_tol: f64) {
    let (mean, se) = mean_and_stderr(values);
    let rel = (mean - expected) / expected;
    let line = format!(
        "{what}: simulated {mean:.6} (standard error {se:.6}, {:.2}%), expected {expected:.6}, \
         relative error {:+.3}% (tolerance {:.1}%)",
        100.0 * se / expected,
        100.0 * rel,
        100.0 * rel_tol
    );
    println!("{line}");
    assert!(rel.abs() <= rel_tol, "{line}");
}

/// Asserts that the mean of `values` is within `abs_tol` of `expected`, and prints the
/// comparison either way.
fn assert_abs(what: &str, values: &[f64], expected: f64, abs_tol: f64) {
    let (mean, se) = mean_and_stderr(values);
    let line = format!(
        "{what}: simulated {mean:.6} (standard error {se:.6}), expected {expected:.6}, \
         error {:+.6} (tolerance {abs_tol})",
        mean - expected
    );
    println!("{line}");
    assert!((mean - expected).abs() <= abs_tol, "{line}");
}

/// Mean client-observed latency of successful requests, in seconds.
fn latency_s(r: &RunResult) -> f64 {
    r.metrics.latency.expect("some requests succeeded").mean_ns / 1e9
}

/// Erlang's C formula: the probability that an arrival waits in an M/M/c queue with offered
/// load `a` = lambda / mu erlangs (a < c):
/// C(c, a) = [a^c / c! * c / (c - a)] / [sum_{k<c} a^k / k! + a^c / c! * c / (c - a)].
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut below = 0.0;
    for k in 0..c {
        below += term;
        term *= a / f64::from(k + 1);
    }
    let top = term * f64::from(c) / (f64::from(c) - a);
    top / (below + top)
}

/// A single-service scenario fed by one Poisson client.
fn single_service(rate_per_s: f64, service: &str, duration: &str) -> String {
    format!(
        r#"
name = "theory"
duration = "{duration}"
warmup = "10s"
bucket = "10s"

[[client]]
name = "load"
target = "svc"
arrival = {{ kind = "poisson", rate_per_s = {rate_per_s} }}

[[service]]
name = "svc"
{service}
"#
    )
}

#[test]
fn erlang_c_matches_known_values() {
    // C(1, rho) = rho; C(2, 1) = 1/3; C(4, 2.8) = 0.428654 (tables / direct evaluation).
    assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    assert!((erlang_c(4, 2.8) - 0.428_654_318).abs() < 1e-8);
}

/// M/M/1 at rho = 0.7: lambda = 700/s, mu = 1000/s (exponential, mean 1 ms).
///
/// Mean response time W = 1 / (mu - lambda) = 1 / 300 s = 3.3333 ms; utilisation
/// (mean busy workers) = rho = 0.7.
///
/// 16 seeds x 1000 s (10 s warmup): about 11 million measured requests. The relative
/// asymptotic variance of the M/M/1 time average at rho = 0.7 is 2(1 + rho) / (rho (1 - rho)^2)
/// = 54 service times, so the standard error is about sqrt(54 / 1.6e7) = 0.2%: the 2%
/// tolerance is about ten standard errors, and a 10% error fails.
///
/// Measured: W = 3.3315 ms (-0.055%, standard error 0.20%); busy = 0.699998 (-0.000%,
/// standard error 0.05%).
#[test]
fn mm1_mean_response_time_is_one_over_mu_minus_lambda() {
    let (lambda, mu) = (700.0, 1000.0);
    let text = single_service(
        lambda,
        r#"concurrency = 1
queue = "unbounded"
service_time = { kind = "exponential", mean = "1ms" }"#,
        "1000s",
    );
    let results = runs(&text, 1, 16);
    let w: Vec<f64> = results.iter().map(latency_s).collect();
    assert_rel(
        "M/M/1 mean response time (s)",
        &w,
        1.0 / (mu - lambda),
        0.02,
    );
    let busy: Vec<f64> = results
        .iter()
        .map(|r| r.metrics.services[0].mean_busy)
        .collect();
    assert_rel("M/M/1 utilisation", &busy, lambda / mu, 0.02);
}

/// M/M/c with c = 4 workers on one replica: lambda = 2800/s, mu = 1000/s per worker, so the
/// offered load a = 2.8 erlangs and rho = a / c = 0.7.
///
/// Erlang C: C(4, 2.8) = 0.428654; mean response time W = 1/mu + C / (c mu - lambda)
/// = 1 ms + 0.428654 / 1200 s = 1.357212 ms; mean busy workers = a = 2.8.
///
/// 16 seeds x 300 s. Measured: W = 1.35679 ms (-0.031%, standard error 0.11%); busy =
/// 2.79867 (-0.047%, standard error 0.04%).
#[test]
fn mmc_mean_response_time_follows_erlang_c() {
    let (lambda, mu, c) = (2800.0, 1000.0, 4);
    let text = single_service(
        lambda,
        r#"replicas = 1
concurrency = 4
queue = "unbounded"
service_time = { kind = "exponential", mean = "1ms" }"#,
        "300s",
    );
    let results = runs(&text, 11, 16);
    let w: Vec<f64> = results.iter().map(latency_s).collect();
    let expected = 1.0 / mu + erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda);
    assert_rel("M/M/4 mean response time (s)", &w, expected, 0.02);
    let busy: Vec<f64> = results
        .iter()
        .map(|r| r.metrics.services[0].mean_busy)
        .collect();
    assert_rel("M/M/4 mean busy workers", &busy, lambda / mu, 0.02);
}

/// M/D/1 at rho = 0.7: lambda = 700/s, constant service D = 1 ms (mu = 1000/s).
///
/// Pollaczek-Khinchine: W = 1/mu + rho / (2 mu (1 - rho)) = 1 ms + 0.7 / 600 s
/// = 2.166667 ms. (An exponential service would give 3.3333 ms: the test tells them apart.)
///
/// 16 seeds x 500 s. Measured: W = 2.16810 ms (+0.066%, standard error 0.16%).
#[test]
fn md1_mean_response_time_follows_pollaczek_khinchine() {
    let (lambda, mu) = (700.0, 1000.0);
    let rho = lambda / mu;
    let text = single_service(
        lambda,
        r#"concurrency = 1
queue = "unbounded"
service_time = { kind = "constant", value = "1ms" }"#,
        "500s",
    );
    let results = runs(&text, 21, 16);
    let w: Vec<f64> = results.iter().map(latency_s).collect();
    let expected = 1.0 / mu + rho / (2.0 * mu * (1.0 - rho));
    assert_rel("M/D/1 mean response time (s)", &w, expected, 0.02);
}

/// Little's law, L = lambda W, on every service of a two-tier system: "api" (2 replicas x 4
/// workers, exponential 2 ms) calls "db" (1 replica x 2 workers, exponential 1 ms) while
/// holding its worker; 1200 requests/s. It is a sample-path identity, so it holds whatever
/// the distributions: mean_in_system = (arrivals / window) * mean_sojourn, up to the
/// requests straddling the window's edges.
///
/// The db sees 1200/s on 2 workers (rho = 0.6); api's sojourn is its own 2 ms plus the db's
/// response time. The tiers are not product-form (api holds its worker during the call), so
/// only Little's law is asserted here.
///
/// 8 seeds x 100 s. Measured ratio L / (lambda W): api 1.000004, db 1.000007 (errors below
/// 0.001%; the identity is exact but for the window's edges).
#[test]
fn littles_law_holds_on_every_service_of_a_two_tier_system() {
    let text = r#"
name = "little"
duration = "100s"
warmup = "10s"
bucket = "10s"

[[client]]
name = "load"
target = "api"
arrival = { kind = "poisson", rate_per_s = 1200 }

[[service]]
name = "api"
replicas = 2
concurrency = 4
queue = "unbounded"
service_time = { kind = "exponential", mean = "2ms" }
calls = [{ to = "db" }]

[[service]]
name = "db"
replicas = 1
concurrency = 2
queue = "unbounded"
service_time = { kind = "exponential", mean = "1ms" }
"#;
    let results = runs(text, 31, 8);
    let window_s = 100.0 - 10.0; // duration - warmup
    for (i, name) in ["api", "db"].iter().enumerate() {
        let ratio: Vec<f64> = results
            .iter()
            .map(|r| {
                let s = &r.metrics.services[i];
                assert_eq!(s.name, *name);
                let lambda = s.arrivals as f64 / window_s;
                let w = s.mean_sojourn_ns.expect("requests completed") / 1e9;
                s.mean_in_system / (lambda * w)
            })
            .collect();
        assert_rel(
            &format!("{name}: mean_in_system / (arrival rate x mean sojourn)"),
            &ratio,
            1.0,
            0.02,
        );
    }
}

/// M/M/1/K with K = 5 places (concurrency 1, queue 4): lambda = 800/s, mu = 1000/s,
/// rho = 0.8.
///
/// Blocking probability P_K = (1 - rho) rho^K / (1 - rho^(K+1)) = 0.2 x 0.32768 / 0.737856
/// = 0.088819; by PASTA it is the fraction of requests rejected. The mean response time of
/// the accepted requests is L / (lambda (1 - P_K)) with
/// L = rho / (1 - rho) - (K + 1) rho^(K+1) / (1 - rho^(K+1)) = 1.868332, so W = 2.563065 ms.
///
/// 16 seeds x 500 s. Measured: P_K = 0.088630 (-0.000190 absolute, -0.21%, standard error
/// 0.00022); L = 1.86716 (-0.063%); W = 2.5624 ms (-0.026%); Little's law with the accepted
/// rate: ratio 1.000001.
#[test]
fn mm1k_blocking_probability_matches_the_closed_form() {
    let (lambda, mu, k) = (800.0, 1000.0, 5);
    let rho: f64 = lambda / mu;
    let text = single_service(
        lambda,
        r#"concurrency = 1
queue = 4
service_time = { kind = "exponential", mean = "1ms" }"#,
        "500s",
    );
    let results = runs(&text, 41, 16);
    let blocked: Vec<f64> = results
        .iter()
        .map(|r| r.metrics.totals.rejected as f64 / r.metrics.totals.requests as f64)
        .collect();
    let p_k = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    // 0.002 absolute is 2.3% of P_K: a 10% error in the blocking probability fails.
    assert_abs("M/M/1/5 blocking probability", &blocked, p_k, 0.002);
    let l = rho / (1.0 - rho) - f64::from(k + 1) * rho.powi(k + 1) / (1.0 - rho.powi(k + 1));
    let in_system: Vec<f64> = results
        .iter()
        .map(|r| r.metrics.services[0].mean_in_system)
        .collect();
    assert_rel("M/M/1/5 mean number in system", &in_system, l, 0.02);
    // Little's law with the rate of accepted requests: `arrivals` counts the rejected too.
    let little: Vec<f64> = results
        .iter()
        .map(|r| {
            let s = &r.metrics.services[0];
            let window_s = 500.0 - 10.0; // duration - warmup
            let accepted_per_s = (s.arrivals - s.rejected) as f64 / window_s;
            s.mean_in_system / (accepted_per_s * s.mean_sojourn_ns.expect("completions") / 1e9)
        })
        .collect();
    assert_rel("M/M/1/5 Little's law (accepted)", &little, 1.0, 0.02);
    let w: Vec<f64> = results.iter().map(latency_s).collect();
    assert_rel(
        "M/M/1/5 mean response time of accepted requests (s)",
        &w,
        l / (lambda * (1.0 - p_k)),
        0.02,
    );
}

/// `replicas` single-worker replicas with exponential service of mean 1 ms, fed by one
/// Poisson client at `rate_per_s` through `balancer`, with `extra` lines (faults).
fn balanced(rate_per_s: f64, replicas: u32, balancer: &str, duration: &str, extra: &str) -> String {
    format!(
        r#"
name = "balanced"
duration = "{duration}"
warmup = "5s"
bucket = "10s"

[[client]]
name = "load"
target = "svc"
arrival = {{ kind = "poisson", rate_per_s = {rate_per_s} }}
load_balancer = {balancer}

[[service]]
name = "svc"
replicas = {replicas}
concurrency = 1
queue = "unbounded"
service_time = {{ kind = "exponential", mean = "1ms" }}
{extra}
"#
    )
}

/// Random balancing splits a Poisson stream into independent Poisson streams, so four
/// single-worker replicas at rho = 0.7 each are four M/M/1 queues: W = 1 / (mu - lambda/4)
/// = 1 / (1000 - 700) s = 3.3333 ms. 8 seeds x 300 s (6.7 million requests); the standard
/// error is about 0.3%, the 3% tolerance ten of them. Measured: 3.3327 ms (-0.02%).
#[test]
fn random_balancing_makes_independent_mm1_queues() {
    let text = balanced(2800.0, 4, r#""random""#, "300s", "");
    let w: Vec<f64> = runs(&text, 1, 8).iter().map(latency_s).collect();
    assert_rel("random over 4 M/M/1 (s)", &w, 1.0 / (1000.0 - 700.0), 0.03);
}

/// The supermarket model (Mitzenmacher, "The Power of Two Choices in Randomized Load
/// Balancing", 2001): with d = 2 choices among n servers each at load lambda, the mean time
/// in system tends, as n grows, to sum_{i>=1} lambda^(2^i - 2) service times: at lambda =
/// 0.8, 1 + 0.8^2 + 0.8^6 + 0.8^14 + 0.8^30 + ... = 1.9474 ms, against 5 ms for random
/// (M/M/1). With n = 50 the finite system sits a little above the limit (Mitzenmacher's
/// simulations: within a few percent from n = 20 up); the tolerance is 6% above and 1%
/// below. 4 seeds x 60 s, 9.6 million requests. Measured: 1.972 ms (+1.25%).
#[test]
fn p2c_matches_the_supermarket_model() {
    let rho: f64 = 0.8;
    let limit: f64 = (1..20).map(|i| rho.powi((1 << i) - 2)).sum::<f64>() / 1000.0;
    let text = balanced(
        50.0 * 800.0,
        50,
        r#"{ kind = "p2c", choices = 2 }"#,
        "60s",
        "",
    );
    let w: Vec<f64> = runs(&text, 1, 4).iter().map(latency_s).collect();
    let (mean, _) = mean_and_stderr(&w);
    let rel = (mean - limit) / limit;
    println!(
        "p2c, n = 50, rho = 0.8: {mean:.6} s, supermarket limit {limit:.6} s ({:+.2}%)",
        100.0 * rel
    );
    assert!(
        (-0.01..0.06).contains(&rel),
        "p2c {mean} s against the limit {limit} s"
    );
}

/// One of four replicas made 4x slower (a `slow` fault): random keeps sending it a
/// quarter of the requests, so the mean is the Poisson-split mix 0.75 / (1000 - 150) +
/// 0.25 / (250 - 150) s = 3.382 ms (checked within 4%); least outstanding (join the
/// shortest queue) and p2c see its queue grow and send it less, so they beat random by far
/// (under half of its mean, and under 0.6 of it), and beat round robin too. 4 seeds x 200 s
/// each. Measured: random 3.371 ms (-0.3% from theory), round robin 2.483, least
/// outstanding 1.535, p2c 1.658 ms.
#[test]
fn balancers_that_see_queues_avoid_a_slow_replica() {
    let slow = r#"
[[fault]]
kind = "slow"
target = "svc[3]"
factor = 4
at = "0s"
"#;
    let mean = |balancer: &str| {
        let text = balanced(600.0, 4, balancer, "200s", slow);
        let w: Vec<f64> = runs(&text, 1, 4).iter().map(latency_s).collect();
        mean_and_stderr(&w).0
    };
    let random = mean(r#""random""#);
    let expected = 0.75 / (1000.0 - 150.0) + 0.25 / (250.0 - 150.0);
    let round_robin = mean(r#""round_robin""#);
    let least = mean(r#""least_outstanding""#);
    let p2c = mean(r#""p2c""#);
    println!(
        "slow replica: random {random:.6}, round robin {round_robin:.6}, least outstanding {least:.6}, p2c {p2c:.6} s (random's theory {expected:.6})"
    );
    assert!(
        (random - expected).abs() / expected < 0.04,
        "{random} vs {expected}"
    );
    assert!(least < 0.5 * random && least < round_robin, "{least}");
    assert!(p2c < 0.6 * random && p2c < round_robin, "{p2c}");
}
