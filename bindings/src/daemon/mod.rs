//! `netstack run`: the daemon. Builds the event loop from a [`Config`], creates and brings up
//! the TAP and TUN interfaces, turns IPv6 on for each (on a TAP as Linux does for a new
//! Ethernet interface: a link-local address, DAD, router solicitation; a TUN has no link-layer
//! address, so no link-local address and no DAD), assigns addresses and routes, starts the
//! services, publishes the socket API in the services directory (`--svc-dir`, default
//! `/run/netstack/svc`), prints what it made and how to reach it, and runs until SIGINT or
//! SIGTERM. The interfaces close with their fds on the way out and the services directory's
//! sockets are removed, so nothing is left behind.

pub mod config;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use netstack_core::addr::{
    AddrSubnet, IpAddr, Ipv4Addr, Ipv6, Ipv6Addr, Mac, SpecifiedAddr, Subnet, UnicastAddr,
};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::device::DeviceId;
use netstack_core::ip::routing::{Route, RouteSource};
use netstack_core::stack::default_route;
use netstack_core::transport::SocketError;

pub use config::{Cidr, Config, ConfigError, InterfaceConfig, InterfaceKind};

use crate::admin::{AdminServer, Service};
use crate::device::tuntap::{TunTap, TunTapError, TunTapMode};
use crate::device::{Pool, PoolConfig, SessionConfig};
use crate::eventloop::{EventLoop, LoopConfig, NetStack};
use crate::rng::SmallRng;
use crate::socket::{
    Protocol, ServerConfig, SocketServer, DEFAULT_MAX_SOCKETS, DEFAULT_MAX_SOCKETS_PER_CLIENT,
};
use crate::svc::{SvcAccess, SvcDir, DEFAULT_SVC_DIR, RAW_SOCKET_PROVIDER, SOCKET_PROVIDER};

/// The interface made when `netstack run` is given no interface of its own.
pub const DEFAULT_TAP: &str = "ns0";
/// Its IPv4 address (RFC 5737 TEST-NET-1).
pub const DEFAULT_ADDR: &str = "192.0.2.1/24";
/// Its IPv6 address (RFC 3849 documentation prefix).
pub const DEFAULT_ADDR6: &str = "2001:db8::1/64";

/// The MTU of an interface without `--mtu`.
const DEFAULT_MTU: u32 = 1500;
/// The smallest MTU IPv6 runs over (RFC 8200 §5); Linux turns IPv6 off below it.
const IPV6_MIN_MTU: u32 = 1280;

/// Why the daemon stopped with an error; each message names the cause and the fix.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The stack refused its loopback device (a defect: it starts with none).
    #[error("the loopback device could not be set up: {0}")]
    Loopback(netstack_core::stack::DeviceError),
    /// The settings are unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The gateway is on none of the interfaces' subnets.
    #[error("gateway {0} is not on the subnet of any --addr: add an address on its network first")]
    GatewayOffLink(IpAddr),
    /// The gateway is multicast or unspecified.
    #[error("gateway {0} is not a unicast address: give the router's own address")]
    GatewayNotUnicast(IpAddr),
    /// IPv6 is wanted on an interface whose MTU is too small for it.
    #[error(
        "interface {interface} has MTU {mtu}, below IPv6's minimum of 1280: raise its --mtu or give it no IPv6 address or gateway"
    )]
    Ipv6MtuTooSmall {
        /// The interface.
        interface: String,
        /// Its MTU.
        mtu: u32,
    },
    /// A TAP or TUN interface could not be made.
    #[error(transparent)]
    Interface(#[from] TunTapError),
    /// The services directory could not be set up.
    #[error(transparent)]
    Svc(#[from] crate::svc::SvcError),
    /// The stack refused an address (e.g. given twice).
    #[error("cannot assign {addr} to {interface}: {reason}")]
    Address {
        /// The address.
        addr: Cidr,
        /// The interface.
        interface: String,
        /// Why.
        reason: String,
    },
    /// The stack refused the default route.
    #[error("cannot add the default route via {gateway}: {reason}")]
    Route {
        /// The gateway.
        gateway: IpAddr,
        /// Why.
        reason: String,
    },
    /// An echo service could not bind its port.
    #[error("cannot start the {protocol} echo service on port {port}: {reason}; pick a free port")]
    Echo {
        /// UDP or TCP.
        protocol: &'static str,
        /// The port.
        port: u16,
        /// Why.
        reason: String,
    },
    /// The runtime or signal handlers could not be set up.
    #[error("cannot start the event loop: {0}")]
    Runtime(#[source] std::io::Error),
}

impl DaemonError {
    /// The process exit code: 2 for a command line or config the user must change, 1 for
    /// what went wrong while running.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            DaemonError::Config(_)
            | DaemonError::GatewayOffLink(_)
            | DaemonError::GatewayNotUnicast(_)
            | DaemonError::Ipv6MtuTooSmall { .. } => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }
}

/// An interface as the daemon will make it.
#[derive(Debug)]
struct InterfacePlan {
    name: String,
    kind: InterfaceKind,
    addrs4: Vec<AddrSubnet<Ipv4Addr>>,
    addrs6: Vec<AddrSubnet<Ipv6Addr>>,
    mtu: u32,
}

impl InterfacePlan {
    /// Whether IPv6 runs on it: always, unless the MTU is below IPv6's minimum (as Linux).
    fn ipv6(&self) -> bool {
        self.mtu >= IPV6_MIN_MTU
    }
}

/// What the daemon will make: the interfaces, and each default route's gateway with the index
/// of the interface it is reached through.
#[derive(Debug)]
struct Plan {
    interfaces: Vec<InterfacePlan>,
    gateway4: Option<(usize, Ipv4Addr)>,
    gateway6: Option<(usize, Ipv6Addr)>,
}

/// Checks everything that can be checked before touching the system.
fn plan(config: &Config) -> Result<Plan, DaemonError> {
    let mut taps = Vec::with_capacity(config.interfaces.len());
    for interface in &config.interfaces {
        let mut plan = InterfacePlan {
            name: interface.name.clone(),
            kind: interface.kind,
            addrs4: Vec::new(),
            addrs6: Vec::new(),
            mtu: interface.mtu.unwrap_or(DEFAULT_MTU),
        };
        for &addr in &interface.addrs {
            match addr {
                Cidr::V4(a) => plan.addrs4.push(a),
                Cidr::V6(a) => plan.addrs6.push(a),
            }
        }
        if !plan.addrs6.is_empty() && !plan.ipv6() {
            return Err(DaemonError::Ipv6MtuTooSmall { interface: plan.name, mtu: plan.mtu });
        }
        taps.push(plan);
    }
    let gateway4 = match config.gateway4 {
        None => None,
        Some(gw) => {
            let on_link = taps.iter().position(|t| t.addrs4.iter().any(|a| a.subnet().contains(&gw)));
            Some((on_link.ok_or(DaemonError::GatewayOffLink(gw.into()))?, gw))
        }
    };
    let gateway6 = match config.gateway6 {
        None => None,
        Some(gw) if gw.is_multicast() || gw.is_unspecified() => {
            return Err(DaemonError::GatewayNotUnicast(gw.into()))
        }
        // A link-local gateway names no interface of its own: it is reached through the last
        // one, the interface the options before it were about.
        Some(gw) if gw.is_unicast_link_local() => {
            let last = taps.len().checked_sub(1).ok_or(DaemonError::GatewayOffLink(gw.into()))?;
            Some((last, gw))
        }
        Some(gw) => {
            let on_link = taps.iter().position(|t| t.addrs6.iter().any(|a| a.subnet().contains(&gw)));
            Some((on_link.ok_or(DaemonError::GatewayOffLink(gw.into()))?, gw))
        }
    };
    if let Some((index, _)) = gateway6 {
        let tap = &taps[index];
        if !tap.ipv6() {
            return Err(DaemonError::Ipv6MtuTooSmall { interface: tap.name.clone(), mtu: tap.mtu });
        }
    }
    Ok(Plan { interfaces: taps, gateway4, gateway6 })
}

/// The IPv6 default route via `gateway` on `device`.
fn default_route6(gateway: Ipv6Addr, device: DeviceId) -> Option<Route<Ipv6>> {
    Some(Route {
        subnet: Subnet::new(Ipv6Addr::UNSPECIFIED, 0).ok()?,
        device,
        gateway: Some(SpecifiedAddr::new(gateway)?),
        metric: 0,
        source: RouteSource::Static,
    })
}

/// A locally administered unicast MAC (IEEE 802 U/L bit set, I/G bit clear).
fn random_mac(rng: &mut SmallRng) -> UnicastAddr<Mac> {
    mac_from_bits(rng.next_u64())
}

/// The locally administered unicast MAC made of `bits`' first six bytes (big-endian).
pub(crate) fn mac_from_bits(bits: u64) -> UnicastAddr<Mac> {
    let bytes = bits.to_be_bytes();
    let mut mac = [bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]];
    mac[0] = (mac[0] & 0xfe) | 0x02;
    // The I/G bit is clear, so the address is unicast.
    UnicastAddr::new(Mac::new(mac)).unwrap_or_else(|| unreachable!("I/G bit cleared"))
}

/// Another host address on `addr`'s subnet, for the kernel side to use.
fn peer_address(addr: AddrSubnet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let ours = u32::from_be_bytes(addr.addr().bytes());
    let subnet = addr.subnet();
    [ours.wrapping_add(1), ours.wrapping_sub(1)]
        .into_iter()
        .map(|n| Ipv4Addr::new(n.to_be_bytes()))
        .find(|&a| subnet.contains(&a) && Some(a) != subnet.broadcast() && a != subnet.network())
}

/// Another host address on `addr`'s prefix, for the kernel side to use (never the
/// Subnet-Router anycast address, RFC 4291 §2.6.1).
fn peer_address6(addr: AddrSubnet<Ipv6Addr>) -> Option<Ipv6Addr> {
    let ours = u128::from_be_bytes(addr.addr().bytes());
    let subnet = addr.subnet();
    [ours.wrapping_add(1), ours.wrapping_sub(1)]
        .into_iter()
        .map(|n| Ipv6Addr::new(n.to_be_bytes()))
        .find(|&a| subnet.contains(&a) && a != subnet.network())
}

/// `device`'s link-local address, once IPv6 runs on it.
fn link_local(stack: &NetStack, device: DeviceId) -> Option<AddrSubnet<Ipv6Addr>> {
    stack
        .ipv6_addresses()
        .iter()
        .find(|c| c.device == device && c.addr.addr().is_unicast_link_local())
        .map(|c| c.addr)
}

/// Prints one line of what the daemon made (stdout: tests and scripts read it).
fn say(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "netstack: {line}");
    let _ = out.flush();
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn shutdown_signal() -> Result<impl std::future::Future<Output = &'static str>, DaemonError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(DaemonError::Runtime)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(DaemonError::Runtime)?;
    Ok(std::future::poll_fn(move |cx| {
        if interrupt.poll_recv(cx).is_ready() {
            return std::task::Poll::Ready("SIGINT");
        }
        terminate.poll_recv(cx).map(|_| "SIGTERM")
    }))
}

/// Raises the soft limit on open files to the hard one: each socket holds a few of the
/// daemon's fds (its data plane, a duplicate of the client end, its channels).
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(%error, "cannot raise the open-file limit");
        }
    }
}

/// Runs the daemon with `config` until a signal stops it.
pub fn run(config: Config) -> Result<(), DaemonError> {
    let defaults = config.interfaces.is_empty();
    let config = if defaults {
        let mut config = config;
        let addrs = vec![config::parse_cidr(DEFAULT_ADDR)?, config::parse_cidr(DEFAULT_ADDR6)?];
        config.interfaces.push(InterfaceConfig {
            name: DEFAULT_TAP.to_owned(),
            kind: InterfaceKind::Tap,
            addrs,
            mtu: None,
        });
        config
    } else {
        config
    };
    let Plan { interfaces, gateway4, gateway6 } = plan(&config)?;
    raise_fd_limit();
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(DaemonError::Runtime)?;
    runtime.block_on(async {
        let shutdown = shutdown_signal().await?;
        let max_mtu = interfaces.iter().map(|i| i.mtu).max().unwrap_or(DEFAULT_MTU);
        let mut rng = SmallRng::from_entropy();
        let pool = Pool::new(PoolConfig::for_mtu(max_mtu));
        let mut event_loop = EventLoop::new(LoopConfig::default(), pool, SmallRng::from_seed(rng.next_u64()));
        // Loopback first, as on Linux: 127.0.0.1/8 and ::1, served by the stack itself.
        {
            let (stack, ctx) = event_loop.parts();
            stack.add_loopback_device(ctx).map_err(DaemonError::Loopback)?;
            say(format_args!("lo: loopback 127.0.0.1/8 and ::1/128"));
        }
        // The stack's id of each planned interface that was made.
        let mut devices: Vec<Option<DeviceId>> = Vec::with_capacity(interfaces.len());
        for interface in &interfaces {
            let mode = match interface.kind {
                InterfaceKind::Tap => TunTapMode::Tap,
                InterfaceKind::Tun => TunTapMode::Tun,
            };
            let backend = match TunTap::create(&interface.name, mode, Some(interface.mtu)) {
                Ok(backend) => backend,
                // Without a TAP the default setup still runs on loopback; an interface the
                // user asked for is required.
                Err(
                    error @ (TunTapError::NoTunDevice | TunTapError::NoAccess | TunTapError::NoCapability(_)),
                ) if defaults => {
                    say(format_args!("no TAP interface: {error}"));
                    devices.push(None);
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let name = &interface.name;
            let mtu = interface.mtu;
            let id = match interface.kind {
                InterfaceKind::Tap => {
                    let mac = random_mac(&mut rng);
                    let eth = EthernetConfig { mtu, ..EthernetConfig::default() };
                    let id = event_loop.attach(Box::new(backend), SessionConfig::default(), |stack, ctx| {
                        stack.add_ethernet_device(ctx, mac, eth)
                    });
                    say(format_args!("{name}: TAP interface up, MAC {}, MTU {mtu}", *mac));
                    id
                }
                InterfaceKind::Tun => {
                    // A pure-IP device: packets go out as they are, with no neighbour to
                    // resolve, so there is no ARP, NDP or DAD on it.
                    let id = event_loop.attach(Box::new(backend), SessionConfig::default(), |stack, ctx| {
                        stack.add_pure_ip_device(ctx, mtu)
                    });
                    say(format_args!("{name}: TUN interface up, IP packets without a link layer, MTU {mtu}"));
                    id
                }
            };
            let (stack, ctx) = event_loop.parts();
            if config.forwarding {
                // The device was just added, so it exists. IPv6 forwarding is set before IPv6
                // starts, so the interface starts as a router (no Router Solicitations, RAs
                // ignored: RFC 4861 §6.3.4).
                let _ = stack.set_ipv4_forwarding(id, true);
                let _ = stack.set_ipv6_forwarding(id, true);
            }
            if interface.ipv6() {
                // The device was just added, so it exists.
                let _ = stack.enable_ipv6(ctx, id);
                // Only a TAP has one: a TUN has no hardware address to form it from.
                if let Some(ll) = link_local(stack, id) {
                    say(format_args!("{name}: link-local address {}", Cidr::V6(ll)));
                }
            } else {
                say(format_args!("{name}: no IPv6: MTU {mtu} is below IPv6's minimum of {IPV6_MIN_MTU}"));
            }
            let assign_error = |addr, e: netstack_core::stack::DeviceError| DaemonError::Address {
                addr,
                interface: name.clone(),
                reason: e.to_string(),
            };
            for &addr in &interface.addrs4 {
                stack.add_ipv4_address(ctx, id, addr).map_err(|e| assign_error(Cidr::V4(addr), e))?;
                say(format_args!("{name}: address {}", Cidr::V4(addr)));
                if let Some(peer) = peer_address(addr) {
                    say(format_args!(
                        "{name}: reach it from the host: ip addr add {peer}/{} dev {name} && ping {}",
                        addr.subnet().prefix_len(),
                        *addr.addr()
                    ));
                }
            }
            for &addr in &interface.addrs6 {
                stack.add_ipv6_address(ctx, id, addr).map_err(|e| assign_error(Cidr::V6(addr), e))?;
                match interface.kind {
                    InterfaceKind::Tap => {
                        say(format_args!("{name}: address {} (usable once DAD passes)", Cidr::V6(addr)))
                    }
                    InterfaceKind::Tun => say(format_args!("{name}: address {}", Cidr::V6(addr))),
                }
                if let Some(peer) = peer_address6(addr) {
                    say(format_args!(
                        "{name}: reach it from the host: ip -6 addr add {peer}/{} dev {name} && ping {}",
                        addr.subnet().prefix_len(),
                        *addr.addr()
                    ));
                }
            }
            devices.push(Some(id));
        }
        let (stack, _) = event_loop.parts();
        if let Some((index, gw)) = gateway4 {
            match devices[index].and_then(|d| default_route(gw, d)) {
                Some(route) => {
                    stack
                        .add_ipv4_route(route)
                        .map_err(|e| DaemonError::Route { gateway: gw.into(), reason: e.to_string() })?;
                    say(format_args!("default route via {gw} on {}", interfaces[index].name));
                }
                None => say(format_args!("no default route: the interface to {gw} was not created")),
            }
        }
        if let Some((index, gw)) = gateway6 {
            match devices[index].and_then(|d| default_route6(gw, d)) {
                Some(route) => {
                    stack
                        .add_ipv6_route(route)
                        .map_err(|e| DaemonError::Route { gateway: gw.into(), reason: e.to_string() })?;
                    say(format_args!("default route via {gw} on {}", interfaces[index].name));
                }
                None => say(format_args!("no IPv6 default route: the interface to {gw} was not created")),
            }
        }
        for &port in &config.udp_echo {
            let echo = |e: SocketError| DaemonError::Echo { protocol: "UDP", port, reason: e.to_string() };
            event_loop.start_udp_echo(port).map_err(echo)?;
            say(format_args!("UDP echo service on port {port}"));
        }
        for &port in &config.tcp_echo {
            let echo = |e: SocketError| DaemonError::Echo { protocol: "TCP", port, reason: e.to_string() };
            event_loop.start_tcp_echo(port).map_err(echo)?;
            say(format_args!("TCP echo service on port {port}"));
        }
        for &(addr, port) in &config.tcp_echo_to {
            let echo = |e: SocketError| DaemonError::Echo { protocol: "TCP", port, reason: e.to_string() };
            event_loop.start_tcp_echo_to(addr, port).map_err(echo)?;
            say(format_args!("TCP echo service connecting to {addr} port {port}"));
        }
        // Published last, once everything else worked: a daemon that fails to start never
        // takes the svc dir from another one.
        let svc_path = config.svc_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_SVC_DIR));
        let access = SvcAccess { group: config.svc_group };
        let mut svc = SvcDir::publish(&svc_path, access, crate::manifest::EXPOSED_PROTOCOLS)?;
        let limits = ServerConfig {
            max_sockets: config.max_sockets.unwrap_or(DEFAULT_MAX_SOCKETS),
            max_sockets_per_client: config.max_sockets_per_client.unwrap_or(DEFAULT_MAX_SOCKETS_PER_CLIENT),
        };
        let mut server = SocketServer::new(limits).map_err(DaemonError::Runtime)?;
        for (protocol, kind) in [(SOCKET_PROVIDER, Protocol::Socket), (RAW_SOCKET_PROVIDER, Protocol::Raw)] {
            if let Some(listener) = svc.take_listener(protocol) {
                server.serve(listener, kind).map_err(DaemonError::Runtime)?;
            }
        }
        event_loop.serve_sockets(server);
        let mut admin = AdminServer::new(max_mtu).map_err(DaemonError::Runtime)?;
        for service in Service::ALL {
            if let Some(listener) = svc.take_listener(service.name()) {
                admin.serve(listener, service).map_err(DaemonError::Runtime)?;
            }
        }
        event_loop.serve_admin(admin);
        say(format_args!(
            "serving the admin protocols ({}) in {}",
            crate::admin::SERVICE_NAMES.join(", "),
            svc.path().display()
        ));
        say(format_args!(
            "serving {SOCKET_PROVIDER} and {RAW_SOCKET_PROVIDER} in {} (at most {} sockets, {} per client)",
            svc.path().display(),
            limits.max_sockets,
            limits.max_sockets_per_client
        ));
        if devices.iter().all(Option::is_none) {
            say(format_args!("running with no interfaces"));
        }
        say(format_args!("ready (SIGINT or SIGTERM stops it)"));
        let stopped_by = std::cell::Cell::new("");
        event_loop
            .run_until(async {
                stopped_by.set(shutdown.await);
            })
            .await;
        tracing::info!(signal = stopped_by.get(), counters = ?event_loop.parts().1.counters(), "stopping");
        if let Some(server) = event_loop.socket_server() {
            tracing::info!(counters = ?server.counters(), "socket server stopping");
        }
        if let Some(server) = event_loop.admin_server() {
            tracing::info!(counters = ?server.counters(), "admin server stopping");
        }
        // Every channel and data plane closes with the loop, so clients fail instead of hanging.
        drop(event_loop);
        drop(svc);
        say(format_args!("stopped by {}; interfaces removed", stopped_by.get()));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(a: &[&str]) -> Config {
        Config::from_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn ipv6_addresses_are_planned_beside_ipv4_ones() {
        let plan =
            plan(&config(&["--tap", "t", "--addr", "2001:db8::1/64", "--addr", "192.0.2.1/24"])).unwrap();
        let tap = &plan.interfaces[0];
        assert_eq!(tap.addrs4.len(), 1);
        assert_eq!(
            tap.addrs6.iter().map(|a| Cidr::V6(*a).to_string()).collect::<Vec<_>>(),
            ["2001:db8::1/64"]
        );
        assert!(tap.ipv6(), "IPv6 runs on every TAP with a large enough MTU");
        let small = plan_err(&["--tap", "t", "--mtu", "1279", "--addr", "2001:db8::1/64"]);
        assert!(matches!(&small, DaemonError::Ipv6MtuTooSmall { mtu: 1279, .. }), "{small}");
        assert_eq!(small.exit_code(), ExitCode::from(2));
        // An IPv4-only interface may still have a small MTU; it just runs without IPv6.
        let plan = super::plan(&config(&["--tap", "t", "--mtu", "576", "--addr", "192.0.2.1/24"])).unwrap();
        assert!(!plan.interfaces[0].ipv6());
    }

    #[test]
    fn a_tun_is_planned_like_a_tap_and_keeps_its_kind() {
        let plan = plan(&config(&[
            "--tap",
            "a",
            "--addr",
            "192.0.2.1/24",
            "--tun",
            "t",
            "--addr",
            "2001:db8:1::1/64",
            "--gateway",
            "2001:db8:1::fe",
        ]))
        .unwrap();
        let kinds: Vec<_> = plan.interfaces.iter().map(|i| (i.name.as_str(), i.kind)).collect();
        assert_eq!(kinds, [("a", InterfaceKind::Tap), ("t", InterfaceKind::Tun)]);
        assert_eq!(plan.interfaces[1].addrs6.len(), 1);
        assert_eq!(plan.gateway6, Some((1, "2001:db8:1::fe".parse().unwrap())));
        // A link-local gateway goes through the last interface, a TUN as well as a TAP.
        let plan = super::plan(&config(&["--tap", "a", "--tun", "t", "--gateway", "fe80::1"])).unwrap();
        assert_eq!(plan.gateway6, Some((1, "fe80::1".parse().unwrap())));
        // IPv6 needs 1280 bytes on a TUN too.
        let err = plan_err(&["--tun", "t", "--mtu", "1000", "--addr", "2001:db8::1/64"]);
        assert!(matches!(&err, DaemonError::Ipv6MtuTooSmall { interface, .. } if interface == "t"), "{err}");
    }

    fn plan_err(a: &[&str]) -> DaemonError {
        plan(&config(a)).unwrap_err()
    }

    #[test]
    fn one_gateway_per_ip_version_each_on_its_own_interface() {
        let plan = plan(&config(&[
            "--tap",
            "a",
            "--addr",
            "192.0.2.1/24",
            "--tap",
            "b",
            "--addr",
            "2001:db8:1::1/64",
            "--gateway",
            "2001:db8:1::fe",
            "--gateway",
            "192.0.2.254",
        ]))
        .unwrap();
        assert_eq!(plan.gateway4, Some((0, "192.0.2.254".parse().unwrap())));
        assert_eq!(plan.gateway6, Some((1, "2001:db8:1::fe".parse().unwrap())));
        let err = plan_err(&["--tap", "a", "--addr", "2001:db8:1::1/64", "--gateway", "2001:db8:2::fe"]);
        assert_eq!(
            err.to_string(),
            "gateway 2001:db8:2::fe is not on the subnet of any --addr: add an address on its network first"
        );
        assert_eq!(err.exit_code(), ExitCode::from(2));
        // An IPv4 address does not make an IPv6 gateway on-link, nor the other way round.
        let err = plan_err(&["--tap", "a", "--addr", "192.0.2.1/24", "--gateway", "2001:db8::fe"]);
        assert!(matches!(err, DaemonError::GatewayOffLink(IpAddr::V6(_))), "{err}");
    }

    #[test]
    fn a_link_local_ipv6_gateway_is_reached_through_the_last_interface() {
        let plan = plan(&config(&["--tap", "a", "--tap", "b", "--gateway", "fe80::1"])).unwrap();
        assert_eq!(plan.gateway6, Some((1, "fe80::1".parse().unwrap())));
        let plan = super::plan(&config(&["--gateway", "fe80::1"]));
        // Without --tap the default interface is added later; with none at all there is nowhere
        // to reach the gateway.
        assert!(matches!(plan, Err(DaemonError::GatewayOffLink(_))));
        let err = plan_err(&["--tap", "a", "--mtu", "1000", "--gateway", "fe80::1"]);
        assert!(matches!(err, DaemonError::Ipv6MtuTooSmall { .. }), "{err}");
        for bad in ["ff02::2", "::"] {
            let err = plan_err(&["--tap", "a", "--addr", "2001:db8::1/0", "--gateway", bad]);
            assert!(matches!(err, DaemonError::GatewayNotUnicast(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn the_default_route_via_an_ipv6_gateway_covers_everything() {
        let device = DeviceId::new(3);
        let route = default_route6("fe80::1".parse().unwrap(), device).unwrap();
        assert_eq!(route.subnet.prefix_len(), 0);
        assert_eq!(route.device, device);
        assert_eq!(route.gateway.map(|g| g.to_string()).as_deref(), Some("fe80::1"));
        assert!(default_route6(Ipv6Addr::UNSPECIFIED, device).is_none());
    }

    #[test]
    fn the_gateway_must_be_on_an_interface_subnet() {
        let plan = plan(&config(&[
            "--tap",
            "a",
            "--tap",
            "b",
            "--addr",
            "198.51.100.1/24",
            "--gateway",
            "198.51.100.254",
        ]))
        .unwrap();
        assert_eq!(plan.interfaces.len(), 2);
        assert_eq!(plan.interfaces[0].mtu, DEFAULT_MTU);
        assert_eq!(plan.gateway4, Some((1, "198.51.100.254".parse().unwrap())));
        assert_eq!(plan.gateway6, None);
        let err = plan_err(&["--tap", "a", "--addr", "192.0.2.1/24", "--gateway", "198.51.100.254"]);
        assert!(matches!(err, DaemonError::GatewayOffLink(_)), "{err}");
    }

    #[test]
    fn the_kernel_side_gets_a_neighbouring_address() {
        let addr = |s| match config::parse_cidr(s).unwrap() {
            Cidr::V4(a) => a,
            Cidr::V6(_) => unreachable!(),
        };
        assert_eq!(peer_address(addr("192.0.2.1/24")), Some("192.0.2.2".parse().unwrap()));
        assert_eq!(peer_address(addr("192.0.2.254/24")), Some("192.0.2.253".parse().unwrap()));
        assert_eq!(peer_address(addr("192.0.2.1/32")), None);
        let addr6 = |s| match config::parse_cidr(s).unwrap() {
            Cidr::V6(a) => a,
            Cidr::V4(_) => unreachable!(),
        };
        assert_eq!(peer_address6(addr6("2001:db8::1/64")), Some("2001:db8::2".parse().unwrap()));
        assert_eq!(
            peer_address6(addr6("2001:db8::ffff:ffff:ffff:ffff/64")),
            Some("2001:db8::ffff:ffff:ffff:fffe".parse().unwrap())
        );
        // ::0 of a /127 would be the Subnet-Router anycast address.
        assert_eq!(peer_address6(addr6("2001:db8::1/127")), None);
        assert_eq!(peer_address6(addr6("2001:db8::1/128")), None);
    }

    #[test]
    fn macs_are_locally_administered_unicast() {
        let mut rng = SmallRng::from_seed(9);
        for _ in 0..100 {
            let mac = random_mac(&mut rng);
            let first = mac.bytes()[0];
            assert_eq!(first & 0x03, 0x02);
        }
    }
}
