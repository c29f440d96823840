//! `UdpSocket` over the datagram data plane: `send_to` and `recv_from` both ways over IPv4 and
//! IPv6 with the addresses each end sees, connected sockets, datagram boundaries, and an ICMP
//! port unreachable reported to a connected socket.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use netstack_fidl::tokio_client::UdpSocket;

use crate::host::{run, two_hosts, Versions};

const LIMIT: Duration = Duration::from_secs(30);

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

/// Receives one datagram into a buffer of `capacity` bytes.
async fn receive(socket: &UdpSocket, capacity: usize) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; capacity];
    let (len, from) = socket.recv_from(&mut buf).await.expect("recv_from");
    buf.truncate(len);
    (buf, from)
}

/// A server bound on host a at `server`, a client on host b bound to `client_bind`: a question
/// and an answer with `send_to` / `recv_from`, then the same over a connected client.
async fn both_ways(
    test: &str,
    versions: Versions,
    server: SocketAddr,
    client_bind: SocketAddr,
    client_ip: &str,
) {
    let (a, b) = two_hosts(test, versions).await;
    let client_ip: IpAddr = client_ip.parse().expect("client address");
    let responder = a.open(UdpSocket::bind(server)).await.expect("bind the server");
    assert_eq!(responder.local_addr().await.expect("server's name"), server);
    let client = b.open(UdpSocket::bind(client_bind)).await.expect("bind the client");
    let unconnected = client.local_addr().await.expect("client's name");
    assert_eq!(unconnected.ip(), client_bind.ip(), "bound to the wildcard");
    assert_ne!(unconnected.port(), 0, "an ephemeral port");
    assert_eq!(client.peer_addr().await.expect_err("no peer").kind(), io::ErrorKind::NotConnected);

    assert_eq!(client.send_to(b"question", server).await.expect("send_to"), 8);
    let (question, from) = receive(&responder, 64).await;
    assert_eq!(question, b"question");
    assert_eq!(from, SocketAddr::new(client_ip, unconnected.port()), "the source is the client");
    assert_eq!(responder.send_to(b"answer", from).await.expect("send_to"), 6);
    let (answer, from) = receive(&client, 64).await;
    assert_eq!((answer.as_slice(), from), (&b"answer"[..], server));

    // Connected: the default destination, and the source address gets fixed.
    client.connect(server).await.expect("connect");
    assert_eq!(client.peer_addr().await.expect("peer"), server);
    let connected = client.local_addr().await.expect("name");
    assert_eq!(connected, SocketAddr::new(client_ip, unconnected.port()));
    assert_eq!(client.send(b"again").await.expect("send"), 5);
    let (again, from) = receive(&responder, 64).await;
    assert_eq!((again.as_slice(), from), (&b"again"[..], connected));
    responder.send_to(b"back", from).await.expect("send_to");
    let mut buf = [0u8; 64];
    let len = client.recv(&mut buf).await.expect("recv");
    assert_eq!(&buf[..len], b"back");

    let (a, b) = (a.stop(), b.stop());
    assert!(a.datagrams_delivered >= 2 && a.datagrams_sent >= 2, "{a:?}");
    assert!(b.datagrams_delivered >= 2 && b.datagrams_sent >= 2, "{b:?}");
    assert_eq!((a.datagram_malformed, b.datagram_malformed), (0, 0));
}

#[test]
fn datagrams_go_both_ways_over_ipv4() {
    run(LIMIT, both_ways("udp4", Versions::V4, addr("192.0.2.1:5353"), addr("0.0.0.0:0"), "192.0.2.2"));
}

#[test]
fn datagrams_go_both_ways_over_ipv6() {
    run(LIMIT, both_ways("udp6", Versions::Dual, addr("[2001:db8::1]:5353"), addr("[::]:0"), "2001:db8::2"));
}

#[test]
fn each_receive_takes_one_datagram_and_drops_what_does_not_fit() {
    run(LIMIT, async {
        let (a, b) = two_hosts("boundaries", Versions::V4).await;
        let server = addr("192.0.2.1:5354");
        let responder = a.open(UdpSocket::bind(server)).await.expect("bind");
        let client = b.open(UdpSocket::bind(addr("192.0.2.2:0"))).await.expect("bind");
        let long: Vec<u8> = (0..1000u16).map(|i| i as u8).collect();
        assert_eq!(client.send_to(&long, server).await.expect("send_to"), long.len());
        client.send_to(b"", server).await.expect("an empty datagram");
        client.send_to(b"next", server).await.expect("send_to");
        let (head, _) = receive(&responder, 10).await;
        assert_eq!(head, &long[..10], "truncated to the buffer");
        let (empty, _) = receive(&responder, 10).await;
        assert!(empty.is_empty(), "an empty datagram is a datagram");
        let (next, _) = receive(&responder, 10).await;
        assert_eq!(next, b"next", "the rest of the long one was dropped");
    });
}

#[test]
fn a_connected_socket_hears_of_a_closed_port_as_connection_refused() {
    run(LIMIT, async {
        let (_a, b) = two_hosts("unreachable", Versions::V4).await;
        let client = b.open(UdpSocket::bind(addr("0.0.0.0:0"))).await.expect("bind");
        client.connect(addr("192.0.2.1:9")).await.expect("connect");
        client.send(b"anyone?").await.expect("send");
        let mut buf = [0u8; 16];
        let err = client.recv(&mut buf).await.expect_err("ICMP port unreachable");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn datagrams_larger_than_the_link_mtu_are_fragmented_and_reassembled() {
    run(LIMIT, async {
        let (a, b) = two_hosts("fragments", Versions::Dual).await;
        for (server, client_bind) in
            [(addr("192.0.2.1:5355"), addr("0.0.0.0:0")), (addr("[2001:db8::1]:5355"), addr("[::]:0"))]
        {
            let responder = a.open(UdpSocket::bind(server)).await.expect("bind");
            let client = b.open(UdpSocket::bind(client_bind)).await.expect("bind");
            for len in [1473, 8000, 65000] {
                let datagram: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
                assert_eq!(client.send_to(&datagram, server).await.expect("send_to"), len);
                let (received, _) = receive(&responder, 65536).await;
                assert!(received == datagram, "{server}: {len} bytes arrive intact");
            }
        }
    });
}

#[test]
fn send_errors_come_back_on_the_next_receive() {
    run(LIMIT, async {
        let (_a, b) = two_hosts("senderrors", Versions::V4).await;
        let client = b.open(UdpSocket::bind(addr("0.0.0.0:0"))).await.expect("bind");
        // The data plane takes the datagram; the netstack's verdict arrives as an error record.
        client.send_to(b"x", addr("198.51.100.1:9")).await.expect("queued");
        let mut buf = [0u8; 16];
        let err = client.recv_from(&mut buf).await.expect_err("no route");
        assert_eq!(err.kind(), io::ErrorKind::NetworkUnreachable, "{err}");
        client.send_to(&vec![0u8; 65_508], addr("192.0.2.1:9")).await.expect("queued");
        let err = client.recv_from(&mut buf).await.expect_err("too long for IPv4");
        assert_eq!(err.raw_os_error(), Some(90), "EMSGSIZE: {err}");
    });
}
