//! IPv6 packets with extension headers, and what they carry: whatever parses must
//! re-serialize exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::testutil::reserialize::reserialize_ipv6;

fuzz_target!(|data: &[u8]| {
    if let Ok(again) = reserialize_ipv6(data) {
        assert_eq!(again.bytes, data, "layers {:?}", again.layers);
    }
});
