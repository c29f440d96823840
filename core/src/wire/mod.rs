//! Packet formats: zero-copy parsing and inside-out serialization of every header the stack
//! speaks.
//!
//! Each format is a small module with the same shape:
//! * a `#[repr(C)]` zerocopy header struct for the fixed part;
//! * a packet view `XPacket<B>` over `&[u8]` or `&mut [u8]`, built only by
//!   [`ParsablePacket::parse`](crate::buf::ParsablePacket::parse), which validates lengths,
//!   checksums and field values, so holding one proves the checks passed;
//! * a builder `XBuilder` holding every header field (the format's "repr"), implementing
//!   [`PacketBuilder`](crate::buf::PacketBuilder) to write the header around a finished body,
//!   and `XPacket::builder()` to recover it from a parsed packet, so that
//!   `parse(serialize(builder)).builder() == builder` and received packets re-serialize to
//!   the same bytes.
//!
//! Every parse failure is a [`ParseError`] naming the layer and the reason, which the stack
//! counts by reason.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmp;
pub mod igmp;
pub mod ipv4;
pub mod ipv6;
pub mod tcp;
pub mod udp;

use core::fmt;

/// The protocol layer a [`ParseError`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Ethernet II and 802.1Q.
    Ethernet,
    /// ARP.
    Arp,
    /// IPv4 and its options.
    Ipv4,
    /// IPv6 and its extension headers.
    Ipv6,
    /// ICMPv4.
    Icmpv4,
    /// ICMPv6, including NDP and MLD.
    Icmpv6,
    /// IGMP.
    Igmp,
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ethernet => "ethernet",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Icmpv4 => "icmpv4",
            Layer::Icmpv6 => "icmpv6",
            Layer::Igmp => "igmp",
            Layer::Udp => "udp",
            Layer::Tcp => "tcp",
        })
    }
}

/// Why a packet failed to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{layer}: {kind}")]
pub struct ParseError {
    /// The layer whose header was bad.
    pub layer: Layer,
    /// What was wrong with it.
    pub kind: ParseErrorKind,
}

impl ParseError {
    /// An error of `kind` at `layer`.
    pub const fn new(layer: Layer, kind: ParseErrorKind) -> Self {
        Self { layer, kind }
    }

    /// Shorthand for a [`ParseErrorKind::Truncated`] error.
    pub const fn truncated(layer: Layer) -> Self {
        Self::new(layer, ParseErrorKind::Truncated)
    }
}

/// The reason a packet failed to parse; each is counted separately by the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// Fewer bytes than the header (or a length field) requires.
    #[error("truncated")]
    Truncated,
    /// The checksum does not verify.
    #[error("bad checksum")]
    Checksum,
    /// A length field is inconsistent with the packet or with another field.
    #[error("bad length: {0}")]
    Length(&'static str),
    /// A field holds a value the format forbids.
    #[error("invalid {0}")]
    Field(&'static str),
    /// An option (IPv4, TCP, NDP, IPv6 extension header) is malformed.
    #[error("malformed option: {0}")]
    Option(&'static str),
    /// Well-formed but of a kind this stack does not handle.
    #[error("unsupported {0}")]
    Unsupported(&'static str),
    /// The packet must be discarded and, as `action` says, answered with an ICMP parameter
    /// problem pointing at byte `pointer` of the IP packet (RFC 792, RFC 8200 §4.2).
    #[error("parameter problem ({code:?}) at byte {pointer}")]
    ParameterProblem {
        /// Offset from the start of the IP header of the offending byte.
        pointer: u32,
        /// What kind of problem it is.
        code: ParameterProblemCode,
        /// Whether an ICMP error should be sent.
        action: ProblemAction,
    },
}

/// The ICMP parameter-problem codes (ICMPv6 RFC 4443 §3.4, RFC 7112 §5; ICMPv4 uses only the
/// pointer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterProblemCode {
    /// Code 0: erroneous header field.
    ErroneousHeaderField,
    /// Code 1: unrecognized Next Header type.
    UnrecognizedNextHeader,
    /// Code 2: unrecognized IPv6 option.
    UnrecognizedOption,
    /// Code 3: a first fragment lacks part of the IPv6 header chain, upper-layer header
    /// included (RFC 7112 §5).
    IncompleteHeaderChain,
}

/// What to do with a packet that has a parameter problem; for unknown IPv6 options these
/// are the action bits of RFC 8200 §4.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemAction {
    /// Discard silently (option action `01`).
    Discard,
    /// Discard and send an ICMP parameter problem (action `10`, and every header error).
    DiscardAndSendIcmp,
    /// Discard, and send an ICMP parameter problem unless the destination was multicast
    /// (action `11`).
    DiscardAndSendIcmpUnlessMulticast,
}

/// An IP protocol number (IPv4 Protocol, IPv6 Next Header), per the IANA registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProto(pub u8);

impl IpProto {
    /// 0: IPv6 Hop-by-Hop Options.
    pub const HOP_BY_HOP: Self = Self(0);
    /// 1: ICMP.
    pub const ICMP: Self = Self(1);
    /// 2: IGMP.
    pub const IGMP: Self = Self(2);
    /// 6: TCP.
    pub const TCP: Self = Self(6);
    /// 17: UDP.
    pub const UDP: Self = Self(17);
    /// 43: IPv6 Routing header.
    pub const ROUTING: Self = Self(43);
    /// 44: IPv6 Fragment header.
    pub const FRAGMENT: Self = Self(44);
    /// 58: ICMPv6.
    pub const ICMPV6: Self = Self(58);
    /// 59: no next header.
    pub const NO_NEXT_HEADER: Self = Self(59);
    /// 60: IPv6 Destination Options.
    pub const DESTINATION_OPTIONS: Self = Self(60);
}

/// An Ethernet frame's EtherType, per the IEEE registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EtherType(pub u16);

impl EtherType {
    /// 0x0800: IPv4.
    pub const IPV4: Self = Self(0x0800);
    /// 0x0806: ARP.
    pub const ARP: Self = Self(0x0806);
    /// 0x86dd: IPv6.
    pub const IPV6: Self = Self(0x86dd);
    /// 0x8100: an IEEE 802.1Q VLAN tag follows.
    pub const VLAN: Self = Self(0x8100);
    /// 0x88a8: an IEEE 802.1ad service tag (QinQ) follows.
    pub const QINQ: Self = Self(0x88a8);
}

/// The sum of the pseudo-header a transport checksum covers (RFC 768, RFC 9293 §3.1,
/// RFC 8200 §8.1): both addresses, the protocol and the upper-layer length. The IPv4 form
/// (16-bit length) and the IPv6 form (32-bit length) sum identically for lengths that fit
/// 16 bits, so one function serves both versions.
#[inline]
pub fn pseudo_header_checksum<A: crate::addr::IpAddress>(
    src: A,
    dst: A,
    proto: IpProto,
    upper_layer_len: u32,
) -> checksum::Checksum {
    let mut c = checksum::Checksum::new();
    c.add_bytes(src.as_bytes());
    c.add_bytes(dst.as_bytes());
    c.add_u32(upper_layer_len);
    c.add_u16(u16::from(proto.0));
    c
}

/// What the tests of several formats share: the documentation addresses of the captures and
/// hex decoding of the bytes they quote.
#[cfg(test)]
pub(crate) mod test_data {
    use crate::addr::{Ipv4Addr, Ipv6Addr};
    use alloc::vec::Vec;

    /// Host A of the captures.
    pub(crate) const V4_A: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
    /// Host B of the captures.
    pub(crate) const V4_B: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 2]);
    /// Host A of the captures.
    pub(crate) const V6_A: Ipv6Addr =
        Ipv6Addr::new([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    /// Host B of the captures.
    pub(crate) const V6_B: Ipv6Addr =
        Ipv6Addr::new([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

    /// The bytes a string of hex digit pairs spells; whitespace is skipped.
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        s.chunks(2).map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
    }
}
