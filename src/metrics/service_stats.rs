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
    /// Time-average number of replicas healthy in the callers' view (all of them unless
    /// the service is health-checked).
    pub healthy_replicas: f64,
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
    /// Health-check probes of its replicas in the bucket.
    pub probes: u64,
    /// Of those, probes that failed.
    pub probes_failed: u64,
    /// Requests shed at dequeue in the bucket (`max_queue_time`, CoDel).
    pub shed: u64,
    /// Requests its rate limit refused in the bucket (counted in `arrivals` too).
    pub rate_limited: u64,
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
    /// Of those arrivals, requests shed at dequeue.
    pub shed: u64,
    /// Of those arrivals, requests its rate limit refused.
    pub rate_limited: u64,
    /// Time-average number of requests in the service (waiting or holding a worker).
    pub mean_in_system: f64,
    /// Mean time from arrival at a replica to leaving it, of completed requests, ns.
    pub mean_sojourn_ns: Option<f64>,
    /// Time-average number of busy workers.
    pub mean_busy: f64,
    /// The time series, one row per bucket of the window.
    pub rows: Vec<ServiceRow>,
    /// The same window totals, per replica, in replica order (for `replicas.csv`: how
    /// evenly the balancers spread the load).
    pub replicas: Vec<ReplicaTotals>,
}

/// What one replica did inside the window: the counts of [`ServiceMetrics`], for it alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaTotals {
    /// Requests that reached it, live, inside the window.
    pub arrivals: u64,
    /// Of those, requests that left a worker.
    pub completed: u64,
    /// Of those completed, requests that ended in an error.
    pub errors: u64,
    /// Of those arrivals, requests refused by a full queue (or dropped at dequeue).
    pub rejected: u64,
    /// Of those arrivals, requests shed at dequeue.
    pub shed: u64,
    /// Of those arrivals, requests its rate limit refused.
    pub rate_limited: u64,
    /// Sum of the completed requests' times from arrival to leaving, ns.
    pub sojourn_sum_ns: u128,
}

impl ReplicaTotals {
    /// Mean time from arrival to leaving of its completed requests, ns.
    pub fn mean_sojourn_ns(&self) -> Option<f64> {
        (self.completed > 0).then(|| self.sojourn_sum_ns as f64 / self.completed as f64)
    }
}

/// The write side of [`ServiceMetrics`], updated by the model as requests come and go.
///
/// # How the time averages are kept
///
/// The number of requests waiting, of busy workers and of replicas up are step functions of
/// time; each row needs their integrals over its bucket (clipped to the window). Instead of
/// adding count x elapsed time for every count on every change, a row is credited, when the
/// time first reaches it, with the counts of that moment over its whole width, as if nothing
/// would change until its end; each change by +-1 at time t then adds or takes away the
/// time left until the row's end. That is one addition per change and no multiplication,
/// and the integer sums are exactly those of the step functions. The rows the run never
/// reached are credited when it finishes (see [`ServiceRecorder::finish`]).
#[derive(Clone, Debug)]
pub struct ServiceRecorder {
    window_start: SimTime,
    window_end: SimTime,
    first_bucket: SimTime,
    bucket: SimDuration,
    in_system: u64,
    busy: u64,
    up: u64,
    healthy: u64,
    arrivals: u64,
    completed: u64,
    errors: u64,
    rejected: u64,
    shed: u64,
    rate_limited: u64,
    sojourn_sum_ns: u128,
    per_replica: Vec<ReplicaTotals>,
    rows: Vec<RowAccumulator>,
    /// Number of rows credited so far; the last of them is the current row.
    rows_reached: usize,
    /// Where the next row starts: the time reaching it credits it.
    next_row_start: SimTime,
    /// End of the current row (clipped to the window); zero before the first row.
    row_end: SimTime,
}

#[derive(Clone, Debug, Default)]
struct RowAccumulator {
    /// Integrals over the row, in count x ns, kept with wrapping arithmetic: a change's
    /// credit may be taken back, and the final values are exact.
    area_up: u128,
    area_healthy: u128,
    area_busy: u128,
    area_queue: u128,
    arrivals: u64,
    served: u64,
    errors: u64,
    rejected: u64,
    probes: u64,
    probes_failed: u64,
    shed: u64,
    rate_limited: u64,
}

impl RowAccumulator {
    /// Counts a request that ended in this row.
    #[inline]
    fn count_end(&mut self, error: bool) {
        if error {
            self.errors += 1;
        } else {
            self.served += 1;
        }
    }
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
        let first_bucket = SimTime(first * bucket.as_nanos());
        ServiceRecorder {
            window_start: SimTime(warmup.as_nanos()),
            window_end: SimTime(duration.as_nanos()),
            first_bucket,
            bucket,
            in_system: 0,
            busy: 0,
            up: u64::from(replicas),
            healthy: u64::from(replicas),
            arrivals: 0,
            completed: 0,
            errors: 0,
            rejected: 0,
            shed: 0,
            rate_limited: 0,
            sojourn_sum_ns: 0,
            per_replica: vec![ReplicaTotals::default(); replicas as usize],
            rows: vec![RowAccumulator::default(); last.saturating_sub(first) as usize],
            rows_reached: 0,
            next_row_start: SimTime(warmup.as_nanos()),
            row_end: SimTime::ZERO,
        }
    }

    fn in_window(&self, t: SimTime) -> bool {
        t >= self.window_start && t < self.window_end
    }

    /// Brings the rows up to `now` (before any count changes at `now`), and returns the
    /// current row, which is the row of `now`, with the time left until its end, if `now`
    /// is inside the window.
    #[inline(always)]
    fn row_left(&mut self, now: SimTime) -> Option<(&mut RowAccumulator, u128)> {
        if now >= self.next_row_start {
            self.reach(now);
        }
        if now >= self.row_end {
            return None;
        }
        let left = u128::from((self.row_end - now).as_nanos());
        Some((&mut self.rows[self.rows_reached - 1], left))
    }

    /// Credits every row that starts at or before `now` with the current counts over its
    /// whole width.
    #[cold]
    fn reach(&mut self, now: SimTime) {
        while now >= self.next_row_start && self.rows_reached < self.rows.len() {
            let k = self.rows_reached as u64;
            let start = self.first_bucket + SimDuration(k * self.bucket.as_nanos());
            let end = (start + self.bucket).min(self.window_end);
            let width = u128::from((end - start.max(self.window_start)).as_nanos());
            let row = &mut self.rows[self.rows_reached];
            row.area_up = row.area_up.wrapping_add(u128::from(self.up) * width);
            row.area_healthy = row
                .area_healthy
                .wrapping_add(u128::from(self.healthy) * width);
            row.area_busy = row.area_busy.wrapping_add(u128::from(self.busy) * width);
            let queue = u128::from(self.in_system - self.busy);
            row.area_queue = row.area_queue.wrapping_add(queue * width);
            self.rows_reached += 1;
            self.row_end = end;
            self.next_row_start = end;
        }
    }

    /// A request reached live replica `replica` (its position in the service).
    #[inline(always)]
    pub fn arrived(&mut self, now: SimTime, replica: u32) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_queue = row.area_queue.wrapping_add(left);
            row.arrivals += 1;
            self.arrivals += 1;
            self.per_replica[replica as usize].arrivals += 1;
        }
        self.in_system += 1;
    }

    /// A request reached a crashed replica and was refused.
    #[inline]
    pub fn refused(&mut self, now: SimTime) {
        if let Some((row, _)) = self.row_left(now) {
            row.arrivals += 1;
            row.errors += 1;
        }
    }

    /// A worker took up a request.
    #[inline]
    pub fn started(&mut self, now: SimTime) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_queue = row.area_queue.wrapping_sub(left);
            row.area_busy = row.area_busy.wrapping_add(left);
        }
        self.busy += 1;
    }

    /// A request that arrived at `arrived_at` at `replica` was refused by a full queue.
    #[inline]
    pub fn rejected(&mut self, now: SimTime, arrived_at: SimTime, replica: u32) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_queue = row.area_queue.wrapping_sub(left);
            row.rejected += 1;
        }
        self.in_system -= 1;
        if self.in_window(arrived_at) {
            self.rejected += 1;
            self.per_replica[replica as usize].rejected += 1;
        }
    }

    /// A request reached live replica `replica` and its rate limit refused it at once.
    pub fn rate_limited(&mut self, now: SimTime, replica: u32) {
        if let Some((row, _)) = self.row_left(now) {
            row.arrivals += 1;
            row.rate_limited += 1;
            self.arrivals += 1;
            self.rate_limited += 1;
            let r = &mut self.per_replica[replica as usize];
            r.arrivals += 1;
            r.rate_limited += 1;
        }
    }

    /// A request reached live replica `replica` and its adaptive concurrency limit shed it
    /// at once.
    pub fn shed_on_arrival(&mut self, now: SimTime, replica: u32) {
        if let Some((row, _)) = self.row_left(now) {
            row.arrivals += 1;
            row.shed += 1;
            self.arrivals += 1;
            self.shed += 1;
            let r = &mut self.per_replica[replica as usize];
            r.arrivals += 1;
            r.shed += 1;
        }
    }

    /// A request that arrived at `arrived_at` at `replica` was shed at dequeue.
    pub fn shed(&mut self, now: SimTime, arrived_at: SimTime, replica: u32) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_queue = row.area_queue.wrapping_sub(left);
            row.shed += 1;
        }
        self.in_system -= 1;
        if self.in_window(arrived_at) {
            self.shed += 1;
            self.per_replica[replica as usize].shed += 1;
        }
    }

    /// A request that arrived at `arrived_at` at `replica` left its worker, answered ok or
    /// not.
    #[inline(always)]
    pub fn completed(&mut self, now: SimTime, arrived_at: SimTime, error: bool, replica: u32) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_busy = row.area_busy.wrapping_sub(left);
            row.count_end(error);
        }
        self.in_system -= 1;
        self.busy -= 1;
        self.count_end(now, arrived_at, error, replica);
    }

    /// A crash killed a request that arrived at `arrived_at` at `replica`, holding a worker
    /// or waiting.
    pub fn killed(&mut self, now: SimTime, arrived_at: SimTime, held_worker: bool, replica: u32) {
        if let Some((row, left)) = self.row_left(now) {
            if held_worker {
                row.area_busy = row.area_busy.wrapping_sub(left);
            } else {
                row.area_queue = row.area_queue.wrapping_sub(left);
            }
            row.count_end(true);
        }
        self.in_system -= 1;
        if held_worker {
            self.busy -= 1;
        }
        self.count_end(now, arrived_at, true, replica);
    }

    /// Counts, in the window totals, a request that arrived at `arrived_at` and ended now.
    #[inline(always)]
    fn count_end(&mut self, now: SimTime, arrived_at: SimTime, error: bool, replica: u32) {
        if self.in_window(arrived_at) {
            let sojourn = u128::from((now - arrived_at).as_nanos());
            self.completed += 1;
            self.errors += u64::from(error);
            self.sojourn_sum_ns += sojourn;
            let r = &mut self.per_replica[replica as usize];
            r.completed += 1;
            r.errors += u64::from(error);
            r.sojourn_sum_ns += sojourn;
        }
    }

    /// One replica went down.
    pub fn replica_down(&mut self, now: SimTime) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_up = row.area_up.wrapping_sub(left);
        }
        self.up -= 1;
    }

    /// One replica came back.
    pub fn replica_up(&mut self, now: SimTime) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_up = row.area_up.wrapping_add(left);
        }
        self.up += 1;
    }

    /// A health-check probe of one replica, passed or not.
    pub fn probe(&mut self, now: SimTime, passed: bool) {
        if let Some((row, _)) = self.row_left(now) {
            row.probes += 1;
            row.probes_failed += u64::from(!passed);
        }
    }

    /// One replica left the callers' balancers (health checks found it unhealthy), or
    /// came back (`healthy`).
    pub fn replica_health(&mut self, now: SimTime, healthy: bool) {
        if let Some((row, left)) = self.row_left(now) {
            row.area_healthy = if healthy {
                row.area_healthy.wrapping_add(left)
            } else {
                row.area_healthy.wrapping_sub(left)
            };
        }
        if healthy {
            self.healthy += 1;
        } else {
            self.healthy -= 1;
        }
    }

    /// The frozen metrics, named `name`. Nothing changes after a run's last event, so the
    /// counts of that moment hold to the end of the window: every row not reached yet is
    /// credited with them.
    pub fn finish(mut self, name: &str) -> ServiceMetrics {
        self.reach(SimTime::MAX);
        let area_busy: u128 = self.rows.iter().map(|r| r.area_busy).sum();
        let area_in_system = area_busy + self.rows.iter().map(|r| r.area_queue).sum::<u128>();
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
                    healthy_replicas: a.area_healthy as f64 / covered,
                    busy_workers: a.area_busy as f64 / covered,
                    queue_len: a.area_queue as f64 / covered,
                    arrivals: a.arrivals,
                    served: a.served,
                    errors: a.errors,
                    rejected: a.rejected,
                    probes: a.probes,
                    probes_failed: a.probes_failed,
                    shed: a.shed,
                    rate_limited: a.rate_limited,
                }
            })
            .collect();
        ServiceMetrics {
            name: name.to_string(),
            arrivals: self.arrivals,
            completed: self.completed,
            errors: self.errors,
            rejected: self.rejected,
            shed: self.shed,
            rate_limited: self.rate_limited,
            mean_in_system: area_in_system as f64 / window,
            mean_sojourn_ns: (self.completed > 0)
                .then(|| self.sojourn_sum_ns as f64 / self.completed as f64),
            mean_busy: area_busy as f64 / window,
            rows,
            replicas: self.per_replica,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the rows after a run's last event kept no replica up (the areas stopped
    /// at the last event while the averages divide by the whole bucket).
    #[test]
    fn the_final_state_holds_to_the_end_of_the_window() {
        let s = SimDuration::from_secs;
        let mut r = ServiceRecorder::new(s(0), s(10), s(2), 2);
        r.arrived(SimTime(1_000_000_000), 0);
        r.started(SimTime(1_000_000_000));
        r.completed(SimTime(1_500_000_000), SimTime(1_000_000_000), false, 0);
        let m = r.finish("api");
        let up: Vec<f64> = m.rows.iter().map(|row| row.replicas_up).collect();
        assert_eq!(up, vec![2.0; 5]);
        assert_eq!(
            m.rows[0].busy_workers, 0.25,
            "one worker for half a second of two"
        );
        assert_eq!(m.rows[1].busy_workers, 0.0);
        assert_eq!(m.mean_busy, 0.05);
    }

    /// The per-change bookkeeping gives the same integrals as summing count x time.
    #[test]
    fn areas_match_a_direct_integration() {
        let mut r = ServiceRecorder::new(SimDuration(3), SimDuration(50), SimDuration(7), 1);
        // (time, change): +1 arrival, +2 start, -1 completion.
        let changes = [
            (1, 1),
            (4, 2),
            (9, 1),
            (9, -1),
            (15, 2),
            (22, -1),
            (30, 1),
            (31, 2),
            (48, -1),
        ];
        let (mut in_system, mut busy) = (0i64, 0i64);
        // Busy and waiting integrals of the 8 buckets [0, 7), [7, 14), ..., [49, 56).
        let mut expected = [(0i64, 0i64); 8];
        let mut last = 0u64;
        for &(t, change) in &changes {
            for tick in last..t {
                if (3..50).contains(&tick) {
                    let e = &mut expected[(tick / 7) as usize];
                    e.0 += busy;
                    e.1 += in_system - busy;
                }
            }
            last = t;
            let now = SimTime(t);
            match change {
                1 => {
                    r.arrived(now, 0);
                    in_system += 1;
                }
                2 => {
                    r.started(now);
                    busy += 1;
                }
                _ => {
                    r.completed(now, now, false, 0);
                    in_system -= 1;
                    busy -= 1;
                }
            }
        }
        assert_eq!(
            (in_system, busy),
            (0, 0),
            "nothing left after the last change"
        );
        let m = r.finish("s");
        assert_eq!(m.rows.len(), expected.len());
        for (row, (busy, waiting)) in m.rows.iter().zip(expected) {
            let start = row.start.as_nanos().max(3);
            let end = (row.start.as_nanos() + 7).min(50);
            let covered = (end - start) as f64;
            assert_eq!(row.busy_workers, busy as f64 / covered, "{row:?}");
            assert_eq!(row.queue_len, waiting as f64 / covered, "{row:?}");
        }
    }
}
