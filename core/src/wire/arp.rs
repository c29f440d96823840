//! ARP (RFC 826) for IPv4 over Ethernet, including the RFC 5227 probe and announcement forms.
//!
//! Only the Ethernet/IPv4 combination is parsed (hardware type 1, protocol type 0x0800,
//! address lengths 6 and 4); other combinations are reported as unsupported. An ARP packet
//! has no payload: bytes after its 28 bytes are link-layer padding, which parsing trims so
//! the buffer's body is empty afterwards (and [`Buf::undo_parse`](crate::buf::Buf::undo_parse)
//! restores it).

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Ref, Unaligned};

use super::{EtherType, Layer, ParseError, ParseErrorKind};
use crate::addr::{Ipv4Addr, Mac};
use crate::buf::{
    header_mut, PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView,
    SerializeTarget,
};

/// Length of an Ethernet/IPv4 ARP packet: 8 bytes of fixed header and 20 of addresses.
pub const PACKET_LEN: usize = 28;
/// RFC 826 `ar$hrd` for Ethernet (IANA "Hardware Types" registry: 1).
const HTYPE_ETHERNET: u16 = 1;
/// RFC 826 `ar$hln` for Ethernet.
const HLEN_ETHERNET: u8 = 6;
/// RFC 826 `ar$pln` for IPv4.
const PLEN_IPV4: u8 = 4;

/// The part of the header every ARP packet has, whatever its address types (RFC 826
/// "Packet format": `ar$hrd`, `ar$pro`, `ar$hln`, `ar$pln`, `ar$op`).
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct FixedHeader {
    htype: U16,
    ptype: U16,
    hlen: u8,
    plen: u8,
    op: U16,
}

/// The four addresses for hardware type Ethernet and protocol type IPv4 (`ar$sha`, `ar$spa`,
/// `ar$tha`, `ar$tpa`).
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct EthernetIpv4Addrs {
    sender_mac: [u8; 6],
    sender_ip: [u8; 4],
    target_mac: [u8; 6],
    target_ip: [u8; 4],
}

/// The ARP operation (RFC 826 `ar$op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpOp {
    /// 1: `ares_op$REQUEST`.
    Request,
    /// 2: `ares_op$REPLY`.
    Reply,
}

impl ArpOp {
    const fn code(self) -> u16 {
        match self {
            ArpOp::Request => 1,
            ArpOp::Reply => 2,
        }
    }

    const fn from_code(code: u16) -> Option<Self> {
        match code {
            1 => Some(ArpOp::Request),
            2 => Some(ArpOp::Reply),
            _ => None,
        }
    }
}

/// A parsed Ethernet/IPv4 ARP packet.
#[derive(Debug)]
pub struct ArpPacket<B: PacketBytes> {
    op: ArpOp,
    addrs: Ref<B, EthernetIpv4Addrs>,
    padding_len: usize,
}

impl<B: PacketBytes> ParsablePacket<B> for ArpPacket<B> {
    type Args = ();
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, _args: ()) -> Result<Self, ParseError> {
        let fixed = view.take_obj_front::<FixedHeader>().ok_or(ParseError::truncated(Layer::Arp))?;
        let unsupported = |what| Err(ParseError::new(Layer::Arp, ParseErrorKind::Unsupported(what)));
        if fixed.htype.get() != HTYPE_ETHERNET {
            return unsupported("ARP hardware type");
        }
        if EtherType(fixed.ptype.get()) != EtherType::IPV4 {
            return unsupported("ARP protocol type");
        }
        if fixed.hlen != HLEN_ETHERNET || fixed.plen != PLEN_IPV4 {
            return unsupported("ARP address length");
        }
        let op = ArpOp::from_code(fixed.op.get())
            .ok_or(ParseError::new(Layer::Arp, ParseErrorKind::Field("ARP operation")))?;
        let addrs = view.take_obj_front::<EthernetIpv4Addrs>().ok_or(ParseError::truncated(Layer::Arp))?;
        // Whatever follows is padding up to the minimum Ethernet frame (IEEE 802.3 clause 4.4.2).
        let padding_len = view.len();
        view.take_back(padding_len);
        Ok(Self { op, addrs, padding_len })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata { header_len: PACKET_LEN, body_len: 0, footer_len: self.padding_len }
    }
}

impl<B: PacketBytes> ArpPacket<B> {
    /// The operation.
    pub fn operation(&self) -> ArpOp {
        self.op
    }

    /// Sender hardware address (`ar$sha`).
    pub fn sender_mac(&self) -> Mac {
        Mac::new(self.addrs.sender_mac)
    }

    /// Sender protocol address (`ar$spa`); 0.0.0.0 in an RFC 5227 probe.
    pub fn sender_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.addrs.sender_ip)
    }

    /// Target hardware address (`ar$tha`); meaningless in a request.
    pub fn target_mac(&self) -> Mac {
        Mac::new(self.addrs.target_mac)
    }

    /// Target protocol address (`ar$tpa`).
    pub fn target_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.addrs.target_ip)
    }

    /// Bytes of link-layer padding that followed the packet and were trimmed.
    pub fn padding_len(&self) -> usize {
        self.padding_len
    }

    /// A builder that writes this packet again.
    pub fn builder(&self) -> ArpBuilder {
        ArpBuilder {
            op: self.operation(),
            sender_mac: self.sender_mac(),
            sender_ip: self.sender_ip(),
            target_mac: self.target_mac(),
            target_ip: self.target_ip(),
        }
    }
}

/// Writes an Ethernet/IPv4 ARP packet. ARP carries no payload, so it wraps an empty body
/// ([`EmptyBody`](crate::buf::EmptyBody)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArpBuilder {
    /// The operation.
    pub op: ArpOp,
    /// Sender hardware address.
    pub sender_mac: Mac,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: Mac,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpBuilder {
    /// A request asking who has `target_ip` (RFC 826 "Packet Generation"). The target
    /// hardware address is unknown and sent as zeros, as Linux does.
    pub const fn request(sender_mac: Mac, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Self {
        Self { op: ArpOp::Request, sender_mac, sender_ip, target_mac: Mac::UNSPECIFIED, target_ip }
    }

    /// A reply telling `target` that `sender_ip` is at `sender_mac` (RFC 826 "Packet
    /// Reception": the requester's addresses become the target).
    pub const fn reply(sender_mac: Mac, sender_ip: Ipv4Addr, target_mac: Mac, target_ip: Ipv4Addr) -> Self {
        Self { op: ArpOp::Reply, sender_mac, sender_ip, target_mac, target_ip }
    }

    /// An RFC 5227 §2.1.1 probe for `candidate`: a request with sender IP 0.0.0.0 (so no
    /// host's cache learns a binding for an address not yet ours) and target MAC zeros.
    pub const fn probe(sender_mac: Mac, candidate: Ipv4Addr) -> Self {
        Self::request(sender_mac, Ipv4Addr::UNSPECIFIED, candidate)
    }

    /// An RFC 5227 §2.3 announcement (gratuitous ARP) claiming `ip`: a request whose sender
    /// and target IP are both `ip`, target MAC zeros.
    pub const fn announcement(sender_mac: Mac, ip: Ipv4Addr) -> Self {
        Self::request(sender_mac, ip, ip)
    }
}

impl PacketBuilder for ArpBuilder {
    fn constraints(&self) -> PacketConstraints {
        PacketConstraints { header_len: PACKET_LEN, footer_len: 0, min_body_len: 0, max_body_len: 0 }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, _body: &[u8]) {
        let (fixed, addrs) = target.header.split_at_mut(core::mem::size_of::<FixedHeader>());
        let f = FixedHeader {
            htype: U16::new(HTYPE_ETHERNET),
            ptype: U16::new(EtherType::IPV4.0),
            hlen: HLEN_ETHERNET,
            plen: PLEN_IPV4,
            op: U16::new(self.op.code()),
        };
        *header_mut(fixed) = f;
        let a = EthernetIpv4Addrs {
            sender_mac: self.sender_mac.bytes(),
            sender_ip: self.sender_ip.bytes(),
            target_mac: self.target_mac.bytes(),
            target_ip: self.target_ip.bytes(),
        };
        *header_mut(addrs) = a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::{Buf, EmptyBody, Serializer};
    use crate::wire::ethernet::{EthernetBuilder, EthernetFrame};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const MAC_A: Mac = Mac::new([0x02, 0, 0, 0, 0, 1]);
    const MAC_B: Mac = Mac::new([0x02, 0, 0, 0, 0, 2]);
    const IP_A: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
    const IP_B: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 2]);

    /// tests/vectors/icmpv4_ping.pcap frame 1 (Ethernet and ARP): who-has 192.0.2.2 tell
    /// 192.0.2.1, broadcast, unpadded (veth does not pad).
    const LINUX_REQUEST_FRAME: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08,
        0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x02,
    ];
    /// tests/vectors/icmpv4_ping.pcap frame 2: 192.0.2.2 is-at 02:00:00:00:00:02.
    const LINUX_REPLY_FRAME: [u8; 42] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06, 0x00, 0x01, 0x08,
        0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x02, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01,
    ];

    fn linux_request() -> [u8; PACKET_LEN] {
        let mut arp = [0; PACKET_LEN];
        arp.copy_from_slice(&LINUX_REQUEST_FRAME[14..]);
        arp
    }

    fn serialize(b: ArpBuilder) -> Vec<u8> {
        EmptyBody.encapsulate(b).serialize_vec().unwrap().into_inner()
    }

    /// Parses a captured frame down to ARP and writes it again from the builders.
    fn reserialize_frame(frame: &[u8]) -> (ArpBuilder, Vec<u8>) {
        let mut buf = Buf::from_body(frame);
        let eth = buf.parse::<EthernetFrame<_>>(()).unwrap().builder();
        let arp = buf.parse::<ArpPacket<_>>(()).unwrap().builder();
        assert!(buf.is_empty());
        (arp, EmptyBody.encapsulate(arp).encapsulate(eth).serialize_vec().unwrap().into_inner())
    }

    #[test]
    fn linux_request_reserializes_byte_for_byte() {
        let (arp, bytes) = reserialize_frame(&LINUX_REQUEST_FRAME);
        assert_eq!(arp, ArpBuilder::request(MAC_A, IP_A, IP_B));
        assert_eq!(bytes, LINUX_REQUEST_FRAME);
    }

    #[test]
    fn linux_reply_reserializes_byte_for_byte() {
        let (arp, bytes) = reserialize_frame(&LINUX_REPLY_FRAME);
        assert_eq!(arp, ArpBuilder::reply(MAC_B, IP_B, MAC_A, IP_A));
        assert_eq!(bytes, LINUX_REPLY_FRAME);
    }

    #[test]
    fn ethernet_padding_is_trimmed_and_restored() {
        // IEEE 802.3 clause 4.4.2: a 28-byte ARP packet rides in a frame padded to 60 bytes.
        let frame = (&LINUX_REPLY_FRAME[14..])
            .encapsulate(EthernetBuilder::new(MAC_B, MAC_A, EtherType::ARP))
            .serialize_vec()
            .unwrap()
            .into_inner();
        assert_eq!(frame.len(), 60);
        let mut buf = Buf::from_body(&frame[..]);
        let eth_meta = buf.parse::<EthernetFrame<_>>(()).unwrap().parse_metadata();
        let arp = buf.parse::<ArpPacket<_>>(()).unwrap();
        assert_eq!(arp.padding_len(), 18);
        let meta = arp.parse_metadata();
        assert_eq!(meta, ParseMetadata { header_len: 28, body_len: 0, footer_len: 18 });
        assert!(buf.is_empty());
        buf.undo_parse(meta);
        buf.undo_parse(eth_meta);
        assert_eq!(buf.body(), &frame[..]);
    }

    #[test]
    fn rfc5227_2_1_1_probe_has_zero_sender_ip_and_target_mac() {
        let candidate = Ipv4Addr::new([169, 254, 7, 9]);
        let bytes = serialize(ArpBuilder::probe(MAC_A, candidate));
        let p = ArpPacket::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(p.operation(), ArpOp::Request);
        assert_eq!((p.sender_mac(), p.sender_ip()), (MAC_A, Ipv4Addr::UNSPECIFIED));
        assert_eq!((p.target_mac(), p.target_ip()), (Mac::UNSPECIFIED, candidate));
    }

    #[test]
    fn rfc5227_2_3_announcement_has_sender_ip_equal_target_ip() {
        let bytes = serialize(ArpBuilder::announcement(MAC_A, IP_A));
        let p = ArpPacket::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(p.operation(), ArpOp::Request);
        assert_eq!((p.sender_ip(), p.target_ip()), (IP_A, IP_A));
        assert_eq!((p.sender_mac(), p.target_mac()), (MAC_A, Mac::UNSPECIFIED));
    }

    #[test]
    fn truncated_packets_are_rejected() {
        for len in [0, 7, 8, 27] {
            let err = ArpPacket::parse_bytes(&linux_request()[..len], ()).unwrap_err();
            assert_eq!(err, ParseError::truncated(Layer::Arp), "length {len}");
        }
    }

    #[test]
    fn rfc826_non_ethernet_ipv4_address_spaces_are_unsupported() {
        // (byte offset, value): hardware type, protocol type, hardware and protocol lengths.
        for (at, value) in [(1, 6), (2, 0x86), (4, 8), (5, 16)] {
            let mut bytes = linux_request();
            bytes[at] = value;
            let err = ArpPacket::parse_bytes(&bytes[..], ()).unwrap_err();
            assert!(matches!(err.kind, ParseErrorKind::Unsupported(_)), "byte {at}: {err}");
        }
    }

    #[test]
    fn rfc826_unknown_operation_is_a_field_error() {
        for op in [0u8, 3, 8] {
            let mut bytes = linux_request();
            bytes[7] = op;
            let err = ArpPacket::parse_bytes(&bytes[..], ()).unwrap_err();
            assert_eq!(err, ParseError::new(Layer::Arp, ParseErrorKind::Field("ARP operation")));
        }
    }

    fn arb_builder() -> impl Strategy<Value = ArpBuilder> {
        (any::<bool>(), any::<[u8; 6]>(), any::<[u8; 4]>(), any::<[u8; 6]>(), any::<[u8; 4]>()).prop_map(
            |(reply, sm, si, tm, ti)| ArpBuilder {
                op: if reply { ArpOp::Reply } else { ArpOp::Request },
                sender_mac: Mac::new(sm),
                sender_ip: Ipv4Addr::new(si),
                target_mac: Mac::new(tm),
                target_ip: Ipv4Addr::new(ti),
            },
        )
    }

    proptest! {
        #[test]
        fn round_trip(b in arb_builder(), padding in 0usize..40) {
            let mut bytes = serialize(b);
            bytes.resize(bytes.len() + padding, 0);
            let p = ArpPacket::parse_bytes(&bytes[..], ()).unwrap();
            prop_assert_eq!(p.builder(), b);
            prop_assert_eq!(p.padding_len(), padding);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = ArpPacket::parse_bytes(&bytes[..], ());
        }

        #[test]
        fn valid_prefix_with_arbitrary_addresses_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut bytes = linux_request()[..8].to_vec();
            bytes.extend_from_slice(&tail);
            let parsed = ArpPacket::parse_bytes(&bytes[..], ());
            prop_assert_eq!(parsed.is_ok(), tail.len() >= 20);
        }
    }
}
