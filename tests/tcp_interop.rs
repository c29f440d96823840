//! TCP interop with the Linux kernel as the peer: each test makes a network namespace,
//! starts `netstack run --tap tap0 --addr 192.0.2.1/24 --addr 2001:db8::1/64 --tcp-echo 7`
//! in it, gives the kernel side 192.0.2.2/24 and 2001:db8::2/64, and has the kernel's TCP
//! (through `socat`) push data through our echo service: everything the kernel sends must
//! come back byte for byte, checked by SHA-256, and the session must look right to
//! `tshark` (window scaling, SACK and timestamps negotiated, no RST on an orderly close).
//! The other way round, the kernel listens and the netstack connects (`--tcp-echo-to`).
//!
//! Needs root; skips loudly without it, except under `CI=true`.

mod support;

use std::time::{Duration, Instant};

use support::apps::{can_run, retry, sha256};
use support::netns::{have_root, tshark_count, Netns};

/// The daemon with the TCP echo service, and the kernel side of tap0 configured.
fn echo_in_namespace() -> Netns {
    let mut ns = Netns::new();
    ns.start_netstack(&[
        "run",
        "--tap",
        "tap0",
        "--addr",
        "192.0.2.1/24",
        "--addr",
        "2001:db8::1/64",
        "--tcp-echo",
        "7",
    ]);
    ns.add_addrs("tap0", "192.0.2.2/24", "2001:db8::2/64");
    ns
}

/// Sends `bytes` of random data from the kernel to the echo service at `target` (a socat
/// address) and reads the echo back; returns the SHA-256 sums of what was sent and what
/// came back, and the seconds it took.
fn echo_through(ns: &Netns, target: &str, bytes: usize) -> (String, String, f64) {
    let dir = std::env::temp_dir().join(format!("{}-tcp", ns.name));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let (input, output) = (dir.join("in"), dir.join("out"));
    let script = format!(
        "head -c {bytes} /dev/urandom > {i} && timeout 300 socat -t 60 -T 60 -b 65536 - {target} < {i} > {o}",
        i = input.display(),
        o = output.display(),
    );
    let start = Instant::now();
    let out = ns.exec("sh", &["-c", &script]);
    let seconds = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "socat failed: {}", String::from_utf8_lossy(&out.stderr));
    let (sent, echoed) = (sha256(&input), sha256(&output));
    let _ = std::fs::remove_dir_all(&dir);
    (sent, echoed, seconds)
}

#[test]
fn the_kernel_gets_100_mb_echoed_back_byte_for_byte_over_ipv4() {
    if !have_root("the_kernel_gets_100_mb_echoed_back_byte_for_byte_over_ipv4") {
        return;
    }
    let ns = echo_in_namespace();
    ns.ping_until_answered("192.0.2.1");
    let size = 100_000_000;
    let (sent, echoed, seconds) = echo_through(&ns, "TCP:192.0.2.1:7", size);
    assert!(!sent.is_empty());
    assert_eq!(sent, echoed, "100 MB to the netstack and back: the echo differs");
    let mbit = 2.0 * size as f64 * 8.0 / seconds / 1e6;
    eprintln!("100 MB each way over TAP in {seconds:.1} s: {mbit:.0} Mbit/s both directions together");
}

#[test]
fn the_netstack_connects_to_a_kernel_listener_and_echoes_100_mb() {
    if !have_root("the_netstack_connects_to_a_kernel_listener_and_echoes_100_mb") {
        return;
    }
    let mut ns = Netns::new();
    let dir = std::env::temp_dir().join(format!("{}-active", ns.name));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let (input, output, rc) = (dir.join("in"), dir.join("out"), dir.join("rc"));
    let size = 100_000_000;
    let made = ns.exec("sh", &["-c", &format!("head -c {size} /dev/urandom > {}", input.display())]);
    assert!(made.status.success());
    // The kernel listens first; it sends the file to whoever connects and keeps the echo.
    let script = format!(
        "timeout 300 socat -t 60 -T 60 -b 65536 TCP-LISTEN:9000,reuseaddr - < {i} > {o}; echo $? > {r}",
        i = input.display(),
        o = output.display(),
        r = rc.display(),
    );
    ns.spawn("sh", &["-c", &script]);
    retry("socat never listened", Duration::from_secs(5), Duration::from_millis(20), || {
        String::from_utf8_lossy(&ns.exec("ss", &["-ltn"]).stdout).contains(":9000").then_some(())
    });
    ns.start_netstack(&["run", "--tap", "tap0", "--addr", "192.0.2.1/24", "--tcp-echo-to", "192.0.2.2:9000"]);
    // Our SYN went out before the kernel had its address: it is answered once the
    // address is there (resolution retries, then the SYN's own retransmission).
    ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "tap0"]);
    retry("the transfer did not finish", Duration::from_secs(120), Duration::from_millis(50), || {
        rc.exists().then_some(())
    });
    let status = std::fs::read_to_string(&rc).unwrap_or_default();
    assert_eq!(status.trim(), "0", "socat failed");
    let (sent, echoed) = (sha256(&input), sha256(&output));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(sent, echoed, "100 MB from the kernel's listener and back: the echo differs");
}

#[test]
fn the_kernel_gets_10_mb_echoed_back_over_ipv6() {
    if !have_root("the_kernel_gets_10_mb_echoed_back_over_ipv6") {
        return;
    }
    let ns = echo_in_namespace();
    ns.ping_until_answered("2001:db8::1");
    let (sent, echoed, _) = echo_through(&ns, "TCP6:[2001:db8::1]:7", 10_000_000);
    assert!(!sent.is_empty());
    assert_eq!(sent, echoed, "10 MB over IPv6 to the netstack and back: the echo differs");
}

#[test]
fn a_closed_port_refuses_the_kernels_connection() {
    if !have_root("a_closed_port_refuses_the_kernels_connection") {
        return;
    }
    let ns = echo_in_namespace();
    ns.ping_until_answered("192.0.2.1");
    let out = ns.exec_with_input("socat", &["-T", "3", "-", "TCP:192.0.2.1:9"], b"anyone?\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("Connection refused"), "socat: {stderr}");
}

#[test]
fn the_session_negotiates_window_scaling_sack_and_timestamps_and_closes_without_rst() {
    let test = "the_session_negotiates_window_scaling_sack_and_timestamps_and_closes_without_rst";
    if !can_run(test, &["tshark"]) {
        return;
    }
    let mut ns = echo_in_namespace();
    ns.ping_until_answered("192.0.2.1");
    let pcap = std::env::temp_dir().join(format!("{}-tcp.pcap", ns.name));
    let pcap_path = pcap.to_str().expect("utf-8 path").to_owned();
    // Headers only: the payload is not what is under test, and the capture stays small.
    ns.start_capture("tap0", &pcap_path, &["-s", "128"]);
    let (sent, echoed, _) = echo_through(&ns, "TCP:192.0.2.1:7", 2_000_000);
    assert_eq!(sent, echoed);
    ns.stop_capture();
    let tshark = |filter: &str| tshark_count(&pcap_path, &["tcp.check_checksum:TRUE"], filter);
    let ours = "ip.src == 192.0.2.1 && tcp";
    assert!(tshark(ours) > 100, "the capture holds our segments");
    let syn_ack = "tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.src == 192.0.2.1";
    assert_eq!(tshark(syn_ack), 1, "one SYN-ACK");
    assert_eq!(tshark(&format!("{syn_ack} && tcp.options.wscale.shift && tcp.options.sack_perm && tcp.options.timestamp.tsval && tcp.options.mss_val == 1460")), 1,
        "our SYN-ACK offers window scaling, SACK, timestamps and MSS 1460");
    assert_eq!(
        tshark(&format!("{ours} && tcp.flags.ack == 1 && !tcp.options.timestamp.tsval")),
        0,
        "every segment carries timestamps"
    );
    assert_eq!(tshark("tcp.flags.reset == 1"), 0, "an orderly close has no RST");
    assert_eq!(tshark("tcp.flags.fin == 1"), 2, "one FIN each way");
    assert_eq!(tshark(&format!("({ours}) && (_ws.malformed || _ws.expert.severity == error)")), 0);
    assert_eq!(tshark(&format!("({ours}) && tcp.checksum.status == 0")), 0, "no bad checksum");
    let _ = std::fs::remove_file(&pcap);
}
