//! A real dissector checks what we write: one packet of every kind the builders produce is
//! written to a pcap, and Wireshark's `tshark` must decode each as the protocol stack we
//! meant, find no malformed packet and, with checksum validation on, no bad checksum.
//!
//! Skips with a loud message when tshark is missing, except under `CI=true`, where
//! `tests/run.sh` has installed it.

use std::num::NonZeroU16;
use std::process::Command;

use netstack_core::addr::{Ipv4, Ipv4Addr, Ipv6, Ipv6Addr, Mac};
use netstack_core::buf::{EmptyBody, Serializer};
use netstack_core::testutil::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use netstack_core::time::Instant;
use netstack_core::wire::arp::ArpBuilder;
use netstack_core::wire::ethernet::{EthernetBuilder, VlanTag};
use netstack_core::wire::icmp::group::{GroupRecord, GroupRecordType, GroupRecords};
use netstack_core::wire::icmp::mld::Mldv2Report;
use netstack_core::wire::icmp::ndp::{LinkLayerAddress, NdpOption, NdpOptions, NeighborSolicitation};
use netstack_core::wire::icmp::v4::{Icmpv4DestUnreachable, Icmpv4DestUnreachableCode};
use netstack_core::wire::icmp::{AddrList, EchoRequest, IcmpBuilder, Icmpv6PseudoHeader};
use netstack_core::wire::igmp::{IgmpBuilder, MembershipReportV3};
use netstack_core::wire::ipv4::{Ipv4Builder, Ipv4Options};
use netstack_core::wire::ipv6::{ExtHeaderChain, FragmentHeader, Ipv6Builder};
use netstack_core::wire::tcp::{SackBlock, SackBlocks, TcpBuilder, TcpFlags, TcpOptions, TcpTimestamp};
use netstack_core::wire::udp::UdpBuilder;
use netstack_core::wire::{EtherType, IpProto};

const MAC_A: Mac = Mac::new([0x02, 0, 0, 0, 0, 1]);
const MAC_B: Mac = Mac::new([0x02, 0, 0, 0, 0, 2]);
const V4_A: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
const V4_B: Ipv4Addr = Ipv4Addr::new([198, 51, 100, 2]);
const V6_A: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
const V6_B: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);

fn eth(ethertype: EtherType) -> EthernetBuilder {
    EthernetBuilder::new(MAC_A, MAC_B, ethertype)
}

fn port(p: u16) -> NonZeroU16 {
    NonZeroU16::new(p).expect("nonzero port")
}

/// The finished packet `s` writes.
fn bytes(s: impl Serializer) -> Vec<u8> {
    s.serialize_vec().expect("room for every layer").body().to_vec()
}

/// Each frame we build, with the `frame.protocols` string tshark must report for it.
fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let payload = b"netstack says hello to wireshark";
    let sack =
        SackBlocks::new(&[SackBlock { left: 5000, right: 6000 }, SackBlock { left: 7000, right: 7500 }])
            .expect("two SACK blocks");
    let syn_options = TcpOptions {
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        timestamp: Some(TcpTimestamp { value: 1, echo_reply: 0 }),
        sack_blocks: SackBlocks::default(),
    };
    let ack_options = TcpOptions {
        timestamp: Some(TcpTimestamp { value: 2, echo_reply: 1 }),
        sack_blocks: sack,
        ..TcpOptions::default()
    };
    let mut syn = TcpBuilder::new(V4_A, V4_B, 40000, 80).with_options(syn_options).expect("SYN options fit");
    (syn.seq_num, syn.flags, syn.window) = (1000, TcpFlags::SYN, 64240);
    let mut sack_ack =
        TcpBuilder::new(V6_A, V6_B, 40000, 80).with_options(ack_options).expect("ACK options fit");
    (sack_ack.seq_num, sack_ack.ack_num, sack_ack.flags, sack_ack.window) = (1, 4000, TcpFlags::ACK, 501);
    let ra = Ipv4Options::ROUTER_ALERT;
    let fragment = FragmentHeader { offset: Default::default(), more_fragments: true, id: 0x1234_5678 };

    let v6_pseudo = Icmpv6PseudoHeader { src: V6_A, dst: V6_B };
    let solicited = V6_B.to_solicited_node();
    let ns_options = [NdpOption::SourceLinkLayerAddress(LinkLayerAddress::Ethernet(MAC_A))];
    let neighbor_solicitation = NeighborSolicitation { target: V6_B, options: NdpOptions::new(&ns_options) };
    let sources = [V6_A];
    let mld_records = [
        GroupRecord {
            record_type: GroupRecordType::ChangeToExclude,
            multicast_address: solicited,
            sources: AddrList::new(&[]),
        },
        GroupRecord {
            record_type: GroupRecordType::AllowNewSources,
            multicast_address: Ipv6Addr::from_segments([0xff0e, 0, 0, 0, 0, 0, 0, 0x42]),
            sources: AddrList::new(&sources),
        },
    ];
    let igmp_group = Ipv4Addr::new([232, 1, 2, 3]);
    let igmp_sources = [V4_A];
    let igmp_records = [GroupRecord {
        record_type: GroupRecordType::ModeIsInclude,
        multicast_address: igmp_group,
        sources: AddrList::new(&igmp_sources),
    }];
    // An ICMP error quotes the start of the datagram that caused it (RFC 792).
    let quoted = bytes(
        (&payload[..8])
            .encapsulate(UdpBuilder::new(V4_B, V4_A, 40001, port(9)))
            .encapsulate(Ipv4Builder::new(V4_B, V4_A, 64, IpProto::UDP)),
    );

    vec![
        (
            "eth:ethertype:ip:icmp:data",
            bytes(
                (&payload[..])
                    .encapsulate(IcmpBuilder::<Ipv4, _>::new((), EchoRequest { id: 7, seq: 1 }))
                    .encapsulate(Ipv4Builder::new(V4_A, V4_B, 64, IpProto::ICMP))
                    .encapsulate(eth(EtherType::IPV4)),
            ),
        ),
        (
            "eth:ethertype:ip:icmp:ip:udp:data",
            bytes(
                (&quoted[..])
                    .encapsulate(IcmpBuilder::new(
                        (),
                        Icmpv4DestUnreachable {
                            code: Icmpv4DestUnreachableCode::PortUnreachable,
                            next_hop_mtu: 0,
                        },
                    ))
                    .encapsulate(Ipv4Builder::new(V4_A, V4_B, 64, IpProto::ICMP))
                    .encapsulate(eth(EtherType::IPV4)),
            ),
        ),
        (
            "eth:ethertype:ipv6:icmpv6:data",
            bytes(
                (&payload[..])
                    .encapsulate(IcmpBuilder::<Ipv6, _>::new(v6_pseudo, EchoRequest { id: 7, seq: 1 }))
                    .encapsulate(Ipv6Builder::new(V6_A, V6_B, 64, IpProto::ICMPV6))
                    .encapsulate(eth(EtherType::IPV6)),
            ),
        ),
        (
            "eth:ethertype:ipv6:icmpv6",
            bytes(
                EmptyBody
                    .encapsulate(IcmpBuilder::new(
                        Icmpv6PseudoHeader { src: V6_A, dst: solicited },
                        neighbor_solicitation,
                    ))
                    .encapsulate(Ipv6Builder::new(V6_A, solicited, 255, IpProto::ICMPV6))
                    .encapsulate(EthernetBuilder::new(
                        MAC_A,
                        Mac::from_ipv6_multicast(solicited),
                        EtherType::IPV6,
                    )),
            ),
        ),
        (
            "eth:ethertype:ipv6:ipv6.hopopts:icmpv6",
            bytes(
                EmptyBody
                    .encapsulate(IcmpBuilder::new(
                        Icmpv6PseudoHeader { src: V6_A, dst: Ipv6Addr::ALL_MLDV2_ROUTERS },
                        Mldv2Report { records: GroupRecords::new(&mld_records) },
                    ))
                    .encapsulate(Ipv6Builder {
                        ext_headers: Some(ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD),
                        ..Ipv6Builder::new(V6_A, Ipv6Addr::ALL_MLDV2_ROUTERS, 1, IpProto::ICMPV6)
                    })
                    .encapsulate(EthernetBuilder::new(
                        MAC_A,
                        Mac::from_ipv6_multicast(Ipv6Addr::ALL_MLDV2_ROUTERS),
                        EtherType::IPV6,
                    )),
            ),
        ),
        (
            // tshark nests the IGMPv3 report under a second igmp layer.
            "eth:ethertype:ip:igmp:igmp",
            bytes(
                EmptyBody
                    .encapsulate(IgmpBuilder::new(MembershipReportV3 {
                        records: GroupRecords::new(&igmp_records),
                    }))
                    .encapsulate(Ipv4Builder {
                        options: Ipv4Options::ROUTER_ALERT,
                        ..Ipv4Builder::new(V4_A, Ipv4Addr::IGMPV3_ROUTERS, 1, IpProto::IGMP)
                    })
                    .encapsulate(EthernetBuilder::new(
                        MAC_A,
                        Mac::from_ipv4_multicast(Ipv4Addr::IGMPV3_ROUTERS),
                        EtherType::IPV4,
                    )),
            ),
        ),
        (
            "eth:ethertype:arp",
            bytes(
                EmptyBody
                    .encapsulate(ArpBuilder::request(MAC_A, V4_A, V4_B))
                    .encapsulate(eth(EtherType::ARP)),
            ),
        ),
        (
            "eth:ethertype:vlan:ethertype:ip:udp:data",
            bytes({
                let tagged = EthernetBuilder {
                    vlan: Some(VlanTag { tpid: EtherType::VLAN, pcp: 3, dei: false, vid: 100 }),
                    ..eth(EtherType::IPV4)
                };
                (&payload[..])
                    .encapsulate(UdpBuilder::new(V4_A, V4_B, 40000, port(9)))
                    .encapsulate(Ipv4Builder::new(V4_A, V4_B, 64, IpProto::UDP))
                    .encapsulate(tagged)
            }),
        ),
        (
            "eth:ethertype:ip:udp:data",
            bytes({
                (&payload[..])
                    .encapsulate(UdpBuilder::new(V4_A, V4_B, 40000, port(9)))
                    .encapsulate(Ipv4Builder {
                        options: ra,
                        id: 7,
                        ..Ipv4Builder::new(V4_A, V4_B, 1, IpProto::UDP)
                    })
                    .encapsulate(eth(EtherType::IPV4))
            }),
        ),
        (
            "eth:ethertype:ipv6:udp:data",
            bytes({
                (&payload[..])
                    .encapsulate(UdpBuilder::new(V6_A, V6_B, 40000, port(9)))
                    .encapsulate(Ipv6Builder::new(V6_A, V6_B, 64, IpProto::UDP))
                    .encapsulate(eth(EtherType::IPV6))
            }),
        ),
        (
            "eth:ethertype:ipv6:ipv6.hopopts:udp:data",
            bytes({
                (&payload[..])
                    .encapsulate(UdpBuilder::new(V6_A, V6_B, 40000, port(9)))
                    .encapsulate(Ipv6Builder {
                        ext_headers: Some(ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD),
                        ..Ipv6Builder::new(V6_A, V6_B, 1, IpProto::UDP)
                    })
                    .encapsulate(eth(EtherType::IPV6))
            }),
        ),
        (
            "eth:ethertype:ipv6:ipv6.fraghdr:data",
            bytes({
                (&[0x55u8; 64][..])
                    .encapsulate(Ipv6Builder {
                        fragment: Some(fragment),
                        ..Ipv6Builder::new(V6_A, V6_B, 64, IpProto::UDP)
                    })
                    .encapsulate(eth(EtherType::IPV6))
            }),
        ),
        (
            "eth:ethertype:ip:tcp",
            bytes({
                EmptyBody
                    .encapsulate(syn)
                    .encapsulate(Ipv4Builder {
                        dont_fragment: true,
                        ..Ipv4Builder::new(V4_A, V4_B, 64, IpProto::TCP)
                    })
                    .encapsulate(eth(EtherType::IPV4))
            }),
        ),
        (
            // TCP payload is handed to stream reassembly, which a lone segment never completes.
            "eth:ethertype:ipv6:tcp",
            bytes({
                (&payload[..])
                    .encapsulate(sack_ack)
                    .encapsulate(Ipv6Builder::new(V6_A, V6_B, 64, IpProto::TCP))
                    .encapsulate(eth(EtherType::IPV6))
            }),
        ),
    ]
}

/// A pcap file holding `frames`, one per second.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut writer = PcapWriter::new(LINKTYPE_ETHERNET);
    for (i, frame) in (0u64..).zip(frames) {
        writer.push(Instant::from_nanos(i * 1_000_000_000), frame);
    }
    writer.into_bytes()
}

fn tshark_available() -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tshark is missing under CI=true: tests/run.sh installs it"
        );
        eprintln!("\n*** SKIPPED: tshark is not installed; run tests/run.sh (as root) to install it ***\n");
    }
    found
}

fn tshark(file: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
        ])
        .args(args)
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

#[test]
fn tshark_dissects_every_packet_we_build() {
    if !tshark_available() {
        return;
    }
    let cases = frames();
    let dir = std::env::temp_dir().join(format!("netstack-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("built.pcap");
    std::fs::write(&file, pcap(&cases.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>()))
        .expect("write pcap");

    let protocols = tshark(&file, &["-T", "fields", "-e", "frame.protocols"]);
    let decoded: Vec<&str> = protocols.lines().collect();
    let expected: Vec<&str> = cases.iter().map(|(p, _)| *p).collect();
    assert_eq!(decoded, expected, "tshark decoded other protocol stacks than we built");

    let problems = tshark(
        &file,
        &[
            "-Y",
            "_ws.malformed || _ws.expert.severity >= \"error\" || ip.checksum.status == \"Bad\" \
             || udp.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" \
             || icmp.checksum.status == \"Bad\" || icmpv6.checksum.status == \"Bad\" \
             || igmp.checksum.status == \"Bad\"",
        ],
    );
    assert!(problems.is_empty(), "tshark found problems:\n{problems}");
    let good = tshark(
        &file,
        &["-Y", "!icmp && (udp.checksum.status == \"Good\" || tcp.checksum.status == \"Good\")"],
    );
    assert_eq!(good.lines().count(), 6, "every complete UDP and TCP checksum was verified good:\n{good}");
    let icmp_good = tshark(
        &file,
        &["-Y", "icmp.checksum.status == \"Good\" || icmpv6.checksum.status == \"Good\" || igmp.checksum.status == \"Good\""],
    );
    assert_eq!(
        icmp_good.lines().count(),
        6,
        "every ICMP, ICMPv6 and IGMP checksum was verified good:\n{icmp_good}"
    );
    let decoded = tshark(
        &file,
        &[
            "-Y",
            "icmpv6 || igmp",
            "-T",
            "fields",
            "-e",
            "icmpv6.type",
            "-e",
            "icmpv6.nd.ns.target_address",
            "-e",
            "icmpv6.mldr.nb_mcast_records",
            "-e",
            "igmp.version",
            "-e",
            "igmp.num_grp_recs",
        ],
    );
    let rows: Vec<Vec<&str>> = decoded.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[1][..2], ["135", "2001:db8::2"], "neighbor solicitation: {decoded}");
    assert_eq!(rows[2][..3], ["143", "", "2"], "MLDv2 report with two records: {decoded}");
    assert_eq!(rows[3][3..], ["3", "1"], "IGMPv3 report with one record: {decoded}");

    let options = tshark(
        &file,
        &[
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "tcp.options.mss_val",
            "-e",
            "tcp.options.wscale.shift",
            "-e",
            "tcp.options.sack_perm",
            "-e",
            "tcp.options.timestamp.tsval",
            "-e",
            "tcp.options.sack_le",
            "-e",
            "tcp.options.sack_re",
        ],
    );
    let lines: Vec<Vec<&str>> = options.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "two TCP segments: {options}");
    assert_eq!(lines[0][..4], ["1460", "7", "0402", "1"], "SYN options as tshark reads them: {options}");
    // tshark shows SACK edges relative to the acknowledged sequence space; their sizes are
    // what the blocks say.
    assert_eq!(lines[1][3], "2", "timestamp of the SACK segment: {options}");
    let edges =
        |field: &str| -> Vec<i64> { field.split(',').map(|e| e.parse().expect("numeric edge")).collect() };
    let sizes: Vec<i64> =
        edges(lines[1][5]).iter().zip(edges(lines[1][4])).map(|(right, left)| right - left).collect();
    assert_eq!(sizes, [1000, 500], "SACK blocks as tshark reads them: {options}");
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
}
