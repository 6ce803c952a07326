//! The request recorder: run totals, run-wide latency and the per-bucket time series.
//!
//! A request belongs to the bucket of the time its client sent it, so each row's outcomes
//! add up to its requests. A bucket keeps a histogram only while it is open: once its time
//! has passed and its last request has ended, its percentiles are computed and the
//! histogram goes back to a pool. Memory therefore depends on how many buckets are open
//! at once, not on how long the run is.

use super::bucket::BucketCursor;
use super::counts::Counts;
use super::latency::{BucketHistogram, LatencyRecorder, LatencySummary, bucket_histogram};
use crate::engine::{SimDuration, SimTime};
use crate::outcome::Outcome;

/// Names a counted request's bucket (an index into the run's time series).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketId(u32);

/// One row of the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketRow {
    /// Start of the bucket.
    pub start: SimTime,
    /// Requests sent in the bucket and their outcomes.
    pub counts: Counts,
    /// Median latency of the bucket's successful requests.
    pub p50_ns: Option<u64>,
    /// 99th percentile latency of the bucket's successful requests.
    pub p99_ns: Option<u64>,
}

struct Bucket {
    row: BucketRow,
    in_flight: u64,
    histogram: Option<BucketHistogram>,
}

/// What the recorder measured over a whole run.
pub struct FinishedRun {
    /// Totals over the measured window.
    pub totals: Counts,
    /// Latency of successful requests; `None` if none succeeded.
    pub latency: Option<LatencySummary>,
    /// The run-wide latency histogram's non-empty bins: (highest value in ns, count).
    pub latency_bins: Vec<(u64, u64)>,
    /// The time series.
    pub rows: Vec<BucketRow>,
}

/// Records requests as they start and end.
pub struct Recorder {
    warmup: SimTime,
    end: SimTime,
    bucket: SimDuration,
    latency: LatencyRecorder,
    buckets: Vec<Bucket>,
    /// Every bucket before this one is closed.
    next_to_close: usize,
    /// The end of bucket `next_to_close`: nothing can close before this time.
    close_at: SimTime,
    pool: Vec<BucketHistogram>,
    /// The bucket of the last request started.
    cursor: BucketCursor,
}

impl Recorder {
    /// Counts requests sent in [warmup, end), in buckets of `bucket` aligned to time zero.
    pub fn new(warmup: SimDuration, end: SimDuration, bucket: SimDuration) -> Self {
        let first = warmup.as_nanos() / bucket.as_nanos();
        let last = end.as_nanos().div_ceil(bucket.as_nanos());
        let buckets = (first..last)
            .map(|i| Bucket {
                row: BucketRow {
                    start: SimTime(i * bucket.as_nanos()),
                    counts: Counts::default(),
                    p50_ns: None,
                    p99_ns: None,
                },
                in_flight: 0,
                histogram: None,
            })
            .collect();
        Recorder {
            warmup: SimTime(warmup.as_nanos()),
            end: SimTime(end.as_nanos()),
            bucket,
            latency: LatencyRecorder::new(),
            buckets,
            next_to_close: 0,
            close_at: SimTime((first + 1) * bucket.as_nanos()),
            pool: Vec::new(),
            cursor: BucketCursor::new(SimTime(first * bucket.as_nanos()), bucket.as_nanos()),
        }
    }

    /// The start of the measured window.
    pub fn window_start(&self) -> SimTime {
        self.warmup
    }

    /// Starts counting a request sent at `now`; `None` if it lies outside the window.
    #[inline]
    pub fn start(&mut self, now: SimTime) -> Option<BucketId> {
        if now < self.warmup || now >= self.end {
            return None;
        }
        let index = self.cursor.row_of(now);
        let b = &mut self.buckets[index];
        b.row.counts.requests += 1;
        b.in_flight += 1;
        if now >= self.close_at {
            self.close_finished(now);
        }
        Some(BucketId(index as u32))
    }

    /// Counts one attempt (the first send or a retry) of a counted request.
    #[inline]
    pub fn attempt(&mut self, bucket: BucketId) {
        self.buckets[bucket.0 as usize].row.counts.attempts += 1;
    }

    /// Ends a counted request with `outcome`, `latency` after it was sent.
    #[inline(always)]
    pub fn finish(
        &mut self,
        bucket: BucketId,
        outcome: Outcome,
        latency: SimDuration,
        now: SimTime,
    ) {
        let pool = &mut self.pool;
        let b = &mut self.buckets[bucket.0 as usize];
        b.row.counts.record(outcome);
        b.in_flight -= 1;
        if outcome.is_success() {
            let ns = latency.as_nanos();
            self.latency.record(ns);
            let h = b
                .histogram
                .get_or_insert_with(|| pool.pop().unwrap_or_else(bucket_histogram));
            h.record(ns);
        }
        if now >= self.close_at {
            self.close_finished(now);
        }
    }

    /// Closes every leading bucket whose time has passed and whose requests have all ended.
    #[inline]
    fn close_finished(&mut self, now: SimTime) {
        while let Some(b) = self.buckets.get_mut(self.next_to_close) {
            let end = b.row.start + self.bucket;
            if end > now || b.in_flight > 0 {
                break;
            }
            if let Some(mut h) = b.histogram.take() {
                let [p50, p99] = h.quantiles([0.5, 0.99]);
                (b.row.p50_ns, b.row.p99_ns) = (Some(p50), Some(p99));
                h.reset();
                self.pool.push(h);
            }
            self.next_to_close += 1;
            self.close_at = end + self.bucket;
        }
    }

    /// Freezes the results; every counted request must have ended. The run totals are the
    /// sums of the rows (every counted request belongs to exactly one row), added up here
    /// rather than counted twice per request.
    pub fn finish_run(mut self) -> FinishedRun {
        self.close_finished(SimTime::MAX);
        let mut totals = Counts::default();
        for b in &self.buckets {
            totals += b.row.counts;
        }
        assert_eq!(
            totals.requests,
            totals.ended(),
            "every counted request ends with exactly one outcome"
        );
        FinishedRun {
            totals,
            latency: self.latency.summary(),
            latency_bins: self.latency.bins(),
            rows: self.buckets.into_iter().map(|b| b.row).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_land_in_the_bucket_of_their_send_time() {
        let mut r = Recorder::new(
            SimDuration::from_millis(1500),
            SimDuration::from_secs(4),
            SimDuration::from_secs(1),
        );
        assert_eq!(r.start(SimTime(1_000_000_000)), None, "before warmup");
        let a = r.start(SimTime(1_600_000_000)).expect("counted");
        let b = r.start(SimTime(3_999_999_999)).expect("counted");
        assert_eq!(r.start(SimTime(4_000_000_000)), None, "at the end");
        r.attempt(a);
        r.attempt(b);
        r.finish(
            a,
            Outcome::Ok,
            SimDuration::from_millis(10),
            SimTime(5_000_000_000),
        );
        r.finish(
            b,
            Outcome::Rejected,
            SimDuration::ZERO,
            SimTime(5_000_000_000),
        );
        let FinishedRun {
            totals,
            latency,
            rows,
            latency_bins,
        } = r.finish_run();
        assert_eq!(latency_bins.len(), 1, "one success, one bin");
        assert_eq!(rows.len(), 3, "buckets starting at 1 s, 2 s, 3 s");
        assert_eq!(rows[0].start, SimTime(1_000_000_000));
        assert_eq!((rows[0].counts.requests, rows[0].counts.ok), (1, 1));
        assert_eq!((rows[2].counts.requests, rows[2].counts.rejected), (1, 1));
        assert_eq!(rows[1].counts.requests, 0);
        assert_eq!(totals.requests, 2);
        assert_eq!(latency.map(|l| l.count), Some(1));
        assert!(rows[0].p50_ns.is_some() && rows[2].p50_ns.is_none());
    }
}
