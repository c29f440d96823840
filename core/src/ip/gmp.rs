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
    /// Whether this host sent the most recent report for the group (RFC 2236 §6), which
    /// decides whether leaving sends a Leave message.
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

/// Sends `records` in as many version 3 reports as the device's MTU needs: records that do
/// not fit one report are spread over several, each filled as far as it goes (RFC 3376 §5.2).
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
            // Whatever the version, we are the last to have reported the group; a leave
            // after a switch to version 2 then says so (RFC 2236 §3).
            state.last_reporter = true;
            match self.mode() {
                // RFC 3376 §5.1, RFC 3810 §6.1: EXCLUDE({}) is the new state.
                GmpVersion::V3 => self.state_change(ctx, env, group, GroupRecordType::ChangeToExclude),
                // RFC 2236 §3, RFC 2710 §4: report at once, repeat after a random delay up
                // to the Unsolicited Report Interval (Robustness − 1 repeats, as Linux).
                version => {
                    send_older_report::<I, C>(ctx, env, version, group);
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

    /// A change of compatibility mode drops every pending response and retransmission
    /// (RFC 3376 §7.2.1, RFC 3810 §8.2.1).
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

/// A fake stack around the machinery, for the tests here and in `igmp.rs` and `mld.rs`: it
/// records what is sent and the filter, fires timers in order, and checks on every message
/// that unreported groups never appear and that version 3 reports fit the MTU.
#[cfg(test)]
pub(super) mod testutil {
    use alloc::collections::BTreeSet;
    use alloc::vec;

    use super::*;
    use crate::addr::{Ipv4, Ipv4Addr, Ipv6, Ipv6Addr};
    use crate::context::InstantContext;
    use crate::testutil::fake::FakeCtx;
    use crate::time::Instant;

    /// The device the tests use.
    pub(crate) const DEV: DeviceId = DeviceId::new(1);

    /// Test addresses for one protocol.
    pub(crate) trait TestIp: GmpIp {
        /// The `n`th group that is reported.
        fn group(n: u8) -> MulticastAddr<Self::Addr>;
        /// Groups never reported.
        fn unreported() -> Vec<MulticastAddr<Self::Addr>>;
    }

    impl TestIp for Ipv4 {
        fn group(n: u8) -> MulticastAddr<Ipv4Addr> {
            MulticastAddr::new_unchecked(Ipv4Addr::new([239, 1, 1, n]))
        }

        fn unreported() -> Vec<MulticastAddr<Ipv4Addr>> {
            vec![MulticastAddr::new_unchecked(Ipv4Addr::ALL_SYSTEMS)]
        }
    }

    impl TestIp for Ipv6 {
        fn group(n: u8) -> MulticastAddr<Ipv6Addr> {
            MulticastAddr::new_unchecked(Ipv6Addr::from_segments([
                0xff0e,
                0,
                0,
                0,
                0,
                0,
                0xdb8,
                u16::from(n),
            ]))
        }

        fn unreported() -> Vec<MulticastAddr<Ipv6Addr>> {
            [
                Ipv6Addr::ALL_NODES,
                Ipv6Addr::from_segments([0xff01, 0, 0, 0, 0, 0, 0, 5]),
                Ipv6Addr::from_segments([0xff00, 0, 0, 0, 0, 0, 0, 7]),
            ]
            .into_iter()
            .map(MulticastAddr::new_unchecked)
            .collect()
        }
    }

    /// A message as sent, owned.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) enum Sent<A> {
        ReportV1(MulticastAddr<A>),
        ReportV2(MulticastAddr<A>),
        Leave(MulticastAddr<A>),
        /// The records, as (type, group).
        ReportV3(Vec<(GroupRecordType, A)>),
    }

    /// One message sent, with when, where and to whom.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct SentMessage<A> {
        pub(crate) at: Instant,
        pub(crate) device: DeviceId,
        pub(crate) dst: MulticastAddr<A>,
        pub(crate) message: Sent<A>,
    }

    /// What the fake stack records: messages sent, the device filter, the MTU reports fit.
    pub(crate) struct GmpHost<I: GmpIp> {
        pub(crate) sent: Vec<SentMessage<I::Addr>>,
        pub(crate) filter: BTreeSet<(DeviceId, MulticastAddr<I::Addr>)>,
        pub(crate) mtu: u32,
    }

    impl<I: GmpIp> Default for GmpHost<I> {
        fn default() -> Self {
            Self { sent: Vec::new(), filter: BTreeSet::new(), mtu: 1500 }
        }
    }

    /// The fake stack: a fake host with group membership's recorded state.
    pub(crate) type FakeGmpCtx<I> = FakeCtx<GmpTimerId<<I as Ip>::Addr>, GmpHost<I>>;

    impl<I: GmpIp> FakeGmpCtx<I> {
        /// Fires every group membership timer due within `by`, in order, then moves the
        /// clock to the end.
        pub(crate) fn advance_gmp(&mut self, gmp: &mut Gmp<I>, by: Duration) {
            let deadline = self.now() + by;
            while let Some(id) = self.pop_due(deadline) {
                gmp.handle_timer(self, id);
            }
            self.set_now(deadline);
        }

        /// What was sent since the last call.
        pub(crate) fn take_sent(&mut self) -> Vec<SentMessage<I::Addr>> {
            core::mem::take(&mut self.state.sent)
        }
    }

    impl<I: GmpIp> GmpContext<I> for FakeGmpCtx<I> {
        fn send_gmp_message(
            &mut self,
            device: DeviceId,
            dst: MulticastAddr<I::Addr>,
            message: GmpMessage<'_, I::Addr>,
        ) {
            let message = match message {
                GmpMessage::ReportV1 { group } => Sent::ReportV1(group),
                GmpMessage::ReportV2 { group } => Sent::ReportV2(group),
                GmpMessage::Leave { group } => Sent::Leave(group),
                GmpMessage::ReportV3 { records } => {
                    assert!(!records.is_empty(), "empty report");
                    assert!(
                        records.len() <= records_per_report::<I>(self.state.mtu),
                        "report exceeds the MTU"
                    );
                    Sent::ReportV3(records.iter().map(|r| (r.record_type, r.multicast_address)).collect())
                }
            };
            let groups: Vec<I::Addr> = match &message {
                Sent::ReportV1(g) | Sent::ReportV2(g) | Sent::Leave(g) => vec![g.into_addr()],
                Sent::ReportV3(records) => records.iter().map(|(_, g)| *g).collect(),
            };
            for group in groups {
                let group = MulticastAddr::new(group).expect("reports name multicast groups");
                assert!(!I::is_unreported(&group), "reported {group:?}");
            }
            self.state.sent.push(SentMessage { at: self.now(), device, dst, message });
        }

        fn join_link_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>) {
            assert!(self.state.filter.insert((device, group)), "{group:?} programmed twice");
        }

        fn leave_link_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>) {
            assert!(self.state.filter.remove(&(device, group)), "{group:?} unprogrammed but not programmed");
        }

        fn gmp_mtu(&self, _device: DeviceId) -> u32 {
            self.state.mtu
        }
    }

    /// A machinery with the default settings, `DEV` added, and a fake stack.
    pub(crate) fn setup<I: GmpIp>(seed: u64) -> (Gmp<I>, FakeGmpCtx<I>) {
        let mut gmp = Gmp::new(GmpConfig::default());
        gmp.add_device(DEV);
        (gmp, FakeCtx::with_state(seed, GmpHost::default()))
    }

    /// A version 3 query that leaves the learned querier values at their defaults.
    pub(crate) fn v3_query<A>(target: QueryTarget<A>, max_response_delay: Duration) -> GmpQuery<A> {
        GmpQuery {
            target,
            max_response_delay,
            version: QueryVersion::V3 { robustness: 0, query_interval: Duration::ZERO },
        }
    }

    /// A version 2 query.
    pub(crate) fn v2_query<A>(target: QueryTarget<A>, max_response_delay: Duration) -> GmpQuery<A> {
        GmpQuery { target, max_response_delay, version: QueryVersion::V2 }
    }

    /// Seconds as an instant.
    pub(crate) fn secs(s: u64) -> Instant {
        Instant::from_nanos(s * 1_000_000_000)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use proptest::prelude::*;

    use super::testutil::{
        secs, setup, v2_query, v3_query, FakeGmpCtx, GmpHost, Sent, SentMessage, TestIp, DEV,
    };
    use super::*;
    use crate::context::InstantContext;
    use crate::time::Instant;

    const TO_EX: GroupRecordType = GroupRecordType::ChangeToExclude;
    const TO_IN: GroupRecordType = GroupRecordType::ChangeToInclude;
    const IS_EX: GroupRecordType = GroupRecordType::ModeIsExclude;

    fn v3<I: GmpIp>(records: &[(GroupRecordType, MulticastAddr<I::Addr>)]) -> Sent<I::Addr> {
        Sent::ReportV3(records.iter().map(|(t, g)| (*t, g.into_addr())).collect())
    }

    /// The messages, without times, devices and destinations.
    fn messages<A: Clone>(sent: &[SentMessage<A>]) -> Vec<Sent<A>> {
        sent.iter().map(|s| s.message.clone()).collect()
    }

    /// Puts `DEV` in version 2 (IGMPv2 / MLDv1) mode with a general query that asks for
    /// nothing, since no group is joined yet.
    fn enter_v2<I: GmpIp>(gmp: &mut Gmp<I>, ctx: &mut FakeGmpCtx<I>) {
        gmp.receive_query(ctx, DEV, v2_query(QueryTarget::General, Duration::from_secs(10))).unwrap();
        assert_eq!(gmp.mode(DEV), Some(GmpVersion::V2));
    }

    /// Joins `group` and lets the unsolicited reports go out.
    fn join_settled<I: GmpIp>(gmp: &mut Gmp<I>, ctx: &mut FakeGmpCtx<I>, group: MulticastAddr<I::Addr>) {
        assert_eq!(gmp.join(ctx, DEV, group), Ok(JoinResult::Joined));
        ctx.advance_gmp(gmp, Duration::from_secs(11));
        ctx.take_sent();
    }

    fn rfc3376_5_1_join_sends_to_ex_now_then_once_more_within_1s<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(1);
        let g = I::group(1);
        assert_eq!(gmp.join(&mut ctx, DEV, g), Ok(JoinResult::Joined));
        assert!(ctx.state.filter.contains(&(DEV, g)));
        let sent = ctx.take_sent();
        assert_eq!(
            sent,
            [SentMessage {
                at: Instant::ZERO,
                device: DEV,
                dst: I::V3_REPORTS_TO,
                message: v3::<I>(&[(TO_EX, g)])
            }]
        );
        // Robustness 2: one retransmission, within the Unsolicited Report Interval of 1 s.
        ctx.advance_gmp(&mut gmp, Duration::from_secs(1));
        let sent = ctx.take_sent();
        assert_eq!(messages(&sent), [v3::<I>(&[(TO_EX, g)])]);
        assert!(sent[0].at < secs(1) && sent[0].dst == I::V3_REPORTS_TO);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(300));
        assert_eq!(ctx.take_sent(), []);
        assert_eq!(ctx.timers(), []);
        assert_eq!(gmp.counters().v3_reports_sent, 2);
    }

    fn rfc3376_5_1_leave_sends_to_in_now_then_once_more_and_unprograms<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(2);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        assert_eq!(gmp.leave(&mut ctx, DEV, g), Ok(LeaveResult::Left));
        assert!(!ctx.state.filter.contains(&(DEV, g)) && !gmp.is_member(DEV, g));
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(TO_IN, g)])]);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(1));
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(TO_IN, g)])]);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(300));
        assert_eq!(ctx.take_sent(), []);
    }

    fn rfc3376_5_1_newer_change_replaces_pending_record<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(3);
        let (g1, g2) = (I::group(1), I::group(2));
        gmp.join(&mut ctx, DEV, g1).unwrap();
        gmp.join(&mut ctx, DEV, g2).unwrap();
        gmp.leave(&mut ctx, DEV, g1).unwrap();
        assert_eq!(
            messages(&ctx.take_sent()),
            [v3::<I>(&[(TO_EX, g1)]), v3::<I>(&[(TO_EX, g2)]), v3::<I>(&[(TO_IN, g1)])]
        );
        // The retransmission carries every pending record once, g1's as TO_IN only.
        ctx.advance_gmp(&mut gmp, Duration::from_secs(1));
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(TO_IN, g1), (TO_EX, g2)])]);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(10));
        assert_eq!(ctx.take_sent(), []);
    }

    fn rfc3376_8_1_learned_robustness_sets_retransmissions<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(4);
        let query = GmpQuery {
            target: QueryTarget::General,
            max_response_delay: Duration::from_secs(1),
            version: QueryVersion::V3 { robustness: 4, query_interval: Duration::from_secs(60) },
        };
        gmp.receive_query(&mut ctx, DEV, query).unwrap();
        // Nothing to answer: no group yet.
        ctx.advance_gmp(&mut gmp, Duration::from_secs(1));
        assert_eq!(ctx.take_sent(), []);
        let g = I::group(1);
        gmp.join(&mut ctx, DEV, g).unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(10));
        let sent = ctx.take_sent();
        assert_eq!(messages(&sent), vec![v3::<I>(&[(TO_EX, g)]); 4]);
        for pair in sent.windows(2) {
            assert!(pair[1].at - pair[0].at < Duration::from_secs(1));
        }
    }

    fn joins_and_leaves_are_reference_counted<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(5);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        assert_eq!(gmp.join(&mut ctx, DEV, g), Ok(JoinResult::AlreadyMember));
        assert_eq!(gmp.join(&mut ctx, DEV, g), Ok(JoinResult::AlreadyMember));
        assert_eq!(gmp.groups(DEV).collect::<Vec<_>>(), [(g, 3)]);
        assert_eq!(gmp.leave(&mut ctx, DEV, g), Ok(LeaveResult::StillMember));
        assert_eq!(gmp.leave(&mut ctx, DEV, g), Ok(LeaveResult::StillMember));
        assert_eq!(ctx.take_sent(), []);
        assert!(ctx.state.filter.contains(&(DEV, g)));
        assert_eq!(gmp.leave(&mut ctx, DEV, g), Ok(LeaveResult::Left));
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(TO_IN, g)])]);
        assert!(ctx.state.filter.is_empty());
        let err = gmp.leave(&mut ctx, DEV, g).unwrap_err();
        assert_eq!(err, GmpError::NotMember { device: DEV, group: g.to_ip_addr() });
        assert_eq!(gmp.counters().leaves_not_member, 1);
    }

    fn rfc2236_6_rfc3810_6_unreported_groups_are_filtered_but_never_reported<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(6);
        let reported = I::group(1);
        for group in I::unreported() {
            assert_eq!(gmp.join(&mut ctx, DEV, group), Ok(JoinResult::Joined));
            assert!(ctx.state.filter.contains(&(DEV, group)));
        }
        gmp.join(&mut ctx, DEV, reported).unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(5));
        ctx.take_sent();
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::General, Duration::from_secs(1))).unwrap();
        for group in I::unreported() {
            gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(group), Duration::ZERO)).unwrap();
        }
        ctx.advance_gmp(&mut gmp, Duration::from_secs(1));
        // The fake also asserts on every message that no unreported group is in it.
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(IS_EX, reported)])]);
        // In version 2 too, and leaving them sends nothing.
        gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::General, Duration::from_secs(1))).unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(1));
        assert_eq!(messages(&ctx.take_sent()), [Sent::ReportV2(reported)]);
        for group in I::unreported() {
            assert_eq!(gmp.leave(&mut ctx, DEV, group), Ok(LeaveResult::Left));
        }
        assert_eq!(ctx.take_sent(), []);
        assert_eq!(ctx.state.filter.len(), 1);
    }

    fn rfc3376_5_2_general_query_answered_once_with_every_group<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(7);
        let (g1, g2) = (I::group(1), I::group(2));
        join_settled(&mut gmp, &mut ctx, g2);
        join_settled(&mut gmp, &mut ctx, g1);
        let start = ctx.now();
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::General, Duration::from_secs(10))).unwrap();
        // A second general query with a later deadline is covered by the first (rule 1) or
        // replaces it (rule 2): either way one response.
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::General, Duration::from_secs(10))).unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(20));
        let sent = ctx.take_sent();
        assert_eq!(messages(&sent), [v3::<I>(&[(IS_EX, g1), (IS_EX, g2)])]);
        assert!(sent[0].at - start < Duration::from_secs(10));
        assert_eq!(sent[0].dst, I::V3_REPORTS_TO);
    }

    fn rfc3376_5_2_current_state_report_is_split_to_fit_the_mtu<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(8);
        ctx.state.mtu = 0;
        let per_report = records_per_report::<I>(ctx.state.mtu);
        let groups: Vec<_> = (1..=200).map(I::group).collect();
        for group in &groups {
            join_settled(&mut gmp, &mut ctx, *group);
        }
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::General, Duration::from_secs(1))).unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(1));
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), groups.len().div_ceil(per_report));
        let mut reported = Vec::new();
        for message in sent {
            let Sent::ReportV3(records) = message.message else { panic!("{message:?}") };
            assert!(records.len() <= per_report);
            reported.extend(records);
        }
        let expected: Vec<_> = groups.iter().map(|g| (IS_EX, g.into_addr())).collect();
        assert_eq!(reported, expected);
    }

    fn rfc3376_5_2_group_specific_queries_answer_for_their_group_only<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(9);
        let (g1, g2, stranger) = (I::group(1), I::group(2), I::group(3));
        join_settled(&mut gmp, &mut ctx, g1);
        join_settled(&mut gmp, &mut ctx, g2);
        let start = ctx.now();
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(g1), Duration::from_secs(2))).unwrap();
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(stranger), Duration::from_secs(2)))
            .unwrap();
        // Group-and-source-specific: answered as group-specific, IS_EX({}).
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::GroupAndSources(g2), Duration::from_secs(2)))
            .unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(3));
        let sent = ctx.take_sent();
        let mut got = messages(&sent);
        got.sort_by_key(|m| alloc::format!("{m:?}"));
        let mut expected = vec![v3::<I>(&[(IS_EX, g1)]), v3::<I>(&[(IS_EX, g2)])];
        expected.sort_by_key(|m| alloc::format!("{m:?}"));
        assert_eq!(got, expected);
        assert!(sent.iter().all(|s| s.at - start < Duration::from_secs(2)));
    }

    fn rfc3376_5_2_rule_1_a_sooner_general_response_covers_later_queries<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(10);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        // Max Response Time 0: the general response is due now, before anything later.
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::General, Duration::ZERO)).unwrap();
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(g), Duration::from_secs(5))).unwrap();
        assert_eq!(ctx.scheduled_at(&GmpTimerId { device: DEV, timer: GmpTimer::Group(g) }), None);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(10));
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(IS_EX, g)])]);
    }

    fn rfc3376_5_2_rule_4_pending_group_response_keeps_the_earlier_deadline<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(11);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        let id = GmpTimerId { device: DEV, timer: GmpTimer::Group(g) };
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(g), Duration::from_millis(100)))
            .unwrap();
        let first = ctx.scheduled_at(&id).unwrap();
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(g), Duration::from_secs(100))).unwrap();
        assert!(ctx.scheduled_at(&id).unwrap() <= first);
    }

    fn rfc3376_appendix_a2_version_3_hosts_do_not_suppress<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(12);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(g), Duration::from_secs(5))).unwrap();
        gmp.receive_report(&mut ctx, DEV, g).unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(5));
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(IS_EX, g)])]);
        assert_eq!(gmp.counters().reports_suppressed, 0);
    }

    fn rfc2236_3_v2_join_reports_now_and_once_more_within_10s<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(13);
        enter_v2(&mut gmp, &mut ctx);
        let g = I::group(1);
        gmp.join(&mut ctx, DEV, g).unwrap();
        assert_eq!(
            ctx.take_sent(),
            [SentMessage { at: Instant::ZERO, device: DEV, dst: g, message: Sent::ReportV2(g) }]
        );
        ctx.advance_gmp(&mut gmp, Duration::from_secs(10));
        let sent = ctx.take_sent();
        assert_eq!(messages(&sent), [Sent::ReportV2(g)]);
        assert!(sent[0].at < secs(10) && sent[0].dst == g);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(100));
        assert_eq!(ctx.take_sent(), []);
    }

    fn rfc2236_3_v2_query_response_is_delayed_within_max_response_time<I: TestIp>() {
        for seed in 0..20 {
            let (mut gmp, mut ctx) = setup::<I>(seed);
            enter_v2(&mut gmp, &mut ctx);
            let (g1, g2) = (I::group(1), I::group(2));
            join_settled(&mut gmp, &mut ctx, g1);
            join_settled(&mut gmp, &mut ctx, g2);
            let start = ctx.now();
            let max = Duration::from_millis(2500);
            gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::General, max)).unwrap();
            ctx.advance_gmp(&mut gmp, Duration::from_secs(5));
            let sent = ctx.take_sent();
            let mut got = messages(&sent);
            got.sort_by_key(|m| alloc::format!("{m:?}"));
            assert_eq!(got, [Sent::ReportV2(g1), Sent::ReportV2(g2)]);
            assert!(sent.iter().all(|s| s.at - start < max), "{sent:?}");
        }
    }

    fn rfc2236_3_v2_timer_is_reset_only_for_a_shorter_max_response_time<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(14);
        enter_v2(&mut gmp, &mut ctx);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        let id = GmpTimerId { device: DEV, timer: GmpTimer::Group(g) };
        gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::Group(g), Duration::from_secs(1))).unwrap();
        let first = ctx.scheduled_at(&id).unwrap();
        gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::General, Duration::from_secs(10))).unwrap();
        assert_eq!(ctx.scheduled_at(&id), Some(first));
        let shorter = first - ctx.now();
        gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::Group(g), shorter / 2)).unwrap();
        assert!(ctx.scheduled_at(&id).unwrap() < ctx.now() + shorter / 2);
    }

    fn rfc2236_3_v2_another_hosts_report_suppresses_ours<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(15);
        enter_v2(&mut gmp, &mut ctx);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::General, Duration::from_secs(10))).unwrap();
        gmp.receive_report(&mut ctx, DEV, g).unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(10));
        assert_eq!(ctx.take_sent(), []);
        assert_eq!(gmp.counters().reports_suppressed, 1);
    }

    fn rfc2236_3_v2_leave_goes_to_all_routers_when_we_reported_last<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(16);
        enter_v2(&mut gmp, &mut ctx);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        gmp.leave(&mut ctx, DEV, g).unwrap();
        assert_eq!(
            ctx.take_sent(),
            [SentMessage { at: ctx.now(), device: DEV, dst: I::LEAVES_TO, message: Sent::Leave(g) }]
        );
        assert!(ctx.state.filter.is_empty());
        assert_eq!(ctx.timers().len(), 1, "only the older querier timer remains");
    }

    fn rfc2236_3_v2_no_leave_when_another_host_reported_last<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(17);
        enter_v2(&mut gmp, &mut ctx);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        gmp.receive_report(&mut ctx, DEV, g).unwrap();
        assert_eq!(gmp.leave(&mut ctx, DEV, g), Ok(LeaveResult::Left));
        assert_eq!(ctx.take_sent(), []);
        assert!(ctx.state.filter.is_empty());
    }

    fn rfc2236_3_v2_leave_while_delaying_cancels_the_report<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(18);
        enter_v2(&mut gmp, &mut ctx);
        let g = I::group(1);
        gmp.join(&mut ctx, DEV, g).unwrap();
        gmp.leave(&mut ctx, DEV, g).unwrap();
        assert_eq!(messages(&ctx.take_sent()), [Sent::ReportV2(g), Sent::Leave(g)]);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(20));
        assert_eq!(ctx.take_sent(), []);
    }

    fn rfc3376_7_2_1_older_query_switches_mode_for_the_default_timeout<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(19);
        let g = I::group(1);
        // A pending state-change retransmission is cancelled by the switch.
        gmp.join(&mut ctx, DEV, g).unwrap();
        ctx.take_sent();
        enter_v2(&mut gmp, &mut ctx);
        assert_eq!(gmp.counters().mode_changes, 1);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(12));
        assert_eq!(messages(&ctx.take_sent()), [Sent::ReportV2(g)], "the general query's answer, in v2");
        // Robustness 2 × Query Interval 125 s + Query Response Interval 10 s = 260 s.
        ctx.advance_gmp(&mut gmp, secs(260) - ctx.now() - Duration::from_nanos(1));
        assert_eq!(gmp.mode(DEV), Some(GmpVersion::V2));
        ctx.advance_gmp(&mut gmp, Duration::from_nanos(1));
        assert_eq!(gmp.mode(DEV), Some(GmpVersion::V3));
        assert_eq!(gmp.counters().mode_changes, 2);
        gmp.leave(&mut ctx, DEV, g).unwrap();
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(TO_IN, g)])]);
    }

    fn rfc3376_8_12_older_querier_timeout_uses_learned_values<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(20);
        let query = GmpQuery {
            target: QueryTarget::General,
            max_response_delay: Duration::from_secs(5),
            version: QueryVersion::V3 { robustness: 3, query_interval: Duration::from_secs(20) },
        };
        gmp.receive_query(&mut ctx, DEV, query).unwrap();
        enter_v2(&mut gmp, &mut ctx);
        let id = GmpTimerId { device: DEV, timer: GmpTimer::OlderQuerierPresent(OlderVersion::V2) };
        // 3 × 20 s + 5 s.
        assert_eq!(ctx.scheduled_at(&id), Some(secs(65)));
        // A later older query restarts it.
        ctx.advance_gmp(&mut gmp, Duration::from_secs(60));
        enter_v2(&mut gmp, &mut ctx);
        assert_eq!(ctx.scheduled_at(&id), Some(secs(125)));
        ctx.advance_gmp(&mut gmp, Duration::from_secs(65));
        assert_eq!(gmp.mode(DEV), Some(GmpVersion::V3));
    }

    fn rfc3376_7_2_1_group_joined_in_v3_is_left_with_a_v2_leave_after_a_switch<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(27);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        enter_v2(&mut gmp, &mut ctx);
        // Leave before answering the v2 query: our v3 report was the last one.
        gmp.leave(&mut ctx, DEV, g).unwrap();
        assert_eq!(messages(&ctx.take_sent()), [Sent::Leave(g)]);
    }

    fn rfc3376_7_2_1_mode_change_cancels_pending_responses<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(21);
        let g = I::group(1);
        join_settled(&mut gmp, &mut ctx, g);
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::General, Duration::from_secs(10))).unwrap();
        gmp.receive_query(&mut ctx, DEV, v3_query(QueryTarget::Group(g), Duration::from_secs(10))).unwrap();
        // A version 2 group-specific query for another group: no v2 timer for g starts, and
        // the version 3 responses are cancelled.
        gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::Group(I::group(9)), Duration::from_secs(1)))
            .unwrap();
        ctx.advance_gmp(&mut gmp, Duration::from_secs(20));
        assert_eq!(ctx.take_sent(), []);
    }

    fn bounds_groups_per_device_and_refusals_counted<I: TestIp>() {
        let mut gmp = Gmp::<I>::new(GmpConfig { max_groups_per_device: 3, ..GmpConfig::default() });
        let mut ctx = FakeGmpCtx::with_state(22, GmpHost::default());
        gmp.add_device(DEV);
        for n in 1..=3 {
            gmp.join(&mut ctx, DEV, I::group(n)).unwrap();
        }
        let err = gmp.join(&mut ctx, DEV, I::group(4)).unwrap_err();
        assert_eq!(err, GmpError::TooManyGroups { device: DEV, group: I::group(4).to_ip_addr(), limit: 3 });
        assert_eq!(gmp.counters().joins_refused_group_limit, 1);
        assert!(!ctx.state.filter.contains(&(DEV, I::group(4))));
        // Joining a member again is not a new group.
        assert_eq!(gmp.join(&mut ctx, DEV, I::group(1)), Ok(JoinResult::AlreadyMember));
    }

    fn bounds_pending_state_changes_and_refusals_counted<I: TestIp>() {
        let mut gmp = Gmp::<I>::new(GmpConfig { max_pending_state_changes: 2, ..GmpConfig::default() });
        let mut ctx = FakeGmpCtx::with_state(23, GmpHost::default());
        gmp.add_device(DEV);
        for n in 1..=3 {
            gmp.join(&mut ctx, DEV, I::group(n)).unwrap();
        }
        assert_eq!(ctx.take_sent().len(), 3, "each change is sent at once");
        assert_eq!(gmp.counters().state_changes_not_retransmitted, 1);
        ctx.advance_gmp(&mut gmp, Duration::from_secs(2));
        assert_eq!(messages(&ctx.take_sent()), [v3::<I>(&[(TO_EX, I::group(1)), (TO_EX, I::group(2))])]);
    }

    fn bounds_query_floods_cost_no_memory<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(24);
        for n in 1..=8 {
            join_settled(&mut gmp, &mut ctx, I::group(n));
        }
        for round in 0..2_000u32 {
            let n = (round % 16) as u8 + 1;
            let target = match round % 3 {
                0 => QueryTarget::Group(I::group(n)),
                1 => QueryTarget::GroupAndSources(I::group(n)),
                _ => QueryTarget::General,
            };
            gmp.receive_query(&mut ctx, DEV, v3_query(target, Duration::from_secs(10))).unwrap();
            // One timer per member group and one general response, at most.
            assert!(ctx.timers().len() <= 9);
        }
        ctx.advance_gmp(&mut gmp, Duration::from_secs(10));
        assert!(ctx.take_sent().len() <= 9);
    }

    fn unknown_devices_are_refused_and_counted<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(25);
        let other = DeviceId::new(9);
        assert_eq!(gmp.join(&mut ctx, other, I::group(1)), Err(GmpError::UnknownDevice { device: other }));
        assert_eq!(
            gmp.receive_query(&mut ctx, other, v3_query(QueryTarget::General, Duration::ZERO)),
            Err(GmpInputError::UnknownDevice { device: other })
        );
        assert_eq!(gmp.counters().unknown_device, 2);
        assert_eq!(gmp.mode(other), None);
    }

    fn remove_device_cancels_its_timers<I: TestIp>() {
        let (mut gmp, mut ctx) = setup::<I>(26);
        gmp.join(&mut ctx, DEV, I::group(1)).unwrap();
        gmp.receive_query(&mut ctx, DEV, v2_query(QueryTarget::General, Duration::from_secs(1))).unwrap();
        gmp.join(&mut ctx, DEV, I::group(2)).unwrap();
        assert!(!ctx.timers().is_empty());
        assert!(gmp.remove_device(&mut ctx, DEV));
        assert_eq!(ctx.timers(), []);
        assert!(!gmp.remove_device(&mut ctx, DEV));
    }

    #[test]
    fn records_per_report_fits_the_mtu() {
        use crate::addr::{Ipv4, Ipv6};
        // IPv4: 20 + 4 (Router Alert) + 8, then 8 bytes a record.
        assert_eq!(records_per_report::<Ipv4>(1500), (1500 - 32) / 8);
        // Below the IPv4 minimum of 68 the minimum is assumed.
        assert_eq!(records_per_report::<Ipv4>(0), (68 - 32) / 8);
        // IPv6: 40 + 8 (Hop-by-Hop) + 8, then 20 bytes a record.
        assert_eq!(records_per_report::<Ipv6>(1500), (1500 - 56) / 20);
        assert_eq!(records_per_report::<Ipv6>(1280), (1280 - 56) / 20);
        assert_eq!(records_per_report::<Ipv6>(u32::MAX), usize::from(u16::MAX));
    }

    /// One input to the machinery, for the property tests.
    #[derive(Clone, Debug)]
    enum Op {
        Join(u8),
        Leave(u8),
        Query { version: u8, target: u8, group: u8, max_ms: u16, robustness: u8, qqi: u8 },
        Report(u8),
        Advance(u16),
        Mtu(u16),
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..12).prop_map(Op::Join),
            (0u8..12).prop_map(Op::Leave),
            (0u8..3, 0u8..3, 0u8..12, any::<u16>(), 0u8..8, any::<u8>()).prop_map(
                |(version, target, group, max_ms, robustness, qqi)| Op::Query {
                    version,
                    target,
                    group,
                    max_ms,
                    robustness,
                    qqi
                }
            ),
            (0u8..12).prop_map(Op::Report),
            any::<u16>().prop_map(Op::Advance),
            any::<u16>().prop_map(Op::Mtu),
        ]
    }

    /// Group `n` of a pool that mixes reported and unreported groups.
    fn pool<I: TestIp>(n: u8) -> MulticastAddr<I::Addr> {
        let unreported = I::unreported();
        match unreported.get(usize::from(n % 4)) {
            Some(group) if n >= 8 => *group,
            _ => I::group(n % 8),
        }
    }

    /// Arbitrary inputs never panic, never exceed the bounds, never report an unreported
    /// group (the fake asserts it), and the membership matches a model of the refcounts.
    fn arbitrary_inputs_keep_the_invariants<I: TestIp>(seed: u64, ops: &[Op]) {
        let config =
            GmpConfig { max_groups_per_device: 5, max_pending_state_changes: 3, ..GmpConfig::default() };
        let mut gmp = Gmp::<I>::new(config);
        let mut ctx = FakeGmpCtx::<I>::with_state(seed, GmpHost::default());
        gmp.add_device(DEV);
        let mut model: BTreeMap<MulticastAddr<I::Addr>, u32> = BTreeMap::new();
        for op in ops {
            match *op {
                Op::Join(n) => {
                    let group = pool::<I>(n);
                    let full = model.len() >= config.max_groups_per_device && !model.contains_key(&group);
                    assert_eq!(gmp.join(&mut ctx, DEV, group).is_err(), full);
                    if !full {
                        *model.entry(group).or_default() += 1;
                    }
                }
                Op::Leave(n) => {
                    let group = pool::<I>(n);
                    let result = gmp.leave(&mut ctx, DEV, group);
                    match model.get_mut(&group) {
                        None => assert!(result.is_err()),
                        Some(1) => {
                            assert_eq!(result, Ok(LeaveResult::Left));
                            model.remove(&group);
                        }
                        Some(refs) => {
                            assert_eq!(result, Ok(LeaveResult::StillMember));
                            *refs -= 1;
                        }
                    }
                }
                Op::Query { version, target, group, max_ms, robustness, qqi } => {
                    let group = pool::<I>(group);
                    let target = match target {
                        0 => QueryTarget::General,
                        1 => QueryTarget::Group(group),
                        _ => QueryTarget::GroupAndSources(group),
                    };
                    let version = match version {
                        0 => QueryVersion::V1,
                        1 => QueryVersion::V2,
                        _ => QueryVersion::V3 {
                            robustness,
                            query_interval: Duration::from_secs(u64::from(
                                crate::wire::icmp::group::decode_code8(qqi),
                            )),
                        },
                    };
                    let query = GmpQuery {
                        target,
                        max_response_delay: Duration::from_millis(max_ms.into()),
                        version,
                    };
                    gmp.receive_query(&mut ctx, DEV, query).unwrap();
                }
                Op::Report(n) => gmp.receive_report(&mut ctx, DEV, pool::<I>(n)).unwrap(),
                Op::Advance(ms) => ctx.advance_gmp(&mut gmp, Duration::from_millis(ms.into()) * 10),
                Op::Mtu(mtu) => ctx.state.mtu = mtu.into(),
            }
            let state = &gmp.devices[&DEV];
            assert!(state.groups.len() <= config.max_groups_per_device);
            assert!(state.state_changes.len() <= config.max_pending_state_changes);
            let groups: BTreeMap<_, _> = gmp.groups(DEV).collect();
            assert_eq!(groups, model);
            let filter: Vec<_> = ctx.state.filter.iter().map(|(_, g)| *g).collect();
            assert_eq!(filter, model.keys().copied().collect::<Vec<_>>());
            // Timers: one per group, three per interface at most (the general response,
            // the retransmission, two older queriers).
            assert!(ctx.timers().len() <= state.groups.len() + 4);
            for (id, _) in ctx.timers() {
                if let GmpTimer::Group(group) = id.timer {
                    assert!(state.groups.contains_key(&group) && !I::is_unreported(&group));
                }
            }
        }
        ctx.advance_gmp(&mut gmp, Duration::from_secs(300_000));
        assert_eq!(gmp.mode(DEV), Some(GmpVersion::V3), "every older querier times out");
    }

    macro_rules! for_both_protocols {
        ($($name:ident),* $(,)?) => {
            mod igmp {
                $(#[test] fn $name() { super::$name::<crate::addr::Ipv4>() })*

                proptest::proptest! {
                    #[test]
                    fn arbitrary_inputs_keep_the_invariants(seed in proptest::prelude::any::<u64>(), ops in proptest::collection::vec(super::arb_op(), 0..60)) {
                        super::arbitrary_inputs_keep_the_invariants::<crate::addr::Ipv4>(seed, &ops);
                    }
                }
            }
            mod mld {
                $(#[test] fn $name() { super::$name::<crate::addr::Ipv6>() })*

                proptest::proptest! {
                    #[test]
                    fn arbitrary_inputs_keep_the_invariants(seed in proptest::prelude::any::<u64>(), ops in proptest::collection::vec(super::arb_op(), 0..60)) {
                        super::arbitrary_inputs_keep_the_invariants::<crate::addr::Ipv6>(seed, &ops);
                    }
                }
            }
        };
    }

    for_both_protocols!(
        rfc3376_5_1_join_sends_to_ex_now_then_once_more_within_1s,
        rfc3376_5_1_leave_sends_to_in_now_then_once_more_and_unprograms,
        rfc3376_5_1_newer_change_replaces_pending_record,
        rfc3376_8_1_learned_robustness_sets_retransmissions,
        joins_and_leaves_are_reference_counted,
        rfc2236_6_rfc3810_6_unreported_groups_are_filtered_but_never_reported,
        rfc3376_5_2_general_query_answered_once_with_every_group,
        rfc3376_5_2_current_state_report_is_split_to_fit_the_mtu,
        rfc3376_5_2_group_specific_queries_answer_for_their_group_only,
        rfc3376_5_2_rule_1_a_sooner_general_response_covers_later_queries,
        rfc3376_5_2_rule_4_pending_group_response_keeps_the_earlier_deadline,
        rfc3376_appendix_a2_version_3_hosts_do_not_suppress,
        rfc2236_3_v2_join_reports_now_and_once_more_within_10s,
        rfc2236_3_v2_query_response_is_delayed_within_max_response_time,
        rfc2236_3_v2_timer_is_reset_only_for_a_shorter_max_response_time,
        rfc2236_3_v2_another_hosts_report_suppresses_ours,
        rfc2236_3_v2_leave_goes_to_all_routers_when_we_reported_last,
        rfc2236_3_v2_no_leave_when_another_host_reported_last,
        rfc2236_3_v2_leave_while_delaying_cancels_the_report,
        rfc3376_7_2_1_older_query_switches_mode_for_the_default_timeout,
        rfc3376_8_12_older_querier_timeout_uses_learned_values,
        rfc3376_7_2_1_group_joined_in_v3_is_left_with_a_v2_leave_after_a_switch,
        rfc3376_7_2_1_mode_change_cancels_pending_responses,
        bounds_groups_per_device_and_refusals_counted,
        bounds_pending_state_changes_and_refusals_counted,
        bounds_query_floods_cost_no_memory,
        unknown_devices_are_refused_and_counted,
        remove_device_cancels_its_timers,
    );
}
