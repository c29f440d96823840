//! `netstack`: the daemon (`netstack run`) and, later, its admin subcommands.
//!
//! Until the bindings exist there is nothing to run: every command prints where things stand
//! and exits non-zero, with usage on `--help`.

use std::process::ExitCode;

const USAGE: &str = "\
netstack: a userspace TCP/IP stack for Linux

Usage: netstack <COMMAND> [ARGS...]

Commands:
  run         run the stack daemon (not available yet: it arrives with the bindings)
  help        print this help

Options:
  -h, --help     print this help
  -V, --version  print the version
";

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Version,
    Run,
    Unknown(String),
}

fn parse_command(args: &[String]) -> Command {
    match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => Command::Help,
        Some("-V" | "--version") => Command::Version,
        Some("run") => Command::Run,
        Some(other) => Command::Unknown(other.to_owned()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_command(&args) {
        Command::Help if args.is_empty() => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
        Command::Help => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("netstack {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Run => {
            eprintln!(
                "netstack: 'run' is not available yet: this build has the packet formats only; \
                 the daemon arrives with the bindings (see README.md)"
            );
            ExitCode::from(1)
        }
        Command::Unknown(cmd) => {
            eprintln!("netstack: unknown command '{cmd}'; see 'netstack --help'");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_are_recognised() {
        assert_eq!(parse_command(&args(&[])), Command::Help);
        assert_eq!(parse_command(&args(&["--help"])), Command::Help);
        assert_eq!(parse_command(&args(&["-V"])), Command::Version);
        assert_eq!(parse_command(&args(&["run", "--tap", "x"])), Command::Run);
        assert_eq!(parse_command(&args(&["frobnicate"])), Command::Unknown("frobnicate".into()));
    }
}
