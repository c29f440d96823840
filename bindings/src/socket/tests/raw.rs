//! Raw IP sockets end to end (`fuchsia.posix.socket.raw`): ICMP echo through a raw ICMP
//! socket (replies with their IPv4 header) and a raw ICMPv6 socket (no IPv6 header; the
//! stack fills in the checksum), and the raw options with Linux's answers.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use netstack_fidl::client::SyncClient;
use netstack_fidl::fuchsia_net::{Ipv4Address, Ipv4SocketAddress, SocketAddress};
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{base_network_socket, unknown, Domain, Empty};
use netstack_fidl::fuchsia_posix_socket_raw::{
    provider, socket, Icmpv6Filter, Ipv6ChecksumConfiguration, ProtocolAssociation,
};

use super::super::header::DatagramHeader;
use super::super::ServerConfig;
use super::{next_packet, readable, with_two_dual_stack_hosts, with_two_hosts, Clients, SECOND};

/// ICMP and ICMPv6.
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;
/// 2001:db8::`last`.
fn doc6(last: u8) -> [u8; 16] {
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last]
}

/// A raw socket of `domain` and protocol `proto`: its control client and data-plane fd.
pub(super) fn raw(provider: &SyncClient, domain: Domain, proto: u8) -> (SyncClient, OwnedFd) {
    let channel = provider
        .call::<provider::Socket>((domain, ProtocolAssociation::Associated(proto)))
        .expect("call")
        .expect("raw socket");
    let client = SyncClient::new(channel);
    let described = client.call::<socket::Describe>(()).expect("describe");
    assert_eq!((described.tx_meta_buf_size, described.rx_meta_buf_size), (Some(32), Some(32)));
    (client, described.socket.expect("data plane"))
}

/// The Internet checksum (RFC 1071) of `bytes`.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 =
        bytes.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Echo Request of `msg_type` (8 for ICMP, 128 for ICMPv6): identifier, sequence number
/// and payload; the checksum filled in (ICMPv6's is the stack's to fill in: left 0).
fn echo_request(msg_type: u8, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut message = vec![msg_type, 0, 0, 0];
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(payload);
    if msg_type == 8 {
        let sum = checksum(&message);
        message[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    message
}

/// Sends `message` to the address `to` names, then waits up to `wait` for a packet whose
/// payload `wanted` accepts, skipping others (and error records); returns its header and
/// payload.
fn exchange(
    fd: &OwnedFd,
    to: DatagramHeader,
    message: &[u8],
    wait: Duration,
    wanted: impl Fn(&[u8]) -> bool,
) -> Option<(DatagramHeader, Vec<u8>)> {
    let mut packet = to.to_bytes().to_vec();
    packet.extend_from_slice(message);
    rustix::io::write(fd, &packet).expect("send");
    // Error records and packets of no interest are skipped.
    next_packet(fd, wait, |header, payload| wanted(payload).then(|| (header, payload.to_vec())))
}

#[test]
fn a_raw_icmp_socket_pings_and_reads_the_reply_with_its_ipv4_header() {
    let (results, _, b) = with_two_hosts(ServerConfig::default(), |Clients { a_raw, b_raw, .. }| {
        // A raw ICMP socket on A sees the request too, beside A's own answer (raw(7)).
        let (_watcher, watcher_fd) = raw(&a_raw, Domain::Ipv4, ICMP);
        let unassociated = b_raw
            .call::<provider::Socket>((Domain::Ipv4, ProtocolAssociation::Unassociated(Empty {})))
            .expect("call")
            .map(drop);
        let (socket, fd) = raw(&b_raw, Domain::Ipv4, ICMP);
        let info = socket.call::<socket::GetInfo>(()).expect("call");
        let query = socket.call::<unknown::Query>(()).expect("call");
        let hdrincl = (
            socket.call::<socket::GetIpHeaderIncluded>(()).expect("call"),
            socket.call::<socket::SetIpHeaderIncluded>(true).expect("call"),
            socket.call::<socket::SetIpHeaderIncluded>(false).expect("call"),
        );
        let v6_options = (
            socket.call::<socket::GetIpv6Checksum>(()).expect("call"),
            socket.call::<socket::SetIcmpv6Filter>(Icmpv6Filter::default()).expect("call"),
        );
        let name = socket.call::<base_network_socket::GetSockName>(()).expect("call");

        let request = echo_request(8, 0x1234, 1, b"raw ping");
        let to = DatagramHeader::V4 { addr: [192, 0, 2, 1], port: 0 };
        let reply = exchange(&fd, to, &request, 5 * SECOND, |p| {
            let header_len = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
            p.len() > header_len && p[9] == ICMP && p[header_len] == 0
        });
        let mut buf = [0; 512];
        let seen = readable(watcher_fd.as_fd(), 5 * SECOND)
            .then(|| rustix::io::read(&watcher_fd, &mut buf).expect("recv"))
            .map(|n| buf[..n].to_vec());
        (unassociated, info, query, hdrincl, v6_options, name, reply, seen)
    });
    let (unassociated, info, query, hdrincl, v6_options, name, reply, seen) = results;
    assert_eq!(unassociated, Err(Errno::EPROTONOSUPPORT));
    assert_eq!(info, Ok((Domain::Ipv4, ProtocolAssociation::Associated(ICMP))));
    assert_eq!(query, b"fuchsia.posix.socket.raw/Socket");
    assert_eq!(hdrincl, (Ok(false), Err(Errno::EOPNOTSUPP), Ok(())));
    assert_eq!(v6_options, (Err(Errno::ENOPROTOOPT), Err(Errno::ENOPROTOOPT)));
    // Linux names a raw socket's port after its protocol.
    assert_eq!(
        name,
        Ok(SocketAddress::Ipv4(Ipv4SocketAddress { address: Ipv4Address { addr: [0; 4] }, port: 1 }))
    );

    let (from, packet) = reply.expect("an echo reply");
    assert_eq!(from, DatagramHeader::V4 { addr: [192, 0, 2, 1], port: 0 });
    // The IPv4 header first, as on Linux: version 4, ICMP, from A to B.
    let header_len = usize::from(packet[0] & 0x0f) * 4;
    assert_eq!(packet[0] >> 4, 4);
    assert_eq!(usize::from(u16::from_be_bytes([packet[2], packet[3]])), packet.len());
    assert_eq!((&packet[12..16], &packet[16..20]), (&[192, 0, 2, 1][..], &[192, 0, 2, 2][..]));
    let icmp = &packet[header_len..];
    assert_eq!(icmp[0], 0, "Echo Reply");
    assert_eq!(&icmp[4..], &echo_request(8, 0x1234, 1, b"raw ping")[4..], "same id, sequence, data");
    assert_eq!(checksum(icmp), 0, "the reply's checksum verifies");
    let seen = seen.expect("A's raw socket sees the request");
    let (from, request) = DatagramHeader::parse(&seen).expect("header");
    assert_eq!(from, DatagramHeader::V4 { addr: [192, 0, 2, 2], port: 0 });
    assert_eq!(request[usize::from(request[0] & 0x0f) * 4], 8, "Echo Request");
    let counters = b.socket_server().expect("server").counters();
    assert_eq!(counters.raw_sockets, 0, "closed with the test");
    assert!(counters.datagrams_sent >= 1 && counters.datagrams_delivered >= 1, "{counters:?}");
}

#[test]
fn a_raw_icmpv6_socket_pings_without_the_ipv6_header_and_the_stack_checksums() {
    let (results, _, _) = with_two_dual_stack_hosts(ServerConfig::default(), |Clients { b_raw, .. }| {
        let (socket, fd) = raw(&b_raw, Domain::Ipv6, ICMPV6);
        let checksum_options = (
            socket.call::<socket::GetIpv6Checksum>(()).expect("call"),
            socket.call::<socket::SetIpv6Checksum>(Ipv6ChecksumConfiguration::Offset(4)).expect("call"),
            socket
                .call::<socket::SetIpv6Checksum>(Ipv6ChecksumConfiguration::Disabled(Empty {}))
                .expect("call"),
        );
        let v6only = socket.call::<base_network_socket::SetIpv6Only>(true).expect("call");
        // Only Echo Replies pass: neighbour discovery and the rest stay out.
        let mut blocked_types = [u32::MAX; 8];
        blocked_types[129 / 32] &= !(1 << (129 % 32));
        let filter = Icmpv6Filter { blocked_types };
        socket.call::<socket::SetIcmpv6Filter>(filter).expect("call").expect("filter");
        let filter_back = socket.call::<socket::GetIcmpv6Filter>(()).expect("call");

        // A raw IPv6 socket of another protocol: no ICMPv6 filter, no checksum of ours.
        let (udp_raw, _) = raw(&b_raw, Domain::Ipv6, 17);
        let other = (
            udp_raw.call::<socket::GetIcmpv6Filter>(()).expect("call"),
            udp_raw.call::<socket::GetIpv6Checksum>(()).expect("call"),
        );

        // Until DAD passes the addresses are tentative: ask again until a reply comes.
        let to = DatagramHeader::V6 { addr: doc6(1), port: 0, flowinfo: 0, scope_id: 0 };
        let mut reply = None;
        for seq in 1..=20 {
            let request = echo_request(128, 0x4321, seq, b"raw ping6");
            reply = exchange(&fd, to, &request, Duration::from_millis(300), |p| p.first() == Some(&129));
            if reply.is_some() {
                break;
            }
        }
        (checksum_options, v6only, filter_back.map(|f| f == filter), other, reply)
    });
    let (checksum_options, v6only, filter_back, other, reply) = results;
    assert_eq!(
        checksum_options,
        (Ok(Ipv6ChecksumConfiguration::Offset(2)), Err(Errno::EINVAL), Err(Errno::EINVAL)),
        "ICMPv6's checksum is always the stack's (RFC 3542 §3.1)"
    );
    assert_eq!(v6only, Err(Errno::EINVAL));
    assert_eq!(filter_back, Ok(true));
    assert_eq!(other, (Err(Errno::EOPNOTSUPP), Ok(Ipv6ChecksumConfiguration::Disabled(Empty {}))));

    let (from, message) = reply.expect("an echo reply");
    assert_eq!(from, DatagramHeader::V6 { addr: doc6(1), port: 0, flowinfo: 0, scope_id: 0 });
    // No IPv6 header: the ICMPv6 message itself, echoing identifier, sequence and data.
    assert_eq!(message[0], 129, "Echo Reply");
    assert_eq!(&message[4..6], &0x4321_u16.to_be_bytes());
    assert_eq!(&message[8..], b"raw ping6");
}
