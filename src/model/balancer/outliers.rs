//! Passive outlier detection as one balancer sees its replicas: Envoy's consecutive-errors
//! and success-rate detectors, ejections that grow and shrink, their log.

use crate::engine::{SimDuration, SimTime};
use crate::scenario::balancer::{FailurePercentageSpec, OutlierSpec};

/// Envoy's consecutive-errors outlier detection, as one balancer sees its replicas.
pub(super) struct Outliers {
    pub(super) spec: OutlierSpec,
    /// Failures in a row per replica.
    pub(super) streak: Vec<u32>,
    /// Until when each replica is ejected.
    pub(super) ejected_until: Vec<Option<SimTime>>,
    /// The ejection multiplier of each replica (Envoy's number of times ejected), and when
    /// it last returned (it drops by one per `interval` spent back in).
    pub(super) times: Vec<(u32, SimTime)>,
    /// Ejections and returns not yet logged: (time, replica, event).
    pub(super) events: Vec<(SimTime, u32, &'static str)>,
    /// Attempts and successes per replica in the current interval (success-rate detector).
    pub(super) counts: Vec<(u32, u32)>,
    /// When the current interval ends.
    pub(super) interval_end: SimTime,
}

impl Outliers {
    pub(super) fn new(spec: OutlierSpec, n: usize) -> Self {
        Outliers {
            spec,
            streak: vec![0; n],
            ejected_until: vec![None; n],
            times: vec![(0, SimTime::ZERO); n],
            events: Vec::new(),
            counts: vec![(0, 0); n],
            interval_end: SimTime::ZERO + spec.interval,
        }
    }

    /// Returns the replicas whose ejection has ended by `now`, and runs the success-rate
    /// detector over the interval that ended, if one has (lazily, at the first choice
    /// after it; an interval without attempts runs nothing).
    pub(super) fn refresh(&mut self, now: SimTime) {
        if now >= self.interval_end {
            let at = self.interval_end;
            self.success_rate_sweep(at);
            let interval = self.spec.interval.as_nanos().max(1);
            let behind = (now.as_nanos() - at.as_nanos()) / interval + 1;
            self.interval_end = SimTime(at.as_nanos() + behind * interval);
        }
        for i in 0..self.ejected_until.len() {
            if let Some(until) = self.ejected_until[i]
                && until <= now
            {
                self.ejected_until[i] = None;
                self.times[i].1 = until;
                self.events.push((until, i as u32, "returned"));
            }
        }
    }

    /// An attempt to replica `i` settled at `now`, failed or not: a failure streak of
    /// `consecutive_errors` ejects it, if the ejected replicas stay within
    /// `max_ejection_percent`, for `base_ejection` x its multiplier, at most
    /// `max_ejection`.
    pub(super) fn observe(&mut self, i: usize, failed: bool, now: SimTime) {
        let c = &mut self.counts[i];
        c.0 += 1;
        c.1 += u32::from(!failed);
        if !failed {
            self.streak[i] = 0;
            return;
        }
        self.streak[i] += 1;
        if self.streak[i] >= self.spec.consecutive_errors {
            self.eject(i, now);
        }
    }

    /// Envoy's success-rate detector at `now`, over the interval's counts: among replicas
    /// with at least `request_volume` attempts, if at least `minimum_hosts` of them, each
    /// whose success rate is below mean - `stdev_factor` x stdev is ejected.
    fn success_rate_sweep(&mut self, now: SimTime) {
        let sr = self.spec.success_rate;
        let rates: Vec<(usize, f64)> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(i, c)| c.0 >= sr.request_volume && self.ejected_until[*i].is_none())
            .map(|(i, c)| (i, f64::from(c.1) / f64::from(c.0)))
            .collect();
        if let Some(fp) = self.spec.failure_percentage {
            self.failure_percentage_sweep(fp, now);
        }
        self.counts.iter_mut().for_each(|c| *c = (0, 0));
        if rates.len() < sr.minimum_hosts as usize {
            return;
        }
        let mean = rates.iter().map(|r| r.1).sum::<f64>() / rates.len() as f64;
        let var = rates.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / rates.len() as f64;
        let threshold = mean - sr.stdev_factor * var.sqrt();
        for (i, rate) in rates {
            if rate < threshold {
                self.eject(i, now);
            }
        }
    }

    /// Envoy's failure-percentage detector at `now`, over the interval's counts: among
    /// replicas with at least `request_volume` attempts, if at least `minimum_hosts` of
    /// them, each failing `threshold` percent or more of its attempts is ejected.
    fn failure_percentage_sweep(&mut self, fp: FailurePercentageSpec, now: SimTime) {
        let judged = |c: &(u32, u32)| c.0 >= fp.request_volume;
        let hosts = self
            .counts
            .iter()
            .enumerate()
            .filter(|(i, c)| judged(c) && self.ejected_until[*i].is_none())
            .count();
        if hosts < fp.minimum_hosts as usize {
            return;
        }
        for i in 0..self.counts.len() {
            let (total, ok) = self.counts[i];
            if judged(&self.counts[i])
                && f64::from(total - ok) * 100.0 >= fp.threshold * f64::from(total)
            {
                self.eject(i, now);
            }
        }
    }

    /// Ejects replica `i` at `now`, if not ejected already and the ejected replicas stay
    /// within `max_ejection_percent`: for `base_ejection` x its multiplier, at most
    /// `max_ejection`.
    fn eject(&mut self, i: usize, now: SimTime) {
        if self.ejected_until[i].is_some() {
            return;
        }
        let n = self.ejected_until.len();
        let ejected = self.ejected_until.iter().filter(|u| u.is_some()).count();
        if ((ejected + 1) as f64) * 100.0 > self.spec.max_ejection_percent * n as f64 {
            return;
        }
        let (times, returned) = &mut self.times[i];
        let healthy_intervals =
            now.saturating_since(*returned).as_nanos() / self.spec.interval.as_nanos().max(1);
        *times = times.saturating_sub(healthy_intervals.min(u64::from(u32::MAX)) as u32) + 1;
        let length = (self.spec.base_ejection.as_nanos() as f64 * f64::from(*times))
            .min(self.spec.max_ejection.as_nanos() as f64);
        self.ejected_until[i] = Some(now + SimDuration(length as u64));
        self.streak[i] = 0;
        self.events.push((now, i as u32, "ejected"));
    }
}
