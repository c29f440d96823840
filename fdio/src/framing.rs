//! The 32-byte header in front of every datagram on the datagram data plane (UDP, ICMP echo
//! and raw IP sockets), as `fidl/README.md` ("The datagram data plane") defines it:
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
//!
//! Bytes 28..31 of a received header are read by [`crate::cmsg::RecvMeta::decode`].

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::errno::Errno;

/// Length of the header in front of every datagram.
pub const HEADER_LEN: usize = 32;

const FAMILY_NONE: u16 = 0;
const FAMILY_INET: u16 = 2;
const FAMILY_INET6: u16 = 10;
const FAMILY_ERROR: u16 = 0xffff;

/// What a header received from the netstack says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxHeader {
    /// A datagram from this source.
    From(SocketAddr),
    /// A datagram without a source address.
    Anonymous,
    /// An asynchronous error to report from the next receive call.
    Error(Errno),
}

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

/// Reads a header the netstack wrote. An unknown family is a broken peer: `EIO`.
pub fn decode(h: &[u8; HEADER_LEN]) -> Result<RxHeader, Errno> {
    let family = u16::from_le_bytes([h[0], h[1]]);
    let port = u16::from_be_bytes([h[2], h[3]]);
    let word24 = u32::from_le_bytes([h[24], h[25], h[26], h[27]]);
    match family {
        FAMILY_NONE => Ok(RxHeader::Anonymous),
        FAMILY_INET => Ok(RxHeader::From(SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(h[8], h[9], h[10], h[11]),
            port,
        )))),
        FAMILY_INET6 => {
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&h[8..24]);
            let flow = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
            Ok(RxHeader::From(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flow, word24))))
        }
        FAMILY_ERROR => match i32::try_from(word24) {
            Ok(errno) if errno > 0 => Ok(RxHeader::Error(Errno(errno))),
            _ => Err(Errno::EIO),
        },
        _ => Err(Errno::EIO),
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
        assert_eq!(decode(&h), Ok(RxHeader::From(dest)));
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
        assert_eq!(decode(&h), Ok(RxHeader::From(dest)));
    }

    #[test]
    fn no_destination_is_family_zero() {
        let h = encode(None);
        assert_eq!(h, [0u8; HEADER_LEN]);
        assert_eq!(decode(&h), Ok(RxHeader::Anonymous));
    }

    #[test]
    fn error_records_carry_an_errno() {
        let mut h = [0u8; HEADER_LEN];
        h[0..2].copy_from_slice(&0xffffu16.to_le_bytes());
        h[24..28].copy_from_slice(&(libc::ECONNREFUSED as u32).to_le_bytes());
        assert_eq!(decode(&h), Ok(RxHeader::Error(Errno(libc::ECONNREFUSED))));
        h[24..28].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(decode(&h), Err(Errno::EIO), "an error record needs an errno");
    }

    #[test]
    fn unknown_families_are_eio() {
        let mut h = [0u8; HEADER_LEN];
        h[0] = 1;
        assert_eq!(decode(&h), Err(Errno::EIO));
    }
}
