//! The 32-byte header in front of every packet of the datagram data plane (UDP, ICMP echo,
//! raw IP), as `fidl/README.md` ("The datagram data plane") lays it out:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | family, little-endian: 0 none, 2 `AF_INET`, 10 `AF_INET6`, `0xffff` error record |
//! | 2 | 2 | port, network byte order |
//! | 4 | 4 | IPv6 flow information, network byte order |
//! | 8 | 16 | address (IPv4 in the first 4 bytes) |
//! | 24 | 4 | little-endian: IPv6 scope id, or the errno of an error record |
//! | 28 | 1 | towards the application: flags, bit 0 TTL/Hop Limit present, bit 1 TOS/Traffic Class present; 0 from it |
//! | 29 | 1 | towards the application: the TTL or Hop Limit; 0 from it |
//! | 30 | 1 | towards the application: the TOS or Traffic Class; 0 from it |
//! | 31 | 1 | reserved, 0 |
//!
//! From the application it names the destination (family 0: the connected peer); towards
//! the application the source and what the datagram's IP header carried (for the shim's
//! IP_RECVTTL, IPV6_RECVHOPLIMIT, IP_RECVTOS and IPV6_RECVTCLASS), or (an error record, no
//! payload) an asynchronous error.

use netstack_fidl::fuchsia_posix::Errno;

/// The header's length.
pub(crate) const HEADER_LEN: usize = 32;

const FAMILY_NONE: u16 = 0;
const FAMILY_INET: u16 = 2;
const FAMILY_INET6: u16 = 10;
const FAMILY_ERROR: u16 = 0xffff;

/// `EINVAL`: a packet too short to hold the header (and, in the datagram pumps, an unusable
/// destination).
pub(super) const EINVAL: i32 = Errno::EINVAL as i32;
/// `EAFNOSUPPORT`: a family the data plane does not know (or one the socket cannot use).
pub(super) const EAFNOSUPPORT: i32 = Errno::EAFNOSUPPORT as i32;

/// Byte 28's bit: byte 29 holds the TTL or Hop Limit.
const META_HOP_LIMIT: u8 = 1 << 0;
/// Byte 28's bit: byte 30 holds the TOS or Traffic Class.
const META_TOS: u8 = 1 << 1;

/// What a received datagram's IP header carried, for the application's ancillary data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RecvMeta {
    /// The TTL or Hop Limit.
    pub(crate) hop_limit: Option<u8>,
    /// The TOS or Traffic Class octet.
    pub(crate) tos: Option<u8>,
}

impl RecvMeta {
    /// Both fields known, as for every datagram the core queues.
    pub(crate) fn new(hop_limit: u8, tos: u8) -> Self {
        Self { hop_limit: Some(hop_limit), tos: Some(tos) }
    }

    /// Bytes 28..32 of the header.
    fn to_bytes(self) -> [u8; 4] {
        let flags = self.hop_limit.map_or(0, |_| META_HOP_LIMIT) | self.tos.map_or(0, |_| META_TOS);
        [flags, self.hop_limit.unwrap_or(0), self.tos.unwrap_or(0), 0]
    }
}

/// One packet's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DatagramHeader {
    /// No address: send to the connected peer.
    Unspecified,
    /// An IPv4 address and port.
    V4 {
        /// The address.
        addr: [u8; 4],
        /// The port (host order here).
        port: u16,
    },
    /// An IPv6 address, port, flow information and scope.
    V6 {
        /// The address.
        addr: [u8; 16],
        /// The port (host order here).
        port: u16,
        /// The flow information (host order here).
        flowinfo: u32,
        /// The scope id (an interface index), 0 for none.
        scope_id: u32,
    },
    /// An asynchronous error with this errno (towards the application only).
    Error(i32),
    /// A received datagram (towards the application only): its source, a `V4` or `V6`
    /// header, and what its IP header carried.
    Received {
        /// The source.
        from: Source,
        /// The TTL and TOS.
        meta: RecvMeta,
    },
}

/// The source of a received datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// An IPv4 address and port.
    V4 {
        /// The address.
        addr: [u8; 4],
        /// The port (host order here).
        port: u16,
    },
    /// An IPv6 address, port, and scope (an interface index, 0 for none).
    V6 {
        /// The address.
        addr: [u8; 16],
        /// The port (host order here).
        port: u16,
        /// The scope id.
        scope_id: u32,
    },
}

impl From<Source> for DatagramHeader {
    fn from(source: Source) -> Self {
        match source {
            Source::V4 { addr, port } => Self::V4 { addr, port },
            Source::V6 { addr, port, scope_id } => Self::V6 { addr, port, flowinfo: 0, scope_id },
        }
    }
}

impl DatagramHeader {
    /// Splits a packet from the application into its header and payload; an `Err` is the
    /// errno the packet earns (`EINVAL` if it is shorter than a header, `EAFNOSUPPORT` for an
    /// unknown family or an error record, which only the netstack sends). Bytes 28..32 are
    /// ignored: the application's are 0, and a header it read and sent back keeps them.
    pub(crate) fn parse(packet: &[u8]) -> Result<(Self, &[u8]), i32> {
        let Some((header, payload)) = packet.split_first_chunk::<HEADER_LEN>() else {
            return Err(EINVAL);
        };
        let u16_le = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
        let port = u16::from_be_bytes([header[2], header[3]]);
        let parsed = match u16_le(0) {
            FAMILY_NONE => Self::Unspecified,
            FAMILY_INET => Self::V4 { addr: [header[8], header[9], header[10], header[11]], port },
            FAMILY_INET6 => {
                let mut addr = [0; 16];
                addr.copy_from_slice(&header[8..24]);
                Self::V6 {
                    addr,
                    port,
                    flowinfo: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
                    scope_id: u32::from_le_bytes([header[24], header[25], header[26], header[27]]),
                }
            }
            _ => return Err(EAFNOSUPPORT),
        };
        Ok((parsed, payload))
    }

    /// The header's bytes.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        match self {
            Self::Unspecified => {}
            Self::V4 { addr, port } => {
                out[0..2].copy_from_slice(&FAMILY_INET.to_le_bytes());
                out[2..4].copy_from_slice(&port.to_be_bytes());
                out[8..12].copy_from_slice(&addr);
            }
            Self::V6 { addr, port, flowinfo, scope_id } => {
                out[0..2].copy_from_slice(&FAMILY_INET6.to_le_bytes());
                out[2..4].copy_from_slice(&port.to_be_bytes());
                out[4..8].copy_from_slice(&flowinfo.to_be_bytes());
                out[8..24].copy_from_slice(&addr);
                out[24..28].copy_from_slice(&scope_id.to_le_bytes());
            }
            Self::Error(errno) => {
                out[0..2].copy_from_slice(&FAMILY_ERROR.to_le_bytes());
                out[24..28].copy_from_slice(&errno.to_le_bytes());
            }
            Self::Received { from, meta } => {
                out = Self::from(from).to_bytes();
                out[28..32].copy_from_slice(&meta.to_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_lays_out_as_the_contract_says() {
        let bytes = DatagramHeader::V4 { addr: [192, 0, 2, 7], port: 0x1234 }.to_bytes();
        let mut expected = [0u8; 32];
        expected[..4].copy_from_slice(&[2, 0, 0x12, 0x34]);
        expected[8..12].copy_from_slice(&[192, 0, 2, 7]);
        assert_eq!(bytes, expected);
        let mut packet = bytes.to_vec();
        packet.extend_from_slice(b"payload");
        let (header, payload) = DatagramHeader::parse(&packet).unwrap();
        assert_eq!(header, DatagramHeader::V4 { addr: [192, 0, 2, 7], port: 0x1234 });
        assert_eq!(payload, b"payload");
    }

    #[test]
    fn ipv6_round_trips_with_flow_and_scope() {
        let mut addr = [0; 16];
        addr[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        addr[15] = 1;
        let header = DatagramHeader::V6 { addr, port: 53, flowinfo: 0x000a_bcde, scope_id: 3 };
        let bytes = header.to_bytes();
        assert_eq!(&bytes[..2], &[10, 0]);
        assert_eq!(&bytes[2..4], &[0, 53]);
        assert_eq!(&bytes[4..8], &[0x00, 0x0a, 0xbc, 0xde]);
        assert_eq!(&bytes[24..28], &[3, 0, 0, 0]);
        assert_eq!(DatagramHeader::parse(&bytes).unwrap(), (header, &[][..]));
    }

    #[test]
    fn error_records_carry_the_errno_little_endian() {
        let bytes = DatagramHeader::Error(111).to_bytes();
        assert_eq!(&bytes[..2], &[0xff, 0xff]);
        assert_eq!(&bytes[24..28], &[111, 0, 0, 0]);
        assert!(bytes[2..24].iter().all(|&b| b == 0));
    }

    #[test]
    fn received_datagrams_carry_ttl_and_tos_in_bytes_28_to_31() {
        let from = Source::V4 { addr: [192, 0, 2, 7], port: 53 };
        let bytes = DatagramHeader::Received { from, meta: RecvMeta::new(63, 0xb8) }.to_bytes();
        assert_eq!(bytes[..28], DatagramHeader::V4 { addr: [192, 0, 2, 7], port: 53 }.to_bytes()[..28]);
        assert_eq!(&bytes[28..], &[0b11, 63, 0xb8, 0]);
        let only_ttl = RecvMeta { hop_limit: Some(1), tos: None };
        assert_eq!(DatagramHeader::Received { from, meta: only_ttl }.to_bytes()[28..], [0b01, 1, 0, 0]);
        // Sent back as a destination, the header names the source; the metadata is ignored.
        assert_eq!(
            DatagramHeader::parse(&bytes).unwrap().0,
            DatagramHeader::V4 { addr: [192, 0, 2, 7], port: 53 }
        );
        let v6 =
            Source::V6 { addr: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], port: 0, scope_id: 2 };
        let bytes = DatagramHeader::Received { from: v6, meta: RecvMeta::new(255, 0) }.to_bytes();
        assert_eq!((&bytes[..2], &bytes[24..]), (&[10, 0][..], &[2, 0, 0, 0, 0b11, 255, 0, 0][..]));
    }

    #[test]
    fn short_packets_and_unknown_families_are_refused() {
        assert_eq!(DatagramHeader::parse(&[0; 31]), Err(EINVAL));
        let mut unknown = [0u8; 32];
        unknown[0] = 1;
        assert_eq!(DatagramHeader::parse(&unknown), Err(EAFNOSUPPORT));
        assert_eq!(DatagramHeader::parse(&DatagramHeader::Error(5).to_bytes()), Err(EAFNOSUPPORT));
        assert_eq!(DatagramHeader::parse(&[0; 32]).unwrap().0, DatagramHeader::Unspecified);
    }
}
