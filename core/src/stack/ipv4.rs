//! The IPv4 half of the IP layer: receive and local delivery, ICMPv4 (echo, errors in and
//! out), IGMP, reassembly, forwarding (RFC 1812 §5), sending with fragmentation and path MTU
//! discovery (RFC 1191), and ARP resolution of next hops.

use alloc::vec::Vec;

use crate::wire::ipv4::{Dscp, Ecn, FragmentOffset};
use crate::wire::ParseErrorKind;

use super::*;

/// The ICMPv4 errors the IP layer sends.
#[derive(Clone, Copy, Debug)]
pub(super) enum Icmpv4Error {
    /// Destination unreachable, with the next-hop MTU for fragmentation needed.
    DestUnreachable(Icmpv4DestUnreachable),
    /// Time exceeded: TTL or reassembly.
    TimeExceeded(Icmpv4TimeExceeded),
}

/// The addresses and ports of the UDP datagram an ICMP error quotes: its IPv4 header and at
/// least the first 8 bytes of its payload (RFC 792), here the UDP header.
pub(super) fn quoted_udp_datagram(invoking: &[u8]) -> Option<QuotedDatagram<Ipv4>> {
    let quoted = QuotedIpv4Header::parse(invoking).ok().filter(|q| q.proto() == IpProto::UDP)?;
    let ports = quoted.payload().get(..4)?;
    Some(QuotedDatagram {
        src: quoted.src_ip(),
        dst: quoted.dst_ip(),
        src_port: u16::from_be_bytes([ports[0], ports[1]]),
        dst_port: u16::from_be_bytes([ports[2], ports[3]]),
    })
}

/// The socket error for the TCP segment, UDP datagram or Echo Request an ICMP error quotes
/// (`invoking`: its IPv4 header and at least 8 bytes of what it carried), if it quotes one.
pub(super) fn quoted_transport_error<F>(
    device: DeviceId,
    invoking: &[u8],
    report: IcmpErrorReport,
) -> Option<Handoff<F>> {
    let quoted = QuotedIpv4Header::parse(invoking).ok()?;
    let (src, dst) = (quoted.src_ip(), quoted.dst_ip());
    match quoted.proto() {
        IpProto::TCP => QuotedSegment::parse(src, dst, quoted.payload(), report).map(Handoff::TcpError),
        IpProto::UDP => {
            quoted_udp_datagram(invoking).map(|quoted| Handoff::UdpError { device, quoted, report })
        }
        IpProto::ICMP => quoted_echo_request(src, dst, quoted.payload()).map(|quoted| Handoff::PingError {
            device,
            quoted,
            report,
        }),
        _ => None,
    }
}

impl<F> IpLayer<F> {
    /// Whether `addr` is one of our IPv4 source addresses (on `device`, if given).
    pub(super) fn is_assigned_v4(&self, addr: Ipv4Addr, device: Option<DeviceId>) -> bool {
        self.sources4
            .iter()
            .any(|c| c.addr.addr().into_addr() == addr && device.is_none_or(|d| d == c.device))
    }
}

impl<F: AsRef<[u8]> + AsMut<[u8]>> IpLayer<F> {
    /// An IPv4 packet arrived on `device`, or was looped back to this host; `buf`'s body is
    /// the packet. ICMP is handled here, and what concerns the transport layer handed back:
    /// a UDP datagram (the buffer's body at its UDP header) or an ICMP error about one.
    pub(super) fn receive_ipv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        link: FrameDestination,
        mut buf: Buf<F>,
    ) -> Option<Handoff<F>> {
        let Ok(packet) = buf.parse::<Ipv4Packet<&[u8]>>(()) else {
            self.counters.ipv4_in_hdr_errors += 1;
            return None;
        };
        let (src, dst, proto, hop_limit) = (packet.src_ip(), packet.dst_ip(), packet.proto(), packet.ttl());
        let tos = (packet.dscp().value() << 2) | packet.ecn().bits();
        let (fragment, meta) = (packet.is_fragment(), ParsablePacket::<&[u8]>::parse_metadata(&packet));
        let queries = Ipv4Queries { devices: &self.devices, igmp: &self.igmp };
        let decision = receive::decide::<Ipv4>(&queries, &mut self.counters.ipv4, device, src, dst);
        let kind = match decision {
            ReceiveDecision::Deliver(kind) => kind,
            ReceiveDecision::Forward => {
                buf.undo_parse(meta);
                let kind = DeliveryKind::Unicast;
                let received = Received { device, src, dst, kind, link, ip_meta: meta, hop_limit, tos };
                self.forward_ipv4(ctx, received, buf);
                return None;
            }
            ReceiveDecision::Drop(_) => return None,
        };
        let received = Received { device, src, dst, kind, link, ip_meta: meta, hop_limit, tos };
        if fragment {
            buf.undo_parse(meta);
            return self.reassemble_ipv4(ctx, received, &buf);
        }
        self.deliver_ipv4(ctx, received, proto, buf)
    }

    /// Delivers a packet for this host to its upper-layer protocol; `buf`'s body is the
    /// payload. ICMP is handled here, and what concerns the transport layer handed back: a
    /// UDP datagram (the buffer's body at its UDP header) or an ICMP error about one.
    pub(super) fn deliver_ipv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: Received,
        proto: IpProto,
        mut buf: Buf<F>,
    ) -> Option<Handoff<F>> {
        let Received { device, dst, .. } = received;
        let raw = self.raw_wants(IpVersion::V4, proto);
        if raw {
            // Raw IPv4 sockets receive the header too (Linux raw(7)).
            let payload = buf.body_range();
            buf.undo_parse(received.ip_meta);
            self.copy_for_raw(ctx, &received, proto, buf.body(), RawCopy::V4);
            buf.reset(payload);
        }
        match proto {
            IpProto::ICMP => self.receive_icmpv4(ctx, &received, buf),
            IpProto::UDP => Some(Handoff::Udp(TransportHandoff { received, buf })),
            IpProto::TCP => Some(Handoff::Tcp(TransportHandoff { received, buf })),
            IpProto::IGMP => {
                self.receive_igmp(ctx, device, dst, buf.body());
                None
            }
            // A raw socket takes what the stack does not know (Linux's ip_local_deliver_finish).
            _ if raw => None,
            _ => {
                self.counters.ipv4_in_unknown_protos += 1;
                buf.undo_parse(received.ip_meta);
                self.send_dest_unreachable(
                    ctx,
                    &received,
                    buf.body(),
                    Icmpv4DestUnreachableCode::ProtocolUnreachable,
                );
                None
            }
        }
    }

    /// Adds a fragment, already accepted for this host, to IPv4 reassembly (RFC 791 §3.2); a
    /// completed datagram is delivered whole, from a frame buffer of its own.
    pub(super) fn reassemble_ipv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: Received,
        packet: &Buf<F>,
    ) -> Option<Handoff<F>> {
        let Ok(Some(fragment)) = FragmentData::parse_ipv4(received.device, packet.body()) else {
            self.counters.ipv4_fragment_errors += 1;
            return None;
        };
        let Ok(FragmentOutcome::Reassembled(datagram)) =
            self.reassembly4.process_fragment(&mut ModuleTimers(ctx), fragment)
        else {
            return None;
        };
        let Some(mut whole) = copy_to_frame(ctx, datagram.body()) else {
            self.counters.ipv4_reassembled_no_buffer += 1;
            return None;
        };
        let (proto, ip_meta) = {
            let packet = whole.parse::<Ipv4Packet<&[u8]>>(()).ok()?;
            (packet.proto(), ParsablePacket::<&[u8]>::parse_metadata(&packet))
        };
        self.deliver_ipv4(ctx, Received { ip_meta, ..received }, proto, whole)
    }

    /// Sends the ICMP time exceeded (fragment reassembly) reassembly asked for, under the
    /// same rules as every ICMP error (RFC 1122 §3.2.2).
    pub(super) fn send_reassembly_time_exceeded<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        request: &TimedOut<Ipv4Addr>,
    ) {
        let received = Received::for_error(request.device, request.src, request.dst);
        let error = Icmpv4Error::TimeExceeded(Icmpv4TimeExceeded {
            code: Icmpv4TimeExceededCode::FragmentReassembly,
        });
        if self.send_icmp_error(ctx, &received, &request.quote, error) {
            self.counters.icmp_out_time_excds += 1;
        }
    }

    /// Lowers the path MTU towards the destination of the datagram a fragmentation-needed
    /// message quotes (RFC 1191 §6.1).
    pub(super) fn update_path_mtu<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        next_hop_mtu: u16,
        invoking_packet: &[u8],
    ) {
        let Ok(quoted) = QuotedIpv4Header::parse(invoking_packet) else { return };
        let (dst, original_len) = (quoted.dst_ip(), u32::from(quoted.total_len()));
        // The link the datagram left by; the device the report arrived on if no route leads there.
        let out =
            SpecifiedAddr::new(dst).and_then(|d| self.routes4.lookup(d, None)).map_or(device, |r| r.device);
        let link_mtu = self.device_index(out).map_or(0, |i| self.devices[i].link.mtu());
        let mut timers = ModuleTimers(ctx);
        self.pmtu4.handle_too_big(&mut timers, dst, u32::from(next_hop_mtu), original_len, link_mtu);
    }

    /// An IGMP message for this host (RFC 3376 §4, RFC 2236 §2).
    pub(super) fn receive_igmp<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        dst: Ipv4Addr,
        bytes: &[u8],
    ) {
        let Ok(packet) = IgmpPacket::parse_bytes(bytes, ()) else {
            self.counters.igmp_in_errors += 1;
            return;
        };
        let Ok(message) = packet.message() else {
            self.counters.igmp_in_errors += 1;
            return;
        };
        // Invalid queries and reports are counted by the group membership module.
        self.with_igmp(ctx, |igmp, gmp_ctx| {
            let _ = igmp.receive_igmp(gmp_ctx, device, dst, &message);
        });
    }

    /// Runs `f` on IGMP with its context, then sends the reports it queued.
    pub(super) fn with_igmp<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut Gmp<Ipv4>, &mut GmpCtx<'_, C, F, Ipv4>),
    ) {
        let mut gmp_ctx = GmpCtx::new(ctx, &mut self.devices, &self.sources4);
        f(&mut self.igmp, &mut gmp_ctx);
        for report in gmp_ctx.into_outgoing() {
            self.send_igmp(ctx, report);
        }
    }

    /// Sends an IGMP message with TTL 1 and Router Alert to its group's MAC (RFC 2236 §2,
    /// RFC 3376 §4).
    fn send_igmp<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, report: OutgoingReport<Ipv4Addr>) {
        let OutgoingReport { device, src, dst, message } = report;
        let header = Ipv4Builder {
            options: Ipv4Options::ROUTER_ALERT,
            ..Ipv4Builder::new(src, dst, 1, IpProto::IGMP)
        };
        let mac = Mac::from_ipv4_multicast(dst);
        if self.send_link_frame(ctx, device, mac, EtherType::IPV4, (&message[..]).encapsulate(header)) {
            self.counters.igmp_out_msgs += 1;
        }
    }

    /// Joins `group` on `device` for one more socket (sending reports on the first).
    pub(super) fn join_group<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        group: MulticastAddr<Ipv4Addr>,
    ) {
        // A refused join (table full) is counted by the group membership module.
        self.with_igmp(ctx, |igmp, gmp_ctx| {
            let _ = igmp.join(gmp_ctx, device, group);
        });
    }

    /// One socket fewer in `group` on `device` (the last leave sends the leave report).
    pub(super) fn leave_group<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        group: MulticastAddr<Ipv4Addr>,
    ) {
        self.with_igmp(ctx, |igmp, gmp_ctx| {
            let _ = igmp.leave(gmp_ctx, device, group);
        });
    }

    /// An ICMP message for this host, parsed once: echo requests are answered, errors
    /// reported (and those about our UDP datagrams handed to the sockets), and echo replies
    /// handed to the ping sockets whole.
    pub(super) fn receive_icmpv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received,
        buf: Buf<F>,
    ) -> Option<Handoff<F>> {
        let Received { device, src, dst, kind, hop_limit, tos, .. } = *received;
        self.counters.icmp_in_msgs += 1;
        let (id, seq) = {
            let icmp = match Icmpv4Packet::parse_bytes(buf.body(), ()) {
                Ok(icmp) => icmp,
                Err(e) => {
                    if e.kind == ParseErrorKind::Checksum {
                        self.counters.icmp_in_csum_errors += 1;
                    }
                    self.counters.icmp_in_errors += 1;
                    return None;
                }
            };
            // Counted by type once the checksum is good, whatever the type and body, as Linux
            // counts IcmpMsgInType<N>.
            self.counters.icmp_in_types.count(icmp.msg_type().into());
            let Ok(message) = icmp.message() else {
                self.counters.icmp_in_errors += 1;
                return None;
            };
            match message {
                Icmpv4Message::EchoReply { message: EchoReply { id, seq }, .. } => (id, seq),
                // RFC 1122 §3.2.2.6: answer with the same identifier, sequence and data, from
                // the address the request went to. Like Linux (icmp_echo_ignore_broadcasts=1),
                // echo requests to broadcast or multicast addresses are not answered.
                Icmpv4Message::EchoRequest { message: EchoRequest { id, seq }, data } => {
                    if kind == DeliveryKind::Unicast {
                        let reply = data.encapsulate(IcmpBuilder::<Ipv4, _>::new((), EchoReply { id, seq }));
                        if self
                            .send_ipv4(ctx, Some(dst), src, None, IpProto::ICMP, DEFAULT_TTL, reply)
                            .is_ok()
                        {
                            self.counters.icmp_out_echo_reps += 1;
                        }
                    }
                    return None;
                }
                Icmpv4Message::DestUnreachable { message, invoking_packet } => {
                    ctx.on_event(StackEvent::DestinationUnreachable { from: src, code: message.code });
                    let fragmentation_needed = message.code == Icmpv4DestUnreachableCode::FragmentationNeeded;
                    if fragmentation_needed {
                        self.update_path_mtu(ctx, device, message.next_hop_mtu, invoking_packet);
                    }
                    let mtu = fragmentation_needed.then_some(message.next_hop_mtu);
                    let report = IcmpErrorReport::v4_dest_unreachable(message.code, mtu);
                    return quoted_transport_error(device, invoking_packet, report);
                }
                Icmpv4Message::TimeExceeded { message, .. } => {
                    ctx.on_event(StackEvent::TimeExceeded { from: src, code: message.code });
                    return None;
                }
                Icmpv4Message::Redirect { message, invoking_packet } => {
                    self.receive_redirect(device, src, message.gateway, invoking_packet);
                    return None;
                }
                _ => return None,
            }
        };
        Some(Handoff::EchoReply {
            reply: ReceivedEchoReply { device, src, dst, id, hop_limit, tos, message: buf },
            seq,
        })
    }

    /// An ICMP Redirect (RFC 792 p. 12) on a host: traffic for the quoted datagram's
    /// destination goes to `gateway` from now on. RFC 1122 §3.2.2.2 leaves the checks to the
    /// host; like Linux with `secure_redirects`, it is taken only from the gateway the host
    /// uses for that destination now, only for an on-link new gateway, and never on a
    /// forwarding device. Host and network redirects alike redirect just the destination
    /// (RFC 1812 §5.2.7.2 deprecates network redirects).
    fn receive_redirect(&mut self, device: DeviceId, from: Ipv4Addr, gateway: Ipv4Addr, invoking: &[u8]) {
        let Ok(quoted) = QuotedIpv4Header::parse(invoking) else {
            self.counters.icmp_in_errors += 1;
            return;
        };
        let dst = quoted.dst_ip();
        let Some(route) = SpecifiedAddr::new(dst).and_then(|d| self.routes4.lookup(d, None)) else {
            self.counters.redirects_ignored += 1;
            return;
        };
        let current = self.redirected(route.device, dst).unwrap_or(route.next_hop.addr().into_addr());
        let on_link = self
            .device(device)
            .is_some_and(|d| !d.forwarding && d.arp.addresses().any(|(a, _)| a.subnet().contains(&gateway)));
        if route.device != device || current != from || !on_link || UnicastAddr::new(gateway).is_none() {
            self.counters.redirects_ignored += 1;
            return;
        }
        self.redirects4.retain(|r| !(r.device == device && r.dst == dst));
        if self.redirects4.len() >= MAX_REDIRECTS {
            self.redirects4.remove(0);
        }
        self.redirects4.push(Redirect4 { device, dst, gateway });
        self.counters.redirects_accepted += 1;
    }

    /// The gateway a Redirect named for `dst` on `device`, if one did.
    fn redirected(&self, device: DeviceId, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        self.redirects4.iter().find(|r| r.device == device && r.dst == dst).map(|r| r.gateway)
    }

    /// Sends an ICMP destination unreachable about the received `packet` (its IP header
    /// on), unless RFC 1122 §3.2.2 says not to.
    pub(super) fn send_dest_unreachable<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received,
        packet: &[u8],
        code: Icmpv4DestUnreachableCode,
    ) {
        let error = Icmpv4Error::DestUnreachable(Icmpv4DestUnreachable { code, next_hop_mtu: 0 });
        if self.send_icmp_error(ctx, received, packet, error) {
            self.counters.icmp_out_dest_unreachs += 1;
        }
    }

    /// Sends ICMP error `error` about the received `packet` (its IP header on) to its source,
    /// unless RFC 1122 §3.2.2 says not to; returns whether it was sent.
    pub(super) fn send_icmp_error<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: &Received,
        packet: &[u8],
        error: Icmpv4Error,
    ) -> bool {
        let Ok(quoted) = QuotedIpv4Header::parse(packet) else { return false };
        let offending = OffendingPacket {
            src: received.src,
            dst: received.dst,
            dst_is_broadcast: received.kind == DeliveryKind::Broadcast,
            link_broadcast_or_multicast: received.link != FrameDestination::Individual,
            non_initial_fragment: quoted.fragment_offset().bytes() != 0,
            proto: quoted.proto(),
            upper_layer: quoted.payload(),
            packet,
        };
        let quote = match icmp_error::check::<Ipv4>(&offending, MulticastPermission::Denied) {
            Ok(quote) => quote,
            Err(reason) => {
                self.counters.icmp_suppressed.count(reason);
                return false;
            }
        };
        // RFC 1812 §4.3.2.8: errors are rate limited, globally and per destination.
        let (msg_type, code) = match error {
            Icmpv4Error::DestUnreachable(m) => (Icmpv4Type::DestUnreachable, u8::from(m.code)),
            Icmpv4Error::TimeExceeded(m) => (Icmpv4Type::TimeExceeded, u8::from(m.code)),
        };
        let mut timers = ModuleTimers(ctx);
        if !self.icmp_rate4.allow(&mut self.icmp_global, &mut timers, received.src, msg_type, code, false) {
            return false;
        }
        // From the address the packet was for when it was for us; else the selected source
        // of the route back (RFC 1812 §4.3.2.4).
        let queries = Ipv4Queries { devices: &self.devices, igmp: &self.igmp };
        let ours = ReceiveQueries::<Ipv4>::address_match(&queries, received.dst) == AddressMatch::Assigned;
        let src = ours.then_some(received.dst);
        let sent = match error {
            Icmpv4Error::DestUnreachable(message) => {
                let body = quote.encapsulate(IcmpBuilder::<Ipv4, _>::new((), message));
                self.send_ipv4(ctx, src, received.src, None, IpProto::ICMP, DEFAULT_TTL, body)
            }
            Icmpv4Error::TimeExceeded(message) => {
                let body = quote.encapsulate(IcmpBuilder::<Ipv4, _>::new((), message));
                self.send_ipv4(ctx, src, received.src, None, IpProto::ICMP, DEFAULT_TTL, body)
            }
        };
        sent.is_ok()
    }

    /// Forwards a packet for another host (RFC 1812 §5.2, §5.3): TTL decremented in place
    /// with an incremental checksum update, ICMP time exceeded when it runs out, destination
    /// unreachable without a route, fragmentation needed when it is too big with DF set, and
    /// fragmented when too big without.
    pub(super) fn forward_ipv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        received: Received,
        mut buf: Buf<F>,
    ) {
        if received.dst.is_multicast() {
            self.counters.ipv4_multicast_not_forwarded += 1;
            return;
        }
        let Some(route) = SpecifiedAddr::new(received.dst).and_then(|d| self.routes4.lookup(d, None)) else {
            self.counters.ipv4_in_no_routes += 1;
            let code = Icmpv4DestUnreachableCode::NetUnreachable;
            self.send_dest_unreachable(ctx, &received, buf.body(), code);
            return;
        };
        let Some(index) = self.device_index(route.device) else { return };
        let (ttl, dont_fragment, meta) = match buf.parse_mut::<Ipv4Packet<&mut [u8]>>(()) {
            Ok(mut packet) => {
                let ttl = packet.decrement_ttl().unwrap_or(0);
                (ttl, packet.dont_fragment(), ParsablePacket::<&mut [u8]>::parse_metadata(&packet))
            }
            Err(_) => return,
        };
        buf.undo_parse(meta);
        // RFC 1812 §5.3.1: a packet whose TTL reaches zero is discarded and reported.
        if ttl == 0 {
            let error =
                Icmpv4Error::TimeExceeded(Icmpv4TimeExceeded { code: Icmpv4TimeExceededCode::TtlExceeded });
            if self.send_icmp_error(ctx, &received, buf.body(), error) {
                self.counters.icmp_out_time_excds += 1;
            }
            return;
        }
        let next_hop = route.next_hop.addr().into_addr();
        let mtu = self.devices[index].link.mtu();
        if buf.len() > mtu as usize {
            if dont_fragment {
                // RFC 1191 §4: report the next-hop MTU.
                let next_hop_mtu = u16::try_from(mtu).unwrap_or(u16::MAX);
                let code = Icmpv4DestUnreachableCode::FragmentationNeeded;
                let error = Icmpv4Error::DestUnreachable(Icmpv4DestUnreachable { code, next_hop_mtu });
                if self.send_icmp_error(ctx, &received, buf.body(), error) {
                    self.counters.icmp_out_frag_needed += 1;
                }
                return;
            }
            let Ok(packet) = Ipv4Packet::parse_bytes(buf.body(), ()) else { return };
            let header = packet.builder();
            if self.send_fragmented(ctx, index, next_hop, header, packet.body(), mtu).is_ok() {
                self.counters.ipv4_forw_datagrams += 1;
            }
            return;
        }
        self.counters.ipv4_forw_datagrams += 1;
        self.transmit_ipv4(ctx, index, received.dst, next_hop, buf);
    }

    /// Sends an ICMP echo request to `dst`.
    pub(super) fn send_echo_request<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        dst: Ipv4Addr,
        id: u16,
        seq: u16,
        data: &[u8],
    ) -> Result<(), SendError> {
        let request = data.encapsulate(IcmpBuilder::<Ipv4, _>::new((), EchoRequest { id, seq }));
        self.send_ipv4(ctx, None, dst, None, IpProto::ICMP, DEFAULT_TTL, request)
    }

    /// Routes a packet to `dst`: the device (among the routes through `device` only, if
    /// given: a socket's SO_BINDTODEVICE, as Linux's `flowi4_oif`), the next hop (after
    /// redirects), the source address unless `src` is given, whether `dst` is our own, and
    /// the path MTU.
    fn route_ipv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        src: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        device: Option<DeviceId>,
    ) -> Result<Ipv4Path, SendError> {
        let Some(destination) = SpecifiedAddr::new(dst).and_then(|d| self.routes4.lookup(d, device)) else {
            self.counters.ipv4_out_no_routes += 1;
            return Err(SendError::NoRoute(IpAddr::V4(dst)));
        };
        let next_hop =
            self.redirected(destination.device, dst).unwrap_or(destination.next_hop.addr().into_addr());
        let src = match src {
            Some(src) => src,
            None => select_ipv4_source(&self.sources4, destination.device, next_hop)
                .map(|c| c.addr.addr().into_addr())
                .ok_or(SendError::NoSourceAddress(IpAddr::V4(dst)))?,
        };
        let index = self.device_index(destination.device).ok_or(SendError::NoRoute(IpAddr::V4(dst)))?;
        let queries = Ipv4Queries { devices: &self.devices, igmp: &self.igmp };
        let local = ReceiveQueries::<Ipv4>::address_match(&queries, dst) == AddressMatch::Assigned;
        let link_mtu = self.devices[index].link.mtu();
        let path = self.pmtu4.lookup(&dst, ctx.now());
        let mtu = path.map_or(link_mtu, |p| p.mtu.min(link_mtu));
        // Path MTU discovery (RFC 1191): what fits is sent with Don't Fragment, as Linux does
        // for sockets in their default IP_PMTUDISC_WANT mode; RFC 6864 §4.1 then leaves the
        // Identification unused.
        let dont_fragment = !path.is_some_and(|p| p.allow_fragmentation);
        Ok(Ipv4Path { index, device: destination.device, src, next_hop, local, mtu, dont_fragment })
    }

    /// The header of the next packet this host originates on `path`.
    fn ipv4_header(
        &mut self,
        path: &Ipv4Path,
        dst: Ipv4Addr,
        proto: IpProto,
        ttl: u8,
    ) -> Ipv4Builder<'static> {
        self.next_ip_id = self.next_ip_id.wrapping_add(1);
        Ipv4Builder { id: self.next_ip_id, ..Ipv4Builder::new(path.src, dst, ttl, proto) }
    }

    /// Sends an IPv4 packet in `buf` that went along `path`: back to this host or out.
    fn finish_ipv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        path: &Ipv4Path,
        dst: Ipv4Addr,
        buf: Buf<F>,
    ) -> Result<(), SendError> {
        if path.local {
            return self.loop_back(path.device, buf);
        }
        self.transmit_ipv4(ctx, path.index, dst, path.next_hop, buf);
        Ok(())
    }

    /// Sends `body` as the payload of an IPv4 packet to `dst`: routes it (out of `device`
    /// only, if given), picks the source address unless `src` is given, and resolves the
    /// next hop. Packets to our own addresses are delivered locally.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_ipv4<C: StackContext<Frame = F>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        src: Option<Ipv4Addr>,
        dst: Ipv4Addr,
        device: Option<DeviceId>,
        proto: IpProto,
        ttl: u8,
        body: S,
    ) -> Result<(), SendError> {
        let path = self.route_ipv4(ctx, src, dst, device)?;
        let header = self.ipv4_header(&path, dst, proto, ttl);
        if !path.local && body.len() + header.header_len() > path.mtu as usize {
            return self.send_fragmented(ctx, path.index, path.next_hop, header, body, path.mtu);
        }
        let header = Ipv4Builder { dont_fragment: path.dont_fragment, ..header };
        let buf = self.serialize_packet(ctx, body.encapsulate(header))?;
        self.finish_ipv4(ctx, &path, dst, buf)
    }

    /// Sends a transport segment that `write` puts straight into a transmit buffer (the
    /// zero-copy path of TCP), routed out of `device` only if given: `write` gets room for
    /// the path MTU less the IP header and returns the length it wrote, or `None` if it has
    /// nothing to send. `(ttl, tos)` are the header's TTL and Type of Service byte. Returns
    /// whether a packet went out.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_ipv4_written<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        device: Option<DeviceId>,
        proto: IpProto,
        (ttl, tos): (u8, u8),
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<bool, SendError> {
        let path = self.route_ipv4(ctx, Some(src), dst, device)?;
        let header = self.ipv4_header(&path, dst, proto, ttl);
        let header = Ipv4Builder {
            dont_fragment: path.dont_fragment,
            dscp: Dscp::new(tos >> 2).unwrap_or_default(),
            ecn: Ecn::from_bits(tos),
            ..header
        };
        let Some(buf) = self.write_in_frame(ctx, header, path.mtu, write)? else {
            return Ok(false);
        };
        self.finish_ipv4(ctx, &path, dst, buf)?;
        Ok(true)
    }

    /// Sends a datagram too big for the device's MTU as fragments (RFC 791 §3.2), each
    /// resolved and transmitted like a packet of its own. The payload is written out once to
    /// be cut into fragments: fragmentation is the slow path.
    pub(super) fn send_fragmented<C: StackContext<Frame = F>, S: Serializer>(
        &mut self,
        ctx: &mut C,
        index: usize,
        next_hop: Ipv4Addr,
        header: Ipv4Builder<'_>,
        body: S,
        mtu: u32,
    ) -> Result<(), SendError> {
        let dst = header.dst;
        let payload = body.serialize_vec().map_err(|_| SendError::NoBuffer)?;
        let fragmenter = Ipv4Fragmenter::new(header, payload.len(), mtu, &mut self.fragmentation4)
            .map_err(|_| SendError::TooBig { len: header.header_len() + payload.len(), mtu })?;
        self.send_fragments(
            ctx,
            fragmenter.plan(),
            |ip, i, out| fragmenter.serialize(i, payload.body(), out, &mut ip.fragmentation4),
            |ip, ctx, buf| ip.transmit_ipv4(ctx, index, dst, next_hop, buf),
        )
    }

    /// Transmits the IPv4 packet in `buf` (with room for the Ethernet header in front) on
    /// device `index`: to the group MAC for multicast and broadcast, else to the next hop's
    /// MAC once ARP resolves it.
    pub(super) fn transmit_ipv4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        index: usize,
        dst: Ipv4Addr,
        next_hop: Ipv4Addr,
        buf: Buf<F>,
    ) {
        let Some(mut buf) = self.send_without_link_header(ctx, index, buf) else { return };
        let dev = &mut self.devices[index];
        let Link::Ethernet(eth) = &dev.link else { return };
        if let Some(mac) = group_mac(dst, &dev.arp) {
            if buf.encapsulate(&eth.builder(mac, EtherType::IPV4)).is_ok() {
                ctx.send_frame(dev.id, buf);
            }
            return;
        }
        let Some(neighbor) = UnicastAddr::new(next_hop) else {
            self.counters.ipv4_out_no_routes += 1;
            return;
        };
        let outcome = self.with_arp(ctx, index, |arp, arp_ctx| arp.send(arp_ctx, neighbor, buf));
        if let SendOutcome::Dropped(_) = outcome {
            self.counters.tx_resolution_drops += 1;
        }
    }

    /// Runs `f` on device `index`'s ARP with its context, then does what ARP left for the
    /// stack.
    pub(super) fn with_arp<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        index: usize,
        f: impl FnOnce(&mut ArpState<Buf<F>>, &mut ArpCtx<'_, C>) -> R,
    ) -> R {
        let dev = &mut self.devices[index];
        // A disabled device sends nothing.
        let eth = dev.link.ethernet().filter(|_| dev.enabled);
        let mut arp_ctx = ArpCtx::new(ctx, eth);
        let result = f(&mut dev.arp, &mut arp_ctx);
        let deferred = arp_ctx.into_deferred();
        self.process_deferred(ctx, deferred);
        result
    }

    /// Acts on what ARP could not do while the device was borrowed: report failed
    /// resolutions and stop using conflicting addresses.
    pub(super) fn process_deferred<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        deferred: arp_ctx::Deferred<F>,
    ) {
        for (device, packet) in deferred.failed {
            self.resolution_failed(ctx, device, packet);
        }
        for event in deferred.acd {
            if let AcdEvent::Conflict { device, addr, other, .. } = event {
                // ARP gave the address up; its subnet route goes too unless another of the
                // device's addresses still lies in that subnet.
                let still_on_link = |subnet: Subnet<Ipv4Addr>| {
                    self.device_index(device)
                        .is_some_and(|i| self.devices[i].arp.addresses().any(|(a, _)| a.subnet() == subnet))
                };
                let gone: Vec<Subnet<Ipv4Addr>> = self
                    .sources4
                    .iter()
                    .filter(|c| c.device == device && c.addr.addr().into_addr() == addr)
                    .map(|c| c.addr.subnet())
                    .filter(|&subnet| !still_on_link(subnet))
                    .collect();
                let removed = self.routes4.remove_matching(|r| {
                    r.device == device && r.source == RouteSource::Kernel && gone.contains(&r.subnet)
                });
                self.forget_ipv4_address(ctx, device, addr);
                self.rebuild_sources();
                ctx.on_event(StackEvent::AddressConflict { device, addr, other });
                ctx.on_event(StackEvent::InterfaceChanged { device });
                if removed > 0 {
                    ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
                }
            } else if let AcdEvent::Ready { device, .. } = event {
                self.rebuild_sources();
                ctx.on_event(StackEvent::InterfaceChanged { device });
            }
        }
    }

    /// Resolving a next hop on `device` failed for `packet`: a packet we originated is
    /// reported to the bindings, and to its socket as the ICMP host unreachable Linux raises
    /// locally (`ipv4_link_failure`), quoting it; one we were asked to pass on would get an
    /// ICMP host unreachable (RFC 1812 §4.3.3.1), which waits for forwarding.
    pub(super) fn resolution_failed<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        packet: Buf<F>,
    ) {
        let Ok(ip) = Ipv4Packet::parse_bytes(packet.body(), ()) else { return };
        if !self.is_assigned_v4(ip.src_ip(), None) {
            return;
        }
        ctx.on_event(StackEvent::HostUnreachable { dst: IpAddr::V4(ip.dst_ip()) });
        // Only a first fragment carries the transport header to quote (RFC 792 p. 5).
        if ip.fragment_offset() != FragmentOffset::ZERO {
            return;
        }
        let report = IcmpErrorReport::v4_dest_unreachable(Icmpv4DestUnreachableCode::HostUnreachable, None);
        if let Some(error) = quoted_transport_error(device, packet.body(), report) {
            self.local_errors.push_back(error);
        }
    }
}
/// The link-layer group address for `dst` if it is multicast or a broadcast address of the
/// device (RFC 1112 §6.4; RFC 919), else `None` (unicast: resolve it).
pub(super) fn group_mac<F: AsRef<[u8]>>(dst: Ipv4Addr, arp: &ArpState<Buf<F>>) -> Option<Mac> {
    if dst.is_multicast() {
        return Some(Mac::from_ipv4_multicast(dst));
    }
    let directed = arp.addresses().any(|(a, _)| a.subnet().broadcast() == Some(dst));
    (dst.is_limited_broadcast() || directed).then_some(Mac::BROADCAST)
}

/// The receive decision's view of the stack.
/// Where an IPv4 packet this host originates goes.
pub(super) struct Ipv4Path {
    /// The outgoing device's index and id.
    index: usize,
    device: DeviceId,
    src: Ipv4Addr,
    next_hop: Ipv4Addr,
    /// The destination is one of our own addresses.
    local: bool,
    mtu: u32,
    dont_fragment: bool,
}

pub(super) struct Ipv4Queries<'a, F> {
    pub(super) devices: &'a [Device<F>],
    pub(super) igmp: &'a Gmp<Ipv4>,
}

impl<F: AsRef<[u8]>> ReceiveQueries<Ipv4> for Ipv4Queries<'_, F> {
    fn address_match(&self, addr: Ipv4Addr) -> AddressMatch {
        let mut found = AddressMatch::NotOurs;
        for (subnet, usable) in self.devices.iter().flat_map(|d| d.arp.addresses()) {
            if subnet.addr().into_addr() == addr {
                if usable {
                    return AddressMatch::Assigned;
                }
                found = AddressMatch::Tentative;
            }
        }
        found
    }

    fn is_broadcast_on(&self, device: DeviceId, addr: Ipv4Addr) -> bool {
        addr.is_limited_broadcast()
            || self
                .devices
                .iter()
                .filter(|d| d.id == device)
                .flat_map(|d| d.arp.addresses())
                .any(|(subnet, _)| subnet.subnet().broadcast() == Some(addr))
    }

    fn joined(&self, device: DeviceId, group: Ipv4Addr) -> bool {
        // Every host belongs to all-systems (RFC 1112 §4); other groups once a socket joins.
        group == Ipv4Addr::ALL_SYSTEMS
            || MulticastAddr::new(group).is_some_and(|g| self.igmp.is_member(device, g))
    }

    fn forwarding(&self, device: DeviceId) -> bool {
        self.devices.iter().any(|d| d.id == device && d.forwarding)
    }

    fn is_loopback(&self, device: DeviceId) -> bool {
        self.devices.iter().any(|d| d.id == device && matches!(d.link, Link::Loopback { .. }))
    }
}
