//! `TcpListener` and `TcpStream` over the stream data plane: a megabyte each way at once over
//! both IP versions, half-close and end of stream, a refused connect, several connections
//! waiting in the accept queue, and a daemon that goes away under its clients.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures::future::{join, join4};
use netstack_fidl::tokio_client::{TcpListener, TcpStream};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::host::{run, two_hosts, Host, Versions};

const MEGABYTE: usize = 1 << 20;
const LIMIT: Duration = Duration::from_secs(60);

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

/// `len` bytes of a xorshift stream seeded with `seed`: no period a lost or repeated
/// segment could hide in.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Writes all of `data`, then shuts down writing (FIN after the data).
async fn send_all(mut writer: impl tokio::io::AsyncWrite + Unpin, data: &[u8]) -> io::Result<()> {
    writer.write_all(data).await?;
    writer.shutdown().await
}

/// Reads until end of stream.
async fn receive_all(mut reader: impl tokio::io::AsyncRead + Unpin) -> io::Result<Vec<u8>> {
    let mut received = Vec::new();
    reader.read_to_end(&mut received).await?;
    Ok(received)
}

/// A listener on host `a` at `server`, a client connecting from host `b`, and the accepted
/// stream; checks both ends' addresses.
async fn connected(a: &Host, b: &Host, server: SocketAddr) -> (TcpListener, TcpStream, TcpStream) {
    let listener = a.open(TcpListener::bind(server)).await.expect("bind and listen");
    assert_eq!(listener.local_addr().await.expect("listener's name"), server);
    let (client, accepted) = join(b.open(TcpStream::connect(server)), listener.accept()).await;
    let client = client.expect("connect");
    let (accepted, peer) = accepted.expect("accept");
    assert_eq!(client.peer_addr().await.expect("client's peer"), server);
    assert_eq!(client.local_addr().await.expect("client's name"), peer, "accept names the client");
    assert_ne!(peer.port(), 0);
    assert_eq!(accepted.local_addr().await.expect("server's name"), server);
    assert_eq!(accepted.peer_addr().await.expect("server's peer"), peer);
    (listener, client, accepted)
}

/// Moves a megabyte each way at once and compares SHA-256 digests of what was sent and what
/// arrived.
async fn megabyte_each_way(test: &str, versions: Versions, server: SocketAddr, client_ip: &str) {
    let (a, b) = two_hosts(test, versions).await;
    let (_listener, client, accepted) = connected(&a, &b, server).await;
    assert_eq!(client.local_addr().await.expect("name").ip(), client_ip.parse::<std::net::IpAddr>().unwrap());
    client.set_nodelay(true).await.expect("TCP_NODELAY");

    let (to_server, to_client) = (payload(1, MEGABYTE), payload(2, MEGABYTE));
    let (client_rx, client_tx) = tokio::io::split(client);
    let (server_rx, server_tx) = tokio::io::split(accepted);
    let (sent_up, sent_down, at_server, at_client) = join4(
        send_all(client_tx, &to_server),
        send_all(server_tx, &to_client),
        receive_all(server_rx),
        receive_all(client_rx),
    )
    .await;
    sent_up.expect("client writes");
    sent_down.expect("server writes");
    let (at_server, at_client) = (at_server.expect("server reads"), at_client.expect("client reads"));
    assert_eq!((at_server.len(), at_client.len()), (MEGABYTE, MEGABYTE));
    assert_eq!(Sha256::digest(&at_server), Sha256::digest(&to_server), "client to server");
    assert_eq!(Sha256::digest(&at_client), Sha256::digest(&to_client), "server to client");

    let (a, b) = (a.stop(), b.stop());
    for counters in [a, b] {
        assert!(counters.stream_bytes_in >= MEGABYTE as u64, "{counters:?}");
        assert!(counters.stream_bytes_out >= MEGABYTE as u64, "{counters:?}");
        assert_eq!(counters.malformed_messages, 0, "{counters:?}");
    }
}

#[test]
fn a_megabyte_each_way_over_ipv4_arrives_intact() {
    run(LIMIT, megabyte_each_way("mb4", Versions::V4, addr("192.0.2.1:8080"), "192.0.2.2"));
}

#[test]
fn a_megabyte_each_way_over_ipv6_arrives_intact() {
    run(LIMIT, megabyte_each_way("mb6", Versions::Dual, addr("[2001:db8::1]:8080"), "2001:db8::2"));
}

#[test]
fn shutdown_ends_one_direction_and_the_other_stays_open() {
    run(LIMIT, async {
        let (a, b) = two_hosts("halfclose", Versions::V4).await;
        let (_listener, mut client, mut accepted) = connected(&a, &b, addr("192.0.2.1:7000")).await;

        client.write_all(b"request").await.expect("write");
        client.shutdown().await.expect("shutdown");
        let request = receive_all(&mut accepted).await.expect("the server reads to the FIN");
        assert_eq!(request, b"request");
        let mut more = [0u8; 8];
        assert_eq!(accepted.read(&mut more).await.expect("read again"), 0, "end of stream stays");

        // The client's receiving half still works after its FIN.
        accepted.write_all(b"response").await.expect("answer after the client's FIN");
        accepted.shutdown().await.expect("shutdown");
        assert_eq!(receive_all(&mut client).await.expect("client reads"), b"response");

        let err = client.write_all(b"late").await.expect_err("writing after shutdown");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        assert!(client.take_error().await.expect("SO_ERROR").is_none(), "an orderly close is no error");
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    run(LIMIT, async {
        let (_a, b) = two_hosts("refused", Versions::Dual).await;
        for target in [addr("192.0.2.1:9"), addr("[2001:db8::1]:9")] {
            let err = b.open(TcpStream::connect(target)).await.expect_err("nobody listens");
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{target}: {err}");
        }
    });
}

#[test]
fn connections_wait_in_the_accept_queue_until_accepted() {
    run(LIMIT, async {
        let (a, b) = two_hosts("backlog", Versions::V4).await;
        let server = addr("192.0.2.1:7001");
        let listener = a.open(TcpListener::bind(server)).await.expect("bind and listen");
        // Each connect completes on the handshake, before anyone accepts.
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(b.open(TcpStream::connect(server)).await.expect("connect"));
        }
        let mut client_names = Vec::new();
        for client in &clients {
            client_names.push(client.local_addr().await.expect("name"));
        }
        let mut peers = Vec::new();
        for _ in 0..3 {
            let (mut accepted, peer) = listener.accept().await.expect("accept");
            // Each accepted stream is the one its peer address says.
            let i = client_names.iter().position(|n| *n == peer).expect("a client's address");
            clients[i].write_all(&[i as u8]).await.expect("write");
            let mut byte = [0u8];
            accepted.read_exact(&mut byte).await.expect("read");
            assert_eq!(usize::from(byte[0]), i);
            peers.push(peer);
        }
        peers.sort();
        peers.dedup();
        assert_eq!(peers.len(), 3, "three distinct connections");
    });
}

#[test]
fn a_stopped_netstack_fails_its_clients_instead_of_hanging() {
    run(LIMIT, async {
        let (a, b) = two_hosts("stopped", Versions::V4).await;
        let (listener, _client, mut accepted) = connected(&a, &b, addr("192.0.2.1:7002")).await;
        let counters = a.stop();
        assert_eq!(counters.malformed_messages, 0);

        let mut buf = [0u8; 16];
        let err = accepted.read(&mut buf).await.expect_err("the data plane closed without a FIN");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        let err = accepted.write_all(b"anyone?").await.expect_err("writing");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        let err = listener.accept().await.expect_err("accepting");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
        let err = listener.local_addr().await.expect_err("getsockname");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
    });
}

#[test]
fn dropping_a_stream_delivers_what_was_written_then_end_of_stream() {
    run(LIMIT, async {
        let (a, b) = two_hosts("dropped", Versions::V4).await;
        let (_listener, mut client, accepted) = connected(&a, &b, addr("192.0.2.1:7003")).await;
        let sent = payload(3, 300 * 1024);
        // Closing the socket (every channel and the data plane) sends what the data plane
        // still holds, then FIN, as close(2) does.
        let writer = async {
            client.write_all(&sent).await.expect("write");
            drop(client);
        };
        let (_, received) = join(writer, receive_all(accepted)).await;
        let received = received.expect("the server reads to the FIN");
        assert_eq!(Sha256::digest(&received), Sha256::digest(&sent));
    });
}

#[test]
fn a_dual_stack_listener_accepts_ipv4_peers_as_mapped_addresses() {
    run(LIMIT, async {
        let (a, b) = two_hosts("dualstack", Versions::Dual).await;
        let listener = a.open(TcpListener::bind(addr("[::]:7004"))).await.expect("bind and listen");
        let (client, accepted) =
            join(b.open(TcpStream::connect(addr("192.0.2.1:7004"))), listener.accept()).await;
        let client = client.expect("connect over IPv4");
        let (accepted, peer) = accepted.expect("accept");
        let client_name = client.local_addr().await.expect("name");
        assert_eq!(peer, addr(&format!("[::ffff:192.0.2.2]:{}", client_name.port())));
        assert_eq!(accepted.local_addr().await.expect("name"), addr("[::ffff:192.0.2.1]:7004"));
    });
}

#[test]
fn control_calls_in_parallel_or_abandoned_keep_their_replies_apart() {
    run(LIMIT, async {
        let (a, b) = two_hosts("calls", Versions::V4).await;
        let server = addr("192.0.2.1:7005");
        let (_listener, client, _accepted) = connected(&a, &b, server).await;
        let name = client.local_addr().await.expect("name");
        let calls = (0..16).map(|i| {
            let client = &client;
            async move {
                if i % 2 == 0 {
                    (client.local_addr().await, name)
                } else {
                    (client.peer_addr().await, server)
                }
            }
        });
        for (got, expected) in futures::future::join_all(calls).await {
            assert_eq!(got.expect("call"), expected);
        }
        // Calls dropped after sending their request leave a reply behind; the next call must
        // skip it rather than take it for its own.
        for _ in 0..20 {
            let _ = tokio::time::timeout(Duration::from_micros(50), client.local_addr()).await;
            assert_eq!(client.peer_addr().await.expect("peer"), server);
        }
    });
}
