//! Ethernet II / 802.1Q frames: parse, and re-serialize what parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::buf::{ParsablePacket, Serializer};
use netstack_core::wire::ethernet::EthernetFrame;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = EthernetFrame::parse_bytes(data, ()) {
        let again = frame.body().encapsulate(frame.builder()).serialize_vec().expect("re-serialize");
        assert_eq!(again.body(), data);
    }
});
