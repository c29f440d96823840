//! `iperf3`, unmodified, over the shim (`libfdio.so`) against the kernel's iperf3 (see
//! `support::apps` for the two namespaces): the client on the shim and the server on the
//! kernel, then the other way round; TCP and UDP; each for 3 s in both directions (`-R`, over
//! IPv6). Both ends' JSON reports (`-J`) must hold no error and count bytes moved
//! (`tests/apps/iperf3_check.py` reads them).
//!
//! Needs root, iperf3 and python3; skips loudly without them, except under `CI=true`.
//! `FDIO_TESTS_ON_LINUX=1` runs the same programs on Linux alone, to check the tests.

mod support;

use std::time::{Duration, Instant};

use support::apps::{can_run, AppNet, Proc, APPS_DIR, OURS_V4, OURS_V6, PEER_V4, PEER_V6, PYTHON};

/// Passes a JSON report through `iperf3_check.py`; panics with the reason unless it passes.
fn check_report(what: &str, report: &str, path: &std::path::Path) {
    std::fs::write(path, report).expect("write the report");
    let checker = format!("{APPS_DIR}/iperf3_check.py");
    let out =
        std::process::Command::new(PYTHON).arg(&checker).arg(path).output().expect("run iperf3_check.py");
    assert!(
        out.status.success(),
        "{what}: {}\n--- the report:\n{report}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{what}: {}", String::from_utf8_lossy(&out.stdout).trim());
}

/// One iperf3 run of 3 s: a one-off server (`-s -1`) on the shim when `server_on_shim`,
/// else on the kernel, and the client on the other side; UDP when `udp`, reversed (the
/// server sends) and over IPv6 when `reverse`.
fn iperf3_run(net: &AppNet, server_on_shim: bool, udp: bool, reverse: bool, port: u16) {
    let what = format!(
        "iperf3 {} {} (server on the {})",
        if udp { "UDP" } else { "TCP" },
        if reverse { "-R over IPv6" } else { "over IPv4" },
        if server_on_shim { "shim" } else { "kernel" }
    );
    let port_arg = port.to_string();
    let server_args = ["-s", "-1", "-J", "-p", &port_arg];
    let server_cmd =
        if server_on_shim { net.app("iperf3", &server_args) } else { net.peer("iperf3", &server_args) };
    let server = Proc::start("iperf3 -s", server_cmd);
    if !server_on_shim {
        net.wait_peer_listening(port, false);
    }
    let addr = match (server_on_shim, reverse) {
        (true, false) => OURS_V4,
        (true, true) => OURS_V6,
        (false, false) => PEER_V4,
        (false, true) => PEER_V6,
    };
    let mut client_args = vec!["-c", addr, "-p", &port_arg, "-t", "3", "-J"];
    if udp {
        client_args.extend(["-u", "-b", "10M"]);
    }
    if reverse {
        client_args.push("-R");
    }
    // Until the server listens, the client's control connection is refused.
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        let cmd =
            if server_on_shim { net.peer("iperf3", &client_args) } else { net.app("iperf3", &client_args) };
        let done = Proc::run("iperf3 -c", cmd, Duration::from_secs(30));
        if done.stdout.contains("Connection refused") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        break done;
    };
    let server = server.finish(Duration::from_secs(15));
    check_report(&format!("{what}, client"), &client.stdout, &net.path(&format!("client-{port}.json")));
    client.assert_success(&format!("{what}: the client"));
    check_report(&format!("{what}, server"), &server.stdout, &net.path(&format!("server-{port}.json")));
    server.assert_success(&format!("{what}: the server"));
}

#[test]
fn iperf3_client_on_the_shim_tcp() {
    if !can_run("iperf3_client_on_the_shim_tcp", &["iperf3", PYTHON]) {
        return;
    }
    let net = AppNet::new();
    iperf3_run(&net, false, false, false, 5201);
    iperf3_run(&net, false, false, true, 5202);
    net.assert_app_kernel_unused();
}

#[test]
fn iperf3_client_on_the_shim_udp() {
    if !can_run("iperf3_client_on_the_shim_udp", &["iperf3", PYTHON]) {
        return;
    }
    let net = AppNet::new();
    iperf3_run(&net, false, true, false, 5201);
    iperf3_run(&net, false, true, true, 5202);
    net.assert_app_kernel_unused();
}

#[test]
fn iperf3_server_on_the_shim_tcp() {
    if !can_run("iperf3_server_on_the_shim_tcp", &["iperf3", PYTHON]) {
        return;
    }
    let net = AppNet::new();
    iperf3_run(&net, true, false, false, 5201);
    iperf3_run(&net, true, false, true, 5202);
    net.assert_app_kernel_unused();
}

#[test]
fn iperf3_server_on_the_shim_udp() {
    if !can_run("iperf3_server_on_the_shim_udp", &["iperf3", PYTHON]) {
        return;
    }
    let net = AppNet::new();
    iperf3_run(&net, true, true, false, 5201);
    iperf3_run(&net, true, true, true, 5202);
    net.assert_app_kernel_unused();
}
