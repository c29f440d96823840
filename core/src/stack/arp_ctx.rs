//! The context ARP runs in inside the stack: the bindings' timers and randomness under ARP's
//! own timer ids, frames serialized into transmit buffers, and what ARP reports that needs
//! the whole stack (failed resolutions, address conflicts) held back until ARP returns and
//! the device is no longer borrowed.

use alloc::vec::Vec;

use super::{StackContext, StackEvent, StackTimerId};
use crate::addr::IpVersion;
use crate::addr::{Ipv4, Ipv4Addr, Mac};
use crate::buf::{Buf, EmptyBody, Serializer};
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::device::arp::{AcdEvent, ArpContext, ArpTimerId};
use crate::device::ethernet::EthernetDevice;
use crate::device::nud::NeighborEvent;
use crate::device::DeviceId;
use crate::time::Instant;
use crate::wire::arp::ArpBuilder;
use crate::wire::EtherType;

/// What ARP reported that the stack handles after ARP returns.
pub(super) struct Deferred<F> {
    /// Packets whose next hop did not resolve, with the device they were to leave by.
    pub(super) failed: Vec<(DeviceId, Buf<F>)>,
    /// Conflict detection news.
    pub(super) acd: Vec<AcdEvent>,
}

/// ARP's view of the stack for one call.
pub(super) struct ArpCtx<'a, C: StackContext> {
    ctx: &'a mut C,
    eth: Option<&'a EthernetDevice>,
    deferred: Deferred<C::Frame>,
}

impl<'a, C: StackContext> ArpCtx<'a, C> {
    /// A context for ARP calls on the device `eth` (`None` for a device without Ethernet,
    /// where ARP sends nothing).
    pub(super) fn new(ctx: &'a mut C, eth: Option<&'a EthernetDevice>) -> Self {
        Self { ctx, eth, deferred: Deferred { failed: Vec::new(), acd: Vec::new() } }
    }

    /// A context that only offers time and randomness, for constructing ARP state before
    /// the device exists.
    pub(super) fn timers_only(ctx: &'a mut C) -> Self {
        Self { ctx, eth: None, deferred: Deferred { failed: Vec::new(), acd: Vec::new() } }
    }

    /// What ARP left for the stack to do.
    pub(super) fn into_deferred(self) -> Deferred<C::Frame> {
        self.deferred
    }

    /// Serializes `body` in an Ethernet frame to `dst` and transmits it on `device`.
    fn send_ethernet(&mut self, device: DeviceId, dst: Mac, ethertype: EtherType, body: impl Serializer) {
        let Some(eth) = self.eth else { return };
        let frame = body.encapsulate(eth.builder(dst, ethertype));
        let Some(storage) = self.ctx.alloc_frame(frame.len()) else { return };
        let start = frame.header_room();
        let mut buf = Buf::new(storage, start..start);
        if frame.serialize_into(&mut buf).is_ok() {
            self.ctx.send_frame(device, buf);
        }
    }
}

impl<C: StackContext> InstantContext for ArpCtx<'_, C> {
    fn now(&self) -> Instant {
        self.ctx.now()
    }
}

impl<C: StackContext> TimerContext<ArpTimerId> for ArpCtx<'_, C> {
    fn schedule_timer(&mut self, id: ArpTimerId, at: Instant) -> Option<Instant> {
        self.ctx.schedule_timer(StackTimerId::Arp(id), at)
    }

    fn cancel_timer(&mut self, id: &ArpTimerId) -> Option<Instant> {
        self.ctx.cancel_timer(&StackTimerId::Arp(*id))
    }

    fn scheduled_at(&self, id: &ArpTimerId) -> Option<Instant> {
        self.ctx.scheduled_at(&StackTimerId::Arp(*id))
    }
}

impl<C: StackContext> RngContext for ArpCtx<'_, C> {
    fn random_u64(&mut self) -> u64 {
        self.ctx.random_u64()
    }
}

impl<C: StackContext> ArpContext<Buf<C::Frame>> for ArpCtx<'_, C> {
    fn send_arp(&mut self, device: DeviceId, dst: Mac, packet: ArpBuilder) {
        self.send_ethernet(device, dst, EtherType::ARP, EmptyBody.encapsulate(packet));
    }

    fn transmit(&mut self, device: DeviceId, _neighbor: Ipv4Addr, link_addr: Mac, mut packet: Buf<C::Frame>) {
        let Some(eth) = self.eth else { return };
        if packet.encapsulate(&eth.builder(link_addr, EtherType::IPV4)).is_ok() {
            self.ctx.send_frame(device, packet);
        }
    }

    fn resolution_failed(&mut self, device: DeviceId, _neighbor: Ipv4Addr, packet: Buf<C::Frame>) {
        self.deferred.failed.push((device, packet));
    }

    fn on_neighbor_event(&mut self, event: NeighborEvent<Ipv4>) {
        let device = event.device;
        self.ctx.on_event(StackEvent::Neighbor(event));
        self.ctx.on_event(StackEvent::NeighborsChanged { device, version: IpVersion::V4 });
    }

    fn on_acd_event(&mut self, event: AcdEvent) {
        self.deferred.acd.push(event);
    }
}
