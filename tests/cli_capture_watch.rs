//! `netstack capture` and `netstack watch` against a running daemon: a capture of the
//! kernel's pings read back by `tshark` (ended by SIGTERM or by `--count`, complete either
//! way), and two watchers at once seeing an address another CLI call adds and removes.
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use std::time::Duration;

use support::cli::{wait_for, CliDaemon, STACK_V4};
use support::netns::tshark_count;

/// A file for a capture, removed when dropped.
struct TempFile(String);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("netstack-cli-{}-{name}.pcap", std::process::id()));
        TempFile(path.to_str().unwrap().to_owned())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn capture_until_sigterm_is_read_by_tshark() {
    let Some(mut d) = CliDaemon::start("capture_until_sigterm_is_read_by_tshark") else { return };
    // Resolve the neighbour first, so that the capture holds the pings alone.
    assert!(d.wait_for_ping(STACK_V4, &[], true, Duration::from_secs(5)));
    let file = TempFile::new("sigterm");
    let (_out, err) = d.spawn_cli(&["capture", "tap0", "-w", &file.0]);
    let started = wait_for(&err, Duration::from_secs(10), |l| l.contains("capturing on tap0"));
    assert!(started.is_some_and(|l| l.contains("EN10MB")), "capture started with Ethernet framing");
    d.ns.ping(56, STACK_V4);
    d.ns.ping(56, STACK_V4);
    d.ns.ping(56, STACK_V4);
    std::thread::sleep(Duration::from_millis(300));
    let status = d.ns.stop_last().expect("capture stopped");
    assert!(status.success(), "SIGTERM ends a capture cleanly: {status:?}");
    assert!(wait_for(&err, Duration::from_secs(2), |l| l.contains("packets captured")).is_some());
    assert_eq!(tshark_count(&file.0, &[], "icmp.type == 8"), 3, "three requests");
    assert_eq!(tshark_count(&file.0, &[], "icmp.type == 0"), 3, "three replies");
    assert_eq!(tshark_count(&file.0, &[], "eth && ip.addr == 192.0.2.1"), 6);
}

#[test]
fn capture_stops_after_count_packets() {
    let Some(mut d) = CliDaemon::start("capture_stops_after_count_packets") else { return };
    assert!(d.wait_for_ping(STACK_V4, &[], true, Duration::from_secs(5)));
    let file = TempFile::new("count");
    let (_out, err) = d.spawn_cli(&["capture", "tap0", "-w", &file.0, "--count", "2", "--snaplen", "64"]);
    assert!(wait_for(&err, Duration::from_secs(10), |l| l.contains("capturing on tap0")).is_some());
    d.ns.ping(200, STACK_V4);
    d.ns.ping(200, STACK_V4);
    let done = wait_for(&err, Duration::from_secs(5), |l| l.contains("packets captured"));
    assert_eq!(done.as_deref(), Some("2 packets captured"));
    assert_eq!(tshark_count(&file.0, &[], "frame"), 2);
    // Every frame cut to the snap length, with the original length kept. The two frames are
    // not always the ping's: IPv6 DAD or a router solicitation may go out meanwhile.
    assert_eq!(tshark_count(&file.0, &[], "frame.cap_len == 64 || frame.len < 64"), 2);
    assert!(tshark_count(&file.0, &[], "frame.cap_len == 64 && frame.len == 242") >= 1, "the ping, cut");
}

#[test]
fn capture_to_stdout() {
    use std::io::BufRead;
    let Some(d) = CliDaemon::start("capture_to_stdout") else { return };
    assert!(d.wait_for_ping(STACK_V4, &[], true, Duration::from_secs(5)));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netstack"))
        .args(["--svc-dir", &d.svc_dir, "capture", "tap0", "-w", "-", "--count", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run netstack");
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("capturing on tap0"), "{line}");
    d.ns.ping(56, STACK_V4);
    let out = child.wait_with_output().expect("capture ends after 2 packets");
    assert!(out.status.success());
    let file = TempFile::new("stdout");
    std::fs::write(&file.0, &out.stdout).unwrap();
    assert_eq!(tshark_count(&file.0, &[], "frame"), 2, "a pcap of exactly --count frames");
    // Usually the ping's request and reply; IPv6 DAD or a router solicitation may go out too.
    assert!(tshark_count(&file.0, &[], "icmp") >= 1, "the ping was captured");
}

#[test]
fn two_watchers_see_the_same_address_events() {
    let Some(mut d) = CliDaemon::start("two_watchers_see_the_same_address_events") else { return };
    let (text, text_err) = d.spawn_cli(&["watch"]);
    let (json, json_err) = d.spawn_cli(&["--json", "watch"]);
    for err in [&text_err, &json_err] {
        assert!(
            wait_for(err, Duration::from_secs(10), |l| l.contains("watching")).is_some(),
            "watch started"
        );
    }
    d.cli_ok(&["if", "add-addr", "tap0", "192.0.2.60/24"]);
    let added = wait_for(&text, Duration::from_secs(5), |l| l.contains("addr added tap0 192.0.2.60/24"));
    let line = added.expect("the text watcher saw the address");
    assert!(
        line.split(' ').next().is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "timestamped: {line}"
    );
    let added = wait_for(&json, Duration::from_secs(5), |l| l.contains("192.0.2.60/24"));
    let event: serde_json::Value = serde_json::from_str(&added.expect("the JSON watcher saw it")).unwrap();
    assert_eq!((event["object"].as_str(), event["event"].as_str()), (Some("addr"), Some("added")));
    assert_eq!(event["interface"], "tap0");

    d.cli_ok(&["if", "del-addr", "tap0", "192.0.2.60/24"]);
    assert!(
        wait_for(&text, Duration::from_secs(5), |l| l.contains("addr removed tap0 192.0.2.60/24")).is_some()
    );
    assert!(wait_for(&json, Duration::from_secs(5), |l| l.contains("\"removed\"")
        && l.contains("192.0.2.60/24"))
    .is_some());

    d.cli_ok(&["route", "add", "198.51.100.0/24", "via", "192.0.2.2"]);
    for lines in [&text, &json] {
        assert!(wait_for(lines, Duration::from_secs(5), |l| l.contains("route")
            && l.contains("198.51.100.0/24"))
        .is_some());
    }
    d.cli_ok(&["if", "down", "tap0"]);
    assert!(wait_for(&text, Duration::from_secs(5), |l| l.contains("link down tap0")).is_some());
}
