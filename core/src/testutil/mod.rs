//! Test support shared by the crate's unit tests, its integration tests, the benchmarks and
//! the fuzz targets (feature `testutil`; always on under `cfg(test)`).
//!
//! * [`vectors`]: the captures of Linux's own traffic in `core/tests/vectors` and a reader for
//!   them.
//! * [`fake`]: a fake host (clock, timers, seeded randomness) for state-machine tests.
//! * [`fake_net`]: a deterministic network of such hosts on segments with seeded loss, delay,
//!   duplication, reordering and frame-size limits, with a pcap capture of the wires.
//! * [`pcap`]: reading and writing classic pcap files.
//! * [`reserialize`]: takes a whole Ethernet frame apart, layer by layer down to the transport
//!   header, and writes it again from the parsed builders: the byte-for-byte oracle.

pub mod fake;
pub mod fake_net;
pub mod pcap;
pub mod reserialize;
pub mod vectors;
