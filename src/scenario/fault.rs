//! Faults as validated plain data: what breaks, where, and when.

use super::Endpoint;
use crate::distribution::Distribution;
use crate::engine::{SimDuration, SimTime};

/// One `[[fault]]` entry, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// The fault's name (`name` in the file, or `fault<N>` by position); its random streams
    /// are named after it.
    pub name: String,
    /// What happens.
    pub kind: FaultKind,
    /// Where it happens.
    pub target: FaultTarget,
    /// When it happens.
    pub timing: FaultTiming,
}

impl FaultKind {
    /// The kind as written in scenario files (`crash`, `hang`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Hang => "hang",
            FaultKind::Slow { .. } => "slow",
            FaultKind::Errors { .. } => "errors",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Loss { .. } => "loss",
            FaultKind::Partition { .. } => "partition",
            FaultKind::ChaosMonkey { .. } => "chaos_monkey",
        }
    }
}

/// What a fault does while it is active.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// The process dies: queued and running requests fail at once (connection reset); new
    /// requests fail at once (connection refused). It comes back empty.
    Crash,
    /// The process freezes: it accepts requests but answers none until the fault ends.
    Hang,
    /// Service times of requests started meanwhile are multiplied by `factor`.
    Slow {
        /// Multiplier of the service time (> 0).
        factor: f64,
    },
    /// A brownout: a fraction of requests fails after service.
    Errors {
        /// Probability that a request fails.
        rate: f64,
        /// Fail only the first N requests of each activation, per replica.
        first_n: Option<u64>,
    },
    /// Extra one-way delay on every message of a link.
    Latency {
        /// The extra delay, drawn per message.
        delay: Distribution,
    },
    /// Messages of a link are dropped.
    Loss {
        /// Probability of dropping each message.
        probability: f64,
        /// Which messages may be dropped.
        direction: LossDirection,
    },
    /// No messages between two groups.
    Partition {
        /// The two groups.
        sides: [Vec<NodeRef>; 2],
        /// Only messages from the first group to the second are dropped.
        one_way: bool,
    },
    /// Every `interval`, crash one replica chosen at random among the targets for `downtime`.
    ChaosMonkey {
        /// Time between two kills.
        interval: SimDuration,
        /// How long a killed replica stays down.
        downtime: SimDuration,
    },
}

/// Which messages a loss fault may drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossDirection {
    /// Requests and responses.
    Both,
    /// Requests only: the callee never sees them.
    Request,
    /// Responses only: the work is done, but the caller never hears of it.
    Response,
}

/// A client, a whole service, or one replica, as a member of a partition group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeRef {
    /// A client, by index.
    Client(usize),
    /// Every replica of a service, by index.
    Service(usize),
    /// One replica: (service index, replica index).
    Replica(usize, u32),
}

/// Where a fault applies.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultTarget {
    /// Some replicas of one service.
    Replicas {
        /// Service index.
        service: usize,
        /// Replica indices within the service, ascending.
        replicas: Vec<u32>,
    },
    /// The hop between a caller and a service, both directions.
    Link {
        /// The caller.
        from: Endpoint,
        /// The called service.
        to: usize,
    },
    /// The replicas of these services (a chaos monkey's candidates).
    Services(Vec<usize>),
    /// The fault names its own members (a partition).
    Groups,
}

/// When a fault is active.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultTiming {
    /// From `start` until `end` (the end of the run when `None`).
    Scheduled {
        /// Start, inclusive.
        start: SimTime,
        /// End, exclusive.
        end: Option<SimTime>,
    },
    /// A failure process per target unit (replica or link): up for a draw of `up`, down for a
    /// draw of `down`, repeated, from time zero until the clients stop.
    Random {
        /// Time between failures (the time to failure of a fresh unit).
        up: Distribution,
        /// Time to repair.
        down: Distribution,
    },
}
