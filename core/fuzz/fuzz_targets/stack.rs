//! A whole stack under hostile input: the fuzz input is a sequence of frames (each with a
//! length byte and a "time passes" bit) fed to a host with addresses, UDP sockets, TCP
//! listeners (one dual-stack) and a TCP connection attempt, raw ICMP and ICMPv6 sockets, and
//! forwarding on; timers fire as time passes. Nothing may panic, the UDP and raw sockets'
//! queues may never hold more than their limits, and the TCP listeners' queues stay within
//! theirs.
#![no_main]

use std::num::NonZeroU16;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use netstack_core::addr::{AddrSubnet, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, Mac, SpecifiedAddr, UnicastAddr};
use netstack_core::buf::Buf;
use netstack_core::context::{InstantContext, RngContext, TimerContext};
use netstack_core::device::ethernet::EthernetConfig;
use netstack_core::device::DeviceId;
use netstack_core::stack::{Stack, StackContext, StackEvent, StackTimerId};
use netstack_core::testutil::fake::FakeCtx;
use netstack_core::time::Instant;
use netstack_core::wire::IpProto;

struct Host(FakeCtx<StackTimerId>);

impl InstantContext for Host {
    fn now(&self) -> Instant {
        self.0.now()
    }
}

impl TimerContext<StackTimerId> for Host {
    fn schedule_timer(&mut self, id: StackTimerId, at: Instant) -> Option<Instant> {
        self.0.schedule_timer(id, at)
    }

    fn cancel_timer(&mut self, id: &StackTimerId) -> Option<Instant> {
        self.0.cancel_timer(id)
    }

    fn scheduled_at(&self, id: &StackTimerId) -> Option<Instant> {
        self.0.scheduled_at(id)
    }
}

impl RngContext for Host {
    fn random_u64(&mut self) -> u64 {
        self.0.random_u64()
    }
}

impl StackContext for Host {
    type Frame = Vec<u8>;

    fn alloc_frame(&mut self, capacity: usize) -> Option<Vec<u8>> {
        Some(vec![0; capacity])
    }

    fn send_frame(&mut self, _device: DeviceId, _frame: Buf<Vec<u8>>) {}

    fn on_event(&mut self, _event: StackEvent) {}
}

fuzz_target!(|data: &[u8]| {
    let mut host = Host(FakeCtx::new(1));
    let mut stack: Stack<Vec<u8>> = Stack::new(&mut host.0);
    let mac = UnicastAddr::new(Mac::new([0x02, 0, 0, 0, 0, 1])).expect("unicast");
    let dev = stack.add_ethernet_device(&mut host, mac, EthernetConfig::default());
    for (addr, prefix) in [([192, 0, 2, 1], 24), ([198, 51, 100, 1], 24)] {
        let addr = AddrSubnet::new(Ipv4Addr::new(addr), prefix).expect("subnet");
        stack.add_ipv4_address(&mut host, dev, addr).expect("address");
    }
    stack.set_ipv4_forwarding(dev, true).expect("device");
    // IPv6 too: a link-local address under DAD, a global one, forwarding, a UDP socket.
    stack.set_ipv6_forwarding(dev, true).expect("device");
    stack.enable_ipv6(&mut host, dev).expect("device");
    let v6 = AddrSubnet::new(Ipv6Addr::new([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 64);
    stack.add_ipv6_address(&mut host, dev, v6.expect("subnet")).expect("address");
    stack.udp_call(&mut host, |udp, ctx| {
        let s = udp.create::<Ipv6>(0).expect("socket");
        // IPv6-only, so that the IPv4 socket below may take the same port (Linux semantics).
        udp.set_v6only(s, true).expect("socket");
        udp.bind(ctx, s, None, NonZeroU16::new(9000)).expect("bind");
    });
    let socket = stack.udp_call(&mut host, |udp, ctx| {
        let s = udp.create::<Ipv4>(0).expect("socket");
        udp.bind(ctx, s, None, NonZeroU16::new(9000)).expect("bind");
        s
    });
    let listeners = stack.tcp_call(&mut host, |tcp, ctx| {
        let v4 = tcp.create::<Ipv4>(0).expect("socket");
        tcp.bind(ctx, v4, None, NonZeroU16::new(80)).expect("bind");
        tcp.listen(ctx, v4, 8).expect("listen");
        // IPv6-only beside the IPv4 listener of the same port, as Linux requires; a dual-stack
        // one on another port takes IPv4 too, as IPv4-mapped connections.
        let v6 = tcp.create::<Ipv6>(0).expect("socket");
        tcp.set_v6only(v6, true).expect("socket");
        tcp.bind(ctx, v6, None, NonZeroU16::new(80)).expect("bind");
        tcp.listen(ctx, v6, 8).expect("listen");
        let dual = tcp.create::<Ipv6>(0).expect("socket");
        tcp.bind(ctx, dual, None, NonZeroU16::new(81)).expect("bind");
        tcp.listen(ctx, dual, 8).expect("listen");
        let client = tcp.create::<Ipv4>(0).expect("socket");
        let peer = SpecifiedAddr::new(Ipv4Addr::new([192, 0, 2, 2])).expect("specified");
        tcp.connect(ctx, client, peer, NonZeroU16::new(8080).expect("port")).expect("connect");
        (v4, v6, dual)
    });
    // Raw sockets get a copy of every ICMP and ICMPv6 message.
    let raw4 = stack.raw_call(&mut host, |raw, _| raw.create(IpProto::ICMP)).expect("socket");
    let raw6 = stack.raw6_call(&mut host, |raw, _| raw.create(IpProto::ICMPV6)).expect("socket");
    let mut rest = data;
    while let Some((&header, tail)) = rest.split_first() {
        let len = usize::from(header & 0x7f) * 12;
        let (frame, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        stack.receive_frame(&mut host, dev, Buf::from_body(frame.to_vec()));
        if header & 0x80 != 0 {
            let deadline = host.now() + Duration::from_secs(7);
            while let Some(id) = host.0.pop_due(deadline) {
                stack.handle_timer(&mut host, id);
            }
            host.0.set_now(deadline);
        }
    }
    let (_, bytes) = stack.udp_call(&mut host, |udp, _| udp.queued(socket)).expect("socket");
    assert!(bytes <= 212_992, "{bytes} bytes queued past SO_RCVBUF");
    let tcp = stack.tcp();
    assert!(tcp.queues(listeners.0).expect("listener").0 <= 8, "accept queue past its backlog");
    assert!(tcp.queues(listeners.1).expect("listener").0 <= 8, "accept queue past its backlog");
    assert!(tcp.queues(listeners.2).expect("listener").0 <= 8, "accept queue past its backlog");
    let raw_bytes =
        stack.raw4().queued(raw4).expect("socket").0 + stack.raw6().queued(raw6).expect("socket").0;
    assert!(raw_bytes <= 2 * 212_992, "{raw_bytes} bytes queued past SO_RCVBUF on raw sockets");
});
