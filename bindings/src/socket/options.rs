//! The requests every socket shares: `fuchsia.unknown` (`Clone2`, `Close`, `Query`),
//! `BaseSocket` (`SOL_SOCKET` options, `SO_ERROR`) and `BaseNetworkSocket` (addressing,
//! `shutdown`, `SOL_IP` and `SOL_IPV6` options), mapped onto the core's setters with
//! Linux's semantics:
//!
//! * `SO_SNDBUF` and `SO_RCVBUF` store twice the value asked for, capped at twice
//!   `wmem_max`/`rmem_max` (212992) and at least Linux's minimums, and report what they
//!   stored (`sock_setsockopt`).
//! * `IP_TTL` and `IPV6_UNICAST_HOPS` unset (-1) restore the default; `IP_TTL` 0 is `EINVAL`;
//!   getting them unset reports the default (64).
//! * On TCP sockets `IP_TTL`, `IPV6_UNICAST_HOPS`, `IP_TOS` and `IPV6_TCLASS` are the
//!   core's, on every segment; the TOS / Traffic Class's ECN bits stay the stack's and read
//!   back cleared (Linux's `__ip_sock_set_tos`), `IPV6_UNICAST_HOPS` 0 is allowed.
//! * `SOL_IPV6` options on an IPv4 socket are `ENOPROTOOPT`, as `ipv6_setsockopt` is not
//!   reached for `AF_INET` sockets.
//!
//! Options the core has no setting for are kept by the server ([`SocketOptions`]) so that
//! what is set reads back, without effect on the traffic; the module documentation of
//! [`super`] and the report list them.

use std::time::Duration;

use netstack_core::addr::{IpVersion, Ipv4Addr, Ipv6Addr, MulticastAddr};
use netstack_core::device::DeviceId;
use netstack_core::transport::tcp::IpHeaderOptions;
use netstack_core::transport::SocketError;
use netstack_fidl::fuchsia_net::{Ipv4Address, MarkDomain};
use netstack_fidl::fuchsia_posix::Errno;
use netstack_fidl::fuchsia_posix_socket::{
    base_network_socket as n, base_socket as b, unknown, BaseNetworkSocketRequest, BaseSocketRequest, Domain,
    Empty, OptionalUint32, OptionalUint8, TimestampOption,
};
use netstack_fidl::Method;

use super::datagram::{with_datagram, DatagramId};
use super::errno::from_socket_error;
use super::provider::interface_index;
use super::stream::{with_tcp, Phase, TcpId};
use super::stream_requests::keepalive_on;
use super::{Kind, SocketServer};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::slab::Key;

/// Linux's `net.core.wmem_max` and `rmem_max` defaults.
const BUFFER_MAX: usize = 212_992;
/// Linux's `SOCK_MIN_SNDBUF` on 64-bit hosts.
const MIN_SNDBUF: usize = 4608;
/// Linux's `SOCK_MIN_RCVBUF` on 64-bit hosts.
const MIN_RCVBUF: usize = 2304;
/// The default TTL and hop limit (Linux's `ip_default_ttl`, and the usual CurHopLimit).
const DEFAULT_TTL: u8 = 64;

/// Options the server keeps because the core has no setting for them: they read back what
/// was set and change nothing on the wire.
#[derive(Clone, Debug)]
pub(crate) struct SocketOptions {
    pub(crate) oob_inline: bool,
    pub(crate) no_check: bool,
    pub(crate) timestamp: TimestampOption,
    pub(crate) marks: [OptionalUint32; 2],
    /// SO_BROADCAST of TCP and echo sockets (UDP's is the core's).
    pub(crate) broadcast: bool,
    /// SO_KEEPALIVE of datagram sockets (TCP's is the core's).
    pub(crate) keepalive: bool,
    /// SO_LINGER of datagram sockets.
    pub(crate) linger: Option<u32>,
    /// SO_REUSEPORT and SO_REUSEADDR of echo sockets (the core keeps SO_REUSEADDR too).
    pub(crate) reuse_port: bool,
    pub(crate) reuse_addr: bool,
    /// SO_SNDBUF of echo sockets, as stored (doubled).
    pub(crate) send_buffer: Option<usize>,
    /// SO_RCVBUF of echo sockets, as stored (doubled).
    pub(crate) receive_buffer: Option<usize>,
    /// SO_BINDTODEVICE of echo sockets.
    pub(crate) device: Option<DeviceId>,
    pub(crate) ip_tos: u8,
    /// IP_TTL as set: what IPv6 datagram and echo sockets read back (TCP, IPv4 UDP and raw
    /// sockets read the core's).
    pub(crate) ip_ttl: Option<u8>,
    pub(crate) ip_pktinfo: bool,
    pub(crate) ip_recvtos: bool,
    pub(crate) ip_recvttl: bool,
    pub(crate) ip_recvorigdstaddr: bool,
    pub(crate) ip_multicast_if: (u64, Ipv4Address),
    pub(crate) ipv6_multicast_if: u64,
    pub(crate) ipv6_recvhoplimit: bool,
    pub(crate) ipv6_recvtclass: bool,
    pub(crate) ipv6_recvpktinfo: bool,
    pub(crate) ipv6_tclass: u8,
    /// IPV6_UNICAST_HOPS as set: what echo sockets read back (TCP, UDP and raw sockets read
    /// the core's).
    pub(crate) ipv6_hops: Option<u8>,
    /// IPV6_V6ONLY of ICMPv6 echo sockets (TCP's and UDP's are the core's).
    pub(crate) ipv6_only: bool,
    pub(crate) tcp_defer_accept: u32,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            oob_inline: false,
            no_check: false,
            timestamp: TimestampOption::Disabled,
            marks: [OptionalUint32::Unset(Empty {}), OptionalUint32::Unset(Empty {})],
            broadcast: false,
            keepalive: false,
            linger: None,
            reuse_port: false,
            reuse_addr: false,
            send_buffer: None,
            receive_buffer: None,
            device: None,
            ip_tos: 0,
            ip_ttl: None,
            ip_pktinfo: false,
            ip_recvtos: false,
            ip_recvttl: false,
            ip_recvorigdstaddr: false,
            ip_multicast_if: (0, Ipv4Address::default()),
            ipv6_multicast_if: 0,
            ipv6_recvhoplimit: false,
            ipv6_recvtclass: false,
            ipv6_recvpktinfo: false,
            ipv6_tclass: 0,
            ipv6_hops: None,
            ipv6_only: false,
            tcp_defer_accept: 0,
        }
    }
}

/// SO_SNDBUF / SO_RCVBUF as Linux stores them.
fn doubled(bytes: u64, min: usize) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX).min(BUFFER_MAX).saturating_mul(2).max(min)
}

/// The core socket a request acts on.
#[derive(Clone, Copy)]
enum Target {
    Tcp(super::TcpId),
    Datagram(DatagramId),
}

impl SocketServer {
    /// Runs `f` on `socket`'s server-kept options.
    pub(super) fn with_options<R>(
        &mut self,
        socket: Key,
        f: impl FnOnce(&mut SocketOptions) -> R,
    ) -> Option<R> {
        self.sockets.get_mut(socket).map(|s| f(&mut s.options))
    }

    /// Answers `M`, the setter of a server-kept option: `set` stores the value unless
    /// `allowed` refuses the option (`SOL_IPV6` on an IPv4 socket). Request handlers call it
    /// (and [`Self::get_kept`]) through local macros, `set!(Method, field = value)` and
    /// `get!(Method, field)`, one line per option.
    pub(super) fn set_kept<M: Method<Response = Result<(), Errno>>>(
        &mut self,
        key: Key,
        txid: u32,
        socket: Key,
        allowed: Result<(), Errno>,
        set: impl FnOnce(&mut SocketOptions),
    ) {
        let r = allowed.map(|()| {
            self.with_options(socket, set);
        });
        self.reply::<M>(key, txid, r);
    }

    /// Answers `M`, the getter of a server-kept option, with what `get` reads (a new
    /// socket's value should the socket be gone) unless `allowed` refuses the option.
    pub(super) fn get_kept<T, M: Method<Response = Result<T, Errno>>>(
        &mut self,
        key: Key,
        txid: u32,
        socket: Key,
        allowed: Result<(), Errno>,
        get: impl FnOnce(&SocketOptions) -> T,
    ) {
        let r = allowed.map(|()| match self.sockets.get(socket) {
            Some(entry) => get(&entry.options),
            None => get(&SocketOptions::default()),
        });
        self.reply::<M>(key, txid, r);
    }

    fn target(&self, socket: Key) -> Option<(Target, Domain)> {
        let entry = self.sockets.get(socket)?;
        let target = match &entry.kind {
            Kind::Stream(s) => Target::Tcp(s.tcp),
            Kind::Datagram(d) => Target::Datagram(d.id),
        };
        Some((target, entry.domain))
    }

    pub(super) fn network_request(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        socket: Key,
        txid: u32,
        request: BaseNetworkSocketRequest,
    ) {
        let Some((target, domain)) = self.target(socket) else { return };
        let v6 = domain == Domain::Ipv6;
        // Options the server keeps, one line each (`v6`: `SOL_IPV6`, for IPv6 sockets only).
        macro_rules! set {
            (v6 $m:ty, $($f:tt)+) => { self.set_kept::<$m>(key, txid, socket, v6_only(v6), |o| o.$($f)+) };
            ($m:ty, $($f:tt)+) => { self.set_kept::<$m>(key, txid, socket, Ok(()), |o| o.$($f)+) };
        }
        macro_rules! get {
            (v6 $m:ty, $($f:tt)+) => { self.get_kept::<_, $m>(key, txid, socket, v6_only(v6), |o| o.$($f)+) };
            ($m:ty, $($f:tt)+) => { self.get_kept::<_, $m>(key, txid, socket, Ok(()), |o| o.$($f)+) };
        }
        use BaseNetworkSocketRequest as R;
        match request {
            R::Base(request) => self.base_request(stack, ctx, key, socket, txid, request),
            R::Bind { addr } => {
                let r = match target {
                    Target::Tcp(tcp) => self.stream_bind(stack, ctx, tcp, &addr),
                    Target::Datagram(id) => super::datagram_requests::bind(stack, ctx, id, &addr),
                };
                self.reply::<n::Bind>(key, txid, r);
            }
            R::Connect { addr } => {
                let r = match target {
                    Target::Tcp(_) => self.stream_connect(stack, ctx, socket, &addr),
                    Target::Datagram(id) => super::datagram_requests::connect(stack, ctx, id, &addr),
                };
                self.reply::<n::Connect>(key, txid, r);
            }
            R::Disconnect {} => {
                let r = match target {
                    Target::Tcp(_) => Err(Errno::EOPNOTSUPP),
                    Target::Datagram(id) => super::datagram_requests::disconnect(stack, ctx, id),
                };
                self.reply::<n::Disconnect>(key, txid, r);
            }
            R::GetSockName {} => {
                let r = match target {
                    Target::Tcp(tcp) => self.stream_name(stack, ctx, tcp, false),
                    Target::Datagram(id) => super::datagram_requests::local_name(stack, ctx, id),
                };
                self.reply::<n::GetSockName>(key, txid, r);
            }
            R::GetPeerName {} => {
                let r = match target {
                    Target::Tcp(tcp) => self.stream_name(stack, ctx, tcp, true),
                    Target::Datagram(id) => super::datagram_requests::peer_name(stack, ctx, id),
                };
                self.reply::<n::GetPeerName>(key, txid, r);
            }
            R::Shutdown { mode } => {
                let r = match target {
                    Target::Tcp(_) => self.stream_shutdown(stack, ctx, socket, mode),
                    Target::Datagram(_) => self.datagram_shutdown(stack, ctx, socket, mode),
                };
                self.reply::<n::Shutdown>(key, txid, r);
            }
            R::SetIpTypeOfService { value } => match target {
                Target::Tcp(tcp) => {
                    let r = tcp_set_tos(stack, ctx, tcp, IpVersion::V4, value);
                    self.reply::<n::SetIpTypeOfService>(key, txid, r);
                }
                Target::Datagram(_) => set!(n::SetIpTypeOfService, ip_tos = value),
            },
            R::GetIpTypeOfService {} => match target {
                Target::Tcp(tcp) => {
                    let r = tcp_ip_header(stack, ctx, tcp).map(|h| h.v4.tos);
                    self.reply::<n::GetIpTypeOfService>(key, txid, r);
                }
                Target::Datagram(_) => get!(n::GetIpTypeOfService, ip_tos),
            },
            R::SetIpTtl { value } => {
                let hops = optional_u8(value);
                let r = if hops == Some(0) { Err(Errno::EINVAL) } else { Ok(()) };
                let r = r.and_then(|()| match target {
                    Target::Tcp(tcp) => tcp_set_hop_limit(stack, ctx, tcp, IpVersion::V4, hops),
                    Target::Datagram(DatagramId::UdpV4(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_hop_limit(id, hops)).map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::PingV4(id)) => {
                        stack.ping_call(ctx, |p, _| p.set_hop_limit(id, hops)).map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::RawV4(id)) => {
                        stack.raw_call(ctx, |r, _| r.set_hop_limit(id, hops)).map_err(from_socket_error)
                    }
                    _ => Ok(()),
                });
                if r.is_ok() {
                    // What the core cannot tell back (echo sockets') reads back from here.
                    self.with_options(socket, |o| o.ip_ttl = hops);
                }
                self.reply::<n::SetIpTtl>(key, txid, r);
            }
            R::GetIpTtl {} => {
                let r = match target {
                    Target::Tcp(tcp) => {
                        tcp_ip_header(stack, ctx, tcp).map(|h| h.v4.hop_limit.unwrap_or(DEFAULT_TTL))
                    }
                    Target::Datagram(DatagramId::UdpV4(_) | DatagramId::RawV4(_)) => {
                        ip_options(stack, ctx, target).map(|o| o.hop_limit.unwrap_or(DEFAULT_TTL))
                    }
                    _ => Ok(self.with_options(socket, |o| o.ip_ttl).flatten().unwrap_or(DEFAULT_TTL)),
                };
                self.reply::<n::GetIpTtl>(key, txid, r);
            }
            R::SetIpPacketInfo { value } => set!(n::SetIpPacketInfo, ip_pktinfo = value),
            R::GetIpPacketInfo {} => get!(n::GetIpPacketInfo, ip_pktinfo),
            R::SetIpReceiveTypeOfService { value } => set!(n::SetIpReceiveTypeOfService, ip_recvtos = value),
            R::GetIpReceiveTypeOfService {} => get!(n::GetIpReceiveTypeOfService, ip_recvtos),
            R::SetIpReceiveTtl { value } => set!(n::SetIpReceiveTtl, ip_recvttl = value),
            R::GetIpReceiveTtl {} => get!(n::GetIpReceiveTtl, ip_recvttl),
            R::SetIpMulticastInterface { iface, address } => {
                set!(n::SetIpMulticastInterface, ip_multicast_if = (iface, address))
            }
            R::GetIpMulticastInterface {} => get!(n::GetIpMulticastInterface, ip_multicast_if.1),
            R::SetIpMulticastTtl { value } => {
                let hops = optional_u8(value);
                let r = match target {
                    Target::Datagram(DatagramId::UdpV4(id)) => stack
                        .udp_call(ctx, |u, _| u.set_multicast_hop_limit(id, hops))
                        .map_err(from_socket_error),
                    Target::Datagram(DatagramId::UdpV6(id)) => stack
                        .udp_call(ctx, |u, _| u.set_multicast_hop_limit(id, hops))
                        .map_err(from_socket_error),
                    Target::Datagram(DatagramId::RawV4(id)) => stack
                        .raw_call(ctx, |r, _| r.set_multicast_hop_limit(id, hops))
                        .map_err(from_socket_error),
                    Target::Datagram(DatagramId::RawV6(id)) => stack
                        .raw6_call(ctx, |r, _| r.set_multicast_hop_limit(id, hops))
                        .map_err(from_socket_error),
                    _ => Err(Errno::ENOPROTOOPT),
                };
                self.reply::<n::SetIpMulticastTtl>(key, txid, r);
            }
            R::GetIpMulticastTtl {} => {
                let r = ip_options(stack, ctx, target).map(|o| o.multicast_hop_limit);
                self.reply::<n::GetIpMulticastTtl>(key, txid, r);
            }
            R::SetIpMulticastLoopback { value } => {
                let r = set_multicast_loop(stack, ctx, target, value);
                self.reply::<n::SetIpMulticastLoopback>(key, txid, r);
            }
            R::GetIpMulticastLoopback {} => {
                let r = ip_options(stack, ctx, target).map(|o| o.multicast_loop);
                self.reply::<n::GetIpMulticastLoopback>(key, txid, r);
            }
            R::AddIpMembership { membership } => {
                let r = membership_v4(stack, ctx, target, membership.mcast_addr, membership.iface, true);
                self.reply::<n::AddIpMembership>(key, txid, r);
            }
            R::DropIpMembership { membership } => {
                let r = membership_v4(stack, ctx, target, membership.mcast_addr, membership.iface, false);
                self.reply::<n::DropIpMembership>(key, txid, r);
            }
            R::SetIpTransparent { .. } => {
                self.reply::<n::SetIpTransparent>(key, txid, Err(Errno::ENOPROTOOPT))
            }
            R::GetIpTransparent {} => self.reply::<n::GetIpTransparent>(key, txid, Ok(false)),
            R::SetIpReceiveOriginalDestinationAddress { value } => {
                set!(n::SetIpReceiveOriginalDestinationAddress, ip_recvorigdstaddr = value)
            }
            R::GetIpReceiveOriginalDestinationAddress {} => {
                get!(n::GetIpReceiveOriginalDestinationAddress, ip_recvorigdstaddr)
            }
            R::AddIpv6Membership { membership } => {
                let r = if v6 {
                    membership_v6(stack, ctx, target, membership.mcast_addr.addr, membership.iface, true)
                } else {
                    Err(Errno::ENOPROTOOPT)
                };
                self.reply::<n::AddIpv6Membership>(key, txid, r);
            }
            R::DropIpv6Membership { membership } => {
                let r = if v6 {
                    membership_v6(stack, ctx, target, membership.mcast_addr.addr, membership.iface, false)
                } else {
                    Err(Errno::ENOPROTOOPT)
                };
                self.reply::<n::DropIpv6Membership>(key, txid, r);
            }
            R::SetIpv6MulticastInterface { value } => {
                set!(v6 n::SetIpv6MulticastInterface, ipv6_multicast_if = value)
            }
            R::GetIpv6MulticastInterface {} => get!(v6 n::GetIpv6MulticastInterface, ipv6_multicast_if),
            R::SetIpv6UnicastHops { value } => {
                let hops = optional_u8(value);
                let r = v6_only(v6).and_then(|()| match target {
                    Target::Tcp(tcp) => tcp_set_hop_limit(stack, ctx, tcp, IpVersion::V6, hops),
                    Target::Datagram(DatagramId::UdpV6(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_hop_limit(id, hops)).map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::PingV6(id)) => {
                        stack.ping6_call(ctx, |p, _| p.set_hop_limit(id, hops)).map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::RawV6(id)) => {
                        stack.raw6_call(ctx, |r, _| r.set_hop_limit(id, hops)).map_err(from_socket_error)
                    }
                    _ => Ok(()),
                });
                if r.is_ok() {
                    self.with_options(socket, |o| o.ipv6_hops = hops);
                }
                self.reply::<n::SetIpv6UnicastHops>(key, txid, r);
            }
            R::GetIpv6UnicastHops {} => {
                let r = v6_only(v6).and_then(|()| match target {
                    Target::Tcp(tcp) => {
                        tcp_ip_header(stack, ctx, tcp).map(|h| h.v6.hop_limit.unwrap_or(DEFAULT_TTL))
                    }
                    Target::Datagram(DatagramId::UdpV6(_) | DatagramId::RawV6(_)) => {
                        ip_options(stack, ctx, target).map(|o| o.hop_limit.unwrap_or(DEFAULT_TTL))
                    }
                    _ => Ok(self.with_options(socket, |o| o.ipv6_hops).flatten().unwrap_or(DEFAULT_TTL)),
                });
                self.reply::<n::GetIpv6UnicastHops>(key, txid, r);
            }
            R::SetIpv6ReceiveHopLimit { value } => {
                set!(v6 n::SetIpv6ReceiveHopLimit, ipv6_recvhoplimit = value)
            }
            R::GetIpv6ReceiveHopLimit {} => get!(v6 n::GetIpv6ReceiveHopLimit, ipv6_recvhoplimit),
            R::SetIpv6MulticastHops { value } => {
                let hops = optional_u8(value);
                let r = v6_only(v6).and_then(|()| match target {
                    Target::Datagram(DatagramId::UdpV6(id)) => stack
                        .udp_call(ctx, |u, _| u.set_multicast_hop_limit(id, hops))
                        .map_err(from_socket_error),
                    Target::Datagram(DatagramId::RawV6(id)) => stack
                        .raw6_call(ctx, |r, _| r.set_multicast_hop_limit(id, hops))
                        .map_err(from_socket_error),
                    _ => Err(Errno::ENOPROTOOPT),
                });
                self.reply::<n::SetIpv6MulticastHops>(key, txid, r);
            }
            R::GetIpv6MulticastHops {} => {
                let r =
                    v6_only(v6).and_then(|()| ip_options(stack, ctx, target).map(|o| o.multicast_hop_limit));
                self.reply::<n::GetIpv6MulticastHops>(key, txid, r);
            }
            R::SetIpv6MulticastLoopback { value } => {
                let r = v6_only(v6).and_then(|()| set_multicast_loop(stack, ctx, target, value));
                self.reply::<n::SetIpv6MulticastLoopback>(key, txid, r);
            }
            R::GetIpv6MulticastLoopback {} => {
                let r = v6_only(v6).and_then(|()| ip_options(stack, ctx, target).map(|o| o.multicast_loop));
                self.reply::<n::GetIpv6MulticastLoopback>(key, txid, r);
            }
            R::SetIpv6Only { value } => {
                let r = v6_only(v6).and_then(|()| match target {
                    Target::Tcp(TcpId::V6(id)) => {
                        stack.tcp_call(ctx, |t, _| t.set_v6only(id, value)).map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::UdpV6(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_v6only(id, value)).map_err(from_socket_error)
                    }
                    // A raw socket has its port (the protocol) from the start: Linux's
                    // `do_ipv6_setsockopt` refuses IPV6_V6ONLY then.
                    Target::Datagram(DatagramId::RawV6(_)) => Err(Errno::EINVAL),
                    // An echo socket has no IPv4 side: kept, as Linux keeps it, without effect.
                    _ => {
                        self.with_options(socket, |o| o.ipv6_only = value);
                        Ok(())
                    }
                });
                self.reply::<n::SetIpv6Only>(key, txid, r);
            }
            R::GetIpv6Only {} => {
                let r = v6_only(v6).and_then(|()| match target {
                    Target::Tcp(TcpId::V6(id)) => {
                        stack.tcp_call(ctx, |t, _| t.v6only(id)).map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::UdpV6(id)) => {
                        stack.udp_call(ctx, |u, _| u.options(id)).map(|o| o.v6only).map_err(from_socket_error)
                    }
                    _ => Ok(self.with_options(socket, |o| o.ipv6_only).unwrap_or_default()),
                });
                self.reply::<n::GetIpv6Only>(key, txid, r);
            }
            R::SetIpv6ReceiveTrafficClass { value } => {
                set!(v6 n::SetIpv6ReceiveTrafficClass, ipv6_recvtclass = value)
            }
            R::GetIpv6ReceiveTrafficClass {} => get!(v6 n::GetIpv6ReceiveTrafficClass, ipv6_recvtclass),
            R::SetIpv6TrafficClass { value } => {
                let class = match value {
                    OptionalUint8::Value(v) => v,
                    OptionalUint8::Unset(_) => 0,
                };
                match target {
                    Target::Tcp(tcp) => {
                        let r = v6_only(v6).and_then(|()| tcp_set_tos(stack, ctx, tcp, IpVersion::V6, class));
                        self.reply::<n::SetIpv6TrafficClass>(key, txid, r);
                    }
                    Target::Datagram(_) => set!(v6 n::SetIpv6TrafficClass, ipv6_tclass = class),
                }
            }
            R::GetIpv6TrafficClass {} => match target {
                Target::Tcp(tcp) => {
                    let r = v6_only(v6).and_then(|()| tcp_ip_header(stack, ctx, tcp).map(|h| h.v6.tos));
                    self.reply::<n::GetIpv6TrafficClass>(key, txid, r);
                }
                Target::Datagram(_) => get!(v6 n::GetIpv6TrafficClass, ipv6_tclass),
            },
            R::SetIpv6ReceivePacketInfo { value } => {
                set!(v6 n::SetIpv6ReceivePacketInfo, ipv6_recvpktinfo = value)
            }
            R::GetIpv6ReceivePacketInfo {} => get!(v6 n::GetIpv6ReceivePacketInfo, ipv6_recvpktinfo),
            // No NAT here: nothing was rewritten (Linux's answer without conntrack).
            R::GetOriginalDestination {} => {
                self.reply::<n::GetOriginalDestination>(key, txid, Err(Errno::ENOENT))
            }
        }
    }

    fn base_request(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        key: Key,
        socket: Key,
        txid: u32,
        request: BaseSocketRequest,
    ) {
        let Some((target, _)) = self.target(socket) else { return };
        // Options the server keeps, one line each.
        macro_rules! set {
            ($m:ty, $($f:tt)+) => { self.set_kept::<$m>(key, txid, socket, Ok(()), |o| o.$($f)+) };
        }
        macro_rules! get {
            ($m:ty, $($f:tt)+) => { self.get_kept::<_, $m>(key, txid, socket, Ok(()), |o| o.$($f)+) };
        }
        use BaseSocketRequest as R;
        match request {
            R::Clone2 { request } => self.add_socket_channel(socket, request),
            R::Close {} => {
                self.reply::<unknown::Close>(key, txid, Ok(()));
                self.close_socket(stack, ctx, socket);
            }
            R::Query {} => {
                let name: &[u8] = match target {
                    Target::Tcp(_) => b"fuchsia.posix.socket/StreamSocket",
                    Target::Datagram(DatagramId::RawV4(_) | DatagramId::RawV6(_)) => {
                        b"fuchsia.posix.socket.raw/Socket"
                    }
                    Target::Datagram(_) => b"fuchsia.posix.socket/DatagramSocket",
                };
                self.reply::<unknown::Query>(key, txid, name.to_vec());
            }
            R::GetError {} => {
                let error = self.take_error(stack, ctx, socket);
                self.reply::<b::GetError>(key, txid, error.map_or(Ok(()), |e| Err(from_socket_error(e))));
            }
            R::SetReuseAddress { value } => {
                let r = match target {
                    Target::Tcp(tcp) => with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_reuse_addr(id, value)),
                    Target::Datagram(DatagramId::UdpV4(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_reuse_addr(id, value))
                    }
                    Target::Datagram(DatagramId::UdpV6(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_reuse_addr(id, value))
                    }
                    Target::Datagram(DatagramId::PingV4(id)) => {
                        stack.ping_call(ctx, |p, _| p.set_reuse_addr(id, value))
                    }
                    Target::Datagram(DatagramId::PingV6(id)) => {
                        stack.ping6_call(ctx, |p, _| p.set_reuse_addr(id, value))
                    }
                    // Raw sockets have no port to share: kept, without effect, as on Linux.
                    Target::Datagram(DatagramId::RawV4(_) | DatagramId::RawV6(_)) => Ok(()),
                };
                if r.is_ok() {
                    self.with_options(socket, |o| o.reuse_addr = value);
                }
                self.reply::<b::SetReuseAddress>(key, txid, r.map_err(from_socket_error));
            }
            R::GetReuseAddress {} => {
                let r = match target {
                    Target::Tcp(tcp) => {
                        with_tcp!(stack, ctx, tcp, |t, _c, id| t.options(id).map(|o| o.1.reuse_addr))
                            .map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::UdpV4(_) | DatagramId::UdpV6(_)) => {
                        udp_options(stack, ctx, target, |o| o.reuse_addr)
                    }
                    Target::Datagram(_) => {
                        Ok(self.with_options(socket, |o| o.reuse_addr).unwrap_or_default())
                    }
                };
                self.reply::<b::GetReuseAddress>(key, txid, r);
            }
            R::SetReusePort { value } => {
                let r = match target {
                    Target::Tcp(tcp) => with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_reuse_port(id, value))
                        .map_err(from_socket_error),
                    Target::Datagram(DatagramId::UdpV4(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_reuse_port(id, value)).map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::UdpV6(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_reuse_port(id, value)).map_err(from_socket_error)
                    }
                    Target::Datagram(_) => {
                        self.with_options(socket, |o| o.reuse_port = value);
                        Ok(())
                    }
                };
                self.reply::<b::SetReusePort>(key, txid, r);
            }
            R::GetReusePort {} => {
                let r = match target {
                    Target::Tcp(tcp) => {
                        with_tcp!(stack, ctx, tcp, |t, _c, id| t.options(id).map(|o| o.1.reuse_port))
                            .map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::UdpV4(_) | DatagramId::UdpV6(_)) => {
                        udp_options(stack, ctx, target, |o| o.reuse_port)
                    }
                    Target::Datagram(_) => {
                        Ok(self.with_options(socket, |o| o.reuse_port).unwrap_or_default())
                    }
                };
                self.reply::<b::GetReusePort>(key, txid, r);
            }
            R::SetBroadcast { value } => {
                let r = match target {
                    Target::Datagram(d) => {
                        with_datagram!(stack, ctx, d, |api, id| api.set_broadcast(id, value))
                    }
                    Target::Tcp(_) => Ok(()),
                };
                if r.is_ok() {
                    self.with_options(socket, |o| o.broadcast = value);
                }
                self.reply::<b::SetBroadcast>(key, txid, r.map_err(from_socket_error));
            }
            R::GetBroadcast {} => get!(b::GetBroadcast, broadcast),
            R::SetSendBuffer { value_bytes } => {
                let bytes = doubled(value_bytes, MIN_SNDBUF);
                let r = match target {
                    Target::Tcp(tcp) => with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_send_buffer(id, bytes)),
                    // The core doubles UDP's itself.
                    Target::Datagram(DatagramId::UdpV4(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_sndbuf(id, clamp(value_bytes)))
                    }
                    Target::Datagram(DatagramId::UdpV6(id)) => {
                        stack.udp_call(ctx, |u, _| u.set_sndbuf(id, clamp(value_bytes)))
                    }
                    Target::Datagram(_) => {
                        self.with_options(socket, |o| o.send_buffer = Some(bytes));
                        Ok(())
                    }
                };
                self.reply::<b::SetSendBuffer>(key, txid, r.map_err(from_socket_error));
            }
            R::GetSendBuffer {} => {
                let r = match target {
                    Target::Tcp(tcp) => {
                        with_tcp!(stack, ctx, tcp, |t, _c, id| t.options(id).map(|o| o.0.send_buffer))
                            .map_err(from_socket_error)
                    }
                    Target::Datagram(DatagramId::UdpV4(_) | DatagramId::UdpV6(_)) => {
                        udp_options(stack, ctx, target, |o| o.sndbuf)
                    }
                    Target::Datagram(_) => {
                        Ok(self.with_options(socket, |o| o.send_buffer).flatten().unwrap_or(BUFFER_MAX))
                    }
                };
                self.reply::<b::GetSendBuffer>(key, txid, r.map(|b| b as u64));
            }
            R::SetReceiveBuffer { value_bytes } => {
                let bytes = doubled(value_bytes, MIN_RCVBUF);
                let r = match target {
                    Target::Tcp(tcp) => with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_recv_buffer(id, bytes)),
                    Target::Datagram(d) => {
                        with_datagram!(stack, ctx, d, |api, id| api.set_rcvbuf(id, clamp(value_bytes)))
                    }
                };
                if r.is_ok() {
                    self.with_options(socket, |o| o.receive_buffer = Some(bytes));
                    // What waits for the application in the socketpair is bounded alike.
                    if let Some(Kind::Datagram(d)) = self.sockets.get(socket).map(|s| &s.kind) {
                        let _ = d.plane.set_receive_buffer(bytes / 2);
                    }
                }
                self.reply::<b::SetReceiveBuffer>(key, txid, r.map_err(from_socket_error));
            }
            R::GetReceiveBuffer {} => {
                let r = match target {
                    Target::Tcp(tcp) => {
                        with_tcp!(stack, ctx, tcp, |t, _c, id| t.options(id).map(|o| o.0.recv_buffer))
                            .map_err(from_socket_error)
                    }
                    Target::Datagram(
                        DatagramId::UdpV4(_)
                        | DatagramId::UdpV6(_)
                        | DatagramId::RawV4(_)
                        | DatagramId::RawV6(_),
                    ) => ip_options(stack, ctx, target).map(|o| o.rcvbuf),
                    Target::Datagram(_) => {
                        Ok(self.with_options(socket, |o| o.receive_buffer).flatten().unwrap_or(BUFFER_MAX))
                    }
                };
                self.reply::<b::GetReceiveBuffer>(key, txid, r.map(|b| b as u64));
            }
            R::SetKeepAlive { value } => {
                let r = match target {
                    Target::Tcp(tcp) => keepalive_on(stack, ctx, tcp, value),
                    Target::Datagram(_) => {
                        self.with_options(socket, |o| o.keepalive = value);
                        Ok(())
                    }
                };
                self.reply::<b::SetKeepAlive>(key, txid, r);
            }
            R::GetKeepAlive {} => {
                let r = match target {
                    Target::Tcp(tcp) => {
                        with_tcp!(stack, ctx, tcp, |t, _c, id| t.options(id).map(|o| o.0.keepalive))
                            .map_err(from_socket_error)
                    }
                    Target::Datagram(_) => Ok(self.with_options(socket, |o| o.keepalive).unwrap_or_default()),
                };
                self.reply::<b::GetKeepAlive>(key, txid, r);
            }
            R::SetOutOfBandInline { value } => set!(b::SetOutOfBandInline, oob_inline = value),
            R::GetOutOfBandInline {} => get!(b::GetOutOfBandInline, oob_inline),
            R::SetNoCheck { value } => set!(b::SetNoCheck, no_check = value),
            R::GetNoCheck {} => get!(b::GetNoCheck, no_check),
            R::SetLinger { linger, length_secs } => {
                let r = match target {
                    Target::Tcp(tcp) => {
                        let value = linger.then(|| Duration::from_secs(length_secs.into()));
                        with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_linger(id, value))
                            .map_err(from_socket_error)
                    }
                    Target::Datagram(_) => {
                        self.with_options(socket, |o| o.linger = linger.then_some(length_secs));
                        Ok(())
                    }
                };
                self.reply::<b::SetLinger>(key, txid, r);
            }
            R::GetLinger {} => {
                let r = match target {
                    Target::Tcp(tcp) => with_tcp!(stack, ctx, tcp, |t, _c, id| t
                        .options(id)
                        .map(|o| o.0.linger))
                    .map(|l| l.map_or((false, 0), |d| (true, u32::try_from(d.as_secs()).unwrap_or(u32::MAX))))
                    .map_err(from_socket_error),
                    Target::Datagram(_) => {
                        let l = self.with_options(socket, |o| o.linger).flatten();
                        Ok(l.map_or((false, 0), |s| (true, s)))
                    }
                };
                self.reply::<b::GetLinger>(key, txid, r);
            }
            R::GetAcceptConn {} => {
                let listening = matches!(
                    self.sockets.get(socket).map(|s| &s.kind),
                    Some(Kind::Stream(s)) if s.phase == Phase::Listening
                );
                self.reply::<b::GetAcceptConn>(key, txid, Ok(listening));
            }
            R::SetBindToDevice { value } => {
                let r = if value.is_empty() {
                    Ok(None)
                } else {
                    interface_index(ctx, &value).map(|i| Some(device(i))).ok_or(Errno::ENODEV)
                };
                let r = r.and_then(|d| self.bind_to_device(stack, ctx, socket, target, d));
                self.reply::<b::SetBindToDevice>(key, txid, r);
            }
            R::GetBindToDevice {} => {
                let name = self.bound_device(stack, ctx, socket, target).and_then(|d| {
                    ctx.sessions().iter().find(|s| s.id == d).map(|s| s.backend.name().to_owned())
                });
                self.reply::<b::GetBindToDevice>(key, txid, Ok(name.unwrap_or_default()));
            }
            R::SetBindToInterfaceIndex { value } => {
                let r = if value == 0 {
                    Ok(None)
                } else if ctx.sessions().iter().any(|s| u64::from(s.id.get()) == value) {
                    Ok(Some(device(value)))
                } else {
                    Err(Errno::ENODEV)
                };
                let r = r.and_then(|d| self.bind_to_device(stack, ctx, socket, target, d));
                self.reply::<b::SetBindToInterfaceIndex>(key, txid, r);
            }
            R::GetBindToInterfaceIndex {} => {
                let index = self.bound_device(stack, ctx, socket, target).map_or(0, |d| u64::from(d.get()));
                self.reply::<b::GetBindToInterfaceIndex>(key, txid, Ok(index));
            }
            R::SetTimestamp { value } => set!(b::SetTimestamp, timestamp = value),
            R::GetTimestamp {} => get!(b::GetTimestamp, timestamp),
            R::SetMark { domain, mark } => set!(b::SetMark, marks[mark_index(domain)] = mark),
            R::GetMark { domain } => get!(b::GetMark, marks[mark_index(domain)]),
        }
    }

    /// SO_ERROR: the pending error, taken.
    fn take_error(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: Key,
    ) -> Option<SocketError> {
        match &mut self.sockets.get_mut(socket)?.kind {
            Kind::Stream(stream) => stream
                .error
                .take()
                .or_else(|| with_tcp!(stack, ctx, stream.tcp, |t, _c, id| t.take_error(id)).ok().flatten()),
            Kind::Datagram(datagram) => datagram.take_error(stack, ctx),
        }
    }

    fn bind_to_device(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: Key,
        target: Target,
        device: Option<DeviceId>,
    ) -> Result<(), Errno> {
        let r = match target {
            Target::Tcp(tcp) => with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_device(id, device)),
            Target::Datagram(d) => with_datagram!(stack, ctx, d, |api, id| api.set_device(id, device)),
        };
        if r.is_ok() {
            self.with_options(socket, |o| o.device = device);
        }
        r.map_err(from_socket_error)
    }

    fn bound_device(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        socket: Key,
        target: Target,
    ) -> Option<DeviceId> {
        match target {
            Target::Tcp(tcp) => with_tcp!(stack, ctx, tcp, |t, _c, id| t.options(id).ok().and_then(|o| o.2)),
            Target::Datagram(DatagramId::UdpV4(id)) => stack.udp_call(ctx, |u, _| u.options(id).ok()?.device),
            Target::Datagram(DatagramId::UdpV6(id)) => stack.udp_call(ctx, |u, _| u.options(id).ok()?.device),
            Target::Datagram(_) => self.with_options(socket, |o| o.device).flatten(),
        }
    }
}

/// An option's value, or `None` for "unset" (a setsockopt of -1).
fn optional_u8(value: OptionalUint8) -> Option<u8> {
    match value {
        OptionalUint8::Value(v) => Some(v),
        OptionalUint8::Unset(_) => None,
    }
}

fn clamp(bytes: u64) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

fn device(index: u64) -> DeviceId {
    DeviceId::new(u32::try_from(index).unwrap_or(u32::MAX))
}

fn mark_index(domain: MarkDomain) -> usize {
    match domain {
        MarkDomain::Mark1 => 0,
        MarkDomain::Mark2 => 1,
    }
}

/// `SOL_IPV6` options exist on IPv6 sockets only.
/// IP_TTL (`version` V4) or IPV6_UNICAST_HOPS (V6) of a TCP socket: the core's, on the wire.
fn tcp_set_hop_limit(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    tcp: TcpId,
    version: IpVersion,
    hops: Option<u8>,
) -> Result<(), Errno> {
    with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_hop_limit(id, version, hops)).map_err(from_socket_error)
}

/// IP_TOS (`version` V4) or IPV6_TCLASS (V6) of a TCP socket; the core keeps the ECN bits,
/// as Linux does for stream sockets.
fn tcp_set_tos(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    tcp: TcpId,
    version: IpVersion,
    tos: u8,
) -> Result<(), Errno> {
    with_tcp!(stack, ctx, tcp, |t, _c, id| t.set_tos(id, version, tos)).map_err(from_socket_error)
}

/// A TCP socket's IP header choices, as the core keeps them.
fn tcp_ip_header(stack: &mut NetStack, ctx: &mut BindingsCtx, tcp: TcpId) -> Result<IpHeaderOptions, Errno> {
    with_tcp!(stack, ctx, tcp, |t, _c, id| t.ip_header(id)).map_err(from_socket_error)
}

fn v6_only(v6: bool) -> Result<(), Errno> {
    if v6 {
        Ok(())
    } else {
        Err(Errno::ENOPROTOOPT)
    }
}

/// One of a UDP socket's options; `ENOPROTOOPT` on other sockets.
fn udp_options<R>(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    target: Target,
    get: impl FnOnce(&netstack_core::transport::udp::UdpSocketOptions) -> R,
) -> Result<R, Errno> {
    let options = match target {
        Target::Datagram(DatagramId::UdpV4(id)) => stack.udp_call(ctx, |u, _| u.options(id)),
        Target::Datagram(DatagramId::UdpV6(id)) => stack.udp_call(ctx, |u, _| u.options(id)),
        _ => return Err(Errno::ENOPROTOOPT),
    };
    options.map(|o| get(&o)).map_err(from_socket_error)
}

/// The IP-level options the core keeps for UDP and raw sockets alike.
struct IpOptions {
    hop_limit: Option<u8>,
    multicast_hop_limit: u8,
    multicast_loop: bool,
    rcvbuf: usize,
}

/// A UDP or raw socket's IP-level options; `ENOPROTOOPT` on other sockets.
fn ip_options(stack: &mut NetStack, ctx: &mut BindingsCtx, target: Target) -> Result<IpOptions, Errno> {
    let udp = |o: netstack_core::transport::udp::UdpSocketOptions| IpOptions {
        hop_limit: o.hop_limit,
        multicast_hop_limit: o.multicast_hop_limit,
        multicast_loop: o.multicast_loop,
        rcvbuf: o.rcvbuf,
    };
    let raw = |o: netstack_core::transport::raw::RawSocketOptions| IpOptions {
        hop_limit: o.hop_limit,
        multicast_hop_limit: o.multicast_hop_limit,
        multicast_loop: o.multicast_loop,
        rcvbuf: o.rcvbuf,
    };
    match target {
        Target::Datagram(DatagramId::UdpV4(id)) => stack.udp_call(ctx, |u, _| u.options(id)).map(udp),
        Target::Datagram(DatagramId::UdpV6(id)) => stack.udp_call(ctx, |u, _| u.options(id)).map(udp),
        Target::Datagram(DatagramId::RawV4(id)) => stack.raw4().options(id).map(raw),
        Target::Datagram(DatagramId::RawV6(id)) => stack.raw6().options(id).map(raw),
        _ => return Err(Errno::ENOPROTOOPT),
    }
    .map_err(from_socket_error)
}

fn set_multicast_loop(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    target: Target,
    on: bool,
) -> Result<(), Errno> {
    match target {
        Target::Datagram(DatagramId::UdpV4(id)) => stack.udp_call(ctx, |u, _| u.set_multicast_loop(id, on)),
        Target::Datagram(DatagramId::UdpV6(id)) => stack.udp_call(ctx, |u, _| u.set_multicast_loop(id, on)),
        Target::Datagram(DatagramId::RawV4(id)) => stack.raw_call(ctx, |r, _| r.set_multicast_loop(id, on)),
        Target::Datagram(DatagramId::RawV6(id)) => stack.raw6_call(ctx, |r, _| r.set_multicast_loop(id, on)),
        _ => return Err(Errno::ENOPROTOOPT),
    }
    .map_err(from_socket_error)
}

/// IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP: UDP sockets only (`ENOPROTOOPT` elsewhere);
/// `EINVAL` for a group that is not multicast, as Linux.
fn membership_v4(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    target: Target,
    group: Ipv4Address,
    iface: u64,
    join: bool,
) -> Result<(), Errno> {
    let group = MulticastAddr::new(Ipv4Addr::new(group.addr)).ok_or(Errno::EINVAL)?;
    let dev = (iface != 0).then(|| device(iface));
    match target {
        Target::Datagram(DatagramId::UdpV4(id)) => stack.udp_call(ctx, |u, uctx| {
            if join {
                u.join_group(uctx, id, group, dev)
            } else {
                u.leave_group(uctx, id, group, dev)
            }
        }),
        // IPv4 groups on a dual-stack socket: Linux joins them on the IPv4 side; the core
        // keeps memberships per IP version, so this is not offered.
        Target::Datagram(DatagramId::UdpV6(_)) => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::ENOPROTOOPT),
    }
    .map_err(from_socket_error)
}

/// IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP on an IPv6 UDP socket.
fn membership_v6(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    target: Target,
    group: [u8; 16],
    iface: u64,
    join: bool,
) -> Result<(), Errno> {
    let group = MulticastAddr::new(Ipv6Addr::new(group)).ok_or(Errno::EINVAL)?;
    let dev = (iface != 0).then(|| device(iface));
    match target {
        Target::Datagram(DatagramId::UdpV6(id)) => stack.udp_call(ctx, |u, uctx| {
            if join {
                u.join_group(uctx, id, group, dev)
            } else {
                u.leave_group(uctx, id, group, dev)
            }
        }),
        _ => return Err(Errno::ENOPROTOOPT),
    }
    .map_err(from_socket_error)
}
