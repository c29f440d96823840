//! What the fuzz targets share: decoding a fuzz input into pseudo-header addresses plus a
//! message, and fixing up checksums so mutated inputs get past the checksum check and into
//! the header and option parsing behind it (one input bit leaves the checksum as it is, so
//! the failure path is fuzzed too).

use netstack_core::addr::{IpAddress, Ipv4Addr, Ipv6Addr};
use netstack_core::testutil::reserialize::{reserialize_icmpv6, reserialize_transport, Reserialized};
use netstack_core::wire::checksum::checksum;
use netstack_core::wire::icmp::Icmpv6PseudoHeader;
use netstack_core::wire::{pseudo_header_checksum, IpProto, ParseError};

/// Input bit 0 of the control byte: IPv6 addresses instead of IPv4.
const USE_IPV6: u8 = 1;
/// Input bit 1 of the control byte: keep the checksum the input carries.
const KEEP_CHECKSUM: u8 = 2;
/// Where ICMP and IGMP carry their checksum.
const ICMP_CHECKSUM_OFFSET: usize = 2;

/// Writes the RFC 1071 checksum of `message` (with the field zeroed) at `offset`, over the
/// pseudo-header of `src` and `dst` when given.
fn fix_checksum<A: IpAddress>(message: &mut [u8], offset: usize, pseudo: Option<(A, A, IpProto)>) {
    let Some(field) = message.get_mut(offset..offset + 2) else { return };
    field.copy_from_slice(&[0, 0]);
    let value = match pseudo {
        Some((src, dst, proto)) => {
            let Ok(len) = u32::try_from(message.len()) else { return };
            let mut sum = pseudo_header_checksum(src, dst, proto, len);
            sum.add_bytes(message);
            sum.checksum()
        }
        None => checksum(message),
    };
    message[offset..offset + 2].copy_from_slice(&value.to_be_bytes());
}

/// Fixes the IPv4 header checksum of `packet` (over the header its IHL claims).
pub fn fix_ipv4_header_checksum(packet: &mut [u8]) {
    let Some(&first) = packet.first() else { return };
    let header_len = usize::from(first & 0x0f) * 4;
    if let Some(header) = packet.get_mut(..header_len) {
        fix_checksum::<Ipv4Addr>(header, 10, None);
    }
}

/// Splits `data` into a control byte, two addresses and a message; fixes the message's
/// checksum at `checksum_offset` over the pseudo-header unless the control byte says not to;
/// and runs the re-serialization oracle for `proto` over it. Returns the message and what
/// the oracle made of it.
pub fn transport_case(
    data: &[u8],
    proto: IpProto,
    checksum_offset: usize,
) -> Option<(Vec<u8>, Result<Reserialized, ParseError>)> {
    let (&control, rest) = data.split_first()?;
    if control & USE_IPV6 != 0 {
        addressed_case(control, rest, Ipv6Addr::new, proto, checksum_offset)
    } else {
        addressed_case(control, rest, Ipv4Addr::new, proto, checksum_offset)
    }
}

/// [`transport_case`] once the IP version is known: `N`-byte addresses made by `addr`.
fn addressed_case<A: IpAddress, const N: usize>(
    control: u8,
    rest: &[u8],
    addr: fn([u8; N]) -> A,
    proto: IpProto,
    checksum_offset: usize,
) -> Option<(Vec<u8>, Result<Reserialized, ParseError>)> {
    let (src, rest) = rest.split_first_chunk::<N>()?;
    let (dst, message) = rest.split_first_chunk::<N>()?;
    let (src, dst) = (addr(*src), addr(*dst));
    let mut message = message.to_vec();
    if control & KEEP_CHECKSUM == 0 {
        fix_checksum(&mut message, checksum_offset, Some((src, dst, proto)));
    }
    let result = reserialize_transport(proto, src, dst, &message);
    Some((message, result))
}

/// Splits `data` into a control byte, two IPv6 addresses and an ICMPv6 message; fixes the
/// message's checksum over the pseudo-header unless the control byte says not to; and runs
/// the re-serialization oracle (typed NDP/MLD decoding included) over it.
pub fn icmpv6_case(data: &[u8]) -> Option<(Vec<u8>, Result<Reserialized, ParseError>)> {
    let (&control, rest) = data.split_first()?;
    let (src, rest) = rest.split_first_chunk::<16>()?;
    let (dst, message) = rest.split_first_chunk::<16>()?;
    let pseudo = Icmpv6PseudoHeader { src: Ipv6Addr::new(*src), dst: Ipv6Addr::new(*dst) };
    let mut message = message.to_vec();
    if control & KEEP_CHECKSUM == 0 {
        fix_checksum(&mut message, ICMP_CHECKSUM_OFFSET, Some((pseudo.src, pseudo.dst, IpProto::ICMPV6)));
    }
    let result = reserialize_icmpv6(pseudo, &message);
    Some((message, result))
}

/// Splits `data` into a control byte and a message whose checksum covers only itself (ICMPv4,
/// IGMP); fixes the checksum unless the control byte's low bit says not to; and runs
/// `oracle` over it. Returns the message and what the oracle made of it.
pub fn plain_checksum_case(
    data: &[u8],
    oracle: impl FnOnce(&[u8]) -> Result<Reserialized, ParseError>,
) -> Option<(Vec<u8>, Result<Reserialized, ParseError>)> {
    let (&control, message) = data.split_first()?;
    let mut message = message.to_vec();
    if control & 1 == 0 {
        fix_checksum::<Ipv4Addr>(&mut message, ICMP_CHECKSUM_OFFSET, None);
    }
    let result = oracle(&message);
    Some((message, result))
}
