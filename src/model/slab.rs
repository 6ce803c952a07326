//! A generational slab: records addressed by (index, generation) keys, slots reused through
//! a free list. A key whose record has been removed (or whose slot was reused) no longer
//! resolves, so events that outlive their record (a timeout after the answer, an answer after
//! a crash) are recognised as stale instead of touching the wrong record.

/// Addresses one record of a [`Slab`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    /// A key no slab hands out (its slot would be the 2^32-th), for markers that share a
    /// queue with real keys, such as a health probe in a replica's waiting room.
    pub const MARKER: Key = Key {
        index: u32::MAX,
        generation: u32::MAX,
    };

    /// The slot of the record: distinct among live records, reused after removal.
    #[inline]
    pub fn slot(self) -> usize {
        self.index as usize
    }
}

/// A slot and its generation: odd while it holds a live record, even while it is free.
/// Inserting and removing each add one, so a key (which carries the odd generation of its
/// record) resolves only while that very record is there: one comparison checks both that
/// the slot is live and that it was not reused.
struct Slot<T> {
    generation: u32,
    /// While the slot is free: the next free slot, or [`NONE`].
    next_free: u32,
    item: T,
}

/// No slot.
const NONE: u32 = u32::MAX;

impl<T> Slot<T> {
    #[inline]
    fn is_live(&self) -> bool {
        self.generation & 1 == 1
    }
}

/// Records addressed by [`Key`]s; freed slots are reused last-freed first. The free slots
/// form a stack threaded through the slots themselves, so inserting and removing touch no
/// other memory.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// The last slot freed, or [`NONE`].
    free: u32,
    /// Number of live records.
    live: usize,
}

impl<T: Copy> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> Slab<T> {
    /// An empty slab.
    pub fn new() -> Self {
        Slab {
            slots: Vec::with_capacity(256),
            free: NONE,
            live: 0,
        }
    }

    /// Stores `item` and returns its key.
    #[inline(always)]
    pub fn insert(&mut self, item: T) -> Key {
        self.live += 1;
        if let Some(slot) = self.slots.get_mut(self.free as usize) {
            let index = self.free;
            self.free = slot.next_free;
            slot.generation = slot.generation.wrapping_add(1);
            slot.item = item;
            return Key {
                index,
                generation: slot.generation,
            };
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&i| i != NONE)
            .expect("fewer than 2^32 - 1 live records");
        self.slots.push(Slot {
            generation: 1,
            next_free: NONE,
            item,
        });
        Key {
            index,
            generation: 1,
        }
    }

    /// Stores a record and returns its key: `reset` turns the record a freed slot still
    /// holds into the new one in place, or `fresh` makes it when no slot is free. For large
    /// records, where writing only what changes beats writing all of it.
    #[inline(always)]
    pub fn insert_with(&mut self, fresh: impl FnOnce() -> T, reset: impl FnOnce(&mut T)) -> Key {
        if let Some(slot) = self.slots.get_mut(self.free as usize) {
            self.live += 1;
            let index = self.free;
            self.free = slot.next_free;
            slot.generation = slot.generation.wrapping_add(1);
            reset(&mut slot.item);
            return Key {
                index,
                generation: slot.generation,
            };
        }
        self.insert(fresh())
    }

    /// The record of `key`, if it is still live.
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        self.slots
            .get(key.index as usize)
            .filter(|s| s.generation == key.generation)
            .map(|s| &s.item)
    }

    /// The record of `key`, to change, if it is still live.
    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|s| s.generation == key.generation)
            .map(|s| &mut s.item)
    }

    /// The record of `key`, which the caller knows to be live.
    #[inline]
    pub fn live(&self, key: Key) -> &T {
        self.get(key).expect("the key's record is live")
    }

    /// The record of `key`, to change, which the caller knows to be live.
    #[inline]
    pub fn live_mut(&mut self, key: Key) -> &mut T {
        self.get_mut(key).expect("the key's record is live")
    }

    /// Removes the record of `key` and returns it, if it was live.
    #[inline]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.free;
        self.free = key.index;
        self.live -= 1;
        Some(slot.item)
    }

    /// Keys of the live records, in slot order.
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_live())
            .map(|(i, s)| Key {
                index: i as u32,
                generation: s.generation,
            })
    }

    /// Number of live records.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no record is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused_and_old_keys_go_stale() {
        let mut s = Slab::new();
        let a = s.insert(1u8);
        let b = s.insert(2u8);
        assert_eq!(s.remove(a), Some(1));
        assert_eq!(s.remove(a), None, "removing twice");
        let c = s.insert(3u8);
        assert_ne!(c, a, "same slot, new generation");
        assert_eq!(s.get(a), None, "the old key no longer resolves");
        assert_eq!((s.get(b), s.get(c), s.len()), (Some(&2), Some(&3), 2));
    }

    #[test]
    fn the_last_slot_freed_is_reused_first() {
        let mut s = Slab::new();
        let keys: Vec<Key> = (0..4u8).map(|i| s.insert(i)).collect();
        s.remove(keys[0]);
        s.remove(keys[2]);
        assert_eq!(s.insert(9).index, keys[2].index);
        assert_eq!(s.insert(8).index, keys[0].index);
        assert_eq!(s.insert(7).index, 4, "then a new slot");
        assert_eq!(s.len(), 5);
        let live: Vec<u32> = s.keys().map(|k| k.index).collect();
        assert_eq!(live, vec![0, 1, 2, 3, 4]);
    }

    /// `insert_with` resets the record a freed slot holds, in place, and makes a fresh one
    /// only when no slot is free; keys and counts behave as with `insert`.
    #[test]
    fn insert_with_resets_a_freed_record_in_place() {
        let mut s = Slab::new();
        let a = s.insert_with(|| (1u8, 10u8), |_| unreachable!("no slot is free"));
        assert_eq!(s.get(a), Some(&(1, 10)));
        s.remove(a);
        let b = s.insert_with(
            || unreachable!("a slot is free"),
            |r| {
                assert_eq!(*r, (1, 10), "the old record, to reset");
                r.0 = 2;
            },
        );
        assert_eq!(
            (b.index, s.get(a), s.get(b)),
            (a.index, None, Some(&(2, 10)))
        );
        assert_eq!(s.len(), 1);
    }
}
