//! The hold model: the event queue alone, with a fixed number of pending events. Each
//! operation pops the earliest event and schedules one new event at an exponential delay
//! after it, so the queue stays at its size. Large systems (a million users thinking in a
//! closed loop) keep about a million events pending, where the queue, not the model, sets
//! the pace.
//!
//! - `plain_heap`: `std::collections::BinaryHeap` keyed by (time, sequence), the queue of a
//!   plain loop;
//! - `resim_queue`: resim's [`resim::engine::EventQueue`].
//!
//! Each at 1,000 and 1,000,000 pending events, [`OPERATIONS`] operations per iteration,
//! with the delays drawn from one ChaCha8 stream (the same draws for both queues), mean
//! [`MEAN_NS`]. Filling the queue is not timed. Run with `cargo bench --bench hold`.

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use rand::SeedableRng;
use rand::distr::Distribution;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;
use resim::engine::{EventQueue, SimTime};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Hold operations per iteration.
const OPERATIONS: u64 = 2_000_000;
/// Mean delay of a new event, ns.
const MEAN_NS: f64 = 1e9;
/// Samples per benchmark.
const SAMPLES: u32 = 10;

fn main() {
    divan::main();
}

/// A fresh stream of delays.
fn delays() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(7)
}

#[inline]
fn delay(rng: &mut ChaCha8Rng) -> u64 {
    let e: f64 = Exp1.sample(rng);
    (e * MEAN_NS) as u64
}

/// A plain heap of (time, sequence, event), the stream that goes on drawing, and the next
/// sequence number.
type Plain = (BinaryHeap<Reverse<(u64, u64, u32)>>, ChaCha8Rng, u64);

/// A heap of `pending` events, and the stream that goes on drawing.
fn plain_filled(pending: usize) -> Plain {
    let mut rng = delays();
    let mut heap = BinaryHeap::with_capacity(pending + 1);
    for seq in 0..pending as u64 {
        heap.push(Reverse((delay(&mut rng), seq, 0)));
    }
    (heap, rng, pending as u64)
}

/// `OPERATIONS` holds on a plain heap; returns the last time, so nothing is optimized away.
fn plain_hold((mut heap, mut rng, mut seq): Plain) -> u64 {
    let mut now = 0;
    for _ in 0..OPERATIONS {
        let Reverse((t, _, what)) = heap.pop().expect("pending events");
        now = t;
        heap.push(Reverse((t + delay(&mut rng), seq, what)));
        seq += 1;
    }
    now
}

/// resim's queue with `pending` events, and the stream that goes on drawing.
fn resim_filled(pending: usize) -> (EventQueue<u32>, ChaCha8Rng) {
    let mut rng = delays();
    let mut queue = EventQueue::with_capacity(pending + 1);
    for _ in 0..pending {
        queue.push(SimTime(delay(&mut rng)), 0);
    }
    (queue, rng)
}

/// `OPERATIONS` holds on resim's queue; returns the last time.
fn resim_hold((mut queue, mut rng): (EventQueue<u32>, ChaCha8Rng)) -> u64 {
    let mut now = 0;
    for _ in 0..OPERATIONS {
        let (t, what) = queue.pop().expect("pending events");
        now = t.as_nanos();
        queue.push(SimTime(now + delay(&mut rng)), what);
    }
    now
}

#[divan::bench(args = [1_000, 1_000_000], sample_count = SAMPLES, sample_size = 1)]
fn plain_heap(bencher: Bencher, pending: usize) {
    bencher
        .counter(ItemsCount::new(OPERATIONS))
        .with_inputs(|| plain_filled(pending))
        .bench_values(|filled| plain_hold(black_box(filled)));
}

#[divan::bench(args = [1_000, 1_000_000], sample_count = SAMPLES, sample_size = 1)]
fn resim_queue(bencher: Bencher, pending: usize) {
    bencher
        .counter(ItemsCount::new(OPERATIONS))
        .with_inputs(|| resim_filled(pending))
        .bench_values(|filled| resim_hold(black_box(filled)));
}
