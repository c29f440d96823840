//! Network devices: identifiers, receive classification, transmit queues and neighbour
//! resolution.
//!
//! * [`ethernet`]: Ethernet receive filtering (destination, multicast filter) and headers.
//! * [`pure_ip`]: pure-IP (TUN) receive classification.
//! * [`queue`]: the bounded transmit queue every device has.
//! * [`nud`]: the neighbour table and Neighbour Unreachability Detection shared by ARP and NDP.
//! * [`arp`]: ARP (RFC 826) as IPv4's resolver over [`nud`], with RFC 5227 conflict detection.

pub mod arp;
pub mod ethernet;
pub mod nud;
pub mod pure_ip;
pub mod queue;

use core::fmt;

/// A device (interface) of the stack. Ids are assigned when a device is added and never
/// reused while the stack runs, so a stale id can be detected rather than misdirected.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(u32);

impl DeviceId {
    /// The id with number `n` (as shown to users, e.g. an interface index).
    pub const fn new(n: u32) -> Self {
        Self(n)
    }

    /// The id's number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dev{}", self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
