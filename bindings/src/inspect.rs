//! The Inspect tree: the whole state of a running netstack as one JSON document, what
//! `netstack inspect` prints, `netstack stats` and `netstack sock list` read, and the
//! `fuchsia.inspect.Tree` server hands out in a memfd. `INSPECT.md` documents every node
//! and field.
//!
//! The tree is a snapshot taken on the loop's thread between turns: [`write_tree`] reads the
//! stack, the devices' sessions, the loop's and the socket server's counters, and writes
//! JSON objects only (Inspect nodes), children keyed by name or id. Keys are sorted, so the
//! same state always gives the same bytes. The cost is O(devices + neighbours + routes +
//! sockets) time and memory, paid only when someone asks; nothing here touches a hot path.

use std::collections::HashMap;
use std::io;

use netstack_core::addr::{IpAddr, IpVersion};
use netstack_core::device::nud::{NeighborInfo, NeighborState};
use netstack_core::device::DeviceId;
use netstack_core::stack::inspect::DeviceCounters;
use netstack_core::transport::inspect::{AnySocketId, SocketSummary};
use netstack_core::transport::tcp::info::TcpInfo;
use netstack_core::transport::tcp::State;
use serde_json::{json, Map, Value};

use crate::eventloop::{BindingsCtx, LoopCounters, NetStack};
use crate::socket::{ServerCounters, SocketServer};

/// Linux's `TCP_INFINITE_SSTHRESH`: what `tcpi_snd_ssthresh` says before a loss set it.
const INFINITE_SSTHRESH: u32 = 0x7fff_ffff;
/// `TCPI_OPT_TIMESTAMPS`, `TCPI_OPT_SACK` and `TCPI_OPT_WSCALE` of `tcpi_options`.
const OPT_TIMESTAMPS: u8 = 1;
const OPT_SACK: u8 = 2;
const OPT_WSCALE: u8 = 4;

/// Writes the Inspect tree of `stack`, its devices and loop (`ctx`) and, when the daemon
/// serves sockets, the socket server's counters and each socket's owning process, as pretty
/// JSON to `out`. See the module documentation and `INSPECT.md`.
pub fn write_tree(
    out: &mut impl io::Write,
    stack: &NetStack,
    ctx: &BindingsCtx,
    sockets: Option<&SocketServer>,
) -> io::Result<()> {
    write_snapshot(out, stack, ctx, sockets.map(ServerSnapshot::of).as_ref())
}

/// What the tree takes from the socket server.
#[derive(Debug, Default)]
struct ServerSnapshot {
    counters: ServerCounters,
    /// The process owning each socket, where known.
    pids: HashMap<AnySocketId, u32>,
}

impl ServerSnapshot {
    fn of(server: &SocketServer) -> Self {
        let pids = server.sockets().filter_map(|s| s.pid.map(|pid| (s.id, pid))).collect();
        Self { counters: server.counters(), pids }
    }
}

/// [`write_tree`] with what it needs of the socket server taken already.
fn write_snapshot(
    out: &mut impl io::Write,
    stack: &NetStack,
    ctx: &BindingsCtx,
    server: Option<&ServerSnapshot>,
) -> io::Result<()> {
    let tree = json!({ "Stack": tree(stack, ctx, server) });
    serde_json::to_writer_pretty(&mut *out, &tree)?;
    out.write_all(b"\n")
}

/// The `Stack` node.
fn tree(stack: &NetStack, ctx: &BindingsCtx, server: Option<&ServerSnapshot>) -> Value {
    let mut node = Map::new();
    node.insert("Devices".into(), devices(stack, ctx));
    node.insert("Mib".into(), mib(stack));
    node.insert("Neighbors".into(), neighbors(stack, ctx));
    node.insert("Routes".into(), routes(stack, ctx));
    node.insert("Sockets".into(), sockets(stack, server.map(|s| &s.pids)));
    if let Some(server) = server {
        node.insert("SocketServer".into(), server_counters(&server.counters));
    }
    node.insert("Loop".into(), loop_counters(&ctx.counters()));
    Value::Object(node)
}

/// The name a device goes by: its backend's (the kernel interface name for TAP and TUN),
/// `lo` for the loopback device, which has no backend, else `dev<id>`.
fn device_name(stack: &NetStack, ctx: &BindingsCtx, device: DeviceId) -> String {
    if let Some(session) = ctx.sessions().iter().find(|s| s.id == device) {
        return session.backend.name().to_owned();
    }
    match stack.device_counters().find(|(id, _)| *id == device) {
        Some((_, DeviceCounters::Loopback)) => "lo".to_owned(),
        _ => device.to_string(),
    }
}

/// `Devices`: one node per device, keyed by name.
fn devices(stack: &NetStack, ctx: &BindingsCtx) -> Value {
    let mut node = Map::new();
    for (id, counters) in stack.device_counters() {
        let mut device = Map::new();
        let mut rx = Map::new();
        let mut tx = Map::new();
        device.insert("Id".into(), id.get().into());
        let kind = match counters {
            DeviceCounters::Ethernet(c) => {
                rx.insert("Accepted".into(), c.frames.into());
                rx.insert("Multicast".into(), c.multicast.into());
                rx.insert("Broadcast".into(), c.broadcast.into());
                rx.insert("DropMalformed".into(), c.drop_malformed.into());
                rx.insert("DropNotForUs".into(), c.drop_not_for_us.into());
                rx.insert("DropMulticastSource".into(), c.drop_multicast_source.into());
                rx.insert("DropVlanTagged".into(), c.drop_vlan_tagged.into());
                rx.insert("DropUnsupportedEtherType".into(), c.drop_unsupported_ethertype.into());
                "ethernet"
            }
            DeviceCounters::PureIp(c) => {
                rx.insert("Accepted".into(), c.packets.into());
                rx.insert("DropEmpty".into(), c.drop_empty.into());
                rx.insert("DropUnknownVersion".into(), c.drop_unknown_version.into());
                "pure_ip"
            }
            DeviceCounters::Loopback => "loopback",
        };
        device.insert("Kind".into(), kind.into());
        if let Some(eth) = stack.ethernet(id) {
            device.insert("Mac".into(), eth.mac().to_string().into());
            device.insert("Mtu".into(), eth.config().mtu.into());
        }
        if let Some(session) = ctx.sessions().iter().find(|s| s.id == id) {
            let backend = session.backend.counters();
            let own = session.counters();
            rx.insert("Frames".into(), backend.rx_frames.into());
            rx.insert("Bytes".into(), backend.rx_bytes.into());
            rx.insert("DropNoBuffer".into(), backend.rx_no_buffer.into());
            rx.insert("DropBadLength".into(), backend.rx_bad_length.into());
            rx.insert("DropFifoFull".into(), own.rx_fifo_full.into());
            rx.insert("BudgetExhausted".into(), own.rx_budget_exhausted.into());
            tx.insert("Frames".into(), backend.tx_frames.into());
            tx.insert("Bytes".into(), backend.tx_bytes.into());
            tx.insert("Errors".into(), backend.tx_errors.into());
            tx.insert("QueueDrops".into(), own.tx_fifo_full.into());
        }
        device.insert("Rx".into(), Value::Object(rx));
        device.insert("Tx".into(), Value::Object(tx));
        node.insert(device_name(stack, ctx, id), Value::Object(device));
    }
    Value::Object(node)
}

/// `Mib`: every counter of the core by MIB group, under its Linux nstat name.
fn mib(stack: &NetStack) -> Value {
    let mut groups: Map<String, Value> = Map::new();
    stack.visit_mib(&mut |group, name, value| {
        if let Value::Object(counters) = groups.entry(group).or_insert_with(|| Value::Object(Map::new())) {
            counters.insert(name.into(), value.into());
        }
    });
    Value::Object(groups)
}

/// Linux's name for a NUD state, as `ip neigh` prints it.
fn state_name(state: NeighborState) -> &'static str {
    match state {
        NeighborState::Incomplete => "INCOMPLETE",
        NeighborState::Reachable => "REACHABLE",
        NeighborState::Stale => "STALE",
        NeighborState::Delay => "DELAY",
        NeighborState::Probe => "PROBE",
        NeighborState::Failed => "FAILED",
        NeighborState::Static => "PERMANENT",
    }
}

fn neighbor(info: NeighborInfo) -> Value {
    let mut node = Map::new();
    node.insert("State".into(), state_name(info.state).into());
    if let Some(mac) = info.link_addr {
        node.insert("Mac".into(), mac.to_string().into());
    }
    node.insert("IsRouter".into(), info.is_router.into());
    Value::Object(node)
}

/// `Neighbors`: per interface, the ARP and NDP caches' entries keyed by IP address.
fn neighbors(stack: &NetStack, ctx: &BindingsCtx) -> Value {
    let mut node = Map::new();
    for (id, _) in stack.device_counters() {
        let mut entries = Map::new();
        if let Some(arp) = stack.arp(id) {
            for (addr, info) in arp.neighbors().iter() {
                entries.insert(addr.to_string(), neighbor(info));
            }
        }
        if let Some(ndp) = stack.ndp(id) {
            for (addr, info) in ndp.iter() {
                entries.insert(addr.to_string(), neighbor(info));
            }
        }
        if !entries.is_empty() {
            node.insert(device_name(stack, ctx, id), Value::Object(entries));
        }
    }
    Value::Object(node)
}

/// `Routes`: IPv4 then IPv6, in table order, keyed by their position.
fn routes(stack: &NetStack, ctx: &BindingsCtx) -> Value {
    let v4 = stack.routes4().iter().map(|r| {
        (
            r.subnet.to_string(),
            r.gateway.map(|g| g.to_string()),
            r.device,
            r.metric,
            format!("{:?}", r.source),
        )
    });
    let v6 = stack.routes6().iter().map(|r| {
        (
            r.subnet.to_string(),
            r.gateway.map(|g| g.to_string()),
            r.device,
            r.metric,
            format!("{:?}", r.source),
        )
    });
    let mut node = Map::new();
    for (n, (destination, gateway, device, metric, source)) in v4.chain(v6).enumerate() {
        let mut route = Map::new();
        route.insert("Destination".into(), destination.into());
        if let Some(gateway) = gateway {
            route.insert("Gateway".into(), gateway.into());
        }
        route.insert("Interface".into(), device_name(stack, ctx, device).into());
        route.insert("Metric".into(), metric.into());
        route.insert("Source".into(), source.into());
        node.insert(n.to_string(), Value::Object(route));
    }
    Value::Object(node)
}

/// `address:port` as `ss` prints it: IPv6 in brackets, the wildcard as the unspecified
/// address of the socket's version.
fn endpoint(version: IpVersion, addr: Option<IpAddr>, port: u16) -> String {
    match (addr, version) {
        (Some(IpAddr::V4(a)), _) => format!("{a}:{port}"),
        (Some(IpAddr::V6(a)), _) => format!("[{a}]:{port}"),
        (None, IpVersion::V4) => format!("0.0.0.0:{port}"),
        (None, IpVersion::V6) => format!("[::]:{port}"),
    }
}

/// `Sockets`: every socket of the core keyed by [`SocketSummary::key`], with the process
/// that owns it when the socket server knows.
fn sockets(stack: &NetStack, pids: Option<&HashMap<AnySocketId, u32>>) -> Value {
    let mut node = Map::new();
    for socket in stack.sockets() {
        let key = socket.key().to_string();
        let pid = pids.and_then(|pids| pids.get(&socket.id)).copied();
        node.insert(key, socket_node(&socket, pid));
    }
    Value::Object(node)
}

fn socket_node(socket: &SocketSummary, pid: Option<u32>) -> Value {
    let mut node = Map::new();
    node.insert("Protocol".into(), socket.protocol.name().into());
    let family = match socket.version {
        IpVersion::V4 => "ipv4",
        IpVersion::V6 => "ipv6",
    };
    node.insert("Family".into(), family.into());
    if let Some(state) = socket.state {
        node.insert("State".into(), format!("{state:?}").into());
        node.insert("Orphaned".into(), socket.orphaned.into());
    }
    node.insert("LocalAddress".into(), endpoint(socket.version, socket.local_addr, socket.local_port).into());
    let remote = match socket.remote {
        Some((addr, port)) => endpoint(socket.version, Some(addr), port),
        None => "*".to_owned(),
    };
    node.insert("RemoteAddress".into(), remote.into());
    node.insert("RecvQ".into(), socket.recv_queue.into());
    node.insert("SendQ".into(), socket.send_queue.into());
    if let Some(pid) = pid {
        node.insert("Pid".into(), pid.into());
    }
    if let Some(info) = &socket.tcp_info {
        node.insert("TcpInfo".into(), tcp_info(info));
    }
    Value::Object(node)
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// TCP_INFO under Linux's `struct tcp_info` field names without `tcpi_`, in Linux's units
/// (microseconds, and segments for the congestion window and slow-start threshold); the
/// core's byte counts of both, the SACKed bytes, recoveries and congestion control under
/// names of ours.
fn tcp_info(info: &TcpInfo) -> Value {
    let mss = info.snd_mss.max(1);
    let ssthresh = if info.ssthresh == u32::MAX { INFINITE_SSTHRESH } else { info.ssthresh / mss };
    let mut options = 0;
    if info.timestamps {
        options |= OPT_TIMESTAMPS;
    }
    if info.sack {
        options |= OPT_SACK;
    }
    if info.wscale.is_some() {
        options |= OPT_WSCALE;
    }
    let (rcv_wscale, snd_wscale) = info.wscale.unwrap_or((0, 0));
    let mut node = json!({
        "state": info.state.linux_number(),
        "retransmits": info.backoff,
        "backoff": info.backoff,
        "options": options,
        "snd_wscale": snd_wscale,
        "rcv_wscale": rcv_wscale,
        "rto": micros(info.rto),
        "snd_mss": info.snd_mss,
        "rcv_mss": info.rcv_mss,
        "lost": info.lost,
        "pmtu": info.pmtu,
        "rtt": micros(info.rtt),
        "rttvar": micros(info.rttvar),
        "snd_ssthresh": ssthresh,
        "snd_cwnd": info.cwnd / mss,
        "rcv_space": info.rcv_space,
        "total_retrans": info.total_retrans,
        "bytes_acked": info.bytes_acked,
        "bytes_received": info.bytes_received,
        "segs_out": info.segs_out,
        "segs_in": info.segs_in,
        "min_rtt": micros(info.min_rtt),
        "bytes_sent": info.bytes_sent,
        "bytes_retrans": info.bytes_retrans,
        "snd_wnd": info.snd_wnd,
        "rcv_wnd": info.rcv_wnd,
        "snd_cwnd_bytes": info.cwnd,
        "snd_ssthresh_bytes": info.ssthresh,
        "sacked_bytes": info.sacked,
        "recoveries": info.recoveries,
        "congestion": info.congestion,
    });
    // A listener's accept queue and backlog, where Linux reports them.
    if info.state == State::Listen {
        if let Value::Object(fields) = &mut node {
            fields.insert("unacked".into(), info.accept_queue.into());
            fields.insert("sacked".into(), info.backlog.into());
        }
    }
    node
}

/// `SocketServer`: the `fuchsia.posix.socket` server's counters and gauges.
fn server_counters(c: &ServerCounters) -> Value {
    json!({
        "ClientsAccepted": c.clients_accepted,
        "ChannelsOpen": c.channels_open,
        "StreamSockets": c.stream_sockets,
        "UdpSockets": c.udp_sockets,
        "IcmpSockets": c.icmp_sockets,
        "RawSockets": c.raw_sockets,
        "ClosingSockets": c.closing_sockets,
        "SocketsCreated": c.sockets_created,
        "Requests": c.requests,
        "MalformedMessages": c.malformed_messages,
        "Epitaphs": c.epitaphs,
        "RefusedClientLimit": c.refused_client_limit,
        "RefusedServerLimit": c.refused_server_limit,
        "StreamBytesOut": c.stream_bytes_out,
        "StreamBytesIn": c.stream_bytes_in,
        "StreamReadvCalls": c.stream_readv_calls,
        "StreamWritevCalls": c.stream_writev_calls,
        "StreamReadvWrapped": c.stream_readv_wrapped,
        "StreamWritevWrapped": c.stream_writev_wrapped,
        "DatagramsSent": c.datagrams_sent,
        "DatagramsDelivered": c.datagrams_delivered,
        "DatagramsDroppedFull": c.datagrams_dropped_full,
        "DatagramSendErrors": c.datagram_send_errors,
        "DatagramMalformed": c.datagram_malformed,
        "DatagramErrorRecords": c.datagram_error_records,
    })
}

/// `Loop`: the event loop's counters.
fn loop_counters(c: &LoopCounters) -> Value {
    json!({
        "Turns": c.turns,
        "TimersFired": c.timers_fired,
        "TxUnknownDevice": c.tx_unknown_device,
        "TxFifoFull": c.tx_fifo_full,
        "EventsDropped": c.events_dropped,
        "Requests": c.requests,
        "DeviceErrors": c.device_errors,
    })
}

#[cfg(test)]
mod tests;
