//! IPv4 packets with options, and what they carry: the header checksum is fixed up so the
//! fuzzer reaches the option and length checks; whatever parses must re-serialize exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::testutil::reserialize::reserialize_ipv4;
use netstack_core_fuzz::fix_ipv4_header_checksum;

fuzz_target!(|data: &[u8]| {
    let mut packet = data.to_vec();
    fix_ipv4_header_checksum(&mut packet);
    if let Ok(again) = reserialize_ipv4(&packet) {
        assert_eq!(again.bytes, packet, "layers {:?}", again.layers);
    }
});
