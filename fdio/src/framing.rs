//! The datagram data-plane header as the shim reads it: [`netstack_fidl::datagram_header`],
//! with a header the netstack should not have written (an unknown family, an error record
//! without an errno) turned into `EIO`.

use netstack_fidl::datagram_header::{self, Received, HEADER_LEN};

use crate::errno::Errno;

/// What a header received from the netstack says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxHeader {
    /// A datagram from this source.
    From(std::net::SocketAddr),
    /// A datagram without a source address.
    Anonymous,
    /// An asynchronous error to report from the next receive call.
    Error(Errno),
}

/// Reads a header the netstack wrote. An unknown family is a broken peer: `EIO`.
pub fn decode(h: &[u8; HEADER_LEN]) -> Result<RxHeader, Errno> {
    match datagram_header::decode(h) {
        Ok(Received::From(addr)) => Ok(RxHeader::From(addr)),
        Ok(Received::Anonymous) => Ok(RxHeader::Anonymous),
        Ok(Received::Error(errno)) if errno > 0 => Ok(RxHeader::Error(Errno(errno))),
        Ok(Received::Error(_)) | Err(_) => Err(Errno::EIO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn sources_pass_through() {
        let src: std::net::SocketAddr = "198.51.100.9:5353".parse().unwrap();
        assert_eq!(decode(&datagram_header::encode(Some(&src))), Ok(RxHeader::From(src)));
        assert_eq!(decode(&datagram_header::encode(None)), Ok(RxHeader::Anonymous));
    }
}
