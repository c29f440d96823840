//! Shared benchmark support: a global allocator that counts allocations, so every benchmark
//! can report allocations per operation beside its time and fail loudly when a path that
//! must not allocate starts to.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// The system allocator, counting every allocation and reallocation.
pub(crate) struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counter is a relaxed atomic with no effect on memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made so far by the whole process.
pub(crate) fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Runs `op` `iterations` times after one warm-up call and returns allocations per call.
pub(crate) fn allocs_per_op(iterations: u64, mut op: impl FnMut()) -> f64 {
    op();
    let before = allocations();
    for _ in 0..iterations {
        op();
    }
    (allocations() - before) as f64 / iterations as f64
}

/// Measures allocations per call of `op`, prints them under `name`, and panics if the path
/// allocates at all: these are the paths whose target is zero once warm.
pub(crate) fn report_zero_allocs(name: &str, op: impl FnMut()) {
    let per_op = allocs_per_op(1000, op);
    println!("{name}: {per_op} allocs/op");
    assert!(per_op == 0.0, "{name} allocates {per_op} times per operation; its target is 0");
}
