//! Wire-format benchmarks, each beside a peer doing the same work in the same run:
//!
//! * `checksum/N`: the Internet checksum over N bytes (64..9000), beside the one-word-per-step
//!   loop RFC 1071 describes.
//! * `parse_eth_ipv4_tcp`: an Ethernet/IPv4/TCP frame Linux sent (a full-size data segment
//!   with timestamps, and a pure ACK with SACK blocks) parsed in place, checksums verified and
//!   options decoded.
//! * `serialize_eth_ipv6_udp/N`: an N-byte payload already in a TX buffer, wrapped in UDP,
//!   IPv6 and Ethernet headers with lengths and the UDP checksum computed.
//!
//! Each also prints its allocations per operation and fails if a path that must not allocate
//! does.

mod support;

use std::hint::black_box;
use std::num::NonZeroU16;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netstack_core::addr::{Ipv4Addr, Ipv6Addr, Mac};
use netstack_core::buf::{Buf, InPlace, Serializer};
use netstack_core::testutil::vectors;
use netstack_core::wire::ethernet::{EthernetBuilder, EthernetFrame};
use netstack_core::wire::ipv4::Ipv4Packet;
use netstack_core::wire::ipv6::Ipv6Builder;
use netstack_core::wire::tcp::TcpSegment;
use netstack_core::wire::udp::UdpBuilder;
use netstack_core::wire::{checksum, EtherType, IpProto};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire as smol;

#[global_allocator]
static ALLOC: support::CountingAlloc = support::CountingAlloc;

const CHECKSUM_SIZES: [usize; 6] = [64, 256, 576, 1500, 4096, 9000];

/// The RFC 1071 sum as usually written, one 16-bit word per step: the baseline the
/// eight-bytes-per-step implementation is measured against (smoltcp's is of this kind but
/// not public).
fn word_at_a_time_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn bench_checksum(c: &mut Criterion) {
    let data: Vec<u8> = (0..9000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut group = c.benchmark_group("checksum");
    for size in CHECKSUM_SIZES {
        let bytes = &data[..size];
        assert_eq!(checksum::checksum(bytes), word_at_a_time_checksum(bytes));
        support::report_zero_allocs(&format!("checksum/{size}"), || {
            black_box(checksum::checksum(black_box(bytes)));
        });
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("netstack", size), bytes, |b, bytes| {
            b.iter(|| checksum::checksum(black_box(bytes)))
        });
        group.bench_with_input(BenchmarkId::new("rfc1071_word_loop", size), bytes, |b, bytes| {
            b.iter(|| word_at_a_time_checksum(black_box(bytes)))
        });
    }
    group.finish();
}

/// Parses Ethernet, IPv4 and TCP in place and returns something of every layer.
fn parse_netstack(frame: &[u8]) -> (EtherType, u8, u32, Option<u32>) {
    let mut buf = Buf::from_body(frame);
    let eth = buf.parse::<EthernetFrame<_>>(()).expect("ethernet");
    let ethertype = eth.ethertype();
    let ip = buf.parse::<Ipv4Packet<_>>(()).expect("ipv4");
    let (ttl, addrs) = (ip.ttl(), (ip.src_ip(), ip.dst_ip()));
    let tcp = buf.parse::<TcpSegment<_, Ipv4Addr>>(addrs).expect("tcp");
    (ethertype, ttl, tcp.seq_num(), tcp.options().timestamp.map(|t| t.value))
}

/// The same with smoltcp's representations, which also verify checksums and decode options.
fn parse_smoltcp(frame: &[u8]) -> (u16, u8, u32, Option<u32>) {
    let caps = ChecksumCapabilities::default();
    let eth = smol::EthernetFrame::new_checked(frame).expect("ethernet");
    let ethertype = u16::from(eth.ethertype());
    let ip = smol::Ipv4Packet::new_checked(eth.payload()).expect("ipv4");
    let ip_repr = smol::Ipv4Repr::parse(&ip, &caps).expect("ipv4");
    let tcp = smol::TcpPacket::new_checked(ip.payload()).expect("tcp");
    let (src, dst) = (ip_repr.src_addr.into(), ip_repr.dst_addr.into());
    let tcp_repr = smol::TcpRepr::parse(&tcp, &src, &dst, &caps).expect("tcp");
    (ethertype, ip_repr.hop_limit, tcp_repr.seq_number.0 as u32, tcp_repr.timestamp.map(|t| t.tsval))
}

fn bench_parse(c: &mut Criterion) {
    let frames = || vectors::frames(vectors::TCP_SACK_TS);
    let data = frames().find(|f| f.len() == 1514).expect("a full-size data segment");
    let sack_ack = frames().find(|f| f.len() == 86).expect("an ACK with two SACK blocks");
    let mut group = c.benchmark_group("parse_eth_ipv4_tcp");
    for (name, frame) in [("data_1514", data), ("sack_ack_86", sack_ack)] {
        assert_eq!(parse_netstack(frame).2, parse_smoltcp(frame).2, "both parse the same segment");
        support::report_zero_allocs(&format!("parse_eth_ipv4_tcp/{name}"), || {
            black_box(parse_netstack(black_box(frame)));
        });
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("netstack", name), frame, |b, f| {
            b.iter(|| parse_netstack(black_box(f)))
        });
        group.bench_with_input(BenchmarkId::new("smoltcp", name), frame, |b, f| {
            b.iter(|| parse_smoltcp(black_box(f)))
        });
    }
    group.finish();
}

const SRC_MAC: Mac = Mac::new([0x02, 0, 0, 0, 0, 1]);
const DST_MAC: Mac = Mac::new([0x02, 0, 0, 0, 0, 2]);
const SRC_IP: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
const DST_IP: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);
/// Headroom a TX buffer reserves for Ethernet + IPv6 + UDP headers.
const HEADROOM: usize = 14 + 40 + 8;

/// Wraps the `len`-byte payload already at `HEADROOM` of `storage` in UDP, IPv6 and Ethernet.
fn serialize_netstack(storage: &mut [u8], len: usize) -> usize {
    let udp = UdpBuilder::new(SRC_IP, DST_IP, 40000, NonZeroU16::new(7).expect("nonzero"));
    let ip = Ipv6Builder::new(SRC_IP, DST_IP, 64, IpProto::UDP);
    let eth = EthernetBuilder::new(SRC_MAC, DST_MAC, EtherType::IPV6);
    let mut buf = Buf::new(storage, HEADROOM..HEADROOM + len);
    InPlace { len }.encapsulate(udp).encapsulate(ip).encapsulate(eth).serialize_into(&mut buf).expect("room");
    buf.len()
}

/// The same with smoltcp's representations; the payload is already in place, so its emit
/// closure writes nothing.
fn serialize_smoltcp(storage: &mut [u8], len: usize) -> usize {
    let caps = ChecksumCapabilities::default();
    let (src, dst) = (core::net::Ipv6Addr::from(SRC_IP), core::net::Ipv6Addr::from(DST_IP));
    let total = HEADROOM + len;
    let mut frame = smol::EthernetFrame::new_unchecked(&mut storage[..total]);
    smol::EthernetRepr {
        src_addr: smol::EthernetAddress(SRC_MAC.bytes()),
        dst_addr: smol::EthernetAddress(DST_MAC.bytes()),
        ethertype: smol::EthernetProtocol::Ipv6,
    }
    .emit(&mut frame);
    let mut ip = smol::Ipv6Packet::new_unchecked(frame.payload_mut());
    smol::Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: smol::IpProtocol::Udp,
        payload_len: 8 + len,
        hop_limit: 64,
    }
    .emit(&mut ip);
    let mut udp = smol::UdpPacket::new_unchecked(ip.payload_mut());
    smol::UdpRepr { src_port: 40000, dst_port: 7 }.emit(
        &mut udp,
        &src.into(),
        &dst.into(),
        len,
        |_| {},
        &caps,
    );
    total
}

fn bench_serialize(c: &mut Criterion) {
    let mut group = c.benchmark_group("serialize_eth_ipv6_udp");
    for len in [64usize, 512, 1452] {
        let mut ours = vec![0u8; HEADROOM + len];
        for (i, b) in ours[HEADROOM..].iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        let mut theirs = ours.clone();
        assert_eq!(serialize_netstack(&mut ours, len), serialize_smoltcp(&mut theirs, len));
        assert_eq!(ours, theirs, "both write the same frame");
        support::report_zero_allocs(&format!("serialize_eth_ipv6_udp/{len}"), || {
            black_box(serialize_netstack(black_box(&mut ours), len));
        });
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("netstack", len), |b| {
            b.iter(|| serialize_netstack(black_box(&mut ours), len))
        });
        group.bench_function(BenchmarkId::new("smoltcp", len), |b| {
            b.iter(|| serialize_smoltcp(black_box(&mut theirs), len))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_checksum, bench_parse, bench_serialize);
criterion_main!(benches);
