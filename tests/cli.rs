//! The `netstack` binary's command line, run as a user would run it.

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

#[test]
fn run_says_what_is_missing() {
    let out = netstack(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("not available yet"));
}
