//! TCP options: decoding the options area of a received segment into [`TcpOptions`], and
//! encoding [`TcpOptions`] in the layout Linux uses.
//!
//! Decoding (RFC 9293 §3.1 and §3.2): End of Option List stops decoding, No-Operation is
//! skipped, Maximum Segment Size (RFC 9293 §3.2, RFC 6691), Window Scale (RFC 7323 §2.2),
//! SACK-Permitted (RFC 2018 §2), SACK (RFC 2018 §3) and Timestamps (RFC 7323 §3.2) are
//! decoded, and any other kind is skipped by its length (RFC 9293 §3.2, MUST-64). An option
//! whose length is below 2, runs past the options area, or is wrong for its kind is rejected.
//! When a kind occurs twice the later occurrence wins.
//!
//! Encoding writes Linux's layout; the table is in the [parent module](super)'s
//! documentation.

use super::super::{Layer, ParseError, ParseErrorKind};

/// The most option bytes a TCP header holds: a data offset of 15 words less the 5 of the
/// fixed header (RFC 9293 §3.1).
pub const MAX_OPTIONS_LEN: usize = 40;
/// The largest window shift RFC 7323 §2.3 allows; larger received values are used as 14.
pub const MAX_WINDOW_SCALE: u8 = 14;

/// Option kinds (IANA "TCP Option Kind Numbers").
mod kind {
    pub(super) const END_OF_OPTIONS: u8 = 0;
    pub(super) const NO_OPERATION: u8 = 1;
    pub(super) const MSS: u8 = 2;
    pub(super) const WINDOW_SCALE: u8 = 3;
    pub(super) const SACK_PERMITTED: u8 = 4;
    pub(super) const SACK: u8 = 5;
    pub(super) const TIMESTAMPS: u8 = 8;
}

/// Option lengths, kind and length bytes included.
mod len {
    pub(super) const MSS: u8 = 4;
    pub(super) const WINDOW_SCALE: u8 = 3;
    pub(super) const SACK_PERMITTED: u8 = 2;
    pub(super) const TIMESTAMPS: u8 = 10;
    /// SACK: kind, length, then 8 bytes per block (RFC 2018 §3).
    pub(super) const SACK_BASE: u8 = 2;
    pub(super) const SACK_BLOCK: usize = 8;
}

/// The Timestamps option (RFC 7323 §3.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpTimestamp {
    /// TSval: the sender's timestamp clock.
    pub value: u32,
    /// TSecr: the TSval being echoed; meaningful only when ACK is set.
    pub echo_reply: u32,
}

/// One SACK block (RFC 2018 §3): sequence numbers `left..right` were received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SackBlock {
    /// Left edge: the first sequence number of the block.
    pub left: u32,
    /// Right edge: the sequence number just after the block.
    pub right: u32,
}

/// Up to [`SackBlocks::MAX`] SACK blocks, in a fixed array.
#[derive(Clone, Copy, Debug, Default)]
pub struct SackBlocks {
    /// Entries past `len` are always the default block, so copies compare cheaply.
    blocks: [SackBlock; SackBlocks::MAX],
    len: u8,
}

impl SackBlocks {
    /// The most blocks an option can carry: 2 + 8 × 4 = 34 of the 40 option bytes (RFC 2018
    /// §3). With Timestamps only 3 fit; see [`TcpOptions::wire_len`].
    pub const MAX: usize = 4;

    /// No blocks.
    pub const EMPTY: Self = Self { blocks: [SackBlock { left: 0, right: 0 }; Self::MAX], len: 0 };

    /// The given blocks, or `None` if there are more than [`MAX`](Self::MAX).
    pub fn new(blocks: &[SackBlock]) -> Option<Self> {
        let mut out = Self::EMPTY;
        for block in blocks {
            out.push(*block)?;
        }
        Some(out)
    }

    /// Appends a block, or `None` if all [`MAX`](Self::MAX) slots are taken.
    fn push(&mut self, block: SackBlock) -> Option<()> {
        *self.blocks.get_mut(usize::from(self.len))? = block;
        self.len += 1;
        Some(())
    }

    /// The blocks.
    pub fn as_slice(&self) -> &[SackBlock] {
        self.blocks.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl PartialEq for SackBlocks {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SackBlocks {}

impl core::hash::Hash for SackBlocks {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

/// The options of a segment, decoded. Decoding follows RFC 9293 §3.2: EOL ends the list, NOP
/// and unknown kinds are skipped, a malformed option rejects the segment, and a repeated kind
/// keeps its last occurrence. Encoding uses Linux's layout (see the
/// [`tcp` module documentation](super)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpOptions {
    /// Maximum Segment Size (kind 2, RFC 9293 §3.2 and §3.7.1): the largest payload the
    /// sender can receive, IP and TCP headers and options excluded (RFC 6691).
    pub mss: Option<u16>,
    /// Window Scale (kind 3, RFC 7323 §2.2): the shift count as received, possibly above
    /// [`MAX_WINDOW_SCALE`]; use [`window_scale_shift`](Self::window_scale_shift).
    pub window_scale: Option<u8>,
    /// SACK-Permitted (kind 4, RFC 2018 §2).
    pub sack_permitted: bool,
    /// Timestamps (kind 8, RFC 7323 §3.2).
    pub timestamp: Option<TcpTimestamp>,
    /// SACK blocks (kind 5, RFC 2018 §3); empty when the option is absent.
    pub sack_blocks: SackBlocks,
}

/// [`TcpOptions`] that do not fit the 40 option bytes of a TCP header in Linux's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("TCP options need {len} bytes in Linux's layout, more than the {MAX_OPTIONS_LEN} a header holds")]
pub struct TcpOptionsTooLong {
    /// Bytes the options would take.
    pub len: usize,
}

impl TcpOptions {
    /// No options.
    pub const NONE: Self = Self {
        mss: None,
        window_scale: None,
        sack_permitted: false,
        timestamp: None,
        sack_blocks: SackBlocks::EMPTY,
    };

    /// The window shift to use: the received shift clamped to [`MAX_WINDOW_SCALE`]
    /// (RFC 7323 §2.3: a received shift above 14 is an error, and 14 is used in its place).
    pub fn window_scale_shift(&self) -> Option<u8> {
        self.window_scale.map(|shift| shift.min(MAX_WINDOW_SCALE))
    }

    /// Bytes these options take in Linux's layout (a multiple of 4). A segment carries at
    /// most [`MAX_OPTIONS_LEN`]: e.g. 4 SACK blocks fit without Timestamps, 3 with them
    /// (RFC 2018 §3).
    pub fn wire_len(&self) -> usize {
        let mss = if self.mss.is_some() { 4 } else { 0 };
        let timestamp = if self.timestamp.is_some() { 12 } else { 0 };
        // Written in front of the timestamp when there is one, in place of its NOPs.
        let sack_permitted = if self.sack_permitted && self.timestamp.is_none() { 4 } else { 0 };
        let window_scale = if self.window_scale.is_some() { 4 } else { 0 };
        let sack = if self.sack_blocks.is_empty() { 0 } else { 4 + len::SACK_BLOCK * self.sack_blocks.len() };
        mss + timestamp + sack_permitted + window_scale + sack
    }

    /// Decodes an options area (the bytes between the fixed header and the data offset).
    pub(super) fn parse(mut bytes: &[u8]) -> Result<Self, ParseError> {
        let malformed = |what| ParseError::new(Layer::Tcp, ParseErrorKind::Option(what));
        let mut options = Self::default();
        while let Some((&option_kind, after_kind)) = bytes.split_first() {
            match option_kind {
                // RFC 9293 §3.2: the end of the options, whatever follows is padding.
                kind::END_OF_OPTIONS => break,
                kind::NO_OPERATION => {
                    bytes = after_kind;
                    continue;
                }
                _ => {}
            }
            // RFC 9293 §3.1: every other option is kind, length (counting both), data.
            let &length = after_kind.first().ok_or(malformed("option runs past the header"))?;
            if length < 2 {
                return Err(malformed("option length below 2"));
            }
            let (option, rest) = bytes
                .split_at_checked(usize::from(length))
                .ok_or(malformed("option runs past the header"))?;
            let data = option.get(2..).unwrap_or(&[]);
            match option_kind {
                kind::MSS => {
                    let &[hi, lo] = data else { return Err(malformed("MSS length is not 4")) };
                    options.mss = Some(u16::from_be_bytes([hi, lo]));
                }
                kind::WINDOW_SCALE => {
                    let &[shift] = data else { return Err(malformed("window scale length is not 3")) };
                    options.window_scale = Some(shift);
                }
                kind::SACK_PERMITTED => {
                    if !data.is_empty() {
                        return Err(malformed("SACK-permitted length is not 2"));
                    }
                    options.sack_permitted = true;
                }
                kind::TIMESTAMPS => {
                    let &[v0, v1, v2, v3, e0, e1, e2, e3] = data else {
                        return Err(malformed("timestamps length is not 10"));
                    };
                    options.timestamp = Some(TcpTimestamp {
                        value: u32::from_be_bytes([v0, v1, v2, v3]),
                        echo_reply: u32::from_be_bytes([e0, e1, e2, e3]),
                    });
                }
                kind::SACK => {
                    options.sack_blocks = parse_sack_blocks(data).ok_or(malformed("SACK length"))?
                }
                // RFC 9293 §3.2 (MUST-64): options we do not implement are skipped.
                _ => {}
            }
            bytes = rest;
        }
        Ok(options)
    }

    /// Encodes the options in Linux's layout (see the [`tcp` module documentation](super)).
    pub(super) fn linux_layout(&self) -> Result<OptionBytes, TcpOptionsTooLong> {
        let mut out = OptionBytes::EMPTY;
        self.write_linux_layout(&mut out).ok_or(TcpOptionsTooLong { len: self.wire_len() })?;
        Ok(out)
    }

    fn write_linux_layout(&self, out: &mut OptionBytes) -> Option<()> {
        use kind::{NO_OPERATION as NOP, *};
        if let Some(mss) = self.mss {
            let [hi, lo] = mss.to_be_bytes();
            out.push(&[MSS, len::MSS, hi, lo])?;
        }
        if let Some(ts) = self.timestamp {
            if self.sack_permitted {
                out.push(&[SACK_PERMITTED, len::SACK_PERMITTED, TIMESTAMPS, len::TIMESTAMPS])?;
            } else {
                out.push(&[NOP, NOP, TIMESTAMPS, len::TIMESTAMPS])?;
            }
            out.push(&ts.value.to_be_bytes())?;
            out.push(&ts.echo_reply.to_be_bytes())?;
        } else if self.sack_permitted {
            out.push(&[NOP, NOP, SACK_PERMITTED, len::SACK_PERMITTED])?;
        }
        if let Some(shift) = self.window_scale {
            out.push(&[NOP, WINDOW_SCALE, len::WINDOW_SCALE, shift])?;
        }
        if !self.sack_blocks.is_empty() {
            // At most 4 blocks: 2 + 32 bytes.
            let sack_len = len::SACK_BASE + 8 * self.sack_blocks.len;
            out.push(&[NOP, NOP, SACK, sack_len])?;
            for block in self.sack_blocks.as_slice() {
                out.push(&block.left.to_be_bytes())?;
                out.push(&block.right.to_be_bytes())?;
            }
        }
        Some(())
    }
}

/// The data of a SACK option: 1 to 4 blocks of 8 bytes (RFC 2018 §3).
fn parse_sack_blocks(data: &[u8]) -> Option<SackBlocks> {
    if data.is_empty() || data.len() % len::SACK_BLOCK != 0 {
        return None;
    }
    let mut blocks = SackBlocks::EMPTY;
    for edges in data.chunks_exact(len::SACK_BLOCK) {
        let &[l0, l1, l2, l3, r0, r1, r2, r3] = edges else { return None };
        blocks.push(SackBlock {
            left: u32::from_be_bytes([l0, l1, l2, l3]),
            right: u32::from_be_bytes([r0, r1, r2, r3]),
        })?;
    }
    Some(blocks)
}

/// The bytes of an options area, in a fixed array: what a builder writes after the fixed
/// header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct OptionBytes {
    /// Bytes past `len` are always zero, so copies compare cheaply.
    bytes: [u8; MAX_OPTIONS_LEN],
    len: u8,
}

impl OptionBytes {
    pub(super) const EMPTY: Self = Self { bytes: [0; MAX_OPTIONS_LEN], len: 0 };

    /// A copy of a parsed options area. The parser guarantees at most [`MAX_OPTIONS_LEN`]
    /// bytes (data offset ≤ 15); anything longer would be cut off.
    pub(super) fn copy_of(raw: &[u8]) -> Self {
        let mut out = Self::EMPTY;
        for (to, from) in out.bytes.iter_mut().zip(raw) {
            *to = *from;
        }
        out.len = raw.len().min(MAX_OPTIONS_LEN) as u8;
        out
    }

    /// Appends `more`, or `None` if they do not fit.
    fn push(&mut self, more: &[u8]) -> Option<()> {
        let start = usize::from(self.len);
        let end = start + more.len();
        self.bytes.get_mut(start..end)?.copy_from_slice(more);
        self.len = u8::try_from(end).ok()?;
        Some(())
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::wire::test_data::hex;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const TS: TcpTimestamp = TcpTimestamp { value: 0xd165_080c, echo_reply: 0x67e5_2761 };

    fn blocks(n: u32) -> SackBlocks {
        let all: Vec<SackBlock> = (0..n).map(|i| SackBlock { left: 100 * i, right: 100 * i + 50 }).collect();
        SackBlocks::new(&all).unwrap()
    }

    fn layout(o: TcpOptions) -> Vec<u8> {
        let bytes = o.linux_layout().unwrap();
        assert_eq!(bytes.as_slice().len(), o.wire_len());
        assert_eq!(TcpOptions::parse(bytes.as_slice()).unwrap(), o, "decodes back");
        bytes.as_slice().to_vec()
    }

    fn error(bytes: &[u8]) -> ParseErrorKind {
        TcpOptions::parse(bytes).unwrap_err().kind
    }

    #[test]
    fn linux_syn_layout_mss_sackperm_ts_nop_ws() {
        // tests/vectors/tcp_sack_ts.pcap frame 1, options of the SYN.
        let o = TcpOptions {
            mss: Some(1460),
            window_scale: Some(10),
            sack_permitted: true,
            timestamp: Some(TcpTimestamp { value: 0xd165_080c, echo_reply: 0 }),
            sack_blocks: SackBlocks::EMPTY,
        };
        assert_eq!(layout(o), hex("020405b4 0402080a d165080c 00000000 0103030a"));
    }

    #[test]
    fn linux_established_layout_nop_nop_ts() {
        // tests/vectors/tcp_sack_ts.pcap frame 3.
        let o = TcpOptions { timestamp: Some(TS), ..TcpOptions::default() };
        assert_eq!(layout(o), hex("0101080a d165080c 67e52761"));
    }

    #[test]
    fn linux_sack_layout_follows_ts_with_its_own_nops() {
        // tests/vectors/tcp_sack_ts.pcap frame 89: NOP NOP TS NOP NOP SACK(1 block).
        let o = TcpOptions {
            timestamp: Some(TcpTimestamp { value: 0x67e5_2762, echo_reply: 0xd165_080d }),
            sack_blocks: SackBlocks::new(&[SackBlock { left: 0x3724_3b62, right: 0x3724_410a }]).unwrap(),
            ..TcpOptions::default()
        };
        assert_eq!(layout(o), hex("0101080a 67e52762 d165080d 0101050a 37243b62 3724410a"));
    }

    #[test]
    fn linux_layouts_without_timestamps() {
        // SACK-Permitted takes the NOPs itself when there is no timestamp to share a word with.
        let syn =
            TcpOptions { mss: Some(1460), window_scale: Some(7), sack_permitted: true, ..Default::default() };
        assert_eq!(layout(syn), hex("020405b4 01010402 01030307"));
        let sack = TcpOptions { sack_blocks: blocks(1), ..Default::default() };
        assert_eq!(layout(sack), hex("0101050a 00000000 00000032"));
        assert_eq!(layout(TcpOptions::default()), hex(""));
    }

    #[test]
    fn linux_layout_ts_without_sack_permitted_keeps_its_nops() {
        let o =
            TcpOptions { mss: Some(536), window_scale: Some(0), timestamp: Some(TS), ..Default::default() };
        assert_eq!(layout(o), hex("02040218 0101080a d165080c 67e52761 01030300"));
    }

    #[test]
    fn rfc2018_3_four_sack_blocks_fit_without_timestamps() {
        let o = TcpOptions { sack_blocks: blocks(4), ..Default::default() };
        assert_eq!(o.wire_len(), 36);
        assert_eq!(layout(o)[..4], [1, 1, 5, 34]);
    }

    #[test]
    fn rfc2018_3_three_sack_blocks_fit_with_timestamps_four_do_not() {
        let three = TcpOptions { timestamp: Some(TS), sack_blocks: blocks(3), ..Default::default() };
        assert_eq!(three.wire_len(), MAX_OPTIONS_LEN);
        layout(three);
        let four = TcpOptions { sack_blocks: blocks(4), ..three };
        assert_eq!(four.linux_layout(), Err(TcpOptionsTooLong { len: 48 }));
    }

    #[test]
    fn rfc2018_3_at_most_four_sack_blocks_are_representable() {
        let five = [SackBlock::default(); 5];
        assert!(SackBlocks::new(&five).is_none());
        assert_eq!(SackBlocks::new(&five[..4]).unwrap().len(), 4);
    }

    #[test]
    fn syn_options_with_sack_blocks_can_overflow() {
        let o = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamp: Some(TS),
            sack_blocks: blocks(3),
        };
        assert_eq!(o.linux_layout(), Err(TcpOptionsTooLong { len: 48 }));
        layout(TcpOptions { sack_blocks: blocks(2), ..o });
    }

    #[test]
    fn rfc7323_2_3_window_scale_above_14_is_kept_raw_and_used_as_14() {
        let o = TcpOptions::parse(&hex("01030315")).unwrap();
        assert_eq!(o.window_scale, Some(21));
        assert_eq!(o.window_scale_shift(), Some(MAX_WINDOW_SCALE));
        let o = TcpOptions::parse(&hex("0103030e")).unwrap();
        assert_eq!(o.window_scale_shift(), Some(14));
        assert_eq!(TcpOptions::default().window_scale_shift(), None);
    }

    #[test]
    fn rfc9293_3_2_end_of_options_stops_decoding() {
        // After EOL everything is padding, even bytes that would be a malformed option.
        let o = TcpOptions::parse(&hex("020405b4 00 0201ffff")).unwrap();
        assert_eq!(o, TcpOptions { mss: Some(1460), ..Default::default() });
    }

    #[test]
    fn rfc9293_3_2_unknown_options_are_skipped_by_length() {
        // Kind 34 (TCP Fast Open cookie, RFC 7413) with 8 bytes of cookie, then SACK-Permitted.
        let o = TcpOptions::parse(&hex("220a0102030405060708 0402")).unwrap();
        assert_eq!(o, TcpOptions { sack_permitted: true, ..Default::default() });
    }

    #[test]
    fn repeated_option_later_wins() {
        let o = TcpOptions::parse(&hex("020405b4 02040218")).unwrap();
        assert_eq!(o.mss, Some(536));
    }

    #[test]
    fn rfc9293_3_1_option_length_below_2_is_malformed() {
        assert_eq!(error(&hex("2200")), ParseErrorKind::Option("option length below 2"));
        assert_eq!(error(&hex("0201")), ParseErrorKind::Option("option length below 2"));
    }

    #[test]
    fn rfc9293_3_1_option_running_past_the_header_is_malformed() {
        let past = ParseErrorKind::Option("option runs past the header");
        assert_eq!(error(&hex("0101 02")), past, "kind without length");
        assert_eq!(error(&hex("020405")), past, "MSS cut short");
        assert_eq!(error(&hex("2208010203")), past, "unknown option cut short");
    }

    #[test]
    fn rfc9293_3_2_mss_length_must_be_4() {
        assert_eq!(error(&hex("020305")), ParseErrorKind::Option("MSS length is not 4"));
        assert_eq!(error(&hex("020505b400")), ParseErrorKind::Option("MSS length is not 4"));
    }

    #[test]
    fn rfc7323_2_2_window_scale_length_must_be_3() {
        assert_eq!(error(&hex("0302")), ParseErrorKind::Option("window scale length is not 3"));
        assert_eq!(error(&hex("03040700")), ParseErrorKind::Option("window scale length is not 3"));
    }

    #[test]
    fn rfc2018_2_sack_permitted_length_must_be_2() {
        assert_eq!(error(&hex("040300")), ParseErrorKind::Option("SACK-permitted length is not 2"));
    }

    #[test]
    fn rfc7323_3_2_timestamps_length_must_be_10() {
        assert_eq!(
            error(&hex("0809 0000000000000000")),
            ParseErrorKind::Option("timestamps length is not 10")
        );
        assert_eq!(error(&hex("0802")), ParseErrorKind::Option("timestamps length is not 10"));
    }

    #[test]
    fn rfc2018_3_sack_length_must_be_2_plus_8n_with_n_at_least_1() {
        assert_eq!(error(&hex("0502")), ParseErrorKind::Option("SACK length"));
        assert_eq!(error(&hex("050b 0000000000000000 00")), ParseErrorKind::Option("SACK length"));
        let ok = TcpOptions::parse(&hex("0512 00000001 00000002 00000003 00000004")).unwrap();
        assert_eq!(
            ok.sack_blocks.as_slice(),
            &[SackBlock { left: 1, right: 2 }, SackBlock { left: 3, right: 4 }]
        );
    }

    #[test]
    fn sack_blocks_compare_by_content() {
        let mut a = blocks(2);
        let b = blocks(2);
        assert_eq!(a, b);
        a.push(SackBlock { left: 7, right: 8 }).unwrap();
        assert_ne!(a, b);
        assert_eq!(SackBlocks::new(&[]).unwrap(), SackBlocks::EMPTY);
    }

    /// Any option set, including ones too long for a header.
    pub(in crate::wire::tcp) fn arb_options() -> impl Strategy<Value = TcpOptions> {
        let block = (any::<u32>(), any::<u32>()).prop_map(|(left, right)| SackBlock { left, right });
        (
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u8>()),
            any::<bool>(),
            proptest::option::of((any::<u32>(), any::<u32>())),
            proptest::collection::vec(block, 0..=4),
        )
            .prop_map(|(mss, window_scale, sack_permitted, ts, sacks)| TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                timestamp: ts.map(|(value, echo_reply)| TcpTimestamp { value, echo_reply }),
                sack_blocks: SackBlocks::new(&sacks).unwrap(),
            })
    }

    proptest! {
        #[test]
        fn linux_layout_decodes_back_or_reports_its_length(o in arb_options()) {
            match o.linux_layout() {
                Ok(bytes) => {
                    prop_assert_eq!(bytes.as_slice().len(), o.wire_len());
                    prop_assert_eq!(bytes.as_slice().len() % 4, 0);
                    prop_assert_eq!(TcpOptions::parse(bytes.as_slice()).unwrap(), o);
                }
                Err(e) => prop_assert!(e.len == o.wire_len() && e.len > MAX_OPTIONS_LEN),
            }
        }

        #[test]
        fn arbitrary_option_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..=40)) {
            let _ = TcpOptions::parse(&bytes);
        }

        #[test]
        fn copy_of_keeps_the_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..=40)) {
            let copy = OptionBytes::copy_of(&bytes);
            prop_assert_eq!(copy.as_slice(), &bytes[..]);
        }
    }
}
