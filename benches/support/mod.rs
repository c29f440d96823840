//! Shared benchmark support: a global allocator that counts allocations (and the bytes they
//! ask for), so every benchmark can report allocations per operation beside its time and fail
//! loudly when a path that must not allocate starts to; and the pieces several benchmarks
//! share: a device backend for the bindings' session FIFOs ([`bench_device`]), a smoltcp
//! device over in-memory queues ([`smol`]), a Go-style `testing.B` runner and summary
//! ([`gobench`]) and the test frames they feed in ([`frames`]).
//!
//! To find where a measured path allocates, set `NETSTACK_BENCH_ALLOC_TRACE=N`: the first
//! `N` allocations inside a measured region ([`count_allocations`], and so
//! [`allocs_per_op`]) print their backtrace to stderr.

#![allow(dead_code)]

pub(crate) mod addr;
pub(crate) mod bench_device;
pub(crate) mod frames;
pub(crate) mod gobench;
pub(crate) mod smol;

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The system allocator, counting every allocation and reallocation.
pub(crate) struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Bytes asked for by those allocations (a reallocation counts its new size).
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

/// Counts one allocation of `size` bytes.
fn count(size: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    ALLOCATED_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    trace(size);
}

/// Whether a measured region is running with tracing asked for.
static TRACING: AtomicBool = AtomicBool::new(false);

/// Backtraces still to print.
static TRACES_LEFT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set while a backtrace is being taken: the allocations that makes are not traced.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

/// Prints where an allocation of `size` bytes comes from, when tracing.
fn trace(size: usize) {
    if !TRACING.load(Ordering::Relaxed) || IN_TRACE.with(|t| t.replace(true)) {
        return;
    }
    if TRACES_LEFT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
        eprintln!("allocation of {size} bytes in a measured region:\n{}", Backtrace::force_capture());
    }
    IN_TRACE.with(|t| t.set(false));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counter is a relaxed atomic with no effect on memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made so far by the whole process.
pub(crate) fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Bytes those allocations asked for.
pub(crate) fn allocated_bytes() -> u64 {
    ALLOCATED_BYTES.load(Ordering::Relaxed)
}

/// Whether this is a smoke run (`cargo bench -- --test`, or `cargo test --benches`): every
/// figure is measured over far less work, and only to see that the path works.
pub(crate) fn smoke_run() -> bool {
    // `cargo bench` passes `--bench`; `cargo test` runs bench targets without it, and
    // criterion then runs each benchmark once, as with `--test`.
    std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench")
}

/// Runs `region` and returns what it returned with the allocations made meanwhile, tracing
/// them if `NETSTACK_BENCH_ALLOC_TRACE` asks for it.
pub(crate) fn count_allocations<R>(region: impl FnOnce() -> R) -> (R, u64) {
    let traces = std::env::var("NETSTACK_BENCH_ALLOC_TRACE").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    TRACES_LEFT.store(traces, Ordering::Relaxed);
    TRACING.store(traces > 0, Ordering::Relaxed);
    let before = allocations();
    let result = region();
    let made = allocations() - before;
    TRACING.store(false, Ordering::Relaxed);
    (result, made)
}

/// Runs `op` `iterations` times after one warm-up call and returns allocations per call.
pub(crate) fn allocs_per_op(iterations: u64, mut op: impl FnMut()) -> f64 {
    op();
    let ((), made) = count_allocations(|| {
        for _ in 0..iterations {
            op();
        }
    });
    made as f64 / iterations as f64
}

/// Measures allocations per call of `op`, prints them under `name`, and panics if the path
/// allocates at all: these are the paths whose target is zero once warm.
pub(crate) fn report_zero_allocs(name: &str, op: impl FnMut()) {
    let per_op = allocs_per_op(1000, op);
    println!("{name}: {per_op} allocs/op");
    assert!(per_op == 0.0, "{name} allocates {per_op} times per operation; its target is 0");
}
