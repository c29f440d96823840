//! Unmodified programs on the netstack's socket API, with the Linux kernel as their peer.
//!
//! [`AppNet::new`] builds two network namespaces:
//!
//! - the *peer* namespace, where `netstack run --tap tap0 --addr 192.0.2.1/24 --addr
//!   2001:db8::1/64 --svc-dir DIR` runs and the kernel holds the other end of `tap0` as
//!   192.0.2.2/24 and 2001:db8::2/64: programs started with [`AppNet::peer`] use the kernel's
//!   sockets there;
//! - the *app* namespace, with nothing but `lo`, where programs started with [`AppNet::app`]
//!   run with `LD_PRELOAD=libfdio.so NETSTACK_SVC_DIR=DIR`. The shim reaches the daemon over
//!   `AF_UNIX` path sockets, which no namespace separates; but the kernel of the app namespace
//!   has no route anywhere, so a socket the shim failed to take over cannot reach the peer by
//!   accident. [`AppNet::assert_app_kernel_unused`] proves afterwards that the kernel there
//!   sent no IP packet and opened no TCP connection at all.
//!
//! With `FDIO_TESTS_ON_LINUX=1` the app namespace instead gets a veth pair to the peer with
//! the same addresses and no shim: the same tests then run the programs on Linux alone,
//! which checks the tests themselves (their expectations are Linux's behaviour).
//!
//! The shim is built by the test itself (`cargo build -p netstack-fdio` with the profile and
//! target directory of the test binary), once per test binary: `cargo test -p netstack`
//! alone does not build another package's `cdylib`, and a stale `libfdio.so` left by an
//! earlier build would test old code.
//!
//! Every process runs in a process group of its own, has a deadline, and is stopped (SIGTERM,
//! then SIGKILL, to its group: its forks too) when it misses the deadline or its [`Proc`] is
//! dropped; the namespaces and the scratch directory are removed in `Drop`, also when a test
//! panics.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};

use super::netns::{have_root, Netns};

/// The netstack's addresses (the app side), and the kernel's in the peer namespace.
pub const OURS_V4: &str = "192.0.2.1";
pub const OURS_V6: &str = "2001:db8::1";
pub const PEER_V4: &str = "192.0.2.2";
pub const PEER_V6: &str = "2001:db8::2";
/// An address on the link that nobody answers (ARP and NDP fail for it).
pub const SILENT_V4: &str = "192.0.2.99";

/// The directory of scripts and configurations the tests give the programs.
pub const APPS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/apps");

/// The Debian interpreter, not whatever `python3` comes first in `PATH` (a pyenv shim is a
/// shell script that would run under the shim too).
pub const PYTHON: &str = "/usr/bin/python3";

/// Whether the programs run on Linux alone (`FDIO_TESTS_ON_LINUX=1`) instead of the shim.
pub fn on_linux() -> bool {
    std::env::var("FDIO_TESTS_ON_LINUX").is_ok_and(|v| v == "1")
}

/// Whether `test` may run: it needs root and every program in `programs` (names looked up
/// in `PATH`, or absolute paths). Otherwise it skips with a loud message, except under
/// `CI=true`, where it must run and so fails.
pub fn can_run(test: &str, programs: &[&str]) -> bool {
    if !have_root(test) {
        return false;
    }
    let missing: Vec<&str> = programs.iter().copied().filter(|p| find_program(p).is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {missing:?} missing under CI=true (tests/run.sh installs them)"
    );
    eprintln!("\n*** SKIPPED {test}: {missing:?} not installed (tests/run.sh installs them) ***\n");
    false
}

fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// `libfdio.so`, built once per test binary with the test binary's own profile and target
/// directory. Panics (failing the test) when the build fails.
pub fn libfdio() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(build_libfdio).clone().unwrap_or_else(|e| panic!("{e}"))
}

fn build_libfdio() -> Result<PathBuf, String> {
    // CARGO_BIN_EXE_netstack is <target-dir>[/<triple>]/<profile-dir>/netstack.
    let exe = Path::new(env!("CARGO_BIN_EXE_netstack"));
    let profile_dir = exe.parent().ok_or("the netstack binary has no directory")?;
    let profile = match profile_dir.file_name().and_then(OsStr::to_str) {
        Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
        None => return Err(format!("no profile directory in {}", exe.display())),
    };
    let mut target_dir = profile_dir.parent().ok_or("no target directory")?.to_path_buf();
    let mut args = vec!["build".to_owned(), "-p".into(), "netstack-fdio".into(), "--profile".into(), profile];
    // A cross build puts a triple between the target directory (marked by CACHEDIR.TAG) and
    // the profile's.
    if !target_dir.join("CACHEDIR.TAG").exists() {
        if let Some(triple) = target_dir.file_name().and_then(OsStr::to_str) {
            args.extend(["--target".to_owned(), triple.to_owned()]);
        }
        target_dir = target_dir.parent().ok_or("no target directory")?.to_path_buf();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    let started = Instant::now();
    let out = Command::new(&cargo)
        .args(&args)
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run {cargo}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cargo} {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr)));
    }
    let lib = profile_dir.join("libfdio.so");
    if !lib.is_file() {
        return Err(format!("{cargo} {args:?} succeeded but {} is missing", lib.display()));
    }
    eprintln!("libfdio: {} (cargo build took {:.1} s)", lib.display(), started.elapsed().as_secs_f64());
    Ok(lib)
}

/// The two namespaces, the daemon, and a scratch directory.
pub struct AppNet {
    /// The daemon, when the programs run on the shim. Declared first: dropped first.
    daemon: Option<Proc>,
    pub peer: Netns,
    pub app: Netns,
    /// Scratch files of this test, removed in `Drop`.
    pub dir: PathBuf,
    svc_dir: PathBuf,
    lib: Option<PathBuf>,
    /// The kernel's interface towards the netstack, in the peer namespace.
    pub peer_if: &'static str,
}

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

impl AppNet {
    /// The daemon running and reachable over IPv4 and IPv6 (its IPv6 address is past DAD),
    /// or under `FDIO_TESTS_ON_LINUX=1` the veth pair.
    pub fn new() -> Self {
        Self::build(on_linux())
    }

    /// The veth pair, whatever `FDIO_TESTS_ON_LINUX` says: for a test of the test's own
    /// expectations against Linux.
    pub fn linux_alone() -> Self {
        Self::build(true)
    }

    fn build(linux_alone: bool) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "fdio-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let svc_dir = dir.join("svc");
        let peer = Netns::new();
        let app = Netns::new();
        let lib = (!linux_alone).then(libfdio);
        let mut net = Self { daemon: None, peer, app, dir, svc_dir, lib, peer_if: "tap0" };
        if linux_alone {
            net.peer_if = "peer0";
            net.peer.ip(&[
                "link",
                "add",
                "peer0",
                "type",
                "veth",
                "peer",
                "name",
                "app0",
                "netns",
                &net.app.name,
            ]);
            net.app.add_addrs("app0", &format!("{OURS_V4}/24"), &format!("{OURS_V6}/64"));
            net.app.ip(&["link", "set", "app0", "up"]);
            net.peer.ip(&["link", "set", "peer0", "up"]);
        } else {
            net.start_daemon();
        }
        net.peer.add_addrs(net.peer_if, &format!("{PEER_V4}/24"), &format!("{PEER_V6}/64"));
        net.peer.ping_until_answered(OURS_V4);
        net.peer.ping_until_answered(OURS_V6);
        net
    }

    fn start_daemon(&mut self) {
        let svc = self.svc_dir.to_str().expect("utf-8 path").to_owned();
        let args = [
            "run",
            "--tap",
            "tap0",
            "--addr",
            &format!("{OURS_V4}/24"),
            "--addr",
            &format!("{OURS_V6}/64"),
            "--svc-dir",
            &svc,
        ];
        let mut cmd = self.peer.command(env!("CARGO_BIN_EXE_netstack"), &args);
        // Plain log lines in a failed test's output.
        cmd.env("NO_COLOR", "1");
        let daemon = Proc::start("netstack", cmd);
        assert!(
            daemon.wait_for_output("netstack: ready", Duration::from_secs(10)),
            "the daemon never said it was ready:\n{}",
            daemon.output()
        );
        let provider = self.svc_dir.join("fuchsia.posix.socket.Provider");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !provider.exists() {
            assert!(
                Instant::now() < deadline,
                "the daemon did not publish {} (is the socket server in this build?):\n{}",
                provider.display(),
                daemon.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.daemon = Some(daemon);
    }

    /// Whether the programs started with [`Self::app`] run on the shim (not on Linux alone).
    pub fn on_shim(&self) -> bool {
        self.lib.is_some()
    }

    /// `program args` in the app namespace, on the shim.
    pub fn app<S: AsRef<OsStr>>(&self, program: &str, args: &[S]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.app.name]);
        if let Some(lib) = &self.lib {
            // `env` execs the program, so the PID stays the program's, and only the program
            // (not `ip`) loads the shim.
            cmd.arg("env").arg(format!("LD_PRELOAD={}", lib.display()));
            cmd.arg(format!("NETSTACK_SVC_DIR={}", self.svc_dir.display()));
        }
        cmd.arg(program).args(args);
        cmd
    }

    /// `program args` in the peer namespace, on the kernel's sockets.
    pub fn peer<S: AsRef<OsStr>>(&self, program: &str, args: &[S]) -> Command {
        self.peer.command(program, args)
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `len` random bytes to scratch file `name` and returns its path.
    pub fn random_file(&self, name: &str, len: usize) -> PathBuf {
        let path = self.path(name);
        let mut src = std::fs::File::open("/dev/urandom").expect("open /dev/urandom");
        let mut data = vec![0; len];
        src.read_exact(&mut data).expect("read /dev/urandom");
        std::fs::write(&path, data).expect("write scratch file");
        path
    }

    /// The daemon's output so far (empty on Linux alone).
    pub fn daemon_output(&self) -> String {
        self.daemon.as_ref().map(Proc::output).unwrap_or_default()
    }

    /// How many file descriptors the daemon holds (`None` on Linux alone). Every socket it
    /// serves holds its channel and its data plane's socketpair ends, so a socket it never
    /// freed shows here as the count not falling back.
    pub fn daemon_fds(&self) -> Option<usize> {
        let pid = self.daemon.as_ref()?.pid();
        std::fs::read_dir(format!("/proc/{pid}/fd")).ok().map(Iterator::count)
    }

    /// Kills the daemon with SIGKILL, as a crash would, and waits until it is gone.
    pub fn kill_daemon(&mut self) {
        let daemon = self.daemon.take().expect("the daemon runs (not on Linux alone)");
        daemon.signal(Signal::KILL);
        let done = daemon.finish(Duration::from_secs(5));
        assert!(!done.timed_out, "the daemon did not die of SIGKILL");
    }

    /// Waits until the kernel in the peer namespace has a socket listening on `port`
    /// (`udp`: bound), for at most ten seconds.
    pub fn wait_peer_listening(&self, port: u16, udp: bool) {
        let flags = if udp { "-Hlun" } else { "-Hltn" };
        let filter = format!("sport = :{port}");
        let what = format!("nothing listens on port {port} in the peer namespace");
        retry(&what, Duration::from_secs(10), Duration::from_millis(20), || {
            let out = self.peer.exec("ss", &[flags, &filter]);
            (!String::from_utf8_lossy(&out.stdout).trim().is_empty()).then_some(())
        });
    }

    /// The kernel's TCP sockets in the peer namespace (`ss -Htan`), one per line.
    pub fn peer_tcp_sockets(&self) -> Vec<String> {
        let out = self.peer.exec("ss", &["-Htan"]);
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    }

    /// Proves that the programs' traffic went through the netstack: the kernel of the app
    /// namespace sent no IPv4 or IPv6 packet, found no route for one, and opened no TCP
    /// connection (every socket there was the shim's). Does nothing on Linux alone.
    pub fn assert_app_kernel_unused(&self) {
        if !self.on_shim() {
            return;
        }
        let read = |file: &str| String::from_utf8_lossy(&self.app.exec("cat", &[file]).stdout).into_owned();
        let snmp = read("/proc/net/snmp");
        let snmp6 = read("/proc/net/snmp6");
        let mut used = Vec::new();
        for (group, field) in
            [("Ip", "OutRequests"), ("Ip", "OutNoRoutes"), ("Tcp", "ActiveOpens"), ("Tcp", "PassiveOpens")]
        {
            let value = snmp_value(&snmp, group, field);
            if value != Some(0) {
                used.push(format!("{group}{field} {value:?}"));
            }
        }
        for field in ["Ip6OutRequests", "Ip6OutNoRoutes"] {
            let value = snmp6
                .lines()
                .find_map(|l| l.strip_prefix(field).map(str::trim))
                .and_then(|v| v.parse::<u64>().ok());
            if value != Some(0) {
                used.push(format!("{field} {value:?}"));
            }
        }
        assert!(used.is_empty(), "the app namespace's kernel carried traffic the shim should have: {used:?}");
    }
}

/// The value of `field` in `group` of /proc/net/snmp (a header line, then a value line).
fn snmp_value(snmp: &str, group: &str, field: &str) -> Option<u64> {
    let prefix = format!("{group}: ");
    let mut lines = snmp.lines().filter(|l| l.starts_with(&prefix));
    let names = lines.next()?;
    let values = lines.next()?;
    let index = names.split_whitespace().position(|n| n == field)?;
    values.split_whitespace().nth(index)?.parse().ok()
}

impl Drop for AppNet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(daemon) = &self.daemon {
                let out = daemon.output();
                let tail: Vec<&str> = out.lines().rev().take(60).collect();
                eprintln!("--- the daemon's last output lines:");
                for line in tail.iter().rev() {
                    eprintln!("  | {line}");
                }
            }
        }
        // The daemon before the namespaces (field order), and the scratch files last.
        drop(self.daemon.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How a process ended.
#[derive(Debug)]
pub struct Finished {
    /// `None` when it missed its deadline and was killed.
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// Panics, with what the process printed, unless it exited 0 in time.
    pub fn assert_success(&self, what: &str) -> &Self {
        assert!(
            !self.timed_out && self.status.is_some_and(|s| s.success()),
            "{what}: {}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.describe(),
            self.stdout,
            self.stderr
        );
        self
    }

    /// "exit 0 after 1.2 s", "killed after missing its 10 s deadline", ...
    pub fn describe(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        match self.status {
            _ if self.timed_out => format!("missed its deadline and was killed after {secs:.1} s"),
            Some(s) => format!("{s} after {secs:.1} s"),
            None => format!("no exit status after {secs:.1} s"),
        }
    }
}

/// Output captured from one pipe, and whether the pipe is closed.
#[derive(Default)]
struct Captured {
    state: Mutex<(Vec<u8>, bool)>,
    changed: Condvar,
}

/// At most this much of a process's output is kept; the rest is read and dropped.
const CAPTURE_LIMIT: usize = 16 << 20;

impl Captured {
    fn drain(self: &Arc<Self>, mut pipe: impl Read + Send + 'static) {
        let this = Arc::clone(self);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                let n = pipe.read(&mut chunk).unwrap_or(0);
                let mut state = this.state.lock().unwrap_or_else(|e| e.into_inner());
                if n == 0 {
                    state.1 = true;
                    this.changed.notify_all();
                    return;
                }
                let room = CAPTURE_LIMIT.saturating_sub(state.0.len()).min(n);
                state.0.extend_from_slice(&chunk[..room]);
                this.changed.notify_all();
            }
        });
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.state.lock().unwrap_or_else(|e| e.into_inner()).0).into_owned()
    }

    /// Waits until the pipe is closed, for at most `timeout`.
    fn wait_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.1 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return };
            state = self.changed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// A process this test started, in a process group of its own; stopped with its group when
/// dropped.
pub struct Proc {
    name: String,
    child: Child,
    started: Instant,
    out: Arc<Captured>,
    err: Arc<Captured>,
    /// Set once the group was stopped, so that `Drop` signals no recycled id.
    stopped: bool,
}

impl Proc {
    /// Starts `cmd` with stdin from /dev/null and stdout and stderr captured.
    pub fn start(name: &str, cmd: Command) -> Self {
        Self::start_redirected(name, cmd, None, None)
    }

    /// Starts `cmd` with stdin from file `stdin` (else /dev/null), stdout to file `stdout`
    /// (created or truncated; else captured) and stderr captured.
    pub fn start_redirected(
        name: &str,
        mut cmd: Command,
        stdin: Option<&Path>,
        stdout: Option<&Path>,
    ) -> Self {
        let open =
            |path: &Path| std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let create =
            |path: &Path| std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        cmd.process_group(0).stderr(Stdio::piped());
        cmd.stdin(stdin.map_or_else(Stdio::null, |p| open(p).into()));
        cmd.stdout(stdout.map_or_else(Stdio::piped, |p| create(p).into()));
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {name} ({cmd:?}): {e}"));
        let (out, err) = (Arc::new(Captured::default()), Arc::new(Captured::default()));
        match child.stdout.take() {
            Some(pipe) => out.drain(pipe),
            None => out.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true,
        }
        err.drain(child.stderr.take().expect("piped stderr"));
        Self { name: name.to_owned(), child, started: Instant::now(), out, err, stopped: false }
    }

    /// Runs `cmd` to completion, for at most `timeout`.
    pub fn run(name: &str, cmd: Command, timeout: Duration) -> Finished {
        Self::start(name, cmd).finish(timeout)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stdout, then stderr, as captured so far.
    pub fn output(&self) -> String {
        format!("{}{}", self.out.text(), self.err.text())
    }

    pub fn stdout(&self) -> String {
        self.out.text()
    }

    /// Waits until stdout or stderr holds `needle`, for at most `timeout`, or the process
    /// exits; says whether it appeared.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.output().contains(needle) {
                return true;
            }
            let closed = self.err.state.lock().unwrap_or_else(|e| e.into_inner()).1;
            if closed || Instant::now() >= deadline {
                return self.output().contains(needle);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process has exited (it is reaped then).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends `signal` to the process alone (not its group).
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = Pid::from_raw(self.pid() as i32) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }

    /// Waits for the process to exit, for at most `timeout`; past it, stops its group.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let mut status = None;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let timed_out = status.is_none();
        if timed_out {
            eprintln!("{}: missed its {:.0} s deadline; stopping it", self.name, timeout.as_secs_f64());
        }
        // Also when it exited: forks it left behind go with its group.
        status = self.stop_group().or(status);
        let elapsed = self.started.elapsed();
        // A fork that outlives the process could hold the pipes open: wait only a little.
        self.out.wait_closed(Duration::from_secs(2));
        self.err.wait_closed(Duration::from_secs(2));
        Finished { status, timed_out, stdout: self.out.text(), stderr: self.err.text(), elapsed }
    }

    /// SIGTERM to the group, SIGKILL to the group after two seconds; reaps the process.
    fn stop_group(&mut self) -> Option<ExitStatus> {
        if std::mem::replace(&mut self.stopped, true) {
            return self.child.try_wait().ok().flatten();
        }
        if let Ok(Some(status)) = self.child.try_wait() {
            self.signal_group(Signal::KILL);
            return Some(status);
        }
        self.signal_group(Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Forks left behind by a process that exited on SIGTERM go too.
                self.signal_group(Signal::KILL);
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.signal_group(Signal::KILL);
        self.child.wait().ok()
    }

    fn signal_group(&self, signal: Signal) {
        // The child leads a group of its own (process_group(0)): its PID is the group's id.
        if let Some(pgid) = Pid::from_raw(self.pid() as i32) {
            let _ = kill_process_group(pgid, signal);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop_group();
    }
}

/// Runs `attempt` until it returns `Some`, for at most `timeout`, pausing `pause` between
/// tries; returns the last `None`-free result or panics with `what`.
pub fn retry<T>(what: &str, timeout: Duration, pause: Duration, mut attempt: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(done) = attempt() {
            return done;
        }
        assert!(Instant::now() < deadline, "{what}: gave up after {:.0} s", timeout.as_secs_f64());
        std::thread::sleep(pause);
    }
}

/// The SHA-256 of a file, through `sha256sum`.
pub fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("run sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned()
}
