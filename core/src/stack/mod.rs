//! The stack: devices, IP and transport state wired together, and the entry points the
//! bindings drive it through — frames in ([`Stack::receive_frame`]), timers firing
//! ([`Stack::handle_timer`]) and API calls.
//!
//! It runs Ethernet, pure-IP and loopback devices dual-stack. IPv4 (`ipv4.rs`): ARP, receive filtering and
//! validation, local delivery under the weak host model, ICMP echo and errors, IGMP,
//! fragmentation, reassembly, path MTU discovery and forwarding where enabled. IPv6
//! (`ipv6.rs`, `icmpv6.rs`, `ndp_ctx.rs`): NDP address resolution and unreachability detection,
//! link-local addresses with DAD, SLAAC and router discovery, MLD, ICMPv6 echo and errors,
//! fragmentation, reassembly, path MTU and forwarding. Packets to our own addresses go
//! through a loopback backlog; UDP, ping, raw and TCP sockets sit on both versions. Raw
//! sockets get a copy of every packet of their protocol the IP layer accepts, made before
//! the stack's own processing and delivered right after it ([`Stack::raw_call`]).

mod admin;
mod arp_ctx;
mod gmp_ctx;
mod icmp_counters;
mod icmpv6;
pub mod inspect;
mod ipv4;
mod ipv6;
mod ndp_ctx;
mod tcp_ctx;
mod timers;
mod transport_ctx;

pub use admin::{
    AddressAssignment, AddressInfo, DeviceInfo, DeviceKind, IpAddrSubnet, Ipv4AddressTimerId, NeighborEntry,
    MIN_IPV4_MTU,
};
use gmp_ctx::OutgoingReport;
pub use icmp_counters::IcmpTypeCounters;
pub use ipv6::{Ipv6Counters, DEFAULT_HOP_LIMIT};
use ipv6::{Ipv6Device, Ipv6Layer};

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::addr::IpVersion;
use crate::addr::{
    AddrSubnet, Ip, IpAddr, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, Mac, MulticastAddr, SpecifiedAddr, Subnet,
    UnicastAddr,
};
use crate::buf::{Buf, EmptyBody, InPlace, PacketBuilder, ParsablePacket, ParseMetadata, Serializer};
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::device::arp::{AcdEvent, ArpConfig, ArpState, ArpTimerId};
use crate::device::ethernet::{EthernetConfig, EthernetDevice, FrameDestination};
use crate::device::nud::{NeighborEvent, NudTimerId, SendOutcome};
use crate::device::pure_ip::PureIpRxCounters;
use crate::device::DeviceId;
use crate::ip::fragmentation::{FragmentPlan, FragmentationCounters, FragmentationError, Ipv4Fragmenter};
use crate::ip::gmp::{Gmp, GmpConfig, GmpTimerId};
use crate::ip::icmp_error::{self, MulticastPermission, OffendingPacket, SuppressedCounters};
use crate::ip::icmp_rate::{GlobalConfig, IcmpGlobalBucket, IcmpRateLimiter};
use crate::ip::pmtu::{PmtuCache, PmtuIp, PmtuTimerId};
use crate::ip::reassembly::{
    FragmentData, FragmentOutcome, Reassembly, ReassemblyContext, ReassemblyIpExt, ReassemblyTimerId,
    TimeExceededRequest,
};
use crate::ip::receive::{
    self, AddressMatch, DeliveryKind, ReceiveCounters, ReceiveDecision, ReceiveQueries,
};
use crate::ip::router_discovery::{RouterDiscoveryEvent, RouterDiscoveryTimerId};
use crate::ip::routing::{Route, RouteError, RouteSource, RoutingTable};
use crate::ip::slaac::{
    AddressEvent, Lifetime, Lifetimes, SlaacConfig, SlaacConfigError, SlaacError, SlaacTimerId,
};
use crate::ip::source::{select_ipv4_source, AddressState, SourceCandidate};
use crate::transport::ping::{PingConfig, PingSocketId, PingSockets, QuotedEchoRequest, ReceivedEchoReply};
use crate::transport::raw::{RawConfig, RawPacket, RawSocketId, RawSockets};
use crate::transport::tcp::{Endpoint, Event as TcpEvent, Tcp, TcpSocketId, TcpStackConfig, TcpTimerId};
use crate::transport::udp::{
    DeliverOutcome, Destination, QuotedDatagram, Udp, UdpArrival, UdpConfig, UdpIpContext, UdpIpExt,
    UdpSocketId,
};
use crate::transport::{IcmpErrorReport, SocketEvent};
use crate::wire::arp::ArpPacket;
use crate::wire::ethernet::HEADER_LEN as ETHERNET_HEADER_LEN;
use crate::wire::icmp::v4::{
    Icmpv4DestUnreachable, Icmpv4DestUnreachableCode, Icmpv4Message, Icmpv4TimeExceeded,
    Icmpv4TimeExceededCode, Icmpv4Type,
};
use crate::wire::icmp::v6::{Icmpv6DestUnreachableCode, Icmpv6TimeExceededCode, Icmpv6Type};
use crate::wire::icmp::{EchoReply, EchoRequest, IcmpBuilder, IcmpIpExt, Icmpv4Packet};
use crate::wire::igmp::IgmpPacket;
use crate::wire::ipv4::Ipv4Options;
use crate::wire::ipv4::{Ipv4Builder, Ipv4Packet, QuotedIpv4Header};
use crate::wire::{EtherType, IpProto};

use arp_ctx::ArpCtx;
use gmp_ctx::GmpCtx;
use timers::ModuleTimers;
pub use transport_ctx::TransportCtx;

/// Linux's default TTL for the packets a host originates (net.ipv4.ip_default_ttl).
pub const DEFAULT_TTL: u8 = 64;

/// What the stack asks of the bindings besides time, timers and randomness.
pub trait StackContext: TimerContext<StackTimerId> + RngContext {
    /// A frame buffer from the transmit pool.
    type Frame: AsRef<[u8]> + AsMut<[u8]>;

    /// A buffer of at least `capacity` bytes, or `None` when the pool is empty (the packet is
    /// then dropped and counted).
    fn alloc_frame(&mut self, capacity: usize) -> Option<Self::Frame>;

    /// Transmits the body of `frame` on `device`.
    fn send_frame(&mut self, device: DeviceId, frame: Buf<Self::Frame>);

    /// Reports something the bindings or applications may care about.
    fn on_event(&mut self, event: StackEvent);
}

/// Every timer the stack schedules, tagged by the module that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackTimerId {
    /// ARP: a neighbour entry or an address's conflict detection.
    Arp(ArpTimerId),
    /// IPv4 reassembly: a datagram's timeout.
    Reassembly4(ReassemblyTimerId<Ipv4>),
    /// The IPv4 path MTU cache: its oldest entry's expiry.
    Pmtu4(PmtuTimerId<Ipv4>),
    /// IGMP: a report delay, retransmission or compatibility-mode timer.
    Igmp(GmpTimerId<Ipv4Addr>),
    /// NDP: a neighbour entry's timer.
    Nud6(NudTimerId<Ipv6>),
    /// IPv6 address configuration: DAD probes and address lifetimes.
    Slaac(SlaacTimerId),
    /// Router discovery: solicitations and router, prefix and DNS server lifetimes.
    RouterDiscovery(RouterDiscoveryTimerId),
    /// MLD: a report delay, retransmission or compatibility-mode timer.
    Mld(GmpTimerId<Ipv6Addr>),
    /// IPv6 reassembly: a datagram's timeout.
    Reassembly6(ReassemblyTimerId<Ipv6>),
    /// The IPv6 path MTU cache: its oldest entry's expiry.
    Pmtu6(PmtuTimerId<Ipv6>),
    /// A TCP socket's timer (retransmission, delayed ACK, keepalive, TIME-WAIT...).
    Tcp(TcpTimerId),
    /// An IPv4 address's next lifetime event: deprecation or expiry.
    Ipv4Address(Ipv4AddressTimerId),
}

/// Each module's timer id nests in [`StackTimerId`].
macro_rules! nest_timer_id {
    ($($id:ty => $variant:ident),* $(,)?) => {$(
        impl From<$id> for StackTimerId {
            fn from(id: $id) -> Self {
                StackTimerId::$variant(id)
            }
        }
    )*};
}

nest_timer_id! {
    ArpTimerId => Arp,
    ReassemblyTimerId<Ipv4> => Reassembly4,
    PmtuTimerId<Ipv4> => Pmtu4,
    GmpTimerId<Ipv4Addr> => Igmp,
    NudTimerId<Ipv6> => Nud6,
    SlaacTimerId => Slaac,
    RouterDiscoveryTimerId => RouterDiscovery,
    GmpTimerId<Ipv6Addr> => Mld,
    ReassemblyTimerId<Ipv6> => Reassembly6,
    PmtuTimerId<Ipv6> => Pmtu6,
    TcpTimerId => Tcp,
    Ipv4AddressTimerId => Ipv4Address,
}

/// What the stack reports to the bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackEvent {
    /// An ICMP echo reply arrived for one of this host's echo requests.
    EchoReply {
        /// Who answered.
        src: IpAddr,
        /// The echo identifier.
        id: u16,
        /// The echo sequence number.
        seq: u16,
        /// Bytes of echo data.
        len: usize,
    },
    /// A packet this host sent could not reach `dst`: its next hop did not answer address
    /// resolution (what Linux reports as EHOSTUNREACH).
    HostUnreachable {
        /// The packet's destination.
        dst: IpAddr,
    },
    /// An ICMP destination unreachable arrived about a packet this host sent.
    DestinationUnreachable {
        /// The reporting host.
        from: Ipv4Addr,
        /// Why.
        code: Icmpv4DestUnreachableCode,
    },
    /// An ICMP time exceeded arrived about a packet this host sent (traceroute's answer).
    TimeExceeded {
        /// The reporting host.
        from: Ipv4Addr,
        /// TTL or reassembly.
        code: Icmpv4TimeExceededCode,
    },
    /// An ICMPv6 destination unreachable arrived about a packet this host sent.
    DestinationUnreachable6 {
        /// The reporting host.
        from: Ipv6Addr,
        /// Why.
        code: Icmpv6DestUnreachableCode,
    },
    /// An ICMPv6 time exceeded arrived about a packet this host sent.
    TimeExceeded6 {
        /// The reporting host.
        from: Ipv6Addr,
        /// Hop limit or reassembly.
        code: Icmpv6TimeExceededCode,
    },
    /// The ARP neighbour table changed.
    Neighbor(NeighborEvent<Ipv4>),
    /// The NDP neighbour cache changed.
    Neighbor6(NeighborEvent<Ipv6>),
    /// An IPv6 address was added, changed state or went away (DAD, SLAAC, lifetimes).
    Ipv6Address(AddressEvent),
    /// Router discovery changed routes, link parameters or DNS servers.
    RouterDiscovery(RouterDiscoveryEvent),
    /// An IPv4 UDP socket's readiness changed.
    UdpV4 {
        /// The socket.
        socket: UdpSocketId<Ipv4>,
        /// What changed.
        event: SocketEvent,
    },
    /// An IPv4 ping socket's readiness changed.
    PingV4 {
        /// The socket.
        socket: PingSocketId<Ipv4>,
        /// What changed.
        event: SocketEvent,
    },
    /// An IPv6 ping socket's readiness changed.
    PingV6 {
        /// The socket.
        socket: PingSocketId<Ipv6>,
        /// What changed.
        event: SocketEvent,
    },
    /// An IPv6 UDP socket's readiness changed.
    UdpV6 {
        /// The socket.
        socket: UdpSocketId<Ipv6>,
        /// What changed.
        event: SocketEvent,
    },
    /// An IPv4 raw socket's readiness changed.
    RawV4 {
        /// The socket.
        socket: RawSocketId<Ipv4>,
        /// What changed.
        event: SocketEvent,
    },
    /// An IPv6 raw socket's readiness changed.
    RawV6 {
        /// The socket.
        socket: RawSocketId<Ipv6>,
        /// What changed.
        event: SocketEvent,
    },
    /// Something happened on an IPv4 TCP socket (for a listener, [`TcpEvent::Readable`]: a
    /// connection waits for accept).
    TcpV4 {
        /// The socket.
        socket: TcpSocketId<Ipv4>,
        /// What happened.
        event: TcpEvent,
    },
    /// Something happened on an IPv6 TCP socket.
    TcpV6 {
        /// The socket.
        socket: TcpSocketId<Ipv6>,
        /// What happened.
        event: TcpEvent,
    },
    /// Another host uses one of our addresses; the stack stopped using it.
    AddressConflict {
        /// The device.
        device: DeviceId,
        /// The address.
        addr: Ipv4Addr,
        /// The other host.
        other: Mac,
    },
    /// Something [`Stack::device_info`] or [`Stack::addresses`] shows about `device` changed
    /// (or the device was just added): an address was added or removed, changed state (DAD, deprecation, the device going
    /// down or up) or lifetimes; the device was enabled or disabled; its MTU changed.
    InterfaceChanged {
        /// The device.
        device: DeviceId,
    },
    /// `device` was removed ([`Stack::remove_device`]); its id is never reused.
    InterfaceRemoved {
        /// The device.
        device: DeviceId,
    },
    /// A route of this version was added or removed, by the administrator, an address's
    /// prefix route, router discovery or a device's removal.
    RoutesChanged {
        /// The routing table that changed.
        version: IpVersion,
    },
    /// An entry of `device`'s neighbour table for `version` was added, removed, or changed
    /// state, link-layer address or IsRouter flag.
    NeighborsChanged {
        /// The device.
        device: DeviceId,
        /// ARP's table (V4) or NDP's (V6).
        version: IpVersion,
    },
}

/// How a stack is set up beyond its devices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackConfig {
    /// IPv6 address configuration: DupAddrDetectTransmits and the other DAD settings,
    /// temporary addresses (RFC 8981) and how interface identifiers are formed (modified
    /// EUI-64, or RFC 7217's stable opaque ones). Linux's defaults.
    pub slaac: SlaacConfig,
    /// TCP: the settings of new sockets, listener limits, SYN cookies, ephemeral ports.
    pub tcp: TcpStackConfig,
}

/// Why a packet could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No route to the destination (ENETUNREACH).
    #[error("no route to {0}")]
    NoRoute(IpAddr),
    /// No usable source address for the route (EADDRNOTAVAIL).
    #[error("no source address to reach {0}")]
    NoSourceAddress(IpAddr),
    /// The packet cannot be sent whole or in fragments over the outgoing device (EMSGSIZE).
    #[error("{len}-byte packet exceeds the {mtu}-byte MTU")]
    TooBig {
        /// The packet's length.
        len: usize,
        /// The MTU.
        mtu: u32,
    },
    /// The transmit pool had no buffer (ENOBUFS).
    #[error("no transmit buffer")]
    NoBuffer,
}

/// Why an API call about a device failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// No such device.
    #[error("no device {0}")]
    NoDevice(DeviceId),
    /// The address is already assigned to the device.
    #[error("address already assigned")]
    AddressExists,
    /// The address's subnet route could not be added.
    #[error(transparent)]
    Route(#[from] RouteError<Ipv4Addr>),
    /// An IPv6 route could not be added.
    #[error(transparent)]
    Route6(#[from] RouteError<Ipv6Addr>),
    /// IPv6 address configuration refused.
    #[error(transparent)]
    Address6(#[from] SlaacError),
    /// IPv6 is not enabled on the device.
    #[error("IPv6 is not enabled on {0}")]
    Ipv6Disabled(DeviceId),
    /// The MTU is outside what IPv4 and the device allow.
    #[error("MTU {mtu} out of range {min}..={max}")]
    MtuOutOfRange {
        /// The MTU asked for.
        mtu: u32,
        /// The smallest allowed (68, RFC 791).
        min: u32,
        /// The largest allowed (the caller's limit).
        max: u32,
    },
    /// The address is not assigned to the device.
    #[error("address not assigned")]
    AddressNotFound,
    /// The device has no neighbour entry for the address.
    #[error("no such neighbour entry")]
    NeighborNotFound,
    /// The neighbour table is full of entries that may not be evicted.
    #[error("neighbour table full")]
    NeighborTableFull,
    /// The neighbour address cannot be one (not unicast, or one of our own).
    #[error("invalid neighbour address")]
    InvalidNeighbor,
    /// The device cannot do that (e.g. a static neighbour on a device without Ethernet).
    #[error("operation not supported by {0}")]
    NotSupported(DeviceId),
    /// The preferred lifetime exceeds the valid lifetime.
    #[error("preferred lifetime exceeds valid lifetime")]
    InvalidLifetimes,
}

/// What the stack counted beyond what its modules count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackCounters {
    /// The IPv4 receive decision (Linux's Ip MIB).
    pub ipv4: ReceiveCounters,
    /// IPv4 packets that did not parse (InHdrErrors).
    pub ipv4_in_hdr_errors: u64,
    /// IPv4 fragments that did not parse as fragments.
    pub ipv4_fragment_errors: u64,
    /// Reassembled IPv4 datagrams dropped: no frame buffer to hold them.
    pub ipv4_reassembled_no_buffer: u64,
    /// ICMP time exceeded sent (OutTimeExcds).
    pub icmp_out_time_excds: u64,
    /// IPv4 packets forwarded (ForwDatagrams).
    pub ipv4_forw_datagrams: u64,
    /// Multicast packets not forwarded: there is no multicast routing, as on Linux without a
    /// multicast routing daemon.
    pub ipv4_multicast_not_forwarded: u64,
    /// Packets to forward with no route (InNoRoutes).
    pub ipv4_in_no_routes: u64,
    /// ICMP fragmentation needed sent for packets too big with DF set (RFC 1191).
    pub icmp_out_frag_needed: u64,
    /// IPv4 packets for an unknown upper-layer protocol (InUnknownProtos).
    pub ipv4_in_unknown_protos: u64,
    /// The IPv6 layer.
    pub ipv6: Ipv6Counters,
    /// Frames of an EtherType this stack does not handle.
    pub unknown_ethertype: u64,
    /// ARP packets that did not parse.
    pub arp_parse_errors: u64,
    /// Frames for devices the stack does not know.
    pub unknown_device: u64,
    /// IGMP messages that did not parse.
    pub igmp_in_errors: u64,
    /// IGMP messages sent.
    pub igmp_out_msgs: u64,
    /// ICMP Redirects applied (RFC 1122 §3.2.2.2).
    pub redirects_accepted: u64,
    /// ICMP Redirects ignored: not from the current first hop, an off-link new gateway, or
    /// on a forwarding device.
    pub redirects_ignored: u64,
    /// ICMP messages received (InMsgs).
    pub icmp_in_msgs: u64,
    /// ICMP messages that did not parse or had a bad checksum (InErrors).
    pub icmp_in_errors: u64,
    /// ICMP messages with a bad checksum (InCsumErrors), also in `icmp_in_errors`.
    pub icmp_in_csum_errors: u64,
    /// ICMP messages received with a good checksum, by type (`IcmpMsgInType<N>`).
    pub icmp_in_types: IcmpTypeCounters,
    /// ICMP echo requests answered (OutEchoReps).
    pub icmp_out_echo_reps: u64,
    /// ICMP destination unreachables sent (OutDestUnreachs).
    pub icmp_out_dest_unreachs: u64,
    /// ICMP errors not sent, by reason.
    pub icmp_suppressed: SuppressedCounters,
    /// Packets not sent: no route (OutNoRoutes).
    pub ipv4_out_no_routes: u64,
    /// Packets not sent: no transmit buffer.
    pub tx_no_buffer: u64,
    /// Packets not sent: address resolution could not take them.
    pub tx_resolution_drops: u64,
    /// Packets to ourselves dropped: the loopback backlog was full.
    pub loopback_drops: u64,
    /// Packets not copied to the raw sockets of their protocol: no frame buffer for the
    /// copy, or the raw backlog was full.
    pub raw_copy_drops: u64,
}

/// What the IP layer learned about a packet it delivers.
#[derive(Clone, Copy, Debug)]
struct Received<A = Ipv4Addr> {
    device: DeviceId,
    src: A,
    dst: A,
    kind: DeliveryKind,
    link: FrameDestination,
    /// Where the IP header lay, to undo the parse for an ICMP error's quote.
    ip_meta: ParseMetadata,
    /// The TTL or Hop Limit it arrived with.
    hop_limit: u8,
    /// The IPv4 TOS or IPv6 Traffic Class octet it arrived with.
    tos: u8,
}

impl<A> Received<A> {
    /// A unicast packet from `src` to `dst` on `device` that the IP layer holds only as
    /// bytes (a reassembly's first fragment, a packet whose next hop did not resolve), to
    /// answer with an ICMP error: nothing was parsed in a buffer, as the quote carries its
    /// own header, and the error senders read neither Hop Limit nor TOS.
    fn for_error(device: DeviceId, src: A, dst: A) -> Self {
        Received {
            device,
            src,
            dst,
            kind: DeliveryKind::Unicast,
            link: FrameDestination::Individual,
            ip_meta: ParseMetadata::default(),
            hop_limit: 0,
            tos: 0,
        }
    }
}

/// A UDP datagram or TCP segment the IP layer delivers to the transport layer: the buffer's
/// body is the datagram or segment, transport header included.
struct TransportHandoff<F, A = Ipv4Addr> {
    received: Received<A>,
    buf: Buf<F>,
}

/// What the IP layer hands to the transport layer.
enum Handoff<F> {
    /// A received IPv4 datagram.
    Udp(TransportHandoff<F>),
    /// A received IPv6 datagram.
    Udp6(TransportHandoff<F, Ipv6Addr>),
    /// A received IPv4 TCP segment.
    Tcp(TransportHandoff<F>),
    /// A received IPv6 TCP segment.
    Tcp6(TransportHandoff<F, Ipv6Addr>),
    /// An ICMP error about a segment one of our TCP connections sent (RFC 5927).
    TcpError(QuotedSegment<Ipv4Addr>),
    /// An ICMPv6 error about one of our TCP segments.
    TcpError6(QuotedSegment<Ipv6Addr>),
    /// An ICMP echo reply for the ping socket holding its identifier: the buffer's body is
    /// the whole ICMP message, as Linux hands it to the application.
    EchoReply { reply: ReceivedEchoReply<Ipv4, F>, seq: u16 },
    /// An ICMPv6 echo reply, likewise.
    EchoReply6 { reply: ReceivedEchoReply<Ipv6, F>, seq: u16 },
    /// An ICMP error about a datagram one of our UDP sockets sent (RFC 1122 §4.1.3.3).
    UdpError { device: DeviceId, quoted: QuotedDatagram<Ipv4>, report: IcmpErrorReport },
    /// An ICMPv6 error about one of our UDP datagrams.
    UdpError6 { device: DeviceId, quoted: QuotedDatagram<Ipv6>, report: IcmpErrorReport },
    /// An ICMP error about an Echo Request one of our ping sockets sent.
    PingError { device: DeviceId, quoted: QuotedEchoRequest<Ipv4>, report: IcmpErrorReport },
    /// An ICMPv6 error about one of our Echo Requests.
    PingError6 { device: DeviceId, quoted: QuotedEchoRequest<Ipv6>, report: IcmpErrorReport },
}

/// The Echo Request from `src` to `dst` whose ICMP message starts `message`, if it is one
/// (type `I::ECHO_REQUEST`; RFC 792 and RFC 4443 §3 quote at least its first 8 bytes, which
/// hold the identifier).
fn quoted_echo_request<I: IcmpIpExt>(
    src: I::Addr,
    dst: I::Addr,
    message: &[u8],
) -> Option<QuotedEchoRequest<I>> {
    let header = message.get(..8).filter(|h| h[0] == I::ECHO_REQUEST)?;
    Some(QuotedEchoRequest { src, dst, id: u16::from_be_bytes([header[4], header[5]]) })
}

/// The TCP segment an ICMP error quotes: its endpoints, its sequence number (RFC 5927 §4.1
/// checks it against what is outstanding) and what the error means.
struct QuotedSegment<A> {
    local: Endpoint<A>,
    remote: Endpoint<A>,
    seq: u32,
    report: IcmpErrorReport,
}

impl<A: Copy> QuotedSegment<A> {
    /// The segment quoted from `src` to `dst` whose TCP header starts `header` (RFC 792 and
    /// RFC 4443 §3 guarantee its first 8 bytes: ports and sequence number).
    fn parse(src: A, dst: A, header: &[u8], report: IcmpErrorReport) -> Option<Self> {
        let b = header.get(..8)?;
        Some(Self {
            local: Endpoint { addr: src, port: u16::from_be_bytes([b[0], b[1]]) },
            remote: Endpoint { addr: dst, port: u16::from_be_bytes([b[2], b[3]]) },
            seq: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            report,
        })
    }
}

/// A datagram whose reassembly timed out after its first fragment arrived.
struct TimedOut<A> {
    device: DeviceId,
    src: A,
    dst: A,
    /// The first fragment's header and data, to quote.
    quote: Vec<u8>,
}

/// Collects reassembly's time exceeded requests while the reassembly table is borrowed.
struct TimedOutCollector<A>(Vec<TimedOut<A>>);

impl<I: ReassemblyIpExt> ReassemblyContext<I> for TimedOutCollector<I::Addr> {
    fn send_reassembly_time_exceeded(&mut self, request: TimeExceededRequest<'_, I>) {
        let mut quote = request.header.to_vec();
        quote.extend_from_slice(request.data);
        self.0.push(TimedOut { device: request.device, src: request.src, dst: request.dst, quote });
    }
}

/// What carries a device's packets.
enum Link {
    /// Ethernet frames: MAC addressing, ARP and NDP resolution, a multicast filter.
    Ethernet(EthernetDevice),
    /// Bare IP packets with no link-layer header (a TUN device).
    PureIp {
        /// The largest packet the device carries.
        mtu: u32,
        /// What arrived, and what was dropped before IP.
        rx: PureIpRxCounters,
    },
    /// Packets sent on it come back to this host (Linux's `lo`).
    Loopback {
        /// Linux's loopback MTU, 65536.
        mtu: u32,
    },
}

/// What the IP versions differ in about a device's MTU and the paths through it.
trait IpMtu: PmtuIp {
    /// The MTU `device` has for this version (IPv6's may be lowered by a Router
    /// Advertisement, RFC 4861 §6.3.4).
    fn device_mtu<F>(device: &Device<F>) -> u32;

    /// This version's path MTU cache.
    fn pmtu_cache<F>(ip: &IpLayer<F>) -> &PmtuCache<Self>;
}

impl IpMtu for Ipv4 {
    fn device_mtu<F>(device: &Device<F>) -> u32 {
        device.link.mtu()
    }

    fn pmtu_cache<F>(ip: &IpLayer<F>) -> &PmtuCache<Ipv4> {
        &ip.pmtu4
    }
}

impl IpMtu for Ipv6 {
    fn device_mtu<F>(device: &Device<F>) -> u32 {
        device.v6.mtu
    }

    fn pmtu_cache<F>(ip: &IpLayer<F>) -> &PmtuCache<Ipv6> {
        &ip.v6.pmtu
    }
}

impl Link {
    fn mtu(&self) -> u32 {
        match self {
            Link::Ethernet(eth) => eth.config().mtu,
            Link::PureIp { mtu, .. } | Link::Loopback { mtu } => *mtu,
        }
    }

    fn ethernet(&self) -> Option<&EthernetDevice> {
        match self {
            Link::Ethernet(eth) => Some(eth),
            _ => None,
        }
    }

    fn ethernet_mut(&mut self) -> Option<&mut EthernetDevice> {
        match self {
            Link::Ethernet(eth) => Some(eth),
            _ => None,
        }
    }
}

/// Linux's loopback MTU.
pub const LOOPBACK_MTU: u32 = 65536;

/// One device: its link layer, ARP (the IPv4 addresses) and its IPv6 state.
struct Device<F> {
    id: DeviceId,
    link: Link,
    arp: ArpState<Buf<F>>,
    /// Whether IPv4 packets arriving here may be forwarded (Linux's per-device
    /// net.ipv4.conf.<dev>.forwarding; off by default).
    forwarding: bool,
    v6: Ipv6Device<F>,
    /// Administratively up (see [`Stack::set_device_enabled`]); new devices are.
    enabled: bool,
    /// Frames dropped because the device was disabled.
    disabled_drops: admin::DisabledDrops,
}

/// A destination an ICMP Redirect moved to another first hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Redirect4 {
    device: DeviceId,
    dst: Ipv4Addr,
    gateway: Ipv4Addr,
}

/// How many redirected destinations are remembered; the oldest goes first.
const MAX_REDIRECTS: usize = 256;

/// Packets to this host's own addresses wait here until the stack delivers them, after the
/// call that sent them returns: Linux's loopback backlog (netdev_max_backlog 1000).
const LOOPBACK_BACKLOG: usize = 1000;

/// The whole stack, generic over the bindings' frame buffer type `F` (received frames and
/// frames to send come from the same pool, so received datagrams queue on sockets as they
/// arrived, without a copy).
pub struct Stack<F> {
    ip: IpLayer<F>,
    udp: Udp<F>,
    ping4: PingSockets<Ipv4, F>,
    ping6: PingSockets<Ipv6, F>,
    tcp: Tcp,
    raw4: RawSockets<Ipv4, F>,
    raw6: RawSockets<Ipv6, F>,
}

/// Devices and the IPv4 and IPv6 layers: everything but the transport layer, which calls back into it.
struct IpLayer<F> {
    devices: Vec<Device<F>>,
    routes4: RoutingTable<Ipv4>,
    /// Every IPv4 address for source selection, rebuilt when addresses change.
    sources4: Vec<SourceCandidate<Ipv4Addr>>,
    /// The lifetimes of every IPv4 address and whether adding it created its subnet route.
    addrs4: Vec<admin::Ipv4AddrRecord>,
    /// The number of the next device added: ids are never reused.
    next_device: u32,
    next_ip_id: u16,
    /// Packets to our own addresses, delivered by [`Stack::drain_loopback`].
    loopback: VecDeque<(DeviceId, Buf<F>)>,
    /// Errors for the transport layer about packets of ours dropped because resolving their
    /// next hop failed, as Linux's `ipv4_link_failure`/`ip6_link_failure` raise a local ICMP
    /// error for each; delivered by [`Stack::drain_loopback`]. Bounded by the neighbour
    /// tables' pending queues, which these come from.
    local_errors: VecDeque<Handoff<F>>,
    reassembly4: Reassembly<Ipv4>,
    fragmentation4: FragmentationCounters,
    pmtu4: PmtuCache<Ipv4>,
    icmp_global: IcmpGlobalBucket,
    icmp_rate4: IcmpRateLimiter<Ipv4>,
    igmp: Gmp<Ipv4>,
    /// Destinations an ICMP Redirect sent elsewhere, oldest first (bounded).
    redirects4: Vec<Redirect4>,
    v6: Ipv6Layer,
    counters: StackCounters,
    /// A transmit buffer a writer left unused, kept for the next one.
    spare_frame: Option<F>,
    /// The protocols raw sockets of each version were opened for: packets of these are
    /// copied for them.
    raw_protocols: RawProtocols,
    /// Copies of received packets for the raw sockets, delivered by
    /// [`Stack::deliver_raw`] once the IP layer is done with the packet.
    raw_backlog: VecDeque<RawCopy<F>>,
}

/// The protocols raw sockets of each IP version were opened for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RawProtocols {
    v4: ProtocolSet,
    v6: ProtocolSet,
}

/// A set of IP protocol numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ProtocolSet([u64; 4]);

impl ProtocolSet {
    /// The protocols `wanted` says yes to.
    fn from_fn(wanted: impl Fn(IpProto) -> bool) -> Self {
        let mut set = Self::default();
        for p in 0..=u8::MAX {
            if wanted(IpProto(p)) {
                set.0[usize::from(p >> 6)] |= 1 << (p & 63);
            }
        }
        set
    }

    fn contains(&self, proto: IpProto) -> bool {
        self.0[usize::from(proto.0 >> 6)] & (1 << (proto.0 & 63)) != 0
    }
}

/// A received packet copied for the raw sockets of one version.
enum RawCopy<F> {
    V4(RawPacket<Ipv4, F>),
    V6(RawPacket<Ipv6, F>),
}

/// Copies waiting for the raw sockets, at most: the stack delivers them after each packet,
/// so a few suffice.
const RAW_BACKLOG: usize = 16;

impl<F> core::fmt::Debug for Stack<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stack")
            .field("devices", &self.ip.devices.len())
            .field("counters", &self.ip.counters)
            .finish()
    }
}

impl<F: AsRef<[u8]> + AsMut<[u8]>> IpLayer<F> {
    fn new(rng: &mut impl RngContext, slaac: SlaacConfig) -> Result<Self, SlaacConfigError> {
        Ok(Self {
            devices: Vec::new(),
            routes4: RoutingTable::default(),
            sources4: Vec::new(),
            addrs4: Vec::new(),
            next_device: 1,
            next_ip_id: 0,
            loopback: VecDeque::new(),
            local_errors: VecDeque::new(),
            reassembly4: Reassembly::default(),
            fragmentation4: FragmentationCounters::default(),
            pmtu4: PmtuCache::default(),
            icmp_global: IcmpGlobalBucket::new(GlobalConfig::default()),
            icmp_rate4: IcmpRateLimiter::new(Default::default(), rng),
            igmp: Gmp::new(GmpConfig::default()),
            redirects4: Vec::new(),
            v6: Ipv6Layer::new(rng, slaac)?,
            counters: StackCounters::default(),
            spare_frame: None,
            raw_protocols: RawProtocols::default(),
            raw_backlog: VecDeque::new(),
        })
    }

    /// The MTU of the path to `dst` through `device`: the device's for version `I`, or
    /// less if path MTU discovery learned so (RFC 1191, RFC 8201).
    fn path_mtu<I: IpMtu>(&self, now: crate::time::Instant, device: &Device<F>, dst: I::Addr) -> u32 {
        let link = I::device_mtu(device);
        I::pmtu_cache(self).lookup(&dst, now).map_or(link, |p| p.mtu.min(link))
    }

    fn device(&self, id: DeviceId) -> Option<&Device<F>> {
        self.devices.iter().find(|d| d.id == id)
    }

    fn device_index(&self, id: DeviceId) -> Option<usize> {
        self.devices.iter().position(|d| d.id == id)
    }

    /// Adds an Ethernet device with address `mac`.
    fn add_ethernet_device<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        mac: UnicastAddr<Mac>,
        config: EthernetConfig,
    ) -> DeviceId {
        let mut eth = EthernetDevice::new(mac, config);
        // Every IPv4 host belongs to all-systems (RFC 1112 §4), never reported.
        eth.multicast_filter().join(Mac::from_ipv4_multicast(Ipv4Addr::ALL_SYSTEMS));
        self.add_device(ctx, Link::Ethernet(eth), *mac)
    }

    /// Adds a device carried by `link`; `mac` keys its ARP state (which sends nothing on a
    /// link without Ethernet, where it only holds the IPv4 addresses).
    fn add_device<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, link: Link, mac: Mac) -> DeviceId {
        let id = DeviceId::new(self.next_device);
        self.next_device += 1;
        let arp = ArpState::new(&mut ArpCtx::timers_only(ctx), id, mac, ArpConfig::default());
        let v6 = Ipv6Device::new(&mut ModuleTimers(ctx), id, link.mtu().max(ipv6::IPV6_MIN_MTU));
        let disabled_drops = admin::DisabledDrops::default();
        self.devices.push(Device { id, link, arp, forwarding: false, v6, enabled: true, disabled_drops });
        self.igmp.add_device(id);
        ctx.on_event(StackEvent::InterfaceChanged { device: id });
        id
    }

    /// Assigns `addr` to `device`, adds the route to its subnet and announces it (RFC 5227
    /// §2.3, gratuitous ARP).
    fn add_ipv4_address<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: AddrSubnet<Ipv4Addr>,
    ) -> Result<(), DeviceError> {
        let index = self.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        if self.devices[index].arp.addresses().any(|(a, _)| a.addr() == addr.addr()) {
            return Err(DeviceError::AddressExists);
        }
        let created_route = match self.routes4.add(subnet_route(addr, device)) {
            Ok(()) => true,
            Err(RouteError::Exists { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        if let Err(e) = self.with_arp(ctx, index, |arp, arp_ctx| arp.add_address(arp_ctx, addr, false)) {
            if created_route {
                let _ = self.routes4.remove(&subnet_route(addr, device));
            }
            return Err(match e {
                crate::device::arp::ArpError::AddressExists { .. } => DeviceError::AddressExists,
                _ => DeviceError::NotSupported(device),
            });
        }
        self.addrs4.push(admin::Ipv4AddrRecord::new(device, addr.addr().into_addr(), created_route));
        self.rebuild_sources();
        ctx.on_event(StackEvent::InterfaceChanged { device });
        if created_route {
            ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
        }
        Ok(())
    }

    /// Adds a route (e.g. the default route via a gateway).
    fn add_ipv4_route(&mut self, route: Route<Ipv4>) -> Result<(), RouteError<Ipv4Addr>> {
        self.routes4.add(route)
    }

    fn rebuild_sources(&mut self) {
        self.sources4 = self
            .devices
            .iter()
            .flat_map(|d| {
                let records = &self.addrs4;
                d.arp.addresses().map(move |(addr, usable)| SourceCandidate {
                    addr,
                    device: d.id,
                    state: admin::ipv4_source_state(records, d, addr.addr().into_addr(), usable),
                    temporary: false,
                })
            })
            .collect();
    }

    /// A frame arrived on `device`; `buf`'s body is the whole frame. Returns what the
    /// transport layer must handle, if anything.
    fn receive_frame<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        mut buf: Buf<F>,
    ) -> Option<Handoff<F>> {
        let Some(index) = self.device_index(device) else {
            self.counters.unknown_device += 1;
            return None;
        };
        if !self.devices[index].enabled {
            self.devices[index].disabled_drops.rx += 1;
            return None;
        }
        let eth = match &mut self.devices[index].link {
            Link::Ethernet(eth) => eth,
            Link::PureIp { rx, .. } => {
                let link = FrameDestination::Individual;
                return match crate::device::pure_ip::classify(buf.body(), rx).ok()? {
                    IpVersion::V4 => self.receive_ipv4(ctx, device, link, buf),
                    IpVersion::V6 => self.receive_ipv6(ctx, device, link, buf),
                };
            }
            // Nothing arrives on loopback from outside; what this host sends it goes
            // through the loopback backlog.
            Link::Loopback { .. } => return None,
        };
        let frame = eth.receive(&mut buf).ok()?;
        match frame.ethertype {
            EtherType::ARP => {
                let Ok(packet) = ArpPacket::parse_bytes(buf.body(), ()) else {
                    self.counters.arp_parse_errors += 1;
                    return None;
                };
                let packet = packet.builder();
                self.with_arp(ctx, index, |arp, arp_ctx| arp.receive(arp_ctx, &packet, frame.destination));
                None
            }
            EtherType::IPV4 => self.receive_ipv4(ctx, device, frame.destination, buf),
            EtherType::IPV6 => self.receive_ipv6(ctx, device, frame.destination, buf),
            _ => {
                self.counters.unknown_ethertype += 1;
                None
            }
        }
    }

    /// A timer fired.
    fn handle_timer<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, id: StackTimerId) {
        match id {
            StackTimerId::Arp(arp_id) => {
                let device = match arp_id {
                    ArpTimerId::Neighbor(n) => n.device,
                    ArpTimerId::Acd { device, .. } => device,
                };
                let Some(index) = self.device_index(device) else { return };
                self.with_arp(ctx, index, |arp, arp_ctx| arp.handle_timer(arp_ctx, arp_id));
            }
            StackTimerId::Pmtu4(id) => self.pmtu4.handle_timer(&mut ModuleTimers(ctx), id),
            StackTimerId::Ipv4Address(id) => self.ipv4_address_timer(ctx, id),
            StackTimerId::Igmp(id) => self.with_igmp(ctx, |igmp, gmp_ctx| igmp.handle_timer(gmp_ctx, id)),
            StackTimerId::Reassembly4(id) => {
                let mut timed_out = TimedOutCollector(Vec::new());
                self.reassembly4.handle_timer(&mut timed_out, id);
                for request in timed_out.0 {
                    self.send_reassembly_time_exceeded(ctx, &request);
                }
            }
            StackTimerId::Nud6(id) => {
                let Some(index) = self.device_index(id.device) else { return };
                self.with_nd(ctx, index, |nd, nd_ctx| nd.handle_timer(nd_ctx, id));
            }
            StackTimerId::Slaac(id) => {
                self.with_slaac(ctx, |slaac, slaac_ctx| slaac.handle_timer(slaac_ctx, id))
            }
            StackTimerId::RouterDiscovery(id) => self.with_rd(ctx, |rd, rd_ctx| rd.handle_timer(rd_ctx, id)),
            StackTimerId::Mld(id) => self.with_mld(ctx, |mld, gmp_ctx| mld.handle_timer(gmp_ctx, id)),
            StackTimerId::Pmtu6(id) => self.v6.pmtu.handle_timer(&mut ModuleTimers(ctx), id),
            // The transport layer's own, fired by [`Stack::handle_timer`].
            StackTimerId::Tcp(_) => {}
            StackTimerId::Reassembly6(id) => {
                let mut timed_out = TimedOutCollector(Vec::new());
                self.v6.reassembly.handle_timer(&mut timed_out, id);
                for request in timed_out.0 {
                    self.send_reassembly_time_exceeded6(ctx, &request);
                }
            }
        }
    }

    /// Hands a datagram no socket wanted back to its IP version for the port unreachable
    /// (RFC 1122 §4.1.3.1, RFC 4443 §3.1 code 4).
    fn port_unreachable<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, unreachable: PortUnreachable<F>) {
        match unreachable {
            PortUnreachable::V4(received, datagram) => {
                let code = Icmpv4DestUnreachableCode::PortUnreachable;
                self.send_dest_unreachable(ctx, &received, datagram.body(), code);
            }
            PortUnreachable::V6(received, datagram) => {
                let error = ipv6::Icmpv6Error::DestUnreachable(Icmpv6DestUnreachableCode::PortUnreachable);
                let deny = MulticastPermission::Denied;
                if self.send_icmpv6_error(ctx, &received, datagram.body(), error, deny) {
                    self.counters.ipv6.icmp_out_dest_unreachs += 1;
                }
            }
        }
    }

    /// The frame buffer for `packet`, serialized with room for the Ethernet header.
    fn serialize_packet<C: StackContext<Frame = F>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        packet: S,
    ) -> Result<Buf<F>, SendError> {
        let storage = self.tx_buffer(ctx, ETHERNET_HEADER_LEN + packet.len())?;
        let start = ETHERNET_HEADER_LEN + packet.header_room();
        let mut buf = Buf::new(storage, start..start);
        packet.serialize_into(&mut buf).map_err(|_| SendError::NoBuffer)?;
        Ok(buf)
    }

    /// Queues a packet to one of our own addresses on the loopback backlog (Linux routes
    /// these through lo), delivered once the sending call returns.
    fn loop_back(&mut self, device: DeviceId, buf: Buf<F>) -> Result<(), SendError> {
        if self.loopback.len() >= LOOPBACK_BACKLOG {
            self.counters.loopback_drops += 1;
            return Err(SendError::NoBuffer);
        }
        self.loopback.push_back((device, buf));
        Ok(())
    }

    /// Whether raw sockets of IP version `version` want packets of `proto`.
    fn raw_wants(&self, version: IpVersion, proto: IpProto) -> bool {
        match version {
            IpVersion::V4 => self.raw_protocols.v4.contains(proto),
            IpVersion::V6 => self.raw_protocols.v6.contains(proto),
        }
    }

    /// Copies `bytes`, a packet received as `received` says, for the raw sockets of its
    /// protocol (Linux's `raw_local_deliver`: in addition to the stack's own processing).
    fn copy_for_raw<C: StackContext<Frame = F>, A: crate::addr::IpAddress>(
        &mut self,
        ctx: &mut C,
        received: &Received<A>,
        proto: IpProto,
        bytes: &[u8],
        wrap: fn(RawPacket<A::Version, F>) -> RawCopy<F>,
    ) {
        if self.raw_backlog.len() >= RAW_BACKLOG {
            self.counters.raw_copy_drops += 1;
            return;
        }
        let Some(packet) = copy_to_frame(ctx, bytes) else {
            self.counters.raw_copy_drops += 1;
            return;
        };
        let Received { device, src, dst, hop_limit, tos, .. } = *received;
        self.raw_backlog.push_back(wrap(RawPacket { device, src, dst, proto, hop_limit, tos, packet }));
    }

    /// A transmit buffer of at least `len` bytes; an empty pool is counted.
    fn tx_buffer<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, len: usize) -> Result<F, SendError> {
        ctx.alloc_frame(len).ok_or_else(|| {
            self.counters.tx_no_buffer += 1;
            SendError::NoBuffer
        })
    }

    /// Lends `write` the payload area of a transmit buffer, after room for the link header
    /// and `header` and `mtu` less `header` long, then puts `header` in front of what it
    /// wrote; returns the buffer with the IP packet as its body, or `None` (keeping the
    /// buffer for next time) if `write` had nothing.
    fn write_in_frame<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        header: impl PacketBuilder,
        mtu: u32,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<Option<Buf<F>>, SendError> {
        let ip_header_len = header.constraints().header_len;
        let start = ETHERNET_HEADER_LEN + ip_header_len;
        let end = start + (mtu as usize).saturating_sub(ip_header_len);
        let mut storage = match self.spare_frame.take() {
            Some(spare) if spare.as_ref().len() >= end => spare,
            _ => self.tx_buffer(ctx, end)?,
        };
        let Some(out) = storage.as_mut().get_mut(start..end) else { return Err(SendError::NoBuffer) };
        let Some(len) = write(out) else {
            self.spare_frame = Some(storage);
            return Ok(None);
        };
        let mut buf = Buf::new(storage, start..start + len);
        InPlace { len }.encapsulate(header).serialize_into(&mut buf).map_err(|_| SendError::NoBuffer)?;
        Ok(Some(buf))
    }

    /// Sends a packet in the fragments `plan` describes (RFC 791 §3.2, RFC 8200 §4.5): each
    /// is written by `write` into a buffer of its own, with room for the Ethernet header in
    /// front, and handed to `transmit` to be resolved and sent like a packet of its own.
    fn send_fragments<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        plan: &FragmentPlan,
        mut write: impl FnMut(&mut Self, usize, &mut [u8]) -> Result<usize, FragmentationError>,
        mut transmit: impl FnMut(&mut Self, &mut C, Buf<F>),
    ) -> Result<(), SendError> {
        for i in 0..plan.fragment_count() {
            let len = plan.fragment_len(i).map_err(|_| SendError::NoBuffer)?;
            let mut storage = self.tx_buffer(ctx, ETHERNET_HEADER_LEN + len)?;
            let out = storage.as_mut().get_mut(ETHERNET_HEADER_LEN..).ok_or(SendError::NoBuffer)?;
            let written = write(self, i, out).map_err(|_| SendError::NoBuffer)?;
            transmit(self, ctx, Buf::new(storage, ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + written));
        }
        Ok(())
    }

    /// Sends `buf`, an IP packet, on a device without link-layer addressing (pure IP: as it
    /// is; loopback: back to this host); hands it back when the device is Ethernet and the
    /// next hop must be resolved.
    fn send_without_link_header<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        index: usize,
        buf: Buf<F>,
    ) -> Option<Buf<F>> {
        if !self.devices[index].enabled {
            self.devices[index].disabled_drops.tx += 1;
            return None;
        }
        let dev = &self.devices[index];
        match dev.link {
            Link::Ethernet(_) => Some(buf),
            Link::PureIp { .. } => {
                ctx.send_frame(dev.id, buf);
                None
            }
            Link::Loopback { .. } => {
                // A full backlog is counted there.
                let _ = self.loop_back(dev.id, buf);
                None
            }
        }
    }

    /// Transmits `packet`, a whole IP packet, on `device` to the link-layer address `dst`
    /// without routing or resolution (group membership reports, DAD probes, router
    /// solicitations); returns whether it was sent.
    fn send_link_frame<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        dst: Mac,
        ethertype: EtherType,
        packet: impl Serializer,
    ) -> bool {
        let Some(index) = self.device_index(device) else { return false };
        if !self.devices[index].enabled {
            self.devices[index].disabled_drops.tx += 1;
            return false;
        }
        let dev = &self.devices[index];
        let Link::Ethernet(eth) = &dev.link else {
            // Without Ethernet the packet goes as it is, on a pure-IP link; loopback carries
            // no link-local signalling.
            if !matches!(dev.link, Link::PureIp { .. }) {
                return false;
            }
            return match self.serialize_packet(ctx, packet) {
                Ok(buf) => {
                    ctx.send_frame(device, buf);
                    true
                }
                Err(_) => false,
            };
        };
        let frame = packet.encapsulate(eth.builder(dst, ethertype));
        let Ok(storage) = self.tx_buffer(ctx, frame.len()) else { return false };
        let mut buf = Buf::new(storage, frame.header_room()..frame.header_room());
        if frame.serialize_into(&mut buf).is_err() {
            return false;
        }
        ctx.send_frame(device, buf);
        true
    }
}

/// A datagram to a closed port, with what its IP layer learned, the buffer's body from the
/// IP header on.
enum PortUnreachable<F> {
    V4(Received, Buf<F>),
    V6(Received<Ipv6Addr>, Buf<F>),
}

impl<F: AsRef<[u8]> + AsMut<[u8]> + Clone> Stack<F> {
    /// A stack with no devices and Linux's defaults; `rng` keys its port choices.
    pub fn new(rng: &mut impl RngContext) -> Self {
        match Self::with_config(rng, StackConfig::default()) {
            Ok(stack) => stack,
            // `default_config_is_valid` checks that this cannot happen.
            Err(_) => unreachable!("the default stack configuration is valid"),
        }
    }

    /// A stack with no devices, configured by `config`.
    pub fn with_config(rng: &mut impl RngContext, config: StackConfig) -> Result<Self, SlaacConfigError> {
        Ok(Self {
            ip: IpLayer::new(rng, config.slaac)?,
            udp: Udp::new(rng, UdpConfig::default()),
            ping4: PingSockets::new(rng, PingConfig::default()),
            ping6: PingSockets::new(rng, PingConfig::default()),
            tcp: Tcp::new(rng, config.tcp),
            raw4: RawSockets::new(RawConfig::default()),
            raw6: RawSockets::new(RawConfig::default()),
        })
    }

    /// The stack's own counters.
    pub fn counters(&self) -> &StackCounters {
        &self.ip.counters
    }

    /// The IPv4 routing table.
    pub fn routes4(&self) -> &RoutingTable<Ipv4> {
        &self.ip.routes4
    }

    /// A device's Ethernet state, with its counters.
    pub fn ethernet(&self, device: DeviceId) -> Option<&EthernetDevice> {
        self.ip.device(device).and_then(|d| d.link.ethernet())
    }

    /// IPv4 reassembly: datagrams in progress, memory held and counters.
    pub fn reassembly4(&self) -> &Reassembly<Ipv4> {
        &self.ip.reassembly4
    }

    /// IPv6 reassembly: datagrams in progress, memory held and counters.
    pub fn reassembly6(&self) -> &Reassembly<Ipv6> {
        &self.ip.v6.reassembly
    }

    /// The IPv6 path MTU cache.
    pub fn pmtu6(&self) -> &PmtuCache<Ipv6> {
        &self.ip.v6.pmtu
    }

    /// The IPv6 routing table.
    pub fn routes6(&self) -> &RoutingTable<Ipv6> {
        &self.ip.v6.routes
    }

    /// The IPv6 addresses of every device with their states, as source selection sees them.
    pub fn ipv6_addresses(&self) -> &[SourceCandidate<Ipv6Addr>] {
        &self.ip.v6.sources
    }

    /// A device's NDP neighbour cache, with its counters.
    pub fn ndp(&self, device: DeviceId) -> Option<&crate::device::nud::NeighborTable<Ipv6, Buf<F>>> {
        self.ip.device(device).map(|d| &d.v6.nd)
    }

    /// Router discovery's state: default routers, prefixes, DNS servers, redirects.
    pub fn router_discovery(&self) -> &crate::ip::router_discovery::RouterDiscovery {
        &self.ip.v6.rd
    }

    /// IPv6 address configuration's state and counters, DAD's included.
    pub fn slaac(&self) -> &crate::ip::slaac::Slaac {
        &self.ip.v6.slaac
    }

    /// A device's IPv6 link MTU and CurHopLimit, if IPv6 runs on it.
    pub fn ipv6_link(&self, device: DeviceId) -> Option<(u32, u8)> {
        self.ip.device(device).filter(|d| d.v6.enabled).map(|d| (d.v6.mtu, d.v6.hop_limit))
    }

    /// A device's ARP state, with its neighbour table and counters.
    pub fn arp(&self, device: DeviceId) -> Option<&ArpState<Buf<F>>> {
        self.ip.device(device).map(|d| &d.arp)
    }

    /// The UDP layer, for its sockets' state and counters.
    pub fn udp(&self) -> &Udp<F> {
        &self.udp
    }

    /// Adds an Ethernet device with address `mac`.
    pub fn add_ethernet_device<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        mac: UnicastAddr<Mac>,
        config: EthernetConfig,
    ) -> DeviceId {
        self.ip.add_ethernet_device(ctx, mac, config)
    }

    /// Assigns `addr` to `device`, adds the route to its subnet and announces it (RFC 5227
    /// §2.3, gratuitous ARP).
    pub fn add_ipv4_address<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: AddrSubnet<Ipv4Addr>,
    ) -> Result<(), DeviceError> {
        self.ip.add_ipv4_address(ctx, device, addr)
    }

    /// Adds a route (e.g. the default route via a gateway).
    pub fn add_ipv4_route(&mut self, route: Route<Ipv4>) -> Result<(), RouteError<Ipv4Addr>> {
        self.ip.add_ipv4_route(route)
    }

    /// Starts IPv6 on `device` (RFC 4862 §5.3, RFC 4861 §6.3.7): it joins all-nodes, forms
    /// its link-local address and runs DAD on it, and solicits routers; Router
    /// Advertisements then configure default routes, prefixes and SLAAC addresses.
    pub fn enable_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
    ) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        self.ip.start_ipv6(ctx, index);
        self.drain_loopback(ctx);
        Ok(())
    }

    /// Assigns `addr` to `device` with infinite lifetimes: tentative until DAD passes (RFC
    /// 4862 §5.4), with a route to its prefix.
    pub fn add_ipv6_address<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: AddrSubnet<Ipv6Addr>,
    ) -> Result<(), DeviceError> {
        let forever = Lifetimes { valid: Lifetime::Infinite, preferred: Lifetime::Infinite };
        self.add_ipv6_address_with_lifetimes(ctx, device, addr, forever)
    }

    /// Assigns `addr` to `device` with the given valid and preferred lifetimes (RFC 4862
    /// §5.5.4 applies to it as to autoconfigured ones).
    pub fn add_ipv6_address_with_lifetimes<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: AddrSubnet<Ipv6Addr>,
        lifetimes: Lifetimes,
    ) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        if !self.ip.devices[index].v6.enabled {
            return Err(DeviceError::Ipv6Disabled(device));
        }
        let result =
            self.ip.with_slaac(ctx, |slaac, slaac_ctx| slaac.add_address(slaac_ctx, device, addr, lifetimes));
        self.drain_loopback(ctx);
        Ok(result?)
    }

    /// Removes `addr` from `device`.
    pub fn remove_ipv6_address<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv6Addr,
    ) -> Result<(), DeviceError> {
        let result =
            self.ip.with_slaac(ctx, |slaac, slaac_ctx| slaac.remove_address(slaac_ctx, device, addr));
        Ok(result?)
    }

    /// Adds an IPv6 route.
    pub fn add_ipv6_route(&mut self, route: Route<Ipv6>) -> Result<(), RouteError<Ipv6Addr>> {
        self.ip.v6.routes.add(route)
    }

    /// Lets IPv6 packets arriving on `device` be forwarded, or stops it (off by default).
    /// A forwarding device is a router: it stops taking Router Advertisements and Redirects
    /// (RFC 4861 §6.3.4, §8) once IPv6 is enabled on it again.
    pub fn set_ipv6_forwarding(&mut self, device: DeviceId, on: bool) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        self.ip.devices[index].v6.forwarding = on;
        Ok(())
    }

    /// Lets IPv4 packets arriving on `device` be forwarded, or stops it (off by default).
    pub fn set_ipv4_forwarding(&mut self, device: DeviceId, on: bool) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        self.ip.devices[index].forwarding = on;
        Ok(())
    }

    /// Adds the loopback device, with 127.0.0.1/8 and ::1 (as Linux's `lo`): packets to
    /// its addresses are delivered through the loopback backlog.
    pub fn add_loopback_device<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
    ) -> Result<DeviceId, DeviceError> {
        let device = self.ip.add_device(ctx, Link::Loopback { mtu: LOOPBACK_MTU }, Mac::new([0; 6]));
        let v4 = AddrSubnet::new(Ipv4Addr::LOOPBACK, 8).map_err(|_| DeviceError::NoDevice(device))?;
        self.add_ipv4_address(ctx, device, v4)?;
        self.enable_ipv6(ctx, device)?;
        let v6 = AddrSubnet::new(Ipv6Addr::LOOPBACK, 128).map_err(|_| DeviceError::NoDevice(device))?;
        self.add_ipv6_address(ctx, device, v6)?;
        let route =
            Route { subnet: v6.subnet(), device, gateway: None, metric: 0, source: RouteSource::Kernel };
        self.ip.v6.routes.add(route)?;
        Ok(device)
    }

    /// Adds a pure-IP device (a TUN) carrying packets of at most `mtu` bytes with no
    /// link-layer header: received frames are IP packets, sent ones too.
    pub fn add_pure_ip_device<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, mtu: u32) -> DeviceId {
        let link = Link::PureIp { mtu, rx: PureIpRxCounters::default() };
        self.ip.add_device(ctx, link, Mac::new([0; 6]))
    }

    /// A frame arrived on `device`; `buf`'s body is the whole frame.
    pub fn receive_frame<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, device: DeviceId, buf: Buf<F>) {
        let handoff = self.ip.receive_frame(ctx, device, buf);
        self.deliver_raw(ctx);
        if let Some(handoff) = handoff {
            self.handoff(ctx, handoff);
        }
        self.drain_loopback(ctx);
    }

    /// Gives the transport layer what the IP layer delivered.
    fn handoff<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, handoff: Handoff<F>) {
        match handoff {
            Handoff::Udp(datagram) => self.deliver_udp::<Ipv4, _>(ctx, datagram, PortUnreachable::V4),
            Handoff::EchoReply { reply, seq } => {
                let (src, id) = (reply.src, reply.id);
                let mut transport_ctx = TransportCtx::new(ctx, &mut self.ip);
                // Replies no ping socket claims answer the stack's own echo requests.
                if let Err(message) = self.ping4.deliver_echo_reply(&mut transport_ctx, reply) {
                    let len = message.len().saturating_sub(crate::wire::icmp::HEADER_LEN);
                    ctx.on_event(StackEvent::EchoReply { src: IpAddr::V4(src), id, seq, len });
                }
            }
            Handoff::Udp6(datagram) => self.deliver_udp::<Ipv6, _>(ctx, datagram, PortUnreachable::V6),
            Handoff::EchoReply6 { reply, seq } => {
                let (src, id) = (reply.src, reply.id);
                let mut transport_ctx = TransportCtx::new(ctx, &mut self.ip);
                if let Err(message) = self.ping6.deliver_echo_reply(&mut transport_ctx, reply) {
                    let len = message.len().saturating_sub(crate::wire::icmp::HEADER_LEN);
                    ctx.on_event(StackEvent::EchoReply { src: IpAddr::V6(src), id, seq, len });
                }
            }
            Handoff::UdpError { device, quoted, report } => {
                let mut udp_ctx = TransportCtx::new(ctx, &mut self.ip);
                self.udp.deliver_icmp_error::<Ipv4, _>(&mut udp_ctx, device, quoted, report);
            }
            Handoff::UdpError6 { device, quoted, report } => {
                let mut udp_ctx = TransportCtx::new(ctx, &mut self.ip);
                self.udp.deliver_icmp_error::<Ipv6, _>(&mut udp_ctx, device, quoted, report);
            }
            Handoff::Tcp(TransportHandoff { received, buf }) => {
                let unicast = received.kind == DeliveryKind::Unicast;
                let mut tcp_ctx = TransportCtx::new(ctx, &mut self.ip);
                let (device, src, dst) = (received.device, received.src, received.dst);
                self.tcp.deliver::<Ipv4, _>(&mut tcp_ctx, device, src, dst, unicast, buf.body());
            }
            Handoff::Tcp6(TransportHandoff { received, buf }) => {
                let unicast = received.kind == DeliveryKind::Unicast;
                let mut tcp_ctx = TransportCtx::new(ctx, &mut self.ip);
                let (device, src, dst) = (received.device, received.src, received.dst);
                self.tcp.deliver::<Ipv6, _>(&mut tcp_ctx, device, src, dst, unicast, buf.body());
            }
            Handoff::TcpError(q) => {
                let mut tcp_ctx = TransportCtx::new(ctx, &mut self.ip);
                self.tcp.deliver_icmp_error::<Ipv4, _>(&mut tcp_ctx, q.local, q.remote, q.seq, &q.report);
            }
            Handoff::TcpError6(q) => {
                let mut tcp_ctx = TransportCtx::new(ctx, &mut self.ip);
                self.tcp.deliver_icmp_error::<Ipv6, _>(&mut tcp_ctx, q.local, q.remote, q.seq, &q.report);
            }
            Handoff::PingError { device, quoted, report } => {
                let mut ping_ctx = TransportCtx::new(ctx, &mut self.ip);
                self.ping4.deliver_icmp_error(&mut ping_ctx, device, quoted, report);
            }
            Handoff::PingError6 { device, quoted, report } => {
                let mut ping_ctx = TransportCtx::new(ctx, &mut self.ip);
                self.ping6.deliver_icmp_error(&mut ping_ctx, device, quoted, report);
            }
        }
    }

    /// Delivers the errors the IP layer raised itself about packets of ours it could not
    /// send (failed neighbour resolution), as the ICMP errors they stand for.
    fn deliver_local_errors<C: StackContext<Frame = F>>(&mut self, ctx: &mut C) {
        while let Some(handoff) = self.ip.local_errors.pop_front() {
            self.handoff(ctx, handoff);
        }
    }

    /// A timer fired.
    pub fn handle_timer<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, id: StackTimerId) {
        match id {
            StackTimerId::Tcp(TcpTimerId::V4(socket)) => {
                self.tcp.handle_timer(&mut TransportCtx::new(ctx, &mut self.ip), socket)
            }
            StackTimerId::Tcp(TcpTimerId::V6(socket)) => {
                self.tcp.handle_timer(&mut TransportCtx::new(ctx, &mut self.ip), socket)
            }
            _ => self.ip.handle_timer(ctx, id),
        }
        self.drain_loopback(ctx);
    }

    /// The TCP sockets.
    pub fn tcp(&self) -> &Tcp {
        &self.tcp
    }

    /// Runs `f`, a call into the TCP socket layer (either IP version), then delivers what it
    /// sent to this host's own addresses.
    pub fn tcp_call<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut Tcp, &mut TransportCtx<'_, C, F>) -> R,
    ) -> R {
        let result = f(&mut self.tcp, &mut TransportCtx::new(ctx, &mut self.ip));
        self.drain_loopback(ctx);
        result
    }

    /// Sends an ICMP echo request to `dst` from the stack itself (a diagnostic ping without
    /// a socket); replies that no ping socket claims come back as [`StackEvent::EchoReply`].
    pub fn send_echo_request<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        dst: Ipv4Addr,
        id: u16,
        seq: u16,
        data: &[u8],
    ) -> Result<(), SendError> {
        let result = self.ip.send_echo_request(ctx, dst, id, seq, data);
        self.drain_loopback(ctx);
        result
    }

    /// Sends an ICMPv6 echo request to `dst` (through `device` when it is link-scoped) from
    /// the stack itself; replies no ping socket claims come back as [`StackEvent::EchoReply`].
    pub fn send_echo_request6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        dst: Ipv6Addr,
        device: Option<DeviceId>,
        request: EchoRequest,
        data: &[u8],
    ) -> Result<(), SendError> {
        let result = self.ip.send_echo_request6(ctx, dst, device, request, data);
        self.drain_loopback(ctx);
        result
    }

    /// Sends `body` as the payload of an IPv4 packet with protocol `proto` to `dst`, from
    /// `src` or the selected source address.
    pub fn send_ipv4<C: StackContext<Frame = F>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        src: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        proto: IpProto,
        body: S,
    ) -> Result<(), SendError> {
        let result = self.ip.send_ipv4(ctx, src, dst, None, proto, DEFAULT_TTL, body);
        self.drain_loopback(ctx);
        result
    }

    /// Runs `f`, a call into the UDP socket layer (create, bind, connect, send, receive,
    /// options, close), with the context it needs to reach the IP layer.
    pub fn udp_call<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut Udp<F>, &mut TransportCtx<'_, C, F>) -> R,
    ) -> R {
        let result = f(&mut self.udp, &mut TransportCtx::new(ctx, &mut self.ip));
        self.drain_loopback(ctx);
        result
    }

    /// Runs `f`, a call into the IPv4 ping socket layer (Linux's `SOCK_DGRAM` /
    /// `IPPROTO_ICMP` sockets: create, bind, connect, send, receive, close), with the context
    /// it needs to reach the IP layer.
    pub fn ping_call<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut PingSockets<Ipv4, F>, &mut TransportCtx<'_, C, F>) -> R,
    ) -> R {
        let result = f(&mut self.ping4, &mut TransportCtx::new(ctx, &mut self.ip));
        self.drain_loopback(ctx);
        result
    }

    /// Runs `f`, a call into the IPv6 ping socket layer (`SOCK_DGRAM` / `IPPROTO_ICMPV6`).
    pub fn ping6_call<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut PingSockets<Ipv6, F>, &mut TransportCtx<'_, C, F>) -> R,
    ) -> R {
        let result = f(&mut self.ping6, &mut TransportCtx::new(ctx, &mut self.ip));
        self.drain_loopback(ctx);
        result
    }

    /// Runs `f`, a call into the IPv4 raw socket layer (`SOCK_RAW`: create, bind, connect,
    /// send, receive, options, close), with the context it needs to reach the IP layer.
    pub fn raw_call<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut RawSockets<Ipv4, F>, &mut TransportCtx<'_, C, F>) -> R,
    ) -> R {
        let result = f(&mut self.raw4, &mut TransportCtx::new(ctx, &mut self.ip));
        let raw = &self.raw4;
        self.ip.raw_protocols.v4 = ProtocolSet::from_fn(|p| raw.wants(p));
        self.drain_loopback(ctx);
        result
    }

    /// Runs `f`, a call into the IPv6 raw socket layer.
    pub fn raw6_call<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut RawSockets<Ipv6, F>, &mut TransportCtx<'_, C, F>) -> R,
    ) -> R {
        let result = f(&mut self.raw6, &mut TransportCtx::new(ctx, &mut self.ip));
        let raw = &self.raw6;
        self.ip.raw_protocols.v6 = ProtocolSet::from_fn(|p| raw.wants(p));
        self.drain_loopback(ctx);
        result
    }

    /// The IPv4 raw sockets, for their state and counters.
    pub fn raw4(&self) -> &RawSockets<Ipv4, F> {
        &self.raw4
    }

    /// The IPv6 raw sockets, for their state and counters.
    pub fn raw6(&self) -> &RawSockets<Ipv6, F> {
        &self.raw6
    }

    /// Delivers the copies the IP layer made for the raw sockets.
    fn deliver_raw<C: StackContext<Frame = F>>(&mut self, ctx: &mut C) {
        while let Some(copy) = self.ip.raw_backlog.pop_front() {
            let mut raw_ctx = TransportCtx::new(ctx, &mut self.ip);
            match copy {
                RawCopy::V4(packet) => self.raw4.deliver(&mut raw_ctx, packet),
                RawCopy::V6(packet) => self.raw6.deliver(&mut raw_ctx, packet),
            };
        }
    }

    /// Hands a received datagram to the sockets; answers a closed port with ICMP port
    /// unreachable (RFC 1122 §4.1.3.1, RFC 4443 §3.1).
    fn deliver_udp<I: UdpIpExt, C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        handoff: TransportHandoff<F, I::Addr>,
        unreachable: fn(Received<I::Addr>, Buf<F>) -> PortUnreachable<F>,
    ) where
        for<'a> TransportCtx<'a, C, F>: UdpIpContext<I>,
    {
        let TransportHandoff { received, buf } = handoff;
        let destination = match received.kind {
            DeliveryKind::Unicast => Destination::Unicast,
            DeliveryKind::Broadcast | DeliveryKind::Multicast => Destination::MulticastOrBroadcast,
        };
        let mut udp_ctx = TransportCtx::new(ctx, &mut self.ip);
        let arrival = UdpArrival {
            device: received.device,
            src: received.src,
            dst: received.dst,
            hop_limit: received.hop_limit,
            tos: received.tos,
        };
        let outcome = self.udp.deliver::<I, _>(&mut udp_ctx, arrival, destination, buf);
        if let DeliverOutcome::PortUnreachable(mut datagram) = outcome {
            datagram.undo_parse(received.ip_meta);
            self.ip.port_unreachable(ctx, unreachable(received, datagram));
        }
    }

    /// Delivers the packets this host sent itself, including any their delivery sends back.
    /// Delivers the errors about packets that could not be sent, too.
    fn drain_loopback<C: StackContext<Frame = F>>(&mut self, ctx: &mut C) {
        self.deliver_local_errors(ctx);
        for _ in 0..LOOPBACK_BACKLOG {
            let Some((device, buf)) = self.ip.loopback.pop_front() else { return };
            let link = FrameDestination::Individual;
            let handoff = match buf.body().first().map(|b| b >> 4) {
                Some(6) => self.ip.receive_ipv6(ctx, device, link, buf),
                _ => self.ip.receive_ipv4(ctx, device, link, buf),
            };
            self.deliver_raw(ctx);
            if let Some(handoff) = handoff {
                self.handoff(ctx, handoff);
            }
            self.deliver_local_errors(ctx);
        }
    }
}

/// The route to the subnet of an address assigned to `device`.
fn subnet_route(addr: AddrSubnet<Ipv4Addr>, device: DeviceId) -> Route<Ipv4> {
    Route { subnet: addr.subnet(), device, gateway: None, metric: 0, source: RouteSource::Kernel }
}

/// The default route via `gateway` on `device`.
pub fn default_route(gateway: Ipv4Addr, device: DeviceId) -> Option<Route<Ipv4>> {
    Some(Route {
        subnet: Subnet::new(<Ipv4 as Ip>::UNSPECIFIED_ADDRESS, 0).ok()?,
        device,
        gateway: Some(SpecifiedAddr::new(gateway)?),
        metric: 0,
        source: RouteSource::Static,
    })
}

/// Copies `bytes` into a frame buffer of their own (a reassembled datagram).
fn copy_to_frame<C: StackContext>(ctx: &mut C, bytes: &[u8]) -> Option<Buf<C::Frame>> {
    let mut storage = ctx.alloc_frame(bytes.len())?;
    storage.as_mut().get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(Buf::new(storage, 0..bytes.len()))
}

#[cfg(test)]
mod tests;
