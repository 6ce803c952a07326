//! Message queues as validated plain data: `[[queue]]` tables, and what a client or a call
//! sends to (a service, synchronously, or a queue, asynchronously).

use crate::engine::SimDuration;

/// What a client's `target` or a call's `to` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dest {
    /// A service, by index: the caller waits for its answer.
    Service(usize),
    /// A queue, by index: the caller waits only until the message is stored.
    Queue(usize),
}

impl Dest {
    /// The service, if it names one.
    pub fn service(self) -> Option<usize> {
        match self {
            Dest::Service(s) => Some(s),
            Dest::Queue(_) => None,
        }
    }

    /// The queue, if it names one.
    pub fn queue(self) -> Option<usize> {
        match self {
            Dest::Queue(q) => Some(q),
            Dest::Service(_) => None,
        }
    }
}

/// The visibility timeout when a queue names none: Amazon SQS's default.
pub const DEFAULT_VISIBILITY_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// How long consumers keep working through the queues after `duration` when the file does
/// not say (`drain`).
pub const DEFAULT_DRAIN: SimDuration = SimDuration::from_secs(3600);

/// One `[[queue]]`: messages stored until a consumer's worker takes and acknowledges them,
/// with Amazon SQS's visibility timeout and redrive policy.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSpec {
    /// Unique among clients, services and queues.
    pub name: String,
    /// Most messages stored at once (visible and in flight); `None` is unbounded.
    pub capacity: Option<u64>,
    /// The service whose replicas' workers take its messages; `None` for a queue nobody
    /// consumes (a dead-letter queue kept for people to look at).
    pub consumer: Option<usize>,
    /// A received message becomes visible again this long after it was received, unless its
    /// delivery was acknowledged meanwhile.
    pub visibility_timeout: SimDuration,
    /// A message received this many times without being acknowledged is dead-lettered
    /// (SQS's `maxReceiveCount`); `None` redelivers it for ever.
    pub max_receives: Option<u32>,
    /// The queue dead-lettered messages move to, by index; `None` drops them (counted).
    pub dead_letter: Option<usize>,
    /// The fraction of messages that are poison: every delivery of one fails.
    pub poison: f64,
}
