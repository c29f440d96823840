//! `nginx`, unmodified, over the shim (`libfdio.so`), loaded by the kernel's `wrk` (see
//! `support::apps` for the two namespaces and `tests/apps/nginx.conf` for the server): once
//! as a single process, once with a master and two forked workers. `wrk` keeps 100
//! connections busy for 10 s; there must be no socket error and no response other than 2xx,
//! and afterwards no connection may be left open: on the kernel's side, nothing but
//! TIME-WAIT towards nginx once the run is over, and in the daemon no socket (its open
//! descriptors fall back to their count before the run).
//!
//! Needs root, nginx, wrk and curl; skips loudly without them, except under `CI=true`.
//! `FDIO_TESTS_ON_LINUX=1` runs the same programs on Linux alone, to check the tests.

mod support;

use std::time::{Duration, Instant};

use support::apps::{can_run, retry, AppNet, Proc, APPS_DIR, OURS_V4, OURS_V6};

/// The page wrk asks for: 16 KiB of text, so each response takes several segments.
fn page() -> String {
    (0..16 * 1024).map(|i| if i % 64 == 63 { '\n' } else { char::from(b'a' + (i % 26) as u8) }).collect()
}

/// `curl URL` from the kernel; the body, or `None` when the request failed.
fn curl(net: &AppNet, url: &str) -> Option<String> {
    let done = Proc::run(
        "curl",
        net.peer("curl", &["-sS", "--fail", "-g", "--max-time", "5", url]),
        Duration::from_secs(10),
    );
    done.status.is_some_and(|s| s.success()).then_some(done.stdout)
}

/// The kernel's TCP connections to nginx that are not closed yet: anything but TIME-WAIT
/// (which the kernel, closing first, keeps by design) and listeners.
fn open_connections_to_nginx(net: &AppNet) -> Vec<String> {
    net.peer_tcp_sockets()
        .into_iter()
        .filter(|l| l.contains(":8080") && !l.starts_with("TIME-WAIT") && !l.starts_with("LISTEN"))
        .collect()
}

/// nginx on the shim (`nginx_flags` given with `-g`), checked with curl over IPv4 and IPv6,
/// then loaded by wrk.
/// One load test at a time: two daemons, two nginx and two wrk at once on a two-core CI
/// machine measure the machine, not the netstack.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn nginx_under_wrk(test: &str, nginx_flags: &str) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !can_run(test, &["nginx", "wrk", "curl"]) {
        return;
    }
    let net = AppNet::new();
    let prefix = net.path("nginx");
    for dir in ["html", "logs", "tmp"] {
        std::fs::create_dir_all(prefix.join(dir)).expect("nginx prefix");
    }
    let page = page();
    std::fs::write(prefix.join("html/index.html"), &page).expect("write the page");
    let prefix_arg = format!("{}/", prefix.display());
    let conf = format!("{APPS_DIR}/nginx.conf");
    let mut nginx = Proc::start(
        "nginx",
        net.app("nginx", &["-p", &prefix_arg, "-c", &conf, "-e", "stderr", "-g", nginx_flags]),
    );
    let url = format!("http://{OURS_V4}:8080/index.html");
    let first =
        retry("nginx on the shim answers", Duration::from_secs(20), Duration::from_millis(100), || {
            assert!(!nginx.exited(), "nginx exited:\n{}", nginx.output());
            curl(&net, &url)
        });
    assert!(first == page, "curl {url}: the page differs");
    let url6 = format!("http://[{OURS_V6}]:8080/index.html");
    assert!(curl(&net, &url6).is_some_and(|body| body == page), "curl {url6}: no page or a different one");

    // The daemon's descriptors with nginx idle: its listeners and channels, no connection.
    let idle_fds = net.daemon_fds();
    let started = Instant::now();
    // Halfway through, the daemon's descriptors count wrk's 100 connections (which shows
    // that the count after the run can tell a leak).
    let (wrk, busy_fds) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            std::thread::sleep(Duration::from_secs(5));
            net.daemon_fds()
        });
        let wrk = Proc::run(
            "wrk",
            net.peer("wrk", &["-t", "2", "-c", "100", "-d", "10s", "--timeout", "5s", &url]),
            Duration::from_secs(40),
        );
        (wrk, sampler.join().unwrap_or(None))
    });
    wrk.assert_success("wrk");
    let report = &wrk.stdout;
    eprintln!("wrk ({nginx_flags}), {:.1} s:\n{report}", started.elapsed().as_secs_f64());
    let requests: u64 = report
        .lines()
        .find_map(|l| l.trim().split_once(" requests in ").and_then(|(n, _)| n.parse().ok()))
        .unwrap_or(0);
    assert!(requests > 0, "wrk completed no request:\n{report}");
    assert!(!report.contains("Socket errors"), "wrk saw socket errors:\n{report}");
    assert!(!report.contains("Non-2xx or 3xx"), "nginx answered other than 2xx:\n{report}");

    // wrk closed its connections as it exited; each must finish closing, both ways.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut open = open_connections_to_nginx(&net);
    while !open.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        open = open_connections_to_nginx(&net);
    }
    assert!(
        open.is_empty(),
        "10 s after wrk, the kernel still has {} connection(s) to nginx open:\n{}",
        open.len(),
        open.join("\n")
    );

    // And the daemon must have freed every connection's socket: its descriptors fall back
    // to what they were before wrk (a little slack for a channel still closing).
    if let Some(idle) = idle_fds {
        let settled = |fds: usize| fds <= idle + 4;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut fds = net.daemon_fds().unwrap_or(usize::MAX);
        while !settled(fds) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            fds = net.daemon_fds().unwrap_or(usize::MAX);
        }
        eprintln!("the daemon's descriptors: {idle} before wrk, {busy_fds:?} during, {fds} after");
        assert!(
            busy_fds.is_some_and(|busy| busy >= idle + 100),
            "wrk's connections do not show in the daemon's descriptors"
        );
        assert!(
            settled(fds),
            "the daemon held {idle} descriptors before wrk and still holds {fds} 10 s after it"
        );
    }

    assert!(!nginx.exited(), "nginx exited under load:\n{}", nginx.output());
    let log = nginx.output();
    let bad: Vec<&str> = log
        .lines()
        .filter(|l| ["[emerg]", "[alert]", "[crit]", "[error]"].iter().any(|level| l.contains(level)))
        .collect();
    assert!(bad.is_empty(), "nginx logged errors:\n{}", bad.join("\n"));
    drop(nginx);
    net.assert_app_kernel_unused();
}

#[test]
fn nginx_single_process_on_the_shim_serves_wrk() {
    nginx_under_wrk("nginx_single_process_on_the_shim_serves_wrk", "master_process off;");
}

#[test]
fn nginx_with_forked_workers_on_the_shim_serves_wrk() {
    nginx_under_wrk(
        "nginx_with_forked_workers_on_the_shim_serves_wrk",
        "master_process on; worker_processes 2;",
    );
}
