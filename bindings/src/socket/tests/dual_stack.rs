//! Dual-stack `AF_INET6` sockets end to end (RFC 3493 §3.7): IPv4 peers seen through
//! IPv4-mapped addresses, and `IPV6_V6ONLY` with Linux's errnos.

use std::os::fd::AsFd;

use netstack_fidl::client::SyncClient;
use netstack_fidl::fuchsia_net::{Ipv6Address, Ipv6SocketAddress, SocketAddress};
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    base_network_socket, base_socket, stream_socket, Domain, StreamSocketProtocol,
};

use super::super::header::{DatagramHeader, HEADER_LEN};
use super::super::ServerConfig;
use super::{
    accept, readable, stream, stream_in, udp, udp_in, v4, with_two_hosts, writable, Clients, SECOND,
};

/// The IPv6 wildcard and `port`.
fn any6(port: u16) -> SocketAddress {
    v6([0; 16], port)
}

/// `addr`:`port` as an IPv6 socket address.
fn v6(addr: [u8; 16], port: u16) -> SocketAddress {
    SocketAddress::Ipv6(Ipv6SocketAddress { address: Ipv6Address { addr }, port, zone_index: 0 })
}

/// `::ffff:192.0.2.last`.
fn mapped_addr(last: u8) -> [u8; 16] {
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, last]
}

/// `[::ffff:192.0.2.last]:port`.
fn mapped(last: u8, port: u16) -> SocketAddress {
    v6(mapped_addr(last), port)
}

fn set_v6only(socket: &SyncClient, on: bool) -> Result<(), Errno> {
    socket.call::<base_network_socket::SetIpv6Only>(on).expect("call")
}

#[test]
fn a_dual_stack_listener_accepts_ipv4_as_mapped_ipv6_and_connects_to_mapped_peers() {
    let (names, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        // A listens on [::]:8090, dual-stack by default.
        let (listener, _) = stream_in(&a, Domain::Ipv6);
        let default_v6only = listener.call::<base_network_socket::GetIpv6Only>(()).expect("call");
        listener.call::<base_network_socket::Bind>(any6(8090)).expect("call").expect("bind");
        listener.call::<stream_socket::Listen>(4).expect("call").expect("listen");

        // B connects over IPv4 from an AF_INET socket.
        let (conn, conn_fd) = stream(&b);
        assert_eq!(
            conn.call::<base_network_socket::Connect>(v4(1, 8090)).expect("call"),
            Err(Errno::EINPROGRESS)
        );
        assert!(writable(conn_fd.as_fd(), 5 * SECOND), "connected");
        let (peer, server) = accept(&listener);
        let info = server.call::<stream_socket::GetInfo>(()).expect("call");
        let local = server.call::<base_network_socket::GetSockName>(()).expect("call");
        let remote = server.call::<base_network_socket::GetPeerName>(()).expect("call");

        // Bytes flow both ways through the mapped connection.
        let server_fd = server.call::<stream_socket::Describe>(()).expect("describe").socket.expect("fd");
        rustix::io::write(&conn_fd, b"over ipv4").expect("write");
        assert!(readable(server_fd.as_fd(), 5 * SECOND));
        let mut buf = [0; 32];
        let n = rustix::io::read(&server_fd, &mut buf).expect("read");
        assert_eq!(&buf[..n], b"over ipv4");
        rustix::io::write(&server_fd, b"mapped back").expect("write");
        assert!(readable(conn_fd.as_fd(), 5 * SECOND));
        let n = rustix::io::read(&conn_fd, &mut buf).expect("read");
        assert_eq!(&buf[..n], b"mapped back");

        // B connects from an AF_INET6 socket to A's mapped address: IPv4 on the wire.
        let (conn6, conn6_fd) = stream_in(&b, Domain::Ipv6);
        let r = conn6.call::<base_network_socket::Connect>(mapped(1, 8090)).expect("call");
        assert_eq!(r, Err(Errno::EINPROGRESS));
        assert!(writable(conn6_fd.as_fd(), 5 * SECOND), "connected over IPv4");
        assert_eq!(conn6.call::<base_socket::GetError>(()).expect("call"), Ok(()));
        let conn6_peer = conn6.call::<base_network_socket::GetPeerName>(()).expect("call");
        let conn6_local = conn6.call::<base_network_socket::GetSockName>(()).expect("call");
        let (second_peer, _) = accept(&listener);
        (default_v6only, peer, info, local, remote, conn6_peer, conn6_local, second_peer)
    });
    let (default_v6only, peer, info, local, remote, conn6_peer, conn6_local, second_peer) = names;
    assert_eq!(default_v6only, Ok(false), "dual-stack by default (bindv6only 0)");
    let Some(SocketAddress::Ipv6(peer)) = peer else { panic!("{peer:?}") };
    assert_eq!(peer.address.addr, mapped_addr(2));
    assert_eq!(info, Ok((Domain::Ipv6, StreamSocketProtocol::Tcp)));
    assert_eq!(local, Ok(mapped(1, 8090)));
    assert_eq!(remote, Ok(SocketAddress::Ipv6(peer)));
    assert_eq!(conn6_peer, Ok(mapped(1, 8090)));
    let Ok(SocketAddress::Ipv6(conn6_local)) = conn6_local else { panic!("{conn6_local:?}") };
    assert_eq!(conn6_local.address.addr, mapped_addr(2));
    assert_eq!(second_peer, Some(SocketAddress::Ipv6(conn6_local)));
}

#[test]
fn ipv6_only_refuses_ipv4_as_linux_does() {
    let (results, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        // A listens on [::]:8091, IPv6 only: an IPv4 connection finds nobody (RST).
        let (listener, _) = stream_in(&a, Domain::Ipv6);
        let set = set_v6only(&listener, true);
        let get = listener.call::<base_network_socket::GetIpv6Only>(()).expect("call");
        listener.call::<base_network_socket::Bind>(any6(8091)).expect("call").expect("bind");
        let after_bind = set_v6only(&listener, false);
        listener.call::<stream_socket::Listen>(4).expect("call").expect("listen");
        let (conn, conn_fd) = stream(&b);
        assert_eq!(
            conn.call::<base_network_socket::Connect>(v4(1, 8091)).expect("call"),
            Err(Errno::EINPROGRESS)
        );
        assert!(writable(conn_fd.as_fd(), 5 * SECOND), "the connect finished");
        let refused = conn.call::<base_socket::GetError>(()).expect("call");

        // Mapped addresses on an IPv6-only socket: bind EINVAL, connect ENETUNREACH.
        let (only, _) = stream_in(&a, Domain::Ipv6);
        set_v6only(&only, true).expect("v6only");
        let bind_mapped = only.call::<base_network_socket::Bind>(mapped(1, 0)).expect("call");
        let connect_mapped = only.call::<base_network_socket::Connect>(mapped(2, 80)).expect("call");
        // AF_INET on an AF_INET6 stream socket: EAFNOSUPPORT, dual-stack or not.
        let (dual, _) = stream_in(&a, Domain::Ipv6);
        let bind_inet = dual.call::<base_network_socket::Bind>(v4(1, 0)).expect("call");
        let connect_inet = dual.call::<base_network_socket::Connect>(v4(2, 80)).expect("call");
        // IPV6_V6ONLY is an IPv6 option: ENOPROTOOPT on an AF_INET socket.
        let (inet, _) = stream(&a);
        let on_inet = set_v6only(&inet, true);
        (set, get, after_bind, refused, bind_mapped, connect_mapped, bind_inet, connect_inet, on_inet)
    });
    assert_eq!(results.0, Ok(()));
    assert_eq!(results.1, Ok(true));
    assert_eq!(results.2, Err(Errno::EINVAL), "IPV6_V6ONLY after bind");
    assert_eq!(results.3, Err(Errno::ECONNREFUSED), "no IPv4 listener");
    assert_eq!(results.4, Err(Errno::EINVAL), "bind to a mapped address with IPV6_V6ONLY");
    assert_eq!(results.5, Err(Errno::ENETUNREACH), "connect to a mapped address with IPV6_V6ONLY");
    assert_eq!(results.6, Err(Errno::EAFNOSUPPORT));
    assert_eq!(results.7, Err(Errno::EAFNOSUPPORT));
    assert_eq!(results.8, Err(Errno::ENOPROTOOPT));
}

#[test]
fn dual_stack_udp_names_ipv4_sources_mapped_in_the_header() {
    let (results, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        // A's AF_INET6 socket on [::]:5354 hears B's IPv4 datagram.
        let (server, server_fd) = udp_in(&a, Domain::Ipv6);
        server.call::<base_network_socket::Bind>(any6(5354)).expect("call").expect("bind");
        let (client, client_fd) = udp(&b);
        client.call::<base_network_socket::Bind>(v4(2, 4444)).expect("call").expect("bind");
        let mut packet = DatagramHeader::V4 { addr: [192, 0, 2, 1], port: 5354 }.to_bytes().to_vec();
        packet.extend_from_slice(b"to a dual-stack socket");
        rustix::io::write(&client_fd, &packet).expect("send");
        assert!(readable(server_fd.as_fd(), 5 * SECOND), "the datagram arrives");
        let mut buf = [0; 256];
        let n = rustix::io::read(&server_fd, &mut buf).expect("recv");
        let (from, payload) = DatagramHeader::parse(&buf[..n]).expect("header");
        assert_eq!(payload, b"to a dual-stack socket");

        // The answer goes to the mapped source: IPv4 on the wire, an AF_INET source at B.
        let mut answer = from.to_bytes().to_vec();
        answer.extend_from_slice(b"answer");
        rustix::io::write(&server_fd, &answer).expect("send");
        assert!(readable(client_fd.as_fd(), 5 * SECOND), "the answer arrives");
        let n = rustix::io::read(&client_fd, &mut buf).expect("recv");
        let (answered_from, answer) = DatagramHeader::parse(&buf[..n]).expect("header");
        assert_eq!(answer, b"answer");
        let name = server.call::<base_network_socket::GetSockName>(()).expect("call");

        // IPv6-only: AF_INET connect is EAFNOSUPPORT, a mapped destination ENETUNREACH (as
        // an error record, the send's errno).
        let (only, only_fd) = udp_in(&a, Domain::Ipv6);
        set_v6only(&only, true).expect("v6only");
        let connect_inet = only.call::<base_network_socket::Connect>(v4(2, 4444)).expect("call");
        let connect_mapped = only.call::<base_network_socket::Connect>(mapped(2, 4444)).expect("call");
        let mut probe = DatagramHeader::V6 { addr: mapped_addr(2), port: 4444, flowinfo: 0, scope_id: 0 }
            .to_bytes()
            .to_vec();
        probe.extend_from_slice(b"x");
        rustix::io::write(&only_fd, &probe).expect("send");
        assert!(readable(only_fd.as_fd(), 5 * SECOND), "the error record arrives");
        let n = rustix::io::read(&only_fd, &mut buf).expect("recv");
        assert_eq!(n, HEADER_LEN);
        let record = i32::from_le_bytes([buf[24], buf[25], buf[26], buf[27]]);
        (from, answered_from, name, connect_inet, connect_mapped, (buf[0], buf[1], record))
    });
    let (from, answered_from, name, connect_inet, connect_mapped, record) = results;
    assert_eq!(from, DatagramHeader::V6 { addr: mapped_addr(2), port: 4444, flowinfo: 0, scope_id: 0 });
    assert_eq!(answered_from, DatagramHeader::V4 { addr: [192, 0, 2, 1], port: 5354 });
    assert_eq!(name, Ok(any6(5354)));
    assert_eq!(connect_inet, Err(Errno::EAFNOSUPPORT));
    assert_eq!(connect_mapped, Err(Errno::ENETUNREACH));
    assert_eq!(record, (0xff, 0xff, 101), "ENETUNREACH as an error record");
}

#[test]
fn a_dual_stack_socket_bound_to_a_mapped_address_listens_on_ipv4() {
    let (results, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        let (listener, _) = stream_in(&a, Domain::Ipv6);
        let bound = listener.call::<base_network_socket::Bind>(mapped(1, 8094)).expect("call");
        let name = listener.call::<base_network_socket::GetSockName>(()).expect("call");
        listener.call::<stream_socket::Listen>(4).expect("call").expect("listen");
        let (conn, conn_fd) = stream(&b);
        let r = conn.call::<base_network_socket::Connect>(v4(1, 8094)).expect("call");
        assert_eq!(r, Err(Errno::EINPROGRESS));
        assert!(writable(conn_fd.as_fd(), 5 * SECOND), "connected");
        let connected = conn.call::<base_socket::GetError>(()).expect("call");
        let (peer, _) = accept(&listener);
        (bound, name, connected, peer)
    });
    let (bound, name, connected, peer) = results;
    assert_eq!(bound, Ok(()));
    assert_eq!(name, Ok(mapped(1, 8094)));
    assert_eq!(connected, Ok(()));
    let Some(SocketAddress::Ipv6(peer)) = peer else { panic!("{peer:?}") };
    assert_eq!(peer.address.addr, mapped_addr(2));
}
