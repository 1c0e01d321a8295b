#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ovpn_session::fuzzing::wkc_start(data));
