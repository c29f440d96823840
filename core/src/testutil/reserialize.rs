//! The byte-for-byte oracle: parse a whole Ethernet frame down to the transport header, write
//! every layer again from the builder its parsed packet gives back, and return the bytes.
//!
//! A layer's padding or trailing bytes (past an IPv4 Total Length, an IPv6 Payload Length, a
//! UDP Length or a 28-byte ARP packet) are not part of what its builder writes; they are
//! appended again as they were, so for every frame that parses the result must equal the
//! input. Fragments are taken apart only to the IP layer: their transport header (if any)
//! belongs to the reassembled datagram.
//!
//! A checksum that sums to zero has two one's-complement forms, 0x0000 and 0xffff, and a
//! receiver accepts both (RFC 1624 §3). Builders write the computed form, so where a packet
//! arrived with the other one the oracle keeps the received form for that field. UDP is the
//! exception: there 0x0000 means "no checksum" and 0xffff is the only form of a zero sum
//! (RFC 768), which its builder writes.

use alloc::vec::Vec;

use crate::addr::IpAddress;
use crate::buf::{PacketBuilder, ParsablePacket, Serializer};
use crate::wire::arp::ArpPacket;
use crate::wire::ethernet::EthernetFrame;
use crate::wire::icmp::{Icmpv4Packet, Icmpv6Packet, Icmpv6PseudoHeader};
use crate::wire::igmp::IgmpPacket;
use crate::wire::ipv4::Ipv4Packet;
use crate::wire::ipv6::Ipv6Packet;
use crate::wire::tcp::TcpSegment;
use crate::wire::udp::UdpPacket;
use crate::wire::{EtherType, IpProto, Layer, ParseError};

/// A frame written again, and the layers it was taken apart into, outermost first.
#[derive(Debug)]
pub struct Reserialized {
    /// The frame as the builders wrote it.
    pub bytes: Vec<u8>,
    /// The layers that were parsed and rebuilt.
    pub layers: Vec<Layer>,
}

/// Parses `frame` through every layer it carries and writes it again.
pub fn reserialize_frame(frame: &[u8]) -> Result<Reserialized, ParseError> {
    reserialized(|layers| ethernet(frame, layers))
}

/// Like [`reserialize_frame`] for an ARP packet.
pub fn reserialize_arp(bytes: &[u8]) -> Result<Reserialized, ParseError> {
    reserialized(|layers| arp(bytes, layers))
}

/// Like [`reserialize_frame`] for an IPv4 packet and what it carries.
pub fn reserialize_ipv4(bytes: &[u8]) -> Result<Reserialized, ParseError> {
    reserialized(|layers| ipv4(bytes, layers))
}

/// Like [`reserialize_frame`] for an IPv6 packet and what it carries.
pub fn reserialize_ipv6(bytes: &[u8]) -> Result<Reserialized, ParseError> {
    reserialized(|layers| ipv6(bytes, layers))
}

/// Like [`reserialize_frame`] for a transport message (`proto`) between `src` and `dst`.
pub fn reserialize_transport<A: IpAddress>(
    proto: IpProto,
    src: A,
    dst: A,
    bytes: &[u8],
) -> Result<Reserialized, ParseError> {
    reserialized(|layers| transport(proto, src, dst, bytes, layers))
}

fn reserialized(
    f: impl FnOnce(&mut Vec<Layer>) -> Result<Vec<u8>, ParseError>,
) -> Result<Reserialized, ParseError> {
    let mut layers = Vec::new();
    let bytes = f(&mut layers)?;
    Ok(Reserialized { bytes, layers })
}

fn ethernet(frame: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let eth = EthernetFrame::parse_bytes(frame, ())?;
    layers.push(Layer::Ethernet);
    let payload = match eth.ethertype() {
        EtherType::ARP => arp(eth.body(), layers)?,
        EtherType::IPV4 => ipv4(eth.body(), layers)?,
        EtherType::IPV6 => ipv6(eth.body(), layers)?,
        _ => eth.body().to_vec(),
    };
    Ok(wrap(&payload, eth.builder()))
}

fn arp(bytes: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let arp = ArpPacket::parse_bytes(bytes, ())?;
    layers.push(Layer::Arp);
    Ok(with_trailer(wrap(&[], arp.builder()), bytes))
}

fn ipv4(bytes: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let ip = Ipv4Packet::parse_bytes(bytes, ())?;
    layers.push(Layer::Ipv4);
    let body = if ip.is_fragment() {
        ip.body().to_vec()
    } else {
        match ip.proto() {
            IpProto::ICMP => icmpv4(ip.body(), layers)?,
            IpProto::IGMP => igmp(ip.body(), layers)?,
            proto => transport(proto, ip.src_ip(), ip.dst_ip(), ip.body(), layers)?,
        }
    };
    Ok(with_trailer(keep_zero_form(wrap(&body, ip.builder()), bytes, IPV4_CHECKSUM_AT), bytes))
}

fn ipv6(bytes: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let ip = Ipv6Packet::parse_bytes(bytes, ())?;
    layers.push(Layer::Ipv6);
    let whole_datagram = ip.fragment_header().is_none_or(|f| f.offset.bytes() == 0 && !f.more_fragments);
    let body = if whole_datagram {
        match ip.proto() {
            IpProto::ICMPV6 => {
                icmpv6(Icmpv6PseudoHeader { src: ip.src_ip(), dst: ip.dst_ip() }, ip.body(), layers)?
            }
            proto => transport(proto, ip.src_ip(), ip.dst_ip(), ip.body(), layers)?,
        }
    } else {
        ip.body().to_vec()
    };
    Ok(with_trailer(wrap(&body, ip.builder()), bytes))
}

/// Rebuilds an ICMPv4 message; its typed decoding must succeed too.
fn icmpv4(bytes: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let icmp = Icmpv4Packet::parse_bytes(bytes, ())?;
    icmp.message()?;
    layers.push(Layer::Icmpv4);
    Ok(keep_zero_form(wrap(icmp.body(), icmp.builder()), bytes, ICMP_CHECKSUM_AT))
}

/// Rebuilds an ICMPv6 message (NDP and MLD included); its typed decoding must succeed too.
fn icmpv6(pseudo: Icmpv6PseudoHeader, bytes: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let icmp = Icmpv6Packet::parse_bytes(bytes, pseudo)?;
    icmp.message()?;
    layers.push(Layer::Icmpv6);
    Ok(keep_zero_form(wrap(icmp.body(), icmp.builder()), bytes, ICMP_CHECKSUM_AT))
}

/// Rebuilds an IGMP message; its typed decoding must succeed too.
fn igmp(bytes: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let igmp = IgmpPacket::parse_bytes(bytes, ())?;
    igmp.message()?;
    layers.push(Layer::Igmp);
    Ok(keep_zero_form(wrap(igmp.body(), igmp.builder()), bytes, ICMP_CHECKSUM_AT))
}

/// Like [`reserialize_frame`] for an ICMPv4 message.
pub fn reserialize_icmpv4(bytes: &[u8]) -> Result<Reserialized, ParseError> {
    reserialized(|layers| icmpv4(bytes, layers))
}

/// Like [`reserialize_frame`] for an ICMPv6 message between the pseudo-header's addresses.
pub fn reserialize_icmpv6(pseudo: Icmpv6PseudoHeader, bytes: &[u8]) -> Result<Reserialized, ParseError> {
    reserialized(|layers| icmpv6(pseudo, bytes, layers))
}

/// Like [`reserialize_frame`] for an IGMP message.
pub fn reserialize_igmp(bytes: &[u8]) -> Result<Reserialized, ParseError> {
    reserialized(|layers| igmp(bytes, layers))
}

/// Rebuilds the transport layer of an unfragmented datagram; protocols without a parser
/// here are carried as opaque bytes.
fn transport<A: IpAddress>(
    proto: IpProto,
    src: A,
    dst: A,
    bytes: &[u8],
    layers: &mut Vec<Layer>,
) -> Result<Vec<u8>, ParseError> {
    Ok(match proto {
        IpProto::UDP => {
            let udp = UdpPacket::parse_bytes(bytes, (src, dst))?;
            layers.push(Layer::Udp);
            with_trailer(wrap(udp.body(), udp.builder()), bytes)
        }
        IpProto::TCP => {
            let tcp = TcpSegment::parse_bytes(bytes, (src, dst))?;
            layers.push(Layer::Tcp);
            keep_zero_form(wrap(tcp.body(), tcp.builder()), bytes, TCP_CHECKSUM_AT)
        }
        _ => bytes.to_vec(),
    })
}

/// Where the IPv4 header checksum lies.
const IPV4_CHECKSUM_AT: usize = 10;
/// Where ICMPv4, ICMPv6 and IGMP carry their checksum.
const ICMP_CHECKSUM_AT: usize = 2;
/// Where TCP carries its checksum.
const TCP_CHECKSUM_AT: usize = 16;

/// Keeps the received form of a zero checksum at `at` (see the module documentation).
fn keep_zero_form(mut rebuilt: Vec<u8>, original: &[u8], at: usize) -> Vec<u8> {
    let field = |b: &[u8]| b.get(at..at + 2).map(|f| [f[0], f[1]]);
    if let (Some(ours), Some(theirs)) = (field(&rebuilt), field(original)) {
        if matches!((ours, theirs), ([0, 0], [0xff, 0xff]) | ([0xff, 0xff], [0, 0])) {
            rebuilt[at..at + 2].copy_from_slice(&theirs);
        }
    }
    rebuilt
}

/// `body` wrapped in one layer.
fn wrap(body: &[u8], builder: impl PacketBuilder) -> Vec<u8> {
    match body.encapsulate(builder).serialize_vec() {
        Ok(buf) => {
            let range = buf.body_range();
            let mut bytes = buf.into_inner();
            bytes.truncate(range.end);
            bytes.drain(..range.start);
            bytes
        }
        // A builder recovered from a parsed packet always fits its own body; if not, the
        // oracle reports a mismatch rather than hiding it.
        Err(_) => Vec::new(),
    }
}

/// Appends the bytes of `original` past what `rebuilt` covers: the trailing bytes the layer's
/// length field excluded.
fn with_trailer(mut rebuilt: Vec<u8>, original: &[u8]) -> Vec<u8> {
    if let Some(trailer) = original.get(rebuilt.len()..) {
        rebuilt.extend_from_slice(trailer);
    }
    rebuilt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::vectors;

    #[test]
    fn rfc1624_3_either_form_of_a_zero_checksum_is_reproduced() {
        // An ICMP message whose words sum to 0xffff: the checksum field may be 0 or 0xffff.
        for form in [[0u8, 0], [0xff, 0xff]] {
            let mut message = [0xffu8; 8];
            message[2..4].copy_from_slice(&form);
            assert_eq!(reserialize_icmpv4(&message).unwrap().bytes, message);
        }
    }

    #[test]
    fn padding_is_reproduced_after_the_packet() {
        let frame = vectors::frame(vectors::ICMPV4_PING, 1);
        let mut padded = frame.to_vec();
        padded.resize(60, 0);
        let again = reserialize_frame(&padded).unwrap();
        assert_eq!(again.bytes, padded);
        assert_eq!(again.layers, [Layer::Ethernet, Layer::Arp]);
    }
}
