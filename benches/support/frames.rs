//! The frames the benchmarks feed to a stack: Ethernet/IPv4/UDP and Ethernet/IPv6/UDP from a
//! peer, built with our serializers (the benchmarks check both stacks accept them).

#![allow(dead_code)]

use std::num::NonZeroU16;

use netstack_core::addr::Ipv6Addr;
use netstack_core::buf::{EmptyBody, Serializer};
use netstack_core::wire::arp::ArpBuilder;
use netstack_core::wire::ethernet::EthernetBuilder;
use netstack_core::wire::ipv4::Ipv4Builder;
use netstack_core::wire::ipv6::Ipv6Builder;
use netstack_core::wire::udp::UdpBuilder;
use netstack_core::wire::{EtherType, IpProto};

use super::addr::{mac, v4};

/// An Ethernet/IPv4/UDP frame from MAC `src_mac`, `src`:40000 to MAC `dst_mac`, `dst`:`port`
/// with TTL `ttl` and a `len`-byte payload, unpadded.
#[allow(clippy::too_many_arguments)]
pub(crate) fn udp4(
    src_mac: u8,
    dst_mac: u8,
    src: &str,
    dst: &str,
    ttl: u8,
    port: u16,
    len: usize,
) -> Vec<u8> {
    let payload = vec![0x42; len];
    let port = NonZeroU16::new(port).expect("port");
    (&payload[..])
        .encapsulate(UdpBuilder::new(v4(src), v4(dst), 40000, port))
        .encapsulate(Ipv4Builder::new(v4(src), v4(dst), ttl, IpProto::UDP))
        .encapsulate(EthernetBuilder {
            min_body_len: 0,
            ..EthernetBuilder::new(*mac(src_mac), *mac(dst_mac), EtherType::IPV4)
        })
        .serialize_vec()
        .expect("frame")
        .into_inner()
}

/// An IPv6 address; the benchmarks write only valid ones.
pub(crate) fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("address")
}

/// The IPv6 counterpart of [`udp4`], with Hop Limit `hops`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn udp6(
    src_mac: u8,
    dst_mac: u8,
    src: &str,
    dst: &str,
    hops: u8,
    port: u16,
    len: usize,
) -> Vec<u8> {
    let payload = vec![0x42; len];
    let port = NonZeroU16::new(port).expect("port");
    (&payload[..])
        .encapsulate(UdpBuilder::new(v6(src), v6(dst), 40000, port))
        .encapsulate(Ipv6Builder::new(v6(src), v6(dst), hops, IpProto::UDP))
        .encapsulate(EthernetBuilder::new(*mac(src_mac), *mac(dst_mac), EtherType::IPV6))
        .serialize_vec()
        .expect("frame")
        .into_inner()
}

/// An ARP reply from MAC `from_mac` owning `from` to MAC `to_mac` owning `to`.
pub(crate) fn arp_reply(from_mac: u8, from: &str, to_mac: u8, to: &str) -> Vec<u8> {
    EmptyBody
        .encapsulate(ArpBuilder::reply(*mac(from_mac), v4(from), *mac(to_mac), v4(to)))
        .encapsulate(EthernetBuilder::new(*mac(from_mac), *mac(to_mac), EtherType::ARP))
        .serialize_vec()
        .expect("arp")
        .into_inner()
}

/// The UDP checksum field a datagram from `src`:`sport` to `dst`:`dport` carrying `payload`
/// has, computed (`offload` false) or left to the device.
pub(crate) fn udp4_checksum(
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    payload: &[u8],
    offload: bool,
) -> [u8; 2] {
    let builder = UdpBuilder::new(v4(src), v4(dst), sport, NonZeroU16::new(dport).expect("port"));
    let builder = if offload { builder.with_checksum_offload() } else { builder };
    let datagram = payload.encapsulate(builder).serialize_vec().expect("datagram");
    [datagram.body()[6], datagram.body()[7]]
}
