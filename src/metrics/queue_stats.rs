//! Queues' figures: one row per queue and time bucket (`queues.csv`), from time zero to
//! the end of the run, and the ends of the messages producers sent in the measured window
//! (`summary.csv`).

use super::latency::{LatencyRecorder, LatencySummary};
use crate::engine::{SimDuration, SimTime};

/// One bucket of one queue. Over the rows of a queue, messages are conserved: the sum of
/// `sent - refused` up to a row equals the sum of `acknowledged + dead_lettered` up to it
/// plus its `depth_end`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueRow {
    /// Start of the bucket.
    pub start: SimTime,
    /// Time-average number of messages stored (visible or in flight).
    pub depth_mean: f64,
    /// Messages stored at the end of the bucket.
    pub depth_end: u64,
    /// Of those, messages received and not yet acknowledged or visible again.
    pub in_flight_end: u64,
    /// Age at the end of the bucket of the oldest message stored then, if any.
    pub oldest_age: Option<SimDuration>,
    /// Messages that reached the queue (refused ones included; dead-lettered messages
    /// moved here included).
    pub sent: u64,
    /// Messages refused because the queue was full.
    pub refused: u64,
    /// Receives by consumers (redeliveries included).
    pub received: u64,
    /// Messages deleted by the acknowledgement of their latest delivery.
    pub acknowledged: u64,
    /// Receives of messages received before.
    pub redelivered: u64,
    /// Messages that reached `max_receives` and left (to the dead-letter queue, or dropped).
    pub dead_lettered: u64,
}

/// One queue's time series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueMetrics {
    /// The queue's name.
    pub name: String,
    /// Its rows, in time order.
    pub rows: Vec<QueueRow>,
}

/// What became of the messages producers sent (and queues stored) in the measured window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageMetrics {
    /// Messages stored in the window.
    pub messages: u64,
    /// Of those, messages acknowledged by a consumer.
    pub processed: u64,
    /// Of those, messages dead-lettered after `max_receives`.
    pub dead_lettered: u64,
    /// Redeliveries of those messages (receives after the first).
    pub redelivered: u64,
    /// From send to acknowledgement, of processed messages.
    pub latency: Option<LatencySummary>,
}

impl MessageMetrics {
    /// Messages still stored when the run stopped (the drain limit passed first).
    pub fn left(&self) -> u64 {
        self.messages - self.processed - self.dead_lettered
    }
}

/// The counted messages' ends while the run goes.
#[derive(Default)]
pub struct MessageRecorder {
    counts: MessageMetrics,
    latency: LatencyRecorder,
}

impl MessageRecorder {
    /// A counted message was stored.
    pub fn stored(&mut self) {
        self.counts.messages += 1;
    }

    /// A counted message was received again.
    pub fn redelivered(&mut self) {
        self.counts.redelivered += 1;
    }

    /// A counted message was acknowledged `latency` after its producer sent it.
    pub fn processed(&mut self, latency: SimDuration) {
        self.counts.processed += 1;
        self.latency.record(latency.as_nanos());
    }

    /// A counted message was dead-lettered.
    pub fn dead_lettered(&mut self) {
        self.counts.dead_lettered += 1;
    }

    /// The frozen figures.
    pub fn finish(self) -> MessageMetrics {
        MessageMetrics {
            latency: self.latency.summary(),
            ..self.counts
        }
    }
}

/// One queue's rows while the run goes: counters of the current bucket, and the integral of
/// its depth, closed bucket by bucket as time passes. Rows past the end of `duration` draw
/// on a budget shared by the queues; when it runs out, the rows stop growing.
pub struct QueueRecorder {
    bucket: u64,
    rows: Vec<QueueRow>,
    /// Rows it holds without drawing on the shared budget: those up to the end of
    /// `duration`, which the run has whatever happens.
    free: usize,
    /// When a change needed a row the shared budget could not give; the rows stop there.
    pub refused_at: Option<SimTime>,
    /// Where the changes after that go, counted nowhere.
    spill: QueueRow,
    /// Integral of the depth over the current bucket so far (messages x ns).
    area: u128,
    /// When the depth last changed (or a bucket was closed).
    last: SimTime,
    /// Messages stored now.
    pub stored: u64,
    /// Of those, messages in flight now.
    pub in_flight: u64,
}

impl QueueRecorder {
    /// A recorder with rows `bucket` wide, the first `free` of them outside the budget.
    pub fn new(bucket: SimDuration, free: u64) -> Self {
        QueueRecorder {
            bucket: bucket.as_nanos().max(1),
            rows: vec![QueueRow::default()],
            free: usize::try_from(free).unwrap_or(usize::MAX),
            refused_at: None,
            spill: QueueRow::default(),
            area: 0,
            last: SimTime::ZERO,
            stored: 0,
            in_flight: 0,
        }
    }

    /// Closes the buckets that end at or before `now`; `oldest` is when the oldest message
    /// stored now was stored (the same at the end of each bucket closed: nothing changed
    /// since `last`). Returns the current row. Rows past the free ones are taken from
    /// `budget`; when it has too few, nothing is recorded any more ([`Self::refused_at`]).
    pub fn at(
        &mut self,
        now: SimTime,
        oldest: impl Fn() -> Option<SimTime>,
        budget: &mut u64,
    ) -> &mut QueueRow {
        if self.refused_at.is_some() {
            return &mut self.spill;
        }
        let index = usize::try_from(now.as_nanos() / self.bucket).unwrap_or(usize::MAX);
        let new_rows = index
            .saturating_add(1)
            .saturating_sub(self.rows.len().max(self.free)) as u64;
        if new_rows > *budget {
            self.refused_at = Some(now);
            return &mut self.spill;
        }
        *budget -= new_rows;
        while self.rows.len() <= index {
            let end = SimTime(self.rows.len() as u64 * self.bucket);
            self.close(end, oldest());
        }
        let dt = now.as_nanos() - self.last.as_nanos();
        self.area += u128::from(self.stored) * u128::from(dt);
        self.last = now;
        self.rows.last_mut().expect("a current row")
    }

    /// Closes the current row at `end` (its bucket's end), and opens the next.
    fn close(&mut self, end: SimTime, oldest: Option<SimTime>) {
        let dt = end.as_nanos() - self.last.as_nanos();
        self.area += u128::from(self.stored) * u128::from(dt);
        let row = self.rows.last_mut().expect("a current row");
        row.depth_mean = self.area as f64 / self.bucket as f64;
        row.depth_end = self.stored;
        row.in_flight_end = self.in_flight;
        row.oldest_age = oldest.map(|t| end.saturating_since(t));
        self.area = 0;
        self.last = end;
        self.rows.push(QueueRow {
            start: end,
            ..QueueRow::default()
        });
    }

    /// The rows up to the bucket holding `until` or the last change, whichever is later,
    /// closed.
    pub fn finish(mut self, name: &str, until: SimTime, oldest: Option<SimTime>) -> QueueMetrics {
        let last =
            ((until.as_nanos().saturating_sub(1) / self.bucket) as usize).max(self.rows.len() - 1);
        while self.rows.len() <= last + 1 {
            let end = SimTime(self.rows.len() as u64 * self.bucket);
            self.close(end, oldest);
        }
        self.rows.pop();
        QueueMetrics {
            name: name.to_string(),
            rows: self.rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn the_depth_is_averaged_over_time_and_rows_close_as_time_passes() {
        let mut r = QueueRecorder::new(SimDuration::from_secs(1), 3);
        let mut budget = 0;
        r.at(SimTime(S / 2), || None, &mut budget).sent += 1;
        r.stored = 1;
        // Stored from 0.5 s to 2.25 s.
        r.at(SimTime(2 * S + S / 4), || Some(SimTime(S / 2)), &mut budget)
            .acknowledged += 1;
        r.stored = 0;
        let m = r.finish("q", SimTime(3 * S), None);
        assert_eq!(m.rows.len(), 3);
        assert_eq!(m.rows[0].depth_mean, 0.5);
        assert_eq!(m.rows[1].depth_mean, 1.0);
        assert_eq!(m.rows[2].depth_mean, 0.25);
        assert_eq!(m.rows[0].oldest_age, Some(SimDuration::from_nanos(S / 2)));
        assert_eq!(
            m.rows[1].oldest_age,
            Some(SimDuration::from_nanos(3 * S / 2))
        );
        assert_eq!(m.rows[2].oldest_age, None);
        assert_eq!((m.rows[0].sent, m.rows[2].acknowledged), (1, 1));
        assert_eq!(m.rows[1].depth_end, 1);
    }

    #[test]
    fn a_change_at_the_start_of_the_last_bucket_keeps_its_row() {
        let mut r = QueueRecorder::new(SimDuration::from_secs(1), 2);
        r.at(SimTime(2 * S), || None, &mut 1).sent += 1;
        let m = r.finish("q", SimTime(2 * S), None);
        assert_eq!(m.rows.len(), 3);
        assert_eq!(m.rows[2].sent, 1);
    }

    #[test]
    fn rows_past_the_free_ones_draw_on_the_budget_and_stop_when_it_is_spent() {
        let mut r = QueueRecorder::new(SimDuration::from_secs(1), 2);
        let mut budget = 3;
        r.at(SimTime(S), || None, &mut budget).sent += 1;
        assert_eq!(budget, 3, "the first two rows are free");
        r.at(SimTime(4 * S), || None, &mut budget).sent += 1;
        assert_eq!(
            (budget, r.refused_at),
            (0, None),
            "rows 2, 3 and 4 are drawn"
        );
        r.at(SimTime(5 * S), || None, &mut budget).sent += 1;
        assert_eq!(r.refused_at, Some(SimTime(5 * S)));
        // Far later: nothing grows once refused.
        r.at(SimTime(1_000_000 * S), || None, &mut budget).sent += 1;
        assert_eq!(r.refused_at, Some(SimTime(5 * S)));
        let m = r.finish("q", SimTime(2 * S), None);
        assert_eq!(m.rows.len(), 5);
        assert_eq!(m.rows.iter().map(|r| r.sent).sum::<u64>(), 2);
    }
}
