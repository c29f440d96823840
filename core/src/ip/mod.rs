//! The IP layer: state machines and pure functions the stack drives for IPv4 and IPv6.
//!
//! * [`reassembly`]: fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5, RFC 5722).
//! * [`fragmentation`]: fragmenting outgoing datagrams (RFC 791 §3.2, RFC 8200 §4.5).

pub mod fragmentation;
pub mod reassembly;
