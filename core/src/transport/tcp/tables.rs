//! The socket tables of the TCP layer, per IP version, and the bind rules that read them.
//!
//! Each version has:
//!
//! * `slots`: its sockets, by id;
//! * `bound`: sockets that called `bind` or `listen`, for bind conflicts;
//! * `listening`: listeners only, for demultiplexing SYNs (a socket that is bound but not
//!   listening must not take them), with SO_REUSEPORT balancing by a keyed hash of the
//!   4-tuple, as [`socket_map`](crate::transport::socket_map) describes;
//! * `conns`: connections by the 4-tuple their packets carry, ordered by local port so bind
//!   conflicts can scan a port's connections in place.
//!
//! The tables hold [`AnyTcpSocketId`]s: a dual-stack IPv6 socket sits in the IPv4 tables too
//! ([`dual_stack`](crate::transport::dual_stack)), and an IPv6 connection with IPv4-mapped
//! addresses is found in the IPv4 `conns` under the IPv4 4-tuple of its packets.
//!
//! Bind conflicts (Linux `inet_csk_bind_conflict`, `inet_rcv_saddr_equal`): two sockets may
//! share an address and port when both set SO_REUSEADDR and neither listens, or both set
//! SO_REUSEPORT with the same owner; connections (TIME-WAIT ones included) hold their port
//! against sockets without SO_REUSEADDR, which is what makes SO_REUSEADDR necessary to
//! restart a server. A second listener needs SO_REUSEPORT.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use core::num::NonZeroU16;

use crate::addr::{Ip, IpAddr, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr};
use crate::device::DeviceId;
use crate::hash::SipKey;
use crate::time::Instant;
use crate::transport::dual_stack::{DualStackIpExt, Placement};
use crate::transport::socket_map::{ConflictScope, LocalEndpoint, Sharing, SocketMap};
use crate::transport::{Slots, SocketError};

use super::sockets::{AnyTcpSocketId, TcpIpExt, TcpSocketId};
use super::{Connection, Endpoint, IpHeaderOptions, Listener, TcpConfig};

/// A socket's place in its lifecycle.
#[derive(Debug)]
pub(super) enum SocketState<I: Ip> {
    /// Created, not bound.
    Unbound,
    /// Bound by `bind`, neither listening nor connected.
    Bound(LocalEndpoint<I, NonZeroU16>),
    /// Listening.
    Listening { local: LocalEndpoint<I, NonZeroU16>, listener: Box<Listener<I::Addr>> },
    /// Connecting, connected or done; `hashed` while the connection is in `conns`.
    Connected { conn: Box<Connection<I::Addr>>, hashed: bool, explicit_bind: bool },
}

/// One socket.
#[derive(Debug)]
pub(super) struct Socket<I: Ip> {
    pub(super) state: SocketState<I>,
    pub(super) sharing: Sharing,
    /// SO_BINDTODEVICE, or for an accepted connection with a link-local peer the device its
    /// SYN arrived on.
    pub(super) device: Option<DeviceId>,
    /// IPV6_V6ONLY (always false for IPv4 sockets).
    pub(super) v6only: bool,
    pub(super) cfg: TcpConfig,
    /// IP_TTL, IPV6_UNICAST_HOPS, IP_TOS and IPV6_TCLASS: what its segments carry.
    pub(super) ip_header: IpHeaderOptions,
    /// When the stack timer is armed for, if it is.
    pub(super) timer_at: Option<Instant>,
    /// The application closed the socket: the slot goes once the connection is done.
    pub(super) orphaned: bool,
}

/// Where a socket of version `I` bound at a local endpoint sits in the tables.
pub(super) type TcpPlacement<I> = Placement<I, NonZeroU16>;

impl<I: DualStackIpExt> Socket<I> {
    /// The table entries of this socket bound at `local`.
    pub(super) fn placement(&self, local: &LocalEndpoint<I, NonZeroU16>) -> TcpPlacement<I> {
        Placement::new(local.addr, local.port, local.device, None, self.v6only)
    }
}

/// A connection's key: local port first, so a port's connections are one range.
pub(super) type ConnKey<A> = (u16, A, A, u16);

pub(super) fn conn_key<A: IpAddress>(local: Endpoint<A>, remote: Endpoint<A>) -> ConnKey<A> {
    (local.port, local.addr, remote.addr, remote.port)
}

/// Where a connection is found: the 4-tuple its packets carry, in the table of the IP version
/// they travel over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WireKey {
    V4(ConnKey<Ipv4Addr>),
    V6(ConnKey<Ipv6Addr>),
}

impl WireKey {
    /// The key of a connection of version `J` between `local` and `remote`; `None` when
    /// one address is IPv4-mapped and the other is not (no packet carries those).
    pub(super) fn new<J: DualStackIpExt>(
        local: Endpoint<J::Addr>,
        remote: Endpoint<J::Addr>,
    ) -> Option<Self> {
        match (J::wire(local.addr), J::wire(remote.addr)) {
            (IpAddr::V4(l), IpAddr::V4(r)) => Some(WireKey::V4((local.port, l, r, remote.port))),
            (IpAddr::V6(l), IpAddr::V6(r)) => Some(WireKey::V6((local.port, l, r, remote.port))),
            _ => None,
        }
    }
}

/// The TCP sockets of one IP version.
#[derive(Debug)]
pub struct TcpSockets<I: Ip> {
    pub(super) slots: Slots<Socket<I>>,
    pub(super) bound: SocketMap<I, NonZeroU16, AnyTcpSocketId>,
    pub(super) listening: SocketMap<I, NonZeroU16, AnyTcpSocketId>,
    pub(super) conns: BTreeMap<ConnKey<I::Addr>, AnyTcpSocketId>,
}

impl<I: Ip> TcpSockets<I> {
    pub(super) fn new(key: SipKey) -> Self {
        Self {
            slots: Slots::new(),
            bound: SocketMap::new(ConflictScope::Address, key),
            listening: SocketMap::new(ConflictScope::Address, key),
            conns: BTreeMap::new(),
        }
    }

    /// The socket `id` if the application still holds it.
    pub(super) fn get(&self, id: TcpSocketId<I>) -> Result<&Socket<I>, SocketError> {
        self.slots.get(id.index, id.generation).filter(|s| !s.orphaned).ok_or(SocketError::BadSocket)
    }

    /// The socket `id` if the application still holds it, mutably.
    pub(super) fn get_mut(&mut self, id: TcpSocketId<I>) -> Result<&mut Socket<I>, SocketError> {
        self.slots.get_mut(id.index, id.generation).filter(|s| !s.orphaned).ok_or(SocketError::BadSocket)
    }

    /// The connection of socket `id`; ENOTCONN for a socket without one.
    pub(super) fn conn_mut(&mut self, id: TcpSocketId<I>) -> Result<&mut Connection<I::Addr>, SocketError> {
        match &mut self.get_mut(id)?.state {
            SocketState::Connected { conn, .. } => Ok(conn),
            _ => Err(SocketError::NotConnected),
        }
    }

    /// The table `kind`.
    pub(super) fn map_mut(&mut self, kind: MapKind) -> &mut SocketMap<I, NonZeroU16, AnyTcpSocketId> {
        match kind {
            MapKind::Bound => &mut self.bound,
            MapKind::Listening => &mut self.listening,
        }
    }
}

/// The tables of local bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MapKind {
    /// Sockets bound or listening.
    Bound,
    /// Listeners.
    Listening,
}

/// Both versions' tables, read-only: bind conflicts and port choices cross versions.
#[derive(Clone, Copy)]
pub(super) struct Tables<'a> {
    pub(super) v4: &'a TcpSockets<Ipv4>,
    pub(super) v6: &'a TcpSockets<Ipv6>,
}

impl Tables<'_> {
    /// Whether socket `id` sets SO_REUSEADDR.
    fn reuse_addr(&self, id: AnyTcpSocketId) -> bool {
        match id {
            AnyTcpSocketId::V4(id) => {
                self.v4.slots.get(id.index, id.generation).is_some_and(|s| s.sharing.reuse_addr)
            }
            AnyTcpSocketId::V6(id) => {
                self.v6.slots.get(id.index, id.generation).is_some_and(|s| s.sharing.reuse_addr)
            }
        }
    }

    /// The socket holding the connection with `key`.
    pub(super) fn conn(&self, key: &WireKey) -> Option<AnyTcpSocketId> {
        match key {
            WireKey::V4(k) => self.v4.conns.get(k).copied(),
            WireKey::V6(k) => self.v6.conns.get(k).copied(),
        }
    }

    /// Whether socket `except` placed at `placement` with `sharing` would conflict with
    /// another socket (see the [module documentation](self)).
    pub(super) fn bind_conflict<I: TcpIpExt>(
        &self,
        placement: &TcpPlacement<I>,
        sharing: &Sharing,
        except: AnyTcpSocketId,
    ) -> bool {
        let own = I::own(self.v4, self.v6);
        placement.native.is_some_and(|(local, _)| self.conflict_in(own, &local, sharing, except))
            || placement.v4.is_some_and(|(local, _)| self.conflict_in(self.v4, &local, sharing, except))
    }

    /// Whether a listener at `placement` would share its port with another listener without
    /// both setting SO_REUSEPORT (SO_REUSEADDR does not let listeners share).
    pub(super) fn listen_conflict<I: TcpIpExt>(
        &self,
        placement: &TcpPlacement<I>,
        sharing: &Sharing,
        except: AnyTcpSocketId,
    ) -> bool {
        let sharing = Sharing { reuse_addr: false, ..*sharing };
        let own = I::own(self.v4, self.v6);
        placement.native.is_some_and(|(l, _)| own.listening.conflict(&l, &sharing, Some(except)).is_some())
            || placement
                .v4
                .is_some_and(|(l, _)| self.v4.listening.conflict(&l, &sharing, Some(except)).is_some())
    }

    /// Whether an explicit binding holds the port a connection from `placement` would use
    /// (an ephemeral port for connect skips them, as Linux's `__inet_hash_connect`).
    pub(super) fn port_bound<I: TcpIpExt>(&self, placement: &TcpPlacement<I>) -> bool {
        let none = Sharing::default();
        let own = I::own(self.v4, self.v6);
        placement.native.is_some_and(|(l, _)| own.bound.conflict(&l, &none, None).is_some())
            || placement.v4.is_some_and(|(l, _)| self.v4.bound.conflict(&l, &none, None).is_some())
    }

    fn conflict_in<J: Ip>(
        &self,
        table: &TcpSockets<J>,
        local: &LocalEndpoint<J, NonZeroU16>,
        sharing: &Sharing,
        except: AnyTcpSocketId,
    ) -> bool {
        let without_reuse_addr = Sharing { reuse_addr: false, ..*sharing };
        table.bound.conflict(local, sharing, Some(except)).is_some()
            || table.listening.conflict(local, &without_reuse_addr, Some(except)).is_some()
            || self.conn_conflict(table, local, sharing)
    }

    /// Whether a connection on `local`'s port whose address overlaps holds the port against
    /// a socket with `sharing`.
    fn conn_conflict<J: Ip>(
        &self,
        table: &TcpSockets<J>,
        local: &LocalEndpoint<J, NonZeroU16>,
        sharing: &Sharing,
    ) -> bool {
        let port = local.port.get();
        let min = (port, J::Addr::default(), J::Addr::default(), 0);
        table.conns.range(min..).take_while(|(k, _)| k.0 == port).any(|(k, &id)| {
            let overlaps = local.addr.is_none_or(|a| *a == k.1);
            overlaps && !(sharing.reuse_addr && self.reuse_addr(id))
        })
    }
}
