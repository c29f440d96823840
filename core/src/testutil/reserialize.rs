//! The byte-for-byte oracle: parse a whole Ethernet frame down to the transport header, write
//! every layer again from the builder its parsed packet gives back, and return the bytes.
//!
//! A layer's padding or trailing bytes (past an IPv4 Total Length, an IPv6 Payload Length, a
//! UDP Length or a 28-byte ARP packet) are not part of what its builder writes; they are
//! appended again as they were, so for every frame that parses the result must equal the
//! input. Fragments are taken apart only to the IP layer: their transport header (if any)
//! belongs to the reassembled datagram.

use alloc::vec::Vec;

use crate::addr::IpAddress;
use crate::buf::{PacketBuilder, ParsablePacket, Serializer};
use crate::wire::arp::ArpPacket;
use crate::wire::ethernet::EthernetFrame;
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
        transport(ip.proto(), ip.src_ip(), ip.dst_ip(), ip.body(), layers)?
    };
    Ok(with_trailer(wrap(&body, ip.builder()), bytes))
}

fn ipv6(bytes: &[u8], layers: &mut Vec<Layer>) -> Result<Vec<u8>, ParseError> {
    let ip = Ipv6Packet::parse_bytes(bytes, ())?;
    layers.push(Layer::Ipv6);
    let whole_datagram = ip.fragment_header().is_none_or(|f| f.offset.bytes() == 0 && !f.more_fragments);
    let body = if whole_datagram {
        transport(ip.proto(), ip.src_ip(), ip.dst_ip(), ip.body(), layers)?
    } else {
        ip.body().to_vec()
    };
    Ok(with_trailer(wrap(&body, ip.builder()), bytes))
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
            wrap(tcp.body(), tcp.builder())
        }
        _ => bytes.to_vec(),
    })
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
    fn padding_is_reproduced_after_the_packet() {
        let frame = vectors::frame(vectors::ICMPV4_PING, 1);
        let mut padded = frame.to_vec();
        padded.resize(60, 0);
        let again = reserialize_frame(&padded).unwrap();
        assert_eq!(again.bytes, padded);
        assert_eq!(again.layers, [Layer::Ethernet, Layer::Arp]);
    }
}
