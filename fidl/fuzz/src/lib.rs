//! What the `requests` fuzz target checks, and the seed corpus it starts from.
//!
//! An input is one control byte and a message. The control byte's low two bits say how many
//! handles (descriptors of `/dev/null`) arrive beside the message, as `SCM_RIGHTS` would
//! bring them. The message goes through what the socket server does with a request
//! (`decode_header`, then the request enum of the channel's protocol) for every protocol the
//! netstack serves, and through the method's own payload decoder. The properties:
//!
//! * nothing panics, and no handle leaks (a leak would exhaust descriptors and fail the open);
//! * a protocol's request enum knows exactly the ordinals of its methods and of the protocols
//!   it composes, and decodes a message exactly when its transaction id fits the method
//!   (FIDL wire format: zero for one-way, non-zero for two-way) and the payload decodes;
//! * whatever decodes re-encodes to the very same bytes and the same number of handles: the
//!   decoder accepts only the canonical encoding (zeroed padding, inlined small envelope
//!   values, exact lengths and handle counts), so no two encodings mean the same request.
//!   Requests that carry tables (the admin protocols) may hold fields the binding does not
//!   declare, which decoding skips: for those the re-encoding may be shorter, but it must
//!   decode again and re-encode to itself.

use std::fs::File;
use std::os::fd::OwnedFd;

use netstack_fidl::channel::{Channel, MessageBuf};
use netstack_fidl::fuchsia_inspect::{tree, TreeRequest};
use netstack_fidl::fuchsia_net::{IpAddress, IpVersion, Ipv4AddressWithPrefix, MacAddress, Subnet};
use netstack_fidl::fuchsia_net::{
    Ipv4Address, Ipv4SocketAddress, Ipv6Address, Ipv6SocketAddress, MarkDomain, SocketAddress,
};
use netstack_fidl::fuchsia_net_interfaces::{
    state, watcher, AddressPropertiesInterest, StateRequest, WatcherOptions, WatcherRequest,
};
use netstack_fidl::fuchsia_net_interfaces_admin::{
    address_state_provider, control, AddressParameters, AddressProperties, AddressStateProviderRequest,
    Configuration, ControlRequest, Ipv4Configuration,
};
use netstack_fidl::fuchsia_net_neighbor::{
    controller, entry_iterator, view, ControllerRequest, EntryIteratorOptions, EntryIteratorRequest,
    ViewRequest,
};
use netstack_fidl::fuchsia_net_root::{
    interfaces as root_interfaces, routes_v4, routes_v6, InterfacesRequest as RootInterfacesRequest,
    RoutesV4Request, RoutesV6Request,
};
use netstack_fidl::fuchsia_net_routes::{
    state_v4, state_v6, watcher_v4, watcher_v6, RouteActionV4, RoutePropertiesV4, RouteTargetV4, RouteV4,
    SpecifiedMetric, SpecifiedRouteProperties, StateV4Request, StateV6Request, TableInterest,
    WatcherOptionsV4, WatcherV4Request, WatcherV6Request,
};
use netstack_fidl::fuchsia_net_routes_admin::{
    route_set_v4, route_set_v6, RouteSetV4Request, RouteSetV6Request,
};
use netstack_fidl::fuchsia_posix_socket::{
    base_datagram_socket, base_network_socket, base_socket, datagram_socket, provider, stream_socket,
    unknown, BaseNetworkSocketRequest, BaseSocketRequest, DatagramSocketProtocol, DatagramSocketRequest,
    Domain, Empty, IpMulticastMembership, Ipv6MulticastMembership, OptionalUint32, OptionalUint8,
    ProviderRequest, ShutdownMode, StreamSocketProtocol, StreamSocketRequest, TcpCongestionControl,
    TimestampOption,
};
use netstack_fidl::fuchsia_posix_socket_raw::{
    provider as raw_provider, socket as raw_socket, Icmpv6Filter, Ipv6ChecksumConfiguration,
    ProtocolAssociation, ProviderRequest as RawProviderRequest, SocketRequest as RawSocketRequest,
};
use netstack_fidl::message::{decode_body, decode_header, encode_message, TransactionHeader, HEADER_SIZE};
use netstack_fidl::netstack_admin::{
    interfaces as admin_interfaces, CaptureOptions, InterfaceKind, InterfaceSpec,
    InterfacesRequest as AdminInterfacesRequest,
};
use netstack_fidl::wire::DecodeError;
use netstack_fidl::Method;

/// Handles an input can carry (the control byte's low two bits).
const HANDLE_BITS: u8 = 0b11;

/// One method, its type erased: what the checks need to know of it.
#[derive(Debug)]
pub struct MethodEntry {
    /// `library/Protocol.Method`.
    pub name: &'static str,
    /// Its ordinal.
    pub ordinal: u64,
    /// One-way (transaction id 0) or two-way.
    pub one_way: bool,
    /// Decodes a request body of the method with this many handles and, when it decodes,
    /// checks that it re-encodes to the message; returns whether it decoded.
    round_trip: fn(&[u8], TransactionHeader, &[u8], usize) -> bool,
}

impl MethodEntry {
    const fn of<M: Method>() -> Self {
        MethodEntry { name: M::NAME, ordinal: M::ORDINAL, one_way: M::ONE_WAY, round_trip: round_trip::<M> }
    }

    /// A method whose request may carry table fields the binding skips.
    const fn with_tables<M: Method>() -> Self {
        MethodEntry {
            name: M::NAME,
            ordinal: M::ORDINAL,
            one_way: M::ONE_WAY,
            round_trip: round_trip_tables::<M>,
        }
    }
}

/// `[MethodEntry; N]` for methods of one module (`tables:` for requests with tables).
macro_rules! methods {
    (tables $module:ident: $($method:ident),* $(,)?) => {
        &[$(MethodEntry::with_tables::<$module::$method>()),*]
    };
    ($module:ident: $($method:ident),* $(,)?) => {
        &[$(MethodEntry::of::<$module::$method>()),*]
    };
}

/// `fuchsia.unknown` methods every socket composes.
static UNKNOWN: &[MethodEntry] = methods!(unknown: Clone2, Close, Query);

/// `fuchsia.posix.socket/BaseSocket`.
static BASE_SOCKET: &[MethodEntry] = methods!(base_socket:
    SetReuseAddress, GetReuseAddress, GetError, SetBroadcast, GetBroadcast, SetSendBuffer,
    GetSendBuffer, SetReceiveBuffer, GetReceiveBuffer, SetKeepAlive, GetKeepAlive,
    SetOutOfBandInline, GetOutOfBandInline, SetNoCheck, GetNoCheck, SetLinger, GetLinger,
    SetReusePort, GetReusePort, GetAcceptConn, SetBindToDevice, GetBindToDevice,
    SetBindToInterfaceIndex, GetBindToInterfaceIndex, SetTimestamp, GetTimestamp, SetMark, GetMark,
);

/// `fuchsia.posix.socket/BaseNetworkSocket`.
static BASE_NETWORK_SOCKET: &[MethodEntry] = methods!(base_network_socket:
    Bind, Connect, Disconnect, GetSockName, GetPeerName, Shutdown, SetIpTypeOfService,
    GetIpTypeOfService, SetIpTtl, GetIpTtl, SetIpPacketInfo, GetIpPacketInfo,
    SetIpReceiveTypeOfService, GetIpReceiveTypeOfService, SetIpReceiveTtl, GetIpReceiveTtl,
    SetIpMulticastInterface, GetIpMulticastInterface, SetIpMulticastTtl, GetIpMulticastTtl,
    SetIpMulticastLoopback, GetIpMulticastLoopback, AddIpMembership, DropIpMembership,
    SetIpTransparent, GetIpTransparent, SetIpReceiveOriginalDestinationAddress,
    GetIpReceiveOriginalDestinationAddress, AddIpv6Membership, DropIpv6Membership,
    SetIpv6MulticastInterface, GetIpv6MulticastInterface, SetIpv6UnicastHops, GetIpv6UnicastHops,
    SetIpv6ReceiveHopLimit, GetIpv6ReceiveHopLimit, SetIpv6MulticastHops, GetIpv6MulticastHops,
    SetIpv6MulticastLoopback, GetIpv6MulticastLoopback, SetIpv6Only, GetIpv6Only,
    SetIpv6ReceiveTrafficClass, GetIpv6ReceiveTrafficClass, SetIpv6TrafficClass,
    GetIpv6TrafficClass, SetIpv6ReceivePacketInfo, GetIpv6ReceivePacketInfo, GetOriginalDestination,
);

/// `fuchsia.posix.socket/BaseDatagramSocket` and `DatagramSocket`.
static DATAGRAM_SOCKET: &[MethodEntry] =
    &[MethodEntry::of::<base_datagram_socket::GetInfo>(), MethodEntry::of::<datagram_socket::Describe>()];

/// `fuchsia.posix.socket/StreamSocket`.
static STREAM_SOCKET: &[MethodEntry] = methods!(stream_socket:
    Describe, Listen, Accept, GetInfo, SetTcpNoDelay, GetTcpNoDelay, SetTcpMaxSegment,
    GetTcpMaxSegment, SetTcpCork, GetTcpCork, SetTcpKeepAliveIdle, GetTcpKeepAliveIdle,
    SetTcpKeepAliveInterval, GetTcpKeepAliveInterval, SetTcpKeepAliveCount, GetTcpKeepAliveCount,
    SetTcpSynCount, GetTcpSynCount, SetTcpLinger, GetTcpLinger, SetTcpDeferAccept,
    GetTcpDeferAccept, SetTcpWindowClamp, GetTcpWindowClamp, GetTcpInfo, SetTcpQuickAck,
    GetTcpQuickAck, SetTcpCongestion, GetTcpCongestion, SetTcpUserTimeout, GetTcpUserTimeout,
);

/// `fuchsia.posix.socket/Provider`.
static PROVIDER: &[MethodEntry] = methods!(provider:
    StreamSocket, DatagramSocket, InterfaceIndexToName, InterfaceNameToIndex, InterfaceNameToFlags,
    GetInterfaceAddresses,
);

/// `fuchsia.posix.socket.raw/Socket`.
static RAW_SOCKET: &[MethodEntry] = methods!(raw_socket:
    Describe, GetInfo, SetIpHeaderIncluded, GetIpHeaderIncluded, SetIcmpv6Filter, GetIcmpv6Filter,
    SetIpv6Checksum, GetIpv6Checksum,
);

/// `fuchsia.posix.socket.raw/Provider`.
static RAW_PROVIDER: &[MethodEntry] = methods!(raw_provider: Socket);

/// `fuchsia.inspect/Tree`.
static TREE: &[MethodEntry] = methods!(tree: GetContent);
/// `netstack.admin/Interfaces`.
static ADMIN_INTERFACES: &[MethodEntry] =
    methods!(tables admin_interfaces: CreateInterface, SetMtu, GetMtu, StartCapture);
/// `fuchsia.net.interfaces/State` and `Watcher`.
static IF_STATE: &[MethodEntry] = methods!(tables state: GetWatcher);
static IF_WATCHER: &[MethodEntry] = methods!(watcher: Watch);
/// `fuchsia.net.interfaces.admin/Control` and `AddressStateProvider`.
static CONTROL: &[MethodEntry] = methods!(tables control:
    AddAddress, RemoveAddress, GetId, SetConfiguration, GetConfiguration, Enable, Disable, Detach, Remove,
);
static ADDRESS_STATE_PROVIDER: &[MethodEntry] = methods!(tables address_state_provider:
    UpdateAddressProperties, WatchAddressAssignmentState, Detach, Remove,
);
/// `fuchsia.net.root/Interfaces`, `RoutesV4`, `RoutesV6`.
static ROOT_INTERFACES: &[MethodEntry] = methods!(root_interfaces: GetAdmin, GetMac);
static ROOT_ROUTES_V4: &[MethodEntry] = methods!(routes_v4: GlobalRouteSet);
static ROOT_ROUTES_V6: &[MethodEntry] = methods!(routes_v6: GlobalRouteSet);
/// `fuchsia.net.routes/StateV4`, `WatcherV4`, `StateV6`, `WatcherV6`.
static ROUTES_STATE_V4: &[MethodEntry] = methods!(tables state_v4: GetWatcherV4);
static ROUTES_WATCHER_V4: &[MethodEntry] = methods!(watcher_v4: Watch);
static ROUTES_STATE_V6: &[MethodEntry] = methods!(tables state_v6: GetWatcherV6);
static ROUTES_WATCHER_V6: &[MethodEntry] = methods!(watcher_v6: Watch);
/// `fuchsia.net.routes.admin/RouteSetV4` and `RouteSetV6`.
static ROUTE_SET_V4: &[MethodEntry] = methods!(tables route_set_v4: AddRoute, RemoveRoute);
static ROUTE_SET_V6: &[MethodEntry] = methods!(tables route_set_v6: AddRoute, RemoveRoute);
/// `fuchsia.net.neighbor/View`, `EntryIterator`, `Controller`.
static NEIGHBOR_VIEW: &[MethodEntry] = methods!(tables view: OpenEntryIterator);
static NEIGHBOR_ITERATOR: &[MethodEntry] = methods!(entry_iterator: GetNext);
static NEIGHBOR_CONTROLLER: &[MethodEntry] = methods!(controller: AddEntry, RemoveEntry, ClearEntries);

/// A request enum's `decode`, its result erased.
type ErasedDecoder = fn(&TransactionHeader, &[u8], &mut Vec<OwnedFd>) -> Result<(), DecodeError>;

/// A protocol the server decodes requests of: its request enum and every method it accepts.
#[derive(Debug)]
pub struct Protocol {
    /// `library/Protocol`.
    pub name: &'static str,
    /// Its methods, composed ones included.
    pub methods: &'static [&'static [MethodEntry]],
    decode: ErasedDecoder,
}

impl Protocol {
    /// The method of this protocol with `ordinal`.
    pub fn method(&self, ordinal: u64) -> Option<&'static MethodEntry> {
        self.methods.iter().flat_map(|list| list.iter()).find(|m| m.ordinal == ordinal)
    }
}

/// A [`Protocol`] entry for request enum `$request`.
macro_rules! protocol {
    ($name:literal, $request:ty, [$($list:ident),*]) => {
        Protocol {
            name: $name,
            methods: &[$($list),*],
            decode: {
                fn decode(h: &TransactionHeader, b: &[u8], fds: &mut Vec<OwnedFd>) -> Result<(), DecodeError> {
                    <$request>::decode(h, b, fds).map(drop)
                }
                decode
            },
        }
    };
}

/// Every protocol the socket server decodes requests of.
pub static PROTOCOLS: &[Protocol] = &[
    protocol!("fuchsia.posix.socket/Provider", ProviderRequest, [PROVIDER]),
    protocol!("fuchsia.posix.socket/BaseSocket", BaseSocketRequest, [UNKNOWN, BASE_SOCKET]),
    protocol!(
        "fuchsia.posix.socket/BaseNetworkSocket",
        BaseNetworkSocketRequest,
        [UNKNOWN, BASE_SOCKET, BASE_NETWORK_SOCKET]
    ),
    protocol!(
        "fuchsia.posix.socket/StreamSocket",
        StreamSocketRequest,
        [UNKNOWN, BASE_SOCKET, BASE_NETWORK_SOCKET, STREAM_SOCKET]
    ),
    protocol!(
        "fuchsia.posix.socket/DatagramSocket",
        DatagramSocketRequest,
        [UNKNOWN, BASE_SOCKET, BASE_NETWORK_SOCKET, DATAGRAM_SOCKET]
    ),
    protocol!("fuchsia.posix.socket.raw/Provider", RawProviderRequest, [RAW_PROVIDER]),
    protocol!(
        "fuchsia.posix.socket.raw/Socket",
        RawSocketRequest,
        [UNKNOWN, BASE_SOCKET, BASE_NETWORK_SOCKET, RAW_SOCKET]
    ),
    protocol!("fuchsia.inspect/Tree", TreeRequest, [TREE]),
    protocol!("netstack.admin/Interfaces", AdminInterfacesRequest, [ADMIN_INTERFACES]),
    protocol!("fuchsia.net.interfaces/State", StateRequest, [IF_STATE]),
    protocol!("fuchsia.net.interfaces/Watcher", WatcherRequest, [IF_WATCHER]),
    protocol!("fuchsia.net.interfaces.admin/Control", ControlRequest, [CONTROL]),
    protocol!(
        "fuchsia.net.interfaces.admin/AddressStateProvider",
        AddressStateProviderRequest,
        [ADDRESS_STATE_PROVIDER]
    ),
    protocol!("fuchsia.net.root/Interfaces", RootInterfacesRequest, [ROOT_INTERFACES]),
    protocol!("fuchsia.net.root/RoutesV4", RoutesV4Request, [ROOT_ROUTES_V4]),
    protocol!("fuchsia.net.root/RoutesV6", RoutesV6Request, [ROOT_ROUTES_V6]),
    protocol!("fuchsia.net.routes/StateV4", StateV4Request, [ROUTES_STATE_V4]),
    protocol!("fuchsia.net.routes/WatcherV4", WatcherV4Request, [ROUTES_WATCHER_V4]),
    protocol!("fuchsia.net.routes/StateV6", StateV6Request, [ROUTES_STATE_V6]),
    protocol!("fuchsia.net.routes/WatcherV6", WatcherV6Request, [ROUTES_WATCHER_V6]),
    protocol!("fuchsia.net.routes.admin/RouteSetV4", RouteSetV4Request, [ROUTE_SET_V4]),
    protocol!("fuchsia.net.routes.admin/RouteSetV6", RouteSetV6Request, [ROUTE_SET_V6]),
    protocol!("fuchsia.net.neighbor/View", ViewRequest, [NEIGHBOR_VIEW]),
    protocol!("fuchsia.net.neighbor/EntryIterator", EntryIteratorRequest, [NEIGHBOR_ITERATOR]),
    protocol!("fuchsia.net.neighbor/Controller", ControllerRequest, [NEIGHBOR_CONTROLLER]),
];

/// Every method list, each once.
static ALL_METHODS: &[&[MethodEntry]] = &[
    UNKNOWN,
    BASE_SOCKET,
    BASE_NETWORK_SOCKET,
    DATAGRAM_SOCKET,
    STREAM_SOCKET,
    PROVIDER,
    RAW_SOCKET,
    RAW_PROVIDER,
    TREE,
    ADMIN_INTERFACES,
    IF_STATE,
    IF_WATCHER,
    CONTROL,
    ADDRESS_STATE_PROVIDER,
    ROOT_INTERFACES,
    ROOT_ROUTES_V4,
    ROOT_ROUTES_V6,
    ROUTES_STATE_V4,
    ROUTES_WATCHER_V4,
    ROUTES_STATE_V6,
    ROUTES_WATCHER_V6,
    ROUTE_SET_V4,
    ROUTE_SET_V6,
    NEIGHBOR_VIEW,
    NEIGHBOR_ITERATOR,
    NEIGHBOR_CONTROLLER,
];

/// Every method of every protocol.
pub fn all_methods() -> impl Iterator<Item = &'static MethodEntry> {
    ALL_METHODS.iter().flat_map(|list| list.iter())
}

/// `count` handles, as the server would receive them.
fn handles(count: usize) -> Vec<OwnedFd> {
    (0..count)
        .map(|_| OwnedFd::from(File::open("/dev/null").expect("a descriptor for a handle (a leak?)")))
        .collect()
}

fn round_trip<M: Method>(message: &[u8], header: TransactionHeader, body: &[u8], count: usize) -> bool {
    let Ok(request) = decode_body::<M::Request>(body, &mut handles(count)) else { return false };
    let mut again = MessageBuf::new();
    if let Err(error) = encode_message(header, request, &mut again) {
        panic!("{}: a decoded request does not encode: {error}", M::NAME);
    }
    assert_eq!(again.bytes, message, "{}: the request re-encodes differently", M::NAME);
    assert_eq!(again.handles.len(), count, "{}: handles went missing or appeared", M::NAME);
    true
}

fn round_trip_tables<M: Method>(
    message: &[u8],
    header: TransactionHeader,
    body: &[u8],
    count: usize,
) -> bool {
    let Ok(request) = decode_body::<M::Request>(body, &mut handles(count)) else { return false };
    let mut again = MessageBuf::new();
    if let Err(error) = encode_message(header, request, &mut again) {
        panic!("{}: a decoded request does not encode: {error}", M::NAME);
    }
    assert!(again.bytes.len() <= message.len(), "{}: the request re-encodes longer", M::NAME);
    assert_eq!(again.handles.len(), count, "{}: handles went missing or appeared", M::NAME);
    if again.bytes != message {
        // Skipped unknown table fields: the shorter encoding must be canonical itself.
        let MessageBuf { bytes, handles } = &mut again;
        let (_, body) = decode_header(bytes).expect("our own header");
        let request = decode_body::<M::Request>(body, handles)
            .unwrap_or_else(|error| panic!("{}: the re-encoded request does not decode: {error}", M::NAME));
        let mut third = MessageBuf::new();
        encode_message(header, request, &mut third).expect("encodes again");
        assert_eq!(third.bytes, again.bytes, "{}: the re-encoding is not stable", M::NAME);
    }
    true
}

/// Checks one fuzz input; see the crate documentation.
pub fn check(input: &[u8]) {
    let Some((&control, message)) = input.split_first() else { return };
    let count = usize::from(control & HANDLE_BITS);
    let Ok((header, body)) = decode_header(message) else { return };
    assert_eq!(body.len(), message.len() - HEADER_SIZE);
    let decodes = all_methods()
        .find(|m| m.ordinal == header.ordinal)
        .map(|m| (m.round_trip)(message, header, body, count));
    for protocol in PROTOCOLS {
        let decoded = (protocol.decode)(&header, body, &mut handles(count));
        match protocol.method(header.ordinal) {
            None => assert!(
                matches!(decoded, Err(DecodeError::UnknownOrdinal(ordinal)) if ordinal == header.ordinal),
                "{} does not declare ordinal {:#x} yet decoded {decoded:?}",
                protocol.name,
                header.ordinal,
            ),
            Some(method) => {
                let txid_fits = (header.txid == 0) == method.one_way;
                assert_eq!(
                    decoded.is_ok(),
                    txid_fits && decodes == Some(true),
                    "{} decoded {} as {decoded:?} (txid {})",
                    protocol.name,
                    method.name,
                    header.txid,
                );
            }
        }
    }
}

/// The input for request `request` of `M`: the control byte (its handle count), then the
/// message with transaction id 1 (0 for one-way methods).
pub fn input<M: Method>(request: M::Request) -> Vec<u8> {
    let mut message = MessageBuf::new();
    let txid = u32::from(!M::ONE_WAY);
    encode_message(TransactionHeader::for_method::<M>(txid), request, &mut message).expect("a seed encodes");
    let count = u8::try_from(message.handles.len()).expect("few handles");
    assert!(count <= HANDLE_BITS, "{}: more handles than an input can carry", M::NAME);
    let mut input = vec![count];
    input.extend_from_slice(&message.bytes);
    input
}

/// The seed corpus: a request of every method without payload, and one or two of many with
/// one, each named after its method.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for method in all_methods() {
        let txid = u32::from(!method.one_way);
        let mut message = MessageBuf::new();
        encode_message(TransactionHeader::new(txid, method.ordinal), (), &mut message)
            .expect("a header encodes");
        let empty = PROTOCOLS.iter().any(|p| {
            p.method(method.ordinal).is_some()
                && (p.decode)(&TransactionHeader::new(txid, method.ordinal), &[], &mut Vec::new()).is_ok()
        });
        if empty {
            let mut input = vec![0];
            input.extend_from_slice(&message.bytes);
            seeds.push((method.name.to_owned(), input));
        }
    }
    let v4 =
        SocketAddress::Ipv4(Ipv4SocketAddress { address: Ipv4Address { addr: [192, 0, 2, 1] }, port: 80 });
    let v6 = SocketAddress::Ipv6(Ipv6SocketAddress {
        address: Ipv6Address { addr: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] },
        port: 443,
        zone_index: 2,
    });
    let channel = || Channel::pair().expect("a channel pair").0;
    let mut add = |name: &str, input: Vec<u8>| seeds.push((name.to_owned(), input));
    add("Clone2", input::<unknown::Clone2>(channel()));
    add("SetReuseAddress", input::<base_socket::SetReuseAddress>(true));
    add("SetSendBuffer", input::<base_socket::SetSendBuffer>(1 << 20));
    add("SetLinger", input::<base_socket::SetLinger>((true, 30)));
    add("SetBindToDevice", input::<base_socket::SetBindToDevice>("eth0".into()));
    add("SetTimestamp", input::<base_socket::SetTimestamp>(TimestampOption::Nanosecond));
    add("SetMark", input::<base_socket::SetMark>((MarkDomain::Mark1, OptionalUint32::Value(7))));
    add("SetMark-unset", input::<base_socket::SetMark>((MarkDomain::Mark2, OptionalUint32::Unset(Empty {}))));
    add("Bind-v4", input::<base_network_socket::Bind>(v4));
    add("Bind-v6", input::<base_network_socket::Bind>(v6));
    add("Connect-v6", input::<base_network_socket::Connect>(v6));
    add("Shutdown", input::<base_network_socket::Shutdown>(ShutdownMode::READ | ShutdownMode::WRITE));
    add("SetIpTtl", input::<base_network_socket::SetIpTtl>(OptionalUint8::Value(64)));
    add(
        "SetIpMulticastInterface",
        input::<base_network_socket::SetIpMulticastInterface>((2, Ipv4Address { addr: [192, 0, 2, 1] })),
    );
    add(
        "AddIpMembership",
        input::<base_network_socket::AddIpMembership>(IpMulticastMembership {
            iface: 1,
            local_addr: Ipv4Address { addr: [192, 0, 2, 1] },
            mcast_addr: Ipv4Address { addr: [224, 0, 0, 251] },
        }),
    );
    add(
        "AddIpv6Membership",
        input::<base_network_socket::AddIpv6Membership>(Ipv6MulticastMembership {
            iface: 1,
            mcast_addr: Ipv6Address { addr: [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb] },
        }),
    );
    add("Listen", input::<stream_socket::Listen>(128));
    add("Accept", input::<stream_socket::Accept>(true));
    add("SetTcpLinger", input::<stream_socket::SetTcpLinger>(OptionalUint32::Value(60)));
    add("SetTcpCongestion", input::<stream_socket::SetTcpCongestion>(TcpCongestionControl::Cubic));
    add("StreamSocket", input::<provider::StreamSocket>((Domain::Ipv4, StreamSocketProtocol::Tcp)));
    add(
        "DatagramSocket",
        input::<provider::DatagramSocket>((Domain::Ipv6, DatagramSocketProtocol::IcmpEcho)),
    );
    add("InterfaceIndexToName", input::<provider::InterfaceIndexToName>(1));
    add("InterfaceNameToIndex", input::<provider::InterfaceNameToIndex>("lo".into()));
    add("RawSocket", input::<raw_provider::Socket>((Domain::Ipv6, ProtocolAssociation::Associated(58))));
    add(
        "RawSocket-unassociated",
        input::<raw_provider::Socket>((Domain::Ipv4, ProtocolAssociation::Unassociated(Empty {}))),
    );
    add(
        "SetIcmpv6Filter",
        input::<raw_socket::SetIcmpv6Filter>(Icmpv6Filter { blocked_types: [u32::MAX, 0, 1, 2, 3, 4, 5, 6] }),
    );
    add("SetIpv6Checksum", input::<raw_socket::SetIpv6Checksum>(Ipv6ChecksumConfiguration::Offset(2)));
    let subnet = Subnet { addr: IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 9] }), prefix_len: 24 };
    add(
        "CreateInterface",
        input::<admin_interfaces::CreateInterface>(InterfaceSpec {
            name: Some("tap0".into()),
            kind: Some(InterfaceKind::Tap),
            mtu: Some(1500),
        }),
    );
    add("SetMtu", input::<admin_interfaces::SetMtu>((2, 9000)));
    add("StartCapture", input::<admin_interfaces::StartCapture>((2, CaptureOptions { snaplen: Some(128) })));
    add(
        "GetWatcher",
        input::<state::GetWatcher>((
            WatcherOptions {
                address_properties_interest: Some(AddressPropertiesInterest::VALID_UNTIL),
                include_non_assigned_addresses: Some(true),
            },
            channel(),
        )),
    );
    add(
        "AddAddress",
        input::<control::AddAddress>((
            subnet,
            AddressParameters {
                initial_properties: Some(AddressProperties {
                    valid_lifetime_end: Some(1_000_000),
                    ..Default::default()
                }),
                add_subnet_route: Some(true),
                ..Default::default()
            },
            channel(),
        )),
    );
    add("RemoveAddress", input::<control::RemoveAddress>(subnet));
    add(
        "SetConfiguration",
        input::<control::SetConfiguration>(Configuration {
            ipv4: Some(Ipv4Configuration { unicast_forwarding: Some(true), ..Default::default() }),
            ..Default::default()
        }),
    );
    add(
        "UpdateAddressProperties",
        input::<address_state_provider::UpdateAddressProperties>(AddressProperties::default()),
    );
    add("GetAdmin", input::<root_interfaces::GetAdmin>((1, channel())));
    add("GetMac", input::<root_interfaces::GetMac>(1));
    add("GlobalRouteSetV4", input::<routes_v4::GlobalRouteSet>(channel()));
    add(
        "GetWatcherV4",
        input::<state_v4::GetWatcherV4>((
            channel(),
            WatcherOptionsV4 { table_interest: Some(TableInterest::Only(0)) },
        )),
    );
    add(
        "AddRouteV4",
        input::<route_set_v4::AddRoute>(RouteV4 {
            destination: Ipv4AddressWithPrefix {
                addr: Ipv4Address { addr: [198, 51, 100, 0] },
                prefix_len: 24,
            },
            action: RouteActionV4::Forward(RouteTargetV4 {
                outbound_interface: 2,
                next_hop: Some(Box::new(Ipv4Address { addr: [192, 0, 2, 254] })),
            }),
            properties: RoutePropertiesV4 {
                specified_properties: Some(SpecifiedRouteProperties {
                    metric: Some(SpecifiedMetric::ExplicitMetric(10)),
                }),
            },
        }),
    );
    add("OpenEntryIterator", input::<view::OpenEntryIterator>((channel(), EntryIteratorOptions {})));
    add(
        "AddEntry",
        input::<controller::AddEntry>((2, subnet.addr, MacAddress { octets: [2, 0, 0, 0, 0, 9] })),
    );
    add("ClearEntries", input::<controller::ClearEntries>((2, IpVersion::V4)));
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ordinals_are_unique() {
        let mut seen = HashSet::new();
        for method in all_methods() {
            assert!(seen.insert(method.ordinal), "{} shares its ordinal", method.name);
        }
    }

    #[test]
    fn every_seed_decodes_for_a_protocol_and_passes_the_checks() {
        let seeds = seeds();
        assert!(seeds.len() > 60, "{} seeds", seeds.len());
        for (name, input) in &seeds {
            check(input);
            let (header, body) = decode_header(&input[1..]).expect("header");
            let decodes = PROTOCOLS
                .iter()
                .any(|p| (p.decode)(&header, body, &mut handles(usize::from(input[0]))).is_ok());
            assert!(decodes, "{name} decodes for no protocol");
        }
    }

    #[test]
    fn malformed_inputs_pass_the_checks() {
        let (_, valid) = seeds().into_iter().find(|(n, _)| n == "Bind-v6").expect("seed");
        check(&[]);
        check(&[0]);
        check(&valid[..valid.len() - 1]);
        let mut extra = valid.clone();
        extra.extend_from_slice(&[0; 8]);
        check(&extra);
        let mut handle = valid.clone();
        handle[0] = 1;
        check(&handle);
        let mut padding = valid;
        *padding.last_mut().expect("bytes") = 1;
        check(&padding);
    }
}
