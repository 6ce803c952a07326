//! Faults: each kind does what its name says, with numbers; faults never change the traffic.

use crate::common;
use resim::metrics::recovery::Recovery;

/// One client at `rate`/s into one service `api`, with `extra` appended (faults, services).
fn one_service(rate: u32, concurrency: u32, extra: &str) -> String {
    format!(
        r#"
name = "faults"
duration = "60s"
warmup = "5s"
[[client]]
name = "web"
target = "api"
arrival = {{ kind = "poisson", rate_per_s = {rate} }}
timeout = "1s"
[[service]]
name = "api"
concurrency = {concurrency}
service_time = {{ kind = "exponential", mean = "2ms" }}
{extra}
"#
    )
}

const SECOND: u64 = 1_000_000_000;

/// A replica with a random crash process (exponential up and down times) and no redundancy
/// is available MTBF / (MTBF + MTTR) of the time: 10 s / 12.5 s = 0.8. Over 20 simulated
/// hours (about 5,800 failures per seed) and 4 seeds, the standard error is about 0.0015.
#[test]
fn random_crash_process_gives_mtbf_over_mtbf_plus_mttr() {
    let text = r#"
name = "availability"
duration = "20h"
warmup = "1m"
bucket = "1h"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 20 }
[[service]]
name = "api"
concurrency = 4
service_time = { kind = "exponential", mean = "1ms" }
[[fault]]
kind = "crash"
target = "api"
mtbf = "10s"
mttr = "2.5s"
"#;
    let scenario = common::scenario(text);
    let runs = resim::sweep::run_seeds(&scenario, &resim::sweep::seeds(1, 4), None).expect("runs");
    let (ok, requests) = runs.iter().fold((0, 0), |(ok, n), r| {
        (ok + r.metrics.totals.ok, n + r.metrics.totals.requests)
    });
    let availability = ok as f64 / requests as f64;
    let expected = 10.0 / 12.5;
    assert!(
        (availability - expected).abs() < 0.01,
        "availability {availability:.4}, expected {expected} (MTBF / (MTBF + MTTR))"
    );
    for r in &runs {
        assert_eq!(
            r.metrics.totals.timeouts + r.metrics.totals.rejected,
            0,
            "a crashed replica refuses at once"
        );
    }
}

/// The only replica crashes from 20 s to 30 s: every request sent then fails, every request
/// sent in other buckets succeeds (a request in flight at 20 s is reset, so bucket 19 may
/// lose the few that were still being served).
#[test]
fn a_scheduled_crash_of_the_only_replica_takes_availability_to_zero_in_its_buckets() {
    let text = one_service(
        100,
        4,
        "[[fault]]\nkind = \"crash\"\ntarget = \"api\"\nat = \"20s\"\nfor = \"10s\"\n",
    );
    let run = common::run(&text, 1);
    for b in &run.metrics.buckets {
        let t = b.start.as_nanos() / SECOND;
        let a = b.counts.availability().expect("traffic in every bucket");
        match t {
            20..=29 => assert_eq!(a, 0.0, "bucket {t}s is inside the crash"),
            19 => assert!(a > 0.95, "bucket 19s: {a}"),
            _ => assert_eq!(a, 1.0, "bucket {t}s is outside the crash"),
        }
    }
    assert_eq!(
        run.metrics.totals.failed(),
        run.metrics.totals.errors,
        "crash failures are errors"
    );
    let services = &run.metrics.services[0].rows;
    let up: Vec<f64> = services.iter().map(|r| r.replicas_up).collect();
    assert_eq!(
        up[15..25].iter().filter(|&&u| u == 0.0).count(),
        10,
        "down for 10 buckets: {up:?}"
    );
    assert!(
        matches!(run.recovery, Recovery::Seconds(s) if s == 0.0),
        "{:?}",
        run.recovery
    );
}

/// Common random numbers: a fault changes what happens to requests, never how many are sent.
#[test]
fn faults_do_not_change_the_traffic() {
    let plain = common::run(&one_service(100, 4, ""), 9);
    let faults = "[[fault]]\nkind = \"crash\"\ntarget = \"api\"\nmtbf = \"5s\"\nmttr = \"1s\"\n\
                  [[fault]]\nkind = \"slow\"\ntarget = \"api\"\nfactor = 3.0\nat = \"10s\"\nfor = \"20s\"\n\
                  [[fault]]\nkind = \"latency\"\ntarget = \"web->api\"\ndelay = { kind = \"exponential\", mean = \"20ms\" }\nat = \"30s\"\n";
    let faulty = common::run(&one_service(100, 4, faults), 9);
    let sent = |r: &resim::RunResult| {
        r.metrics
            .buckets
            .iter()
            .map(|b| b.counts.requests)
            .collect::<Vec<_>>()
    };
    assert_eq!(sent(&plain), sent(&faulty));
    assert!(
        faulty.metrics.totals.errors > 0,
        "the crashes did something"
    );
}

/// A partition between the client and the service drops every message: the client hears
/// nothing, and each request ends as a timeout after its 1 s timeout.
#[test]
fn a_partition_ends_requests_as_timeouts() {
    let text = one_service(
        50,
        4,
        "[[fault]]\nkind = \"partition\"\nbetween = [[\"web\"], [\"api\"]]\nat = \"20s\"\nfor = \"10s\"\n",
    );
    let run = common::run(&text, 2);
    let inside: Vec<_> = run
        .metrics
        .buckets
        .iter()
        .filter(|b| (20..30).contains(&(b.start.as_nanos() / SECOND)))
        .collect();
    for b in &inside {
        assert_eq!(
            b.counts.timeouts, b.counts.requests,
            "bucket {}: {:?}",
            b.start, b.counts
        );
    }
    assert_eq!(
        run.metrics.totals.timeouts,
        inside.iter().map(|b| b.counts.requests).sum::<u64>()
    );
    assert_eq!(run.metrics.totals.errors, 0);
    // The service saw none of them.
    let arrivals: u64 = run.metrics.services[0]
        .rows
        .iter()
        .filter(|r| (20..30).contains(&(r.start.as_nanos() / SECOND)))
        .map(|r| r.arrivals)
        .sum();
    assert_eq!(arrivals, 0, "requests crossed the partition");
    // One-way, the other direction: requests pass, answers do not.
    let one_way = one_service(
        50,
        4,
        "[[fault]]\nkind = \"partition\"\nbetween = [[\"api\"], [\"web\"]]\none_way = true\nat = \"20s\"\nfor = \"10s\"\n",
    );
    let run = common::run(&one_way, 2);
    let served: u64 = run.metrics.services[0].rows.iter().map(|r| r.served).sum();
    assert!(run.metrics.totals.timeouts > 400);
    assert!(
        served >= run.metrics.totals.requests,
        "api still served the requests it could not answer"
    );
}

/// Losing every response: the work is done and counted as served by the service, but the
/// caller never hears of it and times out.
#[test]
fn lost_responses_are_served_but_time_out() {
    let text = one_service(
        50,
        4,
        "[[fault]]\nkind = \"loss\"\ntarget = \"web->api\"\nprobability = 1.0\ndirection = \"response\"\nat = \"5s\"\n",
    );
    let run = common::run(&text, 3);
    let t = &run.metrics.totals;
    assert_eq!(t.timeouts, t.requests, "{t:?}");
    let api = &run.metrics.services[0];
    assert_eq!(
        api.arrivals, t.requests,
        "every request reached the service"
    );
    assert_eq!(api.completed, api.arrivals);
    assert_eq!(api.errors, 0, "the service answered them all");
    // Requests only: the callee never sees them.
    let text = one_service(
        50,
        4,
        "[[fault]]\nkind = \"loss\"\ntarget = \"web->api\"\nprobability = 0.2\ndirection = \"request\"\nat = \"5s\"\n",
    );
    let run = common::run(&text, 3);
    let lost = run.metrics.totals.timeouts as f64 / run.metrics.totals.requests as f64;
    assert!(
        (lost - 0.2).abs() < 0.02,
        "{lost} of requests lost, expected 0.2"
    );
    assert_eq!(
        run.metrics.services[0].arrivals + run.metrics.totals.timeouts,
        run.metrics.totals.requests
    );
}

/// A hang freezes the replica: nothing it holds is answered until the hang ends, then it
/// carries on. With a 1 s client timeout and a 3 s hang, requests sent in the first 2 s of
/// the hang time out; the service still does all of their work afterwards.
#[test]
fn a_hang_answers_nothing_until_it_ends_then_carries_on() {
    let text = one_service(
        50,
        64,
        "[[fault]]\nkind = \"hang\"\ntarget = \"api\"\nat = \"20s\"\nfor = \"3s\"\n",
    );
    let run = common::run(&text, 4);
    let bucket = |s: u64| {
        &run.metrics
            .buckets
            .iter()
            .find(|b| b.start.as_nanos() == s * SECOND)
            .expect("bucket")
            .counts
    };
    assert_eq!(bucket(20).timeouts, bucket(20).requests);
    assert_eq!(bucket(21).timeouts, bucket(21).requests);
    assert_eq!(
        bucket(22).ok,
        bucket(22).requests,
        "answered when the hang ends, within 1 s"
    );
    assert_eq!(bucket(23).ok, bucket(23).requests);
    assert!(run.metrics.services[0].errors == 0, "a hang loses no work");
    // Latency of the last bucket of the hang: sent during [22 s, 23 s), answered at about 23 s.
    assert!(
        run.metrics
            .buckets
            .iter()
            .find(|b| b.start.as_nanos() == 22 * SECOND)
            .and_then(|b| b.p99_ns)
            .is_some_and(|p| p > 800_000_000)
    );
}

/// A slow fault multiplies service times: a constant 10 ms becomes 50 ms with factor 5.
#[test]
fn slow_multiplies_the_service_time_and_errors_fail_the_given_share() {
    let text = one_service(
        20,
        64,
        "[[fault]]\nkind = \"slow\"\ntarget = \"api\"\nfactor = 5\nat = \"5s\"\n",
    )
    .replace(
        "{ kind = \"exponential\", mean = \"2ms\" }",
        "{ kind = \"constant\", value = \"10ms\" }",
    );
    let run = common::run(&text, 5);
    let l = run.metrics.latency.expect("successes");
    assert!(
        (l.mean_ns / 1e6 - 50.0).abs() < 0.01,
        "mean {} ms",
        l.mean_ns / 1e6
    );
    let text = one_service(
        100,
        8,
        "[[fault]]\nkind = \"errors\"\ntarget = \"api\"\nrate = 0.25\nat = \"5s\"\n",
    );
    let run = common::run(&text, 5);
    let share = run.metrics.totals.errors as f64 / run.metrics.totals.requests as f64;
    assert!((share - 0.25).abs() < 0.01, "{share} failed, expected 0.25");
    let text = one_service(
        100,
        8,
        "[[fault]]\nkind = \"errors\"\ntarget = \"api\"\nfirst_n = 7\nat = \"20s\"\n",
    );
    assert_eq!(
        common::run(&text, 5).metrics.totals.errors,
        7,
        "exactly the first 7 requests fail"
    );
}

/// A chaos monkey kills one of its candidates every interval for its downtime. With one
/// candidate, a 10 s interval and a 2 s downtime, the replica is down 2 s in every 10 s.
#[test]
fn a_chaos_monkey_kills_on_schedule() {
    let text = one_service(
        100,
        4,
        "[[fault]]\nkind = \"chaos_monkey\"\ntargets = [\"api\"]\ninterval = \"10s\"\ndowntime = \"2s\"\n",
    );
    let run = common::run(&text, 6);
    let down: Vec<u64> = run.metrics.services[0]
        .rows
        .iter()
        .filter(|r| r.replicas_up == 0.0)
        .map(|r| r.start.as_nanos() / SECOND)
        .collect();
    assert_eq!(down, [10, 11, 20, 21, 30, 31, 40, 41, 50, 51]);
    let a = run.metrics.totals.availability().expect("requests");
    assert!((a - 0.8).abs() < 0.02, "{a}");
}

/// Recovery: a hang on a service near saturation leaves a backlog that outlasts the hang.
/// At load 0.9 the backlog of a 5 s hang drains at 10% of capacity, about 45 s, and while it
/// drains requests wait longer than their 1 s timeout.
#[test]
fn recovery_is_measured_after_the_fault_ends() {
    let text = r#"
name = "backlog"
duration = "3m"
warmup = "10s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 900 }
timeout = "1s"
[[service]]
name = "api"
concurrency = 1
service_time = { kind = "exponential", mean = "1ms" }
[[fault]]
kind = "hang"
target = "api"
at = "60s"
for = "5s"
"#;
    let run = common::run(text, 7);
    match run.recovery {
        Recovery::Seconds(s) => assert!((20.0..90.0).contains(&s), "recovered after {s} s"),
        other => panic!("expected a finite recovery, got {other:?}"),
    }
    let no_fault = common::run(
        &text.replace("kind = \"hang\"", "kind = \"slow\"\nfactor = 1.0"),
        7,
    );
    assert_eq!(no_fault.recovery, Recovery::Seconds(0.0));
}
