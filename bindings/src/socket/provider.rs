//! `fuchsia.posix.socket/Provider` and `fuchsia.posix.socket.raw/Provider`: creating
//! sockets (within the client's and the server's limits; raw ones of any IP protocol the
//! core takes, `ProtocolAssociation::Associated`) and the interface queries
//! `if_nametoindex`, `if_indextoname`, `SIOCGIFFLAGS` and `getifaddrs` rest on.

use netstack_core::addr::{Ipv4, Ipv6};
use netstack_core::wire::IpProto;
use netstack_fidl::channel::Channel;
use netstack_fidl::fuchsia_net::{IpAddress, Ipv4Address, Ipv6Address, Subnet};
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    provider, DatagramSocketProtocol, Domain, InterfaceAddresses, InterfaceFlags,
    ProviderDatagramSocketResponse, ProviderRequest,
};
use netstack_fidl::fuchsia_posix_socket_raw as raw;
use netstack_fidl::zx;

use super::datagram::{DatagramId, DatagramSocket};
use super::dataplane::{DatagramPlane, StreamPlane};
use super::errno::{from_io_error, from_socket_error};
use super::stream::{with_tcp, StreamSocket, TcpId};
use super::{Kind, SocketServer};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::slab::Key;

impl SocketServer {
    pub(super) fn provider_request(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        client: Key,
        txid: u32,
        request: ProviderRequest,
    ) {
        match request {
            ProviderRequest::StreamSocket { domain, proto: _ } => {
                let result = self.create_stream(stack, ctx, client, domain);
                self.reply::<provider::StreamSocket>(key, txid, result);
            }
            ProviderRequest::DatagramSocket { domain, proto } => {
                let result = self
                    .create_datagram(stack, ctx, client, domain, proto)
                    .map(ProviderDatagramSocketResponse::DatagramSocket);
                self.reply::<provider::DatagramSocket>(key, txid, result);
            }
            ProviderRequest::InterfaceIndexToName { index } => {
                let name = ctx
                    .sessions()
                    .iter()
                    .find(|s| u64::from(s.id.get()) == index)
                    .map(|s| s.backend.name().to_owned())
                    .ok_or(zx::ERR_NOT_FOUND);
                self.reply::<provider::InterfaceIndexToName>(key, txid, name);
            }
            ProviderRequest::InterfaceNameToIndex { name } => {
                let index = interface_index(ctx, &name).ok_or(zx::ERR_NOT_FOUND);
                self.reply::<provider::InterfaceNameToIndex>(key, txid, index);
            }
            ProviderRequest::InterfaceNameToFlags { name } => {
                let flags = interface_index(ctx, &name)
                    .map(|_| {
                        InterfaceFlags::UP
                            | InterfaceFlags::RUNNING
                            | InterfaceFlags::BROADCAST
                            | InterfaceFlags::MULTICAST
                    })
                    .ok_or(zx::ERR_NOT_FOUND);
                self.reply::<provider::InterfaceNameToFlags>(key, txid, flags);
            }
            ProviderRequest::GetInterfaceAddresses {} => {
                let interfaces = interface_addresses(stack, ctx);
                self.reply::<provider::GetInterfaceAddresses>(key, txid, interfaces);
            }
        }
    }

    pub(super) fn raw_provider_request(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        client: Key,
        txid: u32,
        request: raw::ProviderRequest,
    ) {
        match request {
            raw::ProviderRequest::Socket { domain, proto } => {
                let result = match proto {
                    raw::ProtocolAssociation::Associated(proto) => {
                        self.create_raw(stack, ctx, client, domain, IpProto(proto))
                    }
                    // A socket that receives nothing and sends whole IP packets: that is
                    // IP_HDRINCL, which the core does not offer.
                    raw::ProtocolAssociation::Unassociated(_) => Err(Errno::EPROTONOSUPPORT),
                };
                self.reply::<raw::provider::Socket>(key, txid, result);
            }
        }
    }

    /// `socket(AF_INET[6], SOCK_RAW, proto)`: any protocol but 0 and 255 (`IPPROTO_RAW`),
    /// `EPROTONOSUPPORT` for those, as the core decides. Who may open one is who may
    /// connect to the raw Provider in the svc dir (its file mode), not `CAP_NET_RAW`.
    fn create_raw(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        client: Key,
        domain: Domain,
        proto: IpProto,
    ) -> Result<Channel, Errno> {
        self.check_limits(client)?;
        let id = match domain {
            Domain::Ipv4 => stack.raw_call(ctx, |raw, _| raw.create(proto)).map(DatagramId::RawV4),
            Domain::Ipv6 => stack.raw6_call(ctx, |raw, _| raw.create(proto)).map(DatagramId::RawV6),
        }
        .map_err(from_socket_error)?;
        self.add_datagram(stack, ctx, client, domain, id)
    }

    /// `socket(AF_INET[6], SOCK_STREAM, 0)`.
    fn create_stream(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        client: Key,
        domain: Domain,
    ) -> Result<Channel, Errno> {
        self.check_limits(client)?;
        let tcp = stack
            .tcp_call(ctx, |tcp, _| match domain {
                Domain::Ipv4 => tcp.create::<Ipv4>(0).map(TcpId::V4),
                Domain::Ipv6 => tcp.create::<Ipv6>(0).map(TcpId::V6),
            })
            .map_err(from_socket_error)?;
        let plane = match StreamPlane::new_plugged() {
            Ok(plane) => plane,
            Err(error) => {
                close_tcp(stack, ctx, tcp);
                return Err(from_io_error(&error));
            }
        };
        match self.add_socket(client, domain, Kind::Stream(StreamSocket::new(tcp, plane))) {
            Ok(channel) => Ok(channel),
            Err((errno, _)) => {
                close_tcp(stack, ctx, tcp);
                Err(errno)
            }
        }
    }

    /// `socket(AF_INET[6], SOCK_DGRAM, 0 | IPPROTO_ICMP[V6])`.
    fn create_datagram(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        client: Key,
        domain: Domain,
        proto: DatagramSocketProtocol,
    ) -> Result<Channel, Errno> {
        self.check_limits(client)?;
        let id = match (domain, proto) {
            (Domain::Ipv4, DatagramSocketProtocol::Udp) => {
                stack.udp_call(ctx, |udp, _| udp.create::<Ipv4>(0)).map(DatagramId::UdpV4)
            }
            (Domain::Ipv6, DatagramSocketProtocol::Udp) => {
                stack.udp_call(ctx, |udp, _| udp.create::<Ipv6>(0)).map(DatagramId::UdpV6)
            }
            (Domain::Ipv4, DatagramSocketProtocol::IcmpEcho) => {
                stack.ping_call(ctx, |ping, _| ping.create()).map(DatagramId::PingV4)
            }
            (Domain::Ipv6, DatagramSocketProtocol::IcmpEcho) => {
                stack.ping6_call(ctx, |ping, _| ping.create()).map(DatagramId::PingV6)
            }
        }
        .map_err(from_socket_error)?;
        self.add_datagram(stack, ctx, client, domain, id)
    }

    /// Serves core datagram socket `id` with a new data plane; closes it on failure.
    fn add_datagram(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        client: Key,
        domain: Domain,
        id: DatagramId,
    ) -> Result<Channel, Errno> {
        let plane = match DatagramPlane::new() {
            Ok(plane) => plane,
            Err(error) => {
                DatagramSocket::close_id(stack, ctx, id);
                return Err(from_io_error(&error));
            }
        };
        match self.add_socket(client, domain, Kind::Datagram(DatagramSocket { id, plane })) {
            Ok(channel) => Ok(channel),
            Err((errno, _)) => {
                DatagramSocket::close_id(stack, ctx, id);
                Err(errno)
            }
        }
    }
}

fn close_tcp(stack: &mut NetStack, ctx: &mut BindingsCtx, tcp: TcpId) {
    with_tcp!(stack, ctx, tcp, |tcp, tctx, id| {
        let _ = tcp.close(tctx, id);
    });
}

/// The index of the interface called `name`.
pub(super) fn interface_index(ctx: &BindingsCtx, name: &str) -> Option<u64> {
    ctx.sessions().iter().find(|s| s.backend.name() == name).map(|s| u64::from(s.id.get()))
}

/// Every interface the loop drives, with its IPv4 addresses (ARP holds each device's, with
/// its prefix) then its IPv6 ones; tentative addresses included, as Linux's `getifaddrs`
/// lists them.
fn interface_addresses(stack: &NetStack, ctx: &BindingsCtx) -> Vec<InterfaceAddresses> {
    ctx.sessions()
        .iter()
        .map(|session| {
            let v4 =
                stack.arp(session.id).into_iter().flat_map(|arp| arp.addresses()).map(|(addr, _)| Subnet {
                    addr: IpAddress::Ipv4(Ipv4Address { addr: addr.addr().bytes() }),
                    prefix_len: addr.subnet().prefix_len(),
                });
            let v6 = stack.ipv6_addresses().iter().filter(|c| c.device == session.id).map(|c| Subnet {
                addr: IpAddress::Ipv6(Ipv6Address { addr: c.addr.addr().bytes() }),
                prefix_len: c.addr.subnet().prefix_len(),
            });
            InterfaceAddresses {
                id: Some(u64::from(session.id.get())),
                name: Some(session.backend.name().to_owned()),
                addresses: Some(v4.chain(v6).collect()),
                interface_flags: Some(
                    InterfaceFlags::UP
                        | InterfaceFlags::RUNNING
                        | InterfaceFlags::BROADCAST
                        | InterfaceFlags::MULTICAST,
                ),
            }
        })
        .collect()
}
