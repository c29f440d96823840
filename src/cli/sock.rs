//! `netstack sock list`: the daemon's sockets, like `ss -tuanpi`, from the Inspect tree's
//! `Stack.Sockets` (`INSPECT.md`): protocol, state, queues, addresses, the owning process
//! (the client's pid, named from `/proc/<pid>/comm`), and with `-i` the TCP_INFO line
//! (`rtt:X/Y cwnd:N retrans:a/b mss:M ...`, in `ss -i`'s units: milliseconds for times).

use serde_json::{json, Map, Value};

use super::args::Args;
use super::table::{Align, Table};
use super::{inspect, CliError, Context};

pub(crate) const HELP: &str = "\
Usage: netstack sock [list] [-t] [-u] [-w] [-l] [-a] [-n] [-p] [-i] [-4] [-6]

Lists the daemon's sockets, like 'ss -tuanpi' does the kernel's: Netid, State, Recv-Q,
Send-Q, local and peer address, the client process, and TCP's state.

  -t, --tcp        TCP sockets          -l, --listening  listening (and unconnected) ones only
  -u, --udp        UDP sockets          -a, --all        listening and connected ones
  -w, --raw        raw and ICMP sockets -p, --processes  the process holding each socket
  -4, -6           one IP version       -i, --info       TCP internals: rtt/rttvar (ms),
  -n, --numeric    accepted; addresses                   cwnd, ssthresh, retrans:now/total,
                   are always numeric                    mss, rto, bytes acked/received...
Without -t/-u/-w every protocol is listed; without -l/-a connected sockets only. Short
options combine ('-tuanpi').

Examples:
  netstack sock list -tni
  netstack --json sock list -a
";

/// Which sockets to list and what to show.
#[derive(Debug, Default, PartialEq, Eq)]
struct SockArgs {
    tcp: bool,
    udp: bool,
    raw: bool,
    listening: bool,
    all: bool,
    processes: bool,
    info: bool,
    v4_only: bool,
    v6_only: bool,
}

fn parse(words: &[String]) -> Result<SockArgs, CliError> {
    let mut args = Args::new("sock", words);
    // `list` may be left out, as in `netstack sock -tn`.
    match args.peek() {
        Some("list" | "ls" | "show") => {
            args.next();
        }
        None => {}
        Some(flags) if flags.starts_with('-') => {}
        Some(other) => return Err(args.usage(format!("unknown command '{other}'"))),
    }
    let mut parsed = SockArgs::default();
    while let Some(word) = args.next() {
        let letters: Vec<char> = match word {
            "--tcp" => vec!['t'],
            "--udp" => vec!['u'],
            "--raw" => vec!['w'],
            "--listening" => vec!['l'],
            "--all" => vec!['a'],
            "--numeric" => vec!['n'],
            "--processes" => vec!['p'],
            "--info" => vec!['i'],
            short if short.len() > 1 && short.starts_with('-') && !short.starts_with("--") => {
                short[1..].chars().collect()
            }
            other => return Err(args.unexpected(other)),
        };
        for letter in letters {
            match letter {
                't' => parsed.tcp = true,
                'u' => parsed.udp = true,
                'w' => parsed.raw = true,
                'l' => parsed.listening = true,
                'a' => parsed.all = true,
                'n' => {}
                'p' => parsed.processes = true,
                'i' => parsed.info = true,
                '4' => parsed.v4_only = true,
                '6' => parsed.v6_only = true,
                other => return Err(args.usage(format!("unknown option '-{other}' in '{word}'"))),
            }
        }
    }
    Ok(parsed)
}

pub(crate) fn run(ctx: &Context, words: &[String]) -> Result<(), CliError> {
    let args = parse(words)?;
    let tree = inspect::fetch_tree(ctx)?;
    let empty = Map::new();
    let sockets = tree.pointer("/Stack/Sockets").and_then(Value::as_object).unwrap_or(&empty);
    let shown: Vec<Socket<'_>> =
        sockets.values().filter_map(Socket::from_node).filter(|s| args.selects(s)).collect();
    if ctx.out.json {
        let list: Vec<Value> = shown.iter().map(|s| s.to_json(&args)).collect();
        return ctx.out.document(&Value::Array(list));
    }
    ctx.out.text(&render(&shown, &args))
}

/// One socket of the tree, as `ss` shows it.
#[derive(Debug)]
struct Socket<'a> {
    netid: String,
    ipv6: bool,
    state: String,
    recv_q: u64,
    send_q: u64,
    local: String,
    peer: String,
    pid: Option<u64>,
    tcp_info: Option<&'a Map<String, Value>>,
}

impl<'a> Socket<'a> {
    fn from_node(node: &'a Value) -> Option<Self> {
        let node = node.as_object()?;
        let text = |key: &str| node.get(key).and_then(Value::as_str);
        let netid = text("Protocol")?.to_ascii_lowercase();
        let peer = text("RemoteAddress").filter(|p| !p.is_empty()).unwrap_or("*").to_owned();
        let state = match text("State") {
            Some(state) => ss_state(state),
            None if peer == "*" => "UNCONN".to_owned(),
            None => "ESTAB".to_owned(),
        };
        Some(Socket {
            netid,
            ipv6: text("Family").is_some_and(|f| f.eq_ignore_ascii_case("ipv6")),
            state,
            recv_q: node.get("RecvQ").and_then(Value::as_u64).unwrap_or(0),
            send_q: node.get("SendQ").and_then(Value::as_u64).unwrap_or(0),
            local: text("LocalAddress").filter(|l| !l.is_empty()).unwrap_or("*").to_owned(),
            peer,
            pid: node.get("Pid").and_then(Value::as_u64),
            tcp_info: node.get("TcpInfo").and_then(Value::as_object),
        })
    }

    /// Listening, in `ss`'s sense: a TCP listener, or any other socket without a peer.
    fn listening(&self) -> bool {
        self.state == "LISTEN" || self.state == "UNCONN"
    }

    fn to_json(&self, args: &SockArgs) -> Value {
        let mut object = json!({
            "netid": self.netid, "family": if self.ipv6 { "ipv6" } else { "ipv4" }, "state": self.state,
            "recv_q": self.recv_q, "send_q": self.send_q, "local": self.local, "peer": self.peer,
        });
        if args.processes {
            object["pid"] = json!(self.pid);
            object["process"] = json!(self.pid.and_then(process_name));
        }
        if args.info {
            object["tcp_info"] = json!(self.tcp_info);
        }
        object
    }
}

impl SockArgs {
    fn selects(&self, socket: &Socket<'_>) -> bool {
        let any_protocol = !(self.tcp || self.udp || self.raw);
        let protocol = match socket.netid.as_str() {
            "tcp" => self.tcp,
            "udp" => self.udp,
            _ => self.raw,
        };
        let family = !(self.v4_only || self.v6_only)
            || (self.v6_only && socket.ipv6)
            || (self.v4_only && !socket.ipv6);
        let listening = if self.all { true } else { socket.listening() == self.listening };
        (any_protocol || protocol) && family && listening
    }
}

/// A state as `ss` spells it: `ESTABLISHED` is `ESTAB`, `SYN_RECV` is `SYN-RECV`,
/// `FIN_WAIT1` is `FIN-WAIT-1`, `CLOSE`/`CLOSED` is `UNCONN`.
fn ss_state(state: &str) -> String {
    let state = state.to_ascii_uppercase().replace('_', "-");
    match state.as_str() {
        "ESTABLISHED" => "ESTAB".to_owned(),
        "SYN-RECEIVED" => "SYN-RECV".to_owned(),
        "FIN-WAIT1" => "FIN-WAIT-1".to_owned(),
        "FIN-WAIT2" => "FIN-WAIT-2".to_owned(),
        "CLOSE" | "CLOSED" | "BOUND" | "UNCONNECTED" => "UNCONN".to_owned(),
        _ => state,
    }
}

/// A process's command name, from `/proc/<pid>/comm`.
fn process_name(pid: u64) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end_matches('\n').to_owned())
}

fn render(sockets: &[Socket<'_>], args: &SockArgs) -> String {
    let mut columns = vec![
        ("Netid", Align::Left),
        ("State", Align::Left),
        ("Recv-Q", Align::Right),
        ("Send-Q", Align::Right),
        ("Local Address:Port", Align::Left),
        ("Peer Address:Port", Align::Left),
    ];
    if args.processes {
        columns.push(("Process", Align::Left));
    }
    let mut table = Table::new(&columns);
    for socket in sockets {
        let mut row = vec![
            socket.netid.clone(),
            socket.state.clone(),
            socket.recv_q.to_string(),
            socket.send_q.to_string(),
            socket.local.clone(),
            socket.peer.clone(),
        ];
        if args.processes {
            row.push(socket.pid.map_or_else(String::new, |pid| {
                format!("users:((\"{}\",pid={pid}))", process_name(pid).unwrap_or_default())
            }));
        }
        table.row(row);
    }
    let mut lines = table.lines().into_iter();
    let mut out = lines.next().map(|header| header + "\n").unwrap_or_default();
    for (line, socket) in lines.zip(sockets) {
        out.push_str(&line);
        out.push('\n');
        if let Some(info) = socket.tcp_info.filter(|_| args.info) {
            out.push_str(&format!("\t {}\n", tcp_info_line(info)));
        }
    }
    out
}

/// The TCP_INFO fields as `ss -i` prints them (times in ms), those the tree has, in `ss`'s
/// order; `retrans:now/total` always, the other counters when not zero.
fn tcp_info_line(info: &Map<String, Value>) -> String {
    let get = |key: &str| info.get(key).and_then(Value::as_u64);
    let ms = |us: u64| format_ms(us);
    let mut parts: Vec<String> = Vec::new();
    if let Some(ca) = info.get("ca_name").or_else(|| info.get("congestion_control")).and_then(Value::as_str) {
        parts.push(ca.to_owned());
    }
    if let (Some(snd), Some(rcv)) = (get("snd_wscale"), get("rcv_wscale")) {
        parts.push(format!("wscale:{snd},{rcv}"));
    }
    if let Some(rto) = get("rto") {
        parts.push(format!("rto:{}", ms(rto)));
    }
    if let Some(rtt) = get("rtt") {
        parts.push(format!("rtt:{}/{}", ms(rtt), ms(get("rttvar").unwrap_or(0))));
    }
    if let Some(ato) = get("ato").filter(|&a| a != 0) {
        parts.push(format!("ato:{}", ms(ato)));
    }
    for (key, label) in [("snd_mss", "mss"), ("pmtu", "pmtu"), ("rcv_mss", "rcvmss"), ("advmss", "advmss")] {
        if let Some(value) = get(key) {
            parts.push(format!("{label}:{value}"));
        }
    }
    if let Some(cwnd) = get("snd_cwnd") {
        parts.push(format!("cwnd:{cwnd}"));
    }
    if let Some(ssthresh) = get("snd_ssthresh").filter(|&s| s < 0x7fff_ffff) {
        parts.push(format!("ssthresh:{ssthresh}"));
    }
    for key in [
        "bytes_sent",
        "bytes_retrans",
        "bytes_acked",
        "bytes_received",
        "segs_out",
        "segs_in",
        "data_segs_out",
        "data_segs_in",
    ] {
        if let Some(value) = get(key).filter(|&v| v != 0) {
            parts.push(format!("{key}:{value}"));
        }
    }
    for key in ["lastsnd", "lastrcv", "lastack"] {
        if let Some(value) = get(key) {
            parts.push(format!("{key}:{value}"));
        }
    }
    parts.push(format!("retrans:{}/{}", get("retransmits").unwrap_or(0), get("total_retrans").unwrap_or(0)));
    if let Some(rcv_rtt) = get("rcv_rtt").filter(|&r| r != 0) {
        parts.push(format!("rcv_rtt:{}", ms(rcv_rtt)));
    }
    if let Some(rcv_space) = get("rcv_space").filter(|&r| r != 0) {
        parts.push(format!("rcv_space:{rcv_space}"));
    }
    if let Some(min_rtt) = get("min_rtt").filter(|&r| r != 0) {
        parts.push(format!("minrtt:{}", ms(min_rtt)));
    }
    parts.join(" ")
}

/// Microseconds as milliseconds with up to three decimals, trailing zeros dropped
/// (`1500` is `1.5`, `204000` is `204`).
fn format_ms(us: u64) -> String {
    let text = format!("{}.{:03}", us / 1000, us % 1000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::words;

    fn tree() -> Value {
        json!({
            "1": {"Protocol": "tcp", "Family": "ipv4", "State": "LISTEN", "LocalAddress": "192.0.2.1:80",
                  "RemoteAddress": "*", "RecvQ": 0, "SendQ": 128},
            "2": {"Protocol": "tcp", "Family": "ipv4", "State": "ESTABLISHED", "LocalAddress": "192.0.2.1:80",
                  "RemoteAddress": "192.0.2.2:40000", "RecvQ": 5, "SendQ": 0, "Pid": 1,
                  "TcpInfo": {"rtt": 1500, "rttvar": 750, "snd_cwnd": 10, "snd_mss": 1448, "rto": 204000,
                              "retransmits": 0, "total_retrans": 2, "snd_ssthresh": 2147483647, "bytes_acked": 7}},
            "3": {"Protocol": "udp", "Family": "ipv6", "LocalAddress": "[2001:db8::1]:53", "RemoteAddress": "*"},
        })
    }

    fn listed(flags: &[&str]) -> Vec<String> {
        let args = parse(&words(flags)).unwrap();
        let tree = tree();
        let sockets: Vec<Socket<'_>> =
            tree.as_object().unwrap().values().filter_map(Socket::from_node).collect();
        sockets.iter().filter(|s| args.selects(s)).map(|s| format!("{} {}", s.netid, s.state)).collect()
    }

    #[test]
    fn filters_follow_ss() {
        assert_eq!(listed(&["list"]), ["tcp ESTAB"]);
        assert_eq!(listed(&["list", "-l"]), ["tcp LISTEN", "udp UNCONN"]);
        assert_eq!(listed(&["list", "-tuan"]), ["tcp LISTEN", "tcp ESTAB", "udp UNCONN"]);
        assert_eq!(listed(&["list", "-ua"]), ["udp UNCONN"]);
        assert_eq!(listed(&["list", "-a", "-6"]), ["udp UNCONN"]);
        assert_eq!(listed(&["list", "--all", "-4"]), ["tcp LISTEN", "tcp ESTAB"]);
    }

    #[test]
    fn the_table_and_the_info_line_look_like_ss() {
        let args = parse(&words(&["list", "-ti"])).unwrap();
        let tree = tree();
        let sockets: Vec<Socket<'_>> = tree
            .as_object()
            .unwrap()
            .values()
            .filter_map(Socket::from_node)
            .filter(|s| args.selects(s))
            .collect();
        let text = render(&sockets, &args);
        assert_eq!(
            text,
            "Netid  State  Recv-Q  Send-Q  Local Address:Port  Peer Address:Port\n\
             tcp    ESTAB       5       0  192.0.2.1:80        192.0.2.2:40000\n\
             \t rto:204 rtt:1.5/0.75 mss:1448 cwnd:10 bytes_acked:7 retrans:0/2\n"
        );
    }

    #[test]
    fn processes_are_named_from_proc() {
        let me = u64::from(std::process::id());
        let name = process_name(me).unwrap();
        assert!(!name.is_empty() && !name.contains('\n'));
        let args = parse(&words(&["-p"])).unwrap();
        let node =
            json!({"Protocol": "tcp", "State": "ESTABLISHED", "RemoteAddress": "192.0.2.2:1", "Pid": me});
        let socket = Socket::from_node(&node).unwrap();
        assert!(render(&[socket], &args).contains(&format!("users:((\"{name}\",pid={me}))")));
    }

    #[test]
    fn states_are_spelled_as_ss_does() {
        assert_eq!(ss_state("ESTABLISHED"), "ESTAB");
        assert_eq!(ss_state("syn_recv"), "SYN-RECV");
        assert_eq!(ss_state("FIN_WAIT1"), "FIN-WAIT-1");
        assert_eq!(ss_state("TIME_WAIT"), "TIME-WAIT");
        assert_eq!(ss_state("CLOSE"), "UNCONN");
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        assert!(parse(&words(&["list", "-tz"]))
            .unwrap_err()
            .to_string()
            .contains("unknown option '-z' in '-tz'"));
        assert!(parse(&words(&["frob"])).unwrap_err().to_string().contains("unknown command 'frob'"));
        assert!(parse(&words(&["list", "extra"]))
            .unwrap_err()
            .to_string()
            .contains("unexpected argument 'extra'"));
    }

    #[test]
    fn milliseconds_drop_trailing_zeros() {
        assert_eq!(format_ms(1500), "1.5");
        assert_eq!(format_ms(204_000), "204");
        assert_eq!(format_ms(32), "0.032");
    }
}
