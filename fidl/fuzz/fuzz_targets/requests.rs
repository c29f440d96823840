//! Arbitrary bytes (and 0 to 3 handles) as a request reaching the socket server: the header
//! and every protocol's request decoder must fail cleanly or agree with each other, and
//! whatever decodes must re-encode to the very same bytes and handle count.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| netstack_fidl_fuzz::check(data));
