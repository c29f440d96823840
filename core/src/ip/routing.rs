//! The routing table: which device a datagram leaves through and which neighbour it is handed
//! to (the next hop), for one IP version.
//!
//! Implements the host's next-hop choice of RFC 1122 §3.3.1 (a destination on an attached
//! subnet is its own next hop; any other goes to a gateway) and RFC 4861 §5.2 (IPv6 next-hop
//! determination), with the route selection rules of RFC 1812 §5.2.4.3: of the routes whose
//! destination contains the address, the longest prefix wins ("Longest Match"), then the best
//! (lowest) metric ("Best Metric").
//!
//! Ties beyond that follow Linux: among routes with the same prefix and metric the one added
//! first wins. Linux's IPv4 FIB appends a route after the existing aliases of its prefix
//! (`ip route append`), and its IPv6 FIB inserts a route after every sibling whose metric is
//! not larger (`fib6_add_rt2node`); lookups take the first usable one in both.
//!
//! Two routes are the same route when destination, device, gateway and metric all match; a
//! second add of the same route is refused (`EEXIST`). Routes differing only in gateway or
//! device coexist, like Linux's IPv6 table and IPv4's `ip route append`.
//!
//! A lookup may be restricted to one device (a socket bound with `SO_BINDTODEVICE`, or a
//! scoped IPv6 destination): routes through other devices are then skipped, so a less
//! specific route through the bound device can win, as in Linux's `fib_lookup` with an
//! output interface. Linux's IPv4 further assumes a destination with no route at all is
//! on-link when the socket is bound to a device; that fallback is the IP layer's choice to
//! make and is not taken here.
//!
//! Storage is a `Vec` kept sorted by (prefix length descending, metric ascending, insertion
//! order), so a lookup is a linear scan that stops at the first route containing the
//! destination: O(n) in the number of routes, with no allocation, and a handful of
//! comparisons for a host's usual few routes. Adds and removes are O(n) too. The table is
//! bounded by [`Config::max_routes`].
//!
//! A device can be marked down ([`RoutingTable::set_device_up`]): its routes stay in the table
//! (listed, removable) but lookups skip them until it is up again, as Fuchsia keeps the routes
//! of an offline interface and Linux marks them `linkdown` and ignores them.

use alloc::vec::Vec;

use crate::addr::{Ip, IpAddress, IpVersion, SpecifiedAddr, Subnet};
use crate::device::DeviceId;

/// Who added a route, so each part of the stack removes only what it added (Linux's route
/// `proto` attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteSource {
    /// The prefix route of an assigned address (Linux `proto kernel`).
    Kernel,
    /// Added by the administrator (Linux `proto static`; `proto boot` in `ip route`'s
    /// default).
    Static,
    /// Learned from a Router Advertisement: a default router or a route information option
    /// (RFC 4861 §6.3.4, RFC 4191; Linux `proto ra`).
    RouterAdvertisement,
    /// Learned from DHCP (Linux `proto dhcp`).
    Dhcp,
}

/// A route: datagrams to `subnet` leave through `device`, to `gateway` if there is one or
/// straight to their destination if not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route<I: Ip> {
    /// The destinations this route covers.
    pub subnet: Subnet<I::Addr>,
    /// The device datagrams leave through.
    pub device: DeviceId,
    /// The neighbour datagrams are handed to; `None` for an on-link route, where the
    /// destination itself is the next hop (RFC 1122 §3.3.1.1).
    pub gateway: Option<SpecifiedAddr<I::Addr>>,
    /// The route's cost; lower is preferred among routes of equal prefix length
    /// (RFC 1812 §5.2.4.3). Linux's `metric` (IPv4 `priority`).
    pub metric: u32,
    /// Who added it.
    pub source: RouteSource,
}

impl<I: Ip> Route<I> {
    /// Whether `other` is the same route: same destination, device, gateway and metric (what
    /// Linux compares to answer `EEXIST`). Who added it is not part of the identity.
    pub fn same_route(&self, other: &Route<I>) -> bool {
        self.subnet == other.subnet
            && self.device == other.device
            && self.gateway == other.gateway
            && self.metric == other.metric
    }
}

/// The neighbour a datagram is handed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NextHop<A> {
    /// The destination is on-link: it is its own next hop.
    OnLink(SpecifiedAddr<A>),
    /// The destination is reached through this gateway.
    Gateway(SpecifiedAddr<A>),
}

impl<A: Copy> NextHop<A> {
    /// The next hop's address: the destination for an on-link route, else the gateway.
    pub fn addr(&self) -> SpecifiedAddr<A> {
        match *self {
            NextHop::OnLink(a) | NextHop::Gateway(a) => a,
        }
    }
}

/// Where a datagram goes: the outgoing device and the next hop on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Destination<A> {
    /// The device it leaves through.
    pub device: DeviceId,
    /// The neighbour it is handed to.
    pub next_hop: NextHop<A>,
}

/// Limits of the routing table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The most routes the table holds; adds beyond it are refused. Default 4096, Linux's
    /// historical IPv6 `net.ipv6.route.max_size`.
    pub max_routes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { max_routes: 4096 }
    }
}

/// Refused route operations, by reason. Lookups that find no route are counted by the IP
/// layer, which knows whether the datagram was outgoing (Linux `OutNoRoutes`) or forwarded
/// (`InNoRoutes`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Adds refused because the same route exists.
    pub add_exists: u64,
    /// Adds refused because the table held [`Config::max_routes`] routes.
    pub add_table_full: u64,
    /// Adds refused because no on-link route through the device covers the gateway.
    pub add_gateway_not_on_link: u64,
    /// Adds refused because the gateway is multicast or broadcast.
    pub add_gateway_not_unicast: u64,
    /// Removes refused because no such route exists.
    pub remove_not_found: u64,
}

/// Why a route operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError<A: IpAddress> {
    /// The same route (destination, device, gateway, metric) is already in the table.
    #[error("route to {subnet} dev {device} metric {metric} already exists")]
    Exists {
        /// The route's destination.
        subnet: Subnet<A>,
        /// The route's device.
        device: DeviceId,
        /// The route's metric.
        metric: u32,
    },
    /// No route matches.
    #[error("no route to {subnet} dev {device} metric {metric}")]
    NotFound {
        /// The destination asked for.
        subnet: Subnet<A>,
        /// The device asked for.
        device: DeviceId,
        /// The metric asked for.
        metric: u32,
    },
    /// The table is at its limit.
    #[error("routing table full ({limit} routes)")]
    TableFull {
        /// [`Config::max_routes`].
        limit: usize,
    },
    /// The gateway is not reachable on-link through the route's device.
    #[error("gateway {gateway} is not on-link through {device}")]
    GatewayNotOnLink {
        /// The gateway.
        gateway: A,
        /// The route's device.
        device: DeviceId,
    },
    /// The gateway is a multicast or broadcast address.
    #[error("gateway {gateway} is not a unicast address")]
    GatewayNotUnicast {
        /// The gateway.
        gateway: A,
    },
}

/// The routing table of one IP version.
#[derive(Clone, Debug)]
pub struct RoutingTable<I: Ip> {
    /// Sorted by (prefix length descending, metric ascending, insertion order).
    routes: Vec<Route<I>>,
    /// Devices whose routes lookups skip (disabled interfaces); a handful at most.
    down: Vec<DeviceId>,
    config: Config,
    counters: Counters,
}

impl<I: Ip> Default for RoutingTable<I> {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl<I: Ip> RoutingTable<I> {
    /// An empty table with `config`'s limits.
    pub fn new(config: Config) -> Self {
        Self { routes: Vec::new(), down: Vec::new(), config, counters: Counters::default() }
    }

    /// Marks `device` up (its routes serve lookups, the default) or down (they stay in the
    /// table but lookups skip them). Returns whether that changed anything.
    pub fn set_device_up(&mut self, device: DeviceId, up: bool) -> bool {
        let at = self.down.iter().position(|d| *d == device);
        match (at, up) {
            (Some(at), true) => {
                self.down.swap_remove(at);
                true
            }
            (None, false) => {
                self.down.push(device);
                true
            }
            _ => false,
        }
    }

    /// Whether lookups use `device`'s routes (see [`RoutingTable::set_device_up`]).
    pub fn is_device_up(&self, device: DeviceId) -> bool {
        !self.down.contains(&device)
    }

    /// The table's limits.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The refusal counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// How many routes the table holds.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table holds no route.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The routes in lookup order: longest prefix first, then lowest metric, then oldest.
    pub fn iter(&self) -> impl Iterator<Item = &Route<I>> + '_ {
        self.routes.iter()
    }

    /// Adds `route`.
    ///
    /// A gateway must be unicast and on-link: covered by an on-link route through the same
    /// device (Linux's `fib_check_nh` answers `ENETUNREACH` otherwise), or, for IPv6, a
    /// link-local address, which is on-link on every link by definition (RFC 4861 §2.1,
    /// RFC 4291 §2.5.6).
    pub fn add(&mut self, route: Route<I>) -> Result<(), RouteError<I::Addr>> {
        if let Some(gateway) = route.gateway {
            let gateway = gateway.into_addr();
            if gateway.is_multicast() || is_all_ones(&gateway) {
                self.counters.add_gateway_not_unicast += 1;
                return Err(RouteError::GatewayNotUnicast { gateway });
            }
            let link_local_v6 = I::VERSION == IpVersion::V6 && gateway.is_link_local_unicast();
            let covered = self
                .routes
                .iter()
                .any(|r| r.gateway.is_none() && r.device == route.device && r.subnet.contains(&gateway));
            if !link_local_v6 && !covered {
                self.counters.add_gateway_not_on_link += 1;
                return Err(RouteError::GatewayNotOnLink { gateway, device: route.device });
            }
        }
        if self.routes.iter().any(|r| r.same_route(&route)) {
            self.counters.add_exists += 1;
            return Err(RouteError::Exists {
                subnet: route.subnet,
                device: route.device,
                metric: route.metric,
            });
        }
        if self.routes.len() >= self.config.max_routes {
            self.counters.add_table_full += 1;
            return Err(RouteError::TableFull { limit: self.config.max_routes });
        }
        let key = sort_key(&route);
        let at = self.routes.partition_point(|r| sort_key(r) <= key);
        self.routes.insert(at, route);
        Ok(())
    }

    /// Removes the route that is [`same_route`](Route::same_route) as `route` and returns it.
    pub fn remove(&mut self, route: &Route<I>) -> Result<Route<I>, RouteError<I::Addr>> {
        match self.routes.iter().position(|r| r.same_route(route)) {
            Some(at) => Ok(self.routes.remove(at)),
            None => {
                self.counters.remove_not_found += 1;
                Err(RouteError::NotFound { subnet: route.subnet, device: route.device, metric: route.metric })
            }
        }
    }

    /// Removes every route for which `matches` is true (say, all routes of a device that went
    /// away, or all a Router Advertisement added); returns how many.
    pub fn remove_matching(&mut self, mut matches: impl FnMut(&Route<I>) -> bool) -> usize {
        let before = self.routes.len();
        self.routes.retain(|r| !matches(r));
        before - self.routes.len()
    }

    /// Where a datagram to `dst` goes: the longest-prefix, lowest-metric, oldest route
    /// containing it, through `device` only if one is given, skipping devices that are down.
    /// `None` if no route matches.
    pub fn lookup(
        &self,
        dst: SpecifiedAddr<I::Addr>,
        device: Option<DeviceId>,
    ) -> Option<Destination<I::Addr>> {
        let addr = dst.into_addr();
        let usable = |r: &&Route<I>| self.down.is_empty() || !self.down.contains(&r.device);
        let route = self
            .routes
            .iter()
            .filter(usable)
            .find(|r| device.is_none_or(|d| d == r.device) && r.subnet.contains(&addr))?;
        let next_hop = match route.gateway {
            Some(gateway) => NextHop::Gateway(gateway),
            None => NextHop::OnLink(dst),
        };
        Some(Destination { device: route.device, next_hop })
    }
}

/// The table's order: longest prefix first, then lowest metric; routes with equal keys stay
/// in insertion order because a new one goes after them.
fn sort_key<I: Ip>(route: &Route<I>) -> (core::cmp::Reverse<u8>, u32) {
    (core::cmp::Reverse(route.subnet.prefix_len()), route.metric)
}

/// The IPv4 limited broadcast address; for IPv6 the all-ones address is multicast anyway.
fn is_all_ones<A: IpAddress>(addr: &A) -> bool {
    addr.as_bytes().iter().all(|&b| b == 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4, Ipv4Addr, Ipv6, Ipv6Addr};
    use proptest::prelude::*;

    const ETH0: DeviceId = DeviceId::new(1);
    const ETH1: DeviceId = DeviceId::new(2);

    fn v4(s: &str) -> SpecifiedAddr<Ipv4Addr> {
        SpecifiedAddr::new(s.parse().unwrap()).unwrap()
    }

    fn v6(s: &str) -> SpecifiedAddr<Ipv6Addr> {
        SpecifiedAddr::new(s.parse().unwrap()).unwrap()
    }

    fn route4(subnet: &str, device: DeviceId, gateway: Option<&str>, metric: u32) -> Route<Ipv4> {
        Route {
            subnet: subnet.parse().unwrap(),
            device,
            gateway: gateway.map(v4),
            metric,
            source: RouteSource::Static,
        }
    }

    fn route6(subnet: &str, device: DeviceId, gateway: Option<&str>, metric: u32) -> Route<Ipv6> {
        Route {
            subnet: subnet.parse().unwrap(),
            device,
            gateway: gateway.map(v6),
            metric,
            source: RouteSource::Static,
        }
    }

    /// eth0 on 192.0.2.0/24 with a default route via 192.0.2.1; eth1 on 198.51.100.0/24.
    fn host_table() -> RoutingTable<Ipv4> {
        let mut t = RoutingTable::default();
        t.add(route4("192.0.2.0/24", ETH0, None, 0)).unwrap();
        t.add(route4("198.51.100.0/24", ETH1, None, 0)).unwrap();
        t.add(route4("0.0.0.0/0", ETH0, Some("192.0.2.1"), 100)).unwrap();
        t
    }

    #[test]
    fn rfc1812_5_2_4_3_longest_match_wins() {
        let mut t = host_table();
        t.add(route4("198.51.100.128/25", ETH0, Some("192.0.2.2"), 500)).unwrap();
        let d = t.lookup(v4("198.51.100.200"), None).unwrap();
        assert_eq!(d, Destination { device: ETH0, next_hop: NextHop::Gateway(v4("192.0.2.2")) });
        let d = t.lookup(v4("198.51.100.7"), None).unwrap();
        assert_eq!(d.device, ETH1);
    }

    #[test]
    fn rfc1122_3_3_1_1_on_link_destination_is_its_own_next_hop() {
        let t = host_table();
        let d = t.lookup(v4("192.0.2.77"), None).unwrap();
        assert_eq!(d, Destination { device: ETH0, next_hop: NextHop::OnLink(v4("192.0.2.77")) });
        assert_eq!(d.next_hop.addr(), v4("192.0.2.77"));
    }

    #[test]
    fn rfc1122_3_3_1_2_off_link_destination_goes_to_the_gateway() {
        let t = host_table();
        let d = t.lookup(v4("203.0.113.5"), None).unwrap();
        assert_eq!(d, Destination { device: ETH0, next_hop: NextHop::Gateway(v4("192.0.2.1")) });
        assert_eq!(d.next_hop.addr(), v4("192.0.2.1"));
    }

    #[test]
    fn rfc1812_5_2_4_3_best_metric_breaks_prefix_ties() {
        let mut t = host_table();
        t.add(route4("198.51.100.0/24", ETH1, Some("198.51.100.1"), 0)).unwrap();
        t.add(route4("0.0.0.0/0", ETH1, Some("198.51.100.1"), 50)).unwrap();
        assert_eq!(t.lookup(v4("203.0.113.5"), None).unwrap().device, ETH1);
    }

    #[test]
    fn linux_equal_prefix_and_metric_first_added_wins() {
        let mut t = host_table();
        t.add(route4("0.0.0.0/0", ETH1, Some("198.51.100.1"), 100)).unwrap();
        assert_eq!(t.lookup(v4("203.0.113.5"), None).unwrap().device, ETH0);
        let order: Vec<_> = t.iter().map(|r| (r.subnet.prefix_len(), r.device)).collect();
        assert_eq!(order, [(24, ETH0), (24, ETH1), (0, ETH0), (0, ETH1)]);
        // Removing the first makes the second win.
        t.remove(&route4("0.0.0.0/0", ETH0, Some("192.0.2.1"), 100)).unwrap();
        assert_eq!(t.lookup(v4("203.0.113.5"), None).unwrap().device, ETH1);
    }

    #[test]
    fn so_bindtodevice_lookup_skips_other_devices() {
        let t = host_table();
        // The /24 on eth1 would win, but the socket is bound to eth0: the default route does.
        let d = t.lookup(v4("198.51.100.7"), Some(ETH0)).unwrap();
        assert_eq!(d, Destination { device: ETH0, next_hop: NextHop::Gateway(v4("192.0.2.1")) });
        // Bound to eth1 there is no route to an address only the default route covers.
        assert_eq!(t.lookup(v4("203.0.113.5"), Some(ETH1)), None);
        assert_eq!(t.lookup(v4("198.51.100.7"), Some(ETH1)).unwrap().device, ETH1);
    }

    #[test]
    fn no_route_without_a_covering_entry() {
        let mut t = RoutingTable::<Ipv4>::default();
        assert_eq!(t.lookup(v4("192.0.2.1"), None), None);
        t.add(route4("192.0.2.0/24", ETH0, None, 0)).unwrap();
        assert_eq!(t.lookup(v4("192.0.3.1"), None), None);
    }

    #[test]
    fn duplicate_route_is_refused_with_eexist() {
        let mut t = host_table();
        let mut again = route4("192.0.2.0/24", ETH0, None, 0);
        again.source = RouteSource::Kernel;
        assert_eq!(t.add(again), Err(RouteError::Exists { subnet: again.subnet, device: ETH0, metric: 0 }));
        assert_eq!(t.counters().add_exists, 1);
        // A different metric is a different route.
        t.add(route4("192.0.2.0/24", ETH0, None, 10)).unwrap();
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn table_is_bounded() {
        let mut t = RoutingTable::<Ipv4>::new(Config { max_routes: 2 });
        t.add(route4("192.0.2.0/24", ETH0, None, 0)).unwrap();
        t.add(route4("198.51.100.0/24", ETH1, None, 0)).unwrap();
        assert_eq!(t.add(route4("203.0.113.0/24", ETH1, None, 0)), Err(RouteError::TableFull { limit: 2 }));
        assert_eq!(t.counters().add_table_full, 1);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn gateway_must_be_on_link_through_the_device() {
        let mut t = host_table();
        // 198.51.100.1 is on-link, but through eth1, not eth0.
        let r = route4("203.0.113.0/24", ETH0, Some("198.51.100.1"), 0);
        assert_eq!(
            t.add(r),
            Err(RouteError::GatewayNotOnLink { gateway: "198.51.100.1".parse().unwrap(), device: ETH0 })
        );
        assert_eq!(t.add(route4("203.0.113.0/24", ETH0, Some("203.0.113.1"), 0)).map_err(|_| ()), Err(()));
        assert_eq!(t.counters().add_gateway_not_on_link, 2);
        t.add(route4("203.0.113.0/24", ETH1, Some("198.51.100.1"), 0)).unwrap();
    }

    #[test]
    fn gateway_must_be_unicast() {
        let mut t = RoutingTable::<Ipv4>::default();
        t.add(route4("0.0.0.0/0", ETH0, None, 0)).unwrap();
        assert!(matches!(
            t.add(route4("192.0.2.0/24", ETH0, Some("255.255.255.255"), 0)),
            Err(RouteError::GatewayNotUnicast { .. })
        ));
        assert!(matches!(
            t.add(route4("192.0.2.0/24", ETH0, Some("224.0.0.1"), 0)),
            Err(RouteError::GatewayNotUnicast { .. })
        ));
        assert_eq!(t.counters().add_gateway_not_unicast, 2);
    }

    #[test]
    fn rfc4861_2_1_link_local_gateway_is_on_link_on_every_link() {
        let mut t = RoutingTable::<Ipv6>::default();
        // A default router learned from an RA: its address is link-local, with no prefix route.
        let mut r = route6("::/0", ETH0, Some("fe80::1"), 1024);
        r.source = RouteSource::RouterAdvertisement;
        t.add(r).unwrap();
        t.add(route6("2001:db8::/64", ETH0, None, 256)).unwrap();
        let d = t.lookup(v6("2001:db8:1::1"), None).unwrap();
        assert_eq!(d, Destination { device: ETH0, next_hop: NextHop::Gateway(v6("fe80::1")) });
        let d = t.lookup(v6("2001:db8::9"), None).unwrap();
        assert_eq!(d.next_hop, NextHop::OnLink(v6("2001:db8::9")));
        // A global gateway needs an on-link prefix covering it.
        assert!(t.add(route6("2001:db8:5::/48", ETH0, Some("2001:db8:1::1"), 0)).is_err());
        t.add(route6("2001:db8:5::/48", ETH0, Some("2001:db8::1"), 0)).unwrap();
    }

    #[test]
    fn remove_reports_missing_routes_and_remove_matching_takes_what_a_source_added() {
        let mut t = RoutingTable::<Ipv6>::default();
        let mut ra = route6("::/0", ETH0, Some("fe80::1"), 1024);
        ra.source = RouteSource::RouterAdvertisement;
        t.add(ra).unwrap();
        let mut ra2 = route6("2001:db8:7::/48", ETH0, Some("fe80::1"), 1024);
        ra2.source = RouteSource::RouterAdvertisement;
        t.add(ra2).unwrap();
        t.add(route6("2001:db8::/64", ETH0, None, 256)).unwrap();
        let missing = route6("2001:db8::/64", ETH0, None, 1);
        assert_eq!(
            t.remove(&missing),
            Err(RouteError::NotFound { subnet: missing.subnet, device: ETH0, metric: 1 })
        );
        assert_eq!(t.counters().remove_not_found, 1);
        assert_eq!(t.remove_matching(|r| r.source == RouteSource::RouterAdvertisement), 2);
        assert_eq!(t.len(), 1);
        assert_eq!(t.remove_matching(|r| r.device == ETH0), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn errors_say_what_was_refused() {
        let e = RouteError::Exists {
            subnet: "192.0.2.0/24".parse::<Subnet<Ipv4Addr>>().unwrap(),
            device: ETH0,
            metric: 5,
        };
        assert_eq!(alloc::format!("{e}"), "route to 192.0.2.0/24 dev dev1 metric 5 already exists");
    }

    /// A table of on-link routes from random (network, prefix, device, metric) tuples; routes
    /// the table refuses as duplicates are skipped in the reference too.
    fn build(routes: &[(u32, u8, u32, u32)]) -> (RoutingTable<Ipv4>, Vec<Route<Ipv4>>) {
        let mut t = RoutingTable::new(Config { max_routes: 64 });
        let mut inserted = Vec::new();
        for &(net, len, dev, metric) in routes {
            let subnet = Subnet::from_host(Ipv4Addr::from_u32(net), len).unwrap();
            let r = Route {
                subnet,
                device: DeviceId::new(dev),
                gateway: None,
                metric,
                source: RouteSource::Static,
            };
            if t.add(r).is_ok() {
                inserted.push(r);
            }
        }
        (t, inserted)
    }

    /// The rules stated plainly: of the routes containing `dst` (through `device` if given),
    /// the longest prefix, then the lowest metric, then the first inserted.
    fn reference(inserted: &[Route<Ipv4>], dst: Ipv4Addr, device: Option<DeviceId>) -> Option<DeviceId> {
        let mut best: Option<&Route<Ipv4>> = None;
        for r in inserted.iter().filter(|r| r.subnet.contains(&dst) && device.is_none_or(|d| d == r.device)) {
            let better = best.is_none_or(|b| {
                r.subnet.prefix_len() > b.subnet.prefix_len()
                    || (r.subnet.prefix_len() == b.subnet.prefix_len() && r.metric < b.metric)
            });
            if better {
                best = Some(r);
            }
        }
        best.map(|r| r.device)
    }

    #[test]
    fn routes_of_a_device_that_is_down_are_kept_but_skipped() {
        let mut t = RoutingTable::<Ipv4>::default();
        t.add(route4("192.0.2.0/24", ETH0, None, 0)).unwrap();
        t.add(route4("0.0.0.0/0", ETH1, None, 0)).unwrap();
        let dst = v4("192.0.2.7");
        assert_eq!(t.lookup(dst, None).map(|d| d.device), Some(ETH0));
        assert!(t.set_device_up(ETH0, false));
        assert!(!t.set_device_up(ETH0, false));
        assert!(!t.is_device_up(ETH0));
        assert_eq!(t.len(), 2);
        // The less specific route through the device that is up takes over.
        assert_eq!(t.lookup(dst, None).map(|d| d.device), Some(ETH1));
        assert_eq!(t.lookup(dst, Some(ETH0)), None);
        assert!(t.set_device_up(ETH0, true));
        assert_eq!(t.lookup(dst, None).map(|d| d.device), Some(ETH0));
    }

    proptest! {
        #[test]
        fn lookup_equals_brute_force_reference(
            // Networks near one another so prefixes overlap often.
            routes in proptest::collection::vec((0xc000_0200u32..0xc000_0210, 0u8..=32, 1u32..4, 0u32..3), 0..40),
            dsts in proptest::collection::vec(0xc000_01f0u32..0xc000_0220, 1..20),
            bound in proptest::option::of(1u32..4),
        ) {
            let (t, inserted) = build(&routes);
            let device = bound.map(DeviceId::new);
            for dst in dsts {
                let dst = Ipv4Addr::from_u32(dst);
                let got = t.lookup(SpecifiedAddr::new(dst).unwrap(), device).map(|d| d.device);
                prop_assert_eq!(got, reference(&inserted, dst, device));
            }
        }

        #[test]
        fn table_never_exceeds_its_limit(
            routes in proptest::collection::vec((any::<u32>(), 0u8..=32, 1u32..4, 0u32..3), 0..200),
        ) {
            let (t, inserted) = build(&routes);
            prop_assert!(t.len() <= 64);
            prop_assert_eq!(t.len(), inserted.len());
        }
    }
}
