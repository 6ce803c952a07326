//! Synthetic analyses for the chart and report tests: a three-variant study with a fault,
//! a sweep, and odd corner cases.

use crate::compare::analysis::{
    Analysis, Cell, ClientSummary, FaultWindow, MetricSummary, PolicyTrack, TimelineRow,
};
use crate::compare::metric::Metric;
use crate::compare::stats::{estimate, paired_diff};

/// A deterministic value in [-0.5, 0.5) for seed `i` and stream `k`.
fn noise(i: usize, k: usize) -> f64 {
    ((i * 7919 + k * 104_729 + 13) % 1000) as f64 / 1000.0 - 0.5
}

/// How a variant differs from base in the fixtures.
#[derive(Clone, Copy)]
struct Effect {
    /// Availability lost at the worst of the dip.
    dip: f64,
    /// Multiplier of latencies.
    slower: f64,
    /// Recovery in seconds (may be infinite).
    recovery_s: f64,
}

/// The value of `m` in seed `i` under `e`.
fn seed_value(m: Metric, i: usize, e: Effect) -> f64 {
    let n = noise(i, m.index());
    let availability = 1.0 - e.dip * 0.1 - 0.002 * n.abs();
    match m {
        Metric::Availability => availability,
        Metric::Failed | Metric::Errors => 1.0 - availability,
        Metric::Timeouts | Metric::Rejected | Metric::ShortCircuited => (1.0 - availability) / 3.0,
        Metric::MeanMs => 40.0 * e.slower + 3.0 * n,
        Metric::P50Ms => 30.0 * e.slower + 2.0 * n,
        Metric::P90Ms => 80.0 * e.slower + 6.0 * n,
        Metric::P99Ms => 250.0 * e.slower + 30.0 * n,
        Metric::P999Ms => 600.0 * e.slower + 60.0 * n,
        Metric::AttemptsPerRequest => 1.0 + 0.1 * e.slower + 0.01 * n,
        Metric::Retries => (1000.0 * e.slower + 100.0 * n).round(),
        Metric::RecoveryS => e.recovery_s + 2.0 * n,
        _ => 0.0,
    }
}

/// The metric summaries of a cell under `e`, compared with base under `base` (`None` for
/// base itself).
fn metrics(seeds: usize, e: Effect, base: Option<Effect>) -> Vec<MetricSummary> {
    Metric::ALL
        .into_iter()
        .map(|m| {
            let values: Vec<f64> = (0..seeds).map(|i| seed_value(m, i, e)).collect();
            let diff = base.map(|b| {
                let pairs: Vec<(f64, f64)> = (0..seeds)
                    .map(|i| (values[i], seed_value(m, i, b)))
                    .collect();
                paired_diff(&pairs)
            });
            MetricSummary {
                metric: m,
                estimate: estimate(&values),
                diff,
            }
        })
        .collect()
}

/// 120 one-second buckets with a dip between 40 s and 60 s.
fn timeline(e: Effect, buckets: usize) -> Vec<TimelineRow> {
    (0..buckets)
        .map(|b| {
            let t = b as f64;
            let depth = if (40.0..60.0).contains(&t) {
                e.dip * (1.0 - ((t - 50.0) / 10.0).abs())
            } else {
                0.0
            };
            let mean = 0.999 - depth - 0.0005 * noise(b, 1).abs();
            TimelineRow {
                t_s: t,
                availability_mean: Some(mean),
                availability_min: Some((mean - 0.004 - depth * 0.4).max(0.0)),
                availability_max: Some((mean + 0.0008 + depth * 0.3).min(1.0)),
                p50_ms: Some(30.0 * e.slower * (1.0 + depth * 2.0)),
                p99_ms: Some(250.0 * e.slower * (1.0 + depth * 12.0) + 10.0 * noise(b, 2)),
            }
        })
        .collect()
}

/// A Weibull-shaped latency distribution scaled by `slower`.
fn cdf(slower: f64) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = (0..70)
        .map(|k| {
            let ms = 2.0 * 1.12f64.powi(k) * slower;
            (ms, 1.0 - (-(ms / (35.0 * slower)).powf(1.3)).exp())
        })
        .take_while(|&(_, f)| f < 0.999_999)
        .collect();
    if let Some(&(ms, _)) = points.last() {
        points.push((ms * 1.1, 1.0));
    }
    points
}

/// A cell of variant `name` under `e`.
fn cell(name: &str, seeds: usize, e: Effect, base: Option<Effect>) -> Cell {
    Cell {
        variant: name.to_string(),
        point: Vec::new(),
        point_numbers: Vec::new(),
        metrics: metrics(seeds, e, base),
        timeline: timeline(e, 120),
        latency_cdf: cdf(e.slower),
        policy_tracks: Vec::new(),
        clients: Vec::new(),
    }
}

/// Breaker and budget tracks like a breaker scenario's first seed.
fn tracks() -> Vec<PolicyTrack> {
    vec![
        PolicyTrack {
            site: "api->db".to_string(),
            policy: "circuit_breaker".to_string(),
            points: vec![
                (0.0, 0.0),
                (42.0, 1.0),
                (47.0, 0.5),
                (47.2, 1.0),
                (52.0, 0.5),
                (52.3, 0.0),
            ],
        },
        PolicyTrack {
            site: "api[1]->db".to_string(),
            policy: "circuit_breaker".to_string(),
            points: vec![(0.0, 0.0), (44.0, 1.0), (49.0, 0.5), (49.5, 0.0)],
        },
        PolicyTrack {
            site: "web->api".to_string(),
            policy: "retry_budget".to_string(),
            points: (0..60)
                .map(|k| {
                    let t = f64::from(k) * 2.0;
                    let level = if (40.0..60.0).contains(&t) {
                        10.0 - (t - 40.0) / 2.0
                    } else {
                        10.0
                    };
                    (t, level.max(0.0))
                })
                .collect(),
        },
    ]
}

/// The base analysis around `cells`.
fn analysis(scenario: &str, seeds: usize, cells: Vec<Cell>) -> Analysis {
    Analysis {
        scenario: scenario.to_string(),
        description: "A database replica hangs for 20 s; retries, a breaker".to_string(),
        scenario_text: "name = \"retry-storm\"\n[[services]]\nname = \"api\"\n".to_string(),
        command: "resim run scenarios/retry-storm.toml --seeds 20".to_string(),
        version: "0.1.0".to_string(),
        seeds,
        sweep_paths: Vec::new(),
        cells,
        fault_windows: vec![
            FaultWindow {
                label: "hang db[0]".to_string(),
                start_s: 40.0,
                end_s: 60.0,
            },
            FaultWindow {
                label: "partition api[1] from db".to_string(),
                start_s: 55.0,
                end_s: 70.0,
            },
        ],
        bucket_s: 1.0,
    }
}

const BASE: Effect = Effect {
    dip: 0.4,
    slower: 1.0,
    recovery_s: f64::INFINITY,
};
const RETRIES: Effect = Effect {
    dip: 0.15,
    slower: 1.3,
    recovery_s: 14.0,
};
const BREAKER: Effect = Effect {
    dip: 0.03,
    slower: 0.8,
    recovery_s: 3.0,
};

/// Three variants over 20 seeds with two fault windows; the breaker variant has tracks.
pub fn study() -> Analysis {
    let mut breaker = cell("breaker", 20, BREAKER, Some(BASE));
    breaker.policy_tracks = tracks();
    analysis(
        "retry-storm",
        20,
        vec![
            cell("base", 20, BASE, None),
            cell("retry-budget", 20, RETRIES, Some(BASE)),
            breaker,
        ],
    )
}

/// The study's cells with three clients each (the last cell lacks one, and one client
/// has no request in one cell), as a priorities scenario shows who paid.
pub fn clients() -> Analysis {
    let mut a = study();
    let client = |name: &str, priority: &str, values: &[f64]| ClientSummary {
        name: name.to_string(),
        priority: priority.to_string(),
        availability: estimate(values),
    };
    a.cells[0].clients = vec![
        client("checkout", "default", &[0.83, 0.84, 0.82]),
        client("browse", "default", &[0.82, 0.85, 0.83]),
        client("crawler", "default", &[0.84, 0.83, 0.84]),
    ];
    a.cells[1].clients = vec![
        client("checkout", "critical", &[1.0, 1.0, 1.0]),
        client("browse", "default", &[1.0, 0.999, 1.0]),
        client("crawler", "sheddable", &[0.66, 0.69, 0.65]),
    ];
    a.cells[2].clients = vec![
        client("checkout", "critical", &[]),
        client("crawler", "sheddable", &[0.7]),
    ];
    a
}

/// One cell, one seed: no intervals anywhere.
pub fn single() -> Analysis {
    let mut a = analysis("single", 1, vec![cell("base", 1, BASE, None)]);
    a.fault_windows.truncate(1);
    a
}

/// Two variants x four rates.
pub fn sweep() -> Analysis {
    let rates = [100.0, 200.0, 400.0, 800.0];
    let mut cells = Vec::new();
    for (variant, e) in [("base", BASE), ("retry-budget", RETRIES)] {
        for (k, rate) in rates.iter().enumerate() {
            let load = Effect {
                dip: e.dip * (k as f64 + 1.0) / 4.0,
                slower: e.slower * (1.0 + k as f64 * 0.4),
                ..e
            };
            let base_load = Effect {
                dip: BASE.dip * (k as f64 + 1.0) / 4.0,
                slower: 1.0 + k as f64 * 0.4,
                ..BASE
            };
            let mut c = cell(variant, 10, load, (variant != "base").then_some(base_load));
            c.point = vec![format!("{rate}")];
            c.point_numbers = vec![Some(*rate)];
            cells.push(c);
        }
    }
    let mut a = analysis("load-sweep", 10, cells);
    a.sweep_paths = vec!["clients.web.rate_per_s".to_string()];
    a
}

/// Thirty cells.
pub fn many() -> Analysis {
    let cells = (0..30)
        .map(|i| {
            let e = Effect {
                dip: 0.01 * i as f64,
                slower: 1.0 + 0.05 * i as f64,
                recovery_s: 5.0,
            };
            cell(&format!("variant-{i:02}"), 5, e, (i > 0).then_some(BASE))
        })
        .collect();
    analysis("many", 5, cells)
}

/// Odd data: an empty timeline, all-None values, a single bucket, infinite and NaN values.
pub fn odd() -> Analysis {
    let mut empty = cell("empty", 3, BASE, None);
    empty.timeline.clear();
    empty.latency_cdf.clear();
    let mut nothing = cell("all-none", 3, RETRIES, Some(BASE));
    for row in &mut nothing.timeline {
        *row = TimelineRow {
            t_s: row.t_s,
            availability_mean: None,
            availability_min: None,
            availability_max: None,
            p50_ms: None,
            p99_ms: None,
        };
    }
    for m in &mut nothing.metrics {
        m.estimate.mean = None;
        m.estimate.ci = None;
    }
    let mut single = cell("one-bucket", 3, BREAKER, Some(BASE));
    single.timeline.truncate(1);
    single.latency_cdf = vec![(f64::NAN, 0.5), (5.0, 1.0)];
    single.metrics[Metric::P99Ms.index()].estimate.mean = Some(f64::INFINITY);
    single.metrics[Metric::Availability.index()].estimate.ci = Some((f64::NAN, f64::INFINITY));
    single.policy_tracks = vec![PolicyTrack {
        site: "a->b".to_string(),
        policy: "circuit_breaker".to_string(),
        points: Vec::new(),
    }];
    let mut a = analysis("odd", 3, vec![empty, nothing, single]);
    a.fault_windows.push(FaultWindow {
        label: "never ends".to_string(),
        start_s: 10.0,
        end_s: f64::INFINITY,
    });
    a.bucket_s = f64::NAN;
    a
}

/// Like a real run's histogram: thousands of bins per cell, from a few stray requests
/// decades faster than the rest (1e-5 ms) to a long tail.
pub fn many_bins() -> Analysis {
    let mut a = study();
    for (c, cell) in a.cells.iter_mut().enumerate() {
        let scale = 30.0 * (1.0 + c as f64 * 0.2);
        let mut cdf = vec![(1e-5, 1e-6), (2e-5, 2e-6)];
        cdf.extend((0..15_000).map(|k| {
            let ms = 0.05 * 10f64.powf(f64::from(k) / 15_000.0 * 3.6);
            (ms, 1.0 - (-(ms / scale).powf(1.3)).exp())
        }));
        cdf.push((250.0 * (1.0 + c as f64 * 0.2), 1.0));
        cell.latency_cdf = cdf;
    }
    a
}
