//! The IP layer: IPv4 and IPv6 protocol machinery as it grows.
//!
//! * [`gmp`], [`igmp`], [`mld`]: host-side group membership (IGMPv1/v2/v3, MLDv1/v2),
//!   written once for both versions.

pub mod gmp;
pub mod igmp;
pub mod mld;
