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
