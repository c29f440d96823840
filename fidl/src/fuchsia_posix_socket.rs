//! Bindings for `fidl/sdk/fuchsia.posix.socket/socket.fidl`: the POSIX socket API.
//!
//! Protocols, each a module of [`Method`](crate::Method) types plus a request enum:
//! [`provider`] ([`ProviderRequest`]), [`base_socket`] ([`BaseSocketRequest`], which flattens
//! the `fuchsia.unknown` methods in [`unknown`]), [`base_network_socket`]
//! ([`BaseNetworkSocketRequest`]), [`base_datagram_socket`] and [`datagram_socket`]
//! ([`DatagramSocketRequest`]), [`stream_socket`] ([`StreamSocketRequest`]). Composed methods
//! keep the declaring protocol's ordinal, so every socket shares e.g.
//! [`base_network_socket::Bind`].
//!
//! The data planes differ from Fuchsia's (see `fidl/README.md`): `Describe` hands out an
//! `AF_UNIX` socketpair end instead of a zircon socket, and datagram sockets frame each packet
//! with our 32-byte header rather than FIDL-encoded metadata, so the datagram fast-path methods
//! (`SendMsgPreflight`, `RecvMsgPostflight`) and `SynchronousDatagramSocket` are not declared.

use crate::channel::Channel;
use crate::fuchsia_net::{InterfaceId, Ipv4Address, Ipv6Address, MarkDomain, SocketAddress, Subnet};
use crate::fuchsia_posix::Errno;
use std::os::fd::OwnedFd;

/// The name of the Provider protocol in the svc dir.
pub const PROVIDER_PROTOCOL_NAME: &str = "fuchsia.posix.socket.Provider";

/// The longest interface name, in bytes (`IFNAMSIZ` - 1). Interface names are `String`s of at
/// most this length (`fuchsia.net.interfaces/Name`); decoding does not enforce the bound, so
/// servers check it.
pub const INTERFACE_NAME_LENGTH: usize = 15;

/// The `fuchsia.unknown` methods every socket composes.
pub mod unknown {
    pub use crate::fuchsia_unknown::cloneable::Clone2;
    pub use crate::fuchsia_unknown::closeable::Close;
    pub use crate::fuchsia_unknown::queryable::Query;
}

crate::fidl_bits! {
    /// Which directions `Shutdown` closes.
    pub struct ShutdownMode: u16 {
        /// Shut down receiving (`SHUT_RD`).
        const READ = 1;
        /// Shut down sending (`SHUT_WR`).
        const WRITE = 2;
    }
}

crate::fidl_enum! {
    /// How received packets are timestamped (`SO_TIMESTAMP`, `SO_TIMESTAMPNS`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TimestampOption: u32 { Disabled = 0, Nanosecond = 1, Microsecond = 2 }
}

crate::fidl_struct! {
    /// `IP_ADD_MEMBERSHIP` / `IP_DROP_MEMBERSHIP` argument.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct IpMulticastMembership {
        /// The interface, or 0 to pick it by `local_addr` or by route.
        pub iface: InterfaceId,
        /// The local address on the interface, or unspecified.
        pub local_addr: Ipv4Address,
        /// The group.
        pub mcast_addr: Ipv4Address,
    }
}

crate::fidl_struct! {
    /// `IPV6_JOIN_GROUP` / `IPV6_LEAVE_GROUP` argument.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Ipv6MulticastMembership {
        /// The interface, or 0 to pick it by route.
        pub iface: InterfaceId,
        /// The group.
        pub mcast_addr: Ipv6Address,
    }
}

crate::fidl_union! {
    /// A byte value that may be unset (FIDL has no optional integers).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum OptionalUint8 { 1 => Value(u8), 2 => Unset(Empty) }
}

crate::fidl_union! {
    /// A `u32` value that may be unset.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum OptionalUint32 { 1 => Value(u32), 2 => Unset(Empty) }
}

crate::fidl_struct! {
    /// The empty struct.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Empty {}
}

crate::fidl_enum! {
    /// A socket's address family.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Domain: i16 {
        /// `AF_INET`.
        Ipv4 = 0,
        /// `AF_INET6`.
        Ipv6 = 1,
    }
}

crate::fidl_enum! {
    /// The protocols of datagram sockets.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum DatagramSocketProtocol: u32 {
        /// UDP (`SOCK_DGRAM` with protocol 0 or `IPPROTO_UDP`).
        Udp = 1,
        /// ICMP echo (`SOCK_DGRAM` with `IPPROTO_ICMP` or `IPPROTO_ICMPV6`).
        IcmpEcho = 2,
    }
}

crate::fidl_enum! {
    /// The protocols of stream sockets.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum StreamSocketProtocol: u32 {
        /// TCP (`SOCK_STREAM` with protocol 0 or `IPPROTO_TCP`).
        Tcp = 0,
    }
}

crate::fidl_enum! {
    /// TCP congestion control algorithms (`TCP_CONGESTION`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TcpCongestionControl: u32 { Reno = 1, Cubic = 2 }
}

crate::fidl_enum! {
    /// TCP states, numbered as Linux's `tcpi_state`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TcpState: u32 {
        Established = 1, SynSent = 2, SynRecv = 3, FinWait1 = 4, FinWait2 = 5, TimeWait = 6,
        Close = 7, CloseWait = 8, LastAck = 9, Listen = 10, Closing = 11,
    }
}

crate::fidl_enum! {
    /// Congestion control states, numbered as Linux's `tcpi_ca_state`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TcpCongestionControlState: u32 {
        Open = 0, Disorder = 1, CongestionWindowReduced = 2, Recovery = 3, Loss = 4,
    }
}

crate::fidl_table! {
    /// `TCP_INFO`: the subset of Linux's `struct tcp_info` the netstack reports; each field's
    /// ordinal is its position in `struct tcp_info`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TcpInfo {
        1 => pub state: TcpState,
        2 => pub ca_state: TcpCongestionControlState,
        11 => pub rto_usec: u32,
        26 => pub rtt_usec: u32,
        27 => pub rtt_var_usec: u32,
        28 => pub snd_ssthresh: u32,
        29 => pub snd_cwnd: u32,
        54 => pub reorder_seen: bool,
    }
}

crate::fidl_bits! {
    /// Interface flags as `SIOCGIFFLAGS` reports them (`IFF_*`).
    pub struct InterfaceFlags: u16 {
        const UP = 0x1;
        const BROADCAST = 0x2;
        const DEBUG = 0x4;
        const LOOPBACK = 0x8;
        const POINTTOPOINT = 0x10;
        const NOTRAILERS = 0x20;
        const RUNNING = 0x40;
        const NOARP = 0x80;
        const PROMISC = 0x100;
        const ALLMULTI = 0x200;
        const LEADER = 0x400;
        const FOLLOWER = 0x800;
        const MULTICAST = 0x1000;
        const PORTSEL = 0x2000;
        const AUTOMEDIA = 0x4000;
        const DYNAMIC = 0x8000;
    }
}

crate::fidl_table! {
    /// An interface and its addresses (`getifaddrs`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct InterfaceAddresses {
        1 => pub id: InterfaceId,
        2 => pub name: String,
        4 => pub addresses: Vec<Subnet>,
        5 => pub interface_flags: InterfaceFlags,
    }
}

crate::fidl_table! {
    /// `StreamSocket.Describe` response.
    #[derive(Debug)]
    pub struct StreamSocketDescribeResponse {
        /// The client end of the stream data plane: an `AF_UNIX` `SOCK_STREAM` socket.
        1 => pub socket: OwnedFd,
    }
}

crate::fidl_table! {
    /// `DatagramSocket.Describe` response. Field 4 (the metadata encoding version) is never
    /// set: our framing is the 32-byte header of `fidl/README.md`.
    #[derive(Debug)]
    pub struct DatagramSocketDescribeResponse {
        /// The client end of the datagram data plane: an `AF_UNIX` `SOCK_SEQPACKET` socket.
        1 => pub socket: OwnedFd,
        /// The size of the header before each packet the client sends (32).
        2 => pub tx_meta_buf_size: u64,
        /// The size of the header before each packet the client receives (32).
        3 => pub rx_meta_buf_size: u64,
    }
}

crate::fidl_union! {
    /// `Provider.DatagramSocket` response: the kind of datagram socket created. The netstack
    /// always creates a `DatagramSocket`.
    #[derive(Debug)]
    pub enum ProviderDatagramSocketResponse {
        /// A `DatagramSocket` (data plane from `Describe`).
        1 => DatagramSocket(Channel),
        /// A `SynchronousDatagramSocket` (not served here).
        2 => SynchronousDatagramSocket(Channel),
    }
}

fidl_protocol! {
    /// `fuchsia.posix.socket/BaseSocket`: options of every socket (`SOL_SOCKET`).
    pub mod base_socket = "fuchsia.posix.socket/BaseSocket";
    /// A request of `BaseSocket`.
    #[derive(Debug)]
    request BaseSocketRequest {
        compose {}
        import {
            /// `fuchsia.unknown/Cloneable.Clone`: serve `request` as another connection.
            Clone2(request: Channel) = unknown::Clone2;
            /// `fuchsia.unknown/Closeable.Close`.
            Close() = unknown::Close;
            /// `fuchsia.unknown/Queryable.Query`.
            Query() = unknown::Query;
        }
        methods {
            /// Set `SO_REUSEADDR`.
            SetReuseAddress(value: bool) -> Result<(), Errno>;
            /// Get `SO_REUSEADDR`.
            GetReuseAddress() -> Result<bool, Errno>;
            /// Get and clear `SO_ERROR`: `Err` carries the pending error, `Ok` means none.
            GetError() -> Result<(), Errno>;
            /// Set `SO_BROADCAST`.
            SetBroadcast(value: bool) -> Result<(), Errno>;
            /// Get `SO_BROADCAST`.
            GetBroadcast() -> Result<bool, Errno>;
            /// Set `SO_SNDBUF`.
            SetSendBuffer(value_bytes: u64) -> Result<(), Errno>;
            /// Get `SO_SNDBUF`.
            GetSendBuffer() -> Result<u64, Errno>;
            /// Set `SO_RCVBUF`.
            SetReceiveBuffer(value_bytes: u64) -> Result<(), Errno>;
            /// Get `SO_RCVBUF`.
            GetReceiveBuffer() -> Result<u64, Errno>;
            /// Set `SO_KEEPALIVE`.
            SetKeepAlive(value: bool) -> Result<(), Errno>;
            /// Get `SO_KEEPALIVE`.
            GetKeepAlive() -> Result<bool, Errno>;
            /// Set `SO_OOBINLINE`.
            SetOutOfBandInline(value: bool) -> Result<(), Errno>;
            /// Get `SO_OOBINLINE`.
            GetOutOfBandInline() -> Result<bool, Errno>;
            /// Set `SO_NO_CHECK`.
            SetNoCheck(value: bool) -> Result<(), Errno>;
            /// Get `SO_NO_CHECK`.
            GetNoCheck() -> Result<bool, Errno>;
            /// Set `SO_LINGER`.
            SetLinger(linger: bool, length_secs: u32) -> Result<(), Errno>;
            /// Get `SO_LINGER`: (linger, length_secs).
            GetLinger() -> Result<(bool, u32), Errno>;
            /// Set `SO_REUSEPORT`.
            SetReusePort(value: bool) -> Result<(), Errno>;
            /// Get `SO_REUSEPORT`.
            GetReusePort() -> Result<bool, Errno>;
            /// Get `SO_ACCEPTCONN`.
            GetAcceptConn() -> Result<bool, Errno>;
            /// Set `SO_BINDTODEVICE` (an interface name; empty unbinds).
            SetBindToDevice(value: String) -> Result<(), Errno>;
            /// Get `SO_BINDTODEVICE`.
            GetBindToDevice() -> Result<String, Errno>;
            /// Set `SO_BINDTOIFINDEX` (0 unbinds).
            SetBindToInterfaceIndex(value: InterfaceId) -> Result<(), Errno>;
            /// Get `SO_BINDTOIFINDEX`.
            GetBindToInterfaceIndex() -> Result<InterfaceId, Errno>;
            /// Set `SO_TIMESTAMP` or `SO_TIMESTAMPNS`.
            SetTimestamp(value: TimestampOption) -> Result<(), Errno>;
            /// Get `SO_TIMESTAMP` or `SO_TIMESTAMPNS`.
            GetTimestamp() -> Result<TimestampOption, Errno>;
            /// Set the mark of `domain` (like `SO_MARK`, one mark per domain).
            SetMark(domain: MarkDomain, mark: OptionalUint32) -> Result<(), Errno>;
            /// Get the mark of `domain`.
            GetMark(domain: MarkDomain) -> Result<OptionalUint32, Errno>;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.posix.socket/BaseNetworkSocket`: addressing and the `SOL_IP` / `SOL_IPV6`
    /// options of IP sockets.
    pub mod base_network_socket = "fuchsia.posix.socket/BaseNetworkSocket";
    /// A request of `BaseNetworkSocket`.
    #[derive(Debug)]
    request BaseNetworkSocketRequest {
        compose {
            /// A `BaseSocket` request.
            Base(BaseSocketRequest),
        }
        import {}
        methods {
            /// `bind`.
            Bind(addr: SocketAddress) -> Result<(), Errno>;
            /// `connect`.
            Connect(addr: SocketAddress) -> Result<(), Errno>;
            /// `connect` to `AF_UNSPEC`: forget the peer.
            Disconnect() -> Result<(), Errno>;
            /// `getsockname`.
            GetSockName() -> Result<SocketAddress, Errno>;
            /// `getpeername`.
            GetPeerName() -> Result<SocketAddress, Errno>;
            /// `shutdown`.
            Shutdown(mode: ShutdownMode) -> Result<(), Errno>;
            /// Set `IP_TOS`.
            SetIpTypeOfService(value: u8) -> Result<(), Errno>;
            /// Get `IP_TOS`.
            GetIpTypeOfService() -> Result<u8, Errno>;
            /// Set `IP_TTL` (unset: the default).
            SetIpTtl(value: OptionalUint8) -> Result<(), Errno>;
            /// Get `IP_TTL`.
            GetIpTtl() -> Result<u8, Errno>;
            /// Set `IP_PKTINFO`.
            SetIpPacketInfo(value: bool) -> Result<(), Errno>;
            /// Get `IP_PKTINFO`.
            GetIpPacketInfo() -> Result<bool, Errno>;
            /// Set `IP_RECVTOS`.
            SetIpReceiveTypeOfService(value: bool) -> Result<(), Errno>;
            /// Get `IP_RECVTOS`.
            GetIpReceiveTypeOfService() -> Result<bool, Errno>;
            /// Set `IP_RECVTTL`.
            SetIpReceiveTtl(value: bool) -> Result<(), Errno>;
            /// Get `IP_RECVTTL`.
            GetIpReceiveTtl() -> Result<bool, Errno>;
            /// Set `IP_MULTICAST_IF`.
            SetIpMulticastInterface(iface: InterfaceId, address: Ipv4Address) -> Result<(), Errno>;
            /// Get `IP_MULTICAST_IF`.
            GetIpMulticastInterface() -> Result<Ipv4Address, Errno>;
            /// Set `IP_MULTICAST_TTL` (unset: 1).
            SetIpMulticastTtl(value: OptionalUint8) -> Result<(), Errno>;
            /// Get `IP_MULTICAST_TTL`.
            GetIpMulticastTtl() -> Result<u8, Errno>;
            /// Set `IP_MULTICAST_LOOP`.
            SetIpMulticastLoopback(value: bool) -> Result<(), Errno>;
            /// Get `IP_MULTICAST_LOOP`.
            GetIpMulticastLoopback() -> Result<bool, Errno>;
            /// `IP_ADD_MEMBERSHIP`.
            AddIpMembership(membership: IpMulticastMembership) -> Result<(), Errno>;
            /// `IP_DROP_MEMBERSHIP`.
            DropIpMembership(membership: IpMulticastMembership) -> Result<(), Errno>;
            /// Set `IP_TRANSPARENT`.
            SetIpTransparent(value: bool) -> Result<(), Errno>;
            /// Get `IP_TRANSPARENT`.
            GetIpTransparent() -> Result<bool, Errno>;
            /// Set `IP_RECVORIGDSTADDR`.
            SetIpReceiveOriginalDestinationAddress(value: bool) -> Result<(), Errno>;
            /// Get `IP_RECVORIGDSTADDR`.
            GetIpReceiveOriginalDestinationAddress() -> Result<bool, Errno>;
            /// `IPV6_JOIN_GROUP` (`IPV6_ADD_MEMBERSHIP`).
            AddIpv6Membership(membership: Ipv6MulticastMembership) -> Result<(), Errno>;
            /// `IPV6_LEAVE_GROUP` (`IPV6_DROP_MEMBERSHIP`).
            DropIpv6Membership(membership: Ipv6MulticastMembership) -> Result<(), Errno>;
            /// Set `IPV6_MULTICAST_IF`.
            SetIpv6MulticastInterface(value: InterfaceId) -> Result<(), Errno>;
            /// Get `IPV6_MULTICAST_IF`.
            GetIpv6MulticastInterface() -> Result<InterfaceId, Errno>;
            /// Set `IPV6_UNICAST_HOPS` (unset: the default).
            SetIpv6UnicastHops(value: OptionalUint8) -> Result<(), Errno>;
            /// Get `IPV6_UNICAST_HOPS`.
            GetIpv6UnicastHops() -> Result<u8, Errno>;
            /// Set `IPV6_RECVHOPLIMIT`.
            SetIpv6ReceiveHopLimit(value: bool) -> Result<(), Errno>;
            /// Get `IPV6_RECVHOPLIMIT`.
            GetIpv6ReceiveHopLimit() -> Result<bool, Errno>;
            /// Set `IPV6_MULTICAST_HOPS` (unset: 1).
            SetIpv6MulticastHops(value: OptionalUint8) -> Result<(), Errno>;
            /// Get `IPV6_MULTICAST_HOPS`.
            GetIpv6MulticastHops() -> Result<u8, Errno>;
            /// Set `IPV6_MULTICAST_LOOP`.
            SetIpv6MulticastLoopback(value: bool) -> Result<(), Errno>;
            /// Get `IPV6_MULTICAST_LOOP`.
            GetIpv6MulticastLoopback() -> Result<bool, Errno>;
            /// Set `IPV6_V6ONLY`.
            SetIpv6Only(value: bool) -> Result<(), Errno>;
            /// Get `IPV6_V6ONLY`.
            GetIpv6Only() -> Result<bool, Errno>;
            /// Set `IPV6_RECVTCLASS`.
            SetIpv6ReceiveTrafficClass(value: bool) -> Result<(), Errno>;
            /// Get `IPV6_RECVTCLASS`.
            GetIpv6ReceiveTrafficClass() -> Result<bool, Errno>;
            /// Set `IPV6_TCLASS` (unset: 0).
            SetIpv6TrafficClass(value: OptionalUint8) -> Result<(), Errno>;
            /// Get `IPV6_TCLASS`.
            GetIpv6TrafficClass() -> Result<u8, Errno>;
            /// Set `IPV6_RECVPKTINFO`.
            SetIpv6ReceivePacketInfo(value: bool) -> Result<(), Errno>;
            /// Get `IPV6_RECVPKTINFO`.
            GetIpv6ReceivePacketInfo() -> Result<bool, Errno>;
            /// Get `SO_ORIGINAL_DST`.
            GetOriginalDestination() -> Result<SocketAddress, Errno>;
        }
    }
}

fidl_methods! {
    /// `fuchsia.posix.socket/BaseDatagramSocket`: what every datagram socket adds.
    pub mod base_datagram_socket = "fuchsia.posix.socket/BaseDatagramSocket" {
        /// The socket's domain and protocol.
        GetInfo() -> Result<(Domain, DatagramSocketProtocol), Errno>;
    }
}

fidl_protocol! {
    /// `fuchsia.posix.socket/DatagramSocket`: UDP and ICMP echo sockets.
    pub mod datagram_socket = "fuchsia.posix.socket/DatagramSocket";
    /// A request of `DatagramSocket`.
    #[derive(Debug)]
    request DatagramSocketRequest {
        compose {
            /// A `BaseNetworkSocket` request.
            Network(BaseNetworkSocketRequest),
        }
        import {
            /// `BaseDatagramSocket.GetInfo`.
            GetInfo() = base_datagram_socket::GetInfo;
        }
        methods {
            /// The data plane.
            Describe() -> DatagramSocketDescribeResponse;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.posix.socket/StreamSocket`: TCP sockets.
    pub mod stream_socket = "fuchsia.posix.socket/StreamSocket";
    /// A request of `StreamSocket`.
    #[derive(Debug)]
    request StreamSocketRequest {
        compose {
            /// A `BaseNetworkSocket` request.
            Network(BaseNetworkSocketRequest),
        }
        import {}
        methods {
            /// The data plane.
            Describe() -> StreamSocketDescribeResponse;
            /// `listen`.
            Listen(backlog: i16) -> Result<(), Errno>;
            /// `accept`: the peer's address (when `want_addr`) and the new socket's channel.
            Accept(want_addr: bool) -> Result<(Option<SocketAddress>, Channel), Errno>;
            /// The socket's domain and protocol.
            GetInfo() -> Result<(Domain, StreamSocketProtocol), Errno>;
            /// Set `TCP_NODELAY`.
            SetTcpNoDelay(value: bool) -> Result<(), Errno>;
            /// Get `TCP_NODELAY`.
            GetTcpNoDelay() -> Result<bool, Errno>;
            /// Set `TCP_MAXSEG`.
            SetTcpMaxSegment(value_bytes: u32) -> Result<(), Errno>;
            /// Get `TCP_MAXSEG`.
            GetTcpMaxSegment() -> Result<u32, Errno>;
            /// Set `TCP_CORK`.
            SetTcpCork(value: bool) -> Result<(), Errno>;
            /// Get `TCP_CORK`.
            GetTcpCork() -> Result<bool, Errno>;
            /// Set `TCP_KEEPIDLE`.
            SetTcpKeepAliveIdle(value_secs: u32) -> Result<(), Errno>;
            /// Get `TCP_KEEPIDLE`.
            GetTcpKeepAliveIdle() -> Result<u32, Errno>;
            /// Set `TCP_KEEPINTVL`.
            SetTcpKeepAliveInterval(value_secs: u32) -> Result<(), Errno>;
            /// Get `TCP_KEEPINTVL`.
            GetTcpKeepAliveInterval() -> Result<u32, Errno>;
            /// Set `TCP_KEEPCNT`.
            SetTcpKeepAliveCount(value: u32) -> Result<(), Errno>;
            /// Get `TCP_KEEPCNT`.
            GetTcpKeepAliveCount() -> Result<u32, Errno>;
            /// Set `TCP_SYNCNT`.
            SetTcpSynCount(value: u32) -> Result<(), Errno>;
            /// Get `TCP_SYNCNT`.
            GetTcpSynCount() -> Result<u32, Errno>;
            /// Set `TCP_LINGER2`.
            SetTcpLinger(value_secs: OptionalUint32) -> Result<(), Errno>;
            /// Get `TCP_LINGER2`.
            GetTcpLinger() -> Result<OptionalUint32, Errno>;
            /// Set `TCP_DEFER_ACCEPT`.
            SetTcpDeferAccept(value_secs: u32) -> Result<(), Errno>;
            /// Get `TCP_DEFER_ACCEPT`.
            GetTcpDeferAccept() -> Result<u32, Errno>;
            /// Set `TCP_WINDOW_CLAMP`.
            SetTcpWindowClamp(value: u32) -> Result<(), Errno>;
            /// Get `TCP_WINDOW_CLAMP`.
            GetTcpWindowClamp() -> Result<u32, Errno>;
            /// Get `TCP_INFO`.
            GetTcpInfo() -> Result<TcpInfo, Errno>;
            /// Set `TCP_QUICKACK`.
            SetTcpQuickAck(value: bool) -> Result<(), Errno>;
            /// Get `TCP_QUICKACK`.
            GetTcpQuickAck() -> Result<bool, Errno>;
            /// Set `TCP_CONGESTION`.
            SetTcpCongestion(value: TcpCongestionControl) -> Result<(), Errno>;
            /// Get `TCP_CONGESTION`.
            GetTcpCongestion() -> Result<TcpCongestionControl, Errno>;
            /// Set `TCP_USER_TIMEOUT`.
            SetTcpUserTimeout(value_millis: u32) -> Result<(), Errno>;
            /// Get `TCP_USER_TIMEOUT`.
            GetTcpUserTimeout() -> Result<u32, Errno>;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.posix.socket/Provider`: creates sockets and answers interface queries.
    pub mod provider = "fuchsia.posix.socket/Provider";
    /// A request of `Provider`.
    #[derive(Debug)]
    request ProviderRequest {
        compose {}
        import {}
        methods {
            /// A new stream socket: the channel speaking `StreamSocket`.
            StreamSocket(domain: Domain, proto: StreamSocketProtocol) -> Result<Channel, Errno>;
            /// A new datagram socket. Its selector is `Provider.DatagramSocketTransitional`
            /// (the SDK's soft transition away from `SynchronousDatagramSocket`).
            @selector("fuchsia.posix.socket/Provider.DatagramSocketTransitional")
            DatagramSocket(domain: Domain, proto: DatagramSocketProtocol) -> Result<ProviderDatagramSocketResponse, Errno>;
            /// `if_indextoname`; the error is a `zx.Status` (`ZX_ERR_NOT_FOUND`).
            InterfaceIndexToName(index: u64) -> Result<String, i32>;
            /// `if_nametoindex`; the error is a `zx.Status` (`ZX_ERR_NOT_FOUND`).
            InterfaceNameToIndex(name: String) -> Result<u64, i32>;
            /// `SIOCGIFFLAGS`; the error is a `zx.Status` (`ZX_ERR_NOT_FOUND`).
            InterfaceNameToFlags(name: String) -> Result<InterfaceFlags, i32>;
            /// `getifaddrs`.
            GetInterfaceAddresses() -> Vec<InterfaceAddresses>;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::fuchsia_net::{IpAddress, Ipv4SocketAddress, Ipv6SocketAddress};
    use crate::message::{decode_body, decode_header, encode_message, RequestDecoder, TransactionHeader};
    use crate::wire::DecodeError;
    use crate::Method;

    /// Encodes a request of `M` as a client would and decodes it as a server would.
    fn round_trip<M: Method, R>(request: M::Request, decode: RequestDecoder<R>) -> Result<R, DecodeError> {
        let txid = if M::ONE_WAY { 0 } else { 7 };
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(txid), request, &mut buf).expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        decode(&header, body, handles)
    }

    /// Encodes a response of `M` as a server would and decodes it as a client would.
    fn reply_round_trip<M: Method>(response: M::Response) -> M::Response {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(7), response, &mut buf).expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (_, body) = decode_header(bytes).expect("header");
        decode_body::<M::Response>(body, handles).expect("decodes")
    }

    fn v4(octets: [u8; 4], port: u16) -> SocketAddress {
        SocketAddress::Ipv4(Ipv4SocketAddress { address: Ipv4Address { addr: octets }, port })
    }

    fn fd() -> OwnedFd {
        Channel::pair().expect("pair").0.into_fd()
    }

    #[test]
    fn base_socket_requests_round_trip() {
        let decode: RequestDecoder<BaseSocketRequest> = BaseSocketRequest::decode;
        assert!(matches!(
            round_trip::<base_socket::SetReuseAddress, _>(true, decode),
            Ok(BaseSocketRequest::SetReuseAddress { value: true })
        ));
        assert!(matches!(
            round_trip::<base_socket::SetLinger, _>((true, 30), decode),
            Ok(BaseSocketRequest::SetLinger { linger: true, length_secs: 30 })
        ));
        assert!(matches!(
            round_trip::<base_socket::SetSendBuffer, _>(1 << 20, decode),
            Ok(BaseSocketRequest::SetSendBuffer { value_bytes: 1_048_576 })
        ));
        assert!(matches!(
            round_trip::<base_socket::SetBindToDevice, _>("eth0".into(), decode),
            Ok(BaseSocketRequest::SetBindToDevice { value }) if value == "eth0"
        ));
        assert!(matches!(
            round_trip::<base_socket::SetTimestamp, _>(TimestampOption::Nanosecond, decode),
            Ok(BaseSocketRequest::SetTimestamp { value: TimestampOption::Nanosecond })
        ));
        assert!(matches!(
            round_trip::<base_socket::SetMark, _>((MarkDomain::Mark2, OptionalUint32::Value(9)), decode),
            Ok(BaseSocketRequest::SetMark { domain: MarkDomain::Mark2, mark: OptionalUint32::Value(9) })
        ));
        assert!(matches!(
            round_trip::<base_socket::GetError, _>((), decode),
            Ok(BaseSocketRequest::GetError {})
        ));
        assert!(matches!(round_trip::<unknown::Close, _>((), decode), Ok(BaseSocketRequest::Close {})));
        assert!(matches!(round_trip::<unknown::Query, _>((), decode), Ok(BaseSocketRequest::Query {})));
        let clone = round_trip::<unknown::Clone2, _>(Channel::pair().expect("pair").0, decode);
        assert!(matches!(clone, Ok(BaseSocketRequest::Clone2 { .. })));
    }

    #[test]
    fn base_network_socket_requests_round_trip() {
        let decode: RequestDecoder<BaseNetworkSocketRequest> = BaseNetworkSocketRequest::decode;
        assert!(matches!(
            round_trip::<base_network_socket::Bind, _>(v4([192, 0, 2, 1], 80), decode),
            Ok(BaseNetworkSocketRequest::Bind { addr }) if addr == v4([192, 0, 2, 1], 80)
        ));
        let v6 = SocketAddress::Ipv6(Ipv6SocketAddress {
            address: Ipv6Address { addr: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] },
            port: 443,
            zone_index: 3,
        });
        assert!(matches!(
            round_trip::<base_network_socket::Connect, _>(v6, decode),
            Ok(BaseNetworkSocketRequest::Connect { addr }) if addr == v6
        ));
        assert!(matches!(
            round_trip::<base_network_socket::Shutdown, _>(ShutdownMode::READ | ShutdownMode::WRITE, decode),
            Ok(BaseNetworkSocketRequest::Shutdown { mode }) if mode == ShutdownMode::ALL
        ));
        assert!(matches!(
            round_trip::<base_network_socket::SetIpTtl, _>(OptionalUint8::Unset(Empty {}), decode),
            Ok(BaseNetworkSocketRequest::SetIpTtl { value: OptionalUint8::Unset(Empty {}) })
        ));
        let membership = IpMulticastMembership {
            iface: 2,
            local_addr: Ipv4Address { addr: [192, 0, 2, 1] },
            mcast_addr: Ipv4Address { addr: [224, 0, 0, 251] },
        };
        assert!(matches!(
            round_trip::<base_network_socket::AddIpMembership, _>(membership, decode),
            Ok(BaseNetworkSocketRequest::AddIpMembership { membership: m }) if m == membership
        ));
        assert!(matches!(
            round_trip::<base_network_socket::SetIpMulticastInterface, _>(
                (4, Ipv4Address::default()),
                decode
            ),
            Ok(BaseNetworkSocketRequest::SetIpMulticastInterface { iface: 4, .. })
        ));
        // Composed: BaseSocket requests arrive wrapped.
        assert!(matches!(
            round_trip::<base_socket::SetKeepAlive, _>(true, decode),
            Ok(BaseNetworkSocketRequest::Base(BaseSocketRequest::SetKeepAlive { value: true }))
        ));
    }

    #[test]
    fn stream_socket_requests_round_trip() {
        let decode: RequestDecoder<StreamSocketRequest> = StreamSocketRequest::decode;
        assert!(matches!(
            round_trip::<stream_socket::Listen, _>(128, decode),
            Ok(StreamSocketRequest::Listen { backlog: 128 })
        ));
        assert!(matches!(
            round_trip::<stream_socket::Accept, _>(true, decode),
            Ok(StreamSocketRequest::Accept { want_addr: true })
        ));
        assert!(matches!(
            round_trip::<stream_socket::Describe, _>((), decode),
            Ok(StreamSocketRequest::Describe {})
        ));
        assert!(matches!(
            round_trip::<stream_socket::SetTcpCongestion, _>(TcpCongestionControl::Cubic, decode),
            Ok(StreamSocketRequest::SetTcpCongestion { value: TcpCongestionControl::Cubic })
        ));
        assert!(matches!(
            round_trip::<base_network_socket::GetSockName, _>((), decode),
            Ok(StreamSocketRequest::Network(BaseNetworkSocketRequest::GetSockName {}))
        ));
        assert!(matches!(
            round_trip::<base_socket::GetError, _>((), decode),
            Ok(StreamSocketRequest::Network(BaseNetworkSocketRequest::Base(BaseSocketRequest::GetError {})))
        ));
        assert_eq!(
            round_trip::<datagram_socket::Describe, _>((), decode).err(),
            Some(DecodeError::UnknownOrdinal(<datagram_socket::Describe as Method>::ORDINAL))
        );
    }

    #[test]
    fn datagram_socket_requests_round_trip() {
        let decode: RequestDecoder<DatagramSocketRequest> = DatagramSocketRequest::decode;
        assert!(matches!(
            round_trip::<datagram_socket::Describe, _>((), decode),
            Ok(DatagramSocketRequest::Describe {})
        ));
        assert!(matches!(
            round_trip::<base_datagram_socket::GetInfo, _>((), decode),
            Ok(DatagramSocketRequest::GetInfo {})
        ));
        assert!(matches!(
            round_trip::<base_network_socket::Disconnect, _>((), decode),
            Ok(DatagramSocketRequest::Network(BaseNetworkSocketRequest::Disconnect {}))
        ));
        assert!(matches!(
            round_trip::<stream_socket::Listen, _>(1, decode),
            Err(DecodeError::UnknownOrdinal(_))
        ));
    }

    #[test]
    fn provider_requests_round_trip() {
        let decode: RequestDecoder<ProviderRequest> = ProviderRequest::decode;
        assert!(matches!(
            round_trip::<provider::StreamSocket, _>((Domain::Ipv6, StreamSocketProtocol::Tcp), decode),
            Ok(ProviderRequest::StreamSocket { domain: Domain::Ipv6, proto: StreamSocketProtocol::Tcp })
        ));
        assert!(matches!(
            round_trip::<provider::DatagramSocket, _>(
                (Domain::Ipv4, DatagramSocketProtocol::IcmpEcho),
                decode
            ),
            Ok(ProviderRequest::DatagramSocket {
                domain: Domain::Ipv4,
                proto: DatagramSocketProtocol::IcmpEcho
            })
        ));
        assert!(matches!(
            round_trip::<provider::InterfaceNameToIndex, _>("lo".into(), decode),
            Ok(ProviderRequest::InterfaceNameToIndex { name }) if name == "lo"
        ));
        assert!(matches!(
            round_trip::<provider::InterfaceIndexToName, _>(1, decode),
            Ok(ProviderRequest::InterfaceIndexToName { index: 1 })
        ));
        assert!(matches!(
            round_trip::<provider::InterfaceNameToFlags, _>("lo".into(), decode),
            Ok(ProviderRequest::InterfaceNameToFlags { .. })
        ));
        assert!(matches!(
            round_trip::<provider::GetInterfaceAddresses, _>((), decode),
            Ok(ProviderRequest::GetInterfaceAddresses {})
        ));
    }

    #[test]
    fn requests_check_their_transaction_ids() {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<base_socket::GetError>(0), (), &mut buf)
            .expect("encodes");
        let (header, body) = decode_header(&buf.bytes).expect("header");
        assert!(matches!(
            BaseSocketRequest::decode(&header, body, &mut Vec::new()),
            Err(DecodeError::InvalidTxid { txid: 0, .. })
        ));
        let (request, _) = Channel::pair().expect("pair");
        encode_message(TransactionHeader::for_method::<unknown::Clone2>(5), request, &mut buf)
            .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        assert!(matches!(
            BaseSocketRequest::decode(&header, body, handles),
            Err(DecodeError::InvalidTxid { .. })
        ));
    }

    #[test]
    fn requests_reject_stray_handles_and_bad_payloads() {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<base_socket::SetReuseAddress>(3), true, &mut buf)
            .expect("encodes");
        buf.handles.push(fd());
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        assert_eq!(
            BaseSocketRequest::decode(&header, body, handles).err(),
            Some(DecodeError::ExtraHandles(1))
        );

        encode_message(TransactionHeader::for_method::<base_socket::SetReuseAddress>(3), true, &mut buf)
            .expect("encodes");
        buf.bytes[16] = 2;
        let (header, body) = decode_header(&buf.bytes).expect("header");
        assert_eq!(
            BaseSocketRequest::decode(&header, body, &mut Vec::new()).err(),
            Some(DecodeError::InvalidBool(2))
        );
    }

    #[test]
    fn method_names_name_the_declaring_protocol() {
        let request = round_trip::<base_network_socket::Bind, _>(v4([0; 4], 0), StreamSocketRequest::decode)
            .expect("decodes");
        assert_eq!(request.method_name(), "fuchsia.posix.socket/BaseNetworkSocket.Bind");
        let request = round_trip::<unknown::Close, _>((), DatagramSocketRequest::decode).expect("decodes");
        assert_eq!(request.method_name(), "fuchsia.unknown/Closeable.Close");
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_requests_never_panics(
            method in 0..stream_socket::METHODS.len() + base_network_socket::METHODS.len(),
            txid in proptest::prelude::any::<u32>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..96),
        ) {
            let all = [stream_socket::METHODS, base_network_socket::METHODS].concat();
            let header = TransactionHeader::new(txid, all[method].ordinal);
            let _ = StreamSocketRequest::decode(&header, &body, &mut vec![fd()]);
            let _ = DatagramSocketRequest::decode(&header, &body, &mut Vec::new());
        }
    }

    #[test]
    fn responses_round_trip() {
        let accepted = reply_round_trip::<stream_socket::Accept>(Ok((
            Some(v4([198, 51, 100, 7], 4242)),
            Channel::pair().expect("pair").0,
        )));
        assert!(matches!(accepted, Ok((Some(addr), _)) if addr == v4([198, 51, 100, 7], 4242)));
        let described =
            reply_round_trip::<stream_socket::Describe>(StreamSocketDescribeResponse { socket: Some(fd()) });
        assert!(described.socket.is_some());
        let described = reply_round_trip::<datagram_socket::Describe>(DatagramSocketDescribeResponse {
            socket: Some(fd()),
            tx_meta_buf_size: Some(32),
            rx_meta_buf_size: Some(32),
        });
        assert_eq!((described.tx_meta_buf_size, described.rx_meta_buf_size), (Some(32), Some(32)));
        let created = reply_round_trip::<provider::DatagramSocket>(Ok(
            ProviderDatagramSocketResponse::DatagramSocket(Channel::pair().expect("pair").0),
        ));
        assert!(matches!(created, Ok(ProviderDatagramSocketResponse::DatagramSocket(_))));
        let info = TcpInfo {
            state: Some(TcpState::Established),
            rtt_usec: Some(1500),
            reorder_seen: Some(false),
            ..TcpInfo::default()
        };
        assert_eq!(reply_round_trip::<stream_socket::GetTcpInfo>(Ok(info.clone())), Ok(info));
        let interfaces = vec![InterfaceAddresses {
            id: Some(1),
            name: Some("lo".into()),
            addresses: Some(vec![Subnet {
                addr: IpAddress::Ipv4(Ipv4Address { addr: [127, 0, 0, 1] }),
                prefix_len: 8,
            }]),
            interface_flags: Some(InterfaceFlags::UP | InterfaceFlags::LOOPBACK),
        }];
        assert_eq!(reply_round_trip::<provider::GetInterfaceAddresses>(interfaces.clone()), interfaces);
        assert_eq!(reply_round_trip::<base_socket::GetLinger>(Ok((true, 5))), Ok((true, 5)));
        assert_eq!(
            reply_round_trip::<base_socket::GetError>(Err(Errno::ECONNREFUSED)),
            Err(Errno::ECONNREFUSED)
        );
        assert_eq!(
            reply_round_trip::<unknown::Query>(b"fuchsia.posix.socket/StreamSocket".to_vec()).len(),
            33
        );
        assert_eq!(reply_round_trip::<unknown::Close>(Ok(())), Ok(()));
        assert_eq!(reply_round_trip::<provider::InterfaceIndexToName>(Err(-25)), Err(-25));
    }
}
