//! ICMPv4 messages, checksum fixed up unless the first byte's low bit says otherwise: the
//! typed decoder must not panic, and whatever parses must re-serialize exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::testutil::reserialize::reserialize_icmpv4;
use netstack_core_fuzz::{fix_plain_checksum, ICMP_CHECKSUM_OFFSET};

fuzz_target!(|data: &[u8]| {
    let Some((&control, message)) = data.split_first() else { return };
    let mut message = message.to_vec();
    if control & 1 == 0 {
        fix_plain_checksum(&mut message, ICMP_CHECKSUM_OFFSET);
    }
    if let Ok(again) = reserialize_icmpv4(&message) {
        assert_eq!(again.bytes, message);
    }
});
