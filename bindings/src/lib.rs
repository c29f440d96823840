//! netstack-bindings: runs `netstack-core` on Linux.
//!
//! This crate owns what the core must not: threads, file descriptors and clocks. Network
//! devices ([`device`]) exchange frames with the stack through bounded RX/TX FIFOs of pooled
//! buffers; one event-loop thread ([`eventloop`]) owns the stack and runs it to completion;
//! [`daemon`] is `netstack run`.

pub mod admin;
pub mod daemon;
pub mod device;
pub mod echo;
pub mod eventloop;
pub mod inspect;
pub mod manifest;
mod reactor;
pub mod rng;
mod served_channel;
mod slab;
pub mod socket;
pub mod svc;
pub mod tcp_echo;
pub mod timers;

#[cfg(test)]
mod testutil;

pub use netstack_core as core;
