//! The event loop: the one thread that owns the stack.
//!
//! # Threading model
//!
//! The core's state (devices, neighbour tables, routes, sockets) belongs to a single thread
//! that runs everything to completion: it drains each device's receive side in batches of at
//! most [`LoopConfig::rx_budget`] frames (NAPI's `netdev_budget`), fires the timers that are
//! due, serves requests other threads sent through a bounded channel, flushes the transmit
//! FIFOs, and only then waits for the next readiness event, deadline or request. No lock
//! guards the stack: nothing else can reach it. That keeps the core free of synchronisation,
//! makes every input's effects atomic with respect to every other input (as in the fake
//! network the core is tested in), and keeps the frame pool and buffers thread-local. The cost
//! is that one core's worth of CPU bounds throughput; scaling out will give each device queue
//! a loop of its own, by design, not by adding locks here.
//!
//! The loop runs on a tokio current-thread runtime (the stand-in for fuchsia-async): TAP fds
//! are registered with its reactor, and its timer wheel wakes the loop at the stack's next
//! deadline. The stack's clock is `CLOCK_MONOTONIC` (`std::time::Instant`), counted in
//! nanoseconds from the loop's creation.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use netstack_core::buf::Buf;
use netstack_core::context::{InstantContext, RngContext, TimerContext};
use netstack_core::device::DeviceId;
use netstack_core::ip::slaac::{AddressEvent, AddressState, RemovalReason};
use netstack_core::stack::{Stack, StackContext, StackEvent, StackTimerId};
use netstack_core::time::Instant;
use netstack_core::transport::tcp::Event as TcpEvent;
use netstack_core::transport::SocketEvent;
use tokio::sync::{mpsc, oneshot};

use crate::admin::AdminServer;
use crate::daemon::Cidr;
use crate::device::capture::Direction;
use crate::device::{Backend, BackendCounters, Fifo, Pool, PoolBuffer, Session, SessionConfig};
use crate::echo::UdpEcho;
use crate::rng::SmallRng;
use crate::socket::{DatagramId, SocketServer, TcpId};
use crate::tcp_echo::TcpEcho;
use crate::timers::TimerHeap;

/// The stack as the bindings instantiate it.
pub type NetStack = Stack<PoolBuffer>;

/// Budgets and queue sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopConfig {
    /// Frames taken from one device per turn of the loop.
    pub rx_budget: usize,
    /// Frames handed to one device per turn of the loop.
    pub tx_budget: usize,
    /// Stack events held between turns.
    pub event_queue: usize,
    /// Requests from other threads waiting to be served.
    pub request_queue: usize,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self { rx_budget: 64, tx_budget: 256, event_queue: 1024, request_queue: 64 }
    }
}

/// What the loop counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopCounters {
    /// Turns of the loop that found work.
    pub turns: u64,
    /// Timers fired.
    pub timers_fired: u64,
    /// Frames the stack sent to a device the bindings do not know.
    pub tx_unknown_device: u64,
    /// Frames dropped: the device's TX FIFO was full.
    pub tx_fifo_full: u64,
    /// Stack events dropped: the event queue was full.
    pub events_dropped: u64,
    /// Requests served.
    pub requests: u64,
    /// Receive or transmit calls that failed.
    pub device_errors: u64,
}

/// What the stack calls back into: the clock, timers, randomness, the pool and the devices'
/// TX FIFOs.
#[derive(Debug)]
pub struct BindingsCtx {
    epoch: std::time::Instant,
    /// The stack's clock, read from the system once per turn of the loop (and whenever
    /// [`EventLoop::parts`] hands the stack out), like the kernel's `jiffies`: every packet
    /// and timer of a turn sees the same instant, and the hot paths, which ask for the time
    /// several times per packet (neighbour and path-MTU ages, timers), pay for no system call.
    now: Instant,
    timers: TimerHeap<StackTimerId>,
    rng: SmallRng,
    pool: Pool,
    sessions: Vec<Session>,
    events: Fifo<StackEvent>,
    counters: LoopCounters,
}

impl BindingsCtx {
    /// The frame pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The attached devices.
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// The session of `device`.
    pub fn session(&self, device: DeviceId) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == device)
    }

    /// The session of `device`, mutably (to start a capture on it).
    pub fn session_mut(&mut self, device: DeviceId) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == device)
    }

    /// Attaches `backend` as `device`, which the caller added to the stack: the next turn
    /// of the loop receives from it. Works while the loop runs (the admin server's
    /// `CreateInterface` attaches from inside a turn).
    pub fn attach_session(&mut self, device: DeviceId, backend: Box<dyn Backend>, config: SessionConfig) {
        self.sessions.push(Session::new(device, backend, config));
    }

    /// Detaches `device`'s session and returns it (dropping it closes the backend: a TAP or
    /// TUN interface disappears). Frames still in its FIFOs go with it.
    pub fn detach_session(&mut self, device: DeviceId) -> Option<Session> {
        let index = self.sessions.iter().position(|s| s.id == device)?;
        Some(self.sessions.remove(index))
    }

    /// What the loop counted.
    pub fn counters(&self) -> LoopCounters {
        LoopCounters {
            tx_fifo_full: self.sessions.iter().map(|s| s.tx.dropped_full()).sum(),
            ..self.counters
        }
    }

    /// The name of `device`'s backend, for logs.
    fn device_name(&self, device: DeviceId) -> &str {
        self.sessions.iter().find(|s| s.id == device).map_or("?", |s| s.backend.name())
    }

    /// Logs an IPv6 address's progress through DAD and its lifetimes (RFC 4862 §5.4).
    fn log_address_event(&self, event: AddressEvent) {
        match event {
            AddressEvent::Added { device, addr, kind } => tracing::info!(
                device = self.device_name(device),
                addr = %Cidr::V6(addr),
                ?kind,
                "IPv6 address added: tentative until duplicate address detection passes"
            ),
            AddressEvent::StateChanged { device, addr, state: AddressState::Preferred } => tracing::info!(
                device = self.device_name(device),
                %addr,
                "IPv6 address ready: duplicate address detection passed"
            ),
            AddressEvent::StateChanged { device, addr, state } => {
                tracing::info!(device = self.device_name(device), %addr, ?state, "IPv6 address state changed")
            }
            AddressEvent::Removed { device, addr, reason: RemovalReason::Duplicate } => tracing::warn!(
                device = self.device_name(device),
                %addr,
                "IPv6 address is a duplicate: another host on the link uses it; the stack dropped it"
            ),
            AddressEvent::Removed { device, addr, reason } => {
                tracing::info!(device = self.device_name(device), %addr, ?reason, "IPv6 address removed")
            }
            AddressEvent::Ipv6Disabled { device, addr } => tracing::warn!(
                device = self.device_name(device),
                %addr,
                "IPv6 disabled: the link-local address is a duplicate, so the MAC address is too"
            ),
        }
    }

    /// The tokio instant of the stack's `at`.
    fn tokio_instant(&self, at: Instant) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.epoch) + Duration::from_nanos(at.as_nanos())
    }
}

impl BindingsCtx {
    /// Reads the system clock into the stack's.
    fn tick(&mut self) {
        self.now = Instant::from_nanos(u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
}

impl InstantContext for BindingsCtx {
    fn now(&self) -> Instant {
        self.now
    }
}

impl TimerContext<StackTimerId> for BindingsCtx {
    fn schedule_timer(&mut self, id: StackTimerId, at: Instant) -> Option<Instant> {
        self.timers.schedule(id, at)
    }

    fn cancel_timer(&mut self, id: &StackTimerId) -> Option<Instant> {
        self.timers.cancel(id)
    }

    fn scheduled_at(&self, id: &StackTimerId) -> Option<Instant> {
        self.timers.scheduled_at(id)
    }
}

impl RngContext for BindingsCtx {
    fn random_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

impl StackContext for BindingsCtx {
    type Frame = PoolBuffer;

    fn alloc_frame(&mut self, capacity: usize) -> Option<PoolBuffer> {
        self.pool.alloc(capacity)
    }

    fn send_frame(&mut self, device: DeviceId, frame: Buf<PoolBuffer>) {
        match self.sessions.iter_mut().find(|s| s.id == device) {
            // A full FIFO drops the frame (counted by the FIFO), as a full txqueue does. A
            // capture sees the frames that enter it (`device::capture`).
            Some(session) => {
                if session.captures.is_active() && !session.tx.is_full() {
                    session.captures.record(Direction::Sent, frame.body());
                }
                drop(session.tx.push(frame))
            }
            None => self.counters.tx_unknown_device += 1,
        }
    }

    fn on_event(&mut self, event: StackEvent) {
        if self.events.push(event).is_err() {
            self.counters.events_dropped += 1;
        }
    }
}

/// A call into the stack from another thread, run on the loop's thread.
pub type Request = Box<dyn FnOnce(&mut NetStack, &mut BindingsCtx) + Send>;

/// The loop stopped before answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the event loop has stopped")]
pub struct LoopStopped;

/// A handle other threads use to reach the stack.
#[derive(Clone, Debug)]
pub struct LoopHandle {
    requests: mpsc::Sender<Request>,
}

impl LoopHandle {
    /// Runs `f` on the loop's thread and returns its result (async callers).
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut NetStack, &mut BindingsCtx) -> R + Send + 'static,
    ) -> Result<R, LoopStopped> {
        let (tx, rx) = oneshot::channel();
        let request: Request = Box::new(move |stack, ctx| drop(tx.send(f(stack, ctx))));
        self.requests.send(request).await.map_err(|_| LoopStopped)?;
        rx.await.map_err(|_| LoopStopped)
    }

    /// Runs `f` on the loop's thread and returns its result, blocking this (non-async) thread.
    pub fn call_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut NetStack, &mut BindingsCtx) -> R + Send + 'static,
    ) -> Result<R, LoopStopped> {
        let (tx, rx) = oneshot::channel();
        let request: Request = Box::new(move |stack, ctx| drop(tx.send(f(stack, ctx))));
        self.requests.blocking_send(request).map_err(|_| LoopStopped)?;
        rx.blocking_recv().map_err(|_| LoopStopped)
    }
}

/// The stack, its context, and what the loop serves.
#[derive(Debug)]
pub struct EventLoop {
    stack: NetStack,
    ctx: BindingsCtx,
    config: LoopConfig,
    requests: mpsc::Receiver<Request>,
    handle: LoopHandle,
    echo: Vec<UdpEcho>,
    tcp_echo: Vec<TcpEcho>,
    sockets: Option<SocketServer>,
    admin: Option<AdminServer>,
    /// `events_dropped` when the admin server last heard of lost events.
    events_dropped_seen: u64,
}

impl EventLoop {
    /// A loop with an empty stack, frames from `pool`, randomness from `rng`.
    pub fn new(config: LoopConfig, pool: Pool, mut rng: SmallRng) -> Self {
        let stack = Stack::new(&mut rng);
        let (tx, requests) = mpsc::channel(config.request_queue);
        let ctx = BindingsCtx {
            epoch: std::time::Instant::now(),
            now: Instant::from_nanos(0),
            timers: TimerHeap::default(),
            rng,
            pool,
            sessions: Vec::new(),
            events: Fifo::new(config.event_queue),
            counters: LoopCounters::default(),
        };
        Self {
            stack,
            ctx,
            config,
            requests,
            handle: LoopHandle { requests: tx },
            echo: Vec::new(),
            tcp_echo: Vec::new(),
            sockets: None,
            admin: None,
            events_dropped_seen: 0,
        }
    }

    /// A handle for other threads.
    pub fn handle(&self) -> LoopHandle {
        self.handle.clone()
    }

    /// The stack and its context, to configure before running or inspect after; the
    /// stack's clock is read first.
    pub fn parts(&mut self) -> (&mut NetStack, &mut BindingsCtx) {
        self.ctx.tick();
        (&mut self.stack, &mut self.ctx)
    }

    /// Attaches `backend` as `id`, which `add` (given the stack and context) returns after
    /// adding the device to the stack.
    pub fn attach(
        &mut self,
        backend: Box<dyn Backend>,
        session: SessionConfig,
        add: impl FnOnce(&mut NetStack, &mut BindingsCtx) -> DeviceId,
    ) -> DeviceId {
        let id = add(&mut self.stack, &mut self.ctx);
        self.ctx.attach_session(id, backend, session);
        id
    }

    /// Starts a UDP echo service (test-only, until the socket API exists) on `port`.
    pub fn start_udp_echo(&mut self, port: u16) -> Result<(), netstack_core::transport::SocketError> {
        let echo = UdpEcho::start(&mut self.stack, &mut self.ctx, port)?;
        self.echo.push(echo);
        Ok(())
    }

    /// Starts a TCP echo service (test-only, until the socket API exists) on `port`.
    pub fn start_tcp_echo(&mut self, port: u16) -> Result<(), netstack_core::transport::SocketError> {
        let echo = TcpEcho::start(&mut self.stack, &mut self.ctx, port)?;
        self.tcp_echo.push(echo);
        Ok(())
    }

    /// Starts a TCP echo service (test-only) that connects to `addr`:`port` itself.
    pub fn start_tcp_echo_to(
        &mut self,
        addr: netstack_core::addr::IpAddr,
        port: u16,
    ) -> Result<(), netstack_core::transport::SocketError> {
        let echo = TcpEcho::connect(&mut self.stack, &mut self.ctx, addr, port)?;
        self.tcp_echo.push(echo);
        Ok(())
    }

    /// Serves the socket API with `server`, from this loop's turns.
    pub fn serve_sockets(&mut self, server: SocketServer) {
        self.sockets = Some(server);
    }

    /// The socket server, if one is served.
    pub fn socket_server(&self) -> Option<&SocketServer> {
        self.sockets.as_ref()
    }

    /// The socket server, mutably (to publish protocols on it).
    pub fn socket_server_mut(&mut self) -> Option<&mut SocketServer> {
        self.sockets.as_mut()
    }

    /// Serves the admin protocols with `server`, from this loop's turns.
    pub fn serve_admin(&mut self, server: AdminServer) {
        self.admin = Some(server);
    }

    /// The admin server, if one is served.
    pub fn admin_server(&self) -> Option<&AdminServer> {
        self.admin.as_ref()
    }

    /// One device's backend counters, by name.
    pub fn backend_counters(&self, name: &str) -> Option<BackendCounters> {
        self.ctx.sessions.iter().find(|s| s.backend.name() == name).map(|s| s.backend.counters())
    }

    /// One turn of the loop without waiting: receive from every device marked ready (or every
    /// device, with `poll_all`), fire due timers, flush transmit FIFOs. Returns the frames and
    /// timers handled.
    pub fn turn(&mut self, poll_all: bool) -> usize {
        self.ctx.tick();
        let mut work = 0;
        for i in 0..self.ctx.sessions.len() {
            let ctx = &mut self.ctx;
            let session = &mut ctx.sessions[i];
            if !(poll_all || session.rx_ready) {
                continue;
            }
            match session.backend.receive(&ctx.pool, &mut session.rx, self.config.rx_budget) {
                // A short batch drained the device; a full one may have left frames behind.
                Ok(n) => {
                    session.rx_ready = n >= self.config.rx_budget;
                    session.rx_budget_exhausted += u64::from(session.rx_ready);
                }
                Err(error) => {
                    ctx.counters.device_errors += 1;
                    session.rx_ready = false;
                    tracing::warn!(device = session.backend.name(), %error, "receive failed");
                }
            }
            let id = session.id;
            while let Some(frame) = self.ctx.sessions[i].rx.pop() {
                let session = &mut self.ctx.sessions[i];
                if session.captures.is_active() {
                    session.captures.record(Direction::Received, frame.body());
                }
                self.stack.receive_frame(&mut self.ctx, id, frame);
                work += 1;
            }
            self.handle_events();
        }
        let now = self.ctx.now();
        while let Some(timer) = self.ctx.timers.pop_due(now) {
            self.stack.handle_timer(&mut self.ctx, timer);
            self.ctx.counters.timers_fired += 1;
            work += 1;
        }
        self.handle_events();
        while let Ok(request) = self.requests.try_recv() {
            self.serve(request);
            work += 1;
        }
        if let Some(server) = &mut self.sockets {
            work += server.turn(&mut self.stack, &mut self.ctx);
            self.handle_events();
        }
        if self.admin.is_some() {
            // The admin server's requests change the stack: what they changed is reported
            // to its watchers in the same turn.
            if let Some(admin) = &mut self.admin {
                work += admin.turn(&mut self.stack, &mut self.ctx, self.sockets.as_ref());
            }
            self.handle_events();
            if let Some(admin) = &mut self.admin {
                work += admin.publish_changes(&self.stack, &self.ctx);
            }
        }
        self.flush();
        if work > 0 {
            self.ctx.counters.turns += 1;
        }
        work
    }

    /// Hands every TX FIFO's frames to its backend, up to the budget.
    pub fn flush(&mut self) {
        for session in &mut self.ctx.sessions {
            if session.tx.is_empty() {
                continue;
            }
            if let Err(error) = session.backend.transmit(&mut session.tx, self.config.tx_budget) {
                self.ctx.counters.device_errors += 1;
                tracing::warn!(device = session.backend.name(), %error, "transmit failed");
            }
        }
    }

    fn serve(&mut self, request: Request) {
        request(&mut self.stack, &mut self.ctx);
        self.ctx.counters.requests += 1;
        self.handle_events();
    }

    /// Reacts to what the stack reported: the echo service's sockets, the admin server's
    /// watchers, and logs.
    fn handle_events(&mut self) {
        if self.ctx.counters.events_dropped != self.events_dropped_seen {
            // Some changes went unreported: the watchers compare everything once.
            self.events_dropped_seen = self.ctx.counters.events_dropped;
            if let Some(admin) = &mut self.admin {
                admin.on_events_lost(&self.stack);
            }
        }
        while let Some(event) = self.ctx.events.pop() {
            if let Some(admin) = &mut self.admin {
                admin.on_stack_event(&event);
            }
            match event {
                StackEvent::UdpV4 { socket, event } => {
                    for echo in &mut self.echo {
                        echo.on_readable_v4(&mut self.stack, &mut self.ctx, socket);
                    }
                    self.datagram_event(DatagramId::UdpV4(socket), event);
                }
                StackEvent::UdpV6 { socket, event } => {
                    for echo in &mut self.echo {
                        echo.on_readable_v6(&mut self.stack, &mut self.ctx, socket);
                    }
                    self.datagram_event(DatagramId::UdpV6(socket), event);
                }
                StackEvent::PingV4 { socket, event } => {
                    self.datagram_event(DatagramId::PingV4(socket), event)
                }
                StackEvent::PingV6 { socket, event } => {
                    self.datagram_event(DatagramId::PingV6(socket), event)
                }
                StackEvent::RawV4 { socket, event } => self.datagram_event(DatagramId::RawV4(socket), event),
                StackEvent::RawV6 { socket, event } => self.datagram_event(DatagramId::RawV6(socket), event),
                StackEvent::TcpV4 { socket, event } => {
                    for echo in &mut self.tcp_echo {
                        echo.on_event_v4(&mut self.stack, &mut self.ctx, socket, event);
                    }
                    self.tcp_event(TcpId::V4(socket), event);
                }
                StackEvent::TcpV6 { socket, event } => {
                    for echo in &mut self.tcp_echo {
                        echo.on_event_v6(&mut self.stack, &mut self.ctx, socket, event);
                    }
                    self.tcp_event(TcpId::V6(socket), event);
                }
                StackEvent::Ipv6Address(event) => self.ctx.log_address_event(event),
                StackEvent::AddressConflict { device, addr, other } => {
                    tracing::warn!(?device, %addr, %other, "address conflict: another host uses our address");
                }
                StackEvent::InterfaceChanged { .. }
                | StackEvent::InterfaceRemoved { .. }
                | StackEvent::RoutesChanged { .. }
                | StackEvent::NeighborsChanged { .. } => {}
                other => tracing::trace!(event = ?other, "stack event"),
            }
        }
    }

    /// Hands a datagram socket's event to the socket server, if one runs.
    fn datagram_event(&mut self, id: DatagramId, event: SocketEvent) {
        if let Some(server) = &mut self.sockets {
            server.on_datagram_event(&mut self.stack, &mut self.ctx, id, event);
        }
    }

    /// Hands a TCP socket's event to the socket server, if one runs.
    fn tcp_event(&mut self, id: TcpId, event: TcpEvent) {
        if let Some(server) = &mut self.sockets {
            server.on_tcp_event(&mut self.stack, &mut self.ctx, id, event);
        }
    }

    /// Runs until `shutdown` completes.
    pub async fn run_until(&mut self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = pin!(shutdown);
        let mut sleep = pin!(tokio::time::sleep(Duration::from_secs(3600)));
        // The deadline `sleep` is set to: re-arming tokio's timer costs a trip through its
        // wheel, so it happens only when the stack's next deadline moved.
        let mut armed = None;
        loop {
            if self.turn(false) > 0
                || self.ctx.sessions.iter().any(|s| s.rx_ready)
                || self.sockets.as_ref().is_some_and(SocketServer::has_work)
                || self.admin.as_ref().is_some_and(AdminServer::has_work)
            {
                // More may be waiting: give the other sources a look, then go round again.
                if poll_fn(|cx| Poll::Ready(shutdown.as_mut().poll(cx).is_ready())).await {
                    return;
                }
                tokio::task::yield_now().await;
                continue;
            }
            let stop = poll_fn(|cx| {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                let mut ready = false;
                for session in &mut self.ctx.sessions {
                    if let Poll::Ready(result) = session.backend.poll_rx_ready(cx) {
                        if let Err(error) = result {
                            tracing::warn!(device = session.backend.name(), %error, "device failed");
                        }
                        session.rx_ready = true;
                        ready = true;
                    }
                    if !session.tx.is_empty() && session.backend.poll_tx_ready(cx).is_ready() {
                        ready = true;
                    }
                }
                if let Some(server) = &mut self.sockets {
                    if server.poll(cx).is_ready() {
                        ready = true;
                    }
                }
                if let Some(server) = &mut self.admin {
                    if server.poll(cx).is_ready() {
                        ready = true;
                    }
                }
                match self.requests.poll_recv(cx) {
                    Poll::Ready(Some(request)) => {
                        self.serve(request);
                        ready = true;
                    }
                    // Every handle is gone (the loop holds one, so this does not happen).
                    Poll::Ready(None) | Poll::Pending => {}
                }
                if let Some(deadline) = self.ctx.timers.next_deadline() {
                    if armed != Some(deadline) {
                        sleep.as_mut().reset(self.ctx.tokio_instant(deadline));
                        armed = Some(deadline);
                    }
                    if sleep.as_mut().poll(cx).is_ready() {
                        ready = true;
                    }
                }
                if ready {
                    Poll::Ready(false)
                } else {
                    Poll::Pending
                }
            })
            .await;
            if stop {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
