//! Zero-copy packet buffers: our equivalent of Fuchsia's `packet` crate.
//!
//! A [`Buf`] is a byte storage with a *body* range inside it. The bytes in front of the body
//! are headroom (the *prefix*), the bytes after it tailroom (the *suffix*).
//!
//! * **Parsing in place.** [`Buf::parse`] hands the body to a [`ParsablePacket`], which takes
//!   its header from the front (and any footer or padding from the back) of a [`ParseView`].
//!   Afterwards the buffer's body is exactly the packet's payload, ready for the next layer,
//!   and nothing was copied. [`Buf::undo_parse`] grows the body back over the header, so a
//!   received packet can be forwarded or quoted in an ICMP error as it arrived.
//! * **Serializing inside out.** A payload is written once into a buffer with enough headroom;
//!   each [`PacketBuilder`] then writes its header into the prefix and its footer or padding
//!   into the suffix ([`Buf::encapsulate`]). Lengths and pseudo-header checksums are computed
//!   as the layers nest, because every builder sees the finished body it wraps. A
//!   [`Serializer`] chain ([`Serializer::encapsulate`]) knows ahead of time how much room all
//!   of its layers need, so a buffer of the right shape can be taken from a pool.
//!
//! Buffers are plain storage (`Vec<u8>`, `&mut [u8]`, a pool slot): once a pool is warm the
//! whole path allocates nothing.

mod serialize;
mod view;

pub use serialize::{
    header_mut, EmptyBody, InPlace, Nested, PacketBuilder, PacketConstraints, SerializeError,
    SerializeTarget, Serializer,
};
pub use view::{PacketBytes, ParsablePacket, ParseMetadata, ParseView};

use core::ops::Range;

/// Storage with a body range; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buf<B> {
    storage: B,
    body: Range<usize>,
}

impl<B: AsRef<[u8]>> Buf<B> {
    /// Wraps `storage`, whose body is `body`.
    ///
    /// # Panics
    /// If `body` does not lie inside `storage` (a caller bug, never a property of input).
    pub fn new(storage: B, body: Range<usize>) -> Self {
        let len = storage.as_ref().len();
        assert!(body.start <= body.end && body.end <= len, "body {body:?} outside storage of {len} bytes");
        Self { storage, body }
    }

    /// Wraps `storage` with all of it as the body.
    pub fn from_body(storage: B) -> Self {
        let len = storage.as_ref().len();
        Self { storage, body: 0..len }
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.storage.as_ref()[self.body.clone()]
    }

    /// The body's position inside the storage.
    pub fn body_range(&self) -> Range<usize> {
        self.body.clone()
    }

    /// Length of the body.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Bytes of headroom in front of the body.
    pub fn prefix_len(&self) -> usize {
        self.body.start
    }

    /// Bytes of tailroom after the body.
    pub fn suffix_len(&self) -> usize {
        self.storage.as_ref().len() - self.body.end
    }

    /// Total size of the storage.
    pub fn capacity(&self) -> usize {
        self.storage.as_ref().len()
    }

    /// Extends the body `n` bytes to the front, over headroom.
    ///
    /// # Panics
    /// If there are fewer than `n` bytes of headroom.
    pub fn grow_front(&mut self, n: usize) {
        assert!(n <= self.body.start, "grow_front({n}) with {} bytes of headroom", self.body.start);
        self.body.start -= n;
    }

    /// Extends the body `n` bytes to the back, over tailroom.
    ///
    /// # Panics
    /// If there are fewer than `n` bytes of tailroom.
    pub fn grow_back(&mut self, n: usize) {
        assert!(n <= self.suffix_len(), "grow_back({n}) with {} bytes of tailroom", self.suffix_len());
        self.body.end += n;
    }

    /// Removes `n` bytes from the front of the body, turning them into headroom.
    ///
    /// # Panics
    /// If the body is shorter than `n`.
    pub fn shrink_front(&mut self, n: usize) {
        assert!(n <= self.body.len(), "shrink_front({n}) of a {}-byte body", self.body.len());
        self.body.start += n;
    }

    /// Removes `n` bytes from the back of the body, turning them into tailroom.
    ///
    /// # Panics
    /// If the body is shorter than `n`.
    pub fn shrink_back(&mut self, n: usize) {
        assert!(n <= self.body.len(), "shrink_back({n}) of a {}-byte body", self.body.len());
        self.body.end -= n;
    }

    /// Sets the body to `range` of the storage, e.g. to reuse a buffer for a new packet.
    ///
    /// # Panics
    /// If `range` does not lie inside the storage.
    pub fn reset(&mut self, range: Range<usize>) {
        let len = self.storage.as_ref().len();
        assert!(
            range.start <= range.end && range.end <= len,
            "body {range:?} outside storage of {len} bytes"
        );
        self.body = range;
    }

    /// Parses a packet from the front of the body. On success the body shrinks to the
    /// packet's payload; on failure the body is unchanged.
    pub fn parse<'a, P: ParsablePacket<&'a [u8]>>(&'a mut self, args: P::Args) -> Result<P, P::Error> {
        let Self { storage, body } = self;
        let storage: &'a B = storage;
        let mut view = ParseView::new(&B::as_ref(storage)[body.clone()]);
        let packet = P::parse(&mut view, args)?;
        let (front, back) = view.consumed();
        body.start += front;
        body.end -= back;
        Ok(packet)
    }

    /// Undoes a [`parse`](Self::parse) whose packet reported `meta`: the body grows back over
    /// the header and footer.
    pub fn undo_parse(&mut self, meta: ParseMetadata) {
        self.grow_front(meta.header_len);
        self.grow_back(meta.footer_len);
    }

    /// Gives the storage back.
    pub fn into_inner(self) -> B {
        self.storage
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Buf<B> {
    /// The body, mutably.
    pub fn body_mut(&mut self) -> &mut [u8] {
        &mut self.storage.as_mut()[self.body.clone()]
    }

    /// Like [`parse`](Self::parse), but the packet can modify its bytes in place (e.g. a
    /// forwarder decrementing the TTL).
    pub fn parse_mut<'a, P: ParsablePacket<&'a mut [u8]>>(
        &'a mut self,
        args: P::Args,
    ) -> Result<P, P::Error> {
        let Self { storage, body } = self;
        let mut view = ParseView::new(&mut B::as_mut(storage)[body.clone()]);
        let packet = P::parse(&mut view, args)?;
        let (front, back) = view.consumed();
        body.start += front;
        body.end -= back;
        Ok(packet)
    }

    /// Wraps the body in one more layer: pads the body to the builder's minimum body length
    /// (in tailroom), then writes the header into headroom and the footer into tailroom. On
    /// success the body is the whole new packet; on failure nothing changed.
    #[inline]
    pub fn encapsulate<P: PacketBuilder + ?Sized>(&mut self, builder: &P) -> Result<(), SerializeError> {
        let c = builder.constraints();
        let body_len = self.len();
        if body_len > c.max_body_len {
            return Err(SerializeError::BodyTooLong { len: body_len, max: c.max_body_len });
        }
        let padding = c.min_body_len.saturating_sub(body_len);
        if self.prefix_len() < c.header_len || self.suffix_len() < padding + c.footer_len {
            return Err(SerializeError::NoRoom {
                header: c.header_len,
                footer: padding + c.footer_len,
                prefix: self.prefix_len(),
                suffix: self.suffix_len(),
            });
        }
        let start = self.body.start - c.header_len;
        let body_end = self.body.end + padding;
        let end = body_end + c.footer_len;
        let bytes = &mut self.storage.as_mut()[start..end];
        let (header, rest) = bytes.split_at_mut(c.header_len);
        let (body, footer) = rest.split_at_mut(body_len + padding);
        if padding > 0 {
            body[body_len..].fill(0);
        }
        builder.serialize(&mut SerializeTarget { header, footer }, body);
        self.body = start..end;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
