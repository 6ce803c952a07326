//! A semaphore bulkhead, as Resilience4j's `SemaphoreBulkhead` with its default fair
//! semaphore: at most `max` holders; a caller that finds it full either fails at once or
//! waits, and a freed slot goes to the oldest waiter still waiting, never to a newcomer.
//!
//! The waiters' identity (`W`) and whether one still waits are the caller's business: the
//! bulkhead only keeps them in order.

use crate::scenario::policy::BulkheadSpec;
use std::collections::VecDeque;

/// One bulkhead's slots and waiters.
#[derive(Clone, Debug)]
pub struct Bulkhead<W> {
    max: u32,
    in_use: u32,
    waiters: VecDeque<W>,
}

impl<W> Bulkhead<W> {
    /// An empty bulkhead of `spec`'s size.
    pub fn new(spec: BulkheadSpec) -> Self {
        Bulkhead {
            max: spec.max_concurrent,
            in_use: 0,
            waiters: VecDeque::new(),
        }
    }

    /// Takes a slot if one is free and nobody waits for it.
    pub fn try_acquire(&mut self) -> bool {
        if self.in_use < self.max && self.waiters.is_empty() {
            self.in_use += 1;
            true
        } else {
            false
        }
    }

    /// `w` waits for a slot, behind the waiters already there.
    pub fn enqueue(&mut self, w: W) {
        self.waiters.push_back(w);
    }

    /// Removes the first waiter `is` recognises (one that gave up); true if there was one.
    pub fn remove(&mut self, is: impl Fn(&W) -> bool) -> bool {
        match self.waiters.iter().position(is) {
            Some(i) => {
                self.waiters.remove(i);
                true
            }
            None => false,
        }
    }

    /// A holder gives its slot back: it goes to the oldest waiter that `still_waits`
    /// (returned, now holding the slot), or becomes free. Waiters that no longer wait are
    /// dropped on the way.
    pub fn release(&mut self, still_waits: impl Fn(&W) -> bool) -> Option<W> {
        while let Some(w) = self.waiters.pop_front() {
            if still_waits(&w) {
                return Some(w);
            }
        }
        self.in_use -= 1;
        None
    }

    /// Slots held now.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    fn bulkhead(max: u32) -> Bulkhead<u32> {
        Bulkhead::new(BulkheadSpec {
            max_concurrent: max,
            max_wait: SimDuration::ZERO,
        })
    }

    #[test]
    fn it_admits_up_to_its_size_and_frees_slots_on_release() {
        let mut b = bulkhead(2);
        assert!(b.try_acquire());
        assert!(b.try_acquire());
        assert!(!b.try_acquire());
        assert_eq!(b.release(|_| true), None);
        assert_eq!(b.in_use(), 1);
        assert!(b.try_acquire());
    }

    #[test]
    fn a_freed_slot_goes_to_the_oldest_waiter_still_waiting_not_to_a_newcomer() {
        let mut b = bulkhead(1);
        assert!(b.try_acquire());
        b.enqueue(1);
        b.enqueue(2);
        b.enqueue(3);
        // Waiter 1 gave up (its wait timed out): it is removed; 2 is next.
        assert!(b.remove(|&w| w == 1));
        assert_eq!(b.release(|_| true), Some(2), "handed over: still in use");
        assert_eq!(b.in_use(), 1);
        assert!(!b.try_acquire(), "3 still waits: a newcomer cannot jump it");
        // 3 stopped waiting without being removed (its call ended): the slot is freed.
        assert_eq!(b.release(|&w| w != 3), None);
        assert_eq!(b.in_use(), 0);
        assert!(b.try_acquire());
    }
}
