//! The source-filtering pieces MLDv2 (RFC 3810) shares with IGMPv3 (RFC 3376), written once
//! for both address families:
//!
//! * the exponential codes of the Max Resp Code and QQIC fields: [`decode_code8`] (IGMPv3
//!   Max Resp Code and QQIC, RFC 3376 §4.1.1 and §4.1.7; MLDv2 QQIC, RFC 3810 §5.1.9) and
//!   [`decode_code16`] (MLDv2 Maximum Response Code, RFC 3810 §5.1.3), with encoders;
//! * the tail of a version 3 query: S flag, QRV, QQIC and the source list (RFC 3376
//!   §4.1.5–§4.1.9, RFC 3810 §5.1.7–§5.1.11);
//! * the group records of a version 3 report (RFC 3376 §4.2.4–§4.2.12, RFC 3810
//!   §5.2.4–§5.2.12): record type, auxiliary data length, sources and the multicast address.
//!   Sources are read lazily; auxiliary data is skipped, as RFC 3376 §4.2.10 and RFC 3810
//!   §5.2.10 require of receivers.

use core::fmt;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{put, put_bytes, u8_enum, AddrList, WireAddress};
use crate::wire::{Layer, ParseError, ParseErrorKind};

u8_enum! {
    /// The type of a group record (RFC 3376 §4.2.12, RFC 3810 §5.2.12). Records of other
    /// types MUST be silently ignored by their receiver.
    pub enum GroupRecordType {
        /// 1: MODE_IS_INCLUDE, a current-state record.
        ModeIsInclude = 1,
        /// 2: MODE_IS_EXCLUDE, a current-state record.
        ModeIsExclude = 2,
        /// 3: CHANGE_TO_INCLUDE_MODE, a filter-mode-change record.
        ChangeToInclude = 3,
        /// 4: CHANGE_TO_EXCLUDE_MODE, a filter-mode-change record.
        ChangeToExclude = 4,
        /// 5: ALLOW_NEW_SOURCES, a source-list-change record.
        AllowNewSources = 5,
        /// 6: BLOCK_OLD_SOURCES, a source-list-change record.
        BlockOldSources = 6,
    }
}

/// The value of an exponential code with `mant_bits` bits of mantissa: below the top bit
/// the code is the value; otherwise it is `1|exp(3)|mant` and the value is
/// `(mant | 1 << mant_bits) << (exp + 3)`.
fn decode_exponential(code: u32, mant_bits: u32) -> u32 {
    let exponential_flag = 1 << (mant_bits + 3);
    if code < exponential_flag {
        return code;
    }
    let exp = (code >> mant_bits) & 0x07;
    let mant = code & ((1 << mant_bits) - 1);
    (mant | (1 << mant_bits)) << (exp + 3)
}

/// The largest exponential code with `mant_bits` bits of mantissa whose value is at most
/// `value`: a querier rounds down so that hosts answer no later than asked. Values too large
/// for the code give the largest code, all ones.
fn encode_exponential(value: u32, mant_bits: u32) -> u32 {
    let exponential_flag = 1 << (mant_bits + 3);
    if value < exponential_flag {
        return value;
    }
    // The value has its top bit at position exp + mant_bits + 3 (the mantissa's implicit
    // top bit shifted by exp + 3).
    let exp = 31 - value.leading_zeros() - (mant_bits + 3);
    if exp > 7 {
        return (exponential_flag << 1) - 1;
    }
    let mant = (value >> (exp + 3)) & ((1 << mant_bits) - 1);
    exponential_flag | (exp << mant_bits) | mant
}

/// The value of an 8-bit exponential code (RFC 3376 §4.1.1 and §4.1.7, RFC 3810 §5.1.9):
/// below 128 the code is the value; otherwise it is `1|exp(3)|mant(4)` and the value is
/// `(mant | 0x10) << (exp + 3)`. Units are the field's: tenths of a second for the IGMPv3
/// Max Resp Code, seconds for QQIC.
pub fn decode_code8(code: u8) -> u32 {
    decode_exponential(u32::from(code), 4)
}

/// The largest 8-bit exponential code whose value is at most `value` (31744 and above give
/// the largest code, 0xff): a querier rounds down so that hosts answer no later than asked.
pub fn encode_code8(value: u32) -> u8 {
    // At most 0xff: four bits of mantissa, three of exponent and the flag.
    encode_exponential(value, 4) as u8
}

/// The value of the 16-bit MLDv2 Maximum Response Code (RFC 3810 §5.1.3), in milliseconds:
/// below 32768 the code is the value; otherwise it is `1|exp(3)|mant(12)` and the value is
/// `(mant | 0x1000) << (exp + 3)`.
pub fn decode_code16(code: u16) -> u32 {
    decode_exponential(u32::from(code), 12)
}

/// The largest 16-bit Maximum Response Code whose value is at most `value` milliseconds
/// (8387584 and above give the largest code, 0xffff).
pub fn encode_code16(value: u32) -> u16 {
    // At most 0xffff: twelve bits of mantissa, three of exponent and the flag.
    encode_exponential(value, 12) as u16
}

/// Resv(4) | S(1) | QRV(3): the S flag (RFC 3376 §4.1.5, RFC 3810 §5.1.7).
const SUPPRESS_FLAG: u8 = 0x08;
/// The QRV bits (RFC 3376 §4.1.6, RFC 3810 §5.1.8).
const ROBUSTNESS_MASK: u8 = 0x07;

/// The fixed start of a version 3 query's tail, as on the wire.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct QueryTailHeader {
    flags: u8,
    query_interval_code: u8,
    number_of_sources: U16,
}

/// Length of the fixed start of a version 3 query's tail.
const QUERY_TAIL_HEADER_LEN: usize = size_of::<QueryTailHeader>();

/// How many of `sources` a query or record carries: at most what its 16-bit Number of
/// Sources can say.
fn source_count<A: WireAddress>(sources: &AddrList<'_, A>) -> usize {
    sources.len().min(usize::from(u16::MAX))
}

/// The fields a version 3 query carries after its multicast address.
#[derive(Debug)]
pub(in crate::wire) struct QueryTail<'a, A: WireAddress> {
    pub(in crate::wire) suppress_router_processing: bool,
    pub(in crate::wire) robustness: u8,
    pub(in crate::wire) query_interval_code: u8,
    pub(in crate::wire) sources: AddrList<'a, A>,
}

impl<'a, A: WireAddress> QueryTail<'a, A> {
    /// Parses the tail from `bytes`; bytes after the sources are ignored.
    pub(in crate::wire) fn parse(bytes: &'a [u8], layer: Layer) -> Result<Self, ParseError> {
        let (header, rest) =
            QueryTailHeader::ref_from_prefix(bytes).map_err(|_| ParseError::truncated(layer))?;
        // RFC 3376 §4.1.8, RFC 3810 §5.1.10: the Number of Sources says how many follow.
        let sources_len = usize::from(header.number_of_sources.get()) * A::LEN;
        let sources = rest.get(..sources_len).ok_or(ParseError::new(
            layer,
            ParseErrorKind::Length("number of sources runs past the message"),
        ))?;
        Ok(Self {
            suppress_router_processing: header.flags & SUPPRESS_FLAG != 0,
            robustness: header.flags & ROBUSTNESS_MASK,
            query_interval_code: header.query_interval_code,
            sources: AddrList::from_wire(sources),
        })
    }

    /// Bytes written.
    pub(in crate::wire) fn wire_len(&self) -> usize {
        QUERY_TAIL_HEADER_LEN + source_count(&self.sources) * A::LEN
    }

    /// Writes the tail into `out` ([`wire_len`](Self::wire_len) bytes); reserved bits are 0.
    pub(in crate::wire) fn write(&self, out: &mut [u8]) {
        let count = source_count(&self.sources);
        let header = QueryTailHeader {
            flags: (u8::from(self.suppress_router_processing) * SUPPRESS_FLAG)
                | (self.robustness & ROBUSTNESS_MASK),
            query_interval_code: self.query_interval_code,
            number_of_sources: U16::new(count as u16),
        };
        put(out, &header);
        if let Some(sources) = out.get_mut(QUERY_TAIL_HEADER_LEN..) {
            self.sources.write(sources, count);
        }
    }
}

/// The fixed start of a group record, as on the wire.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RecordHeader {
    record_type: u8,
    aux_data_len: u8,
    number_of_sources: U16,
}

/// Length of a group record's fixed start.
const RECORD_HEADER_LEN: usize = size_of::<RecordHeader>();

/// One multicast address record of an MLDv2 report (RFC 3810 §5.2.4) or group record of an
/// IGMPv3 report (RFC 3376 §4.2.4). Auxiliary data is skipped on receipt and never sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRecord<'a, A: WireAddress> {
    /// The record type.
    pub record_type: GroupRecordType,
    /// The multicast address the record is about.
    pub multicast_address: A,
    /// The source addresses. A record carries at most 65535 of them (the count is 16 bits);
    /// a builder writes only that many.
    pub sources: AddrList<'a, A>,
}

impl<'a, A: WireAddress> GroupRecord<'a, A> {
    fn wire_len(&self) -> usize {
        RECORD_HEADER_LEN + A::LEN * (1 + source_count(&self.sources))
    }

    fn write(&self, out: &mut [u8]) {
        let count = source_count(&self.sources);
        let header = RecordHeader {
            record_type: self.record_type.into(),
            aux_data_len: 0,
            number_of_sources: U16::new(count as u16),
        };
        put(out, &header);
        let Some((address, sources)) =
            out.get_mut(RECORD_HEADER_LEN..).and_then(|rest| rest.split_at_mut_checked(A::LEN))
        else {
            return;
        };
        put_bytes(address, self.multicast_address.as_bytes());
        self.sources.write(sources, count);
    }

    /// Splits the record at the front of `bytes` off, skipping its auxiliary data.
    fn split(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), ParseErrorKind> {
        const PAST_END: ParseErrorKind = ParseErrorKind::Length("group record runs past the message");
        let (header, rest) = RecordHeader::ref_from_prefix(bytes).map_err(|_| PAST_END)?;
        let sources_len = usize::from(header.number_of_sources.get()) * A::LEN;
        // RFC 3376 §4.2.6, RFC 3810 §5.2.6: Aux Data Len counts 32-bit words.
        let aux_len = usize::from(header.aux_data_len) * 4;
        let (address, rest) = rest.split_at_checked(A::LEN).ok_or(PAST_END)?;
        let (sources, rest) = rest.split_at_checked(sources_len).ok_or(PAST_END)?;
        let (_aux_data, rest) = rest.split_at_checked(aux_len).ok_or(PAST_END)?;
        let multicast_address = A::from_wire(address).ok_or(PAST_END)?;
        let record = Self {
            record_type: header.record_type.into(),
            multicast_address,
            sources: AddrList::from_wire(sources),
        };
        Ok((record, rest))
    }
}

/// The group records of a version 3 report: read lazily from a received report, or borrowed
/// from the caller to build one. Lists are equal when their records are (auxiliary data
/// does not count).
#[derive(Clone, Copy)]
pub struct GroupRecords<'a, A: WireAddress> {
    repr: RecordsRepr<'a, A>,
}

#[derive(Clone, Copy)]
enum RecordsRepr<'a, A: WireAddress> {
    /// `count` records, checked by the parser, exactly filling `bytes`.
    Wire {
        bytes: &'a [u8],
        count: u16,
    },
    Records(&'a [GroupRecord<'a, A>]),
}

impl<'a, A: WireAddress> GroupRecords<'a, A> {
    /// The records to build a report with. A report carries at most 65535 (the count is 16
    /// bits); a builder writes only that many.
    pub const fn new(records: &'a [GroupRecord<'a, A>]) -> Self {
        Self { repr: RecordsRepr::Records(records) }
    }

    /// Checks that `count` records lie at the front of `bytes` (RFC 3376 §4.2.3, RFC 3810
    /// §5.2.3); bytes after them are ignored.
    pub(in crate::wire) fn parse(bytes: &'a [u8], count: u16, layer: Layer) -> Result<Self, ParseError> {
        let mut rest = bytes;
        for _ in 0..count {
            rest = GroupRecord::<A>::split(rest).map_err(|kind| ParseError::new(layer, kind))?.1;
        }
        let used = bytes.len() - rest.len();
        Ok(Self { repr: RecordsRepr::Wire { bytes: bytes.get(..used).unwrap_or(bytes), count } })
    }

    /// Number of records (that a builder writes).
    pub fn len(&self) -> usize {
        match self.repr {
            RecordsRepr::Wire { count, .. } => usize::from(count),
            RecordsRepr::Records(records) => records.len().min(usize::from(u16::MAX)),
        }
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records, in order.
    pub fn iter(&self) -> GroupRecordsIter<'a, A> {
        GroupRecordsIter {
            repr: match self.repr {
                RecordsRepr::Wire { bytes, count } => RecordsIterRepr::Wire { bytes, remaining: count },
                RecordsRepr::Records(records) => RecordsIterRepr::Records(records.iter().take(self.len())),
            },
        }
    }

    /// The Number of Records field.
    pub(in crate::wire) fn count(&self) -> u16 {
        self.len() as u16
    }

    /// Bytes written.
    pub(in crate::wire) fn wire_len(&self) -> usize {
        match self.repr {
            RecordsRepr::Wire { bytes, .. } => bytes.len(),
            RecordsRepr::Records(_) => self.iter().map(|r| r.wire_len()).sum(),
        }
    }

    /// Writes the records into `out` ([`wire_len`](Self::wire_len) bytes). Received records
    /// are copied as they came, auxiliary data included.
    pub(in crate::wire) fn write(&self, out: &mut [u8]) {
        match self.repr {
            RecordsRepr::Wire { bytes, .. } => put_bytes(out, bytes),
            RecordsRepr::Records(_) => {
                let mut rest = out;
                for record in self.iter() {
                    let Some((this, next)) = rest.split_at_mut_checked(record.wire_len()) else { return };
                    record.write(this);
                    rest = next;
                }
            }
        }
    }
}

impl<'a, A: WireAddress> IntoIterator for GroupRecords<'a, A> {
    type Item = GroupRecord<'a, A>;
    type IntoIter = GroupRecordsIter<'a, A>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<A: WireAddress> PartialEq for GroupRecords<'_, A> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<A: WireAddress> Eq for GroupRecords<'_, A> {}

impl<A: WireAddress> fmt::Debug for GroupRecords<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`GroupRecords`].
#[derive(Clone, Debug)]
pub struct GroupRecordsIter<'a, A: WireAddress> {
    repr: RecordsIterRepr<'a, A>,
}

#[derive(Clone, Debug)]
enum RecordsIterRepr<'a, A: WireAddress> {
    Wire { bytes: &'a [u8], remaining: u16 },
    Records(core::iter::Take<core::slice::Iter<'a, GroupRecord<'a, A>>>),
}

impl<'a, A: WireAddress> Iterator for GroupRecordsIter<'a, A> {
    type Item = GroupRecord<'a, A>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.repr {
            RecordsIterRepr::Wire { bytes, remaining } => {
                *remaining = remaining.checked_sub(1)?;
                // The parser checked every record, so this split cannot fail.
                let (record, rest) = GroupRecord::split(bytes).ok()?;
                *bytes = rest;
                Some(record)
            }
            RecordsIterRepr::Records(records) => records.next().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4Addr, Ipv6Addr};
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn rfc3376_4_1_1_code8_examples() {
        assert_eq!(decode_code8(100), 100);
        assert_eq!(decode_code8(0x7f), 127);
        // 1|000|0000: (0 | 0x10) << 3.
        assert_eq!(decode_code8(0x80), 128);
        // 1|111|1111: the largest, 0x1f << 10.
        assert_eq!(decode_code8(0xff), 31744);
        assert_eq!(encode_code8(31744), 0xff);
        assert_eq!(encode_code8(u32::MAX), 0xff);
        // 130 is not representable: rounds down to 128.
        assert_eq!(encode_code8(130), 0x80);
    }

    #[test]
    fn rfc3810_5_1_3_code16_examples() {
        assert_eq!(decode_code16(10000), 10000);
        assert_eq!(decode_code16(0x8000), 0x1000 << 3);
        assert_eq!(decode_code16(0xffff), 0x1fff << 10);
        assert_eq!(encode_code16(0x1fff << 10), 0xffff);
        assert_eq!(encode_code16(u32::MAX), 0xffff);
    }

    #[test]
    fn every_code_encodes_back_to_itself() {
        for code in 0..=u8::MAX {
            assert_eq!(encode_code8(decode_code8(code)), code);
        }
        for code in 0..=u16::MAX {
            assert_eq!(encode_code16(decode_code16(code)), code);
        }
    }

    #[test]
    fn rfc3376_4_1_query_tail_flags_and_sources() {
        let bytes = [0x0a, 125, 0, 2, 192, 0, 2, 1, 192, 0, 2, 2, 0xee];
        let tail = QueryTail::<Ipv4Addr>::parse(&bytes, Layer::Igmp).unwrap();
        assert!(tail.suppress_router_processing);
        assert_eq!((tail.robustness, tail.query_interval_code), (2, 125));
        let sources: Vec<_> = tail.sources.iter().collect();
        assert_eq!(sources, [Ipv4Addr::new([192, 0, 2, 1]), Ipv4Addr::new([192, 0, 2, 2])]);
        let mut out = vec![0u8; tail.wire_len()];
        tail.write(&mut out);
        assert_eq!(out, bytes[..12]);
        // Reserved bits are not kept.
        let mut reserved = bytes;
        reserved[0] |= 0xf0;
        let tail = QueryTail::<Ipv4Addr>::parse(&reserved, Layer::Igmp).unwrap();
        assert_eq!((tail.suppress_router_processing, tail.robustness), (true, 2));
    }

    #[test]
    fn rfc3376_4_1_8_sources_must_fit() {
        let err =
            QueryTail::<Ipv4Addr>::parse(&[0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8], Layer::Igmp).unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::Length(_)));
        let err = QueryTail::<Ipv6Addr>::parse(&[0, 0, 0], Layer::Icmpv6).unwrap_err();
        assert_eq!(err, ParseError::truncated(Layer::Icmpv6));
    }

    #[test]
    fn rfc3376_4_2_10_aux_data_is_skipped() {
        // Two records; the first has one 32-bit word of auxiliary data.
        let bytes = [
            2, 1, 0, 1, 239, 1, 1, 1, 192, 0, 2, 9, 0xaa, 0xbb, 0xcc, 0xdd, //
            5, 0, 0, 0, 239, 2, 2, 2,    //
            0xff, // trailing, ignored
        ];
        let records = GroupRecords::<Ipv4Addr>::parse(&bytes, 2, Layer::Igmp).unwrap();
        let all: Vec<_> = records.iter().collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].record_type, GroupRecordType::ModeIsExclude);
        assert_eq!(all[0].multicast_address, Ipv4Addr::new([239, 1, 1, 1]));
        assert_eq!(all[0].sources, AddrList::new(&[Ipv4Addr::new([192, 0, 2, 9])]));
        assert_eq!(all[1].record_type, GroupRecordType::AllowNewSources);
        assert!(all[1].sources.is_empty());
        // Re-serializing a received list copies it, auxiliary data included.
        assert_eq!(records.wire_len(), 24);
        let mut out = [0u8; 24];
        records.write(&mut out);
        assert_eq!(out, bytes[..24]);
        // A typed list of the same records compares equal but is written without aux data.
        let typed = GroupRecords::new(&all);
        assert_eq!(typed, records);
        assert_eq!(typed.wire_len(), 20);
    }

    #[test]
    fn rfc3810_5_2_records_must_fit() {
        let bytes = [4, 0, 0, 1, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let err = GroupRecords::<Ipv6Addr>::parse(&bytes, 1, Layer::Icmpv6).unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::Length(_)));
        let err = GroupRecords::<Ipv6Addr>::parse(&bytes[..20], 2, Layer::Icmpv6);
        assert!(err.is_err());
        let mut aux = bytes;
        aux[3] = 0;
        aux[1] = 1;
        assert!(GroupRecords::<Ipv6Addr>::parse(&aux, 1, Layer::Icmpv6).is_err());
        aux[1] = 0;
        assert!(GroupRecords::<Ipv6Addr>::parse(&aux, 1, Layer::Icmpv6).is_ok());
    }

    proptest! {
        #[test]
        fn code8_rounds_down(value in any::<u32>()) {
            let decoded = decode_code8(encode_code8(value));
            prop_assert!(decoded <= value);
            let code = encode_code8(value);
            if code < u8::MAX {
                prop_assert!(decode_code8(code + 1) > value);
            }
        }

        #[test]
        fn code16_rounds_down(value in any::<u32>()) {
            let code = encode_code16(value);
            prop_assert!(decode_code16(code) <= value);
            if code < u16::MAX {
                prop_assert!(decode_code16(code + 1) > value);
            }
        }

        #[test]
        fn records_round_trip(
            raw in proptest::collection::vec(
                (any::<u8>(), any::<[u8; 4]>(), proptest::collection::vec(any::<[u8; 4]>(), 0..4)),
                0..4,
            ),
        ) {
            let sources: Vec<Vec<Ipv4Addr>> =
                raw.iter().map(|(_, _, s)| s.iter().copied().map(Ipv4Addr::new).collect()).collect();
            let records: Vec<GroupRecord<'_, Ipv4Addr>> = raw
                .iter()
                .zip(&sources)
                .map(|((t, group, _), s)| GroupRecord {
                    record_type: (*t).into(),
                    multicast_address: Ipv4Addr::new(*group),
                    sources: AddrList::new(s),
                })
                .collect();
            let typed = GroupRecords::new(&records);
            let mut out = vec![0u8; typed.wire_len()];
            typed.write(&mut out);
            let parsed = GroupRecords::<Ipv4Addr>::parse(&out, typed.count(), Layer::Igmp).unwrap();
            prop_assert_eq!(parsed, typed);
            prop_assert_eq!(parsed.wire_len(), out.len());
        }

        #[test]
        fn arbitrary_records_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80), count in 0u16..8) {
            if let Ok(records) = GroupRecords::<Ipv6Addr>::parse(&bytes, count, Layer::Icmpv6) {
                prop_assert_eq!(records.iter().count(), usize::from(count));
            }
            let _ = QueryTail::<Ipv4Addr>::parse(&bytes, Layer::Igmp);
        }
    }
}
