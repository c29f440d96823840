//! `setsockopt(2)` and `getsockopt(2)`: which options the shim knows, how their C values are
//! read and written, and which sockets they apply to. The checks follow Linux's
//! `sk_setsockopt`, `do_tcp_setsockopt`, `do_ip_setsockopt` and `do_ipv6_setsockopt` (and
//! their `getsockopt` twins), so that the errno and the returned length match:
//!
//! - `SOL_SOCKET` and `IPPROTO_TCP` integers need `optlen >= sizeof(int)` (`EINVAL`);
//! - `IPPROTO_IP` integers may also be passed and returned as one byte;
//! - `IPPROTO_IPV6` integers need a full `int`;
//! - `getsockopt` copies at most `*optlen` bytes and stores the length it copied.
//!
//! The FIDL calls behind each option are in `control.rs`; the options the data plane
//! implements natively (`SO_RCVTIMEO`, `SO_SNDTIMEO`) and the ones answered from local state
//! (`SO_TYPE`, `SO_DOMAIN`, `SO_PROTOCOL`) are in `socket.rs`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::errno::Errno;

/// An option the netstack implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    ReuseAddr,
    ReusePort,
    KeepAlive,
    Broadcast,
    SndBuf,
    RcvBuf,
    Linger,
    OobInline,
    NoCheck,
    BindToDevice,
    BindToIfindex,
    AcceptConn,
    Error,
    TcpNoDelay,
    TcpMaxSeg,
    TcpCork,
    TcpKeepIdle,
    TcpKeepIntvl,
    TcpKeepCnt,
    TcpSynCnt,
    TcpLinger2,
    TcpDeferAccept,
    TcpWindowClamp,
    TcpInfo,
    TcpQuickAck,
    TcpCongestion,
    TcpUserTimeout,
    IpTtl,
    IpTos,
    IpMulticastTtl,
    IpMulticastIf,
    IpMulticastLoop,
    IpAddMembership,
    IpDropMembership,
    IpRecvTtl,
    IpRecvTos,
    Ipv6Only,
    Ipv6UnicastHops,
    Ipv6MulticastHops,
    Ipv6MulticastIf,
    Ipv6MulticastLoop,
    Ipv6JoinGroup,
    Ipv6LeaveGroup,
    Ipv6TClass,
    Ipv6RecvHopLimit,
    Ipv6RecvTClass,
}

/// How an option's value looks in C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// An `int`, non-zero meaning true.
    Bool,
    /// An `int` that must be 0 or 1 (`IPV6_MULTICAST_LOOP`).
    StrictBool,
    /// An `int`.
    Int,
    /// A TTL, hop limit or traffic class: an `int` in `min..=255`, or -1 for the default.
    Hops { min: i32 },
    /// `struct linger`.
    Linger,
    /// `struct in_addr`, `struct ip_mreq` or `struct ip_mreqn`.
    MulticastIf4,
    /// `struct ip_mreq` or `struct ip_mreqn`.
    Membership4,
    /// `struct ipv6_mreq`.
    Membership6,
    /// A congestion control algorithm's name.
    Congestion,
    /// An interface name.
    Device,
    /// Read-only.
    ReadOnly,
}

impl Opt {
    /// The option `(level, name)` names, if the netstack implements it.
    pub fn from_c(level: libc::c_int, name: libc::c_int) -> Option<Opt> {
        let opt = match (level, name) {
            (libc::SOL_SOCKET, libc::SO_REUSEADDR) => Opt::ReuseAddr,
            (libc::SOL_SOCKET, libc::SO_REUSEPORT) => Opt::ReusePort,
            (libc::SOL_SOCKET, libc::SO_KEEPALIVE) => Opt::KeepAlive,
            (libc::SOL_SOCKET, libc::SO_BROADCAST) => Opt::Broadcast,
            (libc::SOL_SOCKET, libc::SO_SNDBUF | libc::SO_SNDBUFFORCE) => Opt::SndBuf,
            (libc::SOL_SOCKET, libc::SO_RCVBUF | libc::SO_RCVBUFFORCE) => Opt::RcvBuf,
            (libc::SOL_SOCKET, libc::SO_LINGER) => Opt::Linger,
            (libc::SOL_SOCKET, libc::SO_OOBINLINE) => Opt::OobInline,
            (libc::SOL_SOCKET, libc::SO_NO_CHECK) => Opt::NoCheck,
            (libc::SOL_SOCKET, libc::SO_BINDTODEVICE) => Opt::BindToDevice,
            (libc::SOL_SOCKET, SO_BINDTOIFINDEX) => Opt::BindToIfindex,
            (libc::SOL_SOCKET, libc::SO_ACCEPTCONN) => Opt::AcceptConn,
            (libc::SOL_SOCKET, libc::SO_ERROR) => Opt::Error,
            (libc::IPPROTO_TCP, libc::TCP_NODELAY) => Opt::TcpNoDelay,
            (libc::IPPROTO_TCP, libc::TCP_MAXSEG) => Opt::TcpMaxSeg,
            (libc::IPPROTO_TCP, libc::TCP_CORK) => Opt::TcpCork,
            (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE) => Opt::TcpKeepIdle,
            (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL) => Opt::TcpKeepIntvl,
            (libc::IPPROTO_TCP, libc::TCP_KEEPCNT) => Opt::TcpKeepCnt,
            (libc::IPPROTO_TCP, libc::TCP_SYNCNT) => Opt::TcpSynCnt,
            (libc::IPPROTO_TCP, libc::TCP_LINGER2) => Opt::TcpLinger2,
            (libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT) => Opt::TcpDeferAccept,
            (libc::IPPROTO_TCP, libc::TCP_WINDOW_CLAMP) => Opt::TcpWindowClamp,
            (libc::IPPROTO_TCP, libc::TCP_INFO) => Opt::TcpInfo,
            (libc::IPPROTO_TCP, libc::TCP_QUICKACK) => Opt::TcpQuickAck,
            (libc::IPPROTO_TCP, libc::TCP_CONGESTION) => Opt::TcpCongestion,
            (libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT) => Opt::TcpUserTimeout,
            (libc::IPPROTO_IP, libc::IP_TTL) => Opt::IpTtl,
            (libc::IPPROTO_IP, libc::IP_TOS) => Opt::IpTos,
            (libc::IPPROTO_IP, libc::IP_MULTICAST_TTL) => Opt::IpMulticastTtl,
            (libc::IPPROTO_IP, libc::IP_MULTICAST_IF) => Opt::IpMulticastIf,
            (libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP) => Opt::IpMulticastLoop,
            (libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP) => Opt::IpAddMembership,
            (libc::IPPROTO_IP, libc::IP_DROP_MEMBERSHIP) => Opt::IpDropMembership,
            (libc::IPPROTO_IP, libc::IP_RECVTTL) => Opt::IpRecvTtl,
            (libc::IPPROTO_IP, libc::IP_RECVTOS) => Opt::IpRecvTos,
            (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) => Opt::Ipv6Only,
            (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS) => Opt::Ipv6UnicastHops,
            (libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS) => Opt::Ipv6MulticastHops,
            (libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_IF) => Opt::Ipv6MulticastIf,
            (libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP) => Opt::Ipv6MulticastLoop,
            (libc::IPPROTO_IPV6, libc::IPV6_ADD_MEMBERSHIP) => Opt::Ipv6JoinGroup,
            (libc::IPPROTO_IPV6, libc::IPV6_DROP_MEMBERSHIP) => Opt::Ipv6LeaveGroup,
            (libc::IPPROTO_IPV6, libc::IPV6_TCLASS) => Opt::Ipv6TClass,
            (libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT) => Opt::Ipv6RecvHopLimit,
            (libc::IPPROTO_IPV6, libc::IPV6_RECVTCLASS) => Opt::Ipv6RecvTClass,
            _ => return None,
        };
        Some(opt)
    }

    fn level(self) -> libc::c_int {
        use Opt::*;
        match self {
            ReuseAddr | ReusePort | KeepAlive | Broadcast | SndBuf | RcvBuf | Linger | OobInline
            | NoCheck | BindToDevice | BindToIfindex | AcceptConn | Error => libc::SOL_SOCKET,
            TcpNoDelay | TcpMaxSeg | TcpCork | TcpKeepIdle | TcpKeepIntvl | TcpKeepCnt | TcpSynCnt
            | TcpLinger2 | TcpDeferAccept | TcpWindowClamp | TcpInfo | TcpQuickAck | TcpCongestion
            | TcpUserTimeout => libc::IPPROTO_TCP,
            IpTtl | IpTos | IpMulticastTtl | IpMulticastIf | IpMulticastLoop | IpAddMembership
            | IpDropMembership | IpRecvTtl | IpRecvTos => libc::IPPROTO_IP,
            Ipv6Only | Ipv6UnicastHops | Ipv6MulticastHops | Ipv6MulticastIf | Ipv6MulticastLoop
            | Ipv6JoinGroup | Ipv6LeaveGroup | Ipv6TClass | Ipv6RecvHopLimit | Ipv6RecvTClass => {
                libc::IPPROTO_IPV6
            }
        }
    }

    fn shape(self) -> Shape {
        use Opt::*;
        match self {
            ReuseAddr | ReusePort | KeepAlive | Broadcast | OobInline | NoCheck | TcpNoDelay | TcpCork
            | TcpQuickAck | IpMulticastLoop | IpRecvTtl | IpRecvTos | Ipv6Only | Ipv6RecvHopLimit
            | Ipv6RecvTClass => Shape::Bool,
            Ipv6MulticastLoop => Shape::StrictBool,
            SndBuf | RcvBuf | BindToIfindex | TcpMaxSeg | TcpKeepIdle | TcpKeepIntvl | TcpKeepCnt
            | TcpSynCnt | TcpLinger2 | TcpDeferAccept | TcpWindowClamp | TcpUserTimeout | IpTos
            | Ipv6MulticastIf => Shape::Int,
            IpTtl => Shape::Hops { min: 1 },
            IpMulticastTtl | Ipv6UnicastHops | Ipv6MulticastHops | Ipv6TClass => Shape::Hops { min: 0 },
            Linger => Shape::Linger,
            IpMulticastIf => Shape::MulticastIf4,
            IpAddMembership | IpDropMembership => Shape::Membership4,
            Ipv6JoinGroup | Ipv6LeaveGroup => Shape::Membership6,
            TcpCongestion => Shape::Congestion,
            BindToDevice => Shape::Device,
            AcceptConn | Error | TcpInfo => Shape::ReadOnly,
        }
    }

    /// Whether the option exists on a socket of this kind; Linux says `ENOPROTOOPT` when it
    /// does not (TCP options on UDP, IPv6 options on IPv4 sockets).
    pub fn applies_to(self, stream: bool, ipv6: bool) -> bool {
        match self.level() {
            libc::IPPROTO_TCP => stream,
            libc::IPPROTO_IPV6 => ipv6,
            _ => true,
        }
    }
}

/// `SO_BINDTOIFINDEX` (Linux 5.0), which the libc crate lacks for some targets.
const SO_BINDTOIFINDEX: libc::c_int = 62;

/// The longest congestion control name, with its NUL (`TCP_CA_NAME_MAX`).
const TCP_CA_NAME_MAX: usize = 16;
/// `IFNAMSIZ`.
const IFNAMSIZ: usize = 16;

/// TCP congestion control algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Congestion {
    Reno,
    Cubic,
}

impl Congestion {
    fn name(self) -> &'static str {
        match self {
            Congestion::Reno => "reno",
            Congestion::Cubic => "cubic",
        }
    }
}

/// A value to set, read from the application's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetValue {
    Bool(bool),
    Int(i32),
    /// `None` is -1: back to the default.
    Hops(Option<u8>),
    Linger {
        on: bool,
        secs: u32,
    },
    MulticastIf4 {
        iface: u64,
        addr: Ipv4Addr,
    },
    Membership4 {
        iface: u64,
        local: Ipv4Addr,
        group: Ipv4Addr,
    },
    Membership6 {
        iface: u64,
        group: Ipv6Addr,
    },
    Congestion(Congestion),
    Device(String),
}

/// A value the netstack returned, to write into the application's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetValue {
    Int(i32),
    Linger {
        on: bool,
        secs: u32,
    },
    InAddr(Ipv4Addr),
    Congestion(Congestion),
    Device(String),
    /// A structure already laid out as Linux does (`struct tcp_info`).
    Bytes(Vec<u8>),
}

impl GetValue {
    pub fn from_bool(v: bool) -> GetValue {
        GetValue::Int(i32::from(v))
    }

    /// An unsigned netstack value as the C `int` the option returns, saturated.
    pub fn from_u64(v: u64) -> GetValue {
        GetValue::Int(i32::try_from(v).unwrap_or(i32::MAX))
    }
}

fn read_int(bytes: &[u8]) -> Option<i32> {
    bytes.get(..4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_in_addr(bytes: &[u8], at: usize) -> Option<Ipv4Addr> {
    bytes.get(at..at + 4).map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]))
}

/// Reads the integer of an option at `level`: `IPPROTO_IP` takes an `int` or a single byte,
/// the other levels a full `int`.
fn read_level_int(level: libc::c_int, bytes: &[u8]) -> Result<i32, Errno> {
    match read_int(bytes) {
        Some(v) => Ok(v),
        None if level == libc::IPPROTO_IP && !bytes.is_empty() => Ok(i32::from(bytes[0])),
        None => Err(Errno::EINVAL),
    }
}

/// Reads the value of `setsockopt(opt)` from the application's `bytes`.
pub fn parse_set(opt: Opt, bytes: &[u8]) -> Result<SetValue, Errno> {
    let level = opt.level();
    match opt.shape() {
        Shape::Bool => read_level_int(level, bytes).map(|v| SetValue::Bool(v != 0)),
        Shape::StrictBool => match read_level_int(level, bytes)? {
            0 => Ok(SetValue::Bool(false)),
            1 => Ok(SetValue::Bool(true)),
            _ => Err(Errno::EINVAL),
        },
        Shape::Int => read_level_int(level, bytes).map(SetValue::Int),
        Shape::Hops { min } => match read_level_int(level, bytes)? {
            -1 => Ok(SetValue::Hops(None)),
            v if v >= min && v <= 255 => Ok(SetValue::Hops(u8::try_from(v).ok())),
            _ => Err(Errno::EINVAL),
        },
        Shape::Linger => {
            let on = read_int(bytes).ok_or(Errno::EINVAL)?;
            let secs = bytes.get(4..8).and_then(read_int).ok_or(Errno::EINVAL)?;
            // A negative linger time is "forever" on Linux; the netstack takes seconds.
            let secs = u32::try_from(secs).unwrap_or(u32::MAX);
            Ok(SetValue::Linger { on: on != 0, secs })
        }
        Shape::MulticastIf4 => {
            // ip_mreqn { multiaddr, address, ifindex }, ip_mreq { multiaddr, interface },
            // or a bare in_addr naming the interface's address.
            let (addr, iface) = if bytes.len() >= 12 {
                let iface = bytes.get(8..12).and_then(read_int).unwrap_or(0);
                (read_in_addr(bytes, 4), u64::try_from(iface).unwrap_or(0))
            } else if bytes.len() >= 8 {
                (read_in_addr(bytes, 4), 0)
            } else {
                (read_in_addr(bytes, 0), 0)
            };
            let addr = addr.ok_or(Errno::EINVAL)?;
            Ok(SetValue::MulticastIf4 { iface, addr })
        }
        Shape::Membership4 => {
            let group = read_in_addr(bytes, 0);
            let local = read_in_addr(bytes, 4);
            let (Some(group), Some(local)) = (group, local) else {
                return Err(Errno::EINVAL);
            };
            let iface = bytes.get(8..12).and_then(read_int).unwrap_or(0);
            let iface = u64::try_from(iface).unwrap_or(0);
            Ok(SetValue::Membership4 { iface, local, group })
        }
        Shape::Membership6 => {
            let group: [u8; 16] = bytes.get(..16).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
            let iface = bytes.get(16..20).and_then(read_int).ok_or(Errno::EINVAL)?;
            Ok(SetValue::Membership6 { iface: u64::from(iface as u32), group: Ipv6Addr::from(group) })
        }
        Shape::Congestion => {
            if bytes.is_empty() {
                return Err(Errno::EINVAL);
            }
            let name = c_string(bytes, TCP_CA_NAME_MAX - 1);
            match name {
                b"reno" => Ok(SetValue::Congestion(Congestion::Reno)),
                b"cubic" => Ok(SetValue::Congestion(Congestion::Cubic)),
                _ => Err(Errno::ENOENT),
            }
        }
        Shape::Device => {
            let name = c_string(bytes, IFNAMSIZ - 1);
            let name = std::str::from_utf8(name).map_err(|_| Errno::ENODEV)?;
            Ok(SetValue::Device(name.to_owned()))
        }
        Shape::ReadOnly => Err(Errno::ENOPROTOOPT),
    }
}

/// The value of `IP_RECVERR` (an `int` or a byte) or `IPV6_RECVERR` (an `int`).
pub fn parse_recv_err(level: libc::c_int, bytes: &[u8]) -> Result<bool, Errno> {
    read_level_int(level, bytes).map(|v| v != 0)
}

/// The bytes of `bytes` up to the first NUL, at most `max` of them.
fn c_string(bytes: &[u8], max: usize) -> &[u8] {
    let bytes = &bytes[..bytes.len().min(max)];
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

/// The bytes `getsockopt(opt)` returns when the application offers `room` bytes
/// (`*optlen`, already checked non-negative); their count is the new `*optlen`.
pub fn render_get(opt: Opt, value: &GetValue, room: usize) -> Result<Vec<u8>, Errno> {
    let mut out = match value {
        GetValue::Int(v) => {
            // do_ip_getsockopt: a buffer shorter than an int gets one byte, if it fits.
            if opt.level() == libc::IPPROTO_IP && room < 4 && room > 0 && (0..=255).contains(v) {
                return Ok(vec![*v as u8]);
            }
            v.to_ne_bytes().to_vec()
        }
        GetValue::Linger { on, secs } => {
            let mut b = i32::from(*on).to_ne_bytes().to_vec();
            b.extend_from_slice(&i32::try_from(*secs).unwrap_or(i32::MAX).to_ne_bytes());
            b
        }
        GetValue::InAddr(a) => a.octets().to_vec(),
        GetValue::Congestion(c) => {
            let mut b = vec![0u8; TCP_CA_NAME_MAX];
            b[..c.name().len()].copy_from_slice(c.name().as_bytes());
            b
        }
        GetValue::Device(name) => {
            // sock_getbindtodevice: the buffer must hold any name; an unbound socket
            // returns nothing.
            if room < IFNAMSIZ {
                return Err(Errno::EINVAL);
            }
            if name.is_empty() {
                return Ok(Vec::new());
            }
            let mut b = name.as_bytes().to_vec();
            b.push(0);
            b
        }
        GetValue::Bytes(b) => b.clone(),
    };
    out.truncate(room);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i32) -> Vec<u8> {
        v.to_ne_bytes().to_vec()
    }

    #[test]
    fn names_map_to_options_and_levels() {
        assert_eq!(Opt::from_c(libc::SOL_SOCKET, libc::SO_REUSEADDR), Some(Opt::ReuseAddr));
        assert_eq!(Opt::from_c(libc::IPPROTO_IPV6, libc::IPV6_ADD_MEMBERSHIP), Some(Opt::Ipv6JoinGroup));
        assert_eq!(Opt::from_c(libc::IPPROTO_TCP, libc::TCP_INFO), Some(Opt::TcpInfo));
        assert_eq!(Opt::from_c(libc::IPPROTO_TCP, libc::TCP_LINGER2), Some(Opt::TcpLinger2));
        assert_eq!(Opt::from_c(libc::SOL_SOCKET, libc::SO_PRIORITY), None);
        assert_eq!(Opt::from_c(libc::IPPROTO_IP, libc::IPV6_TCLASS), None);
    }

    #[test]
    fn tcp_options_are_for_stream_sockets_ipv6_options_for_ipv6_sockets() {
        assert!(Opt::TcpNoDelay.applies_to(true, false));
        assert!(!Opt::TcpNoDelay.applies_to(false, true));
        assert!(!Opt::Ipv6Only.applies_to(true, false));
        assert!(Opt::Ipv6Only.applies_to(false, true));
        assert!(Opt::IpTtl.applies_to(false, true), "IPv4 options work on dual-stack sockets");
        assert!(Opt::ReuseAddr.applies_to(false, false));
    }

    #[test]
    fn booleans_and_ints_need_a_full_int_except_at_ip_level() {
        assert_eq!(parse_set(Opt::ReuseAddr, &int(5)), Ok(SetValue::Bool(true)));
        assert_eq!(parse_set(Opt::ReuseAddr, &[1, 0]), Err(Errno::EINVAL));
        assert_eq!(parse_set(Opt::TcpNoDelay, &[1]), Err(Errno::EINVAL));
        assert_eq!(parse_set(Opt::IpMulticastLoop, &[1]), Ok(SetValue::Bool(true)));
        assert_eq!(parse_set(Opt::IpTos, &[0x10]), Ok(SetValue::Int(0x10)));
        assert_eq!(parse_set(Opt::IpTos, &[]), Err(Errno::EINVAL));
        assert_eq!(parse_set(Opt::Ipv6Only, &[1]), Err(Errno::EINVAL));
        assert_eq!(parse_set(Opt::SndBuf, &int(65536)), Ok(SetValue::Int(65536)));
        // A negative TCP_LINGER2 means no FIN-WAIT-2 wait: it must reach the control call.
        assert_eq!(parse_set(Opt::TcpLinger2, &int(-1)), Ok(SetValue::Int(-1)));
    }

    #[test]
    fn ttl_and_hop_limits_take_minus_one_for_the_default() {
        assert_eq!(parse_set(Opt::IpTtl, &int(-1)), Ok(SetValue::Hops(None)));
        assert_eq!(parse_set(Opt::IpTtl, &int(64)), Ok(SetValue::Hops(Some(64))));
        assert_eq!(parse_set(Opt::IpTtl, &int(0)), Err(Errno::EINVAL));
        assert_eq!(parse_set(Opt::IpTtl, &int(256)), Err(Errno::EINVAL));
        assert_eq!(parse_set(Opt::IpMulticastTtl, &[0]), Ok(SetValue::Hops(Some(0))));
        assert_eq!(parse_set(Opt::Ipv6UnicastHops, &int(-2)), Err(Errno::EINVAL));
        assert_eq!(parse_set(Opt::Ipv6TClass, &int(-1)), Ok(SetValue::Hops(None)));
        assert_eq!(parse_set(Opt::Ipv6MulticastLoop, &int(2)), Err(Errno::EINVAL));
    }

    #[test]
    fn linger_reads_struct_linger() {
        let mut b = int(1);
        b.extend(int(7));
        assert_eq!(parse_set(Opt::Linger, &b), Ok(SetValue::Linger { on: true, secs: 7 }));
        assert_eq!(parse_set(Opt::Linger, &b[..6]), Err(Errno::EINVAL));
        let mut b = int(0);
        b.extend(int(-1));
        assert_eq!(parse_set(Opt::Linger, &b), Ok(SetValue::Linger { on: false, secs: u32::MAX }));
    }

    #[test]
    fn ipv4_memberships_take_ip_mreq_and_ip_mreqn() {
        let mreq = [224, 0, 0, 251, 192, 0, 2, 1];
        assert_eq!(
            parse_set(Opt::IpAddMembership, &mreq),
            Ok(SetValue::Membership4 {
                iface: 0,
                local: Ipv4Addr::new(192, 0, 2, 1),
                group: Ipv4Addr::new(224, 0, 0, 251),
            })
        );
        let mut mreqn = mreq.to_vec();
        mreqn.extend(int(3));
        assert_eq!(
            parse_set(Opt::IpDropMembership, &mreqn),
            Ok(SetValue::Membership4 {
                iface: 3,
                local: Ipv4Addr::new(192, 0, 2, 1),
                group: Ipv4Addr::new(224, 0, 0, 251),
            })
        );
        assert_eq!(parse_set(Opt::IpAddMembership, &mreq[..7]), Err(Errno::EINVAL));
    }

    #[test]
    fn ipv4_multicast_interface_takes_three_layouts() {
        let addr = Ipv4Addr::new(192, 0, 2, 9);
        assert_eq!(
            parse_set(Opt::IpMulticastIf, &addr.octets()),
            Ok(SetValue::MulticastIf4 { iface: 0, addr })
        );
        let mut mreq = vec![0, 0, 0, 0];
        mreq.extend(addr.octets());
        assert_eq!(parse_set(Opt::IpMulticastIf, &mreq), Ok(SetValue::MulticastIf4 { iface: 0, addr }));
        mreq.extend(int(4));
        assert_eq!(parse_set(Opt::IpMulticastIf, &mreq), Ok(SetValue::MulticastIf4 { iface: 4, addr }));
        assert_eq!(parse_set(Opt::IpMulticastIf, &[1, 2]), Err(Errno::EINVAL));
    }

    #[test]
    fn ipv6_membership_reads_ipv6_mreq() {
        let group: Ipv6Addr = "ff02::fb".parse().unwrap();
        let mut b = group.octets().to_vec();
        b.extend(2u32.to_ne_bytes());
        assert_eq!(parse_set(Opt::Ipv6JoinGroup, &b), Ok(SetValue::Membership6 { iface: 2, group }));
        assert_eq!(parse_set(Opt::Ipv6LeaveGroup, &b[..19]), Err(Errno::EINVAL));
    }

    #[test]
    fn congestion_names_as_linux() {
        assert_eq!(parse_set(Opt::TcpCongestion, b"cubic"), Ok(SetValue::Congestion(Congestion::Cubic)));
        assert_eq!(
            parse_set(Opt::TcpCongestion, b"reno\0garbage"),
            Ok(SetValue::Congestion(Congestion::Reno))
        );
        assert_eq!(parse_set(Opt::TcpCongestion, b"bbr"), Err(Errno::ENOENT));
        assert_eq!(parse_set(Opt::TcpCongestion, b""), Err(Errno::EINVAL));
        let out = render_get(Opt::TcpCongestion, &GetValue::Congestion(Congestion::Cubic), 100).unwrap();
        assert_eq!(out.len(), 16);
        assert_eq!(&out[..6], b"cubic\0");
    }

    #[test]
    fn recv_err_takes_a_byte_only_at_ip_level() {
        assert_eq!(parse_recv_err(libc::IPPROTO_IP, &[1]), Ok(true));
        assert_eq!(parse_recv_err(libc::IPPROTO_IPV6, &int(1)), Ok(true));
        assert_eq!(parse_recv_err(libc::IPPROTO_IPV6, &[1]), Err(Errno::EINVAL));
        assert_eq!(parse_recv_err(libc::IPPROTO_IP, &int(0)), Ok(false));
    }

    #[test]
    fn read_only_options_refuse_set() {
        assert_eq!(parse_set(Opt::Error, &int(0)), Err(Errno::ENOPROTOOPT));
        assert_eq!(parse_set(Opt::TcpInfo, &int(0)), Err(Errno::ENOPROTOOPT));
    }

    #[test]
    fn get_truncates_to_the_room_given() {
        assert_eq!(render_get(Opt::ReuseAddr, &GetValue::Int(1), 100).unwrap(), int(1));
        assert_eq!(
            render_get(Opt::ReuseAddr, &GetValue::Int(0x0102), 2).unwrap(),
            0x0102i32.to_ne_bytes()[..2].to_vec()
        );
        // IP-level integers fit in one byte when the buffer is short.
        assert_eq!(render_get(Opt::IpTtl, &GetValue::Int(64), 1).unwrap(), vec![64]);
        assert_eq!(render_get(Opt::Ipv6UnicastHops, &GetValue::Int(64), 1).unwrap(), int(64)[..1].to_vec());
        let linger = render_get(Opt::Linger, &GetValue::Linger { on: true, secs: 3 }, 8).unwrap();
        assert_eq!(linger, [int(1), int(3)].concat());
        assert_eq!(
            render_get(Opt::IpMulticastIf, &GetValue::InAddr(Ipv4Addr::new(1, 2, 3, 4)), 8).unwrap(),
            vec![1, 2, 3, 4]
        );
        assert_eq!(render_get(Opt::TcpInfo, &GetValue::Bytes(vec![9; 248]), 104).unwrap().len(), 104);
    }

    #[test]
    fn bind_to_device_get_needs_ifnamsiz() {
        let dev = GetValue::Device("tap0".into());
        assert_eq!(render_get(Opt::BindToDevice, &dev, 8), Err(Errno::EINVAL));
        assert_eq!(render_get(Opt::BindToDevice, &dev, 16).unwrap(), b"tap0\0".to_vec());
        let none = GetValue::Device(String::new());
        assert_eq!(render_get(Opt::BindToDevice, &none, 16).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn large_values_saturate() {
        assert_eq!(GetValue::from_u64(u64::MAX), GetValue::Int(i32::MAX));
        assert_eq!(GetValue::from_bool(true), GetValue::Int(1));
    }
}
