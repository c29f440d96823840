//! `netstack run`: the daemon. Builds the event loop from a [`Config`], creates and brings up
//! the TAP interfaces, assigns addresses and routes, starts the services, prints what it made
//! and how to reach it, and runs until SIGINT or SIGTERM. The interfaces close with their fds
//! on the way out, so nothing is left behind.

pub mod config;

use std::io::Write;
use std::process::ExitCode;

use netstack_core::addr::{AddrSubnet, IpAddr, Ipv4Addr, Mac, UnicastAddr};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::device::DeviceId;
use netstack_core::stack::default_route;

pub use config::{Cidr, Config, ConfigError, TapConfig};

use crate::device::tuntap::{TunTap, TunTapError, TunTapMode};
use crate::device::{Pool, PoolConfig, SessionConfig};
use crate::eventloop::{EventLoop, LoopConfig};
use crate::rng::SmallRng;

/// The interface made when `netstack run` is given no interface of its own.
pub const DEFAULT_TAP: &str = "ns0";
/// The address it gets (RFC 5737 TEST-NET-1).
pub const DEFAULT_ADDR: &str = "192.0.2.1/24";

/// The MTU of an interface without `--mtu`.
const DEFAULT_MTU: u32 = 1500;

/// Why the daemon stopped with an error; each message names the cause and the fix.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The settings are unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An IPv6 address or gateway: the core cannot take them yet.
    #[error("IPv6 addresses are not supported yet")]
    Ipv6Unsupported,
    /// The gateway is on none of the interfaces' subnets.
    #[error("gateway {0} is not on the subnet of any --addr: add an address on its network first")]
    GatewayOffLink(Ipv4Addr),
    /// A TAP interface could not be made.
    #[error(transparent)]
    Tap(#[from] TunTapError),
    /// The services directory could not be made.
    #[error("cannot create the services directory '{}': {source}; pick a writable --svc-dir", .path.display())]
    SvcDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
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
    /// The echo service could not bind its port.
    #[error("cannot start the UDP echo service on port {port}: {reason}")]
    Echo {
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
            DaemonError::Config(_) | DaemonError::Ipv6Unsupported | DaemonError::GatewayOffLink(_) => {
                ExitCode::from(2)
            }
            _ => ExitCode::from(1),
        }
    }
}

/// An interface as the daemon will make it: IPv4 addresses only until the core's IPv6 API
/// exists.
#[derive(Debug)]
struct TapPlan {
    name: String,
    addrs: Vec<AddrSubnet<Ipv4Addr>>,
    mtu: u32,
}

/// The one place that decides which addresses the stack can take. When the core gains
/// `Stack::add_ipv6_address`, the `V6` arm becomes a plan entry like `V4`.
fn plan_address(cidr: Cidr) -> Result<AddrSubnet<Ipv4Addr>, DaemonError> {
    match cidr {
        Cidr::V4(addr) => Ok(addr),
        Cidr::V6(_) => Err(DaemonError::Ipv6Unsupported),
    }
}

/// The default route's gateway and the index of the interface it is reached through.
type GatewayPlan = Option<(usize, Ipv4Addr)>;

/// Checks everything that can be checked before touching the system.
fn plan(config: &Config) -> Result<(Vec<TapPlan>, GatewayPlan), DaemonError> {
    let taps = config
        .taps
        .iter()
        .map(|tap| {
            let addrs = tap.addrs.iter().map(|&a| plan_address(a)).collect::<Result<_, _>>()?;
            Ok(TapPlan { name: tap.name.clone(), addrs, mtu: tap.mtu.unwrap_or(DEFAULT_MTU) })
        })
        .collect::<Result<Vec<_>, DaemonError>>()?;
    let gateway = match config.gateway {
        None => None,
        Some(IpAddr::V6(_)) => return Err(DaemonError::Ipv6Unsupported),
        Some(IpAddr::V4(gw)) => {
            let on_link = taps.iter().position(|t| t.addrs.iter().any(|a| a.subnet().contains(&gw)));
            Some((on_link.ok_or(DaemonError::GatewayOffLink(gw))?, gw))
        }
    };
    Ok((taps, gateway))
}

/// A locally administered unicast MAC (IEEE 802 U/L bit set, I/G bit clear).
fn random_mac(rng: &mut SmallRng) -> UnicastAddr<Mac> {
    let bytes = rng.next_u64().to_be_bytes();
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

/// Runs the daemon with `config` until a signal stops it.
pub fn run(config: Config) -> Result<(), DaemonError> {
    let defaults = config.taps.is_empty();
    let config = if defaults {
        let mut config = config;
        let addr = config::parse_cidr(DEFAULT_ADDR)?;
        config.taps.push(TapConfig { name: DEFAULT_TAP.to_owned(), addrs: vec![addr], mtu: None });
        config
    } else {
        config
    };
    let (taps, gateway) = plan(&config)?;
    if let Some(dir) = &config.svc_dir {
        std::fs::create_dir_all(dir).map_err(|source| DaemonError::SvcDir { path: dir.clone(), source })?;
    }
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(DaemonError::Runtime)?;
    runtime.block_on(async {
        let shutdown = shutdown_signal().await?;
        let max_mtu = taps.iter().map(|t| t.mtu).max().unwrap_or(DEFAULT_MTU);
        let mut rng = SmallRng::from_entropy();
        let pool = Pool::new(PoolConfig::for_mtu(max_mtu));
        let mut event_loop = EventLoop::new(LoopConfig::default(), pool, SmallRng::from_seed(rng.next_u64()));
        let mut devices: Vec<(DeviceId, &TapPlan)> = Vec::new();
        for tap in &taps {
            let backend = match TunTap::create(&tap.name, TunTapMode::Tap, Some(tap.mtu)) {
                Ok(backend) => backend,
                // Without a TAP the default setup still runs (loopback joins it when the core
                // has loopback devices); an interface the user asked for is required.
                Err(
                    error @ (TunTapError::NoTunDevice | TunTapError::NoAccess | TunTapError::NoCapability(_)),
                ) if defaults => {
                    say(format_args!("no TAP interface: {error}"));
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let mac = random_mac(&mut rng);
            let eth = EthernetConfig { mtu: tap.mtu, ..EthernetConfig::default() };
            let id = event_loop.attach(Box::new(backend), SessionConfig::default(), |stack, ctx| {
                stack.add_ethernet_device(ctx, mac, eth)
            });
            say(format_args!("{}: TAP interface up, MAC {}, MTU {}", tap.name, *mac, tap.mtu));
            let (stack, ctx) = event_loop.parts();
            for &addr in &tap.addrs {
                stack.add_ipv4_address(ctx, id, addr).map_err(|e| DaemonError::Address {
                    addr: Cidr::V4(addr),
                    interface: tap.name.clone(),
                    reason: e.to_string(),
                })?;
                say(format_args!("{}: address {}", tap.name, Cidr::V4(addr)));
                if let Some(peer) = peer_address(addr) {
                    say(format_args!(
                        "{}: reach it from the host: ip addr add {}/{} dev {} && ping {}",
                        tap.name,
                        peer,
                        addr.subnet().prefix_len(),
                        tap.name,
                        *addr.addr()
                    ));
                }
            }
            if config.forwarding {
                // The device was just added, so it exists.
                let _ = stack.set_ipv4_forwarding(id, true);
            }
            devices.push((id, tap));
        }
        if let Some((index, gw)) = gateway {
            let device = devices.iter().find(|(_, t)| t.name == taps[index].name).map(|&(id, _)| id);
            match device.and_then(|d| default_route(gw, d)) {
                Some(route) => {
                    let (stack, _) = event_loop.parts();
                    stack.add_ipv4_route(route).map_err(|e| DaemonError::Address {
                        addr: Cidr::V4(taps[index].addrs[0]),
                        interface: taps[index].name.clone(),
                        reason: format!("default route via {gw}: {e}"),
                    })?;
                    say(format_args!("default route via {gw}"));
                }
                None => say(format_args!("no default route: the interface to {gw} was not created")),
            }
        }
        for &port in &config.udp_echo {
            event_loop.start_udp_echo(port).map_err(|e| DaemonError::Echo { port, reason: e.to_string() })?;
            say(format_args!("UDP echo service on port {port}"));
        }
        if let Some(dir) = &config.svc_dir {
            say(format_args!("services directory {} (no protocols published yet)", dir.display()));
        }
        if devices.is_empty() {
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
        drop(event_loop);
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
    fn ipv6_is_refused_in_one_place_until_the_core_takes_it() {
        let err = plan(&config(&["--tap", "t", "--addr", "2001:db8::1/64"])).unwrap_err();
        assert_eq!(err.to_string(), "IPv6 addresses are not supported yet");
        assert_eq!(err.exit_code(), ExitCode::from(2));
        assert!(matches!(plan(&config(&["--gateway", "2001:db8::ff"])), Err(DaemonError::Ipv6Unsupported)));
    }

    #[test]
    fn the_gateway_must_be_on_an_interface_subnet() {
        let (taps, gw) = plan(&config(&[
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
        assert_eq!(taps.len(), 2);
        assert_eq!(taps[0].mtu, DEFAULT_MTU);
        assert_eq!(gw, Some((1, "198.51.100.254".parse().unwrap())));
        let err = plan(&config(&["--tap", "a", "--addr", "192.0.2.1/24", "--gateway", "198.51.100.254"]))
            .unwrap_err();
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
