//! Source address selection: which of the host's addresses a datagram is sent from when the
//! socket did not bind one.
//!
//! IPv6 follows RFC 6724 §5's rules in order, with §2.1's default policy table for labels:
//! rule 1 (prefer the destination itself), 2 (appropriate scope), 3 (avoid deprecated),
//! 5 (prefer the outgoing interface), 6 (matching label), 7 (temporary addresses, RFC 8981,
//! per [`SourcePreferences::prefer_temporary`]) and 8 (longest matching prefix). Rule 4
//! (home addresses) needs Mobile IPv6, which the stack does not do; rule 5.5 (RFC 8028's
//! next-hop-announced prefixes) needs the router each prefix came from, which the candidate
//! records do not carry. The candidate set is that of RFC 6724 §4: never a tentative or
//! duplicate address (RFC 4862 §5.4), and for link-local and link-scoped multicast
//! destinations only the outgoing interface's addresses.
//!
//! IPv4 has no RFC procedure; Linux's `inet_select_addr` is what users see: the first
//! address of the outgoing device whose subnet contains the next hop, else the device's
//! first (primary) address, else the first address of any device.
//!
//! Ties go to the candidate listed first, as Linux keeps its best-so-far unless a later one
//! is strictly better. Selection walks the slice once and allocates nothing.

use core::cmp::Ordering;

use crate::addr::{
    AddrSubnet, Ip, IpAddress, Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, IsUnicast, SpecifiedAddr, Subnet,
};
use crate::device::DeviceId;
use crate::ip::routing::Destination;

/// Where an assigned address stands in duplicate address detection and its lifetimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressState {
    /// Still being checked for duplicates (RFC 4862 §5.4, RFC 5227 §2.1): not usable.
    Tentative,
    /// Usable and preferred.
    Preferred,
    /// Usable, but its preferred lifetime ended (RFC 4862 §5.5.4): avoided for new
    /// communication when another address will do.
    Deprecated,
    /// Found to be in use by another node (RFC 4862 §5.4.5): never used.
    Duplicate,
}

/// One of the host's addresses, as address configuration records it for selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceCandidate<A> {
    /// The address and the prefix it was assigned with.
    pub addr: AddrSubnet<A>,
    /// The device it is assigned to.
    pub device: DeviceId,
    /// Where it stands.
    pub state: AddressState,
    /// A temporary (privacy) address (RFC 8981); IPv4 addresses never are.
    pub temporary: bool,
}

impl<A> SourceCandidate<A> {
    /// Whether the address may be a source at all: assigned, not tentative or duplicate.
    pub fn is_usable(&self) -> bool {
        matches!(self.state, AddressState::Preferred | AddressState::Deprecated)
    }
}

impl<A: IpAddress + IsUnicast> SourceCandidate<A> {
    /// The address itself.
    pub fn address(&self) -> A {
        self.addr.addr().into_addr()
    }
}

/// Preferences that change the choice among otherwise equal candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourcePreferences {
    /// Prefer temporary addresses to public ones (RFC 6724 §5 rule 7). Off by default, as in
    /// Linux, where only `use_tempaddr = 2` (or a socket's `IPV6_PREFER_SRC_TMP`) prefers
    /// them; RFC 6724 recommends on.
    pub prefer_temporary: bool,
}

/// Source address selection for one IP version, so version-generic code can call it.
pub trait SourceSelectionIp: Ip {
    /// The address to send from to `dst` along `route`, among `candidates` (every address of
    /// the host, in the order they were assigned); `None` if none may be used.
    fn select_source<'a>(
        candidates: &'a [SourceCandidate<Self::Addr>],
        dst: SpecifiedAddr<Self::Addr>,
        route: &Destination<Self::Addr>,
        prefs: &SourcePreferences,
    ) -> Option<&'a SourceCandidate<Self::Addr>>;
}

impl SourceSelectionIp for Ipv4 {
    fn select_source<'a>(
        candidates: &'a [SourceCandidate<Ipv4Addr>],
        _dst: SpecifiedAddr<Ipv4Addr>,
        route: &Destination<Ipv4Addr>,
        _prefs: &SourcePreferences,
    ) -> Option<&'a SourceCandidate<Ipv4Addr>> {
        select_ipv4_source(candidates, route.device, route.next_hop.addr().into_addr())
    }
}

impl SourceSelectionIp for Ipv6 {
    fn select_source<'a>(
        candidates: &'a [SourceCandidate<Ipv6Addr>],
        dst: SpecifiedAddr<Ipv6Addr>,
        route: &Destination<Ipv6Addr>,
        prefs: &SourcePreferences,
    ) -> Option<&'a SourceCandidate<Ipv6Addr>> {
        select_ipv6_source(candidates, dst.into_addr(), route.device, prefs)
    }
}

/// Linux's `inet_select_addr` for a datagram leaving through `device` to `next_hop`:
///
/// 1. the first usable address of `device` whose subnet contains `next_hop` (the primary
///    address of that subnet, since Linux lists secondaries after it);
/// 2. else the first usable address of `device`;
/// 3. else the first usable address of any device that is not link-local, as RFC 3927
///    §2.6.2 keeps 169.254/16 sources off other links.
///
/// Loopback addresses (127/8, host scope in Linux) are only chosen for a loopback next hop.
/// Deprecated addresses (preferred lifetime over) are chosen only when no preferred address
/// qualifies at all, RFC 6724 §5 rule 3 applied to IPv4 (Linux skips `IFA_F_DEPRECATED`
/// addresses likewise).
pub fn select_ipv4_source(
    candidates: &[SourceCandidate<Ipv4Addr>],
    device: DeviceId,
    next_hop: Ipv4Addr,
) -> Option<&SourceCandidate<Ipv4Addr>> {
    select_ipv4_source_among(candidates, device, next_hop, |c| c.state == AddressState::Preferred)
        .or_else(|| select_ipv4_source_among(candidates, device, next_hop, SourceCandidate::is_usable))
}

/// [`select_ipv4_source`]'s three steps among the candidates `eligible` accepts.
fn select_ipv4_source_among(
    candidates: &[SourceCandidate<Ipv4Addr>],
    device: DeviceId,
    next_hop: Ipv4Addr,
    eligible: impl Fn(&SourceCandidate<Ipv4Addr>) -> bool,
) -> Option<&SourceCandidate<Ipv4Addr>> {
    let scope_ok = |c: &&SourceCandidate<Ipv4Addr>| {
        eligible(c) && (!c.address().is_loopback() || next_hop.is_loopback())
    };
    let mut on_device = candidates.iter().filter(scope_ok).filter(|c| c.device == device);
    on_device
        .clone()
        .find(|c| c.addr.subnet().contains(&next_hop))
        .or_else(|| on_device.next())
        .or_else(|| candidates.iter().filter(scope_ok).find(|c| !c.address().is_link_local()))
}

/// RFC 6724 §5's choice of source for `dst` through `device`.
pub fn select_ipv6_source<'a>(
    candidates: &'a [SourceCandidate<Ipv6Addr>],
    dst: Ipv6Addr,
    device: DeviceId,
    prefs: &SourcePreferences,
) -> Option<&'a SourceCandidate<Ipv6Addr>> {
    let dst_scope = scope(&dst);
    // RFC 6724 §4: link-scoped destinations only take the outgoing interface's addresses.
    let device_only = dst_scope <= SCOPE_LINK_LOCAL;
    let cmp = Comparison { dst, dst_scope, dst_label: label(&dst), device, prefs };
    candidates.iter().filter(|c| c.is_usable() && (!device_only || c.device == device)).fold(
        None,
        |best, c| match best {
            Some(b) if cmp.compare(c, b) != Ordering::Greater => Some(b),
            _ => Some(c),
        },
    )
}

/// Link-local scope (RFC 4291 §2.7).
const SCOPE_LINK_LOCAL: u8 = 0x2;
/// Site-local scope.
const SCOPE_SITE_LOCAL: u8 = 0x5;
/// Global scope.
const SCOPE_GLOBAL: u8 = 0xe;

/// An address's scope as RFC 6724 §3.1 defines it for comparison: a multicast address's
/// scope field; link-local scope for fe80::/10 and for the loopback address; site-local for
/// the deprecated fec0::/10 (RFC 3879); global for the rest, unique local addresses included.
fn scope(addr: &Ipv6Addr) -> u8 {
    if addr.is_multicast() {
        addr.bytes()[1] & 0x0f
    } else if addr.is_unicast_link_local() || addr.is_loopback() {
        SCOPE_LINK_LOCAL
    } else if addr.bytes()[0] == 0xfe && addr.bytes()[1] & 0xc0 == 0xc0 {
        SCOPE_SITE_LOCAL
    } else {
        SCOPE_GLOBAL
    }
}

/// RFC 6724 §2.1's default policy table as (prefix, label), longest prefix first; the
/// precedences serve destination selection, which is the resolver's job, not ours.
const POLICY_LABELS: [(Subnet<Ipv6Addr>, u8); 9] = [
    (Subnet::new_unchecked(Ipv6Addr::LOOPBACK, 128), 0),
    (Subnet::new_unchecked(Ipv6Addr::from_segments([0, 0, 0, 0, 0, 0xffff, 0, 0]), 96), 4),
    (Subnet::new_unchecked(Ipv6Addr::UNSPECIFIED, 96), 3),
    (Subnet::new_unchecked(Ipv6Addr::from_segments([0x2001, 0, 0, 0, 0, 0, 0, 0]), 32), 5),
    (Subnet::new_unchecked(Ipv6Addr::from_segments([0x2002, 0, 0, 0, 0, 0, 0, 0]), 16), 2),
    (Subnet::new_unchecked(Ipv6Addr::from_segments([0x3ffe, 0, 0, 0, 0, 0, 0, 0]), 16), 12),
    (Subnet::new_unchecked(Ipv6Addr::from_segments([0xfec0, 0, 0, 0, 0, 0, 0, 0]), 10), 11),
    (Subnet::new_unchecked(Ipv6Addr::from_segments([0xfc00, 0, 0, 0, 0, 0, 0, 0]), 7), 13),
    (Subnet::new_unchecked(Ipv6Addr::UNSPECIFIED, 0), 1),
];

/// Label(A) of RFC 6724 §2.1: the label of the longest matching policy table prefix.
fn label(addr: &Ipv6Addr) -> u8 {
    POLICY_LABELS.iter().find(|(prefix, _)| prefix.contains(addr)).map_or(1, |&(_, label)| label)
}

/// Which side a rule prefers: `Greater` for the first.
fn prefer(a: bool, b: bool) -> Ordering {
    a.cmp(&b)
}

/// The destination-dependent inputs of RFC 6724 §5, computed once per selection.
struct Comparison<'p> {
    dst: Ipv6Addr,
    dst_scope: u8,
    dst_label: u8,
    device: DeviceId,
    prefs: &'p SourcePreferences,
}

impl Comparison<'_> {
    /// `Greater` if RFC 6724 §5 prefers `a` to `b`, `Less` if `b`, `Equal` if no rule decides.
    fn compare(&self, a: &SourceCandidate<Ipv6Addr>, b: &SourceCandidate<Ipv6Addr>) -> Ordering {
        let (sa, sb) = (a.address(), b.address());
        // Rule 1: prefer same address.
        prefer(sa == self.dst, sb == self.dst)
            // Rule 2: prefer appropriate scope.
            .then_with(|| self.scope_rule(scope(&sa), scope(&sb)))
            // Rule 3: avoid deprecated addresses.
            .then_with(|| prefer(a.state != AddressState::Deprecated, b.state != AddressState::Deprecated))
            // Rule 5: prefer outgoing interface.
            .then_with(|| prefer(a.device == self.device, b.device == self.device))
            // Rule 6: prefer matching label.
            .then_with(|| prefer(label(&sa) == self.dst_label, label(&sb) == self.dst_label))
            // Rule 7: prefer temporary addresses (or public ones, per the preference).
            .then_with(|| {
                prefer(a.temporary == self.prefs.prefer_temporary, b.temporary == self.prefs.prefer_temporary)
            })
            // Rule 8: use longest matching prefix.
            .then_with(|| self.common_prefix_len(a).cmp(&self.common_prefix_len(b)))
    }

    /// Rule 2: if Scope(SA) < Scope(SB), prefer SB if Scope(SA) < Scope(D), else SA; and
    /// symmetrically.
    fn scope_rule(&self, sa: u8, sb: u8) -> Ordering {
        match sa.cmp(&sb) {
            Ordering::Equal => Ordering::Equal,
            Ordering::Less if sa < self.dst_scope => Ordering::Less,
            Ordering::Less => Ordering::Greater,
            Ordering::Greater if sb < self.dst_scope => Ordering::Greater,
            Ordering::Greater => Ordering::Less,
        }
    }

    /// CommonPrefixLen(S, D) of RFC 6724 §2.2: the bits shared with the destination, up to
    /// the length of S's prefix.
    fn common_prefix_len(&self, s: &SourceCandidate<Ipv6Addr>) -> u8 {
        s.address().common_prefix_len(&self.dst).min(s.addr.subnet().prefix_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::routing::NextHop;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const ETH0: DeviceId = DeviceId::new(1);
    const ETH1: DeviceId = DeviceId::new(2);
    const LO: DeviceId = DeviceId::new(3);

    fn cand6(
        addr: &str,
        device: DeviceId,
        state: AddressState,
        temporary: bool,
    ) -> SourceCandidate<Ipv6Addr> {
        SourceCandidate { addr: addr.parse().unwrap(), device, state, temporary }
    }

    fn preferred6(addr: &str) -> SourceCandidate<Ipv6Addr> {
        cand6(addr, ETH0, AddressState::Preferred, false)
    }

    fn cand4(addr: &str, device: DeviceId) -> SourceCandidate<Ipv4Addr> {
        SourceCandidate {
            addr: addr.parse().unwrap(),
            device,
            state: AddressState::Preferred,
            temporary: false,
        }
    }

    fn select6<'a>(
        cands: &'a [SourceCandidate<Ipv6Addr>],
        dst: &str,
    ) -> Option<&'a SourceCandidate<Ipv6Addr>> {
        select_ipv6_source(cands, dst.parse().unwrap(), ETH0, &SourcePreferences::default())
    }

    fn chosen6(cands: &[SourceCandidate<Ipv6Addr>], dst: &str) -> Option<Ipv6Addr> {
        select6(cands, dst).map(|c| c.address())
    }

    fn addr6(s: &str) -> Option<Ipv6Addr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn rfc6724_2_1_policy_table_prefixes_are_valid_and_longest_first() {
        for pair in POLICY_LABELS.windows(2) {
            assert!(pair[0].0.prefix_len() >= pair[1].0.prefix_len());
        }
        for (prefix, _) in POLICY_LABELS {
            assert_eq!(Subnet::new(prefix.network(), prefix.prefix_len()), Ok(prefix));
        }
        assert_eq!(label(&"::1".parse().unwrap()), 0);
        assert_eq!(label(&"::ffff:192.0.2.1".parse().unwrap()), 4);
        assert_eq!(label(&"2002:c000:0204::1".parse().unwrap()), 2);
        assert_eq!(label(&"2001::1".parse().unwrap()), 5);
        assert_eq!(label(&"2001:db8::1".parse().unwrap()), 1);
        assert_eq!(label(&"fd00::1".parse().unwrap()), 13);
        assert_eq!(label(&"fec0::1".parse().unwrap()), 11);
        assert_eq!(label(&"3ffe::1".parse().unwrap()), 12);
        assert_eq!(label(&"::192.0.2.1".parse().unwrap()), 3);
    }

    #[test]
    fn rfc6724_3_1_scopes() {
        let s = |a: &str| scope(&a.parse().unwrap());
        assert_eq!(s("fe80::1"), SCOPE_LINK_LOCAL);
        assert_eq!(s("::1"), SCOPE_LINK_LOCAL);
        assert_eq!(s("fec0::1"), SCOPE_SITE_LOCAL);
        assert_eq!(s("fd00::1"), SCOPE_GLOBAL);
        assert_eq!(s("2001:db8::1"), SCOPE_GLOBAL);
        assert_eq!(s("ff01::1"), 0x1, "interface-local");
        assert_eq!(s("ff05::1"), SCOPE_SITE_LOCAL);
    }

    #[test]
    fn rfc6724_5_rule1_prefer_same_address() {
        // Rule 1 comes before rule 3: the destination itself wins though deprecated.
        let cands = [
            preferred6("2001:db8:1::1/64"),
            cand6("2001:db8:1::2/64", ETH0, AddressState::Deprecated, false),
        ];
        assert_eq!(chosen6(&cands, "2001:db8:1::2"), addr6("2001:db8:1::2"));
    }

    #[test]
    fn rfc6724_5_rule2_prefer_appropriate_scope() {
        // The examples of RFC 6724 §10.1's source selection list.
        let cands = [preferred6("fe80::1/64"), preferred6("2001:db8:1::1/64")];
        assert_eq!(chosen6(&cands, "2001:db8:1::2"), addr6("2001:db8:1::1"));
        assert_eq!(chosen6(&cands, "ff05::1"), addr6("2001:db8:1::1"));
        assert_eq!(chosen6(&cands, "fe80::2"), addr6("fe80::1"));
        // Of two larger scopes, the smaller of them that still covers the destination.
        let cands = [preferred6("2001:db8:1::1/64"), preferred6("fec0::1/64")];
        assert_eq!(chosen6(&cands, "ff05::1"), addr6("fec0::1"));
    }

    #[test]
    fn rfc6724_5_rule3_avoid_deprecated() {
        let cands = [
            cand6("2001:db8:1::1/64", ETH0, AddressState::Deprecated, false),
            preferred6("2001:db8:1::2/64"),
        ];
        assert_eq!(chosen6(&cands, "2001:db8:1::3"), addr6("2001:db8:1::2"));
        // A deprecated address is still used when it is the only one (RFC 4862 §5.5.4).
        assert_eq!(chosen6(&cands[..1], "2001:db8:1::3"), addr6("2001:db8:1::1"));
    }

    #[test]
    fn rfc6724_5_rule5_prefer_outgoing_interface() {
        let cands =
            [cand6("2001:db8:1::1/64", ETH1, AddressState::Preferred, false), preferred6("2001:db8:2::1/64")];
        // Rule 8 would pick the eth1 address; rule 5 comes first.
        assert_eq!(chosen6(&cands, "2001:db8:1::9"), addr6("2001:db8:2::1"));
    }

    #[test]
    fn rfc6724_5_rule6_prefer_matching_label() {
        // 2001::1 (Teredo, label 5) shares 20 bits with the destination (label 1), 2400::1
        // only 5, but its label matches.
        let cands = [preferred6("2001::1/64"), preferred6("2400::1/64")];
        assert_eq!(chosen6(&cands, "2001:db8::1"), addr6("2400::1"));
    }

    #[test]
    fn rfc6724_5_rule7_temporary_addresses_per_preference() {
        let cands = [
            cand6("2001:db8:1::aaaa/64", ETH0, AddressState::Preferred, true),
            preferred6("2001:db8:1::bbbb/64"),
        ];
        // Linux's default (use_tempaddr < 2): the public address.
        assert_eq!(chosen6(&cands, "2001:db8:2::1"), addr6("2001:db8:1::bbbb"));
        let prefs = SourcePreferences { prefer_temporary: true };
        let chosen = select_ipv6_source(&cands, "2001:db8:2::1".parse().unwrap(), ETH0, &prefs);
        assert_eq!(chosen.map(|c| c.address()), addr6("2001:db8:1::aaaa"));
    }

    #[test]
    fn rfc6724_5_rule8_longest_matching_prefix() {
        let cands = [preferred6("2001:db8:1::1/64"), preferred6("2001:db8:3::1/64")];
        assert_eq!(chosen6(&cands, "2001:db8:3::9"), addr6("2001:db8:3::1"));
        // CommonPrefixLen stops at the source's prefix length (RFC 6724 §2.2): the second
        // address shares 124 bits with the destination, the first 48, but both count 48.
        let cands = [preferred6("2001:db8:1:ffff::1/48"), preferred6("2001:db8:1::1/48")];
        assert_eq!(chosen6(&cands, "2001:db8:1::9"), addr6("2001:db8:1:ffff::1"));
    }

    #[test]
    fn rfc4862_5_4_tentative_and_duplicate_addresses_are_never_chosen() {
        let cands = [
            cand6("2001:db8:1::1/64", ETH0, AddressState::Tentative, false),
            cand6("2001:db8:1::2/64", ETH0, AddressState::Duplicate, false),
        ];
        // Not even when one is the destination itself.
        assert_eq!(select6(&cands, "2001:db8:1::1"), None);
        let with_usable = [cands[0], cands[1], preferred6("fe80::1/64")];
        assert_eq!(chosen6(&with_usable, "2001:db8:1::1"), addr6("fe80::1"));
    }

    #[test]
    fn rfc6724_4_link_local_destinations_use_the_outgoing_interface_only() {
        let cands = [cand6("fe80::1/64", ETH1, AddressState::Preferred, false), preferred6("2001:db8::1/64")];
        assert_eq!(chosen6(&cands, "fe80::2"), addr6("2001:db8::1"));
        assert_eq!(chosen6(&cands, "ff02::1"), addr6("2001:db8::1"));
        assert_eq!(select6(&cands[..1], "fe80::2"), None);
        // A global destination may take another interface's address.
        assert_eq!(chosen6(&cands[..1], "2001:db8::2"), addr6("fe80::1"));
    }

    #[test]
    fn linux_ties_go_to_the_first_listed() {
        let cands = [preferred6("2001:db8:1::1/64"), preferred6("2001:db8:1::2/64")];
        assert_eq!(chosen6(&cands, "2001:db8:2::1"), addr6("2001:db8:1::1"));
        let swapped = [cands[1], cands[0]];
        assert_eq!(chosen6(&swapped, "2001:db8:2::1"), addr6("2001:db8:1::2"));
    }

    fn select4(cands: &[SourceCandidate<Ipv4Addr>], device: DeviceId, next_hop: &str) -> Option<Ipv4Addr> {
        select_ipv4_source(cands, device, next_hop.parse().unwrap()).map(|c| c.address())
    }

    fn addr4(s: &str) -> Option<Ipv4Addr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn linux_inet_select_addr_prefers_the_subnet_of_the_next_hop() {
        let cands =
            [cand4("192.0.2.10/24", ETH0), cand4("198.51.100.10/24", ETH0), cand4("198.51.100.11/24", ETH0)];
        assert_eq!(select4(&cands, ETH0, "198.51.100.1"), addr4("198.51.100.10"));
        assert_eq!(select4(&cands, ETH0, "192.0.2.1"), addr4("192.0.2.10"));
    }

    #[test]
    fn linux_inet_select_addr_falls_back_to_the_primary_address() {
        let cands =
            [cand4("192.0.2.10/24", ETH1), cand4("198.51.100.10/24", ETH0), cand4("203.0.113.9/24", ETH0)];
        // A gateway outside every subnet of eth0 (an `onlink` route): eth0's first address.
        assert_eq!(select4(&cands, ETH0, "100.64.0.1"), addr4("198.51.100.10"));
    }

    #[test]
    fn linux_inet_select_addr_borrows_another_devices_address() {
        let cands = [cand4("127.0.0.1/8", LO), cand4("169.254.3.4/16", ETH1), cand4("192.0.2.10/24", ETH1)];
        // eth0 has no address: not loopback, not link-local, the first other one.
        assert_eq!(select4(&cands, ETH0, "203.0.113.1"), addr4("192.0.2.10"));
        // Loopback traffic uses the loopback address.
        assert_eq!(select4(&cands, LO, "127.0.0.1"), addr4("127.0.0.1"));
        assert_eq!(select4(&cands[..2], ETH0, "203.0.113.1"), None);
    }

    #[test]
    fn rfc5227_2_1_tentative_ipv4_addresses_are_never_chosen() {
        let mut probing = cand4("192.0.2.10/24", ETH0);
        probing.state = AddressState::Tentative;
        let cands = [probing, cand4("192.0.2.11/24", ETH0)];
        assert_eq!(select4(&cands, ETH0, "192.0.2.1"), addr4("192.0.2.11"));
        assert_eq!(select4(&cands[..1], ETH0, "192.0.2.1"), None);
    }

    #[test]
    fn generic_entry_point_uses_the_route() {
        let cands4 = [cand4("192.0.2.10/24", ETH0), cand4("198.51.100.10/24", ETH0)];
        let gw: SpecifiedAddr<Ipv4Addr> = SpecifiedAddr::new("198.51.100.1".parse().unwrap()).unwrap();
        let dst = SpecifiedAddr::new("203.0.113.1".parse().unwrap()).unwrap();
        let route = Destination { device: ETH0, next_hop: NextHop::Gateway(gw) };
        let chosen = Ipv4::select_source(&cands4, dst, &route, &SourcePreferences::default());
        assert_eq!(chosen.map(|c| c.address()), addr4("198.51.100.10"));

        let cands6 = [preferred6("fe80::1/64"), preferred6("2001:db8::1/64")];
        let dst6 = SpecifiedAddr::new("fe80::9".parse().unwrap()).unwrap();
        let route6 = Destination { device: ETH0, next_hop: NextHop::OnLink(dst6) };
        let chosen = Ipv6::select_source(&cands6, dst6, &route6, &SourcePreferences::default());
        assert_eq!(chosen.map(|c| c.address()), addr6("fe80::1"));
    }

    fn arb_candidate() -> impl Strategy<Value = SourceCandidate<Ipv6Addr>> {
        let addrs = prop_oneof![
            Just("fe80::1"),
            Just("fe80::2"),
            Just("2001:db8:1::1"),
            Just("2001:db8:1::2"),
            Just("2001:db8:2::1"),
            Just("fd00::1"),
            Just("2002::1"),
        ];
        let states = prop_oneof![
            Just(AddressState::Tentative),
            Just(AddressState::Preferred),
            Just(AddressState::Deprecated),
            Just(AddressState::Duplicate),
        ];
        (addrs, 16u8..=128, 1u32..3, states, any::<bool>()).prop_map(|(a, len, dev, state, temporary)| {
            SourceCandidate {
                addr: AddrSubnet::new(a.parse().unwrap(), len).unwrap(),
                device: DeviceId::new(dev),
                state,
                temporary,
            }
        })
    }

    proptest! {
        #[test]
        fn choice_is_usable_and_no_candidate_beats_it(
            cands in proptest::collection::vec(arb_candidate(), 0..8),
            dst in prop_oneof![Just("fe80::9"), Just("2001:db8:1::9"), Just("ff02::1"), Just("ff0e::1"), Just("fd00::9"), Just("2001:db8:1::2")],
            prefer_temporary in any::<bool>(),
        ) {
            let dst: Ipv6Addr = dst.parse().unwrap();
            let prefs = SourcePreferences { prefer_temporary };
            let eligible: Vec<_> = cands
                .iter()
                .filter(|c| c.is_usable() && (scope(&dst) > SCOPE_LINK_LOCAL || c.device == ETH0))
                .collect();
            match select_ipv6_source(&cands, dst, ETH0, &prefs) {
                None => prop_assert!(eligible.is_empty()),
                Some(chosen) => {
                    prop_assert!(eligible.iter().any(|c| core::ptr::eq(*c, chosen)));
                    let cmp = Comparison { dst, dst_scope: scope(&dst), dst_label: label(&dst), device: ETH0, prefs: &prefs };
                    for c in eligible {
                        prop_assert_ne!(cmp.compare(c, chosen), Ordering::Greater);
                    }
                }
            }
        }
    }
}
