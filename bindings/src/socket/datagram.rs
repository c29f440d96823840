//! Datagram sockets: core UDP sockets (dual-stack on IPv6, as on Linux), ICMP echo ("ping")
//! sockets and raw IP sockets, and their data plane (`fidl/README.md`, "The datagram data
//! plane").
//!
//! Application to network: each packet from the socketpair is a 32-byte header naming the
//! destination (or none, for the connected peer) and the payload: a UDP payload; for an echo
//! socket the whole ICMP Echo Request, header included, as Linux's ping sockets take it; for a
//! raw socket the IP payload (the stack writes the IP header, and an ICMPv6 checksum). A raw
//! socket ignores the port of an IPv4 destination; in an IPv6 one the port is the protocol,
//! 0 or the socket's own (`EINVAL` otherwise), as in Linux's `rawv6_sendmsg`.
//! The send happens at once; an error the send call returns on Linux (`EHOSTUNREACH`,
//! `EACCES` for a broadcast without `SO_BROADCAST`, `EMSGSIZE`, ...) comes back as an error
//! record, which the shim returns from the next receive call. A full transmit path
//! (`ENOBUFS`) drops the datagram silently, as a full qdisc does under UDP on Linux.
//!
//! Network to application: each datagram the core queued goes out as one packet, header
//! (source address and port, port 0 for a raw socket; the TTL/Hop Limit and TOS/Traffic
//! Class of its IP header, always, for the shim's IP_RECVTTL and kin) then payload: a raw IPv4 socket's
//! begins with the IPv4 header, a raw IPv6 socket's after the IPv6 header and its extensions
//! (RFC 3542 §3); asynchronous errors (ICMP errors on a connected socket) as error records. A packet that finds the socketpair full is dropped and counted,
//! as a full `SO_RCVBUF` drops on Linux.

use netstack_core::addr::{Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, SpecifiedAddr};
use netstack_core::device::DeviceId;
use netstack_core::transport::ping::PingSocketId;
use netstack_core::transport::raw::RawSocketId;
use netstack_core::transport::udp::UdpSocketId;
use netstack_core::transport::SocketError;
use netstack_fidl::fuchsia_posix::Errno;

use super::dataplane::{DatagramPlane, Packet, MAX_DATAGRAM};
use super::header::{DatagramHeader, RecvMeta, Source, EAFNOSUPPORT, EINVAL};
use super::stream::Progress;
use crate::eventloop::{BindingsCtx, NetStack};

/// Packets moved per direction per call, so one busy socket cannot hold the loop.
const PACKET_BUDGET: usize = 64;

/// `EMSGSIZE`: a packet longer than any datagram.
const EMSGSIZE: i32 = Errno::EMSGSIZE as i32;

/// A core datagram socket of one of the kinds served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DatagramId {
    /// UDP over IPv4.
    UdpV4(UdpSocketId<Ipv4>),
    /// UDP over IPv6 (and IPv4-mapped addresses unless IPV6_V6ONLY).
    UdpV6(UdpSocketId<Ipv6>),
    /// ICMP echo over IPv4.
    PingV4(PingSocketId<Ipv4>),
    /// ICMPv6 echo.
    PingV6(PingSocketId<Ipv6>),
    /// Raw IPv4, of one IP protocol.
    RawV4(RawSocketId<Ipv4>),
    /// Raw IPv6, of one IP protocol.
    RawV6(RawSocketId<Ipv6>),
}

impl DatagramId {
    /// Whether this is a raw socket (served as `fuchsia.posix.socket.raw/Socket`).
    pub(crate) fn is_raw(self) -> bool {
        matches!(self, DatagramId::RawV4(_) | DatagramId::RawV6(_))
    }
}

/// Runs `$body` with `$api` (the core's UDP, ping or raw sockets of the right IP version) and
/// `$id` bound for whichever kind `$socket` is: for calls every kind offers alike.
macro_rules! with_datagram {
    ($stack:expr, $ctx:expr, $socket:expr, |$api:ident, $id:ident| $body:expr) => {
        match $socket {
            $crate::socket::datagram::DatagramId::UdpV4($id) => $stack.udp_call($ctx, |$api, _| $body),
            $crate::socket::datagram::DatagramId::UdpV6($id) => $stack.udp_call($ctx, |$api, _| $body),
            $crate::socket::datagram::DatagramId::PingV4($id) => $stack.ping_call($ctx, |$api, _| $body),
            $crate::socket::datagram::DatagramId::PingV6($id) => $stack.ping6_call($ctx, |$api, _| $body),
            $crate::socket::datagram::DatagramId::RawV4($id) => $stack.raw_call($ctx, |$api, _| $body),
            $crate::socket::datagram::DatagramId::RawV6($id) => $stack.raw6_call($ctx, |$api, _| $body),
        }
    };
}
pub(crate) use with_datagram;

/// What the datagram pumps counted, for the server's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DatagramCounters {
    /// Datagrams the applications sent.
    pub(crate) sent: u64,
    /// Datagrams delivered to applications.
    pub(crate) delivered: u64,
    /// Datagrams dropped because the application's socketpair was full.
    pub(crate) dropped_full: u64,
    /// Sends that failed and came back as an error record.
    pub(crate) send_errors: u64,
    /// Packets from applications without a valid header (answered with an error record).
    pub(crate) malformed: u64,
    /// Error records sent to applications.
    pub(crate) error_records: u64,
}

/// A datagram socket; see the module documentation.
#[derive(Debug)]
pub(crate) struct DatagramSocket {
    pub(crate) id: DatagramId,
    pub(crate) plane: DatagramPlane,
}

/// A destination in the core's terms for IP version `I`: `None` for the connected peer.
type Destination<A> = Option<(SpecifiedAddr<A>, u16)>;

/// The destination a header names for an IPv4 socket.
fn destination_v4(header: DatagramHeader) -> Result<Destination<Ipv4Addr>, i32> {
    match header {
        DatagramHeader::Unspecified => Ok(None),
        DatagramHeader::V4 { addr, port } => {
            Ok(Some((SpecifiedAddr::new(Ipv4Addr::new(addr)).ok_or(EINVAL)?, port)))
        }
        DatagramHeader::V6 { .. } | DatagramHeader::Error(_) | DatagramHeader::Received { .. } => {
            Err(EAFNOSUPPORT)
        }
    }
}

/// The destination a header names for an IPv6 socket: an IPv4 one is IPv4-mapped, as
/// Linux's `udpv6_sendmsg` takes an `AF_INET` address on an `AF_INET6` socket.
fn destination_v6(header: DatagramHeader) -> Result<Destination<Ipv6Addr>, i32> {
    match header {
        DatagramHeader::Unspecified => Ok(None),
        DatagramHeader::V4 { addr, port } => {
            Ok(Some((SpecifiedAddr::new(Ipv4Addr::new(addr).to_ipv6_mapped()).ok_or(EINVAL)?, port)))
        }
        DatagramHeader::V6 { addr, port, .. } => {
            Ok(Some((SpecifiedAddr::new(Ipv6Addr::new(addr)).ok_or(EINVAL)?, port)))
        }
        DatagramHeader::Error(_) | DatagramHeader::Received { .. } => Err(EAFNOSUPPORT),
    }
}

/// The destination a header names for a raw IPv6 socket of protocol `proto`: no IPv4
/// (`EAFNOSUPPORT`), and a port, if any, that names the socket's protocol (`EINVAL`), as
/// Linux's `rawv6_sendmsg` checks them.
fn raw_destination_v6(header: DatagramHeader, proto: u8) -> Result<Option<SpecifiedAddr<Ipv6Addr>>, i32> {
    match header {
        DatagramHeader::V4 { .. } => Err(EAFNOSUPPORT),
        DatagramHeader::V6 { port, .. } if port != 0 && port != u16::from(proto) => Err(EINVAL),
        header => destination_v6(header).map(|dst| dst.map(|(addr, _)| addr)),
    }
}

/// The header of a datagram received from an IPv4 source with the TTL and TOS `meta`.
fn source_v4(addr: Ipv4Addr, port: u16, meta: RecvMeta) -> DatagramHeader {
    DatagramHeader::Received { from: Source::V4 { addr: addr.bytes(), port }, meta }
}

/// The header of a datagram received from an IPv6 source with the Hop Limit and Traffic
/// Class `meta`; a link-local source carries the interface it came in on.
fn source_v6(addr: Ipv6Addr, port: u16, device: DeviceId, meta: RecvMeta) -> DatagramHeader {
    let scope_id = if addr.is_unicast_link_local() { device.get() } else { 0 };
    DatagramHeader::Received { from: Source::V6 { addr: addr.bytes(), port, scope_id }, meta }
}

impl DatagramSocket {
    /// Sends everything the application queued, however much: called when it closes the
    /// socket, since each of those sends already returned success to it (as `sendto` does on
    /// Linux once the datagram is on its way). Bounded by the socketpair's buffer.
    pub(crate) fn flush(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        buf: &mut [u8],
        counters: &mut DatagramCounters,
    ) {
        // The reactor may not have reported the last packets' edge yet.
        self.plane.flags.readable = true;
        while self.pump_out(stack, ctx, buf, counters) == Progress::More {}
    }

    /// Sends what the application queued, up to the budget.
    pub(crate) fn pump_out(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        buf: &mut [u8],
        counters: &mut DatagramCounters,
    ) -> Progress {
        let room = MAX_DATAGRAM.min(buf.len());
        let buf = &mut buf[..room];
        for _ in 0..PACKET_BUDGET {
            if !self.plane.flags.readable {
                return Progress::Idle;
            }
            let len = match self.plane.recv(buf) {
                Ok(Packet::Bytes { truncated: true, .. }) => {
                    counters.malformed += 1;
                    self.error_record(EMSGSIZE, counters);
                    continue;
                }
                Ok(Packet::Bytes { len, .. }) => len,
                Ok(Packet::WouldBlock | Packet::Closed) => return Progress::Idle,
                Err(error) => {
                    tracing::warn!(%error, "reading a datagram data plane failed");
                    return Progress::Idle;
                }
            };
            let (header, payload) = match DatagramHeader::parse(&buf[..len]) {
                Ok(parsed) => parsed,
                Err(errno) => {
                    counters.malformed += 1;
                    self.error_record(errno, counters);
                    continue;
                }
            };
            match self.send(stack, ctx, header, payload) {
                Ok(()) => counters.sent += 1,
                // A full transmit path drops the datagram, as a full qdisc does.
                Err(SendFailure::Stack(SocketError::NoBufferSpace)) => {}
                Err(SendFailure::Stack(error)) => {
                    counters.send_errors += 1;
                    self.error_record(error.errno(), counters);
                }
                Err(SendFailure::Header(errno)) => {
                    counters.send_errors += 1;
                    self.error_record(errno, counters);
                }
            }
        }
        Progress::More
    }

    fn send(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        header: DatagramHeader,
        payload: &[u8],
    ) -> Result<(), SendFailure> {
        match self.id {
            DatagramId::UdpV4(id) => {
                let dst = destination_v4(header).map_err(SendFailure::Header)?;
                Ok(stack.udp_call(ctx, |udp, uctx| udp.send_to(uctx, id, dst, payload))?)
            }
            DatagramId::UdpV6(id) => {
                let dst = destination_v6(header).map_err(SendFailure::Header)?;
                Ok(stack.udp_call(ctx, |udp, uctx| udp.send_to(uctx, id, dst, payload))?)
            }
            DatagramId::PingV4(id) => {
                let dst = destination_v4(header).map_err(SendFailure::Header)?.map(|(a, _)| a);
                Ok(stack.ping_call(ctx, |ping, pctx| ping.send_to(pctx, id, dst, payload))?)
            }
            DatagramId::PingV6(id) => {
                let dst = destination_v6(header).map_err(SendFailure::Header)?.map(|(a, _)| a);
                Ok(stack.ping6_call(ctx, |ping, pctx| ping.send_to(pctx, id, dst, payload))?)
            }
            DatagramId::RawV4(id) => {
                let dst = destination_v4(header).map_err(SendFailure::Header)?.map(|(a, _)| a);
                Ok(stack.raw_call(ctx, |raw, rctx| raw.send_to(rctx, id, dst, payload))?)
            }
            DatagramId::RawV6(id) => {
                let proto = stack.raw6().options(id)?.protocol;
                let dst = raw_destination_v6(header, proto.0).map_err(SendFailure::Header)?;
                Ok(stack.raw6_call(ctx, |raw, rctx| raw.send_to(rctx, id, dst, payload))?)
            }
        }
    }

    /// Moves what the core queued for this socket into the socketpair, up to the budget.
    pub(crate) fn deliver(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        counters: &mut DatagramCounters,
    ) -> Progress {
        for _ in 0..PACKET_BUDGET {
            let sent = match self.id {
                DatagramId::UdpV4(id) => match stack.udp_call(ctx, |udp, _| udp.recv_from(id)) {
                    Ok(d) => self.plane.send(
                        source_v4(d.peer_addr, d.peer_port, RecvMeta::new(d.hop_limit, d.tos)),
                        d.payload.body(),
                    ),
                    Err(e) => return self.delivery_stopped(e, counters),
                },
                DatagramId::UdpV6(id) => match stack.udp_call(ctx, |udp, _| udp.recv_from(id)) {
                    Ok(d) => self.plane.send(
                        source_v6(d.peer_addr, d.peer_port, d.device, RecvMeta::new(d.hop_limit, d.tos)),
                        d.payload.body(),
                    ),
                    Err(e) => return self.delivery_stopped(e, counters),
                },
                DatagramId::PingV4(id) => match stack.ping_call(ctx, |ping, _| ping.recv_from(id)) {
                    Ok(d) => self
                        .plane
                        .send(source_v4(d.peer_addr, 0, RecvMeta::new(d.hop_limit, d.tos)), d.message.body()),
                    Err(e) => return self.delivery_stopped(e, counters),
                },
                DatagramId::PingV6(id) => match stack.ping6_call(ctx, |ping, _| ping.recv_from(id)) {
                    Ok(d) => self.plane.send(
                        source_v6(d.peer_addr, 0, d.device, RecvMeta::new(d.hop_limit, d.tos)),
                        d.message.body(),
                    ),
                    Err(e) => return self.delivery_stopped(e, counters),
                },
                DatagramId::RawV4(id) => match stack.raw_call(ctx, |raw, _| raw.recv_from(id)) {
                    Ok(d) => self
                        .plane
                        .send(source_v4(d.peer_addr, 0, RecvMeta::new(d.hop_limit, d.tos)), d.packet.body()),
                    Err(e) => return self.delivery_stopped(e, counters),
                },
                DatagramId::RawV6(id) => match stack.raw6_call(ctx, |raw, _| raw.recv_from(id)) {
                    Ok(d) => self.plane.send(
                        source_v6(d.peer_addr, 0, d.device, RecvMeta::new(d.hop_limit, d.tos)),
                        d.packet.body(),
                    ),
                    Err(e) => return self.delivery_stopped(e, counters),
                },
            };
            match sent {
                Ok(true) => counters.delivered += 1,
                Ok(false) => counters.dropped_full += 1,
                Err(error) => {
                    tracing::warn!(%error, "writing a datagram data plane failed");
                    counters.dropped_full += 1;
                }
            }
        }
        Progress::More
    }

    /// The core's receive queue is empty, or held an error first.
    fn delivery_stopped(&mut self, error: SocketError, counters: &mut DatagramCounters) -> Progress {
        match error {
            SocketError::WouldBlock | SocketError::BadSocket => Progress::Idle,
            error => {
                self.error_record(error.errno(), counters);
                Progress::More
            }
        }
    }

    /// Tells the application about `errno` through an error record.
    fn error_record(&mut self, errno: i32, counters: &mut DatagramCounters) {
        match self.plane.send(DatagramHeader::Error(errno), &[]) {
            Ok(true) => counters.error_records += 1,
            Ok(false) | Err(_) => counters.dropped_full += 1,
        }
    }

    /// Takes the pending error (SO_ERROR) from the core.
    pub(crate) fn take_error(&self, stack: &mut NetStack, ctx: &mut BindingsCtx) -> Option<SocketError> {
        let taken = match self.id {
            DatagramId::UdpV4(id) => stack.udp_call(ctx, |udp, _| udp.take_error(id)),
            DatagramId::UdpV6(id) => stack.udp_call(ctx, |udp, _| udp.take_error(id)),
            DatagramId::PingV4(id) => stack.ping_call(ctx, |ping, _| ping.take_error(id)),
            DatagramId::PingV6(id) => stack.ping6_call(ctx, |ping, _| ping.take_error(id)),
            // ICMP errors reach a raw ICMP socket as messages, never as SO_ERROR.
            DatagramId::RawV4(_) | DatagramId::RawV6(_) => Ok(None),
        };
        taken.ok().flatten()
    }

    /// Closes the core socket.
    pub(crate) fn close(&self, stack: &mut NetStack, ctx: &mut BindingsCtx) {
        Self::close_id(stack, ctx, self.id);
    }

    /// Closes core socket `id`.
    pub(crate) fn close_id(stack: &mut NetStack, ctx: &mut BindingsCtx, id: DatagramId) {
        let _ = match id {
            DatagramId::UdpV4(id) => stack.udp_call(ctx, |udp, uctx| udp.close(uctx, id)),
            DatagramId::UdpV6(id) => stack.udp_call(ctx, |udp, uctx| udp.close(uctx, id)),
            DatagramId::PingV4(id) => stack.ping_call(ctx, |ping, _| ping.close(id)),
            DatagramId::PingV6(id) => stack.ping6_call(ctx, |ping, _| ping.close(id)),
            DatagramId::RawV4(id) => stack.raw_call(ctx, |raw, _| raw.close(id)),
            DatagramId::RawV6(id) => stack.raw6_call(ctx, |raw, _| raw.close(id)),
        };
    }
}

/// Why a datagram from the application was not sent.
enum SendFailure {
    /// The header was unusable (an errno).
    Header(i32),
    /// The core refused it.
    Stack(SocketError),
}

impl From<SocketError> for SendFailure {
    fn from(error: SocketError) -> Self {
        SendFailure::Stack(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_follow_the_socket_version() {
        let v4 = DatagramHeader::V4 { addr: [192, 0, 2, 9], port: 53 };
        assert_eq!(
            destination_v4(v4).unwrap().map(|(a, p)| (*a, p)),
            Some((Ipv4Addr::new([192, 0, 2, 9]), 53))
        );
        assert_eq!(destination_v4(DatagramHeader::Unspecified), Ok(None));
        let v6 = DatagramHeader::V6 {
            addr: [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            port: 9,
            flowinfo: 0,
            scope_id: 0,
        };
        assert_eq!(destination_v4(v6), Err(EAFNOSUPPORT));
        // An IPv6 socket takes an IPv4 destination as IPv4-mapped.
        let mapped = destination_v6(v4).unwrap().unwrap();
        assert_eq!((mapped.0.to_ipv4_mapped(), mapped.1), (Some(Ipv4Addr::new([192, 0, 2, 9])), 53));
        assert_eq!(destination_v4(DatagramHeader::V4 { addr: [0; 4], port: 1 }), Err(EINVAL));
    }

    #[test]
    fn raw_ipv6_destinations_take_no_ipv4_and_only_their_protocol_as_port() {
        let v6 = |port| DatagramHeader::V6 {
            addr: [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            port,
            flowinfo: 0,
            scope_id: 0,
        };
        assert!(raw_destination_v6(v6(0), 58).unwrap().is_some());
        assert!(raw_destination_v6(v6(58), 58).unwrap().is_some());
        assert_eq!(raw_destination_v6(v6(17), 58), Err(EINVAL));
        let v4 = DatagramHeader::V4 { addr: [192, 0, 2, 9], port: 0 };
        assert_eq!(raw_destination_v6(v4, 58), Err(EAFNOSUPPORT));
        assert_eq!(raw_destination_v6(DatagramHeader::Unspecified, 58), Ok(None));
    }

    #[test]
    fn link_local_sources_carry_their_interface() {
        let meta = RecvMeta::new(64, 0);
        let ll = Ipv6Addr::from_segments([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
        let header = source_v6(ll, 7, DeviceId::new(3), meta);
        let DatagramHeader::Received { from: Source::V6 { scope_id, .. }, .. } = header else { panic!() };
        assert_eq!(scope_id, 3);
        let global = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
        let header = source_v6(global, 7, DeviceId::new(3), meta);
        let DatagramHeader::Received { from: Source::V6 { scope_id, .. }, .. } = header else { panic!() };
        assert_eq!(scope_id, 0);
    }
}
