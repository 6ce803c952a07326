//! Unit tests of the idempotency tracker: keys per request and per call position,
//! admission with and without an idempotency store, and forgetting keys once a request's
//! work is over.

use super::*;
use crate::model::ids::Id;

const S: u64 = 1_000_000_000;

fn at(secs: u64) -> SimTime {
    SimTime(secs * S)
}

fn svc(i: usize) -> ServiceId {
    ServiceId::from_index(i)
}

const EXECUTE: Admission = Admission::Execute { duplicate: false };
const DUPLICATE: Admission = Admission::Execute { duplicate: true };

/// A tracker with client request `request` sent; returns the request's key.
fn sent(t: &mut Tracker, request: usize) -> IdemKey {
    t.request_sent(request);
    t.request_key(request).expect("a sent request has a key")
}

/// A request's key is its own root; a job's call keys derive from the job's key and the
/// call's position, so two jobs carrying one key (a retry, a hedge) derive the same call
/// keys, and different positions or requests give different keys.
#[test]
fn keys_follow_the_call_tree() {
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    let other = sent(&mut t, 1);
    assert_ne!(k, other);
    assert_ne!(k.root(), other.root());
    assert_eq!(t.request_key(2), None, "no request in slot 2");

    // Two attempts of one call: jobs 4 and 7 carry the request's key.
    t.job_created(4, k);
    t.job_created(7, k);
    assert_eq!(t.call_key(4, 0), Some(k.child(0)));
    assert_eq!(t.call_key(4, 0), t.call_key(7, 0));
    assert_eq!(t.call_key(4, 1), Some(k.child(1)));
    assert_ne!(t.call_key(4, 0), t.call_key(4, 1));
    assert_ne!(k.child(0), k, "a child is not its parent");
    assert_ne!(k.child(0), other.child(0), "other request, other key");
    assert_eq!(k.child(0).root(), k.root());
    assert_eq!(
        k.child(0).child(2).root(),
        k.root(),
        "the root carries down"
    );
    assert_ne!(k.child(0).child(0), k.child(0));
    assert_eq!(t.call_key(5, 0), None, "no job in slot 5");
}

/// Without a store every take-up executes: the first time a service takes up a key it is
/// not a duplicate, later ones are (even while the first still runs: no conflict), and
/// keys count per service and per call position.
#[test]
fn without_a_store_repeats_execute_as_duplicates_per_service() {
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    for job in 1..=5 {
        t.job_created(job, k);
    }
    t.job_created(6, k.child(0));
    assert_eq!(t.admit(1, svc(0), None, at(0)), EXECUTE);
    assert_eq!(t.admit(2, svc(0), None, at(1)), DUPLICATE);
    t.job_gone(1, svc(0), Some(Outcome::Ok), at(2));
    assert_eq!(
        t.admit(3, svc(0), None, at(3)),
        DUPLICATE,
        "answered keys too"
    );
    assert_eq!(t.admit(4, svc(1), None, at(3)), EXECUTE, "another service");
    assert_eq!(t.admit(6, svc(0), None, at(3)), EXECUTE, "another key");
    assert_eq!(
        t.admit(9, svc(0), None, at(3)),
        EXECUTE,
        "a job without a key is never a duplicate"
    );
}

/// With a store, the first answer (an error too) is replayed to a repeat that arrives
/// within `ttl` after it, without executing; at `ttl` exactly the store has expired and
/// the repeat executes, as a duplicate.
#[test]
fn a_store_replays_the_first_answer_within_its_ttl() {
    let ttl = Some(SimDuration::from_secs(10));
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    for job in 1..=4 {
        t.job_created(job, k);
    }
    assert_eq!(t.admit(1, svc(0), ttl, at(0)), EXECUTE);
    t.job_gone(1, svc(0), Some(Outcome::Error), at(1));
    assert_eq!(
        t.admit(2, svc(0), ttl, at(5)),
        Admission::Replay(Outcome::Error)
    );
    t.job_gone(2, svc(0), None, at(5));
    assert_eq!(
        t.admit(3, svc(0), ttl, SimTime(11 * S - 1)),
        Admission::Replay(Outcome::Error),
        "just inside the ttl"
    );
    t.job_gone(3, svc(0), None, SimTime(11 * S - 1));
    assert_eq!(
        t.admit(4, svc(0), ttl, at(11)),
        DUPLICATE,
        "the ttl has passed"
    );
}

/// Once a stored answer has expired, the store has forgotten the key (Stripe prunes keys
/// after their 24 hours): a repeat executes again, and its own answer is the one replayed
/// to the repeats within the next ttl.
#[test]
fn an_expired_answer_is_replaced_by_the_next_one() {
    let ttl = Some(SimDuration::from_secs(10));
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    for job in 1..=3 {
        t.job_created(job, k);
    }
    assert_eq!(t.admit(1, svc(0), ttl, at(0)), EXECUTE);
    t.job_gone(1, svc(0), Some(Outcome::Error), at(1));
    assert_eq!(
        t.admit(2, svc(0), ttl, at(20)),
        DUPLICATE,
        "expired: executes again"
    );
    t.job_gone(2, svc(0), Some(Outcome::Ok), at(21));
    assert_eq!(
        t.admit(3, svc(0), ttl, at(22)),
        Admission::Replay(Outcome::Ok),
        "the new answer is kept"
    );
}

/// With a store, a repeat that arrives while the first execution runs gets a conflict, and
/// a conflicted repeat leaving does not end that execution: the next repeat conflicts too.
/// Once the first answers, repeats get its answer.
#[test]
fn a_store_answers_conflict_while_the_first_execution_runs() {
    let ttl = Some(SimDuration::from_secs(60));
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    for job in 1..=4 {
        t.job_created(job, k);
    }
    assert_eq!(t.admit(1, svc(0), ttl, at(0)), EXECUTE);
    assert_eq!(t.admit(2, svc(0), ttl, at(1)), Admission::Conflict);
    t.job_gone(2, svc(0), Some(Outcome::Error), at(1));
    assert_eq!(t.admit(3, svc(0), ttl, at(2)), Admission::Conflict);
    t.job_gone(3, svc(0), None, at(2));
    assert_eq!(
        t.admit(9, svc(0), ttl, at(2)),
        EXECUTE,
        "a job without a key is not tracked"
    );
    t.job_gone(1, svc(0), Some(Outcome::Ok), at(3));
    assert_eq!(
        t.admit(4, svc(0), ttl, at(4)),
        Admission::Replay(Outcome::Ok)
    );
}

/// An execution that stops without an answer (a crash) leaves nothing to replay and
/// nothing running: the next repeat executes (a duplicate), and its answer is the one
/// stored. A job that was never admitted (turned away, or at a service without keys)
/// stores nothing even if it leaves with an outcome.
#[test]
fn only_admitted_executions_that_answer_store_an_answer() {
    let ttl = Some(SimDuration::from_secs(60));
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    for job in 1..=4 {
        t.job_created(job, k);
    }
    // Job 1 leaves answered but was never admitted at service 0.
    t.job_gone(1, svc(0), Some(Outcome::Ok), at(0));
    assert_eq!(t.admit(2, svc(0), ttl, at(1)), EXECUTE);
    t.job_gone(2, svc(0), None, at(2)); // killed by a crash
    assert_eq!(t.admit(3, svc(0), ttl, at(3)), DUPLICATE);
    t.job_gone(3, svc(0), Some(Outcome::Degraded), at(4));
    assert_eq!(
        t.admit(4, svc(0), ttl, at(5)),
        Admission::Replay(Outcome::Degraded)
    );
}

/// A request's keys are kept while the request is open or any job carrying them lives
/// (whichever ends last), then forgotten; other requests' keys stay.
#[test]
fn keys_are_forgotten_once_the_request_ended_and_no_job_is_left() {
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    let other = sent(&mut t, 1);
    t.job_created(0, k);
    t.job_created(1, k);
    t.job_created(2, other);
    assert_eq!(t.admit(0, svc(0), None, at(0)), EXECUTE);
    assert_eq!(t.admit(1, svc(0), None, at(0)), DUPLICATE);
    assert_eq!(t.admit(2, svc(0), None, at(0)), EXECUTE);
    t.request_ended(0);
    assert_eq!(t.request_key(0), None);
    t.job_gone(0, svc(0), Some(Outcome::Ok), at(1));
    // Job 1 still works for the ended request: its calls' keys are still tracked.
    t.job_created(3, k.child(0));
    t.job_created(4, k.child(0));
    assert_eq!(t.admit(3, svc(1), None, at(2)), EXECUTE);
    assert_eq!(t.admit(4, svc(1), None, at(2)), DUPLICATE);
    assert_eq!(t.table.roots.len(), 2);
    assert_eq!(
        t.table.entry_count(),
        3,
        "(k, api), (k.0, db), (other, api)"
    );
    t.job_gone(3, svc(1), Some(Outcome::Ok), at(3));
    t.job_gone(4, svc(1), Some(Outcome::Ok), at(3));
    assert_eq!(t.table.entry_count(), 3, "job 1 lives");
    t.job_gone(1, svc(0), Some(Outcome::Ok), at(4));
    assert_eq!(t.table.roots.len(), 1, "k forgotten");
    assert_eq!(t.table.entry_count(), 1, "only (other, api) left");
    assert_eq!(t.call_key(1, 0), None);

    // The other order: its job ends first, then the request.
    t.job_gone(2, svc(0), Some(Outcome::Ok), at(5));
    assert_eq!(t.table.entry_count(), 1, "the request is still open");
    t.request_ended(1);
    assert_eq!((t.table.roots.len(), t.table.entry_count()), (0, 0));
}

/// A job leaving twice, or a slot that never held a keyed job, changes nothing: the root's
/// count of live jobs is not taken down twice, so the keys stay while a job still lives.
#[test]
fn job_gone_twice_or_without_a_key_is_ignored() {
    let mut t = Tracker::default();
    let k = sent(&mut t, 0);
    t.job_created(0, k);
    t.job_created(1, k);
    assert_eq!(t.admit(0, svc(0), None, at(0)), EXECUTE);
    t.job_gone(0, svc(0), Some(Outcome::Ok), at(1));
    t.job_gone(0, svc(0), Some(Outcome::Ok), at(1));
    t.job_gone(8, svc(0), None, at(1));
    t.request_ended(0);
    t.request_ended(0);
    assert_eq!(t.table.roots.len(), 1, "job 1 still lives");
    assert_eq!(
        t.admit(1, svc(0), None, at(2)),
        DUPLICATE,
        "still remembered"
    );
    t.job_gone(1, svc(0), Some(Outcome::Ok), at(3));
    assert_eq!((t.table.roots.len(), t.table.entry_count()), (0, 0));
}

/// A forgotten root's slot, taken by the next request, starts with nothing known: its
/// first take-up at the same service is no duplicate, and a stale key of the old root
/// (whose generation is gone) is neither found nor stored.
#[test]
fn a_reused_root_slot_knows_nothing_of_its_former_root() {
    let mut t = Tracker::default();
    let old = sent(&mut t, 0);
    // Two services know the old root's key: one entry inline, one in the root's list.
    for (job, service) in [(1, 0), (3, 1)] {
        t.job_created(job, old);
        assert_eq!(t.admit(job, svc(service), None, at(0)), EXECUTE);
        t.job_gone(job, svc(service), Some(Outcome::Ok), at(1));
    }
    assert_eq!(t.table.entry_count(), 2);
    t.request_ended(0);
    assert_eq!(t.table.entry_count(), 0);
    let new = sent(&mut t, 0);
    assert_eq!(new.root().slot(), old.root().slot(), "the slot is reused");
    assert_ne!(new, old);
    t.job_created(4, new);
    assert_eq!(t.admit(4, svc(1), None, at(2)), EXECUTE, "not a duplicate");
    t.job_created(2, new);
    assert_eq!(t.admit(2, svc(0), None, at(2)), EXECUTE, "not a duplicate");
    assert_eq!(
        t.table.admit(old, svc(0), None, at(2)),
        EXECUTE,
        "a stale key is not found"
    );
    assert_eq!(t.table.entry_count(), 2, "and not stored");
}
