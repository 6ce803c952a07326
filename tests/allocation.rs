//! No allocation per event in steady state, and memory flat in the number of runs: a
//! counting allocator shows that doubling a run's length doubles its events but leaves its
//! number of allocations where it was, and that ten times the runs of a study do not raise
//! the peak of live bytes.
//!
//! A separate test binary, because it installs its own global allocator; its tests take a
//! lock so that one's allocations never land in the other's counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes allocated and not yet freed.
static LIVE: AtomicU64 = AtomicU64::new(0);
/// The highest `LIVE` since the last reset.
static PEAK: AtomicU64 = AtomicU64::new(0);
/// One test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        grew(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        grew(new_size);
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
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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

/// The peak of live bytes while a study of `seeds` seeds of a short scenario streams into a
/// fresh folder, on one thread.
fn peak_bytes(seeds: u64) -> u64 {
    let text = r#"name = "flat"
duration = "2s"
[[client]]
name = "web"
target = "api"
arrival = { kind = "poisson", rate_per_s = 50 }
[[service]]
name = "api"
service_time = { kind = "exponential", mean = "5ms" }
"#;
    let study = resim::Study::from_text(text, "flat.toml").expect("valid");
    let dir = tempfile::tempdir().expect("temp dir");
    let request = resim::output::RunRequest {
        study: &study,
        text,
        seeds: resim::report::manifest::SeedRange {
            first: 1,
            count: seeds,
        },
        shard: None,
        threads: Some(1),
        command: String::new(),
    };
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let before = LIVE.load(Ordering::Relaxed);
    resim::output::run_into(dir.path(), &request, &|| {}, |_| {}).expect("runs");
    PEAK.load(Ordering::Relaxed) - before
}

#[test]
fn ten_times_the_runs_do_not_raise_the_peak_of_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let small = peak_bytes(200);
    let large = peak_bytes(2000);
    eprintln!("peak live bytes: {small} for 200 runs, {large} for 2000 runs");
    // What grows with the runs: the run list and its seeds (24 bytes a run), and the merged
    // latency histogram, which gains a few tail bins as more requests are recorded (bounded
    // by the histogram's range). A run's results (kilobytes: its latency bins alone) are let go once written:
    // keeping them would add that much per run.
    let per_extra_run = large.saturating_sub(small) / 1800;
    assert!(
        per_extra_run < 200,
        "{small} bytes at the peak for 200 runs, {large} for 2000: {per_extra_run} more per run"
    );
}

/// Allocations while `ops` hold operations (pop the earliest, push one later) run on a queue
/// that is a radix heap (it switches above 64 pending) holding `pending` events.
fn radix_hold_allocations(pending: u64, ops: u64) -> u64 {
    use resim::engine::{EventQueue, SimTime};
    let mut queue = EventQueue::switching_above(0, 64);
    // A fixed, cheap spread of delays (a multiplicative hash), so nothing else allocates.
    let delay = |i: u64| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 34) + 1;
    for i in 0..pending {
        queue.push(SimTime(delay(i)), i);
    }
    // Warm up: let every bucket reach its working size.
    for i in 0..ops {
        let (t, e) = queue.pop().expect("pending");
        queue.push(SimTime(t.as_nanos() + delay(i)), e);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in ops..2 * ops {
        let (t, e) = queue.pop().expect("pending");
        queue.push(SimTime(t.as_nanos() + delay(i)), e);
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn a_large_event_queue_does_not_allocate_per_event() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ops = 2_000_000;
    let allocations = radix_hold_allocations(10_000, ops);
    // Buckets grow now and then, when the clock first crosses a power of two with many
    // events pending: a few dozen allocations for two million events, not one per event.
    assert!(
        allocations < ops / 10_000,
        "{allocations} allocations for {ops} events in steady state"
    );
}
