//! The IP layer: IPv4 and IPv6 receive and transmit, routing, forwarding, fragments, PMTU,
//! ICMP, neighbour discovery and group management, as separate state machines.
//!
//! * [`dad`]: IPv6 Duplicate Address Detection (RFC 4862 §5.4, RFC 7527).
//! * [`slaac`]: IPv6 address autoconfiguration and the lifetimes of every IPv6 address (RFC
//!   4862 §5.3, §5.5; temporary addresses, RFC 8981).
//! * [`stable_iid`]: stable, opaque interface identifiers (RFC 7217).

pub mod dad;
pub mod slaac;
pub mod stable_iid;
