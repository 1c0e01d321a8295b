#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_examples::fuzzing::ovpn_profile(data));
