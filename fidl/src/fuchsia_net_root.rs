//! Bindings for `fidl/sdk/fuchsia.net.root/root.fidl`: privileged access to any interface
//! ([`interfaces`]) and to the whole routing table ([`routes_v4`], [`routes_v6`]).
//!
//! `GlobalRouteSet` serves a `fuchsia.net.routes.admin/RouteSetV4` (or `V6`) over every route
//! of the system: routes added through it are not owned by the channel and persist after it
//! closes; routes removed through it are removed from the system, whoever added them.

use crate::channel::Channel;
use crate::fuchsia_net::{InterfaceId, MacAddress};

/// The name of the Interfaces protocol in the svc dir.
pub const INTERFACES_PROTOCOL_NAME: &str = "fuchsia.net.root.Interfaces";
/// The name of the RoutesV4 protocol in the svc dir.
pub const ROUTES_V4_PROTOCOL_NAME: &str = "fuchsia.net.root.RoutesV4";
/// The name of the RoutesV6 protocol in the svc dir.
pub const ROUTES_V6_PROTOCOL_NAME: &str = "fuchsia.net.root.RoutesV6";

crate::fidl_enum! {
    /// Why `GetMac` failed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum InterfacesGetMacError: u32 {
        /// No interface has that id.
        NotFound = 1,
    }
}

fidl_protocol! {
    /// `fuchsia.net.root/Interfaces`.
    pub mod interfaces = "fuchsia.net.root/Interfaces";
    /// A request of `Interfaces`.
    #[derive(Debug)]
    request InterfacesRequest {
        compose {}
        import {}
        methods {
            /// Serves a `fuchsia.net.interfaces.admin/Control` of interface `id` on `control`
            /// (one-way; the channel is closed without an event when there is no such interface).
            GetAdmin(id: InterfaceId, control: Channel);
            /// The interface's MAC address; `None` when it has none (TUN, loopback).
            GetMac(id: InterfaceId) -> Result<Option<Box<MacAddress>>, InterfacesGetMacError>;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.root/RoutesV4`.
    pub mod routes_v4 = "fuchsia.net.root/RoutesV4";
    /// A request of `RoutesV4`.
    #[derive(Debug)]
    request RoutesV4Request {
        compose {}
        import {}
        methods {
            /// Serves the global `RouteSetV4` on `route_set` (one-way).
            GlobalRouteSet(route_set: Channel);
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.root/RoutesV6`.
    pub mod routes_v6 = "fuchsia.net.root/RoutesV6";
    /// A request of `RoutesV6`.
    #[derive(Debug)]
    request RoutesV6Request {
        compose {}
        import {}
        methods {
            /// Serves the global `RouteSetV6` on `route_set` (one-way).
            GlobalRouteSet(route_set: Channel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::message::{decode_body, decode_header, encode_message, TransactionHeader};
    use crate::Method;

    #[test]
    fn get_mac_replies_round_trip() {
        for reply in [
            Ok(Some(Box::new(MacAddress { octets: [2, 0, 0, 0, 0, 1] }))),
            Ok(None),
            Err(InterfacesGetMacError::NotFound),
        ] {
            let mut buf = MessageBuf::new();
            encode_message(TransactionHeader::for_method::<interfaces::GetMac>(1), reply.clone(), &mut buf)
                .expect("encodes");
            let MessageBuf { bytes, handles } = &mut buf;
            let (_, body) = decode_header(bytes).expect("header");
            let decoded =
                decode_body::<<interfaces::GetMac as Method>::Response>(body, handles).expect("decodes");
            assert_eq!(decoded, reply);
        }
    }

    #[test]
    fn one_way_requests_carry_their_channels() {
        let (_ours, theirs) = Channel::pair().expect("pair");
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<interfaces::GetAdmin>(0), (5_u64, theirs), &mut buf)
            .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        let decoded = InterfacesRequest::decode(&header, body, handles);
        assert!(matches!(decoded, Ok(InterfacesRequest::GetAdmin { id: 5, .. })));
        let (_ours, theirs) = Channel::pair().expect("pair");
        encode_message(TransactionHeader::for_method::<routes_v6::GlobalRouteSet>(0), theirs, &mut buf)
            .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        assert!(matches!(
            RoutesV6Request::decode(&header, body, handles),
            Ok(RoutesV6Request::GlobalRouteSet { .. })
        ));
        assert!(matches!(
            RoutesV4Request::decode(&header, body, &mut Vec::new()),
            Err(crate::wire::DecodeError::UnknownOrdinal(_))
        ));
    }
}
