//! The diagnostics commands against a running daemon: `sock list` showing a live TCP
//! connection from the kernel with its TCP_INFO, `stats` with the counters the kernel's pings
//! moved and their changes per `--interval`, and `inspect` printing the tree as JSON.
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use std::time::{Duration, Instant};

use support::cli::{CliDaemon, ECHO_PORT, KERNEL_V4, STACK_V4};

#[test]
fn sock_list_shows_a_live_tcp_connection_with_its_tcp_info() {
    let Some(mut d) = CliDaemon::start("sock_list_shows_a_live_tcp_connection_with_its_tcp_info") else {
        return;
    };
    // A connection from the kernel that stays open: socat's stdin is a pipe from `sleep`.
    let connect = format!("sleep 20 | socat - TCP:{STACK_V4}:{ECHO_PORT}");
    d.ns.spawn("sh", &["-c", &connect]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = d.cli_ok(&["sock", "list", "-tni"]);
        if text.contains(&format!("{KERNEL_V4}:")) {
            break text;
        }
        assert!(Instant::now() < deadline, "no connection from the kernel listed: {text}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("Netid")
            && lines[0].contains("Recv-Q")
            && lines[0].contains("Peer Address:Port"),
        "{text}"
    );
    let at = lines.iter().position(|l| l.contains(&format!("{KERNEL_V4}:"))).unwrap();
    let conn = lines[at];
    assert!(conn.starts_with("tcp") && conn.contains("ESTAB"), "{text}");
    assert!(conn.contains(&format!("{STACK_V4}:{ECHO_PORT}")), "{text}");
    let info = lines.get(at + 1).copied().unwrap_or_default();
    assert!(info.starts_with('\t'), "the TCP_INFO line follows: {text}");
    for field in ["rtt:", "cwnd:", "retrans:", "mss:"] {
        assert!(info.contains(field), "{field} in {info}");
    }
    // The listener shows with -l, not without.
    assert!(!text.contains("LISTEN"), "{text}");
    let listening = d.cli_ok(&["sock", "list", "-tl"]);
    assert!(
        listening.lines().any(|l| l.contains("LISTEN") && l.contains(&format!(":{ECHO_PORT}"))),
        "{listening}"
    );
    // -a shows both; JSON carries the same.
    let all = d.cli_json(&["sock", "list", "-tai"]);
    let all = all.as_array().unwrap();
    assert!(all.iter().any(|s| s["state"] == "LISTEN"));
    let conn = all
        .iter()
        .find(|s| s["peer"].as_str().is_some_and(|p| p.starts_with(KERNEL_V4)))
        .expect("connection");
    assert_eq!(conn["netid"], "tcp");
    assert!(conn["tcp_info"]["snd_cwnd"].as_u64().is_some_and(|c| c > 0), "{conn}");
    // UDP only: the TCP connection is not there.
    assert!(!d.cli_ok(&["sock", "list", "-ua"]).contains("tcp"));
}

#[test]
fn stats_show_counters_and_their_changes() {
    let Some(d) = CliDaemon::start("stats_show_counters_and_their_changes") else { return };
    assert!(d.wait_for_ping(STACK_V4, &[], true, Duration::from_secs(5)));
    let text = d.cli_ok(&["stats"]);
    let value = |text: &str, name: &str| -> Option<u64> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    assert!(value(&text, "IpInReceives").is_some_and(|v| v > 0), "{text}");
    assert!(value(&text, "IcmpInMsgs").is_some_and(|v| v > 0), "{text}");
    assert!(text.lines().all(|l| !l.ends_with(" 0")), "zero counters are hidden: {text}");
    let all = d.cli_ok(&["stats", "--all", "Tcp*"]);
    assert!(all.lines().all(|l| l.starts_with("Tcp")), "{all}");
    assert!(all.lines().any(|l| l.ends_with(" 0")), "--all shows zeros: {all}");
    let json = d.cli_json(&["stats", "Icmp*"]);
    assert!(json["IcmpInMsgs"].as_u64().is_some_and(|v| v > 0), "{json}");

    // Pings while `--interval` runs show as changes.
    let pinger = {
        let ns_name = d.ns.name.clone();
        std::thread::spawn(move || {
            let _ = std::process::Command::new("ip")
                .args(["netns", "exec", &ns_name, "ping", "-c", "6", "-i", "0.25", STACK_V4])
                .output();
        })
    };
    let out = d.cli_ok(&["--json", "stats", "--interval", "0.5", "--count", "3", "IcmpInMsgs"]);
    pinger.join().unwrap();
    let reports: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(reports.len(), 3, "{out}");
    let moved: u64 = reports.iter().filter_map(|r| r["counters"]["IcmpInMsgs"].as_u64()).sum();
    assert!((1..=6).contains(&moved), "changes, not totals: {out}");
}

#[test]
fn inspect_prints_the_tree_or_a_node() {
    let Some(d) = CliDaemon::start("inspect_prints_the_tree_or_a_node") else { return };
    let tree = d.cli_json(&["inspect"]);
    assert!(tree["Stack"]["Devices"]["tap0"].is_object(), "{tree}");
    assert!(tree["Stack"]["Mib"]["Ip"].is_object(), "{tree}");
    // Pretty-printed also without --json, and a subtree by path.
    let text = d.cli_ok(&["inspect", "Stack.Devices.tap0"]);
    assert!(text.lines().count() > 3, "pretty JSON: {text}");
    let node: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(node["Mtu"], 1500);
    d.cli_fails(&["inspect", "Stack.Nope"], 1, "no such node");
}

#[test]
fn sock_list_names_the_process_holding_a_socket() {
    let Some(mut d) = CliDaemon::start("sock_list_names_the_process_holding_a_socket") else { return };
    if !support::apps::can_run("sock_list_names_the_process_holding_a_socket", &["python3"]) {
        return;
    }
    // python3 over the shim: its listener lives in the daemon, its pid comes from the
    // connection to the socket provider.
    let lib = support::apps::libfdio();
    let preload = format!("LD_PRELOAD={}", lib.display());
    let svc = format!("NETSTACK_SVC_DIR={}", d.svc_dir);
    let script = format!(
        "import socket, time\ns = socket.socket()\ns.bind(('{STACK_V4}', 8080))\ns.listen()\nprint('listening', flush=True)\ntime.sleep(30)"
    );
    let (out, _err) = d.ns.spawn("env", &[&preload, &svc, "python3", "-c", &script]);
    assert!(
        support::cli::wait_for(&out, Duration::from_secs(20), |l| l == "listening").is_some(),
        "python3 listens"
    );
    let text = d.cli_ok(&["sock", "-tlp"]);
    let line =
        text.lines().find(|l| l.contains(&format!("{STACK_V4}:8080"))).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("LISTEN") && line.contains("users:((\"python3\",pid="), "{text}");
    let json = d.cli_json(&["sock", "list", "-tlp"]);
    let sock =
        json.as_array().unwrap().iter().find(|s| s["local"] == format!("{STACK_V4}:8080")).expect("listed");
    assert_eq!(sock["process"], "python3");
    assert!(sock["pid"].as_u64().is_some_and(|p| p > 1));
}
