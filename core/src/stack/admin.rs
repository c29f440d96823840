//! The administrative surface of the stack, what `fuchsia.net.interfaces(.admin)`,
//! `fuchsia.net.routes(.admin)`, `fuchsia.net.neighbor` and `netstack.admin` are served from:
//! listing and configuring devices, their addresses, the routing tables and the neighbour
//! tables, with [`StackEvent`]s telling the bindings when what they show changed.
//!
//! * Devices: enable and disable (Fuchsia's `Control.Enable`/`Disable`, Linux `ip link set
//!   up/down`), the MTU (RFC 791 §3.1's 68-byte minimum for IPv4; RFC 8200 §5's 1280 below
//!   which IPv6 is turned off on the device, as Linux does), removal.
//! * Addresses: both versions with their assignment state and lifetimes. IPv4 addresses get
//!   lifetimes here, run like IPv6's (RFC 4862 §5.5.4: deprecated when the preferred
//!   lifetime ends, removed when the valid one does); a deprecated address is used as a
//!   source only when no preferred one will do (RFC 6724 §5 rule 3, applied to IPv4 too).
//! * Routes: added and removed by value (destination, device, gateway, metric).
//! * Neighbours: listed per device with their NUD state (RFC 4861 §7.3.2, Linux's FAILED
//!   for RFC 7048's UNREACHABLE, PERMANENT as `Static`), static entries added and removed,
//!   tables flushed.
//!
//! A disabled device neither receives nor sends (both counted); its routes stay in the
//! tables but lookups skip them, so sends that would use it fail with no route
//! (ENETUNREACH), as Fuchsia keeps an offline interface's routes; its dynamic neighbour
//! entries are flushed (packets waiting on them fail, EHOSTUNREACH), router discovery stops
//! and withdraws what it learned, and its addresses are unavailable. Enabling it again
//! re-runs DAD on its IPv6 addresses (RFC 4862 §5.4) and restarts router solicitation (RFC
//! 4861 §6.3.7), as Linux does on link up.

use alloc::vec::Vec;

use super::*;
use crate::device::nud::{NeighborState, NudError};
use crate::ip::router_discovery::DeviceConfig;
use crate::ip::slaac::Expiry;
use crate::time::Instant;

/// The smallest MTU a device may have: every IPv4 module must forward a 68-byte datagram
/// without fragmenting it further (RFC 791 §3.1).
pub const MIN_IPV4_MTU: u32 = 68;

/// What carries a device's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// The loopback device.
    Loopback,
    /// Ethernet (a TAP device).
    Ethernet,
    /// Bare IP packets (a TUN device).
    PureIp,
}

/// What [`Stack::device_info`] tells about a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device.
    pub id: DeviceId,
    /// What carries its packets.
    pub kind: DeviceKind,
    /// The link MTU: the largest IP packet it carries.
    pub mtu: u32,
    /// IPv6's link MTU, lower than `mtu` when a Router Advertisement said so (RFC 4861
    /// §6.3.4).
    pub ipv6_mtu: u32,
    /// The hardware address, for Ethernet.
    pub mac: Option<UnicastAddr<Mac>>,
    /// Administratively up.
    pub enabled: bool,
    /// IPv6 runs on the device.
    pub ipv6_enabled: bool,
    /// IPv4 packets arriving here may be forwarded.
    pub ipv4_forwarding: bool,
    /// IPv6 packets arriving here may be forwarded.
    pub ipv6_forwarding: bool,
    /// Frames received while the device was disabled, dropped.
    pub rx_dropped_disabled: u64,
    /// Frames not sent because the device was disabled.
    pub tx_dropped_disabled: u64,
}

/// An address with its prefix length, either version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpAddrSubnet {
    /// IPv4.
    V4(AddrSubnet<Ipv4Addr>),
    /// IPv6.
    V6(AddrSubnet<Ipv6Addr>),
}

/// Where an address stands (Fuchsia's `AddressAssignmentState`, plus deprecation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressAssignment {
    /// Duplicate address detection is still running (RFC 4862 §5.4, RFC 5227 §2.1): not
    /// used nor answered for.
    Tentative,
    /// Usable and preferred.
    Assigned,
    /// Usable, but its preferred lifetime ended (RFC 4862 §5.5.4): kept for existing
    /// communication, avoided as a source for new (RFC 6724 §5 rule 3).
    Deprecated,
    /// The device is disabled.
    Unavailable,
}

/// One address of a device, as [`Stack::addresses`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressInfo {
    /// The device.
    pub device: DeviceId,
    /// The address and its prefix.
    pub addr: IpAddrSubnet,
    /// Its state.
    pub state: AddressAssignment,
    /// When it will be removed.
    pub valid_until: Expiry,
    /// When it will be (or was) deprecated.
    pub preferred_until: Expiry,
}

/// One neighbour entry, as [`Stack::neighbors`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborEntry {
    /// The device whose table holds it.
    pub device: DeviceId,
    /// The neighbour.
    pub ip: IpAddr,
    /// Its link-layer address, when the state has one.
    pub mac: Option<Mac>,
    /// The NUD state ([`NeighborState::Failed`] is Fuchsia's UNREACHABLE).
    pub state: NeighborState,
    /// The IsRouter flag (RFC 4861 §7.2.5; false for ARP).
    pub is_router: bool,
    /// When the entry was created or last changed.
    pub updated_at: Instant,
}

/// The timer of an IPv4 address's next lifetime event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4AddressTimerId {
    /// The device.
    pub device: DeviceId,
    /// The address.
    pub addr: Ipv4Addr,
}

/// Frames a disabled device dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct DisabledDrops {
    pub(super) rx: u64,
    pub(super) tx: u64,
}

/// What the stack keeps about an IPv4 address beside ARP's record of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ipv4AddrRecord {
    device: DeviceId,
    addr: Ipv4Addr,
    /// Adding it created its subnet route, which goes with the last address of the subnet.
    created_route: bool,
    valid: Expiry,
    preferred: Expiry,
    deprecated: bool,
}

impl Ipv4AddrRecord {
    /// An address with infinite lifetimes.
    pub(super) fn new(device: DeviceId, addr: Ipv4Addr, created_route: bool) -> Self {
        Self {
            device,
            addr,
            created_route,
            valid: Expiry::Never,
            preferred: Expiry::Never,
            deprecated: false,
        }
    }

    fn is(&self, device: DeviceId, addr: Ipv4Addr) -> bool {
        self.device == device && self.addr == addr
    }

    /// When its next lifetime event is due.
    fn next_event(&self) -> Option<Instant> {
        match (self.deprecated, self.preferred, self.valid) {
            (false, Expiry::At(t), _) => Some(t),
            (_, _, Expiry::At(t)) => Some(t),
            _ => None,
        }
    }
}

/// The source-selection state of IPv4 address `addr` of `device`: unusable while ARP probes
/// it or the device is disabled, deprecated once its preferred lifetime is over.
pub(super) fn ipv4_source_state<F>(
    records: &[Ipv4AddrRecord],
    device: &Device<F>,
    addr: Ipv4Addr,
    usable: bool,
) -> AddressState {
    if !usable || !device.enabled {
        AddressState::Tentative
    } else if records.iter().any(|r| r.is(device.id, addr) && r.deprecated) {
        AddressState::Deprecated
    } else {
        AddressState::Preferred
    }
}

/// Checks that `lifetimes` make sense: the preferred lifetime within the valid one.
fn check_lifetimes(lifetimes: Lifetimes) -> Result<(), DeviceError> {
    if lifetimes.preferred > lifetimes.valid {
        return Err(DeviceError::InvalidLifetimes);
    }
    Ok(())
}

impl<F: AsRef<[u8]> + AsMut<[u8]>> IpLayer<F> {
    /// Forgets the record of IPv4 address `addr` of `device` and cancels its timer.
    pub(super) fn forget_ipv4_address<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv4Addr,
    ) -> Option<Ipv4AddrRecord> {
        let at = self.addrs4.iter().position(|r| r.is(device, addr))?;
        ctx.cancel_timer(&StackTimerId::Ipv4Address(Ipv4AddressTimerId { device, addr }));
        Some(self.addrs4.swap_remove(at))
    }

    /// Removes IPv4 address `addr` from device `index`: from ARP (its conflict detection
    /// stops), its record, and its subnet route if adding it created the route and no other
    /// address of the device lies in the subnet. Returns whether the route went.
    fn remove_ipv4_address_at<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        index: usize,
        addr: Ipv4Addr,
    ) -> Result<bool, DeviceError> {
        let device = self.devices[index].id;
        let subnet = self.devices[index]
            .arp
            .addresses()
            .find(|(a, _)| a.addr().into_addr() == addr)
            .map(|(a, _)| a)
            .ok_or(DeviceError::AddressNotFound)?;
        self.with_arp(ctx, index, |arp, arp_ctx| arp.remove_address(arp_ctx, &addr))
            .map_err(|_| DeviceError::AddressNotFound)?;
        let record = self.forget_ipv4_address(ctx, device, addr);
        let mut route_removed = false;
        if record.is_some_and(|r| r.created_route) {
            let sibling = self.devices[index]
                .arp
                .addresses()
                .find(|(a, _)| a.subnet() == subnet.subnet())
                .map(|(a, _)| a.addr().into_addr());
            match sibling.and_then(|s| self.addrs4.iter_mut().find(|r| r.is(device, s))) {
                // The route now belongs to the subnet's remaining address.
                Some(sibling) => sibling.created_route = true,
                None => route_removed = self.routes4.remove(&subnet_route(subnet, device)).is_ok(),
            }
        }
        self.rebuild_sources();
        Ok(route_removed)
    }

    /// Schedules the next lifetime event of the IPv4 address `record` describes.
    fn schedule_ipv4_lifetime<C: StackContext<Frame = F>>(ctx: &mut C, record: &Ipv4AddrRecord) {
        let id = StackTimerId::Ipv4Address(Ipv4AddressTimerId { device: record.device, addr: record.addr });
        match record.next_event() {
            Some(at) => {
                ctx.schedule_timer(id, at);
            }
            None => {
                ctx.cancel_timer(&id);
            }
        }
    }

    /// Brings IPv4 address `addr` of `device` in line with its lifetimes at `now` (RFC 4862
    /// §5.5.4 applied to IPv4): removed once the valid lifetime is over, deprecated once the
    /// preferred one is; then schedules the next event.
    fn apply_ipv4_lifetimes<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv4Addr,
    ) {
        let now = ctx.now();
        let Some(record) = self.addrs4.iter_mut().find(|r| r.is(device, addr)) else { return };
        if record.valid.is_past(now) {
            let Some(index) = self.device_index(device) else { return };
            if let Ok(route_removed) = self.remove_ipv4_address_at(ctx, index, addr) {
                ctx.on_event(StackEvent::InterfaceChanged { device });
                if route_removed {
                    ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
                }
            }
            return;
        }
        let deprecated = record.preferred.is_past(now);
        let changed = deprecated != record.deprecated;
        record.deprecated = deprecated;
        let record = *record;
        Self::schedule_ipv4_lifetime(ctx, &record);
        if changed {
            self.rebuild_sources();
            ctx.on_event(StackEvent::InterfaceChanged { device });
        }
    }

    /// An IPv4 address's lifetime timer fired.
    pub(super) fn ipv4_address_timer<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        id: Ipv4AddressTimerId,
    ) {
        self.apply_ipv4_lifetimes(ctx, id.device, id.addr);
    }

    /// Turns IPv6 off on device `index` (its MTU went below 1280, or it is being removed):
    /// its addresses, their routes and groups, what router discovery learned and its
    /// neighbour cache all go (Linux `addrconf_ifdown`).
    fn stop_ipv6<C: StackContext<Frame = F>>(&mut self, ctx: &mut C, index: usize) {
        let device = self.devices[index].id;
        if self.devices[index].v6.enabled {
            self.with_rd(ctx, |rd, rd_ctx| {
                rd.disable_device(rd_ctx, device);
            });
            self.with_slaac(ctx, |slaac, slaac_ctx| {
                let _ = slaac.remove_device(slaac_ctx, device);
            });
            self.with_mld(ctx, |mld, gmp_ctx| {
                mld.remove_device(gmp_ctx, device);
            });
            if let Link::Ethernet(eth) = &mut self.devices[index].link {
                eth.multicast_filter().leave(Mac::from_ipv6_multicast(Ipv6Addr::ALL_NODES));
            }
            self.devices[index].v6.enabled = false;
        }
        self.with_nd(ctx, index, |nd, nd_ctx| nd.flush_all(nd_ctx));
        if self.v6.routes.remove_matching(|r| r.device == device) > 0 {
            ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
        }
        self.rebuild_sources6();
    }

    /// The router discovery configuration of Ethernet device `index`.
    fn rd_config(&self, index: usize) -> Option<DeviceConfig> {
        let dev = &self.devices[index];
        let mac = *dev.link.ethernet()?.mac();
        Some(DeviceConfig { forwarding: dev.v6.forwarding, ..DeviceConfig::host(Some(mac), dev.v6.mtu) })
    }
}

impl<F: AsRef<[u8]> + AsMut<[u8]> + Clone> Stack<F> {
    /// Every device, in the order they were added.
    pub fn devices(&self) -> impl Iterator<Item = DeviceId> + '_ {
        self.ip.devices.iter().map(|d| d.id)
    }

    /// What `device` is and how it is configured; `None` for a device that does not exist
    /// (or no longer does).
    pub fn device_info(&self, device: DeviceId) -> Option<DeviceInfo> {
        let dev = self.ip.device(device)?;
        let kind = match dev.link {
            Link::Ethernet(_) => DeviceKind::Ethernet,
            Link::PureIp { .. } => DeviceKind::PureIp,
            Link::Loopback { .. } => DeviceKind::Loopback,
        };
        Some(DeviceInfo {
            id: device,
            kind,
            mtu: dev.link.mtu(),
            ipv6_mtu: dev.v6.mtu,
            mac: dev.link.ethernet().map(|e| e.mac()),
            enabled: dev.enabled,
            ipv6_enabled: dev.v6.enabled,
            ipv4_forwarding: dev.forwarding,
            ipv6_forwarding: dev.v6.forwarding,
            rx_dropped_disabled: dev.disabled_drops.rx,
            tx_dropped_disabled: dev.disabled_drops.tx,
        })
    }

    /// Enables or disables `device` (Linux `ip link set up/down`, Fuchsia's
    /// `Control.Enable`/`Disable`); returns whether that changed anything. See the module
    /// documentation for what a disabled device does. Enabling re-runs DAD on its IPv6
    /// addresses (RFC 4862 §5.4) and restarts router solicitation (RFC 4861 §6.3.7).
    pub fn set_device_enabled<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        enabled: bool,
    ) -> Result<bool, DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        if self.ip.devices[index].enabled == enabled {
            return Ok(false);
        }
        self.ip.devices[index].enabled = enabled;
        self.ip.routes4.set_device_up(device, enabled);
        self.ip.v6.routes.set_device_up(device, enabled);
        let ipv6 = self.ip.devices[index].v6.enabled;
        if enabled {
            if ipv6 {
                self.ip.with_slaac(ctx, |slaac, slaac_ctx| {
                    let _ = slaac.restart_dad(slaac_ctx, device);
                });
                if let Some(config) = self.ip.rd_config(index) {
                    self.ip.with_rd(ctx, |rd, rd_ctx| rd.enable_device(rd_ctx, device, config));
                }
            }
        } else {
            // Linux flushes the neighbour tables of a device going down, static entries
            // aside (`neigh_carrier_down`).
            self.ip.with_arp(ctx, index, |arp, arp_ctx| arp.flush_neighbors(arp_ctx));
            self.ip.with_nd(ctx, index, |nd, nd_ctx| nd.flush_dynamic(nd_ctx));
            if ipv6 {
                self.ip.with_rd(ctx, |rd, rd_ctx| {
                    rd.disable_device(rd_ctx, device);
                });
            }
        }
        self.ip.rebuild_sources();
        self.ip.rebuild_sources6();
        ctx.on_event(StackEvent::InterfaceChanged { device });
        // Route usability changed for both versions.
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
        self.drain_loopback(ctx);
        Ok(true)
    }

    /// Sets `device`'s MTU to `mtu`, which must be at least 68 (RFC 791 §3.1) and at most
    /// `max`, what the device and its frame buffers carry. Below 1280 IPv6 is turned off
    /// on the device (RFC 8200 §5; its addresses go, as on Linux) and it comes back, with a
    /// new link-local address, when the MTU is raised again. IPv6's link MTU follows the
    /// device's (forgetting a lower one a Router Advertisement set). Paths through the device
    /// never exceed its MTU: learned path MTUs above it are capped on every lookup, so later
    /// packets are fragmented or refused (EMSGSIZE) accordingly.
    pub fn set_mtu<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        mtu: u32,
        max: u32,
    ) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        if mtu < MIN_IPV4_MTU || mtu > max {
            return Err(DeviceError::MtuOutOfRange { mtu, min: MIN_IPV4_MTU, max });
        }
        let dev = &mut self.ip.devices[index];
        if dev.link.mtu() == mtu {
            return Ok(());
        }
        match &mut dev.link {
            Link::Ethernet(eth) => eth.set_mtu(mtu),
            Link::PureIp { mtu: link_mtu, .. } | Link::Loopback { mtu: link_mtu } => *link_mtu = mtu,
        }
        if mtu < ipv6::IPV6_MIN_MTU {
            if dev.v6.enabled {
                dev.v6.disabled_by_mtu = true;
                self.ip.stop_ipv6(ctx, index);
            }
        } else {
            dev.v6.mtu = mtu;
            if core::mem::take(&mut dev.v6.disabled_by_mtu) {
                self.ip.start_ipv6(ctx, index);
            }
        }
        ctx.on_event(StackEvent::InterfaceChanged { device });
        self.drain_loopback(ctx);
        Ok(())
    }

    /// Removes `device`: its addresses, every route through it, its neighbour entries (their
    /// waiting packets fail), group memberships and timers go. Its id is never given to
    /// another device; every call naming it afterwards fails with
    /// [`DeviceError::NoDevice`], frames for it are counted as for an unknown device, and
    /// sockets sending through it find no route (ENETUNREACH).
    pub fn remove_device<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
    ) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        self.ip.stop_ipv6(ctx, index);
        let addrs: Vec<Ipv4Addr> =
            self.ip.devices[index].arp.addresses().map(|(a, _)| a.addr().into_addr()).collect();
        for addr in addrs {
            let _ = self.ip.remove_ipv4_address_at(ctx, index, addr);
        }
        self.ip.with_arp(ctx, index, |arp, arp_ctx| arp.flush_all_neighbors(arp_ctx));
        self.ip.with_igmp(ctx, |igmp, gmp_ctx| {
            igmp.remove_device(gmp_ctx, device);
        });
        self.drain_loopback(ctx);
        let ip = &mut self.ip;
        ip.routes4.remove_matching(|r| r.device == device);
        ip.v6.routes.remove_matching(|r| r.device == device);
        ip.routes4.set_device_up(device, true);
        ip.v6.routes.set_device_up(device, true);
        ip.redirects4.retain(|r| r.device != device);
        ip.loopback.retain(|(d, _)| *d != device);
        if let Some(index) = ip.device_index(device) {
            ip.devices.remove(index);
        }
        ip.rebuild_sources();
        ip.rebuild_sources6();
        ctx.on_event(StackEvent::InterfaceRemoved { device });
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
        Ok(())
    }

    /// The addresses of `device`, IPv4 then IPv6, with their states and lifetimes; none for
    /// a device that does not exist.
    pub fn addresses(&self, device: DeviceId) -> impl Iterator<Item = AddressInfo> + '_ {
        let dev = self.ip.device(device);
        let v4 = dev.into_iter().flat_map(move |dev| {
            dev.arp.addresses().map(move |(addr, usable)| {
                let record = self.ip.addrs4.iter().find(|r| r.is(device, addr.addr().into_addr()));
                let state = match ipv4_source_state(&self.ip.addrs4, dev, addr.addr().into_addr(), usable) {
                    _ if !dev.enabled => AddressAssignment::Unavailable,
                    AddressState::Preferred => AddressAssignment::Assigned,
                    AddressState::Deprecated => AddressAssignment::Deprecated,
                    AddressState::Tentative | AddressState::Duplicate => AddressAssignment::Tentative,
                };
                AddressInfo {
                    device,
                    addr: IpAddrSubnet::V4(addr),
                    state,
                    valid_until: record.map_or(Expiry::Never, |r| r.valid),
                    preferred_until: record.map_or(Expiry::Never, |r| r.preferred),
                }
            })
        });
        let v6 = dev.into_iter().flat_map(move |dev| {
            self.ip.v6.slaac.addresses(device).map(move |info| {
                use crate::ip::slaac::AddressState as SlaacState;
                let state = match info.state {
                    _ if !dev.enabled => AddressAssignment::Unavailable,
                    SlaacState::Tentative => AddressAssignment::Tentative,
                    SlaacState::Preferred => AddressAssignment::Assigned,
                    SlaacState::Deprecated => AddressAssignment::Deprecated,
                };
                AddressInfo {
                    device,
                    addr: IpAddrSubnet::V6(info.addr),
                    state,
                    valid_until: info.valid_until,
                    preferred_until: info.preferred_until,
                }
            })
        });
        v4.chain(v6)
    }

    /// Assigns `addr` to `device` as [`Stack::add_ipv4_address`] does, with lifetimes: it is
    /// deprecated when the preferred lifetime ends and removed when the valid one does (RFC
    /// 4862 §5.5.4's rules, applied to IPv4).
    pub fn add_ipv4_address_with_lifetimes<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: AddrSubnet<Ipv4Addr>,
        lifetimes: Lifetimes,
    ) -> Result<(), DeviceError> {
        check_lifetimes(lifetimes)?;
        if lifetimes.valid == Lifetime::Finite(core::time::Duration::ZERO) {
            return Err(DeviceError::InvalidLifetimes);
        }
        self.ip.add_ipv4_address(ctx, device, addr)?;
        self.set_ipv4_lifetimes(ctx, device, addr.addr().into_addr(), lifetimes)?;
        self.drain_loopback(ctx);
        Ok(())
    }

    /// Removes IPv4 address `addr` from `device`: ARP stops answering and defending it, and
    /// its subnet route goes if adding the address created it and no other address of the
    /// device lies in the subnet.
    pub fn remove_ipv4_address<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv4Addr,
    ) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        let route_removed = self.ip.remove_ipv4_address_at(ctx, index, addr)?;
        ctx.on_event(StackEvent::InterfaceChanged { device });
        if route_removed {
            ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
        }
        self.drain_loopback(ctx);
        Ok(())
    }

    /// Sets new lifetimes, counted from now, on `addr` of `device` (Fuchsia's
    /// `AddressStateProvider.UpdateAddressProperties`): any IPv4 address, or a manually added
    /// IPv6 one. A valid lifetime of zero removes the address; a preferred lifetime of zero
    /// deprecates it at once (RFC 4862 §5.5.4).
    pub fn set_address_lifetimes<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: IpAddr,
        lifetimes: Lifetimes,
    ) -> Result<(), DeviceError> {
        check_lifetimes(lifetimes)?;
        self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        match addr {
            IpAddr::V4(addr) => self.set_ipv4_lifetimes(ctx, device, addr, lifetimes)?,
            IpAddr::V6(addr) => {
                if lifetimes.valid == Lifetime::Finite(core::time::Duration::ZERO) {
                    return self.remove_ipv6_address(ctx, device, addr);
                }
                self.ip
                    .with_slaac(ctx, |slaac, slaac_ctx| {
                        slaac.set_lifetimes(slaac_ctx, device, addr, lifetimes)
                    })
                    .map_err(|e| match e {
                        SlaacError::NotFound { .. } => DeviceError::AddressNotFound,
                        e => DeviceError::Address6(e),
                    })?;
                ctx.on_event(StackEvent::InterfaceChanged { device });
            }
        }
        self.drain_loopback(ctx);
        Ok(())
    }

    fn set_ipv4_lifetimes<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        addr: Ipv4Addr,
        lifetimes: Lifetimes,
    ) -> Result<(), DeviceError> {
        let now = ctx.now();
        let record =
            self.ip.addrs4.iter_mut().find(|r| r.is(device, addr)).ok_or(DeviceError::AddressNotFound)?;
        record.valid = lifetimes.valid.deadline(now);
        record.preferred = lifetimes.preferred.deadline(now);
        // Deprecation is re-evaluated below; a lifetime in the past applies at once.
        record.deprecated = false;
        self.ip.apply_ipv4_lifetimes(ctx, device, addr);
        self.ip.rebuild_sources();
        ctx.on_event(StackEvent::InterfaceChanged { device });
        Ok(())
    }

    /// Adds a route and reports it ([`StackEvent::RoutesChanged`]); what
    /// [`Stack::add_ipv4_route`] does, for the admin path.
    pub fn add_route_v4<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        route: Route<Ipv4>,
    ) -> Result<(), RouteError<Ipv4Addr>> {
        self.ip.routes4.add(route)?;
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
        Ok(())
    }

    /// Adds an IPv6 route and reports it.
    pub fn add_route_v6<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        route: Route<Ipv6>,
    ) -> Result<(), RouteError<Ipv6Addr>> {
        self.ip.v6.routes.add(route)?;
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
        Ok(())
    }

    /// Removes the IPv4 route with `route`'s destination, device, gateway and metric (who
    /// added it does not matter) and returns it.
    pub fn remove_ipv4_route<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        route: &Route<Ipv4>,
    ) -> Result<Route<Ipv4>, RouteError<Ipv4Addr>> {
        let removed = self.ip.routes4.remove(route)?;
        // A subnet route an address created is the administrator's to remove; the address
        // no longer takes it along.
        for record in self.ip.addrs4.iter_mut().filter(|r| r.device == removed.device) {
            if removed.gateway.is_none() && removed.subnet.contains(&record.addr) {
                record.created_route = false;
            }
        }
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V4 });
        Ok(removed)
    }

    /// Removes the IPv6 route with `route`'s destination, device, gateway and metric and
    /// returns it.
    pub fn remove_ipv6_route<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        route: &Route<Ipv6>,
    ) -> Result<Route<Ipv6>, RouteError<Ipv6Addr>> {
        let removed = self.ip.v6.routes.remove(route)?;
        ctx.on_event(StackEvent::RoutesChanged { version: IpVersion::V6 });
        Ok(removed)
    }

    /// The neighbour entries of `device`, ARP's then NDP's; none for a device that does not
    /// exist.
    pub fn neighbors(&self, device: DeviceId) -> impl Iterator<Item = NeighborEntry> + '_ {
        let dev = self.ip.device(device);
        let entry = move |ip: IpAddr, info: crate::device::nud::NeighborInfo, updated_at| NeighborEntry {
            device,
            ip,
            mac: info.link_addr,
            state: info.state,
            is_router: info.is_router,
            updated_at,
        };
        let v4 = dev.into_iter().flat_map(move |d| {
            d.arp.neighbors().iter_with_updated().map(move |(a, info, t)| entry(IpAddr::V4(a), info, t))
        });
        let v6 = dev.into_iter().flat_map(move |d| {
            d.v6.nd.iter_with_updated().map(move |(a, info, t)| entry(IpAddr::V6(a), info, t))
        });
        v4.chain(v6)
    }

    /// Adds or replaces a static neighbour entry (Linux `ip neigh replace ... nud
    /// permanent`): IPv4 in ARP's table, IPv6 in NDP's. It is used without resolution and
    /// never expires. Only Ethernet devices have neighbours.
    pub fn add_static_neighbor<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        ip: IpAddr,
        mac: UnicastAddr<Mac>,
    ) -> Result<(), DeviceError> {
        let index = self.neighbor_device(device)?;
        let table_full = |_| DeviceError::NeighborTableFull;
        match ip {
            IpAddr::V4(addr) => {
                let is_ours =
                    self.ip.devices[index].arp.addresses().any(|(a, _)| a.addr().into_addr() == addr);
                let neighbor = UnicastAddr::new(addr)
                    .filter(|_| !addr.is_loopback() && !addr.is_limited_broadcast() && !is_ours)
                    .ok_or(DeviceError::InvalidNeighbor)?;
                self.ip
                    .with_arp(ctx, index, |arp, arp_ctx| arp.add_static_neighbor(arp_ctx, neighbor, *mac))
                    .map_err(|_| DeviceError::NeighborTableFull)?;
            }
            IpAddr::V6(addr) => {
                if !self.ip.devices[index].v6.enabled {
                    return Err(DeviceError::Ipv6Disabled(device));
                }
                let neighbor = UnicastAddr::new(addr)
                    .filter(|_| !addr.is_loopback() && !self.ip.v6.is_assigned(addr, Some(device)))
                    .ok_or(DeviceError::InvalidNeighbor)?;
                self.ip
                    .with_nd(ctx, index, |nd, nd_ctx| nd.add_static(nd_ctx, neighbor, *mac))
                    .map_err(table_full)?;
            }
        }
        self.drain_loopback(ctx);
        Ok(())
    }

    /// Removes `ip`'s neighbour entry on `device`, static or not (Linux `ip neigh del`);
    /// packets waiting on it fail.
    pub fn remove_neighbor<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        ip: IpAddr,
    ) -> Result<(), DeviceError> {
        let index = self.neighbor_device(device)?;
        let result = match ip {
            IpAddr::V4(addr) => self
                .ip
                .with_arp(ctx, index, |arp, arp_ctx| arp.remove_neighbor(arp_ctx, &addr))
                .map_err(|_| DeviceError::NeighborNotFound),
            IpAddr::V6(addr) => self
                .ip
                .with_nd(ctx, index, |nd, nd_ctx| nd.remove(nd_ctx, &addr))
                .map_err(|_: NudError<Ipv6Addr>| DeviceError::NeighborNotFound),
        };
        self.drain_loopback(ctx);
        result
    }

    /// Removes every neighbour entry of `device`, static ones too, for one IP version or
    /// both (Fuchsia's `Controller.ClearEntries`; Linux `ip neigh flush nud all`). Later
    /// packets resolve their next hops afresh.
    pub fn flush_neighbors<C: StackContext<Frame = F>>(
        &mut self,
        ctx: &mut C,
        device: DeviceId,
        version: Option<IpVersion>,
    ) -> Result<(), DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        if version != Some(IpVersion::V6) {
            self.ip.with_arp(ctx, index, |arp, arp_ctx| arp.flush_all_neighbors(arp_ctx));
        }
        if version != Some(IpVersion::V4) {
            self.ip.with_nd(ctx, index, |nd, nd_ctx| nd.flush_all(nd_ctx));
        }
        self.drain_loopback(ctx);
        Ok(())
    }

    /// The index of `device` if it exists and has neighbours (Ethernet).
    fn neighbor_device(&self, device: DeviceId) -> Result<usize, DeviceError> {
        let index = self.ip.device_index(device).ok_or(DeviceError::NoDevice(device))?;
        match self.ip.devices[index].link {
            Link::Ethernet(_) => Ok(index),
            _ => Err(DeviceError::NotSupported(device)),
        }
    }
}
