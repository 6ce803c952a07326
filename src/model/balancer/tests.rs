//! Unit tests of the balancers: each kind's choice, outlier detection, consistent hashing,
//! restarts.

use super::*;
use crate::engine::StreamId;
use crate::model::ids::{EntryId, Id, ReplicaId, ServiceId};
use crate::scenario::Scenario;
use crate::scenario::balancer::{
    BalancerScope, FailurePercentageSpec, OutlierSpec, SuccessRateSpec,
};

fn balancer(kind: BalancerKind, weights: &[f64]) -> Balancer {
    let spec = BalancerSpec {
        kind,
        scope: BalancerScope::Caller,
        outlier: None,
    };
    Balancer::new(&spec, weights)
}

fn rng() -> SimRng {
    SimRng::new(1, StreamId::from_parts(&[b"test"]))
}

fn picks(b: &mut Balancer, n: u32, count: usize) -> Vec<u32> {
    let mut rng = rng();
    (0..count)
        .map(|_| b.pick(&mut rng, n, 0, SimTime::ZERO, &[], 0))
        .collect()
}

#[test]
fn round_robin_walks_the_replicas_in_turn() {
    let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 3]);
    assert_eq!(picks(&mut b, 3, 7), [0, 1, 2, 0, 1, 2, 0]);
}

/// nginx's smooth weighted round robin: weights 5, 1, 1 give a a b a c a a.
#[test]
fn smooth_weighted_round_robin_spreads_the_heavy_replica() {
    let mut b = balancer(BalancerKind::WeightedRoundRobin, &[5.0, 1.0, 1.0]);
    assert_eq!(picks(&mut b, 3, 7), [0, 0, 1, 0, 2, 0, 0]);
    assert_eq!(
        picks(&mut b, 3, 7),
        [0, 0, 1, 0, 2, 0, 0],
        "the cycle repeats"
    );
}

/// Join the shortest queue: the replica with the fewest attempts in flight; among
/// tied replicas a uniform draw.
#[test]
fn least_outstanding_takes_the_emptiest_and_spreads_ties() {
    let mut b = balancer(BalancerKind::LeastOutstanding, &[1.0; 3]);
    let first = picks(&mut b, 3, 3);
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [0, 1, 2],
        "each replica once before any twice: {first:?}"
    );
    b.settled(1, None, None, SimTime::ZERO);
    assert_eq!(
        b.pick(&mut rng(), 3, 0, SimTime::ZERO, &[], 0),
        1,
        "the only one with room"
    );
    assert_eq!(b.in_flight(1), 1);
    let mut counts = [0; 3];
    let mut b = balancer(BalancerKind::LeastOutstanding, &[1.0; 3]);
    let mut rng = rng();
    for _ in 0..3000 {
        let r = b.pick(&mut rng, 3, 0, SimTime::ZERO, &[], 0);
        counts[r as usize] += 1;
        b.settled(r, None, None, SimTime::ZERO);
    }
    assert!(
        counts.iter().all(|&c| (900..1100).contains(&c)),
        "{counts:?}"
    );
}

/// With as many choices as replicas, power of d choices is least outstanding.
#[test]
fn p2c_never_takes_the_busier_of_two() {
    let mut b = balancer(BalancerKind::PowerOfChoices { choices: 2 }, &[1.0; 2]);
    for _ in 0..5 {
        b.pick(&mut rng(), 2, 0, SimTime::ZERO, &[], 0);
    }
    assert_eq!(b.in_flight(0) + b.in_flight(1), 5);
    assert!(b.in_flight(0).abs_diff(b.in_flight(1)) <= 1);
}

/// Finagle's peak EWMA: a latency above the cost sets it at once; below it, the cost
/// decays toward it with weight exp(-elapsed / decay); so the slow replica is avoided.
#[test]
fn peak_ewma_jumps_to_peaks_and_decays() {
    let decay = SimDuration::from_secs(10);
    let mut b = balancer(BalancerKind::PeakEwma { decay }, &[1.0; 2]);
    let tau = decay.as_nanos() as f64;
    let t0 = SimTime(1_000_000_000);
    assert_eq!(b.observe(0, 5e6, t0, tau), 5e6, "a peak sets the cost");
    let t1 = SimTime(t0.as_nanos() + 10_000_000_000);
    let decayed = b.observe(0, 1e6, t1, tau);
    let w = (-1.0f64).exp();
    assert!(
        (decayed - (5e6 * w + 1e6 * (1.0 - w))).abs() < 1.0,
        "{decayed}"
    );
    // Replica 1 learns a 100 ms latency, replica 0 1 ms: picks go to replica 0.
    b.in_flight = vec![1, 1];
    b.settled(0, Some(SimDuration::from_millis(1)), Some(false), t1);
    b.settled(1, Some(SimDuration::from_millis(100)), Some(false), t1);
    assert!(picks(&mut b, 2, 20).iter().all(|&r| r == 0));
}

/// A replica to avoid (a retry's previous host) is reselected once.
#[test]
fn an_avoided_replica_is_reselected_once() {
    let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 3]);
    assert_eq!(
        b.pick(&mut rng(), 3, 0b001, SimTime::ZERO, &[], 0),
        1,
        "0 avoided: the next"
    );
    assert_eq!(
        b.pick(&mut rng(), 3, 0b100, SimTime::ZERO, &[], 0),
        0,
        "2 avoided: the next"
    );
    let mut b = balancer(BalancerKind::RoundRobin, &[1.0; 1]);
    assert_eq!(
        b.pick(&mut rng(), 1, 0b1, SimTime::ZERO, &[], 0),
        0,
        "one replica: no other to take"
    );
}

fn outlier_spec(max_percent: f64, panic: f64) -> OutlierSpec {
    OutlierSpec {
        consecutive_errors: 3,
        interval: SimDuration::from_secs(10),
        base_ejection: SimDuration::from_secs(30),
        max_ejection: SimDuration::from_secs(300),
        max_ejection_percent: max_percent,
        panic_threshold: panic,
        success_rate: SuccessRateSpec {
            minimum_hosts: 5,
            request_volume: 100,
            stdev_factor: 1.9,
        },
        failure_percentage: None,
    }
}

fn with_outliers(n: usize, max_percent: f64, panic: f64) -> Balancer {
    let spec = BalancerSpec {
        kind: BalancerKind::RoundRobin,
        scope: BalancerScope::Caller,
        outlier: Some(outlier_spec(max_percent, panic)),
    };
    Balancer::new(&spec, &vec![1.0; n])
}

const S: u64 = 1_000_000_000;

/// Sends one attempt to the next replica at `t` seconds and settles it, failed when
/// it went to `bad`; returns the replica.
fn attempt(b: &mut Balancer, n: u32, t: u64, bad: &[u32]) -> u32 {
    let now = SimTime(t * S);
    let r = b.pick(&mut rng(), n, 0, now, &[], 0);
    b.settled(r, Some(SimDuration(1)), Some(bad.contains(&r)), now);
    r
}

/// Envoy's consecutive-5xx detector: three failures in a row eject the replica for
/// base_ejection; a success in between resets the streak; meanwhile round robin skips
/// it; it returns when its time is up.
#[test]
fn consecutive_failures_eject_a_replica_for_its_time() {
    let mut b = with_outliers(4, 100.0, 0.0);
    for t in 0..12 {
        attempt(&mut b, 4, t, &[1]);
    }
    let o = b.outlier.as_ref().expect("outliers");
    assert_eq!(
        o.ejected_until[1],
        Some(SimTime(9 * S + 30 * S)),
        "third failure at 9 s"
    );
    let picks: Vec<u32> = (12..18).map(|t| attempt(&mut b, 4, t, &[])).collect();
    assert!(!picks.contains(&1), "ejected: skipped, {picks:?}");
    let back: Vec<u32> = (39..43).map(|t| attempt(&mut b, 4, t, &[])).collect();
    assert!(back.contains(&1), "returned after 30 s: {back:?}");
    let events: Vec<(u64, u32, &str)> = b
        .outlier
        .as_ref()
        .expect("outliers")
        .events
        .iter()
        .map(|&(t, r, e)| (t.as_nanos() / S, r, e))
        .collect();
    assert_eq!(events, [(9, 1, "ejected"), (39, 1, "returned")]);
}

/// A replica ejected again soon after returning stays out twice as long
/// (base_ejection x number of ejections); each `interval` back in takes one off.
#[test]
fn repeated_ejections_grow_and_healthy_intervals_shrink_them() {
    let mut o = Outliers::new(outlier_spec(100.0, 0.0), 2);
    let fail3 = |o: &mut Outliers, t: u64| {
        for k in 0..3 {
            o.observe(0, true, SimTime(t * S + k));
        }
    };
    fail3(&mut o, 0);
    assert_eq!(o.ejected_until[0], Some(SimTime(30 * S + 2)));
    o.refresh(SimTime(31 * S));
    fail3(&mut o, 31);
    assert_eq!(
        o.ejected_until[0],
        Some(SimTime(31 * S + 2 + 60 * S)),
        "second: 60 s"
    );
    o.refresh(SimTime(100 * S));
    // Returned at 91 s; 35 s later three intervals have passed: the multiplier goes
    // from 2 to 0, then 1 for this ejection: 30 s.
    fail3(&mut o, 126);
    assert_eq!(o.ejected_until[0], Some(SimTime(126 * S + 2 + 30 * S)));
}

/// Ejections stop at max_ejection_percent of the replicas.
#[test]
fn ejections_never_exceed_the_maximum_share() {
    let mut o = Outliers::new(outlier_spec(50.0, 0.0), 4);
    for r in 0..4 {
        for k in 0..3 {
            o.observe(r, true, SimTime(k));
        }
    }
    let ejected = o.ejected_until.iter().filter(|u| u.is_some()).count();
    assert_eq!(ejected, 2, "half of 4");
    let mut none = Outliers::new(outlier_spec(10.0, 0.0), 4);
    for k in 0..3 {
        none.observe(0, true, SimTime(k));
    }
    assert!(
        none.ejected_until[0].is_none(),
        "10% of 4 replicas is less than one"
    );
}

/// Below the panic threshold of replicas available, the balancer uses all of them.
#[test]
fn below_the_panic_threshold_every_replica_is_used() {
    let mut b = with_outliers(4, 100.0, 80.0);
    for t in 0..12 {
        attempt(&mut b, 4, t, &[2]);
    }
    assert!(b.outlier.as_ref().expect("o").ejected_until[2].is_some());
    // 3 of 4 available = 75% < 80%: panic, replica 2 gets its turn.
    let picks: Vec<u32> = (12..16).map(|t| attempt(&mut b, 4, t, &[])).collect();
    assert!(picks.contains(&2), "{picks:?}");
}

fn hashing(kind: BalancerKind, n: usize) -> Balancer {
    let spec = BalancerSpec {
        kind,
        scope: BalancerScope::Caller,
        outlier: None,
    };
    Balancer::new(&spec, &vec![1.0; n])
}

/// Where each of `keys` goes, with `unhealthy` replicas left out.
fn placements(b: &mut Balancer, n: u32, keys: u64, unhealthy: &[bool]) -> Vec<u32> {
    let mut rng = rng();
    (0..keys)
        .map(|k| b.pick(&mut rng, n, 0, SimTime::ZERO, unhealthy, k))
        .collect()
}

/// Consistent hashing: a key always goes to the same replica; keys spread evenly
/// (within 15% of the mean with 1024 ring points or Maglev's 65537 entries over 4);
/// taking a replica out moves only the keys it had (Envoy's ring hash and Maglev both
/// remap about 1/n of the keys).
#[test]
fn consistent_hashing_is_stable_even_and_moves_only_the_lost_keys() {
    for kind in [
        BalancerKind::RingHash { ring_size: 1024 },
        BalancerKind::Maglev { table_size: 65_537 },
    ] {
        let mut b = hashing(kind, 4);
        let all = placements(&mut b, 4, 20_000, &[]);
        assert_eq!(all, placements(&mut b, 4, 20_000, &[]), "{kind:?}: stable");
        let mut counts = [0u32; 4];
        for &r in &all {
            counts[r as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (4250..5750).contains(&c)),
            "{kind:?}: {counts:?}"
        );
        let without_2 = placements(&mut b, 4, 20_000, &[false, false, true, false]);
        for (before, after) in all.iter().zip(&without_2) {
            if *before != 2 {
                assert_eq!(before, after, "{kind:?}: only replica 2's keys move");
            } else {
                assert_ne!(*after, 2);
            }
        }
    }
}

/// Envoy's success-rate detector: ten replicas with 200 attempts each in an interval,
/// nine succeeding 99% of the time and one 80%: mean 0.971, standard deviation 0.057,
/// threshold 0.971 - 1.9 x 0.057 = 0.863: only the 80% replica is ejected, at the sweep
/// after the interval (10 s). With fewer than `minimum_hosts` replicas of enough
/// volume, nothing is.
#[test]
fn the_success_rate_detector_ejects_the_outlier_among_enough_hosts() {
    let mut o = Outliers::new(outlier_spec(100.0, 0.0), 10);
    for r in 0..10 {
        let failures = if r == 7 { 40 } else { 2 };
        for k in 0..200u64 {
            // Spread failures so no streak of 3 ejects by the other detector.
            let failed = k % (200 / failures) == 0;
            o.observe(r, failed, SimTime(k));
        }
    }
    assert!(
        o.ejected_until.iter().all(Option::is_none),
        "no streak ejected"
    );
    o.refresh(SimTime(10 * S));
    let ejected: Vec<usize> = (0..10).filter(|&i| o.ejected_until[i].is_some()).collect();
    assert_eq!(ejected, [7]);
    assert_eq!(
        o.ejected_until[7],
        Some(SimTime(40 * S)),
        "ejected at 10 s for 30 s"
    );
    // Four replicas: below minimum_hosts, the detector does nothing.
    let mut few = Outliers::new(outlier_spec(100.0, 0.0), 4);
    for r in 0..4 {
        for k in 0..200u64 {
            few.observe(r, r == 0 && k % 5 == 0, SimTime(k));
        }
    }
    few.refresh(SimTime(10 * S));
    assert!(few.ejected_until.iter().all(Option::is_none));
}

/// A restarted replica's balancers start afresh: the db replica its outlier detection
/// ejected is back (and logged as returned), its round robin starts over.
#[test]
fn a_restart_gives_a_replica_fresh_balancers() {
    let text = r#"name = "r"
duration = "10s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 1 }
[[service]]
name = "api"
service_time = { kind = "constant", value = "1ms" }
calls = [{ to = "db", outlier_detection = { consecutive_errors = 1, max_ejection_percent = 50 } }]
[[service]]
name = "db"
replicas = 2
service_time = { kind = "constant", value = "1ms" }
"#;
    let scenario = Scenario::from_text(text, "r.toml").expect("valid");
    let mut b = Balancers::build(&scenario, 1);
    let api = ServiceId::from_index(0);
    let replica = ReplicaId::from_index(0);
    let id = b.of_call(api, replica, EntryId::from_index(0));
    let now = SimTime(S);
    let (first, _) = b.pick(id, 2, 0, now, &[], || 0);
    b.get(id)
        .settled(first, Some(SimDuration(1)), Some(true), now);
    let (second, _) = b.pick(id, 2, 0, now, &[], || 0);
    assert_ne!(first, second, "the failed replica is ejected");
    b.get(id)
        .settled(second, Some(SimDuration(1)), Some(false), now);
    b.restart(api, replica, SimTime(2 * S));
    let o = b.get(id).outlier.as_ref().expect("outliers");
    assert!(
        o.ejected_until.iter().all(Option::is_none),
        "fresh: nothing ejected"
    );
    let events: Vec<&str> = o.events.iter().map(|e| e.2).collect();
    assert_eq!(events, ["ejected", "returned"]);
    let (again, _) = b.pick(id, 2, 0, SimTime(2 * S), &[], || 0);
    assert_eq!(again, 0, "round robin starts over");
}

/// Envoy's failure-percentage detector (when enabled): among six replicas with 60 attempts
/// each in an interval, the one failing 90% (at or above 85%) is ejected at the sweep; one
/// failing 80% is not. The success-rate detector is kept out of the way here.
#[test]
fn the_failure_percentage_detector_ejects_replicas_failing_most_attempts() {
    let spec = OutlierSpec {
        failure_percentage: Some(FailurePercentageSpec {
            threshold: 85.0,
            minimum_hosts: 5,
            request_volume: 50,
        }),
        success_rate: SuccessRateSpec {
            minimum_hosts: 100,
            request_volume: 100,
            stdev_factor: 1.9,
        },
        consecutive_errors: 1000,
        ..outlier_spec(100.0, 0.0)
    };
    let mut o = outliers::Outliers::new(spec, 6);
    for r in 0..6 {
        let failing = match r {
            2 => 54, // 90%
            4 => 48, // 80%
            _ => 0,
        };
        for k in 0..60u64 {
            o.observe(r, k < failing, SimTime(k));
        }
    }
    o.refresh(SimTime(10 * S));
    let ejected: Vec<usize> = (0..6).filter(|&i| o.ejected_until[i].is_some()).collect();
    assert_eq!(ejected, [2]);
}
