//! One channel a server answers on, as the socket server (`socket`) and the admin server
//! (`admin`) both keep it: the channel, whether a read may find a message, and the messages
//! that found the channel full.
//!
//! The rules the two servers share: a server reads a
//! channel's next request only while none of its replies waits, so a client that does not
//! read its replies stops being served instead of growing the server's memory; a reply that
//! finds the channel full waits in order, and is sent before anything else once the channel
//! drains. What a broken channel means (close it now, or let the next read find the peer
//! gone) is each server's to decide.

use std::collections::VecDeque;

use netstack_fidl::channel::{Channel, ChannelError, MessageBuf};
use netstack_fidl::message::encode_epitaph;
use netstack_fidl::zx;

/// A served channel.
#[derive(Debug)]
pub(crate) struct ServedChannel {
    pub(crate) channel: Channel,
    /// A read may find a message: set by the reactor's edges, cleared by `EAGAIN`.
    pub(crate) readable: bool,
    /// Messages that found the channel full, in order; requests wait while any do.
    outbox: VecDeque<MessageBuf>,
}

/// What [`ServedChannel::flush`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flushed {
    /// Nothing waits any more.
    Empty,
    /// The channel is full again; the rest waits.
    Blocked,
    /// The write failed: the peer is gone. What waited is dropped.
    Broken,
}

/// What [`ServedChannel::send`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Written.
    Written,
    /// Queued behind earlier messages or a full channel.
    Queued,
    /// The write failed: the peer is gone. The channel is marked readable, so that the next
    /// read finds the peer gone.
    Broken,
}

impl ServedChannel {
    pub(crate) fn new(channel: Channel) -> Self {
        Self { channel, readable: false, outbox: VecDeque::new() }
    }

    /// Reads the next request into `message`: `None` while a reply waits or after a read
    /// found nothing (until the reactor says readable again).
    pub(crate) fn read_request(&mut self, message: &mut MessageBuf) -> Option<Result<(), ChannelError>> {
        if !self.readable || !self.outbox.is_empty() {
            return None;
        }
        let read = self.channel.read(message);
        if matches!(read, Err(ChannelError::WouldBlock)) {
            self.readable = false;
        }
        Some(read)
    }

    /// Sends the messages that waited, in order.
    pub(crate) fn flush(&mut self) -> Flushed {
        while let Some(message) = self.outbox.front() {
            match self.channel.write(message) {
                Ok(()) => drop(self.outbox.pop_front()),
                Err(ChannelError::WouldBlock) => return Flushed::Blocked,
                Err(_) => {
                    self.outbox.clear();
                    return Flushed::Broken;
                }
            }
        }
        Flushed::Empty
    }

    /// Writes `message`, or queues it (taking it out of `message`) while earlier messages
    /// wait or the channel is full. A written message is cleared for reuse, and with it the
    /// server's duplicates of any fds it carried: the peer is now their only holder.
    pub(crate) fn send(&mut self, message: &mut MessageBuf) -> Sent {
        if self.outbox.is_empty() {
            match self.channel.write(message) {
                Ok(()) => {
                    message.clear();
                    return Sent::Written;
                }
                Err(ChannelError::WouldBlock) => {}
                Err(_) => {
                    message.clear();
                    self.readable = true;
                    return Sent::Broken;
                }
            }
        }
        self.outbox.push_back(std::mem::take(message));
        Sent::Queued
    }

    /// Writes an epitaph of `status`, encoded in `scratch` (left cleared), ahead of anything
    /// queued; a full or broken channel loses it, as the channel is closing anyway.
    pub(crate) fn write_epitaph(&mut self, status: zx::Status, scratch: &mut MessageBuf) {
        encode_epitaph(status, scratch);
        let _ = self.channel.write(scratch);
        scratch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bytes: &[u8]) -> MessageBuf {
        let mut m = MessageBuf::new();
        m.bytes.extend_from_slice(bytes);
        m
    }

    #[test]
    fn requests_wait_while_a_reply_waits_and_replies_keep_their_order() {
        let (ours, theirs) = Channel::pair().expect("channel pair");
        ours.set_nonblocking(true).expect("nonblocking");
        theirs.set_nonblocking(true).expect("nonblocking");
        let mut served = ServedChannel::new(ours);
        let mut buf = MessageBuf::new();
        assert!(served.read_request(&mut buf).is_none(), "not readable before the reactor says so");

        // Fill the channel until a reply is queued.
        let mut sent = 0u32;
        loop {
            match served.send(&mut message(&sent.to_le_bytes())) {
                Sent::Written => sent += 1,
                Sent::Queued => break,
                Sent::Broken => panic!("the peer is there"),
            }
        }
        served.readable = true;
        assert!(served.read_request(&mut buf).is_none(), "a request waits while a reply does");
        assert_eq!(served.send(&mut message(&(sent + 1).to_le_bytes())), Sent::Queued);

        // The client reads everything; the queued replies follow in order.
        let mut next = 0u32;
        let mut read = MessageBuf::new();
        while theirs.read(&mut read).is_ok() {
            assert_eq!(read.bytes, next.to_le_bytes());
            next += 1;
            read.clear();
        }
        assert_eq!(served.flush(), Flushed::Empty);
        for expected in [sent, sent + 1] {
            theirs.read(&mut read).expect("a queued reply");
            assert_eq!(read.bytes, expected.to_le_bytes());
            read.clear();
        }
        assert!(matches!(served.read_request(&mut buf), Some(Err(ChannelError::WouldBlock))));
        assert!(!served.readable);
    }

    #[test]
    fn a_gone_peer_breaks_sends_and_marks_the_channel_readable() {
        let (ours, theirs) = Channel::pair().expect("channel pair");
        ours.set_nonblocking(true).expect("nonblocking");
        drop(theirs);
        let mut served = ServedChannel::new(ours);
        assert_eq!(served.send(&mut message(b"reply")), Sent::Broken);
        assert!(served.readable);
        assert!(matches!(served.read_request(&mut MessageBuf::new()), Some(Err(ChannelError::PeerClosed))));
    }
}
