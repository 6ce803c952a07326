//! Message queues against queueing theory and SQS's semantics: M/M/1 and M/M/1/K, redelivery
//! after a crash, dead-lettering after `max_receives`, visibility timeouts shorter than the
//! work, the drain limit, and producers that wait only for the send.

use crate::common;
use resim::metrics::queue_stats::MessageMetrics;
use resim::run::RunResult;

fn messages(r: &RunResult) -> &MessageMetrics {
    &r.metrics.messages
}

/// A producer sending to a queue at `rate`/s, consumed by one service; `queue` and
/// `service` are extra keys of the queue and of the consumer.
fn pipeline(duration: &str, rate: f64, queue: &str, service: &str) -> String {
    format!(
        r#"name = "q"
duration = "{duration}"
warmup = "50s"
bucket = "50s"

[[client]]
name = "producer"
target = "jobs"
arrival = {{ kind = "poisson", rate_per_s = {rate} }}

[[queue]]
name = "jobs"
consumer = "worker"
{queue}

[[service]]
name = "worker"
{service}
"#
    )
}

/// Every counted message ended once or is still stored, and every queue's rows conserve
/// its messages.
fn assert_conserved(r: &RunResult) {
    let m = messages(r);
    assert_eq!(m.messages, m.processed + m.dead_lettered + m.left());
    for q in &r.metrics.queues {
        let (mut stored, mut ended) = (0, 0);
        for row in &q.rows {
            stored += row.sent - row.refused;
            ended += row.acknowledged + row.dead_lettered;
            assert_eq!(
                stored,
                ended + row.depth_end,
                "{} at {:?}",
                q.name,
                row.start
            );
        }
    }
}

/// One worker, Poisson sends at 80/s, exponential work of 10 ms (rho = 0.8): the time from
/// send to acknowledgement is M/M/1's sojourn time, exponential with mean 1 / (mu -
/// lambda) = 50 ms (median 34.7 ms, p99 230 ms), and the queue holds L = rho / (1 - rho)
/// = 4 messages on average.
#[test]
fn a_single_worker_consumer_is_an_mm1_queue() {
    let r = common::run(
        &pipeline(
            "2050s",
            80.0,
            "visibility_timeout = \"1h\"",
            "service_time = { kind = \"exponential\", mean = \"10ms\" }",
        ),
        1,
    );
    assert_conserved(&r);
    let m = messages(&r);
    let l = m.latency.expect("processed messages");
    let mean_ms = l.mean_ns / 1e6;
    assert!((mean_ms / 50.0 - 1.0).abs() < 0.05, "mean {mean_ms} ms");
    let p50_ms = l.p50_ns as f64 / 1e6;
    assert!((p50_ms / 34.66 - 1.0).abs() < 0.05, "median {p50_ms} ms");
    let p99_ms = l.p99_ns as f64 / 1e6;
    assert!((p99_ms / 230.3 - 1.0).abs() < 0.08, "p99 {p99_ms} ms");
    let rows = &r.metrics.queues[0].rows;
    let depth: f64 =
        rows[1..].iter().map(|row| row.depth_mean).sum::<f64>() / (rows.len() - 1) as f64;
    assert!((depth / 4.0 - 1.0).abs() < 0.08, "mean depth {depth}");
    assert_eq!((m.redelivered, m.dead_lettered, m.left()), (0, 0, 0));
}

/// Capacity K = 5 (the message in service included), rho = 0.9: M/M/1/K refuses a send
/// with probability (1 - rho) rho^K / (1 - rho^(K+1)) = 12.60%; the producer sees the
/// refusals as `rejected`.
#[test]
fn a_bounded_queue_refuses_as_mm1k_predicts() {
    let r = common::run(
        &pipeline(
            "2050s",
            90.0,
            "capacity = 5",
            "service_time = { kind = \"exponential\", mean = \"10ms\" }",
        ),
        1,
    );
    assert_conserved(&r);
    let t = &r.metrics.totals;
    let refused = t.rejected as f64 / t.requests as f64;
    assert!((refused - 0.1260).abs() < 0.004, "refused {refused}");
    assert_eq!(t.ok + t.rejected, t.requests);
    assert_eq!(messages(&r).messages, t.ok);
}

/// Constant sends every 100 ms and constant work of 2 s on a replica of 100 workers: 20
/// messages are in flight at any time. A crash at 30.05 s kills those 20 deliveries;
/// their messages become visible again at the end of their visibility timeout and are
/// delivered again: exactly 20 redeliveries, each a duplicate execution for a consumer
/// that is not idempotent, and none for an idempotent one.
#[test]
fn a_consumer_crash_redelivers_exactly_the_messages_in_flight_on_it() {
    let scenario = |idempotent: bool| {
        format!(
            r#"name = "crash"
duration = "60s"
[[client]]
name = "producer"
target = "jobs"
arrival = {{ kind = "constant", rate_per_s = 10 }}
[[queue]]
name = "jobs"
consumer = "worker"
visibility_timeout = "5s"
[[service]]
name = "worker"
concurrency = 100
idempotent = {idempotent}
service_time = {{ kind = "constant", value = "2s" }}
[[fault]]
kind = "crash"
target = "worker"
at = "30.05s"
for = "1s"
"#
        )
    };
    let plain = common::run(&scenario(false), 1);
    assert_conserved(&plain);
    let m = messages(&plain);
    assert_eq!(m.redelivered, 20);
    assert_eq!(plain.metrics.policy.duplicates, 20);
    assert_eq!((m.processed, m.left()), (m.messages, 0));
    let idempotent = common::run(&scenario(true), 1);
    assert_eq!(messages(&idempotent).redelivered, 20);
    assert_eq!(idempotent.metrics.policy.duplicates, 0);
}

/// Deliveries fail independently with probability p = 0.3 (the consumer's `error_rate`),
/// and a message is dead-lettered after m = 2 receives: a fraction p^m = 9% of messages
/// end in the dead-letter queue. With 2% poison messages besides (every delivery fails),
/// 0.02 + 0.98 x 0.09 = 10.82%. The dead-letter queue stores every one of them.
#[test]
fn messages_are_dead_lettered_after_max_receives_failures() {
    for (poison, expected) in [(0.0, 0.09), (0.02, 0.1082)] {
        let r = common::run(
            &format!(
                "{}\n[[queue]]\nname = \"dlq\"\n",
                pipeline(
                    "1050s",
                    40.0,
                    &format!(
                        "visibility_timeout = \"1s\"\nmax_receives = 2\ndead_letter = \"dlq\"\npoison = {poison}"
                    ),
                    "concurrency = 10\nerror_rate = 0.3\nservice_time = { kind = \"exponential\", mean = \"20ms\" }",
                )
            ),
            1,
        );
        assert_conserved(&r);
        let m = messages(&r);
        let dead = m.dead_lettered as f64 / m.messages as f64;
        assert!((dead - expected).abs() < 0.006, "poison {poison}: {dead}");
        let dlq = &r.metrics.queues[1];
        let moved: u64 = dlq.rows.iter().map(|row| row.sent).sum();
        let jobs_dead: u64 = r.metrics.queues[0]
            .rows
            .iter()
            .map(|row| row.dead_lettered)
            .sum();
        assert_eq!(moved, jobs_dead);
        assert_eq!(dlq.rows.last().expect("rows").depth_end, moved);
    }
}

/// Work exponential with a mean of 1 s against a visibility timeout of 1 s, with workers to
/// spare: a delivery still running when its timeout expires is overtaken by a new receive
/// at once, and its acknowledgement then deletes nothing (an old receipt). Each delivery
/// fails so with probability q = e^-1, so receives per message are geometric: q / (1 - q)
/// = 0.582 redeliveries per message.
#[test]
fn a_visibility_timeout_below_the_work_redelivers_as_the_distribution_implies() {
    let r = common::run(
        &pipeline(
            "1050s",
            20.0,
            "visibility_timeout = \"1s\"",
            "concurrency = 200\nservice_time = { kind = \"exponential\", mean = \"1s\" }",
        ),
        1,
    );
    assert_conserved(&r);
    let m = messages(&r);
    let per_message = m.redelivered as f64 / m.messages as f64;
    let q = (-1.0f64).exp();
    assert!(
        (per_message / (q / (1.0 - q)) - 1.0).abs() < 0.04,
        "{per_message} redeliveries per message"
    );
    assert_eq!(m.processed, m.messages);
    // Every execution after the first of a message is a duplicate (counted when it
    // starts, in the window, where redeliveries are counted for messages sent in it).
    let duplicates = r.metrics.policy.duplicates as f64;
    assert!(
        (duplicates / m.redelivered as f64 - 1.0).abs() < 0.005,
        "{duplicates}"
    );
}

/// A consumer at half the producer's rate cannot drain the backlog: consumers stop taking
/// messages `drain` after the end, and what is stored then stays, counted as left. With
/// sends at 100/s for 100 s (10,000 counted after the 50 s warm-up... none: no warm-up
/// here) and 50/s consumed for 110 s, 5,500 are processed and 4,500 left.
#[test]
fn the_drain_limit_leaves_the_backlog_counted() {
    let r = common::run(
        r#"name = "drain"
duration = "100s"
drain = "10s"
[[client]]
name = "producer"
target = "jobs"
arrival = { kind = "constant", rate_per_s = 100 }
[[queue]]
name = "jobs"
consumer = "worker"
[[service]]
name = "worker"
service_time = { kind = "constant", value = "20ms" }
"#,
        1,
    );
    assert_conserved(&r);
    let m = messages(&r);
    assert_eq!(m.messages, 9_999);
    assert!(
        (m.processed as f64 - 5_500.0).abs() <= 1.0,
        "{}",
        m.processed
    );
    assert_eq!(m.left(), m.messages - m.processed);
    let last = r.metrics.queues[0].rows.last().expect("rows");
    assert_eq!(last.depth_end, m.left());
}

/// A closed-loop user whose target is a queue waits only for the send (2 ms there and
/// back), not for the consumer's 1 s of work: 500 sends per second.
#[test]
fn a_closed_loop_producer_waits_only_for_the_send() {
    let r = common::run(
        r#"name = "closed"
duration = "20s"
warmup = "10s"
[network]
latency = { kind = "constant", value = "1ms" }
[[client]]
name = "producer"
target = "jobs"
arrival = { kind = "closed", users = 1 }
[[queue]]
name = "jobs"
consumer = "worker"
[[service]]
name = "worker"
concurrency = 1000
service_time = { kind = "constant", value = "1s" }
"#,
        1,
    );
    assert_eq!(r.metrics.totals.requests, 5_000);
    let l = r.metrics.latency.expect("latency");
    assert_eq!(l.max_ns, 2_000_000);
}

/// A consumer that hangs holds its deliveries; their visibility timeouts expire and the
/// messages go to the other replica; when the hang ends, the stale deliveries finish and
/// delete nothing. Same seed, same figures.
#[test]
fn a_hung_consumer_loses_its_messages_to_the_other_replica_deterministically() {
    let text = pipeline(
        "300s",
        60.0,
        "visibility_timeout = \"2s\"",
        "replicas = 2\nconcurrency = 4\nservice_time = { kind = \"exponential\", mean = \"100ms\" }\n\n[[fault]]\nkind = \"hang\"\ntarget = \"worker[0]\"\nat = \"100s\"\nfor = \"20s\"",
    );
    let a = common::run(&text, 7);
    assert_conserved(&a);
    let m = messages(&a);
    assert!(
        (1..=4).contains(&m.redelivered),
        "the hung replica held at most its 4 workers' messages: {}",
        m.redelivered
    );
    assert_eq!(m.processed, m.messages);
    assert_eq!(a.metrics.policy.duplicates, m.redelivered);
    // While it hangs, the other replica's 4 workers serve 40/s of the 60/s sent: the
    // backlog grows for 20 s, then drains.
    let rows = &a.metrics.queues[0].rows;
    let during = rows
        .iter()
        .find(|r| r.start.as_nanos() == 100_000_000_000)
        .expect("row");
    assert!(during.depth_mean > 100.0, "{}", during.depth_mean);
    let b = common::run(&text, 7);
    assert_eq!(a, b);
}

/// `scenarios/queue-spike.toml`: the synchronous API rejects part of the spike; the queue
/// stores every message, its backlog peaks during the spike and is empty again within
/// 100 s after it.
#[test]
fn the_shipped_spike_is_absorbed_by_the_queue_and_drains() {
    let study = resim::Study::load(&common::root().join("scenarios/queue-spike.toml"))
        .expect("shipped scenario");
    for cell in &study.cells {
        let r = resim::run_one(&cell.scenario, cell.scenario.seed).expect("runs");
        assert_conserved(&r);
        let t = &r.metrics.totals;
        if cell.variant == "base" {
            assert!(t.rejected as f64 > 0.1 * t.requests as f64, "{t:?}");
            assert_eq!(messages(&r).messages, 0);
            continue;
        }
        assert_eq!(t.ok, t.requests);
        let rows = &r.metrics.queues[0].rows;
        let peak = rows.iter().map(|row| row.depth_end).max().expect("rows");
        assert!(peak > 30_000, "peak backlog {peak}");
        // The spike ends at 90 s; by 190 s the queue holds only what is in service.
        let after = rows
            .iter()
            .find(|row| row.start.as_nanos() == 190_000_000_000);
        assert!(after.expect("row").depth_mean < 50.0);
        assert_eq!(messages(&r).processed, messages(&r).messages);
    }
}

/// Receipts are never reused across queues: a delivery from the source queue that outlasts
/// its visibility timeout, after the message moved to a dead-letter queue with a consumer,
/// deletes nothing there. Work of 5 s against a 1 s timeout and `max_receives = 1`: every
/// message moves to the dead-letter queue at 1 s, where the auditor (10 s of work)
/// acknowledges it; the worker's late acknowledgements count for nothing.
#[test]
fn a_late_acknowledgement_does_not_delete_a_dead_lettered_message() {
    let r = common::run(
        r#"name = "late"
duration = "20s"
[[client]]
name = "producer"
target = "jobs"
arrival = { kind = "constant", rate_per_s = 1 }
[[queue]]
name = "jobs"
consumer = "worker"
visibility_timeout = "1s"
max_receives = 1
dead_letter = "dlq"
[[queue]]
name = "dlq"
consumer = "auditor"
visibility_timeout = "1h"
[[service]]
name = "worker"
concurrency = 100
service_time = { kind = "constant", value = "5s" }
[[service]]
name = "auditor"
concurrency = 100
service_time = { kind = "constant", value = "10s" }
"#,
        1,
    );
    assert_conserved(&r);
    let total = |q: usize, f: fn(&resim::metrics::queue_stats::QueueRow) -> u64| -> u64 {
        r.metrics.queues[q].rows.iter().map(f).sum()
    };
    assert_eq!(messages(&r).messages, 19);
    assert_eq!(total(0, |row| row.dead_lettered), 19);
    assert_eq!(total(0, |row| row.acknowledged), 0);
    assert_eq!(total(1, |row| row.received), 19);
    assert_eq!(total(1, |row| row.acknowledged), 19);
    assert_eq!(total(1, |row| row.redelivered), 0);
}
