//! The FIDL wire format, version 2.
//!
//! Implements the encoding of the FIDL wire format specification
//! (<https://fuchsia.dev/fuchsia-src/reference/fidl/language/wire-format>) as of RFC-0113
//! (efficient envelopes) and RFC-0114 (inlining small values in envelopes):
//!
//! - every object is little-endian and placed at its natural alignment; each out-of-line
//!   object starts 8-aligned and is padded to a multiple of 8 with zero bytes;
//! - vectors and strings: a 16-byte header (`u64` count, `u64` presence), elements out of line;
//! - nullable boxed structs: a `u64` presence marker, the struct out of line;
//! - handles: a `u32` presence marker (`0xffffffff` present, 0 absent), the handles themselves
//!   out of band, in the order a depth-first traversal meets them;
//! - envelopes: 8 bytes; a value of at most 4 bytes is stored in the envelope itself (flags
//!   bit 0 set), otherwise `u32` byte count, `u16` handle count, `u16` flags, value out of line;
//! - tables: a vector of envelopes, as long as the largest present ordinal;
//! - unions: a `u64` ordinal and an envelope; strict unions reject unknown ordinals;
//! - strict enums and bits reject unknown values;
//! - a decoder rejects non-zero padding, out-of-line nesting deeper than [`MAX_DEPTH`], and
//!   bytes or handles that the message does not use.
//!
//! Types implement [`Layout`], [`Encode`] and [`Decode`]; the macros
//! [`fidl_struct!`](crate::fidl_struct), [`fidl_table!`](crate::fidl_table),
//! [`fidl_union!`](crate::fidl_union), [`fidl_enum!`](crate::fidl_enum),
//! [`fidl_flexible_enum!`](crate::fidl_flexible_enum) and
//! [`fidl_bits!`](crate::fidl_bits) implement them for declarations. Rust types map to FIDL types as follows: integers, floats and `bool` to the
//! primitives; `[T; N]` to `array<T, N>`; `Vec<T>` to `vector<T>`; `String` to `string`; `()`
//! to the empty struct (and, as a whole message body, to "no payload"); tuples to structs of
//! their fields in order; `OwnedFd` and [`Channel`](crate::channel::Channel) to handles;
//! `Option<T>` to the nullable form of strings, vectors, handles and unions, and
//! `Option<Box<T>>` to a nullable struct; `Result<T, E>` to the result union of a method with an
//! `error` type, and [`FlexibleResult`] to that of a flexible method.

mod decoder;
mod encoder;
mod envelope;
mod handle;
mod macros;
mod primitives;
mod vector;

#[cfg(test)]
mod golden_tests;

pub use decoder::Decoder;
pub use encoder::Encoder;
pub use envelope::{
    decode_envelope, decode_table_header, encode_envelope, encode_table_header, skip_envelope,
    FlexibleResult, FrameworkError,
};
#[doc(hidden)]
pub use envelope::{decode_union_variant, encode_union};
pub use primitives::{check_struct_padding, struct_align, struct_field_offset, struct_size};

/// Presence marker of a present out-of-line object.
pub const ALLOC_PRESENT: u64 = u64::MAX;
/// Presence marker of an absent out-of-line object.
pub const ALLOC_ABSENT: u64 = 0;
/// Presence marker of a present handle.
pub const HANDLE_PRESENT: u32 = u32::MAX;
/// Presence marker of an absent handle.
pub const HANDLE_ABSENT: u32 = 0;
/// The deepest nesting of out-of-line objects a message may have.
pub const MAX_DEPTH: usize = 32;

/// The inline shape of a FIDL type.
pub trait Layout {
    /// Size in bytes of the inline part.
    const INLINE_SIZE: usize;
    /// Alignment in bytes of the inline part.
    const ALIGN: usize;
    /// True only for `()`, whose encoding as a whole message body is no bytes at all (a method
    /// without payload), while inside another type it is the 1-byte empty struct.
    #[doc(hidden)]
    const EMPTY_PAYLOAD: bool = false;
}

/// A type that can be written in the wire format. Encoding consumes the value, so that handles
/// move into the message.
pub trait Encode: Layout {
    /// Writes `self` at `offset`, where [`Layout::INLINE_SIZE`] zeroed bytes were reserved;
    /// out-of-line parts go to new objects at nesting `depth + 1`.
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError>;
}

/// A type that can be read from the wire format.
pub trait Decode: Layout + Sized {
    /// Reads a value whose inline part is at `offset`; out-of-line parts are claimed from the
    /// decoder at nesting `depth + 1`.
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError>;
}

/// A type with a nullable form whose absent value encodes as all-zero inline bytes (strings,
/// vectors, handles, unions, boxed structs). `Option<T>` is its nullable version.
pub trait Nullable: Encode + Decode {}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message would exceed 65536 bytes.
    #[error("the message exceeds {} bytes", crate::channel::MAX_MESSAGE_BYTES)]
    MessageTooLarge,
    /// The message would carry more than 64 handles.
    #[error("the message carries more than {} handles", crate::channel::MAX_MESSAGE_HANDLES)]
    TooManyHandles,
    /// Out-of-line objects nest deeper than [`MAX_DEPTH`].
    #[error("out-of-line objects nest deeper than {MAX_DEPTH}")]
    MaxDepthExceeded,
}

/// Why bytes and handles could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The message is shorter than its header or than an object it contains.
    #[error("the message is truncated")]
    Truncated,
    /// The transactional header's magic number is not 1.
    #[error("unknown magic number {0:#x} in the transactional header")]
    InvalidMagic(u8),
    /// The transactional header does not announce wire format v2.
    #[error("the message is not in wire format v2 (at-rest flags {0:#06x})")]
    UnsupportedWireFormat(u16),
    /// A padding byte is not zero.
    #[error("non-zero padding at byte {0}")]
    NonZeroPadding(usize),
    /// A `bool` is neither 0 nor 1.
    #[error("invalid bool {0:#x}")]
    InvalidBool(u8),
    /// A presence marker is neither present nor absent.
    #[error("invalid presence marker {0:#x}")]
    InvalidPresence(u64),
    /// An absent value where the type is not nullable.
    #[error("a non-nullable value is absent")]
    UnexpectedAbsent,
    /// A string is not UTF-8.
    #[error("a string is not valid UTF-8")]
    InvalidUtf8,
    /// A strict enum holds a value it does not declare.
    #[error("unknown value {value} of strict enum {name}")]
    UnknownEnumValue { name: &'static str, value: i128 },
    /// A strict bits value has bits it does not declare.
    #[error("unknown bits {bits:#x} in strict bits {name}")]
    UnknownBits { name: &'static str, bits: u64 },
    /// A strict union holds a variant it does not declare.
    #[error("unknown ordinal {ordinal} of strict union {name}")]
    UnknownUnionOrdinal { name: &'static str, ordinal: u64 },
    /// An envelope's header is inconsistent (flags, inlining, byte or handle counts).
    #[error("invalid envelope: {0}")]
    InvalidEnvelope(&'static str),
    /// The message refers to more handles than it carries.
    #[error("the message refers to a handle it does not carry")]
    MissingHandle,
    /// Bytes follow the last object of the message.
    #[error("{0} bytes after the last object")]
    ExtraBytes(usize),
    /// Handles the message does not refer to.
    #[error("{0} handles the message does not refer to")]
    ExtraHandles(usize),
    /// Out-of-line objects nest deeper than [`MAX_DEPTH`].
    #[error("out-of-line objects nest deeper than {MAX_DEPTH}")]
    MaxDepthExceeded,
    /// A vector or string length overflows the message.
    #[error("a vector or string of {0} elements does not fit in the message")]
    LengthOverflow(u64),
    /// A request's transaction id does not fit its method (0 for a two-way method, non-zero
    /// for a one-way one).
    #[error("transaction id {txid} does not fit method ordinal {ordinal:#x}")]
    InvalidTxid { txid: u32, ordinal: u64 },
    /// The protocol has no method with this ordinal.
    #[error("unknown method ordinal {0:#x}")]
    UnknownOrdinal(u64),
}

/// Rounds `n` up to a multiple of 8, the alignment of every out-of-line object.
pub const fn align8(n: usize) -> usize {
    (n + 7) & !7
}
