//! Typed indices of the model's entities (a client, a service, a replica, an edge, a timer
//! lane, a guard, a fault, a call entry of a service) and vectors indexed only by their own
//! kind of id, so that two ids passed side by side cannot be swapped and no index is cast by
//! hand.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// Defines an id: a `u32` index with its own type.
macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// The id `n` places after this one.
            #[inline(always)]
            pub fn plus(self, n: u32) -> Self {
                $name(self.0 + n)
            }

            /// Its position.
            #[inline(always)]
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The id as a number, for outputs that name entities by number.
            #[inline(always)]
            pub fn number(self) -> u32 {
                self.0
            }
        }

        impl Id for $name {
            #[inline(always)]
            fn from_index(i: usize) -> Self {
                debug_assert!(i <= u32::MAX as usize, "an index fits in 32 bits");
                $name(i as u32)
            }

            #[inline(always)]
            fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

/// A typed index.
pub trait Id: Copy {
    /// The id of position `i`.
    fn from_index(i: usize) -> Self;
    /// Its position.
    fn index(self) -> usize;
}

id!(
    /// A client, by its position among the scenario's clients.
    ClientId
);
id!(
    /// A service, by its position among the scenario's services.
    ServiceId
);
id!(
    /// A replica, by its position among every service's replicas (a service's replicas
    /// are contiguous).
    ReplicaId
);
id!(
    /// A hop from one caller to one service.
    EdgeId
);
id!(
    /// A timer lane (one per distinct timeout length).
    LaneId
);
id!(
    /// The policy state (breaker, budget, hedge estimate) of one caller and target.
    GuardId
);
id!(
    /// A fault, by its position among the scenario's faults.
    FaultId
);
id!(
    /// A load balancer: a caller's (or a shared) view of one callee's replicas.
    BalancerId
);
id!(
    /// A message queue, by its position among the scenario's queues.
    QueueId
);
id!(
    /// A call entry of a service, by its position in the service's `calls`.
    EntryId
);

impl ReplicaId {
    /// This replica's position among its service's replicas, the first being `first`.
    #[inline(always)]
    pub fn offset_from(self, first: ReplicaId) -> u32 {
        self.0 - first.0
    }
}

/// A vector indexed by one kind of id.
pub struct IdVec<I, T> {
    items: Vec<T>,
    id: PhantomData<fn(I) -> I>,
}

impl<I: Id, T> IdVec<I, T> {
    /// An empty vector.
    pub fn new() -> Self {
        IdVec {
            items: Vec::new(),
            id: PhantomData,
        }
    }

    /// Adds `item`; returns its id.
    pub fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::from_index(self.items.len() - 1)
    }

    /// The item of `id`, if there is one.
    #[inline(always)]
    pub fn get(&self, id: I) -> Option<&T> {
        self.items.get(id.index())
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items in id order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// The items in id order, mutably.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// The ids with their items, in order.
    pub fn enumerate(&self) -> impl Iterator<Item = (I, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, t)| (I::from_index(i), t))
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl Iterator<Item = I> + use<I, T> {
        (0..self.items.len()).map(I::from_index)
    }

    /// The items, as a plain vector.
    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
}

impl<I: Id, T> Default for IdVec<I, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: Id, T> From<Vec<T>> for IdVec<I, T> {
    fn from(items: Vec<T>) -> Self {
        IdVec {
            items,
            id: PhantomData,
        }
    }
}

impl<I: Id, T> FromIterator<T> for IdVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        Vec::from_iter(iter).into()
    }
}

impl<I: Id, T> Index<I> for IdVec<I, T> {
    type Output = T;

    #[inline(always)]
    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for IdVec<I, T> {
    #[inline(always)]
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

impl<'a, I: Id, T> IntoIterator for &'a IdVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<I: Id, T> IntoIterator for IdVec<I, T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_index_their_own_vectors_in_push_order() {
        let mut v: IdVec<ReplicaId, &str> = IdVec::new();
        let a = v.push("a");
        let b = v.push("b");
        assert_eq!((a.index(), b.index()), (0, 1));
        assert_eq!(v[b], "b");
        v[a] = "z";
        let all: Vec<(usize, &&str)> = v.enumerate().map(|(i, t)| (i.index(), t)).collect();
        assert_eq!(all, [(0, &"z"), (1, &"b")]);
        assert_eq!(a.plus(1), b);
        assert_eq!(b.offset_from(a), 1);
    }
}
