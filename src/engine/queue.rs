//! The event queue: a min-heap keyed by (time, sequence number): a four-ary heap while it
//! is small, a radix heap (`radix.rs`) once more than [`RADIX_ABOVE`] events are pending.
//!
//! Events scheduled for the same time pop in the order they were scheduled: the sequence
//! number, taken from a counter that only grows, breaks every tie. Every key is therefore
//! distinct, so the pop order is fully determined by the keys, whatever the heap's layout.
//!
//! The heap is written out here rather than taken from `std::collections::BinaryHeap`: each
//! node has four children, so a pop walks half the levels of a binary heap; the key is one
//! `u128` (time in the high half, sequence in the low half), compared in one step; and
//! sifting moves a "hole" with plain copies of the small `Copy` events, so an entry is
//! written once per level instead of swapped. A popped event leaves its slot at
//! the root empty until the next push, which takes the slot over and sinks from there: a
//! handler that schedules something (most do) thus costs one sift instead of two. The
//! buffer is reused, so a run in steady state pushes and pops without allocating.

use super::radix::RadixHeap;
use super::time::SimTime;

/// Pending events above which the queue becomes a radix heap: a four-ary heap is faster while
/// it fits in the caches, a radix heap once it does not. In the hold model on the 2-core
/// development machine, the four-ary heap did 17.5M operations/s at 64,000 pending against
/// the radix heap's 14.6M, and 14.5M at 128,000 against 16.6M.
pub const RADIX_ABOVE: usize = 1 << 16;

/// Children per node of the heap form: four halves the levels a pop walks down against two,
/// and the two pairs of siblings are compared side by side (see `benches/hold.rs`: 1.45x
/// std's binary heap at 1,000 pending, where two children per node gave 1.12x).
const ARITY: usize = 4;
// `sift_down` takes the four children of a node as one pattern.
const _: () = assert!(ARITY == 4, "sift_down compares exactly four children");

/// One pending event and its (time, sequence) key.
#[derive(Clone, Copy)]
pub(super) struct Entry<E> {
    pub(super) key: u128,
    pub(super) event: E,
}

impl<E> Entry<E> {
    #[inline]
    pub(super) fn time(&self) -> SimTime {
        SimTime((self.key >> 64) as u64)
    }
}

/// Pending events ordered by (time, scheduling order).
pub struct EventQueue<E> {
    /// A four-ary min-heap (the children of slot i are slots 4i+1 to 4i+4): each entry's key
    /// is below its children's (the root's excepted while `hole` is set).
    heap: Vec<Entry<E>>,
    next_seq: u64,
    /// True when the root slot still holds the event popped last, which is gone.
    hole: bool,
    /// The key of the event popped last (0 before the first pop).
    last_key: u128,
    /// Once more than `radix_above` events were pending at once: every pending event, in a
    /// radix heap (the four-ary heap stays empty from then on).
    radix: Option<Box<RadixHeap<E>>>,
    radix_above: usize,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `n` pending events before it grows.
    pub fn with_capacity(n: usize) -> Self {
        Self::switching_above(n, RADIX_ABOVE)
    }

    /// An empty queue with room for `n` pending events, that becomes a radix heap once
    /// more than `radix_above` are pending (tests use small values).
    pub fn switching_above(n: usize, radix_above: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(n.min(radix_above.saturating_add(1))),
            next_seq: 0,
            hole: false,
            last_key: 0,
            radix: None,
            radix_above,
        }
    }

    /// Adds `event` at `time`; it pops after every event already scheduled at that time.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let key = (u128::from(time.as_nanos()) << 64) | u128::from(self.next_seq);
        self.next_seq += 1;
        let entry = Entry { key, event };
        if let Some(r) = &mut self.radix {
            r.push(entry);
        } else if self.hole {
            self.hole = false;
            self.sift_down(entry);
        } else {
            self.push_at_bottom(entry);
        }
    }

    /// Adds `entry` in a new slot at the bottom. Most pushes fill the hole a pop left, so
    /// this path is kept out of line.
    #[inline(never)]
    fn push_at_bottom(&mut self, entry: Entry<E>) {
        self.heap.push(entry);
        let last = self.heap.len() - 1;
        self.sift_up(last, entry);
        if self.heap.len() > self.radix_above {
            self.become_radix();
        }
    }

    /// Moves every pending event into a radix heap, for good.
    #[cold]
    fn become_radix(&mut self) {
        self.fill_hole();
        let mut r = Box::new(RadixHeap::new(self.last_key));
        for &e in &self.heap {
            r.push(e);
        }
        self.heap = Vec::new();
        self.radix = Some(r);
    }

    /// Removes and returns the earliest event, ties broken by scheduling order.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if let Some(r) = &mut self.radix {
            let e = r.pop()?;
            self.last_key = e.key;
            return Some((e.time(), e.event));
        }
        self.fill_hole();
        if self.heap.is_empty() {
            None
        } else {
            Some(self.take_root())
        }
    }

    /// Removes and returns the earliest event if its time is before `until`.
    #[inline]
    pub fn pop_before(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        if let Some(r) = &mut self.radix {
            let e = r.pop_if(|e| e.time() < until)?;
            self.last_key = e.key;
            return Some((e.time(), e.event));
        }
        self.fill_hole();
        match self.heap.first() {
            Some(top) if top.time() < until => Some(self.take_root()),
            _ => None,
        }
    }

    /// The time of the earliest pending event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if let Some(r) = &self.radix {
            return r.peek_key().map(|k| SimTime((k >> 64) as u64));
        }
        if self.hole {
            // The earliest of the rest is one of the root's children.
            let children = self.heap.iter().skip(1).take(ARITY);
            children.min_by_key(|c| c.key).map(Entry::time)
        } else {
            self.heap.first().map(Entry::time)
        }
    }

    /// The `n` earliest pending events in the order they will pop, without removing them.
    /// Walks the heap from its root, so it costs about `n log n`, whatever the queue's size.
    pub fn earliest(&self, n: usize) -> Vec<(SimTime, E)> {
        use std::cmp::Reverse;
        if let Some(r) = &self.radix {
            // Only for messages: sorting every key is fine.
            let mut all: Vec<&Entry<E>> = r.entries().collect();
            if n < all.len() {
                all.select_nth_unstable_by_key(n, |e| e.key);
                all.truncate(n);
            }
            all.sort_unstable_by_key(|e| e.key);
            return all.iter().take(n).map(|e| (e.time(), e.event)).collect();
        }
        let mut frontier = std::collections::BinaryHeap::new();
        let start = if self.hole { 1..1 + ARITY } else { 0..1 };
        for i in start {
            if let Some(e) = self.heap.get(i) {
                frontier.push(Reverse((e.key, i)));
            }
        }
        let mut out = Vec::with_capacity(n.min(self.len()));
        while out.len() < n {
            let Some(Reverse((_, i))) = frontier.pop() else {
                break;
            };
            let e = &self.heap[i];
            out.push((e.time(), e.event));
            for child in ARITY * i + 1..=ARITY * i + ARITY {
                if let Some(c) = self.heap.get(child) {
                    frontier.push(Reverse((c.key, child)));
                }
            }
        }
        out
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        match &self.radix {
            Some(r) => r.len(),
            None => self.heap.len() - usize::from(self.hole),
        }
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands out the root entry, leaving its slot as the hole.
    #[inline]
    fn take_root(&mut self) -> (SimTime, E) {
        debug_assert!(!self.hole);
        let top = self.heap[0];
        self.hole = true;
        self.last_key = top.key;
        (top.time(), top.event)
    }

    /// Closes the hole at the root, if any, with the last entry.
    #[inline]
    fn fill_hole(&mut self) {
        if self.hole {
            self.hole = false;
            let last = self.heap.pop().expect("the hole is a slot");
            if !self.heap.is_empty() {
                self.sift_down(last);
            }
        }
    }

    /// Moves the hole at `pos` up until `entry` fits there, and puts it there.
    #[inline]
    fn sift_up(&mut self, mut pos: usize, entry: Entry<E>) {
        let heap = self.heap.as_mut_slice();
        while pos > 0 {
            let parent = (pos - 1) / ARITY;
            let above = heap[parent];
            if above.key <= entry.key {
                break;
            }
            heap[pos] = above;
            pos = parent;
        }
        heap[pos] = entry;
    }

    /// Fills the hole at the root with `entry` (a new one, or the former last one): the hole
    /// first sinks to the bottom along the earliest child of each node, then `entry` rises
    /// from there. Both usually belong near the bottom (new events tend to lie later than
    /// most pending ones), so this skips comparing `entry` on the way down.
    #[inline]
    fn sift_down(&mut self, entry: Entry<E>) {
        let heap = self.heap.as_mut_slice();
        let mut pos = 0;
        loop {
            let first = ARITY * pos + 1;
            let Some(&[a, b, c, d]) = heap.get(first..first + ARITY) else {
                break;
            };
            // Branch-free: which child is earliest is a coin toss the predictor cannot
            // learn. The two pairs are compared independently, then their winners.
            let (ab, ab_key) = if b.key < a.key {
                (1, b.key)
            } else {
                (0, a.key)
            };
            let (cd, cd_key) = if d.key < c.key {
                (3, d.key)
            } else {
                (2, c.key)
            };
            let child = first + if cd_key < ab_key { cd } else { ab };
            heap[pos] = heap[child];
            pos = child;
        }
        // The last node with children may have fewer than four.
        let first = ARITY * pos + 1;
        let end = heap.len().min(first + ARITY);
        if first < end {
            let mut child = first;
            for c in first + 1..end {
                if heap[c].key < heap[child].key {
                    child = c;
                }
            }
            heap[pos] = heap[child];
            pos = child;
        }
        self.sift_up(pos, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    /// A queue that stays a four-ary heap, and one that becomes a radix heap at once.
    const SWITCH_POINTS: [usize; 2] = [usize::MAX, 3];

    proptest! {
        #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(1), ..Config::default() })]

        /// Whatever the pushes, pops come out by time, and by push order within a time.
        #[test]
        fn pops_in_time_then_push_order(times in prop::collection::vec(0u64..20, 0..200)) {
            for radix_above in SWITCH_POINTS {
            let mut q = EventQueue::switching_above(0, radix_above);
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
        }

        /// The earliest events, listed without popping, are the ones pops would give, in
        /// order, also right after a pop left its hole.
        #[test]
        fn earliest_lists_what_pops_would_give(times in prop::collection::vec(0u64..30, 0..80), pops in 0usize..5, n in 0usize..20) {
            for radix_above in SWITCH_POINTS {
            let mut q = EventQueue::switching_above(0, radix_above);
            for (i, t) in times.iter().enumerate() {
                q.push(SimTime(*t), i);
            }
            for _ in 0..pops.min(times.len()) {
                q.pop();
            }
            let listed = q.earliest(n);
            let mut popped = Vec::new();
            while popped.len() < n {
                match q.pop() {
                    Some(e) => popped.push(e),
                    None => break,
                }
            }
            prop_assert_eq!(listed, popped);
            }
        }

        /// Peeking and counting see through the slot a pop leaves empty.
        #[test]
        fn peek_and_len_after_pops(times in prop::collection::vec(0u64..50, 1..60), pops in 0usize..60) {
            for radix_above in SWITCH_POINTS {
            let mut q = EventQueue::switching_above(0, radix_above);
            for (i, t) in times.iter().enumerate() {
                q.push(SimTime(*t), i);
            }
            let mut sorted = times.clone();
            sorted.sort();
            let pops = pops.min(times.len());
            for _ in 0..pops {
                q.pop();
            }
            prop_assert_eq!(q.len(), times.len() - pops);
            prop_assert_eq!(q.peek_time().map(SimTime::as_nanos), sorted.get(pops).copied());
            }
        }

        /// Interleaved pushes and pops never return an event earlier than one already popped
        /// when every push is at or after the last popped time (as the engine guarantees).
        #[test]
        fn interleaving_keeps_order(ops in prop::collection::vec((any::<bool>(), 0u64..10), 0..300)) {
            for radix_above in SWITCH_POINTS {
            let mut q = EventQueue::switching_above(0, radix_above);
            let mut now = 0u64;
            let mut last: Option<(u64, usize)> = None;
            for (n, &(push, dt)) in ops.iter().enumerate() {
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

        /// A radix heap and a four-ary heap, fed the same interleaved pushes and pops (pushes
        /// never before the last pop), give the same pops, peeks and counts throughout.
        #[test]
        fn the_radix_heap_behaves_as_the_four_ary_heap(ops in prop::collection::vec((0u8..3, 0u64..1_000_000), 0..400)) {
            let mut heap = EventQueue::switching_above(0, usize::MAX);
            let mut radix = EventQueue::switching_above(0, 2);
            let mut now = 0u64;
            for (n, (op, dt)) in ops.into_iter().enumerate() {
                match op {
                    0 | 1 => {
                        heap.push(SimTime(now + dt % 50), n);
                        radix.push(SimTime(now + dt % 50), n);
                    }
                    _ => {
                        let until = SimTime(now + dt % 10);
                        let (a, b) = (heap.pop_before(until), radix.pop_before(until));
                        prop_assert_eq!(a, b);
                        if let Some((t, _)) = a {
                            now = t.as_nanos();
                        }
                    }
                }
                prop_assert_eq!(heap.len(), radix.len());
                prop_assert_eq!(heap.peek_time(), radix.peek_time());
            }
            prop_assert_eq!(heap.earliest(10), radix.earliest(10));
        }
    }
}
