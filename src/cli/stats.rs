//! `netstack stats`: the protocol counters of the Inspect tree's `Stack.Mib`, flattened to
//! the names Linux's `nstat` prints (`Mib.Tcp.ActiveOpens` is `TcpActiveOpens`), non-zero
//! ones only unless `--all`, and with `--interval` the changes over each interval.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::args::{parse_interval, parse_number, Args};
use super::output::timestamp_now;
use super::{inspect, CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack stats [--all] [--interval S [--count N]] [PATTERN...]

Prints the protocol counters (Stack.Mib of the Inspect tree) under the names Linux's nstat
uses: IpInReceives, TcpActiveOpens, TcpExtTCPSACKRecovery, Udp6InDatagrams, ...

  PATTERN        only counters whose name matches (shell globs: 'Tcp*', '*Retrans*')
  -a, --all      print zero counters too
  --interval S   print the changes every S seconds (fractions allowed) until interrupted
  --count N      stop after N intervals
  --json         a JSON object of name -> value (with --interval: one line per interval)

Examples:
  netstack stats Tcp*
  netstack stats --interval 1 --count 5 IpInReceives IpOutRequests
";

/// What `netstack stats` was asked.
#[derive(Debug, PartialEq)]
struct StatsArgs {
    all: bool,
    interval: Option<Duration>,
    count: Option<u64>,
    patterns: Vec<String>,
}

fn parse(words: &[String]) -> Result<StatsArgs, CliError> {
    let mut args = Args::new("stats", words);
    let mut parsed = StatsArgs { all: false, interval: None, count: None, patterns: Vec::new() };
    while let Some(word) = args.next() {
        match word {
            "-a" | "--all" => parsed.all = true,
            "--interval" | "-i" => parsed.interval = Some(args.parsed("--interval", parse_interval)?),
            "--count" | "-c" => parsed.count = Some(args.parsed("--count", parse_number(1u64, u64::MAX))?),
            option if option.starts_with('-') => return Err(args.usage(format!("unknown option '{option}'"))),
            pattern => parsed.patterns.push(pattern.to_owned()),
        }
    }
    if parsed.count.is_some() && parsed.interval.is_none() {
        return Err(args.usage("'--count' needs '--interval'".to_owned()));
    }
    Ok(parsed)
}

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    let args = parse(words)?;
    let Some(interval) = args.interval else {
        let counters = select(&counters(ctx)?, None, &args);
        return print(ctx, &counters, None);
    };
    let mut before = counters(ctx)?;
    let mut reports = 0;
    while args.count.is_none_or(|count| reports < count) {
        std::thread::sleep(interval);
        let now = counters(ctx)?;
        print(ctx, &select(&now, Some(&before), &args), Some(interval))?;
        before = now;
        reports += 1;
    }
    Ok(())
}

/// The daemon's counters, flattened.
fn counters(ctx: &Context) -> Result<Vec<(String, u64)>, CliError> {
    let tree = inspect::fetch_tree(ctx)?;
    let mib = tree.pointer("/Stack/Mib").ok_or_else(|| {
        CliError::failed("the Inspect tree has no Stack.Mib: is the daemon older than this CLI?")
    })?;
    Ok(flatten(mib))
}

/// `Mib.<Group>.<Counter>` as `<Group><Counter>`, in the tree's order; anything that is not
/// an unsigned integer is skipped.
fn flatten(mib: &Value) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let Some(groups) = mib.as_object() else { return out };
    for (group, counters) in groups {
        let Some(counters) = counters.as_object() else { continue };
        for (name, value) in counters {
            if let Some(value) = value.as_u64() {
                out.push((format!("{group}{name}"), value));
            }
        }
    }
    out
}

/// The counters to print: those matching a pattern (all without patterns), as changes since
/// `before` when given (a counter that went down restarted: its value is the change),
/// non-zero only unless `--all`.
fn select(now: &[(String, u64)], before: Option<&[(String, u64)]>, args: &StatsArgs) -> Vec<(String, u64)> {
    now.iter()
        .filter(|(name, _)| args.patterns.is_empty() || args.patterns.iter().any(|p| glob_match(p, name)))
        .map(|(name, value)| {
            let old = before.and_then(|b| b.iter().find(|(n, _)| n == name)).map_or(0, |(_, v)| *v);
            let shown = if old <= *value { value - old } else { *value };
            (name.clone(), shown)
        })
        .filter(|(_, value)| args.all || *value != 0)
        .collect()
}

fn print(ctx: &Context, counters: &[(String, u64)], interval: Option<Duration>) -> Result<(), CliError> {
    let object: Map<String, Value> =
        counters.iter().map(|(name, value)| (name.clone(), json!(value))).collect();
    match (ctx.out.json, interval) {
        (true, None) => ctx.out.document(&Value::Object(object)),
        (true, Some(interval)) => ctx.out.line(&json!({
            "time": timestamp_now(),
            "interval_s": interval.as_secs_f64(),
            "counters": object,
        })),
        (false, interval) => {
            let mut text = String::new();
            if let Some(interval) = interval {
                text.push_str(&format!("# {} changes over {}s\n", timestamp_now(), interval.as_secs_f64()));
            }
            text.push_str(&render(counters));
            ctx.out.text(&text)
        }
    }
}

/// `NAME  VALUE` lines, names padded to the longest and values right-aligned.
fn render(counters: &[(String, u64)]) -> String {
    let name_width = counters.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let value_width = counters.iter().map(|(_, v)| v.to_string().len()).max().unwrap_or(0);
    counters.iter().map(|(name, value)| format!("{name:<name_width$}  {value:>value_width$}\n")).collect()
}

/// Shell-style matching of `name` against `pattern`: `*` any run, `?` one character.
fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    pi = star_p + 1;
                    ni = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::words;

    #[test]
    fn mib_flattens_to_nstat_names() {
        let mib = json!({
            "Ip": {"InReceives": 5, "Forwarding": 2},
            "TcpExt": {"TCPSACKRecovery": 0},
            "Udp6": {"InDatagrams": 1, "Note": "not a counter"},
        });
        assert_eq!(
            flatten(&mib),
            vec![
                ("IpForwarding".to_owned(), 2),
                ("IpInReceives".to_owned(), 5),
                ("TcpExtTCPSACKRecovery".to_owned(), 0),
                ("Udp6InDatagrams".to_owned(), 1),
            ]
        );
    }

    #[test]
    fn zero_counters_are_hidden_unless_all_and_patterns_select() {
        let now = vec![
            ("IpInReceives".to_owned(), 5),
            ("TcpActiveOpens".to_owned(), 0),
            ("TcpRetransSegs".to_owned(), 3),
        ];
        let args = parse(&words(&[])).unwrap();
        assert_eq!(select(&now, None, &args).len(), 2);
        let args = parse(&words(&["--all", "Tcp*"])).unwrap();
        assert_eq!(select(&now, None, &args), now[1..].to_vec());
        let args = parse(&words(&["*Retrans*"])).unwrap();
        assert_eq!(select(&now, None, &args), vec![("TcpRetransSegs".to_owned(), 3)]);
    }

    #[test]
    fn intervals_print_changes() {
        let before = vec![("IpInReceives".to_owned(), 5), ("TcpRetransSegs".to_owned(), 3)];
        let now = vec![("IpInReceives".to_owned(), 9), ("TcpRetransSegs".to_owned(), 3)];
        let args = parse(&words(&["--interval", "1", "--count", "2"])).unwrap();
        assert_eq!(args.count, Some(2));
        assert_eq!(select(&now, Some(&before), &args), vec![("IpInReceives".to_owned(), 4)]);
        let restarted = vec![("IpInReceives".to_owned(), 2)];
        assert_eq!(select(&restarted, Some(&before), &args), vec![("IpInReceives".to_owned(), 2)]);
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for (bad, message) in [
            (&["--interval"][..], "'--interval' needs a value"),
            (&["--interval", "0"][..], "bad --interval '0'"),
            (&["--count", "3"][..], "'--count' needs '--interval'"),
            (&["--interval", "1", "--count", "0"][..], "bad --count '0'"),
            (&["--frob"][..], "unknown option '--frob'"),
        ] {
            let error = parse(&words(bad)).unwrap_err();
            assert!(matches!(error, CliError::Usage { .. }), "{bad:?}");
            assert!(error.to_string().contains(message), "{bad:?}: {error}");
        }
    }

    #[test]
    fn globs_match_like_the_shell() {
        assert!(glob_match("Tcp*", "TcpActiveOpens"));
        assert!(glob_match("*Opens", "TcpActiveOpens"));
        assert!(glob_match("Tcp?ctive*", "TcpActiveOpens"));
        assert!(glob_match("*", ""));
        assert!(glob_match("IpInReceives", "IpInReceives"));
        assert!(!glob_match("Tcp", "TcpActiveOpens"));
        assert!(!glob_match("Udp*", "TcpActiveOpens"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("*a*b", "xxaxxbxxc"));
    }

    #[test]
    fn values_line_up() {
        let text = render(&[("IpInReceives".to_owned(), 5), ("Tcp".to_owned(), 1234)]);
        assert_eq!(text, "IpInReceives     5\nTcp           1234\n");
    }
}
