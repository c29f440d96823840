//! The receive-side control messages of datagram sockets (RFC 3542 §6 for IPv6, `ip(7)` for
//! IPv4): `IP_TTL`, `IP_TOS`, `IPV6_HOPLIMIT` and `IPV6_TCLASS`, built from bytes 28..31 of
//! the data-plane header (`fidl/README.md`, "The datagram data plane") when the application
//! enabled `IP_RECVTTL`, `IP_RECVTOS`, `IPV6_RECVHOPLIMIT` or `IPV6_RECVTCLASS`.
//!
//! Linux's rules are kept: an IPv4 datagram (also one an IPv6 socket receives from an
//! IPv4-mapped address) gets the `IPPROTO_IP` messages, an IPv6 one the `IPPROTO_IPV6`
//! messages; the TTL and both traffic classes of IPv6 are `int`s, the IPv4 TOS one byte
//! (`ip_cmsg_recv_tos`). Messages are laid out as `put_cmsg` lays them: a message that does
//! not fit whole is cut to the room left and sets `MSG_CTRUNC`, and when not even a
//! `cmsghdr` fits nothing is written but `MSG_CTRUNC`; `msg_controllen` becomes the bytes
//! used.

use std::ffi::c_int;
use std::mem::{offset_of, size_of};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU8, Ordering};

use netstack_fidl::datagram_header::RecvMeta;

use crate::sockopt::Opt;

/// Bit of [`RecvFlags`]: `IP_RECVTTL`.
const RECV_TTL: u8 = 1 << 0;
/// Bit of [`RecvFlags`]: `IP_RECVTOS`.
const RECV_TOS: u8 = 1 << 1;
/// Bit of [`RecvFlags`]: `IPV6_RECVHOPLIMIT`.
const RECV_HOPLIMIT: u8 = 1 << 2;
/// Bit of [`RecvFlags`]: `IPV6_RECVTCLASS`.
const RECV_TCLASS: u8 = 1 << 3;

/// The `IP_RECV*`/`IPV6_RECV*` options a socket's application enabled, remembered by the
/// shim as it forwards them to the netstack (which keeps them for `getsockopt`).
#[derive(Debug, Default)]
pub struct RecvFlags(AtomicU8);

impl RecvFlags {
    /// Remembers `opt` set to `on`, if it is one of the four receive options.
    pub fn remember(&self, opt: Opt, on: bool) {
        let bit = match opt {
            Opt::IpRecvTtl => RECV_TTL,
            Opt::IpRecvTos => RECV_TOS,
            Opt::Ipv6RecvHopLimit => RECV_HOPLIMIT,
            Opt::Ipv6RecvTClass => RECV_TCLASS,
            _ => return,
        };
        if on {
            self.0.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.0.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Whether any is enabled: the receive path looks no further otherwise.
    pub fn any(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }

    fn has(&self, bit: u8) -> bool {
        self.0.load(Ordering::Relaxed) & bit != 0
    }
}

/// A control message's data: an `int`, or the one byte of the IPv4 `IP_TOS`. Kept inline,
/// so building a datagram's control messages allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Data {
    bytes: [u8; size_of::<c_int>()],
    len: usize,
}

impl Data {
    fn int(v: u8) -> Data {
        Data { bytes: c_int::from(v).to_ne_bytes(), len: size_of::<c_int>() }
    }

    fn byte(v: u8) -> Data {
        let mut bytes = [0; size_of::<c_int>()];
        bytes[0] = v;
        Data { bytes, len: 1 }
    }
}

impl Deref for Data {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// One control message: level, type and data.
pub type Message = (c_int, c_int, Data);

/// The control messages a datagram from `source` with `meta` earns under `flags`, in
/// Linux's order (TTL before TOS, Hop Limit before Traffic Class).
pub fn messages(flags: &RecvFlags, source: &SocketAddr, meta: RecvMeta) -> impl Iterator<Item = Message> {
    let ipv4 = match source {
        SocketAddr::V4(_) => true,
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
    };
    let pair = if ipv4 {
        [
            meta.hop_limit
                .filter(|_| flags.has(RECV_TTL))
                .map(|ttl| (libc::IPPROTO_IP, libc::IP_TTL, Data::int(ttl))),
            meta.tos
                .filter(|_| flags.has(RECV_TOS))
                .map(|tos| (libc::IPPROTO_IP, libc::IP_TOS, Data::byte(tos))),
        ]
    } else {
        [
            meta.hop_limit
                .filter(|_| flags.has(RECV_HOPLIMIT))
                .map(|hops| (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT, Data::int(hops))),
            meta.tos
                .filter(|_| flags.has(RECV_TCLASS))
                .map(|class| (libc::IPPROTO_IPV6, libc::IPV6_TCLASS, Data::int(class))),
        ]
    };
    pair.into_iter().flatten()
}

/// `CMSG_ALIGN`: control messages align to `long`.
const fn align(len: usize) -> usize {
    let a = size_of::<libc::c_long>();
    (len + a - 1) & !(a - 1)
}

/// `CMSG_LEN(0)`: the aligned header.
const HDR: usize = align(size_of::<libc::cmsghdr>());

/// Writes `messages` into `out` (the application's `msg_control`, `out.len()` its
/// `msg_controllen`) as Linux's `put_cmsg` does; returns the bytes used (the new
/// `msg_controllen`) and whether anything was cut (`MSG_CTRUNC`).
pub fn write(messages: impl IntoIterator<Item = Message>, out: &mut [u8]) -> (usize, bool) {
    let mut used = 0;
    let mut truncated = false;
    for (level, kind, data) in messages {
        let room = out.len() - used;
        if room < size_of::<libc::cmsghdr>() {
            truncated = true;
            continue;
        }
        let mut len = HDR + data.len();
        if room < len {
            truncated = true;
            len = room;
        }
        let at = &mut out[used..];
        at[..room.min(HDR)].fill(0);
        let put = |at: &mut [u8], offset: usize, bytes: &[u8]| {
            at[offset..offset + bytes.len()].copy_from_slice(bytes)
        };
        put(at, offset_of!(libc::cmsghdr, cmsg_len), &len.to_ne_bytes()[..size_of_cmsg_len()]);
        put(at, offset_of!(libc::cmsghdr, cmsg_level), &level.to_ne_bytes());
        put(at, offset_of!(libc::cmsghdr, cmsg_type), &kind.to_ne_bytes());
        let body = len - HDR.min(len);
        at[HDR..HDR + body].copy_from_slice(&data[..body]);
        used += (HDR + align(data.len())).min(room);
    }
    (used, truncated)
}

/// The width of `cmsg_len` (`size_t` with glibc, `socklen_t` with musl).
const fn size_of_cmsg_len() -> usize {
    size_of::<libc::cmsghdr>() - 2 * size_of::<c_int>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(opts: &[Opt]) -> RecvFlags {
        let f = RecvFlags::default();
        for &o in opts {
            f.remember(o, true);
        }
        f
    }

    fn ttl_tos(hops: u8, tos: u8) -> RecvMeta {
        RecvMeta { hop_limit: Some(hops), tos: Some(tos) }
    }

    /// Messages as plain tuples, to compare with the bytes expected.
    fn plain(messages: impl IntoIterator<Item = Message>) -> Vec<(c_int, c_int, Vec<u8>)> {
        messages.into_iter().map(|(level, kind, data)| (level, kind, data.to_vec())).collect()
    }

    /// Reads back what `write` wrote with the C library's own macros.
    fn parse(buf: &mut [u8], used: usize) -> Vec<(c_int, c_int, Vec<u8>)> {
        // SAFETY: msghdr is plain old data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = buf.as_mut_ptr().cast();
        msg.msg_controllen = used as _;
        let mut out = Vec::new();
        // SAFETY: msg_control points at `used` initialised bytes of `buf`.
        let mut c = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        while !c.is_null() {
            // SAFETY: CMSG_FIRSTHDR/NXTHDR return headers inside the buffer.
            let (level, kind, len) = unsafe { ((*c).cmsg_level, (*c).cmsg_type, (*c).cmsg_len as usize) };
            // SAFETY: the data follows the header, `len - CMSG_LEN(0)` bytes, inside the buffer.
            let data = unsafe { std::slice::from_raw_parts(libc::CMSG_DATA(c), len - HDR) }.to_vec();
            out.push((level, kind, data));
            // SAFETY: as above.
            c = unsafe { libc::CMSG_NXTHDR(&msg, c) };
        }
        out
    }

    #[test]
    fn ipv4_datagrams_get_ttl_as_int_and_tos_as_a_byte_when_asked() {
        let from: SocketAddr = "192.0.2.1:0".parse().unwrap();
        let both = plain(messages(&flags(&[Opt::IpRecvTtl, Opt::IpRecvTos]), &from, ttl_tos(63, 0xb8)));
        assert_eq!(
            both,
            vec![
                (libc::IPPROTO_IP, libc::IP_TTL, 63i32.to_ne_bytes().to_vec()),
                (libc::IPPROTO_IP, libc::IP_TOS, vec![0xb8])
            ]
        );
        assert!(messages(&flags(&[]), &from, ttl_tos(63, 0)).next().is_none());
        // The IPv6 options say nothing about IPv4 datagrams, as on Linux.
        assert!(messages(&flags(&[Opt::Ipv6RecvHopLimit]), &from, ttl_tos(63, 0)).next().is_none());
        // Nor is anything made up when the netstack sent no value.
        assert!(messages(&flags(&[Opt::IpRecvTtl]), &from, RecvMeta::default()).next().is_none());
    }

    #[test]
    fn ipv6_datagrams_get_hop_limit_and_tclass_as_ints_and_mapped_ones_the_ipv4_kind() {
        let all = flags(&[Opt::IpRecvTtl, Opt::Ipv6RecvHopLimit, Opt::Ipv6RecvTClass]);
        let from: SocketAddr = "[2001:db8::1]:0".parse().unwrap();
        assert_eq!(
            plain(messages(&all, &from, ttl_tos(64, 2))),
            vec![
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT, 64i32.to_ne_bytes().to_vec()),
                (libc::IPPROTO_IPV6, libc::IPV6_TCLASS, 2i32.to_ne_bytes().to_vec()),
            ]
        );
        let mapped: SocketAddr = "[::ffff:192.0.2.1]:53".parse().unwrap();
        assert_eq!(
            plain(messages(&all, &mapped, ttl_tos(9, 2))),
            vec![(libc::IPPROTO_IP, libc::IP_TTL, 9i32.to_ne_bytes().to_vec())]
        );
        all.remember(Opt::Ipv6RecvHopLimit, false);
        all.remember(Opt::Ipv6RecvTClass, false);
        assert!(messages(&all, &from, ttl_tos(64, 2)).next().is_none());
    }

    #[test]
    fn messages_lay_out_as_the_c_library_reads_them() {
        let msgs = [
            (libc::IPPROTO_IP, libc::IP_TTL, Data::int(63)),
            (libc::IPPROTO_IP, libc::IP_TOS, Data::byte(0x10)),
        ];
        let mut buf = [0xaau8; 128];
        let (used, truncated) = write(msgs, &mut buf);
        // SAFETY: CMSG_SPACE is arithmetic.
        let expected = unsafe { libc::CMSG_SPACE(4) + libc::CMSG_SPACE(1) } as usize;
        assert_eq!((used, truncated), (expected, false));
        assert_eq!(
            parse(&mut buf, used),
            vec![
                (libc::IPPROTO_IP, libc::IP_TTL, 63i32.to_ne_bytes().to_vec()),
                (libc::IPPROTO_IP, libc::IP_TOS, vec![0x10]),
            ]
        );
    }

    #[test]
    fn too_little_room_truncates_like_put_cmsg() {
        let msgs = [
            (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT, Data::int(64)),
            (libc::IPPROTO_IPV6, libc::IPV6_TCLASS, Data::int(0)),
        ];
        // SAFETY: CMSG_SPACE and CMSG_LEN are arithmetic.
        let (space, len) = unsafe { (libc::CMSG_SPACE(4) as usize, libc::CMSG_LEN(4) as usize) };
        // Room for exactly the first: the second is dropped.
        let mut buf = vec![0u8; space];
        assert_eq!(write(msgs, &mut buf), (space, true));
        assert_eq!(parse(&mut buf, space), plain(msgs[..1].iter().copied()));
        // Room for a header and part of the data: the message is cut, its length says so.
        let mut buf = vec![0u8; len - 2];
        assert_eq!(write(msgs, &mut buf), (len - 2, true));
        let cut = (msgs[0].0, msgs[0].1, msgs[0].2[..2].to_vec());
        assert_eq!(parse(&mut buf, len - 2), vec![cut]);
        // Less than a header, or no buffer at all: nothing written, MSG_CTRUNC.
        assert_eq!(write(msgs, &mut [0u8; 8]), (0, true));
        assert_eq!(write(msgs, &mut []), (0, true));
        assert_eq!(write([], &mut []), (0, false));
    }
}
