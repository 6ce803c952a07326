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

/// A pool of a replica's workers beyond the first (see [`Replica::pools`]).
pub struct Pool {
    /// Its workers holding a request.
    pub busy: u32,
    /// Its requests waiting for one of its workers.
    pub waiting: WaitingRoom,
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
    /// The pools after the first, when the service partitions its workers by caller
    /// (`busy` and `waiting` above are the first pool's, the one health probes use).
    pub pools: Vec<Pool>,
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
            pools: Vec::new(),
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

    /// Workers of pool `pool` holding a request.
    #[inline(always)]
    pub fn busy_in(&self, pool: u8) -> u32 {
        if pool == 0 {
            self.busy
        } else {
            self.pools[usize::from(pool) - 1].busy
        }
    }

    /// See [`Replica::busy_in`].
    #[inline(always)]
    pub fn busy_in_mut(&mut self, pool: u8) -> &mut u32 {
        if pool == 0 {
            &mut self.busy
        } else {
            &mut self.pools[usize::from(pool) - 1].busy
        }
    }

    /// The waiting room of pool `pool`.
    #[inline(always)]
    pub fn room(&self, pool: u8) -> &WaitingRoom {
        if pool == 0 {
            &self.waiting
        } else {
            &self.pools[usize::from(pool) - 1].waiting
        }
    }

    /// See [`Replica::room`].
    #[inline(always)]
    pub fn room_mut(&mut self, pool: u8) -> &mut WaitingRoom {
        if pool == 0 {
            &mut self.waiting
        } else {
            &mut self.pools[usize::from(pool) - 1].waiting
        }
    }

    /// Workers holding a request, and requests waiting, over every pool.
    pub fn load(&self) -> (u32, usize) {
        self.pools
            .iter()
            .fold((self.busy, self.waiting.len()), |(b, w), p| {
                (b + p.busy, w + p.waiting.len())
            })
    }

    /// Puts `key` of class `priority` at the back of its class in pool `pool`'s waiting
    /// room.
    #[inline(always)]
    pub fn enqueue(&mut self, key: Key, pool: u8, priority: Priority, now: SimTime) {
        self.room_mut(pool).push(key, priority, now);
    }

    /// True when pool `pool`'s waiting room has not been empty for `standing` or more.
    #[inline]
    pub fn has_standing_queue(&self, pool: u8, now: SimTime, standing: SimDuration) -> bool {
        let w = self.room(pool);
        !w.is_empty() && now.saturating_since(w.nonempty_since()) >= standing
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
