//! `netstack if`: list and show interfaces (the `fuchsia.net.interfaces` watcher read until
//! `Idle`, with MTUs from `netstack.admin` and MACs from `fuchsia.net.root`), add and remove
//! addresses, bring interfaces up and down (`fuchsia.net.interfaces.admin/Control`), set the
//! MTU, and create or remove TAP/TUN interfaces at run time (`netstack.admin`).
//!
//! An address added here persists: the CLI waits for `OnAddressAdded` and then calls
//! `Detach`, so closing its `AddressStateProvider` does not take the address away again.

use std::net::IpAddr;
use std::time::Duration;

use netstack_fidl::client::{ClientError, SyncClient};
use netstack_fidl::fuchsia_hardware_network as hw;
use netstack_fidl::fuchsia_net::{IpAddress, Subnet};
use netstack_fidl::fuchsia_net_interfaces::{
    self as interfaces, state, watcher, AddressAssignmentState, AddressPropertiesInterest, Event, PortClass,
    PreferredLifetimeInfo, Properties, WatcherOptions,
};
use netstack_fidl::fuchsia_net_interfaces_admin::{
    address_state_provider, control, AddressParameters, AddressProperties, AddressStateProviderEvent,
    Configuration, ControlEvent, Ipv4Configuration, Ipv6Configuration,
};
use netstack_fidl::fuchsia_net_root::{self as root, interfaces as root_interfaces};
use netstack_fidl::netstack_admin::{self as admin, InterfaceKind, InterfaceSpec};
use netstack_fidl::zx;
use serde_json::{json, Value};

use super::args::{parse_cidr, parse_iface_name, parse_lifetime, parse_number, Args, IfaceRef};
use super::svc::{call_failed, channel_pair, status_text};
use super::table::{or_dash, Align, Table};
use super::{CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack if list
       netstack if show IFACE
       netstack if add-addr IFACE ADDR/PREFIX [--valid-lifetime S] [--preferred-lifetime S]
       netstack if del-addr IFACE ADDR/PREFIX
       netstack if up IFACE
       netstack if down IFACE
       netstack if set-mtu IFACE MTU
       netstack if set-forwarding IFACE on|off [-4|-6]
       netstack if add NAME --kind tap|tun [--mtu N]
       netstack if del IFACE

IFACE is an interface's name or its id. Addresses added with add-addr stay until del-addr
(or until their valid lifetime, in seconds or 'forever', ends); the prefix route of the
address's subnet comes with it. 'add' creates a Linux TAP or TUN device and attaches it as
a new interface, down until 'up'; 'del' removes such an interface. The MTU goes from 68 up
to the largest --mtu the daemon started with (that sizes its frame buffers). set-forwarding
lets packets arriving on IFACE be forwarded (both IP versions unless -4 or -6).

Examples:
  netstack if list
  netstack if add-addr ns0 198.51.100.1/24
  netstack if add-addr ns0 2001:db8:1::1/64 --valid-lifetime 3600 --preferred-lifetime 1800
  netstack if set-mtu ns0 1400
  netstack if set-forwarding ns0 on -4
  netstack if add tap1 --kind tap --mtu 1400 && netstack if up tap1
";

/// Linux's smallest MTU for an interface (IPv4's 68 octets) and the largest we take.
const MIN_MTU: u32 = 68;
const MAX_MTU: u32 = 65535;

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    let mut args = Args::new("if", words);
    match args.next() {
        None | Some("list" | "ls") => {
            args.finish()?;
            list(ctx)
        }
        Some("show") => {
            let iface = IfaceRef(args.required("IFACE")?.to_owned());
            args.finish()?;
            show(ctx, &iface)
        }
        Some("add-addr") => add_addr(ctx, &mut args),
        Some("del-addr") => {
            let iface = IfaceRef(args.required("IFACE")?.to_owned());
            let subnet = args.positional("ADDR/PREFIX", parse_cidr)?;
            args.finish()?;
            del_addr(ctx, &iface, subnet)
        }
        Some(command @ ("up" | "down")) => {
            let iface = IfaceRef(args.required("IFACE")?.to_owned());
            args.finish()?;
            set_enabled(ctx, &iface, command == "up")
        }
        Some("set-mtu") => {
            let iface = IfaceRef(args.required("IFACE")?.to_owned());
            let mtu = args.positional("MTU", parse_number(MIN_MTU, MAX_MTU))?;
            args.finish()?;
            set_mtu(ctx, &iface, mtu)
        }
        Some("set-forwarding") => {
            let iface = IfaceRef(args.required("IFACE")?.to_owned());
            let on = args.positional("on|off", parse_on_off)?;
            let (mut v4, mut v6) = (true, true);
            while let Some(word) = args.next() {
                match word {
                    "-4" => v6 = false,
                    "-6" => v4 = false,
                    other => return Err(args.unexpected(other)),
                }
            }
            if !(v4 || v6) {
                return Err(args.usage("'-4' and '-6' exclude each other".to_owned()));
            }
            set_forwarding(ctx, &iface, on, v4, v6)
        }
        Some("add") => add(ctx, &mut args),
        Some("del") => {
            let iface = IfaceRef(args.required("IFACE")?.to_owned());
            args.finish()?;
            del(ctx, &iface)
        }
        Some(other) => Err(args.usage(format!("unknown command '{other}'"))),
    }
}

/// An interface as the watcher describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Iface {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) online: bool,
    pub(crate) class: &'static str,
    pub(crate) addresses: Vec<Addr>,
    pub(crate) default_v4: bool,
    pub(crate) default_v6: bool,
}

/// An address of an interface.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Addr {
    pub(crate) addr: IpAddr,
    pub(crate) prefix: u8,
    pub(crate) state: &'static str,
    /// `CLOCK_MONOTONIC` nanoseconds; `zx::TIME_INFINITE` for never.
    pub(crate) valid_until: i64,
    /// `None` when deprecated.
    pub(crate) preferred_until: Option<i64>,
}

impl Iface {
    /// The interface an `Existing` or `Added` event describes.
    pub(crate) fn from_properties(properties: &Properties) -> Self {
        let mut iface = Iface {
            id: properties.id.unwrap_or(0),
            name: String::new(),
            online: false,
            class: "unknown",
            addresses: Vec::new(),
            default_v4: false,
            default_v6: false,
        };
        iface.apply(properties);
        iface
    }

    /// Applies the fields a `Changed` event carries.
    pub(crate) fn apply(&mut self, properties: &Properties) {
        if let Some(name) = &properties.name {
            self.name = name.clone();
        }
        if let Some(online) = properties.online {
            self.online = online;
        }
        if let Some(class) = &properties.port_class {
            self.class = port_class_name(class);
        }
        if let Some(addresses) = &properties.addresses {
            self.addresses = addresses.iter().filter_map(Addr::from_fidl).collect();
        }
        if let Some(v4) = properties.has_default_ipv4_route {
            self.default_v4 = v4;
        }
        if let Some(v6) = properties.has_default_ipv6_route {
            self.default_v6 = v6;
        }
    }

    fn to_json(&self, mtu: Option<u32>, mac: Option<[u8; 6]>) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "online": self.online,
            "class": self.class,
            "mtu": mtu,
            "mac": mac.map(format_mac),
            "has_default_ipv4_route": self.default_v4,
            "has_default_ipv6_route": self.default_v6,
            "addresses": self.addresses.iter().map(Addr::to_json).collect::<Vec<_>>(),
        })
    }
}

impl Addr {
    fn from_fidl(address: &interfaces::Address) -> Option<Self> {
        let subnet = address.addr?;
        Some(Addr {
            addr: ip_from_fidl(subnet.addr),
            prefix: subnet.prefix_len,
            state: match address.assignment_state {
                Some(AddressAssignmentState::Tentative) => "tentative",
                Some(AddressAssignmentState::Unavailable) => "unavailable",
                Some(AddressAssignmentState::Assigned) | None => "assigned",
            },
            valid_until: address.valid_until.unwrap_or(zx::TIME_INFINITE),
            preferred_until: match address.preferred_lifetime_info {
                Some(PreferredLifetimeInfo::PreferredUntil(until)) => Some(until),
                Some(PreferredLifetimeInfo::Deprecated(_)) => None,
                None => Some(zx::TIME_INFINITE),
            },
        })
    }

    /// `192.0.2.1/24`.
    pub(crate) fn cidr(&self) -> String {
        format!("{}/{}", self.addr, self.prefix)
    }

    fn to_json(&self) -> Value {
        let now = monotonic_now_ns();
        json!({
            "address": self.addr.to_string(),
            "prefix_len": self.prefix,
            "family": if self.addr.is_ipv4() { "inet" } else { "inet6" },
            "state": self.state,
            "valid_lifetime_s": remaining_seconds(self.valid_until, now),
            "preferred_lifetime_s": self.preferred_until.map_or(Some(0), |until| remaining_seconds(until, now)),
            "deprecated": self.preferred_until.is_none(),
        })
    }
}

/// The seconds left until `until`, `None` for never (`zx::TIME_INFINITE`).
fn remaining_seconds(until: i64, now: i64) -> Option<u64> {
    (until != zx::TIME_INFINITE)
        .then(|| u64::try_from(until.saturating_sub(now)).unwrap_or(0) / 1_000_000_000)
}

/// A lifetime as `ip address` prints one: `forever` or `123sec`.
fn lifetime_text(seconds: Option<u64>) -> String {
    seconds.map_or_else(|| "forever".to_owned(), |s| format!("{s}sec"))
}

fn port_class_name(class: &PortClass) -> &'static str {
    match class {
        PortClass::Loopback(_) => "loopback",
        PortClass::Device(hw::PortClass::Ethernet) => "ethernet",
        PortClass::Device(hw::PortClass::Virtual) => "virtual",
        PortClass::Device(hw::PortClass::Ppp) => "ppp",
        PortClass::Device(hw::PortClass::Bridge) => "bridge",
        PortClass::Device(hw::PortClass::WlanClient) => "wlan-client",
        PortClass::Device(hw::PortClass::WlanAp) => "wlan-ap",
        PortClass::Device(hw::PortClass::Lowpan) => "lowpan",
        #[allow(unreachable_patterns)]
        _ => "unknown",
    }
}

/// A FIDL address as std's.
pub(crate) fn ip_from_fidl(addr: IpAddress) -> IpAddr {
    match addr {
        IpAddress::Ipv4(v4) => IpAddr::from(v4.addr),
        IpAddress::Ipv6(v6) => IpAddr::from(v6.addr),
    }
}

/// A std address as FIDL's.
pub(crate) fn ip_to_fidl(addr: IpAddr) -> IpAddress {
    match addr {
        IpAddr::V4(v4) => IpAddress::Ipv4(v4.into()),
        IpAddr::V6(v6) => IpAddress::Ipv6(v6.into()),
    }
}

/// `02:00:00:00:00:01`.
pub(crate) fn format_mac(octets: [u8; 6]) -> String {
    octets.iter().map(|o| format!("{o:02x}")).collect::<Vec<_>>().join(":")
}

/// Now on `CLOCK_MONOTONIC`, the clock of `zx.Time` (address lifetimes).
pub(crate) fn monotonic_now_ns() -> i64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    now.tv_sec.saturating_mul(1_000_000_000).saturating_add(now.tv_nsec)
}

/// A watcher of the interfaces, with every address (also tentative ones) and its lifetimes.
pub(crate) fn open_watcher(ctx: &Context) -> Result<SyncClient, CliError> {
    let state = ctx.svc.client(interfaces::STATE_PROTOCOL_NAME)?;
    let (ours, theirs) = channel_pair()?;
    let options = WatcherOptions {
        address_properties_interest: Some(
            AddressPropertiesInterest::VALID_UNTIL | AddressPropertiesInterest::PREFERRED_LIFETIME_INFO,
        ),
        include_non_assigned_addresses: Some(true),
    };
    state
        .send::<state::GetWatcher>((options, theirs))
        .map_err(|e| call_failed("watching the interfaces", e))?;
    Ok(SyncClient::new(ours))
}

/// Reads `watcher`'s `Existing` events up to `Idle`: the interfaces as they are now.
pub(crate) fn read_existing(watcher: &SyncClient) -> Result<Vec<Iface>, CliError> {
    let mut ifaces = Vec::new();
    loop {
        match watcher.call::<watcher::Watch>(()).map_err(|e| call_failed("listing the interfaces", e))? {
            Event::Existing(properties) => ifaces.push(Iface::from_properties(&properties)),
            Event::Idle(_) => return Ok(ifaces),
            // Nothing else comes before Idle; take it as it is should a server send it.
            Event::Added(properties) => ifaces.push(Iface::from_properties(&properties)),
            Event::Changed(properties) => {
                if let Some(iface) = ifaces.iter_mut().find(|i| Some(i.id) == properties.id) {
                    iface.apply(&properties);
                }
            }
            Event::Removed(id) => ifaces.retain(|i| i.id != id),
        }
    }
}

/// The daemon's interfaces now.
pub(crate) fn snapshot(ctx: &Context) -> Result<Vec<Iface>, CliError> {
    read_existing(&open_watcher(ctx)?)
}

/// The interface `iface` names, from `ifaces`: by name first, then by id.
pub(crate) fn find<'a>(ifaces: &'a [Iface], iface: &IfaceRef) -> Result<&'a Iface, CliError> {
    ifaces
        .iter()
        .find(|i| iface.matches_name(&i.name))
        .or_else(|| iface.as_id().and_then(|id| ifaces.iter().find(|i| i.id == id)))
        .ok_or_else(|| CliError::failed(format!("cannot find interface '{iface}'")))
}

/// The name of interface `id`, or its id when `ifaces` has no such interface.
pub(crate) fn name_of(ifaces: &[Iface], id: u64) -> String {
    ifaces.iter().find(|i| i.id == id).map_or_else(|| id.to_string(), |i| i.name.clone())
}

/// The id and name of the interface `iface` names.
pub(crate) fn resolve(ctx: &Context, iface: &IfaceRef) -> Result<(u64, String), CliError> {
    let ifaces = snapshot(ctx)?;
    find(&ifaces, iface).map(|i| (i.id, i.name.clone()))
}

/// An interface's MTU, `None` when the daemon cannot say.
fn mtu(admin: &SyncClient, id: u64) -> Option<u32> {
    admin.call::<admin::interfaces::GetMtu>(id).ok()?.ok()
}

/// An interface's MAC address, `None` for one without (a TUN, loopback).
fn mac(root: &SyncClient, id: u64) -> Option<[u8; 6]> {
    let mac = root.call::<root_interfaces::GetMac>(id).ok()?.ok()??;
    Some(mac.octets)
}

fn list(ctx: &Context) -> Result<(), CliError> {
    let ifaces = snapshot(ctx)?;
    let admin = ctx.svc.client(admin::INTERFACES_PROTOCOL_NAME)?;
    let mtus: Vec<Option<u32>> = ifaces.iter().map(|i| mtu(&admin, i.id)).collect();
    if ctx.out.json {
        let root = ctx.svc.client(root::INTERFACES_PROTOCOL_NAME)?;
        let list = ifaces.iter().zip(&mtus).map(|(i, mtu)| i.to_json(*mtu, mac(&root, i.id))).collect();
        return ctx.out.document(&Value::Array(list));
    }
    let mut table = Table::new(&[
        ("ID", Align::Right),
        ("NAME", Align::Left),
        ("STATE", Align::Left),
        ("CLASS", Align::Left),
        ("MTU", Align::Right),
        ("ADDRESSES", Align::Left),
    ]);
    for (iface, mtu) in ifaces.iter().zip(&mtus) {
        table.row(vec![
            iface.id.to_string(),
            iface.name.clone(),
            if iface.online { "UP" } else { "DOWN" }.to_owned(),
            iface.class.to_owned(),
            or_dash(*mtu),
            iface.addresses.iter().map(Addr::cidr).collect::<Vec<_>>().join(" "),
        ]);
    }
    ctx.out.text(&table.render())
}

fn show(ctx: &Context, iface: &IfaceRef) -> Result<(), CliError> {
    let ifaces = snapshot(ctx)?;
    let iface = find(&ifaces, iface)?;
    let mtu = mtu(&ctx.svc.client(admin::INTERFACES_PROTOCOL_NAME)?, iface.id);
    let mac = mac(&ctx.svc.client(root::INTERFACES_PROTOCOL_NAME)?, iface.id);
    if ctx.out.json {
        return ctx.out.document(&iface.to_json(mtu, mac));
    }
    ctx.out.text(&show_text(iface, mtu, mac, monotonic_now_ns()))
}

/// `if show` as `ip address show` would print it.
fn show_text(iface: &Iface, mtu: Option<u32>, mac: Option<[u8; 6]>, now: i64) -> String {
    let mut text = format!(
        "{}: {}: <{}> mtu {} class {}\n",
        iface.id,
        iface.name,
        if iface.online { "UP" } else { "DOWN" },
        mtu.map_or_else(|| "?".to_owned(), |m| m.to_string()),
        iface.class
    );
    if let Some(mac) = mac {
        text.push_str(&format!("    link/ether {}\n", format_mac(mac)));
    }
    for addr in &iface.addresses {
        let family = if addr.addr.is_ipv4() { "inet" } else { "inet6" };
        let preferred = addr.preferred_until.map_or(Some(0), |until| remaining_seconds(until, now));
        text.push_str(&format!(
            "    {family} {} {}{}\n       valid_lft {} preferred_lft {}\n",
            addr.cidr(),
            addr.state,
            if addr.preferred_until.is_none() { " deprecated" } else { "" },
            lifetime_text(remaining_seconds(addr.valid_until, now)),
            lifetime_text(preferred),
        ));
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    text.push_str(&format!(
        "    default route: ipv4 {} ipv6 {}\n",
        yes_no(iface.default_v4),
        yes_no(iface.default_v6)
    ));
    text
}

/// A `fuchsia.net.interfaces.admin/Control` of interface `id`.
fn control(ctx: &Context, id: u64) -> Result<SyncClient, CliError> {
    let root = ctx.svc.client(root::INTERFACES_PROTOCOL_NAME)?;
    let (ours, theirs) = channel_pair()?;
    root.send::<root_interfaces::GetAdmin>((id, theirs))
        .map_err(|e| call_failed("controlling the interface", e))?;
    Ok(SyncClient::new(ours))
}

fn add_addr(ctx: &Context, args: &mut Args<'_>) -> Result<(), CliError> {
    let iface = IfaceRef(args.required("IFACE")?.to_owned());
    let (addr, prefix) = args.positional("ADDR/PREFIX", parse_cidr)?;
    // `None`: forever. The preferred lifetime is the valid one unless given.
    let (mut valid, mut preferred) = (None, None);
    while let Some(word) = args.next() {
        match word {
            "--valid-lifetime" | "valid_lft" => valid = args.parsed("--valid-lifetime", parse_lifetime)?,
            "--preferred-lifetime" | "preferred_lft" => {
                preferred = Some(args.parsed("--preferred-lifetime", parse_lifetime)?)
            }
            other => return Err(args.unexpected(other)),
        }
    }
    let preferred = preferred.unwrap_or(valid);
    if let Some(valid) = valid {
        if preferred.is_none_or(|p| p > valid) {
            return Err(args.usage("the preferred lifetime is longer than the valid one".to_owned()));
        }
    }
    let (id, name) = resolve(ctx, &iface)?;
    let what = format!("adding {addr}/{prefix} to {name}");
    let control = control(ctx, id)?;
    let (ours, theirs) = channel_pair()?;
    let now = monotonic_now_ns();
    let end = |lifetime: Option<Duration>| {
        lifetime.map_or(zx::TIME_INFINITE, |d| {
            now.saturating_add(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        })
    };
    let parameters = AddressParameters {
        initial_properties: Some(AddressProperties {
            preferred_lifetime_info: Some(PreferredLifetimeInfo::PreferredUntil(end(preferred))),
            valid_lifetime_end: Some(end(valid)),
        }),
        add_subnet_route: Some(true),
        ..AddressParameters::default()
    };
    let subnet = Subnet { addr: ip_to_fidl(addr), prefix_len: prefix };
    control.send::<control::AddAddress>((subnet, parameters, theirs)).map_err(|e| call_failed(&what, e))?;
    let provider = SyncClient::new(ours);
    match provider.next_event::<AddressStateProviderEvent>() {
        Ok(AddressStateProviderEvent::OnAddressAdded {}) => {}
        Ok(AddressStateProviderEvent::OnAddressRemoved { error }) => {
            return Err(CliError::failed(format!("{what}: {}", removal_reason(error))));
        }
        Err(error) => return Err(call_failed(&what, error)),
    }
    provider.send::<address_state_provider::Detach>(()).map_err(|e| call_failed(&what, e))
}

/// Why the server took an address away right after it was added.
fn removal_reason(reason: netstack_fidl::fuchsia_net_interfaces_admin::AddressRemovalReason) -> &'static str {
    use netstack_fidl::fuchsia_net_interfaces_admin::AddressRemovalReason as R;
    match reason {
        R::Invalid => "not a valid address for this interface",
        R::AlreadyAssigned => "the address is already assigned",
        R::DadFailed => "duplicate address detection failed: another node has it",
        R::InterfaceRemoved => "the interface was removed",
        R::UserRemoved => "removed",
        R::InvalidProperties => "invalid lifetimes",
        #[allow(unreachable_patterns)]
        _ => "the address was removed",
    }
}

fn del_addr(ctx: &Context, iface: &IfaceRef, (addr, prefix): (IpAddr, u8)) -> Result<(), CliError> {
    let (id, name) = resolve(ctx, iface)?;
    let what = format!("removing {addr}/{prefix} from {name}");
    let control = control(ctx, id)?;
    let subnet = Subnet { addr: ip_to_fidl(addr), prefix_len: prefix };
    match control.call::<control::RemoveAddress>(subnet).map_err(|e| call_failed(&what, e))? {
        Ok(true) => Ok(()),
        Ok(false) => Err(CliError::failed(format!("{what}: no such address"))),
        Err(error) => Err(CliError::failed(format!("{what}: {error:?}"))),
    }
}

fn set_enabled(ctx: &Context, iface: &IfaceRef, up: bool) -> Result<(), CliError> {
    let (id, name) = resolve(ctx, iface)?;
    let what = format!("bringing {name} {}", if up { "up" } else { "down" });
    let control = control(ctx, id)?;
    let result = if up {
        control.call::<control::Enable>(()).map_err(|e| call_failed(&what, e))?.map_err(|e| format!("{e:?}"))
    } else {
        control.call::<control::Disable>(()).map_err(|e| call_failed(&what, e))?.map_err(|e| format!("{e:?}"))
    };
    result.map(drop).map_err(|why| CliError::failed(format!("{what}: {why}")))
}

/// `on` or `off` (also `1`/`0`, `yes`/`no`).
fn parse_on_off(word: &str) -> Result<bool, String> {
    match word {
        "on" | "1" | "yes" => Ok(true),
        "off" | "0" | "no" => Ok(false),
        _ => Err("must be 'on' or 'off'".to_owned()),
    }
}

fn set_forwarding(ctx: &Context, iface: &IfaceRef, on: bool, v4: bool, v6: bool) -> Result<(), CliError> {
    let (id, name) = resolve(ctx, iface)?;
    let what = format!("turning forwarding on {name} {}", if on { "on" } else { "off" });
    let config = Configuration {
        ipv4: v4.then(|| Ipv4Configuration { unicast_forwarding: Some(on), ..Ipv4Configuration::default() }),
        ipv6: v6.then(|| Ipv6Configuration { unicast_forwarding: Some(on), ..Ipv6Configuration::default() }),
    };
    control(ctx, id)?
        .call::<control::SetConfiguration>(config)
        .map_err(|e| call_failed(&what, e))?
        .map(drop)
        .map_err(|error| CliError::failed(format!("{what}: {error:?}")))
}

/// Why the daemon refused an MTU of `mtu` with `ZX_ERR_OUT_OF_RANGE`: its frame buffers were
/// sized at start for its largest `--mtu`, which no interface may exceed, and the Linux
/// device may refuse a value too. `largest_now`, the largest MTU of its interfaces (loopback
/// aside), is a lower bound of that limit, the one the CLI can learn.
fn mtu_out_of_range(mtu: u32, largest_now: Option<u32>) -> String {
    match largest_now {
        Some(largest) if mtu <= largest => {
            format!("out of range: the Linux device does not take an MTU of {mtu}")
        }
        _ => format!(
            "out of range: this daemon takes {MIN_MTU} up to the largest --mtu it was started with{}; \
             restart it with '--mtu {mtu}' on an interface to go higher",
            largest_now.map_or_else(String::new, |largest| format!(" (at least {largest}, its largest now)"))
        ),
    }
}

/// The largest MTU of `ifaces` but the loopback's, which the frame buffers do not bound.
fn largest_mtu(admin: &SyncClient, ifaces: &[Iface]) -> Option<u32> {
    ifaces.iter().filter(|i| i.class != "loopback").filter_map(|i| mtu(admin, i.id)).max()
}

/// A `netstack.admin` status as words, with the MTU range for `ZX_ERR_OUT_OF_RANGE`.
fn mtu_status_text(ctx: &Context, admin: &SyncClient, mtu: u32, status: zx::Status) -> String {
    if status != zx::ERR_OUT_OF_RANGE {
        return status_text(status);
    }
    let largest_now = snapshot(ctx).ok().and_then(|ifaces| largest_mtu(admin, &ifaces));
    mtu_out_of_range(mtu, largest_now)
}

fn set_mtu(ctx: &Context, iface: &IfaceRef, mtu: u32) -> Result<(), CliError> {
    let (id, name) = resolve(ctx, iface)?;
    let what = format!("setting the MTU of {name} to {mtu}");
    let admin = ctx.svc.client(admin::INTERFACES_PROTOCOL_NAME)?;
    admin
        .call::<admin::interfaces::SetMtu>((id, mtu))
        .map_err(|e| call_failed(&what, e))?
        .map_err(|status| CliError::failed(format!("{what}: {}", mtu_status_text(ctx, &admin, mtu, status))))
}

fn add(ctx: &Context, args: &mut Args<'_>) -> Result<(), CliError> {
    let name = args.positional("NAME", parse_iface_name)?;
    let (mut kind, mut mtu) = (None, None);
    while let Some(word) = args.next() {
        match word {
            "--kind" | "type" => {
                kind = Some(args.parsed("--kind", |k| match k {
                    "tap" => Ok(InterfaceKind::Tap),
                    "tun" => Ok(InterfaceKind::Tun),
                    _ => Err("must be 'tap' or 'tun'".to_owned()),
                })?)
            }
            "--mtu" | "mtu" => mtu = Some(args.parsed("--mtu", parse_number(MIN_MTU, MAX_MTU))?),
            other => return Err(args.unexpected(other)),
        }
    }
    let kind = kind.ok_or_else(|| args.usage("missing '--kind tap|tun'".to_owned()))?;
    let what = format!("creating {name}");
    let admin = ctx.svc.client(admin::INTERFACES_PROTOCOL_NAME)?;
    let spec = InterfaceSpec { name: Some(name.clone()), kind: Some(kind), mtu };
    let id = admin
        .call::<admin::interfaces::CreateInterface>(spec)
        .map_err(|e| call_failed(&what, e))?
        .map_err(|status| {
            let why = match mtu {
                Some(mtu) => mtu_status_text(ctx, &admin, mtu, status),
                None => status_text(status),
            };
            CliError::failed(format!("{what}: {why}"))
        })?;
    if ctx.out.json {
        return ctx.out.document(&json!({"id": id, "name": name}));
    }
    ctx.out.text(&format!("{id}: {name}\n"))
}

fn del(ctx: &Context, iface: &IfaceRef) -> Result<(), CliError> {
    let (id, name) = resolve(ctx, iface)?;
    let what = format!("removing {name}");
    let control = control(ctx, id)?;
    control
        .call::<control::Remove>(())
        .map_err(|e| call_failed(&what, e))?
        .map_err(|error| CliError::failed(format!("{what}: {error:?}")))?;
    // The interface is gone once the server says so (or closes the channel).
    match control.next_event::<ControlEvent>() {
        Ok(ControlEvent::OnInterfaceRemoved { .. }) | Err(ClientError::PeerClosed { .. }) => Ok(()),
        Err(error) => Err(call_failed(&what, error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netstack_fidl::fuchsia_net::Ipv4Address;

    fn properties() -> Properties {
        Properties {
            id: Some(2),
            name: Some("ns0".into()),
            online: Some(true),
            port_class: Some(PortClass::Device(hw::PortClass::Ethernet)),
            addresses: Some(vec![interfaces::Address {
                addr: Some(Subnet {
                    addr: IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 1] }),
                    prefix_len: 24,
                }),
                valid_until: Some(zx::TIME_INFINITE),
                preferred_lifetime_info: Some(PreferredLifetimeInfo::PreferredUntil(zx::TIME_INFINITE)),
                assignment_state: Some(AddressAssignmentState::Assigned),
            }]),
            has_default_ipv4_route: Some(true),
            ..Properties::default()
        }
    }

    #[test]
    fn changed_events_update_only_what_they_carry() {
        let mut iface = Iface::from_properties(&properties());
        assert_eq!(iface.addresses[0].cidr(), "192.0.2.1/24");
        iface.apply(&Properties { id: Some(2), online: Some(false), ..Properties::default() });
        assert!(!iface.online);
        assert_eq!(iface.name, "ns0");
        assert_eq!(iface.addresses.len(), 1);
        iface.apply(&Properties { id: Some(2), addresses: Some(Vec::new()), ..Properties::default() });
        assert!(iface.addresses.is_empty());
    }

    #[test]
    fn interfaces_are_found_by_name_then_id() {
        let ns0 = Iface::from_properties(&properties());
        let named_1 = Iface { id: 7, name: "2".into(), ..ns0.clone() };
        let ifaces = vec![ns0, named_1];
        assert_eq!(find(&ifaces, &IfaceRef("ns0".into())).unwrap().id, 2);
        assert_eq!(find(&ifaces, &IfaceRef("2".into())).unwrap().id, 7, "a name wins over an id");
        assert_eq!(find(&ifaces, &IfaceRef("7".into())).unwrap().id, 7);
        let error = find(&ifaces, &IfaceRef("ns9".into())).unwrap_err();
        assert_eq!(error.to_string(), "cannot find interface 'ns9'");
    }

    #[test]
    fn an_mtu_out_of_range_says_what_the_range_is() {
        let hint = mtu_out_of_range(9000, Some(1500));
        assert!(hint.contains("68 up to the largest --mtu"), "{hint}");
        assert!(hint.contains("at least 1500") && hint.contains("'--mtu 9000'"), "{hint}");
        assert!(mtu_out_of_range(9000, None).contains("68 up to"));
        let kernel = mtu_out_of_range(1400, Some(1500));
        assert!(kernel.contains("the Linux device does not take an MTU of 1400"), "{kernel}");
    }

    #[test]
    fn forwarding_is_on_or_off() {
        assert_eq!(parse_on_off("on"), Ok(true));
        assert_eq!(parse_on_off("off"), Ok(false));
        assert!(parse_on_off("maybe").is_err());
    }

    #[test]
    fn show_prints_lifetimes_like_ip_address() {
        let mut iface = Iface::from_properties(&properties());
        iface.addresses.push(Addr {
            addr: "2001:db8::1".parse().unwrap(),
            prefix: 64,
            state: "tentative",
            valid_until: 1_000_000_000_000 + 3_600_000_000_000,
            preferred_until: None,
        });
        let text = show_text(&iface, Some(1500), Some([2, 0, 0, 0, 0, 1]), 1_000_000_000_000);
        assert_eq!(
            text,
            "2: ns0: <UP> mtu 1500 class ethernet\n\
             \x20   link/ether 02:00:00:00:00:01\n\
             \x20   inet 192.0.2.1/24 assigned\n\
             \x20      valid_lft forever preferred_lft forever\n\
             \x20   inet6 2001:db8::1/64 tentative deprecated\n\
             \x20      valid_lft 3600sec preferred_lft 0sec\n\
             \x20   default route: ipv4 yes ipv6 no\n"
        );
    }
}
