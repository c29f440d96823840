//! What TCP needs from the stack around it ([`TcpIpContext`], one per IP version), and the
//! dispatch that lets a socket of one version reach the other: a dual-stack IPv6 socket's
//! IPv4-mapped peers (RFC 4291 §2.5.5.2, RFC 3493 §3.7) are routed, reached and answered over
//! IPv4.
//!
//! The socket's IP header choices travel with each segment ([`IpHeaderOptions`]): a
//! dual-stack socket keeps one set per version, as Linux keeps `IP_TTL`/`IP_TOS` apart from
//! `IPV6_UNICAST_HOPS`/`IPV6_TCLASS`, and the version the segment travels over picks.
//!
//! Segments a connection with IPv4-mapped addresses writes carry the right IPv4 checksum
//! without being touched: the IPv6 pseudo-header (RFC 8200 §8.1) of `::ffff:a.b.c.d` addresses
//! differs from the IPv4 one (RFC 9293 §3.1) by two `0xffff` words and zeros, and the
//! one's-complement sum (RFC 1071) of a sum that is not zero does not change when `0xffff`,
//! its negative zero, is added.

use crate::addr::{Ip, IpAddr, IpVersion, Ipv4, Ipv6, SpecifiedAddr};
use crate::context::InstantContext;
use crate::device::DeviceId;
use crate::time::Instant;
use crate::transport::dual_stack::DualStackIpExt;
use crate::transport::SocketError;

use super::sockets::{TcpSocketId, TcpTimerId};
use super::Event;

/// The route a connection's segments take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRoute<I: Ip> {
    /// The source address.
    pub src: SpecifiedAddr<I::Addr>,
    /// The outgoing device.
    pub device: DeviceId,
    /// The path MTU: the device's, or less if path MTU discovery learned so.
    pub mtu: u32,
}

/// The IP header fields a socket chooses for the segments it sends over one IP version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpHeaderFields {
    /// The TTL (IPv4) or Hop Limit (IPv6); `None` for the stack's default (IPv4's
    /// `ip_default_ttl`, the device's CurHopLimit for IPv6).
    pub hop_limit: Option<u8>,
    /// The IPv4 Type of Service or IPv6 Traffic Class byte: DSCP in the upper six bits, ECN
    /// in the lower two (RFC 2474 §3, RFC 3168 §5).
    pub tos: u8,
}

/// A socket's [`IpHeaderFields`] for each IP version its segments may travel over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpHeaderOptions {
    /// Over IPv4: `IP_TTL` and `IP_TOS`.
    pub v4: IpHeaderFields,
    /// Over IPv6: `IPV6_UNICAST_HOPS` and `IPV6_TCLASS`.
    pub v6: IpHeaderFields,
}

impl IpHeaderOptions {
    /// The fields for segments over `version`.
    pub fn get(&self, version: IpVersion) -> IpHeaderFields {
        match version {
            IpVersion::V4 => self.v4,
            IpVersion::V6 => self.v6,
        }
    }

    /// The fields for segments over `version`, mutably.
    pub fn get_mut(&mut self, version: IpVersion) -> &mut IpHeaderFields {
        match version {
            IpVersion::V4 => &mut self.v4,
            IpVersion::V6 => &mut self.v6,
        }
    }
}

/// Why sending a segment failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentSendError {
    /// The transmit pool is empty: the segment was not written.
    NoBuffer,
    /// The destination cannot be reached (no route, no source address).
    Unroutable,
}

/// What the TCP layer needs from the stack around it, for IP version `I`.
pub trait TcpIpContext<I: Ip>: InstantContext {
    /// The route to `dst`: the source (`src` if it is assigned to this host), the device
    /// (`device` if the socket is bound to one) and the path MTU.
    fn route(
        &mut self,
        dst: SpecifiedAddr<I::Addr>,
        src: Option<SpecifiedAddr<I::Addr>>,
        device: Option<DeviceId>,
    ) -> Result<TcpRoute<I>, SocketError>;

    /// Whether `addr` is a unicast address of this host (on `device` if given).
    fn is_local_addr(&self, addr: SpecifiedAddr<I::Addr>, device: Option<DeviceId>) -> bool;

    /// The MTU of `device`, for segments that arrived on it.
    fn device_mtu(&self, device: DeviceId) -> u32;

    /// Sends one segment from `src` to `dst`, out of `device` if given (a socket bound to a
    /// device, a link-local peer): `write` is given the buffer the segment goes into (at most
    /// the path MTU less the IP header) and returns the length it wrote, or `None` when it
    /// has nothing to send. `header` gives the packet's hop limit and TOS / Traffic Class.
    /// Returns whether a segment went out.
    fn send_segment(
        &mut self,
        src: I::Addr,
        dst: I::Addr,
        device: Option<DeviceId>,
        header: IpHeaderFields,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SegmentSendError>;

    /// Arms the socket's timer for `at`, replacing any earlier setting.
    fn schedule_timer(&mut self, timer: TcpTimerId, at: Instant);

    /// Reports a readiness change of a socket the application holds.
    fn socket_event(&mut self, socket: TcpSocketId<I>, event: Event);
}

/// The whole context TCP runs in: both IP versions, since dual-stack IPv6 sockets reach IPv4
/// peers. The stack's context implements it.
pub trait TcpContext: TcpIpContext<Ipv4> + TcpIpContext<Ipv6> {}

impl<C: TcpIpContext<Ipv4> + TcpIpContext<Ipv6>> TcpContext for C {}

/// The IPv4 address `addr` stands for, if it is IPv4 on the wire and specified.
fn wire_v4<J: DualStackIpExt>(addr: J::Addr) -> Option<SpecifiedAddr<crate::addr::Ipv4Addr>> {
    match J::wire(addr) {
        IpAddr::V4(a) => SpecifiedAddr::new(a),
        IpAddr::V6(_) => None,
    }
}

/// The route from a socket of version `J` to `dst`, over the IP version its addresses travel
/// over: IPv4 for IPv4-mapped ones. A source and destination of different versions cannot be
/// routed (EINVAL), nor a mapped destination of `::ffff:0.0.0.0`.
pub(super) fn route<J: DualStackIpExt, C: TcpContext>(
    ctx: &mut C,
    dst: SpecifiedAddr<J::Addr>,
    src: Option<SpecifiedAddr<J::Addr>>,
    device: Option<DeviceId>,
) -> Result<TcpRoute<J>, SocketError> {
    let back = |src: IpAddr, device: DeviceId, mtu: u32| {
        let src = J::from_ip(src).and_then(SpecifiedAddr::new).ok_or(SocketError::AddrNotAvailable)?;
        Ok(TcpRoute { src, device, mtu })
    };
    match (J::wire(*dst), src.map(|s| J::wire(*s))) {
        (IpAddr::V4(_), None | Some(IpAddr::V4(_))) => {
            let dst = wire_v4::<J>(*dst).ok_or(SocketError::InvalidArgument)?;
            let src = src.and_then(|s| wire_v4::<J>(*s));
            let r = TcpIpContext::<Ipv4>::route(ctx, dst, src, device)?;
            back(IpAddr::V4(*r.src), r.device, r.mtu)
        }
        (IpAddr::V6(d), None | Some(IpAddr::V6(_))) => {
            let dst = SpecifiedAddr::new(d).ok_or(SocketError::InvalidArgument)?;
            let src = src.and_then(|s| match J::wire(*s) {
                IpAddr::V6(s) => SpecifiedAddr::new(s),
                IpAddr::V4(_) => None,
            });
            let r = TcpIpContext::<Ipv6>::route(ctx, dst, src, device)?;
            back(IpAddr::V6(*r.src), r.device, r.mtu)
        }
        _ => Err(SocketError::InvalidArgument),
    }
}

/// Whether `addr`, as a socket of version `J` names it, is a unicast address of this host
/// (on `device` if given).
pub(super) fn is_local_addr<J: DualStackIpExt, C: TcpContext>(
    ctx: &C,
    addr: SpecifiedAddr<J::Addr>,
    device: Option<DeviceId>,
) -> bool {
    match J::wire(*addr) {
        IpAddr::V4(a) => {
            SpecifiedAddr::new(a).is_some_and(|a| TcpIpContext::<Ipv4>::is_local_addr(ctx, a, device))
        }
        IpAddr::V6(a) => {
            SpecifiedAddr::new(a).is_some_and(|a| TcpIpContext::<Ipv6>::is_local_addr(ctx, a, device))
        }
    }
}

/// Sends a segment of a socket of version `J` over the version its addresses travel over,
/// with the socket's `header` choices for that version.
pub(super) fn send_segment<J: DualStackIpExt, C: TcpContext>(
    ctx: &mut C,
    src: J::Addr,
    dst: J::Addr,
    device: Option<DeviceId>,
    header: &IpHeaderOptions,
    write: impl FnOnce(&mut [u8]) -> Option<usize>,
) -> Result<bool, SegmentSendError> {
    match (J::wire(src), J::wire(dst)) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            TcpIpContext::<Ipv4>::send_segment(ctx, s, d, device, header.v4, write)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            TcpIpContext::<Ipv6>::send_segment(ctx, s, d, device, header.v6, write)
        }
        _ => Err(SegmentSendError::Unroutable),
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use proptest::prelude::*;

    use crate::addr::{Ipv4Addr, Ipv6Addr};
    use crate::buf::ParsablePacket;
    use crate::transport::tcp::segment::write_segment;
    use crate::transport::tcp::{Endpoint, SeqNum};
    use crate::wire::tcp::{TcpFlags, TcpOptions, TcpSegment, HEADER_LEN};

    proptest! {
        /// A segment written for IPv4-mapped endpoints checks as the IPv4 segment it is.
        #[test]
        fn rfc1071_the_mapped_pseudo_header_sums_to_the_ipv4_one(
            a in any::<[u8; 4]>(), b in any::<[u8; 4]>(), ports in any::<(u16, u16)>(),
            seq in any::<u32>(), payload in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let (a, b) = (Ipv4Addr::new(a), Ipv4Addr::new(b));
            let local = Endpoint { addr: a.to_ipv6_mapped(), port: ports.0 };
            let remote = Endpoint { addr: b.to_ipv6_mapped(), port: ports.1 };
            let mut out = vec![0u8; HEADER_LEN + payload.len()];
            out[HEADER_LEN..].copy_from_slice(&payload);
            let flags = TcpFlags::ACK;
            let n = write_segment(&mut out, local, remote, SeqNum(seq), SeqNum(1), flags, 100, &TcpOptions::NONE, payload.len());
            let n = n.unwrap();
            let as_v4 = TcpSegment::<&[u8], Ipv4Addr>::parse_bytes(&out[..n], (a, b));
            prop_assert!(as_v4.is_ok(), "{:?}", as_v4.err());
            let as_v6 = TcpSegment::<&[u8], Ipv6Addr>::parse_bytes(&out[..n], (local.addr, remote.addr));
            prop_assert!(as_v6.is_ok());
        }
    }
}
