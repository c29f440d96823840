//! What socket calls return over the shim (`libfdio.so`), errno by errno, held against
//! Linux (see `support::apps` for the two namespaces): `tests/apps/errno_check.py` checks
//! refused and unreachable connects, ports in use, foreign addresses, resets, non-blocking
//! and repeated connects, calls on unconnected sockets, ICMP errors on UDP, dual-stack
//! sockets, SO_TYPE/SO_DOMAIN/SO_PROTOCOL, SO_RCVTIMEO, TCP_INFO and socket names. It runs
//! once on Linux alone, which keeps its expectations Linux's, and once on the shim.
//!
//! And a client blocked in `recv` must fail, not hang, when the daemon dies under it.
//!
//! Needs root and python3; skips loudly without them, except under `CI=true`.

mod support;

use std::time::Duration;

use support::apps::{
    can_run, on_linux, AppNet, Proc, APPS_DIR, OURS_V4, OURS_V6, PEER_V4, PEER_V6, PYTHON, SILENT_V4,
};

/// The helper's port on the kernel's side (see errno_check.py).
const HELPER_PORT: u16 = 7000;

/// Starts errno_check.py's helper on the kernel's side and waits until it listens.
fn start_helper(net: &AppNet) -> Proc {
    let script = format!("{APPS_DIR}/errno_check.py");
    let helper = Proc::start("errno_check.py serve", net.peer(PYTHON, &[script.as_str(), "serve"]));
    net.wait_peer_listening(HELPER_PORT, false);
    helper
}

/// Runs every check of errno_check.py on the app side of `net`; panics listing each one that
/// failed.
fn run_errno_checks(net: &AppNet, on: &str) {
    let _helper = start_helper(net);
    let script = format!("{APPS_DIR}/errno_check.py");
    let args = [script.as_str(), "check", OURS_V4, OURS_V6, PEER_V4, PEER_V6, SILENT_V4];
    let done = Proc::run("errno_check.py", net.app(PYTHON, &args), Duration::from_secs(300));
    eprintln!("errno_check.py on {on} ({}):\n{}{}", done.describe(), done.stdout, done.stderr);
    let failed: Vec<&str> = done.stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        failed.is_empty(),
        "on {on}, {} check(s) differ from Linux:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(
        done.stdout.contains(" passed, 0 failed"),
        "errno_check.py on {on} did not finish ({}):\n{}{}",
        done.describe(),
        done.stdout,
        done.stderr
    );
    done.assert_success(&format!("errno_check.py on {on}"));
}

#[test]
fn errno_expectations_are_linuxs() {
    if !can_run("errno_expectations_are_linuxs", &[PYTHON]) {
        return;
    }
    run_errno_checks(&AppNet::linux_alone(), "Linux alone");
}

#[test]
fn errno_on_the_shim_matches_linux() {
    if !can_run("errno_on_the_shim_matches_linux", &[PYTHON]) {
        return;
    }
    let net = AppNet::new();
    run_errno_checks(&net, if net.on_shim() { "the shim" } else { "Linux alone" });
    net.assert_app_kernel_unused();
}

#[test]
fn a_client_blocked_in_recv_fails_when_the_daemon_dies() {
    if !can_run("a_client_blocked_in_recv_fails_when_the_daemon_dies", &[PYTHON]) {
        return;
    }
    if on_linux() {
        eprintln!("\n*** SKIPPED a_client_blocked_in_recv_fails_when_the_daemon_dies: no daemon on Linux alone ***\n");
        return;
    }
    let mut net = AppNet::new();
    let _helper = start_helper(&net);
    let script = format!("{APPS_DIR}/recv_until_error.py");
    let client = Proc::start("recv_until_error.py", net.app(PYTHON, &[script.as_str(), PEER_V4, "7000"]));
    assert!(
        client.wait_for_output("blocked", Duration::from_secs(10)),
        "the client never connected:\n{}",
        client.output()
    );
    // Let it reach recv() and block there.
    std::thread::sleep(Duration::from_millis(500));
    net.kill_daemon();
    let done = client.finish(Duration::from_secs(5));
    assert!(
        !done.timed_out,
        "the client still hangs 5 s after the daemon died:\n{}{}",
        done.stdout, done.stderr
    );
    eprintln!("the client, after the daemon died ({}):\n{}", done.describe(), done.stdout);
    let ended = done.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        ended.starts_with("error"),
        "recv after the daemon died: expected an error, got {ended:?} ({}):\n{}{}",
        done.describe(),
        done.stdout,
        done.stderr
    );
    done.assert_success("recv_until_error.py");
}
