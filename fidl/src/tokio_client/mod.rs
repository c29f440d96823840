//! An async client library over the netstack's socket API (feature `tokio`): TCP streams and
//! listeners and UDP sockets that speak `fuchsia.posix.socket` to the netstack and move their
//! bytes over the data planes of `fidl/README.md`, driven by tokio's reactor.
//!
//! Control calls (bind, connect, options) are FIDL calls on the socket's channel, made
//! without blocking the runtime; data moves through the data-plane descriptor, registered
//! with tokio as a `tokio::io::unix::AsyncFd`.
//!
//! ```no_run
//! use netstack_fidl::tokio_client::{TcpListener, TcpStream};
//! use tokio::io::{AsyncRead, AsyncWrite};
//!
//! # fn main() -> std::io::Result<()> {
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let listener = TcpListener::bind("192.0.2.1:8080".parse().unwrap()).await?;
//!     let client = TcpStream::connect(listener.local_addr().await?).await?;
//!     let (server, peer) = listener.accept().await?;
//!     println!("accepted {peer}");
//!     // `client` and `server` implement AsyncRead and AsyncWrite.
//!     fn is_stream(_: &(impl AsyncRead + AsyncWrite)) {}
//!     is_stream(&client);
//!     is_stream(&server);
//!     Ok(())
//! })
//! # }
//! ```

mod stream;
mod udp;

#[cfg(test)]
mod tests;

pub use stream::{TcpListener, TcpStream};
pub use udp::UdpSocket;

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::AtomicU32;

use tokio::io::unix::AsyncFd;

use crate::channel::{Channel, ChannelError, MessageBuf};
use crate::client::{allocate_txid, closed_or, connect_to_protocol, take_reply, ClientError};
use crate::fuchsia_posix::Errno;
use crate::fuchsia_posix_socket::{Domain, PROVIDER_PROTOCOL_NAME};
use crate::message::{encode_message, TransactionHeader};
use crate::Method;

/// A FIDL client over a non-blocking channel registered with tokio. Calls take turns, like
/// [`SyncClient`](crate::client::SyncClient)'s.
#[derive(Debug)]
pub(crate) struct AsyncClient {
    channel: AsyncFd<Channel>,
    next_txid: AtomicU32,
    buffer: tokio::sync::Mutex<MessageBuf>,
}

impl AsyncClient {
    /// Switches `channel` to non-blocking mode and registers it with the current runtime.
    pub(crate) fn new(channel: Channel) -> io::Result<Self> {
        channel.set_nonblocking(true)?;
        Ok(AsyncClient {
            channel: register(channel)?,
            next_txid: AtomicU32::new(1),
            buffer: tokio::sync::Mutex::new(MessageBuf::new()),
        })
    }

    /// Calls two-way method `M`.
    pub(crate) async fn call<M: Method>(&self, request: M::Request) -> Result<M::Response, ClientError> {
        const { assert!(!M::ONE_WAY, "a one-way method has no reply") };
        let txid = allocate_txid(&self.next_txid);
        let mut buffer = self.buffer.lock().await;
        encode_message(TransactionHeader::for_method::<M>(txid), request, &mut buffer)?;
        let written = self.write(&buffer).await;
        buffer.clear();
        if let Err(error) = written {
            return Err(closed_or(self.channel.get_ref(), error, &mut buffer));
        }
        loop {
            self.read(&mut buffer).await?;
            if let Some(reply) = take_reply::<M>(txid, &mut buffer) {
                return reply;
            }
        }
    }

    /// Calls `M` and turns every failure, transport or errno, into an `io::Error`.
    pub(crate) async fn call_errno<M, T>(&self, request: M::Request) -> io::Result<T>
    where
        M: Method<Response = Result<T, Errno>>,
    {
        self.call::<M>(request).await.map_err(client_error)?.map_err(errno_error)
    }

    async fn write(&self, buffer: &MessageBuf) -> Result<(), ChannelError> {
        loop {
            let mut ready = self.channel.writable().await?;
            match self.channel.get_ref().write(buffer) {
                Err(ChannelError::WouldBlock) => ready.clear_ready(),
                other => return other,
            }
        }
    }

    async fn read(&self, buffer: &mut MessageBuf) -> Result<(), ChannelError> {
        loop {
            let mut ready = self.channel.readable().await?;
            match self.channel.get_ref().read(buffer) {
                Err(ChannelError::WouldBlock) => ready.clear_ready(),
                other => return other,
            }
        }
    }
}

/// Registers a descriptor with the current runtime's reactor.
pub(crate) fn register<T: AsRawFd>(owner: T) -> io::Result<AsyncFd<T>> {
    // SAFETY: the owners used here (`OwnedFd`, `Channel`) own their descriptor for as long as
    // they live and always return that same descriptor from `as_raw_fd`.
    Ok(unsafe { AsyncFd::register(owner) }?)
}

/// The netstack's socket provider, over a new connection to the svc dir.
pub(crate) fn connect_provider() -> io::Result<AsyncClient> {
    AsyncClient::new(connect_to_protocol(PROVIDER_PROTOCOL_NAME)?)
}

/// An errno from the netstack as an `io::Error` with the same OS error code.
pub(crate) fn errno_error(errno: Errno) -> io::Error {
    io::Error::from_raw_os_error(errno.into_primitive())
}

/// A transport failure as an `io::Error`: a closed channel is a broken pipe.
pub(crate) fn client_error(error: ClientError) -> io::Error {
    match error {
        ClientError::PeerClosed { .. } => io::Error::new(io::ErrorKind::BrokenPipe, error),
        ClientError::Channel(ChannelError::Io(error)) => error,
        other => io::Error::other(other),
    }
}

/// The domain of sockets that use `addr`.
pub(crate) fn domain_of(addr: &SocketAddr) -> Domain {
    match addr {
        SocketAddr::V4(_) => Domain::Ipv4,
        SocketAddr::V6(_) => Domain::Ipv6,
    }
}
