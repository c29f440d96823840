//! TCP segments (RFC 9293 §3.1) over IPv4 and IPv6, with the options of RFC 9293 §3.2,
//! RFC 7323 (Window Scale, Timestamps) and RFC 2018 (SACK), decoded into [`TcpOptions`].
//!
//! The checksum covers a pseudo-header (both IP addresses, the protocol and the segment
//! length, RFC 9293 §3.1), so parsing takes the enclosing IP header's addresses as its
//! arguments and the segment and builder types are generic over the address type.
//!
//! Parsing checks that the data offset is at least 5 and within the segment, verifies the
//! checksum, and decodes the options into a fixed [`TcpOptions`]; the raw option bytes stay
//! available. A builder made with [`TcpBuilder::with_options`] writes the options in Linux's
//! layout, so Linux's segments come out byte for byte as Linux sends them; the builder of a
//! parsed segment carries a copy of its option bytes, so any segment re-serializes byte for
//! byte.
//!
//! # Linux's option layout
//!
//! The SYN and established layouts are those of the segments in
//! `tests/vectors/tcp_sack_ts.pcap`; the rows for option sets that capture lacks (no
//! Timestamps) follow the same rules, as Linux writes them. Every option starts on a 32-bit
//! boundary, with NOPs in front as padding, in this order:
//!
//! | option                         | bytes                            |
//! |--------------------------------|----------------------------------|
//! | MSS                            | `02 04 mm mm`                    |
//! | Timestamps with SACK-Permitted | `04 02 08 0a` TSval TSecr        |
//! | Timestamps alone               | `01 01 08 0a` TSval TSecr        |
//! | SACK-Permitted without TS      | `01 01 04 02`                    |
//! | Window Scale                   | `01 03 03 ss`                    |
//! | SACK with n blocks             | `01 01 05 (2+8n)` (left right)×n |
//!
//! A SYN with everything is thus `MSS, SACK-Permitted, TS, NOP, WS` (20 bytes) and an
//! established segment `NOP, NOP, TS` followed by `NOP, NOP, SACK` when it carries SACK
//! blocks. The layout leaves room for 4 SACK blocks without Timestamps and 3 with them
//! (RFC 2018 §3); [`TcpBuilder::with_options`] refuses sets that do not fit.

mod options;

pub use options::{
    SackBlock, SackBlocks, TcpOptions, TcpOptionsTooLong, TcpTimestamp, MAX_OPTIONS_LEN, MAX_WINDOW_SCALE,
};

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Ref, Unaligned};

use self::options::OptionBytes;
use super::{pseudo_header_checksum, IpProto, Layer, ParseError, ParseErrorKind};
use crate::addr::{Ip, IpAddress, IpVersion};
use crate::buf::{
    header_mut, PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView,
    SerializeTarget,
};

/// Length of the fixed header (data offset 5).
pub const HEADER_LEN: usize = 20;
/// Length of the longest header: data offset 15 (RFC 9293 §3.1).
pub const MAX_HEADER_LEN: usize = HEADER_LEN + MAX_OPTIONS_LEN;
/// Offset of the checksum field from the start of the TCP header: where a device finishing an
/// offloaded checksum stores it (a virtio-net header's `csum_offset`).
pub const CHECKSUM_OFFSET: usize = 16;
/// The smallest valid data offset, in 32-bit words (RFC 9293 §3.1).
const MIN_DATA_OFFSET: u8 = 5;
/// The four Rsrvd bits between the data offset and the control bits (RFC 9293 §3.1).
const RESERVED_MASK: u8 = 0x0f;

#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Header {
    src_port: U16,
    dst_port: U16,
    seq: U32,
    ack: U32,
    /// Data offset (high 4 bits) and the reserved bits (low 4 bits).
    data_offset_reserved: u8,
    flags: u8,
    window: U16,
    checksum: U16,
    urgent_ptr: U16,
}

/// The eight control bits of RFC 9293 §3.1 (CWR and ECE from RFC 3168 §6.1).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: Self = Self(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: Self = Self(0x02);
    /// Reset the connection.
    pub const RST: Self = Self(0x04);
    /// Push function.
    pub const PSH: Self = Self(0x08);
    /// The acknowledgment number is significant.
    pub const ACK: Self = Self(0x10);
    /// The urgent pointer is significant.
    pub const URG: Self = Self(0x20);
    /// ECN-Echo (RFC 3168 §6.1).
    pub const ECE: Self = Self(0x40);
    /// Congestion Window Reduced (RFC 3168 §6.1).
    pub const CWR: Self = Self(0x80);
    /// No flag.
    pub const EMPTY: Self = Self(0);

    /// Names in wire order from the lowest bit, for `Debug`.
    const NAMES: [&'static str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];

    /// The flags of a control-bits byte.
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The control-bits byte.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for TcpFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = Self;

    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl fmt::Debug for TcpFlags {
    /// `SYN|ACK`, or `(empty)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(empty)");
        }
        let set = Self::NAMES.iter().enumerate().filter(|&(bit, _)| self.0 & (1 << bit) != 0);
        for (i, (_, name)) in set.enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// A parsed TCP segment whose header length, checksum and options were validated against the
/// pseudo-header addresses it was parsed with.
#[derive(Debug)]
pub struct TcpSegment<B: PacketBytes, A: IpAddress> {
    header: Ref<B, Header>,
    option_bytes: B,
    options: TcpOptions,
    body: B,
    src_ip: A,
    dst_ip: A,
}

impl<B: PacketBytes, A: IpAddress> ParsablePacket<B> for TcpSegment<B, A> {
    /// The source and destination addresses of the enclosing IP header, in that order.
    type Args = (A, A);
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, (src_ip, dst_ip): (A, A)) -> Result<Self, ParseError> {
        let segment_len = u32::try_from(view.len()).map_err(|_| {
            ParseError::new(Layer::Tcp, ParseErrorKind::Length("segment longer than 2^32 bytes"))
        })?;
        let header = view.take_obj_front::<Header>().ok_or(ParseError::truncated(Layer::Tcp))?;
        // RFC 9293 §3.1: the data offset counts 32-bit words of header, at least the 5 of the
        // fixed part.
        let data_offset = header.data_offset_reserved >> 4;
        if data_offset < MIN_DATA_OFFSET {
            return Err(ParseError::new(Layer::Tcp, ParseErrorKind::Length("data offset below 5")));
        }
        let options_len = usize::from(data_offset - MIN_DATA_OFFSET) * 4;
        let option_bytes = view.take_front(options_len).ok_or(ParseError::truncated(Layer::Tcp))?;
        let body = view.take_rest();

        // RFC 9293 §3.1: the checksum covers the pseudo-header, the header and the data.
        let mut sum = pseudo_header_checksum(src_ip, dst_ip, IpProto::TCP, segment_len);
        sum.add_bytes(header.as_bytes());
        sum.add_bytes(&option_bytes);
        sum.add_bytes(&body);
        if sum.checksum() != 0 {
            return Err(ParseError::new(Layer::Tcp, ParseErrorKind::Checksum));
        }

        let options = TcpOptions::parse(&option_bytes)?;
        Ok(Self { header, option_bytes, options, body, src_ip, dst_ip })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata { header_len: self.header_len(), body_len: self.body.len(), footer_len: 0 }
    }
}

impl<B: PacketBytes, A: IpAddress> TcpSegment<B, A> {
    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.header.src_port.get()
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.header.dst_port.get()
    }

    /// Sequence number.
    pub fn seq_num(&self) -> u32 {
        self.header.seq.get()
    }

    /// Acknowledgment number, significant only when [`TcpFlags::ACK`] is set.
    pub fn ack_num(&self) -> u32 {
        self.header.ack.get()
    }

    /// The control bits. The reserved bits are not among them: receivers ignore them
    /// (RFC 9293 §3.1).
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.header.flags)
    }

    /// The four reserved bits (RFC 9293 §3.1), zero from a conforming sender.
    pub fn reserved_bits(&self) -> u8 {
        self.header.data_offset_reserved & RESERVED_MASK
    }

    /// Window, unscaled.
    pub fn window(&self) -> u16 {
        self.header.window.get()
    }

    /// Urgent pointer, significant only when [`TcpFlags::URG`] is set.
    pub fn urgent_ptr(&self) -> u16 {
        self.header.urgent_ptr.get()
    }

    /// Header length in bytes, options included (the data offset × 4).
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.option_bytes.len()
    }

    /// The decoded options.
    pub fn options(&self) -> &TcpOptions {
        &self.options
    }

    /// The options area as received, padding included.
    pub fn option_bytes(&self) -> &[u8] {
        &self.option_bytes
    }

    /// The payload.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A builder that writes this segment's header again, byte for byte: it carries a copy
    /// of the received option bytes (whatever their layout: Linux's, another OS's, unknown
    /// options, EOL padding) and writes them unchanged. The reserved bits are kept too.
    pub fn builder(&self) -> TcpBuilder<A> {
        TcpBuilder {
            src_ip: self.src_ip,
            dst_ip: self.dst_ip,
            src_port: self.src_port(),
            dst_port: self.dst_port(),
            seq_num: self.seq_num(),
            ack_num: self.ack_num(),
            flags: self.flags(),
            window: self.window(),
            urgent_ptr: self.urgent_ptr(),
            checksum_offload: false,
            reserved_bits: self.reserved_bits(),
            options: self.options,
            option_bytes: OptionBytes::copy_of(self.option_bytes()),
        }
    }
}

/// Writes a TCP header around a payload, computing the checksum from it.
///
/// Options are set with [`with_options`](Self::with_options), which refuses sets that do not
/// fit the header, so every builder describes a valid segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpBuilder<A: IpAddress> {
    /// Source address of the enclosing IP header (pseudo-header).
    pub src_ip: A,
    /// Destination address of the enclosing IP header (pseudo-header).
    pub dst_ip: A,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_num: u32,
    /// Acknowledgment number (sent as is; RFC 9293 §3.1 makes it significant only with ACK).
    pub ack_num: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Window, already scaled down.
    pub window: u16,
    /// Urgent pointer.
    pub urgent_ptr: u16,
    /// Leave the checksum to the device. The field then holds the pseudo-header sum: the
    /// one's-complement sum of source address, destination address, protocol and TCP length,
    /// folded to 16 bits and *not* complemented, in network byte order (Linux's
    /// `CHECKSUM_PARTIAL` convention). The device sums the segment from the start of the TCP
    /// header (this field included) to its end, complements the result and stores it at
    /// [`CHECKSUM_OFFSET`].
    pub checksum_offload: bool,
    /// Reserved bits: zero unless copied from a received segment.
    reserved_bits: u8,
    options: TcpOptions,
    /// What is written after the fixed header: `options` in Linux's layout, or a received
    /// segment's option bytes (which decode to `options`).
    option_bytes: OptionBytes,
}

impl<A: IpAddress> TcpBuilder<A> {
    /// A header with the given addresses and ports, everything else zero: no flags, no
    /// options, checksum computed in software.
    pub const fn new(src_ip: A, dst_ip: A, src_port: u16, dst_port: u16) -> Self {
        Self {
            src_ip,
            dst_ip,
            src_port,
            dst_port,
            seq_num: 0,
            ack_num: 0,
            flags: TcpFlags::EMPTY,
            window: 0,
            urgent_ptr: 0,
            checksum_offload: false,
            reserved_bits: 0,
            options: TcpOptions::NONE,
            option_bytes: OptionBytes::EMPTY,
        }
    }

    /// The same header with `options`, written in Linux's layout; an error if they need more
    /// than [`MAX_OPTIONS_LEN`] bytes (e.g. 4 SACK blocks with Timestamps, RFC 2018 §3).
    pub fn with_options(self, options: TcpOptions) -> Result<Self, TcpOptionsTooLong> {
        let option_bytes = options.linux_layout()?;
        Ok(Self { options, option_bytes, ..self })
    }

    /// The options.
    pub fn options(&self) -> &TcpOptions {
        &self.options
    }

    /// The option bytes that will be written after the fixed header.
    pub fn option_bytes(&self) -> &[u8] {
        self.option_bytes.as_slice()
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.option_bytes.as_slice().len()
    }
}

impl<A: IpAddress> PacketBuilder for TcpBuilder<A> {
    fn constraints(&self) -> PacketConstraints {
        // The pseudo-header's length field: 16 bits over IPv4 (RFC 9293 §3.1), 32 over IPv6
        // (RFC 8200 §8.1).
        let max_segment_len = match <A::Version as Ip>::VERSION {
            IpVersion::V4 => usize::from(u16::MAX),
            IpVersion::V6 => usize::try_from(u32::MAX).unwrap_or(usize::MAX),
        };
        let header_len = self.header_len();
        PacketConstraints {
            header_len,
            footer_len: 0,
            min_body_len: 0,
            max_body_len: max_segment_len - header_len,
        }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        let header_len = self.header_len();
        // At most 60 bytes: 15 words.
        let data_offset = (header_len / 4) as u8;
        let mut header = Header {
            src_port: U16::new(self.src_port),
            dst_port: U16::new(self.dst_port),
            seq: U32::new(self.seq_num),
            ack: U32::new(self.ack_num),
            data_offset_reserved: (data_offset << 4) | (self.reserved_bits & RESERVED_MASK),
            flags: self.flags.bits(),
            window: U16::new(self.window),
            checksum: U16::ZERO,
            urgent_ptr: U16::new(self.urgent_ptr),
        };
        // `Buf::encapsulate` enforces `max_body_len`, so the length fits the pseudo-header.
        let segment_len = u32::try_from(header_len + body.len()).unwrap_or(u32::MAX);
        let pseudo = pseudo_header_checksum(self.src_ip, self.dst_ip, IpProto::TCP, segment_len);
        let checksum = if self.checksum_offload {
            !pseudo.checksum()
        } else {
            let mut sum = pseudo;
            sum.add_bytes(header.as_bytes());
            sum.add_bytes(self.option_bytes.as_slice());
            sum.add_bytes(body);
            sum.checksum()
        };
        header.checksum = U16::new(checksum);
        let (fixed, options) = target.header.split_at_mut(HEADER_LEN);
        *header_mut(fixed) = header;
        options.copy_from_slice(self.option_bytes.as_slice());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4Addr, Ipv6Addr};
    use crate::buf::{Buf, SerializeError, Serializer};
    use crate::testutil::vectors;
    use crate::wire::checksum::checksum;
    use crate::wire::ethernet::EthernetFrame;
    use crate::wire::test_data::{hex, V4_A, V4_B, V6_A, V6_B};
    use crate::wire::EtherType;
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use alloc::vec::Vec;
    use options::tests::arb_options;
    use proptest::prelude::*;

    /// Segments of tests/vectors/tcp_sack_ts.pcap (TCP bytes from offset 34 of the frame:
    /// Ethernet, then IPv4 with IHL 5), sent by A (192.0.2.1) or B (192.0.2.2).
    const SYN: (usize, bool, &str) =
        (1, true, "99b01389372302d100000000a002faf008690000020405b40402080ad165080c000000000103030a");
    const SYN_ACK: (usize, bool, &str) =
        (2, false, "138999b038c1276c372302d2a012fe88154c0000020405b40402080a67e52761d165080c0103030a");
    const HANDSHAKE_ACK: (usize, bool, &str) =
        (3, true, "99b01389372302d238c1276d8010003f426500000101080ad165080c67e52761");
    const SACK_1: (usize, bool, &str) = (
        89,
        false,
        "138999b038c1276d372435bab0100061ee8b00000101080a67e52762d165080d0101050a37243b623724410a",
    );
    const SACK_2: (usize, bool, &str) = (
        262,
        false,
        "138999b038c1276d37264e22d01001872ffe00000101080a67e52762d165080d01010512\
         37266a6a37267012372653ca372664c2",
    );
    const DATA: (usize, bool, &str) = (
        1080,
        false,
        "138999b038c1276d373245138018045814b000000101080a67e52765d1650810\
         676f7420313030303030302062797465730a",
    );
    const FIN_ACK: (usize, bool, &str) =
        (1082, false, "138999b038c1277f3732451380110458fbe000000101080a67e52765d1650810");
    const LAST_ACK: (usize, bool, &str) =
        (1083, true, "99b013893732451338c127808010003ffff900000101080ad165081067e52765");
    const LINUX: [(usize, bool, &str); 8] =
        [SYN, SYN_ACK, HANDSHAKE_ACK, SACK_1, SACK_2, DATA, FIN_ACK, LAST_ACK];

    fn addrs(from_a: bool) -> (Ipv4Addr, Ipv4Addr) {
        if from_a {
            (V4_A, V4_B)
        } else {
            (V4_B, V4_A)
        }
    }

    fn parse(vector: (usize, bool, &str)) -> (Vec<u8>, TcpBuilder<Ipv4Addr>, Vec<u8>) {
        let bytes = hex(vector.2);
        let segment = TcpSegment::parse_bytes(&bytes[..], addrs(vector.1)).unwrap();
        let (builder, body) = (segment.builder(), segment.body().to_vec());
        (bytes, builder, body)
    }

    fn serialize<A: IpAddress>(b: TcpBuilder<A>, body: &[u8]) -> Vec<u8> {
        body.encapsulate(b).serialize_vec().unwrap().into_inner()
    }

    /// Parses `bytes` in a buffer, then writes the payload that stayed in the buffer back
    /// around the recovered builder.
    fn reserialize<A: IpAddress>(bytes: &[u8], src: A, dst: A) -> (TcpBuilder<A>, Vec<u8>) {
        let mut buf = Buf::from_body(bytes);
        let builder = buf.parse::<TcpSegment<_, A>>((src, dst)).unwrap().builder();
        (builder, serialize(builder, buf.body()))
    }

    /// Recomputes the checksum of a hand-made IPv4 segment from A to B.
    fn fix_checksum(segment: &mut [u8]) {
        segment[16..18].copy_from_slice(&[0, 0]);
        let mut sum = pseudo_header_checksum(V4_A, V4_B, IpProto::TCP, segment.len() as u32);
        sum.add_bytes(segment);
        segment[16..18].copy_from_slice(&sum.checksum().to_be_bytes());
    }

    /// A segment from A to B with the given options area (a multiple of 4 bytes) and payload.
    fn with_raw_options(options: &[u8], body: &[u8]) -> Vec<u8> {
        let mut segment = hex(HANDSHAKE_ACK.2)[..HEADER_LEN].to_vec();
        segment[12] = (((HEADER_LEN + options.len()) / 4) as u8) << 4;
        segment.extend_from_slice(options);
        segment.extend_from_slice(body);
        fix_checksum(&mut segment);
        segment
    }

    fn linux_layout_used(b: &TcpBuilder<impl IpAddress>) -> bool {
        b.options().linux_layout().is_ok_and(|linux| linux.as_slice() == b.option_bytes())
    }

    fn parse_error(bytes: &[u8]) -> ParseError {
        TcpSegment::parse_bytes(bytes, (V4_A, V4_B)).unwrap_err()
    }

    #[test]
    fn linux_segments_reserialize_byte_for_byte_in_linux_layout() {
        for (frame, from_a, tcp) in LINUX {
            let bytes = hex(tcp);
            let (src, dst) = addrs(from_a);
            let (builder, again) = reserialize(&bytes, src, dst);
            assert_eq!(again, bytes, "frame {frame}");
            assert!(linux_layout_used(&builder), "frame {frame} fell back to verbatim options");
        }
    }

    #[test]
    fn linux_syn_fields() {
        let (_, b, body) = parse(SYN);
        assert_eq!((b.src_port, b.dst_port, b.seq_num, b.ack_num), (39344, 5001, 0x3723_02d1, 0));
        assert_eq!((b.flags, b.window, b.urgent_ptr), (TcpFlags::SYN, 64240, 0));
        let expected = TcpOptions {
            mss: Some(1460),
            window_scale: Some(10),
            sack_permitted: true,
            timestamp: Some(TcpTimestamp { value: 0xd165_080c, echo_reply: 0 }),
            sack_blocks: SackBlocks::EMPTY,
        };
        assert_eq!(*b.options(), expected);
        assert_eq!(b.header_len(), 40);
        assert!(body.is_empty());
        let (_, syn_ack, _) = parse(SYN_ACK);
        assert_eq!(syn_ack.flags, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(syn_ack.ack_num, 0x3723_02d2);
    }

    #[test]
    fn linux_sack_blocks_are_decoded() {
        let (_, one, _) = parse(SACK_1);
        assert_eq!(
            one.options().sack_blocks.as_slice(),
            &[SackBlock { left: 0x3724_3b62, right: 0x3724_410a }]
        );
        let (_, two, _) = parse(SACK_2);
        assert_eq!(
            two.options().sack_blocks.as_slice(),
            &[
                SackBlock { left: 0x3726_6a6a, right: 0x3726_7012 },
                SackBlock { left: 0x3726_53ca, right: 0x3726_64c2 },
            ]
        );
        assert_eq!(
            two.options().timestamp,
            Some(TcpTimestamp { value: 0x67e5_2762, echo_reply: 0xd165_080d })
        );
        assert_eq!(two.header_len(), 52);
    }

    #[test]
    fn linux_data_and_fin_segments() {
        let (bytes, data, body) = parse(DATA);
        assert_eq!(data.flags, TcpFlags::PSH | TcpFlags::ACK);
        assert_eq!(body, b"got 1000000 bytes\n");
        let mut buf = Buf::from_body(&bytes[..]);
        let meta = buf.parse::<TcpSegment<_, _>>(addrs(DATA.1)).unwrap().parse_metadata();
        assert_eq!(meta, ParseMetadata { header_len: 32, body_len: 18, footer_len: 0 });
        buf.undo_parse(meta);
        assert_eq!(buf.body(), &bytes[..]);
        let (_, fin, _) = parse(FIN_ACK);
        assert_eq!(fin.flags, TcpFlags::FIN | TcpFlags::ACK);
    }

    /// Every frame of the capture parses and re-serializes byte for byte with Linux's option
    /// layout, and the capture holds every layout the README describes.
    #[test]
    fn every_frame_of_tcp_sack_ts_pcap_reserializes_byte_for_byte() {
        let mut layouts: BTreeMap<usize, usize> = BTreeMap::new();
        let mut frames = 0;
        for frame in vectors::frames(vectors::TCP_SACK_TS) {
            frames += 1;

            let mut buf = Buf::from_body(frame);
            let eth = buf.parse::<EthernetFrame<_>>(()).unwrap();
            assert_eq!(eth.ethertype(), EtherType::IPV4);
            let ip = buf.body();
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            assert_eq!((ip[9], total_len), (6, ip.len()), "frame {frames}");
            let src = Ipv4Addr::new(ip[12..16].try_into().unwrap());
            let dst = Ipv4Addr::new(ip[16..20].try_into().unwrap());
            let tcp = &ip[ihl..];

            let (builder, again) = reserialize(tcp, src, dst);
            assert_eq!(again, tcp, "frame {frames}");
            assert!(linux_layout_used(&builder), "frame {frames}");
            *layouts.entry(builder.header_len()).or_default() += 1;
        }
        assert_eq!(frames, 1083);
        // SYN and SYN/ACK (40), NOP NOP TS (32), with 1 SACK block (44), with 2 (52).
        assert_eq!(layouts.keys().copied().collect::<Vec<_>>(), [32, 40, 44, 52]);
        assert_eq!((layouts[&40], layouts[&44], layouts[&52]), (2, 83, 18));
    }

    #[test]
    fn rfc9293_3_1_header_shorter_than_20_bytes_is_truncated() {
        let bytes = hex(HANDSHAKE_ACK.2);
        for len in [0, 1, 19] {
            assert_eq!(parse_error(&bytes[..len]), ParseError::truncated(Layer::Tcp));
        }
    }

    #[test]
    fn rfc9293_3_1_data_offset_below_5_is_rejected() {
        for data_offset in 0..5u8 {
            let mut bytes = with_raw_options(&[], b"payload");
            bytes[12] = data_offset << 4;
            fix_checksum(&mut bytes);
            let err = parse_error(&bytes);
            assert_eq!(err, ParseError::new(Layer::Tcp, ParseErrorKind::Length("data offset below 5")));
        }
    }

    #[test]
    fn rfc9293_3_1_data_offset_beyond_the_segment_is_truncated() {
        let mut bytes = hex(SYN.2);
        // 40 bytes present, data offset 11 words claims 44.
        bytes[12] = 11 << 4;
        assert_eq!(parse_error(&bytes), ParseError::truncated(Layer::Tcp));
        let full = hex(SYN.2);
        assert_eq!(parse_error(&full[..36]), ParseError::truncated(Layer::Tcp));
    }

    #[test]
    fn rfc9293_3_1_bad_checksum_is_rejected() {
        for (_, from_a, tcp) in LINUX {
            let mut bytes = hex(tcp);
            *bytes.last_mut().unwrap() ^= 1;
            let err = TcpSegment::parse_bytes(&bytes[..], addrs(from_a)).unwrap_err();
            assert_eq!(err, ParseError::new(Layer::Tcp, ParseErrorKind::Checksum));
        }
    }

    #[test]
    fn rfc9293_3_1_checksum_covers_the_pseudo_header() {
        let bytes = hex(SYN.2);
        let err = TcpSegment::parse_bytes(&bytes[..], (V4_A, Ipv4Addr::new([192, 0, 2, 3]))).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Checksum);
    }

    #[test]
    fn rfc9293_3_1_malformed_options_reject_the_segment() {
        // Each rule has its own test in `options`; here the error reaches the segment parser.
        let bytes = with_raw_options(&hex("020305 01"), b"");
        assert_eq!(
            parse_error(&bytes),
            ParseError::new(Layer::Tcp, ParseErrorKind::Option("MSS length is not 4"))
        );
        let bytes = with_raw_options(&hex("01 2201 01"), b"");
        assert_eq!(parse_error(&bytes).kind, ParseErrorKind::Option("option length below 2"));
    }

    #[test]
    fn rfc7323_2_3_window_scale_above_14_survives_the_round_trip() {
        let bytes = with_raw_options(&hex("020405b4 0103030f"), b"");
        let segment = TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap();
        assert_eq!(segment.options().window_scale, Some(15));
        assert_eq!(segment.options().window_scale_shift(), Some(14));
        assert_eq!(serialize(segment.builder(), segment.body()), bytes);
    }

    #[test]
    fn other_os_option_layouts_are_rebuilt_verbatim() {
        // A Windows-style SYN: MSS, NOP, WS, NOP, NOP, SACK-Permitted.
        let windows = hex("020405b4 01030308 01010402");
        // A macOS-style SYN: MSS, NOP, WS, NOP, NOP, TS, SACK-Permitted, EOL, EOL.
        let macos = hex("020405b4 01030306 0101080a 11223344 00000000 04020000");
        for options in [windows, macos] {
            let bytes = with_raw_options(&options, b"");
            let segment = TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap();
            assert_eq!(segment.options().mss, Some(1460));
            assert!(segment.options().sack_permitted);
            let builder = segment.builder();
            assert!(!linux_layout_used(&builder));
            assert_eq!(builder.option_bytes(), &options[..]);
            assert_eq!(serialize(builder, b""), bytes);
            assert_eq!(TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap().builder(), builder);
        }
    }

    #[test]
    fn rfc9293_3_2_unknown_options_are_kept_verbatim() {
        // A TCP Fast Open cookie (kind 34, RFC 7413) after Linux's timestamp.
        let options = hex("0101080a 00000001 00000002 220a0102 03040506 07080000");
        let bytes = with_raw_options(&options, b"early data");
        let (builder, again) = reserialize(&bytes, V4_A, V4_B);
        assert_eq!(builder.options().timestamp, Some(TcpTimestamp { value: 1, echo_reply: 2 }));
        assert_eq!(again, bytes);
    }

    #[test]
    fn rfc9293_3_1_reserved_bits_are_ignored_but_kept() {
        let mut bytes = hex(HANDSHAKE_ACK.2);
        bytes[12] |= 0x0f;
        fix_checksum(&mut bytes);
        let segment = TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap();
        assert_eq!(segment.flags(), TcpFlags::ACK);
        assert_eq!(segment.reserved_bits(), 0x0f);
        assert_eq!(serialize(segment.builder(), segment.body()), bytes);
    }

    #[test]
    fn offload_writes_the_uncomplemented_pseudo_header_sum() {
        let (_, linux, body) = parse(DATA);
        let partial = serialize(TcpBuilder { checksum_offload: true, ..linux }, &body);
        let pseudo = pseudo_header_checksum(V4_B, V4_A, IpProto::TCP, partial.len() as u32).checksum();
        assert_eq!(u16::from_be_bytes([partial[16], partial[17]]), !pseudo);
        // What the device does: checksum from the TCP header on, stored at CHECKSUM_OFFSET.
        let mut finished = partial.clone();
        finished[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2].copy_from_slice(&checksum(&partial).to_be_bytes());
        assert_eq!(finished, hex(DATA.2));
    }

    #[test]
    fn rfc2018_3_option_sets_that_do_not_fit_are_refused() {
        let timestamp = Some(TcpTimestamp { value: 1, echo_reply: 2 });
        let blocks: Vec<SackBlock> = (0..4).map(|i| SackBlock { left: i, right: i + 1 }).collect();
        let four =
            TcpOptions { timestamp, sack_blocks: SackBlocks::new(&blocks).unwrap(), ..TcpOptions::NONE };
        let b = TcpBuilder::new(V4_A, V4_B, 1, 2);
        assert_eq!(b.with_options(four), Err(TcpOptionsTooLong { len: 48 }));
        let three = TcpOptions { sack_blocks: SackBlocks::new(&blocks[..3]).unwrap(), ..four };
        let b = b.with_options(three).unwrap();
        assert_eq!(b.header_len(), MAX_HEADER_LEN);
        let bytes = serialize(b, b"");
        assert_eq!(bytes[12] >> 4, 15);
        assert_eq!(TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B)).unwrap().builder(), b);
    }

    #[test]
    fn rfc9293_3_1_a_computed_zero_checksum_is_sent_as_zero() {
        // Unlike UDP, TCP has no "no checksum" value, so no 0 -> 0xffff substitution. Two
        // payload bytes equal to the checksum over a zero payload make the computed sum zero.
        let b = TcpBuilder { flags: TcpFlags::ACK, ..TcpBuilder::new(V4_A, V4_B, 1000, 2000) };
        let zero_body = serialize(b, &[0, 0]);
        let bytes = serialize(b, &zero_body[16..18]);
        assert_eq!(&bytes[16..18], &[0, 0]);
        assert!(TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B)).is_ok());
    }

    #[test]
    fn ipv4_pseudo_header_length_limits_the_body() {
        let b = TcpBuilder::new(V4_A, V4_B, 1, 2);
        let body = vec![0u8; usize::from(u16::MAX) - HEADER_LEN + 1];
        let err = (&body[..]).encapsulate(b).serialize_vec().unwrap_err();
        assert_eq!(err, SerializeError::BodyTooLong { len: body.len(), max: body.len() - 1 });
        let v6 = TcpBuilder::new(V6_A, V6_B, 1, 2);
        assert!((&body[..]).encapsulate(v6).serialize_vec().is_ok());
    }

    #[test]
    fn flags_debug_lists_names() {
        extern crate std;
        use std::format;
        assert_eq!(format!("{:?}", TcpFlags::SYN | TcpFlags::ACK), "SYN|ACK");
        assert_eq!(format!("{:?}", TcpFlags::from_bits(0xff)), "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");
        assert_eq!(format!("{:?}", TcpFlags::EMPTY), "(empty)");
        let fin_ack = TcpFlags::FIN | TcpFlags::ACK;
        assert!(fin_ack.contains(TcpFlags::ACK) && !fin_ack.contains(TcpFlags::SYN | TcpFlags::ACK));
        assert!(fin_ack.intersects(TcpFlags::SYN | TcpFlags::FIN));
        assert_eq!(fin_ack & TcpFlags::FIN, TcpFlags::FIN);
    }

    fn arb_builder<A: IpAddress + core::fmt::Debug>(
        addr: impl Strategy<Value = A> + Clone,
    ) -> impl Strategy<Value = TcpBuilder<A>> {
        let fields =
            (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>(), any::<u8>(), any::<u16>(), any::<u16>());
        (addr.clone(), addr, fields, arb_options()).prop_filter_map(
            "options must fit",
            |(src, dst, (sp, dp, seq, ack, flags, window, urg), options)| {
                let b = TcpBuilder {
                    seq_num: seq,
                    ack_num: ack,
                    flags: TcpFlags::from_bits(flags),
                    window,
                    urgent_ptr: urg,
                    ..TcpBuilder::new(src, dst, sp, dp)
                };
                b.with_options(options).ok()
            },
        )
    }

    proptest! {
        #[test]
        fn round_trip_v4(b in arb_builder(any::<[u8; 4]>().prop_map(Ipv4Addr::new)), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let bytes = serialize(b, &body);
            let segment = TcpSegment::parse_bytes(&bytes[..], (b.src_ip, b.dst_ip)).unwrap();
            prop_assert_eq!(segment.builder(), b);
            prop_assert_eq!(segment.body(), &body[..]);
        }

        #[test]
        fn round_trip_v6(b in arb_builder(any::<[u8; 16]>().prop_map(Ipv6Addr::new)), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let bytes = serialize(b, &body);
            let segment = TcpSegment::parse_bytes(&bytes[..], (b.src_ip, b.dst_ip)).unwrap();
            prop_assert_eq!(segment.builder(), b);
            prop_assert_eq!(segment.body(), &body[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B));
            let _ = TcpSegment::parse_bytes(&bytes[..], (V6_A, V6_B));
        }

        /// Any options area that parses, in any layout, re-serializes exactly.
        #[test]
        fn arbitrary_options_never_panic_and_reserialize_exactly(words in 0usize..=10, seed in proptest::collection::vec(any::<u8>(), 40), body in proptest::collection::vec(any::<u8>(), 0..8)) {
            let bytes = with_raw_options(&seed[..words * 4], &body);
            if let Ok(segment) = TcpSegment::parse_bytes(&bytes[..], (V4_A, V4_B)) {
                prop_assert_eq!(serialize(segment.builder(), segment.body()), bytes);
            }
        }
    }
}
