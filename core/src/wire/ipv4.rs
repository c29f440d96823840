//! IPv4 packets (RFC 791) with the receive checks of RFC 1122 §3.2.1, and the IP-version
//! generic surface that IPv6 shares: the [`IpPacket`] trait, the DS field ([`Dscp`], [`Ecn`])
//! and [`FragmentOffset`].
//!
//! * [`Ipv4Packet`] validates version, IHL, total length, the header checksum and the option
//!   list (RFC 791 §3.1, RFC 1122 §3.2.1.1–§3.2.1.8), trims link-layer padding and leaves the
//!   buffer's body on the payload. A mutably parsed packet can have its TTL decremented in
//!   place for forwarding with an incremental checksum update (RFC 1624).
//! * [`Ipv4Builder`] writes a header with any options (borrowed, at most 40 bytes) and
//!   computes the total length and header checksum; [`Ipv4Builder::fragment`] derives the
//!   header of each fragment (RFC 791 §3.2).
//! * Options are walked lazily from the borrowed header bytes: End of Option List, No
//!   Operation, Router Alert (RFC 2113) and every other option as type and data.

use zerocopy::network_endian::U16;
use zerocopy::{ByteSliceMut, FromBytes, Immutable, IntoBytes, KnownLayout, Ref, Unaligned};

use super::checksum::{self, Checksum};
use super::{IpProto, Layer, ParameterProblemCode, ParseError, ParseErrorKind, ProblemAction};
use crate::addr::{Ip, Ipv4, Ipv4Addr};
use crate::buf::{
    header_mut, PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView,
    SerializeTarget,
};

/// Length of the header without options (IHL 5).
pub const HEADER_LEN: usize = 20;
/// Most bytes of options a header can carry: IHL is at most 15 words (RFC 791 §3.1).
pub const MAX_OPTIONS_LEN: usize = 40;
/// Length of the longest header.
pub const MAX_HEADER_LEN: usize = HEADER_LEN + MAX_OPTIONS_LEN;
/// Largest datagram: Total Length is a 16-bit field (RFC 791 §3.1).
pub const MAX_PACKET_LEN: usize = 65535;

/// The Version field of an IPv4 header.
const VERSION: u8 = 4;
/// Flags field (RFC 791 §3.1): bit 0 reserved, must be zero.
const FLAG_RESERVED: u16 = 0x8000;
/// Flags field: Don't Fragment.
const FLAG_DONT_FRAGMENT: u16 = 0x4000;
/// Flags field: More Fragments.
const FLAG_MORE_FRAGMENTS: u16 = 0x2000;

/// Option type 0, End of Option List (RFC 791 §3.1); also the padding octet.
const OPTION_END_OF_LIST: u8 = 0;
/// Option type 1, No Operation (RFC 791 §3.1).
const OPTION_NO_OPERATION: u8 = 1;
/// Option type 148, Router Alert (RFC 2113 §2.1): copied, class 0, number 20.
const OPTION_ROUTER_ALERT: u8 = 148;
/// Bit of the option type saying the option is copied into every fragment (RFC 791 §3.1).
const OPTION_COPIED: u8 = 0x80;

#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Header {
    version_ihl: u8,
    ds_field: u8,
    total_len: U16,
    id: U16,
    flags_fragment_offset: U16,
    ttl: u8,
    proto: u8,
    checksum: U16,
    src: [u8; 4],
    dst: [u8; 4],
}

impl Header {
    /// The header length the IHL field gives, after checking the version (RFC 1122
    /// §3.2.1.1: silently discard a datagram whose version is not 4) and that the IHL is at
    /// least the minimum of 5 words (RFC 791 §3.1).
    fn checked_header_len(&self) -> Result<usize, ParseError> {
        if self.version_ihl >> 4 != VERSION {
            return Err(ParseError::new(Layer::Ipv4, ParseErrorKind::Field("version")));
        }
        let header_len = usize::from(self.version_ihl & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(ParseError::new(Layer::Ipv4, ParseErrorKind::Length("IHL below 5")));
        }
        Ok(header_len)
    }
}

/// A Differentiated Services codepoint (RFC 2474 §3): the upper six bits of the IPv4 TOS octet
/// and of the IPv6 Traffic Class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dscp(u8);

impl Dscp {
    /// Codepoint 0, default forwarding (RFC 2474 §4.1).
    pub const DEFAULT: Self = Self(0);

    /// The codepoint `value`, or `None` if it does not fit six bits.
    pub const fn new(value: u8) -> Option<Self> {
        if value < 64 {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The codepoint, 0..=63.
    pub const fn value(self) -> u8 {
        self.0
    }
}

/// The ECN field (RFC 3168 §5): the low two bits of the IPv4 TOS octet and of the IPv6
/// Traffic Class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ecn {
    /// `00`: the transport is not ECN-capable.
    #[default]
    NotEct,
    /// `01`: ECN-capable transport, ECT(1).
    Ect1,
    /// `10`: ECN-capable transport, ECT(0).
    Ect0,
    /// `11`: congestion experienced.
    Ce,
}

impl Ecn {
    /// The codepoint in the low two bits of `bits` (the upper bits are ignored).
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Ecn::NotEct,
            0b01 => Ecn::Ect1,
            0b10 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }

    /// The two-bit codepoint.
    pub const fn bits(self) -> u8 {
        match self {
            Ecn::NotEct => 0b00,
            Ecn::Ect1 => 0b01,
            Ecn::Ect0 => 0b10,
            Ecn::Ce => 0b11,
        }
    }
}

/// The octet holding the DSCP and ECN fields (IPv4 TOS, IPv6 Traffic Class; RFC 3260 §4).
pub(super) const fn ds_octet(dscp: Dscp, ecn: Ecn) -> u8 {
    (dscp.0 << 2) | ecn.bits()
}

/// Splits the octet holding the DSCP and ECN fields.
pub(super) const fn split_ds_octet(octet: u8) -> (Dscp, Ecn) {
    (Dscp(octet >> 2), Ecn::from_bits(octet))
}

/// Where a fragment's data lies in the original payload, in 8-octet units that fit 13 bits:
/// the Fragment Offset of IPv4 (RFC 791 §3.1) and of the IPv6 Fragment header (RFC 8200
/// §4.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FragmentOffset(u16);

impl FragmentOffset {
    /// Offset 0: a first fragment, or an unfragmented packet.
    pub const ZERO: Self = Self(0);
    /// The largest offset, in 8-octet units.
    pub const MAX_UNITS: u16 = 0x1fff;

    /// The offset of `units` 8-octet units, or `None` if that does not fit 13 bits.
    pub const fn new(units: u16) -> Option<Self> {
        if units <= Self::MAX_UNITS {
            Some(Self(units))
        } else {
            None
        }
    }

    /// The offset of `bytes` bytes, or `None` unless it is a multiple of 8 that fits.
    pub const fn from_bytes(bytes: usize) -> Option<Self> {
        if bytes % 8 != 0 || bytes / 8 > Self::MAX_UNITS as usize {
            return None;
        }
        Some(Self((bytes / 8) as u16))
    }

    /// The low 13 bits of a 16-bit field, whatever the other bits hold.
    pub(super) const fn from_low_bits(field: u16) -> Self {
        Self(field & Self::MAX_UNITS)
    }

    /// The offset in 8-octet units.
    pub const fn units(self) -> u16 {
        self.0
    }

    /// The offset in bytes.
    pub const fn bytes(self) -> usize {
        self.0 as usize * 8
    }
}

/// What version-generic code (the IP layer, transport demultiplexing) needs from a parsed
/// packet of either IP version.
pub trait IpPacket {
    /// The IP version of the packet.
    type Version: Ip;

    /// The source address.
    fn src_ip(&self) -> <Self::Version as Ip>::Addr;
    /// The destination address.
    fn dst_ip(&self) -> <Self::Version as Ip>::Addr;
    /// The upper-layer protocol of the body.
    fn proto(&self) -> IpProto;
    /// The IPv4 TTL or the IPv6 Hop Limit.
    fn ttl(&self) -> u8;
    /// The upper-layer payload (for a fragment, its part of the payload).
    fn body(&self) -> &[u8];
}

/// One option of an IPv4 header, as [`Ipv4Options::iter`] yields it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv4Option<'a> {
    /// Router Alert (RFC 2113 §2.1) and its value; 0 asks every router to examine the packet.
    RouterAlert(u16),
    /// Any other option: its type octet and its data (without the type and length octets).
    Other {
        /// The option type octet.
        kind: u8,
        /// The option data.
        data: &'a [u8],
    },
}

/// An option as it lies in the header: where it starts and ends, its type and its data.
struct RawOption<'a> {
    start: usize,
    end: usize,
    kind: u8,
    data: &'a [u8],
}

/// Reads the option at or after `pos` of `options`, skipping No Operation octets (RFC 791
/// §3.1). `Ok(None)` at the end of the list: an End of Option List octet or the end of the
/// header. `Err(at)` if the option is malformed (RFC 1122 §3.2.1.8): `at` is its length octet
/// (length below 2, running past the header, or not 4 for a Router Alert), or its type octet
/// when the header ends before the length octet.
fn read_option(options: &[u8], mut pos: usize) -> Result<Option<RawOption<'_>>, usize> {
    let kind = loop {
        match options.get(pos) {
            None | Some(&OPTION_END_OF_LIST) => return Ok(None),
            Some(&OPTION_NO_OPERATION) => pos += 1,
            Some(&kind) => break kind,
        }
    };
    let len_at = pos + 1;
    let len = usize::from(*options.get(len_at).ok_or(pos)?);
    if len < 2 {
        return Err(len_at);
    }
    let end = pos + len;
    let data = options.get(pos + 2..end).ok_or(len_at)?;
    // RFC 2113 §2.1: Router Alert has a fixed length of 4.
    if kind == OPTION_ROUTER_ALERT && data.len() != 2 {
        return Err(len_at);
    }
    Ok(Some(RawOption { start: pos, end, kind, data }))
}

/// The error for a malformed option at byte `at` of the option bytes: a parameter problem
/// pointing at it (RFC 1122 §3.2.1.8, RFC 792 "Parameter Problem").
fn option_problem(at: usize) -> ParseError {
    let pointer = u32::try_from(HEADER_LEN + at).unwrap_or(u32::MAX);
    ParseError::new(
        Layer::Ipv4,
        ParseErrorKind::ParameterProblem {
            pointer,
            code: ParameterProblemCode::ErroneousHeaderField,
            action: ProblemAction::DiscardAndSendIcmp,
        },
    )
}

/// Checks that every option of `options` is well formed. The walk is bounded: every step
/// consumes at least one of at most [`MAX_OPTIONS_LEN`] bytes.
fn check_options(options: &[u8]) -> Result<(), ParseError> {
    let mut pos = 0;
    while let Some(option) = read_option(options, pos).map_err(option_problem)? {
        pos = option.end;
    }
    Ok(())
}

/// The option bytes of a header: at most [`MAX_OPTIONS_LEN`] of them, every option well
/// formed. Headers carry them padded with zeros (End of Option List) to a multiple of 4
/// bytes; two lists are equal if they pad to the same bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ipv4Options<'a>(&'a [u8]);

impl Ipv4Options<'static> {
    /// No options.
    pub const NONE: Self = Self(&[]);
    /// A Router Alert option with value 0 (RFC 2113 §2.1), as IGMP messages carry
    /// (RFC 2236 §2, RFC 3376 §4).
    pub const ROUTER_ALERT: Self = Self(&[OPTION_ROUTER_ALERT, 4, 0, 0]);
}

impl<'a> Ipv4Options<'a> {
    /// Checks `bytes` as an option list: at most [`MAX_OPTIONS_LEN`] bytes, each option well
    /// formed. The error is the one a receiver would report for the header carrying them.
    pub fn new(bytes: &'a [u8]) -> Result<Self, ParseError> {
        if bytes.len() > MAX_OPTIONS_LEN {
            return Err(ParseError::new(Layer::Ipv4, ParseErrorKind::Length("options longer than 40 bytes")));
        }
        check_options(bytes)?;
        Ok(Self(bytes))
    }

    /// The option bytes as given or received (before padding).
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The length in the header: rounded up to a multiple of 4.
    pub fn padded_len(&self) -> usize {
        self.0.len().next_multiple_of(4)
    }

    /// The options, lazily from the bytes; No Operation octets are skipped and End of Option
    /// List ends the list.
    pub fn iter(&self) -> Ipv4OptionsIter<'a> {
        Ipv4OptionsIter { options: self.0, pos: 0 }
    }

    /// The value of the first Router Alert option (RFC 2113), if there is one.
    pub fn router_alert(&self) -> Option<u16> {
        self.iter().find_map(|option| match option {
            Ipv4Option::RouterAlert(value) => Some(value),
            Ipv4Option::Other { .. } => None,
        })
    }

    /// The options for fragments after the first (RFC 791 §3.2): options whose type has the
    /// copied flag are kept, every other one is overwritten with No Operation octets, written
    /// into `storage`. The length is unchanged, so every fragment has the same header length.
    pub fn copied_for_fragments<'b>(&self, storage: &'b mut [u8; MAX_OPTIONS_LEN]) -> Ipv4Options<'b> {
        let len = self.0.len().min(MAX_OPTIONS_LEN);
        let (copy, _) = storage.split_at_mut(len);
        copy.copy_from_slice(&self.0[..len]);
        let mut pos = 0;
        while let Ok(Some(option)) = read_option(self.0, pos) {
            if option.kind & OPTION_COPIED == 0 {
                if let Some(span) = copy.get_mut(option.start..option.end) {
                    span.fill(OPTION_NO_OPERATION);
                }
            }
            pos = option.end;
        }
        let storage: &'b [u8; MAX_OPTIONS_LEN] = storage;
        Ipv4Options(&storage[..len])
    }

    /// The bytes written into a header: the options, then zeros up to the padded length.
    fn padded_bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let padded_len = self.padded_len();
        self.0.iter().copied().chain(core::iter::repeat(OPTION_END_OF_LIST)).take(padded_len)
    }
}

impl PartialEq for Ipv4Options<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.padded_len() == other.padded_len() && self.padded_bytes().eq(other.padded_bytes())
    }
}

impl Eq for Ipv4Options<'_> {}

/// Iterator over the options of a header; see [`Ipv4Options::iter`].
#[derive(Clone, Debug)]
pub struct Ipv4OptionsIter<'a> {
    options: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Ipv4OptionsIter<'a> {
    type Item = Ipv4Option<'a>;

    fn next(&mut self) -> Option<Ipv4Option<'a>> {
        // The bytes were checked when the `Ipv4Options` was made, so the walk never fails.
        let option = read_option(self.options, self.pos).ok()??;
        self.pos = option.end;
        Some(match (option.kind, option.data) {
            (OPTION_ROUTER_ALERT, &[high, low]) => Ipv4Option::RouterAlert(u16::from_be_bytes([high, low])),
            (kind, data) => Ipv4Option::Other { kind, data },
        })
    }
}

/// A parsed IPv4 packet.
#[derive(Debug)]
pub struct Ipv4Packet<B: PacketBytes> {
    header: Ref<B, Header>,
    options: B,
    body: B,
    padding_len: usize,
}

impl<B: PacketBytes> ParsablePacket<B> for Ipv4Packet<B> {
    type Args = ();
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, _args: ()) -> Result<Self, ParseError> {
        let truncated = ParseError::truncated(Layer::Ipv4);
        let invalid = |kind| ParseError::new(Layer::Ipv4, kind);
        let header = view.take_obj_front::<Header>().ok_or(truncated)?;
        let header_len = header.checked_header_len()?;
        let options = view.take_front(header_len - HEADER_LEN).ok_or(truncated)?;
        // RFC 1122 §3.2.1.2: silently discard a datagram with a bad header checksum.
        let mut sum = Checksum::new();
        sum.add_bytes(header.as_bytes());
        sum.add_bytes(&options);
        if sum.checksum() != 0 {
            return Err(invalid(ParseErrorKind::Checksum));
        }
        // RFC 791 §3.1: Total Length covers header and data; bytes after it are link padding.
        let total_len = usize::from(header.total_len.get());
        let payload_len = total_len
            .checked_sub(header_len)
            .ok_or(invalid(ParseErrorKind::Length("total length below header length")))?;
        let padding_len = view.len().checked_sub(payload_len).ok_or(truncated)?;
        // RFC 791 §3.1 reserves bit 0 of the flags; like Linux, a receiver ignores it
        // (RFC 1122 §3.2.1: be liberal in what you accept) and the builder carries it.
        let flags = header.flags_fragment_offset.get();
        // RFC 791 §3.2: a fragment must not reach past the largest datagram (reassembly would
        // overflow the 16-bit Total Length).
        if FragmentOffset::from_low_bits(flags).bytes() + total_len > MAX_PACKET_LEN {
            return Err(invalid(ParseErrorKind::Length("fragment ends beyond 65535 bytes")));
        }
        check_options(&options)?;
        view.take_back(padding_len).ok_or(truncated)?;
        Ok(Self { header, options, body: view.take_rest(), padding_len })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata {
            header_len: self.header_len(),
            body_len: self.body.len(),
            footer_len: self.padding_len,
        }
    }
}

impl<B: PacketBytes> Ipv4Packet<B> {
    /// Header length including options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// The Differentiated Services codepoint.
    pub fn dscp(&self) -> Dscp {
        split_ds_octet(self.header.ds_field).0
    }

    /// The ECN field.
    pub fn ecn(&self) -> Ecn {
        split_ds_octet(self.header.ds_field).1
    }

    /// Total Length: header plus payload.
    pub fn total_len(&self) -> u16 {
        self.header.total_len.get()
    }

    /// Identification.
    pub fn id(&self) -> u16 {
        self.header.id.get()
    }

    /// The Don't Fragment flag.
    pub fn dont_fragment(&self) -> bool {
        self.header.flags_fragment_offset.get() & FLAG_DONT_FRAGMENT != 0
    }

    /// The reserved flag (bit 0 of the flags), which senders must leave clear.
    pub fn reserved_flag(&self) -> bool {
        self.header.flags_fragment_offset.get() & FLAG_RESERVED != 0
    }

    /// The More Fragments flag.
    pub fn more_fragments(&self) -> bool {
        self.header.flags_fragment_offset.get() & FLAG_MORE_FRAGMENTS != 0
    }

    /// Fragment Offset; [`FragmentOffset::bytes`] and [`FragmentOffset::units`] give it in
    /// bytes and in 8-byte units.
    pub fn fragment_offset(&self) -> FragmentOffset {
        FragmentOffset::from_low_bits(self.header.flags_fragment_offset.get())
    }

    /// Whether this is a fragment (More Fragments set or a non-zero offset) that must be
    /// reassembled before delivery (RFC 791 §3.2).
    pub fn is_fragment(&self) -> bool {
        self.header.flags_fragment_offset.get() & (FLAG_MORE_FRAGMENTS | FragmentOffset::MAX_UNITS) != 0
    }

    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.header.ttl
    }

    /// Protocol.
    pub fn proto(&self) -> IpProto {
        IpProto(self.header.proto)
    }

    /// Source address.
    pub fn src_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.header.src)
    }

    /// Destination address.
    pub fn dst_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.header.dst)
    }

    /// Header Checksum, as received.
    pub fn header_checksum(&self) -> u16 {
        self.header.checksum.get()
    }

    /// The options: raw bytes with [`Ipv4Options::bytes`], parsed with
    /// [`Ipv4Options::iter`].
    pub fn options(&self) -> Ipv4Options<'_> {
        Ipv4Options(&self.options)
    }

    /// The payload, without any link-layer padding.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A builder that writes this header again, byte for byte.
    pub fn builder(&self) -> Ipv4Builder<'_> {
        Ipv4Builder {
            src: self.src_ip(),
            dst: self.dst_ip(),
            proto: self.proto(),
            ttl: self.ttl(),
            dscp: self.dscp(),
            ecn: self.ecn(),
            id: self.id(),
            reserved_flag: self.reserved_flag(),
            dont_fragment: self.dont_fragment(),
            more_fragments: self.more_fragments(),
            fragment_offset: self.fragment_offset(),
            options: self.options(),
        }
    }
}

impl<B: PacketBytes + ByteSliceMut> Ipv4Packet<B> {
    /// Decrements the TTL for forwarding (RFC 791 §3.2 "Time to Live", RFC 1812 §5.3.1) and
    /// updates the header checksum incrementally (RFC 1624 eqn. 3). Returns the new TTL; a
    /// forwarder drops the packet if that is 0. A TTL that already is 0 is left as it is and
    /// `None` returned.
    pub fn decrement_ttl(&mut self) -> Option<u8> {
        let old_ttl = self.header.ttl;
        let new_ttl = old_ttl.checked_sub(1)?;
        let proto = self.header.proto;
        // TTL and Protocol share one 16-bit word of the checksummed header.
        let old_word = u16::from_be_bytes([old_ttl, proto]);
        let new_word = u16::from_be_bytes([new_ttl, proto]);
        self.header.ttl = new_ttl;
        self.header.checksum = U16::new(checksum::update_u16(self.header.checksum.get(), old_word, new_word));
        Some(new_ttl)
    }
}

impl<B: PacketBytes> IpPacket for Ipv4Packet<B> {
    type Version = Ipv4;

    fn src_ip(&self) -> Ipv4Addr {
        Ipv4Packet::src_ip(self)
    }

    fn dst_ip(&self) -> Ipv4Addr {
        Ipv4Packet::dst_ip(self)
    }

    fn proto(&self) -> IpProto {
        Ipv4Packet::proto(self)
    }

    fn ttl(&self) -> u8 {
        Ipv4Packet::ttl(self)
    }

    fn body(&self) -> &[u8] {
        Ipv4Packet::body(self)
    }
}

/// Writes an IPv4 header: every field of it, with Total Length and Header Checksum computed
/// from the body it wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Builder<'a> {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol of the payload.
    pub proto: IpProto,
    /// Time to Live.
    pub ttl: u8,
    /// Differentiated Services codepoint.
    pub dscp: Dscp,
    /// ECN field.
    pub ecn: Ecn,
    /// Identification (RFC 6864: unique per source, destination and protocol for as long as
    /// the datagram may be fragmented; any value for atomic datagrams).
    pub id: u16,
    /// The reserved flag: clear on everything the stack sends (RFC 791 §3.1); set only to
    /// re-serialize a received packet exactly.
    pub reserved_flag: bool,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// More Fragments.
    pub more_fragments: bool,
    /// Fragment Offset.
    pub fragment_offset: FragmentOffset,
    /// Options, padded with zeros to a multiple of 4 bytes in the header.
    pub options: Ipv4Options<'a>,
}

impl Ipv4Builder<'static> {
    /// An unfragmented datagram without options, with DSCP 0, Not-ECT and Identification 0.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, proto: IpProto) -> Self {
        Self {
            src,
            dst,
            proto,
            ttl,
            dscp: Dscp::DEFAULT,
            ecn: Ecn::NotEct,
            id: 0,
            reserved_flag: false,
            dont_fragment: false,
            more_fragments: false,
            fragment_offset: FragmentOffset::ZERO,
            options: Ipv4Options::NONE,
        }
    }
}

impl<'a> Ipv4Builder<'a> {
    /// Header length including padded options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.padded_len()
    }

    /// The header of the fragment that carries this datagram's payload from byte
    /// `data_offset` on (RFC 791 §3.2, fragmentation procedure). The offset is added to this
    /// header's own, so a fragment can be fragmented again; More Fragments is set unless this
    /// is the `last` fragment, which keeps this header's flag; fragments at a non-zero offset
    /// carry only the copied options ([`Ipv4Options::copied_for_fragments`], written into
    /// `options_storage`). Whether fragmenting is allowed (Don't Fragment) is the caller's
    /// decision. `None` if `data_offset` is not a multiple of 8 or the offset would not fit.
    pub fn fragment<'b>(
        &self,
        data_offset: usize,
        last: bool,
        options_storage: &'b mut [u8; MAX_OPTIONS_LEN],
    ) -> Option<Ipv4Builder<'b>>
    where
        'a: 'b,
    {
        let offset = FragmentOffset::from_bytes(self.fragment_offset.bytes().checked_add(data_offset)?)?;
        let options = if offset == FragmentOffset::ZERO {
            self.options
        } else {
            self.options.copied_for_fragments(options_storage)
        };
        Some(Ipv4Builder {
            fragment_offset: offset,
            more_fragments: !last || self.more_fragments,
            options,
            ..*self
        })
    }
}

impl PacketBuilder for Ipv4Builder<'_> {
    fn constraints(&self) -> PacketConstraints {
        let header_len = self.header_len();
        PacketConstraints {
            header_len,
            footer_len: 0,
            min_body_len: 0,
            max_body_len: MAX_PACKET_LEN - header_len,
        }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        let header_len = self.header_len();
        let (fixed, options) = target.header.split_at_mut(HEADER_LEN);
        for (byte, option_byte) in options.iter_mut().zip(self.options.padded_bytes()) {
            *byte = option_byte;
        }
        let mut flags_fragment_offset = self.fragment_offset.units();
        if self.reserved_flag {
            flags_fragment_offset |= FLAG_RESERVED;
        }
        if self.dont_fragment {
            flags_fragment_offset |= FLAG_DONT_FRAGMENT;
        }
        if self.more_fragments {
            flags_fragment_offset |= FLAG_MORE_FRAGMENTS;
        }
        let mut header = Header {
            // At most 60 / 4 = 15: the options are at most 40 bytes by construction.
            version_ihl: (VERSION << 4) | (header_len / 4) as u8,
            ds_field: ds_octet(self.dscp, self.ecn),
            // At most 65535: `max_body_len` keeps the body within it.
            total_len: U16::new((header_len + body.len()) as u16),
            id: U16::new(self.id),
            flags_fragment_offset: U16::new(flags_fragment_offset),
            ttl: self.ttl,
            proto: self.proto.0,
            checksum: U16::ZERO,
            src: self.src.bytes(),
            dst: self.dst.bytes(),
        };
        let mut sum = Checksum::new();
        sum.add_bytes(header.as_bytes());
        sum.add_bytes(options);
        header.checksum = U16::new(sum.checksum());
        *header_mut(fixed) = header;
    }
}

/// The start of an IPv4 datagram as an ICMP error quotes it: a well-formed header (version
/// 4, IHL of at least 5, every header byte present) and whatever of the payload was kept
/// (RFC 792: the header and at least 8 bytes). Unlike [`Ipv4Packet`], neither the checksum
/// nor the presence of the whole datagram is checked, since a quote is truncated by design.
#[derive(Debug)]
pub struct QuotedIpv4Header<'a> {
    header: Ref<&'a [u8], Header>,
    payload: &'a [u8],
}

impl<'a> QuotedIpv4Header<'a> {
    /// Reads the quoted header at the start of `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let truncated = ParseError::truncated(Layer::Ipv4);
        let (header, _) = Ref::<_, Header>::from_prefix(bytes).map_err(|_| truncated)?;
        let payload = bytes.get(header.checked_header_len()?..).ok_or(truncated)?;
        Ok(Self { header, payload })
    }

    /// Source address.
    pub fn src_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.header.src)
    }

    /// Destination address.
    pub fn dst_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.header.dst)
    }

    /// Protocol of the payload.
    pub fn proto(&self) -> IpProto {
        IpProto(self.header.proto)
    }

    /// Total Length of the original datagram.
    pub fn total_len(&self) -> u16 {
        self.header.total_len.get()
    }

    /// Fragment Offset of the original datagram.
    pub fn fragment_offset(&self) -> FragmentOffset {
        FragmentOffset::from_low_bits(self.header.flags_fragment_offset.get())
    }

    /// The quoted part of the payload.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::{Buf, SerializeError, Serializer};
    use crate::testutil::vectors;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const SRC: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
    const DST: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 2]);

    fn serialize(builder: Ipv4Builder<'_>, body: &[u8]) -> Vec<u8> {
        body.encapsulate(builder).serialize_vec().unwrap().into_inner()
    }

    fn ip_of_frame(pcap: &[u8], n: usize) -> &[u8] {
        let frame = vectors::frame(pcap, n);
        assert_eq!(frame[12..14], [0x08, 0x00]);
        &frame[14..]
    }

    /// Re-serializes a parsed packet from its builder and body.
    fn reserialize(bytes: &[u8]) -> Vec<u8> {
        let packet = Ipv4Packet::parse_bytes(bytes, ()).unwrap();
        serialize(packet.builder(), packet.body())
    }

    fn kind_of(bytes: &[u8]) -> ParseErrorKind {
        let err = Ipv4Packet::parse_bytes(bytes, ()).unwrap_err();
        assert_eq!(err.layer, Layer::Ipv4);
        err.kind
    }

    /// A valid header of `header_len` bytes (`options` zero-padded) for `payload_len` bytes,
    /// whose fields the test may then change with `edit`; the checksum is recomputed after.
    fn header_with(options: &[u8], payload_len: usize, edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
        let mut bytes = serialize(
            Ipv4Builder { options: Ipv4Options(options), ..Ipv4Builder::new(SRC, DST, 64, IpProto::UDP) },
            &[0xab; 64][..payload_len],
        );
        let header_len = usize::from(bytes[0] & 0xf) * 4;
        edit(&mut bytes);
        bytes[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::checksum(&bytes[..header_len]);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
        bytes
    }

    fn problem_at(pointer: u32) -> ParseErrorKind {
        ParseErrorKind::ParameterProblem {
            pointer,
            code: ParameterProblemCode::ErroneousHeaderField,
            action: ProblemAction::DiscardAndSendIcmp,
        }
    }

    #[test]
    fn rfc791_3_1_real_echo_request_parses_and_reserializes() {
        // icmpv4_ping.pcap frame 3: ping 192.0.2.1 -> 192.0.2.2, DF, TTL 64.
        let bytes = ip_of_frame(vectors::ICMPV4_PING, 3);
        let packet = Ipv4Packet::parse_bytes(bytes, ()).unwrap();
        assert_eq!((packet.src_ip(), packet.dst_ip(), packet.proto()), (SRC, DST, IpProto::ICMP));
        assert_eq!((packet.ttl(), packet.id(), packet.total_len()), (64, 0xfe95, 84));
        assert!(packet.dont_fragment() && !packet.more_fragments() && !packet.is_fragment());
        assert_eq!(
            (packet.dscp(), packet.ecn(), packet.header_checksum()),
            (Dscp::DEFAULT, Ecn::NotEct, 0xb80f)
        );
        assert_eq!(packet.body().len(), 64);
        assert_eq!(reserialize(bytes), bytes);
    }

    #[test]
    fn rfc791_3_2_real_fragments_parse_and_reserialize() {
        // icmpv4_ping.pcap frames 15-17: a 3028-byte echo request in three fragments.
        let offsets: Vec<_> = (15..=17)
            .map(|n| {
                let bytes = ip_of_frame(vectors::ICMPV4_PING, n);
                let packet = Ipv4Packet::parse_bytes(bytes, ()).unwrap();
                assert!(packet.is_fragment());
                assert_eq!(
                    (packet.src_ip(), packet.dst_ip(), packet.proto(), packet.id()),
                    (SRC, DST, IpProto::ICMP, 0xff5d)
                );
                assert_eq!(reserialize(bytes), bytes);
                (packet.fragment_offset().bytes(), packet.fragment_offset().units(), packet.more_fragments())
            })
            .collect();
        assert_eq!(offsets, [(0, 0, true), (1480, 185, true), (2960, 370, false)]);
    }

    #[test]
    fn rfc791_3_2_fragment_headers_match_linux() {
        // Fragmenting the reassembled datagram of icmpv4_ping.pcap frames 15-17 at 1480 bytes
        // gives back Linux's fragments byte for byte.
        let fragments: Vec<_> = (15..=17).map(|n| ip_of_frame(vectors::ICMPV4_PING, n)).collect();
        let mut payload = Vec::new();
        for bytes in &fragments {
            payload.extend_from_slice(Ipv4Packet::parse_bytes(*bytes, ()).unwrap().body());
        }
        let first = Ipv4Packet::parse_bytes(fragments[0], ()).unwrap();
        let datagram = Ipv4Builder { more_fragments: false, ..first.builder() };
        for (i, (chunk, expected)) in payload.chunks(1480).zip(&fragments).enumerate() {
            let mut storage = [0; MAX_OPTIONS_LEN];
            let header = datagram.fragment(i * 1480, i == 2, &mut storage).unwrap();
            assert_eq!(serialize(header, chunk), *expected);
        }
    }

    #[test]
    fn every_ipv4_packet_in_the_vectors_reserializes_byte_for_byte() {
        let mut count = 0;
        for bytes in vectors::payloads([0x08, 0x00]) {
            assert_eq!(reserialize(bytes), bytes);
            count += 1;
        }
        assert_eq!(count, 20 + 8 + 1083);
    }

    #[test]
    fn rfc791_3_1_link_padding_is_trimmed_and_undo_restores_it() {
        let mut bytes = serialize(Ipv4Builder::new(SRC, DST, 64, IpProto::UDP), &[1, 2, 3, 4]);
        let total = bytes.len();
        bytes.extend_from_slice(&[0; 22]);
        let mut buf = Buf::from_body(&bytes[..]);
        let packet = buf.parse::<Ipv4Packet<_>>(()).unwrap();
        let meta = packet.parse_metadata();
        assert_eq!(packet.body(), &[1, 2, 3, 4]);
        assert_eq!(meta, ParseMetadata { header_len: 20, body_len: 4, footer_len: 22 });
        assert_eq!(buf.body(), &[1, 2, 3, 4]);
        buf.undo_parse(meta);
        assert_eq!(buf.body(), &bytes[..]);
        assert_eq!(total, 24);
    }

    #[test]
    fn rfc1122_3_2_1_2_bad_checksum_is_rejected() {
        let mut bytes = serialize(Ipv4Builder::new(SRC, DST, 64, IpProto::UDP), &[0; 8]);
        bytes[11] ^= 1;
        assert_eq!(kind_of(&bytes), ParseErrorKind::Checksum);
    }

    #[test]
    fn rfc1122_3_2_1_1_version_other_than_4_is_rejected() {
        let bytes = header_with(&[], 0, |b| b[0] = 0x65);
        assert_eq!(kind_of(&bytes), ParseErrorKind::Field("version"));
    }

    #[test]
    fn rfc791_3_1_ihl_below_5_is_rejected() {
        let bytes = header_with(&[], 8, |b| b[0] = 0x44);
        assert_eq!(kind_of(&bytes), ParseErrorKind::Length("IHL below 5"));
    }

    #[test]
    fn rfc791_3_1_total_length_is_checked_against_header_and_buffer() {
        let longer = header_with(&[], 8, |b| b[2..4].copy_from_slice(&29u16.to_be_bytes()));
        assert_eq!(kind_of(&longer), ParseErrorKind::Truncated);
        let shorter = header_with(&[], 8, |b| b[2..4].copy_from_slice(&19u16.to_be_bytes()));
        assert_eq!(kind_of(&shorter), ParseErrorKind::Length("total length below header length"));
    }

    #[test]
    fn truncated_header_and_options_are_rejected() {
        let bytes = serialize(Ipv4Builder::new(SRC, DST, 64, IpProto::UDP), &[]);
        assert_eq!(kind_of(&bytes[..19]), ParseErrorKind::Truncated);
        let with_options = header_with(&[1, 1, 1, 1], 0, |_| {});
        assert_eq!(kind_of(&with_options[..22]), ParseErrorKind::Truncated);
    }

    #[test]
    fn rfc792_quoted_headers_parse_without_the_rest_of_the_datagram() {
        let packet = serialize(
            Ipv4Builder {
                fragment_offset: FragmentOffset::from_bytes(8).unwrap(),
                ..Ipv4Builder::new(SRC, DST, 64, IpProto::UDP)
            },
            &[0xab; 100],
        );
        let quoted = QuotedIpv4Header::parse(&packet[..28]).unwrap();
        assert_eq!((quoted.src_ip(), quoted.dst_ip(), quoted.proto()), (SRC, DST, IpProto::UDP));
        assert_eq!((quoted.total_len(), quoted.fragment_offset().bytes()), (120, 8));
        assert_eq!(quoted.payload(), &[0xab; 8]);
        assert_eq!(QuotedIpv4Header::parse(&packet[..19]).unwrap_err().kind, ParseErrorKind::Truncated);
        let mut v6 = packet.clone();
        v6[0] = 0x65;
        assert_eq!(QuotedIpv4Header::parse(&v6).unwrap_err().kind, ParseErrorKind::Field("version"));
        let mut short_ihl = packet.clone();
        short_ihl[0] = 0x44;
        assert_eq!(
            QuotedIpv4Header::parse(&short_ihl).unwrap_err().kind,
            ParseErrorKind::Length("IHL below 5")
        );
        let mut long_ihl = packet;
        long_ihl[0] = 0x4f;
        assert_eq!(QuotedIpv4Header::parse(&long_ihl[..40]).unwrap_err().kind, ParseErrorKind::Truncated);
    }

    #[test]
    fn rfc791_3_1_reserved_flag_is_accepted_and_carried() {
        let bytes = header_with(&[], 0, |b| b[6] |= 0x80);
        let packet = Ipv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert!(packet.reserved_flag());
        assert!(!Ipv4Builder::new(SRC, DST, 64, IpProto::UDP).reserved_flag);
        assert_eq!(reserialize(&bytes), bytes);
    }

    #[test]
    fn rfc791_3_2_fragment_reaching_past_65535_bytes_is_rejected() {
        // Offset 8184 units = 65472 bytes, plus 20 + 48 bytes of this fragment.
        let bytes = header_with(&[], 48, |b| b[6..8].copy_from_slice(&0x1ff8u16.to_be_bytes()));
        assert_eq!(kind_of(&bytes), ParseErrorKind::Length("fragment ends beyond 65535 bytes"));
        let fits = header_with(&[], 40, |b| b[6..8].copy_from_slice(&0x1ff8u16.to_be_bytes()));
        assert!(Ipv4Packet::parse_bytes(&fits[..], ()).is_ok());
    }

    #[test]
    fn rfc1122_3_2_1_8_option_length_below_2_points_at_length_octet() {
        // NOP, then option 7 (Record Route) with length 1: the length octet is byte 22.
        let bytes = header_with(&[1, 7, 1, 0], 0, |_| {});
        assert_eq!(kind_of(&bytes), problem_at(22));
    }

    #[test]
    fn rfc1122_3_2_1_8_option_running_past_header_points_at_length_octet() {
        let bytes = header_with(&[1, 1, 0x44, 6], 0, |_| {});
        assert_eq!(kind_of(&bytes), problem_at(23));
    }

    #[test]
    fn rfc1122_3_2_1_8_option_without_length_octet_points_at_type_octet() {
        let bytes = header_with(&[1, 1, 1, 0x44], 0, |_| {});
        assert_eq!(kind_of(&bytes), problem_at(23));
    }

    #[test]
    fn rfc2113_2_1_router_alert_with_wrong_length_is_rejected() {
        let bytes = header_with(&[0x94, 6, 0, 0, 0, 0, 0, 0], 0, |_| {});
        assert_eq!(kind_of(&bytes), problem_at(21));
    }

    #[test]
    fn rfc791_3_1_option_list_walk() {
        // NOP, Router Alert 0 (RFC 2113), Timestamp (type 68) with 2 data bytes, End of
        // Option List, then bytes after the end that are not options.
        let options = [1, 0x94, 4, 0, 0, 68, 4, 9, 8, 0, 0x44, 0xff];
        let bytes = header_with(&options, 0, |_| {});
        let packet = Ipv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(packet.header_len(), 32);
        assert_eq!(packet.options().bytes(), &options);
        let parsed: Vec<_> = packet.options().iter().collect();
        assert_eq!(parsed, [Ipv4Option::RouterAlert(0), Ipv4Option::Other { kind: 68, data: &[9, 8] }]);
        assert_eq!(packet.options().router_alert(), Some(0));
        assert_eq!(Ipv4Options::NONE.router_alert(), None);
    }

    #[test]
    fn options_constructor_checks_length_and_form() {
        assert_eq!(Ipv4Options::new(&[1; 40]).map(|o| o.padded_len()), Ok(40));
        assert_eq!(
            Ipv4Options::new(&[1; 41]).unwrap_err().kind,
            ParseErrorKind::Length("options longer than 40 bytes")
        );
        assert_eq!(Ipv4Options::new(&[1, 7, 0]).unwrap_err().kind, problem_at(22));
        assert_eq!(Ipv4Options::new(&[0x94, 4, 0, 0]), Ok(Ipv4Options::ROUTER_ALERT));
    }

    #[test]
    fn rfc791_3_1_options_are_padded_with_end_of_list_to_a_word() {
        let options = Ipv4Options::new(&[0x94, 4, 0, 0, 1]).unwrap();
        let b = Ipv4Builder { options, ..Ipv4Builder::new(SRC, DST, 1, IpProto::IGMP) };
        let bytes = serialize(b, &[5; 8]);
        assert_eq!(bytes[0], 0x47);
        assert_eq!(&bytes[20..28], &[0x94, 4, 0, 0, 1, 0, 0, 0]);
        let packet = Ipv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(packet.builder(), b);
        assert_eq!(packet.body(), &[5; 8]);
    }

    #[test]
    fn rfc791_3_2_later_fragments_carry_only_copied_options() {
        // Router Alert (copied flag set) and Timestamp (type 68, not copied).
        let options = Ipv4Options::new(&[68, 4, 1, 2, 0x94, 4, 0, 0]).unwrap();
        let datagram = Ipv4Builder { id: 7, options, ..Ipv4Builder::new(SRC, DST, 64, IpProto::UDP) };
        let mut storage = [0xee; MAX_OPTIONS_LEN];
        let first = datagram.fragment(0, false, &mut storage).unwrap();
        assert_eq!(
            (first.options, first.more_fragments, first.fragment_offset),
            (options, true, FragmentOffset::ZERO)
        );
        let mut storage = [0xee; MAX_OPTIONS_LEN];
        let last = datagram.fragment(16, true, &mut storage).unwrap();
        assert_eq!(last.options.bytes(), &[1, 1, 1, 1, 0x94, 4, 0, 0]);
        assert_eq!((last.more_fragments, last.fragment_offset.units()), (false, 2));
        assert_eq!((last.id, last.header_len()), (7, 28));
        assert!(datagram.fragment(12, true, &mut storage).is_none());
        assert!(datagram.fragment(65536, true, &mut storage).is_none());
        // Fragmenting a fragment: offsets add up and the last piece keeps More Fragments.
        let fragment = Ipv4Builder {
            fragment_offset: FragmentOffset::new(10).unwrap(),
            more_fragments: true,
            ..datagram
        };
        let piece = fragment.fragment(8, true, &mut storage).unwrap();
        assert_eq!((piece.fragment_offset.units(), piece.more_fragments), (11, true));
    }

    #[test]
    fn rfc791_3_1_body_beyond_total_length_limit_is_refused() {
        let body = alloc::vec![0u8; MAX_PACKET_LEN - HEADER_LEN + 1];
        let err = (&body[..])
            .encapsulate(Ipv4Builder::new(SRC, DST, 64, IpProto::UDP))
            .serialize_vec()
            .unwrap_err();
        assert_eq!(err, SerializeError::BodyTooLong { len: body.len(), max: MAX_PACKET_LEN - HEADER_LEN });
        let fits =
            (&body[1..]).encapsulate(Ipv4Builder::new(SRC, DST, 64, IpProto::UDP)).serialize_vec().unwrap();
        assert_eq!(fits.len(), MAX_PACKET_LEN);
    }

    #[test]
    fn rfc1624_ttl_decrement_matches_full_recompute() {
        let mut bytes = ip_of_frame(vectors::ICMPV4_PING, 3).to_vec();
        let mut buf = Buf::from_body(&mut bytes[..]);
        let mut packet = buf.parse_mut::<Ipv4Packet<_>>(()).unwrap();
        assert_eq!(packet.decrement_ttl(), Some(63));
        let expected = serialize(Ipv4Builder { ttl: 63, ..packet.builder() }, packet.body());
        assert_eq!(bytes, expected);
    }

    #[test]
    fn ttl_zero_is_not_decremented() {
        let mut bytes = serialize(Ipv4Builder::new(SRC, DST, 0, IpProto::UDP), &[]);
        let before = bytes.clone();
        let mut packet = Ipv4Packet::parse_bytes(&mut bytes[..], ()).unwrap();
        assert_eq!(packet.decrement_ttl(), None);
        assert_eq!(bytes, before);
    }

    #[test]
    fn ip_packet_trait_gives_version_generic_access() {
        fn summary<P: IpPacket>(
            p: &P,
        ) -> (<P::Version as Ip>::Addr, <P::Version as Ip>::Addr, IpProto, u8, usize) {
            (p.src_ip(), p.dst_ip(), p.proto(), p.ttl(), p.body().len())
        }
        let bytes = ip_of_frame(vectors::UDP_FRAGMENTED, 1);
        let packet = Ipv4Packet::parse_bytes(bytes, ()).unwrap();
        assert_eq!(summary(&packet), (SRC, DST, IpProto::UDP, 64, 22));
    }

    #[test]
    fn ds_field_and_fragment_offset_ranges() {
        assert_eq!(Dscp::new(63).map(Dscp::value), Some(63));
        assert_eq!(Dscp::new(64), None);
        assert_eq!(split_ds_octet(0xc1), (Dscp::new(48).unwrap(), Ecn::Ect1));
        assert_eq!(ds_octet(Dscp::new(46).unwrap(), Ecn::Ce), 0xbb);
        assert_eq!(FragmentOffset::new(0x1fff).map(FragmentOffset::bytes), Some(65528));
        assert_eq!(FragmentOffset::new(0x2000), None);
        assert_eq!(FragmentOffset::from_bytes(1480).map(FragmentOffset::units), Some(185));
        assert_eq!(FragmentOffset::from_bytes(1481), None);
        assert_eq!(FragmentOffset::from_bytes(65536), None);
    }

    /// Well-formed option lists: No Operation, Router Alert and other options.
    fn arb_options() -> impl Strategy<Value = Vec<u8>> {
        let option = prop_oneof![
            Just(alloc::vec![OPTION_NO_OPERATION]),
            any::<u16>().prop_map(|v| {
                let [high, low] = v.to_be_bytes();
                alloc::vec![OPTION_ROUTER_ALERT, 4, high, low]
            }),
            (2u8.., proptest::collection::vec(any::<u8>(), 0..6))
                .prop_filter("not Router Alert", |(kind, _)| *kind != OPTION_ROUTER_ALERT)
                .prop_map(|(kind, data)| {
                    let mut option = alloc::vec![kind, data.len() as u8 + 2];
                    option.extend(data);
                    option
                }),
        ];
        proptest::collection::vec(option, 0..10).prop_map(|options| {
            let mut bytes = Vec::new();
            for option in options {
                if bytes.len() + option.len() <= MAX_OPTIONS_LEN {
                    bytes.extend(option);
                }
            }
            bytes
        })
    }

    /// Builders with every field arbitrary but the options.
    fn arb_builder() -> impl Strategy<Value = Ipv4Builder<'static>> {
        (
            (any::<[u8; 4]>(), any::<[u8; 4]>(), any::<u8>(), any::<u8>()),
            (0u8..64, 0u8..4, any::<u16>(), any::<bool>(), any::<bool>(), 0u16..0x1f00),
            any::<bool>(),
        )
            .prop_map(|((src, dst, proto, ttl), (dscp, ecn, id, df, mf, offset), reserved)| {
                Ipv4Builder {
                    dscp: Dscp::new(dscp).unwrap(),
                    ecn: Ecn::from_bits(ecn),
                    id,
                    reserved_flag: reserved,
                    dont_fragment: df,
                    more_fragments: mf,
                    fragment_offset: FragmentOffset::new(offset).unwrap(),
                    ..Ipv4Builder::new(Ipv4Addr::new(src), Ipv4Addr::new(dst), ttl, IpProto(proto))
                }
            })
    }

    proptest! {
        #[test]
        fn round_trip(
            base in arb_builder(),
            options in arb_options(),
            with_options in any::<bool>(),
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let options = if with_options { &options[..] } else { &[][..] };
            let b = Ipv4Builder { options: Ipv4Options::new(options).unwrap(), ..base };
            let bytes = serialize(b, &body);
            let packet = Ipv4Packet::parse_bytes(&bytes[..], ()).unwrap();
            prop_assert_eq!(packet.builder(), b);
            prop_assert_eq!(packet.body(), &body[..]);
            prop_assert_eq!(packet.is_fragment(), b.more_fragments || b.fragment_offset != FragmentOffset::ZERO);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Ipv4Packet::parse_bytes(&bytes[..], ());
        }

        #[test]
        fn arbitrary_options_with_good_checksum_never_panic_and_reserialize_exactly(
            words in 0usize..=10,
            option_bytes in proptest::collection::vec(any::<u8>(), 40),
            payload_len in 0usize..16,
        ) {
            let options = &option_bytes[..words * 4];
            let bytes = header_with(options, payload_len, |_| {});
            if let Ok(packet) = Ipv4Packet::parse_bytes(&bytes[..], ()) {
                let _ = packet.options().iter().count();
                prop_assert_eq!(serialize(packet.builder(), packet.body()), bytes);
            }
        }

        #[test]
        fn rfc1624_decrement_ttl_matches_recompute(
            base in arb_builder(),
            options in arb_options(),
            body in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let b = Ipv4Builder { options: Ipv4Options::new(&options).unwrap(), ..base };
            let mut bytes = serialize(b, &body);
            let mut packet = Ipv4Packet::parse_bytes(&mut bytes[..], ()).unwrap();
            let decremented = packet.decrement_ttl();
            prop_assert_eq!(decremented, b.ttl.checked_sub(1));
            let expected = serialize(Ipv4Builder { ttl: b.ttl.saturating_sub(1), ..b }, &body);
            prop_assert_eq!(bytes, expected);
        }
    }
}
