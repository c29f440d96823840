//! UDP over the datagram data plane: [`UdpSocket`]. Each packet carries the 32-byte header of
//! `fidl/README.md` ("The datagram data plane") before its payload.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::OwnedFd;

use rustix::net::{RecvAncillaryBuffer, RecvFlags, SendAncillaryBuffer, SendFlags};
use tokio::io::unix::AsyncFd;

use super::{client_error, connect_provider, domain_of, errno_error, register, AsyncClient};
use crate::fuchsia_posix_socket::{
    base_network_socket, datagram_socket, provider, DatagramSocketProtocol, ProviderDatagramSocketResponse,
};

/// The size of the header before each datagram.
pub(crate) const HEADER_SIZE: usize = 32;
const FAMILY_NONE: u16 = 0;
const FAMILY_INET: u16 = 2;
const FAMILY_INET6: u16 = 10;
const FAMILY_ERROR: u16 = 0xffff;

/// The header of a datagram to `to` (`None`: the connected peer).
pub(crate) fn encode_header(to: Option<SocketAddr>) -> [u8; HEADER_SIZE] {
    let mut header = [0u8; HEADER_SIZE];
    match to {
        None => header[0..2].copy_from_slice(&FAMILY_NONE.to_le_bytes()),
        Some(SocketAddr::V4(v4)) => {
            header[0..2].copy_from_slice(&FAMILY_INET.to_le_bytes());
            header[2..4].copy_from_slice(&v4.port().to_be_bytes());
            header[8..12].copy_from_slice(&v4.ip().octets());
        }
        Some(SocketAddr::V6(v6)) => {
            header[0..2].copy_from_slice(&FAMILY_INET6.to_le_bytes());
            header[2..4].copy_from_slice(&v6.port().to_be_bytes());
            header[4..8].copy_from_slice(&v6.flowinfo().to_be_bytes());
            header[8..24].copy_from_slice(&v6.ip().octets());
            header[24..28].copy_from_slice(&v6.scope_id().to_le_bytes());
        }
    }
    header
}

/// The source address of a received datagram, or the error an error record reports.
pub(crate) fn decode_header(header: &[u8; HEADER_SIZE]) -> io::Result<SocketAddr> {
    let family = u16::from_le_bytes([header[0], header[1]]);
    let port = u16::from_be_bytes([header[2], header[3]]);
    let word = |at: usize| [header[at], header[at + 1], header[at + 2], header[at + 3]];
    match family {
        FAMILY_INET => {
            let ip = Ipv4Addr::new(header[8], header[9], header[10], header[11]);
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
        }
        FAMILY_INET6 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&header[8..24]);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(octets),
                port,
                u32::from_be_bytes(word(4)),
                u32::from_le_bytes(word(24)),
            )))
        }
        FAMILY_ERROR => Err(io::Error::from_raw_os_error(i32::from_le_bytes(word(24)))),
        other => Err(io::Error::new(io::ErrorKind::InvalidData, format!("datagram header family {other}"))),
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
        if described.tx_meta_buf_size != Some(HEADER_SIZE as u64)
            || described.rx_meta_buf_size != Some(HEADER_SIZE as u64)
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
        self.send_with_header(buf, encode_header(Some(addr))).await
    }

    /// Sends `buf` to the connected peer (`EDESTADDRREQ` when there is none).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_with_header(buf, encode_header(None)).await
    }

    async fn send_with_header(&self, buf: &[u8], header: [u8; HEADER_SIZE]) -> io::Result<usize> {
        self.data
            .async_io(tokio::io::Interest::WRITABLE, |fd| {
                let sent = rustix::net::sendmsg(
                    fd,
                    &[IoSlice::new(&header), IoSlice::new(buf)],
                    &mut SendAncillaryBuffer::default(),
                    SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
                )?;
                Ok(sent.saturating_sub(HEADER_SIZE))
            })
            .await
    }

    /// Receives one datagram into `buf` (the excess of a longer one is dropped) and returns
    /// its length in `buf` and its source. An asynchronous error the netstack reported (an
    /// ICMP port unreachable on a connected socket, say) is returned instead.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut header = [0u8; HEADER_SIZE];
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
        if received < HEADER_SIZE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "datagram shorter than its header"));
        }
        let from = decode_header(&header)?;
        Ok((received - HEADER_SIZE, from))
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
