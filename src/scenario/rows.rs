//! How many result rows a run writes, which `max_result_rows` bounds: the time series and
//! the services' rows cover the measured window only, the queues' rows run from time zero
//! to each queue's last change, which may come long after `duration`.

use super::Scenario;

impl Scenario {
    /// Rows of the time series (and of each service): the buckets from the one holding
    /// `warmup` to the one holding the end of `duration`.
    pub fn series_buckets(&self) -> u64 {
        let width = self.bucket.as_nanos().max(1);
        self.duration
            .as_nanos()
            .div_ceil(width)
            .saturating_sub(self.warmup.as_nanos() / width)
    }

    /// Rows of each queue up to the end of `duration`: the buckets from time zero. A queue
    /// that still changes later has a row for every bucket up to its last change.
    pub fn queue_buckets(&self) -> u64 {
        self.duration
            .as_nanos()
            .div_ceil(self.bucket.as_nanos().max(1))
    }

    /// The result rows of a run whose queues change no later than `duration`: one per
    /// bucket of the time series, per service and bucket, and per queue and bucket.
    pub fn fixed_result_rows(&self) -> u64 {
        let services = self
            .series_buckets()
            .saturating_mul(1 + self.services.len() as u64);
        let queues = self
            .queue_buckets()
            .saturating_mul(self.queues.len() as u64);
        services.saturating_add(queues)
    }
}
