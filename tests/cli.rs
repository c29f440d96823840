//! The `netstack` binary's command line, run as a user would run it.

mod support;

use std::process::Command;

fn netstack(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_netstack")).args(args).output().expect("run netstack binary")
}

#[test]
fn unknown_command_fails_with_one_clear_line() {
    let out = netstack(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr, "netstack: unknown command 'frobnicate'; see 'netstack --help'\n");
}

#[test]
fn help_succeeds_and_no_arguments_prints_usage_and_fails() {
    let out = netstack(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("Usage: netstack <COMMAND>"));
    let bare = netstack(&[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8(bare.stderr).unwrap().contains("Usage: netstack <COMMAND>"));
}

/// Runs `netstack ARGS` expecting failure with exit `code` and one stderr line containing
/// `message`; returns the line.
fn fails_with_one_line(args: &[&str], code: i32, message: &str) -> String {
    let out = netstack(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line, got {stderr:?}");
    assert!(stderr.contains(message), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"));
    stderr
}

#[test]
fn run_help_lists_the_options() {
    let out = netstack(&["run", "--help"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--tap NAME",
        "--tun NAME",
        "--addr CIDR",
        "--gateway IP",
        "--mtu N",
        "--forwarding",
        "--svc-dir DIR",
        "--config FILE",
    ] {
        assert!(stdout.contains(option), "{option}");
    }
}

#[test]
fn run_refuses_bad_settings_before_touching_the_system() {
    fails_with_one_line(
        &["run", "--tap", "t0", "--addr", "192.0.2.1"],
        2,
        "bad address '192.0.2.1': no prefix length",
    );
    fails_with_one_line(&["run", "--tap", "t0", "--addr", "192.0.2.300/24"], 2, "not an IP address");
    fails_with_one_line(&["run", "--addr", "192.0.2.1/24"], 2, "put it after a '--tap NAME'");
    fails_with_one_line(&["run", "--tap", "t0", "--mtu", "20"], 2, "bad MTU '20'");
    fails_with_one_line(&["run", "--bogus"], 2, "unknown option '--bogus'");
    fails_with_one_line(
        &["run", "--tap", "t0", "--mtu", "1200", "--addr", "2001:db8::1/64"],
        2,
        "interface t0 has MTU 1200, below IPv6's minimum of 1280",
    );
    fails_with_one_line(
        &["run", "--tap", "t0", "--addr", "2001:db8::1/64", "--gateway", "2001:db8:1::1"],
        2,
        "gateway 2001:db8:1::1 is not on the subnet of any --addr",
    );
    fails_with_one_line(
        &["run", "--tap", "t0", "--gateway", "ff02::2"],
        2,
        "gateway ff02::2 is not a unicast",
    );
    fails_with_one_line(
        &["run", "--tap", "t0", "--addr", "192.0.2.1/24", "--gateway", "198.51.100.1"],
        2,
        "gateway 198.51.100.1 is not on the subnet of any --addr",
    );
    fails_with_one_line(&["run", "--tap", "this-name-is-too-long"], 1, "invalid interface name");
    fails_with_one_line(&["run", "--tun", "t0", "--tap", "t0"], 2, "interface 't0' is given twice");
    fails_with_one_line(&["run", "--tun", "this-name-is-too-long"], 1, "invalid interface name");
}

#[test]
fn run_reports_a_bad_config_file_by_line() {
    let dir = std::env::temp_dir().join(format!("netstack-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.conf");
    std::fs::write(&file, "# ok so far\ntap t0\nmtu lots\n").unwrap();
    let path = file.to_str().unwrap();
    fails_with_one_line(&["run", "--config", path], 2, &format!("{path}:3: bad MTU 'lots'"));
    fails_with_one_line(&["run", "--config", "/nonexistent/netstack.conf"], 2, "cannot read config file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_names_the_cause_when_the_tap_cannot_be_made() {
    if !support::netns::have_root("run_names_the_cause_when_the_tap_cannot_be_made") {
        return;
    }
    // Inside a namespace of our own, so nothing is created on the machine's interfaces.
    let ns = support::netns::Netns::new();
    let bin = env!("CARGO_BIN_EXE_netstack");
    let out = ns.exec(bin, &["run", "--tap", "lo", "--addr", "192.0.2.1/24"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.lines().last().unwrap_or("").contains("interface name 'lo' is in use"), "{stderr}");
    // Without CAP_NET_ADMIN (dropped from the bounding set), as an unprivileged user would be.
    let out = ns.exec("setpriv", &["--bounding-set", "-net_admin", bin, "run", "--tap", "tap0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs CAP_NET_ADMIN: run as root"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}
