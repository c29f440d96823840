//! The admin commands of `netstack`: `netstack [--svc-dir DIR] [--json] OBJECT COMMAND
//! [ARGS]`, talking to a running daemon through the protocols in its svc dir
//! (`/work/admin-api.md`, issue 7). One module per object; `args`, `table` and `output` are
//! shared by all of them, `svc` finds the daemon.
//!
//! Conventions, iproute2's: every error is one line on stderr, `netstack: <what>: <why>`;
//! exit status 1 for a runtime error (the daemon is not running, refused the change, ...),
//! 2 for a usage error (with a pointer to the object's `--help`); `--help` (or `-h`) works on
//! every level and prints to stdout.

mod args;
mod capture;
mod iface;
mod inspect;
mod neigh;
mod output;
mod pcap;
mod route;
mod sock;
mod stats;
mod svc;
mod table;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) use output::Output;
pub(crate) use svc::Svc;

/// The objects, their one-line descriptions (for the top-level help) and their help texts.
const OBJECTS: &[(&str, &str, &str)] = &[
    ("if", "interfaces: list, show, addresses, up/down, MTU, forwarding, add/del", iface::HELP),
    ("route", "routes: list, add, del", route::HELP),
    ("neigh", "neighbours (ARP/NDP): list, add, del, flush", neigh::HELP),
    ("sock", "sockets, like 'ss -tuanpi'", sock::HELP),
    ("stats", "protocol counters, like 'nstat'", stats::HELP),
    ("inspect", "the Inspect tree as JSON", inspect::HELP),
    ("capture", "write what an interface sends and receives to a pcap file", capture::HELP),
    ("watch", "interface, address and route events as they happen", watch::HELP),
];

/// Whether `word` starts an admin command line: a global option or an object.
pub(crate) fn is_admin_command(word: &str) -> bool {
    matches!(word, "--svc-dir" | "--json" | "-j")
        || word.starts_with("--svc-dir=")
        || OBJECTS.iter().any(|(name, ..)| *name == word)
}

/// The admin commands' part of `netstack --help`.
pub(crate) fn usage_summary() -> String {
    let mut text = String::from(
        "Administering a running daemon:\n  netstack [--svc-dir DIR] [--json] OBJECT COMMAND [ARGS...]\n\nObjects:\n",
    );
    for (name, what, _) in OBJECTS {
        text.push_str(&format!("  {name:<10}  {what}\n"));
    }
    text.push_str(
        "\nGlobal options (before OBJECT):\n\
         \x20 --svc-dir DIR  the daemon's svc dir (default $NETSTACK_SVC_DIR, else /run/netstack/svc)\n\
         \x20 -j, --json     print JSON instead of text (also accepted after OBJECT)\n\
         \nSee 'netstack OBJECT --help' for each object's commands.\n",
    );
    text
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line is wrong: exit 2, with a pointer to `object`'s help.
    #[error("{message}; see 'netstack {}--help'", if object.is_empty() { String::new() } else { format!("{object} ") })]
    Usage { object: &'static str, message: String },
    /// The command could not be carried out: exit 1.
    #[error("{0}")]
    Failed(String),
    /// Whoever read our output went away (`netstack watch | head -1`): a quiet, successful end.
    #[error("stdout closed")]
    StdoutClosed,
}

impl CliError {
    /// A usage error of `object`'s commands.
    pub(crate) fn usage(object: &'static str, message: impl Into<String>) -> Self {
        CliError::Usage { object, message: message.into() }
    }

    /// A runtime error.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        CliError::Failed(message.into())
    }

    /// The process's exit status for this error.
    fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage { .. } => ExitCode::from(2),
            CliError::Failed(_) => ExitCode::from(1),
            CliError::StdoutClosed => ExitCode::SUCCESS,
        }
    }
}

/// What every command gets: where the daemon is and how to print.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) svc: Svc,
    pub(crate) out: Output,
}

/// The global options and the object's words.
#[derive(Debug, PartialEq, Eq)]
struct Invocation {
    svc_dir: Option<PathBuf>,
    json: bool,
    object: String,
    words: Vec<String>,
}

/// Splits the global options off `args`. `--json` (`-j`) is accepted anywhere before a `--`,
/// so `netstack if list --json` works as well as `netstack --json if list`.
fn parse_invocation(args: &[String]) -> Result<Option<Invocation>, CliError> {
    let mut svc_dir = None;
    let mut json = false;
    let mut rest = args.iter();
    let object = loop {
        match rest.next().map(String::as_str) {
            None => return Ok(None),
            Some("--svc-dir") => {
                let dir = rest.next().ok_or_else(|| CliError::usage("", "'--svc-dir' needs a value"))?;
                svc_dir = Some(PathBuf::from(dir));
            }
            Some(word) if word.starts_with("--svc-dir=") => {
                svc_dir = Some(PathBuf::from(&word["--svc-dir=".len()..]));
            }
            Some("--json" | "-j") => json = true,
            Some(word) if word.starts_with('-') && !matches!(word, "-h" | "--help") => {
                return Err(CliError::usage("", format!("unknown option '{word}'")));
            }
            Some(word) => break word.to_owned(),
        }
    };
    let mut words = Vec::new();
    let mut literal = false;
    for word in rest {
        match word.as_str() {
            "--" if !literal => literal = true,
            "--json" | "-j" if !literal => json = true,
            _ => words.push(word.clone()),
        }
    }
    Ok(Some(Invocation { svc_dir, json, object, words }))
}

/// Whether the words ask for help: `-h`/`--help` anywhere, or `help` as the command.
fn wants_help(words: &[String]) -> bool {
    words.first().is_some_and(|w| w == "help") || words.iter().any(|w| w == "-h" || w == "--help")
}

/// Runs an admin command line (everything after `netstack`); prints errors; returns the exit
/// status.
pub(crate) fn main(args: &[String]) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::StdoutClosed) => CliError::StdoutClosed.exit_code(),
        Err(error) => crate::fail(&error, error.exit_code()),
    }
}

fn run(args: &[String]) -> Result<(), CliError> {
    let Some(invocation) = parse_invocation(args)? else {
        return Err(CliError::usage("", "missing OBJECT"));
    };
    let Invocation { svc_dir, json, object, words } = invocation;
    let Some(&(object, _, help)) = OBJECTS.iter().find(|(name, ..)| *name == object) else {
        if matches!(object.as_str(), "-h" | "--help" | "help") {
            return Output { json: false }.text(&usage_summary());
        }
        return Err(CliError::usage("", format!("unknown object '{object}'")));
    };
    let ctx = Context { svc: Svc::new(svc_dir), out: Output { json } };
    if wants_help(&words) {
        return ctx.out.text(help);
    }
    match object {
        "if" => iface::run(&ctx, &words),
        "route" => route::run(&ctx, &words),
        "neigh" => neigh::run(&ctx, &words),
        "sock" => sock::run(&ctx, &words),
        "stats" => stats::run(&ctx, &words),
        "inspect" => inspect::run(&ctx, &words),
        "capture" => capture::run(&ctx, &words),
        "watch" => watch::run(&ctx, &words),
        _ => Err(CliError::usage("", format!("unknown object '{object}'"))),
    }
}

/// Test arguments as the process gets them.
#[cfg(test)]
pub(crate) fn words(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_options_come_before_the_object_and_json_anywhere() {
        let inv =
            parse_invocation(&words(&["--svc-dir", "/tmp/s", "if", "list", "--json"])).unwrap().unwrap();
        assert_eq!(
            inv,
            Invocation {
                svc_dir: Some("/tmp/s".into()),
                json: true,
                object: "if".into(),
                words: words(&["list"])
            }
        );
        let inv =
            parse_invocation(&words(&["-j", "--svc-dir=/x", "route", "list", "--", "-j"])).unwrap().unwrap();
        assert_eq!(inv.svc_dir, Some("/x".into()));
        assert!(inv.json);
        assert_eq!(inv.words, words(&["list", "-j"]));
        assert_eq!(parse_invocation(&words(&["--json"])).unwrap(), None);
    }

    #[test]
    fn bad_global_options_are_usage_errors() {
        let error = parse_invocation(&words(&["--svc-dir"])).unwrap_err();
        assert_eq!(error.to_string(), "'--svc-dir' needs a value; see 'netstack --help'");
        assert_eq!(error.exit_code(), ExitCode::from(2));
        let error = parse_invocation(&words(&["--frob", "if"])).unwrap_err();
        assert_eq!(error.to_string(), "unknown option '--frob'; see 'netstack --help'");
    }

    #[test]
    fn every_object_is_an_admin_command_and_has_help() {
        for (name, _, help) in OBJECTS {
            assert!(is_admin_command(name));
            assert!(help.contains(&format!("netstack {name}")), "{name}");
            assert!(usage_summary().contains(name));
        }
        assert!(is_admin_command("--svc-dir"));
        assert!(!is_admin_command("run"));
        assert!(wants_help(&words(&["add-addr", "--help"])));
        assert!(wants_help(&words(&["help"])));
        assert!(!wants_help(&words(&["show", "help0"])));
    }
}
