//! The pcap captures of Linux's own traffic (see `core/tests/vectors/README.md`), compiled in.

/// ARP, ICMP echo of several sizes, and a ping fragmented into three IPv4 fragments.
pub const ICMPV4_PING: &[u8] = include_bytes!("../../tests/vectors/icmpv4_ping.pcap");
/// DAD, MLDv2 behind a Hop-by-Hop Router Alert, RS, NS/NA, ICMPv6 echo and IPv6 fragments.
pub const ICMPV6_PING_NDP: &[u8] = include_bytes!("../../tests/vectors/icmpv6_ping_ndp.pcap");
/// UDP over IPv4 and IPv6, small and fragmented, and ICMP port unreachable for both.
pub const UDP_FRAGMENTED: &[u8] = include_bytes!("../../tests/vectors/udp_fragmented.pcap");
/// A 1 MB TCP transfer over a lossy link: MSS, window scale, timestamps and SACK blocks.
pub const TCP_SACK_TS: &[u8] = include_bytes!("../../tests/vectors/tcp_sack_ts.pcap");

pub use super::pcap::{frame, frames};

/// Every capture, with its file name.
pub const ALL: [(&str, &[u8]); 4] = [
    ("icmpv4_ping.pcap", ICMPV4_PING),
    ("icmpv6_ping_ndp.pcap", ICMPV6_PING_NDP),
    ("udp_fragmented.pcap", UDP_FRAGMENTED),
    ("tcp_sack_ts.pcap", TCP_SACK_TS),
];

/// The Ethernet payloads of every frame of every capture whose EtherType is `ethertype`.
pub fn payloads(ethertype: [u8; 2]) -> impl Iterator<Item = &'static [u8]> {
    ALL.into_iter()
        .flat_map(|(_, pcap)| frames(pcap))
        .filter(move |f| f.get(12..14) == Some(&ethertype[..]))
        .map(|f| &f[14..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capture_reads_to_its_end() {
        let counts: [usize; 4] = ALL.map(|(_, pcap)| frames(pcap).count());
        assert_eq!(counts, [22, 38, 16, 1083]);
        let bytes: usize =
            ALL.iter().map(|(_, pcap)| frames(pcap).map(|f| f.len() + 16).sum::<usize>()).sum();
        assert_eq!(bytes + 4 * 24, ALL.iter().map(|(_, p)| p.len()).sum::<usize>());
    }
}
