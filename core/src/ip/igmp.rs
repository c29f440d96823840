//! Host-side IGMP: IGMPv1 (RFC 1112 appendix I), IGMPv2 (RFC 2236 §3, §4, §6) and IGMPv3
//! (RFC 3376 §5, §7) as the IPv4 side of the machinery in [`gmp`](super::gmp), which holds
//! the protocol rules. What is IGMP's own lives here:
//!
//! * the addresses: reports for 224.0.0.1 are never sent (RFC 2236 §6, RFC 3376 §5), version
//!   3 reports go to 224.0.0.22 (RFC 3376 §4.2.14) and leaves to 224.0.0.2 (RFC 2236 §3);
//! * [`Gmp::receive_igmp`]: the host's checks on received messages and their translation
//!   into [`GmpQuery`] and heard reports. A query's version comes from its length and Max
//!   Resp Code (RFC 3376 §7.1, decided by the decoder); IGMPv1 queries have no Max Resp
//!   Time and mean 10 s (RFC 2236 §4); a query's group must be 0 or multicast, a general
//!   query lists no sources (RFC 3376 §4.1.11), and general queries to a multicast address
//!   other than 224.0.0.1 are ignored (RFC 3376 §9.1). The IPv4 layer checks the checksum
//!   (by decoding), TTL 1 and the Router Alert option, and delivers queries sent to any of
//!   the interface's addresses (RFC 3376 §4.1.12);
//! * [`IgmpMessageFields`] for [`GmpMessage`], so the stack builds what the machinery sends
//!   with [`IgmpBuilder`](crate::wire::igmp::IgmpBuilder).

use core::time::Duration;

use super::gmp::{
    Gmp, GmpContext, GmpInputError, GmpIp, GmpMessage, GmpQuery, GmpTimerId, QueryTarget, QueryVersion,
};
use crate::addr::{IpAddress, Ipv4, Ipv4Addr, MulticastAddr};
use crate::device::DeviceId;
use crate::wire::icmp::group::GroupRecords;
use crate::wire::icmp::{RawHeader, HEADER_LEN};
use crate::wire::igmp::{
    IgmpMessage, IgmpMessageFields, LeaveGroup, MembershipReportV1, MembershipReportV2, MembershipReportV3,
};
use crate::wire::ipv4;

/// Host-side IGMP for every device.
pub type Igmp = Gmp<Ipv4>;
/// IGMP's timers.
pub type IgmpTimerId = GmpTimerId<Ipv4Addr>;

/// The Max Response Time an IGMPv1 query stands for (RFC 2236 §4, RFC 1112 appendix I).
pub const IGMPV1_MAX_RESPONSE_DELAY: Duration = Duration::from_secs(10);

/// The Router Alert option every IGMP message carries (RFC 2113 §2.1, RFC 3376 §4).
const ROUTER_ALERT_LEN: usize = 4;

impl GmpIp for Ipv4 {
    const V3_REPORTS_TO: MulticastAddr<Ipv4Addr> = MulticastAddr::new_unchecked(Ipv4Addr::IGMPV3_ROUTERS);
    const LEAVES_TO: MulticastAddr<Ipv4Addr> = MulticastAddr::new_unchecked(Ipv4Addr::ALL_ROUTERS);
    const V3_REPORT_OVERHEAD: usize = ipv4::HEADER_LEN + ROUTER_ALERT_LEN + HEADER_LEN;

    /// RFC 2236 §6, RFC 3376 §5: the all-systems group is never reported. Other 224.0.0.x
    /// groups are, as Linux does by default (`igmp_link_local_mcast_reports`).
    fn is_unreported(group: &MulticastAddr<Ipv4Addr>) -> bool {
        group.get() == Ipv4Addr::ALL_SYSTEMS
    }
}

impl Gmp<Ipv4> {
    /// An IGMP message arrived on `device`, sent to `dst`. Queries and other hosts'
    /// version 1/2 reports are acted on; leaves, version 3 reports and unknown types are
    /// for routers and are ignored. A dropped message is counted and its reason returned.
    pub fn receive_igmp<C: GmpContext<Ipv4>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        dst: Ipv4Addr,
        message: &IgmpMessage<'_>,
    ) -> Result<(), GmpInputError> {
        let query = match message {
            IgmpMessage::MembershipQuery(query) if query.is_igmpv1() => GmpQuery {
                // RFC 1112 appendix I: every IGMPv1 query is general.
                target: QueryTarget::General,
                max_response_delay: IGMPV1_MAX_RESPONSE_DELAY,
                version: QueryVersion::V1,
            },
            IgmpMessage::MembershipQuery(query) => GmpQuery {
                target: QueryTarget::new(query.group_address, 0).map_err(|e| self.count_invalid(e))?,
                max_response_delay: query.max_response_delay(),
                version: QueryVersion::V2,
            },
            IgmpMessage::MembershipQueryV3(query) => GmpQuery {
                target: QueryTarget::new(query.group_address, query.sources.len())
                    .map_err(|e| self.count_invalid(e))?,
                max_response_delay: query.max_response_delay(),
                version: QueryVersion::V3 {
                    robustness: query.robustness,
                    query_interval: query.query_interval(),
                },
            },
            IgmpMessage::MembershipReportV1(MembershipReportV1 { group_address })
            | IgmpMessage::MembershipReportV2(MembershipReportV2 { group_address }) => {
                let group = MulticastAddr::new(*group_address).ok_or_else(|| {
                    self.count_invalid(GmpInputError::ReportAddressNotMulticast {
                        address: group_address.to_ip_addr(),
                    })
                })?;
                return self.receive_report(ctx, device, group);
            }
            IgmpMessage::LeaveGroup(_) | IgmpMessage::MembershipReportV3(_) | IgmpMessage::Unknown { .. } => {
                return Ok(());
            }
        };
        // RFC 3376 §9.1: hosts SHOULD ignore General Queries sent to a multicast address
        // other than all-systems (unicast ones are fine, §4.1.12).
        if query.target == QueryTarget::General && dst.is_multicast() && dst != Ipv4Addr::ALL_SYSTEMS {
            return Err(
                self.count_invalid(GmpInputError::GeneralQueryNotToAllSystems { dst: dst.to_ip_addr() })
            );
        }
        self.receive_query(ctx, device, query)
    }
}

/// What the machinery sends, as the IGMP message it is: build it with
/// [`IgmpBuilder::new`](crate::wire::igmp::IgmpBuilder::new).
impl IgmpMessageFields for GmpMessage<'_, Ipv4Addr> {
    fn header(&self) -> RawHeader {
        match *self {
            GmpMessage::ReportV1 { group } => MembershipReportV1 { group_address: group.get() }.header(),
            GmpMessage::ReportV2 { group } => MembershipReportV2 { group_address: group.get() }.header(),
            GmpMessage::Leave { group } => LeaveGroup { group_address: group.get() }.header(),
            GmpMessage::ReportV3 { records } => {
                MembershipReportV3 { records: GroupRecords::new(records) }.header()
            }
        }
    }

    fn fields_len(&self) -> usize {
        match *self {
            GmpMessage::ReportV3 { records } => {
                MembershipReportV3 { records: GroupRecords::new(records) }.fields_len()
            }
            GmpMessage::ReportV1 { .. } | GmpMessage::ReportV2 { .. } | GmpMessage::Leave { .. } => 0,
        }
    }

    fn write_fields(&self, fields: &mut [u8]) {
        if let GmpMessage::ReportV3 { records } = *self {
            MembershipReportV3 { records: GroupRecords::new(records) }.write_fields(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::super::gmp::testutil::{secs, setup, Sent, SentMessage, DEV};
    use super::super::gmp::{GmpVersion, LeaveResult};
    use super::*;
    use crate::addr::IpAddr;
    use crate::buf::{ParsablePacket, Serializer};
    use crate::context::InstantContext;
    use crate::wire::icmp::group::{GroupRecord, GroupRecordType};
    use crate::wire::icmp::AddrList;
    use crate::wire::igmp::{IgmpBuilder, IgmpPacket, MembershipQuery, MembershipQueryV3};

    fn group(last: u8) -> MulticastAddr<Ipv4Addr> {
        MulticastAddr::new(Ipv4Addr::new([239, 1, 1, last])).unwrap()
    }

    const ALL_SYSTEMS: Ipv4Addr = Ipv4Addr::ALL_SYSTEMS;

    fn v1_query() -> IgmpMessage<'static> {
        IgmpMessage::MembershipQuery(MembershipQuery {
            max_response_time: 0,
            group_address: Ipv4Addr::UNSPECIFIED,
        })
    }

    fn v2_query(max_response_time: u8, group_address: Ipv4Addr) -> IgmpMessage<'static> {
        IgmpMessage::MembershipQuery(MembershipQuery { max_response_time, group_address })
    }

    fn v3_query(max_response_code: u8, group_address: Ipv4Addr, sources: &[Ipv4Addr]) -> IgmpMessage<'_> {
        IgmpMessage::MembershipQueryV3(MembershipQueryV3 {
            max_response_code,
            group_address,
            suppress_router_processing: false,
            robustness: 2,
            query_interval_code: 125,
            sources: AddrList::new(sources),
        })
    }

    /// Serializes what the machinery sent and parses it back as IGMP.
    fn on_the_wire(message: GmpMessage<'_, Ipv4Addr>) -> Vec<u8> {
        (&[][..]).encapsulate(IgmpBuilder::new(message)).serialize_vec().unwrap().into_inner()
    }

    #[test]
    fn rfc3376_7_2_1_igmpv1_query_means_v1_reports_and_no_leave() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(1);
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v1_query()).unwrap();
        assert_eq!(igmp.mode(DEV), Some(GmpVersion::V1));
        let g = group(1);
        igmp.join(&mut ctx, DEV, g).unwrap();
        assert_eq!(
            ctx.take_sent(),
            [SentMessage { at: ctx.now(), device: DEV, dst: g, message: Sent::ReportV1(g) }]
        );
        ctx.advance_gmp(&mut igmp, Duration::from_secs(10));
        assert_eq!(ctx.take_sent().len(), 1, "the unsolicited repeat");
        assert_eq!(igmp.leave(&mut ctx, DEV, g), Ok(LeaveResult::Left));
        assert_eq!(ctx.take_sent(), [], "IGMPv1 has no leave (RFC 2236 §4)");
    }

    #[test]
    fn rfc2236_4_igmpv1_query_max_response_time_is_10s() {
        for seed in 0..10 {
            let (mut igmp, mut ctx) = setup::<Ipv4>(seed);
            igmp.join(&mut ctx, DEV, group(1)).unwrap();
            ctx.advance_gmp(&mut igmp, Duration::from_secs(2));
            ctx.take_sent();
            let start = ctx.now();
            igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v1_query()).unwrap();
            ctx.advance_gmp(&mut igmp, Duration::from_secs(11));
            let sent = ctx.take_sent();
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].message, Sent::ReportV1(group(1)));
            assert!(sent[0].at - start < IGMPV1_MAX_RESPONSE_DELAY);
        }
    }

    #[test]
    fn rfc3376_7_2_1_v1_querier_outranks_v2_and_each_times_out() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(2);
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v2_query(100, Ipv4Addr::UNSPECIFIED)).unwrap();
        ctx.advance_gmp(&mut igmp, Duration::from_secs(100));
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v1_query()).unwrap();
        assert_eq!(igmp.mode(DEV), Some(GmpVersion::V1));
        // The IGMPv2 Querier Present timer (260 s from 0) ends first: still v1.
        ctx.advance_gmp(&mut igmp, secs(260) - ctx.now());
        assert_eq!(igmp.mode(DEV), Some(GmpVersion::V1));
        // The IGMPv1 one ends at 100 + 260 s: back to v3, not v2.
        ctx.advance_gmp(&mut igmp, secs(360) - ctx.now());
        assert_eq!(igmp.mode(DEV), Some(GmpVersion::V3));
    }

    #[test]
    fn rfc2236_3_v2_leave_goes_to_224_0_0_2() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(3);
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v2_query(100, Ipv4Addr::UNSPECIFIED)).unwrap();
        let g = group(1);
        igmp.join(&mut ctx, DEV, g).unwrap();
        igmp.leave(&mut ctx, DEV, g).unwrap();
        let sent = ctx.take_sent();
        assert_eq!(sent[1].dst.get(), Ipv4Addr::ALL_ROUTERS);
        assert_eq!(sent[1].message, Sent::Leave(g));
    }

    #[test]
    fn rfc3376_4_2_14_v3_reports_go_to_224_0_0_22() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(4);
        igmp.join(&mut ctx, DEV, group(1)).unwrap();
        assert_eq!(ctx.take_sent()[0].dst.get(), Ipv4Addr::IGMPV3_ROUTERS);
    }

    #[test]
    fn rfc3376_5_all_systems_is_never_reported() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(5);
        let all_systems = MulticastAddr::new(ALL_SYSTEMS).unwrap();
        igmp.join(&mut ctx, DEV, all_systems).unwrap();
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v3_query(10, Ipv4Addr::UNSPECIFIED, &[])).unwrap();
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v3_query(10, ALL_SYSTEMS, &[])).unwrap();
        ctx.advance_gmp(&mut igmp, Duration::from_secs(5));
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v2_query(10, ALL_SYSTEMS)).unwrap();
        ctx.advance_gmp(&mut igmp, Duration::from_secs(5));
        igmp.leave(&mut ctx, DEV, all_systems).unwrap();
        assert_eq!(ctx.take_sent(), []);
        // Other link-local groups are reported, as Linux does.
        let mdns = MulticastAddr::new(Ipv4Addr::new([224, 0, 0, 251])).unwrap();
        igmp.join(&mut ctx, DEV, mdns).unwrap();
        assert_eq!(ctx.take_sent().len(), 1);
    }

    #[test]
    fn rfc3376_4_1_1_v3_max_resp_code_is_decoded() {
        // 0x8f: (0xf | 0x10) << 3 = 248 tenths = 24.8 s.
        let mut late = Duration::ZERO;
        for seed in 0..40 {
            let (mut igmp, mut ctx) = setup::<Ipv4>(seed);
            igmp.join(&mut ctx, DEV, group(1)).unwrap();
            ctx.advance_gmp(&mut igmp, Duration::from_secs(2));
            ctx.take_sent();
            let start = ctx.now();
            igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v3_query(0x8f, Ipv4Addr::UNSPECIFIED, &[]))
                .unwrap();
            ctx.advance_gmp(&mut igmp, Duration::from_secs(30));
            let sent = ctx.take_sent();
            assert_eq!(sent.len(), 1);
            assert!(sent[0].at - start < Duration::from_millis(24_800));
            late = late.max(sent[0].at - start);
        }
        assert!(late > Duration::from_secs(13), "delays spread over the whole 24.8 s: {late:?}");
    }

    #[test]
    fn rfc2236_2_2_v2_max_resp_time_is_in_tenths() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(6);
        igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v2_query(100, Ipv4Addr::UNSPECIFIED)).unwrap();
        igmp.join(&mut ctx, DEV, group(1)).unwrap();
        ctx.advance_gmp(&mut igmp, Duration::from_secs(11));
        ctx.take_sent();
        let start = ctx.now();
        igmp.receive_igmp(&mut ctx, DEV, group(1).get(), &v2_query(5, group(1).get())).unwrap();
        ctx.advance_gmp(&mut igmp, Duration::from_secs(1));
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].at - start < Duration::from_millis(500));
    }

    #[test]
    fn rfc3376_9_1_general_queries_to_other_groups_are_ignored() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(7);
        let wrong = Ipv4Addr::new([239, 9, 9, 9]);
        for query in
            [v1_query(), v2_query(100, Ipv4Addr::UNSPECIFIED), v3_query(10, Ipv4Addr::UNSPECIFIED, &[])]
        {
            let err = igmp.receive_igmp(&mut ctx, DEV, wrong, &query).unwrap_err();
            assert_eq!(err, GmpInputError::GeneralQueryNotToAllSystems { dst: IpAddr::V4(wrong) });
        }
        assert_eq!(igmp.counters().queries_invalid, 3);
        assert_eq!(igmp.mode(DEV), Some(GmpVersion::V3), "a rejected v1 query changes nothing");
        // RFC 3376 §4.1.12: one sent to our unicast address is accepted.
        igmp.receive_igmp(&mut ctx, DEV, Ipv4Addr::new([192, 0, 2, 1]), &v1_query()).unwrap();
        assert_eq!(igmp.mode(DEV), Some(GmpVersion::V1));
    }

    #[test]
    fn rfc3376_4_1_11_invalid_query_variants_are_dropped_and_counted() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(8);
        let source = [Ipv4Addr::new([192, 0, 2, 7])];
        assert_eq!(
            igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v3_query(10, Ipv4Addr::UNSPECIFIED, &source)),
            Err(GmpInputError::GeneralQueryWithSources { count: 1 })
        );
        let unicast = Ipv4Addr::new([192, 0, 2, 9]);
        assert_eq!(
            igmp.receive_igmp(&mut ctx, DEV, unicast, &v3_query(10, unicast, &[])),
            Err(GmpInputError::QueryAddressNotMulticast { address: IpAddr::V4(unicast) })
        );
        assert_eq!(
            igmp.receive_igmp(&mut ctx, DEV, unicast, &v2_query(10, unicast)),
            Err(GmpInputError::QueryAddressNotMulticast { address: IpAddr::V4(unicast) })
        );
        let report = IgmpMessage::MembershipReportV2(MembershipReportV2 { group_address: unicast });
        assert_eq!(
            igmp.receive_igmp(&mut ctx, DEV, unicast, &report),
            Err(GmpInputError::ReportAddressNotMulticast { address: IpAddr::V4(unicast) })
        );
        let counters = igmp.counters();
        assert_eq!(
            (counters.queries_invalid, counters.reports_invalid, counters.queries_received),
            (3, 1, 0)
        );
    }

    #[test]
    fn rfc2236_3_heard_v1_and_v2_reports_suppress_in_v2_mode() {
        for report in [
            IgmpMessage::MembershipReportV1(MembershipReportV1 { group_address: group(1).get() }),
            IgmpMessage::MembershipReportV2(MembershipReportV2 { group_address: group(1).get() }),
        ] {
            let (mut igmp, mut ctx) = setup::<Ipv4>(9);
            igmp.receive_igmp(&mut ctx, DEV, ALL_SYSTEMS, &v2_query(100, Ipv4Addr::UNSPECIFIED)).unwrap();
            igmp.join(&mut ctx, DEV, group(1)).unwrap();
            ctx.take_sent();
            igmp.receive_igmp(&mut ctx, DEV, group(1).get(), &report).unwrap();
            ctx.advance_gmp(&mut igmp, Duration::from_secs(20));
            assert_eq!(ctx.take_sent(), [], "the unsolicited repeat was suppressed");
            igmp.leave(&mut ctx, DEV, group(1)).unwrap();
            assert_eq!(ctx.take_sent(), [], "another host reported last: no leave");
        }
    }

    #[test]
    fn router_messages_are_ignored() {
        let (mut igmp, mut ctx) = setup::<Ipv4>(10);
        igmp.join(&mut ctx, DEV, group(1)).unwrap();
        ctx.take_sent();
        let records = [GroupRecord {
            record_type: GroupRecordType::ModeIsExclude,
            multicast_address: group(1).get(),
            sources: AddrList::new(&[]),
        }];
        for message in [
            IgmpMessage::LeaveGroup(LeaveGroup { group_address: group(1).get() }),
            IgmpMessage::MembershipReportV3(MembershipReportV3 { records: GroupRecords::new(&records) }),
        ] {
            igmp.receive_igmp(&mut ctx, DEV, Ipv4Addr::IGMPV3_ROUTERS, &message).unwrap();
        }
        assert!(igmp.is_member(DEV, group(1)));
        assert_eq!(igmp.counters().reports_received, 0);
    }

    #[test]
    fn messages_serialize_as_igmp() {
        let g = group(7);
        let bytes = on_the_wire(GmpMessage::ReportV1 { group: g });
        let packet = IgmpPacket::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(
            packet.message().unwrap(),
            IgmpMessage::MembershipReportV1(MembershipReportV1 { group_address: g.get() })
        );
        let bytes = on_the_wire(GmpMessage::ReportV2 { group: g });
        let packet = IgmpPacket::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(
            packet.message().unwrap(),
            IgmpMessage::MembershipReportV2(MembershipReportV2 { group_address: g.get() })
        );
        let bytes = on_the_wire(GmpMessage::Leave { group: g });
        let packet = IgmpPacket::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(packet.message().unwrap(), IgmpMessage::LeaveGroup(LeaveGroup { group_address: g.get() }));
        let records = [
            GroupRecord {
                record_type: GroupRecordType::ChangeToExclude,
                multicast_address: g.get(),
                sources: AddrList::new(&[]),
            },
            GroupRecord {
                record_type: GroupRecordType::ModeIsExclude,
                multicast_address: group(8).get(),
                sources: AddrList::new(&[]),
            },
        ];
        let bytes = on_the_wire(GmpMessage::ReportV3 { records: &records });
        assert_eq!(bytes.len(), 8 + 2 * 8);
        let packet = IgmpPacket::parse_bytes(&bytes[..], ()).unwrap();
        assert_eq!(
            packet.message().unwrap(),
            IgmpMessage::MembershipReportV3(MembershipReportV3 { records: GroupRecords::new(&records) })
        );
    }
}
