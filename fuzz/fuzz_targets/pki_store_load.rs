#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_pki::fuzzing::pki_store_load(data));
