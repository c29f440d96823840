//! Multicast Listener Discovery messages: MLDv1 queries, reports and dones (RFC 2710 §3) and
//! MLDv2 queries and reports (RFC 3810 §5).
//!
//! Checked here, when the message is decoded:
//! * a query is MLDv1 if the ICMPv6 message is 24 bytes long, MLDv2 if it is 28 or more;
//!   queries of any other length are rejected (RFC 3810 §8.1);
//! * a query comes from a link-local source address (RFC 2710 §5, RFC 3810 §5.1.14);
//! * every multicast address record and source list fits in the message (RFC 3810 §5.1.10,
//!   §5.2.3–§5.2.6).
//!
//! The Code field is ignored, as both RFCs ask of receivers. The IPv6 layer checks the Hop
//! Limit of 1 and the Router Alert option (RFC 2710 §3, RFC 3810 §5); the rules on report
//! source addresses differ between hosts and routers (RFC 3810 §5.2.13, §7.4) and belong to
//! the MLD state machine.

use core::time::Duration;

use super::group::{decode_code16, decode_code8, GroupRecords, QueryTail};
use super::v6::{Icmpv6Message, Icmpv6Type};
use super::{put_bytes, AddrList, IcmpMessageFields, Icmpv6PseudoHeader, RawHeader, HEADER_LEN};
use crate::addr::{Ipv6, Ipv6Addr};
use crate::wire::{Layer, ParseError, ParseErrorKind};

/// Length of an MLDv1 message (RFC 2710 §3), and of an MLDv1 query (RFC 3810 §8.1).
pub const MLDV1_LEN: usize = 24;
/// Minimum length of an MLDv2 query (RFC 3810 §8.1).
pub const MLDV2_QUERY_MIN_LEN: usize = 28;
/// Length of a multicast address.
const ADDR_LEN: usize = 16;

/// An MLDv1 Multicast Listener Query (type 130, RFC 2710 §3): general (for `::`) or
/// address-specific.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mldv1Query {
    /// Maximum Response Delay, in milliseconds (RFC 2710 §3).
    pub max_response_delay: u16,
    /// The queried address, or `::` for a general query.
    pub multicast_address: Ipv6Addr,
}

/// An MLDv1 Multicast Listener Report (type 131, RFC 2710 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mldv1Report {
    /// The address being listened to.
    pub multicast_address: Ipv6Addr,
}

/// An MLDv1 Multicast Listener Done (type 132, RFC 2710 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mldv1Done {
    /// The address no longer listened to.
    pub multicast_address: Ipv6Addr,
}

/// An MLDv2 Multicast Listener Query (type 130, RFC 3810 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mldv2Query<'a> {
    /// Maximum Response Code (RFC 3810 §5.1.3); see
    /// [`max_response_delay`](Self::max_response_delay).
    pub max_response_code: u16,
    /// The queried address, or `::` for a general query (RFC 3810 §5.1.5).
    pub multicast_address: Ipv6Addr,
    /// The S flag: routers suppress their timer updates (RFC 3810 §5.1.7).
    pub suppress_router_processing: bool,
    /// Querier's Robustness Variable, 3 bits; 0 if above 7 (RFC 3810 §5.1.8).
    pub robustness: u8,
    /// Querier's Query Interval Code (RFC 3810 §5.1.9); see
    /// [`query_interval`](Self::query_interval).
    pub query_interval_code: u8,
    /// The sources of a source-specific query (RFC 3810 §5.1.10, §5.1.11).
    pub sources: AddrList<'a, Ipv6Addr>,
}

impl Mldv2Query<'_> {
    /// The Maximum Response Delay the code stands for (RFC 3810 §5.1.3).
    pub fn max_response_delay(&self) -> Duration {
        Duration::from_millis(u64::from(decode_code16(self.max_response_code)))
    }

    /// The Querier's Query Interval the code stands for (RFC 3810 §5.1.9).
    pub fn query_interval(&self) -> Duration {
        Duration::from_secs(u64::from(decode_code8(self.query_interval_code)))
    }

    fn tail(&self) -> QueryTail<'_, Ipv6Addr> {
        QueryTail {
            suppress_router_processing: self.suppress_router_processing,
            robustness: self.robustness,
            query_interval_code: self.query_interval_code,
            sources: self.sources,
        }
    }
}

/// An MLDv2 Multicast Listener Report (type 143, RFC 3810 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mldv2Report<'a> {
    /// The multicast address records.
    pub records: GroupRecords<'a, Ipv6Addr>,
}

/// The rest-of-header word of MLD messages: a 16-bit field, then 16 reserved bits.
fn rest_of_header(first: u16) -> [u8; 4] {
    let [a, b] = first.to_be_bytes();
    [a, b, 0, 0]
}

impl IcmpMessageFields<Ipv6> for Mldv1Query {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::MulticastListenerQuery, 0, rest_of_header(self.max_response_delay))
    }

    fn fields_len(&self) -> usize {
        ADDR_LEN
    }

    fn write_fields(&self, fields: &mut [u8]) {
        put_bytes(fields, &self.multicast_address.bytes());
    }
}

impl IcmpMessageFields<Ipv6> for Mldv1Report {
    fn header(&self) -> RawHeader {
        // RFC 2710 §3: the Maximum Response Delay is zero in reports and dones.
        RawHeader::new(Icmpv6Type::MulticastListenerReport, 0, [0; 4])
    }

    fn fields_len(&self) -> usize {
        ADDR_LEN
    }

    fn write_fields(&self, fields: &mut [u8]) {
        put_bytes(fields, &self.multicast_address.bytes());
    }
}

impl IcmpMessageFields<Ipv6> for Mldv1Done {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::MulticastListenerDone, 0, [0; 4])
    }

    fn fields_len(&self) -> usize {
        ADDR_LEN
    }

    fn write_fields(&self, fields: &mut [u8]) {
        put_bytes(fields, &self.multicast_address.bytes());
    }
}

impl IcmpMessageFields<Ipv6> for Mldv2Query<'_> {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::MulticastListenerQuery, 0, rest_of_header(self.max_response_code))
    }

    fn fields_len(&self) -> usize {
        ADDR_LEN + self.tail().wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        put_bytes(fields, &self.multicast_address.bytes());
        if let Some(tail) = fields.get_mut(ADDR_LEN..) {
            self.tail().write(tail);
        }
    }
}

impl IcmpMessageFields<Ipv6> for Mldv2Report<'_> {
    fn header(&self) -> RawHeader {
        // RFC 3810 §5.2: Reserved (16 bits), then Nr of Mcast Address Records.
        let [c0, c1] = self.records.count().to_be_bytes();
        RawHeader::new(Icmpv6Type::MulticastListenerReportV2, 0, [0, 0, c0, c1])
    }

    fn fields_len(&self) -> usize {
        self.records.wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        self.records.write(fields);
    }
}

/// The multicast address at the front of an MLD body.
fn multicast_address(body: &[u8]) -> Result<(Ipv6Addr, &[u8]), ParseError> {
    let (address, rest) = body.split_first_chunk::<ADDR_LEN>().ok_or(ParseError::truncated(Layer::Icmpv6))?;
    Ok((Ipv6Addr::new(*address), rest))
}

/// Decodes a Multicast Listener Query (type 130) of either version.
pub(super) fn decode_query<'a>(
    header: RawHeader,
    body: &'a [u8],
    pseudo_header: &Icmpv6PseudoHeader,
) -> Result<Icmpv6Message<'a>, ParseError> {
    let len = HEADER_LEN + body.len();
    if len < MLDV1_LEN {
        return Err(ParseError::truncated(Layer::Icmpv6));
    }
    if len > MLDV1_LEN && len < MLDV2_QUERY_MIN_LEN {
        return Err(ParseError::new(
            Layer::Icmpv6,
            ParseErrorKind::Length("MLD query neither 24 (MLDv1) nor at least 28 (MLDv2) bytes"),
        ));
    }
    if !pseudo_header.src.is_unicast_link_local() {
        return Err(ParseError::new(
            Layer::Icmpv6,
            ParseErrorKind::Field("MLD query source address not link-local"),
        ));
    }
    let [r0, r1, _, _] = header.rest_of_header;
    let first = u16::from_be_bytes([r0, r1]);
    let (multicast_address, rest) = multicast_address(body)?;
    if len == MLDV1_LEN {
        return Ok(Icmpv6Message::MulticastListenerQuery(Mldv1Query {
            max_response_delay: first,
            multicast_address,
        }));
    }
    let tail = QueryTail::parse(rest, Layer::Icmpv6)?;
    Ok(Icmpv6Message::MulticastListenerQueryV2(Mldv2Query {
        max_response_code: first,
        multicast_address,
        suppress_router_processing: tail.suppress_router_processing,
        robustness: tail.robustness,
        query_interval_code: tail.query_interval_code,
        sources: tail.sources,
    }))
}

/// Decodes an MLDv1 Report (type 131); bytes after the address are ignored.
pub(super) fn decode_report(body: &[u8]) -> Result<Icmpv6Message<'_>, ParseError> {
    let (multicast_address, _) = multicast_address(body)?;
    Ok(Icmpv6Message::MulticastListenerReport(Mldv1Report { multicast_address }))
}

/// Decodes an MLDv1 Done (type 132); bytes after the address are ignored.
pub(super) fn decode_done(body: &[u8]) -> Result<Icmpv6Message<'_>, ParseError> {
    let (multicast_address, _) = multicast_address(body)?;
    Ok(Icmpv6Message::MulticastListenerDone(Mldv1Done { multicast_address }))
}

/// Decodes an MLDv2 Report (type 143).
pub(super) fn decode_report_v2(header: RawHeader, body: &[u8]) -> Result<Icmpv6Message<'_>, ParseError> {
    let [_, _, c0, c1] = header.rest_of_header;
    let records = GroupRecords::parse(body, u16::from_be_bytes([c0, c1]), Layer::Icmpv6)?;
    Ok(Icmpv6Message::MulticastListenerReportV2(Mldv2Report { records }))
}

#[cfg(test)]
mod tests {
    use super::super::group::{GroupRecord, GroupRecordType};
    use super::super::tests::{build_v6 as build, decode_v6 as decode, fix_checksum};
    use super::super::IcmpBuilder;
    use super::*;
    use crate::buf::Serializer;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// icmpv6_ping_ndp.pcap frame 1: MLDv2 report from `::` to ff02::16 (behind a Hop-by-Hop
    /// header): one CHANGE_TO_EXCLUDE record for ff02::1:ff00:1, no sources.
    const MLDV2_REPORT: [u8; 28] = [
        0x8f, 0x00, 0x6f, 0x89, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01,
    ];

    fn report_pseudo_header() -> Icmpv6PseudoHeader {
        Icmpv6PseudoHeader { src: Ipv6Addr::UNSPECIFIED, dst: Ipv6Addr::ALL_MLDV2_ROUTERS }
    }

    fn link_local(last: u8) -> Ipv6Addr {
        Ipv6Addr::new([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, last])
    }

    fn query_pseudo_header() -> Icmpv6PseudoHeader {
        Icmpv6PseudoHeader { src: link_local(1), dst: Ipv6Addr::ALL_NODES }
    }

    fn group(last: u8) -> Ipv6Addr {
        Ipv6Addr::new([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, last])
    }

    #[test]
    fn pcap_mldv2_report_reserializes_byte_for_byte() {
        let ph = report_pseudo_header();
        let Icmpv6Message::MulticastListenerReportV2(report) = decode(&MLDV2_REPORT, ph).unwrap() else {
            panic!()
        };
        let records: Vec<_> = report.records.iter().collect();
        assert_eq!(
            records,
            [GroupRecord {
                record_type: GroupRecordType::ChangeToExclude,
                multicast_address: group(1),
                sources: AddrList::new(&[]),
            }]
        );
        assert_eq!(build(ph, report), MLDV2_REPORT);
        // The same report built from typed records, as the MLD state machine would.
        let typed = Mldv2Report { records: GroupRecords::new(&records) };
        assert_eq!(typed, report);
        assert_eq!(build(ph, typed), MLDV2_REPORT);
    }

    #[test]
    fn rfc2710_3_mldv1_messages() {
        let ph = query_pseudo_header();
        let query = Mldv1Query { max_response_delay: 10_000, multicast_address: Ipv6Addr::UNSPECIFIED };
        let bytes = build(ph, query);
        assert_eq!(bytes.len(), MLDV1_LEN);
        assert_eq!(&bytes[..8], &[130, 0, bytes[2], bytes[3], 0x27, 0x10, 0, 0]);
        assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::MulticastListenerQuery(query));

        let report = Mldv1Report { multicast_address: group(7) };
        let bytes = build(ph, report);
        assert_eq!((bytes[0], bytes.len()), (131, MLDV1_LEN));
        assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::MulticastListenerReport(report));

        let done = Mldv1Done { multicast_address: group(7) };
        let bytes = build(ph, done);
        assert_eq!(bytes[0], 132);
        assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::MulticastListenerDone(done));
    }

    #[test]
    fn rfc2710_3_short_reports_are_truncated() {
        let ph = query_pseudo_header();
        let raw = RawHeader { msg_type: 131, code: 0, rest_of_header: [0; 4] };
        let bytes = (&[0xffu8; 15][..])
            .encapsulate(IcmpBuilder::<Ipv6, _>::new(ph, raw))
            .serialize_vec()
            .unwrap()
            .into_inner();
        assert_eq!(decode(&bytes, ph).unwrap_err(), ParseError::truncated(Layer::Icmpv6));
    }

    #[test]
    fn rfc3810_5_1_mldv2_query_fields() {
        let ph = query_pseudo_header();
        let sources = [link_local(9), link_local(10)];
        let query = Mldv2Query {
            max_response_code: 0x8001,
            multicast_address: group(3),
            suppress_router_processing: true,
            robustness: 2,
            query_interval_code: 125,
            sources: AddrList::new(&sources),
        };
        let bytes = build(ph, query);
        assert_eq!(bytes.len(), MLDV2_QUERY_MIN_LEN + 32);
        assert_eq!(&bytes[24..28], &[0x0a, 125, 0, 2]);
        assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::MulticastListenerQueryV2(query));
        // RFC 3810 §5.1.3: (0x001 | 0x1000) << 3 ms; §5.1.9: 125 s.
        assert_eq!(query.max_response_delay(), Duration::from_millis(0x1001 << 3));
        assert_eq!(query.query_interval(), Duration::from_secs(125));
    }

    #[test]
    fn rfc3810_8_1_query_version_is_told_by_length() {
        let ph = query_pseudo_header();
        let raw = RawHeader { msg_type: 130, code: 0, rest_of_header: [0, 100, 0, 0] };
        for (body_len, expected) in
            [(16, Some(true)), (17, None), (19, None), (20, Some(false)), (40, Some(false))]
        {
            let body = alloc::vec![0u8; body_len];
            let bytes = (&body[..])
                .encapsulate(IcmpBuilder::<Ipv6, _>::new(ph, raw))
                .serialize_vec()
                .unwrap()
                .into_inner();
            match (decode(&bytes, ph), expected) {
                (Ok(Icmpv6Message::MulticastListenerQuery(_)), Some(true)) => {}
                (Ok(Icmpv6Message::MulticastListenerQueryV2(q)), Some(false)) => {
                    assert!(q.sources.is_empty())
                }
                (Err(err), None) => assert!(matches!(err.kind, ParseErrorKind::Length(_))),
                (other, _) => panic!("{body_len}: {other:?}"),
            }
        }
    }

    #[test]
    fn rfc3810_5_1_14_query_from_non_link_local_source_is_rejected() {
        let query = Mldv1Query { max_response_delay: 1, multicast_address: Ipv6Addr::UNSPECIFIED };
        for src in [Ipv6Addr::UNSPECIFIED, "2001:db8::1".parse().unwrap()] {
            let ph = Icmpv6PseudoHeader { src, dst: Ipv6Addr::ALL_NODES };
            let err = decode(&build(ph, query), ph).unwrap_err();
            assert!(matches!(err.kind, ParseErrorKind::Field(_)));
        }
    }

    #[test]
    fn rfc3810_5_1_10_sources_must_fit() {
        let ph = query_pseudo_header();
        let query = Mldv2Query {
            max_response_code: 0,
            multicast_address: Ipv6Addr::UNSPECIFIED,
            suppress_router_processing: false,
            robustness: 0,
            query_interval_code: 0,
            sources: AddrList::new(&[]),
        };
        let mut bytes = build(ph, query);
        bytes[27] = 1;
        fix_checksum::<Ipv6>(&mut bytes, &ph);
        assert!(matches!(decode(&bytes, ph).unwrap_err().kind, ParseErrorKind::Length(_)));
    }

    #[test]
    fn rfc3810_5_2_records_must_fit() {
        let ph = report_pseudo_header();
        let mut bytes = MLDV2_REPORT;
        bytes[7] = 2;
        fix_checksum::<Ipv6>(&mut bytes, &ph);
        assert!(matches!(decode(&bytes, ph).unwrap_err().kind, ParseErrorKind::Length(_)));
    }

    fn arb_addrs() -> impl Strategy<Value = Vec<Ipv6Addr>> {
        proptest::collection::vec(any::<[u8; 16]>().prop_map(Ipv6Addr::new), 0..4)
    }

    proptest! {
        #[test]
        fn mldv2_query_round_trip(
            max_response_code in any::<u16>(),
            group in any::<[u8; 16]>(),
            suppress in any::<bool>(),
            robustness in 0u8..8,
            query_interval_code in any::<u8>(),
            sources in arb_addrs(),
        ) {
            let ph = query_pseudo_header();
            let query = Mldv2Query {
                max_response_code,
                multicast_address: Ipv6Addr::new(group),
                suppress_router_processing: suppress,
                robustness,
                query_interval_code,
                sources: AddrList::new(&sources),
            };
            let bytes = build(ph, query);
            prop_assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::MulticastListenerQueryV2(query));
        }

        #[test]
        fn mldv1_round_trip(delay in any::<u16>(), group in any::<[u8; 16]>()) {
            let ph = query_pseudo_header();
            let query = Mldv1Query { max_response_delay: delay, multicast_address: Ipv6Addr::new(group) };
            let bytes = build(ph, query);
            prop_assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::MulticastListenerQuery(query));
        }

        #[test]
        fn mldv2_report_round_trip(
            raw in proptest::collection::vec((any::<u8>(), any::<[u8; 16]>(), arb_addrs()), 0..4),
        ) {
            let ph = report_pseudo_header();
            let records: Vec<GroupRecord<'_, Ipv6Addr>> = raw
                .iter()
                .map(|(t, g, s)| GroupRecord {
                    record_type: (*t).into(),
                    multicast_address: Ipv6Addr::new(*g),
                    sources: AddrList::new(s),
                })
                .collect();
            let report = Mldv2Report { records: GroupRecords::new(&records) };
            let bytes = build(ph, report);
            prop_assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::MulticastListenerReportV2(report));
        }

        #[test]
        fn arbitrary_mld_bodies_never_panic(
            msg_type in 130u8..=132,
            v2_report in any::<bool>(),
            mut bytes in proptest::collection::vec(any::<u8>(), 8..96),
        ) {
            bytes[0] = if v2_report { 143 } else { msg_type };
            let ph = query_pseudo_header();
            fix_checksum::<Ipv6>(&mut bytes, &ph);
            let _ = decode(&bytes, ph);
        }
    }
}
