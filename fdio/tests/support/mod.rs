//! The world the shim's end-to-end tests run in: a network namespace of the test's own with
//! the `netstack` daemon on TAP `tap0` (192.0.2.1/24, 2001:db8::1/64) publishing its socket
//! API in a svc dir of the test's own, the kernel on the other side of the TAP
//! (192.0.2.2/24, 2001:db8::2/64) running helper programs, and `python3` scripts run under
//! `LD_PRELOAD=libfdio.so` as the applications.
//!
//! Everything is removed in `Drop`, also when a test fails: the processes this harness
//! started (by PID: SIGTERM, then SIGKILL), the namespace and the svc dir.
//!
//! Skips loudly without root (failing instead under `CI=true`), and whenever the daemon
//! has no socket API yet (no `--svc-dir` in `netstack run --help`).

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// The daemon's IPv6 address on the TAP.
const NETSTACK_V6: &str = "2001:db8::1";

/// `target/<profile>/`, where cargo put this test, `libfdio.so` and `netstack`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>").to_path_buf()
}

/// The daemon binary: `$NETSTACK_BIN`, or the workspace's `netstack` built by cargo (once
/// per test process).
fn netstack_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_netstack).clone()
}

fn build_netstack() -> PathBuf {
    if let Some(bin) = std::env::var_os("NETSTACK_BIN") {
        return PathBuf::from(bin);
    }
    let dir = profile_dir();
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_owned(),
        Some(other) => other.to_owned(),
    };
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "netstack", "--bin", "netstack", "--profile", &profile])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo build for the daemon");
    assert!(out.status.success(), "cargo build -p netstack: {}", String::from_utf8_lossy(&out.stderr));
    dir.join("netstack")
}

/// The shim: the one cargo built for this test run. `cargo test` leaves it in `deps/`
/// (only `cargo build` copies it up to `target/<profile>/`).
pub fn libfdio() -> PathBuf {
    let dir = profile_dir();
    let so = [dir.join("deps/libfdio.so"), dir.join("libfdio.so")].into_iter().find(|p| p.exists());
    so.unwrap_or_else(|| panic!("no libfdio.so in {}: cargo builds it with the fdio crate", dir.display()))
}

/// Whether this test may run (see the module documentation).
fn may_run(test: &str, netstack: &Path) -> bool {
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !uid.unwrap_or(false) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: needs root, and CI=true");
        eprintln!("\n*** SKIPPED {test}: needs root to create network namespaces and TAP interfaces ***\n");
        return false;
    }
    let help = Command::new(netstack).args(["run", "--help"]).output().expect("netstack run --help");
    if !String::from_utf8_lossy(&help.stdout).contains("--svc-dir") {
        eprintln!(
            "\n*** SKIPPED {test}: this netstack daemon does not serve the socket API (no --svc-dir) ***\n"
        );
        return false;
    }
    true
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A namespace with the daemon and the kernel peer.
pub struct World {
    pub ns: String,
    pub svc: PathBuf,
    daemon: Option<Child>,
    helpers: Vec<Child>,
}

impl World {
    /// Sets the world up, or `None` when the test must skip.
    pub fn start(test: &str) -> Option<World> {
        let netstack = netstack_binary();
        if !may_run(test, &netstack) {
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let ns = format!("fdio-{}-{n}", std::process::id());
        let svc = std::env::temp_dir().join(format!("{ns}-svc"));
        run_ok("ip", &["netns", "add", &ns]);
        let mut world = World { ns, svc, daemon: None, helpers: Vec::new() };
        world.ip(&["link", "set", "lo", "up"]);
        let mut daemon = Command::new("ip")
            .args(["netns", "exec", &world.ns])
            .arg(&netstack)
            .args(["run", "--tap", "tap0", "--addr", "192.0.2.1/24", "--addr", "2001:db8::1/64", "--svc-dir"])
            .arg(&world.svc)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start netstack");
        let out = lines(daemon.stdout.take().expect("stdout"), "netstack");
        let _err = lines(daemon.stderr.take().expect("stderr"), "netstack");
        world.daemon = Some(daemon);
        wait_for_line(&out, "netstack: ready", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("the netstack never said it was ready"));
        world.ip(&["addr", "add", "192.0.2.2/24", "dev", "tap0"]);
        world.ip(&["-6", "addr", "add", "2001:db8::2/64", "dev", "tap0", "nodad"]);
        Some(world)
    }

    /// `ip -n NS args`, which must succeed.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.ns.as_str()];
        full.extend_from_slice(args);
        run_ok("ip", &full)
    }

    /// The daemon's PID.
    pub fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().expect("daemon").id()
    }

    /// Waits until the kernel reaches the netstack's IPv6 address (its DAD has passed).
    pub fn wait_for_ipv6(&self) {
        let deadline = Instant::now() + Duration::from_secs(8);
        while !self.exec("ping", &["-c", "1", "-W", "1", NETSTACK_V6]).status.success() {
            assert!(Instant::now() < deadline, "{NETSTACK_V6} never answered");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `cmd args` in the namespace, waited for.
    pub fn exec(&self, cmd: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, cmd])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run in namespace")
    }

    /// Starts the Python program `script` on the kernel's side (no shim) and waits until it
    /// prints `READY`.
    pub fn kernel(&mut self, script: &str) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns, "python3", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kernel helper");
        let out = lines(child.stdout.take().expect("stdout"), "kernel");
        let _err = lines(child.stderr.take().expect("stderr"), "kernel");
        self.helpers.push(child);
        wait_for_line(&out, "READY", Duration::from_secs(10)).expect("the kernel helper never said READY");
    }

    /// Runs the Python program `script` over the netstack (`LD_PRELOAD=libfdio.so`), for at
    /// most `timeout`, with `env` added; returns its output, which it echoes.
    pub fn shim_with(&self, script: &str, env: &[(&str, &str)], timeout: Duration) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "timeout", "-k", "2"])
            .arg(format!("{}", timeout.as_secs()))
            .args(["python3", "-c", script])
            .env("LD_PRELOAD", libfdio())
            .env("NETSTACK_SVC_DIR", &self.svc)
            .env("NETSTACK_FDIO_DEBUG", "1")
            .env("DAEMON_PID", self.daemon_pid().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start python3 under the shim");
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("wait for python3");
        eprintln!("--- shim stdout:\n{}", String::from_utf8_lossy(&out.stdout));
        eprintln!("--- shim stderr:\n{}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// [`World::shim_with`] without extra environment and a 60 s limit; asserts that the
    /// script succeeded and returns its stdout.
    pub fn shim(&self, script: &str) -> String {
        let out = self.shim_with(script, &[], Duration::from_secs(60));
        assert!(out.status.success(), "the script under the shim failed: {:?}", out.status);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for mut child in self.helpers.drain(..).chain(self.daemon.take()) {
            terminate(&mut child);
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = std::fs::remove_dir_all(&self.svc);
    }
}

/// SIGTERM, then SIGKILL after two seconds; only the process we started (`ip netns exec`
/// execs its command, so the PID is the command's own).
fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    for _ in 0..40 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A channel of the lines `pipe` produces, echoed to stderr with `tag`.
fn lines(pipe: impl std::io::Read + Send + 'static, tag: &'static str) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = writeln!(std::io::stderr(), "  {tag} | {line}");
            let _ = tx.send(line);
        }
    });
    rx
}

fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Some(line),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

fn run_ok(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
