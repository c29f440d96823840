//! Diagnostics: with `NETSTACK_FDIO_DEBUG` set (to anything), the shim says once on stderr
//! why it cannot reach the netstack. Without it the shim never writes to the application's
//! stderr.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The environment variable that turns diagnostics on.
pub const DEBUG_ENV: &str = "NETSTACK_FDIO_DEBUG";

static SAID: AtomicBool = AtomicBool::new(false);

/// Prints `message` (one line) if diagnostics are on and nothing was printed before.
pub fn once(message: &str) {
    if std::env::var_os(DEBUG_ENV).is_none() || SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    let _ = writeln!(std::io::stderr(), "libfdio: {message}");
}
