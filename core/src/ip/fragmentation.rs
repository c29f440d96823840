//! IP fragmentation: the plan that cuts a datagram's payload into fragments that fit an MTU,
//! written once for both versions, and the per-version writers that serialize fragment N
//! into a caller's buffer without allocating.
//!
//! Implements:
//! * RFC 791 §3.2 (IPv4): offsets in 8-byte units, every fragment but the last full, the first
//!   fragment carrying every option and the others only the copied ones
//!   ([`Ipv4Builder::fragment`]), and Don't Fragment refusing fragmentation; the caller turns
//!   [`FragmentationError::DontFragment`] into `EMSGSIZE` or an ICMP Destination Unreachable
//!   "fragmentation needed" (RFC 1191 §4).
//! * RFC 8200 §4.5 (IPv6): each fragment is the Per-Fragment headers, a Fragment header, then
//!   its part of the Fragmentable Part; the Identification is the caller's and should be
//!   unpredictable (RFC 7739 §5), which [`Ipv6FragmentIdGenerator`] provides.
//! * MTUs below the version minimum (IPv4 68, RFC 791 §3.2; IPv6 1280, RFC 8200 §5) are
//!   refused.

use core::ops::Range;

use crate::addr::{Ip, Ipv4, Ipv6, Ipv6Addr};
use crate::buf::{Buf, PacketBuilder, SerializeError};
use crate::context::RngContext;
use crate::hash::{SipHasher, SipKey};
use crate::wire::ipv4::{FragmentOffset, Ipv4Builder, MAX_OPTIONS_LEN, MAX_PACKET_LEN};
use crate::wire::ipv6::{
    FragmentHeader, Ipv6Builder, FIXED_HEADER_LEN, FRAGMENT_HEADER_LEN, MAX_PAYLOAD_LEN,
};

/// What fragmentation needs to know about an IP version; implemented by [`Ipv4`] and
/// [`Ipv6`].
pub trait FragmentationIpExt: Ip {
    /// Bytes each fragment carries beyond the unfragmentable headers: none for IPv4, the
    /// Fragment header for IPv6 (RFC 8200 §4.5).
    const FRAGMENT_HEADER_OVERHEAD: usize;
    /// The longest datagram, headers included: IPv4 Total Length is 16 bits (RFC 791 §3.1);
    /// IPv6 Payload Length is 16 bits after the fixed header (RFC 8200 §3).
    const MAX_DATAGRAM_LEN: usize;
}

impl FragmentationIpExt for Ipv4 {
    const FRAGMENT_HEADER_OVERHEAD: usize = 0;
    const MAX_DATAGRAM_LEN: usize = MAX_PACKET_LEN;
}

impl FragmentationIpExt for Ipv6 {
    const FRAGMENT_HEADER_OVERHEAD: usize = FRAGMENT_HEADER_LEN;
    const MAX_DATAGRAM_LEN: usize = FIXED_HEADER_LEN + MAX_PAYLOAD_LEN;
}

/// Fragmentation events, named as Linux's nstat names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragmentationCounters {
    /// Datagrams fragmented, counted when their last fragment is written (`FragOKs`).
    pub frag_oks: u64,
    /// Datagrams that needed fragmentation and could not have it: Don't Fragment set, MTU
    /// below the minimum, headers leaving no room for data, or already a fragment (IPv6)
    /// (`FragFails`).
    pub frag_fails: u64,
    /// Fragments written (`FragCreates`).
    pub frag_creates: u64,
}

/// Why a datagram cannot be fragmented or a fragment written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FragmentationError {
    /// The datagram fits the MTU; send it whole.
    #[error("datagram of {len} bytes fits the MTU of {mtu}; no fragmentation needed")]
    NotNeeded {
        /// Datagram length.
        len: usize,
        /// The MTU.
        mtu: u32,
    },
    /// The MTU is below the version's minimum.
    #[error("MTU {mtu} is below the minimum of {min}")]
    MtuTooSmall {
        /// The MTU.
        mtu: u32,
        /// The version's minimum link MTU.
        min: u16,
    },
    /// The IPv4 datagram needs fragmentation but has Don't Fragment set (RFC 791 §3.2): the
    /// sender reports `EMSGSIZE`, a forwarder an ICMP "fragmentation needed" with `mtu`
    /// (RFC 1191 §4).
    #[error("datagram of {len} bytes needs fragmentation for MTU {mtu} but has Don't Fragment set")]
    DontFragment {
        /// Datagram length.
        len: usize,
        /// The MTU.
        mtu: u32,
    },
    /// The headers every fragment repeats leave no room for 8 bytes of data.
    #[error("{header_len} bytes of headers per fragment leave no room for data in MTU {mtu}")]
    HeaderTooLong {
        /// Header bytes per fragment.
        header_len: usize,
        /// The MTU.
        mtu: u32,
    },
    /// The datagram is longer than the version allows, so its offsets would not fit.
    #[error("datagram of {len} bytes exceeds the maximum of {max}")]
    TooLong {
        /// Datagram length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The IPv6 packet already has a Fragment header (only its source fragments a packet,
    /// once; RFC 8200 §4.5).
    #[error("packet already has a Fragment header")]
    AlreadyFragment,
    /// The plan has no fragment with this index.
    #[error("fragment {index} requested of a plan of {count}")]
    NoSuchFragment {
        /// Index asked for.
        index: usize,
        /// Fragments in the plan.
        count: usize,
    },
    /// The payload given is not as long as the one planned for.
    #[error("payload of {actual} bytes given for a plan of {expected}")]
    PayloadLength {
        /// Planned length.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// The output buffer is shorter than the fragment.
    #[error("fragment of {needed} bytes does not fit a buffer of {len}")]
    BufferTooSmall {
        /// Fragment length.
        needed: usize,
        /// Buffer length.
        len: usize,
    },
    /// The header could not be serialized.
    #[error("fragment header cannot be serialized: {0}")]
    Serialize(#[from] SerializeError),
}

impl FragmentationError {
    /// Whether the error means the datagram cannot be fragmented (as opposed to not needing
    /// it, or a caller's mistake writing a fragment): what `FragFails` counts.
    fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::MtuTooSmall { .. }
                | Self::DontFragment { .. }
                | Self::HeaderTooLong { .. }
                | Self::TooLong { .. }
                | Self::AlreadyFragment
        )
    }
}

/// How a datagram's payload is cut: every fragment carries the same headers and
/// `data_per_fragment` bytes of data (a multiple of 8), the last one the rest (RFC 791 §3.2,
/// RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentPlan {
    header_len: usize,
    payload_len: usize,
    data_per_fragment: usize,
    count: usize,
}

impl FragmentPlan {
    /// The plan for `payload_len` bytes of fragmentable data behind `unfragmentable_len` bytes
    /// of headers (the IPv4 header with options; the IPv6 Per-Fragment headers) over `mtu`.
    /// Refuses MTUs below the version's minimum, datagrams that fit (send those whole) and
    /// datagrams longer than the version allows.
    pub fn new<I: FragmentationIpExt>(
        mtu: u32,
        unfragmentable_len: usize,
        payload_len: usize,
    ) -> Result<Self, FragmentationError> {
        if mtu < u32::from(I::MINIMUM_LINK_MTU) {
            return Err(FragmentationError::MtuTooSmall { mtu, min: I::MINIMUM_LINK_MTU });
        }
        let len = unfragmentable_len.saturating_add(payload_len);
        if len > I::MAX_DATAGRAM_LEN {
            return Err(FragmentationError::TooLong { len, max: I::MAX_DATAGRAM_LEN });
        }
        let mtu_len = usize::try_from(mtu).unwrap_or(usize::MAX);
        if len <= mtu_len {
            return Err(FragmentationError::NotNeeded { len, mtu });
        }
        let header_len = unfragmentable_len + I::FRAGMENT_HEADER_OVERHEAD;
        let data_per_fragment = mtu_len.saturating_sub(header_len) / 8 * 8;
        if data_per_fragment == 0 {
            return Err(FragmentationError::HeaderTooLong { header_len, mtu });
        }
        Ok(Self {
            header_len,
            payload_len,
            data_per_fragment,
            count: payload_len.div_ceil(data_per_fragment),
        })
    }

    /// How many fragments.
    pub fn fragment_count(&self) -> usize {
        self.count
    }

    /// Header bytes of every fragment (IPv6: Fragment header included).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Bytes of fragmentable data planned for.
    pub fn payload_len(&self) -> usize {
        self.payload_len
    }

    /// Data bytes of every fragment but the last.
    pub fn data_per_fragment(&self) -> usize {
        self.data_per_fragment
    }

    /// The bytes of the payload fragment `index` carries.
    pub fn data_range(&self, index: usize) -> Result<Range<usize>, FragmentationError> {
        if index >= self.count {
            return Err(FragmentationError::NoSuchFragment { index, count: self.count });
        }
        let start = index * self.data_per_fragment;
        Ok(start..(start + self.data_per_fragment).min(self.payload_len))
    }

    /// The length of fragment `index`, headers included: what its buffer must hold.
    pub fn fragment_len(&self, index: usize) -> Result<usize, FragmentationError> {
        self.data_range(index).map(|range| self.header_len + range.len())
    }

    /// Whether `index` is the last fragment.
    fn is_last(&self, index: usize) -> bool {
        index + 1 == self.count
    }

    /// Checks `payload` against the plan and returns fragment `index`'s range and its part of
    /// the payload.
    fn data<'p>(
        &self,
        index: usize,
        payload: &'p [u8],
    ) -> Result<(Range<usize>, &'p [u8]), FragmentationError> {
        if payload.len() != self.payload_len {
            return Err(FragmentationError::PayloadLength {
                expected: self.payload_len,
                actual: payload.len(),
            });
        }
        let range = self.data_range(index)?;
        Ok((range.clone(), &payload[range]))
    }
}

/// Counts a planning result: a refusal that means the datagram cannot go out is a
/// `FragFails`.
fn count_plan<T>(
    result: Result<T, FragmentationError>,
    counters: &mut FragmentationCounters,
) -> Result<T, FragmentationError> {
    if result.as_ref().is_err_and(FragmentationError::is_failure) {
        counters.frag_fails += 1;
    }
    result
}

/// Writes `header` then `data` at the start of `out`; returns the fragment's length.
fn write_fragment<P: PacketBuilder>(
    header: &P,
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, FragmentationError> {
    let header_len = header.constraints().header_len;
    let len = header_len + data.len();
    let out_len = out.len();
    let target =
        out.get_mut(..len).ok_or(FragmentationError::BufferTooSmall { needed: len, len: out_len })?;
    target[header_len..].copy_from_slice(data);
    let mut buf = Buf::new(target, header_len..len);
    buf.encapsulate(header)?;
    Ok(len)
}

/// Counts a written fragment: `FragCreates`, and `FragOKs` with the last one.
fn count_written(
    result: Result<usize, FragmentationError>,
    last: bool,
    counters: &mut FragmentationCounters,
) -> Result<usize, FragmentationError> {
    if result.is_ok() {
        counters.frag_creates += 1;
        if last {
            counters.frag_oks += 1;
        }
    }
    result
}

/// Fragments an IPv4 datagram (RFC 791 §3.2).
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Fragmenter<'a> {
    datagram: Ipv4Builder<'a>,
    plan: FragmentPlan,
}

impl<'a> Ipv4Fragmenter<'a> {
    /// Plans fragments of the datagram with header `datagram` and `payload_len` bytes of
    /// payload over `mtu`. `datagram` may itself be a fragment (a forwarder fragmenting
    /// again): offsets add up and the last piece keeps its More Fragments flag.
    pub fn new(
        datagram: Ipv4Builder<'a>,
        payload_len: usize,
        mtu: u32,
        counters: &mut FragmentationCounters,
    ) -> Result<Self, FragmentationError> {
        let plan = FragmentPlan::new::<Ipv4>(mtu, datagram.header_len(), payload_len).and_then(|plan| {
            // RFC 791 §3.2: a datagram marked Don't Fragment is not fragmented.
            if datagram.dont_fragment {
                let len = datagram.header_len() + payload_len;
                return Err(FragmentationError::DontFragment { len, mtu });
            }
            Ok(plan)
        });
        Ok(Self { datagram, plan: count_plan(plan, counters)? })
    }

    /// The plan.
    pub fn plan(&self) -> &FragmentPlan {
        &self.plan
    }

    /// Writes fragment `index` of `payload` (the whole payload planned for) at the start of
    /// `out`; returns its length. Allocates nothing.
    pub fn serialize(
        &self,
        index: usize,
        payload: &[u8],
        out: &mut [u8],
        counters: &mut FragmentationCounters,
    ) -> Result<usize, FragmentationError> {
        let result = self.plan.data(index, payload).and_then(|(range, data)| {
            let mut options = [0; MAX_OPTIONS_LEN];
            let header = self.datagram.fragment(range.start, self.plan.is_last(index), &mut options).ok_or(
                FragmentationError::TooLong {
                    len: self.datagram.fragment_offset.bytes() + range.end,
                    max: FragmentOffset::MAX_UNITS as usize * 8,
                },
            )?;
            write_fragment(&header, data, out)
        });
        count_written(result, self.plan.is_last(index), counters)
    }
}

/// Fragments an IPv6 packet at its source (RFC 8200 §4.5).
#[derive(Clone, Copy, Debug)]
pub struct Ipv6Fragmenter<'a> {
    packet: Ipv6Builder<'a>,
    id: u32,
    plan: FragmentPlan,
}

impl<'a> Ipv6Fragmenter<'a> {
    /// Plans fragments of the packet with header `packet` and `fragmentable_len` bytes of
    /// Fragmentable Part over `mtu`, with Identification `id`. `packet.ext_headers` must hold
    /// only the Per-Fragment headers (Hop-by-Hop, Routing, and Destination Options for the
    /// routing destinations); extension headers for the final destination belong to the
    /// Fragmentable Part, with `packet.proto` naming the first of them (RFC 8200 §4.5). `id`
    /// should be unpredictable (RFC 7739 §5): see [`Ipv6FragmentIdGenerator`].
    pub fn new(
        packet: Ipv6Builder<'a>,
        fragmentable_len: usize,
        mtu: u32,
        id: u32,
        counters: &mut FragmentationCounters,
    ) -> Result<Self, FragmentationError> {
        let plan = if packet.fragment.is_some() {
            Err(FragmentationError::AlreadyFragment)
        } else {
            FragmentPlan::new::<Ipv6>(mtu, packet.header_len(), fragmentable_len)
        };
        Ok(Self { packet, id, plan: count_plan(plan, counters)? })
    }

    /// The plan.
    pub fn plan(&self) -> &FragmentPlan {
        &self.plan
    }

    /// Writes fragment `index` of `fragmentable` (the whole Fragmentable Part planned for)
    /// at the start of `out`; returns its length. Allocates nothing.
    pub fn serialize(
        &self,
        index: usize,
        fragmentable: &[u8],
        out: &mut [u8],
        counters: &mut FragmentationCounters,
    ) -> Result<usize, FragmentationError> {
        let last = self.plan.is_last(index);
        let result = self.plan.data(index, fragmentable).and_then(|(range, data)| {
            let offset = FragmentOffset::from_bytes(range.start)
                .ok_or(FragmentationError::TooLong { len: range.end, max: MAX_PAYLOAD_LEN })?;
            let fragment = FragmentHeader { offset, more_fragments: !last, id: self.id };
            write_fragment(&Ipv6Builder { fragment: Some(fragment), ..self.packet }, data, out)
        });
        count_written(result, last, counters)
    }
}

/// IPv6 fragment Identifications that outsiders cannot predict (RFC 7739 §5): SipHash-2-4
/// under a secret key of the addresses and a counter, so values neither follow a global
/// sequence an observer could sample nor repeat for a destination before the counter wraps
/// (apart from hash collisions, which RFC 7739 §5.4 accepts for random values).
#[derive(Clone, Debug)]
pub struct Ipv6FragmentIdGenerator {
    key: SipKey,
    counter: u64,
}

impl Ipv6FragmentIdGenerator {
    /// A generator with secret `key`.
    pub fn new(key: SipKey) -> Self {
        Self { key, counter: 0 }
    }

    /// A generator with a key drawn from `rng`.
    pub fn new_random<R: RngContext>(rng: &mut R) -> Self {
        let mut key = [0; 16];
        key[..8].copy_from_slice(&rng.random_u64().to_le_bytes());
        key[8..].copy_from_slice(&rng.random_u64().to_le_bytes());
        Self::new(SipKey(key))
    }

    /// The Identification for the next packet fragmented from `src` to `dst`.
    pub fn next_id(&mut self, src: Ipv6Addr, dst: Ipv6Addr) -> u32 {
        let mut hasher = SipHasher::new(&self.key);
        hasher.write(&src.bytes());
        hasher.write(&dst.bytes());
        hasher.write_u64(self.counter);
        self.counter = self.counter.wrapping_add(1);
        hasher.finish() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Ipv4Addr;
    use crate::buf::{ParsablePacket, Serializer};
    use crate::device::DeviceId;
    use crate::ip::reassembly::{
        FragmentData, FragmentOutcome, Reassembly, ReassemblyIpExt, ReassemblyTimerId,
    };
    use crate::testutil::fake::FakeCtx;
    use crate::wire::ipv4::{Ipv4Options, Ipv4Packet};
    use crate::wire::ipv6::{ExtHeaderChain, Ipv6Packet};
    use crate::wire::IpProto;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const DEV: DeviceId = DeviceId::new(1);
    const SRC4: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 1]);
    const DST4: Ipv4Addr = Ipv4Addr::new([192, 0, 2, 2]);
    const SRC6: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    const DST6: Ipv6Addr = Ipv6Addr::from_segments([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]);
    /// Router Alert (copied into every fragment) and a Timestamp-like option 68 (first
    /// fragment only), RFC 791 §3.1.
    const OPTIONS: [u8; 8] = [0x94, 4, 0, 0, 68, 4, 1, 2];
    const PAYLOAD_LEN: usize = 60_000;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 13 + i / 257) as u8).collect()
    }

    fn ipv4_datagram() -> Ipv4Builder<'static> {
        Ipv4Builder {
            id: 0x1234,
            options: Ipv4Options::new(&OPTIONS).unwrap(),
            ..Ipv4Builder::new(SRC4, DST4, 64, IpProto::UDP)
        }
    }

    fn ipv6_packet() -> Ipv6Builder<'static> {
        Ipv6Builder {
            ext_headers: Some(ExtHeaderChain::HOP_BY_HOP_ROUTER_ALERT_MLD),
            ..Ipv6Builder::new(SRC6, DST6, 64, IpProto::UDP)
        }
    }

    /// Writes every fragment into its own buffer of exactly the MTU.
    fn write_all(count: usize, mtu: u32, mut write: impl FnMut(usize, &mut [u8]) -> usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|index| {
                let mut out = vec![0; mtu as usize];
                let len = write(index, &mut out);
                out.truncate(len);
                out
            })
            .collect()
    }

    /// Feeds `fragments` in `order` to a fresh table; returns what the last one completed.
    fn reassemble<I: ReassemblyIpExt>(
        fragments: &[Vec<u8>],
        order: &[usize],
        parse: impl for<'a> Fn(&'a [u8]) -> FragmentData<'a, I>,
    ) -> Vec<u8> {
        let mut table = Reassembly::<I>::default();
        let mut ctx = FakeCtx::<ReassemblyTimerId<I>>::new(1);
        let (last, rest) = order.split_last().unwrap();
        for &index in rest {
            let outcome = table.process_fragment(&mut ctx, parse(&fragments[index])).unwrap();
            assert!(matches!(outcome, FragmentOutcome::Pending));
        }
        match table.process_fragment(&mut ctx, parse(&fragments[*last])).unwrap() {
            FragmentOutcome::Reassembled(buf) => buf.body().to_vec(),
            other => panic!("not reassembled: {other:?}"),
        }
    }

    fn ipv4_fragments(mtu: u32, payload: &[u8]) -> (Vec<Vec<u8>>, FragmentationCounters) {
        let mut counters = FragmentationCounters::default();
        let fragmenter = Ipv4Fragmenter::new(ipv4_datagram(), payload.len(), mtu, &mut counters).unwrap();
        let count = fragmenter.plan().fragment_count();
        let fragments =
            write_all(count, mtu, |i, out| fragmenter.serialize(i, payload, out, &mut counters).unwrap());
        (fragments, counters)
    }

    fn ipv6_fragments(mtu: u32, payload: &[u8]) -> (Vec<Vec<u8>>, FragmentationCounters) {
        let mut counters = FragmentationCounters::default();
        let fragmenter =
            Ipv6Fragmenter::new(ipv6_packet(), payload.len(), mtu, 0xabcd, &mut counters).unwrap();
        let count = fragmenter.plan().fragment_count();
        let fragments =
            write_all(count, mtu, |i, out| fragmenter.serialize(i, payload, out, &mut counters).unwrap());
        (fragments, counters)
    }

    /// Every order of the fragments of the datagram planned by `plan`.
    fn shuffled(plan: Result<FragmentPlan, FragmentationError>) -> impl Strategy<Value = Vec<usize>> {
        Just((0..plan.unwrap().fragment_count()).collect::<Vec<_>>()).prop_shuffle()
    }

    fn ipv4_plan(mtu: u32) -> Result<FragmentPlan, FragmentationError> {
        FragmentPlan::new::<Ipv4>(mtu, ipv4_datagram().header_len(), PAYLOAD_LEN)
    }

    fn ipv6_plan(mtu: u32) -> Result<FragmentPlan, FragmentationError> {
        FragmentPlan::new::<Ipv6>(mtu, ipv6_packet().header_len(), PAYLOAD_LEN)
    }

    fn ipv4_round_trip(mtu: u32, order: &[usize]) {
        let payload = pattern(PAYLOAD_LEN);
        let (fragments, counters) = ipv4_fragments(mtu, &payload);
        assert_eq!(
            counters,
            FragmentationCounters { frag_oks: 1, frag_fails: 0, frag_creates: order.len() as u64 }
        );
        let original = (&payload[..]).encapsulate(ipv4_datagram()).serialize_vec().unwrap().into_inner();
        let bytes =
            reassemble::<Ipv4>(&fragments, order, |b| FragmentData::parse_ipv4(DEV, b).unwrap().unwrap());
        assert_eq!(bytes, original);
    }

    fn ipv6_round_trip(mtu: u32, order: &[usize]) {
        let payload = pattern(PAYLOAD_LEN);
        let (fragments, counters) = ipv6_fragments(mtu, &payload);
        assert_eq!(counters.frag_creates, order.len() as u64);
        let original = (&payload[..]).encapsulate(ipv6_packet()).serialize_vec().unwrap().into_inner();
        let bytes =
            reassemble::<Ipv6>(&fragments, order, |b| FragmentData::parse_ipv6(DEV, b).unwrap().unwrap());
        assert_eq!(bytes, original);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn rfc791_3_2_60k_ipv4_over_mtu_1500_any_order_reassembles_exactly(order in shuffled(ipv4_plan(1500))) {
            ipv4_round_trip(1500, &order);
        }

        #[test]
        fn rfc791_3_2_60k_ipv4_over_mtu_1280_any_order_reassembles_exactly(order in shuffled(ipv4_plan(1280))) {
            ipv4_round_trip(1280, &order);
        }

        #[test]
        fn rfc8200_4_5_60k_ipv6_over_mtu_1500_any_order_reassembles_exactly(order in shuffled(ipv6_plan(1500))) {
            ipv6_round_trip(1500, &order);
        }

        #[test]
        fn rfc8200_4_5_60k_ipv6_over_mtu_1280_any_order_reassembles_exactly(order in shuffled(ipv6_plan(1280))) {
            ipv6_round_trip(1280, &order);
        }
    }

    proptest! {
        #[test]
        fn fragment_plans_never_exceed_the_mtu(
            v6 in any::<bool>(),
            mtu in 68u32..9001,
            header_words in 0usize..40,
            payload_len in 0usize..65536,
        ) {
            let (result, header_len) = if v6 {
                let header_len = FIXED_HEADER_LEN + header_words * 8;
                (FragmentPlan::new::<Ipv6>(mtu, header_len, payload_len), header_len)
            } else {
                let header_len = 20 + (header_words % 11) * 4;
                (FragmentPlan::new::<Ipv4>(mtu, header_len, payload_len), header_len)
            };
            let Ok(plan) = result else { return Ok(()) };
            prop_assert!(header_len + payload_len > mtu as usize);
            let mut next = 0;
            for index in 0..plan.fragment_count() {
                let range = plan.data_range(index).unwrap();
                prop_assert_eq!(range.start, next);
                prop_assert_eq!(range.start % 8, 0);
                prop_assert!(plan.fragment_len(index).unwrap() <= mtu as usize);
                if index + 1 < plan.fragment_count() {
                    prop_assert_eq!(range.len(), plan.data_per_fragment());
                    prop_assert_eq!(range.len() % 8, 0);
                } else {
                    prop_assert!(!range.is_empty());
                }
                next = range.end;
            }
            prop_assert_eq!(next, payload_len);
            prop_assert!(plan.data_range(plan.fragment_count()).is_err());
        }
    }

    #[test]
    fn fragment_counts_of_the_60k_datagrams() {
        // 28-byte IPv4 header: 1472 and 1248 bytes of data per fragment; 56 bytes of IPv6
        // headers (fixed, Hop-by-Hop, Fragment): 1440 and 1224.
        let counts = [ipv4_plan(1500), ipv4_plan(1280), ipv6_plan(1500), ipv6_plan(1280)]
            .map(|plan| plan.map(|plan| (plan.data_per_fragment(), plan.fragment_count())));
        assert_eq!(counts, [Ok((1472, 41)), Ok((1248, 49)), Ok((1440, 42)), Ok((1224, 50))]);
    }

    #[test]
    fn rfc791_3_2_dont_fragment_is_refused_and_counted() {
        let mut counters = FragmentationCounters::default();
        let datagram = Ipv4Builder { dont_fragment: true, ..ipv4_datagram() };
        assert_eq!(
            Ipv4Fragmenter::new(datagram, 1500, 1500, &mut counters).unwrap_err(),
            FragmentationError::DontFragment { len: 1528, mtu: 1500 }
        );
        assert_eq!(counters.frag_fails, 1);
        // A datagram that fits needs no fragmentation, Don't Fragment or not.
        assert_eq!(
            Ipv4Fragmenter::new(datagram, 1472, 1500, &mut counters).unwrap_err(),
            FragmentationError::NotNeeded { len: 1500, mtu: 1500 }
        );
        assert_eq!(counters.frag_fails, 1);
    }

    #[test]
    fn rfc791_3_2_and_rfc8200_5_mtu_below_the_minimum_is_refused() {
        let mut counters = FragmentationCounters::default();
        assert_eq!(
            Ipv4Fragmenter::new(ipv4_datagram(), 1000, 67, &mut counters).unwrap_err(),
            FragmentationError::MtuTooSmall { mtu: 67, min: 68 }
        );
        assert!(Ipv4Fragmenter::new(ipv4_datagram(), 1000, 68, &mut counters).is_ok());
        assert_eq!(
            Ipv6Fragmenter::new(ipv6_packet(), 2000, 1279, 1, &mut counters).unwrap_err(),
            FragmentationError::MtuTooSmall { mtu: 1279, min: 1280 }
        );
        assert_eq!(counters.frag_fails, 2);
    }

    #[test]
    fn rfc8200_4_5_headers_leaving_no_room_for_data_are_refused() {
        assert_eq!(
            FragmentPlan::new::<Ipv6>(1280, 1280, 100).unwrap_err(),
            FragmentationError::HeaderTooLong { header_len: 1288, mtu: 1280 }
        );
        assert_eq!(
            FragmentPlan::new::<Ipv4>(1500, 60, 65536).unwrap_err(),
            FragmentationError::TooLong { len: 65596, max: 65535 }
        );
    }

    #[test]
    fn rfc791_3_2_first_fragment_has_every_option_later_ones_only_copied() {
        let payload = pattern(3000);
        let (fragments, _) = ipv4_fragments(1500, &payload);
        assert_eq!(fragments.len(), 3);
        let first = Ipv4Packet::parse_bytes(&fragments[0][..], ()).unwrap();
        assert_eq!(first.options().bytes(), &OPTIONS);
        assert!(first.more_fragments());
        assert_eq!(first.body(), &payload[..1472]);
        let last = Ipv4Packet::parse_bytes(&fragments[2][..], ()).unwrap();
        assert_eq!(last.options().bytes(), &[0x94, 4, 0, 0, 1, 1, 1, 1]);
        assert_eq!((last.more_fragments(), last.fragment_offset().bytes(), last.id()), (false, 2944, 0x1234));
        assert_eq!(last.body(), &payload[2944..]);
    }

    #[test]
    fn rfc8200_4_5_fragment_header_follows_the_per_fragment_headers() {
        let payload = pattern(3000);
        let (fragments, _) = ipv6_fragments(1280, &payload);
        assert_eq!(fragments.len(), 3);
        for (index, bytes) in fragments.iter().enumerate() {
            assert!(bytes.len() <= 1280);
            let packet = Ipv6Packet::parse_bytes(&bytes[..], ()).unwrap();
            assert_eq!(packet.per_fragment_headers_len(), Some(48));
            assert_eq!(packet.router_alert(), Some(0), "the Hop-by-Hop header is in every fragment");
            let header = packet.fragment_header().unwrap();
            assert_eq!((header.id, header.more_fragments), (0xabcd, index < 2));
            assert_eq!(header.offset.bytes(), index * 1224);
        }
        let mut counters = FragmentationCounters::default();
        let fragment = FragmentHeader { offset: FragmentOffset::ZERO, more_fragments: true, id: 1 };
        let already = Ipv6Builder { fragment: Some(fragment), ..ipv6_packet() };
        assert_eq!(
            Ipv6Fragmenter::new(already, 3000, 1280, 2, &mut counters).unwrap_err(),
            FragmentationError::AlreadyFragment
        );
        assert_eq!(counters.frag_fails, 1);
    }

    #[test]
    fn serialize_checks_its_arguments() {
        let mut counters = FragmentationCounters::default();
        let payload = pattern(3000);
        let fragmenter = Ipv4Fragmenter::new(ipv4_datagram(), payload.len(), 1500, &mut counters).unwrap();
        let mut out = [0; 1500];
        assert_eq!(
            fragmenter.serialize(3, &payload, &mut out, &mut counters).unwrap_err(),
            FragmentationError::NoSuchFragment { index: 3, count: 3 }
        );
        assert_eq!(
            fragmenter.serialize(0, &payload[1..], &mut out, &mut counters).unwrap_err(),
            FragmentationError::PayloadLength { expected: 3000, actual: 2999 }
        );
        assert_eq!(
            fragmenter.serialize(0, &payload, &mut out[..1499], &mut counters).unwrap_err(),
            FragmentationError::BufferTooSmall { needed: 1500, len: 1499 }
        );
        assert_eq!(counters, FragmentationCounters::default());
        assert_eq!(fragmenter.serialize(2, &payload, &mut out, &mut counters), Ok(28 + 56));
        assert_eq!(counters, FragmentationCounters { frag_oks: 1, frag_fails: 0, frag_creates: 1 });
    }

    #[test]
    fn rfc7739_5_ipv6_ids_are_keyed_and_do_not_repeat_in_sequence() {
        let mut a = Ipv6FragmentIdGenerator::new(SipKey([1; 16]));
        let mut b = Ipv6FragmentIdGenerator::new(SipKey([1; 16]));
        let mut other_key = Ipv6FragmentIdGenerator::new(SipKey([2; 16]));
        let ids: Vec<u32> = (0..1000).map(|_| a.next_id(SRC6, DST6)).collect();
        let same: Vec<u32> = (0..1000).map(|_| b.next_id(SRC6, DST6)).collect();
        let keyed: Vec<u32> = (0..1000).map(|_| other_key.next_id(SRC6, DST6)).collect();
        assert_eq!(ids, same, "deterministic for a key");
        assert_ne!(ids, keyed, "another key gives other values");
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(ids.windows(2).any(|w| w[1] != w[0].wrapping_add(1)), "not a plain counter");
        let mut rng = crate::testutil::fake::FakeRng::new(3);
        let mut random = Ipv6FragmentIdGenerator::new_random(&mut rng);
        assert_ne!(random.next_id(SRC6, DST6), ids[0]);
    }
}
