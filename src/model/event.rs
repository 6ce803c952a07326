//! The closed list of things that can happen in the service model.

use super::ids::{ClientId, EntryId, FaultId, GuardId, LaneId, QueueId, ReplicaId, ServiceId};
use super::slab::Key;
use super::waiter::TimerTag;
use crate::outcome::Outcome;

/// Who waits for an answer: a client's request, or a job that made a downstream call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A client-level request (a key in the request slab).
    Request(Key),
    /// A job on some replica (a key in the job slab).
    Job(Key),
}

/// An event of the service model.
///
/// Events are kept to 16 bytes, so that a queue entry (a 16-byte key and the event) is 32:
/// that is why answers to requests and to jobs are two variants rather than one holding a
/// [`Caller`] (whose tag would make it 12 bytes, and the event 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Client `client` sends its next request (open loop) or a user wakes (closed loop).
    Send {
        /// The client.
        client: ClientId,
    },
    /// A job's request reaches its replica.
    Deliver {
        /// The job.
        job: Key,
    },
    /// A job finishes its own service time.
    ServiceDone {
        /// The job.
        job: Key,
    },
    /// An answer reaches a client's request.
    ReplyToRequest {
        /// The request (a key in the request slab).
        request: Key,
        /// Which of the request's attempts it answers; answers to others are stale.
        attempt: u32,
        /// What the answer says.
        outcome: Outcome,
    },
    /// An answer reaches a job that made a downstream call.
    ReplyToJob {
        /// The job (a key in the job slab).
        job: Key,
        /// Which of the job's attempts it answers; answers to others are stale.
        attempt: u32,
        /// What the answer says.
        outcome: Outcome,
    },
    /// The front timer of a timer lane may be due.
    TimersDue {
        /// The lane.
        lane: LaneId,
    },
    /// A job's attempt has waited as long as its timeout allows (a timeout that reached a
    /// frozen process and was held until the hang ended).
    AttemptTimeout {
        /// The job that gives up.
        job: Key,
        /// Which of the job's attempts times out.
        attempt: u32,
    },
    /// A job's logical call reached its deadline (held while its process was frozen).
    DeadlineTimeout {
        /// The job that gives up.
        job: Key,
        /// The call entry the logical call is made from.
        entry: EntryId,
    },
    /// A client's request retries after its wait.
    RetryRequest {
        /// The request.
        request: Key,
        /// The attempt number the retry will use; anything else means the retry is stale.
        attempt: u32,
    },
    /// A job's call retries after its wait.
    RetryJob {
        /// The job.
        job: Key,
        /// The attempt number the retry will use; anything else means the retry is stale.
        attempt: u32,
    },
    /// A client's request may send a hedged attempt.
    HedgeRequest {
        /// The request.
        request: Key,
        /// The attempt that armed the hedge; if it has been answered, nothing happens.
        attempt: u32,
    },
    /// A job's call may send a hedged attempt.
    HedgeJob {
        /// The job.
        job: Key,
        /// The attempt that armed the hedge; if it has been answered, nothing happens.
        attempt: u32,
    },
    /// A circuit breaker's timed transition may be due (automatic half-open, or the end of
    /// the longest wait in half-open).
    BreakerDue {
        /// The guard holding the breaker.
        guard: GuardId,
        /// The breaker state the timer was armed for; a later state ignores it.
        epoch: u32,
    },
    /// A health-checked service's replicas are probed.
    HealthCheck {
        /// The service.
        service: ServiceId,
    },
    /// A replica's health change reaches the callers' balancers.
    HealthChange {
        /// The replica.
        replica: ReplicaId,
        /// Healthy again, or not.
        healthy: bool,
    },
    /// A bulkhead slot was handed to a client request's call waiting for one.
    BulkheadSlotRequest {
        /// The request.
        request: Key,
    },
    /// A bulkhead slot was handed to a job's call waiting for one.
    BulkheadSlotJob {
        /// The job.
        job: Key,
    },
    /// A client request's call has waited for a bulkhead slot as long as it may.
    BulkheadTimeoutRequest {
        /// The request.
        request: Key,
        /// Which wait of the call (a later wait ignores it).
        epoch: u32,
    },
    /// A job's call has waited for a bulkhead slot as long as it may.
    BulkheadTimeoutJob {
        /// The job.
        job: Key,
        /// Which wait of the call.
        epoch: u32,
    },
    /// A client request's call has waited for its rate limiter's permit.
    LimiterWakeRequest {
        /// The request.
        request: Key,
        /// Which wait of the call.
        epoch: u32,
    },
    /// A job's call has waited for its rate limiter's permit.
    LimiterWakeJob {
        /// The job.
        job: Key,
        /// Which wait of the call.
        epoch: u32,
    },
    /// A health-check probe reaches its replica.
    ProbeArrive {
        /// The replica probed.
        replica: ReplicaId,
        /// The probe round it belongs to.
        round: u32,
    },
    /// A worker of the replica has answered a probe (after the probe's cost).
    ProbeServed {
        /// The replica.
        replica: ReplicaId,
        /// The probe round.
        round: u32,
    },
    /// A probe's answer reaches the health checker.
    ProbeAnswer {
        /// The replica probed.
        replica: ReplicaId,
        /// The probe round; an answer to an earlier round is stale.
        round: u32,
        /// Whether the replica answered that it is ready.
        passed: bool,
    },
    /// The health checker stops waiting for a probe's answer.
    ProbeTimeout {
        /// The replica probed.
        replica: ReplicaId,
        /// The probe round.
        round: u32,
    },
    /// A fault becomes active on one of its units (a replica or a link).
    FaultOn {
        /// The fault.
        fault: FaultId,
        /// Position of the unit among the fault's units.
        unit: u32,
    },
    /// A fault stops on one of its units.
    FaultOff {
        /// The fault.
        fault: FaultId,
        /// Position of the unit among the fault's units.
        unit: u32,
    },
    /// A chaos monkey picks its next victim.
    ChaosTick {
        /// The fault.
        fault: FaultId,
    },
    /// A message reaches its queue.
    MessageArrive {
        /// The message (a key in the message slab).
        message: Key,
    },
    /// The earliest visibility timeout of a queue's messages in flight may have expired.
    VisibilityDue {
        /// The queue.
        queue: QueueId,
    },
}

impl Event {
    /// The event that delivers `outcome`, the answer to attempt `attempt`, to `to`.
    pub fn reply(to: Caller, attempt: u32, outcome: Outcome) -> Event {
        match to {
            Caller::Request(request) => Event::ReplyToRequest {
                request,
                attempt,
                outcome,
            },
            Caller::Job(job) => Event::ReplyToJob {
                job,
                attempt,
                outcome,
            },
        }
    }

    /// The event that times out what `tag` stands for on `job`, held while its process was
    /// frozen.
    pub fn timeout(job: Key, tag: TimerTag) -> Event {
        match tag {
            TimerTag::Attempt(attempt) => Event::AttemptTimeout { job, attempt },
            TimerTag::Deadline(entry) => Event::DeadlineTimeout { job, entry },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_fits_in_16_bytes() {
        assert!(std::mem::size_of::<Event>() <= 16);
    }
}
