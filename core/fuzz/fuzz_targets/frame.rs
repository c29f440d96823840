//! Whole-frame ingestion: an Ethernet frame taken apart down to the transport header, and
//! anything that parses must re-serialize to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::testutil::reserialize::reserialize_frame;

fuzz_target!(|data: &[u8]| {
    if let Ok(again) = reserialize_frame(data) {
        assert_eq!(again.bytes, data, "layers {:?}", again.layers);
    }
});
