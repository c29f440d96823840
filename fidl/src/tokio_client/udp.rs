//! UDP over the datagram data plane: [`UdpSocket`]. Each packet carries the 32-byte header of
//! `fidl/README.md` ("The datagram data plane") before its payload.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use rustix::net::{RecvAncillaryBuffer, RecvFlags, SendAncillaryBuffer, SendFlags};
use tokio::io::unix::AsyncFd;

use crate::datagram_header::{self, Received, UnknownFamily, HEADER_LEN};

use super::{client_error, connect_provider, domain_of, errno_error, register, AsyncClient};
use crate::fuchsia_posix_socket::{
    base_network_socket, datagram_socket, provider, DatagramSocketProtocol, ProviderDatagramSocketResponse,
};

/// The source address of a received datagram, or the error an error record reports.
pub(crate) fn decode_header(header: &[u8; HEADER_LEN]) -> io::Result<SocketAddr> {
    match datagram_header::decode(header) {
        Ok(Received::From(addr)) => Ok(addr),
        Ok(Received::Error(errno)) => Err(io::Error::from_raw_os_error(errno)),
        Ok(Received::Anonymous) => Err(io::Error::new(io::ErrorKind::InvalidData, UnknownFamily(0))),
        Err(unknown) => Err(io::Error::new(io::ErrorKind::InvalidData, unknown)),
    }
}

/// A UDP socket in the netstack.
#[derive(Debug)]
pub struct UdpSocket {
    control: AsyncClient,
    data: AsyncFd<OwnedFd>,
}

impl UdpSocket {
    /// Binds a UDP socket to `addr`.
    pub async fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        Self::bind_with(&connect_provider()?, addr).await
    }

    /// Binds a UDP socket from `provider` to `addr`.
    pub(crate) async fn bind_with(provider: &AsyncClient, addr: SocketAddr) -> io::Result<UdpSocket> {
        let created = provider
            .call_errno::<provider::DatagramSocket, _>((domain_of(&addr), DatagramSocketProtocol::Udp))
            .await?;
        let ProviderDatagramSocketResponse::DatagramSocket(channel) = created else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the netstack offered a synchronous datagram socket",
            ));
        };
        let control = AsyncClient::new(channel)?;
        let described = control.call::<datagram_socket::Describe>(()).await.map_err(client_error)?;
        if described.tx_meta_buf_size != Some(HEADER_LEN as u64)
            || described.rx_meta_buf_size != Some(HEADER_LEN as u64)
        {
            return Err(io::Error::other("unexpected datagram header sizes"));
        }
        let fd = described.socket.ok_or_else(|| io::Error::other("Describe returned no data plane"))?;
        rustix::io::ioctl_fionbio(&fd, true)?;
        let socket = UdpSocket { control, data: register(fd)? };
        socket.control.call_errno::<base_network_socket::Bind, _>(addr.into()).await?;
        Ok(socket)
    }

    /// Sets the default destination, and receives only from it.
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.control.call_errno::<base_network_socket::Connect, _>(addr.into()).await
    }

    /// The local address (`getsockname`).
    pub async fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.control.call_errno::<base_network_socket::GetSockName, _>(()).await?.into())
    }

    /// The connected peer (`getpeername`).
    pub async fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.control.call_errno::<base_network_socket::GetPeerName, _>(()).await?.into())
    }

    /// Sends `buf` to `addr`.
    pub async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> io::Result<usize> {
        self.send_with_header(buf, datagram_header::encode(Some(&addr))).await
    }

    /// Sends `buf` to the connected peer (`EDESTADDRREQ` when there is none).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_with_header(buf, datagram_header::encode(None)).await
    }

    async fn send_with_header(&self, buf: &[u8], header: [u8; HEADER_LEN]) -> io::Result<usize> {
        self.data
            .async_io(tokio::io::Interest::WRITABLE, |fd| {
                let sent = rustix::net::sendmsg(
                    fd,
                    &[IoSlice::new(&header), IoSlice::new(buf)],
                    &mut SendAncillaryBuffer::default(),
                    SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
                )?;
                Ok(sent.saturating_sub(HEADER_LEN))
            })
            .await
    }

    /// Receives one datagram into `buf` (the excess of a longer one is dropped) and returns
    /// its length in `buf` and its source. An asynchronous error the netstack reported (an
    /// ICMP port unreachable on a connected socket, say) is returned instead.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut header = [0u8; HEADER_LEN];
        let received = self
            .data
            .async_io(tokio::io::Interest::READABLE, |fd| {
                let received = rustix::net::recvmsg(
                    fd,
                    &mut [IoSliceMut::new(&mut header), IoSliceMut::new(&mut *buf)],
                    &mut RecvAncillaryBuffer::default(),
                    RecvFlags::DONTWAIT,
                )?;
                Ok(received.bytes)
            })
            .await?;
        if received < HEADER_LEN {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "datagram shorter than its header"));
        }
        let from = decode_header(&header)?;
        Ok((received - HEADER_LEN, from))
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_from(buf).await.map(|(len, _)| len)
    }

    /// Takes the pending error (`SO_ERROR`), if any.
    pub async fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self.control.call::<crate::fuchsia_posix_socket::base_socket::GetError>(()).await {
            Ok(Ok(())) => Ok(None),
            Ok(Err(errno)) => Ok(Some(errno_error(errno))),
            Err(error) => Err(client_error(error)),
        }
    }
}
