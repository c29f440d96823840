//! When an ICMP error may answer a received packet, and what of it the error quotes
//! (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7, RFC 4443 §2.4), written once for both versions.
//!
//! An error is never sent in answer to an ICMP error, to a packet for a multicast or
//! broadcast destination (IPv6 excepts Packet Too Big and the Parameter Problem for an
//! unrecognized option whose action bits ask for one, RFC 4443 §2.4 (e.2, e.3)), to a frame
//! that was link-layer broadcast or multicast, to a non-initial fragment, or to a packet
//! whose source does not name a single host. These checks come before the rate limit.

use crate::addr::{Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr};
use crate::wire::icmp::v4::Icmpv4Type;
use crate::wire::icmp::v6::Icmpv6Type;
use crate::wire::IpProto;

/// What is known of a received packet an error would answer.
#[derive(Clone, Copy, Debug)]
pub struct OffendingPacket<'a, A> {
    /// Its source address.
    pub src: A,
    /// Its destination address.
    pub dst: A,
    /// The destination was a broadcast address: limited (255.255.255.255) or the directed
    /// broadcast of a subnet of the receiving interface, which only the caller knows.
    pub dst_is_broadcast: bool,
    /// The frame carrying it was link-layer broadcast or multicast.
    pub link_broadcast_or_multicast: bool,
    /// It is a fragment other than the first (IPv4 offset or IPv6 Fragment offset non-zero).
    pub non_initial_fragment: bool,
    /// The upper-layer protocol and its bytes (for recognising ICMP errors).
    pub proto: IpProto,
    /// The upper-layer message.
    pub upper_layer: &'a [u8],
    /// The packet as received, from its IP header on: what the error quotes.
    pub packet: &'a [u8],
}

/// Whether the error is one of the two IPv6 allows towards multicast destinations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MulticastPermission {
    /// An ordinary error: never for multicast or broadcast.
    Denied,
    /// ICMPv6 Packet Too Big (RFC 4443 §2.4 (e.2)) or Parameter Problem code 2 for an option
    /// whose action bits are `10` (§2.4 (e.3)).
    Allowed,
}

/// Why no error is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Suppressed {
    /// The packet is itself an ICMP error (RFC 1122 §3.2.2; RFC 4443 §2.4 (e.1)).
    #[error("packet is an ICMP error")]
    InResponseToError,
    /// The destination was multicast or broadcast (RFC 1122 §3.2.2; RFC 4443 §2.4 (e.2)).
    #[error("destination is multicast or broadcast")]
    GroupDestination,
    /// The frame was link-layer broadcast or multicast (RFC 1122 §3.2.2; RFC 4443 §2.4 (e.3)).
    #[error("frame was link-layer broadcast or multicast")]
    LinkGroupDestination,
    /// A fragment other than the first (RFC 1122 §3.2.2).
    #[error("non-initial fragment")]
    NonInitialFragment,
    /// The source is not a single host: unspecified, loopback from the wire, multicast,
    /// broadcast, or reserved (RFC 1122 §3.2.2; RFC 4443 §2.4 (e.4)).
    #[error("source is not a unicast address")]
    SourceNotUnicast,
}

/// Counts of errors not sent, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SuppressedCounters {
    /// Answering an ICMP error.
    pub in_response_to_error: u64,
    /// Multicast or broadcast destination.
    pub group_destination: u64,
    /// Link-layer broadcast or multicast frame.
    pub link_group_destination: u64,
    /// Non-initial fragment.
    pub non_initial_fragment: u64,
    /// Source not a unicast address.
    pub source_not_unicast: u64,
}

impl SuppressedCounters {
    /// Counts `reason`.
    pub fn count(&mut self, reason: Suppressed) {
        *match reason {
            Suppressed::InResponseToError => &mut self.in_response_to_error,
            Suppressed::GroupDestination => &mut self.group_destination,
            Suppressed::LinkGroupDestination => &mut self.link_group_destination,
            Suppressed::NonInitialFragment => &mut self.non_initial_fragment,
            Suppressed::SourceNotUnicast => &mut self.source_not_unicast,
        } += 1;
    }
}

/// What differs between ICMPv4 and ICMPv6 errors.
pub trait IcmpErrorIpExt: Ip {
    /// The most of the offending packet an error quotes: ICMPv4 errors stay within the
    /// 576-byte datagram every host accepts (RFC 1812 §4.3.2.3, as Linux does); ICMPv6
    /// errors within the 1280-byte minimum MTU (RFC 4443 §2.4 (c)).
    const MAX_QUOTE_LEN: usize;

    /// Whether `upper_layer`, carried as `proto`, is an ICMP error message.
    fn is_icmp_error(proto: IpProto, upper_layer: &[u8]) -> bool;

    /// Whether `src` names a single host an error can go to.
    fn is_unicast_source(src: Self::Addr) -> bool;
}

impl IcmpErrorIpExt for Ipv4 {
    const MAX_QUOTE_LEN: usize = 576 - 20 - 8;

    fn is_icmp_error(proto: IpProto, upper_layer: &[u8]) -> bool {
        proto == IpProto::ICMP && upper_layer.first().is_some_and(|&t| Icmpv4Type::from(t).is_error())
    }

    fn is_unicast_source(src: Ipv4Addr) -> bool {
        !(src.is_unspecified()
            || src.is_loopback()
            || src.is_multicast()
            || src.is_limited_broadcast()
            || src.is_class_e())
    }
}

impl IcmpErrorIpExt for Ipv6 {
    const MAX_QUOTE_LEN: usize = 1280 - 40 - 8;

    fn is_icmp_error(proto: IpProto, upper_layer: &[u8]) -> bool {
        proto == IpProto::ICMPV6 && upper_layer.first().is_some_and(|&t| Icmpv6Type::from(t).is_error())
    }

    fn is_unicast_source(src: Ipv6Addr) -> bool {
        !(src.is_unspecified() || src.is_loopback() || src.is_multicast())
    }
}

/// Decides whether an error may answer `packet`; on yes, returns the bytes it quotes.
pub fn check<'a, I: IcmpErrorIpExt>(
    packet: &OffendingPacket<'a, I::Addr>,
    permission: MulticastPermission,
) -> Result<&'a [u8], Suppressed> {
    if I::is_icmp_error(packet.proto, packet.upper_layer) {
        return Err(Suppressed::InResponseToError);
    }
    if permission == MulticastPermission::Denied {
        if packet.dst.is_multicast() || packet.dst_is_broadcast {
            return Err(Suppressed::GroupDestination);
        }
        if packet.link_broadcast_or_multicast {
            return Err(Suppressed::LinkGroupDestination);
        }
    }
    if packet.non_initial_fragment {
        return Err(Suppressed::NonInitialFragment);
    }
    if !I::is_unicast_source(packet.src) {
        return Err(Suppressed::SourceNotUnicast);
    }
    Ok(&packet.packet[..packet.packet.len().min(I::MAX_QUOTE_LEN)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const A4: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
    const B4: Ipv4Addr = Ipv4Addr::new([198, 51, 100, 2]);
    const A6: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    const B6: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);

    fn udp<'a, A>(src: A, dst: A, packet: &'a [u8]) -> OffendingPacket<'a, A> {
        OffendingPacket {
            src,
            dst,
            dst_is_broadcast: false,
            link_broadcast_or_multicast: false,
            non_initial_fragment: false,
            proto: IpProto::UDP,
            upper_layer: &packet[..0],
            packet,
        }
    }

    #[test]
    fn rfc1122_3_2_2_ordinary_packets_may_be_answered_with_a_bounded_quote() {
        let big = vec![0u8; 2000];
        assert_eq!(check::<Ipv4>(&udp(A4, B4, &big), MulticastPermission::Denied).unwrap().len(), 548);
        assert_eq!(check::<Ipv6>(&udp(A6, B6, &big), MulticastPermission::Denied).unwrap().len(), 1232);
        assert_eq!(check::<Ipv4>(&udp(A4, B4, &big[..60]), MulticastPermission::Denied).unwrap().len(), 60);
    }

    #[test]
    fn rfc1122_3_2_2_never_answer_an_icmp_error() {
        let unreachable = [3u8, 3, 0, 0];
        let p =
            OffendingPacket { proto: IpProto::ICMP, upper_layer: &unreachable, ..udp(A4, B4, &[0u8; 40]) };
        assert_eq!(check::<Ipv4>(&p, MulticastPermission::Denied), Err(Suppressed::InResponseToError));
        let echo = [8u8, 0, 0, 0];
        let p = OffendingPacket { proto: IpProto::ICMP, upper_layer: &echo, ..p };
        assert!(check::<Ipv4>(&p, MulticastPermission::Denied).is_ok(), "echo requests are not errors");
        let too_big = [2u8, 0, 0, 0];
        let p6 = OffendingPacket { proto: IpProto::ICMPV6, upper_layer: &too_big, ..udp(A6, B6, &[0u8; 60]) };
        assert_eq!(check::<Ipv6>(&p6, MulticastPermission::Allowed), Err(Suppressed::InResponseToError));
    }

    #[test]
    fn rfc1122_3_2_2_never_answer_group_destinations_or_frames() {
        let group = OffendingPacket { dst: Ipv4Addr::new([224, 0, 0, 251]), ..udp(A4, B4, &[0u8; 40]) };
        assert_eq!(check::<Ipv4>(&group, MulticastPermission::Denied), Err(Suppressed::GroupDestination));
        let directed = OffendingPacket { dst_is_broadcast: true, ..udp(A4, B4, &[0u8; 40]) };
        assert_eq!(check::<Ipv4>(&directed, MulticastPermission::Denied), Err(Suppressed::GroupDestination));
        let link = OffendingPacket { link_broadcast_or_multicast: true, ..udp(A4, B4, &[0u8; 40]) };
        assert_eq!(check::<Ipv4>(&link, MulticastPermission::Denied), Err(Suppressed::LinkGroupDestination));
    }

    #[test]
    fn rfc4443_2_4_e_packet_too_big_and_option_problems_may_go_to_multicast() {
        let group = OffendingPacket {
            dst: Ipv6Addr::ALL_NODES,
            link_broadcast_or_multicast: true,
            ..udp(A6, B6, &[0u8; 60])
        };
        assert_eq!(check::<Ipv6>(&group, MulticastPermission::Denied), Err(Suppressed::GroupDestination));
        assert!(check::<Ipv6>(&group, MulticastPermission::Allowed).is_ok());
    }

    #[test]
    fn rfc1122_3_2_2_never_answer_non_initial_fragments_or_non_unicast_sources() {
        let fragment = OffendingPacket { non_initial_fragment: true, ..udp(A4, B4, &[0u8; 40]) };
        assert_eq!(
            check::<Ipv4>(&fragment, MulticastPermission::Denied),
            Err(Suppressed::NonInitialFragment)
        );
        for src in [
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::LIMITED_BROADCAST,
            Ipv4Addr::new([240, 0, 0, 1]),
            Ipv4Addr::LOOPBACK,
        ] {
            assert_eq!(
                check::<Ipv4>(&udp(src, B4, &[0u8; 40]), MulticastPermission::Denied),
                Err(Suppressed::SourceNotUnicast)
            );
        }
        for src in [Ipv6Addr::UNSPECIFIED, Ipv6Addr::ALL_NODES] {
            assert_eq!(
                check::<Ipv6>(&udp(src, B6, &[0u8; 60]), MulticastPermission::Allowed),
                Err(Suppressed::SourceNotUnicast)
            );
        }
    }

    #[test]
    fn suppressions_are_counted_by_reason() {
        let mut c = SuppressedCounters::default();
        c.count(Suppressed::NonInitialFragment);
        c.count(Suppressed::NonInitialFragment);
        c.count(Suppressed::GroupDestination);
        assert_eq!((c.non_initial_fragment, c.group_destination, c.source_not_unicast), (2, 1, 0));
    }
}
