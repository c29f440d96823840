//! ICMPv4 message types and codes, and the typed ICMPv4 messages: echo (RFC 792 p. 14),
//! destination unreachable with the next-hop MTU of "fragmentation needed" (RFC 792 p. 4,
//! RFC 1191 §4, RFC 1812 §5.2.7.1), redirect (RFC 792 p. 12), time exceeded (RFC 792 p. 6) and
//! parameter problem (RFC 792 p. 8; codes 1 and 2 from the IANA ICMP registry).
//!
//! Error messages carry the start of the datagram that caused them, the *invoking packet*:
//! its IP header and at least 8 bytes of its data (RFC 792 p. 4, RFC 1122 §3.2.2). It is the
//! message body, exposed as a borrowed slice for the IP layer to parse and match to a flow.
//! RFC 1812 §4.3.2.3 lets routers quote more, up to a 576-byte message; receivers take any
//! length from the minimum up.

use super::{EchoReply, EchoRequest, IcmpMessageFields, RawHeader};
use crate::addr::{Ipv4, Ipv4Addr};
use crate::wire::{Layer, ParseError, ParseErrorKind};

super::u8_enum! {
    /// An ICMPv4 message type (RFC 792; IANA "ICMP Type Numbers").
    pub enum Icmpv4Type {
        /// 0: Echo Reply (RFC 792 p. 14).
        EchoReply = 0,
        /// 3: Destination Unreachable (RFC 792 p. 4).
        DestUnreachable = 3,
        /// 4: Source Quench (RFC 792 p. 10), deprecated by RFC 6633: decoded as unknown.
        SourceQuench = 4,
        /// 5: Redirect (RFC 792 p. 12).
        Redirect = 5,
        /// 8: Echo Request (RFC 792 p. 14).
        EchoRequest = 8,
        /// 11: Time Exceeded (RFC 792 p. 6).
        TimeExceeded = 11,
        /// 12: Parameter Problem (RFC 792 p. 8).
        ParameterProblem = 12,
    }
}

impl Icmpv4Type {
    /// Whether this is one of the error message types of RFC 1122 §3.2.2 (destination
    /// unreachable, redirect, source quench, time exceeded, parameter problem), which must
    /// never be answered with another error. Unknown types are not: they are discarded
    /// unanswered anyway.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Icmpv4Type::DestUnreachable
                | Icmpv4Type::SourceQuench
                | Icmpv4Type::Redirect
                | Icmpv4Type::TimeExceeded
                | Icmpv4Type::ParameterProblem
        )
    }
}

super::u8_enum! {
    /// The code of a Destination Unreachable message (RFC 792 p. 4, RFC 1122 §3.2.2.1,
    /// RFC 1812 §5.2.7.1).
    pub enum Icmpv4DestUnreachableCode {
        /// 0: net unreachable.
        NetUnreachable = 0,
        /// 1: host unreachable.
        HostUnreachable = 1,
        /// 2: protocol unreachable.
        ProtocolUnreachable = 2,
        /// 3: port unreachable.
        PortUnreachable = 3,
        /// 4: fragmentation needed and DF set; the message carries the next-hop MTU
        /// (RFC 1191 §4).
        FragmentationNeeded = 4,
        /// 5: source route failed.
        SourceRouteFailed = 5,
        /// 6: destination network unknown (RFC 1122).
        DestNetworkUnknown = 6,
        /// 7: destination host unknown (RFC 1122).
        DestHostUnknown = 7,
        /// 8: source host isolated (RFC 1122).
        SourceHostIsolated = 8,
        /// 9: communication with the destination network administratively prohibited
        /// (RFC 1122).
        NetworkProhibited = 9,
        /// 10: communication with the destination host administratively prohibited
        /// (RFC 1122).
        HostProhibited = 10,
        /// 11: network unreachable for the type of service (RFC 1122).
        NetworkUnreachableForTos = 11,
        /// 12: host unreachable for the type of service (RFC 1122).
        HostUnreachableForTos = 12,
        /// 13: communication administratively prohibited (RFC 1812).
        CommunicationProhibited = 13,
        /// 14: host precedence violation (RFC 1812).
        HostPrecedenceViolation = 14,
        /// 15: precedence cutoff in effect (RFC 1812).
        PrecedenceCutoff = 15,
    }
}

super::u8_enum! {
    /// The code of a Redirect message (RFC 792 p. 12).
    pub enum Icmpv4RedirectCode {
        /// 0: redirect datagrams for the network.
        Network = 0,
        /// 1: redirect datagrams for the host.
        Host = 1,
        /// 2: redirect datagrams for the type of service and network.
        TosNetwork = 2,
        /// 3: redirect datagrams for the type of service and host.
        TosHost = 3,
    }
}

super::u8_enum! {
    /// The code of a Time Exceeded message (RFC 792 p. 6).
    pub enum Icmpv4TimeExceededCode {
        /// 0: time to live exceeded in transit.
        TtlExceeded = 0,
        /// 1: fragment reassembly time exceeded.
        FragmentReassembly = 1,
    }
}

super::u8_enum! {
    /// The code of a Parameter Problem message (RFC 792 p. 8, IANA "ICMP Parameters").
    pub enum Icmpv4ParameterProblemCode {
        /// 0: the pointer indicates the error.
        PointerIndicatesError = 0,
        /// 1: a required option is missing (RFC 1108).
        MissingRequiredOption = 1,
        /// 2: bad length.
        BadLength = 2,
    }
}

/// The shortest invoking packet an error may carry: a 20-byte IPv4 header and 8 bytes of
/// data (RFC 792 p. 4, RFC 1122 §3.2.2).
pub const MIN_INVOKING_PACKET_LEN: usize = 28;

/// A Destination Unreachable message (type 3, RFC 792 p. 4). Its body is the invoking packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv4DestUnreachable {
    /// Why the destination is unreachable.
    pub code: Icmpv4DestUnreachableCode,
    /// With [`FragmentationNeeded`](Icmpv4DestUnreachableCode::FragmentationNeeded): the MTU
    /// of the next-hop network, the low 16 bits of the rest-of-header word (RFC 1191 §4).
    /// 0 from routers older than RFC 1191, and for every other code, where the field is
    /// unused.
    pub next_hop_mtu: u16,
}

impl IcmpMessageFields<Ipv4> for Icmpv4DestUnreachable {
    fn header(&self) -> RawHeader {
        let [m0, m1] = self.next_hop_mtu.to_be_bytes();
        RawHeader::new(Icmpv4Type::DestUnreachable, self.code, [0, 0, m0, m1])
    }
}

/// A Redirect message (type 5, RFC 792 p. 12). Its body is the invoking packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv4Redirect {
    /// What is redirected.
    pub code: Icmpv4RedirectCode,
    /// The gateway to send the traffic to instead.
    pub gateway: Ipv4Addr,
}

impl IcmpMessageFields<Ipv4> for Icmpv4Redirect {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv4Type::Redirect, self.code, self.gateway.bytes())
    }
}

/// A Time Exceeded message (type 11, RFC 792 p. 6). Its body is the invoking packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv4TimeExceeded {
    /// Which time ran out.
    pub code: Icmpv4TimeExceededCode,
}

impl IcmpMessageFields<Ipv4> for Icmpv4TimeExceeded {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv4Type::TimeExceeded, self.code, [0; 4])
    }
}

/// A Parameter Problem message (type 12, RFC 792 p. 8). Its body is the invoking packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv4ParameterProblem {
    /// The kind of problem.
    pub code: Icmpv4ParameterProblemCode,
    /// With [`PointerIndicatesError`](Icmpv4ParameterProblemCode::PointerIndicatesError):
    /// the offset of the offending byte in the invoking packet.
    pub pointer: u8,
}

impl IcmpMessageFields<Ipv4> for Icmpv4ParameterProblem {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv4Type::ParameterProblem, self.code, [self.pointer, 0, 0, 0])
    }
}

/// A decoded ICMPv4 message, borrowing its body from the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmpv4Message<'a> {
    /// An Echo Request and its data.
    EchoRequest {
        /// Identifier and sequence number.
        message: EchoRequest,
        /// The data, to be returned in the reply.
        data: &'a [u8],
    },
    /// An Echo Reply and its data.
    EchoReply {
        /// Identifier and sequence number.
        message: EchoReply,
        /// The data.
        data: &'a [u8],
    },
    /// A Destination Unreachable error.
    DestUnreachable {
        /// Code and next-hop MTU.
        message: Icmpv4DestUnreachable,
        /// The start of the datagram that could not be delivered.
        invoking_packet: &'a [u8],
    },
    /// A Redirect.
    Redirect {
        /// Code and gateway.
        message: Icmpv4Redirect,
        /// The start of the datagram that was redirected.
        invoking_packet: &'a [u8],
    },
    /// A Time Exceeded error.
    TimeExceeded {
        /// Code.
        message: Icmpv4TimeExceeded,
        /// The start of the datagram that was dropped.
        invoking_packet: &'a [u8],
    },
    /// A Parameter Problem error.
    ParameterProblem {
        /// Code and pointer.
        message: Icmpv4ParameterProblem,
        /// The start of the datagram with the problem.
        invoking_packet: &'a [u8],
    },
    /// A type this stack does not handle (including the deprecated Source Quench). RFC 1122
    /// §3.2.2: a message of unknown type MUST be silently discarded.
    Unknown {
        /// Type, code and rest-of-header word.
        header: RawHeader,
        /// Everything after the header.
        body: &'a [u8],
    },
}

impl<'a> Icmpv4Message<'a> {
    /// The invoking packet, if this is an error message (redirects included).
    pub fn invoking_packet(&self) -> Option<&'a [u8]> {
        match *self {
            Icmpv4Message::DestUnreachable { invoking_packet, .. }
            | Icmpv4Message::Redirect { invoking_packet, .. }
            | Icmpv4Message::TimeExceeded { invoking_packet, .. }
            | Icmpv4Message::ParameterProblem { invoking_packet, .. } => Some(invoking_packet),
            Icmpv4Message::EchoRequest { .. }
            | Icmpv4Message::EchoReply { .. }
            | Icmpv4Message::Unknown { .. } => None,
        }
    }
}

/// Checks that an error's body holds the invoking packet's IP header (its own IHL says how
/// long) and 8 bytes of its data (RFC 792 p. 4, RFC 1122 §3.2.2).
fn invoking_packet(body: &[u8]) -> Result<&[u8], ParseError> {
    let header_len = body.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    if body.len() < MIN_INVOKING_PACKET_LEN.max(header_len + 8) {
        return Err(ParseError::new(
            Layer::Icmpv4,
            ParseErrorKind::Length("invoking packet shorter than its IP header and 8 bytes"),
        ));
    }
    Ok(body)
}

/// Decodes the typed message from a verified header and its body.
pub(super) fn decode(header: RawHeader, body: &[u8]) -> Result<Icmpv4Message<'_>, ParseError> {
    let rest = header.rest_of_header;
    let [pointer, _, m0, m1] = rest;
    Ok(match Icmpv4Type::from(header.msg_type) {
        Icmpv4Type::EchoRequest => {
            Icmpv4Message::EchoRequest { message: EchoRequest::from_rest_of_header(rest), data: body }
        }
        Icmpv4Type::EchoReply => {
            Icmpv4Message::EchoReply { message: EchoReply::from_rest_of_header(rest), data: body }
        }
        Icmpv4Type::DestUnreachable => Icmpv4Message::DestUnreachable {
            message: Icmpv4DestUnreachable {
                code: header.code.into(),
                next_hop_mtu: u16::from_be_bytes([m0, m1]),
            },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv4Type::Redirect => Icmpv4Message::Redirect {
            message: Icmpv4Redirect { code: header.code.into(), gateway: Ipv4Addr::new(rest) },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv4Type::TimeExceeded => Icmpv4Message::TimeExceeded {
            message: Icmpv4TimeExceeded { code: header.code.into() },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv4Type::ParameterProblem => Icmpv4Message::ParameterProblem {
            message: Icmpv4ParameterProblem { code: header.code.into(), pointer },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv4Type::SourceQuench | Icmpv4Type::Other(_) => Icmpv4Message::Unknown { header, body },
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fix_checksum, V4_ECHO_REQUEST};
    use super::super::{IcmpBuilder, Icmpv4Packet};
    use super::*;
    use crate::buf::{ParsablePacket, Serializer};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// icmpv4_ping.pcap frame 4: the reply to [`V4_ECHO_REQUEST`].
    const ECHO_REPLY: [u8; 64] = [
        0x00, 0x00, 0xc8, 0x08, 0x0d, 0x4c, 0x00, 0x01, 0xd5, 0x7c, 0x05, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x8d,
        0xef, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
        0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
        0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// icmpv4_ping.pcap frame 9: `ping -s 0`, no data.
    const EMPTY_ECHO_REQUEST: [u8; 8] = [0x08, 0x00, 0xea, 0xb1, 0x0d, 0x4d, 0x00, 0x01];

    /// udp_fragmented.pcap frame 8: port unreachable from 192.0.2.2, quoting the IPv4 header,
    /// the UDP header and all 19 bytes of data of the datagram to port 5009.
    const PORT_UNREACHABLE: [u8; 55] = [
        0x03, 0x03, 0x81, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x2f, 0x89, 0x08, 0x40, 0x00, 0x40,
        0x11, 0x2d, 0xb2, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x92, 0x70, 0x13, 0x91, 0x00, 0x1b,
        0x48, 0xc7, 0x6e, 0x6f, 0x62, 0x6f, 0x64, 0x79, 0x20, 0x6c, 0x69, 0x73, 0x74, 0x65, 0x6e, 0x73, 0x20,
        0x68, 0x65, 0x72, 0x65,
    ];

    /// Parses `bytes`, decodes the typed message, and writes that message around the same
    /// body again.
    fn reserialize_typed(bytes: &[u8]) -> Vec<u8> {
        let packet = Icmpv4Packet::parse_bytes(bytes, ()).unwrap();
        let body = packet.body();
        let serialized = match packet.message().unwrap() {
            Icmpv4Message::EchoRequest { message, .. } => {
                body.encapsulate(IcmpBuilder::<Ipv4, _>::new((), message)).serialize_vec()
            }
            Icmpv4Message::EchoReply { message, .. } => {
                body.encapsulate(IcmpBuilder::<Ipv4, _>::new((), message)).serialize_vec()
            }
            Icmpv4Message::DestUnreachable { message, .. } => {
                body.encapsulate(IcmpBuilder::<Ipv4, _>::new((), message)).serialize_vec()
            }
            other => panic!("unexpected {other:?}"),
        };
        serialized.unwrap().body().to_vec()
    }

    #[test]
    fn pcap_echo_request_reply_and_empty_echo() {
        for bytes in [&V4_ECHO_REQUEST[..], &ECHO_REPLY[..], &EMPTY_ECHO_REQUEST[..]] {
            assert_eq!(reserialize_typed(bytes), bytes);
        }
        let packet = Icmpv4Packet::parse_bytes(&ECHO_REPLY[..], ()).unwrap();
        let Icmpv4Message::EchoReply { message, data } = packet.message().unwrap() else { panic!() };
        assert_eq!(message, EchoReply { id: 0x0d4c, seq: 1 });
        assert_eq!(data, &V4_ECHO_REQUEST[8..]);
    }

    #[test]
    fn pcap_port_unreachable_exposes_invoking_packet() {
        assert_eq!(reserialize_typed(&PORT_UNREACHABLE), PORT_UNREACHABLE);
        let packet = Icmpv4Packet::parse_bytes(&PORT_UNREACHABLE[..], ()).unwrap();
        let message = packet.message().unwrap();
        let Icmpv4Message::DestUnreachable { message: unreachable, invoking_packet } = message else {
            panic!("{message:?}")
        };
        assert_eq!(unreachable.code, Icmpv4DestUnreachableCode::PortUnreachable);
        assert_eq!(invoking_packet, &PORT_UNREACHABLE[8..]);
        assert_eq!(message.invoking_packet(), Some(invoking_packet));
        assert!(packet.msg_type().is_error());
    }

    fn build<M: IcmpMessageFields<Ipv4>>(message: M, body: &[u8]) -> Vec<u8> {
        body.encapsulate(IcmpBuilder::<Ipv4, _>::new((), message)).serialize_vec().unwrap().body().to_vec()
    }

    #[test]
    fn rfc1191_4_fragmentation_needed_carries_next_hop_mtu() {
        let message = Icmpv4DestUnreachable {
            code: Icmpv4DestUnreachableCode::FragmentationNeeded,
            next_hop_mtu: 1400,
        };
        let bytes = build(message, &PORT_UNREACHABLE[8..]);
        assert_eq!(&bytes[..2], &[3, 4]);
        assert_eq!(&bytes[4..8], &[0, 0, 0x05, 0x78]);
        let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert!(
            matches!(packet.message().unwrap(), Icmpv4Message::DestUnreachable { message: m, .. } if m == message)
        );
    }

    #[test]
    fn rfc792_redirect_carries_gateway() {
        let message =
            Icmpv4Redirect { code: Icmpv4RedirectCode::Host, gateway: Ipv4Addr::new([192, 0, 2, 254]) };
        let bytes = build(message, &PORT_UNREACHABLE[8..]);
        assert_eq!(&bytes[..2], &[5, 1]);
        assert_eq!(&bytes[4..8], &[192, 0, 2, 254]);
        let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert!(
            matches!(packet.message().unwrap(), Icmpv4Message::Redirect { message: m, .. } if m == message)
        );
    }

    #[test]
    fn rfc792_time_exceeded_and_parameter_problem() {
        let exceeded = Icmpv4TimeExceeded { code: Icmpv4TimeExceededCode::FragmentReassembly };
        let bytes = build(exceeded, &PORT_UNREACHABLE[8..]);
        assert_eq!(&bytes[..2], &[11, 1]);
        let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert!(
            matches!(packet.message().unwrap(), Icmpv4Message::TimeExceeded { message: m, .. } if m == exceeded)
        );

        let problem =
            Icmpv4ParameterProblem { code: Icmpv4ParameterProblemCode::PointerIndicatesError, pointer: 9 };
        let bytes = build(problem, &PORT_UNREACHABLE[8..]);
        assert_eq!(&bytes[..2], &[12, 0]);
        assert_eq!(&bytes[4..8], &[9, 0, 0, 0]);
        let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert!(
            matches!(packet.message().unwrap(), Icmpv4Message::ParameterProblem { message: m, .. } if m == problem)
        );
    }

    #[test]
    fn rfc1122_3_2_2_error_must_quote_ip_header_and_8_bytes() {
        let message = Icmpv4TimeExceeded { code: Icmpv4TimeExceededCode::TtlExceeded };
        let short = build(message, &PORT_UNREACHABLE[8..8 + 27]);
        let err = Icmpv4Packet::parse_bytes(&short[..], ()).unwrap().message().unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::Length(_)) && err.layer == Layer::Icmpv4);
        assert!(Icmpv4Packet::parse_bytes(&build(message, &PORT_UNREACHABLE[8..8 + 28])[..], ())
            .unwrap()
            .message()
            .is_ok());
        // A quoted header with options (IHL 6) needs 24 + 8 bytes.
        let mut with_options = PORT_UNREACHABLE[8..8 + 31].to_vec();
        with_options[0] = 0x46;
        let bytes = build(message, &with_options);
        assert!(Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap().message().is_err());
    }

    #[test]
    fn rfc1122_3_2_2_unknown_types_are_reported_for_discarding() {
        let raw = RawHeader { msg_type: 4, code: 0, rest_of_header: [0; 4] };
        let bytes = build(raw, &[1, 2, 3]);
        let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(packet.message().unwrap(), Icmpv4Message::Unknown { header: raw, body: &[1, 2, 3] });
        assert!(Icmpv4Type::from(4).is_error() && Icmpv4Type::Redirect.is_error());
        assert!(!Icmpv4Type::EchoRequest.is_error() && !Icmpv4Type::Other(42).is_error());
    }

    #[test]
    fn codes_convert_both_ways() {
        for value in 0..=255u8 {
            assert_eq!(u8::from(Icmpv4Type::from(value)), value);
            assert_eq!(u8::from(Icmpv4DestUnreachableCode::from(value)), value);
            assert_eq!(u8::from(Icmpv4RedirectCode::from(value)), value);
            assert_eq!(u8::from(Icmpv4TimeExceededCode::from(value)), value);
            assert_eq!(u8::from(Icmpv4ParameterProblemCode::from(value)), value);
        }
        assert_eq!(Icmpv4DestUnreachableCode::from(15), Icmpv4DestUnreachableCode::PrecedenceCutoff);
        assert_eq!(Icmpv4DestUnreachableCode::from(16), Icmpv4DestUnreachableCode::Other(16));
    }

    fn arb_invoking_packet() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 28..80).prop_map(|mut bytes| {
            bytes[0] = 0x45;
            bytes
        })
    }

    proptest! {
        #[test]
        fn dest_unreachable_round_trip(code in any::<u8>(), next_hop_mtu in any::<u16>(), body in arb_invoking_packet()) {
            let message = Icmpv4DestUnreachable { code: code.into(), next_hop_mtu };
            let bytes = build(message, &body);
            let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
            prop_assert_eq!(
                packet.message().unwrap(),
                Icmpv4Message::DestUnreachable { message, invoking_packet: &body[..] }
            );
        }

        #[test]
        fn redirect_round_trip(code in any::<u8>(), gateway in any::<[u8; 4]>(), body in arb_invoking_packet()) {
            let message = Icmpv4Redirect { code: code.into(), gateway: Ipv4Addr::new(gateway) };
            let bytes = build(message, &body);
            let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv4Message::Redirect { message, invoking_packet: &body[..] });
        }

        #[test]
        fn time_exceeded_and_parameter_problem_round_trip(code in any::<u8>(), pointer in any::<u8>(), body in arb_invoking_packet()) {
            let message = Icmpv4TimeExceeded { code: code.into() };
            let packet_bytes = build(message, &body);
            let packet = Icmpv4Packet::parse_bytes(&packet_bytes[..], ()).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv4Message::TimeExceeded { message, invoking_packet: &body[..] });
            let message = Icmpv4ParameterProblem { code: code.into(), pointer };
            let packet_bytes = build(message, &body);
            let packet = Icmpv4Packet::parse_bytes(&packet_bytes[..], ()).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv4Message::ParameterProblem { message, invoking_packet: &body[..] });
        }

        #[test]
        fn echo_round_trip(id in any::<u16>(), seq in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let request = EchoRequest { id, seq };
            let bytes = build(request, &data);
            let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv4Message::EchoRequest { message: request, data: &data[..] });
            let bytes = build(request.reply(), &data);
            let packet = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv4Message::EchoReply { message: request.reply(), data: &data[..] });
        }

        #[test]
        fn errors_with_arbitrary_bodies_never_panic(
            msg_type in prop_oneof![Just(3u8), Just(5), Just(11), Just(12)],
            mut bytes in proptest::collection::vec(any::<u8>(), 8..64),
        ) {
            bytes[0] = msg_type;
            fix_checksum::<Ipv4>(&mut bytes, &());
            let _ = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap().message();
        }
    }
}
