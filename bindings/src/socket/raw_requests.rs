//! `fuchsia.posix.socket.raw/Socket` requests: the data plane (`Describe`, the datagram
//! framing), `GetInfo`, and the raw options with Linux's answers (raw(7), RFC 3542):
//!
//! * `ICMP6_FILTER` (RFC 3542 §3.2) is the core's, on ICMPv6 sockets; `EOPNOTSUPP` on an
//!   IPv6 socket of another protocol and `ENOPROTOOPT` on an IPv4 one, as Linux's
//!   `rawv6_seticmpfilter` and `ip_setsockopt` answer.
//! * `IPV6_CHECKSUM`: an ICMPv6 socket's checksum is always the stack's (RFC 3542 §3.1), so
//!   changing it is `EINVAL` and it reads as offset 2; other protocols' checksums are the
//!   application's (disabled), and asking the stack to compute one is `EOPNOTSUPP` (the
//!   core does not offer it). `ENOPROTOOPT` on IPv4 sockets.
//! * `IP_HDRINCL`: off, and only off (`EOPNOTSUPP` to turn it on): the stack always writes
//!   the IP header.
//!
//! The `BaseNetworkSocket` requests are [`options`](super::options)' and
//! [`datagram_requests`](super::datagram_requests)'.

use netstack_core::transport::raw::IcmpFilter;
use netstack_core::transport::SocketError;
use netstack_core::wire::IpProto;
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::Empty;
use netstack_fidl::fuchsia_posix_socket_raw::{
    socket as m, Icmpv6Filter, Ipv6ChecksumConfiguration, ProtocolAssociation, SocketDescribeResponse,
    SocketRequest,
};

use super::datagram::DatagramId;
use super::errno::from_socket_error;
use super::header::HEADER_LEN;
use super::{Kind, SocketServer};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::slab::Key;

/// Where the stack writes an ICMPv6 message's checksum (RFC 4443 §2.1).
const ICMPV6_CHECKSUM_OFFSET: i32 = 2;

impl SocketServer {
    pub(super) fn raw_request(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        socket: Key,
        txid: u32,
        request: SocketRequest,
    ) {
        let Some(entry) = self.sockets.get(socket) else { return };
        let domain = entry.domain;
        let Kind::Datagram(datagram) = &entry.kind else { return };
        let id = datagram.id;
        match request {
            SocketRequest::Network(request) => self.network_request(stack, ctx, key, socket, txid, request),
            SocketRequest::Describe {} => {
                let plane = datagram.plane.client_end();
                self.describe::<m::Describe>(stack, ctx, key, txid, plane, |fd| SocketDescribeResponse {
                    socket: Some(fd),
                    tx_meta_buf_size: Some(HEADER_LEN as u64),
                    rx_meta_buf_size: Some(HEADER_LEN as u64),
                });
            }
            SocketRequest::GetInfo {} => {
                let r = protocol(stack, id).map(|p| (domain, ProtocolAssociation::Associated(p.0)));
                self.reply::<m::GetInfo>(key, txid, r);
            }
            SocketRequest::SetIpHeaderIncluded { value } => {
                let r = if value { Err(Errno::EOPNOTSUPP) } else { Ok(()) };
                self.reply::<m::SetIpHeaderIncluded>(key, txid, r);
            }
            SocketRequest::GetIpHeaderIncluded {} => {
                self.reply::<m::GetIpHeaderIncluded>(key, txid, Ok(false));
            }
            SocketRequest::SetIcmpv6Filter { filter } => {
                let r = match id {
                    DatagramId::RawV6(id) => stack
                        .raw6_call(ctx, |raw, _| {
                            raw.set_icmp_filter(id, IcmpFilter { blocked: filter.blocked_types })
                        })
                        .map_err(from_socket_error),
                    _ => Err(Errno::ENOPROTOOPT),
                };
                self.reply::<m::SetIcmpv6Filter>(key, txid, r);
            }
            SocketRequest::GetIcmpv6Filter {} => {
                let r = match id {
                    DatagramId::RawV6(id) => match stack.raw6().options(id) {
                        Ok(o) if o.protocol == IpProto::ICMPV6 => {
                            Ok(Icmpv6Filter { blocked_types: o.icmp_filter.blocked })
                        }
                        Ok(_) => Err(Errno::EOPNOTSUPP),
                        Err(error) => Err(from_socket_error(error)),
                    },
                    _ => Err(Errno::ENOPROTOOPT),
                };
                self.reply::<m::GetIcmpv6Filter>(key, txid, r);
            }
            SocketRequest::SetIpv6Checksum { config } => {
                let r = ipv6_checksum(stack, id).and_then(|current| match (current, config) {
                    // RFC 3542 §3.1: not for ICMPv6, whose checksum is the stack's.
                    (Ipv6ChecksumConfiguration::Offset(_), _) => Err(Errno::EINVAL),
                    (_, Ipv6ChecksumConfiguration::Disabled(_)) => Ok(()),
                    (_, Ipv6ChecksumConfiguration::Offset(_)) => Err(Errno::EOPNOTSUPP),
                });
                self.reply::<m::SetIpv6Checksum>(key, txid, r);
            }
            SocketRequest::GetIpv6Checksum {} => {
                self.reply::<m::GetIpv6Checksum>(key, txid, ipv6_checksum(stack, id));
            }
        }
    }
}

/// The IP protocol raw socket `id` was opened for.
fn protocol(stack: &NetStack, id: DatagramId) -> Result<IpProto, Errno> {
    let options = match id {
        DatagramId::RawV4(id) => stack.raw4().options(id).map(|o| o.protocol),
        DatagramId::RawV6(id) => stack.raw6().options(id).map(|o| o.protocol),
        _ => Err(SocketError::BadSocket),
    };
    options.map_err(from_socket_error)
}

/// IPV6_CHECKSUM as Linux reports it: offset 2 on ICMPv6 sockets, disabled on others;
/// `ENOPROTOOPT` on IPv4 sockets.
fn ipv6_checksum(stack: &NetStack, id: DatagramId) -> Result<Ipv6ChecksumConfiguration, Errno> {
    match id {
        DatagramId::RawV6(_) => Ok(if protocol(stack, id)? == IpProto::ICMPV6 {
            Ipv6ChecksumConfiguration::Offset(ICMPV6_CHECKSUM_OFFSET)
        } else {
            Ipv6ChecksumConfiguration::Disabled(Empty {})
        }),
        _ => Err(Errno::ENOPROTOOPT),
    }
}
