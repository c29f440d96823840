//! Transactional messages: the 16-byte header, whole-message encoding and decoding, and
//! epitaphs (wire format: "Transactional messages", "Epitaphs"; RFC-0053, RFC-0138 for the
//! dynamic flags).

use std::os::fd::OwnedFd;

use crate::channel::MessageBuf;
use crate::wire::{Decode, DecodeError, Decoder, Encode, EncodeError, Encoder};
use crate::{Event, Method};

/// The ordinal of an epitaph, the last message a server sends before closing a channel.
pub const EPITAPH_ORDINAL: u64 = 0xffff_ffff_ffff_ffff;
/// The magic number of the current header format.
pub const MAGIC_NUMBER: u8 = 0x01;
/// At-rest flags byte 0, bit 1: the message uses wire format v2.
pub const AT_REST_FLAG_V2: u8 = 0x02;
/// Dynamic flags bit 7: the method is flexible.
pub const DYNAMIC_FLAG_FLEXIBLE: u8 = 0x80;
/// The size of the transactional header.
pub const HEADER_SIZE: usize = 16;

/// The transactional message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionHeader {
    /// Pairs a reply with its request; 0 for one-way messages, events and epitaphs.
    pub txid: u32,
    /// `[AT_REST_FLAG_V2, 0]` for the messages this crate writes.
    pub at_rest_flags: [u8; 2],
    /// [`DYNAMIC_FLAG_FLEXIBLE`] for flexible methods.
    pub dynamic_flags: u8,
    /// [`MAGIC_NUMBER`].
    pub magic: u8,
    /// The method (or [`EPITAPH_ORDINAL`]).
    pub ordinal: u64,
}

impl TransactionHeader {
    /// A v2 header for a strict method.
    pub fn new(txid: u32, ordinal: u64) -> Self {
        TransactionHeader {
            txid,
            at_rest_flags: [AT_REST_FLAG_V2, 0],
            dynamic_flags: 0,
            magic: MAGIC_NUMBER,
            ordinal,
        }
    }

    /// A v2 header for method `M` (flexible flag set when `M` is flexible).
    pub fn for_method<M: Method>(txid: u32) -> Self {
        let mut header = Self::new(txid, M::ORDINAL);
        if M::FLEXIBLE {
            header.dynamic_flags = DYNAMIC_FLAG_FLEXIBLE;
        }
        header
    }

    /// True when the sender marked the method flexible.
    pub fn is_flexible(&self) -> bool {
        self.dynamic_flags & DYNAMIC_FLAG_FLEXIBLE != 0
    }

    fn to_bytes(self) -> [u8; HEADER_SIZE] {
        let mut bytes = [0u8; HEADER_SIZE];
        bytes[0..4].copy_from_slice(&self.txid.to_le_bytes());
        bytes[4..6].copy_from_slice(&self.at_rest_flags);
        bytes[6] = self.dynamic_flags;
        bytes[7] = self.magic;
        bytes[8..16].copy_from_slice(&self.ordinal.to_le_bytes());
        bytes
    }
}

/// The signature of the request enums' `decode` (e.g. `StreamSocketRequest::decode`), for
/// servers that pick a protocol's decoder at run time.
pub type RequestDecoder<R> = fn(&TransactionHeader, &[u8], &mut Vec<OwnedFd>) -> Result<R, DecodeError>;

/// The header of the reply to request `txid` of the method with `ordinal` (strict).
pub fn header_for_reply(txid: u32, ordinal: u64) -> TransactionHeader {
    TransactionHeader::new(txid, ordinal)
}

/// Encodes `header` and `body` into `out`, clearing it first (which closes handles it still
/// held from an earlier message). `()` as the body means no payload: the header alone.
pub fn encode_message<T: Encode>(
    header: TransactionHeader,
    body: T,
    out: &mut MessageBuf,
) -> Result<(), EncodeError> {
    out.clear();
    out.bytes.extend_from_slice(&header.to_bytes());
    if T::EMPTY_PAYLOAD {
        return Ok(());
    }
    let result = {
        let mut encoder = Encoder::new(&mut out.bytes, &mut out.handles);
        encoder.alloc(T::INLINE_SIZE, 0).and_then(|offset| body.encode(&mut encoder, offset, 0))
    };
    if result.is_err() {
        out.clear();
    }
    result
}

/// Encodes the reply of method `M` to request `txid`.
pub fn encode_reply<M: Method>(
    txid: u32,
    response: M::Response,
    out: &mut MessageBuf,
) -> Result<(), EncodeError> {
    encode_message(TransactionHeader::for_method::<M>(txid), response, out)
}

/// Encodes event `E` (transaction id 0) with `payload`, as a server sends it.
pub fn encode_event<E: Event>(payload: E::Payload, out: &mut MessageBuf) -> Result<(), EncodeError> {
    let mut header = TransactionHeader::new(0, E::ORDINAL);
    if E::FLEXIBLE {
        header.dynamic_flags = DYNAMIC_FLAG_FLEXIBLE;
    }
    encode_message(header, payload, out)
}

/// Encodes an epitaph with `status` (a `zx.Status`) into `out`.
pub fn encode_epitaph(status: i32, out: &mut MessageBuf) {
    out.clear();
    out.bytes.extend_from_slice(&TransactionHeader::new(0, EPITAPH_ORDINAL).to_bytes());
    out.bytes.extend_from_slice(&status.to_le_bytes());
    out.bytes.extend_from_slice(&[0; 4]);
}

/// Splits the header off `bytes`, checking the magic number and the v2 at-rest flag.
pub fn decode_header(bytes: &[u8]) -> Result<(TransactionHeader, &[u8]), DecodeError> {
    let (header, body) = bytes.split_at_checked(HEADER_SIZE).ok_or(DecodeError::Truncated)?;
    let header = TransactionHeader {
        txid: u32::from_le_bytes([header[0], header[1], header[2], header[3]]),
        at_rest_flags: [header[4], header[5]],
        dynamic_flags: header[6],
        magic: header[7],
        ordinal: u64::from_le_bytes([
            header[8], header[9], header[10], header[11], header[12], header[13], header[14], header[15],
        ]),
    };
    if header.magic != MAGIC_NUMBER {
        return Err(DecodeError::InvalidMagic(header.magic));
    }
    if header.at_rest_flags[0] & AT_REST_FLAG_V2 == 0 {
        return Err(DecodeError::UnsupportedWireFormat(u16::from_le_bytes(header.at_rest_flags)));
    }
    Ok((header, body))
}

/// Decodes a message body as a `T`, taking the handles from `handles` in order (the vector is
/// emptied; handles not consumed are closed). Every byte and every handle must be used.
pub fn decode_body<T: Decode>(body: &[u8], handles: &mut Vec<OwnedFd>) -> Result<T, DecodeError> {
    let mut decoder = Decoder::new(body, std::mem::take(handles));
    let value = if T::EMPTY_PAYLOAD {
        // No payload: the body must be empty (checked by `finish`); `()` is built from the
        // one zero byte of its in-struct encoding.
        T::decode(&mut Decoder::new(&[0], Vec::new()), 0, 0)?
    } else {
        let offset = decoder.claim(T::INLINE_SIZE, 0)?;
        T::decode(&mut decoder, offset, 0)?
    };
    decoder.finish()?;
    Ok(value)
}

/// Decodes the status of an epitaph body.
pub fn decode_epitaph(body: &[u8]) -> Result<i32, DecodeError> {
    let mut no_handles = Vec::new();
    decode_body::<(i32,)>(body, &mut no_handles).map(|(status,)| status)
}
