//! What crosses the connection's boundary: the fields of a received segment the state
//! machine needs ([`SegmentInfo`]), the description of a segment it wrote ([`Transmit`]),
//! and the RST a stack sends for a segment no connection or listener takes
//! (RFC 9293 §3.10.7.1).

use crate::addr::IpAddress;
use crate::buf::{PacketBuilder, PacketBytes, SerializeTarget};
use crate::wire::tcp::{TcpBuilder, TcpFlags, TcpOptions, TcpSegment, HEADER_LEN};

use super::isn::Endpoint;
use super::seqnum::SeqNum;

/// The header fields of a received, parsed segment (ports and addresses stay with the
/// stack, which used them to find the connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// SEG.SEQ.
    pub seq: SeqNum,
    /// SEG.ACK (meaningful with ACK).
    pub ack: SeqNum,
    /// Control bits.
    pub flags: TcpFlags,
    /// SEG.WND as received (unscaled).
    pub window: u16,
    /// Decoded options.
    pub options: TcpOptions,
}

impl SegmentInfo {
    /// The fields of a parsed segment.
    pub fn from_segment<B: PacketBytes, A: IpAddress>(segment: &TcpSegment<B, A>) -> Self {
        Self {
            seq: SeqNum(segment.seq_num()),
            ack: SeqNum(segment.ack_num()),
            flags: segment.flags(),
            window: segment.window(),
            options: *segment.options(),
        }
    }

    /// SEG.LEN: payload plus one for each of SYN and FIN (RFC 9293 §3.4).
    pub fn seg_len(&self, payload_len: usize) -> u32 {
        let syn = u32::from(self.flags.contains(TcpFlags::SYN));
        let fin = u32::from(self.flags.contains(TcpFlags::FIN));
        (payload_len as u32).wrapping_add(syn).wrapping_add(fin)
    }

    /// Whether the control bits are a combination no valid sender produces: SYN with RST or
    /// FIN, or no control bit that gives the segment a meaning.
    pub fn has_impossible_flags(&self) -> bool {
        let f = self.flags;
        (f.contains(TcpFlags::SYN) && f.intersects(TcpFlags::RST | TcpFlags::FIN))
            || !f.intersects(TcpFlags::SYN | TcpFlags::RST | TcpFlags::ACK)
    }
}

/// A segment written into the caller's buffer by `poll_transmit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Bytes written: the TCP header, options and payload, checksum filled in.
    pub len: usize,
    /// The sequence number.
    pub seq: SeqNum,
    /// The control bits.
    pub flags: TcpFlags,
    /// Payload bytes.
    pub payload_len: usize,
    /// Whether the segment repeats data or control already sent.
    pub retransmission: bool,
}

/// Writes a segment whose payload the caller already placed at `out[header_len..]`, with the
/// given header fields; returns the length written, or `None` if `out` is too small.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_segment<A: IpAddress>(
    out: &mut [u8],
    local: Endpoint<A>,
    remote: Endpoint<A>,
    seq: SeqNum,
    ack: SeqNum,
    flags: TcpFlags,
    window: u16,
    options: &TcpOptions,
    payload_len: usize,
) -> Option<usize> {
    let mut builder = TcpBuilder::new(local.addr, remote.addr, local.port, remote.port);
    builder.seq_num = seq.0;
    builder.ack_num = if flags.contains(TcpFlags::ACK) { ack.0 } else { 0 };
    builder.flags = flags;
    builder.window = window;
    let builder = builder.with_options(*options).ok()?;
    let header_len = builder.header_len();
    let total = header_len + payload_len;
    let (header, body) = out.get_mut(..total)?.split_at_mut(header_len);
    builder.serialize(&mut SerializeTarget { header, footer: &mut [] }, body);
    Some(total)
}

/// The RST answering a segment that reached no connection (RFC 9293 §3.10.7.1): with ACK it
/// takes its sequence number from SEG.ACK, otherwise it acknowledges the segment. A RST is
/// never answered. Returns the length written to `out`.
pub fn write_reset_for<A: IpAddress>(
    out: &mut [u8],
    local: Endpoint<A>,
    remote: Endpoint<A>,
    segment: &SegmentInfo,
    payload_len: usize,
) -> Option<usize> {
    if segment.flags.contains(TcpFlags::RST) {
        return None;
    }
    let (seq, ack, flags) = if segment.flags.contains(TcpFlags::ACK) {
        (segment.ack, SeqNum(0), TcpFlags::RST)
    } else {
        (SeqNum(0), segment.seq + segment.seg_len(payload_len), TcpFlags::RST | TcpFlags::ACK)
    };
    if out.len() < HEADER_LEN {
        return None;
    }
    write_segment(out, local, remote, seq, ack, flags, 0, &TcpOptions::NONE, 0)
}
