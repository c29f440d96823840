//! Host-side group membership, written once for IGMP and MLD: the "group management
//! protocol" (GMP) machinery both share, generic over [`GmpIp`].
//!
//! RFC 3810 (MLDv2) is RFC 3376 (IGMPv3) for IPv6, and MLDv1 (RFC 2710) mirrors IGMPv2
//! (RFC 2236), so one state machine serves both. [`GmpVersion`] is named after the IGMP
//! versions: `V3` is IGMPv3 / MLDv2, `V2` is IGMPv2 / MLDv1, `V1` is IGMPv1 (IGMP only).
//! `igmp.rs` and `mld.rs` hold what differs: addresses, message decoding and building.
//!
//! What this implements, per interface:
//!
//! * membership: joins and leaves reference counted per group (one per socket membership);
//!   the first join programs the device's multicast filter and announces the group, the last
//!   leave withdraws it; at most [`GmpConfig::max_groups_per_device`] groups;
//! * version 3 (RFC 3376 §5.1, RFC 3810 §6.1): state-change reports, CHANGE_TO_EXCLUDE({}) on
//!   join and CHANGE_TO_INCLUDE({}) on leave (memberships are any-source), sent at once and
//!   retransmitted [Robustness Variable] − 1 more times at random intervals up to the
//!   [Unsolicited Report Interval]; a newer change to a group replaces its pending record;
//! * version 3 queries (RFC 3376 §5.2, RFC 3810 §6.2): a General Query arms the interface
//!   timer, answered with a current-state report of every group (MODE_IS_EXCLUDE({})) split
//!   across as many messages as the MTU needs; Group-Specific Queries arm that group's timer.
//!   A Group-and-Source-Specific Query is answered like a Group-Specific one: every
//!   membership here is EXCLUDE({}), whose answer to any source list B is "all of B"
//!   (RFC 3376 §5.2: IS_IN(B − {})), and MODE_IS_EXCLUDE({}) says that and more without
//!   storing B, so a flood of such queries costs no memory;
//! * versions 1 and 2 (RFC 2236 §3 and §6, RFC 2710 §4 and §5): the Non-Member / Delaying
//!   Member / Idle Member states, with "Delaying" being "the group's timer is scheduled";
//!   unsolicited reports on join, query responses after a random delay up to Max Response
//!   Time, suppression when another host reports first, Leave / Done only when we were the
//!   last to report (never in IGMPv1 mode);
//! * compatibility (RFC 3376 §7.2.1, RFC 3810 §8.2.1): an older query puts the interface in
//!   that version for the Older Version Querier Present Timeout (§8.12 / §9.12), computed
//!   from the Robustness Variable and Query Interval learned from version 3 queries (QRV,
//!   QQIC, RFC 3376 §4.1.6–§4.1.7, RFC 3810 §5.1.8–§5.1.9), else the defaults; every pending
//!   response and retransmission is cancelled when the mode changes;
//! * groups the RFCs never report ([`GmpIp::is_unreported`]: 224.0.0.1, ff02::1, scopes 0
//!   and 1) are joined and filtered like any other but never announced.
//!
//! Outputs leave through [`GmpContext`]: typed messages ([`GmpMessage`]) with their
//! destination, and filter programming. Timers are [`GmpTimerId`]s: one per group, and per
//! interface the general-query response, the state-change retransmission and one per older
//! querier version.
//!
//! Bounds: groups per device, pending state-change records per device (each refusal
//! counted, [`GmpCounters`]); a query allocates nothing that outlives it, so hostile queries
//! cost CPU, never memory. Hop Limit / TTL 1 and the Router Alert option on received
//! messages are the IP layer's to check (RFC 2236 §2, RFC 3376 §4, RFC 3810 §5), as is
//! putting them on the messages sent here.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::num::NonZeroU32;
use core::time::Duration;

use crate::addr::{Ip, IpAddr, IpAddress, IsMulticast, MulticastAddr};
use crate::context::{RngContext, TimerContext};
use crate::device::DeviceId;
use crate::wire::icmp::group::{GroupRecord, GroupRecordType};
use crate::wire::icmp::{AddrList, WireAddress};

/// What differs between IGMP and MLD for the shared machinery; implemented for
/// [`Ipv4`](crate::addr::Ipv4) in `igmp.rs` and [`Ipv6`](crate::addr::Ipv6) in `mld.rs`.
pub trait GmpIp: Ip<Addr: WireAddress + IsMulticast> {
    /// Where version 3 reports go: 224.0.0.22 (RFC 3376 §4.2.14), ff02::16 (RFC 3810
    /// §5.2.14).
    const V3_REPORTS_TO: MulticastAddr<Self::Addr>;
    /// Where leaves go: all-routers, 224.0.0.2 (RFC 2236 §3) or ff02::2 (RFC 2710 §4).
    const LEAVES_TO: MulticastAddr<Self::Addr>;
    /// Bytes of a version 3 report before its first record: the IP header with its Router
    /// Alert option, and the 8-byte message header.
    const V3_REPORT_OVERHEAD: usize;

    /// Whether the host never sends a report or leave for `group`.
    fn is_unreported(group: &MulticastAddr<Self::Addr>) -> bool;
}

/// Bytes of a group record's fixed part: Record Type, Aux Data Len, Number of Sources (RFC
/// 3376 §4.2.4, RFC 3810 §5.2.4); the multicast address follows.
const GROUP_RECORD_HEADER_LEN: usize = 4;

/// A protocol version an interface speaks, named after IGMP's: MLDv1 is [`V2`](Self::V2),
/// MLDv2 is [`V3`](Self::V3) (RFC 3810 §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GmpVersion {
    /// IGMPv1 (RFC 1112 appendix I): reports only, no leaves.
    V1,
    /// IGMPv2 (RFC 2236) or MLDv1 (RFC 2710): per-group reports with suppression, leaves.
    V2,
    /// IGMPv3 (RFC 3376) or MLDv2 (RFC 3810): source-filtering reports, the default.
    V3,
}

/// An older querier version whose presence is remembered per interface (RFC 3376 §7.2.1:
/// the IGMPv1 and IGMPv2 Querier Present timers; RFC 3810 §8.2.1: MLDv1's, as `V2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OlderVersion {
    /// An IGMPv1 querier.
    V1,
    /// An IGMPv2 or MLDv1 querier.
    V2,
}

/// Which of a device's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GmpTimer<A> {
    /// One group's timer: in versions 1/2 the report delay of a Delaying Member (RFC 2236
    /// §6, RFC 2710 §5), in version 3 the pending response to a Group-Specific Query (RFC
    /// 3376 §5.2, RFC 3810 §6.2).
    Group(MulticastAddr<A>),
    /// The interface timer for the response to a version 3 General Query (RFC 3376 §5.2).
    GeneralQueryResponse,
    /// The next retransmission of pending version 3 state-change records (RFC 3376 §5.1).
    StateChangeRetransmission,
    /// The Older Version Querier Present timer of this version (RFC 3376 §7.2.1).
    OlderQuerierPresent(OlderVersion),
}

/// A timer of the group membership machinery, for [`TimerContext`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GmpTimerId<A> {
    /// The device it belongs to.
    pub device: DeviceId,
    /// Which of the device's timers.
    pub timer: GmpTimer<A>,
}

/// A message to send, typed; `igmp.rs` and `mld.rs` turn it into wire builders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GmpMessage<'a, A: WireAddress> {
    /// An IGMPv1 Membership Report (RFC 1112 appendix I); never for MLD.
    ReportV1 {
        /// The group reported.
        group: MulticastAddr<A>,
    },
    /// An IGMPv2 Membership Report (RFC 2236 §2) or MLDv1 Report (RFC 2710 §3).
    ReportV2 {
        /// The group reported.
        group: MulticastAddr<A>,
    },
    /// An IGMPv2 Leave Group (RFC 2236 §2) or MLDv1 Done (RFC 2710 §3).
    Leave {
        /// The group left.
        group: MulticastAddr<A>,
    },
    /// An IGMPv3 (RFC 3376 §4.2) or MLDv2 (RFC 3810 §5.2) report with these records, which
    /// fit the device's MTU.
    ReportV3 {
        /// The group records.
        records: &'a [GroupRecord<'a, A>],
    },
}

/// What the group membership machinery needs from the stack around it: time, timers,
/// randomness, a way to send its messages and to program the device's multicast filter.
pub trait GmpContext<I: GmpIp>: TimerContext<GmpTimerId<I::Addr>> + RngContext {
    /// Sends `message` on `device` to `dst`, with TTL / Hop Limit 1 and the Router Alert
    /// option (RFC 2236 §2, RFC 3376 §4, RFC 2710 §3, RFC 3810 §5).
    fn send_gmp_message(
        &mut self,
        device: DeviceId,
        dst: MulticastAddr<I::Addr>,
        message: GmpMessage<'_, I::Addr>,
    );

    /// Makes `device` receive frames for `group` (first join).
    fn join_link_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>);

    /// Stops `device` receiving frames for `group` (last leave).
    fn leave_link_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>);

    /// The IP MTU of `device`: version 3 reports are split so that each fits.
    fn gmp_mtu(&self, device: DeviceId) -> u32;
}

/// Host behaviour settings, the same for IGMP and MLD (whose defaults agree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GmpConfig {
    /// Most groups one device may be a member of. Linux caps each socket at 20
    /// (`igmp_max_memberships`) and has no per-device limit; 256 per device holds a dozen
    /// sockets at Linux's cap, keeps a current-state report to two IGMP or four MLD
    /// messages at MTU 1500, and bounds what a General Query response costs.
    pub max_groups_per_device: usize,
    /// Most version 3 state-change records awaiting retransmission per device, including
    /// those of groups already left; a change beyond it is sent once, not retransmitted.
    pub max_pending_state_changes: usize,
    /// The Robustness Variable until a querier's QRV says otherwise (RFC 3376 §8.1, RFC
    /// 3810 §9.1; Linux `igmp_qrv`, `mld_qrv`): 2. Values below 1 act as 1.
    pub robustness: u8,
    /// Version 3 Unsolicited Report Interval (RFC 3376 §8.11, RFC 3810 §9.11): 1 s.
    pub unsolicited_report_interval: Duration,
    /// IGMPv1/v2 and MLDv1 Unsolicited Report Interval (RFC 2236 §8.10, RFC 2710 §7.10;
    /// Linux `igmpv2_unsolicited_report_interval`, `mldv1_unsolicited_report_interval`):
    /// 10 s.
    pub older_unsolicited_report_interval: Duration,
    /// Query Interval until a version 3 query's QQIC says otherwise (RFC 3376 §8.2, RFC
    /// 3810 §9.2): 125 s.
    pub query_interval: Duration,
    /// Query Response Interval until a version 3 query's Max Resp Code says otherwise (RFC
    /// 3376 §8.3, RFC 3810 §9.3): 10 s.
    pub query_response_interval: Duration,
}

impl Default for GmpConfig {
    fn default() -> Self {
        Self {
            max_groups_per_device: 256,
            max_pending_state_changes: 256,
            robustness: 2,
            unsolicited_report_interval: Duration::from_secs(1),
            older_unsolicited_report_interval: Duration::from_secs(10),
            query_interval: Duration::from_secs(125),
            query_response_interval: Duration::from_secs(10),
        }
    }
}

/// Events and refusals, by reason (nstat's `Igmp*` / `Icmp6*Mld*` in spirit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GmpCounters {
    /// IGMPv1 reports sent.
    pub v1_reports_sent: u64,
    /// IGMPv2 / MLDv1 reports sent.
    pub v2_reports_sent: u64,
    /// IGMPv3 / MLDv2 report messages sent.
    pub v3_reports_sent: u64,
    /// Leave Group / Done messages sent.
    pub leaves_sent: u64,
    /// Valid queries processed.
    pub queries_received: u64,
    /// Queries dropped as invalid (see [`GmpInputError`]).
    pub queries_invalid: u64,
    /// Other hosts' version 1/2 reports processed.
    pub reports_received: u64,
    /// Reports dropped as invalid.
    pub reports_invalid: u64,
    /// Our pending reports cancelled because another host reported first (RFC 2236 §3).
    pub reports_suppressed: u64,
    /// Joins refused: the device has [`GmpConfig::max_groups_per_device`] groups.
    pub joins_refused_group_limit: u64,
    /// Joins refused: the group's reference count would overflow.
    pub joins_refused_refcount: u64,
    /// Leaves of groups not joined.
    pub leaves_not_member: u64,
    /// State changes not retransmitted: [`GmpConfig::max_pending_state_changes`] reached.
    pub state_changes_not_retransmitted: u64,
    /// Host compatibility mode changes (RFC 3376 §7.2.1).
    pub mode_changes: u64,
    /// Calls naming a device that was never added.
    pub unknown_device: u64,
}

/// Errors of the membership API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GmpError {
    /// The device was never added with [`Gmp::add_device`].
    #[error("{device} has no group membership state: add the device first")]
    UnknownDevice {
        /// The device.
        device: DeviceId,
    },
    /// The device is a member of as many groups as allowed.
    #[error("{device} is a member of {limit} groups, the limit; not joining {group}")]
    TooManyGroups {
        /// The device.
        device: DeviceId,
        /// The group refused.
        group: IpAddr,
        /// [`GmpConfig::max_groups_per_device`].
        limit: usize,
    },
    /// The group's reference count is at its maximum.
    #[error("{group} is joined {} times on {device}, the most counted", u32::MAX)]
    TooManyJoins {
        /// The device.
        device: DeviceId,
        /// The group.
        group: IpAddr,
    },
    /// A leave of a group that is not joined.
    #[error("{group} is not joined on {device}")]
    NotMember {
        /// The device.
        device: DeviceId,
        /// The group.
        group: IpAddr,
    },
}

/// Why a received IGMP or MLD message was dropped; each is counted in [`GmpCounters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GmpInputError {
    /// The device was never added with [`Gmp::add_device`].
    #[error("{device} has no group membership state")]
    UnknownDevice {
        /// The device.
        device: DeviceId,
    },
    /// A query's group is neither unspecified (general) nor multicast (RFC 3376 §4.1.3, RFC
    /// 3810 §5.1.5).
    #[error("query for {address}, neither unspecified nor multicast")]
    QueryAddressNotMulticast {
        /// The Group / Multicast Address field.
        address: IpAddr,
    },
    /// A general query lists sources, which only group-and-source-specific queries do (RFC
    /// 3376 §4.1.9 and §4.1.11, RFC 3810 §5.1.10 and §5.1.12).
    #[error("general query with {count} sources")]
    GeneralQueryWithSources {
        /// Number of sources.
        count: usize,
    },
    /// An IGMP General Query sent to a multicast address other than 224.0.0.1, which hosts
    /// ignore (RFC 3376 §9.1).
    #[error("general query sent to {dst}, not to all-systems")]
    GeneralQueryNotToAllSystems {
        /// The IP destination.
        dst: IpAddr,
    },
    /// An MLD query whose source is not link-local (RFC 2710 §5, RFC 3810 §5.1.14).
    #[error("MLD query from {src}, not a link-local address")]
    QuerySourceNotLinkLocal {
        /// The IP source.
        src: IpAddr,
    },
    /// A report for an address that is not multicast.
    #[error("report for {address}, not a multicast address")]
    ReportAddressNotMulticast {
        /// The Group / Multicast Address field.
        address: IpAddr,
    },
    /// An MLD report whose source is neither link-local nor unspecified (RFC 3810 §5.2.13).
    #[error("MLD report from {src}, neither link-local nor unspecified")]
    ReportSourceNotLinkLocal {
        /// The IP source.
        src: IpAddr,
    },
}

/// What a query asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryTarget<A> {
    /// Every group (RFC 3376 §4.1.11 General Query).
    General,
    /// One group (Group-Specific / Multicast-Address-Specific Query).
    Group(MulticastAddr<A>),
    /// One group, some sources (Group-and-Source-Specific Query, version 3 only).
    GroupAndSources(MulticastAddr<A>),
}

impl<A: WireAddress + IsMulticast> QueryTarget<A> {
    /// The target of a query for `address` listing `source_count` sources: unspecified is
    /// general (and must list none), multicast is group-specific (RFC 3376 §4.1.11, RFC
    /// 3810 §5.1.12), anything else is invalid.
    pub fn new(address: A, source_count: usize) -> Result<Self, GmpInputError> {
        if address.is_unspecified() {
            return match source_count {
                0 => Ok(QueryTarget::General),
                count => Err(GmpInputError::GeneralQueryWithSources { count }),
            };
        }
        let group = MulticastAddr::new(address)
            .ok_or(GmpInputError::QueryAddressNotMulticast { address: address.to_ip_addr() })?;
        Ok(match source_count {
            0 => QueryTarget::Group(group),
            _ => QueryTarget::GroupAndSources(group),
        })
    }
}

/// The version-specific part of a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryVersion {
    /// An IGMPv1 query (RFC 3376 §7.1: 8 bytes, Max Resp Code 0).
    V1,
    /// An IGMPv2 or MLDv1 query.
    V2,
    /// An IGMPv3 or MLDv2 query with the querier's parameters.
    V3 {
        /// QRV; 0 when the querier's exceeds 7 (RFC 3376 §4.1.6, RFC 3810 §5.1.8).
        robustness: u8,
        /// The Querier's Query Interval decoded from QQIC (RFC 3376 §4.1.7, RFC 3810 §5.1.9).
        query_interval: Duration,
    },
}

/// A validated query, as `igmp.rs` and `mld.rs` hand it to [`Gmp::receive_query`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GmpQuery<A> {
    /// What it asks about.
    pub target: QueryTarget<A>,
    /// The Max Response Time, decoded (10 s for IGMPv1 queries, RFC 2236 §4).
    pub max_response_delay: Duration,
    /// Its version and version 3 parameters.
    pub version: QueryVersion,
}

/// What a join did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinResult {
    /// The first join: the filter was programmed and the group announced.
    Joined,
    /// The group was already joined; its reference count went up.
    AlreadyMember,
}

/// What a leave did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveResult {
    /// The last leave: the group was withdrawn and the filter unprogrammed.
    Left,
    /// Other joins remain; the reference count went down.
    StillMember,
}

/// One group joined on a device.
#[derive(Clone, Copy, Debug)]
struct GroupState {
    /// Joins not yet matched by leaves.
    refs: NonZeroU32,
    /// RFC 2236 §6 "flag that we were the last host to send a report for this group".
    last_reporter: bool,
    /// Version 1/2 unsolicited reports still to send (RFC 2236 §3, RFC 2710 §4).
    unsolicited_left: u8,
}

/// A version 3 state-change record awaiting retransmission (RFC 3376 §5.1).
#[derive(Clone, Copy, Debug)]
struct StateChange {
    /// CHANGE_TO_EXCLUDE (joined) or CHANGE_TO_INCLUDE (left).
    record_type: GroupRecordType,
    /// Transmissions still to make.
    remaining: u8,
}

/// What has been learned of the querier (RFC 3376 §4.1.6–§4.1.7, RFC 3810 §5.1.8–§5.1.9).
#[derive(Clone, Copy, Debug)]
struct QuerierParams {
    robustness: u8,
    query_interval: Duration,
    query_response_interval: Duration,
}

/// One device's group membership state.
#[derive(Debug)]
struct DeviceState<I: GmpIp> {
    groups: BTreeMap<MulticastAddr<I::Addr>, GroupState>,
    state_changes: BTreeMap<MulticastAddr<I::Addr>, StateChange>,
    querier: QuerierParams,
    /// Whether each Older Version Querier Present timer runs (RFC 3376 §7.2.1).
    v1_querier_present: bool,
    v2_querier_present: bool,
}

/// The device, settings and counters a device-level operation works with.
struct Env<'a> {
    device: DeviceId,
    config: &'a GmpConfig,
    counters: &'a mut GmpCounters,
}

impl Env<'_> {
    fn timer<A>(&self, timer: GmpTimer<A>) -> GmpTimerId<A> {
        GmpTimerId { device: self.device, timer }
    }
}

/// Host-side IGMP (`Gmp<Ipv4>`) or MLD (`Gmp<Ipv6>`) for every device of a stack.
#[derive(Debug)]
pub struct Gmp<I: GmpIp> {
    config: GmpConfig,
    devices: BTreeMap<DeviceId, DeviceState<I>>,
    counters: GmpCounters,
}

impl<I: GmpIp> Gmp<I> {
    /// No devices yet.
    pub fn new(config: GmpConfig) -> Self {
        Self { config, devices: BTreeMap::new(), counters: GmpCounters::default() }
    }

    /// The settings.
    pub fn config(&self) -> &GmpConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &GmpCounters {
        &self.counters
    }

    /// Starts managing `device` in version 3 with no groups; does nothing if it is managed.
    pub fn add_device(&mut self, device: DeviceId) {
        let config = &self.config;
        self.devices.entry(device).or_insert_with(|| DeviceState::new(config));
    }

    /// Forgets `device` and cancels its timers, sending nothing: the device is going away,
    /// and its filter with it. Returns whether it was managed.
    pub fn remove_device<C: GmpContext<I>>(&mut self, ctx: &mut C, device: DeviceId) -> bool {
        let Some(state) = self.devices.remove(&device) else { return false };
        for group in state.groups.keys() {
            ctx.cancel_timer(&GmpTimerId { device, timer: GmpTimer::Group(*group) });
        }
        for timer in [
            GmpTimer::GeneralQueryResponse,
            GmpTimer::StateChangeRetransmission,
            GmpTimer::OlderQuerierPresent(OlderVersion::V1),
            GmpTimer::OlderQuerierPresent(OlderVersion::V2),
        ] {
            ctx.cancel_timer(&GmpTimerId { device, timer });
        }
        true
    }

    /// The version `device` speaks now (RFC 3376 §7.2.1 Host Compatibility Mode), if it is
    /// managed.
    pub fn mode(&self, device: DeviceId) -> Option<GmpVersion> {
        self.devices.get(&device).map(DeviceState::mode)
    }

    /// The groups `device` is a member of, with their reference counts, in address order.
    pub fn groups(&self, device: DeviceId) -> impl Iterator<Item = (MulticastAddr<I::Addr>, u32)> + '_ {
        self.devices.get(&device).into_iter().flat_map(|d| d.groups.iter().map(|(g, s)| (*g, s.refs.get())))
    }

    /// Whether `device` is a member of `group`.
    pub fn is_member(&self, device: DeviceId, group: MulticastAddr<I::Addr>) -> bool {
        self.devices.get(&device).is_some_and(|d| d.groups.contains_key(&group))
    }

    /// One more membership of `group` on `device` (one per socket membership). The first
    /// programs the filter and announces the group.
    pub fn join<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        group: MulticastAddr<I::Addr>,
    ) -> Result<JoinResult, GmpError> {
        let Self { config, devices, counters } = self;
        let Some(state) = devices.get_mut(&device) else {
            counters.unknown_device += 1;
            return Err(GmpError::UnknownDevice { device });
        };
        state.join(ctx, &mut Env { device, config, counters }, group)
    }

    /// One membership of `group` on `device` fewer. The last withdraws the group and
    /// unprograms the filter.
    pub fn leave<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        group: MulticastAddr<I::Addr>,
    ) -> Result<LeaveResult, GmpError> {
        let Self { config, devices, counters } = self;
        let Some(state) = devices.get_mut(&device) else {
            counters.unknown_device += 1;
            return Err(GmpError::UnknownDevice { device });
        };
        state.leave(ctx, &mut Env { device, config, counters }, group)
    }

    /// A valid query arrived on `device` (`igmp.rs` and `mld.rs` validate and decode).
    pub fn receive_query<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        query: GmpQuery<I::Addr>,
    ) -> Result<(), GmpInputError> {
        let Self { config, devices, counters } = self;
        let Some(state) = devices.get_mut(&device) else {
            counters.unknown_device += 1;
            return Err(GmpInputError::UnknownDevice { device });
        };
        counters.queries_received += 1;
        state.receive_query(ctx, &mut Env { device, config, counters }, query);
        Ok(())
    }

    /// Another host's version 1/2 report for `group` arrived on `device`.
    pub fn receive_report<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        group: MulticastAddr<I::Addr>,
    ) -> Result<(), GmpInputError> {
        let Self { devices, counters, .. } = self;
        let Some(state) = devices.get_mut(&device) else {
            counters.unknown_device += 1;
            return Err(GmpInputError::UnknownDevice { device });
        };
        counters.reports_received += 1;
        state.receive_report(ctx, device, counters, group);
        Ok(())
    }

    /// Counts a message dropped as invalid by `igmp.rs` / `mld.rs` and hands the error back.
    pub(super) fn count_invalid(&mut self, error: GmpInputError) -> GmpInputError {
        match error {
            GmpInputError::UnknownDevice { .. } => self.counters.unknown_device += 1,
            GmpInputError::ReportAddressNotMulticast { .. }
            | GmpInputError::ReportSourceNotLinkLocal { .. } => self.counters.reports_invalid += 1,
            GmpInputError::QueryAddressNotMulticast { .. }
            | GmpInputError::GeneralQueryWithSources { .. }
            | GmpInputError::GeneralQueryNotToAllSystems { .. }
            | GmpInputError::QuerySourceNotLinkLocal { .. } => self.counters.queries_invalid += 1,
        }
        error
    }

    /// A timer scheduled by this module fired.
    pub fn handle_timer<C: GmpContext<I>>(&mut self, ctx: &mut C, id: GmpTimerId<I::Addr>) {
        let Self { config, devices, counters } = self;
        // A device removed since is not an error: its timers were cancelled, but the host
        // may have popped this one already.
        if let Some(state) = devices.get_mut(&id.device) {
            state.handle_timer(ctx, &mut Env { device: id.device, config, counters }, id.timer);
        }
    }
}

/// A record for `group` with no sources: every membership here is any-source.
fn record<A: WireAddress>(record_type: GroupRecordType, group: MulticastAddr<A>) -> GroupRecord<'static, A> {
    GroupRecord { record_type, multicast_address: group.into_addr(), sources: AddrList::new(&[]) }
}

/// How many source-less records fit in one version 3 report on a link of `mtu` (at least
/// the IP minimum, RFC 791 / RFC 8200 §5): always at least one, at most what the 16-bit
/// Number of Records field counts (RFC 3376 §4.2.3, RFC 3810 §5.2.3).
pub fn records_per_report<I: GmpIp>(mtu: u32) -> usize {
    let mtu = usize::try_from(mtu).unwrap_or(usize::MAX).max(usize::from(I::MINIMUM_LINK_MTU));
    let record_len = GROUP_RECORD_HEADER_LEN + <I::Addr as WireAddress>::LEN;
    (mtu.saturating_sub(I::V3_REPORT_OVERHEAD) / record_len).clamp(1, usize::from(u16::MAX))
}

/// Sends `records` in as many version 3 reports as the device's MTU needs (RFC 3376 §5.2:
/// "if the set of Group Records required in a Report does not fit within the size limit of
/// a single Report message ... as many Group Records as fit into each Report").
fn send_v3_records<I: GmpIp, C: GmpContext<I>>(
    ctx: &mut C,
    env: &mut Env<'_>,
    records: &[GroupRecord<'_, I::Addr>],
) {
    let per_report = records_per_report::<I>(ctx.gmp_mtu(env.device));
    for chunk in records.chunks(per_report) {
        ctx.send_gmp_message(env.device, I::V3_REPORTS_TO, GmpMessage::ReportV3 { records: chunk });
        env.counters.v3_reports_sent += 1;
    }
}

/// Sends a version 1 or 2 report for `group` to the group (RFC 2236 §3, RFC 2710 §4).
fn send_older_report<I: GmpIp, C: GmpContext<I>>(
    ctx: &mut C,
    env: &mut Env<'_>,
    version: GmpVersion,
    group: MulticastAddr<I::Addr>,
) {
    let message = match version {
        GmpVersion::V1 => {
            env.counters.v1_reports_sent += 1;
            GmpMessage::ReportV1 { group }
        }
        GmpVersion::V2 | GmpVersion::V3 => {
            env.counters.v2_reports_sent += 1;
            GmpMessage::ReportV2 { group }
        }
    };
    ctx.send_gmp_message(env.device, group, message);
}

impl<I: GmpIp> DeviceState<I> {
    fn new(config: &GmpConfig) -> Self {
        Self {
            groups: BTreeMap::new(),
            state_changes: BTreeMap::new(),
            querier: QuerierParams {
                robustness: config.robustness,
                query_interval: config.query_interval,
                query_response_interval: config.query_response_interval,
            },
            v1_querier_present: false,
            v2_querier_present: false,
        }
    }

    /// RFC 3376 §7.2.1: IGMPv1 if its querier timer runs, else IGMPv2 if that one runs,
    /// else IGMPv3 (RFC 3810 §8.2.1 likewise with MLDv1).
    fn mode(&self) -> GmpVersion {
        if self.v1_querier_present {
            GmpVersion::V1
        } else if self.v2_querier_present {
            GmpVersion::V2
        } else {
            GmpVersion::V3
        }
    }

    /// The Robustness Variable in force, at least 1 so the first message is always sent.
    fn robustness(&self) -> u8 {
        self.querier.robustness.max(1)
    }

    /// Older Version Querier Present Timeout: Robustness Variable × Query Interval + Query
    /// Response Interval (RFC 3376 §8.12, RFC 3810 §9.12), from what was learned.
    fn older_querier_timeout(&self) -> Duration {
        self.querier
            .query_interval
            .saturating_mul(u32::from(self.robustness()))
            .saturating_add(self.querier.query_response_interval)
    }

    fn join<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        env: &mut Env<'_>,
        group: MulticastAddr<I::Addr>,
    ) -> Result<JoinResult, GmpError> {
        if let Some(state) = self.groups.get_mut(&group) {
            let Some(refs) = state.refs.checked_add(1) else {
                env.counters.joins_refused_refcount += 1;
                return Err(GmpError::TooManyJoins { device: env.device, group: group.to_ip_addr() });
            };
            state.refs = refs;
            return Ok(JoinResult::AlreadyMember);
        }
        if self.groups.len() >= env.config.max_groups_per_device {
            env.counters.joins_refused_group_limit += 1;
            return Err(GmpError::TooManyGroups {
                device: env.device,
                group: group.to_ip_addr(),
                limit: env.config.max_groups_per_device,
            });
        }
        let mut state = GroupState { refs: NonZeroU32::MIN, last_reporter: false, unsolicited_left: 0 };
        ctx.join_link_group(env.device, group);
        if !I::is_unreported(&group) {
            match self.mode() {
                // RFC 3376 §5.1, RFC 3810 §6.1: EXCLUDE({}) is the new state.
                GmpVersion::V3 => self.state_change(ctx, env, group, GroupRecordType::ChangeToExclude),
                // RFC 2236 §3, RFC 2710 §4: report at once, repeat after a random delay up
                // to the Unsolicited Report Interval (Robustness − 1 repeats, as Linux).
                version => {
                    send_older_report::<I, C>(ctx, env, version, group);
                    state.last_reporter = true;
                    state.unsolicited_left = self.robustness() - 1;
                    if state.unsolicited_left > 0 {
                        let delay =
                            ctx.random_duration(Duration::ZERO..env.config.older_unsolicited_report_interval);
                        ctx.schedule_timer_after(env.timer(GmpTimer::Group(group)), delay);
                    }
                }
            }
        }
        self.groups.insert(group, state);
        Ok(JoinResult::Joined)
    }

    fn leave<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        env: &mut Env<'_>,
        group: MulticastAddr<I::Addr>,
    ) -> Result<LeaveResult, GmpError> {
        let Some(state) = self.groups.get_mut(&group) else {
            env.counters.leaves_not_member += 1;
            return Err(GmpError::NotMember { device: env.device, group: group.to_ip_addr() });
        };
        if let Some(refs) = NonZeroU32::new(state.refs.get() - 1) {
            state.refs = refs;
            return Ok(LeaveResult::StillMember);
        }
        let last_reporter = state.last_reporter;
        self.groups.remove(&group);
        ctx.cancel_timer(&env.timer(GmpTimer::Group(group)));
        if !I::is_unreported(&group) {
            match self.mode() {
                // RFC 3376 §5.1, RFC 3810 §6.1: INCLUDE({}) is the new state.
                GmpVersion::V3 => self.state_change(ctx, env, group, GroupRecordType::ChangeToInclude),
                // RFC 2236 §3, RFC 2710 §4: only the last host to report says it leaves.
                GmpVersion::V2 => {
                    if last_reporter {
                        ctx.send_gmp_message(env.device, I::LEAVES_TO, GmpMessage::Leave { group });
                        env.counters.leaves_sent += 1;
                    }
                }
                // RFC 2236 §4, RFC 3376 §7.2.1: IGMPv1 has no leave.
                GmpVersion::V1 => {}
            }
        }
        ctx.leave_link_group(env.device, group);
        Ok(LeaveResult::Left)
    }

    /// RFC 3376 §5.1, RFC 3810 §6.1: sends the state-change record for `group` now, and
    /// keeps it for [Robustness Variable] − 1 retransmissions, replacing any older record
    /// for the group.
    fn state_change<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        env: &mut Env<'_>,
        group: MulticastAddr<I::Addr>,
        record_type: GroupRecordType,
    ) {
        send_v3_records::<I, C>(ctx, env, &[record(record_type, group)]);
        let remaining = self.robustness() - 1;
        if remaining == 0 {
            self.state_changes.remove(&group);
            return;
        }
        if !self.state_changes.contains_key(&group)
            && self.state_changes.len() >= env.config.max_pending_state_changes
        {
            env.counters.state_changes_not_retransmitted += 1;
            return;
        }
        self.state_changes.insert(group, StateChange { record_type, remaining });
        let id = env.timer(GmpTimer::StateChangeRetransmission);
        if ctx.scheduled_at(&id).is_none() {
            let delay = ctx.random_duration(Duration::ZERO..env.config.unsolicited_report_interval);
            ctx.schedule_timer_after(id, delay);
        }
    }

    fn receive_query<C: GmpContext<I>>(&mut self, ctx: &mut C, env: &mut Env<'_>, query: GmpQuery<I::Addr>) {
        let before = self.mode();
        match query.version {
            QueryVersion::V3 { robustness, query_interval } => {
                // RFC 3376 §4.1.6–§4.1.7, RFC 3810 §5.1.8–§5.1.9: adopt the querier's
                // values; 0 means "not said" and falls back to the defaults (as Linux).
                self.querier = QuerierParams {
                    robustness: if robustness == 0 { env.config.robustness } else { robustness },
                    query_interval: if query_interval.is_zero() {
                        env.config.query_interval
                    } else {
                        query_interval
                    },
                    query_response_interval: query.max_response_delay,
                };
            }
            // RFC 3376 §7.2.1, RFC 3810 §8.2.1: (re)start the older querier's timer.
            QueryVersion::V1 => {
                self.v1_querier_present = true;
                let timeout = self.older_querier_timeout();
                ctx.schedule_timer_after(env.timer(GmpTimer::OlderQuerierPresent(OlderVersion::V1)), timeout);
            }
            QueryVersion::V2 => {
                self.v2_querier_present = true;
                let timeout = self.older_querier_timeout();
                ctx.schedule_timer_after(env.timer(GmpTimer::OlderQuerierPresent(OlderVersion::V2)), timeout);
            }
        }
        if self.mode() != before {
            self.mode_changed(ctx, env);
        }
        match self.mode() {
            GmpVersion::V3 => self.query_v3(ctx, env, query),
            // An older host takes any query, longer ones included, as its own (RFC 2236
            // §2.5, RFC 3810 §8.2.1), with the delay its version encodes.
            GmpVersion::V1 | GmpVersion::V2 => self.query_older(ctx, env, query),
        }
    }

    /// RFC 3376 §5.2, RFC 3810 §6.2: schedule the response.
    fn query_v3<C: GmpContext<I>>(&mut self, ctx: &mut C, env: &mut Env<'_>, query: GmpQuery<I::Addr>) {
        let delay = ctx.random_duration(Duration::ZERO..query.max_response_delay);
        let at = ctx.now() + delay;
        let general = env.timer(GmpTimer::GeneralQueryResponse);
        // Rule 1: a General Query response due sooner covers this query too.
        if ctx.scheduled_at(&general).is_some_and(|pending| pending <= at) {
            return;
        }
        match query.target {
            // Rule 2: the interface timer, replacing any later one.
            QueryTarget::General => {
                ctx.schedule_timer(general, at);
            }
            // Rules 3 and 4: the group's timer, at the earlier of its pending deadline and
            // the new one. Source-specific queries are group-specific here (module doc).
            QueryTarget::Group(group) | QueryTarget::GroupAndSources(group) => {
                if !self.groups.contains_key(&group) || I::is_unreported(&group) {
                    return;
                }
                let id = env.timer(GmpTimer::Group(group));
                if ctx.scheduled_at(&id).is_none_or(|pending| at < pending) {
                    ctx.schedule_timer(id, at);
                }
            }
        }
    }

    /// RFC 2236 §3 and §6, RFC 2710 §4 and §5: every queried group not already due to
    /// report within Max Response Time starts a random delay up to it.
    fn query_older<C: GmpContext<I>>(&mut self, ctx: &mut C, env: &mut Env<'_>, query: GmpQuery<I::Addr>) {
        let max_delay = query.max_response_delay;
        let start = |ctx: &mut C, group: MulticastAddr<I::Addr>| {
            if I::is_unreported(&group) {
                return;
            }
            let id = env.timer(GmpTimer::Group(group));
            let now = ctx.now();
            // Reset only if Max Response Time is less than the time remaining.
            if ctx.scheduled_at(&id).is_some_and(|pending| pending - now <= max_delay) {
                return;
            }
            let delay = ctx.random_duration(Duration::ZERO..max_delay);
            ctx.schedule_timer_after(id, delay);
        };
        match query.target {
            QueryTarget::General => {
                for group in self.groups.keys() {
                    start(ctx, *group);
                }
            }
            QueryTarget::Group(group) | QueryTarget::GroupAndSources(group) => {
                if self.groups.contains_key(&group) {
                    start(ctx, group);
                }
            }
        }
    }

    fn receive_report<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        counters: &mut GmpCounters,
        group: MulticastAddr<I::Addr>,
    ) {
        // RFC 3376 appendix A.2 (and RFC 3810 after it): version 3 hosts do not suppress.
        if self.mode() == GmpVersion::V3 {
            return;
        }
        let Some(state) = self.groups.get_mut(&group) else { return };
        // RFC 2236 §3 and §6, RFC 2710 §4 and §5: another host reported, so ours is not
        // needed and we are no longer the last to report (cleared even when idle, as Linux).
        if ctx.cancel_timer(&GmpTimerId { device, timer: GmpTimer::Group(group) }).is_some() {
            counters.reports_suppressed += 1;
        }
        state.unsolicited_left = 0;
        state.last_reporter = false;
    }

    fn handle_timer<C: GmpContext<I>>(&mut self, ctx: &mut C, env: &mut Env<'_>, timer: GmpTimer<I::Addr>) {
        match timer {
            GmpTimer::Group(group) => self.group_timer(ctx, env, group),
            GmpTimer::GeneralQueryResponse => {
                if self.mode() != GmpVersion::V3 {
                    return;
                }
                // RFC 3376 §5.2, RFC 3810 §6.2: the current state of every group.
                let records: Vec<_> = self
                    .groups
                    .keys()
                    .filter(|group| !I::is_unreported(group))
                    .map(|group| record(GroupRecordType::ModeIsExclude, *group))
                    .collect();
                send_v3_records::<I, C>(ctx, env, &records);
                for (group, state) in self.groups.iter_mut() {
                    state.last_reporter |= !I::is_unreported(group);
                }
            }
            GmpTimer::StateChangeRetransmission => {
                if self.mode() != GmpVersion::V3 || self.state_changes.is_empty() {
                    return;
                }
                // RFC 3376 §5.1, RFC 3810 §6.1: every pending record, once more.
                let records: Vec<_> = self
                    .state_changes
                    .iter()
                    .map(|(group, change)| record(change.record_type, *group))
                    .collect();
                send_v3_records::<I, C>(ctx, env, &records);
                self.state_changes.retain(|_, change| {
                    change.remaining -= 1;
                    change.remaining > 0
                });
                if !self.state_changes.is_empty() {
                    let delay = ctx.random_duration(Duration::ZERO..env.config.unsolicited_report_interval);
                    ctx.schedule_timer_after(env.timer(GmpTimer::StateChangeRetransmission), delay);
                }
            }
            GmpTimer::OlderQuerierPresent(version) => {
                let before = self.mode();
                match version {
                    OlderVersion::V1 => self.v1_querier_present = false,
                    OlderVersion::V2 => self.v2_querier_present = false,
                }
                if self.mode() != before {
                    self.mode_changed(ctx, env);
                }
            }
        }
    }

    /// A group's timer fired: report it, in the version spoken now.
    fn group_timer<C: GmpContext<I>>(
        &mut self,
        ctx: &mut C,
        env: &mut Env<'_>,
        group: MulticastAddr<I::Addr>,
    ) {
        let mode = self.mode();
        let Some(state) = self.groups.get_mut(&group) else { return };
        if I::is_unreported(&group) {
            return;
        }
        state.last_reporter = true;
        match mode {
            // RFC 3376 §5.2: the current state of the queried group.
            GmpVersion::V3 => {
                send_v3_records::<I, C>(ctx, env, &[record(GroupRecordType::ModeIsExclude, group)])
            }
            // RFC 2236 §6 "timer expired": send report, set flag, Idle Member — unless
            // unsolicited repeats remain (RFC 2236 §3).
            version => {
                send_older_report::<I, C>(ctx, env, version, group);
                state.unsolicited_left = state.unsolicited_left.saturating_sub(1);
                if state.unsolicited_left > 0 {
                    let delay =
                        ctx.random_duration(Duration::ZERO..env.config.older_unsolicited_report_interval);
                    ctx.schedule_timer_after(env.timer(GmpTimer::Group(group)), delay);
                }
            }
        }
    }

    /// RFC 3376 §7.2.1, RFC 3810 §8.2.1: "whenever a host changes its compatibility mode, it
    /// cancels all its pending response and retransmission timers".
    fn mode_changed<C: GmpContext<I>>(&mut self, ctx: &mut C, env: &mut Env<'_>) {
        env.counters.mode_changes += 1;
        for (group, state) in self.groups.iter_mut() {
            ctx.cancel_timer(&env.timer(GmpTimer::Group(*group)));
            state.unsolicited_left = 0;
        }
        ctx.cancel_timer(&env.timer(GmpTimer::GeneralQueryResponse));
        ctx.cancel_timer(&env.timer(GmpTimer::StateChangeRetransmission));
        self.state_changes.clear();
    }
}
