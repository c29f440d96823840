//! Link-local addresses and their zones (RFC 4007 §6) on stream sockets end to end: the
//! zone picks the interface to connect through, and names reported for link-local
//! addresses carry the interface the connection is tied to, as Linux's `sin6_scope_id`.

use std::os::fd::AsFd;
use std::time::Duration;

use netstack_fidl::client::SyncClient;
use netstack_fidl::fuchsia_net::{IpAddress, Ipv6Address, Ipv6SocketAddress, SocketAddress};
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    base_network_socket, base_socket, provider, stream_socket, Domain,
};

use super::super::ServerConfig;
use super::{accept, stream_in, with_two_dual_stack_hosts, writable, Clients, SECOND};

/// The interface index and link-local address of the one interface behind `provider`.
fn link_local(provider: &SyncClient) -> (u64, [u8; 16]) {
    let interfaces = provider.call::<provider::GetInterfaceAddresses>(()).expect("call");
    let [interface] = &interfaces[..] else { panic!("{interfaces:?}") };
    let addr = interface
        .addresses
        .iter()
        .flatten()
        .find_map(|s| match s.addr {
            IpAddress::Ipv6(Ipv6Address { addr }) if addr[..2] == [0xfe, 0x80] => Some(addr),
            _ => None,
        })
        .expect("a link-local address");
    (interface.id.expect("id"), addr)
}

fn v6(addr: [u8; 16], port: u16, zone_index: u64) -> SocketAddress {
    SocketAddress::Ipv6(Ipv6SocketAddress { address: Ipv6Address { addr }, port, zone_index })
}

#[test]
fn link_local_connections_carry_the_zone_of_their_interface() {
    let (results, _, _) = with_two_dual_stack_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        let ((a_index, a_ll), (b_index, b_ll)) = (link_local(&a), link_local(&b));
        let (listener, _) = stream_in(&a, Domain::Ipv6);
        listener.call::<base_network_socket::Bind>(v6([0; 16], 8093, 0)).expect("call").expect("bind");
        listener.call::<stream_socket::Listen>(4).expect("call").expect("listen");

        // Until DAD passes the link-local addresses are tentative: try again until connected.
        let mut connected = None;
        for _ in 0..30 {
            let (conn, fd) = stream_in(&b, Domain::Ipv6);
            // From B's link-local address, or source selection could pick its global one.
            if conn.call::<base_network_socket::Bind>(v6(b_ll, 0, b_index)).expect("call").is_err() {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            let r = conn.call::<base_network_socket::Connect>(v6(a_ll, 8093, b_index)).expect("call");
            // While B's address is tentative there is no source to connect from.
            assert!(matches!(r, Err(Errno::EINPROGRESS | Errno::EADDRNOTAVAIL)), "{r:?}");
            if r == Err(Errno::EINPROGRESS)
                && writable(fd.as_fd(), SECOND)
                && conn.call::<base_socket::GetError>(()).expect("call") == Ok(())
            {
                connected = Some((conn, fd));
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let (conn, _fd) = connected.expect("connected over link-local addresses");
        let conn_names = (
            conn.call::<base_network_socket::GetPeerName>(()).expect("call"),
            conn.call::<base_network_socket::GetSockName>(()).expect("call"),
        );
        let (peer, server) = accept(&listener);
        let server_name = server.call::<base_network_socket::GetSockName>(()).expect("call");

        // Binding a link-local address needs a zone naming an interface.
        let (unzoned, _) = stream_in(&b, Domain::Ipv6);
        let no_zone = unzoned.call::<base_network_socket::Bind>(v6(b_ll, 0, 0)).expect("call");
        let no_such = unzoned.call::<base_network_socket::Bind>(v6(b_ll, 0, 99)).expect("call");
        let zoned = unzoned.call::<base_network_socket::Bind>(v6(b_ll, 0, b_index)).expect("call");
        // Connecting to one needs a zone too.
        let (unscoped, _) = stream_in(&b, Domain::Ipv6);
        let no_scope = unscoped.call::<base_network_socket::Connect>(v6(a_ll, 8093, 0)).expect("call");
        let indices = (a_index, a_ll, b_index, b_ll);
        (indices, conn_names, peer, server_name, (no_zone, no_such, zoned, no_scope))
    });
    let ((a_index, a_ll, b_index, b_ll), conn_names, peer, server_name, binds) = results;
    assert_eq!(conn_names.0, Ok(v6(a_ll, 8093, b_index)));
    let Ok(SocketAddress::Ipv6(local)) = conn_names.1 else { panic!("{:?}", conn_names.1) };
    assert_eq!((local.address.addr, local.zone_index), (b_ll, b_index));
    assert_eq!(peer, Some(v6(b_ll, local.port, a_index)), "the accepted peer's zone is A's interface");
    assert_eq!(server_name, Ok(v6(a_ll, 8093, a_index)));
    assert_eq!(binds, (Err(Errno::EINVAL), Err(Errno::ENODEV), Ok(()), Err(Errno::EINVAL)));
}
