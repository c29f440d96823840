//! ICMPv4 (RFC 792, RFC 1191, RFC 1812 §4.3) and ICMPv6 (RFC 4443) messages, with ICMPv6's
//! Neighbor Discovery (RFC 4861) and Multicast Listener Discovery (RFC 2710, RFC 3810).
//!
//! Both versions share one layout (RFC 792 p. 2; RFC 4443 §2.1): an 8-byte header of type,
//! code, checksum and a 4-byte rest-of-header word, then a body. So one packet view and one
//! builder serve both, generic over the IP version `I`:
//!
//! * [`IcmpPacket<I, B>`] is a message whose length and checksum were checked. The ICMPv4
//!   checksum covers the message alone (RFC 792 p. 4); the ICMPv6 one covers the IPv6
//!   pseudo-header too (RFC 4443 §2.3), so ICMPv6 parsing takes the addresses as its `Args`
//!   ([`Icmpv6PseudoHeader`]). Parsing leaves the body in the buffer.
//! * `IcmpPacket::message` decodes the body into a typed message, [`v4::Icmpv4Message`] or
//!   [`v6::Icmpv6Message`], after checking the rules of that message type (codes, minimum
//!   lengths, NDP options, MLD records).
//! * Each typed message is a plain struct (the format's "repr") implementing
//!   [`IcmpMessageFields`]. An [`IcmpBuilder`] writes one around a body (echo data, the
//!   invoking packet of an error, nothing for NDP and MLD) and computes the checksum.
//! * [`IcmpPacket::builder`] returns an [`IcmpBuilder`] over a [`RawHeader`] (type, code,
//!   rest-of-header word): together with the body left in the buffer it re-serializes the
//!   exact bytes received, whatever the message type.
//!
//! Submodules: [`v4`] (ICMPv4 types, codes and messages), [`v6`] (ICMPv6 types, codes, errors
//! and the typed message), [`ndp`] (RFC 4861 messages and options), [`mld`] (MLDv1 and MLDv2)
//! and [`group`] (the source-filter records and codes MLDv2 shares with IGMPv3).

mod common;
pub mod group;
pub mod mld;
pub mod ndp;
pub mod v4;
pub mod v6;

use core::fmt::Debug;

use zerocopy::Ref;

pub(in crate::wire) use common::{parse_message, put, put_bytes, u8_enum, write_message, MessageHeader};
pub use common::{AddrList, AddrListIter, EchoReply, EchoRequest, RawHeader, WireAddress, HEADER_LEN};

use super::checksum::Checksum;
use super::{pseudo_header_checksum, IpProto, Layer, ParseError, ParseErrorKind};
use crate::addr::{Ip, Ipv4, Ipv6, Ipv6Addr};
use crate::buf::{
    PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView, SerializeTarget,
};

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::addr::Ipv4 {}
    impl Sealed for crate::addr::Ipv6 {}
}

/// What differs between ICMPv4 and ICMPv6; implemented by [`Ipv4`] and [`Ipv6`].
pub trait IcmpIpExt: Ip + sealed::Sealed {
    /// What the checksum covers besides the message: nothing (`()`) for ICMPv4 (RFC 792 p. 4),
    /// the IPv6 pseudo-header for ICMPv6 (RFC 4443 §2.3). It is the parse `Args`.
    type PseudoHeader: Copy + Debug + PartialEq + Eq;
    /// The typed Type field.
    type MessageType: Copy + Debug + PartialEq + Eq + From<u8> + Into<u8>;
    /// The layer parse errors are reported at.
    const LAYER: Layer;
    /// The Echo Request type number (8, 128).
    const ECHO_REQUEST: u8;
    /// The Echo Reply type number (0, 129).
    const ECHO_REPLY: u8;
    /// The longest message the checksum can cover: ICMPv6's pseudo-header has a 32-bit
    /// length (RFC 8200 §8.1).
    const MAX_MESSAGE_LEN: usize;

    /// The checksum's sum before the message bytes, for a message of `message_len` bytes
    /// (at most [`MAX_MESSAGE_LEN`](Self::MAX_MESSAGE_LEN)).
    fn checksum_seed(pseudo_header: &Self::PseudoHeader, message_len: usize) -> Checksum;
}

impl IcmpIpExt for Ipv4 {
    type PseudoHeader = ();
    type MessageType = v4::Icmpv4Type;
    const LAYER: Layer = Layer::Icmpv4;
    const ECHO_REQUEST: u8 = 8;
    const ECHO_REPLY: u8 = 0;
    const MAX_MESSAGE_LEN: usize = usize::MAX;

    fn checksum_seed(_: &(), _: usize) -> Checksum {
        Checksum::new()
    }
}

impl IcmpIpExt for Ipv6 {
    type PseudoHeader = Icmpv6PseudoHeader;
    type MessageType = v6::Icmpv6Type;
    const LAYER: Layer = Layer::Icmpv6;
    const ECHO_REQUEST: u8 = 128;
    const ECHO_REPLY: u8 = 129;
    const MAX_MESSAGE_LEN: usize = u32::MAX as usize;

    fn checksum_seed(pseudo_header: &Icmpv6PseudoHeader, message_len: usize) -> Checksum {
        let len = u32::try_from(message_len).unwrap_or(u32::MAX);
        pseudo_header_checksum(pseudo_header.src, pseudo_header.dst, IpProto::ICMPV6, len)
    }
}

/// The addresses of the IPv6 pseudo-header an ICMPv6 checksum covers (RFC 4443 §2.3,
/// RFC 8200 §8.1); the length and Next Header are the message's own.
///
/// NDP and MLD validation also reads them: some rules are about the source or destination
/// address (e.g. RFC 4861 §7.1.1, RFC 3810 §5.1.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmpv6PseudoHeader {
    /// The IPv6 source address.
    pub src: Ipv6Addr,
    /// The IPv6 destination address: the final one if a Routing header is present
    /// (RFC 8200 §8.1).
    pub dst: Ipv6Addr,
}

/// An ICMPv4 message: [`IcmpPacket`] for IPv4.
pub type Icmpv4Packet<B> = IcmpPacket<Ipv4, B>;
/// An ICMPv6 message: [`IcmpPacket`] for IPv6.
pub type Icmpv6Packet<B> = IcmpPacket<Ipv6, B>;

/// A parsed ICMP message: at least the 8-byte header, checksum verified. The body (everything
/// after the header) stays in the buffer; [`message`](Self::message) decodes it.
#[derive(Debug)]
pub struct IcmpPacket<I: IcmpIpExt, B: PacketBytes> {
    header: Ref<B, MessageHeader>,
    body: B,
    pseudo_header: I::PseudoHeader,
}

impl<I: IcmpIpExt, B: PacketBytes> ParsablePacket<B> for IcmpPacket<I, B> {
    type Args = I::PseudoHeader;
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, pseudo_header: I::PseudoHeader) -> Result<Self, ParseError> {
        if view.len() > I::MAX_MESSAGE_LEN {
            return Err(ParseError::new(
                I::LAYER,
                ParseErrorKind::Length("message longer than 2^32-1 bytes"),
            ));
        }
        let seed = I::checksum_seed(&pseudo_header, view.len());
        let (header, body) = parse_message(view, I::LAYER, seed)?;
        Ok(Self { header, body, pseudo_header })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata { header_len: HEADER_LEN, body_len: self.body.len(), footer_len: 0 }
    }
}

impl<I: IcmpIpExt, B: PacketBytes> IcmpPacket<I, B> {
    /// The Type field.
    pub fn msg_type(&self) -> I::MessageType {
        I::MessageType::from(self.header.raw().msg_type)
    }

    /// The Code field.
    pub fn code(&self) -> u8 {
        self.header.raw().code
    }

    /// The checksum field (already verified).
    pub fn checksum(&self) -> u16 {
        self.header.checksum()
    }

    /// The type, code and rest-of-header word.
    pub fn raw_header(&self) -> RawHeader {
        self.header.raw()
    }

    /// Everything after the 8-byte header.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The pseudo-header the checksum was verified with.
    pub fn pseudo_header(&self) -> I::PseudoHeader {
        self.pseudo_header
    }

    /// A builder that writes this message's header again: with the same body it reproduces
    /// the message byte for byte, whatever its type.
    pub fn builder(&self) -> IcmpBuilder<I, RawHeader> {
        IcmpBuilder { pseudo_header: self.pseudo_header, message: self.header.raw() }
    }
}

impl<B: PacketBytes> IcmpPacket<Ipv4, B> {
    /// Decodes the typed ICMPv4 message, checking the rules of its type.
    pub fn message(&self) -> Result<v4::Icmpv4Message<'_>, ParseError> {
        v4::decode(self.header.raw(), &self.body)
    }
}

impl<B: PacketBytes> IcmpPacket<Ipv6, B> {
    /// Decodes the typed ICMPv6 message, checking the rules of its type (for NDP and MLD also
    /// those about the addresses of the pseudo-header).
    pub fn message(&self) -> Result<v6::Icmpv6Message<'_>, ParseError> {
        v6::decode(self.header.raw(), &self.body, &self.pseudo_header)
    }
}

/// The typed fields of one kind of ICMP message (the format's "repr"): what
/// `IcmpPacket::message` decodes, and what an [`IcmpBuilder`] writes.
///
/// A message writes its 8-byte header and, for NDP and MLD, the fields and options after it
/// ([`fields_len`](Self::fields_len)); the builder's body follows. Echo data and an error's
/// invoking packet are the body, so those messages have no further fields.
pub trait IcmpMessageFields<I: IcmpIpExt> {
    /// Type, code and rest-of-header word.
    fn header(&self) -> RawHeader;

    /// Bytes of fields this message writes after the 8-byte header.
    fn fields_len(&self) -> usize {
        0
    }

    /// Writes those fields into `fields` (exactly [`fields_len`](Self::fields_len) bytes,
    /// zeroed).
    fn write_fields(&self, _fields: &mut [u8]) {}
}

/// Writes an ICMP message around a body: the header, the message's fields, and the checksum
/// over all of it (plus the pseudo-header for ICMPv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpBuilder<I: IcmpIpExt, M> {
    /// The addresses the ICMPv6 checksum covers; `()` for ICMPv4.
    pub pseudo_header: I::PseudoHeader,
    /// The message.
    pub message: M,
}

impl<I: IcmpIpExt, M: IcmpMessageFields<I>> IcmpBuilder<I, M> {
    /// A builder for `message`.
    pub fn new(pseudo_header: I::PseudoHeader, message: M) -> Self {
        Self { pseudo_header, message }
    }
}

impl<I: IcmpIpExt, M: IcmpMessageFields<I>> PacketBuilder for IcmpBuilder<I, M> {
    fn constraints(&self) -> PacketConstraints {
        let header_len = HEADER_LEN + self.message.fields_len();
        PacketConstraints {
            header_len,
            footer_len: 0,
            min_body_len: 0,
            max_body_len: I::MAX_MESSAGE_LEN.saturating_sub(header_len),
        }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        let len = target.header.len() + body.len();
        let seed = I::checksum_seed(&self.pseudo_header, len);
        write_message(target.header, body, seed, self.message.header(), |fields| {
            self.message.write_fields(fields)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::{Buf, Serializer};
    use crate::wire::checksum::checksum;
    use proptest::prelude::*;

    /// icmpv4_ping.pcap frame 3: echo request, id 0x0d4c, seq 1, 56 bytes of data.
    pub(super) const V4_ECHO_REQUEST: [u8; 64] = [
        0x08, 0x00, 0xc0, 0x08, 0x0d, 0x4c, 0x00, 0x01, 0xd5, 0x7c, 0x05, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x8d,
        0xef, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
        0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
        0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// icmpv6_ping_ndp.pcap frame 19: echo request 2001:db8::1 -> 2001:db8::2, id 0x0d2d.
    pub(super) const V6_ECHO_REQUEST: [u8; 64] = [
        0x80, 0x00, 0x2a, 0xa4, 0x0d, 0x2d, 0x00, 0x01, 0xd3, 0x7c, 0x05, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x54,
        0x83, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
        0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
        0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    pub(super) fn v6_pseudo_header(src: u8, dst: u8) -> Icmpv6PseudoHeader {
        let addr = |last| Ipv6Addr::new([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last]);
        Icmpv6PseudoHeader { src: addr(src), dst: addr(dst) }
    }

    /// The bytes of an ICMPv6 `message` with no body (NDP and MLD carry all in their fields).
    pub(super) fn build_v6<M: IcmpMessageFields<Ipv6>>(
        ph: Icmpv6PseudoHeader,
        message: M,
    ) -> alloc::vec::Vec<u8> {
        (&[][..])
            .encapsulate(IcmpBuilder::<Ipv6, _>::new(ph, message))
            .serialize_vec()
            .unwrap()
            .body()
            .to_vec()
    }

    /// Checks the checksum, then decodes the message borrowing from `bytes` (not from a
    /// packet local to this function).
    pub(super) fn decode_v6(
        bytes: &[u8],
        ph: Icmpv6PseudoHeader,
    ) -> Result<v6::Icmpv6Message<'_>, ParseError> {
        let packet = Icmpv6Packet::parse_bytes(bytes, ph).unwrap();
        v6::decode(packet.raw_header(), &bytes[HEADER_LEN..], &ph)
    }

    /// Sets the checksum of the message in `bytes` (at least 8 long) so that it parses: lets
    /// property tests reach the typed decoders with arbitrary contents.
    pub(super) fn fix_checksum<I: IcmpIpExt>(bytes: &mut [u8], pseudo_header: &I::PseudoHeader) {
        bytes[2..4].fill(0);
        let mut sum = I::checksum_seed(pseudo_header, bytes.len());
        sum.add_bytes(bytes);
        let value = sum.checksum();
        bytes[2..4].copy_from_slice(&value.to_be_bytes());
    }

    /// The lead's all-layers test in miniature: parse in a buffer, take `builder()`, and
    /// encapsulate the body left in the buffer again.
    fn reserialize_in_place<I: IcmpIpExt>(
        bytes: &[u8],
        pseudo_header: I::PseudoHeader,
    ) -> alloc::vec::Vec<u8> {
        let mut buf = Buf::from_body(bytes.to_vec());
        let packet = buf.parse::<IcmpPacket<I, _>>(pseudo_header).unwrap();
        let builder = packet.builder();
        assert_eq!(packet.parse_metadata().header_len, HEADER_LEN);
        buf.encapsulate(&builder).unwrap();
        buf.body().to_vec()
    }

    /// The captures, for the tests that walk every frame.
    const CAPTURES: [&[u8]; 3] = [
        include_bytes!("../../../tests/vectors/icmpv4_ping.pcap"),
        include_bytes!("../../../tests/vectors/icmpv6_ping_ndp.pcap"),
        include_bytes!("../../../tests/vectors/udp_fragmented.pcap"),
    ];

    /// An ICMP message found in a capture: its bytes and, for ICMPv6, the pseudo-header.
    enum Captured<'a> {
        V4(&'a [u8]),
        V6(&'a [u8], Icmpv6PseudoHeader),
    }

    /// The ICMP and ICMPv6 messages of the unfragmented IPv4 and IPv6 packets of a classic
    /// little-endian Ethernet pcap file. The IP headers are walked by hand: the IP parsers
    /// are another module's.
    fn captured_messages(pcap: &[u8]) -> alloc::vec::Vec<Captured<'_>> {
        let mut messages = alloc::vec::Vec::new();
        let mut at = 24;
        while at < pcap.len() {
            let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
            let frame = &pcap[at + 16..at + 16 + len];
            at += 16 + len;
            let ip = &frame[14..];
            match u16::from_be_bytes([frame[12], frame[13]]) {
                0x0800 => {
                    let header_len = usize::from(ip[0] & 0x0f) * 4;
                    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
                    if ip[9] == 1 && !fragmented {
                        messages.push(Captured::V4(&ip[header_len..total_len]));
                    }
                }
                0x86dd => {
                    let payload_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
                    let ph = Icmpv6PseudoHeader {
                        src: Ipv6Addr::new(ip[8..24].try_into().unwrap()),
                        dst: Ipv6Addr::new(ip[24..40].try_into().unwrap()),
                    };
                    let (mut next, mut offset) = (ip[6], 40);
                    // Hop-by-Hop Options (MLD's Router Alert) are skipped; fragments left out.
                    while next == 0 {
                        next = ip[offset];
                        offset += (usize::from(ip[offset + 1]) + 1) * 8;
                    }
                    if next == 58 {
                        messages.push(Captured::V6(&ip[offset..40 + payload_len], ph));
                    }
                }
                _ => {}
            }
        }
        messages
    }

    fn build<I: IcmpIpExt, M: IcmpMessageFields<I>>(
        ph: I::PseudoHeader,
        message: M,
        body: &[u8],
    ) -> alloc::vec::Vec<u8> {
        body.encapsulate(IcmpBuilder::<I, _>::new(ph, message)).serialize_vec().unwrap().into_inner()
    }

    /// Writes a decoded ICMPv4 message again from its typed repr.
    fn build_typed_v4(message: v4::Icmpv4Message<'_>) -> alloc::vec::Vec<u8> {
        use v4::Icmpv4Message as M;
        match message {
            M::EchoRequest { message, data } => build::<Ipv4, _>((), message, data),
            M::EchoReply { message, data } => build::<Ipv4, _>((), message, data),
            M::DestUnreachable { message, invoking_packet } => build::<Ipv4, _>((), message, invoking_packet),
            M::Redirect { message, invoking_packet } => build::<Ipv4, _>((), message, invoking_packet),
            M::TimeExceeded { message, invoking_packet } => build::<Ipv4, _>((), message, invoking_packet),
            M::ParameterProblem { message, invoking_packet } => {
                build::<Ipv4, _>((), message, invoking_packet)
            }
            M::Unknown { header, body } => build::<Ipv4, _>((), header, body),
        }
    }

    /// Writes a decoded ICMPv6 message again from its typed repr.
    fn build_typed_v6(message: v6::Icmpv6Message<'_>, ph: Icmpv6PseudoHeader) -> alloc::vec::Vec<u8> {
        use v6::Icmpv6Message as M;
        match message {
            M::DestUnreachable { message, invoking_packet } => build::<Ipv6, _>(ph, message, invoking_packet),
            M::PacketTooBig { message, invoking_packet } => build::<Ipv6, _>(ph, message, invoking_packet),
            M::TimeExceeded { message, invoking_packet } => build::<Ipv6, _>(ph, message, invoking_packet),
            M::ParameterProblem { message, invoking_packet } => {
                build::<Ipv6, _>(ph, message, invoking_packet)
            }
            M::EchoRequest { message, data } => build::<Ipv6, _>(ph, message, data),
            M::EchoReply { message, data } => build::<Ipv6, _>(ph, message, data),
            M::MulticastListenerQuery(message) => build::<Ipv6, _>(ph, message, &[]),
            M::MulticastListenerQueryV2(message) => build::<Ipv6, _>(ph, message, &[]),
            M::MulticastListenerReport(message) => build::<Ipv6, _>(ph, message, &[]),
            M::MulticastListenerDone(message) => build::<Ipv6, _>(ph, message, &[]),
            M::MulticastListenerReportV2(message) => build::<Ipv6, _>(ph, message, &[]),
            M::RouterSolicitation(message) => build::<Ipv6, _>(ph, message, &[]),
            M::RouterAdvertisement(message) => build::<Ipv6, _>(ph, message, &[]),
            M::NeighborSolicitation(message) => build::<Ipv6, _>(ph, message, &[]),
            M::NeighborAdvertisement(message) => build::<Ipv6, _>(ph, message, &[]),
            M::Redirect(message) => build::<Ipv6, _>(ph, message, &[]),
            M::UnknownError { header, invoking_packet } => build::<Ipv6, _>(ph, header, invoking_packet),
            M::UnknownInformational { header, body } => build::<Ipv6, _>(ph, header, body),
        }
    }

    #[test]
    fn pcap_every_icmp_message_decodes_and_reserializes_byte_for_byte() {
        let (mut v4_count, mut v6_count) = (0, 0);
        for capture in CAPTURES {
            for message in captured_messages(capture) {
                match message {
                    Captured::V4(bytes) => {
                        assert_eq!(reserialize_in_place::<Ipv4>(bytes, ()), bytes);
                        let packet = Icmpv4Packet::parse_bytes(bytes, ()).unwrap();
                        assert_eq!(build_typed_v4(packet.message().unwrap()), bytes);
                        v4_count += 1;
                    }
                    Captured::V6(bytes, ph) => {
                        assert_eq!(reserialize_in_place::<Ipv6>(bytes, ph), bytes);
                        let packet = Icmpv6Packet::parse_bytes(bytes, ph).unwrap();
                        assert_eq!(build_typed_v6(packet.message().unwrap(), ph), bytes, "{packet:?}");
                        v6_count += 1;
                    }
                }
            }
        }
        // icmpv4_ping: 14 unfragmented echoes; udp_fragmented: 1 port unreachable each.
        // icmpv6_ping_ndp: 38 frames less 6 fragments.
        assert_eq!((v4_count, v6_count), (14 + 1, 32 + 1));
    }

    #[test]
    fn pcap_icmpv4_echo_reserializes_byte_for_byte() {
        assert_eq!(reserialize_in_place::<Ipv4>(&V4_ECHO_REQUEST, ()), V4_ECHO_REQUEST);
    }

    #[test]
    fn pcap_icmpv6_echo_reserializes_byte_for_byte() {
        let ph = v6_pseudo_header(1, 2);
        assert_eq!(reserialize_in_place::<Ipv6>(&V6_ECHO_REQUEST, ph), V6_ECHO_REQUEST);
    }

    #[test]
    fn parse_leaves_body_in_buffer() {
        let mut buf = Buf::from_body(&V4_ECHO_REQUEST[..]);
        let packet = buf.parse::<Icmpv4Packet<_>>(()).unwrap();
        assert_eq!(packet.msg_type(), v4::Icmpv4Type::EchoRequest);
        assert_eq!((packet.code(), packet.checksum()), (0, 0xc008));
        assert_eq!(buf.body(), &V4_ECHO_REQUEST[8..]);
    }

    #[test]
    fn rfc792_checksum_error_is_reported() {
        let mut bytes = V4_ECHO_REQUEST;
        bytes[20] ^= 1;
        let err = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap_err();
        assert_eq!(err, ParseError::new(Layer::Icmpv4, ParseErrorKind::Checksum));
    }

    #[test]
    fn rfc4443_2_3_checksum_covers_pseudo_header() {
        let ph = v6_pseudo_header(1, 2);
        assert!(Icmpv6Packet::parse_bytes(&V6_ECHO_REQUEST[..], ph).is_ok());
        // The same bytes between other addresses fail: the addresses are summed in.
        let err = Icmpv6Packet::parse_bytes(&V6_ECHO_REQUEST[..], v6_pseudo_header(1, 3)).unwrap_err();
        assert_eq!(err, ParseError::new(Layer::Icmpv6, ParseErrorKind::Checksum));
        // The length is summed in too: dropping two zero bytes at an even offset keeps the
        // plain sum but not the pseudo-header's.
        let mut short = V6_ECHO_REQUEST.to_vec();
        short.drain(12..14);
        assert_eq!(checksum(&short), checksum(&V6_ECHO_REQUEST));
        assert_eq!(Icmpv6Packet::parse_bytes(&short[..], ph).unwrap_err().kind, ParseErrorKind::Checksum);
    }

    #[test]
    fn shorter_than_header_is_truncated() {
        for len in 0..HEADER_LEN {
            let err = Icmpv4Packet::parse_bytes(&V4_ECHO_REQUEST[..len], ()).unwrap_err();
            assert_eq!(err, ParseError::truncated(Layer::Icmpv4));
            let err = Icmpv6Packet::parse_bytes(&V6_ECHO_REQUEST[..len], v6_pseudo_header(1, 2)).unwrap_err();
            assert_eq!(err, ParseError::truncated(Layer::Icmpv6));
        }
    }

    #[test]
    fn echo_builder_writes_linux_bytes() {
        let ph = v6_pseudo_header(1, 2);
        let built = (&V6_ECHO_REQUEST[8..])
            .encapsulate(IcmpBuilder::<Ipv6, _>::new(ph, EchoRequest { id: 0x0d2d, seq: 1 }))
            .serialize_vec()
            .unwrap();
        assert_eq!(built.body(), &V6_ECHO_REQUEST[..]);
    }

    fn arb_raw_header() -> impl Strategy<Value = RawHeader> {
        (any::<u8>(), any::<u8>(), any::<[u8; 4]>()).prop_map(|(msg_type, code, rest_of_header)| RawHeader {
            msg_type,
            code,
            rest_of_header,
        })
    }

    proptest! {
        #[test]
        fn v4_round_trip(raw in arb_raw_header(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let builder = IcmpBuilder::<Ipv4, _>::new((), raw);
            let buf = (&body[..]).encapsulate(builder).serialize_vec().unwrap();
            let packet = Icmpv4Packet::parse_bytes(buf.body(), ()).unwrap();
            prop_assert_eq!(packet.builder(), builder);
            prop_assert_eq!(packet.body(), &body[..]);
        }

        #[test]
        fn v6_round_trip(
            raw in arb_raw_header(),
            src in any::<[u8; 16]>(),
            dst in any::<[u8; 16]>(),
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let ph = Icmpv6PseudoHeader { src: Ipv6Addr::new(src), dst: Ipv6Addr::new(dst) };
            let builder = IcmpBuilder::<Ipv6, _>::new(ph, raw);
            let buf = (&body[..]).encapsulate(builder).serialize_vec().unwrap();
            let packet = Icmpv6Packet::parse_bytes(buf.body(), ph).unwrap();
            prop_assert_eq!(packet.builder(), builder);
            prop_assert_eq!(packet.body(), &body[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Icmpv4Packet::parse_bytes(&bytes[..], ());
            let _ = Icmpv6Packet::parse_bytes(&bytes[..], v6_pseudo_header(1, 2));
        }

        #[test]
        fn arbitrary_messages_with_good_checksum_decode_without_panic(
            mut bytes in proptest::collection::vec(any::<u8>(), 8..128),
        ) {
            fix_checksum::<Ipv4>(&mut bytes, &());
            let _ = Icmpv4Packet::parse_bytes(&bytes[..], ()).unwrap().message();
            let ph = v6_pseudo_header(1, 2);
            fix_checksum::<Ipv6>(&mut bytes, &ph);
            let _ = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap().message();
        }
    }
}
