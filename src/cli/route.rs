//! `netstack route`: list the routing table (the `fuchsia.net.routes` V4 and V6 watchers read
//! until `Idle`), add and remove routes through the global route sets of
//! `fuchsia.net.root/RoutesV4` and `RoutesV6` (routes added there persist after the CLI's
//! channel closes). The V4 and V6 protocols differ only in their types; [`Family`] hides that,
//! and one macro writes both versions' conversions and impls.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netstack_fidl::channel::Channel;
use netstack_fidl::client::{ClientError, SyncClient};
use netstack_fidl::fuchsia_net::{Ipv4AddressWithPrefix, Ipv6AddressWithPrefix};
use netstack_fidl::fuchsia_net_root::{self as root, routes_v4 as root_v4, routes_v6 as root_v6};
use netstack_fidl::fuchsia_net_routes::{
    self as routes, state_v4, state_v6, watcher_v4, watcher_v6, EventV4, EventV6, InstalledRouteV4,
    InstalledRouteV6, RouteActionV4, RouteActionV6, RoutePropertiesV4, RoutePropertiesV6, RouteTargetV4,
    RouteTargetV6, RouteV4, RouteV6, SpecifiedMetric, SpecifiedRouteProperties, WatcherOptionsV4,
    WatcherOptionsV6,
};
use netstack_fidl::fuchsia_net_routes_admin::{route_set_v4, route_set_v6};
use serde_json::{json, Value};

use super::args::{in_subnet, parse_destination, parse_ip, parse_number, Args, IfaceRef};
use super::iface::{self, name_of, Iface};
use super::svc::{call_failed, channel_pair};
use super::table::{or_dash, Align, Table};
use super::{CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack route list [-4|-6]
       netstack route add DEST via GW [dev IFACE] [metric N]
       netstack route add DEST dev IFACE [metric N]
       netstack route del DEST [via GW] [dev IFACE] [metric N]

DEST is ADDR/PREFIX, a bare address (a host route) or 'default' (with -6 before it, or a
v6 gateway, IPv6's). Without 'dev' the interface is the one whose subnet holds GW. Without
'metric' the route takes its interface's. Routes added here stay until deleted, also when
no client holds them; 'del' removes the first route matching what is given.

Examples:
  netstack route list
  netstack route add 198.51.100.0/24 via 192.0.2.254
  netstack route add default via 2001:db8::fe dev ns0 metric 10
  netstack route del 198.51.100.0/24
";

/// An IPv4 or IPv6 route as the CLI handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) destination: IpAddr,
    pub(crate) prefix: u8,
    pub(crate) gateway: Option<IpAddr>,
    pub(crate) iface: u64,
    /// The metric the route was added with; `None`: its interface's.
    pub(crate) specified_metric: Option<u32>,
    /// The metric in effect (an installed route's).
    pub(crate) metric: Option<u32>,
    pub(crate) table: Option<u32>,
}

impl Route {
    /// `198.51.100.0/24 via 192.0.2.254 dev ns0 metric 100`, as `ip route` prints routes.
    pub(crate) fn describe(&self, ifaces: &[Iface]) -> String {
        let mut text = self.destination_text();
        if let Some(gateway) = self.gateway {
            text.push_str(&format!(" via {gateway}"));
        }
        text.push_str(&format!(" dev {}", name_of(ifaces, self.iface)));
        if let Some(metric) = self.metric.or(self.specified_metric) {
            text.push_str(&format!(" metric {metric}"));
        }
        text
    }

    fn destination_text(&self) -> String {
        if self.prefix == 0 {
            "default".to_owned()
        } else {
            format!("{}/{}", self.destination, self.prefix)
        }
    }

    pub(crate) fn to_json(&self, ifaces: &[Iface]) -> Value {
        json!({
            "family": if self.destination.is_ipv4() { "inet" } else { "inet6" },
            "destination": format!("{}/{}", self.destination, self.prefix),
            "gateway": self.gateway.map(|g| g.to_string()),
            "dev": name_of(ifaces, self.iface),
            "ifindex": self.iface,
            "metric": self.metric.or(self.specified_metric),
            "metric_inherited": self.specified_metric.is_none(),
            "table": self.table,
        })
    }
}

/// A watcher's event, for both versions.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RouteEvent {
    Existing(Route),
    Added(Route),
    Removed(Route),
    Idle,
}

/// What differs between the IPv4 and IPv6 protocols.
pub(crate) trait Family {
    /// `fuchsia.net.routes.StateV4` or `V6`.
    const STATE: &'static str;
    /// `fuchsia.net.root.RoutesV4` or `V6`.
    const ROOT: &'static str;
    /// A new watcher on `server`.
    fn get_watcher(state: &SyncClient, server: Channel) -> Result<(), ClientError>;
    /// The next batch of events (a hanging get).
    fn watch(watcher: &SyncClient) -> Result<Vec<RouteEvent>, ClientError>;
    /// The global route set on `server`.
    fn global_route_set(root: &SyncClient, server: Channel) -> Result<(), ClientError>;
    /// Adds (`add`) or removes a route; `Ok(false)` when nothing changed.
    fn change(set: &SyncClient, route: &Route, add: bool) -> Result<Result<bool, String>, ClientError>;
}

/// IPv4.
#[derive(Debug)]
pub(crate) struct V4;
/// IPv6.
#[derive(Debug)]
pub(crate) struct V6;

fn metric_of(specified: Option<&SpecifiedRouteProperties>) -> Option<u32> {
    match specified.and_then(|s| s.metric.as_ref()) {
        Some(SpecifiedMetric::ExplicitMetric(metric)) => Some(*metric),
        _ => None,
    }
}

fn specified(route: &Route) -> SpecifiedRouteProperties {
    SpecifiedRouteProperties {
        metric: Some(match route.specified_metric {
            Some(metric) => SpecifiedMetric::ExplicitMetric(metric),
            None => SpecifiedMetric::InheritedFromInterface(routes::Empty {}),
        }),
    }
}

/// The conversions between [`Route`] and one IP version's FIDL types, and that version's
/// [`Family`]: the V4 and V6 protocols differ only in their types' names.
macro_rules! route_family {
    (
        $family:ident, $ip:ident, $addr:ty,
        from: $from:ident, installed: $installed:ident, to: $to:ident,
        route: $route:ident, action: $action:ident, target: $target:ident,
        properties: $properties:ident, destination: $with_prefix:ident,
        installed_route: $installed_route:ident, event: $event:ident,
        state: $state_name:expr, $state:ident::$get_watcher:ident, $options:ident, $watcher:ident,
        root: $root_name:expr, $root:ident, $route_set:ident $(,)?
    ) => {
        fn $from(route: &$route) -> Route {
            let $action::Forward(target) = &route.action;
            Route {
                destination: IpAddr::$ip(route.destination.addr.into()),
                prefix: route.destination.prefix_len,
                gateway: target.next_hop.as_ref().map(|hop| IpAddr::$ip(<$addr>::from(**hop))),
                iface: target.outbound_interface,
                specified_metric: metric_of(route.properties.specified_properties.as_ref()),
                metric: None,
                table: None,
            }
        }

        fn $installed(installed: &$installed_route) -> Option<Route> {
            let mut route = $from(installed.route.as_ref()?);
            route.metric = installed.effective_properties.as_ref().and_then(|p| p.metric);
            route.table = installed.table_id;
            Some(route)
        }

        /// `None` when `route` is of the other version (or its gateway is).
        fn $to(route: &Route) -> Option<$route> {
            let IpAddr::$ip(destination) = route.destination else { return None };
            let next_hop = match route.gateway {
                Some(IpAddr::$ip(gateway)) => Some(Box::new(gateway.into())),
                Some(_) => return None,
                None => None,
            };
            Some($route {
                destination: $with_prefix { addr: destination.into(), prefix_len: route.prefix },
                action: $action::Forward($target { outbound_interface: route.iface, next_hop }),
                properties: $properties { specified_properties: Some(specified(route)) },
            })
        }

        impl Family for $family {
            const STATE: &'static str = $state_name;
            const ROOT: &'static str = $root_name;

            fn get_watcher(state: &SyncClient, server: Channel) -> Result<(), ClientError> {
                state.send::<$state::$get_watcher>((server, $options::default()))
            }

            fn watch(watcher: &SyncClient) -> Result<Vec<RouteEvent>, ClientError> {
                let events = watcher.call::<$watcher::Watch>(())?;
                Ok(events
                    .iter()
                    .filter_map(|event| match event {
                        $event::Existing(r) => $installed(r).map(RouteEvent::Existing),
                        $event::Added(r) => $installed(r).map(RouteEvent::Added),
                        $event::Removed(r) => $installed(r).map(RouteEvent::Removed),
                        $event::Idle(_) => Some(RouteEvent::Idle),
                    })
                    .collect())
            }

            fn global_route_set(root: &SyncClient, server: Channel) -> Result<(), ClientError> {
                root.send::<$root::GlobalRouteSet>(server)
            }

            fn change(
                set: &SyncClient,
                route: &Route,
                add: bool,
            ) -> Result<Result<bool, String>, ClientError> {
                let Some(fidl) = $to(route) else { return Ok(Err(mixed(route))) };
                let result = if add {
                    set.call::<$route_set::AddRoute>(fidl)?
                } else {
                    set.call::<$route_set::RemoveRoute>(fidl)?
                };
                Ok(result.map_err(|error| format!("{error:?}")))
            }
        }
    };
}

/// The route `to_v4`/`to_v6` could not express: a gateway of the other version.
fn mixed(route: &Route) -> String {
    format!("gateway {:?} and destination {} are of different IP versions", route.gateway, route.destination)
}

route_family! {
    V4, V4, Ipv4Addr,
    from: v4, installed: installed_v4, to: to_v4,
    route: RouteV4, action: RouteActionV4, target: RouteTargetV4,
    properties: RoutePropertiesV4, destination: Ipv4AddressWithPrefix,
    installed_route: InstalledRouteV4, event: EventV4,
    state: routes::STATE_V4_PROTOCOL_NAME, state_v4::GetWatcherV4, WatcherOptionsV4, watcher_v4,
    root: root::ROUTES_V4_PROTOCOL_NAME, root_v4, route_set_v4,
}

route_family! {
    V6, V6, Ipv6Addr,
    from: v6, installed: installed_v6, to: to_v6,
    route: RouteV6, action: RouteActionV6, target: RouteTargetV6,
    properties: RoutePropertiesV6, destination: Ipv6AddressWithPrefix,
    installed_route: InstalledRouteV6, event: EventV6,
    state: routes::STATE_V6_PROTOCOL_NAME, state_v6::GetWatcherV6, WatcherOptionsV6, watcher_v6,
    root: root::ROUTES_V6_PROTOCOL_NAME, root_v6, route_set_v6,
}

/// A route watcher of family `F`.
pub(crate) fn open_watcher<F: Family>(ctx: &Context) -> Result<SyncClient, CliError> {
    let state = ctx.svc.client(F::STATE)?;
    let (ours, theirs) = channel_pair()?;
    F::get_watcher(&state, theirs).map_err(|e| call_failed("watching the routes", e))?;
    Ok(SyncClient::new(ours))
}

/// Reads `watcher`'s events up to `Idle`: the routes installed now.
pub(crate) fn read_existing<F: Family>(watcher: &SyncClient) -> Result<Vec<Route>, CliError> {
    let mut installed = Vec::new();
    loop {
        for event in F::watch(watcher).map_err(|e| call_failed("listing the routes", e))? {
            match event {
                RouteEvent::Existing(route) | RouteEvent::Added(route) => installed.push(route),
                RouteEvent::Removed(route) => installed.retain(|r| *r != route),
                RouteEvent::Idle => return Ok(installed),
            }
        }
    }
}

fn snapshot<F: Family>(ctx: &Context) -> Result<Vec<Route>, CliError> {
    read_existing::<F>(&open_watcher::<F>(ctx)?)
}

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    let mut args = Args::new("route", words);
    let (mut v4_only, mut v6_only) = (false, false);
    let command = loop {
        match args.next() {
            Some("-4") => v4_only = true,
            Some("-6") => v6_only = true,
            other => break other,
        }
    };
    match command {
        None | Some("list" | "ls" | "show") => {
            while let Some(word) = args.next() {
                match word {
                    "-4" => v4_only = true,
                    "-6" => v6_only = true,
                    other => return Err(args.unexpected(other)),
                }
            }
            if v4_only && v6_only {
                return Err(args.usage("'-4' and '-6' exclude each other".to_owned()));
            }
            list(ctx, !v6_only, !v4_only)
        }
        Some(command @ ("add" | "del" | "delete")) => {
            let spec = parse_spec(&mut args, v6_only)?;
            if command == "add" {
                add(ctx, spec)
            } else {
                del(ctx, spec)
            }
        }
        Some(other) => Err(args.usage(format!("unknown command '{other}'"))),
    }
}

/// `DEST [via GW] [dev IFACE] [metric N]` as typed.
#[derive(Debug, PartialEq, Eq)]
struct RouteSpec {
    destination: IpAddr,
    prefix: u8,
    gateway: Option<IpAddr>,
    dev: Option<IfaceRef>,
    metric: Option<u32>,
}

fn parse_spec(args: &mut Args<'_>, v6: bool) -> Result<RouteSpec, CliError> {
    let word = args.required("DEST")?;
    let (mut gateway, mut dev, mut metric) = (None, None, None);
    while let Some(keyword) = args.next() {
        match keyword {
            "via" => gateway = Some(args.parsed("via", parse_ip)?),
            "dev" => dev = Some(IfaceRef(args.value("dev")?.to_owned())),
            "metric" => metric = Some(args.parsed("metric", parse_number(0u32, u32::MAX))?),
            other => return Err(args.unexpected(other)),
        }
    }
    let v6 = v6 || gateway.is_some_and(|g: IpAddr| g.is_ipv6());
    let (destination, prefix) =
        parse_destination(word, v6).map_err(|why| args.usage(format!("bad DEST '{word}': {why}")))?;
    if gateway.is_some_and(|g| g.is_ipv4() != destination.is_ipv4()) {
        return Err(args.usage("DEST and the gateway are of different IP versions".to_owned()));
    }
    Ok(RouteSpec { destination, prefix, gateway, dev, metric })
}

fn list(ctx: &Context, v4: bool, v6: bool) -> Result<(), CliError> {
    let ifaces = iface::snapshot(ctx)?;
    let mut all = Vec::new();
    if v4 {
        all.extend(snapshot::<V4>(ctx)?);
    }
    if v6 {
        all.extend(snapshot::<V6>(ctx)?);
    }
    if ctx.out.json {
        return ctx.out.document(&Value::Array(all.iter().map(|r| r.to_json(&ifaces)).collect()));
    }
    let mut table = Table::new(&[
        ("DESTINATION", Align::Left),
        ("GATEWAY", Align::Left),
        ("DEV", Align::Left),
        ("METRIC", Align::Right),
    ]);
    for route in &all {
        table.row(vec![
            route.destination_text(),
            or_dash(route.gateway),
            name_of(&ifaces, route.iface),
            or_dash(route.metric.or(route.specified_metric)),
        ]);
    }
    ctx.out.text(&table.render())
}

/// The interface a route through `gateway` leaves by: the one with an address on the
/// gateway's subnet.
fn iface_for_gateway(ifaces: &[Iface], gateway: IpAddr) -> Option<&Iface> {
    ifaces.iter().find(|i| i.addresses.iter().any(|a| in_subnet(gateway, a.addr, a.prefix)))
}

fn add(ctx: &Context, spec: RouteSpec) -> Result<(), CliError> {
    let ifaces = iface::snapshot(ctx)?;
    let iface = match (&spec.dev, spec.gateway) {
        (Some(dev), _) => iface::find(&ifaces, dev)?,
        (None, Some(gateway)) => iface_for_gateway(&ifaces, gateway).ok_or_else(|| {
            CliError::failed(format!("gateway {gateway} is on no interface's subnet; name one with 'dev'"))
        })?,
        (None, None) => return Err(CliError::usage("route", "a route needs 'via GW' or 'dev IFACE'")),
    };
    let route = Route {
        destination: spec.destination,
        prefix: spec.prefix,
        gateway: spec.gateway,
        iface: iface.id,
        specified_metric: spec.metric,
        metric: None,
        table: None,
    };
    let what = format!("adding route {}", route.describe(&ifaces));
    let added = if route.destination.is_ipv4() {
        change::<V4>(ctx, &route, true)
    } else {
        change::<V6>(ctx, &route, true)
    };
    match added.map_err(|e| CliError::failed(format!("{what}: {e}")))? {
        true => Ok(()),
        false => Err(CliError::failed(format!("{what}: the route exists already"))),
    }
}

fn del(ctx: &Context, spec: RouteSpec) -> Result<(), CliError> {
    let ifaces = iface::snapshot(ctx)?;
    let dev = spec.dev.as_ref().map(|dev| iface::find(&ifaces, dev)).transpose()?.map(|i| i.id);
    let installed = if spec.destination.is_ipv4() { snapshot::<V4>(ctx)? } else { snapshot::<V6>(ctx)? };
    let matches = |r: &&Route| {
        r.destination == spec.destination
            && r.prefix == spec.prefix
            && spec.gateway.is_none_or(|g| r.gateway == Some(g))
            && dev.is_none_or(|d| r.iface == d)
            && spec.metric.is_none_or(|m| r.metric.or(r.specified_metric) == Some(m))
    };
    let route = installed.iter().find(matches).ok_or_else(|| {
        CliError::failed(format!("deleting route {}/{}: no such route", spec.destination, spec.prefix))
    })?;
    let what = format!("deleting route {}", route.describe(&ifaces));
    let removed = if route.destination.is_ipv4() {
        change::<V4>(ctx, route, false)
    } else {
        change::<V6>(ctx, route, false)
    };
    match removed.map_err(|e| CliError::failed(format!("{what}: {e}")))? {
        true => Ok(()),
        false => Err(CliError::failed(format!("{what}: no such route"))),
    }
}

/// Adds or removes `route` through the global route set of its version.
fn change<F: Family>(ctx: &Context, route: &Route, add: bool) -> Result<bool, String> {
    let root = ctx.svc.client(F::ROOT).map_err(|e| e.to_string())?;
    let (ours, theirs) = channel_pair().map_err(|e| e.to_string())?;
    F::global_route_set(&root, theirs).map_err(|e| call_failed("opening the route set", e).to_string())?;
    let set = SyncClient::new(ours);
    F::change(&set, route, add).map_err(|e| call_failed("the route set", e).to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::words;

    fn spec(a: &[&str]) -> Result<RouteSpec, CliError> {
        let words = words(a);
        let mut args = Args::new("route", &words);
        parse_spec(&mut args, false)
    }

    #[test]
    fn specs_parse_iproute2_keywords() {
        assert_eq!(
            spec(&["198.51.100.0/24", "via", "192.0.2.254", "metric", "5"]).unwrap(),
            RouteSpec {
                destination: "198.51.100.0".parse().unwrap(),
                prefix: 24,
                gateway: Some("192.0.2.254".parse().unwrap()),
                dev: None,
                metric: Some(5),
            }
        );
        let default_v6 = spec(&["default", "via", "2001:db8::fe", "dev", "ns0"]).unwrap();
        assert_eq!((default_v6.destination, default_v6.prefix), ("::".parse().unwrap(), 0));
        assert_eq!(default_v6.dev, Some(IfaceRef("ns0".into())));
    }

    #[test]
    fn bad_specs_are_usage_errors() {
        for (bad, message) in [
            (&[][..], "missing DEST"),
            (&["198.51.100.1/24", "dev", "x"][..], "host bits set"),
            (&["198.51.100.0/24", "via"][..], "'via' needs a value"),
            (&["198.51.100.0/24", "via", "2001:db8::1"][..], "different IP versions"),
            (&["198.51.100.0/24", "metric", "-1"][..], "bad metric '-1'"),
            (&["198.51.100.0/24", "proto", "static"][..], "unexpected argument 'proto'"),
        ] {
            let error = spec(bad).unwrap_err();
            assert!(matches!(error, CliError::Usage { .. }), "{bad:?}");
            assert!(error.to_string().contains(message), "{bad:?}: {error}");
        }
    }

    #[test]
    fn routes_convert_to_fidl_and_back() {
        let route = Route {
            destination: "198.51.100.0".parse().unwrap(),
            prefix: 24,
            gateway: Some("192.0.2.254".parse().unwrap()),
            iface: 2,
            specified_metric: Some(7),
            metric: None,
            table: None,
        };
        assert_eq!(v4(&to_v4(&route).unwrap()), route);
        let v6_route = Route {
            destination: "2001:db8:1::".parse().unwrap(),
            prefix: 48,
            gateway: None,
            specified_metric: None,
            ..route.clone()
        };
        assert_eq!(v6(&to_v6(&v6_route).unwrap()), v6_route);
        assert!(to_v4(&v6_route).is_none());
    }

    #[test]
    fn routes_describe_themselves_like_ip_route() {
        let route = Route {
            destination: "0.0.0.0".parse().unwrap(),
            prefix: 0,
            gateway: Some("192.0.2.254".parse().unwrap()),
            iface: 9,
            specified_metric: None,
            metric: Some(100),
            table: Some(0),
        };
        assert_eq!(route.describe(&[]), "default via 192.0.2.254 dev 9 metric 100");
    }
}
