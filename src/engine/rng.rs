//! Random number streams: one independent ChaCha8 stream per simulated entity.
//!
//! Every stream is keyed by the run seed and numbered by the entity that owns it
//! ([`StreamId`]): ChaCha8's 64-bit stream number selects a separate keystream under the
//! same key, so adding an entity, or drawing more from one, never shifts another entity's
//! draws. Nothing here reads the clock or the operating system.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;

/// Names one stream: a 64-bit number hashed from the owning entity's name, so that an
/// entity keeps its stream whatever else the scenario declares, in whatever order. The engine
/// knows no kinds of entity: the model builds each name (with a namespace in front, see
/// `model::names`) and hands its bytes here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    number: u64,
}

impl StreamId {
    /// The stream named by `parts`, read one after another as one byte string: FNV-1a
    /// (64-bit) over those bytes. Distinct names collide with probability about 2^-64.
    pub fn from_parts(parts: &[&[u8]]) -> Self {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = OFFSET;
        for b in parts.iter().flat_map(|p| p.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
        StreamId { number: h }
    }

    /// The ChaCha8 stream number.
    pub fn number(self) -> u64 {
        self.number
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream {:#018x}", self.number)
    }
}

/// A seeded, portable random stream owned by one entity.
#[derive(Clone, Debug)]
pub struct SimRng {
    inner: ChaCha8Rng,
}

impl SimRng {
    /// The stream `id` of the run seeded with `seed`.
    pub fn new(seed: u64, id: StreamId) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(id.number());
        SimRng { inner }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform draw on [0, 1), with 53 bits of precision.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (p outside [0, 1] is clamped by the comparison).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// A uniform index in `0..n`; `n` must be positive.
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        // Lemire's multiply-shift; bias below 2^-32 for the sizes a scenario uses.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// The underlying generator, for `rand_distr` distributions.
    #[inline]
    pub fn generator(&mut self) -> &mut ChaCha8Rng {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_of_different_entities_differ() {
        let a = SimRng::new(7, StreamId::from_parts(&[b"web"])).next_u64();
        let b = SimRng::new(7, StreamId::from_parts(&[b"mobile"])).next_u64();
        let c = SimRng::new(7, StreamId::from_parts(&[&[1], b"web"])).next_u64();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
    }

    #[test]
    fn a_name_is_its_bytes_however_split() {
        assert_eq!(
            StreamId::from_parts(&[b"api", b"[0]"]),
            StreamId::from_parts(&[b"api[0]"])
        );
    }

    #[test]
    fn unit_stays_in_range() {
        let mut r = SimRng::new(1, StreamId::from_parts(&[b"web->api"]));
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
