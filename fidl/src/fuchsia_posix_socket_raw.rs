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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::fuchsia_posix_socket::{base_network_socket, BaseSocketRequest};
    use crate::message::{decode_body, decode_header, encode_message, RequestDecoder, TransactionHeader};
    use crate::wire::DecodeError;
    use crate::Method;

    fn request<M: Method, R>(request: M::Request, decode: RequestDecoder<R>) -> Result<R, DecodeError> {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(1), request, &mut buf).expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        decode(&header, body, handles)
    }

    #[test]
    fn provider_requests_round_trip() {
        assert!(matches!(
            request::<provider::Socket, _>(
                (Domain::Ipv6, ProtocolAssociation::Associated(58)),
                ProviderRequest::decode
            ),
            Ok(ProviderRequest::Socket { domain: Domain::Ipv6, proto: ProtocolAssociation::Associated(58) })
        ));
        assert!(matches!(
            request::<provider::Socket, _>(
                (Domain::Ipv4, ProtocolAssociation::Unassociated(Empty {})),
                ProviderRequest::decode
            ),
            Ok(ProviderRequest::Socket { proto: ProtocolAssociation::Unassociated(Empty {}), .. })
        ));
    }

    #[test]
    fn socket_requests_round_trip() {
        let filter = Icmpv6Filter { blocked_types: [u32::MAX, 0, 1, 2, 3, 4, 5, 6] };
        assert!(matches!(
            request::<socket::SetIcmpv6Filter, _>(filter, SocketRequest::decode),
            Ok(SocketRequest::SetIcmpv6Filter { filter: f }) if f == filter
        ));
        assert!(matches!(
            request::<socket::SetIpv6Checksum, _>(
                Ipv6ChecksumConfiguration::Offset(2),
                SocketRequest::decode
            ),
            Ok(SocketRequest::SetIpv6Checksum { config: Ipv6ChecksumConfiguration::Offset(2) })
        ));
        assert!(matches!(
            request::<socket::SetIpHeaderIncluded, _>(true, SocketRequest::decode),
            Ok(SocketRequest::SetIpHeaderIncluded { value: true })
        ));
        assert!(matches!(
            request::<socket::Describe, _>((), SocketRequest::decode),
            Ok(SocketRequest::Describe {})
        ));
        assert!(matches!(
            request::<socket::GetInfo, _>((), SocketRequest::decode),
            Ok(SocketRequest::GetInfo {})
        ));
        assert!(matches!(
            request::<base_network_socket::GetPeerName, _>((), SocketRequest::decode),
            Ok(SocketRequest::Network(BaseNetworkSocketRequest::GetPeerName {}))
        ));
        assert!(matches!(
            request::<crate::fuchsia_posix_socket::unknown::Query, _>((), SocketRequest::decode),
            Ok(SocketRequest::Network(BaseNetworkSocketRequest::Base(BaseSocketRequest::Query {})))
        ));
    }

    #[test]
    fn describe_and_info_responses_round_trip() {
        let mut buf = MessageBuf::new();
        let response = SocketDescribeResponse {
            socket: Some(Channel::pair().expect("pair").0.into_fd()),
            tx_meta_buf_size: Some(32),
            rx_meta_buf_size: Some(32),
        };
        encode_message(TransactionHeader::for_method::<socket::Describe>(1), response, &mut buf)
            .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (_, body) = decode_header(bytes).expect("header");
        let decoded = decode_body::<SocketDescribeResponse>(body, handles).expect("decodes");
        assert!(decoded.socket.is_some());
        assert_eq!(decoded.rx_meta_buf_size, Some(32));

        let info: <socket::GetInfo as Method>::Response =
            Ok((Domain::Ipv4, ProtocolAssociation::Associated(1)));
        encode_message(TransactionHeader::for_method::<socket::GetInfo>(1), info, &mut buf).expect("encodes");
        let (_, body) = decode_header(&buf.bytes).expect("header");
        assert_eq!(
            decode_body::<<socket::GetInfo as Method>::Response>(body, &mut Vec::new()),
            Ok(Ok((Domain::Ipv4, ProtocolAssociation::Associated(1))))
        );
    }
}
