//! A replica's waiting room: the requests (and health-probe markers) waiting for a worker,
//! one FIFO per priority class. Workers serve the highest class first; within a class the
//! queue discipline chooses the oldest or the newest; a full room may evict the newest
//! request of a lower class for a higher one.

use super::slab::Key;
use crate::engine::SimTime;
use crate::scenario::Priority;
use std::collections::VecDeque;

/// The requests waiting on one replica, by class.
pub struct WaitingRoom {
    /// Per class, highest first (critical, default, sheddable), oldest first.
    classes: [VecDeque<Key>; Priority::COUNT],
    len: usize,
    /// Since when the room has held something (meaningful while it is not empty), for
    /// CoDel and adaptive LIFO.
    nonempty_since: SimTime,
}

impl WaitingRoom {
    /// An empty room, with room for `hint` default-class requests before it grows.
    pub fn new(hint: usize) -> Self {
        WaitingRoom {
            classes: [
                VecDeque::new(),
                VecDeque::with_capacity(hint),
                VecDeque::new(),
            ],
            len: 0,
            nonempty_since: SimTime::ZERO,
        }
    }

    /// Requests (and markers) waiting.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing waits.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Since when it has held something (while it is not empty).
    pub fn nonempty_since(&self) -> SimTime {
        self.nonempty_since
    }

    /// Puts `key` of class `priority` at the back of its class, at `now`.
    #[inline(always)]
    pub fn push(&mut self, key: Key, priority: Priority, now: SimTime) {
        if self.len == 0 {
            self.nonempty_since = now;
        }
        self.len += 1;
        self.classes[priority.index()].push_back(key);
    }

    /// The highest non-empty class.
    #[inline(always)]
    fn top(&self) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        self.classes.iter().position(|c| !c.is_empty())
    }

    /// The oldest request of the highest class.
    #[inline(always)]
    pub fn front(&self) -> Option<Key> {
        self.top().and_then(|c| self.classes[c].front().copied())
    }

    /// Takes the oldest (or, `newest`, the newest) request of the highest class.
    #[inline(always)]
    pub fn take(&mut self, newest: bool) -> Option<Key> {
        let c = self.top()?;
        let q = &mut self.classes[c];
        let key = if newest { q.pop_back() } else { q.pop_front() };
        self.len -= 1;
        key
    }

    /// Evicts the newest request of the lowest class below `priority`, if any (never a
    /// probe marker).
    pub fn evict_below(&mut self, priority: Priority) -> Option<Key> {
        for c in (priority.index() + 1..Priority::COUNT).rev() {
            let q = &mut self.classes[c];
            if let Some(i) = q.iter().rposition(|&k| k != Key::MARKER) {
                self.len -= 1;
                return q.remove(i);
            }
        }
        None
    }

    /// Puts back at the back of its class a request [`WaitingRoom::evict_below`] took out
    /// (it was the newest of its class), leaving the room's age alone.
    pub fn restore(&mut self, key: Key, priority: Priority) {
        self.len += 1;
        self.classes[priority.index()].push_back(key);
    }

    /// Empties the room.
    pub fn clear(&mut self) {
        for q in &mut self.classes {
            q.clear();
        }
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::slab::Slab;

    #[test]
    fn higher_classes_go_first_and_lower_ones_are_evicted_first() {
        let mut slab: Slab<u32> = Slab::default();
        let k: Vec<Key> = (0..5).map(|i| slab.insert(i)).collect();
        let mut w = WaitingRoom::new(4);
        let t = SimTime::ZERO;
        w.push(k[0], Priority::Sheddable, t);
        w.push(k[1], Priority::Default, t);
        w.push(k[2], Priority::Sheddable, t);
        w.push(k[3], Priority::Critical, t);
        w.push(k[4], Priority::Default, t);
        assert_eq!(w.len(), 5);
        assert_eq!(w.front(), Some(k[3]));
        // A default request evicts the newest sheddable one; a sheddable one evicts none.
        assert_eq!(w.evict_below(Priority::Default), Some(k[2]));
        assert_eq!(w.evict_below(Priority::Sheddable), None);
        assert_eq!(w.take(false), Some(k[3]), "critical first");
        assert_eq!(w.take(true), Some(k[4]), "the newest default (LIFO)");
        assert_eq!(w.take(false), Some(k[1]));
        assert_eq!(w.take(false), Some(k[0]));
        assert_eq!(w.take(false), None);
        assert!(w.is_empty());
    }
}
