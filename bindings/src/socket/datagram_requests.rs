//! `fuchsia.posix.socket/DatagramSocket` requests: the data plane (`Describe`), `bind`,
//! `connect` and `disconnect` (`AF_UNSPEC`), names and `shutdown` for UDP and ICMP echo
//! sockets, and for raw sockets, whose `BaseNetworkSocket` requests are the same. On an echo socket the "port" is the echo identifier, as Linux's ping sockets
//! show it.

use std::num::NonZeroU16;

use netstack_core::addr::{Ip, Ipv4, Ipv6, SpecifiedAddr};
use netstack_fidl::fuchsia_net::SocketAddress;
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    datagram_socket as m, DatagramSocketDescribeResponse, DatagramSocketProtocol, DatagramSocketRequest,
    ShutdownMode,
};

use super::addr::{mapped_v6, FidlIp, SockAddr};
use super::datagram::{with_datagram, DatagramId};
use super::errno::from_socket_error;
use super::header::HEADER_LEN;
use super::{Kind, SocketServer};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::slab::Key;

impl SocketServer {
    pub(super) fn datagram_request(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        socket: Key,
        txid: u32,
        request: DatagramSocketRequest,
    ) {
        let Some(entry) = self.sockets.get(socket) else { return };
        let domain = entry.domain;
        let Kind::Datagram(datagram) = &entry.kind else { return };
        match request {
            DatagramSocketRequest::Network(request) => {
                self.network_request(stack, ctx, key, socket, txid, request)
            }
            DatagramSocketRequest::Describe {} => {
                let plane = datagram.plane.client_end();
                self.describe::<m::Describe>(stack, ctx, key, txid, plane, |fd| {
                    DatagramSocketDescribeResponse {
                        socket: Some(fd),
                        tx_meta_buf_size: Some(HEADER_LEN as u64),
                        rx_meta_buf_size: Some(HEADER_LEN as u64),
                    }
                });
            }
            DatagramSocketRequest::GetInfo {} => {
                let proto = match datagram.id {
                    DatagramId::UdpV4(_) | DatagramId::UdpV6(_) => Ok(DatagramSocketProtocol::Udp),
                    DatagramId::PingV4(_) | DatagramId::PingV6(_) => Ok(DatagramSocketProtocol::IcmpEcho),
                    // Raw sockets speak `fuchsia.posix.socket.raw/Socket`: never here.
                    DatagramId::RawV4(_) | DatagramId::RawV6(_) => Err(Errno::EOPNOTSUPP),
                };
                self.reply::<netstack_fidl::fuchsia_posix_socket::base_datagram_socket::GetInfo>(
                    key,
                    txid,
                    proto.map(|proto| (domain, proto)),
                );
            }
        }
    }

    /// `shutdown` on a datagram socket: reading shut down makes the application read end of
    /// file, writing shut down makes its sends fail with `EPIPE`. Linux requires a connected
    /// socket (`ENOTCONN`).
    pub(super) fn datagram_shutdown(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: Key,
        mode: ShutdownMode,
    ) -> Result<(), Errno> {
        if mode.is_empty() {
            return Err(Errno::EINVAL);
        }
        let Some(Kind::Datagram(datagram)) = self.sockets.get(socket).map(|s| &s.kind) else {
            return Err(Errno::EBADF);
        };
        if peer_name(stack, ctx, datagram.id).is_err() {
            return Err(Errno::ENOTCONN);
        }
        datagram.plane.shutdown(mode.contains(ShutdownMode::READ), mode.contains(ShutdownMode::WRITE));
        Ok(())
    }
}

/// `bind`: an echo socket binds its identifier; a raw socket only an address (the port is
/// ignored, as Linux's `raw_bind` ignores it).
pub(super) fn bind(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    id: DatagramId,
    addr: &SocketAddress,
) -> Result<(), Errno> {
    // Every arm first takes the address (its errno as is), then calls the core.
    let bound = match id {
        DatagramId::UdpV4(id) => {
            local::<Ipv4>(addr).map(|(a, p)| stack.udp_call(ctx, |u, c| u.bind(c, id, a, p)))
        }
        DatagramId::UdpV6(id) => {
            local::<Ipv6>(addr).map(|(a, p)| stack.udp_call(ctx, |u, c| u.bind(c, id, a, p)))
        }
        DatagramId::PingV4(id) => {
            local::<Ipv4>(addr).map(|(a, p)| stack.ping_call(ctx, |e, c| e.bind(c, id, a, p)))
        }
        DatagramId::PingV6(id) => {
            local::<Ipv6>(addr).map(|(a, p)| stack.ping6_call(ctx, |e, c| e.bind(c, id, a, p)))
        }
        DatagramId::RawV4(id) => {
            local::<Ipv4>(addr).map(|(a, _)| stack.raw_call(ctx, |r, c| r.bind(c, id, a)))
        }
        // Linux's `rawv6_bind` answers EINVAL for another family.
        DatagramId::RawV6(id) => local::<Ipv6>(addr)
            .map_err(|_| Errno::EINVAL)
            .map(|(a, _)| stack.raw6_call(ctx, |r, c| r.bind(c, id, a))),
    };
    bound?.map_err(from_socket_error)
}

/// A socket's local address and port as the core keeps them: `None` for the wildcard and
/// for port 0.
type Local<A> = (Option<SpecifiedAddr<A>>, Option<NonZeroU16>);

/// The local address to bind to.
fn local<I: FidlIp>(addr: &SocketAddress) -> Result<Local<I::Addr>, Errno> {
    let a = I::from_fidl(addr)?;
    Ok((SpecifiedAddr::new(a.addr), NonZeroU16::new(a.port)))
}

/// `connect`: a dual-stack IPv6 UDP socket takes an IPv4 address as IPv4-mapped.
pub(super) fn connect(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    id: DatagramId,
    addr: &SocketAddress,
) -> Result<(), Errno> {
    match id {
        DatagramId::UdpV4(id) => {
            let a = Ipv4::from_fidl(addr)?;
            let remote = SpecifiedAddr::new(a.addr).unwrap_or(Ipv4::LOOPBACK_ADDRESS);
            stack.udp_call(ctx, |u, c| u.connect(c, id, remote, a.port))
        }
        DatagramId::UdpV6(id) => {
            // `AF_INET` on an IPv6-only socket: EAFNOSUPPORT (Linux's `__ip6_datagram_connect`;
            // an IPv4-mapped `AF_INET6` address is the core's ENETUNREACH).
            if matches!(addr, SocketAddress::Ipv4(_))
                && stack.udp_call(ctx, |u, _| u.options(id)).map_err(from_socket_error)?.v6only
            {
                return Err(Errno::EAFNOSUPPORT);
            }
            let a = mapped_v6(addr)?;
            let remote = SpecifiedAddr::new(a.addr).unwrap_or(Ipv6::LOOPBACK_ADDRESS);
            stack.udp_call(ctx, |u, c| u.connect(c, id, remote, a.port))
        }
        DatagramId::PingV4(id) => {
            let a = Ipv4::from_fidl(addr)?;
            let remote = SpecifiedAddr::new(a.addr).unwrap_or(Ipv4::LOOPBACK_ADDRESS);
            stack.ping_call(ctx, |p, c| p.connect(c, id, remote))
        }
        DatagramId::PingV6(id) => {
            let a = Ipv6::from_fidl(addr)?;
            let remote = SpecifiedAddr::new(a.addr).unwrap_or(Ipv6::LOOPBACK_ADDRESS);
            stack.ping6_call(ctx, |p, c| p.connect(c, id, remote))
        }
        DatagramId::RawV4(id) => {
            let a = Ipv4::from_fidl(addr)?;
            let remote = SpecifiedAddr::new(a.addr).unwrap_or(Ipv4::LOOPBACK_ADDRESS);
            stack.raw_call(ctx, |r, c| r.connect(c, id, remote))
        }
        DatagramId::RawV6(id) => {
            let a = Ipv6::from_fidl(addr)?;
            let remote = SpecifiedAddr::new(a.addr).unwrap_or(Ipv6::LOOPBACK_ADDRESS);
            stack.raw6_call(ctx, |r, c| r.connect(c, id, remote))
        }
    }
    .map_err(from_socket_error)
}

/// `connect(AF_UNSPEC)`.
pub(super) fn disconnect(stack: &mut NetStack, ctx: &mut BindingsCtx, id: DatagramId) -> Result<(), Errno> {
    with_datagram!(stack, ctx, id, |api, id| api.disconnect(id)).map_err(from_socket_error)
}

/// `getsockname`: the wildcard and port 0 before `bind`.
pub(super) fn local_name(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    id: DatagramId,
) -> Result<SocketAddress, Errno> {
    fn name<I: FidlIp>(local: Local<I::Addr>) -> SocketAddress {
        let (addr, port) = local;
        I::to_fidl(SockAddr {
            addr: addr.map_or(I::UNSPECIFIED_ADDRESS, |a| *a),
            port: port.map_or(0, NonZeroU16::get),
            zone: 0,
        })
    }
    match id {
        DatagramId::UdpV4(id) => stack.udp_call(ctx, |u, _| u.local_addr(id)).map(name::<Ipv4>),
        DatagramId::UdpV6(id) => stack.udp_call(ctx, |u, _| u.local_addr(id)).map(name::<Ipv6>),
        DatagramId::PingV4(id) => stack.ping_call(ctx, |p, _| p.local_addr(id)).map(name::<Ipv4>),
        DatagramId::PingV6(id) => stack.ping6_call(ctx, |p, _| p.local_addr(id)).map(name::<Ipv6>),
        // Linux names a raw socket's port after its protocol (`inet_sport` is the protocol).
        DatagramId::RawV4(id) => {
            let raw = stack.raw4();
            raw.local_addr(id)
                .and_then(|a| Ok(name::<Ipv4>((a, NonZeroU16::new(raw.options(id)?.protocol.0.into())))))
        }
        DatagramId::RawV6(id) => {
            let raw = stack.raw6();
            raw.local_addr(id)
                .and_then(|a| Ok(name::<Ipv6>((a, NonZeroU16::new(raw.options(id)?.protocol.0.into())))))
        }
    }
    .map_err(from_socket_error)
}

/// `getpeername`: `ENOTCONN` unless connected. A raw socket's peer has port 0. The core
/// does not tell an echo socket's peer, so echo sockets always answer `ENOTCONN`.
pub(super) fn peer_name(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    id: DatagramId,
) -> Result<SocketAddress, Errno> {
    match id {
        DatagramId::UdpV4(id) => stack
            .udp_call(ctx, |u, _| u.peer_addr(id))
            .map(|(a, p)| Ipv4::to_fidl(SockAddr { addr: *a, port: p.get(), zone: 0 }))
            .map_err(from_socket_error),
        DatagramId::UdpV6(id) => stack
            .udp_call(ctx, |u, _| u.peer_addr(id))
            .map(|(a, p)| Ipv6::to_fidl(SockAddr { addr: *a, port: p.get(), zone: 0 }))
            .map_err(from_socket_error),
        DatagramId::RawV4(id) => stack
            .raw4()
            .peer_addr(id)
            .map(|a| Ipv4::to_fidl(SockAddr { addr: *a, port: 0, zone: 0 }))
            .map_err(from_socket_error),
        DatagramId::RawV6(id) => stack
            .raw6()
            .peer_addr(id)
            .map(|a| Ipv6::to_fidl(SockAddr { addr: *a, port: 0, zone: 0 }))
            .map_err(from_socket_error),
        DatagramId::PingV4(_) | DatagramId::PingV6(_) => Err(Errno::ENOTCONN),
    }
}
