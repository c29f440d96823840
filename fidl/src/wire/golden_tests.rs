//! Byte-exact encodings of the examples of the FIDL wire format specification, the decoder's
//! validation rules, and robustness against arbitrary input.

// The declarations below exercise the macros the way bindings use them; not every generated
// helper is called, and the items are private to this module.
#![allow(unreachable_pub, dead_code)]

use std::os::fd::OwnedFd;

use proptest::prelude::*;

use super::*;
use crate::channel::{Channel, MessageBuf};
use crate::fuchsia_net::{Ipv4Address, Ipv4SocketAddress, SocketAddress};
use crate::fuchsia_posix::Errno;
use crate::message::{decode_body, decode_header, encode_epitaph, encode_message, TransactionHeader};

/// Encodes `value` as a message body and returns the body's bytes and the handles.
fn encode_body<T: Encode>(value: T) -> (Vec<u8>, Vec<OwnedFd>) {
    let mut buf = MessageBuf::new();
    encode_message(TransactionHeader::new(1, 1), value, &mut buf).expect("encodes");
    (buf.bytes.split_off(16), buf.handles)
}

/// Encodes `value` and checks the body against `expected`, then decodes it back.
fn check_golden<T: Encode + Decode + Clone + PartialEq + std::fmt::Debug>(value: T, expected: &[u8]) {
    let (bytes, mut handles) = encode_body(value.clone());
    assert_eq!(bytes, expected, "encoding of {value:?}");
    assert_eq!(decode_body::<T>(&bytes, &mut handles), Ok(value));
}

fn decode<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_body::<T>(bytes, &mut Vec::new())
}

fn fd() -> OwnedFd {
    Channel::pair().expect("socketpair").0.into_fd()
}

crate::fidl_struct! {
    /// A struct with padding after each field (wire format: "Structs").
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Padded { a: u8, b: u32, c: u16 }
}

crate::fidl_struct! {
    #[derive(Debug)]
    struct WithHandles { first: OwnedFd, maybe: Option<OwnedFd>, n: u32 }
}

crate::fidl_table! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Sparse { 1 => a: u32, 3 => b: u64, 5 => c: String }
}

crate::fidl_table! {
    /// `Sparse` as an older peer sees it: it knows field 1 only.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct SparseV1 { 1 => a: u32 }
}

crate::fidl_table! {
    #[derive(Debug)]
    struct HandleTable { 1 => a: u8, 2 => h: OwnedFd }
}

crate::fidl_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Color: u8 { Red = 1, Blue = 3 }
}

crate::fidl_bits! {
    struct Perms: u16 { const READ = 1; const WRITE = 4; }
}

crate::fidl_struct! {
    /// A linked list, to nest out-of-line objects arbitrarily deep.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Node { next: Option<Box<Node>> }
}

fn chain(len: usize) -> Node {
    (0..len).fold(Node { next: None }, |node, _| Node { next: Some(Box::new(node)) })
}

#[test]
fn struct_fields_are_aligned_and_padding_is_zero() {
    check_golden(
        Padded { a: 0x11, b: 0x2233_4455, c: 0x6677 },
        &[
            0x11, 0, 0, 0, 0x55, 0x44, 0x33, 0x22, //
            0x77, 0x66, 0, 0, 0, 0, 0, 0, // size 12, padded to 16 as an object
        ],
    );
    assert_eq!(<Padded as Layout>::INLINE_SIZE, 12);
    assert_eq!(<Padded as Layout>::ALIGN, 4);
}

#[test]
fn primitives_are_little_endian() {
    check_golden(
        (1u8, -2i16, 0x0102_0304u32, -1i64),
        &[
            1, 0, 0xfe, 0xff, 4, 3, 2, 1, //
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
    check_golden((true, 1.5f32), &[1, 0, 0, 0, 0x00, 0x00, 0xc0, 0x3f]);
}

#[test]
fn vector_has_count_presence_and_out_of_line_elements() {
    check_golden(
        vec![1u16, 2, 3],
        &[
            3, 0, 0, 0, 0, 0, 0, 0, // count
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // present
            1, 0, 2, 0, 3, 0, 0, 0, // elements, padded to 8
        ],
    );
    check_golden(
        Vec::<u64>::new(),
        &[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
}

#[test]
fn string_is_a_vector_of_utf8_bytes() {
    check_golden(
        String::from("hello"),
        &[
            5, 0, 0, 0, 0, 0, 0, 0, //
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
            b'h', b'e', b'l', b'l', b'o', 0, 0, 0,
        ],
    );
    let mut invalid = encode_body(String::from("hi")).0;
    invalid[16] = 0xff;
    assert_eq!(decode::<String>(&invalid), Err(DecodeError::InvalidUtf8));
}

#[test]
fn absent_nullable_values_are_zero() {
    check_golden(None::<String>, &[0; 16]);
    check_golden(None::<Vec<u8>>, &[0; 16]);
    check_golden(None::<SocketAddress>, &[0; 16]);
    check_golden(None::<Box<Padded>>, &[0; 8]);
    // A non-nullable string must be present.
    assert_eq!(decode::<String>(&[0; 16]), Err(DecodeError::UnexpectedAbsent));
}

#[test]
fn nullable_struct_is_boxed_out_of_line() {
    check_golden(
        Some(Box::new(Padded { a: 1, b: 2, c: 3 })),
        &[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
            1, 0, 0, 0, 2, 0, 0, 0, //
            3, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
}

#[test]
fn arrays_are_inline() {
    check_golden([1u8, 2, 3], &[1, 2, 3, 0, 0, 0, 0, 0]);
    check_golden(Ipv4Address { addr: [192, 0, 2, 1] }, &[192, 0, 2, 1, 0, 0, 0, 0]);
}

#[test]
fn handles_are_presence_markers_and_travel_out_of_band() {
    let (bytes, mut handles) = encode_body(WithHandles { first: fd(), maybe: None, n: 7 });
    assert_eq!(bytes, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(handles.len(), 1);
    let decoded = decode_body::<WithHandles>(&bytes, &mut handles).expect("decodes");
    assert!(decoded.maybe.is_none());
    assert_eq!(decoded.n, 7);

    let (bytes, handles) = encode_body(WithHandles { first: fd(), maybe: Some(fd()), n: 0 });
    assert_eq!(&bytes[..8], [0xff; 8]);
    assert_eq!(handles.len(), 2);

    // A present marker without a handle, and a handle nobody refers to.
    let (bytes, _) = encode_body(WithHandles { first: fd(), maybe: None, n: 0 });
    assert_eq!(decode::<WithHandles>(&bytes).err(), Some(DecodeError::MissingHandle));
    let mut extra = vec![fd(), fd()];
    assert_eq!(decode_body::<WithHandles>(&bytes, &mut extra).err(), Some(DecodeError::ExtraHandles(1)));
}

#[test]
fn table_has_envelopes_up_to_its_largest_ordinal() {
    check_golden(
        Sparse { a: Some(0x0102_0304), b: Some(5), c: None },
        &[
            3, 0, 0, 0, 0, 0, 0, 0, // max ordinal
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // present
            4, 3, 2, 1, 0, 0, 1, 0, // 1: inlined u32, no handles, flags = inlined
            0, 0, 0, 0, 0, 0, 0, 0, // 2: absent
            8, 0, 0, 0, 0, 0, 0, 0, // 3: 8 bytes out of line, no handles
            5, 0, 0, 0, 0, 0, 0, 0, // the u64
        ],
    );
    check_golden(
        Sparse::default(),
        &[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
}

#[test]
fn table_envelope_counts_nested_out_of_line_bytes() {
    check_golden(
        Sparse { a: None, b: None, c: Some("ab".into()) },
        &[
            5, 0, 0, 0, 0, 0, 0, 0, //
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
            0, 0, 0, 0, 0, 0, 0, 0, //
            0, 0, 0, 0, 0, 0, 0, 0, //
            0, 0, 0, 0, 0, 0, 0, 0, //
            0, 0, 0, 0, 0, 0, 0, 0, //
            24, 0, 0, 0, 0, 0, 0, 0, // 5: the string header (16) and its bytes (8)
            2, 0, 0, 0, 0, 0, 0, 0, //
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
            b'a', b'b', 0, 0, 0, 0, 0, 0,
        ],
    );
}

#[test]
fn unknown_table_fields_are_skipped_with_their_handles() {
    let (bytes, mut handles) = encode_body(Sparse { a: Some(9), b: Some(1), c: Some("x".into()) });
    assert_eq!(decode_body::<SparseV1>(&bytes, &mut handles), Ok(SparseV1 { a: Some(9) }));

    let (bytes, mut handles) = encode_body(HandleTable { a: Some(1), h: Some(fd()) });
    assert_eq!(&bytes[24..32], [0xff, 0xff, 0xff, 0xff, 1, 0, 1, 0], "inlined handle");
    let older = decode_body::<SparseV1>(&bytes, &mut handles).expect("skips the handle field");
    assert_eq!(older.a, Some(1));
}

#[test]
fn union_is_ordinal_and_envelope() {
    check_golden(
        SocketAddress::Ipv4(Ipv4SocketAddress { address: Ipv4Address { addr: [192, 0, 2, 1] }, port: 80 }),
        &[
            1, 0, 0, 0, 0, 0, 0, 0, // ordinal 1: ipv4
            8, 0, 0, 0, 0, 0, 0, 0, // 8 bytes out of line
            192, 0, 2, 1, 80, 0, 0, 0, // Ipv4SocketAddress (6 bytes) padded
        ],
    );
    let mut unknown = encode_body(SocketAddress::Ipv4(Ipv4SocketAddress::default())).0;
    unknown[0] = 7;
    assert_eq!(
        decode::<SocketAddress>(&unknown),
        Err(DecodeError::UnknownUnionOrdinal { name: "SocketAddress", ordinal: 7 })
    );
}

#[test]
fn result_union_carries_response_or_error() {
    check_golden(Ok::<(), Errno>(()), &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    check_golden(Err::<(), Errno>(Errno::EINVAL), &[2, 0, 0, 0, 0, 0, 0, 0, 22, 0, 0, 0, 0, 0, 1, 0]);
    check_golden(
        Ok::<u64, Errno>(3),
        &[1, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0],
    );
    check_golden(
        FlexibleResult::<u8, Errno>::FrameworkErr(FrameworkError::UnknownMethod),
        &[3, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0, 0, 1, 0],
    );
}

#[test]
fn envelope_inlining_is_mandatory_both_ways() {
    // A u32 sent out of line: valid in v1, rejected in v2.
    let out_of_line = [
        1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0, 0, 0, 0, 0, 5, 0,
        0, 0, 0, 0, 0, 0,
    ];
    assert!(matches!(decode::<Sparse>(&out_of_line), Err(DecodeError::InvalidEnvelope(_))));
    // A u64 claimed to be inlined.
    let inlined = [
        3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 1, 0,
    ];
    assert!(matches!(decode::<Sparse>(&inlined), Err(DecodeError::InvalidEnvelope(_))));
    // Unknown flags.
    let flags =
        [1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0, 0, 0, 3, 0];
    assert!(matches!(decode::<Sparse>(&flags), Err(DecodeError::InvalidEnvelope(_))));
    // An inlined u8 with garbage in the rest of the 4 bytes.
    let (mut bytes, _) = encode_body(Ok::<bool, Errno>(true));
    bytes[9] = 1;
    assert_eq!(decode::<Result<bool, Errno>>(&bytes), Err(DecodeError::NonZeroPadding(9)));
}

#[test]
fn strict_enums_and_bits_reject_unknown_values() {
    check_golden(Color::Blue, &[3, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        decode::<Color>(&[2, 0, 0, 0, 0, 0, 0, 0]),
        Err(DecodeError::UnknownEnumValue { name: "Color", value: 2 })
    );
    check_golden(Perms::READ | Perms::WRITE, &[5, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        decode::<Perms>(&[2, 0, 0, 0, 0, 0, 0, 0]),
        Err(DecodeError::UnknownBits { name: "Perms", bits: 2 })
    );
}

#[test]
fn decoder_rejects_non_zero_padding_and_bad_bools() {
    let mut bytes = encode_body(Padded { a: 1, b: 2, c: 3 }).0;
    bytes[1] = 1;
    assert_eq!(decode::<Padded>(&bytes), Err(DecodeError::NonZeroPadding(1)));
    let mut bytes = encode_body(Padded { a: 1, b: 2, c: 3 }).0;
    bytes[13] = 1;
    assert_eq!(decode::<Padded>(&bytes), Err(DecodeError::NonZeroPadding(13)));
    let mut bytes = encode_body(vec![1u8]).0;
    bytes[20] = 1;
    assert_eq!(decode::<Vec<u8>>(&bytes), Err(DecodeError::NonZeroPadding(20)));
    assert_eq!(decode::<bool>(&[2, 0, 0, 0, 0, 0, 0, 0]), Err(DecodeError::InvalidBool(2)));
}

#[test]
fn decoder_requires_every_byte_and_rejects_truncation() {
    let bytes = encode_body(vec![1u32, 2, 3]).0;
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 8]);
    assert_eq!(decode::<Vec<u32>>(&longer), Err(DecodeError::ExtraBytes(8)));
    for len in 0..bytes.len() {
        assert!(decode::<Vec<u32>>(&bytes[..len]).is_err(), "truncated to {len}");
    }
    let mut huge = bytes;
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(decode::<Vec<u32>>(&huge), Err(DecodeError::LengthOverflow(u64::MAX)));
}

#[test]
fn out_of_line_depth_is_limited_to_32() {
    let (bytes, _) = encode_body(chain(MAX_DEPTH));
    assert_eq!(decode::<Node>(&bytes), Ok(chain(MAX_DEPTH)));
    let mut buf = MessageBuf::new();
    assert_eq!(
        encode_message(TransactionHeader::new(1, 1), chain(MAX_DEPTH + 1), &mut buf),
        Err(EncodeError::MaxDepthExceeded)
    );
    // Hand-build a 33-deep chain: each object is one presence marker.
    let mut deep = vec![0xff; 8 * (MAX_DEPTH + 1)];
    deep.extend_from_slice(&[0; 8]);
    assert_eq!(decode::<Node>(&deep), Err(DecodeError::MaxDepthExceeded));
}

#[test]
fn transactional_header_layout() {
    let mut buf = MessageBuf::new();
    encode_message(TransactionHeader::new(0x0102_0304, 0x1122_3344_5566_7788), 7u32, &mut buf)
        .expect("encodes");
    assert_eq!(
        buf.bytes,
        [
            4, 3, 2, 1, 0x02, 0x00, 0x00, 0x01, // txid, at-rest flags (v2), dynamic flags, magic
            0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // ordinal
            7, 0, 0, 0, 0, 0, 0, 0,
        ]
    );
    let (header, body) = decode_header(&buf.bytes).expect("decodes");
    assert_eq!(header.txid, 0x0102_0304);
    assert_eq!(header.ordinal, 0x1122_3344_5566_7788);
    assert_eq!(body.len(), 8);

    encode_message(TransactionHeader::new(5, 9), (), &mut buf).expect("encodes");
    assert_eq!(buf.bytes.len(), 16, "no payload, no body");

    let mut bad = buf.bytes.clone();
    bad[7] = 2;
    assert_eq!(decode_header(&bad), Err(DecodeError::InvalidMagic(2)));
    let mut v1 = buf.bytes.clone();
    v1[4] = 0;
    assert_eq!(decode_header(&v1), Err(DecodeError::UnsupportedWireFormat(0)));
    assert_eq!(decode_header(&buf.bytes[..15]), Err(DecodeError::Truncated));
}

#[test]
fn epitaph_layout() {
    let mut buf = MessageBuf::new();
    encode_epitaph(-10, &mut buf);
    assert_eq!(
        buf.bytes,
        [
            0, 0, 0, 0, 0x02, 0, 0, 0x01, //
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, //
            0xf6, 0xff, 0xff, 0xff, 0, 0, 0, 0, // ZX_ERR_INVALID_ARGS, padding
        ]
    );
    let (header, body) = decode_header(&buf.bytes).expect("decodes");
    assert_eq!(header.ordinal, crate::message::EPITAPH_ORDINAL);
    assert_eq!(crate::message::decode_epitaph(body), Ok(-10));
}

fn decode_any(bytes: &[u8]) {
    let _ = decode::<Padded>(bytes);
    let _ = decode::<Vec<String>>(bytes);
    let _ = decode::<Sparse>(bytes);
    let _ = decode::<Option<SocketAddress>>(bytes);
    let _ = decode::<Result<(Option<SocketAddress>, u64), Errno>>(bytes);
    let _ = decode::<Node>(bytes);
    let _ = decode::<crate::fuchsia_posix_socket::TcpInfo>(bytes);
    let _ = decode::<Vec<crate::fuchsia_posix_socket::InterfaceAddresses>>(bytes);
    let _ = decode_header(bytes);
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        decode_any(&bytes);
    }

    #[test]
    fn decoding_mutated_messages_never_panics(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in any::<usize>(),
    ) {
        let (valid, _) = encode_body(crate::fuchsia_posix_socket::InterfaceAddresses {
            id: Some(1),
            name: Some("eth0".into()),
            addresses: Some(vec![crate::fuchsia_net::Subnet {
                addr: crate::fuchsia_net::IpAddress::Ipv4(Ipv4Address { addr: [192, 0, 2, 1] }),
                prefix_len: 24,
            }]),
            interface_flags: Some(crate::fuchsia_posix_socket::InterfaceFlags::UP),
        });
        let mut bytes = valid.clone();
        for (index, value) in flips {
            let len = bytes.len();
            bytes[index % len] = value;
        }
        bytes.truncate(cut % (valid.len() + 1));
        decode_any(&bytes);
    }

    #[test]
    fn tables_round_trip(a in any::<Option<u32>>(), b in any::<Option<u64>>(), c in any::<Option<String>>()) {
        let value = Sparse { a, b, c };
        let (bytes, mut handles) = encode_body(value.clone());
        prop_assert_eq!(decode_body::<Sparse>(&bytes, &mut handles), Ok(value));
    }
}
