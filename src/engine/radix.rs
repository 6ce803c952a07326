//! A radix heap of (key, event) entries for large pending sets: keys only grow from the
//! last one taken out (the engine never schedules into the past, and the sequence number in
//! every key makes each key unique and later than all before it at its time).
//!
//! An entry sits in bucket b, the position of the highest bit in which its key differs from
//! the last key taken out (0 for that key itself). Taking the minimum out empties the
//! lowest non-empty bucket into lower ones, relative to its smallest key; every entry only
//! ever moves down, at most 128 times, and always with sequential pushes to `Vec`s. Where
//! a binary heap of a million entries misses the cache at most of its twenty levels on
//! every operation, this stays in a few hot buffers (Ahuja, Mehlhorn, Orlin and Tarjan,
//! "Faster algorithms for the shortest path problem", 1990).

use super::queue::Entry;

/// Buckets: 0 for the last key taken out, then one per bit position of a `u128` key.
const BUCKETS: usize = 129;

/// A monotone min-heap on unique `u128` keys.
pub struct RadixHeap<E> {
    buckets: Vec<Vec<Entry<E>>>,
    /// Bit b - 1 is set when bucket b (1 to 128) holds entries.
    occupied: u128,
    /// The key of the minimum once found (bucket 0 holds it), or of the last taken out.
    last: u128,
    len: usize,
}

impl<E: Copy> RadixHeap<E> {
    /// An empty heap whose keys will all be above `last`.
    pub fn new(last: u128) -> Self {
        RadixHeap {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            last,
            len: 0,
        }
    }

    /// The bucket of `key`, relative to the last key.
    #[inline]
    fn bucket_of(&self, key: u128) -> usize {
        (128 - (key ^ self.last).leading_zeros()) as usize
    }

    /// Adds `entry`; its key must be above the last key taken out.
    #[inline]
    pub fn push(&mut self, entry: Entry<E>) {
        if entry.key < self.last {
            // Below a minimum found but not taken out (a `pop_if` that kept it): the new
            // entry is the minimum now.
            self.rebase(entry);
            return;
        }
        let b = self.bucket_of(entry.key);
        self.buckets[b].push(entry);
        if b > 0 {
            self.occupied |= 1 << (b - 1);
        }
        self.len += 1;
    }

    /// The lowest occupied bucket above 0 and the position of its smallest entry.
    #[inline]
    fn lowest(&self) -> Option<(usize, usize)> {
        if self.occupied == 0 {
            return None;
        }
        let b = self.occupied.trailing_zeros() as usize + 1;
        let (i, _) = self.buckets[b]
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.key)
            .expect("an occupied bucket has entries");
        Some((b, i))
    }

    /// Empties bucket `b`, whose smallest key is `min`, into lower ones around it: `min`
    /// becomes the base and lands in bucket 0.
    #[inline(never)]
    fn spill(&mut self, b: usize, min: u128) {
        self.occupied &= !(1 << (b - 1));
        let mut moving = std::mem::take(&mut self.buckets[b]);
        self.last = min;
        for &e in &moving {
            let to = self.bucket_of(e.key);
            debug_assert!(to < b, "entries only move down");
            self.buckets[to].push(e);
            if to > 0 {
                self.occupied |= 1 << (to - 1);
            }
        }
        moving.clear();
        // Keep the emptied buffer for the entries that will land there again, unless it is
        // larger than anything pending could fill (twice, for doubling): after a crowd has
        // passed, its buffers go back to the allocator.
        if moving.capacity() <= 2 * self.len + 1024 {
            self.buckets[b] = moving;
        }
    }

    /// Takes the entry with the smallest key out if `keep` says so (nothing changes
    /// otherwise: the base stays the last key taken out).
    #[inline]
    pub fn pop_if(&mut self, keep: impl FnOnce(&Entry<E>) -> bool) -> Option<Entry<E>> {
        if self.buckets[0].is_empty() {
            let (b, i) = self.lowest()?;
            let min = self.buckets[b][i];
            if !keep(&min) {
                return None;
            }
            self.spill(b, min.key);
        } else if !keep(self.buckets[0].last()?) {
            return None;
        }
        self.len -= 1;
        self.buckets[0].pop()
    }

    /// Takes the entry with the smallest key out.
    #[inline]
    pub fn pop(&mut self) -> Option<Entry<E>> {
        self.pop_if(|_| true)
    }

    /// Makes `entry`, below every other key, the base, and buckets everything again.
    #[cold]
    #[inline(never)]
    fn rebase(&mut self, entry: Entry<E>) {
        let all: Vec<Entry<E>> = self.buckets.iter_mut().flat_map(|b| b.drain(..)).collect();
        self.occupied = 0;
        self.len = 0;
        self.last = entry.key;
        self.buckets[0].push(entry);
        self.len = 1;
        for e in all {
            self.push(e);
        }
    }

    /// The smallest key, without taking it out.
    pub fn peek_key(&self) -> Option<u128> {
        if let Some(e) = self.buckets[0].last() {
            return Some(e.key);
        }
        self.lowest().map(|(b, i)| self.buckets[b][i].key)
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry<E>> {
        self.buckets.iter().flatten()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }
}
