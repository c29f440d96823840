//! netstack-bindings: runs `netstack-core` on Linux.
//!
//! This crate owns what the core must not: threads, file descriptors and clocks. It will
//! drive the core from network devices through RX/TX FIFOs, run its timers, and serve the
//! socket and admin protocols. Today it re-exports the core so the daemon links one stack.

pub use netstack_core as core;
