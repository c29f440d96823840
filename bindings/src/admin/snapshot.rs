//! Reads what the watchers report from the stack, into the [`model`](super::model) types: the
//! one place the admin server's watchers touch the core's admin API
//! (`netstack_core::stack::admin`).

use std::collections::BTreeMap;

use netstack_core::addr::{IpAddr, IpVersion};
use netstack_core::device::nud::NeighborState as CoreNeighborState;
use netstack_core::device::DeviceId;
use netstack_core::ip::slaac::Expiry;
use netstack_core::stack::{AddressAssignment, DeviceKind, IpAddrSubnet};

use super::model::{
    AddressProps, Assignment, InterfaceProps, NeighborKey, NeighborProps, NeighborState, PortKind, RouteEntry,
};
use crate::eventloop::{BindingsCtx, NetStack};

/// The name of the loopback interface.
pub(crate) const LOOPBACK_NAME: &str = "lo";

/// `device`'s name: its backend's (the Linux interface name of a TAP or TUN), `lo` for
/// loopback.
pub(crate) fn name(stack: &NetStack, ctx: &BindingsCtx, device: DeviceId) -> String {
    if let Some(session) = ctx.session(device) {
        return session.backend.name().to_owned();
    }
    match stack.device_info(device).map(|i| i.kind) {
        Some(DeviceKind::Loopback) => LOOPBACK_NAME.to_owned(),
        _ => format!("if{}", device.get()),
    }
}

/// `expiry` in nanoseconds of the stack's clock (`zx.Time`), `i64::MAX` for never.
pub(crate) fn nanos(expiry: Expiry) -> i64 {
    match expiry {
        Expiry::At(at) => i64::try_from(at.as_nanos()).unwrap_or(i64::MAX),
        Expiry::Never => i64::MAX,
    }
}

/// An address's prefix and address, either version.
pub(crate) fn split(addr: IpAddrSubnet) -> (IpAddr, u8) {
    match addr {
        IpAddrSubnet::V4(a) => (IpAddr::V4(*a.addr()), a.subnet().prefix_len()),
        IpAddrSubnet::V6(a) => (IpAddr::V6(*a.addr()), a.subnet().prefix_len()),
    }
}

/// Everything the interfaces watcher says about `device`; `None` once it is gone.
pub(crate) fn interface(stack: &NetStack, ctx: &BindingsCtx, device: DeviceId) -> Option<InterfaceProps> {
    let info = stack.device_info(device)?;
    let addresses = stack
        .addresses(device)
        .map(|a| {
            let (addr, prefix_len) = split(a.addr);
            let assignment = match a.state {
                AddressAssignment::Tentative => Assignment::Tentative,
                AddressAssignment::Assigned | AddressAssignment::Deprecated => Assignment::Assigned,
                AddressAssignment::Unavailable => Assignment::Unavailable,
            };
            let preferred_until = match a.state {
                AddressAssignment::Deprecated => None,
                _ => Some(nanos(a.preferred_until)),
            };
            AddressProps { addr, prefix_len, valid_until: nanos(a.valid_until), preferred_until, assignment }
        })
        .collect();
    let is_default = |prefix_len: u8, d: DeviceId| prefix_len == 0 && d == device;
    Some(InterfaceProps {
        id: u64::from(device.get()),
        name: name(stack, ctx, device),
        port: match info.kind {
            DeviceKind::Loopback => PortKind::Loopback,
            DeviceKind::Ethernet => PortKind::Ethernet,
            DeviceKind::PureIp => PortKind::Virtual,
        },
        online: info.enabled,
        addresses,
        has_default_ipv4_route: stack.routes4().iter().any(|r| is_default(r.subnet.prefix_len(), r.device)),
        has_default_ipv6_route: stack.routes6().iter().any(|r| is_default(r.subnet.prefix_len(), r.device)),
    })
}

/// The routes of `version`, sorted.
pub(crate) fn routes(stack: &NetStack, version: IpVersion) -> Vec<RouteEntry> {
    let mut routes: Vec<RouteEntry> = match version {
        IpVersion::V4 => stack
            .routes4()
            .iter()
            .map(|r| RouteEntry {
                dest: IpAddr::V4(r.subnet.network()),
                prefix_len: r.subnet.prefix_len(),
                interface: u64::from(r.device.get()),
                gateway: r.gateway.map(|g| IpAddr::V4(*g)),
                metric: r.metric,
            })
            .collect(),
        IpVersion::V6 => stack
            .routes6()
            .iter()
            .map(|r| RouteEntry {
                dest: IpAddr::V6(r.subnet.network()),
                prefix_len: r.subnet.prefix_len(),
                interface: u64::from(r.device.get()),
                gateway: r.gateway.map(|g| IpAddr::V6(*g)),
                metric: r.metric,
            })
            .collect(),
    };
    routes.sort_unstable();
    routes.dedup();
    routes
}

/// `device`'s neighbour entries of `version` (both when `None`).
pub(crate) fn neighbors(
    stack: &NetStack,
    device: DeviceId,
    version: Option<IpVersion>,
) -> BTreeMap<NeighborKey, NeighborProps> {
    let id = u64::from(device.get());
    stack
        .neighbors(device)
        .filter(|n| version.is_none_or(|v| super::ip_version(&n.ip) == v))
        .map(|n| {
            let state = match n.state {
                CoreNeighborState::Incomplete => NeighborState::Incomplete,
                CoreNeighborState::Reachable => NeighborState::Reachable,
                CoreNeighborState::Stale => NeighborState::Stale,
                CoreNeighborState::Delay => NeighborState::Delay,
                CoreNeighborState::Probe => NeighborState::Probe,
                CoreNeighborState::Failed => NeighborState::Unreachable,
                CoreNeighborState::Static => NeighborState::Static,
            };
            let updated_at = i64::try_from(n.updated_at.as_nanos()).unwrap_or(i64::MAX);
            ((id, n.ip), NeighborProps { state, mac: n.mac, updated_at })
        })
        .collect()
}
