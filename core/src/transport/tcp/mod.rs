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
//! # Wiring into the stack
//!
//! The state machines keep no addresses table and no clock; the stack owns both. Per
//! stack: one [`IsnGenerator`] and one [`SynCookies`] keyed from the host's randomness, and
//! a [`counters::TcpCounters`] total.
//!
//! * **connect**: `Connection::connect(now, cfg, local, remote, isn.isn(now, local,
//!   remote), isn.timestamp_offset(local, remote), route_mtu)`; insert it in the
//!   4-tuple map.
//! * **listen**: `Listener::new(ListenerConfig { backlog, .. }, isn.clone(),
//!   cookies.clone(), mtu)`; `Listener::accept` hands over established connections, which
//!   then go into the 4-tuple map.
//! * **receive**: parse with `TcpSegment::parse_bytes(body, (src, dst))`; on error call
//!   `TcpCounters::count_parse_error`. Otherwise build [`SegmentInfo::from_segment`] and:
//!   1. a connection in the map for (local, remote): if it is in TIME-WAIT and
//!      [`Connection::time_wait_accepts_syn`] holds, drop it (count `time_wait_recycled`)
//!      and go on to step 2; otherwise [`Connection::handle_segment`]`(now, &info, body)`;
//!   2. else a listener on the local address and port:
//!      [`Listener::handle_segment`]`(now, local, remote, &info, body)`;
//!   3. else answer with [`write_reset_for`]`(out, local, remote, &info, body.len())`.
//! * **send**: after every input, timer and socket call on a connection (or listener),
//!   drain [`Connection::poll_transmit`]`(now, out)` (or [`Listener::poll_transmit`], which
//!   also says which endpoints) into IP packets from `local().addr` to `remote().addr`,
//!   protocol 6, with `out` sized to the path MTU less the IP header. The bytes are a
//!   complete TCP segment, checksum included.
//! * **timers**: keep one timer per connection/listener at `poll_timeout()` and call
//!   `handle_timeout(now)` when it fires.
//! * **sockets**: `send`, `recv`, `peek`, `shutdown`, `close`, `abort`, the setters
//!   (`set_nodelay`, `set_keepalive`, `set_user_timeout`, `set_linger`, `set_send_buffer`,
//!   `set_recv_buffer`), `take_error` (SO_ERROR), `info` (TCP_INFO); readiness from
//!   [`Connection::poll_event`].
//! * **ICMP**: with the quoted TCP header's sequence number,
//!   [`Connection::handle_icmp_error`]`(now, &report, quoted_seq)`; a route MTU change is
//!   [`Connection::set_path_mtu`].
//! * **teardown**: drop a connection once [`Connection::is_closed`] (after draining its
//!   output, which may hold a RST), adding `take_counters()` to the stack's totals first.

pub mod buffer;
pub mod congestion;
pub mod connection;
pub mod counters;
pub mod info;
pub mod isn;
pub mod listener;
pub mod rtt;
pub mod sack;
pub mod segment;
pub mod seqnum;
pub mod state;

#[cfg(test)]
mod harness;
#[cfg(test)]
mod tests;

pub use connection::{Connection, Event, Shutdown, TcpConfig};
pub use isn::{Endpoint, IsnGenerator, SynCookies};
pub use listener::{Listener, ListenerConfig, SynCookieMode};
pub use segment::{write_reset_for, SegmentInfo, Transmit};
pub use seqnum::SeqNum;
pub use state::State;
