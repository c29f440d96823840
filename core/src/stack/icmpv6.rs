//! ICMPv6 in the IP layer: messages for this host parsed once and dispatched (echo, errors,
//! NDP, MLD), and the errors it sends (RFC 4443 §2.4) under the same suppression rules and
//! rate limit as ICMPv4's.
//!
//! Neighbor Solicitations and Advertisements are validated here (RFC 4861 §7.1) and applied
//! to DAD (RFC 4862 §5.4.3, §5.4.4) and the neighbour cache (RFC 4861 §7.2.3 – §7.2.5);
//! Router Advertisements and Redirects go to router discovery, MLD to the group machinery.

use super::ipv6::Icmpv6Error;
use super::*;
use crate::addr::Ipv6Addr;
use crate::device::nud::{Advertisement, AdvertisementOutcome};
use crate::ip::dad::NsDisposition;
use crate::wire::icmp::ndp::{LinkLayerAddress, NdpOption, NdpOptions, NeighborAdvertisement};
use crate::wire::icmp::v6::Icmpv6Message;
use crate::wire::icmp::{Icmpv6Packet, Icmpv6PseudoHeader};
use crate::wire::ipv6::QuotedIpv6Header;
use crate::wire::ParseErrorKind;

/// The Hop Limit every NDP message is sent with and must arrive with (RFC 4861 §6.1.2, §7.1).
pub(super) const NDP_HOP_LIMIT: u8 = 255;

/// The Ethernet address in a link-layer address option, if it holds one.
fn ethernet(options: &NdpOptions<'_>, want_source: bool) -> Option<Mac> {
    options.iter().find_map(|option| match option {
        NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(mac)) if want_source => Some(mac),
        NdpOption::TargetLinkLayerAddress(LinkLayerAddress::Ethernet(mac)) if !want_source => Some(mac),
        _ => None,
    })
}

/// The Nonce option's bytes, if any (RFC 3971 §5.3.2, used by RFC 7527).
fn nonce<'a>(options: &NdpOptions<'a>) -> Option<&'a [u8]> {
    options.iter().find_map(|option| match option {
        NdpOption::Nonce(bytes) => Some(bytes),
        _ => None,
    })
}

impl<F: AsRef<[u8]> + AsMut<[u8]>> IpLayer<F> {
    /// An ICMPv6 message for this host, parsed (checksum over the pseudo-header) once.
    pub(super) fn receive_icmpv6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received<Ipv6Addr>,
        buf: Buf<F>,
    ) -> Option<Handoff<F>> {
        let Received { device, src, dst, hop_limit, tos, .. } = *received;
        self.counters.ipv6.icmp_in_msgs += 1;
        let (id, seq) = {
            let pseudo = Icmpv6PseudoHeader { src, dst };
            let icmp = match Icmpv6Packet::parse_bytes(buf.body(), pseudo) {
                Ok(icmp) => icmp,
                Err(e) => {
                    if e.kind == ParseErrorKind::Checksum {
                        self.counters.ipv6.icmp_in_csum_errors += 1;
                    }
                    self.counters.ipv6.icmp_in_errors += 1;
                    return None;
                }
            };
            // Counted by type once the checksum is good, before NDP's and MLD's own checks,
            // as Linux counts Icmp6InType<N>.
            self.counters.ipv6.icmp_in_types.count(icmp.msg_type().into());
            let Ok(message) = icmp.message() else {
                self.counters.ipv6.icmp_in_errors += 1;
                return None;
            };
            let ndp = matches!(
                message,
                Icmpv6Message::RouterSolicitation(_)
                    | Icmpv6Message::RouterAdvertisement(_)
                    | Icmpv6Message::NeighborSolicitation(_)
                    | Icmpv6Message::NeighborAdvertisement(_)
                    | Icmpv6Message::Redirect(_)
            );
            // RFC 4861 §6.1, §7.1, §8.1: a Hop Limit below 255 means a router passed it on.
            if ndp && hop_limit != NDP_HOP_LIMIT {
                self.counters.ipv6.ndp_bad_hop_limit += 1;
                return None;
            }
            match message {
                Icmpv6Message::EchoReply { message, .. } => (message.id, message.seq),
                Icmpv6Message::EchoRequest { message, data } => {
                    self.answer_echo6(ctx, received, message, data);
                    return None;
                }
                Icmpv6Message::NeighborSolicitation(ns) => {
                    self.receive_neighbor_solicitation(ctx, received, &ns);
                    return None;
                }
                Icmpv6Message::NeighborAdvertisement(na) => {
                    self.receive_neighbor_advertisement(ctx, received, &na);
                    return None;
                }
                Icmpv6Message::RouterSolicitation(_) => {
                    self.counters.ipv6.ndp_router_solicits_ignored += 1;
                    return None;
                }
                Icmpv6Message::RouterAdvertisement(ra) => {
                    // Refusals are counted by router discovery.
                    self.with_rd(ctx, |rd, rd_ctx| {
                        let _ = rd.receive_router_advertisement(rd_ctx, device, src, &ra);
                    });
                    return None;
                }
                Icmpv6Message::Redirect(redirect) => {
                    self.with_rd(ctx, |rd, rd_ctx| {
                        let _ = rd.receive_redirect(rd_ctx, device, src, &redirect);
                    });
                    return None;
                }
                Icmpv6Message::MulticastListenerQuery(_)
                | Icmpv6Message::MulticastListenerQueryV2(_)
                | Icmpv6Message::MulticastListenerReport(_)
                | Icmpv6Message::MulticastListenerDone(_)
                | Icmpv6Message::MulticastListenerReportV2(_) => {
                    // RFC 2710 §3, RFC 3810 §5: MLD is sent with Hop Limit 1.
                    if hop_limit != 1 {
                        self.counters.ipv6.mld_bad_hop_limit += 1;
                        return None;
                    }
                    self.with_mld(ctx, |mld, gmp_ctx| {
                        let _ = mld.receive_mld(gmp_ctx, device, src, &message);
                    });
                    return None;
                }
                Icmpv6Message::DestUnreachable { message, invoking_packet } => {
                    ctx.on_event(StackEvent::DestinationUnreachable6 { from: src, code: message.code });
                    let report = IcmpErrorReport::v6_dest_unreachable(message.code);
                    return quoted_transport_error(device, invoking_packet, report);
                }
                Icmpv6Message::PacketTooBig { message, invoking_packet } => {
                    self.update_path_mtu6(ctx, device, message, invoking_packet);
                    let report = IcmpErrorReport::v6_packet_too_big(message.mtu);
                    return quoted_transport_error(device, invoking_packet, report);
                }
                Icmpv6Message::TimeExceeded { message, invoking_packet } => {
                    ctx.on_event(StackEvent::TimeExceeded6 { from: src, code: message.code });
                    return quoted_transport_error(
                        device,
                        invoking_packet,
                        IcmpErrorReport::v6_time_exceeded(),
                    );
                }
                Icmpv6Message::ParameterProblem { invoking_packet, .. } => {
                    let report = IcmpErrorReport::v6_parameter_problem();
                    return quoted_transport_error(device, invoking_packet, report);
                }
                // RFC 4443 §2.4 (b): unknown informational messages are dropped; unknown
                // errors have no socket to go to without a known upper layer.
                Icmpv6Message::UnknownError { .. } | Icmpv6Message::UnknownInformational { .. } => {
                    return None
                }
            }
        };
        Some(Handoff::EchoReply6 {
            reply: ReceivedEchoReply { device, src, dst, id, hop_limit, tos, message: buf },
            seq,
        })
    }

    /// RFC 4443 §4.2: an Echo Reply with the request's identifier, sequence and data, from
    /// the address the request went to, or for a multicast request from a unicast address of
    /// the interface. Like Linux (net.ipv6.icmp.echo_ignore_multicast = 0), multicast
    /// requests are answered.
    fn answer_echo6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received<Ipv6Addr>,
        request: EchoRequest,
        data: &[u8],
    ) {
        let Received { device, src, dst, .. } = *received;
        let Some(from) = (if dst.is_multicast() { self.v6.select_source(src, device) } else { Some(dst) })
        else {
            return;
        };
        let reply = EchoReply { id: request.id, seq: request.seq };
        let pseudo = Icmpv6PseudoHeader { src: from, dst: src };
        let message = data.encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, reply));
        if self.send_ipv6(ctx, Some(from), src, Some(device), IpProto::ICMPV6, None, message).is_ok() {
            self.counters.ipv6.icmp_out_echo_replies += 1;
        }
    }

    /// A Neighbor Solicitation (RFC 4861 §7.1.1 checks, §7.2.3 processing; RFC 4862 §5.4.3
    /// for targets under DAD).
    fn receive_neighbor_solicitation<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received<Ipv6Addr>,
        ns: &crate::wire::icmp::ndp::NeighborSolicitation<'_>,
    ) {
        let Received { device, src, dst, .. } = *received;
        let source_mac = ethernet(&ns.options, true);
        // §7.1.1: from `::`, only to a solicited-node group and without a source address option.
        if src.is_unspecified() && (!dst.is_solicited_node() || source_mac.is_some()) {
            self.counters.ipv6.ndp_invalid += 1;
            return;
        }
        let disposition = self.with_slaac(ctx, |slaac, slaac_ctx| {
            slaac.handle_neighbor_solicitation(slaac_ctx, device, src, ns.target, nonce(&ns.options))
        });
        if disposition != NsDisposition::NotTentative {
            return;
        }
        // The target must be an address of the receiving interface (no proxying).
        let ours =
            self.v6.sources.iter().any(|c| c.device == device && c.is_usable() && c.address() == ns.target);
        let Some(index) = self.device_index(device).filter(|_| ours) else { return };
        if let (Some(source), Some(mac)) = (UnicastAddr::new(src), source_mac) {
            self.with_nd(ctx, index, |nd, nd_ctx| nd.handle_solicitation(nd_ctx, source, mac));
        }
        // §7.2.4: answer to the solicitor, or to all-nodes (unsolicited) for a DAD probe.
        let (to, solicited) = if src.is_unspecified() { (Ipv6Addr::ALL_NODES, false) } else { (src, true) };
        self.send_neighbor_advertisement(ctx, index, ns.target, to, solicited);
    }

    /// Sends a Neighbor Advertisement for our `target` to `to` on device `index`, with the
    /// Override flag and our link-layer address (RFC 4861 §7.2.4).
    pub(super) fn send_neighbor_advertisement<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        index: usize,
        target: Ipv6Addr,
        to: Ipv6Addr,
        solicited: bool,
    ) {
        let dev = &self.devices[index];
        let (device, router) = (dev.id, dev.v6.forwarding);
        // Links without addresses (pure IP) advertise none (RFC 4861 §4.4).
        let options = dev
            .link
            .ethernet()
            .map(|eth| [NdpOption::TargetLinkLayerAddress(LinkLayerAddress::Ethernet(*eth.mac()))]);
        let na = NeighborAdvertisement {
            router,
            solicited,
            override_flag: true,
            target,
            options: options.as_ref().map_or(NdpOptions::EMPTY, |o| NdpOptions::new(o)),
        };
        let pseudo = Icmpv6PseudoHeader { src: target, dst: to };
        let message = EmptyBody.encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, na));
        let hops = Some(NDP_HOP_LIMIT);
        if self.send_ipv6(ctx, Some(target), to, Some(device), IpProto::ICMPV6, hops, message).is_ok() {
            self.counters.ipv6.ndp_out_adverts += 1;
        }
    }

    /// A Neighbor Advertisement (RFC 4861 §7.1.2 checks, §7.2.5 processing; RFC 4862 §5.4.4
    /// for targets under DAD).
    fn receive_neighbor_advertisement<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received<Ipv6Addr>,
        na: &NeighborAdvertisement<'_>,
    ) {
        let Received { device, dst, .. } = *received;
        // §7.1.2: a multicast destination means an unsolicited advertisement.
        if dst.is_multicast() && na.solicited {
            self.counters.ipv6.ndp_invalid += 1;
            return;
        }
        let duplicate = self.with_slaac(ctx, |slaac, slaac_ctx| {
            slaac.handle_neighbor_advertisement(slaac_ctx, device, na.target)
        });
        if duplicate.is_some() {
            return;
        }
        let Some(index) = self.device_index(device) else { return };
        let advert = Advertisement {
            link_addr: ethernet(&na.options, false),
            solicited: na.solicited,
            override_flag: na.override_flag,
            router: Some(na.router),
        };
        let outcome =
            self.with_nd(ctx, index, |nd, nd_ctx| nd.handle_advertisement(nd_ctx, &na.target, advert));
        if outcome == AdvertisementOutcome::RouterFlagCleared {
            // §7.2.5: the neighbour is no router any more; it leaves the Default Router List.
            self.with_rd(ctx, |rd, rd_ctx| rd.neighbor_no_longer_router(rd_ctx, device, na.target));
        }
    }

    /// Sends ICMPv6 error `error` about the received `packet` (its IPv6 header on) to its
    /// source, unless RFC 4443 §2.4 (e) says not to or the rate limit (§2.4 (f)) holds it
    /// back; returns whether it was sent.
    pub(super) fn send_icmpv6_error<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received<Ipv6Addr>,
        packet: &[u8],
        error: Icmpv6Error,
        permission: MulticastPermission,
    ) -> bool {
        let Ok(quoted) = QuotedIpv6Header::parse(packet) else { return false };
        let (proto, upper_layer) = quoted.upper_layer().unwrap_or((IpProto::NO_NEXT_HEADER, &[]));
        let offending = OffendingPacket {
            src: received.src,
            dst: received.dst,
            dst_is_broadcast: false,
            link_broadcast_or_multicast: received.link != FrameDestination::Individual,
            non_initial_fragment: quoted.is_non_initial_fragment(),
            proto,
            upper_layer,
            packet,
        };
        let quote = match icmp_error::check::<Ipv6>(&offending, permission) {
            Ok(quote) => quote,
            Err(reason) => {
                self.counters.ipv6.icmp_suppressed.count(reason);
                return false;
            }
        };
        let mut timers = ModuleTimers(ctx);
        let (msg_type, code) = (Icmpv6Type::from(error), error.code());
        if !self.v6.icmp_rate.allow(&mut self.icmp_global, &mut timers, received.src, msg_type, code, false) {
            return false;
        }
        // From the address the packet was for when it is ours; else the source RFC 6724
        // picks for the way back (RFC 4443 §2.2).
        let device = Some(received.device);
        let ours = self.v6.address_match(received.dst) == AddressMatch::Assigned;
        let src =
            if ours { Some(received.dst) } else { self.v6.select_source(received.src, received.device) };
        let Some(src) = src else { return false };
        let message = error.message(src, received.src, quote);
        self.send_ipv6(ctx, Some(src), received.src, device, IpProto::ICMPV6, None, message).is_ok()
    }
}

/// The socket error for the UDP datagram, TCP segment or Echo Request an ICMPv6 error
/// quotes, if it quotes one (a later fragment quotes none of them).
pub(super) fn quoted_transport_error<F>(
    device: DeviceId,
    invoking: &[u8],
    report: IcmpErrorReport,
) -> Option<Handoff<F>> {
    let quoted = QuotedIpv6Header::parse(invoking).ok().filter(|q| !q.is_non_initial_fragment())?;
    let (proto, upper) = quoted.upper_layer()?;
    if proto == IpProto::ICMPV6 {
        let quoted = quoted_echo_request(quoted.src_ip(), quoted.dst_ip(), upper)?;
        return Some(Handoff::PingError6 { device, quoted, report });
    }
    if proto == IpProto::TCP {
        return QuotedSegment::parse(quoted.src_ip(), quoted.dst_ip(), upper, report).map(Handoff::TcpError6);
    }
    let ports = Some(upper).filter(|_| proto == IpProto::UDP)?.get(..4)?;
    let quoted = QuotedDatagram {
        src: quoted.src_ip(),
        dst: quoted.dst_ip(),
        src_port: u16::from_be_bytes([ports[0], ports[1]]),
        dst_port: u16::from_be_bytes([ports[2], ports[3]]),
    };
    Some(Handoff::UdpError6 { device, quoted, report })
}
