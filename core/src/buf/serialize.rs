//! Inside-out serialization: builders that wrap a finished body in one protocol layer, and
//! serializer chains that know the room all of their layers need.

use alloc::vec;
use alloc::vec::Vec;

use zerocopy::{FromBytes, IntoBytes, KnownLayout, Unaligned};

use super::Buf;

/// What one layer needs around the body it wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketConstraints {
    /// Bytes of header written in front of the body.
    pub header_len: usize,
    /// Bytes of trailer written after the body (and after any padding).
    pub footer_len: usize,
    /// Shorter bodies are padded with zeros up to this length (e.g. Ethernet's 46 bytes).
    pub min_body_len: usize,
    /// Longer bodies cannot be encapsulated (e.g. the 16-bit length of IPv4 and UDP).
    pub max_body_len: usize,
}

impl PacketConstraints {
    /// A layer with a header only and no limits on the body.
    pub const fn header(header_len: usize) -> Self {
        Self { header_len, footer_len: 0, min_body_len: 0, max_body_len: usize::MAX }
    }
}

/// The header and footer slices a [`PacketBuilder`] fills in.
#[derive(Debug)]
pub struct SerializeTarget<'a> {
    /// Exactly `header_len` bytes, immediately in front of the body.
    pub header: &'a mut [u8],
    /// Exactly `footer_len` bytes, immediately after the body.
    pub footer: &'a mut [u8],
}

/// The front of `bytes` as a header of type `H`, for a builder to fill in place.
///
/// Assigning a whole header value through it lets the compiler store each field straight
/// into the packet; building the header on the stack and copying its bytes out instead
/// costs a store-forwarding stall per layer on the send path.
///
/// # Panics
/// If `bytes` is shorter than `H`: a builder whose constraints reserve less header room than
/// it writes.
pub fn header_mut<H: FromBytes + IntoBytes + KnownLayout + Unaligned>(bytes: &mut [u8]) -> &mut H {
    match H::mut_from_prefix(bytes) {
        Ok((header, _)) => header,
        Err(_) => panic!("header room smaller than the {}-byte header", core::mem::size_of::<H>()),
    }
}

/// One protocol layer's header (and footer), written around a finished body.
pub trait PacketBuilder {
    /// The room this layer needs and the body lengths it accepts.
    fn constraints(&self) -> PacketConstraints;

    /// Writes the header and footer. `body` is the finished payload including any padding
    /// added to reach `min_body_len`; lengths and checksums covering it are computed here.
    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]);
}

impl<P: PacketBuilder + ?Sized> PacketBuilder for &P {
    fn constraints(&self) -> PacketConstraints {
        (**self).constraints()
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        (**self).serialize(target, body)
    }
}

/// Why a packet could not be serialized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SerializeError {
    /// The buffer lacks the headroom or tailroom a layer needs.
    #[error("buffer too small: layer needs {header} bytes of headroom and {footer} of tailroom, buffer has {prefix} and {suffix}")]
    NoRoom {
        /// Headroom needed.
        header: usize,
        /// Tailroom needed (footer plus padding).
        footer: usize,
        /// Headroom available.
        prefix: usize,
        /// Tailroom available.
        suffix: usize,
    },
    /// The body is longer than the layer can carry.
    #[error("body of {len} bytes exceeds the layer's maximum of {max}")]
    BodyTooLong {
        /// Body length.
        len: usize,
        /// The layer's maximum.
        max: usize,
    },
}

/// A whole packet to be written: an innermost body and the layers around it, outermost last.
///
/// [`header_room`](Self::header_room), [`footer_room`](Self::footer_room) and
/// [`len`](Self::len) describe the finished packet before anything is written, so the caller
/// can pick a buffer (from a pool) of the right shape, check the result against an MTU, or
/// decide to fragment.
pub trait Serializer: Sized {
    /// Total bytes of headers in front of the innermost body.
    fn header_room(&self) -> usize;
    /// Total bytes after the innermost body: footers and padding.
    fn footer_room(&self) -> usize;
    /// Length of the finished packet.
    fn len(&self) -> usize;

    /// Whether the finished packet is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the packet into `buf`. The innermost body is appended to `buf`'s body (for
    /// [`InPlace`], `buf`'s body already is the innermost body), then every layer wraps it.
    /// On success `buf`'s body is the finished packet.
    fn serialize_into<B: AsRef<[u8]> + AsMut<[u8]>>(&self, buf: &mut Buf<B>) -> Result<(), SerializeError>;

    /// Wraps this serializer in one more layer.
    fn encapsulate<P: PacketBuilder>(self, outer: P) -> Nested<Self, P> {
        Nested { inner: self, outer }
    }

    /// Writes the packet into a freshly allocated buffer of exactly the right size. For
    /// control-plane packets and tests; data paths serialize into pooled buffers instead.
    fn serialize_vec(&self) -> Result<Buf<Vec<u8>>, SerializeError> {
        // Headers, innermost body, footers and padding add up to exactly `len`.
        let header = self.header_room();
        let mut buf = Buf::new(vec![0; self.len()], header..header);
        self.serialize_into(&mut buf)?;
        Ok(buf)
    }
}

/// A serializer wrapped in one more layer; built with [`Serializer::encapsulate`].
#[derive(Clone, Debug)]
pub struct Nested<I, O> {
    inner: I,
    outer: O,
}

impl<I, O> Nested<I, O> {
    /// The inner serializer.
    pub fn inner(&self) -> &I {
        &self.inner
    }

    /// The outermost layer's builder.
    pub fn outer(&self) -> &O {
        &self.outer
    }

    /// Splits into the inner serializer and the outermost builder.
    pub fn into_parts(self) -> (I, O) {
        (self.inner, self.outer)
    }
}

impl<I: Serializer, O: PacketBuilder> Serializer for Nested<I, O> {
    fn header_room(&self) -> usize {
        self.inner.header_room() + self.outer.constraints().header_len
    }

    fn footer_room(&self) -> usize {
        let c = self.outer.constraints();
        self.inner.footer_room() + c.min_body_len.saturating_sub(self.inner.len()) + c.footer_len
    }

    fn len(&self) -> usize {
        let c = self.outer.constraints();
        c.header_len + self.inner.len().max(c.min_body_len) + c.footer_len
    }

    #[inline]
    fn serialize_into<B: AsRef<[u8]> + AsMut<[u8]>>(&self, buf: &mut Buf<B>) -> Result<(), SerializeError> {
        self.inner.serialize_into(buf)?;
        buf.encapsulate(&self.outer)
    }
}

/// A body that is copied in: for control-plane packets (ARP, NDP, an ICMP error quoting the
/// packet that caused it). Data paths use [`InPlace`] instead.
impl Serializer for &[u8] {
    fn header_room(&self) -> usize {
        0
    }

    fn footer_room(&self) -> usize {
        0
    }

    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn serialize_into<B: AsRef<[u8]> + AsMut<[u8]>>(&self, buf: &mut Buf<B>) -> Result<(), SerializeError> {
        let n = <[u8]>::len(self);
        if buf.suffix_len() < n {
            return Err(SerializeError::NoRoom {
                header: 0,
                footer: n,
                prefix: buf.prefix_len(),
                suffix: buf.suffix_len(),
            });
        }
        let start = buf.len();
        buf.grow_back(n);
        buf.body_mut()[start..].copy_from_slice(self);
        Ok(())
    }
}

/// No body at all (a bare TCP ACK, an ARP packet built field by field).
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptyBody;

impl Serializer for EmptyBody {
    fn header_room(&self) -> usize {
        0
    }

    fn footer_room(&self) -> usize {
        0
    }

    fn len(&self) -> usize {
        0
    }

    fn serialize_into<B: AsRef<[u8]> + AsMut<[u8]>>(&self, _buf: &mut Buf<B>) -> Result<(), SerializeError> {
        Ok(())
    }
}

/// The body is already in the target buffer, written there once by its producer (a socket
/// copying application data into a TX buffer at the right offset): the zero-copy data path.
/// Holds the body's length so the chain can size and check the packet in advance.
#[derive(Clone, Copy, Debug)]
pub struct InPlace {
    /// Length of the body that is already in the buffer.
    pub len: usize,
}

impl Serializer for InPlace {
    fn header_room(&self) -> usize {
        0
    }

    fn footer_room(&self) -> usize {
        0
    }

    fn len(&self) -> usize {
        self.len
    }

    fn serialize_into<B: AsRef<[u8]> + AsMut<[u8]>>(&self, buf: &mut Buf<B>) -> Result<(), SerializeError> {
        debug_assert_eq!(buf.len(), self.len, "InPlace length disagrees with the buffer's body");
        Ok(())
    }
}
