//! `netstack watch`: interface, address and route events as they happen, one line each with a
//! timestamp, until interrupted. Three hanging-get watchers (interfaces, IPv4 and IPv6 routes)
//! run on threads of their own and hand their events to the main thread, which keeps the
//! interfaces' last known state: an interface watcher's `Changed` event carries only what
//! changed, and the address lines come from comparing the old address list with the new.
//! What exists when the watch starts (the events before `Idle`) is the baseline, not printed.

use std::sync::mpsc;

use netstack_fidl::fuchsia_net_interfaces::{watcher, Event};
use serde_json::{json, Value};

use super::args::Args;
use super::iface::{self, Addr, Iface};
use super::output::timestamp_now;
use super::route::{self, Family, Route, RouteEvent, V4, V6};
use super::svc::call_failed;
use super::{CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack watch [--json]

Prints interface, address and route events as they happen, one line per event with a UTC
timestamp, until interrupted (Ctrl-C):

  <time> link added|removed|up|down|renamed IFACE (id N)
  <time> addr added|removed|changed IFACE ADDR/PREFIX STATE
  <time> route added|removed DEST [via GW] dev IFACE [metric N]

With --json, one JSON object per line: {\"time\", \"object\", \"event\", ...}.

Example:
  netstack watch &  netstack if add-addr ns0 198.51.100.1/24
";

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    Args::new("watch", words).finish()?;
    // Open all three and read their baselines before reporting anything, so that a change
    // made right after `watch` starts is not lost in between.
    let interfaces = iface::open_watcher(ctx)?;
    let v4 = route::open_watcher::<V4>(ctx)?;
    let v6 = route::open_watcher::<V6>(ctx)?;
    let mut ifaces = iface::read_existing(&interfaces)?;
    route::read_existing::<V4>(&v4)?;
    route::read_existing::<V6>(&v6)?;
    // On stderr, like tcpdump's "listening on": says from when on changes are reported.
    eprintln!("watching interfaces, addresses and routes");

    let (tx, rx) = mpsc::channel::<Result<Update, CliError>>();
    let iface_tx = tx.clone();
    std::thread::spawn(move || loop {
        let event = interfaces.call::<watcher::Watch>(()).map(Update::Interface);
        let failed = event.is_err();
        if iface_tx.send(event.map_err(|e| call_failed("watching the interfaces", e))).is_err() || failed {
            return;
        }
    });
    spawn_route_watcher::<V4>(v4, tx.clone());
    spawn_route_watcher::<V6>(v6, tx);

    for update in rx {
        let lines = match update? {
            Update::Interface(event) => interface_event(&mut ifaces, event),
            Update::Routes(events) => events.into_iter().filter_map(|e| route_event(&ifaces, e)).collect(),
        };
        for line in lines {
            print(ctx, &line)?;
        }
    }
    Ok(())
}

/// What a watcher thread hands the main thread.
#[derive(Debug)]
enum Update {
    Interface(Event),
    Routes(Vec<RouteEvent>),
}

fn spawn_route_watcher<F: Family>(
    watcher: netstack_fidl::client::SyncClient,
    tx: mpsc::Sender<Result<Update, CliError>>,
) {
    std::thread::spawn(move || loop {
        let events = F::watch(&watcher).map(Update::Routes);
        let failed = events.is_err();
        if tx.send(events.map_err(|e| call_failed("watching the routes", e))).is_err() || failed {
            return;
        }
    });
}

/// One event, ready to print.
#[derive(Debug, PartialEq)]
struct Line {
    object: &'static str,
    event: &'static str,
    /// The text after `<object> <event>`.
    text: String,
    /// The JSON fields after `time`, `object` and `event`.
    fields: Value,
}

fn print(ctx: &Context, line: &Line) -> Result<(), CliError> {
    let time = timestamp_now();
    if ctx.out.json {
        let mut object = json!({"time": time, "object": line.object, "event": line.event});
        if let (Some(object), Some(fields)) = (object.as_object_mut(), line.fields.as_object()) {
            object.extend(fields.clone());
        }
        return ctx.out.line(&object);
    }
    ctx.out.text(&format!("{time} {} {} {}\n", line.object, line.event, line.text))
}

fn link_line(event: &'static str, iface: &Iface) -> Line {
    Line {
        object: "link",
        event,
        text: format!("{} (id {})", iface.name, iface.id),
        fields: json!({"interface": iface.name, "id": iface.id}),
    }
}

fn addr_line(event: &'static str, iface: &Iface, addr: &Addr) -> Line {
    Line {
        object: "addr",
        event,
        text: format!("{} {} {}", iface.name, addr.cidr(), addr.state),
        fields: json!({"interface": iface.name, "id": iface.id, "address": addr.cidr(), "state": addr.state}),
    }
}

/// The lines an interface watcher's event makes, updating `ifaces`.
fn interface_event(ifaces: &mut Vec<Iface>, event: Event) -> Vec<Line> {
    match event {
        Event::Existing(properties) | Event::Added(properties) => {
            let iface = Iface::from_properties(&properties);
            let mut lines = vec![link_line("added", &iface)];
            lines.extend(iface.addresses.iter().map(|a| addr_line("added", &iface, a)));
            ifaces.retain(|i| i.id != iface.id);
            ifaces.push(iface);
            lines
        }
        Event::Removed(id) => {
            let Some(at) = ifaces.iter().position(|i| i.id == id) else { return Vec::new() };
            vec![link_line("removed", &ifaces.remove(at))]
        }
        Event::Changed(properties) => {
            let Some(iface) = ifaces.iter_mut().find(|i| Some(i.id) == properties.id) else {
                return Vec::new();
            };
            let before = iface.clone();
            iface.apply(&properties);
            changes(&before, iface)
        }
        Event::Idle(_) => Vec::new(),
    }
}

/// What changed from `before` to `after` of one interface.
fn changes(before: &Iface, after: &Iface) -> Vec<Line> {
    let mut lines = Vec::new();
    if before.name != after.name {
        let mut line = link_line("renamed", after);
        line.text.push_str(&format!(" from {}", before.name));
        lines.push(line);
    }
    if before.online != after.online {
        lines.push(link_line(if after.online { "up" } else { "down" }, after));
    }
    let same = |a: &Addr, b: &Addr| a.addr == b.addr && a.prefix == b.prefix;
    for old in &before.addresses {
        match after.addresses.iter().find(|new| same(old, new)) {
            None => lines.push(addr_line("removed", after, old)),
            Some(new) if new != old => lines.push(addr_line("changed", after, new)),
            Some(_) => {}
        }
    }
    for new in after.addresses.iter().filter(|new| !before.addresses.iter().any(|old| same(old, new))) {
        lines.push(addr_line("added", after, new));
    }
    lines
}

fn route_line(event: &'static str, ifaces: &[Iface], route: &Route) -> Line {
    Line { object: "route", event, text: route.describe(ifaces), fields: route.to_json(ifaces) }
}

fn route_event(ifaces: &[Iface], event: RouteEvent) -> Option<Line> {
    match event {
        RouteEvent::Existing(route) | RouteEvent::Added(route) => Some(route_line("added", ifaces, &route)),
        RouteEvent::Removed(route) => Some(route_line("removed", ifaces, &route)),
        RouteEvent::Idle => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface() -> Iface {
        Iface {
            id: 2,
            name: "ns0".into(),
            online: true,
            class: "ethernet",
            addresses: vec![Addr {
                addr: "192.0.2.1".parse().unwrap(),
                prefix: 24,
                state: "assigned",
                valid_until: i64::MAX,
                preferred_until: Some(i64::MAX),
            }],
            default_v4: false,
            default_v6: false,
        }
    }

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| format!("{} {} {}", l.object, l.event, l.text)).collect()
    }

    #[test]
    fn address_lists_are_compared() {
        let before = iface();
        let mut after = iface();
        after.addresses[0].state = "unavailable";
        after.addresses.push(Addr {
            addr: "198.51.100.1".parse().unwrap(),
            prefix: 24,
            ..before.addresses[0].clone()
        });
        after.online = false;
        assert_eq!(
            texts(&changes(&before, &after)),
            [
                "link down ns0 (id 2)",
                "addr changed ns0 192.0.2.1/24 unavailable",
                "addr added ns0 198.51.100.1/24 assigned",
            ]
        );
        assert_eq!(texts(&changes(&after, &before))[2], "addr removed ns0 198.51.100.1/24 assigned");
    }

    #[test]
    fn removed_interfaces_are_named_from_what_was_known() {
        let mut ifaces = vec![iface()];
        assert_eq!(texts(&interface_event(&mut ifaces, Event::Removed(2))), ["link removed ns0 (id 2)"]);
        assert!(ifaces.is_empty());
        assert!(interface_event(&mut ifaces, Event::Removed(2)).is_empty());
    }
}
