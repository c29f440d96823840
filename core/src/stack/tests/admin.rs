//! The admin API over the fake network: enabling and disabling devices, MTU changes, device
//! removal, address lifetimes, route removal, neighbour administration, and the events that
//! tell the bindings when what they show changed.

use super::ipv6::{lan6, v6};
use super::*;
use crate::ip::slaac::Expiry;

/// The events `host` reported from index `from` on.
fn events_since(net: &FakeNetwork<Host>, host: NodeIndex, from: usize) -> Vec<StackEvent> {
    net.node(host).events[from..].iter().map(|(_, e)| *e).collect()
}

fn event_count(net: &FakeNetwork<Host>, host: NodeIndex) -> usize {
    net.node(host).events.len()
}

fn ping(net: &mut FakeNetwork<Host>, from: NodeIndex, dst: &str, seq: u16) -> Result<(), SendError> {
    call(net, from, |stack, ctx| stack.send_echo_request(ctx, v4(dst), 0x42, seq, &[0x11; 32]))
}

fn udp_send(net: &mut FakeNetwork<Host>, from: NodeIndex, dst: &str) -> Result<(), SocketError> {
    let dst = SpecifiedAddr::new(v4(dst)).unwrap();
    call(net, from, |stack, ctx| {
        stack.udp_call(ctx, |udp, uctx| {
            let s = udp.create::<Ipv4>(0)?;
            udp.send_to(uctx, s, Some((dst, 9)), &b"x"[..])
        })
    })
}

fn forever() -> Lifetimes {
    Lifetimes { valid: Lifetime::Infinite, preferred: Lifetime::Infinite }
}

fn secs(n: u64) -> Lifetime {
    Lifetime::Finite(Duration::from_secs(n))
}

fn v4_states(host: &Host) -> Vec<(Ipv4Addr, AddressAssignment)> {
    host.stack
        .addresses(DEV)
        .filter_map(|a| match a.addr {
            IpAddrSubnet::V4(s) => Some((s.addr().into_addr(), a.state)),
            IpAddrSubnet::V6(_) => None,
        })
        .collect()
}

fn v6_state(host: &Host, addr: Ipv6Addr) -> Option<AddressAssignment> {
    host.stack
        .addresses(DEV)
        .find(|a| a.addr == IpAddrSubnet::V6(AddrSubnet::new(addr, 64).unwrap()))
        .map(|a| a.state)
}

#[test]
fn device_info_describes_each_kind() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    let (lo, tun) = call(&mut net, a, |stack, ctx| {
        (stack.add_loopback_device(ctx).unwrap(), stack.add_pure_ip_device(ctx, 1400))
    });
    let stack = &net.node(a).stack;
    assert_eq!(stack.devices().collect::<Vec<_>>(), [DEV, lo, tun]);
    let eth = stack.device_info(DEV).unwrap();
    assert_eq!((eth.kind, eth.mtu, eth.mac, eth.enabled), (DeviceKind::Ethernet, 1500, Some(mac(1)), true));
    assert!(!eth.ipv4_forwarding && !eth.ipv6_forwarding && !eth.ipv6_enabled);
    assert_eq!(
        stack.device_info(lo).map(|i| (i.kind, i.mtu, i.mac)),
        Some((DeviceKind::Loopback, 65536, None))
    );
    assert_eq!(stack.device_info(tun).map(|i| (i.kind, i.mtu)), Some((DeviceKind::PureIp, 1400)));
    assert_eq!(stack.device_info(DeviceId::new(9)), None);
}

#[test]
fn a_disabled_device_drops_both_ways_and_its_routes_are_skipped() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    net.run_for(Duration::from_secs(5));
    let before = event_count(&net, a);
    assert_eq!(call(&mut net, a, |stack, ctx| stack.set_device_enabled(ctx, DEV, false)), Ok(true));
    let events = events_since(&net, a, before);
    assert!(events.contains(&StackEvent::InterfaceChanged { device: DEV }));
    assert!(events.contains(&StackEvent::RoutesChanged { version: IpVersion::V4 }));
    // A second disable changes nothing and says so.
    let before = event_count(&net, a);
    assert_eq!(call(&mut net, a, |stack, ctx| stack.set_device_enabled(ctx, DEV, false)), Ok(false));
    assert_eq!(events_since(&net, a, before), []);

    // B's pings reach A's device and are dropped there, counted.
    for seq in 1..=3 {
        ping(&mut net, b, "192.0.2.1", seq).unwrap();
        net.run_for(Duration::from_secs(1));
    }
    assert_eq!(echo_replies(net.node(b)), []);
    let info = net.node(a).stack.device_info(DEV).unwrap();
    assert!(!info.enabled);
    assert!(info.rx_dropped_disabled >= 1, "{info:?}");
    assert_eq!(net.node(a).stack.counters().icmp_out_echo_reps, 0);
    // A's own sends find no route: the subnet route is still listed but not used.
    assert_eq!(net.node(a).stack.routes4().len(), 1);
    assert_eq!(ping(&mut net, a, "192.0.2.2", 1), Err(SendError::NoRoute(IpAddr::V4(v4("192.0.2.2")))));
    assert_eq!(udp_send(&mut net, a, "192.0.2.2"), Err(SocketError::NetworkUnreachable));
    assert_eq!(v4_states(net.node(a)), [(v4("192.0.2.1"), AddressAssignment::Unavailable)]);

    // Up again, everything works.
    assert_eq!(call(&mut net, a, |stack, ctx| stack.set_device_enabled(ctx, DEV, true)), Ok(true));
    assert_eq!(v4_states(net.node(a)), [(v4("192.0.2.1"), AddressAssignment::Assigned)]);
    ping(&mut net, b, "192.0.2.1", 9).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies(net.node(b)).len(), 1);
    ping(&mut net, a, "192.0.2.2", 10).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies(net.node(a)).len(), 1);
}

#[test]
fn disabling_flushes_dynamic_neighbors_and_fails_what_waits_on_them() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    // Resolving a host that does not exist: the packet waits on an INCOMPLETE entry.
    ping(&mut net, a, "192.0.2.99", 1).unwrap();
    call(&mut net, a, |stack, ctx| {
        stack.add_static_neighbor(ctx, DEV, IpAddr::V4(v4("192.0.2.50")), mac(50)).unwrap();
        stack.set_device_enabled(ctx, DEV, false).unwrap();
    });
    let left: Vec<_> = net.node(a).stack.neighbors(DEV).map(|n| (n.ip, n.state)).collect();
    assert_eq!(left, [(IpAddr::V4(v4("192.0.2.50")), NeighborState::Static)]);
    // The waiting packet failed as host unreachable (EHOSTUNREACH for a socket).
    assert!(net
        .node(a)
        .events
        .iter()
        .any(|(_, e)| *e == StackEvent::HostUnreachable { dst: IpAddr::V4(v4("192.0.2.99")) }));
}

#[test]
fn rfc4862_5_4_enabling_again_reruns_dad_and_router_solicitation() {
    let (mut net, a, b) = lan6();
    ping6(&mut net, a, v6("2001:db8::2"));
    net.run_for(Duration::from_secs(1));
    assert!(net.node(a).stack.neighbors(DEV).any(|n| n.ip == IpAddr::V6(v6("2001:db8::2"))));
    call(&mut net, a, |stack, ctx| stack.set_device_enabled(ctx, DEV, false)).unwrap();
    assert_eq!(v6_state(net.node(a), v6("2001:db8::1")), Some(AddressAssignment::Unavailable));
    assert!(!net.node(a).stack.neighbors(DEV).any(|n| n.ip == IpAddr::V6(v6("2001:db8::2"))));
    let solicits = net.node(a).stack.counters().ipv6.ndp_out_solicits;
    let router_solicits = net.node(a).stack.counters().ipv6.ndp_out_router_solicits;
    net.run_for(Duration::from_secs(10));
    // Nothing leaves a disabled device.
    assert_eq!(net.node(a).stack.counters().ipv6.ndp_out_solicits, solicits);

    let before = event_count(&net, a);
    call(&mut net, a, |stack, ctx| stack.set_device_enabled(ctx, DEV, true)).unwrap();
    assert_eq!(v6_state(net.node(a), v6("2001:db8::1")), Some(AddressAssignment::Tentative));
    net.run_for(Duration::from_secs(5));
    assert_eq!(v6_state(net.node(a), v6("2001:db8::1")), Some(AddressAssignment::Assigned));
    let counters = net.node(a).stack.counters().ipv6;
    // One DAD probe for the link-local and one for the manual address, and solicitations.
    assert!(counters.ndp_out_solicits >= solicits + 2, "{counters:?}");
    assert!(counters.ndp_out_router_solicits > router_solicits);
    let changes = events_since(&net, a, before)
        .iter()
        .filter(|e| **e == StackEvent::InterfaceChanged { device: DEV })
        .count();
    // Enabled, then each of the two addresses tentative and assigned again.
    assert!(changes >= 5, "{changes}");
    let _ = b;
}

fn ping6(net: &mut FakeNetwork<Host>, from: NodeIndex, dst: Ipv6Addr) {
    let request = EchoRequest { id: 0x66, seq: 1 };
    call(net, from, |stack, ctx| stack.send_echo_request6(ctx, dst, Some(DEV), request, &[0xcd; 8])).unwrap();
}

#[test]
fn rfc791_set_mtu_bounds_and_fragmentation() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let set =
        |net: &mut FakeNetwork<Host>, mtu| call(net, a, |stack, ctx| stack.set_mtu(ctx, DEV, mtu, 9000));
    assert_eq!(set(&mut net, 67), Err(DeviceError::MtuOutOfRange { mtu: 67, min: 68, max: 9000 }));
    assert_eq!(set(&mut net, 9001), Err(DeviceError::MtuOutOfRange { mtu: 9001, min: 68, max: 9000 }));
    let before = event_count(&net, a);
    assert_eq!(set(&mut net, 576), Ok(()));
    assert_eq!(events_since(&net, a, before), [StackEvent::InterfaceChanged { device: DEV }]);
    assert_eq!(net.node(a).stack.device_info(DEV).unwrap().mtu, 576);
    net.start_capture();
    call(&mut net, a, |stack, ctx| stack.send_echo_request(ctx, v4("192.0.2.2"), 1, 1, &[0x5a; 1000]))
        .unwrap();
    net.run_for(Duration::from_secs(1));
    // The 1028-byte datagram went in fragments of at most 576 bytes, and came back whole.
    assert_eq!(echo_replies(net.node(a)), [(v4("192.0.2.2"), 1, 1, 1000)]);
    let capture = net.capture().unwrap();
    let from_a: Vec<usize> =
        frames(&capture).filter(|f| f[6..12] == mac(1).bytes()).map(|f| f.len() - 14).collect();
    assert!(from_a.iter().all(|&len| len <= 576), "{from_a:?}");
    assert!(from_a.len() >= 2);
    let _ = b;
}

#[test]
fn rfc8200_5_ipv6_is_turned_off_below_1280_and_back_on_above() {
    let (mut net, a, _b) = lan6();
    let before = event_count(&net, a);
    call(&mut net, a, |stack, ctx| stack.set_mtu(ctx, DEV, 1200, 1500)).unwrap();
    let info = net.node(a).stack.device_info(DEV).unwrap();
    assert!(!info.ipv6_enabled);
    assert_eq!(net.node(a).stack.addresses(DEV).filter(|a| matches!(a.addr, IpAddrSubnet::V6(_))).count(), 0);
    assert!(!net.node(a).stack.routes6().iter().any(|r| r.device == DEV));
    assert!(events_since(&net, a, before).contains(&StackEvent::RoutesChanged { version: IpVersion::V6 }));
    // IPv4 still runs at 1200.
    assert_eq!(v4_states(net.node(a)), [(v4("192.0.2.1"), AddressAssignment::Assigned)]);
    call(&mut net, a, |stack, ctx| stack.set_mtu(ctx, DEV, 1500, 1500)).unwrap();
    let info = net.node(a).stack.device_info(DEV).unwrap();
    assert!(info.ipv6_enabled);
    assert_eq!(info.ipv6_mtu, 1500);
    net.run_for(Duration::from_secs(3));
    let link_local = v6("fe80::ff:fe00:1");
    assert_eq!(v6_state(net.node(a), link_local), Some(AddressAssignment::Assigned));
}

#[test]
fn rfc4862_5_5_4_ipv4_address_lifetimes_deprecate_then_expire() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let addr = AddrSubnet::new(v4("192.0.2.10"), 24).unwrap();
    let lifetimes = Lifetimes { valid: secs(20), preferred: secs(10) };
    let start = net.now();
    call(&mut net, a, |stack, ctx| stack.add_ipv4_address_with_lifetimes(ctx, DEV, addr, lifetimes)).unwrap();
    let info = net.node(a).stack.addresses(DEV).find(|i| i.addr == IpAddrSubnet::V4(addr)).unwrap();
    assert_eq!(info.state, AddressAssignment::Assigned);
    assert_eq!(info.valid_until, Expiry::At(start + Duration::from_secs(20)));
    assert_eq!(info.preferred_until, Expiry::At(start + Duration::from_secs(10)));
    // Answered for while valid.
    ping(&mut net, b, "192.0.2.10", 1).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies(net.node(b)).len(), 1);

    let before = event_count(&net, a);
    net.run_for(Duration::from_secs(10));
    assert!(v4_states(net.node(a)).contains(&(v4("192.0.2.10"), AddressAssignment::Deprecated)));
    let interface_changes = events_since(&net, a, before)
        .into_iter()
        .filter(|e| matches!(e, StackEvent::InterfaceChanged { .. }))
        .count();
    assert_eq!(interface_changes, 1);
    // Deprecated, it still receives.
    ping(&mut net, b, "192.0.2.10", 2).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies(net.node(b)).len(), 2);

    net.run_for(Duration::from_secs(10));
    assert_eq!(v4_states(net.node(a)), [(v4("192.0.2.1"), AddressAssignment::Assigned)]);
    // Expired, it is no longer answered for, by ARP either: B's entry is removed and B
    // resolves again, in vain.
    call(&mut net, b, |stack, ctx| stack.remove_neighbor(ctx, DEV, IpAddr::V4(v4("192.0.2.10")))).unwrap();
    let replies = net.node(a).stack.arp(DEV).unwrap().counters().tx_replies;
    ping(&mut net, b, "192.0.2.10", 3).unwrap();
    net.run_for(Duration::from_secs(5));
    assert_eq!(echo_replies(net.node(b)).len(), 2);
    assert_eq!(net.node(a).stack.arp(DEV).unwrap().counters().tx_replies, replies);
    // The shared subnet route was not this address's to take away.
    assert_eq!(net.node(a).stack.routes4().len(), 1);
    // No lifetime timer is left behind.
    let timers = call(&mut net, a, |_, ctx| ctx.node.timers());
    assert!(!timers.iter().any(|(id, _)| matches!(id, StackTimerId::Ipv4Address(_))), "{timers:?}");
}

#[test]
fn lifetime_updates_apply_to_both_versions() {
    let (mut net, a, _b) = lan6();
    let v4addr = IpAddr::V4(v4("192.0.2.1"));
    let v6addr = IpAddr::V6(v6("2001:db8::1"));
    let deprecated = Lifetimes { valid: secs(100), preferred: Lifetime::Finite(Duration::ZERO) };
    call(&mut net, a, |stack, ctx| {
        stack.set_address_lifetimes(ctx, DEV, v4addr, deprecated).unwrap();
        stack.set_address_lifetimes(ctx, DEV, v6addr, deprecated).unwrap();
    });
    assert_eq!(v4_states(net.node(a)), [(v4("192.0.2.1"), AddressAssignment::Deprecated)]);
    assert_eq!(v6_state(net.node(a), v6("2001:db8::1")), Some(AddressAssignment::Deprecated));
    call(&mut net, a, |stack, ctx| {
        stack.set_address_lifetimes(ctx, DEV, v4addr, forever()).unwrap();
        stack.set_address_lifetimes(ctx, DEV, v6addr, forever()).unwrap();
    });
    assert_eq!(v4_states(net.node(a)), [(v4("192.0.2.1"), AddressAssignment::Assigned)]);
    assert_eq!(v6_state(net.node(a), v6("2001:db8::1")), Some(AddressAssignment::Assigned));
    let bad = Lifetimes { valid: secs(1), preferred: secs(2) };
    assert_eq!(
        call(&mut net, a, |stack, ctx| stack.set_address_lifetimes(ctx, DEV, v4addr, bad)),
        Err(DeviceError::InvalidLifetimes)
    );
    let missing = IpAddr::V4(v4("192.0.2.77"));
    assert_eq!(
        call(&mut net, a, |stack, ctx| stack.set_address_lifetimes(ctx, DEV, missing, forever())),
        Err(DeviceError::AddressNotFound)
    );
    // A valid lifetime of zero removes the address.
    let gone =
        Lifetimes { valid: Lifetime::Finite(Duration::ZERO), preferred: Lifetime::Finite(Duration::ZERO) };
    call(&mut net, a, |stack, ctx| stack.set_address_lifetimes(ctx, DEV, v6addr, gone)).unwrap();
    assert_eq!(v6_state(net.node(a), v6("2001:db8::1")), None);
}

#[test]
fn removing_an_ipv4_address_takes_the_subnet_route_it_created() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    let add = |net: &mut FakeNetwork<Host>, s: &str| {
        let addr = AddrSubnet::new(v4(s), 24).unwrap();
        call(net, a, |stack, ctx| stack.add_ipv4_address(ctx, DEV, addr))
    };
    let remove = |net: &mut FakeNetwork<Host>, s: &str| {
        call(net, a, |stack, ctx| stack.remove_ipv4_address(ctx, DEV, v4(s)))
    };
    let has_route = |net: &FakeNetwork<Host>| {
        net.node(a).stack.routes4().iter().any(|r| r.subnet == "198.51.100.0/24".parse().unwrap())
    };
    let before = event_count(&net, a);
    add(&mut net, "198.51.100.1").unwrap();
    assert_eq!(
        events_since(&net, a, before),
        [StackEvent::InterfaceChanged { device: DEV }, StackEvent::RoutesChanged { version: IpVersion::V4 }]
    );
    add(&mut net, "198.51.100.2").unwrap();
    assert_eq!(add(&mut net, "198.51.100.2"), Err(DeviceError::AddressExists));
    // The route stays while another address lies in the subnet.
    remove(&mut net, "198.51.100.1").unwrap();
    assert!(has_route(&net));
    let before = event_count(&net, a);
    remove(&mut net, "198.51.100.2").unwrap();
    assert!(!has_route(&net));
    assert_eq!(
        events_since(&net, a, before),
        [StackEvent::InterfaceChanged { device: DEV }, StackEvent::RoutesChanged { version: IpVersion::V4 }]
    );
    assert_eq!(remove(&mut net, "198.51.100.2"), Err(DeviceError::AddressNotFound));
    assert_eq!(
        call(&mut net, a, |stack, ctx| stack.remove_ipv4_address(ctx, DeviceId::new(7), v4("192.0.2.1"))),
        Err(DeviceError::NoDevice(DeviceId::new(7)))
    );
}

#[test]
fn routes_are_removed_by_value_and_reported() {
    let (mut net, hosts) = lan(Impairments::default(), 1);
    let a = hosts[0];
    let route = default_route(v4("192.0.2.254"), DEV).unwrap();
    let before = event_count(&net, a);
    call(&mut net, a, |stack, ctx| stack.add_route_v4(ctx, route)).unwrap();
    assert_eq!(events_since(&net, a, before), [StackEvent::RoutesChanged { version: IpVersion::V4 }]);
    // Same destination, device and gateway, another metric: another route.
    let other = Route { metric: 5, ..route };
    let before = event_count(&net, a);
    assert!(call(&mut net, a, |stack, ctx| stack.remove_ipv4_route(ctx, &other)).is_err());
    assert_eq!(events_since(&net, a, before), []);
    assert_eq!(call(&mut net, a, |stack, ctx| stack.remove_ipv4_route(ctx, &route)), Ok(route));
    assert_eq!(events_since(&net, a, before), [StackEvent::RoutesChanged { version: IpVersion::V4 }]);
    assert_eq!(net.node(a).stack.routes4().len(), 1);
    let r6 = Route {
        subnet: "2001:db8:1::/48".parse().unwrap(),
        device: DEV,
        gateway: None,
        metric: 1,
        source: RouteSource::Static,
    };
    call(&mut net, a, |stack, ctx| stack.add_route_v6(ctx, r6)).unwrap();
    assert_eq!(call(&mut net, a, |stack, ctx| stack.remove_ipv6_route(ctx, &r6)), Ok(r6));
    assert!(net.node(a).stack.routes6().is_empty());
}

#[test]
fn static_neighbor_is_used_without_resolution_and_flush_forces_it() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let (a, b) = (hosts[0], hosts[1]);
    let before = event_count(&net, a);
    call(&mut net, a, |stack, ctx| stack.add_static_neighbor(ctx, DEV, IpAddr::V4(v4("192.0.2.2")), mac(2)))
        .unwrap();
    assert!(events_since(&net, a, before)
        .contains(&StackEvent::NeighborsChanged { device: DEV, version: IpVersion::V4 }));
    let entry = net.node(a).stack.neighbors(DEV).next().unwrap();
    assert_eq!(
        (entry.ip, entry.mac, entry.state),
        (IpAddr::V4(v4("192.0.2.2")), Some(*mac(2)), NeighborState::Static)
    );
    assert_eq!(entry.updated_at, net.now());
    ping(&mut net, a, "192.0.2.2", 1).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies(net.node(a)).len(), 1);
    assert_eq!(net.node(a).stack.arp(DEV).unwrap().counters().tx_requests, 0);

    // Flushing removes static entries too: the next packet resolves.
    let before = event_count(&net, a);
    call(&mut net, a, |stack, ctx| stack.flush_neighbors(ctx, DEV, Some(IpVersion::V4))).unwrap();
    assert_eq!(net.node(a).stack.neighbors(DEV).count(), 0);
    assert_eq!(
        events_since(&net, a, before)
            .iter()
            .filter(|e| **e == StackEvent::NeighborsChanged { device: DEV, version: IpVersion::V4 })
            .count(),
        1
    );
    ping(&mut net, a, "192.0.2.2", 2).unwrap();
    net.run_for(Duration::from_secs(1));
    assert_eq!(echo_replies(net.node(a)).len(), 2);
    assert_eq!(net.node(a).stack.arp(DEV).unwrap().counters().tx_requests, 1);
    let learned = net.node(a).stack.neighbors(DEV).next().unwrap();
    assert_eq!(learned.state, NeighborState::Reachable);

    // Refusals.
    let err = |net: &mut FakeNetwork<Host>, ip: IpAddr| {
        call(net, a, |stack, ctx| stack.add_static_neighbor(ctx, DEV, ip, mac(9)))
    };
    assert_eq!(err(&mut net, IpAddr::V4(v4("192.0.2.1"))), Err(DeviceError::InvalidNeighbor));
    assert_eq!(err(&mut net, IpAddr::V4(v4("224.0.0.1"))), Err(DeviceError::InvalidNeighbor));
    assert_eq!(err(&mut net, IpAddr::V6(v6("2001:db8::9"))), Err(DeviceError::Ipv6Disabled(DEV)));
    assert_eq!(
        call(&mut net, a, |stack, ctx| stack.remove_neighbor(ctx, DEV, IpAddr::V4(v4("192.0.2.77")))),
        Err(DeviceError::NeighborNotFound)
    );
    let tun = call(&mut net, a, |stack, ctx| stack.add_pure_ip_device(ctx, 1500));
    assert_eq!(
        call(&mut net, a, |stack, ctx| stack.add_static_neighbor(
            ctx,
            tun,
            IpAddr::V4(v4("192.0.2.2")),
            mac(2)
        )),
        Err(DeviceError::NotSupported(tun))
    );
    let _ = b;
}

#[test]
fn static_ipv6_neighbor_and_flush_of_one_version() {
    let (mut net, a, _b) = lan6();
    call(&mut net, a, |stack, ctx| {
        stack.add_static_neighbor(ctx, DEV, IpAddr::V6(v6("2001:db8::2")), mac(2)).unwrap();
        stack.add_static_neighbor(ctx, DEV, IpAddr::V4(v4("192.0.2.2")), mac(2)).unwrap();
    });
    let solicits = net.node(a).stack.counters().ipv6.ndp_out_solicits;
    ping6(&mut net, a, v6("2001:db8::2"));
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.node(a).stack.counters().ipv6.ndp_out_solicits, solicits);
    assert_eq!(
        net.node(a).events.iter().filter(|(_, e)| matches!(e, StackEvent::EchoReply { .. })).count(),
        1
    );
    call(&mut net, a, |stack, ctx| stack.flush_neighbors(ctx, DEV, Some(IpVersion::V6))).unwrap();
    let left: Vec<IpAddr> = net.node(a).stack.neighbors(DEV).map(|n| n.ip).collect();
    assert_eq!(left, [IpAddr::V4(v4("192.0.2.2"))]);
    call(&mut net, a, |stack, ctx| stack.flush_neighbors(ctx, DEV, None)).unwrap();
    assert_eq!(net.node(a).stack.neighbors(DEV).count(), 0);
}

#[test]
fn remove_device_leaves_no_state_and_stale_ids_fail() {
    let (mut net, a, b) = lan6();
    ping6(&mut net, a, v6("2001:db8::2"));
    ping(&mut net, a, "192.0.2.2", 1).unwrap();
    call(&mut net, a, |stack, ctx| {
        stack.add_route_v4(ctx, default_route(v4("192.0.2.254"), DEV).unwrap()).unwrap();
        let lifetimes = Lifetimes { valid: secs(100), preferred: secs(50) };
        let addr = AddrSubnet::new(v4("198.51.100.1"), 24).unwrap();
        stack.add_ipv4_address_with_lifetimes(ctx, DEV, addr, lifetimes).unwrap();
    });
    net.run_for(Duration::from_secs(1));
    let before = event_count(&net, a);
    call(&mut net, a, |stack, ctx| stack.remove_device(ctx, DEV)).unwrap();
    let events = events_since(&net, a, before);
    assert!(events.contains(&StackEvent::InterfaceRemoved { device: DEV }));
    assert!(events.contains(&StackEvent::RoutesChanged { version: IpVersion::V4 }));
    assert!(events.contains(&StackEvent::RoutesChanged { version: IpVersion::V6 }));

    let stack = &net.node(a).stack;
    assert_eq!(stack.devices().count(), 0);
    assert_eq!(stack.device_info(DEV), None);
    assert!(stack.routes4().is_empty() && stack.routes6().is_empty());
    assert_eq!(stack.addresses(DEV).count(), 0);
    assert_eq!(stack.neighbors(DEV).count(), 0);
    assert!(stack.ipv6_addresses().is_empty());
    let timers = call(&mut net, a, |_, ctx| ctx.node.timers());
    assert!(timers.is_empty(), "{timers:?}");

    // Every call naming the device fails; frames for it are counted, not processed.
    call(&mut net, a, |stack, ctx| {
        let gone = Err(DeviceError::NoDevice(DEV));
        assert_eq!(stack.set_device_enabled(ctx, DEV, true), gone.map(|()| false));
        assert_eq!(stack.set_mtu(ctx, DEV, 1400, 1500), gone);
        assert_eq!(stack.remove_device(ctx, DEV), gone);
        assert_eq!(stack.flush_neighbors(ctx, DEV, None), gone);
        assert_eq!(stack.remove_neighbor(ctx, DEV, IpAddr::V4(v4("192.0.2.2"))), gone);
        assert_eq!(stack.add_static_neighbor(ctx, DEV, IpAddr::V4(v4("192.0.2.2")), mac(2)), gone);
        assert_eq!(stack.remove_ipv4_address(ctx, DEV, v4("192.0.2.1")), gone);
        assert_eq!(stack.set_address_lifetimes(ctx, DEV, IpAddr::V4(v4("192.0.2.1")), forever()), gone);
        let addr = AddrSubnet::new(v4("192.0.2.1"), 24).unwrap();
        assert_eq!(stack.add_ipv4_address(ctx, DEV, addr), gone);
        assert_eq!(stack.enable_ipv6(ctx, DEV), gone);
        stack.handle_timer(
            ctx,
            StackTimerId::Ipv4Address(Ipv4AddressTimerId { device: DEV, addr: v4("192.0.2.1") }),
        );
    });
    ping(&mut net, b, "192.0.2.1", 5).unwrap();
    net.run_for(Duration::from_secs(5));
    assert!(net.node(a).stack.counters().unknown_device >= 1);
    assert_eq!(udp_send(&mut net, a, "192.0.2.2"), Err(SocketError::NetworkUnreachable));
    // A new device gets a new id.
    let new =
        call(&mut net, a, |stack, ctx| stack.add_ethernet_device(ctx, mac(7), EthernetConfig::default()));
    assert_eq!(new, DeviceId::new(2));
}

#[test]
fn neighbor_events_follow_every_state_change() {
    let (mut net, hosts) = lan(Impairments::default(), 2);
    let a = hosts[0];
    let before = event_count(&net, a);
    ping(&mut net, a, "192.0.2.2", 1).unwrap();
    net.run_for(Duration::from_secs(1));
    let changes = |net: &FakeNetwork<Host>, from| {
        events_since(net, a, from)
            .iter()
            .filter(|e| **e == StackEvent::NeighborsChanged { device: DEV, version: IpVersion::V4 })
            .count()
    };
    // Created INCOMPLETE, then REACHABLE.
    assert_eq!(changes(&net, before), 2);
    let entry = net.node(a).stack.neighbors(DEV).next().unwrap();
    let before = event_count(&net, a);
    net.run_for(Duration::from_secs(60));
    // REACHABLE timed out to STALE, and STALE was collected.
    assert_eq!(changes(&net, before), 2);
    assert!(net.node(a).stack.neighbors(DEV).next().is_none_or(|e| e.updated_at > entry.updated_at));
}
