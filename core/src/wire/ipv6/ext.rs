//! IPv6 extension headers (RFC 8200 §4): the walk over the header chain that parsing does,
//! the options of Hop-by-Hop and Destination Options headers, and the raw chains a builder
//! writes.
//!
//! Implemented: where Hop-by-Hop may appear (§4.1, §4.3), option processing and the actions
//! for unrecognized options (§4.2), Router Alert (RFC 2711), the Jumbo Payload option as
//! unsupported (RFC 2675 §3), Routing headers of every type as unrecognized, type 0 included
//! (§4.4, RFC 5095 §3), the Fragment header and its length checks (§4.5), Destination Options
//! (§4.6).
//!
//! The walk is bounded: at most [`MAX_EXT_HEADERS`] headers and [`MAX_OPTIONS`] options per
//! packet (RFC 8504 §5.3 lets hosts limit both), and every step consumes bytes of the packet.

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{FIXED_HEADER_LEN, MAX_PAYLOAD_LEN, NEXT_HEADER_FIELD_AT, PAYLOAD_LEN_FIELD_AT};
use crate::wire::ipv4::FragmentOffset;
use crate::wire::{IpProto, Layer, ParameterProblemCode, ParseError, ParseErrorKind, ProblemAction};

/// Most extension headers a packet may carry before it is refused as unsupported.
pub const MAX_EXT_HEADERS: usize = 16;
/// Most options (padding included) all Hop-by-Hop and Destination Options headers of a packet
/// may carry together before it is refused as unsupported.
pub const MAX_OPTIONS: usize = 64;
/// Length of a Fragment header (RFC 8200 §4.5).
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// Option type 0, Pad1: a single octet of padding (RFC 8200 §4.2).
const OPTION_PAD1: u8 = 0;
/// Option type 1, PadN: two or more octets of padding (RFC 8200 §4.2).
const OPTION_PADN: u8 = 1;
/// Option type 5, Router Alert (RFC 2711 §2.1), in Hop-by-Hop headers.
const OPTION_ROUTER_ALERT: u8 = 5;
/// Option type 0xc2, Jumbo Payload (RFC 2675 §2), in Hop-by-Hop headers.
const OPTION_JUMBO_PAYLOAD: u8 = 0xc2;
/// Fragment header: the M flag in the offset word.
const FRAGMENT_MORE: u16 = 0x0001;
/// Fragment header: the two reserved bits in the offset word.
const FRAGMENT_RESERVED_BITS: u16 = 0x0006;

/// The extension headers this stack walks; every other Next Header value ends the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExtHeaderKind {
    /// Hop-by-Hop Options (RFC 8200 §4.3), Next Header 0.
    HopByHop,
    /// Destination Options (RFC 8200 §4.6), Next Header 60.
    DestinationOptions,
    /// Routing (RFC 8200 §4.4), Next Header 43.
    Routing,
    /// Fragment (RFC 8200 §4.5), Next Header 44.
    Fragment,
}

impl ExtHeaderKind {
    /// The kind a Next Header value names, if it is an extension header walked here.
    pub const fn from_proto(proto: IpProto) -> Option<Self> {
        match proto {
            IpProto::HOP_BY_HOP => Some(Self::HopByHop),
            IpProto::DESTINATION_OPTIONS => Some(Self::DestinationOptions),
            IpProto::ROUTING => Some(Self::Routing),
            IpProto::FRAGMENT => Some(Self::Fragment),
            _ => None,
        }
    }

    /// The Next Header value naming this kind.
    pub const fn proto(self) -> IpProto {
        match self {
            Self::HopByHop => IpProto::HOP_BY_HOP,
            Self::DestinationOptions => IpProto::DESTINATION_OPTIONS,
            Self::Routing => IpProto::ROUTING,
            Self::Fragment => IpProto::FRAGMENT,
        }
    }
}

/// The length of the header of `kind` at the start of `bytes`, if its length field is there:
/// 8 for a Fragment header, else (Hdr Ext Len + 1) 8-octet units (RFC 8200 §4.3–§4.6).
pub(super) fn header_len(kind: ExtHeaderKind, bytes: &[u8]) -> Option<usize> {
    match kind {
        ExtHeaderKind::Fragment => Some(FRAGMENT_HEADER_LEN),
        _ => bytes.get(1).map(|&ext_len| (usize::from(ext_len) + 1) * 8),
    }
}

/// One extension header of a parsed packet, as it appeared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    kind: ExtHeaderKind,
    next_header: IpProto,
    bytes: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// What header this is.
    pub fn kind(&self) -> ExtHeaderKind {
        self.kind
    }

    /// Its Next Header field.
    pub fn next_header(&self) -> IpProto {
        self.next_header
    }

    /// The whole header, Next Header field included.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Iterator over the extension headers of a parsed packet; see
/// [`Ipv6Packet::ext_headers`](super::Ipv6Packet::ext_headers).
#[derive(Clone, Debug)]
pub struct ExtHeaderIter<'a> {
    next: IpProto,
    rest: &'a [u8],
}

impl<'a> ExtHeaderIter<'a> {
    /// The headers of `chain`, the first of which `first` names.
    pub(super) fn new(first: IpProto, chain: &'a [u8]) -> Self {
        Self { next: first, rest: chain }
    }
}

impl<'a> Iterator for ExtHeaderIter<'a> {
    type Item = ExtHeader<'a>;

    fn next(&mut self) -> Option<ExtHeader<'a>> {
        let kind = ExtHeaderKind::from_proto(self.next)?;
        let (bytes, rest) = self.rest.split_at_checked(header_len(kind, self.rest)?)?;
        let next_header = IpProto(*bytes.first()?);
        self.next = next_header;
        self.rest = rest;
        Some(ExtHeader { kind, next_header, bytes })
    }
}

/// The fields of a Fragment header besides Next Header (RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragmentHeader {
    /// Where this fragment's data lies in the Fragmentable Part.
    pub offset: FragmentOffset,
    /// The M flag: more fragments follow.
    pub more_fragments: bool,
    /// Identification.
    pub id: u32,
}

impl FragmentHeader {
    /// The header as written, with reserved fields zero (RFC 8200 §4.5).
    pub(super) fn to_raw(self, next_header: IpProto) -> RawFragmentHeader {
        let more = if self.more_fragments { FRAGMENT_MORE } else { 0 };
        RawFragmentHeader {
            next_header: next_header.0,
            reserved: 0,
            offset_flags: U16::new((self.offset.units() << 3) | more),
            id: U32::new(self.id),
        }
    }
}

/// A Fragment header on the wire.
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct RawFragmentHeader {
    next_header: u8,
    reserved: u8,
    offset_flags: U16,
    id: U32,
}

impl RawFragmentHeader {
    fn fields(&self) -> FragmentHeader {
        let offset_flags = self.offset_flags.get();
        FragmentHeader {
            offset: FragmentOffset::from_low_bits(offset_flags >> 3),
            more_fragments: offset_flags & FRAGMENT_MORE != 0,
            id: self.id.get(),
        }
    }

    /// Whether both reserved fields are zero, as [`FragmentHeader::to_raw`] writes them.
    fn reserved_clear(&self) -> bool {
        self.reserved == 0 && self.offset_flags.get() & FRAGMENT_RESERVED_BITS == 0
    }
}

/// A Fragment header the walk found.
#[derive(Clone, Copy, Debug)]
pub(super) struct FoundFragment {
    /// Offset of the header in the extension-header chain.
    pub(super) at: usize,
    /// Its fields.
    pub(super) header: FragmentHeader,
    /// Whether its reserved fields are zero.
    pub(super) reserved_clear: bool,
}

impl FoundFragment {
    /// The first of a datagram's several fragments: offset 0, more to come.
    fn is_first_of_several(&self) -> bool {
        self.header.offset == FragmentOffset::ZERO && self.header.more_fragments
    }
}

/// What walking a packet's extension headers found.
#[derive(Debug)]
pub(super) struct Chain {
    /// Bytes of extension headers.
    pub(super) len: usize,
    /// The Next Header value after the last one: the upper-layer protocol, or for a fragment
    /// at a non-zero offset whatever its data starts with.
    pub(super) proto: IpProto,
    /// The Fragment header, if there was one.
    pub(super) fragment: Option<FoundFragment>,
    /// The value of the first Router Alert option of the Hop-by-Hop header.
    pub(super) router_alert: Option<u16>,
}

/// A parameter problem pointing at byte `at` of the packet (RFC 8200 §4, RFC 4443 §3.4).
fn problem(at: usize, code: ParameterProblemCode, action: ProblemAction) -> ParseError {
    let pointer = u32::try_from(at).unwrap_or(u32::MAX);
    ParseError::new(Layer::Ipv6, ParseErrorKind::ParameterProblem { pointer, code, action })
}

/// A parameter problem, code 0, at byte `at`.
fn erroneous_field(at: usize) -> ParseError {
    problem(at, ParameterProblemCode::ErroneousHeaderField, ProblemAction::DiscardAndSendIcmp)
}

/// A parameter problem, code 1, for a Hop-by-Hop header anywhere but first: RFC 8200 §4 treats
/// a Next Header of 0 in any header but the IPv6 header as unrecognized; `at` is that field.
fn misplaced_hop_by_hop(at: usize) -> ParseError {
    problem(at, ParameterProblemCode::UnrecognizedNextHeader, ProblemAction::DiscardAndSendIcmp)
}

fn truncated() -> ParseError {
    ParseError::truncated(Layer::Ipv6)
}

fn unsupported(what: &'static str) -> ParseError {
    ParseError::new(Layer::Ipv6, ParseErrorKind::Unsupported(what))
}

/// RFC 8200 §4.2: the two high-order bits of an unrecognized option's type say what to do.
fn unrecognized_option(kind: u8, at: usize) -> Result<(), ParseError> {
    let action = match kind >> 6 {
        0b00 => return Ok(()),
        0b01 => ProblemAction::Discard,
        0b10 => ProblemAction::DiscardAndSendIcmp,
        _ => ProblemAction::DiscardAndSendIcmpUnlessMulticast,
    };
    Err(problem(at, ParameterProblemCode::UnrecognizedOption, action))
}

/// One extension header, checked.
struct Checked {
    len: usize,
    next: IpProto,
    fragment: Option<(FragmentHeader, bool)>,
}

/// The state of one walk over a chain: counts that bound the work, and what was found.
#[derive(Default)]
struct Walk {
    headers: usize,
    options: usize,
    router_alert: Option<u16>,
}

impl Walk {
    /// Counts one more header, refusing more than `limit`.
    fn enter_header(&mut self, limit: usize) -> Result<(), ParseError> {
        if self.headers >= limit {
            return Err(unsupported("extension header chain too long"));
        }
        self.headers += 1;
        Ok(())
    }

    /// Checks the header of `kind` at the start of `bytes`, which lies `at` bytes into the
    /// packet; for a Fragment header `bytes` runs to the end of the payload.
    fn header(&mut self, kind: ExtHeaderKind, bytes: &[u8], at: usize) -> Result<Checked, ParseError> {
        match kind {
            ExtHeaderKind::Fragment => fragment(bytes, at),
            ExtHeaderKind::HopByHop | ExtHeaderKind::DestinationOptions => {
                let (header, next) = sized_header(bytes)?;
                self.options(header, at, kind == ExtHeaderKind::HopByHop)?;
                Ok(Checked { len: header.len(), next, fragment: None })
            }
            ExtHeaderKind::Routing => {
                let (header, next) = sized_header(bytes)?;
                // RFC 8200 §4.4: no routing type is recognized here (type 0 is deprecated,
                // RFC 5095 §3). With Segments Left 0 the header is ignored; otherwise the
                // packet is discarded with a pointer at the Routing Type field.
                if header.get(3).is_some_and(|&segments_left| segments_left != 0) {
                    return Err(erroneous_field(at + 2));
                }
                Ok(Checked { len: header.len(), next, fragment: None })
            }
        }
    }

    /// Checks the options of a Hop-by-Hop or Destination Options `header` (RFC 8200 §4.2).
    /// Option errors point at the option's length octet (or its type octet if the header ends
    /// before it); unrecognized options at their type octet.
    fn options(&mut self, header: &[u8], at: usize, hop_by_hop: bool) -> Result<(), ParseError> {
        let mut pos = 2;
        while let Some(&kind) = header.get(pos) {
            if self.options >= MAX_OPTIONS {
                return Err(unsupported("too many options"));
            }
            self.options += 1;
            if kind == OPTION_PAD1 {
                pos += 1;
                continue;
            }
            let len_at = pos + 1;
            let data_len = *header.get(len_at).ok_or_else(|| erroneous_field(at + pos))?;
            let end = len_at + 1 + usize::from(data_len);
            let data = header.get(len_at + 1..end).ok_or_else(|| erroneous_field(at + len_at))?;
            match kind {
                OPTION_PADN => {}
                // RFC 2711 §2.1: Opt Data Len is 2.
                OPTION_ROUTER_ALERT if hop_by_hop => match *data {
                    [high, low] => {
                        self.router_alert.get_or_insert(u16::from_be_bytes([high, low]));
                    }
                    _ => return Err(erroneous_field(at + len_at)),
                },
                // RFC 2675 §3: a Jumbo Payload option when the Payload Length is not zero (a
                // zero one was refused before the walk) is pointed at by its type octet.
                OPTION_JUMBO_PAYLOAD if hop_by_hop => return Err(erroneous_field(at + pos)),
                _ => unrecognized_option(kind, at + pos)?,
            }
            pos = end;
        }
        Ok(())
    }
}

/// The Hop-by-Hop, Destination Options or Routing header at the start of `bytes`, sized by
/// its Hdr Ext Len, and its Next Header.
fn sized_header(bytes: &[u8]) -> Result<(&[u8], IpProto), ParseError> {
    let &[next_header, ext_len, ..] = bytes else {
        return Err(truncated());
    };
    let header = bytes.get(..(usize::from(ext_len) + 1) * 8).ok_or_else(truncated)?;
    Ok((header, IpProto(next_header)))
}

/// Checks the Fragment header at the start of `bytes`, which runs to the end of the payload
/// `at` bytes into the packet (RFC 8200 §4.5).
fn fragment(bytes: &[u8], at: usize) -> Result<Checked, ParseError> {
    let (raw, data) = RawFragmentHeader::ref_from_prefix(bytes).map_err(|_| truncated())?;
    let header = raw.fields();
    // §4.5: a fragment that is not the last must carry a multiple of 8 octets; the pointer is
    // the Payload Length field.
    if header.more_fragments && data.len() % 8 != 0 {
        return Err(erroneous_field(PAYLOAD_LEN_FIELD_AT));
    }
    // §4.5: the reassembled Payload Length (per-fragment extension headers, then the
    // Fragmentable Part up to this fragment's end) must not exceed 65535; the pointer is the
    // Fragment Offset field.
    let per_fragment_ext_len = at.saturating_sub(FIXED_HEADER_LEN);
    if per_fragment_ext_len + header.offset.bytes() + data.len() > MAX_PAYLOAD_LEN {
        return Err(erroneous_field(at + 2));
    }
    Ok(Checked {
        len: FRAGMENT_HEADER_LEN,
        next: IpProto(raw.next_header),
        fragment: Some((header, raw.reserved_clear())),
    })
}

/// Walks the extension headers at the start of `payload`, the first of which the IPv6
/// header's Next Header `first` names, up to the upper-layer header or, after a Fragment
/// header with a non-zero offset, the fragment data (RFC 8200 §4.5).
pub(super) fn walk_chain(first: IpProto, payload: &[u8]) -> Result<Chain, ParseError> {
    let mut walk = Walk::default();
    let mut next = first;
    let mut next_header_at = NEXT_HEADER_FIELD_AT;
    let mut pos = 0;
    let mut fragment = None;
    while let Some(kind) = ExtHeaderKind::from_proto(next) {
        // RFC 8200 §4.1, §4.3: Hop-by-Hop only directly after the IPv6 header.
        if kind == ExtHeaderKind::HopByHop && pos != 0 {
            return Err(misplaced_hop_by_hop(next_header_at));
        }
        walk.enter_header(MAX_EXT_HEADERS)?;
        let at = FIXED_HEADER_LEN + pos;
        let checked = walk.header(kind, payload.get(pos..).unwrap_or_default(), at).map_err(|e| {
            // RFC 7112 §5: a first fragment must hold the whole header chain.
            if fragment.is_some_and(|f: FoundFragment| f.is_first_of_several())
                && e.kind == ParseErrorKind::Truncated
            {
                incomplete_header_chain()
            } else {
                e
            }
        })?;
        let start = pos;
        pos += checked.len;
        next = checked.next;
        next_header_at = at;
        if let Some((header, reserved_clear)) = checked.fragment {
            // RFC 8200 §4.1: a Fragment header occurs at most once; a second one would only
            // be meaningful after reassembly of the first.
            if fragment.is_some() {
                return Err(unsupported("more than one Fragment header"));
            }
            fragment = Some(FoundFragment { at: start, header, reserved_clear });
            // §4.5: after a fragment with a non-zero offset comes fragment data, not headers.
            if header.offset != FragmentOffset::ZERO {
                break;
            }
        }
    }
    // RFC 7112 §5: ... and the upper-layer header, as far as its fixed part goes.
    if fragment.is_some_and(|f| f.is_first_of_several())
        && payload.len().saturating_sub(pos) < min_upper_layer_header_len(next)
    {
        return Err(incomplete_header_chain());
    }
    Ok(Chain { len: pos, proto: next, fragment, router_alert: walk.router_alert })
}

/// The fixed part of an upper-layer header a first fragment must carry (RFC 7112 §5); 0 for
/// protocols whose headers this stack does not know.
fn min_upper_layer_header_len(proto: IpProto) -> usize {
    match proto {
        IpProto::TCP => 20,
        IpProto::UDP => 8,
        IpProto::ICMPV6 => 4,
        _ => 0,
    }
}

/// RFC 7112 §5: discard, and answer with a Parameter Problem code 3 whose pointer is 0.
fn incomplete_header_chain() -> ParseError {
    ParseError::new(
        Layer::Ipv6,
        ParseErrorKind::ParameterProblem {
            pointer: 0,
            code: ParameterProblemCode::IncompleteHeaderChain,
            action: ProblemAction::DiscardAndSendIcmp,
        },
    )
}

/// Extension headers a builder writes as given: one or more Hop-by-Hop (first only),
/// Destination Options and Routing headers, each checked as a receiver would check it. The
/// Next Header field of the last one is rewritten when serializing, to whatever follows the
/// chain, so two chains that differ only there are equal.
///
/// A Fragment header is not part of a raw chain: it is
/// [`Ipv6Builder::fragment`](super::Ipv6Builder::fragment), written after the chain.
#[derive(Clone, Copy, Debug)]
pub struct ExtHeaderChain<'a> {
    first: ExtHeaderKind,
    bytes: &'a [u8],
    last_at: usize,
}

impl ExtHeaderChain<'static> {
    /// The Hop-by-Hop header of MLD messages (RFC 3810 §5, RFC 2711 §2.1): Router Alert with
    /// value 0, then a two-octet PadN, the layout Linux sends.
    pub const HOP_BY_HOP_ROUTER_ALERT_MLD: Self = Self {
        first: ExtHeaderKind::HopByHop,
        bytes: &[IpProto::ICMPV6.0, 0, OPTION_ROUTER_ALERT, 2, 0, 0, OPTION_PADN, 0],
        last_at: 0,
    };
}

impl<'a> ExtHeaderChain<'a> {
    /// Checks `bytes` as a chain of extension headers, the first of kind `first`: every
    /// header well formed and acceptable to a receiver, the chain ending exactly at the end
    /// of `bytes`, at most [`MAX_EXT_HEADERS`] − 1 headers (room for a Fragment header). The
    /// error is the one a receiver would report, as if the chain followed an IPv6 header.
    pub fn new(first: ExtHeaderKind, bytes: &'a [u8]) -> Result<Self, ParseError> {
        let mut walk = Walk::default();
        let mut kind = first;
        let mut next_header_at = NEXT_HEADER_FIELD_AT;
        let mut pos = 0;
        loop {
            if kind == ExtHeaderKind::Fragment {
                return Err(unsupported("Fragment header in a raw extension header chain"));
            }
            if kind == ExtHeaderKind::HopByHop && pos != 0 {
                return Err(misplaced_hop_by_hop(next_header_at));
            }
            walk.enter_header(MAX_EXT_HEADERS - 1)?;
            let at = FIXED_HEADER_LEN + pos;
            let checked = walk.header(kind, bytes.get(pos..).unwrap_or_default(), at)?;
            let start = pos;
            pos += checked.len;
            if pos == bytes.len() {
                return Ok(Self { first, bytes, last_at: start });
            }
            kind = ExtHeaderKind::from_proto(checked.next).ok_or(ParseError::new(
                Layer::Ipv6,
                ParseErrorKind::Length("bytes after the last extension header"),
            ))?;
            next_header_at = at;
        }
    }

    /// The chain of a parsed packet, already checked by the walk; `bytes` is not empty.
    pub(super) fn from_parsed(first: ExtHeaderKind, bytes: &'a [u8]) -> Self {
        let mut pos = 0;
        let mut last_at = 0;
        for header in ExtHeaderIter::new(first.proto(), bytes) {
            last_at = pos;
            pos += header.bytes().len();
        }
        Self { first, bytes, last_at }
    }

    /// The kind of the first header.
    pub fn first(&self) -> ExtHeaderKind {
        self.first
    }

    /// The headers as given.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Writes the chain into `target` (exactly as long), with `next` as the Next Header of
    /// the last header.
    pub(super) fn write(&self, target: &mut [u8], next: IpProto) {
        target.copy_from_slice(self.bytes);
        if let Some(last_next_header) = target.get_mut(self.last_at) {
            *last_next_header = next.0;
        }
    }

    /// The bytes before and after the last header's Next Header field.
    fn around_last_next_header(&self) -> (&'a [u8], &'a [u8]) {
        let (before, from) = self.bytes.split_at_checked(self.last_at).unwrap_or((self.bytes, &[]));
        (before, from.get(1..).unwrap_or_default())
    }
}

impl PartialEq for ExtHeaderChain<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.first == other.first && self.around_last_next_header() == other.around_last_next_header()
    }
}

impl Eq for ExtHeaderChain<'_> {}
