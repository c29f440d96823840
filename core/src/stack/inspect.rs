//! What diagnostics read from a whole stack: every counter under its Linux `nstat` name
//! ([`Stack::visit_mib`]), each device's receive counters ([`Stack::device_counters`]) and
//! every socket ([`Stack::sockets`]).
//!
//! The counters live where they are counted, in many structs ([`StackCounters`](super::StackCounters), the IP
//! receive decision, reassembly and fragmentation, ICMP rate limiting, ARP, NUD, SLAAC,
//! DAD, router discovery, the group-membership machinery, routing, path MTU, UDP, ICMP echo,
//! raw and TCP). The visitor gathers them into the groups of Linux's SNMP MIB as
//! `/proc/net/snmp`, `/proc/net/snmp6` and `/proc/net/netstat` print them (RFC 4293 for Ip
//! and Icmp, RFC 4022 for Tcp, RFC 4113 for Udp, RFC 4293/RFC 2466 for Ip6 and Icmp6), so
//! that *group* followed by *name* is the name `nstat` prints (`Tcp` + `ActiveOpens` =
//! `TcpActiveOpens`; `Ip6` + `InReceives` = `Ip6InReceives`). A counter Linux lacks keeps
//! a name of ours in the group it belongs to. `INSPECT.md` documents every name.
//!
//! Nothing here runs on a hot path: each call walks the state it reports, O(devices) for
//! the counters and O(sockets) for the sockets.

use crate::device::ethernet::EthernetRxCounters;
use crate::device::nud::NudCounters;
use crate::device::pure_ip::PureIpRxCounters;
use crate::device::DeviceId;
use crate::ip::gmp::GmpCounters;
use crate::ip::pmtu;
use crate::ip::reassembly::ReassemblyCounters;
use crate::ip::receive::ReceiveCounters;
use crate::ip::routing;
use crate::transport::inspect::SocketSummary;

use super::{IcmpTypeCounters, Link, Stack};

/// The MIB groups [`Stack::visit_mib`] reports, in the order it reports them.
pub const MIB_GROUPS: [&str; 12] =
    ["Ip", "IpExt", "Icmp", "IcmpMsg", "Ip6", "Icmp6", "Udp", "Udp6", "Tcp", "TcpExt", "Arp", "Ndp"];

/// A device's own receive counters, by link type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceCounters {
    /// An Ethernet device: frames accepted and dropped by reason.
    Ethernet(EthernetRxCounters),
    /// A pure-IP (TUN) device: packets accepted and dropped by reason.
    PureIp(PureIpRxCounters),
    /// The loopback device, which counts nothing of its own.
    Loopback,
}

/// Reports `$name => $value` pairs of one group to visitor `$v`.
macro_rules! group {
    ($v:expr, $group:literal, { $($name:literal => $value:expr,)* }) => {
        $( $v($group, $name, $value); )*
    };
}

impl<F: AsRef<[u8]> + AsMut<[u8]> + Clone> Stack<F> {
    /// Calls `v` with every counter the stack keeps: its MIB group, its name within the
    /// group and its value. Groups come in [`MIB_GROUPS`] order, each group's counters
    /// together and always in the same order; every counter is reported, zero or not, with
    /// one exception: received ICMP and ICMPv6 types Linux has no name for (`IcmpMsgInType<N>`,
    /// `Icmp6InType<N>`) are reported once one arrived, as Linux prints them.
    /// Per-device counters (ARP, NDP's neighbour caches) are summed over the devices.
    pub fn visit_mib(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        self.visit_ipv4(v);
        self.visit_ipv6(v);
        self.visit_udp(v);
        self.visit_tcp(v);
        self.visit_neighbors(v);
    }

    /// Each device's receive counters, in the order the devices were added.
    pub fn device_counters(&self) -> impl Iterator<Item = (DeviceId, DeviceCounters)> + '_ {
        self.ip.devices.iter().map(|d| {
            let counters = match &d.link {
                Link::Ethernet(eth) => DeviceCounters::Ethernet(eth.counters()),
                Link::PureIp { rx, .. } => DeviceCounters::PureIp(*rx),
                Link::Loopback { .. } => DeviceCounters::Loopback,
            };
            (d.id, counters)
        })
    }

    /// Every socket: TCP (IPv4, then IPv6; listeners, connections and orphaned connections
    /// still closing), UDP, ICMP echo and raw, each protocol in slot order.
    pub fn sockets(&self) -> impl Iterator<Item = SocketSummary> + '_ {
        self.tcp
            .summaries()
            .chain(self.udp.summaries())
            .chain(self.ping4.summaries())
            .chain(self.ping6.summaries())
            .chain(self.raw4.summaries())
            .chain(self.raw6.summaries())
    }

    /// Ip, IpExt, Icmp and IcmpMsg.
    fn visit_ipv4(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        let c = &self.ip.counters;
        let rx: &ReceiveCounters = &c.ipv4;
        let reasm = self.ip.reassembly4.counters();
        let frag = &self.ip.fragmentation4;
        group!(v, "Ip", {
            "InReceives" => rx.in_receives,
            "InHdrErrors" => c.ipv4_in_hdr_errors,
            "InAddrErrors" => rx.in_addr_errors,
            "ForwDatagrams" => c.ipv4_forw_datagrams,
            "InUnknownProtos" => c.ipv4_in_unknown_protos,
            "OutNoRoutes" => c.ipv4_out_no_routes,
            "ReasmTimeout" => reasm.reasm_timeout,
            "ReasmReqds" => reasm.reasm_reqds,
            "ReasmOKs" => reasm.reasm_oks,
            "ReasmFails" => reasm.reasm_fails,
            "FragOKs" => frag.frag_oks,
            "FragFails" => frag.frag_fails,
            "FragCreates" => frag.frag_creates,
        });
        group!(v, "IpExt", {
            "InNoRoutes" => c.ipv4_in_no_routes,
            "InMcastPkts" => rx.in_mcast_pkts,
            "InBcastPkts" => rx.in_bcast_pkts,
            "ReasmOverlaps" => reasm.reasm_overlaps,
            "ToDeliver" => rx.to_deliver,
            "ToForward" => rx.to_forward,
            "NotForUs" => rx.not_for_us,
            "FragmentErrors" => c.ipv4_fragment_errors,
            "ReassembledNoBuffer" => c.ipv4_reassembled_no_buffer,
            "MulticastNotForwarded" => c.ipv4_multicast_not_forwarded,
            "TxNoBuffer" => c.tx_no_buffer,
            "TxResolutionDrops" => c.tx_resolution_drops,
            "LoopbackDrops" => c.loopback_drops,
            "RawCopyDrops" => c.raw_copy_drops,
            "UnknownEtherType" => c.unknown_ethertype,
            "UnknownDevice" => c.unknown_device,
        });
        reassembly_extras(v, "IpExt", reasm);
        routing_counters(v, "IpExt", self.ip.routes4.counters());
        pmtu_counters(v, "IpExt", self.ip.pmtu4.counters());
        let raw = self.raw4.counters();
        group!(v, "IpExt", {
            "RawInDelivered" => raw.in_delivered,
            "RawRcvbufErrors" => raw.rcvbuf_errors,
            "RawOutPackets" => raw.out_packets,
            "RawSndbufErrors" => raw.sndbuf_errors,
            "IgmpInErrors" => c.igmp_in_errors,
            "IgmpOutMsgs" => c.igmp_out_msgs,
        });
        igmp_counters(v, self.ip.igmp.counters());

        let ping = self.ping4.counters();
        let rate4 = self.ip.icmp_rate4.counters();
        let rate6 = self.ip.v6.icmp_rate.counters();
        let dest_unreachs = c.icmp_out_dest_unreachs + c.icmp_out_frag_needed;
        let out_msgs = c.icmp_out_echo_reps + dest_unreachs + c.icmp_out_time_excds + ping.out_echo_requests;
        group!(v, "Icmp", {
            "InMsgs" => c.icmp_in_msgs,
            "InErrors" => c.icmp_in_errors,
            "InCsumErrors" => c.icmp_in_csum_errors,
        });
        for (name, msg_type) in ICMPV4_NAMED_TYPES {
            v("Icmp", name, c.icmp_in_types.get(msg_type));
        }
        group!(v, "Icmp", {
            "OutMsgs" => out_msgs,
            "OutDestUnreachs" => dest_unreachs,
            "OutTimeExcds" => c.icmp_out_time_excds,
            "OutEchos" => ping.out_echo_requests,
            "OutEchoReps" => c.icmp_out_echo_reps,
            "OutRateLimitGlobal" => rate4.out_rate_limit_global + rate6.out_rate_limit_global,
            "OutRateLimitHost" => rate4.out_rate_limit_host,
            "OutFragNeeded" => c.icmp_out_frag_needed,
            "RateLimitHostEvicted" => rate4.host_evicted,
            "RedirectsAccepted" => c.redirects_accepted,
            "RedirectsIgnored" => c.redirects_ignored,
            "SuppressedInResponseToError" => c.icmp_suppressed.in_response_to_error,
            "SuppressedGroupDestination" => c.icmp_suppressed.group_destination,
            "SuppressedLinkGroupDestination" => c.icmp_suppressed.link_group_destination,
            "SuppressedNonInitialFragment" => c.icmp_suppressed.non_initial_fragment,
            "SuppressedSourceNotUnicast" => c.icmp_suppressed.source_not_unicast,
            "PingInEchoReps" => ping.in_echo_replies,
            "PingNoSocket" => ping.no_socket,
            "PingRcvbufErrors" => ping.rcvbuf_errors,
            "PingSndbufErrors" => ping.sndbuf_errors,
            "PingIdsExhausted" => self.ping4.ids().exhausted(),
        });
        in_types(v, "IcmpMsg", &ICMPV4_NAMED_TYPES, &c.icmp_in_types);
        group!(v, "IcmpMsg", {
            "OutType0" => c.icmp_out_echo_reps,
            "OutType3" => dest_unreachs,
            "OutType8" => ping.out_echo_requests,
            "OutType11" => c.icmp_out_time_excds,
        });
    }

    /// Ip6 and Icmp6.
    fn visit_ipv6(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        let c = &self.ip.counters.ipv6;
        let rx = &c.receive;
        let v6 = &self.ip.v6;
        let reasm = v6.reassembly.counters();
        let frag = &v6.fragmentation;
        group!(v, "Ip6", {
            "InReceives" => rx.in_receives,
            "InHdrErrors" => c.in_hdr_errors,
            "InTooBigErrors" => c.in_too_big_errors,
            "InNoRoutes" => c.in_no_routes,
            "InAddrErrors" => rx.in_addr_errors,
            "InUnknownProtos" => c.in_unknown_protos,
            "OutForwDatagrams" => c.forw_datagrams,
            "OutNoRoutes" => c.out_no_routes,
            "ReasmTimeout" => reasm.reasm_timeout,
            "ReasmReqds" => reasm.reasm_reqds,
            "ReasmOKs" => reasm.reasm_oks,
            "ReasmFails" => reasm.reasm_fails,
            "FragOKs" => frag.frag_oks,
            "FragFails" => frag.frag_fails,
            "FragCreates" => frag.frag_creates,
            "InMcastPkts" => rx.in_mcast_pkts,
            "ReasmOverlaps" => reasm.reasm_overlaps,
            "ToDeliver" => rx.to_deliver,
            "ToForward" => rx.to_forward,
            "NotForUs" => rx.not_for_us,
            "BeyondScope" => c.beyond_scope,
            "MulticastNotForwarded" => c.multicast_not_forwarded,
            "DisabledDrops" => c.disabled_drops,
            "FragmentErrors" => c.fragment_errors,
            "ReassembledNoBuffer" => c.reassembled_no_buffer,
        });
        reassembly_extras(v, "Ip6", reasm);
        routing_counters(v, "Ip6", v6.routes.counters());
        pmtu_counters(v, "Ip6", v6.pmtu.counters());
        let raw = self.raw6.counters();
        group!(v, "Ip6", {
            "RawInDelivered" => raw.in_delivered,
            "RawRcvbufErrors" => raw.rcvbuf_errors,
            "RawInCsumErrors" => raw.in_csum_errors,
            "RawOutPackets" => raw.out_packets,
            "RawSndbufErrors" => raw.sndbuf_errors,
        });

        let ping = self.ping6.counters();
        let rate = v6.icmp_rate.counters();
        let mld = v6.mld.counters();
        let out_msgs = c.icmp_out_echo_replies
            + c.icmp_out_dest_unreachs
            + c.icmp_out_pkt_too_bigs
            + c.icmp_out_time_excds
            + c.icmp_out_parm_problems
            + c.ndp_out_solicits
            + c.ndp_out_adverts
            + c.ndp_out_router_solicits
            + c.mld_out_msgs
            + ping.out_echo_requests;
        group!(v, "Icmp6", {
            "InMsgs" => c.icmp_in_msgs,
            "InErrors" => c.icmp_in_errors,
            "InCsumErrors" => c.icmp_in_csum_errors,
        });
        for (name, msg_type) in ICMPV6_NAMED_TYPES {
            v("Icmp6", name, c.icmp_in_types.get(msg_type));
        }
        in_types(v, "Icmp6", &ICMPV6_NAMED_TYPES, &c.icmp_in_types);
        group!(v, "Icmp6", {
            "OutMsgs" => out_msgs,
            "OutRateLimitHost" => rate.out_rate_limit_host,
            "OutDestUnreachs" => c.icmp_out_dest_unreachs,
            "OutPktTooBigs" => c.icmp_out_pkt_too_bigs,
            "OutTimeExcds" => c.icmp_out_time_excds,
            "OutParmProblems" => c.icmp_out_parm_problems,
            "OutEchos" => ping.out_echo_requests,
            "OutEchoReplies" => c.icmp_out_echo_replies,
            "OutGroupMembResponses" => mld.v2_reports_sent,
            "OutGroupMembReductions" => mld.leaves_sent,
            "OutRouterSolicits" => c.ndp_out_router_solicits,
            "OutNeighborSolicits" => c.ndp_out_solicits,
            "OutNeighborAdvertisements" => c.ndp_out_adverts,
            "OutMLDv2Reports" => mld.v3_reports_sent,
            "OutType1" => c.icmp_out_dest_unreachs,
            "OutType2" => c.icmp_out_pkt_too_bigs,
            "OutType3" => c.icmp_out_time_excds,
            "OutType4" => c.icmp_out_parm_problems,
            "OutType128" => ping.out_echo_requests,
            "OutType129" => c.icmp_out_echo_replies,
            "OutType133" => c.ndp_out_router_solicits,
            "OutType135" => c.ndp_out_solicits,
            "OutType136" => c.ndp_out_adverts,
            "RateLimitGlobal" => rate.out_rate_limit_global,
            "RateLimitHostEvicted" => rate.host_evicted,
            "SuppressedInResponseToError" => c.icmp_suppressed.in_response_to_error,
            "SuppressedGroupDestination" => c.icmp_suppressed.group_destination,
            "SuppressedLinkGroupDestination" => c.icmp_suppressed.link_group_destination,
            "SuppressedNonInitialFragment" => c.icmp_suppressed.non_initial_fragment,
            "SuppressedSourceNotUnicast" => c.icmp_suppressed.source_not_unicast,
            "PingInEchoReplies" => ping.in_echo_replies,
            "PingNoSocket" => ping.no_socket,
            "PingRcvbufErrors" => ping.rcvbuf_errors,
            "PingSndbufErrors" => ping.sndbuf_errors,
            "PingIdsExhausted" => self.ping6.ids().exhausted(),
            "MldBadHopLimit" => c.mld_bad_hop_limit,
            "MldOutMsgs" => c.mld_out_msgs,
        });
        mld_counters(v, mld);
    }

    /// Udp and Udp6.
    fn visit_udp(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        for (group, c) in [
            ("Udp", self.udp.counters::<crate::addr::Ipv4>()),
            ("Udp6", self.udp.counters::<crate::addr::Ipv6>()),
        ] {
            v(group, "InDatagrams", c.in_datagrams);
            v(group, "NoPorts", c.no_ports);
            v(group, "InErrors", c.in_errors);
            v(group, "OutDatagrams", c.out_datagrams);
            v(group, "RcvbufErrors", c.rcvbuf_errors);
            v(group, "SndbufErrors", c.sndbuf_errors);
            v(group, "InCsumErrors", c.in_csum_errors);
            v(group, "IgnoredMulti", c.ignored_multi);
            if group == "Udp" {
                v(group, "PortsExhausted", self.udp.ports().exhausted());
            }
        }
    }

    /// Tcp and TcpExt: the TCP counters carry their nstat names already, the group being
    /// their prefix; the drop reasons (ours) go under TcpExt. Two passes keep each group
    /// together.
    fn visit_tcp(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        fn split(name: &'static str) -> (&'static str, &'static str) {
            if let Some(rest) = name.strip_prefix("TcpExt") {
                ("TcpExt", rest)
            } else if let Some(rest) = name.strip_prefix("Tcp") {
                ("Tcp", rest)
            } else {
                ("TcpExt", name)
            }
        }
        let counters = self.tcp.counters();
        for wanted in ["Tcp", "TcpExt"] {
            counters.for_each(|name, value| {
                let (group, name) = split(name);
                if group == wanted {
                    v(group, name, value);
                }
            });
            if wanted == "Tcp" {
                v("Tcp", "CurrEstab", self.tcp.current_established());
            }
        }
    }

    /// Arp and Ndp, summed over the devices.
    fn visit_neighbors(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        let devices = &self.ip.devices;
        let arp = |f: fn(&crate::device::arp::ArpCounters) -> u64| -> u64 {
            devices.iter().map(|d| f(d.arp.counters())).sum()
        };
        group!(v, "Arp", {
            "InRequests" => arp(|c| c.rx_requests),
            "InReplies" => arp(|c| c.rx_replies),
            "OutRequests" => arp(|c| c.tx_requests),
            "OutReplies" => arp(|c| c.tx_replies),
            "OutProbes" => arp(|c| c.tx_probes),
            "OutAnnouncements" => arp(|c| c.tx_announcements),
            "Conflicts" => arp(|c| c.conflicts),
            "Defended" => arp(|c| c.defended),
            "DropNotForUs" => arp(|c| c.drop_not_for_us),
            "DropUnsolicited" => arp(|c| c.drop_unsolicited),
            "DropBadSenderMac" => arp(|c| c.drop_bad_sender_mac),
            "DropBadSenderIp" => arp(|c| c.drop_bad_sender_ip),
            "DropOwnPacket" => arp(|c| c.drop_own_packet),
            "ParseErrors" => self.ip.counters.arp_parse_errors,
        });
        nud_counters(v, "Arp", devices.iter().map(|d| d.arp.neighbors().counters()));

        let c = &self.ip.counters.ipv6;
        group!(v, "Ndp", {
            "BadHopLimit" => c.ndp_bad_hop_limit,
            "Invalid" => c.ndp_invalid,
            "OutSolicits" => c.ndp_out_solicits,
            "OutAdverts" => c.ndp_out_adverts,
            "OutRouterSolicits" => c.ndp_out_router_solicits,
            "RouterSolicitsIgnored" => c.ndp_router_solicits_ignored,
        });
        nud_counters(v, "Ndp", devices.iter().map(|d| d.v6.nd.counters()));
        self.visit_router_discovery(v);
        self.visit_address_configuration(v);
    }

    /// Router discovery (RFC 4861 §6.3), under Ndp.
    fn visit_router_discovery(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        let c = self.ip.v6.rd.counters();
        group!(v, "Ndp", {
            "RaReceived" => c.ra_received,
            "RaUnknownDevice" => c.ra_unknown_device,
            "RaNotAccepted" => c.ra_not_accepted,
            "RaSourceNotLinkLocal" => c.ra_source_not_link_local,
            "RaAccepted" => c.ra_accepted,
            "RsSent" => c.rs_sent,
            "RoutersAdded" => c.routers_added,
            "RoutersRefusedListFull" => c.routers_refused_list_full,
            "RoutersExpired" => c.routers_expired,
            "RoutersWithdrawn" => c.routers_withdrawn,
            "RoutersNoLongerRouter" => c.routers_no_longer_router,
            "DefaultRouterChanges" => c.default_router_changes,
            "PrefixesAdded" => c.prefixes_added,
            "PrefixesRefusedListFull" => c.prefixes_refused_list_full,
            "PrefixesExpired" => c.prefixes_expired,
            "PrefixesWithdrawn" => c.prefixes_withdrawn,
            "PrefixInvalidLength" => c.prefix_invalid_length,
            "PrefixLinkLocalIgnored" => c.prefix_link_local_ignored,
            "PrefixMulticastIgnored" => c.prefix_multicast_ignored,
            "AutoconfigurationPrefixes" => c.autoconfiguration_prefixes,
            "MtuApplied" => c.mtu_applied,
            "MtuOutOfRange" => c.mtu_out_of_range,
            "DnsServersAdded" => c.dns_servers_added,
            "DnsServersNotUnicast" => c.dns_servers_not_unicast,
            "DnsServersReplaced" => c.dns_servers_replaced,
            "DnsServersRefusedListFull" => c.dns_servers_refused_list_full,
            "DnsServersExpired" => c.dns_servers_expired,
            "DnsServersWithdrawn" => c.dns_servers_withdrawn,
            "RedirectsReceived" => c.redirects_received,
            "RedirectUnknownDevice" => c.redirect_unknown_device,
            "RedirectNotAccepted" => c.redirect_not_accepted,
            "RedirectSourceNotLinkLocal" => c.redirect_source_not_link_local,
            "RedirectDestinationMulticast" => c.redirect_destination_multicast,
            "RedirectTargetInvalid" => c.redirect_target_invalid,
            "RedirectNotFromFirstHop" => c.redirect_not_from_first_hop,
            "RedirectsApplied" => c.redirects_applied,
            "RedirectsEvicted" => c.redirects_evicted,
            "StaleTimers" => c.stale_timers,
        });
    }

    /// SLAAC (RFC 4862, RFC 8981, RFC 7217) and DAD, under Ndp.
    fn visit_address_configuration(&self, v: &mut impl FnMut(&'static str, &'static str, u64)) {
        let slaac = &self.ip.v6.slaac;
        let c = slaac.counters();
        group!(v, "Ndp", {
            "SlaacPrefixInformationReceived" => c.prefix_information_received,
            "SlaacIgnoredNotAutonomous" => c.ignored_not_autonomous,
            "SlaacIgnoredLinkLocalPrefix" => c.ignored_link_local_prefix,
            "SlaacIgnoredMulticastPrefix" => c.ignored_multicast_prefix,
            "SlaacIgnoredPreferredExceedsValid" => c.ignored_preferred_exceeds_valid,
            "SlaacIgnoredPrefixLength" => c.ignored_prefix_length,
            "SlaacIgnoredZeroValidLifetime" => c.ignored_zero_valid_lifetime,
            "SlaacIgnoredUnknownDevice" => c.ignored_unknown_device,
            "SlaacIgnoredIpv6Disabled" => c.ignored_ipv6_disabled,
            "SlaacRefusedTooManyAddresses" => c.refused_too_many_addresses,
            "SlaacIgnoredNoInterfaceId" => c.ignored_no_interface_id,
            "SlaacRefusedByDad" => c.refused_by_dad,
            "SlaacPrefixesCreated" => c.prefixes_created,
            "SlaacPrefixesRefreshed" => c.prefixes_refreshed,
            "SlaacPrefixesRemoved" => c.prefixes_removed,
            "SlaacTwoHourRuleKept" => c.two_hour_rule_kept,
            "SlaacTwoHourRuleClamped" => c.two_hour_rule_clamped,
            "SlaacAddressesDeprecated" => c.addresses_deprecated,
            "SlaacAddressesExpired" => c.addresses_expired,
            "SlaacDuplicates" => c.duplicates,
            "SlaacStableDadRetries" => c.stable_dad_retries,
            "SlaacDuplicatesGivenUp" => c.duplicates_given_up,
            "SlaacTemporariesCreated" => c.temporaries_created,
            "SlaacTemporariesRegenerated" => c.temporaries_regenerated,
            "SlaacTemporaryDadRetries" => c.temporary_dad_retries,
            "SlaacTemporariesDisabled" => c.temporaries_disabled,
            "SlaacTemporaryRefusedDisabled" => c.temporary_refused_disabled,
            "SlaacTemporaryRefusedTooManyAddresses" => c.temporary_refused_too_many_addresses,
            "SlaacTemporaryRefusedPerPrefix" => c.temporary_refused_per_prefix,
            "SlaacTemporaryRefusedShortLifetime" => c.temporary_refused_short_lifetime,
            "SlaacTemporaryRefusedNoIid" => c.temporary_refused_no_iid,
            "SlaacManualRefusedTooMany" => c.manual_refused_too_many,
        });
        let d = slaac.dad().counters();
        group!(v, "Ndp", {
            "DadStarted" => d.started,
            "DadProbesSent" => d.probes_sent,
            "DadAssigned" => d.assigned,
            "DadDuplicatesFromSolicitation" => d.duplicates_from_solicitation,
            "DadDuplicatesFromAdvertisement" => d.duplicates_from_advertisement,
            "DadLoopedBack" => d.looped_back,
            "DadUnicastSolicitationsIgnored" => d.unicast_solicitations_ignored,
            "DadRefusedTooMany" => d.refused_too_many,
            "DadRefusedAlreadyTracked" => d.refused_already_tracked,
        });
    }
}

/// The received ICMP types Linux's Icmp group also counts by name (`/proc/net/snmp`), in
/// its order: RFC 792's messages and RFC 950's address mask request and reply.
const ICMPV4_NAMED_TYPES: [(&str, u8); 11] = [
    ("InDestUnreachs", 3),
    ("InTimeExcds", 11),
    ("InParmProbs", 12),
    ("InSrcQuenchs", 4),
    ("InRedirects", 5),
    ("InEchos", 8),
    ("InEchoReps", 0),
    ("InTimestamps", 13),
    ("InTimestampReps", 14),
    ("InAddrMasks", 17),
    ("InAddrMaskReps", 18),
];

/// The received ICMPv6 types Linux's Icmp6 group also counts by name (`/proc/net/snmp6`):
/// RFC 4443's errors and echo, MLD (RFC 2710, RFC 3810) and NDP (RFC 4861).
const ICMPV6_NAMED_TYPES: [(&str, u8); 15] = [
    ("InDestUnreachs", 1),
    ("InPktTooBigs", 2),
    ("InTimeExcds", 3),
    ("InParmProblems", 4),
    ("InEchos", 128),
    ("InEchoReplies", 129),
    ("InGroupMembQueries", 130),
    ("InGroupMembResponses", 131),
    ("InGroupMembReductions", 132),
    ("InRouterSolicits", 133),
    ("InRouterAdvertisements", 134),
    ("InNeighborSolicits", 135),
    ("InNeighborAdvertisements", 136),
    ("InRedirects", 137),
    ("InMLDv2Reports", 143),
];

/// `[$("InType" $n),*]`: the per-type counter names.
macro_rules! in_type_names {
    ($($n:literal)*) => { [$(concat!("InType", $n)),*] };
}

/// `InType<N>` for every ICMP type N.
const IN_TYPE_NAMES: [&str; 256] = in_type_names![
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
    32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
    64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95
    96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120
    121 122 123 124 125 126 127 128 129 130 131 132 133 134 135 136 137 138 139 140 141 142 143 144
    145 146 147 148 149 150 151 152 153 154 155 156 157 158 159 160 161 162 163 164 165 166 167 168
    169 170 171 172 173 174 175 176 177 178 179 180 181 182 183 184 185 186 187 188 189 190 191 192
    193 194 195 196 197 198 199 200 201 202 203 204 205 206 207 208 209 210 211 212 213 214 215 216
    217 218 219 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 240
    241 242 243 244 245 246 247 248 249 250 251 252 253 254 255
];

/// Received messages by type as `InType<N>`, in type order: every type in `named` (Linux
/// names those in the Icmp and Icmp6 groups, so they are always there, like the `OutType<N>`
/// the stack sends), and any other type once one arrived (Linux prints the numbered
/// counters only when they are not zero).
fn in_types(
    v: &mut impl FnMut(&'static str, &'static str, u64),
    group: &'static str,
    named: &[(&str, u8)],
    c: &IcmpTypeCounters,
) {
    for (msg_type, count) in c.iter() {
        if count != 0 || named.iter().any(|&(_, t)| t == msg_type) {
            v(group, IN_TYPE_NAMES[usize::from(msg_type)], count);
        }
    }
}

/// Reassembly's counters Linux does not have.
fn reassembly_extras(
    v: &mut impl FnMut(&'static str, &'static str, u64),
    group: &'static str,
    c: &ReassemblyCounters,
) {
    v(group, "ReasmMemEvictions", c.reasm_mem_evictions);
    v(group, "ReasmDuplicates", c.duplicates);
    v(group, "ReasmBadLength", c.bad_length);
    v(group, "ReasmTooLong", c.too_long);
    v(group, "ReasmTooManyFragments", c.too_many_fragments);
    v(group, "ReasmInconsistentLength", c.inconsistent_length);
    v(group, "ReasmAfterOverlap", c.after_overlap);
    v(group, "ReasmMemoryExhausted", c.memory_exhausted);
    v(group, "ReasmBadHeader", c.bad_header);
}

/// A routing table's refusals.
fn routing_counters(
    v: &mut impl FnMut(&'static str, &'static str, u64),
    group: &'static str,
    c: &routing::Counters,
) {
    v(group, "RouteAddExists", c.add_exists);
    v(group, "RouteAddTableFull", c.add_table_full);
    v(group, "RouteAddGatewayNotOnLink", c.add_gateway_not_on_link);
    v(group, "RouteAddGatewayNotUnicast", c.add_gateway_not_unicast);
    v(group, "RouteRemoveNotFound", c.remove_not_found);
}

/// A path MTU cache's counters.
fn pmtu_counters(
    v: &mut impl FnMut(&'static str, &'static str, u64),
    group: &'static str,
    c: &pmtu::Counters,
) {
    v(group, "PmtuLowered", c.lowered);
    v(group, "PmtuPlateauEstimates", c.plateau_estimates);
    v(group, "PmtuClampedToMinimum", c.clamped_to_minimum);
    v(group, "PmtuIgnoredBelowMinimum", c.ignored_below_minimum);
    v(group, "PmtuIgnoredNotSmaller", c.ignored_not_smaller);
    v(group, "PmtuEvicted", c.evicted);
    v(group, "PmtuExpired", c.expired);
}

/// IGMP's group-membership counters (under IpExt).
fn igmp_counters(v: &mut impl FnMut(&'static str, &'static str, u64), c: &GmpCounters) {
    group!(v, "IpExt", {
            "IgmpV1ReportsSent" => c.v1_reports_sent,
            "IgmpV2ReportsSent" => c.v2_reports_sent,
            "IgmpV3ReportsSent" => c.v3_reports_sent,
            "IgmpLeavesSent" => c.leaves_sent,
            "IgmpQueriesReceived" => c.queries_received,
            "IgmpQueriesInvalid" => c.queries_invalid,
            "IgmpReportsReceived" => c.reports_received,
            "IgmpReportsInvalid" => c.reports_invalid,
            "IgmpReportsSuppressed" => c.reports_suppressed,
            "IgmpJoinsRefusedGroupLimit" => c.joins_refused_group_limit,
            "IgmpJoinsRefusedRefcount" => c.joins_refused_refcount,
            "IgmpLeavesNotMember" => c.leaves_not_member,
            "IgmpStateChangesNotRetransmitted" => c.state_changes_not_retransmitted,
            "IgmpModeChanges" => c.mode_changes,
            "IgmpUnknownDevice" => c.unknown_device,
    });
}

/// MLD's group-membership counters (under Icmp6; MLDv1 and MLDv2 are the machinery's
/// versions 2 and 3, IGMPv1 having no MLD counterpart).
fn mld_counters(v: &mut impl FnMut(&'static str, &'static str, u64), c: &GmpCounters) {
    group!(v, "Icmp6", {
            "MldV1ReportsSent" => c.v2_reports_sent,
            "MldV2ReportsSent" => c.v3_reports_sent,
            "MldDonesSent" => c.leaves_sent,
            "MldQueriesReceived" => c.queries_received,
            "MldQueriesInvalid" => c.queries_invalid,
            "MldReportsReceived" => c.reports_received,
            "MldReportsInvalid" => c.reports_invalid,
            "MldReportsSuppressed" => c.reports_suppressed,
            "MldJoinsRefusedGroupLimit" => c.joins_refused_group_limit,
            "MldJoinsRefusedRefcount" => c.joins_refused_refcount,
            "MldLeavesNotMember" => c.leaves_not_member,
            "MldStateChangesNotRetransmitted" => c.state_changes_not_retransmitted,
            "MldModeChanges" => c.mode_changes,
            "MldUnknownDevice" => c.unknown_device,
    });
}

/// Reads one field of a neighbour cache's counters.
type NudField = fn(&NudCounters) -> u64;

/// A neighbour cache's counters, named after `/proc/net/stat/{arp,ndisc}_cache`.
const NUD_COUNTERS: [(&str, NudField); 10] = [
    ("CacheAllocs", |c| c.allocs),
    ("CacheDestroys", |c| c.destroys),
    ("CacheLookups", |c| c.lookups),
    ("CacheHits", |c| c.hits),
    ("CacheResFailed", |c| c.res_failed),
    ("CacheQueuedFailed", |c| c.queued_failed),
    ("CacheUnresolvedDiscards", |c| c.unresolved_discards),
    ("CacheTableFulls", |c| c.table_fulls),
    ("CacheForcedEvictions", |c| c.forced_evictions),
    ("CacheGcRemovals", |c| c.gc_removals),
];

/// The neighbour caches' counters of every device in `tables`, added up.
fn nud_counters<'a>(
    v: &mut impl FnMut(&'static str, &'static str, u64),
    group: &'static str,
    tables: impl Iterator<Item = &'a NudCounters> + Clone,
) {
    for (name, get) in NUD_COUNTERS {
        v(group, name, tables.clone().map(get).sum());
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeMap;
    use alloc::format;
    use alloc::string::String;

    use super::*;
    use crate::testutil::fake::FakeRng;

    fn mib(stack: &Stack<alloc::vec::Vec<u8>>) -> alloc::vec::Vec<(&'static str, &'static str, u64)> {
        let mut out = alloc::vec::Vec::new();
        stack.visit_mib(&mut |g, n, value| out.push((g, n, value)));
        out
    }

    #[test]
    fn groups_come_in_order_each_together_and_names_are_unique() {
        let stack = Stack::<alloc::vec::Vec<u8>>::new(&mut FakeRng::new(1));
        let counters = mib(&stack);
        let mut seen_groups: alloc::vec::Vec<&str> = alloc::vec::Vec::new();
        for (group, _, _) in &counters {
            if seen_groups.last() != Some(group) {
                assert!(!seen_groups.contains(group), "group {group} reported in two runs");
                seen_groups.push(group);
            }
        }
        assert_eq!(seen_groups, MIB_GROUPS);
        let mut names = BTreeMap::new();
        for (group, name, _) in &counters {
            let full: String = format!("{group}{name}");
            assert!(names.insert(full.clone(), ()).is_none(), "{full} reported twice");
        }
    }

    #[test]
    fn every_icmp_type_has_its_in_type_name() {
        for (n, name) in IN_TYPE_NAMES.iter().enumerate() {
            assert_eq!(*name, format!("InType{n}"));
        }
    }

    #[test]
    fn linux_nstat_names_are_present() {
        let stack = Stack::<alloc::vec::Vec<u8>>::new(&mut FakeRng::new(1));
        let names: alloc::vec::Vec<String> = mib(&stack).iter().map(|(g, n, _)| format!("{g}{n}")).collect();
        for linux in [
            "IpInReceives",
            "IpInHdrErrors",
            "IpForwDatagrams",
            "IpReasmOKs",
            "IpFragCreates",
            "IpExtInNoRoutes",
            "IpExtInBcastPkts",
            "IcmpInMsgs",
            "IcmpOutEchoReps",
            "IcmpOutDestUnreachs",
            "IcmpOutRateLimitGlobal",
            "IcmpMsgOutType0",
            "IcmpInCsumErrors",
            "IcmpInEchos",
            "IcmpInDestUnreachs",
            "IcmpMsgInType8",
            "Ip6InReceives",
            "Ip6OutForwDatagrams",
            "Icmp6OutEchoReplies",
            "Icmp6OutNeighborSolicits",
            "Icmp6OutType135",
            "Icmp6InCsumErrors",
            "Icmp6InNeighborSolicits",
            "Icmp6InMLDv2Reports",
            "Icmp6InType135",
            "UdpInDatagrams",
            "UdpNoPorts",
            "UdpRcvbufErrors",
            "UdpIgnoredMulti",
            "Udp6InDatagrams",
            "Udp6InCsumErrors",
            "TcpActiveOpens",
            "TcpPassiveOpens",
            "TcpRetransSegs",
            "TcpCurrEstab",
            "TcpOutRsts",
            "TcpExtTCPSACKRecovery",
            "TcpExtListenOverflows",
            "TcpExtTW",
        ] {
            assert!(names.iter().any(|n| n == linux), "{linux} missing");
        }
        // Our own TCP drop reasons stay under TcpExt, named as before.
        assert!(names.iter().any(|n| n == "TcpExtDropTcpCsum"));
    }
}
