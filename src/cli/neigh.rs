//! `netstack neigh`: the neighbour tables (ARP for IPv4, NDP for IPv6) through
//! `fuchsia.net.neighbor`: list (`View.OpenEntryIterator`, read until `Idle`), add a static
//! entry, remove one, flush an interface's (`Controller`).

use std::net::IpAddr;

use netstack_fidl::client::SyncClient;
use netstack_fidl::fuchsia_net::{IpVersion, MacAddress};
use netstack_fidl::fuchsia_net_neighbor::{
    self as neighbor, controller, entry_iterator, view, Entry, EntryIteratorItem, EntryIteratorOptions,
    EntryState,
};
use serde_json::{json, Value};

use super::args::{parse_ip, parse_mac, Args, IfaceRef};
use super::iface::{self, format_mac, ip_from_fidl, ip_to_fidl, name_of};
use super::svc::{call_failed, channel_pair, status_text};
use super::table::{or_dash, Align, Table};
use super::{CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack neigh list [dev IFACE]
       netstack neigh add IP lladdr MAC dev IFACE
       netstack neigh del IP dev IFACE
       netstack neigh flush dev IFACE [-4|-6]

Lists the neighbour caches (ARP for IPv4, NDP for IPv6) with each entry's state, adds a
static entry, removes an entry, or flushes an interface's (both IP versions unless -4 or
-6).

Examples:
  netstack neigh list dev ns0
  netstack neigh add 192.0.2.9 lladdr 02:00:5e:00:53:09 dev ns0
  netstack neigh flush dev ns0 -4
";

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    let mut args = Args::new("neigh", words);
    match args.next() {
        None | Some("list" | "ls" | "show") => {
            let dev = parse_dev_only(&mut args)?;
            list(ctx, dev.as_ref())
        }
        Some("add") => {
            let ip = args.positional("IP", parse_ip)?;
            let (mut mac, mut dev) = (None, None);
            while let Some(keyword) = args.next() {
                match keyword {
                    "lladdr" => mac = Some(args.parsed("lladdr", parse_mac)?),
                    "dev" => dev = Some(IfaceRef(args.value("dev")?.to_owned())),
                    other => return Err(args.unexpected(other)),
                }
            }
            let mac = mac.ok_or_else(|| args.usage("missing 'lladdr MAC'".to_owned()))?;
            let dev = dev.ok_or_else(|| args.usage("missing 'dev IFACE'".to_owned()))?;
            add(ctx, ip, mac, &dev)
        }
        Some("del" | "delete") => {
            let ip = args.positional("IP", parse_ip)?;
            let dev =
                parse_dev_only(&mut args)?.ok_or_else(|| args.usage("missing 'dev IFACE'".to_owned()))?;
            del(ctx, ip, &dev)
        }
        Some("flush") => {
            let (mut dev, mut version) = (None, None);
            while let Some(word) = args.next() {
                match word {
                    "dev" => dev = Some(IfaceRef(args.value("dev")?.to_owned())),
                    "-4" => version = Some(IpVersion::V4),
                    "-6" => version = Some(IpVersion::V6),
                    other => return Err(args.unexpected(other)),
                }
            }
            let dev = dev.ok_or_else(|| args.usage("missing 'dev IFACE'".to_owned()))?;
            flush(ctx, &dev, version)
        }
        Some(other) => Err(args.usage(format!("unknown command '{other}'"))),
    }
}

/// An optional `dev IFACE` and nothing else.
fn parse_dev_only(args: &mut Args<'_>) -> Result<Option<IfaceRef>, CliError> {
    let mut dev = None;
    while let Some(word) = args.next() {
        match word {
            "dev" => dev = Some(IfaceRef(args.value("dev")?.to_owned())),
            other => return Err(args.unexpected(other)),
        }
    }
    Ok(dev)
}

/// A neighbour entry as the CLI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Neighbor {
    iface: u64,
    ip: IpAddr,
    mac: Option<[u8; 6]>,
    state: &'static str,
}

impl Neighbor {
    fn from_entry(entry: &Entry) -> Option<Self> {
        Some(Neighbor {
            iface: entry.interface?,
            ip: ip_from_fidl(entry.neighbor?),
            mac: entry.mac.map(|m| m.octets),
            state: entry.state.map_or("NONE", state_name),
        })
    }
}

/// A state as `ip neigh` spells it.
fn state_name(state: EntryState) -> &'static str {
    match state {
        EntryState::Incomplete => "INCOMPLETE",
        EntryState::Reachable => "REACHABLE",
        EntryState::Stale => "STALE",
        EntryState::Delay => "DELAY",
        EntryState::Probe => "PROBE",
        EntryState::Static => "PERMANENT",
        EntryState::Unreachable => "FAILED",
        #[allow(unreachable_patterns)]
        _ => "UNKNOWN",
    }
}

/// Every neighbour entry now.
fn snapshot(ctx: &Context) -> Result<Vec<Neighbor>, CliError> {
    const WHAT: &str = "listing the neighbours";
    let view = ctx.svc.client(neighbor::VIEW_PROTOCOL_NAME)?;
    let (ours, theirs) = channel_pair()?;
    view.send::<view::OpenEntryIterator>((theirs, EntryIteratorOptions::default()))
        .map_err(|e| call_failed(WHAT, e))?;
    let iterator = SyncClient::new(ours);
    let mut entries: Vec<Neighbor> = Vec::new();
    loop {
        for item in iterator.call::<entry_iterator::GetNext>(()).map_err(|e| call_failed(WHAT, e))? {
            match item {
                EntryIteratorItem::Existing(entry) | EntryIteratorItem::Added(entry) => {
                    entries.extend(Neighbor::from_entry(&entry));
                }
                EntryIteratorItem::Changed(entry) => {
                    if let Some(changed) = Neighbor::from_entry(&entry) {
                        entries.retain(|n| (n.iface, n.ip) != (changed.iface, changed.ip));
                        entries.push(changed);
                    }
                }
                EntryIteratorItem::Removed(entry) => {
                    if let Some(gone) = Neighbor::from_entry(&entry) {
                        entries.retain(|n| (n.iface, n.ip) != (gone.iface, gone.ip));
                    }
                }
                EntryIteratorItem::Idle(_) => return Ok(entries),
            }
        }
    }
}

fn list(ctx: &Context, dev: Option<&IfaceRef>) -> Result<(), CliError> {
    let ifaces = iface::snapshot(ctx)?;
    let only = dev.map(|dev| iface::find(&ifaces, dev)).transpose()?.map(|i| i.id);
    let entries: Vec<Neighbor> =
        snapshot(ctx)?.into_iter().filter(|n| only.is_none_or(|id| n.iface == id)).collect();
    if ctx.out.json {
        let list = entries
            .iter()
            .map(|n| {
                json!({
                    "dst": n.ip.to_string(),
                    "dev": name_of(&ifaces, n.iface),
                    "ifindex": n.iface,
                    "lladdr": n.mac.map(format_mac),
                    "state": n.state,
                })
            })
            .collect();
        return ctx.out.document(&Value::Array(list));
    }
    let mut table = Table::new(&[
        ("ADDRESS", Align::Left),
        ("DEV", Align::Left),
        ("LLADDR", Align::Left),
        ("STATE", Align::Left),
    ]);
    for n in &entries {
        table.row(vec![
            n.ip.to_string(),
            name_of(&ifaces, n.iface),
            or_dash(n.mac.map(format_mac)),
            n.state.to_owned(),
        ]);
    }
    ctx.out.text(&table.render())
}

fn controller(ctx: &Context) -> Result<SyncClient, CliError> {
    ctx.svc.client(neighbor::CONTROLLER_PROTOCOL_NAME)
}

fn add(ctx: &Context, ip: IpAddr, mac: [u8; 6], dev: &IfaceRef) -> Result<(), CliError> {
    let (id, name) = iface::resolve(ctx, dev)?;
    let what = format!("adding neighbour {ip} on {name}");
    controller(ctx)?
        .call::<controller::AddEntry>((id, ip_to_fidl(ip), MacAddress { octets: mac }))
        .map_err(|e| call_failed(&what, e))?
        .map_err(|status| CliError::failed(format!("{what}: {}", status_text(status))))
}

fn del(ctx: &Context, ip: IpAddr, dev: &IfaceRef) -> Result<(), CliError> {
    let (id, name) = iface::resolve(ctx, dev)?;
    let what = format!("removing neighbour {ip} from {name}");
    controller(ctx)?
        .call::<controller::RemoveEntry>((id, ip_to_fidl(ip)))
        .map_err(|e| call_failed(&what, e))?
        .map_err(|status| CliError::failed(format!("{what}: {}", status_text(status))))
}

fn flush(ctx: &Context, dev: &IfaceRef, version: Option<IpVersion>) -> Result<(), CliError> {
    let (id, name) = iface::resolve(ctx, dev)?;
    let what = format!("flushing the neighbours of {name}");
    let controller = controller(ctx)?;
    for version in version.map_or_else(|| vec![IpVersion::V4, IpVersion::V6], |v| vec![v]) {
        controller
            .call::<controller::ClearEntries>((id, version))
            .map_err(|e| call_failed(&what, e))?
            .map_err(|status| CliError::failed(format!("{what}: {}", status_text(status))))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_named_as_ip_neigh_names_them() {
        assert_eq!(state_name(EntryState::Reachable), "REACHABLE");
        assert_eq!(state_name(EntryState::Static), "PERMANENT");
        assert_eq!(state_name(EntryState::Unreachable), "FAILED");
    }

    #[test]
    fn entries_without_an_interface_or_address_are_skipped() {
        assert_eq!(Neighbor::from_entry(&Entry::default()), None);
    }
}
