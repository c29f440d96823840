//! Envelopes (RFC-0113, RFC-0114), and what is built from them: tables, unions, and the result
//! unions of methods with an `error` type.
//!
//! An envelope is 8 bytes. A value whose inline size is at most 4 bytes lives in the envelope
//! (`value: [u8; 4]`, `num_handles: u16`, `flags: u16` with bit 0 set); a larger value is the
//! next out-of-line object (`num_bytes: u32` counting it and everything it points to,
//! `num_handles: u16`, `flags: u16` = 0). An absent envelope is all zero.

use super::vector::{decode_vector_header, encode_vector_header};
use super::{Decode, DecodeError, Decoder, Encode, EncodeError, Encoder, Layout};

/// An envelope's size: a table is a vector of envelopes.
const ENVELOPE_SIZE: usize = 8;

/// Flags bit 0: the value is stored in the envelope.
const INLINED: u16 = 1;

/// Writes `value` as the envelope at `offset`; its out-of-line object (if any) is at
/// `depth + 1`.
pub fn encode_envelope<T: Encode>(
    value: T,
    encoder: &mut Encoder<'_>,
    offset: usize,
    depth: usize,
) -> Result<(), EncodeError> {
    let handles_before = encoder.handle_count();
    let flags = if T::INLINE_SIZE <= 4 {
        value.encode(encoder, offset, depth)?;
        INLINED
    } else {
        let bytes_before = encoder.len();
        let object = encoder.alloc(T::INLINE_SIZE, depth + 1)?;
        value.encode(encoder, object, depth + 1)?;
        let num_bytes =
            u32::try_from(encoder.len() - bytes_before).map_err(|_| EncodeError::MessageTooLarge)?;
        encoder.write(offset, &num_bytes.to_le_bytes());
        0
    };
    let num_handles =
        u16::try_from(encoder.handle_count() - handles_before).map_err(|_| EncodeError::TooManyHandles)?;
    encoder.write(offset + 4, &num_handles.to_le_bytes());
    encoder.write(offset + 6, &flags.to_le_bytes());
    Ok(())
}

/// The parts of an envelope header.
struct EnvelopeHeader {
    num_bytes: u32,
    num_handles: u16,
    inlined: bool,
}

fn read_envelope_header(decoder: &Decoder<'_>, offset: usize) -> Result<EnvelopeHeader, DecodeError> {
    let raw: [u8; 8] = decoder.read(offset)?;
    let num_handles = u16::from_le_bytes([raw[4], raw[5]]);
    let flags = u16::from_le_bytes([raw[6], raw[7]]);
    if flags & !INLINED != 0 {
        return Err(DecodeError::InvalidEnvelope("unknown flags"));
    }
    let inlined = flags == INLINED;
    let num_bytes = if inlined { 0 } else { u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) };
    Ok(EnvelopeHeader { num_bytes, num_handles, inlined })
}

/// Reads the envelope at `offset` as a `T`; `None` when the envelope is absent.
pub fn decode_envelope<T: Decode>(
    decoder: &mut Decoder<'_>,
    offset: usize,
    depth: usize,
) -> Result<Option<T>, DecodeError> {
    let header = read_envelope_header(decoder, offset)?;
    let handles_before = decoder.handles_used();
    let value = if header.inlined {
        if T::INLINE_SIZE > 4 {
            return Err(DecodeError::InvalidEnvelope("inlined value larger than 4 bytes"));
        }
        let value = T::decode(decoder, offset, depth)?;
        decoder.check_zero(offset + T::INLINE_SIZE, 4 - T::INLINE_SIZE)?;
        value
    } else if header.num_bytes == 0 && header.num_handles == 0 {
        return Ok(None);
    } else {
        if T::INLINE_SIZE <= 4 {
            return Err(DecodeError::InvalidEnvelope("value of at most 4 bytes not inlined"));
        }
        let bytes_before = decoder.out_of_line_offset();
        let object = decoder.claim(T::INLINE_SIZE, depth + 1)?;
        let value = T::decode(decoder, object, depth + 1)?;
        if decoder.out_of_line_offset() - bytes_before != header.num_bytes as usize {
            return Err(DecodeError::InvalidEnvelope("byte count does not match its content"));
        }
        value
    };
    if decoder.handles_used() - handles_before != usize::from(header.num_handles) {
        return Err(DecodeError::InvalidEnvelope("handle count does not match its content"));
    }
    Ok(Some(value))
}

/// Skips the envelope at `offset` (a table field this side does not know), closing its handles.
pub fn skip_envelope(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<(), DecodeError> {
    let header = read_envelope_header(decoder, offset)?;
    if !header.inlined && header.num_bytes % 8 != 0 {
        return Err(DecodeError::InvalidEnvelope("byte count not a multiple of 8"));
    }
    if header.num_bytes != 0 {
        decoder.claim(header.num_bytes as usize, depth + 1)?;
    }
    decoder.skip_handles(usize::from(header.num_handles))
}

/// Writes a table's vector header for `max_ordinal` envelopes and returns the offset of the
/// first one (ordinal 1).
pub fn encode_table_header(
    encoder: &mut Encoder<'_>,
    offset: usize,
    depth: usize,
    max_ordinal: usize,
) -> Result<usize, EncodeError> {
    encode_vector_header(encoder, offset, depth, max_ordinal, ENVELOPE_SIZE)
}

/// Reads a table's vector header and claims its envelopes; returns (count, offset of the
/// first envelope).
pub fn decode_table_header(
    decoder: &mut Decoder<'_>,
    offset: usize,
    depth: usize,
) -> Result<(usize, usize), DecodeError> {
    decode_vector_header(decoder, offset, depth, ENVELOPE_SIZE)
}

/// Writes a union: its ordinal, then the variant in an envelope.
fn encode_union_variant<T: Encode>(
    ordinal: u64,
    value: T,
    encoder: &mut Encoder<'_>,
    offset: usize,
    depth: usize,
) -> Result<(), EncodeError> {
    encoder.write(offset, &ordinal.to_le_bytes());
    encode_envelope(value, encoder, offset + 8, depth)
}

/// Reads the variant of a present union as a `T`.
#[doc(hidden)]
pub fn decode_union_variant<T: Decode>(
    decoder: &mut Decoder<'_>,
    offset: usize,
    depth: usize,
) -> Result<T, DecodeError> {
    decode_envelope(decoder, offset + 8, depth)?.ok_or(DecodeError::InvalidEnvelope("union variant absent"))
}

/// The result union of a strict method with an `error` type: 1 = response, 2 = err.
impl<T: Layout, E: Layout> Layout for Result<T, E> {
    const INLINE_SIZE: usize = 16;
    const ALIGN: usize = 8;
}

impl<T: Encode, E: Encode> Encode for Result<T, E> {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        match self {
            Ok(response) => encode_union_variant(1, response, encoder, offset, depth),
            Err(err) => encode_union_variant(2, err, encoder, offset, depth),
        }
    }
}

impl<T: Decode, E: Decode> Decode for Result<T, E> {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        match u64::from_le_bytes(decoder.read(offset)?) {
            1 => decode_union_variant(decoder, offset, depth).map(Ok),
            2 => decode_union_variant(decoder, offset, depth).map(Err),
            ordinal => Err(DecodeError::UnknownUnionOrdinal { name: "result", ordinal }),
        }
    }
}

/// The framework error a server reports for a flexible method it does not know (RFC-0138).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameworkError {
    /// `ZX_ERR_NOT_SUPPORTED`: the server does not implement the method.
    UnknownMethod,
}

impl FrameworkError {
    /// The `zx.Status` on the wire.
    const UNKNOWN_METHOD: i32 = -2;
}

impl Layout for FrameworkError {
    const INLINE_SIZE: usize = 4;
    const ALIGN: usize = 4;
}

impl Encode for FrameworkError {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        match self {
            FrameworkError::UnknownMethod => Self::UNKNOWN_METHOD.encode(encoder, offset, depth),
        }
    }
}

impl Decode for FrameworkError {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        match i32::decode(decoder, offset, depth)? {
            Self::UNKNOWN_METHOD => Ok(FrameworkError::UnknownMethod),
            value => Err(DecodeError::UnknownEnumValue { name: "fidl.FrameworkErr", value: value.into() }),
        }
    }
}

/// The result union of a flexible two-way method: 1 = response, 2 = err (sent only by methods
/// with an `error` type), 3 = framework_err.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlexibleResult<T, E> {
    /// The method's response.
    Ok(T),
    /// The method's application error.
    Err(E),
    /// The server did not know the method.
    FrameworkErr(FrameworkError),
}

impl<T: Layout, E: Layout> Layout for FlexibleResult<T, E> {
    const INLINE_SIZE: usize = 16;
    const ALIGN: usize = 8;
}

impl<T: Encode, E: Encode> Encode for FlexibleResult<T, E> {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        match self {
            FlexibleResult::Ok(response) => encode_union_variant(1, response, encoder, offset, depth),
            FlexibleResult::Err(err) => encode_union_variant(2, err, encoder, offset, depth),
            FlexibleResult::FrameworkErr(err) => encode_union_variant(3, err, encoder, offset, depth),
        }
    }
}

impl<T: Decode, E: Decode> Decode for FlexibleResult<T, E> {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        match u64::from_le_bytes(decoder.read(offset)?) {
            1 => decode_union_variant(decoder, offset, depth).map(FlexibleResult::Ok),
            2 => decode_union_variant(decoder, offset, depth).map(FlexibleResult::Err),
            3 => decode_union_variant(decoder, offset, depth).map(FlexibleResult::FrameworkErr),
            ordinal => Err(DecodeError::UnknownUnionOrdinal { name: "flexible result", ordinal }),
        }
    }
}

/// Writes a union at `offset`: `ordinal`, then `value` in an envelope. Used by
/// [`fidl_union!`](crate::fidl_union).
#[doc(hidden)]
pub fn encode_union<T: Encode>(
    ordinal: u64,
    value: T,
    encoder: &mut Encoder<'_>,
    offset: usize,
    depth: usize,
) -> Result<(), EncodeError> {
    encode_union_variant(ordinal, value, encoder, offset, depth)
}
