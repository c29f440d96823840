//! The IP layer: routing, source address selection, path MTU discovery and ICMP error rate
//! limiting, each a state machine or pure function the stack drives.
//!
//! * [`routing`]: the routing table and longest-prefix-match next-hop lookup.
//! * [`source`]: source address selection (RFC 6724 for IPv6, Linux's rules for IPv4).
//! * [`pmtu`]: the path MTU cache fed by ICMP (RFC 1191, RFC 8201).
//! * [`icmp_rate`]: ICMP error rate limiting (RFC 4443 §2.4(f), RFC 1812 §4.3.2.8).

pub mod icmp_rate;
pub mod pmtu;
pub mod routing;
pub mod source;
