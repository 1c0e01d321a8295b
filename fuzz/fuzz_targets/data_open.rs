#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_crypto::fuzzing::data_open(data));
