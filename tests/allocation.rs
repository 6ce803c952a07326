//! No allocation per event in steady state: a counting allocator shows that doubling a run's
//! length doubles its events but leaves its number of allocations where it was.
//!
//! A separate test binary, because it installs its own global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_and_events(duration: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/quickstart.toml"
    ))
    .expect("quickstart readable")
    .replace("duration = \"5m\"", &format!("duration = \"{duration}\""))
    // One time-series row for the whole run, so the only thing growing is the event count.
    .replace("bucket = \"1s\"", "bucket = \"1h\"");
    let scenario = resim::Scenario::from_text(&text, "quickstart.toml").expect("valid");
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let result = resim::run_one(&scenario, 1).expect("run finishes");
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    (after - before, result.events)
}

#[test]
fn doubling_the_run_does_not_add_allocations() {
    let (short_allocs, short_events) = allocations_and_events("2m");
    let (long_allocs, long_events) = allocations_and_events("4m");
    assert!(
        long_events > short_events * 19 / 10,
        "{short_events} -> {long_events} events"
    );
    // Allocations are for setup and for growing buffers to their peak (the event heap, the
    // slabs, the queues, the histograms): a handful more for a longer run at most, against
    // hundreds of thousands more events.
    eprintln!(
        "allocations: {short_allocs} for {short_events} events, {long_allocs} for {long_events}"
    );
    let extra = long_allocs.saturating_sub(short_allocs);
    assert!(
        extra < 20,
        "{short_allocs} allocations for {short_events} events, {long_allocs} for {long_events}"
    );
}
