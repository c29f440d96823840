//! The binding table of datagram sockets (UDP, ICMP echo; later TCP): which socket holds
//! which local address, port and device, which remote it is connected to, whether a new bind
//! conflicts with the sockets already there, and which socket an incoming packet belongs to.
//!
//! A [`SocketMap`] holds one IP version, generic over the "port" (a UDP port, an ICMP echo
//! identifier) and over the socket id it hands back. Dual-stack IPv6 sockets (RFC 3493 §5.3,
//! addresses RFC 4291 §2.5.5.2) are represented by their owner with a second entry in the
//! IPv4 map, flagged [`EntryKind::DualStack`]; see [`udp`](super::udp).
//!
//! Bind conflicts follow Linux (`udp_lib_lport_inuse`, `inet_rcv_saddr_equal`):
//! two bindings on the same port conflict when their addresses overlap (equal, or either is
//! the wildcard: unlike BSD, Linux lets no specific address shadow the wildcard) and their
//! devices overlap (equal, or either unbound), unless both set SO_REUSEADDR, or both set
//! SO_REUSEPORT and have the same owner. ICMP echo sockets use [`ConflictScope::Port`]: Linux's
//! `ping_get_port` compares identifiers only.
//!
//! Unicast demux follows Linux's `compute_score` (net/ipv4/udp.c): a socket matches when each
//! field it is bound or connected to equals the packet's, and scores 4 per matched field
//! (local address, remote address, remote port, device) plus 2 for a native and 1 for a
//! dual-stack socket. The best score wins; ties go to the most recently bound socket, as
//! Linux's head-inserted hash chains do. If the winner set SO_REUSEPORT, every equally scored
//! SO_REUSEPORT socket of the same owner forms its group and a keyed hash of the 4-tuple picks
//! one (Linux's `reuseport_select_sock` over `udp_ehashfn`), so a flow always reaches the same
//! socket and flows spread evenly. Multicast and broadcast packets go to every matching
//! socket (`__udp4_lib_mcast_deliver`).
//!
//! Lookups never allocate: the port's bucket is found in a B-tree and scanned in place.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt::Debug;
use core::num::NonZeroU16;

use crate::addr::{Ip, IpAddress, SpecifiedAddr};
use crate::device::DeviceId;
use crate::hash::{SipHasher, SipKey};

/// What plays the role of a port in a map: a UDP port, an ICMP echo identifier.
pub trait PortNumber: Copy + Eq + Ord + Debug {
    /// The number, for hashing.
    fn number(self) -> u16;
}

impl PortNumber for NonZeroU16 {
    fn number(self) -> u16 {
        self.get()
    }
}

/// Where a socket is bound: address (`None` for the wildcard), port and device
/// (SO_BINDTODEVICE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalEndpoint<I: Ip, P> {
    /// The local address, or `None` for the wildcard (`0.0.0.0`, `::`).
    pub addr: Option<SpecifiedAddr<I::Addr>>,
    /// The local port.
    pub port: P,
    /// The device the socket is bound to, if any.
    pub device: Option<DeviceId>,
}

/// What a connected socket is connected to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteEndpoint<I: Ip, P> {
    /// The remote address.
    pub addr: SpecifiedAddr<I::Addr>,
    /// The remote port; `None` for protocols without one (ICMP echo).
    pub port: Option<P>,
}

/// The sharing options of a socket (SO_REUSEADDR, SO_REUSEPORT) and its owner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sharing {
    /// SO_REUSEADDR: sockets that all set it may share an address and port.
    pub reuse_addr: bool,
    /// SO_REUSEPORT: sockets of the same owner that all set it may share an address and port,
    /// and unicast packets are balanced across them.
    pub reuse_port: bool,
    /// The owner (the user id on Linux); SO_REUSEPORT groups only form within one owner.
    pub owner: u32,
}

/// Which bindings a new one is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictScope {
    /// Sockets whose addresses and devices overlap (UDP, TCP).
    Address,
    /// Every socket on the port, whatever its address and device (Linux's ICMP echo
    /// sockets, `ping_get_port`).
    Port,
}

/// How an entry stands for its socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A socket of this map's IP version.
    Native,
    /// The IPv4 side of a dual-stack IPv6 socket: it scores below native sockets, as in
    /// Linux's `compute_score`.
    DualStack,
}

/// An incoming packet's flow as this host sees it: its destination is the local side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow<I: Ip, P> {
    /// The packet's destination address.
    pub local_addr: I::Addr,
    /// The packet's destination port.
    pub local_port: P,
    /// The packet's source address.
    pub remote_addr: I::Addr,
    /// The packet's source port, if the protocol has one and it is not 0.
    pub remote_port: Option<P>,
    /// The device the packet arrived on.
    pub device: DeviceId,
}

/// A bind that conflicts with an existing socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindConflict<S> {
    /// One socket the new binding conflicts with.
    pub with: S,
}

#[derive(Clone, Debug)]
struct Entry<I: Ip, P, S> {
    id: S,
    local: LocalEndpoint<I, P>,
    remote: Option<RemoteEndpoint<I, P>>,
    sharing: Sharing,
    kind: EntryKind,
}

impl<I: Ip, P: PortNumber, S> Entry<I, P, S> {
    /// Linux's `compute_score`, or `None` if the entry does not match the flow.
    fn score(&self, flow: &Flow<I, P>) -> Option<u32> {
        let mut score = match self.kind {
            EntryKind::Native => 2,
            EntryKind::DualStack => 1,
        };
        if let Some(addr) = self.local.addr {
            if *addr != flow.local_addr {
                return None;
            }
            score += 4;
        }
        if let Some(remote) = self.remote {
            if *remote.addr != flow.remote_addr {
                return None;
            }
            score += 4;
            if let Some(port) = remote.port {
                if Some(port) != flow.remote_port {
                    return None;
                }
                score += 4;
            }
        }
        if let Some(device) = self.local.device {
            if device != flow.device {
                return None;
            }
            score += 4;
        }
        Some(score)
    }
}

/// Where a scan for multicast matches resumes; start with `MatchCursor::default()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatchCursor(usize);

/// The binding table of one IP version; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct SocketMap<I: Ip, P, S> {
    buckets: BTreeMap<P, Vec<Entry<I, P, S>>>,
    scope: ConflictScope,
    hash_key: SipKey,
    len: usize,
}

impl<I: Ip, P: PortNumber, S: Copy + Eq + Debug> SocketMap<I, P, S> {
    /// An empty map comparing bindings within `scope`; `hash_key` keys the SO_REUSEPORT flow
    /// hash (a secret, so peers cannot aim flows at one socket).
    pub fn new(scope: ConflictScope, hash_key: SipKey) -> Self {
        Self { buckets: BTreeMap::new(), scope, hash_key, len: 0 }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn overlaps(&self, existing: &Entry<I, P, S>, local: &LocalEndpoint<I, P>) -> bool {
        match self.scope {
            ConflictScope::Port => true,
            ConflictScope::Address => {
                let addrs = match (existing.local.addr, local.addr) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                let devices = match (existing.local.device, local.device) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                addrs && devices
            }
        }
    }

    /// The first socket other than `except` that a binding `local` with `sharing` would
    /// conflict with, if any.
    pub fn conflict(&self, local: &LocalEndpoint<I, P>, sharing: &Sharing, except: Option<S>) -> Option<S> {
        let bucket = self.buckets.get(&local.port)?;
        bucket
            .iter()
            .filter(|e| Some(e.id) != except)
            .find(|e| {
                let shared = (e.sharing.reuse_addr && sharing.reuse_addr)
                    || (e.sharing.reuse_port && sharing.reuse_port && e.sharing.owner == sharing.owner);
                !shared && self.overlaps(e, local)
            })
            .map(|e| e.id)
    }

    /// Adds socket `id` bound at `local` after checking for conflicts.
    pub fn insert(
        &mut self,
        id: S,
        local: LocalEndpoint<I, P>,
        sharing: Sharing,
        kind: EntryKind,
    ) -> Result<(), BindConflict<S>> {
        if let Some(with) = self.conflict(&local, &sharing, Some(id)) {
            return Err(BindConflict { with });
        }
        self.insert_unchecked(id, local, None, sharing, kind);
        Ok(())
    }

    /// Adds an entry without checking for conflicts: for moving a socket that is already
    /// bound (connect fixing its local address, as Linux rehashes without a check).
    pub fn insert_unchecked(
        &mut self,
        id: S,
        local: LocalEndpoint<I, P>,
        remote: Option<RemoteEndpoint<I, P>>,
        sharing: Sharing,
        kind: EntryKind,
    ) {
        self.buckets.entry(local.port).or_default().push(Entry { id, local, remote, sharing, kind });
        self.len += 1;
    }

    /// Removes socket `id`'s entry on `port`; returns whether there was one.
    pub fn remove(&mut self, id: S, port: P) -> bool {
        let Some(bucket) = self.buckets.get_mut(&port) else { return false };
        let Some(index) = bucket.iter().position(|e| e.id == id) else { return false };
        bucket.remove(index);
        if bucket.is_empty() {
            self.buckets.remove(&port);
        }
        self.len -= 1;
        true
    }

    /// Updates the sharing options of socket `id` on `port` (setting SO_REUSEADDR after
    /// bind affects later binds, as on Linux); returns whether the entry exists.
    pub fn set_sharing(&mut self, id: S, port: P, sharing: Sharing) -> bool {
        self.entry_mut(id, port).map(|e| e.sharing = sharing).is_some()
    }

    fn entry_mut(&mut self, id: S, port: P) -> Option<&mut Entry<I, P, S>> {
        self.buckets.get_mut(&port)?.iter_mut().find(|e| e.id == id)
    }

    /// The local binding of socket `id` on `port`.
    pub fn local(&self, id: S, port: P) -> Option<LocalEndpoint<I, P>> {
        self.buckets.get(&port)?.iter().find(|e| e.id == id).map(|e| e.local)
    }

    /// The keyed hash of a flow's 4-tuple that selects within an SO_REUSEPORT group.
    fn flow_hash(&self, flow: &Flow<I, P>) -> u64 {
        let mut h = SipHasher::new(&self.hash_key);
        h.write(flow.remote_addr.as_bytes());
        h.write(flow.local_addr.as_bytes());
        h.write(&flow.remote_port.map_or(0, PortNumber::number).to_be_bytes());
        h.write(&flow.local_port.number().to_be_bytes());
        h.finish()
    }

    /// The one socket a unicast packet of `flow` goes to, by Linux's scoring (see the
    /// [module documentation](self)).
    pub fn lookup_unicast(&self, flow: &Flow<I, P>) -> Option<S> {
        let bucket = self.buckets.get(&flow.local_port)?;
        let mut best: Option<(u32, &Entry<I, P, S>)> = None;
        for entry in bucket {
            if let Some(score) = entry.score(flow) {
                if best.is_none_or(|(b, _)| score >= b) {
                    best = Some((score, entry));
                }
            }
        }
        let (score, winner) = best?;
        if !winner.sharing.reuse_port {
            return Some(winner.id);
        }
        let in_group = |e: &&Entry<I, P, S>| {
            e.sharing.reuse_port && e.sharing.owner == winner.sharing.owner && e.score(flow) == Some(score)
        };
        let size = bucket.iter().filter(in_group).count();
        let pick = ((u128::from(self.flow_hash(flow)) * size as u128) >> 64) as usize;
        bucket.iter().filter(in_group).nth(pick).map(|e| e.id)
    }

    /// The next socket after `cursor` that a multicast or broadcast packet of `flow` is
    /// delivered to (every matching socket gets one), advancing the cursor.
    pub fn next_match(&self, flow: &Flow<I, P>, cursor: &mut MatchCursor) -> Option<S> {
        let bucket = self.buckets.get(&flow.local_port)?;
        while let Some(entry) = bucket.get(cursor.0) {
            cursor.0 += 1;
            if entry.score(flow).is_some() {
                return Some(entry.id);
            }
        }
        None
    }

    /// Every socket a multicast or broadcast packet of `flow` is delivered to, in bind order.
    pub fn matches<'a>(&'a self, flow: &'a Flow<I, P>) -> impl Iterator<Item = S> + 'a {
        let mut cursor = MatchCursor::default();
        core::iter::from_fn(move || self.next_match(flow, &mut cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Ipv4, Ipv4Addr};
    use alloc::vec;
    use proptest::prelude::*;

    type Map = SocketMap<Ipv4, NonZeroU16, u32>;

    const KEY: SipKey = SipKey([7; 16]);

    fn port(n: u16) -> NonZeroU16 {
        NonZeroU16::new(n).unwrap()
    }

    fn addr(last: u8) -> Ipv4Addr {
        Ipv4Addr::new([192, 0, 2, last])
    }

    fn local(a: Option<u8>, p: u16, device: Option<u32>) -> LocalEndpoint<Ipv4, NonZeroU16> {
        LocalEndpoint {
            addr: a.map(|a| SpecifiedAddr::new(addr(a)).unwrap()),
            port: port(p),
            device: device.map(DeviceId::new),
        }
    }

    fn sharing(reuse_addr: bool, reuse_port: bool, owner: u32) -> Sharing {
        Sharing { reuse_addr, reuse_port, owner }
    }

    fn flow(dst: u8, dport: u16, src: u8, sport: u16, device: u32) -> Flow<Ipv4, NonZeroU16> {
        Flow {
            local_addr: addr(dst),
            local_port: port(dport),
            remote_addr: addr(src),
            remote_port: NonZeroU16::new(sport),
            device: DeviceId::new(device),
        }
    }

    /// Whether binding `second` after `first` (same port) succeeds.
    fn second_bind_ok(
        first: (Option<u8>, Option<u32>, Sharing),
        second: (Option<u8>, Option<u32>, Sharing),
    ) -> bool {
        let mut map = Map::new(ConflictScope::Address, KEY);
        map.insert(1, local(first.0, 53, first.1), first.2, EntryKind::Native).unwrap();
        map.insert(2, local(second.0, 53, second.1), second.2, EntryKind::Native).is_ok()
    }

    #[test]
    fn bind_conflict_matrix_follows_linux_udp_lib_lport_inuse() {
        let none = Sharing::default();
        let addr_ = sharing(true, false, 0);
        let port_ = sharing(false, true, 0);
        let port_other_owner = sharing(false, true, 1);
        // Same specific address, or specific vs wildcard either way round: conflicts.
        assert!(!second_bind_ok((Some(1), None, none), (Some(1), None, none)));
        assert!(!second_bind_ok((None, None, none), (Some(1), None, none)));
        assert!(!second_bind_ok((Some(1), None, none), (None, None, none)));
        assert!(!second_bind_ok((None, None, none), (None, None, none)));
        // Different specific addresses never overlap.
        assert!(second_bind_ok((Some(1), None, none), (Some(2), None, none)));
        // SO_REUSEADDR on both (UDP: even the exact same address); one side is not enough.
        assert!(second_bind_ok((Some(1), None, addr_), (Some(1), None, addr_)));
        assert!(second_bind_ok((None, None, addr_), (Some(1), None, addr_)));
        assert!(!second_bind_ok((None, None, addr_), (Some(1), None, none)));
        assert!(!second_bind_ok((None, None, none), (Some(1), None, addr_)));
        // SO_REUSEPORT on both with the same owner; another owner conflicts.
        assert!(second_bind_ok((None, None, port_), (None, None, port_)));
        assert!(!second_bind_ok((None, None, port_), (None, None, port_other_owner)));
        assert!(!second_bind_ok((None, None, port_), (None, None, addr_)));
        // SO_BINDTODEVICE: different devices never conflict; bound vs unbound does.
        assert!(second_bind_ok((None, Some(1), none), (None, Some(2), none)));
        assert!(!second_bind_ok((None, Some(1), none), (None, Some(1), none)));
        assert!(!second_bind_ok((None, Some(1), none), (None, None, none)));
        assert!(!second_bind_ok((None, None, none), (Some(1), Some(2), none)));
    }

    #[test]
    fn ping_scope_compares_identifiers_only_like_ping_get_port() {
        let mut map = Map::new(ConflictScope::Port, KEY);
        map.insert(1, local(Some(1), 7, Some(1)), Sharing::default(), EntryKind::Native).unwrap();
        let other = local(Some(2), 7, Some(2));
        assert_eq!(map.conflict(&other, &Sharing::default(), None), Some(1));
        assert!(map.insert(3, local(Some(2), 8, None), Sharing::default(), EntryKind::Native).is_ok());
    }

    #[test]
    fn remove_frees_the_binding() {
        let mut map = Map::new(ConflictScope::Address, KEY);
        map.insert(1, local(None, 53, None), Sharing::default(), EntryKind::Native).unwrap();
        assert_eq!(
            map.insert(2, local(None, 53, None), Sharing::default(), EntryKind::Native),
            Err(BindConflict { with: 1 })
        );
        assert!(map.remove(1, port(53)));
        assert!(!map.remove(1, port(53)));
        assert!(map.is_empty());
        map.insert(2, local(None, 53, None), Sharing::default(), EntryKind::Native).unwrap();
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn unicast_prefers_connected_over_bound_address_over_wildcard() {
        let mut map = Map::new(ConflictScope::Address, KEY);
        let shared = sharing(true, false, 0);
        map.insert(1, local(None, 53, None), shared, EntryKind::Native).unwrap();
        map.insert(2, local(Some(1), 53, None), shared, EntryKind::Native).unwrap();
        let remote = RemoteEndpoint { addr: SpecifiedAddr::new(addr(9)).unwrap(), port: Some(port(99)) };
        map.insert_unchecked(3, local(None, 53, None), Some(remote), shared, EntryKind::Native);
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 99, 1)), Some(3));
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 98, 1)), Some(2));
        assert_eq!(map.lookup_unicast(&flow(2, 53, 9, 98, 1)), Some(1));
        assert_eq!(map.lookup_unicast(&flow(2, 54, 9, 98, 1)), None);
    }

    #[test]
    fn unicast_requires_the_bound_device_and_prefers_it() {
        let mut map = Map::new(ConflictScope::Address, KEY);
        map.insert(1, local(None, 53, Some(2)), Sharing::default(), EntryKind::Native).unwrap();
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 1, 1)), None);
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 1, 2)), Some(1));
        map.insert(2, local(None, 53, Some(1)), Sharing::default(), EntryKind::Native).unwrap();
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 1, 1)), Some(2));
    }

    #[test]
    fn native_socket_beats_dual_stack_socket_on_equal_terms() {
        let mut map = Map::new(ConflictScope::Address, KEY);
        let shared = sharing(true, false, 0);
        map.insert(1, local(None, 53, None), shared, EntryKind::Native).unwrap();
        map.insert(2, local(None, 53, None), shared, EntryKind::DualStack).unwrap();
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 1, 1)), Some(1));
    }

    #[test]
    fn reuseaddr_ties_go_to_the_most_recent_bind() {
        let mut map = Map::new(ConflictScope::Address, KEY);
        let shared = sharing(true, false, 0);
        map.insert(1, local(Some(1), 53, None), shared, EntryKind::Native).unwrap();
        map.insert(2, local(Some(1), 53, None), shared, EntryKind::Native).unwrap();
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 1, 1)), Some(2));
        map.remove(2, port(53));
        assert_eq!(map.lookup_unicast(&flow(1, 53, 9, 1, 1)), Some(1));
    }

    #[test]
    fn reuseport_balances_flows_and_keeps_each_flow_on_one_socket() {
        const N: u32 = 4;
        const FLOWS: u32 = 8000;
        let mut map = Map::new(ConflictScope::Address, KEY);
        for id in 0..N {
            map.insert(id, local(None, 443, None), sharing(false, true, 0), EntryKind::Native).unwrap();
        }
        let mut counts = [0u32; N as usize];
        for i in 0..FLOWS {
            let f = flow(1, 443, (i % 250) as u8 + 1, 1024 + (i / 250) as u16, 1);
            let chosen = map.lookup_unicast(&f).unwrap();
            assert_eq!(map.lookup_unicast(&f), Some(chosen), "a flow's socket is stable");
            counts[chosen as usize] += 1;
        }
        let fair = FLOWS / N;
        for count in counts {
            assert!(count.abs_diff(fair) < fair / 10, "{counts:?} is not within 10% of {fair} each");
        }
    }

    #[test]
    fn multicast_reaches_every_matching_socket() {
        let mut map = Map::new(ConflictScope::Address, KEY);
        let shared = sharing(true, false, 0);
        map.insert(1, local(None, 5353, None), shared, EntryKind::Native).unwrap();
        map.insert(2, local(Some(251), 5353, None), shared, EntryKind::Native).unwrap();
        map.insert(3, local(Some(7), 5353, None), shared, EntryKind::Native).unwrap();
        map.insert(4, local(None, 5353, Some(2)), shared, EntryKind::Native).unwrap();
        let f = flow(251, 5353, 9, 5353, 1);
        assert_eq!(map.matches(&f).collect::<Vec<_>>(), vec![1, 2]);
        let mut cursor = MatchCursor::default();
        assert_eq!(map.next_match(&f, &mut cursor), Some(1));
        assert_eq!(map.next_match(&f, &mut cursor), Some(2));
        assert_eq!(map.next_match(&f, &mut cursor), None);
    }

    /// A socket of the reference model.
    #[derive(Clone, Debug)]
    struct ModelSocket {
        addr: Option<u8>,
        device: Option<u32>,
        remote: Option<(u8, u16)>,
        reuse_port: bool,
        owner: u32,
        dual_stack: bool,
    }

    /// Linux's `compute_score`, written out independently of the map.
    fn model_score(s: &ModelSocket, dst: u8, src: u8, sport: u16, device: u32) -> Option<u32> {
        let addr_ok = s.addr.is_none_or(|a| a == dst);
        let remote_ok = s.remote.is_none_or(|(a, p)| a == src && p == sport);
        let device_ok = s.device.is_none_or(|d| d == device);
        (addr_ok && remote_ok && device_ok).then(|| {
            u32::from(!s.dual_stack)
                + 1
                + 4 * u32::from(s.addr.is_some())
                + 8 * u32::from(s.remote.is_some())
                + 4 * u32::from(s.device.is_some())
        })
    }

    fn model_socket() -> impl Strategy<Value = ModelSocket> {
        (
            proptest::option::of(1u8..4),
            proptest::option::of(1u32..3),
            proptest::option::of((1u8..4, 1u16..4)),
            any::<bool>(),
            0u32..2,
            any::<bool>(),
        )
            .prop_map(|(addr, device, remote, reuse_port, owner, dual_stack)| ModelSocket {
                addr,
                device,
                remote,
                reuse_port,
                owner,
                dual_stack,
            })
    }

    proptest! {
        #[test]
        fn demux_matches_a_brute_force_model_of_linux(
            sockets in proptest::collection::vec(model_socket(), 0..8),
            dst in 1u8..4, src in 1u8..4, sport in 0u16..4, device in 1u32..3,
        ) {
            let mut map = Map::new(ConflictScope::Address, KEY);
            for (id, s) in sockets.iter().enumerate() {
                let remote = s.remote.map(|(a, p)| RemoteEndpoint {
                    addr: SpecifiedAddr::new(addr(a)).unwrap(),
                    port: Some(port(p)),
                });
                let kind = if s.dual_stack { EntryKind::DualStack } else { EntryKind::Native };
                let share = sharing(true, s.reuse_port, s.owner);
                map.insert_unchecked(id as u32, local(s.addr, 9, s.device), remote, share, kind);
            }
            let f = flow(dst, 9, src, sport, device);

            let scores: Vec<Option<u32>> =
                sockets.iter().map(|s| model_score(s, dst, src, sport, device)).collect();
            // Multicast: every socket that matches at all, in bind order.
            let all: Vec<u32> = (0..sockets.len() as u32).filter(|&i| scores[i as usize].is_some()).collect();
            prop_assert_eq!(map.matches(&f).collect::<Vec<_>>(), all);

            // Unicast: the last socket with the best score, or its SO_REUSEPORT group.
            let best = scores.iter().flatten().max().copied();
            let expected = best.map(|best| {
                let winner = (0..sockets.len()).rev().find(|&i| scores[i] == Some(best)).unwrap();
                let w = &sockets[winner];
                if !w.reuse_port {
                    return vec![winner as u32];
                }
                (0..sockets.len())
                    .filter(|&i| scores[i] == Some(best) && sockets[i].reuse_port && sockets[i].owner == w.owner)
                    .map(|i| i as u32)
                    .collect()
            });
            let got = map.lookup_unicast(&f);
            match expected {
                None => prop_assert_eq!(got, None),
                Some(group) => {
                    prop_assert!(group.contains(&got.unwrap()), "{:?} not in {:?}", got, group);
                    let pick = ((u128::from(map.flow_hash(&f)) * group.len() as u128) >> 64) as usize;
                    prop_assert_eq!(got, Some(group[pick]));
                }
            }
        }

        #[test]
        fn insert_accepts_exactly_the_bindings_linux_accepts(
            existing in proptest::collection::vec(
                (proptest::option::of(1u8..3), proptest::option::of(1u32..3), any::<bool>(), any::<bool>(), 0u32..2),
                0..5,
            ),
            new in (proptest::option::of(1u8..3), proptest::option::of(1u32..3), any::<bool>(), any::<bool>(), 0u32..2),
        ) {
            let mut map = Map::new(ConflictScope::Address, KEY);
            for (id, &(a, d, ra, rp, owner)) in existing.iter().enumerate() {
                map.insert_unchecked(id as u32, local(a, 9, d), None, sharing(ra, rp, owner), EntryKind::Native);
            }
            let (a, d, ra, rp, owner) = new;
            let clash = existing.iter().any(|&(ea, ed, era, erp, eowner)| {
                let addr_overlap = ea.is_none() || a.is_none() || ea == a;
                let dev_overlap = ed.is_none() || d.is_none() || ed == d;
                let shared = (era && ra) || (erp && rp && eowner == owner);
                addr_overlap && dev_overlap && !shared
            });
            let result = map.insert(99, local(a, 9, d), sharing(ra, rp, owner), EntryKind::Native);
            prop_assert_eq!(result.is_err(), clash);
        }
    }
}
