//! `curl` and `python3 -m http.server`, unmodified, over the shim (`libfdio.so`), with the
//! Linux kernel as the other end (see `support::apps` for the two namespaces): curl on the
//! shim downloads a file from the kernel's http.server, and http.server on the shim, bound
//! to `::` (one dual-stack socket: http.server turns IPV6_V6ONLY off), serves the kernel's
//! curl over IPv4 and IPv6. Its default bind would not do: Debian 12's glibc lists
//! `0.0.0.0` before `::` for a passive wildcard, so the default is an IPv4-only socket.
//! Every download is compared by SHA-256 with the file served.
//!
//! Needs root, curl and python3; skips loudly without them, except under `CI=true`.
//! `FDIO_TESTS_ON_LINUX=1` runs the same programs on Linux alone, to check the tests.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::apps::{can_run, retry, sha256, AppNet, Proc, OURS_V4, OURS_V6, PEER_V4, PEER_V6, PYTHON};

/// The size of the file downloaded over IPv4. A debug build of the daemon and the shim moves
/// it in about N s (measured on the 2-core CI machine); the IPv6 downloads take a fifth of it.
const BIG: usize = 50_000_000;
const SMALL: usize = BIG / 5;

/// A directory `www` in the scratch directory with the random files `big` and `small`;
/// returns the directory.
fn web_root(net: &AppNet) -> PathBuf {
    let www = net.path("www");
    std::fs::create_dir_all(&www).expect("web root");
    for (name, len) in [("big", BIG), ("small", SMALL)] {
        let file = net.random_file(name, len);
        std::fs::rename(&file, www.join(name)).expect("move into the web root");
    }
    www
}

/// `curl URL -o OUT` through `cmd_for` (the app or the peer side); panics unless it
/// succeeds and OUT has the SHA-256 of `served`. Returns curl's measured speed in MB/s.
fn download(net: &AppNet, on_shim: bool, url: &str, served: &std::path::Path) -> f64 {
    let out = net.path("download");
    let _ = std::fs::remove_file(&out);
    let out_str = out.to_str().expect("utf-8 path");
    let args = ["-sS", "--fail", "-g", "--max-time", "120", "-w", "%{speed_download}", "-o", out_str, url];
    let cmd = if on_shim { net.app("curl", &args) } else { net.peer("curl", &args) };
    let done = Proc::run("curl", cmd, Duration::from_secs(130));
    done.assert_success(&format!("curl {url}"));
    assert_eq!(sha256(&out), sha256(served), "curl {url}: the download differs from the file served");
    let speed: f64 = done.stdout.trim().parse().unwrap_or(0.0);
    let mb_s = speed / 1e6;
    eprintln!("curl {url}: {:.1} s, {mb_s:.1} MB/s", done.elapsed.as_secs_f64());
    mb_s
}

#[test]
fn curl_on_the_shim_downloads_from_the_kernels_http_server() {
    if !can_run("curl_on_the_shim_downloads_from_the_kernels_http_server", &["curl", PYTHON]) {
        return;
    }
    let net = AppNet::new();
    let www = web_root(&net);
    let server = Proc::start(
        "http.server",
        net.peer(
            PYTHON,
            &["-m", "http.server", "8000", "--bind", "::", "--directory", www.to_str().expect("utf-8")],
        ),
    );
    net.wait_peer_listening(8000, false);
    download(&net, true, &format!("http://{PEER_V4}:8000/big"), &www.join("big"));
    download(&net, true, &format!("http://[{PEER_V6}]:8000/small"), &www.join("small"));
    drop(server);
    net.assert_app_kernel_unused();
}

#[test]
fn http_server_on_the_shim_serves_the_kernels_curl_over_ipv4_and_ipv6() {
    if !can_run("http_server_on_the_shim_serves_the_kernels_curl_over_ipv4_and_ipv6", &["curl", PYTHON]) {
        return;
    }
    let net = AppNet::new();
    let www = web_root(&net);
    let server = Proc::start(
        "http.server",
        net.app(
            PYTHON,
            &["-m", "http.server", "8000", "--bind", "::", "--directory", www.to_str().expect("utf-8")],
        ),
    );
    let url = format!("http://{OURS_V4}:8000/");
    retry("http.server on the shim answers", Duration::from_secs(20), Duration::from_millis(100), || {
        let probe = net.peer("curl", &["-sS", "--fail", "--max-time", "5", "-o", "/dev/null", &url]);
        Proc::run("curl probe", probe, Duration::from_secs(10))
            .status
            .is_some_and(|s| s.success())
            .then_some(())
    });
    download(&net, false, &format!("http://{OURS_V4}:8000/big"), &www.join("big"));
    download(&net, false, &format!("http://[{OURS_V6}]:8000/small"), &www.join("small"));
    let log = server.output();
    drop(server);
    // http.server logs each request with the client's address: the IPv4 one as mapped.
    assert!(log.contains(&format!("::ffff:{PEER_V4}")), "http.server saw no IPv4-mapped client:\n{log}");
    assert!(log.contains(PEER_V6), "http.server saw no IPv6 client:\n{log}");
    net.assert_app_kernel_unused();
}
