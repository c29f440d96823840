//! Ethernet II frames (IEEE 802.3 clause 3.2.6 type interpretation) with an optional IEEE
//! 802.1Q/802.1ad VLAN tag, and minimum-frame padding on send.
//!
//! Frames carry no FCS here: devices (TAP, AF_PACKET) strip it on receive and add it on send.

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Ref, Unaligned};

use super::{EtherType, Layer, ParseError, ParseErrorKind};
use crate::addr::Mac;
use crate::buf::{
    header_mut, PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView,
    SerializeTarget,
};

/// Length of the untagged header.
pub const HEADER_LEN: usize = 14;
/// Length of one VLAN tag.
pub const VLAN_TAG_LEN: usize = 4;
/// Minimum payload of an untagged frame: 64 bytes minimum frame less 14 of header and 4 of
/// FCS (IEEE 802.3 clause 4.4.2).
pub const MIN_BODY_LEN: usize = 46;
/// EtherType values below this are 802.3 length fields, not types (IEEE 802.3 clause 3.2.6).
const MIN_ETHERTYPE: u16 = 0x0600;

#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Header {
    dst: [u8; 6],
    src: [u8; 6],
    ethertype: U16,
}

#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Tag {
    tci: U16,
    ethertype: U16,
}

/// An IEEE 802.1Q tag: its tag protocol and Tag Control Information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// The tag protocol identifier: [`EtherType::VLAN`] (C-tag) or [`EtherType::QINQ`] (S-tag).
    pub tpid: EtherType,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (12 bits).
    pub vid: u16,
}

impl VlanTag {
    fn tci(&self) -> u16 {
        (u16::from(self.pcp & 0x7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }

    fn from_tci(tpid: EtherType, tci: u16) -> Self {
        Self { tpid, pcp: (tci >> 13) as u8, dei: tci & 0x1000 != 0, vid: tci & 0x0fff }
    }
}

/// A parsed Ethernet II frame.
#[derive(Debug)]
pub struct EthernetFrame<B: PacketBytes> {
    header: Ref<B, Header>,
    tag: Option<Ref<B, Tag>>,
    body: B,
}

impl<B: PacketBytes> ParsablePacket<B> for EthernetFrame<B> {
    type Args = ();
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, _args: ()) -> Result<Self, ParseError> {
        let header = view.take_obj_front::<Header>().ok_or(ParseError::truncated(Layer::Ethernet))?;
        let outer = EtherType(header.ethertype.get());
        let tag = if outer == EtherType::VLAN || outer == EtherType::QINQ {
            Some(view.take_obj_front::<Tag>().ok_or(ParseError::truncated(Layer::Ethernet))?)
        } else {
            None
        };
        let ethertype = tag.as_ref().map_or(outer.0, |t| t.ethertype.get());
        if ethertype < MIN_ETHERTYPE {
            return Err(ParseError::new(
                Layer::Ethernet,
                ParseErrorKind::Unsupported("802.3 length-field frame"),
            ));
        }
        Ok(Self { header, tag, body: view.take_rest() })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata { header_len: self.header_len(), body_len: self.body.len(), footer_len: 0 }
    }
}

impl<B: PacketBytes> EthernetFrame<B> {
    /// Source MAC.
    pub fn src_mac(&self) -> Mac {
        Mac::new(self.header.src)
    }

    /// Destination MAC.
    pub fn dst_mac(&self) -> Mac {
        Mac::new(self.header.dst)
    }

    /// The EtherType of the payload (the inner one for a tagged frame).
    pub fn ethertype(&self) -> EtherType {
        EtherType(self.tag.as_ref().map_or(self.header.ethertype.get(), |t| t.ethertype.get()))
    }

    /// The VLAN tag, if the frame had one.
    pub fn vlan(&self) -> Option<VlanTag> {
        self.tag.as_ref().map(|t| VlanTag::from_tci(EtherType(self.header.ethertype.get()), t.tci.get()))
    }

    /// Header length including the tag.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + if self.tag.is_some() { VLAN_TAG_LEN } else { 0 }
    }

    /// The payload (including any padding the sender added).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A builder that writes this frame's header again. Its `min_body_len` is 0: padding
    /// the sender added is part of the parsed body already.
    pub fn builder(&self) -> EthernetBuilder {
        EthernetBuilder {
            src: self.src_mac(),
            dst: self.dst_mac(),
            ethertype: self.ethertype(),
            vlan: self.vlan(),
            min_body_len: 0,
        }
    }
}

/// Writes an Ethernet II header, and pads short payloads to the minimum frame size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetBuilder {
    /// Source MAC.
    pub src: Mac,
    /// Destination MAC.
    pub dst: Mac,
    /// Payload EtherType.
    pub ethertype: EtherType,
    /// Optional VLAN tag.
    pub vlan: Option<VlanTag>,
    /// Payloads shorter than this are zero-padded; [`MIN_BODY_LEN`] for a real wire, 0 where
    /// the device pads (or needs no padding, like TAP).
    pub min_body_len: usize,
}

impl EthernetBuilder {
    /// An untagged frame padded to the IEEE 802.3 minimum size.
    pub fn new(src: Mac, dst: Mac, ethertype: EtherType) -> Self {
        Self { src, dst, ethertype, vlan: None, min_body_len: MIN_BODY_LEN }
    }
}

impl PacketBuilder for EthernetBuilder {
    fn constraints(&self) -> PacketConstraints {
        let tag_len = if self.vlan.is_some() { VLAN_TAG_LEN } else { 0 };
        PacketConstraints {
            header_len: HEADER_LEN + tag_len,
            footer_len: 0,
            // The tag counts toward the minimum frame size.
            min_body_len: self.min_body_len.saturating_sub(tag_len),
            max_body_len: usize::MAX,
        }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, _body: &[u8]) {
        let (header, tag) = target.header.split_at_mut(HEADER_LEN);
        let first_type = self.vlan.map_or(self.ethertype, |v| v.tpid);
        // Field by field: a whole-struct value would be assembled from the 6-byte MACs on the
        // stack and reloaded with overlapping wider loads, stalling store forwarding.
        let h = header_mut::<Header>(header);
        h.dst = self.dst.bytes();
        h.src = self.src.bytes();
        h.ethertype = U16::new(first_type.0);
        if let Some(vlan) = self.vlan {
            *header_mut(tag) = Tag { tci: U16::new(vlan.tci()), ethertype: U16::new(self.ethertype.0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::{Buf, Serializer};
    use proptest::prelude::*;

    const SRC: Mac = Mac::new([0x02, 0, 0, 0, 0, 1]);
    const DST: Mac = Mac::new([0x02, 0, 0, 0, 0, 2]);

    #[test]
    fn parse_untagged_leaves_payload_in_buffer() {
        let mut bytes = [0u8; 20];
        bytes[..6].copy_from_slice(&DST.bytes());
        bytes[6..12].copy_from_slice(&SRC.bytes());
        bytes[12..14].copy_from_slice(&[0x08, 0x00]);
        bytes[14..].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        let mut buf = Buf::from_body(&bytes[..]);
        let frame = buf.parse::<EthernetFrame<_>>(()).unwrap();
        assert_eq!((frame.src_mac(), frame.dst_mac(), frame.ethertype()), (SRC, DST, EtherType::IPV4));
        assert_eq!(frame.vlan(), None);
        let meta = frame.parse_metadata();
        assert_eq!(buf.body(), &[1, 2, 3, 4, 5, 6]);
        buf.undo_parse(meta);
        assert_eq!(buf.body(), &bytes[..]);
    }

    #[test]
    fn ieee_802_1q_tag_is_parsed() {
        let b = EthernetBuilder {
            vlan: Some(VlanTag { tpid: EtherType::VLAN, pcp: 5, dei: true, vid: 42 }),
            ..EthernetBuilder::new(SRC, DST, EtherType::IPV6)
        };
        let buf = (&[9u8; 50][..]).encapsulate(b).serialize_vec().unwrap();
        assert_eq!(&buf.body()[12..18], &[0x81, 0x00, 0xb0, 42, 0x86, 0xdd]);
        let frame = EthernetFrame::parse_bytes(buf.body(), ()).unwrap();
        assert_eq!(frame.builder(), EthernetBuilder { min_body_len: 0, ..b });
        assert_eq!(frame.body(), &[9u8; 50]);
    }

    #[test]
    fn ieee_802_3_short_payload_is_padded_to_60_bytes() {
        let buf = (&[0xaau8; 28][..])
            .encapsulate(EthernetBuilder::new(SRC, DST, EtherType::ARP))
            .serialize_vec()
            .unwrap();
        assert_eq!(buf.len(), 60);
        assert!(buf.body()[42..].iter().all(|&b| b == 0));
        // IEEE 802.1Q: the tag counts toward the minimum, so a tagged frame is 60 bytes too.
        let tagged = EthernetBuilder {
            vlan: Some(VlanTag { tpid: EtherType::VLAN, pcp: 0, dei: false, vid: 1 }),
            ..EthernetBuilder::new(SRC, DST, EtherType::ARP)
        };
        assert_eq!((&[0xaau8; 28][..]).encapsulate(tagged).serialize_vec().unwrap().len(), 60);
    }

    #[test]
    fn truncated_and_length_field_frames_are_rejected() {
        let err = EthernetFrame::parse_bytes(&[0u8; 13][..], ()).unwrap_err();
        assert_eq!(err, ParseError::truncated(Layer::Ethernet));
        let mut tagged = [0u8; 16];
        tagged[12..14].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(EthernetFrame::parse_bytes(&tagged[..], ()).unwrap_err().kind, ParseErrorKind::Truncated);
        let mut llc = [0u8; 60];
        llc[12..14].copy_from_slice(&[0x00, 0x2e]);
        assert!(matches!(
            EthernetFrame::parse_bytes(&llc[..], ()).unwrap_err().kind,
            ParseErrorKind::Unsupported(_)
        ));
    }

    #[test]
    fn mutable_parse_allows_in_place_edit() {
        let mut bytes = (&[7u8; 46][..])
            .encapsulate(EthernetBuilder::new(SRC, DST, EtherType::IPV4))
            .serialize_vec()
            .unwrap()
            .into_inner();
        let mut buf = Buf::from_body(&mut bytes[..]);
        assert_eq!(buf.parse_mut::<EthernetFrame<_>>(()).unwrap().ethertype(), EtherType::IPV4);
        buf.body_mut()[0] = 8;
        assert_eq!(bytes[14], 8);
    }

    fn arb_builder() -> impl Strategy<Value = EthernetBuilder> {
        let tag = proptest::option::of((0u8..8, any::<bool>(), 0u16..4096, any::<bool>()).prop_map(
            |(pcp, dei, vid, qinq)| VlanTag {
                tpid: if qinq { EtherType::QINQ } else { EtherType::VLAN },
                pcp,
                dei,
                vid,
            },
        ));
        (any::<[u8; 6]>(), any::<[u8; 6]>(), 0x0600u16.., tag).prop_map(|(s, d, t, vlan)| EthernetBuilder {
            src: Mac::new(s),
            dst: Mac::new(d),
            ethertype: EtherType(t),
            vlan,
            min_body_len: 0,
        })
    }

    proptest! {
        #[test]
        fn round_trip(b in arb_builder(), body in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assume!(b.ethertype != EtherType::VLAN && b.ethertype != EtherType::QINQ);
            let buf = (&body[..]).encapsulate(b).serialize_vec().unwrap();
            let frame = EthernetFrame::parse_bytes(buf.body(), ()).unwrap();
            prop_assert_eq!(frame.builder(), b);
            prop_assert_eq!(frame.body(), &body[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = EthernetFrame::parse_bytes(&bytes[..], ());
        }
    }
}
