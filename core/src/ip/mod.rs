//! The IP layer: routing, source address selection, path MTU discovery and ICMP error rate
//! limiting, each a state machine or pure function the stack drives.
//!
//! * [`routing`]: the routing table and longest-prefix-match next-hop lookup.

pub mod routing;
