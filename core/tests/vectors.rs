//! Every frame the Linux kernel sent in the captures of `core/tests/vectors` parses through
//! every layer it carries and re-serializes from the parsed builders byte for byte.

use std::collections::BTreeMap;

use netstack_core::testutil::reserialize::reserialize_frame;
use netstack_core::testutil::vectors;
use netstack_core::wire::Layer;

#[test]
fn every_captured_frame_reserializes_byte_for_byte() {
    let mut parsed: BTreeMap<String, usize> = BTreeMap::new();
    for (name, pcap) in vectors::ALL {
        for (i, frame) in vectors::frames(pcap).enumerate() {
            let again = reserialize_frame(frame).unwrap_or_else(|e| panic!("{name} frame {}: {e}", i + 1));
            assert!(again.bytes == frame, "{name} frame {}: re-serialized bytes differ", i + 1);
            for layer in again.layers {
                *parsed.entry(layer.to_string()).or_default() += 1;
            }
        }
    }
    // Every frame was taken apart as deep as the stack parses: fragments to the IP layer,
    // everything else to the transport header, and every ICMP message (NDP and MLD included)
    // decoded into its typed form.
    let expected = [
        (Layer::Ethernet, 1159),
        (Layer::Arp, 2),
        (Layer::Ipv4, 1111),
        (Layer::Ipv6, 46),
        (Layer::Icmpv4, 15),
        (Layer::Icmpv6, 33),
        (Layer::Tcp, 1083),
        (Layer::Udp, 8),
    ];
    for (layer, count) in expected {
        assert_eq!(parsed.get(&layer.to_string()), Some(&count), "frames parsed at {layer}: {parsed:?}");
    }
}
