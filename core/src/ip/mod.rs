//! The IP layer, written once for IPv4 and IPv6 over the `Ip` trait where the RFCs share
//! meaning.

pub mod icmp_error;
pub mod receive;
