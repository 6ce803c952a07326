//! Per-service counters and time averages over the measured window [warmup, duration).

use crate::engine::SimTime;

/// What one service did, summed over its replicas.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceMetrics {
    /// The service's name.
    pub name: String,
    /// Requests that reached a replica inside the window.
    pub arrivals: u64,
    /// Of those, requests that finished (answered ok or with an error).
    pub completed: u64,
    /// Of those, requests answered with an error.
    pub errors: u64,
    /// Of those, requests refused by a full queue.
    pub rejected: u64,
    /// Time-average number of requests in the service (waiting or in service) over the window.
    pub mean_in_system: f64,
    /// Mean time from arrival at a replica to its answer, of completed requests, ns.
    pub mean_sojourn_ns: Option<f64>,
    /// Time-average number of busy workers over the window.
    pub mean_busy: f64,
}

/// The write side of [`ServiceMetrics`], updated by the model as requests come and go.
#[derive(Clone, Debug)]
pub struct ServiceRecorder {
    window_start: SimTime,
    window_end: SimTime,
    in_system: u64,
    busy: u64,
    last_change: SimTime,
    area_in_system: u128,
    area_busy: u128,
    arrivals: u64,
    completed: u64,
    errors: u64,
    rejected: u64,
    sojourn_sum_ns: u128,
}

impl ServiceRecorder {
    /// A recorder measuring over [window_start, window_end).
    pub fn new(window_start: SimTime, window_end: SimTime) -> Self {
        ServiceRecorder {
            window_start,
            window_end,
            in_system: 0,
            busy: 0,
            last_change: SimTime::ZERO,
            area_in_system: 0,
            area_busy: 0,
            arrivals: 0,
            completed: 0,
            errors: 0,
            rejected: 0,
            sojourn_sum_ns: 0,
        }
    }

    fn in_window(&self, t: SimTime) -> bool {
        t >= self.window_start && t < self.window_end
    }

    /// Accumulates the areas up to `now`, counting only the part inside the window.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        let from = self.last_change.max(self.window_start);
        let to = now.min(self.window_end);
        if to > from {
            let dt = u128::from((to - from).as_nanos());
            self.area_in_system += u128::from(self.in_system) * dt;
            self.area_busy += u128::from(self.busy) * dt;
        }
        self.last_change = now;
    }

    /// A request reached a replica.
    #[inline]
    pub fn arrived(&mut self, now: SimTime) {
        self.advance(now);
        self.in_system += 1;
        if self.in_window(now) {
            self.arrivals += 1;
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
    }

    /// A request that arrived at `arrived_at` left its worker, answered ok or not.
    #[inline]
    pub fn completed(&mut self, now: SimTime, arrived_at: SimTime, error: bool) {
        self.advance(now);
        self.in_system -= 1;
        self.busy -= 1;
        if self.in_window(arrived_at) {
            self.completed += 1;
            self.errors += u64::from(error);
            self.sojourn_sum_ns += u128::from((now - arrived_at).as_nanos());
        }
    }

    /// The frozen metrics, named `name`.
    pub fn finish(mut self, name: &str, now: SimTime) -> ServiceMetrics {
        self.advance(now);
        let window = (self.window_end - self.window_start).as_nanos() as f64;
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
        }
    }
}
