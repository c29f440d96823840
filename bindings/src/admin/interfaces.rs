//! `fuchsia.net.interfaces/State` and `Watcher`: the interfaces, their addresses and state,
//! as a stream of events (SDK semantics: `Existing` for each interface, `Idle`, then `Added`,
//! `Changed` with the id and only the fields that changed, and `Removed`).
//!
//! `WatcherOptions` are honoured as far as they change what is sent: addresses that are not
//! assigned (tentative, unavailable) are left out unless `include_non_assigned_addresses`,
//! and `valid_until` / `preferred_lifetime_info` only when `address_properties_interest`
//! asks for them. `port_class` is `Loopback`, `Device(Ethernet)` for a TAP, or
//! `Device(Virtual)` for a TUN; the legacy `device_class` says the same.

use netstack_core::addr::IpAddr;
use netstack_fidl::channel::{Channel, MessageBuf};
use netstack_fidl::fuchsia_hardware_network as hw;
use netstack_fidl::fuchsia_net::{IpAddress, Ipv4Address, Ipv6Address, Subnet};
use netstack_fidl::fuchsia_net_interfaces::{
    watcher, Address, AddressAssignmentState, AddressPropertiesInterest, DeviceClass, Empty, Event,
    PortClass, PreferredLifetimeInfo, Properties, StateRequest, WatcherOptions, WatcherRequest,
};
use netstack_fidl::wire::DecodeError;

use super::hanging::Hanging;
use super::model::{AddressProps, Assignment, InterfaceEvent, InterfaceProps, PortKind};
use super::{encode_parked_reply, AdminServer, Payload, Request, Role, MAX_QUEUED_EVENTS};
use crate::eventloop::{BindingsCtx, NetStack};

/// What a watcher's client asked to see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Interest {
    valid_until: bool,
    preferred_lifetime_info: bool,
    non_assigned: bool,
}

impl Interest {
    fn from_options(options: &WatcherOptions) -> Self {
        let bits = options.address_properties_interest.unwrap_or_default();
        Self {
            valid_until: bits.contains(AddressPropertiesInterest::VALID_UNTIL),
            preferred_lifetime_info: bits.contains(AddressPropertiesInterest::PREFERRED_LIFETIME_INFO),
            non_assigned: options.include_non_assigned_addresses.unwrap_or(false),
        }
    }
}

/// Serves one request of a `fuchsia.net.interfaces/State` connection.
pub(super) fn state_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(StateRequest::decode)? {
        StateRequest::GetWatcher { options, watcher } => {
            add_watcher(server, stack, ctx, request, options, watcher)
        }
    }
    Ok(())
}

fn add_watcher(
    server: &mut AdminServer,
    stack: &NetStack,
    ctx: &BindingsCtx,
    request: Request,
    options: WatcherOptions,
    channel: Channel,
) {
    server.catch_up(stack, ctx);
    let initial = server
        .observed
        .interfaces
        .values()
        .cloned()
        .map(InterfaceEvent::Existing)
        .chain(std::iter::once(InterfaceEvent::Idle));
    let queue = Hanging::new(initial, MAX_QUEUED_EVENTS);
    let interest = Interest::from_options(&options);
    let role = Role::InterfaceWatcher { parent: request.key, queue, interest };
    if let Some(key) = server.add_child(channel, role) {
        server.interface_watchers.push(key);
    }
}

/// Serves one request of a `fuchsia.net.interfaces/Watcher`.
pub(super) fn watcher_request(
    server: &mut AdminServer,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(WatcherRequest::decode)? {
        WatcherRequest::Watch {} => server.watch(request.key, request.txid),
    }
    Ok(())
}

/// Encodes the answer to a parked `Watch` if an event waits; `true` if it did.
pub(super) fn encode_watch_reply(
    queue: &mut Hanging<InterfaceEvent>,
    interest: Interest,
    out: &mut MessageBuf,
) -> bool {
    loop {
        let Some((txid, mut events)) = queue.take(1) else { return false };
        let Some(event) = events.next() else { return false };
        drop(events);
        let Some(event) = to_fidl(&event, interest) else {
            // Nothing this client wants to see changed: the request stays parked.
            let _ = queue.park(txid);
            continue;
        };
        return encode_parked_reply::<watcher::Watch>(txid, event, out);
    }
}

/// The FIDL event for `event`, with what `interest` asks for; `None` for a change that
/// leaves nothing the client sees.
fn to_fidl(event: &InterfaceEvent, interest: Interest) -> Option<Event> {
    Some(match event {
        InterfaceEvent::Existing(props) => Event::Existing(properties(props, interest)),
        InterfaceEvent::Idle => Event::Idle(Empty {}),
        InterfaceEvent::Added(props) => Event::Added(properties(props, interest)),
        InterfaceEvent::Removed(id) => Event::Removed(*id),
        InterfaceEvent::Changed(change) => {
            let addresses = change.addresses.as_ref().map(|a| addresses(a, interest));
            let changed = Properties {
                id: Some(change.id),
                name: change.name.clone(),
                online: change.online,
                addresses,
                has_default_ipv4_route: change.has_default_ipv4_route,
                has_default_ipv6_route: change.has_default_ipv6_route,
                ..Properties::default()
            };
            if changed.name.is_none()
                && changed.online.is_none()
                && changed.has_default_ipv4_route.is_none()
                && changed.has_default_ipv6_route.is_none()
                && changed.addresses.is_none()
            {
                return None;
            }
            Event::Changed(changed)
        }
    })
}

fn properties(props: &InterfaceProps, interest: Interest) -> Properties {
    let (port_class, device_class) = match props.port {
        PortKind::Loopback => (PortClass::Loopback(Empty {}), DeviceClass::Loopback(Empty {})),
        PortKind::Ethernet => {
            (PortClass::Device(hw::PortClass::Ethernet), DeviceClass::Device(hw::DeviceClass::Ethernet))
        }
        PortKind::Virtual => {
            (PortClass::Device(hw::PortClass::Virtual), DeviceClass::Device(hw::DeviceClass::Virtual))
        }
    };
    Properties {
        id: Some(props.id),
        name: Some(props.name.clone()),
        addresses: Some(addresses(&props.addresses, interest)),
        online: Some(props.online),
        device_class: Some(device_class),
        port_class: Some(port_class),
        has_default_ipv4_route: Some(props.has_default_ipv4_route),
        has_default_ipv6_route: Some(props.has_default_ipv6_route),
    }
}

fn addresses(addresses: &[AddressProps], interest: Interest) -> Vec<Address> {
    addresses
        .iter()
        .filter(|a| interest.non_assigned || a.assignment == Assignment::Assigned)
        .map(|a| Address {
            addr: Some(subnet(a.addr, a.prefix_len)),
            valid_until: interest.valid_until.then_some(a.valid_until),
            preferred_lifetime_info: interest.preferred_lifetime_info.then_some(match a.preferred_until {
                Some(until) => PreferredLifetimeInfo::PreferredUntil(until),
                None => PreferredLifetimeInfo::Deprecated(Empty {}),
            }),
            assignment_state: Some(assignment(a.assignment)),
        })
        .collect()
}

/// The FIDL assignment state.
pub(super) fn assignment(assignment: Assignment) -> AddressAssignmentState {
    match assignment {
        Assignment::Tentative => AddressAssignmentState::Tentative,
        Assignment::Assigned => AddressAssignmentState::Assigned,
        Assignment::Unavailable => AddressAssignmentState::Unavailable,
    }
}

/// The FIDL address.
pub(super) fn ip_address(addr: IpAddr) -> IpAddress {
    match addr {
        IpAddr::V4(a) => IpAddress::Ipv4(Ipv4Address { addr: a.bytes() }),
        IpAddr::V6(a) => IpAddress::Ipv6(Ipv6Address { addr: a.bytes() }),
    }
}

/// The FIDL subnet.
pub(super) fn subnet(addr: IpAddr, prefix_len: u8) -> Subnet {
    Subnet { addr: ip_address(addr), prefix_len }
}

/// The stack's address for a FIDL one.
pub(super) fn from_ip_address(addr: &IpAddress) -> IpAddr {
    match addr {
        IpAddress::Ipv4(a) => IpAddr::V4(netstack_core::addr::Ipv4Addr::new(a.addr)),
        IpAddress::Ipv6(a) => IpAddr::V6(netstack_core::addr::Ipv6Addr::new(a.addr)),
    }
}
