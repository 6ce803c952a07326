//! A service's `queue_discipline`, `max_queue_time` and `codel`.

use super::Checker;
use crate::engine::SimDuration;
use crate::scenario::file::ServiceFile;
use crate::scenario::queueing::{Codel, Discipline, QueuePolicy};

impl Checker<'_> {
    /// The queue discipline and shedding of service `f` (FIFO without shedding when none
    /// is given).
    pub(super) fn queueing(&mut self, f: &ServiceFile) -> QueuePolicy {
        let discipline = f
            .queue_discipline
            .as_ref()
            .and_then(|d| self.choice(d, "queue_discipline", &Discipline::NAMES, Discipline::parse))
            .unwrap_or_default();
        let max_queue_time = f
            .max_queue_time
            .as_ref()
            .and_then(|d| self.positive(d, "max_queue_time"));
        let codel = f.codel.as_ref().and_then(|c| {
            let c = c.get_ref();
            let target = match &c.target {
                None => SimDuration::from_millis(5),
                Some(t) => self.positive(t, "target")?,
            };
            let interval = match &c.interval {
                None => SimDuration::from_millis(100),
                Some(i) => self.positive(i, "interval")?,
            };
            if target >= interval {
                let span = c.target.as_ref().or(c.interval.as_ref()).map(|s| s.span());
                if let Some(span) = span {
                    self.error(span, "CoDel's `target` is not shorter than its `interval`; expected a target well under the interval, like target = \"5ms\", interval = \"100ms\"");
                }
                return None;
            }
            Some(Codel { target, interval })
        });
        QueuePolicy {
            discipline,
            max_queue_time,
            codel,
        }
    }
}
