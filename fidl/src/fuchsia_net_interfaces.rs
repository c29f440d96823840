//! Bindings for `fidl/sdk/fuchsia.net.interfaces/interfaces.fidl`: watching the interfaces,
//! their addresses and state.
//!
//! Protocols: [`state`] ([`StateRequest`]): `GetWatcher(options, watcher)` hands out a
//! [`watcher`] ([`WatcherRequest`]), whose hanging get `Watch` returns one [`Event`] per call:
//! `Existing` for each interface, `Idle`, then `Added` / `Changed` / `Removed`. A `Changed`
//! event carries the id and only the properties that changed.
//!
//! Differences from the SDK: `PortClass` (a flexible union) and `AddressPropertiesInterest`
//! (flexible bits) decode strictly here: an unknown variant or bit is an error rather than
//! kept. Both ends are ours, so neither sends one.

use crate::channel::Channel;
use crate::fuchsia_hardware_network as hw;
use crate::fuchsia_net::{InterfaceId, Subnet};
use crate::zx;

/// The name of the State protocol in the svc dir.
pub const STATE_PROTOCOL_NAME: &str = "fuchsia.net.interfaces.State";

/// The longest interface name, in bytes; decoding does not enforce it, servers check it.
pub const INTERFACE_NAME_LENGTH: usize = 15;

crate::fidl_struct! {
    /// The empty struct.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Empty {}
}

crate::fidl_union! {
    /// How long an address stays preferred (RFC 4862, section 2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PreferredLifetimeInfo {
        /// Preferred until this monotonic time ([`zx::TIME_INFINITE`]: for ever).
        1 => PreferredUntil(zx::Time),
        /// Deprecated: kept for existing connections, avoided for new ones.
        2 => Deprecated(Empty),
    }
}

crate::fidl_enum! {
    /// Whether an address can be used.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AddressAssignmentState: u32 {
        /// Duplicate Address Detection is running (RFC 4862, section 5.4).
        Tentative = 1,
        /// Usable.
        Assigned = 2,
        /// Not usable, for example while its interface is disabled.
        Unavailable = 3,
    }
}

crate::fidl_table! {
    /// One address of an interface.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Address {
        /// The address and prefix length; always set.
        1 => pub addr: Subnet,
        /// End of the valid lifetime, monotonic clock ([`zx::TIME_INFINITE`]: never).
        2 => pub valid_until: zx::Time,
        /// The preferred lifetime.
        3 => pub preferred_lifetime_info: PreferredLifetimeInfo,
        /// Whether it can be used; always set.
        4 => pub assignment_state: AddressAssignmentState,
    }
}

crate::fidl_union! {
    /// The legacy classification of an interface (field 4 of [`Properties`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum DeviceClass {
        1 => Loopback(Empty),
        2 => Device(hw::DeviceClass),
    }
}

crate::fidl_union! {
    /// What kind of interface this is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PortClass {
        1 => Loopback(Empty),
        2 => Device(hw::PortClass),
    }
}

crate::fidl_table! {
    /// What is known about an interface. In `Existing` and `Added` events every field is
    /// set; in `Changed` events `id` and the fields whose value changed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Properties {
        /// The interface id, never reused.
        1 => pub id: InterfaceId,
        /// Its addresses, sorted by `addr`.
        2 => pub addresses: Vec<Address>,
        /// Enabled and with its link up.
        3 => pub online: bool,
        /// Its kind, the legacy way.
        4 => pub device_class: DeviceClass,
        /// An IPv4 default route goes through it.
        5 => pub has_default_ipv4_route: bool,
        /// An IPv6 default route goes through it.
        6 => pub has_default_ipv6_route: bool,
        /// Its name.
        7 => pub name: String,
        /// Its kind.
        8 => pub port_class: PortClass,
    }
}

crate::fidl_bits! {
    /// The optional address properties a watcher reports.
    pub struct AddressPropertiesInterest: u64 {
        /// [`Address::valid_until`].
        const VALID_UNTIL = 0x1;
        /// [`Address::preferred_lifetime_info`].
        const PREFERRED_LIFETIME_INFO = 0x2;
    }
}

crate::fidl_table! {
    /// How a watcher behaves.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WatcherOptions {
        /// The optional address properties to report (none when absent).
        1 => pub address_properties_interest: AddressPropertiesInterest,
        /// Also report addresses that are not `Assigned` (false when absent).
        2 => pub include_non_assigned_addresses: bool,
    }
}

crate::fidl_union! {
    /// One change, as `Watcher.Watch` returns it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Event {
        /// An interface that existed when the watcher was created.
        1 => Existing(Properties),
        /// An interface added since.
        2 => Added(Properties),
        /// The id of an interface removed since.
        3 => Removed(InterfaceId),
        /// Changed properties (with the id).
        4 => Changed(Properties),
        /// All `Existing` events have been sent.
        5 => Idle(Empty),
    }
}

fidl_protocol! {
    /// `fuchsia.net.interfaces/State`.
    pub mod state = "fuchsia.net.interfaces/State";
    /// A request of `State`.
    #[derive(Debug)]
    request StateRequest {
        compose {}
        import {}
        methods {
            /// Serves a [`watcher`] on `watcher` (one-way).
            GetWatcher(options: WatcherOptions, watcher: Channel);
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.interfaces/Watcher`.
    pub mod watcher = "fuchsia.net.interfaces/Watcher";
    /// A request of `Watcher`.
    #[derive(Debug)]
    request WatcherRequest {
        compose {}
        import {}
        methods {
            /// Hanging get: the next [`Event`]. A second call while one is pending closes the
            /// channel.
            Watch() -> Event;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::fuchsia_net::{IpAddress, Ipv4Address, Ipv6Address};
    use crate::message::{decode_body, decode_header, encode_message, TransactionHeader};
    use crate::Method;

    fn reply_round_trip<M: Method>(response: M::Response) -> M::Response {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(3), response, &mut buf).expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (_, body) = decode_header(bytes).expect("header");
        decode_body::<M::Response>(body, handles).expect("decodes")
    }

    fn properties() -> Properties {
        Properties {
            id: Some(2),
            name: Some("eth0".into()),
            addresses: Some(vec![
                Address {
                    addr: Some(Subnet {
                        addr: IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 1] }),
                        prefix_len: 24,
                    }),
                    valid_until: Some(zx::TIME_INFINITE),
                    preferred_lifetime_info: Some(PreferredLifetimeInfo::PreferredUntil(zx::TIME_INFINITE)),
                    assignment_state: Some(AddressAssignmentState::Assigned),
                },
                Address {
                    addr: Some(Subnet {
                        addr: IpAddress::Ipv6(Ipv6Address {
                            addr: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                        }),
                        prefix_len: 64,
                    }),
                    valid_until: Some(5_000_000_000),
                    preferred_lifetime_info: Some(PreferredLifetimeInfo::Deprecated(Empty {})),
                    assignment_state: Some(AddressAssignmentState::Tentative),
                },
            ]),
            online: Some(true),
            device_class: Some(DeviceClass::Device(hw::DeviceClass::Ethernet)),
            has_default_ipv4_route: Some(true),
            has_default_ipv6_route: Some(false),
            port_class: Some(PortClass::Device(hw::PortClass::Ethernet)),
        }
    }

    #[test]
    fn events_round_trip() {
        for event in [
            Event::Existing(properties()),
            Event::Added(Properties { port_class: Some(PortClass::Loopback(Empty {})), ..properties() }),
            Event::Changed(Properties { id: Some(2), online: Some(false), ..Properties::default() }),
            Event::Removed(2),
            Event::Idle(Empty {}),
        ] {
            assert_eq!(reply_round_trip::<watcher::Watch>(event.clone()), event);
        }
    }

    #[test]
    fn a_changed_event_golden() {
        // Watch reply: union Event (ordinal 4 = changed) with a Properties table holding only
        // id (1) and online (3).
        let event = Event::Changed(Properties { id: Some(7), online: Some(false), ..Properties::default() });
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<watcher::Watch>(1), event, &mut buf).expect("encodes");
        let expected: Vec<u8> = [
            &[4, 0, 0, 0, 0, 0, 0, 0][..], // union ordinal 4
            &[48, 0, 0, 0, 0, 0, 0, 0],    // envelope: 48 bytes out of line, no handles
            &[3, 0, 0, 0, 0, 0, 0, 0],     // the table: 3 envelopes
            &[0xff; 8],                    // present
            &[8, 0, 0, 0, 0, 0, 0, 0],     // id: 8 bytes out of line
            &[0; 8],                       // 2: absent
            &[0, 0, 0, 0, 0, 0, 1, 0],     // online: inlined false
            &[7, 0, 0, 0, 0, 0, 0, 0],     // the id
        ]
        .concat();
        assert_eq!(&buf.bytes[16..], expected.as_slice());
    }

    #[test]
    fn get_watcher_carries_the_server_end() {
        let (_ours, theirs) = Channel::pair().expect("pair");
        let options = WatcherOptions {
            address_properties_interest: Some(AddressPropertiesInterest::VALID_UNTIL),
            include_non_assigned_addresses: Some(true),
        };
        let mut buf = MessageBuf::new();
        encode_message(
            TransactionHeader::for_method::<state::GetWatcher>(0),
            (options.clone(), theirs),
            &mut buf,
        )
        .expect("encodes");
        assert_eq!(buf.handles.len(), 1);
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        let request = StateRequest::decode(&header, body, handles).expect("decodes");
        assert!(matches!(request, StateRequest::GetWatcher { options: o, .. } if o == options));
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_events_never_panics(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let _ = decode_body::<Event>(&body, &mut Vec::new());
            let header = TransactionHeader::new(1, <state::GetWatcher as Method>::ORDINAL);
            let _ = StateRequest::decode(&header, &body, &mut Vec::new());
        }
    }
}
