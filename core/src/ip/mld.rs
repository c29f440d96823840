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
