//! A blocking FIDL client over one channel, and how clients find the netstack's protocols
//! (`fidl/README.md`, "The svc dir").

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::channel::{Channel, ChannelError, MessageBuf};
use crate::message::{
    decode_body, decode_epitaph, decode_header, encode_message, TransactionHeader, EPITAPH_ORDINAL,
};
use crate::wire::{DecodeError, EncodeError};
use crate::{EventEnum, Method};

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

/// The next transaction id from `counter`: never 0, never with the top bit set.
pub(crate) fn allocate_txid(counter: &AtomicU32) -> u32 {
    loop {
        let txid = counter.fetch_add(1, Ordering::Relaxed) & 0x7fff_ffff;
        if txid != 0 {
            return txid;
        }
    }
}

/// Looks at a message received while waiting for the reply to `txid` of method `M`: `None`
/// when it belongs to another transaction (keep waiting), else the call's outcome.
pub(crate) fn take_reply<M: Method>(
    txid: u32,
    buffer: &mut MessageBuf,
) -> Option<Result<M::Response, ClientError>> {
    let MessageBuf { bytes, handles } = buffer;
    let (header, body) = match decode_header(bytes) {
        Ok(parts) => parts,
        Err(error) => return Some(Err(error.into())),
    };
    if header.ordinal == EPITAPH_ORDINAL {
        return Some(match decode_epitaph(body) {
            Ok(status) => Err(ClientError::PeerClosed { epitaph: Some(status) }),
            Err(error) => Err(error.into()),
        });
    }
    if header.txid != txid {
        return None;
    }
    if header.ordinal != M::ORDINAL {
        return Some(Err(ClientError::UnexpectedReply { ordinal: header.ordinal }));
    }
    Some(decode_body::<M::Response>(body, handles).map_err(ClientError::from))
}

/// True when `buffer` holds an event: a well-formed header with transaction id 0 that is not
/// an epitaph.
fn is_event(buffer: &MessageBuf) -> bool {
    decode_header(&buffer.bytes)
        .is_ok_and(|(header, _)| header.txid == 0 && header.ordinal != EPITAPH_ORDINAL)
}

/// Decodes the event in `buffer` as an `E`.
fn decode_event<E: EventEnum>(buffer: &mut MessageBuf) -> Result<E, ClientError> {
    let MessageBuf { bytes, handles } = buffer;
    let (header, body) = decode_header(bytes)?;
    Ok(E::decode_event(&header, body, handles)?)
}

/// Looks at a message received while waiting for an event: `None` for a reply (keep waiting),
/// else the event or the epitaph's error.
fn take_event<E: EventEnum>(buffer: &mut MessageBuf) -> Option<Result<E, ClientError>> {
    let (header, body) = match decode_header(&buffer.bytes) {
        Ok(parts) => parts,
        Err(error) => return Some(Err(error.into())),
    };
    if header.ordinal == EPITAPH_ORDINAL {
        return Some(match decode_epitaph(body) {
            Ok(status) => Err(ClientError::PeerClosed { epitaph: Some(status) }),
            Err(error) => Err(error.into()),
        });
    }
    if header.txid != 0 {
        return None;
    }
    Some(decode_event(buffer))
}

/// After a failed write: when the peer is gone, looks for the epitaph it may have left.
pub(crate) fn closed_or(channel: &Channel, error: ChannelError, buffer: &mut MessageBuf) -> ClientError {
    if !matches!(error, ChannelError::PeerClosed) {
        return error.into();
    }
    while channel.try_read(buffer).is_ok() {
        if let Ok((header, body)) = decode_header(&buffer.bytes) {
            if header.ordinal == EPITAPH_ORDINAL {
                return ClientError::PeerClosed { epitaph: decode_epitaph(body).ok() };
            }
        }
    }
    ClientError::PeerClosed { epitaph: None }
}

/// The most events a [`SyncClient`] keeps while a call waits for its reply; later ones are
/// dropped until [`SyncClient::next_event`] takes some.
pub const MAX_QUEUED_EVENTS: usize = 64;

/// A blocking client over one channel.
///
/// Thread-safe: calls from several threads take turns (a mutex is held from writing a request
/// to reading its reply), so replies cannot be mixed up. Each request gets the next non-zero
/// transaction id (1 to `0x7fff_ffff`; ids with the top bit set are reserved, as on Zircon);
/// messages with other non-zero ids (replies to calls abandoned after an error) are discarded.
/// An epitaph ends every call with [`ClientError::PeerClosed`].
///
/// Events (transaction id 0) that arrive while a call waits are kept, up to
/// [`MAX_QUEUED_EVENTS`], for [`SyncClient::next_event`]. A call has no time limit, so a
/// hanging get (`Watch`) simply waits until the server answers; a client that must do other
/// work meanwhile uses one `SyncClient` per channel and one thread per outstanding call.
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
    state: Mutex<ClientState>,
}

/// What the mutex of a [`SyncClient`] guards.
#[derive(Debug, Default)]
struct ClientState {
    buffer: MessageBuf,
    /// Events received while waiting for a reply, oldest first.
    events: VecDeque<MessageBuf>,
}

impl SyncClient {
    /// A client over `channel`.
    pub fn new(channel: Channel) -> Self {
        SyncClient { channel, next_txid: AtomicU32::new(1), state: Mutex::new(ClientState::default()) }
    }

    /// The channel, for example to `dup` it or to wait on it.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Gives the channel back.
    pub fn into_channel(self) -> Channel {
        self.channel
    }

    /// Calls two-way method `M` and waits for its reply. (Naming a one-way method does not
    /// compile.)
    pub fn call<M: Method>(&self, request: M::Request) -> Result<M::Response, ClientError> {
        const { assert!(!M::ONE_WAY, "a one-way method has no reply: use send") };
        let txid = self.allocate_txid();
        let mut state = self.lock();
        let ClientState { buffer, events } = &mut *state;
        encode_message(TransactionHeader::for_method::<M>(txid), request, buffer)?;
        let written = self.channel.write(buffer);
        buffer.clear();
        if let Err(error) = written {
            return Err(self.closed_or(error, buffer));
        }
        loop {
            self.read_blocking(buffer)?;
            if is_event(buffer) {
                if events.len() < MAX_QUEUED_EVENTS {
                    events.push_back(std::mem::take(buffer));
                }
                continue;
            }
            if let Some(reply) = take_reply::<M>(txid, buffer) {
                return reply;
            }
        }
    }

    /// Waits for the next event of the protocol (`E` is its event enum, e.g. `ControlEvent`),
    /// taking first those that arrived during calls. Replies to abandoned calls are skipped;
    /// an epitaph or the closed channel ends the wait with [`ClientError::PeerClosed`], an
    /// event `E` does not know with [`ClientError::Decode`].
    pub fn next_event<E: EventEnum>(&self) -> Result<E, ClientError> {
        let mut state = self.lock();
        let ClientState { buffer, events } = &mut *state;
        if let Some(mut queued) = events.pop_front() {
            return decode_event(&mut queued);
        }
        loop {
            self.read_blocking(buffer)?;
            if let Some(event) = take_event(buffer) {
                return event;
            }
        }
    }

    /// The next event if one is already there, without waiting (`Ok(None)` otherwise): for a
    /// client that polls [`SyncClient::channel`] itself.
    pub fn try_next_event<E: EventEnum>(&self) -> Result<Option<E>, ClientError> {
        let mut state = self.lock();
        let ClientState { buffer, events } = &mut *state;
        if let Some(mut queued) = events.pop_front() {
            return decode_event(&mut queued).map(Some);
        }
        loop {
            match self.channel.try_read(buffer) {
                Ok(()) => {}
                Err(ChannelError::WouldBlock) => return Ok(None),
                Err(error) => return Err(error.into()),
            }
            if let Some(event) = take_event(buffer) {
                return event.map(Some);
            }
        }
    }

    /// Sends one-way method `M`. (Naming a two-way method does not compile.)
    pub fn send<M: Method>(&self, request: M::Request) -> Result<(), ClientError> {
        const { assert!(M::ONE_WAY, "a two-way method needs its reply: use call") };
        let mut state = self.lock();
        let buffer = &mut state.buffer;
        encode_message(TransactionHeader::for_method::<M>(0), request, buffer)?;
        let written = self.channel.write(buffer);
        buffer.clear();
        written.map_err(|error| self.closed_or(error, buffer))
    }

    fn lock(&self) -> MutexGuard<'_, ClientState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn allocate_txid(&self) -> u32 {
        allocate_txid(&self.next_txid)
    }

    fn closed_or(&self, error: ChannelError, buffer: &mut MessageBuf) -> ClientError {
        closed_or(&self.channel, error, buffer)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuchsia_posix::Errno;
    use crate::fuchsia_posix_socket::{base_socket, BaseSocketRequest};
    use crate::message::{encode_epitaph, encode_reply, header_for_reply};
    use crate::wire::DecodeError;
    use std::thread;

    /// Answers `count` BaseSocket requests: `GetReuseAddress` with the txid's parity,
    /// `SetReuseAddress` with EINVAL for `false`.
    fn serve(channel: Channel, count: usize) -> thread::JoinHandle<()> {
        thread::spawn(move || {
            let mut buf = MessageBuf::new();
            for _ in 0..count {
                channel.read(&mut buf).expect("request");
                let MessageBuf { bytes, handles } = &mut buf;
                let (header, body) = decode_header(bytes).expect("header");
                let txid = header.txid;
                let request = BaseSocketRequest::decode(&header, body, handles).expect("request");
                let mut reply = MessageBuf::new();
                match request {
                    BaseSocketRequest::GetReuseAddress {} => {
                        encode_reply::<base_socket::GetReuseAddress>(txid, Ok(txid % 2 == 1), &mut reply)
                    }
                    BaseSocketRequest::SetReuseAddress { value } => {
                        encode_reply::<base_socket::SetReuseAddress>(
                            txid,
                            if value { Ok(()) } else { Err(Errno::EINVAL) },
                            &mut reply,
                        )
                    }
                    other => panic!("unexpected {other:?}"),
                }
                .expect("reply");
                channel.write(&reply).expect("write");
            }
        })
    }

    #[test]
    fn call_returns_the_reply() {
        let (client, server) = Channel::pair().expect("pair");
        let server = serve(server, 3);
        let client = SyncClient::new(client);
        assert_eq!(client.call::<base_socket::SetReuseAddress>(true).expect("call"), Ok(()));
        assert_eq!(client.call::<base_socket::SetReuseAddress>(false).expect("call"), Err(Errno::EINVAL));
        // Third transaction: txid 3, odd.
        assert_eq!(client.call::<base_socket::GetReuseAddress>(()).expect("call"), Ok(true));
        server.join().expect("server");
    }

    #[test]
    fn calls_from_many_threads_get_their_own_replies() {
        let (client, server) = Channel::pair().expect("pair");
        let server = serve(server, 40);
        let client = std::sync::Arc::new(SyncClient::new(client));
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let client = client.clone();
                thread::spawn(move || {
                    for _ in 0..10 {
                        let expected = if i % 2 == 0 { Ok(()) } else { Err(Errno::EINVAL) };
                        assert_eq!(
                            client.call::<base_socket::SetReuseAddress>(i % 2 == 0).expect("call"),
                            expected
                        );
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("worker");
        }
        server.join().expect("server");
    }

    #[test]
    fn call_works_on_a_non_blocking_channel() {
        let (client, server) = Channel::pair().expect("pair");
        client.set_nonblocking(true).expect("O_NONBLOCK");
        let server = thread::spawn(move || {
            thread::sleep(std::time::Duration::from_millis(20));
            serve(server, 1).join().expect("serve");
        });
        let client = SyncClient::new(client);
        assert_eq!(client.call::<base_socket::SetReuseAddress>(true).expect("call"), Ok(()));
        server.join().expect("server");
    }

    #[test]
    fn stray_messages_are_skipped_and_wrong_ordinals_reported() {
        let (client, server) = Channel::pair().expect("pair");
        let server = thread::spawn(move || {
            let mut buf = MessageBuf::new();
            server.read(&mut buf).expect("request");
            let (header, _) = decode_header(&buf.bytes).expect("header");
            let mut reply = MessageBuf::new();
            // A reply to another transaction, then one with the wrong method.
            encode_reply::<base_socket::GetReuseAddress>(header.txid + 100, Ok(true), &mut reply)
                .expect("encode");
            server.write(&reply).expect("write");
            encode_message(header_for_reply(header.txid, 42), (), &mut reply).expect("encode");
            server.write(&reply).expect("write");
        });
        let client = SyncClient::new(client);
        assert!(matches!(
            client.call::<base_socket::GetReuseAddress>(()),
            Err(ClientError::UnexpectedReply { ordinal: 42 })
        ));
        server.join().expect("server");
    }

    #[test]
    fn epitaph_ends_the_call() {
        let (client, server) = Channel::pair().expect("pair");
        let server = thread::spawn(move || {
            let mut buf = MessageBuf::new();
            server.read(&mut buf).expect("request");
            encode_epitaph(-10, &mut buf);
            server.write(&buf).expect("epitaph");
        });
        let client = SyncClient::new(client);
        assert!(matches!(
            client.call::<base_socket::GetReuseAddress>(()),
            Err(ClientError::PeerClosed { epitaph: Some(-10) })
        ));
        server.join().expect("server");
        // Writing to the closed channel finds the same epitaph... once: it was consumed.
        assert!(matches!(
            client.call::<base_socket::GetReuseAddress>(()),
            Err(ClientError::PeerClosed { epitaph: None })
        ));
    }

    #[test]
    fn epitaph_left_behind_is_found_after_a_failed_write() {
        let (client, server) = Channel::pair().expect("pair");
        let mut buf = MessageBuf::new();
        encode_epitaph(-2, &mut buf);
        server.write(&buf).expect("epitaph");
        drop(server);
        let client = SyncClient::new(client);
        assert!(matches!(
            client.send::<crate::fuchsia_unknown::cloneable::Clone2>(Channel::pair().expect("pair").0),
            Err(ClientError::PeerClosed { epitaph: Some(-2) })
        ));
    }

    #[test]
    fn closed_server_is_peer_closed() {
        let (client, server) = Channel::pair().expect("pair");
        drop(server);
        let client = SyncClient::new(client);
        assert!(matches!(
            client.call::<base_socket::GetReuseAddress>(()),
            Err(ClientError::PeerClosed { epitaph: None })
        ));
    }

    #[test]
    fn one_way_send_moves_the_handle() {
        let (client, server) = Channel::pair().expect("pair");
        let client = SyncClient::new(client);
        let (ours, theirs) = Channel::pair().expect("pair");
        client.send::<crate::fuchsia_unknown::cloneable::Clone2>(theirs).expect("send");
        let mut buf = MessageBuf::new();
        server.read(&mut buf).expect("read");
        let MessageBuf { bytes, handles } = &mut buf;
        let (header, body) = decode_header(bytes).expect("header");
        assert_eq!(header.txid, 0);
        let BaseSocketRequest::Clone2 { request } =
            BaseSocketRequest::decode(&header, body, handles).expect("decode")
        else {
            panic!("not Clone2");
        };
        request.write(&MessageBuf { bytes: b"ok".to_vec(), handles: Vec::new() }).expect("write");
        ours.read(&mut buf).expect("read");
        assert_eq!(buf.bytes, b"ok");
    }

    /// A protocol with events, for the tests below (not in `fidl/sdk/`, hence private).
    #[allow(unreachable_pub, dead_code)]
    mod test_protocol {
        fidl_protocol! {
                pub mod pinger = "test.events/Pinger";
            #[derive(Debug)]
            request PingerRequest {
                compose {}
                import {}
                methods {
                    Ping(value: u32) -> u32;
                }
            }
            #[derive(Debug, PartialEq)]
            events PingerEvent {
                OnStarted();
                OnStopped(reason: i32, detail: String);
            }
        }
    }
    use test_protocol::{pinger, PingerEvent, PingerRequest};

    fn send_event<E: crate::Event>(channel: &Channel, payload: E::Payload) {
        let mut buf = MessageBuf::new();
        crate::message::encode_event::<E>(payload, &mut buf).expect("encode");
        channel.write(&buf).expect("write");
    }

    #[test]
    fn events_are_received_with_or_without_a_call() {
        let (client, server) = Channel::pair().expect("pair");
        let client = SyncClient::new(client);
        send_event::<pinger::OnStarted>(&server, ());
        assert_eq!(client.next_event::<PingerEvent>().expect("event"), PingerEvent::OnStarted {});
        assert!(client.try_next_event::<PingerEvent>().expect("nothing").is_none());

        // Events sent before a reply wait in the queue; the call still gets its reply.
        let server = thread::spawn(move || {
            let mut buf = MessageBuf::new();
            server.read(&mut buf).expect("request");
            let MessageBuf { bytes, handles } = &mut buf;
            let (header, body) = decode_header(bytes).expect("header");
            let PingerRequest::Ping { value } = PingerRequest::decode(&header, body, handles).expect("ping");
            send_event::<pinger::OnStarted>(&server, ());
            send_event::<pinger::OnStopped>(&server, (-25, "gone".into()));
            let mut reply = MessageBuf::new();
            encode_reply::<pinger::Ping>(header.txid, value + 1, &mut reply).expect("reply");
            server.write(&reply).expect("write");
            encode_epitaph(-24, &mut reply);
            server.write(&reply).expect("epitaph");
        });
        assert_eq!(client.call::<pinger::Ping>(41).expect("call"), 42);
        server.join().expect("server");
        let first = client.try_next_event::<PingerEvent>().expect("queued");
        assert_eq!(first, Some(PingerEvent::OnStarted {}));
        let second = client.next_event::<PingerEvent>().expect("queued");
        assert_eq!(second.event_name(), "test.events/Pinger.OnStopped");
        assert_eq!(second, PingerEvent::OnStopped { reason: -25, detail: "gone".into() });
        assert!(matches!(
            client.next_event::<PingerEvent>(),
            Err(ClientError::PeerClosed { epitaph: Some(-24) })
        ));
    }

    #[test]
    fn events_check_their_transaction_id_and_ordinal() {
        let mut buf = MessageBuf::new();
        encode_message(TransactionHeader::new(5, <pinger::OnStarted as crate::Event>::ORDINAL), (), &mut buf)
            .expect("encode");
        let (header, body) = decode_header(&buf.bytes).expect("header");
        assert!(matches!(
            <PingerEvent as EventEnum>::decode_event(&header, body, &mut Vec::new()),
            Err(DecodeError::InvalidTxid { txid: 5, .. })
        ));
        let (header, body) = (TransactionHeader::new(0, 1234), &[][..]);
        assert_eq!(
            <PingerEvent as EventEnum>::decode_event(&header, body, &mut Vec::new()).err(),
            Some(DecodeError::UnknownOrdinal(1234))
        );
        assert_eq!(
            <pinger::OnStopped as crate::Event>::ORDINAL,
            crate::ordinal::ordinal("test.events/Pinger.OnStopped")
        );
        assert_eq!(pinger::METHODS.len(), 3);
        assert!(pinger::METHODS[2].event && pinger::METHODS[2].one_way);
    }

    #[test]
    fn a_full_event_queue_drops_later_events() {
        let (client, server) = Channel::pair().expect("pair");
        let client = SyncClient::new(client);
        let server = thread::spawn(move || {
            let mut buf = MessageBuf::new();
            server.read(&mut buf).expect("request");
            let (header, _) = decode_header(&buf.bytes).expect("header");
            for _ in 0..MAX_QUEUED_EVENTS + 3 {
                send_event::<pinger::OnStarted>(&server, ());
            }
            let mut reply = MessageBuf::new();
            encode_reply::<pinger::Ping>(header.txid, 0, &mut reply).expect("reply");
            server.write(&reply).expect("write");
            server
        });
        assert_eq!(client.call::<pinger::Ping>(0).expect("call"), 0);
        let _server = server.join().expect("server");
        for _ in 0..MAX_QUEUED_EVENTS {
            assert!(client.try_next_event::<PingerEvent>().expect("event").is_some());
        }
        assert!(client.try_next_event::<PingerEvent>().expect("none").is_none());
    }

    #[test]
    fn service_path_honours_the_environment() {
        // The only test that touches the variable.
        std::env::remove_var(SVC_DIR_ENV);
        assert_eq!(
            service_path("fuchsia.posix.socket.Provider"),
            PathBuf::from("/run/netstack/svc/fuchsia.posix.socket.Provider")
        );
        std::env::set_var(SVC_DIR_ENV, "/tmp/svc");
        assert_eq!(service_path("p"), PathBuf::from("/tmp/svc/p"));
        std::env::remove_var(SVC_DIR_ENV);
    }

    #[test]
    fn a_forked_child_keeps_using_the_client() {
        let (client, server) = Channel::pair().expect("pair");
        let server = serve(server, 2);
        let client = SyncClient::new(client);
        assert_eq!(client.call::<base_socket::SetReuseAddress>(true).expect("call"), Ok(()));
        // SAFETY: the child only runs the client (whose mutex no other thread holds: this test
        // thread is its only user) and leaves with `_exit`, never returning into the harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let ok = matches!(client.call::<base_socket::SetReuseAddress>(false), Ok(Err(Errno::EINVAL)));
            // SAFETY: `_exit` ends the child without running the parent's atexit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waiting for the child forked above; `status` is a valid out pointer.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child status {status:#x}");
        server.join().expect("server");
    }
}
