//! `fuchsia.net.neighbor/View` (with its `EntryIterator`) and `Controller`: the ARP and NDP
//! neighbour tables, listed, watched and changed.
//!
//! An iterator's `GetNext` is a hanging get answering with up to `MAX_ITEM_BATCH_SIZE` items:
//! `existing` entries, `idle`, then `added`, `changed` and `removed` as the tables change.
//! `Controller.AddEntry` adds a static entry (Linux `ip neigh add ... nud permanent`),
//! `RemoveEntry` removes any entry, `ClearEntries` flushes one version's table, static
//! entries included. Errors: `ZX_ERR_NOT_FOUND` for an unknown interface or entry,
//! `ZX_ERR_NOT_SUPPORTED` on an interface without neighbours (loopback, TUN),
//! `ZX_ERR_INVALID_ARGS` for an address that cannot be a neighbour, `ZX_ERR_NO_RESOURCES`
//! when the table is full.

use netstack_core::addr::{IpVersion, Mac, UnicastAddr};
use netstack_core::stack::DeviceError;
use netstack_fidl::channel::MessageBuf;
use netstack_fidl::fuchsia_net::{IpVersion as FidlIpVersion, MacAddress};
use netstack_fidl::fuchsia_net_neighbor::{
    controller, entry_iterator, ControllerRequest, Entry, EntryIteratorItem, EntryIteratorRequest,
    EntryState, IdleEvent, ViewRequest, MAX_ITEM_BATCH_SIZE,
};
use netstack_fidl::wire::DecodeError;
use netstack_fidl::zx;

use super::hanging::Hanging;
use super::interfaces::{from_ip_address, ip_address};
use super::model::{NeighborEvent, NeighborKey, NeighborProps, NeighborState};
use super::netstack_admin::device;
use super::{encode_parked_reply, version_index, AdminServer, Payload, Request, Role, MAX_QUEUED_EVENTS};
use crate::eventloop::{BindingsCtx, NetStack};

/// Serves one request of a `View` connection.
pub(super) fn view_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(ViewRequest::decode)? {
        ViewRequest::OpenEntryIterator { it, options: _ } => {
            server.catch_up(stack, ctx);
            let initial = server
                .observed
                .neighbors
                .iter()
                .map(|(k, p)| NeighborEvent::Existing(*k, *p))
                .chain(std::iter::once(NeighborEvent::Idle));
            let queue = Hanging::new(initial, MAX_QUEUED_EVENTS);
            if let Some(key) = server.add_child(it, Role::EntryIterator { parent: request.key, queue }) {
                server.neighbor_iterators.push(key);
            }
        }
    }
    Ok(())
}

/// Serves one request of an `EntryIterator`.
pub(super) fn iterator_request(
    server: &mut AdminServer,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(EntryIteratorRequest::decode)? {
        EntryIteratorRequest::GetNext {} => server.watch(request.key, request.txid),
    }
    Ok(())
}

/// Encodes the answer to a parked `GetNext` if items wait; `true` if it did.
pub(super) fn encode_get_next_reply(queue: &mut Hanging<NeighborEvent>, out: &mut MessageBuf) -> bool {
    let Some((txid, events)) = queue.take(MAX_ITEM_BATCH_SIZE) else { return false };
    let items: Vec<EntryIteratorItem> = events.map(item).collect();
    encode_parked_reply::<entry_iterator::GetNext>(txid, items, out)
}

fn item(event: NeighborEvent) -> EntryIteratorItem {
    match event {
        NeighborEvent::Existing(k, p) => EntryIteratorItem::Existing(entry(k, p)),
        NeighborEvent::Idle => EntryIteratorItem::Idle(IdleEvent {}),
        NeighborEvent::Added(k, p) => EntryIteratorItem::Added(entry(k, p)),
        NeighborEvent::Changed(k, p) => EntryIteratorItem::Changed(entry(k, p)),
        NeighborEvent::Removed(k, p) => EntryIteratorItem::Removed(entry(k, p)),
    }
}

fn entry((interface, ip): NeighborKey, props: NeighborProps) -> Entry {
    Entry {
        interface: Some(interface),
        neighbor: Some(ip_address(ip)),
        state: Some(match props.state {
            NeighborState::Incomplete => EntryState::Incomplete,
            NeighborState::Reachable => EntryState::Reachable,
            NeighborState::Stale => EntryState::Stale,
            NeighborState::Delay => EntryState::Delay,
            NeighborState::Probe => EntryState::Probe,
            NeighborState::Static => EntryState::Static,
            NeighborState::Unreachable => EntryState::Unreachable,
        }),
        mac: props.mac.map(|m| MacAddress { octets: m.bytes() }),
        updated_at: Some(props.updated_at),
    }
}

fn status(error: DeviceError) -> zx::Status {
    match error {
        DeviceError::NoDevice(_) | DeviceError::NeighborNotFound => zx::ERR_NOT_FOUND,
        DeviceError::NotSupported(_) => zx::ERR_NOT_SUPPORTED,
        DeviceError::NeighborTableFull => zx::ERR_NO_RESOURCES,
        DeviceError::InvalidNeighbor => zx::ERR_INVALID_ARGS,
        _ => zx::ERR_INTERNAL,
    }
}

/// Serves one request of a `Controller` connection.
pub(super) fn controller_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(ControllerRequest::decode)? {
        ControllerRequest::AddEntry { interface, neighbor, mac } => {
            let result = match (device(interface), UnicastAddr::new(Mac::new(mac.octets))) {
                (None, _) => Err(zx::ERR_NOT_FOUND),
                (_, None) => Err(zx::ERR_INVALID_ARGS),
                (Some(d), Some(mac)) => {
                    stack.add_static_neighbor(ctx, d, from_ip_address(&neighbor), mac).map_err(status)
                }
            };
            server.reply::<controller::AddEntry>(request, result);
        }
        ControllerRequest::RemoveEntry { interface, neighbor } => {
            let result = match device(interface) {
                None => Err(zx::ERR_NOT_FOUND),
                Some(d) => stack.remove_neighbor(ctx, d, from_ip_address(&neighbor)).map_err(status),
            };
            server.reply::<controller::RemoveEntry>(request, result);
        }
        ControllerRequest::ClearEntries { interface, ip_version } => {
            let version = match ip_version {
                FidlIpVersion::V4 => IpVersion::V4,
                FidlIpVersion::V6 => IpVersion::V6,
            };
            let result = match device(interface) {
                None => Err(zx::ERR_NOT_FOUND),
                Some(d) => {
                    let result = stack.flush_neighbors(ctx, d, Some(version)).map_err(status);
                    server.dirty.neighbors.insert((d, version_index(version)));
                    result
                }
            };
            server.reply::<controller::ClearEntries>(request, result);
        }
    }
    Ok(())
}
