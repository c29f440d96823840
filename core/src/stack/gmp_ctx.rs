//! The context IGMP and MLD run in inside the stack: their timers under the stack's, device
//! multicast filters programmed directly, and the messages they send serialized at once and
//! held until the group state is no longer borrowed, when the IP layer sends them.

use alloc::vec::Vec;

use super::{Device, IpMtu, StackContext, StackTimerId};
use crate::addr::{Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, Mac, MulticastAddr};
use crate::buf::{EmptyBody, Serializer};
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::device::DeviceId;
use crate::ip::gmp::{GmpContext, GmpIp, GmpMessage, GmpTimerId};
use crate::ip::source::SourceCandidate;
use crate::time::Instant;
use crate::wire::icmp::{IcmpBuilder, Icmpv6PseudoHeader};
use crate::wire::igmp::IgmpBuilder;

/// A group membership message to send: the device, its source and destination, and the
/// serialized IGMP or MLD message.
pub(super) struct OutgoingReport<A> {
    pub(super) device: DeviceId,
    pub(super) src: A,
    pub(super) dst: A,
    pub(super) message: Vec<u8>,
}

/// What differs between IGMP and MLD in the stack's hands.
pub(super) trait GmpStackIp: GmpIp + IpMtu {
    /// The link-layer group `group` maps to (RFC 1112 §6.4, RFC 2464 §7).
    fn group_mac(group: Self::Addr) -> Mac;

    /// The source of reports sent on `device`: IGMP uses the device's first address (or
    /// 0.0.0.0), MLD its usable link-local address (or `::` before it has one, RFC 3810
    /// §5.2.13).
    fn report_source(sources: &[SourceCandidate<Self::Addr>], device: DeviceId) -> Self::Addr;

    /// Serializes `message` (the checksum of MLD covers the pseudo-header).
    fn serialize(src: Self::Addr, dst: Self::Addr, message: GmpMessage<'_, Self::Addr>) -> Option<Vec<u8>>;
}

impl GmpStackIp for Ipv4 {
    fn group_mac(group: Ipv4Addr) -> Mac {
        Mac::from_ipv4_multicast(group)
    }

    fn report_source(sources: &[SourceCandidate<Ipv4Addr>], device: DeviceId) -> Ipv4Addr {
        sources
            .iter()
            .find(|c| c.device == device)
            .map_or(Ipv4Addr::UNSPECIFIED, |c| c.addr.addr().into_addr())
    }

    fn serialize(_src: Ipv4Addr, _dst: Ipv4Addr, message: GmpMessage<'_, Ipv4Addr>) -> Option<Vec<u8>> {
        let bytes = EmptyBody.encapsulate(IgmpBuilder::new(message)).serialize_vec().ok()?;
        Some(bytes.body().to_vec())
    }
}

impl GmpStackIp for Ipv6 {
    fn group_mac(group: Ipv6Addr) -> Mac {
        Mac::from_ipv6_multicast(group)
    }

    fn report_source(sources: &[SourceCandidate<Ipv6Addr>], device: DeviceId) -> Ipv6Addr {
        super::ipv6::usable_link_local(sources, device).unwrap_or(Ipv6Addr::UNSPECIFIED)
    }

    fn serialize(src: Ipv6Addr, dst: Ipv6Addr, message: GmpMessage<'_, Ipv6Addr>) -> Option<Vec<u8>> {
        let pseudo = Icmpv6PseudoHeader { src, dst };
        let bytes =
            EmptyBody.encapsulate(IcmpBuilder::<Ipv6, _>::new(pseudo, message)).serialize_vec().ok()?;
        Some(bytes.body().to_vec())
    }
}

/// IGMP's or MLD's view of the stack for one call.
pub(super) struct GmpCtx<'a, C, F, I: GmpStackIp> {
    ctx: &'a mut C,
    devices: &'a mut [Device<F>],
    sources: &'a [SourceCandidate<I::Addr>],
    outgoing: Vec<OutgoingReport<I::Addr>>,
}

impl<'a, C, F, I: GmpStackIp> GmpCtx<'a, C, F, I> {
    pub(super) fn new(
        ctx: &'a mut C,
        devices: &'a mut [Device<F>],
        sources: &'a [SourceCandidate<I::Addr>],
    ) -> Self {
        Self { ctx, devices, sources, outgoing: Vec::new() }
    }

    /// The messages the machinery asked to send.
    pub(super) fn into_outgoing(self) -> Vec<OutgoingReport<I::Addr>> {
        self.outgoing
    }

    fn device(&mut self, id: DeviceId) -> Option<&mut Device<F>> {
        self.devices.iter_mut().find(|d| d.id == id)
    }
}

impl<C: StackContext, F, I: GmpStackIp> InstantContext for GmpCtx<'_, C, F, I> {
    fn now(&self) -> Instant {
        self.ctx.now()
    }
}

impl<C: StackContext, F, I: GmpStackIp> RngContext for GmpCtx<'_, C, F, I> {
    fn random_u64(&mut self) -> u64 {
        self.ctx.random_u64()
    }
}

impl<C: StackContext, F, I: GmpStackIp> TimerContext<GmpTimerId<I::Addr>> for GmpCtx<'_, C, F, I>
where
    StackTimerId: From<GmpTimerId<I::Addr>>,
{
    fn schedule_timer(&mut self, id: GmpTimerId<I::Addr>, at: Instant) -> Option<Instant> {
        self.ctx.schedule_timer(StackTimerId::from(id), at)
    }

    fn cancel_timer(&mut self, id: &GmpTimerId<I::Addr>) -> Option<Instant> {
        self.ctx.cancel_timer(&StackTimerId::from(*id))
    }

    fn scheduled_at(&self, id: &GmpTimerId<I::Addr>) -> Option<Instant> {
        self.ctx.scheduled_at(&StackTimerId::from(*id))
    }
}

impl<C: StackContext, F, I: GmpStackIp> GmpContext<I> for GmpCtx<'_, C, F, I>
where
    StackTimerId: From<GmpTimerId<I::Addr>>,
{
    fn send_gmp_message(
        &mut self,
        device: DeviceId,
        dst: MulticastAddr<I::Addr>,
        message: GmpMessage<'_, I::Addr>,
    ) {
        let src = I::report_source(self.sources, device);
        if let Some(message) = I::serialize(src, *dst, message) {
            self.outgoing.push(OutgoingReport { device, src, dst: *dst, message });
        }
    }

    fn join_link_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>) {
        if let Some(eth) = self.device(device).and_then(|d| d.link.ethernet_mut()) {
            eth.multicast_filter().join(I::group_mac(*group));
        }
    }

    fn leave_link_group(&mut self, device: DeviceId, group: MulticastAddr<I::Addr>) {
        if let Some(eth) = self.device(device).and_then(|d| d.link.ethernet_mut()) {
            eth.multicast_filter().leave(I::group_mac(*group));
        }
    }

    fn gmp_mtu(&self, device: DeviceId) -> u32 {
        self.devices.iter().find(|d| d.id == device).map_or(1280, I::device_mtu)
    }
}
