//! The stack: devices, IP and transport state wired together, and the entry points the
//! bindings drive it through — frames in ([`Stack::receive_frame`]), timers firing
//! ([`Stack::handle_timer`]) and API calls.
//!
//! This is the first integration of the protocol modules. It runs Ethernet devices with ARP
//! and IPv4: receive filtering and validation, local delivery under the weak host model, a
//! loopback backlog for packets to our own addresses, ICMP echo (answering requests,
//! reporting replies), ICMP port and protocol unreachable, sending through the routing table
//! with source address selection and on-link resolution, fragmentation and reassembly,
//! forwarding where enabled, and UDP sockets over IPv4. IPv6, ping sockets, ICMP redirects
//! and group membership reports are wired in next; until then IPv6 packets are dropped and
//! counted as not handled.

mod arp_ctx;
mod ipv4;

use ipv4::TimedOutCollector;
mod gmp_ctx;
mod timers;
mod transport_ctx;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::addr::{
    AddrSubnet, Ip, Ipv4, Ipv4Addr, Ipv6, Mac, MulticastAddr, SpecifiedAddr, Subnet, UnicastAddr,
};
use crate::buf::{Buf, ParsablePacket, ParseMetadata, Serializer};
use crate::context::{RngContext, TimerContext};
use crate::device::arp::{AcdEvent, ArpConfig, ArpState, ArpTimerId};
use crate::device::ethernet::{EthernetConfig, EthernetDevice, FrameDestination};
use crate::device::nud::{NeighborEvent, SendOutcome};
use crate::device::DeviceId;
use crate::ip::fragmentation::{FragmentationCounters, Ipv4Fragmenter};
use crate::ip::gmp::{Gmp, GmpConfig, GmpTimerId};
use crate::ip::icmp_error::{self, MulticastPermission, OffendingPacket, SuppressedCounters};
use crate::ip::icmp_rate::{GlobalConfig, IcmpGlobalBucket, IcmpRateLimiter};
use crate::ip::pmtu::{PmtuCache, PmtuTimerId};
use crate::ip::reassembly::{
    FragmentData, FragmentOutcome, Reassembly, ReassemblyContext, ReassemblyTimerId, TimeExceededRequest,
};
use crate::ip::receive::{
    self, AddressMatch, DeliveryKind, ReceiveCounters, ReceiveDecision, ReceiveQueries,
};
use crate::ip::routing::{Route, RouteError, RouteSource, RoutingTable};
use crate::ip::source::{select_ipv4_source, AddressState, SourceCandidate};
use crate::transport::ping::{PingConfig, PingSocketId, PingSockets, ReceivedEchoReply};
use crate::transport::udp::{DeliverOutcome, Destination, QuotedDatagram, Udp, UdpConfig, UdpSocketId};
use crate::transport::{IcmpErrorReport, SocketEvent};
use crate::wire::arp::ArpPacket;
use crate::wire::ethernet::HEADER_LEN as ETHERNET_HEADER_LEN;
use crate::wire::icmp::v4::{
    Icmpv4DestUnreachable, Icmpv4DestUnreachableCode, Icmpv4Message, Icmpv4TimeExceeded,
    Icmpv4TimeExceededCode, Icmpv4Type,
};
use crate::wire::icmp::{EchoReply, EchoRequest, IcmpBuilder, Icmpv4Packet};
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
}

impl From<PmtuTimerId<Ipv4>> for StackTimerId {
    fn from(id: PmtuTimerId<Ipv4>) -> Self {
        StackTimerId::Pmtu4(id)
    }
}

impl From<ReassemblyTimerId<Ipv4>> for StackTimerId {
    fn from(id: ReassemblyTimerId<Ipv4>) -> Self {
        StackTimerId::Reassembly4(id)
    }
}

/// What the stack reports to the bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackEvent {
    /// An ICMP echo reply arrived for one of this host's echo requests.
    EchoReply {
        /// Who answered.
        src: Ipv4Addr,
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
        dst: Ipv4Addr,
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
    /// The neighbour table changed.
    Neighbor(NeighborEvent<Ipv4>),
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
    /// An IPv6 UDP socket's readiness changed.
    UdpV6 {
        /// The socket.
        socket: UdpSocketId<Ipv6>,
        /// What changed.
        event: SocketEvent,
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
}

/// Why a packet could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No route to the destination (ENETUNREACH).
    #[error("no route to {0}")]
    NoRoute(Ipv4Addr),
    /// No usable source address for the route (EADDRNOTAVAIL).
    #[error("no source address to reach {0}")]
    NoSourceAddress(Ipv4Addr),
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
    /// IPv6 packets dropped: IPv6 is not wired in yet.
    pub ipv6_not_handled: u64,
    /// ARP packets that did not parse.
    pub arp_parse_errors: u64,
    /// Frames for devices the stack does not know.
    pub unknown_device: u64,
    /// IGMP messages that did not parse.
    pub igmp_in_errors: u64,
    /// IGMP messages sent.
    pub igmp_out_msgs: u64,
    /// ICMP messages received (InMsgs).
    pub icmp_in_msgs: u64,
    /// ICMP messages that did not parse (InErrors).
    pub icmp_in_errors: u64,
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
}

/// What the IP layer learned about a packet it delivers.
#[derive(Clone, Copy, Debug)]
struct Received {
    device: DeviceId,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    kind: DeliveryKind,
    link: FrameDestination,
    /// Where the IP header lay, to undo the parse for an ICMP error's quote.
    ip_meta: ParseMetadata,
}

/// A UDP datagram the IP layer delivers to the transport layer: the buffer's body is the
/// datagram, UDP header included.
struct UdpHandoff<F> {
    received: Received,
    buf: Buf<F>,
}

/// What the IP layer hands to the transport layer.
enum Handoff<F> {
    /// A received datagram.
    Udp(UdpHandoff<F>),
    /// An ICMP echo reply for the ping socket holding its identifier: the buffer's body is
    /// the whole ICMP message, as Linux hands it to the application.
    EchoReply { reply: ReceivedEchoReply<Ipv4, F>, seq: u16 },
    /// An ICMP error about a datagram one of our UDP sockets sent (RFC 1122 §4.1.3.3).
    UdpError { device: DeviceId, quoted: QuotedDatagram<Ipv4>, report: IcmpErrorReport },
}

/// One device: its link layer, ARP and IPv4 addresses.
struct Device<F> {
    id: DeviceId,
    eth: EthernetDevice,
    arp: ArpState<Buf<F>>,
    /// Whether IPv4 packets arriving here may be forwarded (Linux's per-device
    /// net.ipv4.conf.<dev>.forwarding; off by default).
    forwarding: bool,
}

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
}

/// Devices and the IPv4 layer: everything but the transport layer, which calls back into it.
struct IpLayer<F> {
    devices: Vec<Device<F>>,
    routes4: RoutingTable<Ipv4>,
    /// Every IPv4 address for source selection, rebuilt when addresses change.
    sources4: Vec<SourceCandidate<Ipv4Addr>>,
    next_ip_id: u16,
    /// Packets to our own addresses, delivered by [`Stack::drain_loopback`].
    loopback: VecDeque<(DeviceId, Buf<F>)>,
    reassembly4: Reassembly<Ipv4>,
    fragmentation4: FragmentationCounters,
    pmtu4: PmtuCache<Ipv4>,
    icmp_global: IcmpGlobalBucket,
    icmp_rate4: IcmpRateLimiter<Ipv4>,
    igmp: Gmp<Ipv4>,
    counters: StackCounters,
}

impl<F> core::fmt::Debug for Stack<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stack")
            .field("devices", &self.ip.devices.len())
            .field("counters", &self.ip.counters)
            .finish()
    }
}

impl<F: AsRef<[u8]> + AsMut<[u8]>> IpLayer<F> {
    fn new(rng: &mut impl RngContext) -> Self {
        Self {
            devices: Vec::new(),
            routes4: RoutingTable::default(),
            sources4: Vec::new(),
            next_ip_id: 0,
            loopback: VecDeque::new(),
            reassembly4: Reassembly::default(),
            fragmentation4: FragmentationCounters::default(),
            pmtu4: PmtuCache::default(),
            icmp_global: IcmpGlobalBucket::new(GlobalConfig::default()),
            icmp_rate4: IcmpRateLimiter::new(Default::default(), rng),
            igmp: Gmp::new(GmpConfig::default()),
            counters: StackCounters::default(),
        }
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
        let id = DeviceId::new(self.devices.iter().map(|d| d.id.get()).max().unwrap_or(0) + 1);
        let arp = ArpState::new(&mut ArpCtx::timers_only(ctx), id, *mac, ArpConfig::default());
        let mut eth = EthernetDevice::new(mac, config);
        // Every IPv4 host belongs to all-systems (RFC 1112 §4), never reported.
        eth.multicast_filter().join(Mac::from_ipv4_multicast(Ipv4Addr::ALL_SYSTEMS));
        self.devices.push(Device { id, eth, arp, forwarding: false });
        self.igmp.add_device(id);
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
        match self.routes4.add(subnet_route(addr, device)) {
            Ok(()) | Err(RouteError::Exists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.with_arp(ctx, index, |arp, arp_ctx| arp.add_address(arp_ctx, addr, false))
            .map_err(|_| DeviceError::AddressExists)?;
        self.rebuild_sources();
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
                d.arp.addresses().map(move |(addr, usable)| SourceCandidate {
                    addr,
                    device: d.id,
                    state: if usable { AddressState::Preferred } else { AddressState::Tentative },
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
        let frame = self.devices[index].eth.receive(&mut buf).ok()?;
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
            _ => {
                self.counters.ipv6_not_handled += 1;
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
            StackTimerId::Igmp(id) => self.with_igmp(ctx, |igmp, gmp_ctx| igmp.handle_timer(gmp_ctx, id)),
            StackTimerId::Reassembly4(id) => {
                let mut timed_out = TimedOutCollector(Vec::new());
                self.reassembly4.handle_timer(&mut timed_out, id);
                for request in timed_out.0 {
                    self.send_reassembly_time_exceeded(ctx, &request);
                }
            }
        }
    }
}

impl<F: AsRef<[u8]> + AsMut<[u8]> + Clone> Stack<F> {
    /// A stack with no devices; `rng` keys its port choices.
    pub fn new(rng: &mut impl RngContext) -> Self {
        Self {
            ip: IpLayer::new(rng),
            udp: Udp::new(rng, UdpConfig::default()),
            ping4: PingSockets::new(rng, PingConfig::default()),
        }
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
        self.ip.device(device).map(|d| &d.eth)
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

    /// Lets IPv4 packets arriving on `device` be forwarded, or stops it (off by default).
    pub fn set_ipv4_forwarding(&mut self, device: DeviceId, on: bool) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        self.ip.devices[index].forwarding = on;
        Ok(())
    }

    /// A frame arrived on `device`; `buf`'s body is the whole frame.
    pub fn receive_frame<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, device: DeviceId, buf: Buf<F>) {
        if let Some(handoff) = self.ip.receive_frame(ctx, device, buf) {
            self.handoff(ctx, handoff);
        }
        self.drain_loopback(ctx);
    }

    /// Gives the transport layer what the IP layer delivered.
    fn handoff<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, handoff: Handoff<F>) {
        match handoff {
            Handoff::Udp(datagram) => self.deliver_udp(ctx, datagram),
            Handoff::EchoReply { reply, seq } => {
                let (src, id) = (reply.src, reply.id);
                let mut transport_ctx = TransportCtx::new(ctx, &mut self.ip);
                // Replies no ping socket claims answer the stack's own echo requests.
                if let Err(message) = self.ping4.deliver_echo_reply(&mut transport_ctx, reply) {
                    let len = message.len().saturating_sub(crate::wire::icmp::HEADER_LEN);
                    ctx.on_event(StackEvent::EchoReply { src, id, seq, len });
                }
            }
            Handoff::UdpError { device, quoted, report } => {
                let mut udp_ctx = TransportCtx::new(ctx, &mut self.ip);
                self.udp.deliver_icmp_error::<Ipv4, _>(&mut udp_ctx, device, quoted, report);
            }
        }
    }

    /// A timer fired.
    pub fn handle_timer<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, id: StackTimerId) {
        self.ip.handle_timer(ctx, id);
        self.drain_loopback(ctx);
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
        let result = self.ip.send_ipv4(ctx, src, dst, proto, DEFAULT_TTL, body);
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

    /// Hands a received datagram to the sockets; answers a closed port with ICMP port
    /// unreachable (RFC 1122 §4.1.3.1).
    fn deliver_udp<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, handoff: UdpHandoff<F>) {
        let UdpHandoff { received, buf } = handoff;
        let destination = match received.kind {
            DeliveryKind::Unicast => Destination::Unicast,
            DeliveryKind::Broadcast | DeliveryKind::Multicast => Destination::MulticastOrBroadcast,
        };
        let mut udp_ctx = TransportCtx::new(ctx, &mut self.ip);
        let outcome = self.udp.deliver::<Ipv4, _>(
            &mut udp_ctx,
            received.device,
            received.src,
            received.dst,
            destination,
            buf,
        );
        if let DeliverOutcome::PortUnreachable(mut datagram) = outcome {
            datagram.undo_parse(received.ip_meta);
            let code = Icmpv4DestUnreachableCode::PortUnreachable;
            self.ip.send_dest_unreachable(ctx, &received, datagram.body(), code);
        }
    }

    /// Delivers the packets this host sent itself, including any their delivery sends back.
    fn drain_loopback<C: StackContext<Frame = F>>(&mut self, ctx: &mut C) {
        for _ in 0..LOOPBACK_BACKLOG {
            let Some((device, buf)) = self.ip.loopback.pop_front() else { return };
            if let Some(handoff) = self.ip.receive_ipv4(ctx, device, FrameDestination::Individual, buf) {
                self.handoff(ctx, handoff);
            }
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

#[cfg(test)]
mod tests;
