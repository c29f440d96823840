//! The IP layer: IPv4 and IPv6 state machines above the device layer, written once over the
//! `Ip` trait where the RFCs share meaning.
//!
//! * [`icmp_error`]: when an ICMP error may answer a packet, and what it quotes.
//! * [`receive`]: whether a received packet is delivered, forwarded or dropped.
//! * [`router_discovery`]: host-side router discovery, on-link prefixes, RDNSS and redirects
//!   (RFC 4861 §6.3, §8.3; RFC 8106).

pub mod icmp_error;
pub mod receive;
pub mod router_discovery;
