//! netstack-core: every protocol of the netstack as a pure, sans-I/O state machine.
//!
//! `no_std` + `alloc`, no `unsafe`, no I/O, clocks, threads or globals: inputs arrive as calls
//! and outputs leave through context traits the bindings implement. The same code runs under
//! the real bindings and in a deterministic fake network.
//!
//! * [`buf`]: zero-copy parse buffers and inside-out serializers.
//! * [`addr`]: address types, witnesses and the IP-version-generic [`addr::Ip`] trait.
//! * [`wire`]: every packet format the stack speaks.
//! * [`time`] and [`context`]: the monotonic clock and the contract with the host (timers,
//!   randomness) every state machine is driven through.
//! * [`device`]: device identifiers, and the device layer as it grows.
//! * [`hash`]: SipHash-2-4, the keyed function behind port, interface-id and ISN choices.
//! * [`ip`]: the IP layer's state machines.
//! * `testutil` (feature `testutil`): captured vectors and the byte-for-byte oracle, for tests,
//!   benchmarks and fuzz targets.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod addr;
pub mod buf;
pub mod context;
pub mod device;
pub mod hash;
pub mod ip;
#[cfg(any(test, feature = "testutil"))]
pub mod testutil;
pub mod time;
pub mod wire;
