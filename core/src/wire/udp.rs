//! UDP datagrams (RFC 768) over IPv4 and IPv6, with the checksum rules of RFC 1122 §4.1.3.4
//! and RFC 8200 §8.1.
//!
//! The checksum covers a pseudo-header (both IP addresses, the protocol and the UDP length),
//! so parsing takes the enclosing IP header's addresses as its arguments and the packet and
//! builder types are generic over the address type.
//!
//! * A zero checksum field means "no checksum" over IPv4 (RFC 768) and is accepted; over IPv6
//!   it is invalid (RFC 8200 §8.1). The zero-checksum exception for tunnels over IPv6
//!   (RFC 6935, RFC 6936) is not supported.
//! * A computed checksum of zero is sent as 0xffff (RFC 768), its one's-complement twin.
//! * Source port 0 means "no reply port" (RFC 768) and is accepted; destination port 0 is
//!   reserved and rejected.
//! * Bytes after the datagram's `length` (link-layer padding) are trimmed as a footer.
//! * IPv6 jumbograms (RFC 2675, length field 0) are not supported.

use core::num::NonZeroU16;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Ref, Unaligned};

use super::{pseudo_header_checksum, IpProto, Layer, ParseError, ParseErrorKind};
use crate::addr::{Ip, IpAddress, IpVersion, Ipv4Addr};
use crate::buf::{
    header_mut, PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView,
    SerializeTarget,
};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;
/// The longest payload the 16-bit length field can describe.
pub const MAX_BODY_LEN: usize = u16::MAX as usize - HEADER_LEN;
/// Offset of the checksum field from the start of the UDP header: where a device finishing an
/// offloaded checksum stores it (a virtio-net header's `csum_offset`).
pub const CHECKSUM_OFFSET: usize = 6;

#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Header {
    src_port: U16,
    dst_port: U16,
    length: U16,
    checksum: U16,
}

/// How a [`UdpBuilder`] fills the checksum field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UdpChecksum {
    /// Computed in software over the pseudo-header and the whole datagram; a result of 0 is
    /// sent as 0xffff (RFC 768).
    Compute,
    /// Left for the device to finish (checksum offload). The field holds the pseudo-header
    /// sum: the one's-complement sum of source address, destination address, protocol and
    /// UDP length, folded to 16 bits and *not* complemented, in network byte order (Linux's
    /// `CHECKSUM_PARTIAL` convention). The device sums the datagram from the start of the UDP
    /// header (this field included) to its end, complements the result, stores it at
    /// [`CHECKSUM_OFFSET`], and must send a result of 0 as 0xffff.
    Offload,
    /// No checksum: the field is 0. IPv4 only (RFC 768); see [`UdpBuilder::without_checksum`].
    Omitted,
}

/// A parsed UDP datagram whose length, checksum and destination port were validated against
/// the pseudo-header addresses it was parsed with.
#[derive(Debug)]
pub struct UdpPacket<B: PacketBytes, A: IpAddress> {
    header: Ref<B, Header>,
    dst_port: NonZeroU16,
    body: B,
    padding_len: usize,
    src_ip: A,
    dst_ip: A,
}

impl<B: PacketBytes, A: IpAddress> ParsablePacket<B> for UdpPacket<B, A> {
    /// The source and destination addresses of the enclosing IP header, in that order.
    type Args = (A, A);
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, (src_ip, dst_ip): (A, A)) -> Result<Self, ParseError> {
        let header = view.take_obj_front::<Header>().ok_or(ParseError::truncated(Layer::Udp))?;
        let length = header.length.get();
        // RFC 768: the length counts the header, so it is at least 8.
        let body_len = usize::from(length)
            .checked_sub(HEADER_LEN)
            .ok_or(ParseError::new(Layer::Udp, ParseErrorKind::Length("UDP length below header size")))?;
        let padding_len = view.len().checked_sub(body_len).ok_or(ParseError::truncated(Layer::Udp))?;
        view.take_back(padding_len);
        let body = view.take_rest();

        let checksum = header.checksum.get();
        if checksum == 0 {
            // RFC 768: zero means the sender computed no checksum, which IPv6 does not allow:
            // an IPv6 receiver drops such a datagram (RFC 8200 §8.1).
            if <A::Version as Ip>::VERSION == IpVersion::V6 {
                return Err(ParseError::new(Layer::Udp, ParseErrorKind::Checksum));
            }
        } else {
            // RFC 1122 §4.1.3.4: a non-zero checksum must verify.
            let mut sum = pseudo_header_checksum(src_ip, dst_ip, IpProto::UDP, u32::from(length));
            sum.add_bytes(header.as_bytes());
            sum.add_bytes(&body);
            if sum.checksum() != 0 {
                return Err(ParseError::new(Layer::Udp, ParseErrorKind::Checksum));
            }
        }

        let dst_port = NonZeroU16::new(header.dst_port.get())
            .ok_or(ParseError::new(Layer::Udp, ParseErrorKind::Field("UDP destination port 0")))?;
        Ok(Self { header, dst_port, body, padding_len, src_ip, dst_ip })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata { header_len: HEADER_LEN, body_len: self.body.len(), footer_len: self.padding_len }
    }
}

impl<B: PacketBytes, A: IpAddress> UdpPacket<B, A> {
    /// Source port; 0 when the sender expects no reply (RFC 768).
    pub fn src_port(&self) -> u16 {
        self.header.src_port.get()
    }

    /// Destination port, never 0.
    pub fn dst_port(&self) -> NonZeroU16 {
        self.dst_port
    }

    /// Whether the sender computed a checksum (always true over IPv6).
    pub fn has_checksum(&self) -> bool {
        self.header.checksum.get() != 0
    }

    /// The payload.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Bytes that followed the datagram's length (link-layer padding) and were trimmed.
    pub fn padding_len(&self) -> usize {
        self.padding_len
    }

    /// A builder that writes this datagram's header again, checksum included: a datagram that
    /// arrived without a checksum is rebuilt without one.
    pub fn builder(&self) -> UdpBuilder<A> {
        UdpBuilder {
            src_ip: self.src_ip,
            dst_ip: self.dst_ip,
            src_port: self.src_port(),
            dst_port: self.dst_port(),
            checksum: if self.has_checksum() { UdpChecksum::Compute } else { UdpChecksum::Omitted },
        }
    }
}

/// Writes a UDP header around a payload, computing the length and the checksum from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UdpBuilder<A: IpAddress> {
    /// Source address of the enclosing IP header (pseudo-header).
    pub src_ip: A,
    /// Destination address of the enclosing IP header (pseudo-header).
    pub dst_ip: A,
    /// Source port; 0 when no reply is expected (RFC 768).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: NonZeroU16,
    checksum: UdpChecksum,
}

impl<A: IpAddress> UdpBuilder<A> {
    /// A header whose checksum is computed in software ([`UdpChecksum::Compute`]).
    pub const fn new(src_ip: A, dst_ip: A, src_port: u16, dst_port: NonZeroU16) -> Self {
        Self { src_ip, dst_ip, src_port, dst_port, checksum: UdpChecksum::Compute }
    }

    /// The same header with the checksum left to the device ([`UdpChecksum::Offload`]).
    pub const fn with_checksum_offload(self) -> Self {
        Self { checksum: UdpChecksum::Offload, ..self }
    }

    /// How the checksum field is filled.
    pub const fn checksum(&self) -> UdpChecksum {
        self.checksum
    }
}

impl UdpBuilder<Ipv4Addr> {
    /// The same header with no checksum ([`UdpChecksum::Omitted`]). RFC 768 allows it over
    /// IPv4 only, hence only for IPv4 builders; RFC 1122 §4.1.3.4 requires checksums to be on
    /// by default, so this is for reproducing received datagrams and explicit opt-outs.
    pub const fn without_checksum(self) -> Self {
        Self { checksum: UdpChecksum::Omitted, ..self }
    }
}

impl<A: IpAddress> PacketBuilder for UdpBuilder<A> {
    fn constraints(&self) -> PacketConstraints {
        PacketConstraints {
            header_len: HEADER_LEN,
            footer_len: 0,
            min_body_len: 0,
            max_body_len: MAX_BODY_LEN,
        }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        // `Buf::encapsulate` enforces `max_body_len`, so the length fits 16 bits.
        let length = u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX);
        let mut header = Header {
            src_port: U16::new(self.src_port),
            dst_port: U16::new(self.dst_port.get()),
            length: U16::new(length),
            checksum: U16::ZERO,
        };
        let pseudo = pseudo_header_checksum(self.src_ip, self.dst_ip, IpProto::UDP, u32::from(length));
        let checksum = match self.checksum {
            UdpChecksum::Compute => {
                let mut sum = pseudo;
                sum.add_bytes(header.as_bytes());
                sum.add_bytes(body);
                // RFC 768: a computed zero goes out as its one's-complement twin, all ones.
                match sum.checksum() {
                    0 => 0xffff,
                    c => c,
                }
            }
            UdpChecksum::Offload => !pseudo.checksum(),
            UdpChecksum::Omitted => 0,
        };
        header.checksum = U16::new(checksum);
        *header_mut(&mut target.header[..]) = header;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Ipv6Addr;
    use crate::buf::{Buf, SerializeError, Serializer};
    use crate::wire::checksum::checksum;
    use crate::wire::test_data::{hex, V4_A, V4_B, V6_A, V6_B};
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Unfragmented datagrams of tests/vectors/udp_fragmented.pcap: (frame, A sent it, UDP
    /// bytes). The UDP header starts at byte 34 of the IPv4 frames (IHL 5) and at byte 54 of
    /// the IPv6 frames (no extension header).
    const LINUX_V4: [(usize, bool, &str); 4] = [
        (1, true, "9d2f138a00162d4468656c6c6f206f76657220756470"),
        (2, false, "138a9d2f000ecd4261636b3a3134"),
        (6, false, "138a9d2f00109a1261636b3a34303030"),
        (7, true, "92701391001b48c76e6f626f6479206c697374656e732068657265"),
    ];
    const LINUX_V6: [(usize, bool, &str); 4] = [
        (9, true, "b8ee138a00163a1468656c6c6f206f76657220756470"),
        (10, false, "138ab8ee000eda1261636b3a3134"),
        (14, false, "138ab8ee0010a6e261636b3a34303030"),
        (15, true, "e4c91391001b1efd6e6f626f6479206c697374656e732068657265"),
    ];

    fn port(p: u16) -> NonZeroU16 {
        NonZeroU16::new(p).unwrap()
    }

    fn serialize<A: IpAddress>(b: UdpBuilder<A>, body: &[u8]) -> Vec<u8> {
        body.encapsulate(b).serialize_vec().unwrap().into_inner()
    }

    /// Parses `bytes` in a buffer, then writes the payload that stayed in the buffer back
    /// around the recovered builder.
    fn reserialize<A: IpAddress>(bytes: &[u8], src: A, dst: A) -> Vec<u8> {
        let mut buf = Buf::from_body(bytes);
        let builder = buf.parse::<UdpPacket<_, A>>((src, dst)).unwrap().builder();
        serialize(builder, buf.body())
    }

    #[test]
    fn linux_ipv4_datagrams_reserialize_byte_for_byte() {
        for (frame, from_a, udp) in LINUX_V4 {
            let (src, dst) = if from_a { (V4_A, V4_B) } else { (V4_B, V4_A) };
            let bytes = hex(udp);
            assert_eq!(reserialize(&bytes, src, dst), bytes, "frame {frame}");
        }
    }

    #[test]
    fn linux_ipv6_datagrams_reserialize_byte_for_byte() {
        for (frame, from_a, udp) in LINUX_V6 {
            let (src, dst) = if from_a { (V6_A, V6_B) } else { (V6_B, V6_A) };
            let bytes = hex(udp);
            assert_eq!(reserialize(&bytes, src, dst), bytes, "frame {frame}");
        }
    }

    #[test]
    fn linux_datagram_fields() {
        let bytes = hex(LINUX_V4[0].2);
        let p = UdpPacket::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap();
        assert_eq!((p.src_port(), p.dst_port().get()), (40239, 5002));
        assert_eq!(p.body(), b"hello over udp");
        assert!(p.has_checksum());
        assert_eq!(p.parse_metadata(), ParseMetadata { header_len: 8, body_len: 14, footer_len: 0 });
    }

    #[test]
    fn checksum_covers_the_pseudo_header() {
        // RFC 768: the same bytes between other addresses fail to verify.
        let bytes = hex(LINUX_V4[0].2);
        let err = UdpPacket::parse_bytes(&bytes[..], (V4_A, Ipv4Addr::new([192, 0, 2, 3]))).unwrap_err();
        assert_eq!(err, ParseError::new(Layer::Udp, ParseErrorKind::Checksum));
    }

    #[test]
    fn rfc1122_4_1_3_4_bad_checksum_is_rejected() {
        for (_, from_a, udp) in LINUX_V6 {
            let (src, dst) = if from_a { (V6_A, V6_B) } else { (V6_B, V6_A) };
            let mut bytes = hex(udp);
            *bytes.last_mut().unwrap() ^= 0x40;
            let err = UdpPacket::parse_bytes(&bytes[..], (src, dst)).unwrap_err();
            assert_eq!(err.kind, ParseErrorKind::Checksum);
        }
    }

    #[test]
    fn rfc768_zero_checksum_over_ipv4_means_none_and_is_kept() {
        let bytes = serialize(UdpBuilder::new(V4_A, V4_B, 7, port(9)).without_checksum(), b"abc");
        assert_eq!(&bytes[6..8], &[0, 0]);
        let p = UdpPacket::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap();
        assert!(!p.has_checksum());
        assert_eq!(p.builder().checksum(), UdpChecksum::Omitted);
        assert_eq!(serialize(p.builder(), p.body()), bytes);
    }

    #[test]
    fn rfc8200_8_1_zero_checksum_over_ipv6_is_rejected() {
        let mut bytes = hex(LINUX_V6[0].2);
        bytes[6..8].copy_from_slice(&[0, 0]);
        let err = UdpPacket::parse_bytes(&bytes[..], (V6_A, V6_B)).unwrap_err();
        assert_eq!(err, ParseError::new(Layer::Udp, ParseErrorKind::Checksum));
    }

    #[test]
    fn rfc768_computed_zero_is_sent_as_all_ones() {
        // Two payload bytes equal to the checksum over a zero payload make the sum all ones,
        // so the computed checksum is zero.
        let b = UdpBuilder::new(V6_A, V6_B, 1000, port(2000));
        let with_zero_body = serialize(b, &[0, 0]);
        let bytes = serialize(b, &with_zero_body[6..8]);
        assert_eq!(&bytes[6..8], &[0xff, 0xff]);
        let p = UdpPacket::parse_bytes(&bytes[..], (V6_A, V6_B)).unwrap();
        assert_eq!(serialize(p.builder(), p.body()), bytes);
    }

    #[test]
    fn offload_writes_the_uncomplemented_pseudo_header_sum() {
        let body = b"offloaded";
        let b = UdpBuilder::new(V4_A, V4_B, 1000, port(2000));
        let partial = serialize(b.with_checksum_offload(), body);
        let len = u32::try_from(partial.len()).unwrap();
        let pseudo = pseudo_header_checksum(V4_A, V4_B, IpProto::UDP, len).checksum();
        assert_eq!(u16::from_be_bytes([partial[6], partial[7]]), !pseudo);
        // What the device does: checksum from the UDP header on, stored at CHECKSUM_OFFSET.
        let mut finished = partial.clone();
        let device_sum = checksum(&partial);
        finished[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2].copy_from_slice(&device_sum.to_be_bytes());
        assert_eq!(finished, serialize(b, body));
    }

    #[test]
    fn rfc768_length_below_header_size_is_rejected() {
        for length in [0u8, 7] {
            let mut bytes = hex(LINUX_V4[0].2);
            bytes[4..6].copy_from_slice(&[0, length]);
            let err = UdpPacket::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap_err();
            assert_eq!(err.kind, ParseErrorKind::Length("UDP length below header size"));
        }
    }

    #[test]
    fn rfc768_length_beyond_the_bytes_present_is_truncated() {
        let bytes = hex(LINUX_V4[0].2);
        for len in [0, 7, bytes.len() - 1] {
            let err = UdpPacket::parse_bytes(&bytes[..len], (V4_A, V4_B)).unwrap_err();
            assert_eq!(err, ParseError::truncated(Layer::Udp), "{len} bytes");
        }
    }

    #[test]
    fn bytes_after_length_are_trimmed_and_restored() {
        let datagram = hex(LINUX_V4[1].2);
        let mut padded = datagram.clone();
        padded.extend_from_slice(&[0; 12]);
        let mut buf = Buf::from_body(&padded[..]);
        let p = buf.parse::<UdpPacket<_, _>>((V4_B, V4_A)).unwrap();
        assert_eq!((p.body(), p.padding_len()), (&b"ack:14"[..], 12));
        let meta = p.parse_metadata();
        assert_eq!(buf.body(), b"ack:14");
        buf.undo_parse(meta);
        assert_eq!(buf.body(), &padded[..]);
    }

    #[test]
    fn rfc768_source_port_zero_is_accepted() {
        let bytes = serialize(UdpBuilder::new(V6_A, V6_B, 0, port(53)), b"q");
        let p = UdpPacket::parse_bytes(&bytes[..], (V6_A, V6_B)).unwrap();
        assert_eq!(p.src_port(), 0);
    }

    #[test]
    fn destination_port_zero_is_rejected() {
        // Port 0 is reserved (IANA); build with a valid port, then zero it and fix the sum.
        let mut bytes = serialize(UdpBuilder::new(V4_A, V4_B, 53, port(0x0100)), b"q");
        bytes[2] = 0;
        bytes[6..8].copy_from_slice(&[0, 0]);
        let len = u32::try_from(bytes.len()).unwrap();
        let mut sum = pseudo_header_checksum(V4_A, V4_B, IpProto::UDP, len);
        sum.add_bytes(&bytes);
        bytes[6..8].copy_from_slice(&sum.checksum().to_be_bytes());
        let err = UdpPacket::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap_err();
        assert_eq!(err, ParseError::new(Layer::Udp, ParseErrorKind::Field("UDP destination port 0")));
    }

    #[test]
    fn body_longer_than_the_length_field_allows_is_refused() {
        let body = vec![0u8; MAX_BODY_LEN + 1];
        let err =
            (&body[..]).encapsulate(UdpBuilder::new(V4_A, V4_B, 1, port(2))).serialize_vec().unwrap_err();
        assert_eq!(err, SerializeError::BodyTooLong { len: MAX_BODY_LEN + 1, max: MAX_BODY_LEN });
        let largest = serialize(UdpBuilder::new(V4_A, V4_B, 1, port(2)), &body[1..]);
        assert_eq!(&largest[4..6], &[0xff, 0xff]);
        assert!(UdpPacket::parse_bytes(&largest[..], (V4_A, V4_B)).is_ok());
    }

    fn arb_v4_builder() -> impl Strategy<Value = UdpBuilder<Ipv4Addr>> {
        (any::<[u8; 4]>(), any::<[u8; 4]>(), any::<u16>(), 1u16.., any::<bool>()).prop_map(
            |(s, d, sp, dp, omit)| {
                let b = UdpBuilder::new(Ipv4Addr::new(s), Ipv4Addr::new(d), sp, port(dp));
                if omit {
                    b.without_checksum()
                } else {
                    b
                }
            },
        )
    }

    fn arb_v6_builder() -> impl Strategy<Value = UdpBuilder<Ipv6Addr>> {
        (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<u16>(), 1u16..)
            .prop_map(|(s, d, sp, dp)| UdpBuilder::new(Ipv6Addr::new(s), Ipv6Addr::new(d), sp, port(dp)))
    }

    proptest! {
        #[test]
        fn round_trip_v4(b in arb_v4_builder(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let bytes = serialize(b, &body);
            let p = UdpPacket::parse_bytes(&bytes[..], (b.src_ip, b.dst_ip)).unwrap();
            prop_assert_eq!(p.builder(), b);
            prop_assert_eq!(p.body(), &body[..]);
        }

        #[test]
        fn round_trip_v6(b in arb_v6_builder(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let bytes = serialize(b, &body);
            let p = UdpPacket::parse_bytes(&bytes[..], (b.src_ip, b.dst_ip)).unwrap();
            prop_assert_eq!(p.builder(), b);
            prop_assert_eq!(p.body(), &body[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = UdpPacket::parse_bytes(&bytes[..], (V4_A, V4_B));
            let _ = UdpPacket::parse_bytes(&bytes[..], (V6_A, V6_B));
        }

        #[test]
        fn arbitrary_length_fields_never_panic(length in any::<u16>(), tail in proptest::collection::vec(any::<u8>(), 0..32)) {
            let mut bytes = hex(LINUX_V4[0].2);
            bytes[4..6].copy_from_slice(&length.to_be_bytes());
            bytes.truncate(8);
            bytes.extend_from_slice(&tail);
            let _ = UdpPacket::parse_bytes(&bytes[..], (V4_A, V4_B));
        }
    }
}
