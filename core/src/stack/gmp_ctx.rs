//! The context IGMP runs in inside the stack: its timers under the stack's, device multicast
//! filters programmed directly, and the reports it sends serialized at once and held until
//! the group state is no longer borrowed, when the IP layer sends them.

use alloc::vec::Vec;

use super::{Device, StackContext, StackTimerId};
use crate::addr::{Ipv4, Ipv4Addr, Mac, MulticastAddr};
use crate::buf::{EmptyBody, Serializer};
use crate::context::{InstantContext, RngContext, TimerContext};
use crate::device::DeviceId;
use crate::ip::gmp::{GmpContext, GmpMessage, GmpTimerId};
use crate::time::Instant;
use crate::wire::igmp::IgmpBuilder;

/// An IGMP message to send: the device, the destination group, the serialized message.
pub(super) type OutgoingReport = (DeviceId, Ipv4Addr, Vec<u8>);

/// IGMP's view of the stack for one call.
pub(super) struct GmpCtx<'a, C, F> {
    ctx: &'a mut C,
    devices: &'a mut [Device<F>],
    outgoing: Vec<OutgoingReport>,
}

impl<'a, C, F> GmpCtx<'a, C, F> {
    pub(super) fn new(ctx: &'a mut C, devices: &'a mut [Device<F>]) -> Self {
        Self { ctx, devices, outgoing: Vec::new() }
    }

    /// The messages IGMP asked to send.
    pub(super) fn into_outgoing(self) -> Vec<OutgoingReport> {
        self.outgoing
    }

    fn device(&mut self, id: DeviceId) -> Option<&mut Device<F>> {
        self.devices.iter_mut().find(|d| d.id == id)
    }
}

impl<C: StackContext, F> InstantContext for GmpCtx<'_, C, F> {
    fn now(&self) -> Instant {
        self.ctx.now()
    }
}

impl<C: StackContext, F> RngContext for GmpCtx<'_, C, F> {
    fn random_u64(&mut self) -> u64 {
        self.ctx.random_u64()
    }
}

impl<C: StackContext, F> TimerContext<GmpTimerId<Ipv4Addr>> for GmpCtx<'_, C, F> {
    fn schedule_timer(&mut self, id: GmpTimerId<Ipv4Addr>, at: Instant) -> Option<Instant> {
        self.ctx.schedule_timer(StackTimerId::Igmp(id), at)
    }

    fn cancel_timer(&mut self, id: &GmpTimerId<Ipv4Addr>) -> Option<Instant> {
        self.ctx.cancel_timer(&StackTimerId::Igmp(*id))
    }

    fn scheduled_at(&self, id: &GmpTimerId<Ipv4Addr>) -> Option<Instant> {
        self.ctx.scheduled_at(&StackTimerId::Igmp(*id))
    }
}

impl<C: StackContext, F> GmpContext<Ipv4> for GmpCtx<'_, C, F> {
    fn send_gmp_message(
        &mut self,
        device: DeviceId,
        dst: MulticastAddr<Ipv4Addr>,
        message: GmpMessage<'_, Ipv4Addr>,
    ) {
        if let Ok(bytes) = EmptyBody.encapsulate(IgmpBuilder::new(message)).serialize_vec() {
            self.outgoing.push((device, *dst, bytes.body().to_vec()));
        }
    }

    fn join_link_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv4Addr>) {
        if let Some(dev) = self.device(device) {
            dev.eth.multicast_filter().join(Mac::from_ipv4_multicast(*group));
        }
    }

    fn leave_link_group(&mut self, device: DeviceId, group: MulticastAddr<Ipv4Addr>) {
        if let Some(dev) = self.device(device) {
            dev.eth.multicast_filter().leave(Mac::from_ipv4_multicast(*group));
        }
    }

    fn gmp_mtu(&self, device: DeviceId) -> u32 {
        self.devices.iter().find(|d| d.id == device).map_or(576, |d| d.eth.config().mtu)
    }
}
