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
    /// "Reachable or probably reachable": a neighbour entry in any state but INCOMPLETE
    /// (REACHABLE, STALE, DELAY, PROBE).
    ProbablyReachable,
    /// "Unknown or suspect": an INCOMPLETE entry, or none.
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
        // RFC 4861 §6.3.7: "delay the transmission for a random amount of time between 0 and
        // MAX_RTR_SOLICITATION_DELAY".
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
        // RFC 4861 §6.1.2: "IP Source Address is a link-local address. Routers must use
        // their link-local address as the source for Router Advertisement [...] so that hosts
        // can uniquely identify routers."
        if !src.is_unicast_link_local() {
            counters.ra_source_not_link_local += 1;
            return Err(RouterAdvertisementError::SourceNotLinkLocal { device, src });
        }
        counters.ra_accepted += 1;

        // RFC 4861 §6.3.7: after "a valid Router Advertisement with a non-zero Router
        // Lifetime, the host MUST desist from sending additional solicitations".
        if ra.router_lifetime != 0 && state.solicitations_remaining > 0 {
            state.solicitations_remaining = 0;
            ctx.cancel_timer(&RouterDiscoveryTimerId::Solicitation { device });
        }

        // RFC 4861 §6.3.4: "If the received Cur Hop Limit value is non-zero, the host SHOULD
        // set its CurHopLimit variable to the received value."
        if ra.current_hop_limit != 0 {
            ctx.on_event(RouterDiscoveryEvent::CurHopLimit { device, hop_limit: ra.current_hop_limit });
        }
        // RFC 4861 §6.3.4: a non-zero Reachable Time sets BaseReachableTime; "If the new
        // value differs from the previous value, the host SHOULD re-compute a new random
        // ReachableTime value."
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
        // RFC 4861 §8.1: "IP Source Address is a link-local address."
        if !src.is_unicast_link_local() {
            counters.redirect_source_not_link_local += 1;
            return Err(RedirectError::SourceNotLinkLocal { device, src });
        }
        // RFC 4861 §8.1: "The ICMP Destination Address field in the redirect message does not
        // contain a multicast address."
        if destination.is_multicast() {
            counters.redirect_destination_multicast += 1;
            return Err(RedirectError::DestinationMulticast { device, src, destination });
        }
        // RFC 4861 §8.1: "The ICMP Target Address is either a link-local address (when
        // redirected to a router) or the same as the ICMP Destination Address (when
        // redirected to the on-link destination)."
        if !target.is_unicast_link_local() && target != destination {
            counters.redirect_target_invalid += 1;
            return Err(RedirectError::TargetInvalid { device, src, target, destination });
        }
        // RFC 4861 §8.1: "The IP source address of the Redirect is the same as the current
        // first-hop router for the specified ICMP Destination Address."
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
    /// of the list (RFC 4861 §6.3.6).
    pub fn neighbor_reachability_changed<C>(&mut self, ctx: &mut C, device: DeviceId, neighbor: Ipv6Addr)
    where
        C: RouterDiscoveryContext,
    {
        let Some(state) = self.devices.get_mut(&device) else { return };
        if state.routers.iter().any(|router| router.address == neighbor) {
            state.select_default_router(ctx, &mut self.counters);
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
        let now = ctx.now();
        match id {
            RouterDiscoveryTimerId::Solicitation { .. } => state.send_solicitation(ctx, counters),
            RouterDiscoveryTimerId::RouterLifetime { router, .. } => {
                match state.routers.iter().position(|r| r.address == router) {
                    Some(index) if state.routers.get(index).is_some_and(|r| r.expires_at <= now) => {
                        // RFC 4861 §6.3.5: the router's lifetime ran out.
                        counters.routers_expired += 1;
                        state.remove_router(ctx, counters, index);
                    }
                    Some(index) => {
                        counters.stale_timers += 1;
                        if let Some(r) = state.routers.get(index) {
                            ctx.schedule_timer(id, r.expires_at);
                        }
                    }
                    None => counters.stale_timers += 1,
                }
            }
            RouterDiscoveryTimerId::PrefixLifetime { prefix, .. } => {
                match state.prefixes.iter().position(|p| p.prefix == prefix) {
                    Some(index) if state.prefixes.get(index).is_some_and(|p| is_due(p.expires_at, now)) => {
                        // RFC 4861 §6.3.5: the prefix's Valid Lifetime ran out.
                        counters.prefixes_expired += 1;
                        state.remove_prefix(ctx, index);
                    }
                    Some(index) => {
                        counters.stale_timers += 1;
                        if let Some(p) = state.prefixes.get(index) {
                            schedule_deadline(ctx, id, p.expires_at);
                        }
                    }
                    None => counters.stale_timers += 1,
                }
            }
            RouterDiscoveryTimerId::DnsServerLifetime { server, .. } => {
                match state.dns_servers.iter().position(|s| s.address == server) {
                    Some(index)
                        if state.dns_servers.get(index).is_some_and(|s| is_due(s.expires_at, now)) =>
                    {
                        // RFC 8106 §5.1: past its lifetime the server "MUST no longer be used".
                        counters.dns_servers_expired += 1;
                        state.remove_dns_server(ctx, index);
                    }
                    Some(index) => {
                        counters.stale_timers += 1;
                        if let Some(s) = state.dns_servers.get(index) {
                            schedule_deadline(ctx, id, s.expires_at);
                        }
                    }
                    None => counters.stale_timers += 1,
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
            // "If the address is not already present [...] and the advertisement's Router
            // Lifetime is [zero]": nothing to do.
            (None, 0) => {}
            // "If the address is already present [...] and the received Router Lifetime
            // value is zero, immediately time-out the entry as specified in Section 6.3.5."
            (Some(index), 0) => {
                counters.routers_withdrawn += 1;
                self.remove_router(ctx, counters, index);
            }
            // "If the address is already present [...] and the received Router Lifetime
            // value is non-zero, immediately reset the invalidation timer."
            (Some(index), _) => {
                if let Some(entry) = self.routers.get_mut(index) {
                    entry.expires_at = expires_at;
                    ctx.schedule_timer(timer, expires_at);
                }
            }
            // "[...] create a new entry in the list, and initialize its invalidation timer
            // value from the advertisement's Router Lifetime field": if there is room.
            (None, _) => {
                if self.routers.len() >= MAX_DEFAULT_ROUTERS {
                    counters.routers_refused_list_full += 1;
                    return;
                }
                self.routers.push(DefaultRouter { address: router, expires_at });
                counters.routers_added += 1;
                ctx.schedule_timer(timer, expires_at);
                self.select_default_router(ctx, counters);
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
            self.select_default_router(ctx, counters);
        }
        self.remove_redirects_through(ctx, router);
    }

    /// Default router selection (RFC 4861 §6.3.6): keep the chosen router while it is
    /// probably reachable; otherwise take the first probably reachable router in round-robin
    /// order, or, when none is, the next router round-robin, so that NUD probes each in
    /// turn. Emits the change of default route.
    fn select_default_router<C>(&mut self, ctx: &mut C, counters: &mut Counters)
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
                let pick = candidates()
                    .find(|&(_, router)| probably_reachable(ctx, router))
                    .or_else(|| candidates().next());
                pick.map(|(index, router)| {
                    self.round_robin_next = index + 1;
                    router
                })
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

    /// Applies an MTU option (RFC 4861 §6.3.4): "hosts SHOULD copy the option's value into
    /// LinkMTU so long as the value is greater than or equal to the minimum link MTU
    /// [IPv6] and does not exceed the maximum LinkMTU value".
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
        // Bits past the prefix length "MUST be ignored by the receiver" (RFC 4861 §4.6.2).
        let Ok(prefix) = Subnet::from_host(info.prefix, info.prefix_length) else {
            counters.prefix_invalid_length += 1;
            return;
        };
        // RFC 4861 §6.3.4: "If the prefix is the link-local prefix, silently ignore the Prefix
        // Information option" (and RFC 4862 §5.5.3 b for autoconfiguration); Linux ignores
        // multicast prefixes too.
        if prefix.network().is_unicast_link_local() {
            counters.prefix_link_local_ignored += 1;
            return;
        }
        if prefix.network().is_multicast() {
            counters.prefix_multicast_ignored += 1;
            return;
        }
        // RFC 4861 §6.3.4: an L flag of 0 "conveys no information concerning on-link
        // determination and MUST NOT be interpreted to mean that addresses covered by the
        // prefix are off-link".
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
            // "If the prefix is not already present in the Prefix List, and the Prefix
            // Information option's Valid Lifetime field is zero, silently ignore the option."
            (None, 0) => {}
            // "If the new Lifetime value is zero, time-out the prefix immediately."
            (Some(index), 0) => {
                counters.prefixes_withdrawn += 1;
                self.remove_prefix(ctx, index);
            }
            // "If the prefix is already present [...], reset its invalidation timer to the
            // Valid Lifetime value."
            (Some(index), _) => {
                if let Some(entry) = self.prefixes.get_mut(index) {
                    entry.expires_at = expires_at;
                    schedule_deadline(ctx, timer, expires_at);
                }
            }
            // "[...] create a new entry for the prefix and initialize its invalidation timer
            // to the Valid Lifetime value": if there is room.
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
            // RFC 8106 §5.1: "A value of zero means that the RDNSS addresses MUST no longer be
            // used."
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
