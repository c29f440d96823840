//! The pcap captures of Linux's own traffic (see `core/tests/vectors/README.md`), compiled in,
//! and a reader for the classic pcap format tcpdump writes.

/// ARP, ICMP echo of several sizes, and a ping fragmented into three IPv4 fragments.
pub const ICMPV4_PING: &[u8] = include_bytes!("../../tests/vectors/icmpv4_ping.pcap");
/// DAD, MLDv2 behind a Hop-by-Hop Router Alert, RS, NS/NA, ICMPv6 echo and IPv6 fragments.
pub const ICMPV6_PING_NDP: &[u8] = include_bytes!("../../tests/vectors/icmpv6_ping_ndp.pcap");
/// UDP over IPv4 and IPv6, small and fragmented, and ICMP port unreachable for both.
pub const UDP_FRAGMENTED: &[u8] = include_bytes!("../../tests/vectors/udp_fragmented.pcap");
/// A 1 MB TCP transfer over a lossy link: MSS, window scale, timestamps and SACK blocks.
pub const TCP_SACK_TS: &[u8] = include_bytes!("../../tests/vectors/tcp_sack_ts.pcap");

/// Every capture, with its file name.
pub const ALL: [(&str, &[u8]); 4] = [
    ("icmpv4_ping.pcap", ICMPV4_PING),
    ("icmpv6_ping_ndp.pcap", ICMPV6_PING_NDP),
    ("udp_fragmented.pcap", UDP_FRAGMENTED),
    ("tcp_sack_ts.pcap", TCP_SACK_TS),
];

/// Length of the pcap global header.
const GLOBAL_HEADER_LEN: usize = 24;
/// Length of a pcap record header.
const RECORD_HEADER_LEN: usize = 16;

/// The frames of a classic pcap file (either byte order) in file order. Iteration ends at
/// the end of the file, or early at a truncated record or a header that is not pcap.
pub fn frames(pcap: &[u8]) -> impl Iterator<Item = &[u8]> {
    let big_endian = match pcap.get(..4) {
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => Some(true),
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => Some(false),
        _ => None,
    };
    let mut rest = if big_endian.is_some() { pcap.get(GLOBAL_HEADER_LEN..).unwrap_or(&[]) } else { &[] };
    core::iter::from_fn(move || {
        let header = rest.get(..RECORD_HEADER_LEN)?;
        let len_bytes = [header[8], header[9], header[10], header[11]];
        let len = if big_endian == Some(true) {
            u32::from_be_bytes(len_bytes)
        } else {
            u32::from_le_bytes(len_bytes)
        };
        let end = RECORD_HEADER_LEN.checked_add(usize::try_from(len).ok()?)?;
        let frame = rest.get(RECORD_HEADER_LEN..end)?;
        rest = &rest[end..];
        Some(frame)
    })
}

/// Frame `n` of `pcap`, numbered from 1 as Wireshark numbers them.
///
/// # Panics
/// If the capture has fewer frames: a test naming a frame that is not there is wrong.
pub fn frame(pcap: &[u8], n: usize) -> &[u8] {
    frames(pcap).nth(n - 1).unwrap_or_else(|| panic!("capture has no frame {n}"))
}

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
        let bytes: usize = ALL
            .iter()
            .map(|(_, pcap)| frames(pcap).map(|f| f.len() + RECORD_HEADER_LEN).sum::<usize>())
            .sum();
        assert_eq!(bytes + 4 * GLOBAL_HEADER_LEN, ALL.iter().map(|(_, p)| p.len()).sum::<usize>());
    }

    #[test]
    fn truncated_or_foreign_files_end_iteration() {
        assert_eq!(frames(&ICMPV4_PING[..30]).count(), 0);
        assert_eq!(frames(&ICMPV4_PING[..GLOBAL_HEADER_LEN + RECORD_HEADER_LEN + 10]).count(), 0);
        assert_eq!(frames(b"\x0a\x0d\x0d\x0a pcapng is not read").count(), 0);
    }
}
