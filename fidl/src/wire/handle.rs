//! Handles: file descriptors carried out of band (wire format: "Handles"). The inline part is
//! a `u32` presence marker; the descriptor is the next one in the message's handle list.

use std::os::fd::OwnedFd;

use super::{Decode, DecodeError, Decoder, Encode, EncodeError, Encoder, Layout, Nullable};
use super::{HANDLE_ABSENT, HANDLE_PRESENT};
use crate::channel::Channel;

impl Layout for OwnedFd {
    const INLINE_SIZE: usize = 4;
    const ALIGN: usize = 4;
}

impl Encode for OwnedFd {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, _depth: usize) -> Result<(), EncodeError> {
        encoder.push_handle(self)?;
        encoder.write(offset, &HANDLE_PRESENT.to_le_bytes());
        Ok(())
    }
}

impl Decode for OwnedFd {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, _depth: usize) -> Result<Self, DecodeError> {
        match u32::from_le_bytes(decoder.read(offset)?) {
            HANDLE_PRESENT => decoder.take_handle(),
            HANDLE_ABSENT => Err(DecodeError::UnexpectedAbsent),
            other => Err(DecodeError::InvalidPresence(other.into())),
        }
    }
}

impl Nullable for OwnedFd {}

/// A channel handle (`client_end:P` or `server_end:P`).
impl Layout for Channel {
    const INLINE_SIZE: usize = 4;
    const ALIGN: usize = 4;
}

impl Encode for Channel {
    fn encode(self, encoder: &mut Encoder<'_>, offset: usize, depth: usize) -> Result<(), EncodeError> {
        self.into_fd().encode(encoder, offset, depth)
    }
}

impl Decode for Channel {
    fn decode(decoder: &mut Decoder<'_>, offset: usize, depth: usize) -> Result<Self, DecodeError> {
        OwnedFd::decode(decoder, offset, depth).map(Channel::from_fd)
    }
}

impl Nullable for Channel {}
