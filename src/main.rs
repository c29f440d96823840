//! `netstack`: the daemon (`netstack run`) and the commands that administer a running one
//! (`netstack [--svc-dir DIR] [--json] OBJECT COMMAND ...`, in `cli/`).

mod cli;

use std::process::ExitCode;

use netstack_bindings::daemon::{self, Config};

const USAGE: &str = "\
netstack: a userspace TCP/IP stack for Linux

Usage: netstack <COMMAND> [ARGS...]

Commands:
  run         run the stack daemon (see 'netstack run --help')
  help        print this help

Options:
  -h, --help     print this help
  -V, --version  print the version

";

const RUN_USAGE: &str = "\
Usage: netstack run [OPTIONS]

Runs the stack on TAP and TUN interfaces it creates in the current network namespace, until
SIGINT or SIGTERM. Every interface runs IPv6 too unless its MTU is below 1280: a TAP with a
link-local address, DAD and router solicitation; a TUN, which has no link layer, without
them. With no interface options it creates TAP 'ns0' with 192.0.2.1/24 and 2001:db8::1/64.

Options:
  --tap NAME         create TAP interface NAME (Ethernet) and bring it up (repeatable)
  --tun NAME         create TUN interface NAME (bare IP packets, no ARP or NDP) and bring it
                     up (repeatable)
  --addr CIDR        assign an address to the last --tap or --tun (repeatable), e.g.
                     192.0.2.1/24 or 2001:db8::1/64
  --mtu N            MTU of the last --tap or --tun (default 1500)
  --gateway IP       default route via IP, on the subnet of an --addr; once per IP version
                     (a link-local IPv6 gateway is reached through the last interface)
  --forwarding       forward IPv4 and IPv6 packets between interfaces
  --svc-dir DIR      where the daemon publishes its protocols, one socket each
                     (fuchsia.posix.socket.Provider, fuchsia.posix.socket.raw.Provider);
                     created if missing, default /run/netstack/svc; clients find it through
                     NETSTACK_SVC_DIR
  --svc-group GROUP  let GROUP's members use the services too (directory 0750, sockets
                     0660); without it only the daemon's user may (0700, 0600)
  --max-sockets N    sockets open at once, all clients together (default 16384; the next
                     one fails with ENOBUFS)
  --max-sockets-per-client N
                     sockets one client connection may hold (default 1024; the next one
                     fails with EMFILE)
  --config FILE      read options from FILE: one 'key value' per line, keys as the options
                     without dashes ('tap ns0', 'tun tun0', 'addr 192.0.2.1/24',
                     'forwarding'), '#' comments
  --udp-echo PORT    run a UDP echo service on PORT (for tests, until the socket API exists)
  --tcp-echo PORT    run a TCP echo service on PORT (for tests, until the socket API exists)
  --tcp-echo-to IP:PORT
                     connect to IP:PORT at start and echo what arrives there (for tests)
  -h, --help         print this help

Logs go to stderr, filtered by RUST_LOG (default 'info').
";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Version,
    Run,
    /// An admin command: global options or an object (`if`, `route`, ...).
    Admin,
    Unknown(String),
}

fn parse_command(args: &[String]) -> Command {
    match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => Command::Help,
        Some("-V" | "--version") => Command::Version,
        Some("run") => Command::Run,
        Some(word) if cli::is_admin_command(word) => Command::Admin,
        Some(other) => Command::Unknown(other.to_owned()),
    }
}

/// Logs to stderr, filtered by RUST_LOG.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// Reports `error` as every failure of `netstack` is reported, one line on stderr
/// (`netstack: <what>: <why>`), and returns `code`, the exit status.
fn fail(error: impl std::fmt::Display, code: ExitCode) -> ExitCode {
    eprintln!("netstack: {error}");
    code
}

fn run(args: &[String]) -> ExitCode {
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(error) => return fail(error, ExitCode::from(2)),
    };
    if config.help {
        print!("{RUN_USAGE}");
        return ExitCode::SUCCESS;
    }
    init_logging();
    match daemon::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error, error.exit_code()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_command(&args) {
        Command::Help if args.is_empty() => {
            eprint!("{USAGE}{}", cli::usage_summary());
            ExitCode::from(2)
        }
        Command::Help => {
            print!("{USAGE}{}", cli::usage_summary());
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("netstack {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Run => run(&args[1..]),
        Command::Admin => cli::main(&args),
        Command::Unknown(cmd) => {
            fail(format_args!("unknown command '{cmd}'; see 'netstack --help'"), ExitCode::from(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cli::words;

    #[test]
    fn commands_are_recognised() {
        assert_eq!(parse_command(&words(&[])), Command::Help);
        assert_eq!(parse_command(&words(&["--help"])), Command::Help);
        assert_eq!(parse_command(&words(&["-V"])), Command::Version);
        assert_eq!(parse_command(&words(&["run", "--tap", "x"])), Command::Run);
        assert_eq!(parse_command(&words(&["if", "list"])), Command::Admin);
        assert_eq!(parse_command(&words(&["--svc-dir", "/x", "route"])), Command::Admin);
        assert_eq!(parse_command(&words(&["--json", "sock", "list"])), Command::Admin);
        assert_eq!(parse_command(&words(&["frobnicate"])), Command::Unknown("frobnicate".into()));
    }

    #[test]
    fn run_usage_names_every_option_the_parser_takes() {
        for option in [
            "--tap",
            "--tun",
            "--addr",
            "--mtu",
            "--gateway",
            "--forwarding",
            "--svc-dir",
            "--svc-group",
            "--max-sockets",
            "--max-sockets-per-client",
            "/run/netstack/svc",
            "--config",
            "--udp-echo",
            "--tcp-echo",
            "--tcp-echo-to",
        ] {
            assert!(RUN_USAGE.contains(option), "{option}");
        }
    }
}
