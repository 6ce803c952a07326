//! The policy log: when each circuit breaker changed state, and each retry budget's level per
//! time bucket, for `policies.csv` ("when did the breaker open?").

use crate::engine::SimTime;

/// One line of the policy log.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyEvent {
    /// When it happened (for budget levels: the time of the bucket's last decision).
    pub time: SimTime,
    /// Index of the policy site in [`PolicyLog::sites`].
    pub site: u32,
    /// `circuit_breaker`, `retry_budget`, `outlier_detection`, `health_check` or
    /// `concurrency_limit`.
    pub policy: &'static str,
    /// For breakers, the state entered (`open`, `half_open`, `closed`); for budgets and
    /// concurrency limits, `level`; for outlier detection, `ejected` or `returned`; for
    /// health checks, `unhealthy` or `healthy`.
    pub event: &'static str,
    /// For budgets, the level (retries still allowed, or tokens); for concurrency limits,
    /// the limit; for outlier detection and health checks, the replica's position among
    /// its service's replicas; for breakers, nothing.
    pub value: Option<f64>,
}

/// The policy events of one run, in time order (then by site).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyLog {
    /// The name of each policy site: the caller and the target, like `web->api` or
    /// `api[1]->db`.
    pub sites: Vec<String>,
    /// The events.
    pub events: Vec<PolicyEvent>,
}

impl PolicyLog {
    /// Adds `events` (time, replica position, event) of `policy` at the site named `site`
    /// (added to the sites if new), each with the replica as its value, and keeps the log
    /// in time order (then by site).
    pub fn add_replica_events(
        &mut self,
        site: &str,
        policy: &'static str,
        events: impl Iterator<Item = (SimTime, u32, &'static str)>,
    ) {
        let site = self.site_index(site);
        for (time, replica, event) in events {
            self.events.push(PolicyEvent {
                time,
                site,
                policy,
                event,
                value: Some(f64::from(replica)),
            });
        }
        self.events.sort_by_key(|e| (e.time, e.site));
    }
}

impl PolicyLog {
    /// Adds the levels (time, value) of `policy` at the site named `site` (added to the
    /// sites if new), as `level` events, and keeps the log in time order (then by site).
    pub fn add_levels(
        &mut self,
        site: &str,
        policy: &'static str,
        levels: impl Iterator<Item = (SimTime, f64)>,
    ) {
        let site = self.site_index(site);
        for (time, value) in levels {
            self.events.push(PolicyEvent {
                time,
                site,
                policy,
                event: "level",
                value: Some(value),
            });
        }
        self.events.sort_by_key(|e| (e.time, e.site));
    }

    /// The index of the site named `site`, added if new.
    fn site_index(&mut self, site: &str) -> u32 {
        (match self.sites.iter().position(|s| s == site) {
            Some(i) => i,
            None => {
                self.sites.push(site.to_string());
                self.sites.len() - 1
            }
        }) as u32
    }
}

/// Counters of what the call-path policies did, over the measured window (by the time each
/// thing happened).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyCounts {
    /// Retries sent after a failed attempt (every call site, not only clients).
    pub retries: u64,
    /// Hedged attempts sent.
    pub hedges: u64,
    /// Retries a budget refused.
    pub budget_refused: u64,
    /// Requests a non-idempotent service executed again.
    pub duplicates: u64,
    /// Requests dropped at dequeue because their caller had given up (deadline propagation).
    pub dropped: u64,
}
