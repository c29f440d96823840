//! The IPv6 half of the IP layer: receive and local delivery (RFC 8200 §4), reassembly
//! (RFC 8200 §4.5, RFC 5722), forwarding (RFC 8200 §3, with RFC 4443's errors), and sending:
//! first hop from redirects or the routing table, source selection (RFC 6724), the path MTU
//! (RFC 8201), source fragmentation and next hops resolved by NDP (RFC 4861 §7.2).
//!
//! ICMPv6 lives in [`super::icmpv6`], the NDP, SLAAC and router discovery glue in
//! [`super::ndp_ctx`].

use alloc::vec::Vec;

use super::ndp_ctx::NdpCtx;
use super::*;
use crate::addr::{IpAddr, Ipv6Addr};
use crate::device::nud::{NeighborTable, NudConfig};
use crate::ip::fragmentation::{Ipv6FragmentIdGenerator, Ipv6Fragmenter};
use crate::ip::icmp_rate::IcmpRateLimiter;
use crate::ip::router_discovery::RouterDiscovery;
use crate::ip::slaac::{Slaac, SlaacConfig, SlaacConfigError};
use crate::ip::source::{select_ipv6_source, SourcePreferences};
use crate::wire::icmp::v6::{Icmpv6DestUnreachable, Icmpv6DestUnreachableCode, Icmpv6PacketTooBig};
use crate::wire::icmp::v6::{Icmpv6TimeExceeded, Icmpv6TimeExceededCode};
use crate::wire::ipv4::{Dscp, Ecn};
use crate::wire::ipv6::{Ipv6Builder, Ipv6Packet, QuotedIpv6Header};
use crate::wire::{ParameterProblemCode, ProblemAction};

/// Linux's default Hop Limit (net.ipv6.conf.*.hop_limit) until a Router Advertisement's Cur
/// Hop Limit sets a device's own (RFC 4861 §6.3.4).
pub const DEFAULT_HOP_LIMIT: u8 = 64;

/// The smallest link MTU IPv6 allows (RFC 8200 §5).
pub(super) const IPV6_MIN_MTU: u32 = 1280;

/// What the IPv6 layer counts, named after Linux's Ip6 and Icmp6 MIB (`/proc/net/snmp6`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ipv6Counters {
    /// The receive decision (Ip6InReceives, Ip6InAddrErrors, ...).
    pub receive: ReceiveCounters,
    /// Packets that did not parse (Ip6InHdrErrors).
    pub in_hdr_errors: u64,
    /// Packets for an upper-layer protocol this host does not run (Ip6InUnknownProtos).
    pub in_unknown_protos: u64,
    /// Fragments that did not parse as fragments.
    pub fragment_errors: u64,
    /// Reassembled datagrams dropped: no frame buffer to hold them.
    pub reassembled_no_buffer: u64,
    /// Packets forwarded (Ip6OutForwDatagrams).
    pub forw_datagrams: u64,
    /// Packets to forward with no route (Ip6InNoRoutes).
    pub in_no_routes: u64,
    /// Packets to forward too big for the next link (Ip6InTooBigErrors).
    pub in_too_big_errors: u64,
    /// Packets not forwarded because an address is link-local (RFC 4291 §2.5.6).
    pub beyond_scope: u64,
    /// Multicast packets not forwarded: there is no multicast routing.
    pub multicast_not_forwarded: u64,
    /// Packets dropped: IPv6 is not enabled on the receiving device.
    pub disabled_drops: u64,
    /// Packets not sent: no route (Ip6OutNoRoutes).
    pub out_no_routes: u64,
    /// ICMPv6 messages received (Icmp6InMsgs).
    pub icmp_in_msgs: u64,
    /// ICMPv6 messages that did not parse, had a bad checksum or failed validation
    /// (Icmp6InErrors).
    pub icmp_in_errors: u64,
    /// ICMPv6 messages with a bad checksum (Icmp6InCsumErrors), also in `icmp_in_errors`.
    pub icmp_in_csum_errors: u64,
    /// ICMPv6 messages received with a good checksum, by type (`Icmp6InType<N>`).
    pub icmp_in_types: IcmpTypeCounters,
    /// Echo requests answered (Icmp6OutEchoReplies).
    pub icmp_out_echo_replies: u64,
    /// Destination unreachables sent (Icmp6OutDestUnreachs).
    pub icmp_out_dest_unreachs: u64,
    /// Packet too bigs sent (Icmp6OutPktTooBigs).
    pub icmp_out_pkt_too_bigs: u64,
    /// Time exceededs sent (Icmp6OutTimeExcds).
    pub icmp_out_time_excds: u64,
    /// Parameter problems sent (Icmp6OutParmProblems).
    pub icmp_out_parm_problems: u64,
    /// ICMPv6 errors not sent, by reason.
    pub icmp_suppressed: SuppressedCounters,
    /// NDP messages dropped: Hop Limit not 255, so possibly from off-link (RFC 4861 §6.1,
    /// §7.1).
    pub ndp_bad_hop_limit: u64,
    /// Neighbor Solicitations and Advertisements dropped by RFC 4861 §7.1's other checks.
    pub ndp_invalid: u64,
    /// Neighbor Solicitations sent.
    pub ndp_out_solicits: u64,
    /// Neighbor Advertisements sent.
    pub ndp_out_adverts: u64,
    /// Router Solicitations sent.
    pub ndp_out_router_solicits: u64,
    /// Router Solicitations received and ignored: this host runs no router advertisements.
    pub ndp_router_solicits_ignored: u64,
    /// MLD messages dropped: Hop Limit not 1 (RFC 2710 §3, RFC 3810 §5).
    pub mld_bad_hop_limit: u64,
    /// MLD messages sent.
    pub mld_out_msgs: u64,
}

/// A device's IPv6 state.
pub(super) struct Ipv6Device<F> {
    /// Whether IPv6 runs on the device (see [`Stack::enable_ipv6`]).
    pub(super) enabled: bool,
    /// The neighbour cache NDP drives (RFC 4861 §5.1).
    pub(super) nd: NeighborTable<Ipv6, Buf<F>>,
    /// The link MTU: the device's, or lower as a Router Advertisement's MTU option says.
    pub(super) mtu: u32,
    /// CurHopLimit (RFC 4861 §6.3.2).
    pub(super) hop_limit: u8,
    /// Whether packets arriving here may be forwarded (Linux's per-device
    /// net.ipv6.conf.<dev>.forwarding; off by default).
    pub(super) forwarding: bool,
    /// IPv6 was turned off because the MTU went below 1280 (RFC 8200 §5), and comes back
    /// when it is raised again, as Linux does.
    pub(super) disabled_by_mtu: bool,
}

impl<F: AsRef<[u8]>> Ipv6Device<F> {
    pub(super) fn new(ctx: &mut (impl InstantContext + RngContext), id: DeviceId, mtu: u32) -> Self {
        Self {
            enabled: false,
            nd: NeighborTable::new(ctx, id, NudConfig::default()),
            mtu,
            hop_limit: DEFAULT_HOP_LIMIT,
            forwarding: false,
            disabled_by_mtu: false,
        }
    }
}

/// The IPv6 layer's tables, beside the devices.
pub(super) struct Ipv6Layer {
    pub(super) routes: RoutingTable<Ipv6>,
    /// Every IPv6 address for source selection and local delivery, rebuilt from address
    /// configuration's events.
    pub(super) sources: Vec<SourceCandidate<Ipv6Addr>>,
    pub(super) slaac: Slaac,
    pub(super) rd: RouterDiscovery,
    pub(super) mld: Gmp<Ipv6>,
    pub(super) reassembly: Reassembly<Ipv6>,
    pub(super) fragmentation: FragmentationCounters,
    pub(super) fragment_ids: Ipv6FragmentIdGenerator,
    pub(super) pmtu: PmtuCache<Ipv6>,
    pub(super) icmp_rate: IcmpRateLimiter<Ipv6>,
}

impl Ipv6Layer {
    pub(super) fn new(rng: &mut impl RngContext, slaac: SlaacConfig) -> Result<Self, SlaacConfigError> {
        let mut key = [0; 16];
        key[..8].copy_from_slice(&rng.random_u64().to_le_bytes());
        key[8..].copy_from_slice(&rng.random_u64().to_le_bytes());
        let slaac = Slaac::new(slaac, crate::hash::SipKey(key))?;
        Ok(Self {
            routes: RoutingTable::default(),
            sources: Vec::new(),
            slaac,
            rd: RouterDiscovery::new(),
            mld: Gmp::new(GmpConfig::default()),
            reassembly: Reassembly::default(),
            fragmentation: FragmentationCounters::default(),
            fragment_ids: Ipv6FragmentIdGenerator::new_random(rng),
            pmtu: PmtuCache::default(),
            icmp_rate: IcmpRateLimiter::new(Default::default(), rng),
        })
    }

    /// Whether `addr` is one of ours, and usable.
    pub(super) fn address_match(&self, addr: Ipv6Addr) -> AddressMatch {
        address_match(&self.sources, addr)
    }

    /// Whether `addr` is one of our usable addresses (on `device`, if given).
    pub(super) fn is_assigned(&self, addr: Ipv6Addr, device: Option<DeviceId>) -> bool {
        self.sources
            .iter()
            .any(|c| c.is_usable() && c.address() == addr && device.is_none_or(|d| d == c.device))
    }

    /// The usable source for `dst` through `device` (RFC 6724 §5).
    pub(super) fn select_source(&self, dst: Ipv6Addr, device: DeviceId) -> Option<Ipv6Addr> {
        select_ipv6_source(&self.sources, dst, device, &SourcePreferences::default()).map(|c| c.address())
    }

    /// The device and neighbour a packet to `dst` goes to: a Redirect's target first (RFC
    /// 4861 §8.3), else the routing table. Link-scoped and multicast destinations need
    /// `device` (RFC 4007 §6); they go straight to the destination on it.
    pub(super) fn first_hop(&self, dst: Ipv6Addr, device: Option<DeviceId>) -> Option<(DeviceId, Ipv6Addr)> {
        if dst.is_multicast() || dst.is_unicast_link_local() {
            return device.map(|d| (d, dst));
        }
        let route = self.routes.lookup(SpecifiedAddr::new(dst)?, device)?;
        let redirected = self.rd.redirects(route.device).iter().find(|r| r.destination == dst);
        Some((route.device, redirected.map_or(route.next_hop.addr().into_addr(), |r| r.target)))
    }
}

/// Whether `addr` is among `sources`, and usable.
fn address_match(sources: &[SourceCandidate<Ipv6Addr>], addr: Ipv6Addr) -> AddressMatch {
    let mut found = AddressMatch::NotOurs;
    for candidate in sources.iter().filter(|c| c.address() == addr) {
        if candidate.is_usable() {
            return AddressMatch::Assigned;
        }
        found = AddressMatch::Tentative;
    }
    found
}

/// The usable link-local address of `device` among `sources`, if any.
pub(super) fn usable_link_local(sources: &[SourceCandidate<Ipv6Addr>], device: DeviceId) -> Option<Ipv6Addr> {
    sources
        .iter()
        .find(|c| c.device == device && c.is_usable() && c.address().is_unicast_link_local())
        .map(|c| c.address())
}

/// The source of Neighbor Solicitations on `device` (RFC 4861 §7.2.2): one of its usable
/// addresses, the link-local one preferably.
pub(super) fn solicitation_source(
    sources: &[SourceCandidate<Ipv6Addr>],
    device: DeviceId,
) -> Option<Ipv6Addr> {
    usable_link_local(sources, device)
        .or_else(|| sources.iter().find(|c| c.device == device && c.is_usable()).map(|c| c.address()))
}

/// The IPv6 errors the IP layer sends (RFC 4443 §3).
#[derive(Clone, Copy, Debug)]
pub(super) enum Icmpv6Error {
    DestUnreachable(Icmpv6DestUnreachableCode),
    PacketTooBig(u32),
    TimeExceeded(Icmpv6TimeExceededCode),
    ParameterProblem(crate::wire::icmp::v6::Icmpv6ParameterProblem),
}

impl<F: AsRef<[u8]> + AsMut<[u8]>> IpLayer<F> {
    /// An IPv6 packet arrived on `device`, or was looped back; `buf`'s body is the packet.
    pub(super) fn receive_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        link: FrameDestination,
        mut buf: Buf<F>,
    ) -> Option<Handoff<F>> {
        if !self.device(device).is_some_and(|d| d.v6.enabled) {
            self.counters.ipv6.disabled_drops += 1;
            return None;
        }
        let parsed = buf.parse::<Ipv6Packet<&[u8]>>(()).map(|packet| {
            let fragment = packet.fragment_header().is_some();
            let fields = (packet.src_ip(), packet.dst_ip(), packet.proto(), packet.hop_limit());
            (fields, packet.traffic_class(), fragment, ParsablePacket::<&[u8]>::parse_metadata(&packet))
        });
        let ((src, dst, proto, hop_limit), tos, fragment, meta) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                self.counters.ipv6.in_hdr_errors += 1;
                self.report_malformed_ipv6(ctx, device, link, buf.body(), &error);
                return None;
            }
        };
        let queries = Ipv6Queries { devices: &self.devices, sources: &self.v6.sources, mld: &self.v6.mld };
        let decision = receive::decide::<Ipv6>(&queries, &mut self.counters.ipv6.receive, device, src, dst);
        let received = |kind| Received { device, src, dst, kind, link, ip_meta: meta, hop_limit, tos };
        let kind = match decision {
            ReceiveDecision::Deliver(kind) => kind,
            ReceiveDecision::Forward => {
                buf.undo_parse(meta);
                self.forward_ipv6(ctx, received(DeliveryKind::Unicast), buf);
                return None;
            }
            ReceiveDecision::Drop(_) => return None,
        };
        if fragment {
            buf.undo_parse(meta);
            return self.reassemble_ipv6(ctx, received(kind), &buf);
        }
        self.deliver_ipv6(ctx, received(kind), proto, buf)
    }

    /// Answers a packet whose header chain is wrong with the ICMPv6 Parameter Problem the
    /// parser asked for (RFC 8200 §4.2, §4.5; RFC 7112), unless the packet is too broken to
    /// name a sender.
    fn report_malformed_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        link: FrameDestination,
        packet: &[u8],
        error: &crate::wire::ParseError,
    ) {
        let crate::wire::ParseErrorKind::ParameterProblem { pointer, code, action } = &error.kind else {
            return;
        };
        let Ok(header) = QuotedIpv6Header::parse(packet) else { return };
        let (src, dst) = (header.src_ip(), header.dst_ip());
        // RFC 4443 §2.4 (e.3): only an unrecognised option whose action bits are `10` is
        // reported to a multicast destination.
        let permission = match action {
            ProblemAction::Discard => return,
            ProblemAction::DiscardAndSendIcmp if *code == ParameterProblemCode::UnrecognizedOption => {
                MulticastPermission::Allowed
            }
            _ => MulticastPermission::Denied,
        };
        let kind = if dst.is_multicast() { DeliveryKind::Multicast } else { DeliveryKind::Unicast };
        let received = Received {
            device,
            src,
            dst,
            kind,
            link,
            ip_meta: ParseMetadata::default(),
            hop_limit: header.hop_limit(),
            // Only an ICMPv6 error answers it.
            tos: 0,
        };
        let problem =
            crate::wire::icmp::v6::Icmpv6ParameterProblem { code: (*code).into(), pointer: *pointer };
        if self.send_icmpv6_error(ctx, &received, packet, Icmpv6Error::ParameterProblem(problem), permission)
        {
            self.counters.ipv6.icmp_out_parm_problems += 1;
        }
    }

    /// Delivers a packet for this host to its upper-layer protocol; `buf`'s body is the
    /// payload after every extension header.
    pub(super) fn deliver_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: Received<Ipv6Addr>,
        proto: IpProto,
        mut buf: Buf<F>,
    ) -> Option<Handoff<F>> {
        let raw = self.raw_wants(IpVersion::V6, proto);
        if raw {
            // Raw IPv6 sockets receive the payload only (RFC 3542 §3).
            self.copy_for_raw(ctx, &received, proto, buf.body(), RawCopy::V6);
        }
        match proto {
            IpProto::ICMPV6 => self.receive_icmpv6(ctx, &received, buf),
            IpProto::UDP => Some(Handoff::Udp6(TransportHandoff { received, buf })),
            IpProto::TCP => Some(Handoff::Tcp6(TransportHandoff { received, buf })),
            // RFC 8200 §4.7: nothing follows; the packet is done.
            IpProto::NO_NEXT_HEADER => None,
            // A raw socket takes what the stack does not know (Linux's ip6_protocol_deliver_rcu).
            _ if raw => None,
            _ => {
                // RFC 8200 §4: an unrecognised Next Header is answered with Parameter
                // Problem code 1 pointing at the field that named it.
                self.counters.ipv6.in_unknown_protos += 1;
                buf.undo_parse(received.ip_meta);
                let pointer = next_header_pointer(buf.body());
                let problem = crate::wire::icmp::v6::Icmpv6ParameterProblem {
                    code: crate::wire::icmp::v6::Icmpv6ParameterProblemCode::UnrecognizedNextHeader,
                    pointer,
                };
                let error = Icmpv6Error::ParameterProblem(problem);
                if self.send_icmpv6_error(ctx, &received, buf.body(), error, MulticastPermission::Denied) {
                    self.counters.ipv6.icmp_out_parm_problems += 1;
                }
                None
            }
        }
    }

    /// Adds a fragment for this host to IPv6 reassembly (RFC 8200 §4.5; overlaps drop the
    /// whole datagram, RFC 5722); a completed datagram is delivered from a buffer of its own.
    fn reassemble_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: Received<Ipv6Addr>,
        packet: &Buf<F>,
    ) -> Option<Handoff<F>> {
        let Ok(Some(fragment)) = FragmentData::parse_ipv6(received.device, packet.body()) else {
            self.counters.ipv6.fragment_errors += 1;
            return None;
        };
        let Ok(FragmentOutcome::Reassembled(datagram)) =
            self.v6.reassembly.process_fragment(&mut ModuleTimers(ctx), fragment)
        else {
            return None;
        };
        let Some(mut whole) = copy_to_frame(ctx, datagram.body()) else {
            self.counters.ipv6.reassembled_no_buffer += 1;
            return None;
        };
        let (proto, ip_meta) = {
            let packet = whole.parse::<Ipv6Packet<&[u8]>>(()).ok()?;
            (packet.proto(), ParsablePacket::<&[u8]>::parse_metadata(&packet))
        };
        self.deliver_ipv6(ctx, Received { ip_meta, ..received }, proto, whole)
    }

    /// Forwards a packet for another host (RFC 8200 §3, RFC 4443 §3): Hop Limit decremented
    /// in place, Time Exceeded when it runs out, Destination Unreachable without a route or
    /// beyond the source's scope, Packet Too Big when it does not fit the next link (routers
    /// never fragment IPv6).
    fn forward_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: Received<Ipv6Addr>,
        mut buf: Buf<F>,
    ) {
        let deny = MulticastPermission::Denied;
        if received.dst.is_multicast() {
            self.counters.ipv6.multicast_not_forwarded += 1;
            return;
        }
        // RFC 4291 §2.5.6: link-local traffic never leaves its link.
        if received.dst.is_unicast_link_local() {
            self.counters.ipv6.beyond_scope += 1;
            return;
        }
        let Some((out, next_hop)) = self.v6.first_hop(received.dst, None) else {
            self.counters.ipv6.in_no_routes += 1;
            let error = Icmpv6Error::DestUnreachable(Icmpv6DestUnreachableCode::NoRoute);
            if self.send_icmpv6_error(ctx, &received, buf.body(), error, deny) {
                self.counters.ipv6.icmp_out_dest_unreachs += 1;
            }
            return;
        };
        if received.src.is_unicast_link_local() && out != received.device {
            self.counters.ipv6.beyond_scope += 1;
            let error = Icmpv6Error::DestUnreachable(Icmpv6DestUnreachableCode::BeyondScope);
            if self.send_icmpv6_error(ctx, &received, buf.body(), error, deny) {
                self.counters.ipv6.icmp_out_dest_unreachs += 1;
            }
            return;
        }
        let Some(index) = self.device_index(out) else { return };
        let (hop_limit, meta) = match buf.parse_mut::<Ipv6Packet<&mut [u8]>>(()) {
            Ok(mut packet) => (
                packet.decrement_hop_limit().unwrap_or(0),
                ParsablePacket::<&mut [u8]>::parse_metadata(&packet),
            ),
            Err(_) => return,
        };
        buf.undo_parse(meta);
        // RFC 8200 §3: a packet whose Hop Limit reaches zero is discarded and reported.
        if hop_limit == 0 {
            let error = Icmpv6Error::TimeExceeded(Icmpv6TimeExceededCode::HopLimitExceeded);
            if self.send_icmpv6_error(ctx, &received, buf.body(), error, deny) {
                self.counters.ipv6.icmp_out_time_excds += 1;
            }
            return;
        }
        let mtu = self.devices[index].v6.mtu;
        if buf.len() > mtu as usize {
            // RFC 4443 §3.2: sent even for multicast destinations.
            self.counters.ipv6.in_too_big_errors += 1;
            let error = Icmpv6Error::PacketTooBig(mtu);
            if self.send_icmpv6_error(ctx, &received, buf.body(), error, MulticastPermission::Allowed) {
                self.counters.ipv6.icmp_out_pkt_too_bigs += 1;
            }
            return;
        }
        self.counters.ipv6.forw_datagrams += 1;
        self.transmit_ipv6(ctx, index, received.dst, next_hop, buf);
    }

    /// Routes a packet to `dst`: the first hop from `device` (needed for link-scoped
    /// destinations), redirects or the routing table; the source from `src` or RFC 6724;
    /// whether `dst` is our own; the path MTU.
    fn route_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        src: Option<Ipv6Addr>,
        dst: Ipv6Addr,
        device: Option<DeviceId>,
    ) -> Result<Ipv6Path, SendError> {
        let Some((out, next_hop)) = self.v6.first_hop(dst, device) else {
            self.counters.ipv6.out_no_routes += 1;
            return Err(SendError::NoRoute(IpAddr::V6(dst)));
        };
        let src = match src {
            Some(src) => src,
            None => self.v6.select_source(dst, out).ok_or(SendError::NoSourceAddress(IpAddr::V6(dst)))?,
        };
        let index = self.device_index(out).ok_or(SendError::NoRoute(IpAddr::V6(dst)))?;
        let dev = &self.devices[index];
        if !dev.v6.enabled {
            return Err(SendError::NoRoute(IpAddr::V6(dst)));
        }
        let local = self.v6.address_match(dst) == AddressMatch::Assigned;
        let mtu = self.path_mtu::<Ipv6>(ctx.now(), dev, dst);
        Ok(Ipv6Path { index, device: out, src, next_hop, local, mtu, hop_limit: dev.v6.hop_limit })
    }

    /// Sends an IPv6 packet in `buf` that went along `path`: back to this host or out.
    fn finish_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        path: &Ipv6Path,
        dst: Ipv6Addr,
        buf: Buf<F>,
    ) -> Result<(), SendError> {
        if path.local {
            return self.loop_back(path.device, buf);
        }
        self.transmit_ipv6(ctx, path.index, dst, path.next_hop, buf);
        Ok(())
    }

    /// Sends `body` as the payload of an IPv6 packet to `dst` with protocol `proto`, routed
    /// as [`route_ipv6`](Self::route_ipv6) says, with the Hop Limit from `hop_limit` or the
    /// device's CurHopLimit. Packets to our own addresses are delivered locally.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_ipv6<C: StackContext<Frame = F>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        src: Option<Ipv6Addr>,
        dst: Ipv6Addr,
        device: Option<DeviceId>,
        proto: IpProto,
        hop_limit: Option<u8>,
        body: S,
    ) -> Result<(), SendError> {
        let path = self.route_ipv6(ctx, src, dst, device)?;
        let header = Ipv6Builder::new(path.src, dst, hop_limit.unwrap_or(path.hop_limit), proto);
        if !path.local && body.len() + header.header_len() > path.mtu as usize {
            return self.send_ipv6_fragmented(ctx, path.index, path.next_hop, header, body, path.mtu);
        }
        let buf = self.serialize_packet(ctx, body.encapsulate(header))?;
        self.finish_ipv6(ctx, &path, dst, buf)
    }

    /// Sends a transport segment that `write` puts straight into a transmit buffer, as
    /// [`send_ipv4_written`](Self::send_ipv4_written) does for IPv4; `(hop_limit, class)`
    /// are the Hop Limit (the device's CurHopLimit if `None`) and the Traffic Class.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_ipv6_written<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        device: Option<DeviceId>,
        proto: IpProto,
        (hop_limit, class): (Option<u8>, u8),
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SendError> {
        let path = self.route_ipv6(ctx, Some(src), dst, device)?;
        let header = Ipv6Builder {
            dscp: Dscp::new(class >> 2).unwrap_or_default(),
            ecn: Ecn::from_bits(class),
            ..Ipv6Builder::new(src, dst, hop_limit.unwrap_or(path.hop_limit), proto)
        };
        let Some(buf) = self.write_in_frame(ctx, header, path.mtu, write)? else {
            return Ok(false);
        };
        self.finish_ipv6(ctx, &path, dst, buf)?;
        Ok(true)
    }

    /// Sends a packet too big for the path as fragments (RFC 8200 §4.5), each resolved and
    /// transmitted like a packet of its own.
    fn send_ipv6_fragmented<C: StackContext<Frame = F>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        index: usize,
        next_hop: Ipv6Addr,
        header: Ipv6Builder<'_>,
        body: S,
        mtu: u32,
    ) -> Result<(), SendError> {
        let (src, dst) = (header.src, header.dst);
        let payload = body.serialize_vec().map_err(|_| SendError::NoBuffer)?;
        let id = self.v6.fragment_ids.next_id(src, dst);
        let fragmenter = Ipv6Fragmenter::new(header, payload.len(), mtu, id, &mut self.v6.fragmentation)
            .map_err(|_| SendError::TooBig { len: header.header_len() + payload.len(), mtu })?;
        self.send_fragments(
            ctx,
            fragmenter.plan(),
            |ip, i, out| fragmenter.serialize(i, payload.body(), out, &mut ip.v6.fragmentation),
            |ip, ctx, buf| ip.transmit_ipv6(ctx, index, dst, next_hop, buf),
        )
    }

    /// Transmits the IPv6 packet in `buf` (with room for the Ethernet header in front) on
    /// device `index`: to the group's MAC for multicast (RFC 2464 §7), else to the next hop's
    /// MAC once NDP resolves it.
    pub(super) fn transmit_ipv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        index: usize,
        dst: Ipv6Addr,
        next_hop: Ipv6Addr,
        buf: Buf<F>,
    ) {
        let Some(mut buf) = self.send_without_link_header(ctx, index, buf) else { return };
        let dev = &mut self.devices[index];
        let Link::Ethernet(eth) = &dev.link else { return };
        if dst.is_multicast() {
            if buf.encapsulate(&eth.builder(Mac::from_ipv6_multicast(dst), EtherType::IPV6)).is_ok() {
                ctx.send_frame(dev.id, buf);
            }
            return;
        }
        let Some(neighbor) = UnicastAddr::new(next_hop) else {
            self.counters.ipv6.out_no_routes += 1;
            return;
        };
        let outcome = self.with_nd(ctx, index, |nd, nd_ctx| nd.send(nd_ctx, neighbor, buf));
        if let SendOutcome::Dropped(_) = outcome {
            self.counters.tx_resolution_drops += 1;
        }
    }

    /// Runs `f` on device `index`'s neighbour cache with its context, then does the work it
    /// left for the stack.
    pub(super) fn with_nd<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        index: usize,
        f: impl FnOnce(&mut NeighborTable<Ipv6, Buf<F>>, &mut NdpCtx<'_, C, F>) -> R,
    ) -> R {
        let dev = &mut self.devices[index];
        // A disabled device sends nothing.
        let eth = dev.link.ethernet().filter(|_| dev.enabled);
        let mut nd_ctx = NdpCtx::for_neighbors(ctx, eth, &self.v6.sources);
        let result = f(&mut dev.v6.nd, &mut nd_ctx);
        let (work, sent) = nd_ctx.finish();
        self.counters.ipv6.ndp_out_solicits += sent;
        self.process_ipv6_work(ctx, work);
        result
    }

    /// Resolving `neighbor` failed for `packet` (RFC 4861 §7.2.2): a packet this host sent is
    /// reported to the bindings, and to its socket as the Destination Unreachable (address
    /// unreachable) Linux raises locally (`ip6_link_failure`), quoting it; one it forwarded
    /// gets that error back to its source.
    pub(super) fn ipv6_resolution_failed<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        packet: Buf<F>,
    ) {
        let Ok(ip) = Ipv6Packet::parse_bytes(packet.body(), ()) else { return };
        let (src, dst) = (ip.src_ip(), ip.dst_ip());
        if self.v6.address_match(src) == AddressMatch::Assigned {
            ctx.on_event(StackEvent::HostUnreachable { dst: IpAddr::V6(dst) });
            let report = IcmpErrorReport::v6_dest_unreachable(Icmpv6DestUnreachableCode::AddressUnreachable);
            if let Some(error) = icmpv6::quoted_transport_error(device, packet.body(), report) {
                self.local_errors.push_back(error);
            }
            return;
        }
        let received = Received::for_error(device, src, dst);
        let error = Icmpv6Error::DestUnreachable(Icmpv6DestUnreachableCode::AddressUnreachable);
        if self.send_icmpv6_error(ctx, &received, packet.body(), error, MulticastPermission::Denied) {
            self.counters.ipv6.icmp_out_dest_unreachs += 1;
        }
    }

    /// Sends an ICMPv6 echo request to `dst` from the stack itself.
    pub(super) fn send_echo_request6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        dst: Ipv6Addr,
        device: Option<DeviceId>,
        request: EchoRequest,
        data: &[u8],
    ) -> Result<(), SendError> {
        let (out, _) = self.v6.first_hop(dst, device).ok_or(SendError::NoRoute(IpAddr::V6(dst)))?;
        let src = self.v6.select_source(dst, out).ok_or(SendError::NoSourceAddress(IpAddr::V6(dst)))?;
        let pseudo = crate::wire::icmp::Icmpv6PseudoHeader { src, dst };
        let message = data.encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, request));
        self.send_ipv6(ctx, Some(src), dst, Some(out), IpProto::ICMPV6, None, message)
    }

    /// Sends the Time Exceeded (fragment reassembly time exceeded) reassembly asked for
    /// (RFC 8200 §4.5), under the same rules as every ICMPv6 error.
    pub(super) fn send_reassembly_time_exceeded6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        request: &TimedOut<Ipv6Addr>,
    ) {
        let received = Received::for_error(request.device, request.src, request.dst);
        let error = Icmpv6Error::TimeExceeded(Icmpv6TimeExceededCode::FragmentReassembly);
        if self.send_icmpv6_error(ctx, &received, &request.quote, error, MulticastPermission::Denied) {
            self.counters.ipv6.icmp_out_time_excds += 1;
        }
    }

    /// Lowers the path MTU towards the destination of the packet a Packet Too Big quotes
    /// (RFC 8201 §4).
    pub(super) fn update_path_mtu6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        message: Icmpv6PacketTooBig,
        invoking_packet: &[u8],
    ) {
        let Ok(quoted) = QuotedIpv6Header::parse(invoking_packet) else { return };
        let dst = quoted.dst_ip();
        let out = self.v6.first_hop(dst, Some(device)).map_or(device, |(d, _)| d);
        let link_mtu = self.device(out).map_or(0, |d| d.v6.mtu);
        let mut timers = ModuleTimers(ctx);
        self.v6.pmtu.handle_too_big(&mut timers, dst, message.mtu, quoted.total_len(), link_mtu);
    }
}

/// The offset of the Next Header field that names the packet's upper-layer protocol: in the
/// fixed header (byte 6) or in the last extension header.
fn next_header_pointer(packet: &[u8]) -> u32 {
    let Ok(parsed) = Ipv6Packet::parse_bytes(packet, ()) else { return 6 };
    let mut offset = 40usize;
    let mut last = None;
    for header in parsed.ext_headers() {
        last = Some(offset);
        offset += header.bytes().len();
    }
    u32::try_from(last.unwrap_or(6)).unwrap_or(6)
}

/// The receive decision's view of the IPv6 state.
pub(super) struct Ipv6Queries<'a, F> {
    devices: &'a [Device<F>],
    sources: &'a [SourceCandidate<Ipv6Addr>],
    mld: &'a Gmp<Ipv6>,
}

impl<F: AsRef<[u8]>> ReceiveQueries<Ipv6> for Ipv6Queries<'_, F> {
    fn address_match(&self, addr: Ipv6Addr) -> AddressMatch {
        address_match(self.sources, addr)
    }

    fn is_broadcast_on(&self, _device: DeviceId, _addr: Ipv6Addr) -> bool {
        false
    }

    fn joined(&self, device: DeviceId, group: Ipv6Addr) -> bool {
        // Every node belongs to all-nodes (RFC 4291 §2.8); other groups once joined.
        group == Ipv6Addr::ALL_NODES
            || MulticastAddr::new(group).is_some_and(|g| self.mld.is_member(device, g))
    }

    fn forwarding(&self, device: DeviceId) -> bool {
        self.devices.iter().any(|d| d.id == device && d.v6.forwarding)
    }

    fn is_loopback(&self, device: DeviceId) -> bool {
        self.devices.iter().any(|d| d.id == device && matches!(d.link, Link::Loopback { .. }))
    }
}

impl From<Icmpv6Error> for Icmpv6Type {
    fn from(error: Icmpv6Error) -> Self {
        match error {
            Icmpv6Error::DestUnreachable(_) => Icmpv6Type::DestUnreachable,
            Icmpv6Error::PacketTooBig(_) => Icmpv6Type::PacketTooBig,
            Icmpv6Error::TimeExceeded(_) => Icmpv6Type::TimeExceeded,
            Icmpv6Error::ParameterProblem(_) => Icmpv6Type::ParameterProblem,
        }
    }
}

impl Icmpv6Error {
    /// The message's code.
    pub(super) fn code(self) -> u8 {
        match self {
            Icmpv6Error::DestUnreachable(code) => code.into(),
            Icmpv6Error::PacketTooBig(_) => 0,
            Icmpv6Error::TimeExceeded(code) => code.into(),
            Icmpv6Error::ParameterProblem(problem) => problem.code.into(),
        }
    }

    /// Serializes the error with `quote` as its body, for the pseudo-header `src` → `dst`.
    pub(super) fn message<'q>(self, src: Ipv6Addr, dst: Ipv6Addr, quote: &'q [u8]) -> impl Serializer + 'q {
        use crate::wire::icmp::Icmpv6PseudoHeader;
        let pseudo = Icmpv6PseudoHeader { src, dst };
        use crate::wire::icmp::IcmpMessageFields as M;
        let header = match self {
            Icmpv6Error::DestUnreachable(code) => M::<Ipv6>::header(&Icmpv6DestUnreachable { code }),
            Icmpv6Error::PacketTooBig(mtu) => M::<Ipv6>::header(&Icmpv6PacketTooBig { mtu }),
            Icmpv6Error::TimeExceeded(code) => M::<Ipv6>::header(&Icmpv6TimeExceeded { code }),
            Icmpv6Error::ParameterProblem(problem) => M::<Ipv6>::header(&problem),
        };
        quote.encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, header))
    }
}

/// Where an IPv6 packet this host originates goes.
pub(super) struct Ipv6Path {
    /// The outgoing device's index and id.
    index: usize,
    device: DeviceId,
    src: Ipv6Addr,
    next_hop: Ipv6Addr,
    /// The destination is one of our own addresses.
    local: bool,
    mtu: u32,
    /// The device's CurHopLimit.
    hop_limit: u8,
}
