//! The IP layer: IPv4 and IPv6 state machines above the device layer, written once over the
//! `Ip` trait where the RFCs share meaning.
//!
//! * [`dad`]: IPv6 Duplicate Address Detection (RFC 4862 §5.4, RFC 7527).
//! * [`fragmentation`]: fragmenting outgoing datagrams (RFC 791 §3.2, RFC 8200 §4.5).
//! * [`gmp`]: host-side group membership, one state machine for IGMP and MLD.
//! * [`icmp_error`]: when an ICMP error may answer a packet, and what it quotes.
//! * [`icmp_rate`]: ICMP error rate limiting (RFC 4443 §2.4(f), RFC 1812 §4.3.2.8).
//! * [`igmp`]: IGMPv1/v2/v3 (RFC 1112, RFC 2236, RFC 3376) over [`gmp`].
//! * [`mld`]: MLDv1/v2 (RFC 2710, RFC 3810) over [`gmp`].
//! * [`pmtu`]: the path MTU cache fed by ICMP (RFC 1191, RFC 8201).
//! * [`reassembly`]: fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5, RFC 5722).
//! * [`receive`]: whether a received packet is delivered, forwarded or dropped.
//! * [`router_discovery`]: host-side router discovery, on-link prefixes, RDNSS and redirects
//!   (RFC 4861 §6.3, §8.3; RFC 8106).
//! * [`routing`]: the routing table and longest-prefix-match next-hop lookup.
//! * [`slaac`]: IPv6 address autoconfiguration and the lifetimes of every IPv6 address (RFC
//!   4862 §5.3, §5.5; temporary addresses, RFC 8981).
//! * [`source`]: source address selection (RFC 6724 for IPv6, Linux's rules for IPv4).
//! * [`stable_iid`]: stable, opaque interface identifiers (RFC 7217).

pub mod dad;
pub mod fragmentation;
pub mod gmp;
pub mod icmp_error;
pub mod icmp_rate;
pub mod igmp;
pub mod mld;
pub mod pmtu;
pub mod reassembly;
pub mod receive;
pub mod router_discovery;
pub mod routing;
pub mod slaac;
pub mod source;
pub mod stable_iid;
