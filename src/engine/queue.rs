//! The event queue: a min-heap keyed by (time, sequence number).
//!
//! Events scheduled for the same time pop in the order they were scheduled: the sequence
//! number, taken from a counter that only grows, breaks every tie. The heap's buffer is
//! reused, so a run in steady state pushes and pops without allocating.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest (time, seq) on top.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Pending events ordered by (time, scheduling order).
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `n` pending events before it grows.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            next_seq: 0,
        }
    }

    /// Adds `event` at `time`; it pops after every event already scheduled at that time.
    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Removes and returns the earliest event, ties broken by scheduling order.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    proptest! {
        #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(1), ..Config::default() })]

        /// Whatever the pushes, pops come out by time, and by push order within a time.
        #[test]
        fn pops_in_time_then_push_order(times in prop::collection::vec(0u64..20, 0..200)) {
            let mut q = EventQueue::new();
            for (i, t) in times.iter().enumerate() {
                q.push(SimTime(*t), i);
            }
            prop_assert_eq!(q.len(), times.len());
            let mut expected: Vec<(u64, usize)> =
                times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
            expected.sort();
            let mut popped = Vec::new();
            while let Some((t, i)) = q.pop() {
                popped.push((t.as_nanos(), i));
            }
            prop_assert_eq!(popped, expected);
        }

        /// Interleaved pushes and pops never return an event earlier than one already popped
        /// when every push is at or after the last popped time (as the engine guarantees).
        #[test]
        fn interleaving_keeps_order(ops in prop::collection::vec((any::<bool>(), 0u64..10), 0..300)) {
            let mut q = EventQueue::new();
            let mut now = 0u64;
            let mut last: Option<(u64, usize)> = None;
            for (n, (push, dt)) in ops.into_iter().enumerate() {
                if push {
                    q.push(SimTime(now + dt), n);
                } else if let Some((t, i)) = q.pop() {
                    let key = (t.as_nanos(), i);
                    if let Some(prev) = last {
                        prop_assert!(key.0 > prev.0 || (key.0 == prev.0 && key.1 > prev.1));
                    }
                    now = t.as_nanos();
                    last = Some(key);
                }
            }
        }
    }
}
