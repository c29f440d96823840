//! The TAP and TUN backends against the Linux kernel, each in a network namespace of its own:
//! frames the kernel sends arrive through `receive`, frames we `transmit` reach a kernel
//! socket.

use std::future::poll_fn;
use std::net::UdpSocket;
use std::num::NonZeroU16;
use std::time::Duration;

use netstack_core::addr::{Ipv4Addr, Mac};
use netstack_core::buf::{Buf, ParsablePacket, Serializer};
use netstack_core::wire::arp::ArpPacket;
use netstack_core::wire::ethernet::{EthernetBuilder, EthernetFrame};
use netstack_core::wire::ipv4::{Ipv4Builder, Ipv4Packet};
use netstack_core::wire::udp::UdpBuilder;
use netstack_core::wire::{EtherType, IpProto};

use super::*;
use crate::device::PoolConfig;
use crate::testutil::{have_root, in_new_netns, ip};

fn v4(s: &str) -> Ipv4Addr {
    s.parse().expect("address")
}

/// Receives frames until `want` accepts one, for at most two seconds.
async fn receive_until<T>(dev: &mut TunTap, pool: &Pool, mut want: impl FnMut(&[u8]) -> Option<T>) -> T {
    let mut rx = Fifo::new(64);
    let wait = async {
        loop {
            poll_fn(|cx| dev.poll_rx_ready(cx)).await.expect("rx ready");
            dev.receive(pool, &mut rx, 64).expect("receive");
            while let Some(frame) = rx.pop() {
                if let Some(found) = want(frame.body()) {
                    return found;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(2), wait).await.expect("the kernel's frame arrived")
}

/// Sends `frame` through the backend.
fn transmit(dev: &mut TunTap, pool: &Pool, frame: &[u8]) {
    let mut buffer = pool.alloc(frame.len() + HEADROOM).expect("buffer");
    buffer.as_mut()[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
    let mut tx = Fifo::new(4);
    tx.push(Buf::new(buffer, HEADROOM..HEADROOM + frame.len())).expect("room");
    assert_eq!(dev.transmit(&mut tx, 4).expect("transmit"), 1);
    assert_eq!(dev.counters().tx_frames, 1);
}

/// An IPv4/UDP packet carrying `payload`.
fn udp_packet(src: &str, dst: &str, dst_port: u16, payload: &[u8]) -> Buf<Vec<u8>> {
    payload
        .encapsulate(UdpBuilder::new(v4(src), v4(dst), 4000, NonZeroU16::new(dst_port).expect("port")))
        .encapsulate(Ipv4Builder::new(v4(src), v4(dst), 64, IpProto::UDP))
        .serialize_vec()
        .expect("packet")
}

#[test]
fn tap_carries_ethernet_frames_both_ways() {
    if !have_root("tap_carries_ethernet_frames_both_ways") {
        return;
    }
    in_new_netns(|| async {
        let pool = Pool::new(PoolConfig::default());
        let mut dev = TunTap::create("tap0", TunTapMode::Tap, Some(1500)).expect("tap");
        assert_eq!(dev.link(), LinkKind::Ethernet);
        ip(&["addr", "add", "192.0.2.2/24", "dev", "tap0"]);
        let socket = UdpSocket::bind("192.0.2.2:5000").expect("bind");
        // The kernel must resolve 192.0.2.1 first: its ARP request comes out of the TAP.
        socket.send_to(b"hello", "192.0.2.1:9").expect("send");
        let kernel_mac = receive_until(&mut dev, &pool, |frame| {
            let eth = EthernetFrame::parse_bytes(frame, ()).ok()?;
            let arp = ArpPacket::parse_bytes(eth.body(), ()).ok()?;
            (arp.target_ip() == v4("192.0.2.1")).then(|| arp.sender_mac())
        })
        .await;
        assert!(dev.counters().rx_frames >= 1);

        let ours = Mac::new([0x02, 0, 0, 0, 0, 1]);
        let (src, dst) = (v4("192.0.2.1"), v4("192.0.2.2"));
        let frame = (&b"from the stack"[..])
            .encapsulate(UdpBuilder::new(src, dst, 4000, NonZeroU16::new(5000).expect("port")))
            .encapsulate(Ipv4Builder::new(src, dst, 64, IpProto::UDP))
            .encapsulate(EthernetBuilder::new(ours, kernel_mac, EtherType::IPV4))
            .serialize_vec()
            .expect("frame");
        transmit(&mut dev, &pool, frame.body());
        let mut got = [0u8; 64];
        socket.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        let (n, from) = socket.recv_from(&mut got).expect("the kernel received our datagram");
        assert_eq!(&got[..n], b"from the stack");
        assert_eq!(from.to_string(), "192.0.2.1:4000");
    });
}

#[test]
fn tun_carries_bare_ip_packets_both_ways() {
    if !have_root("tun_carries_bare_ip_packets_both_ways") {
        return;
    }
    in_new_netns(|| async {
        let pool = Pool::new(PoolConfig::default());
        let mut dev = TunTap::create("tun0", TunTapMode::Tun, None).expect("tun");
        assert_eq!(dev.link(), LinkKind::PureIp);
        ip(&["addr", "add", "198.51.100.2/24", "dev", "tun0"]);
        let socket = UdpSocket::bind("198.51.100.2:5000").expect("bind");
        socket.send_to(b"to the stack", "198.51.100.1:9").expect("send");
        let len = receive_until(&mut dev, &pool, |packet| {
            let ip = Ipv4Packet::parse_bytes(packet, ()).ok()?;
            (ip.dst_ip() == v4("198.51.100.1") && ip.proto() == IpProto::UDP).then(|| ip.body().len())
        })
        .await;
        assert_eq!(len, 8 + b"to the stack".len());

        let packet = udp_packet("198.51.100.1", "198.51.100.2", 5000, b"from the stack");
        transmit(&mut dev, &pool, packet.body());
        let mut got = [0u8; 64];
        socket.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        let (n, _) = socket.recv_from(&mut got).expect("the kernel received our packet");
        assert_eq!(&got[..n], b"from the stack");
    });
}

#[test]
fn a_packet_arriving_after_the_device_drained_still_wakes_the_reader() {
    if !have_root("a_packet_arriving_after_the_device_drained_still_wakes_the_reader") {
        return;
    }
    in_new_netns(|| async {
        let pool = Pool::new(PoolConfig::default());
        let mut dev = TunTap::create("tun0", TunTapMode::Tun, None).expect("tun");
        ip(&["addr", "add", "198.51.100.2/24", "dev", "tun0"]);
        let socket = UdpSocket::bind("198.51.100.2:5000").expect("bind");
        let udp_len = |packet: &[u8]| Some(Ipv4Packet::parse_bytes(packet, ()).ok()?.body().len());
        socket.send_to(b"first", "198.51.100.1:9").expect("send");
        // Reads until the device is empty (EAGAIN).
        assert_eq!(receive_until(&mut dev, &pool, udp_len).await, 8 + 5);
        // The second packet's readiness edge reaches the reactor while nobody waits on the
        // device (the event loop does other work between its reads): it must not be lost
        // as stale when the reader next asks whether the device is ready.
        socket.send_to(b"second", "198.51.100.1:9").expect("send");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(receive_until(&mut dev, &pool, udp_len).await, 8 + 6);
    });
}

#[test]
fn bad_names_are_refused_before_any_system_call() {
    for name in ["", "sixteen-chars-xx", "a/b", "a b", "a:1", ".."] {
        assert!(
            matches!(TunTap::create(name, TunTapMode::Tap, None), Err(TunTapError::BadName(_))),
            "{name:?}"
        );
    }
}

#[test]
fn a_name_held_by_another_device_is_reported_as_in_use() {
    if !have_root("a_name_held_by_another_device_is_reported_as_in_use") {
        return;
    }
    in_new_netns(|| async {
        // Every namespace has its loopback interface.
        let err = TunTap::create("lo", TunTapMode::Tap, None).expect_err("name in use");
        assert!(matches!(err, TunTapError::NameInUse(ref n) if n == "lo"), "{err}");
        let _first = TunTap::create("tap0", TunTapMode::Tap, None).expect("tap");
        let err = TunTap::create("tap0", TunTapMode::Tap, None).expect_err("attached already");
        assert!(matches!(err, TunTapError::NameInUse(_)), "{err}");
    });
}
