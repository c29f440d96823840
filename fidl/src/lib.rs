//! FIDL for the netstack: the wire format, channels over `AF_UNIX` `SOCK_SEQPACKET` sockets,
//! and the protocols the netstack serves (see `fidl/README.md`).
//!
//! - [`ordinal`], [`channel`], [`wire`], [`message`], [`client`]: the runtime.
//! - [`datagram_header`]: the header in front of every packet of the datagram data plane.
//! - [`fuchsia_posix`], [`fuchsia_net`], [`fuchsia_unknown`], [`fuchsia_posix_socket`],
//!   [`fuchsia_posix_socket_raw`]: bindings for the `.fidl` files under `fidl/sdk/`, one
//!   zero-sized [`Method`] type per method and one request enum per protocol.

pub mod channel;
pub mod client;
pub mod datagram_header;
pub mod message;
pub mod ordinal;
pub mod wire;

#[macro_use]
mod protocol;

pub mod fuchsia_net;
pub mod fuchsia_posix;
pub mod fuchsia_posix_socket;
pub mod fuchsia_posix_socket_raw;
pub mod fuchsia_unknown;

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
