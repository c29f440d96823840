//! Inline types: primitives, arrays, the empty struct, tuples as structs, boxed structs, and
//! the layout arithmetic of structs (wire format: "Primitives", "Arrays", "Structs").

use super::{Decode, DecodeError, Decoder, Encode, EncodeError, Encoder, Layout, Nullable};
use super::{ALLOC_ABSENT, ALLOC_PRESENT};

macro_rules! impl_number {
    ($($ty:ty),*) => {$(
        impl Layout for $ty {
            const INLINE_SIZE: usize = std::mem::size_of::<$ty>();
            const ALIGN: usize = std::mem::size_of::<$ty>();
        }
        impl Encode for $ty {
            fn encode(self, encoder: &mut Encoder<'_>, offset: usize, _depth: usize) -> Result<(), EncodeError> {
                encoder.write(offset, &self.to_le_bytes());
                Ok(())
            }
        }
        impl Decode for $ty {
            fn decode(decoder: &mut Decoder<'_>, offset: usize, _depth: usize) -> Result<Self, DecodeError> {
                Ok(<$ty>::from_le_bytes(decoder.read(offset)?))
            }
        }
    )*};
}

impl_number!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl Layout for bool {
    const INLINE_SIZE: usize = 1;
    const ALIGN: usize = 1;
}

impl Encode for bool {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, _depth: usize) -> Result<(), EncodeError> {
        encoder.write(offset, &[u8::from(self)]);
        Ok(())
    }
}

impl Decode for bool {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, _depth: usize) -> Result<Self, DecodeError> {
        match decoder.read::<1>(offset)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::InvalidBool(other)),
        }
    }
}

/// The empty struct: one zero byte. As a whole message body, no bytes at all.
impl Layout for () {
    const INLINE_SIZE: usize = 1;
    const ALIGN: usize = 1;
    const EMPTY_PAYLOAD: bool = true;
}

impl Encode for () {
    fn encode(self, _encoder: &mut Encoder<'_>, _offset: usize, _depth: usize) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl Decode for () {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, _depth: usize) -> Result<Self, DecodeError> {
        decoder.check_zero(offset, 1)
    }
}

impl<T: Layout, const N: usize> Layout for [T; N] {
    const INLINE_SIZE: usize = T::INLINE_SIZE * N;
    const ALIGN: usize = T::ALIGN;
}

impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        for (i, element) in self.into_iter().enumerate() {
            element.encode(encoder, offset + i * T::INLINE_SIZE, depth)?;
        }
        Ok(())
    }
}

impl<T: Decode, const N: usize> Decode for [T; N] {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        let mut elements = Vec::with_capacity(N);
        for i in 0..N {
            elements.push(T::decode(decoder, offset + i * T::INLINE_SIZE, depth)?);
        }
        // The vector holds exactly N elements, so the conversion cannot fail.
        elements.try_into().map_err(|_| DecodeError::Truncated)
    }
}

/// A present boxed struct: a presence marker inline, the struct out of line. Its nullable form
/// is `Option<Box<T>>`.
impl<T: Layout> Layout for Box<T> {
    const INLINE_SIZE: usize = 8;
    const ALIGN: usize = 8;
}

impl<T: Encode> Encode for Box<T> {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        encoder.write(offset, &ALLOC_PRESENT.to_le_bytes());
        let object = encoder.alloc(T::INLINE_SIZE, depth + 1)?;
        (*self).encode(encoder, object, depth + 1)
    }
}

impl<T: Decode> Decode for Box<T> {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        match u64::from_le_bytes(decoder.read(offset)?) {
            ALLOC_PRESENT => {
                let object = decoder.claim(T::INLINE_SIZE, depth + 1)?;
                Ok(Box::new(T::decode(decoder, object, depth + 1)?))
            }
            ALLOC_ABSENT => Err(DecodeError::UnexpectedAbsent),
            other => Err(DecodeError::InvalidPresence(other)),
        }
    }
}

impl<T: Encode + Decode> Nullable for Box<T> {}

/// The offset of field `index` of a struct whose fields have the `(size, alignment)` pairs
/// `fields`: each field at the next multiple of its alignment.
pub const fn struct_field_offset(fields: &[(usize, usize)], index: usize) -> usize {
    let mut offset = 0;
    let mut i = 0;
    while i < index {
        offset = align_up(offset, fields[i].1) + fields[i].0;
        i += 1;
    }
    align_up(offset, fields[index].1)
}

/// The alignment of a struct: that of its most aligned field (1 when empty).
pub const fn struct_align(fields: &[(usize, usize)]) -> usize {
    let mut align = 1;
    let mut i = 0;
    while i < fields.len() {
        if fields[i].1 > align {
            align = fields[i].1;
        }
        i += 1;
    }
    align
}

/// The inline size of a struct: past its last field, rounded up to its alignment; an empty
/// struct takes one byte.
pub const fn struct_size(fields: &[(usize, usize)]) -> usize {
    if fields.is_empty() {
        return 1;
    }
    let last = fields.len() - 1;
    align_up(struct_field_offset(fields, last) + fields[last].0, struct_align(fields))
}

/// Checks that the padding between and after a struct's fields is zero.
pub fn check_struct_padding(
    decoder: &Decoder<'_>,
    offset: usize,
    fields: &[(usize, usize)],
) -> Result<(), DecodeError> {
    let mut end = 0;
    for (index, &(size, _)) in fields.iter().enumerate() {
        let start = struct_field_offset(fields, index);
        decoder.check_zero(offset + end, start - end)?;
        end = start + size;
    }
    decoder.check_zero(offset + end, struct_size(fields) - end)
}

const fn align_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

/// Tuples encode as structs of their fields in order; method payloads with several fields use
/// them.
macro_rules! impl_tuple {
    ($(($($name:ident $index:tt),+)),*) => {$(
        impl<$($name: Layout),+> Layout for ($($name,)+) {
            const INLINE_SIZE: usize = struct_size(&[$(($name::INLINE_SIZE, $name::ALIGN)),+]);
            const ALIGN: usize = struct_align(&[$(($name::INLINE_SIZE, $name::ALIGN)),+]);
        }
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
                let fields = [$(($name::INLINE_SIZE, $name::ALIGN)),+];
                $( self.$index.encode(encoder, offset + struct_field_offset(&fields, $index), depth)?; )+
                Ok(())
            }
        }
        impl<$($name: Decode),+> Decode for ($($name,)+) {
            fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
                let fields = [$(($name::INLINE_SIZE, $name::ALIGN)),+];
                check_struct_padding(decoder, offset, &fields)?;
                Ok(($($name::decode(decoder, offset + struct_field_offset(&fields, $index), depth)?,)+))
            }
        }
    )*};
}

impl_tuple!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5)
);
