//! The admin commands' command line without a daemon: bad arguments give one line on stderr
//! and exit status 2 with a pointer to the help; a daemon that is not there gives one line
//! naming the svc dir tried and how to start one, and exit status 1; every level has help.

mod support;

use std::process::{Command, Output};

fn netstack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netstack"))
        .args(args)
        .env_remove("NETSTACK_SVC_DIR")
        .output()
        .expect("run netstack")
}

/// Runs `netstack ARGS`, expecting exit `code` and exactly one stderr line containing every
/// one of `messages`.
fn fails(args: &[&str], code: i32, messages: &[&str]) {
    let out = netstack(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line, got {stderr:?}");
    assert!(stderr.starts_with("netstack: "), "{args:?}: {stderr}");
    for message in messages {
        assert!(stderr.contains(message), "{args:?}: want {message:?} in {stderr}");
    }
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
}

#[test]
fn bad_arguments_are_one_line_usage_errors() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["if", "frob"], &["unknown command 'frob'", "see 'netstack if --help'"]),
        (&["if", "add-addr", "tap0"], &["missing ADDR/PREFIX"]),
        (
            &["if", "add-addr", "tap0", "192.0.2.300/24"],
            &["bad ADDR/PREFIX '192.0.2.300/24'", "not an IP address"],
        ),
        (&["if", "add-addr", "tap0", "192.0.2.5"], &["no prefix length"]),
        (
            &[
                "if",
                "add-addr",
                "tap0",
                "192.0.2.5/24",
                "--valid-lifetime",
                "10",
                "--preferred-lifetime",
                "20",
            ],
            &["preferred lifetime is longer"],
        ),
        (&["if", "set-mtu", "tap0", "20"], &["bad MTU '20'"]),
        (&["if", "show"], &["missing IFACE"]),
        (&["if", "add", "tap1"], &["missing '--kind tap|tun'"]),
        (&["if", "add", "tap1", "--kind", "veth"], &["must be 'tap' or 'tun'"]),
        (&["if", "add", "a-name-far-too-long", "--kind", "tap"], &["bad NAME"]),
        (&["route", "add", "198.51.100.1/24", "via", "192.0.2.2"], &["host bits set"]),
        (&["route", "add", "198.51.100.0/24", "via", "nowhere"], &["bad via 'nowhere'"]),
        (&["route", "add", "198.51.100.0/24", "via", "2001:db8::1"], &["different IP versions"]),
        (&["route", "list", "-4", "-6"], &["exclude each other"]),
        (&["route", "frob"], &["unknown command 'frob'", "see 'netstack route --help'"]),
        (&["neigh", "add", "192.0.2.9", "lladdr", "zz", "dev", "tap0"], &["bad lladdr 'zz'"]),
        (&["neigh", "add", "192.0.2.9", "dev", "tap0"], &["missing 'lladdr MAC'"]),
        (&["neigh", "del", "192.0.2.9"], &["missing 'dev IFACE'"]),
        (&["neigh", "flush"], &["missing 'dev IFACE'"]),
        (&["sock", "list", "-tz"], &["unknown option '-z'"]),
        (&["stats", "--interval", "0"], &["bad --interval '0'"]),
        (&["stats", "--count", "2"], &["'--count' needs '--interval'"]),
        (&["capture", "tap0"], &["missing '-w FILE'"]),
        (&["capture", "tap0", "-w", "x", "--snaplen", "0"], &["bad --snaplen '0'"]),
        (&["watch", "extra"], &["unexpected argument 'extra'", "see 'netstack watch --help'"]),
        (&["inspect", "--frob"], &["unknown option '--frob'"]),
        (&["--svc-dir"], &["'--svc-dir' needs a value", "see 'netstack --help'"]),
        (&["--json"], &["missing OBJECT"]),
        (&["--json", "frob"], &["unknown object 'frob'"]),
    ];
    for (args, messages) in cases {
        fails(args, 2, messages);
    }
}

#[test]
fn unknown_commands_keep_the_old_message() {
    fails(&["frobnicate"], 2, &["unknown command 'frobnicate'; see 'netstack --help'"]);
}

#[test]
fn a_missing_daemon_says_where_it_looked_and_how_to_start_one() {
    let dir = std::env::temp_dir().join(format!("netstack-cli-usage-{}", std::process::id()));
    let dir = dir.to_str().unwrap();
    let start = format!("netstack run --svc-dir {dir}");
    for args in [
        &["if", "list"][..],
        &["route", "list"],
        &["neigh", "list"],
        &["sock", "list"],
        &["stats"],
        &["inspect"],
        &["watch"],
    ] {
        let mut full = vec!["--svc-dir", dir];
        full.extend_from_slice(args);
        fails(&full, 1, &[&format!("no netstack daemon at {dir}"), &start]);
    }
    // NETSTACK_SVC_DIR names it too.
    let out = Command::new(env!("CARGO_BIN_EXE_netstack"))
        .args(["if", "list"])
        .env("NETSTACK_SVC_DIR", dir)
        .output()
        .expect("run netstack");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&start));
}

#[test]
fn every_object_has_help() {
    for object in ["if", "route", "neigh", "sock", "stats", "inspect", "capture", "watch"] {
        for args in [vec![object, "--help"], vec![object, "-h"], vec![object, "help"]] {
            let out = netstack(&args);
            assert!(out.status.success(), "{args:?}");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(&format!("Usage: netstack {object}")), "{args:?}: {text}");
        }
    }
    let out = netstack(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for object in ["if", "route", "neigh", "sock", "stats", "inspect", "capture", "watch", "--svc-dir DIR"] {
        assert!(text.contains(object), "netstack --help names {object}");
    }
    // Help below a command works too.
    assert!(netstack(&["if", "add-addr", "--help"]).status.success());
}
