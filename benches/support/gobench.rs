//! A runner in the shape of Go's `testing.B`, for the benchmarks that report as the Go
//! netstack's do (`BenchmarkWritePacket`): the operation runs `N` times, `N` growing until
//! one run lasts the bench time, and the last run gives ns/op, B/op and allocs/op. The
//! summary lines have the Go tool's layout, so `benchstat` reads them.
//!
//! The bench time is 250 ms per benchmark (Go's default is 1 s), 5 ms in a smoke run, and
//! `NETSTACK_BENCH_TIME_MS` sets it.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// One benchmark's result.
#[derive(Clone, Debug)]
pub(crate) struct GoResult {
    pub(crate) name: String,
    pub(crate) iterations: u64,
    pub(crate) ns_per_op: f64,
    pub(crate) bytes_per_op: u64,
    pub(crate) allocs_per_op: u64,
    /// Allocations per operation before rounding down, as Go does for the summary.
    pub(crate) allocs_exact: f64,
}

impl GoResult {
    /// The summary line, as `go test -bench . -benchmem` prints it.
    pub(crate) fn line(&self) -> String {
        format!(
            "{:<56}\t{:>10}\t{:>10.1} ns/op\t{:>6} B/op\t{:>4} allocs/op",
            self.name, self.iterations, self.ns_per_op, self.bytes_per_op, self.allocs_per_op
        )
    }
}

/// How long the last run of each benchmark lasts.
fn bench_time() -> Duration {
    let ms = std::env::var("NETSTACK_BENCH_TIME_MS").ok().and_then(|v| v.parse().ok());
    Duration::from_millis(ms.unwrap_or(if super::smoke_run() { 5 } else { 250 }))
}

/// Runs `op` as `testing.B` would, prints the summary line and returns it.
pub(crate) fn run(name: &str, mut op: impl FnMut()) -> GoResult {
    let target = bench_time();
    // One call to warm up (caches, pools, lazily grown tables), as Go's run1 does.
    op();
    let mut n: u64 = 1;
    loop {
        let (allocs_before, bytes_before) = (super::allocations(), super::allocated_bytes());
        let start = Instant::now();
        for _ in 0..n {
            op();
        }
        let elapsed = start.elapsed();
        let (allocs, bytes) = (super::allocations() - allocs_before, super::allocated_bytes() - bytes_before);
        if elapsed >= target || n >= 1_000_000_000 {
            let result = GoResult {
                name: name.to_string(),
                iterations: n,
                ns_per_op: elapsed.as_nanos() as f64 / n as f64,
                bytes_per_op: bytes / n,
                allocs_per_op: allocs / n,
                allocs_exact: allocs as f64 / n as f64,
            };
            println!("{}", result.line());
            return result;
        }
        // Go's predictNs: aim 20% past the target, grow at most 100x, at least by one.
        let per_op = (elapsed.as_nanos() as f64 / n as f64).max(1.0);
        let predicted = (target.as_nanos() as f64 * 1.2 / per_op) as u64;
        n = predicted.min(n * 100).max(n + 1);
    }
}

/// Prints, per benchmark, ours against the peer's: both times and how many times faster ours
/// is.
pub(crate) fn print_ratios(title: &str, pairs: &[(GoResult, GoResult)]) {
    println!("\n{title}: ns/op, ours vs smoltcp (ratio = smoltcp / ours; higher is better for ours)");
    for (ours, theirs) in pairs {
        println!(
            "  {:<48} {:>9.1} {:>9.1}   {:>5.2}x   allocs/op {} vs {}",
            ours.name,
            ours.ns_per_op,
            theirs.ns_per_op,
            theirs.ns_per_op / ours.ns_per_op,
            ours.allocs_exact,
            theirs.allocs_exact
        );
    }
}
