//! Finding the daemon: the svc dir (`--svc-dir`, else `$NETSTACK_SVC_DIR`, else
//! `/run/netstack/svc`), connecting to one protocol there, and turning FIDL failures into
//! one-line messages that say what to do.

use std::path::PathBuf;

use netstack_fidl::channel::Channel;
use netstack_fidl::client::{ClientError, SyncClient, DEFAULT_SVC_DIR, SVC_DIR_ENV};
use netstack_fidl::zx;

use super::CliError;

/// The daemon's svc dir.
#[derive(Debug, Clone)]
pub(crate) struct Svc {
    dir: PathBuf,
}

impl Svc {
    /// The svc dir `--svc-dir` named, else the environment's, else the default.
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        let dir = dir
            .or_else(|| std::env::var_os(SVC_DIR_ENV).filter(|d| !d.is_empty()).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SVC_DIR));
        Svc { dir }
    }

    /// A channel to `protocol`. When nothing listens there, the error says which svc dir was
    /// tried and how to start the daemon.
    pub(crate) fn connect(&self, protocol: &str) -> Result<Channel, CliError> {
        let path = self.dir.join(protocol);
        Channel::connect(&path).map_err(|error| {
            let dir = self.dir.display();
            match error.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => CliError::failed(format!(
                    "no netstack daemon at {dir} ({protocol}: {error}); start one with 'netstack run --svc-dir {dir}', \
                     or name its svc dir with --svc-dir or NETSTACK_SVC_DIR"
                )),
                std::io::ErrorKind::PermissionDenied => CliError::failed(format!(
                    "{}: {error}; the daemon's svc dir admits its own user and its --svc-group only",
                    path.display()
                )),
                _ => CliError::failed(format!("{}: {error}", path.display())),
            }
        })
    }

    /// A blocking client of `protocol`.
    pub(crate) fn client(&self, protocol: &str) -> Result<SyncClient, CliError> {
        self.connect(protocol).map(SyncClient::new)
    }
}

/// A new channel pair, for a protocol request or an iterator.
pub(crate) fn channel_pair() -> Result<(Channel, Channel), CliError> {
    Channel::pair().map_err(|e| CliError::failed(format!("creating a channel: {e}")))
}

/// A FIDL call's failure as a one-line error: `what` says what we were doing.
pub(crate) fn call_failed(what: &str, error: ClientError) -> CliError {
    match error {
        ClientError::PeerClosed { epitaph: Some(status) } => {
            CliError::failed(format!("{what}: the netstack closed the connection: {}", status_text(status)))
        }
        ClientError::PeerClosed { epitaph: None } => {
            CliError::failed(format!("{what}: the netstack closed the connection (did it stop?)"))
        }
        other => CliError::failed(format!("{what}: {other}")),
    }
}

/// A `zx.Status` as words, from the shared table of `netstack_fidl::zx`.
pub(crate) fn status_text(status: zx::Status) -> String {
    zx::status_description(status).map_or_else(|| format!("status {status}"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_daemon_says_where_it_looked_and_how_to_start_one() {
        let dir = std::env::temp_dir().join(format!("netstack-cli-nowhere-{}", std::process::id()));
        let svc = Svc::new(Some(dir.clone()));
        let error = svc.connect("fuchsia.net.interfaces.State").unwrap_err().to_string();
        assert!(error.contains(&format!("no netstack daemon at {}", dir.display())), "{error}");
        assert!(error.contains(&format!("netstack run --svc-dir {}", dir.display())), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn statuses_have_names() {
        assert_eq!(status_text(-25), "not found");
        assert_eq!(status_text(-99), "status -99");
    }
}
