//! The glue between the IPv6 layer and the NDP-family state machines: the neighbour cache
//! (RFC 4861 §7), address configuration with DAD (RFC 4862) and router discovery (RFC 4861
//! §6), and MLD for the groups they join.
//!
//! Each runs inside one [`NdpCtx`] call with the bindings' timers under the stack's timer ids.
//! What needs more of the stack than the module's call can borrow (sending a DAD probe,
//! joining a group, an address or route change, a failed resolution) is returned as
//! [`Ipv6Work`] and done by [`IpLayer::process_ipv6_work`] once the call returns; work can
//! cause more work (a Router Advertisement's prefix starts SLAAC, whose address joins a
//! group), so it is processed as a queue. Neighbour solicitations and packets released by
//! resolution are transmitted at once, from the device the call borrowed: they are the hot
//! path and allocate nothing.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::ipv6::{solicitation_source, usable_link_local, IPV6_MIN_MTU};
use super::*;
use crate::addr::Ipv6Addr;
use crate::device::nud::{NeighborState, NudContext, NudTimerId, SolicitationDestination};
use crate::ip::dad::{DadContext, DadNonce};
use crate::ip::router_discovery::{
    DeviceConfig, RouterDiscovery, RouterDiscoveryContext, RouterDiscoveryEvent, RouterReachability,
};
use crate::ip::slaac::{AddressEvent, AddressKind, Slaac, SlaacContext};
use crate::time::Instant;
use crate::wire::icmp::ndp::{
    LinkLayerAddress, NdpOption, NdpOptions, NeighborSolicitation, RouterSolicitation,
};
use crate::wire::icmp::Icmpv6PseudoHeader;
use crate::wire::ipv6::ExtHeaderChain;
use crate::wire::ipv6::Ipv6Builder;

use super::gmp_ctx::OutgoingReport;
use super::icmpv6::NDP_HOP_LIMIT;

/// What an NDP-family call left for the stack.
pub(super) enum Ipv6Work<F> {
    /// Send a DAD probe for `target` (RFC 4862 §5.4.2).
    DadProbe { device: DeviceId, target: UnicastAddr<Ipv6Addr>, nonce: Option<DadNonce> },
    /// Join a solicited-node group for an address under configuration.
    JoinGroup { device: DeviceId, group: MulticastAddr<Ipv6Addr> },
    /// Leave it again.
    LeaveGroup { device: DeviceId, group: MulticastAddr<Ipv6Addr> },
    /// An address changed.
    Address(AddressEvent),
    /// Send this Router Solicitation, serialized, from `src` to all-routers.
    RouterSolicitation { device: DeviceId, src: Ipv6Addr, message: Vec<u8> },
    /// Apply what router discovery decided.
    RouterDiscovery(RouterDiscoveryEvent),
    /// Resolving a neighbour failed for this packet.
    ResolutionFailed { device: DeviceId, packet: Buf<F> },
}

/// Router discovery's read-only view of the rest of the stack.
pub(super) struct RdView<'a, F> {
    devices: &'a [Device<F>],
    sources: &'a [SourceCandidate<Ipv6Addr>],
    routes: &'a RoutingTable<Ipv6>,
}

/// The context of one call into the neighbour cache, SLAAC/DAD or router discovery.
pub(super) struct NdpCtx<'a, C: StackContext, F> {
    ctx: &'a mut C,
    /// For the neighbour cache: the device whose frames it sends, and the addresses its
    /// solicitations may come from (looked up only when one is sent).
    eth: Option<&'a EthernetDevice>,
    sources: &'a [SourceCandidate<Ipv6Addr>],
    solicitations_sent: u64,
    view: Option<RdView<'a, F>>,
    work: Vec<Ipv6Work<F>>,
}

impl<'a, C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> NdpCtx<'a, C, F> {
    /// A context for the neighbour cache of the device `eth`.
    pub(super) fn for_neighbors(
        ctx: &'a mut C,
        eth: Option<&'a EthernetDevice>,
        sources: &'a [SourceCandidate<Ipv6Addr>],
    ) -> Self {
        Self { ctx, eth, sources, solicitations_sent: 0, view: None, work: Vec::new() }
    }

    /// A context for address configuration.
    fn for_slaac(ctx: &'a mut C) -> Self {
        Self { ctx, eth: None, sources: &[], solicitations_sent: 0, view: None, work: Vec::new() }
    }

    /// A context for router discovery.
    fn for_router_discovery(ctx: &'a mut C, view: RdView<'a, F>) -> Self {
        let sources = view.sources;
        Self { ctx, eth: None, sources, solicitations_sent: 0, view: Some(view), work: Vec::new() }
    }

    /// The work left for the stack and the solicitations sent.
    pub(super) fn finish(self) -> (Vec<Ipv6Work<F>>, u64) {
        (self.work, self.solicitations_sent)
    }

    /// Encapsulates `packet` in Ethernet to `dst` and transmits it on the context's device.
    fn send_ethernet(&mut self, device: DeviceId, dst: Mac, packet: impl Serializer) -> bool {
        let Some(eth) = self.eth else { return false };
        let frame = packet.encapsulate(eth.builder(dst, EtherType::IPV6));
        let Some(storage) = self.ctx.alloc_frame(frame.len()) else { return false };
        let start = frame.header_room();
        let mut buf = Buf::new(storage, start..start);
        let sent = frame.serialize_into(&mut buf).is_ok();
        if sent {
            self.ctx.send_frame(device, buf);
        }
        sent
    }
}

impl<C: StackContext, F> InstantContext for NdpCtx<'_, C, F> {
    fn now(&self) -> Instant {
        self.ctx.now()
    }
}

impl<C: StackContext, F> RngContext for NdpCtx<'_, C, F> {
    fn random_u64(&mut self) -> u64 {
        self.ctx.random_u64()
    }
}

impl<Id: Copy, C: StackContext, F> TimerContext<Id> for NdpCtx<'_, C, F>
where
    StackTimerId: From<Id>,
{
    fn schedule_timer(&mut self, id: Id, at: Instant) -> Option<Instant> {
        self.ctx.schedule_timer(StackTimerId::from(id), at)
    }

    fn cancel_timer(&mut self, id: &Id) -> Option<Instant> {
        self.ctx.cancel_timer(&StackTimerId::from(*id))
    }

    fn scheduled_at(&self, id: &Id) -> Option<Instant> {
        self.ctx.scheduled_at(&StackTimerId::from(*id))
    }
}

/// Where an IPv6 header holds its source address (RFC 8200 §3).
const IPV6_SOURCE: core::ops::Range<usize> = 8..24;

impl<C: StackContext<Frame = F>, F: AsRef<[u8]> + AsMut<[u8]>> NudContext<Ipv6, Buf<F>> for NdpCtx<'_, C, F>
where
    StackTimerId: From<NudTimerId<Ipv6>>,
{
    /// RFC 4861 §7.2.2: to the target's solicited-node group (or its cached address when
    /// probing, §7.3.3), with our link-layer address, from the source of the packet that
    /// prompted it when that is a usable address of ours on `device` (the SHOULD of §7.2.2,
    /// as Linux does: the neighbour learns the address it will answer), else from one of our
    /// addresses, the link-local one preferably.
    fn send_solicitation(
        &mut self,
        device: DeviceId,
        target: Ipv6Addr,
        destination: SolicitationDestination,
        prompting: Option<&Buf<F>>,
    ) {
        let ours = |addr: Ipv6Addr| {
            self.sources.iter().any(|c| c.device == device && c.is_usable() && c.address() == addr)
        };
        let prompting_source = prompting
            .and_then(|packet| packet.body().get(IPV6_SOURCE))
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .map(Ipv6Addr::new)
            .filter(|&addr| ours(addr));
        let src = prompting_source.or_else(|| solicitation_source(self.sources, device));
        let (Some(src), Some(eth)) = (src, self.eth) else { return };
        let (dst, mac) = match destination {
            SolicitationDestination::Multicast => {
                let group = target.to_solicited_node();
                (group, Mac::from_ipv6_multicast(group))
            }
            SolicitationDestination::Unicast(mac) => (target, mac),
        };
        let options = [NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(*eth.mac()))];
        let ns = NeighborSolicitation { target, options: NdpOptions::new(&options) };
        let message = EmptyBody.encapsulate(IcmpBuilder::<Ipv6, _>::new(Icmpv6PseudoHeader { src, dst }, ns));
        let packet = message.encapsulate(Ipv6Builder::new(src, dst, NDP_HOP_LIMIT, IpProto::ICMPV6));
        if self.send_ethernet(device, mac, packet) {
            self.solicitations_sent += 1;
        }
    }

    fn transmit(&mut self, device: DeviceId, _neighbor: Ipv6Addr, link_addr: Mac, mut packet: Buf<F>) {
        let Some(eth) = self.eth else { return };
        if packet.encapsulate(&eth.builder(link_addr, EtherType::IPV6)).is_ok() {
            self.ctx.send_frame(device, packet);
        }
    }

    fn resolution_failed(&mut self, device: DeviceId, _neighbor: Ipv6Addr, packet: Buf<F>) {
        self.work.push(Ipv6Work::ResolutionFailed { device, packet });
    }

    fn on_neighbor_event(&mut self, event: NeighborEvent<Ipv6>) {
        let device = event.device;
        self.ctx.on_event(StackEvent::Neighbor6(event));
        self.ctx.on_event(StackEvent::NeighborsChanged { device, version: IpVersion::V6 });
    }
}

impl<C: StackContext, F> DadContext for NdpCtx<'_, C, F> {
    fn send_dad_solicitation(
        &mut self,
        device: DeviceId,
        target: UnicastAddr<Ipv6Addr>,
        nonce: Option<DadNonce>,
    ) {
        self.work.push(Ipv6Work::DadProbe { device, target, nonce });
    }

    fn join_solicited_node_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
        self.work.push(Ipv6Work::JoinGroup { device, group });
    }

    fn leave_solicited_node_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv6Addr>) {
        self.work.push(Ipv6Work::LeaveGroup { device, group });
    }
}

impl<C: StackContext, F> SlaacContext for NdpCtx<'_, C, F> {
    fn on_address_event(&mut self, event: AddressEvent) {
        self.work.push(Ipv6Work::Address(event));
    }
}

impl<C: StackContext, F: AsRef<[u8]>> RouterDiscoveryContext for NdpCtx<'_, C, F> {
    fn link_local_address(&self, device: DeviceId) -> Option<Ipv6Addr> {
        usable_link_local(self.sources, device)
    }

    fn router_reachability(&self, device: DeviceId, router: Ipv6Addr) -> RouterReachability {
        let entry = self
            .view
            .as_ref()
            .and_then(|v| v.devices.iter().find(|d| d.id == device))
            .and_then(|d| d.v6.nd.get(&router));
        match entry {
            Some(info) if info.state != NeighborState::Incomplete && info.state != NeighborState::Failed => {
                RouterReachability::ProbablyReachable
            }
            _ => RouterReachability::Unknown,
        }
    }

    fn first_hop(&self, destination: Ipv6Addr) -> Option<(DeviceId, Ipv6Addr)> {
        let route = self.view.as_ref()?.routes.lookup(SpecifiedAddr::new(destination)?, None)?;
        Some((route.device, route.next_hop.addr().into_addr()))
    }

    fn send_router_solicitation(
        &mut self,
        device: DeviceId,
        src: Ipv6Addr,
        solicitation: RouterSolicitation<'_>,
    ) {
        let pseudo = Icmpv6PseudoHeader { src, dst: Ipv6Addr::ALL_ROUTERS };
        if let Ok(bytes) =
            EmptyBody.encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, solicitation)).serialize_vec()
        {
            self.work.push(Ipv6Work::RouterSolicitation { device, src, message: bytes.body().to_vec() });
        }
    }

    fn on_event(&mut self, event: RouterDiscoveryEvent) {
        self.work.push(Ipv6Work::RouterDiscovery(event));
    }
}

impl<F: AsRef<[u8]> + AsMut<[u8]>> IpLayer<F> {
    /// Starts IPv6 on device `index` (RFC 4862 §5.3, RFC 4861 §6.3.7): on Ethernet, joins
    /// all-nodes, forms the link-local address and starts DAD on it, and solicits routers.
    /// Loopback and pure-IP devices have no link-layer address to form one from and no
    /// neighbours to ask: their addresses are configured by hand and skip DAD, as on Linux.
    pub(super) fn start_ipv6<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, index: usize) {
        let dev = &mut self.devices[index];
        if dev.v6.enabled {
            return;
        }
        dev.v6.enabled = true;
        let (device, mtu, forwarding) = (dev.id, dev.v6.mtu, dev.v6.forwarding);
        self.v6.mld.add_device(device);
        let Link::Ethernet(eth) = &mut dev.link else {
            // The device is new to SLAAC unless IPv6 ran on it before.
            let _ = self.v6.slaac.add_device(device, None);
            let _ = self.v6.slaac.set_dad(device, false);
            return;
        };
        let mac = *eth.mac();
        // Every node receives all-nodes (RFC 4291 §2.8); it is never reported (RFC 3810 §6).
        eth.multicast_filter().join(Mac::from_ipv6_multicast(Ipv6Addr::ALL_NODES));
        let _ = self.v6.slaac.add_device(device, Some(mac));
        let config = DeviceConfig { forwarding, ..DeviceConfig::host(Some(mac), mtu) };
        self.with_rd(ctx, |rd, rd_ctx| rd.enable_device(rd_ctx, device, config));
        // A refusal (IPv6 disabled after a duplicate hardware address) is counted by SLAAC.
        self.with_slaac(ctx, |slaac, slaac_ctx| {
            let _ = slaac.add_link_local(slaac_ctx, device);
        });
    }

    /// Runs `f` on address configuration with its context, then does the work it left.
    pub(super) fn with_slaac<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut Slaac, &mut NdpCtx<'_, C, F>) -> R,
    ) -> R {
        let mut slaac_ctx = NdpCtx::for_slaac(ctx);
        let result = f(&mut self.v6.slaac, &mut slaac_ctx);
        let (work, _) = slaac_ctx.finish();
        self.process_ipv6_work(ctx, work);
        result
    }

    /// Runs `f` on router discovery with its context, then does the work it left.
    pub(super) fn with_rd<C: StackContext<Frame = F>, R>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut RouterDiscovery, &mut NdpCtx<'_, C, F>) -> R,
    ) -> R {
        let view = RdView { devices: &self.devices, sources: &self.v6.sources, routes: &self.v6.routes };
        let mut rd_ctx = NdpCtx::for_router_discovery(ctx, view);
        let result = f(&mut self.v6.rd, &mut rd_ctx);
        let (work, _) = rd_ctx.finish();
        self.process_ipv6_work(ctx, work);
        result
    }

    /// Runs `f` on MLD with its context, then sends the messages it queued.
    pub(super) fn with_mld<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        f: impl FnOnce(&mut Gmp<Ipv6>, &mut GmpCtx<'_, C, F, Ipv6>),
    ) {
        let mut gmp_ctx = GmpCtx::new(ctx, &mut self.devices, &self.v6.sources);
        f(&mut self.v6.mld, &mut gmp_ctx);
        for report in gmp_ctx.into_outgoing() {
            self.send_mld(ctx, report);
        }
    }

    /// Sends an MLD message with Hop Limit 1 and the Router Alert option to its group's MAC
    /// (RFC 2710 §3, RFC 3810 §5).
    fn send_mld<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, report: OutgoingReport<Ipv6Addr>) {
        let OutgoingReport { device, src, dst, message } = report;
        let header = Ipv6Builder {
            ext_headers: Some(ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD),
            ..Ipv6Builder::new(src, dst, 1, IpProto::ICMPV6)
        };
        let mac = Mac::from_ipv6_multicast(dst);
        if self.send_link_frame(ctx, device, mac, EtherType::IPV6, (&message[..]).encapsulate(header)) {
            self.counters.ipv6.mld_out_msgs += 1;
        }
    }

    /// Does what the NDP-family modules left for the stack, and what that causes in turn.
    pub(super) fn process_ipv6_work<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        work: Vec<Ipv6Work<F>>,
    ) {
        if work.is_empty() {
            return;
        }
        let mut queue = VecDeque::from(work);
        while let Some(item) = queue.pop_front() {
            let more = self.do_ipv6_work(ctx, item);
            queue.extend(more);
        }
    }

    fn do_ipv6_work<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        item: Ipv6Work<F>,
    ) -> Vec<Ipv6Work<F>> {
        match item {
            Ipv6Work::DadProbe { device, target, nonce } => self.send_dad_probe(ctx, device, *target, nonce),
            Ipv6Work::JoinGroup { device, group } => {
                self.with_mld(ctx, |mld, gmp_ctx| {
                    let _ = mld.join(gmp_ctx, device, group);
                });
            }
            Ipv6Work::LeaveGroup { device, group } => {
                self.with_mld(ctx, |mld, gmp_ctx| {
                    let _ = mld.leave(gmp_ctx, device, group);
                });
            }
            Ipv6Work::Address(event) => self.apply_address_event(ctx, event),
            Ipv6Work::RouterSolicitation { device, src, message } => {
                let header = Ipv6Builder::new(src, Ipv6Addr::ALL_ROUTERS, NDP_HOP_LIMIT, IpProto::ICMPV6);
                let mac = Mac::from_ipv6_multicast(Ipv6Addr::ALL_ROUTERS);
                if self.send_link_frame(ctx, device, mac, EtherType::IPV6, (&message[..]).encapsulate(header))
                {
                    self.counters.ipv6.ndp_out_router_solicits += 1;
                }
            }
            Ipv6Work::RouterDiscovery(event) => return self.apply_router_discovery(ctx, event),
            Ipv6Work::ResolutionFailed { device, packet } => self.ipv6_resolution_failed(ctx, device, packet),
        }
        Vec::new()
    }

    /// A DAD probe (RFC 4862 §5.4.2): a Neighbor Solicitation from `::` to the target's
    /// solicited-node group, without a source link-layer address, with the RFC 7527 nonce.
    fn send_dad_probe<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        target: Ipv6Addr,
        nonce: Option<DadNonce>,
    ) {
        let dst = target.to_solicited_node();
        let nonce_bytes = nonce.map(|n| n.0);
        let options: &[NdpOption<'_>] = match &nonce_bytes {
            Some(bytes) => &[NdpOption::Nonce(bytes)],
            None => &[],
        };
        let ns = NeighborSolicitation { target, options: NdpOptions::new(options) };
        let pseudo = Icmpv6PseudoHeader { src: Ipv6Addr::UNSPECIFIED, dst };
        let message = EmptyBody.encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, ns));
        let header = Ipv6Builder::new(Ipv6Addr::UNSPECIFIED, dst, NDP_HOP_LIMIT, IpProto::ICMPV6);
        let mac = Mac::from_ipv6_multicast(dst);
        if self.send_link_frame(ctx, device, mac, EtherType::IPV6, message.encapsulate(header)) {
            self.counters.ipv6.ndp_out_solicits += 1;
        }
    }

    /// Keeps the address table, the prefix routes of manual and link-local addresses, and
    /// the bindings in step with an address event.
    fn apply_address_event<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, event: AddressEvent) {
        match event {
            AddressEvent::Added { device, addr, kind: AddressKind::Manual | AddressKind::LinkLocal }
                if addr.subnet().prefix_len() < 128 =>
            {
                let route = Route {
                    subnet: addr.subnet(),
                    device,
                    gateway: None,
                    metric: 256,
                    source: RouteSource::Kernel,
                };
                // An existing route for the prefix serves as well.
                if self.v6.routes.add(route).is_ok() {
                    ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
                }
            }
            AddressEvent::Removed { device, addr, .. } => {
                let subnet = self.v6.sources.iter().find(|c| c.device == device && c.address() == addr);
                if let Some(subnet) = subnet.map(|c| c.addr.subnet()) {
                    let others = self
                        .v6
                        .sources
                        .iter()
                        .any(|c| c.device == device && c.address() != addr && c.addr.subnet() == subnet);
                    let removed = !others
                        && self.v6.routes.remove_matching(|r| {
                            r.device == device && r.source == RouteSource::Kernel && r.subnet == subnet
                        }) > 0;
                    if removed {
                        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
                    }
                }
            }
            _ => {}
        }
        self.rebuild_sources6();
        ctx.on_event(StackEvent::Ipv6Address(event));
        let device = match event {
            AddressEvent::Added { device, .. }
            | AddressEvent::StateChanged { device, .. }
            | AddressEvent::Removed { device, .. }
            | AddressEvent::Ipv6Disabled { device, .. } => device,
        };
        ctx.on_event(StackEvent::InterfaceChanged { device });
    }

    /// Rebuilds the IPv6 source candidates from address configuration.
    pub(super) fn rebuild_sources6(&mut self) {
        use crate::ip::slaac::AddressState as SlaacState;
        let slaac = &self.v6.slaac;
        self.v6.sources = self
            .devices
            .iter()
            .flat_map(|d| {
                slaac.addresses(d.id).map(move |info| SourceCandidate {
                    addr: info.addr,
                    device: d.id,
                    state: match info.state {
                        // A disabled device's addresses are unavailable, like tentative ones.
                        _ if !d.enabled => AddressState::Tentative,
                        SlaacState::Tentative => AddressState::Tentative,
                        SlaacState::Preferred => AddressState::Preferred,
                        SlaacState::Deprecated => AddressState::Deprecated,
                    },
                    temporary: info.kind == AddressKind::Temporary,
                })
            })
            .collect();
    }

    /// Applies router discovery's decision to routes, devices and the neighbour cache; a
    /// prefix for autoconfiguration goes to SLAAC. Returns further work.
    fn apply_router_discovery<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        event: RouterDiscoveryEvent,
    ) -> Vec<Ipv6Work<F>> {
        use RouterDiscoveryEvent as E;
        let default = || Subnet::new(Ipv6Addr::UNSPECIFIED, 0).ok();
        match event {
            E::DefaultRouteAdded { device, router } => {
                if let (Some(subnet), Some(gateway)) = (default(), SpecifiedAddr::new(router)) {
                    let source = RouteSource::RouterAdvertisement;
                    let route = Route { subnet, device, gateway: Some(gateway), metric: 1024, source };
                    if self.v6.routes.add(route).is_ok() {
                        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
                    }
                }
            }
            E::DefaultRouteRemoved { device, router } => {
                let removed = self.v6.routes.remove_matching(|r| {
                    r.device == device
                        && r.subnet.prefix_len() == 0
                        && r.gateway.is_some_and(|g| *g == router)
                        && r.source == RouteSource::RouterAdvertisement
                });
                if removed > 0 {
                    ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
                }
            }
            E::OnLinkPrefixAdded { device, prefix } => {
                let source = RouteSource::RouterAdvertisement;
                let route = Route { subnet: prefix, device, gateway: None, metric: 256, source };
                if self.v6.routes.add(route).is_ok() {
                    ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
                }
            }
            E::OnLinkPrefixRemoved { device, prefix } => {
                let removed = self.v6.routes.remove_matching(|r| {
                    r.device == device && r.subnet == prefix && r.source == RouteSource::RouterAdvertisement
                });
                if removed > 0 {
                    ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
                }
            }
            E::LinkMtu { device, mtu } => {
                if let Some(index) = self.device_index(device) {
                    let dev = &mut self.devices[index];
                    let before = dev.v6.mtu;
                    dev.v6.mtu = mtu.clamp(IPV6_MIN_MTU, dev.link.mtu().max(IPV6_MIN_MTU));
                    if dev.v6.mtu != before {
                        ctx.on_event(StackEvent::InterfaceChanged { device });
                    }
                }
            }
            E::CurHopLimit { device, hop_limit } => {
                if let Some(index) = self.device_index(device) {
                    self.devices[index].v6.hop_limit = hop_limit;
                }
            }
            E::BaseReachableTime { device, base, .. } => {
                if let Some(index) = self.device_index(device) {
                    let dev = &mut self.devices[index];
                    dev.v6.nd.set_base_reachable_time(&mut ModuleTimers(ctx), base);
                }
            }
            E::RetransTimer { device, retrans } => {
                if let Some(index) = self.device_index(device) {
                    self.devices[index].v6.nd.set_retrans_time(retrans);
                }
            }
            E::RouterNeighbor { device, router, link_address } => {
                // RFC 4861 §6.3.4: the source link-layer address updates the router's entry
                // as a solicitation's would (§7.2.3).
                if let (Some(index), Some(router), Some(mac)) =
                    (self.device_index(device), UnicastAddr::new(router), link_address)
                {
                    self.with_nd(ctx, index, |nd, nd_ctx| nd.handle_solicitation(nd_ctx, router, mac));
                }
            }
            E::AutoconfigurationPrefix { device, prefix } => {
                let mut slaac_ctx = NdpCtx::for_slaac(ctx);
                // Refusals are counted by SLAAC.
                let _ = self.v6.slaac.handle_prefix_information(&mut slaac_ctx, device, &prefix);
                return slaac_ctx.finish().0;
            }
            E::Redirect { device, target, target_link_address, .. } => {
                // RFC 4861 §8.3: the target's link-layer address updates its entry.
                if let (Some(index), Some(target), Some(mac)) =
                    (self.device_index(device), UnicastAddr::new(target), target_link_address)
                {
                    self.with_nd(ctx, index, |nd, nd_ctx| nd.handle_solicitation(nd_ctx, target, mac));
                }
            }
            E::DnsServerAdded { .. } | E::DnsServerRemoved { .. } | E::RedirectRemoved { .. } => {}
        }
        ctx.on_event(StackEvent::RouterDiscovery(event));
        Vec::new()
    }
}
