//! The async client against a mock netstack: threads that answer the FIDL calls the way the
//! daemon does and hold the far ends of the data planes.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rustix::net::{AddressFamily, SocketFlags, SocketType};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::udp::decode_header;
use super::*;
use crate::channel::{Channel, ChannelError, MessageBuf};
use crate::datagram_header::{encode, HEADER_LEN};
use crate::fuchsia_posix_socket::{
    base_network_socket, base_socket, datagram_socket, provider, stream_socket, BaseNetworkSocketRequest,
    BaseSocketRequest, DatagramSocketDescribeResponse, DatagramSocketRequest, ProviderDatagramSocketResponse,
    ProviderRequest, StreamSocketDescribeResponse, StreamSocketRequest,
};
use crate::message::{decode_header as decode_message_header, encode_reply, RequestDecoder};

const LOCAL: &str = "192.0.2.1:5000";
const PEER: &str = "198.51.100.2:80";

/// What a test sees of a mock socket: the netstack's end of its data plane and its pending
/// `SO_ERROR`.
struct MockSocket {
    data: OwnedFd,
    pending_error: Arc<Mutex<Option<Errno>>>,
}

fn reply<M: Method>(channel: &Channel, txid: u32, response: M::Response) {
    let mut buf = MessageBuf::new();
    encode_reply::<M>(txid, response, &mut buf).expect("encode reply");
    // The client may have gone already; that ends the mock on its next read.
    let _ = channel.write(&buf);
}

/// Reads requests until the client goes away, handing each to `handle` with its txid.
fn serve<R>(channel: Channel, decode: RequestDecoder<R>, mut handle: impl FnMut(&Channel, u32, R)) {
    let mut buf = MessageBuf::new();
    loop {
        match channel.read(&mut buf) {
            Ok(()) => {}
            Err(ChannelError::PeerClosed) => return,
            Err(error) => panic!("mock read: {error}"),
        }
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_message_header(bytes).expect("header");
        let request = decode(&header, body, handles).expect("request");
        handle(&channel, header.txid, request);
    }
}

fn socketpair(kind: SocketType) -> (OwnedFd, OwnedFd) {
    rustix::net::socketpair(AddressFamily::UNIX, kind, SocketFlags::CLOEXEC, None).expect("socketpair")
}

fn spawn_provider(sockets: mpsc::Sender<MockSocket>) -> Channel {
    let (client, server) = Channel::pair().expect("pair");
    thread::spawn(move || {
        serve(server, ProviderRequest::decode, |channel, txid, request| match request {
            ProviderRequest::StreamSocket { .. } => {
                reply::<provider::StreamSocket>(channel, txid, Ok(spawn_stream_socket(sockets.clone())));
            }
            ProviderRequest::DatagramSocket { .. } => {
                let socket = spawn_datagram_socket(sockets.clone());
                reply::<provider::DatagramSocket>(
                    channel,
                    txid,
                    Ok(ProviderDatagramSocketResponse::DatagramSocket(socket)),
                );
            }
            other => panic!("unexpected provider request {other:?}"),
        })
    });
    client
}

/// Answers the `BaseSocket` and `BaseNetworkSocket` requests the client library makes.
fn serve_network(
    channel: &Channel,
    txid: u32,
    request: BaseNetworkSocketRequest,
    pending: &Mutex<Option<Errno>>,
) {
    match request {
        BaseNetworkSocketRequest::Base(BaseSocketRequest::GetError {}) => {
            let pending = pending.lock().expect("lock").take();
            reply::<base_socket::GetError>(channel, txid, pending.map_or(Ok(()), Err));
        }
        BaseNetworkSocketRequest::Base(BaseSocketRequest::SetReuseAddress { value: true }) => {
            reply::<base_socket::SetReuseAddress>(channel, txid, Ok(()));
        }
        BaseNetworkSocketRequest::Bind { .. } => reply::<base_network_socket::Bind>(channel, txid, Ok(())),
        BaseNetworkSocketRequest::GetSockName {} => {
            reply::<base_network_socket::GetSockName>(
                channel,
                txid,
                Ok(LOCAL.parse::<SocketAddr>().expect("addr").into()),
            );
        }
        BaseNetworkSocketRequest::GetPeerName {} => {
            reply::<base_network_socket::GetPeerName>(
                channel,
                txid,
                Ok(PEER.parse::<SocketAddr>().expect("addr").into()),
            );
        }
        other => panic!("unexpected request {other:?}"),
    }
}

fn spawn_stream_socket(sockets: mpsc::Sender<MockSocket>) -> Channel {
    let (client, server) = Channel::pair().expect("pair");
    thread::spawn(move || {
        let (ours, theirs) = socketpair(SocketType::STREAM);
        // A duplicate of the client end, to take the listener's token back.
        let theirs_dup = theirs.try_clone().expect("dup");
        let pending = Arc::new(Mutex::new(None));
        let mut socket =
            Some(MockSocket { data: ours.try_clone().expect("dup"), pending_error: pending.clone() });
        let mut theirs = Some(theirs);
        let mut accepts = 0;
        serve(server, StreamSocketRequest::decode, |channel, txid, request| match request {
            StreamSocketRequest::Describe {} => {
                if let Some(socket) = socket.take() {
                    sockets.send(socket).expect("test alive");
                }
                reply::<stream_socket::Describe>(
                    channel,
                    txid,
                    StreamSocketDescribeResponse { socket: theirs.take() },
                );
            }
            StreamSocketRequest::Network(BaseNetworkSocketRequest::Connect { .. }) => {
                reply::<base_network_socket::Connect>(channel, txid, Err(Errno::EINPROGRESS));
            }
            StreamSocketRequest::SetTcpNoDelay { .. } => {
                reply::<stream_socket::SetTcpNoDelay>(channel, txid, Ok(()))
            }
            StreamSocketRequest::Listen { .. } => {
                rustix::io::write(&ours, b"t").expect("token");
                reply::<stream_socket::Listen>(channel, txid, Ok(()));
            }
            StreamSocketRequest::Accept { want_addr: true } => {
                accepts += 1;
                // Take the token back, as when the queue empties.
                rustix::io::read(&theirs_dup, &mut [0u8; 1]).expect("token back");
                if accepts == 1 {
                    // A connection that went away before the accept: try again later.
                    reply::<stream_socket::Accept>(channel, txid, Err(Errno::EAGAIN));
                    let ours = ours.try_clone().expect("dup");
                    thread::spawn(move || {
                        thread::sleep(Duration::from_millis(30));
                        rustix::io::write(&ours, b"t").expect("token");
                    });
                } else {
                    let accepted = spawn_stream_socket(sockets.clone());
                    let peer = PEER.parse::<SocketAddr>().expect("addr").into();
                    reply::<stream_socket::Accept>(channel, txid, Ok((Some(peer), accepted)));
                }
            }
            StreamSocketRequest::Network(request) => serve_network(channel, txid, request, &pending),
            other => panic!("unexpected stream request {other:?}"),
        });
    });
    client
}

fn spawn_datagram_socket(sockets: mpsc::Sender<MockSocket>) -> Channel {
    let (client, server) = Channel::pair().expect("pair");
    thread::spawn(move || {
        let (ours, theirs) = socketpair(SocketType::SEQPACKET);
        let pending = Arc::new(Mutex::new(None));
        let mut socket = Some(MockSocket { data: ours, pending_error: pending.clone() });
        let mut theirs = Some(theirs);
        serve(server, DatagramSocketRequest::decode, |channel, txid, request| match request {
            DatagramSocketRequest::Describe {} => {
                if let Some(socket) = socket.take() {
                    sockets.send(socket).expect("test alive");
                }
                reply::<datagram_socket::Describe>(
                    channel,
                    txid,
                    DatagramSocketDescribeResponse {
                        socket: theirs.take(),
                        tx_meta_buf_size: Some(HEADER_LEN as u64),
                        rx_meta_buf_size: Some(HEADER_LEN as u64),
                    },
                );
            }
            DatagramSocketRequest::Network(BaseNetworkSocketRequest::Connect { .. }) => {
                reply::<base_network_socket::Connect>(channel, txid, Ok(()));
            }
            DatagramSocketRequest::Network(request) => serve_network(channel, txid, request, &pending),
            other => panic!("unexpected datagram request {other:?}"),
        });
    });
    client
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

async fn write_all(stream: &mut TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, data)).await?;
        data = &data[n..];
    }
    Ok(())
}

async fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let mut read = ReadBuf::new(buf);
    poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut read)).await?;
    Ok(read.filled().len())
}

#[test]
fn stream_connects_moves_bytes_and_reports_a_reset() {
    let (sockets_tx, sockets) = mpsc::channel();
    runtime().block_on(async {
        let provider = AsyncClient::new(spawn_provider(sockets_tx)).expect("provider");
        let peer: SocketAddr = PEER.parse().expect("addr");
        let mut stream = TcpStream::connect_with(&provider, peer).await.expect("connect");
        let far = sockets.recv().expect("mock socket");
        assert_eq!(stream.local_addr().await.expect("local"), LOCAL.parse::<SocketAddr>().expect("addr"));
        assert_eq!(stream.peer_addr().await.expect("peer"), peer);
        stream.set_nodelay(true).await.expect("nodelay");

        write_all(&mut stream, b"hello").await.expect("write");
        let mut got = [0u8; 5];
        assert_eq!(rustix::io::read(&far.data, &mut got).expect("read"), 5);
        assert_eq!(&got, b"hello");
        rustix::io::write(&far.data, b"world").expect("write");
        let mut buf = [0u8; 16];
        assert_eq!(read_some(&mut stream, &mut buf).await.expect("read"), 5);
        assert_eq!(&buf[..5], b"world");

        // A reset: the netstack shuts its end down and records the error.
        *far.pending_error.lock().expect("lock") = Some(Errno::ECONNRESET);
        rustix::net::shutdown(&far.data, rustix::net::Shutdown::Both).expect("shutdown");
        let error = read_some(&mut stream, &mut buf).await.expect_err("reset");
        assert_eq!(error.raw_os_error(), Some(Errno::ECONNRESET.into_primitive()));
        assert_eq!(read_some(&mut stream, &mut buf).await.expect("eof"), 0, "then end of stream");
    });
}

#[test]
fn stream_end_of_stream_without_error_is_a_clean_eof() {
    let (sockets_tx, sockets) = mpsc::channel();
    runtime().block_on(async {
        let provider = AsyncClient::new(spawn_provider(sockets_tx)).expect("provider");
        let mut stream =
            TcpStream::connect_with(&provider, PEER.parse().expect("addr")).await.expect("connect");
        let far = sockets.recv().expect("mock socket");
        poll_fn(|cx| Pin::new(&mut stream).poll_shutdown(cx)).await.expect("shutdown");
        let mut buf = [0u8; 4];
        assert_eq!(rustix::io::read(&far.data, &mut buf).expect("read"), 0, "the netstack sees end of file");
        rustix::net::shutdown(&far.data, rustix::net::Shutdown::Both).expect("shutdown");
        assert_eq!(read_some(&mut stream, &mut buf).await.expect("eof"), 0);
        let error = write_all(&mut stream, b"late").await.expect_err("closed");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    });
}

#[test]
fn listener_waits_for_the_token_and_retries_after_eagain() {
    let (sockets_tx, sockets) = mpsc::channel();
    runtime().block_on(async {
        let provider = AsyncClient::new(spawn_provider(sockets_tx)).expect("provider");
        let listener = TcpListener::bind_with(&provider, LOCAL.parse().expect("addr")).await.expect("bind");
        assert_eq!(listener.local_addr().await.expect("local"), LOCAL.parse::<SocketAddr>().expect("addr"));
        let _listening = sockets.recv().expect("listener socket");
        let (mut stream, peer) = listener.accept().await.expect("accept");
        assert_eq!(peer, PEER.parse::<SocketAddr>().expect("addr"));
        let far = sockets.recv().expect("accepted socket");
        rustix::io::write(&far.data, b"hi").expect("write");
        let mut buf = [0u8; 2];
        assert_eq!(read_some(&mut stream, &mut buf).await.expect("read"), 2);
    });
}

#[test]
fn udp_frames_datagrams_and_reports_error_records() {
    let (sockets_tx, sockets) = mpsc::channel();
    runtime().block_on(async {
        let provider = AsyncClient::new(spawn_provider(sockets_tx)).expect("provider");
        let socket = UdpSocket::bind_with(&provider, LOCAL.parse().expect("addr")).await.expect("bind");
        let far = sockets.recv().expect("mock socket");
        let peer: SocketAddr = "198.51.100.2:53".parse().expect("addr");

        assert_eq!(socket.send_to(b"ping", peer).await.expect("send"), 4);
        let mut packet = [0u8; 64];
        let n = rustix::io::read(&far.data, &mut packet).expect("read");
        assert_eq!(n, HEADER_LEN + 4);
        assert_eq!(&packet[..12], [2, 0, 0, 53, 0, 0, 0, 0, 198, 51, 100, 2]);
        assert_eq!(&packet[HEADER_LEN..n], b"ping");

        let mut reply = encode(Some(&peer)).to_vec();
        reply.extend_from_slice(b"pong");
        rustix::io::write(&far.data, &reply).expect("write");
        let mut buf = [0u8; 16];
        assert_eq!(socket.recv_from(&mut buf).await.expect("recv"), (4, peer));
        assert_eq!(&buf[..4], b"pong");

        socket.connect(peer).await.expect("connect");
        assert_eq!(socket.send(b"again").await.expect("send"), 5);
        let n = rustix::io::read(&far.data, &mut packet).expect("read");
        assert_eq!(&packet[..2], [0, 0], "family 0: the connected peer");
        assert_eq!(&packet[HEADER_LEN..n], b"again");

        let mut record = [0u8; HEADER_LEN];
        record[..2].copy_from_slice(&0xffffu16.to_le_bytes());
        record[24..28].copy_from_slice(&Errno::ECONNREFUSED.into_primitive().to_le_bytes());
        rustix::io::write(&far.data, &record).expect("write");
        let error = socket.recv(&mut buf).await.expect_err("error record");
        assert_eq!(error.raw_os_error(), Some(Errno::ECONNREFUSED.into_primitive()));
        assert!(socket.take_error().await.expect("take_error").is_none());
    });
}

#[test]
fn datagram_headers_round_trip() {
    let v6: SocketAddr = "[2001:db8::1%7]:443".parse().expect("addr");
    let SocketAddr::V6(mut v6) = v6 else { unreachable!("parsed as IPv6") };
    v6.set_flowinfo(0x12345);
    let header = encode(Some(&SocketAddr::V6(v6)));
    assert_eq!(&header[..4], [10, 0, 0x01, 0xbb]);
    assert_eq!(&header[4..8], [0, 1, 0x23, 0x45]);
    assert_eq!(&header[24..28], [7, 0, 0, 0]);
    assert_eq!(decode_header(&header).expect("address"), SocketAddr::V6(v6));
    let mut unknown = header;
    unknown[0] = 3;
    assert_eq!(decode_header(&unknown).expect_err("family 3").kind(), io::ErrorKind::InvalidData);
}
