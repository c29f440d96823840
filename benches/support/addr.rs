//! Address shorthands the benchmarks build their stacks and frames from.

#![allow(dead_code)]

use netstack_core::addr::{Ipv4Addr, Mac, UnicastAddr};

/// `s` as an IPv4 address; the benchmarks write only valid ones.
pub(crate) fn v4(s: &str) -> Ipv4Addr {
    s.parse().expect("address")
}

/// The locally administered unicast MAC `02:00:00:00:00:nn`.
pub(crate) fn mac(n: u8) -> UnicastAddr<Mac> {
    UnicastAddr::new(Mac::new([0x02, 0, 0, 0, 0, n])).expect("unicast")
}
