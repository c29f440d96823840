//! `netstack.admin/Interfaces` (our own library, `fidl/sdk/netstack.admin/admin.fidl`): TAP
//! and TUN interfaces made at run time, MTU, and packet capture.
//!
//! `CreateInterface` makes the Linux device ([`TunTap`]), adds it to the stack (an Ethernet
//! device with a random locally administered MAC for a TAP, a pure-IP device for a TUN; IPv6
//! on when the MTU allows, as for the daemon's own interfaces) and attaches it to the
//! running loop as a new session, *disabled*: like a new Linux link it stays offline until
//! `fuchsia.net.interfaces.admin/Control.Enable`. `Control.Remove` removes it again, and its
//! Linux device with it.
//!
//! `SetMtu` sets the MTU of the Linux device first (the kernel refuses values it cannot
//! carry), then the stack's, bounded by what the loop's frame pool holds
//! (`ZX_ERR_OUT_OF_RANGE` beyond). `StartCapture` starts a capture tap on the interface's
//! session ([`crate::device::capture`]); the loopback device has no session and cannot be
//! captured (`ZX_ERR_NOT_SUPPORTED`).

use std::os::fd::OwnedFd;

use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::device::DeviceId;
use netstack_core::stack::DeviceError;
use netstack_fidl::netstack_admin::{
    interfaces, CaptureOptions, InterfaceKind, InterfaceSpec, InterfacesRequest, LinkType,
};
use netstack_fidl::wire::DecodeError;
use netstack_fidl::zx;

use super::{AdminServer, Payload, Request};
use crate::device::capture::CaptureError;
use crate::device::tuntap::{TunTap, TunTapError, TunTapMode};
use crate::device::{LinkKind, SessionConfig};
use crate::eventloop::{BindingsCtx, NetStack};

/// The MTU of an interface whose spec gives none.
const DEFAULT_MTU: u32 = 1500;
/// The smallest MTU IPv6 runs over (RFC 8200 §5).
const IPV6_MIN_MTU: u32 = 1280;

/// Serves one request of a `netstack.admin/Interfaces` connection.
pub(super) fn interfaces_request(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    request: Request,
    payload: Payload<'_>,
) -> Result<(), DecodeError> {
    match payload.decode(InterfacesRequest::decode)? {
        InterfacesRequest::CreateInterface { spec } => {
            let result = create_interface(server, stack, ctx, spec);
            server.reply::<interfaces::CreateInterface>(request, result);
        }
        InterfacesRequest::SetMtu { id, mtu } => {
            let result = set_mtu(server, stack, ctx, id, mtu);
            server.reply::<interfaces::SetMtu>(request, result);
        }
        InterfacesRequest::GetMtu { id } => {
            let result =
                device(id).and_then(|d| stack.device_info(d)).map(|info| info.mtu).ok_or(zx::ERR_NOT_FOUND);
            server.reply::<interfaces::GetMtu>(request, result);
        }
        InterfacesRequest::StartCapture { id, options } => {
            let result = start_capture(server, ctx, id, options);
            server.reply::<interfaces::StartCapture>(request, result);
        }
    }
    Ok(())
}

/// The stack's device numbered `id`, if `id` can be one.
pub(super) fn device(id: u64) -> Option<DeviceId> {
    u32::try_from(id).ok().filter(|&n| n != 0).map(DeviceId::new)
}

fn create_interface(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    spec: InterfaceSpec,
) -> Result<u64, zx::Status> {
    let (Some(name), Some(kind)) = (spec.name, spec.kind) else { return Err(zx::ERR_INVALID_ARGS) };
    let mtu = spec.mtu.unwrap_or(DEFAULT_MTU);
    if mtu < netstack_core::stack::MIN_IPV4_MTU || mtu > server.max_mtu {
        return Err(zx::ERR_OUT_OF_RANGE);
    }
    if ctx.sessions().iter().any(|s| s.backend.name() == name) {
        return Err(zx::ERR_ALREADY_EXISTS);
    }
    let mode = match kind {
        InterfaceKind::Tap => TunTapMode::Tap,
        InterfaceKind::Tun => TunTapMode::Tun,
    };
    let backend = TunTap::create(&name, mode, Some(mtu)).map_err(|error| {
        tracing::info!(%error, "CreateInterface failed");
        match error {
            TunTapError::NoTunDevice => zx::ERR_NOT_SUPPORTED,
            TunTapError::NoAccess | TunTapError::NoCapability(_) => zx::ERR_ACCESS_DENIED,
            TunTapError::NameInUse(_) => zx::ERR_ALREADY_EXISTS,
            TunTapError::BadName(_) => zx::ERR_INVALID_ARGS,
            TunTapError::Io { .. } => zx::ERR_INTERNAL,
        }
    })?;
    let device = match mode {
        TunTapMode::Tap => {
            let mac = crate::daemon::mac_from_bits(netstack_core::context::RngContext::random_u64(ctx));
            stack.add_ethernet_device(ctx, mac, EthernetConfig { mtu, ..EthernetConfig::default() })
        }
        TunTapMode::Tun => stack.add_pure_ip_device(ctx, mtu),
    };
    if mtu >= IPV6_MIN_MTU {
        // The device was just added, so it exists.
        let _ = stack.enable_ipv6(ctx, device);
    }
    let _ = stack.set_device_enabled(ctx, device, false);
    ctx.attach_session(device, Box::new(backend), SessionConfig::default());
    server.created.insert(device);
    server.dirty.interfaces.insert(device);
    server.counters.interfaces_created += 1;
    tracing::info!(name, ?mode, mtu, id = device.get(), "interface created");
    Ok(u64::from(device.get()))
}

fn set_mtu(
    server: &mut AdminServer,
    stack: &mut NetStack,
    ctx: &mut BindingsCtx,
    id: u64,
    mtu: u32,
) -> Result<(), zx::Status> {
    let device = device(id).filter(|&d| stack.device_info(d).is_some()).ok_or(zx::ERR_NOT_FOUND)?;
    if mtu < netstack_core::stack::MIN_IPV4_MTU || mtu > server.max_mtu {
        return Err(zx::ERR_OUT_OF_RANGE);
    }
    if let Some(session) = ctx.session_mut(device) {
        session.backend.set_mtu(mtu).map_err(|error| {
            tracing::info!(%error, "SetMtu: the kernel refused");
            zx::ERR_OUT_OF_RANGE
        })?;
    }
    stack.set_mtu(ctx, device, mtu, server.max_mtu).map_err(|e| match e {
        DeviceError::MtuOutOfRange { .. } => zx::ERR_OUT_OF_RANGE,
        DeviceError::NoDevice(_) => zx::ERR_NOT_FOUND,
        _ => zx::ERR_INTERNAL,
    })?;
    server.dirty.interfaces.insert(device);
    Ok(())
}

fn start_capture(
    server: &mut AdminServer,
    ctx: &mut BindingsCtx,
    id: u64,
    options: CaptureOptions,
) -> Result<(OwnedFd, LinkType), zx::Status> {
    let device = device(id).ok_or(zx::ERR_NOT_FOUND)?;
    let Some(session) = ctx.session_mut(device) else {
        // The loopback device (or no device at all).
        return Err(zx::ERR_NOT_SUPPORTED);
    };
    let link = match session.backend.link() {
        LinkKind::Ethernet => LinkType::Ethernet,
        LinkKind::PureIp => LinkType::Raw,
    };
    let fd = session.captures.start(options.snaplen.unwrap_or(0)).map_err(|e| match e {
        CaptureError::TooMany => zx::ERR_NO_RESOURCES,
        CaptureError::Socket(_) => zx::ERR_NO_RESOURCES,
    })?;
    server.counters.captures_started += 1;
    Ok((fd, link))
}
