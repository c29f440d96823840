//! UDP datagrams over IPv4 or IPv6 (first input byte), checksum fixed up: whatever parses
//! must re-serialize exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netstack_core::wire::IpProto;
use netstack_core_fuzz::transport_case;

fuzz_target!(|data: &[u8]| {
    if let Some((message, Ok(again))) = transport_case(data, IpProto::UDP, 6) {
        assert_eq!(again.bytes, message);
    }
});
