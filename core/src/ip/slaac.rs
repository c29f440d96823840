//! IPv6 stateless address autoconfiguration and the lifetimes of every IPv6 address of an
//! interface (RFC 4862 §5.3, §5.5), with temporary addresses (RFC 8981) and stable interface
//! identifiers (RFC 7217), as a sans-I/O state machine.
//!
//! [`Slaac`] owns the IPv6 addresses of each interface it is told about and their lifetimes,
//! and runs [`Dad`] on each of them:
//!
//! * link-local addresses (RFC 4862 §5.3), formed from the MAC (modified EUI-64) or a stable
//!   identifier according to [`AddrGenMode`];
//! * addresses autoconfigured from the Prefix Information options of Router Advertisements
//!   (§5.5.3): rules a–d decide whether a prefix is used, rule e (the "two-hour rule")
//!   updates the lifetimes of a known one; preferred-lifetime expiry deprecates an address,
//!   valid-lifetime expiry removes it (§5.5.4);
//! * temporary addresses (RFC 8981 §3.4): one per prefix with random identifiers (§3.3.1) and
//!   capped lifetimes, regenerated REGEN_ADVANCE before they are deprecated (§3.6), retried
//!   with a new identifier when DAD fails (§3.4);
//! * manually added addresses (the admin path), whose lifetimes run on the same timers.
//!
//! What happens to addresses is reported through [`SlaacContext::on_address_event`]; the
//! caller keeps its address table (source selection, `ip addr`) in step with the events.
//!
//! Bounds (RFC 4862 and RFC 8981 set none; hostile Router Advertisements must cost CPU, not
//! memory): autoconfigured addresses per interface ([`SlaacConfig::max_addresses`], Linux
//! `max_addresses`), temporary addresses per prefix, manual addresses per interface. A prefix
//! is tracked only while one of its autoconfigured addresses exists, so tracked prefixes never
//! outnumber autoconfigured addresses. Every refusal is counted in [`SlaacCounters`].
//!
//! Linux is the reference for the defaults; where they differ from the RFCs' the field's
//! documentation says so.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cmp::min;
use core::time::Duration;

use super::dad::{
    Dad, DadConfig, DadContext, DadError, DadStart, DadState, DadTimerId, DuplicateAddress, NsDisposition,
};
use super::stable_iid::{
    address_with_iid, is_reserved_iid, StableIidGenerator, IDGEN_RETRIES, STABLE_PREFIX_LEN,
};
use crate::addr::{AddrSubnet, Ipv6Addr, Mac, Subnet};
use crate::context::{RngContext, TimerContext};
use crate::device::DeviceId;
use crate::hash::SipKey;
use crate::time::Instant;
use crate::wire::icmp::ndp::PrefixInformation;

/// The "two hours" of RFC 4862 §5.5.3 e: an unauthenticated advertisement cannot cut a valid
/// lifetime below this.
pub const MIN_VALID_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// The lifetime field value meaning infinity (RFC 4861 §4.6.2).
pub const INFINITE_LIFETIME_SECS: u32 = u32::MAX;

/// How often a random temporary identifier is drawn again when it is reserved or taken
/// (RFC 8981 §3.3.1 step 3 repeats without a bound; with 64 random bits a second draw is
/// already rare).
const RANDOM_IID_ATTEMPTS: u8 = 4;

/// fe80::/64, the prefix of link-local addresses (RFC 4291 §2.5.6, RFC 4862 §5.3).
const LINK_LOCAL_PREFIX: Subnet<Ipv6Addr> =
    Subnet::new_unchecked(Ipv6Addr::new([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 64);

/// A lifetime as advertised or configured: a span from now, or forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lifetime {
    /// This long from now.
    Finite(Duration),
    /// Forever.
    Infinite,
}

impl Lifetime {
    /// A lifetime field of an NDP option, in seconds; all ones is infinity (RFC 4861 §4.6.2).
    pub fn from_ndp_secs(secs: u32) -> Self {
        match secs {
            INFINITE_LIFETIME_SECS => Lifetime::Infinite,
            secs => Lifetime::Finite(Duration::from_secs(u64::from(secs))),
        }
    }

    /// When a lifetime starting at `now` ends.
    pub fn deadline(self, now: Instant) -> Expiry {
        match self {
            Lifetime::Finite(d) => Expiry::At(now + d),
            Lifetime::Infinite => Expiry::Never,
        }
    }
}

/// When a lifetime ends. Orders every instant before [`Expiry::Never`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expiry {
    /// At this instant.
    At(Instant),
    /// Never.
    Never,
}

impl Expiry {
    /// Whether the lifetime is over at `now`.
    pub fn is_past(self, now: Instant) -> bool {
        matches!(self, Expiry::At(t) if t <= now)
    }

    /// What is left of the lifetime at `now`.
    pub fn remaining(self, now: Instant) -> Lifetime {
        match self {
            Expiry::At(t) => Lifetime::Finite(t - now),
            Expiry::Never => Lifetime::Infinite,
        }
    }
}

/// The valid and preferred lifetimes of a manually added address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    /// How long the address stays on the interface.
    pub valid: Lifetime,
    /// How long it stays preferred for new connections; at most `valid`.
    pub preferred: Lifetime,
}

/// How interface identifiers of link-local and autoconfigured addresses are formed (Linux
/// `addr_gen_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrGenMode {
    /// The modified EUI-64 identifier of the MAC (RFC 4291 appendix A; Linux 0, its default).
    Eui64,
    /// Stable, opaque identifiers (RFC 7217; Linux 2 and 3). RFC 8064 recommends these.
    StablePrivacy,
}

/// Temporary address settings (RFC 8981 §3.8's constants, Linux's sysctls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporaryAddressConfig {
    /// Whether temporary addresses are formed (Linux `use_tempaddr` > 0). Off by default as in
    /// the Linux kernel (distributions often turn it on); RFC 8981 §3.7 leaves the default to
    /// the implementation.
    pub enabled: bool,
    /// TEMP_VALID_LIFETIME. Linux `temp_valid_lft`, 7 days; RFC 8981 §3.8 says 2 days.
    pub valid_lifetime: Duration,
    /// TEMP_PREFERRED_LIFETIME. Linux `temp_prefered_lft` and RFC 8981 §3.8: 1 day.
    pub preferred_lifetime: Duration,
    /// MAX_DESYNC_FACTOR. Linux `max_desync_factor`, 600 s; RFC 8981 §3.8 says
    /// 0.4 × TEMP_PREFERRED_LIFETIME (9.6 hours).
    pub max_desync_factor: Duration,
    /// TEMP_IDGEN_RETRIES (RFC 8981 §3.8; Linux `regen_max_retry`): 3.
    pub idgen_retries: u8,
    /// The constant part of REGEN_ADVANCE (RFC 8981 §3.8's "2 +"; Linux `regen_min_advance`):
    /// 2 s.
    pub regen_min_advance: Duration,
    /// Temporary addresses kept per prefix, deprecated ones included. With the default
    /// lifetimes a new one comes about every day and each lives 7 days: 8.
    pub max_per_prefix: usize,
}

impl Default for TemporaryAddressConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            valid_lifetime: Duration::from_secs(7 * 24 * 60 * 60),
            preferred_lifetime: Duration::from_secs(24 * 60 * 60),
            max_desync_factor: Duration::from_secs(600),
            idgen_retries: 3,
            regen_min_advance: Duration::from_secs(2),
            max_per_prefix: 8,
        }
    }
}

/// Address autoconfiguration settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaacConfig {
    /// How identifiers are formed.
    pub addr_gen_mode: AddrGenMode,
    /// Autoconfigured addresses (from prefixes, temporary ones included) per interface: Linux
    /// `max_addresses`, 16.
    pub max_addresses: usize,
    /// Manually added addresses per interface.
    pub max_manual_addresses: usize,
    /// Temporary addresses.
    pub temporary: TemporaryAddressConfig,
    /// Duplicate address detection.
    pub dad: DadConfig,
}

impl Default for SlaacConfig {
    fn default() -> Self {
        Self {
            addr_gen_mode: AddrGenMode::Eui64,
            max_addresses: 16,
            max_manual_addresses: 64,
            temporary: TemporaryAddressConfig::default(),
            dad: DadConfig::default(),
        }
    }
}

impl SlaacConfig {
    /// REGEN_ADVANCE (RFC 8981 §3.8): 2 + TEMP_IDGEN_RETRIES × DupAddrDetectTransmits ×
    /// RetransTimer, the time a replacement temporary address needs to pass DAD.
    pub fn regen_advance(&self) -> Duration {
        let probes = u32::from(self.temporary.idgen_retries) * u32::from(self.dad.transmits);
        self.temporary.regen_min_advance + self.dad.retrans_timer * probes
    }
}

/// Why a configuration is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlaacConfigError {
    /// TEMP_PREFERRED_LIFETIME exceeds TEMP_VALID_LIFETIME.
    #[error("temporary preferred lifetime {preferred:?} exceeds the valid lifetime {valid:?}")]
    TemporaryPreferredExceedsValid {
        /// TEMP_PREFERRED_LIFETIME.
        preferred: Duration,
        /// TEMP_VALID_LIFETIME.
        valid: Duration,
    },
    /// MAX_DESYNC_FACTOR must stay below TEMP_PREFERRED_LIFETIME − REGEN_ADVANCE (RFC 8981
    /// §3.8), or no temporary address could ever be formed.
    #[error("max desync factor {max_desync:?} is not below {limit:?} (TEMP_PREFERRED_LIFETIME - REGEN_ADVANCE, RFC 8981 §3.8)")]
    DesyncTooLarge {
        /// MAX_DESYNC_FACTOR.
        max_desync: Duration,
        /// TEMP_PREFERRED_LIFETIME − REGEN_ADVANCE.
        limit: Duration,
    },
}

/// Where an address came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// The interface's link-local address (RFC 4862 §5.3).
    LinkLocal,
    /// Formed from an advertised prefix (RFC 4862 §5.5.3; Linux `mngtmpaddr` when temporary
    /// addresses are on).
    Autoconfigured,
    /// A temporary address (RFC 8981).
    Temporary,
    /// Added by the administrator.
    Manual,
}

/// The state of an address (RFC 4862 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressState {
    /// Under DAD: not to be used (RFC 4862 §5.4).
    Tentative,
    /// Usable for anything.
    Preferred,
    /// Preferred lifetime over: existing communication only (RFC 4862 §5.5.4).
    Deprecated,
}

/// Why an address went away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalReason {
    /// Its valid lifetime ran out (RFC 4862 §5.5.4).
    ValidLifetimeExpired,
    /// DAD found a duplicate (RFC 4862 §5.4.5).
    Duplicate,
    /// The administrator removed it.
    Removed,
    /// Its interface went away.
    DeviceRemoved,
}

/// What happened to an address, for the caller's address table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressEvent {
    /// A tentative address was added and DAD started on it.
    Added {
        /// The interface.
        device: DeviceId,
        /// The address and its prefix.
        addr: AddrSubnet<Ipv6Addr>,
        /// Where it came from.
        kind: AddressKind,
    },
    /// The address passed DAD, its preferred lifetime ended or was extended again, or DAD
    /// started over on it ([`Slaac::restart_dad`]).
    StateChanged {
        /// The interface.
        device: DeviceId,
        /// The address.
        addr: Ipv6Addr,
        /// Its new state: [`AddressState::Preferred`] or [`AddressState::Deprecated`], or
        /// [`AddressState::Tentative`] when DAD starts over.
        state: AddressState,
    },
    /// The address is gone.
    Removed {
        /// The interface.
        device: DeviceId,
        /// The address.
        addr: Ipv6Addr,
        /// Why.
        reason: RemovalReason,
    },
    /// The hardware-derived link-local address `addr` is a duplicate, so the hardware address
    /// is too: IPv6 operation on the interface should stop (RFC 4862 §5.4.5). No more
    /// addresses are formed on it.
    Ipv6Disabled {
        /// The interface.
        device: DeviceId,
        /// The duplicate link-local address.
        addr: Ipv6Addr,
    },
}

/// What address configuration needs from the stack around it, on top of [`DadContext`].
pub trait SlaacContext: DadContext {
    /// Reports what happened to an address.
    fn on_address_event(&mut self, event: AddressEvent);
}

/// Which lifetime event a timer stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LifetimeEvent {
    /// The preferred lifetime ends: deprecate.
    Deprecate,
    /// The valid lifetime ends: remove.
    Invalidate,
    /// REGEN_ADVANCE before a temporary address is deprecated: form its successor (RFC 8981
    /// §3.6).
    Regenerate,
}

/// A lifetime timer of one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LifetimeTimerId {
    /// The interface.
    pub device: DeviceId,
    /// The address.
    pub addr: Ipv6Addr,
    /// What happens when it fires.
    pub event: LifetimeEvent,
}

/// The timers of address configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SlaacTimerId {
    /// DAD's probe and completion timers.
    Dad(DadTimerId),
    /// Address lifetime timers.
    Lifetime(LifetimeTimerId),
}

impl From<DadTimerId> for SlaacTimerId {
    fn from(id: DadTimerId) -> Self {
        SlaacTimerId::Dad(id)
    }
}

impl From<LifetimeTimerId> for SlaacTimerId {
    fn from(id: LifetimeTimerId) -> Self {
        SlaacTimerId::Lifetime(id)
    }
}

/// What a Prefix Information option did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixOutcome {
    /// A new prefix: an address was formed from it (RFC 4862 §5.5.3 d).
    Created,
    /// A known prefix: its lifetimes were updated (RFC 4862 §5.5.3 e).
    Refreshed,
}

/// Why a Prefix Information option was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrefixIgnored {
    /// The A flag is clear (RFC 4862 §5.5.3 a).
    #[error("A flag clear: not for autoconfiguration (RFC 4862 §5.5.3 a)")]
    NotAutonomous,
    /// The prefix is link-local (RFC 4862 §5.5.3 b).
    #[error("link-local prefix {prefix} (RFC 4862 §5.5.3 b)")]
    LinkLocalPrefix {
        /// The prefix.
        prefix: Ipv6Addr,
    },
    /// The prefix is multicast (as Linux, which ignores these too).
    #[error("multicast prefix {prefix}")]
    MulticastPrefix {
        /// The prefix.
        prefix: Ipv6Addr,
    },
    /// The preferred lifetime exceeds the valid lifetime (RFC 4862 §5.5.3 c).
    #[error("preferred lifetime {preferred} s exceeds valid lifetime {valid} s (RFC 4862 §5.5.3 c)")]
    PreferredExceedsValid {
        /// The preferred lifetime.
        preferred: u32,
        /// The valid lifetime.
        valid: u32,
    },
    /// Prefix length plus the 64-bit identifier length is not 128 (RFC 4862 §5.5.3 d).
    #[error("prefix length {prefix_length} leaves no room for a 64-bit interface id (RFC 4862 §5.5.3 d)")]
    PrefixLength {
        /// The prefix length.
        prefix_length: u8,
    },
    /// A new prefix with a valid lifetime of 0 (RFC 4862 §5.5.3 d).
    #[error("new prefix with a zero valid lifetime (RFC 4862 §5.5.3 d)")]
    ZeroValidLifetime,
    /// The interface is not known.
    #[error("unknown device {device}")]
    UnknownDevice {
        /// The interface.
        device: DeviceId,
    },
    /// IPv6 is disabled on the interface after a hardware address conflict (RFC 4862 §5.4.5).
    #[error("IPv6 disabled on {device} after a duplicate hardware address")]
    Ipv6Disabled {
        /// The interface.
        device: DeviceId,
    },
    /// The interface already has [`SlaacConfig::max_addresses`] autoconfigured addresses.
    #[error("{device} already has {limit} autoconfigured addresses")]
    TooManyAddresses {
        /// The interface.
        device: DeviceId,
        /// The limit.
        limit: usize,
    },
    /// No interface identifier: EUI-64 mode on an interface without a MAC, a stable identifier
    /// could not be found (RFC 7217 §6), or the address is already on the interface.
    #[error("no usable interface id for {prefix}")]
    NoInterfaceId {
        /// The prefix.
        prefix: Subnet<Ipv6Addr>,
    },
    /// DAD refused the address.
    #[error(transparent)]
    Dad(#[from] DadError),
}

/// Why an administrative request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlaacError {
    /// The interface is not known.
    #[error("unknown device {device}")]
    UnknownDevice {
        /// The interface.
        device: DeviceId,
    },
    /// The interface is already known.
    #[error("device {device} already added")]
    DeviceExists {
        /// The interface.
        device: DeviceId,
    },
    /// IPv6 is disabled on the interface (RFC 4862 §5.4.5).
    #[error("IPv6 disabled on {device} after a duplicate hardware address")]
    Ipv6Disabled {
        /// The interface.
        device: DeviceId,
    },
    /// The address (or, for a link-local request, a link-local address) is already there.
    #[error("{addr} is already on {device}")]
    AlreadyAssigned {
        /// The interface.
        device: DeviceId,
        /// The address.
        addr: Ipv6Addr,
    },
    /// The address is not on the interface.
    #[error("{addr} is not on {device}")]
    NotFound {
        /// The interface.
        device: DeviceId,
        /// The address.
        addr: Ipv6Addr,
    },
    /// Only manually added addresses take administrative lifetimes; advertisements own the
    /// others'.
    #[error("{addr} on {device} was not added manually")]
    NotManual {
        /// The interface.
        device: DeviceId,
        /// The address.
        addr: Ipv6Addr,
    },
    /// The valid lifetime is zero or the preferred lifetime exceeds it.
    #[error("invalid lifetimes {lifetimes:?}: valid must be non-zero and at least preferred")]
    InvalidLifetimes {
        /// The lifetimes given.
        lifetimes: Lifetimes,
    },
    /// The interface already has [`SlaacConfig::max_manual_addresses`] manual addresses.
    #[error("{device} already has {limit} manual addresses")]
    TooManyManualAddresses {
        /// The interface.
        device: DeviceId,
        /// The limit.
        limit: usize,
    },
    /// No link-local identifier: EUI-64 mode without a MAC, or no stable identifier found.
    #[error("no usable link-local interface id on {device}")]
    NoInterfaceId {
        /// The interface.
        device: DeviceId,
    },
    /// DAD refused the address.
    #[error(transparent)]
    Dad(#[from] DadError),
}

/// Events and refusals, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlaacCounters {
    /// Prefix Information options received.
    pub prefix_information_received: u64,
    /// Ignored: A flag clear (RFC 4862 §5.5.3 a).
    pub ignored_not_autonomous: u64,
    /// Ignored: link-local prefix (§5.5.3 b).
    pub ignored_link_local_prefix: u64,
    /// Ignored: multicast prefix.
    pub ignored_multicast_prefix: u64,
    /// Ignored: preferred lifetime above valid (§5.5.3 c).
    pub ignored_preferred_exceeds_valid: u64,
    /// Ignored: prefix length not 64 (§5.5.3 d).
    pub ignored_prefix_length: u64,
    /// Ignored: new prefix with valid lifetime 0 (§5.5.3 d).
    pub ignored_zero_valid_lifetime: u64,
    /// Ignored: unknown interface.
    pub ignored_unknown_device: u64,
    /// Ignored: IPv6 disabled on the interface (§5.4.5).
    pub ignored_ipv6_disabled: u64,
    /// Refused: [`SlaacConfig::max_addresses`] reached.
    pub refused_too_many_addresses: u64,
    /// Ignored: no interface identifier could be formed.
    pub ignored_no_interface_id: u64,
    /// Refused by DAD.
    pub refused_by_dad: u64,
    /// New prefixes autoconfigured.
    pub prefixes_created: u64,
    /// Known prefixes whose lifetimes were updated.
    pub prefixes_refreshed: u64,
    /// Prefixes forgotten (their last address went).
    pub prefixes_removed: u64,
    /// Valid lifetime left unchanged: 2 hours or less remained (§5.5.3 e case 2).
    pub two_hour_rule_kept: u64,
    /// Valid lifetime cut to 2 hours instead of the advertised value (§5.5.3 e case 3).
    pub two_hour_rule_clamped: u64,
    /// Addresses deprecated.
    pub addresses_deprecated: u64,
    /// Addresses removed at the end of their valid lifetime.
    pub addresses_expired: u64,
    /// Addresses removed as duplicates.
    pub duplicates: u64,
    /// Stable addresses formed again with the next DAD_Counter (RFC 7217 §6).
    pub stable_dad_retries: u64,
    /// Addresses given up after a duplicate (EUI-64, or IDGEN_RETRIES exhausted).
    pub duplicates_given_up: u64,
    /// Temporary addresses formed.
    pub temporaries_created: u64,
    /// Temporary addresses formed as successors REGEN_ADVANCE before deprecation (RFC 8981
    /// §3.6).
    pub temporaries_regenerated: u64,
    /// Temporary addresses formed again after a duplicate (RFC 8981 §3.4).
    pub temporary_dad_retries: u64,
    /// Interfaces whose temporary addresses were turned off after TEMP_IDGEN_RETRIES
    /// duplicates (RFC 8981 §3.4).
    pub temporaries_disabled: u64,
    /// Temporary address not formed: turned off on the interface.
    pub temporary_refused_disabled: u64,
    /// Temporary address not formed: [`SlaacConfig::max_addresses`] reached.
    pub temporary_refused_too_many_addresses: u64,
    /// Temporary address not formed: [`TemporaryAddressConfig::max_per_prefix`] reached.
    pub temporary_refused_per_prefix: u64,
    /// Temporary address not formed: its preferred lifetime would not exceed REGEN_ADVANCE
    /// (RFC 8981 §3.4).
    pub temporary_refused_short_lifetime: u64,
    /// Temporary address not formed: no unreserved, unused random identifier drawn.
    pub temporary_refused_no_iid: u64,
    /// Manual addresses refused: [`SlaacConfig::max_manual_addresses`] reached.
    pub manual_refused_too_many: u64,
}

impl SlaacCounters {
    fn count_ignored(&mut self, why: &PrefixIgnored) {
        let counter = match why {
            PrefixIgnored::NotAutonomous => &mut self.ignored_not_autonomous,
            PrefixIgnored::LinkLocalPrefix { .. } => &mut self.ignored_link_local_prefix,
            PrefixIgnored::MulticastPrefix { .. } => &mut self.ignored_multicast_prefix,
            PrefixIgnored::PreferredExceedsValid { .. } => &mut self.ignored_preferred_exceeds_valid,
            PrefixIgnored::PrefixLength { .. } => &mut self.ignored_prefix_length,
            PrefixIgnored::ZeroValidLifetime => &mut self.ignored_zero_valid_lifetime,
            PrefixIgnored::UnknownDevice { .. } => &mut self.ignored_unknown_device,
            PrefixIgnored::Ipv6Disabled { .. } => &mut self.ignored_ipv6_disabled,
            PrefixIgnored::TooManyAddresses { .. } => &mut self.refused_too_many_addresses,
            PrefixIgnored::NoInterfaceId { .. } => &mut self.ignored_no_interface_id,
            PrefixIgnored::Dad(_) => &mut self.refused_by_dad,
        };
        *counter += 1;
    }
}

/// An address as [`Slaac`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressInfo {
    /// The address and its prefix.
    pub addr: AddrSubnet<Ipv6Addr>,
    /// Where it came from.
    pub kind: AddressKind,
    /// Its state.
    pub state: AddressState,
    /// When it will be removed.
    pub valid_until: Expiry,
    /// When it will be (or was) deprecated.
    pub preferred_until: Expiry,
}

/// An autoconfiguration prefix as [`Slaac`] tracks it, with its lifetimes after the two-hour
/// rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixInfo {
    /// The prefix.
    pub prefix: Subnet<Ipv6Addr>,
    /// When its valid lifetime ends.
    pub valid_until: Expiry,
    /// When its preferred lifetime ends.
    pub preferred_until: Expiry,
}

/// Which case of RFC 4862 §5.5.3 e applied to a valid lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TwoHourCase {
    /// 1: more than two hours, or more than remains: taken as advertised.
    Advertised,
    /// 2: two hours or less remain: left unchanged.
    Kept,
    /// 3: reset to two hours.
    Clamped,
}

/// RFC 4862 §5.5.3 e: the new valid lifetime of an autoconfigured address whose current one
/// ends at `current`, on receiving `received`.
fn two_hour_rule(now: Instant, current: Expiry, received: Lifetime) -> (Expiry, TwoHourCase) {
    let advertised = received.deadline(now);
    if received > Lifetime::Finite(MIN_VALID_LIFETIME) || advertised > current {
        (advertised, TwoHourCase::Advertised)
    } else if current.remaining(now) <= Lifetime::Finite(MIN_VALID_LIFETIME) {
        (current, TwoHourCase::Kept)
    } else {
        (Expiry::At(now + MIN_VALID_LIFETIME), TwoHourCase::Clamped)
    }
}

#[derive(Clone, Copy, Debug)]
struct TemporaryState {
    created: Instant,
    desync: Duration,
    /// DAD failures in a row before this address (RFC 8981 §3.4).
    idgen_attempts: u8,
    /// Its successor was formed (RFC 8981 §3.6).
    regenerated: bool,
}

#[derive(Clone, Copy, Debug)]
enum Origin {
    LinkLocal { dad_counter: u8 },
    Autoconfigured,
    Temporary(TemporaryState),
    Manual,
}

impl Origin {
    fn kind(&self) -> AddressKind {
        match self {
            Origin::LinkLocal { .. } => AddressKind::LinkLocal,
            Origin::Autoconfigured => AddressKind::Autoconfigured,
            Origin::Temporary(_) => AddressKind::Temporary,
            Origin::Manual => AddressKind::Manual,
        }
    }

    fn is_from_prefix(&self) -> bool {
        matches!(self, Origin::Autoconfigured | Origin::Temporary(_))
    }
}

#[derive(Clone, Debug)]
struct AddressEntry {
    addr: AddrSubnet<Ipv6Addr>,
    origin: Origin,
    state: AddressState,
    valid: Expiry,
    preferred: Expiry,
}

/// An address about to be added.
#[derive(Clone, Copy, Debug)]
struct NewAddress {
    addr: AddrSubnet<Ipv6Addr>,
    origin: Origin,
    valid: Expiry,
    preferred: Expiry,
    start: DadStart,
}

#[derive(Clone, Copy, Debug)]
struct PrefixEntry {
    valid: Expiry,
    preferred: Expiry,
    /// The DAD_Counter of the prefix's stable address (RFC 7217 §6).
    dad_counter: u8,
}

#[derive(Clone, Debug)]
struct DeviceState {
    mac: Option<Mac>,
    addresses: BTreeMap<Ipv6Addr, AddressEntry>,
    prefixes: BTreeMap<Subnet<Ipv6Addr>, PrefixEntry>,
    /// RFC 8981 §3.4: TEMP_IDGEN_RETRIES duplicates in a row turn temporary addresses off.
    temporaries_disabled: bool,
    /// RFC 4862 §5.4.5: the hardware address is a duplicate.
    ipv6_disabled: bool,
    /// Whether addresses on the interface go through DAD (see [`Slaac::set_dad`]).
    dad: bool,
}

impl DeviceState {
    fn count(&self, pred: impl Fn(&AddressEntry) -> bool) -> usize {
        self.addresses.values().filter(|e| pred(e)).count()
    }

    fn autoconfigured(&self) -> usize {
        self.count(|e| e.origin.is_from_prefix())
    }

    fn temporaries_of(&self, prefix: Subnet<Ipv6Addr>) -> impl Iterator<Item = &AddressEntry> {
        self.addresses
            .values()
            .filter(move |e| matches!(e.origin, Origin::Temporary(_)) && e.addr.subnet() == prefix)
    }
}

/// The input RFC 7217 calls Net_Iface: the MAC, or the interface index without one.
fn net_iface(device: DeviceId, mac: Option<Mac>) -> [u8; 6] {
    match mac {
        Some(mac) => mac.bytes(),
        None => {
            let [a, b, c, d] = device.get().to_be_bytes();
            [0, 0, a, b, c, d]
        }
    }
}

/// IPv6 address configuration of every interface: link-local, autoconfigured, temporary and
/// manual addresses, their lifetimes and their DAD.
#[derive(Clone, Debug)]
pub struct Slaac {
    config: SlaacConfig,
    dad: Dad,
    stable_iids: StableIidGenerator,
    devices: BTreeMap<DeviceId, DeviceState>,
    counters: SlaacCounters,
}

impl Slaac {
    /// Address configuration with `config`; `secret` keys stable identifiers (RFC 7217 §5's
    /// secret_key) and should persist across restarts.
    pub fn new(config: SlaacConfig, secret: SipKey) -> Result<Self, SlaacConfigError> {
        let temporary = &config.temporary;
        if temporary.preferred_lifetime > temporary.valid_lifetime {
            return Err(SlaacConfigError::TemporaryPreferredExceedsValid {
                preferred: temporary.preferred_lifetime,
                valid: temporary.valid_lifetime,
            });
        }
        let limit = temporary.preferred_lifetime.saturating_sub(config.regen_advance());
        if temporary.max_desync_factor >= limit {
            return Err(SlaacConfigError::DesyncTooLarge { max_desync: temporary.max_desync_factor, limit });
        }
        // Every address of an interface runs DAD: autoconfigured, manual and the link-local.
        let dad_limit = config.max_addresses + config.max_manual_addresses + 1;
        Ok(Self {
            dad: Dad::new(config.dad.clone(), dad_limit),
            config,
            stable_iids: StableIidGenerator::new(secret),
            devices: BTreeMap::new(),
            counters: SlaacCounters::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SlaacConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &SlaacCounters {
        &self.counters
    }

    /// The DAD state machine of the addresses (for its state and counters).
    pub fn dad(&self) -> &Dad {
        &self.dad
    }

    /// Starts configuring `device`, whose MAC (if it has one) seeds EUI-64 and stable
    /// identifiers.
    pub fn add_device(&mut self, device: DeviceId, mac: Option<Mac>) -> Result<(), SlaacError> {
        if self.devices.contains_key(&device) {
            return Err(SlaacError::DeviceExists { device });
        }
        self.devices.insert(
            device,
            DeviceState {
                mac,
                addresses: BTreeMap::new(),
                prefixes: BTreeMap::new(),
                temporaries_disabled: false,
                ipv6_disabled: false,
                dad: true,
            },
        );
        Ok(())
    }

    /// Turns DAD on or off for the addresses `device` gets from now on (on by default). An
    /// interface with no neighbours to ask, loopback or a point-to-point TUN, does without
    /// it, as Linux skips DAD on loopback and `IFF_NOARP` devices.
    pub fn set_dad(&mut self, device: DeviceId, on: bool) -> Result<(), SlaacError> {
        self.devices.get_mut(&device).ok_or(SlaacError::UnknownDevice { device })?.dad = on;
        Ok(())
    }

    /// Forgets `device`, removing its addresses ([`RemovalReason::DeviceRemoved`]).
    pub fn remove_device<C>(&mut self, ctx: &mut C, device: DeviceId) -> Result<(), SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let addrs: Vec<Ipv6Addr> = self.device(device)?.addresses.keys().copied().collect();
        for addr in addrs {
            self.remove(ctx, device, addr, RemovalReason::DeviceRemoved);
        }
        self.devices.remove(&device);
        Ok(())
    }

    /// Runs DAD again on every address of `device`, as when an interface comes back up
    /// (RFC 4862 §5.4: DAD is performed whenever an interface is (re)initialized; Linux
    /// re-probes on link up). Each address goes back to tentative (reported as
    /// [`AddressEvent::StateChanged`]) and is assigned again once DAD passes; the first probe
    /// is delayed as after an interface comes up (§5.4.2). Lifetimes are untouched.
    pub fn restart_dad<C>(&mut self, ctx: &mut C, device: DeviceId) -> Result<(), SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let dev = self.device(device)?;
        let skip = !dev.dad;
        let addrs: Vec<(AddrSubnet<Ipv6Addr>, bool)> =
            dev.addresses.values().map(|e| (e.addr, matches!(e.origin, Origin::LinkLocal { .. }))).collect();
        let hardware_iid = self.config.addr_gen_mode == AddrGenMode::Eui64;
        for (addr, link_local) in addrs {
            let key = addr.addr().get();
            self.dad.remove(ctx, device, key);
            let start = DadStart { delay_first: true, hardware_link_local: link_local && hardware_iid, skip };
            let dad_state = match self.dad.start(ctx, device, addr.addr(), start) {
                Ok(state) => state,
                Err(_) => {
                    // DAD cannot track it (its per-device bound): the address cannot be
                    // verified, so it goes.
                    self.remove(ctx, device, key, RemovalReason::Removed);
                    continue;
                }
            };
            let Some(entry) = self.devices.get_mut(&device).and_then(|d| d.addresses.get_mut(&key)) else {
                continue;
            };
            if entry.state != AddressState::Tentative {
                entry.state = AddressState::Tentative;
                ctx.on_address_event(AddressEvent::StateChanged {
                    device,
                    addr: key,
                    state: AddressState::Tentative,
                });
            }
            if dad_state == DadState::Assigned {
                self.assigned(ctx, device, key);
            }
        }
        Ok(())
    }

    /// The addresses of `device`.
    pub fn addresses(&self, device: DeviceId) -> impl Iterator<Item = AddressInfo> + '_ {
        self.devices.get(&device).into_iter().flat_map(|d| d.addresses.values().map(Self::info))
    }

    /// One address of `device`.
    pub fn address(&self, device: DeviceId, addr: Ipv6Addr) -> Option<AddressInfo> {
        self.devices.get(&device)?.addresses.get(&addr).map(Self::info)
    }

    /// The autoconfiguration prefixes tracked on `device`.
    pub fn prefixes(&self, device: DeviceId) -> impl Iterator<Item = PrefixInfo> + '_ {
        self.devices.get(&device).into_iter().flat_map(|d| {
            d.prefixes.iter().map(|(prefix, p)| PrefixInfo {
                prefix: *prefix,
                valid_until: p.valid,
                preferred_until: p.preferred,
            })
        })
    }

    fn info(entry: &AddressEntry) -> AddressInfo {
        AddressInfo {
            addr: entry.addr,
            kind: entry.origin.kind(),
            state: entry.state,
            valid_until: entry.valid,
            preferred_until: entry.preferred,
        }
    }

    fn device(&self, device: DeviceId) -> Result<&DeviceState, SlaacError> {
        self.devices.get(&device).ok_or(SlaacError::UnknownDevice { device })
    }

    /// Forms the link-local address of `device` (RFC 4862 §5.3) with infinite lifetimes and
    /// starts DAD on it, the first probe delayed as after an interface comes up (§5.4.2).
    pub fn add_link_local<C>(&mut self, ctx: &mut C, device: DeviceId) -> Result<Ipv6Addr, SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let dev = self.device(device)?;
        if dev.ipv6_disabled {
            return Err(SlaacError::Ipv6Disabled { device });
        }
        if let Some(existing) = dev.addresses.values().find(|e| matches!(e.origin, Origin::LinkLocal { .. }))
        {
            return Err(SlaacError::AlreadyAssigned { device, addr: existing.addr.addr().get() });
        }
        self.form_link_local(ctx, device, 0)
    }

    fn form_link_local<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        dad_counter: u8,
    ) -> Result<Ipv6Addr, SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let (addr, dad_counter) = self
            .stable_address(device, LINK_LOCAL_PREFIX, dad_counter)
            .ok_or(SlaacError::NoInterfaceId { device })?;
        let subnet_addr =
            AddrSubnet::new(addr, STABLE_PREFIX_LEN).map_err(|_| SlaacError::NoInterfaceId { device })?;
        let start = DadStart {
            skip: false,
            delay_first: true,
            hardware_link_local: self.config.addr_gen_mode == AddrGenMode::Eui64,
        };
        let origin = Origin::LinkLocal { dad_counter };
        self.insert(
            ctx,
            device,
            NewAddress { addr: subnet_addr, origin, valid: Expiry::Never, preferred: Expiry::Never, start },
        )?;
        Ok(addr)
    }

    /// The address for `prefix` from the configured identifier (EUI-64 or RFC 7217, starting
    /// at `dad_counter`), with the DAD_Counter used; `None` if there is none to be had.
    fn stable_address(
        &self,
        device: DeviceId,
        prefix: Subnet<Ipv6Addr>,
        dad_counter: u8,
    ) -> Option<(Ipv6Addr, u8)> {
        let dev = self.devices.get(&device)?;
        match self.config.addr_gen_mode {
            AddrGenMode::Eui64 => {
                let addr = address_with_iid(&prefix, dev.mac?.to_eui64());
                (!dev.addresses.contains_key(&addr)).then_some((addr, 0))
            }
            AddrGenMode::StablePrivacy => {
                let iface = net_iface(device, dev.mac);
                let iid = self
                    .stable_iids
                    .generate(&prefix, &iface, &[], dad_counter, |a| dev.addresses.contains_key(&a))
                    .ok()?;
                Some((address_with_iid(&prefix, iid.iid), iid.dad_counter))
            }
        }
    }

    /// Processes a Prefix Information option of a Router Advertisement received on `device`
    /// (RFC 4862 §5.5.3).
    pub fn handle_prefix_information<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        pio: &PrefixInformation,
    ) -> Result<PrefixOutcome, PrefixIgnored>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        self.counters.prefix_information_received += 1;
        let outcome = self.process_prefix_information(ctx, device, pio);
        if let Err(why) = &outcome {
            self.counters.count_ignored(why);
        }
        outcome
    }

    fn process_prefix_information<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        pio: &PrefixInformation,
    ) -> Result<PrefixOutcome, PrefixIgnored>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        // §5.5.3 a: autonomous flag.
        if !pio.autonomous {
            return Err(PrefixIgnored::NotAutonomous);
        }
        // §5.5.3 b: the link-local prefix.
        if pio.prefix.is_unicast_link_local() {
            return Err(PrefixIgnored::LinkLocalPrefix { prefix: pio.prefix });
        }
        if pio.prefix.is_multicast() {
            return Err(PrefixIgnored::MulticastPrefix { prefix: pio.prefix });
        }
        // §5.5.3 c: preferred lifetime above valid.
        if pio.preferred_lifetime > pio.valid_lifetime {
            return Err(PrefixIgnored::PreferredExceedsValid {
                preferred: pio.preferred_lifetime,
                valid: pio.valid_lifetime,
            });
        }
        // §5.5.3 d: prefix length + interface identifier length (64, RFC 4291 §2.5.1) = 128.
        let prefix_length = pio.prefix_length;
        let prefix = match Subnet::from_host(pio.prefix, prefix_length) {
            Ok(prefix) if prefix_length == STABLE_PREFIX_LEN => prefix,
            _ => return Err(PrefixIgnored::PrefixLength { prefix_length }),
        };
        let dev = self.devices.get(&device).ok_or(PrefixIgnored::UnknownDevice { device })?;
        if dev.ipv6_disabled {
            return Err(PrefixIgnored::Ipv6Disabled { device });
        }
        let valid = Lifetime::from_ndp_secs(pio.valid_lifetime);
        let preferred = Lifetime::from_ndp_secs(pio.preferred_lifetime);
        if dev.prefixes.contains_key(&prefix) {
            // §5.5.3 e: a prefix we already formed addresses from.
            self.refresh_prefix(ctx, device, prefix, valid, preferred);
            self.counters.prefixes_refreshed += 1;
            return Ok(PrefixOutcome::Refreshed);
        }
        // §5.5.3 d: a new prefix is used only with a non-zero valid lifetime.
        if pio.valid_lifetime == 0 {
            return Err(PrefixIgnored::ZeroValidLifetime);
        }
        if dev.autoconfigured() >= self.config.max_addresses {
            return Err(PrefixIgnored::TooManyAddresses { device, limit: self.config.max_addresses });
        }
        let (addr, dad_counter) =
            self.stable_address(device, prefix, 0).ok_or(PrefixIgnored::NoInterfaceId { prefix })?;
        let subnet_addr =
            AddrSubnet::new(addr, STABLE_PREFIX_LEN).map_err(|_| PrefixIgnored::NoInterfaceId { prefix })?;
        let now = ctx.now();
        let entry =
            PrefixEntry { valid: valid.deadline(now), preferred: preferred.deadline(now), dad_counter };
        let new = NewAddress {
            addr: subnet_addr,
            origin: Origin::Autoconfigured,
            valid: entry.valid,
            preferred: entry.preferred,
            start: DadStart::default(),
        };
        if let Some(dev) = self.devices.get_mut(&device) {
            dev.prefixes.insert(prefix, entry);
        }
        if let Err(e) = self.insert(ctx, device, new) {
            if let Some(dev) = self.devices.get_mut(&device) {
                dev.prefixes.remove(&prefix);
            }
            return Err(match e {
                SlaacError::Dad(e) => PrefixIgnored::Dad(e),
                _ => PrefixIgnored::UnknownDevice { device },
            });
        }
        self.counters.prefixes_created += 1;
        // RFC 8981 §3.4: a new public address comes with a new temporary one.
        if self.config.temporary.enabled {
            self.create_temporary(ctx, device, prefix, 0);
        }
        Ok(PrefixOutcome::Created)
    }

    /// RFC 4862 §5.5.3 e for a known prefix, and RFC 8981 §3.4 for its temporary addresses.
    fn refresh_prefix<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        prefix: Subnet<Ipv6Addr>,
        valid: Lifetime,
        preferred: Lifetime,
    ) where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let now = ctx.now();
        let temporary = self.config.temporary.clone();
        let Some(dev) = self.devices.get_mut(&device) else { return };
        let Some(entry) = dev.prefixes.get_mut(&prefix) else { return };
        let (new_valid, case) = two_hour_rule(now, entry.valid, valid);
        // §5.5.3 e: the preferred lifetime is reset to the advertised one (kept within the
        // valid lifetime).
        let new_preferred = min(preferred.deadline(now), new_valid);
        entry.valid = new_valid;
        entry.preferred = new_preferred;
        let mut updated = Vec::new();
        for (addr, e) in
            dev.addresses.iter_mut().filter(|(_, e)| e.origin.is_from_prefix() && e.addr.subnet() == prefix)
        {
            match e.origin {
                Origin::Temporary(t) => {
                    // RFC 8981 §3.4: the advertised lifetimes, but never past those the
                    // temporary address was created with.
                    e.valid = min(new_valid, Expiry::At(t.created + temporary.valid_lifetime));
                    let cap = t.created + temporary.preferred_lifetime.saturating_sub(t.desync);
                    e.preferred = min(min(new_preferred, Expiry::At(cap)), e.valid);
                }
                _ => {
                    e.valid = new_valid;
                    e.preferred = new_preferred;
                }
            }
            updated.push(*addr);
        }
        match case {
            TwoHourCase::Advertised => {}
            TwoHourCase::Kept => self.counters.two_hour_rule_kept += 1,
            TwoHourCase::Clamped => self.counters.two_hour_rule_clamped += 1,
        }
        for addr in updated {
            self.apply_lifetimes(ctx, device, addr);
        }
        // RFC 8981 §3.4: a prefix without a usable temporary address gets one.
        let needs_temporary = self.devices.get(&device).is_some_and(|d| {
            d.prefixes.contains_key(&prefix)
                && !d.temporaries_of(prefix).any(|e| e.state != AddressState::Deprecated)
        });
        if temporary.enabled && needs_temporary {
            self.create_temporary(ctx, device, prefix, 0);
        }
    }

    /// Forms a temporary address for `prefix` (RFC 8981 §3.4) after `idgen_attempts` DAD
    /// failures in a row; returns whether it did. Refusals are counted.
    fn create_temporary<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        prefix: Subnet<Ipv6Addr>,
        idgen_attempts: u8,
    ) -> bool
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let now = ctx.now();
        let regen_advance = self.config.regen_advance();
        let temporary = self.config.temporary.clone();
        let max_addresses = self.config.max_addresses;
        let Some(dev) = self.devices.get(&device) else { return false };
        let Some(public) = dev.prefixes.get(&prefix).copied() else { return false };
        if dev.temporaries_disabled {
            self.counters.temporary_refused_disabled += 1;
            return false;
        }
        if dev.autoconfigured() >= max_addresses {
            self.counters.temporary_refused_too_many_addresses += 1;
            return false;
        }
        if dev.temporaries_of(prefix).count() >= temporary.max_per_prefix {
            self.counters.temporary_refused_per_prefix += 1;
            return false;
        }
        // RFC 8981 §3.8: DESYNC_FACTOR is drawn for every temporary address.
        let desync = ctx.random_duration(Duration::ZERO..temporary.max_desync_factor);
        // RFC 8981 §3.4: lifetimes capped at TEMP_VALID_LIFETIME and TEMP_PREFERRED_LIFETIME −
        // DESYNC_FACTOR.
        let valid = min(public.valid, Expiry::At(now + temporary.valid_lifetime));
        let preferred_cap = Expiry::At(now + temporary.preferred_lifetime.saturating_sub(desync));
        let preferred = min(min(public.preferred, preferred_cap), valid);
        // RFC 8981 §3.4: only if the preferred lifetime exceeds REGEN_ADVANCE.
        if preferred.remaining(now) <= Lifetime::Finite(regen_advance) {
            self.counters.temporary_refused_short_lifetime += 1;
            return false;
        }
        // RFC 8981 §3.3.1: random identifiers, neither reserved (RFC 5453) nor used on the
        // interface with the same prefix.
        let mut chosen = None;
        for _ in 0..RANDOM_IID_ATTEMPTS {
            let iid = ctx.random_u64().to_be_bytes();
            let addr = address_with_iid(&prefix, iid);
            if !is_reserved_iid(iid) && !dev.addresses.contains_key(&addr) {
                chosen = AddrSubnet::new(addr, STABLE_PREFIX_LEN).ok();
                break;
            }
        }
        let Some(addr) = chosen else {
            self.counters.temporary_refused_no_iid += 1;
            return false;
        };
        let origin =
            Origin::Temporary(TemporaryState { created: now, desync, idgen_attempts, regenerated: false });
        let new = NewAddress { addr, origin, valid, preferred, start: DadStart::default() };
        match self.insert(ctx, device, new) {
            Ok(()) => {
                self.counters.temporaries_created += 1;
                true
            }
            Err(_) => {
                self.counters.refused_by_dad += 1;
                false
            }
        }
    }

    /// Adds an address with its lifetimes (the admin path) and starts DAD on it.
    pub fn add_address<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: AddrSubnet<Ipv6Addr>,
        lifetimes: Lifetimes,
    ) -> Result<(), SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        check_lifetimes(lifetimes)?;
        let dev = self.device(device)?;
        if dev.ipv6_disabled {
            return Err(SlaacError::Ipv6Disabled { device });
        }
        if dev.addresses.contains_key(&addr.addr().get()) {
            return Err(SlaacError::AlreadyAssigned { device, addr: addr.addr().get() });
        }
        let limit = self.config.max_manual_addresses;
        if dev.count(|e| matches!(e.origin, Origin::Manual)) >= limit {
            self.counters.manual_refused_too_many += 1;
            return Err(SlaacError::TooManyManualAddresses { device, limit });
        }
        let now = ctx.now();
        let (valid, preferred) = (lifetimes.valid.deadline(now), lifetimes.preferred.deadline(now));
        self.insert(
            ctx,
            device,
            NewAddress {
                addr,
                origin: Origin::Manual,
                valid,
                preferred,
                start: DadStart { skip: !dev.dad, ..DadStart::default() },
            },
        )
    }

    /// Sets new lifetimes on a manually added address, from now.
    pub fn set_lifetimes<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv6Addr,
        lifetimes: Lifetimes,
    ) -> Result<(), SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        check_lifetimes(lifetimes)?;
        let now = ctx.now();
        let dev = self.devices.get_mut(&device).ok_or(SlaacError::UnknownDevice { device })?;
        let entry = dev.addresses.get_mut(&addr).ok_or(SlaacError::NotFound { device, addr })?;
        if !matches!(entry.origin, Origin::Manual) {
            return Err(SlaacError::NotManual { device, addr });
        }
        entry.valid = lifetimes.valid.deadline(now);
        entry.preferred = lifetimes.preferred.deadline(now);
        self.apply_lifetimes(ctx, device, addr);
        Ok(())
    }

    /// Removes an address of any kind (the admin path). An autoconfigured address comes back
    /// with the next advertisement of its prefix once the prefix has no address left, as on
    /// Linux.
    pub fn remove_address<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv6Addr,
    ) -> Result<(), SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        self.remove(ctx, device, addr, RemovalReason::Removed)
            .map(|_| ())
            .ok_or(SlaacError::NotFound { device, addr })
    }

    /// Handles a Neighbor Solicitation for `target` (see [`Dad::handle_neighbor_solicitation`]);
    /// a duplicate is removed, and formed again with a new identifier where the rules allow.
    pub fn handle_neighbor_solicitation<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        source: Ipv6Addr,
        target: Ipv6Addr,
        nonce: Option<&[u8]>,
    ) -> NsDisposition
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let disposition = self.dad.handle_neighbor_solicitation(ctx, device, source, target, nonce);
        if let NsDisposition::Duplicate(duplicate) = disposition {
            self.handle_duplicate(ctx, duplicate);
        }
        disposition
    }

    /// Handles a Neighbor Advertisement for `target` (see
    /// [`Dad::handle_neighbor_advertisement`]); a duplicate is handled as for solicitations
    /// and returned.
    pub fn handle_neighbor_advertisement<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        target: Ipv6Addr,
    ) -> Option<DuplicateAddress>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let duplicate = self.dad.handle_neighbor_advertisement(ctx, device, target)?;
        self.handle_duplicate(ctx, duplicate);
        Some(duplicate)
    }

    /// Handles a timer of address configuration.
    pub fn handle_timer<C>(&mut self, ctx: &mut C, id: SlaacTimerId)
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        match id {
            SlaacTimerId::Dad(id) => {
                if self.dad.handle_timer(ctx, id) == Some(DadState::Assigned) {
                    self.assigned(ctx, id.device, id.addr);
                }
            }
            SlaacTimerId::Lifetime(LifetimeTimerId { device, addr, event }) => match event {
                LifetimeEvent::Deprecate | LifetimeEvent::Invalidate => {
                    self.apply_lifetimes(ctx, device, addr)
                }
                LifetimeEvent::Regenerate => self.regenerate(ctx, device, addr),
            },
        }
    }

    /// Adds an address in state tentative, starts DAD on it and its lifetime timers. DAD may
    /// send its first probe before the address is reported added.
    fn insert<C>(&mut self, ctx: &mut C, device: DeviceId, new: NewAddress) -> Result<(), SlaacError>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let NewAddress { addr, origin, valid, preferred, start } = new;
        let Some(dev) = self.devices.get_mut(&device) else {
            return Err(SlaacError::UnknownDevice { device });
        };
        let key = addr.addr().get();
        let entry = AddressEntry { addr, origin, state: AddressState::Tentative, valid, preferred };
        let dad_state = self.dad.start(ctx, device, addr.addr(), start)?;
        dev.addresses.insert(key, entry);
        ctx.on_address_event(AddressEvent::Added { device, addr, kind: origin.kind() });
        self.apply_lifetimes(ctx, device, key);
        if dad_state == DadState::Assigned {
            self.assigned(ctx, device, key);
        }
        Ok(())
    }

    /// DAD passed: the address becomes preferred, or deprecated if its preferred lifetime
    /// already ended.
    fn assigned<C>(&mut self, ctx: &mut C, device: DeviceId, addr: Ipv6Addr)
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let now = ctx.now();
        let Some(entry) = self.devices.get_mut(&device).and_then(|d| d.addresses.get_mut(&addr)) else {
            return;
        };
        if entry.state != AddressState::Tentative {
            return;
        }
        entry.state = if entry.preferred.is_past(now) {
            self.counters.addresses_deprecated += 1;
            AddressState::Deprecated
        } else {
            AddressState::Preferred
        };
        ctx.on_address_event(AddressEvent::StateChanged { device, addr, state: entry.state });
        self.sync_timers(ctx, device, addr);
    }

    /// Brings an address in line with its lifetimes at `now` (RFC 4862 §5.5.4): removed if its
    /// valid lifetime is over, deprecated if its preferred lifetime is, preferred again if a
    /// new advertisement extended it; then its timers follow.
    fn apply_lifetimes<C>(&mut self, ctx: &mut C, device: DeviceId, addr: Ipv6Addr)
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let now = ctx.now();
        let Some(entry) = self.devices.get_mut(&device).and_then(|d| d.addresses.get_mut(&addr)) else {
            return;
        };
        if entry.valid.is_past(now) {
            self.counters.addresses_expired += 1;
            self.remove(ctx, device, addr, RemovalReason::ValidLifetimeExpired);
            return;
        }
        let state = match (entry.state, entry.preferred.is_past(now)) {
            (AddressState::Preferred, true) => Some(AddressState::Deprecated),
            (AddressState::Deprecated, false) => Some(AddressState::Preferred),
            _ => None,
        };
        if let Some(state) = state {
            entry.state = state;
            if state == AddressState::Deprecated {
                self.counters.addresses_deprecated += 1;
            }
            ctx.on_address_event(AddressEvent::StateChanged { device, addr, state });
        }
        self.sync_timers(ctx, device, addr);
    }

    /// Schedules (or cancels) the lifetime timers of an address to match its lifetimes.
    fn sync_timers<C>(&mut self, ctx: &mut C, device: DeviceId, addr: Ipv6Addr)
    where
        C: TimerContext<SlaacTimerId>,
    {
        let regen_advance = self.config.regen_advance();
        let Some(entry) = self.devices.get(&device).and_then(|d| d.addresses.get(&addr)) else { return };
        let id = |event| SlaacTimerId::Lifetime(LifetimeTimerId { device, addr, event });
        let set = |ctx: &mut C, event, at: Option<Instant>| match at {
            Some(at) => {
                ctx.schedule_timer(id(event), at);
            }
            None => {
                ctx.cancel_timer(&id(event));
            }
        };
        let valid_at = match entry.valid {
            Expiry::At(t) => Some(t),
            Expiry::Never => None,
        };
        set(ctx, LifetimeEvent::Invalidate, valid_at);
        // A tentative address is not deprecated by a timer: DAD's end decides its state.
        let preferred_at = match (entry.state, entry.preferred) {
            (AddressState::Preferred, Expiry::At(t)) => Some(t),
            _ => None,
        };
        set(ctx, LifetimeEvent::Deprecate, preferred_at);
        // RFC 8981 §3.6: the successor is formed REGEN_ADVANCE before deprecation.
        let now = ctx.now();
        let regen_at = match (entry.origin, entry.state, entry.preferred) {
            (Origin::Temporary(t), AddressState::Tentative | AddressState::Preferred, Expiry::At(p))
                if !t.regenerated =>
            {
                Some(Instant::from_nanos(p.as_nanos().saturating_sub(duration_nanos(regen_advance))).max(now))
            }
            _ => None,
        };
        set(ctx, LifetimeEvent::Regenerate, regen_at);
    }

    /// RFC 8981 §3.6: REGEN_ADVANCE before temporary address `addr` is deprecated, form its
    /// successor.
    fn regenerate<C>(&mut self, ctx: &mut C, device: DeviceId, addr: Ipv6Addr)
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let Some(entry) = self.devices.get_mut(&device).and_then(|d| d.addresses.get_mut(&addr)) else {
            return;
        };
        let Origin::Temporary(t) = &mut entry.origin else { return };
        if t.regenerated || entry.state == AddressState::Deprecated {
            return;
        }
        t.regenerated = true;
        let prefix = entry.addr.subnet();
        if self.create_temporary(ctx, device, prefix, 0) {
            self.counters.temporaries_regenerated += 1;
        }
    }

    /// Removes an address: cancels its timers, stops its DAD (leaving its solicited-node
    /// group), reports it, and forgets its prefix if that was the prefix's last address.
    fn remove<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv6Addr,
        reason: RemovalReason,
    ) -> Option<AddressEntry>
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let entry = self.devices.get_mut(&device)?.addresses.remove(&addr)?;
        for event in [LifetimeEvent::Deprecate, LifetimeEvent::Invalidate, LifetimeEvent::Regenerate] {
            ctx.cancel_timer(&SlaacTimerId::Lifetime(LifetimeTimerId { device, addr, event }));
        }
        self.dad.remove(ctx, device, addr);
        ctx.on_address_event(AddressEvent::Removed { device, addr, reason });
        if entry.origin.is_from_prefix() && reason != RemovalReason::Duplicate {
            self.forget_prefix_if_unused(device, entry.addr.subnet());
        }
        Some(entry)
    }

    fn forget_prefix_if_unused(&mut self, device: DeviceId, prefix: Subnet<Ipv6Addr>) {
        let Some(dev) = self.devices.get_mut(&device) else { return };
        let used = dev.addresses.values().any(|e| e.origin.is_from_prefix() && e.addr.subnet() == prefix);
        if !used && dev.prefixes.remove(&prefix).is_some() {
            self.counters.prefixes_removed += 1;
        }
    }

    /// DAD found `duplicate`: remove it (RFC 4862 §5.4.5) and, where the rules allow, form a
    /// replacement with another identifier.
    fn handle_duplicate<C>(&mut self, ctx: &mut C, duplicate: DuplicateAddress)
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let DuplicateAddress { device, addr, disable_ipv6 } = duplicate;
        let Some(entry) = self.remove(ctx, device, addr, RemovalReason::Duplicate) else { return };
        self.counters.duplicates += 1;
        if disable_ipv6 {
            // RFC 4862 §5.4.5: the hardware address is duplicated on the link.
            if let Some(dev) = self.devices.get_mut(&device) {
                dev.ipv6_disabled = true;
            }
            ctx.on_address_event(AddressEvent::Ipv6Disabled { device, addr });
            return;
        }
        let prefix = entry.addr.subnet();
        let stable = self.config.addr_gen_mode == AddrGenMode::StablePrivacy;
        match entry.origin {
            Origin::Autoconfigured => {
                let counter =
                    self.devices.get(&device).and_then(|d| d.prefixes.get(&prefix)).map(|p| p.dad_counter);
                match counter {
                    // RFC 7217 §6: the next DAD_Counter gives another identifier.
                    Some(counter) if stable && counter < IDGEN_RETRIES => {
                        self.retry_stable(ctx, device, prefix, counter + 1)
                    }
                    _ => self.counters.duplicates_given_up += 1,
                }
            }
            Origin::Temporary(t) => {
                if t.idgen_attempts < self.config.temporary.idgen_retries {
                    // RFC 8981 §3.4: a new random identifier, up to TEMP_IDGEN_RETRIES times.
                    self.counters.temporary_dad_retries += 1;
                    self.create_temporary(ctx, device, prefix, t.idgen_attempts + 1);
                } else {
                    // RFC 8981 §3.4: then stop forming temporary addresses on the interface.
                    if let Some(dev) = self.devices.get_mut(&device) {
                        dev.temporaries_disabled = true;
                    }
                    self.counters.temporaries_disabled += 1;
                }
            }
            Origin::LinkLocal { dad_counter } if stable && dad_counter < IDGEN_RETRIES => {
                self.counters.stable_dad_retries += 1;
                if self.form_link_local(ctx, device, dad_counter + 1).is_err() {
                    self.counters.duplicates_given_up += 1;
                }
            }
            Origin::LinkLocal { .. } | Origin::Manual => self.counters.duplicates_given_up += 1,
        }
        if entry.origin.is_from_prefix() {
            self.forget_prefix_if_unused(device, prefix);
        }
    }

    /// RFC 7217 §6: forms the stable address of `prefix` again from `dad_counter`, with what
    /// remains of the prefix's lifetimes.
    fn retry_stable<C>(&mut self, ctx: &mut C, device: DeviceId, prefix: Subnet<Ipv6Addr>, dad_counter: u8)
    where
        C: TimerContext<SlaacTimerId> + RngContext + SlaacContext,
    {
        let formed = self
            .stable_address(device, prefix, dad_counter)
            .and_then(|(addr, counter)| Some((AddrSubnet::new(addr, STABLE_PREFIX_LEN).ok()?, counter)));
        let Some(public) = self.devices.get(&device).and_then(|d| d.prefixes.get(&prefix)).copied() else {
            return;
        };
        let Some((addr, counter)) = formed else {
            self.counters.duplicates_given_up += 1;
            return;
        };
        if let Some(p) = self.devices.get_mut(&device).and_then(|d| d.prefixes.get_mut(&prefix)) {
            p.dad_counter = counter;
        }
        let new = NewAddress {
            addr,
            origin: Origin::Autoconfigured,
            valid: public.valid,
            preferred: public.preferred,
            start: DadStart::default(),
        };
        match self.insert(ctx, device, new) {
            Ok(()) => self.counters.stable_dad_retries += 1,
            Err(_) => self.counters.refused_by_dad += 1,
        }
    }
}

fn check_lifetimes(lifetimes: Lifetimes) -> Result<(), SlaacError> {
    if lifetimes.valid == Lifetime::Finite(Duration::ZERO) || lifetimes.preferred > lifetimes.valid {
        return Err(SlaacError::InvalidLifetimes { lifetimes });
    }
    Ok(())
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{MulticastAddr, UnicastAddr};
    use crate::context::InstantContext;
    use crate::ip::dad::DadNonce;
    use crate::testutil::fake::FakeCtx;
    use alloc::vec;
    use proptest::prelude::*;

    /// What the fake host saw SLAAC and DAD do.
    #[derive(Default)]
    struct Recorded {
        events: Vec<(Instant, AddressEvent)>,
        probes: Vec<(Instant, Ipv6Addr, Option<DadNonce>)>,
        groups: BTreeMap<Ipv6Addr, usize>,
    }

    type Ctx = FakeCtx<SlaacTimerId, Recorded>;

    fn new_ctx(seed: u64) -> Ctx {
        FakeCtx::with_state(seed, Recorded::default())
    }

    fn take_events(ctx: &mut Ctx) -> Vec<AddressEvent> {
        ctx.state.events.drain(..).map(|(_, e)| e).collect()
    }

    impl DadContext for Ctx {
        fn send_dad_solicitation(
            &mut self,
            _: DeviceId,
            target: crate::addr::UnicastAddr<Ipv6Addr>,
            nonce: Option<DadNonce>,
        ) {
            let now = self.now();
            self.state.probes.push((now, target.get(), nonce));
        }

        fn join_solicited_node_group(&mut self, _: DeviceId, group: MulticastAddr<Ipv6Addr>) {
            *self.state.groups.entry(group.get()).or_default() += 1;
        }

        fn leave_solicited_node_group(&mut self, _: DeviceId, group: MulticastAddr<Ipv6Addr>) {
            let count = self.state.groups.entry(group.get()).or_default();
            *count = count.checked_sub(1).expect("left a group never joined");
            if *count == 0 {
                self.state.groups.remove(&group.get());
            }
        }
    }

    impl SlaacContext for Ctx {
        fn on_address_event(&mut self, event: AddressEvent) {
            let now = self.now();
            self.state.events.push((now, event));
        }
    }

    const DEV: DeviceId = DeviceId::new(1);
    const MAC: Mac = Mac::new([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    const SECRET: SipKey = SipKey([0x5a; 16]);
    const HOUR: u64 = 3600;
    const DAY: u64 = 24 * HOUR;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn at(s: u64) -> Instant {
        Instant::ZERO + secs(s)
    }

    fn prefix(s: &str) -> Subnet<Ipv6Addr> {
        s.parse().unwrap()
    }

    fn pio(p: &str, valid: u32, preferred: u32) -> PrefixInformation {
        let p = prefix(p);
        PrefixInformation {
            prefix_length: p.prefix_len(),
            on_link: true,
            autonomous: true,
            valid_lifetime: valid,
            preferred_lifetime: preferred,
            prefix: p.network(),
        }
    }

    fn setup(config: SlaacConfig) -> (Slaac, Ctx) {
        let mut slaac = Slaac::new(config, SECRET).unwrap();
        slaac.add_device(DEV, Some(MAC)).unwrap();
        (slaac, new_ctx(1))
    }

    fn with_temporaries() -> SlaacConfig {
        SlaacConfig {
            temporary: TemporaryAddressConfig { enabled: true, ..TemporaryAddressConfig::default() },
            ..SlaacConfig::default()
        }
    }

    fn run_until(slaac: &mut Slaac, ctx: &mut Ctx, deadline: Instant) {
        while let Some(id) = ctx.pop_due(deadline) {
            slaac.handle_timer(ctx, id);
        }
        ctx.advance_to(deadline, |_, _| {});
    }

    fn eui64_addr(p: &str) -> Ipv6Addr {
        address_with_iid(&prefix(p), MAC.to_eui64())
    }

    fn of_kind(slaac: &Slaac, kind: AddressKind) -> Vec<AddressInfo> {
        slaac.addresses(DEV).filter(|a| a.kind == kind).collect()
    }

    #[test]
    fn rfc4862_s5_5_3_d_new_prefix_forms_eui64_address_and_starts_dad() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let got = slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800));
        assert_eq!(got, Ok(PrefixOutcome::Created));
        let addr = eui64_addr("2001:db8:1::/64");
        assert_eq!(addr, "2001:db8:1:0:5054:ff:fe12:3456".parse().unwrap());
        assert_eq!(
            take_events(&mut ctx),
            [AddressEvent::Added {
                device: DEV,
                addr: AddrSubnet::new(addr, 64).unwrap(),
                kind: AddressKind::Autoconfigured
            }]
        );
        assert_eq!(ctx.state.probes.len(), 1);
        assert_eq!(ctx.state.probes[0].1, addr);
        assert_eq!(ctx.state.groups.get(&addr.to_solicited_node()), Some(&1));
        assert_eq!(slaac.address(DEV, addr).unwrap().state, AddressState::Tentative);
        run_until(&mut slaac, &mut ctx, at(1));
        assert_eq!(
            take_events(&mut ctx),
            [AddressEvent::StateChanged { device: DEV, addr, state: AddressState::Preferred }]
        );
        let info = slaac.address(DEV, addr).unwrap();
        assert_eq!((info.valid_until, info.preferred_until), (Expiry::At(at(3600)), Expiry::At(at(1800))));
    }

    #[test]
    fn rfc7217_s5_stable_mode_forms_the_stable_iid_address() {
        let (mut slaac, mut ctx) =
            setup(SlaacConfig { addr_gen_mode: AddrGenMode::StablePrivacy, ..SlaacConfig::default() });
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:2::/64", 3600, 1800)).unwrap();
        let g = StableIidGenerator::new(SECRET);
        for p in ["2001:db8:1::/64", "2001:db8:2::/64"] {
            let expected = address_with_iid(&prefix(p), g.rid(&prefix(p), &MAC.bytes(), &[], 0));
            assert!(slaac.address(DEV, expected).is_some(), "{expected} missing");
            assert_ne!(expected, eui64_addr(p));
        }
    }

    #[test]
    fn rfc4862_s5_5_3_a_prefix_without_autonomous_flag_is_ignored() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let p = PrefixInformation { autonomous: false, ..pio("2001:db8:1::/64", 3600, 1800) };
        assert_eq!(slaac.handle_prefix_information(&mut ctx, DEV, &p), Err(PrefixIgnored::NotAutonomous));
        assert_eq!(slaac.counters().ignored_not_autonomous, 1);
        assert_eq!(slaac.addresses(DEV).count(), 0);
    }

    #[test]
    fn rfc4862_s5_5_3_b_link_local_prefix_is_ignored() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let got = slaac.handle_prefix_information(&mut ctx, DEV, &pio("fe80::/64", 3600, 1800));
        assert!(matches!(got, Err(PrefixIgnored::LinkLocalPrefix { .. })));
        assert_eq!(slaac.counters().ignored_link_local_prefix, 1);
        assert!(ctx.state.events.is_empty());
    }

    #[test]
    fn rfc4862_s5_5_3_c_preferred_above_valid_is_ignored() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let got = slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 100, 101));
        assert_eq!(got, Err(PrefixIgnored::PreferredExceedsValid { preferred: 101, valid: 100 }));
        assert_eq!(slaac.counters().ignored_preferred_exceeds_valid, 1);
    }

    #[test]
    fn rfc4862_s5_5_3_d_prefix_length_must_leave_64_bits() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        for p in ["2001:db8::/48", "2001:db8:1:2:3::/80"] {
            let got = slaac.handle_prefix_information(&mut ctx, DEV, &pio(p, 3600, 1800));
            assert!(matches!(got, Err(PrefixIgnored::PrefixLength { .. })), "{p}: {got:?}");
        }
        assert_eq!(slaac.counters().ignored_prefix_length, 2);
    }

    #[test]
    fn rfc4862_s5_5_3_d_new_prefix_with_zero_valid_lifetime_is_ignored() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let got = slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 0, 0));
        assert_eq!(got, Err(PrefixIgnored::ZeroValidLifetime));
        assert_eq!(slaac.prefixes(DEV).count(), 0);
    }

    #[test]
    fn rfc4861_s4_6_2_all_ones_lifetime_is_infinite() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", u32::MAX, u32::MAX)).unwrap();
        let info = slaac.address(DEV, eui64_addr("2001:db8:1::/64")).unwrap();
        assert_eq!((info.valid_until, info.preferred_until), (Expiry::Never, Expiry::Never));
    }

    /// Sets up an address whose valid lifetime has `remaining` seconds left at 1000 s.
    fn refreshed(
        remaining: u32,
        received_valid: u32,
        received_preferred: u32,
    ) -> (AddressInfo, SlaacCounters) {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let p = "2001:db8:1::/64";
        let initial = if remaining == u32::MAX { u32::MAX } else { remaining + 1000 };
        slaac.handle_prefix_information(&mut ctx, DEV, &pio(p, initial, 0)).unwrap();
        run_until(&mut slaac, &mut ctx, at(1000));
        let got = slaac.handle_prefix_information(&mut ctx, DEV, &pio(p, received_valid, received_preferred));
        assert_eq!(got, Ok(PrefixOutcome::Refreshed));
        (slaac.address(DEV, eui64_addr(p)).unwrap(), slaac.counters().clone())
    }

    #[test]
    fn rfc4862_s5_5_3_e_case1_longer_than_two_hours_or_remaining_is_taken() {
        // More than two hours: taken, even if shorter than what remains.
        let (info, _) = refreshed(10 * HOUR as u32, 3 * HOUR as u32, 600);
        assert_eq!(info.valid_until, Expiry::At(at(1000 + 3 * HOUR)));
        assert_eq!(info.preferred_until, Expiry::At(at(1600)));
        // Less than two hours but more than what remains: taken.
        let (info, _) = refreshed(600, 1800, 0);
        assert_eq!(info.valid_until, Expiry::At(at(2800)));
        // Infinity is more than two hours.
        let (info, _) = refreshed(600, u32::MAX, u32::MAX);
        assert_eq!((info.valid_until, info.preferred_until), (Expiry::Never, Expiry::Never));
    }

    #[test]
    fn rfc4862_s5_5_3_e_case2_two_hours_or_less_remaining_is_kept() {
        let (info, counters) = refreshed(HOUR as u32, 60, 30);
        assert_eq!(info.valid_until, Expiry::At(at(1000 + HOUR)));
        // The preferred lifetime is still reset to the advertised one.
        assert_eq!(info.preferred_until, Expiry::At(at(1030)));
        assert_eq!(counters.two_hour_rule_kept, 1);
        let (info, _) = refreshed(2 * HOUR as u32, 0, 0);
        assert_eq!(info.valid_until, Expiry::At(at(1000 + 2 * HOUR)));
    }

    #[test]
    fn rfc4862_s5_5_3_e_case3_otherwise_reset_to_two_hours() {
        let (info, counters) = refreshed(10 * HOUR as u32, 60, 60);
        assert_eq!(info.valid_until, Expiry::At(at(1000 + 2 * HOUR)));
        assert_eq!(counters.two_hour_rule_clamped, 1);
        // A zero valid lifetime cannot kill the address at once either.
        let (info, _) = refreshed(10 * HOUR as u32, 0, 0);
        assert_eq!(info.valid_until, Expiry::At(at(1000 + 2 * HOUR)));
        assert_eq!(info.state, AddressState::Deprecated);
        // Infinite remaining, short advertised: two hours.
        let (info, _) = refreshed(u32::MAX, 60, 60);
        assert_eq!(info.valid_until, Expiry::At(at(1000 + 2 * HOUR)));
        assert_eq!(info.preferred_until, Expiry::At(at(1060)));
    }

    #[test]
    fn rfc4862_s5_5_4_deprecated_at_preferred_expiry_removed_at_valid_expiry() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 100, 40)).unwrap();
        let addr = eui64_addr("2001:db8:1::/64");
        run_until(&mut slaac, &mut ctx, at(200));
        let events: Vec<(Instant, AddressEvent)> = ctx.state.events.drain(1..).collect();
        assert_eq!(
            events,
            [
                (at(1), AddressEvent::StateChanged { device: DEV, addr, state: AddressState::Preferred }),
                (at(40), AddressEvent::StateChanged { device: DEV, addr, state: AddressState::Deprecated }),
                (
                    at(100),
                    AddressEvent::Removed { device: DEV, addr, reason: RemovalReason::ValidLifetimeExpired }
                ),
            ]
        );
        assert_eq!(slaac.addresses(DEV).count(), 0);
        assert_eq!(slaac.prefixes(DEV).count(), 0);
        assert!(ctx.state.groups.is_empty(), "solicited-node group left");
        assert!(ctx.timers().is_empty());
        // The prefix is new again.
        assert_eq!(
            slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 100, 40)),
            Ok(PrefixOutcome::Created)
        );
    }

    #[test]
    fn rfc4862_s5_5_3_e_new_preferred_lifetime_undeprecates() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let p = "2001:db8:1::/64";
        slaac.handle_prefix_information(&mut ctx, DEV, &pio(p, 3600, 10)).unwrap();
        run_until(&mut slaac, &mut ctx, at(20));
        let addr = eui64_addr(p);
        assert_eq!(slaac.address(DEV, addr).unwrap().state, AddressState::Deprecated);
        take_events(&mut ctx);
        slaac.handle_prefix_information(&mut ctx, DEV, &pio(p, 3600, 600)).unwrap();
        assert_eq!(
            take_events(&mut ctx),
            [AddressEvent::StateChanged { device: DEV, addr, state: AddressState::Preferred }]
        );
        run_until(&mut slaac, &mut ctx, at(620));
        assert_eq!(
            take_events(&mut ctx),
            [AddressEvent::StateChanged { device: DEV, addr, state: AddressState::Deprecated }]
        );
    }

    #[test]
    fn rfc4862_s5_5_3_d_zero_preferred_forms_a_deprecated_address() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 0)).unwrap();
        run_until(&mut slaac, &mut ctx, at(1));
        let addr = eui64_addr("2001:db8:1::/64");
        assert_eq!(
            ctx.state.events.last().unwrap().1,
            AddressEvent::StateChanged { device: DEV, addr, state: AddressState::Deprecated }
        );
    }

    #[test]
    fn rfc4862_s5_4_dad_off_assigns_at_once() {
        let config =
            SlaacConfig { dad: DadConfig { transmits: 0, ..DadConfig::default() }, ..SlaacConfig::default() };
        let (mut slaac, mut ctx) = setup(config);
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        let addr = eui64_addr("2001:db8:1::/64");
        let events = take_events(&mut ctx);
        assert_eq!(
            events[1],
            AddressEvent::StateChanged { device: DEV, addr, state: AddressState::Preferred }
        );
        assert!(ctx.state.probes.is_empty());
    }

    #[test]
    fn rfc4862_s5_4_5_eui64_duplicate_is_removed_without_retry() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        let addr = eui64_addr("2001:db8:1::/64");
        take_events(&mut ctx);
        assert!(slaac.handle_neighbor_advertisement(&mut ctx, DEV, addr).is_some());
        assert_eq!(
            take_events(&mut ctx),
            [AddressEvent::Removed { device: DEV, addr, reason: RemovalReason::Duplicate }]
        );
        assert_eq!(slaac.prefixes(DEV).count(), 0);
        assert_eq!(slaac.counters().duplicates_given_up, 1);
        assert!(ctx.state.groups.is_empty());
    }

    #[test]
    fn rfc7217_s6_stable_duplicate_retries_with_next_dad_counter_then_gives_up() {
        let (mut slaac, mut ctx) =
            setup(SlaacConfig { addr_gen_mode: AddrGenMode::StablePrivacy, ..SlaacConfig::default() });
        let p = prefix("2001:db8:1::/64");
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        let g = StableIidGenerator::new(SECRET);
        for counter in 0..=IDGEN_RETRIES {
            let addr = address_with_iid(&p, g.rid(&p, &MAC.bytes(), &[], counter));
            assert_eq!(
                slaac.address(DEV, addr).map(|a| a.state),
                Some(AddressState::Tentative),
                "counter {counter}"
            );
            let got =
                slaac.handle_neighbor_solicitation(&mut ctx, DEV, Ipv6Addr::UNSPECIFIED, addr, Some(&[9; 6]));
            assert!(matches!(got, NsDisposition::Duplicate(_)));
        }
        assert_eq!(slaac.addresses(DEV).count(), 0);
        assert_eq!(slaac.prefixes(DEV).count(), 0);
        assert_eq!(slaac.counters().stable_dad_retries, u64::from(IDGEN_RETRIES));
        assert_eq!(slaac.counters().duplicates_given_up, 1);
    }

    #[test]
    fn rfc4862_s5_3_link_local_from_eui64_with_delayed_probe() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let addr = slaac.add_link_local(&mut ctx, DEV).unwrap();
        assert_eq!(addr, MAC.to_ipv6_link_local());
        assert!(ctx.state.probes.is_empty(), "first probe waits a random delay (RFC 4862 §5.4.2)");
        run_until(&mut slaac, &mut ctx, at(3));
        assert_eq!(ctx.state.probes.len(), 1);
        assert!(ctx.state.probes[0].0 < at(1));
        let info = slaac.address(DEV, addr).unwrap();
        assert_eq!(
            (info.kind, info.state, info.valid_until),
            (AddressKind::LinkLocal, AddressState::Preferred, Expiry::Never)
        );
        assert!(matches!(slaac.add_link_local(&mut ctx, DEV), Err(SlaacError::AlreadyAssigned { .. })));
    }

    #[test]
    fn rfc4862_s5_4_5_duplicate_hardware_link_local_disables_ipv6() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let addr = slaac.add_link_local(&mut ctx, DEV).unwrap();
        take_events(&mut ctx);
        slaac.handle_neighbor_advertisement(&mut ctx, DEV, addr).unwrap();
        assert_eq!(
            take_events(&mut ctx),
            [
                AddressEvent::Removed { device: DEV, addr, reason: RemovalReason::Duplicate },
                AddressEvent::Ipv6Disabled { device: DEV, addr },
            ]
        );
        assert_eq!(
            slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)),
            Err(PrefixIgnored::Ipv6Disabled { device: DEV })
        );
    }

    #[test]
    fn rfc7217_stable_link_local_retries_instead_of_disabling_ipv6() {
        let (mut slaac, mut ctx) =
            setup(SlaacConfig { addr_gen_mode: AddrGenMode::StablePrivacy, ..SlaacConfig::default() });
        let first = slaac.add_link_local(&mut ctx, DEV).unwrap();
        assert!(first.is_unicast_link_local());
        assert_ne!(first, MAC.to_ipv6_link_local());
        slaac.handle_neighbor_advertisement(&mut ctx, DEV, first).unwrap();
        let now: Vec<AddressInfo> = of_kind(&slaac, AddressKind::LinkLocal);
        assert_eq!(now.len(), 1);
        assert_ne!(now[0].addr.addr().get(), first);
        assert!(!ctx.state.events.iter().any(|(_, e)| matches!(e, AddressEvent::Ipv6Disabled { .. })));
    }

    fn temporaries(slaac: &Slaac) -> Vec<AddressInfo> {
        of_kind(slaac, AddressKind::Temporary)
    }

    #[test]
    fn rfc8981_s3_4_temporary_lifetimes_capped_and_desynchronised() {
        let config = with_temporaries();
        for seed in 0..20 {
            let (mut slaac, _) = setup(config.clone());
            let mut ctx = new_ctx(seed);
            slaac
                .handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", u32::MAX, u32::MAX))
                .unwrap();
            let temps = temporaries(&slaac);
            assert_eq!(temps.len(), 1);
            let t = temps[0];
            assert_eq!(t.valid_until, Expiry::At(at(7 * DAY)));
            let Expiry::At(preferred) = t.preferred_until else { panic!("finite preferred lifetime") };
            // §3.8: DESYNC_FACTOR within 0..MAX_DESYNC_FACTOR.
            let desync = at(DAY) - preferred;
            assert!(preferred <= at(DAY) && desync < config.temporary.max_desync_factor, "desync {desync:?}");
            assert!(prefix("2001:db8:1::/64").contains(&t.addr.addr().get()));
            assert!(!is_reserved_iid(t.addr.addr().get().interface_id()));
            assert_ne!(t.addr.addr().get(), eui64_addr("2001:db8:1::/64"));
        }
    }

    #[test]
    fn rfc8981_s3_4_temporary_lifetimes_follow_shorter_prefix_lifetimes() {
        let (mut slaac, mut ctx) = setup(with_temporaries());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        let t = temporaries(&slaac)[0];
        assert_eq!((t.valid_until, t.preferred_until), (Expiry::At(at(3600)), Expiry::At(at(1800))));
        // A later advertisement extends them, but never past the caps set at creation.
        run_until(&mut slaac, &mut ctx, at(100));
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", u32::MAX, u32::MAX)).unwrap();
        let t = slaac.address(DEV, t.addr.addr().get()).unwrap();
        assert_eq!(t.valid_until, Expiry::At(at(7 * DAY)));
        assert!(t.preferred_until <= Expiry::At(at(DAY)));
        assert!(t.preferred_until > Expiry::At(at(DAY - 600)));
    }

    #[test]
    fn rfc8981_s3_4_no_temporary_when_preferred_lifetime_not_above_regen_advance() {
        let (mut slaac, mut ctx) = setup(with_temporaries());
        let regen_advance = slaac.config().regen_advance();
        assert_eq!(regen_advance, secs(5), "2 + 3 retries x 1 transmit x 1 s");
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 5)).unwrap();
        assert!(temporaries(&slaac).is_empty());
        assert_eq!(slaac.counters().temporary_refused_short_lifetime, 1);
        // The next advertisement with a longer preferred lifetime brings one.
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 6)).unwrap();
        assert_eq!(temporaries(&slaac).len(), 1);
    }

    #[test]
    fn rfc8981_s3_6_regenerated_regen_advance_before_deprecation() {
        let (mut slaac, mut ctx) = setup(with_temporaries());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", u32::MAX, u32::MAX)).unwrap();
        let first = temporaries(&slaac)[0];
        let Expiry::At(deprecate_at) = first.preferred_until else { panic!("finite preferred lifetime") };
        let regen_at = Instant::from_nanos(deprecate_at.as_nanos() - secs(5).as_nanos() as u64);
        run_until(&mut slaac, &mut ctx, Instant::from_nanos(regen_at.as_nanos() - 1));
        assert_eq!(temporaries(&slaac).len(), 1);
        run_until(&mut slaac, &mut ctx, regen_at);
        let temps = temporaries(&slaac);
        assert_eq!(temps.len(), 2, "successor formed at deprecation - REGEN_ADVANCE");
        let second = temps.into_iter().find(|t| t.addr != first.addr).unwrap();
        assert_eq!(second.valid_until, Expiry::At(regen_at + secs(7 * DAY)));
        // The successor passes DAD before its predecessor is deprecated.
        run_until(&mut slaac, &mut ctx, deprecate_at);
        assert_eq!(slaac.address(DEV, second.addr.addr().get()).unwrap().state, AddressState::Preferred);
        assert_eq!(slaac.address(DEV, first.addr.addr().get()).unwrap().state, AddressState::Deprecated);
        assert_eq!(slaac.counters().temporaries_regenerated, 1);
        // The first is removed at the end of its valid lifetime.
        run_until(&mut slaac, &mut ctx, at(7 * DAY));
        assert!(slaac.address(DEV, first.addr.addr().get()).is_none());
    }

    #[test]
    fn rfc8981_s3_4_temporary_duplicate_retried_then_temporaries_disabled() {
        let (mut slaac, mut ctx) = setup(with_temporaries());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", u32::MAX, u32::MAX)).unwrap();
        let mut seen = vec![];
        for _ in 0..=3 {
            let temps = temporaries(&slaac);
            assert_eq!(temps.len(), 1);
            let addr = temps[0].addr.addr().get();
            assert!(!seen.contains(&addr), "a new identifier each time");
            seen.push(addr);
            slaac.handle_neighbor_advertisement(&mut ctx, DEV, addr).unwrap();
        }
        assert!(temporaries(&slaac).is_empty());
        assert_eq!(slaac.counters().temporary_dad_retries, 3);
        assert_eq!(slaac.counters().temporaries_disabled, 1);
        // No more temporary addresses on the interface, even for new prefixes.
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:2::/64", u32::MAX, u32::MAX)).unwrap();
        assert!(temporaries(&slaac).is_empty());
        // The public address is unaffected.
        assert_eq!(of_kind(&slaac, AddressKind::Autoconfigured).len(), 2);
    }

    #[test]
    fn temporaries_per_prefix_are_bounded() {
        let mut config = with_temporaries();
        config.temporary = TemporaryAddressConfig {
            enabled: true,
            valid_lifetime: secs(100),
            preferred_lifetime: secs(20),
            max_desync_factor: secs(5),
            max_per_prefix: 2,
            ..TemporaryAddressConfig::default()
        };
        let (mut slaac, mut ctx) = setup(config);
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", u32::MAX, u32::MAX)).unwrap();
        for s in 1..300 {
            run_until(&mut slaac, &mut ctx, at(s));
            assert!(temporaries(&slaac).len() <= 2);
        }
        assert!(slaac.counters().temporary_refused_per_prefix > 0);
    }

    #[test]
    fn manual_address_lifetimes_share_the_timers() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let addr = AddrSubnet::new("2001:db8:9::1".parse().unwrap(), 64).unwrap();
        let lifetimes =
            Lifetimes { valid: Lifetime::Finite(secs(20)), preferred: Lifetime::Finite(secs(10)) };
        slaac.add_address(&mut ctx, DEV, addr, lifetimes).unwrap();
        let a = addr.addr().get();
        assert_eq!(
            slaac.add_address(&mut ctx, DEV, addr, lifetimes),
            Err(SlaacError::AlreadyAssigned { device: DEV, addr: a })
        );
        run_until(&mut slaac, &mut ctx, at(15));
        assert_eq!(slaac.address(DEV, a).unwrap().state, AddressState::Deprecated);
        // The admin extends them: preferred again, removal moves.
        let longer = Lifetimes { valid: Lifetime::Finite(secs(100)), preferred: Lifetime::Infinite };
        assert_eq!(
            slaac.set_lifetimes(&mut ctx, DEV, a, longer),
            Err(SlaacError::InvalidLifetimes { lifetimes: longer })
        );
        let longer = Lifetimes { valid: Lifetime::Finite(secs(100)), preferred: Lifetime::Finite(secs(50)) };
        slaac.set_lifetimes(&mut ctx, DEV, a, longer).unwrap();
        assert_eq!(slaac.address(DEV, a).unwrap().state, AddressState::Preferred);
        run_until(&mut slaac, &mut ctx, at(114));
        assert_eq!(slaac.address(DEV, a).unwrap().state, AddressState::Deprecated);
        run_until(&mut slaac, &mut ctx, at(115));
        assert!(slaac.address(DEV, a).is_none());
        assert_eq!(
            ctx.state.events.last().unwrap(),
            &(
                at(115),
                AddressEvent::Removed { device: DEV, addr: a, reason: RemovalReason::ValidLifetimeExpired }
            )
        );
    }

    #[test]
    fn admin_lifetimes_only_for_manual_addresses_and_checked() {
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        let auto = eui64_addr("2001:db8:1::/64");
        let ok = Lifetimes { valid: Lifetime::Infinite, preferred: Lifetime::Infinite };
        assert_eq!(
            slaac.set_lifetimes(&mut ctx, DEV, auto, ok),
            Err(SlaacError::NotManual { device: DEV, addr: auto })
        );
        let zero = Lifetimes {
            valid: Lifetime::Finite(Duration::ZERO),
            preferred: Lifetime::Finite(Duration::ZERO),
        };
        let addr = AddrSubnet::new("2001:db8:9::1".parse().unwrap(), 64).unwrap();
        assert_eq!(
            slaac.add_address(&mut ctx, DEV, addr, zero),
            Err(SlaacError::InvalidLifetimes { lifetimes: zero })
        );
        assert_eq!(
            slaac.add_address(&mut ctx, DeviceId::new(9), addr, ok),
            Err(SlaacError::UnknownDevice { device: DeviceId::new(9) })
        );
        slaac.remove_address(&mut ctx, DEV, auto).unwrap();
        assert_eq!(
            slaac.remove_address(&mut ctx, DEV, auto),
            Err(SlaacError::NotFound { device: DEV, addr: auto })
        );
        assert_eq!(slaac.prefixes(DEV).count(), 0);
    }

    #[test]
    fn manual_addresses_are_bounded() {
        let (mut slaac, mut ctx) = setup(SlaacConfig { max_manual_addresses: 2, ..SlaacConfig::default() });
        let ok = Lifetimes { valid: Lifetime::Infinite, preferred: Lifetime::Infinite };
        for n in 1..=3u16 {
            let addr =
                AddrSubnet::new(Ipv6Addr::from_segments([0x2001, 0xdb8, 9, 0, 0, 0, 0, n]), 64).unwrap();
            let got = slaac.add_address(&mut ctx, DEV, addr, ok);
            assert_eq!(got.is_ok(), n <= 2);
        }
        assert_eq!(slaac.counters().manual_refused_too_many, 1);
    }

    #[test]
    fn device_without_mac_needs_stable_mode() {
        let other = DeviceId::new(7);
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        slaac.add_device(other, None).unwrap();
        assert_eq!(slaac.add_link_local(&mut ctx, other), Err(SlaacError::NoInterfaceId { device: other }));
        let got = slaac.handle_prefix_information(&mut ctx, other, &pio("2001:db8:1::/64", 3600, 1800));
        assert!(matches!(got, Err(PrefixIgnored::NoInterfaceId { .. })));
        // RFC 7217 §5: Net_Iface falls back to the interface index.
        let config = SlaacConfig { addr_gen_mode: AddrGenMode::StablePrivacy, ..SlaacConfig::default() };
        let (mut slaac, mut ctx) = setup(config);
        slaac.add_device(other, None).unwrap();
        assert!(slaac.add_link_local(&mut ctx, other).is_ok());
        assert!(slaac
            .handle_prefix_information(&mut ctx, other, &pio("2001:db8:1::/64", 3600, 1800))
            .is_ok());
        assert_eq!(slaac.addresses(other).count(), 2);
    }

    #[test]
    fn remove_device_removes_everything() {
        let (mut slaac, mut ctx) = setup(with_temporaries());
        slaac.add_link_local(&mut ctx, DEV).unwrap();
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        slaac.remove_device(&mut ctx, DEV).unwrap();
        assert_eq!(slaac.addresses(DEV).count(), 0);
        assert!(ctx.state.groups.is_empty());
        assert!(ctx.timers().is_empty());
        let removed = ctx
            .state
            .events
            .iter()
            .filter(|(_, e)| matches!(e, AddressEvent::Removed { reason: RemovalReason::DeviceRemoved, .. }))
            .count();
        assert_eq!(removed, 3);
    }

    #[test]
    fn rfc8981_s3_8_config_checks_desync_against_preferred_lifetime() {
        let mut config = with_temporaries();
        config.temporary.max_desync_factor = secs(DAY);
        assert!(matches!(Slaac::new(config, SECRET), Err(SlaacConfigError::DesyncTooLarge { .. })));
        let mut config = with_temporaries();
        config.temporary.preferred_lifetime = secs(8 * DAY);
        assert!(matches!(
            Slaac::new(config, SECRET),
            Err(SlaacConfigError::TemporaryPreferredExceedsValid { .. })
        ));
    }

    #[test]
    fn ra_flood_of_random_prefixes_is_bounded() {
        let (mut slaac, mut ctx) = setup(with_temporaries());
        for _ in 0..2000 {
            let r = ctx.random_u64().to_be_bytes();
            let p = Ipv6Addr::new([0x20, 0x01, r[0], r[1], r[2], r[3], r[4], r[5], 0, 0, 0, 0, 0, 0, 0, 0]);
            let info = PrefixInformation { prefix: p, ..pio("2001:db8::/64", u32::MAX, u32::MAX) };
            let _ = slaac.handle_prefix_information(&mut ctx, DEV, &info);
        }
        assert_eq!(slaac.addresses(DEV).count(), 16);
        assert_eq!(slaac.prefixes(DEV).count(), 8);
        assert_eq!(slaac.counters().refused_too_many_addresses, 2000 - 8);
        assert!(ctx.timers().len() <= 16 * 4);
    }

    #[derive(Clone, Debug)]
    enum Input {
        Pio { prefix: u8, valid: u32, preferred: u32, autonomous: bool },
        Advance(u32),
        Na(u8),
        Ns(u8, Option<[u8; 6]>),
    }

    fn lifetime() -> impl Strategy<Value = u32> {
        prop_oneof![
            Just(0u32),
            Just(1),
            Just(5),
            Just(6),
            Just(600),
            Just(7200),
            Just(7201),
            Just(86400),
            Just(u32::MAX),
            any::<u32>()
        ]
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            3 => (0u8..24, lifetime(), lifetime(), proptest::bool::weighted(0.9))
                .prop_map(|(prefix, valid, preferred, autonomous)| Input::Pio { prefix, valid, preferred, autonomous }),
            2 => prop_oneof![0u32..10, 0u32..100_000, 0u32..1_000_000].prop_map(Input::Advance),
            1 => any::<u8>().prop_map(Input::Na),
            1 => (any::<u8>(), proptest::option::of(any::<[u8; 6]>())).prop_map(|(n, nonce)| Input::Ns(n, nonce)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Arbitrary advertisements, timers and DAD conflicts: no panic; addresses, prefixes and
        /// temporaries within bounds; preferred never after valid; an advertisement never
        /// shortens a prefix's valid lifetime below two hours (or what remained) and never
        /// extends it past what it advertised; temporary lifetimes within their caps; group
        /// memberships match the addresses.
        #[test]
        fn arbitrary_advertisements_and_timers_keep_invariants(
            stable in any::<bool>(),
            seed in any::<u64>(),
            inputs in proptest::collection::vec(input(), 1..80),
        ) {
            let mut config = with_temporaries();
            config.max_addresses = 6;
            config.temporary.max_per_prefix = 3;
            if stable {
                config.addr_gen_mode = AddrGenMode::StablePrivacy;
            }
            let mut slaac = Slaac::new(config.clone(), SECRET).unwrap();
            slaac.add_device(DEV, Some(MAC)).unwrap();
            let mut ctx = new_ctx(seed);
            for input in inputs {
                match input {
                    Input::Pio { prefix, valid, preferred, autonomous } => {
                        let p = Subnet::new(Ipv6Addr::from_segments([0x2001, 0xdb8, u16::from(prefix), 0, 0, 0, 0, 0]), 64).unwrap();
                        let before = slaac.prefixes(DEV).find(|i| i.prefix == p);
                        let info = PrefixInformation { prefix: p.network(), autonomous, ..pio("2001:db8::/64", valid, preferred) };
                        let got = slaac.handle_prefix_information(&mut ctx, DEV, &info);
                        let now = ctx.now();
                        if let (Some(before), Ok(_)) = (before, got) {
                            let after = slaac.prefixes(DEV).find(|i| i.prefix == p).map(|i| i.valid_until);
                            if let Some(after) = after {
                                // §5.5.3 e: not below min(remaining, 2 h)...
                                prop_assert!(after >= min(before.valid_until, Expiry::At(now + MIN_VALID_LIFETIME)));
                                // ...and not past the larger of what remained and what was advertised.
                                prop_assert!(after <= max(before.valid_until, Lifetime::from_ndp_secs(valid).deadline(now)));
                            }
                        }
                    }
                    Input::Advance(s) => {
                        let deadline = ctx.now() + secs(u64::from(s));
                        run_until(&mut slaac, &mut ctx, deadline);
                    }
                    Input::Na(n) => {
                        let addrs: Vec<Ipv6Addr> = slaac.addresses(DEV).map(|a| a.addr.addr().get()).collect();
                        if !addrs.is_empty() {
                            slaac.handle_neighbor_advertisement(&mut ctx, DEV, addrs[usize::from(n) % addrs.len()]);
                        }
                    }
                    Input::Ns(n, nonce) => {
                        let addrs: Vec<Ipv6Addr> = slaac.addresses(DEV).map(|a| a.addr.addr().get()).collect();
                        if !addrs.is_empty() {
                            let target = addrs[usize::from(n) % addrs.len()];
                            slaac.handle_neighbor_solicitation(&mut ctx, DEV, Ipv6Addr::UNSPECIFIED, target, nonce.as_ref().map(|n| &n[..]));
                        }
                    }
                }
                let now = ctx.now();
                let addrs: Vec<AddressInfo> = slaac.addresses(DEV).collect();
                prop_assert!(addrs.len() <= 6);
                prop_assert!(slaac.prefixes(DEV).count() <= addrs.len());
                for a in &addrs {
                    prop_assert!(a.preferred_until <= a.valid_until);
                    prop_assert!(!a.valid_until.is_past(now), "expired address still there");
                    if a.kind == AddressKind::Temporary {
                        prop_assert!(a.valid_until <= Expiry::At(now + config.temporary.valid_lifetime));
                        prop_assert!(a.preferred_until <= Expiry::At(now + config.temporary.preferred_lifetime));
                        let siblings = addrs.iter().filter(|b| b.kind == AddressKind::Temporary && b.addr.subnet() == a.addr.subnet()).count();
                        prop_assert!(siblings <= 3);
                    }
                }
                // Each address holds one reference to its solicited-node group.
                let joined: usize = ctx.state.groups.values().sum();
                prop_assert_eq!(joined, addrs.len());
                prop_assert_eq!(slaac.dad().tracked(DEV), addrs.len());
            }
        }
    }

    fn max(a: Expiry, b: Expiry) -> Expiry {
        core::cmp::max(a, b)
    }

    #[test]
    fn unicast_witness_for_formed_addresses() {
        // Formed addresses are unicast by construction (prefixes are never multicast).
        let (mut slaac, mut ctx) = setup(SlaacConfig::default());
        let got = slaac.handle_prefix_information(&mut ctx, DEV, &pio("ff02::/64", 3600, 1800));
        assert!(matches!(got, Err(PrefixIgnored::MulticastPrefix { .. })));
        slaac.handle_prefix_information(&mut ctx, DEV, &pio("2001:db8:1::/64", 3600, 1800)).unwrap();
        assert!(slaac.addresses(DEV).all(|a| UnicastAddr::new(a.addr.addr().get()).is_some()));
    }
}
