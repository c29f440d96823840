//! FIDL for the netstack: the wire format, channels over `AF_UNIX` `SOCK_SEQPACKET` sockets,
//! and the protocols the netstack serves (see `fidl/README.md`).
//!
//! - [`ordinal`], [`channel`], [`wire`], [`message`], [`client`]: the runtime.
//! - [`datagram_header`]: the header in front of every packet of the datagram data plane.
//! - [`zx`]: `zx.Status` values and the Zircon time types.
//! - Bindings for the `.fidl` files under `fidl/sdk/`, one zero-sized [`Method`] type per
//!   method, one [`Event`] type per event, one request enum per protocol and one event enum
//!   per protocol with events: the socket API ([`fuchsia_posix`], [`fuchsia_net`],
//!   [`fuchsia_unknown`], [`fuchsia_posix_socket`], [`fuchsia_posix_socket_raw`]), diagnostics
//!   ([`fuchsia_inspect`], [`fuchsia_mem`]), interfaces ([`fuchsia_net_interfaces`],
//!   [`fuchsia_hardware_network`]) and administration ([`fuchsia_net_interfaces_admin`],
//!   [`fuchsia_net_root`], [`netstack_admin`]), routes ([`fuchsia_net_routes`],
//!   [`fuchsia_net_routes_admin`]) and neighbors ([`fuchsia_net_neighbor`]).

#[macro_use]
mod protocol;

pub mod channel;
pub mod client;
pub mod datagram_header;
pub mod message;
pub mod ordinal;
pub mod wire;

pub mod zx;

pub mod fuchsia_hardware_network;
pub mod fuchsia_inspect;
pub mod fuchsia_mem;
pub mod fuchsia_net;
pub mod fuchsia_net_interfaces;
pub mod fuchsia_net_interfaces_admin;
pub mod fuchsia_net_neighbor;
pub mod fuchsia_net_root;
pub mod fuchsia_net_routes;
pub mod fuchsia_net_routes_admin;
pub mod fuchsia_posix;
pub mod fuchsia_posix_socket;
pub mod fuchsia_posix_socket_raw;
pub mod fuchsia_unknown;
pub mod netstack_admin;

#[cfg(feature = "tokio")]
pub mod tokio_client;

#[cfg(test)]
mod sdk_tests;

use wire::{Decode, Encode};

/// A FIDL method: its ordinal and payload types. One zero-sized type per method.
///
/// Payloads: a method without request payload has `Request = ()` (an empty body); a payload
/// struct with one member is that member's type (the wire layout is the same); with several
/// members, a tuple of them in declaration order. For a method with an `error` type,
/// `Response = Result<Payload, Error>`.
pub trait Method {
    /// The ordinal, derived from [`Method::SELECTOR`].
    const ORDINAL: u64;
    /// `library/Protocol.Method`, for the protocol that declares it (composed methods keep it).
    const NAME: &'static str;
    /// What the ordinal is hashed from: [`Method::NAME`], unless `@selector` overrides it.
    const SELECTOR: &'static str;
    /// True for a method without a response.
    const ONE_WAY: bool;
    /// True for a `flexible` method.
    const FLEXIBLE: bool;
    /// The request payload.
    type Request: Encode + Decode;
    /// The response payload (`()` for a one-way method).
    type Response: Encode + Decode;
}

/// A FIDL event: a message the server sends on its own, with transaction id 0. One zero-sized
/// type per event, beside the protocol's [`Method`] types.
///
/// The payload follows the rule of [`Method::Request`]: `()` for none, the member's type for
/// one member, a tuple for several.
pub trait Event {
    /// The ordinal, derived from [`Event::SELECTOR`].
    const ORDINAL: u64;
    /// `library/Protocol.Event`.
    const NAME: &'static str;
    /// What the ordinal is hashed from: [`Event::NAME`].
    const SELECTOR: &'static str;
    /// True for a `flexible` event.
    const FLEXIBLE: bool;
    /// The payload.
    type Payload: Encode + Decode;
}

/// The events of one protocol, as one enum (e.g. `ControlEvent`): what a client decodes a
/// server-sent message into ([`client::SyncClient::next_event`]).
pub trait EventEnum: Sized {
    /// Decodes an event message: transaction id 0 and the ordinal of one of the protocol's
    /// events ([`wire::DecodeError::UnknownOrdinal`] otherwise).
    fn decode_event(
        header: &message::TransactionHeader,
        body: &[u8],
        handles: &mut Vec<std::os::fd::OwnedFd>,
    ) -> Result<Self, wire::DecodeError>;
}
