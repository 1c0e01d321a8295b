#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_ppp::fuzzing::ppp_properties(data));
