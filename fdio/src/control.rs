//! Every FIDL call the shim makes, behind one type: [`Control`], a socket's (or a
//! provider's) control channel, kept at a descriptor number hidden from the application.
//!
//! The rest of the shim speaks in Linux terms (errno, `SocketAddr`, [`Opt`]); this module
//! turns them into `fuchsia.posix.socket` and `fuchsia.posix.socket.raw` calls and the
//! replies back, and maps client failures to errno as `errno.rs` documents.
//!
//! Descriptor hygiene: a control channel is moved to a number at or above half the
//! `RLIMIT_NOFILE` soft limit (`F_DUPFD_CLOEXEC`) so that the numbers an application expects
//! from `socket` and `accept` stay free, and it is marked [`FdClass::Hidden`] so that the
//! application's `close` and `dup2` cannot take it away.

use std::ffi::c_int;
use std::mem::ManuallyDrop;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use netstack_fidl::channel::{Channel, ChannelError, MessageBuf};
use netstack_fidl::client::{ClientError, SyncClient};
use netstack_fidl::datagram_header::HEADER_LEN;
use netstack_fidl::fuchsia_net::{Ipv4Address, Ipv6Address, SocketAddress};
use netstack_fidl::fuchsia_posix::Errno as FidlErrno;
use netstack_fidl::fuchsia_posix_socket::{
    base_network_socket as bns, base_socket as bs, provider, stream_socket as ss, unknown,
    DatagramSocketProtocol, Domain as FidlDomain, Empty, IpMulticastMembership, Ipv6MulticastMembership,
    OptionalUint32, OptionalUint8, ProviderDatagramSocketResponse, ShutdownMode, StreamSocketProtocol,
    TcpCongestionControl,
};
use netstack_fidl::fuchsia_posix_socket_raw as raw;
use netstack_fidl::message::{encode_message, TransactionHeader};
use netstack_fidl::Method;

use crate::errno::Errno;
use crate::fdtable::{FdClass, FdTable, FDS};
use crate::real;
use crate::sockaddr::Domain;
use crate::sockopt::{Congestion, GetValue, Opt, SetValue};

/// The errno for a failed FIDL call (see `errno.rs`).
pub fn errno_of(err: &ClientError) -> Errno {
    match err {
        ClientError::PeerClosed { epitaph: Some(status) } => Errno::from_epitaph(*status),
        ClientError::PeerClosed { epitaph: None } => Errno::ECONNRESET,
        ClientError::Channel(ChannelError::Io(_)) => Errno::ECONNRESET,
        ClientError::Channel(_) | ClientError::Encode(_) => Errno::EIO,
        ClientError::Decode(_) | ClientError::UnexpectedReply { .. } => Errno::EIO,
    }
}

fn errno_from_fidl(e: FidlErrno) -> Errno {
    Errno(e.into_primitive())
}

/// The lowest number control channels are moved to: half the soft `RLIMIT_NOFILE`, kept
/// inside the fd table.
fn hidden_base() -> c_int {
    // SAFETY: rlimit is plain old data; getrlimit fills it.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a local rlimit.
    let soft =
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 { lim.rlim_cur } else { 1024 };
    let half = (soft / 2).min(crate::fdtable::MAX_FDS as u64 / 2);
    c_int::try_from(half).unwrap_or(c_int::MAX).max(3)
}

/// Moves `fd` to a hidden number (close-on-exec) and marks it hidden.
fn hide(fd: OwnedFd) -> Result<OwnedFd, Errno> {
    // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor we own; the argument is an int.
    let new = unsafe { real::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, hidden_base() as _) };
    let new = crate::errno::check_int(new).map_err(|e| match e {
        Errno::EINVAL => Errno::EMFILE,
        e => e,
    })?;
    // SAFETY: fcntl returned a new descriptor that nothing else owns.
    let new = unsafe { OwnedFd::from_raw_fd(new) };
    if !FdTable::fits(new.as_raw_fd()) {
        return Err(Errno::EMFILE);
    }
    FDS.set(new.as_raw_fd(), FdClass::Hidden);
    Ok(new)
}

/// A control channel to the netstack at a hidden descriptor.
#[derive(Debug)]
pub struct Control {
    client: ManuallyDrop<SyncClient>,
    fd: RawFd,
    /// The fork generation this channel belongs to (see `registry.rs`).
    generation: u32,
    /// Set when the descriptor number has been given to someone else (the application's
    /// `dup2` target, or this channel's replacement after `fork`): dropping must not close it.
    disowned: AtomicBool,
}

impl Drop for Control {
    fn drop(&mut self) {
        // SAFETY: the client is taken exactly once, here.
        let client = unsafe { ManuallyDrop::take(&mut self.client) };
        if self.disowned.load(Ordering::Acquire) {
            let _ = client.into_channel().into_fd().into_raw_fd();
        } else {
            FDS.clear(self.fd);
            drop(client);
        }
    }
}

impl Control {
    /// Takes `channel` over, moving it to a hidden descriptor.
    pub fn new(channel: Channel, generation: u32) -> Result<Control, Errno> {
        let fd = hide(channel.into_fd())?;
        Ok(Control::at(fd, generation))
    }

    /// Takes over a channel that already sits at a hidden descriptor.
    fn at(fd: OwnedFd, generation: u32) -> Control {
        let raw_fd = fd.as_raw_fd();
        Control {
            client: ManuallyDrop::new(SyncClient::new(Channel::from_fd(fd))),
            fd: raw_fd,
            generation,
            disowned: AtomicBool::new(false),
        }
    }

    /// Connects to `protocol` in the svc dir.
    ///
    /// A missing svc dir or daemon (`ENOENT`, `ECONNREFUSED`, `ENOTDIR`) is `EAFNOSUPPORT`:
    /// without a netstack the shim supports no address family. `EACCES`/`EPERM` stay.
    pub fn connect(protocol: &str, generation: u32) -> Result<Control, Errno> {
        match netstack_fidl::client::connect_to_protocol(protocol) {
            Ok(channel) => Control::new(channel, generation),
            Err(err) => {
                let errno = match Errno::from_io(&err) {
                    Errno::EACCES | Errno::EPERM => Errno::EACCES,
                    Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM | Errno::ENOBUFS => Errno::from_io(&err),
                    _ => Errno::EAFNOSUPPORT,
                };
                crate::debug::once(&format!(
                    "cannot reach the netstack at {}: {err}; AF_INET/AF_INET6 sockets fail with {errno}",
                    netstack_fidl::client::service_path(protocol).display()
                ));
                Err(errno)
            }
        }
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Gives the descriptor number away: dropping this `Control` will leave it open.
    pub fn disown(&self) {
        self.disowned.store(true, Ordering::Release);
    }

    /// Moves this channel to another hidden number (when the application `dup2`s onto ours)
    /// and returns the `Control` for the new number; this one is disowned.
    pub fn relocate(&self) -> Result<Control, Errno> {
        // SAFETY: F_DUPFD_CLOEXEC on our own descriptor; the argument is an int.
        let new = unsafe { real::fcntl(self.fd, libc::F_DUPFD_CLOEXEC, hidden_base() as _) };
        let new = crate::errno::check_int(new)?;
        // SAFETY: fcntl returned a fresh descriptor that nothing else owns.
        let new = unsafe { OwnedFd::from_raw_fd(new) };
        if !FdTable::fits(new.as_raw_fd()) {
            return Err(Errno::EMFILE);
        }
        FDS.set(new.as_raw_fd(), FdClass::Hidden);
        self.disown();
        Ok(Control::at(new, self.generation))
    }

    /// In a forked child, before the first call: asks the netstack for a channel of the
    /// child's own (one-way `Clone2` over the channel still shared with the parent), puts it
    /// at this channel's number and returns the `Control` for it. This one is disowned and
    /// never used again: another thread of the parent may have held its lock at the fork.
    pub fn clone_for_child(&self, generation: u32) -> Result<Control, Errno> {
        let (ours, theirs) = Channel::pair().map_err(|e| Errno::from_io(&e))?;
        let mut msg = MessageBuf::new();
        encode_message(TransactionHeader::for_method::<unknown::Clone2>(0), theirs, &mut msg)
            .map_err(|_| Errno::EIO)?;
        let sent = self.client.channel().write(&msg);
        msg.clear();
        sent.map_err(|e| errno_of(&ClientError::from(e)))?;
        let ours = ours.into_fd();
        // SAFETY: dup3 onto our own hidden number, replacing the shared channel in this
        // process only.
        let r = unsafe { real::dup3(ours.as_raw_fd(), self.fd, libc::O_CLOEXEC) };
        crate::errno::check_int(r)?;
        self.disown();
        // SAFETY: self.fd now holds the new channel, and `self` no longer owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(self.fd) };
        Ok(Control::at(fd, generation))
    }

    /// In a forked child: a fresh connection to `protocol` at this channel's number.
    pub fn reconnect_for_child(&self, protocol: &str, generation: u32) -> Result<Control, Errno> {
        let fresh = Control::connect(protocol, generation)?;
        // SAFETY: dup3 between two of our own descriptors.
        let r = unsafe { real::dup3(fresh.fd, self.fd, libc::O_CLOEXEC) };
        crate::errno::check_int(r)?;
        self.disown();
        drop(fresh);
        FDS.set(self.fd, FdClass::Hidden);
        // SAFETY: self.fd now holds the fresh channel, and `self` no longer owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(self.fd) };
        Ok(Control::at(fd, generation))
    }

    fn call<M, T>(&self, request: M::Request) -> Result<T, Errno>
    where
        M: Method<Response = Result<T, FidlErrno>>,
    {
        match self.client.call::<M>(request) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(errno_from_fidl(e)),
            Err(e) => Err(errno_of(&e)),
        }
    }

    // ---- Provider ----------------------------------------------------------------------

    /// `Provider.StreamSocket` (TCP).
    pub fn stream_socket(&self, domain: Domain) -> Result<Channel, Errno> {
        self.call::<provider::StreamSocket, _>((fidl_domain(domain), StreamSocketProtocol::Tcp))
    }

    /// `Provider.DatagramSocket`: UDP, or ICMP echo when `icmp`.
    pub fn datagram_socket(&self, domain: Domain, icmp: bool) -> Result<Channel, Errno> {
        let proto = if icmp { DatagramSocketProtocol::IcmpEcho } else { DatagramSocketProtocol::Udp };
        match self.call::<provider::DatagramSocket, _>((fidl_domain(domain), proto))? {
            ProviderDatagramSocketResponse::DatagramSocket(channel) => Ok(channel),
            ProviderDatagramSocketResponse::SynchronousDatagramSocket(_) => Err(Errno::EIO),
        }
    }

    /// `fuchsia.posix.socket.raw/Provider.Socket`; protocol 0 is unassociated.
    pub fn raw_socket(&self, domain: Domain, protocol: u8) -> Result<Channel, Errno> {
        let proto = match protocol {
            0 => raw::ProtocolAssociation::Unassociated(Default::default()),
            p => raw::ProtocolAssociation::Associated(p),
        };
        self.call::<raw::provider::Socket, _>((fidl_domain(domain), proto))
    }

    // ---- Describe ----------------------------------------------------------------------

    /// `StreamSocket.Describe`: the stream data plane.
    pub fn describe_stream(&self) -> Result<OwnedFd, Errno> {
        let resp = self.client.call::<ss::Describe>(()).map_err(|e| errno_of(&e))?;
        resp.socket.ok_or(Errno::EIO)
    }

    /// `DatagramSocket.Describe`: the datagram data plane, whose header must be ours.
    pub fn describe_datagram(&self) -> Result<OwnedFd, Errno> {
        use netstack_fidl::fuchsia_posix_socket::datagram_socket as ds;
        let resp = self.client.call::<ds::Describe>(()).map_err(|e| errno_of(&e))?;
        check_meta(resp.tx_meta_buf_size, resp.rx_meta_buf_size)?;
        resp.socket.ok_or(Errno::EIO)
    }

    /// Raw `Socket.Describe`: the datagram data plane of a raw socket.
    pub fn describe_raw(&self) -> Result<OwnedFd, Errno> {
        let resp = self.client.call::<raw::socket::Describe>(()).map_err(|e| errno_of(&e))?;
        check_meta(resp.tx_meta_buf_size, resp.rx_meta_buf_size)?;
        resp.socket.ok_or(Errno::EIO)
    }

    // ---- Addressing --------------------------------------------------------------------

    pub fn bind(&self, addr: SocketAddr) -> Result<(), Errno> {
        self.call::<bns::Bind, _>(SocketAddress::from(addr))
    }

    pub fn connect_to(&self, addr: SocketAddr) -> Result<(), Errno> {
        self.call::<bns::Connect, _>(SocketAddress::from(addr))
    }

    pub fn disconnect(&self) -> Result<(), Errno> {
        self.call::<bns::Disconnect, _>(())
    }

    pub fn sock_name(&self) -> Result<SocketAddr, Errno> {
        self.call::<bns::GetSockName, _>(()).map(SocketAddr::from)
    }

    pub fn peer_name(&self) -> Result<SocketAddr, Errno> {
        self.call::<bns::GetPeerName, _>(()).map(SocketAddr::from)
    }

    pub fn shutdown(&self, read: bool, write: bool) -> Result<(), Errno> {
        let mut mode = ShutdownMode::empty();
        if read {
            mode |= ShutdownMode::READ;
        }
        if write {
            mode |= ShutdownMode::WRITE;
        }
        self.call::<bns::Shutdown, _>(mode)
    }

    pub fn listen(&self, backlog: i16) -> Result<(), Errno> {
        self.call::<ss::Listen, _>(backlog)
    }

    /// `StreamSocket.Accept`: the peer (when asked for) and the new socket's channel.
    pub fn accept(&self, want_addr: bool) -> Result<(Option<SocketAddr>, Channel), Errno> {
        let (addr, channel) = self.call::<ss::Accept, _>(want_addr)?;
        Ok((addr.map(SocketAddr::from), channel))
    }

    /// `GetError` (`SO_ERROR`): `Err` is the pending error, which the netstack clears.
    pub fn take_error(&self) -> Result<(), Errno> {
        self.call::<bs::GetError, _>(())
    }

    // ---- Options -----------------------------------------------------------------------

    /// `setsockopt`: the FIDL setter for `opt`. `raw_socket` sockets have no TCP methods,
    /// and the caller has checked [`Opt::applies_to`].
    pub fn set_option(&self, opt: Opt, value: SetValue) -> Result<(), Errno> {
        use Opt::*;
        use SetValue as V;
        let uint = |v: i32| u32::try_from(v).map_err(|_| Errno::EINVAL);
        match (opt, value) {
            (ReuseAddr, V::Bool(v)) => self.call::<bs::SetReuseAddress, _>(v),
            (ReusePort, V::Bool(v)) => self.call::<bs::SetReusePort, _>(v),
            (KeepAlive, V::Bool(v)) => self.call::<bs::SetKeepAlive, _>(v),
            (Broadcast, V::Bool(v)) => self.call::<bs::SetBroadcast, _>(v),
            (OobInline, V::Bool(v)) => self.call::<bs::SetOutOfBandInline, _>(v),
            (NoCheck, V::Bool(v)) => self.call::<bs::SetNoCheck, _>(v),
            // Linux reads the size as unsigned and clamps it to the sysctl maximum.
            (SndBuf, V::Int(v)) => self.call::<bs::SetSendBuffer, _>(u64::from(v as u32)),
            (RcvBuf, V::Int(v)) => self.call::<bs::SetReceiveBuffer, _>(u64::from(v as u32)),
            (Linger, V::Linger { on, secs }) => self.call::<bs::SetLinger, _>((on, secs)),
            (BindToDevice, V::Device(name)) => self.call::<bs::SetBindToDevice, _>(name),
            (BindToIfindex, V::Int(v)) => self.call::<bs::SetBindToInterfaceIndex, _>(u64::from(uint(v)?)),
            (TcpNoDelay, V::Bool(v)) => self.call::<ss::SetTcpNoDelay, _>(v),
            (TcpCork, V::Bool(v)) => self.call::<ss::SetTcpCork, _>(v),
            (TcpQuickAck, V::Bool(v)) => self.call::<ss::SetTcpQuickAck, _>(v),
            (TcpMaxSeg, V::Int(v)) => self.call::<ss::SetTcpMaxSegment, _>(uint(v)?),
            (TcpKeepIdle, V::Int(v)) => self.call::<ss::SetTcpKeepAliveIdle, _>(uint(v)?),
            (TcpKeepIntvl, V::Int(v)) => self.call::<ss::SetTcpKeepAliveInterval, _>(uint(v)?),
            (TcpKeepCnt, V::Int(v)) => self.call::<ss::SetTcpKeepAliveCount, _>(uint(v)?),
            (TcpSynCnt, V::Int(v)) => self.call::<ss::SetTcpSynCount, _>(uint(v)?),
            // A negative TCP_LINGER2 (no FIN-WAIT-2 wait) travels as Unset, as Fuchsia's fdio
            // sends it; 0 restores the default.
            (TcpLinger2, V::Int(v)) => self.call::<ss::SetTcpLinger, _>(match u32::try_from(v) {
                Ok(secs) => OptionalUint32::Value(secs),
                Err(_) => OptionalUint32::Unset(Empty {}),
            }),
            (TcpDeferAccept, V::Int(v)) => {
                // Linux treats a negative value as 0.
                self.call::<ss::SetTcpDeferAccept, _>(u32::try_from(v).unwrap_or(0))
            }
            (TcpWindowClamp, V::Int(v)) => self.call::<ss::SetTcpWindowClamp, _>(uint(v)?),
            (TcpUserTimeout, V::Int(v)) => self.call::<ss::SetTcpUserTimeout, _>(uint(v)?),
            (TcpCongestion, V::Congestion(c)) => {
                let c = match c {
                    Congestion::Reno => TcpCongestionControl::Reno,
                    Congestion::Cubic => TcpCongestionControl::Cubic,
                };
                self.call::<ss::SetTcpCongestion, _>(c)
            }
            (IpTtl, V::Hops(v)) => self.call::<bns::SetIpTtl, _>(optional_u8(v)),
            (IpTos, V::Int(v)) => self.call::<bns::SetIpTypeOfService, _>(v as u8),
            (IpMulticastTtl, V::Hops(v)) => self.call::<bns::SetIpMulticastTtl, _>(optional_u8(v)),
            (IpMulticastIf, V::MulticastIf4 { iface, addr }) => {
                self.call::<bns::SetIpMulticastInterface, _>((iface, Ipv4Address::from(addr)))
            }
            (IpMulticastLoop, V::Bool(v)) => self.call::<bns::SetIpMulticastLoopback, _>(v),
            (IpRecvTtl, V::Bool(v)) => self.call::<bns::SetIpReceiveTtl, _>(v),
            (IpRecvTos, V::Bool(v)) => self.call::<bns::SetIpReceiveTypeOfService, _>(v),
            (Ipv6RecvHopLimit, V::Bool(v)) => self.call::<bns::SetIpv6ReceiveHopLimit, _>(v),
            (Ipv6RecvTClass, V::Bool(v)) => self.call::<bns::SetIpv6ReceiveTrafficClass, _>(v),
            (IpAddMembership | IpDropMembership, V::Membership4 { iface, local, group }) => {
                let m = IpMulticastMembership { iface, local_addr: local.into(), mcast_addr: group.into() };
                if opt == IpAddMembership {
                    self.call::<bns::AddIpMembership, _>(m)
                } else {
                    self.call::<bns::DropIpMembership, _>(m)
                }
            }
            (Ipv6Only, V::Bool(v)) => self.call::<bns::SetIpv6Only, _>(v),
            (Ipv6UnicastHops, V::Hops(v)) => self.call::<bns::SetIpv6UnicastHops, _>(optional_u8(v)),
            (Ipv6MulticastHops, V::Hops(v)) => self.call::<bns::SetIpv6MulticastHops, _>(optional_u8(v)),
            (Ipv6MulticastIf, V::Int(v)) => {
                self.call::<bns::SetIpv6MulticastInterface, _>(u64::from(uint(v)?))
            }
            (Ipv6MulticastLoop, V::Bool(v)) => self.call::<bns::SetIpv6MulticastLoopback, _>(v),
            (Ipv6JoinGroup | Ipv6LeaveGroup, V::Membership6 { iface, group }) => {
                let m = Ipv6MulticastMembership { iface, mcast_addr: Ipv6Address::from(group) };
                if opt == Ipv6JoinGroup {
                    self.call::<bns::AddIpv6Membership, _>(m)
                } else {
                    self.call::<bns::DropIpv6Membership, _>(m)
                }
            }
            (Ipv6TClass, V::Hops(v)) => self.call::<bns::SetIpv6TrafficClass, _>(optional_u8(v)),
            // parse_set produced a value of another shape: cannot happen.
            _ => Err(Errno::EINVAL),
        }
    }

    /// `getsockopt`: the FIDL getter for `opt`.
    pub fn get_option(&self, opt: Opt) -> Result<GetValue, Errno> {
        use Opt::*;
        let b = GetValue::from_bool;
        let n = GetValue::from_u64;
        Ok(match opt {
            ReuseAddr => b(self.call::<bs::GetReuseAddress, _>(())?),
            ReusePort => b(self.call::<bs::GetReusePort, _>(())?),
            KeepAlive => b(self.call::<bs::GetKeepAlive, _>(())?),
            Broadcast => b(self.call::<bs::GetBroadcast, _>(())?),
            OobInline => b(self.call::<bs::GetOutOfBandInline, _>(())?),
            NoCheck => b(self.call::<bs::GetNoCheck, _>(())?),
            AcceptConn => b(self.call::<bs::GetAcceptConn, _>(())?),
            SndBuf => n(self.call::<bs::GetSendBuffer, _>(())?),
            RcvBuf => n(self.call::<bs::GetReceiveBuffer, _>(())?),
            Linger => {
                let (on, secs) = self.call::<bs::GetLinger, _>(())?;
                GetValue::Linger { on, secs }
            }
            BindToDevice => GetValue::Device(self.call::<bs::GetBindToDevice, _>(())?),
            BindToIfindex => n(self.call::<bs::GetBindToInterfaceIndex, _>(())?),
            Error => GetValue::Int(match self.take_error() {
                Ok(()) => 0,
                Err(e) => e.0,
            }),
            TcpNoDelay => b(self.call::<ss::GetTcpNoDelay, _>(())?),
            TcpCork => b(self.call::<ss::GetTcpCork, _>(())?),
            TcpQuickAck => b(self.call::<ss::GetTcpQuickAck, _>(())?),
            TcpMaxSeg => n(self.call::<ss::GetTcpMaxSegment, _>(())?.into()),
            TcpKeepIdle => n(self.call::<ss::GetTcpKeepAliveIdle, _>(())?.into()),
            TcpKeepIntvl => n(self.call::<ss::GetTcpKeepAliveInterval, _>(())?.into()),
            TcpKeepCnt => n(self.call::<ss::GetTcpKeepAliveCount, _>(())?.into()),
            TcpSynCnt => n(self.call::<ss::GetTcpSynCount, _>(())?.into()),
            TcpLinger2 => match self.call::<ss::GetTcpLinger, _>(())? {
                OptionalUint32::Value(secs) => n(secs.into()),
                OptionalUint32::Unset(_) => GetValue::Int(-1),
            },
            TcpDeferAccept => n(self.call::<ss::GetTcpDeferAccept, _>(())?.into()),
            TcpWindowClamp => n(self.call::<ss::GetTcpWindowClamp, _>(())?.into()),
            TcpUserTimeout => n(self.call::<ss::GetTcpUserTimeout, _>(())?.into()),
            TcpCongestion => GetValue::Congestion(match self.call::<ss::GetTcpCongestion, _>(())? {
                TcpCongestionControl::Reno => Congestion::Reno,
                TcpCongestionControl::Cubic => Congestion::Cubic,
            }),
            TcpInfo => {
                let info = self.call::<ss::GetTcpInfo, _>(())?;
                GetValue::Bytes(
                    crate::tcp_info::TcpInfo {
                        state: info.state.map_or(0, |s| s.into_primitive() as u8),
                        ca_state: info.ca_state.map_or(0, |s| s.into_primitive() as u8),
                        rto_usec: info.rto_usec.unwrap_or(0),
                        rtt_usec: info.rtt_usec.unwrap_or(0),
                        rtt_var_usec: info.rtt_var_usec.unwrap_or(0),
                        snd_ssthresh: info.snd_ssthresh.unwrap_or(0),
                        snd_cwnd: info.snd_cwnd.unwrap_or(0),
                        reord_seen: u32::from(info.reorder_seen.unwrap_or(false)),
                    }
                    .to_linux_bytes(),
                )
            }
            IpTtl => n(self.call::<bns::GetIpTtl, _>(())?.into()),
            IpTos => n(self.call::<bns::GetIpTypeOfService, _>(())?.into()),
            IpMulticastTtl => n(self.call::<bns::GetIpMulticastTtl, _>(())?.into()),
            IpMulticastIf => GetValue::InAddr(self.call::<bns::GetIpMulticastInterface, _>(())?.into()),
            IpMulticastLoop => b(self.call::<bns::GetIpMulticastLoopback, _>(())?),
            IpRecvTtl => b(self.call::<bns::GetIpReceiveTtl, _>(())?),
            IpRecvTos => b(self.call::<bns::GetIpReceiveTypeOfService, _>(())?),
            Ipv6RecvHopLimit => b(self.call::<bns::GetIpv6ReceiveHopLimit, _>(())?),
            Ipv6RecvTClass => b(self.call::<bns::GetIpv6ReceiveTrafficClass, _>(())?),
            Ipv6Only => b(self.call::<bns::GetIpv6Only, _>(())?),
            Ipv6UnicastHops => n(self.call::<bns::GetIpv6UnicastHops, _>(())?.into()),
            Ipv6MulticastHops => n(self.call::<bns::GetIpv6MulticastHops, _>(())?.into()),
            Ipv6MulticastIf => n(self.call::<bns::GetIpv6MulticastInterface, _>(())?),
            Ipv6MulticastLoop => b(self.call::<bns::GetIpv6MulticastLoopback, _>(())?),
            Ipv6TClass => n(self.call::<bns::GetIpv6TrafficClass, _>(())?.into()),
            // Write-only: Linux answers ENOPROTOOPT.
            IpAddMembership | IpDropMembership | Ipv6JoinGroup | Ipv6LeaveGroup => {
                return Err(Errno::ENOPROTOOPT)
            }
        })
    }
}

fn fidl_domain(domain: Domain) -> FidlDomain {
    match domain {
        Domain::V4 => FidlDomain::Ipv4,
        Domain::V6 => FidlDomain::Ipv6,
    }
}

fn optional_u8(v: Option<u8>) -> OptionalUint8 {
    match v {
        Some(v) => OptionalUint8::Value(v),
        None => OptionalUint8::Unset(Default::default()),
    }
}

/// A datagram `Describe` must announce our 32-byte header (or nothing, meaning the default).
fn check_meta(tx: Option<u64>, rx: Option<u64>) -> Result<(), Errno> {
    let ours = |v: Option<u64>| v.is_none_or(|v| v == HEADER_LEN as u64);
    if ours(tx) && ours(rx) {
        Ok(())
    } else {
        Err(Errno::EIO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_map_to_errno() {
        assert_eq!(errno_of(&ClientError::PeerClosed { epitaph: None }), Errno::ECONNRESET);
        assert_eq!(errno_of(&ClientError::PeerClosed { epitaph: Some(-10) }), Errno::EINVAL);
        assert_eq!(errno_of(&ClientError::UnexpectedReply { ordinal: 5 }), Errno::EIO);
        assert_eq!(errno_of(&ClientError::Channel(ChannelError::TooBig)), Errno::EIO);
        assert_eq!(errno_from_fidl(FidlErrno::ECONNREFUSED), Errno(libc::ECONNREFUSED));
    }

    #[test]
    fn datagram_describe_must_use_the_32_byte_header() {
        assert_eq!(check_meta(Some(32), Some(32)), Ok(()));
        assert_eq!(check_meta(None, None), Ok(()));
        assert_eq!(check_meta(Some(16), Some(32)), Err(Errno::EIO));
    }

    #[test]
    fn hidden_descriptors_live_in_the_upper_half() {
        let (a, _b) = Channel::pair().unwrap();
        let base = hidden_base();
        let control = Control::new(a, 0).unwrap();
        let fd = control.fd();
        assert!(fd >= base, "{fd} below {base}");
        assert_eq!(FDS.get(fd), FdClass::Hidden);
        drop(control);
        assert_eq!(FDS.get(fd), FdClass::Foreign);
        // SAFETY: F_GETFD on a number we just closed.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_GETFD) }, -1);
    }

    #[test]
    fn a_disowned_control_leaves_its_descriptor_open() {
        let (a, _b) = Channel::pair().unwrap();
        let control = Control::new(a, 0).unwrap();
        let moved = control.relocate().unwrap();
        let old = control.fd();
        drop(control);
        // SAFETY: F_GETFD on a descriptor that must still be open.
        assert!(unsafe { libc::fcntl(old, libc::F_GETFD) } >= 0);
        assert_ne!(moved.fd(), old);
        // SAFETY: closing the number the disowned control left behind.
        unsafe { libc::close(old) };
    }

    #[test]
    fn calls_over_a_closed_channel_fail_with_econnreset() {
        let (a, b) = Channel::pair().unwrap();
        drop(b);
        let control = Control::new(a, 0).unwrap();
        assert_eq!(control.take_error(), Err(Errno::ECONNRESET));
        assert_eq!(control.describe_stream().err(), Some(Errno::ECONNRESET));
    }
}
