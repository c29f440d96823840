//! What the admin server's watchers report, in the bindings' own terms, and how a change is
//! found: the server keeps the last state it reported (one [`InterfaceProps`] per interface,
//! the set of routes of each IP version, the neighbour entries) and, when the stack says
//! something changed, compares the new state of just what changed with it. The protocol
//! modules turn the differences into FIDL events.

use std::collections::BTreeMap;

use netstack_core::addr::{IpAddr, Mac};

/// How an interface reaches its link, as `fuchsia.net.interfaces/PortClass` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortKind {
    /// The loopback device.
    Loopback,
    /// An Ethernet device (a TAP, the memory pair).
    Ethernet,
    /// A pure-IP device (a TUN).
    Virtual,
}

/// Where an address stands (`fuchsia.net.interfaces/AddressAssignmentState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Assignment {
    /// Duplicate address detection runs.
    Tentative,
    /// Usable.
    Assigned,
    /// Its interface is offline, or DAD found a duplicate.
    Unavailable,
}

/// One address of an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AddressProps {
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// When it goes (nanoseconds on the stack's monotonic clock), `i64::MAX`: never.
    pub valid_until: i64,
    /// When it stops being preferred, `i64::MAX`: never; `None` deprecated already.
    pub preferred_until: Option<i64>,
    /// Where it stands.
    pub assignment: Assignment,
}

/// Everything a watcher says about one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InterfaceProps {
    /// The interface id (the stack's device number).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its port class.
    pub port: PortKind,
    /// Enabled (administratively up).
    pub online: bool,
    /// Its addresses, in the order the stack lists them.
    pub addresses: Vec<AddressProps>,
    /// An IPv4 default route goes through it.
    pub has_default_ipv4_route: bool,
    /// An IPv6 default route goes through it.
    pub has_default_ipv6_route: bool,
}

/// The fields of an interface that changed, beside its id (`Event.changed`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InterfaceChange {
    /// The interface.
    pub id: u64,
    /// Its new name.
    pub name: Option<String>,
    /// Its new online state.
    pub online: Option<bool>,
    /// All its addresses now.
    pub addresses: Option<Vec<AddressProps>>,
    /// The new IPv4 default-route flag.
    pub has_default_ipv4_route: Option<bool>,
    /// The new IPv6 default-route flag.
    pub has_default_ipv6_route: Option<bool>,
}

impl InterfaceChange {
    /// Whether nothing but the id is set.
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.online.is_none()
            && self.addresses.is_none()
            && self.has_default_ipv4_route.is_none()
            && self.has_default_ipv6_route.is_none()
    }
}

/// An event of `fuchsia.net.interfaces/Watcher`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum InterfaceEvent {
    /// An interface that existed when the watcher was made.
    Existing(InterfaceProps),
    /// The end of the existing interfaces.
    Idle,
    /// A new interface.
    Added(InterfaceProps),
    /// An interface changed.
    Changed(InterfaceChange),
    /// An interface went.
    Removed(u64),
}

/// What changed between the last reported state of one interface and its state now.
pub(crate) fn diff_interface(
    old: Option<&InterfaceProps>,
    new: Option<&InterfaceProps>,
) -> Option<InterfaceEvent> {
    match (old, new) {
        (None, None) => None,
        (None, Some(new)) => Some(InterfaceEvent::Added(new.clone())),
        (Some(old), None) => Some(InterfaceEvent::Removed(old.id)),
        (Some(old), Some(new)) => {
            let changed = |a, b| if a == b { None } else { Some(b) };
            let change = InterfaceChange {
                id: new.id,
                name: (old.name != new.name).then(|| new.name.clone()),
                online: changed(old.online, new.online),
                addresses: (old.addresses != new.addresses).then(|| new.addresses.clone()),
                has_default_ipv4_route: changed(old.has_default_ipv4_route, new.has_default_ipv4_route),
                has_default_ipv6_route: changed(old.has_default_ipv6_route, new.has_default_ipv6_route),
            };
            (!change.is_empty()).then_some(InterfaceEvent::Changed(change))
        }
    }
}

/// A route as the routes watchers report it: ordered, so a table's routes form a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RouteEntry {
    /// The destination's network address.
    pub dest: IpAddr,
    /// The destination's prefix length.
    pub prefix_len: u8,
    /// The interface id.
    pub interface: u64,
    /// The next hop; `None` on-link.
    pub gateway: Option<IpAddr>,
    /// The metric.
    pub metric: u32,
}

/// An event of a routes watcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RouteEvent {
    /// A route that existed when the watcher was made.
    Existing(RouteEntry),
    /// The end of the existing routes.
    Idle,
    /// A new route.
    Added(RouteEntry),
    /// A route went.
    Removed(RouteEntry),
}

/// The routes added and removed between two sorted tables.
pub(crate) fn diff_routes(old: &[RouteEntry], new: &[RouteEntry], mut out: impl FnMut(RouteEvent)) {
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                out(RouteEvent::Removed(*a));
                i += 1;
            }
            (Some(_), Some(b)) => {
                out(RouteEvent::Added(*b));
                j += 1;
            }
            (Some(a), None) => {
                out(RouteEvent::Removed(*a));
                i += 1;
            }
            (None, Some(b)) => {
                out(RouteEvent::Added(*b));
                j += 1;
            }
            (None, None) => break,
        }
    }
}

/// Where a neighbour entry stands (`fuchsia.net.neighbor/EntryState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NeighborState {
    /// Resolution runs.
    Incomplete,
    /// Confirmed recently.
    Reachable,
    /// Not confirmed for a while.
    Stale,
    /// Waiting before probing.
    Delay,
    /// Probing.
    Probe,
    /// Configured by an administrator.
    Static,
    /// Resolution failed.
    Unreachable,
}

/// One neighbour entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NeighborProps {
    /// Its state.
    pub state: NeighborState,
    /// Its link address, once known.
    pub mac: Option<Mac>,
    /// When it last changed (nanoseconds on the stack's monotonic clock).
    pub updated_at: i64,
}

/// A neighbour entry's key: the interface and the neighbour's address.
pub(crate) type NeighborKey = (u64, IpAddr);

/// An event of `fuchsia.net.neighbor/EntryIterator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NeighborEvent {
    /// An entry that existed when the iterator was made.
    Existing(NeighborKey, NeighborProps),
    /// The end of the existing entries.
    Idle,
    /// A new entry.
    Added(NeighborKey, NeighborProps),
    /// An entry changed.
    Changed(NeighborKey, NeighborProps),
    /// An entry went.
    Removed(NeighborKey, NeighborProps),
}

/// What changed in the entries of `old` and `new` for which `scope` holds (one interface
/// and IP version: what a core event names), keeping `old` up to date.
pub(crate) fn diff_neighbors(
    old: &mut BTreeMap<NeighborKey, NeighborProps>,
    new: &BTreeMap<NeighborKey, NeighborProps>,
    scope: impl Fn(&NeighborKey) -> bool,
    mut out: impl FnMut(NeighborEvent),
) {
    old.retain(|key, props| {
        if scope(key) && !new.contains_key(key) {
            out(NeighborEvent::Removed(*key, *props));
            false
        } else {
            true
        }
    });
    for (key, props) in new.iter().filter(|(k, _)| scope(k)) {
        match old.insert(*key, *props) {
            None => out(NeighborEvent::Added(*key, *props)),
            Some(before) if before != *props => out(NeighborEvent::Changed(*key, *props)),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(id: u64) -> InterfaceProps {
        InterfaceProps {
            id,
            name: format!("if{id}"),
            port: PortKind::Ethernet,
            online: false,
            addresses: Vec::new(),
            has_default_ipv4_route: false,
            has_default_ipv6_route: false,
        }
    }

    #[test]
    fn a_change_carries_only_the_fields_that_changed() {
        let a = props(1);
        assert_eq!(diff_interface(None, Some(&a)), Some(InterfaceEvent::Added(a.clone())));
        assert_eq!(diff_interface(Some(&a), None), Some(InterfaceEvent::Removed(1)));
        assert_eq!(diff_interface(Some(&a), Some(&a)), None);
        let mut b = a.clone();
        b.online = true;
        b.has_default_ipv6_route = true;
        assert_eq!(
            diff_interface(Some(&a), Some(&b)),
            Some(InterfaceEvent::Changed(InterfaceChange {
                id: 1,
                online: Some(true),
                has_default_ipv6_route: Some(true),
                ..InterfaceChange::default()
            }))
        );
    }

    fn route(last: u8, metric: u32) -> RouteEntry {
        RouteEntry {
            dest: IpAddr::V4(netstack_core::addr::Ipv4Addr::new([192, 0, 2, last])),
            prefix_len: 32,
            interface: 1,
            gateway: None,
            metric,
        }
    }

    #[test]
    fn routes_diff_as_sets() {
        let old = [route(1, 0), route(2, 0), route(3, 0)];
        let new = [route(1, 0), route(3, 0), route(3, 5), route(4, 0)];
        let mut events = Vec::new();
        diff_routes(&old, &new, |e| events.push(e));
        assert_eq!(
            events,
            [
                RouteEvent::Removed(route(2, 0)),
                RouteEvent::Added(route(3, 5)),
                RouteEvent::Added(route(4, 0))
            ]
        );
    }

    #[test]
    fn neighbors_diff_within_the_scope_only() {
        let v4 = |last| IpAddr::V4(netstack_core::addr::Ipv4Addr::new([192, 0, 2, last]));
        let entry = |state| NeighborProps { state, mac: None, updated_at: 0 };
        let mut old = BTreeMap::from([
            ((1, v4(1)), entry(NeighborState::Reachable)),
            ((1, v4(2)), entry(NeighborState::Stale)),
            ((2, v4(3)), entry(NeighborState::Stale)),
        ]);
        let new = BTreeMap::from([
            ((1, v4(1)), entry(NeighborState::Stale)),
            ((1, v4(4)), entry(NeighborState::Static)),
        ]);
        let mut events = Vec::new();
        diff_neighbors(&mut old, &new, |k| k.0 == 1, |e| events.push(e));
        assert_eq!(
            events,
            [
                NeighborEvent::Removed((1, v4(2)), entry(NeighborState::Stale)),
                NeighborEvent::Changed((1, v4(1)), entry(NeighborState::Stale)),
                NeighborEvent::Added((1, v4(4)), entry(NeighborState::Static)),
            ]
        );
        assert!(old.contains_key(&(2, v4(3))), "interface 2 was not looked at");
        assert_eq!(old.len(), 3);
    }
}
