//! The admin server: the protocols that observe and change a running netstack (issue 7),
//! served from the event loop like the socket server ([`crate::socket`]).
//!
//! | svc name | protocol | module |
//! |---|---|---|
//! | `fuchsia.net.interfaces.State` | `fuchsia.net.interfaces/State`, `Watcher` | `interfaces` |
//! | `fuchsia.net.root.Interfaces` | `fuchsia.net.root/Interfaces`, `fuchsia.net.interfaces.admin/Control`, `AddressStateProvider` | `control` |
//! | `fuchsia.net.routes.StateV4`/`V6` | `fuchsia.net.routes/StateV4`/`V6`, `WatcherV4`/`V6` | `routes` |
//! | `fuchsia.net.root.RoutesV4`/`V6` | `fuchsia.net.root/RoutesV4`/`V6`, `fuchsia.net.routes.admin/RouteSetV4`/`V6` | `routes` |
//! | `fuchsia.net.neighbor.View`, `.Controller` | `fuchsia.net.neighbor/View`, `EntryIterator`, `Controller` | `neighbor` |
//! | `fuchsia.inspect.Tree` | `fuchsia.inspect/Tree` | `inspect_tree` |
//! | `netstack.admin.Interfaces` | `netstack.admin/Interfaces` | `netstack_admin` |
//!
//! # Shape
//!
//! Everything runs on the loop's thread, inside its turn, next to the stack. One table of
//! *endpoints* under generational keys (`crate::slab`) holds the svc-dir listeners and every
//! channel, each channel with its `Role`: a connection to one of the services above, or a
//! channel one of them handed out (a watcher, a `Control`, an `AddressStateProvider`, a route
//! set, a neighbour iterator). The server's own epoll instance (`crate::reactor`) reports
//! the fds that changed; each is served once per turn, at most `MESSAGE_BUDGET` requests.
//!
//! # Watchers
//!
//! Watchers are hanging gets (`hanging`). The server keeps the last state it reported
//! (interfaces, routes of each version, neighbour entries: `model`). The stack reports what
//! changed (`StackEvent::InterfaceChanged`, `RoutesChanged`, `NeighborsChanged`,
//! `InterfaceRemoved`); the server marks just that dirty, and at the end of its turn reads
//! the new state of what is dirty, compares it with what it reported, and queues the
//! differences on every watcher of the kind. Work is proportional to what changed (times the
//! watchers of the kind), never to the size of the tables.
//!
//! # Bounds
//!
//! At most [`MAX_CHANNELS`] channels in all; a service connection may hand out at most
//! [`MAX_CHILDREN_PER_CONNECTION`] channels (watchers, controls, route sets, iterators) while
//! it is open (`ZX_ERR_NO_RESOURCES` epitaph on the new channel beyond). A watcher queues at
//! most [`MAX_QUEUED_EVENTS`] events beyond its initial ones; a client that falls further
//! behind loses its watcher (`ZX_ERR_NO_RESOURCES` epitaph), counted in
//! [`AdminCounters::watcher_overflows`].
//!
//! # Bad peers
//!
//! A message that does not decode, an unknown ordinal, a handle where none belongs or a
//! message too big closes that one channel with an epitaph (`ZX_ERR_INVALID_ARGS`, or
//! `ZX_ERR_NOT_SUPPORTED` for an unknown ordinal) and nothing else. A second `Watch` while one
//! is pending closes the watcher (`ZX_ERR_BAD_STATE`), as the SDK's servers do.

mod control;
mod hanging;
mod inspect_tree;
mod interfaces;
mod model;
mod neighbor;
mod netstack_admin;
mod routes;
mod snapshot;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::task::{Context, Poll};

use netstack_core::addr::IpVersion;
use netstack_core::device::DeviceId;
use netstack_core::stack::StackEvent;
use netstack_fidl::channel::{Channel, ChannelError, MessageBuf};
use netstack_fidl::message::{
    decode_header, encode_epitaph, encode_message, encode_reply, TransactionHeader,
};
use netstack_fidl::wire::DecodeError;
use netstack_fidl::{zx, Event, Method};

use hanging::{Hanging, HangingError};
use model::{
    InterfaceEvent, InterfaceProps, NeighborEvent, NeighborKey, NeighborProps, RouteEntry, RouteEvent,
};

use crate::eventloop::{BindingsCtx, NetStack};
use crate::reactor::{Reactor, Readiness};
use crate::served_channel::{Flushed, Sent, ServedChannel};
use crate::slab::{Key, Slab};
use crate::socket::SocketServer;
use crate::svc::Accepted;

/// Requests read from one channel per turn.
const MESSAGE_BUDGET: usize = 32;
/// Connections accepted from one svc socket per turn.
const ACCEPT_BUDGET: usize = 64;
/// Channels open at once, all clients together.
pub const MAX_CHANNELS: usize = 4096;
/// Channels one service connection may hand out while it is open.
pub const MAX_CHILDREN_PER_CONNECTION: usize = 64;
/// Events a watcher holds beyond its initial ones before it is closed.
pub const MAX_QUEUED_EVENTS: usize = 1024;

/// A protocol the admin server publishes in the svc dir.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// `fuchsia.net.interfaces/State`.
    InterfacesState,
    /// `fuchsia.net.root/Interfaces`.
    RootInterfaces,
    /// `fuchsia.net.routes/StateV4`.
    RoutesStateV4,
    /// `fuchsia.net.routes/StateV6`.
    RoutesStateV6,
    /// `fuchsia.net.root/RoutesV4`.
    RootRoutesV4,
    /// `fuchsia.net.root/RoutesV6`.
    RootRoutesV6,
    /// `fuchsia.net.neighbor/View`.
    NeighborView,
    /// `fuchsia.net.neighbor/Controller`.
    NeighborController,
    /// `fuchsia.inspect/Tree`.
    InspectTree,
    /// `netstack.admin/Interfaces`.
    NetstackAdmin,
}

impl Service {
    /// Every service, in the order the daemon publishes them.
    pub const ALL: [Service; 10] = [
        Service::InterfacesState,
        Service::RootInterfaces,
        Service::RoutesStateV4,
        Service::RoutesStateV6,
        Service::RootRoutesV4,
        Service::RootRoutesV6,
        Service::NeighborView,
        Service::NeighborController,
        Service::InspectTree,
        Service::NetstackAdmin,
    ];

    /// Its name in the svc dir.
    pub const fn name(self) -> &'static str {
        use netstack_fidl::*;
        match self {
            Service::InterfacesState => fuchsia_net_interfaces::STATE_PROTOCOL_NAME,
            Service::RootInterfaces => fuchsia_net_root::INTERFACES_PROTOCOL_NAME,
            Service::RoutesStateV4 => fuchsia_net_routes::STATE_V4_PROTOCOL_NAME,
            Service::RoutesStateV6 => fuchsia_net_routes::STATE_V6_PROTOCOL_NAME,
            Service::RootRoutesV4 => fuchsia_net_root::ROUTES_V4_PROTOCOL_NAME,
            Service::RootRoutesV6 => fuchsia_net_root::ROUTES_V6_PROTOCOL_NAME,
            Service::NeighborView => fuchsia_net_neighbor::VIEW_PROTOCOL_NAME,
            Service::NeighborController => fuchsia_net_neighbor::CONTROLLER_PROTOCOL_NAME,
            Service::InspectTree => fuchsia_inspect::TREE_PROTOCOL_NAME,
            Service::NetstackAdmin => netstack_admin::INTERFACES_PROTOCOL_NAME,
        }
    }
}

/// The svc names of every admin service.
pub const SERVICE_NAMES: [&str; 10] = {
    let mut names = [""; 10];
    let mut i = 0;
    while i < Service::ALL.len() {
        names[i] = Service::ALL[i].name();
        i += 1;
    }
    names
};

/// What the admin server counted. Gauges say what is open now; the rest count since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdminCounters {
    /// Service connections accepted.
    pub connections_accepted: u64,
    /// Gauge: channels open (service connections and the channels they handed out).
    pub channels_open: u64,
    /// Gauge: watchers open (interfaces, routes, neighbour iterators).
    pub watchers_open: u64,
    /// Requests answered.
    pub requests: u64,
    /// Events sent (server-initiated messages and hanging-get replies).
    pub events_sent: u64,
    /// Messages that did not decode, had an unknown ordinal, or were too big.
    pub malformed_messages: u64,
    /// Epitaphs sent (each closes a channel).
    pub epitaphs: u64,
    /// Watchers closed because the client fell [`MAX_QUEUED_EVENTS`] events behind.
    pub watcher_overflows: u64,
    /// Watchers closed for a second `Watch` while one was pending.
    pub watch_conflicts: u64,
    /// Channels refused: [`MAX_CHANNELS`] or [`MAX_CHILDREN_PER_CONNECTION`] reached.
    pub refused_limit: u64,
    /// Replies that found the channel full and waited in its outbox.
    pub replies_queued: u64,
    /// Interfaces created at run time (`netstack.admin/Interfaces.CreateInterface`).
    pub interfaces_created: u64,
    /// Captures started.
    pub captures_started: u64,
    /// Gauge: addresses whose lifetime an `AddressStateProvider` channel holds.
    pub address_providers: u64,
    /// Inspect trees served.
    pub inspect_trees: u64,
}

/// A hanging get on an `AddressStateProvider`: the last assignment state reported.
#[derive(Debug, Default)]
struct AddressWatch {
    reported: Option<model::Assignment>,
    parked: Option<u32>,
}

/// An address an `AddressStateProvider` channel stands for.
#[derive(Debug)]
struct AddressProvider {
    device: DeviceId,
    addr: netstack_core::addr::IpAddr,
    /// `Detach` was called: the address outlives the channel.
    detached: bool,
    watch: AddressWatch,
}

/// What a channel is for.
#[derive(Debug)]
enum Role {
    /// A connection to `service`, with the channels it handed out and still open.
    Service { service: Service, children: usize },
    /// `fuchsia.net.interfaces/Watcher`.
    InterfaceWatcher { parent: Key, queue: Hanging<InterfaceEvent>, interest: interfaces::Interest },
    /// `fuchsia.net.interfaces.admin/Control` of `device`.
    Control { parent: Key, device: DeviceId },
    /// `fuchsia.net.interfaces.admin/AddressStateProvider`.
    AddressState { parent: Key, provider: AddressProvider },
    /// `fuchsia.net.routes/WatcherV4` or `V6`; `main_table`: it watches the one table.
    RouteWatcher { parent: Key, version: IpVersion, queue: Hanging<RouteEvent>, main_table: bool },
    /// `fuchsia.net.routes.admin/RouteSetV4` or `V6` (the global set).
    RouteSet { parent: Key, version: IpVersion },
    /// `fuchsia.net.neighbor/EntryIterator`.
    EntryIterator { parent: Key, queue: Hanging<NeighborEvent> },
}

impl Role {
    /// The service connection that handed this channel out.
    fn parent(&self) -> Option<Key> {
        match self {
            Role::Service { .. } => None,
            Role::InterfaceWatcher { parent, .. }
            | Role::Control { parent, .. }
            | Role::AddressState { parent, .. }
            | Role::RouteWatcher { parent, .. }
            | Role::RouteSet { parent, .. }
            | Role::EntryIterator { parent, .. } => Some(*parent),
        }
    }

    fn is_watcher(&self) -> bool {
        matches!(self, Role::InterfaceWatcher { .. } | Role::RouteWatcher { .. } | Role::EntryIterator { .. })
    }
}

/// A channel the server answers on.
#[derive(Debug)]
struct ChannelEndpoint {
    io: ServedChannel,
    role: Role,
}

/// An fd the server waits on.
#[derive(Debug)]
enum Endpoint {
    /// A svc-dir socket accepting connections to `service`.
    Svc { listener: OwnedFd, service: Service },
    /// A channel.
    Channel(ChannelEndpoint),
}

#[derive(Debug)]
struct EndpointEntry {
    /// In the ready queue.
    queued: bool,
    endpoint: Endpoint,
}

/// What changed in the stack since the watchers were last fed.
#[derive(Debug, Default)]
struct Dirty {
    /// Interfaces to look at again.
    interfaces: BTreeSet<DeviceId>,
    /// Route tables to look at again: [IPv4, IPv6].
    routes: [bool; 2],
    /// Neighbour tables to look at again: a device, and 0 for IPv4 or 1 for IPv6.
    neighbors: BTreeSet<(DeviceId, usize)>,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        self.interfaces.is_empty() && !self.routes[0] && !self.routes[1] && self.neighbors.is_empty()
    }
}

/// What the watchers were last told.
#[derive(Debug, Default)]
struct Observed {
    interfaces: BTreeMap<u64, InterfaceProps>,
    /// Sorted: [IPv4, IPv6].
    routes: [Vec<RouteEntry>; 2],
    neighbors: BTreeMap<NeighborKey, NeighborProps>,
}

/// The admin server; see the module documentation.
#[derive(Debug)]
pub struct AdminServer {
    reactor: Reactor,
    counters: AdminCounters,
    endpoints: Slab<EndpointEntry>,
    /// Endpoints with a readiness edge to serve.
    ready: VecDeque<Key>,
    /// Watchers of each kind, to feed.
    interface_watchers: Vec<Key>,
    route_watchers: Vec<Key>,
    neighbor_iterators: Vec<Key>,
    /// Controls and address providers, to tell about their interface's or address's end.
    controls: Vec<Key>,
    providers: Vec<Key>,
    observed: Observed,
    /// Whether `observed` was read from the stack yet (lazily, on the first watcher).
    primed: bool,
    dirty: Dirty,
    /// Interfaces made through `netstack.admin/Interfaces.CreateInterface` (`Control.Remove`
    /// removes only these).
    created: HashSet<DeviceId>,
    /// The largest MTU the loop's frame pool carries.
    max_mtu: u32,
    inbox: MessageBuf,
    outbox: MessageBuf,
}

impl AdminServer {
    /// A server with no protocols published yet; `max_mtu` is the largest MTU the loop's
    /// frame pool carries (a bound for `SetMtu`). Must be called inside a tokio runtime.
    pub fn new(max_mtu: u32) -> io::Result<Self> {
        Ok(Self {
            reactor: Reactor::new()?,
            counters: AdminCounters::default(),
            endpoints: Slab::default(),
            ready: VecDeque::new(),
            interface_watchers: Vec::new(),
            route_watchers: Vec::new(),
            neighbor_iterators: Vec::new(),
            controls: Vec::new(),
            providers: Vec::new(),
            observed: Observed::default(),
            primed: false,
            dirty: Dirty::default(),
            created: HashSet::new(),
            max_mtu,
            inbox: MessageBuf::new(),
            outbox: MessageBuf::new(),
        })
    }

    /// Serves `service` on `listener`, a listening non-blocking `SOCK_SEQPACKET` socket
    /// (from [`SvcDir`](crate::svc::SvcDir)).
    pub fn serve(&mut self, listener: OwnedFd, service: Service) -> io::Result<()> {
        self.add_endpoint(Endpoint::Svc { listener, service }).map(drop)
    }

    /// Serves `channel` as a connection to `service` (what an accepted svc connection
    /// becomes; tests hand in one end of a pair).
    pub fn serve_channel(&mut self, channel: Channel, service: Service) -> io::Result<()> {
        self.add_channel(channel, Role::Service { service, children: 0 })?;
        self.counters.connections_accepted += 1;
        Ok(())
    }

    /// What the server counted.
    pub fn counters(&self) -> AdminCounters {
        self.counters
    }

    /// Whether work is left for the next turn (the loop must not sleep).
    pub fn has_work(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Polls the reactor: `Ready` when fds changed (their endpoints are queued for
    /// [`turn`](Self::turn)).
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Self { reactor, endpoints, ready, .. } = self;
        reactor.poll_drain(cx, |token, readiness| mark(endpoints, ready, token, readiness))
    }

    /// A stack event: marks what it changed for the watchers.
    pub fn on_stack_event(&mut self, event: &StackEvent) {
        match *event {
            StackEvent::InterfaceChanged { device } | StackEvent::InterfaceRemoved { device } => {
                self.dirty.interfaces.insert(device);
            }
            StackEvent::RoutesChanged { version } => self.dirty.routes[version_index(version)] = true,
            StackEvent::NeighborsChanged { device, version } => {
                self.dirty.neighbors.insert((device, version_index(version)));
            }
            _ => {}
        }
    }

    /// Stack events were lost (the loop's event queue was full): everything is compared
    /// again at the end of the turn.
    pub fn on_events_lost(&mut self, stack: &NetStack) {
        self.dirty.routes = [true, true];
        for device in stack
            .devices()
            .chain(self.observed.interfaces.keys().filter_map(|&id| netstack_admin::device(id)))
        {
            self.dirty.interfaces.insert(device);
            self.dirty.neighbors.insert((device, 0));
            self.dirty.neighbors.insert((device, 1));
        }
    }

    /// One turn: serves the endpoints that changed, then feeds the watchers what changed in
    /// the stack. Returns the items served.
    pub fn turn(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        sockets: Option<&SocketServer>,
    ) -> usize {
        {
            let Self { reactor, endpoints, ready, .. } = self;
            reactor.drain(|token, readiness| mark(endpoints, ready, token, readiness));
        }
        let mut work = 0;
        for _ in 0..self.ready.len() {
            let Some(key) = self.ready.pop_front() else { break };
            let Some(entry) = self.endpoints.get_mut(key) else { continue };
            entry.queued = false;
            self.serve_endpoint(stack, ctx, sockets, key);
            work += 1;
        }
        work
    }

    /// Feeds the watchers what changed in the stack since the last call (the loop calls it
    /// after every source of stack events has run). Returns the events queued.
    pub fn publish_changes(&mut self, stack: &NetStack, ctx: &BindingsCtx) -> usize {
        if self.dirty.is_empty() {
            return 0;
        }
        self.publish(stack, ctx)
    }

    // ------------------------------------------------------------------ watchers

    /// Reads what is dirty from the stack and queues the differences on the watchers.
    /// Returns the events queued.
    fn publish(&mut self, stack: &NetStack, ctx: &BindingsCtx) -> usize {
        if !self.primed {
            // Nobody watched yet: nothing to compare with; the first watcher reads it all.
            self.dirty = Dirty::default();
            return 0;
        }
        let mut events = 0;
        let dirty = std::mem::take(&mut self.dirty);
        for (index, version) in [(0, IpVersion::V4), (1, IpVersion::V6)] {
            if !dirty.routes[index] {
                continue;
            }
            let new = snapshot::routes(stack, version);
            let mut found = Vec::new();
            model::diff_routes(&self.observed.routes[index], &new, |e| found.push(e));
            self.observed.routes[index] = new;
            for event in found {
                // A default route's coming or going changes its interface's flags.
                if let RouteEvent::Added(r) | RouteEvent::Removed(r) = event {
                    if r.prefix_len == 0 {
                        self.dirty.interfaces.insert(DeviceId::new(r.interface as u32));
                    }
                }
                events += 1;
                self.fan_out_route(version, event);
            }
        }
        let interfaces = std::mem::take(&mut self.dirty.interfaces);
        for device in dirty.interfaces.iter().chain(interfaces.iter()) {
            let id = u64::from(device.get());
            let new = snapshot::interface(stack, ctx, *device);
            let event = model::diff_interface(self.observed.interfaces.get(&id), new.as_ref());
            match new {
                Some(props) => {
                    self.observed.interfaces.insert(id, props);
                }
                None => {
                    self.observed.interfaces.remove(&id);
                }
            }
            self.update_providers(stack, *device);
            if let Some(event) = event {
                if let InterfaceEvent::Removed(_) = event {
                    self.interface_gone(*device);
                }
                events += 1;
                self.fan_out_interface(event);
            }
        }
        for &(device, index) in &dirty.neighbors {
            let version = if index == 0 { IpVersion::V4 } else { IpVersion::V6 };
            let new = snapshot::neighbors(stack, device, Some(version));
            let id = u64::from(device.get());
            let mut found = Vec::new();
            model::diff_neighbors(
                &mut self.observed.neighbors,
                &new,
                |(i, ip)| *i == id && ip_version(ip) == version,
                |e| found.push(e),
            );
            for event in found {
                events += 1;
                self.fan_out_neighbor(event);
            }
        }
        events
    }

    /// Reads everything the watchers report, before the first watcher starts.
    fn prime(&mut self, stack: &NetStack, ctx: &BindingsCtx) {
        if self.primed {
            return;
        }
        self.primed = true;
        self.observed.interfaces =
            stack.devices().filter_map(|d| snapshot::interface(stack, ctx, d)).map(|p| (p.id, p)).collect();
        self.observed.routes =
            [snapshot::routes(stack, IpVersion::V4), snapshot::routes(stack, IpVersion::V6)];
        self.observed.neighbors = stack.devices().flat_map(|d| snapshot::neighbors(stack, d, None)).collect();
    }

    /// Brings `observed` up to date before a new watcher copies it: the differences still
    /// pending go to the existing watchers first.
    fn catch_up(&mut self, stack: &NetStack, ctx: &BindingsCtx) {
        if self.primed {
            self.publish(stack, ctx);
        } else {
            self.prime(stack, ctx);
        }
    }

    fn fan_out_interface(&mut self, event: InterfaceEvent) {
        let watchers = std::mem::take(&mut self.interface_watchers);
        for &key in &watchers {
            let pushed = match self.channel_mut(key).map(|c| &mut c.role) {
                Some(Role::InterfaceWatcher { queue, .. }) => queue.push(event.clone()),
                _ => continue,
            };
            self.after_push(key, pushed);
        }
        self.restore_watchers(watchers, |s| &mut s.interface_watchers);
    }

    fn fan_out_route(&mut self, version: IpVersion, event: RouteEvent) {
        let watchers = std::mem::take(&mut self.route_watchers);
        for &key in &watchers {
            let pushed = match self.channel_mut(key).map(|c| &mut c.role) {
                Some(Role::RouteWatcher { queue, version: v, main_table: true, .. }) if *v == version => {
                    queue.push(event)
                }
                _ => continue,
            };
            self.after_push(key, pushed);
        }
        self.restore_watchers(watchers, |s| &mut s.route_watchers);
    }

    fn fan_out_neighbor(&mut self, event: NeighborEvent) {
        let watchers = std::mem::take(&mut self.neighbor_iterators);
        for &key in &watchers {
            let pushed = match self.channel_mut(key).map(|c| &mut c.role) {
                Some(Role::EntryIterator { queue, .. }) => queue.push(event),
                _ => continue,
            };
            self.after_push(key, pushed);
        }
        self.restore_watchers(watchers, |s| &mut s.neighbor_iterators);
    }

    /// Puts a watcher list back, without the watchers that closed meanwhile (and with any
    /// added meanwhile).
    fn restore_watchers(&mut self, mut watchers: Vec<Key>, list: fn(&mut Self) -> &mut Vec<Key>) {
        let added = std::mem::take(list(self));
        watchers.extend(added);
        watchers.retain(|&k| self.endpoints.get(k).is_some());
        *list(self) = watchers;
    }

    /// After an event was queued on watcher `key`: answers a parked request, or closes the
    /// watcher if it overflowed.
    fn after_push(&mut self, key: Key, pushed: Result<(), HangingError>) {
        match pushed {
            Ok(()) => self.answer_watcher(key),
            Err(_) => {
                self.counters.watcher_overflows += 1;
                self.epitaph(key, zx::ERR_NO_RESOURCES);
            }
        }
    }

    /// Answers watcher `key`'s parked request if events wait.
    fn answer_watcher(&mut self, key: Key) {
        let mut message = std::mem::take(&mut self.outbox);
        let Some(endpoint) = self.channel_mut(key) else {
            self.outbox = message;
            return;
        };
        let encoded = match &mut endpoint.role {
            Role::InterfaceWatcher { queue, interest, .. } => {
                interfaces::encode_watch_reply(queue, *interest, &mut message)
            }
            Role::RouteWatcher { queue, version, .. } => {
                routes::encode_watch_reply(*version, queue, &mut message)
            }
            Role::EntryIterator { queue, .. } => neighbor::encode_get_next_reply(queue, &mut message),
            _ => false,
        };
        if encoded {
            self.counters.events_sent += 1;
            self.send(key, message);
        } else {
            self.outbox = message;
        }
    }

    /// A watcher's request arrived: parks it and answers it if events wait; a second one
    /// closes the watcher.
    fn watch(&mut self, key: Key, txid: u32) {
        let parked = match self.channel_mut(key).map(|c| &mut c.role) {
            Some(Role::InterfaceWatcher { queue, .. }) => queue.park(txid),
            Some(Role::RouteWatcher { queue, .. }) => queue.park(txid),
            Some(Role::EntryIterator { queue, .. }) => queue.park(txid),
            _ => return,
        };
        match parked {
            Ok(()) => self.answer_watcher(key),
            Err(_) => {
                self.counters.watch_conflicts += 1;
                self.epitaph(key, zx::ERR_BAD_STATE);
            }
        }
    }

    // ------------------------------------------------------------------ endpoints

    /// Registers `endpoint`'s fd with the reactor.
    fn add_endpoint(&mut self, endpoint: Endpoint) -> io::Result<Key> {
        let Some(key) = self.endpoints.insert(EndpointEntry { queued: false, endpoint }) else {
            return Err(rustix::io::Errno::NFILE.into());
        };
        let registered = match self.endpoints.get(key).map(|e| &e.endpoint) {
            Some(Endpoint::Svc { listener, .. }) => self.reactor.register(listener.as_fd(), key.to_u64()),
            Some(Endpoint::Channel(c)) => self.reactor.register(c.io.channel.as_fd(), key.to_u64()),
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        };
        match registered {
            Ok(()) => Ok(key),
            Err(error) => {
                self.endpoints.remove(key);
                Err(error)
            }
        }
    }

    /// Adds a channel with `role`, within the limits (a child is charged to its parent).
    fn add_channel(&mut self, channel: Channel, role: Role) -> io::Result<Key> {
        if self.counters.channels_open as usize >= MAX_CHANNELS {
            self.counters.refused_limit += 1;
            return Err(rustix::io::Errno::NFILE.into());
        }
        if let Some(parent) = role.parent() {
            match self.channel_mut(parent).map(|c| &mut c.role) {
                Some(Role::Service { children, .. }) if *children >= MAX_CHILDREN_PER_CONNECTION => {
                    self.counters.refused_limit += 1;
                    return Err(rustix::io::Errno::MFILE.into());
                }
                Some(Role::Service { children, .. }) => *children += 1,
                _ => {}
            }
        }
        channel.set_nonblocking(true)?;
        let watcher = role.is_watcher();
        let parent = role.parent();
        let endpoint = ChannelEndpoint { io: ServedChannel::new(channel), role };
        match self.add_endpoint(Endpoint::Channel(endpoint)) {
            Ok(key) => {
                self.counters.channels_open += 1;
                self.counters.watchers_open += u64::from(watcher);
                Ok(key)
            }
            Err(error) => {
                if let Some(parent) = parent {
                    self.release_child(parent);
                }
                Err(error)
            }
        }
    }

    /// Adds a channel a service connection hands out; if it cannot be served, its peer
    /// learns why from an epitaph.
    fn add_child(&mut self, channel: Channel, role: Role) -> Option<Key> {
        let fallback = channel.as_fd().try_clone_to_owned().ok();
        match self.add_channel(channel, role) {
            Ok(key) => Some(key),
            Err(error) => {
                tracing::debug!(%error, "cannot serve a new channel");
                if let Some(fd) = fallback {
                    let mut message = MessageBuf::new();
                    encode_epitaph(zx::ERR_NO_RESOURCES, &mut message);
                    let _ = Channel::from_fd(fd).write(&message);
                    self.counters.epitaphs += 1;
                }
                None
            }
        }
    }

    fn release_child(&mut self, parent: Key) {
        if let Some(Role::Service { children, .. }) = self.channel_mut(parent).map(|c| &mut c.role) {
            *children = children.saturating_sub(1);
        }
    }

    fn serve_endpoint(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        sockets: Option<&SocketServer>,
        key: Key,
    ) {
        match self.endpoints.get(key).map(|e| &e.endpoint) {
            Some(Endpoint::Svc { service, .. }) => {
                let service = *service;
                self.accept(key, service);
            }
            Some(Endpoint::Channel(_)) => self.serve_requests(stack, ctx, sockets, key),
            None => {}
        }
    }

    /// Accepts connections on a svc socket.
    fn accept(&mut self, key: Key, service: Service) {
        for _ in 0..ACCEPT_BUDGET {
            let Some(Endpoint::Svc { listener, .. }) = self.endpoints.get(key).map(|e| &e.endpoint) else {
                return;
            };
            match crate::svc::accept_client(listener) {
                Accepted::Client(fd) => {
                    if let Err(error) = self.serve_channel(Channel::from_fd(fd), service) {
                        tracing::warn!(%error, service = service.name(), "cannot serve a new connection");
                    }
                }
                Accepted::Drained => return,
                Accepted::Failed(error) => {
                    tracing::warn!(%error, service = service.name(), "cannot accept a connection");
                    return;
                }
            }
        }
        self.requeue(key);
    }

    fn requeue(&mut self, key: Key) {
        if let Some(entry) = self.endpoints.get_mut(key) {
            if !entry.queued {
                entry.queued = true;
                self.ready.push_back(key);
            }
        }
    }

    fn channel_mut(&mut self, key: Key) -> Option<&mut ChannelEndpoint> {
        match self.endpoints.get_mut(key).map(|e| &mut e.endpoint) {
            Some(Endpoint::Channel(c)) => Some(c),
            _ => None,
        }
    }

    fn channel(&self, key: Key) -> Option<&ChannelEndpoint> {
        match self.endpoints.get(key).map(|e| &e.endpoint) {
            Some(Endpoint::Channel(c)) => Some(c),
            _ => None,
        }
    }

    /// Reads and answers up to [`MESSAGE_BUDGET`] of a channel's requests.
    fn serve_requests(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        sockets: Option<&SocketServer>,
        key: Key,
    ) {
        if !self.flush_outbox(key) {
            return;
        }
        let mut message = std::mem::take(&mut self.inbox);
        let mut budget_spent = true;
        for _ in 0..MESSAGE_BUDGET {
            let Some(read) = self.channel_mut(key).and_then(|c| c.io.read_request(&mut message)) else {
                budget_spent = false;
                break;
            };
            match read {
                Ok(()) => {
                    self.on_message(stack, ctx, sockets, key, &mut message);
                    message.clear();
                }
                Err(ChannelError::WouldBlock) => {
                    budget_spent = false;
                    break;
                }
                Err(ChannelError::TooBig) => {
                    self.bad_message(stack, ctx, key, &DecodeError::Truncated);
                    budget_spent = false;
                    break;
                }
                Err(ChannelError::PeerClosed | ChannelError::Io(_)) => {
                    self.close_channel(stack, ctx, key);
                    budget_spent = false;
                    break;
                }
            }
        }
        message.clear();
        self.inbox = message;
        if budget_spent {
            self.requeue(key);
        }
    }

    /// Sends the messages that waited; `true` when none is left.
    fn flush_outbox(&mut self, key: Key) -> bool {
        let Some(endpoint) = self.channel_mut(key) else { return false };
        match endpoint.io.flush() {
            Flushed::Empty => true,
            Flushed::Blocked => false,
            Flushed::Broken => {
                // The peer is gone: the read that follows closes the channel.
                endpoint.io.readable = true;
                true
            }
        }
    }

    /// Decodes and serves one request.
    fn on_message(
        &mut self,
        stack: &mut NetStack,
        ctx: &mut BindingsCtx,
        sockets: Option<&SocketServer>,
        key: Key,
        message: &mut MessageBuf,
    ) {
        let MessageBuf { bytes, handles } = message;
        let (header, body) = match decode_header(bytes) {
            Ok(parsed) => parsed,
            Err(error) => return self.bad_message(stack, ctx, key, &error),
        };
        let Some(role) = self.channel(key).map(|c| RoleKind::of(&c.role)) else { return };
        self.counters.requests += 1;
        let request = Request { key, txid: header.txid };
        let payload = Payload { header: &header, body, handles };
        let result = match role {
            RoleKind::Service(Service::InterfacesState) => {
                interfaces::state_request(self, stack, ctx, request, payload)
            }
            RoleKind::InterfaceWatcher => interfaces::watcher_request(self, request, payload),
            RoleKind::Service(Service::RootInterfaces) => {
                control::root_request(self, stack, ctx, request, payload)
            }
            RoleKind::Control(device) => control::control_request(self, stack, ctx, request, device, payload),
            RoleKind::AddressState => control::provider_request(self, stack, ctx, request, payload),
            RoleKind::Service(Service::RoutesStateV4) => {
                routes::state_request(self, stack, ctx, request, IpVersion::V4, payload)
            }
            RoleKind::Service(Service::RoutesStateV6) => {
                routes::state_request(self, stack, ctx, request, IpVersion::V6, payload)
            }
            RoleKind::RouteWatcher(version) => routes::watcher_request(self, request, version, payload),
            RoleKind::Service(Service::RootRoutesV4) => {
                routes::root_request(self, request, IpVersion::V4, payload)
            }
            RoleKind::Service(Service::RootRoutesV6) => {
                routes::root_request(self, request, IpVersion::V6, payload)
            }
            RoleKind::RouteSet(version) => {
                routes::route_set_request(self, stack, ctx, request, version, payload)
            }
            RoleKind::Service(Service::NeighborView) => {
                neighbor::view_request(self, stack, ctx, request, payload)
            }
            RoleKind::EntryIterator => neighbor::iterator_request(self, request, payload),
            RoleKind::Service(Service::NeighborController) => {
                neighbor::controller_request(self, stack, ctx, request, payload)
            }
            RoleKind::Service(Service::InspectTree) => {
                inspect_tree::tree_request(self, stack, ctx, sockets, request, payload)
            }
            RoleKind::Service(Service::NetstackAdmin) => {
                netstack_admin::interfaces_request(self, stack, ctx, request, payload)
            }
        };
        if let Err(error) = result {
            self.bad_message(stack, ctx, key, &error);
        }
    }

    /// A message that did not decode: epitaph and close.
    fn bad_message(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key, error: &DecodeError) {
        self.counters.malformed_messages += 1;
        let status = if matches!(error, DecodeError::UnknownOrdinal(_)) {
            zx::ERR_NOT_SUPPORTED
        } else {
            zx::ERR_INVALID_ARGS
        };
        tracing::debug!(%error, "malformed request: closing the channel");
        // The channel goes as if its peer had closed it (an address provider's address with
        // it), after the epitaph says why.
        self.write_epitaph(key, status);
        self.close_channel(stack, ctx, key);
    }

    /// Sends an epitaph on a channel and forgets the channel (without the effects its
    /// closing by the peer would have: an address provider's address stays until the
    /// caller removes it).
    fn epitaph(&mut self, key: Key, status: i32) {
        self.write_epitaph(key, status);
        self.forget_channel(key);
    }

    /// Writes an epitaph on channel `key`.
    fn write_epitaph(&mut self, key: Key, status: zx::Status) {
        let mut scratch = std::mem::take(&mut self.outbox);
        if let Some(endpoint) = self.channel_mut(key) {
            endpoint.io.write_epitaph(status, &mut scratch);
            self.counters.epitaphs += 1;
        }
        scratch.clear();
        self.outbox = scratch;
    }

    /// Sends the reply of method `M` to `request`.
    fn reply<M: Method>(&mut self, request: Request, response: M::Response) {
        let mut message = std::mem::take(&mut self.outbox);
        if let Err(error) = encode_reply::<M>(request.txid, response, &mut message) {
            tracing::error!(%error, method = M::NAME, "cannot encode a reply");
            self.outbox = message;
            return;
        }
        self.send(request.key, message);
    }

    /// Sends event `E` on channel `key`.
    fn send_event<E: Event>(&mut self, key: Key, payload: E::Payload) {
        let mut message = std::mem::take(&mut self.outbox);
        if let Err(error) = encode_message(TransactionHeader::new(0, E::ORDINAL), payload, &mut message) {
            tracing::error!(%error, event = E::NAME, "cannot encode an event");
            self.outbox = message;
            return;
        }
        self.counters.events_sent += 1;
        self.send(key, message);
    }

    /// Writes an encoded message, or queues it while the channel is full.
    fn send(&mut self, key: Key, mut message: MessageBuf) {
        let sent = self.channel_mut(key).map(|endpoint| endpoint.io.send(&mut message));
        message.clear();
        self.outbox = message;
        match sent {
            Some(Sent::Queued) => self.counters.replies_queued += 1,
            // The peer is gone: the next read sees it and closes the channel.
            Some(Sent::Broken) => self.requeue(key),
            Some(Sent::Written) | None => {}
        }
    }

    /// The peer closed a channel (or it broke): what it held goes with it. An address
    /// provider's address is removed unless it was detached.
    fn close_channel(&mut self, stack: &mut NetStack, ctx: &mut BindingsCtx, key: Key) {
        let provider = match self.channel_mut(key).map(|c| &c.role) {
            Some(Role::AddressState { provider, .. }) if !provider.detached => {
                Some((provider.device, provider.addr))
            }
            _ => None,
        };
        self.forget_channel(key);
        if let Some((device, addr)) = provider {
            control::remove_address(stack, ctx, device, addr);
            self.dirty.interfaces.insert(device);
            tracing::debug!(?device, %addr, "address provider closed: address removed");
        }
    }

    /// Drops a channel from the tables.
    fn forget_channel(&mut self, key: Key) {
        let Some(entry) = self.endpoints.remove(key) else { return };
        let Endpoint::Channel(endpoint) = entry.endpoint else { return };
        self.reactor.deregister(endpoint.io.channel.as_fd());
        self.counters.channels_open = self.counters.channels_open.saturating_sub(1);
        if endpoint.role.is_watcher() {
            self.counters.watchers_open = self.counters.watchers_open.saturating_sub(1);
        }
        if let Role::AddressState { .. } = endpoint.role {
            self.counters.address_providers = self.counters.address_providers.saturating_sub(1);
        }
        if let Some(parent) = endpoint.role.parent() {
            self.release_child(parent);
        }
    }

    /// Tells the address providers of `device` whose address went, or whose assignment
    /// state changed.
    fn update_providers(&mut self, stack: &NetStack, device: DeviceId) {
        let providers = std::mem::take(&mut self.providers);
        let mut kept = Vec::with_capacity(providers.len());
        for key in providers {
            let Some(Role::AddressState { provider, .. }) = self.channel(key).map(|c| &c.role) else {
                continue;
            };
            kept.push(key);
            if provider.device != device {
                continue;
            }
            control::provider_changed(self, stack, key);
        }
        kept.extend(std::mem::take(&mut self.providers));
        kept.retain(|&k| self.endpoints.get(k).is_some());
        self.providers = kept;
    }

    /// `device` is gone: its controls and address providers hear why and close.
    fn interface_gone(&mut self, device: DeviceId) {
        self.created.remove(&device);
        let controls = std::mem::take(&mut self.controls);
        for &key in &controls {
            if let Some(Role::Control { device: d, .. }) = self.channel(key).map(|c| &c.role) {
                if *d == device {
                    control::control_removed(self, key);
                }
            }
        }
        self.restore_watchers(controls, |s| &mut s.controls);
    }
}

/// A request being answered: its channel and transaction id.
#[derive(Clone, Copy, Debug)]
struct Request {
    key: Key,
    txid: u32,
}

/// Encodes the answer `response` to a parked hanging get into `out`; `false` (and a log
/// line) if it does not encode.
fn encode_parked_reply<M: Method>(txid: u32, response: M::Response, out: &mut MessageBuf) -> bool {
    match encode_reply::<M>(txid, response, out) {
        Ok(()) => true,
        Err(error) => {
            tracing::error!(%error, method = M::NAME, "cannot encode a hanging get's reply");
            false
        }
    }
}

/// A protocol's `…Request::decode`.
type RequestDecoder<R> = fn(&TransactionHeader, &[u8], &mut Vec<OwnedFd>) -> Result<R, DecodeError>;

/// A request's header, body and handles, for the handler that knows its protocol to decode.
struct Payload<'a> {
    header: &'a TransactionHeader,
    body: &'a [u8],
    handles: &'a mut Vec<OwnedFd>,
}

impl Payload<'_> {
    /// Decodes the request with `decode`, a protocol's `…Request::decode`.
    fn decode<R>(self, decode: RequestDecoder<R>) -> Result<R, DecodeError> {
        decode(self.header, self.body, self.handles)
    }
}

/// What a channel speaks, copied out of its [`Role`].
#[derive(Clone, Copy, Debug)]
enum RoleKind {
    Service(Service),
    InterfaceWatcher,
    Control(DeviceId),
    AddressState,
    RouteWatcher(IpVersion),
    RouteSet(IpVersion),
    EntryIterator,
}

impl RoleKind {
    fn of(role: &Role) -> Self {
        match role {
            Role::Service { service, .. } => RoleKind::Service(*service),
            Role::InterfaceWatcher { .. } => RoleKind::InterfaceWatcher,
            Role::Control { device, .. } => RoleKind::Control(*device),
            Role::AddressState { .. } => RoleKind::AddressState,
            Role::RouteWatcher { version, .. } => RoleKind::RouteWatcher(*version),
            Role::RouteSet { version, .. } => RoleKind::RouteSet(*version),
            Role::EntryIterator { .. } => RoleKind::EntryIterator,
        }
    }
}

fn version_index(version: IpVersion) -> usize {
    match version {
        IpVersion::V4 => 0,
        IpVersion::V6 => 1,
    }
}

fn ip_version(addr: &netstack_core::addr::IpAddr) -> IpVersion {
    match addr {
        netstack_core::addr::IpAddr::V4(_) => IpVersion::V4,
        netstack_core::addr::IpAddr::V6(_) => IpVersion::V6,
    }
}

/// Records a readiness edge and queues the endpoint once.
fn mark(endpoints: &mut Slab<EndpointEntry>, ready: &mut VecDeque<Key>, token: u64, readiness: Readiness) {
    let key = Key::from_u64(token);
    let Some(entry) = endpoints.get_mut(key) else { return };
    if let Endpoint::Channel(c) = &mut entry.endpoint {
        c.io.readable |= readiness.readable;
    }
    if !entry.queued {
        entry.queued = true;
        ready.push_back(key);
    }
}
