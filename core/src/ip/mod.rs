//! The IP layer: IPv4 and IPv6 state machines above the device layer.
//!
//! * [`router_discovery`]: host-side router discovery, on-link prefixes, RDNSS and redirects
//!   (RFC 4861 §6.3, §8.3; RFC 8106).

pub mod router_discovery;
