//! Declarative macros that implement the wire format for FIDL declarations: structs, tables,
//! unions, strict and flexible enums, and bits. Each takes the Rust declaration (with its attributes and doc
//! comments) and adds the [`Layout`](super::Layout), [`Encode`](super::Encode) and
//! [`Decode`](super::Decode) implementations.

/// Declares a FIDL struct: fields laid out in order at their natural alignment, padding zero.
///
/// ```
/// netstack_fidl::fidl_struct! {
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub struct Example { pub a: u8, pub b: u32 }
/// }
/// ```
#[macro_export]
macro_rules! fidl_struct {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_attr:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis struct $name {
            $( $(#[$field_attr])* $field_vis $field: $ty, )*
        }

        impl $name {
            const FIELDS: &'static [(usize, usize)] = &[
                $( (<$ty as $crate::wire::Layout>::INLINE_SIZE, <$ty as $crate::wire::Layout>::ALIGN) ),*
            ];
        }

        impl $crate::wire::Layout for $name {
            const INLINE_SIZE: usize = $crate::wire::struct_size(Self::FIELDS);
            const ALIGN: usize = $crate::wire::struct_align(Self::FIELDS);
        }

        impl $crate::wire::Encode for $name {
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn encode(
                self,
                encoder: &mut $crate::wire::Encoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<(), $crate::wire::EncodeError> {
                let mut index = 0;
                $(
                    $crate::wire::Encode::encode(
                        self.$field,
                        encoder,
                        offset + $crate::wire::struct_field_offset(Self::FIELDS, index),
                        depth,
                    )?;
                    index += 1;
                )*
                Ok(())
            }
        }

        impl $crate::wire::Decode for $name {
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn decode(
                decoder: &mut $crate::wire::Decoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                $crate::wire::check_struct_padding(decoder, offset, Self::FIELDS)?;
                let mut index = 0;
                $(
                    let $field = <$ty as $crate::wire::Decode>::decode(
                        decoder,
                        offset + $crate::wire::struct_field_offset(Self::FIELDS, index),
                        depth,
                    )?;
                    index += 1;
                )*
                Ok(Self { $($field),* })
            }
        }
    };
}

/// Declares a FIDL table: every field optional, each in an envelope at its ordinal. Unknown
/// fields of a received table are skipped (their handles closed). The struct derives
/// `Default` (all fields absent).
///
/// ```
/// netstack_fidl::fidl_table! {
///     #[derive(Debug, Clone, PartialEq, Eq)]
///     pub struct Example { 1 => pub a: u32, 3 => pub b: String }
/// }
/// ```
#[macro_export]
macro_rules! fidl_table {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_attr:meta])* $ordinal:literal => $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Default)]
        $vis struct $name {
            $( $(#[$field_attr])* $field_vis $field: ::std::option::Option<$ty>, )*
        }

        impl $crate::wire::Layout for $name {
            const INLINE_SIZE: usize = 16;
            const ALIGN: usize = 8;
        }

        impl $crate::wire::Encode for $name {
            #[allow(unused_variables, unused_mut)]
            fn encode(
                self,
                encoder: &mut $crate::wire::Encoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<(), $crate::wire::EncodeError> {
                let mut max_ordinal = 0usize;
                $( if self.$field.is_some() { max_ordinal = max_ordinal.max($ordinal); } )*
                let envelopes = $crate::wire::encode_table_header(encoder, offset, depth, max_ordinal)?;
                $(
                    if let ::std::option::Option::Some(value) = self.$field {
                        $crate::wire::encode_envelope(value, encoder, envelopes + ($ordinal - 1) * 8, depth + 1)?;
                    }
                )*
                Ok(())
            }
        }

        impl $crate::wire::Decode for $name {
            #[allow(unused_mut)]
            fn decode(
                decoder: &mut $crate::wire::Decoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                let (count, envelopes) = $crate::wire::decode_table_header(decoder, offset, depth)?;
                let mut table = Self::default();
                for index in 0..count {
                    let envelope = envelopes + index * 8;
                    match index + 1 {
                        $(
                            $ordinal => {
                                table.$field = $crate::wire::decode_envelope(decoder, envelope, depth + 1)?;
                            }
                        )*
                        _ => $crate::wire::skip_envelope(decoder, envelope, depth + 1)?,
                    }
                }
                Ok(table)
            }
        }
    };
}

/// Declares a strict FIDL union: an enum whose variants each hold one value. Unknown ordinals
/// are a decode error. `Option<Union>` is the nullable union.
///
/// ```
/// netstack_fidl::fidl_union! {
///     #[derive(Debug, Clone, PartialEq, Eq)]
///     pub enum Example { 1 => Number(u32), 2 => Text(String) }
/// }
/// ```
#[macro_export]
macro_rules! fidl_union {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_attr:meta])* $ordinal:literal => $variant:ident($ty:ty) ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $( $(#[$variant_attr])* $variant($ty), )*
        }

        impl $crate::wire::Layout for $name {
            const INLINE_SIZE: usize = 16;
            const ALIGN: usize = 8;
        }

        impl $crate::wire::Encode for $name {
            fn encode(
                self,
                encoder: &mut $crate::wire::Encoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<(), $crate::wire::EncodeError> {
                match self {
                    $( $name::$variant(value) => $crate::wire::encode_union($ordinal, value, encoder, offset, depth), )*
                }
            }
        }

        impl $crate::wire::Decode for $name {
            fn decode(
                decoder: &mut $crate::wire::Decoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                let ordinal = u64::from_le_bytes(decoder.read(offset)?);
                match ordinal {
                    $( $ordinal => $crate::wire::decode_union_variant(decoder, offset, depth).map($name::$variant), )*
                    0 => Err($crate::wire::DecodeError::UnexpectedAbsent),
                    ordinal => Err($crate::wire::DecodeError::UnknownUnionOrdinal {
                        name: stringify!($name),
                        ordinal,
                    }),
                }
            }
        }

        impl $crate::wire::Nullable for $name {}
    };
}

/// What strict and flexible enums share: the value's conversion to its integer, and its
/// layout and encoding as that integer (`into_primitive`). Used by [`fidl_enum!`] and
/// [`fidl_flexible_enum!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __fidl_enum_wire {
    ($name:ident, $repr:ident) => {
        impl ::std::convert::From<$name> for $repr {
            fn from(value: $name) -> $repr {
                value.into_primitive()
            }
        }

        impl $crate::wire::Layout for $name {
            const INLINE_SIZE: usize = ::std::mem::size_of::<$repr>();
            const ALIGN: usize = ::std::mem::size_of::<$repr>();
        }

        impl $crate::wire::Encode for $name {
            fn encode(
                self,
                encoder: &mut $crate::wire::Encoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<(), $crate::wire::EncodeError> {
                $crate::wire::Encode::encode(self.into_primitive(), encoder, offset, depth)
            }
        }
    };
}

/// Declares a strict FIDL enum over an integer type. Unknown values are a decode error.
/// Adds `TryFrom<repr>` and `From<Self> for repr`.
///
/// ```
/// netstack_fidl::fidl_enum! {
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Example: u8 { A = 1, B = 2 }
/// }
/// ```
#[macro_export]
macro_rules! fidl_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident : $repr:ident {
            $( $(#[$variant_attr:meta])* $variant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[repr($repr)]
        $vis enum $name {
            $( $(#[$variant_attr])* $variant = $value, )*
        }

        impl $name {
            /// The variant whose value is `value`, if any.
            pub fn from_primitive(value: $repr) -> ::std::option::Option<Self> {
                match value {
                    $( $value => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// The value on the wire.
            pub fn into_primitive(self) -> $repr {
                self as $repr
            }
        }

        impl ::std::convert::TryFrom<$repr> for $name {
            type Error = $crate::wire::DecodeError;
            fn try_from(value: $repr) -> ::std::result::Result<Self, Self::Error> {
                Self::from_primitive(value).ok_or($crate::wire::DecodeError::UnknownEnumValue {
                    name: stringify!($name),
                    value: value.into(),
                })
            }
        }

        $crate::__fidl_enum_wire!($name, $repr);

        impl $crate::wire::Decode for $name {
            fn decode(
                decoder: &mut $crate::wire::Decoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                let value = <$repr as $crate::wire::Decode>::decode(decoder, offset, depth)?;
                ::std::convert::TryFrom::try_from(value)
            }
        }
    };
}

/// Declares a flexible FIDL enum over an integer type: the declared variants plus
/// `Unknown(repr)`, which holds any other value, so decoding never fails on the value. Adds
/// `From<repr>` and `From<Self> for repr`.
///
/// ```
/// netstack_fidl::fidl_flexible_enum! {
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Example: u32 { A = 1, B = 2 }
/// }
/// assert_eq!(Example::from(7), Example::Unknown(7));
/// assert_eq!(u32::from(Example::B), 2);
/// ```
#[macro_export]
macro_rules! fidl_flexible_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident : $repr:ident {
            $( $(#[$variant_attr:meta])* $variant:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $( $(#[$variant_attr])* $variant, )*
            /// A value this binding does not declare (the enum is flexible).
            Unknown($repr),
        }

        impl $name {
            /// The variant for `value`: a declared one, or `Unknown`.
            pub fn from_primitive(value: $repr) -> Self {
                match value {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }

            /// The value on the wire.
            pub fn into_primitive(self) -> $repr {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown(value) => value,
                }
            }

            /// True for a value this binding does not declare.
            pub fn is_unknown(&self) -> bool {
                matches!(Self::from_primitive(self.into_primitive()), $name::Unknown(_))
            }
        }

        impl ::std::convert::From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self::from_primitive(value)
            }
        }

        $crate::__fidl_enum_wire!($name, $repr);

        impl $crate::wire::Decode for $name {
            fn decode(
                decoder: &mut $crate::wire::Decoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                <$repr as $crate::wire::Decode>::decode(decoder, offset, depth).map(Self::from_primitive)
            }
        }
    };
}

/// Declares strict FIDL bits over an unsigned integer type: a newtype with one constant per
/// member. Unknown bits are a decode error.
///
/// ```
/// netstack_fidl::fidl_bits! {
///     pub struct Example: u16 { const A = 1; const B = 2; }
/// }
/// assert_eq!((Example::A | Example::B).bits(), 3);
/// ```
#[macro_export]
macro_rules! fidl_bits {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident : $repr:ident {
            $( $(#[$member_attr:meta])* const $member:ident = $value:literal; )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        $vis struct $name($repr);

        impl $name {
            $( $(#[$member_attr])* pub const $member: $name = $name($value); )*

            /// Every declared member.
            pub const ALL: $name = $name(0 $(| $value)*);

            /// No bits set.
            pub const fn empty() -> Self {
                $name(0)
            }

            /// The value from `bits`, if it has only declared bits.
            // When every bit is declared the mask is zero, which is fine.
            #[allow(clippy::bad_bit_mask)]
            pub const fn from_bits(bits: $repr) -> ::std::option::Option<Self> {
                if bits & !Self::ALL.0 == 0 { Some($name(bits)) } else { None }
            }

            /// The value from `bits`, dropping undeclared bits.
            pub const fn from_bits_truncate(bits: $repr) -> Self {
                $name(bits & Self::ALL.0)
            }

            /// The bits on the wire.
            pub const fn bits(self) -> $repr {
                self.0
            }

            /// True when every bit of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// True when no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
        }

        impl ::std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, other: Self) -> Self {
                $name(self.0 | other.0)
            }
        }

        impl ::std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, other: Self) {
                self.0 |= other.0;
            }
        }

        impl ::std::ops::BitAnd for $name {
            type Output = Self;
            fn bitand(self, other: Self) -> Self {
                $name(self.0 & other.0)
            }
        }

        impl $crate::wire::Layout for $name {
            const INLINE_SIZE: usize = ::std::mem::size_of::<$repr>();
            const ALIGN: usize = ::std::mem::size_of::<$repr>();
        }

        impl $crate::wire::Encode for $name {
            fn encode(
                self,
                encoder: &mut $crate::wire::Encoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<(), $crate::wire::EncodeError> {
                $crate::wire::Encode::encode(self.0, encoder, offset, depth)
            }
        }

        impl $crate::wire::Decode for $name {
            fn decode(
                decoder: &mut $crate::wire::Decoder<'_>,
                offset: usize,
                depth: usize,
            ) -> ::std::result::Result<Self, $crate::wire::DecodeError> {
                let bits = <$repr as $crate::wire::Decode>::decode(decoder, offset, depth)?;
                Self::from_bits(bits).ok_or($crate::wire::DecodeError::UnknownBits {
                    name: stringify!($name),
                    bits: bits.into(),
                })
            }
        }
    };
}
