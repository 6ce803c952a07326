//! A slab: slots reused through a free list, so live records cost no allocation once the
//! slab has grown to the run's peak.

/// Records addressed by `u32` ids; freed ids are reused last-freed first.
pub struct Slab<T> {
    items: Vec<T>,
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
            items: Vec::with_capacity(256),
            free: Vec::with_capacity(256),
        }
    }

    /// Stores `item` and returns its id.
    #[inline]
    pub fn insert(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.items[id as usize] = item;
                id
            }
            None => {
                let id = u32::try_from(self.items.len()).expect("fewer than 2^32 live records");
                self.items.push(item);
                id
            }
        }
    }

    /// The record `id`.
    #[inline]
    pub fn get(&self, id: u32) -> &T {
        &self.items[id as usize]
    }

    /// The record `id`, to change.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> &mut T {
        &mut self.items[id as usize]
    }

    /// Frees `id` and returns its record.
    #[inline]
    pub fn remove(&mut self, id: u32) -> T {
        self.free.push(id);
        self.items[id as usize]
    }

    /// Records currently stored.
    pub fn live(&self) -> usize {
        self.items.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused() {
        let mut s = Slab::new();
        let a = s.insert(1u8);
        let b = s.insert(2u8);
        assert_eq!(s.remove(a), 1);
        let c = s.insert(3u8);
        assert_eq!(c, a);
        assert_eq!((*s.get(b), *s.get(c), s.live()), (2, 3, 2));
    }
}
