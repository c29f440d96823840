//! A classic pcap file writer: the libpcap format, magic `a1b2c3d4`, version 2.4,
//! microsecond timestamps, one 16-byte record header per packet.
//!
//! Everything is written in the host's byte order, as libpcap does; readers detect it from
//! the magic number.

use std::io::{self, Write};

/// libpcap's magic number for microsecond timestamps.
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;

/// A pcap file being written.
#[derive(Debug)]
pub(crate) struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header: `snaplen` is the longest record, `link_type` a `LINKTYPE_*`
    /// value (1 Ethernet, 101 raw IP).
    pub(crate) fn new(mut out: W, snaplen: u32, link_type: u32) -> io::Result<Self> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&MAGIC_MICROS.to_ne_bytes());
        header.extend_from_slice(&2u16.to_ne_bytes());
        header.extend_from_slice(&4u16.to_ne_bytes());
        header.extend_from_slice(&0i32.to_ne_bytes()); // thiszone: timestamps are UTC
        header.extend_from_slice(&0u32.to_ne_bytes()); // sigfigs
        header.extend_from_slice(&snaplen.to_ne_bytes());
        header.extend_from_slice(&link_type.to_ne_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out, snaplen })
    }

    /// Writes one packet seen at `timestamp_ns` (since the Unix epoch) that was
    /// `original_len` bytes long, of which `data` was kept (cut to the snap length).
    pub(crate) fn packet(&mut self, timestamp_ns: u64, original_len: u32, data: &[u8]) -> io::Result<()> {
        let kept = data.len().min(self.snaplen as usize);
        let data = &data[..kept];
        let mut header = [0u8; 16];
        // u32 seconds run until 2106, as the format has them.
        let seconds = (timestamp_ns / 1_000_000_000) as u32;
        let micros = ((timestamp_ns % 1_000_000_000) / 1000) as u32;
        header[0..4].copy_from_slice(&seconds.to_ne_bytes());
        header[4..8].copy_from_slice(&micros.to_ne_bytes());
        header[8..12].copy_from_slice(&(kept as u32).to_ne_bytes());
        header[12..16].copy_from_slice(&original_len.max(kept as u32).to_ne_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(data)
    }

    /// Flushes what was written.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn the_file_header_is_libpcaps() {
        let writer = PcapWriter::new(Vec::new(), 96, 1).unwrap();
        let bytes = writer.out;
        assert_eq!(bytes.len(), 24);
        assert_eq!(u32_at(&bytes, 0), 0xa1b2_c3d4);
        assert_eq!(u16::from_ne_bytes([bytes[4], bytes[5]]), 2);
        assert_eq!(u16::from_ne_bytes([bytes[6], bytes[7]]), 4);
        assert_eq!(u32_at(&bytes, 16), 96);
        assert_eq!(u32_at(&bytes, 20), 1);
    }

    #[test]
    fn packets_have_microsecond_timestamps_and_are_cut_to_the_snap_length() {
        let mut writer = PcapWriter::new(Vec::new(), 4, 101).unwrap();
        writer.packet(1_700_000_000_123_456_789, 6, &[1, 2, 3, 4, 5, 6]).unwrap();
        writer.flush().unwrap();
        let record = &writer.out[24..];
        assert_eq!(u32_at(record, 0), 1_700_000_000);
        assert_eq!(u32_at(record, 4), 123_456);
        assert_eq!(u32_at(record, 8), 4, "incl_len");
        assert_eq!(u32_at(record, 12), 6, "orig_len");
        assert_eq!(&record[16..], &[1, 2, 3, 4]);
    }
}
