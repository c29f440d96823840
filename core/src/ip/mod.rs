//! The IP layer: IPv4 and IPv6 receive and transmit, routing, forwarding, fragments, PMTU,
//! ICMP, neighbour discovery and group management, as separate state machines.
//!
//! * [`dad`]: IPv6 Duplicate Address Detection (RFC 4862 §5.4, RFC 7527).
//! * [`stable_iid`]: stable, opaque interface identifiers (RFC 7217).

pub mod dad;
pub mod stable_iid;
