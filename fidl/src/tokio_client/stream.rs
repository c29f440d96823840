//! TCP over the stream data plane: [`TcpStream`] and [`TcpListener`] (`fidl/README.md`, "The
//! stream data plane").

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{client_error, connect_provider, domain_of, errno_error, register, AsyncClient};
use crate::channel::Channel;
use crate::fuchsia_posix::Errno;
use crate::fuchsia_posix_socket::{
    base_network_socket, base_socket, provider, stream_socket, StreamSocketProtocol,
};

/// Asks `SO_ERROR`: the pending error of the socket, if any.
type ErrorCheck = Pin<Box<dyn Future<Output = io::Result<Option<io::Error>>> + Send>>;

fn check_error(control: &Arc<AsyncClient>) -> ErrorCheck {
    let control = control.clone();
    Box::pin(async move {
        match control.call::<base_socket::GetError>(()).await.map_err(client_error)? {
            Ok(()) => Ok(None),
            Err(errno) => Ok(Some(errno_error(errno))),
        }
    })
}

/// Creates a stream socket for `domain` and returns its control client.
async fn new_stream_socket(provider: &AsyncClient, addr: &SocketAddr) -> io::Result<AsyncClient> {
    let channel = provider
        .call_errno::<provider::StreamSocket, _>((domain_of(addr), StreamSocketProtocol::Tcp))
        .await?;
    AsyncClient::new(channel)
}

/// Fetches the data plane of a stream socket and registers it with tokio.
async fn data_plane(control: &AsyncClient) -> io::Result<AsyncFd<OwnedFd>> {
    let described = control.call::<stream_socket::Describe>(()).await.map_err(client_error)?;
    let fd = described.socket.ok_or_else(|| io::Error::other("Describe returned no data plane"))?;
    rustix::io::ioctl_fionbio(&fd, true)?;
    register(fd)
}

/// A TCP connection through the netstack.
pub struct TcpStream {
    control: Arc<AsyncClient>,
    data: AsyncFd<OwnedFd>,
    read_check: Option<ErrorCheck>,
    write_check: Option<ErrorCheck>,
    read_closed: bool,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream").field("control", &self.control).field("data", &self.data).finish()
    }
}

impl TcpStream {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        Self::connect_with(&connect_provider()?, addr).await
    }

    /// Connects to `addr` with a socket from `provider`.
    pub(crate) async fn connect_with(provider: &AsyncClient, addr: SocketAddr) -> io::Result<TcpStream> {
        let control = new_stream_socket(provider, &addr).await?;
        let data = data_plane(&control).await?;
        match control.call::<base_network_socket::Connect>(addr.into()).await.map_err(client_error)? {
            Ok(()) => {}
            Err(Errno::EINPROGRESS) => {
                // The data plane turns writable once the attempt ends, either way.
                let _ready = data.writable().await?;
                control.call_errno::<base_socket::GetError, _>(()).await?;
            }
            Err(errno) => return Err(errno_error(errno)),
        }
        Ok(Self::from_parts(control, data))
    }

    /// A stream over an accepted connection's channel.
    async fn accepted(channel: Channel) -> io::Result<TcpStream> {
        let control = AsyncClient::new(channel)?;
        let data = data_plane(&control).await?;
        Ok(Self::from_parts(control, data))
    }

    fn from_parts(control: AsyncClient, data: AsyncFd<OwnedFd>) -> TcpStream {
        TcpStream {
            control: Arc::new(control),
            data,
            read_check: None,
            write_check: None,
            read_closed: false,
        }
    }

    /// The local address (`getsockname`).
    pub async fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.control.call_errno::<base_network_socket::GetSockName, _>(()).await?.into())
    }

    /// The peer's address (`getpeername`).
    pub async fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.control.call_errno::<base_network_socket::GetPeerName, _>(()).await?.into())
    }

    /// Sets `TCP_NODELAY`.
    pub async fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.control.call_errno::<stream_socket::SetTcpNoDelay, _>(nodelay).await
    }

    /// Takes the pending error (`SO_ERROR`), if any.
    pub async fn take_error(&self) -> io::Result<Option<io::Error>> {
        check_error(&self.control).await
    }
}

impl AsyncRead for TcpStream {
    /// Reads from the data plane. At end of stream the netstack is asked for a pending error
    /// (a reset or a timeout ends the stream too), which the read then returns.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if let Some(check) = this.read_check.as_mut() {
                let pending = ready!(check.as_mut().poll(cx));
                this.read_check = None;
                this.read_closed = true;
                return Poll::Ready(match pending {
                    Ok(Some(error)) | Err(error) => Err(error),
                    Ok(None) => Ok(()),
                });
            }
            if this.read_closed || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let mut ready = ready!(this.data.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match ready.try_io(|fd| rustix::io::read(fd.get_ref(), &mut *unfilled).map_err(io::Error::from)) {
                Ok(Ok(0)) => this.read_check = Some(check_error(&this.control)),
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(error)) => return Poll::Ready(Err(error)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for TcpStream {
    /// Writes into the data plane. When the netstack has closed it, returns the pending error
    /// (a reset, say), or a broken pipe.
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if let Some(check) = this.write_check.as_mut() {
                let pending = ready!(check.as_mut().poll(cx));
                this.write_check = None;
                return Poll::Ready(Err(match pending {
                    Ok(Some(error)) | Err(error) => error,
                    Ok(None) => io::ErrorKind::BrokenPipe.into(),
                }));
            }
            let mut ready = ready!(this.data.poll_write_ready(cx))?;
            let sent = ready.try_io(|fd| {
                rustix::net::send(fd.get_ref(), buf, rustix::net::SendFlags::NOSIGNAL)
                    .map_err(io::Error::from)
            });
            match sent {
                Ok(Err(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
                    this.write_check = Some(check_error(&this.control));
                }
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down writing on the data plane; the netstack sends FIN after the bytes before it.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(
            rustix::net::shutdown(self.data.get_ref(), rustix::net::Shutdown::Write).map_err(io::Error::from),
        )
    }
}

/// A listening TCP socket in the netstack.
#[derive(Debug)]
pub struct TcpListener {
    control: AsyncClient,
    data: AsyncFd<OwnedFd>,
}

impl TcpListener {
    /// The backlog `bind` listens with.
    pub const BACKLOG: i16 = 1024;

    /// Binds to `addr` (with `SO_REUSEADDR`, as tokio does) and listens.
    pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        Self::bind_with(&connect_provider()?, addr).await
    }

    /// Binds to `addr` with a socket from `provider` and listens.
    pub(crate) async fn bind_with(provider: &AsyncClient, addr: SocketAddr) -> io::Result<TcpListener> {
        let control = new_stream_socket(provider, &addr).await?;
        let data = data_plane(&control).await?;
        control.call_errno::<base_socket::SetReuseAddress, _>(true).await?;
        control.call_errno::<base_network_socket::Bind, _>(addr.into()).await?;
        control.call_errno::<stream_socket::Listen, _>(Self::BACKLOG).await?;
        Ok(TcpListener { control, data })
    }

    /// Waits for a connection and accepts it.
    ///
    /// Not fully cancel-safe, unlike tokio's: dropped while waiting for a connection it loses
    /// nothing, but dropped in the short time between sending `Accept` and reading its reply
    /// it discards the accepted connection, which the netstack then closes.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            // The data plane is readable while connections wait (the netstack's token byte).
            let mut ready = self.data.readable().await?;
            match self.control.call::<stream_socket::Accept>(true).await.map_err(client_error)? {
                Ok((Some(addr), channel)) => return Ok((TcpStream::accepted(channel).await?, addr.into())),
                Ok((None, _)) => return Err(io::Error::other("Accept returned no peer address")),
                Err(Errno::EAGAIN) => ready.clear_ready(),
                Err(errno) => return Err(errno_error(errno)),
            }
        }
    }

    /// The local address (`getsockname`).
    pub async fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.control.call_errno::<base_network_socket::GetSockName, _>(()).await?.into())
    }
}
