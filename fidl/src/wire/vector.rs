//! Vectors, strings and the nullable forms of out-of-line types (wire format: "Vectors",
//! "Strings", "Optional values").

use super::{Decode, DecodeError, Decoder, Encode, EncodeError, Encoder, Layout, Nullable};
use super::{ALLOC_ABSENT, ALLOC_PRESENT};

/// Writes a vector header and returns the offset of the (allocated) element object.
pub(super) fn encode_vector_header(
    encoder: &mut Encoder<'_>,
    offset: usize,
    depth: usize,
    count: usize,
    element_size: usize,
) -> Result<usize, EncodeError> {
    encoder.write(offset, &(count as u64).to_le_bytes());
    encoder.write(offset + 8, &ALLOC_PRESENT.to_le_bytes());
    let size = count.checked_mul(element_size).ok_or(EncodeError::MessageTooLarge)?;
    encoder.alloc(size, depth + 1)
}

/// Reads a present vector header and claims its elements; returns (count, elements offset).
pub(super) fn decode_vector_header(
    decoder: &mut Decoder<'_>,
    offset: usize,
    depth: usize,
    element_size: usize,
) -> Result<(usize, usize), DecodeError> {
    let count = u64::from_le_bytes(decoder.read(offset)?);
    match u64::from_le_bytes(decoder.read(offset + 8)?) {
        ALLOC_PRESENT => {}
        ALLOC_ABSENT => return Err(DecodeError::UnexpectedAbsent),
        other => return Err(DecodeError::InvalidPresence(other)),
    }
    let size = usize::try_from(count)
        .ok()
        .and_then(|count| count.checked_mul(element_size))
        .filter(|&size| size <= decoder.remaining())
        .ok_or(DecodeError::LengthOverflow(count))?;
    let elements = decoder.claim(size, depth + 1)?;
    // `size` fits the message, so `count` fits a usize.
    Ok((size / element_size, elements))
}

impl<T: Layout> Layout for Vec<T> {
    const INLINE_SIZE: usize = 16;
    const ALIGN: usize = 8;
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        let elements = encode_vector_header(encoder, offset, depth, self.len(), T::INLINE_SIZE)?;
        for (i, element) in self.into_iter().enumerate() {
            element.encode(encoder, elements + i * T::INLINE_SIZE, depth + 1)?;
        }
        Ok(())
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        let (count, elements) = decode_vector_header(decoder, offset, depth, T::INLINE_SIZE)?;
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            out.push(T::decode(decoder, elements + i * T::INLINE_SIZE, depth + 1)?);
        }
        Ok(out)
    }
}

impl<T: Encode + Decode> Nullable for Vec<T> {}

impl Layout for String {
    const INLINE_SIZE: usize = 16;
    const ALIGN: usize = 8;
}

impl Encode for String {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        let bytes = encode_vector_header(encoder, offset, depth, self.len(), 1)?;
        encoder.write(bytes, self.as_bytes());
        Ok(())
    }
}

impl Decode for String {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        let (len, bytes) = decode_vector_header(decoder, offset, depth, 1)?;
        let bytes = decoder.slice(bytes, len)?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| DecodeError::InvalidUtf8)
    }
}

impl Nullable for String {}

/// The nullable form of `T`: absent is all-zero inline bytes.
impl<T: Nullable> Layout for Option<T> {
    const INLINE_SIZE: usize = T::INLINE_SIZE;
    const ALIGN: usize = T::ALIGN;
}

impl<T: Nullable> Encode for Option<T> {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        match self {
            Some(value) => value.encode(encoder, offset, depth),
            None => Ok(()),
        }
    }
}

impl<T: Nullable> Decode for Option<T> {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        if decoder.slice(offset, T::INLINE_SIZE)?.iter().all(|&b| b == 0) {
            Ok(None)
        } else {
            T::decode(decoder, offset, depth).map(Some)
        }
    }
}
