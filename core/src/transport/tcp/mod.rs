//! TCP (RFC 9293) as pure, sans-I/O state machines, with the extensions production stacks
//! ship: window scaling and timestamps (RFC 7323), SACK (RFC 2018, RFC 6675), NewReno and
//! CUBIC congestion control (RFC 5681, RFC 6582, RFC 9438), RFC 6298 retransmission timers,
//! RFC 5961 hardening, RFC 6528 ISNs and RFC 4987 SYN cookies.
//!
//! * [`seqnum`]: wrapping sequence-number arithmetic.
//! * [`buffer`]: the send ring and the receive ring with bounded out-of-order reassembly.
//! * [`rtt`]: the RFC 6298 estimator.
//! * [`congestion`]: the pluggable congestion-control trait, NewReno and CUBIC.
//! * [`sack`]: the sender's SACK scoreboard (IsLost, pipe, NextSeg).
//! * [`isn`]: initial sequence numbers and SYN cookies.
//! * [`counters`]: Tcp/TcpExt MIB counters and drop reasons.

pub mod buffer;
pub mod congestion;
pub mod counters;
pub mod isn;
pub mod rtt;
pub mod sack;
pub mod seqnum;

pub use isn::{Endpoint, IsnGenerator, SynCookies};
pub use seqnum::SeqNum;
