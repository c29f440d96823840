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
//! * [`state`]: the RFC 9293 states.
//! * [`segment`]: what crosses the connection's boundary, and RSTs for unmatched segments.
//! * [`connection`]: one connection, driven by segments, timers and socket calls.
//! * [`listener`]: listening sockets with SYN and accept queues and SYN cookies.
//! * [`counters`]: Tcp/TcpExt MIB counters and drop reasons; [`info`]: TCP_INFO.
//!
//! * [`sockets`]: the socket table of a stack and the socket API: bind, listen, connect,
//!   accept, send, receive, options, demultiplexing, RSTs for segments nobody takes, ICMP
//!   errors, one timer per socket, and segments written straight into transmit buffers;
//!   dual-stack IPv6 sockets (RFC 3493 §3.7) whose IPv4 connections keep their IPv6 ids.
//! * [`tables`]: the per-version binding and connection tables and the bind rules.
//! * [`context`]: what TCP needs from the stack, and how an IPv6 socket's IPv4-mapped peers
//!   are reached over IPv4.
//!
//! # Wiring into the stack
//!
//! The state machines keep no address table and no clock; [`sockets::Tcp`] holds both
//! sides of that: it owns one [`IsnGenerator`] and one [`SynCookies`] keyed from the host's
//! randomness, the per-version tables, and reaches the IP layer through the
//! [`TcpContext`] (a [`TcpIpContext`] for each IP version) the stack implements
//! (`core/src/stack/tcp_ctx.rs`). Applications reach it through `Stack::tcp_call`; events come back as `StackEvent::TcpV4`/`TcpV6`.

pub mod buffer;
pub mod congestion;
pub mod connection;
pub mod context;
pub mod counters;
pub mod info;
pub mod isn;
pub mod listener;
pub mod rtt;
pub mod sack;
pub mod segment;
pub mod seqnum;
pub mod sockets;
pub mod state;
pub mod tables;

#[cfg(test)]
mod harness;
#[cfg(test)]
mod tests;

pub use connection::{Connection, Event, Shutdown, TcpConfig};
pub use context::{IpHeaderFields, IpHeaderOptions, TcpContext, TcpIpContext, TcpRoute};
pub use isn::{Endpoint, IsnGenerator, SynCookies};
pub use listener::{Listener, ListenerConfig, ListenerTransmit, SynCookieMode};
pub use segment::{write_reset_for, SegmentInfo, Transmit};
pub use seqnum::SeqNum;
pub use sockets::{AnyTcpSocketId, ListenerQueues, Tcp, TcpIpExt, TcpSocketId, TcpStackConfig, TcpTimerId};
pub use state::State;
