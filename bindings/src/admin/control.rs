//! `fuchsia.net.root/Interfaces`, `fuchsia.net.interfaces.admin/Control` and
//! `AddressStateProvider`.

use std::os::fd::OwnedFd;

use netstack_core::addr::IpAddr;
use netstack_core::device::DeviceId;
use netstack_fidl::message::TransactionHeader;
use netstack_fidl::wire::DecodeError;

use super::{AdminServer, Request};
use crate::eventloop::{BindingsCtx, NetStack};
use crate::slab::Key;

pub(super) fn root_request(
    _server: &mut AdminServer,
    _stack: &mut NetStack,
    _ctx: &mut BindingsCtx,
    _request: Request,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn control_request(
    _server: &mut AdminServer,
    _stack: &mut NetStack,
    _ctx: &mut BindingsCtx,
    _request: Request,
    _device: DeviceId,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

pub(super) fn provider_request(
    _server: &mut AdminServer,
    _stack: &mut NetStack,
    _ctx: &mut BindingsCtx,
    _request: Request,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

/// Removes `addr` from `device`, whichever version it is; gone already is fine.
pub(super) fn remove_address(stack: &mut NetStack, ctx: &mut BindingsCtx, device: DeviceId, addr: IpAddr) {
    let _ = match addr {
        IpAddr::V4(a) => stack.remove_ipv4_address(ctx, device, a),
        IpAddr::V6(a) => stack.remove_ipv6_address(ctx, device, a),
    };
}

pub(super) fn provider_changed(_server: &mut AdminServer, _stack: &NetStack, _key: Key) {}

pub(super) fn control_removed(server: &mut AdminServer, key: Key) {
    server.forget_channel(key);
}
