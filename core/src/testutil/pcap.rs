//! The classic pcap file format tcpdump writes with `-w`: a reader for replaying captures
//! through the parsers, and a writer so a fake network's traffic can be opened in Wireshark.

use alloc::vec::Vec;

use crate::time::Instant;

/// Length of the pcap global header.
const GLOBAL_HEADER_LEN: usize = 24;
/// Length of a pcap record header.
const RECORD_HEADER_LEN: usize = 16;
/// The link type of Ethernet frames (LINKTYPE_ETHERNET).
pub const LINKTYPE_ETHERNET: u32 = 1;
/// The link type of bare IPv4/IPv6 packets (LINKTYPE_RAW), for pure-IP devices.
pub const LINKTYPE_RAW: u32 = 101;

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

/// Writes a classic little-endian, microsecond pcap file.
#[derive(Clone, Debug)]
pub struct PcapWriter {
    bytes: Vec<u8>,
}

impl PcapWriter {
    /// An empty capture of frames with `linktype`.
    pub fn new(linktype: u32) -> Self {
        let mut bytes = Vec::with_capacity(GLOBAL_HEADER_LEN);
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        for word in [0u32, 0, 65535, linktype] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        Self { bytes }
    }

    /// Appends a frame captured at `at` (frames longer than 4 GiB cannot exist here).
    pub fn push(&mut self, at: Instant, frame: &[u8]) {
        let micros = at.as_nanos() / 1_000;
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        for word in [(micros / 1_000_000) as u32, (micros % 1_000_000) as u32, len, len] {
            self.bytes.extend_from_slice(&word.to_le_bytes());
        }
        self.bytes.extend_from_slice(frame);
    }

    /// The file's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::vectors::ICMPV4_PING;

    #[test]
    fn truncated_or_foreign_files_end_iteration() {
        assert_eq!(frames(&ICMPV4_PING[..30]).count(), 0);
        assert_eq!(frames(&ICMPV4_PING[..GLOBAL_HEADER_LEN + RECORD_HEADER_LEN + 10]).count(), 0);
        assert_eq!(frames(b"\x0a\x0d\x0d\x0a pcapng is not read").count(), 0);
    }

    #[test]
    fn written_files_read_back() {
        let mut w = PcapWriter::new(LINKTYPE_ETHERNET);
        w.push(Instant::from_nanos(1_500_000_000), b"first");
        w.push(Instant::from_nanos(2_000_000_000), b"second frame");
        let bytes = w.into_bytes();
        assert_eq!(frames(&bytes).collect::<Vec<_>>(), [&b"first"[..], b"second frame"]);
        assert_eq!(bytes[20..24], LINKTYPE_ETHERNET.to_le_bytes());
    }
}
