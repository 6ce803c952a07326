//! Finding the time-series bucket of a time without a division in the common case.
//!
//! Buckets are `width` long and aligned to time zero; row 0 is the bucket that starts at
//! `first`. The request recorder looks up the bucket of the current time on every request,
//! and the current time only grows, so the cursor remembers the last bucket it found and
//! answers from it while the time stays inside; it divides only on a change of bucket.

use crate::engine::SimTime;

/// The row of the last bucket looked up, and where that bucket starts and ends.
#[derive(Clone, Copy, Debug)]
pub struct BucketCursor {
    first: u64,
    width: u64,
    row: usize,
    start: u64,
    end: u64,
}

impl BucketCursor {
    /// A cursor over buckets of `width` ns whose row 0 starts at `first` (a multiple of
    /// `width`), placed on row 0.
    pub fn new(first: SimTime, width: u64) -> Self {
        debug_assert!(width > 0, "buckets have a positive width");
        BucketCursor {
            first: first.as_nanos(),
            width,
            row: 0,
            start: first.as_nanos(),
            end: first.as_nanos().saturating_add(width),
        }
    }

    /// The row of the bucket that contains `t` (which must not lie before row 0); the
    /// cursor moves there.
    #[inline]
    pub fn row_of(&mut self, t: SimTime) -> usize {
        let t = t.as_nanos();
        if t < self.start || t >= self.end {
            self.seek(t);
        }
        self.row
    }

    #[cold]
    fn seek(&mut self, t: u64) {
        let row = (t - self.first) / self.width;
        self.row = row as usize;
        self.start = self.first + row * self.width;
        self.end = self.start.saturating_add(self.width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_match_the_division_forwards_and_after_jumps() {
        let mut c = BucketCursor::new(SimTime(2_000), 1_000);
        for t in [2_000u64, 2_999, 3_000, 3_500, 9_999, 10_000, 10_001, 50_000] {
            assert_eq!(
                c.row_of(SimTime(t)),
                ((t - 2_000) / 1_000) as usize,
                "t = {t}"
            );
        }
        // Backwards (not used by the metrics, but still right).
        assert_eq!(c.row_of(SimTime(2_500)), 0);
    }
}
