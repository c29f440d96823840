//! Neighbor Discovery messages (RFC 4861 §4.1–§4.5): router solicitation and advertisement,
//! neighbor solicitation and advertisement, redirect; and their options (RFC 4861 §4.6):
//! source/target link-layer address, prefix information, redirected header, MTU, plus
//! Recursive DNS Server (RFC 8106 §5.1) and Nonce (RFC 3971 §5.3.2, which Linux's enhanced
//! duplicate address detection of RFC 7527 puts in every DAD solicitation).
//!
//! Options are read lazily from the message: [`NdpOptions`] checks them once when the message
//! is decoded, then iterates them from the borrowed bytes. Receivers MUST skip options they do
//! not recognize (RFC 4861 §4.6), so the iterator leaves them out, but a received message
//! re-serializes with them in place.
//!
//! Validation (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1) is done here, when the message
//! is decoded, for everything this layer sees: ICMP code 0, minimum lengths, option lengths
//! (none zero, none running past the message), multicast targets, and the rules about the
//! IPv6 addresses of the pseudo-header. Two rules are left to others: the IP Hop Limit of
//! 255, which only the IPv6 layer sees and must check before handing the message up, and a
//! Redirect's source being the current first hop for its destination (RFC 4861 §8.1), which
//! needs the routing state.

use core::fmt;

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::v6::{Icmpv6Message, Icmpv6Type};
use super::{put, put_bytes, AddrList, IcmpMessageFields, Icmpv6PseudoHeader, RawHeader, HEADER_LEN};
use crate::addr::{Ipv6, Ipv6Addr, Mac};
use crate::wire::{Layer, ParseError, ParseErrorKind};

/// Option type 1: Source Link-Layer Address (RFC 4861 §4.6.1).
const SOURCE_LINK_LAYER_ADDRESS: u8 = 1;
/// Option type 2: Target Link-Layer Address (RFC 4861 §4.6.1).
const TARGET_LINK_LAYER_ADDRESS: u8 = 2;
/// Option type 3: Prefix Information (RFC 4861 §4.6.2).
const PREFIX_INFORMATION: u8 = 3;
/// Option type 4: Redirected Header (RFC 4861 §4.6.3).
const REDIRECTED_HEADER: u8 = 4;
/// Option type 5: MTU (RFC 4861 §4.6.4).
const MTU: u8 = 5;
/// Option type 14: Nonce (RFC 3971 §5.3.2).
const NONCE: u8 = 14;
/// Option type 25: Recursive DNS Server (RFC 8106 §5.1).
const RECURSIVE_DNS_SERVER: u8 = 25;

/// The option Length field counts units of 8 bytes, type and length included (RFC 4861 §4.6).
const OPTION_UNIT: usize = 8;
/// Type and Length.
const OPTION_HEADER_LEN: usize = 2;
/// The longest option the 8-bit Length field can describe.
const MAX_OPTION_LEN: usize = 255 * OPTION_UNIT;
/// The most content bytes (after Type and Length) an option can carry.
const MAX_OPTION_CONTENT_LEN: usize = MAX_OPTION_LEN - OPTION_HEADER_LEN;
/// Reserved bytes in front of the redirected packet (RFC 4861 §4.6.3).
const REDIRECTED_HEADER_RESERVED_LEN: usize = 6;
/// Length of an IPv6 address.
const ADDR_LEN: usize = 16;
/// Length of an Ethernet MAC.
const MAC_LEN: usize = 6;

/// The content of an MTU option after Type and Length (RFC 4861 §4.6.4), as on the wire.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct MtuWire {
    reserved: U16,
    mtu: U32,
}

/// The content of an RDNSS option after Type and Length and before the addresses
/// (RFC 8106 §5.1), as on the wire.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RdnssWire {
    reserved: U16,
    lifetime: U32,
}

/// Bytes of an RDNSS option's content before the addresses.
const RDNSS_FIXED_LEN: usize = size_of::<RdnssWire>();

/// A link-layer address option's address (RFC 4861 §4.6.1): its format depends on the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkLayerAddress<'a> {
    /// A 6-byte address in a one-unit option: an Ethernet MAC (RFC 2464 §6).
    Ethernet(Mac),
    /// Any other length, kept raw, with the option's padding. A builder pads it to a whole
    /// number of 8-byte units (up to 2038 bytes, the Length field's limit).
    Other(&'a [u8]),
}

/// A Prefix Information option (RFC 4861 §4.6.2). Reserved bits are not kept; a builder
/// writes them as 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrefixInformation {
    /// Number of leading bits of `prefix` that are valid, 0 to 128.
    pub prefix_length: u8,
    /// The L flag: the prefix can be used for on-link determination.
    pub on_link: bool,
    /// The A flag: the prefix can be used for stateless address autoconfiguration
    /// (RFC 4862).
    pub autonomous: bool,
    /// Seconds the prefix is valid for on-link determination; all ones is infinity.
    pub valid_lifetime: u32,
    /// Seconds addresses made from the prefix stay preferred; all ones is infinity.
    pub preferred_lifetime: u32,
    /// The prefix (bits past `prefix_length` are to be ignored by the receiver).
    pub prefix: Ipv6Addr,
}

/// The content of a Prefix Information option after Type and Length, as on the wire.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct PrefixInformationWire {
    prefix_length: u8,
    flags: u8,
    valid_lifetime: U32,
    preferred_lifetime: U32,
    reserved: U32,
    prefix: [u8; 16],
}

/// The L flag of a Prefix Information option.
const ON_LINK_FLAG: u8 = 0x80;
/// The A flag of a Prefix Information option.
const AUTONOMOUS_FLAG: u8 = 0x40;

/// One NDP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NdpOption<'a> {
    /// The sender's link-layer address (type 1, RFC 4861 §4.6.1).
    SourceLinkLayerAddress(LinkLayerAddress<'a>),
    /// The target's link-layer address (type 2, RFC 4861 §4.6.1).
    TargetLinkLayerAddress(LinkLayerAddress<'a>),
    /// An on-link or autoconfiguration prefix (type 3, RFC 4861 §4.6.2).
    PrefixInformation(PrefixInformation),
    /// The start of the packet that triggered a redirect (type 4, RFC 4861 §4.6.3), with the
    /// option's padding. A builder pads it to a whole number of 8-byte units and writes at
    /// most 2032 bytes (the Length field's limit); RFC 4861 §4.6.3 has the sender keep the
    /// Redirect within 1280 bytes anyway.
    RedirectedHeader(&'a [u8]),
    /// The link MTU (type 5, RFC 4861 §4.6.4).
    Mtu(u32),
    /// Recursive DNS servers (type 25, RFC 8106 §5.1).
    RecursiveDnsServer {
        /// Seconds the servers may be used for; all ones is infinity, 0 withdraws them.
        lifetime: u32,
        /// The servers. A builder writes at most 127 (the Length field's limit).
        servers: AddrList<'a, Ipv6Addr>,
    },
    /// A nonce (type 14, RFC 3971 §5.3.2): random bytes that a DAD solicitation carries so
    /// that the node can recognize its own looped-back solicitations (RFC 7527 §4.1). With
    /// Length 1 it is 6 bytes; a builder pads other lengths to whole 8-byte units.
    Nonce(&'a [u8]),
    /// An option of a type this stack does not recognize. [`NdpOptions::iter`] never yields
    /// it, since receivers skip such options (RFC 4861 §4.6); a builder can still send one.
    Unrecognized {
        /// The option type.
        kind: u8,
        /// What follows Type and Length, padding included. A builder pads it to whole
        /// 8-byte units and writes at most 2038 bytes.
        data: &'a [u8],
    },
}

impl<'a> NdpOption<'a> {
    fn kind(&self) -> u8 {
        match self {
            NdpOption::SourceLinkLayerAddress(_) => SOURCE_LINK_LAYER_ADDRESS,
            NdpOption::TargetLinkLayerAddress(_) => TARGET_LINK_LAYER_ADDRESS,
            NdpOption::PrefixInformation(_) => PREFIX_INFORMATION,
            NdpOption::RedirectedHeader(_) => REDIRECTED_HEADER,
            NdpOption::Mtu(_) => MTU,
            NdpOption::RecursiveDnsServer { .. } => RECURSIVE_DNS_SERVER,
            NdpOption::Nonce(_) => NONCE,
            NdpOption::Unrecognized { kind, .. } => *kind,
        }
    }

    /// How many RDNSS addresses a builder writes.
    fn server_count(servers: &AddrList<'_, Ipv6Addr>) -> usize {
        servers.len().min((MAX_OPTION_CONTENT_LEN - RDNSS_FIXED_LEN) / ADDR_LEN)
    }

    /// Bytes after Type and Length, before padding, as a builder writes them.
    fn content_len(&self) -> usize {
        match self {
            NdpOption::SourceLinkLayerAddress(address) | NdpOption::TargetLinkLayerAddress(address) => {
                match address {
                    LinkLayerAddress::Ethernet(_) => MAC_LEN,
                    LinkLayerAddress::Other(bytes) => bytes.len().min(MAX_OPTION_CONTENT_LEN),
                }
            }
            NdpOption::PrefixInformation(_) => size_of::<PrefixInformationWire>(),
            NdpOption::RedirectedHeader(packet) => {
                REDIRECTED_HEADER_RESERVED_LEN
                    + packet.len().min(MAX_OPTION_CONTENT_LEN - REDIRECTED_HEADER_RESERVED_LEN)
            }
            NdpOption::Mtu(_) => size_of::<MtuWire>(),
            NdpOption::RecursiveDnsServer { servers, .. } => {
                RDNSS_FIXED_LEN + Self::server_count(servers) * ADDR_LEN
            }
            NdpOption::Nonce(data) | NdpOption::Unrecognized { data, .. } => {
                data.len().min(MAX_OPTION_CONTENT_LEN)
            }
        }
    }

    /// Length on the wire: type, length, content and padding to a multiple of 8 bytes.
    fn wire_len(&self) -> usize {
        (OPTION_HEADER_LEN + self.content_len()).div_ceil(OPTION_UNIT) * OPTION_UNIT
    }

    /// Writes the option into `out` ([`wire_len`](Self::wire_len) bytes, zeroed).
    fn write(&self, out: &mut [u8]) {
        let header = [self.kind(), (self.wire_len() / OPTION_UNIT) as u8];
        put_bytes(out, &header);
        let Some(content) = out.get_mut(OPTION_HEADER_LEN..) else { return };
        match self {
            NdpOption::SourceLinkLayerAddress(address) | NdpOption::TargetLinkLayerAddress(address) => {
                match address {
                    LinkLayerAddress::Ethernet(mac) => put_bytes(content, &mac.bytes()),
                    LinkLayerAddress::Other(bytes) => put_bytes(content, bytes),
                }
            }
            NdpOption::PrefixInformation(info) => {
                let flags =
                    (u8::from(info.on_link) * ON_LINK_FLAG) | (u8::from(info.autonomous) * AUTONOMOUS_FLAG);
                let wire = PrefixInformationWire {
                    prefix_length: info.prefix_length,
                    flags,
                    valid_lifetime: U32::new(info.valid_lifetime),
                    preferred_lifetime: U32::new(info.preferred_lifetime),
                    reserved: U32::ZERO,
                    prefix: info.prefix.bytes(),
                };
                put(content, &wire);
            }
            NdpOption::RedirectedHeader(packet) => {
                if let Some(dst) = content.get_mut(REDIRECTED_HEADER_RESERVED_LEN..) {
                    put_bytes(dst, packet);
                }
            }
            NdpOption::Mtu(mtu) => put(content, &MtuWire { reserved: U16::ZERO, mtu: U32::new(*mtu) }),
            NdpOption::RecursiveDnsServer { lifetime, servers } => {
                put(content, &RdnssWire { reserved: U16::ZERO, lifetime: U32::new(*lifetime) });
                if let Some(dst) = content.get_mut(RDNSS_FIXED_LEN..) {
                    servers.write(dst, Self::server_count(servers));
                }
            }
            NdpOption::Nonce(data) | NdpOption::Unrecognized { data, .. } => put_bytes(content, data),
        }
    }

    /// Decodes an option from its type and the bytes after Type and Length.
    fn decode(kind: u8, content: &'a [u8]) -> Result<Self, ParseErrorKind> {
        Ok(match kind {
            SOURCE_LINK_LAYER_ADDRESS => NdpOption::SourceLinkLayerAddress(LinkLayerAddress::decode(content)),
            TARGET_LINK_LAYER_ADDRESS => NdpOption::TargetLinkLayerAddress(LinkLayerAddress::decode(content)),
            PREFIX_INFORMATION => {
                // RFC 4861 §4.6.2: Length 4; Prefix Length 0 to 128.
                let wire = PrefixInformationWire::ref_from_bytes(content)
                    .map_err(|_| ParseErrorKind::Option("prefix information length not 4"))?;
                if wire.prefix_length > 128 {
                    return Err(ParseErrorKind::Option("prefix length over 128"));
                }
                NdpOption::PrefixInformation(PrefixInformation {
                    prefix_length: wire.prefix_length,
                    on_link: wire.flags & ON_LINK_FLAG != 0,
                    autonomous: wire.flags & AUTONOMOUS_FLAG != 0,
                    valid_lifetime: wire.valid_lifetime.get(),
                    preferred_lifetime: wire.preferred_lifetime.get(),
                    prefix: Ipv6Addr::new(wire.prefix),
                })
            }
            REDIRECTED_HEADER => {
                NdpOption::RedirectedHeader(content.get(REDIRECTED_HEADER_RESERVED_LEN..).unwrap_or(&[]))
            }
            MTU => {
                // RFC 4861 §4.6.4: Length 1.
                let wire = MtuWire::ref_from_bytes(content)
                    .map_err(|_| ParseErrorKind::Option("MTU length not 1"))?;
                NdpOption::Mtu(wire.mtu.get())
            }
            RECURSIVE_DNS_SERVER => {
                // RFC 8106 §5.1: Length 3 for one address, 2 more for each further one.
                let (wire, servers) = RdnssWire::ref_from_prefix(content)
                    .ok()
                    .filter(|(_, servers)| !servers.is_empty() && servers.len() % ADDR_LEN == 0)
                    .ok_or(ParseErrorKind::Option("RDNSS length not 3 + 2n"))?;
                NdpOption::RecursiveDnsServer {
                    lifetime: wire.lifetime.get(),
                    servers: AddrList::from_wire(servers),
                }
            }
            NONCE => NdpOption::Nonce(content),
            kind => NdpOption::Unrecognized { kind, data: content },
        })
    }

    /// Splits the option at the front of `bytes` off (RFC 4861 §4.6).
    fn split(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), ParseErrorKind> {
        let [kind, len, ..] = *bytes else {
            return Err(ParseErrorKind::Option("option header runs past the message"));
        };
        // RFC 4861 §4.6: an option of length zero makes the whole ND packet invalid; it is
        // dropped without a reply.
        if len == 0 {
            return Err(ParseErrorKind::Option("option length zero"));
        }
        let (option, rest) = bytes
            .split_at_checked(usize::from(len) * OPTION_UNIT)
            .ok_or(ParseErrorKind::Option("option runs past the message"))?;
        let content = option.get(OPTION_HEADER_LEN..).unwrap_or(&[]);
        Ok((Self::decode(kind, content)?, rest))
    }
}

impl<'a> LinkLayerAddress<'a> {
    fn decode(content: &'a [u8]) -> Self {
        match <[u8; MAC_LEN]>::try_from(content) {
            Ok(mac) => LinkLayerAddress::Ethernet(Mac::new(mac)),
            Err(_) => LinkLayerAddress::Other(content),
        }
    }
}

/// The options of an NDP message: read lazily from a received message (checked once, when
/// it was decoded), or borrowed from the caller to build one.
///
/// Two lists are equal when they hold the same options, unrecognized ones included, in the
/// same order.
#[derive(Clone, Copy)]
pub struct NdpOptions<'a> {
    repr: OptionsRepr<'a>,
}

#[derive(Clone, Copy)]
enum OptionsRepr<'a> {
    /// Options that the parser checked, exactly filling the bytes.
    Wire(&'a [u8]),
    Options(&'a [NdpOption<'a>]),
}

impl<'a> NdpOptions<'a> {
    /// No options.
    pub const EMPTY: NdpOptions<'static> = NdpOptions { repr: OptionsRepr::Options(&[]) };

    /// The options to build a message with, written in this order.
    pub const fn new(options: &'a [NdpOption<'a>]) -> Self {
        Self { repr: OptionsRepr::Options(options) }
    }

    /// Checks the options that fill `bytes` (RFC 4861 §4.6): none of length zero, none
    /// running past the message, recognized ones well-formed.
    fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let mut rest = bytes;
        while !rest.is_empty() {
            rest = NdpOption::split(rest).map_err(|kind| ParseError::new(Layer::Icmpv6, kind))?.1;
        }
        Ok(Self { repr: OptionsRepr::Wire(bytes) })
    }

    /// The recognized options, in order; unrecognized ones are skipped (RFC 4861 §4.6).
    pub fn iter(&self) -> NdpOptionsIter<'a> {
        NdpOptionsIter { all: self.all() }
    }

    /// Every option, unrecognized ones included.
    fn all(&self) -> AllOptions<'a> {
        match self.repr {
            OptionsRepr::Wire(bytes) => AllOptions::Wire(bytes),
            OptionsRepr::Options(options) => AllOptions::Options(options.iter()),
        }
    }

    /// Bytes written.
    fn wire_len(&self) -> usize {
        match self.repr {
            OptionsRepr::Wire(bytes) => bytes.len(),
            OptionsRepr::Options(options) => options.iter().map(NdpOption::wire_len).sum(),
        }
    }

    /// Writes the options into `out` ([`wire_len`](Self::wire_len) bytes, zeroed). Received
    /// options are copied as they came.
    fn write(&self, out: &mut [u8]) {
        match self.repr {
            OptionsRepr::Wire(bytes) => put_bytes(out, bytes),
            OptionsRepr::Options(options) => {
                let mut rest = out;
                for option in options {
                    let Some((this, next)) = rest.split_at_mut_checked(option.wire_len()) else { return };
                    option.write(this);
                    rest = next;
                }
            }
        }
    }
}

impl Default for NdpOptions<'_> {
    fn default() -> Self {
        NdpOptions::EMPTY
    }
}

impl<'a> IntoIterator for NdpOptions<'a> {
    type Item = NdpOption<'a>;
    type IntoIter = NdpOptionsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for NdpOptions<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.all().eq(other.all())
    }
}

impl Eq for NdpOptions<'_> {}

impl fmt::Debug for NdpOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.all()).finish()
    }
}

/// Every option of a list, unrecognized ones included.
#[derive(Clone, Debug)]
enum AllOptions<'a> {
    Wire(&'a [u8]),
    Options(core::slice::Iter<'a, NdpOption<'a>>),
}

impl<'a> Iterator for AllOptions<'a> {
    type Item = NdpOption<'a>;

    fn next(&mut self) -> Option<NdpOption<'a>> {
        match self {
            AllOptions::Wire(bytes) => {
                // The parser checked every option, so this split cannot fail.
                let (option, rest) = NdpOption::split(bytes).ok()?;
                *bytes = rest;
                Some(option)
            }
            AllOptions::Options(options) => options.next().copied(),
        }
    }
}

/// Iterator over the recognized options of [`NdpOptions`].
#[derive(Clone, Debug)]
pub struct NdpOptionsIter<'a> {
    all: AllOptions<'a>,
}

impl<'a> Iterator for NdpOptionsIter<'a> {
    type Item = NdpOption<'a>;

    fn next(&mut self) -> Option<NdpOption<'a>> {
        self.all.find(|option| !matches!(option, NdpOption::Unrecognized { .. }))
    }
}

/// A Router Solicitation (type 133, RFC 4861 §4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterSolicitation<'a> {
    /// Options: Source Link-Layer Address, unless sent from `::`.
    pub options: NdpOptions<'a>,
}

/// A Router Advertisement (type 134, RFC 4861 §4.2). Flags other than M and O (Home Agent,
/// RFC 6275; Preference, RFC 4191; Proxy, RFC 4389) are not decoded; a builder writes 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouterAdvertisement<'a> {
    /// Hop limit hosts should use; 0 means unspecified.
    pub current_hop_limit: u8,
    /// The M flag: addresses are available through DHCPv6.
    pub managed: bool,
    /// The O flag: other configuration is available through DHCPv6.
    pub other_config: bool,
    /// Seconds the router may be used as default router; 0 means not a default router.
    pub router_lifetime: u16,
    /// Milliseconds a neighbor is reachable after a confirmation; 0 means unspecified.
    pub reachable_time: u32,
    /// Milliseconds between retransmitted neighbor solicitations; 0 means unspecified.
    pub retransmit_timer: u32,
    /// Options: Source Link-Layer Address, MTU, Prefix Information, RDNSS, ...
    pub options: NdpOptions<'a>,
}

/// A Neighbor Solicitation (type 135, RFC 4861 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborSolicitation<'a> {
    /// The address whose link-layer address is wanted.
    pub target: Ipv6Addr,
    /// Options: Source Link-Layer Address (never from `::`), Nonce for DAD.
    pub options: NdpOptions<'a>,
}

/// A Neighbor Advertisement (type 136, RFC 4861 §4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborAdvertisement<'a> {
    /// The R flag: the sender is a router.
    pub router: bool,
    /// The S flag: sent in response to a solicitation.
    pub solicited: bool,
    /// The O flag: the advertisement should override a cached link-layer address.
    pub override_flag: bool,
    /// The address being advertised.
    pub target: Ipv6Addr,
    /// Options: Target Link-Layer Address.
    pub options: NdpOptions<'a>,
}

/// A Redirect (type 137, RFC 4861 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redirect<'a> {
    /// The better first hop: a router's link-local address, or the destination itself when
    /// it is on-link.
    pub target: Ipv6Addr,
    /// The destination being redirected.
    pub destination: Ipv6Addr,
    /// Options: Target Link-Layer Address, Redirected Header.
    pub options: NdpOptions<'a>,
}

/// Router Advertisement fields after the rest-of-header word, as on the wire.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RouterAdvertisementWire {
    reachable_time: U32,
    retransmit_timer: U32,
}

/// The M flag of a Router Advertisement.
const MANAGED_FLAG: u8 = 0x80;
/// The O flag of a Router Advertisement.
const OTHER_CONFIG_FLAG: u8 = 0x40;
/// The R flag of a Neighbor Advertisement.
const ROUTER_FLAG: u8 = 0x80;
/// The S flag of a Neighbor Advertisement.
const SOLICITED_FLAG: u8 = 0x40;
/// The O flag of a Neighbor Advertisement.
const OVERRIDE_FLAG: u8 = 0x20;

/// Minimum length of a Router Solicitation (RFC 4861 §6.1.1).
pub const ROUTER_SOLICITATION_MIN_LEN: usize = 8;
/// Minimum length of a Router Advertisement (RFC 4861 §6.1.2).
pub const ROUTER_ADVERTISEMENT_MIN_LEN: usize = 16;
/// Minimum length of a Neighbor Solicitation (RFC 4861 §7.1.1).
pub const NEIGHBOR_SOLICITATION_MIN_LEN: usize = 24;
/// Minimum length of a Neighbor Advertisement (RFC 4861 §7.1.2).
pub const NEIGHBOR_ADVERTISEMENT_MIN_LEN: usize = 24;
/// Minimum length of a Redirect (RFC 4861 §8.1).
pub const REDIRECT_MIN_LEN: usize = 40;

/// Writes `addresses` then `options` into `fields`.
fn write_addresses_and_options(fields: &mut [u8], addresses: &[Ipv6Addr], options: &NdpOptions<'_>) {
    let mut chunks = fields.chunks_mut(ADDR_LEN);
    for (address, dst) in addresses.iter().zip(&mut chunks) {
        put_bytes(dst, &address.bytes());
    }
    if let Some(rest) = fields.get_mut(addresses.len() * ADDR_LEN..) {
        options.write(rest);
    }
}

impl IcmpMessageFields<Ipv6> for RouterSolicitation<'_> {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::RouterSolicitation, 0, [0; 4])
    }

    fn fields_len(&self) -> usize {
        self.options.wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        self.options.write(fields);
    }
}

impl IcmpMessageFields<Ipv6> for RouterAdvertisement<'_> {
    fn header(&self) -> RawHeader {
        let flags =
            (u8::from(self.managed) * MANAGED_FLAG) | (u8::from(self.other_config) * OTHER_CONFIG_FLAG);
        let [l0, l1] = self.router_lifetime.to_be_bytes();
        RawHeader::new(Icmpv6Type::RouterAdvertisement, 0, [self.current_hop_limit, flags, l0, l1])
    }

    fn fields_len(&self) -> usize {
        size_of::<RouterAdvertisementWire>() + self.options.wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        let wire = RouterAdvertisementWire {
            reachable_time: U32::new(self.reachable_time),
            retransmit_timer: U32::new(self.retransmit_timer),
        };
        put(fields, &wire);
        if let Some(rest) = fields.get_mut(size_of::<RouterAdvertisementWire>()..) {
            self.options.write(rest);
        }
    }
}

impl IcmpMessageFields<Ipv6> for NeighborSolicitation<'_> {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::NeighborSolicitation, 0, [0; 4])
    }

    fn fields_len(&self) -> usize {
        ADDR_LEN + self.options.wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        write_addresses_and_options(fields, &[self.target], &self.options);
    }
}

impl IcmpMessageFields<Ipv6> for NeighborAdvertisement<'_> {
    fn header(&self) -> RawHeader {
        let flags = (u8::from(self.router) * ROUTER_FLAG)
            | (u8::from(self.solicited) * SOLICITED_FLAG)
            | (u8::from(self.override_flag) * OVERRIDE_FLAG);
        RawHeader::new(Icmpv6Type::NeighborAdvertisement, 0, [flags, 0, 0, 0])
    }

    fn fields_len(&self) -> usize {
        ADDR_LEN + self.options.wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        write_addresses_and_options(fields, &[self.target], &self.options);
    }
}

impl IcmpMessageFields<Ipv6> for Redirect<'_> {
    fn header(&self) -> RawHeader {
        RawHeader::new(Icmpv6Type::Redirect, 0, [0; 4])
    }

    fn fields_len(&self) -> usize {
        2 * ADDR_LEN + self.options.wire_len()
    }

    fn write_fields(&self, fields: &mut [u8]) {
        write_addresses_and_options(fields, &[self.target, self.destination], &self.options);
    }
}

fn invalid(what: &'static str) -> ParseError {
    ParseError::new(Layer::Icmpv6, ParseErrorKind::Field(what))
}

/// Checks what every NDP message must satisfy: ICMP code 0 and a minimum length.
fn check_code_and_length(header: &RawHeader, body: &[u8], min_len: usize) -> Result<(), ParseError> {
    if header.code != 0 {
        return Err(invalid("NDP code not 0"));
    }
    if HEADER_LEN + body.len() < min_len {
        return Err(ParseError::truncated(Layer::Icmpv6));
    }
    Ok(())
}

/// Splits `N` addresses off the front of `body` (whose length was checked).
fn addresses<const N: usize>(body: &[u8]) -> Result<([Ipv6Addr; N], &[u8]), ParseError> {
    let mut addresses = [Ipv6Addr::UNSPECIFIED; N];
    let mut rest = body;
    for address in &mut addresses {
        let (bytes, next) =
            rest.split_first_chunk::<ADDR_LEN>().ok_or(ParseError::truncated(Layer::Icmpv6))?;
        *address = Ipv6Addr::new(*bytes);
        rest = next;
    }
    Ok((addresses, rest))
}

/// Whether `options` carry a Source Link-Layer Address, which a message from the
/// unspecified address must not (RFC 4861 §6.1.1, §7.1.1).
fn has_source_link_layer_address(options: &NdpOptions<'_>) -> bool {
    options.iter().any(|option| matches!(option, NdpOption::SourceLinkLayerAddress(_)))
}

/// Decodes a Router Solicitation, checking RFC 4861 §6.1.1.
pub(super) fn decode_router_solicitation<'a>(
    header: RawHeader,
    body: &'a [u8],
    pseudo_header: &Icmpv6PseudoHeader,
) -> Result<Icmpv6Message<'a>, ParseError> {
    check_code_and_length(&header, body, ROUTER_SOLICITATION_MIN_LEN)?;
    let options = NdpOptions::parse(body)?;
    if pseudo_header.src.is_unspecified() && has_source_link_layer_address(&options) {
        return Err(invalid("source link-layer address option from the unspecified address"));
    }
    Ok(Icmpv6Message::RouterSolicitation(RouterSolicitation { options }))
}

/// Decodes a Router Advertisement, checking RFC 4861 §6.1.2.
pub(super) fn decode_router_advertisement<'a>(
    header: RawHeader,
    body: &'a [u8],
    pseudo_header: &Icmpv6PseudoHeader,
) -> Result<Icmpv6Message<'a>, ParseError> {
    check_code_and_length(&header, body, ROUTER_ADVERTISEMENT_MIN_LEN)?;
    // RFC 4861 §6.1.2: routers advertise from their link-local address, which identifies them.
    if !pseudo_header.src.is_unicast_link_local() {
        return Err(invalid("router advertisement source address not link-local"));
    }
    let (wire, rest) =
        RouterAdvertisementWire::ref_from_prefix(body).map_err(|_| ParseError::truncated(Layer::Icmpv6))?;
    let [current_hop_limit, flags, l0, l1] = header.rest_of_header;
    Ok(Icmpv6Message::RouterAdvertisement(RouterAdvertisement {
        current_hop_limit,
        managed: flags & MANAGED_FLAG != 0,
        other_config: flags & OTHER_CONFIG_FLAG != 0,
        router_lifetime: u16::from_be_bytes([l0, l1]),
        reachable_time: wire.reachable_time.get(),
        retransmit_timer: wire.retransmit_timer.get(),
        options: NdpOptions::parse(rest)?,
    }))
}

/// Decodes a Neighbor Solicitation, checking RFC 4861 §7.1.1.
pub(super) fn decode_neighbor_solicitation<'a>(
    header: RawHeader,
    body: &'a [u8],
    pseudo_header: &Icmpv6PseudoHeader,
) -> Result<Icmpv6Message<'a>, ParseError> {
    check_code_and_length(&header, body, NEIGHBOR_SOLICITATION_MIN_LEN)?;
    let ([target], rest) = addresses::<1>(body)?;
    if target.is_multicast() {
        return Err(invalid("neighbor solicitation target is multicast"));
    }
    let options = NdpOptions::parse(rest)?;
    if pseudo_header.src.is_unspecified() {
        // Duplicate address detection: sent to a solicited-node group, and without a
        // link-layer address, since the sender has no address to be reached at.
        if !pseudo_header.dst.is_solicited_node() {
            return Err(invalid("DAD solicitation not sent to the solicited-node address"));
        }
        if has_source_link_layer_address(&options) {
            return Err(invalid("source link-layer address option from the unspecified address"));
        }
    }
    Ok(Icmpv6Message::NeighborSolicitation(NeighborSolicitation { target, options }))
}

/// Decodes a Neighbor Advertisement, checking RFC 4861 §7.1.2.
pub(super) fn decode_neighbor_advertisement<'a>(
    header: RawHeader,
    body: &'a [u8],
    pseudo_header: &Icmpv6PseudoHeader,
) -> Result<Icmpv6Message<'a>, ParseError> {
    check_code_and_length(&header, body, NEIGHBOR_ADVERTISEMENT_MIN_LEN)?;
    let ([target], rest) = addresses::<1>(body)?;
    if target.is_multicast() {
        return Err(invalid("neighbor advertisement target is multicast"));
    }
    let [flags, _, _, _] = header.rest_of_header;
    let solicited = flags & SOLICITED_FLAG != 0;
    if solicited && pseudo_header.dst.is_multicast() {
        return Err(invalid("solicited neighbor advertisement sent to a multicast address"));
    }
    Ok(Icmpv6Message::NeighborAdvertisement(NeighborAdvertisement {
        router: flags & ROUTER_FLAG != 0,
        solicited,
        override_flag: flags & OVERRIDE_FLAG != 0,
        target,
        options: NdpOptions::parse(rest)?,
    }))
}

/// Decodes a Redirect, checking RFC 4861 §8.1.
pub(super) fn decode_redirect<'a>(
    header: RawHeader,
    body: &'a [u8],
    pseudo_header: &Icmpv6PseudoHeader,
) -> Result<Icmpv6Message<'a>, ParseError> {
    check_code_and_length(&header, body, REDIRECT_MIN_LEN)?;
    if !pseudo_header.src.is_unicast_link_local() {
        return Err(invalid("redirect source address not link-local"));
    }
    let ([target, destination], rest) = addresses::<2>(body)?;
    if destination.is_multicast() {
        return Err(invalid("redirect destination is multicast"));
    }
    if !target.is_unicast_link_local() && target != destination {
        return Err(invalid("redirect target neither link-local nor the destination"));
    }
    Ok(Icmpv6Message::Redirect(Redirect { target, destination, options: NdpOptions::parse(rest)? }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{build_v6 as build, decode_v6 as decode, fix_checksum};
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn ph(src: &str, dst: &str) -> Icmpv6PseudoHeader {
        Icmpv6PseudoHeader { src: addr(src), dst: addr(dst) }
    }

    const MAC_A: Mac = Mac::new([2, 0, 0, 0, 0, 1]);
    const MAC_B: Mac = Mac::new([2, 0, 0, 0, 0, 2]);

    /// icmpv6_ping_ndp.pcap frame 2: DAD solicitation for 2001:db8::1 from `::` to
    /// ff02::1:ff00:1, with a Nonce option (RFC 7527) and no link-layer address.
    const DAD_SOLICITATION: [u8; 32] = [
        0x87, 0x00, 0x5a, 0xb1, 0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x01, 0x9e, 0x7e, 0x83, 0xb9, 0xc1, 0xfa,
    ];

    /// icmpv6_ping_ndp.pcap frame 10: router solicitation from fe80::ff:fe00:1 to ff02::2 with
    /// the source link-layer address 02:00:00:00:00:01.
    const ROUTER_SOLICITATION: [u8; 16] =
        [0x85, 0x00, 0x7b, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

    /// icmpv6_ping_ndp.pcap frame 17: address resolution of 2001:db8::2 from 2001:db8::1 to
    /// ff02::1:ff00:2, with the source link-layer address.
    const NEIGHBOR_SOLICITATION: [u8; 32] = [
        0x87, 0x00, 0x1c, 0x27, 0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    /// icmpv6_ping_ndp.pcap frame 18: the answer from 2001:db8::2 to 2001:db8::1, flags
    /// Solicited and Override, with the target link-layer address 02:00:00:00:00:02.
    const NEIGHBOR_ADVERTISEMENT: [u8; 32] = [
        0x88, 0x00, 0x8a, 0x71, 0x60, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    ];

    /// Re-serializes a decoded NDP message through its typed repr.
    fn reserialize(message: Icmpv6Message<'_>, ph: Icmpv6PseudoHeader) -> Vec<u8> {
        match message {
            Icmpv6Message::RouterSolicitation(m) => build(ph, m),
            Icmpv6Message::RouterAdvertisement(m) => build(ph, m),
            Icmpv6Message::NeighborSolicitation(m) => build(ph, m),
            Icmpv6Message::NeighborAdvertisement(m) => build(ph, m),
            Icmpv6Message::Redirect(m) => build(ph, m),
            other => panic!("not NDP: {other:?}"),
        }
    }

    #[test]
    fn pcap_dad_solicitation_with_nonce() {
        let ph = ph("::", "ff02::1:ff00:1");
        let message = decode(&DAD_SOLICITATION, ph).unwrap();
        let Icmpv6Message::NeighborSolicitation(ns) = message else { panic!("{message:?}") };
        assert_eq!(ns.target, addr("2001:db8::1"));
        let options: Vec<_> = ns.options.iter().collect();
        assert_eq!(options, [NdpOption::Nonce(&[0x9e, 0x7e, 0x83, 0xb9, 0xc1, 0xfa])]);
        assert_eq!(reserialize(message, ph), DAD_SOLICITATION);
        // Built from typed options, as the DAD code would.
        let typed = NeighborSolicitation {
            target: addr("2001:db8::1"),
            options: NdpOptions::new(&[NdpOption::Nonce(&[0x9e, 0x7e, 0x83, 0xb9, 0xc1, 0xfa])]),
        };
        assert_eq!(typed, ns);
        assert_eq!(build(ph, typed), DAD_SOLICITATION);
    }

    #[test]
    fn pcap_router_solicitation_with_source_link_layer_address() {
        let ph = ph("fe80::ff:fe00:1", "ff02::2");
        let message = decode(&ROUTER_SOLICITATION, ph).unwrap();
        let expected = RouterSolicitation {
            options: NdpOptions::new(&[NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_A))]),
        };
        assert_eq!(message, Icmpv6Message::RouterSolicitation(expected));
        assert_eq!(reserialize(message, ph), ROUTER_SOLICITATION);
        assert_eq!(build(ph, expected), ROUTER_SOLICITATION);
    }

    #[test]
    fn pcap_neighbor_solicitation_and_advertisement() {
        let ns_ph = ph("2001:db8::1", "ff02::1:ff00:2");
        let message = decode(&NEIGHBOR_SOLICITATION, ns_ph).unwrap();
        let expected = NeighborSolicitation {
            target: addr("2001:db8::2"),
            options: NdpOptions::new(&[NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_A))]),
        };
        assert_eq!(message, Icmpv6Message::NeighborSolicitation(expected));
        assert_eq!(reserialize(message, ns_ph), NEIGHBOR_SOLICITATION);

        let na_ph = ph("2001:db8::2", "2001:db8::1");
        let message = decode(&NEIGHBOR_ADVERTISEMENT, na_ph).unwrap();
        let expected = NeighborAdvertisement {
            router: false,
            solicited: true,
            override_flag: true,
            target: addr("2001:db8::2"),
            options: NdpOptions::new(&[NdpOption::TargetLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_B))]),
        };
        assert_eq!(message, Icmpv6Message::NeighborAdvertisement(expected));
        assert_eq!(reserialize(message, na_ph), NEIGHBOR_ADVERTISEMENT);
        assert_eq!(build(na_ph, expected), NEIGHBOR_ADVERTISEMENT);
    }

    #[test]
    fn rfc4861_4_2_router_advertisement_with_every_option() {
        let ph = ph("fe80::1", "ff02::1");
        let servers = [addr("2001:db8::53"), addr("2001:db8::54")];
        let redirected = [0x60u8; 48];
        let options = [
            NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_A)),
            NdpOption::Mtu(1500),
            NdpOption::PrefixInformation(PrefixInformation {
                prefix_length: 64,
                on_link: true,
                autonomous: true,
                valid_lifetime: 2_592_000,
                preferred_lifetime: 604_800,
                prefix: addr("2001:db8::"),
            }),
            NdpOption::RecursiveDnsServer { lifetime: 600, servers: AddrList::new(&servers) },
            NdpOption::RedirectedHeader(&redirected),
        ];
        let ra = RouterAdvertisement {
            current_hop_limit: 64,
            managed: true,
            other_config: false,
            router_lifetime: 1800,
            reachable_time: 30_000,
            retransmit_timer: 1000,
            options: NdpOptions::new(&options),
        };
        let bytes = build(ph, ra);
        assert_eq!(&bytes[4..8], &[64, 0x80, 0x07, 0x08]);
        assert_eq!(&bytes[8..16], &[0, 0, 0x75, 0x30, 0, 0, 0x03, 0xe8]);
        // SLLA (8) + MTU (8) + PI (32) + RDNSS with two servers (40) + redirected header (56).
        assert_eq!(bytes.len(), 16 + 8 + 8 + 32 + 40 + 56);
        assert_eq!(&bytes[24..32], &[5, 1, 0, 0, 0, 0, 0x05, 0xdc]);
        assert_eq!(&bytes[32..36], &[3, 4, 64, 0xc0]);
        assert_eq!(&bytes[64..66], &[25, 5]);
        let message = decode(&bytes, ph).unwrap();
        assert_eq!(message, Icmpv6Message::RouterAdvertisement(ra));
        assert_eq!(reserialize(message, ph), bytes);
    }

    #[test]
    fn rfc4861_4_5_redirect() {
        let ph = ph("fe80::1", "2001:db8::1");
        let redirect = Redirect {
            target: addr("fe80::2"),
            destination: addr("2001:db8:1::9"),
            options: NdpOptions::new(&[NdpOption::TargetLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_B))]),
        };
        let bytes = build(ph, redirect);
        assert_eq!(bytes.len(), REDIRECT_MIN_LEN + 8);
        assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::Redirect(redirect));
        // The target may be the destination itself, when that is on-link.
        let on_link = Redirect { target: redirect.destination, ..redirect };
        assert!(decode(&build(ph, on_link), ph).is_ok());
    }

    #[test]
    fn rfc4861_4_6_option_of_length_zero_is_rejected() {
        let ph = ph("fe80::ff:fe00:1", "ff02::2");
        let mut bytes = ROUTER_SOLICITATION;
        bytes[9] = 0;
        fix_checksum::<Ipv6>(&mut bytes, &ph);
        assert_eq!(
            decode(&bytes, ph).unwrap_err(),
            ParseError::new(Layer::Icmpv6, ParseErrorKind::Option("option length zero"))
        );
    }

    #[test]
    fn rfc4861_4_6_option_running_past_message_is_rejected() {
        let ph = ph("fe80::ff:fe00:1", "ff02::2");
        let mut bytes = ROUTER_SOLICITATION;
        bytes[9] = 2;
        fix_checksum::<Ipv6>(&mut bytes, &ph);
        assert!(matches!(decode(&bytes, ph).unwrap_err().kind, ParseErrorKind::Option(_)));
        // A lone trailing byte cannot even hold Type and Length.
        let mut bytes = ROUTER_SOLICITATION.to_vec();
        bytes.push(1);
        fix_checksum::<Ipv6>(&mut bytes, &ph);
        assert!(matches!(decode(&bytes, ph).unwrap_err().kind, ParseErrorKind::Option(_)));
    }

    #[test]
    fn rfc4861_4_6_unrecognized_options_are_skipped_but_kept() {
        let ph = ph("fe80::ff:fe00:1", "ff02::2");
        let options = [
            NdpOption::Unrecognized { kind: 200, data: &[1, 2, 3, 4, 5, 6] },
            NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_A)),
        ];
        let rs = RouterSolicitation { options: NdpOptions::new(&options) };
        let bytes = build(ph, rs);
        let message = decode(&bytes, ph).unwrap();
        let Icmpv6Message::RouterSolicitation(decoded) = message else { panic!() };
        assert_eq!(decoded.options.iter().collect::<Vec<_>>(), &options[1..]);
        assert_eq!(decoded, rs);
        assert_ne!(decoded.options, NdpOptions::new(&options[1..]));
        assert_eq!(reserialize(message, ph), bytes);
    }

    #[test]
    fn rfc4861_4_6_1_other_link_layer_lengths_are_kept_raw() {
        let ph = ph("fe80::ff:fe00:1", "ff02::2");
        let long = [0xabu8; 14];
        let options = [NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Other(&long))];
        let rs = RouterSolicitation { options: NdpOptions::new(&options) };
        let bytes = build(ph, rs);
        assert_eq!(&bytes[8..10], &[1, 2]);
        assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::RouterSolicitation(rs));
    }

    #[test]
    fn rfc4861_4_6_2_prefix_information_must_be_well_formed() {
        let ph = ph("fe80::1", "ff02::1");
        let info = PrefixInformation {
            prefix_length: 64,
            on_link: false,
            autonomous: true,
            valid_lifetime: u32::MAX,
            preferred_lifetime: u32::MAX,
            prefix: addr("2001:db8::"),
        };
        let options = [NdpOption::PrefixInformation(info)];
        let ra = RouterAdvertisement {
            current_hop_limit: 0,
            managed: false,
            other_config: true,
            router_lifetime: 0,
            reachable_time: 0,
            retransmit_timer: 0,
            options: NdpOptions::new(&options),
        };
        let good = build(ph, ra);
        assert_eq!(decode(&good, ph).unwrap(), Icmpv6Message::RouterAdvertisement(ra));
        let mut too_long_prefix = good.clone();
        too_long_prefix[18] = 129;
        fix_checksum::<Ipv6>(&mut too_long_prefix, &ph);
        assert!(matches!(decode(&too_long_prefix, ph).unwrap_err().kind, ParseErrorKind::Option(_)));
        let mut wrong_length = good.clone();
        wrong_length[17] = 3;
        wrong_length.truncate(16 + 24);
        fix_checksum::<Ipv6>(&mut wrong_length, &ph);
        assert!(matches!(decode(&wrong_length, ph).unwrap_err().kind, ParseErrorKind::Option(_)));
    }

    #[test]
    fn rfc4861_4_6_4_mtu_and_rfc8106_5_1_rdnss_lengths() {
        let ph = ph("fe80::1", "ff02::1");
        let base = RouterAdvertisement {
            current_hop_limit: 0,
            managed: false,
            other_config: false,
            router_lifetime: 0,
            reachable_time: 0,
            retransmit_timer: 0,
            options: NdpOptions::EMPTY,
        };
        let bytes = build(ph, base);
        for bad_option in
            [vec![5u8, 2, 0, 0, 0, 0, 5, 0xdc, 0, 0, 0, 0, 0, 0, 0, 0], vec![25, 2, 0, 0, 0, 0, 0, 60]]
        {
            let mut bad = bytes.clone();
            bad.extend_from_slice(&bad_option);
            if bad_option[0] == 25 {
                bad.extend_from_slice(&[0; 8]);
            }
            fix_checksum::<Ipv6>(&mut bad, &ph);
            assert!(
                matches!(decode(&bad, ph).unwrap_err().kind, ParseErrorKind::Option(_)),
                "{bad_option:?}"
            );
        }
        // RDNSS of Length 4: not 3 + 2n.
        let mut bad = bytes.clone();
        bad.extend_from_slice(&[25, 4, 0, 0, 0, 0, 0, 60]);
        bad.extend_from_slice(&[0; 24]);
        fix_checksum::<Ipv6>(&mut bad, &ph);
        assert!(decode(&bad, ph).is_err());
    }

    #[test]
    fn rfc4861_6_1_code_must_be_zero_and_minimum_lengths_hold() {
        let ph_rs = ph("fe80::ff:fe00:1", "ff02::2");
        let mut bytes = ROUTER_SOLICITATION;
        bytes[1] = 1;
        fix_checksum::<Ipv6>(&mut bytes, &ph_rs);
        assert!(matches!(decode(&bytes, ph_rs).unwrap_err().kind, ParseErrorKind::Field(_)));

        let ph_ns = ph("2001:db8::1", "ff02::1:ff00:2");
        let mut short = NEIGHBOR_SOLICITATION[..23].to_vec();
        fix_checksum::<Ipv6>(&mut short, &ph_ns);
        assert_eq!(decode(&short, ph_ns).unwrap_err(), ParseError::truncated(Layer::Icmpv6));

        let ph_ra = ph("fe80::1", "ff02::1");
        let mut short = vec![134u8, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        fix_checksum::<Ipv6>(&mut short, &ph_ra);
        assert_eq!(decode(&short, ph_ra).unwrap_err(), ParseError::truncated(Layer::Icmpv6));

        let ph_redirect = ph("fe80::1", "2001:db8::1");
        let mut short = vec![137u8, 0, 0, 0, 0, 0, 0, 0];
        short.extend_from_slice(&addr("fe80::2").bytes());
        short.extend_from_slice(&[0; 15]);
        fix_checksum::<Ipv6>(&mut short, &ph_redirect);
        assert_eq!(decode(&short, ph_redirect).unwrap_err(), ParseError::truncated(Layer::Icmpv6));
    }

    #[test]
    fn rfc4861_6_1_1_solicitation_from_unspecified_has_no_link_layer_address() {
        let ph = ph("::", "ff02::2");
        let rs = RouterSolicitation {
            options: NdpOptions::new(&[NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_A))]),
        };
        assert!(matches!(decode(&build(ph, rs), ph).unwrap_err().kind, ParseErrorKind::Field(_)));
        assert!(decode(&build(ph, RouterSolicitation::default()), ph).is_ok());
    }

    #[test]
    fn rfc4861_6_1_2_advertisement_must_come_from_link_local() {
        let ph = ph("2001:db8::1", "ff02::1");
        let ra = RouterAdvertisement {
            current_hop_limit: 0,
            managed: false,
            other_config: false,
            router_lifetime: 0,
            reachable_time: 0,
            retransmit_timer: 0,
            options: NdpOptions::EMPTY,
        };
        assert!(matches!(decode(&build(ph, ra), ph).unwrap_err().kind, ParseErrorKind::Field(_)));
    }

    #[test]
    fn rfc4861_7_1_1_solicitation_rules() {
        let target = addr("2001:db8::1");
        let nonce = [NdpOption::Nonce(&[1, 2, 3, 4, 5, 6])];
        // Multicast target.
        let ph_ok = ph("2001:db8::2", "ff02::1:ff00:1");
        let multicast = NeighborSolicitation { target: addr("ff02::1"), options: NdpOptions::EMPTY };
        assert!(matches!(
            decode(&build(ph_ok, multicast), ph_ok).unwrap_err().kind,
            ParseErrorKind::Field(_)
        ));
        // DAD from `::` must go to a solicited-node address...
        let dad = NeighborSolicitation { target, options: NdpOptions::new(&nonce) };
        let wrong_dst = ph("::", "ff02::1:fe00:1");
        assert!(matches!(
            decode(&build(wrong_dst, dad), wrong_dst).unwrap_err().kind,
            ParseErrorKind::Field(_)
        ));
        // ... and carry no source link-layer address.
        let ph_dad = ph("::", "ff02::1:ff00:1");
        let with_slla = NeighborSolicitation {
            target,
            options: NdpOptions::new(&[NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_A))]),
        };
        assert!(matches!(
            decode(&build(ph_dad, with_slla), ph_dad).unwrap_err().kind,
            ParseErrorKind::Field(_)
        ));
        assert!(decode(&build(ph_dad, dad), ph_dad).is_ok());
    }

    #[test]
    fn rfc4861_7_1_2_advertisement_rules() {
        let na = NeighborAdvertisement {
            router: true,
            solicited: true,
            override_flag: false,
            target: addr("2001:db8::2"),
            options: NdpOptions::EMPTY,
        };
        // Solicited advertisements are unicast.
        let multicast_dst = ph("2001:db8::2", "ff02::1");
        assert!(matches!(
            decode(&build(multicast_dst, na), multicast_dst).unwrap_err().kind,
            ParseErrorKind::Field(_)
        ));
        let unsolicited = NeighborAdvertisement { solicited: false, ..na };
        assert_eq!(
            decode(&build(multicast_dst, unsolicited), multicast_dst).unwrap(),
            Icmpv6Message::NeighborAdvertisement(unsolicited)
        );
        // Multicast target.
        let unicast = ph("2001:db8::2", "2001:db8::1");
        let multicast_target = NeighborAdvertisement { target: addr("ff02::1"), ..na };
        assert!(matches!(
            decode(&build(unicast, multicast_target), unicast).unwrap_err().kind,
            ParseErrorKind::Field(_)
        ));
    }

    #[test]
    fn rfc4861_8_1_redirect_rules() {
        let redirect = Redirect {
            target: addr("fe80::2"),
            destination: addr("2001:db8:1::9"),
            options: NdpOptions::EMPTY,
        };
        let global_src = ph("2001:db8::1", "2001:db8::2");
        assert!(matches!(
            decode(&build(global_src, redirect), global_src).unwrap_err().kind,
            ParseErrorKind::Field(_)
        ));
        let ph = ph("fe80::1", "2001:db8::2");
        let multicast_destination = Redirect { destination: addr("ff0e::1"), ..redirect };
        assert!(matches!(
            decode(&build(ph, multicast_destination), ph).unwrap_err().kind,
            ParseErrorKind::Field(_)
        ));
        let global_target = Redirect { target: addr("2001:db8::7"), ..redirect };
        assert!(matches!(decode(&build(ph, global_target), ph).unwrap_err().kind, ParseErrorKind::Field(_)));
    }

    #[test]
    fn oversized_options_are_clamped_to_the_length_field() {
        let big = vec![0x11u8; 5000];
        let option = NdpOption::RedirectedHeader(&big);
        assert_eq!(option.wire_len(), MAX_OPTION_LEN);
        let mut out = vec![0u8; option.wire_len()];
        option.write(&mut out);
        assert_eq!(&out[..2], &[4, 255]);
        let servers = vec![addr("2001:db8::53"); 200];
        let rdnss = NdpOption::RecursiveDnsServer { lifetime: 1, servers: AddrList::new(&servers) };
        assert_eq!(rdnss.wire_len(), 8 + 127 * 16);
        let mut out = vec![0u8; rdnss.wire_len()];
        rdnss.write(&mut out);
        assert_eq!(NdpOptions::parse(&out).unwrap().iter().count(), 1);
    }

    fn arb_link_layer_address() -> impl Strategy<Value = LinkLayerAddress<'static>> {
        prop_oneof![
            any::<[u8; 6]>().prop_map(|m| LinkLayerAddress::Ethernet(Mac::new(m))),
            Just(LinkLayerAddress::Other(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])),
        ]
    }

    /// Options whose parse gives them back unchanged (data already padded to whole units).
    fn arb_option(servers: &'static [Ipv6Addr]) -> impl Strategy<Value = NdpOption<'static>> {
        prop_oneof![
            arb_link_layer_address().prop_map(NdpOption::SourceLinkLayerAddress),
            arb_link_layer_address().prop_map(NdpOption::TargetLinkLayerAddress),
            (0u8..=128, any::<bool>(), any::<bool>(), any::<u32>(), any::<u32>(), any::<[u8; 16]>())
                .prop_map(
                    |(prefix_length, on_link, autonomous, valid_lifetime, preferred_lifetime, prefix)| {
                        NdpOption::PrefixInformation(PrefixInformation {
                            prefix_length,
                            on_link,
                            autonomous,
                            valid_lifetime,
                            preferred_lifetime,
                            prefix: Ipv6Addr::new(prefix),
                        })
                    }
                ),
            Just(NdpOption::RedirectedHeader(&[0x60; 40])),
            any::<u32>().prop_map(NdpOption::Mtu),
            (any::<u32>(), 1..=servers.len()).prop_map(move |(lifetime, n)| NdpOption::RecursiveDnsServer {
                lifetime,
                servers: AddrList::new(&servers[..n]),
            }),
            Just(NdpOption::Nonce(&[9, 8, 7, 6, 5, 4])),
            (6u8..=255).prop_map(|kind| {
                if matches!(kind, NONCE | RECURSIVE_DNS_SERVER) {
                    NdpOption::Unrecognized { kind: 200, data: &[0; 6] }
                } else {
                    NdpOption::Unrecognized { kind, data: &[7; 14] }
                }
            }),
        ]
    }

    static SERVERS: [Ipv6Addr; 3] = [
        Ipv6Addr::new([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53]),
        Ipv6Addr::new([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x54]),
        Ipv6Addr::new([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x55]),
    ];

    proptest! {
        #[test]
        fn router_advertisement_round_trip(
            current_hop_limit in any::<u8>(),
            managed in any::<bool>(),
            other_config in any::<bool>(),
            router_lifetime in any::<u16>(),
            reachable_time in any::<u32>(),
            retransmit_timer in any::<u32>(),
            options in proptest::collection::vec(arb_option(&SERVERS), 0..5),
        ) {
            let ph = ph("fe80::1", "ff02::1");
            let ra = RouterAdvertisement {
                current_hop_limit,
                managed,
                other_config,
                router_lifetime,
                reachable_time,
                retransmit_timer,
                options: NdpOptions::new(&options),
            };
            let bytes = build(ph, ra);
            let message = decode(&bytes, ph).unwrap();
            prop_assert_eq!(message, Icmpv6Message::RouterAdvertisement(ra));
            prop_assert_eq!(reserialize(message, ph), bytes);
        }

        #[test]
        fn neighbor_messages_round_trip(
            flags in any::<(bool, bool, bool)>(),
            target in any::<[u8; 16]>(),
            options in proptest::collection::vec(arb_option(&SERVERS), 0..4),
        ) {
            let mut target = target;
            target[0] = 0x20;
            let target = Ipv6Addr::new(target);
            let ns_ph = ph("2001:db8::9", "2001:db8::1");
            let ns = NeighborSolicitation { target, options: NdpOptions::new(&options) };
            let bytes = build(ns_ph, ns);
            prop_assert_eq!(decode(&bytes, ns_ph).unwrap(), Icmpv6Message::NeighborSolicitation(ns));
            let (router, solicited, override_flag) = flags;
            let na = NeighborAdvertisement { router, solicited, override_flag, target, options: NdpOptions::new(&options) };
            let bytes = build(ns_ph, na);
            prop_assert_eq!(decode(&bytes, ns_ph).unwrap(), Icmpv6Message::NeighborAdvertisement(na));
            let rs = RouterSolicitation { options: NdpOptions::new(&options) };
            let bytes = build(ns_ph, rs);
            prop_assert_eq!(decode(&bytes, ns_ph).unwrap(), Icmpv6Message::RouterSolicitation(rs));
        }

        #[test]
        fn redirect_round_trip(
            target in any::<[u8; 8]>(),
            destination in any::<[u8; 16]>(),
            options in proptest::collection::vec(arb_option(&SERVERS), 0..4),
        ) {
            let mut target_bytes = [0u8; 16];
            target_bytes[..2].copy_from_slice(&[0xfe, 0x80]);
            target_bytes[8..].copy_from_slice(&target);
            let mut destination = destination;
            destination[0] = 0x20;
            let ph = ph("fe80::1", "2001:db8::1");
            let redirect = Redirect {
                target: Ipv6Addr::new(target_bytes),
                destination: Ipv6Addr::new(destination),
                options: NdpOptions::new(&options),
            };
            let bytes = build(ph, redirect);
            prop_assert_eq!(decode(&bytes, ph).unwrap(), Icmpv6Message::Redirect(redirect));
        }

        #[test]
        fn arbitrary_options_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            if let Ok(options) = NdpOptions::parse(&bytes) {
                let _ = options.iter().count();
                let mut out = vec![0u8; options.wire_len()];
                options.write(&mut out);
                prop_assert_eq!(out, bytes);
            }
        }

        #[test]
        fn arbitrary_ndp_messages_never_panic(
            msg_type in 133u8..=137,
            src_link_local in any::<bool>(),
            mut bytes in proptest::collection::vec(any::<u8>(), 8..128),
        ) {
            bytes[0] = msg_type;
            bytes[1] = 0;
            let ph = if src_link_local { ph("fe80::1", "ff02::1") } else { ph("::", "ff02::1:ff00:1") };
            fix_checksum::<Ipv6>(&mut bytes, &ph);
            let _ = decode(&bytes, ph);
        }
    }
}
