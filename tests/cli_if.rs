//! `netstack if` against a running daemon, with the kernel on the other end of the TAP
//! checking that each change takes effect: an added address answers the kernel's ping and a
//! removed one stops, a downed interface stops answering, the MTU set is the one reported,
//! and a TAP made at run time appears in the kernel and goes again.
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use std::time::Duration;

use support::cli::{CliDaemon, STACK_V4};

fn iface_json<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list.as_array().unwrap().iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("{name} in {list}"))
}

#[test]
fn list_and_show_describe_the_interfaces() {
    let Some(d) = CliDaemon::start("list_and_show_describe_the_interfaces") else { return };
    let text = d.cli_ok(&["if", "list"]);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("ID") && header.contains("NAME") && header.contains("ADDRESSES"), "{text}");
    let tap0 = text.lines().find(|l| l.contains("tap0")).unwrap_or_else(|| panic!("tap0 in {text}"));
    assert!(tap0.contains("UP") && tap0.contains("1500") && tap0.contains("192.0.2.1/24"), "{text}");
    assert!(tap0.contains("2001:db8::1/64"), "{text}");
    // Columns line up: the addresses start under their title.
    assert_eq!(tap0.find("192.0.2.1/24"), header.find("ADDRESSES"), "{text}");

    let list = d.cli_json(&["if", "list"]);
    let tap0 = iface_json(&list, "tap0");
    assert_eq!(tap0["mtu"], 1500);
    assert_eq!(tap0["online"], true);
    assert_eq!(tap0["class"], "ethernet");
    assert!(tap0["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["address"] == STACK_V4 && a["prefix_len"] == 24));
    let id = tap0["id"].as_u64().unwrap();

    let show = d.cli_ok(&["if", "show", "tap0"]);
    assert!(show.starts_with(&format!("{id}: tap0: <UP> mtu 1500")), "{show}");
    assert!(show.contains("link/ether ") && show.contains("inet 192.0.2.1/24 assigned"), "{show}");
    assert!(show.contains("valid_lft forever"), "{show}");
    // By id too.
    assert_eq!(d.cli_ok(&["if", "show", &id.to_string()]), show);
    d.cli_fails(&["if", "show", "nope0"], 1, "cannot find interface 'nope0'");
}

#[test]
fn added_addresses_answer_the_kernel_until_removed() {
    let Some(d) = CliDaemon::start("added_addresses_answer_the_kernel_until_removed") else { return };
    assert!(!d.kernel_ping("192.0.2.50", &[]), "nobody has 192.0.2.50 yet");
    d.cli_ok(&["if", "add-addr", "tap0", "192.0.2.50/24"]);
    // The CLI has exited: the address persists without it.
    assert!(d.wait_for_ping("192.0.2.50", &[], true, Duration::from_secs(5)), "192.0.2.50 answers");
    let show = d.cli_ok(&["if", "show", "tap0"]);
    assert!(show.contains("inet 192.0.2.50/24"), "{show}");
    d.cli_fails(&["if", "add-addr", "tap0", "192.0.2.50/24"], 1, "192.0.2.50/24");

    d.cli_ok(&["if", "del-addr", "tap0", "192.0.2.50/24"]);
    assert!(d.wait_for_ping("192.0.2.50", &[], false, Duration::from_secs(5)), "192.0.2.50 is gone");
    assert!(!d.cli_ok(&["if", "show", "tap0"]).contains("192.0.2.50"));
    d.cli_fails(&["if", "del-addr", "tap0", "192.0.2.50/24"], 1, "no such address");
}

#[test]
fn lifetimes_are_reported() {
    let Some(d) = CliDaemon::start("lifetimes_are_reported") else { return };
    d.cli_ok(&[
        "if",
        "add-addr",
        "tap0",
        "2001:db8:5::1/64",
        "--valid-lifetime",
        "3600",
        "--preferred-lifetime",
        "1800",
    ]);
    let list = d.cli_json(&["if", "show", "tap0"]);
    let addr = list["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "2001:db8:5::1")
        .expect("added");
    let valid = addr["valid_lifetime_s"].as_u64().expect("a finite valid lifetime");
    let preferred = addr["preferred_lifetime_s"].as_u64().expect("a finite preferred lifetime");
    assert!((3590..=3600).contains(&valid), "{addr}");
    assert!((1790..=1800).contains(&preferred), "{addr}");
    // The preferred lifetime is the valid one unless given.
    d.cli_ok(&["if", "add-addr", "tap0", "2001:db8:6::1/64", "--valid-lifetime", "60"]);
    let show = d.cli_ok(&["if", "show", "tap0"]);
    let at = show.find("2001:db8:6::1/64").expect("added");
    let lifetimes = show[at..].lines().nth(1).unwrap();
    assert!(lifetimes.contains("valid_lft 5") && lifetimes.contains("preferred_lft 5"), "{show}");
}

#[test]
fn down_stops_answering_and_up_answers_again() {
    let Some(d) = CliDaemon::start("down_stops_answering_and_up_answers_again") else { return };
    assert!(d.wait_for_ping(STACK_V4, &[], true, Duration::from_secs(5)));
    d.cli_ok(&["if", "down", "tap0"]);
    assert!(d.cli_ok(&["if", "list"]).lines().any(|l| l.contains("tap0") && l.contains("DOWN")));
    // The kernel's cached neighbour entry does not help: the stack itself is not listening.
    assert!(d.wait_for_ping(STACK_V4, &[], false, Duration::from_secs(5)), "a down interface is silent");
    d.cli_ok(&["if", "up", "tap0"]);
    assert!(d.wait_for_ping(STACK_V4, &[], true, Duration::from_secs(8)), "up again");
}

#[test]
fn set_mtu_changes_the_mtu() {
    let Some(d) = CliDaemon::start("set_mtu_changes_the_mtu") else { return };
    d.cli_ok(&["if", "set-mtu", "tap0", "1400"]);
    assert_eq!(iface_json(&d.cli_json(&["if", "list"]), "tap0")["mtu"], 1400);
    assert!(d.cli_ok(&["if", "show", "tap0"]).contains("mtu 1400"));
    // The stack answers a 1472-byte ping (1500 bytes on the wire) in fragments of at most
    // 1400 now: the kernel reassembles them.
    assert!(d.wait_for_ping(STACK_V4, &["-s", "1472"], true, Duration::from_secs(5)));
    d.cli_fails(&["if", "set-mtu", "nope0", "1400"], 1, "cannot find interface 'nope0'");
    // Beyond what the frame buffers hold (the daemon started with MTU 1500): the error says
    // what the range is and how to get more.
    let error = d.cli_fails(&["if", "set-mtu", "tap0", "9000"], 1, "68 up to the largest --mtu");
    // tap0 is at 1400 now, the largest the CLI can see: a lower bound of the limit.
    assert!(error.contains("at least 1400") && error.contains("'--mtu 9000'"), "{error}");
    assert!(d.cli_ok(&["if", "show", "tap0"]).contains("mtu 1400"), "unchanged");
}

#[test]
fn set_forwarding_turns_forwarding_on_and_off() {
    let Some(d) = CliDaemon::start("set_forwarding_turns_forwarding_on_and_off") else { return };
    let forwarding =
        |version: &str| d.cli_json(&["inspect", &format!("Stack.Devices.tap0.{version}Forwarding")]);
    assert_eq!((forwarding("Ipv4"), forwarding("Ipv6")), (false.into(), false.into()));
    d.cli_ok(&["if", "set-forwarding", "tap0", "on", "-4"]);
    assert_eq!((forwarding("Ipv4"), forwarding("Ipv6")), (true.into(), false.into()));
    d.cli_ok(&["if", "set-forwarding", "tap0", "on"]);
    assert_eq!((forwarding("Ipv4"), forwarding("Ipv6")), (true.into(), true.into()));
    d.cli_ok(&["if", "set-forwarding", "tap0", "off", "-6"]);
    assert_eq!((forwarding("Ipv4"), forwarding("Ipv6")), (true.into(), false.into()));
    d.cli_fails(&["if", "set-forwarding", "tap0", "maybe"], 2, "bad on|off 'maybe'");
    d.cli_fails(&["if", "set-forwarding", "nope0", "on"], 1, "cannot find interface 'nope0'");
}

#[test]
fn runtime_taps_come_and_go() {
    let Some(d) = CliDaemon::start("runtime_taps_come_and_go") else { return };
    let created = d.cli_json(&["if", "add", "tap1", "--kind", "tap", "--mtu", "1400"]);
    assert_eq!(created["name"], "tap1");
    assert!(d.ns.ip(&["link", "show", "tap1"]).contains("tap1"), "the kernel has the TAP");
    let list = d.cli_json(&["if", "list"]);
    let tap1 = iface_json(&list, "tap1");
    assert_eq!(tap1["id"], created["id"]);
    assert_eq!(tap1["mtu"], 1400);
    assert_eq!(tap1["online"], false, "new interfaces start down");
    d.cli_fails(&["if", "add", "tap1", "--kind", "tap"], 1, "already exists");

    // Bring it up with an address and reach it from the kernel through it.
    d.ns.ip(&["link", "set", "tap1", "up"]);
    d.ns.ip(&["addr", "add", "198.51.100.2/24", "dev", "tap1"]);
    d.cli_ok(&["if", "up", "tap1"]);
    d.cli_ok(&["if", "add-addr", "tap1", "198.51.100.1/24"]);
    assert!(d.wait_for_ping("198.51.100.1", &[], true, Duration::from_secs(5)), "reached through tap1");

    d.cli_ok(&["if", "del", "tap1"]);
    assert!(!d.cli_ok(&["if", "list"]).contains("tap1"));
    let link = d.ns.exec("ip", &["link", "show", "tap1"]);
    assert!(!link.status.success(), "the kernel's tap1 is gone too");
}
