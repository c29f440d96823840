//! `fuchsia.net.root/Interfaces` (`GetAdmin`, `GetMac`), `fuchsia.net.interfaces.admin/
//! Control` and `AddressStateProvider`.
//!
//! `GetAdmin` hands out a `Control` of any interface; closing it does not remove the
//! interface (SDK semantics for the root API). An unknown id closes the new channel with
//! `ZX_ERR_NOT_FOUND`.
//!
//! `AddAddress` adds the address with the lifetimes of `parameters.initial_properties`
//! (absolute `zx.Time` ends on the stack's monotonic clock; absent or `ZX_TIME_INFINITE`:
//! forever; `Deprecated`: preferred lifetime zero) and ties it to the `AddressStateProvider`
//! channel: when the client closes that channel the address is removed, unless it called
//! `Detach` first. The provider hears `OnAddressAdded` once the address is on the interface,
//! and `OnAddressRemoved(reason)` when it goes for any other reason (`RemoveAddress`, the
//! stack dropping it, the interface going), after which the server closes it. An address
//! that cannot be added gets `OnAddressRemoved` at once (`ALREADY_ASSIGNED`, or `INVALID`).
//! `WatchAddressAssignmentState` is a hanging get: the first call answers at once, later
//! ones when the state changes.
//!
//! `Enable`/`Disable` answer whether anything changed. `Set`/`GetConfiguration` cover IPv4
//! and IPv6 unicast forwarding. `Remove` removes interfaces made at run time
//! (`netstack.admin/Interfaces.CreateInterface`) with their Linux device; any other interface
//! answers `NOT_ALLOWED`. Every `Control` of an interface that goes hears
//! `OnInterfaceRemoved` and closes.

use std::time::Duration;

use netstack_core::addr::{AddrSubnet, IpAddr};
use netstack_core::context::InstantContext;
use netstack_core::device::DeviceId;
use netstack_core::ip::slaac::{Lifetime, Lifetimes};
use netstack_core::stack::DeviceError;
use netstack_fidl::channel::{Channel, MessageBuf};
use netstack_fidl::fuchsia_net::{MacAddress, Subnet};
use netstack_fidl::fuchsia_net_interfaces::PreferredLifetimeInfo;
use netstack_fidl::fuchsia_net_interfaces_admin::{
    address_state_provider, control, AddressParameters, AddressProperties, AddressRemovalReason,
    AddressStateProviderRequest, Configuration, ControlRemoveError, ControlRequest, InterfaceRemovedReason,
    Ipv4Configuration, Ipv6Configuration,
};
use netstack_fidl::fuchsia_net_root::{interfaces, InterfacesGetMacError, InterfacesRequest};
use netstack_fidl::message::encode_event;
use netstack_fidl::wire::DecodeError;
use netstack_fidl::zx;

use super::interfaces::{assignment, from_ip_address};
use super::model::Assignment;
use super::netstack_admin::device;
use super::{AddressProvider, AddressWatch, AdminServer, Payload, Request, Role};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::slab::Key;

/// Serves one request of a `fuchsia.net.root/Interfaces` connection.
pub(super) fn root_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(InterfacesRequest::decode)? {
        InterfacesRequest::GetAdmin { id, control } => {
            let Some(device) = device(id).filter(|&d| stack.device_info(d).is_some()) else {
                close_with(control, zx::ERR_NOT_FOUND);
                server.counters.epitaphs += 1;
                return Ok(());
            };
            // Address providers report from the observed state.
            server.catch_up(stack, ctx);
            if let Some(key) = server.add_child(control, Role::Control { parent: request.key, device }) {
                server.controls.push(key);
            }
        }
        InterfacesRequest::GetMac { id } => {
            let result = match device(id).and_then(|d| stack.device_info(d)) {
                Some(info) => Ok(info.mac.map(|m| Box::new(MacAddress { octets: m.bytes() }))),
                None => Err(InterfacesGetMacError::NotFound),
            };
            server.reply::<interfaces::GetMac>(request, result);
        }
    }
    Ok(())
}

/// Serves one request of a `Control` of `device`.
pub(super) fn control_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    device: DeviceId,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(ControlRequest::decode)? {
        ControlRequest::AddAddress { address, parameters, address_state_provider } => {
            add_address(server, stack, ctx, request, device, address, parameters, address_state_provider);
        }
        ControlRequest::RemoveAddress { address } => {
            let addr = from_ip_address(&address.addr);
            let removed = remove_address(stack, ctx, device, addr);
            server.dirty.interfaces.insert(device);
            server.reply::<control::RemoveAddress>(request, Ok(removed));
        }
        ControlRequest::GetId {} => server.reply::<control::GetId>(request, u64::from(device.get())),
        ControlRequest::SetConfiguration { config } => {
            let previous = configuration(stack, device);
            if let Some(on) = config.ipv4.as_ref().and_then(|c| c.unicast_forwarding) {
                let _ = stack.set_ipv4_forwarding(device, on);
            }
            if let Some(on) = config.ipv6.as_ref().and_then(|c| c.unicast_forwarding) {
                let _ = stack.set_ipv6_forwarding(device, on);
            }
            server.reply::<control::SetConfiguration>(request, Ok(previous));
        }
        ControlRequest::GetConfiguration {} => {
            let config = configuration(stack, device);
            server.reply::<control::GetConfiguration>(request, Ok(config));
        }
        ControlRequest::Enable {} => {
            let changed = stack.set_device_enabled(ctx, device, true).unwrap_or(false);
            server.dirty.interfaces.insert(device);
            server.reply::<control::Enable>(request, Ok(changed));
        }
        ControlRequest::Disable {} => {
            let changed = stack.set_device_enabled(ctx, device, false).unwrap_or(false);
            server.dirty.interfaces.insert(device);
            server.reply::<control::Disable>(request, Ok(changed));
        }
        // The root API's Control never owned the interface: nothing to detach.
        ControlRequest::Detach {} => {}
        ControlRequest::Remove {} => {
            if server.created.contains(&device) {
                drop(ctx.detach_session(device));
                let _ = stack.remove_device(ctx, device);
                server.dirty.interfaces.insert(device);
                server.reply::<control::Remove>(request, Ok(()));
            } else {
                server.reply::<control::Remove>(request, Err(ControlRemoveError::NotAllowed));
            }
        }
    }
    Ok(())
}

/// `device`'s forwarding configuration.
fn configuration(stack: &NetStack, device: DeviceId) -> Configuration {
    let info = stack.device_info(device);
    Configuration {
        ipv4: Some(Ipv4Configuration {
            unicast_forwarding: info.map(|i| i.ipv4_forwarding),
            ..Ipv4Configuration::default()
        }),
        ipv6: Some(Ipv6Configuration {
            unicast_forwarding: info.map(|i| i.ipv6_forwarding),
            ..Ipv6Configuration::default()
        }),
    }
}

/// A lifetime ending at `end` (`zx.Time` on the stack's clock), counted from `now`.
fn lifetime_until(end: i64, now: u64) -> Lifetime {
    if end == zx::TIME_INFINITE {
        return Lifetime::Infinite;
    }
    let end = u64::try_from(end).unwrap_or(0);
    Lifetime::Finite(Duration::from_nanos(end.saturating_sub(now)))
}

/// The lifetimes `properties` ask for.
fn lifetimes(properties: Option<&AddressProperties>, now: u64) -> Lifetimes {
    let valid =
        properties.and_then(|p| p.valid_lifetime_end).map_or(Lifetime::Infinite, |e| lifetime_until(e, now));
    let preferred = match properties.and_then(|p| p.preferred_lifetime_info) {
        None => Lifetime::Infinite,
        Some(PreferredLifetimeInfo::PreferredUntil(end)) => lifetime_until(end, now),
        Some(PreferredLifetimeInfo::Deprecated(_)) => Lifetime::Finite(Duration::ZERO),
    };
    Lifetimes { valid, preferred }
}

#[allow(clippy::too_many_arguments)]
fn add_address(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    device: DeviceId,
    address: Subnet,
    parameters: AddressParameters,
    channel: Channel,
) {
    let addr = from_ip_address(&address.addr);
    let now = ctx.now().as_nanos();
    let lifetimes = lifetimes(parameters.initial_properties.as_ref(), now);
    let exists = stack.addresses(device).any(|a| super::snapshot::split(a.addr).0 == addr);
    let added = if exists {
        Err(AddressRemovalReason::AlreadyAssigned)
    } else {
        let result = match addr {
            IpAddr::V4(a) => AddrSubnet::new(a, address.prefix_len)
                .map_err(|_| DeviceError::InvalidLifetimes)
                .and_then(|s| stack.add_ipv4_address_with_lifetimes(ctx, device, s, lifetimes)),
            IpAddr::V6(a) => AddrSubnet::new(a, address.prefix_len)
                .map_err(|_| DeviceError::InvalidLifetimes)
                .and_then(|s| stack.add_ipv6_address_with_lifetimes(ctx, device, s, lifetimes)),
        };
        result.map_err(|error| {
            tracing::debug!(%error, "AddAddress refused");
            AddressRemovalReason::Invalid
        })
    };
    if let Err(reason) = added {
        let mut message = MessageBuf::new();
        if encode_event::<address_state_provider::OnAddressRemoved>(reason, &mut message).is_ok() {
            let _ = channel.write(&message);
            server.counters.events_sent += 1;
        }
        return;
    }
    server.dirty.interfaces.insert(device);
    server.catch_up(stack, ctx);
    let provider = AddressProvider { device, addr, detached: false, watch: AddressWatch::default() };
    let Some(key) = server.add_child(channel, Role::AddressState { parent: request.key, provider }) else {
        // Nobody can hold the address: it goes again.
        remove_address(stack, ctx, device, addr);
        return;
    };
    server.providers.push(key);
    server.counters.address_providers += 1;
    server.send_event::<address_state_provider::OnAddressAdded>(key, ());
}

/// Serves one request of an `AddressStateProvider`.
pub(super) fn provider_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    let request_body = payload.decode(AddressStateProviderRequest::decode)?;
    let Some(Role::AddressState { provider, .. }) = server.channel_mut(request.key).map(|c| &mut c.role)
    else {
        return Ok(());
    };
    let (device, addr) = (provider.device, provider.addr);
    match request_body {
        AddressStateProviderRequest::UpdateAddressProperties { address_properties } => {
            let now = ctx.now().as_nanos();
            let lifetimes = lifetimes(Some(&address_properties), now);
            if let Err(error) = stack.set_address_lifetimes(ctx, device, addr, lifetimes) {
                tracing::debug!(%error, "UpdateAddressProperties refused");
            }
            server.dirty.interfaces.insert(device);
            server.reply::<address_state_provider::UpdateAddressProperties>(request, ());
        }
        AddressStateProviderRequest::WatchAddressAssignmentState {} => {
            if provider.watch.parked.is_some() {
                server.counters.watch_conflicts += 1;
                server.epitaph(request.key, zx::ERR_BAD_STATE);
                return Ok(());
            }
            provider.watch.parked = Some(request.txid);
            answer_watch(server, request.key);
        }
        AddressStateProviderRequest::Detach {} => provider.detached = true,
        AddressStateProviderRequest::Remove {} => {
            remove_address(stack, ctx, device, addr);
            server.dirty.interfaces.insert(device);
            server.send_event::<address_state_provider::OnAddressRemoved>(
                request.key,
                AddressRemovalReason::UserRemoved,
            );
            server.forget_channel(request.key);
        }
    }
    Ok(())
}

/// The assignment state the watchers last saw for `key`'s address; `None` once it is gone.
fn observed_state(server: &AdminServer, key: Key) -> Option<Option<Assignment>> {
    let Some(Role::AddressState { provider, .. }) = server.channel(key).map(|c| &c.role) else { return None };
    let props = server.observed.interfaces.get(&u64::from(provider.device.get()));
    Some(props.and_then(|p| p.addresses.iter().find(|a| a.addr == provider.addr)).map(|a| a.assignment))
}

/// Answers a parked `WatchAddressAssignmentState` if the state differs from the last answer.
fn answer_watch(server: &mut AdminServer, key: Key) {
    let Some(Some(state)) = observed_state(server, key) else { return };
    let Some(Role::AddressState { provider, .. }) = server.channel_mut(key).map(|c| &mut c.role) else {
        return;
    };
    if provider.watch.reported == Some(state) {
        return;
    }
    let Some(txid) = provider.watch.parked.take() else { return };
    provider.watch.reported = Some(state);
    server.reply::<address_state_provider::WatchAddressAssignmentState>(
        Request { key, txid },
        assignment(state),
    );
}

/// The watchers' state of `key`'s interface changed: its provider hears what it means.
pub(super) fn provider_changed(server: &mut AdminServer, _stack: &NetStack, key: Key) {
    match observed_state(server, key) {
        None => {}
        Some(Some(_)) => answer_watch(server, key),
        Some(None) => {
            let Some(Role::AddressState { provider, .. }) = server.channel(key).map(|c| &c.role) else {
                return;
            };
            let interface_gone = !server.observed.interfaces.contains_key(&u64::from(provider.device.get()));
            let reason = if interface_gone {
                AddressRemovalReason::InterfaceRemoved
            } else {
                AddressRemovalReason::UserRemoved
            };
            server.send_event::<address_state_provider::OnAddressRemoved>(key, reason);
            server.forget_channel(key);
        }
    }
}

/// A `Control`'s interface went: it hears why and closes.
pub(super) fn control_removed(server: &mut AdminServer, key: Key) {
    server.send_event::<control::OnInterfaceRemoved>(key, InterfaceRemovedReason::User);
    server.forget_channel(key);
}

/// Removes `addr` from `device`, whichever version it is; whether it was there.
pub(super) fn remove_address(
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    device: DeviceId,
    addr: IpAddr,
) -> bool {
    match addr {
        IpAddr::V4(a) => stack.remove_ipv4_address(ctx, device, a).is_ok(),
        IpAddr::V6(a) => stack.remove_ipv6_address(ctx, device, a).is_ok(),
    }
}

/// Writes an epitaph on a channel the server will not serve.
fn close_with(channel: Channel, status: i32) {
    let mut message = MessageBuf::new();
    netstack_fidl::message::encode_epitaph(status, &mut message);
    let _ = channel.write(&message);
}
