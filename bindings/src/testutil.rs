//! Test helpers: running a test inside a network namespace of its own, so that creating
//! interfaces never touches the machine's.

use std::future::Future;

/// Whether a test that needs root may run. Without root it skips with a loud message, except
/// under `CI=true`, where it must run and so fails.
pub(crate) fn have_root(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: needs root, and CI=true");
    eprintln!("\n*** SKIPPED {test}: needs root (CAP_NET_ADMIN) to create interfaces ***\n");
    false
}

/// Runs `test` on a new thread in a new, anonymous network namespace (gone when the thread
/// ends), inside a current-thread runtime with I/O and timers. Child processes the test
/// spawns (`ip`) inherit the namespace.
pub(crate) fn in_new_netns<Fut: Future<Output = ()>>(test: impl FnOnce() -> Fut + Send + 'static) {
    std::thread::spawn(move || {
        // SAFETY: only the network namespace is unshared, not the fd table (`FILES`), the one
        // flag whose misuse could let threads see each other's fds wrongly.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
            .expect("unshare(CLONE_NEWNET)");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(test());
    })
    .join()
    .expect("test thread");
}

/// Runs `ip ARGS` (in the calling thread's namespace) and panics with its stderr on failure.
pub(crate) fn ip(args: &[&str]) {
    let out = std::process::Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}
