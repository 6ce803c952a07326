//! Rate limits on a service: the long-run rate a limiter admits, its scope (per replica
//! or for the whole service), one limiter per caller, and the flood scenario.

use crate::common;
use resim::run::RunResult;

/// `client` sends 1,000 requests/s (constant) for 20 s (counted from 2 s) to a service of
/// `replicas` fast replicas with `limit` as its rate limit.
fn limited(replicas: u32, limit: &str) -> String {
    format!(
        r#"name = "limited"
duration = "22s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = 1000 }}
[[service]]
name = "api"
replicas = {replicas}
concurrency = 100
service_time = {{ kind = "constant", value = "1ms" }}
rate_limit = {limit}
"#
    )
}

fn ok(r: &RunResult) -> u64 {
    r.metrics.totals.ok
}

/// A token bucket of 250/s on each of 2 replicas admits 500/s of the 1,000/s sent; with
/// `scope = "service"` one bucket admits 250/s for both. Over the 20 counted seconds (its
/// burst long spent): 10,000 and 5,000, within a token or two.
#[test]
fn a_token_bucket_admits_its_rate_per_replica_or_per_service() {
    let per_replica = common::run(
        &limited(
            2,
            r#"{ kind = "token_bucket", rate_per_s = 250, burst = 10 }"#,
        ),
        1,
    );
    assert!(
        (9_998..=10_002).contains(&ok(&per_replica)),
        "{}",
        ok(&per_replica)
    );
    let t = &per_replica.metrics.totals;
    assert_eq!(t.rate_limited, t.requests - t.ok);
    let shared = common::run(
        &limited(
            2,
            r#"{ kind = "token_bucket", rate_per_s = 250, burst = 10, scope = "service" }"#,
        ),
        1,
    );
    assert!((4_998..=5_002).contains(&ok(&shared)), "{}", ok(&shared));
    let api = &shared.metrics.services[0];
    assert_eq!(api.rate_limited, shared.metrics.totals.rate_limited);
}

/// Windows: 100 per 200 ms admits 500/s of the 1,000/s sent, fixed or sliding, over the
/// 20 counted seconds (100 windows of 200 ms; a sliding window admits the same here, since
/// arrivals are evenly spaced).
#[test]
fn fixed_and_sliding_windows_admit_their_limit_per_period() {
    for kind in ["fixed_window", "sliding_window"] {
        let r = common::run(
            &limited(
                1,
                &format!(r#"{{ kind = "{kind}", limit = 100, period = "200ms" }}"#),
            ),
            1,
        );
        assert!((9_990..=10_010).contains(&ok(&r)), "{kind}: {}", ok(&r));
    }
}

/// `scenarios/rate-limit-flood.toml`: a scraper floods the API at 10x its usual rate for
/// 30 s. Without a limit the queues grow and the app loses a third of its requests; with a
/// per-caller token bucket (400/s per replica) the app loses none, and the scraper gets
/// 429s for what exceeds its share.
#[test]
fn a_per_caller_limit_keeps_the_app_whole_through_a_flood() {
    let study = resim::Study::load(&common::root().join("scenarios/rate-limit-flood.toml"))
        .expect("shipped scenario");
    for cell in &study.cells {
        let r = resim::run_one(&cell.scenario, cell.scenario.seed).expect("runs");
        let client = |name: &str| {
            r.metrics
                .clients
                .iter()
                .find(|c| c.name == name)
                .expect("client")
                .counts
        };
        let app = client("app").availability().expect("requests");
        let scraper = client("scraper");
        if cell.variant == "base" {
            assert!(app < 0.8, "no limit: the app suffers: {app}");
        } else {
            assert_eq!(app, 1.0);
            assert!(scraper.rate_limited > 0);
            assert_eq!(scraper.failed(), scraper.rate_limited);
        }
    }
}

/// A client sending 100 requests/s (constant) for 20 counted seconds, with `limit` as its
/// own rate limit, to a fast service (1 ms) with `server` as the service's limit (or none).
fn client_limited(limit: &str, server: &str) -> String {
    format!(
        r#"name = "client-limited"
duration = "22s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "constant", rate_per_s = 100 }}
rate_limit = {limit}
[[service]]
name = "api"
concurrency = 100
service_time = {{ kind = "constant", value = "1ms" }}
{server}
"#
    )
}

/// Resilience4j's rate limiter, 5 permits per 100 ms, on a client sending 10 per 100 ms:
/// without waiting half are refused at once (`rate_limited`, never sent); with
/// `max_wait = "200ms"` the excess reserves later cycles' permits until the wait would
/// pass 200 ms. Either way 50/s get through; waiting only delays, by at most 200 ms.
#[test]
fn a_client_side_limiter_refuses_or_delays_the_excess() {
    let refuse = common::run(
        &client_limited(
            r#"{ kind = "fixed_window", limit = 5, period = "100ms" }"#,
            "",
        ),
        1,
    );
    let t = &refuse.metrics.totals;
    assert!((995..=1005).contains(&t.ok), "{}", t.ok);
    assert_eq!(t.rate_limited, t.requests - t.ok);
    assert_eq!(t.attempts, t.ok, "a refused call is never sent");
    assert_eq!(refuse.metrics.services[0].arrivals, t.ok);
    let max = |r: &RunResult| r.metrics.latency.as_ref().expect("ok").max_ns as f64 / 1e6;
    assert!(max(&refuse) < 2.0, "{}", max(&refuse));

    let wait = common::run(
        &client_limited(
            r#"{ kind = "fixed_window", limit = 5, period = "100ms", max_wait = "200ms" }"#,
            "",
        ),
        1,
    );
    let t = &wait.metrics.totals;
    assert!((995..=1005).contains(&t.ok), "{}", t.ok);
    assert!(max(&wait) > 150.0 && max(&wait) <= 201.0, "{}", max(&wait));
}

/// Google SRE's adaptive throttling against a server that refuses (429) beyond 40/s of the
/// 100/s sent: the client learns to reject locally with probability
/// (requests - 2 x accepts) / (requests + 1), about (100 - 80) / 100 = 0.2, so the server
/// sees about 80/s instead of 100/s (80.2 in theory), and still accepts 40/s.
#[test]
fn adaptive_throttling_rejects_locally_what_the_server_would_refuse() {
    let server = r#"rate_limit = { kind = "token_bucket", rate_per_s = 40, burst = 40 }"#;
    let plain = common::run(
        &client_limited(r#"{ kind = "token_bucket", rate_per_s = 1000 }"#, server),
        1,
    );
    assert_eq!(
        plain.metrics.services[0].arrivals,
        plain.metrics.totals.requests
    );
    // Counted from 12 s for 60 s: the server's initial burst has left the 10 s window.
    let throttled = common::run(
        &client_limited(
            r#"{ kind = "adaptive_throttle", k = 2.0, window = "10s" }"#,
            server,
        )
        .replace("\"22s\"", "\"72s\"")
        .replace("\"2s\"", "\"12s\""),
        1,
    );
    let api = &throttled.metrics.services[0];
    let sent_per_s = api.arrivals as f64 / 60.0;
    assert!((78.0..82.5).contains(&sent_per_s), "{sent_per_s}");
    let accepted_per_s = (api.arrivals - api.rate_limited) as f64 / 60.0;
    assert!((39.5..40.5).contains(&accepted_per_s), "{accepted_per_s}");
    let t = &throttled.metrics.totals;
    assert_eq!(t.failed(), t.rate_limited, "local and remote 429s alike");
}

/// Regression: a request still on its way when its caller gave up (a 50 ms timeout over a
/// 100 ms hop) reaches a rate-limited service; the limiter reads the caller from the hop,
/// not from the caller's (gone) record, so the run ends normally and every request is
/// counted once.
#[test]
fn a_rate_limited_service_accepts_requests_whose_caller_gave_up() {
    for per in ["all", "caller"] {
        let r = common::run(
            &format!(
                r#"name = "gone"
duration = "5s"
warmup = "1s"
[network]
latency = {{ kind = "constant", value = "100ms" }}
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = 200 }}
timeout = "50ms"
[[service]]
name = "api"
service_time = {{ kind = "constant", value = "1ms" }}
rate_limit = {{ kind = "token_bucket", rate_per_s = 100, burst = 10, per = "{per}" }}
"#
            ),
            1,
        );
        let t = &r.metrics.totals;
        assert_eq!(t.requests, t.timeouts, "{per}: every answer comes too late");
        assert!(r.metrics.services[0].rate_limited > 0, "{per}");
    }
}

/// Regression: a refusal by the client's own limiter was never sent, so the callee's
/// `retry_after` (5 s) does not apply to it: the retry waits its own backoff (10 ms), and
/// no success takes seconds.
#[test]
fn a_local_refusal_ignores_the_callees_retry_after() {
    let r = common::run(
        r#"name = "local"
duration = "12s"
warmup = "2s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "constant", rate_per_s = 20 }
rate_limit = { kind = "token_bucket", rate_per_s = 15, burst = 1 }
retry = { max_attempts = 3, backoff = { kind = "constant", delay = "10ms" } }
[[service]]
name = "api"
concurrency = 10
queue = 10
retry_after = "5s"
service_time = { kind = "constant", value = "1ms" }
"#,
        1,
    );
    let max_ms = r.metrics.latency.as_ref().expect("successes").max_ns as f64 / 1e6;
    assert!(max_ms < 100.0, "{max_ms}");
    assert!(r.metrics.policy.retries > 0);
}
