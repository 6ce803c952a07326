//! A replica's state: workers, waiting room, random stream, and the faults acting on it.

use super::event::Event;
use super::ids::{FaultId, ServiceId};
use super::slab::Key;
use super::waiting_room::WaitingRoom;
use crate::engine::{SimDuration, SimRng, SimTime};
use crate::scenario::Priority;
use std::collections::VecDeque;

/// A brownout acting on a replica.
#[derive(Clone, Copy, Debug)]
pub struct Brownout {
    /// The fault.
    pub fault: FaultId,
    /// The replica's position among the fault's units (which stream to draw from).
    pub unit: u32,
    /// Probability that a request fails.
    pub rate: f64,
    /// Requests left to fail when the fault fails only the first N.
    pub left: Option<u64>,
}

/// One replica of a service.
pub struct Replica {
    /// Its service.
    pub service: ServiceId,
    /// Workers holding a request (serving it or waiting on its calls).
    pub busy: u32,
    /// Requests waiting for a worker, by priority class; [`Key::MARKER`] stands for a
    /// health probe (in the default class), whose round is in `probes`.
    pub waiting: WaitingRoom,
    /// The rounds of the health probes waiting in `waiting`, oldest first.
    pub probes: VecDeque<u32>,
    /// The rounds of the probes a worker is answering.
    pub probes_served: Vec<u32>,
    /// Service times and the service's own errors.
    pub rng: SimRng,
    /// The next service time, drawn from `rng` as soon as the previous one was used, so
    /// that it is ready when a worker starts (its arithmetic then stays off the path from
    /// one event to the next). Only done when the service has no error rate: `rng` then
    /// serves nothing but service times, so drawing early yields the very same values.
    /// Anything new that draws from `rng` must keep to this, or stop the early draw.
    pub drawn_ahead: Option<SimDuration>,
    /// Active crash faults; the process is down while this is positive.
    pub crashed: u32,
    /// Active hang faults; the process is frozen while this is positive.
    pub hung: u32,
    /// When the current hang began.
    pub hang_started: SimTime,
    /// Total length of the hangs that have ended; jobs that started before a hang owe it.
    pub paused_total: SimDuration,
    /// Events that reached the frozen process, each with the delay it still has to run
    /// after the hang ends.
    pub parked: Vec<(SimDuration, Event)>,
    /// Active slow faults: (fault, factor).
    pub slow: Vec<(FaultId, f64)>,
    /// Active brownouts.
    pub brownouts: Vec<Brownout>,
}

impl Replica {
    /// A healthy, idle replica of service `service`.
    pub fn new(service: ServiceId, rng: SimRng, queue_hint: usize) -> Self {
        Replica {
            service,
            busy: 0,
            waiting: WaitingRoom::new(queue_hint),
            probes: VecDeque::new(),
            probes_served: Vec::new(),
            rng,
            drawn_ahead: None,
            crashed: 0,
            hung: 0,
            hang_started: SimTime::ZERO,
            paused_total: SimDuration::ZERO,
            parked: Vec::new(),
            slow: Vec::new(),
            brownouts: Vec::new(),
        }
    }

    /// Puts `key` of class `priority` at the back of its class in the waiting room.
    #[inline]
    pub fn enqueue(&mut self, key: Key, priority: Priority, now: SimTime) {
        self.waiting.push(key, priority, now);
    }

    /// True when the waiting room has not been empty for `standing` or more.
    #[inline]
    pub fn has_standing_queue(&self, now: SimTime, standing: SimDuration) -> bool {
        !self.waiting.is_empty() && now.saturating_since(self.waiting.nonempty_since()) >= standing
    }

    /// True while the process is down.
    #[inline]
    pub fn is_down(&self) -> bool {
        self.crashed > 0
    }

    /// True while the process is frozen.
    #[inline]
    pub fn is_hung(&self) -> bool {
        self.hung > 0
    }

    /// The product of the active slow factors.
    #[inline]
    pub fn slowdown(&self) -> f64 {
        self.slow.iter().map(|(_, f)| f).product()
    }
}
