//! Recovery time after a fault: how long availability takes to come back once the trigger
//! is gone. A value far above zero, or infinite, is the mark of a metastable failure.

use super::recorder::BucketRow;
use crate::engine::SimTime;

/// How close to its earlier level availability must come back (1 percentage point).
pub const TOLERANCE: f64 = 0.01;
/// How many consecutive buckets must be back within the tolerance.
pub const CONSECUTIVE: usize = 3;

/// Recovery of one run after a set of faults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Recovery {
    /// No fault with a known start and end had a measured level before it.
    NotApplicable,
    /// The longest recovery, in seconds.
    Seconds(f64),
    /// Some fault's effect lasted to the end of the run.
    Never,
}

/// For each fault active over `[start, end)`: the time from `end` until availability per
/// bucket is back within [`TOLERANCE`] of its level before `start` (all counted requests
/// sent in the buckets that end by `start`) for [`CONSECUTIVE`] buckets in a row, counted
/// from the first bucket that starts at or after `end`. Buckets without requests neither
/// break nor extend a streak. Returns the largest such time over the faults.
pub fn recovery(buckets: &[BucketRow], bucket_ns: u64, faults: &[(SimTime, SimTime)]) -> Recovery {
    let mut worst: Option<f64> = None;
    for &(start, end) in faults {
        let before = buckets
            .iter()
            .filter(|b| b.start.as_nanos() + bucket_ns <= start.as_nanos());
        let (ok, total) = before.fold((0u64, 0u64), |(ok, total), b| {
            (
                ok + b.counts.ok + b.counts.degraded,
                total + b.counts.requests,
            )
        });
        if total == 0 {
            continue;
        }
        let level = ok as f64 / total as f64;
        let mut streak = 0;
        let mut streak_start = None;
        for b in buckets.iter().filter(|b| b.start >= end) {
            let Some(a) = b.counts.availability() else {
                continue;
            };
            if a >= level - TOLERANCE {
                streak_start.get_or_insert(b.start);
                streak += 1;
                if streak == CONSECUTIVE {
                    break;
                }
            } else {
                streak = 0;
                streak_start = None;
            }
        }
        if streak < CONSECUTIVE {
            return Recovery::Never;
        }
        let recovered_at = streak_start.expect("a streak has a start");
        let seconds = (recovered_at.as_nanos() - end.as_nanos()) as f64 / 1e9;
        worst = Some(worst.map_or(seconds, |w: f64| w.max(seconds)));
    }
    worst.map_or(Recovery::NotApplicable, Recovery::Seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Counts;

    fn rows(availability: &[Option<u64>]) -> Vec<BucketRow> {
        availability
            .iter()
            .enumerate()
            .map(|(i, ok)| BucketRow {
                start: SimTime(i as u64 * 1_000_000_000),
                counts: Counts {
                    requests: ok.map_or(0, |_| 100),
                    ok: ok.unwrap_or(0),
                    errors: ok.map_or(0, |o| 100 - o),
                    attempts: ok.map_or(0, |_| 100),
                    ..Counts::default()
                },
                p50_ns: None,
                p99_ns: None,
            })
            .collect()
    }

    const S: u64 = 1_000_000_000;

    #[test]
    fn recovery_counts_from_the_fault_end_to_the_start_of_a_good_streak() {
        // Level 100% before the fault at 3 s; fault ends at 5 s; bad until 7 s; good from 7 s.
        let b = rows(&[
            Some(100),
            Some(100),
            Some(100),
            Some(0),
            Some(0),
            Some(50),
            Some(98),
            Some(100),
            Some(99),
            Some(100),
        ]);
        let r = recovery(&b, S, &[(SimTime(3 * S), SimTime(5 * S))]);
        // Bucket 6 (98%) is 2 points below the level: the streak starts at 7 s.
        assert_eq!(r, Recovery::Seconds(2.0));
    }

    #[test]
    fn an_immediate_recovery_is_zero_and_a_missing_one_is_never() {
        let good = rows(&[
            Some(100),
            Some(100),
            Some(0),
            Some(100),
            Some(100),
            Some(100),
        ]);
        assert_eq!(
            recovery(&good, S, &[(SimTime(2 * S), SimTime(3 * S))]),
            Recovery::Seconds(0.0)
        );
        let bad = rows(&[Some(100), Some(100), Some(0), Some(100), Some(100), Some(0)]);
        assert_eq!(
            recovery(&bad, S, &[(SimTime(2 * S), SimTime(3 * S))]),
            Recovery::Never
        );
        assert_eq!(recovery(&good, S, &[]), Recovery::NotApplicable);
        assert_eq!(
            recovery(&good, S, &[(SimTime(0), SimTime(S))]),
            Recovery::NotApplicable,
            "no level before"
        );
    }

    #[test]
    fn empty_buckets_neither_break_nor_extend_a_streak() {
        let b = rows(&[Some(100), Some(0), Some(100), None, Some(100), Some(100)]);
        assert_eq!(
            recovery(&b, S, &[(SimTime(S), SimTime(2 * S))]),
            Recovery::Seconds(0.0)
        );
    }
}
