//! The 32-byte header in front of every packet on the datagram data plane (UDP, ICMP echo and
//! raw IP sockets), as `fidl/README.md` ("The datagram data plane") defines it: the
//! application-side encoder of destinations and decoder of sources and error records, shared
//! by the shim and the async client library.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | family, little-endian: 0 none, 2 `AF_INET`, 10 `AF_INET6`, `0xffff` error record |
//! | 2 | 2 | port, network byte order |
//! | 4 | 4 | IPv6 flow information, network byte order |
//! | 8 | 16 | address (IPv4 in the first 4 bytes) |
//! | 24 | 4 | little-endian: IPv6 scope id, or the errno of an error record |
//! | 28 | 1 | from the netstack: flags, bit 0 TTL/Hop Limit present, bit 1 TOS/Traffic Class present; 0 to it |
//! | 29 | 1 | from the netstack: the TTL or Hop Limit; 0 to it |
//! | 30 | 1 | from the netstack: the TOS or Traffic Class; 0 to it |
//! | 31 | 1 | reserved, 0 |

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Length of the header in front of every datagram.
pub const HEADER_LEN: usize = 32;

const FAMILY_NONE: u16 = 0;
const FAMILY_INET: u16 = 2;
const FAMILY_INET6: u16 = 10;
const FAMILY_ERROR: u16 = 0xffff;

/// Byte 28's bit: byte 29 holds the TTL or Hop Limit.
const META_HOP_LIMIT: u8 = 1 << 0;
/// Byte 28's bit: byte 30 holds the TOS or Traffic Class.
const META_TOS: u8 = 1 << 1;

/// What a header received from the netstack says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// A datagram from this source.
    From(SocketAddr),
    /// A datagram without a source address.
    Anonymous,
    /// An error record: the errno of an asynchronous error, as the netstack wrote it.
    Error(i32),
}

/// A received header's family is none the contract knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("datagram header family {0}")]
pub struct UnknownFamily(pub u16);

/// The header for a datagram the application sends to `dest`, or to the connected peer.
pub fn encode(dest: Option<&SocketAddr>) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    match dest {
        None => h[0..2].copy_from_slice(&FAMILY_NONE.to_le_bytes()),
        Some(SocketAddr::V4(a)) => {
            h[0..2].copy_from_slice(&FAMILY_INET.to_le_bytes());
            h[2..4].copy_from_slice(&a.port().to_be_bytes());
            h[8..12].copy_from_slice(&a.ip().octets());
        }
        Some(SocketAddr::V6(a)) => {
            h[0..2].copy_from_slice(&FAMILY_INET6.to_le_bytes());
            h[2..4].copy_from_slice(&a.port().to_be_bytes());
            h[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
            h[8..24].copy_from_slice(&a.ip().octets());
            h[24..28].copy_from_slice(&a.scope_id().to_le_bytes());
        }
    }
    h
}

/// Reads a header the netstack wrote.
pub fn decode(h: &[u8; HEADER_LEN]) -> Result<Received, UnknownFamily> {
    let family = u16::from_le_bytes([h[0], h[1]]);
    let port = u16::from_be_bytes([h[2], h[3]]);
    let word24 = [h[24], h[25], h[26], h[27]];
    match family {
        FAMILY_NONE => Ok(Received::Anonymous),
        FAMILY_INET => Ok(Received::From(SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(h[8], h[9], h[10], h[11]),
            port,
        )))),
        FAMILY_INET6 => {
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&h[8..24]);
            let flow = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
            let scope = u32::from_le_bytes(word24);
            Ok(Received::From(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flow, scope))))
        }
        FAMILY_ERROR => Ok(Received::Error(i32::from_le_bytes(word24))),
        other => Err(UnknownFamily(other)),
    }
}

/// What a received datagram's IP header carried (bytes 28..31 of its header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvMeta {
    /// The TTL or Hop Limit.
    pub hop_limit: Option<u8>,
    /// The TOS or Traffic Class octet.
    pub tos: Option<u8>,
}

impl RecvMeta {
    /// Reads bytes 28..31 of a header from the netstack.
    pub fn decode(header: &[u8; HEADER_LEN]) -> Self {
        let flags = header[28];
        Self {
            hop_limit: (flags & META_HOP_LIMIT != 0).then_some(header[29]),
            tos: (flags & META_TOS != 0).then_some(header[30]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_destination_layout() {
        let dest: SocketAddr = "198.51.100.9:5353".parse().unwrap();
        let h = encode(Some(&dest));
        assert_eq!(&h[0..2], &[2, 0]);
        assert_eq!(&h[2..4], &[0x14, 0xe9]);
        assert_eq!(&h[4..8], &[0; 4]);
        assert_eq!(&h[8..12], &[198, 51, 100, 9]);
        assert!(h[12..].iter().all(|&b| b == 0));
        assert_eq!(decode(&h), Ok(Received::From(dest)));
    }

    #[test]
    fn ipv6_destination_layout_with_flow_and_scope() {
        let dest =
            SocketAddr::V6(SocketAddrV6::new("2001:db8::2".parse().unwrap(), 7, 0x000a_bcde, 0x0102_0304));
        let h = encode(Some(&dest));
        assert_eq!(&h[0..2], &[10, 0]);
        assert_eq!(&h[2..4], &[0, 7]);
        assert_eq!(&h[4..8], &[0x00, 0x0a, 0xbc, 0xde]);
        assert_eq!(&h[8..10], &[0x20, 0x01]);
        assert_eq!(&h[24..28], &[4, 3, 2, 1]);
        assert_eq!(&h[28..32], &[0; 4]);
        assert_eq!(decode(&h), Ok(Received::From(dest)));
    }

    #[test]
    fn no_destination_is_family_zero() {
        let h = encode(None);
        assert_eq!(h, [0u8; HEADER_LEN]);
        assert_eq!(decode(&h), Ok(Received::Anonymous));
    }

    #[test]
    fn error_records_carry_the_errno_as_written() {
        let mut h = [0u8; HEADER_LEN];
        h[0..2].copy_from_slice(&0xffffu16.to_le_bytes());
        h[24..28].copy_from_slice(&111u32.to_le_bytes());
        assert_eq!(decode(&h), Ok(Received::Error(111)));
    }

    #[test]
    fn unknown_families_are_refused() {
        let mut h = [0u8; HEADER_LEN];
        h[0] = 1;
        assert_eq!(decode(&h), Err(UnknownFamily(1)));
    }
}
