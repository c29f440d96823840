//! IGMP messages, carried directly in IPv4 (protocol 2): IGMPv1 (RFC 1112 appendix I), IGMPv2
//! (RFC 2236 §2) and IGMPv3 (RFC 3376 §4).
//!
//! Every version shares the ICMP layout: type, Max Resp Time/Code, checksum, a 4-byte word
//! (the group address, or the record count of a version 3 report), then a body. The checksum
//! covers the whole message (RFC 2236 §2.3, RFC 3376 §4.1.2). The same split as for ICMP
//! applies: [`IgmpPacket`] checks length and checksum and leaves the body in the buffer;
//! [`IgmpPacket::message`] decodes the typed message; [`IgmpPacket::builder`] re-serializes any
//! message byte for byte.
//!
//! A query's version is told by its length and Max Resp Code (RFC 3376 §7.1): 8 bytes and 0
//! is IGMPv1, 8 bytes and non-zero is IGMPv2, 12 bytes or more is IGMPv3, anything else is
//! rejected. Other messages may be longer than 8 bytes; the rest is ignored (RFC 2236 §2.5).
//! Version 3 sources and group records are read lazily, with the machinery MLDv2 shares
//! ([`icmp::group`](super::icmp::group)).

use core::time::Duration;

use zerocopy::Ref;

use super::checksum::Checksum;
use super::icmp::group::{decode_code8, GroupRecords, QueryTail};
use super::icmp::{parse_message, u8_enum, write_message, AddrList, MessageHeader, RawHeader, HEADER_LEN};
use super::{Layer, ParseError, ParseErrorKind};
use crate::addr::Ipv4Addr;
use crate::buf::{
    PacketBuilder, PacketBytes, PacketConstraints, ParsablePacket, ParseMetadata, ParseView, SerializeTarget,
};

u8_enum! {
    /// An IGMP message type (IANA "IGMP Type Numbers").
    pub enum IgmpType {
        /// 0x11: Membership Query, every version (RFC 1112, RFC 2236 §2.1, RFC 3376 §4.1).
        MembershipQuery = 0x11,
        /// 0x12: IGMPv1 Membership Report (RFC 1112 appendix I).
        MembershipReportV1 = 0x12,
        /// 0x16: IGMPv2 Membership Report (RFC 2236 §2.1).
        MembershipReportV2 = 0x16,
        /// 0x17: IGMPv2 Leave Group (RFC 2236 §2.1).
        LeaveGroup = 0x17,
        /// 0x22: IGMPv3 Membership Report (RFC 3376 §4.2).
        MembershipReportV3 = 0x22,
    }
}

/// Length of an IGMPv1 or IGMPv2 message, and of those queries (RFC 3376 §7.1).
pub const IGMPV2_LEN: usize = 8;
/// Minimum length of an IGMPv3 query (RFC 3376 §7.1).
pub const IGMPV3_QUERY_MIN_LEN: usize = 12;

/// A parsed IGMP message: at least 8 bytes, checksum verified. The body (everything after
/// the 8-byte header) stays in the buffer; [`message`](Self::message) decodes it.
#[derive(Debug)]
pub struct IgmpPacket<B: PacketBytes> {
    header: Ref<B, MessageHeader>,
    body: B,
}

impl<B: PacketBytes> ParsablePacket<B> for IgmpPacket<B> {
    type Args = ();
    type Error = ParseError;

    fn parse(view: &mut ParseView<B>, _args: ()) -> Result<Self, ParseError> {
        let (header, body) = parse_message(view, Layer::Igmp, Checksum::new())?;
        Ok(Self { header, body })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata { header_len: HEADER_LEN, body_len: self.body.len(), footer_len: 0 }
    }
}

impl<B: PacketBytes> IgmpPacket<B> {
    /// The Type field.
    pub fn msg_type(&self) -> IgmpType {
        self.header.raw().msg_type.into()
    }

    /// The Max Resp Time (IGMPv2) or Max Resp Code (IGMPv3) field; unused (0) in IGMPv1 and
    /// in reports.
    pub fn max_response_code(&self) -> u8 {
        self.header.raw().code
    }

    /// The checksum field (already verified).
    pub fn checksum(&self) -> u16 {
        self.header.checksum()
    }

    /// The type, Max Resp field and the 4-byte word after the checksum.
    pub fn raw_header(&self) -> RawHeader {
        self.header.raw()
    }

    /// Everything after the 8-byte header.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A builder that writes this message's header again: with the same body it reproduces
    /// the message byte for byte, whatever its type.
    pub fn builder(&self) -> IgmpBuilder<RawHeader> {
        IgmpBuilder { message: self.header.raw() }
    }

    /// Decodes the typed message, checking the rules of its type.
    pub fn message(&self) -> Result<IgmpMessage<'_>, ParseError> {
        decode(self.header.raw(), &self.body)
    }
}

/// The typed fields of one kind of IGMP message: what [`IgmpPacket::message`] decodes and an
/// [`IgmpBuilder`] writes. Like ICMP messages, it writes the 8-byte header and any fields
/// after it ([`fields_len`](Self::fields_len)); the builder's body follows (normally empty).
pub trait IgmpMessageFields {
    /// Type, Max Resp field, and the 4-byte word after the checksum.
    fn header(&self) -> RawHeader;

    /// Bytes of fields this message writes after the 8-byte header.
    fn fields_len(&self) -> usize {
        0
    }

    /// Writes those fields into `fields` (exactly [`fields_len`](Self::fields_len) bytes,
    /// zeroed).
    fn write_fields(&self, _fields: &mut [u8]) {}
}

impl IgmpMessageFields for RawHeader {
    fn header(&self) -> RawHeader {
        *self
    }
}

/// Writes an IGMP message around a body and computes the checksum over all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IgmpBuilder<M> {
    /// The message.
    pub message: M,
}

impl<M: IgmpMessageFields> IgmpBuilder<M> {
    /// A builder for `message`.
    pub fn new(message: M) -> Self {
        Self { message }
    }
}

impl<M: IgmpMessageFields> PacketBuilder for IgmpBuilder<M> {
    fn constraints(&self) -> PacketConstraints {
        PacketConstraints::header(HEADER_LEN + self.message.fields_len())
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        write_message(target.header, body, Checksum::new(), self.message.header(), |fields| {
            self.message.write_fields(fields)
        });
    }
}

/// An 8-byte Membership Query: IGMPv1 (RFC 1112 appendix I) when the Max Resp Time is 0,
/// IGMPv2 (RFC 2236 §2) otherwise (RFC 3376 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembershipQuery {
    /// Max Resp Time in tenths of a second (RFC 2236 §2.2); 0 in an IGMPv1 query.
    pub max_response_time: u8,
    /// The queried group, or 0.0.0.0 for a general query (RFC 2236 §2.4).
    pub group_address: Ipv4Addr,
}

impl MembershipQuery {
    /// Whether this is an IGMPv1 query (RFC 3376 §7.1).
    pub fn is_igmpv1(&self) -> bool {
        self.max_response_time == 0
    }

    /// The Max Resp Time (RFC 2236 §2.2).
    pub fn max_response_delay(&self) -> Duration {
        Duration::from_millis(u64::from(self.max_response_time) * 100)
    }
}

impl IgmpMessageFields for MembershipQuery {
    fn header(&self) -> RawHeader {
        RawHeader::new(IgmpType::MembershipQuery, self.max_response_time, self.group_address.bytes())
    }
}

/// An IGMPv3 Membership Query (RFC 3376 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MembershipQueryV3<'a> {
    /// Max Resp Code (RFC 3376 §4.1.1); see [`max_response_delay`](Self::max_response_delay).
    pub max_response_code: u8,
    /// The queried group, or 0.0.0.0 for a general query (RFC 3376 §4.1.3).
    pub group_address: Ipv4Addr,
    /// The S flag: routers suppress their timer updates (RFC 3376 §4.1.5).
    pub suppress_router_processing: bool,
    /// Querier's Robustness Variable, 3 bits; 0 if above 7 (RFC 3376 §4.1.6).
    pub robustness: u8,
    /// Querier's Query Interval Code (RFC 3376 §4.1.7); see
    /// [`query_interval`](Self::query_interval).
    pub query_interval_code: u8,
    /// The sources of a group-and-source-specific query (RFC 3376 §4.1.8, §4.1.9).
    pub sources: AddrList<'a, Ipv4Addr>,
}

impl MembershipQueryV3<'_> {
    /// The Max Resp Time the code stands for (RFC 3376 §4.1.1; in tenths of a second).
    pub fn max_response_delay(&self) -> Duration {
        Duration::from_millis(u64::from(decode_code8(self.max_response_code)) * 100)
    }

    /// The Querier's Query Interval the code stands for (RFC 3376 §4.1.7).
    pub fn query_interval(&self) -> Duration {
        Duration::from_secs(u64::from(decode_code8(self.query_interval_code)))
    }

    fn tail(&self) -> QueryTail<'_, Ipv4Addr> {
        QueryTail {
            suppress_router_processing: self.suppress_router_processing,
            robustness: self.robustness,
            query_interval_code: self.query_interval_code,
            sources: self.sources,
        }
    }
}

impl IgmpMessageFields for MembershipQueryV3<'_> {
    fn header(&self) -> RawHeader {
        RawHeader::new(IgmpType::MembershipQuery, self.max_response_code, self.group_address.bytes())
    }

    fn fields_len(&self) -> usize {
        self.tail().wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        self.tail().write(fields);
    }
}

/// An IGMPv1 Membership Report (RFC 1112 appendix I).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembershipReportV1 {
    /// The group being reported.
    pub group_address: Ipv4Addr,
}

impl IgmpMessageFields for MembershipReportV1 {
    fn header(&self) -> RawHeader {
        RawHeader::new(IgmpType::MembershipReportV1, 0, self.group_address.bytes())
    }
}

/// An IGMPv2 Membership Report (RFC 2236 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembershipReportV2 {
    /// The group being reported.
    pub group_address: Ipv4Addr,
}

impl IgmpMessageFields for MembershipReportV2 {
    fn header(&self) -> RawHeader {
        // RFC 2236 §2.2: the Max Resp Time is zero in every message but the query.
        RawHeader::new(IgmpType::MembershipReportV2, 0, self.group_address.bytes())
    }
}

/// An IGMPv2 Leave Group (RFC 2236 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaveGroup {
    /// The group being left.
    pub group_address: Ipv4Addr,
}

impl IgmpMessageFields for LeaveGroup {
    fn header(&self) -> RawHeader {
        RawHeader::new(IgmpType::LeaveGroup, 0, self.group_address.bytes())
    }
}

/// An IGMPv3 Membership Report (RFC 3376 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MembershipReportV3<'a> {
    /// The group records.
    pub records: GroupRecords<'a, Ipv4Addr>,
}

impl IgmpMessageFields for MembershipReportV3<'_> {
    fn header(&self) -> RawHeader {
        // RFC 3376 §4.2: Reserved (8 bits) in the code's place; Reserved (16 bits), then
        // Number of Group Records.
        let [c0, c1] = self.records.count().to_be_bytes();
        RawHeader::new(IgmpType::MembershipReportV3, 0, [0, 0, c0, c1])
    }

    fn fields_len(&self) -> usize {
        self.records.wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        self.records.write(fields);
    }
}

/// A decoded IGMP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgmpMessage<'a> {
    /// An IGMPv1 or IGMPv2 query (8 bytes).
    MembershipQuery(MembershipQuery),
    /// An IGMPv3 query (12 bytes or more).
    MembershipQueryV3(MembershipQueryV3<'a>),
    /// An IGMPv1 report.
    MembershipReportV1(MembershipReportV1),
    /// An IGMPv2 report.
    MembershipReportV2(MembershipReportV2),
    /// An IGMPv2 leave.
    LeaveGroup(LeaveGroup),
    /// An IGMPv3 report.
    MembershipReportV3(MembershipReportV3<'a>),
    /// A type this stack does not know; RFC 3376 §4 asks that it be silently ignored.
    Unknown {
        /// Type, Max Resp field and the word after the checksum.
        header: RawHeader,
        /// Everything after the header.
        body: &'a [u8],
    },
}

/// Decodes the typed message from a verified header and its body.
fn decode(header: RawHeader, body: &[u8]) -> Result<IgmpMessage<'_>, ParseError> {
    let group_address = Ipv4Addr::new(header.rest_of_header);
    Ok(match IgmpType::from(header.msg_type) {
        IgmpType::MembershipQuery => {
            // RFC 3376 §7.1: the length tells the version.
            let len = HEADER_LEN + body.len();
            if len == IGMPV2_LEN {
                IgmpMessage::MembershipQuery(MembershipQuery {
                    max_response_time: header.code,
                    group_address,
                })
            } else if len < IGMPV3_QUERY_MIN_LEN {
                return Err(ParseError::new(
                    Layer::Igmp,
                    ParseErrorKind::Length("IGMP query neither 8 (IGMPv1/v2) nor at least 12 (IGMPv3) bytes"),
                ));
            } else {
                let tail = QueryTail::parse(body, Layer::Igmp)?;
                IgmpMessage::MembershipQueryV3(MembershipQueryV3 {
                    max_response_code: header.code,
                    group_address,
                    suppress_router_processing: tail.suppress_router_processing,
                    robustness: tail.robustness,
                    query_interval_code: tail.query_interval_code,
                    sources: tail.sources,
                })
            }
        }
        IgmpType::MembershipReportV1 => IgmpMessage::MembershipReportV1(MembershipReportV1 { group_address }),
        IgmpType::MembershipReportV2 => IgmpMessage::MembershipReportV2(MembershipReportV2 { group_address }),
        IgmpType::LeaveGroup => IgmpMessage::LeaveGroup(LeaveGroup { group_address }),
        IgmpType::MembershipReportV3 => {
            let [_, _, c0, c1] = header.rest_of_header;
            let records = GroupRecords::parse(body, u16::from_be_bytes([c0, c1]), Layer::Igmp)?;
            IgmpMessage::MembershipReportV3(MembershipReportV3 { records })
        }
        IgmpType::Other(_) => IgmpMessage::Unknown { header, body },
    })
}

#[cfg(test)]
mod tests {
    use super::super::icmp::group::{GroupRecord, GroupRecordType};
    use super::*;
    use crate::buf::{Buf, Serializer};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    // No IGMP in the captures: these were built by hand and checked with TShark 4.0.17
    // (checksums good, fields as named).

    /// IGMPv2 general query, Max Resp Time 10 s, to 224.0.0.1.
    const V2_GENERAL_QUERY: [u8; 8] = [0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00];
    /// IGMPv2 report for 239.1.2.3.
    const V2_REPORT: [u8; 8] = [0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03];
    /// IGMPv3 report to 224.0.0.22: CHANGE_TO_EXCLUDE for 239.1.2.3 with no sources, and
    /// ALLOW_NEW_SOURCES for 232.1.1.1 from 192.0.2.1.
    const V3_REPORT: [u8; 28] = [
        0x22, 0x00, 0x38, 0xf3, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03, 0x05,
        0x00, 0x00, 0x01, 0xe8, 0x01, 0x01, 0x01, 0xc0, 0x00, 0x02, 0x01,
    ];
    /// IGMPv3 group-and-source-specific query for 232.1.1.1 from 192.0.2.1: Max Resp Code
    /// 100, QRV 2, QQIC 125.
    const V3_QUERY: [u8; 16] =
        [0x11, 0x64, 0x41, 0x19, 0xe8, 0x01, 0x01, 0x01, 0x02, 0x7d, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01];

    fn build<M: IgmpMessageFields>(message: M) -> Vec<u8> {
        (&[][..]).encapsulate(IgmpBuilder::new(message)).serialize_vec().unwrap().into_inner()
    }

    /// Checks the checksum, then decodes the message borrowing from `bytes`.
    fn decode_bytes(bytes: &[u8]) -> Result<IgmpMessage<'_>, ParseError> {
        let packet = IgmpPacket::parse_bytes(bytes, ()).unwrap();
        decode(packet.raw_header(), &bytes[HEADER_LEN..])
    }

    fn fix_checksum(bytes: &mut [u8]) {
        bytes[2..4].fill(0);
        let value = super::super::checksum::checksum(bytes);
        bytes[2..4].copy_from_slice(&value.to_be_bytes());
    }

    fn group(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
        Ipv4Addr::new([a, b, c, d])
    }

    #[test]
    fn vectors_reserialize_byte_for_byte_through_raw_header() {
        for bytes in [&V2_GENERAL_QUERY[..], &V2_REPORT[..], &V3_REPORT[..], &V3_QUERY[..]] {
            let mut buf = Buf::from_body(bytes.to_vec());
            let packet = buf.parse::<IgmpPacket<_>>(()).unwrap();
            let builder = packet.builder();
            buf.encapsulate(&builder).unwrap();
            assert_eq!(buf.body(), bytes);
        }
    }

    #[test]
    fn rfc2236_2_query_report_and_leave() {
        let query = MembershipQuery { max_response_time: 100, group_address: Ipv4Addr::UNSPECIFIED };
        assert_eq!(decode_bytes(&V2_GENERAL_QUERY).unwrap(), IgmpMessage::MembershipQuery(query));
        assert_eq!(build(query), V2_GENERAL_QUERY);
        assert!(!query.is_igmpv1());
        assert_eq!(query.max_response_delay(), Duration::from_secs(10));

        let report = MembershipReportV2 { group_address: group(239, 1, 2, 3) };
        assert_eq!(decode_bytes(&V2_REPORT).unwrap(), IgmpMessage::MembershipReportV2(report));
        assert_eq!(build(report), V2_REPORT);

        let leave = LeaveGroup { group_address: group(239, 1, 2, 3) };
        let bytes = build(leave);
        assert_eq!(bytes[0], 0x17);
        assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::LeaveGroup(leave));
    }

    #[test]
    fn rfc1112_appendix_i_v1_query_and_report() {
        let query = MembershipQuery { max_response_time: 0, group_address: Ipv4Addr::UNSPECIFIED };
        let bytes = build(query);
        let IgmpMessage::MembershipQuery(decoded) = decode_bytes(&bytes).unwrap() else { panic!() };
        assert!(decoded.is_igmpv1());
        let report = MembershipReportV1 { group_address: group(224, 1, 1, 1) };
        let bytes = build(report);
        assert_eq!(bytes[0], 0x12);
        assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::MembershipReportV1(report));
    }

    #[test]
    fn rfc3376_4_1_v3_query() {
        let sources = [group(192, 0, 2, 1)];
        let query = MembershipQueryV3 {
            max_response_code: 100,
            group_address: group(232, 1, 1, 1),
            suppress_router_processing: false,
            robustness: 2,
            query_interval_code: 125,
            sources: AddrList::new(&sources),
        };
        assert_eq!(decode_bytes(&V3_QUERY).unwrap(), IgmpMessage::MembershipQueryV3(query));
        assert_eq!(build(query), V3_QUERY);
        assert_eq!(query.max_response_delay(), Duration::from_secs(10));
        assert_eq!(query.query_interval(), Duration::from_secs(125));
    }

    #[test]
    fn rfc3376_4_2_v3_report() {
        let sources = [group(192, 0, 2, 1)];
        let records = [
            GroupRecord {
                record_type: GroupRecordType::ChangeToExclude,
                multicast_address: group(239, 1, 2, 3),
                sources: AddrList::new(&[]),
            },
            GroupRecord {
                record_type: GroupRecordType::AllowNewSources,
                multicast_address: group(232, 1, 1, 1),
                sources: AddrList::new(&sources),
            },
        ];
        let report = MembershipReportV3 { records: GroupRecords::new(&records) };
        assert_eq!(decode_bytes(&V3_REPORT).unwrap(), IgmpMessage::MembershipReportV3(report));
        assert_eq!(build(report), V3_REPORT);
    }

    #[test]
    fn rfc3376_7_1_query_version_is_told_by_length() {
        for len in 9..IGMPV3_QUERY_MIN_LEN {
            let mut bytes = V3_QUERY[..len].to_vec();
            fix_checksum(&mut bytes);
            let err = decode_bytes(&bytes).unwrap_err();
            assert!(matches!(err.kind, ParseErrorKind::Length(_)) && err.layer == Layer::Igmp);
        }
        let mut bytes = V3_QUERY[..12].to_vec();
        bytes[11] = 0;
        fix_checksum(&mut bytes);
        assert!(
            matches!(decode_bytes(&bytes).unwrap(), IgmpMessage::MembershipQueryV3(q) if q.sources.is_empty())
        );
    }

    #[test]
    fn rfc2236_2_5_longer_messages_are_read_for_their_first_8_bytes() {
        let mut bytes = V2_REPORT.to_vec();
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        fix_checksum(&mut bytes);
        assert_eq!(
            decode_bytes(&bytes).unwrap(),
            IgmpMessage::MembershipReportV2(MembershipReportV2 { group_address: group(239, 1, 2, 3) })
        );
    }

    #[test]
    fn rfc3376_4_1_2_checksum_covers_the_whole_message() {
        let mut bytes = V3_REPORT;
        bytes[27] ^= 1;
        assert_eq!(
            IgmpPacket::parse_bytes(&bytes[..], ()).unwrap_err(),
            ParseError::new(Layer::Igmp, ParseErrorKind::Checksum)
        );
        for len in 0..HEADER_LEN {
            assert_eq!(
                IgmpPacket::parse_bytes(&V3_REPORT[..len], ()).unwrap_err(),
                ParseError::truncated(Layer::Igmp)
            );
        }
    }

    #[test]
    fn rfc3376_4_2_records_and_sources_must_fit() {
        let mut bytes = V3_REPORT;
        bytes[7] = 3;
        fix_checksum(&mut bytes);
        assert!(matches!(decode_bytes(&bytes).unwrap_err().kind, ParseErrorKind::Length(_)));
        let mut bytes = V3_QUERY;
        bytes[11] = 2;
        fix_checksum(&mut bytes);
        assert!(matches!(decode_bytes(&bytes).unwrap_err().kind, ParseErrorKind::Length(_)));
    }

    #[test]
    fn unknown_types_are_reported_for_ignoring() {
        let raw = RawHeader { msg_type: 0x13, code: 0, rest_of_header: [0; 4] };
        let bytes = build(raw);
        assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::Unknown { header: raw, body: &[] });
        for value in 0..=255u8 {
            assert_eq!(u8::from(IgmpType::from(value)), value);
        }
    }

    fn arb_sources() -> impl Strategy<Value = Vec<Ipv4Addr>> {
        proptest::collection::vec(any::<[u8; 4]>().prop_map(Ipv4Addr::new), 0..5)
    }

    proptest! {
        #[test]
        fn raw_round_trip(msg_type in any::<u8>(), code in any::<u8>(), rest in any::<[u8; 4]>(), body in proptest::collection::vec(any::<u8>(), 0..40)) {
            let builder = IgmpBuilder::new(RawHeader { msg_type, code, rest_of_header: rest });
            let buf = (&body[..]).encapsulate(builder).serialize_vec().unwrap();
            let packet = IgmpPacket::parse_bytes(buf.body(), ()).unwrap();
            prop_assert_eq!(packet.builder(), builder);
            prop_assert_eq!(packet.body(), &body[..]);
        }

        #[test]
        fn v1_v2_round_trip(code in any::<u8>(), address in any::<[u8; 4]>()) {
            let group_address = Ipv4Addr::new(address);
            let query = MembershipQuery { max_response_time: code, group_address };
            let bytes = build(query);
            prop_assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::MembershipQuery(query));
            let report = MembershipReportV1 { group_address };
            let bytes = build(report);
            prop_assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::MembershipReportV1(report));
            let report = MembershipReportV2 { group_address };
            let bytes = build(report);
            prop_assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::MembershipReportV2(report));
            let leave = LeaveGroup { group_address };
            let bytes = build(leave);
            prop_assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::LeaveGroup(leave));
        }

        #[test]
        fn v3_query_round_trip(
            max_response_code in any::<u8>(),
            address in any::<[u8; 4]>(),
            suppress in any::<bool>(),
            robustness in 0u8..8,
            query_interval_code in any::<u8>(),
            sources in arb_sources(),
        ) {
            let query = MembershipQueryV3 {
                max_response_code,
                group_address: Ipv4Addr::new(address),
                suppress_router_processing: suppress,
                robustness,
                query_interval_code,
                sources: AddrList::new(&sources),
            };
            let bytes = build(query);
            prop_assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::MembershipQueryV3(query));
        }

        #[test]
        fn v3_report_round_trip(raw in proptest::collection::vec((any::<u8>(), any::<[u8; 4]>(), arb_sources()), 0..4)) {
            let records: Vec<GroupRecord<'_, Ipv4Addr>> = raw
                .iter()
                .map(|(t, g, s)| GroupRecord {
                    record_type: (*t).into(),
                    multicast_address: Ipv4Addr::new(*g),
                    sources: AddrList::new(s),
                })
                .collect();
            let report = MembershipReportV3 { records: GroupRecords::new(&records) };
            let bytes = build(report);
            prop_assert_eq!(decode_bytes(&bytes).unwrap(), IgmpMessage::MembershipReportV3(report));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = IgmpPacket::parse_bytes(&bytes[..], ());
        }

        #[test]
        fn arbitrary_messages_with_good_checksum_decode_without_panic(
            msg_type in prop_oneof![Just(0x11u8), Just(0x12), Just(0x16), Just(0x17), Just(0x22), any::<u8>()],
            mut bytes in proptest::collection::vec(any::<u8>(), 8..64),
        ) {
            bytes[0] = msg_type;
            fix_checksum(&mut bytes);
            let packet = IgmpPacket::parse_bytes(&bytes[..], ()).unwrap();
            let _ = packet.message();
        }
    }
}
