//! The decoder: bounds-checked reads of a message body, the out-of-line cursor, and the
//! handles in the order the body refers to them.

use std::os::fd::OwnedFd;

use super::{align8, DecodeError, MAX_DEPTH};

/// Reads objects from a message body. Out-of-line objects are claimed in order, as the wire
/// format lays them out depth first; [`Decoder::finish`] checks that nothing is left over.
#[derive(Debug)]
pub struct Decoder<'a> {
    bytes: &'a [u8],
    next_out_of_line: usize,
    handles: Vec<Option<OwnedFd>>,
    next_handle: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder over `bytes` (the body: offset 0 is the top-level object), owning `handles`.
    pub fn new(bytes: &'a [u8], handles: Vec<OwnedFd>) -> Self {
        Decoder {
            bytes,
            next_out_of_line: 0,
            handles: handles.into_iter().map(Some).collect(),
            next_handle: 0,
        }
    }

    /// Claims the next out-of-line object of `size` bytes at nesting `depth` and returns its
    /// offset; the padding up to the next multiple of 8 must be zero.
    pub fn claim(&mut self, size: usize, depth: usize) -> Result<usize, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::MaxDepthExceeded);
        }
        let offset = self.next_out_of_line;
        let end = offset.checked_add(size).ok_or(DecodeError::Truncated)?;
        let padded_end = align8(end);
        if padded_end > self.bytes.len() || padded_end < end {
            return Err(DecodeError::Truncated);
        }
        self.check_zero(end, padded_end - end)?;
        self.next_out_of_line = padded_end;
        Ok(offset)
    }

    /// Where the next out-of-line object will start (the bytes used so far).
    pub fn out_of_line_offset(&self) -> usize {
        self.next_out_of_line
    }

    /// The number of handles taken or skipped so far.
    pub fn handles_used(&self) -> usize {
        self.next_handle
    }

    /// Bytes not yet claimed, for sanity checks on lengths before allocating.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.next_out_of_line
    }

    /// `N` bytes at `offset`.
    pub fn read<const N: usize>(&self, offset: usize) -> Result<[u8; N], DecodeError> {
        let end = offset.checked_add(N).ok_or(DecodeError::Truncated)?;
        let slice = self.bytes.get(offset..end).ok_or(DecodeError::Truncated)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    /// `len` bytes at `offset`.
    pub fn slice(&self, offset: usize, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = offset.checked_add(len).ok_or(DecodeError::Truncated)?;
        self.bytes.get(offset..end).ok_or(DecodeError::Truncated)
    }

    /// Checks that the `len` bytes at `offset` are zero (padding).
    pub fn check_zero(&self, offset: usize, len: usize) -> Result<(), DecodeError> {
        match self.slice(offset, len)?.iter().position(|&b| b != 0) {
            Some(i) => Err(DecodeError::NonZeroPadding(offset + i)),
            None => Ok(()),
        }
    }

    /// Takes the next handle.
    pub fn take_handle(&mut self) -> Result<OwnedFd, DecodeError> {
        let handle = self
            .handles
            .get_mut(self.next_handle)
            .and_then(Option::take)
            .ok_or(DecodeError::MissingHandle)?;
        self.next_handle += 1;
        Ok(handle)
    }

    /// Closes the next `count` handles (those of a value the decoder does not know).
    pub fn skip_handles(&mut self, count: usize) -> Result<(), DecodeError> {
        for _ in 0..count {
            drop(self.take_handle()?);
        }
        Ok(())
    }

    /// Checks that every byte and every handle was used.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.next_out_of_line != self.bytes.len() {
            return Err(DecodeError::ExtraBytes(self.bytes.len() - self.next_out_of_line));
        }
        if self.next_handle != self.handles.len() {
            return Err(DecodeError::ExtraHandles(self.handles.len() - self.next_handle));
        }
        Ok(())
    }
}
