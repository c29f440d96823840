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
