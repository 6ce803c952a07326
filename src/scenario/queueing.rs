//! How a service's replicas order and shed the requests waiting for a worker: the queue
//! discipline, the longest wait allowed, and CoDel as Facebook's "Fail at Scale" applies it.

use crate::engine::SimDuration;

/// Which waiting request a free worker takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Discipline {
    /// The oldest (the default).
    #[default]
    Fifo,
    /// The newest: its caller is the likeliest to be still waiting.
    Lifo,
    /// The oldest, but the newest while a standing queue exists (the queue has not been
    /// empty for the standing interval): "Fail at Scale"'s adaptive LIFO.
    AdaptiveLifo,
}

impl Discipline {
    /// The names scenario files use, in order.
    pub const NAMES: [&'static str; 3] = ["fifo", "lifo", "adaptive_lifo"];

    /// The discipline named `name`.
    pub fn parse(name: &str) -> Option<Discipline> {
        match name {
            "fifo" => Some(Discipline::Fifo),
            "lifo" => Some(Discipline::Lifo),
            "adaptive_lifo" => Some(Discipline::AdaptiveLifo),
            _ => None,
        }
    }
}

/// CoDel on a server queue ("Fail at Scale"): a request that joins a queue that has not
/// been empty for `interval` may wait `target`, any other `interval`; a worker sheds a
/// request that waited longer than it was allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codel {
    /// The wait allowed under a standing queue (5 ms).
    pub target: SimDuration,
    /// How long a queue must stay non-empty to be standing, and the wait allowed
    /// otherwise (100 ms).
    pub interval: SimDuration,
}

/// A service's queue discipline and shedding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueuePolicy {
    /// Which waiting request a free worker takes.
    pub discipline: Discipline,
    /// A request that waited longer is shed at dequeue (`max_queue_time`).
    pub max_queue_time: Option<SimDuration>,
    /// CoDel, if on.
    pub codel: Option<Codel>,
}

/// How long a queue must stay non-empty to count as standing, for adaptive LIFO without
/// CoDel: CoDel's usual interval.
pub const DEFAULT_STANDING: SimDuration = SimDuration::from_millis(100);

impl QueuePolicy {
    /// True for plain FIFO without shedding, today's default.
    pub fn is_plain(&self) -> bool {
        *self == QueuePolicy::default()
    }

    /// How long a queue must stay non-empty to count as standing.
    pub fn standing_after(&self) -> SimDuration {
        self.codel.map_or(DEFAULT_STANDING, |c| c.interval)
    }
}
