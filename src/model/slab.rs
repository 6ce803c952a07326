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

struct Slot<T> {
    generation: u32,
    live: bool,
    item: T,
}

/// Records addressed by [`Key`]s; freed slots are reused last-freed first.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
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
            free: Vec::with_capacity(256),
        }
    }

    /// Stores `item` and returns its key.
    #[inline]
    pub fn insert(&mut self, item: T) -> Key {
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.generation = slot.generation.wrapping_add(1);
                slot.live = true;
                slot.item = item;
                Key {
                    index,
                    generation: slot.generation,
                }
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 live records");
                self.slots.push(Slot {
                    generation: 0,
                    live: true,
                    item,
                });
                Key {
                    index,
                    generation: 0,
                }
            }
        }
    }

    /// The record of `key`, if it is still live.
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        self.slots
            .get(key.index as usize)
            .filter(|s| s.live && s.generation == key.generation)
            .map(|s| &s.item)
    }

    /// The record of `key`, to change, if it is still live.
    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|s| s.live && s.generation == key.generation)
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
        if !slot.live || slot.generation != key.generation {
            return None;
        }
        slot.live = false;
        self.free.push(key.index);
        Some(slot.item)
    }

    /// Keys of the live records, in slot order.
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live)
            .map(|(i, s)| Key {
                index: i as u32,
                generation: s.generation,
            })
    }

    /// Number of live records.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
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
}
