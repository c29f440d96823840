//! The cursor a packet parses itself from, and the trait every parsable packet implements.

use zerocopy::{FromBytes, Immutable, KnownLayout, Ref, SplitByteSlice, Unaligned};

/// The byte slices packets are parsed from: `&[u8]` (read-only) or `&mut [u8]` (modifiable in
/// place). `Default` (the empty slice) lets a view hand out its rest without `unsafe`.
pub trait PacketBytes: SplitByteSlice + Default {}
impl<B: SplitByteSlice + Default> PacketBytes for B {}

/// A cursor over the bytes being parsed. Taking bytes from the front or back hands out
/// sub-slices of the same storage (never copies) and records how much was consumed, so the
/// enclosing [`Buf`](super::Buf) can move its body to the payload afterwards.
///
/// `B` is `&[u8]` for read-only parsing or `&mut [u8]` for parsing that later modifies the
/// packet in place.
#[derive(Debug)]
pub struct ParseView<B> {
    rest: B,
    front: usize,
    back: usize,
}

impl<B: PacketBytes> ParseView<B> {
    /// A view over `bytes`, nothing consumed yet.
    pub fn new(bytes: B) -> Self {
        Self { rest: bytes, front: 0, back: 0 }
    }

    /// The bytes not yet taken.
    pub fn as_bytes(&self) -> &[u8] {
        &self.rest
    }

    /// Number of bytes not yet taken.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether every byte has been taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes `n` bytes from the front, or `None` (leaving the view unchanged) if fewer remain.
    pub fn take_front(&mut self, n: usize) -> Option<B> {
        match core::mem::take(&mut self.rest).split_at(n) {
            Ok((front, rest)) => {
                self.rest = rest;
                self.front += n;
                Some(front)
            }
            Err(bytes) => {
                self.rest = bytes;
                None
            }
        }
    }

    /// Takes `n` bytes from the back, or `None` (leaving the view unchanged) if fewer remain.
    pub fn take_back(&mut self, n: usize) -> Option<B> {
        let mid = self.rest.len().checked_sub(n)?;
        match core::mem::take(&mut self.rest).split_at(mid) {
            Ok((rest, back)) => {
                self.rest = rest;
                self.back += n;
                Some(back)
            }
            Err(bytes) => {
                self.rest = bytes;
                None
            }
        }
    }

    /// Takes a fixed-layout header from the front as a typed zero-copy reference.
    pub fn take_obj_front<T>(&mut self) -> Option<Ref<B, T>>
    where
        T: FromBytes + KnownLayout + Immutable + Unaligned,
    {
        let bytes = self.take_front(core::mem::size_of::<T>())?;
        Ref::from_bytes(bytes).ok()
    }

    /// Takes a fixed-layout trailer from the back as a typed zero-copy reference.
    pub fn take_obj_back<T>(&mut self) -> Option<Ref<B, T>>
    where
        T: FromBytes + KnownLayout + Immutable + Unaligned,
    {
        let bytes = self.take_back(core::mem::size_of::<T>())?;
        Ref::from_bytes(bytes).ok()
    }

    /// Hands out everything not yet taken *without* consuming it: this is the payload, which
    /// stays in the enclosing buffer's body for the next layer to parse.
    pub fn take_rest(&mut self) -> B {
        core::mem::take(&mut self.rest)
    }

    /// How many bytes were taken from the front and from the back.
    pub(crate) fn consumed(&self) -> (usize, usize) {
        (self.front, self.back)
    }
}

/// How much of a buffer a parsed packet occupied, so the parse can be undone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseMetadata {
    /// Bytes of header taken from the front.
    pub header_len: usize,
    /// Bytes of payload.
    pub body_len: usize,
    /// Bytes taken from the back: trailer plus any link-layer padding that was trimmed.
    pub footer_len: usize,
}

/// A packet that can be parsed in place from a [`ParseView`].
///
/// Parsing validates everything the packet type promises (lengths, checksums, field values);
/// a value of the type is proof that those checks passed.
pub trait ParsablePacket<B: PacketBytes>: Sized {
    /// Context the parse needs (e.g. the pseudo-header addresses for a transport checksum).
    type Args;
    /// Why parsing failed.
    type Error;

    /// Parses the packet, taking its header from the front and any footer from the back of
    /// `view` and its body with [`ParseView::take_rest`].
    fn parse(view: &mut ParseView<B>, args: Self::Args) -> Result<Self, Self::Error>;

    /// Where the header, body and footer lay.
    fn parse_metadata(&self) -> ParseMetadata;

    /// Parses from a plain byte slice (no enclosing [`Buf`](super::Buf)).
    fn parse_bytes(bytes: B, args: Self::Args) -> Result<Self, Self::Error> {
        Self::parse(&mut ParseView::new(bytes), args)
    }
}
