//! The socket server end to end: two stacks, each with its own event loop and socket server,
//! over the memory device pair; clients speak FIDL through `SyncClient` from other threads
//! and use the data-plane fds as the shim hands them to applications.

mod dual_stack;
mod raw;
mod scope;
mod tcp_options;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use futures::future::FutureExt;
use netstack_core::addr::{AddrSubnet, Mac, UnicastAddr};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_fidl::channel::{Channel, MessageBuf};
use netstack_fidl::client::SyncClient;
use netstack_fidl::fuchsia_net::{Ipv4Address, Ipv4SocketAddress, SocketAddress};
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    base_network_socket, base_socket, datagram_socket, provider, stream_socket, DatagramSocketProtocol,
    Domain, ProviderDatagramSocketResponse, StreamSocketProtocol,
};
use rustix::event::{PollFd, PollFlags, Timespec};

use super::header::{DatagramHeader, HEADER_LEN};
use super::{Protocol, ServerConfig, SocketServer};
use crate::device::memory::{memory_pair, MemoryConfig, MemoryPort};
use crate::device::{Pool, PoolConfig, SessionConfig};
use crate::eventloop::{EventLoop, LoopConfig};
use crate::rng::SmallRng;

/// Host 192.0.2.`n`/24 (and 2001:db8::`n`/64 with `ipv6`, tentative until DAD passes) on
/// `port`: an event loop with one Ethernet device (also the event loop's own tests' host).
pub(crate) fn host_loop(n: u8, port: MemoryPort, ipv6: bool) -> EventLoop {
    let mut event_loop = EventLoop::new(
        LoopConfig::default(),
        Pool::new(PoolConfig::default()),
        SmallRng::from_seed(n.into()),
    );
    let mac = UnicastAddr::new(Mac::new([2, 0, 0, 0, 0, n])).expect("unicast");
    let id = event_loop.attach(Box::new(port), SessionConfig::default(), |stack, ctx| {
        stack.add_ethernet_device(ctx, mac, EthernetConfig::default())
    });
    let (stack, ctx) = event_loop.parts();
    let addr = AddrSubnet::new(format!("192.0.2.{n}").parse().expect("addr"), 24).expect("subnet");
    stack.add_ipv4_address(ctx, id, addr).expect("address");
    if ipv6 {
        stack.enable_ipv6(ctx, id).expect("IPv6 on");
        let addr = AddrSubnet::new(format!("2001:db8::{n}").parse().expect("addr"), 64).expect("subnet");
        stack.add_ipv6_address(ctx, id, addr).expect("address");
    }
    event_loop
}

/// [`host_loop`] with a socket server and Provider connections to it: two of
/// `fuchsia.posix.socket`, one of `fuchsia.posix.socket.raw`.
fn host(n: u8, port: MemoryPort, config: ServerConfig, ipv6: bool) -> (EventLoop, [Channel; 3]) {
    let mut event_loop = host_loop(n, port, ipv6);
    let mut server = SocketServer::new(config).expect("server");
    let mut provider = |protocol| {
        let (client, ours) = Channel::pair().expect("channel pair");
        server.serve_channel(ours, protocol).expect("serve");
        client
    };
    let providers = [provider(Protocol::Socket), provider(Protocol::Socket), provider(Protocol::Raw)];
    event_loop.serve_sockets(server);
    (event_loop, providers)
}

/// Provider connections: two clients of host A's server, one of host B's, and a raw
/// Provider connection to each.
pub(crate) struct Clients {
    pub(crate) a: SyncClient,
    pub(crate) a2: SyncClient,
    pub(crate) b: SyncClient,
    pub(crate) a_raw: SyncClient,
    pub(crate) b_raw: SyncClient,
}

/// Runs `test` on a blocking thread with Provider connections to hosts 192.0.2.1 and
/// 192.0.2.2 while both loops run; returns its result and the two loops.
pub(crate) fn with_two_hosts<R: Send + 'static>(
    config: ServerConfig,
    test: impl FnOnce(Clients) -> R + Send + 'static,
) -> (R, EventLoop, EventLoop) {
    with_hosts(config, false, test)
}

/// [`with_two_hosts`], the hosts also 2001:db8::1 and 2001:db8::2 (tentative until DAD
/// passes, a second or two in).
fn with_two_dual_stack_hosts<R: Send + 'static>(
    config: ServerConfig,
    test: impl FnOnce(Clients) -> R + Send + 'static,
) -> (R, EventLoop, EventLoop) {
    with_hosts(config, true, test)
}

fn with_hosts<R: Send + 'static>(
    config: ServerConfig,
    ipv6: bool,
    test: impl FnOnce(Clients) -> R + Send + 'static,
) -> (R, EventLoop, EventLoop) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let (a_port, b_port) = memory_pair("a", "b", MemoryConfig::default());
        let (mut a, [a1, a2, a_raw]) = host(1, a_port, config, ipv6);
        let (mut b, [b1, _, b_raw]) = host(2, b_port, config, ipv6);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = stop_rx.shared();
        let clients = Clients {
            a: SyncClient::new(a1),
            a2: SyncClient::new(a2),
            b: SyncClient::new(b1),
            a_raw: SyncClient::new(a_raw),
            b_raw: SyncClient::new(b_raw),
        };
        let test = tokio::task::spawn_blocking(move || test(clients));
        let run_test = async move {
            let result = test.await;
            drop(stop_tx);
            result
        };
        let (_, _, result) = futures::future::join3(
            a.run_until(stop.clone().map(drop)),
            b.run_until(stop.map(drop)),
            run_test,
        )
        .await;
        (result.expect("test thread"), a, b)
    })
}

/// The IPv4 wildcard and `port`.
pub(crate) fn any(port: u16) -> SocketAddress {
    SocketAddress::Ipv4(Ipv4SocketAddress { address: Ipv4Address { addr: [0; 4] }, port })
}

/// 192.0.2.`last`:`port`.
pub(crate) fn v4(last: u8, port: u16) -> SocketAddress {
    SocketAddress::Ipv4(Ipv4SocketAddress { address: Ipv4Address { addr: [192, 0, 2, last] }, port })
}

/// An IPv4 stream socket: its control client and its data-plane fd.
pub(crate) fn stream(provider: &SyncClient) -> (SyncClient, OwnedFd) {
    stream_in(provider, Domain::Ipv4)
}

/// A stream socket of `domain`: its control client and its data-plane fd.
fn stream_in(provider: &SyncClient, domain: Domain) -> (SyncClient, OwnedFd) {
    let channel = provider
        .call::<provider::StreamSocket>((domain, StreamSocketProtocol::Tcp))
        .expect("call")
        .expect("stream socket");
    let client = SyncClient::new(channel);
    let fd = client.call::<stream_socket::Describe>(()).expect("describe").socket.expect("data plane");
    (client, fd)
}

/// An IPv4 UDP socket: its control client and its data-plane fd.
pub(crate) fn udp(provider: &SyncClient) -> (SyncClient, OwnedFd) {
    udp_in(provider, Domain::Ipv4)
}

/// A UDP socket of `domain`: its control client and its data-plane fd.
fn udp_in(provider: &SyncClient, domain: Domain) -> (SyncClient, OwnedFd) {
    let response = provider
        .call::<provider::DatagramSocket>((domain, DatagramSocketProtocol::Udp))
        .expect("call")
        .expect("datagram socket");
    let ProviderDatagramSocketResponse::DatagramSocket(channel) = response else {
        panic!("synchronous socket")
    };
    let client = SyncClient::new(channel);
    let described = client.call::<datagram_socket::Describe>(()).expect("describe");
    assert_eq!((described.tx_meta_buf_size, described.rx_meta_buf_size), (Some(32), Some(32)));
    (client, described.socket.expect("data plane"))
}

/// The next connection `listener` accepts (waiting up to a second for one), with its peer.
pub(crate) fn accept(listener: &SyncClient) -> (Option<SocketAddress>, SyncClient) {
    for _ in 0..100 {
        match listener.call::<stream_socket::Accept>(true).expect("call") {
            Ok((peer, channel)) => return (peer, SyncClient::new(channel)),
            Err(Errno::EAGAIN) => std::thread::sleep(Duration::from_millis(10)),
            Err(errno) => panic!("accept: {errno:?}"),
        }
    }
    panic!("no connection to accept")
}

fn poll(fd: BorrowedFd<'_>, flags: PollFlags, wait: Duration) -> PollFlags {
    let mut fds = [PollFd::new(&fd, flags)];
    let timeout = Timespec { tv_sec: wait.as_secs() as i64, tv_nsec: i64::from(wait.subsec_nanos()) };
    rustix::event::poll(&mut fds, Some(&timeout)).expect("poll");
    fds[0].revents()
}

pub(crate) fn readable(fd: BorrowedFd<'_>, wait: Duration) -> bool {
    poll(fd, PollFlags::IN, wait).intersects(PollFlags::IN | PollFlags::HUP)
}

/// Reads packets from the datagram data plane `fd` for up to `wait`; returns the first that
/// `wanted` maps to `Some`, skipping the others and any that do not parse.
fn next_packet<T>(
    fd: &OwnedFd,
    wait: Duration,
    mut wanted: impl FnMut(DatagramHeader, &[u8]) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + wait;
    let mut buf = vec![0; 2048];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if !readable(fd.as_fd(), left) {
            break;
        }
        let n = rustix::io::read(fd, &mut buf).expect("recv");
        if let Some(found) = DatagramHeader::parse(&buf[..n]).ok().and_then(|(h, p)| wanted(h, p)) {
            return Some(found);
        }
    }
    None
}

fn writable(fd: BorrowedFd<'_>, wait: Duration) -> bool {
    poll(fd, PollFlags::OUT, wait).contains(PollFlags::OUT)
}

const SECOND: Duration = Duration::from_secs(1);
const NOW: Duration = Duration::ZERO;

/// The byte at `offset` of a test stream (not periodic in any power of two).
fn pattern(offset: usize) -> u8 {
    ((offset * 7 + offset / 251) % 253) as u8
}

/// Writes `total` pattern bytes to `fd` (non-blocking, waiting with poll).
fn write_all(fd: &OwnedFd, total: usize) {
    let mut sent = 0;
    let mut buf = vec![0; 64 * 1024];
    while sent < total {
        let n = (total - sent).min(buf.len());
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(sent + i);
        }
        match rustix::io::write(fd, &buf[..n]) {
            Ok(written) => sent += written,
            Err(rustix::io::Errno::AGAIN) => {
                assert!(writable(fd.as_fd(), 10 * SECOND), "writer stalled for good")
            }
            Err(e) => panic!("write: {e}"),
        }
    }
}

/// Reads until end of file, checking the pattern; returns the byte count.
fn read_to_end(fd: &OwnedFd) -> usize {
    let mut got = 0;
    let mut buf = vec![0; 64 * 1024];
    loop {
        match rustix::io::read(fd, &mut buf) {
            Ok(0) => return got,
            Ok(n) => {
                for (i, &b) in buf[..n].iter().enumerate() {
                    assert_eq!(b, pattern(got + i), "byte {} differs", got + i);
                }
                got += n;
            }
            Err(rustix::io::Errno::AGAIN) => assert!(readable(fd.as_fd(), 10 * SECOND), "reader starved"),
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Writes until the writer is blocked for `quiet`; returns the bytes written.
fn write_until_blocked(fd: &OwnedFd, quiet: Duration, limit: usize) -> usize {
    let mut sent = 0;
    loop {
        let chunk: Vec<u8> = (sent..sent + 16 * 1024).map(pattern).collect();
        match rustix::io::write(fd, &chunk) {
            Ok(n) => {
                sent += n;
                assert!(sent < limit, "{sent} bytes went in and the writer never blocked");
            }
            Err(rustix::io::Errno::AGAIN) => {
                if !writable(fd.as_fd(), quiet) {
                    return sent;
                }
            }
            Err(e) => panic!("write: {e}"),
        }
    }
}

#[test]
fn stream_sockets_connect_accept_and_move_a_megabyte_each_way_with_backpressure() {
    const MEGABYTE: usize = 1 << 20;
    let (counted, a, _b) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        // A listens on 192.0.2.1:8080.
        let (listener, listener_fd) = stream(&a);
        // Small TCP buffers (accepted connections inherit the listener's), so the window
        // closes well within the megabyte.
        listener.call::<base_socket::SetReceiveBuffer>(16 * 1024).expect("call").expect("rcvbuf");
        assert_eq!(listener.call::<base_socket::GetReceiveBuffer>(()).expect("call"), Ok(32 * 1024));
        listener.call::<base_network_socket::Bind>(any(8080)).expect("call").expect("bind");
        listener.call::<stream_socket::Listen>(16).expect("call").expect("listen");
        assert!(listener.call::<base_socket::GetAcceptConn>(()).expect("call").expect("get"));
        assert!(!readable(listener_fd.as_fd(), NOW), "no connection waits yet");
        assert_eq!(
            listener.call::<stream_socket::Accept>(false).expect("call").map(drop),
            Err(Errno::EAGAIN)
        );

        // B connects: EINPROGRESS, then the plug is pulled.
        let (conn, conn_fd) = stream(&b);
        conn.call::<base_socket::SetSendBuffer>(16 * 1024).expect("call").expect("sndbuf");
        assert!(!writable(conn_fd.as_fd(), NOW), "plugged before connect");
        let r = conn.call::<base_network_socket::Connect>(v4(1, 8080)).expect("call");
        assert_eq!(r, Err(Errno::EINPROGRESS));
        assert!(writable(conn_fd.as_fd(), 5 * SECOND), "connect finished: writable");
        assert_eq!(conn.call::<base_socket::GetError>(()).expect("call"), Ok(()));
        assert_eq!(conn.call::<base_network_socket::GetPeerName>(()).expect("call"), Ok(v4(1, 8080)));

        // The listener's token: readable while the connection waits, taken back on accept.
        assert!(readable(listener_fd.as_fd(), 5 * SECOND), "the listener turns readable");
        let (peer, accepted) = listener.call::<stream_socket::Accept>(true).expect("call").expect("accept");
        let Some(SocketAddress::Ipv4(peer)) = peer else { panic!("peer address") };
        assert_eq!(peer.address.addr, [192, 0, 2, 2]);
        assert!(!readable(listener_fd.as_fd(), NOW), "the token is gone with the queue");
        let server = SyncClient::new(accepted);
        let server_fd = server.call::<stream_socket::Describe>(()).expect("describe").socket.expect("fd");

        // B writes while A does not read: the writer blocks once the socketpairs and TCP's
        // buffers are full (the receive window closed), well short of the megabyte.
        let stalled = write_until_blocked(&conn_fd, Duration::from_millis(500), MEGABYTE);
        assert!(stalled > 64 * 1024 && stalled < MEGABYTE, "blocked after {stalled} bytes");
        std::thread::sleep(Duration::from_millis(300));
        assert!(!writable(conn_fd.as_fd(), NOW), "still blocked: nothing drains the window");

        // A reads: everything arrives in order, then the rest of the megabyte, then EOF.
        let reader = std::thread::spawn(move || read_to_end(&server_fd));
        let rest = MEGABYTE - stalled;
        let writer_fd = conn_fd.try_clone().expect("dup");
        let mut buf: Vec<u8> = Vec::new();
        buf.extend((stalled..MEGABYTE).map(pattern));
        let mut sent = 0;
        while sent < rest {
            match rustix::io::write(&writer_fd, &buf[sent..]) {
                Ok(n) => sent += n,
                Err(rustix::io::Errno::AGAIN) => assert!(writable(writer_fd.as_fd(), 10 * SECOND)),
                Err(e) => panic!("write: {e}"),
            }
        }
        // SHUT_WR as the shim does it: the RPC and the fd.
        conn.call::<base_network_socket::Shutdown>(netstack_fidl::fuchsia_posix_socket::ShutdownMode::WRITE)
            .expect("call")
            .expect("shutdown");
        rustix::net::shutdown(&conn_fd, rustix::net::Shutdown::Write).expect("shutdown fd");
        assert_eq!(reader.join().expect("reader"), MEGABYTE);

        // The other way: A writes a megabyte and closes; B reads it all, then EOF.
        let server_fd = server.call::<stream_socket::Describe>(()).expect("describe").socket.expect("fd");
        let writer = std::thread::spawn(move || {
            write_all(&server_fd, MEGABYTE);
            drop(server_fd);
            server
                .call::<netstack_fidl::fuchsia_posix_socket::unknown::Close>(())
                .expect("call")
                .expect("close");
        });
        assert_eq!(read_to_end(&conn_fd), MEGABYTE);
        writer.join().expect("writer");
        conn.call::<netstack_fidl::fuchsia_posix_socket::unknown::Close>(()).expect("call").expect("close");
        drop(listener);
        MEGABYTE
    });
    assert_eq!(counted, MEGABYTE);
    let counters = a.socket_server().expect("server").counters();
    assert!(counters.stream_bytes_in >= MEGABYTE as u64, "{counters:?}");
    assert!(counters.stream_bytes_out >= MEGABYTE as u64, "{counters:?}");
    assert!(counters.stream_readv_calls > 0 && counters.stream_writev_calls > 0, "{counters:?}");
    assert_eq!(counters.malformed_messages, 0);
}

#[test]
fn a_megabyte_each_way_at_once_moves_by_vectored_calls_straight_through_the_rings() {
    const MEGABYTE: usize = 1 << 20;
    let (read, a, b) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        // Small TCP buffers (accepted connections inherit the listener's): the rings wrap
        // around dozens of times over a megabyte.
        let small_buffers = |socket: &SyncClient| {
            socket.call::<base_socket::SetSendBuffer>(16 * 1024).expect("call").expect("sndbuf");
            socket.call::<base_socket::SetReceiveBuffer>(16 * 1024).expect("call").expect("rcvbuf");
        };
        let (listener, _) = stream(&a);
        small_buffers(&listener);
        listener.call::<base_network_socket::Bind>(any(8081)).expect("call").expect("bind");
        listener.call::<stream_socket::Listen>(4).expect("call").expect("listen");
        let (conn, conn_fd) = stream(&b);
        small_buffers(&conn);
        let r = conn.call::<base_network_socket::Connect>(v4(1, 8081)).expect("call");
        assert_eq!(r, Err(Errno::EINPROGRESS));
        assert!(writable(conn_fd.as_fd(), 5 * SECOND), "connected");
        let (_, server) = accept(&listener);
        let server_fd = server.call::<stream_socket::Describe>(()).expect("describe").socket.expect("fd");

        // Both directions at once: each side writes a megabyte and shuts down writing (the
        // RPC and the fd, as the shim does) while it reads the other's megabyte to the end.
        let both_ways = |fd: OwnedFd, socket: SyncClient| {
            std::thread::spawn(move || {
                let writer_fd = fd.try_clone().expect("dup");
                let writer = std::thread::spawn(move || {
                    write_all(&writer_fd, MEGABYTE);
                    socket
                        .call::<base_network_socket::Shutdown>(
                            netstack_fidl::fuchsia_posix_socket::ShutdownMode::WRITE,
                        )
                        .expect("call")
                        .expect("shutdown");
                    rustix::net::shutdown(&writer_fd, rustix::net::Shutdown::Write).expect("shutdown fd");
                    socket
                });
                let got = read_to_end(&fd);
                let socket = writer.join().expect("writer");
                socket
                    .call::<netstack_fidl::fuchsia_posix_socket::unknown::Close>(())
                    .expect("call")
                    .expect("close");
                got
            })
        };
        let from_b = both_ways(server_fd, server);
        let from_a = both_ways(conn_fd, conn);
        (from_a.join().expect("a"), from_b.join().expect("b"))
    });
    assert_eq!(read, (MEGABYTE, MEGABYTE));
    for (host, counters) in
        [("a", a.socket_server().expect("a").counters()), ("b", b.socket_server().expect("b").counters())]
    {
        assert!(counters.stream_bytes_out >= MEGABYTE as u64, "{host}: {counters:?}");
        assert!(counters.stream_bytes_in >= MEGABYTE as u64, "{host}: {counters:?}");
        // Every byte went through one readv into the send ring and one writev out of the
        // receive ring; with the rings wrapping many times over a megabyte, some calls
        // spanned the wrap in one go (a linear buffer would have copied there).
        assert!(counters.stream_readv_calls > 0 && counters.stream_writev_calls > 0, "{host}: {counters:?}");
        assert!(counters.stream_readv_wrapped >= 4, "{host}: {counters:?}");
        assert!(counters.stream_writev_wrapped >= 4, "{host}: {counters:?}");
    }
}

#[test]
fn closing_with_unread_bytes_in_the_data_plane_resets_the_peer() {
    // RFC 2525 §2.17, as Linux: the bytes left TCP for A's data plane, but A never read
    // them, so its close is a RST and B's next call says ECONNRESET, not end of file.
    let (outcome, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
        let (listener, _listener_fd) = stream(&a);
        listener.call::<base_network_socket::Bind>(any(8081)).expect("call").expect("bind");
        listener.call::<stream_socket::Listen>(4).expect("call").expect("listen");
        let (conn, conn_fd) = stream(&b);
        let r = conn.call::<base_network_socket::Connect>(v4(1, 8081)).expect("call");
        assert_eq!(r, Err(Errno::EINPROGRESS));
        assert!(writable(conn_fd.as_fd(), 5 * SECOND), "connected");
        let (_, accepted) = {
            let mut accepted = listener.call::<stream_socket::Accept>(false).expect("call");
            let deadline = std::time::Instant::now() + 5 * SECOND;
            while accepted.is_err() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
                accepted = listener.call::<stream_socket::Accept>(false).expect("call");
            }
            accepted.expect("accept")
        };
        let server = SyncClient::new(accepted);
        let server_fd = server.call::<stream_socket::Describe>(()).expect("describe").socket.expect("fd");
        rustix::io::write(&conn_fd, b"never read").expect("write");
        assert!(readable(server_fd.as_fd(), 5 * SECOND), "the bytes reached A's data plane");
        drop(server_fd);
        drop(server);
        // B sees the reset: its data plane shuts down and GetError says why.
        let mut buf = [0; 8];
        let deadline = std::time::Instant::now() + 5 * SECOND;
        while rustix::io::read(&conn_fd, &mut buf) != Ok(0) && std::time::Instant::now() < deadline {
            readable(conn_fd.as_fd(), SECOND);
        }
        conn.call::<base_socket::GetError>(()).expect("call")
    });
    assert_eq!(outcome, Err(Errno::ECONNRESET));
}

#[test]
fn a_refused_connect_is_econnrefused_and_shuts_the_data_plane() {
    let (errors, _, _) = with_two_hosts(ServerConfig::default(), |Clients { b, .. }| {
        let (conn, fd) = stream(&b);
        let r = conn.call::<base_network_socket::Connect>(v4(1, 9)).expect("call");
        assert_eq!(r, Err(Errno::EINPROGRESS));
        assert!(writable(fd.as_fd(), 5 * SECOND), "a failed connect unplugs too");
        let first = conn.call::<base_socket::GetError>(()).expect("call");
        let second = conn.call::<base_socket::GetError>(()).expect("call");
        let mut buf = [0; 8];
        assert_eq!(rustix::io::read(&fd, &mut buf), Ok(0), "both directions shut down");
        assert_eq!(
            rustix::net::send(&fd, b"x", rustix::net::SendFlags::NOSIGNAL),
            Err(rustix::io::Errno::PIPE)
        );
        (first, second)
    });
    assert_eq!(errors, (Err(Errno::ECONNREFUSED), Ok(())));
}

#[test]
fn udp_datagrams_carry_the_32_byte_header_both_ways_and_errors_come_as_records() {
    let ((from, payload, reply, refused), a, _) =
        with_two_hosts(ServerConfig::default(), |Clients { a, b, .. }| {
            let (server, server_fd) = udp(&a);
            server.call::<base_network_socket::Bind>(any(5353)).expect("call").expect("bind");
            let (client, client_fd) = udp(&b);
            let mut packet = DatagramHeader::V4 { addr: [192, 0, 2, 1], port: 5353 }.to_bytes().to_vec();
            packet.extend_from_slice(b"question");
            rustix::io::write(&client_fd, &packet).expect("send");

            assert!(readable(server_fd.as_fd(), 5 * SECOND), "the datagram arrives");
            let mut buf = [0; 256];
            let n = rustix::io::read(&server_fd, &mut buf).expect("recv");
            let (from, payload) = DatagramHeader::parse(&buf[..n]).expect("header");
            let payload = payload.to_vec();
            // Answer the source the header named.
            let mut answer = from.to_bytes().to_vec();
            answer.extend_from_slice(b"answer");
            rustix::io::write(&server_fd, &answer).expect("send");
            assert!(readable(client_fd.as_fd(), 5 * SECOND));
            let n = rustix::io::read(&client_fd, &mut buf).expect("recv");
            let reply = buf[HEADER_LEN..n].to_vec();

            // A connected socket sending to a closed port gets ECONNREFUSED as an error record.
            client.call::<base_network_socket::Connect>(v4(1, 9)).expect("call").expect("connect");
            let unaddressed = DatagramHeader::Unspecified.to_bytes();
            let mut probe = unaddressed.to_vec();
            probe.extend_from_slice(b"anyone?");
            rustix::io::write(&client_fd, &probe).expect("send");
            assert!(readable(client_fd.as_fd(), 5 * SECOND), "the error record arrives");
            let n = rustix::io::read(&client_fd, &mut buf).expect("recv");
            let refused = DatagramHeader::parse(&buf[..n]).map_err(|_| ()).and_then(|(h, _)| match h {
                DatagramHeader::Error(errno) => Ok(errno),
                _ => Err(()),
            });
            (from, payload, reply, refused)
        });
    let DatagramHeader::V4 { addr, port } = from else { panic!("{from:?}") };
    assert_eq!(addr, [192, 0, 2, 2]);
    assert_ne!(port, 0);
    assert_eq!(payload, b"question");
    assert_eq!(reply, b"answer");
    // Read from the data plane, the record is the errno; the header says it is an error.
    assert!(refused.is_err() || refused == Ok(111), "{refused:?}");
    let counters = a.socket_server().expect("server").counters();
    assert!(counters.datagrams_delivered >= 1 && counters.datagrams_sent >= 1, "{counters:?}");
}

#[test]
fn a_malformed_message_closes_only_its_channel_with_an_epitaph() {
    let (statuses, a, _) = with_two_hosts(ServerConfig::default(), |Clients { a, .. }| {
        let epitaph_after = |bytes: &[u8]| -> Option<i32> {
            // A socket's channel gets the bad message; the Provider connection must survive.
            let channel = a
                .call::<provider::StreamSocket>((Domain::Ipv4, StreamSocketProtocol::Tcp))
                .expect("call")
                .expect("socket");
            let mut message = MessageBuf::new();
            message.bytes.extend_from_slice(bytes);
            channel.write(&message).expect("write");
            let mut reply = MessageBuf::new();
            channel.read(&mut reply).expect("epitaph");
            let (header, body) = netstack_fidl::message::decode_header(&reply.bytes).ok()?;
            assert_eq!(header.ordinal, netstack_fidl::message::EPITAPH_ORDINAL);
            let status = netstack_fidl::message::decode_epitaph(body).ok();
            assert!(matches!(
                channel.read(&mut reply),
                Err(netstack_fidl::channel::ChannelError::PeerClosed)
            ));
            status
        };
        // Garbage: too short for a header.
        let garbage = epitaph_after(b"garbage");
        // A valid header with an ordinal nobody declares.
        let mut unknown = vec![1, 0, 0, 0, 2, 0, 0, 1];
        unknown.extend_from_slice(&0x1234_5678_9abc_def0_u64.to_le_bytes());
        let unknown = epitaph_after(&unknown);
        // The Provider connection itself still works.
        let (still, _fd) = stream(&a);
        assert_eq!(still.call::<base_socket::GetError>(()).expect("call"), Ok(()));
        (garbage, unknown)
    });
    assert_eq!(statuses, (Some(-10), Some(-2)));
    let counters = a.socket_server().expect("server").counters();
    assert_eq!((counters.malformed_messages, counters.epitaphs), (2, 2));
}

#[test]
fn limits_refuse_with_emfile_per_client_and_enobufs_in_all() {
    let config = ServerConfig { max_sockets: 3, max_sockets_per_client: 2 };
    let (results, a, _) = with_two_hosts(config, |Clients { a, a2, .. }| {
        let create = |p: &SyncClient| {
            p.call::<provider::StreamSocket>((Domain::Ipv4, StreamSocketProtocol::Tcp)).expect("call")
        };
        let first = create(&a).expect("first");
        let _second = create(&a).expect("second");
        let client_full = create(&a).map(drop);
        let _other = create(&a2).expect("another client's first");
        let server_full = create(&a2).map(drop);
        // Closing a socket (its channel) frees its charge.
        drop(first);
        let mut again = Err(Errno::EAGAIN);
        for _ in 0..50 {
            again = create(&a2).map(drop);
            if again.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (client_full, server_full, again)
    });
    assert_eq!(results, (Err(Errno::EMFILE), Err(Errno::ENOBUFS), Ok(())));
    let counters = a.socket_server().expect("server").counters();
    assert_eq!(counters.refused_client_limit, 1);
    assert!(counters.refused_server_limit >= 1);
}

#[test]
fn clients_reach_the_server_through_the_svc_dir() {
    use crate::svc::{SvcAccess, SvcDir, SOCKET_PROVIDER};
    let dir = std::env::temp_dir().join(format!("netstack-socket-svc-{}", std::process::id()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let info = runtime.block_on(async {
        let mut svc = SvcDir::publish(&dir, SvcAccess::default(), &[SOCKET_PROVIDER]).expect("publish");
        let mut event_loop =
            EventLoop::new(LoopConfig::default(), Pool::new(PoolConfig::default()), SmallRng::from_seed(9));
        let mut server = SocketServer::new(ServerConfig::default()).expect("server");
        server.serve(svc.take_listener(SOCKET_PROVIDER).expect("listener"), Protocol::Socket).expect("serve");
        event_loop.serve_sockets(server);
        let path = svc.socket_path(SOCKET_PROVIDER).expect("path").to_owned();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let client = tokio::task::spawn_blocking(move || {
            let provider = SyncClient::new(Channel::connect(&path).expect("connect"));
            let (socket, _fd) = udp(&provider);
            let info = socket.call::<netstack_fidl::fuchsia_posix_socket::base_datagram_socket::GetInfo>(());
            drop(stop_tx);
            info.expect("call")
        });
        event_loop.run_until(stop_rx.map(drop)).await;
        let info = client.await.expect("client");
        let counters = event_loop.socket_server().expect("server").counters();
        assert_eq!((counters.clients_accepted, counters.sockets_created), (1, 1));
        drop(svc);
        info
    });
    assert_eq!(info, Ok((Domain::Ipv4, DatagramSocketProtocol::Udp)));
    assert!(!dir.exists(), "the svc dir is removed with the daemon");
}

#[test]
fn interface_addresses_list_ipv4_with_prefixes() {
    let (interfaces, _, _) = with_two_hosts(ServerConfig::default(), |Clients { a, .. }| {
        let listed = a.call::<provider::GetInterfaceAddresses>(()).expect("call");
        let index = a.call::<provider::InterfaceNameToIndex>("a".to_owned()).expect("call");
        (listed, index)
    });
    let (listed, index) = interfaces;
    let [interface] = &listed[..] else { panic!("{listed:?}") };
    assert_eq!(interface.name.as_deref(), Some("a"));
    assert_eq!(interface.id, index.ok());
    let ipv4 = netstack_fidl::fuchsia_net::Subnet {
        addr: netstack_fidl::fuchsia_net::IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 1] }),
        prefix_len: 24,
    };
    assert_eq!(interface.addresses.as_deref(), Some(&[ipv4][..]));
}
