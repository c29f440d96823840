//! `fuchsia.net.routes/StateV4`/`V6` with their watchers, and `fuchsia.net.root/RoutesV4`/
//! `V6` with the global route sets (`fuchsia.net.routes.admin/RouteSetV4`/`V6`).
//!
//! A watcher reports every route of its version (there is one table, the main one, id 0; a
//! `table_interest` naming another table sees none): `existing` ones, `idle`, then `added`
//! and `removed`. Each `Watch` answers with at most `MAX_REPLY_EVENTS` events (what fits a
//! 64 KiB message).
//!
//! Routes added through the global route set are the stack's, not the channel's: they stay
//! after the client closes the route set (as `ip route add` routes do), and anyone may remove
//! them (`RemoveRoute`, or another route set). `AddRoute` answers `false` for a route that is
//! there already and `RemoveRoute` `false` for one that is not. An `InheritedFromInterface`
//! metric is 0 (the stack has no per-interface metric); a missing metric is
//! `MISSING_METRIC`, a destination with host bits set `INVALID_DESTINATION_SUBNET`, an
//! unknown interface `PREVIOUSLY_AUTHENTICATED_INTERFACE_NO_LONGER_EXISTS`.

use netstack_core::addr::{IpAddr, IpVersion, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, SpecifiedAddr, Subnet};
use netstack_core::device::DeviceId;
use netstack_core::ip::routing::{Route, RouteSource};
use netstack_fidl::channel::MessageBuf;
use netstack_fidl::fuchsia_net::{Ipv4Address, Ipv4AddressWithPrefix, Ipv6Address, Ipv6AddressWithPrefix};
use netstack_fidl::fuchsia_net_root::{RoutesV4Request, RoutesV6Request};
use netstack_fidl::fuchsia_net_routes::{
    watcher_v4, watcher_v6, EffectiveRouteProperties, Empty, EventV4, EventV6, InstalledRouteV4,
    InstalledRouteV6, RouteActionV4, RouteActionV6, RoutePropertiesV4, RoutePropertiesV6, RouteTargetV4,
    RouteTargetV6, RouteV4, RouteV6, SpecifiedMetric, SpecifiedRouteProperties, StateV4Request,
    StateV6Request, TableInterest, WatcherV4Request, WatcherV6Request, MAX_REPLY_EVENTS,
};
use netstack_fidl::fuchsia_net_routes_admin::{
    route_set_v4, route_set_v6, RouteSetError, RouteSetV4Request, RouteSetV6Request,
};
use netstack_fidl::wire::DecodeError;

use super::hanging::Hanging;
use super::model::{RouteEntry, RouteEvent};
use super::netstack_admin::device;
use super::{encode_parked_reply, version_index, AdminServer, Payload, Request, Role, MAX_QUEUED_EVENTS};
use crate::eventloop::{BindingsCtx, NetStack};

/// The id of the one routing table.
const MAIN_TABLE: u32 = 0;

/// Serves one request of a `StateV4` or `StateV6` connection.
pub(super) fn state_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    version: IpVersion,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    let (watcher, interest) = match version {
        IpVersion::V4 => match payload.decode(StateV4Request::decode)? {
            StateV4Request::GetWatcherV4 { watcher, options } => (watcher, options.table_interest),
        },
        IpVersion::V6 => match payload.decode(StateV6Request::decode)? {
            StateV6Request::GetWatcherV6 { watcher, options } => (watcher, options.table_interest),
        },
    };
    server.catch_up(stack, ctx);
    let sees_main = !matches!(interest, Some(TableInterest::Only(id)) if id != MAIN_TABLE);
    let routes = if sees_main { server.observed.routes[version_index(version)].as_slice() } else { &[] };
    let initial = routes.iter().copied().map(RouteEvent::Existing).chain(std::iter::once(RouteEvent::Idle));
    let queue = Hanging::new(initial, MAX_QUEUED_EVENTS);
    let role = Role::RouteWatcher { parent: request.key, version, queue, main_table: sees_main };
    if let Some(key) = server.add_child(watcher, role) {
        server.route_watchers.push(key);
    }
    Ok(())
}

/// Serves one request of a `WatcherV4` or `WatcherV6`.
pub(super) fn watcher_request(
    server: &mut AdminServer,
    request: Request,
    version: IpVersion,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match version {
        IpVersion::V4 => match payload.decode(WatcherV4Request::decode)? {
            WatcherV4Request::Watch {} => server.watch(request.key, request.txid),
        },
        IpVersion::V6 => match payload.decode(WatcherV6Request::decode)? {
            WatcherV6Request::Watch {} => server.watch(request.key, request.txid),
        },
    }
    Ok(())
}

/// Encodes the answer to a parked `Watch` if events wait; `true` if it did.
pub(super) fn encode_watch_reply(
    version: IpVersion,
    queue: &mut Hanging<RouteEvent>,
    out: &mut MessageBuf,
) -> bool {
    let Some((txid, events)) = queue.take(MAX_REPLY_EVENTS) else { return false };
    match version {
        IpVersion::V4 => {
            encode_parked_reply::<watcher_v4::Watch>(txid, events.filter_map(event_v4).collect(), out)
        }
        IpVersion::V6 => {
            encode_parked_reply::<watcher_v6::Watch>(txid, events.filter_map(event_v6).collect(), out)
        }
    }
}

/// Serves one request of a `fuchsia.net.root/RoutesV4` or `RoutesV6` connection.
pub(super) fn root_request(
    server: &mut AdminServer,
    request: Request,
    version: IpVersion,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    let route_set = match version {
        IpVersion::V4 => match payload.decode(RoutesV4Request::decode)? {
            RoutesV4Request::GlobalRouteSet { route_set } => route_set,
        },
        IpVersion::V6 => match payload.decode(RoutesV6Request::decode)? {
            RoutesV6Request::GlobalRouteSet { route_set } => route_set,
        },
    };
    server.add_child(route_set, Role::RouteSet { parent: request.key, version });
    Ok(())
}

/// Serves one request of a global `RouteSetV4` or `RouteSetV6`.
pub(super) fn route_set_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    version: IpVersion,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match version {
        IpVersion::V4 => {
            serve_route_set_v4(server, stack, ctx, request, payload.decode(RouteSetV4Request::decode)?)
        }
        IpVersion::V6 => {
            serve_route_set_v6(server, stack, ctx, request, payload.decode(RouteSetV6Request::decode)?)
        }
    }
    server.dirty.routes[version_index(version)] = true;
    Ok(())
}

/// The metric of `properties`.
fn metric(properties: Option<&SpecifiedRouteProperties>) -> Result<u32, RouteSetError> {
    match properties.ok_or(RouteSetError::MissingRouteProperties)?.metric {
        Some(SpecifiedMetric::ExplicitMetric(m)) => Ok(m),
        Some(SpecifiedMetric::InheritedFromInterface(_)) => Ok(0),
        None => Err(RouteSetError::MissingMetric),
    }
}

/// The device `id` names, if it exists.
fn interface(stack: &NetStack, id: u64) -> Result<DeviceId, RouteSetError> {
    device(id)
        .filter(|&d| stack.device_info(d).is_some())
        .ok_or(RouteSetError::PreviouslyAuthenticatedInterfaceNoLongerExists)
}

/// The functions of one IP version: a route set's request, a FIDL route into the core's, and
/// a route event into the watcher's.
macro_rules! per_version {
    (
        $ip:ident, $addr:ident, $ip_addr:ident, $fidl_addr:ident, $fidl_with_prefix:ident,
        route_set: $route_set_fn:ident($request:ident, $method_mod:ident, $add:ident, $remove:ident),
        route: $route_fn:ident($route:ident, $action:ident, $target:ident, $properties:ident),
        event: $event_fn:ident($event:ident, $installed:ident) $(,)?
    ) => {
        fn $route_set_fn(
            server: &mut AdminServer,
            stack: &mut NetStack,
            ctx: &mut BindingsCtx,
            request: Request,
            body: $request,
        ) {
            match body {
                $request::AddRoute { route } => {
                    let result = $route_fn(stack, &route).map(|r| stack.$add(ctx, r).is_ok());
                    server.reply::<$method_mod::AddRoute>(request, result);
                }
                $request::RemoveRoute { route } => {
                    let result = $route_fn(stack, &route).map(|r| stack.$remove(ctx, &r).is_ok());
                    server.reply::<$method_mod::RemoveRoute>(request, result);
                }
            }
        }

        fn $route_fn(stack: &NetStack, route: &$route) -> Result<Route<$ip>, RouteSetError> {
            let $action::Forward(target) = &route.action;
            let subnet = Subnet::new($addr::new(route.destination.addr.addr), route.destination.prefix_len)
                .map_err(|_| RouteSetError::InvalidDestinationSubnet)?;
            let gateway = match &target.next_hop {
                None => None,
                Some(hop) => {
                    Some(SpecifiedAddr::new($addr::new(hop.addr)).ok_or(RouteSetError::InvalidNextHop)?)
                }
            };
            Ok(Route {
                subnet,
                device: interface(stack, target.outbound_interface)?,
                gateway,
                metric: metric(route.properties.specified_properties.as_ref())?,
                source: RouteSource::Static,
            })
        }

        fn $event_fn(event: RouteEvent) -> Option<$event> {
            let installed = |r: RouteEntry| {
                let IpAddr::$ip_addr(dest) = r.dest else { return None };
                let next_hop = match r.gateway {
                    Some(IpAddr::$ip_addr(g)) => Some(Box::new($fidl_addr { addr: g.bytes() })),
                    _ => None,
                };
                Some($installed {
                    route: Some($route {
                        destination: $fidl_with_prefix {
                            addr: $fidl_addr { addr: dest.bytes() },
                            prefix_len: r.prefix_len,
                        },
                        action: $action::Forward($target { outbound_interface: r.interface, next_hop }),
                        properties: $properties {
                            specified_properties: Some(SpecifiedRouteProperties {
                                metric: Some(SpecifiedMetric::ExplicitMetric(r.metric)),
                            }),
                        },
                    }),
                    effective_properties: Some(EffectiveRouteProperties { metric: Some(r.metric) }),
                    table_id: Some(MAIN_TABLE),
                })
            };
            Some(match event {
                RouteEvent::Existing(r) => $event::Existing(installed(r)?),
                RouteEvent::Idle => $event::Idle(Empty {}),
                RouteEvent::Added(r) => $event::Added(installed(r)?),
                RouteEvent::Removed(r) => $event::Removed(installed(r)?),
            })
        }
    };
}

per_version!(
    Ipv4, Ipv4Addr, V4, Ipv4Address, Ipv4AddressWithPrefix,
    route_set: serve_route_set_v4(RouteSetV4Request, route_set_v4, add_route_v4, remove_ipv4_route),
    route: route_v4(RouteV4, RouteActionV4, RouteTargetV4, RoutePropertiesV4),
    event: event_v4(EventV4, InstalledRouteV4),
);
per_version!(
    Ipv6, Ipv6Addr, V6, Ipv6Address, Ipv6AddressWithPrefix,
    route_set: serve_route_set_v6(RouteSetV6Request, route_set_v6, add_route_v6, remove_ipv6_route),
    route: route_v6(RouteV6, RouteActionV6, RouteTargetV6, RoutePropertiesV6),
    event: event_v6(EventV6, InstalledRouteV6),
);
