//! Bindings for `fidl/sdk/fuchsia.net.neighbor/neighbor.fidl`: the neighbor table of ARP
//! (RFC 826) and NDP (RFC 4861).
//!
//! [`view`] ([`ViewRequest`]) hands out an [`entry_iterator`] ([`EntryIteratorRequest`]),
//! whose hanging get `GetNext` returns a batch of at most [`MAX_ITEM_BATCH_SIZE`] items:
//! `Existing` entries, `Idle`, then `Added` / `Changed` / `Removed`. [`controller`]
//! ([`ControllerRequest`]) adds static entries and removes entries; its errors are `zx.Status`
//! values: `ERR_NOT_FOUND` (no such interface or entry), `ERR_INVALID_ARGS` (not a unicast
//! neighbor address or MAC), `ERR_NOT_SUPPORTED` (the interface has no neighbor table, as a
//! TUN device). The unreachability configuration methods are not declared.

use crate::channel::Channel;
use crate::fuchsia_net::{InterfaceId, IpAddress, IpVersion, MacAddress};
use crate::zx;

/// The name of the View protocol in the svc dir.
pub const VIEW_PROTOCOL_NAME: &str = "fuchsia.net.neighbor.View";
/// The name of the Controller protocol in the svc dir.
pub const CONTROLLER_PROTOCOL_NAME: &str = "fuchsia.net.neighbor.Controller";

/// The most items one `GetNext` returns (they fit a message: see the tests).
pub const MAX_ITEM_BATCH_SIZE: usize = 256;

crate::fidl_enum! {
    /// Where an entry is in Neighbor Unreachability Detection (RFC 4861, section 7.3.2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EntryState: u32 {
        /// Resolution is in progress.
        Incomplete = 1,
        /// Reachability was confirmed recently.
        Reachable = 2,
        /// Reachability is unknown; it is checked when traffic is sent.
        Stale = 3,
        /// Waiting for upper-layer confirmation before probing.
        Delay = 4,
        /// Probing.
        Probe = 5,
        /// Added by `Controller.AddEntry`; never expires.
        Static = 6,
        /// Probes went unanswered.
        Unreachable = 7,
    }
}

crate::fidl_table! {
    /// A neighbor.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Entry {
        /// The interface it is reached through; always set.
        1 => pub interface: InterfaceId,
        /// Its IP address; always set.
        2 => pub neighbor: IpAddress,
        /// Its state; always set.
        3 => pub state: EntryState,
        /// Its MAC address, absent while unknown.
        4 => pub mac: MacAddress,
        /// When `state` last changed (monotonic clock, nanoseconds); always set.
        5 => pub updated_at: zx::Time,
    }
}

crate::fidl_struct! {
    /// The end of the `Existing` items.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct IdleEvent {}
}

crate::fidl_union! {
    /// One item of an entry iterator.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum EntryIteratorItem {
        /// An entry that existed when the iterator was opened.
        1 => Existing(Entry),
        /// All `Existing` items have been sent.
        2 => Idle(IdleEvent),
        /// An entry added since.
        3 => Added(Entry),
        /// An entry that changed (its new value).
        4 => Changed(Entry),
        /// An entry removed since (its last value).
        5 => Removed(Entry),
    }
}

crate::fidl_table! {
    /// How an iterator behaves (nothing to choose yet).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EntryIteratorOptions {}
}

fidl_protocol! {
    /// `fuchsia.net.neighbor/EntryIterator`.
    pub mod entry_iterator = "fuchsia.net.neighbor/EntryIterator";
    /// A request of `EntryIterator`.
    #[derive(Debug)]
    request EntryIteratorRequest {
        compose {}
        import {}
        methods {
            /// Hanging get: the items since the last call. A second call while one is pending
            /// closes the channel.
            GetNext() -> Vec<EntryIteratorItem>;
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.neighbor/View`.
    pub mod view = "fuchsia.net.neighbor/View";
    /// A request of `View`.
    #[derive(Debug)]
    request ViewRequest {
        compose {}
        import {}
        methods {
            /// Serves an [`entry_iterator`] on `it` (one-way).
            OpenEntryIterator(it: Channel, options: EntryIteratorOptions);
        }
    }
}

fidl_protocol! {
    /// `fuchsia.net.neighbor/Controller`.
    pub mod controller = "fuchsia.net.neighbor/Controller";
    /// A request of `Controller`.
    #[derive(Debug)]
    request ControllerRequest {
        compose {}
        import {}
        methods {
            /// Adds (or replaces) a static entry.
            AddEntry(interface: InterfaceId, neighbor: IpAddress, mac: MacAddress) -> Result<(), zx::Status>;
            /// Removes an entry, static or dynamic.
            RemoveEntry(interface: InterfaceId, neighbor: IpAddress) -> Result<(), zx::Status>;
            /// Removes every entry of `interface` for `ip_version`.
            ClearEntries(interface: InterfaceId, ip_version: IpVersion) -> Result<(), zx::Status>;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::MessageBuf;
    use crate::fuchsia_net::{Ipv4Address, Ipv6Address};
    use crate::message::{decode_body, decode_header, encode_message, TransactionHeader};
    use crate::Method;

    fn entry(state: EntryState) -> Entry {
        Entry {
            interface: Some(2),
            neighbor: Some(IpAddress::Ipv6(Ipv6Address {
                addr: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            })),
            state: Some(state),
            mac: Some(MacAddress { octets: [0x02, 0, 0, 0, 0, 0x02] }),
            updated_at: Some(123_456_789),
        }
    }

    #[test]
    fn items_round_trip() {
        let items = vec![
            EntryIteratorItem::Existing(entry(EntryState::Reachable)),
            EntryIteratorItem::Idle(IdleEvent {}),
            EntryIteratorItem::Changed(entry(EntryState::Stale)),
            EntryIteratorItem::Removed(Entry { mac: None, ..entry(EntryState::Unreachable) }),
        ];
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<entry_iterator::GetNext>(1), items.clone(), &mut buf)
            .expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (_, body) = decode_header(bytes).expect("header");
        assert_eq!(decode_body::<Vec<EntryIteratorItem>>(body, handles), Ok(items));
    }

    #[test]
    fn a_full_batch_fits_a_message() {
        let items = vec![EntryIteratorItem::Existing(entry(EntryState::Static)); MAX_ITEM_BATCH_SIZE];
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<entry_iterator::GetNext>(1), items, &mut buf)
            .expect("fits");
    }

    #[test]
    fn an_entry_golden() {
        // An Entry with interface 1, 192.0.2.1 and state REACHABLE.
        let entry = Entry {
            interface: Some(1),
            neighbor: Some(IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 1] })),
            state: Some(EntryState::Reachable),
            ..Entry::default()
        };
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::new(1, 1), entry, &mut buf).expect("encodes");
        let expected: Vec<u8> = [
            &[3, 0, 0, 0, 0, 0, 0, 0][..], // 3 envelopes
            &[0xff; 8],                    // present
            &[8, 0, 0, 0, 0, 0, 0, 0],     // interface: 8 bytes out of line
            &[16, 0, 0, 0, 0, 0, 0, 0],    // neighbor: the union, 16 bytes out of line
            &[2, 0, 0, 0, 0, 0, 1, 0],     // state: inlined REACHABLE
            &[1, 0, 0, 0, 0, 0, 0, 0],     // interface 1
            &[1, 0, 0, 0, 0, 0, 0, 0],     // union ordinal 1 (ipv4)
            &[192, 0, 2, 1, 0, 0, 1, 0],   // inlined Ipv4Address
        ]
        .concat();
        assert_eq!(&buf.bytes[16..], expected.as_slice());
    }

    #[test]
    fn controller_requests_round_trip() {
        let neighbor = IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 7] });
        let mac = MacAddress { octets: [2, 0, 0, 0, 0, 7] };
        let mut buf = MessageBuf::new();
        encode_message(
            TransactionHeader::for_method::<controller::AddEntry>(2),
            (3_u64, neighbor, mac),
            &mut buf,
        )
        .expect("encodes");
        let (header, body) = decode_header(&buf.bytes).expect("header");
        assert!(matches!(
            ControllerRequest::decode(&header, body, &mut Vec::new()),
            Ok(ControllerRequest::AddEntry { interface: 3, neighbor: n, mac: m }) if n == neighbor && m == mac
        ));
        encode_message(
            TransactionHeader::for_method::<controller::ClearEntries>(2),
            (3_u64, IpVersion::V6),
            &mut buf,
        )
        .expect("encodes");
        let (header, body) = decode_header(&buf.bytes).expect("header");
        assert!(matches!(
            ControllerRequest::decode(&header, body, &mut Vec::new()),
            Ok(ControllerRequest::ClearEntries { interface: 3, ip_version: IpVersion::V6 })
        ));
        let reply: <controller::RemoveEntry as Method>::Response = Err(zx::ERR_NOT_FOUND);
        encode_message(TransactionHeader::for_method::<controller::RemoveEntry>(2), reply, &mut buf)
            .expect("encodes");
        let (_, body) = decode_header(&buf.bytes).expect("header");
        assert_eq!(
            decode_body::<<controller::RemoveEntry as Method>::Response>(body, &mut Vec::new()),
            Ok(reply)
        );
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_messages_never_panics(
            method in 0..5usize,
            txid in proptest::prelude::any::<u32>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let all = [controller::METHODS, view::METHODS, entry_iterator::METHODS].concat();
            let header = TransactionHeader::new(txid, all[method].ordinal);
            let _ = ControllerRequest::decode(&header, &body, &mut Vec::new());
            let _ = ViewRequest::decode(&header, &body, &mut Vec::new());
            let _ = EntryIteratorRequest::decode(&header, &body, &mut Vec::new());
            let _ = decode_body::<Vec<EntryIteratorItem>>(&body, &mut Vec::new());
        }
    }
}
