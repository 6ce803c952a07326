//! Message queues: producers' sends stored or refused, consumers' workers taking messages,
//! visibility timeouts, redelivery, dead-lettering, and the queues' figures.
//!
//! Semantics follow Amazon SQS (a standard queue with a redrive policy):
//! - A send crosses the producer's hop; the queue stores the message, or refuses it when it
//!   holds `capacity` messages (visible and in flight), and the answer crosses back: the
//!   producer waits for that only.
//! - A consumer service's free worker takes the oldest visible message (long polling: at
//!   once, with no network time; put the receive's cost in the consumer's `service_time`).
//!   The message is in flight for `visibility_timeout` from that receive.
//! - A delivery that ends well deletes the message, if it holds the message's latest
//!   receipt; an acknowledgement with an earlier receipt deletes nothing (SQS: "you must
//!   provide the most recently received receipt handle ... otherwise the message is not
//!   deleted"). A delivery that fails, or is killed by a crash, does nothing: the message
//!   becomes visible again when its visibility timeout expires (SQS has no negative
//!   acknowledgement; RabbitMQ would requeue it at once). A delivery that outlasts the
//!   visibility timeout keeps running while the message is delivered again.
//! - A message received `max_receives` times that becomes visible again is dead-lettered
//!   instead: moved to the `dead_letter` queue (which takes it whatever its capacity, as
//!   SQS queues are unbounded), or dropped and counted.
//! - Order: a message visible again joins the back of the queue; order is not kept across
//!   redeliveries (SQS standard queues keep no order at all).
//! - Every delivery of a message carries the message's idempotency key, which is the
//!   producer's call's: a consumer that is not idempotent counts each execution after the
//!   first as a duplicate, and a retried send stores a second message with the same key.
//! - Consumers take nothing after `duration + drain`: what is stored then stays, counted.

use super::event::{Caller, Event};
use super::ids::{EdgeId, Id, IdVec, QueueId, ReplicaId, ServiceId};
use super::names;
use super::network::{Leg, Node};
use super::slab::{Key, Slab};
use super::waiter::Waiting;
use super::{Job, JobState, Model, Parent};
use crate::engine::{Scheduler, SimDuration, SimRng, SimTime};
use crate::metrics::queue_stats::{MessageRecorder, QueueMetrics, QueueRecorder};
use crate::outcome::Outcome;
use crate::scenario::{Priority, Scenario};
use std::collections::VecDeque;

/// Where a message is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Sent, not yet at its queue.
    InTransit,
    /// Stored, waiting for a consumer.
    Visible,
    /// Received by a consumer, not yet acknowledged or visible again.
    InFlight,
}

/// One message.
#[derive(Clone, Copy)]
pub struct Message {
    queue: QueueId,
    state: State,
    /// The producer's attempt that hears whether the message was stored, and its hop.
    producer: Caller,
    attempt: u32,
    edge: EdgeId,
    /// When the producer sent it (end-to-end latency runs from here).
    sent_at: SimTime,
    /// When its current queue stored it (the age of the oldest message runs from here).
    stored_at: SimTime,
    /// Receives so far by consumers of its current queue (for `max_receives`).
    receives: u32,
    /// Receives so far in all its queues: the latest is its receipt, which an
    /// acknowledgement must carry (never reused, so a delivery from the queue it was
    /// dead-lettered from cannot delete it from its dead-letter queue).
    receipt: u32,
    /// Stored in the measured window, and not yet ended: its end is counted.
    counted: bool,
    /// Every delivery of it fails.
    poison: bool,
    /// The producer's request key and priority, carried to the consumer's calls.
    key: u64,
    priority: Priority,
}

/// One queue at run time.
pub struct Queue {
    /// Visible messages, oldest first.
    visible: VecDeque<Key>,
    /// Every message stored, in the order it was stored, with deleted ones dropped lazily
    /// from the front: the front is the oldest message stored.
    stored: VecDeque<Key>,
    /// Most messages stored at once (`u64::MAX` when unbounded).
    capacity: u64,
    /// The service whose workers take its messages, if any.
    consumer: Option<ServiceId>,
    visibility_timeout: SimDuration,
    max_receives: u32,
    dead_letter: Option<QueueId>,
    poison: f64,
    /// Draws which messages are poison.
    rng: SimRng,
    /// Which consumer replica to try first for the next message.
    cursor: u32,
    /// The receipts in flight, in the order they were received, with their expiry (in
    /// order too: one visibility timeout per queue), as (expiry, message, receipt).
    /// Receipts that ended early are dropped when they reach the front.
    receipts: VecDeque<(SimTime, Key, u32)>,
    /// An event is pending for the front receipt's expiry, or earlier.
    armed: bool,
    recorder: QueueRecorder,
}

/// Every queue and message of a run.
pub struct Queues {
    all: IdVec<QueueId, Queue>,
    messages: Slab<Message>,
    /// Consumers take nothing from this time on.
    drain_end: SimTime,
    counted: MessageRecorder,
    /// Rows the queues may still add past the end of `duration`: what `max_result_rows`
    /// leaves after the rows every run has.
    spare_rows: u64,
}

impl Queues {
    /// The queues of `scenario` for the run seeded with `seed`.
    pub fn build(scenario: &Scenario, seed: u64) -> Self {
        let all = scenario
            .queues
            .iter()
            .map(|q| Queue {
                visible: VecDeque::new(),
                stored: VecDeque::new(),
                capacity: q.capacity.unwrap_or(u64::MAX),
                consumer: q.consumer.map(ServiceId::from_index),
                visibility_timeout: q.visibility_timeout,
                max_receives: q.max_receives.unwrap_or(u32::MAX),
                dead_letter: q.dead_letter.map(QueueId::from_index),
                poison: q.poison,
                rng: SimRng::new(seed, names::queue(&q.name).stream()),
                cursor: 0,
                receipts: VecDeque::new(),
                armed: false,
                recorder: QueueRecorder::new(scenario.bucket, scenario.queue_buckets()),
            })
            .collect();
        Queues {
            all,
            messages: Slab::new(),
            drain_end: SimTime(scenario.duration.as_nanos()) + scenario.drain,
            counted: MessageRecorder::default(),
            spare_rows: scenario
                .max_result_rows
                .saturating_sub(scenario.fixed_result_rows()),
        }
    }

    /// The first queue (and when) that needed a row past `max_result_rows`, if any.
    pub fn out_of_rows(&self) -> Option<(QueueId, SimTime)> {
        self.all
            .iter()
            .enumerate()
            .filter_map(|(i, q)| Some((QueueId::from_index(i), q.recorder.refused_at?)))
            .min_by_key(|&(_, t)| t)
    }

    /// Messages alive (in transit or stored), for the bound on pending work.
    pub fn held(&self) -> usize {
        self.messages.len()
    }

    /// Drops the receipts at the front of `q`'s that ended (acknowledged, or received again).
    fn drop_ended_receipts(&mut self, q: QueueId) {
        let messages = &self.messages;
        let receipts = &mut self.all[q].receipts;
        while let Some(&(_, m, receipt)) = receipts.front() {
            let current = messages.get(m).is_some_and(|msg| {
                msg.queue == q && msg.receipt == receipt && msg.state == State::InFlight
            });
            if current {
                return;
            }
            receipts.pop_front();
        }
    }

    /// When the oldest message stored in `q` was stored, dropping deleted ones.
    fn oldest(&mut self, q: QueueId) -> Option<SimTime> {
        let messages = &self.messages;
        let stored = &mut self.all[q].stored;
        while let Some(&k) = stored.front() {
            match messages.get(k) {
                Some(m) if m.queue == q && m.state != State::InTransit => {
                    return Some(m.stored_at);
                }
                _ => {
                    stored.pop_front();
                }
            }
        }
        None
    }

    /// The row of `q` at `now`, its earlier buckets closed.
    fn row(&mut self, q: QueueId, now: SimTime) -> &mut crate::metrics::queue_stats::QueueRow {
        let oldest = self.oldest(q);
        self.all[q]
            .recorder
            .at(now, || oldest, &mut self.spare_rows)
    }

    /// The queues' figures and the counted messages' ends, at the end of a run (rows
    /// cover the measured window, `until`, and each queue's activity after it).
    pub fn finish(
        mut self,
        scenario: &Scenario,
        until: SimTime,
    ) -> (
        Vec<QueueMetrics>,
        crate::metrics::queue_stats::MessageMetrics,
    ) {
        let mut out = Vec::with_capacity(self.all.len());
        for i in 0..self.all.len() {
            let q = QueueId::from_index(i);
            let oldest = self.oldest(q);
            let recorder = std::mem::replace(
                &mut self.all[q].recorder,
                QueueRecorder::new(scenario.bucket, 0),
            );
            out.push(recorder.finish(&scenario.queues[i].name, until, oldest));
        }
        (out, self.counted.finish())
    }
}

impl Model<'_> {
    /// Sends attempt `attempt` of `caller` over `edge` to `queue`: the message arrives
    /// after the hop's latency, or is lost on the way.
    #[inline(never)]
    pub(super) fn send_to_queue(
        &mut self,
        caller: Caller,
        attempt: u32,
        edge: EdgeId,
        queue: QueueId,
        sched: &mut Scheduler<Event>,
    ) {
        let ends = |m: &Self| {
            let from = m.caller_node(caller).expect("a live caller sends");
            (from, Node::Queue(queue))
        };
        let Some(delay) = self.transit(edge, ends, Leg::Request) else {
            return; // lost on the way: only the timeout will tell
        };
        let (key, priority) = match caller {
            Caller::Request(k) => {
                let q = self.requests.live(k);
                (q.key, q.priority)
            }
            Caller::Job(k) => {
                let j = self.jobs.live(k);
                (j.key, j.priority)
            }
        };
        let idem_key = self.idem.as_ref().and_then(|t| match caller {
            Caller::Request(k) => t.request_key(k.slot()),
            Caller::Job(k) => t.call_key(k.slot(), self.jobs.live(k).entries_made - 1),
        });
        let now = sched.now();
        let m = self.queues.messages.insert(Message {
            queue,
            state: State::InTransit,
            producer: caller,
            attempt,
            edge,
            sent_at: now,
            stored_at: now,
            receives: 0,
            receipt: 0,
            counted: false,
            poison: false,
            key,
            priority,
        });
        if let (Some(t), Some(k)) = (&mut self.idem, idem_key) {
            t.message_created(m.slot(), k);
        }
        if delay == SimDuration::ZERO {
            self.message_arrives(m, sched);
        } else {
            sched.after(delay, Event::MessageArrive { message: m });
        }
    }

    /// A message reaches its queue: stored, or refused by a full queue; the producer hears
    /// which over the hop back.
    pub(super) fn message_arrives(&mut self, m: Key, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let msg = *self.queues.messages.live(m);
        let q = msg.queue;
        let full = {
            let queue = &self.queues.all[q];
            queue.recorder.stored >= queue.capacity
        };
        let row = self.queues.row(q, now);
        row.sent += 1;
        if full {
            row.refused += 1;
            self.forget_message(m);
            self.answer_producer(&msg, Outcome::Rejected, sched);
            return;
        }
        let counted = self.counted(now);
        let queue = &mut self.queues.all[q];
        let poison = queue.poison > 0.0 && queue.rng.chance(queue.poison);
        let m_rec = self.queues.messages.live_mut(m);
        m_rec.state = State::Visible;
        m_rec.stored_at = now;
        m_rec.counted = counted;
        m_rec.poison = poison;
        if counted {
            self.queues.counted.stored();
        }
        self.store(q, m, sched);
        self.answer_producer(&msg, Outcome::Ok, sched);
    }

    /// Message `m`, visible, joins `q`'s stored messages (the current row of `q` is open);
    /// a free consumer takes it.
    fn store(&mut self, q: QueueId, m: Key, sched: &mut Scheduler<Event>) {
        let queue = &mut self.queues.all[q];
        queue.recorder.stored += 1;
        queue.stored.push_back(m);
        let idle = queue.visible.is_empty();
        queue.visible.push_back(m);
        // With messages already visible, every consumer worker is busy.
        if idle {
            self.pull(q, sched);
        }
    }

    /// The queue's answer to the producer of `msg` (stored, or refused) crosses the hop.
    fn answer_producer(&mut self, msg: &Message, outcome: Outcome, sched: &mut Scheduler<Event>) {
        let Some(to) = self.caller_node(msg.producer) else {
            return; // the producer is gone
        };
        let queue = msg.queue;
        let ends = |_: &Self| (Node::Queue(queue), to);
        let Some(delay) = self.transit(msg.edge, ends, Leg::Response) else {
            return;
        };
        if delay == SimDuration::ZERO {
            self.receive(msg.producer, msg.attempt, outcome, sched);
        } else {
            sched.after(delay, Event::reply(msg.producer, msg.attempt, outcome));
        }
    }

    /// Free workers of `q`'s consumer take its visible messages, replica after replica.
    fn pull(&mut self, q: QueueId, sched: &mut Scheduler<Event>) {
        let Some(service) = self.queues.all[q].consumer else {
            return;
        };
        let s = &self.services[service];
        let (first, n) = (s.first_replica, s.replicas);
        // Each pull starts one replica further on, so that no replica is always first.
        let queue = &mut self.queues.all[q];
        let start = queue.cursor;
        queue.cursor = (start + 1) % n;
        for i in 0..n {
            if self.queues.all[q].visible.is_empty() {
                return;
            }
            self.pull_to(first.plus((start + i) % n), sched);
        }
    }

    /// True when a job with this `parent` delivers a poison message: it fails whatever
    /// the consumer did.
    #[inline]
    pub(super) fn delivers_poison(&self, parent: Parent) -> bool {
        match parent {
            Parent::Delivery(m) => self.queues.messages.get(m).is_some_and(|msg| msg.poison),
            Parent::Call(_) => false,
        }
    }

    /// The free workers of consumer replica `replica` take visible messages of its queue.
    pub(super) fn pull_to(&mut self, replica: ReplicaId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if now >= self.queues.drain_end {
            return;
        }
        let r = &self.replicas[replica];
        let service = r.service;
        let Some(q) = self.services[service].consumes else {
            return;
        };
        loop {
            let r = &self.replicas[replica];
            if r.is_down() || r.is_hung() || r.busy_in(0) >= self.services[service].concurrency {
                return;
            }
            let Some(m) = self.queues.all[q].visible.pop_front() else {
                return;
            };
            self.deliver_message(m, replica, sched);
        }
    }

    /// A worker of `replica` receives message `m`: it is in flight until its visibility
    /// timeout, and its delivery starts as a job.
    fn deliver_message(&mut self, m: Key, replica: ReplicaId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let msg = self.queues.messages.live_mut(m);
        msg.state = State::InFlight;
        msg.receives += 1;
        msg.receipt += 1;
        let (q, receipt, counted, again) = (msg.queue, msg.receipt, msg.counted, msg.receives > 1);
        let (edge, key, priority) = (msg.edge, msg.key, msg.priority);
        let row = self.queues.row(q, now);
        row.received += 1;
        if again {
            row.redelivered += 1;
            if counted {
                self.queues.counted.redelivered();
            }
        }
        let queue = &mut self.queues.all[q];
        queue.recorder.in_flight += 1;
        let expiry = now + queue.visibility_timeout;
        queue.receipts.push_back((expiry, m, receipt));
        if !queue.armed {
            queue.armed = true;
            sched.at(expiry, Event::VisibilityDue { queue: q });
        }
        let job = self.jobs.insert(Job {
            key,
            priority,
            pool: 0,
            caller: Parent::Delivery(m),
            answers: receipt,
            edge,
            replica,
            state: JobState::InTransit,
            entries_made: 0,
            waiting: Waiting::default(),
            arrived_at: now,
            pause_mark: SimDuration::ZERO,
            give_up_at: SimTime::MAX,
            shed_at: SimTime::MAX,
            degraded: false,
        });
        if let Some(t) = &mut self.idem
            && let Some(k) = t.message_key(m.slot())
        {
            t.job_created(job.slot(), k);
        }
        self.deliver(job, sched);
    }

    /// A delivery of message `m` with receipt `receipt` ended with `outcome`: a success
    /// with the latest receipt deletes the message; anything else waits for the visibility
    /// timeout.
    pub(super) fn delivery_done(&mut self, m: Key, receipt: u32, outcome: Outcome, now: SimTime) {
        let Some(msg) = self.queues.messages.get(m) else {
            return; // deleted or dropped meanwhile
        };
        if msg.receipt != receipt || msg.state != State::InFlight {
            return; // an earlier receipt: it deletes nothing
        }
        if !outcome.is_success() {
            return;
        }
        let msg = *msg;
        self.queues.row(msg.queue, now).acknowledged += 1;
        let queue = &mut self.queues.all[msg.queue];
        queue.recorder.stored -= 1;
        queue.recorder.in_flight -= 1;
        if msg.counted {
            self.queues.counted.processed(now - msg.sent_at);
        }
        self.forget_message(m);
        self.queues.drop_ended_receipts(msg.queue);
    }

    /// The earliest receipts of `q` in flight may have expired: each still current makes
    /// its message visible again (or dead-letters it); then the next expiry is armed.
    pub(super) fn visibility_due(&mut self, q: QueueId, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        // Receives made meanwhile queue their receipts behind, without arming.
        self.queues.all[q].armed = true;
        while let Some(&(expiry, m, receipt)) = self.queues.all[q].receipts.front() {
            if expiry > now {
                break;
            }
            self.queues.all[q].receipts.pop_front();
            self.visibility_expired(m, receipt, sched);
        }
        self.queues.drop_ended_receipts(q);
        let queue = &mut self.queues.all[q];
        match queue.receipts.front() {
            Some(&(expiry, _, _)) => sched.at(expiry, Event::VisibilityDue { queue: q }),
            None => queue.armed = false,
        }
    }

    /// The visibility timeout of receipt `receipt` of message `m` expires: unless the
    /// message was deleted or received again since, it becomes visible again, or is
    /// dead-lettered after `max_receives`.
    fn visibility_expired(&mut self, m: Key, receipt: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let Some(msg) = self.queues.messages.get(m) else {
            return;
        };
        if msg.receipt != receipt || msg.state != State::InFlight {
            return;
        }
        let (q, receives, counted) = (msg.queue, msg.receives, msg.counted);
        let dead = receives >= self.queues.all[q].max_receives;
        let row = self.queues.row(q, now);
        if dead {
            row.dead_lettered += 1;
        }
        self.queues.messages.live_mut(m).state = State::Visible;
        let queue = &mut self.queues.all[q];
        queue.recorder.in_flight -= 1;
        if !dead {
            let idle = queue.visible.is_empty();
            queue.visible.push_back(m);
            if idle {
                self.pull(q, sched);
            }
            return;
        }
        // Dead-lettered: it leaves this queue.
        queue.recorder.stored -= 1;
        let dead_letter = queue.dead_letter;
        if counted {
            self.queues.counted.dead_lettered();
        }
        match dead_letter {
            Some(dlq) => {
                let msg = self.queues.messages.live_mut(m);
                msg.queue = dlq;
                msg.receives = 0;
                msg.counted = false;
                msg.stored_at = now;
                self.queues.row(dlq, now).sent += 1;
                self.store(dlq, m, sched);
            }
            None => self.forget_message(m),
        }
    }

    /// Message `m` is gone for good.
    fn forget_message(&mut self, m: Key) {
        self.queues.messages.remove(m);
        if let Some(t) = &mut self.idem {
            t.message_gone(m.slot());
        }
    }

    /// A hang or a crash of `replica` ended: if it consumes a queue, its workers take
    /// messages again.
    pub(super) fn consumer_back(&mut self, replica: ReplicaId, sched: &mut Scheduler<Event>) {
        if self.services[self.replicas[replica].service]
            .consumes
            .is_some()
        {
            self.pull_to(replica, sched);
        }
    }

    /// Where the producer of a message in transit sits, for descriptions.
    pub(super) fn message_queue_name(&self, m: Key) -> Option<&str> {
        self.queues
            .messages
            .get(m)
            .map(|msg| self.scenario.queues[msg.queue.index()].name.as_str())
    }
}
