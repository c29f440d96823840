//! ICMPv4 messages, checksum fixed up unless the first byte's low bit says otherwise: the
//! typed decoder must not panic, and whatever parses must re-serialize exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::testutil::reserialize::reserialize_icmpv4;
use netstack_core_fuzz::plain_checksum_case;

fuzz_target!(|data: &[u8]| {
    if let Some((message, Ok(again))) = plain_checksum_case(data, reserialize_icmpv4) {
        assert_eq!(again.bytes, message);
    }
});
