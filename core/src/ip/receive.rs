//! What becomes of a received IP packet: delivered locally, forwarded, or dropped for a
//! reason, decided once for both versions from its addresses, the receiving device and the
//! host's configuration.
//!
//! * Sources that cannot name a sender are dropped (RFC 1122 §3.2.1.3, RFC 1812 §5.3.7;
//!   RFC 4291 §2.5.3, §2.7): multicast, limited broadcast and reserved IPv4 sources, and
//!   loopback addresses arriving on a device other than loopback (RFC 1122 §3.2.1.3 (g),
//!   RFC 4291 §2.5.3). The unspecified source is accepted (DHCP and DAD need it; the layers
//!   above check it).
//! * Local delivery follows Linux's weak host model (RFC 1122 §3.3.4.2): a unicast
//!   destination assigned on any device of the host is local, as are broadcasts the
//!   receiving device belongs to and multicast groups it joined. Tentative addresses
//!   receive nothing but neighbour discovery (RFC 4862 §5.4), which the caller hands to NDP
//!   before asking.
//! * Anything else is forwarded if the receiving device forwards (off by default, like
//!   Linux's ip_forward and forwarding sysctls), or dropped as not for this host.

use crate::addr::{Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr};
use crate::device::DeviceId;

/// How an address relates to this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressMatch {
    /// Assigned to some device and usable.
    Assigned,
    /// Assigned but still tentative (duplicate address detection running).
    Tentative,
    /// Not one of ours.
    NotOurs,
}

/// What the receive decision needs to know about the host; the stack implements it over
/// its address, group and forwarding state.
pub trait ReceiveQueries<I: Ip> {
    /// Whether `addr` is assigned on any device (the weak host model).
    fn address_match(&self, addr: I::Addr) -> AddressMatch;

    /// Whether `addr` is a broadcast address of `device`: the limited broadcast or the
    /// directed broadcast of one of its IPv4 subnets (never true for IPv6).
    fn is_broadcast_on(&self, device: DeviceId, addr: I::Addr) -> bool;

    /// Whether `device` has joined multicast group `group`.
    fn joined(&self, device: DeviceId, group: I::Addr) -> bool;

    /// Whether packets arriving on `device` may be forwarded.
    fn forwarding(&self, device: DeviceId) -> bool;

    /// Whether `device` is the loopback device.
    fn is_loopback(&self, device: DeviceId) -> bool;
}

/// The fate of a received packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiveDecision {
    /// For this host, addressed as `kind`.
    Deliver(DeliveryKind),
    /// For another host; the caller forwards it (TTL, route, MTU).
    Forward,
    /// Dropped.
    Drop(ReceiveDrop),
}

/// How a locally delivered packet was addressed (sockets and ICMP treat them differently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryKind {
    /// To one of our unicast addresses.
    Unicast,
    /// To a broadcast address of the receiving device.
    Broadcast,
    /// To a group the receiving device joined.
    Multicast,
}

/// Why a received packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveDrop {
    /// The source cannot name a sender.
    #[error("invalid source address")]
    InvalidSource,
    /// A loopback source or destination on a device other than loopback.
    #[error("loopback address from the network")]
    LoopbackFromNetwork,
    /// Addressed to a tentative address.
    #[error("destination address is tentative")]
    TentativeDestination,
    /// Not for this host, and the device does not forward.
    #[error("not for this host")]
    NotForUs,
    /// Addressed to a reserved or unspecified destination.
    #[error("invalid destination address")]
    InvalidDestination,
}

/// Linux's Ip MIB counters for the receive decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiveCounters {
    /// Packets decided on.
    pub in_receives: u64,
    /// Dropped for a bad source or destination (InAddrErrors).
    pub in_addr_errors: u64,
    /// Delivered up the stack (InDelivers counts after the upper layer accepts; this counts
    /// the decision).
    pub to_deliver: u64,
    /// Multicast packets delivered (InMcastPkts).
    pub in_mcast_pkts: u64,
    /// Broadcast packets delivered (InBcastPkts).
    pub in_bcast_pkts: u64,
    /// Handed to forwarding.
    pub to_forward: u64,
    /// Not for this host and not forwarded.
    pub not_for_us: u64,
}

/// What differs between the versions in validating addresses.
pub trait ReceiveIpExt: Ip {
    /// Whether `src` cannot name a sender (loopback is judged separately).
    fn is_invalid_source(src: Self::Addr) -> bool;

    /// Whether `dst` cannot be a destination at all.
    fn is_invalid_destination(dst: Self::Addr) -> bool;
}

impl ReceiveIpExt for Ipv4 {
    fn is_invalid_source(src: Ipv4Addr) -> bool {
        // RFC 1812 §5.3.7: multicast, limited broadcast and class E sources are martians.
        src.is_multicast() || src.is_limited_broadcast() || src.is_class_e()
    }

    fn is_invalid_destination(dst: Ipv4Addr) -> bool {
        // RFC 1812 §5.3.7: 0.0.0.0 and class E destinations are martians.
        dst.is_unspecified() || dst.is_class_e()
    }
}

impl ReceiveIpExt for Ipv6 {
    fn is_invalid_source(src: Ipv6Addr) -> bool {
        // RFC 4291 §2.7: multicast addresses must not be used as sources.
        src.is_multicast()
    }

    fn is_invalid_destination(dst: Ipv6Addr) -> bool {
        // RFC 4291 §2.5.2: the unspecified address is never a destination; RFC 4291 §2.7:
        // multicast scope 0 is reserved.
        dst.is_unspecified() || (dst.is_multicast() && dst.bytes()[1] & 0x0f == 0)
    }
}

/// Decides the fate of a packet from `src` to `dst` received on `device`, counting it.
pub fn decide<I: ReceiveIpExt>(
    host: &impl ReceiveQueries<I>,
    counters: &mut ReceiveCounters,
    device: DeviceId,
    src: I::Addr,
    dst: I::Addr,
) -> ReceiveDecision {
    counters.in_receives += 1;
    let decision = decide_uncounted(host, device, src, dst);
    match decision {
        ReceiveDecision::Deliver(kind) => {
            counters.to_deliver += 1;
            match kind {
                DeliveryKind::Multicast => counters.in_mcast_pkts += 1,
                DeliveryKind::Broadcast => counters.in_bcast_pkts += 1,
                DeliveryKind::Unicast => {}
            }
        }
        ReceiveDecision::Forward => counters.to_forward += 1,
        ReceiveDecision::Drop(ReceiveDrop::NotForUs) => counters.not_for_us += 1,
        ReceiveDecision::Drop(_) => counters.in_addr_errors += 1,
    }
    decision
}

fn decide_uncounted<I: ReceiveIpExt>(
    host: &impl ReceiveQueries<I>,
    device: DeviceId,
    src: I::Addr,
    dst: I::Addr,
) -> ReceiveDecision {
    if I::is_invalid_source(src) {
        return ReceiveDecision::Drop(ReceiveDrop::InvalidSource);
    }
    // RFC 1122 §3.2.1.3 (g), RFC 4291 §2.5.3: loopback addresses never cross a wire.
    if (src.is_loopback() || dst.is_loopback()) && !host.is_loopback(device) {
        return ReceiveDecision::Drop(ReceiveDrop::LoopbackFromNetwork);
    }
    if I::is_invalid_destination(dst) {
        return ReceiveDecision::Drop(ReceiveDrop::InvalidDestination);
    }
    if dst.is_multicast() {
        return if host.joined(device, dst) {
            ReceiveDecision::Deliver(DeliveryKind::Multicast)
        } else {
            not_local(host, device)
        };
    }
    if host.is_broadcast_on(device, dst) {
        return ReceiveDecision::Deliver(DeliveryKind::Broadcast);
    }
    match host.address_match(dst) {
        AddressMatch::Assigned => ReceiveDecision::Deliver(DeliveryKind::Unicast),
        AddressMatch::Tentative => ReceiveDecision::Drop(ReceiveDrop::TentativeDestination),
        AddressMatch::NotOurs => not_local(host, device),
    }
}

/// The fate of a packet for another host: forwarded if `device` forwards, else dropped.
fn not_local<I: Ip>(host: &impl ReceiveQueries<I>, device: DeviceId) -> ReceiveDecision {
    if host.forwarding(device) {
        ReceiveDecision::Forward
    } else {
        ReceiveDecision::Drop(ReceiveDrop::NotForUs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const ETH: DeviceId = DeviceId::new(2);
    const LO: DeviceId = DeviceId::new(1);

    /// A host with fixed addresses, groups and forwarding.
    struct Host<A> {
        assigned: Vec<A>,
        tentative: Vec<A>,
        broadcast: Vec<A>,
        groups: Vec<A>,
        forwarding: bool,
    }

    impl<I: Ip> ReceiveQueries<I> for Host<I::Addr> {
        fn address_match(&self, addr: I::Addr) -> AddressMatch {
            if self.assigned.contains(&addr) {
                AddressMatch::Assigned
            } else if self.tentative.contains(&addr) {
                AddressMatch::Tentative
            } else {
                AddressMatch::NotOurs
            }
        }

        fn is_broadcast_on(&self, _device: DeviceId, addr: I::Addr) -> bool {
            self.broadcast.contains(&addr)
        }

        fn joined(&self, _device: DeviceId, group: I::Addr) -> bool {
            self.groups.contains(&group)
        }

        fn forwarding(&self, _device: DeviceId) -> bool {
            self.forwarding
        }

        fn is_loopback(&self, device: DeviceId) -> bool {
            device == LO
        }
    }

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn host4(forwarding: bool) -> Host<Ipv4Addr> {
        Host {
            assigned: vec![v4("192.0.2.1"), v4("198.51.100.1")],
            tentative: vec![],
            broadcast: vec![v4("192.0.2.255"), Ipv4Addr::LIMITED_BROADCAST],
            groups: vec![Ipv4Addr::ALL_SYSTEMS],
            forwarding,
        }
    }

    fn decide4(host: &Host<Ipv4Addr>, device: DeviceId, src: &str, dst: &str) -> ReceiveDecision {
        decide::<Ipv4>(host, &mut ReceiveCounters::default(), device, v4(src), v4(dst))
    }

    #[test]
    fn rfc1122_3_3_4_2_weak_host_delivers_to_any_of_our_addresses() {
        let host = host4(false);
        assert_eq!(
            decide4(&host, ETH, "192.0.2.9", "192.0.2.1"),
            ReceiveDecision::Deliver(DeliveryKind::Unicast)
        );
        assert_eq!(
            decide4(&host, ETH, "192.0.2.9", "198.51.100.1"),
            ReceiveDecision::Deliver(DeliveryKind::Unicast)
        );
        assert_eq!(
            decide4(&host, ETH, "192.0.2.9", "192.0.2.255"),
            ReceiveDecision::Deliver(DeliveryKind::Broadcast)
        );
        assert_eq!(
            decide4(&host, ETH, "0.0.0.0", "255.255.255.255"),
            ReceiveDecision::Deliver(DeliveryKind::Broadcast)
        );
        assert_eq!(
            decide4(&host, ETH, "192.0.2.9", "224.0.0.1"),
            ReceiveDecision::Deliver(DeliveryKind::Multicast)
        );
    }

    #[test]
    fn rfc1812_5_3_7_martian_sources_and_destinations_are_dropped() {
        let host = host4(true);
        for src in ["224.0.0.5", "255.255.255.255", "240.0.0.1"] {
            assert_eq!(
                decide4(&host, ETH, src, "192.0.2.1"),
                ReceiveDecision::Drop(ReceiveDrop::InvalidSource)
            );
        }
        assert_eq!(
            decide4(&host, ETH, "192.0.2.9", "0.0.0.0"),
            ReceiveDecision::Drop(ReceiveDrop::InvalidDestination)
        );
        assert_eq!(
            decide4(&host, ETH, "192.0.2.9", "250.1.1.1"),
            ReceiveDecision::Drop(ReceiveDrop::InvalidDestination)
        );
    }

    #[test]
    fn rfc1122_3_2_1_3_g_loopback_never_arrives_from_a_wire() {
        let host = host4(false);
        assert_eq!(
            decide4(&host, ETH, "127.0.0.1", "192.0.2.1"),
            ReceiveDecision::Drop(ReceiveDrop::LoopbackFromNetwork)
        );
        assert_eq!(
            decide4(&host, ETH, "192.0.2.9", "127.0.0.1"),
            ReceiveDecision::Drop(ReceiveDrop::LoopbackFromNetwork)
        );
        let mut lo = host4(false);
        lo.assigned.push(Ipv4Addr::LOOPBACK);
        assert_eq!(
            decide4(&lo, LO, "127.0.0.1", "127.0.0.1"),
            ReceiveDecision::Deliver(DeliveryKind::Unicast)
        );
    }

    #[test]
    fn forwarding_is_off_unless_enabled() {
        assert_eq!(
            decide4(&host4(false), ETH, "192.0.2.9", "203.0.113.7"),
            ReceiveDecision::Drop(ReceiveDrop::NotForUs)
        );
        assert_eq!(decide4(&host4(true), ETH, "192.0.2.9", "198.51.100.77"), ReceiveDecision::Forward);
        assert_eq!(decide4(&host4(true), ETH, "192.0.2.9", "239.1.2.3"), ReceiveDecision::Forward);
        assert_eq!(
            decide4(&host4(false), ETH, "192.0.2.9", "239.1.2.3"),
            ReceiveDecision::Drop(ReceiveDrop::NotForUs)
        );
    }

    #[test]
    fn rfc4862_5_4_tentative_addresses_receive_nothing() {
        let host = Host {
            assigned: vec![],
            tentative: vec![v6("2001:db8::1")],
            broadcast: vec![],
            groups: vec![Ipv6Addr::ALL_NODES],
            forwarding: false,
        };
        let mut c = ReceiveCounters::default();
        let d = decide::<Ipv6>(&host, &mut c, ETH, v6("2001:db8::9"), v6("2001:db8::1"));
        assert_eq!(d, ReceiveDecision::Drop(ReceiveDrop::TentativeDestination));
        let d = decide::<Ipv6>(&host, &mut c, ETH, v6("fe80::9"), Ipv6Addr::ALL_NODES);
        assert_eq!(d, ReceiveDecision::Deliver(DeliveryKind::Multicast));
        assert_eq!(
            decide::<Ipv6>(&host, &mut c, ETH, v6("ff02::1"), Ipv6Addr::ALL_NODES),
            ReceiveDecision::Drop(ReceiveDrop::InvalidSource)
        );
        assert_eq!(
            decide::<Ipv6>(&host, &mut c, ETH, v6("fe80::9"), v6("ff00::1")),
            ReceiveDecision::Drop(ReceiveDrop::InvalidDestination)
        );
        assert_eq!(
            decide::<Ipv6>(&host, &mut c, ETH, v6("::1"), v6("2001:db8::1")),
            ReceiveDecision::Drop(ReceiveDrop::LoopbackFromNetwork)
        );
        assert_eq!(
            c,
            ReceiveCounters {
                in_receives: 5,
                in_addr_errors: 4,
                to_deliver: 1,
                in_mcast_pkts: 1,
                ..Default::default()
            }
        );
    }
}
