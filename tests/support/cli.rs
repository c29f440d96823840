//! The admin CLI against a daemon: a namespace with `netstack run --tap tap0` inside (the
//! kernel on the other end of the TAP, as in the interop tests), and helpers that run
//! `netstack --svc-dir DIR ...` against it. The svc dir is a path in the file system, which
//! every network namespace sees, so the CLI itself runs outside the namespace unless a test
//! starts it there in the background ([`CliDaemon::spawn_cli`]).

use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::netns::{have_root, Netns};

/// The daemon's addresses on tap0 and the kernel's.
pub const STACK_V4: &str = "192.0.2.1";
pub const KERNEL_V4: &str = "192.0.2.2";
pub const STACK_V6: &str = "2001:db8::1";
pub const KERNEL_V6: &str = "2001:db8::2";
/// The daemon's TCP echo port.
pub const ECHO_PORT: u16 = 7;

/// A running daemon in a namespace of its own.
pub struct CliDaemon {
    pub ns: Netns,
    pub svc_dir: String,
}

impl CliDaemon {
    /// Starts the daemon with tap0 (192.0.2.1/24, 2001:db8::1/64) and a TCP echo service on
    /// port 7, and configures the kernel's end (192.0.2.2/24, 2001:db8::2/64). `None` (after a
    /// loud message) without root, outside CI.
    pub fn start(test: &str) -> Option<Self> {
        if !have_root(test) {
            return None;
        }
        let mut ns = Netns::new();
        let port = ECHO_PORT.to_string();
        ns.start_netstack(&[
            "run",
            "--tap",
            "tap0",
            "--addr",
            &format!("{STACK_V4}/24"),
            "--addr",
            &format!("{STACK_V6}/64"),
            "--tcp-echo",
            &port,
        ]);
        ns.add_addrs("tap0", &format!("{KERNEL_V4}/24"), &format!("{KERNEL_V6}/64"));
        let svc_dir = ns.svc_dir();
        Some(CliDaemon { ns, svc_dir })
    }

    /// `netstack --svc-dir DIR args...`, waited for.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_netstack"))
            .args(["--svc-dir", &self.svc_dir])
            .args(args)
            .output()
            .expect("run netstack")
    }

    /// `netstack --svc-dir DIR args...`, which must succeed without a word on stderr;
    /// returns its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "netstack {args:?} failed: {stderr}");
        assert!(stderr.is_empty() || !stderr.contains("netstack:"), "netstack {args:?}: {stderr}");
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// `netstack --svc-dir DIR --json args...`, parsed.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let text = self.cli_ok(&full);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("netstack {args:?}: not JSON ({e}): {text}"))
    }

    /// `netstack --svc-dir DIR args...` that must fail with exit status `code` and one line on
    /// stderr containing `message`; returns the line.
    pub fn cli_fails(&self, args: &[&str], code: i32, message: &str) -> String {
        let out = self.cli(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "netstack {args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "netstack {args:?}: one line, got {stderr:?}");
        assert!(stderr.contains(message), "netstack {args:?}: {stderr}");
        stderr
    }

    /// Starts `netstack --svc-dir DIR args...` in the background (stopped with SIGTERM when
    /// the test ends or by [`Netns::stop_last`]); returns its stdout and stderr lines.
    pub fn spawn_cli(&mut self, args: &[&str]) -> (mpsc::Receiver<String>, mpsc::Receiver<String>) {
        let mut full = vec!["--svc-dir", self.svc_dir.as_str()];
        full.extend_from_slice(args);
        self.ns.spawn(env!("CARGO_BIN_EXE_netstack"), &full)
    }

    /// Whether one ping from the kernel to `dst` is answered within a second.
    pub fn kernel_ping(&self, dst: &str, extra: &[&str]) -> bool {
        let mut args = vec!["-c", "1", "-W", "1"];
        args.extend_from_slice(extra);
        args.push(dst);
        self.ns.exec("ping", &args).status.success()
    }

    /// Waits up to `timeout` for the kernel's pings to `dst` to be answered (or, with
    /// `answered` false, to go unanswered).
    pub fn wait_for_ping(&self, dst: &str, extra: &[&str], answered: bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.kernel_ping(dst, extra) == answered {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Waits for a line matching `pred` on `lines`.
pub fn wait_for(
    lines: &mpsc::Receiver<String>,
    timeout: Duration,
    pred: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match lines.recv_timeout(left) {
            Ok(line) if pred(&line) => return Some(line),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}
