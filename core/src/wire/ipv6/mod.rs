//! IPv6 packets (RFC 8200): the fixed header (§3) and the extension-header chain (§4, walked at
//! parse time by the `ext` submodule).
//!
//! * [`Ipv6Packet`] validates the version and Payload Length (§3), trims link-layer padding,
//!   refuses jumbograms (RFC 2675), and walks the extension headers with the checks and
//!   ICMP parameter-problem pointers of §4.1–§4.6. Afterwards the buffer's body is the
//!   upper-layer payload (every extension header counts as header), so UDP, TCP or ICMPv6
//!   parse next in place; [`Ipv6Packet::proto`] names it.
//! * [`Ipv6Builder`] writes the fixed header, an optional chain of raw extension headers
//!   ([`ExtHeaderChain`], e.g. MLD's Hop-by-Hop Router Alert, RFC 3810 §5) and an optional
//!   Fragment header (§4.5), and computes the Payload Length. The builder of a parsed packet
//!   writes its extension headers back byte for byte.
//! * A mutably parsed packet can have its Hop Limit decremented in place for forwarding
//!   (§3; IPv6 has no header checksum to update).

mod ext;
mod quoted;

pub use ext::{
    ExtHeader, ExtHeaderChain, ExtHeaderIter, ExtHeaderKind, FragmentHeader, FRAGMENT_HEADER_LEN,
    MAX_EXT_HEADERS, MAX_OPTIONS,
};
pub use quoted::QuotedIpv6Header;

use zerocopy::network_endian::{U16, U32};
use zerocopy::{ByteSliceMut, FromBytes, Immutable, IntoBytes, KnownLayout, Ref, Unaligned};

use super::ipv4::{ds_octet, split_ds_octet, Dscp, Ecn, IpPacket};
use super::{IpProto, Layer, ParseError, ParseErrorKind};
use crate::addr::{Ipv6, Ipv6Addr};
use crate::buf::{
    header_mut, PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView,
    SerializeTarget,
};

/// Length of the fixed header (RFC 8200 §3).
pub const FIXED_HEADER_LEN: usize = 40;
/// Largest payload: Payload Length is a 16-bit field (RFC 8200 §3).
pub const MAX_PAYLOAD_LEN: usize = 65535;
/// The Router Alert value of MLD messages (RFC 2711 §2.1).
pub const ROUTER_ALERT_MLD: u16 = 0;

/// The Version field of an IPv6 header.
const VERSION: u32 = 6;
/// Offset of the Payload Length field in the fixed header.
const PAYLOAD_LEN_FIELD_AT: usize = 4;
/// Offset of the Next Header field in the fixed header.
const NEXT_HEADER_FIELD_AT: usize = 6;

#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct FixedHeader {
    version_class_flow: U32,
    payload_len: U16,
    next_header: u8,
    hop_limit: u8,
    src: [u8; 16],
    dst: [u8; 16],
}

impl FixedHeader {
    /// Checks the Version field (RFC 8200 §3).
    fn check_version(&self) -> Result<(), ParseError> {
        if self.version_class_flow.get() >> 28 != VERSION {
            return Err(ParseError::new(Layer::Ipv6, ParseErrorKind::Field("version")));
        }
        Ok(())
    }
}

/// A Flow Label (RFC 8200 §6, RFC 6437): 20 bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowLabel(u32);

impl FlowLabel {
    /// No flow label.
    pub const ZERO: Self = Self(0);
    /// The largest label.
    pub const MAX: u32 = 0xf_ffff;

    /// The label `value`, or `None` if it does not fit 20 bits.
    pub const fn new(value: u32) -> Option<Self> {
        if value <= Self::MAX {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The label.
    pub const fn value(self) -> u32 {
        self.0
    }
}

/// A parsed IPv6 packet with its extension headers walked.
#[derive(Debug)]
pub struct Ipv6Packet<B: PacketBytes> {
    fixed: Ref<B, FixedHeader>,
    ext: B,
    body: B,
    proto: IpProto,
    fragment: Option<ext::FoundFragment>,
    router_alert: Option<u16>,
    padding_len: usize,
}

impl<B: PacketBytes> ParsablePacket<B> for Ipv6Packet<B> {
    type Args = ();
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, _args: ()) -> Result<Self, ParseError> {
        let truncated = ParseError::truncated(Layer::Ipv6);
        let fixed = view.take_obj_front::<FixedHeader>().ok_or(truncated)?;
        fixed.check_version()?;
        let first = IpProto(fixed.next_header);
        let payload_len = usize::from(fixed.payload_len.get());
        // RFC 2675 §3: Payload Length 0 with a Hop-by-Hop header announces a jumbogram.
        if payload_len == 0 && first == IpProto::HOP_BY_HOP {
            return Err(ParseError::new(Layer::Ipv6, ParseErrorKind::Unsupported("jumbogram")));
        }
        // RFC 8200 §3: bytes after the payload are link-layer padding.
        let padding_len = view.len().checked_sub(payload_len).ok_or(truncated)?;
        view.take_back(padding_len).ok_or(truncated)?;
        let chain = ext::walk_chain(first, view.as_bytes())?;
        let ext = view.take_front(chain.len).ok_or(truncated)?;
        Ok(Self {
            fixed,
            ext,
            body: view.take_rest(),
            proto: chain.proto,
            fragment: chain.fragment,
            router_alert: chain.router_alert,
            padding_len,
        })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata {
            header_len: self.header_len(),
            body_len: self.body.len(),
            footer_len: self.padding_len,
        }
    }
}

impl<B: PacketBytes> Ipv6Packet<B> {
    /// Length of the fixed header and every extension header walked.
    pub fn header_len(&self) -> usize {
        FIXED_HEADER_LEN + self.ext.len()
    }

    /// The Traffic Class octet.
    pub fn traffic_class(&self) -> u8 {
        (self.fixed.version_class_flow.get() >> 20) as u8
    }

    /// The Differentiated Services codepoint of the Traffic Class.
    pub fn dscp(&self) -> Dscp {
        split_ds_octet(self.traffic_class()).0
    }

    /// The ECN field of the Traffic Class.
    pub fn ecn(&self) -> Ecn {
        split_ds_octet(self.traffic_class()).1
    }

    /// The Flow Label.
    pub fn flow_label(&self) -> FlowLabel {
        FlowLabel(self.fixed.version_class_flow.get() & FlowLabel::MAX)
    }

    /// Payload Length: extension headers plus upper-layer payload.
    pub fn payload_len(&self) -> u16 {
        self.fixed.payload_len.get()
    }

    /// The fixed header's Next Header field: the first extension header, or the upper-layer
    /// protocol if there is none.
    pub fn next_header(&self) -> IpProto {
        IpProto(self.fixed.next_header)
    }

    /// Hop Limit.
    pub fn hop_limit(&self) -> u8 {
        self.fixed.hop_limit
    }

    /// Source address.
    pub fn src_ip(&self) -> Ipv6Addr {
        Ipv6Addr::new(self.fixed.src)
    }

    /// Destination address.
    pub fn dst_ip(&self) -> Ipv6Addr {
        Ipv6Addr::new(self.fixed.dst)
    }

    /// The protocol of the body: the Next Header after the last extension header. For a
    /// fragment at a non-zero offset it is the Fragment header's Next Header, describing what
    /// the reassembled Fragmentable Part starts with.
    pub fn proto(&self) -> IpProto {
        self.proto
    }

    /// The extension headers in the order they appeared.
    pub fn ext_headers(&self) -> ExtHeaderIter<'_> {
        ExtHeaderIter::new(self.next_header(), &self.ext)
    }

    /// The Fragment header's fields, if the packet has one (atomic fragments included).
    pub fn fragment_header(&self) -> Option<FragmentHeader> {
        self.fragment.map(|found| found.header)
    }

    /// With a Fragment header, the length of the Per-Fragment headers (RFC 8200 §4.5): the
    /// IPv6 header and the extension headers before the Fragment header. The Fragment header
    /// lies at this offset of the packet and this fragment's part of the Fragmentable Part
    /// starts [`FRAGMENT_HEADER_LEN`] bytes later (for a first fragment that includes the
    /// extension headers after the Fragment header).
    pub fn per_fragment_headers_len(&self) -> Option<usize> {
        self.fragment.map(|found| FIXED_HEADER_LEN + found.at)
    }

    /// The value of the Hop-by-Hop header's Router Alert option (RFC 2711), if there is one.
    pub fn router_alert(&self) -> Option<u16> {
        self.router_alert
    }

    /// The upper-layer payload, without any link-layer padding.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A builder that writes this packet's headers again, byte for byte. A Fragment header
    /// that is the last extension header and has its reserved fields zero (the form
    /// [`Ipv6Builder`] writes) is given back as [`Ipv6Builder::fragment`]; every other
    /// extension header stays raw in [`Ipv6Builder::ext_headers`].
    pub fn builder(&self) -> Ipv6Builder<'_> {
        let (dscp, ecn) = split_ds_octet(self.traffic_class());
        let chain: &[u8] = &self.ext;
        let (raw, fragment) = match self.fragment {
            Some(found) if found.reserved_clear && found.at + FRAGMENT_HEADER_LEN == chain.len() => {
                (chain.get(..found.at).unwrap_or_default(), Some(found.header))
            }
            _ => (chain, None),
        };
        let ext_headers = ExtHeaderKind::from_proto(self.next_header())
            .filter(|_| !raw.is_empty())
            .map(|first| ExtHeaderChain::from_parsed(first, raw));
        Ipv6Builder {
            src: self.src_ip(),
            dst: self.dst_ip(),
            proto: self.proto,
            hop_limit: self.hop_limit(),
            dscp,
            ecn,
            flow_label: self.flow_label(),
            ext_headers,
            fragment,
        }
    }
}

impl<B: PacketBytes + ByteSliceMut> Ipv6Packet<B> {
    /// Decrements the Hop Limit for forwarding (RFC 8200 §3). Returns the new value; a
    /// forwarder drops the packet if that is 0. A Hop Limit that already is 0 is left as it is
    /// and `None` returned.
    pub fn decrement_hop_limit(&mut self) -> Option<u8> {
        let hop_limit = self.fixed.hop_limit.checked_sub(1)?;
        self.fixed.hop_limit = hop_limit;
        Some(hop_limit)
    }
}

impl<B: PacketBytes> IpPacket for Ipv6Packet<B> {
    type Version = Ipv6;

    fn src_ip(&self) -> Ipv6Addr {
        Ipv6Packet::src_ip(self)
    }

    fn dst_ip(&self) -> Ipv6Addr {
        Ipv6Packet::dst_ip(self)
    }

    fn proto(&self) -> IpProto {
        Ipv6Packet::proto(self)
    }

    fn ttl(&self) -> u8 {
        self.hop_limit()
    }

    fn body(&self) -> &[u8] {
        Ipv6Packet::body(self)
    }
}

/// Writes an IPv6 header: the fixed header, then the raw extension headers, then the Fragment
/// header, with Payload Length computed from the body it wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Builder<'a> {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// The protocol of the body: the Next Header after the last extension header.
    pub proto: IpProto,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Differentiated Services codepoint of the Traffic Class.
    pub dscp: Dscp,
    /// ECN field of the Traffic Class.
    pub ecn: Ecn,
    /// Flow Label.
    pub flow_label: FlowLabel,
    /// Extension headers written as given, e.g.
    /// [`ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD`].
    pub ext_headers: Option<ExtHeaderChain<'a>>,
    /// A Fragment header, written after `ext_headers` (which are then the Per-Fragment
    /// headers, RFC 8200 §4.5).
    pub fragment: Option<FragmentHeader>,
}

impl Ipv6Builder<'static> {
    /// A packet without extension headers, Traffic Class and Flow Label zero.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, proto: IpProto) -> Self {
        Self {
            src,
            dst,
            proto,
            hop_limit,
            dscp: Dscp::DEFAULT,
            ecn: Ecn::NotEct,
            flow_label: FlowLabel::ZERO,
            ext_headers: None,
            fragment: None,
        }
    }
}

impl Ipv6Builder<'_> {
    /// Bytes of extension headers, Fragment header included.
    fn ext_len(&self) -> usize {
        let chain_len = self.ext_headers.map_or(0, |chain| chain.bytes().len());
        chain_len + if self.fragment.is_some() { FRAGMENT_HEADER_LEN } else { 0 }
    }

    /// Length of the fixed header and every extension header.
    pub fn header_len(&self) -> usize {
        FIXED_HEADER_LEN + self.ext_len()
    }
}

impl PacketBuilder for Ipv6Builder<'_> {
    fn constraints(&self) -> PacketConstraints {
        let ext_len = self.ext_len();
        PacketConstraints {
            header_len: FIXED_HEADER_LEN + ext_len,
            footer_len: 0,
            min_body_len: 0,
            max_body_len: MAX_PAYLOAD_LEN.saturating_sub(ext_len),
        }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        let (fixed, ext) = target.header.split_at_mut(FIXED_HEADER_LEN);
        let payload_len = ext.len() + body.len();
        let chain_len = self.ext_headers.map_or(0, |chain| chain.bytes().len());
        let (chain, fragment) = ext.split_at_mut(chain_len);
        let after_chain = match self.fragment {
            Some(header) => {
                fragment.copy_from_slice(header.to_raw(self.proto).as_bytes());
                IpProto::FRAGMENT
            }
            None => self.proto,
        };
        let next_header = match self.ext_headers {
            Some(ext_headers) => {
                ext_headers.write(chain, after_chain);
                ext_headers.first().proto()
            }
            None => after_chain,
        };
        let class = u32::from(ds_octet(self.dscp, self.ecn));
        let header = FixedHeader {
            version_class_flow: U32::new((VERSION << 28) | (class << 20) | self.flow_label.value()),
            // At most 65535: `max_body_len` keeps the payload within it.
            payload_len: U16::new(payload_len as u16),
            next_header: next_header.0,
            hop_limit: self.hop_limit,
            src: self.src.bytes(),
            dst: self.dst.bytes(),
        };
        *header_mut(fixed) = header;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Ip;
    use crate::buf::{Buf, SerializeError, Serializer};
    use crate::testutil::vectors;
    use crate::wire::ipv4::FragmentOffset;
    use crate::wire::{ParameterProblemCode, ProblemAction};
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const A: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    const B: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);
    const A_LINK_LOCAL: Ipv6Addr = Ipv6Addr::from_segments([0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1]);

    fn serialize(builder: Ipv6Builder<'_>, body: &[u8]) -> Vec<u8> {
        body.encapsulate(builder).serialize_vec().unwrap().into_inner()
    }

    fn ip_of_frame(pcap: &[u8], n: usize) -> &[u8] {
        let frame = vectors::frame(pcap, n);
        assert_eq!(frame[12..14], [0x86, 0xdd]);
        &frame[14..]
    }

    /// Re-serializes a parsed packet from its builder and body.
    fn reserialize(bytes: &[u8]) -> Vec<u8> {
        let packet = Ipv6Packet::parse_bytes(bytes, ()).unwrap();
        serialize(packet.builder(), packet.body())
    }

    /// A packet from A to B whose fixed header names `first` and whose payload is `ext` then
    /// `upper`.
    fn packet_with(first: IpProto, ext: &[u8], upper: &[u8]) -> Vec<u8> {
        let payload = [ext, upper].concat();
        let mut bytes = serialize(Ipv6Builder::new(A, B, 64, IpProto::UDP), &payload);
        bytes[NEXT_HEADER_FIELD_AT] = first.0;
        bytes
    }

    fn kind_of(bytes: &[u8]) -> ParseErrorKind {
        let err = Ipv6Packet::parse_bytes(bytes, ()).unwrap_err();
        assert_eq!(err.layer, Layer::Ipv6);
        err.kind
    }

    fn problem(pointer: u32, code: ParameterProblemCode, action: ProblemAction) -> ParseErrorKind {
        ParseErrorKind::ParameterProblem { pointer, code, action }
    }

    fn erroneous_field(pointer: u32) -> ParseErrorKind {
        problem(pointer, ParameterProblemCode::ErroneousHeaderField, ProblemAction::DiscardAndSendIcmp)
    }

    #[test]
    fn rfc7112_5_first_fragment_must_hold_the_whole_header_chain() {
        let incomplete =
            problem(0, ParameterProblemCode::IncompleteHeaderChain, ProblemAction::DiscardAndSendIcmp);
        // Fragment header: Next Header, reserved, offset 0 with M set, identification.
        let first_of = |next: IpProto| [next.0, 0, 0, 1, 0, 0, 0, 9];
        // A TCP header needs 20 bytes; this first fragment carries 16.
        let short_tcp = packet_with(IpProto::FRAGMENT, &first_of(IpProto::TCP), &[0; 16]);
        assert_eq!(kind_of(&short_tcp), incomplete);
        // A Destination Options header claiming 16 bytes, cut after 8 by the fragment's end.
        let short_options = packet_with(
            IpProto::FRAGMENT,
            &first_of(IpProto::DESTINATION_OPTIONS),
            &[17, 1, 1, 4, 0, 0, 0, 0],
        );
        assert_eq!(kind_of(&short_options), incomplete);
        // Enough of the upper-layer header parses.
        assert!(Ipv6Packet::parse_bytes(
            &packet_with(IpProto::FRAGMENT, &first_of(IpProto::TCP), &[0; 24])[..],
            ()
        )
        .is_ok());
        // Later fragments, and an atomic fragment (RFC 6946), carry no such obligation.
        let later = [IpProto::TCP.0, 0, 0, 0x11, 0, 0, 0, 9];
        assert!(Ipv6Packet::parse_bytes(&packet_with(IpProto::FRAGMENT, &later, &[0; 8])[..], ()).is_ok());
        let atomic = [IpProto::TCP.0, 0, 0, 0, 0, 0, 0, 9];
        assert!(Ipv6Packet::parse_bytes(&packet_with(IpProto::FRAGMENT, &atomic, &[0; 4])[..], ()).is_ok());
    }

    /// A one-header options chain (8 bytes) holding option `kind` with four data bytes.
    fn options_header(next: IpProto, kind: u8) -> [u8; 8] {
        [next.0, 0, kind, 4, 0, 0, 0, 0]
    }

    /// A Fragment header.
    fn fragment_header(next: IpProto, offset_units: u16, more: bool, id: u32) -> [u8; 8] {
        let word = (offset_units << 3) | u16::from(more);
        let [o0, o1] = word.to_be_bytes();
        let [i0, i1, i2, i3] = id.to_be_bytes();
        [next.0, 0, o0, o1, i0, i1, i2, i3]
    }

    #[test]
    fn rfc3810_5_real_mldv2_report_with_hop_by_hop_router_alert() {
        // icmpv6_ping_ndp.pcap frame 9: MLDv2 report fe80::ff:fe00:1 -> ff02::16 with a
        // Hop-by-Hop header holding Router Alert 0 and PadN.
        let bytes = ip_of_frame(vectors::ICMPV6_PING_NDP, 9);
        let packet = Ipv6Packet::parse_bytes(bytes, ()).unwrap();
        assert_eq!((packet.src_ip(), packet.dst_ip()), (A_LINK_LOCAL, Ipv6Addr::ALL_MLDV2_ROUTERS));
        assert_eq!(
            (packet.hop_limit(), packet.next_header(), packet.proto()),
            (1, IpProto::HOP_BY_HOP, IpProto::ICMPV6)
        );
        assert_eq!((packet.header_len(), packet.payload_len(), packet.body().len()), (48, 36, 28));
        assert_eq!(packet.router_alert(), Some(ROUTER_ALERT_MLD));
        assert_eq!(packet.fragment_header(), None);
        let headers: Vec<_> = packet.ext_headers().collect();
        assert_eq!(headers.len(), 1);
        assert_eq!((headers[0].kind(), headers[0].next_header()), (ExtHeaderKind::HopByHop, IpProto::ICMPV6));
        assert_eq!(headers[0].bytes(), &[0x3a, 0, 5, 2, 0, 0, 1, 0]);
        assert_eq!(packet.builder().ext_headers, Some(ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD));
        assert_eq!(reserialize(bytes), bytes);
        // Our own MLD header is Linux's, byte for byte.
        let ours = Ipv6Builder {
            ext_headers: Some(ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD),
            ..Ipv6Builder::new(A_LINK_LOCAL, Ipv6Addr::ALL_MLDV2_ROUTERS, 1, IpProto::ICMPV6)
        };
        assert_eq!(serialize(ours, packet.body()), bytes);
    }

    #[test]
    fn rfc8200_4_5_real_fragments_parse_and_reserialize() {
        // icmpv6_ping_ndp.pcap frames 33-35: a 3008-byte echo request in three fragments.
        let fields: Vec<_> = (33..=35)
            .map(|n| {
                let bytes = ip_of_frame(vectors::ICMPV6_PING_NDP, n);
                let packet = Ipv6Packet::parse_bytes(bytes, ()).unwrap();
                assert_eq!(packet.proto(), IpProto::ICMPV6);
                assert_eq!(packet.per_fragment_headers_len(), Some(FIXED_HEADER_LEN));
                assert_eq!(packet.flow_label(), FlowLabel::new(0x3e5fa).unwrap());
                assert_eq!(packet.builder().fragment, packet.fragment_header());
                assert_eq!(reserialize(bytes), bytes);
                packet.fragment_header().unwrap()
            })
            .collect();
        let expected = |units, more| FragmentHeader {
            offset: FragmentOffset::new(units).unwrap(),
            more_fragments: more,
            id: 0x07ac_8dac,
        };
        assert_eq!(fields, [expected(0, true), expected(181, true), expected(362, false)]);
    }

    #[test]
    fn rfc8200_4_5_fragment_headers_match_linux() {
        // Fragmenting the reassembled payload of frames 33-35 at 1448 bytes gives back
        // Linux's fragments byte for byte.
        let fragments: Vec<_> = (33..=35).map(|n| ip_of_frame(vectors::ICMPV6_PING_NDP, n)).collect();
        let mut payload = Vec::new();
        for bytes in &fragments {
            payload.extend_from_slice(Ipv6Packet::parse_bytes(*bytes, ()).unwrap().body());
        }
        let first = Ipv6Packet::parse_bytes(fragments[0], ()).unwrap();
        let datagram = Ipv6Builder { fragment: None, ..first.builder() };
        for (i, (chunk, expected)) in payload.chunks(1448).zip(&fragments).enumerate() {
            let fragment = FragmentHeader {
                offset: FragmentOffset::from_bytes(i * 1448).unwrap(),
                more_fragments: i < 2,
                id: 0x07ac_8dac,
            };
            assert_eq!(serialize(Ipv6Builder { fragment: Some(fragment), ..datagram }, chunk), *expected);
        }
    }

    #[test]
    fn every_ipv6_packet_in_the_vectors_reserializes_byte_for_byte() {
        let mut count = 0;
        for bytes in vectors::payloads([0x86, 0xdd]) {
            assert_eq!(reserialize(bytes), bytes);
            count += 1;
        }
        assert_eq!(count, 38 + 8);
    }

    #[test]
    fn rfc8200_3_link_padding_is_trimmed_and_undo_restores_it() {
        let mut bytes = serialize(Ipv6Builder::new(A, B, 64, IpProto::UDP), &[1, 2, 3]);
        bytes.extend_from_slice(&[0; 5]);
        let mut buf = Buf::from_body(&bytes[..]);
        let packet = buf.parse::<Ipv6Packet<_>>(()).unwrap();
        let meta = packet.parse_metadata();
        assert_eq!(meta, ParseMetadata { header_len: 40, body_len: 3, footer_len: 5 });
        assert_eq!(buf.body(), &[1, 2, 3]);
        buf.undo_parse(meta);
        assert_eq!(buf.body(), &bytes[..]);
    }

    #[test]
    fn rfc8200_4_body_after_extension_headers_is_left_for_the_next_layer() {
        let ext = options_header(IpProto::UDP, 0x1e);
        let bytes = packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[7; 8]);
        let mut buf = Buf::from_body(&bytes[..]);
        let packet = buf.parse::<Ipv6Packet<_>>(()).unwrap();
        assert_eq!((packet.proto(), packet.header_len()), (IpProto::UDP, 48));
        let meta = packet.parse_metadata();
        assert_eq!(buf.body(), &[7; 8]);
        buf.undo_parse(meta);
        assert_eq!(buf.body(), &bytes[..]);
    }

    #[test]
    fn rfc8200_3_version_payload_length_and_truncation() {
        let mut bytes = serialize(Ipv6Builder::new(A, B, 64, IpProto::UDP), &[0; 8]);
        assert_eq!(kind_of(&bytes[..39]), ParseErrorKind::Truncated);
        assert_eq!(kind_of(&bytes[..47]), ParseErrorKind::Truncated);
        bytes[0] = 0x40;
        assert_eq!(kind_of(&bytes), ParseErrorKind::Field("version"));
    }

    #[test]
    fn rfc2675_3_jumbograms_are_unsupported() {
        let jumbo_option = [IpProto::UDP.0, 0, 0xc2, 4, 0, 1, 0, 0];
        let mut bytes = packet_with(IpProto::HOP_BY_HOP, &jumbo_option, &[0; 8]);
        assert_eq!(kind_of(&bytes), erroneous_field(42));
        bytes[PAYLOAD_LEN_FIELD_AT..PAYLOAD_LEN_FIELD_AT + 2].copy_from_slice(&[0, 0]);
        assert_eq!(kind_of(&bytes), ParseErrorKind::Unsupported("jumbogram"));
    }

    #[test]
    fn rfc8200_4_2_unrecognized_option_actions() {
        use ProblemAction::*;
        for first in [IpProto::HOP_BY_HOP, IpProto::DESTINATION_OPTIONS] {
            // 00: skip over the option and continue.
            let bytes = packet_with(first, &options_header(IpProto::UDP, 0x1e), &[0; 8]);
            assert_eq!(Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap().proto(), IpProto::UDP);
            // 01, 10, 11: discard, with the pointer at the option type.
            for (kind, action) in
                [(0x5e, Discard), (0x9e, DiscardAndSendIcmp), (0xde, DiscardAndSendIcmpUnlessMulticast)]
            {
                let bytes = packet_with(first, &options_header(IpProto::UDP, kind), &[0; 8]);
                assert_eq!(kind_of(&bytes), problem(42, ParameterProblemCode::UnrecognizedOption, action));
            }
        }
    }

    #[test]
    fn rfc8200_4_2_padding_options_are_skipped() {
        // Pad1, PadN with 2 data bytes, Pad1.
        let ext = [IpProto::TCP.0, 0, 0, 1, 2, 0, 0, 0];
        let bytes = packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[0; 20]);
        let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!((packet.proto(), packet.body().len()), (IpProto::TCP, 20));
    }

    #[test]
    fn rfc8200_4_2_option_running_past_header_is_an_erroneous_field() {
        // PadN claiming 9 data bytes: the pointer is its length octet.
        let ext = [IpProto::UDP.0, 0, 1, 9, 0, 0, 0, 0];
        assert_eq!(kind_of(&packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[])), erroneous_field(43));
        // An option type in the header's last octet: the pointer is the type octet.
        let ext = [IpProto::UDP.0, 0, 1, 2, 0, 0, 0, 0x1e];
        assert_eq!(kind_of(&packet_with(IpProto::HOP_BY_HOP, &ext, &[])), erroneous_field(47));
    }

    #[test]
    fn rfc2711_2_1_router_alert() {
        let ext = [IpProto::ICMPV6.0, 0, 5, 2, 0, 1, 1, 0];
        let packet_bytes = packet_with(IpProto::HOP_BY_HOP, &ext, &[]);
        let packet = Ipv6Packet::parse_bytes(&packet_bytes[..], ()).unwrap();
        assert_eq!(packet.router_alert(), Some(1));
        // A wrong Opt Data Len is an erroneous field, pointed at.
        let ext = [IpProto::ICMPV6.0, 0, 5, 4, 0, 0, 0, 0];
        assert_eq!(kind_of(&packet_with(IpProto::HOP_BY_HOP, &ext, &[])), erroneous_field(43));
        // Router Alert is a Hop-by-Hop option; in Destination Options type 5 is unrecognized
        // and its action bits 00 say skip it.
        let ext = [IpProto::ICMPV6.0, 0, 5, 4, 0, 0, 0, 0];
        let packet_bytes = packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[]);
        assert_eq!(Ipv6Packet::parse_bytes(&packet_bytes[..], ()).unwrap().router_alert(), None);
    }

    #[test]
    fn rfc8200_4_1_hop_by_hop_anywhere_but_first_is_an_unrecognized_next_header() {
        let unrecognized = |pointer| {
            problem(pointer, ParameterProblemCode::UnrecognizedNextHeader, ProblemAction::DiscardAndSendIcmp)
        };
        // Destination Options naming Hop-by-Hop: the pointer is its Next Header field.
        let ext = [options_header(IpProto::HOP_BY_HOP, 0x1e), options_header(IpProto::UDP, 0x1e)].concat();
        assert_eq!(kind_of(&packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[])), unrecognized(40));
        // Hop-by-Hop first, then Destination Options naming a second Hop-by-Hop.
        let ext = [
            options_header(IpProto::DESTINATION_OPTIONS, 0x1e),
            options_header(IpProto::HOP_BY_HOP, 0x1e),
            options_header(IpProto::UDP, 0x1e),
        ]
        .concat();
        assert_eq!(kind_of(&packet_with(IpProto::HOP_BY_HOP, &ext, &[])), unrecognized(48));
    }

    #[test]
    fn rfc8200_4_4_unrecognized_routing_type() {
        // Routing type 253 (experimental), Segments Left 0: ignored.
        let ignored = [IpProto::UDP.0, 0, 253, 0, 0, 0, 0, 0];
        let bytes = packet_with(IpProto::ROUTING, &ignored, &[0; 8]);
        let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!((packet.proto(), packet.body().len()), (IpProto::UDP, 8));
        assert_eq!(reserialize(&bytes), bytes);
        // Segments Left 1: an erroneous field, pointing at Routing Type.
        let segments_left = [IpProto::UDP.0, 0, 253, 1, 0, 0, 0, 0];
        assert_eq!(kind_of(&packet_with(IpProto::ROUTING, &segments_left, &[0; 8])), erroneous_field(42));
    }

    #[test]
    fn rfc5095_3_routing_type_0_is_treated_as_unrecognized() {
        let mut type0 = vec![IpProto::UDP.0, 2, 0, 1, 0, 0, 0, 0];
        type0.extend_from_slice(&B.bytes());
        assert_eq!(kind_of(&packet_with(IpProto::ROUTING, &type0, &[])), erroneous_field(42));
        type0[3] = 0;
        assert!(Ipv6Packet::parse_bytes(&packet_with(IpProto::ROUTING, &type0, &[])[..], ()).is_ok());
    }

    #[test]
    fn rfc8200_4_5_walk_stops_after_a_fragment_with_non_zero_offset() {
        // The fragment data starts with bytes that would be a malformed Hop-by-Hop header.
        let ext = fragment_header(IpProto::HOP_BY_HOP, 3, true, 99);
        let data = [0xff; 16];
        let bytes = packet_with(IpProto::FRAGMENT, &ext, &data);
        let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(
            (packet.proto(), packet.body(), packet.header_len()),
            (IpProto::HOP_BY_HOP, &data[..], 48)
        );
        let fragment = packet.fragment_header().unwrap();
        assert_eq!((fragment.offset.bytes(), fragment.more_fragments, fragment.id), (24, true, 99));
        assert_eq!(reserialize(&bytes), bytes);
    }

    #[test]
    fn rfc8200_4_5_first_fragment_walk_continues_to_the_upper_layer() {
        // Fragment (offset 0, M), then Destination Options, then 8 bytes of UDP header.
        let ext =
            [fragment_header(IpProto::DESTINATION_OPTIONS, 0, true, 5), options_header(IpProto::UDP, 0x1e)]
                .concat();
        let bytes = packet_with(IpProto::FRAGMENT, &ext, &[1; 8]);
        let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!((packet.proto(), packet.body().len(), packet.header_len()), (IpProto::UDP, 8, 56));
        assert_eq!(packet.per_fragment_headers_len(), Some(40));
        let kinds: Vec<_> = packet.ext_headers().map(|h| h.kind()).collect();
        assert_eq!(kinds, [ExtHeaderKind::Fragment, ExtHeaderKind::DestinationOptions]);
        // The Fragment header is not last, so the builder keeps it raw.
        assert_eq!(packet.builder().fragment, None);
        assert_eq!(reserialize(&bytes), bytes);
    }

    #[test]
    fn rfc8200_4_5_fragment_reserved_fields_survive_the_round_trip() {
        let mut ext = fragment_header(IpProto::UDP, 1, false, 5);
        ext[1] = 0xaa;
        ext[3] |= 0x06;
        let bytes = packet_with(IpProto::FRAGMENT, &ext, &[1; 5]);
        let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(packet.fragment_header().map(|f| f.offset.units()), Some(1));
        assert_eq!(packet.builder().fragment, None);
        assert_eq!(reserialize(&bytes), bytes);
    }

    #[test]
    fn rfc8200_4_5_fragment_length_rules() {
        // M set and 12 bytes of fragment data: the pointer is Payload Length.
        let ext = fragment_header(IpProto::UDP, 0, true, 1);
        assert_eq!(kind_of(&packet_with(IpProto::FRAGMENT, &ext, &[0; 12])), erroneous_field(4));
        // Reassembled Payload Length beyond 65535: the pointer is the Fragment Offset field,
        // here behind an 8-byte Destination Options header.
        let ext = [
            options_header(IpProto::FRAGMENT, 0x1e),
            fragment_header(IpProto::UDP, FragmentOffset::MAX_UNITS, false, 1),
        ]
        .concat();
        assert_eq!(kind_of(&packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[0; 1])), erroneous_field(50));
        // The same fragment without the Destination Options header fits.
        let ext = fragment_header(IpProto::UDP, FragmentOffset::MAX_UNITS, false, 1);
        assert!(Ipv6Packet::parse_bytes(&packet_with(IpProto::FRAGMENT, &ext, &[0; 7])[..], ()).is_ok());
    }

    #[test]
    fn rfc8200_4_1_second_fragment_header_is_unsupported() {
        let ext =
            [fragment_header(IpProto::FRAGMENT, 0, false, 1), fragment_header(IpProto::UDP, 0, false, 2)]
                .concat();
        assert_eq!(
            kind_of(&packet_with(IpProto::FRAGMENT, &ext, &[])),
            ParseErrorKind::Unsupported("more than one Fragment header")
        );
    }

    #[test]
    fn rfc8504_5_3_chain_and_option_counts_are_bounded() {
        let chain = |n: usize| {
            let mut ext = Vec::new();
            for i in 0..n {
                let next = if i + 1 == n { IpProto::UDP } else { IpProto::DESTINATION_OPTIONS };
                ext.extend_from_slice(&options_header(next, 0x1e));
            }
            packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[])
        };
        assert!(Ipv6Packet::parse_bytes(&chain(MAX_EXT_HEADERS)[..], ()).is_ok());
        assert_eq!(
            kind_of(&chain(MAX_EXT_HEADERS + 1)),
            ParseErrorKind::Unsupported("extension header chain too long")
        );
        // 70 Pad1 options in one 72-byte header.
        let mut ext = vec![0u8; 72];
        ext[0] = IpProto::UDP.0;
        ext[1] = 8;
        assert_eq!(
            kind_of(&packet_with(IpProto::HOP_BY_HOP, &ext, &[])),
            ParseErrorKind::Unsupported("too many options")
        );
    }

    #[test]
    fn truncated_extension_headers_are_rejected() {
        assert_eq!(
            kind_of(&packet_with(IpProto::DESTINATION_OPTIONS, &[17], &[])),
            ParseErrorKind::Truncated
        );
        let ext = [IpProto::UDP.0, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(kind_of(&packet_with(IpProto::DESTINATION_OPTIONS, &ext, &[])), ParseErrorKind::Truncated);
        assert_eq!(kind_of(&packet_with(IpProto::FRAGMENT, &[17, 0, 0, 0], &[])), ParseErrorKind::Truncated);
    }

    #[test]
    fn rfc8200_3_hop_limit_decrement() {
        let mut bytes = serialize(Ipv6Builder::new(A, B, 2, IpProto::UDP), &[0; 4]);
        let mut buf = Buf::from_body(&mut bytes[..]);
        let mut packet = buf.parse_mut::<Ipv6Packet<_>>(()).unwrap();
        assert_eq!(packet.decrement_hop_limit(), Some(1));
        assert_eq!(packet.decrement_hop_limit(), Some(0));
        assert_eq!(packet.decrement_hop_limit(), None);
        assert_eq!(bytes[7], 0);
    }

    #[test]
    fn ext_header_chain_constructor_checks_like_a_receiver() {
        let two = [options_header(IpProto::ROUTING, 0x1e), [IpProto::UDP.0, 0, 253, 0, 0, 0, 0, 0]].concat();
        let chain = ExtHeaderChain::new(ExtHeaderKind::DestinationOptions, &two).unwrap();
        let b = Ipv6Builder { ext_headers: Some(chain), ..Ipv6Builder::new(A, B, 64, IpProto::TCP) };
        let bytes = serialize(b, &[0; 20]);
        // The last header's Next Header is rewritten to the builder's protocol.
        assert_eq!((bytes[6], bytes[40], bytes[48]), (60, 43, IpProto::TCP.0));
        assert_eq!(Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap().builder(), b);
        let err = |first, bytes: &[u8]| ExtHeaderChain::new(first, bytes).unwrap_err().kind;
        assert_eq!(
            err(ExtHeaderKind::Fragment, &fragment_header(IpProto::UDP, 0, false, 1)),
            ParseErrorKind::Unsupported("Fragment header in a raw extension header chain")
        );
        // The last header's Next Header is rewritten when serializing, so any value is fine.
        assert!(ExtHeaderChain::new(
            ExtHeaderKind::DestinationOptions,
            &options_header(IpProto::HOP_BY_HOP, 0x1e)
        )
        .is_ok());
        let misplaced =
            [options_header(IpProto::HOP_BY_HOP, 0x1e), options_header(IpProto::UDP, 0x1e)].concat();
        assert_eq!(
            err(ExtHeaderKind::DestinationOptions, &misplaced),
            problem(40, ParameterProblemCode::UnrecognizedNextHeader, ProblemAction::DiscardAndSendIcmp)
        );
        let trailing = [&options_header(IpProto::UDP, 0x1e)[..], &[0; 8]].concat();
        assert_eq!(
            err(ExtHeaderKind::DestinationOptions, &trailing),
            ParseErrorKind::Length("bytes after the last extension header")
        );
        assert_eq!(err(ExtHeaderKind::HopByHop, &[]), ParseErrorKind::Truncated);
        assert_eq!(
            err(ExtHeaderKind::HopByHop, &options_header(IpProto::UDP, 0x9e)),
            problem(42, ParameterProblemCode::UnrecognizedOption, ProblemAction::DiscardAndSendIcmp)
        );
    }

    #[test]
    fn ipv6_serialize_refuses_payload_beyond_65535() {
        let b = Ipv6Builder {
            ext_headers: Some(ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD),
            ..Ipv6Builder::new(A, B, 1, IpProto::ICMPV6)
        };
        let body = vec![0u8; MAX_PAYLOAD_LEN - 7];
        let err = (&body[..]).encapsulate(b).serialize_vec().unwrap_err();
        assert_eq!(err, SerializeError::BodyTooLong { len: body.len(), max: MAX_PAYLOAD_LEN - 8 });
    }

    #[test]
    fn traffic_class_and_flow_label_fields() {
        let b = Ipv6Builder {
            dscp: Dscp::new(46).unwrap(),
            ecn: Ecn::Ect0,
            flow_label: FlowLabel::new(0xabcde).unwrap(),
            ..Ipv6Builder::new(A, B, 64, IpProto::UDP)
        };
        let bytes = serialize(b, &[]);
        assert_eq!(&bytes[..4], &[0x6b, 0xaa, 0xbc, 0xde]);
        let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!((packet.traffic_class(), packet.dscp(), packet.ecn()), (0xba, b.dscp, Ecn::Ect0));
        assert_eq!(FlowLabel::new(0x10_0000), None);
    }

    #[test]
    fn ip_packet_trait_gives_version_generic_access() {
        fn summary<P: IpPacket>(p: &P) -> (<P::Version as Ip>::Addr, IpProto, u8, usize) {
            (p.dst_ip(), p.proto(), p.ttl(), p.body().len())
        }
        let bytes = ip_of_frame(vectors::UDP_FRAGMENTED, 9);
        let packet = Ipv6Packet::parse_bytes(bytes, ()).unwrap();
        assert_eq!(summary(&packet), (B, IpProto::UDP, 64, 22));
        assert_eq!(IpPacket::src_ip(&packet), A);
    }

    /// Option bytes a receiver accepts: padding, Router Alert in Hop-by-Hop, and unrecognized
    /// options whose action is to skip them.
    fn arb_option(hop_by_hop: bool) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(vec![0]),
            (0usize..4).prop_map(|n| [vec![1, n as u8], vec![0; n]].concat()),
            any::<[u8; 2]>().prop_map(move |value| if hop_by_hop {
                vec![5, 2, value[0], value[1]]
            } else {
                vec![1, 0]
            }),
            (2u8..0x40, proptest::collection::vec(any::<u8>(), 0..6))
                .prop_filter("not Router Alert", |(kind, _)| *kind != 5)
                .prop_map(|(kind, data)| [vec![kind, data.len() as u8], data].concat()),
        ]
    }

    /// One extension header (its Next Header to be filled in): options headers padded to a
    /// multiple of 8 bytes, or a Routing header of an unrecognized type with Segments Left 0.
    fn arb_ext_header(kind: ExtHeaderKind) -> BoxedStrategy<Vec<u8>> {
        match kind {
            ExtHeaderKind::Routing => (1u8..=255, proptest::collection::vec(any::<u8>(), 4), 0usize..2)
                .prop_map(|(routing_type, data, units)| {
                    let mut header = vec![0, units as u8, routing_type, 0];
                    header.extend(data);
                    header.resize((units + 1) * 8, 0xaa);
                    header
                })
                .boxed(),
            _ => proptest::collection::vec(arb_option(kind == ExtHeaderKind::HopByHop), 0..4)
                .prop_map(|options| {
                    let mut header = vec![0, 0];
                    header.extend(options.concat());
                    match (8 - header.len() % 8) % 8 {
                        0 => {}
                        1 => header.push(0),
                        n => header.extend([vec![1, n as u8 - 2], vec![0; n - 2]].concat()),
                    }
                    header[1] = (header.len() / 8 - 1) as u8;
                    header
                })
                .boxed(),
        }
    }

    /// A raw chain (first kind, bytes): maybe Hop-by-Hop, then Destination Options and
    /// Routing headers, linked by their Next Header fields.
    fn arb_chain() -> impl Strategy<Value = (ExtHeaderKind, Vec<u8>)> {
        let later = prop_oneof![Just(ExtHeaderKind::DestinationOptions), Just(ExtHeaderKind::Routing)];
        (any::<bool>(), proptest::collection::vec(later, 0..4))
            .prop_filter("not empty", |(hop_by_hop, later)| *hop_by_hop || !later.is_empty())
            .prop_flat_map(|(hop_by_hop, later)| {
                let kinds: Vec<_> =
                    hop_by_hop.then_some(ExtHeaderKind::HopByHop).into_iter().chain(later).collect();
                let headers: Vec<_> = kinds.iter().map(|&kind| arb_ext_header(kind)).collect();
                (Just(kinds), headers)
            })
            .prop_map(|(kinds, mut headers)| {
                for i in 1..headers.len() {
                    headers[i - 1][0] = kinds[i].proto().0;
                }
                (kinds[0], headers.concat())
            })
    }

    fn arb_builder() -> impl Strategy<Value = Ipv6Builder<'static>> {
        (
            (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<u8>(), any::<u8>()),
            (0u8..64, 0u8..4, 0u32..=FlowLabel::MAX),
        )
            .prop_filter("upper-layer protocol", |((_, _, proto, _), _)| {
                ExtHeaderKind::from_proto(IpProto(*proto)).is_none()
            })
            .prop_map(|((src, dst, proto, hop_limit), (dscp, ecn, flow))| Ipv6Builder {
                dscp: Dscp::new(dscp).unwrap(),
                ecn: Ecn::from_bits(ecn),
                flow_label: FlowLabel::new(flow).unwrap(),
                ..Ipv6Builder::new(Ipv6Addr::new(src), Ipv6Addr::new(dst), hop_limit, IpProto(proto))
            })
    }

    fn arb_fragment() -> impl Strategy<Value = FragmentHeader> {
        (0u16..0x1000, any::<bool>(), any::<u32>()).prop_map(|(units, more_fragments, id)| FragmentHeader {
            offset: FragmentOffset::new(units).unwrap(),
            more_fragments,
            id,
        })
    }

    /// Next Header values that make the walk go on, or stop.
    fn arb_next_header() -> impl Strategy<Value = u8> {
        prop_oneof![Just(0u8), Just(43), Just(44), Just(60), Just(17), any::<u8>()]
    }

    /// The 22 bytes after an extension header's first two: all zeros (Pad1 options; Routing
    /// type 0 with Segments Left 0), one option of any type and length 0 then Pad1s, or
    /// anything.
    fn arb_header_content() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(vec![0; 22]),
            any::<u8>().prop_map(|kind| {
                let mut content = vec![0; 22];
                content[0] = kind;
                content
            }),
            proptest::collection::vec(any::<u8>(), 22),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(
            base in arb_builder(),
            chain in proptest::option::of(arb_chain()),
            fragment in proptest::option::of(arb_fragment()),
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let ext_headers = chain.as_ref().map(|(first, bytes)| ExtHeaderChain::new(*first, bytes).unwrap());
            let b = Ipv6Builder { ext_headers, fragment, ..base };
            // RFC 8200 §4.5: a fragment that is not the last carries a multiple of 8 bytes.
            let body_len = if fragment.is_some_and(|f| f.more_fragments) { body.len() / 8 * 8 } else { body.len() };
            let bytes = serialize(b, &body[..body_len]);
            let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
            prop_assert_eq!(packet.builder(), b);
            prop_assert_eq!(packet.body(), &body[..body_len]);
            prop_assert_eq!(packet.fragment_header(), fragment);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = Ipv6Packet::parse_bytes(&bytes[..], ());
        }

        #[test]
        fn arbitrary_chains_never_panic_and_reserialize_exactly(
            first in arb_next_header(),
            headers in proptest::collection::vec(
                (arb_next_header(), 0usize..3, arb_header_content()),
                0..6,
            ),
            padding in 0usize..4,
        ) {
            let mut payload = Vec::new();
            for (next, units, content) in headers {
                payload.push(next);
                payload.push(units as u8);
                payload.extend_from_slice(&content[..(units + 1) * 8 - 2]);
            }
            let mut bytes = packet_with(IpProto(first), &payload, &[]);
            bytes.extend(core::iter::repeat_n(0, padding));
            if let Ok(packet) = Ipv6Packet::parse_bytes(&bytes[..], ()) {
                let _ = packet.ext_headers().count();
                let unpadded = &bytes[..bytes.len() - padding];
                prop_assert_eq!(serialize(packet.builder(), packet.body()), unpadded);
            }
        }
    }
}
