//! The IP header options of stream sockets end to end: IP_TTL and IP_TOS set through
//! `BaseNetworkSocket` are seen on the wire by a raw TCP socket on the peer (which gets the
//! IPv4 header, as on Linux), accepted sockets inherit the listener's, and the errnos and
//! read-backs are Linux's (IP_TTL 0 is EINVAL, unset reads 64, the ECN bits of IP_TOS and
//! IPV6_TCLASS stay the stack's, IPV6_UNICAST_HOPS 0 is allowed).

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use netstack_fidl::client::SyncClient;
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    base_network_socket as n, stream_socket, Domain, Empty, OptionalUint8,
};

use super::super::ServerConfig;
use super::raw::raw;
use super::{accept, any, next_packet, stream, stream_in, v4, with_two_hosts, writable, Clients, SECOND};

const TCP: u8 = 6;

/// The TTL and TOS of the first segment to `dst_port` `fd` sees within `wait`, with its TCP
/// flags.
fn first_segment_to(fd: &OwnedFd, dst_port: u16, wait: Duration) -> Option<(u8, u8, u8)> {
    next_packet(fd, wait, |_, packet| {
        let header_len = usize::from(packet.first().map_or(0, |b| b & 0x0f)) * 4;
        let tcp = packet.get(header_len..header_len + 20)?;
        (u16::from_be_bytes([tcp[2], tcp[3]]) == dst_port).then(|| (packet[8], packet[1], tcp[13]))
    })
}

fn set_ttl(s: &SyncClient, value: OptionalUint8) -> Result<(), Errno> {
    s.call::<n::SetIpTtl>(value).expect("call")
}

fn ttl(s: &SyncClient) -> Result<u8, Errno> {
    s.call::<n::GetIpTtl>(()).expect("call")
}

fn tos(s: &SyncClient) -> Result<u8, Errno> {
    s.call::<n::GetIpTypeOfService>(()).expect("call")
}

#[test]
fn ip_ttl_and_ip_tos_of_a_stream_socket_reach_the_wire_and_accepted_sockets_inherit_them() {
    let (results, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, b, b_raw, .. }| {
        let (_raw, raw_fd) = raw(&b_raw, Domain::Ipv4, TCP);
        let (listener, _) = stream(&b);
        set_ttl(&listener, OptionalUint8::Value(33)).expect("IP_TTL");
        listener.call::<n::SetIpTypeOfService>(0x2a).expect("call").expect("IP_TOS");
        listener.call::<n::Bind>(any(8100)).expect("call").expect("bind");
        listener.call::<stream_socket::Listen>(4).expect("call").expect("listen");

        let (conn, conn_fd) = stream(&a);
        let zero = set_ttl(&conn, OptionalUint8::Value(0));
        set_ttl(&conn, OptionalUint8::Value(17)).expect("IP_TTL");
        // DSCP EF with ECT(1): the ECN bits are TCP's own.
        conn.call::<n::SetIpTypeOfService>(0xb9).expect("call").expect("IP_TOS");
        let set = (ttl(&conn), tos(&conn));
        let v6_options = (
            conn.call::<n::SetIpv6UnicastHops>(OptionalUint8::Value(5)).expect("call"),
            conn.call::<n::SetIpv6TrafficClass>(OptionalUint8::Value(5)).expect("call"),
        );
        let r = conn.call::<n::Connect>(v4(2, 8100)).expect("call");
        assert_eq!(r, Err(Errno::EINPROGRESS));
        assert!(writable(conn_fd.as_fd(), 5 * SECOND), "connected");
        let syn = first_segment_to(&raw_fd, 8100, 5 * SECOND);
        let (_, server) = accept(&listener);
        let inherited = (ttl(&server), tos(&server));

        set_ttl(&conn, OptionalUint8::Unset(Empty {})).expect("IP_TTL -1");
        let unset = ttl(&conn);
        (zero, set, v6_options, syn, inherited, unset)
    });
    let (zero, set, v6_options, syn, inherited, unset) = results;
    assert_eq!(zero, Err(Errno::EINVAL));
    assert_eq!(set, (Ok(17), Ok(0xb8)));
    assert_eq!(v6_options, (Err(Errno::ENOPROTOOPT), Err(Errno::ENOPROTOOPT)), "SOL_IPV6 on AF_INET");
    let (wire_ttl, wire_tos, flags) = syn.expect("B's raw socket saw the SYN");
    assert_eq!((wire_ttl, wire_tos, flags), (17, 0xb8, 0x02), "the SYN carries IP_TTL and IP_TOS");
    assert_eq!(inherited, (Ok(33), Ok(0x28)));
    assert_eq!(unset, Ok(64), "unset reads back the default");
}

#[test]
fn an_ipv6_stream_socket_keeps_ipv6_unicast_hops_and_ip_ttl_apart() {
    let (results, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, .. }| {
        let (s, _) = stream_in(&a, Domain::Ipv6);
        let hops = |s: &SyncClient| s.call::<n::GetIpv6UnicastHops>(()).expect("call");
        let class = |s: &SyncClient| s.call::<n::GetIpv6TrafficClass>(()).expect("call");
        let default = (hops(&s), class(&s), ttl(&s));
        let zero = s.call::<n::SetIpv6UnicastHops>(OptionalUint8::Value(0)).expect("call");
        let after_zero = hops(&s);
        s.call::<n::SetIpv6UnicastHops>(OptionalUint8::Value(200)).expect("call").expect("hops");
        s.call::<n::SetIpv6TrafficClass>(OptionalUint8::Value(0x51)).expect("call").expect("tclass");
        set_ttl(&s, OptionalUint8::Value(9)).expect("IP_TTL");
        let set = (hops(&s), class(&s), ttl(&s), tos(&s));
        s.call::<n::SetIpv6UnicastHops>(OptionalUint8::Unset(Empty {})).expect("call").expect("hops");
        s.call::<n::SetIpv6TrafficClass>(OptionalUint8::Unset(Empty {})).expect("call").expect("tclass");
        let unset = (hops(&s), class(&s), ttl(&s));
        (default, zero, after_zero, set, unset)
    });
    let (default, zero, after_zero, set, unset) = results;
    assert_eq!(default, (Ok(64), Ok(0), Ok(64)));
    assert_eq!((zero, after_zero), (Ok(()), Ok(0)), "IPV6_UNICAST_HOPS 0 is allowed");
    assert_eq!(set, (Ok(200), Ok(0x50), Ok(9), Ok(0)));
    assert_eq!(unset, (Ok(64), Ok(0), Ok(9)), "IP_TTL stays for the socket's IPv4 traffic");
}
