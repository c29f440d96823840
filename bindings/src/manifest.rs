//! What the daemon exposes and uses, as `meta/netstack.cml` must declare it; a test
//! (`tests/manifest.rs`) reads the manifest and checks the two agree.

/// The protocols the daemon publishes in its outgoing directory (`--svc-dir`), each as a
/// listening socket of that name (see `fidl/README.md`).
/// The socket providers first, then the admin protocols ([`crate::admin::Service::ALL`]).
pub const EXPOSED_PROTOCOLS: &[&str] = &{
    let admin = crate::admin::SERVICE_NAMES;
    let mut all = [""; 2 + crate::admin::SERVICE_NAMES.len()];
    all[0] = crate::svc::SOCKET_PROVIDER;
    all[1] = crate::svc::RAW_SOCKET_PROVIDER;
    let mut i = 0;
    while i < admin.len() {
        all[2 + i] = admin[i];
        i += 1;
    }
    all
};

/// A capability the daemon uses from its environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsedDirectory {
    /// The capability's name in the manifest.
    pub name: &'static str,
    /// Where the daemon opens it.
    pub path: &'static str,
}

/// The device directories the daemon opens: TAP and TUN interfaces are made through
/// `/dev/net/tun` (which also needs CAP_NET_ADMIN in the daemon's network namespace).
pub const USED_DIRECTORIES: &[UsedDirectory] = &[UsedDirectory { name: "dev-net", path: "/dev/net" }];

/// The daemon's arguments when the component framework starts it.
pub const PROGRAM_ARGS: &[&str] = &["run"];
