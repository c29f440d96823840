//! `netstack run`'s settings, from the command line and from `--config FILE`.
//!
//! # The config file
//!
//! One setting per line, `KEY VALUE`, with the same names and meanings as the command-line
//! options without their dashes; blank lines and lines starting with `#` are ignored:
//!
//! ```text
//! # netstack.conf
//! tap ns0
//! addr 192.0.2.1/24
//! addr 2001:db8::1/64
//! mtu 1500
//! gateway 192.0.2.254
//! gateway 2001:db8::fe
//! tun tun0
//! addr 198.51.100.1/24
//! forwarding
//! svc-dir /run/netstack/svc
//! svc-group netstack
//! max-sockets 16384
//! max-sockets-per-client 1024
//! ```
//!
//! `addr` and `mtu` belong to the interface named last before them, whether a `tap` or a
//! `tun`.
//!
//! A file is read as if its lines were options written where `--config` stands, so options
//! after `--config` add to or override it. There is one default gateway per IP version: a
//! later `gateway` of the same version replaces the earlier one.

use std::path::{Path, PathBuf};

use netstack_core::addr::{AddrSubnet, IpAddr, Ipv4Addr, Ipv6Addr};

/// The smallest MTU IPv4 allows (RFC 791: every host must take 68-byte datagrams).
pub const MIN_MTU: u32 = 68;
/// The largest MTU an IPv4 or IPv6 packet without jumbograms can use.
pub const MAX_MTU: u32 = 65_535;

/// An address with its prefix, as `--addr` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cidr {
    /// An IPv4 address.
    V4(AddrSubnet<Ipv4Addr>),
    /// An IPv6 address.
    V6(AddrSubnet<Ipv6Addr>),
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cidr::V4(a) => write!(f, "{}/{}", *a.addr(), a.subnet().prefix_len()),
            Cidr::V6(a) => write!(f, "{}/{}", *a.addr(), a.subnet().prefix_len()),
        }
    }
}

/// Which kind of Linux virtual interface the daemon makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterfaceKind {
    /// `--tap`: Ethernet frames, with ARP and NDP on the link.
    Tap,
    /// `--tun`: bare IPv4 and IPv6 packets, no link-layer addresses.
    Tun,
}

impl std::fmt::Display for InterfaceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InterfaceKind::Tap => "TAP",
            InterfaceKind::Tun => "TUN",
        })
    }
}

/// One `--tap` or `--tun` interface and the settings that follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// The interface name.
    pub name: String,
    /// TAP or TUN.
    pub kind: InterfaceKind,
    /// Its addresses, in order.
    pub addrs: Vec<Cidr>,
    /// Its MTU (`None`: 1500).
    pub mtu: Option<u32>,
}

/// Everything `netstack run` was asked to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// TAP and TUN interfaces to create, in the order they were named.
    pub interfaces: Vec<InterfaceConfig>,
    /// The IPv4 default route's gateway.
    pub gateway4: Option<Ipv4Addr>,
    /// The IPv6 default route's gateway.
    pub gateway6: Option<Ipv6Addr>,
    /// Forward packets between interfaces.
    pub forwarding: bool,
    /// Where to publish the protocols the daemon serves (`None`: the default,
    /// [`DEFAULT_SVC_DIR`](crate::svc::DEFAULT_SVC_DIR)).
    pub svc_dir: Option<PathBuf>,
    /// The group whose members may use the services too (its id).
    pub svc_group: Option<u32>,
    /// Sockets open at once, all clients together (`None`: the default).
    pub max_sockets: Option<usize>,
    /// Sockets one Provider connection may hold (`None`: the default).
    pub max_sockets_per_client: Option<usize>,
    /// Ports of the test-only UDP echo service.
    pub udp_echo: Vec<u16>,
    /// Ports of the test-only TCP echo service.
    pub tcp_echo: Vec<u16>,
    /// Peers the test-only TCP echo service connects to at start (an active open).
    pub tcp_echo_to: Vec<(IpAddr, u16)>,
    /// `--help` was given.
    pub help: bool,
}

/// Why the settings are unusable; each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An option without its value.
    #[error("option '{0}' needs a value; see 'netstack run --help'")]
    MissingValue(String),
    /// Not an option of `run`.
    #[error("unknown option '{0}' for 'netstack run'; see 'netstack run --help'")]
    UnknownOption(String),
    /// A per-interface setting before any `--tap` or `--tun`.
    #[error("'{0}' sets an interface: put it after a '--tap NAME' or '--tun NAME'")]
    NoInterface(String),
    /// The same interface name twice, as TAPs, TUNs or one of each.
    #[error("interface '{0}' is given twice: name each --tap and --tun once")]
    DuplicateInterface(String),
    /// An address that does not parse.
    #[error(
        "bad address '{value}': {reason}; expected ADDRESS/PREFIX such as 192.0.2.1/24 or 2001:db8::1/64"
    )]
    BadCidr {
        /// What was given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A gateway that is not an IP address.
    #[error("bad gateway '{0}': expected an IP address such as 192.0.2.254 or 2001:db8::fe")]
    BadIp(String),
    /// An MTU out of range.
    #[error("bad MTU '{0}': expected a number from {MIN_MTU} to {MAX_MTU}")]
    BadMtu(String),
    /// A port that is not 1 to 65535.
    #[error("bad port '{0}': expected a number from 1 to 65535")]
    BadPort(String),
    /// A peer that is not `IP:PORT` (`[IPv6]:PORT`).
    #[error("bad endpoint '{0}': expected IP:PORT, e.g. 192.0.2.2:9000 or [2001:db8::2]:9000")]
    BadEndpoint(String),
    /// A socket limit that is not a positive number.
    #[error("bad value '{value}' for --{option}: expected a number from 1 to {max}")]
    BadLimit {
        /// The option.
        option: &'static str,
        /// What was given.
        value: String,
        /// The largest value taken.
        max: usize,
    },
    /// A group that does not exist.
    #[error("unknown group '{0}' for --svc-group: give a group name from /etc/group or a numeric id")]
    UnknownGroup(String),
    /// A boolean that is not one.
    #[error("bad value '{0}' for forwarding: expected on, off, true or false (or nothing)")]
    BadBool(String),
    /// The config file cannot be read.
    #[error("cannot read config file '{}': {source}; check the path and its permissions", .path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of the config file is wrong.
    #[error("{}:{line}: {error}", .path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        error: Box<ConfigError>,
    },
    /// A config file names another.
    #[error("'config' inside a config file: files cannot include each other; merge them")]
    NestedConfig,
}

impl Config {
    /// Parses `run`'s arguments (after the word `run`), reading any `--config` file.
    pub fn from_args(args: &[String]) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (key, inline) = match arg.strip_prefix("--") {
                Some(rest) => match rest.split_once('=') {
                    Some((key, value)) => (key, Some(value.to_owned())),
                    None => (rest, None),
                },
                None if arg == "-h" => ("help", None),
                None => return Err(ConfigError::UnknownOption(arg.clone())),
            };
            match key {
                "help" => config.help = true,
                "forwarding" => config.forwarding = inline.as_deref().map_or(Ok(true), parse_bool)?,
                "config" => {
                    let path = inline
                        .or_else(|| args.next().cloned())
                        .ok_or(ConfigError::MissingValue(arg.clone()))?;
                    config.apply_file(Path::new(&path))?;
                }
                "tap"
                | "tun"
                | "addr"
                | "mtu"
                | "gateway"
                | "svc-dir"
                | "svc-group"
                | "max-sockets"
                | "max-sockets-per-client"
                | "udp-echo"
                | "tcp-echo"
                | "tcp-echo-to" => {
                    let option = format!("--{key}");
                    let value =
                        inline.or_else(|| args.next().cloned()).ok_or(ConfigError::MissingValue(option))?;
                    config.apply(key, &value, arg)?;
                }
                _ => return Err(ConfigError::UnknownOption(arg.clone())),
            }
        }
        Ok(config)
    }

    /// Whether anything was asked for beyond the defaults.
    pub fn is_default(&self) -> bool {
        *self == Config::default()
    }

    /// One `key value` setting.
    fn apply(&mut self, key: &str, value: &str, arg: &str) -> Result<(), ConfigError> {
        match key {
            "tap" | "tun" => {
                if self.interfaces.iter().any(|i| i.name == value) {
                    return Err(ConfigError::DuplicateInterface(value.to_owned()));
                }
                let kind = if key == "tap" { InterfaceKind::Tap } else { InterfaceKind::Tun };
                self.interfaces.push(InterfaceConfig {
                    name: value.to_owned(),
                    kind,
                    addrs: Vec::new(),
                    mtu: None,
                });
            }
            "addr" => {
                let cidr = parse_cidr(value)?;
                self.last_interface(arg)?.addrs.push(cidr);
            }
            "mtu" => {
                let mtu = value
                    .parse::<u32>()
                    .ok()
                    .filter(|m| (MIN_MTU..=MAX_MTU).contains(m))
                    .ok_or_else(|| ConfigError::BadMtu(value.to_owned()))?;
                self.last_interface(arg)?.mtu = Some(mtu);
            }
            "gateway" => match value.parse().map_err(|_| ConfigError::BadIp(value.to_owned()))? {
                IpAddr::V4(gw) => self.gateway4 = Some(gw),
                IpAddr::V6(gw) => self.gateway6 = Some(gw),
            },
            "forwarding" => self.forwarding = parse_bool(value)?,
            "svc-dir" => self.svc_dir = Some(PathBuf::from(value)),
            "svc-group" => {
                self.svc_group = Some(
                    crate::svc::group_id(value).ok_or_else(|| ConfigError::UnknownGroup(value.to_owned()))?,
                )
            }
            "max-sockets" => self.max_sockets = Some(parse_limit("max-sockets", value)?),
            "max-sockets-per-client" => {
                self.max_sockets_per_client = Some(parse_limit("max-sockets-per-client", value)?)
            }
            "udp-echo" => self.udp_echo.push(parse_port(value)?),
            "tcp-echo" => self.tcp_echo.push(parse_port(value)?),
            "tcp-echo-to" => self.tcp_echo_to.push(parse_endpoint(value)?),
            _ => return Err(ConfigError::UnknownOption(arg.to_owned())),
        }
        Ok(())
    }

    /// The interface `--addr` and `--mtu` apply to: the one named last.
    fn last_interface(&mut self, arg: &str) -> Result<&mut InterfaceConfig, ConfigError> {
        self.interfaces.last_mut().ok_or_else(|| ConfigError::NoInterface(arg.to_owned()))
    }

    /// The settings in `path`, applied in order.
    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::ReadFile { path: path.to_owned(), source })?;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = match line.split_once(char::is_whitespace) {
                Some((key, value)) => (key, Some(value.trim())),
                None => (line, None),
            };
            let result = match (key, value) {
                ("config", _) => Err(ConfigError::NestedConfig),
                ("forwarding", None) => {
                    self.forwarding = true;
                    Ok(())
                }
                (_, None) => Err(ConfigError::MissingValue(key.to_owned())),
                (_, Some(value)) => self.apply(key, value, key),
            };
            result.map_err(|error| ConfigError::InFile {
                path: path.to_owned(),
                line: index + 1,
                error: Box::new(error),
            })?;
        }
        Ok(())
    }
}

/// The most sockets a limit may allow (each holds a few of the daemon's fds).
pub const MAX_SOCKET_LIMIT: usize = 1 << 20;

/// A socket limit: 1 to [`MAX_SOCKET_LIMIT`].
fn parse_limit(option: &'static str, value: &str) -> Result<usize, ConfigError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_SOCKET_LIMIT).contains(n))
        .ok_or_else(|| ConfigError::BadLimit { option, value: value.to_owned(), max: MAX_SOCKET_LIMIT })
}

/// A port for a service: 1 to 65535.
fn parse_port(value: &str) -> Result<u16, ConfigError> {
    value.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(|| ConfigError::BadPort(value.to_owned()))
}

/// A peer: `IP:PORT`, an IPv6 address in brackets, a port from 1 to 65535.
fn parse_endpoint(value: &str) -> Result<(IpAddr, u16), ConfigError> {
    let bad = || ConfigError::BadEndpoint(value.to_owned());
    let endpoint: std::net::SocketAddr = value.parse().map_err(|_| bad())?;
    let addr = endpoint.ip().to_string().parse::<IpAddr>().map_err(|_| bad())?;
    Some((addr, endpoint.port())).filter(|(_, port)| *port != 0).ok_or_else(bad)
}

fn parse_bool(value: &str) -> Result<bool, ConfigError> {
    match value {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(ConfigError::BadBool(value.to_owned())),
    }
}

/// `ADDRESS/PREFIX`, IPv4 or IPv6.
pub fn parse_cidr(value: &str) -> Result<Cidr, ConfigError> {
    let bad = |reason| ConfigError::BadCidr { value: value.to_owned(), reason };
    let (addr, prefix) = value.split_once('/').ok_or_else(|| bad("no prefix length"))?;
    let prefix: u8 = prefix.parse().map_err(|_| bad("the prefix length is not a number"))?;
    let addr: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
    match addr {
        IpAddr::V4(a) => {
            if prefix > 32 {
                return Err(bad("an IPv4 prefix is at most 32"));
            }
            AddrSubnet::new(a, prefix)
                .map(Cidr::V4)
                .map_err(|_| bad("not a unicast host address in that subnet"))
        }
        IpAddr::V6(a) => {
            if prefix > 128 {
                return Err(bad("an IPv6 prefix is at most 128"));
            }
            AddrSubnet::new(a, prefix)
                .map(Cidr::V6)
                .map_err(|_| bad("not a unicast host address in that subnet"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn cidr(s: &str) -> Cidr {
        parse_cidr(s).unwrap()
    }

    #[test]
    fn options_apply_to_the_last_named_interface() {
        let config = Config::from_args(&args(&[
            "--tap",
            "a0",
            "--addr",
            "192.0.2.1/24",
            "--mtu",
            "9000",
            "--tap=b0",
            "--addr",
            "198.51.100.1/24",
            "--addr",
            "2001:db8::1/64",
            "--gateway",
            "198.51.100.254",
            "--gateway",
            "2001:db8::fe",
            "--forwarding",
            "--svc-dir",
            "/tmp/svc",
            "--svc-group",
            "0",
            "--max-sockets",
            "100",
            "--max-sockets-per-client=10",
            "--udp-echo",
            "7",
            "--tcp-echo",
            "7",
            "--tcp-echo-to",
            "[2001:db8::fe]:9000",
        ]))
        .unwrap();
        assert_eq!(config.interfaces.len(), 2);
        assert_eq!(
            config.interfaces[0],
            InterfaceConfig {
                name: "a0".into(),
                kind: InterfaceKind::Tap,
                addrs: vec![cidr("192.0.2.1/24")],
                mtu: Some(9000)
            }
        );
        assert_eq!(config.interfaces[1].addrs, [cidr("198.51.100.1/24"), cidr("2001:db8::1/64")]);
        assert_eq!(config.interfaces[1].mtu, None);
        assert_eq!(config.gateway4, Some("198.51.100.254".parse().unwrap()));
        assert_eq!(config.gateway6, Some("2001:db8::fe".parse().unwrap()));
        assert!(config.forwarding);
        assert_eq!(config.svc_dir.as_deref(), Some(Path::new("/tmp/svc")));
        assert_eq!(
            (config.svc_group, config.max_sockets, config.max_sockets_per_client),
            (Some(0), Some(100), Some(10))
        );
        assert_eq!(config.udp_echo, [7]);
        assert_eq!(config.tcp_echo, [7]);
        assert_eq!(config.tcp_echo_to, [("2001:db8::fe".parse().unwrap(), 9000)]);
        assert!(Config::from_args(&[]).unwrap().is_default());
    }

    #[test]
    fn one_gateway_per_ip_version_the_later_one_wins() {
        let config = Config::from_args(&args(&[
            "--gateway",
            "192.0.2.254",
            "--gateway",
            "fe80::1",
            "--gateway",
            "192.0.2.253",
        ]))
        .unwrap();
        assert_eq!(config.gateway4, Some("192.0.2.253".parse().unwrap()));
        assert_eq!(config.gateway6, Some("fe80::1".parse().unwrap()));
        let only6 = Config::from_args(&args(&["--gateway", "2001:db8::fe"])).unwrap();
        assert_eq!((only6.gateway4, only6.gateway6), (None, Some("2001:db8::fe".parse().unwrap())));
    }

    #[test]
    fn bad_input_gets_a_typed_error() {
        let err = |a: &[&str]| Config::from_args(&args(a)).unwrap_err();
        assert!(matches!(err(&["--addr", "192.0.2.1/24"]), ConfigError::NoInterface(_)));
        assert!(matches!(err(&["--tap"]), ConfigError::MissingValue(_)));
        assert!(matches!(err(&["--frob"]), ConfigError::UnknownOption(_)));
        assert!(matches!(err(&["stray"]), ConfigError::UnknownOption(_)));
        assert!(matches!(err(&["--tap", "a", "--tap", "a"]), ConfigError::DuplicateInterface(_)));
        assert!(matches!(err(&["--tap", "a", "--mtu", "67"]), ConfigError::BadMtu(_)));
        assert!(matches!(err(&["--gateway", "nope"]), ConfigError::BadIp(_)));
        assert!(matches!(err(&["--udp-echo", "0"]), ConfigError::BadPort(_)));
        assert!(matches!(err(&["--tcp-echo", "http"]), ConfigError::BadPort(_)));
        assert!(matches!(err(&["--tcp-echo-to", "192.0.2.2"]), ConfigError::BadEndpoint(_)));
        assert!(matches!(err(&["--tcp-echo-to", "2001:db8::2:9000"]), ConfigError::BadEndpoint(_)));
        assert!(matches!(err(&["--tcp-echo-to", "192.0.2.2:0"]), ConfigError::BadEndpoint(_)));
        assert!(matches!(err(&["--forwarding=maybe"]), ConfigError::BadBool(_)));
        assert!(matches!(err(&["--max-sockets", "0"]), ConfigError::BadLimit { option: "max-sockets", .. }));
        assert!(matches!(err(&["--max-sockets-per-client", "lots"]), ConfigError::BadLimit { .. }));
        assert!(matches!(err(&["--svc-group", "no-such-group-here"]), ConfigError::UnknownGroup(_)));
        assert_eq!(
            err(&["--max-sockets", "-1"]).to_string(),
            "bad value '-1' for --max-sockets: expected a number from 1 to 1048576"
        );
        for bad in
            ["192.0.2.1", "192.0.2.1/33", "192.0.2.1/x", "300.0.2.1/24", "2001:db8::1/129", "224.0.0.1/4"]
        {
            assert!(matches!(parse_cidr(bad), Err(ConfigError::BadCidr { .. })), "{bad}");
        }
        let message = parse_cidr("192.0.2.1").unwrap_err().to_string();
        assert_eq!(
            message,
            "bad address '192.0.2.1': no prefix length; expected ADDRESS/PREFIX such as 192.0.2.1/24 or 2001:db8::1/64"
        );
    }

    #[test]
    fn addr_and_mtu_follow_the_last_interface_tap_or_tun() {
        let config = Config::from_args(&args(&[
            "--tun",
            "tun0",
            "--addr",
            "192.0.2.1/24",
            "--mtu",
            "1400",
            "--tap",
            "tap0",
            "--addr",
            "198.51.100.1/24",
            "--tun=tun1",
            "--addr",
            "2001:db8::1/64",
        ]))
        .unwrap();
        let summary: Vec<_> =
            config.interfaces.iter().map(|i| (i.name.as_str(), i.kind, i.addrs.clone(), i.mtu)).collect();
        assert_eq!(
            summary,
            [
                ("tun0", InterfaceKind::Tun, vec![cidr("192.0.2.1/24")], Some(1400)),
                ("tap0", InterfaceKind::Tap, vec![cidr("198.51.100.1/24")], None),
                ("tun1", InterfaceKind::Tun, vec![cidr("2001:db8::1/64")], None),
            ]
        );
    }

    #[test]
    fn a_tun_name_is_checked_like_a_tap_name() {
        let err = |a: &[&str]| Config::from_args(&args(a)).unwrap_err();
        // One name, one interface: the kind does not make it another.
        for twice in
            [["--tun", "x", "--tun", "x"], ["--tap", "x", "--tun", "x"], ["--tun", "x", "--tap", "x"]]
        {
            let e = err(&twice);
            assert!(matches!(&e, ConfigError::DuplicateInterface(n) if n == "x"), "{twice:?}: {e}");
            assert_eq!(e.to_string(), "interface 'x' is given twice: name each --tap and --tun once");
        }
        assert!(matches!(err(&["--tun"]), ConfigError::MissingValue(o) if o == "--tun"));
        assert!(matches!(err(&["--mtu", "1400", "--tun", "t"]), ConfigError::NoInterface(_)));
        assert_eq!(
            err(&["--addr", "192.0.2.1/24"]).to_string(),
            "'--addr' sets an interface: put it after a '--tap NAME' or '--tun NAME'"
        );
        assert!(matches!(err(&["--tun", "t", "--mtu", "65536"]), ConfigError::BadMtu(_)));
        assert!(matches!(err(&["--tun", "t", "--addr", "2001:db8::1"]), ConfigError::BadCidr { .. }));
        // `-tun` is not an option, and a stray word is not a name.
        assert!(matches!(err(&["-tun", "t"]), ConfigError::UnknownOption(_)));
        assert!(matches!(err(&["--tun", "t", "u"]), ConfigError::UnknownOption(_)));
    }

    #[test]
    fn a_config_file_reads_as_options_in_place() {
        let dir = std::env::temp_dir().join(format!("netstack-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ok.conf");
        std::fs::write(
            &file,
            "# test\n\ntap ns0\naddr 192.0.2.1/24\n  mtu 1400\nforwarding\nudp-echo 7\nmax-sockets 64\nsvc-group root\n",
        )
            .unwrap();
        let path = file.to_str().unwrap();
        let config = Config::from_args(&args(&["--config", path, "--addr", "192.0.2.9/24"])).unwrap();
        assert_eq!(config.interfaces[0].addrs, [cidr("192.0.2.1/24"), cidr("192.0.2.9/24")]);
        assert_eq!(config.interfaces[0].mtu, Some(1400));
        assert!(config.forwarding);
        assert_eq!(config.udp_echo, [7]);
        assert_eq!((config.max_sockets, config.svc_group), (Some(64), Some(0)));

        let tun = dir.join("tun.conf");
        std::fs::write(&tun, "tap a0\ntun tun0\naddr 2001:db8::1/64\nmtu 1280\n").unwrap();
        let config = Config::from_args(&args(&["--config", tun.to_str().unwrap()])).unwrap();
        assert_eq!(config.interfaces[1].kind, InterfaceKind::Tun);
        assert_eq!(config.interfaces[1].addrs, [cidr("2001:db8::1/64")]);
        assert_eq!(config.interfaces[1].mtu, Some(1280));
        std::fs::write(&tun, "tun a0\ntap a0\n").unwrap();
        let err = Config::from_args(&args(&["--config", tun.to_str().unwrap()])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::InFile { line: 2, error, .. } if matches!(**error, ConfigError::DuplicateInterface(_))),
            "{err}"
        );
        std::fs::write(&tun, "tun\n").unwrap();
        let err = Config::from_args(&args(&["--config", tun.to_str().unwrap()])).unwrap_err();
        assert!(matches!(&err, ConfigError::InFile { line: 1, .. }), "{err}");

        let bad = dir.join("bad.conf");
        std::fs::write(&bad, "tap ns0\naddr 192.0.2.1\n").unwrap();
        let err = Config::from_args(&args(&["--config", bad.to_str().unwrap()])).unwrap_err();
        assert!(matches!(&err, ConfigError::InFile { line: 2, .. }), "{err}");
        assert!(err.to_string().starts_with(&format!("{}:2: bad address", bad.display())), "{err}");
        std::fs::write(&bad, "config other.conf\n").unwrap();
        let err = Config::from_args(&args(&["--config", bad.to_str().unwrap()])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::InFile { error, .. } if matches!(**error, ConfigError::NestedConfig))
        );
        let missing = Config::from_args(&args(&["--config", "/nonexistent/x.conf"])).unwrap_err();
        assert!(matches!(missing, ConfigError::ReadFile { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
