//! Host-side MLD: MLDv1 (RFC 2710 §4, §5) and MLDv2 (RFC 3810 §6, §8) as the IPv6 side of
//! the machinery in [`gmp`](super::gmp), which holds the protocol rules (MLDv1 is IGMPv2's,
//! MLDv2 is IGMPv3's; there is no MLD counterpart of IGMPv1). What is MLD's own lives here:
//!
//! * the addresses: no message is ever sent for ff02::1 (RFC 2710 §5, RFC 3810 §6) nor for
//!   addresses of scope 0 (reserved) or 1 (interface-local) (RFC 2710 §5, RFC 3810 §6);
//!   MLDv2 reports go to ff02::16 (RFC 3810 §5.2.14) and Dones to ff02::2 (RFC 2710 §4);
//! * [`Gmp::receive_mld`]: the host's checks on received messages and their translation into
//!   [`GmpQuery`] and heard reports. A query's version comes from its length (RFC 3810 §8.1,
//!   decided by the decoder); queries come from a link-local source (RFC 2710 §5, RFC 3810
//!   §5.1.14: checked by the decoder and again here, where the source is at hand), address
//!   0 or multicast, and a general query lists no sources (RFC 3810 §5.1.12); heard reports
//!   come from a link-local or the unspecified source (RFC 3810 §5.2.13). The IPv6 layer
//!   checks the checksum (by decoding), Hop Limit 1 and the Router Alert option (RFC 2710
//!   §3, RFC 3810 §5), and delivers queries sent to any of the interface's addresses (RFC
//!   3810 §5.1.15);
//! * [`IcmpMessageFields`] for [`GmpMessage`], so the stack builds what the machinery sends
//!   with [`IcmpBuilder`](crate::wire::icmp::IcmpBuilder).

use core::time::Duration;

use super::gmp::{
    Gmp, GmpContext, GmpInputError, GmpIp, GmpMessage, GmpQuery, GmpTimerId, QueryTarget, QueryVersion,
};
use crate::addr::{IpAddress, Ipv6, Ipv6Addr, Ipv6Scope, MulticastAddr};
use crate::device::DeviceId;
use crate::wire::icmp::group::GroupRecords;
use crate::wire::icmp::mld::{Mldv1Done, Mldv1Report, Mldv2Report};
use crate::wire::icmp::v6::Icmpv6Message;
use crate::wire::icmp::{IcmpMessageFields, RawHeader, HEADER_LEN};
use crate::wire::ipv6;

/// Host-side MLD for every device.
pub type Mld = Gmp<Ipv6>;
/// MLD's timers.
pub type MldTimerId = GmpTimerId<Ipv6Addr>;

/// The Hop-by-Hop Options header every MLD message carries: next header and length, the
/// Router Alert option (RFC 2711) and two bytes of padding (RFC 3810 §5).
const HOP_BY_HOP_ROUTER_ALERT_LEN: usize = 8;

impl GmpIp for Ipv6 {
    const V3_REPORTS_TO: MulticastAddr<Ipv6Addr> = MulticastAddr::new_unchecked(Ipv6Addr::ALL_MLDV2_ROUTERS);
    const LEAVES_TO: MulticastAddr<Ipv6Addr> = MulticastAddr::new_unchecked(Ipv6Addr::ALL_ROUTERS);
    const V3_REPORT_OVERHEAD: usize = ipv6::FIXED_HEADER_LEN + HOP_BY_HOP_ROUTER_ALERT_LEN + HEADER_LEN;

    /// RFC 2710 §5, RFC 3810 §6: ff02::1 and scopes 0 and 1 are never reported.
    fn is_unreported(group: &MulticastAddr<Ipv6Addr>) -> bool {
        group.get() == Ipv6Addr::ALL_NODES
            || matches!(group.multicast_scope(), Some(Ipv6Scope::InterfaceLocal | Ipv6Scope::Other(0)))
    }
}

impl Gmp<Ipv6> {
    /// An ICMPv6 message arrived on `device` from `src`. Queries and other hosts' MLDv1
    /// reports are acted on; Dones, MLDv2 reports and non-MLD messages are not for a host's
    /// MLD and are ignored. A dropped message is counted and its reason returned.
    pub fn receive_mld<C: GmpContext<Ipv6>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        src: Ipv6Addr,
        message: &Icmpv6Message<'_>,
    ) -> Result<(), GmpInputError> {
        let query = match message {
            Icmpv6Message::MulticastListenerQuery(query) => GmpQuery {
                target: QueryTarget::new(query.multicast_address, 0).map_err(|e| self.count_invalid(e))?,
                // RFC 2710 §3: Maximum Response Delay in milliseconds.
                max_response_delay: Duration::from_millis(u64::from(query.max_response_delay)),
                version: QueryVersion::V2,
            },
            Icmpv6Message::MulticastListenerQueryV2(query) => GmpQuery {
                target: QueryTarget::new(query.multicast_address, query.sources.len())
                    .map_err(|e| self.count_invalid(e))?,
                max_response_delay: query.max_response_delay(),
                version: QueryVersion::V3 {
                    robustness: query.robustness,
                    query_interval: query.query_interval(),
                },
            },
            Icmpv6Message::MulticastListenerReport(Mldv1Report { multicast_address }) => {
                if !(src.is_unicast_link_local() || src.is_unspecified()) {
                    return Err(
                        self.count_invalid(GmpInputError::ReportSourceNotLinkLocal { src: src.to_ip_addr() })
                    );
                }
                let group = MulticastAddr::new(*multicast_address).ok_or_else(|| {
                    self.count_invalid(GmpInputError::ReportAddressNotMulticast {
                        address: multicast_address.to_ip_addr(),
                    })
                })?;
                return self.receive_report(ctx, device, group);
            }
            _ => return Ok(()),
        };
        if !src.is_unicast_link_local() {
            return Err(self.count_invalid(GmpInputError::QuerySourceNotLinkLocal { src: src.to_ip_addr() }));
        }
        self.receive_query(ctx, device, query)
    }
}

/// What the machinery sends, as the MLD message it is: build it with
/// [`IcmpBuilder::new`](crate::wire::icmp::IcmpBuilder::new). MLD has no version 1 report
/// of its own; the machinery never speaks IGMPv1 on an MLD interface (no MLD query is
/// version 1), and [`GmpMessage::ReportV1`] would be written as an MLDv1 Report.
impl IcmpMessageFields<Ipv6> for GmpMessage<'_, Ipv6Addr> {
    fn header(&self) -> RawHeader {
        match *self {
            GmpMessage::ReportV1 { group } | GmpMessage::ReportV2 { group } => {
                Mldv1Report { multicast_address: group.get() }.header()
            }
            GmpMessage::Leave { group } => Mldv1Done { multicast_address: group.get() }.header(),
            GmpMessage::ReportV3 { records } => Mldv2Report { records: GroupRecords::new(records) }.header(),
        }
    }

    fn fields_len(&self) -> usize {
        match *self {
            GmpMessage::ReportV1 { group } | GmpMessage::ReportV2 { group } => {
                Mldv1Report { multicast_address: group.get() }.fields_len()
            }
            GmpMessage::Leave { group } => Mldv1Done { multicast_address: group.get() }.fields_len(),
            GmpMessage::ReportV3 { records } => {
                Mldv2Report { records: GroupRecords::new(records) }.fields_len()
            }
        }
    }

    fn write_fields(&self, fields: &mut [u8]) {
        match *self {
            GmpMessage::ReportV1 { group } | GmpMessage::ReportV2 { group } => {
                Mldv1Report { multicast_address: group.get() }.write_fields(fields)
            }
            GmpMessage::Leave { group } => Mldv1Done { multicast_address: group.get() }.write_fields(fields),
            GmpMessage::ReportV3 { records } => {
                Mldv2Report { records: GroupRecords::new(records) }.write_fields(fields)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::super::gmp::testutil::{setup, Sent, SentMessage, DEV};
    use super::super::gmp::{GmpVersion, LeaveResult};
    use super::*;
    use crate::addr::IpAddr;
    use crate::buf::{ParsablePacket, Serializer};
    use crate::context::InstantContext;
    use crate::wire::icmp::group::{GroupRecord, GroupRecordType};
    use crate::wire::icmp::mld::{Mldv1Query, Mldv2Query};
    use crate::wire::icmp::{AddrList, IcmpBuilder, Icmpv6Packet, Icmpv6PseudoHeader};

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn group(s: &str) -> MulticastAddr<Ipv6Addr> {
        MulticastAddr::new(addr(s)).unwrap()
    }

    fn router() -> Ipv6Addr {
        addr("fe80::1")
    }

    fn v1_query(max_response_delay: u16, multicast_address: Ipv6Addr) -> Icmpv6Message<'static> {
        Icmpv6Message::MulticastListenerQuery(Mldv1Query { max_response_delay, multicast_address })
    }

    fn v2_query(
        max_response_code: u16,
        multicast_address: Ipv6Addr,
        sources: &[Ipv6Addr],
    ) -> Icmpv6Message<'_> {
        Icmpv6Message::MulticastListenerQueryV2(Mldv2Query {
            max_response_code,
            multicast_address,
            suppress_router_processing: false,
            robustness: 2,
            query_interval_code: 125,
            sources: AddrList::new(sources),
        })
    }

    #[test]
    fn rfc3810_6_never_reported_all_nodes_and_scopes_0_and_1() {
        for unreported in ["ff02::1", "ff01::1:2", "ff00::db8:1", "ff11::1"] {
            let g = group(unreported);
            assert!(Ipv6::is_unreported(&g), "{g}");
        }
        for reported in ["ff02::2", "ff02::1:ff00:1", "ff05::1:3", "ff0e::db8:1", "ff12::1"] {
            assert!(!Ipv6::is_unreported(&group(reported)), "{reported}");
        }
        let (mut mld, mut ctx) = setup::<Ipv6>(1);
        for unreported in ["ff02::1", "ff01::1:2"] {
            mld.join(&mut ctx, DEV, group(unreported)).unwrap();
        }
        mld.receive_mld(&mut ctx, DEV, router(), &v2_query(1000, Ipv6Addr::UNSPECIFIED, &[])).unwrap();
        mld.receive_mld(&mut ctx, DEV, router(), &v1_query(1000, Ipv6Addr::UNSPECIFIED)).unwrap();
        ctx.advance_gmp(&mut mld, core::time::Duration::from_secs(2));
        assert_eq!(ctx.take_sent(), []);
    }

    #[test]
    fn rfc3810_6_1_solicited_node_joins_are_reported_to_ff02_16() {
        let (mut mld, mut ctx) = setup::<Ipv6>(2);
        let g = group("ff02::1:ff00:1");
        mld.join(&mut ctx, DEV, g).unwrap();
        let sent = ctx.take_sent();
        assert_eq!(sent[0].dst.get(), Ipv6Addr::ALL_MLDV2_ROUTERS);
        assert_eq!(sent[0].message, Sent::ReportV3([(GroupRecordType::ChangeToExclude, g.get())].into()));
    }

    #[test]
    fn rfc3810_8_2_1_mldv1_query_means_mldv1_reports_and_done_to_ff02_2() {
        let (mut mld, mut ctx) = setup::<Ipv6>(3);
        mld.receive_mld(&mut ctx, DEV, router(), &v1_query(10_000, Ipv6Addr::UNSPECIFIED)).unwrap();
        assert_eq!(mld.mode(DEV), Some(GmpVersion::V2));
        let g = group("ff0e::db8:1");
        mld.join(&mut ctx, DEV, g).unwrap();
        assert_eq!(mld.leave(&mut ctx, DEV, g), Ok(LeaveResult::Left),);
        let now = ctx.now();
        assert_eq!(
            ctx.take_sent(),
            [
                SentMessage { at: now, device: DEV, dst: g, message: Sent::ReportV2(g) },
                SentMessage { at: now, device: DEV, dst: group("ff02::2"), message: Sent::Leave(g) },
            ]
        );
        // RFC 3810 §9.12: 2 × 125 s + 10 s later, back to MLDv2.
        ctx.advance_gmp(&mut mld, core::time::Duration::from_secs(260));
        assert_eq!(mld.mode(DEV), Some(GmpVersion::V3));
    }

    #[test]
    fn rfc2710_3_mldv1_max_response_delay_is_in_milliseconds() {
        let (mut mld, mut ctx) = setup::<Ipv6>(4);
        let g = group("ff0e::db8:1");
        mld.receive_mld(&mut ctx, DEV, router(), &v1_query(10_000, Ipv6Addr::UNSPECIFIED)).unwrap();
        mld.join(&mut ctx, DEV, g).unwrap();
        ctx.advance_gmp(&mut mld, core::time::Duration::from_secs(11));
        ctx.take_sent();
        let start = ctx.now();
        mld.receive_mld(&mut ctx, DEV, router(), &v1_query(300, g.get())).unwrap();
        ctx.advance_gmp(&mut mld, core::time::Duration::from_secs(1));
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].at - start < core::time::Duration::from_millis(300));
    }

    #[test]
    fn rfc3810_5_1_3_mldv2_max_response_code_is_decoded() {
        // 0x8001: (0x001 | 0x1000) << 3 ms = 32.776 s.
        let bound = core::time::Duration::from_millis(0x1001 << 3);
        let mut late = core::time::Duration::ZERO;
        for seed in 0..40 {
            let (mut mld, mut ctx) = setup::<Ipv6>(seed);
            mld.join(&mut ctx, DEV, group("ff0e::db8:1")).unwrap();
            ctx.advance_gmp(&mut mld, core::time::Duration::from_secs(2));
            ctx.take_sent();
            let start = ctx.now();
            mld.receive_mld(&mut ctx, DEV, router(), &v2_query(0x8001, Ipv6Addr::UNSPECIFIED, &[])).unwrap();
            ctx.advance_gmp(&mut mld, core::time::Duration::from_secs(40));
            let sent = ctx.take_sent();
            assert_eq!(sent.len(), 1);
            assert!(sent[0].at - start < bound);
            late = late.max(sent[0].at - start);
        }
        assert!(late > core::time::Duration::from_secs(16), "delays spread over the whole range: {late:?}");
    }

    #[test]
    fn rfc3810_5_1_14_queries_from_non_link_local_sources_are_dropped() {
        let (mut mld, mut ctx) = setup::<Ipv6>(5);
        for src in [Ipv6Addr::UNSPECIFIED, addr("2001:db8::1")] {
            assert_eq!(
                mld.receive_mld(&mut ctx, DEV, src, &v1_query(1000, Ipv6Addr::UNSPECIFIED)),
                Err(GmpInputError::QuerySourceNotLinkLocal { src: IpAddr::V6(src) })
            );
        }
        assert_eq!(mld.mode(DEV), Some(GmpVersion::V3), "a dropped MLDv1 query changes nothing");
        assert_eq!(mld.counters().queries_invalid, 2);
    }

    #[test]
    fn rfc3810_5_1_12_invalid_query_variants_are_dropped() {
        let (mut mld, mut ctx) = setup::<Ipv6>(6);
        let source = [addr("2001:db8::7")];
        assert_eq!(
            mld.receive_mld(&mut ctx, DEV, router(), &v2_query(1000, Ipv6Addr::UNSPECIFIED, &source)),
            Err(GmpInputError::GeneralQueryWithSources { count: 1 })
        );
        let unicast = addr("2001:db8::9");
        assert_eq!(
            mld.receive_mld(&mut ctx, DEV, router(), &v1_query(1000, unicast)),
            Err(GmpInputError::QueryAddressNotMulticast { address: IpAddr::V6(unicast) })
        );
        assert_eq!(mld.counters().queries_invalid, 2);
    }

    #[test]
    fn rfc3810_5_2_13_heard_reports_need_a_link_local_or_unspecified_source() {
        let g = group("ff0e::db8:1");
        let report = Icmpv6Message::MulticastListenerReport(Mldv1Report { multicast_address: g.get() });
        for (src, suppresses) in
            [(addr("fe80::2"), true), (Ipv6Addr::UNSPECIFIED, true), (addr("2001:db8::2"), false)]
        {
            let (mut mld, mut ctx) = setup::<Ipv6>(7);
            mld.receive_mld(&mut ctx, DEV, router(), &v1_query(10_000, Ipv6Addr::UNSPECIFIED)).unwrap();
            mld.join(&mut ctx, DEV, g).unwrap();
            ctx.take_sent();
            let result = mld.receive_mld(&mut ctx, DEV, src, &report);
            assert_eq!(result.is_ok(), suppresses);
            ctx.advance_gmp(&mut mld, core::time::Duration::from_secs(10));
            assert_eq!(ctx.take_sent().is_empty(), suppresses, "{src}");
        }
        let (mut mld, mut ctx) = setup::<Ipv6>(8);
        let bad = Icmpv6Message::MulticastListenerReport(Mldv1Report { multicast_address: addr("fe80::3") });
        assert_eq!(
            mld.receive_mld(&mut ctx, DEV, router(), &bad),
            Err(GmpInputError::ReportAddressNotMulticast { address: IpAddr::V6(addr("fe80::3")) })
        );
        assert_eq!(mld.counters().reports_invalid, 1);
    }

    #[test]
    fn router_and_other_messages_are_ignored() {
        let (mut mld, mut ctx) = setup::<Ipv6>(9);
        let g = group("ff0e::db8:1");
        mld.join(&mut ctx, DEV, g).unwrap();
        ctx.take_sent();
        for message in [
            Icmpv6Message::MulticastListenerDone(Mldv1Done { multicast_address: g.get() }),
            Icmpv6Message::MulticastListenerReportV2(Mldv2Report { records: GroupRecords::new(&[]) }),
        ] {
            mld.receive_mld(&mut ctx, DEV, router(), &message).unwrap();
        }
        assert!(mld.is_member(DEV, g));
        assert_eq!(ctx.take_sent(), []);
    }

    /// Serializes what the machinery sent and parses it back as ICMPv6.
    fn round_trip(message: GmpMessage<'_, Ipv6Addr>, check: impl FnOnce(Icmpv6Message<'_>)) {
        let ph = Icmpv6PseudoHeader { src: addr("fe80::5"), dst: Ipv6Addr::ALL_MLDV2_ROUTERS };
        let bytes: Vec<u8> = (&[][..])
            .encapsulate(IcmpBuilder::<Ipv6, _>::new(ph, message))
            .serialize_vec()
            .unwrap()
            .into_inner();
        let packet = Icmpv6Packet::parse_bytes(&bytes[..], ph).unwrap();
        check(packet.message().unwrap());
    }

    #[test]
    fn messages_serialize_as_mld() {
        let g = group("ff0e::db8:1");
        let report = Icmpv6Message::MulticastListenerReport(Mldv1Report { multicast_address: g.get() });
        round_trip(GmpMessage::ReportV2 { group: g }, |m| assert_eq!(m, report));
        round_trip(GmpMessage::ReportV1 { group: g }, |m| assert_eq!(m, report));
        round_trip(GmpMessage::Leave { group: g }, |m| {
            assert_eq!(m, Icmpv6Message::MulticastListenerDone(Mldv1Done { multicast_address: g.get() }))
        });
        let records = [GroupRecord {
            record_type: GroupRecordType::ChangeToInclude,
            multicast_address: g.get(),
            sources: AddrList::new(&[]),
        }];
        round_trip(GmpMessage::ReportV3 { records: &records }, |m| {
            assert_eq!(
                m,
                Icmpv6Message::MulticastListenerReportV2(Mldv2Report {
                    records: GroupRecords::new(&records)
                })
            )
        });
    }
}
