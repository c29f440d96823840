//! ICMPv6 message types and codes, the error messages (RFC 4443 §3: destination unreachable,
//! packet too big, time exceeded, parameter problem), and the typed ICMPv6 message that
//! gathers them with echo (RFC 4443 §4), NDP ([`super::ndp`]) and MLD ([`super::mld`]).
//!
//! RFC 4443 §2.1: types below 128 are errors, the rest informational. A message of unknown
//! type decodes to [`Icmpv6Message::UnknownError`] or [`Icmpv6Message::UnknownInformational`]:
//! the first is passed to the upper layer that sent the invoking packet, the second silently
//! discarded (RFC 4443 §2.4 (a), (b)).
//!
//! An error's body is its invoking packet: as much of the packet that caused it as fits in
//! the minimum MTU (RFC 4443 §2.4 (c)). It is exposed as a borrowed slice for the IPv6 layer to
//! parse and match to a flow; a quote too short to hold even the IPv6 header is rejected.

use super::{mld, ndp, EchoReply, EchoRequest, IcmpMessageFields, Icmpv6PseudoHeader, RawHeader};
use crate::addr::Ipv6;
use crate::wire::{Layer, ParameterProblemCode, ParseError, ParseErrorKind};

super::u8_enum! {
    /// An ICMPv6 message type (RFC 4443 §2.1; IANA "ICMPv6 Parameters").
    pub enum Icmpv6Type {
        /// 1: Destination Unreachable (RFC 4443 §3.1).
        DestUnreachable = 1,
        /// 2: Packet Too Big (RFC 4443 §3.2).
        PacketTooBig = 2,
        /// 3: Time Exceeded (RFC 4443 §3.3).
        TimeExceeded = 3,
        /// 4: Parameter Problem (RFC 4443 §3.4).
        ParameterProblem = 4,
        /// 128: Echo Request (RFC 4443 §4.1).
        EchoRequest = 128,
        /// 129: Echo Reply (RFC 4443 §4.2).
        EchoReply = 129,
        /// 130: Multicast Listener Query, MLDv1 or MLDv2 (RFC 2710 §3, RFC 3810 §5.1).
        MulticastListenerQuery = 130,
        /// 131: MLDv1 Multicast Listener Report (RFC 2710 §3).
        MulticastListenerReport = 131,
        /// 132: MLDv1 Multicast Listener Done (RFC 2710 §3).
        MulticastListenerDone = 132,
        /// 133: Router Solicitation (RFC 4861 §4.1).
        RouterSolicitation = 133,
        /// 134: Router Advertisement (RFC 4861 §4.2).
        RouterAdvertisement = 134,
        /// 135: Neighbor Solicitation (RFC 4861 §4.3).
        NeighborSolicitation = 135,
        /// 136: Neighbor Advertisement (RFC 4861 §4.4).
        NeighborAdvertisement = 136,
        /// 137: Redirect (RFC 4861 §4.5).
        Redirect = 137,
        /// 143: Version 2 Multicast Listener Report (RFC 3810 §5.2).
        MulticastListenerReportV2 = 143,
    }
}

impl Icmpv6Type {
    /// Whether this is an error message type: the high-order bit of the type is clear
    /// (RFC 4443 §2.1).
    pub fn is_error(self) -> bool {
        u8::from(self) < 128
    }
}

super::u8_enum! {
    /// The code of a Destination Unreachable message (RFC 4443 §3.1).
    pub enum Icmpv6DestUnreachableCode {
        /// 0: no route to destination.
        NoRoute = 0,
        /// 1: communication with the destination administratively prohibited.
        AdminProhibited = 1,
        /// 2: beyond the scope of the source address.
        BeyondScope = 2,
        /// 3: address unreachable.
        AddressUnreachable = 3,
        /// 4: port unreachable.
        PortUnreachable = 4,
        /// 5: source address failed ingress/egress policy.
        SourceAddressFailedPolicy = 5,
        /// 6: reject route to destination.
        RejectRoute = 6,
    }
}

super::u8_enum! {
    /// The code of a Time Exceeded message (RFC 4443 §3.3).
    pub enum Icmpv6TimeExceededCode {
        /// 0: hop limit exceeded in transit.
        HopLimitExceeded = 0,
        /// 1: fragment reassembly time exceeded.
        FragmentReassembly = 1,
    }
}

super::u8_enum! {
    /// The code of a Parameter Problem message (RFC 4443 §3.4, RFC 7112 §5).
    pub enum Icmpv6ParameterProblemCode {
        /// 0: erroneous header field encountered.
        ErroneousHeaderField = 0,
        /// 1: unrecognized Next Header type encountered.
        UnrecognizedNextHeader = 1,
        /// 2: unrecognized IPv6 option encountered.
        UnrecognizedOption = 2,
        /// 3: IPv6 first fragment has incomplete IPv6 header chain.
        IncompleteHeaderChain = 3,
    }
}

impl From<ParameterProblemCode> for Icmpv6ParameterProblemCode {
    /// The code to answer a [`ParseErrorKind::ParameterProblem`] with.
    fn from(code: ParameterProblemCode) -> Self {
        match code {
            ParameterProblemCode::ErroneousHeaderField => Icmpv6ParameterProblemCode::ErroneousHeaderField,
            ParameterProblemCode::UnrecognizedNextHeader => {
                Icmpv6ParameterProblemCode::UnrecognizedNextHeader
            }
            ParameterProblemCode::UnrecognizedOption => Icmpv6ParameterProblemCode::UnrecognizedOption,
            ParameterProblemCode::IncompleteHeaderChain => Icmpv6ParameterProblemCode::IncompleteHeaderChain,
        }
    }
}

/// The shortest invoking packet an error may carry: an IPv6 header, without which it cannot
/// be matched to anything.
pub const MIN_INVOKING_PACKET_LEN: usize = 40;

/// A Destination Unreachable message (type 1, RFC 4443 §3.1). Its body is the invoking packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv6DestUnreachable {
    /// Why the destination is unreachable.
    pub code: Icmpv6DestUnreachableCode,
}

/// A Packet Too Big message (type 2, RFC 4443 §3.2). Its body is the invoking packet. The
/// code is 0 and ignored by receivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv6PacketTooBig {
    /// The MTU of the next-hop link.
    pub mtu: u32,
}

/// A Time Exceeded message (type 3, RFC 4443 §3.3). Its body is the invoking packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv6TimeExceeded {
    /// Which limit was exceeded.
    pub code: Icmpv6TimeExceededCode,
}

/// A Parameter Problem message (type 4, RFC 4443 §3.4). Its body is the invoking packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv6ParameterProblem {
    /// The kind of problem.
    pub code: Icmpv6ParameterProblemCode,
    /// Offset in the invoking packet of the byte where the problem was found (it may point
    /// beyond the quoted part).
    pub pointer: u32,
}

impl IcmpMessageFields<Ipv6> for Icmpv6DestUnreachable {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::DestUnreachable, self.code, [0; 4])
    }
}

impl IcmpMessageFields<Ipv6> for Icmpv6PacketTooBig {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::PacketTooBig, 0, self.mtu.to_be_bytes())
    }
}

impl IcmpMessageFields<Ipv6> for Icmpv6TimeExceeded {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::TimeExceeded, self.code, [0; 4])
    }
}

impl IcmpMessageFields<Ipv6> for Icmpv6ParameterProblem {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::ParameterProblem, self.code, self.pointer.to_be_bytes())
    }
}

/// A decoded ICMPv6 message, borrowing its variable parts from the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmpv6Message<'a> {
    /// A Destination Unreachable error.
    DestUnreachable {
        /// Code.
        message: Icmpv6DestUnreachable,
        /// The start of the packet that could not be delivered.
        invoking_packet: &'a [u8],
    },
    /// A Packet Too Big error.
    PacketTooBig {
        /// MTU.
        message: Icmpv6PacketTooBig,
        /// The start of the packet that was too big.
        invoking_packet: &'a [u8],
    },
    /// A Time Exceeded error.
    TimeExceeded {
        /// Code.
        message: Icmpv6TimeExceeded,
        /// The start of the packet that was dropped.
        invoking_packet: &'a [u8],
    },
    /// A Parameter Problem error.
    ParameterProblem {
        /// Code and pointer.
        message: Icmpv6ParameterProblem,
        /// The start of the packet with the problem.
        invoking_packet: &'a [u8],
    },
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
    /// An MLDv1 query (24 bytes).
    MulticastListenerQuery(mld::Mldv1Query),
    /// An MLDv2 query (28 bytes or more).
    MulticastListenerQueryV2(mld::Mldv2Query<'a>),
    /// An MLDv1 report.
    MulticastListenerReport(mld::Mldv1Report),
    /// An MLDv1 done.
    MulticastListenerDone(mld::Mldv1Done),
    /// An MLDv2 report.
    MulticastListenerReportV2(mld::Mldv2Report<'a>),
    /// A Router Solicitation.
    RouterSolicitation(ndp::RouterSolicitation<'a>),
    /// A Router Advertisement.
    RouterAdvertisement(ndp::RouterAdvertisement<'a>),
    /// A Neighbor Solicitation.
    NeighborSolicitation(ndp::NeighborSolicitation<'a>),
    /// A Neighbor Advertisement.
    NeighborAdvertisement(ndp::NeighborAdvertisement<'a>),
    /// A Redirect.
    Redirect(ndp::Redirect<'a>),
    /// An error of a type this stack does not know (type below 128). RFC 4443 §2.4 (a): it
    /// goes to the upper layer that sent the invoking packet, if that can be identified.
    UnknownError {
        /// Type, code and rest-of-header word.
        header: RawHeader,
        /// The invoking packet.
        invoking_packet: &'a [u8],
    },
    /// An informational message of a type this stack does not know (type 128 or above).
    /// RFC 4443 §2.4 (b): it MUST be silently discarded.
    UnknownInformational {
        /// Type, code and rest-of-header word.
        header: RawHeader,
        /// Everything after the header.
        body: &'a [u8],
    },
}

impl<'a> Icmpv6Message<'a> {
    /// The invoking packet, if this is an error message.
    pub fn invoking_packet(&self) -> Option<&'a [u8]> {
        match *self {
            Icmpv6Message::DestUnreachable { invoking_packet, .. }
            | Icmpv6Message::PacketTooBig { invoking_packet, .. }
            | Icmpv6Message::TimeExceeded { invoking_packet, .. }
            | Icmpv6Message::ParameterProblem { invoking_packet, .. }
            | Icmpv6Message::UnknownError { invoking_packet, .. } => Some(invoking_packet),
            _ => None,
        }
    }
}

/// Checks that an error's body holds at least the invoking packet's IPv6 header.
fn invoking_packet(body: &[u8]) -> Result<&[u8], ParseError> {
    if body.len() < MIN_INVOKING_PACKET_LEN {
        return Err(ParseError::new(
            Layer::Icmpv6,
            ParseErrorKind::Length("invoking packet shorter than an IPv6 header"),
        ));
    }
    Ok(body)
}

/// Decodes the typed message from a verified header, its body and the pseudo-header.
pub(super) fn decode<'a>(
    header: RawHeader,
    body: &'a [u8],
    pseudo_header: &Icmpv6PseudoHeader,
) -> Result<Icmpv6Message<'a>, ParseError> {
    let rest = header.rest_of_header;
    Ok(match Icmpv6Type::from(header.msg_type) {
        Icmpv6Type::DestUnreachable => Icmpv6Message::DestUnreachable {
            message: Icmpv6DestUnreachable { code: header.code.into() },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv6Type::PacketTooBig => Icmpv6Message::PacketTooBig {
            message: Icmpv6PacketTooBig { mtu: u32::from_be_bytes(rest) },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv6Type::TimeExceeded => Icmpv6Message::TimeExceeded {
            message: Icmpv6TimeExceeded { code: header.code.into() },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv6Type::ParameterProblem => Icmpv6Message::ParameterProblem {
            message: Icmpv6ParameterProblem { code: header.code.into(), pointer: u32::from_be_bytes(rest) },
            invoking_packet: invoking_packet(body)?,
        },
        Icmpv6Type::EchoRequest => {
            Icmpv6Message::EchoRequest { message: EchoRequest::from_rest_of_header(rest), data: body }
        }
        Icmpv6Type::EchoReply => {
            Icmpv6Message::EchoReply { message: EchoReply::from_rest_of_header(rest), data: body }
        }
        Icmpv6Type::MulticastListenerQuery => mld::decode_query(header, body, pseudo_header)?,
        Icmpv6Type::MulticastListenerReport => mld::decode_report(body)?,
        Icmpv6Type::MulticastListenerDone => mld::decode_done(body)?,
        Icmpv6Type::MulticastListenerReportV2 => mld::decode_report_v2(header, body)?,
        Icmpv6Type::RouterSolicitation => ndp::decode_router_solicitation(header, body, pseudo_header)?,
        Icmpv6Type::RouterAdvertisement => ndp::decode_router_advertisement(header, body, pseudo_header)?,
        Icmpv6Type::NeighborSolicitation => ndp::decode_neighbor_solicitation(header, body, pseudo_header)?,
        Icmpv6Type::NeighborAdvertisement => ndp::decode_neighbor_advertisement(header, body, pseudo_header)?,
        Icmpv6Type::Redirect => ndp::decode_redirect(header, body, pseudo_header)?,
        unknown @ Icmpv6Type::Other(_) => {
            if unknown.is_error() {
                Icmpv6Message::UnknownError { header, invoking_packet: body }
            } else {
                Icmpv6Message::UnknownInformational { header, body }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fix_checksum, v6_pseudo_header, V6_ECHO_REQUEST};
    use super::super::{IcmpBuilder, Icmpv6Packet};
    use super::*;
    use crate::buf::{Buf, ParsablePacket, Serializer};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// udp_fragmented.pcap frame 16: port unreachable from 2001:db8::2 to 2001:db8::1, quoting
    /// the whole UDP datagram to port 5009 (IPv6 header, UDP header, 19 bytes).
    const PORT_UNREACHABLE: [u8; 75] = [
        0x01, 0x04, 0x2a, 0x14, 0x00, 0x00, 0x00, 0x00, 0x60, 0x0b, 0x07, 0xb3, 0x00, 0x1b, 0x11, 0x40, 0x20,
        0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
        0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xe4, 0xc9, 0x13,
        0x91, 0x00, 0x1b, 0x1e, 0xfd, 0x6e, 0x6f, 0x62, 0x6f, 0x64, 0x79, 0x20, 0x6c, 0x69, 0x73, 0x74, 0x65,
        0x6e, 0x73, 0x20, 0x68, 0x65, 0x72, 0x65,
    ];

    fn build<M: IcmpMessageFields<Ipv6>>(ph: Icmpv6PseudoHeader, message: M, body: &[u8]) -> Vec<u8> {
        body.encapsulate(IcmpBuilder::<Ipv6, _>::new(ph, message)).serialize_vec().unwrap().body().to_vec()
    }

    #[test]
    fn pcap_port_unreachable_reserializes_byte_for_byte() {
        let ph = v6_pseudo_header(2, 1);
        let mut buf = Buf::from_body(&PORT_UNREACHABLE[..]);
        let packet = buf.parse::<Icmpv6Packet<_>>(ph).unwrap();
        let message = packet.message().unwrap();
        let Icmpv6Message::DestUnreachable { message: unreachable, invoking_packet } = message else {
            panic!("{message:?}")
        };
        assert_eq!(unreachable.code, Icmpv6DestUnreachableCode::PortUnreachable);
        assert_eq!(invoking_packet, &PORT_UNREACHABLE[8..]);
        assert_eq!(message.invoking_packet(), Some(invoking_packet));
        assert!(packet.msg_type().is_error());
        assert_eq!(build(ph, unreachable, invoking_packet), PORT_UNREACHABLE);
        // The invoking packet is what stayed in the buffer.
        assert_eq!(buf.body(), &PORT_UNREACHABLE[8..]);
    }

    #[test]
    fn pcap_echo_request_typed() {
        let ph = v6_pseudo_header(1, 2);
        let packet = Icmpv6Packet::parse_bytes(&V6_ECHO_REQUEST[..], ph).unwrap();
        let Icmpv6Message::EchoRequest { message, data } = packet.message().unwrap() else { panic!() };
        assert_eq!(message, EchoRequest { id: 0x0d2d, seq: 1 });
        assert_eq!(build(ph, message, data), V6_ECHO_REQUEST);
        // RFC 4443 §4.2: the reply carries the request's identifier, sequence and data.
        let reply_ph = v6_pseudo_header(2, 1);
        let reply = build(reply_ph, message.reply(), data);
        let packet = Icmpv6Packet::parse_bytes(&reply[..], reply_ph).unwrap();
        assert_eq!(packet.message().unwrap(), Icmpv6Message::EchoReply { message: message.reply(), data });
    }

    #[test]
    fn rfc4443_3_2_packet_too_big_carries_mtu() {
        let ph = v6_pseudo_header(2, 1);
        let message = Icmpv6PacketTooBig { mtu: 1280 };
        let bytes = build(ph, message, &PORT_UNREACHABLE[8..]);
        assert_eq!(&bytes[..8], &[2, 0, bytes[2], bytes[3], 0, 0, 5, 0]);
        let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
        assert_eq!(
            packet.message().unwrap(),
            Icmpv6Message::PacketTooBig { message, invoking_packet: &PORT_UNREACHABLE[8..] }
        );
    }

    #[test]
    fn rfc4443_3_3_and_3_4_time_exceeded_and_parameter_problem() {
        let ph = v6_pseudo_header(2, 1);
        let exceeded = Icmpv6TimeExceeded { code: Icmpv6TimeExceededCode::FragmentReassembly };
        let bytes = build(ph, exceeded, &PORT_UNREACHABLE[8..]);
        assert_eq!(&bytes[..2], &[3, 1]);
        let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
        assert!(
            matches!(packet.message().unwrap(), Icmpv6Message::TimeExceeded { message, .. } if message == exceeded)
        );

        let problem =
            Icmpv6ParameterProblem { code: ParameterProblemCode::UnrecognizedNextHeader.into(), pointer: 40 };
        let bytes = build(ph, problem, &PORT_UNREACHABLE[8..]);
        assert_eq!(&bytes[..2], &[4, 1]);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 40]);
        let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
        assert!(
            matches!(packet.message().unwrap(), Icmpv6Message::ParameterProblem { message, .. } if message == problem)
        );
    }

    #[test]
    fn rfc4443_2_4_c_error_must_quote_an_ipv6_header() {
        let ph = v6_pseudo_header(2, 1);
        let message = Icmpv6DestUnreachable { code: Icmpv6DestUnreachableCode::NoRoute };
        let bytes = build(ph, message, &PORT_UNREACHABLE[8..8 + 39]);
        let err = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap().message().unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::Length(_)) && err.layer == Layer::Icmpv6);
        let bytes = build(ph, message, &PORT_UNREACHABLE[8..8 + 40]);
        assert!(Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap().message().is_ok());
    }

    #[test]
    fn rfc4443_2_4_unknown_types_split_into_errors_and_informational() {
        let ph = v6_pseudo_header(1, 2);
        let error = RawHeader { msg_type: 100, code: 0, rest_of_header: [0; 4] };
        let bytes = build(ph, error, &[1, 2, 3]);
        let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
        let message = packet.message().unwrap();
        assert_eq!(message, Icmpv6Message::UnknownError { header: error, invoking_packet: &[1, 2, 3] });
        assert_eq!(message.invoking_packet(), Some(&[1u8, 2, 3][..]));

        let informational = RawHeader { msg_type: 200, code: 0, rest_of_header: [0; 4] };
        let bytes = build(ph, informational, &[1, 2, 3]);
        let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
        assert_eq!(
            packet.message().unwrap(),
            Icmpv6Message::UnknownInformational { header: informational, body: &[1, 2, 3] }
        );
        assert!(!Icmpv6Type::from(200).is_error() && Icmpv6Type::from(127).is_error());
    }

    #[test]
    fn codes_convert_both_ways() {
        for value in 0..=255u8 {
            assert_eq!(u8::from(Icmpv6Type::from(value)), value);
            assert_eq!(u8::from(Icmpv6DestUnreachableCode::from(value)), value);
            assert_eq!(u8::from(Icmpv6TimeExceededCode::from(value)), value);
            assert_eq!(u8::from(Icmpv6ParameterProblemCode::from(value)), value);
        }
        assert_eq!(Icmpv6DestUnreachableCode::from(7), Icmpv6DestUnreachableCode::Other(7));
    }

    fn arb_invoking_packet() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 40..100)
    }

    proptest! {
        #[test]
        fn errors_round_trip(code in any::<u8>(), value in any::<u32>(), body in arb_invoking_packet()) {
            let ph = v6_pseudo_header(2, 1);
            let invoking_packet = &body[..];
            let message = Icmpv6DestUnreachable { code: code.into() };
            let bytes = build(ph, message, &body);
            let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv6Message::DestUnreachable { message, invoking_packet });
            let message = Icmpv6PacketTooBig { mtu: value };
            let bytes = build(ph, message, &body);
            let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv6Message::PacketTooBig { message, invoking_packet });
            let message = Icmpv6TimeExceeded { code: code.into() };
            let bytes = build(ph, message, &body);
            let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv6Message::TimeExceeded { message, invoking_packet });
            let message = Icmpv6ParameterProblem { code: code.into(), pointer: value };
            let bytes = build(ph, message, &body);
            let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv6Message::ParameterProblem { message, invoking_packet });
        }

        #[test]
        fn echo_round_trip(id in any::<u16>(), seq in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let ph = v6_pseudo_header(1, 2);
            let request = EchoRequest { id, seq };
            let bytes = build(ph, request, &data);
            let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
            prop_assert_eq!(packet.message().unwrap(), Icmpv6Message::EchoRequest { message: request, data: &data[..] });
        }

        #[test]
        fn errors_with_arbitrary_bodies_never_panic(
            msg_type in 1u8..=4,
            mut bytes in proptest::collection::vec(any::<u8>(), 8..80),
        ) {
            bytes[0] = msg_type;
            let ph = v6_pseudo_header(2, 1);
            fix_checksum::<Ipv6>(&mut bytes, &ph);
            let _ = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap().message();
        }
    }
}
