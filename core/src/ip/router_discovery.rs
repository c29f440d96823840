//! Host-side router discovery and redirects: what an IPv6 host learns from the routers on its
//! links, as a sans-I/O state machine per device.
//!
//! Implements, for hosts:
//!
//! * RFC 4861 §6.3.7: Router Solicitations when a device comes up: a random delay, then up
//!   to `MAX_RTR_SOLICITATIONS` at `RTR_SOLICITATION_INTERVAL`, from `::` (without a Source
//!   Link-Layer Address option) while no link-local address is usable.
//! * RFC 4861 §6.1.2 and §6.3.4: validation and processing of Router Advertisements: Cur Hop
//!   Limit, Reachable Time, Retrans Timer, Router Lifetime (the Default Router List), Source
//!   Link-Layer Address, MTU and Prefix Information (the Prefix List; autoconfiguration
//!   prefixes are handed to SLAAC, RFC 4862 §5.5.3).
//! * RFC 4861 §6.3.5: timing out routers and prefixes; §6.3.6: default router selection;
//!   §7.2.5: a neighbour whose IsRouter flag drops leaves the Default Router List.
//! * RFC 4861 §8.1 and §8.3: validation and processing of Redirects.
//! * RFC 8106 §5.1 and §5.3.1: Recursive DNS Server options and their lifetimes.
//!
//! What is checked elsewhere: the IPv6 layer checks the Hop Limit of 255 (RFC 4861 §6.1.2,
//! §8.1) before handing a message up, since only it sees the IP header; the ICMPv6 parser
//! ([`crate::wire::icmp::ndp`]) checks the checksum, code, lengths and option formats. This
//! module receives the decoded structs, which are plain data, so it checks again the address
//! rules it relies on (link-local sources, Redirect target and destination).
//!
//! Nothing here touches a route, the neighbour table or the DNS resolver: the module keeps its
//! lists and reports what the stack must apply as [`RouterDiscoveryEvent`]s through
//! [`RouterDiscoveryContext`], and asks the stack what it alone knows (the device's usable
//! link-local address, a router's reachability, the current first hop for a destination).
//! Every list is bounded per device; what does not fit is refused and counted in
//! [`Counters`], so a flood of advertisements from many routers costs CPU, never unbounded
//! memory.
//!
//! Behaviour follows Linux where users can see it:
//!
//! * `accept_ra` ([`AcceptRa`]): advertisements are processed, and solicitations sent, only
//!   when the device does not forward, unless `accept_ra` is 2 ([`AcceptRa::Always`]).
//! * `accept_redirects`: Redirects are processed only when the device does not forward.
//! * `router_solicitations` 3, `router_solicitation_interval` 4 s,
//!   `router_solicitation_delay` 1 s, the RFC 4861 §10 values. Newer kernels default to
//!   soliciting forever with the RFC 7559 backoff; this module keeps the bounded RFC 4861
//!   schedule, which a host that never hears a router leaves quiet after 9 s.
//! * The MTU option may not raise the link MTU above the device's own MTU (Linux compares
//!   with `dev->mtu`; RFC 4861 §6.3.4 with the link type's maximum, which is never lower).
//! * Prefixes whose network is link-local or multicast are ignored for both on-link
//!   determination and autoconfiguration (RFC 4861 §6.3.4, RFC 4862 §5.5.3 b).
//!
//! One deliberate difference: solicitations stop on the first valid advertisement with a
//! non-zero Router Lifetime, as RFC 4861 §6.3.7 says; Linux stops on any advertisement, so a
//! router that only advertises prefixes would hide a default router that has not spoken yet.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;

use crate::addr::{Ipv6Addr, IsUnicast, Mac, Subnet};
use crate::context::{RngContext, TimerContext};
use crate::device::DeviceId;
use crate::time::Instant;
use crate::wire::icmp::ndp::{
    LinkLayerAddress, NdpOption, NdpOptions, PrefixInformation, Redirect, RouterAdvertisement,
    RouterSolicitation,
};

/// RFC 4861 §10: the longest random delay before the first Router Solicitation.
pub const MAX_RTR_SOLICITATION_DELAY: Duration = Duration::from_secs(1);
/// RFC 4861 §10: the time between Router Solicitations.
pub const RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
/// RFC 4861 §10: how many Router Solicitations a host sends.
pub const MAX_RTR_SOLICITATIONS: u8 = 3;
/// RFC 4861 §10: the initial BaseReachableTime, until an advertisement sets another.
pub const REACHABLE_TIME: Duration = Duration::from_secs(30);
/// RFC 8200 §5: the minimum link MTU for IPv6; smaller MTU options are ignored.
pub const IPV6_MIN_MTU: u32 = 1280;

/// Routers kept in a device's Default Router List. RFC 4861 §6.3.4 lets a host bound the
/// list; a link rarely has more than a few routers, and further ones are refused rather than
/// allowed to push out routers already in use.
pub const MAX_DEFAULT_ROUTERS: usize = 16;
/// On-link prefixes kept per device; further ones are refused.
pub const MAX_ON_LINK_PREFIXES: usize = 64;
/// Recursive DNS servers kept per device (RFC 8106 §5.3.1 leaves the bound to the host; a
/// resolver uses three).
pub const MAX_DNS_SERVERS: usize = 8;
/// Redirected destinations kept per device: a cache, so the oldest gives way to a new one.
pub const MAX_REDIRECTS: usize = 64;

/// A lifetime of all ones means infinity (RFC 4861 §4.6.2, RFC 8106 §5.1).
const INFINITE_LIFETIME: u32 = u32::MAX;

/// Linux's `accept_ra`: when Router Advertisements are processed (and Router Solicitations
/// sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptRa {
    /// 0: never.
    Never,
    /// 1, the default: only while the device does not forward.
    UnlessForwarding,
    /// 2: even while the device forwards.
    Always,
}

/// How router discovery runs on one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceConfig {
    /// The device's link-layer address, sent in the Source Link-Layer Address option of
    /// solicitations from a link-local source; `None` on links without addresses (pure IP).
    pub link_address: Option<Mac>,
    /// The device's MTU: an MTU option above it (or below 1280) is ignored.
    pub device_mtu: u32,
    /// Whether the device forwards packets (acts as a router), which turns host-side
    /// processing off under [`AcceptRa::UnlessForwarding`] and for redirects.
    pub forwarding: bool,
    /// Linux's `accept_ra`.
    pub accept_ra: AcceptRa,
    /// Linux's `accept_redirects`: whether Redirects are processed (never while forwarding).
    pub accept_redirects: bool,
    /// Linux's `router_solicitations`: how many solicitations to send; 0 sends none.
    pub router_solicitations: u8,
    /// Linux's `router_solicitation_interval`.
    pub router_solicitation_interval: Duration,
    /// Linux's `router_solicitation_delay`: the first solicitation waits a random time below
    /// it.
    pub router_solicitation_delay: Duration,
}

impl DeviceConfig {
    /// A host's defaults (Linux's, and RFC 4861 §10's) for a device with `link_address`
    /// and an MTU of `device_mtu`.
    pub fn host(link_address: Option<Mac>, device_mtu: u32) -> Self {
        Self {
            link_address,
            device_mtu,
            forwarding: false,
            accept_ra: AcceptRa::UnlessForwarding,
            accept_redirects: true,
            router_solicitations: MAX_RTR_SOLICITATIONS,
            router_solicitation_interval: RTR_SOLICITATION_INTERVAL,
            router_solicitation_delay: MAX_RTR_SOLICITATION_DELAY,
        }
    }

    /// Whether advertisements are processed and solicitations sent (Linux's
    /// `ipv6_accept_ra`).
    fn accepts_router_advertisements(&self) -> bool {
        match self.accept_ra {
            AcceptRa::Never => false,
            AcceptRa::UnlessForwarding => !self.forwarding,
            AcceptRa::Always => true,
        }
    }

    /// Whether Redirects are processed: RFC 4861 §8 is for hosts, and Linux ignores them
    /// while forwarding.
    fn accepts_redirects(&self) -> bool {
        self.accept_redirects && !self.forwarding
    }
}

/// The timers of router discovery. Each entry of each list has its own, so rescheduling one
/// moves it rather than adding another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouterDiscoveryTimerId {
    /// Send the next Router Solicitation on `device` (RFC 4861 §6.3.7).
    Solicitation {
        /// The device.
        device: DeviceId,
    },
    /// `router`'s Router Lifetime runs out (RFC 4861 §6.3.5).
    RouterLifetime {
        /// The device.
        device: DeviceId,
        /// The router's link-local address.
        router: Ipv6Addr,
    },
    /// `prefix`'s on-link Valid Lifetime runs out (RFC 4861 §6.3.5).
    PrefixLifetime {
        /// The device.
        device: DeviceId,
        /// The on-link prefix.
        prefix: Subnet<Ipv6Addr>,
    },
    /// `server`'s RDNSS Lifetime runs out (RFC 8106 §5.1).
    DnsServerLifetime {
        /// The device.
        device: DeviceId,
        /// The DNS server's address.
        server: Ipv6Addr,
    },
}

/// What Neighbor Unreachability Detection knows of a router, for default router selection
/// (RFC 4861 §6.3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouterReachability {
    /// Known or probably reachable in RFC 4861 §6.3.6's sense: a neighbour entry in any state
    /// but INCOMPLETE (REACHABLE, STALE, DELAY, PROBE).
    ProbablyReachable,
    /// Not known to be reachable (RFC 4861 §6.3.6): an INCOMPLETE entry, or none.
    Unknown,
}

/// What the stack must apply after router discovery changed its view of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouterDiscoveryEvent {
    /// Install a default route (`::/0`) through `router` on `device`: the router default
    /// router selection chose (RFC 4861 §6.3.6). A device has at most one at a time.
    DefaultRouteAdded {
        /// The device.
        device: DeviceId,
        /// The router's link-local address.
        router: Ipv6Addr,
    },
    /// Remove the default route through `router` on `device`.
    DefaultRouteRemoved {
        /// The device.
        device: DeviceId,
        /// The router's link-local address.
        router: Ipv6Addr,
    },
    /// Install an on-link route for `prefix` on `device` (RFC 4861 §6.3.4; this module
    /// removes it when its Valid Lifetime runs out).
    OnLinkPrefixAdded {
        /// The device.
        device: DeviceId,
        /// The prefix.
        prefix: Subnet<Ipv6Addr>,
    },
    /// Remove the on-link route for `prefix` on `device`.
    OnLinkPrefixRemoved {
        /// The device.
        device: DeviceId,
        /// The prefix.
        prefix: Subnet<Ipv6Addr>,
    },
    /// Set the device's IPv6 link MTU (RFC 4861 §6.3.4, MTU option; already bounded by
    /// 1280 and the device's MTU).
    LinkMtu {
        /// The device.
        device: DeviceId,
        /// The MTU.
        mtu: u32,
    },
    /// Set the device's CurHopLimit, the default Hop Limit of packets it sends
    /// (RFC 4861 §6.3.4; never 0).
    CurHopLimit {
        /// The device.
        device: DeviceId,
        /// The hop limit.
        hop_limit: u8,
    },
    /// Set the device's BaseReachableTime for NUD (RFC 4861 §6.3.4; never zero).
    BaseReachableTime {
        /// The device.
        device: DeviceId,
        /// The new BaseReachableTime.
        base: Duration,
        /// It differs from the previous one: recompute the random ReachableTime from it now
        /// (RFC 4861 §6.3.4, §6.3.2).
        rerandomize: bool,
    },
    /// Set the device's RetransTimer for NUD and address resolution (RFC 4861 §6.3.4;
    /// never zero).
    RetransTimer {
        /// The device.
        device: DeviceId,
        /// The time between retransmitted Neighbor Solicitations.
        retrans: Duration,
    },
    /// A valid advertisement came from `router` (RFC 4861 §6.3.4): record `link_address`
    /// in its neighbour entry (creating it STALE if needed) when present, and set the
    /// entry's IsRouter flag if the entry exists.
    RouterNeighbor {
        /// The device.
        device: DeviceId,
        /// The router's link-local address.
        router: Ipv6Addr,
        /// The Source Link-Layer Address option, if it held an Ethernet address.
        link_address: Option<Mac>,
    },
    /// A Prefix Information option with the A flag, for SLAAC on `device`
    /// (RFC 4862 §5.5.3); SLAAC applies its own checks (preferred ≤ valid lifetime, the
    /// prefix length its interface identifiers need, the two-hour rule).
    AutoconfigurationPrefix {
        /// The device.
        device: DeviceId,
        /// The option as received.
        prefix: PrefixInformation,
    },
    /// A recursive DNS server became usable on `device` (RFC 8106 §5.1); this module
    /// removes it when its lifetime runs out.
    DnsServerAdded {
        /// The device.
        device: DeviceId,
        /// The server's address.
        server: Ipv6Addr,
    },
    /// A recursive DNS server must no longer be used on `device`.
    DnsServerRemoved {
        /// The device.
        device: DeviceId,
        /// The server's address.
        server: Ipv6Addr,
    },
    /// A validated Redirect (RFC 4861 §8.3): send traffic for `destination` to `target` on
    /// `device`. If `target_link_address` is present, create or update the target's
    /// neighbour entry with it (STALE if it changed); if `target_is_router`, set its
    /// IsRouter flag. When the target is the destination, the destination is on-link.
    Redirect {
        /// The device.
        device: DeviceId,
        /// The destination redirected.
        destination: Ipv6Addr,
        /// The better first hop.
        target: Ipv6Addr,
        /// The Target Link-Layer Address option, if it held an Ethernet address.
        target_link_address: Option<Mac>,
        /// The target differs from the destination, so it is a router.
        target_is_router: bool,
    },
    /// Forget the redirect for `destination` on `device`: route it as before the redirect.
    RedirectRemoved {
        /// The device.
        device: DeviceId,
        /// The destination.
        destination: Ipv6Addr,
    },
}

/// What router discovery needs from the stack besides time, timers and randomness.
pub trait RouterDiscoveryContext {
    /// The link-local address of `device` usable as a source (assigned, not tentative;
    /// RFC 4862 §5.4), if any.
    fn link_local_address(&self, device: DeviceId) -> Option<Ipv6Addr>;

    /// What NUD knows of `router` on `device`.
    fn router_reachability(&self, device: DeviceId, router: Ipv6Addr) -> RouterReachability;

    /// The device and neighbour the stack currently sends packets for `destination` to (the
    /// destination itself when it is on-link), if it has a route.
    fn first_hop(&self, destination: Ipv6Addr) -> Option<(DeviceId, Ipv6Addr)>;

    /// Sends `solicitation` on `device` from `src` to all-routers (`ff02::2`) with Hop Limit
    /// 255 (RFC 4861 §6.3.7, §4.1). Its options already hold the Source Link-Layer Address
    /// option when `src` is specified and the device has a link-layer address, and none when
    /// `src` is `::` (RFC 4861 §4.1).
    fn send_router_solicitation(
        &mut self,
        device: DeviceId,
        src: Ipv6Addr,
        solicitation: RouterSolicitation<'_>,
    );

    /// Applies `event`.
    fn on_event(&mut self, event: RouterDiscoveryEvent);
}

/// Why a Router Advertisement was not processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouterAdvertisementError {
    /// Router discovery does not run on the device.
    #[error("router advertisement from {src} on {device}: router discovery is not enabled there")]
    UnknownDevice {
        /// The device.
        device: DeviceId,
        /// The advertisement's source.
        src: Ipv6Addr,
    },
    /// The device's configuration ignores advertisements (Linux's `accept_ra`).
    #[error("router advertisement from {src} on {device}: ignored by accept_ra (forwarding {forwarding})")]
    NotAccepted {
        /// The device.
        device: DeviceId,
        /// The advertisement's source.
        src: Ipv6Addr,
        /// Whether the device forwards.
        forwarding: bool,
    },
    /// RFC 4861 §6.1.2: the source must be link-local.
    #[error("router advertisement from {src} on {device}: source is not link-local (RFC 4861 §6.1.2)")]
    SourceNotLinkLocal {
        /// The device.
        device: DeviceId,
        /// The advertisement's source.
        src: Ipv6Addr,
    },
}

/// Why a Redirect was not processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// Router discovery does not run on the device.
    #[error("redirect from {src} on {device}: router discovery is not enabled there")]
    UnknownDevice {
        /// The device.
        device: DeviceId,
        /// The Redirect's source.
        src: Ipv6Addr,
    },
    /// The device forwards or does not accept redirects (Linux's `accept_redirects`).
    #[error("redirect from {src} on {device}: ignored by accept_redirects or forwarding")]
    NotAccepted {
        /// The device.
        device: DeviceId,
        /// The Redirect's source.
        src: Ipv6Addr,
    },
    /// RFC 4861 §8.1: the source must be link-local.
    #[error("redirect from {src} on {device}: source is not link-local (RFC 4861 §8.1)")]
    SourceNotLinkLocal {
        /// The device.
        device: DeviceId,
        /// The Redirect's source.
        src: Ipv6Addr,
    },
    /// RFC 4861 §8.1: the destination must not be multicast.
    #[error("redirect from {src} on {device}: destination {destination} is multicast (RFC 4861 §8.1)")]
    DestinationMulticast {
        /// The device.
        device: DeviceId,
        /// The Redirect's source.
        src: Ipv6Addr,
        /// The redirected destination.
        destination: Ipv6Addr,
    },
    /// RFC 4861 §8.1: the target must be link-local or the destination itself.
    #[error(
        "redirect from {src} on {device}: target {target} is neither link-local nor the destination \
         {destination} (RFC 4861 §8.1)"
    )]
    TargetInvalid {
        /// The device.
        device: DeviceId,
        /// The Redirect's source.
        src: Ipv6Addr,
        /// The target.
        target: Ipv6Addr,
        /// The redirected destination.
        destination: Ipv6Addr,
    },
    /// RFC 4861 §8.1: only the current first hop for the destination may redirect it.
    #[error(
        "redirect from {src} on {device}: not the current first hop for {destination} \
         ({first_hop:?}) (RFC 4861 §8.1)"
    )]
    NotFromFirstHop {
        /// The device.
        device: DeviceId,
        /// The Redirect's source.
        src: Ipv6Addr,
        /// The redirected destination.
        destination: Ipv6Addr,
        /// Where the stack currently sends packets for the destination.
        first_hop: Option<(DeviceId, Ipv6Addr)>,
    },
}

/// What router discovery did and refused, over all devices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Router Advertisements handed in.
    pub ra_received: u64,
    /// ... on a device router discovery does not run on.
    pub ra_unknown_device: u64,
    /// ... ignored by `accept_ra`.
    pub ra_not_accepted: u64,
    /// ... dropped: source not link-local (RFC 4861 §6.1.2).
    pub ra_source_not_link_local: u64,
    /// ... processed.
    pub ra_accepted: u64,
    /// Router Solicitations sent.
    pub rs_sent: u64,
    /// Routers added to a Default Router List.
    pub routers_added: u64,
    /// New routers refused: the device's list was full ([`MAX_DEFAULT_ROUTERS`]).
    pub routers_refused_list_full: u64,
    /// Routers whose Router Lifetime ran out.
    pub routers_expired: u64,
    /// Routers that advertised a Router Lifetime of 0.
    pub routers_withdrawn: u64,
    /// Routers removed because NUD saw their IsRouter flag drop (RFC 4861 §7.2.5).
    pub routers_no_longer_router: u64,
    /// Changes of a device's selected default router.
    pub default_router_changes: u64,
    /// On-link prefixes added.
    pub prefixes_added: u64,
    /// New on-link prefixes refused: the device's list was full ([`MAX_ON_LINK_PREFIXES`]).
    pub prefixes_refused_list_full: u64,
    /// On-link prefixes whose Valid Lifetime ran out.
    pub prefixes_expired: u64,
    /// On-link prefixes advertised with a Valid Lifetime of 0.
    pub prefixes_withdrawn: u64,
    /// Prefix Information options with a prefix length over 128.
    pub prefix_invalid_length: u64,
    /// Prefix Information options for a link-local prefix, ignored (RFC 4861 §6.3.4).
    pub prefix_link_local_ignored: u64,
    /// Prefix Information options for a multicast prefix, ignored.
    pub prefix_multicast_ignored: u64,
    /// Prefix Information options with the A flag handed to SLAAC.
    pub autoconfiguration_prefixes: u64,
    /// MTU options applied.
    pub mtu_applied: u64,
    /// MTU options ignored: below 1280 or above the device's MTU (RFC 4861 §6.3.4).
    pub mtu_out_of_range: u64,
    /// DNS servers added.
    pub dns_servers_added: u64,
    /// RDNSS addresses ignored: unspecified or multicast.
    pub dns_servers_not_unicast: u64,
    /// DNS servers that pushed out, from a full list, the one that would expire first.
    pub dns_servers_replaced: u64,
    /// New DNS servers refused: the list was full of servers that live longer.
    pub dns_servers_refused_list_full: u64,
    /// DNS servers whose lifetime ran out.
    pub dns_servers_expired: u64,
    /// DNS servers advertised with a lifetime of 0.
    pub dns_servers_withdrawn: u64,
    /// Redirects handed in.
    pub redirects_received: u64,
    /// ... on a device router discovery does not run on.
    pub redirect_unknown_device: u64,
    /// ... ignored by `accept_redirects` or forwarding.
    pub redirect_not_accepted: u64,
    /// ... dropped: source not link-local (RFC 4861 §8.1).
    pub redirect_source_not_link_local: u64,
    /// ... dropped: multicast destination (RFC 4861 §8.1).
    pub redirect_destination_multicast: u64,
    /// ... dropped: target neither link-local nor the destination (RFC 4861 §8.1).
    pub redirect_target_invalid: u64,
    /// ... dropped: not from the current first hop for the destination (RFC 4861 §8.1).
    pub redirect_not_from_first_hop: u64,
    /// ... applied (RFC 4861 §8.3).
    pub redirects_applied: u64,
    /// Redirects forgotten to make room for newer ones ([`MAX_REDIRECTS`]).
    pub redirects_evicted: u64,
    /// Timers that fired for an entry that is gone or not yet due.
    pub stale_timers: u64,
}

/// A router in a device's Default Router List (RFC 4861 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultRouter {
    /// The router's link-local address.
    pub address: Ipv6Addr,
    /// When its Router Lifetime runs out.
    pub expires_at: Instant,
}

/// An entry of a device's Prefix List (RFC 4861 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnLinkPrefix {
    /// The prefix.
    pub prefix: Subnet<Ipv6Addr>,
    /// When its Valid Lifetime runs out; `None` for infinity.
    pub expires_at: Option<Instant>,
}

/// A recursive DNS server learned from an RDNSS option (RFC 8106 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsServer {
    /// The server's address.
    pub address: Ipv6Addr,
    /// When its lifetime runs out; `None` for infinity.
    pub expires_at: Option<Instant>,
}

/// A destination redirected by a Redirect (RFC 4861 §8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedirectEntry {
    /// The destination.
    pub destination: Ipv6Addr,
    /// Its better first hop.
    pub target: Ipv6Addr,
    /// The target's link-layer address, if the Redirect carried it.
    pub target_link_address: Option<Mac>,
}

/// Router discovery on every device of a stack: the per-device lists and the counters.
#[derive(Debug, Default)]
pub struct RouterDiscovery {
    devices: BTreeMap<DeviceId, DeviceState>,
    counters: Counters,
}

/// Router discovery's state for one device.
#[derive(Debug)]
struct DeviceState {
    device: DeviceId,
    config: DeviceConfig,
    /// Router Solicitations still to send (RFC 4861 §6.3.7).
    solicitations_remaining: u8,
    /// The Default Router List, in the order routers were first heard.
    routers: Vec<DefaultRouter>,
    /// The router default router selection chose (RFC 4861 §6.3.6).
    default_router: Option<Ipv6Addr>,
    /// Where the next round-robin selection starts in `routers`.
    round_robin_next: usize,
    /// The Prefix List.
    prefixes: Vec<OnLinkPrefix>,
    /// DNS servers.
    dns_servers: Vec<DnsServer>,
    /// Redirected destinations, oldest first.
    redirects: Vec<RedirectEntry>,
    /// The last BaseReachableTime set, to tell whether a new one differs (RFC 4861 §6.3.4).
    base_reachable_time: Duration,
}

/// When a lifetime of `seconds` from `now` runs out; `None` for infinity.
fn lifetime_deadline(now: Instant, seconds: u32) -> Option<Instant> {
    (seconds != INFINITE_LIFETIME).then(|| now + Duration::from_secs(u64::from(seconds)))
}

/// Whether deadline `a` comes before `b`, `None` being never.
fn expires_before(a: Option<Instant>, b: Option<Instant>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Whether `deadline` (`None` being never) has come by `now`.
fn is_due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|deadline| deadline <= now)
}

/// Schedules `id` at `deadline`, or cancels it when the deadline is never.
fn schedule_deadline<C: TimerContext<RouterDiscoveryTimerId>>(
    ctx: &mut C,
    id: RouterDiscoveryTimerId,
    deadline: Option<Instant>,
) {
    match deadline {
        Some(at) => {
            ctx.schedule_timer(id, at);
        }
        None => {
            ctx.cancel_timer(&id);
        }
    }
}

/// An entry of a list whose lifetime runs out: a default router, an on-link prefix, a DNS
/// server.
trait Expiring {
    /// When its lifetime runs out; `None` for infinity.
    fn expires_at(&self) -> Option<Instant>;
}

impl Expiring for DefaultRouter {
    fn expires_at(&self) -> Option<Instant> {
        Some(self.expires_at)
    }
}

impl Expiring for OnLinkPrefix {
    fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }
}

impl Expiring for DnsServer {
    fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }
}

/// The index of the entry of `list` the lifetime timer `id` fired for, if its deadline has
/// come. Otherwise the timer is stale and counted: the entry is gone, or was refreshed
/// meanwhile and the timer is put back to its new deadline.
fn due_entry<C: TimerContext<RouterDiscoveryTimerId>, T: Expiring>(
    ctx: &mut C,
    counters: &mut Counters,
    id: RouterDiscoveryTimerId,
    list: &[T],
    is_entry: impl Fn(&T) -> bool,
) -> Option<usize> {
    let entry = list.iter().enumerate().find(|(_, entry)| is_entry(entry));
    match entry.map(|(index, entry)| (index, entry.expires_at())) {
        Some((index, expires_at)) if is_due(expires_at, ctx.now()) => Some(index),
        Some((_, expires_at)) => {
            counters.stale_timers += 1;
            schedule_deadline(ctx, id, expires_at);
            None
        }
        None => {
            counters.stale_timers += 1;
            None
        }
    }
}

/// The Ethernet address of the first link-layer address option `pick` selects.
fn first_ethernet_address<'a>(
    options: &NdpOptions<'a>,
    pick: impl Fn(NdpOption<'a>) -> Option<LinkLayerAddress<'a>>,
) -> Option<Mac> {
    options.iter().find_map(pick).and_then(|address| match address {
        LinkLayerAddress::Ethernet(mac) => Some(mac),
        LinkLayerAddress::Other(_) => None,
    })
}

impl RouterDiscovery {
    /// Router discovery running on no device.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts router discovery on `device` (the device came up): schedules the first Router
    /// Solicitation after a random delay (RFC 4861 §6.3.7) when the configuration accepts
    /// advertisements. If it was running, it restarts, as after the device was re-enabled.
    pub fn enable_device<C>(&mut self, ctx: &mut C, device: DeviceId, config: DeviceConfig)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RngContext + RouterDiscoveryContext,
    {
        self.disable_device(ctx, device);
        let mut state = DeviceState {
            device,
            config,
            solicitations_remaining: 0,
            routers: Vec::new(),
            default_router: None,
            round_robin_next: 0,
            prefixes: Vec::new(),
            dns_servers: Vec::new(),
            redirects: Vec::new(),
            base_reachable_time: REACHABLE_TIME,
        };
        // RFC 4861 §6.3.7: the first solicitation waits a random time below
        // MAX_RTR_SOLICITATION_DELAY.
        if config.accepts_router_advertisements() && config.router_solicitations > 0 {
            state.solicitations_remaining = config.router_solicitations;
            let delay = ctx.random_duration(Duration::ZERO..config.router_solicitation_delay);
            ctx.schedule_timer_after(RouterDiscoveryTimerId::Solicitation { device }, delay);
        }
        self.devices.insert(device, state);
    }

    /// Stops router discovery on `device` (the device went down or is removed): cancels its
    /// timers and withdraws everything learned on it (default route, on-link prefixes, DNS
    /// servers, redirects) through events. Returns whether it was running.
    pub fn disable_device<C>(&mut self, ctx: &mut C, device: DeviceId) -> bool
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        let Some(state) = self.devices.remove(&device) else { return false };
        ctx.cancel_timer(&RouterDiscoveryTimerId::Solicitation { device });
        if let Some(router) = state.default_router {
            ctx.on_event(RouterDiscoveryEvent::DefaultRouteRemoved { device, router });
        }
        for router in &state.routers {
            ctx.cancel_timer(&RouterDiscoveryTimerId::RouterLifetime { device, router: router.address });
        }
        for entry in &state.prefixes {
            ctx.cancel_timer(&RouterDiscoveryTimerId::PrefixLifetime { device, prefix: entry.prefix });
            ctx.on_event(RouterDiscoveryEvent::OnLinkPrefixRemoved { device, prefix: entry.prefix });
        }
        for server in &state.dns_servers {
            ctx.cancel_timer(&RouterDiscoveryTimerId::DnsServerLifetime { device, server: server.address });
            ctx.on_event(RouterDiscoveryEvent::DnsServerRemoved { device, server: server.address });
        }
        for entry in &state.redirects {
            ctx.on_event(RouterDiscoveryEvent::RedirectRemoved { device, destination: entry.destination });
        }
        true
    }

    /// Processes a Router Advertisement received on `device` from `src` (RFC 4861 §6.3.4).
    ///
    /// The IPv6 layer must have checked its Hop Limit of 255, and the ICMPv6 parser the rest
    /// of RFC 4861 §6.1.2 but the source, which is checked here. Entries that do not fit a
    /// full list are refused and counted; the advertisement is still processed.
    pub fn receive_router_advertisement<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        src: Ipv6Addr,
        ra: &RouterAdvertisement<'_>,
    ) -> Result<(), RouterAdvertisementError>
    where
        C: TimerContext<RouterDiscoveryTimerId> + RngContext + RouterDiscoveryContext,
    {
        let counters = &mut self.counters;
        counters.ra_received += 1;
        let Some(state) = self.devices.get_mut(&device) else {
            counters.ra_unknown_device += 1;
            return Err(RouterAdvertisementError::UnknownDevice { device, src });
        };
        if !state.config.accepts_router_advertisements() {
            counters.ra_not_accepted += 1;
            return Err(RouterAdvertisementError::NotAccepted {
                device,
                src,
                forwarding: state.config.forwarding,
            });
        }
        // RFC 4861 §6.1.2: advertisements come from the router's link-local address, which
        // is how hosts tell routers apart; any other source is invalid.
        if !src.is_unicast_link_local() {
            counters.ra_source_not_link_local += 1;
            return Err(RouterAdvertisementError::SourceNotLinkLocal { device, src });
        }
        counters.ra_accepted += 1;

        // RFC 4861 §6.3.7: a valid advertisement from a default router (non-zero Router
        // Lifetime) ends the solicitations.
        if ra.router_lifetime != 0 && state.solicitations_remaining > 0 {
            state.solicitations_remaining = 0;
            ctx.cancel_timer(&RouterDiscoveryTimerId::Solicitation { device });
        }

        // RFC 4861 §6.3.4: a non-zero Cur Hop Limit becomes the host's CurHopLimit.
        if ra.current_hop_limit != 0 {
            ctx.on_event(RouterDiscoveryEvent::CurHopLimit { device, hop_limit: ra.current_hop_limit });
        }
        // RFC 4861 §6.3.4: a non-zero Reachable Time sets BaseReachableTime, and a changed
        // value calls for a freshly randomized ReachableTime.
        if ra.reachable_time != 0 {
            let base = Duration::from_millis(u64::from(ra.reachable_time));
            let rerandomize = base != state.base_reachable_time;
            state.base_reachable_time = base;
            ctx.on_event(RouterDiscoveryEvent::BaseReachableTime { device, base, rerandomize });
        }
        // RFC 4861 §6.3.4: a non-zero Retrans Timer sets RetransTimer.
        if ra.retransmit_timer != 0 {
            let retrans = Duration::from_millis(u64::from(ra.retransmit_timer));
            ctx.on_event(RouterDiscoveryEvent::RetransTimer { device, retrans });
        }
        // RFC 4861 §6.3.4: record the Source Link-Layer Address in the router's neighbour
        // entry, and set its IsRouter flag. Done before the router joins the list, so that
        // default router selection sees the entry.
        let link_address = first_ethernet_address(&ra.options, |option| match option {
            NdpOption::SourceLinkLayerAddress(address) => Some(address),
            _ => None,
        });
        ctx.on_event(RouterDiscoveryEvent::RouterNeighbor { device, router: src, link_address });

        state.update_router(ctx, counters, src, ra.router_lifetime);

        for option in ra.options.iter() {
            match option {
                NdpOption::Mtu(mtu) => state.update_mtu(ctx, counters, mtu),
                NdpOption::PrefixInformation(info) => state.update_prefix(ctx, counters, &info),
                NdpOption::RecursiveDnsServer { lifetime, servers } => {
                    for server in servers.iter() {
                        state.update_dns_server(ctx, counters, server, lifetime);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Processes a Redirect received on `device` from `src` (RFC 4861 §8.1 validation, §8.3
    /// processing).
    ///
    /// The IPv6 layer must have checked its Hop Limit of 255, and the ICMPv6 parser the
    /// checksum, code, length and options; the address rules are checked here.
    pub fn receive_redirect<C>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        src: Ipv6Addr,
        redirect: &Redirect<'_>,
    ) -> Result<(), RedirectError>
    where
        C: RouterDiscoveryContext,
    {
        let counters = &mut self.counters;
        counters.redirects_received += 1;
        let Some(state) = self.devices.get_mut(&device) else {
            counters.redirect_unknown_device += 1;
            return Err(RedirectError::UnknownDevice { device, src });
        };
        if !state.config.accepts_redirects() {
            counters.redirect_not_accepted += 1;
            return Err(RedirectError::NotAccepted { device, src });
        }
        let Redirect { target, destination, options } = *redirect;
        // RFC 4861 §8.1: redirects come from a link-local source.
        if !src.is_unicast_link_local() {
            counters.redirect_source_not_link_local += 1;
            return Err(RedirectError::SourceNotLinkLocal { device, src });
        }
        // RFC 4861 §8.1: a redirect never concerns a multicast destination.
        if destination.is_multicast() {
            counters.redirect_destination_multicast += 1;
            return Err(RedirectError::DestinationMulticast { device, src, destination });
        }
        // RFC 4861 §8.1: the target is a router's link-local address, or the destination
        // itself when that is on-link.
        if !target.is_unicast_link_local() && target != destination {
            counters.redirect_target_invalid += 1;
            return Err(RedirectError::TargetInvalid { device, src, target, destination });
        }
        // RFC 4861 §8.1: only the router currently used as first hop for the destination may
        // redirect traffic to it.
        let first_hop = ctx.first_hop(destination);
        if first_hop != Some((device, src)) {
            counters.redirect_not_from_first_hop += 1;
            return Err(RedirectError::NotFromFirstHop { device, src, destination, first_hop });
        }
        // RFC 4861 §8.3: update the destination's first hop; record the target's link-layer
        // address if given; the target is a router unless it is the destination.
        let target_link_address = first_ethernet_address(&options, |option| match option {
            NdpOption::TargetLinkLayerAddress(address) => Some(address),
            _ => None,
        });
        let entry = RedirectEntry { destination, target, target_link_address };
        if let Some(index) = state.redirects.iter().position(|r| r.destination == destination) {
            state.redirects.remove(index);
        } else if state.redirects.len() >= MAX_REDIRECTS && !state.redirects.is_empty() {
            let evicted = state.redirects.remove(0);
            counters.redirects_evicted += 1;
            ctx.on_event(RouterDiscoveryEvent::RedirectRemoved { device, destination: evicted.destination });
        }
        state.redirects.push(entry);
        counters.redirects_applied += 1;
        ctx.on_event(RouterDiscoveryEvent::Redirect {
            device,
            destination,
            target,
            target_link_address,
            target_is_router: target != destination,
        });
        Ok(())
    }

    /// NUD's view of `neighbor` on `device` changed (it became reachable, or its entry
    /// became INCOMPLETE or was removed): re-runs default router selection if it is a router
    /// of the list (RFC 4861 §6.3.6). If it is the selected router and no router is probably
    /// reachable, selection moves on to the next router round-robin.
    pub fn neighbor_reachability_changed<C>(&mut self, ctx: &mut C, device: DeviceId, neighbor: Ipv6Addr)
    where
        C: RouterDiscoveryContext,
    {
        let Some(state) = self.devices.get_mut(&device) else { return };
        if state.routers.iter().any(|router| router.address == neighbor) {
            let rotate = state.default_router == Some(neighbor);
            state.select_default_router(ctx, &mut self.counters, rotate);
        }
    }

    /// NUD saw `neighbor`'s IsRouter flag change from true to false on `device`
    /// (RFC 4861 §7.2.5): removes it from the Default Router List and forgets the redirects
    /// through it.
    pub fn neighbor_no_longer_router<C>(&mut self, ctx: &mut C, device: DeviceId, neighbor: Ipv6Addr)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        let Some(state) = self.devices.get_mut(&device) else { return };
        if let Some(index) = state.routers.iter().position(|router| router.address == neighbor) {
            self.counters.routers_no_longer_router += 1;
            state.remove_router(ctx, &mut self.counters, index);
        } else {
            state.remove_redirects_through(ctx, neighbor);
        }
    }

    /// Handles the timer `id` the host fired.
    pub fn handle_timer<C>(&mut self, ctx: &mut C, id: RouterDiscoveryTimerId)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RngContext + RouterDiscoveryContext,
    {
        let counters = &mut self.counters;
        let device = match id {
            RouterDiscoveryTimerId::Solicitation { device }
            | RouterDiscoveryTimerId::RouterLifetime { device, .. }
            | RouterDiscoveryTimerId::PrefixLifetime { device, .. }
            | RouterDiscoveryTimerId::DnsServerLifetime { device, .. } => device,
        };
        let Some(state) = self.devices.get_mut(&device) else {
            counters.stale_timers += 1;
            return;
        };
        // A lifetime timer acts only on an entry whose deadline has come (see `due_entry`).
        match id {
            RouterDiscoveryTimerId::Solicitation { .. } => state.send_solicitation(ctx, counters),
            RouterDiscoveryTimerId::RouterLifetime { router, .. } => {
                if let Some(index) = due_entry(ctx, counters, id, &state.routers, |r| r.address == router) {
                    // RFC 4861 §6.3.5: the router's lifetime ran out.
                    counters.routers_expired += 1;
                    state.remove_router(ctx, counters, index);
                }
            }
            RouterDiscoveryTimerId::PrefixLifetime { prefix, .. } => {
                if let Some(index) = due_entry(ctx, counters, id, &state.prefixes, |p| p.prefix == prefix) {
                    // RFC 4861 §6.3.5: the prefix's Valid Lifetime ran out.
                    counters.prefixes_expired += 1;
                    state.remove_prefix(ctx, index);
                }
            }
            RouterDiscoveryTimerId::DnsServerLifetime { server, .. } => {
                if let Some(index) = due_entry(ctx, counters, id, &state.dns_servers, |s| s.address == server)
                {
                    // RFC 8106 §5.1: a server past its lifetime is no longer used.
                    counters.dns_servers_expired += 1;
                    state.remove_dns_server(ctx, index);
                }
            }
        }
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Whether router discovery runs on `device`.
    pub fn is_enabled(&self, device: DeviceId) -> bool {
        self.devices.contains_key(&device)
    }

    /// `device`'s Default Router List, in the order routers were first heard.
    pub fn default_routers(&self, device: DeviceId) -> &[DefaultRouter] {
        self.devices.get(&device).map_or(&[], |state| &state.routers)
    }

    /// The router default router selection chose on `device`: the one the default route
    /// goes through.
    pub fn selected_default_router(&self, device: DeviceId) -> Option<Ipv6Addr> {
        self.devices.get(&device).and_then(|state| state.default_router)
    }

    /// `device`'s Prefix List.
    pub fn on_link_prefixes(&self, device: DeviceId) -> &[OnLinkPrefix] {
        self.devices.get(&device).map_or(&[], |state| &state.prefixes)
    }

    /// `device`'s DNS servers.
    pub fn dns_servers(&self, device: DeviceId) -> &[DnsServer] {
        self.devices.get(&device).map_or(&[], |state| &state.dns_servers)
    }

    /// `device`'s redirected destinations, oldest first.
    pub fn redirects(&self, device: DeviceId) -> &[RedirectEntry] {
        self.devices.get(&device).map_or(&[], |state| &state.redirects)
    }
}

impl DeviceState {
    /// Sends the next Router Solicitation and schedules the one after (RFC 4861 §6.3.7).
    fn send_solicitation<C>(&mut self, ctx: &mut C, counters: &mut Counters)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        let Some(remaining) = self.solicitations_remaining.checked_sub(1) else {
            counters.stale_timers += 1;
            return;
        };
        self.solicitations_remaining = remaining;
        let device = self.device;
        // RFC 4861 §6.3.7 and §4.1: from a link-local address with the Source Link-Layer
        // Address option, or from the unspecified address without it while none is usable.
        match ctx.link_local_address(device).filter(Ipv6Addr::is_unicast_link_local) {
            Some(src) => {
                let option = self
                    .config
                    .link_address
                    .map(|mac| [NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(mac))]);
                let options = option.as_ref().map_or(NdpOptions::EMPTY, |option| NdpOptions::new(option));
                ctx.send_router_solicitation(device, src, RouterSolicitation { options });
            }
            None => {
                ctx.send_router_solicitation(device, Ipv6Addr::UNSPECIFIED, RouterSolicitation::default())
            }
        }
        counters.rs_sent += 1;
        if remaining > 0 {
            ctx.schedule_timer_after(
                RouterDiscoveryTimerId::Solicitation { device },
                self.config.router_solicitation_interval,
            );
        }
    }

    /// Applies an advertisement's Router Lifetime to the Default Router List
    /// (RFC 4861 §6.3.4).
    fn update_router<C>(&mut self, ctx: &mut C, counters: &mut Counters, router: Ipv6Addr, lifetime: u16)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        let timer = RouterDiscoveryTimerId::RouterLifetime { device: self.device, router };
        let expires_at = ctx.now() + Duration::from_secs(u64::from(lifetime));
        let index = self.routers.iter().position(|r| r.address == router);
        match (index, lifetime) {
            // RFC 4861 §6.3.4: an unknown router advertising a zero lifetime changes nothing.
            (None, 0) => {}
            // A known router advertising a zero lifetime is timed out at once (§6.3.5).
            (Some(index), 0) => {
                counters.routers_withdrawn += 1;
                self.remove_router(ctx, counters, index);
            }
            // A known router gets its invalidation timer restarted.
            (Some(index), _) => {
                if let Some(entry) = self.routers.get_mut(index) {
                    entry.expires_at = expires_at;
                    ctx.schedule_timer(timer, expires_at);
                }
            }
            // A new router gets an entry whose timer runs for its lifetime, if there is room.
            (None, _) => {
                if self.routers.len() >= MAX_DEFAULT_ROUTERS {
                    counters.routers_refused_list_full += 1;
                    return;
                }
                self.routers.push(DefaultRouter { address: router, expires_at });
                counters.routers_added += 1;
                ctx.schedule_timer(timer, expires_at);
                self.select_default_router(ctx, counters, false);
            }
        }
    }

    /// Removes the router at `index` (RFC 4861 §6.3.5): selects another default router if it
    /// was the chosen one, and forgets the redirects through it, whose first hop is gone.
    fn remove_router<C>(&mut self, ctx: &mut C, counters: &mut Counters, index: usize)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        if index >= self.routers.len() {
            return;
        }
        let router = self.routers.remove(index).address;
        ctx.cancel_timer(&RouterDiscoveryTimerId::RouterLifetime { device: self.device, router });
        if self.default_router == Some(router) {
            self.select_default_router(ctx, counters, true);
        }
        self.remove_redirects_through(ctx, router);
    }

    /// Default router selection (RFC 4861 §6.3.6): keep the chosen router while it is
    /// probably reachable; otherwise take the first probably reachable router in round-robin
    /// order. When none is, keep the chosen router unless `rotate` (NUD just found it
    /// unreachable) or it is gone, and then take the next router round-robin, so that NUD
    /// probes each in turn. Emits the change of default route.
    fn select_default_router<C>(&mut self, ctx: &mut C, counters: &mut Counters, rotate: bool)
    where
        C: RouterDiscoveryContext,
    {
        let device = self.device;
        let probably_reachable = |ctx: &C, router: Ipv6Addr| {
            ctx.router_reachability(device, router) == RouterReachability::ProbablyReachable
        };
        let current =
            self.default_router.filter(|current| self.routers.iter().any(|r| r.address == *current));
        let chosen = match current {
            Some(current) if probably_reachable(ctx, current) => Some(current),
            _ => {
                let candidates = || {
                    self.routers
                        .iter()
                        .enumerate()
                        .cycle()
                        .skip(self.round_robin_next)
                        .take(self.routers.len())
                        .map(|(index, router)| (index, router.address))
                };
                match candidates().find(|&(_, router)| probably_reachable(ctx, router)) {
                    Some((index, router)) => {
                        self.round_robin_next = index + 1;
                        Some(router)
                    }
                    None if current.is_some() && !rotate => current,
                    None => candidates().next().map(|(index, router)| {
                        self.round_robin_next = index + 1;
                        router
                    }),
                }
            }
        };
        if chosen == self.default_router {
            return;
        }
        counters.default_router_changes += 1;
        if let Some(router) = self.default_router {
            ctx.on_event(RouterDiscoveryEvent::DefaultRouteRemoved { device, router });
        }
        if let Some(router) = chosen {
            ctx.on_event(RouterDiscoveryEvent::DefaultRouteAdded { device, router });
        }
        self.default_router = chosen;
    }

    /// Forgets the redirects whose first hop is the router `router` (RFC 4861 §6.3.5, §7.2.5:
    /// destinations using it must be routed anew).
    fn remove_redirects_through<C: RouterDiscoveryContext>(&mut self, ctx: &mut C, router: Ipv6Addr) {
        let device = self.device;
        self.redirects.retain(|entry| {
            let through = entry.target == router && entry.target != entry.destination;
            if through {
                ctx.on_event(RouterDiscoveryEvent::RedirectRemoved {
                    device,
                    destination: entry.destination,
                });
            }
            !through
        });
    }

    /// Applies an MTU option (RFC 4861 §6.3.4): the value becomes the link MTU when it lies
    /// between the IPv6 minimum and the device's own maximum; other values are ignored.
    fn update_mtu<C: RouterDiscoveryContext>(&mut self, ctx: &mut C, counters: &mut Counters, mtu: u32) {
        if !(IPV6_MIN_MTU..=self.config.device_mtu).contains(&mtu) {
            counters.mtu_out_of_range += 1;
            return;
        }
        counters.mtu_applied += 1;
        ctx.on_event(RouterDiscoveryEvent::LinkMtu { device: self.device, mtu });
    }

    /// Applies a Prefix Information option (RFC 4861 §6.3.4): on-link determination for the
    /// L flag, SLAAC for the A flag.
    fn update_prefix<C>(&mut self, ctx: &mut C, counters: &mut Counters, info: &PrefixInformation)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        // RFC 4861 §4.6.2: bits past the prefix length carry no meaning and are ignored.
        let Ok(prefix) = Subnet::from_host(info.prefix, info.prefix_length) else {
            counters.prefix_invalid_length += 1;
            return;
        };
        // RFC 4861 §6.3.4 (and RFC 4862 §5.5.3 b for autoconfiguration): a link-local prefix
        // in a Prefix Information option is ignored; Linux ignores multicast prefixes too.
        if prefix.network().is_unicast_link_local() {
            counters.prefix_link_local_ignored += 1;
            return;
        }
        if prefix.network().is_multicast() {
            counters.prefix_multicast_ignored += 1;
            return;
        }
        // RFC 4861 §6.3.4: a clear L flag says nothing about on-link status; in particular it
        // does not make the prefix off-link.
        if info.on_link {
            self.update_on_link_prefix(ctx, counters, prefix, info.valid_lifetime);
        }
        if info.autonomous {
            counters.autoconfiguration_prefixes += 1;
            ctx.on_event(RouterDiscoveryEvent::AutoconfigurationPrefix {
                device: self.device,
                prefix: *info,
            });
        }
    }

    /// Applies an on-link prefix's Valid Lifetime to the Prefix List (RFC 4861 §6.3.4).
    fn update_on_link_prefix<C>(
        &mut self,
        ctx: &mut C,
        counters: &mut Counters,
        prefix: Subnet<Ipv6Addr>,
        valid_lifetime: u32,
    ) where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        let timer = RouterDiscoveryTimerId::PrefixLifetime { device: self.device, prefix };
        let expires_at = lifetime_deadline(ctx.now(), valid_lifetime);
        let index = self.prefixes.iter().position(|p| p.prefix == prefix);
        match (index, valid_lifetime) {
            // RFC 4861 §6.3.4: a zero lifetime for an unknown prefix changes nothing.
            (None, 0) => {}
            // A zero lifetime for a known prefix expires it at once.
            (Some(index), 0) => {
                counters.prefixes_withdrawn += 1;
                self.remove_prefix(ctx, index);
            }
            // A known prefix gets its invalidation timer restarted at the new lifetime.
            (Some(index), _) => {
                if let Some(entry) = self.prefixes.get_mut(index) {
                    entry.expires_at = expires_at;
                    schedule_deadline(ctx, timer, expires_at);
                }
            }
            // A new prefix gets an entry whose timer runs for the lifetime, if there is room.
            (None, _) => {
                if self.prefixes.len() >= MAX_ON_LINK_PREFIXES {
                    counters.prefixes_refused_list_full += 1;
                    return;
                }
                self.prefixes.push(OnLinkPrefix { prefix, expires_at });
                counters.prefixes_added += 1;
                schedule_deadline(ctx, timer, expires_at);
                ctx.on_event(RouterDiscoveryEvent::OnLinkPrefixAdded { device: self.device, prefix });
            }
        }
    }

    /// Removes the on-link prefix at `index` and its route.
    fn remove_prefix<C>(&mut self, ctx: &mut C, index: usize)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        if index >= self.prefixes.len() {
            return;
        }
        let prefix = self.prefixes.remove(index).prefix;
        ctx.cancel_timer(&RouterDiscoveryTimerId::PrefixLifetime { device: self.device, prefix });
        ctx.on_event(RouterDiscoveryEvent::OnLinkPrefixRemoved { device: self.device, prefix });
    }

    /// Applies one address of an RDNSS option (RFC 8106 §5.1, §5.3.1): a lifetime of 0
    /// withdraws the server, another adds it or refreshes its expiry. A full list gives up the
    /// server that would expire first, if the new one outlives it.
    fn update_dns_server<C>(&mut self, ctx: &mut C, counters: &mut Counters, server: Ipv6Addr, lifetime: u32)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        if !server.is_unicast() {
            counters.dns_servers_not_unicast += 1;
            return;
        }
        let timer = RouterDiscoveryTimerId::DnsServerLifetime { device: self.device, server };
        let expires_at = lifetime_deadline(ctx.now(), lifetime);
        let index = self.dns_servers.iter().position(|s| s.address == server);
        match (index, lifetime) {
            (None, 0) => {}
            // RFC 8106 §5.1: a zero lifetime withdraws the servers.
            (Some(index), 0) => {
                counters.dns_servers_withdrawn += 1;
                self.remove_dns_server(ctx, index);
            }
            (Some(index), _) => {
                if let Some(entry) = self.dns_servers.get_mut(index) {
                    entry.expires_at = expires_at;
                    schedule_deadline(ctx, timer, expires_at);
                }
            }
            (None, _) => {
                if self.dns_servers.len() >= MAX_DNS_SERVERS {
                    let soonest = self
                        .dns_servers
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| expires_before(s.expires_at, expires_at))
                        .min_by_key(|(_, s)| (s.expires_at.is_none(), s.expires_at))
                        .map(|(index, _)| index);
                    let Some(index) = soonest else {
                        counters.dns_servers_refused_list_full += 1;
                        return;
                    };
                    counters.dns_servers_replaced += 1;
                    self.remove_dns_server(ctx, index);
                }
                self.dns_servers.push(DnsServer { address: server, expires_at });
                counters.dns_servers_added += 1;
                schedule_deadline(ctx, timer, expires_at);
                ctx.on_event(RouterDiscoveryEvent::DnsServerAdded { device: self.device, server });
            }
        }
    }

    /// Removes the DNS server at `index`.
    fn remove_dns_server<C>(&mut self, ctx: &mut C, index: usize)
    where
        C: TimerContext<RouterDiscoveryTimerId> + RouterDiscoveryContext,
    {
        if index >= self.dns_servers.len() {
            return;
        }
        let server = self.dns_servers.remove(index).address;
        ctx.cancel_timer(&RouterDiscoveryTimerId::DnsServerLifetime { device: self.device, server });
        ctx.on_event(RouterDiscoveryEvent::DnsServerRemoved { device: self.device, server });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::InstantContext;
    use crate::testutil::fake::FakeCtx;
    use alloc::collections::BTreeSet;
    use alloc::vec;
    use proptest::prelude::*;

    const DEV: DeviceId = DeviceId::new(1);
    const DEV2: DeviceId = DeviceId::new(2);
    const MAC: Mac = Mac::new([0x02, 0, 0, 0, 0, 0x01]);
    const ROUTER_MAC: Mac = Mac::new([0x02, 0, 0, 0, 0, 0xaa]);
    const DEVICE_MTU: u32 = 1500;

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().expect("test address")
    }

    fn subnet(network: &str, prefix_len: u8) -> Subnet<Ipv6Addr> {
        Subnet::new(addr(network), prefix_len).expect("test subnet")
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// A Router Solicitation the module asked to send.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct SentSolicitation {
        device: DeviceId,
        src: Ipv6Addr,
        at: Instant,
        source_link_address: Option<Mac>,
        options: usize,
    }

    /// What the stack would hold after applying the events: checks that they are
    /// consistent (nothing added twice or removed while absent, one default route per
    /// device), and answers first-hop queries from it.
    #[derive(Debug, Default)]
    struct Routes {
        default: BTreeMap<DeviceId, Ipv6Addr>,
        on_link: BTreeSet<(DeviceId, Subnet<Ipv6Addr>)>,
        dns: BTreeSet<(DeviceId, Ipv6Addr)>,
        redirects: BTreeMap<(DeviceId, Ipv6Addr), Ipv6Addr>,
    }

    /// What the fake host records besides clock, timers and randomness.
    #[derive(Default)]
    struct Host {
        link_local: BTreeMap<DeviceId, Ipv6Addr>,
        reachable: BTreeSet<Ipv6Addr>,
        solicitations: Vec<SentSolicitation>,
        events: Vec<RouterDiscoveryEvent>,
        routes: Routes,
    }

    type Ctx = FakeCtx<RouterDiscoveryTimerId, Host>;

    fn new_ctx(seed: u64) -> Ctx {
        FakeCtx::with_state(seed, Host::default())
    }

    impl Ctx {
        fn take_events(&mut self) -> Vec<RouterDiscoveryEvent> {
            core::mem::take(&mut self.state.events)
        }
    }

    impl RouterDiscoveryContext for Ctx {
        fn link_local_address(&self, device: DeviceId) -> Option<Ipv6Addr> {
            self.state.link_local.get(&device).copied()
        }

        fn router_reachability(&self, _device: DeviceId, router: Ipv6Addr) -> RouterReachability {
            if self.state.reachable.contains(&router) {
                RouterReachability::ProbablyReachable
            } else {
                RouterReachability::Unknown
            }
        }

        fn first_hop(&self, destination: Ipv6Addr) -> Option<(DeviceId, Ipv6Addr)> {
            if let Some((&(device, _), &target)) =
                self.state.routes.redirects.iter().find(|((_, d), _)| *d == destination)
            {
                return Some((device, target));
            }
            if let Some(&(device, _)) =
                self.state.routes.on_link.iter().find(|(_, p)| p.contains(&destination))
            {
                return Some((device, destination));
            }
            self.state.routes.default.iter().next().map(|(&device, &router)| (device, router))
        }

        fn send_router_solicitation(
            &mut self,
            device: DeviceId,
            src: Ipv6Addr,
            solicitation: RouterSolicitation<'_>,
        ) {
            let source_link_address = solicitation.options.iter().find_map(|option| match option {
                NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(mac)) => Some(mac),
                _ => None,
            });
            self.state.solicitations.push(SentSolicitation {
                device,
                src,
                at: self.now(),
                source_link_address,
                options: solicitation.options.iter().count(),
            });
        }

        fn on_event(&mut self, event: RouterDiscoveryEvent) {
            let routes = &mut self.state.routes;
            match event {
                RouterDiscoveryEvent::DefaultRouteAdded { device, router } => {
                    assert_eq!(
                        routes.default.insert(device, router),
                        None,
                        "second default route on {device}"
                    );
                }
                RouterDiscoveryEvent::DefaultRouteRemoved { device, router } => {
                    assert_eq!(
                        routes.default.remove(&device),
                        Some(router),
                        "removed an absent default route"
                    );
                }
                RouterDiscoveryEvent::OnLinkPrefixAdded { device, prefix } => {
                    assert!(routes.on_link.insert((device, prefix)), "{prefix} added twice");
                }
                RouterDiscoveryEvent::OnLinkPrefixRemoved { device, prefix } => {
                    assert!(routes.on_link.remove(&(device, prefix)), "removed absent {prefix}");
                }
                RouterDiscoveryEvent::DnsServerAdded { device, server } => {
                    assert!(routes.dns.insert((device, server)), "{server} added twice");
                }
                RouterDiscoveryEvent::DnsServerRemoved { device, server } => {
                    assert!(routes.dns.remove(&(device, server)), "removed absent {server}");
                }
                RouterDiscoveryEvent::Redirect { device, destination, target, .. } => {
                    routes.redirects.insert((device, destination), target);
                }
                RouterDiscoveryEvent::RedirectRemoved { device, destination } => {
                    assert!(routes.redirects.remove(&(device, destination)).is_some(), "absent redirect");
                }
                _ => {}
            }
            self.state.events.push(event);
        }
    }

    /// Fires the timers due in the next `by`, in order, then leaves the clock there.
    fn advance(rd: &mut RouterDiscovery, ctx: &mut Ctx, by: Duration) {
        let deadline = ctx.now() + by;
        while let Some(id) = ctx.pop_due(deadline) {
            rd.handle_timer(ctx, id);
        }
        ctx.advance_to(deadline, |_, id| panic!("{id:?} left due"));
    }

    /// A host configuration that sends no solicitations, for tests about advertisements.
    fn quiet_config() -> DeviceConfig {
        DeviceConfig { router_solicitations: 0, ..DeviceConfig::host(Some(MAC), DEVICE_MTU) }
    }

    /// Router discovery on `DEV` with `quiet_config`, and a link-local address.
    fn setup() -> (RouterDiscovery, Ctx) {
        let mut ctx = new_ctx(7);
        ctx.state.link_local.insert(DEV, addr("fe80::1:1"));
        let mut rd = RouterDiscovery::new();
        rd.enable_device(&mut ctx, DEV, quiet_config());
        (rd, ctx)
    }

    fn advertisement<'a>(router_lifetime: u16, options: &'a [NdpOption<'a>]) -> RouterAdvertisement<'a> {
        RouterAdvertisement {
            current_hop_limit: 0,
            managed: false,
            other_config: false,
            router_lifetime,
            reachable_time: 0,
            retransmit_timer: 0,
            options: NdpOptions::new(options),
        }
    }

    fn prefix_option(
        prefix: &str,
        prefix_length: u8,
        on_link: bool,
        autonomous: bool,
        valid_lifetime: u32,
    ) -> NdpOption<'static> {
        NdpOption::PrefixInformation(PrefixInformation {
            prefix_length,
            on_link,
            autonomous,
            valid_lifetime,
            preferred_lifetime: valid_lifetime / 2,
            prefix: addr(prefix),
        })
    }

    fn receive(rd: &mut RouterDiscovery, ctx: &mut Ctx, router: &str, ra: RouterAdvertisement<'_>) {
        rd.receive_router_advertisement(ctx, DEV, addr(router), &ra).expect("advertisement accepted");
    }

    fn default_route_events(events: &[RouterDiscoveryEvent]) -> Vec<RouterDiscoveryEvent> {
        events
            .iter()
            .copied()
            .filter(|e| {
                matches!(
                    e,
                    RouterDiscoveryEvent::DefaultRouteAdded { .. }
                        | RouterDiscoveryEvent::DefaultRouteRemoved { .. }
                )
            })
            .collect()
    }

    #[test]
    fn rfc4861_6_3_7_solicitations_follow_a_random_delay_then_the_interval() {
        let mut delays = BTreeSet::new();
        for seed in 0..16 {
            let mut ctx = new_ctx(seed);
            ctx.state.link_local.insert(DEV, addr("fe80::1:1"));
            let mut rd = RouterDiscovery::new();
            rd.enable_device(&mut ctx, DEV, DeviceConfig::host(Some(MAC), DEVICE_MTU));
            let first = ctx.scheduled_at(&RouterDiscoveryTimerId::Solicitation { device: DEV });
            let first = first.expect("first solicitation scheduled");
            assert!(first - Instant::ZERO < MAX_RTR_SOLICITATION_DELAY);
            delays.insert(first);
            advance(&mut rd, &mut ctx, secs(60));
            let times: Vec<Instant> = ctx.state.solicitations.iter().map(|s| s.at).collect();
            assert_eq!(times, [first, first + secs(4), first + secs(8)]);
            assert!(ctx.state.solicitations.iter().all(|s| s.device == DEV && s.src == addr("fe80::1:1")));
            assert!(ctx.timers().is_empty(), "no solicitation after MAX_RTR_SOLICITATIONS");
            assert_eq!(rd.counters().rs_sent, 3);
        }
        assert!(delays.len() > 1, "the delay is random");
    }

    #[test]
    fn rfc4861_6_3_7_solicitation_from_unspecified_carries_no_link_layer_address() {
        let mut ctx = new_ctx(1);
        let mut rd = RouterDiscovery::new();
        rd.enable_device(&mut ctx, DEV, DeviceConfig::host(Some(MAC), DEVICE_MTU));
        advance(&mut rd, &mut ctx, secs(1));
        assert_eq!(ctx.state.solicitations.len(), 1);
        assert_eq!(ctx.state.solicitations[0].src, Ipv6Addr::UNSPECIFIED);
        assert_eq!(ctx.state.solicitations[0].options, 0);
        // A tentative or otherwise unusable global address is no source either.
        ctx.state.link_local.insert(DEV, addr("2001:db8::1"));
        advance(&mut rd, &mut ctx, secs(4));
        assert_eq!(
            (ctx.state.solicitations[1].src, ctx.state.solicitations[1].options),
            (Ipv6Addr::UNSPECIFIED, 0)
        );
        // Once the link-local address is usable, it is the source, with our link-layer address.
        ctx.state.link_local.insert(DEV, addr("fe80::1:1"));
        advance(&mut rd, &mut ctx, secs(4));
        assert_eq!(ctx.state.solicitations[2].src, addr("fe80::1:1"));
        assert_eq!(ctx.state.solicitations[2].source_link_address, Some(MAC));
        assert_eq!(ctx.state.solicitations[2].options, 1);
    }

    #[test]
    fn rfc4861_6_3_7_advertisement_with_router_lifetime_stops_solicitations() {
        let mut ctx = new_ctx(3);
        ctx.state.link_local.insert(DEV, addr("fe80::1:1"));
        let mut rd = RouterDiscovery::new();
        rd.enable_device(&mut ctx, DEV, DeviceConfig::host(Some(MAC), DEVICE_MTU));
        advance(&mut rd, &mut ctx, secs(1));
        assert_eq!(ctx.state.solicitations.len(), 1);
        // A Router Lifetime of 0 is no default router: keep soliciting.
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &[]));
        advance(&mut rd, &mut ctx, secs(4));
        assert_eq!(ctx.state.solicitations.len(), 2);
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(1800, &[]));
        advance(&mut rd, &mut ctx, secs(60));
        assert_eq!(ctx.state.solicitations.len(), 2);
        assert_eq!(ctx.scheduled_at(&RouterDiscoveryTimerId::Solicitation { device: DEV }), None);
    }

    #[test]
    fn linux_accept_ra_ignores_advertisements_while_forwarding() {
        let mut ctx = new_ctx(1);
        let mut rd = RouterDiscovery::new();
        let forwarding = DeviceConfig { forwarding: true, ..DeviceConfig::host(Some(MAC), DEVICE_MTU) };
        rd.enable_device(&mut ctx, DEV, forwarding);
        assert!(ctx.timers().is_empty(), "a forwarding device does not solicit");
        let ra = advertisement(1800, &[]);
        assert_eq!(
            rd.receive_router_advertisement(&mut ctx, DEV, addr("fe80::1"), &ra),
            Err(RouterAdvertisementError::NotAccepted {
                device: DEV,
                src: addr("fe80::1"),
                forwarding: true
            })
        );
        assert!(ctx.state.events.is_empty());
        assert!(rd.default_routers(DEV).is_empty());

        // accept_ra 2 overrides forwarding.
        rd.enable_device(&mut ctx, DEV, DeviceConfig { accept_ra: AcceptRa::Always, ..forwarding });
        assert!(ctx.scheduled_at(&RouterDiscoveryTimerId::Solicitation { device: DEV }).is_some());
        assert_eq!(rd.receive_router_advertisement(&mut ctx, DEV, addr("fe80::1"), &ra), Ok(()));
        assert_eq!(rd.selected_default_router(DEV), Some(addr("fe80::1")));

        // accept_ra 0 ignores them even on a host.
        let never = DeviceConfig { accept_ra: AcceptRa::Never, ..quiet_config() };
        rd.enable_device(&mut ctx, DEV, never);
        assert!(rd.receive_router_advertisement(&mut ctx, DEV, addr("fe80::1"), &ra).is_err());
        assert_eq!(rd.counters().ra_not_accepted, 2);
    }

    #[test]
    fn rfc4861_6_1_2_advertisement_from_non_link_local_source_is_dropped() {
        let (mut rd, mut ctx) = setup();
        let ra = RouterAdvertisement { current_hop_limit: 64, ..advertisement(1800, &[]) };
        assert_eq!(
            rd.receive_router_advertisement(&mut ctx, DEV, addr("2001:db8::1"), &ra),
            Err(RouterAdvertisementError::SourceNotLinkLocal { device: DEV, src: addr("2001:db8::1") })
        );
        assert_eq!(
            rd.receive_router_advertisement(&mut ctx, DEV2, addr("fe80::1"), &ra),
            Err(RouterAdvertisementError::UnknownDevice { device: DEV2, src: addr("fe80::1") })
        );
        assert!(ctx.state.events.is_empty());
        assert!(rd.default_routers(DEV).is_empty());
        let counters = rd.counters();
        assert_eq!((counters.ra_received, counters.ra_accepted), (2, 0));
        assert_eq!((counters.ra_source_not_link_local, counters.ra_unknown_device), (1, 1));
    }

    #[test]
    fn rfc4861_6_3_4_cur_hop_limit_is_set_only_when_non_zero() {
        let (mut rd, mut ctx) = setup();
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            RouterAdvertisement { current_hop_limit: 0, ..advertisement(0, &[]) },
        );
        assert!(!ctx.take_events().iter().any(|e| matches!(e, RouterDiscoveryEvent::CurHopLimit { .. })));
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            RouterAdvertisement { current_hop_limit: 42, ..advertisement(0, &[]) },
        );
        assert!(ctx
            .take_events()
            .contains(&RouterDiscoveryEvent::CurHopLimit { device: DEV, hop_limit: 42 }));
    }

    #[test]
    fn rfc4861_6_3_4_reachable_time_sets_base_and_rerandomizes_when_it_changes() {
        let (mut rd, mut ctx) = setup();
        let mut reachable = |rd: &mut RouterDiscovery, ms: u32| {
            receive(
                rd,
                &mut ctx,
                "fe80::1",
                RouterAdvertisement { reachable_time: ms, ..advertisement(0, &[]) },
            );
            ctx.take_events()
                .into_iter()
                .filter(|e| matches!(e, RouterDiscoveryEvent::BaseReachableTime { .. }))
                .collect::<Vec<_>>()
        };
        let base = |ms, rerandomize| RouterDiscoveryEvent::BaseReachableTime {
            device: DEV,
            base: Duration::from_millis(ms),
            rerandomize,
        };
        // The default is REACHABLE_TIME: advertising it changes nothing to re-randomize.
        assert_eq!(reachable(&mut rd, 30_000), [base(30_000, false)]);
        assert_eq!(reachable(&mut rd, 20_000), [base(20_000, true)]);
        assert_eq!(reachable(&mut rd, 20_000), [base(20_000, false)]);
        assert_eq!(reachable(&mut rd, 0), []);
    }

    #[test]
    fn rfc4861_6_3_4_retrans_timer_is_set_only_when_non_zero() {
        let (mut rd, mut ctx) = setup();
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            RouterAdvertisement { retransmit_timer: 0, ..advertisement(0, &[]) },
        );
        assert!(!ctx.take_events().iter().any(|e| matches!(e, RouterDiscoveryEvent::RetransTimer { .. })));
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            RouterAdvertisement { retransmit_timer: 1500, ..advertisement(0, &[]) },
        );
        assert!(ctx.take_events().contains(&RouterDiscoveryEvent::RetransTimer {
            device: DEV,
            retrans: Duration::from_millis(1500)
        }));
    }

    #[test]
    fn rfc4861_6_3_4_source_link_layer_address_is_recorded_for_the_router() {
        let (mut rd, mut ctx) = setup();
        let slla = [NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(ROUTER_MAC))];
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &slla));
        assert!(ctx.take_events().contains(&RouterDiscoveryEvent::RouterNeighbor {
            device: DEV,
            router: addr("fe80::1"),
            link_address: Some(ROUTER_MAC),
        }));
        // Without the option (or with a non-Ethernet one) the entry's IsRouter is still set.
        let other = [NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Other(&[1, 2, 3, 4, 5, 6, 7, 8]))];
        for options in [&[][..], &other[..]] {
            receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, options));
            assert!(ctx.take_events().contains(&RouterDiscoveryEvent::RouterNeighbor {
                device: DEV,
                router: addr("fe80::1"),
                link_address: None,
            }));
        }
    }

    #[test]
    fn rfc4861_6_3_5_router_lifetime_expiry_removes_the_default_route() {
        let (mut rd, mut ctx) = setup();
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(10, &[]));
        let router = addr("fe80::1");
        assert_eq!(
            default_route_events(&ctx.take_events()),
            [RouterDiscoveryEvent::DefaultRouteAdded { device: DEV, router }]
        );
        assert_eq!(
            rd.default_routers(DEV),
            [DefaultRouter { address: router, expires_at: Instant::ZERO + secs(10) }]
        );
        advance(&mut rd, &mut ctx, Duration::from_millis(9_999));
        assert_eq!(rd.selected_default_router(DEV), Some(router));
        advance(&mut rd, &mut ctx, Duration::from_millis(1));
        assert_eq!(
            default_route_events(&ctx.take_events()),
            [RouterDiscoveryEvent::DefaultRouteRemoved { device: DEV, router }]
        );
        assert!(rd.default_routers(DEV).is_empty());
        assert_eq!(rd.counters().routers_expired, 1);
    }

    #[test]
    fn rfc4861_6_3_4_router_lifetime_refresh_resets_the_timer() {
        let (mut rd, mut ctx) = setup();
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(10, &[]));
        advance(&mut rd, &mut ctx, secs(5));
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(10, &[]));
        let timer = RouterDiscoveryTimerId::RouterLifetime { device: DEV, router: addr("fe80::1") };
        assert_eq!(ctx.scheduled_at(&timer), Some(Instant::ZERO + secs(15)));
        advance(&mut rd, &mut ctx, secs(9));
        assert_eq!(rd.selected_default_router(DEV), Some(addr("fe80::1")));
        assert_eq!(rd.counters().routers_added, 1, "a refresh adds no second entry");
        advance(&mut rd, &mut ctx, secs(1));
        assert_eq!(rd.selected_default_router(DEV), None);
    }

    #[test]
    fn rfc4861_6_3_4_zero_router_lifetime_times_the_router_out_immediately() {
        let (mut rd, mut ctx) = setup();
        // Unknown router with lifetime 0: nothing.
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &[]));
        assert!(default_route_events(&ctx.take_events()).is_empty());
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(1800, &[]));
        ctx.take_events();
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &[]));
        assert_eq!(
            default_route_events(&ctx.take_events()),
            [RouterDiscoveryEvent::DefaultRouteRemoved { device: DEV, router: addr("fe80::1") }]
        );
        assert!(rd.default_routers(DEV).is_empty());
        assert!(ctx.timers().is_empty());
        assert_eq!(rd.counters().routers_withdrawn, 1);
    }

    #[test]
    fn rfc4861_6_3_6_selection_prefers_probably_reachable_routers_and_sticks() {
        let (mut rd, mut ctx) = setup();
        let (a, b) = (addr("fe80::a"), addr("fe80::b"));
        receive(&mut rd, &mut ctx, "fe80::a", advertisement(1800, &[]));
        receive(&mut rd, &mut ctx, "fe80::b", advertisement(1800, &[]));
        assert_eq!(rd.selected_default_router(DEV), Some(a), "none reachable: the first heard");
        ctx.take_events();
        // B becomes reachable while A is unknown: prefer B.
        ctx.state.reachable.insert(b);
        rd.neighbor_reachability_changed(&mut ctx, DEV, b);
        assert_eq!(
            default_route_events(&ctx.take_events()),
            [
                RouterDiscoveryEvent::DefaultRouteRemoved { device: DEV, router: a },
                RouterDiscoveryEvent::DefaultRouteAdded { device: DEV, router: b },
            ]
        );
        // A becoming reachable too changes nothing: B still is.
        ctx.state.reachable.insert(a);
        rd.neighbor_reachability_changed(&mut ctx, DEV, a);
        assert_eq!(rd.selected_default_router(DEV), Some(b));
        assert!(ctx.take_events().is_empty());
        // A non-router neighbour changing is no reason to re-select.
        rd.neighbor_reachability_changed(&mut ctx, DEV, addr("fe80::77"));
        assert_eq!(rd.counters().default_router_changes, 2);
    }

    #[test]
    fn rfc4861_6_3_6_round_robin_when_no_router_is_reachable() {
        let (mut rd, mut ctx) = setup();
        let routers = [addr("fe80::a"), addr("fe80::b"), addr("fe80::c")];
        for router in routers {
            rd.receive_router_advertisement(&mut ctx, DEV, router, &advertisement(1800, &[]))
                .expect("accepted");
        }
        let mut chosen = vec![rd.selected_default_router(DEV)];
        for _ in 0..4 {
            // NUD reports the chosen router unreachable (its probe failed): move on.
            let current = rd.selected_default_router(DEV).expect("a router is chosen");
            rd.neighbor_reachability_changed(&mut ctx, DEV, current);
            chosen.push(rd.selected_default_router(DEV));
        }
        let [a, b, c] = routers.map(Some);
        assert_eq!(chosen, [a, b, c, a, b]);
    }

    #[test]
    fn rfc4861_6_3_5_losing_the_selected_router_selects_another() {
        let (mut rd, mut ctx) = setup();
        receive(&mut rd, &mut ctx, "fe80::a", advertisement(1800, &[]));
        receive(&mut rd, &mut ctx, "fe80::b", advertisement(1800, &[]));
        ctx.take_events();
        receive(&mut rd, &mut ctx, "fe80::a", advertisement(0, &[]));
        assert_eq!(
            default_route_events(&ctx.take_events()),
            [
                RouterDiscoveryEvent::DefaultRouteRemoved { device: DEV, router: addr("fe80::a") },
                RouterDiscoveryEvent::DefaultRouteAdded { device: DEV, router: addr("fe80::b") },
            ]
        );
    }

    #[test]
    fn rfc4861_7_2_5_router_whose_is_router_flag_drops_is_removed() {
        let (mut rd, mut ctx) = setup();
        receive(&mut rd, &mut ctx, "fe80::a", advertisement(1800, &[]));
        ctx.take_events();
        rd.neighbor_no_longer_router(&mut ctx, DEV, addr("fe80::a"));
        assert_eq!(
            default_route_events(&ctx.take_events()),
            [RouterDiscoveryEvent::DefaultRouteRemoved { device: DEV, router: addr("fe80::a") }]
        );
        assert!(rd.default_routers(DEV).is_empty());
        assert!(ctx.timers().is_empty());
        assert_eq!(rd.counters().routers_no_longer_router, 1);
    }

    #[test]
    fn rfc4861_6_3_4_mtu_option_is_bounded_by_the_minimum_and_the_device_mtu() {
        let (mut rd, mut ctx) = setup();
        let mut applied = vec![];
        for mtu in [1279, 1280, 1400, 1500, 1501, 9000, 0, u32::MAX] {
            receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &[NdpOption::Mtu(mtu)]));
            applied.extend(ctx.take_events().into_iter().filter_map(|e| match e {
                RouterDiscoveryEvent::LinkMtu { device: DEV, mtu } => Some(mtu),
                _ => None,
            }));
        }
        assert_eq!(applied, [1280, 1400, 1500]);
        assert_eq!((rd.counters().mtu_applied, rd.counters().mtu_out_of_range), (3, 5));
    }

    #[test]
    fn rfc4861_6_3_4_on_link_prefix_lives_for_its_valid_lifetime() {
        let (mut rd, mut ctx) = setup();
        // Bits past the prefix length are ignored.
        let options = [prefix_option("2001:db8:1::5", 64, true, false, 30)];
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &options));
        let prefix = subnet("2001:db8:1::", 64);
        assert_eq!(
            ctx.take_events().last(),
            Some(&RouterDiscoveryEvent::OnLinkPrefixAdded { device: DEV, prefix })
        );
        assert_eq!(
            rd.on_link_prefixes(DEV),
            [OnLinkPrefix { prefix, expires_at: Some(Instant::ZERO + secs(30)) }]
        );
        advance(&mut rd, &mut ctx, Duration::from_millis(29_999));
        assert_eq!(rd.on_link_prefixes(DEV).len(), 1);
        advance(&mut rd, &mut ctx, Duration::from_millis(1));
        assert_eq!(ctx.take_events(), [RouterDiscoveryEvent::OnLinkPrefixRemoved { device: DEV, prefix }]);
        assert!(rd.on_link_prefixes(DEV).is_empty());
        assert_eq!(rd.counters().prefixes_expired, 1);
    }

    #[test]
    fn rfc4861_6_3_4_on_link_prefix_refresh_withdrawal_and_infinity() {
        let (mut rd, mut ctx) = setup();
        let prefix = subnet("2001:db8:1::", 64);
        let timer = RouterDiscoveryTimerId::PrefixLifetime { device: DEV, prefix };
        // Unknown prefix with a Valid Lifetime of 0: silently ignored.
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            advertisement(0, &[prefix_option("2001:db8:1::", 64, true, false, 0)]),
        );
        assert!(rd.on_link_prefixes(DEV).is_empty());
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            advertisement(0, &[prefix_option("2001:db8:1::", 64, true, false, 30)]),
        );
        advance(&mut rd, &mut ctx, secs(20));
        // Refresh: the timer restarts from the new Valid Lifetime, whether longer or shorter.
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            advertisement(0, &[prefix_option("2001:db8:1::", 64, true, false, 5)]),
        );
        assert_eq!(ctx.scheduled_at(&timer), Some(Instant::ZERO + secs(25)));
        // Infinity: no timer at all.
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            advertisement(0, &[prefix_option("2001:db8:1::", 64, true, false, INFINITE_LIFETIME)]),
        );
        assert_eq!(ctx.scheduled_at(&timer), None);
        advance(&mut rd, &mut ctx, secs(10 * 365 * 24 * 3600));
        assert_eq!(rd.on_link_prefixes(DEV), [OnLinkPrefix { prefix, expires_at: None }]);
        ctx.take_events();
        // Valid Lifetime 0: time the prefix out immediately.
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            advertisement(0, &[prefix_option("2001:db8:1::", 64, true, false, 0)]),
        );
        assert!(ctx
            .take_events()
            .contains(&RouterDiscoveryEvent::OnLinkPrefixRemoved { device: DEV, prefix }));
        assert!(rd.on_link_prefixes(DEV).is_empty());
        assert_eq!(rd.counters().prefixes_withdrawn, 1);
    }

    #[test]
    fn rfc4861_6_3_4_link_local_and_multicast_prefixes_are_ignored() {
        let (mut rd, mut ctx) = setup();
        let options =
            [prefix_option("fe80::", 64, true, true, 3600), prefix_option("ff02::", 16, true, true, 3600)];
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &options));
        assert!(!ctx.take_events().iter().any(|e| matches!(
            e,
            RouterDiscoveryEvent::OnLinkPrefixAdded { .. }
                | RouterDiscoveryEvent::AutoconfigurationPrefix { .. }
        )));
        assert!(rd.on_link_prefixes(DEV).is_empty());
        assert_eq!((rd.counters().prefix_link_local_ignored, rd.counters().prefix_multicast_ignored), (1, 1));
    }

    #[test]
    fn rfc4861_6_3_4_prefix_without_the_l_flag_says_nothing_about_on_link() {
        let (mut rd, mut ctx) = setup();
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            advertisement(0, &[prefix_option("2001:db8:1::", 64, false, false, 3600)]),
        );
        receive(
            &mut rd,
            &mut ctx,
            "fe80::1",
            advertisement(0, &[prefix_option("2001:db8:2::", 64, false, true, 3600)]),
        );
        let events = ctx.take_events();
        assert!(!events.iter().any(|e| matches!(e, RouterDiscoveryEvent::OnLinkPrefixAdded { .. })));
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, RouterDiscoveryEvent::AutoconfigurationPrefix { .. }))
                .count(),
            1
        );
        assert!(rd.on_link_prefixes(DEV).is_empty());
    }

    #[test]
    fn rfc4862_5_5_3_autonomous_prefixes_are_handed_to_slaac_with_their_device() {
        let (mut rd, mut ctx) = setup();
        rd.enable_device(&mut ctx, DEV2, quiet_config());
        let option = prefix_option("2001:db8:7::", 64, true, true, 7200);
        let NdpOption::PrefixInformation(info) = option else { unreachable!() };
        let ra = advertisement(0, core::slice::from_ref(&option));
        rd.receive_router_advertisement(&mut ctx, DEV2, addr("fe80::1"), &ra).expect("accepted");
        let handed: Vec<_> = ctx
            .take_events()
            .into_iter()
            .filter(|e| matches!(e, RouterDiscoveryEvent::AutoconfigurationPrefix { .. }))
            .collect();
        assert_eq!(handed, [RouterDiscoveryEvent::AutoconfigurationPrefix { device: DEV2, prefix: info }]);
        assert_eq!(rd.on_link_prefixes(DEV2).len(), 1);
        assert!(rd.on_link_prefixes(DEV).is_empty());
        assert_eq!(rd.counters().autoconfiguration_prefixes, 1);
    }

    #[test]
    fn rfc8106_5_1_dns_servers_live_for_their_lifetime() {
        let (mut rd, mut ctx) = setup();
        let (s1, s2, s3) = (addr("2001:db8::53"), addr("2001:db8::54"), addr("2001:db8::55"));
        let servers = [s1, s2];
        let rdnss = |lifetime, servers| NdpOption::RecursiveDnsServer {
            lifetime,
            servers: crate::wire::icmp::AddrList::new(servers),
        };
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &[rdnss(60, &servers)]));
        assert_eq!(
            ctx.take_events()
                .into_iter()
                .filter(|e| matches!(e, RouterDiscoveryEvent::DnsServerAdded { .. }))
                .count(),
            2
        );
        // Infinity, and the multicast and unspecified addresses that cannot be servers.
        let more = [s3, addr("ff02::1"), Ipv6Addr::UNSPECIFIED];
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &[rdnss(INFINITE_LIFETIME, &more)]));
        assert_eq!(rd.dns_servers(DEV).len(), 3);
        assert_eq!(rd.counters().dns_servers_not_unicast, 2);
        ctx.take_events();
        advance(&mut rd, &mut ctx, secs(60));
        assert_eq!(
            ctx.take_events(),
            [
                RouterDiscoveryEvent::DnsServerRemoved { device: DEV, server: s1 },
                RouterDiscoveryEvent::DnsServerRemoved { device: DEV, server: s2 },
            ]
        );
        assert_eq!(rd.dns_servers(DEV), [DnsServer { address: s3, expires_at: None }]);
        // RFC 8106 §5.1: a zero lifetime withdraws the servers.
        receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &[rdnss(0, &[s3])]));
        assert!(ctx
            .take_events()
            .contains(&RouterDiscoveryEvent::DnsServerRemoved { device: DEV, server: s3 }));
        assert!(rd.dns_servers(DEV).is_empty());
        assert_eq!((rd.counters().dns_servers_expired, rd.counters().dns_servers_withdrawn), (2, 1));
    }

    #[test]
    fn rfc8106_5_3_1_a_full_dns_server_list_gives_up_the_soonest_to_expire() {
        let (mut rd, mut ctx) = setup();
        let server = |n: u16| Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, n]);
        for n in 1..=MAX_DNS_SERVERS as u16 {
            let servers = [server(n)];
            let options = [NdpOption::RecursiveDnsServer {
                lifetime: u32::from(n) * 100,
                servers: crate::wire::icmp::AddrList::new(&servers),
            }];
            receive(&mut rd, &mut ctx, "fe80::1", advertisement(0, &options));
        }
        ctx.take_events();
        let offer = |rd: &mut RouterDiscovery, ctx: &mut Ctx, n: u16, lifetime: u32| {
            let servers = [server(n)];
            let options = [NdpOption::RecursiveDnsServer {
                lifetime,
                servers: crate::wire::icmp::AddrList::new(&servers),
            }];
            receive(rd, ctx, "fe80::1", advertisement(0, &options));
        };
        // Outlives server 1 (lifetime 100): takes its place.
        offer(&mut rd, &mut ctx, 100, 1000);
        assert_eq!(
            ctx.take_events()
                .into_iter()
                .filter(|e| matches!(
                    e,
                    RouterDiscoveryEvent::DnsServerAdded { .. }
                        | RouterDiscoveryEvent::DnsServerRemoved { .. }
                ))
                .collect::<Vec<_>>(),
            [
                RouterDiscoveryEvent::DnsServerRemoved { device: DEV, server: server(1) },
                RouterDiscoveryEvent::DnsServerAdded { device: DEV, server: server(100) },
            ]
        );
        // Would expire before every server kept: refused.
        offer(&mut rd, &mut ctx, 101, 50);
        assert_eq!(rd.dns_servers(DEV).len(), MAX_DNS_SERVERS);
        assert!(!rd.dns_servers(DEV).iter().any(|s| s.address == server(101)));
        assert_eq!((rd.counters().dns_servers_replaced, rd.counters().dns_servers_refused_list_full), (1, 1));
    }

    /// Router `fe80::a` as default router on `DEV`.
    fn setup_with_router() -> (RouterDiscovery, Ctx) {
        let (mut rd, mut ctx) = setup();
        receive(&mut rd, &mut ctx, "fe80::a", advertisement(1800, &[]));
        ctx.take_events();
        (rd, ctx)
    }

    fn redirect<'a>(target: &str, destination: &str, options: &'a [NdpOption<'a>]) -> Redirect<'a> {
        Redirect { target: addr(target), destination: addr(destination), options: NdpOptions::new(options) }
    }

    #[test]
    fn rfc4861_8_3_redirect_to_a_router_updates_the_first_hop() {
        let (mut rd, mut ctx) = setup_with_router();
        let tlla = [NdpOption::TargetLinkLayerAddress(LinkLayerAddress::Ethernet(ROUTER_MAC))];
        let r = redirect("fe80::b", "2001:db8:9::1", &tlla);
        assert_eq!(rd.receive_redirect(&mut ctx, DEV, addr("fe80::a"), &r), Ok(()));
        assert_eq!(
            ctx.take_events(),
            [RouterDiscoveryEvent::Redirect {
                device: DEV,
                destination: addr("2001:db8:9::1"),
                target: addr("fe80::b"),
                target_link_address: Some(ROUTER_MAC),
                target_is_router: true,
            }]
        );
        assert_eq!(ctx.first_hop(addr("2001:db8:9::1")), Some((DEV, addr("fe80::b"))));
        // The new first hop may redirect again; the old one no longer may.
        let again = redirect("fe80::c", "2001:db8:9::1", &[]);
        assert!(matches!(
            rd.receive_redirect(&mut ctx, DEV, addr("fe80::a"), &again),
            Err(RedirectError::NotFromFirstHop { .. })
        ));
        assert_eq!(rd.receive_redirect(&mut ctx, DEV, addr("fe80::b"), &again), Ok(()));
        assert_eq!(
            rd.redirects(DEV),
            [RedirectEntry {
                destination: addr("2001:db8:9::1"),
                target: addr("fe80::c"),
                target_link_address: None
            }]
        );
    }

    #[test]
    fn rfc4861_8_3_redirect_to_the_destination_itself_means_on_link() {
        let (mut rd, mut ctx) = setup_with_router();
        let r = redirect("2001:db8:9::1", "2001:db8:9::1", &[]);
        assert_eq!(rd.receive_redirect(&mut ctx, DEV, addr("fe80::a"), &r), Ok(()));
        assert_eq!(
            ctx.take_events(),
            [RouterDiscoveryEvent::Redirect {
                device: DEV,
                destination: addr("2001:db8:9::1"),
                target: addr("2001:db8:9::1"),
                target_link_address: None,
                target_is_router: false,
            }]
        );
    }

    #[test]
    fn rfc4861_8_1_invalid_redirects_are_dropped() {
        let (mut rd, mut ctx) = setup_with_router();
        rd.enable_device(&mut ctx, DEV2, quiet_config());
        let src = addr("fe80::a");
        let cases = [
            (DEV, addr("2001:db8::a"), redirect("fe80::b", "2001:db8:9::1", &[])),
            (DEV, src, redirect("fe80::b", "ff0e::1", &[])),
            (DEV, src, redirect("2001:db8::b", "2001:db8:9::1", &[])),
            (DEV, addr("fe80::9"), redirect("fe80::b", "2001:db8:9::1", &[])),
            // The right router, on the wrong device.
            (DEV2, src, redirect("fe80::b", "2001:db8:9::1", &[])),
        ];
        let errors: Vec<_> =
            cases.iter().map(|(device, src, r)| rd.receive_redirect(&mut ctx, *device, *src, r)).collect();
        assert!(matches!(errors[0], Err(RedirectError::SourceNotLinkLocal { .. })));
        assert!(matches!(errors[1], Err(RedirectError::DestinationMulticast { .. })));
        assert!(matches!(errors[2], Err(RedirectError::TargetInvalid { .. })));
        assert_eq!(
            errors[3],
            Err(RedirectError::NotFromFirstHop {
                device: DEV,
                src: addr("fe80::9"),
                destination: addr("2001:db8:9::1"),
                first_hop: Some((DEV, src)),
            })
        );
        assert!(matches!(errors[4], Err(RedirectError::NotFromFirstHop { device: DEV2, .. })));
        assert!(ctx.state.events.is_empty());
        assert!(rd.redirects(DEV).is_empty());
        let c = rd.counters();
        assert_eq!(
            (
                c.redirect_source_not_link_local,
                c.redirect_destination_multicast,
                c.redirect_target_invalid,
                c.redirect_not_from_first_hop
            ),
            (1, 1, 1, 2)
        );
    }

    #[test]
    fn linux_redirects_are_ignored_while_forwarding_or_when_not_accepted() {
        let mut ctx = new_ctx(1);
        let mut rd = RouterDiscovery::new();
        let r = redirect("fe80::b", "2001:db8:9::1", &[]);
        for config in [
            DeviceConfig { forwarding: true, accept_ra: AcceptRa::Always, ..quiet_config() },
            DeviceConfig { accept_redirects: false, ..quiet_config() },
        ] {
            rd.enable_device(&mut ctx, DEV, config);
            rd.receive_router_advertisement(&mut ctx, DEV, addr("fe80::a"), &advertisement(1800, &[]))
                .expect("accepted");
            assert_eq!(
                rd.receive_redirect(&mut ctx, DEV, addr("fe80::a"), &r),
                Err(RedirectError::NotAccepted { device: DEV, src: addr("fe80::a") })
            );
        }
        assert!(rd.redirects(DEV).is_empty());
        assert_eq!(
            rd.receive_redirect(&mut ctx, DEV2, addr("fe80::a"), &r),
            Err(RedirectError::UnknownDevice { device: DEV2, src: addr("fe80::a") })
        );
    }

    #[test]
    fn redirects_are_bounded_and_the_oldest_gives_way() {
        let (mut rd, mut ctx) = setup_with_router();
        let destination = |n: u16| Ipv6Addr::from_segments([0x2001, 0xdb8, 9, 0, 0, 0, 0, n]);
        for n in 0..(MAX_REDIRECTS as u16 + 6) {
            let r =
                Redirect { target: addr("fe80::b"), destination: destination(n), options: NdpOptions::EMPTY };
            rd.receive_redirect(&mut ctx, DEV, addr("fe80::a"), &r).expect("valid redirect");
        }
        assert_eq!(rd.redirects(DEV).len(), MAX_REDIRECTS);
        assert_eq!(rd.redirects(DEV).first().map(|r| r.destination), Some(destination(6)));
        let evicted: Vec<_> = ctx
            .state
            .events
            .iter()
            .filter_map(|e| match e {
                RouterDiscoveryEvent::RedirectRemoved { destination, .. } => Some(*destination),
                _ => None,
            })
            .collect();
        assert_eq!(evicted, (0..6).map(destination).collect::<Vec<_>>());
        assert_eq!(rd.counters().redirects_evicted, 6);
    }

    #[test]
    fn rfc4861_6_3_5_and_7_2_5_redirects_through_a_lost_router_are_forgotten() {
        let (mut rd, mut ctx) = setup_with_router();
        receive(&mut rd, &mut ctx, "fe80::b", advertisement(20, &[]));
        for (target, destination) in
            [("fe80::b", "2001:db8:9::1"), ("fe80::c", "2001:db8:9::2"), ("2001:db8:9::3", "2001:db8:9::3")]
        {
            rd.receive_redirect(&mut ctx, DEV, addr("fe80::a"), &redirect(target, destination, &[]))
                .expect("valid redirect");
        }
        ctx.take_events();
        // Router B's lifetime runs out: destinations redirected to it are routed anew.
        advance(&mut rd, &mut ctx, secs(20));
        assert_eq!(
            ctx.take_events(),
            [RouterDiscoveryEvent::RedirectRemoved { device: DEV, destination: addr("2001:db8:9::1") }]
        );
        // C, never in the Default Router List, stops being a router.
        rd.neighbor_no_longer_router(&mut ctx, DEV, addr("fe80::c"));
        assert_eq!(
            ctx.take_events(),
            [RouterDiscoveryEvent::RedirectRemoved { device: DEV, destination: addr("2001:db8:9::2") }]
        );
        assert_eq!(rd.redirects(DEV).len(), 1, "the on-link redirect stays");
    }

    #[test]
    fn bounds_hold_under_an_advertisement_flood_from_many_routers() {
        let (mut rd, mut ctx) = setup();
        const ROUTERS: u16 = 1000;
        for n in 0..ROUTERS {
            let router = Ipv6Addr::from_segments([0xfe80, 0, 0, 0, 0, 0, 0x1000, n]);
            let prefixes: Vec<NdpOption<'_>> = (0..4)
                .map(|k| {
                    NdpOption::PrefixInformation(PrefixInformation {
                        prefix_length: 64,
                        on_link: true,
                        autonomous: true,
                        valid_lifetime: INFINITE_LIFETIME,
                        preferred_lifetime: INFINITE_LIFETIME,
                        prefix: Ipv6Addr::from_segments([0x2001, 0xdb8, n, k, 0, 0, 0, 0]),
                    })
                })
                .collect();
            let servers = [
                Ipv6Addr::from_segments([0x2001, 0xdb8, 0x53, 0, 0, 0, n, 1]),
                Ipv6Addr::from_segments([0x2001, 0xdb8, 0x53, 0, 0, 0, n, 2]),
            ];
            let mut options = prefixes;
            options.push(NdpOption::RecursiveDnsServer {
                lifetime: INFINITE_LIFETIME,
                servers: crate::wire::icmp::AddrList::new(&servers),
            });
            rd.receive_router_advertisement(&mut ctx, DEV, router, &advertisement(9000, &options))
                .expect("accepted");
            ctx.state.events.clear();
        }
        assert_eq!(rd.default_routers(DEV).len(), MAX_DEFAULT_ROUTERS);
        assert_eq!(rd.on_link_prefixes(DEV).len(), MAX_ON_LINK_PREFIXES);
        assert_eq!(rd.dns_servers(DEV).len(), MAX_DNS_SERVERS);
        assert!(ctx.timers().len() <= MAX_DEFAULT_ROUTERS, "infinite lifetimes need no timers");
        let c = rd.counters();
        assert_eq!(c.routers_refused_list_full, u64::from(ROUTERS) - MAX_DEFAULT_ROUTERS as u64);
        assert_eq!(c.prefixes_refused_list_full, 4 * u64::from(ROUTERS) - MAX_ON_LINK_PREFIXES as u64);
        assert_eq!(c.dns_servers_refused_list_full, 2 * u64::from(ROUTERS) - MAX_DNS_SERVERS as u64);
        assert_eq!(c.autoconfiguration_prefixes, 4 * u64::from(ROUTERS), "SLAAC bounds its own list");
    }

    #[test]
    fn disabling_a_device_withdraws_everything_learned_on_it() {
        let (mut rd, mut ctx) = setup_with_router();
        let servers = [addr("2001:db8::53")];
        let options = [
            prefix_option("2001:db8:1::", 64, true, false, 600),
            NdpOption::RecursiveDnsServer {
                lifetime: 600,
                servers: crate::wire::icmp::AddrList::new(&servers),
            },
        ];
        receive(&mut rd, &mut ctx, "fe80::a", advertisement(1800, &options));
        rd.receive_redirect(&mut ctx, DEV, addr("fe80::a"), &redirect("fe80::b", "2001:db8:9::1", &[]))
            .expect("valid redirect");
        assert!(rd.disable_device(&mut ctx, DEV));
        assert!(ctx.state.routes.default.is_empty() && ctx.state.routes.on_link.is_empty());
        assert!(ctx.state.routes.dns.is_empty() && ctx.state.routes.redirects.is_empty());
        assert!(ctx.timers().is_empty());
        assert!(!rd.is_enabled(DEV));
        assert!(!rd.disable_device(&mut ctx, DEV));
    }

    #[test]
    fn stale_timers_change_nothing() {
        let (mut rd, mut ctx) = setup_with_router();
        let router = addr("fe80::a");
        let prefix = subnet("2001:db8:1::", 64);
        let server = addr("2001:db8::53");
        let servers = [server];
        let options = [
            prefix_option("2001:db8:1::", 64, true, false, 600),
            NdpOption::RecursiveDnsServer {
                lifetime: 600,
                servers: crate::wire::icmp::AddrList::new(&servers),
            },
        ];
        receive(&mut rd, &mut ctx, "fe80::a", advertisement(1800, &options));
        ctx.take_events();
        for id in [
            RouterDiscoveryTimerId::Solicitation { device: DEV },
            RouterDiscoveryTimerId::RouterLifetime { device: DEV, router: addr("fe80::99") },
            RouterDiscoveryTimerId::PrefixLifetime { device: DEV, prefix: subnet("2001:db8::", 64) },
            RouterDiscoveryTimerId::DnsServerLifetime { device: DEV, server: addr("2001:db8::54") },
            RouterDiscoveryTimerId::Solicitation { device: DEV2 },
            // Fired early: the entries are not due, so their timers are put back.
            RouterDiscoveryTimerId::RouterLifetime { device: DEV, router },
            RouterDiscoveryTimerId::PrefixLifetime { device: DEV, prefix },
            RouterDiscoveryTimerId::DnsServerLifetime { device: DEV, server },
        ] {
            rd.handle_timer(&mut ctx, id);
        }
        assert!(ctx.state.events.is_empty() && ctx.state.solicitations.is_empty());
        assert_eq!(rd.selected_default_router(DEV), Some(router));
        assert_eq!((rd.on_link_prefixes(DEV).len(), rd.dns_servers(DEV).len()), (1, 1));
        assert_eq!(
            ctx.scheduled_at(&RouterDiscoveryTimerId::RouterLifetime { device: DEV, router }),
            Some(Instant::ZERO + secs(1800))
        );
        assert_eq!(
            ctx.scheduled_at(&RouterDiscoveryTimerId::PrefixLifetime { device: DEV, prefix }),
            Some(Instant::ZERO + secs(600))
        );
        assert_eq!(
            ctx.scheduled_at(&RouterDiscoveryTimerId::DnsServerLifetime { device: DEV, server }),
            Some(Instant::ZERO + secs(600))
        );
        assert_eq!(rd.counters().stale_timers, 8);
    }

    /// One step of an arbitrary scenario.
    #[derive(Clone, Debug)]
    enum Op {
        Advertise {
            device: bool,
            router: u16,
            lifetime: u16,
            prefixes: Vec<(u16, bool, bool, u32)>,
            servers: Vec<(u16, u32)>,
            mtu: Option<u32>,
        },
        Advance(u64),
        Reachability {
            router: u16,
            reachable: bool,
        },
        NoLongerRouter {
            device: bool,
            router: u16,
        },
        Redirect {
            device: bool,
            src: u16,
            destination: u16,
            target: Option<u16>,
        },
        Restart {
            device: bool,
            link_local: bool,
        },
    }

    /// More routers, prefixes and destinations than the lists hold.
    fn pool_router(n: u16) -> Ipv6Addr {
        Ipv6Addr::from_segments([0xfe80, 0, 0, 0, 0, 0, 0x1000, n])
    }

    fn device(second: bool) -> DeviceId {
        if second {
            DEV2
        } else {
            DEV
        }
    }

    fn arb_lifetime() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0), 1u32..40, Just(INFINITE_LIFETIME)]
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (
                any::<bool>(),
                0u16..24,
                prop_oneof![Just(0u16), 1u16..60, Just(9000)],
                proptest::collection::vec((0u16..80, any::<bool>(), any::<bool>(), arb_lifetime()), 0..6),
                proptest::collection::vec((0u16..12, arb_lifetime()), 0..3),
                proptest::option::of(1200u32..1600),
            )
                .prop_map(|(device, router, lifetime, prefixes, servers, mtu)| Op::Advertise {
                    device,
                    router,
                    lifetime,
                    prefixes,
                    servers,
                    mtu,
                }),
            3 => (0u64..30_000).prop_map(Op::Advance),
            1 => (0u16..24, any::<bool>()).prop_map(|(router, reachable)| Op::Reachability { router, reachable }),
            1 => (any::<bool>(), 0u16..24).prop_map(|(device, router)| Op::NoLongerRouter { device, router }),
            2 => (any::<bool>(), 0u16..24, 0u16..80, proptest::option::of(0u16..24))
                .prop_map(|(device, src, destination, target)| Op::Redirect { device, src, destination, target }),
            1 => (any::<bool>(), any::<bool>()).prop_map(|(device, link_local)| Op::Restart { device, link_local }),
        ]
    }

    fn apply(rd: &mut RouterDiscovery, ctx: &mut Ctx, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Advertise { device: second, router, lifetime, prefixes, servers, mtu } => {
                let servers: Vec<(Ipv6Addr, u32)> = servers
                    .iter()
                    .map(|&(n, lifetime)| {
                        (Ipv6Addr::from_segments([0x2001, 0xdb8, 0x53, 0, 0, 0, 0, n]), lifetime)
                    })
                    .collect();
                let mut options: Vec<NdpOption<'_>> = prefixes
                    .iter()
                    .map(|&(n, on_link, autonomous, valid_lifetime)| {
                        NdpOption::PrefixInformation(PrefixInformation {
                            prefix_length: 64,
                            on_link,
                            autonomous,
                            valid_lifetime,
                            preferred_lifetime: valid_lifetime,
                            prefix: Ipv6Addr::from_segments([0x2001, 0xdb8, n, 0, 0, 0, 0, 0]),
                        })
                    })
                    .collect();
                // One RDNSS option per server, each with its own lifetime.
                for (server, lifetime) in &servers {
                    options.push(NdpOption::RecursiveDnsServer {
                        lifetime: *lifetime,
                        servers: crate::wire::icmp::AddrList::new(core::slice::from_ref(server)),
                    });
                }
                options.extend(mtu.map(NdpOption::Mtu));
                let ra = RouterAdvertisement { current_hop_limit: 64, ..advertisement(*lifetime, &options) };
                let result = rd.receive_router_advertisement(ctx, device(*second), pool_router(*router), &ra);
                prop_assert!(result.is_ok() || !rd.is_enabled(device(*second)));
            }
            Op::Advance(ms) => {
                let before: Vec<_> = [DEV, DEV2]
                    .iter()
                    .map(|&d| {
                        (
                            rd.default_routers(d).to_vec(),
                            rd.on_link_prefixes(d).to_vec(),
                            rd.dns_servers(d).to_vec(),
                        )
                    })
                    .collect();
                advance(rd, ctx, Duration::from_millis(*ms));
                let now = ctx.now();
                // Lifetimes are honoured: whatever went away while time passed was due.
                for (&d, (routers, prefixes, servers)) in [DEV, DEV2].iter().zip(before) {
                    for r in routers
                        .iter()
                        .filter(|r| !rd.default_routers(d).iter().any(|x| x.address == r.address))
                    {
                        prop_assert!(r.expires_at <= now, "{:?} removed early", r);
                    }
                    for p in prefixes
                        .iter()
                        .filter(|p| !rd.on_link_prefixes(d).iter().any(|x| x.prefix == p.prefix))
                    {
                        prop_assert!(is_due(p.expires_at, now), "{:?} removed early", p);
                    }
                    for s in
                        servers.iter().filter(|s| !rd.dns_servers(d).iter().any(|x| x.address == s.address))
                    {
                        prop_assert!(is_due(s.expires_at, now), "{:?} removed early", s);
                    }
                }
            }
            Op::Reachability { router, reachable } => {
                let router = pool_router(*router);
                if *reachable {
                    ctx.state.reachable.insert(router);
                } else {
                    ctx.state.reachable.remove(&router);
                }
                rd.neighbor_reachability_changed(ctx, DEV, router);
                rd.neighbor_reachability_changed(ctx, DEV2, router);
            }
            Op::NoLongerRouter { device: second, router } => {
                rd.neighbor_no_longer_router(ctx, device(*second), pool_router(*router));
            }
            Op::Redirect { device: second, src, destination, target } => {
                let destination = Ipv6Addr::from_segments([0x2001, 0xdb8, 0x99, 0, 0, 0, 0, *destination]);
                let target = target.map_or(destination, pool_router);
                let r = Redirect { target, destination, options: NdpOptions::EMPTY };
                let src = pool_router(*src);
                let valid = ctx.first_hop(destination) == Some((device(*second), src));
                let result = rd.receive_redirect(ctx, device(*second), src, &r);
                prop_assert_eq!(result.is_ok(), valid && rd.is_enabled(device(*second)));
            }
            Op::Restart { device: second, link_local } => {
                if *link_local {
                    ctx.state.link_local.insert(device(*second), addr("fe80::1:1"));
                } else {
                    ctx.state.link_local.remove(&device(*second));
                }
                rd.enable_device(ctx, device(*second), DeviceConfig::host(Some(MAC), DEVICE_MTU));
            }
        }
        Ok(())
    }

    /// What must hold between any two steps.
    fn check_invariants(rd: &RouterDiscovery, ctx: &Ctx) -> Result<(), TestCaseError> {
        let now = ctx.now();
        for d in [DEV, DEV2] {
            let routers = rd.default_routers(d);
            prop_assert!(routers.len() <= MAX_DEFAULT_ROUTERS);
            prop_assert!(rd.on_link_prefixes(d).len() <= MAX_ON_LINK_PREFIXES);
            prop_assert!(rd.dns_servers(d).len() <= MAX_DNS_SERVERS);
            prop_assert!(rd.redirects(d).len() <= MAX_REDIRECTS);
            // The stack's view, built from the events alone, matches the module's lists.
            let selected = rd.selected_default_router(d);
            prop_assert_eq!(ctx.state.routes.default.get(&d).copied(), selected);
            prop_assert_eq!(selected.is_some(), !routers.is_empty());
            prop_assert!(selected.is_none_or(|s| routers.iter().any(|r| r.address == s)));
            let on_link: BTreeSet<_> = rd.on_link_prefixes(d).iter().map(|p| (d, p.prefix)).collect();
            let model: BTreeSet<_> =
                ctx.state.routes.on_link.iter().copied().filter(|&(x, _)| x == d).collect();
            prop_assert_eq!(on_link, model);
            let dns: BTreeSet<_> = rd.dns_servers(d).iter().map(|s| (d, s.address)).collect();
            let model: BTreeSet<_> = ctx.state.routes.dns.iter().copied().filter(|&(x, _)| x == d).collect();
            prop_assert_eq!(dns, model);
            let redirects: BTreeMap<_, _> =
                rd.redirects(d).iter().map(|r| ((d, r.destination), r.target)).collect();
            let model: BTreeMap<_, _> = ctx
                .state
                .routes
                .redirects
                .iter()
                .map(|(&k, &v)| (k, v))
                .filter(|&((x, _), _)| x == d)
                .collect();
            prop_assert_eq!(redirects, model);
            // Every finite lifetime is in the future and has its timer; infinite ones none.
            for r in routers {
                prop_assert!(r.expires_at > now);
                let id = RouterDiscoveryTimerId::RouterLifetime { device: d, router: r.address };
                prop_assert_eq!(ctx.scheduled_at(&id), Some(r.expires_at));
            }
            for p in rd.on_link_prefixes(d) {
                prop_assert!(!is_due(p.expires_at, now));
                let id = RouterDiscoveryTimerId::PrefixLifetime { device: d, prefix: p.prefix };
                prop_assert_eq!(ctx.scheduled_at(&id), p.expires_at);
            }
            for s in rd.dns_servers(d) {
                prop_assert!(!is_due(s.expires_at, now));
                let id = RouterDiscoveryTimerId::DnsServerLifetime { device: d, server: s.address };
                prop_assert_eq!(ctx.scheduled_at(&id), s.expires_at);
            }
        }
        prop_assert!(
            ctx.timers().len() <= 2 * (1 + MAX_DEFAULT_ROUTERS + MAX_ON_LINK_PREFIXES + MAX_DNS_SERVERS)
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_scenarios_keep_bounds_lifetimes_and_a_consistent_stack_view(
            seed in any::<u64>(),
            ops in proptest::collection::vec(arb_op(), 1..80),
        ) {
            let mut ctx = new_ctx(seed);
            let mut rd = RouterDiscovery::new();
            rd.enable_device(&mut ctx, DEV, DeviceConfig::host(Some(MAC), DEVICE_MTU));
            rd.enable_device(&mut ctx, DEV2, quiet_config());
            for op in &ops {
                apply(&mut rd, &mut ctx, op)?;
                check_invariants(&rd, &ctx)?;
            }
            // Solicitations never exceed the schedule: 3 per (re)start, 4 s apart.
            let restarts = ops.iter().filter(|op| matches!(op, Op::Restart { .. })).count();
            prop_assert!(ctx.state.solicitations.len() <= 3 * (restarts + 1));
            // Disabling withdraws everything the stack was told.
            rd.disable_device(&mut ctx, DEV);
            rd.disable_device(&mut ctx, DEV2);
            prop_assert!(ctx.state.routes.default.is_empty() && ctx.state.routes.on_link.is_empty());
            prop_assert!(ctx.state.routes.dns.is_empty() && ctx.state.routes.redirects.is_empty());
            prop_assert!(ctx.timers().is_empty());
        }
    }
}
