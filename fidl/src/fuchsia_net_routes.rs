//! Bindings for `fidl/sdk/fuchsia.net.routes/routes.fidl`: watching the routing tables.
//!
//! [`state_v4`] ([`StateV4Request`]) hands out a [`watcher_v4`] ([`WatcherV4Request`]), whose
//! hanging get `Watch` returns a batch of [`EventV4`]s: `Existing` for each route, `Idle`,
//! then `Added` / `Removed`; the same for IPv6. The SDK bounds a batch at [`MAX_EVENTS`], but
//! that many full-size events exceed the 64 KiB message limit, so the netstack sends at most
//! [`MAX_REPLY_EVENTS`] per reply (batch boundaries carry no meaning).
//!
//! Differences from the SDK: the flexible unions [`RouteActionV4`], [`EventV4`],
//! [`TableInterest`] (and their V6 twins) decode strictly: an unknown variant is an error.
//! `State.Resolve` and the rule watchers are not declared.

use crate::channel::Channel;
use crate::fuchsia_net::{
    InterfaceId, Ipv4Address, Ipv4AddressWithPrefix, Ipv6Address, Ipv6AddressWithPrefix, RouteMetric,
};

/// The name of the StateV4 protocol in the svc dir.
pub const STATE_V4_PROTOCOL_NAME: &str = "fuchsia.net.routes.StateV4";
/// The name of the StateV6 protocol in the svc dir.
pub const STATE_V6_PROTOCOL_NAME: &str = "fuchsia.net.routes.StateV6";

/// Identifies a route table. The netstack has one, the main table.
pub type TableId = u32;

/// The most events one `Watch` reply may hold, as the SDK declares it.
pub const MAX_EVENTS: usize = 512;

/// The most events the netstack puts in one `Watch` reply: that many of the largest IPv4 or
/// IPv6 events (192 and 216 bytes) fit in a message.
pub const MAX_REPLY_EVENTS: usize = 256;

crate::fidl_struct! {
    /// The empty struct.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Empty {}
}

crate::fidl_union! {
    /// How a route's metric is chosen.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SpecifiedMetric {
        /// This metric.
        1 => ExplicitMetric(RouteMetric),
        /// The outbound interface's metric, following its changes.
        2 => InheritedFromInterface(Empty),
    }
}

crate::fidl_table! {
    /// What was asked of a route when it was added.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SpecifiedRouteProperties {
        1 => pub metric: SpecifiedMetric,
    }
}

crate::fidl_table! {
    /// A route's properties once installed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EffectiveRouteProperties {
        1 => pub metric: RouteMetric,
    }
}

crate::fidl_union! {
    /// Which tables a watcher reports (all when absent).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TableInterest {
        /// Only this table.
        1 => Only(TableId),
        /// The main table.
        2 => Main(Empty),
        /// Every table.
        3 => All(Empty),
    }
}

crate::fidl_struct! {
    /// Where IPv4 packets matching a route go.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct RouteTargetV4 {
        /// The outbound interface.
        pub outbound_interface: InterfaceId,
        /// The gateway; `None` for an on-link destination.
        pub next_hop: Option<Box<Ipv4Address>>,
    }
}

crate::fidl_union! {
    /// What happens to IPv4 packets matching a route.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum RouteActionV4 {
        1 => Forward(RouteTargetV4),
    }
}

crate::fidl_table! {
    /// Properties of an IPv4 route.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RoutePropertiesV4 {
        1 => pub specified_properties: SpecifiedRouteProperties,
    }
}

crate::fidl_struct! {
    /// An IPv4 route.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RouteV4 {
        /// The destination subnet (host bits zero).
        pub destination: Ipv4AddressWithPrefix,
        /// What to do with matching packets.
        pub action: RouteActionV4,
        /// Its properties (the metric).
        pub properties: RoutePropertiesV4,
    }
}

crate::fidl_table! {
    /// An IPv4 route in a table.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct InstalledRouteV4 {
        1 => pub route: RouteV4,
        2 => pub effective_properties: EffectiveRouteProperties,
        3 => pub table_id: TableId,
    }
}

crate::fidl_union! {
    /// One IPv4 route change.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum EventV4 {
        /// A route that existed when the watcher was created.
        1 => Existing(InstalledRouteV4),
        /// All `Existing` events have been sent.
        2 => Idle(Empty),
        /// A route added since.
        3 => Added(InstalledRouteV4),
        /// A route removed since.
        4 => Removed(InstalledRouteV4),
    }
}

crate::fidl_table! {
    /// How an IPv4 route watcher behaves.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WatcherOptionsV4 {
        1 => pub table_interest: TableInterest,
    }
}

crate::fidl_struct! {
    /// Where IPv6 packets matching a route go.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct RouteTargetV6 {
        /// The outbound interface.
        pub outbound_interface: InterfaceId,
        /// The gateway; `None` for an on-link destination.
        pub next_hop: Option<Box<Ipv6Address>>,
    }
}

crate::fidl_union! {
    /// What happens to IPv6 packets matching a route.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum RouteActionV6 {
        1 => Forward(RouteTargetV6),
    }
}

crate::fidl_table! {
    /// Properties of an IPv6 route.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RoutePropertiesV6 {
        1 => pub specified_properties: SpecifiedRouteProperties,
    }
}

crate::fidl_struct! {
    /// An IPv6 route.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RouteV6 {
        /// The destination subnet (host bits zero).
        pub destination: Ipv6AddressWithPrefix,
        /// What to do with matching packets.
        pub action: RouteActionV6,
        /// Its properties (the metric).
        pub properties: RoutePropertiesV6,
    }
}

crate::fidl_table! {
    /// An IPv6 route in a table.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct InstalledRouteV6 {
        1 => pub route: RouteV6,
        2 => pub effective_properties: EffectiveRouteProperties,
        3 => pub table_id: TableId,
    }
}

crate::fidl_union! {
    /// One IPv6 route change.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum EventV6 {
        /// A route that existed when the watcher was created.
        1 => Existing(InstalledRouteV6),
        /// All `Existing` events have been sent.
        2 => Idle(Empty),
        /// A route added since.
        3 => Added(InstalledRouteV6),
        /// A route removed since.
        4 => Removed(InstalledRouteV6),
    }
}

crate::fidl_table! {
    /// How an IPv6 route watcher behaves.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WatcherOptionsV6 {
        1 => pub table_interest: TableInterest,
    }
}

fidl_protocol! {
    /// `fuchsia.net.routes/StateV4`.
    pub mod state_v4 = "fuchsia.net.routes/StateV4";
    /// A request of `StateV4`.
    #[derive(Debug)]
    request StateV4Request {
        compose {}
        import {}
        methods {
            /// Serves a [`watcher_v4`] on `watcher` (one-way).
            GetWatcherV4(watcher: Channel, options: WatcherOptionsV4);
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.routes/WatcherV4`.
    pub mod watcher_v4 = "fuchsia.net.routes/WatcherV4";
    /// A request of `WatcherV4`.
    #[derive(Debug)]
    request WatcherV4Request {
        compose {}
        import {}
        methods {
            /// Hanging get: the next batch of events (1 to [`MAX_EVENTS`]).
            Watch() -> Vec<EventV4>;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.routes/StateV6`.
    pub mod state_v6 = "fuchsia.net.routes/StateV6";
    /// A request of `StateV6`.
    #[derive(Debug)]
    request StateV6Request {
        compose {}
        import {}
        methods {
            /// Serves a [`watcher_v6`] on `watcher` (one-way).
            GetWatcherV6(watcher: Channel, options: WatcherOptionsV6);
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.routes/WatcherV6`.
    pub mod watcher_v6 = "fuchsia.net.routes/WatcherV6";
    /// A request of `WatcherV6`.
    #[derive(Debug)]
    request WatcherV6Request {
        compose {}
        import {}
        methods {
            /// Hanging get: the next batch of events (1 to [`MAX_EVENTS`]).
            Watch() -> Vec<EventV6>;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::message::{decode_body, decode_header, encode_message, TransactionHeader};
    use crate::wire::EncodeError;
    use crate::Method;

    fn default_route_v4() -> InstalledRouteV4 {
        InstalledRouteV4 {
            route: Some(RouteV4 {
                destination: Ipv4AddressWithPrefix { addr: Ipv4Address { addr: [0; 4] }, prefix_len: 0 },
                action: RouteActionV4::Forward(RouteTargetV4 {
                    outbound_interface: 2,
                    next_hop: Some(Box::new(Ipv4Address { addr: [192, 0, 2, 254] })),
                }),
                properties: RoutePropertiesV4 {
                    specified_properties: Some(SpecifiedRouteProperties {
                        metric: Some(SpecifiedMetric::InheritedFromInterface(Empty {})),
                    }),
                },
            }),
            effective_properties: Some(EffectiveRouteProperties { metric: Some(100) }),
            table_id: Some(0),
        }
    }

    fn route_v6(last: u8) -> InstalledRouteV6 {
        let mut addr = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        addr[7] = last;
        InstalledRouteV6 {
            route: Some(RouteV6 {
                destination: Ipv6AddressWithPrefix { addr: Ipv6Address { addr }, prefix_len: 64 },
                action: RouteActionV6::Forward(RouteTargetV6 {
                    outbound_interface: 3,
                    next_hop: Some(Box::new(Ipv6Address {
                        addr: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                    })),
                }),
                properties: RoutePropertiesV6 {
                    specified_properties: Some(SpecifiedRouteProperties {
                        metric: Some(SpecifiedMetric::ExplicitMetric(256)),
                    }),
                },
            }),
            effective_properties: Some(EffectiveRouteProperties { metric: Some(256) }),
            table_id: Some(0),
        }
    }

    fn reply_round_trip<M: Method>(response: M::Response) -> M::Response {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(3), response, &mut buf).expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (_, body) = decode_header(bytes).expect("header");
        decode_body::<M::Response>(body, handles).expect("decodes")
    }

    #[test]
    fn event_batches_round_trip() {
        let on_link = InstalledRouteV4 {
            route: Some(RouteV4 {
                destination: Ipv4AddressWithPrefix {
                    addr: Ipv4Address { addr: [198, 51, 100, 0] },
                    prefix_len: 24,
                },
                action: RouteActionV4::Forward(RouteTargetV4 { outbound_interface: 2, next_hop: None }),
                properties: RoutePropertiesV4::default(),
            }),
            ..InstalledRouteV4::default()
        };
        let events = vec![
            EventV4::Existing(default_route_v4()),
            EventV4::Existing(on_link.clone()),
            EventV4::Idle(Empty {}),
            EventV4::Removed(on_link),
        ];
        assert_eq!(reply_round_trip::<watcher_v4::Watch>(events.clone()), events);
        let events = vec![EventV6::Added(route_v6(1)), EventV6::Idle(Empty {})];
        assert_eq!(reply_round_trip::<watcher_v6::Watch>(events.clone()), events);
    }

    #[test]
    fn max_events_fit_a_message() {
        // The fullest events there are (every optional part present) are 192 (IPv4) and 216
        // (IPv6) bytes: MAX_REPLY_EVENTS of them fit in a message, MAX_EVENTS do not.
        let mut buf = MessageBuf::new();
        let v4 = vec![EventV4::Existing(default_route_v4()); MAX_REPLY_EVENTS];
        encode_message(TransactionHeader::for_method::<watcher_v4::Watch>(1), v4, &mut buf).expect("fits");
        let v6: Vec<_> = (0..MAX_REPLY_EVENTS).map(|i| EventV6::Existing(route_v6(i as u8))).collect();
        encode_message(TransactionHeader::for_method::<watcher_v6::Watch>(1), v6, &mut buf).expect("fits");
        let v6: Vec<_> = (0..MAX_EVENTS).map(|i| EventV6::Existing(route_v6(i as u8))).collect();
        assert_eq!(
            encode_message(TransactionHeader::for_method::<watcher_v6::Watch>(1), v6, &mut buf),
            Err(EncodeError::MessageTooLarge)
        );
    }

    #[test]
    fn get_watcher_round_trips() {
        let (_ours, theirs) = Channel::pair().expect("pair");
        let options = WatcherOptionsV4 { table_interest: Some(TableInterest::Main(Empty {})) };
        let mut buf = MessageBuf::new();
        encode_message(
            TransactionHeader::for_method::<state_v4::GetWatcherV4>(0),
            (theirs, options.clone()),
            &mut buf,
        )
        .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        assert!(matches!(
            StateV4Request::decode(&header, body, handles),
            Ok(StateV4Request::GetWatcherV4 { options: o, .. }) if o == options
        ));
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_batches_never_panics(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        ) {
            let _ = decode_body::<Vec<EventV4>>(&body, &mut Vec::new());
            let _ = decode_body::<Vec<EventV6>>(&body, &mut Vec::new());
        }
    }
}
