//! The smoltcp TAP endpoint of the end-to-end benchmark (`benches/e2e/run.sh`): smoltcp on a
//! TAP device, serving the part of iperf3's protocol an unmodified `iperf3 -c` needs for a
//! TCP test, normal (the client sends) or reversed (`-R`, this end sends), so the kernel's
//! iperf3 measures smoltcp the way it measures our stack.
//!
//! `smoltcp_endpoint TAP ADDR/PREFIX [PORT]` creates (or attaches to) TAP device `TAP` with
//! MAC 02:00:00:00:00:01 and address `ADDR`, and serves tests on `PORT` (5201) one after
//! another until killed. Each test: the client's control connection sends its 37-byte
//! cookie; the server asks for the parameters (PARAM_EXCHANGE, a length-prefixed JSON
//! object), then for the data connection (CREATE_STREAMS; it sends the cookie too), starts
//! the test (TEST_START, TEST_RUNNING), discards or sends data until the client says
//! TEST_END, exchanges results (EXCHANGE_RESULTS: the client's JSON, then ours with the
//! bytes this end counted, under the client's stream id), asks the client to display them
//! (DISPLAY_RESULTS) and waits for IPERF_DONE. Anything else (UDP, parallel streams) is
//! answered with SERVER_ERROR.
//!
//! Single-threaded: one loop polls the interface, moves data, then sleeps in `select` on
//! the TAP until smoltcp's next deadline.

use std::os::fd::AsRawFd;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{wait, Device, Medium, TunTapInterface};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr};

/// iperf3's control states (`iperf_api.h`).
mod state {
    pub(crate) const TEST_START: u8 = 1;
    pub(crate) const TEST_RUNNING: u8 = 2;
    pub(crate) const TEST_END: u8 = 4;
    pub(crate) const PARAM_EXCHANGE: u8 = 9;
    pub(crate) const CREATE_STREAMS: u8 = 10;
    pub(crate) const EXCHANGE_RESULTS: u8 = 13;
    pub(crate) const DISPLAY_RESULTS: u8 = 14;
    pub(crate) const IPERF_DONE: u8 = 16;
    /// SERVER_ERROR (-2) as the byte on the wire.
    pub(crate) const SERVER_ERROR: u8 = 0xfe;
}

/// The cookie each connection of a test starts with.
const COOKIE_LEN: usize = 37;

/// Socket buffers: the data connection's, and the control connection's.
const DATA_BUFFER: usize = 256 * 1024;
const CONTROL_BUFFER: usize = 16 * 1024;

/// Where a test stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the control connection's cookie.
    Cookie,
    /// PARAM_EXCHANGE sent, waiting for the parameters.
    Params,
    /// CREATE_STREAMS sent, waiting for the data connection's cookie.
    Stream,
    /// Data flowing until TEST_END.
    Running,
    /// EXCHANGE_RESULTS sent, waiting for the client's results.
    Results,
    /// DISPLAY_RESULTS sent, waiting for IPERF_DONE.
    Done,
    /// Something was refused; the connections go once the client leaves.
    Failed,
}

/// One test: its two connections and what was counted.
struct Test {
    control: SocketHandle,
    data: SocketHandle,
    phase: Phase,
    reverse: bool,
    bytes: u64,
    started: Option<Instant>,
    /// Control bytes received and not yet consumed.
    inbox: Vec<u8>,
}

fn listener(sockets: &mut SocketSet<'static>, port: u16, buffer: usize) -> SocketHandle {
    let mut socket =
        tcp::Socket::new(tcp::SocketBuffer::new(vec![0; buffer]), tcp::SocketBuffer::new(vec![0; buffer]));
    socket.listen(port).expect("listen");
    sockets.add(socket)
}

impl Test {
    fn new(sockets: &mut SocketSet<'static>, port: u16) -> Self {
        // Two listeners on the port: the first SYN (the control connection) takes the first.
        let control = listener(sockets, port, CONTROL_BUFFER);
        let data = listener(sockets, port, DATA_BUFFER);
        Self {
            control,
            data,
            phase: Phase::Cookie,
            reverse: false,
            bytes: 0,
            started: None,
            inbox: Vec::new(),
        }
    }

    /// Sends one state byte on the control connection.
    fn say(&self, sockets: &mut SocketSet<'static>, state: u8) {
        let sent = sockets.get_mut::<tcp::Socket>(self.control).send_slice(&[state]);
        if sent != Ok(1) {
            eprintln!("smoltcp_endpoint: could not send state {state} on the control connection");
        }
    }

    /// Takes a length-prefixed JSON object from the control bytes, if whole.
    fn take_json(&mut self) -> Option<serde_json::Value> {
        let len = u32::from_be_bytes(self.inbox.get(..4)?.try_into().ok()?) as usize;
        let body = self.inbox.get(4..4 + len)?.to_vec();
        self.inbox.drain(..4 + len);
        serde_json::from_slice(&body).ok()
    }

    /// Advances the test; returns false once it is over and its sockets can go.
    fn step(&mut self, sockets: &mut SocketSet<'static>, now: Instant) -> bool {
        let control = sockets.get_mut::<tcp::Socket>(self.control);
        while control.can_recv() {
            let _ = control.recv(|buf| {
                self.inbox.extend_from_slice(buf);
                (buf.len(), ())
            });
        }
        // The client left (or a connection came and went before the test began).
        if !control.is_active() && control.state() != tcp::State::Listen {
            return false;
        }
        match self.phase {
            Phase::Cookie if self.inbox.len() >= COOKIE_LEN => {
                self.inbox.drain(..COOKIE_LEN);
                self.say(sockets, state::PARAM_EXCHANGE);
                self.phase = Phase::Params;
            }
            Phase::Params => {
                if let Some(params) = self.take_json() {
                    let tcp = params.get("tcp").and_then(|v| v.as_bool()).unwrap_or(false);
                    let parallel = params.get("parallel").and_then(|v| v.as_u64()).unwrap_or(1);
                    if !tcp || parallel != 1 {
                        eprintln!("smoltcp_endpoint: only one TCP stream is served: {params}");
                        self.say(sockets, state::SERVER_ERROR);
                        self.phase = Phase::Failed;
                    } else {
                        self.reverse = params.get("reverse").and_then(|v| v.as_bool()).unwrap_or(false);
                        self.say(sockets, state::CREATE_STREAMS);
                        self.phase = Phase::Stream;
                    }
                }
            }
            Phase::Stream => {
                let data = sockets.get_mut::<tcp::Socket>(self.data);
                if data.recv_queue() >= COOKIE_LEN {
                    let mut cookie = [0u8; COOKIE_LEN];
                    let _ = data.recv_slice(&mut cookie);
                    self.say(sockets, state::TEST_START);
                    self.say(sockets, state::TEST_RUNNING);
                    self.started = Some(now);
                    self.phase = Phase::Running;
                }
            }
            Phase::Running => {
                if self.inbox.first() == Some(&state::TEST_END) {
                    self.inbox.remove(0);
                    self.say(sockets, state::EXCHANGE_RESULTS);
                    self.phase = Phase::Results;
                }
            }
            Phase::Results => {
                if let Some(theirs) = self.take_json() {
                    let id = theirs["streams"][0]["id"].as_u64().unwrap_or(1);
                    let seconds = self.started.map_or(0.0, |at| (now - at).total_micros() as f64 / 1e6);
                    let ours = serde_json::json!({
                        "cpu_util_total": 0.0, "cpu_util_user": 0.0, "cpu_util_system": 0.0,
                        "sender_has_retransmits": if self.reverse { 0 } else { -1 },
                        "streams": [{
                            "id": id, "bytes": self.bytes, "retransmits": -1, "jitter": 0.0,
                            "errors": 0, "omitted_errors": 0, "packets": 0, "omitted_packets": 0,
                            "start_time": 0.0, "end_time": seconds,
                        }],
                    });
                    let body = ours.to_string().into_bytes();
                    let mut message = (body.len() as u32).to_be_bytes().to_vec();
                    message.extend_from_slice(&body);
                    let control = sockets.get_mut::<tcp::Socket>(self.control);
                    if control.send_slice(&message) != Ok(message.len()) {
                        eprintln!("smoltcp_endpoint: the results did not fit the control connection");
                    }
                    self.say(sockets, state::DISPLAY_RESULTS);
                    self.phase = Phase::Done;
                }
            }
            Phase::Done => {
                if self.inbox.first() == Some(&state::IPERF_DONE) {
                    println!(
                        "smoltcp_endpoint: test done, {} bytes {}",
                        self.bytes,
                        if self.reverse { "sent" } else { "received" }
                    );
                    sockets.get_mut::<tcp::Socket>(self.control).close();
                    sockets.get_mut::<tcp::Socket>(self.data).close();
                    return false;
                }
            }
            Phase::Cookie | Phase::Failed => {}
        }
        true
    }

    /// Moves data on the data connection: discards what arrives, and when reversed fills the
    /// send buffer. Returns the bytes moved.
    fn pump_data(&mut self, sockets: &mut SocketSet<'static>) -> usize {
        let data = sockets.get_mut::<tcp::Socket>(self.data);
        let mut moved = 0;
        if self.phase == Phase::Running || self.phase == Phase::Results {
            while data.can_recv() {
                moved += data.recv(|buf| (buf.len(), buf.len())).unwrap_or(0);
            }
            if !self.reverse {
                self.bytes += moved as u64;
            }
        }
        if self.phase == Phase::Running && self.reverse && data.may_send() {
            let sent = data.send(|buf| (buf.len(), buf.len())).unwrap_or(0);
            self.bytes += sent as u64;
            moved += sent;
        }
        moved
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: smoltcp_endpoint TAP ADDR/PREFIX [PORT]");
        std::process::exit(2);
    }
    let cidr: IpCidr = args[2].parse().unwrap_or_else(|()| {
        eprintln!("smoltcp_endpoint: bad address {}", args[2]);
        std::process::exit(2)
    });
    let port: u16 = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(5201);
    let mut device = TunTapInterface::new(&args[1], Medium::Ethernet).unwrap_or_else(|e| {
        eprintln!("smoltcp_endpoint: TAP {}: {e}", args[1]);
        std::process::exit(1)
    });
    let fd = device.as_raw_fd();
    let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress([0x02, 0, 0, 0, 0, 1])));
    config.random_seed = u64::from(std::process::id());
    let mut iface = Interface::new(config, &mut device, Instant::now());
    iface.update_ip_addrs(|addrs| addrs.push(cidr).expect("one address"));
    let mut sockets = SocketSet::new(Vec::new());
    let mut test = Test::new(&mut sockets, port);
    println!(
        "smoltcp_endpoint: serving iperf3 on {}:{port} over {} (MTU {})",
        args[2],
        args[1],
        device.capabilities().max_transmission_unit
    );
    loop {
        let now = Instant::now();
        iface.poll(now, &mut device, &mut sockets);
        let moved = test.pump_data(&mut sockets);
        if !test.step(&mut sockets, now) {
            sockets.remove(test.control);
            sockets.remove(test.data);
            test = Test::new(&mut sockets, port);
        }
        if moved > 0 {
            continue;
        }
        let delay = iface.poll_delay(Instant::now(), &sockets);
        if let Err(e) = wait(fd, delay) {
            eprintln!("smoltcp_endpoint: select: {e}");
        }
    }
}
