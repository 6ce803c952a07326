//! Per-service figures: totals and time averages over the measured window [warmup, duration),
//! and one row per time bucket for `services.csv`.

use crate::engine::{SimDuration, SimTime};

/// One bucket of one service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceRow {
    /// Start of the bucket.
    pub start: SimTime,
    /// Time-average number of replicas up (not crashed).
    pub replicas_up: f64,
    /// Time-average number of busy workers, over all replicas.
    pub busy_workers: f64,
    /// Time-average number of requests waiting for a worker, over all replicas.
    pub queue_len: f64,
    /// Requests that reached a replica in the bucket (refused ones included).
    pub arrivals: u64,
    /// Requests answered ok in the bucket.
    pub served: u64,
    /// Requests that ended in an error in the bucket: own errors, failed calls, requests
    /// killed by a crash and requests refused by a crashed replica.
    pub errors: u64,
    /// Requests refused by a full queue in the bucket.
    pub rejected: u64,
}

/// What one service did, summed over its replicas.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceMetrics {
    /// The service's name.
    pub name: String,
    /// Requests that reached a replica inside the window (rejected ones included; refused
    /// ones, sent to a crashed replica, not).
    pub arrivals: u64,
    /// Of those, requests that left a worker (answered ok or with an error, or killed).
    pub completed: u64,
    /// Of those completed, requests that ended in an error.
    pub errors: u64,
    /// Of those arrivals, requests refused by a full queue.
    pub rejected: u64,
    /// Time-average number of requests in the service (waiting or holding a worker).
    pub mean_in_system: f64,
    /// Mean time from arrival at a replica to leaving it, of completed requests, ns.
    pub mean_sojourn_ns: Option<f64>,
    /// Time-average number of busy workers.
    pub mean_busy: f64,
    /// The time series, one row per bucket of the window.
    pub rows: Vec<ServiceRow>,
}

/// The write side of [`ServiceMetrics`], updated by the model as requests come and go.
#[derive(Clone, Debug)]
pub struct ServiceRecorder {
    window_start: SimTime,
    window_end: SimTime,
    first_bucket: SimTime,
    bucket: SimDuration,
    in_system: u64,
    busy: u64,
    up: u64,
    last_change: SimTime,
    area_in_system: u128,
    area_busy: u128,
    arrivals: u64,
    completed: u64,
    errors: u64,
    rejected: u64,
    sojourn_sum_ns: u128,
    rows: Vec<RowAccumulator>,
}

#[derive(Clone, Debug, Default)]
struct RowAccumulator {
    area_up: u128,
    area_busy: u128,
    area_queue: u128,
    arrivals: u64,
    served: u64,
    errors: u64,
    rejected: u64,
}

impl ServiceRecorder {
    /// A recorder for a service of `replicas` replicas, measuring over [warmup, duration)
    /// in buckets of `bucket` aligned to time zero.
    pub fn new(
        warmup: SimDuration,
        duration: SimDuration,
        bucket: SimDuration,
        replicas: u32,
    ) -> Self {
        let first = warmup.as_nanos() / bucket.as_nanos();
        let last = duration.as_nanos().div_ceil(bucket.as_nanos());
        ServiceRecorder {
            window_start: SimTime(warmup.as_nanos()),
            window_end: SimTime(duration.as_nanos()),
            first_bucket: SimTime(first * bucket.as_nanos()),
            bucket,
            in_system: 0,
            busy: 0,
            up: u64::from(replicas),
            last_change: SimTime::ZERO,
            area_in_system: 0,
            area_busy: 0,
            arrivals: 0,
            completed: 0,
            errors: 0,
            rejected: 0,
            sojourn_sum_ns: 0,
            rows: vec![RowAccumulator::default(); (last - first) as usize],
        }
    }

    fn in_window(&self, t: SimTime) -> bool {
        t >= self.window_start && t < self.window_end
    }

    /// The row of time `t`, if `t` is inside the window.
    #[inline]
    fn row(&mut self, t: SimTime) -> Option<&mut RowAccumulator> {
        if !self.in_window(t) {
            return None;
        }
        let i = (t - self.first_bucket).as_nanos() / self.bucket.as_nanos();
        self.rows.get_mut(i as usize)
    }

    /// Accumulates the areas up to `now`, counting only the part inside the window.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        let mut from = self.last_change.max(self.window_start);
        let to = now.min(self.window_end);
        while from < to {
            let i = (from - self.first_bucket).as_nanos() / self.bucket.as_nanos();
            let bucket_end = self.first_bucket + SimDuration((i + 1) * self.bucket.as_nanos());
            let until = to.min(bucket_end);
            let dt = u128::from((until - from).as_nanos());
            self.area_in_system += u128::from(self.in_system) * dt;
            self.area_busy += u128::from(self.busy) * dt;
            let row = &mut self.rows[i as usize];
            row.area_up += u128::from(self.up) * dt;
            row.area_busy += u128::from(self.busy) * dt;
            row.area_queue += u128::from(self.in_system - self.busy) * dt;
            from = until;
        }
        self.last_change = now;
    }

    /// A request reached a live replica.
    #[inline]
    pub fn arrived(&mut self, now: SimTime) {
        self.advance(now);
        self.in_system += 1;
        if self.in_window(now) {
            self.arrivals += 1;
        }
        if let Some(row) = self.row(now) {
            row.arrivals += 1;
        }
    }

    /// A request reached a crashed replica and was refused.
    #[inline]
    pub fn refused(&mut self, now: SimTime) {
        if let Some(row) = self.row(now) {
            row.arrivals += 1;
            row.errors += 1;
        }
    }

    /// A worker took up a request.
    #[inline]
    pub fn started(&mut self, now: SimTime) {
        self.advance(now);
        self.busy += 1;
    }

    /// A request that arrived at `arrived_at` was refused by a full queue.
    #[inline]
    pub fn rejected(&mut self, now: SimTime, arrived_at: SimTime) {
        self.advance(now);
        self.in_system -= 1;
        if self.in_window(arrived_at) {
            self.rejected += 1;
        }
        if let Some(row) = self.row(now) {
            row.rejected += 1;
        }
    }

    /// A request that arrived at `arrived_at` left its worker, answered ok or not.
    #[inline]
    pub fn completed(&mut self, now: SimTime, arrived_at: SimTime, error: bool) {
        self.advance(now);
        self.in_system -= 1;
        self.busy -= 1;
        self.count_end(now, arrived_at, error);
    }

    /// A crash killed a request that arrived at `arrived_at`, holding a worker or waiting.
    pub fn killed(&mut self, now: SimTime, arrived_at: SimTime, held_worker: bool) {
        self.advance(now);
        self.in_system -= 1;
        if held_worker {
            self.busy -= 1;
        }
        self.count_end(now, arrived_at, true);
    }

    fn count_end(&mut self, now: SimTime, arrived_at: SimTime, error: bool) {
        if self.in_window(arrived_at) {
            self.completed += 1;
            self.errors += u64::from(error);
            self.sojourn_sum_ns += u128::from((now - arrived_at).as_nanos());
        }
        if let Some(row) = self.row(now) {
            if error {
                row.errors += 1;
            } else {
                row.served += 1;
            }
        }
    }

    /// One replica went down.
    pub fn replica_down(&mut self, now: SimTime) {
        self.advance(now);
        self.up -= 1;
    }

    /// One replica came back.
    pub fn replica_up(&mut self, now: SimTime) {
        self.advance(now);
        self.up += 1;
    }

    /// The frozen metrics, named `name`.
    pub fn finish(mut self, name: &str, now: SimTime) -> ServiceMetrics {
        self.advance(now);
        let window = (self.window_end - self.window_start).as_nanos() as f64;
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let start = self.first_bucket + SimDuration(i as u64 * self.bucket.as_nanos());
                let end = (start + self.bucket).min(self.window_end);
                let covered = (end - start.max(self.window_start)).as_nanos() as f64;
                ServiceRow {
                    start,
                    replicas_up: a.area_up as f64 / covered,
                    busy_workers: a.area_busy as f64 / covered,
                    queue_len: a.area_queue as f64 / covered,
                    arrivals: a.arrivals,
                    served: a.served,
                    errors: a.errors,
                    rejected: a.rejected,
                }
            })
            .collect();
        ServiceMetrics {
            name: name.to_string(),
            arrivals: self.arrivals,
            completed: self.completed,
            errors: self.errors,
            rejected: self.rejected,
            mean_in_system: self.area_in_system as f64 / window,
            mean_sojourn_ns: (self.completed > 0)
                .then(|| self.sojourn_sum_ns as f64 / self.completed as f64),
            mean_busy: self.area_busy as f64 / window,
            rows,
        }
    }
}
