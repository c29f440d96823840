//! `fuchsia.net.neighbor/View`, `EntryIterator` and `Controller`.

use std::os::fd::OwnedFd;

use netstack_fidl::channel::MessageBuf;
use netstack_fidl::message::TransactionHeader;
use netstack_fidl::wire::DecodeError;

use super::hanging::Hanging;
use super::model::NeighborEvent;
use super::{AdminServer, Request};
use crate::eventloop::{BindingsCtx, NetStack};

pub(super) fn view_request(
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

pub(super) fn iterator_request(
    _server: &mut AdminServer,
    _request: Request,
    header: &TransactionHeader,
    _body: &[u8],
    _handles: &mut Vec<OwnedFd>,
) -> Result<(), DecodeError> {
    Err(DecodeError::UnknownOrdinal(header.ordinal))
}

pub(super) fn controller_request(
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

pub(super) fn encode_get_next_reply(_queue: &mut Hanging<NeighborEvent>, _out: &mut MessageBuf) -> bool {
    false
}
