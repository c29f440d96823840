//! What ICMPv4, ICMPv6 and IGMP messages share: the 8-byte header every one of them starts
//! with (RFC 792 p. 2, RFC 4443 §2.1, RFC 2236 §2, RFC 3376 §4) and its Internet checksum,
//! the echo messages (RFC 792 p. 14, RFC 4443 §4.1/§4.2), and lists of addresses read lazily
//! from the wire (MLDv2 and IGMPv3 sources, RDNSS servers).

use core::fmt;
use core::slice;

use zerocopy::network_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Ref, Unaligned};

use super::{IcmpIpExt, IcmpMessageFields};
use crate::addr::{IpAddress, Ipv4Addr, Ipv6Addr};
use crate::buf::{header_mut, PacketBytes, ParseView};
use crate::wire::checksum::Checksum;
use crate::wire::{Layer, ParseError, ParseErrorKind};

/// Defines a public enum for an 8-bit protocol number (a type or code field): one variant per
/// value this stack names, plus `Other(u8)` for the rest, and the conversions to and from
/// `u8`. Parsing never fails on an unknown value; the caller decides what it means.
macro_rules! u8_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $value:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
            /// A value without a variant of its own. Parsing produces it only for such values.
            Other(u8),
        }

        impl From<u8> for $name {
            fn from(value: u8) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    other => Self::Other(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 {
                match value {
                    $($name::$variant => $value,)*
                    $name::Other(other) => other,
                }
            }
        }
    };
}
pub(in crate::wire) use u8_enum;

/// Length of the header every ICMP and IGMP message starts with: type, code, checksum and the
/// 4-byte rest-of-header word.
pub const HEADER_LEN: usize = 8;

/// The 8-byte message header, as on the wire.
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(in crate::wire) struct MessageHeader {
    msg_type: u8,
    code: u8,
    checksum: U16,
    rest_of_header: [u8; 4],
}

impl MessageHeader {
    /// The type, code and rest-of-header word.
    pub(in crate::wire) fn raw(&self) -> RawHeader {
        RawHeader { msg_type: self.msg_type, code: self.code, rest_of_header: self.rest_of_header }
    }

    /// The checksum field, as a host value.
    pub(in crate::wire) fn checksum(&self) -> u16 {
        self.checksum.get()
    }
}

/// The 8-byte header of an ICMP or IGMP message as raw fields (the checksum aside, which is
/// always computed): type, code and the 4-byte rest-of-header word. Everything after it is the
/// body.
///
/// As a message it writes exactly these 8 bytes, so a packet's `builder()` together with the
/// body left in the buffer re-serializes any message byte for byte, whatever its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawHeader {
    /// The Type field.
    pub msg_type: u8,
    /// The Code field (for IGMP: the Max Resp Time/Code field, RFC 2236 §2.2).
    pub code: u8,
    /// The four bytes after the checksum, whose meaning depends on the type.
    pub rest_of_header: [u8; 4],
}

impl RawHeader {
    /// The header of a message of type `msg_type` and code `code` (typed or raw values).
    pub fn new(msg_type: impl Into<u8>, code: impl Into<u8>, rest_of_header: [u8; 4]) -> Self {
        Self { msg_type: msg_type.into(), code: code.into(), rest_of_header }
    }
}

impl<I: IcmpIpExt> IcmpMessageFields<I> for RawHeader {
    fn header(&self) -> RawHeader {
        *self
    }
}

/// Checks a message's length and checksum, then takes its header from the front of `view`
/// and hands out the rest as the body. `sum` already holds whatever precedes the message in
/// the checksum (the ICMPv6 pseudo-header), or nothing.
pub(in crate::wire) fn parse_message<B: PacketBytes>(
    view: &mut ParseView<B>,
    layer: Layer,
    mut sum: Checksum,
) -> Result<(Ref<B, MessageHeader>, B), ParseError> {
    if view.len() < HEADER_LEN {
        return Err(ParseError::truncated(layer));
    }
    // RFC 1071 §1: summing the data together with its checksum field yields all ones
    // (`checksum()` then returns 0) exactly when the checksum is right.
    sum.add_bytes(view.as_bytes());
    if sum.checksum() != 0 {
        return Err(ParseError::new(layer, ParseErrorKind::Checksum));
    }
    let header = view.take_obj_front::<MessageHeader>().ok_or(ParseError::truncated(layer))?;
    Ok((header, view.take_rest()))
}

/// Writes a message header: `raw` into the first 8 bytes of `header`, `write_fields` into
/// the rest of it, then the checksum over `sum`, `header` and `body`.
pub(in crate::wire) fn write_message(
    header: &mut [u8],
    body: &[u8],
    mut sum: Checksum,
    raw: RawHeader,
    write_fields: impl FnOnce(&mut [u8]),
) {
    header.fill(0);
    let Some((fixed, fields)) = header.split_at_mut_checked(HEADER_LEN) else {
        return;
    };
    let wire = MessageHeader {
        msg_type: raw.msg_type,
        code: raw.code,
        checksum: U16::ZERO,
        rest_of_header: raw.rest_of_header,
    };
    *header_mut(fixed) = wire;
    write_fields(fields);
    sum.add_bytes(header);
    sum.add_bytes(body);
    let checksum = sum.checksum().to_be_bytes();
    if let Some(field) = header.get_mut(2..4) {
        field.copy_from_slice(&checksum);
    }
}

/// Copies `value`'s wire image to the front of `out` (a builder's own, correctly sized,
/// buffer; a short one is left alone rather than panicking).
pub(in crate::wire) fn put<T: IntoBytes + Immutable>(out: &mut [u8], value: &T) {
    let bytes = value.as_bytes();
    if let Some(dst) = out.get_mut(..bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// Copies `bytes` to the front of `out`, as much as fits.
pub(in crate::wire) fn put_bytes(out: &mut [u8], bytes: &[u8]) {
    let n = bytes.len().min(out.len());
    if let (Some(dst), Some(src)) = (out.get_mut(..n), bytes.get(..n)) {
        dst.copy_from_slice(src);
    }
}

/// The identifier and sequence number of an echo message (RFC 792 p. 14, RFC 4443 §4.1), which
/// fill the rest-of-header word.
fn echo_rest_of_header(id: u16, seq: u16) -> [u8; 4] {
    let [i0, i1] = id.to_be_bytes();
    let [s0, s1] = seq.to_be_bytes();
    [i0, i1, s0, s1]
}

/// An Echo Request (ICMPv4 type 8, RFC 792 p. 14; ICMPv6 type 128, RFC 4443 §4.1). Its data
/// is the message body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EchoRequest {
    /// Identifier, to match replies to requests.
    pub id: u16,
    /// Sequence number, to match replies to requests.
    pub seq: u16,
}

/// An Echo Reply (ICMPv4 type 0, RFC 792 p. 14; ICMPv6 type 129, RFC 4443 §4.2). Its data is
/// the message body, which RFC 1122 §3.2.2.6 and RFC 4443 §4.2 require to be the request's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EchoReply {
    /// Identifier, copied from the request.
    pub id: u16,
    /// Sequence number, copied from the request.
    pub seq: u16,
}

impl EchoRequest {
    /// The reply to this request (RFC 792 p. 14, RFC 4443 §4.2: same identifier and sequence
    /// number; the caller sends the request's data as the reply's body).
    pub fn reply(&self) -> EchoReply {
        EchoReply { id: self.id, seq: self.seq }
    }

    pub(super) fn from_rest_of_header([i0, i1, s0, s1]: [u8; 4]) -> Self {
        Self { id: u16::from_be_bytes([i0, i1]), seq: u16::from_be_bytes([s0, s1]) }
    }
}

impl EchoReply {
    pub(super) fn from_rest_of_header([i0, i1, s0, s1]: [u8; 4]) -> Self {
        Self { id: u16::from_be_bytes([i0, i1]), seq: u16::from_be_bytes([s0, s1]) }
    }
}

impl<I: IcmpIpExt> IcmpMessageFields<I> for EchoRequest {
    fn header(&self) -> RawHeader {
        RawHeader::new(I::ECHO_REQUEST, 0, echo_rest_of_header(self.id, self.seq))
    }
}

impl<I: IcmpIpExt> IcmpMessageFields<I> for EchoReply {
    fn header(&self) -> RawHeader {
        RawHeader::new(I::ECHO_REPLY, 0, echo_rest_of_header(self.id, self.seq))
    }
}

/// An IP address as it appears in packet bodies: a fixed number of bytes in network order.
/// Implemented for [`Ipv4Addr`] and [`Ipv6Addr`].
pub trait WireAddress: IpAddress {
    /// Bytes on the wire (4 or 16).
    const LEN: usize;

    /// The address in `bytes`, which must be exactly [`LEN`](Self::LEN) long.
    fn from_wire(bytes: &[u8]) -> Option<Self>;
}

impl WireAddress for Ipv4Addr {
    const LEN: usize = 4;

    fn from_wire(bytes: &[u8]) -> Option<Self> {
        <[u8; 4]>::try_from(bytes).ok().map(Ipv4Addr::new)
    }
}

impl WireAddress for Ipv6Addr {
    const LEN: usize = 16;

    fn from_wire(bytes: &[u8]) -> Option<Self> {
        <[u8; 16]>::try_from(bytes).ok().map(Ipv6Addr::new)
    }
}

/// A list of addresses: either read lazily from a received packet's bytes, or borrowed from
/// the caller to be written into one. Two lists are equal when they hold the same addresses
/// in the same order, wherever they come from.
#[derive(Clone, Copy)]
pub struct AddrList<'a, A> {
    repr: AddrListRepr<'a, A>,
}

#[derive(Clone, Copy)]
enum AddrListRepr<'a, A> {
    /// Consecutive addresses in network order, a whole number of them.
    Wire(&'a [u8]),
    Addrs(&'a [A]),
}

impl<'a, A: WireAddress> AddrList<'a, A> {
    /// A list of `addrs`, to build a message with.
    pub const fn new(addrs: &'a [A]) -> Self {
        Self { repr: AddrListRepr::Addrs(addrs) }
    }

    /// The addresses in `bytes`, which the parser has checked hold a whole number of them.
    pub(in crate::wire) fn from_wire(bytes: &'a [u8]) -> Self {
        Self { repr: AddrListRepr::Wire(bytes) }
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        match self.repr {
            AddrListRepr::Wire(bytes) => bytes.len() / A::LEN,
            AddrListRepr::Addrs(addrs) => addrs.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses, in order.
    pub fn iter(&self) -> AddrListIter<'a, A> {
        AddrListIter {
            repr: match self.repr {
                AddrListRepr::Wire(bytes) => AddrIterRepr::Wire(bytes.chunks_exact(A::LEN)),
                AddrListRepr::Addrs(addrs) => AddrIterRepr::Addrs(addrs.iter()),
            },
        }
    }

    /// Writes the first `count` addresses into `out` (`count * A::LEN` bytes).
    pub(in crate::wire) fn write(&self, out: &mut [u8], count: usize) {
        match self.repr {
            AddrListRepr::Wire(bytes) => put_bytes(out, bytes.get(..count * A::LEN).unwrap_or(bytes)),
            AddrListRepr::Addrs(addrs) => {
                for (addr, dst) in addrs.iter().take(count).zip(out.chunks_exact_mut(A::LEN)) {
                    put_bytes(dst, addr.as_bytes());
                }
            }
        }
    }
}

impl<'a, A: WireAddress> IntoIterator for AddrList<'a, A> {
    type Item = A;
    type IntoIter = AddrListIter<'a, A>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<A: WireAddress> PartialEq for AddrList<'_, A> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<A: WireAddress> Eq for AddrList<'_, A> {}

impl<A: WireAddress> fmt::Debug for AddrList<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over the addresses of an [`AddrList`].
#[derive(Clone, Debug)]
pub struct AddrListIter<'a, A> {
    repr: AddrIterRepr<'a, A>,
}

#[derive(Clone, Debug)]
enum AddrIterRepr<'a, A> {
    Wire(slice::ChunksExact<'a, u8>),
    Addrs(slice::Iter<'a, A>),
}

impl<A: WireAddress> Iterator for AddrListIter<'_, A> {
    type Item = A;

    fn next(&mut self) -> Option<A> {
        match &mut self.repr {
            AddrIterRepr::Wire(chunks) => chunks.next().and_then(A::from_wire),
            AddrIterRepr::Addrs(addrs) => addrs.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.repr {
            AddrIterRepr::Wire(chunks) => chunks.size_hint(),
            AddrIterRepr::Addrs(addrs) => addrs.size_hint(),
        }
    }
}

impl<A: WireAddress> ExactSizeIterator for AddrListIter<'_, A> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4, Ipv6};
    use crate::wire::checksum::checksum;
    use proptest::prelude::*;

    #[test]
    fn rfc1071_checksum_covers_header_and_body() {
        let mut header = [0u8; HEADER_LEN];
        let raw = RawHeader { msg_type: 8, code: 0, rest_of_header: [0x0d, 0x4d, 0, 1] };
        write_message(&mut header, &[], Checksum::new(), raw, |_| {});
        // Frame 9 of icmpv4_ping.pcap: an echo request without data, checksum 0xeab1.
        assert_eq!(header, [0x08, 0x00, 0xea, 0xb1, 0x0d, 0x4d, 0x00, 0x01]);
        assert_eq!(checksum(&header), 0);
    }

    #[test]
    fn rfc792_echo_fields_are_id_then_sequence() {
        let request = EchoRequest { id: 0x0d4c, seq: 1 };
        let header = <EchoRequest as IcmpMessageFields<Ipv4>>::header(&request);
        assert_eq!(header.rest_of_header, [0x0d, 0x4c, 0, 1]);
        assert_eq!(EchoRequest::from_rest_of_header(header.rest_of_header), request);
        let reply = <EchoReply as IcmpMessageFields<Ipv6>>::header(&request.reply());
        assert_eq!((reply.msg_type, reply.rest_of_header), (129, [0x0d, 0x4c, 0, 1]));
    }

    #[test]
    fn addr_lists_compare_by_content() {
        let addrs = [Ipv4Addr::new([192, 0, 2, 1]), Ipv4Addr::new([198, 51, 100, 7])];
        let wire = [192, 0, 2, 1, 198, 51, 100, 7];
        let from_wire = AddrList::<Ipv4Addr>::from_wire(&wire);
        assert_eq!(from_wire, AddrList::new(&addrs));
        assert_eq!(from_wire.len(), 2);
        assert_eq!(from_wire.iter().len(), 2);
        let mut out = [0u8; 8];
        AddrList::new(&addrs).write(&mut out, 2);
        assert_eq!(out, wire);
        assert_ne!(from_wire, AddrList::new(&addrs[..1]));
    }

    proptest! {
        #[test]
        fn addr_list_write_then_read(addrs in proptest::collection::vec(any::<[u8; 16]>(), 0..8)) {
            let addrs: alloc::vec::Vec<Ipv6Addr> = addrs.into_iter().map(Ipv6Addr::new).collect();
            let mut out = alloc::vec![0u8; addrs.len() * 16];
            AddrList::new(&addrs).write(&mut out, addrs.len());
            prop_assert_eq!(AddrList::from_wire(&out), AddrList::new(&addrs));
        }
    }
}
