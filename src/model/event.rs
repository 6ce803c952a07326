//! The closed list of things that can happen in the service model.

use crate::outcome::Outcome;

/// Who waits for an answer: a client's request, or a job that made a downstream call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// A client-level request (an id in the request slab).
    Request(u32),
    /// A job on some replica (an id in the job slab).
    Job(u32),
}

/// An event of the service model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Client `client` sends its next request (open loop) or a user wakes (closed loop).
    Send {
        /// Index of the client.
        client: u32,
    },
    /// Job `job`'s request reaches its replica.
    Deliver {
        /// Id in the job slab.
        job: u32,
    },
    /// Job `job` finishes its own service time.
    ServiceDone {
        /// Id in the job slab.
        job: u32,
    },
    /// An answer reaches the one who waits for it.
    Reply {
        /// Who receives the answer.
        to: Parent,
        /// What the answer says.
        outcome: Outcome,
    },
}
