#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_pool::fuzzing::pool_ranges(data));
