//! A network namespace of the test's own, with the `netstack` daemon running inside it on a
//! TAP interface and the kernel configured as its neighbour. Everything is removed in `Drop`,
//! also when a test fails: the daemon (only the process this harness started) is stopped
//! with SIGTERM, then SIGKILL, and the namespace is deleted.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Whether a test that needs root may run: without root it skips with a loud message,
/// except under `CI=true`, where it must run and so fails.
pub fn have_root(test: &str) -> bool {
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if uid.unwrap_or(false) {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: needs root, and CI=true");
    eprintln!("\n*** SKIPPED {test}: needs root to create network namespaces and TAP interfaces ***\n");
    false
}

/// A network namespace named `ns-<pid>-<n>`.
pub struct Netns {
    pub name: String,
    children: Vec<Child>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Netns {
    /// Creates the namespace and brings its loopback up.
    pub fn new() -> Self {
        let name = format!("ns-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        run_ok("ip", &["netns", "add", &name]);
        let ns = Self { name, children: Vec::new() };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `cmd args` inside the namespace, waited for.
    pub fn exec(&self, cmd: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, cmd])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {cmd}: {e}"))
    }

    /// `cmd args` inside the namespace, to be configured and started by the caller.
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, cmd: &str, args: &[S]) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, cmd]).args(args);
        command
    }

    /// `cmd args` inside the namespace with `input` on stdin, waited for.
    pub fn exec_with_input(&self, cmd: &str, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, cmd])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {cmd}: {e}"));
        child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    /// `ip -n NS args`, which must succeed.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run_ok("ip", &full)
    }

    /// Starts `cmd args` inside the namespace in the background; it is killed in `Drop`.
    /// Returns a channel of its stdout lines and one of its stderr lines.
    pub fn spawn(&mut self, cmd: &str, args: &[&str]) -> (mpsc::Receiver<String>, mpsc::Receiver<String>) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, cmd])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd}: {e}"));
        let lines = |pipe: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    eprintln!("  | {line}");
                    if tx.send(line).is_err() {
                        // Keep draining so the child never blocks on a full pipe.
                        continue;
                    }
                }
            });
            rx
        };
        let out = lines(Box::new(child.stdout.take().expect("stdout")));
        let err = lines(Box::new(child.stderr.take().expect("stderr")));
        self.children.push(child);
        (out, err)
    }

    /// Starts `netstack ARGS` (this package's binary) inside the namespace and waits, for at
    /// most ten seconds, until it says it is ready. Returns every stdout line up to and
    /// including that one, and the channel of the lines after it. Unless `args` name a
    /// `--svc-dir`, the daemon publishes its protocols in a directory of this namespace's own
    /// (the default one would be shared by the tests running in parallel).
    pub fn start_netstack(&mut self, args: &[&str]) -> (Vec<String>, mpsc::Receiver<String>) {
        let svc_dir = self.svc_dir();
        let mut args = args.to_vec();
        if !args.contains(&"--svc-dir") {
            args.extend(["--svc-dir", &svc_dir]);
        }
        let (out, _err) = self.spawn(env!("CARGO_BIN_EXE_netstack"), &args);
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match out.recv_timeout(left) {
                Ok(line) => {
                    let ready = line.contains("netstack: ready");
                    seen.push(line);
                    if ready {
                        return (seen, out);
                    }
                }
                Err(_) => panic!("netstack {args:?} never said it was ready; it printed {seen:?}"),
            }
        }
    }

    /// The svc dir [`Self::start_netstack`] gives the daemon unless told another.
    pub fn svc_dir(&self) -> String {
        let dir = std::env::temp_dir().join(format!("netstack-svc-{}", self.name));
        dir.to_str().expect("a UTF-8 temporary directory").to_owned()
    }

    /// Gives `link` the IPv4 address `v4` and the IPv6 address `v6` (each with its prefix
    /// length), the IPv6 one without DAD: the kernel's DAD is never what a test is about,
    /// and it would hold the address back for a second.
    pub fn add_addrs(&self, link: &str, v4: &str, v6: &str) {
        self.ip(&["addr", "add", v4, "dev", link]);
        self.ip(&["-6", "addr", "add", v6, "dev", link, "nodad"]);
    }

    /// Moves network interface `link` from this namespace into `to`. A TAP or TUN keeps
    /// working across the move (its fd stays with the process that opened it), but the move
    /// takes it down: bring it up again in `to`.
    pub fn move_link(&self, link: &str, to: &Netns) {
        self.ip(&["link", "set", link, "netns", &to.name]);
    }

    /// One ping of `size` data bytes to `dst` (`%dev` for a link-local one), which must be
    /// answered, whole and once; returns ping's output.
    pub fn ping(&self, size: usize, dst: &str) -> String {
        let size_arg = size.to_string();
        let out = self.exec("ping", &["-c", "1", "-W", "3", "-s", &size_arg, dst]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ping -s {size} {dst}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!stdout.contains("wrong data") && !stdout.contains("DUP!"), "ping -s {size} {dst}: {stdout}");
        stdout
    }

    /// Pings `dst` until it answers, for at most 8 s (the netstack's IPv6 addresses become
    /// usable only once their DAD passes, each on its own random delay), and returns the
    /// answered ping's output.
    pub fn ping_until_answered(&self, dst: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(8);
        loop {
            let out = self.exec("ping", &["-c", "1", "-W", "1", dst]);
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() {
                return stdout;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{dst} never answered in {}: {stdout}{}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
            // A failure without a wait (no route or source address yet) must not spin.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts `tcpdump` on `link`, writing packets to `pcap` (with `extra` options, such as a
    /// snap length), and waits until it listens. Stop it with [`Self::stop_capture`] before
    /// starting anything else.
    pub fn start_capture(&mut self, link: &str, pcap: &str, extra: &[&str]) {
        let mut args = vec!["-i", link, "-U", "--immediate-mode", "-Z", "root", "-n"];
        args.extend_from_slice(extra);
        args.extend(["-w", pcap]);
        let (_out, err) = self.spawn("tcpdump", &args);
        wait_for_line(&err, "listening on", Duration::from_secs(10)).expect("tcpdump started");
    }

    /// Lets the capture started last write what it has seen, then stops it.
    pub fn stop_capture(&mut self) {
        std::thread::sleep(Duration::from_millis(300));
        self.stop_last().expect("tcpdump stopped");
    }

    /// Sends SIGTERM to the last process started with `spawn` and waits for it to exit.
    pub fn stop_last(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.children.pop()?;
        terminate(&mut child)
    }
}

/// Waits for a line containing `needle` on `lines`, returning it.
pub fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, timeout: Duration) -> Option<String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Some(line),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// How many packets of `pcap` match the display filter `filter`, as `tshark` reads them with
/// `prefs` (`-o` settings, such as checksum validation).
pub fn tshark_count(pcap: &str, prefs: &[&str], filter: &str) -> usize {
    let mut tshark = Command::new("tshark");
    tshark.args(["-r", pcap]);
    for pref in prefs {
        tshark.args(["-o", pref]);
    }
    let out = tshark.args(["-Y", filter]).output().expect("run tshark");
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// SIGTERM, then SIGKILL after two seconds.
fn terminate(child: &mut Child) -> Option<std::process::ExitStatus> {
    // `ip netns exec` execs the command, so the child's PID is the command's own.
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    for _ in 0..40 {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait().ok()
}

impl Drop for Netns {
    fn drop(&mut self) {
        while let Some(mut child) = self.children.pop() {
            terminate(&mut child);
        }
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn run_ok(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
