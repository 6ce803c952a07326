//! Serving on a replica: arrival, waiting room, workers, service time, errors, completion,
//! and what crashes and hangs do to the work in progress (health probes that share the
//! waiting room are in `probes.rs`).

use super::event::{Caller, Event};
use super::idempotency::Admission;
use super::ids::{EntryId, Id, ReplicaId};
use super::replica::Replica;
use super::service::{Call, Service};
use super::slab::Key;
use super::{Job, JobState, Model};
use crate::engine::{Scheduler, SimDuration};
use crate::outcome::Outcome;
use crate::scenario::Idempotency;
use crate::scenario::queueing::Discipline;
use crate::trace::JobEnd;

impl Model<'_> {
    /// A job's request reaches its replica: serve it, queue it, or refuse it.
    #[inline(always)]
    pub(super) fn deliver(&mut self, key: Key, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if let Some(t) = self.trace.as_deref_mut() {
            t.job_arrived(now, key);
        }
        let Some(j) = self.jobs.get_mut(key) else {
            return;
        };
        j.arrived_at = now;
        let r = &mut self.replicas[j.replica];
        let s = &mut self.services[r.service];
        if r.is_down() {
            // Connection refused: the caller hears at once, after the way back.
            s.recorder.refused(now);
            self.turn_away(key, Outcome::Error, sched);
            return;
        }
        if !s.pool_of.is_empty() {
            // Its caller's pool, read from the hop it came over.
            j.pool = s.pool_of[self
                .topology
                .caller_index(j.edge, self.scenario.clients.len())];
        }
        let (limited, adaptive) = (s.rate_limited, s.adaptive);
        if limited && !self.rate_limit_admits(key, sched) {
            return;
        }
        if adaptive {
            match self.concurrency_admits(key, sched) {
                None => return,
                Some(None) => {}
                Some(Some(victim)) => {
                    // Admitted in a lower-class request's place: it is shed once this
                    // one has its place; if this one gets none after all (a full room,
                    // a replayed answer, a deadline passed), the victim keeps its place.
                    if self.place(key, sched) {
                        self.shed(victim, sched);
                    } else {
                        let v = self.jobs.live(victim);
                        let (replica, pool, priority) = (v.replica, v.pool, v.priority);
                        self.replicas[replica]
                            .room_mut(pool)
                            .restore(victim, priority);
                    }
                    return;
                }
            }
        }
        self.place(key, sched);
    }

    /// The job `key`, admitted at its replica, is served, queued, or refused by a full
    /// waiting room; true when it got a worker or a waiting place.
    #[inline(always)]
    fn place(&mut self, key: Key, sched: &mut Scheduler<Event>) -> bool {
        let now = sched.now();
        if self.stores && self.idem.is_some() && !self.admit_at_arrival(key, sched) {
            return false;
        }
        let j = self.jobs.live_mut(key);
        let r = &mut self.replicas[j.replica];
        let s = &mut self.services[r.service];
        let offset = j.replica.offset_from(s.first_replica);
        s.recorder.arrived(now, offset);
        let pool = j.pool;
        if !r.is_hung() && r.busy_in(pool) < s.concurrency_in(pool) {
            if j.give_up_at <= now {
                self.drop_job(key, now);
                return false;
            }
            if self.idem.is_some() {
                self.start(key, sched);
                return true;
            }
            start_job(key, j, r, s, sched);
            if let Some(t) = self.trace.as_deref_mut() {
                t.job_started(now, key);
            }
            true
        } else if s.has_room_in(pool, r.room(pool).len()) {
            if s.sheds {
                j.shed_at = s.shed_at(r, pool, now);
            }
            r.enqueue(key, pool, j.priority, now);
            j.state = JobState::Queued;
            true
        } else {
            self.place_in_full_room(key, offset, sched)
        }
    }

    /// The job `key` finds its replica's waiting room full: it takes the place of a
    /// lower-class request, which is shed, or it is refused.
    #[cold]
    fn place_in_full_room(&mut self, key: Key, offset: u32, sched: &mut Scheduler<Event>) -> bool {
        let now = sched.now();
        let j = self.jobs.live(key);
        let service = self.replicas[j.replica].service;
        let Some(victim) = self.make_room_for(key) else {
            self.services[service].recorder.rejected(now, now, offset);
            self.turn_away(key, Outcome::Rejected, sched);
            return false;
        };
        let j = self.jobs.live_mut(key);
        let r = &mut self.replicas[j.replica];
        j.shed_at = self.services[service].shed_at(r, j.pool, now);
        r.enqueue(key, j.pool, j.priority, now);
        j.state = JobState::Queued;
        self.shed(victim, sched);
        true
    }

    /// A worker would take the job up, but its caller has given up on it (deadline
    /// propagation): it is dropped, unanswered.
    #[cold]
    fn drop_job(&mut self, key: Key, now: crate::engine::SimTime) {
        let j = self.jobs.remove(key).expect("live job");
        if let Some(t) = self.trace.as_deref_mut() {
            t.job_ended(now, key, JobEnd::Dropped);
        }
        self.forget_key(key, j.replica, None, now);
        let s = &mut self.services[self.replicas[j.replica].service];
        let offset = j.replica.offset_from(s.first_replica);
        s.recorder.rejected(now, j.arrived_at, offset);
        if s.adaptive {
            self.limit_sample_leaving(j.replica, j.arrived_at, true, now);
        }
        if self.counted(now) {
            self.policy_counts.dropped += 1;
        }
    }

    /// A request with an idempotency key reaches a service with an idempotency store: a
    /// stored answer is replayed at once, and a repeat of a key still being executed is
    /// answered with an error (409 Conflict); false when the job was answered so.
    #[cold]
    fn admit_at_arrival(&mut self, key: Key, sched: &mut Scheduler<Event>) -> bool {
        let j = self.jobs.live(key);
        let service = self.replicas[j.replica].service;
        let Idempotency::Store { ttl } = self.scenario.services[service.index()].idempotency else {
            return true;
        };
        let t = self.idem.as_mut().expect("tracked");
        match t.admit(key.slot(), service, Some(ttl), sched.now()) {
            Admission::Execute { .. } => true,
            Admission::Replay(outcome) => {
                self.turn_away(key, outcome, sched);
                false
            }
            Admission::Conflict => {
                self.turn_away(key, Outcome::Error, sched);
                false
            }
        }
    }

    /// A worker takes up a job with an idempotency key: a second execution of the key by a
    /// non-idempotent service is a duplicate.
    #[inline(never)]
    fn note_execution(&mut self, key: Key, now: crate::engine::SimTime) {
        let j = self.jobs.live(key);
        let service = self.replicas[j.replica].service;
        if self.scenario.services[service.index()].idempotency != Idempotency::None {
            return;
        }
        let t = self.idem.as_mut().expect("tracked");
        if let Admission::Execute { duplicate: true } = t.admit(key.slot(), service, None, now)
            && self.counted(now)
        {
            self.policy_counts.duplicates += 1;
        }
    }

    /// Forgets the idempotency key of a job of `replica` that is gone, answered with
    /// `outcome` or unanswered.
    #[inline]
    fn forget_key(
        &mut self,
        key: Key,
        replica: ReplicaId,
        outcome: Option<Outcome>,
        now: crate::engine::SimTime,
    ) {
        if let Some(t) = &mut self.idem {
            let service = self.replicas[replica].service;
            t.job_gone(key.slot(), service, outcome, now);
        }
    }

    /// Takes the next waiting job of `replica`'s pool `pool` that its caller still wants,
    /// or the next health probe, if any.
    #[inline(always)]
    pub(super) fn start_next(
        &mut self,
        replica: ReplicaId,
        pool: u8,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        while let Some((next, newest)) = self.take_waiting(replica, pool, now) {
            if next == Key::MARKER {
                self.start_probe(replica, newest, sched);
                return;
            }
            let j = self.jobs.live(next);
            if j.give_up_at <= now {
                self.drop_job(next, now);
                continue;
            }
            if j.shed_at < now {
                self.shed(next, sched);
                continue;
            }
            self.start(next, sched);
            return;
        }
    }

    /// The job `key` needs a place on its full replica: the newest waiting request of the
    /// lowest class below its own, if any, leaves the waiting room to make room for it
    /// (sheddable before default before critical); the caller sheds it once `key` has its
    /// place. `None` without priorities, or when nothing waits below it.
    #[cold]
    pub(super) fn make_room_for(&mut self, key: Key) -> Option<Key> {
        if !self.prioritized {
            return None;
        }
        let j = self.jobs.live(key);
        let (replica, pool, priority) = (j.replica, j.pool, j.priority);
        self.replicas[replica].room_mut(pool).evict_below(priority)
    }

    /// The waiting request (or probe marker) of `replica` a free worker takes now, as the
    /// service's queue discipline says, if any, and whether it is the newest.
    #[inline(always)]
    fn take_waiting(
        &mut self,
        replica: ReplicaId,
        pool: u8,
        now: crate::engine::SimTime,
    ) -> Option<(Key, bool)> {
        let r = &mut self.replicas[replica];
        let q = &self.services[r.service].queueing;
        let newest = match q.discipline {
            Discipline::Fifo => false,
            Discipline::Lifo => true,
            Discipline::AdaptiveLifo => r.has_standing_queue(pool, now, q.standing_after()),
        };
        r.room_mut(pool).take(newest).map(|k| (k, newest))
    }

    /// A worker would take the job up, but it has waited longer than its replica allows
    /// (`max_queue_time`, CoDel): it is shed, answered at once with an error.
    #[cold]
    fn shed(&mut self, key: Key, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let j = self.jobs.live(key);
        let s = &mut self.services[self.replicas[j.replica].service];
        let offset = j.replica.offset_from(s.first_replica);
        s.recorder.shed(now, j.arrived_at, offset);
        let (replica, arrived_at, adaptive) = (j.replica, j.arrived_at, s.adaptive);
        self.turn_away(key, Outcome::Shed, sched);
        if adaptive {
            self.limit_sample_leaving(replica, arrived_at, true, now);
        }
    }

    /// The job's replica refuses it at once with `outcome`.
    #[inline(never)]
    pub(super) fn turn_away(&mut self, key: Key, outcome: Outcome, sched: &mut Scheduler<Event>) {
        let j = self.jobs.remove(key).expect("live job");
        if let Some(t) = self.trace.as_deref_mut() {
            t.job_ended(sched.now(), key, JobEnd::TurnedAway(outcome));
        }
        self.forget_key(key, j.replica, None, sched.now());
        self.reply(&j, outcome, sched);
    }

    /// A worker of the job's replica takes the job up.
    pub(super) fn start(&mut self, key: Key, sched: &mut Scheduler<Event>) {
        if self.idem.is_some() {
            self.note_execution(key, sched.now());
        }
        let j = self.jobs.live_mut(key);
        let r = &mut self.replicas[j.replica];
        let s = &mut self.services[r.service];
        start_job(key, j, r, s, sched);
        if let Some(t) = self.trace.as_deref_mut() {
            t.job_started(sched.now(), key);
        }
    }

    /// The job's own service time is over (unless a hang stopped the clock meanwhile).
    #[inline(always)]
    pub(super) fn service_done(&mut self, key: Key, sched: &mut Scheduler<Event>) {
        // A crash may have killed the job since.
        let Some(j) = self.jobs.get_mut(key) else {
            return;
        };
        let replica = j.replica;
        let r = &mut self.replicas[replica];
        if r.is_hung() || r.paused_total != j.pause_mark {
            self.service_done_after_pause(key, sched);
            return;
        }
        if let Some(t) = self.trace.as_deref_mut() {
            t.job_worked(sched.now(), key);
        }
        let error_rate = self.services[r.service].error_rate;
        let own_error = error_rate > 0.0 && r.rng.chance(error_rate);
        let brownout = !r.brownouts.is_empty() && self.brownout_fails(replica);
        if own_error || brownout {
            self.complete(key, Outcome::Error, sched);
        } else {
            self.next_call(key, sched);
        }
    }

    /// [`Model::service_done`] for a job whose replica is frozen now, or was frozen for a
    /// while since the job's service (re)started: the service time is not over yet.
    #[cold]
    fn service_done_after_pause(&mut self, key: Key, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let j = self.jobs.live_mut(key);
        let r = &mut self.replicas[j.replica];
        let owed = SimDuration(r.paused_total.as_nanos() - j.pause_mark.as_nanos());
        if r.is_hung() {
            let remaining = now.saturating_since(r.hang_started) + owed;
            r.parked.push((remaining, Event::ServiceDone { job: key }));
        } else {
            // A hang froze the process while this job ran: it finishes that much later.
            j.pause_mark = r.paused_total;
            sched.after(owed, Event::ServiceDone { job: key });
        }
    }

    /// Makes the job's next downstream call, or answers ok when no call is left.
    #[inline(always)]
    pub(super) fn next_call(&mut self, key: Key, sched: &mut Scheduler<Event>) {
        let j = self.jobs.live_mut(key);
        let service = self.replicas[j.replica].service;
        let index = EntryId::from_index(j.entries_made as usize);
        match self.services[service].calls.get(index) {
            Some(&Call {
                edge,
                lane,
                has_policy,
                propagate,
            }) => {
                j.entries_made += 1;
                j.waiting.attempt += 1;
                j.state = JobState::Calling;
                let attempt = j.waiting.attempt;
                if has_policy {
                    let inherited = if propagate {
                        j.give_up_at
                    } else {
                        crate::engine::SimTime::MAX
                    };
                    let guard = self.guards.of_call(j.replica, index);
                    self.begin_policy_call(Caller::Job(key), guard, inherited, sched);
                } else {
                    let balancer = self.balancers.of_call(service, j.replica, index);
                    self.dispatch(Caller::Job(key), attempt, edge, lane, balancer, sched);
                }
            }
            None => {
                let outcome = if j.degraded {
                    Outcome::Degraded
                } else {
                    Outcome::Ok
                };
                self.complete(key, outcome, sched);
            }
        }
    }

    /// The job leaves its worker with `outcome`; the next waiting job starts.
    #[inline(always)]
    pub(super) fn complete(&mut self, key: Key, outcome: Outcome, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let j = self.jobs.remove(key).expect("live job");
        let outcome = if outcome.is_success() && self.delivers_poison(j.caller) {
            Outcome::Error
        } else {
            outcome
        };
        if let Some(t) = self.trace.as_deref_mut() {
            t.job_ended(now, key, JobEnd::Answered(outcome));
        }
        if self.idem.is_some() {
            self.forget_key(key, j.replica, Some(outcome), now);
        }
        let r = &mut self.replicas[j.replica];
        let s = &mut self.services[r.service];
        *r.busy_in_mut(j.pool) -= 1;
        let offset = j.replica.offset_from(s.first_replica);
        let adaptive = s.adaptive;
        s.recorder
            .completed(now, j.arrived_at, !outcome.is_success(), offset);
        // The freed worker takes the next request of its own pool.
        if !r.is_hung()
            && let Some(next) = r.room(j.pool).front()
        {
            let plain = (next != Key::MARKER && s.fifo)
                .then(|| self.jobs.live_mut(next))
                .filter(|n| n.give_up_at > now && n.shed_at >= now);
            if let Some(n) = plain {
                r.room_mut(j.pool).take(false);
                start_job(next, n, r, s, sched);
                if self.idem.is_some() {
                    self.note_execution(next, now);
                }
                if let Some(t) = self.trace.as_deref_mut() {
                    t.job_started(now, next);
                }
            } else {
                self.start_next(j.replica, j.pool, sched);
            }
        }
        if adaptive {
            // An answer, an error included, is an ordinary sample: the library's gRPC server
            // interceptor calls `onDropped` only for CANCELLED and DEADLINE_EXCEEDED (here:
            // shed, or dropped at dequeue) and `onSuccess` for every other status.
            self.limit_sample_leaving(j.replica, j.arrived_at, false, now);
        }
        self.reply(&j, outcome, sched);
        if let super::Parent::Delivery(_) = j.caller {
            // The freed worker takes the next message.
            self.pull_to(j.replica, sched);
        }
    }

    /// The process of `replica` dies: every job on it fails at once (connection reset).
    pub(super) fn kill_jobs(&mut self, replica: ReplicaId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let victims: Vec<Key> = self
            .jobs
            .keys()
            .filter(|&k| {
                let j = self.jobs.live(k);
                j.replica == replica && j.state != JobState::InTransit
            })
            .collect();
        let r = &mut self.replicas[replica];
        let service = r.service;
        r.waiting.clear();
        for p in &mut r.pools {
            p.waiting.clear();
        }
        // Breaker timers held back by a hang die with the process: their count goes too.
        let timers = r
            .parked
            .iter()
            .filter(|(_, e)| matches!(e, Event::BreakerDue { .. }));
        let lost = timers.count();
        r.parked.clear();
        self.guards.forget_timers(lost);
        self.fail_probes(replica, sched);
        for k in victims {
            let j = self.jobs.remove(k).expect("live job");
            if let Some(t) = self.trace.as_deref_mut() {
                t.job_ended(now, k, JobEnd::Killed);
            }
            self.forget_key(k, replica, None, now);
            if let Some(state) = j.waiting.policy {
                self.abandon_policy_call(state, sched);
            }
            self.settle_plain(Caller::Job(k), None, now);
            let held_worker = matches!(j.state, JobState::Serving | JobState::Calling);
            if held_worker {
                *self.replicas[replica].busy_in_mut(j.pool) -= 1;
            }
            let s = &mut self.services[service];
            let offset = replica.offset_from(s.first_replica);
            s.recorder.killed(now, j.arrived_at, held_worker, offset);
            self.reply(&j, Outcome::Error, sched);
        }
    }

    /// A hang of `replica` ends: the parked events resume, and idle workers take up the
    /// requests that queued meanwhile.
    pub(super) fn resume(&mut self, replica: ReplicaId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let r = &mut self.replicas[replica];
        r.paused_total = r.paused_total + now.saturating_since(r.hang_started);
        let paused_total = r.paused_total;
        let mut parked = std::mem::take(&mut r.parked);
        for (remaining, event) in parked.drain(..) {
            if let Event::ServiceDone { job } = event
                && let Some(j) = self.jobs.get_mut(job)
            {
                j.pause_mark = paused_total;
            }
            sched.after(remaining, event);
        }
        let r = &mut self.replicas[replica];
        r.parked = parked;
        let service = r.service;
        for pool in 0..=r.pools.len() as u8 {
            let concurrency = self.services[service].concurrency_in(pool);
            while self.replicas[replica].busy_in(pool) < concurrency
                && !self.replicas[replica].room(pool).is_empty()
            {
                self.start_next(replica, pool, sched);
            }
        }
    }
}

/// A worker of replica `r` (of service `s`) takes job `key` (`j`) up: its own service time
/// starts now.
#[inline(always)]
fn start_job(
    key: Key,
    j: &mut Job,
    r: &mut Replica,
    s: &mut Service,
    sched: &mut Scheduler<Event>,
) {
    j.state = JobState::Serving;
    j.pause_mark = r.paused_total;
    *r.busy_in_mut(j.pool) += 1;
    s.recorder.started(sched.now());
    let mut d = match r.drawn_ahead.take() {
        Some(d) => d,
        None => s.service_time.sample(&mut r.rng),
    };
    if !r.slow.is_empty() {
        d = SimDuration::from_nanos_f64(d.as_nanos() as f64 * r.slowdown());
    }
    sched.after(d, Event::ServiceDone { job: key });
    if s.error_rate == 0.0 {
        // The replica's stream serves only service times: draw the next one now (see
        // `Replica::drawn_ahead`).
        r.drawn_ahead = Some(s.service_time.sample(&mut r.rng));
    }
}
