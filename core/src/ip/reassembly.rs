//! IP fragment reassembly, written once for IPv4 and IPv6: a bounded table of partly received
//! datagrams, each collected into one buffer and handed back whole, with a header the IP layer
//! can parse again.
//!
//! Implements:
//! * RFC 791 §3.2 (IPv4) and RFC 8200 §4.5 (IPv6) reassembly: the key (IPv4 source,
//!   destination, protocol and Identification; IPv6 source, destination and Identification),
//!   the last fragment fixing the length, every fragment but the last carrying a multiple of
//!   8 bytes, the 65535-byte limit, the timeout (IPv4 30 s like Linux's `ipfrag_time`, IPv6
//!   60 s) and the reassembled header (IPv4: the first fragment's, with More Fragments and
//!   the offset cleared; IPv6: the first fragment's Per-Fragment headers, the last one's Next
//!   Header taken from the Fragment header and the Payload Length recomputed).
//! * RFC 815: received data is tracked as a sorted list of filled ranges (the complement of
//!   its hole list), bounded by the per-datagram fragment limit.
//! * RFC 5722 §4: overlapping fragments discard the whole datagram and every fragment of it
//!   that arrives until the timeout. Linux applies the same rule to IPv4 since 4.19 and so do
//!   we. Exact duplicates (same offset and length) are ignored (RFC 8200 §4.5); like Linux we
//!   do not compare their bytes.
//! * RFC 6946 §4: an atomic fragment (offset 0, M clear) is reassembled on its own at once,
//!   never mixed with queued fragments.
//! * RFC 792 and RFC 8200 §4.5 / RFC 4443 §3.3: on timeout, if the first fragment arrived,
//!   the context is asked for an ICMP Time Exceeded, code 1, quoting it; never for a multicast
//!   destination.
//!
//! The key also holds the device the fragments arrived on when the destination is link-local
//! unicast or multicast, as Linux does for IPv6: such addresses are only unique per link
//! (RFC 4007 §6), while fragments of a global destination may arrive over several devices.
//!
//! Memory is bounded like Linux's `ipfrag_high_thresh` / `ipfrag_low_thresh`: every datagram
//! is charged its buffers plus a fixed per-datagram overhead, so a flood of tiny incomplete
//! fragments is bounded too; an insertion that would pass the high threshold first evicts the
//! oldest datagrams until the low threshold is reached.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Debug;
use core::hash::Hash;
use core::time::Duration;

use crate::addr::{Ip, IpAddress, Ipv4, Ipv6};
use crate::buf::{Buf, ParsablePacket, SerializeError};
use crate::context::TimerContext;
use crate::device::DeviceId;
use crate::wire::ipv4::{
    FragmentOffset, Ipv4Builder, Ipv4Options, Ipv4Packet, HEADER_LEN, MAX_HEADER_LEN, MAX_OPTIONS_LEN,
    MAX_PACKET_LEN,
};
use crate::wire::ipv6::{
    ExtHeaderChain, ExtHeaderKind, Ipv6Builder, Ipv6Packet, FIXED_HEADER_LEN, FRAGMENT_HEADER_LEN,
    MAX_PAYLOAD_LEN,
};
use crate::wire::{IpProto, Layer, ParseError};

/// What reassembly needs to know about an IP version; implemented by [`Ipv4`] and [`Ipv6`].
pub trait ReassemblyIpExt: Ip {
    /// What identifies a datagram's fragments besides the addresses: IPv4 Protocol and
    /// Identification (RFC 791 §3.2), IPv6 Identification (RFC 8200 §4.5).
    type FragmentId: Copy + Eq + Ord + Hash + Debug;
    /// The first fragment's header fields, kept to write the reassembled header.
    type HeaderFields: Clone + Debug;
    /// How long a datagram may take to arrive whole: IPv4 30 s (Linux `ipfrag_time`), IPv6
    /// 60 s (RFC 8200 §4.5).
    const DEFAULT_TIMEOUT: Duration;
    /// The shortest header a reassembled datagram has.
    const MIN_HEADER_LEN: usize;
    /// The longest reassembled datagram, headers included: IPv4 Total Length is 16 bits
    /// (RFC 791 §3.1); IPv6 Payload Length is 16 bits after the fixed header (RFC 8200 §4.5).
    const MAX_DATAGRAM_LEN: usize;
    /// Room reserved in front of a reassembly buffer whose first fragment has not arrived
    /// yet: the longest IPv4 header; the IPv6 fixed header.
    const DEFAULT_HEADROOM: usize;

    /// The length of the reassembled datagram's header, given the first fragment's fields
    /// and its header as received (for IPv6, Per-Fragment headers then Fragment header).
    fn reassembled_header_len(fields: &Self::HeaderFields, received_header: &[u8]) -> usize;

    /// Writes the reassembled datagram's header in front of `buf`'s body, which is the whole
    /// reassembled payload (IPv6: the Fragmentable Part).
    fn write_reassembled_header(
        fields: &Self::HeaderFields,
        received_header: &[u8],
        buf: &mut Buf<Vec<u8>>,
    ) -> Result<(), ReassemblyError>;
}

/// What identifies an IPv4 datagram's fragments besides the addresses (RFC 791 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4FragmentId {
    /// Protocol.
    pub proto: IpProto,
    /// Identification.
    pub id: u16,
}

/// The header of an IPv4 first fragment, owned: every field and the options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4HeaderFields {
    /// Every field but the options (which are [`Ipv4Options::NONE`] here).
    fields: Ipv4Builder<'static>,
    options: [u8; MAX_OPTIONS_LEN],
    options_len: usize,
}

impl Ipv4HeaderFields {
    /// Copies the fields and options of `builder`.
    pub fn from_builder(builder: &Ipv4Builder<'_>) -> Self {
        let bytes = builder.options.bytes();
        let options_len = bytes.len().min(MAX_OPTIONS_LEN);
        let mut options = [0; MAX_OPTIONS_LEN];
        options[..options_len].copy_from_slice(&bytes[..options_len]);
        let fields = Ipv4Builder {
            src: builder.src,
            dst: builder.dst,
            proto: builder.proto,
            ttl: builder.ttl,
            dscp: builder.dscp,
            ecn: builder.ecn,
            id: builder.id,
            reserved_flag: builder.reserved_flag,
            dont_fragment: builder.dont_fragment,
            more_fragments: builder.more_fragments,
            fragment_offset: builder.fragment_offset,
            options: Ipv4Options::NONE,
        };
        Self { fields, options, options_len }
    }

    /// The header of the reassembled datagram (RFC 791 §3.2): these fields with More
    /// Fragments and the offset cleared.
    fn reassembled(&self) -> Result<Ipv4Builder<'_>, ParseError> {
        let options = Ipv4Options::new(self.options.get(..self.options_len).unwrap_or_default())?;
        Ok(Ipv4Builder {
            more_fragments: false,
            fragment_offset: FragmentOffset::ZERO,
            options,
            ..self.fields
        })
    }
}

impl ReassemblyIpExt for Ipv4 {
    type FragmentId = Ipv4FragmentId;
    type HeaderFields = Ipv4HeaderFields;
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    const MIN_HEADER_LEN: usize = HEADER_LEN;
    const MAX_DATAGRAM_LEN: usize = MAX_PACKET_LEN;
    const DEFAULT_HEADROOM: usize = MAX_HEADER_LEN;

    fn reassembled_header_len(fields: &Ipv4HeaderFields, _received_header: &[u8]) -> usize {
        HEADER_LEN + fields.options_len.next_multiple_of(4)
    }

    fn write_reassembled_header(
        fields: &Ipv4HeaderFields,
        _received_header: &[u8],
        buf: &mut Buf<Vec<u8>>,
    ) -> Result<(), ReassemblyError> {
        Ok(buf.encapsulate(&fields.reassembled()?)?)
    }
}

/// The fixed header of an IPv6 first fragment, owned, and what its Per-Fragment headers
/// start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6HeaderFields {
    /// The fixed header's fields; `proto` is the Fragment header's Next Header, which the
    /// reassembled datagram's last Per-Fragment header carries (RFC 8200 §4.5).
    fields: Ipv6Builder<'static>,
    /// The kind of the first Per-Fragment extension header, if there are any.
    first_ext: Option<ExtHeaderKind>,
}

impl ReassemblyIpExt for Ipv6 {
    type FragmentId = u32;
    type HeaderFields = Ipv6HeaderFields;
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    const MIN_HEADER_LEN: usize = FIXED_HEADER_LEN;
    const MAX_DATAGRAM_LEN: usize = FIXED_HEADER_LEN + MAX_PAYLOAD_LEN;
    const DEFAULT_HEADROOM: usize = FIXED_HEADER_LEN;

    fn reassembled_header_len(_fields: &Ipv6HeaderFields, received_header: &[u8]) -> usize {
        received_header.len().saturating_sub(FRAGMENT_HEADER_LEN).max(FIXED_HEADER_LEN)
    }

    fn write_reassembled_header(
        fields: &Ipv6HeaderFields,
        received_header: &[u8],
        buf: &mut Buf<Vec<u8>>,
    ) -> Result<(), ReassemblyError> {
        // RFC 8200 §4.5: the Per-Fragment headers of the first fragment, without its Fragment
        // header; the builder writes the Fragment header's Next Header into the last of them
        // and computes the Payload Length.
        let per_fragment_len = Self::reassembled_header_len(fields, received_header);
        let ext = received_header.get(FIXED_HEADER_LEN..per_fragment_len).unwrap_or_default();
        let ext_headers = match (fields.first_ext, ext.is_empty()) {
            (_, true) => None,
            (Some(first), false) => Some(ExtHeaderChain::new(first, ext)?),
            (None, false) => return Err(ReassemblyError::BadHeader(ParseError::truncated(Layer::Ipv6))),
        };
        Ok(buf.encapsulate(&Ipv6Builder { ext_headers, ..fields.fields })?)
    }
}

/// One received fragment, as reassembly needs it. Build it from the packet bytes with
/// [`FragmentData::parse_ipv4`] or [`FragmentData::parse_ipv6`]; every field is checked
/// again by [`Reassembly::process_fragment`], so hand-made values cannot break it.
#[derive(Clone, Debug)]
pub struct FragmentData<'a, I: ReassemblyIpExt> {
    /// The device it arrived on.
    pub device: DeviceId,
    /// Source address.
    pub src: I::Addr,
    /// Destination address.
    pub dst: I::Addr,
    /// Identification (and, for IPv4, protocol).
    pub id: I::FragmentId,
    /// Where its data lies in the datagram's payload (IPv6: in the Fragmentable Part).
    pub offset: FragmentOffset,
    /// The More Fragments flag (M).
    pub more_fragments: bool,
    /// Its header as received: the IPv4 header; the IPv6 Per-Fragment headers followed by
    /// the Fragment header. Kept for the first fragment (offset 0) to quote in an ICMP Time
    /// Exceeded.
    pub header: &'a [u8],
    /// The header's fields, to write the reassembled header from the first fragment.
    pub fields: I::HeaderFields,
    /// Its data: everything after `header` up to the packet's length.
    pub payload: &'a [u8],
}

impl<'a> FragmentData<'a, Ipv4> {
    /// The fragment in `bytes`, a whole IPv4 packet as received (link padding allowed), or
    /// `None` if the packet is not a fragment (RFC 791 §3.2: More Fragments clear and offset
    /// zero).
    pub fn parse_ipv4(device: DeviceId, bytes: &'a [u8]) -> Result<Option<Self>, ParseError> {
        let packet = Ipv4Packet::parse_bytes(bytes, ())?;
        if !packet.is_fragment() {
            return Ok(None);
        }
        let header_len = packet.header_len();
        let total_len = usize::from(packet.total_len());
        let truncated = ParseError::truncated(Layer::Ipv4);
        Ok(Some(Self {
            device,
            src: packet.src_ip(),
            dst: packet.dst_ip(),
            id: Ipv4FragmentId { proto: packet.proto(), id: packet.id() },
            offset: packet.fragment_offset(),
            more_fragments: packet.more_fragments(),
            header: bytes.get(..header_len).ok_or(truncated)?,
            fields: Ipv4HeaderFields::from_builder(&packet.builder()),
            payload: bytes.get(header_len..total_len).ok_or(truncated)?,
        }))
    }
}

impl<'a> FragmentData<'a, Ipv6> {
    /// The fragment in `bytes`, a whole IPv6 packet as received (link padding allowed), or
    /// `None` if the packet has no Fragment header. An atomic fragment (RFC 6946) is a
    /// fragment here.
    pub fn parse_ipv6(device: DeviceId, bytes: &'a [u8]) -> Result<Option<Self>, ParseError> {
        let packet = Ipv6Packet::parse_bytes(bytes, ())?;
        let (Some(fragment), Some(per_fragment_len)) =
            (packet.fragment_header(), packet.per_fragment_headers_len())
        else {
            return Ok(None);
        };
        let truncated = ParseError::truncated(Layer::Ipv6);
        let next_header = packet
            .ext_headers()
            .find(|header| header.kind() == ExtHeaderKind::Fragment)
            .map(|header| header.next_header())
            .ok_or(truncated)?;
        let first_ext =
            ExtHeaderKind::from_proto(packet.next_header()).filter(|&kind| kind != ExtHeaderKind::Fragment);
        let fields = Ipv6Builder {
            src: packet.src_ip(),
            dst: packet.dst_ip(),
            proto: next_header,
            hop_limit: packet.hop_limit(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            flow_label: packet.flow_label(),
            ext_headers: None,
            fragment: None,
        };
        let data_start = per_fragment_len + FRAGMENT_HEADER_LEN;
        let end = FIXED_HEADER_LEN + usize::from(packet.payload_len());
        Ok(Some(Self {
            device,
            src: packet.src_ip(),
            dst: packet.dst_ip(),
            id: fragment.id,
            offset: fragment.offset,
            more_fragments: fragment.more_fragments,
            header: bytes.get(..data_start).ok_or(truncated)?,
            fields: Ipv6HeaderFields { fields, first_ext },
            payload: bytes.get(data_start..end).ok_or(truncated)?,
        }))
    }
}

/// Identifies one datagram being reassembled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReassemblyKey<I: ReassemblyIpExt> {
    /// Source address.
    pub src: I::Addr,
    /// Destination address.
    pub dst: I::Addr,
    /// Identification (and, for IPv4, protocol).
    pub id: I::FragmentId,
    /// The device, for link-local unicast and multicast destinations only (see the module
    /// documentation).
    pub device: Option<DeviceId>,
}

impl<I: ReassemblyIpExt> ReassemblyKey<I> {
    /// The key of `fragment`.
    pub fn of(fragment: &FragmentData<'_, I>) -> Self {
        let link_scoped = fragment.dst.is_multicast() || fragment.dst.is_link_local_unicast();
        Self {
            src: fragment.src,
            dst: fragment.dst,
            id: fragment.id,
            device: link_scoped.then_some(fragment.device),
        }
    }
}

/// The timer of one datagram: its reassembly timeout, or for a datagram discarded for
/// overlapping fragments, the end of the time its fragments are still dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReassemblyTimerId<I: ReassemblyIpExt>(pub ReassemblyKey<I>);

/// Limits of the reassembly table, one per IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Bytes of memory the table may hold; an insertion that would pass it evicts the oldest
    /// datagrams first (Linux `ipfrag_high_thresh`, 4 MiB).
    pub high_thresh: usize,
    /// Eviction goes on until the table holds no more than this (Linux `ipfrag_low_thresh`,
    /// 3 MiB).
    pub low_thresh: usize,
    /// Most fragments a datagram may consist of; one more discards it (64; 65535 bytes over
    /// a 1280-byte MTU take 52).
    pub max_fragments: usize,
    /// How long a datagram may take to arrive whole, from its first received fragment
    /// ([`ReassemblyIpExt::DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
}

impl ReassemblyConfig {
    /// Linux's defaults for IP version `I`.
    pub fn default_for<I: ReassemblyIpExt>() -> Self {
        Self {
            high_thresh: 4 * 1024 * 1024,
            low_thresh: 3 * 1024 * 1024,
            max_fragments: 64,
            timeout: I::DEFAULT_TIMEOUT,
        }
    }
}

/// Reassembly events and drops, by reason. Each fragment is counted once in `reasm_reqds`;
/// each refusal once in `reasm_fails` and once under its reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyCounters {
    /// Fragments received (`ReasmReqds`).
    pub reasm_reqds: u64,
    /// Datagrams reassembled, atomic fragments included (`ReasmOKs`).
    pub reasm_oks: u64,
    /// Failures (`ReasmFails`): every fragment refused and every datagram discarded, whether
    /// for timeout, overlap, length, fragment count or memory.
    pub reasm_fails: u64,
    /// Datagrams discarded because their timeout expired (`ReasmTimeout`).
    pub reasm_timeout: u64,
    /// Datagrams discarded for overlapping fragments (`ReasmOverlaps`).
    pub reasm_overlaps: u64,
    /// Datagrams (and discarded-datagram records) evicted to bring memory below the low
    /// threshold.
    pub reasm_mem_evictions: u64,
    /// Exact duplicate fragments ignored.
    pub duplicates: u64,
    /// Fragments refused for being empty, or not the last and not a multiple of 8 bytes.
    pub bad_length: u64,
    /// Fragments refused because the datagram would pass the maximum length.
    pub too_long: u64,
    /// Datagrams discarded for having more than `max_fragments` fragments.
    pub too_many_fragments: u64,
    /// Datagrams discarded because a fragment contradicted the length the last fragment set.
    pub inconsistent_length: u64,
    /// Fragments dropped because their datagram was discarded for overlap within the timeout.
    pub after_overlap: u64,
    /// Fragments refused because their datagram alone would pass the high threshold (the
    /// datagram is discarded).
    pub memory_exhausted: u64,
    /// Datagrams whose first fragment's header could not be written again.
    pub bad_header: u64,
}

/// Why a fragment was refused or its datagram discarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReassemblyError {
    /// The fragment carries no data.
    #[error("empty fragment at offset {offset}")]
    Empty {
        /// Offset in bytes.
        offset: usize,
    },
    /// A fragment that is not the last carries a length that is not a multiple of 8
    /// (RFC 791 §3.2, RFC 8200 §4.5).
    #[error("fragment of {len} bytes at offset {offset} is not the last but not a multiple of 8 bytes")]
    NotMultipleOf8 {
        /// Offset in bytes.
        offset: usize,
        /// Data length.
        len: usize,
    },
    /// The reassembled datagram would pass the maximum length (RFC 791 §3.1, RFC 8200 §4.5).
    #[error("reassembled datagram would be at least {len} bytes, beyond the maximum of {max}")]
    TooLong {
        /// Length it would at least have.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The fragment overlaps data already received; the datagram is discarded (RFC 5722 §4).
    #[error("fragment at bytes {start}..{end} overlaps data already received; datagram discarded")]
    Overlap {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
    },
    /// The datagram was discarded for overlapping fragments and its fragments are dropped
    /// until its timeout (RFC 5722 §4).
    #[error("datagram discarded for overlapping fragments; its fragments are dropped until the timeout")]
    DatagramDiscarded,
    /// The datagram has more fragments than the configured maximum; it is discarded.
    #[error("datagram exceeds {max} fragments; discarded")]
    TooManyFragments {
        /// The configured maximum.
        max: usize,
    },
    /// The fragment contradicts the length the last fragment set (data beyond it, or a second
    /// last fragment ending elsewhere); the datagram is discarded.
    #[error(
        "fragment at bytes {start}..{end} contradicts the datagram length of {len} bytes; datagram discarded"
    )]
    InconsistentLength {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
        /// The length from the last fragment, or the end of data already received.
        len: usize,
    },
    /// The datagram alone would need more memory than the high threshold; it is discarded.
    #[error("datagram needs {needed} bytes of reassembly memory, beyond the limit of {limit}")]
    MemoryExhausted {
        /// Bytes it would be charged.
        needed: usize,
        /// The high threshold.
        limit: usize,
    },
    /// The first fragment's header could not be written again.
    #[error("first fragment's header cannot be written again: {0}")]
    BadHeader(#[from] ParseError),
    /// The reassembled datagram could not be serialized.
    #[error("reassembled datagram cannot be serialized: {0}")]
    Serialize(#[from] SerializeError),
}

/// What became of an accepted fragment.
#[derive(Debug)]
pub enum FragmentOutcome {
    /// Kept; the datagram is not complete yet.
    Pending,
    /// An exact duplicate of a fragment already received; ignored (RFC 8200 §4.5).
    Duplicate,
    /// The datagram is complete: the buffer's body is the whole datagram, header included,
    /// ready to be parsed again as an unfragmented packet.
    Reassembled(Buf<Vec<u8>>),
}

/// A request for an ICMP Time Exceeded, code 1 "fragment reassembly time exceeded" (RFC 792;
/// RFC 4443 §3.3 for IPv6), quoting the first fragment as it arrived. The ICMP module still
/// applies its own rules (RFC 1122 §3.2.2, RFC 4443 §2.4(e): no errors about non-unicast
/// sources, rate limits) and truncates the quote.
#[derive(Clone, Copy, Debug)]
pub struct TimeExceededRequest<'a, I: ReassemblyIpExt> {
    /// The device the first fragment arrived on.
    pub device: DeviceId,
    /// The datagram's source, to which the error goes.
    pub src: I::Addr,
    /// The datagram's destination (never multicast).
    pub dst: I::Addr,
    /// The first fragment's header as received.
    pub header: &'a [u8],
    /// The first fragment's data.
    pub data: &'a [u8],
}

/// What reassembly asks of the stack around it.
pub trait ReassemblyContext<I: ReassemblyIpExt> {
    /// Sends an ICMP Time Exceeded, code 1, about a datagram whose reassembly timed out.
    fn send_reassembly_time_exceeded(&mut self, request: TimeExceededRequest<'_, I>);
}

/// A range of received bytes of a datagram's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

/// The first fragment, kept for the reassembled header and the ICMP quote.
#[derive(Debug)]
struct FirstFragment<I: ReassemblyIpExt> {
    device: DeviceId,
    header: Vec<u8>,
    fields: I::HeaderFields,
    data_len: usize,
}

/// A datagram being reassembled.
#[derive(Debug)]
struct Datagram<I: ReassemblyIpExt> {
    /// `headroom` bytes for the reassembled header, then the payload received so far (its
    /// length is `headroom` plus the furthest end received).
    buffer: Vec<u8>,
    headroom: usize,
    /// The fragments received, sorted and disjoint (RFC 815's holes are the gaps).
    spans: Vec<Span>,
    /// Bytes received: all of them once this equals the total length.
    received: usize,
    /// The payload length, once the last fragment arrived.
    total_len: Option<usize>,
    first: Option<FirstFragment<I>>,
}

impl<I: ReassemblyIpExt> Datagram<I> {
    /// Bytes of heap this datagram holds.
    fn heap_bytes(&self) -> usize {
        self.buffer.capacity()
            + self.spans.capacity() * size_of::<Span>()
            + self.first.as_ref().map_or(0, |first| first.header.capacity())
    }

    /// The furthest end of the data received.
    fn extent(&self) -> usize {
        self.spans.last().map_or(0, |span| span.end)
    }
}

/// A table entry.
#[derive(Debug)]
enum EntryState<I: ReassemblyIpExt> {
    Reassembling(Datagram<I>),
    /// Discarded for overlapping fragments; its fragments are dropped until the timer fires
    /// (RFC 5722 §4).
    Discarded,
}

#[derive(Debug)]
struct Entry<I: ReassemblyIpExt> {
    /// Creation order, the key of the age index.
    seq: u64,
    /// Bytes charged against the thresholds.
    charged: usize,
    state: EntryState<I>,
}

/// How an accepted fragment goes into its datagram.
struct Placement {
    /// Where in the span list.
    index: usize,
    /// Headroom of the buffer (fixed when the buffer is made).
    headroom: usize,
    /// Capacity the buffer needs.
    buffer_capacity: usize,
    /// Capacity the span list needs.
    spans_capacity: usize,
    /// Bytes the datagram will be charged.
    charge: usize,
}

/// Estimate of the ordered maps' own bookkeeping per entry (node headers and spare slots).
const TREE_ALLOWANCE: usize = 64;

/// The reassembly table of one IP version. See the [module documentation](self).
#[derive(Debug)]
pub struct Reassembly<I: ReassemblyIpExt> {
    config: ReassemblyConfig,
    datagrams: BTreeMap<ReassemblyKey<I>, Entry<I>>,
    /// Entries by creation order, for eviction.
    by_age: BTreeMap<u64, ReassemblyKey<I>>,
    next_seq: u64,
    memory: usize,
    counters: ReassemblyCounters,
}

impl<I: ReassemblyIpExt> Default for Reassembly<I> {
    fn default() -> Self {
        Self::new(ReassemblyConfig::default_for::<I>())
    }
}

impl<I: ReassemblyIpExt> Reassembly<I> {
    /// An empty table with limits `config`.
    pub fn new(config: ReassemblyConfig) -> Self {
        Self {
            config,
            datagrams: BTreeMap::new(),
            by_age: BTreeMap::new(),
            next_seq: 0,
            memory: 0,
            counters: ReassemblyCounters::default(),
        }
    }

    /// The limits.
    pub fn config(&self) -> &ReassemblyConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &ReassemblyCounters {
        &self.counters
    }

    /// Bytes charged against the thresholds now.
    pub fn memory_used(&self) -> usize {
        self.memory
    }

    /// Datagrams held: those being reassembled and those discarded for overlap whose
    /// fragments are still being dropped.
    pub fn len(&self) -> usize {
        self.datagrams.len()
    }

    /// Whether the table holds nothing.
    pub fn is_empty(&self) -> bool {
        self.datagrams.is_empty()
    }

    /// The fixed charge of a table entry: the entry in both maps plus their bookkeeping.
    fn entry_overhead() -> usize {
        size_of::<(ReassemblyKey<I>, Entry<I>)>() + size_of::<(u64, ReassemblyKey<I>)>() + TREE_ALLOWANCE
    }

    /// Takes in one fragment. Returns the whole datagram when this fragment completes it.
    /// Schedules the datagram's timer when its first fragment arrives (whichever that is)
    /// and cancels it when the datagram completes or is evicted.
    pub fn process_fragment<C: TimerContext<ReassemblyTimerId<I>>>(
        &mut self,
        ctx: &mut C,
        fragment: FragmentData<'_, I>,
    ) -> Result<FragmentOutcome, ReassemblyError> {
        self.counters.reasm_reqds += 1;
        let result = self.process(ctx, &fragment);
        let counters = &mut self.counters;
        match &result {
            Ok(FragmentOutcome::Pending) => {}
            Ok(FragmentOutcome::Duplicate) => counters.duplicates += 1,
            Ok(FragmentOutcome::Reassembled(_)) => counters.reasm_oks += 1,
            Err(error) => {
                counters.reasm_fails += 1;
                let reason = match error {
                    ReassemblyError::Empty { .. } | ReassemblyError::NotMultipleOf8 { .. } => {
                        &mut counters.bad_length
                    }
                    ReassemblyError::TooLong { .. } => &mut counters.too_long,
                    ReassemblyError::Overlap { .. } => &mut counters.reasm_overlaps,
                    ReassemblyError::DatagramDiscarded => &mut counters.after_overlap,
                    ReassemblyError::TooManyFragments { .. } => &mut counters.too_many_fragments,
                    ReassemblyError::InconsistentLength { .. } => &mut counters.inconsistent_length,
                    ReassemblyError::MemoryExhausted { .. } => &mut counters.memory_exhausted,
                    ReassemblyError::BadHeader(_) | ReassemblyError::Serialize(_) => &mut counters.bad_header,
                };
                *reason += 1;
            }
        }
        result
    }

    fn process<C: TimerContext<ReassemblyTimerId<I>>>(
        &mut self,
        ctx: &mut C,
        fragment: &FragmentData<'_, I>,
    ) -> Result<FragmentOutcome, ReassemblyError> {
        let start = fragment.offset.bytes();
        let len = fragment.payload.len();
        let end = start + len;
        if len == 0 {
            return Err(ReassemblyError::Empty { offset: start });
        }
        // RFC 791 §3.2, RFC 8200 §4.5: every fragment but the last carries a multiple of 8.
        if fragment.more_fragments && len % 8 != 0 {
            return Err(ReassemblyError::NotMultipleOf8 { offset: start, len });
        }
        // RFC 6946 §4: an atomic fragment is a whole datagram of its own.
        if start == 0 && !fragment.more_fragments {
            return Self::reassemble_atomic(fragment).map(FragmentOutcome::Reassembled);
        }
        let key = ReassemblyKey::of(fragment);
        let (placement, old_charge) = match self.datagrams.get(&key) {
            Some(Entry { state: EntryState::Discarded, .. }) => {
                return Err(ReassemblyError::DatagramDiscarded);
            }
            Some(Entry { state: EntryState::Reassembling(datagram), charged, .. }) => {
                match self.place(Some((datagram, *charged)), fragment, start, end) {
                    Ok(Some(placement)) => (placement, *charged),
                    Ok(None) => return Ok(FragmentOutcome::Duplicate),
                    Err(error) => {
                        self.discard_on(ctx, &key, &error);
                        return Err(error);
                    }
                }
            }
            None => match self.place(None, fragment, start, end)? {
                Some(placement) => (placement, 0),
                None => return Ok(FragmentOutcome::Duplicate),
            },
        };
        let extra = placement.charge.saturating_sub(old_charge);
        if placement.charge > self.config.high_thresh {
            self.drop_entry(ctx, &key);
            return Err(ReassemblyError::MemoryExhausted {
                needed: placement.charge,
                limit: self.config.high_thresh,
            });
        }
        if self.memory + extra > self.config.high_thresh {
            self.evict(ctx, &key, self.config.low_thresh.saturating_sub(extra));
        }
        let entry = match self.datagrams.entry(key) {
            alloc::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            alloc::collections::btree_map::Entry::Vacant(vacant) => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.by_age.insert(seq, key);
                ctx.schedule_timer_after(ReassemblyTimerId(key), self.config.timeout);
                vacant.insert(Entry {
                    seq,
                    charged: 0,
                    state: EntryState::Reassembling(Datagram {
                        buffer: Vec::new(),
                        headroom: placement.headroom,
                        spans: Vec::new(),
                        received: 0,
                        total_len: None,
                        first: None,
                    }),
                })
            }
        };
        let EntryState::Reassembling(datagram) = &mut entry.state else {
            return Err(ReassemblyError::DatagramDiscarded);
        };
        Self::insert(datagram, &placement, fragment, start, end);
        let charged = Self::entry_overhead() + datagram.heap_bytes();
        self.memory = self.memory - entry.charged + charged;
        entry.charged = charged;
        let complete = datagram.total_len == Some(datagram.received);
        if !complete {
            return Ok(FragmentOutcome::Pending);
        }
        ctx.cancel_timer(&ReassemblyTimerId(key));
        match self.remove(&key) {
            Some(Entry { state: EntryState::Reassembling(datagram), .. }) => {
                Self::finish(datagram).map(FragmentOutcome::Reassembled)
            }
            _ => Err(ReassemblyError::DatagramDiscarded),
        }
    }

    /// Checks `fragment` (bytes `start..end`) against `existing`, the datagram it belongs to
    /// (if any) and the bytes it is charged, and works out where it goes. `Ok(None)` for an
    /// exact duplicate.
    fn place(
        &self,
        existing: Option<(&Datagram<I>, usize)>,
        fragment: &FragmentData<'_, I>,
        start: usize,
        end: usize,
    ) -> Result<Option<Placement>, ReassemblyError> {
        let first_header_len = |datagram: Option<&Datagram<I>>| {
            if start == 0 {
                Some(I::reassembled_header_len(&fragment.fields, fragment.header))
            } else {
                datagram
                    .and_then(|d| d.first.as_ref())
                    .map(|first| I::reassembled_header_len(&first.fields, &first.header))
            }
        };
        let (datagram, old_charge) = match existing {
            Some((datagram, charged)) => (datagram, charged),
            None => {
                if self.config.max_fragments == 0 {
                    return Err(ReassemblyError::TooManyFragments { max: 0 });
                }
                let header_len = first_header_len(None);
                Self::check_max_len(header_len, end)?;
                let headroom = header_len.unwrap_or(I::DEFAULT_HEADROOM);
                let total = (!fragment.more_fragments).then_some(end);
                let buffer_capacity = Self::buffer_capacity(headroom, 0, end, total);
                let spans_capacity = Self::spans_capacity(0, 0, self.config.max_fragments);
                let header = if start == 0 { fragment.header.len() } else { 0 };
                let charge =
                    Self::entry_overhead() + buffer_capacity + spans_capacity * size_of::<Span>() + header;
                return Ok(Some(Placement { index: 0, headroom, buffer_capacity, spans_capacity, charge }));
            }
        };
        // RFC 791 §3.2, RFC 8200 §4.5: the last fragment fixes the length; nothing may lie
        // beyond it, and a second last fragment must agree.
        let inconsistent = |len| ReassemblyError::InconsistentLength { start, end, len };
        match (datagram.total_len, fragment.more_fragments) {
            (Some(total), false) if total != end => return Err(inconsistent(total)),
            (Some(total), true) if end > total => return Err(inconsistent(total)),
            (None, false) if datagram.extent() > end => return Err(inconsistent(datagram.extent())),
            _ => {}
        }
        let index = datagram.spans.partition_point(|span| span.start < start);
        if let Some(next) = datagram.spans.get(index) {
            // RFC 8200 §4.5: exact duplicates may be dropped while the datagram is kept.
            if next.start == start && next.end == end {
                return Ok(None);
            }
            // RFC 5722 §4: any overlap discards the datagram.
            if next.start < end {
                return Err(ReassemblyError::Overlap { start, end });
            }
        }
        if index > 0 && datagram.spans.get(index - 1).is_some_and(|prev| prev.end > start) {
            return Err(ReassemblyError::Overlap { start, end });
        }
        if datagram.spans.len() >= self.config.max_fragments {
            return Err(ReassemblyError::TooManyFragments { max: self.config.max_fragments });
        }
        let total = datagram.total_len.or((!fragment.more_fragments).then_some(end));
        Self::check_max_len(first_header_len(Some(datagram)), total.unwrap_or(end).max(end))?;
        let buffer_capacity =
            Self::buffer_capacity(datagram.headroom, datagram.buffer.capacity(), end, total);
        let spans_capacity =
            Self::spans_capacity(datagram.spans.len(), datagram.spans.capacity(), self.config.max_fragments);
        let old_heap = datagram.heap_bytes();
        let header = if start == 0 { fragment.header.len() } else { 0 };
        let charge = old_charge - old_heap
            + buffer_capacity
            + spans_capacity * size_of::<Span>()
            + datagram.first.as_ref().map_or(header, |first| first.header.capacity());
        Ok(Some(Placement { index, headroom: datagram.headroom, buffer_capacity, spans_capacity, charge }))
    }

    /// RFC 791 §3.1, RFC 8200 §4.5: a datagram whose header (the first fragment's if known,
    /// else the shortest) and payload reaching `extent` would pass the maximum is refused.
    fn check_max_len(header_len: Option<usize>, extent: usize) -> Result<(), ReassemblyError> {
        let len = header_len.unwrap_or(I::MIN_HEADER_LEN) + extent;
        if len > I::MAX_DATAGRAM_LEN {
            return Err(ReassemblyError::TooLong { len, max: I::MAX_DATAGRAM_LEN });
        }
        Ok(())
    }

    /// The capacity a buffer of `capacity` bytes with `headroom` needs to hold data up to
    /// `end`: exactly the datagram once its length is known, else at least double, so a
    /// datagram arriving in order is reallocated a handful of times at most.
    fn buffer_capacity(headroom: usize, capacity: usize, end: usize, total: Option<usize>) -> usize {
        let needed = headroom + end;
        if needed <= capacity {
            return capacity;
        }
        match total {
            Some(total) => headroom + total,
            None => needed.max(capacity.saturating_mul(2).min(headroom + I::MAX_DATAGRAM_LEN)),
        }
    }

    /// The capacity a span list of `len` entries and `capacity` needs for one more.
    fn spans_capacity(len: usize, capacity: usize, max: usize) -> usize {
        if len < capacity {
            return capacity;
        }
        capacity.saturating_mul(2).max(4).min(max).max(len + 1)
    }

    /// Copies the fragment's data into the datagram, as `placement` planned.
    fn insert(
        datagram: &mut Datagram<I>,
        placement: &Placement,
        fragment: &FragmentData<'_, I>,
        start: usize,
        end: usize,
    ) {
        let headroom = datagram.headroom;
        let buffer = &mut datagram.buffer;
        if buffer.capacity() < placement.buffer_capacity {
            buffer.reserve_exact(placement.buffer_capacity - buffer.len());
        }
        if buffer.len() < headroom + end {
            buffer.resize(headroom + end, 0);
        }
        buffer[headroom + start..headroom + end].copy_from_slice(fragment.payload);
        if datagram.spans.capacity() < placement.spans_capacity {
            datagram.spans.reserve_exact(placement.spans_capacity - datagram.spans.len());
        }
        datagram.spans.insert(placement.index, Span { start, end });
        datagram.received += end - start;
        if !fragment.more_fragments {
            datagram.total_len = Some(end);
        }
        if start == 0 {
            datagram.first = Some(FirstFragment {
                device: fragment.device,
                header: fragment.header.to_vec(),
                fields: fragment.fields.clone(),
                data_len: end,
            });
        }
    }

    /// The whole datagram, its header written in front of its payload.
    fn finish(datagram: Datagram<I>) -> Result<Buf<Vec<u8>>, ReassemblyError> {
        let Datagram { mut buffer, mut headroom, received, first, .. } = datagram;
        let Some(first) = first else {
            return Err(ReassemblyError::DatagramDiscarded);
        };
        let header_len = I::reassembled_header_len(&first.fields, &first.header);
        // The buffer was made before the first fragment showed how long its header is.
        if headroom < header_len {
            let missing = header_len - headroom;
            buffer.splice(0..0, core::iter::repeat_n(0, missing));
            headroom = header_len;
        }
        buffer.truncate(headroom + received);
        let mut buf = Buf::new(buffer, headroom..headroom + received);
        I::write_reassembled_header(&first.fields, &first.header, &mut buf)?;
        Ok(buf)
    }

    /// An atomic fragment as the datagram it is (RFC 6946 §4).
    fn reassemble_atomic(fragment: &FragmentData<'_, I>) -> Result<Buf<Vec<u8>>, ReassemblyError> {
        let header_len = I::reassembled_header_len(&fragment.fields, fragment.header);
        let len = fragment.payload.len();
        Self::check_max_len(Some(header_len), len)?;
        let mut buffer = vec![0; header_len + len];
        buffer[header_len..].copy_from_slice(fragment.payload);
        let mut buf = Buf::new(buffer, header_len..header_len + len);
        I::write_reassembled_header(&fragment.fields, fragment.header, &mut buf)?;
        Ok(buf)
    }

    /// After `error` about a fragment of the datagram `key`: discards the datagram if the
    /// error condemns it, remembering overlaps until the timer fires (RFC 5722 §4).
    fn discard_on<C: TimerContext<ReassemblyTimerId<I>>>(
        &mut self,
        ctx: &mut C,
        key: &ReassemblyKey<I>,
        error: &ReassemblyError,
    ) {
        match error {
            ReassemblyError::Overlap { .. } => {
                let overhead = Self::entry_overhead();
                if let Some(entry) = self.datagrams.get_mut(key) {
                    self.memory = self.memory - entry.charged + overhead;
                    entry.charged = overhead;
                    entry.state = EntryState::Discarded;
                }
            }
            ReassemblyError::TooManyFragments { .. } | ReassemblyError::InconsistentLength { .. } => {
                self.drop_entry(ctx, key);
            }
            _ => {}
        }
    }

    /// Removes the entry of `key` and cancels its timer.
    fn drop_entry<C: TimerContext<ReassemblyTimerId<I>>>(&mut self, ctx: &mut C, key: &ReassemblyKey<I>) {
        if self.remove(key).is_some() {
            ctx.cancel_timer(&ReassemblyTimerId(*key));
        }
    }

    /// Evicts the oldest entries other than `keep` until at most `target` bytes are charged.
    fn evict<C: TimerContext<ReassemblyTimerId<I>>>(
        &mut self,
        ctx: &mut C,
        keep: &ReassemblyKey<I>,
        target: usize,
    ) {
        while self.memory > target {
            let Some(victim) = self.by_age.values().find(|key| *key != keep).copied() else {
                break;
            };
            ctx.cancel_timer(&ReassemblyTimerId(victim));
            if let Some(entry) = self.remove(&victim) {
                self.counters.reasm_mem_evictions += 1;
                if let EntryState::Reassembling(_) = entry.state {
                    self.counters.reasm_fails += 1;
                }
            }
        }
    }

    /// Removes the entry of `key` from the table and its charge from the total.
    fn remove(&mut self, key: &ReassemblyKey<I>) -> Option<Entry<I>> {
        let entry = self.datagrams.remove(key)?;
        self.by_age.remove(&entry.seq);
        self.memory -= entry.charged;
        Some(entry)
    }

    /// The timer of datagram `id` fired: a datagram still incomplete is discarded (RFC 791
    /// §3.2, RFC 8200 §4.5) and, if its first fragment arrived and its destination is not
    /// multicast, an ICMP Time Exceeded, code 1, requested (RFC 792, RFC 4443 §3.3). A
    /// datagram discarded for overlap is forgotten.
    pub fn handle_timer<C: ReassemblyContext<I>>(&mut self, ctx: &mut C, id: ReassemblyTimerId<I>) {
        let ReassemblyTimerId(key) = id;
        let Some(entry) = self.remove(&key) else {
            return;
        };
        let EntryState::Reassembling(datagram) = entry.state else {
            return;
        };
        self.counters.reasm_timeout += 1;
        self.counters.reasm_fails += 1;
        let Some(first) = &datagram.first else {
            return;
        };
        if key.dst.is_multicast() {
            return;
        }
        let data = datagram.buffer.get(datagram.headroom..datagram.headroom + first.data_len);
        ctx.send_reassembly_time_exceeded(TimeExceededRequest {
            device: first.device,
            src: key.src,
            dst: key.dst,
            header: &first.header,
            data: data.unwrap_or_default(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4Addr, Ipv6Addr};
    use crate::buf::Serializer;
    use crate::context::InstantContext;
    use crate::testutil::fake::FakeCtx;
    use crate::wire::ipv6::FragmentHeader;
    use proptest::prelude::*;

    const DEV: DeviceId = DeviceId::new(1);
    const SRC4: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
    const DST4: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 2]);
    const SRC6: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    const DST6: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);

    /// A fake host that records the Time Exceeded requests.
    #[derive(Default)]
    struct Host<I: ReassemblyIpExt> {
        /// Device, source and quote (header then data) of each request.
        sent: Vec<(DeviceId, I::Addr, Vec<u8>)>,
    }

    type Ctx<I> = FakeCtx<ReassemblyTimerId<I>, Host<I>>;

    fn new_ctx<I: ReassemblyIpExt>() -> Ctx<I> {
        FakeCtx::with_state(7, Host::default())
    }

    impl<I: ReassemblyIpExt> Ctx<I> {
        /// Moves the clock `by` on, firing due timers into `table`.
        fn advance(&mut self, table: &mut Reassembly<I>, by: Duration) {
            let deadline = self.now() + by;
            while let Some(id) = self.pop_due(deadline) {
                table.handle_timer(self, id);
            }
            self.set_now(deadline);
        }
    }

    impl<I: ReassemblyIpExt> ReassemblyContext<I> for Ctx<I> {
        fn send_reassembly_time_exceeded(&mut self, request: TimeExceededRequest<'_, I>) {
            let mut quote = request.header.to_vec();
            quote.extend_from_slice(request.data);
            self.state.sent.push((request.device, request.src, quote));
        }
    }

    /// Builds test packets of one version.
    trait TestIp: ReassemblyIpExt {
        const SRC: Self::Addr;
        const DST: Self::Addr;
        const MULTICAST: Self::Addr;
        const LINK_LOCAL: Self::Addr;

        /// A fragment from `SRC` to `dst` of UDP datagram `id`.
        fn fragment_to(dst: Self::Addr, id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8>;
        /// The whole datagram `id` from `SRC` to `DST`, unfragmented.
        fn datagram(id: u16, payload: &[u8]) -> Vec<u8>;
        /// Parses a fragment built here.
        fn parse(device: DeviceId, bytes: &[u8]) -> FragmentData<'_, Self>;
        /// `fragment` as part of datagram `id`.
        fn with_id(fragment: FragmentData<'_, Self>, id: u32) -> FragmentData<'_, Self>;

        fn fragment(id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
            Self::fragment_to(Self::DST, id, offset, more, data)
        }
    }

    impl TestIp for Ipv4 {
        const SRC: Ipv4Addr = SRC4;
        const DST: Ipv4Addr = DST4;
        const MULTICAST: Ipv4Addr = Ipv4Addr::new([239, 1, 2, 3]);
        const LINK_LOCAL: Ipv4Addr = Ipv4Addr::new([169, 254, 0, 2]);

        fn fragment_to(dst: Ipv4Addr, id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
            let header = Ipv4Builder {
                id,
                more_fragments: more,
                fragment_offset: FragmentOffset::from_bytes(offset).unwrap(),
                ..Ipv4Builder::new(SRC4, dst, 64, IpProto::UDP)
            };
            data.encapsulate(header).serialize_vec().unwrap().into_inner()
        }

        fn datagram(id: u16, payload: &[u8]) -> Vec<u8> {
            let header = Ipv4Builder { id, ..Ipv4Builder::new(SRC4, DST4, 64, IpProto::UDP) };
            payload.encapsulate(header).serialize_vec().unwrap().into_inner()
        }

        fn parse(device: DeviceId, bytes: &[u8]) -> FragmentData<'_, Ipv4> {
            FragmentData::parse_ipv4(device, bytes).unwrap().unwrap()
        }

        fn with_id(fragment: FragmentData<'_, Ipv4>, id: u32) -> FragmentData<'_, Ipv4> {
            FragmentData { id: Ipv4FragmentId { proto: IpProto::UDP, id: id as u16 }, ..fragment }
        }
    }

    impl TestIp for Ipv6 {
        const SRC: Ipv6Addr = SRC6;
        const DST: Ipv6Addr = DST6;
        const MULTICAST: Ipv6Addr = Ipv6Addr::from_segments([0xff0e, 0, 0, 0, 0, 0, 0, 0x101]);
        const LINK_LOCAL: Ipv6Addr = Ipv6Addr::from_segments([0xfe80, 0, 0, 0, 0, 0, 0, 2]);

        fn fragment_to(dst: Ipv6Addr, id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
            let fragment = FragmentHeader {
                offset: FragmentOffset::from_bytes(offset).unwrap(),
                more_fragments: more,
                id: u32::from(id) | 0x8000_0000,
            };
            let header =
                Ipv6Builder { fragment: Some(fragment), ..Ipv6Builder::new(SRC6, dst, 64, IpProto::UDP) };
            data.encapsulate(header).serialize_vec().unwrap().into_inner()
        }

        fn datagram(_id: u16, payload: &[u8]) -> Vec<u8> {
            payload
                .encapsulate(Ipv6Builder::new(SRC6, DST6, 64, IpProto::UDP))
                .serialize_vec()
                .unwrap()
                .into_inner()
        }

        fn parse(device: DeviceId, bytes: &[u8]) -> FragmentData<'_, Ipv6> {
            FragmentData::parse_ipv6(device, bytes).unwrap().unwrap()
        }

        fn with_id(fragment: FragmentData<'_, Ipv6>, id: u32) -> FragmentData<'_, Ipv6> {
            FragmentData { id, ..fragment }
        }
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// Feeds the fragment in `bytes` (arrived on `DEV`).
    fn feed<I: TestIp>(
        table: &mut Reassembly<I>,
        ctx: &mut Ctx<I>,
        bytes: &[u8],
    ) -> Result<FragmentOutcome, ReassemblyError> {
        table.process_fragment(ctx, I::parse(DEV, bytes))
    }

    fn reassembled(outcome: Result<FragmentOutcome, ReassemblyError>) -> Vec<u8> {
        match outcome {
            Ok(FragmentOutcome::Reassembled(buf)) => buf.body().to_vec(),
            other => panic!("not reassembled: {other:?}"),
        }
    }

    fn assert_pending(outcome: Result<FragmentOutcome, ReassemblyError>) {
        assert!(matches!(outcome, Ok(FragmentOutcome::Pending)), "{outcome:?}");
    }

    /// Three fragments of a 40-byte payload: 0..16, 16..32, 32..40.
    fn three_fragments<I: TestIp>(id: u16, payload: &[u8]) -> [Vec<u8>; 3] {
        [
            I::fragment(id, 0, true, &payload[..16]),
            I::fragment(id, 16, true, &payload[16..32]),
            I::fragment(id, 32, false, &payload[32..]),
        ]
    }

    fn out_of_order_fragments_reassemble<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        let [a, b, c] = three_fragments::<I>(9, &payload);
        assert_pending(feed(&mut table, &mut ctx, &c));
        assert_eq!(ctx.timers().len(), 1);
        assert_pending(feed(&mut table, &mut ctx, &a));
        assert_eq!(reassembled(feed(&mut table, &mut ctx, &b)), I::datagram(9, &payload));
        assert_eq!(table.counters().reasm_reqds, 3);
        assert_eq!(table.counters().reasm_oks, 1);
        assert!(table.is_empty());
        assert_eq!(table.memory_used(), 0);
        assert!(ctx.timers().is_empty(), "the timer is cancelled on completion");
    }

    #[test]
    fn rfc791_3_2_fragments_in_any_order_reassemble_ipv4() {
        out_of_order_fragments_reassemble::<Ipv4>();
    }

    #[test]
    fn rfc8200_4_5_fragments_in_any_order_reassemble_ipv6() {
        out_of_order_fragments_reassemble::<Ipv6>();
    }

    fn duplicates_are_ignored<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        let [a, b, c] = three_fragments::<I>(1, &payload);
        assert_pending(feed(&mut table, &mut ctx, &a));
        let memory = table.memory_used();
        assert!(matches!(feed(&mut table, &mut ctx, &a), Ok(FragmentOutcome::Duplicate)));
        assert_eq!(table.memory_used(), memory);
        assert_pending(feed(&mut table, &mut ctx, &c));
        assert!(matches!(feed(&mut table, &mut ctx, &c), Ok(FragmentOutcome::Duplicate)));
        assert_eq!(reassembled(feed(&mut table, &mut ctx, &b)), I::datagram(1, &payload));
        assert_eq!(table.counters().duplicates, 2);
        assert_eq!(table.counters().reasm_fails, 0);
    }

    #[test]
    fn rfc8200_4_5_exact_duplicates_are_ignored_ipv4() {
        duplicates_are_ignored::<Ipv4>();
    }

    #[test]
    fn rfc8200_4_5_exact_duplicates_are_ignored_ipv6() {
        duplicates_are_ignored::<Ipv6>();
    }

    fn overlap_discards_datagram_until_timeout<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        let [a, b, c] = three_fragments::<I>(3, &payload);
        assert_pending(feed(&mut table, &mut ctx, &a));
        // 8..24 overlaps 0..16 without being a duplicate of it.
        let overlapping = I::fragment(3, 8, true, &payload[8..24]);
        assert_eq!(
            feed(&mut table, &mut ctx, &overlapping).unwrap_err(),
            ReassemblyError::Overlap { start: 8, end: 24 }
        );
        // RFC 5722 §4: fragments not yet received are discarded too.
        assert_eq!(feed(&mut table, &mut ctx, &b).unwrap_err(), ReassemblyError::DatagramDiscarded);
        assert_eq!(feed(&mut table, &mut ctx, &c).unwrap_err(), ReassemblyError::DatagramDiscarded);
        let counters = *table.counters();
        assert_eq!((counters.reasm_overlaps, counters.after_overlap, counters.reasm_fails), (1, 2, 3));
        // Only the record of the discarded datagram is charged.
        assert_eq!(table.memory_used(), Reassembly::<I>::entry_overhead());
        ctx.advance(&mut table, I::DEFAULT_TIMEOUT);
        assert!(table.is_empty());
        assert_eq!(table.memory_used(), 0);
        assert!(ctx.state.sent.is_empty(), "no Time Exceeded for a discarded datagram");
        assert_eq!(table.counters().reasm_timeout, 0);
        // After the timeout the key is free again.
        assert_pending(feed(&mut table, &mut ctx, &a));
        assert_pending(feed(&mut table, &mut ctx, &c));
        assert_eq!(reassembled(feed(&mut table, &mut ctx, &b)), I::datagram(3, &payload));
    }

    #[test]
    fn linux_4_19_ipv4_overlap_discards_datagram_until_timeout() {
        overlap_discards_datagram_until_timeout::<Ipv4>();
    }

    #[test]
    fn rfc5722_4_ipv6_overlap_discards_datagram_until_timeout() {
        overlap_discards_datagram_until_timeout::<Ipv6>();
    }

    fn overlap_inside_later_fragment_is_detected<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        assert_pending(feed(&mut table, &mut ctx, &I::fragment(4, 16, true, &payload[16..32])));
        let covering = I::fragment(4, 8, true, &payload[8..16]);
        assert_pending(feed(&mut table, &mut ctx, &covering));
        // Starts before 16..32 and ends inside it.
        let overlapping = I::fragment(4, 0, true, &payload[..24]);
        assert_eq!(
            feed(&mut table, &mut ctx, &overlapping).unwrap_err(),
            ReassemblyError::Overlap { start: 0, end: 24 }
        );
    }

    #[test]
    fn rfc5722_4_overlap_with_the_following_fragment_ipv4() {
        overlap_inside_later_fragment_is_detected::<Ipv4>();
    }

    #[test]
    fn rfc5722_4_overlap_with_the_following_fragment_ipv6() {
        overlap_inside_later_fragment_is_detected::<Ipv6>();
    }

    fn non_last_fragment_must_be_multiple_of_8<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        let first = I::fragment(5, 0, true, &payload[..16]);
        let short = FragmentData { payload: &payload[..12], ..I::parse(DEV, &first) };
        assert_eq!(
            table.process_fragment(&mut ctx, short).unwrap_err(),
            ReassemblyError::NotMultipleOf8 { offset: 0, len: 12 }
        );
        let empty = FragmentData { payload: &[], ..I::parse(DEV, &first) };
        assert_eq!(
            table.process_fragment(&mut ctx, empty).unwrap_err(),
            ReassemblyError::Empty { offset: 0 }
        );
        assert_eq!(table.counters().bad_length, 2);
        assert_eq!(table.counters().reasm_fails, 2);
        assert!(table.is_empty());
        // The last fragment may be of any length.
        let last = I::fragment(5, 16, false, &payload[16..29]);
        assert_pending(feed(&mut table, &mut ctx, &last));
    }

    #[test]
    fn rfc791_3_2_non_last_fragment_must_be_multiple_of_8_ipv4() {
        non_last_fragment_must_be_multiple_of_8::<Ipv4>();
    }

    #[test]
    fn rfc8200_4_5_non_last_fragment_must_be_multiple_of_8_ipv6() {
        non_last_fragment_must_be_multiple_of_8::<Ipv6>();
    }

    fn beyond_maximum_length_is_refused<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let bytes = I::fragment(6, 8, false, &[1; 16]);
        // 65528 + 16 bytes of payload pass the 16-bit length of either version.
        let far = FragmentData {
            offset: FragmentOffset::new(FragmentOffset::MAX_UNITS).unwrap(),
            ..I::parse(DEV, &bytes)
        };
        assert!(matches!(table.process_fragment(&mut ctx, far), Err(ReassemblyError::TooLong { .. })));
        assert_eq!(table.counters().too_long, 1);
        assert!(table.is_empty());
    }

    #[test]
    fn rfc791_3_1_datagram_beyond_65535_bytes_is_refused_ipv4() {
        beyond_maximum_length_is_refused::<Ipv4>();
    }

    #[test]
    fn rfc8200_4_5_payload_beyond_65535_bytes_is_refused_ipv6() {
        beyond_maximum_length_is_refused::<Ipv6>();
    }

    #[test]
    fn rfc791_3_1_first_fragment_options_counted_in_the_maximum_length() {
        let mut table = Reassembly::<Ipv4>::default();
        let mut ctx = new_ctx();
        // The last fragment ends at 65512: with a 20-byte header it fits, but the first
        // fragment brings a 60-byte header.
        let last = Ipv4::fragment(7, 65504, false, &[1; 8]);
        assert_pending(feed(&mut table, &mut ctx, &last));
        let options = Ipv4Options::new(&[1; 40]).unwrap();
        let header = Ipv4Builder {
            id: 7,
            more_fragments: true,
            options,
            ..Ipv4Builder::new(SRC4, DST4, 64, IpProto::UDP)
        };
        let first = (&[2u8; 16][..]).encapsulate(header).serialize_vec().unwrap().into_inner();
        assert_eq!(
            feed(&mut table, &mut ctx, &first).unwrap_err(),
            ReassemblyError::TooLong { len: 60 + 65512, max: 65535 }
        );
    }

    fn last_fragment_fixes_the_length<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(48);
        assert_pending(feed(&mut table, &mut ctx, &I::fragment(8, 16, false, &payload[16..24])));
        let beyond = I::fragment(8, 24, true, &payload[24..32]);
        assert_eq!(
            feed(&mut table, &mut ctx, &beyond).unwrap_err(),
            ReassemblyError::InconsistentLength { start: 24, end: 32, len: 24 }
        );
        assert!(table.is_empty(), "the datagram is discarded");
        assert!(ctx.timers().is_empty());
        // Data already beyond the end a last fragment announces.
        assert_pending(feed(&mut table, &mut ctx, &I::fragment(8, 32, true, &payload[32..40])));
        let short_last = I::fragment(8, 16, false, &payload[16..20]);
        assert!(matches!(
            feed(&mut table, &mut ctx, &short_last),
            Err(ReassemblyError::InconsistentLength { len: 40, .. })
        ));
        // A second last fragment ending elsewhere.
        assert_pending(feed(&mut table, &mut ctx, &I::fragment(8, 16, false, &payload[16..24])));
        let other_last = I::fragment(8, 24, false, &payload[24..30]);
        assert!(matches!(
            feed(&mut table, &mut ctx, &other_last),
            Err(ReassemblyError::InconsistentLength { len: 24, .. })
        ));
        assert_eq!(table.counters().inconsistent_length, 3);
    }

    #[test]
    fn rfc791_3_2_last_fragment_fixes_the_length_ipv4() {
        last_fragment_fixes_the_length::<Ipv4>();
    }

    #[test]
    fn rfc8200_4_5_last_fragment_fixes_the_length_ipv6() {
        last_fragment_fixes_the_length::<Ipv6>();
    }

    fn timeout_requests_time_exceeded<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        let [a, _, c] = three_fragments::<I>(10, &payload);
        let device = DeviceId::new(4);
        ctx.advance(&mut table, Duration::from_secs(1));
        table.process_fragment(&mut ctx, I::parse(device, &a)).unwrap();
        ctx.advance(&mut table, Duration::from_secs(5));
        // Later fragments do not restart the timer.
        assert_pending(feed(&mut table, &mut ctx, &c));
        ctx.advance(&mut table, I::DEFAULT_TIMEOUT - Duration::from_secs(5) - Duration::from_nanos(1));
        assert_eq!(table.len(), 1);
        assert!(ctx.state.sent.is_empty());
        ctx.advance(&mut table, Duration::from_nanos(1));
        assert!(table.is_empty());
        assert_eq!(table.memory_used(), 0);
        // The quote is the first fragment exactly as it arrived.
        assert_eq!(ctx.state.sent, [(device, I::SRC, a)]);
        let counters = *table.counters();
        assert_eq!((counters.reasm_timeout, counters.reasm_fails, counters.reasm_oks), (1, 1, 0));
    }

    #[test]
    fn rfc792_ipv4_timeout_after_30s_requests_time_exceeded_quoting_first_fragment() {
        timeout_requests_time_exceeded::<Ipv4>();
    }

    #[test]
    fn rfc8200_4_5_ipv6_timeout_after_60s_requests_time_exceeded_quoting_first_fragment() {
        timeout_requests_time_exceeded::<Ipv6>();
    }

    fn no_time_exceeded_without_first_fragment_or_to_multicast<I: TestIp>() {
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        let [_, b, c] = three_fragments::<I>(11, &payload);
        assert_pending(feed(&mut table, &mut ctx, &b));
        assert_pending(feed(&mut table, &mut ctx, &c));
        let multicast_first = I::fragment_to(I::MULTICAST, 11, 0, true, &payload[..16]);
        assert_pending(feed(&mut table, &mut ctx, &multicast_first));
        assert_eq!(table.len(), 2);
        ctx.advance(&mut table, I::DEFAULT_TIMEOUT);
        assert!(table.is_empty());
        assert!(ctx.state.sent.is_empty());
        assert_eq!(table.counters().reasm_timeout, 2);
    }

    #[test]
    fn rfc792_no_time_exceeded_without_first_fragment_or_to_multicast_ipv4() {
        no_time_exceeded_without_first_fragment_or_to_multicast::<Ipv4>();
    }

    #[test]
    fn rfc8200_4_5_no_time_exceeded_without_first_fragment_or_to_multicast_ipv6() {
        no_time_exceeded_without_first_fragment_or_to_multicast::<Ipv6>();
    }

    fn device_is_part_of_the_key_only_for_link_scoped_destinations<I: TestIp>() {
        let payload = pattern(40);
        let first = I::fragment(12, 0, true, &payload[..16]);
        let global = ReassemblyKey::of(&I::parse(DEV, &first));
        assert_eq!(global.device, None);
        let link_local = I::fragment_to(I::LINK_LOCAL, 12, 0, true, &payload[..16]);
        assert_eq!(ReassemblyKey::of(&I::parse(DEV, &link_local)).device, Some(DEV));
        let multicast = I::fragment_to(I::MULTICAST, 12, 0, true, &payload[..16]);
        assert_eq!(ReassemblyKey::of(&I::parse(DEV, &multicast)).device, Some(DEV));
        // Fragments of a global destination arriving over two devices still meet.
        let mut table = Reassembly::<I>::default();
        let mut ctx = new_ctx();
        let [a, b, c] = three_fragments::<I>(12, &payload);
        table.process_fragment(&mut ctx, I::parse(DeviceId::new(2), &a)).unwrap();
        table.process_fragment(&mut ctx, I::parse(DeviceId::new(3), &b)).unwrap();
        let done = table.process_fragment(&mut ctx, I::parse(DeviceId::new(2), &c));
        assert_eq!(reassembled(done), I::datagram(12, &payload));
    }

    #[test]
    fn rfc4007_6_device_keys_link_scoped_destinations_only_ipv4() {
        device_is_part_of_the_key_only_for_link_scoped_destinations::<Ipv4>();
    }

    #[test]
    fn rfc4007_6_device_keys_link_scoped_destinations_only_ipv6() {
        device_is_part_of_the_key_only_for_link_scoped_destinations::<Ipv6>();
    }

    fn too_many_fragments_discard_the_datagram<I: TestIp>() {
        let config = ReassemblyConfig { max_fragments: 4, ..ReassemblyConfig::default_for::<I>() };
        let mut table = Reassembly::<I>::new(config);
        let mut ctx = new_ctx();
        let payload = pattern(48);
        for i in 0..4 {
            assert_pending(feed(
                &mut table,
                &mut ctx,
                &I::fragment(13, i * 8, true, &payload[i * 8..i * 8 + 8]),
            ));
        }
        let fifth = I::fragment(13, 32, true, &payload[32..40]);
        assert_eq!(
            feed(&mut table, &mut ctx, &fifth).unwrap_err(),
            ReassemblyError::TooManyFragments { max: 4 }
        );
        assert!(table.is_empty());
        assert_eq!(table.memory_used(), 0);
        assert!(ctx.timers().is_empty());
        assert_eq!(table.counters().too_many_fragments, 1);
    }

    #[test]
    fn rfc815_fragment_list_bounded_per_datagram_ipv4() {
        too_many_fragments_discard_the_datagram::<Ipv4>();
    }

    #[test]
    fn rfc815_fragment_list_bounded_per_datagram_ipv6() {
        too_many_fragments_discard_the_datagram::<Ipv6>();
    }

    #[test]
    fn rfc6946_4_atomic_fragment_is_reassembled_alone() {
        let mut table = Reassembly::<Ipv6>::default();
        let mut ctx = new_ctx();
        let payload = pattern(40);
        assert_pending(feed(&mut table, &mut ctx, &Ipv6::fragment(14, 0, true, &payload[..16])));
        let atomic = Ipv6::fragment(14, 0, false, &payload);
        assert_eq!(reassembled(feed(&mut table, &mut ctx, &atomic)), Ipv6::datagram(14, &payload));
        assert_eq!(table.len(), 1, "the queued fragment is left alone");
        assert_eq!(table.counters().reasm_oks, 1);
    }

    #[test]
    fn rfc8200_4_5_per_fragment_headers_kept_and_next_header_patched() {
        let hop_by_hop = ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD;
        let payload = pattern(40);
        let fragment = |offset: usize, more: bool, data: &[u8]| {
            let header = FragmentHeader {
                offset: FragmentOffset::from_bytes(offset).unwrap(),
                more_fragments: more,
                id: 77,
            };
            let builder = Ipv6Builder {
                ext_headers: Some(hop_by_hop),
                fragment: Some(header),
                ..Ipv6Builder::new(SRC6, DST6, 1, IpProto::ICMPV6)
            };
            data.encapsulate(builder).serialize_vec().unwrap().into_inner()
        };
        let expected = (&payload[..])
            .encapsulate(Ipv6Builder {
                ext_headers: Some(hop_by_hop),
                ..Ipv6Builder::new(SRC6, DST6, 1, IpProto::ICMPV6)
            })
            .serialize_vec()
            .unwrap()
            .into_inner();
        let mut table = Reassembly::<Ipv6>::default();
        let mut ctx = new_ctx();
        // The first fragment last: its 48 bytes of headers do not fit the 40 reserved.
        assert_pending(feed(&mut table, &mut ctx, &fragment(16, true, &payload[16..32])));
        assert_pending(feed(&mut table, &mut ctx, &fragment(32, false, &payload[32..])));
        let bytes = reassembled(feed(&mut table, &mut ctx, &fragment(0, true, &payload[..16])));
        assert_eq!(bytes, expected);
        let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(
            (packet.fragment_header(), packet.router_alert(), packet.proto()),
            (None, Some(0), IpProto::ICMPV6)
        );
        // And with the first fragment first.
        assert_pending(feed(&mut table, &mut ctx, &fragment(0, true, &payload[..16])));
        assert_pending(feed(&mut table, &mut ctx, &fragment(32, false, &payload[32..])));
        assert_eq!(reassembled(feed(&mut table, &mut ctx, &fragment(16, true, &payload[16..32]))), expected);
    }

    #[test]
    fn rfc791_3_2_reassembled_ipv4_header_is_the_first_fragments_with_flags_cleared() {
        let options = Ipv4Options::new(&[0x94, 4, 0, 0]).unwrap();
        let header = |offset: usize, more: bool| Ipv4Builder {
            id: 15,
            ttl: 9,
            more_fragments: more,
            fragment_offset: FragmentOffset::from_bytes(offset).unwrap(),
            options: if offset == 0 { options } else { Ipv4Options::NONE },
            ..Ipv4Builder::new(SRC4, DST4, 64, IpProto::IGMP)
        };
        let payload = pattern(24);
        let serialize =
            |builder, data: &[u8]| data.encapsulate(builder).serialize_vec().unwrap().into_inner();
        let mut table = Reassembly::<Ipv4>::default();
        let mut ctx = new_ctx();
        assert_pending(feed(&mut table, &mut ctx, &serialize(header(16, false), &payload[16..])));
        let bytes = reassembled(feed(&mut table, &mut ctx, &serialize(header(0, true), &payload[..16])));
        let expected = Ipv4Builder { more_fragments: false, ..header(0, false) };
        assert_eq!(bytes, serialize(expected, &payload));
        let packet = Ipv4Packet::parse_bytes(&bytes[..], ()).unwrap();
        assert!(!packet.is_fragment());
        assert_eq!(packet.options().router_alert(), Some(0));
    }

    /// Floods a table with `count` single fragments of distinct datagrams made by `vary`,
    /// checking the memory bound after each.
    fn flood<I: TestIp>(count: u32, vary: impl Fn(FragmentData<'_, I>, u32) -> FragmentData<'_, I>) {
        let mut table = Reassembly::<I>::default();
        let mut ctx = FakeCtx::<ReassemblyTimerId<I>>::new(1);
        let base = I::fragment(0, 64, true, &[0; 8]);
        let high = table.config().high_thresh;
        for i in 0..count {
            let fragment = vary(I::parse(DEV, &base), i);
            assert_pending(table.process_fragment(&mut ctx, fragment));
            assert!(table.memory_used() <= high, "{} bytes after {i}", table.memory_used());
        }
        let counters = *table.counters();
        assert!(counters.reasm_mem_evictions > u64::from(count) / 2, "{counters:?}");
        assert_eq!(counters.reasm_fails, counters.reasm_mem_evictions);
        assert_eq!(table.len() as u64, u64::from(count) - counters.reasm_mem_evictions);
        assert!(table.memory_used() > table.config().low_thresh / 2);
        // Evicted datagrams' timers are cancelled with them.
        assert_eq!(ctx.timers().len(), table.len());
        // A real datagram still gets through.
        let payload = pattern(40);
        let fragments = three_fragments::<I>(1, &payload);
        let mut outcomes =
            fragments.iter().map(|bytes| table.process_fragment(&mut ctx, I::parse(DEV, bytes)));
        assert_pending(outcomes.next().unwrap());
        assert_pending(outcomes.next().unwrap());
        assert_eq!(reassembled(outcomes.next().unwrap()), I::datagram(1, &payload));
    }

    #[test]
    fn linux_ipfrag_high_thresh_bounds_a_flood_of_100k_incomplete_ipv4_datagrams() {
        flood::<Ipv4>(100_000, |fragment, i| FragmentData {
            src: Ipv4Addr::from_u32(0xc633_6400 | (i >> 16)),
            id: Ipv4FragmentId { proto: IpProto::UDP, id: i as u16 },
            ..fragment
        });
    }

    #[test]
    fn linux_ip6frag_high_thresh_bounds_a_flood_of_100k_incomplete_ipv6_datagrams() {
        flood::<Ipv6>(100_000, |fragment, i| FragmentData { id: i, ..fragment });
    }

    #[test]
    fn datagram_larger_than_the_memory_limit_is_refused() {
        let config = ReassemblyConfig {
            high_thresh: 2048,
            low_thresh: 1024,
            ..ReassemblyConfig::default_for::<Ipv6>()
        };
        let mut table = Reassembly::<Ipv6>::new(config);
        let mut ctx = new_ctx();
        let payload = pattern(4096);
        assert_pending(feed(&mut table, &mut ctx, &Ipv6::fragment(1, 0, true, &payload[..8])));
        let big = Ipv6::fragment(1, 8, false, &payload[8..]);
        assert!(matches!(feed(&mut table, &mut ctx, &big), Err(ReassemblyError::MemoryExhausted { .. })));
        assert!(table.is_empty());
        assert_eq!(table.memory_used(), 0);
        assert!(ctx.timers().is_empty());
        assert_eq!(table.counters().memory_exhausted, 1);
    }

    #[test]
    fn parse_returns_none_for_unfragmented_packets() {
        assert!(FragmentData::parse_ipv4(DEV, &Ipv4::datagram(1, &[1; 8])).unwrap().is_none());
        assert!(FragmentData::parse_ipv6(DEV, &Ipv6::datagram(1, &[1; 8])).unwrap().is_none());
        assert!(FragmentData::parse_ipv4(DEV, &[0x45; 10]).is_err());
    }

    /// One step of a hostile sequence: a fragment of one of four datagrams, or time passing.
    #[derive(Clone, Debug)]
    enum Step {
        Fragment { id: u32, offset_units: u16, len: usize, more: bool },
        Wait(u64),
    }

    fn arb_step() -> impl Strategy<Value = Step> {
        prop_oneof![
            8 => (0u32..4, 0u16..48, 0usize..100, any::<bool>())
                .prop_map(|(id, offset_units, len, more)| Step::Fragment { id, offset_units, len, more }),
            1 => (0u64..40).prop_map(Step::Wait),
        ]
    }

    fn run_hostile<I: TestIp>(steps: &[Step]) -> Result<(), TestCaseError> {
        let config = ReassemblyConfig {
            high_thresh: 2048,
            low_thresh: 1536,
            max_fragments: 6,
            ..ReassemblyConfig::default_for::<I>()
        };
        let mut table = Reassembly::<I>::new(config);
        let mut ctx = new_ctx();
        let data = pattern(100);
        let base_bytes = I::fragment(0, 0, true, &data[..8]);
        let base = I::parse(DEV, &base_bytes);
        let mut fragments = 0;
        for step in steps {
            match *step {
                Step::Fragment { id, offset_units, len, more } => {
                    let fragment = FragmentData {
                        offset: FragmentOffset::new(offset_units).unwrap(),
                        more_fragments: more,
                        payload: &data[..len],
                        ..base.clone()
                    };
                    fragments += 1;
                    let outcome = table.process_fragment(&mut ctx, I::with_id(fragment, id));
                    if let Ok(FragmentOutcome::Reassembled(buf)) = outcome {
                        prop_assert!(buf.body().len() > I::MIN_HEADER_LEN);
                    }
                }
                Step::Wait(secs) => ctx.advance(&mut table, Duration::from_secs(secs)),
            }
            prop_assert!(table.memory_used() <= config.high_thresh);
            prop_assert_eq!(ctx.timers().len(), table.len());
            prop_assert_eq!(table.is_empty(), table.memory_used() == 0);
        }
        prop_assert_eq!(table.counters().reasm_reqds, fragments);
        Ok(())
    }

    proptest! {
        #[test]
        fn arbitrary_fragment_sequences_never_panic_or_pass_the_limits_ipv4(steps in proptest::collection::vec(arb_step(), 0..60)) {
            run_hostile::<Ipv4>(&steps)?;
        }

        #[test]
        fn arbitrary_fragment_sequences_never_panic_or_pass_the_limits_ipv6(steps in proptest::collection::vec(arb_step(), 0..60)) {
            run_hostile::<Ipv6>(&steps)?;
        }
    }
}
