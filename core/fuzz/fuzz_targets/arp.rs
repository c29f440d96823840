//! ARP packets: parse, and re-serialize what parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::testutil::reserialize::reserialize_arp;

fuzz_target!(|data: &[u8]| {
    if let Ok(again) = reserialize_arp(data) {
        assert_eq!(again.bytes, data);
    }
});
