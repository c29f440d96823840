//! The test network: two netstacks joined by the memory device pair, each with its event loop
//! and socket server on a thread of its own and its Provider published in a svc dir of its
//! own, as `netstack run` publishes it.
//!
//! The client library finds the netstack through `NETSTACK_SVC_DIR`, read when a socket is
//! created. Every test of this binary shares the process's environment, so socket creation
//! goes through [`Host::open`], which holds a lock while the variable names its host.

use std::future::Future;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use futures::FutureExt;
use netstack_bindings::core::addr::{AddrSubnet, Ipv6Addr, Mac, UnicastAddr};
use netstack_bindings::core::device::ethernet::EthernetConfig;
use netstack_bindings::core::ip::source::AddressState;
use netstack_bindings::device::memory::{memory_pair, MemoryConfig, MemoryPort};
use netstack_bindings::device::{Pool, PoolConfig, SessionConfig};
use netstack_bindings::eventloop::{EventLoop, LoopConfig, LoopHandle};
use netstack_bindings::rng::SmallRng;
use netstack_bindings::socket::{Protocol, ServerConfig, ServerCounters, SocketServer};
use netstack_bindings::svc::{SvcAccess, SvcDir, SOCKET_PROVIDER};
use netstack_fidl::client::SVC_DIR_ENV;
use tokio::sync::oneshot;

/// Held while `NETSTACK_SVC_DIR` names one host and a socket is being created there.
static SVC_ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Which IP versions the hosts run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Versions {
    /// 192.0.2.n/24.
    V4,
    /// 192.0.2.n/24 and 2001:db8::n/64.
    Dual,
}

/// One netstack on its own thread.
#[derive(Debug)]
pub(crate) struct Host {
    svc_dir: PathBuf,
    handle: LoopHandle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<ServerCounters>>,
}

impl Host {
    /// Starts host `n` on `port`: its stack, its socket server and its svc dir (named after
    /// `test`, removed when the host stops).
    fn start(test: &str, n: u8, port: MemoryPort, versions: Versions) -> Host {
        let svc_dir = std::env::temp_dir().join(format!("netstack-tc-{}-{test}-{n}", std::process::id()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let dir = svc_dir.clone();
        let thread = std::thread::Builder::new()
            .name(format!("netstack-{n}"))
            .spawn(move || {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async move {
                    let mut event_loop = new_loop(n, port, versions);
                    let mut svc = SvcDir::publish(&dir, SvcAccess::default(), &[SOCKET_PROVIDER])
                        .expect("publish the svc dir");
                    let mut server = SocketServer::new(ServerConfig::default()).expect("socket server");
                    let listener = svc.take_listener(SOCKET_PROVIDER).expect("provider socket");
                    server.serve(listener, Protocol::Socket).expect("serve");
                    event_loop.serve_sockets(server);
                    ready_tx.send(event_loop.handle()).expect("test waits");
                    event_loop.run_until(stopped.map(drop)).await;
                    let counters = event_loop.socket_server().map(SocketServer::counters).unwrap_or_default();
                    // Closes every channel and data plane, then the svc dir.
                    drop(event_loop);
                    drop(svc);
                    counters
                })
            })
            .expect("spawn the loop thread");
        let handle = ready_rx.recv().expect("the loop thread started");
        Host { svc_dir, handle, stop: Some(stop), thread: Some(thread) }
    }

    /// Runs `create` (which makes a socket through the client library) against this host.
    pub(crate) async fn open<T>(&self, create: impl Future<Output = T>) -> T {
        let _env = SVC_ENV.lock().await;
        std::env::set_var(SVC_DIR_ENV, &self.svc_dir);
        create.await
    }

    /// Waits until `addr` has passed duplicate address detection (RFC 4862 §5.4).
    pub(crate) async fn until_preferred(&self, addr: Ipv6Addr) {
        for _ in 0..250 {
            let state = self
                .handle
                .call(move |stack, _| {
                    stack.ipv6_addresses().iter().find(|c| *c.addr.addr() == addr).map(|c| c.state)
                })
                .await
                .expect("loop running");
            if state == Some(AddressState::Preferred) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{addr} never passed DAD");
    }

    /// Stops the loop (closing every channel and data plane) and returns what the socket
    /// server counted.
    pub(crate) fn stop(mut self) -> ServerCounters {
        self.shut_down().expect("the loop thread ran to its end")
    }

    fn shut_down(&mut self) -> Option<ServerCounters> {
        drop(self.stop.take());
        self.thread.take()?.join().ok()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A failed test must not leave the loop running (and its svc dir behind).
        self.shut_down();
    }
}

fn new_loop(n: u8, port: MemoryPort, versions: Versions) -> EventLoop {
    let mut event_loop = EventLoop::new(
        LoopConfig::default(),
        Pool::new(PoolConfig::default()),
        SmallRng::from_seed(n.into()),
    );
    let mac = UnicastAddr::new(Mac::new([2, 0, 0, 0, 0, n])).expect("unicast");
    let id = event_loop.attach(Box::new(port), SessionConfig::default(), |stack, ctx| {
        stack.add_ethernet_device(ctx, mac, EthernetConfig::default())
    });
    let (stack, ctx) = event_loop.parts();
    let v4 = AddrSubnet::new(format!("192.0.2.{n}").parse().expect("addr"), 24).expect("subnet");
    stack.add_ipv4_address(ctx, id, v4).expect("IPv4 address");
    if versions == Versions::Dual {
        stack.enable_ipv6(ctx, id).expect("IPv6 on");
        let v6 = AddrSubnet::new(format!("2001:db8::{n}").parse().expect("addr"), 64).expect("subnet");
        stack.add_ipv6_address(ctx, id, v6).expect("IPv6 address");
    }
    event_loop
}

/// Hosts 192.0.2.1 (and 2001:db8::1) and 192.0.2.2 (and 2001:db8::2) on one wire; with IPv6,
/// returned once both addresses passed DAD.
pub(crate) async fn two_hosts(test: &str, versions: Versions) -> (Host, Host) {
    let (a_port, b_port) = memory_pair("a", "b", MemoryConfig::default());
    let a = Host::start(test, 1, a_port, versions);
    let b = Host::start(test, 2, b_port, versions);
    if versions == Versions::Dual {
        a.until_preferred("2001:db8::1".parse().expect("addr")).await;
        b.until_preferred("2001:db8::2".parse().expect("addr")).await;
    }
    (a, b)
}

/// Runs `test` on a current-thread runtime of the test's own thread, failing it after
/// `limit` instead of hanging.
pub(crate) fn run<F: Future<Output = ()>>(limit: Duration, test: F) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        tokio::time::timeout(limit, test).await.expect("the test finished in time");
    });
}
