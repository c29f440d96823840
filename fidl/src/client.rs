//! A blocking FIDL client over one channel, and how clients find the netstack's protocols
//! (`fidl/README.md`, "The svc dir").

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::channel::{Channel, ChannelError, MessageBuf};
use crate::message::{
    decode_body, decode_epitaph, decode_header, encode_message, TransactionHeader, EPITAPH_ORDINAL,
};
use crate::wire::{DecodeError, EncodeError};
use crate::Method;

/// The svc dir clients use when `NETSTACK_SVC_DIR` is not set.
pub const DEFAULT_SVC_DIR: &str = "/run/netstack/svc";
/// The environment variable naming the svc dir.
pub const SVC_DIR_ENV: &str = "NETSTACK_SVC_DIR";

/// The path of `protocol` (for example `fuchsia.posix.socket.Provider`) in the svc dir:
/// `$NETSTACK_SVC_DIR`, or [`DEFAULT_SVC_DIR`], joined with `protocol`.
pub fn service_path(protocol: &str) -> PathBuf {
    let dir = std::env::var_os(SVC_DIR_ENV)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SVC_DIR));
    dir.join(protocol)
}

/// Connects to `protocol` in the svc dir (see [`service_path`]).
pub fn connect_to_protocol(protocol: &str) -> io::Result<Channel> {
    Channel::connect(&service_path(protocol))
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server closed the channel, with the epitaph's status if it sent one.
    #[error("the server closed the channel (epitaph {epitaph:?})")]
    PeerClosed { epitaph: Option<i32> },
    /// The channel failed.
    #[error(transparent)]
    Channel(ChannelError),
    /// The request could not be encoded.
    #[error("encoding the request failed: {0}")]
    Encode(#[from] EncodeError),
    /// The reply could not be decoded.
    #[error("decoding the reply failed: {0}")]
    Decode(#[from] DecodeError),
    /// The reply to our transaction has another method's ordinal.
    #[error("the reply has the unexpected ordinal {ordinal:#x}")]
    UnexpectedReply { ordinal: u64 },
}

impl From<ChannelError> for ClientError {
    fn from(error: ChannelError) -> Self {
        match error {
            ChannelError::PeerClosed => ClientError::PeerClosed { epitaph: None },
            other => ClientError::Channel(other),
        }
    }
}

/// A blocking client over one channel.
///
/// Thread-safe: calls from several threads take turns (a mutex is held from writing a request
/// to reading its reply), so replies cannot be mixed up. Each request gets the next non-zero
/// transaction id (1 to `0x7fff_ffff`; ids with the top bit set are reserved, as on Zircon);
/// messages with other ids (events, or replies to calls abandoned after an error) are
/// discarded. An epitaph ends every call with [`ClientError::PeerClosed`].
///
/// Works in blocking and non-blocking mode (it waits with `poll` for replies). Holds no
/// global state and starts no threads, so a forked child can keep using a client it
/// inherited, as long as its parent does not use the same channel at the same time (the two
/// would read each other's replies; after `fork` one side should `Clone2` a channel of its
/// own). A client forked while another thread of the parent was inside a call must not be
/// used in the child: its mutex stays locked there.
#[derive(Debug)]
pub struct SyncClient {
    channel: Channel,
    next_txid: AtomicU32,
    buffer: Mutex<MessageBuf>,
}

impl SyncClient {
    /// A client over `channel`.
    pub fn new(channel: Channel) -> Self {
        SyncClient { channel, next_txid: AtomicU32::new(1), buffer: Mutex::new(MessageBuf::new()) }
    }

    /// The channel, for example to `dup` it or to wait on it.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Gives the channel back.
    pub fn into_channel(self) -> Channel {
        self.channel
    }

    /// Calls two-way method `M` and waits for its reply.
    pub fn call<M: Method>(&self, request: M::Request) -> Result<M::Response, ClientError> {
        let txid = self.allocate_txid();
        let mut buffer = self.lock();
        encode_message(TransactionHeader::for_method::<M>(txid), request, &mut buffer)?;
        let written = self.channel.write(&buffer);
        buffer.clear();
        if let Err(error) = written {
            return Err(self.closed_or(error, &mut buffer));
        }
        loop {
            self.read_blocking(&mut buffer)?;
            let MessageBuf { bytes, handles } = &mut *buffer;
            let (header, body) = decode_header(bytes)?;
            if header.ordinal == EPITAPH_ORDINAL {
                return Err(ClientError::PeerClosed { epitaph: Some(decode_epitaph(body)?) });
            }
            if header.txid != txid {
                continue;
            }
            if header.ordinal != M::ORDINAL {
                return Err(ClientError::UnexpectedReply { ordinal: header.ordinal });
            }
            return Ok(decode_body::<M::Response>(body, handles)?);
        }
    }

    /// Sends one-way method `M`.
    pub fn send<M: Method>(&self, request: M::Request) -> Result<(), ClientError> {
        let mut buffer = self.lock();
        encode_message(TransactionHeader::for_method::<M>(0), request, &mut buffer)?;
        let written = self.channel.write(&buffer);
        buffer.clear();
        written.map_err(|error| self.closed_or(error, &mut buffer))
    }

    fn lock(&self) -> MutexGuard<'_, MessageBuf> {
        self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn allocate_txid(&self) -> u32 {
        loop {
            let txid = self.next_txid.fetch_add(1, Ordering::Relaxed) & 0x7fff_ffff;
            if txid != 0 {
                return txid;
            }
        }
    }

    /// After a failed write: when the peer is gone, looks for the epitaph it may have left.
    fn closed_or(&self, error: ChannelError, buffer: &mut MessageBuf) -> ClientError {
        if !matches!(error, ChannelError::PeerClosed) {
            return error.into();
        }
        while self.channel.try_read(buffer).is_ok() {
            if let Ok((header, body)) = decode_header(&buffer.bytes) {
                if header.ordinal == EPITAPH_ORDINAL {
                    return ClientError::PeerClosed { epitaph: decode_epitaph(body).ok() };
                }
            }
        }
        ClientError::PeerClosed { epitaph: None }
    }

    fn read_blocking(&self, buffer: &mut MessageBuf) -> Result<(), ChannelError> {
        loop {
            match self.channel.read(buffer) {
                Err(ChannelError::WouldBlock) => {
                    let mut fds = [rustix::event::PollFd::new(&self.channel, rustix::event::PollFlags::IN)];
                    match rustix::event::poll(&mut fds, None) {
                        Ok(_) | Err(rustix::io::Errno::INTR) => {}
                        Err(errno) => return Err(ChannelError::Io(errno.into())),
                    }
                }
                other => return other,
            }
        }
    }
}
