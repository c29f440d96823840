//! Bindings for `fidl/sdk/fuchsia.net.routes.admin/admin.fidl`: route sets, through which
//! routes are added and removed. The netstack serves them through
//! `fuchsia.net.root/RoutesV4.GlobalRouteSet` (and `V6`): the set of every route, whose
//! routes persist after the channel closes.
//!
//! Not declared: `AuthenticateForInterface` (it takes a zircon event; the global set needs no
//! authentication), route tables and rule sets.

use crate::fuchsia_net_routes::{RouteV4, RouteV6};

crate::fidl_flexible_enum! {
    /// Why a route set refused a change.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum RouteSetError: u32 {
        /// The set may not use the route's interface.
        Unauthenticated = 1,
        /// The destination is not a subnet (bad prefix length, host bits set).
        InvalidDestinationSubnet = 2,
        /// The gateway is not a unicast address.
        InvalidNextHop = 3,
        /// The route's action is not supported.
        UnsupportedAction = 4,
        /// The route's interface is gone.
        PreviouslyAuthenticatedInterfaceNoLongerExists = 5,
        /// The route has no specified properties.
        MissingRouteProperties = 6,
        /// The route has no metric.
        MissingMetric = 7,
    }
}

fidl_protocol! {
    /// `fuchsia.net.routes.admin/RouteSetV4`.
    pub mod route_set_v4 = "fuchsia.net.routes.admin/RouteSetV4";
    /// A request of `RouteSetV4`.
    #[derive(Debug)]
    request RouteSetV4Request {
        compose {}
        import {}
        methods {
            /// Adds `route`; `Ok(false)` when the set already had it.
            AddRoute(route: RouteV4) -> Result<bool, RouteSetError>;
            /// Removes `route`; `Ok(false)` when the set did not have it.
            RemoveRoute(route: RouteV4) -> Result<bool, RouteSetError>;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.routes.admin/RouteSetV6`.
    pub mod route_set_v6 = "fuchsia.net.routes.admin/RouteSetV6";
    /// A request of `RouteSetV6`.
    #[derive(Debug)]
    request RouteSetV6Request {
        compose {}
        import {}
        methods {
            /// Adds `route`; `Ok(false)` when the set already had it.
            AddRoute(route: RouteV6) -> Result<bool, RouteSetError>;
            /// Removes `route`; `Ok(false)` when the set did not have it.
            RemoveRoute(route: RouteV6) -> Result<bool, RouteSetError>;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::fuchsia_net::{Ipv4Address, Ipv4AddressWithPrefix};
    use crate::fuchsia_net_routes::{RouteActionV4, RoutePropertiesV4, RouteTargetV4};
    use crate::message::{decode_body, decode_header, encode_message, TransactionHeader};
    use crate::Method;

    #[test]
    fn add_route_round_trips() {
        let route = RouteV4 {
            destination: Ipv4AddressWithPrefix {
                addr: Ipv4Address { addr: [198, 51, 100, 0] },
                prefix_len: 24,
            },
            action: RouteActionV4::Forward(RouteTargetV4 {
                outbound_interface: 2,
                next_hop: Some(Box::new(Ipv4Address { addr: [192, 0, 2, 1] })),
            }),
            properties: RoutePropertiesV4::default(),
        };
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<route_set_v4::AddRoute>(4), route.clone(), &mut buf)
            .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        assert!(matches!(
            RouteSetV4Request::decode(&header, body, handles),
            Ok(RouteSetV4Request::AddRoute { route: r }) if r == route
        ));
        for reply in [Ok(true), Err(RouteSetError::InvalidNextHop), Err(RouteSetError::Unknown(99))] {
            encode_message(TransactionHeader::for_method::<route_set_v4::AddRoute>(4), reply, &mut buf)
                .expect("encodes");
            let MessageBuf { bytes, handles } = &mut buf;
            let (_, body) = decode_header(bytes).expect("header");
            let decoded = decode_body::<<route_set_v4::AddRoute as Method>::Response>(body, handles);
            assert_eq!(decoded, Ok(reply));
        }
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_requests_never_panics(
            method in 0..4usize,
            txid in proptest::prelude::any::<u32>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..160),
        ) {
            let all = [route_set_v4::METHODS, route_set_v6::METHODS].concat();
            let header = TransactionHeader::new(txid, all[method].ordinal);
            let _ = RouteSetV4Request::decode(&header, &body, &mut Vec::new());
            let _ = RouteSetV6Request::decode(&header, &body, &mut Vec::new());
        }
    }
}
