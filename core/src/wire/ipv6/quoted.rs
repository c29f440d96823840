//! The IPv6 packet an ICMPv6 error quotes (RFC 4443 §2.4 (c)): as much of the invoking
//! packet as fits, so usually truncated, and read without the checks a received packet
//! gets: its Payload Length describes the original, not the quote.

use zerocopy::Ref;

use super::{ext, ExtHeaderKind, FixedHeader, FIXED_HEADER_LEN, MAX_EXT_HEADERS};
use crate::addr::Ipv6Addr;
use crate::wire::{IpProto, Layer, ParseError};

/// A quoted IPv6 packet: the fixed header, and the upper layer if the extension headers
/// that fit in the quote lead to it.
#[derive(Debug)]
pub struct QuotedIpv6Header<'a> {
    fixed: Ref<&'a [u8], FixedHeader>,
    /// The upper-layer protocol and the bytes of it the quote holds, if the chain could be
    /// walked to it.
    upper_layer: Option<(IpProto, &'a [u8])>,
    non_initial_fragment: bool,
}

impl<'a> QuotedIpv6Header<'a> {
    /// Reads the quoted packet at the start of `bytes`; it must hold the whole fixed header.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let (fixed, _) =
            Ref::<_, FixedHeader>::from_prefix(bytes).map_err(|_| ParseError::truncated(Layer::Ipv6))?;
        fixed.check_version()?;
        let mut next = IpProto(fixed.next_header);
        let mut offset = FIXED_HEADER_LEN;
        let mut non_initial_fragment = false;
        let mut upper_layer = None;
        // At most as many extension headers as a received packet may carry; a chain cut off
        // by the quote's end leaves the upper layer unknown.
        for _ in 0..=MAX_EXT_HEADERS {
            let rest = bytes.get(offset..).unwrap_or_default();
            let Some(kind) = ExtHeaderKind::from_proto(next) else {
                upper_layer = Some((next, rest));
                break;
            };
            if kind == ExtHeaderKind::Fragment {
                let Some(&[high, low]) = rest.get(2..4) else { break };
                non_initial_fragment |= u16::from_be_bytes([high, low]) >> 3 != 0;
            }
            let (Some(len), Some(&following)) = (ext::header_len(kind, rest), rest.first()) else { break };
            next = IpProto(following);
            offset += len;
        }
        Ok(Self { fixed, upper_layer, non_initial_fragment })
    }

    /// Source address.
    pub fn src_ip(&self) -> Ipv6Addr {
        Ipv6Addr::new(self.fixed.src)
    }

    /// Destination address.
    pub fn dst_ip(&self) -> Ipv6Addr {
        Ipv6Addr::new(self.fixed.dst)
    }

    /// Hop Limit.
    pub fn hop_limit(&self) -> u8 {
        self.fixed.hop_limit
    }

    /// The original packet's length, fixed header included, from its Payload Length.
    pub fn total_len(&self) -> u32 {
        FIXED_HEADER_LEN as u32 + u32::from(self.fixed.payload_len.get())
    }

    /// The upper-layer protocol and the bytes of it the quote holds, if the extension
    /// header chain could be walked to it within the quote.
    pub fn upper_layer(&self) -> Option<(IpProto, &'a [u8])> {
        self.upper_layer
    }

    /// A Fragment header with a non-zero offset was seen: the quote is of a later fragment.
    pub fn is_non_initial_fragment(&self) -> bool {
        self.non_initial_fragment
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::buf::Serializer;
    use crate::wire::ipv4::FragmentOffset;
    use crate::wire::ipv6::{FragmentHeader, Ipv6Builder};
    use crate::wire::ParseErrorKind;

    const SRC: Ipv6Addr = Ipv6Addr::new([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const DST: Ipv6Addr = Ipv6Addr::new([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

    fn packet(fragment_offset: Option<usize>) -> Vec<u8> {
        let fragment = fragment_offset.map(|bytes| FragmentHeader {
            offset: FragmentOffset::from_bytes(bytes).unwrap(),
            more_fragments: true,
            id: 7,
        });
        (&[0xabu8; 100][..])
            .encapsulate(Ipv6Builder { fragment, ..Ipv6Builder::new(SRC, DST, 9, IpProto::UDP) })
            .serialize_vec()
            .unwrap()
            .into_inner()
    }

    #[test]
    fn rfc4443_2_4_c_a_truncated_quote_yields_addresses_and_upper_layer() {
        let whole = packet(None);
        let quoted = QuotedIpv6Header::parse(&whole[..48]).unwrap();
        assert_eq!((quoted.src_ip(), quoted.dst_ip(), quoted.hop_limit()), (SRC, DST, 9));
        assert_eq!(quoted.total_len(), 140);
        assert_eq!(quoted.upper_layer(), Some((IpProto::UDP, &[0xab; 8][..])));
        assert!(!quoted.is_non_initial_fragment());
    }

    #[test]
    fn rfc8200_4_5_fragment_headers_are_walked_and_later_fragments_recognised() {
        let first = packet(Some(0));
        let quoted = QuotedIpv6Header::parse(&first).unwrap();
        assert_eq!(quoted.upper_layer().map(|(p, _)| p), Some(IpProto::UDP));
        assert!(!quoted.is_non_initial_fragment());
        let later = packet(Some(1448));
        assert!(QuotedIpv6Header::parse(&later).unwrap().is_non_initial_fragment());
        // Cut inside the Fragment header: the upper layer is unknown.
        assert_eq!(QuotedIpv6Header::parse(&later[..42]).unwrap().upper_layer(), None);
    }

    #[test]
    fn short_or_foreign_quotes_are_refused() {
        let whole = packet(None);
        assert_eq!(QuotedIpv6Header::parse(&whole[..39]).unwrap_err().kind, ParseErrorKind::Truncated);
        let mut v4 = whole;
        v4[0] = 0x45;
        assert_eq!(QuotedIpv6Header::parse(&v4).unwrap_err().kind, ParseErrorKind::Field("version"));
    }
}
