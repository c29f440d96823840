//! Bindings for `fidl/sdk/fuchsia.posix.socket.raw/socket.fidl`: raw IP sockets.
//!
//! Deviation from the SDK: `Socket.Describe` returns the datagram data plane (an `AF_UNIX`
//! `SOCK_SEQPACKET` socketpair end with the 32-byte framing of `fidl/README.md`) in the same
//! fields as `DatagramSocket.Describe`, instead of the SDK's eventpair; `RecvMsg` and `SendMsg`
//! are not declared, the data plane replaces them.

use crate::channel::Channel;
use crate::fuchsia_posix::Errno;
use crate::fuchsia_posix_socket::{BaseNetworkSocketRequest, Domain, Empty};
use std::os::fd::OwnedFd;

/// The name of the Provider protocol in the svc dir.
pub const PROVIDER_PROTOCOL_NAME: &str = "fuchsia.posix.socket.raw.Provider";

crate::fidl_union! {
    /// Which IP protocol a raw socket sends and receives.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ProtocolAssociation {
        /// None: the socket receives nothing and sends packets with their IP header.
        1 => Unassociated(Empty),
        /// The IP protocol number (for example 1 for ICMP, 58 for ICMPv6).
        2 => Associated(u8),
    }
}

crate::fidl_struct! {
    /// `ICMP6_FILTER`: bit `t % 32` of `blocked_types[t / 32]` blocks ICMPv6 type `t`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Icmpv6Filter { pub blocked_types: [u32; 8] }
}

crate::fidl_union! {
    /// `IPV6_CHECKSUM`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Ipv6ChecksumConfiguration {
        /// No checksum computed or checked.
        1 => Disabled(Empty),
        /// The checksum is at this offset of the payload (2-byte aligned).
        2 => Offset(i32),
    }
}

crate::fidl_table! {
    /// `Socket.Describe` response (our data plane, see the module documentation).
    #[derive(Debug)]
    pub struct SocketDescribeResponse {
        /// The client end of the datagram data plane: an `AF_UNIX` `SOCK_SEQPACKET` socket.
        1 => pub socket: OwnedFd,
        /// The size of the header before each packet the client sends (32).
        2 => pub tx_meta_buf_size: u64,
        /// The size of the header before each packet the client receives (32).
        3 => pub rx_meta_buf_size: u64,
    }
}

fidl_protocol! {
    /// `fuchsia.posix.socket.raw/Socket`: a raw IP socket.
    pub mod socket = "fuchsia.posix.socket.raw/Socket";
    /// A request of raw `Socket`.
    #[derive(Debug)]
    request SocketRequest {
        compose {
            /// A `BaseNetworkSocket` request.
            Network(BaseNetworkSocketRequest),
        }
        import {}
        methods {
            /// The data plane.
            Describe() -> SocketDescribeResponse;
            /// The socket's domain and protocol.
            GetInfo() -> Result<(Domain, ProtocolAssociation), Errno>;
            /// Set `IP_HDRINCL`.
            SetIpHeaderIncluded(value: bool) -> Result<(), Errno>;
            /// Get `IP_HDRINCL`.
            GetIpHeaderIncluded() -> Result<bool, Errno>;
            /// Set `ICMP6_FILTER`.
            SetIcmpv6Filter(filter: Icmpv6Filter) -> Result<(), Errno>;
            /// Get `ICMP6_FILTER`.
            GetIcmpv6Filter() -> Result<Icmpv6Filter, Errno>;
            /// Set `IPV6_CHECKSUM`.
            SetIpv6Checksum(config: Ipv6ChecksumConfiguration) -> Result<(), Errno>;
            /// Get `IPV6_CHECKSUM`.
            GetIpv6Checksum() -> Result<Ipv6ChecksumConfiguration, Errno>;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.posix.socket.raw/Provider`: creates raw sockets.
    pub mod provider = "fuchsia.posix.socket.raw/Provider";
    /// A request of raw `Provider`.
    #[derive(Debug)]
    request ProviderRequest {
        compose {}
        import {}
        methods {
            /// A new raw socket: the channel speaking raw `Socket`.
            Socket(domain: Domain, proto: ProtocolAssociation) -> Result<Channel, Errno>;
        }
    }
}
