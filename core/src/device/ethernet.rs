//! Ethernet devices: which received frames are for this host (IEEE 802.3 destination
//! filtering with a multicast filter), what they carry, and the header of frames it sends.

use alloc::vec::Vec;

use crate::addr::{Mac, UnicastAddr};
use crate::buf::Buf;
use crate::wire::ethernet::{EthernetBuilder, EthernetFrame, MIN_BODY_LEN};
use crate::wire::{EtherType, ParseError};

/// How a received frame was addressed (Linux's packet types HOST, MULTICAST, BROADCAST).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameDestination {
    /// To this device's MAC.
    Individual,
    /// To a multicast group the device listens to.
    Multicast,
    /// To everyone.
    Broadcast,
}

/// Settings of an Ethernet device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetConfig {
    /// The largest IP packet the device carries (Linux's default 1500).
    pub mtu: u32,
    /// Pad frames to the 60-byte minimum in software: needed on a real wire, not on TAP
    /// devices or AF_PACKET, where the kernel or the NIC pads.
    pub pad_short_frames: bool,
    /// Multicast groups the filter holds exactly; beyond that the device accepts every
    /// multicast frame (all-multicast mode, as a NIC with a full filter does), so joining
    /// never fails and memory stays bounded.
    pub max_multicast_groups: usize,
    /// TX checksum offload (Linux's `tx-checksumming`): the device finishes the UDP checksum
    /// of the unicast, unfragmented datagrams the stack sends to other hosts through it,
    /// which leave with the pseudo-header sum in the field (`CHECKSUM_PARTIAL`, see
    /// [`UdpChecksum::Offload`](crate::wire::udp::UdpChecksum::Offload)). Only for a device
    /// that does finish it (no backend of the bindings does yet); off, the stack computes
    /// every checksum in software.
    pub tx_checksum_offload: bool,
}

impl Default for EthernetConfig {
    fn default() -> Self {
        Self { mtu: 1500, pad_short_frames: false, max_multicast_groups: 256, tx_checksum_offload: false }
    }
}

/// Why a received frame was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EthernetRxDrop {
    /// The header did not parse.
    #[error(transparent)]
    Malformed(#[from] ParseError),
    /// Addressed to another host or to a group the device does not listen to.
    #[error("not addressed to this device")]
    NotForUs,
    /// The source MAC is a group address, which IEEE 802.3 forbids.
    #[error("multicast source address")]
    MulticastSource,
    /// An 802.1Q-tagged frame on a device without VLANs.
    #[error("VLAN-tagged frame")]
    VlanTagged,
    /// A protocol this stack does not speak.
    #[error("unsupported EtherType {0:#06x}")]
    UnsupportedEtherType(u16),
}

/// What an Ethernet device counted on receive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthernetRxCounters {
    /// Frames accepted.
    pub frames: u64,
    /// Bytes of accepted frames, headers included.
    pub bytes: u64,
    /// Accepted frames addressed to a multicast group.
    pub multicast: u64,
    /// Accepted frames addressed to broadcast.
    pub broadcast: u64,
    /// Dropped: the header did not parse.
    pub drop_malformed: u64,
    /// Dropped: addressed elsewhere.
    pub drop_not_for_us: u64,
    /// Dropped: multicast source MAC.
    pub drop_multicast_source: u64,
    /// Dropped: VLAN-tagged.
    pub drop_vlan_tagged: u64,
    /// Dropped: unknown EtherType.
    pub drop_unsupported_ethertype: u64,
}

/// The multicast MACs a device listens to, reference counted (several IP groups, or several
/// sockets, can map to one MAC) and bounded.
#[derive(Clone, Debug, Default)]
pub struct MulticastFilter {
    groups: Vec<(Mac, u32)>,
    limit: usize,
    overflowed: u32,
}

impl MulticastFilter {
    /// An empty filter holding at most `limit` MACs exactly.
    pub fn new(limit: usize) -> Self {
        Self { groups: Vec::new(), limit, overflowed: 0 }
    }

    /// Starts listening to `mac` (one more reference).
    pub fn join(&mut self, mac: Mac) {
        if let Some((_, refs)) = self.groups.iter_mut().find(|(m, _)| *m == mac) {
            *refs += 1;
        } else if self.groups.len() < self.limit {
            self.groups.push((mac, 1));
        } else {
            self.overflowed += 1;
        }
    }

    /// Drops one reference to `mac`; stops listening when none is left.
    pub fn leave(&mut self, mac: Mac) {
        if let Some(i) = self.groups.iter().position(|(m, _)| *m == mac) {
            self.groups[i].1 -= 1;
            if self.groups[i].1 == 0 {
                self.groups.swap_remove(i);
            }
        } else {
            self.overflowed = self.overflowed.saturating_sub(1);
        }
    }

    /// Whether frames to `mac` are accepted.
    pub fn accepts(&self, mac: Mac) -> bool {
        self.overflowed > 0 || self.groups.iter().any(|(m, _)| *m == mac)
    }

    /// Whether the filter overflowed into all-multicast mode.
    pub fn all_multicast(&self) -> bool {
        self.overflowed > 0
    }
}

/// A received frame the device accepted; the buffer's body is now its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceivedFrame {
    /// The payload's protocol: IPv4, IPv6 or ARP.
    pub ethertype: EtherType,
    /// The sender.
    pub src: Mac,
    /// How it was addressed.
    pub destination: FrameDestination,
}

/// An Ethernet device's link-layer state.
#[derive(Clone, Debug)]
pub struct EthernetDevice {
    mac: UnicastAddr<Mac>,
    config: EthernetConfig,
    filter: MulticastFilter,
    counters: EthernetRxCounters,
}

impl EthernetDevice {
    /// A device with address `mac`.
    pub fn new(mac: UnicastAddr<Mac>, config: EthernetConfig) -> Self {
        Self {
            mac,
            config,
            filter: MulticastFilter::new(config.max_multicast_groups),
            counters: Default::default(),
        }
    }

    /// The device's MAC.
    pub fn mac(&self) -> UnicastAddr<Mac> {
        self.mac
    }

    /// The device's settings.
    pub fn config(&self) -> &EthernetConfig {
        &self.config
    }

    /// Changes the MTU.
    pub fn set_mtu(&mut self, mtu: u32) {
        self.config.mtu = mtu;
    }

    /// The multicast filter, to join and leave groups.
    pub fn multicast_filter(&mut self) -> &mut MulticastFilter {
        &mut self.filter
    }

    /// Receive counters.
    pub fn counters(&self) -> EthernetRxCounters {
        self.counters
    }

    /// Parses the Ethernet header at the front of `buf` in place, decides whether the frame
    /// is for this device and what it carries, and counts it. On success the buffer's body
    /// is the payload.
    pub fn receive<B: AsRef<[u8]>>(&mut self, buf: &mut Buf<B>) -> Result<ReceivedFrame, EthernetRxDrop> {
        let len = buf.len() as u64;
        let result = self.classify(buf);
        let c = &mut self.counters;
        match &result {
            Ok(frame) => {
                c.frames += 1;
                c.bytes += len;
                match frame.destination {
                    FrameDestination::Multicast => c.multicast += 1,
                    FrameDestination::Broadcast => c.broadcast += 1,
                    FrameDestination::Individual => {}
                }
            }
            Err(EthernetRxDrop::Malformed(_)) => c.drop_malformed += 1,
            Err(EthernetRxDrop::NotForUs) => c.drop_not_for_us += 1,
            Err(EthernetRxDrop::MulticastSource) => c.drop_multicast_source += 1,
            Err(EthernetRxDrop::VlanTagged) => c.drop_vlan_tagged += 1,
            Err(EthernetRxDrop::UnsupportedEtherType(_)) => c.drop_unsupported_ethertype += 1,
        }
        result
    }

    fn classify<B: AsRef<[u8]>>(&self, buf: &mut Buf<B>) -> Result<ReceivedFrame, EthernetRxDrop> {
        let frame = buf.parse::<EthernetFrame<&[u8]>>(())?;
        let dst = frame.dst_mac();
        // IEEE 802.3 clause 3.2.3: individual, broadcast, or a group this station is in.
        let destination = if dst == *self.mac {
            FrameDestination::Individual
        } else if dst.is_broadcast() {
            FrameDestination::Broadcast
        } else if dst.is_multicast() && self.filter.accepts(dst) {
            FrameDestination::Multicast
        } else {
            return Err(EthernetRxDrop::NotForUs);
        };
        // IEEE 802.3 clause 3.2.3: a source address is always an individual address.
        if frame.src_mac().is_multicast() {
            return Err(EthernetRxDrop::MulticastSource);
        }
        if frame.vlan().is_some() {
            return Err(EthernetRxDrop::VlanTagged);
        }
        let ethertype = frame.ethertype();
        if ![EtherType::IPV4, EtherType::IPV6, EtherType::ARP].contains(&ethertype) {
            return Err(EthernetRxDrop::UnsupportedEtherType(ethertype.0));
        }
        Ok(ReceivedFrame { ethertype, src: frame.src_mac(), destination })
    }

    /// The header of a frame from this device to `dst` carrying `ethertype`.
    pub fn builder(&self, dst: Mac, ethertype: EtherType) -> EthernetBuilder {
        EthernetBuilder {
            min_body_len: if self.config.pad_short_frames { MIN_BODY_LEN } else { 0 },
            ..EthernetBuilder::new(*self.mac, dst, ethertype)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Ipv4Addr;
    use crate::buf::Serializer;
    use alloc::vec;

    const OURS: Mac = Mac::new([0x02, 0, 0, 0, 0, 1]);
    const PEER: Mac = Mac::new([0x02, 0, 0, 0, 0, 2]);

    fn device() -> EthernetDevice {
        EthernetDevice::new(UnicastAddr::new(OURS).unwrap(), EthernetConfig::default())
    }

    fn frame(src: Mac, dst: Mac, ethertype: EtherType) -> Vec<u8> {
        (&[0x45u8; 20][..])
            .encapsulate(EthernetBuilder { min_body_len: 0, ..EthernetBuilder::new(src, dst, ethertype) })
            .serialize_vec()
            .unwrap()
            .into_inner()
    }

    fn receive(dev: &mut EthernetDevice, bytes: &[u8]) -> Result<(ReceivedFrame, usize), EthernetRxDrop> {
        let mut buf = Buf::from_body(bytes);
        dev.receive(&mut buf).map(|r| (r, buf.len()))
    }

    #[test]
    fn ieee_802_3_3_2_3_destination_filtering() {
        let mut dev = device();
        let (got, payload) = receive(&mut dev, &frame(PEER, OURS, EtherType::IPV4)).unwrap();
        assert_eq!(
            got,
            ReceivedFrame {
                ethertype: EtherType::IPV4,
                src: PEER,
                destination: FrameDestination::Individual
            }
        );
        assert_eq!(payload, 20, "the body is left at the payload");
        assert_eq!(
            receive(&mut dev, &frame(PEER, Mac::BROADCAST, EtherType::ARP)).unwrap().0.destination,
            FrameDestination::Broadcast
        );
        assert_eq!(
            receive(&mut dev, &frame(PEER, Mac::new([0x02, 0, 0, 0, 0, 9]), EtherType::IPV4)),
            Err(EthernetRxDrop::NotForUs)
        );
        let group = Mac::from_ipv4_multicast(Ipv4Addr::new([224, 0, 0, 251]));
        assert_eq!(receive(&mut dev, &frame(PEER, group, EtherType::IPV4)), Err(EthernetRxDrop::NotForUs));
        dev.multicast_filter().join(group);
        assert_eq!(
            receive(&mut dev, &frame(PEER, group, EtherType::IPV4)).unwrap().0.destination,
            FrameDestination::Multicast
        );
        let c = dev.counters();
        assert_eq!((c.frames, c.broadcast, c.multicast, c.drop_not_for_us), (3, 1, 1, 2));
    }

    #[test]
    fn bogus_frames_are_dropped_by_reason() {
        let mut dev = device();
        assert_eq!(
            receive(&mut dev, &frame(Mac::BROADCAST, OURS, EtherType::IPV4)),
            Err(EthernetRxDrop::MulticastSource)
        );
        assert_eq!(
            receive(&mut dev, &frame(PEER, OURS, EtherType(0x88cc))),
            Err(EthernetRxDrop::UnsupportedEtherType(0x88cc))
        );
        assert!(matches!(receive(&mut dev, &[0u8; 10]), Err(EthernetRxDrop::Malformed(_))));
        let mut tagged = frame(PEER, OURS, EtherType::VLAN);
        tagged.splice(14..14, [0, 5, 0x08, 0x00]);
        assert_eq!(receive(&mut dev, &tagged), Err(EthernetRxDrop::VlanTagged));
        let c = dev.counters();
        assert_eq!(
            (c.drop_multicast_source, c.drop_unsupported_ethertype, c.drop_malformed, c.drop_vlan_tagged),
            (1, 1, 1, 1)
        );
        assert_eq!(c.frames, 0);
    }

    #[test]
    fn multicast_filter_counts_references_and_overflows_to_all_multicast() {
        let mut filter = MulticastFilter::new(2);
        let g = |n| Mac::new([0x01, 0, 0x5e, 0, 0, n]);
        filter.join(g(1));
        filter.join(g(1));
        filter.leave(g(1));
        assert!(filter.accepts(g(1)));
        filter.leave(g(1));
        assert!(!filter.accepts(g(1)));
        filter.join(g(1));
        filter.join(g(2));
        filter.join(g(3));
        assert!(filter.all_multicast() && filter.accepts(g(9)));
        filter.leave(g(3));
        assert!(!filter.all_multicast() && !filter.accepts(g(9)));
    }

    #[test]
    fn short_frames_are_padded_only_when_configured() {
        let mut dev = device();
        let unpadded =
            (&[0u8; 28][..]).encapsulate(dev.builder(PEER, EtherType::ARP)).serialize_vec().unwrap();
        assert_eq!(unpadded.len(), 42);
        dev.config.pad_short_frames = true;
        let padded = (&[0u8; 28][..]).encapsulate(dev.builder(PEER, EtherType::ARP)).serialize_vec().unwrap();
        assert_eq!(padded.len(), 60);
        assert_eq!(vec![0u8; 18], padded.body()[42..]);
    }
}
