//! ICMPv6 messages (NDP and MLD included) between two addresses from the input, checksum
//! fixed up over the pseudo-header: the typed decoders must not panic, and whatever parses
//! must re-serialize exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core_fuzz::icmpv6_case;

fuzz_target!(|data: &[u8]| {
    if let Some((message, Ok(again))) = icmpv6_case(data) {
        assert_eq!(again.bytes, message);
    }
});
