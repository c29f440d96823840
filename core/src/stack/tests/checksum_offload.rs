//! TX checksum offload (`EthernetConfig::tx_checksum_offload`): which UDP datagrams leave with
//! their checksum left to the device (Linux's `CHECKSUM_PARTIAL`) and which are checksummed
//! in software because the device would not see them whole or they loop back to this host.

use super::*;

/// Hosts 192.0.2.1 (its device offloading TX checksums) and 192.0.2.2 (not) on one segment,
/// capturing.
fn offloading_lan() -> (FakeNetwork<Host>, NodeIndex, NodeIndex) {
    let mut net = FakeNetwork::new(42);
    let segment = net.add_segment(Impairments::default());
    let mut nodes = Vec::new();
    for n in 1..=2u8 {
        let stack = Stack::new(&mut FakeRng::new(u64::from(n)));
        let node = net.add_node(Host { stack, events: Vec::new() }, u64::from(n));
        let config = EthernetConfig { tx_checksum_offload: n == 1, ..EthernetConfig::default() };
        call(&mut net, node, |stack, ctx| {
            let dev = stack.add_ethernet_device(ctx, mac(n), config);
            let addr = AddrSubnet::new(v4(&alloc::format!("192.0.2.{n}")), 24).unwrap();
            stack.add_ipv4_address(ctx, dev, addr).unwrap();
        });
        net.attach(segment, node, DEV);
        nodes.push(node);
    }
    net.run_for(Duration::from_secs(5));
    net.start_capture();
    (net, nodes[0], nodes[1])
}

/// A UDP socket on `host` bound to `port`.
fn bound(net: &mut FakeNetwork<Host>, host: NodeIndex, port: u16) -> UdpSocketId<Ipv4> {
    call(net, host, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0).unwrap();
            udp.bind(uctx, s, None, NonZeroU16::new(port)).unwrap();
            s
        })
    })
}

/// Sends `payload` from `socket` on `host` to `dst`:`port`.
fn send(net: &mut FakeNetwork<Host>, host: NodeIndex, socket: UdpSocketId<Ipv4>, dst: &str, payload: &[u8]) {
    let dst = SpecifiedAddr::new(v4(dst)).unwrap();
    call(net, host, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            udp.set_broadcast(socket, true).unwrap();
            udp.send_to(uctx, socket, Some((dst, 9000)), payload).unwrap();
        })
    });
    net.run_for(Duration::from_secs(1));
}

/// The UDP checksum fields of the captured datagrams carrying `payload`.
fn checksums_on_wire(net: &FakeNetwork<Host>, payload: &[u8]) -> Vec<u16> {
    let capture = net.capture().unwrap();
    frames(&capture)
        .filter(|f| f.len() == 42 + payload.len() && f[42..] == *payload && f[23] == 17)
        .map(|f| u16::from_be_bytes([f[40], f[41]]))
        .collect()
}

/// The checksum field a datagram from .1:`sport` to `dst`:9000 has when its checksum is
/// computed, or when it is left to the device.
fn expected(dst: &str, sport: u16, payload: &[u8], offload: bool) -> u16 {
    let builder = UdpBuilder::new(v4("192.0.2.1"), v4(dst), sport, NonZeroU16::new(9000).unwrap());
    let builder = if offload { builder.with_checksum_offload() } else { builder };
    let datagram = payload.encapsulate(builder).serialize_vec().unwrap();
    u16::from_be_bytes([datagram.body()[6], datagram.body()[7]])
}

#[test]
fn unicast_to_another_host_leaves_the_checksum_to_the_device() {
    let (mut net, a, b) = offloading_lan();
    let (from_a, to_b) = (bound(&mut net, a, 4000), bound(&mut net, b, 9000));
    send(&mut net, a, from_a, "192.0.2.2", b"offloaded");
    assert_eq!(checksums_on_wire(&net, b"offloaded"), [expected("192.0.2.2", 4000, b"offloaded", true)]);
    // Nothing finished it on this fake wire, so the peer drops the datagram as corrupt.
    let (queued, _) = call(&mut net, b, |stack, _| stack.udp().queued(to_b)).unwrap();
    assert_eq!(queued, 0);
    assert_eq!(net.node(b).stack.udp().counters::<Ipv4>().in_csum_errors, 1);
}

#[test]
fn broadcast_and_looped_back_datagrams_are_checksummed_in_software() {
    let (mut net, a, b) = offloading_lan();
    let (from_a, to_b) = (bound(&mut net, a, 4000), bound(&mut net, b, 9000));
    let to_self = bound(&mut net, a, 9000);
    send(&mut net, a, from_a, "192.0.2.255", b"to everyone");
    assert_eq!(
        checksums_on_wire(&net, b"to everyone"),
        [expected("192.0.2.255", 4000, b"to everyone", false)]
    );
    let got = call(&mut net, b, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(to_b).unwrap()));
    assert_eq!(got.payload.body(), b"to everyone");
    // To its own address the datagram loops back and must verify on the way in.
    send(&mut net, a, from_a, "192.0.2.1", b"to myself");
    let got = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(to_self).unwrap()));
    assert_eq!(got.payload.body(), b"to myself");
}

#[test]
fn fragmented_datagrams_are_checksummed_in_software() {
    let (mut net, a, b) = offloading_lan();
    let (from_a, to_b) = (bound(&mut net, a, 4000), bound(&mut net, b, 9000));
    let payload = vec![0x5a; 3000];
    send(&mut net, a, from_a, "192.0.2.2", &payload);
    let got = call(&mut net, b, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(to_b).unwrap()));
    assert_eq!(got.payload.body(), &payload[..]);
}

#[test]
fn without_offload_every_checksum_is_computed() {
    let (mut net, a, b) = offloading_lan();
    let (from_b, to_a) = (bound(&mut net, b, 4000), bound(&mut net, a, 9000));
    send(&mut net, b, from_b, "192.0.2.1", b"computed");
    let got = call(&mut net, a, |stack, ctx| stack.udp_call(ctx, |udp, _| udp.recv_from(to_a).unwrap()));
    assert_eq!(got.payload.body(), b"computed");
}
