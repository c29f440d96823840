//! The encoder: a growing byte buffer of 8-aligned objects plus the out-of-band handle list.

use std::os::fd::OwnedFd;

use super::{align8, EncodeError, MAX_DEPTH};
use crate::channel::{MAX_MESSAGE_BYTES, MAX_MESSAGE_HANDLES};

/// Writes objects into a message buffer. Offsets are absolute positions in `bytes`; objects
/// are appended 8-aligned and zero-filled, so padding is zero without further work.
#[derive(Debug)]
pub struct Encoder<'a> {
    bytes: &'a mut Vec<u8>,
    handles: &'a mut Vec<OwnedFd>,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `bytes` (whose length must be a multiple of 8) and `handles`.
    pub fn new(bytes: &'a mut Vec<u8>, handles: &'a mut Vec<OwnedFd>) -> Self {
        debug_assert_eq!(bytes.len() % 8, 0);
        Encoder { bytes, handles }
    }

    /// Appends a zeroed object of `size` bytes (padded to 8) at nesting `depth` and returns its
    /// offset.
    pub fn alloc(&mut self, size: usize, depth: usize) -> Result<usize, EncodeError> {
        if depth > MAX_DEPTH {
            return Err(EncodeError::MaxDepthExceeded);
        }
        let offset = self.bytes.len();
        let end = size
            .checked_add(offset)
            .map(align8)
            .filter(|&end| end <= MAX_MESSAGE_BYTES)
            .ok_or(EncodeError::MessageTooLarge)?;
        self.bytes.resize(end, 0);
        Ok(offset)
    }

    /// The number of bytes written so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True before anything was written.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The number of handles added so far.
    pub fn handle_count(&self) -> usize {
        self.handles.len()
    }

    /// Copies `data` to `offset`, inside an object allocated before.
    pub fn write(&mut self, offset: usize, data: &[u8]) {
        self.bytes[offset..offset + data.len()].copy_from_slice(data);
    }

    /// Moves `fd` into the message's handles.
    pub fn push_handle(&mut self, fd: OwnedFd) -> Result<(), EncodeError> {
        if self.handles.len() >= MAX_MESSAGE_HANDLES {
            return Err(EncodeError::TooManyHandles);
        }
        self.handles.push(fd);
        Ok(())
    }
}
