//! Idempotency keys: which requests a service has already executed, for duplicate counting
//! and for idempotency stores (Stripe's semantics).
//!
//! A client request's key is its root; a call made while serving a request carries a key
//! derived from its caller's key and the call's position, so every attempt (retry or hedge)
//! of one logical call, at any depth, carries the same key to the same service. A root is
//! remembered while its client request is open or any job it caused still lives; then its
//! entries are forgotten, so memory follows the requests in flight, not the run's length.
//! Keys are tracked only when some call site can send a request twice (retries or hedges).

use super::ids::ServiceId;
use super::slab::{Key, Slab};
use crate::engine::{SimDuration, SimTime};
use crate::outcome::Outcome;

/// A request's idempotency key: its root and its path in the call tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdemKey {
    root: Key,
    path: u64,
}

impl IdemKey {
    /// The key of call number `call` made while serving a request with this key.
    pub fn child(self, call: u32) -> IdemKey {
        // FNV-style mixing: distinct positions give distinct paths with overwhelming odds.
        let mixed = (self.path ^ u64::from(call + 1)).wrapping_mul(0x0000_0100_0000_01b3);
        IdemKey {
            root: self.root,
            path: mixed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The root of the key (the client request).
    pub fn root(self) -> Key {
        self.root
    }
}

/// A client request's key while it, or any job or queued message it caused, lives, and what
/// services know of its keys: the first entry inline (a request whose tree makes one call
/// needs no more), the others in the table's list for the root's slot.
#[derive(Clone, Copy)]
struct Root {
    open: bool,
    live_jobs: u32,
    first: Option<EntryAt>,
    /// Entries beyond the first sit in `KeyTable::more`.
    spilled: bool,
}

/// What a service knows of one key.
#[derive(Clone, Copy, Default)]
struct Entry {
    started: u32,
    executing: u32,
    answer: Option<(Outcome, SimTime)>,
}

/// What to do with a request a worker takes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Execute it; `duplicate` when the service has started this key before.
    Execute {
        /// The service has started this key before.
        duplicate: bool,
    },
    /// Answer at once with this stored outcome, without executing.
    Replay(Outcome),
    /// The first execution is still running: answer with an error (409 Conflict).
    Conflict,
}

/// One service's record of one key of a root: the key's path and the service.
type EntryAt = (u64, ServiceId, Entry);

/// Every key in flight.
///
/// A root's entries sit beside it (one per call position and service its request tree
/// reached, usually one to a few): the first in the root's own record, the others in a short
/// list by the root's slot, found by a scan. That is cheaper than one map for every root,
/// which costs a tree walk per lookup and a rebalance per removal. A list is cleared, not
/// freed, when its root is forgotten, so a slot reused by a later root reuses its memory.
#[derive(Default)]
pub struct KeyTable {
    roots: Slab<Root>,
    /// Each live root's entries beyond the first, by the root's slot.
    more: Vec<Vec<EntryAt>>,
}

impl KeyTable {
    /// A new client request's key.
    pub fn open_root(&mut self) -> IdemKey {
        let root = self.roots.insert(Root {
            open: true,
            live_jobs: 0,
            first: None,
            spilled: false,
        });
        IdemKey { root, path: 1 }
    }

    /// The client request of `root` has ended.
    pub fn close_root(&mut self, root: Key) {
        if let Some(r) = self.roots.get_mut(root) {
            r.open = false;
        }
        self.collect(root);
    }

    /// A job carrying a key of `root` was created.
    pub fn job_created(&mut self, root: Key) {
        if let Some(r) = self.roots.get_mut(root) {
            r.live_jobs += 1;
        }
    }

    /// A job carrying a key of `root` is gone.
    pub fn job_gone(&mut self, root: Key) {
        if let Some(r) = self.roots.get_mut(root) {
            r.live_jobs -= 1;
        }
        self.collect(root);
    }

    fn collect(&mut self, root: Key) {
        if let Some(r) = self.roots.get(root)
            && !r.open
            && r.live_jobs == 0
        {
            if r.spilled {
                self.more[root.slot()].clear();
            }
            self.roots.remove(root);
        }
    }

    /// Entries held, over every root.
    #[cfg(test)]
    pub fn entry_count(&self) -> usize {
        let first = self
            .roots
            .keys()
            .filter(|&k| self.roots.live(k).first.is_some());
        first.count() + self.more.iter().map(Vec::len).sum::<usize>()
    }

    /// What `service` knows of `key`, if its root is live: created empty on first use.
    fn entry_mut(&mut self, key: IdemKey, service: ServiceId) -> Option<&mut Entry> {
        let r = self.roots.get_mut(key.root)?;
        let fresh = (key.path, service, Entry::default());
        match r.first {
            None => return Some(&mut r.first.insert(fresh).2),
            Some((path, s, _)) if path == key.path && s == service => {
                return r.first.as_mut().map(|(_, _, e)| e);
            }
            Some(_) => {}
        }
        r.spilled = true;
        let slot = key.root.slot();
        if self.more.len() <= slot {
            self.more.resize_with(slot + 1, Vec::new);
        }
        let list = &mut self.more[slot];
        let at = match list
            .iter()
            .position(|&(path, s, _)| path == key.path && s == service)
        {
            Some(at) => at,
            None => {
                list.push(fresh);
                list.len() - 1
            }
        };
        Some(&mut list[at].2)
    }

    /// What `service` knows of `key`, if it knows it.
    fn entry(&mut self, key: IdemKey, service: ServiceId) -> Option<&mut Entry> {
        let r = self.roots.get_mut(key.root)?;
        let matches = |&(path, s, _): &EntryAt| path == key.path && s == service;
        if r.first.as_ref().is_some_and(matches) {
            return r.first.as_mut().map(|(_, _, e)| e);
        }
        if !r.spilled {
            return None;
        }
        self.more[key.root.slot()]
            .iter_mut()
            .find(|e| matches(e))
            .map(|(_, _, e)| e)
    }

    /// A worker of `service` takes up a request with `key`; `store` is the service's
    /// idempotency store time-to-live, if it has one.
    pub fn admit(
        &mut self,
        key: IdemKey,
        service: ServiceId,
        store: Option<SimDuration>,
        now: SimTime,
    ) -> Admission {
        let Some(e) = self.entry_mut(key, service) else {
            // Not reached from the model (a job or message keeps its root alive): a key
            // whose root is gone is neither found nor stored.
            return Admission::Execute { duplicate: false };
        };
        if let Some(ttl) = store {
            match e.answer {
                Some((outcome, at)) if now < at + ttl => return Admission::Replay(outcome),
                // Expired: the store has forgotten the key (Stripe prunes keys after 24 h),
                // so this execution's answer is the one kept next.
                Some(_) => e.answer = None,
                None => {}
            }
            if e.executing > 0 {
                return Admission::Conflict;
            }
        }
        e.started += 1;
        e.executing += 1;
        Admission::Execute {
            duplicate: e.started > 1,
        }
    }

    /// An execution of `key` at `service` stopped without an answer (a crash killed it).
    pub fn abandoned(&mut self, key: IdemKey, service: ServiceId) {
        if let Some(e) = self.entry(key, service) {
            e.executing = e.executing.saturating_sub(1);
        }
    }

    /// An execution of `key` at `service` answered `outcome`.
    pub fn answered(&mut self, key: IdemKey, service: ServiceId, outcome: Outcome, now: SimTime) {
        if let Some(e) = self.entry(key, service) {
            e.executing = e.executing.saturating_sub(1);
            if e.answer.is_none() {
                e.answer = Some((outcome, now));
            }
        }
    }
}

/// The keys of the requests and jobs in flight, beside their slabs (indexed by slot), so
/// that runs without retries pay nothing for them.
#[derive(Default)]
pub struct Tracker {
    table: KeyTable,
    requests: Vec<Option<IdemKey>>,
    /// Each job's key, and whether it is executing (admitted and not yet answered).
    jobs: Vec<Option<(IdemKey, bool)>>,
    /// Each queued message's key (the producer's call's): its deliveries carry it.
    messages: Vec<Option<IdemKey>>,
}

fn put<T>(v: &mut Vec<Option<T>>, slot: usize, value: T) {
    if v.len() <= slot {
        v.resize_with(slot + 1, || None);
    }
    v[slot] = Some(value);
}

impl Tracker {
    /// A client request (in slab slot `slot`) was sent: it opens a root key.
    pub fn request_sent(&mut self, slot: usize) {
        let key = self.table.open_root();
        put(&mut self.requests, slot, key);
    }

    /// The client request in `slot` ended.
    pub fn request_ended(&mut self, slot: usize) {
        if let Some(key) = self.requests.get_mut(slot).and_then(Option::take) {
            self.table.close_root(key.root());
        }
    }

    /// The key of a request's call (the request's own key).
    pub fn request_key(&self, slot: usize) -> Option<IdemKey> {
        self.requests.get(slot).copied().flatten()
    }

    /// The key of call number `call` of the job in `slot`.
    pub fn call_key(&self, slot: usize, call: u32) -> Option<IdemKey> {
        self.jobs
            .get(slot)
            .copied()
            .flatten()
            .map(|(k, _)| k.child(call))
    }

    /// A message (in slot `slot` of the message slab) carrying `key` was sent: its root
    /// is remembered while the message lives.
    pub fn message_created(&mut self, slot: usize, key: IdemKey) {
        self.table.job_created(key.root());
        put(&mut self.messages, slot, key);
    }

    /// The key of the message in `slot`.
    pub fn message_key(&self, slot: usize) -> Option<IdemKey> {
        self.messages.get(slot).copied().flatten()
    }

    /// The message in `slot` is gone (deleted, dropped, or refused).
    pub fn message_gone(&mut self, slot: usize) {
        if let Some(key) = self.messages.get_mut(slot).and_then(Option::take) {
            self.table.job_gone(key.root());
        }
    }

    /// A job (in `slot`) carrying `key` was created.
    pub fn job_created(&mut self, slot: usize, key: IdemKey) {
        self.table.job_created(key.root());
        put(&mut self.jobs, slot, (key, false));
    }

    /// A worker of `service` takes up the job in `slot`.
    pub fn admit(
        &mut self,
        slot: usize,
        service: ServiceId,
        store: Option<SimDuration>,
        now: SimTime,
    ) -> Admission {
        let Some(Some((key, executing))) = self.jobs.get_mut(slot) else {
            return Admission::Execute { duplicate: false };
        };
        let admission = self.table.admit(*key, service, store, now);
        *executing = matches!(admission, Admission::Execute { .. });
        admission
    }

    /// The job in `slot` is gone: answered with `outcome`, or without an answer (`None`).
    pub fn job_gone(
        &mut self,
        slot: usize,
        service: ServiceId,
        outcome: Option<Outcome>,
        now: SimTime,
    ) {
        let Some((key, executing)) = self.jobs.get_mut(slot).and_then(Option::take) else {
            return;
        };
        if executing {
            match outcome {
                Some(o) => self.table.answered(key, service, o, now),
                None => self.table.abandoned(key, service),
            }
        }
        self.table.job_gone(key.root());
    }
}

#[cfg(test)]
#[path = "idempotency_tests.rs"]
mod tests;
