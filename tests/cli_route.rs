//! `netstack route` and `netstack neigh` against a running daemon. A route's effect is
//! checked from the kernel: the stack answers pings from 198.51.100.7 (an address of the
//! kernel's outside the stack's subnets) only while a route to it exists.
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use std::time::Duration;

use support::cli::{CliDaemon, KERNEL_V4};

const FAR: &str = "198.51.100.7";

#[test]
fn routes_are_added_listed_and_deleted() {
    let Some(d) = CliDaemon::start("routes_are_added_listed_and_deleted") else { return };
    d.ns.ip(&["addr", "add", &format!("{FAR}/32"), "dev", "tap0"]);
    let from_far = ["-I", FAR];
    assert!(!d.kernel_ping("192.0.2.1", &from_far), "no route back to {FAR} yet");

    d.cli_ok(&["route", "add", "198.51.100.0/24", "via", KERNEL_V4, "metric", "50"]);
    let text = d.cli_ok(&["route", "list"]);
    let line = text.lines().find(|l| l.starts_with("198.51.100.0/24")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(KERNEL_V4) && line.contains("tap0") && line.ends_with("50"), "{text}");
    assert!(text.lines().next().unwrap().starts_with("DESTINATION"), "{text}");
    assert!(d.wait_for_ping("192.0.2.1", &from_far, true, Duration::from_secs(5)), "the route leads back");

    let json = d.cli_json(&["route", "list", "-4"]);
    let route =
        json.as_array().unwrap().iter().find(|r| r["destination"] == "198.51.100.0/24").expect("listed");
    assert_eq!(
        (route["gateway"].as_str(), route["dev"].as_str(), route["metric"].as_u64()),
        (Some(KERNEL_V4), Some("tap0"), Some(50))
    );
    assert!(!d.cli_ok(&["route", "list", "-6"]).contains("198.51.100.0/24"));
    d.cli_fails(&["route", "add", "198.51.100.0/24", "via", KERNEL_V4, "metric", "50"], 1, "exists");

    d.cli_ok(&["route", "del", "198.51.100.0/24"]);
    assert!(!d.cli_ok(&["route", "list"]).contains("198.51.100.0/24"));
    assert!(d.wait_for_ping("192.0.2.1", &from_far, false, Duration::from_secs(5)), "no way back again");
    d.cli_fails(&["route", "del", "198.51.100.0/24"], 1, "no such route");
    d.cli_fails(&["route", "add", "203.0.113.0/24", "via", "203.0.113.1"], 1, "on no interface's subnet");
}

#[test]
fn ipv6_and_device_routes() {
    let Some(d) = CliDaemon::start("ipv6_and_device_routes") else { return };
    d.cli_ok(&["route", "add", "2001:db8:1::/48", "via", "2001:db8::2"]);
    d.cli_ok(&["route", "add", "198.51.100.0/25", "dev", "tap0"]);
    d.cli_ok(&["route", "-6", "add", "default", "via", "2001:db8::2", "dev", "tap0", "metric", "7"]);
    let v6 = d.cli_ok(&["route", "list", "-6"]);
    assert!(v6.lines().any(|l| l.starts_with("2001:db8:1::/48") && l.contains("2001:db8::2")), "{v6}");
    assert!(
        v6.lines().any(|l| l.starts_with("default") && l.contains("2001:db8::2") && l.ends_with('7')),
        "{v6}"
    );
    let v4 = d.cli_ok(&["route", "list", "-4"]);
    assert!(v4.lines().any(|l| l.starts_with("198.51.100.0/25") && l.contains("tap0")), "{v4}");
    d.cli_ok(&["route", "del", "2001:db8:1::/48", "via", "2001:db8::2"]);
    d.cli_ok(&["route", "-6", "del", "default"]);
    d.cli_ok(&["route", "del", "198.51.100.0/25", "dev", "tap0"]);
    let after = d.cli_ok(&["route", "list"]);
    assert!(
        !after.contains("2001:db8:1::/48")
            && !after.contains("198.51.100.0/25")
            && !after.contains("default"),
        "{after}"
    );
}

#[test]
fn neighbours_are_listed_added_deleted_and_flushed() {
    let Some(d) = CliDaemon::start("neighbours_are_listed_added_deleted_and_flushed") else { return };
    // The kernel's ping makes the stack learn the kernel's MAC.
    assert!(d.wait_for_ping("192.0.2.1", &[], true, Duration::from_secs(5)));
    let mac_line = d.ns.ip(&["link", "show", "tap0"]);
    let kernel_mac = mac_line
        .split("link/ether ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .expect("the TAP's MAC")
        .to_owned();
    let list = d.cli_ok(&["neigh", "list"]);
    let learned = list.lines().find(|l| l.starts_with(KERNEL_V4)).unwrap_or_else(|| panic!("{list}"));
    assert!(learned.contains("tap0") && learned.contains(&kernel_mac), "{list}");

    d.cli_ok(&["neigh", "add", "192.0.2.9", "lladdr", "02:00:5e:00:53:09", "dev", "tap0"]);
    let list = d.cli_json(&["neigh", "list", "dev", "tap0"]);
    let entry = list.as_array().unwrap().iter().find(|e| e["dst"] == "192.0.2.9").expect("static entry");
    assert_eq!(
        (entry["lladdr"].as_str(), entry["state"].as_str()),
        (Some("02:00:5e:00:53:09"), Some("PERMANENT"))
    );

    d.cli_ok(&["neigh", "del", "192.0.2.9", "dev", "tap0"]);
    assert!(!d.cli_ok(&["neigh", "list"]).contains("192.0.2.9"));
    d.cli_fails(&["neigh", "del", "192.0.2.9", "dev", "tap0"], 1, "not found");

    d.cli_ok(&["neigh", "flush", "dev", "tap0", "-4"]);
    assert!(!d.cli_ok(&["neigh", "list", "dev", "tap0"]).lines().any(|l| l.starts_with(KERNEL_V4)));
    d.cli_fails(&["neigh", "list", "dev", "nope0"], 1, "cannot find interface 'nope0'");
}
