//! Clients: when each sends its requests (open-loop rates with phases, or closed-loop users).

use crate::engine::{SimDuration, SimRng, SimTime};
use crate::scenario::balancer::KeySpace;
use crate::scenario::{Arrival, RateProfile};
use rand::distr::Distribution as _;
use rand_distr::{Exp1, Zipf};

/// How a client draws its requests' keys: key k of 1..=`space` with probability
/// proportional to 1 / k^s (Zipf), or uniformly for s = 0.
#[derive(Clone, Debug)]
pub struct Keys {
    space: u64,
    zipf: Option<Zipf<f64>>,
}

impl Keys {
    /// The keys `spec` describes.
    pub fn new(spec: KeySpace) -> Self {
        Keys {
            space: spec.space,
            zipf: (spec.zipf_s > 0.0)
                .then(|| Zipf::new(spec.space as f64, spec.zipf_s).expect("validated")),
        }
    }

    /// The next request's key.
    pub fn draw(&self, rng: &mut SimRng) -> u64 {
        match &self.zipf {
            Some(z) => z.sample(rng.generator()) as u64,
            None => rng.index(self.space as usize) as u64 + 1,
        }
    }
}

/// The next send time of an open-loop client after `from`, or `None` if it would fall at
/// or after `end`.
///
/// Both open-loop kinds invert the cumulative rate Lambda(t), the integral of the rate
/// profile: the next request comes when Lambda has grown by one (constant: evenly spaced
/// in "rate time") or by an Exp(1) draw (Poisson: a time-changed unit-rate Poisson process,
/// exact for phases and ramps, one draw per request).
#[inline]
pub fn next_send(
    arrival: &Arrival,
    rng: &mut SimRng,
    from: SimTime,
    end: SimTime,
) -> Option<SimTime> {
    let (profile, mass) = match arrival {
        Arrival::Poisson(profile) => (profile, Exp1.sample(rng.generator())),
        Arrival::Constant(profile) => (profile, 1.0),
        Arrival::Closed { .. } => return None,
    };
    advance(profile, from, mass).filter(|t| *t < end)
}

/// The time s >= `from` at which the integral of the rate from `from` to s equals `mass`,
/// or `None` if the rate never supplies that much.
#[inline]
pub fn advance(profile: &RateProfile, from: SimTime, mass: f64) -> Option<SimTime> {
    if mass <= 0.0 {
        return Some(from);
    }
    if profile.phases.is_empty() {
        // Same value as the general path: 2m / (r + sqrt(r*r)) == m / r exactly.
        let r = profile.base_per_s;
        if r <= 0.0 {
            return None;
        }
        let x = mass / r;
        if !x.is_finite() {
            return None;
        }
        return Some(from + SimDuration::from_secs_f64(x));
    }
    advance_through_phases(profile, from, mass)
}

/// [`advance`] for a profile with phases: walks the segments from `from` on.
#[inline(never)]
fn advance_through_phases(profile: &RateProfile, from: SimTime, mass: f64) -> Option<SimTime> {
    let mut t = from;
    let mut left = mass;
    loop {
        // The segment containing t: inside a phase, or base rate until the next phase.
        // Phases are sorted and disjoint, so their ends increase: a binary search finds
        // the first that ends after t (a trace from telemetry has thousands).
        let next = profile
            .phases
            .get(profile.phases.partition_point(|p| p.to <= t));
        let (seg_end, r0, r1, seg_start) = match next {
            Some(p) if t >= p.from => (Some(p.to), p.rate_per_s, p.ramp_to_per_s, p.from),
            Some(p) => (Some(p.from), profile.base_per_s, profile.base_per_s, t),
            None => (None, profile.base_per_s, profile.base_per_s, t),
        };
        let rate_at = |x: SimTime| match seg_end {
            Some(e) if r0 != r1 => {
                let f = (x - seg_start).as_nanos() as f64 / (e - seg_start).as_nanos() as f64;
                r0 + (r1 - r0) * f
            }
            _ => r0,
        };
        let ra = rate_at(t);
        let slope = match seg_end {
            Some(e) if r0 != r1 => (r1 - r0) / (e - seg_start).as_secs_f64(),
            _ => 0.0,
        };
        let length = seg_end.map_or(f64::INFINITY, |e| (e - t).as_secs_f64());
        let supplied = match seg_end {
            Some(_) => ra * length + slope * length * length / 2.0,
            None if ra > 0.0 => f64::INFINITY,
            None => 0.0,
        };
        if supplied >= left {
            // Solve ra x + slope x^2 / 2 = left in the numerically stable form.
            let disc = (ra * ra + 2.0 * slope * left).max(0.0);
            let x = 2.0 * left / (ra + disc.sqrt());
            if !x.is_finite() {
                return None;
            }
            let x = x.min(length);
            return Some(t + SimDuration::from_secs_f64(x));
        }
        match seg_end {
            Some(e) => {
                left -= supplied.max(0.0);
                t = e;
            }
            None => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::names;
    use crate::scenario::Phase;

    fn count(arrival: &Arrival, from_s: u64, to_s: u64) -> usize {
        let mut rng = SimRng::new(11, names::client("c").stream());
        let (mut t, end) = (SimTime::ZERO, SimTime(to_s * 1_000_000_000));
        let mut n = 0;
        while let Some(next) = next_send(arrival, &mut rng, t, end) {
            if next.as_nanos() >= from_s * 1_000_000_000 {
                n += 1;
            }
            t = next;
        }
        n
    }

    fn spike() -> RateProfile {
        RateProfile {
            base_per_s: 100.0,
            phases: vec![Phase {
                from: SimTime(100_000_000_000),
                to: SimTime(200_000_000_000),
                rate_per_s: 300.0,
                ramp_to_per_s: 300.0,
            }],
        }
    }

    #[test]
    fn poisson_phases_change_the_rate_where_they_apply() {
        let a = Arrival::Poisson(spike());
        let before = count(&a, 0, 100) as f64 / 100.0;
        let during = (count(&a, 0, 200) - count(&a, 0, 100)) as f64 / 100.0;
        assert!((before - 100.0).abs() < 5.0, "{before}/s before the spike");
        assert!((during - 300.0).abs() < 9.0, "{during}/s during the spike");
    }

    #[test]
    fn a_ramp_delivers_its_average_rate() {
        let ramp = RateProfile {
            base_per_s: 50.0,
            phases: vec![Phase {
                from: SimTime::ZERO,
                to: SimTime(100_000_000_000),
                rate_per_s: 0.0,
                ramp_to_per_s: 200.0,
            }],
        };
        let n = count(&Arrival::Poisson(ramp), 0, 100) as f64;
        // The integral of a ramp from 0 to 200/s over 100 s is 10,000.
        assert!((n - 10_000.0).abs() < 300.0, "{n} arrivals");
    }

    #[test]
    fn constant_arrivals_are_evenly_spaced_and_skip_silent_phases() {
        let mut p = spike();
        p.phases[0].rate_per_s = 0.0;
        p.phases[0].ramp_to_per_s = 0.0;
        let a = Arrival::Constant(p);
        // Every 10 ms from 10 ms: 9,999 before 100 s, one at 100 s, none in the silent
        // phase [100 s, 200 s), then every 10 ms again from 200.01 s.
        assert_eq!(count(&a, 0, 100), 9_999);
        assert_eq!(count(&a, 0, 200), 10_000, "nothing during the silent phase");
        assert_eq!(count(&a, 0, 300), 10_000 + 9_999);
    }
}
