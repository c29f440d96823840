//! `struct sockaddr` in and out: the byte layouts of `sockaddr_in` (16 bytes) and
//! `sockaddr_in6` (28 bytes, or the 24-byte RFC 2133 form without `sin6_scope_id`), checked
//! the way Linux checks the addresses passed to `bind`, `connect` and `sendto`
//! (`inet_bind`, `inet6_bind`, `__inet_stream_connect`), and written back with the
//! truncate-and-report-the-full-length rule of `getsockname(2)`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::errno::Errno;

/// Length of `struct sockaddr_in`.
pub const SOCKADDR_IN_LEN: usize = 16;
/// Length of `struct sockaddr_in6`.
pub const SOCKADDR_IN6_LEN: usize = 28;
/// Length of the RFC 2133 `sockaddr_in6`, without `sin6_scope_id`, which Linux still accepts.
const SOCKADDR_IN6_RFC2133_LEN: usize = 24;

/// The IP version of a socket (`AF_INET` or `AF_INET6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    V4,
    V6,
}

impl Domain {
    pub fn from_family(family: libc::c_int) -> Option<Domain> {
        match family {
            libc::AF_INET => Some(Domain::V4),
            libc::AF_INET6 => Some(Domain::V6),
            _ => None,
        }
    }

    pub fn family(self) -> libc::c_int {
        match self {
            Domain::V4 => libc::AF_INET,
            Domain::V6 => libc::AF_INET6,
        }
    }
}

/// An address the application passed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppAddr {
    Inet(SocketAddr),
    /// `AF_UNSPEC`: `connect` dissolves the association. `bind` on an IPv4 socket accepts it
    /// when the address is `INADDR_ANY`, so the IPv4 reading of the bytes comes along.
    Unspec(Option<SocketAddrV4>),
}

/// Parses the `len` bytes of a socket address passed to a socket of `domain`.
///
/// Errors as Linux: shorter than its family's structure -> `EINVAL`; a family other than
/// the socket's -> `EAFNOSUPPORT`.
pub fn parse(bytes: &[u8], domain: Domain) -> Result<AppAddr, Errno> {
    let family = bytes.get(..2).map(|f| u16::from_ne_bytes([f[0], f[1]])).ok_or(Errno::EINVAL)?;
    let family = libc::c_int::from(family);
    if family == libc::AF_UNSPEC {
        return Ok(AppAddr::Unspec(parse_v4(bytes)));
    }
    match domain {
        Domain::V4 => {
            let addr = parse_v4(bytes).ok_or(Errno::EINVAL)?;
            if family != libc::AF_INET {
                return Err(Errno::EAFNOSUPPORT);
            }
            Ok(AppAddr::Inet(SocketAddr::V4(addr)))
        }
        Domain::V6 => {
            if bytes.len() < SOCKADDR_IN6_RFC2133_LEN {
                return Err(Errno::EINVAL);
            }
            if family != libc::AF_INET6 {
                return Err(Errno::EAFNOSUPPORT);
            }
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            let flowinfo = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&bytes[8..24]);
            let scope_id =
                bytes.get(24..28).map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]])).unwrap_or(0);
            Ok(AppAddr::Inet(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flowinfo, scope_id))))
        }
    }
}

fn parse_v4(bytes: &[u8]) -> Option<SocketAddrV4> {
    let b = bytes.get(..SOCKADDR_IN_LEN)?;
    let port = u16::from_be_bytes([b[2], b[3]]);
    Some(SocketAddrV4::new(Ipv4Addr::new(b[4], b[5], b[6], b[7]), port))
}

/// The bytes of the `sockaddr_in` or `sockaddr_in6` for `addr`, and how many of them count.
pub fn encode(addr: &SocketAddr) -> ([u8; SOCKADDR_IN6_LEN], usize) {
    let mut out = [0u8; SOCKADDR_IN6_LEN];
    match addr {
        SocketAddr::V4(a) => {
            let family = libc::AF_INET as u16;
            out[0..2].copy_from_slice(&family.to_ne_bytes());
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.ip().octets());
            (out, SOCKADDR_IN_LEN)
        }
        SocketAddr::V6(a) => {
            let family = libc::AF_INET6 as u16;
            out[0..2].copy_from_slice(&family.to_ne_bytes());
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
            out[8..24].copy_from_slice(&a.ip().octets());
            out[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
            (out, SOCKADDR_IN6_LEN)
        }
    }
}

/// Reads the address the application passed as `(ptr, len)`.
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes, as the C API requires.
pub unsafe fn read_from_app(
    ptr: *const libc::sockaddr,
    len: libc::socklen_t,
    domain: Domain,
) -> Result<AppAddr, Errno> {
    if ptr.is_null() {
        return Err(if len == 0 { Errno::EINVAL } else { Errno::EFAULT });
    }
    // Linux refuses anything longer than sockaddr_storage (move_addr_to_kernel).
    let len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    if len > std::mem::size_of::<libc::sockaddr_storage>() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`, and `len` is bounded.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    parse(bytes, domain)
}

/// `addr` as a socket of `domain` reports it: an IPv4 address on an IPv6 socket becomes
/// IPv4-mapped (`::ffff:a.b.c.d`), as Linux reports the IPv4 peers of dual-stack sockets.
pub fn for_domain(addr: SocketAddr, domain: Domain) -> SocketAddr {
    match (addr, domain) {
        (SocketAddr::V4(a), Domain::V6) => {
            SocketAddr::V6(SocketAddrV6::new(a.ip().to_ipv6_mapped(), a.port(), 0, 0))
        }
        (addr, _) => addr,
    }
}

/// Writes `addr` for an application socket of `domain` the way `getsockname(2)` does: at
/// most `*len` bytes, then `*len` set to the address's full length.
///
/// # Safety
/// `out` must be null or point to `*len` writable bytes; `len` must be null or valid.
pub unsafe fn write_to_app(
    addr: &SocketAddr,
    domain: Domain,
    out: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
) -> Result<(), Errno> {
    let addr = &for_domain(*addr, domain);
    if len.is_null() {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `len` is non-null and the caller guarantees it is valid.
    let room = unsafe { *len };
    if i32::try_from(room).is_err() {
        return Err(Errno::EINVAL);
    }
    let (bytes, full) = encode(addr);
    let n = full.min(room as usize);
    if n > 0 {
        if out.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: the caller guarantees `*len` writable bytes at `out`; n <= *len.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.cast::<u8>(), n) };
    }
    // SAFETY: as above.
    unsafe { *len = full as libc::socklen_t };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sockaddr_in_bytes(port: u16, ip: [u8; 4]) -> Vec<u8> {
        // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
        let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_port = port.to_be();
        sin.sin_addr.s_addr = u32::from_ne_bytes(ip);
        // SAFETY: reading the bytes of a fully initialised repr(C) struct without padding holes
        // that matter (sin_zero is initialised).
        unsafe { std::slice::from_raw_parts((&raw const sin).cast::<u8>(), SOCKADDR_IN_LEN).to_vec() }
    }

    fn sockaddr_in6_bytes(port: u16, ip: Ipv6Addr, flow: u32, scope: u32) -> Vec<u8> {
        // SAFETY: sockaddr_in6 is plain old data; all-zero is a valid value.
        let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sin6.sin6_port = port.to_be();
        sin6.sin6_flowinfo = flow.to_be();
        sin6.sin6_addr.s6_addr = ip.octets();
        sin6.sin6_scope_id = scope;
        // SAFETY: as above; sockaddr_in6 has no padding.
        unsafe { std::slice::from_raw_parts((&raw const sin6).cast::<u8>(), SOCKADDR_IN6_LEN).to_vec() }
    }

    #[test]
    fn ipv4_round_trips_through_libc_layout() {
        let bytes = sockaddr_in_bytes(8080, [192, 0, 2, 7]);
        let addr = parse(&bytes, Domain::V4).unwrap();
        let expect: SocketAddr = "192.0.2.7:8080".parse().unwrap();
        assert_eq!(addr, AppAddr::Inet(expect));
        let (out, len) = encode(&expect);
        assert_eq!(&out[..len], &bytes[..]);
    }

    #[test]
    fn ipv6_round_trips_with_flow_and_scope() {
        let ip: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let bytes = sockaddr_in6_bytes(443, ip, 0x12345, 3);
        let addr = parse(&bytes, Domain::V6).unwrap();
        let expect = SocketAddr::V6(SocketAddrV6::new(ip, 443, 0x12345, 3));
        assert_eq!(addr, AppAddr::Inet(expect));
        let (out, len) = encode(&expect);
        assert_eq!(&out[..len], &bytes[..]);
    }

    #[test]
    fn rfc2133_sockaddr_in6_without_scope_is_accepted() {
        let bytes = sockaddr_in6_bytes(1, Ipv6Addr::LOCALHOST, 0, 9);
        let addr = parse(&bytes[..24], Domain::V6).unwrap();
        let expect = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 1, 0, 0));
        assert_eq!(addr, AppAddr::Inet(expect));
    }

    #[test]
    fn short_addresses_are_einval_and_wrong_families_eafnosupport() {
        let v4 = sockaddr_in_bytes(1, [192, 0, 2, 1]);
        assert_eq!(parse(&v4[..15], Domain::V4), Err(Errno::EINVAL));
        assert_eq!(parse(&v4[..1], Domain::V4), Err(Errno::EINVAL));
        // Linux checks the IPv6 length before the family.
        assert_eq!(parse(&v4, Domain::V6), Err(Errno::EINVAL));
        let v6 = sockaddr_in6_bytes(1, Ipv6Addr::LOCALHOST, 0, 0);
        assert_eq!(parse(&v6, Domain::V4), Err(Errno::EAFNOSUPPORT));
        let mut unix = v6.clone();
        unix[0..2].copy_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        assert_eq!(parse(&unix, Domain::V6), Err(Errno::EAFNOSUPPORT));
    }

    #[test]
    fn af_unspec_carries_the_ipv4_reading() {
        let mut bytes = sockaddr_in_bytes(99, [0, 0, 0, 0]);
        bytes[0..2].copy_from_slice(&(libc::AF_UNSPEC as u16).to_ne_bytes());
        assert_eq!(
            parse(&bytes, Domain::V4),
            Ok(AppAddr::Unspec(Some(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 99))))
        );
        assert_eq!(parse(&bytes[..2], Domain::V6), Ok(AppAddr::Unspec(None)));
    }

    #[test]
    fn write_to_app_truncates_and_reports_full_length() {
        let addr: SocketAddr = "[2001:db8::1]:53".parse().unwrap();
        let mut buf = [0xaau8; 40];
        let mut len: libc::socklen_t = 8;
        // SAFETY: buf has 40 writable bytes, more than len.
        unsafe { write_to_app(&addr, Domain::V6, buf.as_mut_ptr().cast(), &mut len) }.unwrap();
        assert_eq!(len as usize, SOCKADDR_IN6_LEN);
        assert_eq!(&buf[..2], &(libc::AF_INET6 as u16).to_ne_bytes());
        assert_eq!(&buf[2..4], &53u16.to_be_bytes());
        assert_eq!(buf[8], 0xaa, "bytes past *len stay untouched");

        let mut len: libc::socklen_t = 40;
        // SAFETY: as above.
        unsafe { write_to_app(&addr, Domain::V6, buf.as_mut_ptr().cast(), &mut len) }.unwrap();
        assert_eq!(len as usize, SOCKADDR_IN6_LEN);
        assert_eq!(parse(&buf[..28], Domain::V6), Ok(AppAddr::Inet(addr)));
    }

    #[test]
    fn ipv6_sockets_report_ipv4_peers_as_mapped_addresses() {
        let v4: SocketAddr = "192.0.2.9:80".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:192.0.2.9]:80".parse().unwrap();
        assert_eq!(for_domain(v4, Domain::V6), mapped);
        assert_eq!(for_domain(v4, Domain::V4), v4);
        assert_eq!(for_domain(mapped, Domain::V6), mapped);
        let mut buf = [0u8; 28];
        let mut len: libc::socklen_t = 28;
        // SAFETY: buf has 28 writable bytes.
        unsafe { write_to_app(&v4, Domain::V6, buf.as_mut_ptr().cast(), &mut len) }.unwrap();
        assert_eq!(len as usize, SOCKADDR_IN6_LEN);
        assert_eq!(parse(&buf, Domain::V6), Ok(AppAddr::Inet(mapped)));
    }

    #[test]
    fn null_pointers_are_efault() {
        let addr: SocketAddr = "192.0.2.1:1".parse().unwrap();
        // SAFETY: null pointers are handled before any access.
        let r = unsafe { write_to_app(&addr, Domain::V4, std::ptr::null_mut(), std::ptr::null_mut()) };
        assert_eq!(r, Err(Errno::EFAULT));
        // SAFETY: as above.
        let r = unsafe { read_from_app(std::ptr::null(), 16, Domain::V4) };
        assert_eq!(r, Err(Errno::EFAULT));
    }
}
