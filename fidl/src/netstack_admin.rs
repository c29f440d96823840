//! Bindings for `fidl/sdk/netstack.admin/admin.fidl`: the netstack's own administration
//! protocol (runtime TAP/TUN interfaces, MTU, packet capture), and the capture record format
//! of `StartCapture`'s socket.
//!
//! Errors are `zx.Status` values ([`crate::zx`]): `ERR_NOT_FOUND` for an unknown interface,
//! `ERR_ALREADY_EXISTS` for a name in use, `ERR_INVALID_ARGS` for a bad spec or MTU,
//! `ERR_NOT_SUPPORTED`, `ERR_NO_RESOURCES`, `ERR_ACCESS_DENIED` (no permission to create
//! the Linux device), `ERR_OUT_OF_RANGE`, `ERR_BAD_STATE`.

use std::os::fd::OwnedFd;

use crate::zx;

/// The name of the Interfaces protocol in the svc dir.
pub const INTERFACES_PROTOCOL_NAME: &str = "netstack.admin.Interfaces";

/// The longest interface name, in bytes (`IFNAMSIZ` - 1); the decoder does not enforce it.
pub const INTERFACE_NAME_LENGTH: usize = 15;

/// The snap length of a capture whose options do not set one.
pub const DEFAULT_SNAPLEN: u32 = 262_144;

crate::fidl_enum! {
    /// What kind of Linux device backs a new interface.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum InterfaceKind: u8 {
        /// A TAP device: Ethernet frames.
        Tap = 1,
        /// A TUN device: bare IP packets.
        Tun = 2,
    }
}

crate::fidl_table! {
    /// What `CreateInterface` creates.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct InterfaceSpec {
        /// The Linux device's name, also the interface's (at most [`INTERFACE_NAME_LENGTH`]
        /// bytes).
        1 => pub name: String,
        /// TAP or TUN.
        2 => pub kind: InterfaceKind,
        /// The MTU; the device's default when absent.
        3 => pub mtu: u32,
    }
}

crate::fidl_table! {
    /// How to capture.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CaptureOptions {
        /// The most bytes of a frame one record holds; [`DEFAULT_SNAPLEN`] when absent.
        1 => pub snaplen: u32,
    }
}

crate::fidl_enum! {
    /// The link-layer header of captured frames, numbered as pcap's `LINKTYPE_*`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum LinkType: u32 {
        /// `LINKTYPE_ETHERNET`: Ethernet II frames.
        Ethernet = 1,
        /// `LINKTYPE_RAW`: bare IPv4 or IPv6 packets.
        Raw = 101,
    }
}

fidl_protocol! {
    /// `netstack.admin/Interfaces`.
    pub mod interfaces = "netstack.admin/Interfaces";
    /// A request of `Interfaces`.
    #[derive(Debug)]
    request InterfacesRequest {
        compose {}
        import {}
        methods {
            /// Creates a TAP or TUN device and attaches it as a new, disabled interface; returns
            /// its id.
            CreateInterface(spec: InterfaceSpec) -> Result<u64, zx::Status>;
            /// Sets an interface's MTU.
            SetMtu(id: u64, mtu: u32) -> Result<(), zx::Status>;
            /// Returns an interface's MTU.
            GetMtu(id: u64) -> Result<u32, zx::Status>;
            /// Starts a capture; returns the client end of the record socket (`records`,
            /// `SOCK_SEQPACKET`) and the link type of the frames.
            StartCapture(id: u64, options: CaptureOptions) -> Result<(OwnedFd, LinkType), zx::Status>;
        }
    }
}

/// The size of the header in front of each captured frame.
pub const CAPTURE_RECORD_HEADER_LEN: usize = 16;

/// Which way a captured frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureDirection {
    /// The interface received it.
    Received = 0,
    /// The interface sent it.
    Sent = 1,
}

/// The header of a capture record: one `SOCK_SEQPACKET` packet per frame, the header
/// (little-endian `u64` timestamp in nanoseconds of `CLOCK_REALTIME`, `u32` original length,
/// `u8` direction, three zero bytes) followed by the first `min(original_len, snaplen)` bytes
/// of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaptureRecordHeader {
    /// When the frame passed, in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The frame's length before truncation to the snap length.
    pub original_len: u32,
    /// Received or sent.
    pub direction: CaptureDirection,
}

/// Why a capture record could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaptureRecordError {
    /// Shorter than the header.
    #[error("a capture record of {0} bytes is shorter than its header")]
    Truncated(usize),
    /// The direction byte is neither 0 nor 1.
    #[error("unknown capture direction {0}")]
    UnknownDirection(u8),
    /// A reserved byte is not zero.
    #[error("non-zero reserved bytes in a capture record")]
    NonZeroReserved,
    /// More frame bytes than the original length.
    #[error("a capture record holds {held} frame bytes of a {original_len}-byte frame")]
    TooLong { held: usize, original_len: u32 },
}

impl CaptureRecordHeader {
    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; CAPTURE_RECORD_HEADER_LEN] {
        let mut bytes = [0u8; CAPTURE_RECORD_HEADER_LEN];
        bytes[0..8].copy_from_slice(&self.timestamp_ns.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.original_len.to_le_bytes());
        bytes[12] = self.direction as u8;
        bytes
    }

    /// Splits a received record into its header and frame bytes.
    pub fn parse(record: &[u8]) -> Result<(Self, &[u8]), CaptureRecordError> {
        let (header, frame) = record
            .split_first_chunk::<CAPTURE_RECORD_HEADER_LEN>()
            .ok_or(CaptureRecordError::Truncated(record.len()))?;
        let [t0, t1, t2, t3, t4, t5, t6, t7, l0, l1, l2, l3, direction, r0, r1, r2] = *header;
        let direction = match direction {
            0 => CaptureDirection::Received,
            1 => CaptureDirection::Sent,
            other => return Err(CaptureRecordError::UnknownDirection(other)),
        };
        if [r0, r1, r2] != [0; 3] {
            return Err(CaptureRecordError::NonZeroReserved);
        }
        let header = CaptureRecordHeader {
            timestamp_ns: u64::from_le_bytes([t0, t1, t2, t3, t4, t5, t6, t7]),
            original_len: u32::from_le_bytes([l0, l1, l2, l3]),
            direction,
        };
        if u64::try_from(frame.len()).map_or(true, |held| held > u64::from(header.original_len)) {
            return Err(CaptureRecordError::TooLong { held: frame.len(), original_len: header.original_len });
        }
        Ok((header, frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{Channel, MessageBuf};
    use crate::message::{decode_body, decode_header, encode_message, TransactionHeader};
    use crate::Method;

    fn request_round_trip<M: Method>(request: M::Request) -> InterfacesRequest {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(9), request, &mut buf).expect("encodes");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        InterfacesRequest::decode(&header, body, handles).expect("decodes")
    }

    fn reply_bytes<M: Method>(response: M::Response) -> MessageBuf {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<M>(9), response, &mut buf).expect("encodes");
        buf
    }

    fn decode_reply<M: Method>(mut buf: MessageBuf) -> M::Response {
        let MessageBuf { bytes, handles } = &mut buf;
        let (_, body) = decode_header(bytes).expect("header");
        decode_body::<M::Response>(body, handles).expect("decodes")
    }

    #[test]
    fn requests_round_trip() {
        let spec = InterfaceSpec { name: Some("tap0".into()), kind: Some(InterfaceKind::Tap), mtu: None };
        assert!(matches!(
            request_round_trip::<interfaces::CreateInterface>(spec.clone()),
            InterfacesRequest::CreateInterface { spec: s } if s == spec
        ));
        assert!(matches!(
            request_round_trip::<interfaces::SetMtu>((3, 9000)),
            InterfacesRequest::SetMtu { id: 3, mtu: 9000 }
        ));
        assert!(matches!(
            request_round_trip::<interfaces::StartCapture>((2, CaptureOptions { snaplen: Some(96) })),
            InterfacesRequest::StartCapture { id: 2, options: CaptureOptions { snaplen: Some(96) } }
        ));
    }

    #[test]
    fn create_interface_request_golden() {
        // Header, then the struct { spec InterfaceSpec } = the table: 2 envelopes, the second
        // (kind TUN = 2) inlined; the first (name "tun9") out of line as a string.
        let spec = InterfaceSpec { name: Some("tun9".into()), kind: Some(InterfaceKind::Tun), mtu: None };
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<interfaces::CreateInterface>(1), spec, &mut buf)
            .expect("encodes");
        let body = &buf.bytes[16..];
        let expected: Vec<u8> = [
            &[2, 0, 0, 0, 0, 0, 0, 0][..],         // 2 envelopes
            &[0xff; 8],                            // present
            &[24, 0, 0, 0, 0, 0, 0, 0],            // name: 24 bytes out of line, no handles
            &[2, 0, 0, 0, 0, 0, 1, 0],             // kind: inlined 2
            &[4, 0, 0, 0, 0, 0, 0, 0],             // string length 4
            &[0xff; 8],                            // present
            &[b't', b'u', b'n', b'9', 0, 0, 0, 0], // the bytes, padded
        ]
        .concat();
        assert_eq!(body, expected.as_slice());
    }

    #[test]
    fn replies_round_trip() {
        assert_eq!(
            decode_reply::<interfaces::CreateInterface>(reply_bytes::<interfaces::CreateInterface>(Ok(7))),
            Ok(7)
        );
        assert_eq!(
            decode_reply::<interfaces::GetMtu>(reply_bytes::<interfaces::GetMtu>(Err(zx::ERR_NOT_FOUND))),
            Err(-25)
        );
        let (ours, _theirs) = Channel::pair().expect("pair");
        let started = decode_reply::<interfaces::StartCapture>(reply_bytes::<interfaces::StartCapture>(Ok(
            (ours.into_fd(), LinkType::Ethernet),
        )));
        assert!(matches!(started, Ok((_, LinkType::Ethernet))));
    }

    #[test]
    fn capture_records_round_trip() {
        let header = CaptureRecordHeader {
            timestamp_ns: 1_700_000_000_123_456_789,
            original_len: 1514,
            direction: CaptureDirection::Sent,
        };
        let mut record = header.to_bytes().to_vec();
        assert_eq!(&record[8..16], &[0xea, 0x05, 0, 0, 1, 0, 0, 0]);
        record.extend_from_slice(&[0xaa; 96]);
        let (parsed, frame) = CaptureRecordHeader::parse(&record).expect("parses");
        assert_eq!((parsed, frame.len()), (header, 96));
        assert_eq!(CaptureRecordHeader::parse(&record[..15]), Err(CaptureRecordError::Truncated(15)));
        record[12] = 2;
        assert_eq!(CaptureRecordHeader::parse(&record), Err(CaptureRecordError::UnknownDirection(2)));
        record[12] = 0;
        record[13] = 1;
        assert_eq!(CaptureRecordHeader::parse(&record), Err(CaptureRecordError::NonZeroReserved));
        let short = CaptureRecordHeader { original_len: 4, ..header };
        let mut record = short.to_bytes().to_vec();
        record.extend_from_slice(&[0; 5]);
        assert!(matches!(
            CaptureRecordHeader::parse(&record),
            Err(CaptureRecordError::TooLong { held: 5, .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn parsing_arbitrary_records_never_panics(record in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = CaptureRecordHeader::parse(&record);
        }

        #[test]
        fn decoding_arbitrary_requests_never_panics(
            method in 0..interfaces::METHODS.len(),
            txid in proptest::prelude::any::<u32>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..96),
        ) {
            let header = TransactionHeader::new(txid, interfaces::METHODS[method].ordinal);
            let _ = InterfacesRequest::decode(&header, &body, &mut Vec::new());
        }
    }
}
