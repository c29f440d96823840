//! `fuchsia.net.routes` watchers and `fuchsia.net.root/RoutesV4`/`V6` route sets.

use std::os::fd::OwnedFd;

use netstack_core::addr::IpVersion;
use netstack_fidl::channel::MessageBuf;
use netstack_fidl::message::TransactionHeader;
use netstack_fidl::wire::DecodeError;

use super::hanging::Hanging;
use super::model::RouteEvent;
use super::{AdminServer, Request};
use crate::eventloop::{BindingsCtx, NetStack};

#[allow(clippy::too_many_arguments)]
pub(super) fn state_request(
    _server: &mut AdminServer,
    _stack: &mut NetStack,
    _ctx: &mut BindingsCtx,
    _request: Request,
    _version: IpVersion,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

pub(super) fn watcher_request(
    _server: &mut AdminServer,
    _request: Request,
    _version: IpVersion,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

pub(super) fn root_request(
    _server: &mut AdminServer,
    _request: Request,
    _version: IpVersion,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn route_set_request(
    _server: &mut AdminServer,
    _stack: &mut NetStack,
    _ctx: &mut BindingsCtx,
    _request: Request,
    _version: IpVersion,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

pub(super) fn encode_watch_reply(
    _version: IpVersion,
    _queue: &mut Hanging<RouteEvent>,
    _out: &mut MessageBuf,
) -> bool {
    false
}
