//! The admin server end to end: a host on the memory pair with the real event loop, socket
//! and admin servers, its protocols published in a services directory of the test's own;
//! clients connect through the svc dir with `SyncClient` from a blocking thread while the
//! loop runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::FutureExt;
use netstack_fidl::channel::{Channel, MessageBuf};
use netstack_fidl::client::{ClientError, SyncClient};
use netstack_fidl::fuchsia_net::{IpAddress, Ipv4Address, Subnet};
use netstack_fidl::fuchsia_net_interfaces::{
    state, watcher, AddressAssignmentState, AddressPropertiesInterest, Event, Properties, WatcherOptions,
};
use netstack_fidl::message::{encode_message, TransactionHeader};
use netstack_fidl::{zx, Method};

use super::{AdminServer, Service};
use crate::device::memory::{memory_pair, MemoryConfig, MemoryPort};
use crate::eventloop::EventLoop;
use crate::socket::tests::host_loop;
use crate::svc::{SvcAccess, SvcDir};

/// A services directory of the test's own.
fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("netstack-admin-{name}-{}", std::process::id()))
}

/// What a test gets: the svc dir's path and the peer end of the memory pair.
pub(crate) struct Harness {
    pub(crate) svc: PathBuf,
    pub(crate) peer: MemoryPort,
}

impl Harness {
    /// A client of `service`.
    pub(crate) fn connect(&self, service: Service) -> SyncClient {
        SyncClient::new(Channel::connect(&self.svc.join(service.name())).expect("connect"))
    }
}

/// Runs `test` on a blocking thread against host 192.0.2.1 (with IPv6) on the memory pair,
/// with the admin protocols published in a fresh svc dir, while the loop runs.
pub(crate) fn with_admin<R: Send + 'static>(
    name: &str,
    test: impl FnOnce(Harness) -> R + Send + 'static,
) -> R {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let path = scratch(name);
    let result = runtime.block_on(async {
        let (ours, peer) = memory_pair("mem0", "peer", MemoryConfig::default());
        let mut event_loop: EventLoop = host_loop(1, ours, true);
        // mem0 is interface 1, loopback interface 2.
        let (stack, ctx) = event_loop.parts();
        stack.add_loopback_device(ctx).expect("loopback");
        let (svc, admin) = publish(&path);
        event_loop.serve_admin(admin);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let harness = Harness { svc: path.clone(), peer };
        let test = tokio::task::spawn_blocking(move || test(harness));
        let run_test = async move {
            let result = test.await;
            drop(stop_tx);
            result
        };
        let (_, result) = futures::future::join(event_loop.run_until(stop_rx.map(drop)), run_test).await;
        drop(svc);
        result
    });
    match result {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn publish(path: &Path) -> (SvcDir, AdminServer) {
    let mut svc = SvcDir::publish(path, SvcAccess::default(), &super::SERVICE_NAMES).expect("svc dir");
    let mut admin = AdminServer::new(1500).expect("admin server");
    for service in Service::ALL {
        admin.serve(svc.take_listener(service.name()).expect("listener"), service).expect("serve");
    }
    (svc, admin)
}

/// A watcher of `state` that sees every address with its lifetimes.
pub(crate) fn interfaces_watcher(state: &SyncClient) -> SyncClient {
    let (ours, theirs) = Channel::pair().expect("pair");
    let options = WatcherOptions {
        address_properties_interest: Some(
            AddressPropertiesInterest::VALID_UNTIL | AddressPropertiesInterest::PREFERRED_LIFETIME_INFO,
        ),
        include_non_assigned_addresses: Some(true),
    };
    state.send::<state::GetWatcher>((options, theirs)).expect("GetWatcher");
    SyncClient::new(ours)
}

/// The existing interfaces, up to `Idle`.
pub(crate) fn existing(watcher: &SyncClient) -> Vec<Properties> {
    let mut found = Vec::new();
    loop {
        match watcher.call::<watcher::Watch>(()).expect("Watch") {
            Event::Existing(props) => found.push(props),
            Event::Idle(_) => return found,
            other => panic!("before Idle: {other:?}"),
        }
    }
}

/// The next event that satisfies `wanted`, skipping others (for up to 10 events).
pub(crate) fn next_matching(watcher: &SyncClient, wanted: impl Fn(&Event) -> bool) -> Event {
    for _ in 0..10 {
        let event = watcher.call::<watcher::Watch>(()).expect("Watch");
        if wanted(&event) {
            return event;
        }
    }
    panic!("no matching event in 10")
}

/// Writes request `M` with transaction id `txid` on `channel` without waiting for a reply.
pub(crate) fn write_request<M: Method>(channel: &Channel, txid: u32, request: M::Request) {
    let mut message = MessageBuf::new();
    encode_message(TransactionHeader::for_method::<M>(txid), request, &mut message).expect("encode");
    channel.write(&message).expect("write");
}

/// The epitaph `channel` ends with, waiting up to two seconds.
pub(crate) fn epitaph_of(channel: Channel) -> Option<i32> {
    let client = SyncClient::new(channel);
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        match client.try_next_event::<netstack_fidl::fuchsia_net_interfaces_admin::ControlEvent>() {
            Err(ClientError::PeerClosed { epitaph }) => return epitaph,
            Err(_) => return None,
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    None
}

pub(crate) fn v4_subnet(last: u8, prefix_len: u8) -> Subnet {
    Subnet { addr: IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, last] }), prefix_len }
}

#[test]
fn a_watcher_sees_existing_then_idle_and_two_watchers_see_the_same_changes() {
    with_admin("watchers", |h| {
        let state = h.connect(Service::InterfacesState);
        let (a, b) = (interfaces_watcher(&state), interfaces_watcher(&state));
        let existing_a = existing(&a);
        let existing_b = existing(&b);
        assert_eq!(existing_a, existing_b);
        let names: Vec<_> = existing_a.iter().map(|p| p.name.clone().unwrap()).collect();
        assert_eq!(names, ["mem0", "lo"]);
        let mem0 = &existing_a[0];
        assert_eq!(mem0.online, Some(true));
        assert_eq!(
            mem0.port_class,
            Some(netstack_fidl::fuchsia_net_interfaces::PortClass::Device(
                netstack_fidl::fuchsia_hardware_network::PortClass::Ethernet
            ))
        );
        let addrs = mem0.addresses.as_ref().unwrap();
        assert!(addrs.iter().any(|a| a.addr == Some(v4_subnet(1, 24))
            && a.assignment_state == Some(AddressAssignmentState::Assigned)
            && a.valid_until == Some(zx::TIME_INFINITE)));
        // The IPv6 address passes DAD: both watchers see the same Changed events, with
        // only the addresses in them.
        let passed = |e: &Event| {
            matches!(e, Event::Changed(p) if p.addresses.as_ref().is_some_and(|a| a.iter().all(|a|
                a.assignment_state == Some(AddressAssignmentState::Assigned))))
        };
        let from_a = next_matching(&a, passed);
        let from_b = next_matching(&b, passed);
        assert_eq!(from_a, from_b);
        let Event::Changed(changed) = from_a else { unreachable!() };
        assert_eq!(changed.id, mem0.id);
        assert_eq!((changed.online, changed.name.as_ref()), (None, None), "only what changed");
    });
}

#[test]
fn a_second_concurrent_watch_closes_the_watcher_only() {
    with_admin("conflict", |h| {
        let state = h.connect(Service::InterfacesState);
        let w = interfaces_watcher(&state);
        existing(&w);
        let channel = w.into_channel();
        // Nothing changes on loopback-only... two Watches hang; the second breaks the rules.
        write_request::<watcher::Watch>(&channel, 1, ());
        write_request::<watcher::Watch>(&channel, 2, ());
        assert_eq!(epitaph_of(channel), Some(zx::ERR_BAD_STATE));
        // The State connection still works.
        let again = interfaces_watcher(&state);
        assert!(!existing(&again).is_empty());
    });
}

#[test]
fn a_malformed_message_closes_that_channel_only() {
    with_admin("malformed", |h| {
        let state = h.connect(Service::InterfacesState);
        let other = h.connect(Service::InterfacesState);
        let bad = state.into_channel();
        let mut message = MessageBuf::new();
        message.bytes.extend_from_slice(&[1, 2, 3]);
        bad.write(&message).expect("write");
        assert_eq!(epitaph_of(bad), Some(zx::ERR_INVALID_ARGS));
        // An unknown ordinal on another connection: NOT_SUPPORTED.
        let unknown = h.connect(Service::NetstackAdmin).into_channel();
        write_request::<watcher::Watch>(&unknown, 5, ());
        assert_eq!(epitaph_of(unknown), Some(zx::ERR_NOT_SUPPORTED));
        let w = interfaces_watcher(&other);
        assert_eq!(existing(&w).len(), 2);
    });
}

#[test]
fn inspect_get_content_returns_sealed_json() {
    use netstack_fidl::fuchsia_inspect::tree;
    with_admin("inspect", |h| {
        let tree = h.connect(Service::InspectTree);
        let content = tree.call::<tree::GetContent>(()).expect("GetContent");
        let buffer = content.buffer.expect("buffer");
        let mut json = vec![0u8; buffer.size as usize];
        rustix::io::pread(&buffer.vmo, &mut json, 0).expect("read");
        let tree: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        assert!(tree.get("Stack").is_some(), "{tree}");
        let seals = rustix::fs::fcntl_get_seals(&buffer.vmo).expect("seals");
        assert!(seals.contains(rustix::fs::SealFlags::WRITE), "read-only: {seals:?}");
        assert!(rustix::io::pwrite(&buffer.vmo, b"x", 0).is_err(), "sealed against writes");
    });
}

#[test]
fn a_capture_through_the_admin_protocol_sees_both_directions() {
    use netstack_core::buf::{EmptyBody, Serializer};
    use netstack_core::wire::arp::ArpBuilder;
    use netstack_core::wire::ethernet::EthernetBuilder;
    use netstack_core::wire::EtherType;
    use netstack_fidl::netstack_admin::{interfaces, CaptureOptions, CaptureRecordHeader, LinkType};

    with_admin("capture", |h| {
        let admin = h.connect(Service::NetstackAdmin);
        assert_eq!(admin.call::<interfaces::GetMtu>(1).expect("GetMtu"), Ok(1500));
        assert_eq!(admin.call::<interfaces::GetMtu>(99).expect("GetMtu"), Err(zx::ERR_NOT_FOUND));
        let loopback = admin.call::<interfaces::StartCapture>((2, CaptureOptions::default())).expect("call");
        assert_eq!(loopback.err(), Some(zx::ERR_NOT_SUPPORTED));
        let (records, link) = admin
            .call::<interfaces::StartCapture>((1, CaptureOptions { snaplen: Some(64) }))
            .expect("call")
            .expect("StartCapture");
        assert_eq!(link, LinkType::Ethernet);
        let peer_mac = netstack_core::addr::Mac::new([2, 0, 0, 0, 0, 9]);
        let v4 = |s: &str| s.parse::<netstack_core::addr::Ipv4Addr>().unwrap();
        let request = EmptyBody
            .encapsulate(ArpBuilder::request(peer_mac, v4("192.0.2.9"), v4("192.0.2.1")))
            .encapsulate(EthernetBuilder::new(peer_mac, netstack_core::addr::Mac::BROADCAST, EtherType::ARP))
            .serialize_vec()
            .expect("arp request");
        h.peer.inject(request.body());
        let mut seen = [false; 2];
        let mut buf = vec![0u8; 2048];
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while seen != [true, true] && std::time::Instant::now() < deadline {
            match rustix::net::recv(&records, &mut buf, rustix::net::RecvFlags::DONTWAIT) {
                Ok((n, _)) => {
                    let (header, frame) = CaptureRecordHeader::parse(&buf[..n]).expect("record");
                    assert!(frame.len() <= 64, "snaplen");
                    seen[header.direction as usize] = true;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        assert_eq!(seen, [true, true], "a received and a sent frame");
    });
}

/// A `Control` of interface `id` through `fuchsia.net.root/Interfaces`.
fn control_of(h: &Harness, id: u64) -> SyncClient {
    use netstack_fidl::fuchsia_net_root::interfaces;
    let root = h.connect(Service::RootInterfaces);
    let (ours, theirs) = Channel::pair().expect("pair");
    root.send::<interfaces::GetAdmin>((id, theirs)).expect("GetAdmin");
    SyncClient::new(ours)
}

/// Whether the watcher reports `subnet` on interface 1, after the next change to its addresses.
fn addresses_change(watcher: &SyncClient) -> Vec<Subnet> {
    let event = next_matching(watcher, |e| matches!(e, Event::Changed(p) if p.addresses.is_some()));
    let Event::Changed(p) = event else { unreachable!() };
    p.addresses.unwrap().into_iter().filter_map(|a| a.addr).collect()
}

#[test]
fn an_address_lives_as_long_as_its_provider_unless_detached() {
    use netstack_fidl::fuchsia_net_interfaces_admin::{
        address_state_provider, control, AddressParameters, AddressStateProviderEvent,
    };
    with_admin("address", |h| {
        let state = h.connect(Service::InterfacesState);
        let w = interfaces_watcher(&state);
        existing(&w);
        let control = control_of(&h, 1);
        assert_eq!(control.call::<control::GetId>(()).expect("GetId"), 1);
        let add = |last: u8| {
            let (ours, theirs) = Channel::pair().expect("pair");
            control
                .send::<control::AddAddress>((v4_subnet(last, 24), AddressParameters::default(), theirs))
                .expect("AddAddress");
            let provider = SyncClient::new(ours);
            assert!(matches!(
                provider.next_event::<AddressStateProviderEvent>().expect("event"),
                AddressStateProviderEvent::OnAddressAdded {}
            ));
            provider
        };
        let kept = add(10);
        assert!(addresses_change(&w).contains(&v4_subnet(10, 24)));
        let state_now = kept.call::<address_state_provider::WatchAddressAssignmentState>(()).expect("watch");
        assert_eq!(state_now, AddressAssignmentState::Assigned);
        kept.send::<address_state_provider::Detach>(()).expect("Detach");
        let dropped = add(11);
        assert!(addresses_change(&w).contains(&v4_subnet(11, 24)));
        drop(dropped);
        let after = addresses_change(&w);
        assert!(!after.contains(&v4_subnet(11, 24)), "gone with its provider");
        drop(kept);
        // Detached: still there once its provider closed; RemoveAddress takes it away.
        let removed = control.call::<control::RemoveAddress>(v4_subnet(10, 24)).expect("call");
        assert_eq!(removed, Ok(true));
        assert!(!addresses_change(&w).contains(&v4_subnet(10, 24)));
        // Adding an address twice: the second provider hears why at once.
        let _first = add(12);
        let (ours, theirs) = Channel::pair().expect("pair");
        control
            .send::<control::AddAddress>((v4_subnet(12, 24), AddressParameters::default(), theirs))
            .unwrap();
        let second = SyncClient::new(ours);
        assert!(matches!(
            second.next_event::<AddressStateProviderEvent>().expect("event"),
            AddressStateProviderEvent::OnAddressRemoved {
                error: netstack_fidl::fuchsia_net_interfaces_admin::AddressRemovalReason::AlreadyAssigned
            }
        ));
    });
}

#[test]
fn enable_and_disable_show_in_online() {
    use netstack_fidl::fuchsia_net_interfaces_admin::control;
    with_admin("online", |h| {
        let state = h.connect(Service::InterfacesState);
        let w = interfaces_watcher(&state);
        existing(&w);
        let control = control_of(&h, 1);
        assert_eq!(control.call::<control::Disable>(()).expect("call"), Ok(true));
        assert_eq!(control.call::<control::Disable>(()).expect("call"), Ok(false), "no change");
        let offline = next_matching(&w, |e| matches!(e, Event::Changed(p) if p.online.is_some()));
        assert!(matches!(offline, Event::Changed(Properties { online: Some(false), .. })));
        assert_eq!(control.call::<control::Enable>(()).expect("call"), Ok(true));
        let online = next_matching(&w, |e| matches!(e, Event::Changed(p) if p.online.is_some()));
        assert!(matches!(online, Event::Changed(Properties { online: Some(true), .. })));
        // Only run-time interfaces can be removed.
        assert!(control.call::<control::Remove>(()).expect("call").is_err());
        // An unknown interface's Control closes at once.
        assert_eq!(epitaph_of(control_of(&h, 77).into_channel()), Some(zx::ERR_NOT_FOUND));
    });
}

#[test]
fn routes_added_through_the_global_set_are_watched_and_removable() {
    use netstack_fidl::fuchsia_net::{Ipv4AddressWithPrefix, Ipv6Address, Ipv6AddressWithPrefix};
    use netstack_fidl::fuchsia_net_root::{routes_v4, routes_v6};
    use netstack_fidl::fuchsia_net_routes::*;
    use netstack_fidl::fuchsia_net_routes_admin::{route_set_v4, route_set_v6};
    with_admin("routes", |h| {
        let watch_v4 = |state: &SyncClient| {
            let (ours, theirs) = Channel::pair().unwrap();
            state.send::<state_v4::GetWatcherV4>((theirs, WatcherOptionsV4::default())).unwrap();
            SyncClient::new(ours)
        };
        let watch_v6 = |state: &SyncClient| {
            let (ours, theirs) = Channel::pair().unwrap();
            state.send::<state_v6::GetWatcherV6>((theirs, WatcherOptionsV6::default())).unwrap();
            SyncClient::new(ours)
        };
        let w4 = watch_v4(&h.connect(Service::RoutesStateV4));
        let w6 = watch_v6(&h.connect(Service::RoutesStateV6));
        let existing4 = w4.call::<watcher_v4::Watch>(()).unwrap();
        assert!(matches!(existing4.last(), Some(EventV4::Idle(_))), "{existing4:?}");
        assert!(
            existing4.iter().any(|e| matches!(e, EventV4::Existing(r)
            if r.route.as_ref().unwrap().destination.prefix_len == 24)),
            "the subnet route of 192.0.2.1/24"
        );
        let existing6 = w6.call::<watcher_v6::Watch>(()).unwrap();
        assert!(matches!(existing6.last(), Some(EventV6::Idle(_))));

        let (set4, theirs) = Channel::pair().unwrap();
        h.connect(Service::RootRoutesV4).send::<routes_v4::GlobalRouteSet>(theirs).unwrap();
        let set4 = SyncClient::new(set4);
        let properties = || SpecifiedRouteProperties { metric: Some(SpecifiedMetric::ExplicitMetric(7)) };
        let route4 = RouteV4 {
            destination: Ipv4AddressWithPrefix {
                addr: Ipv4Address { addr: [198, 51, 100, 0] },
                prefix_len: 24,
            },
            action: RouteActionV4::Forward(RouteTargetV4 {
                outbound_interface: 1,
                next_hop: Some(Box::new(Ipv4Address { addr: [192, 0, 2, 254] })),
            }),
            properties: RoutePropertiesV4 { specified_properties: Some(properties()) },
        };
        assert_eq!(set4.call::<route_set_v4::AddRoute>(route4.clone()).unwrap(), Ok(true));
        assert_eq!(set4.call::<route_set_v4::AddRoute>(route4.clone()).unwrap(), Ok(false), "already there");
        let added = w4.call::<watcher_v4::Watch>(()).unwrap();
        assert!(matches!(&added[..], [EventV4::Added(r)] if r.route.as_ref() == Some(&route4)), "{added:?}");

        let (set6, theirs) = Channel::pair().unwrap();
        h.connect(Service::RootRoutesV6).send::<routes_v6::GlobalRouteSet>(theirs).unwrap();
        let set6 = SyncClient::new(set6);
        let mut dest = [0u8; 16];
        dest[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        dest[5] = 1;
        let route6 = RouteV6 {
            destination: Ipv6AddressWithPrefix { addr: Ipv6Address { addr: dest }, prefix_len: 64 },
            action: RouteActionV6::Forward(RouteTargetV6 { outbound_interface: 1, next_hop: None }),
            properties: RoutePropertiesV6 { specified_properties: Some(properties()) },
        };
        assert_eq!(set6.call::<route_set_v6::AddRoute>(route6.clone()).unwrap(), Ok(true));
        let added = w6.call::<watcher_v6::Watch>(()).unwrap();
        assert!(matches!(&added[..], [EventV6::Added(r)] if r.route.as_ref() == Some(&route6)), "{added:?}");
        // The route outlives its route set.
        drop(set6);
        let w6b = watch_v6(&h.connect(Service::RoutesStateV6));
        let again = w6b.call::<watcher_v6::Watch>(()).unwrap();
        assert!(again.iter().any(|e| matches!(e, EventV6::Existing(r) if r.route.as_ref() == Some(&route6))));

        assert_eq!(set4.call::<route_set_v4::RemoveRoute>(route4.clone()).unwrap(), Ok(true));
        assert_eq!(set4.call::<route_set_v4::RemoveRoute>(route4.clone()).unwrap(), Ok(false));
        let removed = w4.call::<watcher_v4::Watch>(()).unwrap();
        assert!(matches!(&removed[..], [EventV4::Removed(r)] if r.route.as_ref() == Some(&route4)));
        // Bad input is an error, not a crash.
        let mut bad = route4.clone();
        bad.destination.addr.addr[3] = 1;
        assert_eq!(
            set4.call::<route_set_v4::AddRoute>(bad).unwrap(),
            Err(netstack_fidl::fuchsia_net_routes_admin::RouteSetError::InvalidDestinationSubnet)
        );
    });
}

#[test]
fn a_static_neighbor_is_listed_then_removed_and_flushed() {
    use netstack_fidl::fuchsia_net::{IpVersion, MacAddress};
    use netstack_fidl::fuchsia_net_neighbor::*;
    with_admin("neighbor", |h| {
        let (ours, theirs) = Channel::pair().unwrap();
        h.connect(Service::NeighborView)
            .send::<view::OpenEntryIterator>((theirs, EntryIteratorOptions::default()))
            .unwrap();
        let it = SyncClient::new(ours);
        let first = it.call::<entry_iterator::GetNext>(()).unwrap();
        assert!(matches!(first.last(), Some(EntryIteratorItem::Idle(_))), "{first:?}");
        let controller = h.connect(Service::NeighborController);
        let ip = IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 7] });
        let mac = MacAddress { octets: [2, 0, 0, 0, 0, 7] };
        assert_eq!(controller.call::<controller::AddEntry>((1, ip, mac)).unwrap(), Ok(()));
        let added = it.call::<entry_iterator::GetNext>(()).unwrap();
        assert!(
            matches!(&added[..], [EntryIteratorItem::Added(e)] if e.neighbor == Some(ip)
                && e.state == Some(EntryState::Static) && e.mac == Some(mac) && e.interface == Some(1)),
            "{added:?}"
        );
        assert_eq!(controller.call::<controller::RemoveEntry>((1, ip)).unwrap(), Ok(()));
        let removed = it.call::<entry_iterator::GetNext>(()).unwrap();
        assert!(matches!(&removed[..], [EntryIteratorItem::Removed(e)] if e.neighbor == Some(ip)));
        assert_eq!(controller.call::<controller::RemoveEntry>((1, ip)).unwrap(), Err(zx::ERR_NOT_FOUND));
        assert_eq!(controller.call::<controller::AddEntry>((1, ip, mac)).unwrap(), Ok(()));
        it.call::<entry_iterator::GetNext>(()).unwrap();
        assert_eq!(controller.call::<controller::ClearEntries>((1, IpVersion::V4)).unwrap(), Ok(()));
        let flushed = it.call::<entry_iterator::GetNext>(()).unwrap();
        assert!(flushed.iter().any(|i| matches!(i, EntryIteratorItem::Removed(e) if e.neighbor == Some(ip))));
        assert_eq!(
            controller.call::<controller::AddEntry>((9, ip, mac)).unwrap(),
            Err(zx::ERR_NOT_FOUND),
            "no interface 9"
        );
    });
}
