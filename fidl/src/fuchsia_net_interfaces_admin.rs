//! Bindings for `fidl/sdk/fuchsia.net.interfaces.admin/admin.fidl`: control over one
//! interface ([`control`]) and over one of its addresses ([`address_state_provider`]).
//!
//! Lifetimes as in the SDK: an address added with `Control.AddAddress` lives as long as the
//! client keeps its `AddressStateProvider` channel open, unless it calls `Detach`; the server
//! reports the outcome with the events `OnAddressAdded` or `OnAddressRemoved(reason)`
//! ([`AddressStateProviderEvent`]) and closes the channel after `OnAddressRemoved`. A
//! `Control` obtained through `fuchsia.net.root/Interfaces.GetAdmin` does not own its
//! interface; `Control.Remove` removes interfaces created at run time, and the
//! `OnInterfaceRemoved(reason)` event ([`ControlEvent`]) precedes the close of every
//! `Control` of an interface that goes away.
//!
//! Not declared (see the `.fidl` file): `Installer` and `DeviceControl`, which take
//! `fuchsia.hardware.network` devices, and `Control.GetAuthorizationForInterface`, which hands
//! out a zircon event. `Configuration` declares only the forwarding switches; other fields a
//! client sets are skipped as unknown table fields.

use crate::channel::Channel;
use crate::fuchsia_net::{InterfaceId, Subnet};
use crate::fuchsia_net_interfaces::{AddressAssignmentState, PreferredLifetimeInfo};
use crate::zx;

crate::fidl_table! {
    /// Lifetimes of an address.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AddressProperties {
        /// The preferred lifetime; preferred for ever when absent.
        1 => pub preferred_lifetime_info: PreferredLifetimeInfo,
        /// End of the valid lifetime (monotonic clock); [`zx::TIME_INFINITE`] when absent.
        2 => pub valid_lifetime_end: zx::Time,
    }
}

crate::fidl_table! {
    /// How `Control.AddAddress` adds an address.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AddressParameters {
        /// The initial lifetimes.
        1 => pub initial_properties: AddressProperties,
        /// A temporary address (RFC 8981).
        2 => pub temporary: bool,
        /// Also install the route to the address's subnet, removed with the address.
        3 => pub add_subnet_route: bool,
        /// Run Duplicate Address Detection (default: IPv6 only).
        4 => pub perform_dad: bool,
    }
}

crate::fidl_enum! {
    /// Why an address went away, or was never added.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AddressRemovalReason: u32 {
        /// Not a valid address for the interface.
        Invalid = 1,
        /// The interface already has it.
        AlreadyAssigned = 2,
        /// Duplicate Address Detection found it in use.
        DadFailed = 3,
        /// Its interface was removed.
        InterfaceRemoved = 4,
        /// Removed on request (`Remove`, `Control.RemoveAddress`, the channel closed).
        UserRemoved = 5,
        /// Invalid lifetimes or parameters.
        InvalidProperties = 6,
    }
}

crate::fidl_table! {
    /// IPv4 settings of an interface.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Ipv4Configuration {
        /// Forward unicast packets not addressed to this host.
        1 => pub unicast_forwarding: bool,
        /// Forward multicast packets.
        2 => pub multicast_forwarding: bool,
    }
}

crate::fidl_table! {
    /// IPv6 settings of an interface.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Ipv6Configuration {
        /// Forward unicast packets not addressed to this host.
        1 => pub unicast_forwarding: bool,
        /// Forward multicast packets.
        2 => pub multicast_forwarding: bool,
    }
}

crate::fidl_table! {
    /// Settings of an interface (`SetConfiguration`, `GetConfiguration`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Configuration {
        1 => pub ipv4: Ipv4Configuration,
        2 => pub ipv6: Ipv6Configuration,
    }
}

crate::fidl_flexible_enum! {
    /// `RemoveAddress` error (none declared).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ControlRemoveAddressError: u32 {}
}

crate::fidl_flexible_enum! {
    /// `GetConfiguration` error (none declared).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ControlGetConfigurationError: u32 {}
}

crate::fidl_flexible_enum! {
    /// `Enable` error (none declared).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ControlEnableError: u32 {}
}

crate::fidl_flexible_enum! {
    /// `Disable` error (none declared).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ControlDisableError: u32 {}
}

crate::fidl_flexible_enum! {
    /// Why `SetConfiguration` failed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ControlSetConfigurationError: u32 {
        Ipv4ForwardingUnsupported = 1,
        Ipv4MulticastForwardingUnsupported = 2,
        Ipv4IgmpVersionUnsupported = 3,
        Ipv6ForwardingUnsupported = 4,
        Ipv6MulticastForwardingUnsupported = 5,
        Ipv6MldVersionUnsupported = 6,
        IllegalZeroValue = 7,
        ArpNotSupported = 8,
        NdpNotSupported = 9,
        IllegalNegativeValue = 10,
    }
}

crate::fidl_flexible_enum! {
    /// Why `Remove` failed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ControlRemoveError: u32 {
        /// This interface cannot be removed (loopback, or one the daemon was started with).
        NotAllowed = 1,
    }
}

crate::fidl_flexible_enum! {
    /// Why an interface went away (`OnInterfaceRemoved`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum InterfaceRemovedReason: u32 {
        DuplicateName = 1,
        PortAlreadyBound = 2,
        BadPort = 3,
        /// The device went away (for example the Linux TAP device was deleted).
        PortClosed = 4,
        /// Removed on request.
        User = 5,
    }
}

fidl_protocol! {
    /// `fuchsia.net.interfaces.admin/Control`.
    pub mod control = "fuchsia.net.interfaces.admin/Control";
    /// A request of `Control`.
    #[derive(Debug)]
    request ControlRequest {
        compose {}
        import {}
        methods {
            /// Adds `address` (one-way); serve `address_state_provider` for its fate.
            AddAddress(address: Subnet, parameters: AddressParameters, address_state_provider: Channel);
            /// Removes `address`; `Ok(true)` when it was there.
            RemoveAddress(address: Subnet) -> Result<bool, ControlRemoveAddressError>;
            /// The interface id.
            GetId() -> InterfaceId;
            /// Applies the set fields; returns their previous values.
            SetConfiguration(config: Configuration) -> Result<Configuration, ControlSetConfigurationError>;
            /// The current settings.
            GetConfiguration() -> Result<Configuration, ControlGetConfigurationError>;
            /// Enables the interface; `Ok(true)` when it was disabled.
            Enable() -> Result<bool, ControlEnableError>;
            /// Disables the interface; `Ok(true)` when it was enabled.
            Disable() -> Result<bool, ControlDisableError>;
            /// Closing this channel no longer removes the interface (one-way).
            Detach();
            /// Removes the interface.
            Remove() -> Result<(), ControlRemoveError>;
        }
    }
    /// An event of `Control`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    events ControlEvent {
        /// The interface is gone; the channel closes next.
        OnInterfaceRemoved(reason: InterfaceRemovedReason);
    }
}

fidl_protocol! {
    /// `fuchsia.net.interfaces.admin/AddressStateProvider`.
    pub mod address_state_provider = "fuchsia.net.interfaces.admin/AddressStateProvider";
    /// A request of `AddressStateProvider`.
    #[derive(Debug)]
    request AddressStateProviderRequest {
        compose {}
        import {}
        methods {
            /// Replaces the address's lifetimes.
            UpdateAddressProperties(address_properties: AddressProperties) -> ();
            /// Hanging get: the assignment state, at once the first time, then on change.
            WatchAddressAssignmentState() -> AddressAssignmentState;
            /// Closing this channel no longer removes the address (one-way).
            Detach();
            /// Removes the address (one-way); `OnAddressRemoved(UserRemoved)` follows.
            Remove();
        }
    }
    /// An event of `AddressStateProvider`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    events AddressStateProviderEvent {
        /// The address was added (at most once).
        OnAddressAdded();
        /// The address is gone or was not added; the channel closes next.
        OnAddressRemoved(error: AddressRemovalReason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::client::{ClientError, SyncClient};
    use crate::fuchsia_net::{IpAddress, Ipv4Address};
    use crate::message::{
        decode_body, decode_header, encode_epitaph, encode_event, encode_message, TransactionHeader,
    };
    use crate::{Event, Method};

    fn subnet() -> Subnet {
        Subnet { addr: IpAddress::Ipv4(Ipv4Address { addr: [198, 51, 100, 5] }), prefix_len: 24 }
    }

    fn reply_round_trip<M: Method>(response: M::Response) -> M::Response {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(3), response, &mut buf).expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (_, body) = decode_header(bytes).expect("header");
        decode_body::<M::Response>(body, handles).expect("decodes")
    }

    #[test]
    fn add_address_round_trips() {
        let (_asp, theirs) = Channel::pair().expect("pair");
        let parameters = AddressParameters {
            initial_properties: Some(AddressProperties {
                preferred_lifetime_info: Some(PreferredLifetimeInfo::PreferredUntil(1_000)),
                valid_lifetime_end: Some(2_000),
            }),
            add_subnet_route: Some(true),
            ..AddressParameters::default()
        };
        let mut buf = MessageBuf::new();
        encode_message(
            TransactionHeader::for_method::<control::AddAddress>(0),
            (subnet(), parameters.clone(), theirs),
            &mut buf,
        )
        .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        let request = ControlRequest::decode(&header, body, handles).expect("decodes");
        assert!(matches!(
            request,
            ControlRequest::AddAddress { address, parameters: p, .. } if address == subnet() && p == parameters
        ));
    }

    #[test]
    fn replies_round_trip() {
        assert_eq!(reply_round_trip::<control::Enable>(Ok(true)), Ok(true));
        assert_eq!(
            reply_round_trip::<control::Disable>(Err(ControlDisableError::Unknown(9))),
            Err(ControlDisableError::Unknown(9))
        );
        assert_eq!(
            reply_round_trip::<control::Remove>(Err(ControlRemoveError::NotAllowed)),
            Err(ControlRemoveError::NotAllowed)
        );
        let config = Configuration {
            ipv4: Some(Ipv4Configuration { unicast_forwarding: Some(true), ..Default::default() }),
            ipv6: Some(Ipv6Configuration::default()),
        };
        assert_eq!(reply_round_trip::<control::SetConfiguration>(Ok(config.clone())), Ok(config));
        assert_eq!(reply_round_trip::<control::GetId>(4), 4);
        assert_eq!(
            reply_round_trip::<address_state_provider::WatchAddressAssignmentState>(
                AddressAssignmentState::Tentative
            ),
            AddressAssignmentState::Tentative
        );
    }

    #[test]
    fn address_events_reach_a_client() {
        let (client, server) = Channel::pair().expect("pair");
        let client = SyncClient::new(client);
        let mut buf = MessageBuf::new();
        encode_event::<address_state_provider::OnAddressAdded>((), &mut buf).expect("encodes");
        server.write(&buf).expect("write");
        encode_event::<address_state_provider::OnAddressRemoved>(AddressRemovalReason::DadFailed, &mut buf)
            .expect("encodes");
        server.write(&buf).expect("write");
        encode_epitaph(zx::OK, &mut buf);
        server.write(&buf).expect("write");
        drop(server);
        assert_eq!(
            client.next_event::<AddressStateProviderEvent>().expect("added"),
            AddressStateProviderEvent::OnAddressAdded {}
        );
        assert_eq!(
            client.next_event::<AddressStateProviderEvent>().expect("removed"),
            AddressStateProviderEvent::OnAddressRemoved { error: AddressRemovalReason::DadFailed }
        );
        assert!(matches!(
            client.next_event::<AddressStateProviderEvent>(),
            Err(ClientError::PeerClosed { epitaph: Some(0) })
        ));
    }

    #[test]
    fn interface_removed_event_golden() {
        let mut buf = MessageBuf::new();
        encode_event::<control::OnInterfaceRemoved>(InterfaceRemovedReason::User, &mut buf).expect("encodes");
        let mut expected = vec![0, 0, 0, 0, 2, 0, 0, 1];
        expected.extend_from_slice(&<control::OnInterfaceRemoved as Event>::ORDINAL.to_le_bytes());
        expected.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(buf.bytes, expected);
        let (header, body) = decode_header(&buf.bytes).expect("header");
        assert_eq!(
            <ControlEvent as crate::EventEnum>::decode_event(&header, body, &mut Vec::new()),
            Ok(ControlEvent::OnInterfaceRemoved { reason: InterfaceRemovedReason::User })
        );
        // A reason this binding does not know still decodes (the enum is flexible).
        buf.bytes[16] = 77;
        let (header, body) = decode_header(&buf.bytes).expect("header");
        assert_eq!(
            <ControlEvent as crate::EventEnum>::decode_event(&header, body, &mut Vec::new()),
            Ok(ControlEvent::OnInterfaceRemoved { reason: InterfaceRemovedReason::Unknown(77) })
        );
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_messages_never_panics(
            method in 0..control::METHODS.len() + address_state_provider::METHODS.len(),
            txid in proptest::prelude::any::<u32>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..160),
        ) {
            let all = [control::METHODS, address_state_provider::METHODS].concat();
            let header = TransactionHeader::new(txid, all[method].ordinal);
            let _ = ControlRequest::decode(&header, &body, &mut Vec::new());
            let _ = AddressStateProviderRequest::decode(&header, &body, &mut Vec::new());
            let _ = <ControlEvent as crate::EventEnum>::decode_event(&header, &body, &mut Vec::new());
            let _ = <AddressStateProviderEvent as crate::EventEnum>::decode_event(&header, &body, &mut Vec::new());
        }
    }
}
